"""GraphQL over SSE under stress, against a real uvicorn process of its own.

A client that vanishes mid-stream, 1,000 concurrent subscriptions on one server (the memory
each costs is measured from the server's RSS and printed), a reader that stops reading, bad
tokens and a second stream for one reservation: each gets the protocol's answer, and no result
is lost or leaked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from clew.protocol.sse import Complete, EventStreamParser, Next, parse_message

from .peers.clew_app import Stats, new_token, wait_for_stats
from .servers import RunningServer, free_port, running_server, uvicorn_command

pytestmark = pytest.mark.timeout(300)

STREAMS = 1000
MESSAGES = "subscription Messages($room: String!) { messages(room: $room) }"
PUBLISH = "mutation Publish($room: String!, $text: String!) { publish(room: $room, text: $text) }"
COUNT = "subscription Count($to: Int!, $delay: Int) { count(to: $to, delayMs: $delay) }"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """A clew server for this module alone, so its memory is this module's traffic."""
    port = free_port()
    command = uvicorn_command("peers.clew_app:create_app", port)
    with running_server("clew (robustness)", command, port=port) as running:
        yield running


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _get(stats: Stats, counter: str, token: str) -> int:
    return stats[counter].get(token, 0)


async def open_stream(
    session: aiohttp.ClientSession, url: str, token: str, query: str, variables: dict[str, object]
) -> aiohttp.ClientResponse:
    response = await session.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token}"},
    )
    assert response.status == 200
    assert await response.content.readuntil(b":\n\n") == b":\n\n"  # the first keep-alive
    return response


async def read_message(response: aiohttp.ClientResponse, parser: EventStreamParser) -> object:
    while True:
        line = await response.content.readuntil(b"\n\n")
        for event in parser.feed(line):
            return parse_message(event, single_connection=False)


async def test_a_client_that_disconnects_mid_stream(server: RunningServer) -> None:
    token = new_token()
    async with aiohttp.ClientSession() as session:
        response = await open_stream(
            session, server.http_url, token, COUNT, {"to": 100_000, "delay": 10}
        )
        await response.content.readuntil(b'"count":2')
        response.close()  # the connection drops mid-stream
    stats = await wait_for_stats(server.url, lambda s: _get(s, "streams_closed_early", token) == 1)
    assert _get(stats, "streams_ended", token) == 1


async def test_a_thousand_concurrent_subscriptions(server: RunningServer) -> None:
    token, room = new_token(), new_token()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # Warm up (imports, caches) before the baseline.
        warm = await open_stream(session, server.http_url, new_token(), COUNT, {"to": 1})
        await warm.read()
        before = rss_bytes(server.process.pid)
        semaphore = asyncio.Semaphore(100)  # connect in waves; all stay open together

        async def one() -> aiohttp.ClientResponse:
            async with semaphore:
                return await open_stream(session, server.http_url, token, MESSAGES, {"room": room})

        responses = await asyncio.gather(*(one() for _ in range(STREAMS)))
        await wait_for_stats(
            server.url, lambda s: _get(s, "streams_started", token) == STREAMS, within=60
        )
        after = rss_bytes(server.process.pid)
        per_stream = (after - before) / STREAMS
        print(
            f"\n{STREAMS} concurrent SSE subscriptions: server RSS {before / 2**20:.1f} MiB -> "
            f"{after / 2**20:.1f} MiB, {per_stream / 1024:.1f} KiB per stream"
        )
        assert per_stream < 256 * 1024

        # One publish reaches every stream: nothing is lost.
        published = await session.post(
            server.http_url,
            json={"query": PUBLISH, "variables": {"room": room, "text": "hello"}},
        )
        assert (await published.json()) == {"data": {"publish": True}}
        parsers = [EventStreamParser() for _ in responses]
        received = await asyncio.gather(
            *(read_message(r, p) for r, p in zip(responses, parsers, strict=True))
        )
        assert received == [Next(payload={"data": {"messages": "hello"}})] * STREAMS
        for response in responses:
            response.close()
    stats = await wait_for_stats(
        server.url, lambda s: _get(s, "streams_closed_early", token) == STREAMS, within=60
    )
    assert _get(stats, "streams_ended", token) == STREAMS


async def test_a_slow_reader_costs_bounded_memory_and_loses_nothing(
    server: RunningServer,
) -> None:
    token = new_token()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        response = await open_stream(
            session, server.http_url, token, COUNT, {"to": 10_000_000, "delay": 0}
        )
        parser = EventStreamParser()
        first = await read_message(response, parser)
        assert first == Next(payload={"data": {"count": 1}})
        before = rss_bytes(server.process.pid)
        # Stop reading. An unbounded server would buffer millions of events here.
        await asyncio.sleep(3)
        grown = rss_bytes(server.process.pid) - before
        print(f"\nslow SSE reader: server RSS grew {grown / 2**20:.2f} MiB in 3 s of not reading")
        assert grown < 32 * 2**20
        # Reading again, the events continue in order from where they stopped.
        for expected in range(2, 2002):
            message = await read_message(response, parser)
            assert message == Next(payload={"data": {"count": expected}})
        response.close()
    await wait_for_stats(server.url, lambda s: _get(s, "streams_closed_early", token) == 1)


TOKEN = "X-GraphQL-Event-Stream-Token"


async def test_single_connection_misuse_gets_the_protocol_answers(server: RunningServer) -> None:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.put(server.http_url) as reserved:
            assert reserved.status == 201
            token = await reserved.text()
        stream = await session.get(
            server.http_url, headers={"Accept": "text/event-stream", TOKEN: token}
        )
        assert stream.status == 200
        # A second stream for the same reservation.
        async with session.get(
            server.http_url, headers={"Accept": "text/event-stream", TOKEN: token}
        ) as second:
            assert second.status == 409
            assert await second.json() == {"errors": [{"message": "Stream already open"}]}
        # Malformed and unknown tokens.
        for bad in ("", "x" * 4096, token + "x", "a b", "%00"):
            async with session.post(
                server.http_url,
                json={"query": "{ hello }", "extensions": {"operationId": "1"}},
                headers={TOKEN: bad} if bad else {},
                params={"token": bad} if not bad else None,
            ) as refused:
                if bad:
                    assert refused.status == 404, bad
                    assert await refused.json() == {"errors": [{"message": "Stream not found"}]}
                else:
                    # No token at all: a plain GraphQL-over-HTTP request.
                    assert refused.status == 200
        # The reservation still works after all that; nothing was lost.
        async with session.post(
            server.http_url,
            json={"query": "{ hello }", "extensions": {"operationId": "1"}},
            headers={TOKEN: token},
        ) as accepted:
            assert accepted.status == 202
        parser = EventStreamParser()
        messages = []
        while len(messages) < 2:
            chunk = await stream.content.readany()
            messages.extend(
                parse_message(event, single_connection=True) for event in parser.feed(chunk)
            )
        assert messages == [
            Next(payload={"data": {"hello": "Hello, world!"}}, id="1"),
            Complete(id="1"),
        ]
        stream.close()
