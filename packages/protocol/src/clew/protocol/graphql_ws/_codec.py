"""The wire boundary of legacy graphql-ws: strict `parse` and its inverse `serialize`.

The envelope is `{type, id?, payload?}` (`PROTOCOL.md`). Fields a message does not use are
ignored, as every legacy peer does: the reference client sends `connection_terminate` with
`"payload": null` and the reference server sends `complete` with `"payload": null`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias, assert_never

from clew.protocol._codec import JSONDecodeFailure, dumps, loads_object
from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._types import JSONObject, JSONValue
from clew.protocol._validate import (
    check_id,
    check_message_type,
    check_object,
    check_optional_payload,
    check_subscribe_payload,
)

from .messages import (
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
    check_error_payload,
)

__all__ = ["Dumps", "build", "data_affixes", "decode", "parse", "serialize"]

#: A JSON encoder: takes a JSON value, returns its text. Hosts may pass a faster one (orjson).
Dumps: TypeAlias = Callable[[JSONValue], str]


def decode(data: str | bytes | bytearray | memoryview) -> JSONObject:
    """Decode one frame into its JSON object; raises `JSONDecodeFailure` with the reason."""
    return loads_object(data)


def build(raw: JSONObject) -> Message:
    """Check a decoded object against the protocol and build its message.

    Raises `LocalProtocolError` naming the first rule broken. Which side may send the message
    is the connection's business, not this function's.
    """
    kind = check_message_type(raw)
    payload = raw.get("payload")
    match kind:
        case MessageType.CONNECTION_INIT:
            return ConnectionInit(payload=check_optional_payload(payload, kind))
        case MessageType.CONNECTION_ACK:
            return ConnectionAck(payload=check_optional_payload(payload, kind))
        case MessageType.CONNECTION_ERROR:
            return ConnectionErrorMessage(payload=check_optional_payload(payload, kind))
        case MessageType.KA:
            return Ka()
        case MessageType.CONNECTION_TERMINATE:
            return ConnectionTerminate()
        case MessageType.START:
            return Start(
                id=check_id(raw.get("id"), kind), payload=check_subscribe_payload(payload, kind)
            )
        case MessageType.STOP:
            return Stop(id=check_id(raw.get("id"), kind))
        case MessageType.DATA:
            result = check_object(payload, kind)
            return Data(id=check_id(raw.get("id"), kind), payload=result)  # type: ignore[arg-type]
        case MessageType.ERROR:
            return Error(
                id=check_id(raw.get("id"), kind), payload=check_error_payload(payload, kind)
            )
        case MessageType.COMPLETE:
            return Complete(id=check_id(raw.get("id"), kind))
        case _:
            raise LocalProtocolError(f"Invalid message 'type' property \"{kind}\"")


def parse(data: str | bytes | bytearray | memoryview) -> Message:
    """Decode one text frame into its message.

    Raises `RemoteProtocolError` with close code 1002 (the legacy protocol has no 44xx codes)
    for anything that is not a valid legacy graphql-ws message.
    """
    try:
        return build(decode(data))
    except JSONDecodeFailure as exc:
        raise RemoteProtocolError(str(exc), CloseCode.PROTOCOL_ERROR) from None
    except LocalProtocolError as exc:
        raise RemoteProtocolError(exc.reason, CloseCode.PROTOCOL_ERROR) from None


def data_affixes(operation_id: str, dumps: Dumps = dumps) -> tuple[str, str]:
    """What surrounds the encoded result in every `data` frame of `operation_id`.

    The one definition of that frame's text: `serialize` uses it per message, and a
    connection streaming one operation's results computes it once for all of them.
    """
    return f'{{"id":{dumps(operation_id)},"type":"data","payload":', "}"


def serialize(message: Message, dumps: Dumps = dumps) -> str:
    """Encode `message` as one text frame; `parse(serialize(m)) == m` for every message.

    Raises `LocalProtocolError` when a payload holds something JSON cannot carry (NaN, an
    arbitrary object), whatever the encoder's own exception type.
    """
    try:
        return _serialize(message, dumps)
    except (TypeError, ValueError) as exc:
        raise LocalProtocolError(
            f"Cannot encode '{message.type}' message as JSON: {exc}", CloseCode.PROTOCOL_ERROR
        ) from exc


def _serialize(message: Message, dumps: Dumps) -> str:
    match message:
        case Data(id=operation_id, payload=result):
            # The hot path: one encoder call for the result, no intermediate dict.
            prefix, suffix = data_affixes(operation_id, dumps)
            return prefix + dumps(result) + suffix  # type: ignore[arg-type]
        case ConnectionInit() | ConnectionAck() | ConnectionErrorMessage():
            if message.payload is None:
                return f'{{"type":"{message.type}"}}'
            return f'{{"type":"{message.type}","payload":{dumps(message.payload)}}}'
        case Ka() | ConnectionTerminate():
            return f'{{"type":"{message.type}"}}'
        case Start(id=operation_id, payload=request) | Error(id=operation_id, payload=request):
            return (
                f'{{"id":{dumps(operation_id)},"type":"{message.type}",'
                f'"payload":{dumps(request)}}}'  # type: ignore[arg-type]
            )
        case Stop(id=operation_id) | Complete(id=operation_id):
            return f'{{"id":{dumps(operation_id)},"type":"{message.type}"}}'
        case _:
            assert_never(message)
