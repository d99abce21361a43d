"""The compiled plan gives graphql-core's results: hypothesis-generated schemas, documents,
variables and resolver behaviours, run through both and compared (data, errors with messages,
paths and locations, and each error's original exception).

Deterministic: a fixed number of derandomised examples (`DIFFERENTIAL_EXAMPLES` per test).
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    build_schema,
    default_field_resolver,
    parse,
    validate,
)
from graphql.pyutils import inspect
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .differential import Call, Later, Obj, Raise, Returned, compare, run_both, run_event_both

#: Examples per test; the suite's case count is this times the tests below.
DIFFERENTIAL_EXAMPLES = 250
PROFILE = settings(
    max_examples=DIFFERENTIAL_EXAMPLES,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

SCALARS = ["String", "Int", "Float", "Boolean", "ID", "Color", "Odd"]
WRAPPERS = ["{}", "{}!", "[{}]", "[{}!]", "[{}]!", "[{}!]!", "[[{}]]"]


def _odd(value: Any) -> int:
    if not isinstance(value, int) or value % 2 == 0:
        raise GraphQLError(f"Odd cannot represent {inspect(value)}")
    return value


def _custom_resolver(source: Any, info: Any, **args: Any) -> Any:
    # A resolver of its own (so graphql-core and the plan both call it with an info) that
    # behaves like the default one, so the data's markers drive it.
    return default_field_resolver(source, info, **args)


def _echo(_source: Any, info: Any, **args: Any) -> str:
    return f"{info.path.as_list()} {sorted(args.items())!r}"


@st.composite
def schemas(draw: st.DrawFn) -> GraphQLSchema:
    """A schema of 1-3 object types implementing `Node` and forming the union `U`."""
    count = draw(st.integers(1, 3))
    objects = [f"O{i}" for i in range(count)]
    named = st.sampled_from(SCALARS + objects + ["Node", "U"])
    field_type = st.builds(
        lambda wrapper, name: wrapper.format(name), st.sampled_from(WRAPPERS), named
    )
    echo = 'echo(a: Int, s: [String] = ["x"], e: Color): String'
    lines = [
        "enum Color { RED GREEN }",
        "scalar Odd",
        "interface Node { id: ID }",
        f"union U = {' | '.join(objects)}",
    ]
    for name in objects:
        fields = [f"f{j}: {draw(field_type)}" for j in range(draw(st.integers(1, 4)))]
        lines.append(f"type {name} implements Node {{ id: ID {echo} {' '.join(fields)} }}")
    roots = [f"q{j}: {draw(field_type)}" for j in range(draw(st.integers(1, 4)))]
    lines.append(f"type Query {{ {echo} {' '.join(roots)} }}")
    lines.append(f"type Mutation {{ {echo} {' '.join(roots)} }}")
    schema = build_schema("\n".join(lines))
    odd = schema.type_map["Odd"]
    assert isinstance(odd, GraphQLScalarType)
    odd.coerce_output_value = _odd  # type: ignore[method-assign]
    for type_ in [*objects, "Query", "Mutation"]:
        object_type = schema.type_map[type_]
        assert isinstance(object_type, GraphQLObjectType)
        for name, field in object_type.fields.items():
            if name == "echo":
                field.resolve = _echo
            elif draw(st.booleans()):
                field.resolve = _custom_resolver
        if type_ in objects:
            check = draw(st.sampled_from(["none", "sync", "async", "wrong"]))
            object_type.is_type_of = _is_type_of(type_, check)
    node = schema.type_map["Node"]
    node.resolve_type = _resolve_type(draw(st.sampled_from(["none", "sync", "async"])))  # type: ignore[attr-defined]
    return schema


def _is_type_of(name: str, check: str) -> Any:
    if check == "none":
        return None

    def is_type_of(value: Any, _info: Any) -> Any:
        verdict = check != "wrong" and _kind(value) in (name, None)
        if check == "async":
            return _later(verdict)
        return verdict

    return is_type_of


def _resolve_type(how: str) -> Any:
    if how == "none":
        return None

    def resolve_type(value: Any, _info: Any, _type: Any) -> Any:
        kind = _kind(value)
        return _later(kind) if how == "async" else kind

    return resolve_type


def _kind(value: Any) -> Any:
    return value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)


async def _later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


LEAVES: dict[str, list[Any]] = {
    "String": ["", "a", "bc", 1, [1]],
    "Int": [0, 1, -3, 2**31, 1.0, 1.5, "3", True],
    "Float": [0.5, -1.25, 2, math.nan, "x", True],
    "Boolean": [True, False, 0, "yes"],
    "ID": ["a", "7", 3, 1.5, True],
    "Color": ["RED", "GREEN", "BLUE", 1],
    "Odd": [1, 3, 2, "x"],
}


class Values:
    """Data for a schema, usually valid, sometimes null, wrong, raising or asynchronous.

    Seeded from hypothesis, so each example is reproducible; plain `random` lets the
    proportions be chosen (hypothesis' own strategies keep data mostly tiny).
    """

    def __init__(self, schema: GraphQLSchema, seed: int) -> None:
        self.schema = schema
        self.random = random.Random(seed)
        self.objects = sorted(
            name
            for name, t in schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and name.startswith("O")
        )

    def value(self, type_: GraphQLType, depth: int) -> Any:
        roll = self.random.random()
        if roll < 0.6:
            return self.plain(type_, depth)
        if roll < 0.68:
            return None
        if roll < 0.74:
            return Raise(self.text(), self.random.random() < 0.5)
        if roll < 0.78:
            return Returned(self.text())
        if roll < 0.94:
            inner = self.plain(type_, depth) if self.random.random() < 0.8 else Raise(self.text())
            return Later(inner, self.random.randint(0, 2))
        return Call(self.value(type_, depth))

    def text(self) -> str:
        return self.random.choice(["a", "b", "c", "ab"])

    def plain(self, type_: GraphQLType, depth: int) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            roll = self.random.random()
            if roll < 0.05:
                return 5  # not iterable
            if roll < 0.1:
                return []
            items = [self.value(type_.of_type, depth) for _ in range(self.random.randint(1, 3))]
            return tuple(items) if roll < 0.2 else items
        name = getattr(type_, "name", "")
        if name in LEAVES:
            return self.random.choice(LEAVES[name])
        if depth > 2:
            return None
        if isinstance(type_, GraphQLObjectType):
            return self.object(type_, depth, None)
        chosen = self.schema.type_map[self.random.choice(self.objects)]
        assert isinstance(chosen, GraphQLObjectType)
        kind = self.random.choice([chosen.name] * 4 + ["Nope", "Query", None])
        return self.object(chosen, depth, kind)

    def object(self, type_: GraphQLObjectType, depth: int, kind: Any) -> Any:
        found = {
            name: self.value(field.type, depth + 1)
            for name, field in type_.fields.items()
            if name != "echo"
        }
        if kind is not None:
            found.update(kind=kind, __typename=kind)
        return Obj(found) if self.random.random() < 0.3 else found


@st.composite
def selections(
    draw: st.DrawFn, schema: GraphQLSchema, type_: Any, depth: int, variables: set[str]
) -> str:
    """A selection set on `type_` (fields, aliases, fragments, directives, arguments)."""
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLObjectType):  # abstract: fragments on possible types
        parts = ["__typename"]
        for possible in schema.get_possible_types(type_):
            if draw(st.booleans()):
                inner = draw(selections(schema, possible, depth, variables))
                parts.append(f"... on {possible.name} {inner}")
        if type_.name == "Node" and draw(st.booleans()):
            parts.append("id")
        return "{ " + " ".join(parts) + " }"
    names = sorted(name for name in type_.fields if name != "echo")
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    chosen += draw(st.lists(st.sampled_from(["echo", "__typename"]), max_size=1))
    parts = []
    for name in chosen:
        alias = draw(st.sampled_from(["", "", "", "x: ", "y: "]))
        part = alias + name
        if name == "echo":
            part += draw(
                st.sampled_from(
                    ["", "(a: 1)", "(a: $n)", '(s: ["p", "q"], e: RED)', "(s: null)", "(e: $color)"]
                )
            )
            variables.update(name for name in ("n", "color") if f"${name}" in part)
        directive = draw(
            st.sampled_from(
                [
                    "",
                    "",
                    "",
                    " @skip(if: $skip)",
                    " @include(if: $keep)",
                    " @include(if: false)",
                    " @skip(if: false)",
                ]
            )
        )
        if "$skip" in directive:
            variables.add("skip")
        if "$keep" in directive:
            variables.add("keep")
        part += directive
        field = type_.fields.get(name)
        if field is not None:
            inner_type = field.type
            while isinstance(inner_type, GraphQLNonNull | GraphQLList):
                inner_type = inner_type.of_type
            if not isinstance(inner_type, GraphQLScalarType | GraphQLEnumType):
                if depth >= 2:
                    part += " { __typename }"
                else:
                    part += " " + draw(selections(schema, field.type, depth + 1, variables))
        parts.append(part)
    if draw(st.booleans()):
        parts.append(f"... on {type_.name} {{ __typename }}")
    return "{ " + " ".join(parts) + " }"


DECLARATIONS = {
    "n": "$n: Int",
    "color": "$color: Color",
    "skip": "$skip: Boolean!",
    "keep": "$keep: Boolean!",
}
VARIABLE_VALUES = {
    "n": st.one_of(st.integers(-5, 5), st.just(None), st.just("bad")),
    "color": st.sampled_from(["RED", "GREEN", None, "BLUE"]),
    "skip": st.booleans(),
    "keep": st.booleans(),
}


@st.composite
def cases(draw: st.DrawFn, operation: str = "query") -> tuple[GraphQLSchema, str, Any, Any]:
    schema = draw(schemas())
    root_type = schema.query_type if operation != "mutation" else schema.mutation_type
    assert root_type is not None
    variables: set[str] = set()
    body = draw(selections(schema, root_type, 0, variables))
    declared = ", ".join(DECLARATIONS[name] for name in sorted(variables))
    query = f"{operation}{f'({declared})' if declared else ''} {body}"
    given_values = {
        name: draw(VARIABLE_VALUES[name])
        for name in sorted(variables)
        if draw(st.integers(0, 9)) > 0
    }
    root = Values(schema, draw(st.integers(0, 2**32))).object(root_type, 0, None)
    return schema, query, root, given_values


def _valid(schema: GraphQLSchema, query: str) -> Any:
    document = parse(query)
    errors = validate(schema, document)
    return None if errors else document


@PROFILE
@given(cases())
def test_queries_give_graphql_cores_results(case: tuple[GraphQLSchema, str, Any, Any]) -> None:
    schema, query, root, variables = case
    document = _valid(schema, query)
    if document is None:  # conflicting aliases: graphql-core would not execute it either
        return
    expected, actual = asyncio.run(run_both(schema, document, root, variables))
    compare(expected, actual)


@PROFILE
@given(cases("mutation"))
def test_mutations_give_graphql_cores_results(case: tuple[GraphQLSchema, str, Any, Any]) -> None:
    schema, query, root, variables = case
    document = _valid(schema, query)
    if document is None:
        return
    expected, actual = asyncio.run(run_both(schema, document, root, variables))
    compare(expected, actual)


@PROFILE
@given(cases())
def test_subscription_events_give_graphql_cores_results(
    case: tuple[GraphQLSchema, str, Any, Any],
) -> None:
    schema, query, root, variables = case
    # The query type's fields double as the subscription type's; the event is the root value.
    query_type = schema.query_type
    assert query_type is not None
    subscription = GraphQLObjectType("Subscription", dict(query_type.fields))
    schema = GraphQLSchema(
        query_type, subscription=subscription, types=list(schema.type_map.values())
    )
    document = _valid(schema, "subscription" + query.removeprefix("query"))
    if document is None:
        return
    expected, actual = asyncio.run(run_event_both(schema, document, root, variables))
    compare(expected, actual)
