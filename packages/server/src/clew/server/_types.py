"""Shared vocabulary of the server: ASGI aliases, option types and the handler Protocol."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias

from graphql import DocumentNode, GraphQLError
from starlette.types import Message, Receive, Scope, Send

from clew.protocol import FormattedError, JSONObject, Subprotocol

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from ._execution import Engine

__all__ = [
    "ContextValue",
    "ErrorFormatter",
    "Message",
    "QueryParser",
    "Receive",
    "RequestData",
    "RootValue",
    "Scope",
    "Send",
    "WebSocketHandler",
]

#: The decoded request parameters (`query`, `operationName`, `variables`, `extensions`) or, for a
#: websocket's `connection_init`, its payload: what a `context_value` callable receives next to
#: the request.
RequestData: TypeAlias = Mapping[str, object]

#: A fixed context object, or a sync/async callable of (request or websocket, request data).
ContextValue: TypeAlias = (
    "object | Callable[[HTTPConnection, RequestData], object | Awaitable[object]]"
)

#: A fixed root value, or a sync/async callable of (context, operation name, variables, document).
RootValue: TypeAlias = (
    "object | Callable[[object, str | None, JSONObject | None, DocumentNode], object]"
)

#: Turns query text into a document; it replaces graphql-core's `parse` (and its token limit).
QueryParser: TypeAlias = Callable[[str], DocumentNode]


class ErrorFormatter(Protocol):
    """Turns one GraphQL error into its wire shape; `debug` says whether internals may show."""

    def __call__(self, error: GraphQLError, debug: bool, /) -> FormattedError: ...


class WebSocketHandler(Protocol):
    """One GraphQL-over-WebSocket subprotocol, served by `GraphQL` on the shared endpoint.

    The app negotiates the subprotocol, then calls `handle` with the ASGI `websocket` scope of
    the not-yet-accepted socket: the handler accepts it itself, naming its `subprotocol`.
    `configure` is called once, before the first socket, with the app's execution engine;
    `shutdown` on lifespan shutdown must complete the running operations and close every
    socket with 1001 (going away).
    """

    subprotocol: Subprotocol

    def configure(self, engine: Engine) -> None: ...

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def shutdown(self) -> None: ...
