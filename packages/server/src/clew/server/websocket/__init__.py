"""The WebSocket side of clew.server: both GraphQL-over-WebSocket subprotocols on one driver.

The driver (`_socket.py`) speaks to `clew.protocol.websocket.Connection`, which hides the
subprotocol; the two handlers only configure it.

`GraphQLTransportWSHandler` serves ``graphql-transport-ws`` and `GraphQLWSHandler` the legacy
``graphql-ws``. The app picks one by the negotiated subprotocol and calls
``handle(scope, receive, send)``.

Hooks (each may be sync or async):

- ``on_connect(websocket, payload)`` runs on ``connection_init``. Return False or raise
  `ConnectionRejected` to refuse (4403; legacy: ``connection_error`` then 1011). An unexpected
  exception closes with 4500 (legacy: 1011) and is logged with its traceback. The payload is
  kept in ``websocket.scope["connection_params"]`` and the return value in
  ``websocket.scope["connection_result"]``; with the default context (``{"request": ...}``)
  resolvers also find them as ``info.context["connection_params"]`` and
  ``info.context["connection_result"]``. A ``context_value`` callable receives the
  ``connection_init`` payload as its data.
- ``on_operation(websocket, operation)`` runs when a valid operation is about to execute; if it
  raises, the operation ends with an ``error``.
- ``on_complete(websocket, operation)`` runs once for every operation ``on_operation`` saw,
  after it ended however it ended, and after its subscription stream was closed.
- ``on_disconnect(websocket)`` runs once when the socket is gone.

Ariadne's per-message methods (`handle_websocket_message`, `handle_websocket_subscribe`, ...)
are override seams on the two handlers: a subclass's override is called at that step, with
Ariadne's arguments (`ClientContext`, `OperationsView`), and ``super()`` is clew's own step.
Methods not overridden cost nothing: the socket takes its own path.

Limits (`clew.server.Limits`): more than ``max_operations_per_connection`` running operations
answers the new one with ``error`` and keeps the socket open; a frame over
``max_websocket_message_bytes`` closes the socket with 4400 (legacy: 1009 "message too big").
"""

from __future__ import annotations

from ._handlers import GraphQLWebsocketHandler
from ._hooks import ConnectionRejected, Operation
from ._legacy_ws import GraphQLWSHandler
from ._seams import ClientContext, OperationsView
from ._transport_ws import GraphQLTransportWSHandler

__all__ = [
    "ClientContext",
    "ConnectionRejected",
    "GraphQLTransportWSHandler",
    "GraphQLWSHandler",
    "GraphQLWebsocketHandler",
    "Operation",
    "OperationsView",
]
