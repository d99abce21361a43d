"""Pub/sub fan-out: in-process against Redis, and publish-to-receive latency across workers.

1. Fan-out (one process, no GraphQL): `--subscribers` subscribers (200) of one channel, and a
   publisher sending `--messages` messages with 16 publishes in flight. The clock runs from the
   first publish until every subscriber has received every message; the rate is messages per
   second (each one delivered to every subscriber) and deliveries per second. The same run on
   `InMemoryPubSub` and on `RedisPubSub` (a private redis-server on a free loopback port).
2. Latency (GraphQL, uvicorn workers): worker A and worker B share one Redis; a clew client
   subscribes over graphql-transport-ws on A and on B, then sends `--latency-messages`
   mutations to A one after the other. Each mutation publishes `time.monotonic_ns()` (one
   clock for every process of the machine); the client subtracts it from its own clock when
   the event arrives. p50 and p99 per path, beside one worker with the in-process pub/sub.

Every process started here is stopped by its PID.

    .venv/bin/python benchmarks/pubsub/bench_fanout.py [--messages 2000] [--subscribers 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, aclosing, contextmanager
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from clew.client import AIOHTTPClient  # noqa: E402
from clew.server.pubsub import InMemoryPubSub, Overflow, PubSub, RedisPubSub  # noqa: E402
from redis_server import RedisServer, free_port, running_redis  # noqa: E402

IN_FLIGHT = 16
SUBSCRIPTION = "subscription { stamps { seq sentNs } }"
MUTATION = "mutation M($seq: Int!) { stamp(seq: $seq) }"


# -- 1. fan-out --------------------------------------------------------------------------------


async def fan_out(pubsub: PubSub, subscribers: int, messages: int) -> tuple[float, int]:
    """Seconds until every subscriber received every message, and messages dropped (0)."""
    channel = "bench:fanout"
    done = asyncio.Event()
    remaining = subscribers
    subscriptions = [
        pubsub.subscribe(channel, queue_size=messages, overflow=Overflow.DROP_OLDEST)
        for _ in range(subscribers)
    ]
    for subscription in subscriptions:
        await subscription.__aenter__()

    async def consume(subscription: object) -> None:
        nonlocal remaining
        count = 0
        async for _message in subscription:  # type: ignore[attr-defined]
            count += 1
            if count == messages:
                break
        remaining -= 1
        if remaining == 0:
            done.set()

    consumers = [asyncio.create_task(consume(s)) for s in subscriptions]
    started = time.perf_counter()
    for first in range(0, messages, IN_FLIGHT):
        await asyncio.gather(
            *(
                pubsub.publish(channel, {"n": n})
                for n in range(first, min(first + IN_FLIGHT, messages))
            )
        )
    await asyncio.wait_for(done.wait(), 300)
    seconds = time.perf_counter() - started
    await asyncio.gather(*consumers)
    dropped = sum(s.dropped for s in subscriptions)
    for subscription in subscriptions:
        await subscription.aclose()
    return seconds, dropped


async def measure_fan_out(
    redis: RedisServer, subscribers: int, messages: int
) -> list[tuple[str, float, int]]:
    results = []
    for name, pubsub in (("in-process", InMemoryPubSub()), ("Redis", RedisPubSub(redis.url))):
        await pubsub.start()
        try:
            await fan_out(pubsub, subscribers, max(messages // 10, 10))  # warm-up
            best = min([await fan_out(pubsub, subscribers, messages) for _ in range(3)])
        finally:
            await pubsub.aclose()
        results.append((name, *best))
    return results


# -- 2. latency across workers -----------------------------------------------------------------


@contextmanager
def worker(redis_url: str | None) -> Iterator[int]:
    """One uvicorn worker of the bench app on a free port; stopped by PID."""
    port = free_port()
    env = {**os.environ}
    env.pop("BENCH_REDIS_URL", None)
    if redis_url:
        env["BENCH_REDIS_URL"] = redis_url
    command = [
        sys.executable, "-m", "uvicorn", "pubsub_app:make_app", "--factory",
        "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.post(f"http://127.0.0.1:{port}/", json={"query": "{ ok }"}) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no worker answered on port {port}")
            await asyncio.sleep(0.1)


async def latencies(
    publish_port: int, subscribe_ports: dict[str, int], count: int
) -> dict[str, list[float]]:
    """Publish-to-receive latencies (ms) per subscriber path."""
    received: dict[str, dict[int, float]] = {name: {} for name in subscribe_ports}
    warm = asyncio.Event()

    async def subscribe(name: str, port: int) -> None:
        async with AIOHTTPClient(f"http://127.0.0.1:{port}/") as client:
            stream = client.subscribe(SUBSCRIPTION)
            async with aclosing(stream):
                async for response in stream:
                    now = time.monotonic_ns()
                    assert response.data is not None, response
                    event = response.data["stamps"]
                    received[name][event["seq"]] = (now - int(event["sentNs"])) / 1e6
                    if event["seq"] < 0:
                        warm.set()

    tasks = [asyncio.create_task(subscribe(n, p)) for n, p in subscribe_ports.items()]
    try:
        async with AIOHTTPClient(f"http://127.0.0.1:{publish_port}/") as client:
            seq = -1
            while not all(any(s < 0 for s in got) for got in received.values()):
                await client.execute(MUTATION, {"seq": seq})  # warm-up until all listen
                seq -= 1
                await asyncio.sleep(0.05)
            for n in range(count):
                await client.execute(MUTATION, {"seq": n})
            deadline = time.monotonic() + 60
            while not all(count - 1 in got for got in received.values()):
                if time.monotonic() > deadline:
                    raise RuntimeError("events did not arrive")
                await asyncio.sleep(0.01)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {name: [got[n] for n in range(count) if n in got] for name, got in received.items()}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure_latency(redis: RedisServer, count: int) -> dict[str, list[float]]:
    with ExitStack() as stack:
        alone = stack.enter_context(worker(None))
        a = stack.enter_context(worker(redis.url))
        b = stack.enter_context(worker(redis.url))
        for port in (alone, a, b):
            await wait_ready(port)
        results = await latencies(alone, {"in-process, one worker": alone}, count)
        results.update(
            await latencies(
                a, {"Redis, same worker (A->A)": a, "Redis, other worker (A->B)": b}, count
            )
        )
        return results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--latency-messages", type=int, default=1000)
    args = parser.parse_args()
    with running_redis() as redis:
        fan = await measure_fan_out(redis, args.subscribers, args.messages)
        print(
            f"fan-out: {args.messages} messages to {args.subscribers} subscribers "
            "of one channel (best of 3)"
        )
        print(
            f"{'pub/sub':<12} {'seconds':>8} {'messages/s':>11} {'deliveries/s':>13} {'dropped':>8}"
        )
        for name, seconds, dropped in fan:
            rate = args.messages / seconds
            deliveries = rate * args.subscribers
            print(f"{name:<12} {seconds:>8.3f} {rate:>11,.0f} {deliveries:>13,.0f} {dropped:>8}")
        by_name = {name: seconds for name, seconds, _ in fan}
        print(f"Redis / in-process: {by_name['in-process'] / by_name['Redis']:.2f}x the rate")
        print()
        lat = await measure_latency(redis, args.latency_messages)
        print(f"publish-to-receive latency over {args.latency_messages} sequential mutations (ms)")
        print(f"{'path':<28} {'received':>8} {'p50':>7} {'p99':>7} {'max':>7}")
        failures = 0
        for name, values in lat.items():
            failures += args.latency_messages - len(values)
            print(
                f"{name:<28} {len(values):>8} {statistics.median(values):>7.2f}"
                f" {percentile(values, 0.99):>7.2f} {max(values):>7.2f}"
            )
    dropped = sum(d for _, _, d in fan)
    return 0 if failures == 0 and dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
