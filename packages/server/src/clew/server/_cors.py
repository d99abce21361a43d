"""Cross-origin access for browser apps on other origins: `GraphQL(..., cors=CORS(...))`.

Preflights and response headers are Starlette's `CORSMiddleware`, wrapped around the app's HTTP
side; what this adds is the GraphQL-specific part: the request headers a GraphQL client sends
(`Content-Type: application/json` and the multipart CSRF headers, both of which make a browser
preflight) are always allowed, and the same origin list guards WebSocket handshakes, which
browsers send cross-origin without any preflight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Scope

from clew.protocol.sse import TOKEN_HEADER

__all__ = ["CORS", "GRAPHQL_REQUEST_HEADERS"]

#: Request headers every GraphQL endpoint needs to accept from another origin: the JSON content
#: type, the multipart CSRF headers (`GraphQLHTTPHandler`'s `PREFLIGHT_HEADERS`), credentials,
#: the trace context clew's client propagates, and graphql-sse's single connection mode token.
GRAPHQL_REQUEST_HEADERS: Final = (
    "accept",
    "content-type",
    "authorization",
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "traceparent",
    "tracestate",
    TOKEN_HEADER.lower(),
)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CORS:
    """Which other origins may call the endpoint from a browser, and with what."""

    #: Allowed origins, exactly as browsers send them (``"https://app.example"``); ``"*"`` for any.
    allow_origins: Sequence[str] = ()
    #: A regular expression an origin may match instead.
    allow_origin_regex: str | None = None
    #: Whether cookies and HTTP authentication may be sent (never with ``"*"``).
    allow_credentials: bool = False
    #: Request headers to allow beyond `GRAPHQL_REQUEST_HEADERS`.
    allow_headers: Sequence[str] = ()
    #: Response headers the page's script may read.
    expose_headers: Sequence[str] = ()
    #: How long (seconds) a browser may cache a preflight answer.
    max_age: int = 600

    def __post_init__(self) -> None:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError("CORS: allow_credentials needs explicit origins, not '*'")

    def wrap(self, app: ASGIApp, methods: Sequence[str]) -> CORSMiddleware:
        """`app` (the HTTP side) behind Starlette's CORS middleware, configured from this."""
        headers = dict.fromkeys([*GRAPHQL_REQUEST_HEADERS, *map(str.lower, self.allow_headers)])
        return CORSMiddleware(
            app,
            allow_origins=self.allow_origins,
            allow_origin_regex=self.allow_origin_regex,
            allow_methods=methods,
            allow_headers=list(headers),
            allow_credentials=self.allow_credentials,
            expose_headers=self.expose_headers,
            max_age=self.max_age,
        )


def websocket_origin_allowed(scope: Scope, middleware: CORSMiddleware) -> bool:
    """Whether a WebSocket handshake may proceed: no Origin (not a browser), the endpoint's own
    origin, or one the CORS configuration allows. Browsers never preflight a WebSocket, so
    without this check any site could open one with the user's cookies."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host")
    if host is not None and origin.partition("://")[2] == host:
        return True
    return middleware.is_allowed_origin(origin)
