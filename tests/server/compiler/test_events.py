"""Subscription events run through the compiled plan and give exactly graphql-core's results.

Each case is a subscription document and a list of source events. The engine's stream must
produce, event by event, what graphql-core's own per-event execution produces, errors
included; the plan is compiled once per cached document and used for every event, and
`from_sdl`'s event resolver is read by the plan without being called.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from enum import Enum
from typing import Any

import graphql
import pytest
from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
    parse,
)

from clew.server import EventResolver, GraphQL
from clew.server._compiler._fields import Selection
from clew.server._compiler._plan import Plan
from clew.server.engine import PreparedOperation, SubscriptionStream

SDL = """
scalar Odd
enum Color { RED GREEN }

type Point {
  x: Int!
  y: Int
  label: String
  tags: [String!]
  color: Color
  next: Point
  odd: Odd
}

interface Shape { name: String }
type Circle implements Shape { name: String radius: Float }

type Query { hello: String }

type Subscription {
  count: Int!
  maybe: Int
  name: String
  flag: Boolean!
  ident: ID
  ratio: Float
  color: Color
  colors: [Color!]!
  odd: Odd
  point: Point
  points: [Point]!
  strict: Point!
  grid: [[Int!]]
  shape: Shape
  circle: Circle
}
"""


class Attributes:
    """An event or object read by attribute, as the default resolver does for non-mappings."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


class WithMethod:
    """`x` is a method: the default resolver calls it with the resolve info."""

    def x(self, info: object) -> int:
        return 42


class Exploding:
    """Reading `x` raises."""

    @property
    def x(self) -> int:
        raise ValueError("no x here")


class Shade(Enum):
    RED = "red"


def _serialize_odd(value: object) -> int:
    if not isinstance(value, int) or value % 2 == 0:
        raise GraphQLError(f"Odd cannot represent {value!r}")
    return value


def make_schema() -> GraphQLSchema:
    schema = build_schema(SDL)
    odd = schema.type_map["Odd"]
    assert isinstance(odd, GraphQLScalarType)
    if hasattr(odd, "coerce_output_value"):
        odd.coerce_output_value = _serialize_odd
    else:  # graphql-core 3.2
        odd.serialize = _serialize_odd  # type: ignore[method-assign]
    circle = schema.type_map["Circle"]
    circle.is_type_of = lambda value, _info: isinstance(value, Mapping)  # type: ignore[attr-defined]
    shape = schema.type_map["Shape"]
    shape.resolve_type = lambda _value, *_: "Circle"  # type: ignore[attr-defined]
    return schema


POINTS: list[object] = [
    {"x": 1, "y": 2, "label": "a", "tags": ["t"], "color": "RED", "next": None, "odd": 3},
    {"x": 1},
    Attributes(x=5, y=None, label="b", tags=("u", "v"), color="GREEN", next={"x": 9}, odd=1),
    {"x": None},
    {"x": "7"},
    {"x": 2**31},
    {"x": 1, "y": 1.5},
    {"x": 1, "tags": ["a", None]},
    {"x": 1, "tags": "abc"},
    {"x": 1, "color": "BLUE"},
    {"x": 1, "odd": 2},
    {"x": 1, "next": {"x": None}},
    {"x": 1, "label": ValueError("returned, not raised")},
    WithMethod(),
    Exploding(),
    None,
    "not an object",
]

