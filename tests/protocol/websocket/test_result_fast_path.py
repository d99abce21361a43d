"""A client's fast path for results (`receive_result`) changes nothing but the time it takes.

Every frame a client can receive — results for running, unknown, stopped and finished ids,
malformed results, errors, completions, pings, broken JSON — gives exactly the events and the
state that the full path gives. The reference is the same connection with its fast path
switched off, fed the same frames, one subscription interleaved with another.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clew.protocol import ConnectionState, RemoteProtocolError, Role, Subprotocol
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as gws
from clew.protocol.websocket import (
    CloseRequired,
    Connection,
    Event,
    OperationCompleted,
    OperationFailed,
    ResultReceived,
)

TRANSPORT = Subprotocol.GRAPHQL_TRANSPORT_WS
LEGACY = Subprotocol.GRAPHQL_WS
QUERY = {"query": "subscription { s }"}
RESULT = {"data": {"s": 1}}


def result_type(subprotocol: Subprotocol) -> str:
    return "next" if subprotocol is TRANSPORT else "data"


def frame(**fields: object) -> str:
    return json.dumps(fields)


def frames(subprotocol: Subprotocol) -> list[str]:
    """Everything a server might send a client with operations "1" and "2" running."""
    kind = result_type(subprotocol)
    return [
        frame(id="1", type=kind, payload=RESULT),
        frame(id="2", type=kind, payload={"data": {"s": 2}, "errors": [{"message": "e"}]}),
        frame(id="2", type=kind, payload={"data": None, "errors": [{"message": "e"}]}),
        frame(id="9", type=kind, payload=RESULT),  # an id that never ran
        frame(id="", type=kind, payload=RESULT),
        frame(id=1, type=kind, payload=RESULT),
        frame(id=["1"], type=kind, payload=RESULT),
        frame(id="1", type=kind, payload=[1]),
        frame(id="1", type=kind, payload=None),
        frame(id="1", type=kind),
        frame(type=kind, payload=RESULT),
        frame(id="1", type=kind, payload={"data": {"big": 12345678901234567890123}}),
        frame(id="1", type="complete"),
        frame(id="2", type="error", payload=[{"message": "boom"}]),
        frame(id="2", type="error", payload={"message": "boom"}),
        frame(type="ping"),
        frame(type="pong"),
        frame(type="ka"),
        frame(type="connection_ack"),
        frame(id="1", type="subscribe", payload=QUERY),
        frame(id="1", type=1, payload=RESULT),
        frame(id="1", payload=RESULT),
        '{"id":"1","type":"' + kind + '","payload":{"data":{"s":NaN}}}',
        "[1, 2]",
        "not json",
        "",
        b'{"id":"1","type":"' + kind.encode() + b'","payload":{"data":{"s":3}}}',  # type: ignore[list-item]
        b"\xff",  # type: ignore[list-item]
    ]


def acknowledged(subprotocol: Subprotocol, *, flat: bool) -> Connection:
    """A client with operations "1" and "2" running (legacy: and "3" stopping)."""
    conn = Connection(subprotocol, Role.CLIENT)
    if not flat:
        conn._take = None  # the reference runs the full path only
    conn.init()
    assert conn.receive('{"type":"connection_ack"}')
    for operation_id in ("1", "2", "3"):
        conn.start(operation_id, QUERY)  # type: ignore[arg-type]
    assert conn.cancel("3") is not None  # legacy: "3" is stopping; otherwise it is gone
    return conn


def outcome(conn: Connection, data: str | bytes) -> tuple[list[Event], ConnectionState, list[str]]:
    events = conn.receive(data)
    return events, conn.state, sorted(conn.operations)


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_every_frame_alone_is_handled_as_by_the_full_path(subprotocol: Subprotocol) -> None:
    for data in frames(subprotocol):
        fast, full = (acknowledged(subprotocol, flat=flat) for flat in (True, False))
        assert outcome(fast, data) == outcome(full, data), data
        # Afterwards too: the next result is handled alike.
        after = frame(id="2", type=result_type(subprotocol), payload=RESULT)
        assert outcome(fast, after) == outcome(full, after), data


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_sequence_of_frames_is_handled_as_by_the_full_path(
    subprotocol: Subprotocol, data: st.DataObject
) -> None:
    sequence = data.draw(st.lists(st.sampled_from(frames(subprotocol)), max_size=12))
    fast, full = (acknowledged(subprotocol, flat=flat) for flat in (True, False))
    for item in sequence:
        assert outcome(fast, item) == outcome(full, item), item


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_receive_result_is_the_full_paths_result_or_nothing(subprotocol: Subprotocol) -> None:
    """A host taking `receive_result` first, then `receive` on None, sees what `receive` gives."""
    for data in frames(subprotocol):
        flat, full = (acknowledged(subprotocol, flat=flat) for flat in (True, False))
        expected = outcome(full, data)
        result = flat.receive_result(data)
        if result is None:
            assert outcome(flat, data) == expected, data
        else:
            assert [ResultReceived(id=result[0], payload=result[1])] == expected[0], data
            assert (flat.state, sorted(flat.operations)) == expected[1:], data


def test_receive_result_is_none_for_a_server_and_after_the_end() -> None:
    server = Connection(TRANSPORT, Role.SERVER)
    server.receive('{"type":"connection_init"}')
    server.accept()
    server.receive(frame(id="1", type="subscribe", payload=QUERY))
    assert server.receive_result(frame(id="1", type="next", payload=RESULT)) is None
    client = acknowledged(TRANSPORT, flat=True)
    client.terminate()
    assert client.receive_result(frame(id="1", type="next", payload=RESULT)) is None


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_interleaved_subscriptions_each_get_their_results_then_end(
    subprotocol: Subprotocol,
) -> None:
    conn = acknowledged(subprotocol, flat=True)
    kind = result_type(subprotocol)
    error = [{"message": "boom"}] if subprotocol is TRANSPORT else {"message": "boom"}
    events = [
        event
        for data in (
            frame(id="1", type=kind, payload={"data": {"s": 1}}),
            frame(id="2", type=kind, payload={"data": {"s": 10}}),
            frame(id="1", type=kind, payload={"data": {"s": 2}}),
            frame(id="1", type="complete"),
            frame(id="1", type=kind, payload={"data": {"s": 3}}),  # after complete: dropped
            frame(id="2", type=kind, payload={"data": {"s": 11}}),
            frame(id="2", type="error", payload=error),
            frame(id="2", type=kind, payload={"data": {"s": 12}}),  # after error: dropped
        )
        for event in conn.receive(data)
    ]
    assert events == [
        ResultReceived(id="1", payload={"data": {"s": 1}}),
        ResultReceived(id="2", payload={"data": {"s": 10}}),
        ResultReceived(id="1", payload={"data": {"s": 2}}),
        OperationCompleted(id="1"),
        ResultReceived(id="2", payload={"data": {"s": 11}}),
        OperationFailed(id="2", errors=[{"message": "boom"}]),
    ]
    assert conn.state is ConnectionState.ACKNOWLEDGED


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_a_malformed_result_for_a_running_id_still_closes_the_socket(
    subprotocol: Subprotocol,
) -> None:
    conn = acknowledged(subprotocol, flat=True)
    [event] = conn.receive(frame(id="1", type=result_type(subprotocol), payload=[1]))
    assert isinstance(event, CloseRequired)
    assert not event.retryable
    assert conn.state is ConnectionState.CLOSING
    # Nothing more is taken, results included.
    assert conn.receive(frame(id="2", type=result_type(subprotocol), payload=RESULT)) == []


# -- the subprotocols' `receive_result` on its own ----------------------------------------------


def transport_client() -> tws.Connection:
    conn = tws.Connection(Role.CLIENT)
    conn.send(tws.ConnectionInit())
    conn.receive('{"type":"connection_ack"}')
    conn.send(tws.Subscribe(id="1", payload=QUERY))  # type: ignore[arg-type]
    return conn


def legacy_client() -> gws.Connection:
    conn = gws.Connection(Role.CLIENT)
    conn.send(gws.ConnectionInit())
    conn.receive('{"type":"connection_ack"}')
    conn.send(gws.Start(id="1", payload=QUERY))  # type: ignore[arg-type]
    conn.send(gws.Start(id="2", payload=QUERY))  # type: ignore[arg-type]
    conn.send(gws.Stop(id="2"))
    return conn


def test_transport_receive_result_takes_only_a_next_the_table_allows() -> None:
    conn = transport_client()
    take = conn.receive_result
    assert take({"id": "1", "type": "next", "payload": RESULT}) == ("1", RESULT)
    assert take({"id": "1", "type": "next", "payload": RESULT}) == ("1", RESULT)  # cached row
    assert take({"id": "1", "type": "complete"}) is None
    assert take({"id": "1", "type": "next", "payload": "x"}) is None
    assert take({"id": 1, "type": "next", "payload": RESULT}) is None
    assert take({"id": "2", "type": "next", "payload": RESULT}) is None
    assert conn.state is ConnectionState.ACKNOWLEDGED
    assert list(conn.operations) == ["1"]
    # A broken rule leaves the connection CLOSING with "1" still listed: no result is taken.
    with pytest.raises(RemoteProtocolError):
        conn.receive('{"type":"subscribe","id":"5","payload":{"query":"{ a }"}}')
    assert list(conn.operations) == ["1"]
    assert take({"id": "1", "type": "next", "payload": RESULT}) is None


def test_transport_server_never_takes_a_next_from_its_client() -> None:
    server = tws.Connection(Role.SERVER)
    server.receive('{"type":"connection_init"}')
    server.send(tws.ConnectionAck())
    server.receive(json.dumps({"id": "1", "type": "subscribe", "payload": QUERY}))
    assert server.receive_result({"id": "1", "type": "next", "payload": RESULT}) is None


def test_legacy_receive_result_takes_only_data_for_a_running_id() -> None:
    conn = legacy_client()
    take = conn.receive_result
    assert take({"id": "1", "type": "data", "payload": RESULT}) == ("1", RESULT)
    assert take({"id": "1", "type": "data", "payload": RESULT}) == ("1", RESULT)  # cached row
    assert take({"id": "1", "type": "next", "payload": RESULT}) is None
    assert take({"id": "1", "type": "data", "payload": None}) is None
    assert take({"id": ["1"], "type": "data", "payload": RESULT}) is None
    assert take({"id": "2", "type": "data", "payload": RESULT}) is None  # stopping
    assert take({"id": "9", "type": "data", "payload": RESULT}) is None
    assert sorted(conn.operations) == ["1", "2"]
    with pytest.raises(RemoteProtocolError):
        conn.receive('{"type":"connection_ack"}')  # a second ack: the connection is CLOSING
    assert take({"id": "1", "type": "data", "payload": RESULT}) is None


def test_legacy_server_never_takes_data_from_its_client() -> None:
    server = gws.Connection(Role.SERVER)
    server.receive('{"type":"connection_init"}')
    server.send(gws.ConnectionAck())
    server.receive(json.dumps({"id": "1", "type": "start", "payload": QUERY}))
    assert server.receive_result({"id": "1", "type": "data", "payload": RESULT}) is None
