"""clew.server.pubsub: publish/subscribe for subscription resolvers, in-process or on Redis.

The app owns one pub/sub (`GraphQL(pubsub=...)`, `InMemoryPubSub()` by default) and hands it
to resolvers as ``info.context["pubsub"]``. `RedisPubSub` needs ``pip install "clew[redis]"``;
it is imported on first use, so this package works without redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import DEFAULT_QUEUE_SIZE, PubSub
from ._channels import MAX_NAME_LENGTH, validate_channel, validate_pattern
from ._codec import Codec, JSONCodec
from ._memory import InMemoryPubSub
from ._subscription import (
    Overflow,
    PatternMessage,
    PubSubUnavailable,
    SubscriberOverflow,
    Subscription,
)

if TYPE_CHECKING:
    from ._redis import RedisPubSub

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "MAX_NAME_LENGTH",
    "Codec",
    "InMemoryPubSub",
    "JSONCodec",
    "Overflow",
    "PatternMessage",
    "PubSub",
    "PubSubUnavailable",
    "RedisPubSub",
    "SubscriberOverflow",
    "Subscription",
    "validate_channel",
    "validate_pattern",
]


def __getattr__(name: str) -> object:
    # RedisPubSub pulls in redis-py, which only the `redis` extra installs.
    if name == "RedisPubSub":
        try:
            from ._redis import RedisPubSub  # noqa: PLC0415 - only when asked for
        except ImportError as error:
            raise ImportError(
                f"RedisPubSub needs redis-py ({error.name} is missing): "
                'pip install "clew[server,redis]"'
            ) from error
        return RedisPubSub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
