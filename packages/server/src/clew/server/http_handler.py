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
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

import orjson
from graphql import OperationType
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from clew.protocol import FormattedExecutionResult, JSONObject
from clew.protocol.http import (
    FailureKind,
    GraphQLRequest,
    MediaType,
    RequestError,
    StatusRules,
    accepts_html,
    check_post_content_type,
    check_request_method,
    ensure_operation_allowed_for_method,
    negotiate_response_media_type,
    parse_multipart_request,
    parse_request_value,
    response_status,
)

from ._documents import DocumentRefusal
from ._errors import INTERNAL_ERROR_MESSAGE, request_error
from ._execution import Engine, InternalServerError, PreparationFailure, PreparedOperation
from ._types import Receive, Scope, Send
from .explorer import ASSET_PARAMETER, Explorer, ExplorerFile

__all__ = ["PREFLIGHT_HEADERS", "GraphQLHTTPHandler"]

#: Headers a browser cannot send cross-origin without a CORS preflight; one of them (non-empty)
#: proves a multipart request is not a forged "simple" request.
PREFLIGHT_HEADERS: Final = (
    b"graphql-require-preflight",
    b"apollo-require-preflight",
    b"x-apollo-operation-name",
)

_CONTENT_TYPES: Final = {
    MediaType.GRAPHQL_RESPONSE_JSON: b"application/graphql-response+json; charset=utf-8",
    MediaType.JSON: b"application/json; charset=utf-8",
}
_JSON_CONTENT_TYPE: Final = _CONTENT_TYPES[MediaType.JSON]
_POST_TYPES: Final = (MediaType.JSON, MediaType.MULTIPART_FORM_DATA)
#: Distinct Accept / Content-Type values remembered per handler; clients send few of them.
_NEGOTIATION_CACHE_SIZE: Final = 64


