"""graphql-transport-ws: the graphql-ws library's protocol (GraphQL over WebSocket RFC).

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
    ConnectionInit,
    Error,
    Message,
    MessageType,
    Next,
    Ping,
    Pong,
    ServerMessage,
    Subscribe,
)

#: The subprotocol name to offer and accept in `Sec-WebSocket-Protocol`.
SUBPROTOCOL = "graphql-transport-ws"

__all__ = [
    "SUBPROTOCOL",
    "TRANSITIONS",
    "ClientMessage",
    "Complete",
    "Connection",
    "ConnectionAck",
    "ConnectionInit",
    "Dumps",
    "Error",
    "Message",
    "MessageType",
    "Next",
    "Ping",
    "Pong",
    "ServerMessage",
    "Subscribe",
    "parse",
    "serialize",
]
