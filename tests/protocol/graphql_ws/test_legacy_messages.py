"""Legacy graphql-ws messages and their wire format: strict parsing, exact serialising."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from legacy_strategies import MESSAGES

from clew.protocol import CloseCode, LocalProtocolError, RemoteProtocolError
from clew.protocol.graphql_ws import (
    SUBPROTOCOL,
    Complete,
    ConnectionAck,
    ConnectionErrorMessage,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    Ka,
    Message,
    MessageType,
    Start,
    Stop,
    parse,
    serialize,
)

QUERY = {"query": "subscription { tick }"}


def test_subprotocol_name_is_graphql_ws() -> None:
    assert SUBPROTOCOL == "graphql-ws"


def test_message_types_match_reference_message_types() -> None:
    # subscriptions-transport-ws `src/message-types.ts`, GQL_* constants.
    assert {member.value for member in MessageType} == {
        "connection_init",
        "connection_ack",
        "connection_error",
        "ka",
        "connection_terminate",
        "start",
        "data",
        "error",
        "complete",
        "stop",
    }


# --- serialising: exactly the frames legacy peers expect -------------------------------------


@pytest.mark.parametrize(
    ("message", "frame"),
    [
        (ConnectionInit(), '{"type":"connection_init"}'),
        (
            ConnectionInit(payload={"token": "t"}),
            '{"type":"connection_init","payload":{"token":"t"}}',
        ),
        (ConnectionAck(), '{"type":"connection_ack"}'),
        (ConnectionAck(payload={"v": 1}), '{"type":"connection_ack","payload":{"v":1}}'),
        (
            ConnectionErrorMessage(payload={"message": "no"}),
            '{"type":"connection_error","payload":{"message":"no"}}',
        ),
        (ConnectionErrorMessage(), '{"type":"connection_error"}'),
        (Ka(), '{"type":"ka"}'),
        (ConnectionTerminate(), '{"type":"connection_terminate"}'),
        (
            Start(id="1", payload={"query": "{ a }", "variables": {"x": 1}}),
            '{"id":"1","type":"start","payload":{"query":"{ a }","variables":{"x":1}}}',
        ),
        (Stop(id="1"), '{"id":"1","type":"stop"}'),
        (
            Data(id="1", payload={"data": {"a": "é"}}),
            '{"id":"1","type":"data","payload":{"data":{"a":"é"}}}',
        ),
        (
            Error(id="1", payload={"message": "bad"}),
            '{"id":"1","type":"error","payload":{"message":"bad"}}',
        ),
        (Complete(id="1"), '{"id":"1","type":"complete"}'),
    ],
)
def test_serialize_writes_compact_reference_frames(message: Message, frame: str) -> None:
    assert serialize(message) == frame
    assert parse(frame) == message


def test_serialize_uses_injected_dumps() -> None:
    calls: list[object] = []

    def dumps(value: object) -> str:
        calls.append(value)
        return json.dumps(value)

    frame = serialize(Data(id="7", payload={"data": None}), dumps)  # type: ignore[arg-type]
    assert json.loads(frame) == {"id": "7", "type": "data", "payload": {"data": None}}
    assert calls == ["7", {"data": None}]


def test_parse_accepts_bytes_and_memoryview() -> None:
    assert parse(b'{"type":"ka"}') == Ka()
    assert parse(memoryview(b'{"type":"ka"}')) == Ka()


# --- leniency that real peers need ------------------------------------------------------------


def test_reference_client_terminate_with_null_payload_parses() -> None:
    # `client.ts` `close()` sends `{type: connection_terminate, payload: null}`.
    assert parse('{"type":"connection_terminate","payload":null}') == ConnectionTerminate()


def test_reference_server_complete_with_null_payload_parses() -> None:
    # `server.ts` sends GQL_COMPLETE with `payload: null`.
    assert parse('{"id":"1","type":"complete","payload":null}') == Complete(id="1")


def test_fields_a_message_does_not_use_are_ignored() -> None:
    assert parse('{"type":"ka","id":"x","payload":[1]}') == Ka()
    assert parse('{"type":"connection_init","id":"x"}') == ConnectionInit()
    assert parse('{"id":"1","type":"stop","payload":"x","extra":true}') == Stop(id="1")


def test_start_payload_accepts_null_optionals_and_extensions() -> None:
    frame = (
        '{"id":"1","type":"start","payload":{"query":"{ a }","variables":null,'
        '"operationName":null,"extensions":{"persistedQuery":{}}}}'
    )
    message = parse(frame)
    assert isinstance(message, Start)
    assert message.payload["extensions"] == {"persistedQuery": {}}


def test_connection_error_without_payload_parses() -> None:
    # Strawberry sends a bare `connection_error` for a malformed init payload.
    assert parse('{"type":"connection_error"}') == ConnectionErrorMessage()


# --- the `error` payload: one object sent, three forms read ------------------------------------


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"message": "a", "locations": [{"line": 1, "column": 2}]}, None),
        ([{"message": "a"}, {"message": "b"}], None),
        ({"errors": [{"message": "a"}]}, [{"message": "a"}]),
    ],
    ids=["object", "array", "envelope"],
)
def test_error_payload_forms_accepted_on_receipt(payload: Any, errors: Any) -> None:
    frame = json.dumps({"id": "1", "type": "error", "payload": payload})
    message = parse(frame)
    assert isinstance(message, Error)
    expected = errors if errors is not None else payload if isinstance(payload, list) else [payload]
    assert message.errors == expected
    assert parse(serialize(message)) == message


# --- strict validation: the table of invalid messages ------------------------------------------

INVALID: list[tuple[str, str]] = [
    ("not json", "not valid JSON"),
    ("[]", "must be a JSON object, got array"),
    ('"ka"', "must be a JSON object, got string"),
    ("{}", "missing the 'type' property"),
    ('{"type":""}', "missing the 'type' property"),
    ('{"type":1}', "'type' property to be a string, but got number"),
    ('{"type":"subscribe","id":"1"}', "Invalid message 'type' property \"subscribe\""),
    ('{"type":"next","id":"1","payload":{}}', "Invalid message 'type' property \"next\""),
    ('{"type":"ping"}', "Invalid message 'type' property \"ping\""),
    ('{"type":"connection_init","payload":"token"}', "'payload' property to be an object or null"),
    ('{"type":"connection_init","payload":[]}', "but got array"),
    ('{"type":"connection_ack","payload":1}', "but got number"),
    ('{"type":"connection_error","payload":"boom"}', "but got string"),
    ('{"type":"start","payload":{"query":"{ a }"}}', "'id' property to be a string, but got null"),
    ('{"type":"start","id":1,"payload":{"query":"{ a }"}}', "but got number"),
    ('{"type":"start","id":"","payload":{"query":"{ a }"}}', "non-empty 'id'"),
    ('{"type":"start","id":"1"}', "'payload' property to be an object, but got null"),
    ('{"type":"start","id":"1","payload":{}}', "'query' property to be a string, but got null"),
    ('{"type":"start","id":"1","payload":{"query":1}}', "but got number"),
    (
        '{"type":"start","id":"1","payload":{"query":"{ a }","operationName":2}}',
        "'operationName' property to be a string or null",
    ),
    (
        '{"type":"start","id":"1","payload":{"query":"{ a }","variables":[]}}',
        "'payload.variables' property to be an object",
    ),
    (
        '{"type":"start","id":"1","payload":{"query":"{ a }","extensions":"x"}}',
        "'payload.extensions' property to be an object",
    ),
    ('{"type":"stop"}', "'id' property to be a string"),
    ('{"type":"stop","id":""}', "non-empty 'id'"),
    ('{"type":"data","id":"1"}', "'payload' property to be an object, but got null"),
    ('{"type":"data","id":"1","payload":[]}', "but got array"),
    ('{"type":"data","payload":{}}', "'id' property to be a string"),
    ('{"type":"error","id":"1"}', "payload to be a GraphQL error object"),
    ('{"type":"error","id":"1","payload":"boom"}', "payload to be a GraphQL error object"),
    ('{"type":"error","id":"1","payload":{"name":"E"}}', "payload to be a GraphQL error object"),
    ('{"type":"error","id":"1","payload":[]}', "non-empty array of GraphQL errors"),
    ('{"type":"error","id":"1","payload":[{"message":1}]}', "payload[0] to be a GraphQL error"),
    ('{"type":"error","id":"1","payload":{"errors":[]}}', "payload.errors to be a non-empty"),
    ('{"type":"error","id":"1","payload":{"errors":{}}}', "but got object"),
    ('{"type":"error","id":"1","payload":{"errors":[1]}}', "payload.errors[0] to be a GraphQL"),
    ('{"type":"error","payload":{"message":"x"}}', "'id' property to be a string"),
    ('{"type":"complete"}', "'id' property to be a string"),
    ('{"type":"complete","id":[]}', "but got array"),
    ("NaN", "NaN is not valid JSON"),
    ('{"type":"ka","payload":Infinity}', "Infinity is not valid JSON"),
]


@pytest.mark.parametrize(("frame", "reason"), INVALID, ids=[frame for frame, _ in INVALID])
def test_invalid_message_is_rejected_with_1002(frame: str, reason: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse(frame)
    assert reason in info.value.reason
    assert info.value.close_code == CloseCode.PROTOCOL_ERROR == 1002


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(RemoteProtocolError, match="not valid UTF-8"):
        parse(b'{"type":"ka"}\xff')


@pytest.mark.parametrize(
    "build",
    [
        lambda: Start(id="", payload={"query": "{ a }"}),
        lambda: Start(id="1", payload={}),
        lambda: Stop(id=1),
        lambda: Data(id="1", payload=[]),
        lambda: Error(id="1", payload={}),
        lambda: Error(id="1", payload=[]),
        lambda: Complete(id=None),
        lambda: ConnectionInit(payload="x"),
        lambda: ConnectionAck(payload=[]),
        lambda: ConnectionErrorMessage(payload="x"),
    ],
)
def test_invalid_message_cannot_be_built(build: Any) -> None:
    with pytest.raises(LocalProtocolError):
        build()


# --- property: parse is the inverse of serialize ------------------------------------------------


@given(MESSAGES)
def test_parse_inverts_serialize_for_every_message_class(message: Message) -> None:
    frame = serialize(message)
    assert parse(frame) == message
    assert parse(frame.encode()) == message
    assert json.loads(frame)["type"] == message.type
