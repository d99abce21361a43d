"""Running one operation for an event stream: every result handed on as compact JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import TypeAlias, cast

from graphql import OperationType
from starlette.requests import Request

from clew.protocol._types import JSONObject, SubscribePayload
from clew.server._errors import INTERNAL_ERROR_MESSAGE
from clew.server._execution import Engine, InternalServerError, PreparedOperation
from clew.server._incremental import execute_incrementally
from clew.server._subscription import SubscriptionStream
from clew.server.websocket._hooks import Operation, call_hook

__all__ = [
    "Emit",
    "OnComplete",
    "OnOperation",
    "describe_operation",
    "run_hooked",
    "run_operation",
]

#: Hands one encoded result on (to the stream's outbox); waits while the outbox is full.
Emit = Callable[[bytes], Awaitable[None]]
#: `on_operation(request, operation)`: a valid operation is about to execute; raising ends it
#: with one masked error (as `error` does on a WebSocket).
OnOperation: TypeAlias = Callable[[Request, Operation], "Awaitable[object] | object"]
#: `on_complete(request, operation)`: once for every operation `on_operation` saw, however it
#: ended (completed, stopped by DELETE, the client gone), after its generator closed.
OnComplete: TypeAlias = Callable[[Request, Operation], "Awaitable[object] | object"]


def describe_operation(
    operation_id: str, prepared: PreparedOperation, body: JSONObject
) -> Operation:
    """The operation as the hooks see it (the type the WebSocket handlers give theirs)."""
    return Operation(
        id=operation_id,
        name=prepared.operation_name,
        type=prepared.operation_type,
        payload=cast(SubscribePayload, body),
    )


async def run_hooked(
    engine: Engine,
    hooks: tuple[OnOperation | None, OnComplete | None],
    *,
    request: Request,
    operation: Operation,
    execution: tuple[PreparedOperation, JSONObject | None, object],
    emit: Emit,
    incremental: bool,
) -> None:
    """`run_operation` between the hooks: `on_complete` runs however it ends, even when the
    task is cancelled (a DELETE, the client gone), after the generator closed."""
    on_operation, on_complete = hooks
    prepared, variables, context = execution
    try:
        if on_operation is not None:
            try:
                outcome = on_operation(request, operation)
                if isawaitable(outcome):
                    await outcome
            except Exception:
                engine.logger.exception("on_operation failed for operation %r", operation.id)
                await emit(engine.encode({"errors": [{"message": INTERNAL_ERROR_MESSAGE}]}))
                return
        await run_operation(engine, prepared, variables, context, emit, incremental=incremental)
    finally:
        await call_hook(
            on_complete, request, operation, logger=engine.logger, name="SSE on_complete"
        )


async def run_operation(
    engine: Engine,
    prepared: PreparedOperation,
    variables: JSONObject | None,
    context: object,
    emit: Emit,
    *,
    incremental: bool = False,
) -> None:
    """Execute a query or mutation (one result) or iterate a subscription (one per event).

    Cancelling the task that runs this closes the subscription's source generator (its
    `finally` runs), as on a WebSocket when the client completes the operation.
    """
    if prepared.operation_type is not OperationType.SUBSCRIPTION:
        try:
            if incremental:
                outcome = await execute_incrementally(engine, prepared, variables, context)
            else:
                outcome = await engine.execute(prepared, variables, context)
        except InternalServerError as error:
            outcome = error.result
        if isinstance(outcome, dict):
            await emit(engine.encode(outcome))
            return
        # @defer/@stream: each payload is its own `next` (graphql-sse over incremental delivery).
        try:
            async for payload in outcome:
                await emit(engine.encode(payload))
        finally:
            await outcome.aclose()
        return
    try:
        stream = await engine.subscribe(prepared, variables, context)
    except InternalServerError as error:
        await emit(engine.encode(error.result))
        return
    if not isinstance(stream, SubscriptionStream):
        await emit(engine.encode(stream))  # the subscription could not start: its errors
        return
    try:
        async for result in stream:
            await emit(engine.encode(result))
    finally:
        await stream.aclose()
