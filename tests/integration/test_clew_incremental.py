"""The clew client's `execute_incremental` against the clew server with incremental delivery on:
over multipart HTTP, over SSE in both modes and over both WebSocket subprotocols; the 2022
format read with the protocol's parser."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from clew.client import AIOHTTPClient
from clew.client._websocket import WebSocketManager
from clew.protocol.incremental import (
    IncrementalFormat,
    IncrementalMerger,
    MultipartMixedParser,
    boundary_of,
)

from .servers import RunningServer, free_port, running_server, uvicorn_command

pytestmark = pytest.mark.timeout(60)

QUERY = 'query { hello(name: "d") ... @defer(label: "later") { slow(ms: 50) } add(a: 1, b: 2) }'
FINAL = {"hello": "Hello, d!", "slow": "slept 50", "add": 3}


@pytest.fixture(scope="module")
def incremental_server() -> Iterator[RunningServer]:
    port = free_port()
    command = uvicorn_command("peers.clew_app:create_incremental_app", port)
    with running_server("clew (incremental)", command, port=port) as server:
        yield server


TRANSPORTS = {
    "http": {},
    "sse": {"subscription_transport": "sse"},
    "sse-single": {"subscription_transport": "sse", "sse_single_connection": True},
    "graphql-transport-ws": {
        "use_websocket_for_queries": True,
        "subscription_protocols": ("graphql-transport-ws",),
    },
    "graphql-ws": {"use_websocket_for_queries": True, "subscription_protocols": ("graphql-ws",)},
}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_execute_incremental_merges_every_payload(
    incremental_server: RunningServer, transport: str
) -> None:
    async with AIOHTTPClient(incremental_server.http_url, **TRANSPORTS[transport]) as client:  # type: ignore[arg-type]
        results = [r async for r in client.execute_incremental(QUERY)]
    assert len(results) >= 2
    assert results[0].data == {"hello": "Hello, d!", "add": 3}  # before the deferred field
    assert results[-1].data == FINAL
    assert results[-1].errors is None


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_operation_without_defer_is_one_result(
    incremental_server: RunningServer, transport: str
) -> None:
    async with AIOHTTPClient(incremental_server.http_url, **TRANSPORTS[transport]) as client:  # type: ignore[arg-type]
        results = [r async for r in client.execute_incremental("{ hello }")]
    assert [r.data for r in results] == [{"hello": "Hello, world!"}]


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_execute_incremental_over_the_websocket_uses_the_socket(
    incremental_server: RunningServer, subprotocol: str
) -> None:
    async with AIOHTTPClient(
        incremental_server.http_url,
        use_websocket_for_queries=True,
        subscription_protocols=(subprotocol,),
    ) as client:
        results = [r async for r in client.execute_incremental(QUERY)]
        transport = client.backend.websocket()
        assert isinstance(transport, WebSocketManager)
        assert transport.connections_opened == 1  # the payloads came over the socket
    # The same progressively merged results as over HTTP.
    async with AIOHTTPClient(incremental_server.http_url) as client:
        over_http = [r async for r in client.execute_incremental(QUERY)]
    assert [r.data for r in results] == [r.data for r in over_http]
    assert results[-1].data == FINAL


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_request_error_over_the_websocket_is_a_result_with_errors(
    incremental_server: RunningServer, subprotocol: str
) -> None:
    async with AIOHTTPClient(
        incremental_server.http_url,
        use_websocket_for_queries=True,
        subscription_protocols=(subprotocol,),
    ) as client:
        results = [r async for r in client.execute_incremental("{ nope @defer }")]
    assert len(results) == 1
    assert results[0].data is None
    assert results[0].errors


async def test_the_2022_format_over_http(incremental_server: RunningServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            incremental_server.http_url,
            json={"query": QUERY},
            headers={"Accept": IncrementalFormat.V0_1.accept},
        ) as response,
    ):
        assert response.headers["Content-Type"] == IncrementalFormat.V0_1.content_type
        parser = MultipartMixedParser(boundary_of(response.headers["Content-Type"]) or "-")
        payloads = [p async for chunk in response.content.iter_any() for p in parser.feed(chunk)]
        parser.close()
    assert payloads[0] == {"data": {"hello": "Hello, d!", "add": 3}, "hasNext": True}
    assert payloads[-1]["incremental"] == [
        {"data": {"slow": "slept 50"}, "path": [], "label": "later"}
    ]
    merger = IncrementalMerger()
    for payload in payloads:
        result = merger.apply(payload)
    assert result == {"data": FINAL}


# -- the clew client against Strawberry's experimental incremental execution ----------------


@pytest.fixture(scope="module")
def strawberry_incremental_server() -> Iterator[RunningServer]:
    port = free_port()
    command = uvicorn_command("peers.strawberry_app:create_incremental_app", port)
    with running_server("strawberry (incremental)", command, port=port) as server:
        yield server


async def test_clew_client_against_strawberry(
    strawberry_incremental_server: RunningServer, incremental_server: RunningServer
) -> None:
    async with AIOHTTPClient(strawberry_incremental_server.http_url) as client:
        theirs = [r async for r in client.execute_incremental(QUERY)]
    async with AIOHTTPClient(incremental_server.http_url) as client:
        ours = [r async for r in client.execute_incremental(QUERY)]
    # The same progressively merged results from both servers.
    assert [r.data for r in theirs] == [r.data for r in ours]
    assert theirs[-1].data == FINAL
    assert theirs[-1].errors is None


async def test_strawberrys_wire_format_differs_from_clews(
    strawberry_incremental_server: RunningServer, incremental_server: RunningServer
) -> None:
    async def fetch(url: str, accept: str) -> tuple[str, list[dict[str, object]]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"query": QUERY}, headers={"Accept": accept}) as response,
        ):
            content_type = response.headers["Content-Type"]
            parser = MultipartMixedParser(boundary_of(content_type) or "-")
            payloads = [p async for c in response.content.iter_any() for p in parser.feed(c)]
            parser.close()
            return content_type, payloads

    accept = IncrementalFormat.V0_2.accept
    theirs_type, theirs = await fetch(strawberry_incremental_server.http_url, accept)
    ours_type, ours = await fetch(incremental_server.http_url, accept)
    # Difference 1: Strawberry names no format in its Content-Type; clew names the one chosen.
    assert theirs_type == 'multipart/mixed; boundary="-"'
    assert ours_type == IncrementalFormat.V0_2.content_type
    # Difference 2: Strawberry writes `"extensions": null` on every payload, clew omits it.
    assert all(p.get("extensions", "absent") is None for p in theirs)
    assert all("extensions" not in p for p in ours)
    # Difference 3: Strawberry adds the pending entry's `path` and `label` (null when there
    # is none) to each incremental entry, mixing in the 2022 format; clew sends the newer
    # format as graphql-core produces it.
    their_entry = theirs[-1]["incremental"][0]  # type: ignore[index]
    our_entry = ours[-1]["incremental"][0]  # type: ignore[index]
    assert their_entry == {"data": {"slow": "slept 50"}, "id": "0", "path": [], "label": "later"}
    assert our_entry == {"data": {"slow": "slept 50"}, "id": "0"}
    # Otherwise the payloads agree.
    strip = lambda p: {k: v for k, v in p.items() if k not in ("extensions", "incremental")}  # noqa: E731
    assert [strip(p) for p in theirs] == [strip(p) for p in ours]
    # Difference 4: Strawberry answers with multipart whatever Accept says; clew only when
    # Accept names a format (otherwise the directive is unknown to its plain HTTP engine).
    plain_type, _ = await fetch(strawberry_incremental_server.http_url, "application/json")
    assert plain_type.startswith("multipart/mixed")
