"""`RedisPubSub`: subscriptions shared by every worker and host through one Redis.

Theory of operation. A process keeps one connection to Redis in subscribe mode for all its
subscribers, owned by one background task (`_run`), plus a small pool for PUBLISH. A channel
or pattern is subscribed on Redis while at least one local subscriber listens to it: the first
one queues SUBSCRIBE, the last one to leave queues UNSUBSCRIBE (a writer task beside the reader
sends them, so leaving never waits on the network). Redis answers each SUBSCRIBE in order, so
counting the ones still unanswered per name tells a new subscriber when it is live.

When the connection fails the task forgets what was in flight, waits (exponential backoff with
jitter), reconnects, and subscribes again to everything listened to at that moment; the
subscribers themselves never notice, apart from the messages published while Redis was away
(Redis pub/sub is at most once). A connection that stays silent is probed with PING, and one
that does not answer is treated as failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ._base import DEFAULT_QUEUE_SIZE, ListenKey, PubSub
from ._channels import validate_channel
from ._codec import Codec, JSONCodec
from ._subscription import Overflow, PubSubUnavailable

__all__ = ["RedisPubSub"]

#: Errors that mean "Redis is not reachable right now", as opposed to a misuse.
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_SUBSCRIBE = {False: "SUBSCRIBE", True: "PSUBSCRIBE"}
_UNSUBSCRIBE = {False: "UNSUBSCRIBE", True: "PUNSUBSCRIBE"}


class RedisPubSub(PubSub):
    """A pub/sub on Redis (redis-py's asyncio client; ``pip install "clew[redis]"``).

    ``RedisPubSub("redis://127.0.0.1:6379/0")``. Messages are encoded with `codec` (JSON by
    default), so a subscriber receives a decoded copy. During an outage `publish` raises
    `PubSubUnavailable` while subscribers stay subscribed; delivery resumes by itself once
    Redis is back. `reconnect_backoff` is the (first, longest) wait between attempts, in
    seconds; `health_check_interval` how long the subscriber connection may stay silent before
    it is probed with PING.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        codec: Codec | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        overflow: Overflow | str = Overflow.ERROR,
        reconnect_backoff: tuple[float, float] = (0.05, 5.0),
        health_check_interval: float = 15.0,
        timeout: float = 5.0,
        logger: str | logging.Logger | None = None,
    ) -> None:
        super().__init__(queue_size=queue_size, overflow=overflow, logger=logger)
        first, longest = reconnect_backoff
        if not 0 < first <= longest:
            raise ValueError("reconnect_backoff is (first, longest) with 0 < first <= longest")
        if health_check_interval <= 0 or timeout <= 0:
            raise ValueError("health_check_interval and timeout must be positive")
        self.url = url
        self.codec: Codec = codec if codec is not None else JSONCodec()
        self._backoff = (first, longest)
        self._health_check_interval = health_check_interval
        self._timeout = timeout
        # Parsed now, so a malformed URL fails at construction rather than on first use.
        options = ConnectionPool.from_url(url).connection_kwargs
        self._where = f"{options.get('host', '?')}:{options.get('port', '?')}"
        self._publisher: Redis | None = None
        self._subscriber_pool: ConnectionPool | None = None
        self._runner: asyncio.Task[None] | None = None
        # Set while the subscriber connection is up; commands for it wait in `_commands`.
        self._connected = False
        self._commands: deque[tuple[str, ...]] = deque()
        self._command_ready: asyncio.Event | None = None
        # Set once the first connection attempt since `start` succeeded or failed: until then
        # a new subscriber waits, so one created right after start is live when entered.
        self._settled: asyncio.Event | None = None
        # What was subscribed on the current connection (and not unsubscribed since).
        self._live: set[ListenKey] = set()
        # SUBSCRIBEs sent and not yet answered, and who waits for them, by name.
        self._unanswered: dict[ListenKey, int] = {}
        self._waiters: dict[ListenKey, list[asyncio.Future[None]]] = {}

    @property
    def connected(self) -> bool:
        """True while the subscriber connection to Redis is up."""
        return self._connected

    async def start(self) -> None:
        """Start the connection task (it connects in the background, retrying until closed)."""
        if self._runner is not None and not self._runner.done():
            return
        self._publisher = Redis(
            connection_pool=ConnectionPool.from_url(
                self.url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                # One retry reconnects a pooled connection that Redis closed (a restart); a
                # second failure means Redis is away, and publish says so at once.
                retry=Retry(NoBackoff(), 1),
                protocol=2,
            )
        )
        # Its connections block on reads, so it has no socket timeout (PING probes instead).
        # RESP2: pub/sub messages are plain replies there, whatever the library's default.
        self._subscriber_pool = ConnectionPool.from_url(
            self.url,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 0),
            protocol=2,
        )
        self._command_ready = asyncio.Event()
        self._settled = asyncio.Event()
        self._runner = asyncio.create_task(self._run(), name="clew RedisPubSub connection")

    async def aclose(self) -> None:
        """End every subscription, stop the connection task and close the connections."""
        await super().aclose()
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            try:
                await runner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.aclose(close_connection_pool=True)
        pool, self._subscriber_pool = self._subscriber_pool, None
        if pool is not None:
            await pool.disconnect()

    async def publish(self, channel: str, message: object) -> None:
        """Publish `message` to `channel` for every process; `PubSubUnavailable` on an outage."""
        validate_channel(channel)
        data = self.codec.encode(message)
        await self.start()
        publisher = self._publisher
        assert publisher is not None
        try:
            await publisher.publish(channel, data)
        except _UNREACHABLE as error:
            raise PubSubUnavailable(
                f"Cannot publish to {channel!r}: Redis at {self._where} is unreachable ({error})"
            ) from error

    # -- following the local subscribers ---------------------------------------------------

    async def _listen(self, key: ListenKey, first: bool) -> None:
        settled = self._settled
        assert settled is not None
        await settled.wait()
        if not self._connected:
            return  # subscribed on reconnection; nothing is delivered before then anyway
        if key not in self._live:
            self._send_subscribe([key])
        if key not in self._unanswered:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        await waiter

    def _unlisten(self, key: ListenKey) -> None:
        if key in self._live:
            self._live.discard(key)
            self._queue_command(_UNSUBSCRIBE[key[0]], key[1])

    def _send_subscribe(self, keys: Sequence[ListenKey]) -> None:
        for is_pattern in (False, True):
            names = [name for pattern, name in keys if pattern is is_pattern]
            if names:
                self._queue_command(_SUBSCRIBE[is_pattern], *names)
        for key in keys:
            self._live.add(key)
            self._unanswered[key] = self._unanswered.get(key, 0) + 1

    def _queue_command(self, *command: str) -> None:
        self._commands.append(command)
        if self._command_ready is not None:
            self._command_ready.set()

    def _answered(self, key: ListenKey) -> None:
        left = self._unanswered.get(key, 0) - 1
        if left > 0:
            self._unanswered[key] = left
            return
        self._unanswered.pop(key, None)
        for waiter in self._waiters.pop(key, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _disconnected(self) -> None:
        # Whatever was in flight is moot: the next connection subscribes from scratch.
        self._connected = False
        if self._command_ready is not None:
            self._command_ready.set()  # so the writer sees that it must stop
        self._commands.clear()
        self._live.clear()
        self._unanswered.clear()
        waiters = [w for pending in self._waiters.values() for w in pending]
        self._waiters.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- the connection task ---------------------------------------------------------------

    async def _run(self) -> None:
        first, longest = self._backoff
        delay = first
        outage = False
        pool, settled = self._subscriber_pool, self._settled
        assert pool is not None
        assert settled is not None
        while True:
            connection = pool.make_connection()  # type: ignore[no-untyped-call]
            writer: asyncio.Task[None] | None = None
            try:
                await asyncio.wait_for(connection.connect(), self._timeout)
                # No await between these steps: a subscriber arriving later queues its own
                # SUBSCRIBE, one arriving earlier is in this snapshot.
                self._connected = True
                self._commands.clear()
                wanted = list(self._listening())
                if wanted:
                    self._send_subscribe(wanted)
                if outage:
                    self.logger.warning("Redis at %s is back; resubscribed", self._where)
                    outage = False
                settled.set()
                delay = first
                writer = asyncio.create_task(self._write(connection))
                await self._read(connection)
            except (*_UNREACHABLE, TimeoutError, RedisError) as error:
                settled.set()
                if not outage:
                    outage = True
                    self.logger.warning(
                        "Redis at %s is unreachable (%s); reconnecting", self._where, error
                    )
            finally:
                # The writer is stopped, not cancelled: redis-py may swallow a cancellation
                # that lands inside a send. Closing the socket ends a send that is stuck.
                self._disconnected()
                await connection.disconnect()
                if writer is not None:
                    await asyncio.gather(writer, return_exceptions=True)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, longest)

    async def _write(self, connection: AbstractConnection) -> None:
        ready = self._command_ready
        assert ready is not None
        while self._connected:
            if self._commands:
                await connection.send_command(*self._commands.popleft())
            else:
                ready.clear()
                await ready.wait()

    async def _read(self, connection: AbstractConnection) -> None:
        probing = False
        while True:
            reply = await connection.read_response(timeout=self._health_check_interval)
            if reply is None:
                if probing:
                    raise RedisTimeoutError("Redis did not answer PING")
                probing = True
                self._queue_command("PING")
                continue
            probing = False
            if isinstance(reply, list) and reply:
                self._handle(reply)
                # A burst of buffered messages is parsed without suspending; yielding after
                # each lets subscribers drain their queues, so a burst longer than a queue
                # does not overflow a subscriber that keeps up.
                await asyncio.sleep(0)

    def _handle(self, reply: list[object]) -> None:
        kind = reply[0]
        if kind == b"message" and len(reply) == 3:
            channel, data = _text(reply[1]), reply[2]
            decoded = self._decode(channel, data)
            if decoded is not _UNDECODABLE:
                self._deliver(channel, decoded)
        elif kind == b"pmessage" and len(reply) == 4:
            pattern, channel, data = _text(reply[1]), _text(reply[2]), reply[3]
            decoded = self._decode(channel, data)
            if decoded is not _UNDECODABLE:
                self._deliver_pattern(pattern, channel, decoded)
        elif kind in (b"subscribe", b"psubscribe") and len(reply) == 3:
            self._answered((kind == b"psubscribe", _text(reply[1])))

    def _decode(self, channel: str, data: object) -> object:
        try:
            if not isinstance(data, bytes):
                raise TypeError(f"expected bytes, got {type(data).__name__}")
            return self.codec.decode(data)
        except (ValueError, TypeError, RedisError) as error:
            # Someone else published to our channel; one bad message must not stop the others.
            self.logger.warning("Dropped an undecodable message on %r: %s", channel, error)
            return _UNDECODABLE


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


#: Marks a message the codec could not decode (None is a valid message).
_UNDECODABLE = object()
