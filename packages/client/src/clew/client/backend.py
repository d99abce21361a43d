"""The aiohttp backend: one pooled (or borrowed) session, GraphQL over HTTP, the WebSocket hand-off.

Every protocol rule (body shape, Accept header, which responses are GraphQL responses, the
multipart layout) comes from `clew.protocol.http`; this module only does the I/O and turns
aiohttp's failures into the client's exceptions.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, aclosing
from dataclasses import fields
from typing import Final, cast
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from clew.protocol import FormattedError, JSONObject, Subprotocol
from clew.protocol.http import (
    GraphQLRequest,
    GraphQLResponse,
    MediaType,
    ResponseFormatError,
    is_graphql_response,
    parse_media_type,
)

from ._types import (
    ConnectionParams,
    Headers,
    OperationStream,
    SubscriptionTransport,
    WebSocketManagerFactory,
    WebSocketSettings,
    resolve_headers,
)
from ._upload import PREFLIGHT_HEADER, contains_files, multipart_form
from ._ws_dialects import WebSocketOptions
from .errors import (
    ConnectionFailedError,
    HTTPStatusError,
    InvalidResponseError,
    SubscriptionError,
    TransportError,
    TransportTimeoutError,
)

__all__ = ["DEFAULT_TIMEOUT", "AIOHTTPBackend"]

#: The spec's recommended Accept header: the GraphQL response type first, legacy JSON second.
ACCEPT: Final = f"{MediaType.GRAPHQL_RESPONSE_JSON}, {MediaType.JSON};q=0.9"

#: Used for the backend's own session when no timeout is given: generous, but never forever.
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=60, sock_connect=10)

#: Offered on the WebSocket handshake when the caller does not choose: both, maintained first.
DEFAULT_SUBPROTOCOLS: Final = (Subprotocol.GRAPHQL_TRANSPORT_WS.value, Subprotocol.GRAPHQL_WS.value)


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _default_websocket_factory() -> WebSocketManagerFactory:
    """`clew.client._websocket.WebSocketManager`, imported only when a subscription starts."""
    module = importlib.import_module("clew.client._websocket")
    return cast(WebSocketManagerFactory, module.WebSocketManager)


class AIOHTTPBackend:
    """Sends GraphQL requests with aiohttp; subscriptions go to the one shared WebSocket transport.

    A `session` passed in is borrowed and never closed; otherwise the backend creates one
    session (one connection pool) on first use and closes it in `close()`.
    """

    def __init__(
        self,
        endpoint: str,
        ws_endpoint: str | None = None,
        session: aiohttp.ClientSession | None = None,
        subscription_protocols: Sequence[str] | None = None,
        *,
        headers: Headers | None = None,
        timeout: aiohttp.ClientTimeout | float | None = None,
        use_get_for_queries: bool = False,
        use_websocket_for_queries: bool = False,
        connection_params: ConnectionParams | None = None,
        websocket_options: WebSocketOptions | Mapping[str, object] | None = None,
        websocket_factory: WebSocketManagerFactory | None = None,
        json_serialize: Callable[[object], str] = _compact_json,
    ) -> None:
        self.endpoint = endpoint
        self.ws_endpoint = ws_endpoint or self.adapt_to_websocket_endpoint(endpoint)
        self.subscription_protocols = tuple(subscription_protocols or DEFAULT_SUBPROTOCOLS)
        self.headers = headers
        self.use_get_for_queries = use_get_for_queries
        self.use_websocket_for_queries = use_websocket_for_queries
        self.connection_params = connection_params
        if isinstance(websocket_options, WebSocketOptions):
            websocket_options = {
                f.name: getattr(websocket_options, f.name) for f in fields(websocket_options)
            }
        #: The transport's options by name (see `WebSocketOptions`).
        self.websocket_options = dict(websocket_options or {})
        if isinstance(timeout, int | float):
            timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None
        self._websocket_factory = websocket_factory
        self._transport: SubscriptionTransport | None = None
        self._json_serialize = json_serialize
        self._ids = itertools.count(1)

    # -- the seed API ---------------------------------------------------------------------

    @staticmethod
    def adapt_to_websocket_endpoint(endpoint: str) -> str:
        """The WebSocket URL for an HTTP endpoint: http→ws, https→wss, path and query kept."""
        parts = urlsplit(endpoint)
        scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
        if scheme is None:
            raise ValueError(f"Cannot derive a WebSocket URL from {endpoint!r}: use http(s)://")
        return urlunsplit(parts._replace(scheme=scheme))

    def generate_subscription_id(self) -> str:
        """A new operation id, unique among this backend's operations (a counter, as graphql-ws)."""
        return str(next(self._ids))

    def make_payload(self, request: GraphQLRequest) -> JSONObject:
        """The JSON body for `request`, with only the parameters that are present."""
        return request.to_json_body()

    async def execute_query(self, request: GraphQLRequest) -> GraphQLResponse:
        """Run a query: POST (or GET with `use_get_for_queries`), or over the WebSocket if asked.

        Either way a query the server refuses (it does not parse or validate) comes back as a
        response with `errors` and no data; over the WebSocket that is the `error` message.
        """
        if self.use_websocket_for_queries:
            return await self._single_over_websocket(request)
        if self.use_get_for_queries and not contains_files(request.variables):
            return await self._get(request)
        return await self._post(request)

    async def execute_mutation(self, request: GraphQLRequest) -> GraphQLResponse:
        """Run a mutation: always POST (the spec forbids mutations over GET), or the WebSocket."""
        if self.use_websocket_for_queries:
            return await self._single_over_websocket(request)
        return await self._post(request)

    def execute_subscription(self, request: GraphQLRequest) -> OperationStream:
        """Start `request` on the shared WebSocket and iterate over its results.

        Call `aclose()` on the result (or use `contextlib.aclosing`) to stop it at once.
        """
        return self.websocket().subscribe(request)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session every request goes through; created on first use if none was given."""
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession(timeout=self._timeout or DEFAULT_TIMEOUT)
        return self._session

    def websocket(self) -> SubscriptionTransport:
        """The shared WebSocket transport, created (not yet connected) on first use."""
        if self._transport is None:
            factory = self._websocket_factory or _default_websocket_factory()
            settings = WebSocketSettings(
                url=self.ws_endpoint,
                subprotocols=self.subscription_protocols,
                headers=self.headers,
                connection_params=self.connection_params,
                id_factory=self.generate_subscription_id,
                options=self.websocket_options,
            )
            self._transport = factory(self.session, settings)
        return self._transport

    async def close(self) -> None:
        """Close the WebSocket transport and the session if the backend created it."""
        transport, self._transport = self._transport, None
        try:
            if transport is not None:
                await transport.close()
        finally:
            session = self._session
            if self._owns_session and session is not None:
                self._session = None
                await session.close()

    # -- HTTP -------------------------------------------------------------------------------

    async def _single_over_websocket(self, request: GraphQLRequest) -> GraphQLResponse:
        # The caller knows it is a query or mutation: the transport need not parse the document
        # to learn that it must never re-send it after a drop.
        stream = self.websocket().subscribe(request, single_result=True)
        try:
            async with aclosing(stream):
                async for response in stream:
                    return response
        except SubscriptionError as exc:
            # `error` is how the socket answers a request error (the document does not parse
            # or validate); over HTTP that is a response with errors and no data, so it is here.
            errors: list[FormattedError] = list(exc.errors) or [
                {"message": "The server ended the operation with an error"}
            ]
            return GraphQLResponse(data=None, errors=errors, data_present=False)
        raise TransportError(f"{self.ws_endpoint} completed the operation without a result")

    async def _get(self, request: GraphQLRequest) -> GraphQLResponse:
        headers = {"Accept": ACCEPT}
        headers.update(await resolve_headers(self.headers))
        return await self._send("GET", headers, params=request.to_query_params())

    async def _post(self, request: GraphQLRequest) -> GraphQLResponse:
        headers = {"Accept": ACCEPT}
        if contains_files(request.variables):
            headers[PREFLIGHT_HEADER] = "1"
            headers.update(await resolve_headers(self.headers))
            with ExitStack() as files:
                form = multipart_form(request, files)
                return await self._send("POST", headers, data=form)
        headers["Content-Type"] = f"{MediaType.JSON}; charset=utf-8"
        headers.update(await resolve_headers(self.headers))
        body = self._json_serialize(self.make_payload(request))
        return await self._send("POST", headers, data=body.encode("utf-8"))

    async def _send(
        self,
        method: str,
        headers: dict[str, str],
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | aiohttp.FormData | None = None,
    ) -> GraphQLResponse:
        url = self.endpoint
        try:
            async with self.session.request(
                method, url, headers=headers, params=params, data=data, timeout=self._timeout
            ) as response:
                body = await response.read()
                status = response.status
                content_type = response.headers.get("Content-Type")
                reply_headers = dict(response.headers)
        except TimeoutError as exc:  # aiohttp's timeouts subclass the builtin
            raise TransportTimeoutError(url, type(exc).__name__) from exc
        except aiohttp.ClientConnectionError as exc:
            raise ConnectionFailedError(url, str(exc) or type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"Request to {url} failed: {exc}") from exc
        return _read_response(url, status, content_type, body, reply_headers)


#: Statuses a legacy `application/json` server uses for GraphQL request errors.
_REQUEST_ERROR_STATUSES = frozenset({400, 422})


def _read_response(
    url: str, status: int, content_type: str | None, body: bytes, headers: Mapping[str, str]
) -> GraphQLResponse:
    """Decide whether an answer is a GraphQL response (spec, "Processing the response").

    `application/graphql-response+json` is a GraphQL response at any status; other 2xx bodies
    are read as JSON (legacy servers). A non-2xx `application/json` body is a GraphQL response
    only when it is one carrying request errors and no data — what Ariadne, Strawberry and
    older drafts send with 400 (or 422) for a document that fails to parse or validate;
    anything else (a proxy's 429 or 502, say) is an `HTTPStatusError`.
    """
    text = body.decode("utf-8", errors="replace")
    success = 200 <= status < 300
    if not (success or is_graphql_response(status, content_type)):
        if status in _REQUEST_ERROR_STATUSES and _is_json(content_type):
            try:
                response = GraphQLResponse.from_json(body)
            except ResponseFormatError:
                pass  # not a GraphQL response: the status error below
            else:
                if response.errors and not response.data_present:
                    return response
        raise HTTPStatusError(url, status, text, headers)
    try:
        return GraphQLResponse.from_json(body)
    except ResponseFormatError as exc:
        raise InvalidResponseError(url, status, text, headers, str(exc)) from None


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names plain `application/json`."""
    if content_type is None:
        return False
    try:
        media_type, _ = parse_media_type(content_type)
    except ValueError:
        return False
    return media_type == MediaType.JSON
