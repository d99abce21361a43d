"""The compiled per-event plan gives exactly graphql-core's results, errors included.

Each case is a subscription document and a list of source events. The engine's stream (plan
first, graphql-core when the plan refuses) must produce, event by event, what graphql-core's
own per-event execution produces; and wherever the plan answers by itself, its answer must be
graphql-core's error-free result. The cases are chosen so the plan answers most of the valid
events and refuses every invalid one.
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

from clew.server import GraphQL, SubscriptionStream
from clew.server._event_plan import compile_event_plan

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

# Documents the plan does not cover: graphql-core runs every event.
NOT_COMPILED: list[tuple[str, list[object]]] = [
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


@pytest.mark.parametrize(("query", "events"), CASES + NOT_COMPILED)
async def test_the_stream_gives_graphql_cores_results(query: str, events: list[object]) -> None:
    app = default_resolver_app(events)
    expected = [
        app.engine.format_result(reference(app.schema, query, event), {}) for event in events
    ]
    assert await stream_results(app, query) == expected


@pytest.mark.parametrize(("query", "events"), CASES)
def test_the_plan_answers_only_with_graphql_cores_error_free_result(
    query: str, events: list[object]
) -> None:
    schema = make_schema()
    plan = compile_event_plan(schema, parse(query), None)
    assert plan is not None
    for event in events:
        expected = reference(schema, query, event)
        try:
            data = plan(event)
        except Exception:  # refused: graphql-core runs this event
            continue
        assert expected.errors is None, (event, expected.errors)
        assert data == expected.data, event


def test_the_plan_answers_the_valid_events_itself() -> None:
    # Not vacuous: of the events graphql-core completes without errors, the plan answers
    # all but those that need a resolver call (a method read by the default resolver).
    schema = make_schema()
    answered = refused = 0
    for query, events in CASES:
        plan = compile_event_plan(schema, parse(query), None)
        assert plan is not None
        for event in events:
            if reference(schema, query, event).errors:
                continue
            try:
                plan(event)
            except Exception:
                refused += 1
            else:
                answered += 1
    assert answered > 60
    assert refused <= 2


@pytest.mark.parametrize(("query", "_events"), NOT_COMPILED)
def test_directives_abstract_types_and_is_type_of_are_left_to_graphql_core(
    query: str, _events: list[object]
) -> None:
    assert compile_event_plan(make_schema(), parse(query), None) is None


def test_custom_resolvers_and_nested_arguments_are_left_to_graphql_core() -> None:
    schema = build_schema(SDL.replace("next: Point", "next(skip: Int): Point"))
    point = schema.type_map["Point"]
    point.fields["x"].resolve = lambda *_: 1  # type: ignore[attr-defined]
    assert compile_event_plan(schema, parse("subscription { point { x } }"), None) is None
    assert compile_event_plan(schema, parse("subscription { point { y } }"), None) is not None
    with_argument = "subscription { point { next(skip: 1) { y } } }"
    assert compile_event_plan(schema, parse(with_argument), None) is None
    assert compile_event_plan(schema, parse("subscription { point { next { y } } }"), None)
    assert schema.subscription_type is not None
    schema.subscription_type.fields["count"].resolve = lambda event, _info: event
    assert compile_event_plan(schema, parse("subscription { count }"), None) is None


async def test_with_middleware_every_event_runs_through_graphql_core() -> None:
    seen: list[str] = []

    def middleware(next_: Callable[..., object], root: object, info: Any, **args: object) -> object:
        seen.append(info.field_name)
        return next_(root, info, **args)

    events: list[object] = [{"count": 1}, {"count": 2}]
    schema = make_schema()
    assert schema.subscription_type is not None
    schema.subscription_type.fields["count"].subscribe = source_of(events)
    app = GraphQL(schema, middleware=[middleware])
    assert await stream_results(app, "subscription { count }") == [
        {"data": {"count": 1}},
        {"data": {"count": 2}},
    ]
    assert seen == ["count", "count"]


def test_the_operation_is_chosen_by_name() -> None:
    schema = make_schema()
    document = parse("subscription A { count } subscription B { name }")
    plan_b = compile_event_plan(schema, document, "B")
    assert plan_b is not None
    assert plan_b({"name": "n", "count": 1}) == {"name": "n"}
    assert compile_event_plan(schema, document, None) is None
    assert compile_event_plan(schema, document, "C") is None


# -- clew's `from_sdl` apps: the event is the root field's value (or a mapping holding it) --

FROM_SDL_CASES: list[tuple[str, list[object]]] = [
    ("subscription { count }", [1, 2**31, None, {"count": 4}, {"other": 1}, "5"]),
    ("subscription { point { x label } }", [{"x": 1}, {"point": {"x": 2}}, {"x": None}, 3]),
    ("subscription { colors }", [["RED"], {"colors": ["GREEN"]}, ["BLUE"]]),
]


@pytest.mark.parametrize(("query", "events"), FROM_SDL_CASES)
async def test_from_sdl_apps_stream_graphql_cores_results(query: str, events: list[object]) -> None:
    app = GraphQL.from_sdl(
        SDL,
        {"Subscription": {name: source_of(events) for name in ("count", "point", "colors")}},
    )
    assert app.schema.subscription_type is not None
    document = parse(query)
    assert compile_event_plan(app.schema, document, None) is not None
    expected = [
        app.engine.format_result(reference(app.schema, query, event), {}) for event in events
    ]
    assert await stream_results(app, query) == expected


def test_an_enum_with_internal_values_is_coerced_by_its_type() -> None:
    schema = make_schema()
    color = schema.type_map["Color"]
    assert isinstance(color, GraphQLEnumType)
    color.values["RED"].value = Shade.RED
    query = "subscription { color }"
    plan = compile_event_plan(schema, parse(query), None)
    assert plan is not None
    assert plan({"color": Shade.RED}) == {"color": "RED"}
    assert reference(schema, query, {"color": Shade.RED}).data == {"color": "RED"}
