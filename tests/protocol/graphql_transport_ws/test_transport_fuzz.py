"""Whatever arrives, a connection answers with messages or a `ProtocolError` with a close code.

Nothing a peer sends may raise any other exception: the host maps that error to a close frame,
so a crash here would be a remote crash.
"""

from __future__ import annotations

import json

import pytest
from helpers import ConnectionPair
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transport_strategies import IDS, JSON_VALUES, MESSAGES

from clew.protocol import (
    CloseCode,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from clew.protocol.graphql_transport_ws import (
    Connection,
    ConnectionAck,
    ConnectionInit,
    Message,
    MessageType,
    parse,
    serialize,
)

STAGES = ["awaiting init", "awaiting ack", "acknowledged"]
CLOSE_CODES = {int(code) for code in CloseCode}
ROLES = st.sampled_from(Role)


def connection_at(role: Role, stage: str) -> Connection:
    pair = ConnectionPair()
    if stage != "awaiting init":
        pair.exchange(Role.CLIENT, ConnectionInit())
    if stage == "acknowledged":
        pair.exchange(Role.SERVER, ConnectionAck())
    return pair.conn(role)


def closed_with(conn: Connection, error: RemoteProtocolError) -> RemoteProtocolError:
    """A remote error must carry a close code, a short reason, and leave the connection closing."""
    assert error.close_code in CLOSE_CODES
    assert len(error.reason.encode("utf-8")) <= 123
    assert conn.state is ConnectionState.CLOSING
    return error


def feed(conn: Connection, frame: str | bytes) -> list[Message] | RemoteProtocolError:
    """Receive `frame`, checking the only two outcomes the protocol allows."""
    before = conn.state
    try:
        messages = conn.receive(frame)
    except RemoteProtocolError as error:
        return closed_with(conn, error)
    assert len(messages) <= 1
    if before in (ConnectionState.CLOSING, ConnectionState.CLOSED):
        assert messages == []
    for message in messages:
        assert parse(serialize(message)) == message
    return messages


@given(ROLES, st.sampled_from(STAGES), st.binary(max_size=200))
def test_arbitrary_bytes(role: Role, stage: str, data: bytes) -> None:
    feed(connection_at(role, stage), data)


@given(ROLES, st.sampled_from(STAGES), st.text(max_size=200))
def test_arbitrary_text(role: Role, stage: str, data: str) -> None:
    feed(connection_at(role, stage), data)


ENVELOPES = st.dictionaries(
    st.sampled_from(["type", "id", "payload"]) | st.text(max_size=5),
    JSON_VALUES,
    max_size=4,
)
PLAUSIBLE = st.fixed_dictionaries(
    {"type": st.sampled_from([str(t) for t in MessageType]) | JSON_VALUES},
    optional={
        "id": IDS | JSON_VALUES,
        "payload": JSON_VALUES
        | st.fixed_dictionaries(
            {"query": st.text() | JSON_VALUES},
            optional={
                "operationName": JSON_VALUES,
                "variables": JSON_VALUES,
                "extensions": JSON_VALUES,
            },
        )
        | st.lists(st.fixed_dictionaries({"message": st.text() | JSON_VALUES}), max_size=2),
    },
)


@given(ROLES, st.sampled_from(STAGES), ENVELOPES | PLAUSIBLE)
def test_arbitrary_json_objects(role: Role, stage: str, obj: dict[str, object]) -> None:
    feed(connection_at(role, stage), json.dumps(obj))


@given(ROLES, st.lists(MESSAGES, max_size=12))
def test_arbitrary_sequences_of_valid_frames(role: Role, messages: list[Message]) -> None:
    conn = Connection(role)
    failed = False
    for message in messages:
        outcome = feed(conn, serialize(message))
        if failed:
            # Once a close is decided, frames still in flight are dropped.
            assert outcome == []
        elif isinstance(outcome, RemoteProtocolError):
            failed = True
        else:
            assert outcome in ([message], [])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(st.tuples(ROLES, MESSAGES), max_size=15))
def test_both_sides_always_agree(handshake: bool, steps: list[tuple[Role, Message]]) -> None:
    """Whatever a side is allowed to send, the other side accepts, and their states match."""
    pair = ConnectionPair()
    if handshake:
        pair.handshake()
    for sender, message in steps:
        conn = pair.conn(sender)
        before = conn.state
        try:
            frame = conn.send(message)
        except LocalProtocolError as error:
            refused = error
        else:
            assert pair.peer(sender).receive(frame) == [message]
            assert pair.client.state is pair.server.state
            assert set(pair.client.operations) == set(pair.server.operations)
            continue
        assert refused.close_code in CLOSE_CODES
        if conn.state is ConnectionState.CLOSING:
            return
        # Refused without closing: only a message for an operation that is not running.
        assert conn.state is before
        assert str(refused).endswith("is running")


@pytest.mark.parametrize("stage", STAGES)
def test_frames_after_close_are_dropped(role: Role, stage: str) -> None:
    conn = connection_at(role, stage)
    conn.connection_closed()
    assert feed(conn, '{"type":"ping"}') == []
    assert conn.state is ConnectionState.CLOSED
