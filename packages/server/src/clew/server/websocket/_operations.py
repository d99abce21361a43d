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
from collections.abc import Callable
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

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from clew.server._execution import Engine

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
        self, operation_id: str, stream: SubscriptionStream, current: Callable[[], bool]
    ) -> bool:
        """Send `stream`'s results while `current()`; True when it ran out (then `complete`)."""
        ...


@final
class _Running:
    # One operation's bookkeeping; `operation` is set once `on_operation` has seen it, which
    # is what obliges the task to call `on_complete`.
    __slots__ = ("operation", "operation_id", "task")

    def __init__(self, operation_id: str) -> None:
        self.operation_id = operation_id
        self.operation: Operation | None = None
        self.task: asyncio.Task[None] | None = None


@final
class Operations:
    """The running operations of one connection, by id; no state is shared between sockets."""

    __slots__ = (
        "_emitter", "_engine", "_incremental", "_logger", "_on_complete", "_on_operation",
        "_running", "_stopping", "_websocket", "connection_params",
    )  # fmt: skip

    def __init__(
        self,
        engine: Engine,
        websocket: WebSocket,
        emitter: Emitter,
        *,
        on_operation: OnOperation | None,
        on_complete: OnComplete | None,
    ) -> None:
        self._engine = engine
        self._websocket = websocket
        self._emitter = emitter
        self._on_operation = on_operation
        self._on_complete = on_complete
        self._logger = engine.logger
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

    def start(self, operation_id: str, payload: SubscribePayload) -> None:
        """Start `operation_id` now; any earlier operation with that id must be stopped first.

        Registers the id before anything awaits, so a `complete` that follows at once finds it.
        """
        running = _Running(operation_id)
        self._running[operation_id] = running
        running.task = asyncio.get_running_loop().create_task(
            self._run(running, payload), name=f"clew-ws-operation-{operation_id}"
        )

    def stop(self, operation_id: str) -> None:
        """Stop `operation_id` (cancel its task) without waiting: its cleanup runs in the task.

        The id is free at once for a new operation; `stop_all` still waits for the cleanup.
        """
        running = self._running.pop(operation_id, None)
        if running is None or running.task is None:
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
        stream: SubscriptionStream | None = None
        try:
            context: object = None
            if engine.prepares_per_request:
                # Ariadne's query_parser(context, data) and rules callables need the context
                # first; `data` is the operation's payload, as in Ariadne.
                context = await engine.context_for(self._websocket, self.connection_params)
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
                context = await engine.context_for(self._websocket, self.connection_params)
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
            if prepared.operation_type is not OperationType.SUBSCRIPTION:
                if self._incremental:
                    if not await self._incrementally(running, prepared, variables, context):
                        return
                else:
                    result = await engine.execute(prepared, variables, context)
                    if not self._wanted(running):
                        return
                    await emitter.next(operation_id, result)
            else:
                outcome = await engine.subscribe(prepared, variables, context)
                if isinstance(outcome, SubscriptionStream):
                    stream = outcome
                    if not self._wanted(running):
                        return
                    # The hot path is the emitter's; per event it checks this one thing.
                    registered = self._running.get

                    def current() -> bool:
                        return registered(operation_id) is running

                    if not await emitter.stream(operation_id, stream, current):
                        return
                else:
                    # The stream could not be created (graphql-ws: `next` with the errors).
                    if not self._wanted(running):
                        return
                    await emitter.next(operation_id, outcome)
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
            if stream is not None:
                await _close_stream(stream, self._logger)
            if self._running.get(operation_id) is running:
                del self._running[operation_id]
            if running.operation is not None:
                await _call_hook(
                    self._on_complete,
                    self._websocket,
                    running.operation,
                    logger=self._logger,
                    name="WebSocket on_complete",
                )


async def _call_required(hook: OnOperation, websocket: WebSocket, operation: Operation) -> None:
    # on_operation runs before execution: if it fails, the operation fails with it.
    result = hook(websocket, operation)
    if isawaitable(result):
        await result


async def _close_stream(stream: SubscriptionStream, logger: logging.Logger) -> None:
    """Close `stream` and, through it, the resolver's source stream; a failure is logged."""
    try:
        await stream.aclose()
    except Exception:
        logger.exception("Closing a subscription's source stream failed")
