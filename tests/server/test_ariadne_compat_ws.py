"""Ariadne's per-message WebSocket methods as override seams, each shown on uvicorn.

Every test subclasses a handler the way Ariadne documents it (override the method, call
``super()`` where it is natural), serves it on a real uvicorn server and talks to it with a
real WebSocket client; each would fail if the override were not called or changed nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from ariadne import QueryType, SubscriptionType, make_executable_schema
from graphql import parse

# Ariadne: from ariadne.asgi import GraphQL; from ariadne.asgi.handlers import ...
from clew.server import GraphQL
from clew.server.handlers import GraphQLTransportWSHandler, GraphQLWSHandler
from clew.server.websocket import ClientContext, Operation
from live_server import serve

type_defs = """
    type Query { hello: String!  whoami: String }
    type Subscription { counter(to: Int = 2): Int!  ticks: Int! }
"""

query = QueryType()
query.set_field("hello", lambda *_: "Hello!")


@query.field("whoami")
def resolve_whoami(_, info):
    return info.context.get("user") if isinstance(info.context, dict) else None


subscription = SubscriptionType()
#: Subscription sources whose `finally` ran (their ids, by `ticks`' first argument).
closed_sources: list[str] = []


@subscription.source("counter")
async def counter_generator(obj, info, to):
    for i in range(1, to + 1):
        yield i


@subscription.source("ticks")
async def ticks_generator(obj, info):
    try:
        i = 0
        while True:
            i += 1
            yield i
            await asyncio.sleep(0.02)
    finally:
        closed_sources.append("ticks")


subscription.set_field("counter", lambda value, *_, **__: value)
subscription.set_field("ticks", lambda value, *_: value)
schema = make_executable_schema(type_defs, query, subscription)

TRANSPORT = "graphql-transport-ws"
HELLO = {"query": "{ hello }"}
TICKS = {"query": "subscription { ticks }"}


@asynccontextmanager
async def socket_to(handler: Any, protocol: str = TRANSPORT) -> AsyncIterator[Any]:
    """A client WebSocket to an app serving `handler` alone on uvicorn."""
    app = GraphQL(schema, websocket_handler=handler)
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=[protocol]) as ws,
    ):
        yield ws


async def acked(ws: Any, payload: dict[str, object] | None = None) -> None:
    init: dict[str, object] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    await ws.send_json(init)
    assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"


async def closed(ws: Any) -> tuple[int | None, str]:
    """Wait for the server's close; its code and reason."""
    message = await ws.receive(timeout=10)
    assert message.type is aiohttp.WSMsgType.CLOSE, message
    return ws.close_code, message.extra


async def wait_for(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the condition never held")


# -- graphql-transport-ws ---------------------------------------------------------------


def test_a_plain_handler_overrides_nothing_and_a_subclass_only_its_methods() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_ping_message(self, websocket, client_context):
            await super().handle_websocket_ping_message(websocket, client_context)

    assert not GraphQLTransportWSHandler()._seams.any
    seams = Handler()._seams
    assert seams.ping is not None
    assert [name for name in seams.__slots__ if getattr(seams, name) is not None] == ["ping"]


async def test_override_handle_connection_init_timeout() -> None:
    timeouts: list[bool] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_connection_init_timeout(self, websocket, client_context):
            timeouts.append(client_context.connection_init_received)
            await websocket.close(code=4000, reason="Say connection_init sooner")

    async with socket_to(Handler(connection_init_wait_timeout=0.2)) as ws:
        assert await closed(ws) == (4000, "Say connection_init sooner")
    assert timeouts == [False]


async def test_handle_connection_init_timeout_defaults_to_4408() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_connection_init_timeout(self, websocket, client_context):
            await super().handle_connection_init_timeout(websocket, client_context)

    async with socket_to(Handler(connection_init_wait_timeout=0.2)) as ws:
        assert (await closed(ws))[0] == 4408


async def test_override_handle_websocket_message() -> None:
    seen: list[dict[str, object]] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_message(self, websocket, message, client_context):
            seen.append(dict(message))
            if message.get("type") == "start":  # the legacy verb, taken as `subscribe`
                message = {**message, "type": "subscribe"}
            await super().handle_websocket_message(websocket, message, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "start", "id": "1", "payload": HELLO})
        assert await ws.receive_json(timeout=10) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"hello": "Hello!"}},
        }
        assert (await ws.receive_json(timeout=10))["type"] == "complete"
        await ws.send_str("not json")  # no dict to give it: the connection answers it
        assert (await closed(ws))[0] == 4400
    assert [message["type"] for message in seen] == ["connection_init", "start"]


