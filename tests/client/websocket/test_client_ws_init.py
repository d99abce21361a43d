"""`connection_init` payloads, the ack timeout, protocol keepalives and the frame heartbeat."""

from __future__ import annotations

import asyncio

import pytest

from clew.client import AIOHTTPClient, RetryPolicy, WebSocketOptions
from clew.client._websocket import WebSocketManager
from clew.client.errors import WebSocketClosedError
from clew.protocol import JSONObject
from conftest import QUERIES, BackendFactory, FakeServer, collect, op

NO_RETRY = {"max_attempts": 0}


async def test_a_static_payload_is_sent_in_connection_init(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], connection_params={"token": "abc"})
    await collect(backend.execute_subscription(op("Count", n=1)))
    assert fake.sockets[0].inits == [{"token": "abc"}]


async def test_an_async_payload_is_asked_again_on_every_reconnect(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    calls = 0

    async def params() -> JSONObject:
        nonlocal calls
        calls += 1
        return {"token": f"t{calls}"}

    backend = make_backend([subprotocol], connection_params=params)
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    fake.drop()
    await fake.wait_for(lambda: fake.connections == 2)
    assert (await anext(stream)).data is not None
    assert [seen.inits for seen in fake.sockets] == [[{"token": "t1"}], [{"token": "t2"}]]
    await stream.aclose()


async def test_a_failing_payload_callable_surfaces_its_error(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    async def params() -> JSONObject:
        raise LookupError("no token in the keyring")

    backend = make_backend(connection_params=params)
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Count")))
    assert isinstance(caught.value.__cause__, LookupError)
    assert fake.connections == 1


async def test_a_missing_ack_closes_4504_and_surfaces_when_retries_run_out(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    fake.ack = False
    backend = make_backend(
        [subprotocol],
        websocket_options={
            "ack_timeout": 0.05,
            "retry": {"max_attempts": 1, "base_delay": 0.01},
        },
    )
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Count")))
    assert caught.value.close_code == 4504
    assert fake.connections == 2  # 4504 is retried (graphql-ws), once here
    await fake.wait_for(lambda: all(s.client_close_code is not None for s in fake.sockets))
    assert [seen.client_close_code for seen in fake.sockets] == [4504, 4504]


async def test_protocol_pings_are_sent_while_acknowledged(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(["graphql-transport-ws"], websocket_options={"ping_interval": 0.01})
    stream = backend.execute_subscription(op("Ticks", delay=0.01))
    assert (await anext(stream)).data == {"tick": 1}
    await fake.wait_for(lambda: fake.sockets[0].pings >= 3)
    assert (await anext(stream)).data == {"tick": 2}
    assert fake.connections == 1  # answered pings keep the socket
    await stream.aclose()


async def test_an_unanswered_ping_closes_and_fails_when_not_retried(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    fake.answer_pings = False
    backend = make_backend(
        ["graphql-transport-ws"],
        websocket_options={"ping_interval": 0.01, "pong_timeout": 0.03, "retry": NO_RETRY},
    )
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Hang")))
    assert caught.value.close_code == 4408
    assert "Pong timeout" in caught.value.reason
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 4408


async def test_legacy_keepalive_silence_closes_the_socket(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    fake.ka_once = True  # one `ka` after the ack, then silence
    backend = make_backend(
        ["graphql-ws"], websocket_options={"keepalive_timeout": 0.03, "retry": NO_RETRY}
    )
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Hang")))
    assert caught.value.close_code == 1011
    assert "Keep-alive" in caught.value.reason


async def test_legacy_keepalives_keep_the_socket(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    fake.ka_interval = 0.01
    backend = make_backend(
        ["graphql-ws"], websocket_options={"keepalive_timeout": 0.05, "retry": NO_RETRY}
    )
    results = await collect(backend.execute_subscription(op("Count", n=6, delay=0.03)))
    assert len(results) == 6
    assert fake.connections == 1


async def test_heartbeat_sends_websocket_frame_pings(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(websocket_options={"heartbeat": 0.01, "ping_interval": None})
    stream = backend.execute_subscription(op("Hang"))
    waiter = asyncio.ensure_future(anext(stream))
    await fake.wait_for(lambda: fake.connections == 1 and fake.sockets[0].frame_pings >= 2)
    assert fake.sockets[0].pings == 0  # frame pings, not protocol pings
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_options_come_from_a_mapping_and_name_the_valid_keys() -> None:
    options = WebSocketOptions.from_mapping(
        {"idle_timeout": 0, "retry": {"max_attempts": 2}, "heartbeat": 5}
    )
    assert options.idle_timeout == 0
    assert options.heartbeat == 5
    assert options.retry == RetryPolicy(max_attempts=2)
    policy = RetryPolicy(base_delay=1)
    assert WebSocketOptions.from_mapping({"retry": policy}).retry is policy
    with pytest.raises(TypeError, match="idle_timeout"):
        WebSocketOptions.from_mapping({"idle": 1})
    with pytest.raises(TypeError, match="number"):
        WebSocketOptions.from_mapping({"ack_timeout": "soon"})
    with pytest.raises(TypeError, match="RetryPolicy"):
        WebSocketOptions.from_mapping({"retry": 3})


async def test_the_public_option_classes_configure_the_transport(fake: FakeServer) -> None:
    policy = RetryPolicy(max_attempts=1, base_delay=0)
    chosen = WebSocketOptions(idle_timeout=0, ping_interval=None, retry=policy)
    async with AIOHTTPClient(fake.url, websocket_options=chosen) as client:
        manager = client.backend.websocket()
        assert isinstance(manager, WebSocketManager)
        assert manager.options == chosen
        stream = client.subscribe(QUERIES["Count"], operation_name="Count")
        assert [r.data async for r in stream] == [{"count": 1}, {"count": 2}, {"count": 3}]
    # The mapping form names the same options.
    async with AIOHTTPClient(fake.url, websocket_options={"retry": policy}) as client:
        manager = client.backend.websocket()
        assert isinstance(manager, WebSocketManager)
        assert manager.options == WebSocketOptions(retry=policy)


async def test_unknown_options_fail_when_the_transport_is_built(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend(websocket_options={"keepalive": 5})
    with pytest.raises(TypeError, match="keepalive_timeout"):
        backend.websocket()


async def test_a_plain_callable_payload_works_too(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(connection_params=lambda: {"token": "sync"})
    await collect(backend.execute_subscription(op("Count", n=1)))
    assert fake.sockets[0].inits == [{"token": "sync"}]
