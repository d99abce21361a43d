"""A subscription's source stream: opening it (on either graphql-core generation), iterating it.

`Engine.subscribe` (`_execution.py`) opens the stream with `open_source_stream` and wraps it in
a `SubscriptionStream`, which yields one formatted result per source event and closes the
source. The stream formats through callables the engine hands over, so this module never
imports the engine. A WebSocket hands it a `Relay`: then the stream sends each result that
may simply be sent itself, and yields only the rest.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from inspect import signature
from typing import TYPE_CHECKING, Protocol, TypeAlias, cast, final

import graphql.execution
from graphql import ExecutionResult, GraphQLError, GraphQLSchema, create_source_event_stream
from graphql import execute as graphql_execute
from graphql.execution import MiddlewareManager

from clew.protocol import FormattedExecutionResult, JSONObject

from ._errors import UnexpectedError
from ._prepared import PreparedOperation

if TYPE_CHECKING:
    from graphql.execution import Executor

    from ._compiler._plan import Plan

__all__ = [
    "EXECUTOR_KEYWORD",
    "EventExecutor",
    "Relay",
    "ResultFormatter",
    "Stoppable",
    "StreamHooks",
    "SubscriptionStream",
    "UnexpectedFormatter",
    "open_source_stream",
]

#: graphql-core 3.3 renamed `execution_context_class` to `executor_class` (and changed how a
#: subscription's source stream is created); both generations are supported.
_GRAPHQL_CORE_3_3 = "executor_class" in signature(graphql_execute).parameters
_EXECUTOR: type | None = getattr(graphql.execution, "Executor", None)
#: The keyword under which `Engine` passes a custom executor class to graphql-core.
EXECUTOR_KEYWORD = "executor_class" if _GRAPHQL_CORE_3_3 else "execution_context_class"

#: Runs one source event: its result, maybe still to be awaited, or (a compiled plan's event
#: that raised no error) the wire-shaped result itself, ``{"data": ...}``.
EventExecutor: TypeAlias = (
    "Callable[[object], FormattedExecutionResult | ExecutionResult | Awaitable[ExecutionResult]]"
)
#: `Engine.format_result` for one result of the operation: `(result, context_value)`.
ResultFormatter: TypeAlias = "Callable[[ExecutionResult, object], FormattedExecutionResult]"
#: Logs an exception raised outside the resolvers and returns the safe error result to send.
UnexpectedFormatter: TypeAlias = "Callable[[Exception], FormattedExecutionResult]"


class Stoppable(Protocol):
    """An operation as a relay sees it: `stopped` once it is no longer the one registered
    under its id (the client stopped it, the socket is closing, another replaced it)."""

    stopped: bool


@final
class Relay:
    """What a stream needs to send its results as WebSocket text frames itself.

    Per result: until `operation.stopped`, each result `encode` makes a frame of goes out
    through `send` (ASGI) and is not yielded; anything else is yielded for the socket to
    decide on with every rule. An exception of `gone` from `send` (the socket went away)
    sets `lost` and ends the stream's iteration.
    """

    __slots__ = ("encode", "gone", "lost", "operation", "send")

    def __init__(
        self,
        encode: Callable[[FormattedExecutionResult], str | None],
        send: Callable[[dict[str, object]], Awaitable[None]],
        operation: Stoppable,
        gone: tuple[type[BaseException], ...],
    ) -> None:
        self.encode = encode
        self.send = send
        self.operation = operation
        self.gone = gone
        self.lost = False


class StreamHooks(Protocol):
    """What the engine's extensions hear from a stream: its errors, and its close (once)."""

    def errors(self, errors: Sequence[GraphQLError]) -> None: ...

    def closed(self) -> None: ...


def open_source_stream(
    schema: GraphQLSchema,
    prepared: PreparedOperation,
    root: object,
    variables: JSONObject | None,
    context_value: object,
    *,
    middleware: MiddlewareManager | None,
    executor_options: Mapping[str, object],
    plan: Plan | None = None,
) -> tuple[object, EventExecutor]:
    """The source stream of `prepared`, and how to execute one of its events.

    The stream may still need awaiting, and is an `ExecutionResult` when it cannot start.
    Created here rather than through graphql-core's `subscribe`, so the engine holds the
    resolver's generator itself and can always close it. Each event runs through `plan`
    when the operation was compiled (only on graphql-core 3.3), else graphql-core's own.
    """
    if _GRAPHQL_CORE_3_3:
        executor_class = cast(
            "type[Executor[object]]", executor_options.get(EXECUTOR_KEYWORD, _EXECUTOR)
        )
        executor = executor_class.build(
            schema,
            prepared.document,
            root,
            context_value,
            variables,
            prepared.operation_name,
            middleware=middleware,
        )
        if isinstance(executor, list):
            return ExecutionResult(None, executor), _no_events
        # Built once for the stream; each event runs on a shallow per-event copy.
        per_event = executor.build_per_event_executor
        if plan is not None:
            return create_source_event_stream(executor), plan.event_runner(executor)
        run = cast(
            "Callable[[object], ExecutionResult | Awaitable[ExecutionResult]]",
            graphql.execution.execute_subscription_event,
        )

        def execute_event(event: object) -> ExecutionResult | Awaitable[ExecutionResult]:
            return run(per_event(event))

        return create_source_event_stream(executor), execute_event
    create: Callable[..., object] = create_source_event_stream
    source = create(
        schema,
        prepared.document,
        root,
        context_value,
        variables,
        prepared.operation_name,
        **executor_options,
    )
    document, name = prepared.document, prepared.operation_name

    def execute_legacy(event: object) -> ExecutionResult | Awaitable[ExecutionResult]:
        return graphql_execute(
            schema,
            document,
            event,
            context_value,
            variables,
            name,
            middleware=middleware,
            **executor_options,  # type: ignore[arg-type]
        )

    return source, execute_legacy