async def test_override_handle_websocket_connection_init_message() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_connection_init_message(
            self, websocket, message, client_context
        ):
            if not (message.get("payload") or {}).get("token"):
                await websocket.close(code=4001, reason="No token")
                return
            await super().handle_websocket_connection_init_message(
                websocket, message, client_context
            )

    handler = Handler()
    async with socket_to(handler) as ws:
        await ws.send_json({"type": "connection_init"})
        assert await closed(ws) == (4001, "No token")
    async with socket_to(handler) as ws:
        await acked(ws, {"token": "t"})


async def test_override_handle_websocket_ping_message() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_ping_message(self, websocket, client_context):
            await websocket.send_json({"type": "pong", "payload": {"server": "clew"}})

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "ping"})
        assert await ws.receive_json(timeout=10) == {"type": "pong", "payload": {"server": "clew"}}


async def test_override_handle_websocket_pong_message() -> None:
    pongs: list[bool] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_pong_message(self, websocket, client_context):
            pongs.append(client_context.connection_acknowledged)
            await super().handle_websocket_pong_message(websocket, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "pong"})
        await ws.send_json({"type": "subscribe", "id": "1", "payload": HELLO})
        assert (await ws.receive_json(timeout=10))["type"] == "next"  # frames run in order
    assert pongs == [True]


async def test_override_handle_websocket_complete_message() -> None:
    completed: list[str] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_complete_message(self, websocket, operation_id, client_context):
            completed.append(operation_id)
            if operation_id == "kept":
                return  # this one keeps running: its results still come
            await super().handle_websocket_complete_message(websocket, operation_id, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "kept", "payload": TICKS})
        assert (await ws.receive_json(timeout=10))["id"] == "kept"
        await ws.send_json({"type": "complete", "id": "kept"})
        await ws.send_json({"type": "subscribe", "id": "stopped", "payload": TICKS})
        assert (await ws.receive_json(timeout=10))["id"] == "stopped"
        closed_before = len(closed_sources)
        await ws.send_json({"type": "complete", "id": "stopped"})
        await wait_for(lambda: len(closed_sources) > closed_before)
    assert completed == ["kept", "stopped"]


async def test_an_operation_kept_by_an_override_stops_when_its_id_is_taken_again() -> None:
    # The override keeps "1" running after the client's `complete`; the client then starts a
    # new "1". The kept stream must not send its results under the new operation's id.
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_complete_message(self, websocket, operation_id, client_context):
            return

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "1", "payload": TICKS})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"ticks": 1}}
        closed_before = len(closed_sources)
        await ws.send_json({"type": "complete", "id": "1"})
        await ws.send_json({"type": "subscribe", "id": "1", "payload": TICKS})
        frames = [await ws.receive_json(timeout=10) for _ in range(6)]
        await wait_for(lambda: len(closed_sources) > closed_before)  # the kept one stopped
    # The new operation's own ticks only, in order (the kept one's would repeat them).
    assert [frame["payload"] for frame in frames] == [
        {"data": {"ticks": tick}} for tick in range(1, 7)
    ]


async def test_override_handle_websocket_subscribe() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_subscribe(self, websocket, data, operation_id, client_context):
            assert client_context.connection_acknowledged
            if not data.get("operationName"):
                await websocket.send_json(
                    {
                        "type": "error",
                        "id": operation_id,
                        "payload": [{"message": "Name your operations"}],
                    }
                )
                return
            await super().handle_websocket_subscribe(websocket, data, operation_id, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "1", "payload": HELLO})
        assert await ws.receive_json(timeout=10) == {
            "type": "error",
            "id": "1",
            "payload": [{"message": "Name your operations"}],
        }
        named = {"query": "query Hi { hello }", "operationName": "Hi"}
        await ws.send_json({"type": "subscribe", "id": "2", "payload": named})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"hello": "Hello!"}}


async def test_override_handle_websocket_invalid_type() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_invalid_type(self, websocket):
            await websocket.send_json({"type": "error", "payload": [{"message": "Unknown"}]})
            await super().handle_websocket_invalid_type(websocket)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "bogus"})
        assert await ws.receive_json(timeout=10) == {
            "type": "error",
            "payload": [{"message": "Unknown"}],
        }
        assert (await closed(ws))[0] == 4400


