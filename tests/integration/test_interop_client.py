"""The clew client against servers nobody on this project wrote: Node, Ariadne, Strawberry.

Every scenario runs against every peer server and every subprotocol it serves. Where a peer
lacks a feature, `peers/capabilities.py` says so and why, and the test asserts what the peer
does instead, so the table stays true and the client is shown to cope with it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager

import pytest

from clew.client import (
    AIOHTTPClient,
    GraphQLResponseError,
    OperationStream,
    SubscriptionError,
    WebSocketClosedError,
)
from clew.protocol.http import GraphQLResponse

from .peers.capabilities import Feature, Peer, peers_with, support
from .servers import RunningServer

PeerServer = Callable[[Peer], RunningServer]

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

#: Every (peer, subprotocol) pair a peer serves, from the capability table.
WS_CASES = [
    pytest.param(peer, TRANSPORT_WS, id=f"{peer.value}-{TRANSPORT_WS}")
    for peer in peers_with(Feature.TRANSPORT_WS)
] + [
    pytest.param(peer, LEGACY_WS, id=f"{peer.value}-{LEGACY_WS}")
    for peer in peers_with(Feature.LEGACY_WS)
]
HTTP_PEERS = peers_with(Feature.HTTP)

#: Bounds each test's waiting on a peer; reached only when something is broken.
WAIT = 10.0

PUBLISH = "mutation P($room: String!, $text: String!) { publish(room: $room, text: $text) }"
#: graphql-js quotes names with ", graphql-core with '.
UNKNOWN_FIELD = re.compile(r"Cannot query field [\"']nope[\"'] on type [\"'](Query|Subscription)")


def _ws_client(
    server: RunningServer, protocol: str, *, token: str | None = None, retry: bool = False
) -> AIOHTTPClient:
    """A client sending everything over one WebSocket offering only protocol.

    Without retry a lost socket fails the test at once instead of being reconnected.
    """
    return AIOHTTPClient(
        server.http_url,
        subscription_protocols=(protocol,),
        use_websocket_for_queries=True,
        connection_params=None if token is None else {"token": token},
        websocket_options={} if retry else {"retry": {"max_attempts": 0}},
    )


@asynccontextmanager
async def _ws(
    server: RunningServer, protocol: str, *, token: str | None = None, retry: bool = False
) -> AsyncIterator[AIOHTTPClient]:
    async with asyncio.timeout(WAIT), _ws_client(server, protocol, token=token, retry=retry) as c:
        yield c


async def _drain(stream: OperationStream) -> list[GraphQLResponse]:
    async with aclosing(stream):
        return [response async for response in stream]


async def _drain_into(stream: OperationStream, received: list[GraphQLResponse]) -> None:
    """Like `_drain`, keeping what arrived before an exception."""
    async with aclosing(stream):
        async for response in stream:
            received.append(response)


async def _take(stream: OperationStream, count: int) -> list[GraphQLResponse]:
    """The first count results; then stop the operation (early unsubscribe)."""
    taken: list[GraphQLResponse] = []
    async with aclosing(stream):
        async for response in stream:
            taken.append(response)
            if len(taken) == count:
                break
    return taken


async def _publish_until(server: RunningServer, room: str, text: str, *, delivered: bool) -> None:
    """Publish over HTTP until the peer reports that it did (or did not) reach a subscriber.

    ``publish`` answers whether anyone listened, so this observes the server's subscriptions:
    delivered=True waits until one is live, delivered=False until the server has dropped it.
    """
    async with AIOHTTPClient(server.http_url) as http:
        for _ in range(250):
            response = await http.execute(PUBLISH, {"room": room, "text": text})
            assert response.errors is None, response.errors
            if response.data == {"publish": delivered}:
                return
            await asyncio.sleep(0.02)
    pytest.fail(f"publish to {room!r} never reported delivered={delivered}")


def _messages(errors: object) -> list[str]:
    assert isinstance(errors, list | tuple), errors
    return [error["message"] for error in errors]


def _legacy_queries_refused(peer: Peer, protocol: str) -> bool:
    return protocol == LEGACY_WS and not support(peer, Feature.LEGACY_WS_QUERIES).supported


# -- GraphQL over HTTP -------------------------------------------------------------------------


@pytest.mark.parametrize("peer", HTTP_PEERS)
async def test_http_query_with_variables_and_auth(peer: Peer, peer_server: PeerServer) -> None:
    server = peer_server(peer)
    headers = {"Authorization": "Bearer http-token"}
    async with (
        asyncio.timeout(WAIT),
        AIOHTTPClient(server.http_url, headers=headers) as client,
        AIOHTTPClient(server.http_url) as anonymous,
    ):
        response = await client.execute(
            "query Q($name: String, $a: Int!, $b: Int!) { hello(name: $name) add(a: $a, b: $b) "
            "whoami }",
            {"name": "clew", "a": 2, "b": 40},
            "Q",
        )
        nobody = await anonymous.execute("{ whoami hello }")
    assert response == GraphQLResponse(
        data={"hello": "Hello, clew!", "add": 42, "whoami": "http-token"}
    )
    assert nobody == GraphQLResponse(data={"whoami": None, "hello": "Hello, world!"})


@pytest.mark.parametrize("peer", HTTP_PEERS)
async def test_http_mutation(peer: Peer, peer_server: PeerServer) -> None:
    async with asyncio.timeout(WAIT), AIOHTTPClient(peer_server(peer).http_url) as client:
        response = await client.execute(
            "mutation M($m: String!) { echo(message: $m) }", {"m": "over http"}
        )
    assert response == GraphQLResponse(data={"echo": "over http"})


@pytest.mark.parametrize("peer", HTTP_PEERS)
async def test_http_resolver_error(peer: Peer, peer_server: PeerServer) -> None:
    async with asyncio.timeout(WAIT), AIOHTTPClient(peer_server(peer).http_url) as client:
        response = await client.execute("{ fail hello }")
        with pytest.raises(GraphQLResponseError) as caught:
            await client.execute("{ fail }", raise_on_errors=True)
    assert response.data == {"fail": None, "hello": "Hello, world!"}
    assert response.errors is not None
    assert _messages(response.errors) == ["boom"]
    assert response.errors[0].get("path") == ["fail"]
    assert _messages(caught.value.errors) == ["boom"]
    assert caught.value.data == {"fail": None}


@pytest.mark.parametrize("peer", HTTP_PEERS)
async def test_http_validation_error(peer: Peer, peer_server: PeerServer) -> None:
    async with asyncio.timeout(WAIT), AIOHTTPClient(peer_server(peer).http_url) as client:
        response = await client.execute("{ nope }")
    assert response.data is None
    assert response.errors is not None
    assert len(response.errors) == 1
    assert UNKNOWN_FIELD.match(response.errors[0]["message"])
    # The client reports faithfully whether the peer sent a `data` entry.
    assert (
        response.data_present
        is not support(peer, Feature.HTTP_REQUEST_ERROR_WITHOUT_DATA).supported
    )


# -- GraphQL over WebSocket: queries and mutations -----------------------------------------------


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_query_with_variables(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    query = "query Q($name: String, $a: Int!, $b: Int!) { hello(name: $name) add(a: $a, b: $b) }"
    variables = {"name": "ws", "a": 1, "b": 2}
    async with _ws(peer_server(peer), protocol) as client:
        if _legacy_queries_refused(peer, protocol):
            refused = await client.execute(query, variables)
            assert refused.data is None
            assert _messages(refused.errors) == ["queries are not allowed"]
            return
        # Also where the peer never sends `complete` for a query (LEGACY_WS_SINGLE_RESULT):
        # the client takes the one result and stops the operation itself.
        response = await client.execute(query, variables, "Q")
        second = await client.execute("{ add(a: 20, b: 22) }")
    assert response == GraphQLResponse(data={"hello": "Hello, ws!", "add": 3})
    assert second == GraphQLResponse(data={"add": 42})


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_mutation(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    mutation = "mutation M($m: String!) { echo(message: $m) }"
    async with _ws(peer_server(peer), protocol) as client:
        if _legacy_queries_refused(peer, protocol):
            refused = await client.execute(mutation, {"m": "over ws"})
            assert refused.data is None
            assert _messages(refused.errors) == ["mutations are not allowed"]
            return
        response = await client.execute(mutation, {"m": "over ws"})
    assert response == GraphQLResponse(data={"echo": "over ws"})


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_resolver_error(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    async with _ws(peer_server(peer), protocol) as client:
        if _legacy_queries_refused(peer, protocol):
            with pytest.raises(GraphQLResponseError, match="queries are not allowed"):
                await client.execute("{ fail }", raise_on_errors=True)
            return
        response = await client.execute("{ fail hello }")
        with pytest.raises(GraphQLResponseError) as caught:
            await client.execute("{ fail }", raise_on_errors=True)
    assert response.data == {"fail": None, "hello": "Hello, world!"}
    assert _messages(response.errors) == ["boom"]
    assert caught.value.data == {"fail": None}


# -- GraphQL over WebSocket: subscriptions -------------------------------------------------------


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_subscription_to_completion(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    async with _ws(peer_server(peer), protocol) as client:
        results = await _drain(
            client.subscribe("subscription S($to: Int!) { count(to: $to) }", {"to": 3})
        )
        # Two at once on the one socket, each to its own end.
        slow, fast = await asyncio.gather(
            _drain(client.subscribe("subscription { count(to: 4, delayMs: 5) }")),
            _drain(client.subscribe("subscription { count(to: 2) }")),
        )
    assert results == [GraphQLResponse(data={"count": n}) for n in (1, 2, 3)]
    assert [r.data for r in slow] == [{"count": n} for n in (1, 2, 3, 4)]
    assert [r.data for r in fast] == [{"count": n} for n in (1, 2)]


async def _listen(client: AIOHTTPClient, server: RunningServer, room: str) -> OperationStream:
    """A live `messages(room)` subscription: its first message, "live", has been received."""
    stream = client.subscribe(f'subscription {{ messages(room: "{room}") }}')
    first = asyncio.ensure_future(anext(stream))
    await _publish_until(server, room, "live", delivered=True)
    assert await first == GraphQLResponse(data={"messages": "live"})
    return stream


def _stops_cleanly(peer: Peer, protocol: str) -> bool:
    return protocol == TRANSPORT_WS or support(peer, Feature.LEGACY_WS_STOP).supported


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_early_unsubscribe(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    server = peer_server(peer)
    room = f"clew-client-unsubscribe-{peer.value}-{protocol}"
    async with _ws(server, protocol) as client:
        bystander = await _listen(client, server, f"{room}-bystander")
        stopped = await _listen(client, server, room)
        await stopped.aclose()
        if not _stops_cleanly(peer, protocol):
            # Documented gap (Ariadne): the peer crashes on `stop` and the socket vanishes.
            with pytest.raises(WebSocketClosedError) as caught:
                await anext(bystander)
            assert caught.value.close_code == 1006
            return
        # The peer's own bookkeeping shows the stop reached it: publish finds nobody listening,
        # while the other subscription on the same socket still receives.
        await _publish_until(server, room, "anyone?", delivered=False)
        await _publish_until(server, f"{room}-bystander", "still here", delivered=True)
        assert await anext(bystander) == GraphQLResponse(data={"messages": "still here"})
        await bystander.aclose()

        # Stopping a subscription that is busy producing values works the same way.
        endless = await _take(client.subscribe("subscription { count(to: 100000, delayMs: 5) }"), 2)
        again = await _drain(client.subscribe("subscription { count(to: 2) }"))
    assert [r.data for r in endless] == [{"count": 1}, {"count": 2}]
    assert [r.data for r in again] == [{"count": 1}, {"count": 2}]


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_publish_reaches_messages(
    peer: Peer, protocol: str, peer_server: PeerServer
) -> None:
    server = peer_server(peer)
    room = f"clew-client-publish-{peer.value}-{protocol}"
    async with _ws(server, protocol) as client:
        stream = client.subscribe(
            "subscription R($room: String!) { messages(room: $room) }", {"room": room}
        )
        async with aclosing(stream):
            first = asyncio.ensure_future(anext(stream))
            await _publish_until(server, room, "one", delivered=True)
            await _publish_until(server, room, "two", delivered=True)
            received = [await first, await anext(stream)]
    assert [r.data for r in received] == [{"messages": "one"}, {"messages": "two"}]


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_subscription_error(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    feature = (
        Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE
        if protocol == TRANSPORT_WS
        else Feature.LEGACY_WS_SOURCE_ERROR_MESSAGE
    )
    received: list[GraphQLResponse] = []
    async with _ws(peer_server(peer), protocol) as client:
        stream = client.subscribe("subscription { failAfter(n: 2) }")
        if support(peer, feature).supported:
            with pytest.raises(SubscriptionError) as caught:
                await _drain_into(stream, received)
            assert _messages(caught.value.errors) == ["boom"]
        else:
            # Documented gap: the error comes as one more result, then the operation completes.
            received = await _drain(stream)
            last = received.pop()
            assert last.data is None
            assert _messages(last.errors) == ["boom"]
        # The error ended one operation, not the socket.
        after = await _drain(client.subscribe("subscription { count(to: 1) }"))
    assert [r.data for r in received] == [{"failAfter": 1}, {"failAfter": 2}]
    assert [r.data for r in after] == [{"count": 1}]


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_validation_error(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    async with _ws(peer_server(peer), protocol) as client:
        stream = client.subscribe("subscription { nope }")
        if protocol == LEGACY_WS and support(peer, Feature.LEGACY_WS_VALIDATION_AS_DATA).supported:
            results = await _drain(stream)
            assert len(results) == 1
            assert results[0].data is None
            errors = results[0].errors
        else:
            with pytest.raises(SubscriptionError) as caught:
                await _drain(stream)
            errors = list(caught.value.errors)
        after = await _drain(client.subscribe("subscription { count(to: 1) }"))
    assert errors is not None
    assert len(errors) == 1
    assert UNKNOWN_FIELD.match(errors[0]["message"])
    assert [r.data for r in after] == [{"count": 1}]


# -- connection_init authentication -------------------------------------------------------------


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_auth_accepted(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    async with _ws(peer_server(peer), protocol, token="ws-token") as client:
        counted = await _drain(client.subscribe("subscription { count(to: 1) }"))
        if not _legacy_queries_refused(peer, protocol):
            whoami = await client.execute("{ whoami }")
            assert whoami == GraphQLResponse(data={"whoami": "ws-token"})
    assert [r.data for r in counted] == [{"count": 1}]


@pytest.mark.parametrize(("peer", "protocol"), WS_CASES)
async def test_ws_auth_rejected(peer: Peer, protocol: str, peer_server: PeerServer) -> None:
    # With the default retry policy: a rejection must end in one clear error, not a retry loop.
    async with _ws(peer_server(peer), protocol, token="wrong", retry=True) as client:
        with pytest.raises(WebSocketClosedError) as caught:
            await _drain(client.subscribe("subscription { count(to: 1) }"))
    error = caught.value
    if protocol == LEGACY_WS:
        # Legacy `connection_error` is reported as 4403 too, so one policy covers both.
        assert support(peer, Feature.LEGACY_WS_CONNECTION_ERROR).supported
        assert error.close_code == 4403
        assert "Forbidden" in error.reason
    elif support(peer, Feature.TRANSPORT_WS_REJECT_4403).supported:
        assert (error.close_code, error.reason) == (4403, "Forbidden")
    else:
        # Documented gap (Ariadne): a plain 1000 close, which the client does not retry either.
        assert error.close_code == 1000
