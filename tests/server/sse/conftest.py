"""An app for the SSE tests: a schema with a query, a mutation and subscriptions that record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from graphql import GraphQLError

from clew.server import GraphQL
from clew.server.sse import GraphQLSSEHandler

SDL = """
type Query {
  hello(name: String = "world"): String!
  boom: String
  refused: String
  whoami: String
}

type Mutation {
  add(a: Int!, b: Int!): Int!
}

type Subscription {
  ticks(limit: Int = 3): Int!
  forever: Int!
  gated: Int!
  failing: Int!
}
"""


class Probe:
    """What the resolvers saw: generators started and closed, contexts, and a gate."""

    def __init__(self) -> None:
        self.started = 0
        self.closed = 0
        self.produced = 0
        self.context: object = None
        self.gate = asyncio.Event()
        self.closed_event = asyncio.Event()


def make_app(probe: Probe, **options: object) -> GraphQL:
    def boom(*_args: object) -> str:
        raise ValueError("database password is hunter2")

    def refused(*_args: object) -> str:
        raise GraphQLError("You may not see this")

    def whoami(_root: object, info: object) -> str:
        probe.context = info.context  # type: ignore[attr-defined]
        return "me"

    async def ticks(_root: object, _info: object, limit: int) -> AsyncIterator[int]:
        probe.started += 1
        try:
            for tick in range(limit):
                yield tick
        finally:
            probe.closed += 1
            probe.closed_event.set()

    async def forever(_root: object, _info: object) -> AsyncIterator[int]:
        probe.started += 1
        try:
            tick = 0
            while True:
                probe.produced += 1
                yield tick
                tick += 1
                await asyncio.sleep(0)
        finally:
            probe.closed += 1
            probe.closed_event.set()

    async def gated(_root: object, _info: object) -> AsyncIterator[int]:
        probe.started += 1
        try:
            yield 0
            await probe.gate.wait()
            yield 1
        finally:
            probe.closed += 1
            probe.closed_event.set()

    async def failing(_root: object, _info: object) -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("the feed broke: secret")

    resolvers = {
        "Query": {
            "hello": lambda _root, _info, name: f"Hello {name}",
            "boom": boom,
            "refused": refused,
            "whoami": whoami,
        },
        "Mutation": {"add": lambda _root, _info, a, b: a + b},
        "Subscription": {
            "ticks": ticks,
            "forever": forever,
            "gated": gated,
            "failing": failing,
        },
    }
    options.setdefault("websocket_handlers", [])
    return GraphQL.from_sdl(SDL, resolvers, **options)  # type: ignore[arg-type]


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def app(probe: Probe) -> GraphQL:
    return make_app(probe, sse_handler=GraphQLSSEHandler(keepalive_interval=30))
