"""The backend's seed API, and its seam to the WebSocket transport (driven by a scripted one)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from clew.client import (
    AIOHTTPBackend,
    AIOHTTPClient,
    GraphQLRequest,
    GraphQLResponseError,
    OperationStream,
    SchemaValidationError,
    WebSocketSettings,
)
from clew.protocol import JSONObject
from clew.protocol.http import GraphQLResponse

from .endpoint import SDL, Server


@pytest.mark.parametrize(
    ("http", "ws"),
    [
        ("http://127.0.0.1:8000/graphql", "ws://127.0.0.1:8000/graphql"),
        (
            "https://api.example.com/v1/graphql?tenant=a",
            "wss://api.example.com/v1/graphql?tenant=a",
        ),
        ("HTTPS://example.com/", "wss://example.com/"),
    ],
)
def test_adapt_to_websocket_endpoint(http: str, ws: str) -> None:
    assert AIOHTTPBackend.adapt_to_websocket_endpoint(http) == ws


@pytest.mark.parametrize("url", ["ws://example.com/graphql", "wss://e.com/", "ftp://x", "relative"])
def test_adapt_returns_any_other_url_unchanged(url: str) -> None:
    # qlient's documented behaviour: only http(s) URLs are rewritten.
    assert AIOHTTPBackend.adapt_to_websocket_endpoint(url) == url


def test_ws_endpoint_is_derived_unless_given() -> None:
    assert AIOHTTPBackend("https://h/graphql").ws_endpoint == "wss://h/graphql"
    assert AIOHTTPBackend("https://h/graphql", "wss://other/ws").ws_endpoint == "wss://other/ws"


def test_subscription_ids_are_unique_strings_from_a_class_method() -> None:
    backend = AIOHTTPBackend("http://127.0.0.1/graphql")
    other = AIOHTTPBackend("http://127.0.0.1/graphql")
    ids = [AIOHTTPBackend.generate_subscription_id() for _ in range(500)]
    ids += [backend.generate_subscription_id() for _ in range(250)]
    ids += [other.generate_subscription_id() for _ in range(250)]
    assert len(set(ids)) == 1000
    assert all(isinstance(i, str) and i for i in ids)


class ScriptedStream:
    """One operation's results from a list; records whether it was closed early."""

    def __init__(self, results: list[GraphQLResponse]) -> None:
        self._results = iter(results)
        self.closed = False

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        return self

    async def __anext__(self) -> GraphQLResponse:
        if self.closed:
            raise StopAsyncIteration
        try:
            return next(self._results)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self.closed = True


class ScriptedTransport:
    """Stands in for the WebSocket manager: answers each request with counter results."""

    def __init__(self, session: aiohttp.ClientSession, settings: WebSocketSettings) -> None:
        self.session = session
        self.settings = settings
        self.requests: list[GraphQLRequest] = []
        self.single_results: list[bool] = []
        self.streams: list[ScriptedStream] = []
        self.closed = False

    def subscribe(self, request: GraphQLRequest, *, single_result: bool) -> OperationStream:
        self.requests.append(request)
        self.single_results.append(single_result)
        upto = (request.variables or {}).get("upTo", 3)
        assert isinstance(upto, int)
        results = [GraphQLResponse(data={"counter": n}) for n in range(1, upto + 1)]
        if request.query.startswith("subscription failing"):
            results = [GraphQLResponse(data=None, errors=[{"message": "boom"}])]
        stream = ScriptedStream(results)
        self.streams.append(stream)
        return stream

    async def close(self) -> None:
        self.closed = True


class Factory:
    """Builds one `ScriptedTransport` and keeps it for inspection."""

    transport: ScriptedTransport | None = None

    def __call__(
        self, session: aiohttp.ClientSession, settings: WebSocketSettings
    ) -> ScriptedTransport:
        assert self.transport is None, "one transport per backend"
        self.transport = ScriptedTransport(session, settings)
        return self.transport