async def test_override_handle_on_complete() -> None:
    calls: list[tuple[str, str]] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_on_complete(self, websocket, operation):
            calls.append(("handle_on_complete", operation.id))
            await super().handle_on_complete(websocket, operation)

    def on_complete(websocket, operation: Operation) -> None:
        calls.append(("on_complete", operation.id))

    async with socket_to(Handler(on_complete=on_complete)) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "1", "payload": HELLO})
        assert (await ws.receive_json(timeout=10))["type"] == "next"
        assert (await ws.receive_json(timeout=10))["type"] == "complete"
        await wait_for(lambda: len(calls) == 2)
    assert calls == [("handle_on_complete", "1"), ("on_complete", "1")]


async def test_override_stop_websocket_operation() -> None:
    stopped: list[tuple[str, bool]] = []

    class Handler(GraphQLTransportWSHandler):
        async def stop_websocket_operation(self, websocket, operation_id, client_context):
            stopped.append((operation_id, operation_id in client_context.operations))
            await super().stop_websocket_operation(websocket, operation_id, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        for operation_id in ("by-complete", "by-disconnect"):
            await ws.send_json({"type": "subscribe", "id": operation_id, "payload": TICKS})
            assert (await ws.receive_json(timeout=10))["id"] == operation_id
        closed_before = len(closed_sources)
        await ws.send_json({"type": "complete", "id": "by-complete"})
        await wait_for(lambda: len(closed_sources) == closed_before + 1)
    # The client's close: the socket's cleanup stops what still runs, through the method too.
    await wait_for(lambda: len(stopped) == 2)
    assert stopped == [("by-complete", True), ("by-disconnect", True)]


async def test_override_observe_async_results() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def observe_async_results(
            self, websocket, results_producer, operation_id, client_context
        ):
            async def scaled():
                async for result in results_producer:
                    yield {"data": {"counter": result["data"]["counter"] * 10}}

            await super().observe_async_results(websocket, scaled(), operation_id, client_context)

    async with socket_to(Handler()) as ws:
        await acked(ws)
        counter = {"query": "subscription { counter(to: 2) }"}
        await ws.send_json({"type": "subscribe", "id": "1", "payload": counter})
        frames = [await ws.receive_json(timeout=10) for _ in range(3)]
    assert frames == [
        {"id": "1", "type": "next", "payload": {"data": {"counter": 10}}},
        {"id": "1", "type": "next", "payload": {"data": {"counter": 20}}},
        {"id": "1", "type": "complete"},
    ]


async def test_override_get_context_for_request_over_the_websocket() -> None:
    contexts: list[object] = []

    class Handler(GraphQLTransportWSHandler):
        async def get_context_for_request(self, request, data):
            default = await super().get_context_for_request(request, data)
            contexts.append(default)
            # Ariadne passes the operation's payload as `data`.
            return {**default, "user": data["extensions"]["user"]}

    async with socket_to(Handler()) as ws:
        await acked(ws, {"token": "t"})
        payload = {"query": "{ whoami }", "extensions": {"user": "ada"}}
        await ws.send_json({"type": "subscribe", "id": "1", "payload": payload})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"whoami": "ada"}}
    (default,) = contexts
    assert isinstance(default, dict)
    assert default["connection_params"] == {"token": "t"}  # clew's default: from the init


async def test_the_client_context_is_ariadnes_shape() -> None:
    contexts: list[ClientContext] = []
    snapshots: list[tuple[bool, bool, list[str]]] = []

    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket_ping_message(self, websocket, client_context):
            contexts.append(client_context)
            snapshots.append(
                (
                    client_context.connection_init_received,
                    client_context.connection_acknowledged,
                    sorted(client_context.operations),
                )
            )
            await super().handle_websocket_ping_message(websocket, client_context)

    async with socket_to(Handler()) as ws:
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=10)) == {"type": "pong"}
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "t", "payload": TICKS})
        assert (await ws.receive_json(timeout=10))["id"] == "t"
        await ws.send_json({"type": "ping"})
        assert (await ws.receive_json(timeout=10))["type"] in {"pong", "next"}
        await wait_for(lambda: len(snapshots) == 2)
    assert snapshots == [(False, False, []), (True, True, ["t"])]
    assert contexts[0] is contexts[1]
    assert contexts[0].websocket is not None


