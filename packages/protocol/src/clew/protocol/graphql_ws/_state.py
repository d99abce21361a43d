"""The legacy graphql-ws state machine as data: every rule that moves a connection lives here.

Rule 1 (as in h11's `_state.py`): everything that decides whether a message is allowed, and what
it does to the connection and its operations, is in this file — including the server's choice
of reply to a frame it refuses. Rule 2: this file does not know which side we are. It is told
who *sent* a message; `Connection` applies the same table to what it sends and to what it
receives, so client and server can never disagree about the rules.

Theory of operation. The legacy protocol never closes for a bad client frame: the reference
server answers with `connection_error` (unparseable) or `error` for the frame's id, and carries
on. So a violation found here is a `LocalProtocolError`; the receiving server turns it into a
`Refused` reply chosen by `refusal()`, the receiving client into a 1002 close, and our own
sending side into an error for the host. Operations have two live states: `stop` moves an id
from RUNNING to STOPPING, where the server may still end it with `complete` (the reference
sends one once a stopped subscription ends) or `error`, but may not send more `data`.

A rejected connection (CLOSING after the server's `connection_error`) accepts nothing, but the
client may have written `start` right behind its `connection_init`: `rejection_reply()` says
how the server still answers such a frame before it closes.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError
from clew.protocol._operations import ConnectionState, OperationRegistry, OperationState
from clew.protocol._types import Role

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
    Start,
    Stop,
)

__all__ = [
    "TRANSITIONS",
    "Verdict",
    "check_sendable",
    "refusal",
    "rejection_reply",
    "transition",
]

_INIT = ConnectionState.AWAITING_INIT
_ACK = ConnectionState.AWAITING_ACK
_READY = ConnectionState.ACKNOWLEDGED
_CLOSING = ConnectionState.CLOSING

#: `{(sender, state): {message class: state after it}}`. A missing entry is a violation.
#: CLOSING and CLOSED accept nothing. What the server may send in a state, the client accepts
#: in every later open state too, since the client moves first (it sends init, then waits).
TRANSITIONS: Final[dict[tuple[Role, ConnectionState], dict[type[Message], ConnectionState]]] = {
    (Role.CLIENT, _INIT): {ConnectionInit: _ACK, Stop: _INIT, ConnectionTerminate: _CLOSING},
    (Role.SERVER, _INIT): {ConnectionErrorMessage: _INIT, Ka: _INIT},
    (Role.CLIENT, _ACK): {Stop: _ACK, ConnectionTerminate: _CLOSING},
    (Role.SERVER, _ACK): {ConnectionAck: _READY, ConnectionErrorMessage: _ACK, Ka: _ACK},
    (Role.CLIENT, _READY): {Start: _READY, Stop: _READY, ConnectionTerminate: _CLOSING},
    (Role.SERVER, _READY): {
        Data: _READY,
        Error: _READY,
        Complete: _READY,
        Ka: _READY,
        ConnectionErrorMessage: _READY,
    },
}


class Verdict(Enum):
    """What an allowed message did to the operation it names."""

    #: It counts: the receiver acts on it.
    ACCEPTED = "accepted"
    #: It names no operation it may act on (unknown, finished, or `data` after `stop`): the
    #: receiver drops it, the sender is told it cannot send it; nothing changed.
    IGNORED = "ignored"
    #: `complete` or `error` for a STOPPING id: the id is released; the sender may send it,
    #: the receiver drops it (its operation was already stopped).
    SETTLED = "settled"


def _violation(sender: Role, state: ConnectionState, message: Message) -> LocalProtocolError:
    """The error for a message its sender may not send now (legacy has only RFC 6455 codes)."""
    if sender is Role.CLIENT and type(message) is Start and state in (_INIT, _ACK):
        # clew's choice for "start before ack": the operation never runs (PROTOCOLS.md).
        return LocalProtocolError("Unauthorized", CloseCode.PROTOCOL_ERROR)
    if sender is Role.CLIENT and type(message) is ConnectionInit and state in (_ACK, _READY):
        return LocalProtocolError("Too many initialisation requests", CloseCode.PROTOCOL_ERROR)
    return LocalProtocolError(
        f"Unexpected '{message.type}' message from the {sender.value} "
        f"while {state.value.replace('_', ' ')}",
        CloseCode.PROTOCOL_ERROR,
    )


def transition(
    sender: Role, state: ConnectionState, message: Message, operations: OperationRegistry
) -> tuple[ConnectionState, Verdict]:
    """Apply `message` from `sender`: the new connection state, and what it did.

    Raises `LocalProtocolError` for a message that breaks a rule; the state and the registry
    are then untouched.
    """
    allowed = TRANSITIONS.get((sender, state))
    if allowed is None or type(message) not in allowed:
        raise _violation(sender, state, message)
    new_state = allowed[type(message)]
    match message:
        case Start(id=operation_id):
            # A running (or stopping) id is replaced, not refused (reference `server.ts`
            # unsubscribes the earlier operation); the host ends the old work silently.
            operations.reserve(operation_id)
        case Stop(id=operation_id):
            # `stop` for an unknown or already stopping id is ignored (reference `server.ts`).
            if not operations.stop(operation_id):
                return new_state, Verdict.IGNORED
        case Data(id=operation_id):
            if operations.state_of(operation_id) is not OperationState.RUNNING:
                return new_state, Verdict.IGNORED
        case Error(id=operation_id) | Complete(id=operation_id):
            # Both end the operation; no `complete` follows an `error`.
            was = operations.state_of(operation_id)
            if was is None:
                return new_state, Verdict.IGNORED
            operations.release(operation_id)
            if was is OperationState.STOPPING:
                return new_state, Verdict.SETTLED
        case _:
            pass  # connection-level messages name no operation
    return new_state, Verdict.ACCEPTED


def check_sendable(message: Message) -> None:
    """clew's own sending rule, stricter than what it accepts: `error` carries one error object.

    The array and `{"errors": [...]}` forms parse, because some servers send them and the
    reference client reads them, but gql accepts only an object, as the reference server,
    Ariadne and Strawberry send it. Raises `LocalProtocolError` and changes nothing.
    """
    if type(message) is Error and (
        isinstance(message.payload, list) or "errors" in message.payload
    ):
        raise LocalProtocolError(
            "Send 'error' with one GraphQL error object as its payload", CloseCode.PROTOCOL_ERROR
        )


def refusal(
    operation_id: object, reason: str, operations: OperationRegistry
) -> Error | ConnectionErrorMessage:
    """The reply a server writes for a client frame it refuses, the connection staying open.

    `error` for the frame's id when that id is usable — a non-empty string naming no live
    operation, since an `error` for a live id would end the client's view of an operation the
    server still runs — and `connection_error` otherwise, as the reference server answers an
    unparseable frame.
    """
    if isinstance(operation_id, str) and operation_id and operation_id not in operations:
        return Error(id=operation_id, payload={"message": reason})
    return ConnectionErrorMessage(payload={"message": reason})


def rejection_reply(message: Message, reason: str) -> Error | None:
    """The reply a server that rejected the connection writes to a client frame still in flight.

    `error` with the rejection's `reason` for a `start`, so the client ends that operation (the
    reference client sends `start` right behind `connection_init`, and the reference server
    fails each such operation with the rejection's message before it closes); None for any
    other message, which is dropped.
    """
    if type(message) is Start:
        return Error(id=message.id, payload={"message": reason})
    return None
