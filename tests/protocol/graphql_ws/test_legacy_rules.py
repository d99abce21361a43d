"""One test per rule of legacy graphql-ws (subscriptions-transport-ws), named after the rule.

Sources: `PROTOCOL.md`, `src/server.ts`, `src/client.ts` of subscriptions-transport-ws 0.11,
and clew's documented choices where the protocol is silent (start before ack, error shapes).
"""

from __future__ import annotations

import json

import pytest
from legacy_helpers import LegacyPair, start

from clew.protocol import (
    CloseCode,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from clew.protocol.graphql_ws import (
    Complete,
    Connection,
    ConnectionAck,
    ConnectionErrorMessage,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    Ka,
    Message,
    Refused,
    Stop,
    serialize,
)

RESULT = {"data": {"hello": "world"}}


def server_after_init() -> Connection:
    server = Connection(Role.SERVER)
    assert server.receive('{"type":"connection_init"}') == [ConnectionInit()]
    return server


def refused(events: list[object]) -> tuple[dict[str, object], str]:
    """The one `Refused` event in `events`: its decoded reply and its reason."""
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Refused)
    return json.loads(event.reply), event.reason


# --- connection_init / connection_ack ----------------------------------------------------------


def test_connection_init_payload_reaches_server(legacy_pair: LegacyPair) -> None:
    init = ConnectionInit(payload={"authToken": "s3cr3t"})
    assert legacy_pair.send(Role.CLIENT, init) == [init]
    assert legacy_pair.server.state is ConnectionState.AWAITING_ACK


def test_connection_ack_payload_reaches_client(legacy_pair: LegacyPair) -> None:
    legacy_pair.handshake(ack=ConnectionAck(payload={"server": "clew"}))
    assert legacy_pair.wire[-1] == (
        Role.SERVER,
        '{"type":"connection_ack","payload":{"server":"clew"}}',
    )


def test_reference_client_init_with_empty_params_is_accepted() -> None:
    server = Connection(Role.SERVER)
    assert server.receive('{"type":"connection_init","payload":{}}') == [ConnectionInit(payload={})]


def test_second_connection_init_is_refused_with_connection_error_state_unchanged() -> None:
    server = server_after_init()
    reply, reason = refused(server.receive('{"type":"connection_init"}'))
    assert reply == {"type": "connection_error", "payload": {"message": reason}}
    assert reason == "Too many initialisation requests"
    assert server.state is ConnectionState.AWAITING_ACK
    server.send(ConnectionAck())
    reply, _ = refused(server.receive('{"type":"connection_init"}'))
    assert reply["type"] == "connection_error"
    assert server.state is ConnectionState.ACKNOWLEDGED


def test_server_cannot_ack_before_init() -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(LocalProtocolError) as info:
        server.send(ConnectionAck())
    assert info.value.close_code == CloseCode.PROTOCOL_ERROR
    assert server.state is ConnectionState.CLOSING


def test_server_cannot_ack_twice(ready_legacy_pair: LegacyPair) -> None:
    with pytest.raises(LocalProtocolError, match="Unexpected 'connection_ack'"):
        ready_legacy_pair.server.send(ConnectionAck())


def test_client_second_init_is_a_local_error() -> None:
    client = Connection(Role.CLIENT)
    client.send(ConnectionInit())
    with pytest.raises(LocalProtocolError, match="Too many initialisation requests"):
        client.send(ConnectionInit())
    assert client.state is ConnectionState.CLOSING


# --- start before ack: clew's documented choice -----------------------------------------------


def test_start_before_init_is_refused_with_error_for_its_id_and_never_runs() -> None:
    server = Connection(Role.SERVER)
    reply, reason = refused(server.receive(serialize(start("1"))))
    assert reply == {"id": "1", "type": "error", "payload": {"message": "Unauthorized"}}
    assert reason == "Unauthorized"
    assert server.state is ConnectionState.AWAITING_INIT
    assert list(server.operations) == []


