"""`InMemoryPubSub`: the default, for one process; it needs nothing else running."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ._base import DEFAULT_QUEUE_SIZE, ListenKey, PubSub
from ._channels import pattern_matcher, validate_channel
from ._subscription import Overflow

__all__ = ["InMemoryPubSub"]


class InMemoryPubSub(PubSub):
    """Publish and subscribe within this process (one uvicorn worker).

    Messages are handed over as they are (not copied or encoded): every subscriber receives
    the very object published. With several workers or hosts use `RedisPubSub` instead.
    """

    def __init__(
        self,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        overflow: Overflow | str = Overflow.ERROR,
        logger: str | logging.Logger | None = None,
    ) -> None:
        super().__init__(queue_size=queue_size, overflow=overflow, logger=logger)
        self._matchers: dict[str, Callable[[str], bool]] = {}

    async def publish(self, channel: str, message: object) -> None:
        """Deliver `message` to this process' subscribers of `channel` before returning."""
        validate_channel(channel)
        self._deliver(channel, message)
        for pattern, matches in tuple(self._matchers.items()):
            if matches(channel):
                self._deliver_pattern(pattern, channel, message)

    async def _listen(self, key: ListenKey, first: bool) -> None:
        is_pattern, name = key
        if is_pattern and first:
            self._matchers[name] = pattern_matcher(name)

    def _unlisten(self, key: ListenKey) -> None:
        is_pattern, name = key
        if is_pattern:
            self._matchers.pop(name, None)

    async def aclose(self) -> None:
        await super().aclose()
        self._matchers.clear()
