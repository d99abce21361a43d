"""Scale-out on a real Redis: uvicorn workers in separate processes share subscriptions.

Each worker runs the demo chat with ``CLEW_REDIS_URL`` set, so the only thing the workers
share is Redis. Subscribers are clew's client and gql (a third-party client), over both
subprotocols, on both workers.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import aclosing, contextmanager

import aiohttp
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from clew.client import AIOHTTPClient
from redis_server import RedisServer, running_redis

from .servers import RunningServer, free_port, running_server, uvicorn_command

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
MESSAGES = 1000
SUBSCRIPTION = "subscription S($room: String!) { messagePosted(room: $room) { text } }"
POST = (
    "mutation P($room: String!, $text: String!) "
    '{ postMessage(room: $room, author: "t", text: $text) { id } }'
)
#: Generous: the machine running the suite is shared and loaded.
WAIT = 180.0

#: Runs one subscriber of a room, handing each received text to the callback, until cancelled.
Subscriber = Callable[[str, Callable[[str], None]], Awaitable[None]]


@contextmanager
def demo_worker(redis: RedisServer, name: str) -> Iterator[RunningServer]:
    """One worker process: the demo chat (a fresh app) on its own port, on Redis."""
    port = free_port()
    command = uvicorn_command("clew.server.demo:create_app", port, in_package=False)
    with running_server(name, command, port=port, env={"CLEW_REDIS_URL": redis.url}) as server:
        yield server


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer) -> Iterator[tuple[RunningServer, RunningServer]]:
    with demo_worker(redis_server, "worker A") as a, demo_worker(redis_server, "worker B") as b:
        yield a, b


def clew_subscriber(server: RunningServer, protocol: str) -> Subscriber:
    async def run(room: str, received: Callable[[str], None]) -> None:
        async with AIOHTTPClient(server.http_url, subscription_protocols=(protocol,)) as client:
            stream = client.subscribe(SUBSCRIPTION, {"room": room})
            async with aclosing(stream):
                async for response in stream:
                    assert response.data is not None, response
                    message = response.data["messagePosted"]
                    assert isinstance(message, dict)
                    received(message["text"])

    return run


def gql_subscriber(server: RunningServer, protocol: str) -> Subscriber:
    subprotocol = (
        WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
        if protocol == TRANSPORT_WS
        else WebsocketsTransport.APOLLO_SUBPROTOCOL
    )

    async def run(room: str, received: Callable[[str], None]) -> None:
        transport = WebsocketsTransport(url=server.ws_url, subprotocols=[subprotocol])
        async with Client(transport=transport) as session:
            assert transport.subprotocol == protocol
            request = GraphQLRequest(SUBSCRIPTION, variable_values={"room": room})
            async for result in session.subscribe(request):
                received(result["messagePosted"]["text"])

    return run


class Inbox:
    """What one subscriber received; `wait_for` a text, failing if the subscriber died."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def add(self, text: str) -> None:
        self.texts.append(text)
        self._changed.set()

    def start(self, subscriber: Subscriber, room: str) -> None:
        self.task = asyncio.create_task(subscriber(room, self.add))
        self.task.add_done_callback(lambda _task: self._changed.set())

    def alive(self) -> bool:
        assert self.task is not None
        if self.task.done():
            raise AssertionError(f"a subscriber ended: {self.task.exception()!r}")
        return True

    async def wait_for(self, text: str) -> None:
        while text not in self.texts:
            self.alive()
            self._changed.clear()
            await self._changed.wait()

    def received(self, prefix: str) -> list[str]:
        return [text for text in self.texts if text.startswith(prefix)]


