"""The eight messages of graphql-transport-ws (graphql-ws `PROTOCOL.md`), one immutable class each.

Construct them to send; `parse()` returns them on receipt. An invalid message cannot exist:
each constructor checks its fields and raises `LocalProtocolError`. Do not subclass these;
dispatch with `match` on the `ClientMessage` / `ServerMessage` unions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal, TypeAlias, final

from clew.protocol._types import (
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    SubscribePayload,
)
from clew.protocol._validate import (
    check_errors,
    check_id,
    check_object,
    check_optional_object,
    check_subscribe_payload,
)

__all__ = [
    "ClientMessage",
    "Complete",
    "ConnectionAck",
    "ConnectionInit",
    "Error",
    "Message",
    "MessageType",
    "Next",
    "Ping",
    "Pong",
    "ServerMessage",
    "Subscribe",
]


class MessageType(StrEnum):
    """The `type` of each message on the wire, with who may send it."""

    #: Client → server: opens the session, optionally with credentials in the payload.
    CONNECTION_INIT = "connection_init"
    #: Server → client: the session is accepted; operations may start.
    CONNECTION_ACK = "connection_ack"
    #: Both ways: asks the peer for a `pong`.
    PING = "ping"
    #: Both ways: answers a `ping`, or is sent on its own as a heartbeat.
    PONG = "pong"
    #: Client → server: starts an operation under a client-chosen id.
    SUBSCRIBE = "subscribe"
    #: Server → client: one execution result of an operation.
    NEXT = "next"
    #: Server → client: the operation failed before or instead of executing; it has ended.
    ERROR = "error"
    #: Both ways: the operation is over (server) or no longer wanted (client).
    COMPLETE = "complete"


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
class Ping:
    """Either way: the receiver must answer with `pong` as soon as possible."""

    type: ClassVar[Literal[MessageType.PING]] = MessageType.PING
    payload: JSONObject | None = None

    def __post_init__(self) -> None:
        check_optional_object(self.payload, self.type)

    def response(self) -> Pong:
        """The required answer; the connection never sends it on its own (wsproto `Ping`)."""
        return Pong()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Pong:
    """Either way: answers a `ping`, or an unsolicited heartbeat."""

    type: ClassVar[Literal[MessageType.PONG]] = MessageType.PONG
    payload: JSONObject | None = None

    def __post_init__(self) -> None:
        check_optional_object(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe:
    """Client → server: run the operation in `payload` under `id`."""

    type: ClassVar[Literal[MessageType.SUBSCRIBE]] = MessageType.SUBSCRIBE
    id: str
    payload: SubscribePayload

    def __post_init__(self) -> None:
        check_id(self.id, self.type)
        check_subscribe_payload(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Next:
    """Server → client: an execution result for operation `id`."""

    type: ClassVar[Literal[MessageType.NEXT]] = MessageType.NEXT
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
    """Server → client: operation `id` failed (e.g. validation); no `complete` follows."""

    type: ClassVar[Literal[MessageType.ERROR]] = MessageType.ERROR
    id: str
    payload: list[FormattedError]

    def __post_init__(self) -> None:
        check_id(self.id, self.type)
        check_errors(self.payload, self.type)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Complete:
    """Either way: operation `id` is finished (server) or must stop (client)."""

    type: ClassVar[Literal[MessageType.COMPLETE]] = MessageType.COMPLETE
    id: str

    def __post_init__(self) -> None:
        check_id(self.id, self.type)


#: What a client may send.
ClientMessage: TypeAlias = ConnectionInit | Ping | Pong | Subscribe | Complete
#: What a server may send.
ServerMessage: TypeAlias = ConnectionAck | Ping | Pong | Next | Error | Complete
#: Any graphql-transport-ws message.
Message: TypeAlias = (
    ConnectionInit | ConnectionAck | Ping | Pong | Subscribe | Next | Error | Complete
)
