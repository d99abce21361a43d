"""Prove every third-party peer works with third-party clients, so later failures are clew's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.websockets import WebsocketsTransport
from graphql import build_client_schema, build_schema, get_introspection_query, print_schema
from websockets.exceptions import ConnectionClosed

from .peers.capabilities import (
    CAPABILITIES,
    Feature,
    Peer,
    peers_with,
    peers_without,
)
from .schema import SDL
from .servers import RunningServer, run_node_client

PeerServer = Callable[[Peer], RunningServer]

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
#: (peer, subprotocol) pairs a peer serves, from the capability table.
WS_PEERS = [(p, TRANSPORT_WS) for p in peers_with(Feature.TRANSPORT_WS)] + [
    (p, LEGACY_WS) for p in peers_with(Feature.LEGACY_WS)
]
#: The same, for queries and mutations over the socket.
WS_SINGLE_RESULT_PEERS = [(p, TRANSPORT_WS) for p in peers_with(Feature.TRANSPORT_WS)] + [
    (p, LEGACY_WS) for p in peers_with(Feature.LEGACY_WS, Feature.LEGACY_WS_SINGLE_RESULT)
]


def _ws_transport(
    server: RunningServer, protocol: str, init_payload: dict[str, object] | None = None
) -> WebsocketsTransport:
    # gql's one WebSocket transport speaks both subprotocols; offering one pins it.
    subprotocol = (
        WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
        if protocol == TRANSPORT_WS
        else WebsocketsTransport.APOLLO_SUBPROTOCOL
    )
    return WebsocketsTransport(
        url=server.ws_url, subprotocols=[subprotocol], init_payload=init_payload or {}
    )


@asynccontextmanager
async def _session(
    server: RunningServer, protocol: str, init_payload: dict[str, object] | None = None
) -> AsyncIterator[AsyncClientSession]:
    async with Client(transport=_ws_transport(server, protocol, init_payload)) as session:
        yield session


def _request(query: str, **variables: object) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables or None)


# -- the capability table ------------------------------------------------------------------


def test_capability_table_is_complete_and_explains_every_gap() -> None:
    assert set(CAPABILITIES) == set(Peer)
    for peer, row in CAPABILITIES.items():
        assert set(row) == set(Feature), peer
        for feature, entry in row.items():
            assert entry.supported or entry.reason, (peer, feature)
    # The Node peer is the reference: it supports everything.
    assert peers_without(Feature.TRANSPORT_WS) == [Peer.ARIADNE_LEGACY_WS]


# -- every peer serves exactly schema.graphql ---------------------------------------------


@pytest.mark.parametrize("peer", list(Peer))
async def test_peer_serves_the_shared_sdl(peer: Peer, peer_server: PeerServer) -> None:
    server = peer_server(peer)
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.http_url, json={"query": get_introspection_query()}) as response,
    ):
        assert response.status == 200
        body = await response.json(content_type=None)
    served = print_schema(build_client_schema(body["data"]))
    assert served == print_schema(build_schema(SDL))


# -- gql over HTTP ----------------------------------------------------------------------------


@pytest.mark.parametrize("peer", peers_with(Feature.HTTP))
async def test_gql_http_query_and_mutation(peer: Peer, peer_server: PeerServer) -> None:
    transport = AIOHTTPTransport(
        url=peer_server(peer).http_url, headers={"Authorization": "Bearer http-token"}
    )
    async with Client(transport=transport) as session:
        query = _request(
            "query Q($name: String) { hello(name: $name) add(a: 2, b: 40) whoami }", name="gql"
        )
        assert await session.execute(query) == {
            "hello": "Hello, gql!",
            "add": 42,
            "whoami": "http-token",
        }
        assert await session.execute(_request("{ hello }")) == {"hello": "Hello, world!"}
        mutation = _request("mutation M($m: String!) { echo(message: $m) }", m="ping")
        assert await session.execute(mutation) == {"echo": "ping"}
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(_request("{ fail }"))
        assert caught.value.errors is not None
        assert [e["message"] for e in caught.value.errors] == ["boom"]
        assert caught.value.data == {"fail": None}


# -- gql over WebSocket -----------------------------------------------------------------------


@pytest.mark.parametrize(("peer", "protocol"), WS_SINGLE_RESULT_PEERS)
async def test_gql_ws_query_and_mutation(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    async with _session(peer_server(peer), protocol, {"token": "ws-token"}) as session:
        result = await session.execute(_request('{ hello(name: "ws") whoami }'))
        assert result == {"hello": "Hello, ws!", "whoami": "ws-token"}
        mutation = _request("mutation M($m: String!) { echo(message: $m) }", m="over ws")
        assert await session.execute(mutation) == {"echo": "over ws"}


@pytest.mark.parametrize(("peer", "protocol"), WS_PEERS)
async def test_gql_ws_subscription_to_completion(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    async with _session(peer_server(peer), protocol) as session:
        request = _request("subscription S($to: Int!) { count(to: $to, delayMs: 1) }", to=4)
        values = [event["count"] async for event in session.subscribe(request)]
    assert values == [1, 2, 3, 4]


@pytest.mark.parametrize(("peer", "protocol"), WS_PEERS)
async def test_gql_ws_subscription_sees_published_messages(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    server = peer_server(peer)
    room = f"gql-{peer.value}-{protocol}"
    async with _session(server, protocol) as session:
        events = session.subscribe(_request(f'subscription {{ messages(room: "{room}") }}'))
        first = asyncio.ensure_future(anext(events))
        async with aiohttp.ClientSession() as http:
            # publish reports whether anyone listened: repeat until the subscription is live.
            for _ in range(200):
                body = {"query": f'mutation {{ publish(room: "{room}", text: "hi") }}'}
                async with http.post(server.http_url, json=body) as response:
                    if (await response.json(content_type=None))["data"]["publish"]:
                        break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the messages subscription never started listening")
        assert await asyncio.wait_for(first, 10) == {"messages": "hi"}
        await events.aclose()


@pytest.mark.parametrize("peer", peers_with(Feature.TRANSPORT_WS_REJECT_4403))
async def test_gql_transport_ws_auth_rejection(peer: Peer, peer_server: PeerServer) -> None:
    with pytest.raises(TransportConnectionFailed) as caught:
        async with _session(peer_server(peer), TRANSPORT_WS, {"token": "wrong"}) as session:
            await session.execute(_request("{ hello }"))
    closed = caught.value.__cause__
    assert isinstance(closed, ConnectionClosed)
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4403, "Forbidden")


@pytest.mark.parametrize("peer", peers_with(Feature.LEGACY_WS_CONNECTION_ERROR))
async def test_gql_legacy_ws_auth_rejection(peer: Peer, peer_server: PeerServer) -> None:
    with pytest.raises(TransportServerError, match="Forbidden"):
        async with _session(peer_server(peer), LEGACY_WS, {"token": "wrong"}) as session:
            await session.execute(_request("{ hello }"))


# -- the Node client against every peer ---------------------------------------------------------


def _events(lines: list[dict[str, object]], op: str) -> list[dict[str, object]]:
    return [line for line in lines if line.get("id") == op]


def _closes(lines: list[dict[str, object]]) -> list[object]:
    return [line["code"] for line in lines if line.get("event") == "closed"]


@pytest.mark.parametrize(("peer", "protocol"), WS_PEERS)
def test_node_client_subscriptions(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    server = peer_server(peer)
    scenario = {
        "operations": [
            {"id": "count", "query": "subscription { count(to: 3) }"},
            {"id": "early", "query": "subscription { count(to: 1000, delayMs: 5) }", "take": 2},
        ],
    }
    lines = run_node_client(server.ws_url, protocol, scenario)
    assert [e["event"] for e in _events(lines, "count")] == ["next"] * 3 + ["complete"]
    assert [e["payload"] for e in _events(lines, "count")[:3]] == [
        {"data": {"count": n}} for n in (1, 2, 3)
    ]
    assert [e["event"] for e in _events(lines, "early")] == ["next", "next", "unsubscribed"]
    assert lines[0] == {"event": "connected", "payload": None}
    assert _closes(lines) != []


@pytest.mark.parametrize(("peer", "protocol"), WS_SINGLE_RESULT_PEERS)
def test_node_client_query_mutation_and_publish(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    server = peer_server(peer)
    room = f"node-pub-{peer.value}-{protocol}"
    scenario = {
        "connectionParams": {"token": "node-token"},
        "concurrent": True,
        "operations": [
            {
                "id": "q",
                "query": "query Q($n: String) { hello(name: $n) whoami }",
                "variables": {"n": "node"},
            },
            {"id": "m", "query": 'mutation { echo(message: "hey") }'},
            {"id": "sub", "query": f'subscription {{ messages(room: "{room}") }}', "take": 1},
            {
                "id": "pub",
                "query": f'mutation {{ publish(room: "{room}", text: "hello room") }}',
                "until": {"publish": True},
            },
        ],
    }
    lines = run_node_client(server.ws_url, protocol, scenario)
    assert _events(lines, "q") == [
        {
            "id": "q",
            "event": "next",
            "payload": {"data": {"hello": "Hello, node!", "whoami": "node-token"}},
        },
        {"id": "q", "event": "complete"},
    ]
    assert _events(lines, "m") == [
        {"id": "m", "event": "next", "payload": {"data": {"echo": "hey"}}},
        {"id": "m", "event": "complete"},
    ]
    assert _events(lines, "sub") == [
        {"id": "sub", "event": "next", "payload": {"data": {"messages": "hello room"}}},
        {"id": "sub", "event": "unsubscribed"},
    ]
    assert _events(lines, "pub")[-2:] == [
        {"id": "pub", "event": "next", "payload": {"data": {"publish": True}}},
        {"id": "pub", "event": "complete"},
    ]


@pytest.mark.parametrize("peer", peers_with(Feature.TRANSPORT_WS_REJECT_4403))
def test_node_client_transport_ws_rejection(peer: Peer, peer_server: PeerServer) -> None:
    scenario = {"connectionParams": {"token": "wrong"}, "operations": [{"query": "{ hello }"}]}
    lines = run_node_client(peer_server(peer).ws_url, TRANSPORT_WS, scenario)
    assert {"event": "closed", "code": 4403, "reason": "Forbidden"} in lines
    assert _events(lines, "0") == [
        {"id": "0", "event": "error", "close": {"code": 4403, "reason": "Forbidden"}}
    ]


@pytest.mark.parametrize("peer", peers_with(Feature.LEGACY_WS_CONNECTION_ERROR))
def test_node_client_legacy_ws_rejection(peer: Peer, peer_server: PeerServer) -> None:
    scenario = {
        "connectionParams": {"token": "wrong"},
        "operations": [{"query": "subscription { count(to: 1) }"}],
    }
    lines = run_node_client(peer_server(peer).ws_url, LEGACY_WS, scenario)
    assert {"event": "connection_error", "payload": {"message": "Forbidden"}} in lines
    assert not any(line.get("event") in {"connected", "next"} for line in lines)


# -- documented gaps still behave as the table says ---------------------------------------------


@pytest.mark.parametrize(
    "peer",
    [
        p
        for p in peers_with(Feature.TRANSPORT_WS)
        if p in peers_without(Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE)
    ],
)
def test_source_error_gap(peer: Peer, peer_server: PeerServer) -> None:
    scenario = {"operations": [{"id": "f", "query": "subscription { failAfter(n: 2) }"}]}
    lines = run_node_client(peer_server(peer).ws_url, TRANSPORT_WS, scenario)
    events = _events(lines, "f")
    assert [e["event"] for e in events] == ["next", "next", "next", "complete"]
    last = events[2]["payload"]
    assert isinstance(last, dict)
    assert [e["message"] for e in last["errors"]] == ["boom"]


@pytest.mark.parametrize("peer", peers_with(Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE))
def test_source_error_is_an_error_message(peer: Peer, peer_server: PeerServer) -> None:
    scenario = {"operations": [{"id": "f", "query": "subscription { failAfter(n: 2) }"}]}
    lines = run_node_client(peer_server(peer).ws_url, TRANSPORT_WS, scenario)
    assert _events(lines, "f") == [
        {"id": "f", "event": "next", "payload": {"data": {"failAfter": 1}}},
        {"id": "f", "event": "next", "payload": {"data": {"failAfter": 2}}},
        {"id": "f", "event": "error", "errors": [{"message": "boom"}]},
    ]


def test_ariadne_transport_ws_rejection_gap(ariadne_transport_ws_server: RunningServer) -> None:
    scenario = {"connectionParams": {"token": "wrong"}, "operations": [{"query": "{ hello }"}]}
    lines = run_node_client(ariadne_transport_ws_server.ws_url, TRANSPORT_WS, scenario)
    assert _closes(lines)[0] == 1000
    assert not any(line.get("event") in {"connected", "next"} for line in lines)


def test_strawberry_legacy_single_result_gap(strawberry_server: RunningServer) -> None:
    scenario = {"operations": [{"id": "q", "query": "{ hello }"}]}
    lines = run_node_client(strawberry_server.ws_url, LEGACY_WS, scenario)
    assert _events(lines, "q") == [
        {"id": "q", "event": "error", "errors": [{"message": "queries are not allowed"}]}
    ]


def test_ariadne_legacy_single_result_gap(ariadne_legacy_ws_server: RunningServer) -> None:
    # One data message and no complete: the client gives up after a short bounded wait.
    scenario = {"timeoutMs": 300, "operations": [{"id": "q", "query": "{ hello }"}]}
    lines = run_node_client(ariadne_legacy_ws_server.ws_url, LEGACY_WS, scenario)
    assert _events(lines, "q") == [
        {"id": "q", "event": "next", "payload": {"data": {"hello": "Hello, world!"}}}
    ]
    assert {"event": "timeout"} in lines
    assert json.dumps(lines).count('"complete"') == 0
