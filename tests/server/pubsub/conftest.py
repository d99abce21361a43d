"""Both pub/subs behind one fixture, so one suite checks that they behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from itertools import count

import pytest

from clew.server.pubsub import InMemoryPubSub, PubSub, RedisPubSub
from redis_server import RedisServer

_names = count()


@pytest.fixture
def channel() -> str:
    """A channel name no other test uses (tests share the session's Redis)."""
    return f"test:{next(_names)}"


@pytest.fixture(params=["memory", "redis"])
def make_pubsub(
    request: pytest.FixtureRequest,
) -> Callable[..., PubSub]:
    """Build a pub/sub of the parametrised kind; options go to its constructor."""
    kind: str = request.param

    def make(**options: object) -> PubSub:
        if kind == "memory":
            return InMemoryPubSub(**options)  # type: ignore[arg-type]
        server = request.getfixturevalue("redis_server")
        assert isinstance(server, RedisServer)
        return RedisPubSub(server.url, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
async def pubsub(make_pubsub: Callable[..., PubSub]) -> AsyncIterator[PubSub]:
    """A started pub/sub of each kind, closed after the test."""
    created = make_pubsub()
    await created.start()
    yield created
    await created.aclose()


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `check()` holds (the broker acts asynchronously); fail after `within` s."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)
