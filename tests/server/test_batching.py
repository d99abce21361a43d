"""Batched HTTP requests: off by default, arrays in order, isolation, limits, mutation order."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from clew.protocol.http import sha256_hash
from clew.server import GraphQL, GraphQLHTTPHandler

from .helpers import make_app

SDL = """
type Query { slow(id: Int!, ms: Int!): Int!  fail: Int  ctx: Int! }
type Mutation { append(value: Int!, ms: Int!): [Int!]! }
"""


def batching_app(log: list[str], seen_contexts: list[int]) -> GraphQL:
    items: list[int] = []

    async def slow(_root: object, _info: object, id: int, ms: int) -> int:
        log.append(f"start {id}")
        await asyncio.sleep(ms / 1000)
        log.append(f"end {id}")
        return id

    def fail(*_args: object) -> int:
        raise ValueError("kaboom")

    def ctx(_root: object, info: object) -> int:
        context = info.context  # type: ignore[attr-defined]
        seen_contexts.append(id(context))
        return 1

    async def append(_root: object, _info: object, value: int, ms: int) -> list[int]:
        log.append(f"start m{value}")
        await asyncio.sleep(ms / 1000)
        items.append(value)
        log.append(f"end m{value}")
        return list(items)

    return GraphQL.from_sdl(
        SDL,
        {"Query": {"slow": slow, "fail": fail, "ctx": ctx}, "Mutation": {"append": append}},
        http_handler=GraphQLHTTPHandler(batching=True, max_batch_size=5),
        websocket_handlers=[],
    )


def test_batching_is_off_by_default() -> None:
    response = TestClient(make_app()).post("/", json=[{"query": "{ hello }"}])
    assert response.status_code == 400
    assert "batched requests are not enabled" in response.json()["errors"][0]["message"]


def test_results_in_order_with_mixed_successes_and_failures() -> None:
    client = TestClient(make_app(http_handler=GraphQLHTTPHandler(batching=True)))
    hello_hash = sha256_hash("{ hello }")
    batch = [
        {"query": "{ hello }"},
        {"query": "{ nope }"},
        {"query": "{ boom hello }"},
        {"query": "{ hello(name: $x) }"},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hello_hash}}},
        {
            "query": "{ hello }",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}},
        },
        {"query": "subscription { ticks }"},
        {"query": "query Q($n: String) { hello(name: $n) }", "variables": {"n": "ada"}},
    ]
    response = client.post("/", json=batch)
    assert response.status_code == 200
    results = response.json()
    assert len(results) == len(batch)
    assert results[0] == {"data": {"hello": "Hello world"}}
    assert "Cannot query field 'nope'" in results[1]["errors"][0]["message"]
    assert results[2]["data"] == {"boom": None, "hello": "Hello world"}
    assert results[2]["errors"][0]["path"] == ["boom"]
    assert "Variable '$x' is not defined" in results[3]["errors"][0]["message"]
    assert results[4]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert results[5] == {"errors": [{"message": "provided sha does not match query"}]}
    assert "WebSocket" in results[6]["errors"][0]["message"]
    assert results[7] == {"data": {"hello": "Hello ada"}}


def test_queries_run_concurrently_with_one_context_each() -> None:
    log: list[str] = []
    contexts: list[int] = []
    client = TestClient(batching_app(log, contexts))
    batch = [
        {"query": "{ slow(id: 1, ms: 300) ctx }"},
        {"query": "{ slow(id: 2, ms: 10) ctx }"},
        {"query": "{ fail ctx }"},
    ]
    results = client.post("/", json=batch).json()
    assert [r.get("data") for r in results] == [
        {"slow": 1, "ctx": 1},
        {"slow": 2, "ctx": 1},
        {"fail": None, "ctx": 1},
    ]
    # Both started before either ended: concurrent. The fast one ended first, yet the array
    # is in request order.
    assert log[:2] == ["start 1", "start 2"] or log[:2] == ["start 2", "start 1"]
    assert log.index("end 2") < log.index("end 1")
    assert len(set(contexts)) == 3


def test_mutations_run_in_batch_order() -> None:
    log: list[str] = []
    client = TestClient(batching_app(log, []))
    batch = [
        {"query": "mutation { append(value: 1, ms: 200) }"},
        {"query": "mutation { append(value: 2, ms: 0) }"},
        {"query": "mutation { append(value: 3, ms: 50) }"},
    ]
    results = client.post("/", json=batch).json()
    assert [r["data"]["append"] for r in results] == [[1], [1, 2], [1, 2, 3]]
    assert log == ["start m1", "end m1", "start m2", "end m2", "start m3", "end m3"]


def test_over_the_limit_is_400_before_anything_runs() -> None:
    log: list[str] = []
    client = TestClient(batching_app(log, []))
    batch = [{"query": "mutation { append(value: 1, ms: 0) }"}] * 6
    response = client.post("/", json=batch)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "The batch holds 6 operations; this endpoint takes at most 5 per request"}
        ]
    }
    assert log == []


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "must not be an empty array"),
        ([{"query": "{ hello }"}, {"query": 3}], "Operation 1: The 'query' parameter must be"),
    ],
)
def test_malformed_batches_are_refused_whole(batch: list[object], message: str) -> None:
    client = TestClient(make_app(http_handler=GraphQLHTTPHandler(batching=True)))
    response = client.post("/", json=batch)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


def test_max_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GraphQLHTTPHandler(batching=True, max_batch_size=0)
