"""The ten messages of the legacy graphql-ws protocol (subscriptions-transport-ws `PROTOCOL.md`).

Construct them to send; `parse()` returns them on receipt. An invalid message cannot exist:
each constructor checks its fields and raises `LocalProtocolError`. Do not subclass these;
dispatch with `match` on the `ClientMessage` / `ServerMessage` unions. `Refused` is not a
message: it is what a server's `Connection.receive()` returns for a frame it turns down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal, TypeAlias, TypedDict, cast, final

from clew.protocol._codec import describe
from clew.protocol._errors import LocalProtocolError
from clew.protocol._types import (
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    JSONValue,
    SubscribePayload,
)
from clew.protocol._validate import (
    check_id,
    check_object,
    check_optional_object,
    check_subscribe_payload,
)

__all__ = [
    "ClientMessage",
    "Complete",
    "ConnectionAck",
    "ConnectionErrorMessage",
    "ConnectionInit",
    "ConnectionTerminate",
    "Data",
    "Error",
    "ErrorPayload",
    "ErrorsEnvelope",
    "Event",
    "Ka",
    "Message",
    "MessageType",
    "Refused",
    "ServerMessage",
    "Start",
    "Stop",
]


class MessageType(StrEnum):
    """The `type` of each message on the wire, with who may send it (`src/message-types.ts`)."""

    #: Client → server: opens the session; the payload is the client's `connectionParams`.
    CONNECTION_INIT = "connection_init"
    #: Server → client: the session is accepted; operations may start.
    CONNECTION_ACK = "connection_ack"
    #: Server → client: `connection_init` was rejected, or a frame could not be parsed.
    CONNECTION_ERROR = "connection_error"
    #: Server → client: keep-alive, right after the ack and then periodically.
    KA = "ka"
    #: Client → server: ends the session; the server closes the socket.
    CONNECTION_TERMINATE = "connection_terminate"
    #: Client → server: runs an operation under a client-chosen id.
    START = "start"
    #: Server → client: one execution result of an operation (resolver errors included).
    DATA = "data"
    #: Server → client: the operation failed before execution (e.g. validation); it has ended.
    ERROR = "error"
    #: Server → client: the operation is over; no more `data` follows.
    COMPLETE = "complete"
    #: Client → server: the client no longer wants the operation (unsubscribe).
    STOP = "stop"


class ErrorsEnvelope(TypedDict):
    """An `error` payload some servers send: the errors wrapped in an object."""

    errors: list[FormattedError]


#: The payload of `error`. The reference server, Ariadne and Strawberry send one error object,
#: and gql accepts only an object, so that is what clew sends; the array and the
#: `{"errors": [...]}` envelope are accepted on receipt because the reference client reads
#: them too (`client.ts` `formatErrors`). `Error.errors` gives the list whatever the form.
ErrorPayload: TypeAlias = FormattedError | list[FormattedError] | ErrorsEnvelope


def _check_error_object(value: object, message_type: str, where: str) -> None:
    if not isinstance(value, Mapping) or not isinstance(value.get("message"), str):
        raise LocalProtocolError(
            f'"{message_type}" message expects {where} to be a GraphQL error object '
            "with a string 'message'"
        )


def _check_error_list(value: object, message_type: str, where: str) -> None:
    if not isinstance(value, list) or not value:
        raise LocalProtocolError(
            f'"{message_type}" message expects {where} to be a non-empty array of GraphQL '
            f"errors, but got {describe(value)}"
        )
    for index, error in enumerate(cast(list[JSONValue], value)):
        _check_error_object(error, message_type, f"{where}[{index}]")


def check_error_payload(value: object, message_type: str) -> ErrorPayload:
    """One GraphQL error object, a non-empty array of them, or `{"errors": [...]}`."""
    if isinstance(value, list):
        _check_error_list(value, message_type, "payload")
    elif isinstance(value, dict) and "errors" in value:
        _check_error_list(value["errors"], message_type, "payload.errors")
    else:
        _check_error_object(value, message_type, "payload")
    return cast(ErrorPayload, value)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionInit:
    """Client → server: the first message; the payload often carries an auth token."""

    type: ClassVar[Literal[MessageType.CONNECTION_INIT]] = MessageType.CONNECTION_INIT
    payload: JSONObject | None = None

    def __post_init__(self) -> None:
        check_optional_object(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionAck:
    """Server → client: `connection_init` was accepted."""

    type: ClassVar[Literal[MessageType.CONNECTION_ACK]] = MessageType.CONNECTION_ACK
    payload: JSONObject | None = None

    def __post_init__(self) -> None:
        check_optional_object(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionErrorMessage:
    """Server → client: `connection_init` was rejected, or a frame could not be parsed.

    Named with a suffix so it never shadows Python's built-in `ConnectionError`. The payload
    is an object such as `{"message": ...}`; it is optional on receipt because some servers
    (Strawberry, for a malformed init) send none.
    """

    type: ClassVar[Literal[MessageType.CONNECTION_ERROR]] = MessageType.CONNECTION_ERROR
    payload: JSONObject | None = None

    def __post_init__(self) -> None:
        check_optional_object(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Ka:
    """Server → client: keep-alive; a client with a timeout closes when these stop."""

    type: ClassVar[Literal[MessageType.KA]] = MessageType.KA


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionTerminate:
    """Client → server: the session is over; the server closes the socket."""

    type: ClassVar[Literal[MessageType.CONNECTION_TERMINATE]] = MessageType.CONNECTION_TERMINATE


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    """Client → server: run the operation in `payload` under `id` (replacing one with that id)."""

    type: ClassVar[Literal[MessageType.START]] = MessageType.START
    id: str
    payload: SubscribePayload

    def __post_init__(self) -> None:
        check_id(self.id, self.type)
        check_subscribe_payload(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """Client → server: stop operation `id`; the server may still answer with `complete`."""

    type: ClassVar[Literal[MessageType.STOP]] = MessageType.STOP
    id: str

    def __post_init__(self) -> None:
        check_id(self.id, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Data:
    """Server → client: an execution result for operation `id`."""

    type: ClassVar[Literal[MessageType.DATA]] = MessageType.DATA
    id: str
    payload: FormattedExecutionResult

    def __post_init__(self) -> None:
        # One per result: the plain case is decided inline, the checkers explain the rest.
        if type(self.id) is not str or not self.id or type(self.payload) is not dict:
            check_id(self.id, self.type)
            check_object(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Error:
    """Server → client: operation `id` failed before execution; no `complete` follows.

    Send one error object as `payload` (see `ErrorPayload`); `errors` reads any form.
    """

    type: ClassVar[Literal[MessageType.ERROR]] = MessageType.ERROR
    id: str
    payload: ErrorPayload

    def __post_init__(self) -> None:
        check_id(self.id, self.type)
        check_error_payload(self.payload, self.type)

    @property
    def errors(self) -> list[FormattedError]:
        """The errors as a list, whichever of the three payload forms arrived."""
        payload = self.payload
        if isinstance(payload, list):
            return payload
        if "errors" in payload:
            return cast(ErrorsEnvelope, payload)["errors"]
        return [payload]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Complete:
    """Server → client: operation `id` is finished; after `stop`, it confirms the stop."""

    type: ClassVar[Literal[MessageType.COMPLETE]] = MessageType.COMPLETE
    id: str

    def __post_init__(self) -> None:
        check_id(self.id, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """The peer's frame was refused: write `reply` and carry on (the connection stays open).

    Only a server returns it: the legacy protocol answers a bad client frame with
    `connection_error` or with `error` for its id instead of closing (reference `server.ts`).
    """

    #: The ready frame to write: `error` for the frame's id, or `connection_error`.
    reply: str
    #: Why the frame was refused, for logs.
    reason: str


#: What a client may send.
ClientMessage: TypeAlias = ConnectionInit | Start | Stop | ConnectionTerminate
#: What a server may send.
ServerMessage: TypeAlias = ConnectionAck | ConnectionErrorMessage | Ka | Data | Error | Complete
#: Any legacy graphql-ws message.
Message: TypeAlias = ClientMessage | ServerMessage
#: What `Connection.receive()` returns: a message to act on, or a refused frame to answer.
Event: TypeAlias = Message | Refused
