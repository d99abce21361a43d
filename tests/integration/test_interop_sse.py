"""GraphQL over SSE against peers nobody on this project wrote: the graphql-sse npm package.

graphql-sse's reference client (``createClient``, both modes, via ``peers/client.mjs``) runs one
scenario against the clew server and against graphql-sse's reference server (``createHandler``
on Node's http server, ``peers/server.mjs`` at ``/sse``); the events must agree, and the few
differences are asserted one by one with their reason. Then the clew client runs against the
reference server in both modes.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final

import pytest

from clew.client import AIOHTTPClient, SubscriptionError

from .peers.clew_app import new_token, wait_for_stats
from .servers import RunningServer, run_node_client, run_node_client_async

MODES: Final = ("graphql-sse", "graphql-sse-single")
COUNT: Final = "subscription Count($to: Int!, $delay: Int) { count(to: $to, delayMs: $delay) }"

pytestmark = pytest.mark.timeout(90)

Line = dict[str, object]


def _scenario(token: str) -> dict[str, object]:
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "operations": [
            {"id": "query", "query": 'query { hello(name: "sse") whoami }'},
            {"id": "mutation", "query": 'mutation { echo(message: "hi") }'},
            {"id": "subscription", "query": "subscription { count(to: 3) }"},
            {"id": "early", "query": "subscription { count(to: 100000, delayMs: 10) }", "take": 2},
            {"id": "resolver", "query": "query { fail hello }"},
            {"id": "invalid", "query": "query { nope }"},
            {"id": "syntax", "query": "query {"},
            {"id": "failing", "query": "subscription { failAfter(n: 1) }"},
        ],
    }


def _normalised(value: object) -> object:
    """Drop what legitimately differs: clew's debug `extensions` on errors (the test app runs
    with debug on) and graphql-js' double quotes where graphql-core writes single ones."""
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items() if k != "extensions"}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, str):
        return re.sub(r'"(\w+)"', r"'\1'", value)
    return value


def _by_id(lines: list[Line]) -> dict[str, list[object]]:
    grouped: dict[str, list[object]] = {}
    for line in lines:
        if "id" in line:
            entry = {k: v for k, v in line.items() if k != "id"}
            grouped.setdefault(str(line["id"]), []).append(_normalised(entry))
    return grouped


def _next(payload: object) -> object:
    return {"event": "next", "payload": payload}


COMPLETE: Final = {"event": "complete"}


@pytest.mark.parametrize("mode", MODES)
def test_reference_client_against_clew_and_the_reference_server(
    clew_server: RunningServer, node_server: RunningServer, mode: str
) -> None:
    token = new_token()
    clew = _by_id(run_node_client(clew_server.http_url, mode, _scenario(token)))
    reference = _by_id(run_node_client(node_server.url + "/sse", mode, _scenario(token)))

    # The same events from both servers.
    for operation in ("query", "mutation", "subscription", "resolver", "invalid"):
        assert clew[operation] == reference[operation], operation
    assert clew["query"] == [
        _next({"data": {"hello": "Hello, sse!", "whoami": token}}),
        COMPLETE,
    ]
    assert clew["subscription"] == [_next({"data": {"count": n}}) for n in (1, 2, 3)] + [COMPLETE]

    # Early unsubscribe: the client stops after two results, and clew closes the generator.
    assert clew["early"] == [
        _next({"data": {"count": 1}}),
        _next({"data": {"count": 2}}),
        {"event": "unsubscribed"},
    ]
    stats = asyncio.run(
        wait_for_stats(clew_server.url, lambda s: s["streams_closed_early"].get(token) == 1)
    )
    assert stats["streams_started"][token] == 3  # subscription, early, failing
    assert reference["early"] == clew["early"]

    # A document that does not parse.
    if mode == "graphql-sse":
        # Difference: graphql-sse's handler answers a syntax error with 400 (the client then
        # fails without detail); clew reports it inside the accepted stream, as the protocol
        # asks for validation errors, so the client sees the message.
        assert clew["syntax"] == [
            _next(
                {
                    "errors": [
                        {
                            "message": "Syntax Error: Expected Name, found <EOF>.",
                            "locations": [{"line": 1, "column": 8}],
                        }
                    ]
                }
            ),
            COMPLETE,
        ]
        assert reference["syntax"] == [
            {"event": "error", "message": "Server responded with 400: Bad Request"}
        ]
    else:
        # Single connection mode: both refuse the operation with 400 (the reference server
        # answers 409 here only because of the reservation collision above).
        assert (
            clew["syntax"]
            == clew["invalid"]
            == [{"event": "error", "message": "Server responded with 400: Bad Request"}]
        )

    # A subscription source that raises.
    # Difference: the reference server drops the stream (the client reports "Connection closed
    # while having active streams"); clew sends the error as a last result and completes, as
    # graphql-ws' server does over WebSocket.
    assert clew["failing"] == [
        _next({"data": {"failAfter": 1}}),
        _next({"errors": [{"message": "boom"}]}),
        COMPLETE,
    ]
    # Which words the reference client reports depends on a race between the two Node peers
    # (the server dropping the stream, or the client's own abort seen first).
    dropped = ("Connection closed while having active streams", "This operation was aborted")
    assert reference["failing"] in [
        [_next({"data": {"failAfter": 1}}), {"event": "error", "message": message}]
        for message in dropped
    ]


