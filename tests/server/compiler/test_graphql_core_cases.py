"""The execution scenarios of graphql-core's own test suite that apply, as fixed cases.

Written for clew after reading graphql-core's `tests/execution` (non-null propagation,
lists, abstract types, the executor's basics, mutations, directives, variables): each case
runs through graphql-core and through the compiled plan, and the two results must be equal;
a few also pin the expected result itself.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSchema, build_schema, parse

from .differential import Fresh, compare, run_both

# -- non-null propagation -------------------------------------------------------------------

NON_NULL_SDL = """
type Data {
  sync: String
  syncNonNull: String!
  promise: String
  promiseNonNull: String!
  syncNest: Data
  syncNonNullNest: Data!
  promiseNest: Data
  promiseNonNullNest: Data!
}
schema { query: Data }
"""


class Throwing:
    """Every field raises (leaves) or nests another `Throwing`."""

    def sync(self, _info: Any) -> str:
        raise RuntimeError("sync")

    def syncNonNull(self, _info: Any) -> str:
        raise RuntimeError("syncNonNull")

    async def promise(self, _info: Any) -> str:
        raise RuntimeError("promise")

    async def promiseNonNull(self, _info: Any) -> str:
        raise GraphQLError("promiseNonNull")

    def syncNest(self, _info: Any) -> Throwing:
        return Throwing()

    def syncNonNullNest(self, _info: Any) -> Throwing:
        return Throwing()

    async def promiseNest(self, _info: Any) -> Throwing:
        return Throwing()

    async def promiseNonNullNest(self, _info: Any) -> Throwing:
        return Throwing()


class Nulling:
    """Every leaf is null; every nest is another `Nulling`."""

    def sync(self, _info: Any) -> None:
        return None

    syncNonNull = sync

    async def promise(self, _info: Any) -> None:
        return None

    promiseNonNull = promise

    def syncNest(self, _info: Any) -> Nulling:
        return Nulling()

    syncNonNullNest = syncNest

    async def promiseNest(self, _info: Any) -> Nulling:
        return Nulling()

    promiseNonNullNest = promiseNest


LEAVES = ["sync", "syncNonNull", "promise", "promiseNonNull"]
NESTS = ["syncNest", "syncNonNullNest", "promiseNest", "promiseNonNullNest"]


def _nested_queries() -> Iterator[str]:
    for outer, inner in itertools.product(NESTS, NESTS):
        leaves = " ".join(LEAVES)
        yield f"{{ {outer} {{ {inner} {{ {leaves} }} }} }}"
        yield f"{{ sync {outer} {{ {inner} {{ promiseNonNull }} syncNonNull }} }}"
    yield f"{{ {' '.join(LEAVES)} }}"
    yield "{ a: syncNonNullNest { b: promiseNonNullNest { c: syncNonNull } } d: sync }"


@pytest.mark.parametrize("data", [Throwing, Nulling])
@pytest.mark.parametrize("query", list(_nested_queries()))
async def test_non_null_propagation(data: type, query: str) -> None:
    schema = build_schema(NON_NULL_SDL)
    compare(*await run_both(schema, parse(query), data(), None))


async def test_a_null_in_a_non_null_root_field_nulls_the_data() -> None:
    schema = build_schema(NON_NULL_SDL)
    expected, actual = await run_both(schema, parse("{ sync syncNonNull }"), Nulling(), None)
    compare(expected, actual)
    assert actual.data is None
    assert [error.message for error in actual.errors or ()] == [
        "Cannot return null for non-nullable field Data.syncNonNull."
    ]


# -- lists ----------------------------------------------------------------------------------

LIST_TYPES = ["[Int]", "[Int]!", "[Int!]", "[Int!]!"]


async def _value(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


async def _rejected() -> Any:
    await asyncio.sleep(0)
    raise RuntimeError("bad")


def _generated() -> Iterator[int]:
    yield 1
    yield 2


async def _async_generated() -> AsyncIterator[Any]:
    yield 1
    yield None
    yield 2


LIST_VALUES: dict[str, Any] = {
    "values": lambda: [1, 2],
    "with a null": lambda: [1, None, 2],
    "null": lambda: None,
    "with an error": lambda: [1, RuntimeError("item"), 2],
    "tuple": lambda: (1, 2),
    "generator": _generated,
    "a string": lambda: "ab",
    "not iterable": lambda: 7,
    "awaited list": lambda: _value([1, 2]),
    "awaited null": lambda: _value(None),
    "rejected": _rejected,
    "awaited items": lambda: [_value(1), _value(2)],
    "awaited null item": lambda: [_value(1), _value(None)],
    "rejected item": lambda: [_value(1), _rejected(), 3],
    "async iterable": _async_generated,
    "wrong item": lambda: [1, "x", 2.5],
}


@pytest.mark.parametrize("list_type", LIST_TYPES)
@pytest.mark.parametrize("value", list(LIST_VALUES))
async def test_list_completion(list_type: str, value: str) -> None:
    schema = build_schema(f"type Query {{ listField: {list_type} nest: Query }}")
    make = LIST_VALUES[value]

    class Root:
        def listField(self, _info: Any) -> Any:
            return make()

        def nest(self, _info: Any) -> Root:
            return Root()

    for query in ("{ listField }", "{ nest { listField } listField }"):
        compare(*await run_both(schema, parse(query), Root(), None))


# -- abstract types ---------------------------------------------------------------------------

ABSTRACT_SDL = """
interface Pet { name: String }
type Dog implements Pet { name: String woofs: Boolean }
type Cat implements Pet { name: String meows: Boolean }
type Human { name: String pets: [Pet] }
union Thing = Dog | Cat | Human
type Query { pets: [Pet] things: [Thing] pet: Pet! }
"""
QUERY = """{
  pets { name ... on Dog { woofs } ... on Cat { meows } }
  things { __typename ... on Human { name pets { name } } ... on Dog { woofs } }
  pet { __typename name }
}"""
PETS: list[Any] = [
    {"kind": "Dog", "name": "Odie", "woofs": True},
    {"kind": "Cat", "name": "Garfield", "meows": False},
]
THINGS: list[Any] = [*PETS, {"kind": "Human", "name": "Jon", "pets": PETS}]


def _abstract_schema(how: str) -> GraphQLSchema:
    schema = build_schema(ABSTRACT_SDL)

    def resolve_type(value: Any, _info: Any, _type: Any) -> Any:
        kind = value.get("kind")
        answers = {
            "sync": kind,
            "none": None,
            "unknown": "Fish",
            "not an object": "Pet",
            "not possible": "Human" if kind != "Human" else "Dog",
            "not a string": 7,
        }
        if how == "async":
            return _value(kind)
        if how == "raises":
            raise RuntimeError("cannot tell")
        return answers[how]

    def is_type_of(name: str) -> Any:
        def check(value: Any, _info: Any) -> Any:
            if how == "is_type_of async":
                return _value(value.get("kind") == name)
            if how == "is_type_of raises":
                raise RuntimeError(f"{name} cannot tell")
            return value.get("kind") == name

        return check

    if how.startswith("is_type_of"):
        for name in ("Dog", "Cat", "Human"):
            schema.type_map[name].is_type_of = is_type_of(name)  # type: ignore[attr-defined]
    elif how != "typename":
        schema.type_map["Pet"].resolve_type = resolve_type  # type: ignore[attr-defined]
        schema.type_map["Thing"].resolve_type = resolve_type  # type: ignore[attr-defined]
    return schema


@pytest.mark.parametrize(
    "how",
    [
        "sync",
        "async",
        "raises",
        "none",
        "unknown",
        "not an object",
        "not possible",
        "not a string",
        "is_type_of",
        "is_type_of async",
        "is_type_of raises",
        "typename",
    ],
)
async def test_abstract_types(how: str) -> None:
    things = [{**thing, "__typename": thing["kind"]} for thing in THINGS]
    root = {"pets": PETS, "things": things if how == "typename" else THINGS, "pet": PETS[0]}
    if how == "typename":
        root["pets"] = things[:2]
        root["pet"] = {"__typename": "Cat", "name": "Tom"}
    compare(*await run_both(_abstract_schema(how), parse(QUERY), root, None))


# -- the executor's basics ------------------------------------------------------------------

BASICS_SDL = """
type Query {
  a: String
  b(x: Int, y: String = "why", z: [Int!]): String
  deep: Deep
  info: String
  fails: String
  failsLater: String
}
type Deep { a: String deeper: [Deep] n: Int! }
type Mutation { set(n: Int!): Int first: Int second: Int fails: Int }
"""


def _basics_root(log: list[str]) -> dict[str, Any]:
    async def later(name: str, value: Any, ticks: int) -> Any:
        log.append(f"{name} started")
        for _ in range(ticks):
            await asyncio.sleep(0)
        log.append(f"{name} finished")
        if isinstance(value, Exception):
            raise value
        return value

    deep = {"a": "deep", "n": 1, "deeper": [{"a": "x", "n": 2}, None, {"a": "y", "n": None}]}
    return {
        "a": "apple",
        "b": lambda _info, **args: repr(sorted(args.items())),
        "deep": lambda _info: later("deep", deep, 2),
        "info": lambda info: (
            f"{info.field_name} {info.path.as_list()} {info.parent_type} {info.return_type}"
            f" {len(info.field_nodes)} {info.operation.operation.value}"
            f" {sorted(info.variable_values.coerced)}"
        ),
        "fails": lambda _info: later("fails", RuntimeError("failed"), 1),
        "failsLater": lambda _info: later("failsLater", GraphQLError("failed later"), 3),
        "set": lambda _info, n: later(f"set {n}", n, 3 - n % 3),
        "first": lambda _info: later("first", 1, 2),
        "second": lambda _info: 2,
    }


BASICS: list[tuple[str, dict[str, Any] | None]] = [
    ("{ a b }", None),
    ("{ x: a y: a a }", None),
    ("{ b(x: 1) c: b(z: [1, 2]) d: b(y: null) }", None),
    ("query($x: Int, $z: [Int!]) { b(x: $x, z: $z) }", {"x": 3, "z": [4]}),
    ("query($x: Int, $z: [Int!]) { b(x: $x, z: $z) }", {"z": [None]}),
    ("query($x: Int!) { b(x: $x) }", {}),
    ('query($y: String = "def") { b(y: $y) }', None),
    ("{ deep { a n deeper { a n } } }", None),
    ("{ deep { a } deep { n deeper { a } } }", None),
    ("{ ...F deep { ...D } } fragment F on Query { a } fragment D on Deep { n a }", None),
    ("{ ... on Query { a } ... { b } }", None),
    ("query Q($v: Int) { info x: info ... on Query { info } }", {"v": 1}),
    ("{ fails failsLater a deep { a } }", None),
    ("{ failsLater fails }", None),
    ("{ __typename deep { __typename deeper { __typename } } }", None),
    ("mutation { first second set(n: 1) another: set(n: 2) third: set(n: 3) }", None),
    ("mutation { fails: set(n: 4) first }", None),
    ("mutation($n: Int!) { set(n: $n) }", {"n": 5}),
]


@pytest.mark.parametrize(("query", "variables"), BASICS)
async def test_executor_basics(query: str, variables: dict[str, Any] | None) -> None:
    schema = build_schema(BASICS_SDL)
    logs: list[list[str]] = [[], []]
    roots = iter(logs)

    class Root(dict[str, Any]):
        """A fresh root per run, recording the order resolvers start and finish in."""

    def factory() -> Any:
        return Root(_basics_root(next(roots)))

    compare(*await run_both(schema, parse(query), Fresh(factory), variables))
    assert logs[0] == logs[1]


async def test_mutations_run_their_root_fields_one_after_another() -> None:
    schema = build_schema(BASICS_SDL)
    log: list[str] = []
    query = "mutation { a: set(n: 1) b: set(n: 2) c: set(n: 3) }"
    from clew.server._compiler._plan import Plan

    result = Plan(schema, parse(query), None).execute(_basics_root(log), None, None)
    assert not hasattr(result, "data")
    settled = await result  # type: ignore[misc]
    assert settled.data == {"a": 1, "b": 2, "c": 3}
    assert log == [
        "set 1 started",
        "set 1 finished",
        "set 2 started",
        "set 2 finished",
        "set 3 started",
        "set 3 finished",
    ]


# -- directives -------------------------------------------------------------------------------

DIRECTIVES = [
    "{ a @skip(if: true) b }",
    "{ a @skip(if: false) b @include(if: false) }",
    "{ a @include(if: true) @skip(if: true) b }",
    "{ ... @skip(if: true) { a } b }",
    "{ ...F @include(if: false) b } fragment F on Query { a }",
    "query($s: Boolean!, $i: Boolean!) {"
    " a @skip(if: $s) b @include(if: $i) ... @skip(if: $i) { c: a } }",
    "query($s: Boolean!) { a @skip(if: $s) a @include(if: true) }",
    "query($s: Boolean! = true) { a @skip(if: $s) b }",
]


@pytest.mark.parametrize("query", DIRECTIVES)
@pytest.mark.parametrize(("s", "i"), [(False, False), (False, True), (True, False), (True, True)])
async def test_skip_and_include(query: str, s: bool, i: bool) -> None:
    schema = build_schema(BASICS_SDL)
    variables = {name: value for name, value in (("s", s), ("i", i)) if f"${name}" in query}
    root = {"a": "apple", "b": lambda _info, **_args: "b"}
    compare(*await run_both(schema, parse(query), root, variables))
