"""Incremental delivery on the server: opt-in @defer/@stream over multipart HTTP and over SSE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from clew.protocol.incremental import IncrementalFormat, IncrementalMerger, MultipartMixedParser
from clew.protocol.sse import Complete, Next
from clew.server import GraphQL

from .sse.asgi import Exchange, messages_in

SDL = """
type Query {
  hello: String!
  slow: String!
  boom: String
  list: [Int!]!
  nested: Nested!
}
type Nested { a: String!, b: String! }
type Mutation { add(a: Int!, b: Int!): Int! }
type Subscription { ticks: Int! }
"""

DEFERRED = '{ hello ... @defer(label: "D") { slow } list @stream(initialCount: 1) }'
V0_2 = "multipart/mixed;incrementalSpec=v0.2"
V0_1 = "multipart/mixed;deferSpec=20220824"


class Probe:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancelled = 0


def make_app(probe: Probe, *, incremental: bool = True, gate: bool = False) -> GraphQL:
    async def slow(*_args: object) -> str:
        if gate:
            try:
                await probe.release.wait()
            except asyncio.CancelledError:
                probe.cancelled += 1
                raise
        return "slow!"

    async def items(*_args: object) -> AsyncIterator[int]:
        for item in range(3):
            await asyncio.sleep(0)
            yield item

    def boom(*_args: object) -> str:
        raise ValueError("secret")

    async def ticks(*_args: object) -> AsyncIterator[int]:
        yield 1

    resolvers = {
        "Query": {
            "hello": lambda *_: "hi",
            "slow": slow,
            "boom": boom,
            "list": items,
            "nested": lambda *_: {"a": "A", "b": "B"},
        },
        "Mutation": {"add": lambda _r, _i, a, b: a + b},
        "Subscription": {"ticks": ticks},
    }
    return GraphQL.from_sdl(
        SDL,
        resolvers,  # type: ignore[arg-type]
        incremental_delivery=incremental,
        websocket_handlers=[],
    )


def post(app: GraphQL, query: str, accept: str) -> Exchange:
    return Exchange(
        app,
        "POST",
        headers=[("accept", accept), ("content-type", "application/json")],
        body={"query": query},
    )


def payloads_of(exchange: Exchange) -> list[object]:
    boundary = exchange.headers["content-type"].split('boundary="')[1].split('"')[0]
    parser = MultipartMixedParser(boundary)
    payloads: list[object] = list(parser.feed(exchange.body))
    parser.close()
    return payloads


def merged(payloads: list[object]) -> object:
    merger = IncrementalMerger()
    result: object = None
    for payload in payloads:
        result = merger.apply(payload)  # type: ignore[arg-type]
    assert merger.has_next is False
    return result


FINAL = {"data": {"hello": "hi", "list": [0, 1, 2], "slow": "slow!"}}


async def test_multipart_in_the_newer_format() -> None:
    exchange = await post(make_app(Probe()), DEFERRED, V0_2).response()
    assert exchange.status == 200
    assert exchange.headers["content-type"] == IncrementalFormat.V0_2.content_type
    payloads = payloads_of(exchange)
    assert payloads[0] == {
        "data": {"hello": "hi", "list": [0]},
        "pending": [{"id": "0", "path": [], "label": "D"}, {"id": "1", "path": ["list"]}],
        "hasNext": True,
    }
    assert all("pending" in p or "incremental" in p or "completed" in p for p in payloads)
    assert merged(payloads) == FINAL


async def test_multipart_in_the_2022_format() -> None:
    exchange = await post(make_app(Probe()), DEFERRED, f"{V0_1}, application/json").response()
    assert exchange.headers["content-type"] == IncrementalFormat.V0_1.content_type
    payloads = payloads_of(exchange)
    assert payloads[0] == {"data": {"hello": "hi", "list": [0]}, "hasNext": True}
    assert not [p for p in payloads if "pending" in p or "completed" in p]  # type: ignore[operator]
    entries = [e for p in payloads for e in p.get("incremental", [])]  # type: ignore[attr-defined]
    assert {"data": {"slow": "slow!"}, "path": [], "label": "D"} in entries
    assert {"items": [1], "path": ["list", 1]} in entries
    assert merged(payloads) == FINAL


async def test_an_operation_that_defers_nothing_gets_one_json_reply() -> None:
    exchange = await post(make_app(Probe()), "{ hello }", V0_2).response()
    assert exchange.headers["content-type"] == "application/json; charset=utf-8"
    assert exchange.json() == {"data": {"hello": "hi"}}


async def test_errors_in_deferred_fragments_are_masked() -> None:
    exchange = await post(make_app(Probe()), "{ hello ... @defer { boom } }", V0_2).response()
    payloads = payloads_of(exchange)
    final = merged(payloads)
    assert final["data"] == {"hello": "hi", "boom": None}  # type: ignore[index]
    assert [e["message"] for e in final["errors"]] == ["Internal server error"]  # type: ignore[index]
    assert b"secret" not in exchange.body


@pytest.mark.parametrize(
    ("query", "accept", "status", "message"),
    [
        # Answered as application/json: 200 under the default (published) status rules.
        ("{ hello", V0_2, 200, "Syntax Error"),
        ("{ nope }", V0_2, 200, "Cannot query field 'nope'"),
        ("subscription { ticks }", V0_2, 200, "not over multipart HTTP"),
    ],
)
async def test_refusals(query: str, accept: str, status: int, message: str) -> None:
    exchange = await post(make_app(Probe()), query, accept).response()
    assert exchange.status == status
    assert message in exchange.json()["errors"][0]["message"]


async def test_a_mutation_over_get_is_405() -> None:
    exchange = await Exchange(
        make_app(Probe()),
        "GET",
        headers=[("accept", V0_2)],
        query="query=mutation%7Badd(a:1,b:2)%7D",
    ).response()
    assert exchange.status == 405


async def test_off_by_default_the_directives_are_unknown() -> None:
    app = make_app(Probe(), incremental=False)
    exchange = await post(app, DEFERRED, f"{V0_2}, application/json").response()
    assert "Unknown directive '@defer'" in exchange.json()["errors"][0]["message"]
    # Accepting nothing but multipart, the plain endpoint has no media type to offer: 406.
    assert (await post(app, DEFERRED, V0_2).response()).status == 406


async def test_clients_that_accept_no_multipart_keep_the_plain_engine() -> None:
    # Without a multipart Accept the request is ordinary GraphQL over HTTP, where the
    # directives are not declared: the document fails validation, clearly.
    exchange = await post(make_app(Probe()), DEFERRED, "application/json").response()
    assert "Unknown directive '@defer'" in exchange.json()["errors"][0]["message"]
    plain = await post(make_app(Probe()), "{ hello }", "application/json").response()
    assert plain.json() == {"data": {"hello": "hi"}}


async def test_a_disconnect_cancels_the_deferred_work() -> None:
    probe = Probe()
    app = make_app(probe, gate=True)
    exchange = post(app, "{ hello ... @defer { slow } }", V0_2).start()
    await asyncio.wait_for(exchange.started.wait(), 10)
    await asyncio.sleep(0.1)
    exchange.disconnect()
    await exchange.response()
    assert probe.cancelled == 1


async def test_over_sse_each_payload_is_one_next_event() -> None:
    exchange = await Exchange(
        make_app(Probe()),
        "POST",
        headers=[("accept", "text/event-stream"), ("content-type", "application/json")],
        body={"query": DEFERRED},
    ).response()
    messages = messages_in(exchange.body)
    assert messages[-1] == Complete()
    nexts = [m for m in messages if isinstance(m, Next)]
    assert len(nexts) >= 2
    assert nexts[0].payload.get("hasNext") is True
    assert merged([m.payload for m in nexts]) == FINAL


async def test_subscriptions_still_run_on_the_incremental_engine_over_sse() -> None:
    exchange = await Exchange(
        make_app(Probe()),
        "POST",
        headers=[("accept", "text/event-stream"), ("content-type", "application/json")],
        body={"query": "subscription { ticks }"},
    ).response()
    assert messages_in(exchange.body) == [Next(payload={"data": {"ticks": 1}}), Complete()]
