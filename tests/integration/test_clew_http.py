"""The clew client against the clew server over real HTTP: operations, errors, auth, uploads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from clew.client import AIOHTTPClient, GraphQLResponseError, SchemaValidationError, Upload

from .peers.clew_app import new_token
from .servers import RunningServer, free_port, running_server, uvicorn_command

pytestmark = pytest.mark.timeout(30)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@pytest.fixture
async def client(clew_server: RunningServer) -> AsyncIterator[AIOHTTPClient]:
    async with AIOHTTPClient(clew_server.http_url) as client:
        yield client


# -- queries and mutations -------------------------------------------------------------------


async def test_query_with_variables(client: AIOHTTPClient) -> None:
    response = await client.execute(
        "query Q($name: String, $a: Int!) { hello(name: $name) add(a: $a, b: 2) }",
        {"name": "clew", "a": 40},
        "Q",
    )
    assert response.data == {"hello": "Hello, clew!", "add": 42}
    assert response.errors is None


async def test_query_over_get(clew_server: RunningServer) -> None:
    async with AIOHTTPClient(clew_server.http_url, use_get_for_queries=True) as client:
        response = await client.execute("query { add(a: 1, b: 2) }")
    assert response.data == {"add": 3}


async def test_mutation(client: AIOHTTPClient) -> None:
    response = await client.execute(
        "mutation Echo($m: String!) { echo(message: $m) }", {"m": "posted"}
    )
    assert response.data == {"echo": "posted"}


async def test_schema_driven_proxies_introspect_the_clew_server(client: AIOHTTPClient) -> None:
    assert (await client.query.hello(name="proxy")).data == {"hello": "Hello, proxy!"}
    assert (await client.mutation.echo(message="built")).data == {"echo": "built"}
    # The introspected schema now checks arguments locally, before anything is sent.
    with pytest.raises(SchemaValidationError, match="add"):
        await client.query.add(a="one", b=2)


async def test_authorization_header_reaches_the_resolvers(clew_server: RunningServer) -> None:
    token = new_token()
    async with AIOHTTPClient(
        clew_server.http_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        assert (await client.execute("query { whoami }")).data == {"whoami": token}


# -- errors ------------------------------------------------------------------------------------


async def test_resolver_error_gives_partial_data_and_the_error(client: AIOHTTPClient) -> None:
    response = await client.execute("query { hello fail }")
    assert response.data == {"hello": "Hello, world!", "fail": None}
    assert response.errors is not None
    assert [(e["message"], e.get("path")) for e in response.errors] == [("boom", ["fail"])]
    with pytest.raises(GraphQLResponseError) as raised:
        await client.execute("query { hello fail }", raise_on_errors=True)
    assert raised.value.data == {"hello": "Hello, world!", "fail": None}


@pytest.fixture(scope="module")
def draft_2026_server() -> Iterator[RunningServer]:
    """The clew test app with `StatusRules.draft_2026()`: 422 for validation, 294 partial."""
    port = free_port()
    command = uvicorn_command("peers.clew_app:create_draft_2026_app", port)
    with running_server("clew (2026 statuses)", command, port=port) as server:
        yield server


#: (server fixture, query, status, message): request errors and a partial result under the
#: default statuses (the published draft) and the 2026 draft's.
STATUS_CASES = [
    ("clew_server", "query { nope }", 400, "Cannot query field 'nope' on type 'Query'."),
    ("clew_server", "query { hello(", 400, "Syntax Error"),
    ("clew_server", "query { hello fail }", 200, "boom"),
    ("draft_2026_server", "query { nope }", 422, "Cannot query field 'nope' on type 'Query'."),
    ("draft_2026_server", "query { hello(", 400, "Syntax Error"),
    ("draft_2026_server", "query { hello fail }", 294, "boom"),
]


@pytest.mark.parametrize(
    ("server_name", "query", "status", "message"),
    STATUS_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[3].split()[0]}" for c in STATUS_CASES],
)
async def test_errors_have_their_status_and_reach_the_client(
    request: pytest.FixtureRequest, server_name: str, query: str, status: int, message: str
) -> None:
    server = request.getfixturevalue(server_name)
    assert isinstance(server, RunningServer)
    async with AIOHTTPClient(server.http_url) as client:
        # Through the client: a GraphQL response at any status, the errors readable.
        response = await client.execute(query)
        assert response.errors is not None
        assert message in response.errors[0]["message"]
        partial = status in (200, 294)
        assert response.data_present is partial
        assert response.data == ({"hello": "Hello, world!", "fail": None} if partial else None)
        # On the wire (the client hides the status): GraphQL-over-HTTP's status for the case.
        headers = {"Accept": f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9"}
        async with client.backend.client_session.post(
            server.http_url, json={"query": query}, headers=headers
        ) as raw:
            assert raw.status == status
            assert raw.content_type == GRAPHQL_RESPONSE_JSON
            body = await raw.json(content_type=None)
    assert ("data" in body) is partial
    assert body["errors"] == response.errors


# -- uploads, against the clew demo app (the shared schema has no Upload) -----------------------

UPLOAD = """
mutation Attach($file: Upload!) {
  uploadAttachment(room: "uploads", author: "ada", file: $file) {
    text
    attachment { filename contentType size }
  }
}
"""


@pytest.fixture(scope="module")
def demo_server() -> Iterator[RunningServer]:
    """`clew.server.demo:app`, the chat demo with its `uploadAttachment` mutation."""
    port = free_port()
    command = uvicorn_command("clew.server.demo:app", port, factory=False, in_package=False)
    with running_server("clew demo", command, port=port) as server:
        yield server


async def test_upload_bytes_file_and_path(demo_server: RunningServer, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes(b"a,b\n1,2\n")
    async with AIOHTTPClient(demo_server.http_url) as client:
        named = await client.execute(
            UPLOAD,
            {"file": Upload(b"hello upload", filename="hello.txt", content_type="text/plain")},
            raise_on_errors=True,
        )
        from_path = await client.execute(UPLOAD, {"file": report}, raise_on_errors=True)
        with report.open("rb") as opened:
            from_file = await client.execute(UPLOAD, {"file": opened}, raise_on_errors=True)
    assert named.data == {
        "uploadAttachment": {
            "text": "shared hello.txt",
            "attachment": {"filename": "hello.txt", "contentType": "text/plain", "size": 12},
        }
    }
    for response in (from_path, from_file):
        assert response.data == {
            "uploadAttachment": {
                "text": "shared report.csv",
                "attachment": {"filename": "report.csv", "contentType": "text/csv", "size": 8},
            }
        }


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_upload_reaches_a_subscriber(demo_server: RunningServer, subprotocol: str) -> None:
    async with AIOHTTPClient(demo_server.http_url, subscription_protocols=(subprotocol,)) as client:
        query = 'subscription { messagePosted(room: "uploads") { text attachment { size } } }'
        stream = client.subscribe(query)
        async with aclosing(stream):
            first = asyncio.ensure_future(anext(stream))
            # Upload until the subscription is listening (the demo keeps no backlog).
            for _ in range(250):
                await client.execute(UPLOAD, {"file": Upload(b"x" * 1000, filename="x.bin")})
                done, _pending = await asyncio.wait({first}, timeout=0.02)
                if done:
                    break
            response = await first
    assert response.data == {
        "messagePosted": {"text": "shared x.bin", "attachment": {"size": 1000}}
    }
