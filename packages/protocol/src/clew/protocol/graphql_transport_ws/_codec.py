"""The wire boundary of graphql-transport-ws: strict `parse` and its inverse `serialize`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias, assert_never

from clew.protocol._codec import JSONDecodeFailure, dumps, loads_object
from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._types import JSONObject, JSONValue
from clew.protocol._validate import (
    check_errors,
    check_id,
    check_message_type,
    check_object,
    check_optional_payload,
    check_subscribe_payload,
)

from .messages import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    Message,
    MessageType,
    Next,
    Ping,
    Pong,
    Subscribe,
)

__all__ = ["Dumps", "next_affixes", "parse", "serialize"]

#: A JSON encoder: takes a JSON value, returns its text. Hosts may pass a faster one (orjson).
Dumps: TypeAlias = Callable[[JSONValue], str]


def _build(raw: JSONObject) -> Message:
    """Check the decoded object against the protocol and build its message."""
    kind = check_message_type(raw)
    payload = raw.get("payload")
    if kind == MessageType.NEXT:  # the hot path, one per result: tested first
        result = check_object(payload, kind)
        return Next(id=check_id(raw.get("id"), kind), payload=result)  # type: ignore[arg-type]
    match kind:
        case MessageType.CONNECTION_INIT:
            return ConnectionInit(payload=check_optional_payload(payload, kind))
        case MessageType.CONNECTION_ACK:
            return ConnectionAck(payload=check_optional_payload(payload, kind))
        case MessageType.PING:
            return Ping(payload=check_optional_payload(payload, kind))
        case MessageType.PONG:
            return Pong(payload=check_optional_payload(payload, kind))
        case MessageType.SUBSCRIBE:
            return Subscribe(
                id=check_id(raw.get("id"), kind), payload=check_subscribe_payload(payload, kind)
            )
        case MessageType.ERROR:
            return Error(id=check_id(raw.get("id"), kind), payload=check_errors(payload, kind))
        case MessageType.COMPLETE:
            return Complete(id=check_id(raw.get("id"), kind))
        case _:
            raise LocalProtocolError(f"Invalid message 'type' property \"{kind}\"")


def parse(data: str | bytes | bytearray | memoryview) -> Message:
    """Decode one text frame into its message.

    Raises `RemoteProtocolError` with close code 4400 and graphql-ws' wording for anything
    that is not a valid graphql-transport-ws message. Which side may send it is the
    connection's business, not the parser's.
    """
    try:
        return _build(loads_object(data))
    except JSONDecodeFailure as exc:
        raise RemoteProtocolError(str(exc), CloseCode.BAD_REQUEST) from None
    except LocalProtocolError as exc:
        raise exc._as_remote() from None


def next_affixes(operation_id: str, dumps: Dumps = dumps) -> tuple[str, str]:
    """What surrounds the encoded result in every `next` frame of `operation_id`.

    The one definition of that frame's text: `serialize` uses it per message, and a
    connection streaming one operation's results computes it once for all of them.
    """
    return f'{{"id":{dumps(operation_id)},"type":"next","payload":', "}"


def serialize(message: Message, dumps: Dumps = dumps) -> str:
    """Encode `message` as one text frame; `parse(serialize(m)) == m` for every message.

    Raises `LocalProtocolError` when a payload holds something JSON cannot carry (NaN, an
    arbitrary object), whatever the encoder's own exception type.
    """
    try:
        if type(message) is Next:
            # The hot path, one per result: the result encoded once, no intermediate dict.
            prefix, suffix = next_affixes(message.id, dumps)
            return prefix + dumps(message.payload) + suffix  # type: ignore[arg-type]
        match message:
            case ConnectionInit() | ConnectionAck() | Ping() | Pong():
                if message.payload is None:
                    return f'{{"type":"{message.type}"}}'
                return f'{{"type":"{message.type}","payload":{dumps(message.payload)}}}'
            case (
                Subscribe(id=operation_id, payload=request)
                | Error(id=operation_id, payload=request)
            ):
                return (
                    f'{{"id":{dumps(operation_id)},"type":"{message.type}",'
                    f'"payload":{dumps(request)}}}'  # type: ignore[arg-type]
                )
            case Complete(id=operation_id):
                return f'{{"id":{dumps(operation_id)},"type":"complete"}}'
            case _:
                assert_never(message)
    except (TypeError, ValueError) as exc:
        raise LocalProtocolError(f"Cannot encode '{message.type}' message as JSON: {exc}") from exc
