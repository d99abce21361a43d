"""Against a real uvicorn on loopback: no leaks after many cycles, disconnects and shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol
from ws_support import LEGACY, TRANSPORT, Tracker, make_app, serving, settle

from clew.server import GraphQL


def clew_tasks() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("clew-ws-")]


def operation_tasks() -> list[asyncio.Task[object]]:
    return [task for task in clew_tasks() if task.get_name().startswith("clew-ws-operation-")]


async def open_socket(url: str, subprotocol: str, **init: object) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol(subprotocol)])
    await ws.send(json.dumps({"type": "connection_init", "payload": init}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


async def send(ws: ClientConnection, kind: str, operation_id: str, query: str = "") -> None:
    message: dict[str, object] = {"type": kind, "id": operation_id}
    if query:
        message["payload"] = {"query": query}
    await ws.send(json.dumps(message))


async def recv(ws: ClientConnection) -> dict[str, object]:
    async with asyncio.timeout(5):
        frame: dict[str, object] = json.loads(await ws.recv())
        return frame


async def close_code(ws: ClientConnection) -> int | None:
    async with asyncio.timeout(5):
        await ws.wait_closed()
    return ws.close_code


@pytest.fixture
def tracker() -> Tracker:
    return Tracker()


@pytest.fixture
async def server(tracker: Tracker) -> AsyncIterator[tuple[str, GraphQL]]:
    app = make_app(tracker)
    async with serving(app) as (url, _server):
        yield url, app


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
async def test_a_thousand_subscribe_complete_cycles_leave_no_task_or_generator(
    server: tuple[str, GraphQL], tracker: Tracker, subprotocol: str
) -> None:
    url, _app = server
    start, stop = ("subscribe", "complete") if subprotocol == TRANSPORT else ("start", "stop")
    ws = await open_socket(url, subprotocol)
    try:
        for cycle in range(1000):
            operation_id = str(cycle % 3)  # ids are reused once their operation ended
            await send(ws, start, operation_id, "subscription { forever }")
            event = await recv(ws)
            assert event["id"] == operation_id
            await send(ws, stop, operation_id)
            if subprotocol == LEGACY:
                assert await recv(ws) == {"id": operation_id, "type": "complete"}
        await settle(lambda: tracker.live == 0 and not operation_tasks())
        assert tracker.started == tracker.closed == 1000
        completed = [name for name, _ in tracker.calls if name == "on_complete"]
        assert len(completed) == 1000
    finally:
        await ws.close()
    await settle(lambda: not clew_tasks())


async def test_an_abrupt_disconnect_cancels_everything_of_that_connection(
    server: tuple[str, GraphQL], tracker: Tracker
) -> None:
    url, _app = server
    bystander = await open_socket(url, TRANSPORT)
    ws = await open_socket(url, TRANSPORT)
    for operation_id, query in [
        ("a", "subscription { forever }"),
        ("b", "subscription { forever }"),
        ("c", "subscription { inbox }"),
    ]:
        await send(ws, "subscribe", operation_id, query)
        assert (await recv(ws))["id"] == operation_id
    await send(ws, "subscribe", "d", "{ slow }")  # a query still waiting on its resolver
    await send(bystander, "subscribe", "x", "subscription { forever }")
    assert (await recv(bystander))["id"] == "x"
    await settle(lambda: tracker.hook_names().count("on_operation") == 5)

    ws.transport.abort()  # no close frame: the TCP connection just ends

    await settle(lambda: tracker.hook_names().count("on_disconnect") == 1)
    await settle(lambda: tracker.live == 1 and len(operation_tasks()) == 1)
    assert tracker.hook_names().count("on_complete") == 4
    # The other connection is untouched.
    await bystander.send(json.dumps({"type": "ping"}))
    assert await recv(bystander) == {"type": "pong"}
    await bystander.close()
    await settle(lambda: tracker.live == 0 and not clew_tasks())
    assert tracker.hook_names().count("on_disconnect") == 2


async def test_a_non_generator_source_is_closed_on_client_complete(
    server: tuple[str, GraphQL], tracker: Tracker
) -> None:
    url, _app = server
    ws = await open_socket(url, TRANSPORT)
    await send(ws, "subscribe", "1", "subscription { inbox }")
    assert (await recv(ws))["payload"] == {"data": {"inbox": 1}}
    await send(ws, "complete", "1")
    await settle(lambda: tracker.closed == 1 and tracker.live == 0)
    await ws.close()


async def test_shutdown_closes_operations_then_sockets_with_1001(
    server: tuple[str, GraphQL], tracker: Tracker
) -> None:
    url, app = server
    modern = await open_socket(url, TRANSPORT)
    legacy = await open_socket(url, LEGACY)
    await send(modern, "subscribe", "1", "subscription { forever }")
    await send(legacy, "start", "1", "subscription { forever }")
    assert (await recv(modern))["id"] == "1"
    assert (await recv(legacy))["id"] == "1"

    await app.shutdown()  # what lifespan shutdown runs

    assert tracker.live == 0
    assert tracker.hook_names().count("on_complete") == 2
    assert tracker.hook_names().count("on_disconnect") == 2
    assert await close_code(modern) == 1001
    assert await close_code(legacy) == 1001
    assert not operation_tasks()


async def test_stopping_uvicorn_closes_every_subscription(tracker: Tracker) -> None:
    app = make_app(tracker)
    async with serving(app) as (url, _server):
        ws = await open_socket(url, TRANSPORT)
        await send(ws, "subscribe", "1", "subscription { forever }")
        assert (await recv(ws))["id"] == "1"
    # Leaving `serving` stopped uvicorn (as on SIGTERM); the socket is gone and cleaned up.
    assert tracker.live == 0
    assert tracker.hook_names()[-2:] == ["on_complete", "on_disconnect"]
    assert not clew_tasks()
    with pytest.raises(ConnectionClosed):
        await ws.recv()


def timer_tasks() -> list[asyncio.Task[object]]:
    return [task for task in clew_tasks() if task.get_name() == "clew-ws-timers"]


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
async def test_an_idle_acknowledged_socket_runs_no_timer_task(
    tracker: Tracker, subprotocol: str
) -> None:
    # What an idle socket costs is most of what a server holds: its reader and nothing else.
    async with serving(make_app(tracker, init_timeout=30.0)) as (url, _server):
        ws = await connect(url, subprotocols=[Subprotocol(subprotocol)])
        try:
            # graphql-transport-ws waits for connection_init with a timeout; legacy has none.
            waiting = 1 if subprotocol == TRANSPORT else 0
            await settle(lambda: len(timer_tasks()) == waiting)
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert await recv(ws) == {"type": "connection_ack"}
            await settle(lambda: not timer_tasks())
            start = "subscribe" if subprotocol == TRANSPORT else "start"
            await send(ws, start, "1", "subscription { ticks(limit: 2) }")
            assert [(await recv(ws))["type"] for _ in range(3)][-1] == "complete"
            assert not timer_tasks()
        finally:
            await ws.close()
        await settle(lambda: not clew_tasks())


async def test_a_keepalive_timer_runs_only_while_it_has_something_to_send(
    tracker: Tracker,
) -> None:
    app = make_app(tracker, init_timeout=None, ping_interval=0.05, pong_timeout=5.0)
    async with serving(app) as (url, _server):
        ws = await connect(url, subprotocols=[Subprotocol(TRANSPORT)])
        try:
            assert not timer_tasks()  # no connection_init timeout: nothing to wait for yet
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert await recv(ws) == {"type": "connection_ack"}
            # Acknowledged, the timer starts again for the keep-alive pings; the client
            # library answers them, so the socket stays open.
            await settle(lambda: len(timer_tasks()) == 1)
            await asyncio.sleep(0.3)
            await ws.ping()
            assert ws.close_code is None
        finally:
            await ws.close()
        await settle(lambda: not clew_tasks())
