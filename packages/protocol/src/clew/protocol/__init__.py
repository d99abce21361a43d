"""clew.protocol: GraphQL over WebSocket and HTTP as pure data and state machines, without I/O.

- `clew.protocol.websocket` — one connection for both WebSocket subprotocols below, with one
  vocabulary of events and verbs (what a host drives);
- `clew.protocol.graphql_transport_ws` — the graphql-ws library's protocol;
- `clew.protocol.graphql_ws` — the legacy subscriptions-transport-ws protocol;
- `clew.protocol.http` — GraphQL-over-HTTP requests, responses, status codes and multipart;
- `clew.protocol.sse` — GraphQL over server-sent events (graphql-sse), both modes.

This module holds what they share: roles, close codes, errors and subprotocol negotiation.
"""

from __future__ import annotations

from ._codes import FATAL_CLOSE_CODES, CloseCode, is_retryable, limit_close_reason
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._negotiation import Subprotocol, select_subprotocol
from ._operations import ConnectionState
from ._types import (
    Closure,
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    JSONValue,
    Role,
    SubscribePayload,
)
from ._version import __version__

__all__ = [
    "FATAL_CLOSE_CODES",
    "CloseCode",
    "Closure",
    "ConnectionState",
    "FormattedError",
    "FormattedExecutionResult",
    "JSONObject",
    "JSONValue",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "Role",
    "Subprotocol",
    "SubscribePayload",
    "__version__",
    "is_retryable",
    "limit_close_reason",
    "select_subprotocol",
]
