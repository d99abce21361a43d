"""One test per rule of graphql-transport-ws (graphql-ws `PROTOCOL.md`), named after the rule."""

from __future__ import annotations

import json

import pytest
from helpers import ConnectionPair, subscribe

from clew.protocol import (
    CloseCode,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from clew.protocol.graphql_transport_ws import (
    Complete,
    Connection,
    ConnectionAck,
    ConnectionInit,
    Error,
    Next,
    Ping,
    Pong,
)

RESULT = {"data": {"hello": "world"}}


def server_after_init() -> Connection:
    server = Connection(Role.SERVER)
    assert server.receive('{"type":"connection_init"}') == [ConnectionInit()]
    return server


# --- connection_init / connection_ack -------------------------------------------------------


def test_connection_init_payload_reaches_server(pair: ConnectionPair) -> None:
    init = ConnectionInit(payload={"token": "s3cr3t"})
    assert pair.send(Role.CLIENT, init) == [init]
    assert pair.server.state is ConnectionState.AWAITING_ACK


def test_connection_ack_payload_reaches_client(pair: ConnectionPair) -> None:
    pair.handshake(ack=ConnectionAck(payload={"server": "clew"}))
    assert pair.wire[-1] == (Role.SERVER, '{"type":"connection_ack","payload":{"server":"clew"}}')


def test_subscribe_before_ack_closes_4401() -> None:
    server = server_after_init()
    with pytest.raises(RemoteProtocolError) as info:
        server.receive('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}')
    assert info.value.close_code == CloseCode.UNAUTHORIZED == 4401
    assert info.value.reason == "Unauthorized"
    assert server.state is ConnectionState.CLOSING


def test_subscribe_before_init_closes_4401() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}')
    assert info.value.close_code == 4401
    assert set(server.operations) == set()


def test_client_cannot_send_subscribe_before_ack(pair: ConnectionPair) -> None:
    pair.exchange(Role.CLIENT, ConnectionInit())
    with pytest.raises(LocalProtocolError) as info:
        pair.client.send(subscribe("1"))
    assert info.value.close_code == 4401
    assert pair.client.state is ConnectionState.CLOSING


def test_second_connection_init_closes_4429() -> None:
    server = server_after_init()
    with pytest.raises(RemoteProtocolError) as info:
        server.receive('{"type":"connection_init"}')
    assert info.value.close_code == CloseCode.TOO_MANY_INITIALISATION_REQUESTS == 4429
    assert info.value.reason == "Too many initialisation requests"


def test_second_connection_init_after_ack_closes_4429(ready_pair: ConnectionPair) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.server.receive('{"type":"connection_init"}')
    assert info.value.close_code == 4429


def test_client_cannot_send_connection_init_twice(pair: ConnectionPair) -> None:
    pair.exchange(Role.CLIENT, ConnectionInit())
    with pytest.raises(LocalProtocolError) as info:
        pair.client.send(ConnectionInit())
    assert info.value.close_code == 4429


def test_reject_closes_4403() -> None:
    server = server_after_init()
    closure = server.reject({"reason": "bad token"})
    assert (closure.code, closure.reason, closure.frames) == (4403, "Forbidden", ())
    assert closure.code == CloseCode.FORBIDDEN
    assert server.state is ConnectionState.CLOSING
    # A rejected connection sends and accepts nothing more.
    assert server.receive('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}') == []
    with pytest.raises(LocalProtocolError, match="closing"):
        server.send(ConnectionAck())


@pytest.mark.parametrize("state", ["before init", "after ack"])
def test_reject_is_only_for_a_server_awaiting_its_ack(state: str) -> None:
    server = Connection(Role.SERVER)
    if state == "after ack":
        server.receive('{"type":"connection_init"}')
        server.send(ConnectionAck())
    with pytest.raises(LocalProtocolError, match="Only a server awaiting its ack"):
        server.reject()


