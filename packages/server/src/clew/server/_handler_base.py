"""The top of Ariadne's handler hierarchy: what every handler offers, and what HTTP ones add.

`GraphQLHandler` (`handle`, `configure`, `get_context_for_request`) and
`GraphQLHttpHandlerBase` (`handle_request`, `execute_graphql_query`) are the abstract classes
Ariadne documents in `ariadne.asgi.handlers`; `GraphQLHTTPHandler` is the concrete one. A
subclass customises a handler by overriding these methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING

from clew.protocol._types import FormattedExecutionResult
from clew.protocol.http import FailureKind

from ._types import Receive, RequestData, Scope, Send

if TYPE_CHECKING:
    from graphql import DocumentNode
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import Response

    from ._execution import Engine

__all__ = ["GraphQLHandler", "GraphQLHandlerBase", "GraphQLHttpHandlerBase", "GraphQLResult"]


class GraphQLResult(tuple[bool, FormattedExecutionResult]):
    """Ariadne's `(success, result)` pair, also saying which phase stopped a failed request.

    It unpacks as ``success, result = outcome``; `failure` (None when `data` is present) picks
    the HTTP status under clew's status rules. A plain tuple works too: then a result without
    `data` counts as a validation failure.
    """

    failure: FailureKind | None
    #: A status decided before execution (a persisted-query refusal), with its headers.
    status_code: int | None
    headers: Mapping[str, str]

    def __new__(
        cls,
        success: bool,
        result: FormattedExecutionResult,
        failure: FailureKind | None = None,
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> GraphQLResult:
        outcome = super().__new__(cls, (success, result))
        outcome.failure = failure
        outcome.status_code = status_code
        outcome.headers = headers or {}
        return outcome


class GraphQLHandler(ABC):
    """A connection handler of a `GraphQL` app, which calls `configure` with its engine."""

    _engine: Engine | None = None

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""

    def configure(self, engine: Engine, *args: object) -> None:
        """Attach the app's engine (it carries the schema and the app's options)."""
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine `configure` attached."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}.configure() has not been called by an app")
        return self._engine

    async def get_context_for_request(self, request: HTTPConnection, data: RequestData) -> object:
        """The context value for one operation: the app's `context_value` (or its result).

        Without one it is ``{"request": request}`` (see `Engine.context_for`).
        """
        return await self.engine.context_for(request, data)


# The GraphQLHandler name of Ariadne 1.x.
GraphQLHandlerBase = GraphQLHandler


class GraphQLHttpHandlerBase(GraphQLHandler):
    """A handler for HTTP: a Starlette request in, a response out, with the execution between."""

    @abstractmethod
    async def handle_request(self, request: Request) -> Response:
        """Answer one HTTP request."""

    @abstractmethod
    async def execute_graphql_query(
        self,
        request: Request,
        data: RequestData,
        *,
        context_value: object = None,
        query_document: DocumentNode | None = None,
    ) -> GraphQLResult:
        """Run the operation `data` describes; `(success, result)`."""
