"""The app the pub/sub benchmark serves: a mutation that publishes a timestamp, a subscription.

`BENCH_REDIS_URL` set: the app's pub/sub is a `RedisPubSub` on it; unset: the in-process one.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping
from typing import Protocol, cast

from clew.server import GraphQL
from clew.server.pubsub import InMemoryPubSub, PubSub, RedisPubSub

SDL = """
type Query { ok: Boolean! }
type Mutation { stamp(seq: Int!): Boolean! }
type Subscription { stamps: Stamp! }
type Stamp { seq: Int! sentNs: String! }
"""
CHANNEL = "bench:stamps"


class _Info(Protocol):
    @property
    def context(self) -> Mapping[str, object]: ...


def _pubsub(info: _Info) -> PubSub:
    return cast(PubSub, info.context["pubsub"])


async def stamp(_root: object, info: _Info, seq: int) -> bool:
    # CLOCK_MONOTONIC is one clock for every process of the machine: the client compares it.
    await _pubsub(info).publish(CHANNEL, {"seq": seq, "sentNs": str(time.monotonic_ns())})
    return True


def stamps(_root: object, info: _Info) -> AsyncIterator[object]:
    return _pubsub(info).subscribe(CHANNEL)


def make_app() -> GraphQL:
    url = os.environ.get("BENCH_REDIS_URL")
    pubsub: PubSub = RedisPubSub(url) if url else InMemoryPubSub()
    return GraphQL.from_sdl(
        SDL,
        {
            "Query": {"ok": lambda *_: True},
            "Mutation": {"stamp": stamp},
            "Subscription": {"stamps": stamps},
        },
        pubsub=pubsub,
    )