def test_client_cannot_reject() -> None:
    client = Connection(Role.CLIENT)
    client.send(ConnectionInit())
    with pytest.raises(LocalProtocolError):
        client.reject()


def test_ack_before_init_is_a_bad_response_on_client() -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(RemoteProtocolError) as info:
        client.receive('{"type":"connection_ack"}')
    assert info.value.close_code == CloseCode.BAD_RESPONSE == 4004
    assert info.value.reason == (
        "Unexpected 'connection_ack' message from the server while awaiting init"
    )


def test_second_connection_ack_is_a_bad_response_on_client(ready_pair: ConnectionPair) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.client.receive('{"type":"connection_ack"}')
    assert info.value.close_code == 4004


def test_server_cannot_ack_before_init() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(LocalProtocolError) as info:
        server.send(ConnectionAck())
    assert info.value.close_code == 4004
    assert server.state is ConnectionState.CLOSING


# --- ping / pong ----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["awaiting init", "awaiting ack", "acknowledged"])
def test_ping_is_answered_by_response_pong(role: Role, phase: str) -> None:
    pair = ConnectionPair()
    if phase != "awaiting init":
        pair.exchange(Role.CLIENT, ConnectionInit())
    if phase == "acknowledged":
        pair.exchange(Role.SERVER, ConnectionAck())
    receiver = pair.peer(role)
    state = receiver.state
    (ping,) = pair.send(role, Ping(payload={"sent": 1}))
    assert isinstance(ping, Ping)
    pong = ping.response()
    assert pong == Pong()
    # The connection never answers on its own: the host sends the pong it was handed.
    assert pair.send(receiver.our_role, pong) == [pong]
    assert receiver.state is state


def test_unsolicited_pong_is_a_heartbeat(ready_pair: ConnectionPair, role: Role) -> None:
    heartbeat = Pong(payload={"beat": 1})
    assert ready_pair.send(role, heartbeat) == [heartbeat]


# --- subscribe / next / error / complete ----------------------------------------------------


def test_duplicate_subscribe_id_closes_4409(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("op-1"))
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.server.receive('{"id":"op-1","type":"subscribe","payload":{"query":"{ b }"}}')
    assert info.value.close_code == CloseCode.SUBSCRIBER_ALREADY_EXISTS == 4409
    assert info.value.reason == "Subscriber for op-1 already exists"
    assert ready_pair.server.state is ConnectionState.CLOSING


def test_client_cannot_reuse_a_running_id(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("op-1"))
    with pytest.raises(LocalProtocolError) as info:
        ready_pair.client.send(subscribe("op-1"))
    assert info.value.close_code == 4409
    assert ready_pair.client.state is ConnectionState.CLOSING


@pytest.mark.parametrize("ender", ["server complete", "server error", "client complete"])
def test_id_may_be_reused_after_complete(ready_pair: ConnectionPair, ender: str) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("op-1"))
    if ender == "server complete":
        ready_pair.exchange(Role.SERVER, Complete(id="op-1"))
    elif ender == "server error":
        ready_pair.exchange(Role.SERVER, Error(id="op-1", payload=[{"message": "boom"}]))
    else:
        ready_pair.exchange(Role.CLIENT, Complete(id="op-1"))
    assert set(ready_pair.client.operations) == set(ready_pair.server.operations) == set()
    ready_pair.exchange(Role.CLIENT, subscribe("op-1", "{ again }"))
    assert set(ready_pair.server.operations) == {"op-1"}


def test_single_result_operation(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("q"))
    ready_pair.exchange(Role.SERVER, Next(id="q", payload=RESULT))
    ready_pair.exchange(Role.SERVER, Complete(id="q"))
    assert [sender for sender, _ in ready_pair.wire] == [
        Role.CLIENT,
        Role.SERVER,
        Role.CLIENT,
        Role.SERVER,
        Role.SERVER,
    ]


