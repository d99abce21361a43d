"""The shared socket: endpoint, subprotocol offer, one connection for all operations, idle close."""

from __future__ import annotations

import asyncio

import pytest

from clew.client import AIOHTTPBackend
from clew.client._websocket import WebSocketManager
from clew.client.errors import WebSocketClosedError
from conftest import BackendFactory, FakeServer, clew_tasks, collect, op


async def test_subscription_runs_over_the_derived_ws_endpoint(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    assert backend.ws_endpoint.startswith("ws://127.0.0.1:")
    assert await collect(backend.execute_subscription(op("Count", n=3))) == [
        {"count": 1},
        {"count": 2},
        {"count": 3},
    ]
    assert fake.connections == 1
    assert fake.sockets[0].subprotocol == subprotocol


async def test_explicit_ws_endpoint_is_used(fake: FakeServer) -> None:
    backend = AIOHTTPBackend(
        "http://127.0.0.1:9/unused", ws_endpoint=fake.url.replace("http", "ws", 1)
    )
    try:
        assert await collect(backend.execute_subscription(op("Count", n=1))) == [{"count": 1}]
    finally:
        await backend.close()
    assert fake.connections == 1


async def test_both_subprotocols_are_offered_and_the_order_is_configurable(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    default = make_backend()
    await collect(default.execute_subscription(op("Count", n=1)))
    legacy_first = make_backend(["graphql-ws", "graphql-transport-ws"])
    await collect(legacy_first.execute_subscription(op("Count", n=1)))
    # aiohttp's server selects the first offered subprotocol it supports.
    assert [seen.offered for seen in fake.sockets] == [
        "graphql-transport-ws,graphql-ws",
        "graphql-ws,graphql-transport-ws",
    ]
    assert [seen.subprotocol for seen in fake.sockets] == ["graphql-transport-ws", "graphql-ws"]


async def test_the_socket_opens_lazily_on_the_first_operation(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend()
    stream = backend.execute_subscription(op("Count", n=1))
    await asyncio.sleep(0.02)
    assert fake.connections == 0  # creating the stream sends nothing
    assert await collect(stream) == [{"count": 1}]
    assert fake.connections == 1


async def test_concurrent_operations_share_one_socket_with_distinct_ids(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    results = await asyncio.gather(
        *(collect(backend.execute_subscription(op("Count", n=2, delay=0.01))) for _ in range(5))
    )
    assert results == [[{"count": 1}, {"count": 2}]] * 5
    assert fake.connections == 1
    ids = [operation_id for operation_id, _ in fake.started()]
    assert len(set(ids)) == 5


async def test_one_hundred_concurrent_subscriptions_use_one_tcp_connection(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(websocket_options={"idle_timeout": 1.0})
    streams = [backend.execute_subscription(op("Count", n=3, delay=0.005)) for _ in range(100)]
    results = await asyncio.gather(*(collect(stream) for stream in streams))
    assert all(result == [{"count": 1}, {"count": 2}, {"count": 3}] for result in results)
    assert len(fake.started()) == 100
    assert fake.connections == 1
    assert len(fake.peers) == 1  # one TCP connection on the server side


async def test_the_socket_closes_after_the_idle_grace_period_and_reopens(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], websocket_options={"idle_timeout": 0.05})
    await collect(backend.execute_subscription(op("Count", n=1)))
    transport = backend.websocket()
    assert isinstance(transport, WebSocketManager)
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 1000
    if subprotocol == "graphql-ws":
        assert fake.sockets[0].terminated  # connection_terminate before the close
    await fake.wait_for(lambda: not clew_tasks())  # nothing runs while no operation needs it
    await collect(backend.execute_subscription(op("Count", n=1)))
    assert fake.connections == 2
    assert transport.connections_opened == 2


async def test_an_operation_within_the_grace_period_reuses_the_socket(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(websocket_options={"idle_timeout": 5.0})
    await collect(backend.execute_subscription(op("Count", n=1)))
    await collect(backend.execute_subscription(op("Count", n=1)))
    assert fake.connections == 1
    assert fake.sockets[0].client_close_code is None


async def test_closing_the_client_closes_the_socket_and_ends_every_task(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], websocket_options={"idle_timeout": 60})
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    assert clew_tasks()
    await backend.close()
    assert not clew_tasks()
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 1000


async def test_a_server_that_selects_no_subprotocol_fails_clearly(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    fake.subprotocols = ("something-else",)
    backend = make_backend()
    stream = backend.execute_subscription(op("Count"))
    with pytest.raises(WebSocketClosedError) as caught:
        await anext(stream)
    assert caught.value.close_code == 4406
    assert "graphql-transport-ws" in caught.value.reason
    assert fake.connections == 1  # fatal: not retried