async def stop(inboxes: list[Inbox]) -> None:
    tasks = [inbox.task for inbox in inboxes if inbox.task is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def post(
    http: aiohttp.ClientSession, server: RunningServer, room: str, text: str
) -> dict[str, object]:
    body = {"query": POST, "variables": {"room": room, "text": text}}
    async with http.post(server.http_url, json=body) as response:
        answer: dict[str, object] = await response.json()
        return answer


async def warm_up(
    http: aiohttp.ClientSession, server: RunningServer, room: str, inboxes: list[Inbox]
) -> None:
    """Post until every subscriber has received something: they are all subscribed on Redis."""
    for attempt in range(2000):
        if all(inbox.alive() and inbox.received("warm") for inbox in inboxes):
            return
        await post(http, server, room, f"warm {attempt}")
        await asyncio.sleep(0.05)
    raise AssertionError("the subscribers never received a warm-up message")


async def resubscribed(redis: RedisServer, channel: str) -> None:
    """Return once a worker subscribed to `channel` again on the restarted Redis."""
    for _ in range(2000):
        if redis.command("PUBSUB", "CHANNELS") == [channel]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no worker subscribed to {channel} again")


async def test_a_thousand_messages_reach_subscribers_on_both_workers_in_order(
    workers: tuple[RunningServer, RunningServer],
) -> None:
    a, b = workers
    room = "scale-out"
    inboxes: dict[str, Inbox] = {}
    for worker in (a, b):
        for protocol in (TRANSPORT_WS, LEGACY_WS):
            for client, factory in (("clew", clew_subscriber), ("gql", gql_subscriber)):
                inbox = Inbox()
                inbox.start(factory(worker, protocol), room)
                inboxes[f"{client} {protocol} on {worker.name}"] = inbox
    try:
        async with asyncio.timeout(WAIT), aiohttp.ClientSession() as http:
            await warm_up(http, a, room, list(inboxes.values()))
            for n in range(MESSAGES):  # every message through a mutation on worker A
                answer = await post(http, a, room, f"m {n}")
                assert "errors" not in answer, answer
            for inbox in inboxes.values():
                await inbox.wait_for(f"m {MESSAGES - 1}")
    finally:
        await stop(list(inboxes.values()))
    expected = [f"m {n}" for n in range(MESSAGES)]
    for label, inbox in inboxes.items():
        # Each in order, none lost, none duplicated.
        assert inbox.received("m ") == expected, label


async def test_redis_restarted_mid_stream_subscribers_stay_and_resume() -> None:
    room = "outage"
    with running_redis() as redis, demo_worker(redis, "worker") as worker:
        inboxes = [Inbox(), Inbox()]
        inboxes[0].start(clew_subscriber(worker, TRANSPORT_WS), room)
        inboxes[1].start(gql_subscriber(worker, LEGACY_WS), room)
        try:
            async with asyncio.timeout(WAIT), aiohttp.ClientSession() as http:
                await warm_up(http, worker, room, inboxes)
                for n in range(10):
                    assert "errors" not in await post(http, worker, room, f"before {n}")
                for inbox in inboxes:
                    await inbox.wait_for("before 9")
                redis.kill()
                # Publishing during the outage fails as a (masked) GraphQL error.
                answer = await post(http, worker, room, "lost")
                assert answer["data"] is None
                errors = answer["errors"]
                assert isinstance(errors, list)
                assert [(e["message"], e["path"]) for e in errors] == [
                    ("Internal server error", ["postMessage"])
                ]
                redis.restart()
                # The worker resubscribes by itself once Redis is back.
                await resubscribed(redis, f"chat:{room}")
                for n in range(10):
                    answer = await post(http, worker, room, f"after {n}")
                    assert "errors" not in answer, answer
                for inbox in inboxes:
                    await inbox.wait_for("after 9")
                    assert inbox.alive()  # the same subscription, never ended
        finally:
            await stop(inboxes)
    for inbox in inboxes:
        assert inbox.received("before") == [f"before {n}" for n in range(10)]
        assert inbox.received("after") == [f"after {n}" for n in range(10)]
        assert "lost" not in inbox.texts


async def test_clew_serve_with_two_workers_serves_one_chat(redis_server: RedisServer) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "clew.server.cli", "serve", "clew.server.demo:app",
        "--port", str(port), "--workers", "2", "--log-level", "warning",
    ]  # fmt: skip
    channel = "chat:served"
    with running_server(
        "clew serve --workers 2", command, port=port, env={"CLEW_REDIS_URL": redis_server.url}
    ) as server:
        inboxes: list[Inbox] = []
        try:
            async with asyncio.timeout(WAIT), aiohttp.ClientSession() as http:
                # The kernel spreads connections over the two workers, unevenly on a busy
                # machine: open subscribers until both worker processes listen to the room on
                # Redis (one connection each).
                while redis_server.command("PUBSUB", "NUMSUB", channel) != [channel, 2]:
                    assert len(inboxes) < 150, "every subscriber landed on the same worker"
                    inbox = Inbox()
                    inbox.start(clew_subscriber(server, TRANSPORT_WS), "served")
                    inboxes.append(inbox)
                    await asyncio.sleep(0.1)
                await warm_up(http, server, "served", inboxes)
                for n in range(20):  # posts land on either worker
                    assert "errors" not in await post(http, server, "served", f"m {n}")
                for inbox in inboxes:
                    await inbox.wait_for("m 19")
        finally:
            await stop(inboxes)
    for inbox in inboxes:
        assert inbox.received("m ") == [f"m {n}" for n in range(20)]
