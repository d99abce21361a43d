"""clew.client: an aiohttp GraphQL client — schema-typed operations, uploads, one WebSocket.

```python
from clew.client import AIOHTTPClient

async with AIOHTTPClient("http://127.0.0.1:8000/graphql") as client:
    result = await client.query.books(count=5)
```
"""

from __future__ import annotations

try:
    import aiohttp  # noqa: F401
    import graphql  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"clew.client needs its optional dependencies ({error.name} is missing): "
        'pip install "clew[client]"'
    ) from error

from ._builder import BuiltOperation
from ._fields import Fields
from ._messages import (
    GraphQLRequest,
    GraphQLResponse,
    GraphQLSubscriptionRequest,
    ResponseStream,
)
from ._proxy import DeferredStream, OperationProxy, QueryField, SubscriptionField
from ._retry import RetryPolicy
from ._subscription_call import SubscriptionCall
from ._types import (
    ConnectionParams,
    HeaderProvider,
    Headers,
    OperationStream,
    SubscriptionTransport,
    WebSocketManagerFactory,
    WebSocketSettings,
)
from ._upload import Upload
from ._ws_options import WebSocketOptions
from .backend import AIOHTTPBackend
from .client import AIOHTTPClient, BackendOptions
from .errors import (
    AckTimeoutError,
    ConnectionFailedError,
    GraphQLResponseError,
    HTTPStatusError,
    InvalidResponseError,
    MessageTooBigError,
    SchemaValidationError,
    SubscriptionError,
    TransportError,
    TransportTimeoutError,
    WebSocketClosedError,
    WebSocketProtocolError,
)

__all__ = [
    "AIOHTTPBackend",
    "AIOHTTPClient",
    "AckTimeoutError",
    "BackendOptions",
    "BuiltOperation",
    "ConnectionFailedError",
    "ConnectionParams",
    "DeferredStream",
    "Fields",
    "GraphQLRequest",
    "GraphQLResponse",
    "GraphQLResponseError",
    "GraphQLSubscriptionRequest",
    "HTTPStatusError",
    "HeaderProvider",
    "Headers",
    "InvalidResponseError",
    "MessageTooBigError",
    "OperationProxy",
    "OperationStream",
    "QueryField",
    "ResponseStream",
    "RetryPolicy",
    "SchemaValidationError",
    "SubscriptionCall",
    "SubscriptionError",
    "SubscriptionField",
    "SubscriptionTransport",
    "TransportError",
    "TransportTimeoutError",
    "Upload",
    "WebSocketClosedError",
    "WebSocketManagerFactory",
    "WebSocketOptions",
    "WebSocketProtocolError",
    "WebSocketSettings",
]
