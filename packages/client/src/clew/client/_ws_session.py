"""One connected WebSocket, from `connection_init` to its close: read, write, time, report.

A `Session` owns the socket and the neutral `clew.protocol.websocket.Connection` for it, which
hides the subprotocol: its reader task feeds every frame to the connection and acts on the
events in one `match` (ack, ping reply, a legacy rejection, a broken rule); its `run` writes the
queued frames, fires the connection's timers (ack timeout, pings, pong and `ka` timeouts) and
decides when to close (the client closed, no operation needed the socket for `idle_timeout`, or
the connection called for a close, with its code). What concerns an operation goes to its
`SessionHost`, the `WebSocketManager` that owns the operations and decides whether to
reconnect from the `Outcome` the session reports.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Protocol, assert_never, final

import aiohttp

from clew.protocol import CloseCode, ConnectionState, JSONObject, ProtocolError, limit_close_reason
from clew.protocol import websocket as ws

from ._subscription import Operation
from .errors import (
    AckTimeoutError,
    MessageTooBigError,
    SubscriptionError,
    WebSocketClosedError,
    WebSocketProtocolError,
)

__all__ = ["Cause", "Outcome", "Session", "SessionHost", "wait"]


class Cause(Enum):
    """Why a socket ended, where it matters to the caller: each has its own error type."""

    #: Anything else: a drop, a close by the server, a timeout other than the ack's.
    CLOSED = WebSocketClosedError
    #: The server broke the protocol (either subprotocol).
    PROTOCOL = WebSocketProtocolError
    #: The server sent a message over the size limit.
    TOO_BIG = MessageTooBigError
    #: The server did not acknowledge `connection_init` in time.
    NO_ACK = AckTimeoutError


class Outcome:
    """How one connection attempt ended; the runner decides from it whether to retry."""

    __slots__ = (
        "acked",
        "cause",
        "close_with",
        "code",
        "fatal",
        "idle",
        "kind",
        "reason",
        "useful",
    )

    def __init__(self, reason: str = "", *, cause: BaseException | None = None) -> None:
        #: The close code: the server's, or the one we closed with; None if never opened.
        self.code: int | None = None
        self.reason = reason
        self.cause = cause
        #: The server acknowledged `connection_init` on this socket.
        self.acked = False
        #: A result, error or completion arrived: the socket did some work. Only then does a
        #: drop start the retry count afresh; an ack alone proves nothing (a server that acks
        #: and then fails the same way every time must not make the client loop forever).
        self.useful = False
        #: Retrying cannot help, whatever the code says (handshake refused, no subprotocol,
        #: a broken protocol, a message too big).
        self.fatal = False
        #: Why it ended, as far as the error type the caller sees goes.
        self.kind = Cause.CLOSED
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
        error: WebSocketClosedError = self.kind.value(self.code, self.reason)
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
        "conn",
        "generation",
        "outcome",
    )

    def __init__(
        self,
        socket: aiohttp.ClientWebSocketResponse,
        conn: ws.Connection,
        host: SessionHost,
        *,
        wake: asyncio.Event,
        generation: int,
        idle_timeout: float,
    ) -> None:
        self._ws = socket
        self.conn = conn
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

        Raises what the connection raises when it refuses the operation; when that broke
        the connection, the session closes with the protocol's code.
        """
        conn = self.conn
        try:
            frame = conn.start(operation.id, operation.payload)
        except ProtocolError as exc:
            if conn.state is ConnectionState.CLOSING:
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
                self._outbox.append(self.conn.init(payload))
                await self._pump()
        except (aiohttp.ClientError, ConnectionError) as exc:
            # A write failed: the socket is gone. The reader may still report how (a close
            # frame came first); if not, it was lost, never a normal closure.
            await asyncio.wait({self._reader}, timeout=0.1)
            outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost", exc)
        except Exception as exc:  # a bug: close with the protocol's code, never hang
            reason = limit_close_reason(f"Internal client error: {exc!r}")
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, reason, exc)

    async def shut(self) -> None:
        """Close the socket with the outcome's code and wait for the reader to finish."""
        socket, conn, reader, outcome = self._ws, self.conn, self._reader, self.outcome
        try:
            if not socket.closed:
                if outcome.code is None:
                    outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                code = outcome.close_with or outcome.code
                if code == CloseCode.NORMAL_CLOSURE:
                    for goodbye in conn.terminate().frames:
                        await socket.send_str(goodbye)
                assert code is not None
                await socket.close(code=code, message=outcome.reason.encode("utf-8"))
        except (aiohttp.ClientError, ConnectionError):
            pass  # the socket is already gone: there is nobody left to tell
        finally:
            if not reader.done():
                reader.cancel()
            await asyncio.wait({reader})
            conn.connection_closed()
            if outcome.code is None:
                outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost")

    async def _pump(self) -> None:
        """Write queued frames, fire timers and decide when to close, until the socket ends."""
        loop = asyncio.get_running_loop()
        socket, conn, reader, outcome = self._ws, self.conn, self._reader, self.outcome
        host, outbox, idle_timeout = self._host, self._outbox, self._idle_timeout
        while True:
            self._wake.clear()
            while outbox:
                await socket.send_str(outbox.popleft())
            if reader.done() or outcome.code is not None:
                return
            if host.closed:
                outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                return
            now = loop.time()
            wake_at = conn.next_deadline()
            if wake_at is not None and now >= wake_at:
                due = conn.handle_timer(now)
                if isinstance(due, ws.CloseRequired):
                    self._close_required(due)
                    return
                outbox.extend(due)
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
        outcome = self.outcome
        # Bound once: this loop runs once per received frame.
        receive, conn, deliver = self._ws.receive, self.conn, self._host.deliver
        take_result, process = conn.receive_result, conn.receive
        text, binary = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY
        try:
            while True:
                message = await receive()
                kind = message.type
                if kind is text or kind is binary:
                    data = message.data
                    result = take_result(data)  # the hot path: one per result, no event
                    if result is not None:
                        outcome.useful = True
                        deliver(result[0], result[1])
                        continue
                    for event in process(data):
                        if not self._dispatch(event):
                            return
                elif kind is aiohttp.WSMsgType.CLOSE:
                    outcome.close(int(message.data), str(message.extra or ""))
                    return
                elif kind is aiohttp.WSMsgType.ERROR:
                    self._failed(message.data)
                    return
                else:  # CLOSING / CLOSED: we closed it, or the TCP connection vanished
                    outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost")
                    return
        except Exception as exc:  # a bug in handling a frame: close, never die silently
            reason = limit_close_reason(f"Internal client error: {exc!r}")
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, reason, exc)
        finally:
            self._wake.set()

    def _failed(self, error: object) -> None:
        """aiohttp reported an error frame: a message over the size limit, or a broken socket."""
        outcome = self.outcome
        cause = error if isinstance(error, BaseException) else None
        if isinstance(error, aiohttp.WebSocketError) and error.code == _MESSAGE_TOO_BIG:
            # aiohttp already closed with 1009. The server would send the same message again:
            # retrying cannot help (gql raises at once too).
            outcome.close(_MESSAGE_TOO_BIG, limit_close_reason(f"Message too big: {error}"), cause)
            outcome.kind, outcome.fatal = Cause.TOO_BIG, True
            return
        outcome.close(CloseCode.ABNORMAL_CLOSURE, f"WebSocket error: {error!r}", cause)

    def _dispatch(self, event: ws.Event) -> bool:
        """Act on one event of the protocol connection; False when the socket must close."""
        host, outcome = self._host, self.outcome
        match event:
            case ws.ResultReceived(id=operation_id, payload=result):
                outcome.useful = True
                host.deliver(operation_id, result)
            case ws.OperationCompleted(id=operation_id):
                outcome.useful = True
                host.end(operation_id, None)
            case ws.OperationFailed(id=operation_id, errors=errors):
                outcome.useful = True
                host.end(operation_id, SubscriptionError(errors))
            case ws.Acknowledged():
                outcome.acked = True
                host.acknowledged(self)
            case ws.PingReceived(reply=reply):
                self.send(reply)
            case ws.PongReceived():
                pass  # the connection already cleared its pong deadline
            case ws.Rejected(reason=reason):
                # The legacy rejection of `connection_init`: reported as the other subprotocol's
                # 4403, so one policy covers both; the socket itself closes normally.
                outcome.close(CloseCode.FORBIDDEN, reason)
                outcome.close_with = CloseCode.NORMAL_CLOSURE
                return False
            case ws.CloseRequired():
                self._close_required(event)
                return False
            case (
                ws.InitRequested()
                | ws.OperationRequested()
                | ws.OperationCancelled()
                | ws.Refused()
            ):
                pass  # only a server receives these; a client connection never reports them
            case _:
                assert_never(event)
        return True

    def _close_required(self, event: ws.CloseRequired) -> None:
        """The connection called for a close: a broken rule (never retried) or a timeout."""
        outcome = self.outcome
        outcome.close(event.code, event.reason)
        if not event.retryable:
            outcome.kind, outcome.fatal = Cause.PROTOCOL, True
        elif event.code == CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT:
            outcome.kind = Cause.NO_ACK
        self._wake.set()


#: RFC 6455 §7.4.1: a message too big to process.
_MESSAGE_TOO_BIG = 1009
