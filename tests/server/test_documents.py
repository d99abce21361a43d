"""Persisted documents over HTTP: APQ (POST and GET), trusted documents, the stores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from graphql import DocumentNode, parse
from starlette.testclient import TestClient

from clew.protocol.http import ManifestOperation, apollo_manifest, parse_manifest, sha256_hash
from clew.server import InMemoryDocumentStore, Limits, PersistedDocuments, TrustedDocuments

from .helpers import make_app

HELLO = "{ hello }"
HELLO_HASH = sha256_hash(HELLO)
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
NOT_SUPPORTED = {
    "errors": [
        {
            "message": "PersistedQueryNotSupported",
            "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        }
    ]
}
NOT_IN_LIST = {
    "errors": [
        {
            "message": "This server runs only trusted documents, and this one is not in its list",
            "extensions": {"code": "PERSISTED_QUERY_NOT_IN_LIST"},
        }
    ]
}


def extension(digest: str = HELLO_HASH) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def get_params(digest: str = HELLO_HASH, **extra: str) -> dict[str, str]:
    return {"extensions": json.dumps(extension(digest)), **extra}


class CountingParser:
    """A query parser that counts its calls, to show what was (not) parsed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, query: str) -> DocumentNode:
        self.calls += 1
        return parse(query)


# -- APQ -----------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_unknown_hash_is_not_found_200_uncached(accept: str) -> None:
    client = TestClient(make_app())
    response = client.post("/", json={"extensions": extension()}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.json() == NOT_FOUND
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"


def test_register_then_hash_only_over_post_and_get() -> None:
    parser = CountingParser()
    client = TestClient(make_app(query_parser=parser))
    registered = client.post("/", json={"query": HELLO, "extensions": extension()})
    assert registered.json() == {"data": {"hello": "Hello world"}}
    assert "cache-control" not in registered.headers
    by_hash = client.post("/", json={"extensions": extension()})
    assert (by_hash.status_code, by_hash.json()) == (200, {"data": {"hello": "Hello world"}})
    by_get = client.get("/", params=get_params())
    assert (by_get.status_code, by_get.json()) == (200, {"data": {"hello": "Hello world"}})
    assert parser.calls == 1  # the stored text is prepared once, like any cached document


def test_registration_over_get() -> None:
    client = TestClient(make_app())
    assert client.get("/", params=get_params(query=HELLO)).json()["data"] == {
        "hello": "Hello world"
    }
    assert client.get("/", params=get_params()).json()["data"] == {"hello": "Hello world"}


def test_mismatched_hash_is_400_and_not_stored() -> None:
    client = TestClient(make_app())
    wrong = sha256_hash("{ boom }")
    response = client.post("/", json={"query": HELLO, "extensions": extension(wrong)})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "provided sha does not match query"}]}
    assert client.post("/", json={"extensions": extension(wrong)}).json() == NOT_FOUND


def test_invalid_documents_are_not_stored() -> None:
    client = TestClient(make_app())
    bad = "{ nope }"
    response = client.post(
        "/",
        json={"query": bad, "extensions": extension(sha256_hash(bad))},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert "nope" in response.json()["errors"][0]["message"]
    assert client.post("/", json={"extensions": extension(sha256_hash(bad))}).json() == NOT_FOUND


@pytest.mark.parametrize(
    ("persisted", "message"),
    [
        ({"version": 2, "sha256Hash": HELLO_HASH}, "Unsupported persisted query version"),
        ({"version": 1, "sha256Hash": "xyz"}, "must be 64 lowercase hexadecimal digits"),
    ],
)
def test_malformed_persisted_queries_are_400(persisted: object, message: str) -> None:
    client = TestClient(make_app())
    for body in (
        {"extensions": {"persistedQuery": persisted}},
        {"query": HELLO, "extensions": {"persistedQuery": persisted}},
    ):
        response = client.post("/", json=body)
        assert response.status_code == 400
        assert message in response.json()["errors"][0]["message"]


def test_neither_query_nor_hash_is_400() -> None:
    response = TestClient(make_app()).post("/", json={"extensions": {}})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "The 'query' parameter is required"}]}


def test_apq_off_is_not_supported_even_with_the_query() -> None:
    client = TestClient(make_app(persisted_queries=False))
    for body in ({"extensions": extension()}, {"query": HELLO, "extensions": extension()}):
        response = client.post("/", json=body)
        assert (response.status_code, response.json()) == (200, NOT_SUPPORTED)
        assert response.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert client.post("/", json={"query": HELLO}).json() == {"data": {"hello": "Hello world"}}


