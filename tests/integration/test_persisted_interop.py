"""Persisted queries and batching between clew and Apollo's own JavaScript packages.

- Apollo Client 4.3.8's `PersistedQueryLink` (over `HttpLink`) and `BatchHttpLink`, run by
  `peers/apollo_client.mjs`, against a clew server: the exact requests Apollo's links send.
- The clew client against Apollo Server 5.5.1 (`peers/apollo_server.mjs`, APQ on by default,
  batching allowed), and against a clew server.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from clew.client import AIOHTTPClient
from clew.protocol.http import GraphQLRequest, sha256_hash

from .servers import (
    PEERS_DIR,
    RunningServer,
    free_port,
    node_executable,
    running_server,
    uvicorn_command,
)

HELLO_PRINTED = "query Hello($name: String) {\n  hello(name: $name)\n}"
NOT_FOUND = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
}


@pytest.fixture
def clew_apq_server() -> Iterator[RunningServer]:
    """A fresh clew server (empty APQ store, batching on) per test."""
    port = free_port()
    command = uvicorn_command("peers.clew_persisted_app:create_app", port)
    with running_server("clew (persisted)", command, port=port) as server:
        yield server


@pytest.fixture
def apollo_server() -> Iterator[RunningServer]:
    """A fresh Apollo Server per test (its APQ cache starts empty)."""
    node = node_executable()
    port = free_port()
    command = [node, str(PEERS_DIR / "apollo_server.mjs"), str(port)]
    with running_server("apollo server", command, port=port, cwd=PEERS_DIR) as server:
        yield server


def apollo_client(url: str, scenario: str) -> tuple[list[dict[str, object]], list[object]]:
    """Run peers/apollo_client.mjs; its HTTP exchanges and its operation outcomes."""
    completed = subprocess.run(
        [node_executable(), str(PEERS_DIR / "apollo_client.mjs"), url, scenario],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=PEERS_DIR,
    )
    lines = [json.loads(line) for line in completed.stdout.decode().splitlines() if line]
    assert lines, completed.stderr.decode()
    assert lines[-1] == {"done": True}, completed.stderr.decode()
    assert not any("crash" in line for line in lines), lines
    exchanges = [line["exchange"] for line in lines if "exchange" in line]
    outcomes = [
        line.get("result", line.get("error")) for line in lines[:-1] if "exchange" not in line
    ]
    return exchanges, outcomes


def persisted_of(body: object) -> object:
    assert isinstance(body, dict)
    return body["extensions"].get("persistedQuery")


# -- Apollo Client against clew ---------------------------------------------------------------


def test_apollo_persisted_query_link_against_clew(clew_apq_server: RunningServer) -> None:
    exchanges, outcomes = apollo_client(clew_apq_server.http_url, "apq")
    digest = sha256_hash(HELLO_PRINTED)
    assert [(e["method"], "query" in e["body"]) for e in exchanges] == [  # type: ignore[operator]
        ("POST", False),  # hash only: unknown
        ("POST", True),  # retried with the text: registered
        ("POST", False),  # hash only: known now
        ("POST", False),  # the mutation's hash: unknown
        ("POST", True),
    ]
    first = exchanges[0]
    assert persisted_of(first["body"]) == {"version": 1, "sha256Hash": digest}
    assert (first["status"], first["response"]) == (200, {"errors": [NOT_FOUND]})
    assert exchanges[1]["body"]["query"] == HELLO_PRINTED  # type: ignore[index]
    assert outcomes == [
        {"data": {"hello": "Hello, apq!"}, "error": None},
        {"data": {"hello": "Hello, again!"}, "error": None},
        {"data": {"echo": "m"}, "error": None},
    ]


def test_apollo_hashed_get_against_clew(clew_apq_server: RunningServer) -> None:
    exchanges, outcomes = apollo_client(clew_apq_server.http_url, "apq-get")
    assert [(e["method"], e["status"]) for e in exchanges] == [
        ("GET", 200),  # hash only in the URL: unknown
        ("POST", 200),  # the retry uses the link's normal method
        ("GET", 200),  # served from the store by hash alone
        ("POST", 200),  # mutations never go GET
        ("POST", 200),
    ]
    assert exchanges[0]["response"] == {"errors": [NOT_FOUND]}
    assert "query=" not in str(exchanges[2]["url"])
    assert exchanges[2]["response"] == {"data": {"hello": "Hello, again!"}}
    assert [o["data"] for o in outcomes] == [  # type: ignore[index]
        {"hello": "Hello, apq!"},
        {"hello": "Hello, again!"},
        {"echo": "m"},
    ]


def test_apollo_batch_http_link_against_clew(clew_apq_server: RunningServer) -> None:
    exchanges, outcomes = apollo_client(clew_apq_server.http_url, "batch")
    (exchange,) = exchanges
    assert isinstance(exchange["body"], list)
    assert len(exchange["body"]) == 3
    response = exchange["response"]
    assert isinstance(response, list)
    assert response[0] == {"data": {"hello": "Hello, one!"}}
    assert "nope" in response[1]["errors"][0]["message"]
    assert response[2] == {"data": {"hello": "Hello, three!"}}
    assert {"data": {"hello": "Hello, one!"}, "error": None} in outcomes
    assert {"data": {"hello": "Hello, three!"}, "error": None} in outcomes


# -- the clew client against Apollo Server and clew -------------------------------------------


def recording_session(log: list[tuple[str, str]]) -> aiohttp.ClientSession:
    """A session noting (method, URL) of each request, so tests see what went on the wire."""

    async def on_start(
        _session: object, _context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        log.append((params.method, str(params.url)))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return aiohttp.ClientSession(trace_configs=[trace])


@pytest.mark.parametrize("server_fixture", ["apollo_server", "clew_apq_server"])
async def test_clew_client_apq_and_batch(
    server_fixture: str, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue(server_fixture)
    assert isinstance(server, RunningServer)
    log: list[tuple[str, str]] = []
    async with recording_session(log) as session:
        client = AIOHTTPClient(
            server.http_url,
            session=session,
            persisted_queries=True,
            use_get_for_hashed_queries=True,
        )
        query = "query Hi($n: String) { hello(name: $n) }"
        first = await client.execute(query, {"n": "a"})
        second = await client.execute(query, {"n": "b"})
        assert (first.data, second.data) == ({"hello": "Hello, a!"}, {"hello": "Hello, b!"})
        apq = client.backend.persisted_queries
        assert apq is not None
        assert apq.supported
        assert apq.known == {sha256_hash(query)}
        assert [method for method, _ in log] == ["GET", "POST", "GET"]
        assert "query=" not in log[2][1]
        assert "extensions=" in log[2][1]
        mutated = await client.execute('mutation { echo(message: "x") }')
        assert mutated.data == {"echo": "x"}
        assert [method for method, _ in log[3:]] == ["POST", "POST"]
        batch = await client.batch(
            [
                GraphQLRequest(query="query($n: String) { hello(name: $n) }", variables={"n": "c"}),
                "{ nope }",
                "{ add(a: 1, b: 2) }",
            ]
        )
        assert batch[0].data == {"hello": "Hello, c!"}
        assert batch[1].errors
        assert not batch[1].data_present
        assert batch[2].data == {"add": 3}
        await client.close()


# -- documentId: the clew client and a clew server that runs trusted documents only -------------

HI = "query Hi($n: String) { hello(name: $n) }"
ECHO = "mutation Echo($m: String!) { echo(message: $m) }"


@pytest.fixture
def clew_trusted_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A clew server running only HI (by hash) and ECHO (by an id of the app's own)."""
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({f"sha256:{sha256_hash(HI)}": HI, "x-app:echo": ECHO}))
    port = free_port()
    command = uvicorn_command("peers.clew_persisted_app:create_trusted_app", port)
    env = {"CLEW_TEST_MANIFEST": str(manifest)}
    with running_server("clew (trusted)", command, port=port, env=env) as server:
        yield server


