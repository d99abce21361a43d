"""The legacy transition table on its own: every (sender, state, message) cell, and its shape."""

from __future__ import annotations

import itertools

import pytest

from clew.protocol import CloseCode, ConnectionState, LocalProtocolError, Role
from clew.protocol._operations import OperationRegistry, OperationState
from clew.protocol.graphql_ws import (
    TRANSITIONS,
    Complete,
    ConnectionAck,
    ConnectionErrorMessage,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    Ka,
    Message,
    Start,
    Stop,
)
from clew.protocol.graphql_ws._state import Verdict, refusal, transition

SAMPLES: list[Message] = [
    ConnectionInit(),
    ConnectionAck(),
    ConnectionErrorMessage(),
    Ka(),
    ConnectionTerminate(),
    Start(id="1", payload={"query": "{ a }"}),
    Stop(id="1"),
    Data(id="1", payload={"data": None}),
    Error(id="1", payload={"message": "x"}),
    Complete(id="1"),
]
CLIENT_SENDS = {ConnectionInit, Start, Stop, ConnectionTerminate}
STATES = list(ConnectionState)
CELLS = list(itertools.product(Role, STATES, SAMPLES))


def test_every_message_class_has_a_sample() -> None:
    assert {type(message) for message in SAMPLES} == {
        cls for allowed in TRANSITIONS.values() for cls in allowed
    }


def test_each_side_sends_only_its_own_messages() -> None:
    for (sender, _), allowed in TRANSITIONS.items():
        client_only = set(allowed) <= CLIENT_SENDS
        server_only = not set(allowed) & CLIENT_SENDS
        assert client_only if sender is Role.CLIENT else server_only


def test_closing_and_closed_accept_nothing() -> None:
    for sender, state in itertools.product(Role, (ConnectionState.CLOSING, ConnectionState.CLOSED)):
        assert (sender, state) not in TRANSITIONS


def test_what_a_server_may_send_before_init_a_client_awaiting_ack_accepts() -> None:
    # The client moves first (it sends init), so a server frame written before the init
    # arrived reaches a client that is already awaiting its ack.
    before = TRANSITIONS[Role.SERVER, ConnectionState.AWAITING_INIT]
    assert set(before) <= set(TRANSITIONS[Role.SERVER, ConnectionState.AWAITING_ACK])


@pytest.mark.parametrize(
    ("sender", "state", "message"),
    CELLS,
    ids=[f"{r.value}-{s.value}-{m.type}" for r, s, m in CELLS],
)
def test_transition_follows_the_table(
    sender: Role, state: ConnectionState, message: Message
) -> None:
    operations = OperationRegistry()
    operations.reserve("1")
    allowed = TRANSITIONS.get((sender, state), {})
    if type(message) in allowed:
        new_state, _ = transition(sender, state, message, operations)
        assert new_state is allowed[type(message)]
    else:
        with pytest.raises(LocalProtocolError) as info:
            transition(sender, state, message, operations)
        assert info.value.close_code == CloseCode.PROTOCOL_ERROR
        assert list(operations) == ["1"]


@pytest.mark.parametrize(
    ("message", "before", "verdict", "after"),
    [
        (Start(id="1", payload={"query": "q"}), None, Verdict.ACCEPTED, OperationState.RUNNING),
        (
            Start(id="1", payload={"query": "q"}),
            OperationState.STOPPING,
            Verdict.ACCEPTED,
            OperationState.RUNNING,
        ),
        (Stop(id="1"), OperationState.RUNNING, Verdict.ACCEPTED, OperationState.STOPPING),
        (Stop(id="1"), OperationState.STOPPING, Verdict.IGNORED, OperationState.STOPPING),
        (Stop(id="1"), None, Verdict.IGNORED, None),
        (
            Data(id="1", payload={}),
            OperationState.RUNNING,
            Verdict.ACCEPTED,
            OperationState.RUNNING,
        ),
        (
            Data(id="1", payload={}),
            OperationState.STOPPING,
            Verdict.IGNORED,
            OperationState.STOPPING,
        ),
        (Data(id="1", payload={}), None, Verdict.IGNORED, None),
        (Complete(id="1"), OperationState.RUNNING, Verdict.ACCEPTED, None),
        (Complete(id="1"), OperationState.STOPPING, Verdict.SETTLED, None),
        (Complete(id="1"), None, Verdict.IGNORED, None),
        (Error(id="1", payload={"message": "x"}), OperationState.RUNNING, Verdict.ACCEPTED, None),
        (Error(id="1", payload={"message": "x"}), OperationState.STOPPING, Verdict.SETTLED, None),
        (Error(id="1", payload={"message": "x"}), None, Verdict.IGNORED, None),
    ],
)
def test_operation_messages_move_the_id(
    message: Message,
    before: OperationState | None,
    verdict: Verdict,
    after: OperationState | None,
) -> None:
    operations = OperationRegistry()
    if before is not None:
        operations.reserve("1")
        if before is OperationState.STOPPING:
            operations.stop("1")
    sender = Role.CLIENT if type(message) in CLIENT_SENDS else Role.SERVER
    state, got = transition(sender, ConnectionState.ACKNOWLEDGED, message, operations)
    assert state is ConnectionState.ACKNOWLEDGED
    assert got is verdict
    assert operations.state_of("1") is after


def test_refusal_names_the_id_only_when_it_is_free() -> None:
    operations = OperationRegistry()
    operations.reserve("live")
    assert refusal("new", "why", operations) == Error(id="new", payload={"message": "why"})
    for operation_id in ("live", "", None, 3):
        assert refusal(operation_id, "why", operations) == ConnectionErrorMessage(
            payload={"message": "why"}
        )
