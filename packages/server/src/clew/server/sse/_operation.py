"""Running one operation for an event stream: every result handed on as compact JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from graphql import OperationType

from clew.protocol._types import JSONObject
from clew.server._execution import Engine, InternalServerError, PreparedOperation
from clew.server._incremental import execute_incrementally
from clew.server._subscription import SubscriptionStream

__all__ = ["Emit", "run_operation"]

#: Hands one encoded result on (to the stream's outbox); waits while the outbox is full.
Emit = Callable[[bytes], Awaitable[None]]


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