class GraphQLHTTPHandler:
    """Serves GraphQL over HTTP for one `GraphQL` app (which calls `configure` with its engine)."""

    def __init__(
        self,
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
        self.allow_get = allow_get
        #: Whether a POST body may be a JSON array of operations (Apollo's batching).
        self.batching = batching
        self.max_batch_size = max_batch_size
        self.multipart_uploads = multipart_uploads
        self.csrf_protection = csrf_protection
        self.status_rules = status_rules if status_rules is not None else StatusRules()
        self._engine: Engine | None = None
        self._explorer_page: bytes | None = None
        self._explorer_headers: list[tuple[bytes, bytes]] = []
        self._explorer_files: dict[str, ExplorerFile] = {}
        self._methods = "GET, POST, OPTIONS" if allow_get else "POST, OPTIONS"
        self._post_types = _POST_TYPES if multipart_uploads else (MediaType.JSON,)
        self._accept_cache: dict[str | None, MediaType | None] = {}
        self._content_type_cache: dict[str, MediaType] = {}

    def configure(self, engine: Engine, explorer: Explorer | None) -> None:
        """Attach the app's engine, and its explorer (None when off or introspection is off)."""
        self._engine = engine
        if explorer is None:
            self._explorer_page, self._explorer_headers, self._explorer_files = None, [], {}
            return
        self._explorer_files = explorer.files()
        self._explorer_page = explorer.render().encode()
        self._explorer_headers = [
            (b"content-security-policy", explorer.content_security_policy().encode()),
            (b"x-content-type-options", b"nosniff"),
        ]

    @property
    def engine(self) -> Engine:
        """The engine `configure` attached."""
        if self._engine is None:
            raise RuntimeError("GraphQLHTTPHandler.configure() has not been called by an app")
        return self._engine

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (ASGI `http` scope)."""
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
            await self._send_request_error(send, error)
        except ClientDisconnect:
            return
        except _ResponseFailed as failure:
            # The response had started: nothing more may be said; the write's own error goes on.
            raise failure.sent_error from None
        except Exception:
            # A bug or an outage past the resolvers (a result JSON cannot carry, a failing
            # context builder): logged with its traceback, answered with a masked JSON 500.
            self.engine.logger.exception("The GraphQL HTTP request failed")
            await _respond(send, 500, _INTERNAL_ERROR_BODY, _JSON_CONTENT_TYPE)

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
        media_type = self._negotiate(accept)
        kind = self._content_type(content_type)
        limits = self.engine.limits
        if kind is MediaType.JSON:
            if content_length > limits.max_body_bytes:
                raise _too_large(limits.max_body_bytes)
            body = await _read_body(receive, limits.max_body_bytes)
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
        form = await self._read_form(scope, receive)
        try:
            request = self._multipart_request(form)
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
            if "query" not in params:
                raise RequestError(
                    405,
                    "The explorer is disabled; send GraphQL requests with POST",
                    headers={"Allow": self._methods},
                )
        if not self.allow_get:
            check_request_method("GET", allow_get=False)
        media_type = self._negotiate(accept)
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
        prepared = await self._prepare(request, media_type, method)
        if not isinstance(prepared, _Reply):
            prepared = await self._execute(
                scope=scope,
                receive=receive,
                prepared=prepared,
                request=request,
                data=data,
                media_type=media_type,
            )
        body = self.engine.encode(prepared.result)
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
            request.query, request.operation_name, request.extensions
        )
        if isinstance(prepared, DocumentRefusal):
            headers = [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in prepared.headers.items()
            ]
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
        context = await engine.context_for(Request(scope, receive), data)
        try:
            result = await engine.execute(prepared, request.variables, context)
        except InternalServerError as error:
            return _Reply(500, error.result, (_JSON_CONTENT_TYPE, None))
        return self._result_reply(result, media_type, FailureKind.VARIABLE_COERCION)

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

    async def _send_request_error(self, send: Send, error: RequestError) -> None:
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()
        ]
        body = orjson.dumps(error.result)
        await _respond(send, error.status_code, body, _JSON_CONTENT_TYPE, headers)

    # -- negotiation (cached: a handful of distinct header values hit the hot path) -------

    def _negotiate(self, accept: str | None) -> MediaType:
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

    def _content_type(self, header: str | None) -> MediaType:
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

    # -- multipart -------------------------------------------------------------------------

    async def _read_form(self, scope: Scope, receive: Receive) -> FormData:
        limits = self.engine.limits
        # Files are spooled by the parser; the stream as a whole may carry every allowed file.
        budget = limits.max_body_bytes + limits.max_files * limits.max_upload_bytes
        parser = MultiPartParser(
            Headers(scope=scope),
            _stream_body(receive, budget),
            max_files=limits.max_files,
            max_fields=limits.max_files + 2,
            max_part_size=limits.max_body_bytes,
        )
        try:
            form = await parser.parse()
        except MultiPartException as error:
            too_much = error.message.startswith(("Too many", "Part exceeded", "Field exceeded"))
            status = 413 if too_much else 400
            raise RequestError(status, f"Invalid multipart request: {error.message}") from None
        limit = limits.max_upload_bytes
        for value in form.values():
            if isinstance(value, UploadFile) and (value.size or 0) > limit:
                await form.close()
                message = f"The file {value.filename!r} exceeds the limit of {limit} bytes"
                raise RequestError(413, message)
        return form

    def _multipart_request(self, form: FormData) -> GraphQLRequest:
        operations, file_map = form.get("operations"), form.get("map")
        if not isinstance(operations, str) or not isinstance(file_map, str):
            raise RequestError(
                400, "A multipart request needs the 'operations' and 'map' fields first"
            )
        files = {key: value for key, value in form.multi_items() if isinstance(value, UploadFile)}
        parsed = parse_multipart_request(
            operations, file_map, files, max_files=self.engine.limits.max_files
        )
        if isinstance(parsed, list):
            raise RequestError(400, "Batched multipart requests are not supported")
        return parsed


#: The body of a 500 for a failure the request's own errors cannot describe.
_INTERNAL_ERROR_BODY: Final = orjson.dumps({"errors": request_error(INTERNAL_ERROR_MESSAGE)})


class _ResponseFailed(Exception):
    """Writing the response failed once it had started: no second response may follow."""

    def __init__(self, sent_error: Exception) -> None:
        super().__init__(str(sent_error))
        self.sent_error = sent_error


_SUBSCRIPTION_OVER_HTTP = "Subscriptions are served over WebSocket at this endpoint, not over HTTP"


@dataclass(frozen=True, slots=True)
class _Reply:
    # One operation's answer: status, body, and (content type, extra headers) for `_respond`.
    status: int
    result: FormattedExecutionResult
    head: tuple[bytes | None, list[tuple[bytes, bytes]] | None]


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


def _too_large(limit: int) -> RequestError:
    return RequestError(413, f"The request body exceeds the limit of {limit} bytes")


async def _read_body(receive: Receive, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientDisconnect
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise _too_large(limit)
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
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _stream_body(receive: Receive, limit: int):  # type: ignore[no-untyped-def]
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes | None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    if extra_headers:
        headers.extend(extra_headers)
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except Exception as exc:
        raise _ResponseFailed(exc) from exc