# (document, events): events are mappings keyed by the root field, as for a default resolver.
CASES: list[tuple[str, list[object]]] = [
    ("subscription { count }", [{"count": n} for n in (0, 1, -(2**31), 2**31 - 1)]),
    (
        "subscription { count }",
        [{"count": v} for v in (2**31, True, 1.0, 1.5, "3", "x", None, math.nan)],
    ),
    ("subscription { count }", [Attributes(count=3), {}, Attributes(), {"count": lambda _i: 9}]),
    ("subscription { c: count }", [{"count": 4}, {"c": 4}]),
    ("subscription { maybe }", [{"maybe": v} for v in (1, None, "2", 2**40, [1])]),
    ("subscription { name }", [{"name": v} for v in ("x", "", 1, 1.5, True, None, [1], object())]),
    ("subscription { flag }", [{"flag": v} for v in (True, False, 0, 2, 0.0, "yes", None)]),
    ("subscription { ident }", [{"ident": v} for v in ("a", 12, 1.0, 1.5, True, None)]),
    ("subscription { ratio }", [{"ratio": v} for v in (1.5, 2, True, "3.5", math.inf, None)]),
    ("subscription { color }", [{"color": v} for v in ("RED", "GREEN", "BLUE", Shade.RED, 1)]),
    (
        "subscription { colors }",
        [{"colors": v} for v in (["RED"], ("GREEN", "RED"), [], ["RED", None], None, "RED")],
    ),
    ("subscription { odd }", [{"odd": v} for v in (1, 3, 2, "x", None)]),
    ("subscription { point { x y label tags color odd } }", [{"point": p} for p in POINTS]),
    (
        "subscription { point { x next { x next { x } } } }",
        [{"point": {"x": 1, "next": {"x": 2, "next": {"x": 3}}}}, {"point": {"x": 1}}],
    ),
    (
        "subscription { point { __typename a: x b: x x } }",
        [{"point": {"x": 3}}, {"point": {"x": None}}],
    ),
    (
        "subscription { point { x ... on Point { y } ...More } } fragment More on Point { label }",
        [{"point": p} for p in POINTS[:4]],
    ),
    (
        "subscription { point { x } point { y } }",
        [{"point": {"x": 1, "y": 2}}, {"point": {"y": 2}}],
    ),
    ("subscription { points { x y } }", [{"points": v} for v in ([], POINTS[:3], [None], None)]),
    ("subscription { points { x } }", [{"points": [{"x": None}]}, {"points": [{"x": 1}]}]),
    ("subscription { strict { x } }", [{"strict": v} for v in ({"x": 1}, None, {"x": None})]),
    (
        "subscription { grid }",
        [{"grid": v} for v in ([[1, 2], [3]], [[1], None], [[None]], [None], [[1.5]], None)],
    ),
    ("subscription Named { count }", [{"count": 1}]),
]

# Documents using directives, abstract types and `is_type_of`, once outside the event plan.
MORE_CASES: list[tuple[str, list[object]]] = [
    ("subscription($s: Boolean!) { point { x @skip(if: $s) } }", [{"point": {"x": 1}}]),
    ("subscription { point { x @include(if: true) } }", [{"point": {"x": 1}}]),
    ("subscription { shape { name } }", [{"shape": {"name": "c"}}]),
    ("subscription { circle { name } }", [{"circle": {"name": "c"}}, {"circle": "c"}]),
]


def source_of(events: list[object]) -> Callable[..., AsyncIterator[object]]:
    async def source(*_args: object, **_kwargs: object) -> AsyncIterator[object]:
        for event in events:
            yield event

    return source


def variables_for(query: str) -> dict[str, Any] | None:
    """The variables the few cases with variable definitions run with."""
    values = {"$s": {"s": False}}
    return next((value for name, value in values.items() if name in query), None)


def reference(schema: GraphQLSchema, query: str, event: object) -> ExecutionResult:
    """What graphql-core's own per-event execution gives for `event`."""
    document, variables = parse(query), variables_for(query)
    executor_class = getattr(graphql, "Executor", None)
    if executor_class is None:  # graphql-core 3.2
        result = graphql.execute(schema, document, event, {}, variables)
    else:
        executor = executor_class.build(schema, document, None, {}, variables)
        result = graphql.execute_subscription_event(executor.build_per_event_executor(event))
    assert isinstance(result, ExecutionResult)
    return result


async def stream_results(app: GraphQL, query: str) -> list[object]:
    engine = app.engine
    prepared = engine.prepare(query, None)
    stream = await engine.subscribe(prepared, variables_for(query), {})  # type: ignore[arg-type]
    assert isinstance(stream, SubscriptionStream), stream
    return [result async for result in stream]


def default_resolver_app(events: list[object]) -> GraphQL:
    schema = make_schema()
    assert schema.subscription_type is not None
    for field in schema.subscription_type.fields.values():
        field.subscribe = source_of(events)
    return GraphQL(schema)


