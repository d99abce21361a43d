"""Every way a client call can fail, split by who is at fault: transport, server or caller."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from clew.protocol import FormattedError, JSONObject

__all__ = [
    "AckTimeoutError",
    "ConnectionFailedError",
    "GraphQLResponseError",
    "HTTPStatusError",
    "InvalidResponseError",
    "MessageTooBigError",
    "SchemaValidationError",
    "SubscriptionError",
    "TransportError",
    "TransportTimeoutError",
    "WebSocketClosedError",
    "WebSocketProtocolError",
]

#: How much of a response body an exception message quotes; the full body stays on `.body`.
_BODY_PREVIEW = 200


def _preview(body: str) -> str:
    if len(body) <= _BODY_PREVIEW:
        return body
    return body[:_BODY_PREVIEW] + "…"


class TransportError(Exception):
    """The request produced no GraphQL response: the network, the server or the framing failed."""


class ConnectionFailedError(TransportError):
    """The server could not be reached (connection refused, DNS failure, TLS failure, reset)."""

    url: str

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Could not connect to {url}: {reason}")
        self.url = url


class TransportTimeoutError(TransportError, builtins.TimeoutError):
    """No complete answer arrived in time; also catchable as the builtin `TimeoutError`."""

    url: str

    def __init__(self, url: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"Request to {url} timed out{suffix}")
        self.url = url


class HTTPStatusError(TransportError):
    """A non-2xx answer that carries no GraphQL response (a proxy error page, a 404, a 502)."""

    url: str
    status: int
    body: str
    headers: Mapping[str, str]

    def __init__(self, url: str, status: int, body: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status} from {url}: {_preview(body)!r}")
        self.url = url
        self.status = status
        self.body = body
        self.headers = dict(headers)


class InvalidResponseError(TransportError):
    """An answer whose body is not a well-formed GraphQL response (not JSON, or a wrong shape)."""

    url: str
    status: int
    body: str
    headers: Mapping[str, str]

    def __init__(
        self, url: str, status: int, body: str, headers: Mapping[str, str], reason: str
    ) -> None:
        super().__init__(f"Invalid GraphQL response from {url} (HTTP {status}): {reason}")
        self.url = url
        self.status = status
        self.body = body
        self.headers = dict(headers)
        self.reason = reason


class GraphQLResponseError(Exception):
    """The server answered with GraphQL errors and the caller asked for them to raise.

    `data` holds whatever partial data came with the errors (or None).
    """

    errors: tuple[FormattedError, ...]
    data: JSONObject | None
    extensions: JSONObject | None

    def __init__(
        self,
        errors: Sequence[FormattedError],
        data: JSONObject | None = None,
        extensions: JSONObject | None = None,
    ) -> None:
        messages = "; ".join(error["message"] for error in errors) or "no error message"
        super().__init__(f"GraphQL errors: {messages}")
        self.errors = tuple(errors)
        self.data = data
        self.extensions = extensions


class SchemaValidationError(ValueError):
    """An operation or its arguments do not fit the schema; found locally, nothing was sent."""

    problems: tuple[str, ...]

    def __init__(self, problems: str | Sequence[str]) -> None:
        items = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(items))
        self.problems = items


class WebSocketClosedError(TransportError):
    """The WebSocket closed and will not be reopened (a fatal close code, or retries exhausted)."""

    close_code: int | None
    reason: str

    def __init__(self, close_code: int | None, reason: str = "") -> None:
        code = "without a close code" if close_code is None else f"with code {close_code}"
        suffix = f": {reason}" if reason else ""
        super().__init__(f"WebSocket closed {code}{suffix}")
        self.close_code = close_code
        self.reason = reason


class WebSocketProtocolError(WebSocketClosedError):
    """The server broke the GraphQL-over-WebSocket protocol (either subprotocol): not retried."""


class MessageTooBigError(WebSocketClosedError):
    """The server sent a message over `WebSocketOptions.max_message_size`: closed 1009.

    Not retried: the server would send the same message again.
    """


class AckTimeoutError(WebSocketClosedError, builtins.TimeoutError):
    """The server never acknowledged `connection_init` (4504), however often the client tried."""


class SubscriptionError(Exception):
    """The server ended one operation with an `error` message (for example a validation failure)."""

    errors: tuple[FormattedError, ...]

    def __init__(self, errors: Sequence[FormattedError]) -> None:
        messages = "; ".join(error["message"] for error in errors) or "no error message"
        super().__init__(f"Subscription failed: {messages}")
        self.errors = tuple(errors)
