"""Legacy keep-alive as deadlines: the server's periodic `ka`, the client's `ka` timeout."""

from __future__ import annotations

import pytest
from legacy_helpers import LegacyPair

from clew.protocol import CloseCode, ConnectionState, RemoteProtocolError, Role
from clew.protocol.graphql_ws import Connection, ConnectionAck, ConnectionInit, Ka


def acknowledged_server(now: float = 0.0, interval: float | None = 10.0) -> Connection:
    server = Connection(Role.SERVER, now=now, keepalive_interval=interval)
    server.receive('{"type":"connection_init"}')
    server.send(ConnectionAck())
    return server


def acknowledged_client(now: float = 0.0, timeout: float | None = 30.0) -> Connection:
    client = Connection(Role.CLIENT, now=now, keepalive_timeout=timeout)
    client.send(ConnectionInit())
    client.receive('{"type":"connection_ack"}')
    return client


# --- server: ka right after the ack, then periodically -----------------------------------------


def test_server_may_send_ka_right_after_the_ack() -> None:
    # PROTOCOL.md: `ka` "should be sent right after each GQL_CONNECTION_ACK"; the host sends it.
    assert acknowledged_server().send(Ka()) == '{"type":"ka"}'


def test_server_sends_ka_every_interval_once_acknowledged() -> None:
    server = acknowledged_server(now=100.0)
    assert server.next_deadline() == 110.0
    assert server.handle_timer(105.0) == []
    assert server.handle_timer(110.0) == ['{"type":"ka"}']
    assert server.next_deadline() == 120.0
    assert server.handle_timer(121.5) == ['{"type":"ka"}']
    assert server.next_deadline() == 131.5


def test_server_sends_no_ka_before_the_ack() -> None:
    server = Connection(Role.SERVER, keepalive_interval=10.0)
    assert server.next_deadline() is None
    assert server.handle_timer(50.0) == []
    server.receive('{"type":"connection_init"}')
    assert server.handle_timer(60.0) == []
    server.send(ConnectionAck())
    # The first window has long passed: the timer is due at once.
    assert server.next_deadline() == 10.0
    assert server.handle_timer(61.0) == ['{"type":"ka"}']


def test_server_without_interval_has_no_deadline() -> None:
    server = acknowledged_server(interval=None)
    assert server.next_deadline() is None
    assert server.handle_timer(1e9) == []


def test_server_ignores_keepalive_timeout() -> None:
    server = Connection(Role.SERVER, keepalive_timeout=1.0)
    server.receive('{"type":"connection_init"}')
    server.send(ConnectionAck())
    assert server.next_deadline() is None
    assert server.handle_timer(100.0) == []


def test_server_stops_ka_once_closing() -> None:
    server = acknowledged_server()
    server.receive('{"type":"connection_terminate"}')
    assert server.next_deadline() is None
    assert server.handle_timer(100.0) == []


# --- client: closes when a whole window passes without ka --------------------------------------


def test_client_ka_timeout_starts_only_after_the_first_ka() -> None:
    client = acknowledged_client()
    assert client.next_deadline() is None
    assert client.handle_timer(1000.0) == []
    assert client.state is ConnectionState.ACKNOWLEDGED


def test_client_keeps_the_connection_while_ka_arrive_in_every_window() -> None:
    client = acknowledged_client(now=0.0, timeout=30.0)
    assert client.receive('{"type":"ka"}') == [Ka()]
    assert client.next_deadline() == 30.0
    assert client.handle_timer(30.0) == []
    assert client.next_deadline() == 60.0
    client.receive('{"type":"ka"}')
    assert client.handle_timer(60.0) == []
    assert client.state is ConnectionState.ACKNOWLEDGED


def test_client_closes_1011_when_a_whole_window_passes_without_ka() -> None:
    client = acknowledged_client(now=0.0, timeout=30.0)
    client.receive('{"type":"ka"}')
    assert client.handle_timer(30.0) == []
    with pytest.raises(RemoteProtocolError) as info:
        client.handle_timer(60.0)
    assert info.value.close_code == CloseCode.INTERNAL_ERROR == 1011
    assert info.value.reason == "Keep-alive timeout"
    assert client.state is ConnectionState.CLOSING
    assert client.next_deadline() is None
    assert client.handle_timer(90.0) == []


def test_client_late_first_ka_does_not_close() -> None:
    # The first window starts from the last time the host reported; a `ka` that arrives long
    # after construction is still seen by the first check.
    client = acknowledged_client(now=0.0, timeout=30.0)
    client.receive('{"type":"ka"}')
    assert client.handle_timer(500.0) == []
    assert client.next_deadline() == 530.0


def test_client_first_window_starts_from_the_latest_reported_time() -> None:
    client = Connection(Role.CLIENT, now=0.0, keepalive_timeout=30.0)
    client.handle_timer(100.0)
    client.send(ConnectionInit())
    client.receive('{"type":"ka"}')  # some servers send ka before the ack (gql tolerates it)
    assert client.next_deadline() == 130.0


def test_client_without_timeout_never_closes_for_silence() -> None:
    client = acknowledged_client(timeout=None)
    client.receive('{"type":"ka"}')
    assert client.next_deadline() is None
    assert client.handle_timer(1e9) == []


def test_client_ignores_keepalive_interval() -> None:
    client = Connection(Role.CLIENT, keepalive_interval=1.0)
    client.send(ConnectionInit())
    client.receive('{"type":"connection_ack"}')
    assert client.next_deadline() is None
    assert client.handle_timer(100.0) == []


def test_pair_keepalive_keeps_both_sides_open() -> None:
    pair = LegacyPair(keepalive_interval=10.0, keepalive_timeout=15.0)
    pair.handshake()
    pair.exchange(Role.SERVER, Ka())
    for now in (10.0, 20.0, 30.0, 40.0):
        for frame in pair.server.handle_timer(now):
            assert pair.deliver(Role.SERVER, frame) == [Ka()]
        assert pair.client.handle_timer(now) == []
    assert pair.client.state is ConnectionState.ACKNOWLEDGED
