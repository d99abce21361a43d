"""`RedisDocumentStore` against a real redis-server (the shared session fixture)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from clew.protocol.http import sha256_hash
from clew.server.redis_documents import RedisDocumentStore
from redis_server import RedisServer, free_port

from .helpers import make_app


def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


async def test_get_set_prefix_and_ttl(redis_server: RedisServer) -> None:
    store = RedisDocumentStore(redis_server.url, prefix=prefix())
    try:
        assert await store.get("a" * 64) is None
        await store.set("a" * 64, "{ hello }")
        assert await store.get("a" * 64) == "{ hello }"
        assert await store.redis.get(store.prefix + "a" * 64) == b"{ hello }"
        short = RedisDocumentStore(store.redis, prefix=store.prefix, ttl=0.2)
        await short.set("b" * 64, "{ b }")
        assert await short.get("b" * 64) == "{ b }"
        await asyncio.sleep(0.6)
        assert await short.get("b" * 64) is None
        await short.aclose()  # borrowed: the client stays open
        assert await store.get("a" * 64) == "{ hello }"
    finally:
        await store.aclose()


async def test_redis_down_is_a_miss_not_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisDocumentStore(f"redis://127.0.0.1:{free_port()}/0", prefix=prefix())
    try:
        assert await store.get("a" * 64) is None
        await store.set("a" * 64, "{ hello }")
    finally:
        await store.aclose()
    messages = [record.getMessage() for record in caplog.records]
    assert any("lookup failed" in message for message in messages)
    assert any("could not be stored" in message for message in messages)


async def test_two_apps_share_documents_through_redis(redis_server: RedisServer) -> None:
    query = '{ hello(name: "redis") }'
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash(query)}}
    shared = prefix()
    stores = [RedisDocumentStore(redis_server.url, prefix=shared) for _ in range(2)]
    first, second = (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=make_app(persisted_queries=store)),
            base_url="http://test",
        )
        for store in stores
    )
    try:
        miss = (await second.post("/", json={"extensions": persisted})).json()
        assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = await first.post("/", json={"query": query, "extensions": persisted})
        assert registered.json() == {"data": {"hello": "Hello redis"}}
        # The other app (another worker) with its own store object sees the same document.
        served = await second.post("/", json={"extensions": persisted})
        assert served.json() == {"data": {"hello": "Hello redis"}}
    finally:
        for client in (first, second):
            await client.aclose()
        for store in stores:
            await store.aclose()
