"""The clew server against clients nobody on this project wrote: gql (Python) and the Node clients.

gql runs its aiohttp HTTP transport and its WebSocket transport pinned to each subprotocol. The
Node reference clients (graphql-ws ``createClient``, subscriptions-transport-ws
``SubscriptionClient``) run one scripted scenario per subprotocol, once against clew and once
against the Node reference server, and each scenario's events are compared: clew must behave as
the reference does wherever the reference follows the protocol documents. The few places where
it differs on purpose are asserted separately, each with its reason.

The server (``peers/clew_app.py``) counts per connection_init token what it did, so tests also
check the server side, such as a subscription's generator being closed on unsubscribe.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final, final

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
from websockets.exceptions import ConnectionClosed

from .peers.clew_app import Stats, new_token, wait_for_stats
from .servers import RunningServer, run_node_client

TRANSPORT_WS: Final = "graphql-transport-ws"
LEGACY_WS: Final = "graphql-ws"
PROTOCOLS: Final = (TRANSPORT_WS, LEGACY_WS)

#: Bounds each test's waiting on the server; reached only when something is broken.
WAIT: Final = 10.0

PUBLISH: Final = "mutation P($room: String!, $text: String!) { publish(room: $room, text: $text) }"
#: graphql-js quotes names with ", graphql-core with '.
UNKNOWN_FIELD = re.compile(r"Cannot query field [\"']nope[\"'] on type [\"'](Query|Subscription)")


def _get(stats: Stats, counter: str, token: str) -> int:
    return stats[counter].get(token, 0)


def _request(query: str, **variables: object) -> GraphQLRequest:
    return GraphQLRequest(query, variable_values=variables or None)


async def _publish_until(server: RunningServer, room: str, text: str) -> None:
    """Publish over HTTP until the server reports a subscriber received it."""
    body = {"query": PUBLISH, "variables": {"room": room, "text": text}}
    async with aiohttp.ClientSession() as http:
        for _ in range(250):
            async with http.post(server.http_url, json=body) as response:
                if (await response.json(content_type=None))["data"]["publish"]:
                    return
            await asyncio.sleep(0.02)
    pytest.fail(f"nobody ever listened to {room!r}")


# -- gql over HTTP (aiohttp transport) -----------------------------------------------------------


@asynccontextmanager
async def _gql_http(
    server: RunningServer, headers: Mapping[str, str] | None = None
) -> AsyncIterator[AsyncClientSession]:
    transport = AIOHTTPTransport(url=server.http_url, headers=dict(headers or {}))
    async with asyncio.timeout(WAIT), Client(transport=transport) as session:
        yield session


async def test_gql_http_query_with_variables_and_auth(clew_server: RunningServer) -> None:
    async with _gql_http(clew_server, {"Authorization": "Bearer gql-token"}) as session:
        result = await session.execute(
            _request(
                "query Q($name: String, $a: Int!, $b: Int!) { hello(name: $name) "
                "add(a: $a, b: $b) whoami }",
                name="gql",
                a=2,
                b=40,
            )
        )
    assert result == {"hello": "Hello, gql!", "add": 42, "whoami": "gql-token"}


async def test_gql_http_mutation(clew_server: RunningServer) -> None:
    async with _gql_http(clew_server) as session:
        result = await session.execute(
            _request("mutation M($m: String!) { echo(message: $m) }", m="over http")
        )
    assert result == {"echo": "over http"}


async def test_gql_http_resolver_error(clew_server: RunningServer) -> None:
    async with _gql_http(clew_server) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(_request("{ fail hello }"))
    assert caught.value.data == {"fail": None, "hello": "Hello, world!"}
    assert caught.value.errors is not None
    assert [(e["message"], e["path"]) for e in caught.value.errors] == [("boom", ["fail"])]


async def test_gql_http_validation_error(clew_server: RunningServer) -> None:
    async with _gql_http(clew_server) as session:
        with pytest.raises(TransportQueryError) as caught:
            # gql validates locally only when it has the schema; this one goes to the server.
            await session.execute(_request("{ nope }"))
    assert caught.value.data is None
    assert caught.value.errors is not None
    assert [bool(UNKNOWN_FIELD.match(e["message"])) for e in caught.value.errors] == [True]


# -- gql over WebSocket (websockets transport, each subprotocol) --------------------------------


def _gql_ws_transport(server: RunningServer, protocol: str, token: str) -> WebsocketsTransport:
    subprotocol = (
        WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
        if protocol == TRANSPORT_WS
        else WebsocketsTransport.APOLLO_SUBPROTOCOL
    )
    return WebsocketsTransport(
        url=server.ws_url, subprotocols=[subprotocol], init_payload={"token": token}
    )


@asynccontextmanager
async def _gql_ws(
    server: RunningServer, protocol: str, token: str
) -> AsyncIterator[AsyncClientSession]:
    transport = _gql_ws_transport(server, protocol, token)
    async with asyncio.timeout(WAIT), Client(transport=transport) as session:
        assert transport.subprotocol == protocol
        yield session


async def _values(session: AsyncClientSession, query: str, **variables: object) -> list[object]:
    return [
        value
        async for result in session.subscribe(_request(query, **variables))
        for value in result.values()
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_query_and_mutation(protocol: str, clew_server: RunningServer) -> None:
    async with _gql_ws(clew_server, protocol, new_token()) as session:
        query = _request(
            "query Q($name: String, $a: Int!, $b: Int!) { hello(name: $name) add(a: $a, b: $b) }",
            name="ws",
            a=1,
            b=2,
        )
        result = await session.execute(query)
        mutation = _request("mutation M($m: String!) { echo(message: $m) }", m="over ws")
        echoed = await session.execute(mutation)
        # Iterated as a stream, a query ends only when the server sends `complete` after its
        # one result (gql's execute() stops reading after the first result).
        streamed = [result async for result in session.subscribe(_request("{ hello }"))]
    assert result == {"hello": "Hello, ws!", "add": 3}
    assert echoed == {"echo": "over ws"}
    assert streamed == [{"hello": "Hello, world!"}]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_subscription_to_completion(protocol: str, clew_server: RunningServer) -> None:
    token = new_token()
    async with _gql_ws(clew_server, protocol, token) as session:
        values = await _values(session, "subscription S($to: Int!) { count(to: $to) }", to=3)
    assert values == [1, 2, 3]
    stats = await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_ended", token) == 1)
    assert _get(stats, "streams_closed_early", token) == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_early_unsubscribe(protocol: str, clew_server: RunningServer) -> None:
    token = new_token()
    async with _gql_ws(clew_server, protocol, token) as session:
        seen: list[object] = []
        events = session.subscribe(_request("subscription { count(to: 100000, delayMs: 5) }"))
        async for result in events:
            seen.append(result["count"])
            if len(seen) == 2:
                break
        await events.aclose()  # gql sends `complete` (legacy: `stop`) for the operation
        # The server closed the resolver's generator before its end, and the socket goes on.
        await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 1)
        after = await _values(session, "subscription { count(to: 2) }")
    assert seen == [1, 2]
    assert after == [1, 2]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_resolver_error(protocol: str, clew_server: RunningServer) -> None:
    async with _gql_ws(clew_server, protocol, new_token()) as session:
        with pytest.raises(TransportQueryError) as caught:
            await session.execute(_request("{ fail hello }"))
    assert caught.value.data == {"fail": None, "hello": "Hello, world!"}
    assert caught.value.errors is not None
    assert [(e["message"], e["path"]) for e in caught.value.errors] == [("boom", ["fail"])]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_subscription_error(protocol: str, clew_server: RunningServer) -> None:
    seen: list[object] = []
    async with _gql_ws(clew_server, protocol, new_token()) as session:
        with pytest.raises(TransportQueryError) as caught:
            await _collect(session, "subscription { failAfter(n: 2) }", seen)
        # Only that operation ended.
        after = await _values(session, "subscription { count(to: 1) }")
    assert seen == [1, 2]
    # clew_app runs with debug=True: the source's own message, as the reference servers send.
    assert [error["message"] for error in caught.value.errors] == ["boom"]
    assert after == [1]


async def _collect(session: AsyncClientSession, query: str, into: list[object]) -> None:
    async for result in session.subscribe(_request(query)):
        into.extend(result.values())


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_validation_error(protocol: str, clew_server: RunningServer) -> None:
    async with _gql_ws(clew_server, protocol, new_token()) as session:
        with pytest.raises(TransportQueryError) as caught:
            await _values(session, "subscription { nope }")
        after = await _values(session, "subscription { count(to: 1) }")
    assert caught.value.errors is not None
    assert [bool(UNKNOWN_FIELD.match(e["message"])) for e in caught.value.errors] == [True]
    assert after == [1]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_auth_accepted(protocol: str, clew_server: RunningServer) -> None:
    token = new_token()
    async with _gql_ws(clew_server, protocol, token) as session:
        result = await session.execute(_request("{ whoami }"))
    assert result == {"whoami": token}
    stats = await wait_for_stats(clew_server.url, lambda s: _get(s, "open_connections", token) == 0)
    assert _get(stats, "connection_inits", token) == 1
    assert _get(stats, "rejected", token) == 0


async def test_gql_transport_ws_auth_rejected(clew_server: RunningServer) -> None:
    with pytest.raises(TransportConnectionFailed) as caught:
        async with _gql_ws(clew_server, TRANSPORT_WS, "wrong") as session:
            await session.execute(_request("{ hello }"))
    closed = caught.value.__cause__
    assert isinstance(closed, ConnectionClosed)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403
    assert closed.rcvd.reason.startswith("Forbidden")


async def test_gql_legacy_ws_auth_rejected(clew_server: RunningServer) -> None:
    # gql turns the legacy `connection_error` into TransportServerError with its payload.
    with pytest.raises(TransportServerError, match="Forbidden"):
        async with _gql_ws(clew_server, LEGACY_WS, "wrong") as session:
            await session.execute(_request("{ hello }"))


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_ws_publish_reaches_messages(protocol: str, clew_server: RunningServer) -> None:
    room = f"gql-clew-{protocol}"
    async with _gql_ws(clew_server, protocol, new_token()) as session:
        events = session.subscribe(_request(f'subscription {{ messages(room: "{room}") }}'))
        received = []
        for text in ("one", "two"):
            # One read at a time: the generator must not be entered twice at once.
            reading = asyncio.ensure_future(anext(events))
            await _publish_until(clew_server, room, text)
            received.append(await reading)
        await events.aclose()
    assert received == [{"messages": "one"}, {"messages": "two"}]


# -- the Node reference clients, against clew and against the reference server -------------------


def _scenario(token: str, room: str) -> dict[str, object]:
    """Every scenario at once on one socket: a Node process per subprotocol and server."""
    return {
        "connectionParams": {"token": token},
        "concurrent": True,
        "operations": [
            {
                "id": "query",
                "query": "query Q($name: String, $a: Int!, $b: Int!) "
                "{ hello(name: $name) add(a: $a, b: $b) whoami }",
                "variables": {"name": "node", "a": 1, "b": 2},
            },
            {"id": "mutation", "query": 'mutation { echo(message: "hey") }'},
            {"id": "count", "query": "subscription { count(to: 3) }"},
            {
                "id": "unsubscribe",
                "query": "subscription { count(to: 100000, delayMs: 5) }",
                "take": 2,
            },
            {"id": "resolver-error", "query": "{ fail hello }"},
            {"id": "subscription-error", "query": "subscription { failAfter(n: 2) }"},
            {"id": "validation-error", "query": "subscription { nope }"},
            {"id": "messages", "query": f'subscription {{ messages(room: "{room}") }}', "take": 1},
            {
                "id": "publish",
                "query": f'mutation {{ publish(room: "{room}", text: "hello room") }}',
                "until": {"publish": True},
            },
        ],
    }


_REJECTED: Final = {
    "connectionParams": {"token": "wrong"},
    "operations": [{"id": "rejected", "query": "subscription { count(to: 1) }"}],
}


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRun:
    """One subprotocol's Node client runs: the scenario and the rejection, clew and reference."""

    protocol: str
    token: str
    clew: list[dict[str, object]]
    reference: list[dict[str, object]]
    clew_rejected: list[dict[str, object]]
    reference_rejected: list[dict[str, object]]

    def clew_events(self, op: str) -> list[dict[str, object]]:
        return _normalised(self.clew, op)

    def reference_events(self, op: str) -> list[dict[str, object]]:
        return _normalised(self.reference, op)


