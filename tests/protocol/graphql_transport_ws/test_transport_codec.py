"""The wire format: strict `parse`, its inverse `serialize`, and a table of invalid messages."""

from __future__ import annotations

import json
import math

import pytest
from helpers import ConnectionPair, subscribe
from hypothesis import given
from transport_strategies import IDS, MESSAGES

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
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
    parse,
    serialize,
)

# (frame, reason): every frame closes 4400 with exactly this reason (graphql-ws
# `tests/common.test.ts` keeps the same kind of table for `validateMessage`).
INVALID = [
    ("", "Message is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    (
        '{"type":"ping",}',
        "Message is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 16 (char 15)",
    ),
    (b"\xc3\x28", "Message is not valid UTF-8"),
    ("NaN", "Message is not valid JSON: NaN is not valid JSON"),
    (
        '{"type":"ping","payload":{"x":-Infinity}}',
        "Message is not valid JSON: -Infinity is not valid JSON",
    ),
    ("null", "Message must be a JSON object, got null"),
    ("[]", "Message must be a JSON object, got array"),
    ("42", "Message must be a JSON object, got number"),
    ('"ping"', "Message must be a JSON object, got string"),
    ("true", "Message must be a JSON object, got boolean"),
    ("{}", "Message is missing the 'type' property"),
    ('{"type":""}', "Message is missing the 'type' property"),
    ('{"type":null}', "Message is missing the 'type' property"),
    ('{"type":1}', "Message expects the 'type' property to be a string, but got number"),
    ('{"type":["ping"]}', "Message expects the 'type' property to be a string, but got array"),
    ('{"type":"nuxt"}', "Invalid message 'type' property \"nuxt\""),
    ('{"type":"PING"}', "Invalid message 'type' property \"PING\""),
    ('{"type":"ka"}', "Invalid message 'type' property \"ka\""),
    (
        '{"type":"connection_init","payload":[]}',
        "\"connection_init\" message expects the 'payload' property to be an object or null, "
        "but got array",
    ),
    (
        '{"type":"connection_ack","payload":"ok"}',
        "\"connection_ack\" message expects the 'payload' property to be an object or null, "
        "but got string",
    ),
    (
        '{"type":"ping","payload":0}',
        "\"ping\" message expects the 'payload' property to be an object or null, but got number",
    ),
    (
        '{"type":"pong","payload":false}',
        "\"pong\" message expects the 'payload' property to be an object or null, but got boolean",
    ),
    (
        '{"type":"subscribe","payload":{"query":"{ a }"}}',
        "\"subscribe\" message expects the 'id' property to be a string, but got null",
    ),
    (
        '{"type":"subscribe","id":7,"payload":{"query":"{ a }"}}',
        "\"subscribe\" message expects the 'id' property to be a string, but got number",
    ),
    (
        '{"type":"subscribe","id":"","payload":{"query":"{ a }"}}',
        "\"subscribe\" message requires a non-empty 'id' property",
    ),
    (
        '{"type":"subscribe","id":"1"}',
        "\"subscribe\" message expects the 'payload' property to be an object, but got null",
    ),
    (
        '{"type":"subscribe","id":"1","payload":"{ a }"}',
        "\"subscribe\" message expects the 'payload' property to be an object, but got string",
    ),
    (
        '{"type":"subscribe","id":"1","payload":{}}',
        "\"subscribe\" message payload expects the 'query' property to be a string, but got null",
    ),
    (
        '{"type":"subscribe","id":"1","payload":{"query":{}}}',
        "\"subscribe\" message payload expects the 'query' property to be a string, but got object",
    ),
    (
        '{"type":"subscribe","id":"1","payload":{"query":"q","operationName":[]}}',
        "\"subscribe\" message payload expects the 'operationName' property to be a string "
        "or null, but got array",
    ),
    (
        '{"type":"subscribe","id":"1","payload":{"query":"q","variables":"{}"}}',
        "\"subscribe\" message expects the 'payload.variables' property to be an object, "
        "but got string",
    ),
    (
        '{"type":"subscribe","id":"1","payload":{"query":"q","extensions":[1]}}',
        "\"subscribe\" message expects the 'payload.extensions' property to be an object, "
        "but got array",
    ),
    (
        '{"type":"next","payload":{}}',
        "\"next\" message expects the 'id' property to be a string, but got null",
    ),
    (
        '{"type":"next","id":"","payload":{}}',
        "\"next\" message requires a non-empty 'id' property",
    ),
    (
        '{"type":"next","id":"1"}',
        "\"next\" message expects the 'payload' property to be an object, but got null",
    ),
    (
        '{"type":"next","id":"1","payload":[{"data":{}}]}',
        "\"next\" message expects the 'payload' property to be an object, but got array",
    ),
    (
        '{"type":"error","id":true,"payload":[{"message":"m"}]}',
        "\"error\" message expects the 'id' property to be a string, but got boolean",
    ),
    (
        '{"type":"error","id":"1"}',
        "\"error\" message expects the 'payload' property to be a non-empty array of GraphQL "
        "errors, but got null",
    ),
    (
        '{"type":"error","id":"1","payload":{"message":"m"}}',
        "\"error\" message expects the 'payload' property to be a non-empty array of GraphQL "
        "errors, but got object",
    ),
    (
        '{"type":"error","id":"1","payload":[]}',
        "\"error\" message expects the 'payload' property to be a non-empty array of GraphQL "
        "errors, but got array",
    ),
    (
        '{"type":"error","id":"1","payload":["boom"]}',
        "\"error\" message expects payload[0] to be a GraphQL error object with a string 'message'",
    ),
    (
        '{"type":"error","id":"1","payload":[{"message":"a"},{"msg":"b"}]}',
        "\"error\" message expects payload[1] to be a GraphQL error object with a string 'message'",
    ),
    (
        '{"type":"complete"}',
        "\"complete\" message expects the 'id' property to be a string, but got null",
    ),
    (
        '{"type":"complete","id":""}',
        "\"complete\" message requires a non-empty 'id' property",
    ),
    (
        '{"type":"complete","id":{"id":"1"}}',
        "\"complete\" message expects the 'id' property to be a string, but got object",
    ),
]


