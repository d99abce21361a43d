"""APQ across processes: two clew servers sharing one real redis-server as their document store."""

from __future__ import annotations

import json
import uuid

import httpx

from clew.protocol.http import sha256_hash
from redis_server import RedisServer

from .servers import free_port, running_server, uvicorn_command


def test_a_hash_registered_on_one_server_is_served_by_the_other(
    redis_server: RedisServer,
) -> None:
    env = {"CLEW_TEST_REDIS_URL": redis_server.url, "CLEW_TEST_REDIS_PREFIX": uuid.uuid4().hex}
    target = "peers.clew_persisted_app:create_redis_app"
    first_port, second_port = free_port(), free_port()
    with (
        running_server("clew A", uvicorn_command(target, first_port), port=first_port, env=env),
        running_server("clew B", uvicorn_command(target, second_port), port=second_port, env=env),
    ):
        query = '{ hello(name: "shared") }'
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash(query)}}
        a, b = f"http://127.0.0.1:{first_port}/", f"http://127.0.0.1:{second_port}/"
        miss = httpx.post(b, json={"extensions": persisted}).json()
        assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = httpx.post(a, json={"query": query, "extensions": persisted})
        assert registered.json() == {"data": {"hello": "Hello, shared!"}}
        params = {"extensions": json.dumps(persisted)}
        served = httpx.get(b, params=params)
        assert (served.status_code, served.json()) == (200, {"data": {"hello": "Hello, shared!"}})
