"""The operations of one socket: one task each, and a guaranteed close of every subscription.

An operation task prepares the request through the engine, executes it, and hands each result
to the socket's `Emitter`. It re-checks after every `await` that the operation is still wanted
(the client may have completed it, the socket may be gone), never sends `complete` after
`error`, and in its `finally` always closes the subscription's stream, so the resolver's async
generator runs its `finally` on client `complete`/`stop`, disconnect, shutdown or replacement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from inspect import isawaitable
from typing import TYPE_CHECKING, Protocol, cast, final

from graphql import OperationType

from clew.protocol import (
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    SubscribePayload,
)
from clew.server._documents import DocumentRefusal
from clew.server._errors import INTERNAL_ERROR_MESSAGE
from clew.server._execution import InternalServerError, PreparationFailure, PreparedOperation
from clew.server._incremental import execute_incrementally, supports_incremental
from clew.server._subscription import SubscriptionStream

from ._hooks import OnComplete, OnOperation, Operation
from ._hooks import call_hook as _call_hook
from ._seams import ForeignStream, Seams

if TYPE_CHECKING:
    from graphql import DocumentNode
    from starlette.websockets import WebSocket

    from clew.server._execution import Engine
    from clew.server._subscription import Stoppable

__all__ = ["Emitter", "Operations"]


class Emitter(Protocol):
    """Where an operation's frames go: the session, which owns the socket and its protocol."""

    def wants(self, operation_id: str) -> bool:
        """Whether the protocol still lets us send for `operation_id` (and the socket is open)."""
        ...

    async def next(self, operation_id: str, result: FormattedExecutionResult) -> None: ...

    async def error(self, operation_id: str, errors: list[FormattedError]) -> None: ...

    async def complete(self, operation_id: str) -> None: ...

    async def stream(
        self,
        operation_id: str,
        stream: SubscriptionStream | ForeignStream,
        operation: Stoppable,
    ) -> bool:
        """Send `stream`'s results until `operation.stopped`; True when it ran out (then
        `complete`)."""
        ...


@final
class _Running:
    # One operation's bookkeeping; `operation` is set once `on_operation` has seen it, which
    # is what obliges the task to call `on_complete`. `prepared` is kept only while a
    # `subscription` seam may ask for it. `stopped` is set when it leaves the registry (the
    # stream's relay reads it per event: a `Stoppable`).
    __slots__ = ("operation", "operation_id", "prepared", "stopped", "task")

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self.operation: Operation | None = None
        self.prepared: PreparedOperation | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopped = False