def test_start_before_ack_is_refused_with_error_for_its_id_and_never_runs() -> None:
    server = server_after_init()
    reply, _ = refused(server.receive(serialize(start("1"))))
    assert reply == {"id": "1", "type": "error", "payload": {"message": "Unauthorized"}}
    assert server.state is ConnectionState.AWAITING_ACK
    assert list(server.operations) == []


def test_start_pipelined_after_init_runs_once_the_host_has_acked() -> None:
    # The reference client writes `start` right after `connection_init` without waiting for
    # the ack; a host that settles each init before reading the next frame serves it.
    server = Connection(Role.SERVER)
    frames = ['{"type":"connection_init","payload":{}}', serialize(start("1"))]
    assert server.receive(frames[0]) == [ConnectionInit(payload={})]
    server.send(ConnectionAck())
    assert server.receive(frames[1]) == [start("1")]
    assert list(server.operations) == ["1"]


def test_client_start_before_ack_is_a_local_error() -> None:
    client = Connection(Role.CLIENT)
    client.send(ConnectionInit())
    with pytest.raises(LocalProtocolError, match="Unauthorized"):
        client.send(start("1"))
    assert client.state is ConnectionState.CLOSING


# --- refusals: the server answers bad frames and carries on ------------------------------------


def test_malformed_json_is_refused_with_connection_error_without_disconnecting(
    ready_legacy_pair: LegacyPair,
) -> None:
    server = ready_legacy_pair.server
    reply, reason = refused(server.receive("{not json"))
    assert reply == {"type": "connection_error", "payload": {"message": reason}}
    assert "not valid JSON" in reason
    assert server.state is ConnectionState.ACKNOWLEDGED
    assert ready_legacy_pair.send(Role.CLIENT, start("1")) == [start("1")]


def test_non_object_frame_is_refused_with_connection_error() -> None:
    reply, reason = refused(Connection(Role.SERVER).receive(b"[1,2]"))
    assert reply["type"] == "connection_error"
    assert "must be a JSON object" in reason


def test_unknown_type_is_refused_with_error_for_its_id(ready_legacy_pair: LegacyPair) -> None:
    reply, reason = refused(ready_legacy_pair.server.receive('{"type":"subscribe","id":"9"}'))
    assert reply == {"id": "9", "type": "error", "payload": {"message": reason}}
    assert "Invalid message 'type'" in reason


def test_unknown_type_without_usable_id_is_refused_with_connection_error() -> None:
    server = Connection(Role.SERVER)
    for frame in ('{"type":"bogus"}', '{"type":"bogus","id":""}', '{"type":"bogus","id":3}'):
        reply, _ = refused(server.receive(frame))
        assert reply["type"] == "connection_error"
    assert server.state is ConnectionState.AWAITING_INIT


@pytest.mark.parametrize(
    "message",
    [
        Data(id="5", payload=RESULT),  # type: ignore[arg-type]
        Error(id="5", payload={"message": "x"}),
        Complete(id="5"),
    ],
    ids=lambda message: message.type,
)
def test_server_only_message_from_client_is_refused_with_error_for_its_id(
    ready_legacy_pair: LegacyPair, message: Message
) -> None:
    reply, reason = refused(ready_legacy_pair.server.receive(serialize(message)))
    assert reply == {"id": "5", "type": "error", "payload": {"message": reason}}
    assert f"Unexpected '{message.type}' message from the client" in reason
    assert ready_legacy_pair.server.state is ConnectionState.ACKNOWLEDGED


@pytest.mark.parametrize(
    "message",
    [ConnectionAck(), ConnectionErrorMessage(payload={"message": "x"}), Ka()],
    ids=lambda message: message.type,
)
def test_server_only_message_without_id_from_client_is_refused_with_connection_error(
    ready_legacy_pair: LegacyPair, message: Message
) -> None:
    reply, _ = refused(ready_legacy_pair.server.receive(serialize(message)))
    assert reply["type"] == "connection_error"