def _normalised(lines: list[dict[str, object]], op: str) -> list[dict[str, object]]:
    """The events of one operation, without what legitimately differs between servers.

    Error messages quote names as their GraphQL library does; a debug server adds a stack
    trace under ``extensions``; subscriptions-transport-ws adds ``name`` to error objects.
    """
    return [_strip(line) for line in lines if line.get("id") == op]


def _strip(value: object) -> dict[str, object]:
    assert isinstance(value, dict)
    out: dict[str, object] = {}
    for key, item in value.items():
        if key in {"errors"} and isinstance(item, list):
            out[key] = [_strip_error(error) for error in item]
        elif key == "payload" and isinstance(item, dict):
            out[key] = _strip(item)
        else:
            out[key] = item
    return out


def _strip_error(error: object) -> dict[str, object]:
    assert isinstance(error, dict)
    kept = {k: v for k, v in error.items() if k in {"message", "locations", "path"}}
    if isinstance(kept.get("message"), str):
        kept["message"] = str(kept["message"]).replace('"', "'")
    return kept


@pytest.fixture(scope="module", params=PROTOCOLS)
def node_run(
    request: pytest.FixtureRequest, clew_server: RunningServer, node_server: RunningServer
) -> NodeRun:
    """Run the Node client's scenarios once per subprotocol, against clew and the reference."""
    protocol: str = request.param
    token = new_token()
    room = f"node-clew-{protocol}"
    return NodeRun(
        protocol=protocol,
        token=token,
        clew=run_node_client(clew_server.ws_url, protocol, _scenario(token, room)),
        reference=run_node_client(node_server.ws_url, protocol, _scenario(token, room)),
        clew_rejected=run_node_client(clew_server.ws_url, protocol, _REJECTED),
        reference_rejected=run_node_client(node_server.ws_url, protocol, _REJECTED),
    )


