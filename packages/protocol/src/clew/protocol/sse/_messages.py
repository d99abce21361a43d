"""graphql-sse's stream events: `next` carries one execution result, `complete` ends an operation.

In distinct connections mode the stream belongs to one operation, so `next` data is the bare
result and `complete` has empty data. In single connection mode the stream is shared, so `next`
data is ``{"id", "payload"}`` and `complete` data is ``{"id"}`` (graphql-sse `PROTOCOL.md`).
The `complete` event still has a `data:` line, because `EventSource` never fires an event
without data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal, TypeAlias, cast, final

from clew.protocol._codec import JSONDecodeFailure, describe, dumps, loads_object
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._types import FormattedExecutionResult, JSONObject

from ._events import ServerSentEvent, encode_event

__all__ = [
    "Complete",
    "EventType",
    "Next",
    "StreamMessage",
    "encode_message",
    "encode_next_json",
    "parse_message",
]


class EventType(StrEnum):
    """The `event` field of graphql-sse's stream events."""

    #: Server→client: one execution result of an operation.
    NEXT = "next"
    #: Server→client: the operation is over; nothing more comes for it.
    COMPLETE = "complete"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Next:
    """One result; `id` names the operation in single connection mode and is None otherwise."""

    type: ClassVar[Literal[EventType.NEXT]] = EventType.NEXT
    payload: FormattedExecutionResult
    id: str | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Complete:
    """The end of an operation; `id` as for `Next`."""

    type: ClassVar[Literal[EventType.COMPLETE]] = EventType.COMPLETE
    id: str | None = None


StreamMessage: TypeAlias = Next | Complete


def encode_message(message: StreamMessage) -> bytes:
    """The event for `message`, validated and serialised with the protocol's JSON encoder."""
    if isinstance(message, Complete):
        data = "" if message.id is None else dumps({"id": message.id})
        return encode_event(data, event=EventType.COMPLETE)
    payload = message.payload
    if not isinstance(payload, dict):
        raise LocalProtocolError(
            f"A next event's payload must be an object, got {describe(payload)}"
        )
    body: JSONObject = cast(JSONObject, payload)
    if message.id is not None:
        body = {"id": message.id, "payload": body}
    return encode_event(dumps(body), event=EventType.NEXT)


def encode_next_json(payload: bytes, operation_id: str | None = None) -> bytes:
    """A `next` event around a result already encoded as compact JSON (the servers' hot path).

    `payload` must be one JSON object on one line, as orjson and compact `json.dumps` write it.
    """
    if b"\n" in payload or b"\r" in payload:
        raise LocalProtocolError("A pre-encoded payload must be compact JSON without line breaks")
    if operation_id is not None:
        head = b'{"id":' + dumps(operation_id).encode() + b',"payload":'
        payload = head + payload + b"}"
    return b"event: next\ndata: " + payload + b"\n\n"


def parse_message(event: ServerSentEvent, *, single_connection: bool) -> StreamMessage:
    """The graphql-sse message an event carries; `RemoteProtocolError` if it carries none."""
    if event.event == EventType.NEXT:
        obj = _object(event.data)
        if not single_connection:
            return Next(payload=cast(FormattedExecutionResult, obj))
        operation_id = _operation_id(obj)
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            raise RemoteProtocolError(
                f"A next event's 'payload' must be an object, got {describe(payload)}"
            )
        return Next(payload=cast(FormattedExecutionResult, payload), id=operation_id)
    if event.event == EventType.COMPLETE:
        if not single_connection:
            return Complete()
        return Complete(id=_operation_id(_object(event.data)))
    raise RemoteProtocolError(f"Unexpected event {event.event!r}; expected 'next' or 'complete'")


def _object(data: str) -> JSONObject:
    try:
        return loads_object(data, "The event data")
    except JSONDecodeFailure as exc:
        raise RemoteProtocolError(str(exc)) from None


def _operation_id(obj: JSONObject) -> str:
    operation_id = obj.get("id")
    if not isinstance(operation_id, str):
        raise RemoteProtocolError(
            f"The event's 'id' must be the operation id string, got {describe(operation_id)}"
        )
    return operation_id