async def test_subscribe_goes_through_the_one_transport(server: Server) -> None:
    factory = Factory()

    async def params() -> JSONObject:
        return {"token": "t"}

    client = AIOHTTPClient(
        server.url,
        websocket_factory=factory,
        connection_params=params,
        headers={"Authorization": "Bearer x"},
        websocket_options={"keepalive": 5},
    )
    async with client:
        first = [r.data async for r in client.subscribe("subscription { counter }")]
        second = [
            r.data
            async for r in client.subscribe(
                "subscription($n: Int!) { counter(upTo: $n) }", {"upTo": 1}
            )
        ]
        transport = factory.transport
        assert transport is not None
        assert transport.session is client.backend.client_session  # one connection pool
    assert first == [{"counter": 1}, {"counter": 2}, {"counter": 3}]
    assert second == [{"counter": 1}]
    assert transport.closed  # closing the client closes the transport
    settings = transport.settings
    assert settings.url == AIOHTTPBackend.adapt_to_websocket_endpoint(server.url)
    assert settings.subprotocols == ("graphql-ws", "graphql-transport-ws")  # qlient's order
    # Asked on every connect, wrapped to add the current trace context (none here).
    assert callable(settings.connection_params)
    assert await settings.connection_params() == await params()
    assert settings.headers == {"Authorization": "Bearer x"}
    assert settings.options == {"keepalive": 5}
    assert settings.id_factory() != settings.id_factory()
    assert server.endpoint.requests == []  # nothing went over HTTP


async def test_subscription_proxy_builds_from_the_schema(server: Server) -> None:
    factory = Factory()
    async with AIOHTTPClient(server.url, schema=SDL, websocket_factory=factory) as client:
        stream = client.subscription.counter(upTo=3)
        received = []
        async for result in stream:
            received.append(result.data)
            if len(received) == 2:
                break
        await stream.aclose()
        with pytest.raises(SchemaValidationError, match="Argument 'upTo' of Subscription"):
            async for _ in client.subscription.counter(upTo="three"):
                pass
    assert factory.transport is not None
    (request,) = factory.transport.requests
    assert request.query == "subscription counter($upTo: Int!) { counter(upTo: $upTo) }"
    assert request.variables == {"upTo": 3}
    assert received == [{"counter": 1}, {"counter": 2}]
    assert factory.transport.streams[0].closed  # breaking out stops that operation only
    assert factory.transport.single_results == [False]  # the built operation's kind, passed on


async def test_subscribe_raise_on_errors(server: Server) -> None:
    factory = Factory()
    async with AIOHTTPClient(server.url, websocket_factory=factory) as client:
        quiet = [r async for r in client.subscribe("subscription failing { counter }")]
        with pytest.raises(GraphQLResponseError, match="boom"):
            async for _ in client.subscribe(
                "subscription failing { counter }", raise_on_errors=True
            ):
                pass
    assert quiet[0].errors == [{"message": "boom"}]
    assert factory.transport is not None
    assert factory.transport.streams[1].closed


async def test_queries_over_the_websocket_when_asked(server: Server) -> None:
    factory = Factory()
    backend = AIOHTTPBackend(server.url, websocket_factory=factory, use_websocket_for_queries=True)
    async with AIOHTTPClient(backend) as client:
        result = await client.execute("query { counter }", {"upTo": 5})
    assert result.data == {"counter": 1}
    assert factory.transport is not None
    assert factory.transport.streams[0].closed  # one result taken, then the operation ends
    assert factory.transport.single_results == [True]  # never re-sent after a drop
    assert server.endpoint.requests == []


async def test_custom_subprotocols_are_offered(server: Server) -> None:
    factory = Factory()
    backend = AIOHTTPBackend(
        server.url, subscription_protocols=["graphql-ws"], websocket_factory=factory
    )
    try:
        backend.execute_subscription(GraphQLRequest(query="subscription { counter }"))
    finally:
        await backend.close()
    assert factory.transport is not None
    assert factory.transport.settings.subprotocols == ("graphql-ws",)
