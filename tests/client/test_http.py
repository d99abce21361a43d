"""The HTTP side of the client: methods, headers, sessions, timeouts and every transport failure."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest

from clew.client import (
    AIOHTTPBackend,
    AIOHTTPClient,
    ConnectionFailedError,
    GraphQLRequest,
    GraphQLResponseError,
    HTTPStatusError,
    InvalidResponseError,
    TransportError,
    TransportTimeoutError,
)
from clew.client.backend import DEFAULT_TIMEOUT

from .endpoint import Server

ACCEPT = "application/graphql-response+json, application/json;q=0.9"


async def test_post_json_by_default(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        result = await client.execute("query($n: Int!) { books(count: $n) { title } }", {"n": 2})
    assert result.data == {"books": [{"title": "Book 1"}, {"title": "Book 2"}]}
    assert result.errors is None
    (request,) = server.endpoint.requests
    assert request.method == "POST"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Accept"] == ACCEPT
    assert request.payload is not None
    assert request.payload["variables"] == {"n": 2}


async def test_get_for_queries_when_asked_but_mutations_still_post(server: Server) -> None:
    async with AIOHTTPClient(server.url, use_get_for_queries=True) as client:
        query = await client.execute('{ hello(name: "get") }')
        mutation = await client.execute('mutation { addBooks(titles: ["a"]) { title } }')
        named = await client.execute(
            "query Q { hello } mutation M { addBooks(titles: []) { id } }", operation_name="Q"
        )
    assert query.data == {"hello": "Hello, get!"}
    assert mutation.data == {"addBooks": [{"title": "a"}]}
    assert named.data == {"hello": "Hello, world!"}
    assert [r.method for r in server.endpoint.requests] == ["GET", "POST", "GET"]
    assert server.endpoint.requests[0].headers["Accept"] == ACCEPT


async def test_static_headers_are_sent(server: Server) -> None:
    headers = {"Authorization": "Bearer static", "X-Trace": "1"}
    async with AIOHTTPClient(server.url, headers=headers) as client:
        result = await client.execute("{ whoami }")
    assert result.data == {"whoami": "Bearer static"}
    assert server.endpoint.requests[0].headers["X-Trace"] == "1"


async def test_async_header_provider_is_asked_per_request(server: Server) -> None:
    calls = 0

    async def auth() -> dict[str, str]:
        nonlocal calls
        calls += 1
        return {"Authorization": f"Bearer token-{calls}"}

    async with AIOHTTPClient(server.url, headers=auth) as client:
        first = await client.execute("{ whoami }")
        second = await client.execute("{ whoami }")
    assert first.data == {"whoami": "Bearer token-1"}
    assert second.data == {"whoami": "Bearer token-2"}


async def test_timeout_raises_a_timeout_error_naming_the_url(server: Server) -> None:
    url = server.route("/slow")
    async with AIOHTTPClient(url, timeout=0.2) as client:
        with pytest.raises(TransportTimeoutError) as caught:
            await client.execute("{ hello }")
    assert caught.value.url == url
    assert url in str(caught.value)
    assert isinstance(caught.value, TimeoutError)  # also the builtin, for plain `except`


async def test_without_a_timeout_the_sessions_own_applies(server: Server) -> None:
    url = server.route("/slow")
    short = aiohttp.ClientTimeout(total=0.2)
    async with (
        aiohttp.ClientSession(timeout=short) as session,
        AIOHTTPClient(url, session=session) as client,
    ):
        with pytest.raises(TransportTimeoutError):
            # Bounded here: without the session's timeout the request would wait forever.
            await asyncio.wait_for(client.execute("{ hello }"), 10)
    async with AIOHTTPClient(server.url) as client:
        assert client.backend.client_session.timeout == DEFAULT_TIMEOUT


async def test_user_session_is_borrowed_not_closed(server: Server) -> None:
    async with aiohttp.ClientSession() as session:
        async with AIOHTTPClient(server.url, session=session) as client:
            assert client.backend.client_session is session
            await client.execute("{ hello }")
        assert not session.closed
        # Still usable after the client is gone.
        async with session.post(server.url, json={"query": "{ hello }"}) as response:
            assert response.status == 200


async def test_own_session_is_pooled_and_closed(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        await client.execute("{ hello }")
        session = client.backend.client_session
        await client.execute("{ hello }")
        assert client.backend.client_session is session  # one pool for every request
        assert not session.closed
    assert session.closed


async def test_close_is_idempotent_and_the_client_reopens(server: Server) -> None:
    client = AIOHTTPClient(server.url)
    await client.execute("{ hello }")
    await client.close()
    await client.close()
    result = await client.execute("{ hello }")
    assert result.data == {"hello": "Hello, world!"}
    await client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_names_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/graphql"
    async with AIOHTTPClient(url) as client:
        with pytest.raises(ConnectionFailedError) as caught:
            await client.execute("{ hello }")
    assert caught.value.url == url
    assert url in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectionError)


async def test_non_json_body_carries_status_and_body(server: Server) -> None:
    async with AIOHTTPClient(server.route("/not-json")) as client:
        with pytest.raises(InvalidResponseError) as caught:
            await client.execute("{ hello }")
    assert caught.value.status == 200
    assert caught.value.body == "<html>oops</html>"
    assert "not valid JSON" in caught.value.reason


async def test_json_of_the_wrong_shape_is_an_invalid_response(server: Server) -> None:
    async with AIOHTTPClient(server.route("/wrong-shape")) as client:
        with pytest.raises(InvalidResponseError, match="'data' must be an object"):
            await client.execute("{ hello }")


async def test_http_status_error_carries_status_body_and_headers(server: Server) -> None:
    async with AIOHTTPClient(server.route("/bad-gateway")) as client:
        with pytest.raises(HTTPStatusError) as caught:
            await client.execute("{ hello }")
    error = caught.value
    assert error.status == 502
    assert error.body == "upstream down"
    assert error.headers["Content-Type"].startswith("text/plain")
    assert "502" in str(error)
    assert isinstance(error, TransportError)


async def test_non_2xx_application_json_is_not_trusted(server: Server) -> None:
    # The spec: a non-2xx application/json body may come from an intermediary.
    async with AIOHTTPClient(server.route("/proxy-json-error")) as client:
        with pytest.raises(HTTPStatusError) as caught:
            await client.execute("{ hello }")
    assert caught.value.status == 429
    assert "rate limited" in caught.value.body


async def test_legacy_400_json_with_request_errors_is_a_response(server: Server) -> None:
    async with AIOHTTPClient(server.route("/legacy-400")) as client:
        result = await client.execute("{ nope }")
    assert result.data is None
    assert result.errors == [{"message": "Cannot query field 'nope' on type 'Query'."}]


async def test_4xx_graphql_response_is_a_response_not_a_transport_error(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        result = await client.execute("{ nope }")
    assert result.data is None
    assert result.errors is not None
    assert "Cannot query field 'nope'" in result.errors[0]["message"]


async def test_graphql_errors_do_not_raise_unless_asked(server: Server) -> None:
    query = "{ partial { id title } }"
    async with AIOHTTPClient(server.url) as client:
        result = await client.execute(query)
        assert result.errors is not None
        assert result.errors[0]["message"] == "title is unavailable"
        with pytest.raises(GraphQLResponseError) as caught:
            await client.execute(query, raise_on_errors=True)
    assert caught.value.data == result.data  # the partial data travels with the error
    assert caught.value.errors[0]["path"] == ["partial", "title"]


async def test_extensions_are_sent(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        await client.execute("{ hello }", extensions={"trace": True})
    payload = server.endpoint.requests[0].payload
    assert payload is not None
    assert payload["extensions"] == {"trace": True}


async def test_a_json_serialize_given_encodes_every_body(server: Server) -> None:
    seen: list[object] = []

    def serialize(value: object) -> str:
        seen.append(value)
        return json.dumps(value, sort_keys=True)

    async with AIOHTTPClient(server.url, json_serialize=serialize) as client:
        result = await client.execute("query($n: Int!) { books(count: $n) { id } }", {"n": 1})
    assert result.data == {"books": [{"id": "1"}]}
    assert seen == [{"query": "query($n: Int!) { books(count: $n) { id } }", "variables": {"n": 1}}]


async def test_a_variable_json_cannot_carry_fails_before_sending(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        with pytest.raises(ValueError, match="Out of range float"):
            await client.execute("query($x: Float) { hello }", {"x": float("nan")})
    assert server.endpoint.requests == []


async def test_a_reassigned_endpoint_takes_the_next_request(server: Server) -> None:
    backend = AIOHTTPBackend(server.url)
    try:
        first = await backend.execute_query(GraphQLRequest("{ hello }"))
        backend.endpoint = server.route("/bad-gateway")
        with pytest.raises(HTTPStatusError) as caught:
            await backend.execute_query(GraphQLRequest("{ hello }"))
    finally:
        await backend.close()
    assert first.data == {"hello": "Hello, world!"}
    assert caught.value.status == 502
    assert caught.value.url == server.route("/bad-gateway")


@pytest.mark.parametrize("url", ["http://host:99999/", "http://:80/", "not a url at all"])
async def test_an_endpoint_that_is_no_url_is_a_transport_error(url: str) -> None:
    async with AIOHTTPClient(url) as client:
        with pytest.raises(TransportError, match=r"Request to .* failed"):
            await client.execute("{ hello }")


async def test_backend_seed_api_executes(server: Server) -> None:
    backend = AIOHTTPBackend(server.url)
    request = GraphQLRequest(query="{ hello }", variables={"unused": 1})
    assert backend.make_payload(request) == {"query": "{ hello }", "variables": {"unused": 1}}
    try:
        query = await backend.execute_query(GraphQLRequest(query="{ hello }"))
        mutation = await backend.execute_mutation(
            GraphQLRequest(query='mutation { addBooks(titles: ["x"]) { id } }')
        )
    finally:
        await backend.close()
    assert query.data == {"hello": "Hello, world!"}
    assert mutation.data == {"addBooks": [{"id": "0"}]}


async def test_client_rejects_backend_options_next_to_a_backend(server: Server) -> None:
    backend = AIOHTTPBackend(server.url)
    with pytest.raises(TypeError, match="timeout"):
        AIOHTTPClient(backend, timeout=3)
    await backend.close()
