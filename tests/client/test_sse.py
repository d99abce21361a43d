"""The SSE transport against scripted graphql-sse endpoints: drops, retries and refusals.

The happy paths run against the real clew server in tests/integration/test_clew_sse.py; here
an aiohttp endpoint misbehaves on purpose, one scripted answer per request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clew.client import (
    AIOHTTPClient,
    ConnectionFailedError,
    HTTPStatusError,
    InvalidResponseError,
    RetryPolicy,
    SubscriptionError,
)
from clew.client._sse import SSETransport

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def next_event(payload: object, operation_id: str | None = None) -> bytes:
    data = payload if operation_id is None else {"id": operation_id, "payload": payload}
    return f"event: next\ndata: {json.dumps(data)}\n\n".encode()


def complete_event(operation_id: str | None = None) -> bytes:
    data = "" if operation_id is None else json.dumps({"id": operation_id})
    return f"event: complete\ndata: {data}\n\n".encode()


async def stream(request: web.Request, *chunks: bytes, end: bool = True) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for chunk in chunks:
        await response.write(chunk)
    if not end:
        # Drop the connection without finishing the response.
        assert request.transport is not None
        request.transport.close()
    return response


class Script:
    """Answers request number n with the n-th handler; records every request."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[tuple[str, Mapping[str, str], str]] = []

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        self.requests.append((request.method, request.headers.copy(), body))
        handler = self.handlers.pop(0)
        return await handler(request)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(script: Script) -> str:
        app = web.Application()

        async def handle(request: web.Request) -> web.StreamResponse:
            return await script(request)

        app.router.add_route("*", "/graphql", handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/graphql"))

    yield start
    for server in servers:
        await server.close()


FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)


def transport(url: str, *, single: bool = False) -> tuple[SSETransport, AIOHTTPClient]:
    client = AIOHTTPClient(url, subscription_transport="sse", sse_single_connection=single)
    sse = client.backend.sse()
    assert isinstance(sse, SSETransport)
    sse.retry = FAST_RETRY
    return sse, client


async def test_distinct_mode_sends_the_protocol_request(
    serve: Callable[[Script], Awaitable[str]],
) -> None:
    script = Script(lambda r: stream(r, b":\n\n", next_event({"data": {"n": 1}}), complete_event()))
    url = await serve(script)
    _, client = transport(url)
    async with client:
        results = [r.data async for r in client.subscribe("subscription { n }")]
    assert results == [{"n": 1}]
    [(method, headers, body)] = script.requests
    assert method == "POST"
    assert headers["Accept"] == "text/event-stream"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"query": "subscription { n }"}


async def test_a_dropped_subscription_stream_is_sent_again(
    serve: Callable[[Script], Awaitable[str]],
) -> None:
    script = Script(
        lambda r: stream(r, next_event({"data": {"n": 1}}), end=False),
        lambda r: stream(r, next_event({"data": {"n": 2}}), complete_event()),
    )
    url = await serve(script)
    _, client = transport(url)
    async with client:
        results = [r.data async for r in client.subscribe("subscription { n }")]
    assert results == [{"n": 1}, {"n": 2}]
    assert len(script.requests) == 2


async def test_a_stream_ending_without_complete_counts_as_a_drop(
    serve: Callable[[Script], Awaitable[str]],
) -> None:
    # Each stream ends cleanly but early. (A result would reset the count, as graphql-sse's.)
    script = Script(*(lambda r: stream(r, b":\n\n") for _ in range(3)))
    url = await serve(script)
    _, client = transport(url)
    async with client:
        with pytest.raises(ConnectionFailedError, match="gave up after 3 attempts"):
            async for _ in client.subscribe("subscription { n }"):
                pass
    assert len(script.requests) == 3  # the first try and two retries


async def test_a_query_is_never_sent_twice(serve: Callable[[Script], Awaitable[str]]) -> None:
    script = Script(lambda r: stream(r, b":\n\n", end=False))
    url = await serve(script)
    client = AIOHTTPClient(url, subscription_transport="sse", use_sse_for_queries=True)
    async with client:
        with pytest.raises(ConnectionFailedError):
            await client.execute("mutation { pay }")
    assert len(script.requests) == 1


async def test_a_request_error_answer_is_a_subscription_error(
    serve: Callable[[Script], Awaitable[str]],
) -> None:
    async def refuse(_request: web.Request) -> web.Response:
        return web.json_response({"errors": [{"message": "Syntax Error"}]}, status=400)

    url = await serve(Script(refuse))
    _, client = transport(url)
    async with client:
        with pytest.raises(SubscriptionError, match="Syntax Error"):
            await anext(client.subscribe("subscription {"))


async def test_other_answers_are_http_errors(serve: Callable[[Script], Awaitable[str]]) -> None:
    async def unavailable(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="try later")

    url = await serve(Script(unavailable))
    _, client = transport(url)
    async with client:
        with pytest.raises(HTTPStatusError) as raised:
            await anext(client.subscribe("subscription { n }"))
    assert raised.value.status == 503


@pytest.mark.parametrize(
    "chunk",
    [
        b"event: next\ndata: [1]\n\n",
        b"event: surprise\ndata: {}\n\n",
        b'event: next\ndata: {"data": 3}\n\n',
    ],
)
async def test_malformed_events_are_invalid_responses(
    serve: Callable[[Script], Awaitable[str]], chunk: bytes
) -> None:
    url = await serve(Script(lambda r: stream(r, chunk)))
    _, client = transport(url)
    async with client:
        with pytest.raises(InvalidResponseError):
            await anext(client.subscribe("subscription { n }"))


async def test_single_mode_reserves_again_after_a_drop_and_resends_the_subscription(
    serve: Callable[[Script], Awaitable[str]],
) -> None:
    posted: list[str] = []

    async def reserve(request: web.Request) -> web.Response:
        return web.Response(status=201, text=f"token{len(posted)}")

    async def accept(request: web.Request) -> web.Response:
        posted.append(json.loads(await request.text())["extensions"]["operationId"])
        return web.Response(status=202)

    first_stream_open = asyncio.Event()

    async def first_stream(request: web.Request) -> web.StreamResponse:
        first_stream_open.set()
        await asyncio.sleep(0.2)  # long enough for the POST to be accepted
        return await stream(request, next_event({"data": {"n": 1}}, "1"), end=False)

    async def second_stream(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.2)
        return await stream(
            request, next_event({"data": {"n": 2}}, "1"), complete_event("1"), end=False
        )

    script = Script(reserve, first_stream, accept, reserve, second_stream, accept)
    url = await serve(script)
    sse, client = transport(url, single=True)
    sse._id_factory = lambda: "1"  # the backend's ids are random; the script names this one
    async with client:
        results = [r.data async for r in client.subscribe("subscription { n }")]
    assert results == [{"n": 1}, {"n": 2}]
    assert posted == ["1", "1"]  # the same operation id, on the new reservation
    methods = [
        (method, headers.get("X-GraphQL-Event-Stream-Token"))
        for method, headers, _ in script.requests
    ]
    assert methods == [
        ("PUT", None),
        ("GET", "token0"),
        ("POST", "token0"),
        ("PUT", None),
        ("GET", "token1"),
        ("POST", "token1"),
    ]
