"""The one WebSocket a client shares between all its operations: connect, read, time, reconnect.

Theory of operation. A single *runner* task exists while any operation needs the socket. It
opens the socket (offering every configured subprotocol), builds the `clew.protocol` client
`Connection` for the one the server selected, and runs one *session* per socket:

- a reader task feeds every frame to the connection and acts on the messages it returns
  (ack → send the pending operations; `next`/`data` → queue a result; `error`/`complete` →
  end that operation);
- the runner itself writes the queued frames, fires the connection's timers (ack timeout,
  pings, pong and `ka` timeouts) and closes the socket when it has been idle for
  `idle_timeout`, the client closes, or a rule was broken (with the protocol's close code).

When a session ends any other way, queries and mutations that were sent on it fail (they are
never re-sent: a mutation must not run twice) and the runner reconnects under the
`RetryPolicy`; subscriptions are re-sent under their ids after the next `connection_ack`.
Operations only ever fail with an exception when the policy gives up.

Callers never touch the socket: `start`/`stop` only change the operation table and queue
frames, so they are synchronous and safe from `__del__` and cancellation handlers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections import deque
from collections.abc import Awaitable
from typing import cast, final

import aiohttp

from clew.protocol import (
    CloseCode,
    JSONObject,
    ProtocolError,
    RemoteProtocolError,
    SubscribePayload,
    limit_close_reason,
)
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as lws
from clew.protocol.http import GraphQLRequest, GraphQLResponse, ResponseFormatError

from ._subscription import Operation, Subscription, is_single_result
from ._types import WebSocketSettings, resolve_headers
from ._ws_dialects import Dialect, IncomingMessage, WebSocketOptions, make_dialect
from .errors import SubscriptionError, TransportError, WebSocketClosedError

__all__ = ["WebSocketManager"]


class _Outcome:
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


def _rejection(payload: JSONObject | None) -> str:
    """The close reason for a legacy `connection_error`: its `message`, else its JSON payload."""
    if payload is None:
        return "Forbidden"
    message = payload.get("message")
    if isinstance(message, str) and message:
        return message
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


@final
class WebSocketManager:
    """The shared, multiplexed, reconnecting WebSocket of one client (`SubscriptionTransport`).

    Every operation of the client runs on this one socket under its own id. The socket opens
    on the first operation and closes `idle_timeout` seconds after the last one ends; the
    `aiohttp.ClientSession` it goes through is borrowed, never closed here.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: WebSocketSettings,
        options: WebSocketOptions | None = None,
    ) -> None:
        self._http = session
        self._settings = settings
        #: The tuning in effect (from `settings.options` unless given).
        self.options = options or WebSocketOptions.from_mapping(settings.options)
        self._operations: dict[str, Operation] = {}
        self._runner: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._outbox: deque[str] = deque()
        self._dialect: Dialect | None = None
        self._outcome: _Outcome | None = None
        self._generation = 0
        self._idle_since: float | None = None
        self._closed = False
        #: How many sockets this transport has opened (one per (re)connect).
        self.connections_opened = 0

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol of the open socket, or None while disconnected."""
        return None if self._dialect is None else self._dialect.subprotocol

    @property
    def closed(self) -> bool:
        """Whether `close()` was called; a closed transport starts no operation."""
        return self._closed

    @property
    def active_operations(self) -> int:
        """How many operations are running or waiting for the socket."""
        return len(self._operations)

    # -- SubscriptionTransport -------------------------------------------------------------

    def subscribe(
        self, request: GraphQLRequest, *, single_result: bool | None = None
    ) -> Subscription:
        """An iterator over the results of `request`, sent when first iterated.

        `single_result` marks a query or mutation, which fails instead of being re-sent when
        the socket drops while it runs; by default it is read from the document.
        """
        if single_result is None:
            single_result = is_single_result(request.query, request.operation_name)
        payload = cast(SubscribePayload, request.to_json_body())
        try:  # refuse here what cannot be encoded, rather than break the shared connection
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"The operation cannot be sent as JSON: {exc}") from exc
        operation = Operation(self._settings.id_factory(), payload, single_result=single_result)
        return Subscription(self, operation)

    async def close(self) -> None:
        """Fail the remaining operations, close the socket (code 1000) and end every task."""
        self._closed = True
        operations = list(self._operations.values())
        self._operations.clear()
        for operation in operations:
            operation.fail(WebSocketClosedError(CloseCode.NORMAL_CLOSURE, "The client was closed"))
        runner = self._runner
        if runner is None:
            return
        self._wake.set()
        if self._dialect is None:  # connecting or backing off: nothing to say goodbye to
            runner.cancel()
        done, _ = await asyncio.wait({runner}, timeout=self.options.close_timeout)
        if not done:
            runner.cancel()
            await asyncio.wait({runner})

    # -- OperationOwner ----------------------------------------------------------------------

    def start(self, operation: Operation) -> None:
        """Register `operation`; it is sent now if the socket is ready, else after the ack."""
        if self._closed:
            operation.fail(WebSocketClosedError(None, "The WebSocket transport is closed"))
            return
        if operation.id in self._operations:
            operation.fail(ValueError(f"Operation id {operation.id!r} is already in use"))
            return
        self._operations[operation.id] = operation
        dialect = self._dialect
        if dialect is not None and dialect.acknowledged:
            self._send_operation(dialect, operation)
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self._run(), name=f"clew websocket {self._settings.url}"
            )
        self._wake.set()

    def stop(self, operation: Operation) -> None:
        """Forget `operation`; if the server is running it, send `complete`/`stop` for its id."""
        if self._operations.get(operation.id) is operation:
            del self._operations[operation.id]
            dialect = self._dialect
            if dialect is not None and operation.sent_on == self._generation:
                frame = dialect.stop(operation.id)
                if frame is not None:
                    self._outbox.append(frame)
            self._wake.set()
        operation.finish()

    def _send_operation(self, dialect: Dialect, operation: Operation) -> None:
        try:
            frame = dialect.subscribe(operation.id, operation.payload)
        except Exception as exc:
            del self._operations[operation.id]
            error = TransportError(f"Cannot send operation {operation.id}: {exc}")
            error.__cause__ = exc
            operation.fail(error)
            outcome = self._outcome
            if isinstance(exc, ProtocolError) and dialect.broken and outcome is not None:
                outcome.close(exc.close_code, exc.reason, exc)  # the connection says: close
                self._wake.set()
            return
        self._outbox.append(frame)
        operation.sent_on = self._generation
        self._wake.set()

    # -- the runner ----------------------------------------------------------------------------

    async def _run(self) -> None:
        """Keep a socket open while operations need one, reconnecting under the retry policy."""
        policy = self.options.retry
        failures = 0
        try:
            while self._operations and not self._closed:
                outcome = await self._connect_once()
                if self.closed:  # the client closed while we were connected or connecting
                    break
                if outcome.acked and not outcome.broken:
                    failures = 0  # it worked: the next drop gets the full retry budget
                self._fail_unrepeatable(outcome)
                if not self._operations:
                    break
                if outcome.idle:  # an operation arrived while the idle socket was closing
                    continue
                failures += 1
                if outcome.fatal or not policy.should_retry(outcome.code, failures):
                    self._fail_all(outcome)
                    break
                await self._backoff(policy.delay(failures))
        except Exception as exc:  # a bug here must not leave iterators waiting forever
            outcome = _Outcome()
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, f"Internal client error: {exc!r}", exc)
            self._fail_all(outcome)
        finally:
            if self._runner is asyncio.current_task():
                self._runner = None

    async def _connect_once(self) -> _Outcome:
        url = self._settings.url
        options = self.options
        try:
            async with asyncio.timeout(options.connect_timeout):
                headers = await resolve_headers(self._settings.headers)
                ws = await self._http.ws_connect(
                    url,
                    protocols=self._settings.subprotocols,
                    headers=headers,
                    heartbeat=options.heartbeat,
                    timeout=aiohttp.ClientWSTimeout(ws_close=options.close_timeout),
                    max_msg_size=options.max_message_size,
                )
        except aiohttp.WSServerHandshakeError as exc:
            outcome = _Outcome(
                f"{url} refused the WebSocket handshake: HTTP {exc.status}", cause=exc
            )
            # 4xx means the request itself is wrong (auth, path); only 408/429 may pass later.
            outcome.fatal = 400 <= exc.status < 500 and exc.status not in (408, 429)
            return outcome
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return _Outcome(f"Could not connect to {url}: {exc or type(exc).__name__}", cause=exc)
        self.connections_opened += 1
        return await self._session(ws)

    async def _session(self, ws: aiohttp.ClientWebSocketResponse) -> _Outcome:
        """Run one socket from `connection_init` to its close; returns how it ended."""
        loop = asyncio.get_running_loop()
        outcome = _Outcome()
        dialect = make_dialect(ws.protocol, self.options, loop.time())
        if dialect is None:
            outcome.close(
                CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
                f"The server selected none of the offered subprotocols "
                f"{', '.join(self._settings.subprotocols)}",
            )
            outcome.fatal = True
            await ws.close(code=CloseCode.PROTOCOL_ERROR, message=b"Subprotocol not acceptable")
            return outcome
        self._generation += 1
        self._outbox.clear()
        self._idle_since = None
        self._dialect, self._outcome = dialect, outcome
        reader = loop.create_task(self._read(ws, dialect, outcome), name="clew websocket reader")
        try:
            try:
                payload = await self._connection_params()
            except Exception as exc:
                outcome.close(
                    CloseCode.INTERNAL_CLIENT_ERROR, f"connection_params failed: {exc!r}", exc
                )
                outcome.fatal = True
            else:
                self._outbox.append(dialect.init(payload))
                await self._pump(ws, dialect, reader, outcome)
        except (aiohttp.ClientError, ConnectionError):
            pass  # a write failed: the socket is gone and the reader reports how
        except Exception as exc:  # a bug: close with the protocol's code, never hang
            reason = limit_close_reason(f"Internal client error: {exc!r}")
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, reason, exc)
        finally:
            self._dialect = self._outcome = None
            await self._shut(ws, dialect, reader, outcome)
        return outcome

    async def _connection_params(self) -> JSONObject | None:
        """The `connection_init` payload: the static one, or the callable's answer right now."""
        params = self._settings.connection_params
        if params is None or isinstance(params, dict):
            return params
        result = cast("JSONObject | Awaitable[JSONObject]", params())  # sync callables too
        return await result if inspect.isawaitable(result) else result

    async def _shut(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        dialect: Dialect,
        reader: asyncio.Task[None],
        outcome: _Outcome,
    ) -> None:
        """Close the socket with the outcome's code and wait for the reader to finish."""
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
            pass
        finally:
            if not reader.done():
                reader.cancel()
            await asyncio.wait({reader})
            dialect.connection_closed()
            if outcome.code is None:
                outcome.close(CloseCode.ABNORMAL_CLOSURE, "The connection was lost")

    async def _pump(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        dialect: Dialect,
        reader: asyncio.Task[None],
        outcome: _Outcome,
    ) -> None:
        """Write queued frames, fire timers and decide when to close, until the socket ends."""
        loop = asyncio.get_running_loop()
        idle_timeout = self.options.idle_timeout
        while True:
            self._wake.clear()
            while self._outbox:
                await ws.send_str(self._outbox.popleft())
            if reader.done() or outcome.code is not None:
                return
            if self._closed:
                outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                return
            now = loop.time()
            wake_at = dialect.next_deadline()
            if wake_at is not None and now >= wake_at:
                try:
                    self._outbox.extend(dialect.handle_timer(now))
                except RemoteProtocolError as exc:
                    outcome.close(exc.close_code, exc.reason, exc)
                    return
                continue
            if self._operations:
                self._idle_since = None
            else:
                self._idle_since = self._idle_since if self._idle_since is not None else now
                idle_at = self._idle_since + idle_timeout
                if now >= idle_at:
                    outcome.idle = True
                    outcome.close(CloseCode.NORMAL_CLOSURE, "Normal Closure")
                    return
                wake_at = idle_at if wake_at is None else min(wake_at, idle_at)
            await self._wait(wake_at)

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse, dialect: Dialect, outcome: _Outcome
    ) -> None:
        """Feed every frame to the protocol connection until the socket closes."""
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
                        self._dispatch(dialect, incoming, outcome)
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

    def _dispatch(self, dialect: Dialect, message: IncomingMessage, outcome: _Outcome) -> None:
        """Act on one message the protocol connection accepted."""
        match message:
            case tws.ConnectionAck() | lws.ConnectionAck():
                outcome.acked = True
                for operation in list(self._operations.values()):
                    if operation.sent_on != self._generation:
                        self._send_operation(dialect, operation)
            case tws.Ping():
                self._outbox.append(dialect.pong(message))
                self._wake.set()
            case (
                tws.Next(id=operation_id, payload=result)
                | lws.Data(id=operation_id, payload=result)
            ):
                target = self._operations.get(operation_id)
                if target is not None:
                    self._deliver(target, result)
            case tws.Error(id=operation_id, payload=errors):
                self._end(operation_id, SubscriptionError(errors))
            case lws.Error(id=operation_id):
                self._end(operation_id, SubscriptionError(message.errors))
            case tws.Complete(id=operation_id) | lws.Complete(id=operation_id):
                self._end(operation_id, None)
            case lws.ConnectionErrorMessage(payload=payload) if not outcome.acked:
                # The legacy rejection of `connection_init`: reported as the other subprotocol's
                # 4403, so one policy covers both; the socket itself closes normally.
                outcome.close(CloseCode.FORBIDDEN, limit_close_reason(_rejection(payload)))
                outcome.close_with = CloseCode.NORMAL_CLOSURE
                self._wake.set()
            case _:
                pass  # pong, ka, late connection_error: nothing to do

    def _deliver(self, operation: Operation, result: object) -> None:
        try:
            response = GraphQLResponse.from_mapping(result)
        except ResponseFormatError as exc:
            operation.fail(TransportError(f"Invalid result for operation {operation.id}: {exc}"))
            self.stop(operation)
            return
        operation.push(response)

    def _end(self, operation_id: str, error: BaseException | None) -> None:
        operation = self._operations.pop(operation_id, None)
        if operation is None:
            return
        if error is None:
            operation.finish()
        else:
            operation.fail(error)
        self._wake.set()

    def _fail_unrepeatable(self, outcome: _Outcome) -> None:
        """Fail queries and mutations sent on the socket that just ended; never re-send them."""
        for operation in list(self._operations.values()):
            if operation.single_result and operation.sent_on is not None:
                del self._operations[operation.id]
                error = outcome.error()
                error.add_note("A query or mutation is not re-sent after a drop: it may have run.")
                operation.fail(error)

    def _fail_all(self, outcome: _Outcome) -> None:
        operations = list(self._operations.values())
        self._operations.clear()
        for operation in operations:
            operation.fail(outcome.error())

    async def _backoff(self, delay: float) -> None:
        """Sleep `delay` seconds, or less if the client closes or no operation is left."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        while self._operations and not self._closed and loop.time() < until:
            self._wake.clear()
            await self._wait(until)

    async def _wait(self, until: float | None) -> None:
        """Sleep until `_wake` is set or the loop clock reaches `until`.

        A timer that sets the event, rather than `asyncio.timeout`, whose expiry racing the
        event can leave a stray cancellation on the task (Python 3.11).
        """
        timer = None if until is None else asyncio.get_running_loop().call_at(until, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            if timer is not None:
                timer.cancel()
