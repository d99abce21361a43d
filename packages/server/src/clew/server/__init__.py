"""clew.server: an ASGI GraphQL server: HTTP, SSE and both WebSocket subprotocols, on Starlette."""

from __future__ import annotations

try:
    import graphql  # noqa: F401
    import orjson  # noqa: F401
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"clew.server needs its optional dependencies ({error.name} is missing): "
        'pip install "clew[server]"'
    ) from error

from clew.protocol.http import StatusRules

from ._compiler import EventResolver
from ._cors import CORS
from ._documents import (
    DocumentStore,
    InMemoryDocumentStore,
    PersistedDocuments,
    TrustedDocuments,
)
from ._errors import INTERNAL_ERROR_MESSAGE, format_error
from ._execution import Engine
from ._extensions import Extension, ExtensionFactory
from ._handler_base import GraphQLHandler, GraphQLHttpHandlerBase, GraphQLResult
from ._limits import Limits
from ._rejection import WebSocketConnectionError
from ._types import (
    ContextValue,
    ErrorFormatter,
    QueryParser,
    RequestData,
    RootValue,
)
from ._upload import Upload
from .app import GraphQL, WebSocketHandler
from .explorer import Explorer, ExplorerLike
from .http_handler import GraphQLHTTPHandler
from .sse import GraphQLSSEHandler

__all__ = [
    "CORS",
    "INTERNAL_ERROR_MESSAGE",
    "ContextValue",
    "DocumentStore",
    "Engine",
    "ErrorFormatter",
    "EventResolver",
    "Explorer",
    "ExplorerLike",
    "Extension",
    "ExtensionFactory",
    "GraphQL",
    "GraphQLHTTPHandler",
    "GraphQLHandler",
    "GraphQLHttpHandlerBase",
    "GraphQLResult",
    "GraphQLSSEHandler",
    "InMemoryDocumentStore",
    "Limits",
    "PersistedDocuments",
    "QueryParser",
    "RequestData",
    "RootValue",
    "StatusRules",
    "TrustedDocuments",
    "Upload",
    "WebSocketConnectionError",
    "WebSocketHandler",
    "format_error",
]