def _no_events(_event: object) -> ExecutionResult:  # pragma: no cover - never called
    raise AssertionError("a stream that could not start has no events")


@final
class SubscriptionStream:
    """The results of one subscription; closing it closes the resolver's source stream.

    Stop it with `aclose()` between items, or by cancelling the task that iterates it (a source
    generator then sees the cancellation and its `finally` runs; `aclose()` afterwards still
    closes any other kind of source). An exception raised by the source ends the stream with
    one last result carrying the (formatted, masked) error, and sets `failed`; so does an
    exception raised while executing an event outside its resolvers.

    Each event runs through `execute_event`: the operation's compiled plan, or graphql-core.
    """

    __slots__ = (
        "_closed",
        "_context",
        "_execute",
        "_format",
        "_hooks",
        "_iterator",
        "_next",
        "_results",
        "_unexpected",
        "failed",
    )

    def __init__(
        self,
        source: AsyncIterable[object],
        execute_event: EventExecutor,
        context_value: object,
        *,
        format_result: ResultFormatter,
        unexpected: UnexpectedFormatter,
        hooks: StreamHooks | None = None,
    ) -> None:
        self._hooks = hooks
        self._iterator: AsyncIterator[object] = aiter(source)
        self._next = self._iterator.__anext__
        self._execute = execute_event
        self._context = context_value
        self._format = format_result
        self._unexpected = unexpected
        self._closed = False
        #: True once the source raised: the result just returned was the stream's last, and
        #: carries that error (as graphql-ws' server, a transport ends the operation with it).
        self.failed = False
        self._results: AsyncGenerator[FormattedExecutionResult, None] | None = None

    def __aiter__(self) -> AsyncIterator[FormattedExecutionResult]:
        # The results come from one async generator, resumed per event: no coroutine is
        # created per event, as an `async def __anext__` would.
        if self._results is None:
            self._results = self._iterate(None)
        return self._results

    def __anext__(self) -> Awaitable[FormattedExecutionResult]:
        return self.__aiter__().__anext__()

    def relay(self, relay: Relay) -> AsyncIterator[FormattedExecutionResult]:
        """Iterate the results, sending through `relay` each one that may simply be sent;
        the rest (and the failed stream's last result) are yielded. Call it once, first."""
        self._results = self._iterate(relay)
        return self._results

    async def _iterate(self, relay: Relay | None) -> AsyncGenerator[FormattedExecutionResult, None]:
        next_event, execute = self._next, self._execute
        if relay is not None:
            encode, send, operation, gone = relay.encode, relay.send, relay.operation, relay.gone
        while not self._closed:
            try:
                event = await next_event()
            except StopAsyncIteration:
                await self._close_source()
                return
            except GraphQLError as error:
                await self._fail([error])
                yield self._format(ExecutionResult(None, [error]), self._context)
                return
            except Exception as error:
                await self._fail([UnexpectedError(error)])
                yield self._unexpected(error)
                return
            try:
                result = execute(event)
                if type(result) is not dict and not isinstance(result, dict | ExecutionResult):
                    result = await cast("Awaitable[ExecutionResult]", result)
            except Exception as error:  # outside the resolvers: a bug, logged and masked
                await self._fail([UnexpectedError(error)])
                yield self._unexpected(error)
                return
            if type(result) is not dict and not isinstance(result, dict):  # else wire-shaped
                if result.errors:
                    self._report(result.errors)
                result = self._format(result, self._context)
            if relay is not None and not operation.stopped:
                frame = encode(result)
                if frame is not None:
                    try:
                        await send({"type": "websocket.send", "text": frame})
                    except gone:
                        relay.lost = True
                        return
                    continue
            yield result

    async def _fail(self, errors: list[GraphQLError]) -> None:
        """The stream ends with an error: the result that follows is its last."""
        self.failed = True
        self._report(errors)
        await self._close_source()

    def _report(self, errors: Sequence[GraphQLError]) -> None:
        if self._hooks is not None:
            self._hooks.errors(errors)

    async def aclose(self) -> None:
        """Stop the subscription and close its source stream (idempotent)."""
        if self._results is not None:
            await self._results.aclose()  # between items (or before the first): it just ends
        await self._close_source()

    async def _close_source(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._iterator, "aclose", None)
        try:
            if close is not None:
                await close()
        finally:
            if self._hooks is not None:
                self._hooks.closed()
