"""Time-based rules as deadlines: `next_deadline()` says when, `handle_timer(now)` acts."""

from __future__ import annotations

import pytest
from helpers import ConnectionPair

from clew.protocol import CloseCode, ConnectionState, RemoteProtocolError, Role
from clew.protocol.graphql_transport_ws import (
    Connection,
    ConnectionAck,
    ConnectionInit,
    Ping,
    Pong,
    parse,
)


def test_init_timeout_closes_4408() -> None:
    server = Connection(Role.SERVER, now=100.0, connection_init_timeout=3.0)
    assert server.next_deadline() == 103.0
    assert server.handle_timer(102.5) == []
    assert server.state is ConnectionState.AWAITING_INIT
    with pytest.raises(RemoteProtocolError) as info:
        server.handle_timer(103.0)
    assert info.value.close_code == CloseCode.CONNECTION_INITIALISATION_TIMEOUT == 4408
    assert info.value.reason == "Connection initialisation timeout"
    assert server.state is ConnectionState.CLOSING
    assert server.next_deadline() is None
    assert server.handle_timer(200.0) == []


def test_init_in_time_cancels_the_init_timeout() -> None:
    server = Connection(Role.SERVER, connection_init_timeout=3.0)
    server.receive('{"type":"connection_init"}')
    assert server.next_deadline() is None
    assert server.handle_timer(1000.0) == []
    assert server.state is ConnectionState.AWAITING_ACK


def test_pings_before_init_do_not_cancel_the_init_timeout() -> None:
    server = Connection(Role.SERVER, connection_init_timeout=3.0)
    assert server.receive('{"type":"ping"}') == [Ping()]
    assert server.receive('{"type":"pong"}') == [Pong()]
    assert server.next_deadline() == 3.0
    with pytest.raises(RemoteProtocolError, match="initialisation timeout"):
        server.handle_timer(3.0)


def test_ack_timeout_closes_4504() -> None:
    client = Connection(Role.CLIENT, now=5.0, ack_timeout=10.0)
    client.send(ConnectionInit())
    assert client.next_deadline() == 15.0
    # A ping from the server is not an acknowledgement.
    assert client.receive('{"type":"ping"}') == [Ping()]
    assert client.handle_timer(14.0) == []
    with pytest.raises(RemoteProtocolError) as info:
        client.handle_timer(15.0)
    assert info.value.close_code == CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT == 4504
    assert info.value.reason == "Connection acknowledgement timeout"
    assert client.state is ConnectionState.CLOSING


def test_ack_in_time_cancels_the_ack_timeout() -> None:
    pair = ConnectionPair(ack_timeout=10.0)
    assert pair.client.next_deadline() == 10.0
    pair.handshake()
    assert pair.client.next_deadline() is None
    assert pair.client.handle_timer(50.0) == []


def test_timeouts_belong_to_their_side() -> None:
    # The init timeout is the server's rule; the ack timeout is the client's.
    client = Connection(Role.CLIENT, connection_init_timeout=1.0)
    server = Connection(Role.SERVER, ack_timeout=1.0)
    assert client.next_deadline() is None
    assert server.next_deadline() is None
    assert client.handle_timer(10.0) == server.handle_timer(10.0) == []


@pytest.mark.parametrize("option", ["connection_init_timeout", "ack_timeout", "ping_interval"])
def test_zero_disables_a_timer(role: Role, option: str) -> None:
    pair = ConnectionPair(**{option: 0.0})
    pair.handshake()
    assert pair.conn(role).next_deadline() is None


def test_no_timers_by_default(role: Role) -> None:
    pair = ConnectionPair()
    assert pair.conn(role).next_deadline() is None
    pair.handshake()
    assert pair.conn(role).next_deadline() is None
    assert pair.conn(role).handle_timer(1e12) == []


def test_keepalive_pings_only_once_acknowledged(role: Role) -> None:
    pair = ConnectionPair(ping_interval=10.0)
    conn = pair.conn(role)
    assert conn.next_deadline() is None
    assert conn.handle_timer(30.0) == []
    pair.handshake()
    assert conn.next_deadline() == 10.0


def test_keepalive_ping_pong(role: Role) -> None:
    pair = ConnectionPair(ping_interval=10.0, pong_timeout=2.0)
    pair.handshake()
    conn, peer = pair.conn(role), pair.peer(role)
    assert conn.handle_timer(9.0) == []
    (frame,) = conn.handle_timer(10.0)
    assert parse(frame) == Ping()
    assert conn.next_deadline() == 12.0
    (ping,) = pair.deliver(role, frame)
    assert isinstance(ping, Ping)
    pair.exchange(peer.our_role, ping.response())
    # The pong cancelled the pong deadline; the next ping is one interval after the last.
    assert conn.next_deadline() == 20.0
    assert [parse(f) for f in conn.handle_timer(20.0)] == [Ping()]


def test_keepalive_pong_timeout(role: Role) -> None:
    pair = ConnectionPair(ping_interval=10.0, pong_timeout=2.0)
    pair.handshake()
    conn = pair.conn(role)
    conn.handle_timer(10.0)
    assert conn.handle_timer(11.9) == []
    with pytest.raises(RemoteProtocolError) as info:
        conn.handle_timer(12.0)
    assert (info.value.close_code, info.value.reason) == (4408, "Pong timeout")
    assert conn.state is ConnectionState.CLOSING
    assert conn.next_deadline() is None


def test_pong_deadline_is_not_pushed_back_by_later_pings(role: Role) -> None:
    pair = ConnectionPair(ping_interval=1.0, pong_timeout=5.0)
    pair.handshake()
    conn = pair.conn(role)
    assert len(conn.handle_timer(1.0)) == 1
    assert conn.next_deadline() == 2.0
    assert len(conn.handle_timer(2.0)) == 1
    # The pong for the first ping is still owed at 6, however many pings followed.
    assert len(conn.handle_timer(5.5)) == 1
    with pytest.raises(RemoteProtocolError, match="Pong timeout"):
        conn.handle_timer(6.0)


def test_keepalive_without_pong_timeout_only_pings(role: Role) -> None:
    pair = ConnectionPair(ping_interval=5.0)
    pair.handshake()
    conn = pair.conn(role)
    for now in (5.0, 10.0, 15.0):
        assert conn.next_deadline() == now
        assert [parse(f) for f in conn.handle_timer(now)] == [Ping()]


def test_unsolicited_pong_does_not_break_keepalive(role: Role) -> None:
    pair = ConnectionPair(ping_interval=10.0, pong_timeout=2.0)
    pair.handshake()
    pair.exchange(pair.peer(role).our_role, Pong())
    assert pair.conn(role).next_deadline() == 10.0


def test_next_deadline_is_the_earliest() -> None:
    server = Connection(Role.SERVER, connection_init_timeout=30.0, ping_interval=5.0)
    # Keepalive waits for the ack, so only the init deadline counts for now.
    assert server.next_deadline() == 30.0
    server.receive('{"type":"connection_init"}')
    server.send(ConnectionAck())
    assert server.next_deadline() == 5.0
