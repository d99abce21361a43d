"""The app owns its pub/sub: started and closed with it, reached as info.context["pubsub"]."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast

import pytest
from graphql import GraphQLResolveInfo
from starlette.testclient import TestClient

from clew.server import GraphQL
from clew.server.pubsub import InMemoryPubSub, PubSub, RedisPubSub
from redis_server import RedisServer, free_port

SDL = """
type Query { ok: Boolean! }
type Mutation { say(room: String!, text: String!): Boolean! }
type Subscription { said(room: String!): String! }
"""


def pubsub_of(info: GraphQLResolveInfo) -> PubSub:
    return cast(PubSub, info.context["pubsub"])


async def say(_root: object, info: GraphQLResolveInfo, room: str, text: str) -> bool:
    await pubsub_of(info).publish(f"room:{room}", {"text": text})
    return True


async def said(_root: object, info: GraphQLResolveInfo, room: str) -> AsyncIterator[object]:
    async with pubsub_of(info).subscribe(f"room:{room}") as events:
        async for event in events:
            yield cast(dict[str, object], event)["text"]


def chat_app(pubsub: PubSub | None = None) -> GraphQL:
    return GraphQL.from_sdl(
        SDL,
        {
            "Query": {"ok": lambda *_: True},
            "Mutation": {"say": say},
            "Subscription": {"said": said},
        },
        pubsub=pubsub,
    )


def test_the_default_pubsub_is_in_memory() -> None:
    app = chat_app()
    assert isinstance(app.pubsub, InMemoryPubSub)
    assert app.engine.pubsub is app.pubsub


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_mutation_reaches_a_subscriber_through_the_context_pubsub(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pubsub: PubSub | None = None
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        assert isinstance(server, RedisServer)
        pubsub = RedisPubSub(server.url)
    app = chat_app(pubsub)
    with (
        TestClient(app) as client,
        client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as websocket,
    ):
        websocket.send_json({"type": "connection_init"})
        assert websocket.receive_json()["type"] == "connection_ack"
        subscription = 'subscription { said(room: "a") }'
        websocket.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        # The subscribe resolver runs asynchronously: say things until one arrives.
        for attempt in range(200):
            mutation = f'mutation {{ say(room: "a", text: "hi {attempt}") }}'
            assert client.post("/", json={"query": mutation}).json() == {"data": {"say": True}}
            if app.pubsub.subscriber_count("room:a") and attempt > 2:
                break
        message = websocket.receive_json()
        assert message["type"] == "next"
        assert message["payload"]["data"]["said"].startswith("hi ")
        websocket.send_json({"id": "1", "type": "complete"})
    # Completing the operation unsubscribed; the lifespan's end closed the pub/sub.
    assert app.pubsub.subscriber_count("room:a") == 0
    if isinstance(app.pubsub, RedisPubSub):
        assert not app.pubsub.connected
        assert app.pubsub._runner is None


def test_a_mutation_during_an_outage_gets_a_masked_error() -> None:
    pubsub = RedisPubSub(f"redis://127.0.0.1:{free_port()}/0", reconnect_backoff=(0.05, 0.1))
    app = chat_app(pubsub)
    with TestClient(app) as client:
        body = client.post("/", json={"query": 'mutation { say(room: "a", text: "x") }'}).json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["path"] == ["say"]


async def test_shutdown_closes_the_pubsub_and_ends_its_subscriptions() -> None:
    app = chat_app()
    subscription = await app.pubsub.subscribe("room:x").__aenter__()
    await app.shutdown()
    assert subscription.closed
    assert app.pubsub.subscriber_count("room:x") == 0
    await asyncio.sleep(0)


def test_a_failing_pubsub_start_fails_the_lifespan_startup() -> None:
    class Broken(InMemoryPubSub):
        async def start(self) -> None:
            raise RuntimeError("cannot start")

    with pytest.raises(RuntimeError, match="cannot start"), TestClient(chat_app(Broken())):
        pass
