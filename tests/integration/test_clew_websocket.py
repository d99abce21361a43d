"""The clew client against the clew server over a real WebSocket, once per subprotocol.

The server (``peers/clew_app.py``) counts, per connection_init token, the sockets it
initialised and the subscription source streams it started and closed; each test uses a token
of its own, so the shared server's counters for it describe that test alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import aclosing

import pytest

from clew.client import AIOHTTPClient, SubscriptionError, WebSocketClosedError
from clew.client._websocket import WebSocketManager

from .peers.clew_app import Stats, fetch_stats, new_token, wait_for_stats
from .servers import RunningServer

SUBPROTOCOLS = ("graphql-transport-ws", "graphql-ws")

pytestmark = [pytest.mark.parametrize("subprotocol", SUBPROTOCOLS), pytest.mark.timeout(30)]

COUNT = "subscription Count($to: Int!, $delay: Int) { count(to: $to, delayMs: $delay) }"
MESSAGES = "subscription Messages($room: String!) { messages(room: $room) }"
PUBLISH = "mutation Publish($room: String!, $text: String!) { publish(room: $room, text: $text) }"


def _client(
    server: RunningServer,
    subprotocol: str,
    token: str,
    *,
    websocket_options: Mapping[str, object] | None = None,
    use_websocket_for_queries: bool = False,
) -> AIOHTTPClient:
    return AIOHTTPClient(
        server.http_url,
        subscription_protocols=(subprotocol,),
        connection_params={"token": token},
        use_websocket_for_queries=use_websocket_for_queries,
        websocket_options=websocket_options,
    )


def _manager(client: AIOHTTPClient) -> WebSocketManager:
    transport = client.backend.websocket()
    assert isinstance(transport, WebSocketManager)
    return transport


def _get(stats: Stats, counter: str, token: str) -> int:
    return stats[counter].get(token, 0)


async def _values(
    client: AIOHTTPClient, query: str, into: list[object] | None = None, **variables: object
) -> list[object]:
    """The values a subscription yields until it completes (also left in into as they come)."""
    values = [] if into is None else into
    async for response in client.subscribe(query, variables):
        assert response.errors is None, response.errors
        assert response.data is not None
        values.extend(response.data.values())
    return values


async def _wait_for_subscribers(client: AIOHTTPClient, room: str, text: str) -> None:
    # The publish mutation answers true once a `messages(room)` stream is listening.
    for _ in range(250):
        response = await client.execute(PUBLISH, {"room": room, "text": text})
        if response.data == {"publish": True}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nobody subscribed to {room!r}")


# -- queries and mutations over the socket -------------------------------------------------


async def test_query_and_mutation_over_the_websocket(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token, use_websocket_for_queries=True) as client:
        hello = await client.execute('query { hello(name: "clew") add(a: 2, b: 40) }')
        assert hello.data == {"hello": "Hello, clew!", "add": 42}
        assert hello.errors is None
        echo = await client.execute(
            "mutation Echo($m: String!) { echo(message: $m) }", {"m": "over the socket"}
        )
        assert echo.data == {"echo": "over the socket"}
        whoami = await client.execute("query { whoami }")
        assert whoami.data == {"whoami": token}
        assert _manager(client).subprotocol == subprotocol
    stats = await fetch_stats(clew_server.url)
    # Three operations, one socket.
    assert _get(stats, "connection_inits", token) == 1


async def test_resolver_error_over_the_websocket_is_a_result_with_errors(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token, use_websocket_for_queries=True) as client:
        response = await client.execute("query { fail hello }")
        assert response.data == {"fail": None, "hello": "Hello, world!"}
        assert response.errors is not None
        assert [(e["message"], e.get("path")) for e in response.errors] == [("boom", ["fail"])]


# -- subscriptions ---------------------------------------------------------------------------


async def test_subscription_runs_to_completion(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        assert await _values(client, COUNT, to=5, delay=1) == [1, 2, 3, 4, 5]
        # The operation id is free again and the socket still works: run a second one.
        assert await _values(client, COUNT, to=2) == [1, 2]
    stats = await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_ended", token) == 2)
    assert _get(stats, "streams_started", token) == 2
    assert _get(stats, "streams_closed_early", token) == 0
    assert _get(stats, "connection_inits", token) == 1


async def test_breaking_out_of_async_for_closes_the_server_generator(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        seen: list[object] = []
        async for response in client.subscribe(COUNT, {"to": 100_000, "delay": 10}):
            assert response.data is not None
            seen.append(response.data["count"])
            if len(seen) == 3:
                break
        assert seen == [1, 2, 3]
        # The socket stays open for other operations while the server closes the generator.
        stats = await wait_for_stats(
            clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 1
        )
        assert _get(stats, "streams_started", token) == 1
        assert _get(stats, "streams_ended", token) == 1
        assert _get(stats, "open_connections", token) == 1
        assert await _values(client, COUNT, to=1) == [1]
    assert _get(await fetch_stats(clew_server.url), "connection_inits", token) == 1


async def test_aclose_stops_only_that_subscription(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    room = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        stopped = client.subscribe(MESSAGES, {"room": room})
        kept = client.subscribe(MESSAGES, {"room": room})
        async with aclosing(kept):
            first_stopped = asyncio.ensure_future(anext(stopped))
            first_kept = asyncio.ensure_future(anext(kept))
            # Both listen once their source streams exist (they register on creation).
            await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_started", token) == 2)
            await client.execute(PUBLISH, {"room": room, "text": "one"})
            assert (await first_stopped).data == {"messages": "one"}
            assert (await first_kept).data == {"messages": "one"}
            await stopped.aclose()
            await wait_for_stats(
                clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 1
            )
            published = await client.execute(PUBLISH, {"room": room, "text": "two"})
            assert published.data == {"publish": True}  # kept still listens on the server
            assert (await anext(kept)).data == {"messages": "two"}
            with pytest.raises(StopAsyncIteration):
                await anext(stopped)
    await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 2)


async def test_closing_the_client_mid_subscription_cleans_up_the_server(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    client = _client(clew_server, subprotocol, token)
    stream = client.subscribe(COUNT, {"to": 100_000, "delay": 10})
    assert (await anext(stream)).data == {"count": 1}
    await client.close()
    stats = await wait_for_stats(
        clew_server.url,
        lambda s: (
            _get(s, "streams_closed_early", token) == 1 and _get(s, "open_connections", token) == 0
        ),
    )
    assert _get(stats, "streams_started", token) == 1
    # The handle left behind says why it ended instead of hanging.
    async with asyncio.timeout(5):
        with pytest.raises(WebSocketClosedError, match="client was closed") as raised:
            await anext(stream)
    assert raised.value.close_code == 1000


async def test_error_in_a_subscription_source_ends_that_operation(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        seen: list[object] = []
        with pytest.raises(SubscriptionError) as raised:
            await _values(client, "subscription { failAfter(n: 2) }", seen)
        assert seen == [1, 2]
        # clew_app runs with debug=True: the source's own message, with its traceback.
        assert [error["message"] for error in raised.value.errors] == ["boom"]
        # Only that operation ended: the socket carries the next one.
        assert await _values(client, COUNT, to=2) == [1, 2]
    stats = await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_ended", token) == 2)
    assert _get(stats, "connection_inits", token) == 1


async def test_validation_error_fails_that_operation_and_the_socket_stays_usable(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        with pytest.raises(SubscriptionError) as raised:
            await _values(client, "subscription { nope }")
        (error,) = raised.value.errors
        assert "nope" in error["message"]
        with pytest.raises(SubscriptionError) as raised:
            await _values(client, "subscription { count(to: 1) ")
        assert "Syntax Error" in raised.value.errors[0]["message"]
        assert await _values(client, COUNT, to=3) == [1, 2, 3]
        assert _manager(client).connections_opened == 1
    stats = await fetch_stats(clew_server.url)
    assert _get(stats, "connection_inits", token) == 1
    assert _get(stats, "streams_started", token) == 1


async def test_query_validation_error_over_the_websocket_fails_that_query_only(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token, use_websocket_for_queries=True) as client:
        # The server answers `error` (not a result): that query's response carries the errors,
        # as it would over HTTP.
        refused = await client.execute("query { nope }")
        assert refused.data is None
        assert [e["message"] for e in refused.errors or []] == [
            "Cannot query field 'nope' on type 'Query'."
        ]
        assert (await client.execute("query { hello }")).data == {"hello": "Hello, world!"}
        assert _manager(client).connections_opened == 1
    assert _get(await fetch_stats(clew_server.url), "connection_inits", token) == 1


# -- connection_init and authentication ------------------------------------------------------


async def test_connection_init_token_reaches_the_resolvers(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    async with _client(clew_server, subprotocol, token, use_websocket_for_queries=True) as client:
        assert (await client.execute("query { whoami }")).data == {"whoami": token}
    stats = await fetch_stats(clew_server.url)
    assert _get(stats, "connection_inits", token) == 1
    assert _get(stats, "rejected", token) == 0


async def test_rejected_connection_init_is_one_clear_error_not_a_retry_loop(
    clew_server: RunningServer, subprotocol: str
) -> None:
    # A long backoff: if the client retried a rejection, the timeout below would expire.
    options = {"retry": {"base_delay": 30.0, "max_delay": 30.0, "max_attempts": 5}}
    client = AIOHTTPClient(
        clew_server.http_url,
        subscription_protocols=(subprotocol,),
        connection_params={"token": "wrong"},
        websocket_options=options,
    )
    async with client:
        before = _get(await fetch_stats(clew_server.url), "rejected", "wrong")
        async with asyncio.timeout(10):
            with pytest.raises(WebSocketClosedError) as raised:
                await _values(client, COUNT, to=1)
        assert raised.value.close_code == 4403
        assert "Forbidden" in str(raised.value)
        assert _manager(client).connections_opened == 1
        stats = await fetch_stats(clew_server.url)
        assert _get(stats, "rejected", "wrong") - before == 1
        # A later operation tries once more (credentials may have changed) and fails the same.
        async with asyncio.timeout(10):
            with pytest.raises(WebSocketClosedError) as raised:
                await _values(client, COUNT, to=1)
        assert raised.value.close_code == 4403
        assert _manager(client).connections_opened == 2
    stats = await fetch_stats(clew_server.url)
    assert _get(stats, "rejected", "wrong") - before == 2


# -- one socket for many operations -----------------------------------------------------------


async def test_a_hundred_concurrent_subscriptions_share_one_connection(
    clew_server: RunningServer, subprotocol: str
) -> None:
    token = new_token()
    room = new_token()
    async with _client(clew_server, subprotocol, token) as client:
        streams = [client.subscribe(MESSAGES, {"room": room}) for _ in range(100)]
        firsts = [asyncio.ensure_future(anext(stream)) for stream in streams]
        await wait_for_stats(
            clew_server.url, lambda s: _get(s, "streams_started", token) == 100, within=10
        )
        assert (await client.execute(PUBLISH, {"room": room, "text": "all"})).data == {
            "publish": True
        }
        results = await asyncio.gather(*firsts)
        assert [r.data for r in results] == [{"messages": "all"}] * 100
        assert _manager(client).connections_opened == 1
        stats = await fetch_stats(clew_server.url)
        assert _get(stats, "connection_inits", token) == 1
        assert _get(stats, "open_connections", token) == 1
        for stream in streams:
            await stream.aclose()
        await wait_for_stats(
            clew_server.url, lambda s: _get(s, "streams_closed_early", token) == 100
        )


# -- keepalive ---------------------------------------------------------------------------------


async def test_idle_subscription_outlives_the_keepalive_timeouts(
    clew_server: RunningServer, subprotocol: str
) -> None:
    # Server: ping (legacy: ka) every 0.2 s, and 1 s to answer its ping. Client: ping every
    # 0.2 s and 0.8 s for the pong; legacy: at most 0.8 s between two `ka`. Without working
    # keepalives in both directions one side would close the socket during the idle 1.5 s.
    options = {"ping_interval": 0.2, "pong_timeout": 0.8, "keepalive_timeout": 0.8}
    token = new_token()
    room = new_token()
    async with _client(clew_server, subprotocol, token, websocket_options=options) as client:
        stream = client.subscribe(MESSAGES, {"room": room})
        async with aclosing(stream):
            first = asyncio.ensure_future(anext(stream))
            await wait_for_stats(clew_server.url, lambda s: _get(s, "streams_started", token) == 1)
            await asyncio.sleep(1.5)
            assert not first.done()
            await _wait_for_subscribers(client, room, "still here")
            assert (await first).data == {"messages": "still here"}
            assert _manager(client).connections_opened == 1
    stats = await fetch_stats(clew_server.url)
    assert _get(stats, "connection_inits", token) == 1
    assert _get(stats, "streams_started", token) == 1
