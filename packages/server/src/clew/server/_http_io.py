"""Raw ASGI input for the HTTP handler: the body read with its size checked, the CSRF headers.

Both ways through the handler (the raw fast path and the Starlette-shaped override seams) read
through these, so each limit and rule is enforced in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.requests import ClientDisconnect

from clew.protocol._types import JSONObject
from clew.protocol.http import GraphQLRequest, MediaType, RequestError

from ._types import Receive

__all__ = [
    "CONTENT_TYPES",
    "PREFLIGHT_HEADERS",
    "preflighted",
    "read_body",
    "request_data",
    "stream_body",
    "too_large",
]

#: Headers a browser cannot send cross-origin without a CORS preflight; one of them (non-empty)
#: proves a multipart request is not a forged "simple" request.
PREFLIGHT_HEADERS: Final = (
    b"graphql-require-preflight",
    b"apollo-require-preflight",
    b"x-apollo-operation-name",
)

#: The Content-Type of each media type a GraphQL response is sent as.
CONTENT_TYPES: Final = {
    MediaType.GRAPHQL_RESPONSE_JSON: b"application/graphql-response+json; charset=utf-8",
    MediaType.JSON: b"application/json; charset=utf-8",
}


def preflighted(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries a non-empty CSRF preflight header."""
    return any(name in PREFLIGHT_HEADERS and value.strip() for name, value in headers)


def request_data(request: GraphQLRequest) -> dict[str, object]:
    """The request's parameters as a `context_value` callable receives them."""
    data: JSONObject = {} if request.query is None else {"query": request.query}
    if request.operation_name is not None:
        data["operationName"] = request.operation_name
    if request.variables is not None:
        data["variables"] = request.variables
    if request.extensions is not None:
        data["extensions"] = request.extensions
    return dict(data)


def too_large(limit: int) -> RequestError:
    return RequestError(413, f"The request body exceeds the limit of {limit} bytes")


async def read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnect
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise too_large(limit)
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def stream_body(receive: Receive, limit: int):  # type: ignore[no-untyped-def]
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