@pytest.mark.parametrize(("frame", "reason"), INVALID)
def test_invalid_message_closes_4400_with_reason(frame: str | bytes, reason: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse(frame)
    assert info.value.close_code == CloseCode.BAD_REQUEST
    assert info.value.reason == reason
    assert info.value.__cause__ is None


@pytest.mark.parametrize(("frame", "reason"), INVALID)
def test_invalid_message_closes_each_side(frame: str | bytes, reason: str, role: Role) -> None:
    pair = ConnectionPair()
    pair.handshake()
    with pytest.raises(RemoteProtocolError) as info:
        pair.conn(role).receive(frame)
    # The server answers a bad frame with 4400, the client with 4004 (graphql-ws client.ts).
    expected = CloseCode.BAD_REQUEST if role is Role.SERVER else CloseCode.BAD_RESPONSE
    assert (info.value.close_code, info.value.reason) == (expected, reason)


def test_deeply_nested_json_is_invalid_not_a_crash() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse('{"type":"ping","payload":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert info.value.close_code == 4400
    assert info.value.reason.startswith("Message is not valid JSON")


def test_long_reason_is_capped_at_123_bytes() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse(json.dumps({"type": "é" * 200}))
    encoded = info.value.reason.encode("utf-8")
    assert len(encoded) <= 123
    assert info.value.reason.startswith("Invalid message 'type' property \"éé")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ('{"type":"connection_init"}', ConnectionInit()),
        ('{"type":"connection_init","payload":null}', ConnectionInit()),
        ('{"type":"connection_init","payload":{"a":1}}', ConnectionInit(payload={"a": 1})),
        ('{"type":"connection_ack","payload":{}}', ConnectionAck(payload={})),
        ('{"type":"ping","id":"ignored"}', Ping()),
        ('{"type":"pong","payload":{"t":1.5}}', Pong(payload={"t": 1.5})),
        (
            '{"type":"subscribe","id":"1","payload":{"query":"q","operationName":null,'
            '"variables":null,"extensions":null}}',
            Subscribe(
                id="1",
                payload={
                    "query": "q",
                    "operationName": None,
                    "variables": None,
                    "extensions": None,
                },
            ),
        ),
        (
            '{"id":"1","type":"next","payload":{"data":null,"errors":[{"message":"m"}]}}',
            Next(id="1", payload={"data": None, "errors": [{"message": "m"}]}),
        ),
        (
            '{"id":"1","type":"error","payload":[{"message":"m","locations":[{"line":1,'
            '"column":2}]}]}',
            Error(id="1", payload=[{"message": "m", "locations": [{"line": 1, "column": 2}]}]),
        ),
        ('{"type":"complete","id":"1","extra":"unknown keys are ignored"}', Complete(id="1")),
    ],
)
def test_valid_message_parses(frame: str, message: Message) -> None:
    assert parse(frame) == message
    assert parse(frame.encode()) == message
    assert parse(bytearray(frame.encode())) == message
    assert parse(memoryview(frame.encode())) == message


