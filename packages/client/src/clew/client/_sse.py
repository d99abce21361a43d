"""GraphQL over server-sent events (graphql-sse) for the aiohttp backend, in both modes.

`SSETransport` has the shape of the WebSocket transport (`subscribe` → an operation stream,
`close`), so the backend hands it subscriptions, and queries too when asked.

- Distinct connections mode: every operation is its own POST with
  ``Accept: text/event-stream``; closing the iterator closes that connection, which stops the
  operation on the server. A subscription whose stream drops before `complete` is sent again
  (graphql-sse's client retries too); a query or mutation never is, since it may have run.
- Single connection mode: one PUT reserves a stream, one GET holds it open, operations are
  POSTed with ``extensions.operationId`` and stopped with DELETE. When the stream drops, the
  token is dead: the transport reserves a new stream and re-POSTs the live subscriptions.

Every protocol rule (event parsing, message shapes, the reservation's states) comes from
`clew.protocol.sse`; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Final, cast

import aiohttp

from clew.protocol import JSONObject, ProtocolError
from clew.protocol.http import GraphQLRequest, GraphQLResponse, MediaType, ResponseFormatError
from clew.protocol.sse import (
    OPERATION_ID_KEY,
    TOKEN_HEADER,
    Complete,
    EventStreamParser,
    Reservation,
    StreamMessage,
    parse_message,
)

from ._retry import RetryPolicy
from ._types import Headers, OperationStream, resolve_headers
from .errors import (
    ConnectionFailedError,
    HTTPStatusError,
    InvalidResponseError,
    SubscriptionError,
    TransportError,
)

__all__ = ["SSETransport"]

_STREAM_ACCEPT: Final = f"{MediaType.EVENT_STREAM}"
_JSON_CONTENT_TYPE: Final = f"{MediaType.JSON}; charset=utf-8"
#: A stream may stay quiet for as long as its subscription has nothing to say.
_STREAM_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)


class _StreamDropped(Exception):
    """The event stream ended before the operation completed (a network failure)."""


#: What a network failure looks like: refused, reset, or a body cut short.
_DROPS: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, _StreamDropped)


class SSETransport:
    """Runs operations over graphql-sse through the backend's aiohttp session."""

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        url: str,
        *,
        headers: Headers | None,
        id_factory: Callable[[], str],
        single_connection: bool = False,
        retry: RetryPolicy | None = None,
        encode: Callable[[object], bytes],
    ) -> None:
        self._session = session
        self.url = url
        self.headers = headers
        self.single_connection = single_connection
        self.retry = retry if retry is not None else RetryPolicy()
        self._id_factory = id_factory
        self._encode = encode
        self._single: _SingleConnection | None = None
        #: Set by `close`: no new operations, and dropped streams are not reopened.
        self.closed = False

    def subscribe(self, request: GraphQLRequest, *, single_result: bool) -> OperationStream:
        """Run `request`; iterate its results, `aclose()` to stop it.

        `single_result` marks a query or mutation, which is never sent again after a drop.
        """
        if self.closed:
            raise TransportError("The SSE transport is closed")
        if not self.single_connection:
            return _Stream(self._distinct(request, single_result))  # type: ignore[arg-type]
        if self._single is None:
            self._single = _SingleConnection(self)
        return self._single.subscribe(request, single_result)

    def payloads(self, request: GraphQLRequest) -> AsyncIterator[JSONObject]:
        """A query or mutation's payloads as they arrive, unvalidated (incremental delivery:
        a later payload carries `incremental`/`completed`, not `data`)."""
        if self.closed:
            raise TransportError("The SSE transport is closed")
        if not self.single_connection:
            return self._distinct(request, True, raw=True)  # type: ignore[return-value]
        if self._single is None:
            self._single = _SingleConnection(self)
        return self._single._operation(request, True, raw=True)  # type: ignore[return-value]

    async def close(self) -> None:
        """Stop every operation and close the shared stream (single connection mode)."""
        self.closed = True
        single, self._single = self._single, None
        if single is not None:
            await single.close()

    # -- shared ------------------------------------------------------------------------------

    async def _headers(self, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        headers.update(await resolve_headers(self.headers))
        return headers

    def _body(self, request: GraphQLRequest, operation_id: str | None = None) -> bytes:
        body = request.to_json_body()
        if operation_id is not None:
            extensions = dict(request.extensions or {})
            extensions[OPERATION_ID_KEY] = operation_id
            body["extensions"] = extensions
        return self._encode(body)

    async def _backoff(self, attempt: int, error: Exception) -> None:
        if not self.retry.should_retry(None, attempt):
            raise ConnectionFailedError(self.url, f"{error} (gave up after {attempt} attempts)")
        await asyncio.sleep(self.retry.delay(attempt))

    # -- distinct connections mode ---------------------------------------------------------

    async def _distinct(
        self, request: GraphQLRequest, single_result: bool, *, raw: bool = False
    ) -> AsyncIterator[GraphQLResponse | JSONObject]:
        attempt = 0
        body = self._body(request)
        while True:
            headers = await self._headers(
                Accept=_STREAM_ACCEPT, **{"Content-Type": _JSON_CONTENT_TYPE}
            )
            try:
                async with self._session().post(
                    self.url, data=body, headers=headers, timeout=_STREAM_TIMEOUT
                ) as response:
                    await _check_stream(response)
                    async for message in _messages(response, single_connection=False):
                        if isinstance(message, Complete):
                            return
                        attempt = 0  # a result arrived: the connection works
                        yield (
                            cast(JSONObject, message.payload)
                            if raw
                            else _response(self.url, message.payload)
                        )
                raise _StreamDropped("the stream ended before the operation completed")
            except _DROPS as error:
                if single_result:
                    raise ConnectionFailedError(self.url, str(error)) from error
                attempt += 1
                await self._backoff(attempt, error)


class _Stream:
    """An operation's results as the `OperationStream` the backend hands out."""

    def __init__(self, results: AsyncIterator[GraphQLResponse]) -> None:
        self._results = results

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> GraphQLResponse:
        return await self._results.__anext__()

    async def aclose(self) -> None:
        close = getattr(self._results, "aclose", None)
        if close is not None:
            await close()


class _SingleConnection:
    """Single connection mode: the reservation, its stream, and the operations it carries."""

    def __init__(self, transport: SSETransport) -> None:
        self.transport = transport
        self.reservation: Reservation | None = None
        self._queues: dict[str, asyncio.Queue[StreamMessage | Exception]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()

    def subscribe(self, request: GraphQLRequest, single_result: bool) -> OperationStream:
        return _Stream(self._operation(request, single_result))  # type: ignore[arg-type]

    async def _connect(self) -> Reservation:
        """The live reservation, reserving and opening a new stream when there is none."""
        async with self._lock:
            if self.transport.closed:
                raise TransportError("The SSE transport is closed")
            reservation = self.reservation
            if reservation is not None and self._reader is not None and not self._reader.done():
                return reservation
            transport = self.transport
            session = transport._session()
            headers = await transport._headers(Accept="text/plain")
            async with session.put(transport.url, headers=headers) as response:
                text = await response.text()
                if response.status != 201:
                    raise HTTPStatusError(
                        transport.url, response.status, text, dict(response.headers)
                    )
            reservation = Reservation(text)
            headers = await transport._headers(Accept=_STREAM_ACCEPT, **{TOKEN_HEADER: text})
            response = await session.get(transport.url, headers=headers, timeout=_STREAM_TIMEOUT)
            try:
                await _check_stream(response)
            except BaseException:
                response.release()
                raise
            reservation.open_stream()
            self.reservation = reservation
            self._reader = asyncio.ensure_future(self._read(reservation, response))
            return reservation

    async def _read(self, reservation: Reservation, response: aiohttp.ClientResponse) -> None:
        error: Exception = _StreamDropped("the event stream ended")
        try:
            async for message in _messages(response, single_connection=True):
                routed = reservation.receive(message)
                if routed is not None and routed.id is not None:
                    queue = self._queues.get(routed.id)
                    if queue is not None:
                        queue.put_nowait(routed)
        except (aiohttp.ClientError, TransportError) as exc:
            error = _StreamDropped(str(exc))
        finally:
            response.release()
            for operation_id in reservation.close():
                queue = self._queues.get(operation_id)
                if queue is not None:
                    queue.put_nowait(error)

    async def _operation(
        self, request: GraphQLRequest, single_result: bool, *, raw: bool = False
    ) -> AsyncIterator[GraphQLResponse | JSONObject]:
        transport = self.transport
        operation_id = transport._id_factory()
        queue: asyncio.Queue[StreamMessage | Exception] = asyncio.Queue()
        self._queues[operation_id] = queue
        attempt = 0
        reservation: Reservation | None = None
        try:
            while True:
                try:
                    reservation = await self._connect()
                    reservation.start(operation_id)
                    await self._post(reservation, request, operation_id)
                except _DROPS as error:
                    if reservation is not None and reservation.is_running(operation_id):
                        reservation.stop(operation_id)
                    attempt += 1
                    await transport._backoff(attempt, error)
                    continue
                while True:
                    item = await queue.get()
                    if isinstance(item, Exception):
                        break
                    if isinstance(item, Complete):
                        return
                    attempt = 0
                    yield (
                        cast(JSONObject, item.payload)
                        if raw
                        else _response(transport.url, item.payload)
                    )
                # The stream dropped: a query may have run, a subscription starts again.
                if single_result or transport.closed:
                    raise ConnectionFailedError(transport.url, str(item))
                attempt += 1
                await transport._backoff(attempt, item)
        finally:
            del self._queues[operation_id]
            if reservation is not None and reservation.is_running(operation_id):
                reservation.stop(operation_id)
                with contextlib.suppress(aiohttp.ClientError, TransportError):
                    await self._delete(reservation, operation_id)

    async def _post(
        self, reservation: Reservation, request: GraphQLRequest, operation_id: str
    ) -> None:
        transport = self.transport
        headers = await transport._headers(
            Accept=f"{MediaType.JSON}",
            **{"Content-Type": _JSON_CONTENT_TYPE, TOKEN_HEADER: reservation.token},
        )
        body = transport._body(request, operation_id)
        async with transport._session().post(transport.url, data=body, headers=headers) as reply:
            if reply.status == 202:
                return
            text = await reply.text()
        reservation.stop(operation_id)
        if reply.status in (400, 422):
            try:
                refused = GraphQLResponse.from_json(text)
            except ResponseFormatError:
                pass
            else:
                if refused.errors:
                    raise SubscriptionError(refused.errors)
        if reply.status == 404:
            raise _StreamDropped("the reservation is gone")
        raise HTTPStatusError(transport.url, reply.status, text, dict(reply.headers))

    async def _delete(self, reservation: Reservation, operation_id: str) -> None:
        transport = self.transport
        headers = await transport._headers(**{TOKEN_HEADER: reservation.token})
        params = {OPERATION_ID_KEY: operation_id}
        async with transport._session().delete(transport.url, headers=headers, params=params):
            pass

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _check_stream(response: aiohttp.ClientResponse) -> None:
    """Only 200 with `text/event-stream` opens a stream (WHATWG); anything else is an error.

    A GraphQL response carrying request errors (graphql-sse's 400 for a document that does
    not parse) becomes `SubscriptionError`, as the WebSocket's `error` message does.
    """
    content_type = response.headers.get("Content-Type", "")
    if response.status == 200 and content_type.startswith(MediaType.EVENT_STREAM):
        return
    body = await response.read()
    text = body.decode("utf-8", errors="replace")
    if response.status in (400, 422) or response.status == 200:
        try:
            refused = GraphQLResponse.from_json(body)
        except ResponseFormatError:
            pass
        else:
            if refused.errors and not refused.data_present:
                raise SubscriptionError(refused.errors)
    raise HTTPStatusError(str(response.url), response.status, text, dict(response.headers))


async def _messages(
    response: aiohttp.ClientResponse, *, single_connection: bool
) -> AsyncIterator[StreamMessage]:
    parser = EventStreamParser()
    try:
        async for chunk in response.content.iter_any():
            for event in parser.feed(chunk):
                yield parse_message(event, single_connection=single_connection)
    except ProtocolError as error:
        raise InvalidResponseError(
            str(response.url), response.status, "", dict(response.headers), error.reason
        ) from None
    parser.close()


def _response(url: str, payload: Mapping[str, object]) -> GraphQLResponse:
    try:
        return GraphQLResponse.from_mapping(payload)
    except ResponseFormatError as error:
        raise InvalidResponseError(url, 200, str(payload), {}, str(error)) from None
