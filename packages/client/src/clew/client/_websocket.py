"""The one WebSocket a client shares between all its operations: connect, reconnect, multiplex.

Theory of operation. A single *runner* task exists while any operation needs the socket. It
opens the socket (offering every configured subprotocol), builds the neutral `clew.protocol`
client connection for the one the server selected, and runs one `Session` (`_ws_session.py`) per
socket: the session reads, writes, fires the protocol's timers and closes the socket when it
has been idle for `idle_timeout`, the client closes, or a rule was broken. The manager keeps
the operation table: it sends the pending operations on each `connection_ack` and routes each
result, error and completion the session reports to its operation.

When a session ends any other way, queries and mutations that were sent on it fail (they are
never re-sent: a mutation must not run twice) and the runner reconnects under the
`RetryPolicy`; subscriptions are re-sent under their ids after the next `connection_ack`
(`on_resubscribe` and `Subscription.resubscriptions` say so). A socket counts as working, and
the retry count starts afresh, only once a result, error or completion arrived on it: a server
that acknowledges and then fails the same way every time uses up `max_attempts`. Operations
only ever fail with an exception when the policy gives up.

Callers never touch the socket: `start`/`stop` only change the operation table and queue
frames, so they are synchronous and safe from `__del__` and cancellation handlers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable
from typing import cast, final

import aiohttp

from clew.protocol import (
    CloseCode,
    JSONObject,
    ProtocolError,
    Role,
    Subprotocol,
    SubscribePayload,
)
from clew.protocol.http import GraphQLRequest, GraphQLResponse, ResponseFormatError
from clew.protocol.http._response import data_alone
from clew.protocol.websocket import Connection

from ._subscription import Operation, Subscription
from ._types import WebSocketSettings, resolve_headers
from ._ws_options import WebSocketOptions
from ._ws_session import Outcome, Session, wait
from .errors import TransportError, WebSocketClosedError

__all__ = ["WebSocketManager"]


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
        given = settings.options
        self.options = options or (
            given if isinstance(given, WebSocketOptions) else WebSocketOptions.from_mapping(given)
        )
        self._operations: dict[str, Operation] = {}
        self._runner: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        #: The session of the open socket, until it starts closing.
        self._session: Session | None = None
        #: How many sessions have started: the `generation` of the latest.
        self._generation = 0
        self._closed = False
        #: How many sockets this transport has opened (one per (re)connect).
        self.connections_opened = 0

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol of the open socket, or None while disconnected."""
        return None if self._session is None else self._session.conn.subprotocol.value

    @property
    def closed(self) -> bool:
        """Whether `close()` was called; a closed transport starts no operation."""
        return self._closed

    @property
    def active_operations(self) -> int:
        """How many operations are running or waiting for the socket."""
        return len(self._operations)

    # -- SubscriptionTransport -------------------------------------------------------------

    def subscribe(self, request: GraphQLRequest, *, single_result: bool) -> Subscription:
        """An iterator over the results of `request`, sent when first iterated.

        `single_result` marks a query or mutation, which fails instead of being re-sent when
        the socket drops while it runs (the backend decided the kind).
        """
        return self._subscription(request, single_result=single_result, incremental=False)

    def incremental(self, request: GraphQLRequest) -> Subscription:
        """A query or mutation that may `@defer`/`@stream`: each `next`/`data` payload is merged
        into the result so far (`IncrementalMerger`), and the iterator yields that merged result.
        """
        return self._subscription(request, single_result=True, incremental=True)

    def _subscription(
        self, request: GraphQLRequest, *, single_result: bool, incremental: bool
    ) -> Subscription:
        payload = cast(SubscribePayload, request.to_json_body())
        try:  # refuse here what cannot be encoded, rather than break the shared connection
            json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"The operation cannot be sent as JSON: {exc}") from exc
        operation = Operation(
            self._settings.id_factory(),
            payload,
            single_result=single_result,
            incremental=incremental,
        )
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
        if self._session is None:  # connecting or backing off: nothing to say goodbye to
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
        session = self._session
        if session is not None and session.conn.acknowledged:
            self._send_operation(session, operation)
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self._run(), name=f"clew websocket {self._settings.url}"
            )
        self._wake.set()

    def stop(self, operation: Operation) -> None:
        """Forget `operation`; if the server is running it, send `complete`/`stop` for its id."""
        if self._operations.get(operation.id) is operation:
            del self._operations[operation.id]
            session = self._session
            if session is not None and operation.sent_on == session.generation:
                frame = session.conn.cancel(operation.id)
                if frame is not None:
                    session.send(frame)
            self._wake.set()
        operation.finish()

    def _send_operation(self, session: Session, operation: Operation) -> None:
        try:
            session.subscribe(operation)
        except Exception as exc:
            del self._operations[operation.id]
            error = TransportError(f"Cannot send operation {operation.id}: {exc}")
            error.__cause__ = exc
            operation.fail(error)

    # -- SessionHost -------------------------------------------------------------------------

    def acknowledged(self, session: Session) -> None:
        """Send every operation not yet sent on `session`, now that the server acknowledged.

        An operation sent on an earlier socket restarts from the server's beginning: the
        `on_resubscribe` option hears of it, and the operation counts it.
        """
        on_resubscribe = self.options.on_resubscribe
        for operation in list(self._operations.values()):
            if operation.sent_on == session.generation:
                continue
            resent = operation.sent_on is not None
            self._send_operation(session, operation)
            if resent and operation.sent_on == session.generation:
                operation.resubscriptions += 1
                if on_resubscribe is not None:
                    on_resubscribe(operation.id, operation.resubscriptions)

    def deliver(self, operation_id: str, result: object) -> None:
        """Queue `result` for its operation, or fail the operation if it is no result."""
        operation = self._operations.get(operation_id)
        if operation is None:
            return
        merger = operation.merger
        if merger is None and type(result) is dict and data_alone(result) is not None:
            operation.push(result)  # valid as it stands: queued as it came
            return
        try:
            if merger is not None:  # a later payload has no `data`: merge it first
                if not isinstance(result, dict):
                    kind = type(result).__name__
                    raise ResponseFormatError(f"Result must be a JSON object, got {kind}")
                result = merger.apply(cast(JSONObject, result))
            response = GraphQLResponse.from_mapping(result)
        except (ResponseFormatError, ProtocolError) as exc:
            operation.fail(TransportError(f"Invalid result for operation {operation.id}: {exc}"))
            self.stop(operation)
            return
        operation.push(response)

    def end(self, operation_id: str, error: BaseException | None) -> None:
        """Forget the operation the server ended; it finishes, or fails with `error`."""
        operation = self._operations.pop(operation_id, None)
        if operation is None:
            return
        merger = operation.merger
        if error is None and merger is not None and merger.has_next:
            operation.fail(
                TransportError(f"Operation {operation.id} completed before its last payload")
            )
        elif error is None:
            operation.finish()
        else:
            operation.fail(error)
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
                if outcome.useful:
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
            outcome = Outcome()
            outcome.close(CloseCode.INTERNAL_CLIENT_ERROR, f"Internal client error: {exc!r}", exc)
            self._fail_all(outcome)
        finally:
            if self._runner is asyncio.current_task():
                self._runner = None

    async def _connect_once(self) -> Outcome:
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
            outcome = Outcome(
                f"{url} refused the WebSocket handshake: HTTP {exc.status}", cause=exc
            )
            # 4xx means the request itself is wrong (auth, path); only 408/429 may pass later.
            outcome.fatal = 400 <= exc.status < 500 and exc.status not in (408, 429)
            return outcome
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Outcome(f"Could not connect to {url}: {exc or type(exc).__name__}", cause=exc)
        self.connections_opened += 1
        return await self._session_on(ws)

    async def _session_on(self, ws: aiohttp.ClientWebSocketResponse) -> Outcome:
        """Run one socket from `connection_init` to its close; returns how it ended."""
        conn = self._connection(ws.protocol)
        if conn is None:
            outcome = Outcome()
            outcome.close(
                CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
                f"The server selected none of the offered subprotocols "
                f"{', '.join(self._settings.subprotocols)}",
            )
            outcome.fatal = True
            await ws.close(code=CloseCode.PROTOCOL_ERROR, message=b"Subprotocol not acceptable")
            return outcome
        self._generation += 1
        session = Session(
            ws,
            conn,
            self,
            wake=self._wake,
            generation=self._generation,
            idle_timeout=self.options.idle_timeout,
        )
        self._session = session
        try:
            await session.run(self._connection_params)
        finally:
            self._session = None
            await session.shut()
        return session.outcome

    def _connection(self, subprotocol: str | None) -> Connection | None:
        """The client connection for the subprotocol the server selected (None: none we speak)."""
        if subprotocol not in self._settings.subprotocols:
            return None
        try:
            chosen = Subprotocol(subprotocol)
        except ValueError:
            return None
        options = self.options
        return Connection(
            chosen,
            Role.CLIENT,
            now=asyncio.get_running_loop().time(),
            ack_timeout=options.ack_timeout,
            ping_interval=options.ping_interval,
            pong_timeout=options.pong_timeout,
            keepalive_timeout=options.keepalive_timeout,
        )

    async def _connection_params(self) -> JSONObject | None:
        """The `connection_init` payload: the static one, or the callable's answer right now."""
        params = self._settings.connection_params
        if params is None or isinstance(params, dict):
            return params
        result = cast("JSONObject | Awaitable[JSONObject]", params())  # sync callables too
        return await result if inspect.isawaitable(result) else result

    def _fail_unrepeatable(self, outcome: Outcome) -> None:
        """Fail queries and mutations sent on the socket that just ended; never re-send them."""
        for operation in list(self._operations.values()):
            if operation.single_result and operation.sent_on is not None:
                del self._operations[operation.id]
                error = outcome.error()
                error.add_note("A query or mutation is not re-sent after a drop: it may have run.")
                operation.fail(error)

    def _fail_all(self, outcome: Outcome) -> None:
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
            await wait(self._wake, until)
