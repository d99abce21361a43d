"""RedisPubSub against a real redis-server: one connection, reference counting, outages."""

from __future__ import annotations

import asyncio
import logging

import orjson
import pytest
from redis.asyncio import Redis

from clew.server.pubsub import Overflow, PubSubUnavailable, RedisPubSub, SubscriberOverflow
from redis_server import RedisServer, free_port, running_redis

from .conftest import eventually


def subscribed_channels(server: RedisServer, prefix: str) -> set[str]:
    reply = server.command("PUBSUB", "CHANNELS", f"{prefix}*")
    assert isinstance(reply, list)
    return set(reply)


def redis_clients(server: RedisServer) -> int:
    reply = server.command("CLIENT", "LIST")
    assert isinstance(reply, str)
    return sum(1 for line in reply.splitlines() if "cmd=client|list" not in line and line)


async def publish_many(url: str, channel: str, messages: range) -> None:
    """Publish fast (pipelined, as JSON like the codec) from another client."""
    client = Redis.from_url(url)
    try:
        for start in range(messages.start, messages.stop, 500):
            async with client.pipeline(transaction=False) as pipe:
                for n in range(start, min(start + 500, messages.stop)):
                    pipe.publish(channel, orjson.dumps(n))
                await pipe.execute()
    finally:
        await client.aclose()


async def test_one_connection_carries_every_subscription_and_channels_are_counted(
    redis_server: RedisServer, channel: str
) -> None:
    pubsub = RedisPubSub(redis_server.url)
    before = redis_clients(redis_server)
    try:
        first = await pubsub.subscribe(f"{channel}:a").__aenter__()
        second = await pubsub.subscribe(f"{channel}:a").__aenter__()
        others = [await pubsub.subscribe(f"{channel}:{n}").__aenter__() for n in range(20)]
        pattern = await pubsub.subscribe_pattern(f"{channel}:p*").__aenter__()
        # Entering waits for Redis' confirmation, so Redis already knows every channel.
        expected = {f"{channel}:a", *(f"{channel}:{n}" for n in range(20))}
        assert subscribed_channels(redis_server, channel) == expected
        # 23 subscribers, one subscriber connection (and one pooled publisher at most).
        assert redis_clients(redis_server) - before == 1
        await first.aclose()  # another local subscriber still listens to :a
        await asyncio.sleep(0.1)
        assert f"{channel}:a" in subscribed_channels(redis_server, channel)
        await second.aclose()
        await eventually(lambda: f"{channel}:a" not in subscribed_channels(redis_server, channel))
        for subscription in others:
            await subscription.aclose()
        await pattern.aclose()
        await eventually(lambda: subscribed_channels(redis_server, channel) == set())
        await eventually(lambda: redis_server.command("PUBSUB", "NUMPAT") == 0)
    finally:
        await pubsub.aclose()
    await eventually(lambda: redis_clients(redis_server) == before)


async def test_a_thousand_subscribe_unsubscribe_cycles_leave_nothing_behind(
    redis_server: RedisServer, channel: str
) -> None:
    pubsub = RedisPubSub(redis_server.url)
    await pubsub.start()
    await eventually(lambda: pubsub.connected)  # its two tasks: reading and writing
    tasks_before = asyncio.all_tasks()
    try:
        for cycle in range(1000):
            name = f"{channel}:{cycle % 7}"
            async with pubsub.subscribe(name), pubsub.subscribe_pattern(f"{name}:*"):
                pass

        # A burst of overlapping subscribers, some closed before Redis confirmed them.
        async def cycle(n: int) -> None:
            async with pubsub.subscribe(f"{channel}:{n % 5}"):
                await asyncio.sleep(0)

        await asyncio.gather(*(cycle(n) for n in range(200)))
        await eventually(lambda: subscribed_channels(redis_server, channel) == set())
        assert redis_server.command("PUBSUB", "NUMPAT") == 0
        assert pubsub.channels == frozenset()
        assert pubsub.patterns == frozenset()
        assert pubsub._listeners == {}
        assert pubsub._waiters == {}
        assert pubsub._unanswered == {}
        assert asyncio.all_tasks() == tasks_before
        # Still working afterwards.
        async with pubsub.subscribe(channel) as subscription:
            await pubsub.publish(channel, "ok")
            assert await anext(subscription) == "ok"
    finally:
        await pubsub.aclose()
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_slow_consumer_stays_at_its_bound_while_a_fast_one_gets_all_10000(
    redis_server: RedisServer, channel: str
) -> None:
    bound = 100
    pubsub = RedisPubSub(redis_server.url, queue_size=bound)
    total = 10_000
    try:
        async with (
            pubsub.subscribe(channel, overflow=Overflow.DROP_OLDEST) as slow,
            pubsub.subscribe(channel, overflow=Overflow.ERROR) as ending,
            pubsub.subscribe(channel) as fast,
        ):
            received: list[object] = []

            async def read_fast() -> None:
                async for message in fast:
                    received.append(message)
                    if len(received) == total:
                        return

            reader = asyncio.create_task(read_fast())
            started = asyncio.get_running_loop().time()
            highest_pending = 0

            async def watch_slow() -> None:
                nonlocal highest_pending
                while not reader.done():
                    highest_pending = max(highest_pending, slow.pending)
                    await asyncio.sleep(0.005)

            watcher = asyncio.create_task(watch_slow())
            await publish_many(redis_server.url, channel, range(total))
            await asyncio.wait_for(reader, 60)
            await watcher
            assert received == list(range(total))  # in order, none lost, none duplicated
            # The slow one read nothing for 5 s: its queue never grew past the bound.
            await asyncio.sleep(max(0.0, 5 - (asyncio.get_running_loop().time() - started)))
            assert highest_pending <= bound
            assert slow.pending == bound
            assert slow.dropped == total - bound
            assert [await anext(slow) for _ in range(bound)] == list(range(total - bound, total))
            # The one with the error policy was ended at its bound, and freed.
            assert ending.closed
            assert ending.pending == 0
            with pytest.raises(SubscriberOverflow):
                await anext(ending)
    finally:
        await pubsub.aclose()


