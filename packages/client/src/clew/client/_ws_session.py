"""One connected WebSocket, from `connection_init` to its close: read, write, time, report.

A `Session` owns the socket and the `clew.protocol` connection for it (through a `Dialect`):
its reader task feeds every frame to the connection and answers what concerns the connection
itself (ack, ping, a legacy rejection); its `run` writes the queued frames, fires the
connection's timers (ack timeout, pings, pong and `ka` timeouts) and decides when to close (the
client closed, no operation needed the socket for `idle_timeout`, or a rule was broken, with the
protocol's close code). What concerns an operation goes to its `SessionHost`, the
`WebSocketManager` that owns the operations and decides whether to reconnect from the
`Outcome` the session reports.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, final

import aiohttp

from clew.protocol import (
    CloseCode,
    JSONObject,
    ProtocolError,
    RemoteProtocolError,
    limit_close_reason,
)
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as lws

from ._subscription import Operation
from ._ws_dialects import Dialect, IncomingMessage
from .errors import SubscriptionError, WebSocketClosedError

__all__ = ["Outcome", "Session", "SessionHost", "wait"]


class Outcome:
    """How one connection attempt ended; the runner decides from it whether to retry."""

    __slots__ = ("acked", "broken", "cause", "close_with", "code", "fatal", "idle", "reason")

    def __init__(self, reason: str = "", *, cause: BaseException | None = None) -> None:
        #: The close code: the server's, or the one we closed with; None if never opened.
        self.code: int | None = None
        self.reason = reason
        self.cause = cause
        #: The server acknowledged `connection_init` on this socket.
        self.acked = False
        #: The server sent a frame the protocol rejects; its ack proved nothing.
        self.broken = False
        #: Retrying cannot help, whatever the code says (handshake refused, no subprotocol).
        self.fatal = False
        #: We closed it because no operation needed it any more.
        self.idle = False
        #: The code to close the socket with, when it differs from the one reported.
        self.close_with: int | None = None

    def close(self, code: int, reason: str, cause: BaseException | None = None) -> None:
        """Record the first reason the socket ended; later ones are consequences."""
        if self.code is None:
            self.code, self.reason, self.cause = code, reason, cause

    def error(self) -> WebSocketClosedError:
        """The exception callers see when this outcome is final."""
        error = WebSocketClosedError(self.code, self.reason)
        error.__cause__ = self.cause
        return error


class SessionHost(Protocol):
    """What a session needs from the owner of the operations (the `WebSocketManager`)."""

    @property
    def closed(self) -> bool:
        """Whether the client closed: the session then closes the socket normally."""
        ...

    @property
    def active_operations(self) -> int:
        """How many operations need the socket; none for `idle_timeout` closes it."""
        ...

    def acknowledged(self, session: Session) -> None:
        """The server sent `connection_ack`: send the operations not yet sent on `session`."""

    def deliver(self, operation_id: str, result: object) -> None:
        """A `next`/`data` message arrived for `operation_id`."""

    def end(self, operation_id: str, error: BaseException | None) -> None:
        """The server ended `operation_id`: completed (`error` None) or failed with `error`."""


async def wait(event: asyncio.Event, until: float | None) -> None:
    """Sleep until `event` is set or the loop clock reaches `until`.

    A timer that sets the event, rather than `asyncio.timeout`, whose expiry racing the
    event can leave a stray cancellation on the task (Python 3.11).
    """
    timer = None if until is None else asyncio.get_running_loop().call_at(until, event.set)
    try:
        await event.wait()
    finally:
        if timer is not None:
            timer.cancel()


def _rejection(payload: JSONObject | None) -> str:
    """The close reason for a legacy `connection_error`: its `message`, else its JSON payload."""
    if payload is None:
        return "Forbidden"
    message = payload.get("message")
    if isinstance(message, str) and message:
        return message
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


@final
class Session:
    """One open socket and its protocol connection; its reader starts with it.

    `generation` numbers the socket among those the manager opened, so an operation's
    `sent_on` says whether it was sent on this one. `wake` is the manager's event: setting
    it makes `run` look at its queue, timers and host again.
    """

    __slots__ = (
        "_host",
        "_idle_since",
        "_idle_timeout",
        "_outbox",
        "_reader",
        "_wake",
        "_ws",
        "dialect",
        "generation",
        "outcome",
    )

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        dialect: Dialect,
        host: SessionHost,
        *,
        wake: asyncio.Event,
        generation: int,
        idle_timeout: float,
    ) -> None:
        self._ws = ws
        self.dialect = dialect
        self._host = host
        self._wake = wake
        self.generation = generation
        self._idle_timeout = idle_timeout
        self.outcome = Outcome()
        self._outbox: deque[str] = deque()
        self._idle_since: float | None = None
        self._reader = asyncio.get_running_loop().create_task(
            self._read(), name="clew websocket reader"
        )

    def send(self, frame: str) -> None:
        """Queue `frame`; `run` writes it."""
        self._outbox.append(frame)
        self._wake.set()

    def subscribe(self, operation: Operation) -> None:
        """Queue the frame that starts `operation`, and mark it as sent on this socket.

        Raises what the dialect raises when it cannot encode the operation; when that broke
        the connection, the session closes with the protocol's code.
        """
        dialect = self.dialect
        try:
            frame = dialect.subscribe(operation.id, operation.payload)
        except ProtocolError as exc:
            if dialect.broken:
                self.outcome.close(exc.close_code, exc.reason, exc)  # the connection says: close
                self._wake.set()
            raise
        self._outbox.append(frame)
        operation.sent_on = self.generation
        self._wake.set()

    async def run(self, connection_params: Callable[[], Awaitable[JSONObject | None]]) -> None:
        """Send `connection_init` and serve the socket until it must close (see `shut`)."""
        outcome = self.outcome
        try:
            try:
                payload = await connection_params()
            except Exception as exc:
                outcome.close(
                    CloseCode.INTERNAL_CLIENT_ERROR, f"connection_params failed: {exc!r}", exc
                )
                outcome.fatal = True
            else:
                self._outbox.append(self.dialect.init(payload))
                await self._pump()
        except (aiohttp.ClientError, ConnectionError):
            pass  # a write failed: the socket is gone and the reader reports how
        except Exception as exc:  # a bug: close with the protocol's code, never hang
            reason = limit_close_reason(f"Internal client error: {exc!r}")
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, reason, exc)

    async def shut(self) -> None:
        """Close the socket with the outcome's code and wait for the reader to finish."""
        ws, dialect, reader, outcome = self._ws, self.dialect, self._reader, self.outcome
        try:
            if not ws.closed:
                if outcome.code is None:
                    outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                code = outcome.close_with or outcome.code
                if code == CloseCode.NORMAL_CLOSURE:
                    goodbye = dialect.goodbye()
                    if goodbye is not None:
                        await ws.send_str(goodbye)
                assert code is not None
                await ws.close(code=code, message=outcome.reason.encode("utf-8"))
        except (aiohttp.ClientError, ConnectionError):
            pass  # the socket is already gone: there is nobody left to tell
        finally:
            if not reader.done():
                reader.cancel()
            await asyncio.wait({reader})
            dialect.connection_closed()
            if outcome.code is None:
                outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost")

    async def _pump(self) -> None:
        """Write queued frames, fire timers and decide when to close, until the socket ends."""
        loop = asyncio.get_running_loop()
        ws, dialect, reader, outcome = self._ws, self.dialect, self._reader, self.outcome
        host, outbox, idle_timeout = self._host, self._outbox, self._idle_timeout
        while True:
            self._wake.clear()
            while outbox:
                await ws.send_str(outbox.popleft())
            if reader.done() or outcome.code is not None:
                return
            if host.closed:
                outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                return
            now = loop.time()
            wake_at = dialect.next_deadline()
            if wake_at is not None and now >= wake_at:
                try:
                    outbox.extend(dialect.handle_timer(now))
                except RemoteProtocolError as exc:
                    outcome.close(exc.close_code, exc.reason, exc)
                    return
                continue
            if host.active_operations:
                self._idle_since = None
            else:
                self._idle_since = self._idle_since if self._idle_since is not None else now
                idle_at = self._idle_since + idle_timeout
                if now >= idle_at:
                    outcome.idle = True
                    outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                    return
                wake_at = idle_at if wake_at is None else min(wake_at, idle_at)
            await wait(self._wake, wake_at)

    async def _read(self) -> None:
        """Feed every frame to the protocol connection until the socket closes."""
        ws, dialect, outcome = self._ws, self.dialect, self.outcome
        try:
            while True:
                message = await ws.receive()
                kind = message.type
                if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                    try:
                        received = dialect.receive(message.data)
                    except RemoteProtocolError as exc:
                        outcome.close(exc.close_code, exc.reason, exc)
                        outcome.broken = True
                        return
                    for incoming in received:
                        self._dispatch(incoming)
                elif kind is aiohttp.WSMsgType.CLOSE:
                    outcome.close(int(message.data), str(message.extra or ""))
                    return
                elif kind is aiohttp.WSMsgType.ERROR:
                    cause = message.data if isinstance(message.data, BaseException) else None
                    outcome.close(CloseCode.ABNORMAL_CLOSURE, f"WebSocket error: {cause!r}", cause)
                    return
                else:  # CLOSING / CLOSED: we closed it, or the TCP connection vanished
                    outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost")
                    return
        except Exception as exc:  # a bug in handling a frame: close, never die silently
            reason = limit_close_reason(f"Internal client error: {exc!r}")
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, reason, exc)
        finally:
            self._wake.set()

    def _dispatch(self, message: IncomingMessage) -> None:
        """Act on one message the protocol connection accepted."""
        host, outcome = self._host, self.outcome
        match message:
            case tws.ConnectionAck() | lws.ConnectionAck():
                outcome.acked = True
                host.acknowledged(self)
            case tws.Ping():
                self.send(self.dialect.pong(message))
            case (
                tws.Next(id=operation_id, payload=result)
                | lws.Data(id=operation_id, payload=result)
            ):
                host.deliver(operation_id, result)
            case tws.Error(id=operation_id, payload=errors):
                host.end(operation_id, SubscriptionError(errors))
            case lws.Error(id=operation_id):
                host.end(operation_id, SubscriptionError(message.errors))
            case tws.Complete(id=operation_id) | lws.Complete(id=operation_id):
                host.end(operation_id, None)
            case lws.ConnectionErrorMessage(payload=payload) if not outcome.acked:
                # The legacy rejection of `connection_init`: reported as the other subprotocol's
                # 4403, so one policy covers both; the socket itself closes normally.
                outcome.close(CloseCode.FORBIDDEN, limit_close_reason(_rejection(payload)))
                outcome.close_with = CloseCode.NORMAL_CLOSURE
                self._wake.set()
            case _:
                pass  # pong, ka, late connection_error: nothing to do
