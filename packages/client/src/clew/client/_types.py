"""The client's option types and the seam between the HTTP backend and the WebSocket transport.

The backend never speaks WebSocket itself: it hands subscriptions to a `SubscriptionTransport`
built by a `WebSocketManagerFactory` (by default `clew.client._websocket.WebSocketManager`),
sharing its `aiohttp.ClientSession` so every request of a client uses one connection pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, final

import aiohttp

from clew.protocol import JSONObject
from clew.protocol.http import GraphQLRequest, GraphQLResponse

from ._ws_options import WebSocketOptions

__all__ = [
    "ConnectionParams",
    "HeaderProvider",
    "Headers",
    "OperationStream",
    "SubscriptionTransport",
    "WebSocketManagerFactory",
    "WebSocketSettings",
    "resolve_headers",
]

#: Produces the headers for one request, such as a freshly refreshed bearer token.
HeaderProvider: TypeAlias = Callable[[], Awaitable[Mapping[str, str]]]

#: Static headers, or an async callable asked before every request.
Headers: TypeAlias = Mapping[str, str] | HeaderProvider

#: The `connection_init` payload: a fixed object, or an async callable asked on every (re)connect
#: (which may answer None: no payload).
ConnectionParams: TypeAlias = "JSONObject | Callable[[], Awaitable[JSONObject | None]]"


async def resolve_headers(headers: Headers | None) -> dict[str, str]:
    """The headers to send now: static ones copied, a provider awaited."""
    if headers is None:
        return {}
    if callable(headers):
        return dict(await headers())
    return dict(headers)


class OperationStream(Protocol):
    """The results of one operation; `aclose()` stops it (sends `complete`/`stop` for its id)."""

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        """The stream itself."""
        ...

    async def __anext__(self) -> GraphQLResponse:
        """The next result; `StopAsyncIteration` once the server completes the operation."""
        ...

    async def aclose(self) -> None:
        """Stop the operation early; a no-op once it has ended."""
        ...


class SubscriptionTransport(Protocol):
    """What the backend needs from the WebSocket side: operations in, responses out, and a close.

    `subscribe` returns a stream of the operation's results (`next`/`data` payloads
    as validated `GraphQLResponse`s). It raises `SubscriptionError` when the server ends the
    operation with `error`, and `WebSocketClosedError` when the socket is gone for good.
    Closing the iterator early (``break`` out of ``async for``) must stop that operation only.
    """

    def subscribe(self, request: GraphQLRequest, *, single_result: bool) -> OperationStream:
        """Start one operation on the shared connection and iterate over its results.

        `single_result=True` marks a query or mutation: it must never be re-sent after a drop
        (it may have run). The backend decided the kind; the transport does not guess it.
        """
        ...

    async def close(self) -> None:
        """End every operation and close the socket; the session is not the transport's to close."""
        ...


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketSettings:
    """Everything the backend knows about the WebSocket side, handed to the transport once."""

    #: The ws:// or wss:// endpoint (derived from the HTTP endpoint unless given).
    url: str
    #: Subprotocols to offer, in order of preference; the server picks one.
    subprotocols: tuple[str, ...]
    #: Headers for the handshake request (static, or a provider asked on every connect).
    headers: Headers | None = None
    #: The `connection_init` payload.
    connection_params: ConnectionParams | None = None
    #: Makes a new operation id, unique within the client.
    id_factory: Callable[[], str]
    #: The transport's options as the caller gave them: a `WebSocketOptions` (typed, for the
    #: default transport) or a mapping (its field names, or a custom transport's own options).
    options: WebSocketOptions | Mapping[str, object] = field(default_factory=dict)


class WebSocketManagerFactory(Protocol):
    """Builds the transport; called once per backend, on the first subscription."""

    def __call__(
        self, session: aiohttp.ClientSession, settings: WebSocketSettings
    ) -> SubscriptionTransport:
        """A transport that opens its socket through `session` when it first needs one."""
        ...