def test_mutation_by_hash_over_get_is_405() -> None:
    mutation = "mutation { add(a: 1, b: 2) }"
    client = TestClient(make_app())
    body = {"query": mutation, "extensions": extension(sha256_hash(mutation))}
    assert client.post("/", json=body).json() == {"data": {"add": 3}}
    response = client.get("/", params=get_params(sha256_hash(mutation)))
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_a_configured_store_is_used() -> None:
    store = InMemoryDocumentStore()
    asyncio.run(store.set(HELLO_HASH, HELLO))
    client = TestClient(make_app(persisted_queries=store))
    assert client.post("/", json={"extensions": extension()}).json()["data"] == {
        "hello": "Hello world"
    }


def test_in_memory_store_is_lru_bounded() -> None:
    async def scenario() -> None:
        store = InMemoryDocumentStore(max_size=2)
        await store.set("a", "A")
        await store.set("b", "B")
        assert await store.get("a") == "A"  # now the most recent
        await store.set("c", "C")
        assert (await store.get("b"), await store.get("a"), await store.get("c")) == (
            None,
            "A",
            "C",
        )
        assert len(store) == 2

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryDocumentStore(max_size=0)


def test_resolver_refuses_a_request_without_any_document() -> None:
    refusal = asyncio.run(PersistedDocuments(None).resolve(None, None))
    assert getattr(refusal, "status_code", None) == 400


# -- trusted documents ---------------------------------------------------------------------


def write_manifest(tmp_path: Path, texts: list[str], *, apollo: bool) -> Path:
    path = tmp_path / "manifest.json"
    if apollo:
        operations = [
            ManifestOperation(name=f"Op{index}", type="query", body=text)
            for index, text in enumerate(texts)
        ]
        path.write_text(json.dumps(apollo_manifest(operations)))
    else:
        path.write_text(json.dumps({f"sha256:{sha256_hash(text)}": text for text in texts}))
    return path


@pytest.mark.parametrize("apollo", [True, False])
def test_trusted_documents_run_by_hash_or_text(tmp_path: Path, apollo: bool) -> None:
    trusted = TrustedDocuments.from_manifest(write_manifest(tmp_path, [HELLO], apollo=apollo))
    assert len(trusted) == 1
    client = TestClient(make_app(documents=trusted))
    expected = {"data": {"hello": "Hello world"}}
    assert client.post("/", json={"extensions": extension()}).json() == expected
    assert client.get("/", params=get_params()).json() == expected
    assert client.post("/", json={"query": HELLO}).json() == expected
    assert client.post("/", json={"query": HELLO, "extensions": extension()}).json() == expected


def test_only_mode_refuses_other_documents(tmp_path: Path) -> None:
    trusted = TrustedDocuments.from_manifest(write_manifest(tmp_path, [HELLO], apollo=True))
    client = TestClient(make_app(documents=trusted))
    other = "{ whoami }"
    response = client.post("/", json={"query": other})
    assert (response.status_code, response.json()) == (400, NOT_IN_LIST)
    # An unknown hash is "not found" (so APQ clients send the text), and then the text is refused.
    assert client.post("/", json={"extensions": extension(sha256_hash(other))}).json() == NOT_FOUND
    registered = client.post(
        "/", json={"query": other, "extensions": extension(sha256_hash(other))}
    )
    assert (registered.status_code, registered.json()) == (400, NOT_IN_LIST)


