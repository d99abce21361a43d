"""How an HTTP exchange fails outside GraphQL: a refused request, an unreadable response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

from clew.protocol._types import FormattedExecutionResult

__all__ = ["RequestError", "ResponseFormatError"]


@final
class RequestError(Exception):
    """An HTTP-level rejection of a request: the server answers `status_code` with `message`.

    Raised for requests that are not well-formed GraphQL-over-HTTP requests (400), use a method
    or media type the endpoint does not serve (405, 415), accept nothing we can produce (406) or
    carry too much (413). `headers` are the ones the reply must carry, such as `Allow` on a 405.
    """

    status_code: int
    message: str
    headers: Mapping[str, str]

    def __init__(
        self, status_code: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"RequestError({self.status_code}, {self.message!r})"

    @property
    def result(self) -> FormattedExecutionResult:
        """A body for the reply, ``{"errors": [{"message": ...}]}``, for servers that send one.

        It must go out as `application/json`: a server that could not form a GraphQL response
        must not label the reply `application/graphql-response+json`.
        """
        return {"errors": [{"message": self.message}]}


@final
class ResponseFormatError(ValueError):
    """A response body that is not a well-formed GraphQL response; the message says why."""
