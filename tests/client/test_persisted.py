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
from clew.client._persisted import DocumentIds
from clew.protocol.http import GraphQLRequest, PersistedQueryError, sha256_hash

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


# -- documentId -------------------------------------------------------------------------------


def test_document_ids_by_hash_name_every_text() -> None:
    ids = DocumentIds("sha256")
    request = GraphQLRequest(query=QUERY, variables={"a": 1}, operation_name="Hello")
    named = ids.named(request)
    assert named == GraphQLRequest(
        query=None, document_id=f"sha256:{HASH}", variables={"a": 1}, operation_name="Hello"
    )
    assert ids.named(GraphQLRequest(query=None, document_id="x-a:b")) is None
    with pytest.raises(ValueError, match="'sha256' or a manifest"):
        DocumentIds("md5")  # type: ignore[arg-type]


def test_document_ids_from_a_manifest_name_its_texts_only() -> None:
    custom = "query Custom { hello }"
    ids = DocumentIds({f"sha256:{HASH}": QUERY, "x-app:custom": custom, "Relay1": MUTATION})
    assert ids.id_for(QUERY) == f"sha256:{HASH}"
    assert ids.id_for(custom) == "x-app:custom"
    assert ids.id_for(MUTATION) == "Relay1"
    assert ids.id_for("{ other }") is None
    assert ids.named(GraphQLRequest(query="{ other }")) is None
    # A bare hex id is a hash, sent with the prefix the appendix gives it.
    assert DocumentIds({HASH: QUERY}).id_for(QUERY) == f"sha256:{HASH}"


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({f"sha256:{HASH}": MUTATION}, "is not the SHA-256 hash of its document"),
        ({"md5:0cc175b9c0f1b6a831c399e269772661": QUERY}, "Unsupported document identifier"),
        ({"a b": QUERY}, "must be a document identifier"),
    ],
)
def test_a_manifest_with_an_id_no_server_could_read_is_refused(
    manifest: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DocumentIds(manifest)


def test_document_ids_and_apq_are_not_both_on() -> None:
    with pytest.raises(ValueError, match="choose one"):
        AIOHTTPBackend("http://127.0.0.1:1/", persisted_queries=True, document_ids="sha256")


async def test_document_ids_replace_texts_on_post_and_get(
    endpoint: tuple[ApqEndpoint, str],
) -> None:
    apq, url = endpoint  # an endpoint that records what was sent (it knows no documentId)
    async with AIOHTTPClient(url, document_ids="sha256") as client:
        await client.execute(QUERY)
        await client.execute(MUTATION)
    async with AIOHTTPClient(url, document_ids="sha256", use_get_for_queries=True) as client:
        await client.execute(QUERY, {"n": 1})
    mutation_id = f"sha256:{sha256_hash(MUTATION)}"
    assert apq.seen == [
        ("POST", {"documentId": f"sha256:{HASH}"}),
        ("POST", {"documentId": mutation_id}),
        ("GET", {"documentId": f"sha256:{HASH}", "variables": {"n": 1}}),
    ]
