"""Reconnecting: resubscribing after a drop, fatal close codes, exhausted retries, broken frames."""

from __future__ import annotations

import asyncio

import pytest

from clew.client import _ws_session
from clew.client._websocket import WebSocketManager
from clew.client.errors import WebSocketClosedError, WebSocketProtocolError
from clew.protocol import RemoteProtocolError, Role
from clew.protocol import graphql_transport_ws as tws
from conftest import BackendFactory, FakeServer, collect, op

PATIENT = {"max_attempts": 20, "base_delay": 0.01, "max_delay": 0.05}


async def test_a_drop_resubscribes_every_active_subscription_with_its_id(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    first = backend.execute_subscription(op("Ticks"))
    second = backend.execute_subscription(op("Ticks", delay=0.02))
    assert (await anext(first)).data == {"tick": 1}
    assert (await anext(second)).data == {"tick": 1}
    fake.drop()
    await fake.wait_for(lambda: fake.connections == 2 and len(fake.sockets[1].started) == 2)
    # The server restarted the operations; the callers just see more results.
    assert (await anext(first)).data is not None
    assert (await anext(second)).data is not None
    assert sorted(fake.sockets[0].started) == sorted(fake.sockets[1].started)
    assert fake.sockets[1].inits == [None]  # a fresh connection_init came first
    await first.aclose()
    await second.aclose()


async def test_retries_start_again_after_each_successful_reconnect(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(websocket_options={"retry": {"max_attempts": 1, "base_delay": 0.01}})
    stream = backend.execute_subscription(op("Ticks"))
    for drops in range(1, 4):
        assert (await anext(stream)).data is not None
        fake.drop()
        await fake.wait_for(lambda drops=drops: fake.connections == drops + 1)  # type: ignore[misc]
    assert (await anext(stream)).data is not None
    await stream.aclose()


async def test_a_server_restart_is_survived(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], websocket_options={"retry": PATIENT})
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    await fake.restart(downtime=0.1)  # connection attempts are refused meanwhile
    await fake.wait_for(lambda: fake.connections == 2)
    assert (await anext(stream)).data is not None
    await stream.aclose()


async def test_a_non_fatal_close_code_is_retried(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend()
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    await fake.close_all(1012, "service restart")
    await fake.wait_for(lambda: fake.connections == 2)
    assert (await anext(stream)).data is not None
    await stream.aclose()


async def test_a_rejected_connection_init_fails_at_once_with_4403(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    fake.reject = True
    backend = make_backend([subprotocol], websocket_options={"retry": PATIENT})
    first = backend.execute_subscription(op("Count"))
    second = backend.execute_subscription(op("Count"))
    results = await asyncio.gather(collect(first), collect(second), return_exceptions=True)
    for result in results:
        assert isinstance(result, WebSocketClosedError)
        assert result.close_code == 4403
        assert result.reason == "Forbidden"  # the message, not a repr of the payload
    assert fake.connections == 1  # no retry loop


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"type":"connection_error","payload":{"message":"Token expired"}}', "Token expired"),
        (
            '{"type":"connection_error","payload":{"code":"E1","retry":false}}',
            '{"code":"E1","retry":false}',
        ),
        (
            '{"type":"connection_error","payload":{"message":{"text":"é"}}}',
            '{"message":{"text":"é"}}',
        ),
        ('{"type":"connection_error"}', "Forbidden"),
    ],
)
async def test_a_legacy_connection_error_message_is_the_close_reason(
    fake: FakeServer, make_backend: BackendFactory, frame: str, reason: str
) -> None:
    fake.reject = True
    fake.reject_frame = frame
    backend = make_backend(["graphql-ws"], websocket_options={"retry": PATIENT})
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Count")))
    assert caught.value.close_code == 4403
    assert caught.value.reason == reason
    assert str(caught.value) == f"WebSocket closed with code 4403: {reason}"


@pytest.mark.parametrize("code", [4400, 4401, 4406, 4409, 4429, 4500, 1000])
async def test_fatal_close_codes_are_not_retried(
    fake: FakeServer, make_backend: BackendFactory, code: int
) -> None:
    backend = make_backend(websocket_options={"retry": PATIENT})
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    await fake.close_all(code, "going")
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(stream)
    assert (caught.value.close_code, caught.value.reason) == (code, "going")
    assert fake.connections == 1


