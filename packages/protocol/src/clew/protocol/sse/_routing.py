"""Which graphql-sse request an HTTP request is: a table keyed by method, token and Accept.

One endpoint serves GraphQL over HTTP, both graphql-sse modes and the WebSocket upgrade, so the
server must tell them apart before reading a body. The request's method, whether it carries a
stream token, and whether it asks for an event stream decide it (graphql-sse `src/handler.ts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from clew.protocol.http._media import MediaType, _parse_accept, _preference

__all__ = [
    "ALLOWED_METHODS",
    "OPERATION_ID_KEY",
    "TOKEN_HEADER",
    "TOKEN_QUERY_PARAMETER",
    "RequestKind",
    "accepts_token_reply",
    "classify_request",
    "wants_event_stream",
]

#: The request header carrying a single connection mode's reservation token.
TOKEN_HEADER: Final = "x-graphql-event-stream-token"
#: The query parameter that carries the token where headers cannot (`EventSource`).
TOKEN_QUERY_PARAMETER: Final = "token"
#: The key of an operation's id: in `extensions` when executing, in the URL when stopping.
OPERATION_ID_KEY: Final = "operationId"


class RequestKind(Enum):
    """What a request asks of a graphql-sse endpoint."""

    #: Not a graphql-sse request: plain GraphQL over HTTP handles it.
    HTTP = "http"
    #: Distinct connections mode: run one operation and stream its results in this response.
    DISTINCT_STREAM = "distinct_stream"
    #: Single connection mode, PUT: reserve a stream and receive its token.
    RESERVE = "reserve"
    #: Single connection mode: open the reserved stream (any method, with the token).
    OPEN_STREAM = "open_stream"
    #: Single connection mode: run an operation whose results go to the reserved stream.
    EXECUTE = "execute"
    #: Single connection mode, DELETE: stop an operation.
    STOP = "stop"
    #: A method single connection mode does not serve: 405 with `ALLOWED_METHODS`.
    METHOD_NOT_ALLOWED = "method_not_allowed"


#: ``Allow`` for a 405 in single connection mode.
ALLOWED_METHODS: Final = "GET, POST, PUT, DELETE"

#: (method, carries a token, asks for an event stream) → kind. Methods not listed count as
#: ``"*"``. Without a token only an event-stream GET/POST and a PUT are graphql-sse's; a DELETE
#: without one is answered 404 by the reservation lookup, as the reference handler does.
_ROUTES: Final[Mapping[tuple[str, bool, bool], RequestKind]] = {
    ("GET", False, False): RequestKind.HTTP,
    ("POST", False, False): RequestKind.HTTP,
    ("GET", False, True): RequestKind.DISTINCT_STREAM,
    ("POST", False, True): RequestKind.DISTINCT_STREAM,
    ("PUT", False, False): RequestKind.RESERVE,
    ("PUT", False, True): RequestKind.RESERVE,
    ("PUT", True, False): RequestKind.RESERVE,
    ("PUT", True, True): RequestKind.RESERVE,
    ("DELETE", False, False): RequestKind.STOP,
    ("DELETE", False, True): RequestKind.STOP,
    ("DELETE", True, False): RequestKind.STOP,
    ("DELETE", True, True): RequestKind.STOP,
    ("GET", True, True): RequestKind.OPEN_STREAM,
    ("POST", True, True): RequestKind.OPEN_STREAM,
    ("*", True, True): RequestKind.OPEN_STREAM,
    ("GET", True, False): RequestKind.EXECUTE,
    ("POST", True, False): RequestKind.EXECUTE,
    ("*", True, False): RequestKind.METHOD_NOT_ALLOWED,
    ("*", False, True): RequestKind.HTTP,
    ("*", False, False): RequestKind.HTTP,
}


def classify_request(method: str, *, token: str | None, accept: str | None) -> RequestKind:
    """The kind of request; `token` from the header or query parameter (None when absent)."""
    method = method.upper()
    if method not in {"GET", "POST", "PUT", "DELETE"}:
        method = "*"
    return _ROUTES[method, bool(token), wants_event_stream(accept)]


def wants_event_stream(accept: str | None) -> bool:
    """Whether `Accept` names `text/event-stream` itself, at least as highly as any JSON type.

    Wildcards never select a stream: ``*/*`` is a plain HTTP client. The graphql-sse reference
    handler compares the whole header to ``text/event-stream``; this accepts lists too.
    """
    if not accept or "event-stream" not in accept:
        return False
    ranges = _parse_accept(accept)
    stream = _preference(ranges, MediaType.EVENT_STREAM.value)
    if stream is None or stream[1] != 3:
        return False
    for media_type in (MediaType.GRAPHQL_RESPONSE_JSON, MediaType.JSON):
        other = _preference(ranges, media_type.value)
        if other is not None and other[:2] > stream[:2]:
            return False
    return True


def accepts_token_reply(accept: str | None) -> bool:
    """Whether a reservation's answer, the token as `text/plain`, is acceptable (else 406).

    graphql-sse's handler allows only ``*/*`` and ``text/plain``; any range naming text/plain
    (``text/*`` too) with a non-zero q counts here, and no header accepts anything.
    """
    if not accept or not accept.strip():
        return True
    return _preference(_parse_accept(accept), "text/plain") is not None
