"""The aiohttp backend: one pooled (or borrowed) session, GraphQL over HTTP, the WebSocket hand-off.

Every protocol rule (body shape, Accept header, which responses are GraphQL responses, the
multipart layout) comes from `clew.protocol.http`; this module only does the I/O and turns
aiohttp's failures into the client's exceptions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack, aclosing
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, TypeVar, cast, final
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from clew.protocol import FormattedError, JSONObject, Subprotocol
from clew.protocol.http import GraphQLRequest as WireRequest
from clew.protocol.http import GraphQLResponse as ResponseBody
from clew.protocol.http import (
    MediaType,
    PersistedQueryError,
    RequestError,
    ResponseFormatError,
    is_graphql_response,
    parse_batch_response,
    parse_media_type,
)
from clew.protocol.incremental import IncrementalMerger

from ._builder import OperationKind, operation_kind
from ._encoding import encode_json
from ._incremental import INCREMENTAL_ACCEPT, read_incremental
from ._messages import GraphQLRequest, GraphQLResponse, GraphQLSubscriptionRequest
from ._persisted import DocumentIds, PersistedQueries
from ._sse import SSETransport
from ._subscription_call import SubscriptionCall
from ._tracing import trace_headers, with_trace_context
from ._types import (
    ConnectionParams,
    Headers,
    SubscriptionTransport,
    WebSocketManagerFactory,
    WebSocketSettings,
    resolve_headers,
)
from ._upload import PREFLIGHT_HEADER, contains_files, multipart_form
from ._websocket import WebSocketManager
from ._ws_options import WebSocketOptions
from .errors import (
    ConnectionFailedError,
    HTTPStatusError,
    InvalidResponseError,
    SubscriptionError,
    TransportError,
    TransportTimeoutError,
)

if TYPE_CHECKING:
    from ._sse import SSETransport

__all__ = ["DEFAULT_SUBPROTOCOLS", "DEFAULT_TIMEOUT", "AIOHTTPBackend", "Request"]

#: What the backend sends: the client's request (qlient's shape) or the protocol's.
Request: TypeAlias = GraphQLRequest | WireRequest

#: The spec's recommended Accept header: the GraphQL response type first, legacy JSON second.
ACCEPT: Final = f"{MediaType.GRAPHQL_RESPONSE_JSON}, {MediaType.JSON};q=0.9"

#: Used for the backend's own session when no timeout is given: generous, but never forever.
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=60, sock_connect=10)

#: Offered on the WebSocket handshake when the caller does not choose: both, in qlient's order.
DEFAULT_SUBPROTOCOLS: Final = (Subprotocol.GRAPHQL_WS.value, Subprotocol.GRAPHQL_TRANSPORT_WS.value)


#: The headers of a JSON POST when the caller adds none (read-only, shared by every request;
#: a `CIMultiDictProxy`, which aiohttp takes without copying it into one first).
_JSON_POST_HEADERS: Final[Mapping[str, str]] = CIMultiDictProxy(
    CIMultiDict({"Accept": ACCEPT, "Content-Type": f"{MediaType.JSON}; charset=utf-8"})
)


#: What `_send` hands a reply to: the URL, the status, the body and the headers.
_Read = TypeVar("_Read")
_Reader: TypeAlias = Callable[[str, int, bytes, Mapping[str, str]], _Read]


@final
class _SessionContext:
    """qlient's ``async with backend.session``: a borrowed session untouched, else a temporary one.

    The temporary session is this context's own and closes on exit; a borrowed one is never
    closed, since its owner may still be using it.
    """

    __slots__ = ("_borrowed", "_temporary", "_timeout")

    def __init__(
        self, borrowed: aiohttp.ClientSession | None, timeout: aiohttp.ClientTimeout
    ) -> None:
        self._borrowed = borrowed
        self._timeout = timeout
        self._temporary: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> aiohttp.ClientSession:
        if self._borrowed is not None:
            return self._borrowed
        self._temporary = aiohttp.ClientSession(timeout=self._timeout)
        return self._temporary

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        temporary, self._temporary = self._temporary, None
        if temporary is not None:
            await temporary.close()


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
        json_serialize: Callable[[object], str] | None = None,
        persisted_queries: bool = False,
        use_get_for_hashed_queries: bool = False,
        document_ids: Literal["sha256"] | Mapping[str, str] | None = None,
        subscription_transport: Literal["websocket", "sse"] = "websocket",
        sse_single_connection: bool = False,
        use_sse_for_queries: bool = False,
    ) -> None:
        self.endpoint = endpoint
        #: `endpoint` and what aiohttp is given for it: parsed once, not on every request.
        self._target = _parsed(endpoint)
        #: APQ state for this server (None when off): support and the hashes it knows.
        self.persisted_queries = PersistedQueries() if persisted_queries else None
        if persisted_queries and document_ids is not None:
            raise ValueError(
                "persisted_queries and document_ids are two ways of naming documents: choose one"
            )
        #: Queries and mutations over HTTP name their document by `documentId` (the
        #: persisted-documents appendix) when this gives their text an id; None: texts only.
        self.document_ids = None if document_ids is None else DocumentIds(document_ids)
        self.use_get_for_hashed_queries = use_get_for_hashed_queries
        self.ws_endpoint = ws_endpoint or self.adapt_to_websocket_endpoint(endpoint)
        self.subscription_protocols = tuple(subscription_protocols or DEFAULT_SUBPROTOCOLS)
        self.headers = headers
        self.use_get_for_queries = use_get_for_queries
        self.use_websocket_for_queries = use_websocket_for_queries
        self.connection_params = connection_params
        #: The transport's options: a `WebSocketOptions` as given (passed on typed), or a
        #: mapping of its field names (or of a custom transport's own options).
        self.websocket_options: WebSocketOptions | Mapping[str, object] = (
            websocket_options
            if isinstance(websocket_options, WebSocketOptions)
            else dict(websocket_options or {})
        )
        if isinstance(timeout, int | float):
            timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeout = timeout
        self._session = session
        self._owns_session = session is None
        self._websocket_factory = websocket_factory
        self._transport: SubscriptionTransport | None = None
        #: Sockets of subscriptions that asked for their own `connection_init` or id.
        self._dedicated: set[SubscriptionTransport] = set()
        #: Request bodies as bytes: `json_serialize`'s text, or else compact JSON (orjson's
        #: speed where it writes the same JSON as the standard library).
        self._encode: Callable[[object], bytes] = (
            encode_json if json_serialize is None else _encoded_by(json_serialize)
        )
        if subscription_transport not in ("websocket", "sse"):
            raise ValueError("subscription_transport must be 'websocket' or 'sse'")
        #: Where subscriptions run: the shared WebSocket, or GraphQL over SSE (graphql-sse).
        self.subscription_transport = subscription_transport
        #: graphql-sse's single connection mode (one reserved stream) instead of one per operation.
        self.sse_single_connection = sse_single_connection
        #: Queries and mutations over SSE too, in the same mode as subscriptions.
        self.use_sse_for_queries = use_sse_for_queries
        self._sse: SubscriptionTransport | None = None

    # -- the seed API ---------------------------------------------------------------------

    @staticmethod
    def adapt_to_websocket_endpoint(endpoint: str) -> str:
        """The WebSocket URL for an HTTP endpoint: http→ws, https→wss; any other URL unchanged."""
        parts = urlsplit(endpoint)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower())
        if scheme is None:
            return endpoint
        return urlunsplit(parts._replace(scheme=scheme))

    @classmethod
    def generate_subscription_id(cls) -> str:
        """A new operation id, unique across backends and processes (random, as qlient's)."""
        return f"clew:{cls.__name__}:{uuid.uuid4().hex}"

    @staticmethod
    def make_payload(request: Request) -> JSONObject:
        """The operation's JSON payload, with only the parameters that are present.

        Every transport sends what this returns: the HTTP body (and GET parameters, multipart
        `operations`) and the WebSocket `subscribe`/`start` payload, so an override applies to all.
        """
        payload: JSONObject = {"query": request.query}
        if request.operation_name is not None:
            payload["operationName"] = request.operation_name
        if request.variables is not None:
            payload["variables"] = request.variables
        if request.extensions is not None:
            payload["extensions"] = request.extensions
        return payload

    def _wire(self, request: Request) -> tuple[JSONObject, WireRequest]:
        """`make_payload`'s payload, and the spec's four parameters read back from it."""
        payload = self.make_payload(request)
        try:
            return payload, WireRequest.from_mapping(payload)
        except RequestError as exc:
            raise TypeError(
                f"{type(self).__name__}.make_payload returned an invalid payload: {exc.message}"
            ) from None

    async def execute_query(self, request: Request) -> GraphQLResponse:
        """Run a query: POST (or GET with `use_get_for_queries`), or over the WebSocket if asked.

        Either way a query the server refuses (it does not parse or validate) comes back as a
        response with `errors` and no data; over the WebSocket that is the `error` message.
        """
        payload, wire = self._wire(request)
        if self.use_sse_for_queries:
            return GraphQLResponse(request, await self._single_over(self.sse(), wire))
        if self.use_websocket_for_queries:
            return GraphQLResponse(request, await self._single_over_websocket(wire))
        return GraphQLResponse(request, await self._http(payload, wire, mutation=False))

    async def execute_mutation(self, request: Request) -> GraphQLResponse:
        """Run a mutation: always POST (the spec forbids mutations over GET), or the WebSocket."""
        payload, wire = self._wire(request)
        if self.use_sse_for_queries:
            return GraphQLResponse(request, await self._single_over(self.sse(), wire))
        if self.use_websocket_for_queries:
            return GraphQLResponse(request, await self._single_over_websocket(wire))
        return GraphQLResponse(request, await self._http(payload, wire, mutation=True))

    async def execute_batch(self, requests: Sequence[Request]) -> list[GraphQLResponse]:
        """POST `requests` as one JSON array (batching; the server must allow it).

        The reply must be an array of as many responses, in order (`InvalidResponseError`
        otherwise). Such an array is read whatever the status: Apollo Server answers a batch
        holding one invalid operation with 400 for the whole array. A server refusing the whole
        batch (no array) raises `HTTPStatusError`.
        """
        if not requests:
            return []
        headers = {
            "Accept": ACCEPT,
            "Content-Type": f"{MediaType.JSON}; charset=utf-8",
            **trace_headers(),
        }
        headers.update(await resolve_headers(self.headers))
        body = self._encode([self._wire(request)[0] for request in requests])

        def read(
            url: str, status: int, raw: bytes, reply_headers: Mapping[str, str]
        ) -> list[ResponseBody]:
            try:
                return parse_batch_response(raw, len(requests))
            except ResponseFormatError as exc:
                text = _text(raw)
                if not 200 <= status < 300:
                    raise HTTPStatusError(url, status, text, dict(reply_headers)) from None
                raise InvalidResponseError(
                    url, status, text, dict(reply_headers), str(exc)
                ) from None

        bodies = await self._send("POST", headers, read, data=body)
        return [
            GraphQLResponse(request, each) for request, each in zip(requests, bodies, strict=True)
        ]

    def execute_subscription(
        self, request: Request, *, kind: OperationKind | None = None
    ) -> SubscriptionCall:
        """Start `request` over the WebSocket: ``await`` it for a response that iterates the events.

        The result can also be iterated directly. Call `aclose()` on either (or use
        `contextlib.aclosing`) to stop the operation at once. A `GraphQLSubscriptionRequest`
        with `options` or a `subscription_id` runs on a socket of its own, closed at its end;
        the response's `request` then carries the id used.
        """
        _, wire = self._wire(request)
        if kind is None:  # decided here, once, unless the caller (the client) already did
            kind = operation_kind(wire.query, wire.operation_name, default="subscription")
        # A query or mutation sent this way is never re-sent after a drop: it may have run.
        single_result = kind != "subscription"
        if self.subscription_transport == "sse":
            return SubscriptionCall(
                request, self.sse().subscribe(wire, single_result=single_result)
            )
        if isinstance(request, GraphQLSubscriptionRequest) and (
            request.options is not None or request.subscription_id is not None
        ):
            subscription_id = request.subscription_id or self.generate_subscription_id()
            request = replace(request, subscription_id=subscription_id)
            transport = self._new_transport(
                connection_params=self.connection_params
                if request.options is None
                else request.options,
                id_factory=lambda: subscription_id,
            )
            self._dedicated.add(transport)

            async def close_dedicated() -> None:
                self._dedicated.discard(transport)
                await transport.close()

            stream = transport.subscribe(wire, single_result=single_result)
            return SubscriptionCall(request, stream, close_dedicated)
        stream = self.websocket().subscribe(wire, single_result=single_result)
        return SubscriptionCall(request, stream)

    async def execute_incremental(self, request: Request) -> AsyncIterator[GraphQLResponse]:
        """Run a query or mutation that may `@defer` or `@stream`; yield the merged result after
        every payload (the last one is final).

        Over HTTP it POSTs accepting `multipart/mixed` (both incremental formats); with
        `subscription_transport="sse"` the payloads come as the stream's `next` events, and with
        `use_websocket_for_queries=True` as the operation's `next`/`data` messages.
        """
        payload, wire = self._wire(request)
        if self.subscription_transport != "sse" and self.use_websocket_for_queries:
            transport = self.websocket()
            if not isinstance(transport, WebSocketManager):
                raise TypeError("execute_incremental over a WebSocket needs WebSocketManager")
            try:
                async with transport.incremental(wire) as results:
                    async for merged in results:
                        yield GraphQLResponse(request, merged)
            except SubscriptionError as exc:  # a request error: as over HTTP, errors, no data
                errors: list[FormattedError] = list(exc.errors) or [
                    {"message": "The server ended the operation with an error"}
                ]
                yield GraphQLResponse(
                    request, ResponseBody(data=None, errors=errors, data_present=False)
                )
            return
        if self.subscription_transport == "sse":
            payloads = cast("SSETransport", self.sse()).payloads(wire)
            merger = IncrementalMerger()
            try:
                async for each in payloads:
                    yield GraphQLResponse(request, ResponseBody.from_mapping(merger.apply(each)))
            finally:
                await cast("AsyncGenerator[JSONObject, None]", payloads).aclose()
            return
        headers = {"Accept": INCREMENTAL_ACCEPT, "Content-Type": f"{MediaType.JSON}; charset=utf-8"}
        headers.update(await resolve_headers(self.headers))
        body = self._encode(payload)
        url = self.endpoint
        try:
            async with self.client_session.post(
                url, data=body, headers=headers, timeout=_INCREMENTAL_TIMEOUT
            ) as response:
                async for merged in read_incremental(response, _read_whole):
                    yield GraphQLResponse(request, merged)
        except TimeoutError as exc:
            raise TransportTimeoutError(url, type(exc).__name__) from exc
        except aiohttp.ClientConnectionError as exc:
            raise ConnectionFailedError(url, str(exc) or type(exc).__name__) from exc

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def session(self) -> _SessionContext:
        """qlient's session context: ``async with backend.session as session:``.

        It yields the borrowed session untouched, or else a temporary session closed on exit.
        The session the backend itself sends through is `client_session`.
        """
        return _SessionContext(
            None if self._owns_session else self._session, self._timeout or DEFAULT_TIMEOUT
        )

    @property
    def client_session(self) -> aiohttp.ClientSession:
        """The session every request goes through; created on first use if none was given."""
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession(timeout=self._timeout or DEFAULT_TIMEOUT)
        return self._session

    def websocket(self) -> SubscriptionTransport:
        """The shared WebSocket transport, created (not yet connected) on first use."""
        if self._transport is None:
            self._transport = self._new_transport(
                connection_params=self.connection_params, id_factory=self.generate_subscription_id
            )
        return self._transport

    def sse(self) -> SubscriptionTransport:
        """The GraphQL-over-SSE transport, created (not yet connected) on first use."""
        if self._sse is None:
            self._sse = SSETransport(
                lambda: self.client_session,
                self.endpoint,
                headers=self.headers,
                id_factory=self.generate_subscription_id,
                single_connection=self.sse_single_connection,
                encode=self._encode,
            )
        return self._sse

    def _new_transport(
        self, *, connection_params: ConnectionParams | None, id_factory: Callable[[], str]
    ) -> SubscriptionTransport:
        factory = self._websocket_factory or WebSocketManager
        settings = WebSocketSettings(
            url=self.ws_endpoint,
            subprotocols=self.subscription_protocols,
            headers=self.headers,
            connection_params=with_trace_context(connection_params),
            id_factory=id_factory,
            options=self.websocket_options,
        )
        return factory(self.client_session, settings)

    async def close(self) -> None:
        """Close the WebSocket transports and the session if the backend created it."""
        transport, self._transport = self._transport, None
        dedicated, self._dedicated = self._dedicated, set()
        sse, self._sse = self._sse, None
        try:
            for each in (transport, *dedicated, sse):
                if each is not None:
                    await each.close()
        finally:
            session = self._session
            if self._owns_session and session is not None:
                self._session = None
                await session.close()

    # -- HTTP -------------------------------------------------------------------------------

    async def _single_over_websocket(self, request: WireRequest) -> ResponseBody:
        return await self._single_over(self.websocket(), request)

    async def _single_over(
        self, transport: SubscriptionTransport, request: WireRequest
    ) -> ResponseBody:
        # The caller knows it is a query or mutation: the transport need not parse the document
        # to learn that it must never re-send it after a drop.
        stream = transport.subscribe(request, single_result=True)
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
            return ResponseBody(data=None, errors=errors, data_present=False)
        raise TransportError("The server completed the operation without a result")

    def _http(
        self, payload: JSONObject, wire: WireRequest, *, mutation: bool
    ) -> Awaitable[ResponseBody]:
        # Returns the coroutine that sends: the common case adds no coroutine of its own.
        apq = self.persisted_queries
        if apq is None:
            ids = self.document_ids
            if ids is not None:
                named = ids.named(wire)
                if named is not None:
                    payload, wire = _payload_for(payload, named), named
            if self.use_get_for_queries and not mutation and not contains_files(wire.variables):
                return self._get(wire)
            return self._post(payload, wire)
        return self._persisted(apq, payload, wire, mutation=mutation)

    async def _persisted(
        self, apq: PersistedQueries, payload: JSONObject, wire: WireRequest, *, mutation: bool
    ) -> ResponseBody:
        """Automatic persisted queries: the hash first, the document when the server asks."""
        files = contains_files(wire.variables)
        get = self.use_get_for_queries and not mutation and not files
        first = None if files else apq.first_request(wire)
        if first is None:
            return await (self._get(wire) if get else self._post(payload, wire))
        hashed_get = (get or self.use_get_for_hashed_queries) and not mutation
        response = await self._hashed(_payload_for(payload, first), first, get=hashed_get)
        retry = apq.retry_request(wire, response)
        if retry is None:
            return response
        # The one retry goes out the normal way (POST unless GET was asked for queries).
        retry_payload = _payload_for(payload, retry)
        response = await (self._get(retry) if get else self._post(retry_payload, retry))
        apq.registered(retry, response)
        return response

    async def _hashed(self, payload: JSONObject, wire: WireRequest, *, get: bool) -> ResponseBody:
        """Send a hash-only request; Apollo's errors count in any status (old servers: 400)."""
        try:
            return await (self._get(wire, hashed=True) if get else self._post(payload, wire))
        except HTTPStatusError as exc:
            try:
                response = ResponseBody.from_json(exc.body)
            except ResponseFormatError:
                raise exc from None
            if PersistedQueryError.in_result(response.to_result()) is None:
                raise
            return response

    async def _get(self, request: WireRequest, *, hashed: bool = False) -> ResponseBody:
        headers = {"Accept": ACCEPT, **trace_headers()}
        if hashed:
            # Apollo Server's CSRF check lets a GET through only with a non-simple header.
            headers["Apollo-Require-Preflight"] = "true"
        headers.update(await resolve_headers(self.headers))
        return await self._send("GET", headers, _read_response, params=request.to_query_params())

    def _post(self, payload: JSONObject, request: WireRequest) -> Awaitable[ResponseBody]:
        # Returns the coroutine that sends: the common case adds no coroutine of its own.
        trace = trace_headers()
        if contains_files(request.variables):
            return self._post_files(request, trace)
        body = self._encode(payload)
        if self.headers is None and not trace:  # the common case: no copy, no await
            return self._send("POST", _JSON_POST_HEADERS, _read_response, data=body)
        return self._post_with_headers(body, trace)

    async def _post_with_headers(self, body: bytes, trace: Mapping[str, str]) -> ResponseBody:
        headers = {**_JSON_POST_HEADERS, **trace, **await resolve_headers(self.headers)}
        return await self._send("POST", headers, _read_response, data=body)

    async def _post_files(self, request: WireRequest, trace: Mapping[str, str]) -> ResponseBody:
        headers = {"Accept": ACCEPT, **trace, PREFLIGHT_HEADER: "1"}
        headers.update(await resolve_headers(self.headers))
        with ExitStack() as files:
            form = multipart_form(request, files)
            return await self._send("POST", headers, _read_response, data=form)

    async def _send(
        self,
        method: str,
        headers: Mapping[str, str],
        read: _Reader[_Read],
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | aiohttp.FormData | None = None,
    ) -> _Read:
        """Send one request and hand what came back to `read` (aiohttp's errors become clew's)."""
        url, timeout, request = self.endpoint, self._timeout, self.client_session.request
        target = self._target
        if target[0] is not url:  # `endpoint` was reassigned since the last request
            target = self._target = _parsed(url)
        # No timeout given: the session's own applies (DEFAULT_TIMEOUT for one made here, a
        # borrowed one's otherwise); passing None would turn every timeout off instead.
        sending = (
            request(method, target[1], headers=headers, params=params, data=data)
            if timeout is None
            else request(
                method, target[1], headers=headers, params=params, data=data, timeout=timeout
            )
        )
        try:
            async with sending as response:
                body = await response.read()
                status, reply_headers = response.status, response.headers
        except TimeoutError as exc:  # aiohttp's timeouts subclass the builtin
            raise TransportTimeoutError(url, type(exc).__name__) from exc
        except aiohttp.ClientConnectionError as exc:
            raise ConnectionFailedError(url, str(exc) or type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"Request to {url} failed: {exc}") from exc
        return read(url, status, body, reply_headers)


def _parsed(endpoint: str) -> tuple[str, URL | str]:
    """`endpoint` beside its parsed URL, or itself when it does not parse (aiohttp says why)."""
    try:
        return endpoint, URL(endpoint)
    except ValueError:
        return endpoint, endpoint


def _encoded_by(json_serialize: Callable[[object], str]) -> Callable[[object], bytes]:
    """A body encoder from a `json_serialize` that returns text."""

    def encode(value: object) -> bytes:
        return json_serialize(value).encode("utf-8")

    return encode


def _payload_for(payload: JSONObject, request: WireRequest) -> JSONObject:
    """`make_payload`'s payload with `request`'s query (absent for a hash or an id), its
    `documentId` and its extensions."""
    adapted = {key: value for key, value in payload.items() if key not in {"query", "extensions"}}
    if request.query is not None:
        adapted["query"] = request.query
    if request.document_id is not None:
        adapted["documentId"] = request.document_id
    if request.extensions is not None:
        adapted["extensions"] = request.extensions
    return adapted


#: Statuses a legacy `application/json` server uses for GraphQL request errors.
_REQUEST_ERROR_STATUSES = frozenset({400, 422})


def _read_response(url: str, status: int, body: bytes, headers: Mapping[str, str]) -> ResponseBody:
    """Decide whether an answer is a GraphQL response (spec, "Processing the response").

    `application/graphql-response+json` is a GraphQL response at any status; other 2xx bodies
    are read as JSON (legacy servers). A non-2xx `application/json` body is a GraphQL response
    only when it is one carrying request errors and no data — what Ariadne, Strawberry and
    older drafts send with 400 (or 422) for a document that fails to parse or validate;
    anything else (a proxy's 429 or 502, say) is an `HTTPStatusError`.
    """
    if not (200 <= status < 300 or is_graphql_response(status, headers.get("Content-Type"))):
        if status in _REQUEST_ERROR_STATUSES and _is_json(headers.get("Content-Type")):
            try:
                response = ResponseBody.from_json(body)
            except ResponseFormatError:
                pass  # not a GraphQL response: the status error below
            else:
                if response.errors and not response.data_present:
                    return response
        raise HTTPStatusError(url, status, _text(body), dict(headers))
    try:
        return ResponseBody.from_json(body)
    except ResponseFormatError as exc:
        raise InvalidResponseError(url, status, _text(body), dict(headers), str(exc)) from None


def _text(body: bytes) -> str:
    """The body as text for an error message (decoded only when there is an error to report)."""
    return body.decode("utf-8", errors="replace")


async def _read_whole(response: aiohttp.ClientResponse) -> ResponseBody:
    body = await response.read()
    return _read_response(str(response.url), response.status, body, dict(response.headers))


#: An incremental response lasts as long as its slowest deferred field.
_INCREMENTAL_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names plain `application/json`."""
    if content_type is None:
        return False
    try:
        media_type, _ = parse_media_type(content_type)
    except ValueError:
        return False
    return media_type == MediaType.JSON
