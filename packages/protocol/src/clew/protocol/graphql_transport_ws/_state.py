"""The graphql-transport-ws state machine as data: every rule that moves a connection lives here.

Rule 1 (as in h11's `_state.py`): everything that decides whether a message is allowed, and what
it does to the connection and its operations, is in this file. Rule 2: this file does not know
which side we are. It is told who *sent* a message; `Connection` applies the same table to what
it sends and to what it receives, so client and server can never disagree about the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError
from clew.protocol._operations import ConnectionState, OperationRegistry
from clew.protocol._types import Role

from .messages import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
)

__all__ = ["TRANSITIONS", "transition"]

_INIT = ConnectionState.AWAITING_INIT
_ACK = ConnectionState.AWAITING_ACK
_READY = ConnectionState.ACKNOWLEDGED

#: `{(sender, state): {message class: state after it}}`. A missing entry is a violation,
#: whose close code `_violation` picks. CLOSING and CLOSED accept nothing.
TRANSITIONS: Final[dict[tuple[Role, ConnectionState], dict[type[Message], ConnectionState]]] = {
    (Role.CLIENT, _INIT): {ConnectionInit: _ACK, Ping: _INIT, Pong: _INIT, Complete: _INIT},
    (Role.SERVER, _INIT): {Ping: _INIT, Pong: _INIT},
    (Role.CLIENT, _ACK): {Ping: _ACK, Pong: _ACK, Complete: _ACK},
    (Role.SERVER, _ACK): {ConnectionAck: _READY, Ping: _ACK, Pong: _ACK},
    (Role.CLIENT, _READY): {Subscribe: _READY, Complete: _READY, Ping: _READY, Pong: _READY},
    (Role.SERVER, _READY): {
        Next: _READY,
        Error: _READY,
        Complete: _READY,
        Ping: _READY,
        Pong: _READY,
    },
}


def _violation(sender: Role, state: ConnectionState, message: Message) -> LocalProtocolError:
    """The error for a message its sender may not send now, with the spec's close code."""
    if sender is Role.CLIENT and type(message) is Subscribe and state in (_INIT, _ACK):
        # PROTOCOL.md: subscribe before the connection is acknowledged closes 4401.
        return LocalProtocolError("Unauthorized", CloseCode.UNAUTHORIZED)
    if sender is Role.CLIENT and type(message) is ConnectionInit and state in (_ACK, _READY):
        # PROTOCOL.md: a second connection_init closes 4429.
        return LocalProtocolError(
            "Too many initialisation requests", CloseCode.TOO_MANY_INITIALISATION_REQUESTS
        )
    # A malformed exchange: 4400 when the client is at fault, 4004 when the server is
    # (graphql-ws client closes 4004 "Bad response" for a server message it cannot accept).
    code = CloseCode.BAD_REQUEST if sender is Role.CLIENT else CloseCode.BAD_RESPONSE
    return LocalProtocolError(
        f"Unexpected '{message.type}' message from the {sender.value} "
        f"while {state.value.replace('_', ' ')}",
        code,
    )


def transition(
    sender: Role,
    state: ConnectionState,
    message: Message,
    operations: OperationRegistry,
    *,
    allowed: Mapping[type[Message], ConnectionState] | None = None,
) -> tuple[ConnectionState, bool]:
    """Apply `message` from `sender`: the new connection state, and whether it counts.

    False means the message names an operation that is not running — a late or unknown id —
    which PROTOCOL.md says the receiver ignores; the registry is then left untouched. Raises
    `LocalProtocolError` (carrying the close code) for a message that breaks a rule.
    `allowed` is ``TRANSITIONS.get((sender, state))`` when the caller already looked it up
    (a connection sending a stream of results does so once per state, not once per message).
    """
    if allowed is None:
        allowed = TRANSITIONS.get((sender, state))
    kind = type(message)
    if allowed is None or kind not in allowed:
        raise _violation(sender, state, message)
    new_state = allowed[kind]
    if kind is Next:  # the hot path: one per result, so tested first
        return new_state, message.id in operations  # type: ignore[union-attr]
    match message:
        case Subscribe(id=operation_id):
            if operation_id in operations:
                raise LocalProtocolError(
                    f"Subscriber for {operation_id} already exists",
                    CloseCode.SUBSCRIBER_ALREADY_EXISTS,
                )
            operations.reserve(operation_id)
        case Error(id=operation_id) | Complete(id=operation_id):
            # Both end the operation; no `complete` follows an `error`.
            return new_state, operations.release(operation_id)
        case _:
            pass  # init, ack, ping and pong name no operation
    return new_state, True
