"""One running subscription's results, one per source event, and the closing of its source.

The engine (`_execution.py`) creates the source stream and decides how an event is executed;
this module only iterates it. It formats through callables the engine hands over, so it never
imports the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias, final

from graphql import ExecutionResult, GraphQLError

from clew.protocol._types import FormattedExecutionResult

if TYPE_CHECKING:
    from ._event_plan import EventPlan

__all__ = ["EventExecutor", "ResultFormatter", "SubscriptionStream", "UnexpectedFormatter"]

#: Runs one source event through graphql-core: its result, maybe still to be awaited.
EventExecutor: TypeAlias = "Callable[[object], ExecutionResult | Awaitable[ExecutionResult]]"
#: `Engine.format_result` for one result of the operation: `(result, context_value)`.
ResultFormatter: TypeAlias = "Callable[[ExecutionResult, object], FormattedExecutionResult]"
#: Logs an exception raised outside the resolvers and returns the safe error result to send.
UnexpectedFormatter: TypeAlias = "Callable[[Exception], FormattedExecutionResult]"


@final
class SubscriptionStream:
    """The results of one subscription; closing it closes the resolver's source stream.

    Stop it with `aclose()` between items, or by cancelling the task that iterates it (a source
    generator then sees the cancellation and its `finally` runs; `aclose()` afterwards still
    closes any other kind of source). An exception raised by the source ends the stream with
    one last result carrying the (formatted, masked) error, and sets `failed`.

    Each event runs through the compiled `EventPlan` when the operation has one, and through
    graphql-core's per-event execution otherwise or whenever the plan refuses the event.
    """

    __slots__ = (
        "_closed",
        "_context",
        "_execute",
        "_format",
        "_iterator",
        "_next",
        "_plan",
        "_unexpected",
        "failed",
    )

    def __init__(
        self,
        source: AsyncIterable[object],
        execute_event: EventExecutor,
        plan: EventPlan | None,
        context_value: object,
        *,
        format_result: ResultFormatter,
        unexpected: UnexpectedFormatter,
    ) -> None:
        self._iterator: AsyncIterator[object] = aiter(source)
        self._next = self._iterator.__anext__
        self._execute = execute_event
        self._plan = plan
        self._context = context_value
        self._format = format_result
        self._unexpected = unexpected
        self._closed = False
        #: True once the source raised: the result just returned was the stream's last, and
        #: carries that error (as graphql-ws' server, a transport ends the operation with it).
        self.failed = False

    def __aiter__(self) -> SubscriptionStream:
        return self

    async def __anext__(self) -> FormattedExecutionResult:
        if self._closed:
            raise StopAsyncIteration
        try:
            event = await self._next()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except GraphQLError as error:
            self.failed = True
            await self.aclose()
            return self._format(ExecutionResult(None, [error]), self._context)
        except Exception as error:
            self.failed = True
            await self.aclose()
            return self._unexpected(error)
        plan = self._plan
        if plan is not None:
            try:
                return {"data": plan(event)}
            except Exception:
                pass
        result = self._execute(event)
        if not isinstance(result, ExecutionResult):
            result = await result
        return self._format(result, self._context)

    async def aclose(self) -> None:
        """Stop the subscription and close its source stream (idempotent)."""
        if self._closed:
            return
        self._closed = True
        close = getattr(self._iterator, "aclose", None)
        if close is not None:
            await close()
