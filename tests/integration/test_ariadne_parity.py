"""One Ariadne-style app, served by Ariadne and by clew: both answer the same operations alike.

The app is what an Ariadne user writes: a schema from Ariadne's `make_executable_schema`, an
`ariadne.types.Extension` subclass with a field-level `resolve`, `timedelta` timeouts and
`WebSocketConnectionError` raised in `on_connect`. Only the server imports differ. Where clew
deliberately answers differently (listed in the server README's "Coming from Ariadne"), the test
asserts both answers, so a change on either side shows up here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import ariadne.asgi
import ariadne.asgi.handlers
import ariadne.exceptions
import pytest
from ariadne import QueryType, SubscriptionType, make_executable_schema
from ariadne.types import Extension
from graphql import GraphQLError

import clew.server
import clew.server.handlers
from live_server import serve

TYPE_DEFS = """
    type Query { hello(name: String = "World"): String!  fail: String }
    type Subscription { counter(to: Int = 2): Int! }
"""


def build_schema() -> Any:
    query = QueryType()
    query.set_field("hello", lambda _, info, name: f"Hello, {name}!")

    def fail(*_: object) -> None:
        raise GraphQLError("boom")

    query.set_field("fail", fail)
    subscription = SubscriptionType()

    async def counter(_obj: object, _info: object, to: int) -> AsyncIterator[int]:
        for i in range(1, to + 1):
            yield i

    subscription.set_source("counter", counter)
    subscription.set_field("counter", lambda count, *_args, **_kwargs: count)
    return make_executable_schema(TYPE_DEFS, query, subscription)


class FieldPaths(Extension):
    """Records the path of every field it wraps; returns them in the response's extensions."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def resolve(self, next_: Callable[..., Any], obj: Any, info: Any, **kwargs: Any) -> Any:
        self.paths.append(".".join(map(str, info.path.as_list())))
        return next_(obj, info, **kwargs)

    def format(self, context: Any) -> dict[str, Any]:
        return {"paths": self.paths}


def make_app(server: str, subprotocol: str) -> Any:
    """The same app for `server` ("ariadne" or "clew"); only the imports differ."""
    if server == "ariadne":
        GraphQL = ariadne.asgi.GraphQL
        handlers: Any = ariadne.asgi.handlers
        WebSocketConnectionError = ariadne.exceptions.WebSocketConnectionError
    else:
        GraphQL = clew.server.GraphQL
        handlers = clew.server.handlers
        WebSocketConnectionError = clew.server.WebSocketConnectionError

    def on_connect(websocket: Any, payload: Any) -> None:
        if (payload or {}).get("token") == "wrong":
            raise WebSocketConnectionError({"message": "Token refused"})

    if subprotocol == "graphql-transport-ws":
        websocket_handler = handlers.GraphQLTransportWSHandler(
            on_connect=on_connect, connection_init_wait_timeout=timedelta(milliseconds=500)
        )
    else:
        websocket_handler = handlers.GraphQLWSHandler(
            on_connect=on_connect, keepalive=timedelta(seconds=30)
        )
    return GraphQL(
        build_schema(),
        http_handler=handlers.GraphQLHTTPHandler(extensions=[FieldPaths]),
        websocket_handler=websocket_handler,
    )


@asynccontextmanager
async def both(subprotocol: str) -> AsyncIterator[dict[str, str]]:
    async with (
        serve(make_app("ariadne", subprotocol)) as a,
        serve(make_app("clew", subprotocol)) as c,
    ):
        yield {"ariadne": a, "clew": c}


