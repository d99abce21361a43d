"""The schema the server tests share, and building apps over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)

from clew.server import GraphQL

SDL = """
scalar Upload

type Query {
  hello(name: String = "world"): String!
  boom: String
  refused: String
  nested: Query
  requiredBoom: String!
  whoami: String
  count(n: Int!): Int!
  slow: String
}

type Mutation {
  add(a: Int!, b: Int!): Int!
  upload(file: Upload!): String!
  uploadMany(files: [Upload!]!): [String!]!
}

type Subscription {
  ticks(limit: Int = 3): Int!
}
"""


class Recorder:
    """What the test resolvers saw: closed generators and the last context."""

    def __init__(self) -> None:
        self.closed = 0
        self.context: object = None


def resolvers(recorder: Recorder) -> dict[str, dict[str, object]]:
    def boom(*_args: object) -> str:
        raise ValueError("database password is hunter2")

    def refused(*_args: object) -> str:
        raise GraphQLError("You may not see this")

    def whoami(_root: object, info: object) -> str:
        recorder.context = info.context  # type: ignore[attr-defined]
        return repr(info.context)  # type: ignore[attr-defined]

    async def upload(_root: object, _info: object, file: object) -> str:
        content = await file.read()  # type: ignore[attr-defined]
        return f"{file.filename}:{content.decode()}"  # type: ignore[attr-defined]

    async def upload_many(_root: object, _info: object, files: list[object]) -> list[str]:
        return [await upload(None, None, file) for file in files]

    async def ticks(_root: object, _info: object, limit: int) -> AsyncIterator[int]:
        try:
            for tick in range(limit):
                yield tick
        finally:
            recorder.closed += 1

    return {
        "Query": {
            "hello": lambda _root, _info, name: f"Hello {name}",
            "boom": boom,
            "refused": refused,
            "nested": lambda *_: {},
            "requiredBoom": boom,
            "whoami": whoami,
            "count": lambda _root, _info, n: n,
        },
        "Mutation": {
            "add": lambda _root, _info, a, b: a + b,
            "upload": upload,
            "uploadMany": upload_many,
        },
        "Subscription": {"ticks": ticks},
    }


def make_app(recorder: Recorder | None = None, **options: object) -> GraphQL:
    """A GraphQL app over the test schema, with no WebSocket handlers unless given."""
    options.setdefault("websocket_handlers", [])
    return GraphQL.from_sdl(SDL, resolvers(recorder or Recorder()), **options)


def money_schema() -> GraphQLSchema:
    """A schema whose `Money` scalar serializes to `Decimal`: a result JSON cannot carry."""
    money = GraphQLScalarType("Money", serialize=Decimal)
    price = GraphQLField(money, resolve=lambda *_: "1.50")
    return GraphQLSchema(query=GraphQLObjectType("Query", {"price": price}))