@pytest.mark.parametrize("mode", MODES)
def test_reference_client_is_refused_by_authenticate(clew_server: RunningServer, mode: str) -> None:
    lines = run_node_client(clew_server.http_url, mode, _scenario("wrong"))
    errors = [line for line in lines if line.get("event") == "error" and "id" in line]
    assert len(errors) == len(_scenario("wrong")["operations"])  # type: ignore[arg-type]
    # In single connection mode the non-lazy reservation itself is refused too.
    for line in [line for line in lines if line.get("event") == "error"]:
        assert line["message"] == "Server responded with 403: Forbidden"
    assert not [line for line in lines if line.get("event") == "next"]


# -- the clew client against graphql-sse's reference server ---------------------------------


def _client(server: RunningServer, mode: str, token: str) -> AIOHTTPClient:
    return AIOHTTPClient(
        server.url + "/sse",
        subscription_transport="sse",
        sse_single_connection=mode == "graphql-sse-single",
        use_sse_for_queries=True,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("mode", MODES)
async def test_clew_client_against_the_reference_server(
    node_server: RunningServer, mode: str
) -> None:
    token = new_token()
    async with _client(node_server, mode, token) as client:
        hello = await client.execute('query { hello(name: "clew") whoami }')
        assert hello.data == {"hello": "Hello, clew!", "whoami": token}
        echo = await client.execute('mutation { echo(message: "hi") }')
        assert echo.data == {"echo": "hi"}
        failed = await client.execute("query { fail hello }")
        assert failed.data == {"fail": None, "hello": "Hello, world!"}
        assert failed.errors is not None
        assert failed.errors[0]["message"] == "boom"

        values = [r.data async for r in client.subscribe(COUNT, {"to": 3})]
        assert values == [{"count": 1}, {"count": 2}, {"count": 3}]

        # Two at once (one stream carries both in single connection mode).
        both = await asyncio.gather(
            *(_collect(client, COUNT, {"to": n, "delay": 5}) for n in (2, 4))
        )
        assert both == [[1, 2], [1, 2, 3, 4]]

        # Early unsubscribe, then the client still works.
        seen = []
        async for response in client.subscribe(COUNT, {"to": 100_000, "delay": 10}):
            assert response.data is not None
            seen.append(response.data["count"])
            if len(seen) == 2:
                break
        assert seen == [1, 2]
        assert (await client.execute("query { hello }")).data == {"hello": "Hello, world!"}

        invalid = client.subscribe("subscription { nope }")
        if mode == "graphql-sse":
            # The reference server reports validation errors inside the stream.
            response = await anext(invalid)
            assert response.errors is not None
            assert 'Cannot query field "nope"' in response.errors[0]["message"]
        else:
            # ... and refuses them with 400 and the errors in single connection mode.
            with pytest.raises(SubscriptionError, match='Cannot query field "nope"'):
                await anext(invalid)
        await invalid.aclose()


async def _collect(client: AIOHTTPClient, query: str, variables: dict[str, object]) -> list[object]:
    return [r.data["count"] async for r in client.subscribe(query, variables) if r.data]


async def test_reference_client_and_clew_client_share_the_clew_server(
    clew_server: RunningServer,
) -> None:
    # The reference client's single connection mode and the clew client's at the same time.
    token = new_token()
    node = asyncio.ensure_future(
        run_node_client_async(
            clew_server.http_url,
            "graphql-sse-single",
            {
                "headers": {"Authorization": f"Bearer {token}"},
                "concurrent": True,
                "operations": [
                    {"id": str(n), "query": f"subscription {{ count(to: {n}, delayMs: 5) }}"}
                    for n in range(1, 6)
                ],
            },
        )
    )
    async with AIOHTTPClient(
        clew_server.http_url, subscription_transport="sse", sse_single_connection=True
    ) as client:
        mine = await _collect(client, COUNT, {"to": 5, "delay": 5})
    lines = await node
    grouped = _by_id(lines)
    assert mine == [1, 2, 3, 4, 5]
    for n in range(1, 6):
        assert grouped[str(n)] == [_next({"data": {"count": k}}) for k in range(1, n + 1)] + [
            COMPLETE
        ]