#: Operations whose events clew sends exactly as the reference server does, on both subprotocols.
SAME_AS_REFERENCE: Final = (
    "query",
    "mutation",
    "count",
    "unsubscribe",
    "resolver-error",
    "messages",
    "publish",
)


@pytest.mark.parametrize("op", SAME_AS_REFERENCE)
def test_node_client_same_events_as_reference(node_run: NodeRun, op: str) -> None:
    assert node_run.clew_events(op) == node_run.reference_events(op)
    assert node_run.clew_events(op) != []


def test_node_client_query_and_mutation(node_run: NodeRun) -> None:
    # Both clients need `complete` after the one result (subscriptions-transport-ws' too).
    assert node_run.clew_events("query") == [
        {
            "id": "query",
            "event": "next",
            "payload": {"data": {"hello": "Hello, node!", "add": 3, "whoami": node_run.token}},
        },
        {"id": "query", "event": "complete"},
    ]
    assert node_run.clew_events("mutation") == [
        {"id": "mutation", "event": "next", "payload": {"data": {"echo": "hey"}}},
        {"id": "mutation", "event": "complete"},
    ]
    assert node_run.clew[0] == {"event": "connected", "payload": None}


def test_node_client_subscriptions(node_run: NodeRun) -> None:
    assert node_run.clew_events("count") == [
        *({"id": "count", "event": "next", "payload": {"data": {"count": n}}} for n in (1, 2, 3)),
        {"id": "count", "event": "complete"},
    ]
    assert [e["event"] for e in node_run.clew_events("unsubscribe")] == [
        "next",
        "next",
        "unsubscribed",
    ]
    assert node_run.clew_events("messages") == [
        {"id": "messages", "event": "next", "payload": {"data": {"messages": "hello room"}}},
        {"id": "messages", "event": "unsubscribed"},
    ]


