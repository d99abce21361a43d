"""CORS against a real uvicorn server: browser preflights (JSON POST, multipart with the CSRF
header), the explorer, actual cross-origin responses, and the origin check on WebSockets."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from clew.server import CORS, GraphQL

from .servers import RunningServer, free_port, running_server, uvicorn_command

ALLOWED = "https://app.example"
OTHER = "https://evil.example"


def create_app() -> GraphQL:
    """The app under test (a factory for ``uvicorn --factory``)."""
    return GraphQL(
        "type Query { hello: String } type Subscription { tick: Int }",
        cors=CORS(allow_origins=[ALLOWED], allow_headers=["X-Custom"], expose_headers=["X-Id"]),
    )


def create_credentials_app() -> GraphQL:
    return GraphQL(
        "type Query { hello: String }",
        cors=CORS(allow_origin_regex=r"https://.*\.app\.example", allow_credentials=True),
    )


def _serve(target: str) -> Iterator[RunningServer]:
    port = free_port()
    with running_server("clew (CORS)", uvicorn_command(target, port), port=port) as server:
        yield server


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    yield from _serve("test_cors:create_app")


@pytest.fixture(scope="module")
def credentials_server() -> Iterator[RunningServer]:
    yield from _serve("test_cors:create_credentials_app")


async def preflight(url: str, origin: str, method: str, headers: str) -> aiohttp.ClientResponse:
    request_headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.options(url, headers=request_headers) as response,
    ):
        await response.read()
        return response


async def test_a_json_post_is_preflighted_and_allowed(server: RunningServer) -> None:
    response = await preflight(server.http_url, ALLOWED, "POST", "content-type")
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    assert response.headers["Access-Control-Max-Age"] == "600"


async def test_the_multipart_csrf_header_passes_a_preflight(server: RunningServer) -> None:
    for header in ("graphql-require-preflight", "apollo-require-preflight"):
        response = await preflight(server.http_url, ALLOWED, "POST", header)
        assert response.status == 200, header
        assert header in response.headers["Access-Control-Allow-Headers"].lower()


async def test_extra_and_trace_headers_are_allowed(server: RunningServer) -> None:
    response = await preflight(server.http_url, ALLOWED, "POST", "x-custom, traceparent")
    assert response.status == 200
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-custom" in allowed
    assert "traceparent" in allowed


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [(OTHER, "POST", "content-type"), (ALLOWED, "DELETE", ""), (ALLOWED, "POST", "x-unknown")],
)
async def test_other_origins_methods_and_headers_are_refused(
    server: RunningServer, origin: str, method: str, headers: str
) -> None:
    response = await preflight(server.http_url, origin, method, headers)
    # A browser fails a preflight that is not answered 2xx, and sends nothing.
    assert response.status == 400
    if origin == OTHER:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_responses_to_an_allowed_origin_carry_its_headers(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as session:
        post = await session.post(
            server.http_url, json={"query": "{ hello }"}, headers={"Origin": ALLOWED}
        )
        assert (post.status, await post.json()) == (200, {"data": {"hello": None}})
        assert post.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert post.headers["Access-Control-Expose-Headers"] == "X-Id"
        # The explorer page too, so a page on the allowed origin may fetch it.
        page = await session.get(
            server.http_url, headers={"Origin": ALLOWED, "Accept": "text/html"}
        )
        assert "graphiql" in await page.text()
        assert page.headers["Access-Control-Allow-Origin"] == ALLOWED
        # Another origin gets its answer without CORS headers: its browser hides it.
        other = await session.post(
            server.http_url, json={"query": "{ hello }"}, headers={"Origin": OTHER}
        )
        await other.read()
        assert "Access-Control-Allow-Origin" not in other.headers


async def test_a_plain_options_request_is_still_answered_by_the_endpoint(
    server: RunningServer,
) -> None:
    async with aiohttp.ClientSession() as session, session.options(server.http_url) as response:
        await response.read()
        assert (response.status, response.headers["Allow"]) == (200, "GET, POST, OPTIONS")


async def test_credentials_echo_the_matching_origin(credentials_server: RunningServer) -> None:
    origin = "https://one.app.example"
    response = await preflight(credentials_server.http_url, origin, "POST", "content-type")
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("origin", [ALLOWED, None, "same"])
async def test_websockets_from_allowed_or_own_origins_connect(
    server: RunningServer, origin: str | None
) -> None:
    if origin == "same":
        origin = server.url
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],
        origin=origin,  # type: ignore[arg-type]
    ) as websocket:
        assert websocket.subprotocol == "graphql-transport-ws"


async def test_websockets_from_other_origins_are_refused(server: RunningServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            server.ws_url,
            subprotocols=["graphql-transport-ws"],
            origin=OTHER,  # type: ignore[arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403


def test_credentials_with_any_origin_are_refused() -> None:
    with pytest.raises(ValueError, match="explicit origins"):
        CORS(allow_origins=["*"], allow_credentials=True)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_sse_single_connection_methods_and_token_pass_a_preflight(
    server: RunningServer, method: str
) -> None:
    # graphql-sse's single connection mode reserves with PUT and stops with DELETE, each
    # carrying the stream token header: a browser preflights both.
    token = "x-graphql-event-stream-token"
    response = await preflight(server.http_url, ALLOWED, method, token)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert token in response.headers["Access-Control-Allow-Headers"].lower()


async def test_a_cross_origin_sse_reservation_is_answered_with_cors_headers(
    server: RunningServer,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(server.http_url, headers={"Origin": ALLOWED}) as response,
    ):
        assert response.status == 201
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert await response.text()  # the token
