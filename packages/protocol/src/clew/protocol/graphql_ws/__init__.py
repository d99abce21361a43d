"""Legacy graphql-ws: the subscriptions-transport-ws protocol (Apollo's `PROTOCOL.md`).

`Connection(Role.SERVER)` or `Connection(Role.CLIENT)` holds the state; the message classes are
what it returns from `receive()` and takes in `send()`; `parse`/`serialize` are the wire format.
"""

from __future__ import annotations

from ._codec import Dumps, parse, serialize
from ._state import TRANSITIONS
from .connection import Connection
from .messages import (
    ClientMessage,
    Complete,
    ConnectionAck,
    ConnectionErrorMessage,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    ErrorPayload,
    ErrorsEnvelope,
    Event,
    Ka,
    Message,
    MessageType,
    Refused,
    ServerMessage,
    Start,
    Stop,
)

#: The subprotocol name to offer and accept in `Sec-WebSocket-Protocol`.
SUBPROTOCOL = "graphql-ws"

__all__ = [
    "SUBPROTOCOL",
    "TRANSITIONS",
    "ClientMessage",
    "Complete",
    "Connection",
    "ConnectionAck",
    "ConnectionErrorMessage",
    "ConnectionInit",
    "ConnectionTerminate",
    "Data",
    "Dumps",
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
    "parse",
    "serialize",
]
