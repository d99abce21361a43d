"""The message classes: an invalid message cannot be built, and each knows its wire type."""

from __future__ import annotations

import dataclasses

import pytest

from clew.protocol import LocalProtocolError, RemoteProtocolError
from clew.protocol.graphql_transport_ws import (
    SUBPROTOCOL,
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    MessageType,
    Next,
    Ping,
    Pong,
    Subscribe,
)


def test_subprotocol_name() -> None:
    assert SUBPROTOCOL == "graphql-transport-ws"


@pytest.mark.parametrize(
    ("cls", "wire_type"),
    [
        (ConnectionInit, "connection_init"),
        (ConnectionAck, "connection_ack"),
        (Ping, "ping"),
        (Pong, "pong"),
        (Subscribe, "subscribe"),
        (Next, "next"),
        (Error, "error"),
        (Complete, "complete"),
    ],
)
def test_each_class_has_its_wire_type(cls: type, wire_type: str) -> None:
    assert cls.type == wire_type
    assert MessageType(wire_type) is cls.type
    assert "type" not in {field.name for field in dataclasses.fields(cls)}


def test_message_type_has_exactly_the_eight_types() -> None:
    assert {str(member) for member in MessageType} == {
        "connection_init",
        "connection_ack",
        "ping",
        "pong",
        "subscribe",
        "next",
        "error",
        "complete",
    }


def test_messages_are_immutable() -> None:
    message = Complete(id="1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.id = "2"  # type: ignore[misc]


def test_messages_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Complete("1")  # type: ignore[misc]


def test_ping_response_is_a_pong_without_payload() -> None:
    assert Ping(payload={"t": 1}).response() == Pong()


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (
            lambda: ConnectionInit(payload=[]),  # type: ignore[arg-type]
            "\"connection_init\" message expects the 'payload' property to be an object, "
            "but got array",
        ),
        (
            lambda: ConnectionAck(payload="yes"),  # type: ignore[arg-type]
            "\"connection_ack\" message expects the 'payload' property to be an object, "
            "but got string",
        ),
        (
            lambda: Ping(payload=1),  # type: ignore[arg-type]
            "\"ping\" message expects the 'payload' property to be an object, but got number",
        ),
        (
            lambda: Pong(payload=True),  # type: ignore[arg-type]
            "\"pong\" message expects the 'payload' property to be an object, but got boolean",
        ),
        (
            lambda: Subscribe(id="", payload={"query": "{ a }"}),
            "\"subscribe\" message requires a non-empty 'id' property",
        ),
        (
            lambda: Subscribe(id=1, payload={"query": "{ a }"}),  # type: ignore[arg-type]
            "\"subscribe\" message expects the 'id' property to be a string, but got number",
        ),
        (
            lambda: Subscribe(id="1", payload={}),  # type: ignore[typeddict-item]
            "\"subscribe\" message payload expects the 'query' property to be a string, "
            "but got null",
        ),
        (
            lambda: Subscribe(id="1", payload={"query": "q", "operationName": 3}),  # type: ignore[typeddict-item]
            "\"subscribe\" message payload expects the 'operationName' property to be a string "
            "or null, but got number",
        ),
        (
            lambda: Subscribe(id="1", payload={"query": "q", "variables": []}),  # type: ignore[typeddict-item]
            "\"subscribe\" message expects the 'payload.variables' property to be an object, "
            "but got array",
        ),
        (
            lambda: Next(id="1", payload=None),  # type: ignore[arg-type]
            "\"next\" message expects the 'payload' property to be an object, but got null",
        ),
        (
            lambda: Error(id="1", payload=[]),
            "\"error\" message expects the 'payload' property to be a non-empty array of "
            "GraphQL errors, but got array",
        ),
        (
            lambda: Error(id="1", payload=[{"message": 1}]),  # type: ignore[typeddict-item]
            '"error" message expects payload[0] to be a GraphQL error object with a string '
            "'message'",
        ),
        (
            lambda: Complete(id=None),  # type: ignore[arg-type]
            "\"complete\" message expects the 'id' property to be a string, but got null",
        ),
    ],
)
def test_invalid_message_cannot_be_built(build: object, reason: str) -> None:
    with pytest.raises(LocalProtocolError) as info:
        build()  # type: ignore[operator]
    assert not isinstance(info.value, RemoteProtocolError)
    assert info.value.reason == reason
    assert info.value.close_code == 4400


def test_valid_messages_can_be_built() -> None:
    Subscribe(
        id="🦀",
        payload={"query": "q", "operationName": None, "variables": None, "extensions": {}},
    )
    Next(id="x", payload={})
    Error(id="x", payload=[{"message": "m", "path": ["a", 0], "extensions": {"code": "E"}}])
