"""The client's automatic persisted queries, against an endpoint answering as Apollo Server does.

The endpoint's replies copy Apollo Server 5.5.1's (`@apollo/server`, `requestPipeline.ts`):
`PersistedQueryNotFound` / `PersistedQueryNotSupported` as 200 with
`Cache-Control: private, no-cache, must-revalidate`; the old-server mode answers the miss with
400, which Apollo's clients still recognise by the error's code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clew.client import AIOHTTPBackend, AIOHTTPClient
from clew.protocol.http import PersistedQueryError, sha256_hash

QUERY = "query Hello { hello }"
HASH = sha256_hash(QUERY)
MUTATION = "mutation Add { add }"


@dataclass
class ApqEndpoint:
    """Answers `hello`/`add` by text or by a hash it has stored; records every request."""

    supported: bool = True
    miss_status: int = 200
    store: dict[str, str] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            params = dict(request.query)
            body: dict[str, object] = {
                key: json.loads(value) if key in {"extensions", "variables"} else value
                for key, value in params.items()
            }
        else:
            body = await request.json()
        self.seen.append((request.method, body))
        extensions = body.get("extensions") or {}
        assert isinstance(extensions, dict)
        persisted = extensions.get("persistedQuery")
        query = body.get("query")
        if persisted is not None:
            if not self.supported:
                return self._error(PersistedQueryError.NOT_SUPPORTED, 200)
            digest = persisted["sha256Hash"]
            if query is None:
                query = self.store.get(digest)
                if query is None:
                    return self._error(PersistedQueryError.NOT_FOUND, self.miss_status)
            else:
                assert sha256_hash(str(query)) == digest
                self.store[digest] = str(query)
        data = {"add": 3} if "mutation" in str(query) else {"hello": "world"}
        return web.json_response({"data": data})

    @staticmethod
    def _error(error: PersistedQueryError, status: int) -> web.Response:
        return web.json_response(error.result, status=status, headers=dict(error.headers))


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[ApqEndpoint, str]]:
    apq = ApqEndpoint()
    app = web.Application()
    app.router.add_route("*", "/", apq.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield apq, str(server.make_url("/"))
    finally:
        await server.close()


def sent(apq: ApqEndpoint) -> list[tuple[str, bool, bool]]:
    """(method, carried the query, carried the hash) per request."""
    return [
        (method, "query" in body, "persistedQuery" in (body.get("extensions") or {}))  # type: ignore[operator]
        for method, body in apq.seen
    ]


async def test_hash_first_then_register_then_hash_only(endpoint: tuple[ApqEndpoint, str]) -> None:
    apq, url = endpoint
    async with AIOHTTPClient(url, persisted_queries=True) as client:
        first = await client.execute(QUERY)
        second = await client.execute(QUERY)
        assert first.data == second.data == {"hello": "world"}
        assert client.backend.persisted_queries is not None
        assert client.backend.persisted_queries.known == {HASH}
    assert sent(apq) == [("POST", False, True), ("POST", True, True), ("POST", False, True)]
    assert apq.store == {HASH: QUERY}


async def test_hashed_queries_over_get_when_asked(endpoint: tuple[ApqEndpoint, str]) -> None:
    apq, url = endpoint
    async with AIOHTTPClient(
        url, persisted_queries=True, use_get_for_hashed_queries=True
    ) as client:
        await client.execute(QUERY)
        await client.execute(QUERY)
        assert (await client.execute(MUTATION)).data == {"add": 3}
    assert sent(apq) == [
        ("GET", False, True),  # the hash, cacheable
        ("POST", True, True),  # the retry goes the normal way
        ("GET", False, True),
        ("POST", False, True),  # mutations are never GET
        ("POST", True, True),
    ]


async def test_not_supported_stops_hashing(endpoint: tuple[ApqEndpoint, str]) -> None:
    apq, url = endpoint
    apq.supported = False
    async with AIOHTTPClient(url, persisted_queries=True) as client:
        assert (await client.execute(QUERY)).data == {"hello": "world"}
        assert (await client.execute(QUERY)).data == {"hello": "world"}
        assert client.backend.persisted_queries is not None
        assert not client.backend.persisted_queries.supported
    assert sent(apq) == [("POST", False, True), ("POST", True, False), ("POST", True, False)]


async def test_a_miss_answered_with_400_still_retries(endpoint: tuple[ApqEndpoint, str]) -> None:
    apq, url = endpoint
    apq.miss_status = 400
    async with AIOHTTPClient(url, persisted_queries=True) as client:
        assert (await client.execute(QUERY)).data == {"hello": "world"}
    assert sent(apq) == [("POST", False, True), ("POST", True, True)]


async def test_an_evicted_hash_is_forgotten_and_registered_again(
    endpoint: tuple[ApqEndpoint, str],
) -> None:
    apq, url = endpoint
    backend = AIOHTTPBackend(url, persisted_queries=True)
    async with AIOHTTPClient(backend) as client:
        await client.execute(QUERY)
        assert backend.persisted_queries is not None
        assert backend.persisted_queries.known == {HASH}
        apq.store.clear()
        assert (await client.execute(QUERY)).data == {"hello": "world"}
        assert backend.persisted_queries.known == {HASH}
    assert sent(apq)[2:] == [("POST", False, True), ("POST", True, True)]


async def test_off_by_default(endpoint: tuple[ApqEndpoint, str]) -> None:
    apq, url = endpoint
    async with AIOHTTPClient(url) as client:
        await client.execute(QUERY)
        assert client.backend.persisted_queries is None
    assert sent(apq) == [("POST", True, False)]