@pytest.mark.parametrize("method", ["handle_websocket_subscribe", "handle_websocket_message"])
async def test_an_override_that_raises_closes_with_4500(method: str) -> None:
    async def broken(self, *args):
        raise RuntimeError("bug in an override")

    handler_class = type("Handler", (GraphQLTransportWSHandler,), {method: broken})
    async with socket_to(handler_class()) as ws:
        if method == "handle_websocket_message":
            await ws.send_json({"type": "connection_init"})
        else:
            await acked(ws)
            await ws.send_json({"type": "subscribe", "id": "1", "payload": HELLO})
        assert (await closed(ws))[0] == 4500


# -- legacy graphql-ws --------------------------------------------------------------------

LEGACY = "graphql-ws"


def test_a_plain_legacy_handler_overrides_nothing() -> None:
    class Handler(GraphQLWSHandler):
        async def keep_websocket_alive(self, websocket):
            await super().keep_websocket_alive(websocket)

    assert not GraphQLWSHandler()._seams.any
    seams = Handler()._seams
    assert [name for name in seams.__slots__ if getattr(seams, name) is not None] == ["keepalive"]


async def test_legacy_override_handle_websocket() -> None:
    class Handler(GraphQLWSHandler):
        async def handle_websocket(self, websocket):
            if websocket.query_params.get("token") != "t":
                await websocket.close(code=4001)
                return
            await super().handle_websocket(websocket)

    app = GraphQL(schema, websocket_handler=Handler())
    async with serve(app) as url, aiohttp.ClientSession() as session:
        # Closed before it was accepted: the handshake itself is refused (ASGI's 403).
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(url, protocols=[LEGACY])
        assert caught.value.status == 403
        async with session.ws_connect(f"{url}?token=t", protocols=[LEGACY]) as ws:
            await acked(ws)


async def test_legacy_override_handle_websocket_message() -> None:
    seen: list[str] = []

    class Handler(GraphQLWSHandler):
        async def handle_websocket_message(self, websocket, message, operations):
            seen.append(str(message.get("type")))
            if message.get("type") == "subscribe":  # graphql-transport-ws' verb, taken as start
                message = {**message, "type": "start"}
            await super().handle_websocket_message(websocket, message, operations)

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "1", "payload": HELLO})
        assert await ws.receive_json(timeout=10) == {
            "id": "1",
            "type": "data",
            "payload": {"data": {"hello": "Hello!"}},
        }
    assert seen == ["connection_init", "subscribe"]


async def test_legacy_override_process_single_message() -> None:
    class Handler(GraphQLWSHandler):
        async def process_single_message(self, websocket, data, operation_id, operations):
            if not data.get("operationName"):
                await websocket.send_json(
                    {"type": "error", "id": operation_id, "payload": {"message": "Name it"}}
                )
                return
            await super().process_single_message(websocket, data, operation_id, operations)

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        await ws.send_json({"type": "start", "id": "1", "payload": HELLO})
        assert await ws.receive_json(timeout=10) == {
            "type": "error",
            "id": "1",
            "payload": {"message": "Name it"},
        }
        named = {"query": "query Hi { hello }", "operationName": "Hi"}
        await ws.send_json({"type": "start", "id": "2", "payload": named})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"hello": "Hello!"}}


async def test_legacy_override_handle_websocket_connection_init_message() -> None:
    class Handler(GraphQLWSHandler):
        async def handle_websocket_connection_init_message(self, websocket, message):
            if not (message.get("payload") or {}).get("token"):
                await websocket.send_json(
                    {"type": "connection_error", "payload": {"message": "No token"}}
                )
                await websocket.close()
                return
            await super().handle_websocket_connection_init_message(websocket, message)

    handler = Handler()
    async with socket_to(handler, LEGACY) as ws:
        await ws.send_json({"type": "connection_init"})
        assert await ws.receive_json(timeout=10) == {
            "type": "connection_error",
            "payload": {"message": "No token"},
        }
        assert (await closed(ws))[0] == 1000
    async with socket_to(handler, LEGACY) as ws:
        await acked(ws, {"token": "t"})


async def test_legacy_override_handle_websocket_connection_terminate_message() -> None:
    class Handler(GraphQLWSHandler):
        async def handle_websocket_connection_terminate_message(self, websocket):
            await websocket.send_json({"type": "goodbye"})
            await super().handle_websocket_connection_terminate_message(websocket)

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        await ws.send_json({"type": "connection_terminate"})
        assert await ws.receive_json(timeout=10) == {"type": "goodbye"}
        assert (await closed(ws))[0] == 1000


