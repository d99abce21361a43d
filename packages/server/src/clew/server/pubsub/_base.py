"""The `PubSub` interface, and the local fan-out every implementation shares.

A pub/sub keeps this process' subscribers by channel and by pattern; an implementation only
says how a message reaches the process (`publish`) and what happens when a channel gains its
first local listener or loses its last (`_listen`, `_unlisten`). Delivery to the local
subscribers (`_deliver`, `_deliver_pattern`) is written once, here.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import cast

from ._channels import validate_channel, validate_pattern
from ._subscription import Overflow, PatternMessage, Subscription

__all__ = ["DEFAULT_QUEUE_SIZE", "ListenKey", "PubSub"]

#: Messages a subscriber may have received and not yet read, by default.
DEFAULT_QUEUE_SIZE = 1024

#: What a process listens to: (is it a pattern, the channel name or pattern).
ListenKey = tuple[bool, str]


class PubSub(ABC):
    """Publish messages to named channels; subscribe to channels or glob patterns.

    The app owns one: `GraphQL(pubsub=...)` starts it with the app's lifespan, closes it on
    shutdown, and hands it to resolvers as ``info.context["pubsub"]`` (also ``app.pubsub``).
    Delivery is at most once: a subscriber receives the messages published while it is
    subscribed, in publication order, unless its queue overflows (see `Overflow`).
    """

    def __init__(
        self,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        overflow: Overflow | str = Overflow.ERROR,
        logger: str | logging.Logger | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self.overflow = Overflow(overflow)
        self.logger = (
            logger
            if isinstance(logger, logging.Logger)
            else logging.getLogger(logger or "clew.server.pubsub")
        )
        self._listeners: dict[ListenKey, set[Subscription[object]]] = {}

    # -- the interface ---------------------------------------------------------------------

    @abstractmethod
    async def publish(self, channel: str, message: object) -> None:
        """Send `message` to every current subscriber of `channel`, in every process.

        Raises `PubSubUnavailable` when the broker cannot be reached.
        """

    def subscribe(
        self, channel: str, *, queue_size: int | None = None, overflow: Overflow | None = None
    ) -> Subscription[object]:
        """The messages published to `channel`; enter it (or read it) to start receiving.

        `queue_size` and `overflow` override the pub/sub's defaults for this subscriber.
        """
        return self._subscription(validate_channel(channel), False, queue_size, overflow)

    def subscribe_pattern(
        self, pattern: str, *, queue_size: int | None = None, overflow: Overflow | None = None
    ) -> Subscription[PatternMessage]:
        """Messages of the channels matching the glob `pattern` (``room:*``), with their channel."""
        subscription = self._subscription(validate_pattern(pattern), True, queue_size, overflow)
        # Pattern subscribers are kept beside channel subscribers; `_deliver_pattern` is the
        # one place that feeds them, always with a PatternMessage.
        return cast("Subscription[PatternMessage]", subscription)

    async def start(self) -> None:  # noqa: B027 - optional: a broker-less pub/sub has nothing to do
        """Get ready to deliver (connect to the broker); idempotent, and done on first use."""

    async def aclose(self) -> None:
        """End every subscription and release the broker connection (idempotent).

        The pub/sub can be used again afterwards: it starts anew on first use.
        """
        subscriptions = [s for listeners in self._listeners.values() for s in listeners]
        self._listeners.clear()
        for subscription in subscriptions:
            subscription._end()

    def subscriber_count(self, channel: str) -> int:
        """How many subscribers of this process listen to `channel` (patterns not counted)."""
        return len(self._listeners.get((False, channel), ()))

    @property
    def channels(self) -> frozenset[str]:
        """The channels this process listens to right now."""
        return frozenset(name for pattern, name in self._listeners if not pattern)

    @property
    def patterns(self) -> frozenset[str]:
        """The patterns this process listens to right now."""
        return frozenset(name for pattern, name in self._listeners if pattern)

    # -- for implementations ---------------------------------------------------------------

    async def _listen(self, key: ListenKey, first: bool) -> None:  # noqa: B027 - optional hook
        """A subscriber joined `key` (`first`: the first one in this process); return once it
        receives what is published from now on."""

    def _unlisten(self, key: ListenKey) -> None:  # noqa: B027 - optional hook
        """The last subscriber of `key` in this process left."""

    def _listening(self) -> Iterable[ListenKey]:
        return self._listeners.keys()

    def _deliver(self, channel: str, message: object) -> None:
        """Hand a message of `channel` to this process' subscribers of that channel."""
        for subscription in tuple(self._listeners.get((False, channel), ())):
            subscription._put(message)

    def _deliver_pattern(self, pattern: str, channel: str, message: object) -> None:
        """Hand a message of `channel` to this process' subscribers of `pattern`."""
        listeners = self._listeners.get((True, pattern))
        if listeners:
            wrapped = PatternMessage(channel=channel, message=message)
            for subscription in tuple(listeners):
                subscription._put(wrapped)

    # -- called by Subscription ------------------------------------------------------------

    async def _attach(self, subscription: Subscription[object]) -> None:
        await self.start()
        key = (subscription.pattern, subscription.name)
        listeners = self._listeners.setdefault(key, set())
        first = not listeners
        listeners.add(subscription)
        await self._listen(key, first)

    def _detach(self, subscription: Subscription[object]) -> None:
        key = (subscription.pattern, subscription.name)
        listeners = self._listeners.get(key)
        if listeners is None or subscription not in listeners:
            return
        listeners.discard(subscription)
        if not listeners:
            del self._listeners[key]
            self._unlisten(key)

    def _subscription(
        self, name: str, pattern: bool, queue_size: int | None, overflow: Overflow | None
    ) -> Subscription[object]:
        return Subscription(
            self,
            name,
            pattern=pattern,
            bound=self.queue_size if queue_size is None else queue_size,
            overflow=self.overflow if overflow is None else overflow,
        )