async def test_which_codes_are_fatal_is_configurable(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(
        websocket_options={"retry": {"max_attempts": 5, "fatal_close_codes": frozenset({1012})}}
    )
    stream = backend.execute_subscription(op("Ticks"))
    assert (await anext(stream)).data == {"tick": 1}
    await fake.close_all(1012)
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(stream)
    assert caught.value.close_code == 1012
    assert fake.connections == 1


async def test_exhausted_retries_surface_to_every_caller(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(websocket_options={"retry": {"max_attempts": 2, "base_delay": 0.01}})
    first = backend.execute_subscription(op("Ticks"))
    second = backend.execute_subscription(op("Ticks"))
    assert (await anext(first)).data == {"tick": 1}
    assert (await anext(second)).data == {"tick": 1}
    await fake.stop()  # gone for good: every reconnect is refused
    for stream in (first, second):
        with pytest.raises(WebSocketClosedError) as caught:
            await collect(stream)
        assert caught.value.close_code is None
        assert "Could not connect" in caught.value.reason
        assert caught.value.__cause__ is not None


async def test_a_query_in_flight_during_a_drop_fails_and_is_not_re_sent(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], use_websocket_for_queries=True)
    ticks = backend.execute_subscription(op("Ticks"))
    assert (await anext(ticks)).data == {"tick": 1}
    mutation = asyncio.create_task(backend.execute_mutation(op("Bump", hang=True)))
    await fake.wait_for(lambda: fake.mutations_run == 1)
    fake.drop()
    with pytest.raises(WebSocketClosedError) as caught:
        await mutation
    assert caught.value.close_code == 1006
    assert any("not re-sent" in note for note in caught.value.__notes__)
    # The subscription came back on the new socket; the mutation did not run again.
    await fake.wait_for(lambda: fake.connections == 2 and len(fake.sockets[1].started) == 1)
    assert (await anext(ticks)).data is not None
    assert [name for _, name in fake.sockets[1].started] == ["Ticks"]
    assert fake.mutations_run == 1
    await ticks.aclose()


async def test_an_unexpected_server_message_closes_with_the_protocol_code(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    # A server may not send `subscribe`: graphql-ws closes 4004 "bad response".
    fake.garbage_after_ack = '{"type":"subscribe","id":"x","payload":{"query":"{ a }"}}'
    backend = make_backend(["graphql-transport-ws"], websocket_options={"retry": PATIENT})
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Hang")))
    assert caught.value.close_code == 4004
    assert isinstance(caught.value, WebSocketProtocolError)
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 4004
    assert fake.connections == 1  # 4004 is fatal


@pytest.mark.parametrize("subprotocol_name", ["graphql-transport-ws", "graphql-ws"])
async def test_garbage_closes_with_the_code_the_protocol_gives(
    fake: FakeServer, make_backend: BackendFactory, subprotocol_name: str
) -> None:
    fake.garbage_after_ack = "this is not json"
    backend = make_backend(
        [subprotocol_name], websocket_options={"retry": {"max_attempts": 1, "base_delay": 0.01}}
    )
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Hang")))
    expected = _protocol_close_code(subprotocol_name, "this is not json")
    assert caught.value.close_code == expected
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == expected


def _protocol_close_code(subprotocol_name: str, frame: str) -> int:
    """What `clew.protocol`'s client connection says a frame deserves, after the handshake."""
    from clew.protocol import graphql_ws as gws

    conn: tws.Connection | gws.Connection
    if subprotocol_name == "graphql-transport-ws":
        conn = tws.Connection(Role.CLIENT)
        conn.send(tws.ConnectionInit())
        conn.receive('{"type":"connection_ack"}')
    else:
        conn = gws.Connection(Role.CLIENT)
        conn.send(gws.ConnectionInit())
        conn.receive('{"type":"connection_ack"}')
    with pytest.raises(RemoteProtocolError) as caught:
        conn.receive(frame)
    return caught.value.close_code


async def test_a_bug_while_handling_a_frame_closes_4005_and_fails_the_iterators(
    fake: FakeServer, make_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("handler bug")

    # Broken before the socket opens: the session's reader binds its handlers when it starts.
    monkeypatch.setattr(WebSocketManager, "deliver", broken)
    backend = make_backend()
    hang = backend.execute_subscription(op("Hang"))
    waiting = asyncio.create_task(collect(hang))
    await fake.wait_for(lambda: len(fake.started()) == 1)
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Count", n=1)))
    assert caught.value.close_code == 4005
    assert isinstance(caught.value.__cause__, RuntimeError)
    with pytest.raises(WebSocketClosedError):
        await waiting
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 4005


async def test_a_bug_in_the_writer_closes_4005_too(
    fake: FakeServer, make_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(event: asyncio.Event, until: float | None) -> None:
        raise RuntimeError("writer bug")

    monkeypatch.setattr(_ws_session, "wait", broken)
    backend = make_backend(websocket_options={"retry": PATIENT})
    with pytest.raises(WebSocketClosedError) as caught:
        await collect(backend.execute_subscription(op("Hang")))
    assert caught.value.close_code == 4005
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert fake.connections == 1
