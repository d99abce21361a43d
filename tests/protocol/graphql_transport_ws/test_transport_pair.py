"""Whole sessions between a client and a server `Connection`, frame by frame."""

from __future__ import annotations

import json

import pytest
from helpers import ConnectionPair, subscribe

from clew.protocol import ConnectionState, LocalProtocolError, RemoteProtocolError, Role
from clew.protocol.graphql_transport_ws import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    Next,
    Ping,
    Pong,
)


def test_full_session(pair: ConnectionPair) -> None:
    pair.handshake(
        init=ConnectionInit(payload={"authToken": "t"}),
        ack=ConnectionAck(payload={"user": "ada"}),
    )
    # Pings both ways, each answered by the receiver's host.
    for sender in (Role.CLIENT, Role.SERVER):
        (ping,) = pair.send(sender, Ping())
        assert isinstance(ping, Ping)
        pair.exchange(pair.peer(sender).our_role, ping.response())
    # A subscription streaming two results, a query, and a failing operation, interleaved.
    pair.exchange(Role.CLIENT, subscribe("sub", "subscription { tick }"))
    pair.exchange(Role.CLIENT, subscribe("query", "{ hello }"))
    pair.exchange(Role.CLIENT, subscribe("bad", "{ nope }"))
    pair.exchange(Role.SERVER, Next(id="sub", payload={"data": {"tick": 1}}))
    pair.exchange(Role.SERVER, Error(id="bad", payload=[{"message": "Cannot query 'nope'"}]))
    pair.exchange(Role.SERVER, Next(id="query", payload={"data": {"hello": "world"}}))
    pair.exchange(Role.SERVER, Complete(id="query"))
    pair.exchange(Role.SERVER, Next(id="sub", payload={"data": {"tick": 2}}))
    assert set(pair.server.operations) == set(pair.client.operations) == {"sub"}
    # The client stops the subscription; a result already in flight is dropped on arrival.
    in_flight = pair.server.send(Next(id="sub", payload={"data": {"tick": 3}}))
    pair.exchange(Role.CLIENT, Complete(id="sub"))
    assert pair.deliver(Role.SERVER, in_flight) == []
    with pytest.raises(LocalProtocolError):
        pair.server.send(Next(id="sub", payload={"data": {"tick": 4}}))
    # Ids are free again.
    pair.exchange(Role.CLIENT, subscribe("sub"))
    pair.exchange(Role.SERVER, Complete(id="sub"))
    # Both sides agree on everything, and every frame was valid JSON with a type.
    assert pair.client.state is pair.server.state is ConnectionState.ACKNOWLEDGED
    assert len(pair.server.operations) == len(pair.client.operations) == 0
    assert all("type" in json.loads(frame) for _, frame in pair.wire)
    assert pair.client.connection_closed() == pair.server.connection_closed() == ()


def test_crossing_completes(ready_pair: ConnectionPair) -> None:
    """The server completes while the client's complete is on the wire: both are ignored."""
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    from_server = ready_pair.server.send(Complete(id="1"))
    from_client = ready_pair.client.send(Complete(id="1"))
    assert ready_pair.deliver(Role.SERVER, from_server) == []
    assert ready_pair.deliver(Role.CLIENT, from_client) == []
    assert ready_pair.client.state is ready_pair.server.state is ConnectionState.ACKNOWLEDGED


def test_crossing_error_and_complete(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    from_server = ready_pair.server.send(Error(id="1", payload=[{"message": "m"}]))
    from_client = ready_pair.client.send(Complete(id="1"))
    assert ready_pair.deliver(Role.SERVER, from_server) == []
    assert ready_pair.deliver(Role.CLIENT, from_client) == []


@pytest.mark.parametrize("sender", [Role.CLIENT, Role.SERVER], ids=["client", "server"])
def test_pings_before_the_handshake(pair: ConnectionPair, sender: Role) -> None:
    (ping,) = pair.send(sender, Ping(payload={"at": "start"}))
    assert ping == Ping(payload={"at": "start"})
    pair.exchange(pair.peer(sender).our_role, Pong(payload={"at": "start"}))
    pair.handshake()


def test_a_violation_closes_only_the_side_that_saw_it(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.deliver(Role.CLIENT, ready_pair.wire[-1][1])  # the same subscribe again
    assert info.value.close_code == 4409
    assert ready_pair.server.state is ConnectionState.CLOSING
    # The client learns of it from the close frame, which the host turns into this call.
    assert ready_pair.client.connection_closed() == ("1",)
    assert ready_pair.client.state is ConnectionState.CLOSED


def test_pair_helpers(pair: ConnectionPair) -> None:
    assert pair.conn(Role.CLIENT) is pair.client
    assert pair.conn(Role.SERVER) is pair.server
    assert pair.peer(Role.CLIENT) is pair.server
    assert pair.peer(Role.SERVER) is pair.client
    assert pair.client.our_role is Role.CLIENT
    assert pair.server.our_role is Role.SERVER
    pair.exchange(Role.CLIENT, ConnectionInit())
    assert pair.wire == [(Role.CLIENT, '{"type":"connection_init"}')]