async def test_redis_restarted_mid_stream_resumes_delivery_and_publish_fails_meanwhile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="clew.server.pubsub")
    with running_redis() as server:
        pubsub = RedisPubSub(server.url, reconnect_backoff=(0.05, 0.2))
        try:
            async with (
                pubsub.subscribe("chat") as subscription,
                pubsub.subscribe_pattern("room:*") as rooms,
            ):
                for n in range(5):
                    await pubsub.publish("chat", n)
                await pubsub.publish("room:1", "before")
                server.kill()
                await eventually(lambda: not pubsub.connected)
                with pytest.raises(PubSubUnavailable, match="unreachable"):
                    await pubsub.publish("chat", "lost")
                server.restart()
                await eventually(lambda: pubsub.connected)
                await eventually(lambda: server.command("PUBSUB", "CHANNELS") == ["chat"])
                await eventually(lambda: server.command("PUBSUB", "NUMPAT") == 1)
                for n in range(5, 10):
                    await pubsub.publish("chat", n)
                await pubsub.publish("room:2", "after")
                received = [await asyncio.wait_for(anext(subscription), 10) for _ in range(10)]
                assert received == list(range(10))
                assert not subscription.closed
                assert [(await anext(rooms)).message for _ in range(2)] == ["before", "after"]
        finally:
            await pubsub.aclose()
    messages = [record.getMessage() for record in caplog.records]
    assert sum("unreachable; reconnecting" in m or "unreachable (" in m for m in messages) == 1
    assert any("is back; resubscribed" in m for m in messages)


async def test_publish_without_redis_raises_pubsub_unavailable_quickly() -> None:
    pubsub = RedisPubSub(f"redis://127.0.0.1:{free_port()}/0", reconnect_backoff=(0.05, 0.1))
    try:
        with pytest.raises(PubSubUnavailable, match="unreachable"):
            await asyncio.wait_for(pubsub.publish("chat", 1), 10)
        # A subscriber can still be created; it goes live when Redis appears.
        async with pubsub.subscribe("chat") as subscription:
            assert not pubsub.connected
            assert not subscription.closed
    finally:
        await pubsub.aclose()


async def test_an_undecodable_message_is_dropped_and_logged_not_fatal(
    redis_server: RedisServer, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    pubsub = RedisPubSub(redis_server.url)
    try:
        async with pubsub.subscribe(channel) as subscription:
            redis_server.command("PUBLISH", channel, "not json {")
            await pubsub.publish(channel, {"fine": True})
            assert await anext(subscription) == {"fine": True}
    finally:
        await pubsub.aclose()
    assert any("undecodable" in record.getMessage() for record in caplog.records)


async def test_what_json_cannot_hold_is_refused_at_publish(redis_server: RedisServer) -> None:
    pubsub = RedisPubSub(redis_server.url)
    try:
        with pytest.raises(TypeError):
            await pubsub.publish("chat", object())
    finally:
        await pubsub.aclose()


async def test_a_custom_codec_is_used_both_ways(redis_server: RedisServer, channel: str) -> None:
    class Upper:
        def encode(self, message: object, /) -> bytes:
            return str(message).upper().encode()

        def decode(self, data: bytes, /) -> object:
            return f"<{data.decode()}>"

    pubsub = RedisPubSub(redis_server.url, codec=Upper())
    try:
        async with pubsub.subscribe(channel) as subscription:
            await pubsub.publish(channel, "hi")
            assert await anext(subscription) == "<HI>"
    finally:
        await pubsub.aclose()


async def test_a_silent_connection_is_probed_and_kept(
    redis_server: RedisServer, channel: str
) -> None:
    pubsub = RedisPubSub(redis_server.url, health_check_interval=0.05)
    try:
        async with pubsub.subscribe(channel) as subscription:
            await asyncio.sleep(0.5)  # ten probe intervals without a message
            assert pubsub.connected
            await pubsub.publish(channel, 1)
            assert await anext(subscription) == 1
    finally:
        await pubsub.aclose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reconnect_backoff": (0, 1)}, "reconnect_backoff"),
        ({"reconnect_backoff": (2, 1)}, "reconnect_backoff"),
        ({"health_check_interval": 0}, "positive"),
        ({"timeout": -1}, "positive"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisPubSub("redis://127.0.0.1:6379/0", **options)  # type: ignore[arg-type]


def test_a_malformed_url_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="redis://"):
        RedisPubSub("http://example.invalid")
