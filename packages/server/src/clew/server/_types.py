"""Shared vocabulary of the server: ASGI aliases and option types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias

from graphql import DocumentNode, GraphQLError
from starlette.types import Message, Receive, Scope, Send

from clew.protocol import FormattedError, JSONObject

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection


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
