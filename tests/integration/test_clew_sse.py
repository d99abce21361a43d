"""The clew client against the clew server over GraphQL over SSE, in both graphql-sse modes.

The server (``peers/clew_app.py``) counts, per Authorization token, the subscription source
streams it started and closed; each test uses a token of its own.
"""

from __future__ import annotations

import asyncio

import pytest

from clew.client import AIOHTTPClient, HTTPStatusError, SubscriptionError

from .peers.clew_app import Stats, new_token, wait_for_stats
from .servers import RunningServer

MODES = {"distinct": False, "single": True}

pytestmark = [pytest.mark.parametrize("mode", MODES), pytest.mark.timeout(60)]

COUNT = "subscription Count($to: Int!, $delay: Int) { count(to: $to, delayMs: $delay) }"


def _client(server: RunningServer, mode: str, token: str, **options: object) -> AIOHTTPClient:
    return AIOHTTPClient(
        server.http_url,
        subscription_transport="sse",
        sse_single_connection=MODES[mode],
        headers={"Authorization": f"Bearer {token}"},
        **options,  # type: ignore[arg-type]
    )


def _get(stats: Stats, counter: str, token: str) -> int:
    return stats[counter].get(token, 0)


async def _values(client: AIOHTTPClient, query: str, **variables: object) -> list[object]:
    values: list[object] = []
    async for response in client.subscribe(query, variables):
        assert response.errors is None, response.errors
        assert response.data is not None
        values.extend(response.data.values())
    return values


async def test_query_and_mutation_over_sse(clew_server: RunningServer, mode: str) -> None:
    token = new_token()
    async with _client(clew_server, mode, token, use_sse_for_queries=True) as client:
        hello = await client.execute('query { hello(name: "sse") add(a: 2, b: 40) whoami }')
        assert hello.data == {"hello": "Hello, sse!", "add": 42, "whoami": token}
        echo = await client.execute(
            "mutation Echo($m: String!) { echo(message: $m) }", {"m": "over sse"}
        )
        assert echo.data == {"echo": "over sse"}
        failed = await client.execute("query { fail hello }")
        assert failed.data == {"fail": None, "hello": "Hello, world!"}
        assert failed.errors is not None
        assert [(e["message"], e.get("path")) for e in failed.errors] == [("boom", ["fail"])]
        invalid = await client.execute("query { nope }")
        assert invalid.data is None
        assert invalid.errors is not None
        assert "Cannot query field 'nope'" in invalid.errors[0]["message"]


async def test_subscription_runs_to_completion(clew_server: RunningServer, mode: str) -> None:
    token = new_token()
    async with _client(clew_server, mode, token) as client:
        assert await _values(client, COUNT, to=5, delay=1) == [1, 2, 3, 4, 5]
        assert await _values(client, COUNT, to=2) == [1, 2]
    stats = await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_ended", token) == 2)
    assert _get(stats, "streams_started", token) == 2
    assert _get(stats, "streams_closed_early", token) == 0


async def test_breaking_out_closes_the_server_generator(
    clew_server: RunningServer, mode: str
) -> None:
    token = new_token()
    async with _client(clew_server, mode, token) as client:
        seen: list[object] = []
        async for response in client.subscribe(COUNT, {"to": 100_000, "delay": 10}):
            assert response.data is not None
            seen.append(response.data["count"])
            if len(seen) == 3:
                break
        assert seen == [1, 2, 3]
        stats = await wait_for_stats(
            clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 1
        )
        assert _get(stats, "streams_started", token) == 1
        # The client still works afterwards (in single connection mode, on the same stream).
        assert await _values(client, COUNT, to=1) == [1]


async def test_concurrent_subscriptions(clew_server: RunningServer, mode: str) -> None:
    token = new_token()
    async with _client(clew_server, mode, token) as client:
        results = await asyncio.gather(
            *(_values(client, COUNT, to=n, delay=2) for n in range(1, 6))
        )
        assert results == [list(range(1, n + 1)) for n in range(1, 6)]


async def test_a_failing_subscription_ends_with_its_error(
    clew_server: RunningServer, mode: str
) -> None:
    token = new_token()
    async with _client(clew_server, mode, token) as client:
        responses = [r async for r in client.subscribe("subscription { failAfter(n: 2) }")]
    assert [r.data for r in responses[:2]] == [{"failAfter": 1}, {"failAfter": 2}]
    assert responses[2].errors is not None
    assert responses[2].errors[0]["message"] == "boom"


async def test_validation_errors(clew_server: RunningServer, mode: str) -> None:
    token = new_token()
    async with _client(clew_server, mode, token) as client:
        stream = client.subscribe("subscription { nope }")
        if mode == "single":
            # The operation is refused with 400 before it reaches the stream.
            with pytest.raises(SubscriptionError, match="Cannot query field 'nope'"):
                await anext(stream)
        else:
            # Distinct connections mode reports it inside the accepted stream.
            response = await anext(stream)
            assert response.errors is not None
            assert "Cannot query field 'nope'" in response.errors[0]["message"]
            with pytest.raises(StopAsyncIteration):
                await anext(stream)


async def test_a_refused_request_is_an_http_error(clew_server: RunningServer, mode: str) -> None:
    async with _client(clew_server, mode, "wrong") as client:
        with pytest.raises(HTTPStatusError) as raised:
            await anext(client.subscribe(COUNT, {"to": 1}))
    assert raised.value.status == 403


async def test_closing_the_client_mid_subscription_cleans_up_the_server(
    clew_server: RunningServer, mode: str
) -> None:
    token = new_token()
    client = _client(clew_server, mode, token)
    stream = client.subscribe(COUNT, {"to": 100_000, "delay": 10})
    assert (await anext(stream)).data == {"count": 1}
    await stream.aclose()
    await client.close()
    stats = await wait_for_stats(
        clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 1
    )
    assert _get(stats, "streams_started", token) == 1
