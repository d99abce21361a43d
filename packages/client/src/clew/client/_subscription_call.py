"""What `AIOHTTPBackend.execute_subscription` returns: awaitable as in qlient, iterable as in clew.

``response = await backend.execute_subscription(request)`` gives qlient's `GraphQLResponse`,
which iterates the events; ``async for r in backend.execute_subscription(request)`` iterates
them directly. Either way each event is a `GraphQLResponse` carrying the request, and ending
the stream (completion, an error, or `aclose()`) runs the backend's clean-up once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import final

from ._messages import GraphQLResponse
from ._subscription import Subscription
from ._types import OperationStream

__all__ = ["SubscriptionCall"]


@final
class SubscriptionCall:
    """One subscription: ``await`` it for qlient's response, or iterate it directly.

    `on_end` (a dedicated socket's close, say) runs once when the stream ends for any reason.
    """

    __slots__ = ("_ended", "_on_end", "_request", "_stream")

    def __init__(
        self,
        request: object,
        stream: OperationStream,
        on_end: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._request = request
        self._stream = stream
        self._on_end = on_end
        self._ended = False

    @property
    def request(self) -> object:
        """The request whose events this stream carries."""
        return self._request

    @property
    def resubscriptions(self) -> int:
        """How many times the operation was re-sent after a reconnect, restarting its events.

        0 for a transport that does not resubscribe (or does not say).
        """
        count = getattr(self._stream, "resubscriptions", 0)
        return count if isinstance(count, int) else 0

    def __await__(self) -> Generator[None, None, GraphQLResponse]:
        return self._response().__await__()

    async def _response(self) -> GraphQLResponse:
        return GraphQLResponse(self._request, self)

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        return self

    async def __anext__(self) -> GraphQLResponse:
        stream = self._stream
        if type(stream) is Subscription:  # results arrive in batches: most are queued already
            ready = stream.poll()
            if ready is not None:
                return GraphQLResponse(self._request, ready)
        try:
            result = await stream.__anext__()
        except (StopAsyncIteration, Exception):
            await self._end()
            raise
        return GraphQLResponse(self._request, result)

    async def aclose(self) -> None:
        """Stop the operation (sends `complete`/`stop`); a no-op once the stream has ended."""
        try:
            await self._stream.aclose()
        finally:
            await self._end()

    async def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self._on_end is not None:
            await self._on_end()