async def test_legacy_override_keep_websocket_alive() -> None:
    ended: list[str] = []

    class Handler(GraphQLWSHandler):
        async def keep_websocket_alive(self, websocket):
            try:
                while True:
                    await websocket.send_json({"type": "ka"})
                    await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                ended.append("cancelled")
                raise

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        assert [await ws.receive_json(timeout=10) for _ in range(3)] == [{"type": "ka"}] * 3
    # The socket's cleanup cancels the task: none is left behind.
    await wait_for(lambda: ended == ["cancelled"])


async def test_legacy_override_start_websocket_operation() -> None:
    contexts: list[object] = []

    class Handler(GraphQLWSHandler):
        async def start_websocket_operation(  # noqa: PLR0917 - Ariadne's signature
            self, websocket, data, context_value, query_document, operation_id, operations
        ):
            contexts.append(context_value)
            assert operation_id in operations  # on_operation has seen it
            longer = parse("subscription { counter(to: 3) }")
            await super().start_websocket_operation(
                websocket, data, context_value, longer, operation_id, operations
            )

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws, {"token": "t"})
        counter = {"query": "subscription { counter(to: 1) }"}
        await ws.send_json({"type": "start", "id": "1", "payload": counter})
        frames = [await ws.receive_json(timeout=10) for _ in range(4)]
    assert [frame.get("payload") for frame in frames] == [
        {"data": {"counter": 1}},
        {"data": {"counter": 2}},
        {"data": {"counter": 3}},
        None,
    ]
    assert frames[-1] == {"id": "1", "type": "complete"}
    (context,) = contexts
    assert isinstance(context, dict)
    assert context["connection_params"] == {"token": "t"}


async def test_legacy_override_stop_websocket_operation() -> None:
    stopped: list[tuple[str, str | None]] = []

    class Handler(GraphQLWSHandler):
        async def stop_websocket_operation(self, websocket, operation):
            stopped.append((operation.id, operation.name))
            await super().stop_websocket_operation(websocket, operation)

    named = {"query": "subscription Ticks { ticks }", "operationName": "Ticks"}
    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        for operation_id in ("by-stop", "by-disconnect"):
            await ws.send_json({"type": "start", "id": operation_id, "payload": named})
            assert (await ws.receive_json(timeout=10))["id"] == operation_id
        closed_before = len(closed_sources)
        await ws.send_json({"type": "stop", "id": "by-stop"})
        await wait_for(lambda: len(closed_sources) == closed_before + 1)
    await wait_for(lambda: len(stopped) == 2)
    assert stopped == [("by-stop", "Ticks"), ("by-disconnect", "Ticks")]


async def test_legacy_override_observe_async_results() -> None:
    class Handler(GraphQLWSHandler):
        async def observe_async_results(self, websocket, results, operation_id):
            async def scaled():
                async for result in results:
                    yield {"data": {"counter": result["data"]["counter"] * 10}}

            await super().observe_async_results(websocket, scaled(), operation_id)

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        counter = {"query": "subscription { counter(to: 2) }"}
        await ws.send_json({"type": "start", "id": "1", "payload": counter})
        frames = [await ws.receive_json(timeout=10) for _ in range(3)]
    assert frames == [
        {"id": "1", "type": "data", "payload": {"data": {"counter": 10}}},
        {"id": "1", "type": "data", "payload": {"data": {"counter": 20}}},
        {"id": "1", "type": "complete"},
    ]


async def test_legacy_override_get_context_for_request() -> None:
    class Handler(GraphQLWSHandler):
        async def get_context_for_request(self, request, data):
            return {"user": (data.get("extensions") or {}).get("user")}

    async with socket_to(Handler(), LEGACY) as ws:
        await acked(ws)
        payload = {"query": "{ whoami }", "extensions": {"user": "grace"}}
        await ws.send_json({"type": "start", "id": "1", "payload": payload})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"whoami": "grace"}}


async def test_an_override_that_raises_within_an_operation_ends_only_that_operation() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def observe_async_results(
            self, websocket, results_producer, operation_id, client_context
        ):
            raise RuntimeError("bug in an override")

    async with socket_to(Handler()) as ws:
        await acked(ws)
        await ws.send_json({"type": "subscribe", "id": "1", "payload": TICKS})
        assert await ws.receive_json(timeout=10) == {
            "id": "1",
            "type": "error",
            "payload": [{"message": "Internal server error"}],
        }
        await ws.send_json({"type": "subscribe", "id": "2", "payload": HELLO})
        assert (await ws.receive_json(timeout=10))["payload"] == {"data": {"hello": "Hello!"}}