def test_operations_are_multiplexed(ready_pair: ConnectionPair) -> None:
    for operation_id in ("a", "b", "c"):
        ready_pair.exchange(Role.CLIENT, subscribe(operation_id))
    ready_pair.exchange(Role.SERVER, Next(id="b", payload=RESULT))
    ready_pair.exchange(Role.SERVER, Next(id="a", payload=RESULT))
    ready_pair.exchange(Role.SERVER, Complete(id="b"))
    assert set(ready_pair.client.operations) == set(ready_pair.server.operations) == {"a", "c"}
    assert len(ready_pair.server.operations) == 2


def test_complete_for_unknown_id_is_ignored(ready_pair: ConnectionPair) -> None:
    assert ready_pair.server.receive('{"id":"never","type":"complete"}') == []
    assert ready_pair.client.receive('{"id":"never","type":"complete"}') == []
    assert ready_pair.server.state is ConnectionState.ACKNOWLEDGED
    assert ready_pair.client.state is ConnectionState.ACKNOWLEDGED


def test_complete_for_finished_id_is_ignored(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    ready_pair.exchange(Role.SERVER, Complete(id="1"))
    # The client's complete crossed the server's on the wire.
    assert ready_pair.server.receive('{"id":"1","type":"complete"}') == []
    assert ready_pair.server.state is ConnectionState.ACKNOWLEDGED


def test_complete_before_ack_is_ignored_by_server() -> None:
    server = server_after_init()
    assert server.receive('{"id":"1","type":"complete"}') == []
    assert server.state is ConnectionState.AWAITING_ACK


def test_no_complete_after_error(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    ready_pair.exchange(Role.SERVER, Error(id="1", payload=[{"message": "invalid"}]))
    # The error ended the operation on both sides: the server may not follow it with complete.
    with pytest.raises(LocalProtocolError, match="no operation with id '1' is running"):
        ready_pair.server.send(Complete(id="1"))
    assert ready_pair.server.state is ConnectionState.ACKNOWLEDGED
    # A complete that does arrive anyway is a late message the client ignores.
    assert ready_pair.client.receive('{"id":"1","type":"complete"}') == []


def test_late_next_after_client_complete_is_ignored(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    ready_pair.exchange(Role.CLIENT, Complete(id="1"))
    late = json.dumps({"id": "1", "type": "next", "payload": RESULT})
    assert ready_pair.client.receive(late) == []
    assert ready_pair.client.receive('{"id":"1","type":"error","payload":[{"message":"x"}]}') == []
    assert ready_pair.client.receive('{"id":"1","type":"complete"}') == []
    assert ready_pair.client.state is ConnectionState.ACKNOWLEDGED


def test_late_next_for_unknown_id_is_ignored(ready_pair: ConnectionPair) -> None:
    assert ready_pair.client.receive('{"id":"zz","type":"next","payload":{}}') == []


def test_sending_next_for_inactive_id_is_local_error(ready_pair: ConnectionPair) -> None:
    with pytest.raises(LocalProtocolError) as info:
        ready_pair.server.send(Next(id="ghost", payload=RESULT))
    assert info.value.reason == "Cannot send 'next': no operation with id 'ghost' is running"
    assert not isinstance(info.value, RemoteProtocolError)
    # The refusal changes nothing: the peer simply completed it meanwhile.
    assert ready_pair.server.state is ConnectionState.ACKNOWLEDGED


def test_sending_next_after_client_complete_is_local_error(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("1"))
    ready_pair.exchange(Role.CLIENT, Complete(id="1"))
    # PROTOCOL.md: even a pending single result must not be sent once the client completed.
    with pytest.raises(LocalProtocolError):
        ready_pair.server.send(Next(id="1", payload=RESULT))


def test_client_cannot_complete_an_unknown_id(ready_pair: ConnectionPair) -> None:
    with pytest.raises(LocalProtocolError, match="'complete'"):
        ready_pair.client.send(Complete(id="nope"))
    assert ready_pair.client.state is ConnectionState.ACKNOWLEDGED


def test_next_before_ack_is_a_bad_response_on_client() -> None:
    client = Connection(Role.CLIENT)
    client.send(ConnectionInit())
    with pytest.raises(RemoteProtocolError) as info:
        client.receive('{"id":"1","type":"next","payload":{}}')
    assert info.value.close_code == 4004


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (
            '{"type":"next","id":"1","payload":{}}',
            "Unexpected 'next' message from the client while acknowledged",
        ),
        (
            '{"type":"error","id":"1","payload":[{"message":"x"}]}',
            "Unexpected 'error' message from the client while acknowledged",
        ),
        (
            '{"type":"connection_ack"}',
            "Unexpected 'connection_ack' message from the client while acknowledged",
        ),
    ],
)
def test_server_message_from_client_closes_4400(
    ready_pair: ConnectionPair, frame: str, reason: str
) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.server.receive(frame)
    assert (info.value.close_code, info.value.reason) == (4400, reason)


def test_client_message_from_server_closes_4004(ready_pair: ConnectionPair) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.client.receive('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}')
    assert info.value.close_code == 4004
    assert info.value.reason == "Unexpected 'subscribe' message from the server while acknowledged"


# --- invalid messages -----------------------------------------------------------------------


def test_unknown_type_closes_4400(ready_pair: ConnectionPair) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.server.receive('{"type":"start","id":"1","payload":{"query":"{ a }"}}')
    assert info.value.close_code == CloseCode.BAD_REQUEST == 4400
    assert info.value.reason == "Invalid message 'type' property \"start\""
    assert ready_pair.server.state is ConnectionState.CLOSING


def test_invalid_json_closes_4400_on_server() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive(b"\xff")
    assert (info.value.close_code, info.value.reason) == (4400, "Message is not valid UTF-8")


def test_invalid_server_message_closes_4004_on_client(ready_pair: ConnectionPair) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        ready_pair.client.receive('{"type":"next","id":"1"}')
    assert info.value.close_code == CloseCode.BAD_RESPONSE == 4004
    assert info.value.reason == (
        "\"next\" message expects the 'payload' property to be an object, but got null"
    )
    assert ready_pair.client.state is ConnectionState.CLOSING


def test_unknown_type_closes_4004_on_client() -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(RemoteProtocolError) as info:
        client.receive("[]")
    assert (info.value.close_code, info.value.reason) == (
        4004,
        "Message must be a JSON object, got array",
    )


def test_frames_after_a_protocol_error_are_dropped(role: Role) -> None:
    conn = Connection(role)
    with pytest.raises(RemoteProtocolError):
        conn.receive("not json")
    assert conn.receive("still not json") == []
    assert conn.state is ConnectionState.CLOSING


def test_local_error_leaves_connection_closing(role: Role) -> None:
    conn = Connection(role)
    wrong = subscribe("1") if role is Role.SERVER else Next(id="1", payload={})
    with pytest.raises(LocalProtocolError):
        conn.send(wrong)
    assert conn.state is ConnectionState.CLOSING
    with pytest.raises(LocalProtocolError, match="Cannot send 'ping': the connection is closing"):
        conn.send(Ping())


# --- closing --------------------------------------------------------------------------------


def test_connection_closed_returns_running_operations(ready_pair: ConnectionPair) -> None:
    ready_pair.exchange(Role.CLIENT, subscribe("a"))
    ready_pair.exchange(Role.CLIENT, subscribe("b"))
    assert sorted(ready_pair.server.connection_closed()) == ["a", "b"]
    assert ready_pair.server.state is ConnectionState.CLOSED
    assert set(ready_pair.server.operations) == set()
    assert ready_pair.server.receive('{"type":"ping"}') == []
    assert ready_pair.server.next_deadline() is None
    assert ready_pair.server.handle_timer(1e9) == []


def test_their_role_is_the_other_side(role: Role) -> None:
    conn = Connection(role)
    assert conn.our_role is role
    assert conn.their_role is not role