def test_invalid_start_payload_is_refused_with_error_for_its_id(
    ready_legacy_pair: LegacyPair,
) -> None:
    reply, reason = refused(
        ready_legacy_pair.server.receive('{"type":"start","id":"2","payload":{"query":7}}')
    )
    assert reply == {"id": "2", "type": "error", "payload": {"message": reason}}
    assert list(ready_legacy_pair.server.operations) == []


def test_refusal_for_a_live_id_uses_connection_error_so_the_operation_is_not_ended(
    ready_legacy_pair: LegacyPair,
) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    reply, _ = refused(ready_legacy_pair.server.receive('{"type":"bogus","id":"1"}'))
    assert reply["type"] == "connection_error"
    assert list(ready_legacy_pair.server.operations) == ["1"]


# --- start / data / error / complete -----------------------------------------------------------


def test_query_gets_at_least_one_data_then_complete(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload=RESULT))  # type: ignore[arg-type]
    ready_legacy_pair.exchange(Role.SERVER, Complete(id="1"))
    assert list(ready_legacy_pair.server.operations) == []
    assert list(ready_legacy_pair.client.operations) == []


def test_resolver_errors_travel_in_data(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    result = {"data": None, "errors": [{"message": "boom", "path": ["a"]}]}
    ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload=result))  # type: ignore[arg-type]


def test_error_ends_the_operation_and_no_complete_follows(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.SERVER, Error(id="1", payload={"message": "invalid"}))
    assert list(ready_legacy_pair.client.operations) == []
    with pytest.raises(LocalProtocolError, match="not running"):
        ready_legacy_pair.server.send(Complete(id="1"))
    assert ready_legacy_pair.server.state is ConnectionState.ACKNOWLEDGED


def test_server_sends_error_with_one_error_object(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    for payload in ([{"message": "a"}], {"errors": [{"message": "a"}]}):
        with pytest.raises(LocalProtocolError, match="one GraphQL error object"):
            ready_legacy_pair.server.send(Error(id="1", payload=payload))  # type: ignore[arg-type]
    assert ready_legacy_pair.server.state is ConnectionState.ACKNOWLEDGED
    assert list(ready_legacy_pair.server.operations) == ["1"]


def test_server_cannot_send_data_for_an_unknown_id(ready_legacy_pair: LegacyPair) -> None:
    with pytest.raises(LocalProtocolError, match="'9' is not running"):
        ready_legacy_pair.server.send(Data(id="9", payload=RESULT))  # type: ignore[arg-type]
    assert ready_legacy_pair.server.state is ConnectionState.ACKNOWLEDGED


def test_server_cannot_send_data_before_ack() -> None:
    with pytest.raises(LocalProtocolError, match="Unexpected 'data'"):
        server_after_init().send(Data(id="1", payload=RESULT))  # type: ignore[arg-type]


def test_start_for_a_running_id_replaces_the_operation(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1", "subscription { a }"))
    replacement = start("1", "subscription { b }")
    assert ready_legacy_pair.send(Role.CLIENT, replacement) == [replacement]
    assert list(ready_legacy_pair.server.operations) == ["1"]
    ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload=RESULT))  # type: ignore[arg-type]


def test_start_for_a_stopping_id_replaces_the_operation(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload=RESULT))  # type: ignore[arg-type]


def test_client_ignores_data_error_complete_for_unknown_ids(
    ready_legacy_pair: LegacyPair,
) -> None:
    client = ready_legacy_pair.client
    for message in (
        Data(id="9", payload=RESULT),  # type: ignore[arg-type]
        Error(id="9", payload={"message": "x"}),
        Complete(id="9"),
    ):
        assert client.receive(serialize(message)) == []
    assert client.state is ConnectionState.ACKNOWLEDGED


# --- stop --------------------------------------------------------------------------------------


