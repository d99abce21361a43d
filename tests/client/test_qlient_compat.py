"""qlient's documented `qlient.aiohttp` API, run as written (only imports changed) against clew.

Each test body is code a qlient user has: the README's quick preview, the backend's seed API
(`execute_query`, `execute_mutation`, awaited `execute_subscription` iterating the events,
`GraphQLSubscriptionRequest(options=..., subscription_id=...)`, ``async with backend.session``,
static `make_payload`, class-method `generate_subscription_id`, `adapt_to_websocket_endpoint`)
and a subclass overriding `make_payload`. The server is clew's, on uvicorn on loopback; it
records what arrived so the tests check the wire, not just the client's view.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import uvicorn
from graphql import GraphQLResolveInfo
from starlette.websockets import WebSocket

# qlient: from qlient.aiohttp import AIOHTTPBackend, AIOHTTPClient, GraphQLResponse, ...
from clew.client import (
    AIOHTTPBackend,
    AIOHTTPClient,
    GraphQLRequest,
    GraphQLResponse,
    GraphQLSubscriptionRequest,
)
from clew.protocol import JSONObject
from clew.server import GraphQL
from clew.server.websocket import GraphQLTransportWSHandler, GraphQLWSHandler, Operation

SDL = """
type Film { id: ID!  title: String! }
type Query { film(id: ID): Film  hello(name: String = "world"): String!  whoami: String }
type Mutation { echo(message: String!): String! }
type Subscription { count(to: Int!): Int! }
"""


@dataclass
class Seen:
    """What reached the server."""

    inits: list[JSONObject | None] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def _film(_: object, info: GraphQLResolveInfo, id: str | None = None) -> dict[str, str]:
    return {"id": id or "", "title": "A New Hope"}


def _whoami(_: object, info: GraphQLResolveInfo) -> str | None:
    params = info.context.get("connection_params") or {}
    token = params.get("token")
    return token if isinstance(token, str) else None


async def _count(_: object, info: GraphQLResolveInfo, to: int) -> AsyncIterator[int]:
    for n in range(1, to + 1):
        yield n


def _app(seen: Seen) -> GraphQL:
    def on_connect(websocket: WebSocket, payload: JSONObject | None) -> None:
        seen.inits.append(payload)

    def on_operation(websocket: WebSocket, operation: Operation) -> None:
        seen.ids.append(operation.id)

    hooks = {"on_connect": on_connect, "on_operation": on_operation}
    return GraphQL.from_sdl(
        SDL,
        {
            "Query": {
                "film": _film,
                "hello": lambda _, info, name: f"Hello, {name}!",
                "whoami": _whoami,
            },
            "Mutation": {"echo": lambda _, info, message: message},
            "Subscription": {"count": _count},
        },
        websocket_handlers=[GraphQLTransportWSHandler(**hooks), GraphQLWSHandler(**hooks)],
    )


@dataclass
class Running:
    endpoint: str
    seen: Seen


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    seen = Seen()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(_app(seen), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started:
            break
        await asyncio.sleep(0.025)
    assert server.started, "uvicorn did not start"
    try:
        yield Running(f"http://127.0.0.1:{port}/graphql", seen)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_the_readme_quick_preview(running: Running) -> None:
    async with AIOHTTPClient(running.endpoint) as client:
        result: GraphQLResponse = await client.query.film(
            ["title", "id"],  # fields selection
            id="ZmlsbXM6MQ==",  # query arguments
        )

        print(result.request.query)
        print(result.data)
    assert "film(id: $id)" in result.request.query
    assert result.data == {"film": {"title": "A New Hope", "id": "ZmlsbXM6MQ=="}}


async def test_execute_query_and_mutation_return_the_request_and_the_body(
    running: Running,
) -> None:
    backend = AIOHTTPBackend(running.endpoint)
    request = GraphQLRequest(query='query { hello(name: "qlient") }')
    response = await backend.execute_query(request)
    assert response.request is request
    assert response.data == {"hello": "Hello, qlient!"}
    assert response.errors is None
    assert response.extensions is None

    mutation = GraphQLRequest(
        query="mutation($m: String!) { echo(message: $m) }",
        variables={"m": "hi"},
        operation_name=None,
    )
    assert (await backend.execute_mutation(mutation)).data == {"echo": "hi"}
    await backend.close()


async def test_awaited_execute_subscription_iterates_the_events(running: Running) -> None:
    backend = AIOHTTPBackend(running.endpoint)
    request = GraphQLSubscriptionRequest(query="subscription { count(to: 3) }")
    response = await backend.execute_subscription(request)
    events = []
    async for event in response:
        events.append(event.data)
        assert event.request.query == request.query
    assert events == [{"count": 1}, {"count": 2}, {"count": 3}]
    await backend.close()


async def test_subscription_options_and_id_reach_the_server(running: Running) -> None:
    backend = AIOHTTPBackend(running.endpoint)
    request = GraphQLSubscriptionRequest(
        query="subscription { count(to: 2) }",
        options={"token": "per-request"},
        subscription_id="my-subscription",
    )
    response = await backend.execute_subscription(request)
    assert [event.data async for event in response] == [{"count": 1}, {"count": 2}]
    assert running.seen.inits == [{"token": "per-request"}]
    assert running.seen.ids == ["my-subscription"]

    # Without an id of its own, one is generated and the response's request carries it.
    generated = await backend.execute_subscription(
        GraphQLSubscriptionRequest(query="subscription { count(to: 1) }", options={"token": "b"})
    )
    assert [event.data async for event in generated] == [{"count": 1}]
    assert running.seen.ids[1] == generated.request.subscription_id
    assert generated.request.subscription_id.startswith("clew:AIOHTTPBackend:")
    await backend.close()


async def test_the_session_context_never_closes_a_borrowed_session(running: Running) -> None:
    async with aiohttp.ClientSession() as borrowed:
        backend = AIOHTTPBackend(running.endpoint, session=borrowed)
        async with backend.session as session:
            assert session is borrowed
        assert not borrowed.closed
        # The backend keeps working on it, and closing the backend leaves it open too.
        response = await backend.execute_query(GraphQLRequest(query="{ hello }"))
        assert response.data == {"hello": "Hello, world!"}
        await backend.close()
        assert not borrowed.closed


async def test_the_session_context_closes_its_temporary_session(running: Running) -> None:
    backend = AIOHTTPBackend(running.endpoint)
    async with backend.session as session:  # noqa: SIM117 - qlient's documented shape
        async with session.post(backend.endpoint, json={"query": "{ hello }"}) as reply:
            assert (await reply.json())["data"] == {"hello": "Hello, world!"}
    assert session.closed
    await backend.close()


def test_static_and_class_methods_are_called_on_the_class() -> None:
    payload = AIOHTTPBackend.make_payload(GraphQLRequest(query="{ hello }", variables={"a": 1}))
    assert payload == {"query": "{ hello }", "variables": {"a": 1}}
    first = AIOHTTPBackend.generate_subscription_id()
    assert isinstance(first, str)
    assert first != AIOHTTPBackend.generate_subscription_id()
    assert AIOHTTPBackend.adapt_to_websocket_endpoint("https://h/g") == "wss://h/g"
    assert AIOHTTPBackend.adapt_to_websocket_endpoint("http://h/g") == "ws://h/g"
    assert AIOHTTPBackend.adapt_to_websocket_endpoint("ws://h/g") == "ws://h/g"
    assert AIOHTTPBackend.adapt_to_websocket_endpoint("unix:/tmp/s") == "unix:/tmp/s"


def test_the_default_subprotocol_order_is_qlients() -> None:
    backend = AIOHTTPBackend("http://127.0.0.1/graphql")
    assert list(backend.subscription_protocols) == ["graphql-ws", "graphql-transport-ws"]


class NamedBackend(AIOHTTPBackend):
    """A qlient-style subclass: every payload greets someone else."""

    @staticmethod
    def make_payload(request: GraphQLRequest) -> dict[str, object]:  # type: ignore[override]
        return {
            "query": request.query,
            "operationName": request.operation_name,
            "variables": {**(request.variables or {}), "name": "override", "to": 2},
        }


@pytest.mark.parametrize("over_websocket", [False, True])
async def test_a_make_payload_override_applies_to_every_transport(
    running: Running, over_websocket: bool
) -> None:
    backend = NamedBackend(running.endpoint, use_websocket_for_queries=over_websocket)
    query = GraphQLRequest(query="query($name: String!) { hello(name: $name) }")
    assert (await backend.execute_query(query)).data == {"hello": "Hello, override!"}
    subscription = GraphQLSubscriptionRequest(query="subscription($to: Int!) { count(to: $to) }")
    response = await backend.execute_subscription(subscription)
    assert [event.data async for event in response] == [{"count": 1}, {"count": 2}]
    await backend.close()


async def test_a_subclass_generates_its_own_ids(running: Running) -> None:
    class Numbered(AIOHTTPBackend):
        @classmethod
        def generate_subscription_id(cls) -> str:
            return f"numbered-{len(running.seen.ids)}"

    backend = Numbered(running.endpoint)
    for _ in range(2):
        stream = await backend.execute_subscription(
            GraphQLSubscriptionRequest(query="subscription { count(to: 1) }")
        )
        async with contextlib.aclosing(stream):
            assert [event.data async for event in stream] == [{"count": 1}]
    assert running.seen.ids == ["numbered-0", "numbered-1"]
    await backend.close()
