"""One local subscriber: a bounded queue, its overflow policy, and the async iterator over it.

Every subscriber owns its queue, so a slow consumer never holds up the others on its channel:
delivery only appends to queues and never waits. When a queue is full the subscriber's
`Overflow` policy decides, and memory stays bounded either way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar, cast, final

from graphql import GraphQLError

if TYPE_CHECKING:
    from ._base import PubSub

__all__ = [
    "Overflow",
    "PatternMessage",
    "PubSubUnavailable",
    "SubscriberOverflow",
    "Subscription",
]

T = TypeVar("T")


class Overflow(StrEnum):
    """What happens when a subscriber's queue is full and another message arrives."""

    #: End the subscription: its next read raises `SubscriberOverflow` (a GraphQL error, so a
    #: GraphQL client is told and may resubscribe). The default: no consumer silently misses
    #: messages, and the lagging one stops costing memory and work at once.
    ERROR = "error"
    #: Drop the oldest queued message to make room; counted in `Subscription.dropped` and
    #: logged once per subscriber. For feeds where only recent messages matter.
    DROP_OLDEST = "drop_oldest"


class PubSubUnavailable(Exception):
    """The pub/sub's broker cannot be reached right now, so the message was not published.

    Raised by `publish` during an outage; in a resolver it becomes a (masked) GraphQL error.
    """


class SubscriberOverflow(GraphQLError):
    """The subscriber fell further behind than its queue holds, so its subscription ended."""

    def __init__(self, bound: int) -> None:
        super().__init__(
            f"The subscription fell more than {bound} messages behind and was ended; "
            "subscribe again to resume"
        )
        self.bound = bound


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PatternMessage:
    """A message received through a pattern subscription, with the channel it was sent to."""

    channel: str
    message: object


@final
class Subscription(Generic[T]):
    """Messages of one channel (or pattern) from the moment it is entered, until it is closed.

    Use it as ``async with pubsub.subscribe(name) as messages: async for m in messages``, or
    return it from a subscription resolver (its first read subscribes, `aclose` unsubscribes).
    Entering waits until the broker confirms the subscription, so a message published after
    that is received. It ends (StopAsyncIteration) when closed or when its pub/sub closes.
    """

    __slots__ = (
        "_ended",
        "_error",
        "_logged",
        "_opened",
        "_owner",
        "_queue",
        "_waiter",
        "bound",
        "dropped",
        "name",
        "overflow",
        "pattern",
    )

    def __init__(
        self, owner: PubSub, name: str, *, pattern: bool, bound: int, overflow: Overflow
    ) -> None:
        if bound < 1:
            raise ValueError("A subscriber's queue holds at least one message")
        self._owner = owner
        #: The channel name, or the pattern when `pattern` is true.
        self.name = name
        self.pattern = pattern
        #: How many messages the queue holds at most.
        self.bound = bound
        self.overflow = Overflow(overflow)
        #: Messages dropped to make room (`Overflow.DROP_OLDEST` only).
        self.dropped = 0
        self._queue: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._opened = False
        self._ended = False
        self._error: SubscriberOverflow | None = None
        self._logged = False

    @property
    def pending(self) -> int:
        """Messages received and not yet read (never more than `bound`)."""
        return len(self._queue)

    @property
    def closed(self) -> bool:
        """True once the subscription no longer receives messages."""
        return self._ended

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        if not self._opened:
            await self._open()
        while not self._queue:
            if self._error is not None:
                raise self._error
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    async def aclose(self) -> None:
        """Stop receiving and unsubscribe (idempotent); queued messages are discarded."""
        self._queue.clear()
        if not self._ended:
            self._end()
            if self._opened:
                self._owner._detach(cast("Subscription[object]", self))

    async def _open(self) -> None:
        if self._ended:
            raise RuntimeError("This subscription was closed; subscribe again")
        if self._opened:
            return
        self._opened = True
        try:
            await self._owner._attach(cast("Subscription[object]", self))
        except BaseException:
            await self.aclose()
            raise

    # -- called by the pub/sub -------------------------------------------------------------

    def _put(self, message: T) -> None:
        """Queue one message (never waits); apply the overflow policy when the queue is full."""
        if self._ended:
            return
        queue = self._queue
        if len(queue) >= self.bound:
            if self.overflow is Overflow.ERROR:
                self._error = SubscriberOverflow(self.bound)
                queue.clear()
                self._end()
                self._owner._detach(cast("Subscription[object]", self))
                return
            queue.popleft()
            self.dropped += 1
            if not self._logged:
                self._logged = True
                self._owner.logger.warning(
                    "A subscriber of %r reads too slowly; its oldest messages are dropped "
                    "(queue bound %d)",
                    self.name,
                    self.bound,
                )
        queue.append(message)
        self._wake()

    def _end(self) -> None:
        self._ended = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
