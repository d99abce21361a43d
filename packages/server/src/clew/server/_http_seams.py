"""The HTTP handler's override seams, shaped as Ariadne's `GraphQLHTTPHandler` methods.

These are the default implementations of the methods Ariadne documents: Starlette `Request`
in, `Response` out, each one a place a subclass can change behaviour. They follow the same
rules as the handler's raw fast path (every rule is a `clew.protocol.http` call or a handler
helper both share), which is what runs while a subclass overrides none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import isawaitable
from typing import TYPE_CHECKING, Final, cast

import orjson
from graphql import DocumentNode, OperationType
from graphql.execution import MiddlewareManager
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from clew.protocol._types import FormattedExecutionResult, JSONObject
from clew.protocol.http import (
    FailureKind,
    GraphQLRequest,
    MediaType,
    RequestError,
    StatusRules,
    accepts_html,
    check_request_method,
    ensure_operation_allowed_for_method,
    response_status,
)

from ._documents import DocumentRefusal
from ._execution import InternalServerError, PreparationFailure, PreparedOperation
from ._extensions import ExtensionFactory
from ._form import multipart_graphql_request, read_request_form
from ._handler_base import GraphQLHttpHandlerBase, GraphQLResult
from ._http_io import CONTENT_TYPES, MediaTypes, preflighted, read_body, request_data
from ._options import ExtensionsOption, MiddlewareOption
from ._types import RequestData
from .explorer import ASSET_PARAMETER

if TYPE_CHECKING:
    from .explorer import ExplorerFile, ExplorerLike

__all__ = ["FAILURE_SCOPE_KEY", "HTTPSeams"]

#: Where `graphql_http_server` leaves the `GraphQLResult` (its failure kind, or a status decided
#: before execution) for `create_json_response`, whose signature (Ariadne's) has no room for
#: it: the request's ASGI scope.
FAILURE_SCOPE_KEY: Final = "clew.failure"
#: Forms `extract_data_from_multipart_request` opened, closed once the response is built.
_FORMS_SCOPE_KEY: Final = "clew.forms"
_SUBSCRIPTION_OVER_HTTP: Final = (
    "Subscriptions are served over WebSocket at this endpoint, not over HTTP"
)
_JSON: Final = "application/json; charset=utf-8"


class HTTPSeams(GraphQLHttpHandlerBase):
    """Ariadne's documented `GraphQLHTTPHandler` methods, on clew's rules."""

    # Set by GraphQLHTTPHandler; declared here for the seams that read them.
    allow_get: bool
    csrf_protection: bool
    status_rules: StatusRules
    extensions: ExtensionsOption | None
    middleware: MiddlewareOption | None
    middleware_manager_class: type[MiddlewareManager]
    _explorer: ExplorerLike | None
    _explorer_files: dict[str, ExplorerFile]
    _explorer_headers: list[tuple[bytes, bytes]]
    _methods: str
    _per_request_options: bool

    _media_types: MediaTypes

    # -- Ariadne's methods -------------------------------------------------------------------

    async def handle_request(self, request: Request) -> Response:
        """Answer one request: the explorer, a GraphQL response, or an error with its status."""
        try:
            method = request.method
            if method == "POST":
                return await self.graphql_http_server(request)
            if method == "GET":
                asset = request.query_params.get(ASSET_PARAMETER)
                if asset is not None and self._explorer_files:
                    explorer_file = self._explorer_files.get(asset)
                    if explorer_file is None:
                        raise RequestError(404, f"The explorer has no file named {asset!r}")
                    return Response(explorer_file.body, 200, headers=_text(explorer_file.headers))
                html = accepts_html(request.headers.get("accept"))
                if html and self._explorer is not None:
                    return await self.render_explorer(request, self._explorer)
                if html and "query" not in request.query_params:
                    raise RequestError(
                        405,
                        "The explorer is disabled; send GraphQL requests with POST",
                        headers={"Allow": self._methods},
                    )
                check_request_method("GET", allow_get=self.allow_get)
                return await self.graphql_http_server(request)
            return self.handle_not_allowed_method(request)
        except RequestError as error:
            return _error_response(error)

    async def render_explorer(self, request: Request, explorer: ExplorerLike) -> Response:
        """The explorer's page; an explorer whose `html(request)` gives None means 405."""
        page = explorer.html(request)
        if isawaitable(page):
            page = await page
        if page:
            return HTMLResponse(page, headers=_text(self._explorer_headers))
        return self.handle_not_allowed_method(request)

    async def graphql_http_server(self, request: Request) -> Response:
        """Read the request's GraphQL parameters, execute them, and build the JSON response."""
        self._media_types.response(request.headers.get("accept"))  # a 406 before any work
        try:
            data = await self.extract_data_from_request(request)
            try:
                outcome = await self.execute_graphql_query(request, data)
            except InternalServerError as error:
                return Response(self.engine.encode(error.result), 500, media_type=_JSON)
            success, result = outcome
            request.scope[FAILURE_SCOPE_KEY] = outcome
            return await self.create_json_response(request, result, success)
        finally:
            for form in request.scope.pop(_FORMS_SCOPE_KEY, ()):
                await form.close()

    async def extract_data_from_request(self, request: Request) -> RequestData:
        """The request's GraphQL parameters: from the JSON body, the multipart form or the URL."""
        if request.method == "GET":
            return self.extract_data_from_get_request(request)
        kind = self._media_types.request(request.headers.get("content-type"))
        if kind is MediaType.JSON:
            return await self.extract_data_from_json_request(request)
        if self.csrf_protection and not preflighted(request.scope["headers"]):
            raise RequestError(
                400,
                "Multipart requests need a non-empty 'GraphQL-Require-Preflight' (or "
                "'Apollo-Require-Preflight') header, which protects uploads against CSRF",
            )
        return await self.extract_data_from_multipart_request(request)

    async def extract_data_from_json_request(self, request: Request) -> RequestData:
        """The decoded JSON body (its size checked against the limits), not yet validated."""
        limit = self.engine.limits.max_body_bytes
        body = await read_body(request.receive, limit)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise RequestError(400, f"The request body is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            GraphQLRequest.from_mapping(data)  # raises the precise 400
        return cast(RequestData, data)

    async def extract_data_from_multipart_request(self, request: Request) -> RequestData:
        """The GraphQL multipart request's parameters, files placed in the variables."""
        limits = self.engine.limits
        form = await read_request_form(request.scope, request.receive, limits)
        request.scope.setdefault(_FORMS_SCOPE_KEY, []).append(form)
        return request_data(multipart_graphql_request(form, limits.max_files))

    def extract_data_from_get_request(self, request: Request) -> RequestData:
        """The URL's parameters, `variables` and `extensions` decoded from JSON."""
        return request_data(GraphQLRequest.from_query_params(dict(request.query_params)))

    async def execute_graphql_query(
        self,
        request: Request,
        data: RequestData,
        *,
        context_value: object = None,
        query_document: DocumentNode | None = None,
    ) -> GraphQLResult:
        """Validate `data`, prepare (or take `query_document`), and execute: `(success, result)`.

        A request error (bad parameters, a document that does not parse or validate, variables
        that do not coerce) is `(False, {"errors": [...]})` with the phase in `failure`.
        """
        try:
            graphql_request = GraphQLRequest.from_mapping(data)
        except RequestError as error:
            return GraphQLResult(False, error.result, FailureKind.REQUEST_INVALID)
        engine = self.engine
        if engine.prepares_per_request and context_value is None:
            context_value = await self.get_context_for_request(request, data)
        prepared: PreparedOperation | PreparationFailure | DocumentRefusal
        if query_document is not None:
            prepared = engine.prepare_document(
                query_document, graphql_request.operation_name, context=context_value, data=data
            )
        else:
            prepared = await engine.prepare_request(
                graphql_request.query,
                graphql_request.operation_name,
                graphql_request.extensions,
                document_id=graphql_request.document_id,
                context=context_value,
                data=data,
            )
        if isinstance(prepared, DocumentRefusal):
            return GraphQLResult(
                False,
                {"errors": prepared.errors},
                FailureKind.REQUEST_INVALID,
                status_code=prepared.status_code,
                headers=prepared.headers,
            )
        if isinstance(prepared, PreparationFailure):
            return GraphQLResult(False, {"errors": prepared.errors}, prepared.kind)
        operation_type = prepared.operation_type
        if operation_type is not OperationType.QUERY:
            ensure_operation_allowed_for_method(request.method, operation_type.value)
            if operation_type is OperationType.SUBSCRIPTION:
                errors: FormattedExecutionResult = {
                    "errors": [{"message": _SUBSCRIPTION_OVER_HTTP}]
                }
                return GraphQLResult(False, errors, FailureKind.VALIDATION)
        result = await self.execute_prepared(
            request, graphql_request, prepared, data, context_value
        )
        if "data" in result:
            return GraphQLResult(True, result)
        return GraphQLResult(False, result, FailureKind.VARIABLE_COERCION)

    async def get_extensions_for_request(
        self, request: Request, context: object
    ) -> Sequence[ExtensionFactory] | None:
        """This handler's extensions for one request: its list, or what its callable returns."""
        extensions = self.extensions
        if callable(extensions):
            value = extensions(request, context)
            return await value if isawaitable(value) else value
        return extensions

    async def get_middleware_for_request(
        self, request: Request, context: object
    ) -> Sequence[object] | None:
        """This handler's middleware for one request: its list, or what its callable returns."""
        middleware = self.middleware
        if callable(middleware):
            value = middleware(request, context)
            return await value if isawaitable(value) else value
        return middleware or None

    async def create_json_response(
        self, request: Request, result: FormattedExecutionResult, success: bool
    ) -> Response:
        """The response for `result`, its status from clew's status rules (see `StatusRules`)."""
        media_type = self._media_types.response(request.headers.get("accept"))
        outcome = request.scope.get(FAILURE_SCOPE_KEY)
        content_type = CONTENT_TYPES[media_type].decode()
        if isinstance(outcome, GraphQLResult) and outcome.status_code is not None:
            body = self.engine.encode(result)
            return Response(
                body, outcome.status_code, headers=dict(outcome.headers), media_type=content_type
            )
        failure = getattr(outcome, "failure", None)
        data_present = "data" in result
        if not data_present and failure is None:
            failure = FailureKind.VALIDATION
        status = response_status(
            media_type,
            data_present=data_present,
            errors_present="errors" in result,
            failure=None if data_present else failure,
            rules=self.status_rules,
        )
        body = self.engine.encode(result)
        return Response(body, status, media_type=content_type)

    def handle_not_allowed_method(self, request: Request) -> Response:
        """200 with `Allow` for OPTIONS; 405 with `Allow` and a JSON error for anything else."""
        if request.method == "OPTIONS":
            return Response(b"", 200, headers={"Allow": self._methods})
        try:
            check_request_method(request.method, allow_get=self.allow_get)
        except RequestError as error:
            return _error_response(error)
        return _error_response(
            RequestError(
                405,
                f"Method {request.method} is not allowed here",
                headers={"Allow": self._methods},
            )
        )

    # -- shared with the fast path ------------------------------------------------------------

    async def execute_prepared(
        self,
        request: Request,
        graphql_request: GraphQLRequest,
        prepared: PreparedOperation,
        data: RequestData,
        context_value: object,
    ) -> FormattedExecutionResult:
        """Execute a prepared operation with the context, extensions and middleware of `request`."""
        if context_value is None:
            context_value = await self.get_context_for_request(request, data)
        extensions: Sequence[ExtensionFactory] = ()
        middleware: Sequence[object] = ()
        if self._per_request_options:
            try:
                extensions = await self.get_extensions_for_request(request, context_value) or ()
                middleware = await self.get_middleware_for_request(request, context_value) or ()
            except Exception as error:
                raise InternalServerError(self.engine.internal_error(error)) from error
        return await self.engine.execute(
            prepared,
            graphql_request.variables,
            context_value,
            extensions=extensions,
            middleware=middleware,
            manager_class=self.middleware_manager_class,
        )


def _text(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}


def _error_response(error: RequestError) -> Response:
    return Response(
        orjson.dumps(cast(JSONObject, error.result)),
        error.status_code,
        headers=dict(error.headers),
        media_type=_JSON,
    )