async def test_node_client_unsubscribe_closes_server_streams(
    node_run: NodeRun, clew_server: RunningServer
) -> None:
    token = node_run.token
    # count(3), failAfter and the refused one ran out by themselves; the endless count and
    # messages were stopped by the client, and the server closed their generators.
    stats = await wait_for_stats(
        clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 2
    )
    assert _get(stats, "streams_started", token) == _get(stats, "streams_ended", token) == 4
    assert _get(stats, "open_connections", token) == 0


def test_node_client_resolver_error(node_run: NodeRun) -> None:
    assert node_run.clew_events("resolver-error") == [
        {
            "id": "resolver-error",
            "event": "next",
            "payload": {
                "data": {"fail": None, "hello": "Hello, world!"},
                "errors": [
                    {"message": "boom", "locations": [{"line": 1, "column": 3}], "path": ["fail"]}
                ],
            },
        },
        {"id": "resolver-error", "event": "complete"},
    ]


def test_node_client_subscription_error(node_run: NodeRun) -> None:
    clew = node_run.clew_events("subscription-error")
    reference = node_run.reference_events("subscription-error")
    # The same shape as the reference: two results, then `error` ending the operation.
    assert [e["event"] for e in clew] == [e["event"] for e in reference]
    assert [e["event"] for e in clew] == ["next", "next", "error"]
    assert clew[:2] == reference[:2]
    assert reference[2]["errors"] == [{"message": "boom"}]
    # With debug=True clew sends the source's own message, as the reference does.
    assert [error["message"] for error in clew[2]["errors"]] == ["boom"]