def test_only_mode_refuses_a_megabyte_unknown_document_without_parsing(tmp_path: Path) -> None:
    parser = CountingParser()
    trusted = TrustedDocuments.from_manifest(write_manifest(tmp_path, [HELLO], apollo=False))
    limits = Limits(max_body_bytes=4 * 1024 * 1024)
    client = TestClient(make_app(documents=trusted, query_parser=parser, limits=limits))
    huge = "{ " + "hello " * (1024 * 1024 // 6) + "}"
    assert len(huge) >= 1024 * 1024 - 6
    response = client.post("/", json={"query": huge})
    assert (response.status_code, response.json()) == (400, NOT_IN_LIST)
    assert parser.calls == 0
    # The same parser is used for documents that are trusted: the count is meaningful.
    assert client.post("/", json={"query": HELLO}).status_code == 200
    assert parser.calls == 1


def test_allow_arbitrary_runs_other_documents_too(tmp_path: Path) -> None:
    trusted = TrustedDocuments.from_manifest(
        write_manifest(tmp_path, [HELLO], apollo=True), allow_arbitrary=True
    )
    client = TestClient(make_app(documents=trusted))
    assert client.post("/", json={"extensions": extension()}).json()["data"] == {
        "hello": "Hello world"
    }
    assert client.post("/", json={"query": "{ count(n: 2) }"}).json() == {"data": {"count": 2}}
    # ... and APQ still works for documents outside the list.
    other = "{ count(n: 3) }"
    assert client.post("/", json={"extensions": extension(sha256_hash(other))}).json() == NOT_FOUND
    assert client.post("/", json={"query": other, "extensions": extension(sha256_hash(other))})
    assert client.post("/", json={"extensions": extension(sha256_hash(other))}).json() == {
        "data": {"count": 3}
    }


# -- documentId (the GraphQL-over-HTTP persisted-documents appendix) -----------------------

HELLO_ID = f"sha256:{HELLO_HASH}"
HELLO_DATA = {"data": {"hello": "Hello world"}}


def unknown_id(document_id: str) -> dict[str, object]:
    return {
        "errors": [
            {
                "message": f"No persisted document has the id {document_id!r}",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }


def trusted_by_ids(*, allow_arbitrary: bool = False) -> TrustedDocuments:
    """A manifest as graphql-codegen's client preset writes it, plus ids of the app's own."""
    documents = parse_manifest(
        {
            HELLO_ID: HELLO,
            "x-app:count": "query Count($n: Int!) { count(n: $n) }",
            "AddOne": "mutation AddOne { add(a: 1, b: 1) }",
        }
    )
    return TrustedDocuments(documents, allow_arbitrary=allow_arbitrary)


def test_a_document_id_runs_its_trusted_document_over_post_and_get() -> None:
    parser = CountingParser()
    client = TestClient(make_app(documents=trusted_by_ids(), query_parser=parser))
    assert client.post("/", json={"documentId": HELLO_ID}).json() == HELLO_DATA
    assert client.get("/", params={"documentId": HELLO_ID}).json() == HELLO_DATA
    custom = {"documentId": "x-app:count", "variables": {"n": 4}}
    assert client.post("/", json=custom).json() == {"data": {"count": 4}}
    get = {"documentId": "x-app:count", "variables": '{"n":5}'}
    assert client.get("/", params=get).json() == {"data": {"count": 5}}
    assert client.post("/", json={"documentId": "AddOne"}).json() == {"data": {"add": 2}}
    assert parser.calls == 3  # each document parsed once, then cached by its text


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize("document_id", [f"sha256:{'0' * 64}", "x-app:other", "Other"])
def test_an_unknown_document_id_is_one_error_uncached(accept: str, document_id: str) -> None:
    client = TestClient(make_app(documents=trusted_by_ids()))
    response = client.post("/", json={"documentId": document_id}, headers={"Accept": accept})
    assert (response.status_code, response.json()) == (400, unknown_id(document_id))
    assert response.headers["cache-control"] == "private, no-cache, must-revalidate"
    assert response.headers["content-type"].startswith(accept)


def test_an_unknown_long_document_id_is_repeated_cut_short() -> None:
    document_id = "a" * 500
    body = TestClient(make_app()).post("/", json={"documentId": document_id}).json()
    assert body["errors"][0]["message"] == f"No persisted document has the id '{'a' * 100}...'"


def test_a_malformed_document_id_is_400_before_any_lookup() -> None:
    client = TestClient(make_app(documents=trusted_by_ids()))
    response = client.post("/", json={"documentId": "md5:0cc175b9c0f1b6a831c399e269772661"})
    assert response.status_code == 400
    assert "Unsupported document identifier prefix 'md5'" in response.json()["errors"][0]["message"]
    both = {"documentId": HELLO_ID, "extensions": extension()}
    assert client.post("/", json=both).status_code == 400


def test_a_mutation_by_document_id_over_get_is_405() -> None:
    client = TestClient(make_app(documents=trusted_by_ids()))
    response = client.get("/", params={"documentId": "AddOne"})
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_a_hash_id_reaches_apq_documents_unless_only_trusted_documents_run() -> None:
    client = TestClient(make_app())  # APQ on, no trusted list
    assert client.post("/", json={"documentId": HELLO_ID}).json() == unknown_id(HELLO_ID)
    assert client.post("/", json={"query": HELLO, "extensions": extension()}).status_code == 200
    assert client.post("/", json={"documentId": HELLO_ID}).json() == HELLO_DATA
    # A bare 64-hex id is a hash, as in the manifests.
    assert client.post("/", json={"documentId": HELLO_HASH}).json() == HELLO_DATA
    # APQ off: nothing to look a hash up in.
    off = TestClient(make_app(persisted_queries=False))
    assert off.post("/", json={"documentId": HELLO_ID}).json() == unknown_id(HELLO_ID)
    # Only trusted documents: the APQ store is never read.
    other = "{ count(n: 7) }"
    store = InMemoryDocumentStore()
    asyncio.run(store.set(sha256_hash(other), other))
    other_id = f"sha256:{sha256_hash(other)}"
    only = TestClient(make_app(documents=trusted_by_ids(), persisted_queries=store))
    assert only.post("/", json={"documentId": other_id}).json() == unknown_id(other_id)
    arbitrary = TestClient(
        make_app(documents=trusted_by_ids(allow_arbitrary=True), persisted_queries=store)
    )
    assert arbitrary.post("/", json={"documentId": other_id}).json() == {"data": {"count": 7}}


def test_a_hash_id_beside_its_text_is_checked_and_registers_it() -> None:
    client = TestClient(make_app())
    other = "{ count(n: 8) }"
    other_id = f"sha256:{sha256_hash(other)}"
    mismatch = client.post("/", json={"query": "{ count(n: 9) }", "documentId": other_id})
    assert (mismatch.status_code, mismatch.json()) == (
        400,
        {"errors": [{"message": "provided sha does not match query"}]},
    )
    assert client.post("/", json={"query": other, "documentId": other_id}).json() == {
        "data": {"count": 8}
    }
    assert client.get("/", params={"documentId": other_id}).json() == {"data": {"count": 8}}
    # With APQ off there is nothing to register in: the text is checked and runs.
    off = TestClient(make_app(persisted_queries=False))
    body = {"query": other, "documentId": other_id}
    assert off.post("/", json=body).json() == {"data": {"count": 8}}
    wrong = off.post("/", json={"query": "{ count(n: 9) }", "documentId": other_id})
    assert wrong.status_code == 400
    assert off.get("/", params={"documentId": other_id}).json() == unknown_id(other_id)


def test_a_custom_id_beside_a_text_names_nothing_more_than_the_text() -> None:
    client = TestClient(make_app())
    body = {"query": "{ count(n: 2) }", "documentId": "x-app:whatever"}
    assert client.post("/", json=body).json() == {"data": {"count": 2}}
    only = TestClient(make_app(documents=trusted_by_ids()))
    refused = only.post("/", json=body)
    assert (refused.status_code, refused.json()) == (400, NOT_IN_LIST)
    trusted_text = {"query": HELLO, "documentId": "x-app:whatever"}
    assert only.post("/", json=trusted_text).json() == HELLO_DATA


def test_a_context_callable_sees_the_document_id() -> None:
    seen: list[object] = []

    def context(request: object, data: dict[str, object]) -> dict[str, object]:
        seen.append(data)
        return {"request": request}

    client = TestClient(make_app(documents=trusted_by_ids(), context_value=context))
    assert client.post("/", json={"documentId": HELLO_ID}).json() == HELLO_DATA
    assert seen == [{"documentId": HELLO_ID}]


def test_trusted_documents_given_directly_are_keyed_as_a_manifest_would_be() -> None:
    trusted = TrustedDocuments({HELLO_ID: HELLO, "x-app:count": "{ count(n: 1) }"})
    assert dict(trusted.documents) == {HELLO_HASH: HELLO, "x-app:count": "{ count(n: 1) }"}
    client = TestClient(make_app(documents=trusted))
    assert client.post("/", json={"extensions": extension()}).json() == HELLO_DATA
    assert client.post("/", json={"documentId": HELLO_ID}).json() == HELLO_DATA
    with pytest.raises(ValueError, match="is not the SHA-256 hash of its document"):
        TrustedDocuments({HELLO_ID: "{ count(n: 1) }"})
