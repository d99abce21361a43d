"""GraphQL over WebSocket without caring which subprotocol the peer speaks.

`Connection(subprotocol, role)` speaks graphql-transport-ws or legacy graphql-ws behind one
vocabulary: `receive()` returns the events of `clew.protocol.websocket.events`, the send side
is verbs. The subprotocols' own messages, codecs and tables stay in
`clew.protocol.graphql_transport_ws` and `clew.protocol.graphql_ws`.
"""

from __future__ import annotations

from .connection import MASKED_ERROR, Connection, not_acceptable
from .events import (
    Acknowledged,
    CloseRequired,
    Event,
    InitRequested,
    OperationCancelled,
    OperationCompleted,
    OperationFailed,
    OperationRequested,
    PingReceived,
    PongReceived,
    Refused,
    Rejected,
    ResultReceived,
    Unencodable,
)

__all__ = [
    "MASKED_ERROR",
    "Acknowledged",
    "CloseRequired",
    "Connection",
    "Event",
    "InitRequested",
    "OperationCancelled",
    "OperationCompleted",
    "OperationFailed",
    "OperationRequested",
    "PingReceived",
    "PongReceived",
    "Refused",
    "Rejected",
    "ResultReceived",
    "Unencodable",
    "not_acceptable",
]
