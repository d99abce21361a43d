"""Ariadne's `ariadne.asgi.handlers`, as clew's: the handler classes users subclass.

`GraphQLHandler` (abstract: `handle`, `configure`, `get_context_for_request`) →
`GraphQLHttpHandlerBase` (abstract: `handle_request`, `execute_graphql_query`) →
`GraphQLHTTPHandler`, whose documented methods are override seams; and
`GraphQLWebsocketHandler` (the hooks, `handle_websocket`, `get_context_for_request`) →
`GraphQLTransportWSHandler`, `GraphQLWSHandler`, whose per-message methods are override
seams. `GraphQLHandlerBase` and `GraphQLWebsocketHandlerBase` are Ariadne 1.x's names for
`GraphQLHandler` and `GraphQLWebsocketHandler`.
"""

from __future__ import annotations

from ._handler_base import (
    GraphQLHandler,
    GraphQLHandlerBase,
    GraphQLHttpHandlerBase,
    GraphQLResult,
)
from .http_handler import GraphQLHTTPHandler
from .websocket import GraphQLTransportWSHandler, GraphQLWebsocketHandler, GraphQLWSHandler

# The GraphQLWebsocketHandler name of Ariadne 1.x.
GraphQLWebsocketHandlerBase = GraphQLWebsocketHandler

__all__ = [
    "GraphQLHTTPHandler",
    "GraphQLHandler",
    "GraphQLHandlerBase",
    "GraphQLHttpHandlerBase",
    "GraphQLResult",
    "GraphQLTransportWSHandler",
    "GraphQLWSHandler",
    "GraphQLWebsocketHandler",
    "GraphQLWebsocketHandlerBase",
]
