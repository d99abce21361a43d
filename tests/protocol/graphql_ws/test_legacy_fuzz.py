"""Property tests: nothing a peer or a host does makes a legacy `Connection` misbehave.

Arbitrary bytes and arbitrary message sequences produce only events, or a `ProtocolError`
carrying a close code the legacy protocol uses — never another exception. A server never
raises for what it receives. Two connections wired together stay in agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st
from legacy_helpers import LegacyPair
from legacy_strategies import MESSAGES

from clew.protocol import ConnectionState, LocalProtocolError, ProtocolError, Role
from clew.protocol.graphql_ws import (
    Complete,
    Connection,
    ConnectionAck,
    ConnectionInit,
    Error,
    Message,
    Refused,
    Start,
    Stop,
    serialize,
)

LEGACY_CODES = {1002, 1011}
T = TypeVar("T")


def opened(role: Role, stage: int) -> Connection:
    """A connection of `role` at stage 0 (fresh), 1 (init passed) or 2 (acknowledged)."""
    conn = Connection(role, keepalive_interval=5.0, keepalive_timeout=5.0)
    if stage >= 1:
        if role is Role.CLIENT:
            conn.send(ConnectionInit())
        else:
            conn.receive('{"type":"connection_init"}')
    if stage >= 2:
        if role is Role.CLIENT:
            conn.receive('{"type":"connection_ack"}')
        else:
            conn.send(ConnectionAck())
    return conn


def attempt(action: Callable[[], T]) -> T | ProtocolError:
    """Run `action`; a `ProtocolError` is returned rather than raised, for the caller to check."""
    try:
        return action()
    except ProtocolError as exc:
        return exc


def feed(conn: Connection, data: str | bytes) -> None:
    outcome = attempt(lambda: conn.receive(data))
    if isinstance(outcome, ProtocolError):
        assert conn.our_role is Role.CLIENT, "a server never raises for what it receives"
        assert outcome.close_code in LEGACY_CODES
        assert conn.state is ConnectionState.CLOSING
        return
    for event in outcome:
        if isinstance(event, Refused):
            assert conn.our_role is Role.SERVER
            assert event.reply.startswith('{"')


@given(st.sampled_from(list(Role)), st.integers(0, 2), st.binary(max_size=200))
def test_arbitrary_bytes_give_events_or_a_protocol_error(
    role: Role, stage: int, data: bytes
) -> None:
    feed(opened(role, stage), data)


@given(st.sampled_from(list(Role)), st.integers(0, 2), st.text(max_size=200))
def test_arbitrary_text_gives_events_or_a_protocol_error(role: Role, stage: int, data: str) -> None:
    feed(opened(role, stage), data)


_actions = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), MESSAGES),
        st.tuples(st.just("send"), MESSAGES),
        st.tuples(st.just("timer"), st.floats(0, 100)),
        st.tuples(st.just("raw"), st.binary(max_size=40)),
    ),
    max_size=25,
)


@given(st.sampled_from(list(Role)), _actions)
def test_arbitrary_message_sequences_give_events_or_protocol_errors(
    role: Role, actions: list[tuple[str, object]]
) -> None:
    conn = Connection(role, keepalive_interval=3.0, keepalive_timeout=7.0)
    now = 0.0
    for kind, value in actions:
        if kind == "receive":
            feed(conn, serialize(value))  # type: ignore[arg-type]
        elif kind == "raw":
            feed(conn, value)  # type: ignore[arg-type]
        else:
            if kind == "send":
                outcome = attempt(lambda v=value: conn.send(v))  # type: ignore[misc]
            else:
                now += value  # type: ignore[operator]
                outcome = attempt(lambda t=now: conn.handle_timer(t))  # type: ignore[misc]
            if isinstance(outcome, ProtocolError):
                assert outcome.close_code in LEGACY_CODES
        deadline = conn.next_deadline()
        assert deadline is None or isinstance(deadline, float)
    live = conn.connection_closed()
    assert len(set(live)) == len(live)
    assert conn.state is ConnectionState.CLOSED


@given(st.booleans(), st.lists(st.tuples(st.sampled_from(list(Role)), MESSAGES), max_size=30))
def test_a_wired_pair_agrees_on_every_frame(
    handshake: bool, steps: list[tuple[Role, Message]]
) -> None:
    pair = LegacyPair()
    if handshake:
        pair.handshake()
    #: The operations as a plain model: id -> stopping?
    model: dict[str, bool] = {}
    for sender, message in steps:
        outcome = attempt(lambda s=sender, m=message: pair.conn(s).send(m))  # type: ignore[misc]
        if isinstance(outcome, ProtocolError):
            assert isinstance(outcome, LocalProtocolError)
            assert outcome.close_code in LEGACY_CODES
            if pair.conn(sender).state is ConnectionState.CLOSING:
                return
            continue
        # What one side may send, the other accepts: as itself, or silently when it settles
        # an operation the client already stopped.
        events = pair.deliver(sender, outcome)
        match message:
            case Start(id=operation_id):
                model[operation_id] = False
            case Stop(id=operation_id):
                model[operation_id] = True
            case Complete(id=operation_id) | Error(id=operation_id):
                if model.pop(operation_id):
                    assert events == []
                    continue
            case _:
                pass
        assert events == [message]
        assert pair.client.state is pair.server.state
        assert set(pair.client.operations) == set(pair.server.operations) == set(model)