def test_stop_for_a_running_id_reaches_the_server(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    assert list(ready_legacy_pair.server.operations) == ["1"]


def test_after_stop_the_server_may_send_complete_which_releases_the_id(
    ready_legacy_pair: LegacyPair,
) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    # The client already let the operation go: the confirming `complete` is silent.
    assert ready_legacy_pair.send(Role.SERVER, Complete(id="1")) == []
    assert list(ready_legacy_pair.server.operations) == []
    assert list(ready_legacy_pair.client.operations) == []


def test_after_stop_the_server_may_send_error_which_releases_the_id(
    ready_legacy_pair: LegacyPair,
) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    assert ready_legacy_pair.send(Role.SERVER, Error(id="1", payload={"message": "x"})) == []
    assert list(ready_legacy_pair.client.operations) == []


def test_after_stop_the_server_cannot_send_data(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    with pytest.raises(LocalProtocolError, match="not running"):
        ready_legacy_pair.server.send(Data(id="1", payload=RESULT))  # type: ignore[arg-type]
    assert ready_legacy_pair.server.state is ConnectionState.ACKNOWLEDGED
    assert list(ready_legacy_pair.server.operations) == ["1"]


def test_client_ignores_data_for_a_stopped_id(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.client.send(Stop(id="1"))  # not yet delivered: data crosses it
    assert ready_legacy_pair.client.receive(serialize(Data(id="1", payload=RESULT))) == []  # type: ignore[arg-type]
    assert list(ready_legacy_pair.client.operations) == ["1"]


def test_stop_for_an_unknown_id_is_ignored() -> None:
    server = Connection(Role.SERVER)
    assert server.receive('{"type":"stop","id":"1"}') == []
    server.receive('{"type":"connection_init"}')
    assert server.receive('{"type":"stop","id":"1"}') == []
    server.send(ConnectionAck())
    assert server.receive('{"type":"stop","id":"1"}') == []
    assert server.state is ConnectionState.ACKNOWLEDGED


def test_second_stop_for_a_stopping_id_is_ignored(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    assert ready_legacy_pair.server.receive('{"type":"stop","id":"1"}') == []


def test_client_cannot_stop_an_operation_that_is_not_running(
    ready_legacy_pair: LegacyPair,
) -> None:
    with pytest.raises(LocalProtocolError, match="not running"):
        ready_legacy_pair.client.send(Stop(id="1"))
    assert ready_legacy_pair.client.state is ConnectionState.ACKNOWLEDGED


# --- connection_terminate / connection_error / reject --------------------------------------------


@pytest.mark.parametrize("handshake", [False, True], ids=["before-ack", "acknowledged"])
def test_connection_terminate_moves_both_sides_to_closing(
    legacy_pair: LegacyPair, handshake: bool
) -> None:
    if handshake:
        legacy_pair.handshake()
    legacy_pair.exchange(Role.CLIENT, ConnectionTerminate())
    assert legacy_pair.client.state is ConnectionState.CLOSING
    assert legacy_pair.server.state is ConnectionState.CLOSING
    # Frames still in flight are dropped; nothing more may be sent.
    assert legacy_pair.server.receive(serialize(start("1"))) == []
    with pytest.raises(LocalProtocolError, match="closing"):
        legacy_pair.server.send(Ka())


def test_reference_client_terminate_with_null_payload_closes(
    ready_legacy_pair: LegacyPair,
) -> None:
    server = ready_legacy_pair.server
    assert server.receive('{"type":"connection_terminate","payload":null}') == [
        ConnectionTerminate()
    ]
    assert server.state is ConnectionState.CLOSING


def test_reject_sends_connection_error_then_closes_1011() -> None:
    server = server_after_init()
    closure = server.reject({"message": "Bad token"})
    assert closure.code == CloseCode.INTERNAL_ERROR == 1011
    assert closure.reason == "Bad token"
    assert closure.frames == ('{"type":"connection_error","payload":{"message":"Bad token"}}',)
    assert server.state is ConnectionState.CLOSING


def test_reject_without_payload_says_forbidden() -> None:
    closure = server_after_init().reject()
    assert closure.reason == "Forbidden"
    assert json.loads(closure.frames[0])["payload"] == {"message": "Forbidden"}


def test_reject_payload_without_message_closes_with_forbidden() -> None:
    closure = server_after_init().reject({"code": "E_AUTH"})
    assert closure.reason == "Forbidden"
    assert json.loads(closure.frames[0])["payload"] == {"code": "E_AUTH"}


def test_reject_reason_is_capped_at_123_bytes() -> None:
    closure = server_after_init().reject({"message": "é" * 100})
    assert len(closure.reason.encode()) <= 123


def test_start_sent_with_a_rejected_init_gets_an_error_with_the_rejection_message() -> None:
    # The reference client writes `start` right behind `connection_init`; the reference server
    # fails that operation with the rejection's message before it closes.
    server = server_after_init()
    server.reject({"message": "Bad token"})
    frame = '{"type":"start","id":"1","payload":{"query":"{ hello }"}}'
    assert refused(server.receive(frame)) == (
        {"type": "error", "id": "1", "payload": {"message": "Bad token"}},
        "Bad token",
    )
    # Every pending start is answered, each for its own id; nothing starts running.
    reply, _ = refused(server.receive(serialize(start("2"))))
    assert reply == {"type": "error", "id": "2", "payload": {"message": "Bad token"}}
    assert list(server.operations) == []
    assert server.state is ConnectionState.CLOSING


def test_start_after_a_rejection_without_message_gets_forbidden() -> None:
    server = server_after_init()
    server.reject({"code": "E_AUTH"})
    reply, reason = refused(server.receive(serialize(start("1"))))
    assert reply["payload"] == {"message": "Forbidden"}
    assert reason == "Forbidden"


def test_rejection_message_in_the_start_error_is_not_capped() -> None:
    server = server_after_init()
    long = "é" * 100
    closure = server.reject({"message": long})
    assert len(closure.reason.encode()) <= 123
    reply, _ = refused(server.receive(serialize(start("1"))))
    assert reply["payload"] == {"message": long}


@pytest.mark.parametrize(
    "frame",
    [
        "{oops",
        '{"type":"start","id":"","payload":{"query":"{ a }"}}',
        '{"type":"start","id":"1","payload":{}}',
        '{"type":"stop","id":"1"}',
        '{"type":"connection_init"}',
        '{"type":"connection_terminate"}',
        '{"type":"nope"}',
    ],
    ids=["unparseable", "start-empty-id", "start-no-query", "stop", "init", "terminate", "unknown"],
)
def test_other_frames_after_a_rejection_are_dropped(frame: str) -> None:
    server = server_after_init()
    server.reject()
    assert server.receive(frame) == []
    assert server.state is ConnectionState.CLOSING


def test_start_after_a_rejected_socket_closed_is_dropped() -> None:
    server = server_after_init()
    server.reject()
    assert server.connection_closed() == ()
    assert server.receive(serialize(start("1"))) == []
    assert server.state is ConnectionState.CLOSED


def test_start_after_connection_terminate_is_still_dropped() -> None:
    # Only a rejection answers starts in flight; a client that terminated wants nothing more.
    server = server_after_init()
    assert server.receive('{"type":"connection_terminate"}') == [ConnectionTerminate()]
    assert server.receive(serialize(start("1"))) == []


@pytest.mark.parametrize("who", ["client", "server-before-init", "server-acknowledged"])
def test_only_a_server_awaiting_its_ack_can_reject(who: str) -> None:
    if who == "client":
        conn = Connection(Role.CLIENT)
        conn.send(ConnectionInit())
    else:
        conn = Connection(Role.SERVER)
        if who == "server-acknowledged":
            conn.receive('{"type":"connection_init"}')
            conn.send(ConnectionAck())
    with pytest.raises(LocalProtocolError, match="reject"):
        conn.reject()


def test_client_sees_connection_error_as_an_event(legacy_pair: LegacyPair) -> None:
    legacy_pair.exchange(Role.CLIENT, ConnectionInit())
    closure = legacy_pair.server.reject({"message": "no"})
    events = legacy_pair.deliver(Role.SERVER, closure.frames[0])
    assert events == [ConnectionErrorMessage(payload={"message": "no"})]
    assert legacy_pair.client.state is ConnectionState.AWAITING_ACK


def test_server_may_send_connection_error_while_open(ready_legacy_pair: LegacyPair) -> None:
    message = ConnectionErrorMessage(payload={"message": "shutting down"})
    ready_legacy_pair.exchange(Role.SERVER, message)
    assert ready_legacy_pair.client.state is ConnectionState.ACKNOWLEDGED


# --- invalid server frames close the client 1002 ----------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        "{oops",
        '{"type":"next","id":"1","payload":{}}',
        '{"type":"start","id":"1","payload":{"query":"{ a }"}}',
        '{"type":"connection_init"}',
        '{"type":"stop","id":"1"}',
        '{"type":"connection_terminate"}',
        '{"type":"connection_ack"}',
        '{"type":"data","id":"1","payload":7}',
    ],
)
def test_client_closes_1002_for_a_frame_the_server_may_not_send(
    ready_legacy_pair: LegacyPair, frame: str
) -> None:
    client = ready_legacy_pair.client
    with pytest.raises(RemoteProtocolError) as info:
        client.receive(frame)
    assert info.value.close_code == CloseCode.PROTOCOL_ERROR
    assert client.state is ConnectionState.CLOSING
    assert client.receive('{"type":"ka"}') == []


def test_client_closes_1002_for_data_before_ack(legacy_pair: LegacyPair) -> None:
    legacy_pair.client.send(ConnectionInit())
    with pytest.raises(RemoteProtocolError) as info:
        legacy_pair.client.receive(serialize(Data(id="1", payload=RESULT)))  # type: ignore[arg-type]
    assert info.value.close_code == 1002


def test_client_closes_1002_for_ack_before_init() -> None:
    with pytest.raises(RemoteProtocolError, match="Unexpected 'connection_ack'"):
        Connection(Role.CLIENT).receive('{"type":"connection_ack"}')


@pytest.mark.parametrize(
    "message",
    [
        ConnectionAck(),
        ConnectionErrorMessage(),
        Ka(),
        Data(id="1", payload=RESULT),  # type: ignore[arg-type]
        Complete(id="1"),
    ],
    ids=lambda message: message.type,
)
def test_client_cannot_send_server_messages(message: Message) -> None:
    client = Connection(Role.CLIENT)
    with pytest.raises(LocalProtocolError, match="from the client"):
        client.send(message)
    assert client.state is ConnectionState.CLOSING


@pytest.mark.parametrize(
    "message",
    [ConnectionInit(), start("1"), Stop(id="1"), ConnectionTerminate()],
    ids=lambda message: message.type,
)
def test_server_cannot_send_client_messages(
    ready_legacy_pair: LegacyPair, message: Message
) -> None:
    with pytest.raises(LocalProtocolError, match="from the server"):
        ready_legacy_pair.server.send(message)
    assert ready_legacy_pair.server.state is ConnectionState.CLOSING


# --- the socket goes away ----------------------------------------------------------------------


def test_connection_closed_returns_running_and_stopping_ids(
    ready_legacy_pair: LegacyPair,
) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1"))
    ready_legacy_pair.exchange(Role.CLIENT, start("2"))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="2"))
    assert sorted(ready_legacy_pair.server.connection_closed()) == ["1", "2"]
    assert ready_legacy_pair.server.state is ConnectionState.CLOSED
    assert list(ready_legacy_pair.server.operations) == []
    assert ready_legacy_pair.server.receive(serialize(start("3"))) == []
    assert ready_legacy_pair.server.next_deadline() is None
