"""The transition table, entry by entry: what it allows moves as written, anything else closes."""

from __future__ import annotations

import itertools

import pytest

from clew.protocol import (
    CloseCode,
    ConnectionState,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
)
from clew.protocol._operations import OperationRegistry
from clew.protocol.graphql_transport_ws import (
    TRANSITIONS,
    Complete,
    Connection,
    ConnectionAck,
    ConnectionInit,
    Error,
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
    serialize,
)
from clew.protocol.graphql_transport_ws._state import transition

SAMPLES: dict[type[Message], Message] = {
    ConnectionInit: ConnectionInit(),
    ConnectionAck: ConnectionAck(),
    Ping: Ping(),
    Pong: Pong(),
    Subscribe: Subscribe(id="1", payload={"query": "{ a }"}),
    Next: Next(id="1", payload={"data": None}),
    Error: Error(id="1", payload=[{"message": "e"}]),
    Complete: Complete(id="1"),
}
STATES = list(ConnectionState)
_INIT = ConnectionState.AWAITING_INIT
_ACK = ConnectionState.AWAITING_ACK
_READY = ConnectionState.ACKNOWLEDGED
ALLOWED = [
    pytest.param(sender, state, cls, new_state, id=f"{sender.value}-{state.value}-{cls.__name__}")
    for (sender, state), moves in TRANSITIONS.items()
    for cls, new_state in moves.items()
]
FORBIDDEN = [
    pytest.param(sender, state, cls, id=f"{sender.value}-{state.value}-{cls.__name__}")
    for sender, state, cls in itertools.product(Role, STATES, SAMPLES)
    if cls not in TRANSITIONS.get((sender, state), {})
]


def registry_for(message: Message) -> OperationRegistry:
    """Operations such that `message` names a running one (or a free id, for subscribe)."""
    registry = OperationRegistry()
    if not isinstance(message, Subscribe) and hasattr(message, "id"):
        registry.reserve("1")
    return registry


def connection_in(our_role: Role, state: ConnectionState) -> Connection:
    """A connection brought to `state` through real messages."""
    conn = Connection(our_role)
    if state is ConnectionState.AWAITING_INIT:
        return conn
    if our_role is Role.CLIENT:
        conn.send(ConnectionInit())
    else:
        conn.receive(serialize(ConnectionInit()))
    if state is ConnectionState.AWAITING_ACK:
        return conn
    if our_role is Role.CLIENT:
        conn.receive(serialize(ConnectionAck()))
    else:
        conn.send(ConnectionAck())
    return conn


def test_the_table_covers_the_live_states_of_both_senders() -> None:
    live = [
        ConnectionState.AWAITING_INIT,
        ConnectionState.AWAITING_ACK,
        ConnectionState.ACKNOWLEDGED,
    ]
    assert set(TRANSITIONS) == set(itertools.product(Role, live))
    assert len(ALLOWED) + len(FORBIDDEN) == len(Role) * len(STATES) * len(SAMPLES)


def test_the_table_respects_message_direction() -> None:
    client_only = {ConnectionInit, Subscribe}
    server_only = {ConnectionAck, Next, Error}
    for (sender, _), moves in TRANSITIONS.items():
        assert not set(moves) & (server_only if sender is Role.CLIENT else client_only)


def test_only_init_and_ack_change_the_connection_state() -> None:
    changes = {
        (sender, state, cls, new_state)
        for (sender, state), moves in TRANSITIONS.items()
        for cls, new_state in moves.items()
        if new_state is not state
    }
    assert changes == {
        (
            Role.CLIENT,
            ConnectionState.AWAITING_INIT,
            ConnectionInit,
            ConnectionState.AWAITING_ACK,
        ),
        (
            Role.SERVER,
            ConnectionState.AWAITING_ACK,
            ConnectionAck,
            ConnectionState.ACKNOWLEDGED,
        ),
    }


@pytest.mark.parametrize(("sender", "state", "cls", "new_state"), ALLOWED)
def test_allowed_entry_moves_as_the_table_says(
    sender: Role, state: ConnectionState, cls: type[Message], new_state: ConnectionState
) -> None:
    message = SAMPLES[cls]
    registry = registry_for(message)
    assert transition(sender, state, message, registry) == (new_state, True)


@pytest.mark.parametrize(("sender", "state", "cls", "new_state"), ALLOWED)
def test_allowed_entry_applies_to_sender_and_receiver(
    sender: Role, state: ConnectionState, cls: type[Message], new_state: ConnectionState
) -> None:
    message = SAMPLES[cls]
    ours = connection_in(sender, state)
    theirs = connection_in(Role.CLIENT if sender is Role.SERVER else Role.SERVER, state)
    if isinstance(message, Next | Error | Complete) and state is ConnectionState.ACKNOWLEDGED:
        # Make `message` name a running operation on both sides.
        frame = connection_in(Role.CLIENT, state).send(SAMPLES[Subscribe])
        (ours if sender is Role.SERVER else theirs).receive(frame)
        (theirs if sender is Role.SERVER else ours).send(SAMPLES[Subscribe])
    if isinstance(message, Complete) and state is not ConnectionState.ACKNOWLEDGED:
        # No operation can run yet: the receiver ignores it, the sender is refused.
        assert theirs.receive(serialize(message)) == []
        with pytest.raises(LocalProtocolError, match="no operation"):
            ours.send(message)
    else:
        assert theirs.receive(ours.send(message)) == [message]
    assert ours.state is theirs.state is new_state


@pytest.mark.parametrize(("sender", "state", "cls"), FORBIDDEN)
def test_missing_entry_raises_with_a_close_code(
    sender: Role, state: ConnectionState, cls: type[Message]
) -> None:
    message = SAMPLES[cls]
    with pytest.raises(LocalProtocolError) as info:
        transition(sender, state, message, registry_for(message))
    code = info.value.close_code
    assert code in set(CloseCode)
    if sender is Role.SERVER:
        assert code == CloseCode.BAD_RESPONSE
    elif cls is Subscribe and state in (_INIT, _ACK):
        assert code == CloseCode.UNAUTHORIZED
    elif cls is ConnectionInit and state in (_ACK, _READY):
        assert code == CloseCode.TOO_MANY_INITIALISATION_REQUESTS
    else:
        assert code == CloseCode.BAD_REQUEST


@pytest.mark.parametrize(
    ("sender", "state", "cls"),
    [p for p in FORBIDDEN if p.values[1] in (_INIT, _ACK, _READY)],
)
def test_missing_entry_closes_the_receiving_connection(
    sender: Role, state: ConnectionState, cls: type[Message]
) -> None:
    receiver = connection_in(Role.CLIENT if sender is Role.SERVER else Role.SERVER, state)
    with pytest.raises(RemoteProtocolError) as info:
        receiver.receive(serialize(SAMPLES[cls]))
    assert info.value.close_code in set(CloseCode)
    assert receiver.state is ConnectionState.CLOSING


def test_duplicate_subscribe_is_the_one_error_about_ids() -> None:
    registry = OperationRegistry()
    registry.reserve("1")
    with pytest.raises(LocalProtocolError) as info:
        transition(Role.CLIENT, ConnectionState.ACKNOWLEDGED, SAMPLES[Subscribe], registry)
    assert info.value.close_code == CloseCode.SUBSCRIBER_ALREADY_EXISTS
    # Everything else naming an unknown id is merely "does not count".
    for cls in (Next, Error, Complete):
        assert transition(
            Role.SERVER, ConnectionState.ACKNOWLEDGED, SAMPLES[cls], OperationRegistry()
        ) == (ConnectionState.ACKNOWLEDGED, False)