@pytest.mark.parametrize(
    ("message", "frame"),
    [
        (ConnectionInit(), '{"type":"connection_init"}'),
        (
            ConnectionInit(payload={"token": "é"}),
            '{"type":"connection_init","payload":{"token":"é"}}',
        ),
        (ConnectionAck(), '{"type":"connection_ack"}'),
        (Ping(payload={}), '{"type":"ping","payload":{}}'),
        (Pong(), '{"type":"pong"}'),
        (
            subscribe('a"b', "{ a }"),
            '{"id":"a\\"b","type":"subscribe","payload":{"query":"{ a }"}}',
        ),
        (
            Next(id="1", payload={"data": {"a": 1}}),
            '{"id":"1","type":"next","payload":{"data":{"a":1}}}',
        ),
        (
            Error(id="1", payload=[{"message": "m"}]),
            '{"id":"1","type":"error","payload":[{"message":"m"}]}',
        ),
        (Complete(id="1"), '{"id":"1","type":"complete"}'),
    ],
)
def test_serialize_is_compact_json(message: Message, frame: str) -> None:
    assert serialize(message) == frame
    assert json.loads(frame)["type"] == message.type


def test_serialize_uses_the_given_encoder() -> None:
    calls: list[object] = []

    def dumps(value: object) -> str:
        calls.append(value)
        return json.dumps(value)

    frame = serialize(Next(id="1", payload={"data": {"a": 1}}), dumps)
    assert parse(frame) == Next(id="1", payload={"data": {"a": 1}})
    assert calls == ["1", {"data": {"a": 1}}]


@pytest.mark.parametrize(
    "message",
    [
        Next(id="1", payload={"data": {"x": math.nan}}),
        Next(id="1", payload={"data": {"x": object()}}),  # type: ignore[dict-item]
        Error(id="1", payload=[{"message": "m", "extensions": {"at": {1, 2}}}]),  # type: ignore[dict-item]
        ConnectionInit(payload={"x": math.inf}),
        Subscribe(id="1", payload={"query": "q", "variables": {"v": b"bytes"}}),  # type: ignore[dict-item]
    ],
    ids=["nan", "object", "set", "inf", "bytes"],
)
def test_serialize_refuses_what_json_cannot_carry(message: Message) -> None:
    with pytest.raises(LocalProtocolError) as info:
        serialize(message)
    assert info.value.reason.startswith(f"Cannot encode '{message.type}' message as JSON: ")
    assert isinstance(info.value.__cause__, TypeError | ValueError)


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
def test_an_unencodable_send_is_refused_and_changes_nothing(role: Role) -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.exchange(Role.CLIENT, subscribe("1"))
    conn = pair.conn(role)
    message: Message = (
        Error(id="1", payload=[{"message": "m", "extensions": {"x": math.nan}}])
        if role is Role.SERVER
        else Subscribe(id="2", payload={"query": "q", "variables": {"x": math.nan}})
    )
    with pytest.raises(LocalProtocolError, match="Cannot encode"):
        conn.send(message)
    # Nothing moved: the operation still runs, the id was not reserved, the socket is usable.
    assert conn.state is ConnectionState.ACKNOWLEDGED
    assert list(conn.operations) == ["1"]
    assert conn.send(Complete(id="1"))


# --- parse(serialize(m)) == m ---------------------------------------------------------------


@given(MESSAGES)
def test_parse_inverts_serialize(message: Message) -> None:
    frame = serialize(message)
    assert parse(frame) == message
    assert parse(frame.encode("utf-8")) == message


@given(MESSAGES)
def test_serialize_agrees_with_json(message: Message) -> None:
    decoded = json.loads(serialize(message))
    assert decoded["type"] == message.type
    assert ("id" in decoded) is hasattr(message, "id")


@given(IDS)
def test_unicode_ids_survive_the_wire(operation_id: str) -> None:
    pair = ConnectionPair()
    pair.handshake()
    pair.exchange(Role.CLIENT, subscribe(operation_id))
    pair.exchange(Role.SERVER, Next(id=operation_id, payload={"data": None}))
    pair.exchange(Role.SERVER, Complete(id=operation_id))
    assert list(pair.client.operations) == list(pair.server.operations) == []


def test_a_fresh_connection_accepts_any_init() -> None:
    conn = Connection(Role.SERVER)
    assert conn.receive(serialize(ConnectionInit(payload={"k": [1, 2, {"v": None}]}))) == [
        ConnectionInit(payload={"k": [1, 2, {"v": None}]})
    ]
