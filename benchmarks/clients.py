"""The client workloads, one client per process (run by `run.py`, pinned to the client core).

    python clients.py sequential KIND URL COUNT   # COUNT sequential `{ hello }` queries
    python clients.py receive KIND URL COUNT      # one subscription of COUNT events

KIND is `clew`, `gql`, `qlient` (sequential only: it cannot subscribe over
graphql-transport-ws) or `raw` (a plain aiohttp loop that encodes each request and parses each
answer or frame). Every answer is checked. Prints one JSON object: count, seconds, the client's
own CPU seconds and failures, all measured after a warm-up on the same connection.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport
from qlient.aiohttp import AIOHTTPBackend, GraphQLRequest
from schema import HELLO_QUERY, STREAM_QUERY

from clew.client import AIOHTTPClient

WARMUP = 200
Query = Callable[[], Awaitable[object]]
Events = Callable[[int], AsyncIterator[object]]


async def _sequential(query: Query, count: int) -> dict[str, float]:
    expected = {"hello": "world"}
    for _ in range(WARMUP):
        await query()
    failures = 0
    cpu, started = time.process_time(), time.perf_counter()
    for _ in range(count):
        if await query() != expected:
            failures += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"count": count, "seconds": seconds, "cpu": cpu, "failures": failures}


async def _receive(events: Events, count: int) -> dict[str, float]:
    async for _ in events(10):
        pass
    received = failures = 0
    cpu, started = time.process_time(), time.perf_counter()
    async for value in events(count):
        if value != {"stream": received}:
            failures += 1
        received += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"count": received, "seconds": seconds, "cpu": cpu, "failures": failures}


async def clew(mode: str, url: str, count: int) -> dict[str, float]:
    async with AIOHTTPClient(url, subscription_protocols=["graphql-transport-ws"]) as client:

        async def query() -> object:
            return (await client.execute(HELLO_QUERY)).data

        async def events(n: int) -> AsyncIterator[object]:
            async for result in client.subscribe(STREAM_QUERY, {"n": n}):
                yield result.data

        if mode == "sequential":
            return await _sequential(query, count)
        return await _receive(events, count)


async def gql_client(mode: str, url: str, count: int) -> dict[str, float]:
    if mode == "sequential":
        request = gql(HELLO_QUERY)
        async with Client(transport=AIOHTTPTransport(url=url)) as session:
            return await _sequential(lambda: session.execute(request), count)
    transport = WebsocketsTransport(
        url=url.replace("http", "ws", 1), subprotocols=["graphql-transport-ws"]
    )
    async with Client(transport=transport) as session:

        async def events(n: int) -> AsyncIterator[object]:
            request = gql(STREAM_QUERY)
            request.variable_values = {"n": n}
            async for data in session.subscribe(request):
                yield data

        return await _receive(events, count)


async def qlient(mode: str, url: str, count: int) -> dict[str, float]:
    if mode != "sequential":
        raise SystemExit("qlient speaks only the legacy graphql-ws over WebSocket")
    async with aiohttp.ClientSession() as session:
        backend = AIOHTTPBackend(url, session=session)

        async def query() -> object:
            return (await backend.execute_query(GraphQLRequest(query=HELLO_QUERY))).data

        return await _sequential(query, count)


async def raw(mode: str, url: str, count: int) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        if mode == "sequential":

            async def query() -> object:
                async with session.post(url, json={"query": HELLO_QUERY}) as response:
                    return (await response.json())["data"]

            return await _sequential(query, count)
        async with session.ws_connect(
            url.replace("http", "ws", 1), protocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_str('{"type":"connection_init"}')
            if json.loads(await ws.receive_str())["type"] != "connection_ack":
                raise RuntimeError("no connection_ack")
            sequence = 0

            async def events(n: int) -> AsyncIterator[object]:
                nonlocal sequence
                sequence += 1
                payload = {"query": STREAM_QUERY, "variables": {"n": n}}
                subscribe = {"type": "subscribe", "id": str(sequence), "payload": payload}
                await ws.send_str(json.dumps(subscribe))
                async for message in ws:
                    frame = json.loads(message.data)
                    if frame["type"] == "next":
                        yield frame["payload"]["data"]
                    elif frame["type"] == "complete":
                        return
                    else:
                        raise RuntimeError(f"unexpected frame {frame!r}")

            return await _receive(events, count)


KINDS = {"clew": clew, "gql": gql_client, "qlient": qlient, "raw": raw}


def main() -> None:
    mode, kind, url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if mode not in ("sequential", "receive"):
        raise SystemExit(f"unknown mode {mode!r}")
    # The default event loop: what a user of each client gets unless they choose otherwise.
    print(json.dumps(asyncio.run(KINDS[kind](mode, url, count))))


if __name__ == "__main__":
    main()
