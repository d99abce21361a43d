"""GraphQL over HTTP on raw ASGI: POST (JSON, multipart uploads), GET, the explorer and OPTIONS.

Every protocol rule (request validation, media types, status codes, multipart placement) comes
from `clew.protocol.http`; this module only moves bytes. The body is read straight from ASGI
`receive` with its size checked chunk by chunk, decoded with orjson, and the response is written
with two `send` calls: the hot path has no framework objects besides the ones resolvers may ask
for (the Starlette `Request` in the default context).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from inspect import isawaitable
from typing import Final, NamedTuple
from urllib.parse import parse_qsl

import orjson
from graphql import OperationType
from starlette.requests import ClientDisconnect, Request

from clew.protocol import FormattedExecutionResult
from clew.protocol.http import (
    FailureKind,
    GraphQLRequest,
    MediaType,
    RequestError,
    StatusRules,
    accepts_html,
    check_request_method,
    ensure_operation_allowed_for_method,
    parse_request_value,
    response_status,
)

from ._documents import DocumentRefusal
from ._errors import INTERNAL_ERROR_MESSAGE, request_error
from ._execution import Engine, InternalServerError, PreparationFailure, PreparedOperation
from ._form import multipart_graphql_request, read_request_form
from ._handler_base import GraphQLResult
from ._http_io import (
    CONTENT_TYPES,
    JSON_CONTENT_TYPE,
    PREFLIGHT_HEADERS,
    MediaTypes,
    encode_headers,
    read_body,
    request_data,
    respond,
    respond_error,
    too_large,
)
from ._http_seams import HTTPSeams
from ._options import check_extensions, check_manager_class, check_middleware
from ._types import Receive, Scope, Send
from .explorer import ASSET_PARAMETER, Explorer, ExplorerFile, ExplorerLike

__all__ = ["PREFLIGHT_HEADERS", "GraphQLHTTPHandler"]

_CONTENT_TYPES: Final = CONTENT_TYPES


#: The methods whose override sends every request through the Starlette-shaped seams.
_REQUEST_SEAMS: Final = (
    "handle_request",
    "render_explorer",
    "graphql_http_server",
    "extract_data_from_request",
    "extract_data_from_json_request",
    "extract_data_from_multipart_request",
    "extract_data_from_get_request",
    "create_json_response",
    "handle_not_allowed_method",
)


class GraphQLHTTPHandler(HTTPSeams):
    """Serves GraphQL over HTTP for one `GraphQL` app (which calls `configure` with its engine).

    Ariadne's options and methods: `extensions` and `middleware` (lists, or callables
    `(request, context)` returning one per request) and `middleware_manager_class` apply to
    this handler's operations, after the app's own. Every method Ariadne documents is an
    override seam; while a subclass overrides none of them, requests take a raw ASGI path that
    builds no response objects.
    """

    def __init__(
        self,
        extensions: object = None,
        middleware: object = None,
        middleware_manager_class: object = None,
        *,
        allow_get: bool = True,
        multipart_uploads: bool = True,
        csrf_protection: bool = True,
        status_rules: StatusRules | None = None,
        batching: bool = False,
        max_batch_size: int = 10,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError("max_batch_size must be at least 1")
        self.extensions = check_extensions(extensions)
        self.middleware = check_middleware(middleware)
        self.middleware_manager_class = check_manager_class(middleware_manager_class)
        cls = type(self)
        #: A subclass overrides a request/response seam: every request goes through them.
        self._through_seams = any(
            getattr(cls, name) is not getattr(GraphQLHTTPHandler, name) for name in _REQUEST_SEAMS
        )
        #: Whether operations ask `get_extensions_for_request`/`get_middleware_for_request`.
        self._per_request_options = (
            self.extensions is not None
            or self.middleware is not None
            or cls.get_extensions_for_request is not HTTPSeams.get_extensions_for_request
            or cls.get_middleware_for_request is not HTTPSeams.get_middleware_for_request
        )
        #: `execute_graphql_query` is overridden: the fast path calls it instead of its own.
        self._custom_execute = cls.execute_graphql_query is not HTTPSeams.execute_graphql_query
        self._through_execute = self._custom_execute  # and once configured, see `configure`
        self._custom_context = cls.get_context_for_request is not HTTPSeams.get_context_for_request
        self.allow_get = allow_get
        #: Whether a POST body may be a JSON array of operations (Apollo's batching).
        self.batching = batching
        self.max_batch_size = max_batch_size
        self.multipart_uploads = multipart_uploads
        self.csrf_protection = csrf_protection
        self.status_rules = status_rules if status_rules is not None else StatusRules()
        self._engine: Engine | None = None
        self._explorer: ExplorerLike | None = None
        self._explorer_page: bytes | None = None
        self._explorer_headers: list[tuple[bytes, bytes]] = []
        self._explorer_files: dict[str, ExplorerFile] = {}
        self._methods = "GET, POST, OPTIONS" if allow_get else "POST, OPTIONS"
        self._media_types = MediaTypes(multipart=multipart_uploads)

    def configure(self, engine: Engine, explorer: ExplorerLike | None = None) -> None:  # type: ignore[override]
        """Attach the app's engine, and its explorer (None when off or introspection is off).

        clew's `Explorer` gives the same page to every request: it is rendered once. Any other
        object with Ariadne's `html(request)` is asked on every browser GET.
        """
        self._engine = engine
        #: Requests go through `execute_graphql_query`: it is overridden, or preparing needs
        #: the context (decided once here, so the fast path tests one flag).
        self._through_execute = self._custom_execute or engine.prepares_per_request
        self._explorer = explorer
        if not isinstance(explorer, Explorer):
            self._explorer_page, self._explorer_headers, self._explorer_files = None, [], {}
            return
        self._explorer_files = explorer.files()
        self._explorer_page = explorer.render().encode()
        self._explorer_headers = [
            (b"content-security-policy", explorer.content_security_policy().encode()),
            (b"x-content-type-options", b"nosniff"),
        ]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (ASGI `http` scope)."""
        if self._through_seams:
            await self._handle_through_seams(scope, receive, send)
            return
        try:
            method = scope["method"]
            if method == "POST":
                await self._post(scope, receive, send)
            elif method == "GET":
                await self._get(scope, receive, send)
            elif method == "OPTIONS":
                await _respond(send, 200, b"", None, [(b"allow", self._methods.encode())])
            else:
                check_request_method(method, allow_get=self.allow_get)
        except RequestError as error:
            await respond_error(send, error)
        except ClientDisconnect:
            return
        except _ResponseFailed as failure:
            # The response had started: nothing more may be said; the write's own error goes on.
            raise failure.sent_error from None
        except Exception:
            # A bug or an outage past the resolvers (a result JSON cannot carry, a failing
            # context builder): logged with its traceback, answered with a masked JSON 500.
            self.engine.logger.exception("The GraphQL HTTP request failed")
            await _respond(send, 500, _INTERNAL_ERROR_BODY, JSON_CONTENT_TYPE)

    async def _handle_through_seams(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.handle_request(request)
        except ClientDisconnect:
            return
        except Exception:
            # As on the fast path: logged with its traceback, answered with a masked JSON 500.
            self.engine.logger.exception("The GraphQL HTTP request failed")
            await _respond(send, 500, _INTERNAL_ERROR_BODY, JSON_CONTENT_TYPE)
            return
        await response(scope, receive, send)

    # -- methods ---------------------------------------------------------------------------

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = accept = None
        content_length = -1
        preflighted = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"content-length":
                content_length = int(value) if value.isdigit() else -1
            elif name in PREFLIGHT_HEADERS and value.strip():
                preflighted = True
        media_type = self._media_types.response(accept)
        kind = self._media_types.request(content_type)
        limits = self.engine.limits
        if kind is MediaType.JSON:
            if content_length > limits.max_body_bytes:
                raise too_large(limits.max_body_bytes)
            body = await read_body(receive, limits.max_body_bytes)
            try:
                data = orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise RequestError(400, f"The request body is not valid JSON: {error}") from None
            if isinstance(data, list):
                parsed = parse_request_value(
                    data, allow_batch=self.batching, max_batch_size=self.max_batch_size
                )
                assert isinstance(parsed, list)  # a list body is a batch or refused
                await self._run_batch(
                    scope=scope,
                    receive=receive,
                    send=send,
                    requests=parsed,
                    data=data,
                    media_type=media_type,
                )
                return
            request = GraphQLRequest.from_mapping(data)
            await self._run(
                scope, receive, send, request, data=data, media_type=media_type, method="POST"
            )
            return
        if self.csrf_protection and not preflighted:
            raise RequestError(
                400,
                "Multipart requests need a non-empty 'GraphQL-Require-Preflight' (or "
                "'Apollo-Require-Preflight') header, which protects uploads against CSRF",
            )
        form = await read_request_form(scope, receive, self.engine.limits)
        try:
            request = multipart_graphql_request(form, self.engine.limits.max_files)
            data = request_data(request)
            await self._run(
                scope, receive, send, request, data=data, media_type=media_type, method="POST"
            )
        finally:
            await form.close()

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
                break
        params = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        if self._explorer_files and ASSET_PARAMETER in params:
            name = params[ASSET_PARAMETER]
            explorer_file = self._explorer_files.get(name)
            if explorer_file is None:
                raise RequestError(404, f"The explorer has no file named {name!r}")
            await _respond(send, 200, explorer_file.body, None, explorer_file.headers)
            return
        if accepts_html(accept):
            if self._explorer_page is not None:
                await _respond(
                    send,
                    200,
                    self._explorer_page,
                    b"text/html; charset=utf-8",
                    self._explorer_headers,
                )
                return
            if self._explorer is not None:  # another explorer: its page may depend on the request
                page = self._explorer.html(Request(scope, receive))
                if isawaitable(page):
                    page = await page
                if page:
                    await _respond(send, 200, str(page).encode(), b"text/html; charset=utf-8")
                    return
                raise RequestError(
                    405, "The explorer is not available", headers={"Allow": self._methods}
                )
            if "query" not in params:
                raise RequestError(
                    405,
                    "The explorer is disabled; send GraphQL requests with POST",
                    headers={"Allow": self._methods},
                )
        if not self.allow_get:
            check_request_method("GET", allow_get=False)
        media_type = self._media_types.response(accept)
        request = GraphQLRequest.from_query_params(params)
        await self._run(
            scope, receive, send, request, data=params, media_type=media_type, method="GET"
        )

    # -- executing -------------------------------------------------------------------------

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: GraphQLRequest,
        *,
        data: Mapping[str, object],
        media_type: MediaType,
        method: str,
    ) -> None:
        if self._through_execute:
            # An overridden execute_graphql_query, or preparation that needs the context.
            outcome = await self._run_through_execute(
                scope, receive, data if method == "POST" else request_data(request), media_type
            )
            await _respond(send, outcome.status, self.engine.encode(outcome.result), *outcome.head)
            return
        engine = self.engine
        ready = engine.prepare_now(
            request.query,
            request.operation_name,
            request.extensions,
            document_id=request.document_id,
        )
        if ready is None:
            prepared = await self._prepare(request, media_type, method)
        else:
            prepared = self._checked(ready, media_type, method)
        if not isinstance(prepared, _Reply):
            prepared = await self._execute(
                scope=scope,
                receive=receive,
                prepared=prepared,
                request=request,
                data=data,
                media_type=media_type,
            )
        body = engine.encode(prepared.result)
        await _respond(send, prepared.status, body, *prepared.head)

    async def _run_batch(
        self,
        *,
        scope: Scope,
        receive: Receive,
        send: Send,
        requests: list[GraphQLRequest],
        data: list[object],
        media_type: MediaType,
    ) -> None:
        """Run a batch: queries concurrently, mutations one after another in batch order.

        Each operation has its own context and its own entry in the reply, and one failing
        (even outside its resolvers) leaves the others alone. The reply is 200 with the array.
        """
        replies: list[_Reply | PreparedOperation] = []
        for request in requests:
            try:
                replies.append(await self._prepare(request, media_type, "POST"))
            except RequestError as error:
                replies.append(_Reply(error.status_code, error.result, (None, None)))

        async def run(index: int) -> None:
            prepared = replies[index]
            assert isinstance(prepared, PreparedOperation)
            entry = data[index]
            request_data = entry if isinstance(entry, Mapping) else {}
            replies[index] = await self._execute(
                scope=scope,
                receive=receive,
                prepared=prepared,
                request=requests[index],
                data=request_data,
                media_type=media_type,
            )

        async def run_in_order(indexes: list[int]) -> None:
            for index in indexes:
                await run(index)

        mutations: list[int] = []
        others: list[int] = []
        for index, prepared in enumerate(replies):
            if isinstance(prepared, PreparedOperation):
                is_mutation = prepared.operation_type is OperationType.MUTATION
                (mutations if is_mutation else others).append(index)
        await asyncio.gather(run_in_order(mutations), *(run(index) for index in others))
        body = orjson.dumps([reply.result for reply in replies if isinstance(reply, _Reply)])
        await _respond(send, 200, body, _CONTENT_TYPES[media_type])

    async def _prepare(
        self, request: GraphQLRequest, media_type: MediaType, method: str
    ) -> PreparedOperation | _Reply:
        prepared = await self.engine.prepare_request(
            request.query,
            request.operation_name,
            request.extensions,
            document_id=request.document_id,
        )
        return self._checked(prepared, media_type, method)

    def _checked(
        self,
        prepared: PreparedOperation | PreparationFailure | DocumentRefusal,
        media_type: MediaType,
        method: str,
    ) -> PreparedOperation | _Reply:
        """The operation to execute, or the reply for a request that executes nothing."""
        if isinstance(prepared, DocumentRefusal):
            headers = encode_headers(prepared.headers)
            content_type = _CONTENT_TYPES[media_type]
            return _Reply(
                prepared.status_code, {"errors": prepared.errors}, (content_type, headers)
            )
        if isinstance(prepared, PreparationFailure):
            return self._result_reply({"errors": prepared.errors}, media_type, prepared.kind)
        operation_type = prepared.operation_type
        if operation_type is not OperationType.QUERY:
            ensure_operation_allowed_for_method(method, operation_type.value)
            if operation_type is OperationType.SUBSCRIPTION:
                result: FormattedExecutionResult = {
                    "errors": [{"message": _SUBSCRIPTION_OVER_HTTP}]
                }
                return self._result_reply(result, media_type, FailureKind.VALIDATION)
        return prepared

    async def _execute(
        self,
        *,
        scope: Scope,
        receive: Receive,
        prepared: PreparedOperation,
        request: GraphQLRequest,
        data: Mapping[str, object],
        media_type: MediaType,
    ) -> _Reply:
        engine = self.engine
        connection = Request(scope, receive)
        if self._per_request_options or self._custom_context:
            try:
                result = await self.execute_prepared(connection, request, prepared, data, None)
            except InternalServerError as error:
                return _Reply(500, error.result, (JSON_CONTENT_TYPE, None))
            return self._result_reply(result, media_type, FailureKind.VARIABLE_COERCION)
        context = (
            await engine.context_for(connection, data)
            if engine.has_context_value
            else engine.default_context(connection, data)
        )
        try:
            result = await engine.execute(prepared, request.variables, context)
        except InternalServerError as error:
            return _Reply(500, error.result, (JSON_CONTENT_TYPE, None))
        return self._result_reply(result, media_type, FailureKind.VARIABLE_COERCION)

    async def _run_through_execute(
        self, scope: Scope, receive: Receive, data: Mapping[str, object], media_type: MediaType
    ) -> _Reply:
        try:
            outcome = await self.execute_graphql_query(Request(scope, receive), data)
        except InternalServerError as error:
            return _Reply(500, error.result, (JSON_CONTENT_TYPE, None))
        _, result = outcome
        if isinstance(outcome, GraphQLResult) and outcome.status_code is not None:
            headers = encode_headers(outcome.headers)
            return _Reply(outcome.status_code, result, (_CONTENT_TYPES[media_type], headers))
        failure = getattr(outcome, "failure", None) or FailureKind.VALIDATION
        return self._result_reply(result, media_type, failure)

    def _result_reply(
        self, result: FormattedExecutionResult, media_type: MediaType, failure: FailureKind
    ) -> _Reply:
        data_present = "data" in result
        status = response_status(
            media_type,
            data_present=data_present,
            errors_present="errors" in result,
            failure=None if data_present else failure,
            rules=self.status_rules,
        )
        return _Reply(status, result, (_CONTENT_TYPES[media_type], None))


#: The body of a 500 for a failure the request's own errors cannot describe.
_INTERNAL_ERROR_BODY: Final = orjson.dumps({"errors": request_error(INTERNAL_ERROR_MESSAGE)})


class _ResponseFailed(Exception):
    """Writing the response failed once it had started: no second response may follow."""

    def __init__(self, sent_error: Exception) -> None:
        super().__init__(str(sent_error))
        self.sent_error = sent_error


_SUBSCRIPTION_OVER_HTTP = "Subscriptions are served over WebSocket at this endpoint, not over HTTP"


class _Reply(NamedTuple):
    # One operation's answer: status, body, and (content type, extra headers) for `_respond`.
    # A named tuple: one is made per request, and a frozen dataclass costs more to make.
    status: int
    result: FormattedExecutionResult
    head: tuple[bytes | None, list[tuple[bytes, bytes]] | None]


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes | None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    # A failed write is told apart from a failed request: no second response may follow it.
    try:
        await respond(send, status, body, content_type, extra_headers)
    except Exception as exc:
        raise _ResponseFailed(exc) from exc
