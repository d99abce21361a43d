"""The facade users hold: `execute`, `subscribe`, schema-driven proxies, and one owned backend.

```python
async with AIOHTTPClient("http://127.0.0.1:8000/graphql") as client:
    result = await client.query.books(count=5)
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Final, Literal, TypedDict, Unpack, cast, final

import aiohttp
from graphql import GraphQLSchema

from clew.protocol import JSONObject

from ._builder import BuiltOperation, OperationKind, operation_kind
from ._messages import GraphQLRequest, GraphQLResponse, ResponseStream, new_request
from ._proxy import OperationProxy, QueryField, SubscriptionField
from ._schema import SchemaCache, SchemaSource, validate_operation
from ._types import ConnectionParams, Headers, WebSocketManagerFactory
from ._ws_options import WebSocketOptions
from .backend import AIOHTTPBackend, Request
from .errors import GraphQLResponseError

__all__ = ["AIOHTTPClient", "BackendOptions"]

#: How many levels of nested objects an automatic selection follows below the root field.
DEFAULT_DEPTH: Final = 1


class BackendOptions(TypedDict, total=False):
    """Keyword options an `AIOHTTPClient` given a URL passes to the `AIOHTTPBackend` it creates."""

    ws_endpoint: str | None
    session: aiohttp.ClientSession | None
    subscription_protocols: Sequence[str] | None
    headers: Headers | None
    timeout: aiohttp.ClientTimeout | float | None
    use_get_for_queries: bool
    use_websocket_for_queries: bool
    connection_params: ConnectionParams | None
    websocket_options: WebSocketOptions | Mapping[str, object] | None
    websocket_factory: WebSocketManagerFactory | None
    json_serialize: Callable[[object], str] | None
    persisted_queries: bool
    use_get_for_hashed_queries: bool
    document_ids: Literal["sha256"] | Mapping[str, str] | None


def _check(response: GraphQLResponse) -> GraphQLResponse:
    if response.errors:
        raise GraphQLResponseError(response.errors, response.data, response.extensions)
    return response


@final
class _CheckedStream:
    """A stream that raises `GraphQLResponseError` for the first result carrying errors."""

    __slots__ = ("_stream",)

    def __init__(self, stream: ResponseStream) -> None:
        self._stream = stream

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        return self

    async def __anext__(self) -> GraphQLResponse:
        response = await self._stream.__anext__()
        if response.errors:
            await self._stream.aclose()
        return _check(response)

    async def aclose(self) -> None:
        await self._stream.aclose()


@final
class AIOHTTPClient:
    """A GraphQL client over aiohttp: HTTP for queries and mutations, one WebSocket for the rest.

    Give it a URL (and `BackendOptions`) or a ready `AIOHTTPBackend`. `schema` (SDL text, a
    `GraphQLSchema` or an introspection result) spares the introspection request the
    schema-driven proxies otherwise make once.
    """

    __slots__ = ("_backend", "_schema", "depth", "mutation", "query", "subscription")

    def __init__(
        self,
        endpoint_or_backend: str | AIOHTTPBackend,
        *,
        schema: SchemaSource | None = None,
        depth: int = DEFAULT_DEPTH,
        **options: Unpack[BackendOptions],
    ) -> None:
        if isinstance(endpoint_or_backend, AIOHTTPBackend):
            if options:
                raise TypeError(
                    f"Options {', '.join(sorted(options))} belong to the backend; "
                    "pass them to AIOHTTPBackend instead"
                )
            self._backend = endpoint_or_backend
        else:
            self._backend = AIOHTTPBackend(endpoint_or_backend, **options)
        self._schema = SchemaCache(self._backend.execute_query, schema)
        self.depth = depth
        #: ``client.query.<field>(**arguments)`` sends one query built from the schema.
        self.query: OperationProxy[QueryField] = OperationProxy(self, "query", QueryField)
        #: ``client.mutation.<field>(**arguments)`` sends one mutation built from the schema.
        self.mutation: OperationProxy[QueryField] = OperationProxy(self, "mutation", QueryField)
        #: ``client.subscription.<field>(**arguments)`` streams one subscription.
        self.subscription: OperationProxy[SubscriptionField] = OperationProxy(
            self, "subscription", SubscriptionField
        )

    def __repr__(self) -> str:
        return f"AIOHTTPClient({self._backend.endpoint!r})"

    @property
    def backend(self) -> AIOHTTPBackend:
        """The backend that sends every request."""
        return self._backend

    @property
    def schema(self) -> GraphQLSchema | None:
        """The schema if it is known already (given, or introspected earlier); never fetches."""
        return self._schema.cached

    async def get_schema(self) -> GraphQLSchema:
        """The schema, introspecting the server on first use and caching the result."""
        return await self._schema.get()

    def invalidate_schema(self) -> None:
        """Forget an introspected schema; the next proxy call or `validate` introspects again."""
        self._schema.invalidate()

    async def validate(self, query: str) -> None:
        """Check `query` against the schema locally; `SchemaValidationError` lists the problems."""
        validate_operation(await self._schema.get(), query)

    async def execute(
        self,
        query: str,
        variables: Mapping[str, object] | None = None,
        operation_name: str | None = None,
        *,
        extensions: JSONObject | None = None,
        raise_on_errors: bool = False,
    ) -> GraphQLResponse:
        """Send one query or mutation and return the response.

        GraphQL errors come back on `response.errors`; with `raise_on_errors` they raise
        `GraphQLResponseError` (carrying any partial data) instead. Variables may hold files
        (bytes, binary file objects, paths, `Upload`), which are sent as a multipart upload.
        """
        request = _request(query, variables, operation_name, extensions)
        response = await self._send(request, operation_kind(query, operation_name, default="query"))
        return _check(response) if raise_on_errors else response

    async def execute_built(
        self, built: BuiltOperation, *, raise_on_errors: bool = False
    ) -> GraphQLResponse:
        """Send a query or mutation a proxy built (``await client.query.books.build(...)``)."""
        request = _request(built.query, built.variables, built.operation_name, None)
        response = await self._send(request, built.kind)
        return _check(response) if raise_on_errors else response

    def _send(self, request: GraphQLRequest, kind: OperationKind) -> Awaitable[GraphQLResponse]:
        # The backend's own coroutine, awaited by the caller: no coroutine of ours in between.
        if kind == "mutation":
            return self._backend.execute_mutation(request)
        return self._backend.execute_query(request)

    async def batch(
        self, operations: Sequence[str | Request], *, raise_on_errors: bool = False
    ) -> list[GraphQLResponse]:
        """Send several queries or mutations in one HTTP request; one response each, in order.

        Each operation is a query text or a `GraphQLRequest` (for variables and an operation
        name). The server must allow batching; its errors stay per operation unless
        `raise_on_errors`, which raises `GraphQLResponseError` for the first one with errors.
        """
        requests = [
            _request(op, None, None, None) if isinstance(op, str) else op for op in operations
        ]
        responses = await self._backend.execute_batch(requests)
        if raise_on_errors:
            for response in responses:
                _check(response)
        return responses

    def execute_incremental(
        self,
        query: str,
        variables: Mapping[str, object] | None = None,
        operation_name: str | None = None,
        *,
        extensions: JSONObject | None = None,
    ) -> AsyncIterator[GraphQLResponse]:
        """Run a query or mutation using `@defer`/`@stream`: the result, merged so far, after
        every payload the server sends; the last one is the final result.

        Over HTTP the response is `multipart/mixed` (either incremental format); with
        ``subscription_transport="sse"`` each payload is one event. A server that defers
        nothing (or does not do incremental delivery) gives one result.
        """
        request = _request(query, variables, operation_name, extensions)
        return self._backend.execute_incremental(request)

    def subscribe(
        self,
        query: str,
        variables: Mapping[str, object] | None = None,
        operation_name: str | None = None,
        *,
        extensions: JSONObject | None = None,
        raise_on_errors: bool = False,
    ) -> ResponseStream:
        """Stream the results of a subscription over the client's shared WebSocket.

        Use ``async for``; `aclose()` (or `contextlib.aclosing`) stops the operation at once.
        """
        request = _request(query, variables, operation_name, extensions)
        kind = operation_kind(query, operation_name, default="subscription")
        stream = self._backend.execute_subscription(request, kind=kind)
        return _CheckedStream(stream) if raise_on_errors else stream

    def subscribe_built(
        self, built: BuiltOperation, *, raise_on_errors: bool = False
    ) -> ResponseStream:
        """Stream a subscription a proxy built (``await client.subscription.x.build(...)``)."""
        request = _request(built.query, built.variables, built.operation_name, None)
        stream = self._backend.execute_subscription(request, kind=built.kind)
        return _CheckedStream(stream) if raise_on_errors else stream

    async def close(self) -> None:
        """Close the WebSocket and the session the client created (a borrowed one stays open)."""
        await self._backend.close()

    async def __aenter__(self) -> AIOHTTPClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _request(
    query: str,
    variables: Mapping[str, object] | None,
    operation_name: str | None,
    extensions: JSONObject | None,
) -> GraphQLRequest:
    # Variables may hold files until the backend takes them out for a multipart body.
    return new_request(
        query,
        None if variables is None else cast(JSONObject, dict(variables)),
        operation_name,
        extensions,
    )
