"""What every pub/sub does, checked on InMemoryPubSub and on RedisPubSub (a real Redis)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from clew.server.pubsub import (
    Overflow,
    PatternMessage,
    PubSub,
    SubscriberOverflow,
)

from .conftest import eventually


async def test_a_subscriber_receives_what_is_published_after_it_entered(
    pubsub: PubSub, channel: str
) -> None:
    await pubsub.publish(channel, {"n": 0})  # before anyone listens: nobody receives it
    async with pubsub.subscribe(channel) as first, pubsub.subscribe(channel) as second:
        for n in range(1, 4):
            await pubsub.publish(channel, {"n": n})
        for subscription in (first, second):
            received = [await anext(subscription) for _ in range(3)]
            assert received == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert pubsub.subscriber_count(channel) == 2
    assert pubsub.subscriber_count(channel) == 0
    assert channel not in pubsub.channels


async def test_other_channels_are_not_received(pubsub: PubSub, channel: str) -> None:
    async with pubsub.subscribe(channel) as subscription:
        await pubsub.publish(f"{channel}:other", "no")
        await pubsub.publish(channel, "yes")
        assert await anext(subscription) == "yes"


async def test_pattern_subscriptions_receive_matching_channels_with_their_name(
    pubsub: PubSub, channel: str
) -> None:
    async with pubsub.subscribe_pattern(f"{channel}:*") as rooms:
        assert pubsub.patterns == {f"{channel}:*"}
        await pubsub.publish(f"{channel}:a", 1)
        await pubsub.publish(f"{channel}x", 2)  # does not match
        await pubsub.publish(f"{channel}:b", 3)
        assert await anext(rooms) == PatternMessage(channel=f"{channel}:a", message=1)
        assert await anext(rooms) == PatternMessage(channel=f"{channel}:b", message=3)
    assert pubsub.patterns == frozenset()


async def test_a_subscription_is_an_async_iterator_that_ends_when_closed(
    pubsub: PubSub, channel: str
) -> None:
    subscription = pubsub.subscribe(channel)
    received: list[object] = []

    async def collect() -> None:
        async for message in subscription:  # the first read subscribes
            received.append(message)

    reader = asyncio.create_task(collect())
    await eventually(lambda: pubsub.subscriber_count(channel) == 1)
    while not received:  # the broker confirms asynchronously: publish until one arrives
        await pubsub.publish(channel, "a")
        await asyncio.sleep(0.02)
    await subscription.aclose()
    await asyncio.wait_for(reader, 10)  # the iteration ended
    assert set(received) == {"a"}
    assert pubsub.subscriber_count(channel) == 0
    with pytest.raises(RuntimeError, match="subscribe again"):
        await subscription.__aenter__()


async def test_closing_the_pubsub_ends_its_subscriptions(pubsub: PubSub, channel: str) -> None:
    async with pubsub.subscribe(channel) as subscription:
        reader = asyncio.create_task(anext(subscription, "ended"))
        await asyncio.sleep(0.01)
        await pubsub.aclose()
        assert await reader == "ended"
        assert subscription.closed
    # and it works again afterwards
    async with pubsub.subscribe(channel) as again:
        await pubsub.publish(channel, "back")
        assert await anext(again) == "back"


async def test_drop_oldest_keeps_the_newest_and_counts_the_dropped(
    pubsub: PubSub, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="clew.server.pubsub")
    async with (
        pubsub.subscribe(channel, queue_size=3, overflow=Overflow.DROP_OLDEST) as slow,
        pubsub.subscribe(channel, queue_size=3) as fast,
    ):
        received: list[object] = []
        for n in range(10):
            await pubsub.publish(channel, n)
            # The fast subscriber keeps up: it reads as soon as each message arrives.
            received.append(await anext(fast))
        assert received == list(range(10))
        await eventually(lambda: slow.dropped == 7)  # Redis delivers asynchronously
        assert slow.pending == 3
        assert [await anext(slow) for _ in range(3)] == [7, 8, 9]
        assert slow.dropped == 7
    # Seven drops, one log line for that subscriber.
    assert [r.getMessage() for r in caplog.records].count(
        f"A subscriber of {channel!r} reads too slowly; its oldest messages are dropped "
        "(queue bound 3)"
    ) == 1


async def test_overflow_error_ends_only_the_lagging_subscription(
    pubsub: PubSub, channel: str
) -> None:
    async with (
        pubsub.subscribe(channel, queue_size=2, overflow=Overflow.ERROR) as slow,
        pubsub.subscribe(channel, queue_size=2) as fast,
    ):
        for n in range(3):
            await pubsub.publish(channel, n)
            assert await anext(fast) == n
        await eventually(lambda: slow.closed)
        with pytest.raises(SubscriberOverflow, match="more than 2 messages behind") as raised:
            await anext(slow)
        assert raised.value.bound == 2
        assert slow.pending == 0  # its queue was freed at once
        assert pubsub.subscriber_count(channel) == 1


def test_the_default_overflow_policy_is_error(make_pubsub: Callable[..., PubSub]) -> None:
    pubsub = make_pubsub()
    assert pubsub.overflow is Overflow.ERROR
    assert pubsub.subscribe("x").overflow is Overflow.ERROR


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda p: p.subscribe("room:*"), ValueError),
        (lambda p: p.subscribe(""), ValueError),
        (lambda p: p.subscribe_pattern("room:[x"), ValueError),
        (lambda p: p.subscribe("x", queue_size=0), ValueError),
    ],
)
def test_bad_names_and_options_are_refused_at_once(
    make_pubsub: Callable[..., PubSub], call: Callable[[PubSub], object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        call(make_pubsub())


async def test_publishing_to_an_invalid_channel_is_refused(pubsub: PubSub) -> None:
    with pytest.raises(ValueError, match="subscribe_pattern"):
        await pubsub.publish("room:*", 1)


def test_queue_size_must_be_positive(make_pubsub: Callable[..., PubSub]) -> None:
    with pytest.raises(ValueError, match="queue_size"):
        make_pubsub(queue_size=0)
