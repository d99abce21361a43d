"""Incremental delivery over HTTP: `multipart/mixed` answers for clients that accept one.

The app asks `handle` before the plain HTTP handler when `incremental_delivery` is on. A GET
or POST whose Accept names ``multipart/mixed;deferSpec=20220824`` or
``multipart/mixed;incrementalSpec=v0.2`` runs on the incremental engine; an operation that
defers nothing still gets one JSON reply. Every format rule comes from
`clew.protocol.incremental`; this module moves bytes and owns the task that pulls payloads,
cancelled when the client goes away (which closes graphql-core's payload generator).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Final

from graphql import OperationType
from starlette.requests import ClientDisconnect, Request

from clew.protocol._types import FormattedExecutionResult, JSONObject
from clew.protocol.http import (
    FailureKind,
    MediaType,
    RequestError,
    StatusRules,
    ensure_operation_allowed_for_method,
    response_status,
)
from clew.protocol.incremental import (
    IncrementalFormat,
    LegacyConverter,
    MultipartMixedWriter,
    negotiate_incremental,
)
from clew.server._documents import DocumentRefusal
from clew.server._execution import Engine, InternalServerError, PreparationFailure
from clew.server._http_io import JSON_CONTENT_TYPE, encode_headers, respond, respond_error
from clew.server._incremental import execute_incrementally
from clew.server._types import Receive, Scope, Send
from clew.server.sse._request import RequestHead, read_graphql_request
from clew.server.sse._stream import wait_for_disconnect

__all__ = ["IncrementalHTTPHandler"]

_SUBSCRIPTION_OVER_HTTP: Final = (
    "Subscriptions are served over WebSocket or SSE at this endpoint, not over multipart HTTP"
)


class IncrementalHTTPHandler:
    """Answers GraphQL-over-HTTP requests that accept incremental delivery."""

    def __init__(self, engine: Engine, status_rules: StatusRules | None = None) -> None:
        self.engine = engine
        self.status_rules = status_rules if status_rules is not None else StatusRules()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Serve the request if it accepts an incremental format; False (nothing read) if not."""
        if scope["method"] not in ("GET", "POST"):
            return False
        accept = None
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
        if accept is None or "multipart/mixed" not in accept:
            return False
        chosen = negotiate_incremental(accept)
        if chosen is None:
            return False
        try:
            await self._run(scope, receive, send, chosen)
        except RequestError as error:
            await respond_error(send, error)
        except ClientDisconnect:
            pass
        return True

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, chosen: IncrementalFormat
    ) -> None:
        engine = self.engine
        head = RequestHead.from_scope(scope)
        request, data = await read_graphql_request(head, receive, engine.limits.max_body_bytes)
        prepared = await engine.prepare_request(
            request.query,
            request.operation_name,
            request.extensions,
            document_id=request.document_id,
        )
        if isinstance(prepared, DocumentRefusal):
            body = engine.encode({"errors": prepared.errors})
            headers = encode_headers(prepared.headers)
            await respond(send, prepared.status_code, body, JSON_CONTENT_TYPE, headers)
            return
        if isinstance(prepared, PreparationFailure):
            await self._reply(send, {"errors": prepared.errors}, prepared.kind)
            return
        ensure_operation_allowed_for_method(head.method, prepared.operation_type.value)
        if prepared.operation_type is OperationType.SUBSCRIPTION:
            result: FormattedExecutionResult = {"errors": [{"message": _SUBSCRIPTION_OVER_HTTP}]}
            await self._reply(send, result, FailureKind.VALIDATION)
            return
        context = await engine.context_for(Request(scope, receive), data)
        try:
            outcome = await execute_incrementally(engine, prepared, request.variables, context)
        except InternalServerError as error:
            await respond(send, 500, engine.encode(error.result), JSON_CONTENT_TYPE)
            return
        if isinstance(outcome, dict):
            await self._reply(send, outcome, FailureKind.VARIABLE_COERCION)
            return
        await self._stream(send, receive, outcome, chosen)

    async def _reply(
        self, send: Send, result: FormattedExecutionResult, failure: FailureKind
    ) -> None:
        data_present = "data" in result
        status = response_status(
            MediaType.JSON,
            data_present=data_present,
            errors_present="errors" in result,
            failure=None if data_present else failure,
            rules=self.status_rules,
        )
        await respond(send, status, self.engine.encode(result), JSON_CONTENT_TYPE)

    async def _stream(
        self,
        send: Send,
        receive: Receive,
        payloads: AsyncIterator[JSONObject],
        chosen: IncrementalFormat,
    ) -> None:
        converter = LegacyConverter() if chosen is IncrementalFormat.V0_1 else None
        writer = MultipartMixedWriter()
        encode = self.engine.encode

        async def pump() -> None:
            headers = [
                (b"content-type", chosen.content_type.encode()),
                (b"cache-control", b"no-cache"),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for payload in payloads:
                last = payload.get("hasNext") is not True
                wire = converter.convert(payload) if converter is not None else payload
                body = writer.part(encode(wire), last=last)
                await send({"type": "http.response.body", "body": body, "more_body": not last})
                if last:
                    return

        task = asyncio.ensure_future(pump())
        watcher = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, watcher):
                pending.cancel()
            await asyncio.gather(task, watcher, return_exceptions=True)
            close = getattr(payloads, "aclose", None)
            if close is not None:
                await close()
        if task.done() and not task.cancelled() and task.exception() is not None:
            self.engine.logger.error("Incremental delivery failed", exc_info=task.exception())
