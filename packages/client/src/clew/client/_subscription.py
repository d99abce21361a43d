"""One operation on the shared WebSocket, as the async iterator a caller holds.

The socket outlives any one operation and an operation outlives any one socket (it is
resubscribed after a reconnect), so the state the transport keeps (`Operation`) is separate from
the handle the caller iterates (`Subscription`). Dropping, closing or cancelling the handle
stops that operation only: the transport sends `complete` (or legacy `stop`) for its id.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from types import TracebackType
from typing import Final, Protocol, TypeAlias, final

from clew.protocol import JSONObject, SubscribePayload
from clew.protocol.http import GraphQLResponse
from clew.protocol.incremental import IncrementalMerger

__all__ = ["Operation", "OperationOwner", "Subscription"]


@final
class _End:
    """The marker queued when the server completed the operation."""


_END: Final = _End()

#: What an operation queues: a result (see `Operation._items`), the error that ended it, or the end.
Item: TypeAlias = "GraphQLResponse | JSONObject | BaseException | _End"


class Operation:
    """The transport's record of one operation: its id, its request and its undelivered results.

    `sent_on` is the number of the connection the operation was last sent on, so the transport
    knows which operations to (re)send after each `connection_ack`.
    """

    __slots__ = (
        "_items",
        "_waiter",
        "ended",
        "id",
        "merger",
        "payload",
        "resubscriptions",
        "sent_on",
        "single_result",
    )

    def __init__(
        self,
        operation_id: str,
        payload: SubscribePayload,
        *,
        single_result: bool,
        incremental: bool = False,
    ) -> None:
        self.id = operation_id
        self.payload = payload
        #: Incremental delivery: each result is merged into the ones before it (@defer/@stream).
        self.merger = IncrementalMerger() if incremental else None
        #: A query or mutation: never re-sent after a drop, since it might run twice.
        self.single_result = single_result
        self.sent_on: int | None = None
        #: How many times the operation was sent again on a new socket after a drop.
        self.resubscriptions = 0
        #: No more items will be queued (completed, failed or stopped).
        self.ended = False
        #: Results, each validated: a `GraphQLResponse`, or a body of data alone kept as it
        #: came (`data_alone`: most results, never made into an object nobody reads).
        self._items: deque[Item] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def push(self, response: GraphQLResponse | JSONObject) -> None:
        """Queue one result for the caller (`_put`, inlined: one call per result)."""
        if not self.ended:
            self._items.append(response)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def finish(self) -> None:
        """The operation is over; the caller's iteration ends after the queued results."""
        if not self.ended:
            self.ended = True
            self._put(_END)

    def fail(self, error: BaseException) -> None:
        """The operation failed; the caller gets `error` after the queued results."""
        if not self.ended:
            self.ended = True
            self._put(error)

    def _put(self, item: Item) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Item:
        """The next queued item, waiting for one if needed."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class OperationOwner(Protocol):
    """The transport side of a `Subscription`: starting and stopping its operation."""

    def start(self, operation: Operation) -> None:
        """Register `operation` and send it as soon as the connection allows."""
        ...

    def stop(self, operation: Operation) -> None:
        """Forget `operation` and tell the server to stop it (no-op once it has ended)."""
        ...


class Subscription:
    """The results of one operation on the shared WebSocket, as an async iterator.

    The operation is sent on the first `__anext__` (so creating one costs nothing). It stops
    — `complete`/`stop` is sent for its id only — when the caller calls `aclose()`, leaves an
    ``async with`` block, breaks out of ``async for`` over an unnamed iterator (the handle is
    dropped), or is cancelled while waiting for a result. A result with GraphQL `errors` is
    yielded like any other (the client's `raise_on_errors` turns it into an exception); an
    `error` message raises `SubscriptionError`; a socket that closed for good raises
    `WebSocketClosedError`.
    """

    __slots__ = ("__weakref__", "_closed", "_operation", "_owner", "_started")

    def __init__(self, owner: OperationOwner, operation: Operation) -> None:
        self._owner = owner
        self._operation = operation
        self._started = False
        self._closed = False

    @property
    def id(self) -> str:
        """The operation id, unique within the client and kept across reconnects."""
        return self._operation.id

    @property
    def resubscriptions(self) -> int:
        """How many times the operation was re-sent after a reconnect, restarting its results.

        Compare it between two results to tell a restarted stream from a continued one; the
        `on_resubscribe` WebSocket option calls back at the moment it happens.
        """
        return self._operation.resubscriptions

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> GraphQLResponse:
        if self._closed:
            raise StopAsyncIteration
        operation = self._operation
        if not self._started:
            self._started = True
            self._owner.start(operation)
        # Results arrive in batches (the reader queues every frame already received before
        # this task runs): most calls find one queued and never wait.
        items = operation._items
        if items:
            item = items.popleft()
        else:
            try:
                item = await operation.get()
            except asyncio.CancelledError:
                # The consumer was cancelled: nobody reads further results, stop the operation.
                self._stop()
                raise
        if type(item) is GraphQLResponse:
            return item
        if isinstance(item, dict):
            return GraphQLResponse.from_mapping(item)
        if isinstance(item, _End):
            self._closed = True
            raise StopAsyncIteration
        self._closed = True
        raise item

    def poll(self) -> GraphQLResponse | JSONObject | None:
        """The next result if one is queued, without a coroutine (a body of data alone as it
        came); None otherwise, and then `__anext__` decides (it waits, starts the operation,
        ends or raises)."""
        if self._started and not self._closed:
            items = self._operation._items
            if items:
                kind = type(items[0])
                if kind is dict or kind is GraphQLResponse:
                    return items.popleft()  # type: ignore[return-value]  # tested just above
        return None

    async def aclose(self) -> None:
        """Stop the operation now; a no-op once it has ended."""
        self._stop()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            self._owner.stop(self._operation)

    def __del__(self) -> None:
        # `break` out of `async for` over an unnamed iterator drops the last reference here.
        if not self._closed and self._started and not self._operation.ended:
            with contextlib.suppress(RuntimeError):  # the loop is closed: so is the socket
                self._owner.stop(self._operation)