@pytest.mark.parametrize(("query", "events"), CASES + MORE_CASES)
async def test_the_stream_gives_graphql_cores_results(query: str, events: list[object]) -> None:
    app = default_resolver_app(events)
    expected = [
        app.engine.format_result(reference(app.schema, query, event), {}) for event in events
    ]
    assert await stream_results(app, query) == expected


async def test_with_middleware_every_event_runs_through_graphql_core(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def middleware(next_: Callable[..., object], root: object, info: Any, **args: object) -> object:
        seen.append(info.field_name)
        return next_(root, info, **args)

    events: list[object] = [{"count": 1}, {"count": 2}]
    schema = make_schema()
    assert schema.subscription_type is not None
    schema.subscription_type.fields["count"].subscribe = source_of(events)
    app = GraphQL(schema, middleware=[middleware])
    with caplog.at_level("DEBUG", logger="clew.server"):
        assert await stream_results(app, "subscription { count }") == [
            {"data": {"count": 1}},
            {"data": {"count": 2}},
        ]
    assert seen == ["count", "count"]
    assert (app.engine.plans_compiled, app.engine.plans_refused) == (0, 1)
    assert "runs on graphql-core's executor: middleware wraps the resolvers" in caplog.text


# -- clew's `from_sdl` apps: the event is the root field's value (or a mapping holding it) --

FROM_SDL_FIELDS = ("count", "point", "colors", "name", "flag", "ident", "ratio")

FROM_SDL_CASES: list[tuple[str, list[object]]] = [
    ("subscription { count }", [1, 2**31, None, {"count": 4}, {"other": 1}, "5"]),
    ("subscription { point { x label } }", [{"x": 1}, {"point": {"x": 2}}, {"x": None}, 3]),
    ("subscription { colors }", [["RED"], {"colors": ["GREEN"]}, ["BLUE"]]),
    # One leaf read from an event of its exact Python type, or of another one.
    (
        "subscription { count }",
        [-(2**31), 2**31 - 1, -(2**31) - 1, True, False, 1.0, 3.5, 0, math.nan, [1], (2,)],
    ),
    ("subscription { name }", ["x", "", 1, True, 2.5, None, ["y"], {"name": "z"}]),
    ("subscription { flag }", [True, False, 1, 0, "true", None, {"flag": True}]),
    ("subscription { ident }", ["a", 7, 1.5, True, None, {"ident": "b"}]),
    ("subscription { ratio }", [1.5, 2, True, "3.5", None, math.inf]),
]


@pytest.mark.parametrize(("query", "events"), FROM_SDL_CASES)
async def test_from_sdl_apps_stream_graphql_cores_results(query: str, events: list[object]) -> None:
    app = GraphQL.from_sdl(
        SDL,
        {"Subscription": {name: source_of(events) for name in FROM_SDL_FIELDS}},
    )
    assert app.engine.plans_compiled == 0
    expected = [
        app.engine.format_result(reference(app.schema, query, event), {}) for event in events
    ]
    assert await stream_results(app, query) == expected
    assert (app.engine.plans_compiled, app.engine.plans_refused) == (1, 0)


async def test_an_enum_with_internal_values_is_coerced_by_its_type() -> None:
    events: list[object] = [{"color": Shade.RED}]
    app = default_resolver_app(events)
    color = app.schema.type_map["Color"]
    assert isinstance(color, GraphQLEnumType)
    color.values["RED"].value = Shade.RED
    query = "subscription { color }"
    assert reference(app.schema, query, events[0]).data == {"color": "RED"}
    assert await stream_results(app, query) == [{"data": {"color": "RED"}}]


async def test_from_sdl_event_resolvers_are_read_by_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # graphql-core calls a field's resolver for every event; the plan reads the event
    # directly. With calling it made to fail, only the plan can still give the values.
    app = GraphQL.from_sdl(SDL, {"Subscription": {"count": source_of([1, {"count": 2}])}})
    assert app.schema.subscription_type is not None
    resolver = app.schema.subscription_type.fields["count"].resolve
    assert isinstance(resolver, EventResolver)

    def not_called(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the event resolver was called instead of read by the plan")

    monkeypatch.setattr(EventResolver, "__call__", not_called)
    assert await stream_results(app, "subscription { count }") == [
        {"data": {"count": 1}},
        {"data": {"count": 2}},
    ]


async def test_the_marker_serves_a_hand_built_schema_too(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = make_schema()
    assert schema.subscription_type is not None
    field = schema.subscription_type.fields["name"]
    field.subscribe = source_of(["a", {"name": "b"}])
    field.resolve = EventResolver("name")
    monkeypatch.setattr(EventResolver, "__call__", lambda *_: "called")
    app = GraphQL(schema)
    assert await stream_results(app, "subscription { name }") == [
        {"data": {"name": "a"}},
        {"data": {"name": "b"}},
    ]


async def test_the_plan_is_compiled_once_per_cached_document() -> None:
    app = GraphQL.from_sdl(SDL, {"Subscription": {"count": source_of([1, 2])}})
    for _ in range(3):
        assert await stream_results(app, "subscription { count }") == [
            {"data": {"count": 1}},
            {"data": {"count": 2}},
        ]
    assert (app.engine.plans_compiled, app.engine.plans_refused) == (1, 0)
    prepared = app.engine.prepare("subscription { count }", None)
    assert isinstance(prepared, PreparedOperation)
    assert isinstance(prepared.plan, Plan)


async def test_a_failure_inside_the_plan_is_not_hidden_by_a_fallback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A bug in the plan must surface (logged, masked error, stream ended), not be replaced by
    # graphql-core's answer.
    app = GraphQL.from_sdl(SDL, {"Subscription": {"count": source_of([1, 2])}})

    def broken(_event: object) -> object:
        raise RuntimeError("a bug in the plan")

    monkeypatch.setattr(Plan, "event_runner", lambda _plan, _executor: broken)
    with caplog.at_level("ERROR", logger="clew.server"):
        results = await stream_results(app, "subscription { count }")
    assert results == [{"errors": [{"message": "Internal server error"}]}]
    assert "a bug in the plan" in caplog.text


# -- a one-leaf selection with arguments: the arguments are checked on the first event ------

ARGUMENT_SDL = """
type Query { hello: String }
type Subscription { stream(n: Int!, label: String = "x"): Int! }
"""


@pytest.mark.parametrize(
    ("query", "variables", "slow_events"),
    [
        # Variables: the first event coerces them (as graphql-core would on every event),
        # every later event of the subscription is read directly.
        ("subscription S($n: Int!) { stream(n: $n) }", {"n": 3}, 1),
        ("subscription S($n: Int!, $l: String) { stream(n: $n, label: $l) }", {"n": 3}, 1),
        # Literals were coerced when compiling: no event needs the selection.
        ("subscription { stream(n: 3) }", None, 0),
    ],
)
async def test_a_leaf_with_arguments_is_read_directly_once_they_are_checked(
    monkeypatch: pytest.MonkeyPatch, query: str, variables: dict[str, Any] | None, slow_events: int
) -> None:
    events: list[object] = [0, 1, 2**31, "3", 4, True, 5]

    async def stream(_root: object, _info: object, n: int, label: str = "x") -> Any:
        for event in events:
            yield event

    app = GraphQL.from_sdl(ARGUMENT_SDL, {"Subscription": {"stream": stream}})
    executed: list[object] = []
    original = Selection.execute

    def counting(self: Selection, executor: Any, source: Any, path: Any) -> Any:
        executed.append(source)
        return original(self, executor, source, path)

    monkeypatch.setattr(Selection, "execute", counting)
    document = parse(query)
    expected = []
    for event in events:
        executor = graphql.Executor.build(app.schema, document, None, {}, variables)
        reference_result = graphql.execute_subscription_event(
            executor.build_per_event_executor(event)
        )
        expected.append(app.engine.format_result(reference_result, {}))
    executed.clear()
    prepared = app.engine.prepare(query, None)
    assert isinstance(prepared, PreparedOperation)
    assert isinstance(prepared.plan, Plan)
    results = await app.engine.subscribe(prepared, variables, {})
    assert isinstance(results, SubscriptionStream)
    assert [result async for result in results] == expected
    # The events not of the leaf's exact type (or out of its range) take the selection too.
    assert executed == [*events[:slow_events], 2**31, "3", True]
