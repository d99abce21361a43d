"""GraphQL over SSE (graphql-sse) on raw ASGI: distinct connections and single connection mode.

The app asks `handle` first for every HTTP request; it answers False, without reading
anything, for requests that are plain GraphQL over HTTP. Every protocol rule (routing, the
reservation's states, the status codes, the event format) comes from `clew.protocol.sse`; this
module moves bytes, owns the tasks, and keeps the reservations of single connection mode.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Final, TypeAlias

from starlette.requests import ClientDisconnect, Request

from clew.protocol._types import JSONObject
from clew.protocol.http import (
    RequestError,
    ensure_operation_allowed_for_method,
    negotiate_response_media_type,
)
from clew.protocol.sse import (
    ALLOWED_METHODS,
    OPERATION_ID_KEY,
    TOKEN_HEADER,
    Complete,
    RequestKind,
    Reservation,
    StreamState,
    accepts_token_reply,
    classify_request,
    encode_message,
    encode_next_json,
    validate_operation_id,
)
from clew.server._documents import DocumentRefusal
from clew.server._execution import Engine, PreparationFailure, PreparedOperation
from clew.server._http_io import JSON_CONTENT_TYPE, respond, respond_error
from clew.server._incremental import supports_incremental
from clew.server._types import Receive, Scope, Send
from clew.server.websocket._hooks import Operation

from ._operation import Emit, OnComplete, OnOperation, describe_operation, run_hooked
from ._request import RequestHead, read_graphql_request
from ._stream import Outbox, wait_for_disconnect, write_stream

__all__ = ["Authenticate", "GraphQLSSEHandler"]

#: Called with every request that reserves a stream or runs an operation, before anything else;
#: raise `clew.protocol.http.RequestError` (401, 403, ...) to refuse it.
Authenticate: TypeAlias = Callable[[Request], "Awaitable[object] | object"]

_COMPLETE: Final = encode_message(Complete())
_TOKEN_HEADER: Final = TOKEN_HEADER.encode()


@dataclass(eq=False)
class _Entry:
    """One reservation of single connection mode and what the server runs for it."""

    reservation: Reservation
    outbox: Outbox
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    expiry: asyncio.TimerHandle | None = None


class GraphQLSSEHandler:
    """Serves the graphql-sse protocol for one `GraphQL` app (which calls `configure`).

    `single_connection` enables single connection mode (PUT reservations); distinct connections
    mode is always on. Idle streams get a keep-alive comment every `keepalive_interval`
    seconds; a reservation whose stream does not open within `reservation_timeout` seconds is
    dropped; each stream queues at most `max_queued_events` events for a slow reader. The
    hooks are the WebSocket handlers' (`on_operation`, `on_complete`) with the request in place
    of the socket; an operation of distinct connections mode gets a server-made id.
    """

    def __init__(
        self,
        *,
        single_connection: bool = True,
        keepalive_interval: float = 12.0,
        reservation_timeout: float = 60.0,
        max_queued_events: int = 64,
        authenticate: Authenticate | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
    ) -> None:
        self.single_connection = single_connection
        self.keepalive_interval = keepalive_interval
        self.reservation_timeout = reservation_timeout
        self.max_queued_events = max_queued_events
        self.authenticate = authenticate
        self.on_operation = on_operation
        self.on_complete = on_complete
        self._engine: Engine | None = None
        self._incremental = False
        self._reservations: dict[str, _Entry] = {}
        self._outboxes: set[Outbox] = set()

    def configure(self, engine: Engine) -> None:
        """Attach the app's engine (its incremental one when incremental delivery is on)."""
        self._engine = engine
        self._incremental = supports_incremental(engine)

    @property
    def engine(self) -> Engine:
        """The engine `configure` attached."""
        if self._engine is None:
            raise RuntimeError("GraphQLSSEHandler.configure() has not been called by an app")
        return self._engine

    @property
    def open_streams(self) -> int:
        """How many event streams are being served right now."""
        return len(self._outboxes)

    async def shutdown(self) -> None:
        """End every stream: queued events are written, then the responses end."""
        for outbox in list(self._outboxes):
            outbox.close()
        for entry in list(self._reservations.values()):
            self._drop(entry)

    # -- routing ---------------------------------------------------------------------------

    def claims(self, scope: Scope) -> bool:
        """Whether the request may be a graphql-sse one: a cheap look before the exact routing
        in `handle`, so plain HTTP requests pay next to nothing (the app asks it first)."""
        if scope["method"] in ("PUT", "DELETE"):
            return self.single_connection
        for name, value in scope["headers"]:
            if (name == b"accept" and b"event-stream" in value) or name == _TOKEN_HEADER:
                return True
        return b"token=" in scope["query_string"]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Serve the request if it is a graphql-sse one; False (nothing read) if it is not."""
        if not self.claims(scope):
            return False
        head = RequestHead.from_scope(scope)
        kind = classify_request(head.method, token=head.token, accept=head.accept)
        if kind is RequestKind.HTTP or (
            kind is not RequestKind.DISTINCT_STREAM and not self.single_connection
        ):
            return False
        try:
            await self._dispatch(kind, head, scope, receive, send)
        except RequestError as error:
            await respond_error(send, error)
        except ClientDisconnect:
            pass
        return True

    async def _dispatch(
        self, kind: RequestKind, head: RequestHead, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if kind is RequestKind.DISTINCT_STREAM:
            await self._distinct(head, scope, receive, send)
        elif kind is RequestKind.RESERVE:
            await self._reserve(head, scope, receive, send)
        elif kind is RequestKind.OPEN_STREAM:
            await self._open_stream(head, receive, send)
        elif kind is RequestKind.EXECUTE:
            await self._execute(head, scope, receive, send)
        elif kind is RequestKind.STOP:
            await self._stop(head, send)
        else:
            raise RequestError(
                405,
                f"Method {head.method} is not allowed with a stream token",
                headers={"Allow": ALLOWED_METHODS},
            )

    async def _authenticate(self, scope: Scope, receive: Receive) -> None:
        if self.authenticate is not None:
            outcome = self.authenticate(Request(scope, receive))
            if isawaitable(outcome):
                await outcome

    # -- distinct connections mode ---------------------------------------------------------

    async def _distinct(
        self, head: RequestHead, scope: Scope, receive: Receive, send: Send
    ) -> None:
        engine = self.engine
        await self._authenticate(scope, receive)
        request, data = await read_graphql_request(head, receive, engine.limits.max_body_bytes)
        prepared = await engine.prepare_request(
            request.query,
            request.operation_name,
            request.extensions,
            document_id=request.document_id,
        )
        if isinstance(prepared, DocumentRefusal) and prepared.status_code != 200:
            body = engine.encode({"errors": prepared.errors})
            await respond(send, prepared.status_code, body, JSON_CONTENT_TYPE)
            return
        outbox = Outbox(self.max_queued_events)
        if isinstance(prepared, PreparationFailure | DocumentRefusal):
            # Inside an accepted stream: a 4xx would make user agents fail without detail.
            await outbox.put(encode_next_json(engine.encode({"errors": prepared.errors})))
            await outbox.put(_COMPLETE)
            outbox.close()
            await self._serve(send, receive, outbox, None)
            return
        ensure_operation_allowed_for_method(head.method, prepared.operation_type.value)
        http_request = Request(scope, receive)
        context = await engine.context_for(http_request, data)
        operation = describe_operation(secrets.token_hex(8), prepared, request.to_json_body())

        async def emit(payload: bytes) -> None:
            await outbox.put(encode_next_json(payload))

        async def pump() -> None:
            try:
                await self._run(
                    http_request, operation, (prepared, request.variables, context), emit
                )
                await outbox.put(_COMPLETE)
            except Exception as error:  # a bug in the host code, not in a resolver
                engine.logger.error("An SSE operation failed", exc_info=error)
            finally:
                outbox.close()

        await self._serve(send, receive, outbox, pump())

    async def _serve(
        self,
        send: Send,
        receive: Receive,
        outbox: Outbox,
        pump: Coroutine[object, object, None] | None,
    ) -> None:
        """Write `outbox` as the response until it closes or the client goes away.

        A disconnect cancels `pump`, which closes the subscription's generator.
        """
        writer = asyncio.ensure_future(write_stream(send, outbox, self.keepalive_interval))
        watcher = asyncio.ensure_future(wait_for_disconnect(receive))
        tasks = [writer, watcher]
        if pump is not None:
            tasks.append(asyncio.ensure_future(pump))
        self._outboxes.add(outbox)
        try:
            await asyncio.wait((writer, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._outboxes.discard(outbox)
            outbox.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- single connection mode ------------------------------------------------------------

    def _entry(self, head: RequestHead) -> _Entry:
        entry = self._reservations.get(head.token or "")
        if entry is None:
            raise RequestError(404, "Stream not found")
        return entry

    async def _reserve(self, head: RequestHead, scope: Scope, receive: Receive, send: Send) -> None:
        if not accepts_token_reply(head.accept):
            raise RequestError(406, "A reservation answers with text/plain; accept it or */*")
        await self._authenticate(scope, receive)
        token = secrets.token_urlsafe(24)
        entry = _Entry(
            Reservation(token, max_operations=self.engine.limits.max_operations_per_connection),
            Outbox(self.max_queued_events),
        )
        loop = asyncio.get_running_loop()
        entry.expiry = loop.call_later(self.reservation_timeout, self._expire, entry)
        self._reservations[token] = entry
        await respond(send, 201, token.encode(), b"text/plain; charset=utf-8")

    def _expire(self, entry: _Entry) -> None:
        if entry.reservation.state is StreamState.RESERVED:
            self._drop(entry)

    def _drop(self, entry: _Entry) -> None:
        """The reservation ends: its token dies and its operations are cancelled."""
        if entry.expiry is not None:
            entry.expiry.cancel()
        self._reservations.pop(entry.reservation.token, None)
        entry.reservation.close()
        entry.outbox.close()
        for task in entry.tasks.values():
            task.cancel()

    async def _open_stream(self, head: RequestHead, receive: Receive, send: Send) -> None:
        entry = self._entry(head)
        entry.reservation.open_stream()
        if entry.expiry is not None:
            entry.expiry.cancel()
        try:
            await self._serve(send, receive, entry.outbox, None)
        finally:
            tasks = list(entry.tasks.values())
            self._drop(entry)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _execute(self, head: RequestHead, scope: Scope, receive: Receive, send: Send) -> None:
        engine = self.engine
        entry = self._entry(head)
        if negotiate_response_media_type(head.accept) is None:
            raise RequestError(406, "Accept application/json or */* to run an operation")
        await self._authenticate(scope, receive)
        request, data = await read_graphql_request(head, receive, engine.limits.max_body_bytes)
        operation_id = validate_operation_id((request.extensions or {}).get(OPERATION_ID_KEY))
        reservation = entry.reservation
        reservation.start(operation_id)  # reserved before any await: 409 for a duplicate
        try:
            prepared = await engine.prepare_request(
                request.query,
                request.operation_name,
                request.extensions,
                document_id=request.document_id,
            )
            if isinstance(prepared, PreparationFailure | DocumentRefusal):
                body = engine.encode({"errors": prepared.errors})
                status = 400 if isinstance(prepared, PreparationFailure) else prepared.status_code
                await respond(send, status, body, JSON_CONTENT_TYPE)
                reservation.stop(operation_id)
                return
            ensure_operation_allowed_for_method(head.method, prepared.operation_type.value)
            http_request = Request(scope, receive)
            context = await engine.context_for(http_request, data)
        except BaseException:
            if reservation.state is not StreamState.CLOSED:
                reservation.stop(operation_id)
            raise
        if not reservation.is_running(operation_id):
            await respond(send, 204, b"", None)  # stopped (or the stream ended) meanwhile
            return
        operation = describe_operation(operation_id, prepared, request.to_json_body())
        execution = (prepared, request.variables, context)
        coroutine = self._run_on_stream(entry, http_request, operation, execution)
        entry.tasks[operation_id] = asyncio.ensure_future(coroutine)
        await respond(send, 202, b"", None)

    async def _run_on_stream(
        self,
        entry: _Entry,
        http_request: Request,
        operation: Operation,
        execution: tuple[PreparedOperation, JSONObject | None, object],
    ) -> None:
        reservation, outbox, operation_id = entry.reservation, entry.outbox, operation.id

        async def emit(payload: bytes) -> None:
            frame = reservation.send_next(operation_id, payload)
            if frame is not None:
                await outbox.put(frame)

        try:
            await self._run(http_request, operation, execution, emit)
            frame = reservation.send_complete(operation_id)
            if frame is not None:
                await outbox.put(frame)
        except Exception as error:
            self.engine.logger.error("An SSE operation failed", exc_info=error)
        finally:
            if entry.tasks.get(operation_id) is asyncio.current_task():
                del entry.tasks[operation_id]

    async def _run(
        self,
        http_request: Request,
        operation: Operation,
        execution: tuple[PreparedOperation, JSONObject | None, object],
        emit: Emit,
    ) -> None:
        await run_hooked(
            self.engine,
            (self.on_operation, self.on_complete),
            request=http_request,
            operation=operation,
            execution=execution,
            emit=emit,
            incremental=self._incremental,
        )

    async def _stop(self, head: RequestHead, send: Send) -> None:
        entry = self._entry(head)
        operation_id = validate_operation_id(head.params.get(OPERATION_ID_KEY))
        if entry.reservation.stop(operation_id):
            task = entry.tasks.pop(operation_id, None)
            if task is not None:
                task.cancel()
                # The generator's `finally` has run before the client hears 200.
                await asyncio.gather(task, return_exceptions=True)
        await respond(send, 200, b"", None)
