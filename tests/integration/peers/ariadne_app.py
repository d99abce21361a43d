"""The shared test schema served by Ariadne, a third-party graphql-core server to compare with.

An Ariadne ``GraphQL`` app takes one websocket handler, so there are two factories (for
``uvicorn --factory``): one speaking ``graphql-transport-ws``, one the legacy ``graphql-ws``.
Both run :func:`build_test_schema` unchanged, which also proves that schema on a real server.
"""

from __future__ import annotations

from collections.abc import Mapping

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import (
    GraphQLTransportWSHandler,
    GraphQLWebsocketHandlerBase,
    GraphQLWSHandler,
)
from ariadne.exceptions import WebSocketConnectionError
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

# Relative: the package is imported as "integration" or "tests.integration" depending on rootdir.
from ..schema import build_test_schema, is_rejected, token_from_authorization  # noqa: TID252

__all__ = ["create_legacy_ws_app", "create_transport_ws_app"]

#: Where on_connect leaves the connection_init token for the per-operation context.
_SCOPE_KEY = "clew_test_token"


def _on_connect(websocket: WebSocket, payload: object) -> None:
    if is_rejected(payload):
        # Ariadne sends connection_error with this payload on graphql-ws; on
        # graphql-transport-ws it closes the socket (with 1000, not 4403).
        raise WebSocketConnectionError({"message": "Forbidden"})
    token = payload.get("token") if isinstance(payload, Mapping) else None
    websocket.scope[_SCOPE_KEY] = token if isinstance(token, str) else None


def _context(request: HTTPConnection, _data: object) -> dict[str, object]:
    if request.scope["type"] == "websocket":
        token = request.scope.get(_SCOPE_KEY)
    else:
        token = token_from_authorization(request.headers.get("authorization"))
    return {"request": request, "token": token}


def _app(handler: GraphQLWebsocketHandlerBase) -> GraphQL:
    return GraphQL(build_test_schema().schema, context_value=_context, websocket_handler=handler)


def create_transport_ws_app() -> GraphQL:
    """An Ariadne app whose WebSocket endpoint speaks graphql-transport-ws."""
    return _app(GraphQLTransportWSHandler(on_connect=_on_connect))


def create_legacy_ws_app() -> GraphQL:
    """An Ariadne app whose WebSocket endpoint speaks the legacy graphql-ws subprotocol."""
    return _app(GraphQLWSHandler(on_connect=_on_connect))
