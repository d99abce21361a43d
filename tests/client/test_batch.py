"""`client.batch(...)`: one POST holding a JSON array, one response per operation in order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clew.client import AIOHTTPClient, GraphQLResponseError, HTTPStatusError, InvalidResponseError
from clew.protocol.http import GraphQLRequest


async def answer(request: web.Request) -> web.Response:
    body = await request.json()
    if request.query.get("mode") == "short":
        return web.json_response([{"data": {"n": 0}}])
    if request.query.get("mode") == "refuse":
        return web.json_response(
            {"errors": [{"message": "Operation batching disabled."}]}, status=400
        )
    results: list[object] = []
    for index, entry in enumerate(body):
        if "bad" in entry["query"]:
            results.append({"errors": [{"message": f"bad {index}"}]})
        else:
            results.append({"data": {"n": index, "vars": entry.get("variables")}})
    return web.json_response(results)


@pytest.fixture
async def url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


async def test_batch_sends_one_array_and_returns_responses_in_order(url: str) -> None:
    async with AIOHTTPClient(url) as client:
        responses = await client.batch(
            ["{ a }", GraphQLRequest(query="query($x: Int) { b }", variables={"x": 1}), "{ bad }"]
        )
        assert [r.to_result() for r in responses] == [
            {"data": {"n": 0, "vars": None}},
            {"data": {"n": 1, "vars": {"x": 1}}},
            {"errors": [{"message": "bad 2"}]},
        ]
        with pytest.raises(GraphQLResponseError, match="bad 1"):
            await client.batch(["{ a }", "{ bad }"], raise_on_errors=True)
        assert await client.batch([]) == []


async def test_wrong_length_is_an_invalid_response(url: str) -> None:
    async with AIOHTTPClient(url + "?mode=short") as client:
        with pytest.raises(InvalidResponseError, match="length 1, expected length of 2"):
            await client.batch(["{ a }", "{ b }"])


async def test_a_refused_batch_is_an_http_error(url: str) -> None:
    async with AIOHTTPClient(url + "?mode=refuse") as client:
        with pytest.raises(HTTPStatusError) as info:
            await client.batch(["{ a }", "{ b }"])
        assert info.value.status == 400
