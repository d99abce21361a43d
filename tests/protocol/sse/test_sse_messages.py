"""graphql-sse's `next` and `complete` events in both modes: written, read back, and refused."""

from __future__ import annotations

import pytest

from clew.protocol import LocalProtocolError, RemoteProtocolError
from clew.protocol.sse import (
    Complete,
    EventStreamParser,
    EventType,
    Next,
    ServerSentEvent,
    StreamMessage,
    encode_message,
    encode_next_json,
    parse_message,
)

WIRE = [
    (Next(payload={"data": {"a": 1}}), b'event: next\ndata: {"data":{"a":1}}\n\n', False),
    (Complete(), b"event: complete\ndata:\n\n", False),
    (
        Next(payload={"data": None}, id="op"),
        b'event: next\ndata: {"id":"op","payload":{"data":null}}\n\n',
        True,
    ),
    (Complete(id="op"), b'event: complete\ndata: {"id":"op"}\n\n', True),
]


@pytest.mark.parametrize(("message", "wire", "single"), WIRE)
def test_round_trip(message: StreamMessage, wire: bytes, single: bool) -> None:
    assert encode_message(message) == wire
    [event] = EventStreamParser().feed(wire)
    assert parse_message(event, single_connection=single) == message


def test_the_type_is_a_class_attribute() -> None:
    assert Next.type is EventType.NEXT
    assert Complete.type is EventType.COMPLETE


def test_encode_next_json_matches_encode_message() -> None:
    assert encode_next_json(b'{"data":{"a":1}}') == encode_message(Next(payload={"data": {"a": 1}}))
    assert encode_next_json(b'{"data":null}', "o\u00e9") == encode_message(
        Next(payload={"data": None}, id="o\u00e9")
    )


def test_encoders_refuse_what_would_break_the_stream() -> None:
    with pytest.raises(LocalProtocolError, match="compact JSON"):
        encode_next_json(b'{\n"data":null}')
    with pytest.raises(LocalProtocolError, match="compact JSON"):
        encode_next_json(b'{"data":null}\r')
    with pytest.raises(LocalProtocolError, match="must be an object"):
        encode_message(Next(payload=[1]))  # type: ignore[arg-type]


# (event type, data, single connection mode, reason)
INVALID = [
    ("message", "{}", False, "Unexpected event 'message'"),
    ("error", "{}", True, "Unexpected event 'error'"),
    ("next", "nope", False, "not valid JSON"),
    ("next", "[1]", False, "must be a JSON object"),
    ("next", '{"payload":{}}', True, "'id' must be the operation id string, got null"),
    ("next", '{"id":1,"payload":{}}', True, "got number"),
    ("next", '{"id":"a"}', True, "'payload' must be an object, got null"),
    ("next", '{"id":"a","payload":"x"}', True, "got string"),
    ("complete", "", True, "not valid JSON"),
    ("complete", "{}", True, "'id' must be"),
]


@pytest.mark.parametrize(("kind", "data", "single", "reason"), INVALID)
def test_invalid_events(kind: str, data: str, single: bool, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        parse_message(ServerSentEvent(event=kind, data=data), single_connection=single)


def test_distinct_complete_ignores_its_data() -> None:
    event = ServerSentEvent(event="complete", data="anything")
    assert parse_message(event, single_connection=False) == Complete()
