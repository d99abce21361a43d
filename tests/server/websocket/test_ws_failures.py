"""Failure paths between the server and the protocol core, on uvicorn, for both subprotocols.

A result JSON cannot carry fails its operation with a masked `error` and leaves the socket
usable; stopping an operation whose stream is slow to close holds up nothing else.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol
from ws_support import LEGACY, TRANSPORT, serving

from clew.server import GraphQL
from clew.server.websocket import GraphQLTransportWSHandler, GraphQLWSHandler, Operation

START = {TRANSPORT: "subscribe", LEGACY: "start"}
STOP = {TRANSPORT: "complete", LEGACY: "stop"}
RESULT = {TRANSPORT: "next", LEGACY: "data"}


class Seen:
    """What the resolvers and hooks saw."""

    def __init__(self) -> None:
        self.completed: list[str] = []
        self.finally_started = asyncio.Event()
        self.finally_done = 0


def schema(seen: Seen) -> GraphQLSchema:
    # `Money` serializes to Decimal, which graphql-core accepts and JSON cannot carry.
    money = GraphQLScalarType("Money", serialize=Decimal)

    async def prices(_root: object, _info: object, limit: int) -> AsyncIterator[str]:
        for n in range(limit):
            yield f"{n}.50"

    async def slow_to_stop(_root: object, _info: object) -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.Event().wait()  # suspended until stopped
        finally:
            seen.finally_started.set()
            await asyncio.sleep(2)  # a slow cleanup: must not hold up the socket
            seen.finally_done += 1

    def event(value: object, _info: object, **_args: object) -> object:
        return value

    return GraphQLSchema(
        query=GraphQLObjectType(
            "Query",
            {
                "price": GraphQLField(money, resolve=lambda *_: "1.50"),
                "hello": GraphQLField(GraphQLString, resolve=lambda *_: "Hello world"),
            },
        ),
        subscription=GraphQLObjectType(
            "Subscription",
            {
                "prices": GraphQLField(
                    money,
                    args={"limit": GraphQLArgument(GraphQLInt, default_value=1)},
                    subscribe=prices,
                    resolve=event,
                ),
                "slowToStop": GraphQLField(GraphQLInt, subscribe=slow_to_stop, resolve=event),
            },
        ),
    )


def make_app(seen: Seen) -> GraphQL:
    def on_complete(_websocket: object, operation: Operation) -> None:
        seen.completed.append(operation.id)

    handlers = [
        GraphQLTransportWSHandler(on_complete=on_complete),
        GraphQLWSHandler(on_complete=on_complete),
    ]
    return GraphQL(schema(seen), websocket_handlers=handlers)


async def recv(ws: ClientConnection, within: float = 5) -> dict[str, object]:
    async with asyncio.timeout(within):
        frame: dict[str, object] = json.loads(await ws.recv())
        return frame


async def start(ws: ClientConnection, subprotocol: str, operation_id: str, query: str) -> None:
    message = {"type": START[subprotocol], "id": operation_id, "payload": {"query": query}}
    await ws.send(json.dumps(message))


async def open_socket(url: str, subprotocol: str) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol(subprotocol)])
    await ws.send(json.dumps({"type": "connection_init"}))
    assert await recv(ws) == {"type": "connection_ack"}
    return ws


def masked_error(subprotocol: str, operation_id: str) -> dict[str, object]:
    error = {"message": "Internal server error"}
    payload = [error] if subprotocol == TRANSPORT else error
    return {"id": operation_id, "type": "error", "payload": payload}


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize(
    "query", ["{ price }", "subscription { prices(limit: 3) }"], ids=["query", "subscription"]
)
async def test_an_unencodable_result_fails_its_operation_and_the_socket_stays_usable(
    subprotocol: str, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Seen()
    app = make_app(seen)
    async with serving(app) as (url, _server):
        ws = await open_socket(url, subprotocol)
        try:
            with caplog.at_level(logging.ERROR, logger=app.engine.logger.name):
                await start(ws, subprotocol, "bad", query)
                # A masked error for that operation within a second, and nothing else for it.
                assert await recv(ws, within=1) == masked_error(subprotocol, "bad")
            assert any("cannot be sent" in record.message for record in caplog.records)
            # The next operation on the same socket is answered.
            await start(ws, subprotocol, "good", "{ hello }")
            assert await recv(ws) == {
                "id": "good",
                "type": RESULT[subprotocol],
                "payload": {"data": {"hello": "Hello world"}},
            }
            assert await recv(ws) == {"id": "good", "type": "complete"}
        finally:
            await ws.close()


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
async def test_stopping_a_stream_slow_to_close_holds_up_nothing(subprotocol: str) -> None:
    seen = Seen()
    async with serving(make_app(seen)) as (url, _server):
        ws = await open_socket(url, subprotocol)
        try:
            await start(ws, subprotocol, "slow", "subscription { slowToStop }")
            assert (await recv(ws))["type"] == RESULT[subprotocol]
            await ws.send(json.dumps({"type": STOP[subprotocol], "id": "slow"}))
            if subprotocol == LEGACY:
                # The reference server answers `stop` with `complete`.
                assert await recv(ws) == {"id": "slow", "type": "complete"}
            async with asyncio.timeout(5):
                await seen.finally_started.wait()
            # The generator's `finally` now sleeps 2 s; the socket answers meanwhile, within
            # 100 ms (each answer takes a few ms; a blocked reader would take the 2 s).
            loop = asyncio.get_running_loop()
            if subprotocol == TRANSPORT:
                began = loop.time()
                await ws.send(json.dumps({"type": "ping"}))
                assert await recv(ws) == {"type": "pong"}
                assert loop.time() - began < 0.1
            began = loop.time()
            await start(ws, subprotocol, "next", "{ hello }")
            assert (await recv(ws))["id"] == "next"
            assert loop.time() - began < 0.1
            assert seen.finally_done == 0  # the slow cleanup is indeed still running
            async with asyncio.timeout(5):
                while seen.finally_done == 0:  # noqa: ASYNC110 - the state lives on the server
                    await asyncio.sleep(0.01)
        finally:
            await ws.close()
        await asyncio.sleep(0.05)
    # on_complete ran once for the stopped operation (and once for the query).
    assert sorted(seen.completed) == ["next", "slow"]
