"""What the compiler refuses (when compiling, with a reason) and what the engine counts."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import build_schema, parse
from graphql.execution import Executor

from clew.server import GraphQL
from clew.server._compiler._plan import Plan, Refused, compile_plan
from clew.server.engine import PreparedOperation

SDL = """
type Query { hello(names: [String] = ["a"]): String, n: Int }
type Mutation { bump: Int }
"""


def schema() -> Any:
    built = build_schema(SDL)
    built.query_type.fields["hello"].resolve = lambda _s, _i, names: str(names)
    return built


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("query @experimental_disableErrorPropagation { n }", "the operation carries directives"),
        ("query($s: Boolean) { n @skip(if: $s) }", "@skip reads the nullable variable $s"),
        (
            "query($a: Boolean!, $b: Boolean!, $c: Boolean!, $d: Boolean!, $e: Boolean!) {"
            " n @skip(if: $a) x: n @skip(if: $b) y: n @skip(if: $c) z: n @skip(if: $d)"
            " w: n @include(if: $e) }",
            "more than 4 variables decide @skip/@include",
        ),
        ("query A { n } query B { n }", "the operation to run is not unique"),
    ],
)
def test_refusals_are_decided_when_compiling(query: str, reason: str) -> None:
    built = build_schema(SDL + " directive @experimental_disableErrorPropagation on QUERY")
    assert compile_plan(built, parse(query), None) == reason


def test_a_schema_with_defer_is_refused() -> None:
    built = build_schema(
        SDL + " directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD"
        " | INLINE_FRAGMENT"
    )
    with pytest.raises(Refused, match="@defer/@stream"):
        Plan(built, parse("{ n }"), None)


def test_skip_and_include_variables_compile_every_combination() -> None:
    query = "query($a: Boolean!, $b: Boolean!) { n @skip(if: $a) hello @include(if: $b) }"
    plan = Plan(schema(), parse(query), None)
    for a in (False, True):
        for b in (False, True):
            result = plan.execute({"n": 1}, None, {"a": a, "b": b})
            expected: dict[str, object] = {}
            if not a:
                expected["n"] = 1
            if b:
                expected["hello"] = "['a']"
            assert not isinstance(result, Executor)
            assert getattr(result, "data", None) == expected


def test_literal_arguments_are_coerced_once_but_never_shared_between_calls() -> None:
    built = schema()
    seen: list[object] = []

    def hello(_source: object, _info: object, names: list[str]) -> str:
        seen.append(names)
        names.append("changed by the resolver")
        return ",".join(names)

    built.query_type.fields["hello"].resolve = hello
    plan = Plan(built, parse('{ hello(names: ["x"]) }'), None)
    first = plan.execute(None, None, None)
    second = plan.execute(None, None, None)
    assert getattr(first, "data", None) == getattr(second, "data", None)
    assert getattr(second, "data", None) == {"hello": "x,changed by the resolver"}
    assert seen[0] is not seen[1]


async def test_the_engine_counts_and_logs_what_it_leaves_to_graphql_core(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class CustomExecutor(Executor[Any]):
        pass

    app = GraphQL(schema(), execution_context_class=CustomExecutor)
    with caplog.at_level(logging.DEBUG, logger="clew.server"):
        prepared = app.engine.prepare("query Q { n }", None)
    assert isinstance(prepared, PreparedOperation)
    assert prepared.plan is None
    assert (app.engine.plans_compiled, app.engine.plans_refused) == (0, 1)
    assert "Operation Q runs on graphql-core's executor: a custom execution_context_class" in (
        caplog.text
    )
    assert await app.engine.execute(prepared, None, {}) == {"data": {"n": None}}


async def test_queries_and_mutations_run_on_the_plan() -> None:
    app = GraphQL.from_sdl(SDL, {"Query": {"n": lambda *_: 7}, "Mutation": {"bump": lambda *_: 8}})
    for query, expected in [("{ n }", {"n": 7}), ("mutation { bump }", {"bump": 8})]:
        prepared = app.engine.prepare(query, None)
        assert isinstance(prepared, PreparedOperation)
        assert isinstance(prepared.plan, Plan)
        assert await app.engine.execute(prepared, None, {}) == {"data": expected}
    assert (app.engine.plans_compiled, app.engine.plans_refused) == (2, 0)
