"""Raw ASGI input and output for the HTTP handlers: the body read with its size checked, the CSRF
headers, and a whole response written in two `send` calls.

Both ways through the handler (the raw fast path and the Starlette-shaped override seams), the
SSE handler and incremental delivery read and answer through these, so each limit and rule is
enforced in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import orjson
from starlette.requests import ClientDisconnect

from clew.protocol.http import (
    GraphQLRequest,
    MediaType,
    RequestError,
    check_post_content_type,
    negotiate_response_media_type,
)

from ._types import Receive, Send

__all__ = [
    "CONTENT_TYPES",
    "JSON_CONTENT_TYPE",
    "PREFLIGHT_HEADERS",
    "MediaTypes",
    "encode_headers",
    "preflighted",
    "read_body",
    "request_data",
    "respond",
    "respond_error",
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
JSON_CONTENT_TYPE: Final = CONTENT_TYPES[MediaType.JSON]

#: Distinct Accept / Content-Type values remembered per handler; clients send few of them.
_NEGOTIATION_CACHE_SIZE: Final = 64


class MediaTypes:
    """A handler's media type decisions, cached: a handful of header values hit the hot path."""

    __slots__ = ("_accept_cache", "_content_type_cache", "_post_types")

    def __init__(self, *, multipart: bool) -> None:
        self._post_types = (
            (MediaType.JSON, MediaType.MULTIPART_FORM_DATA) if multipart else (MediaType.JSON,)
        )
        self._accept_cache: dict[str | None, MediaType | None] = {}
        self._content_type_cache: dict[str, MediaType] = {}

    def response(self, accept: str | None) -> MediaType:
        """The response's media type for an `Accept` header; a 406 when none is acceptable."""
        try:
            media_type = self._accept_cache[accept]
        except KeyError:
            media_type = negotiate_response_media_type(accept)
            if len(self._accept_cache) < _NEGOTIATION_CACHE_SIZE:
                self._accept_cache[accept] = media_type
        if media_type is None:
            raise RequestError(
                406,
                "The Accept header allows no media type this endpoint produces; accept "
                "application/graphql-response+json or application/json",
            )
        return media_type

    def request(self, header: str | None) -> MediaType:
        """The POST body's media type from its `Content-Type`; a 415 for an unsupported one."""
        if header is not None:
            known = self._content_type_cache.get(header)
            if known is not None:
                return known
        media_type = check_post_content_type(header, self._post_types)
        # A multipart type carries a per-request boundary, so only JSON is worth remembering.
        if (
            header is not None
            and media_type is MediaType.JSON
            and len(self._content_type_cache) < _NEGOTIATION_CACHE_SIZE
        ):
            self._content_type_cache[header] = media_type
        return media_type


def preflighted(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries a non-empty CSRF preflight header."""
    return any(name in PREFLIGHT_HEADERS and value.strip() for name, value in headers)


def request_data(request: GraphQLRequest) -> dict[str, object]:
    """The request's parameters as a `context_value` callable receives them."""
    return dict(request.to_json_body())


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


def encode_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """ASGI header pairs from a mapping of header names to values (names lower-cased)."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes | None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Write a whole response: its start (with the body's length) and its body."""
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_error(send: Send, error: RequestError) -> None:
    """Answer a request refused before execution: its status, headers and JSON errors."""
    body = orjson.dumps(error.result)
    await respond(send, error.status_code, body, JSON_CONTENT_TYPE, encode_headers(error.headers))