def test_node_client_validation_error(node_run: NodeRun) -> None:
    clew = node_run.clew_events("validation-error")
    errors = [{"message": "Cannot query field 'nope' on type 'Subscription'."}]
    locations = [{"line": 1, "column": 16}]
    expected_error = [{**errors[0], "locations": locations}]
    assert clew == [{"id": "validation-error", "event": "error", "errors": expected_error}]
    if node_run.protocol == TRANSPORT_WS:
        assert clew == node_run.reference_events("validation-error")
    else:
        # subscriptions-transport-ws' server sends a `data` with the errors, then `complete`;
        # clew sends `error`, which its PROTOCOL.md names for failures before execution
        # (as Ariadne and Strawberry do). The client reports it to the operation as an error.
        assert node_run.reference_events("validation-error") == [
            {
                "id": "validation-error",
                "event": "next",
                "payload": {"errors": expected_error},
            },
            {"id": "validation-error", "event": "complete"},
        ]


def test_node_client_auth_rejected(node_run: NodeRun) -> None:
    lines = node_run.clew_rejected
    assert not any(line.get("event") in {"connected", "next"} for line in lines)
    if node_run.protocol == TRANSPORT_WS:
        # graphql-ws' client sees the 4403 close, and so does the pending operation.
        closes = [line for line in lines if line.get("event") == "closed"]
        assert [line["code"] for line in closes] == [4403]
        reason = closes[0]["reason"]
        assert isinstance(reason, str)
        assert reason.startswith("Forbidden")
        assert _normalised(lines, "rejected") == [
            {"id": "rejected", "event": "error", "close": {"code": 4403, "reason": reason}}
        ]
    else:
        errors = [line for line in lines if line.get("event") == "connection_error"]
        assert len(errors) == 1
        payload = errors[0]["payload"]
        assert isinstance(payload, dict)
        assert str(payload["message"]).startswith("Forbidden")
        assert [line["event"] for line in lines] == ["connection_error", "error", "closed"]
        # The client closes (1005) as soon as its one operation failed, as it does against the
        # reference server; when the server's short grace runs out first, the server's 1011.
        closes = [(line["code"], line["reason"]) for line in lines if line["event"] == "closed"]
        assert closes in ([(1005, "")], [(1011, payload["message"])])


def test_node_client_rejected_operation_gets_an_error(node_run: NodeRun) -> None:
    clew = _normalised(node_run.clew_rejected, "rejected")
    reference = _normalised(node_run.reference_rejected, "rejected")
    if node_run.protocol == TRANSPORT_WS:
        # graphql-ws' client subscribes only after the ack: the close itself fails the operation.
        assert [e["event"] for e in clew] == [e["event"] for e in reference] == ["error"]
        return
    # subscriptions-transport-ws' client sends `start` right behind `connection_init`: both
    # servers answer it with `error` carrying the rejection's message before closing 1011.
    assert reference == [{"id": "rejected", "event": "error", "errors": [{"message": "Forbidden"}]}]
    [connection_error] = [e for e in node_run.clew_rejected if e.get("event") == "connection_error"]
    payload = connection_error["payload"]
    assert isinstance(payload, dict)
    assert clew == [
        {"id": "rejected", "event": "error", "errors": [{"message": payload["message"]}]}
    ]
