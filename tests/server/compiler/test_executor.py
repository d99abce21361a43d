"""A plan's per-request executor: graphql-core's own `Executor`, the same state as
`Executor.build` gives, and freed by reference counting (no cycle for the GC to find)."""

from __future__ import annotations

import asyncio
import gc
import inspect
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLError, build_schema, parse
from graphql.execution import Executor
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import VariableValues

from clew.server._compiler._executor import ExecutorFactory
from clew.server._compiler._plan import Plan

SDL = """
type Query { hello(name: String): String, n(x: Int!): Int, later: String }
"""

DOCUMENTS = [
    ("{ hello }", None),
    ("query Q($x: Int!) { n(x: $x) ...F } fragment F on Query { hello }", {"x": 3}),
    ('query($name: String = "a") { hello(name: $name) }', {}),
    ("{ ...F } fragment F on Query { hello }", {"unused": True}),
]


def _operation(document: Any) -> Any:
    return next(d for d in document.definitions if d.kind == "operation_definition")


def _state(executor: Executor[Any]) -> dict[str, object]:
    # The helpers are bound to the executor in graphql-core's, plain functions in ours; the
    # collected errors and the variables' signatures have no equality of their own.
    state = {k: v for k, v in vars(executor).items() if k != "async_helpers"}
    errors = state.pop("collected_errors")
    assert isinstance(errors, CollectedErrors)
    state["collected_errors"] = (errors.errors, errors._error_positions)
    variables = state.pop("variable_values")
    assert isinstance(variables, VariableValues)
    sources = {
        name: (source.value, source.signature.name, str(source.signature.type))
        for name, source in variables.sources.items()
    }
    state["variable_values"] = (variables.coerced, sources)
    return state


@pytest.mark.parametrize(("query", "variables"), DOCUMENTS)
def test_the_executor_has_executor_builds_state(
    query: str, variables: dict[str, Any] | None
) -> None:
    schema = build_schema(SDL)
    document = parse(query)
    root, context = object(), {"request": None}
    expected = Executor.build(schema, document, root, context, variables)
    built = ExecutorFactory(schema, document, _operation(document)).build(root, context, variables)
    assert isinstance(expected, Executor)
    assert isinstance(built, Executor)
    assert type(built) is Executor
    assert set(vars(built)) == set(vars(expected))
    assert _state(built) == _state(expected)
    assert isinstance(built.variable_values, VariableValues)


def test_variable_errors_are_executor_builds() -> None:
    schema = build_schema(SDL)
    document = parse("query($x: Int!) { n(x: $x) }")
    expected = Executor.build(schema, document, None, None, {"x": "nope"})
    built = ExecutorFactory(schema, document, _operation(document)).build(None, None, {"x": "nope"})
    assert isinstance(expected, list)
    assert isinstance(built, list)
    assert [e.formatted for e in built] == [e.formatted for e in expected]
    missing = ExecutorFactory(schema, document, _operation(document)).build(None, None, None)
    assert isinstance(missing, list)
    assert all(isinstance(error, GraphQLError) for error in missing)


def test_a_request_executor_is_freed_without_the_cyclic_gc() -> None:
    schema = build_schema(SDL)
    seen: list[object] = []

    def hello(_source: object, info: Any, **_args: object) -> str:
        seen.append(info.async_helpers.track)
        return "world"

    schema.query_type.fields["hello"].resolve = hello  # type: ignore[union-attr]
    document = parse("{ hello }")
    factory = ExecutorFactory(schema, document, _operation(document))
    plan = Plan(schema, document, None)

    def freed_on_return(build: Callable[[], object]) -> bool:
        executor = build()
        assert isinstance(executor, Executor)
        result = plan.run(executor, False)
        assert getattr(result, "data", None) == {"hello": "world"}
        freed = weakref.ref(executor)
        del executor, result
        seen.clear()
        return freed() is None

    gc.disable()
    try:
        assert freed_on_return(lambda: factory.build(None, None, None))
        # graphql-core's own executor refers to itself: only the cyclic GC frees it.
        assert not freed_on_return(lambda: Executor.build(schema, document))
    finally:
        gc.enable()


async def test_the_helpers_track_and_gather_as_graphql_cores() -> None:
    schema = build_schema(SDL)
    settled: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: bool = False) -> str:
        await (release.wait() if wait else asyncio.sleep(0))
        settled.append(name)
        return name

    async def later(_source: object, info: Any) -> str:
        info.async_helpers.track([work("tracked", wait=True), "not awaitable"])
        return ",".join(await info.async_helpers.gather([work("a"), work("b")]))

    schema.query_type.fields["later"].resolve = later  # type: ignore[union-attr]
    document = parse("{ later }")
    executor = ExecutorFactory(schema, document, _operation(document)).build(None, None, None)
    assert isinstance(executor, Executor)
    result = Plan(schema, document, None).run(executor, False)
    assert not isinstance(result, list)
    outcome = await result  # type: ignore[misc]
    assert outcome.errors is None
    assert outcome.data == {"later": "a,b"}
    assert len(executor.background_futures) == 1
    assert sorted(settled) == ["a", "b"]
    release.set()
    await asyncio.gather(*executor.background_futures)
    assert sorted(settled) == ["a", "b", "tracked"]
    assert not executor.background_futures


def test_tracking_without_a_running_loop_closes_the_coroutines() -> None:
    schema = build_schema(SDL)
    document = parse("{ hello }")
    executor = ExecutorFactory(schema, document, _operation(document)).build(None, None, None)
    assert isinstance(executor, Executor)

    async def never() -> None:  # pragma: no cover - closed before it runs
        pass

    coroutine = never()
    executor.async_helpers.track([coroutine])
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    assert not executor.background_futures


def test_requests_share_only_what_execution_never_writes() -> None:
    schema = build_schema(SDL)
    document = parse("{ hello ...F } fragment F on Query { n(x: 1) }")
    factory = ExecutorFactory(schema, document, _operation(document))
    first, second = factory.build(None, {}, None), factory.build(None, {}, None)
    assert isinstance(first, Executor)
    assert isinstance(second, Executor)
    plan = Plan(schema, document, None)
    assert getattr(plan.run(first, False), "data", None) == {"hello": None, "n": None}
    # @stream is refused with its schema, so the stream usages stay empty and shared.
    assert first._stream_usages is second._stream_usages
    assert not first._stream_usages
    for name in ("collected_errors", "background_futures", "variable_values", "async_helpers"):
        assert getattr(first, name) is not getattr(second, name)
    assert first._relevant_sub_fields is not second._relevant_sub_fields