async def test_clew_client_sends_document_ids_to_a_trusted_documents_server(
    clew_trusted_server: RunningServer,
) -> None:
    url = clew_trusted_server.http_url
    log: list[tuple[str, str]] = []
    async with recording_session(log) as session:
        by_hash = AIOHTTPClient(
            url, session=session, document_ids="sha256", use_get_for_queries=True
        )
        assert (await by_hash.execute(HI, {"n": "a"})).data == {"hello": "Hello, a!"}
        (method, sent), *_ = log
        assert method == "GET"
        assert f"documentId=sha256:{sha256_hash(HI)}" in sent
        assert "query=" not in sent
        # Every text goes by its hash: one the server does not list is not found there.
        for text, variables in (("{ hello }", None), (ECHO, {"m": "x"})):
            unknown = await by_hash.execute(text, variables)
            assert unknown.errors[0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
            assert not unknown.data_present
        # ECHO's id is the app's own: only a manifest tells it to the client, which sends
        # the texts the manifest does not list as texts (refused here before any parsing).
        manifest = {f"sha256:{sha256_hash(HI)}": HI, "x-app:echo": ECHO}
        by_manifest = AIOHTTPClient(url, session=session, document_ids=manifest)
        assert (await by_manifest.execute(ECHO, {"m": "x"})).data == {"echo": "x"}
        assert (await by_manifest.execute(HI, {"n": "b"})).data == {"hello": "Hello, b!"}
        refused = await by_manifest.execute("{ hello }")
        assert refused.errors[0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
        assert [method for method, _ in log[-3:]] == ["POST", "POST", "POST"]
