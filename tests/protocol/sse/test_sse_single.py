"""Single connection mode: the reservation's table, and the protocol's status for each misuse."""

from __future__ import annotations

import pytest

from clew.protocol.http import RequestError
from clew.protocol.sse import (
    MAX_ID_CHARS,
    TRANSITIONS,
    Complete,
    EventStreamParser,
    Next,
    Reservation,
    StreamEvent,
    StreamState,
    parse_message,
    validate_operation_id,
)


def at(state: StreamState) -> Reservation:
    reservation = Reservation("tok")
    if state is StreamState.OPEN:
        reservation.open_stream()
    elif state is StreamState.CLOSED:
        reservation.close()
    assert reservation.state is state
    return reservation


def apply(reservation: Reservation, event: StreamEvent) -> None:
    if event is StreamEvent.OPEN:
        reservation.open_stream()
    else:
        reservation.close()


ALL = [(state, event) for state in StreamState for event in StreamEvent]


@pytest.mark.parametrize(("state", "event"), ALL)
def test_every_state_and_event_follows_the_table(state: StreamState, event: StreamEvent) -> None:
    reservation = at(state)
    expected = TRANSITIONS[state].get(event)
    if expected is not None:
        apply(reservation, event)
        assert reservation.state is expected
    else:
        with pytest.raises(RequestError) as caught:
            apply(reservation, event)
        assert reservation.state is state
        assert (caught.value.status_code, caught.value.message) == REFUSED[state, event]


#: The protocol's answers, written out independently of the module's own table.
REFUSED = {
    (StreamState.OPEN, StreamEvent.OPEN): (409, "Stream already open"),
    (StreamState.CLOSED, StreamEvent.OPEN): (404, "Stream not found"),
}


def test_the_refusals_cover_exactly_the_missing_transitions() -> None:
    missing = {(s, e) for s, e in ALL if e not in TRANSITIONS[s]}
    assert missing == set(REFUSED)


@pytest.mark.parametrize("state", [StreamState.RESERVED, StreamState.OPEN])
def test_operations_run_before_and_after_the_stream_opens(state: StreamState) -> None:
    reservation = at(state)
    assert reservation.start("a") == "a"
    assert reservation.is_running("a")
    frame = reservation.send_next("a", b'{"data":{"x":1}}')
    assert frame == b'event: next\ndata: {"id":"a","payload":{"data":{"x":1}}}\n\n'
    assert reservation.send_complete("a") == b'event: complete\ndata: {"id":"a"}\n\n'
    assert not reservation.is_running("a")
    # Once complete, the id is free again, and nothing more goes out for it.
    assert reservation.send_next("a", b"{}") is None
    assert reservation.send_complete("a") is None
    assert reservation.start("a") == "a"


BAD_IDS = [
    (None, 400, "Operation ID is missing"),
    ("", 400, "Operation ID is missing"),
    (7, 400, "Operation ID is missing"),
    ("x" * (MAX_ID_CHARS + 1), 400, "exceeds"),
]


@pytest.mark.parametrize(("operation_id", "status", "message"), BAD_IDS)
def test_invalid_operation_ids(operation_id: object, status: int, message: str) -> None:
    for call in (Reservation("t").start, Reservation("t").stop, validate_operation_id):
        with pytest.raises(RequestError, match=message) as caught:
            call(operation_id)
        assert caught.value.status_code == status


def test_a_running_id_is_409() -> None:
    reservation = at(StreamState.OPEN)
    reservation.start("a")
    with pytest.raises(RequestError, match="Operation with ID already exists") as caught:
        reservation.start("a")
    assert caught.value.status_code == 409


def test_too_many_operations_is_429() -> None:
    reservation = Reservation("t", max_operations=2)
    reservation.start("a")
    reservation.start("b")
    with pytest.raises(RequestError, match="maximum of 2") as caught:
        reservation.start("c")
    assert caught.value.status_code == 429
    reservation.stop("a")
    assert reservation.start("c") == "c"


def test_stop_answers_whether_the_operation_was_running() -> None:
    reservation = at(StreamState.OPEN)
    reservation.start("a")
    assert reservation.stop("a") is True
    assert reservation.stop("a") is False  # 200 either way; nothing to cancel
    assert reservation.stop("never") is False
    assert reservation.send_complete("a") is None  # a late complete is not written


@pytest.mark.parametrize("call", ["start", "stop"])
def test_a_closed_reservation_is_404(call: str) -> None:
    reservation = at(StreamState.CLOSED)
    with pytest.raises(RequestError, match="Stream not found") as caught:
        getattr(reservation, call)("a")
    assert caught.value.status_code == 404


def test_close_returns_the_operations_to_stop() -> None:
    reservation = at(StreamState.OPEN)
    reservation.start("a")
    reservation.start("b")
    assert reservation.operations == {"a", "b"}
    assert reservation.close() == {"a", "b"}
    assert reservation.operations == frozenset()
    assert reservation.close() == frozenset()


def test_the_client_side_routes_and_ignores_stream_events() -> None:
    server, client = Reservation("t"), Reservation("t")
    for side in (server, client):
        side.open_stream()
        side.start("a")
    wire = server.send_next("a", b'{"data":{"x":1}}')
    assert wire is not None
    wire += server.send_complete("a") or b""
    events = [
        parse_message(event, single_connection=True) for event in EventStreamParser().feed(wire)
    ]
    assert [client.receive(message) for message in events] == [
        Next(payload={"data": {"x": 1}}, id="a"),
        Complete(id="a"),
    ]
    assert not client.is_running("a")
    # Events for unknown or finished operations are ignored, as are id-less ones.
    assert client.receive(Complete(id="a")) is None
    assert client.receive(Next(payload={}, id="zzz")) is None
    assert client.receive(Next(payload={})) is None
