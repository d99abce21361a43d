"""clew.server: an ASGI GraphQL server, HTTP and both WebSocket subprotocols, on Starlette."""

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

from ._errors import INTERNAL_ERROR_MESSAGE, format_error
from ._execution import (
    Engine,
    PreparationFailure,
    PreparationStage,
    PreparedOperation,
    SubscriptionStream,
)
from ._extensions import Extension, ExtensionFactory
from ._limits import Limits
from ._types import (
    ContextValue,
    ErrorFormatter,
    QueryParser,
    RequestData,
    RootValue,
    WebSocketHandler,
)

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "ContextValue",
    "Engine",
    "ErrorFormatter",
    "Extension",
    "ExtensionFactory",
    "Limits",
    "PreparationFailure",
    "PreparationStage",
    "PreparedOperation",
    "QueryParser",
    "RequestData",
    "RootValue",
    "SubscriptionStream",
    "WebSocketHandler",
    "format_error",
]