async def _post(url: str, **request: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(url, **request) as reply:
        text = await reply.text()
        try:
            return reply.status, json.loads(text)
        except ValueError:
            return reply.status, text


async def _http(body: object) -> dict[str, tuple[int, Any]]:
    async with both("graphql-transport-ws") as urls:
        return {name: await _post(url, json=body) for name, url in urls.items()}


async def test_a_query_and_the_extensions_resolve_hook_answer_alike() -> None:
    answers = await _http({"query": '{ hello(name: "Bob") }'})
    expected = (200, {"data": {"hello": "Hello, Bob!"}, "extensions": {"paths": ["hello"]}})
    assert answers == {"ariadne": expected, "clew": expected}


async def test_a_resolver_error_answers_alike() -> None:
    answers = await _http({"query": "{ fail hello }"})
    expected = (
        200,
        {
            "data": {"fail": None, "hello": "Hello, World!"},
            "errors": [
                {"message": "boom", "locations": [{"line": 1, "column": 3}], "path": ["fail"]}
            ],
            "extensions": {"paths": ["fail", "hello"]},
        },
    )
    assert answers == {"ariadne": expected, "clew": expected}


async def test_request_errors_differ_only_in_the_status_for_json() -> None:
    # Difference (README): for a client accepting application/json clew follows the
    # GraphQL-over-HTTP spec's legacy rule, 200 for a well-formed request whose document fails;
    # Ariadne answers 400. The bodies agree; clew's execution never began, so it has no data
    # and no extensions (Ariadne ran its extensions around the failed validation).
    async with both("graphql-transport-ws") as urls:
        answers = {
            name: await _post(
                url, json={"query": "{ nope }"}, headers={"Accept": "application/json"}
            )
            for name, url in urls.items()
        }
    ariadne_status, ariadne_body = answers["ariadne"]
    clew_status, clew_body = answers["clew"]
    assert (ariadne_status, clew_status) == (400, 200)
    assert clew_body["errors"] == ariadne_body["errors"]
    assert "data" not in clew_body
    # Asking for application/graphql-response+json, clew answers 400 too.
    async with both("graphql-transport-ws") as urls:
        status, _ = await _post(
            urls["clew"],
            json={"query": "{ nope }"},
            headers={"Accept": "application/graphql-response+json"},
        )
    assert status == 400


async def test_malformed_bodies_get_json_errors_from_clew_and_text_from_ariadne() -> None:
    async with both("graphql-transport-ws") as urls:
        answers = {
            name: await _post(url, data=b"{not json", headers={"Content-Type": "application/json"})
            for name, url in urls.items()
        }
    assert answers["ariadne"][0] == answers["clew"][0] == 400
    assert isinstance(answers["ariadne"][1], str)  # plain text
    assert answers["clew"][1]["errors"][0]["message"].startswith(
        "The request body is not valid JSON"
    )


async def test_get_queries_run_on_clew_only() -> None:
    async with both("graphql-transport-ws") as urls, aiohttp.ClientSession() as session:
        answers = {}
        for name, url in urls.items():
            async with session.get(
                url, params={"query": "{ hello }"}, headers={"Accept": "application/json"}
            ) as reply:
                answers[name] = reply.status, await reply.text()
    assert answers["clew"] == (
        200,
        json.dumps(
            {"data": {"hello": "Hello, World!"}, "extensions": {"paths": ["hello"]}},
            separators=(",", ":"),
        ),
    )
    assert answers["ariadne"][0] != 200 or "hello" not in answers["ariadne"][1]


async def _transport_ws(url: str, init: dict[str, Any]) -> tuple[list[Any], int | None]:
    received: list[Any] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": init})
        while True:
            message = await ws.receive(timeout=10)
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            received.append(data)
            if data["type"] == "connection_ack":
                await ws.send_json(
                    {
                        "type": "subscribe",
                        "id": "s1",
                        "payload": {"query": "subscription { counter(to: 3) }"},
                    }
                )
            if data["type"] == "complete":
                await ws.close()
                break
        return received, ws.close_code


async def test_a_subscription_over_graphql_transport_ws_answers_alike() -> None:
    async with both("graphql-transport-ws") as urls:
        answers = {
            name: (await _transport_ws(url, {"token": "ok"}))[0] for name, url in urls.items()
        }
    expected = [
        {"type": "connection_ack"},
        *({"type": "next", "id": "s1", "payload": {"data": {"counter": n}}} for n in (1, 2, 3)),
        {"type": "complete", "id": "s1"},
    ]
    assert answers == {"ariadne": expected, "clew": expected}


async def test_websocket_connection_error_closes_both_and_clew_says_4403() -> None:
    # Difference (README): Ariadne closes a refused graphql-transport-ws connection with 1000
    # and no reason; clew uses the protocol's 4403 Forbidden with the message as the reason.
    async with both("graphql-transport-ws") as urls:
        answers = {name: await _transport_ws(url, {"token": "wrong"}) for name, url in urls.items()}
    assert answers["ariadne"] == ([], 1000)
    assert answers["clew"] == ([], 4403)


async def test_websocket_connection_error_on_graphql_ws_sends_the_same_connection_error() -> None:
    async with both("graphql-ws") as urls, aiohttp.ClientSession() as session:
        answers = {}
        for name, url in urls.items():
            async with session.ws_connect(url, protocols=["graphql-ws"]) as ws:
                await ws.send_json({"type": "connection_init", "payload": {"token": "wrong"}})
                first = await ws.receive_json(timeout=10)
                closing = await ws.receive(timeout=10)
            answers[name] = first, closing.type, ws.close_code
    error = {"type": "connection_error", "payload": {"message": "Token refused"}}
    # Difference (README): Ariadne then closes with 1000, clew with 1011 as graphql-ws does.
    assert answers["ariadne"] == (error, aiohttp.WSMsgType.CLOSE, 1000)
    assert answers["clew"] == (error, aiohttp.WSMsgType.CLOSE, 1011)


async def test_a_timedelta_init_timeout_closes_both_with_4408() -> None:
    async with both("graphql-transport-ws") as urls, aiohttp.ClientSession() as session:
        codes = {}
        for name, url in urls.items():
            async with session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
                message = await ws.receive(timeout=20)
            codes[name] = message.type, ws.close_code
    assert codes == {
        "ariadne": (aiohttp.WSMsgType.CLOSE, 4408),
        "clew": (aiohttp.WSMsgType.CLOSE, 4408),
    }


@pytest.mark.parametrize("server", ["ariadne", "clew"])
def test_the_app_builds_under_both(server: str) -> None:
    assert make_app(server, "graphql-ws") is not None