@final
class Operations:
    """The running operations of one connection, by id; no state is shared between sockets."""

    __slots__ = (
        "_emitter", "_engine", "_incremental", "_limit", "_logger", "_on_complete",
        "_on_operation", "_running", "_seams", "_stopping", "_websocket", "connection_params",
    )  # fmt: skip

    def __init__(
        self,
        engine: Engine,
        websocket: WebSocket,
        emitter: Emitter,
        *,
        on_operation: OnOperation | None,
        on_complete: OnComplete | None,
        seams: Seams,
    ) -> None:
        self._engine = engine
        self._websocket = websocket
        self._emitter = emitter
        self._on_operation = on_operation
        self._on_complete = on_complete
        self._seams = seams
        self._logger = engine.logger
        self._limit = engine.limits.max_operations_per_connection
        # An engine whose schema declares @defer/@stream runs queries incrementally: each
        # payload is its own result frame (`GraphQL(..., incremental_delivery=True)`).
        self._incremental = supports_incremental(engine)
        self._running: dict[str, _Running] = {}
        # Stopped operations still closing their stream: the socket's cleanup waits for them.
        # Made on the first stop: most sockets never stop an operation while they are idle.
        self._stopping: set[asyncio.Task[None]] | None = None
        #: The `connection_init` payload, given to the engine's context builder as its data.
        self.connection_params: JSONObject = {}

    def __len__(self) -> int:
        return len(self._running)

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._running

    def ids(self) -> tuple[str, ...]:
        """The ids running now."""
        return tuple(self._running)

    def operation(self, operation_id: str) -> Operation | None:
        """The `Operation` running under `operation_id`, once `on_operation` has seen it."""
        running = self._running.get(operation_id)
        return None if running is None else running.operation

    def start(self, operation_id: str, payload: SubscribePayload) -> str | None:
        """Start `operation_id` now; any earlier operation with that id must be stopped first.

        Registers the id before anything awaits, so a `complete` that follows at once finds it.
        Returns why it did not start instead: the connection's operation limit is reached.
        """
        if len(self._running) >= self._limit:
            return f"Too many operations on this connection (the limit is {self._limit})"
        running = _Running(operation_id)
        replaced = self._running.get(operation_id)
        if replaced is not None:  # an override started it again without stopping it
            replaced.stopped = True
        self._running[operation_id] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running, payload), name=f"clew-ws-operation-{operation_id}"
        )
        return None

    def stop(self, operation_id: str) -> None:
        """Stop `operation_id` (cancel its task) without waiting: its cleanup runs in the task.

        The id is free at once for a new operation; `stop_all` still waits for the cleanup.
        """
        running = self._running.pop(operation_id, None)
        if running is None:
            return
        running.stopped = True
        if running.task is None:
            return
        task = running.task
        task.cancel()
        if self._stopping is None:
            self._stopping = set()
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def stop_all(self) -> None:
        """Stop every operation and wait until each has closed its stream and run its hook."""
        for operation_id in tuple(self._running):
            self.stop(operation_id)
        while self._stopping:
            await asyncio.gather(*tuple(self._stopping), return_exceptions=True)

    def _wanted(self, running: _Running) -> bool:
        operation_id = running.operation_id
        return self._running.get(operation_id) is running and self._emitter.wants(operation_id)

    async def _incrementally(
        self,
        running: _Running,
        prepared: PreparedOperation,
        variables: JSONObject | None,
        context: object,
    ) -> bool:
        """Send each payload of a query or mutation; False once the operation is not wanted."""
        outcome = await execute_incrementally(self._engine, prepared, variables, context)
        if isinstance(outcome, dict):
            if not self._wanted(running):
                return False
            await self._emitter.next(running.operation_id, outcome)
            return True
        try:
            async for payload in outcome:
                if not self._wanted(running):
                    return False
                await self._emitter.next(
                    running.operation_id, cast(FormattedExecutionResult, payload)
                )
        finally:
            await outcome.aclose()
        return True

    async def _run(self, running: _Running, payload: SubscribePayload) -> None:
        engine, emitter, operation_id = self._engine, self._emitter, running.operation_id
        seams = self._seams
        try:
            context: object = None
            if engine.prepares_per_request:
                # Ariadne's query_parser(context, data) and rules callables need the context
                # first; `data` is the operation's payload, as in Ariadne.
                context = await self._context(payload)
            prepared = await engine.prepare_request(
                payload.get("query"),
                payload.get("operationName"),
                payload.get("extensions"),
                context=context,
                data=payload,
            )
            if isinstance(prepared, PreparationFailure | DocumentRefusal):
                # Syntax, validation or operation-selection errors, or a persisted document
                # that is unknown or refused: `error` for this id only.
                if self._wanted(running):
                    await emitter.error(operation_id, prepared.errors)
                return
            if context is None:
                if seams.context is None:  # what `get_context_for_request` does by default
                    context = await engine.context_for(self._websocket, self.connection_params)
                else:
                    context = await seams.context(self._websocket, payload)
            if not self._wanted(running):
                return
            operation = Operation(
                id=operation_id,
                name=prepared.operation_name,
                type=prepared.operation_type,
                payload=payload,
            )
            running.operation = operation
            if self._on_operation is not None:
                await _call_required(self._on_operation, self._websocket, operation)
                if not self._wanted(running):
                    return
            variables = payload.get("variables")
            if prepared.operation_type is OperationType.SUBSCRIPTION:
                if seams.subscription is not None:
                    running.prepared = prepared
                    await seams.subscription(
                        self._websocket, operation_id, payload, context, prepared.document
                    )
                else:
                    await self.subscribe(running, prepared, variables, context)
                return
            if self._incremental:
                if not await self._incrementally(running, prepared, variables, context):
                    return
            else:
                result = await engine.execute(prepared, variables, context)
                if not self._wanted(running):
                    return
                await emitter.next(operation_id, result)
            if self._wanted(running):
                await emitter.complete(operation_id)
        except InternalServerError as failure:
            # Failed outside the resolvers (already logged by the engine): `error`, masked.
            if self._wanted(running):
                errors = failure.result.get("errors") or [{"message": INTERNAL_ERROR_MESSAGE}]
                await emitter.error(operation_id, errors)
        except Exception:
            self._logger.exception("WebSocket operation %r failed", operation_id)
            if self._wanted(running):
                await emitter.error(operation_id, [{"message": INTERNAL_ERROR_MESSAGE}])
        finally:
            if self._running.get(operation_id) is running:
                del self._running[operation_id]
                running.stopped = True
            if running.operation is not None:
                if seams.on_complete is not None:
                    try:
                        await seams.on_complete(self._websocket, running.operation)
                    except Exception:
                        self._logger.exception("The WebSocket handle_on_complete method failed")
                else:  # what `handle_on_complete` does by default (`completed`)
                    await _call_hook(
                        self._on_complete,
                        self._websocket,
                        running.operation,
                        logger=self._logger,
                        name="WebSocket on_complete",
                    )

    async def _context(self, payload: SubscribePayload) -> object:
        # Ariadne's get_context_for_request(websocket, payload) when overridden; else the
        # engine's, from the connection_init params (what that method does by default).
        if self._seams.context is not None:
            return await self._seams.context(self._websocket, payload)
        return await self._engine.context_for(self._websocket, self.connection_params)

    async def completed(self, operation: Operation) -> None:
        """Run `on_complete` for `operation` (a failure is logged): `handle_on_complete`."""
        await _call_hook(
            self._on_complete,
            self._websocket,
            operation,
            logger=self._logger,
            name="WebSocket on_complete",
        )

    async def subscribe(
        self,
        running: _Running,
        prepared: PreparedOperation,
        variables: JSONObject | None,
        context: object,
    ) -> None:
        """Start the subscription, send its results and `complete`; its stream always closes.

        What `start_websocket_operation` does by default (legacy); the socket's own path.
        """
        operation_id = running.operation_id
        outcome = await self._engine.subscribe(prepared, variables, context)
        if not isinstance(outcome, SubscriptionStream):
            # The stream could not be created (graphql-ws: `next` with the errors).
            if self._wanted(running):
                await self._emitter.next(operation_id, outcome)
                if self._wanted(running):
                    await self._emitter.complete(operation_id)
            return
        try:
            if not self._wanted(running):
                return
            if self._seams.observe is not None:
                await self._seams.observe(self._websocket, operation_id, outcome)
            else:
                await self.observe(running, outcome)
        finally:
            await _close_stream(outcome, self._logger)

    async def observe(self, running: _Running, stream: SubscriptionStream | ForeignStream) -> None:
        """Send each result of `stream`, then `complete` unless it was cut short.

        What `observe_async_results` does by default; the socket's own path.
        """
        operation_id = running.operation_id
        # The hot path is the emitter's; per event it reads `running.stopped`.
        if await self._emitter.stream(operation_id, stream, running) and self._wanted(running):
            await self._emitter.complete(operation_id)

    async def observe_id(self, operation_id: str, results: AsyncIterable[object]) -> None:
        """`observe` the operation running under `operation_id` (nothing once it ended).

        What `observe_async_results` does by default; `results` is the operation's stream, or
        what an override made of it.
        """
        running = self._running.get(operation_id)
        if running is None:
            return
        stream = results if isinstance(results, SubscriptionStream) else ForeignStream(results)
        await self.observe(running, stream)

    async def subscribe_id(
        self,
        operation_id: str,
        payload: SubscribePayload,
        context: object,
        document: DocumentNode,
    ) -> None:
        """`subscribe` the operation running under `operation_id`, with this context and
        document (a document other than the prepared one is validated first).

        What `start_websocket_operation` does by default.
        """
        running = self._running.get(operation_id)
        if running is None or running.prepared is None:
            return
        prepared = running.prepared
        if document is not prepared.document:
            outcome = self._engine.prepare_document(
                document, payload.get("operationName"), context=context, data=payload
            )
            if isinstance(outcome, PreparationFailure):
                if self._wanted(running):
                    await self._emitter.error(operation_id, outcome.errors)
                return
            prepared = outcome
        await self.subscribe(running, prepared, payload.get("variables"), context)


async def _call_required(hook: OnOperation, websocket: WebSocket, operation: Operation) -> None:
    # on_operation runs before execution: if it fails, the operation fails with it.
    result = hook(websocket, operation)
    if isawaitable(result):
        await result


async def _close_stream(stream: SubscriptionStream | ForeignStream, logger: logging.Logger) -> None:
    """Close `stream` and, through it, the resolver's source stream; a failure is logged."""
    try:
        await stream.aclose()
    except Exception:
        logger.exception("Closing a subscription's source stream failed")
