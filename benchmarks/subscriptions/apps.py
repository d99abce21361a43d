"""The four servers the subscription benchmark compares, each streaming `stream(n)` at full speed.

Each is an app factory, so uvicorn builds it inside its own process (`--factory`). Every app
speaks graphql-transport-ws at `/`; the subscription is an async generator yielding 0..n-1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import orjson
import strawberry
from ariadne import SubscriptionType, make_executable_schema
from ariadne.asgi import GraphQL as AriadneGraphQL
from ariadne.asgi.handlers import GraphQLTransportWSHandler as AriadneTransportWSHandler
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL as StrawberryGraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from clew.server import GraphQL
from clew.server.websocket import GraphQLTransportWSHandler

__all__ = ["make_ariadne", "make_bare", "make_clew", "make_strawberry"]

SDL = """
type Query { hello: String! }
type Subscription { stream(n: Int!): Int! }
"""


async def _stream(_root: object, _info: object, n: int) -> AsyncGenerator[int, None]:
    for value in range(n):
        yield value


def make_bare() -> Starlette:
    """The ceiling: a Starlette websocket speaking just enough graphql-transport-ws to stream
    the same frames, each encoded with orjson, without any GraphQL."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                return
            message = json.loads(received["text"])
            if message["type"] == "connection_init":
                await websocket.send_text('{"type":"connection_ack"}')
            elif message["type"] == "subscribe":
                operation_id = message["id"]
                n = message["payload"]["variables"]["n"]
                for value in range(n):
                    frame = {
                        "id": operation_id,
                        "type": "next",
                        "payload": {"data": {"stream": value}},
                    }
                    await websocket.send_text(orjson.dumps(frame).decode())
                await websocket.send_text(
                    orjson.dumps({"id": operation_id, "type": "complete"}).decode()
                )

    return Starlette(routes=[WebSocketRoute("/", endpoint)])


def make_clew() -> object:
    """clew's GraphQL app with its defaults."""
    return GraphQL.from_sdl(
        SDL,
        {"Query": {"hello": lambda *_: "world"}, "Subscription": {"stream": _stream}},
        websocket_handlers=[GraphQLTransportWSHandler()],
    )


def make_ariadne() -> object:
    """Ariadne's GraphQL app with its graphql-transport-ws handler."""
    subscription = SubscriptionType()
    subscription.set_source("stream", _stream)
    subscription.set_field("stream", lambda value, *_args, **_kwargs: value)
    schema = make_executable_schema(SDL, subscription)
    return AriadneGraphQL(schema, websocket_handler=AriadneTransportWSHandler())


def make_strawberry() -> object:
    """Strawberry's GraphQL app serving graphql-transport-ws."""

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def stream(self, n: int) -> AsyncGenerator[int, None]:
            for value in range(n):
                yield value

    schema = strawberry.Schema(query=Query, subscription=Subscription)
    return StrawberryGraphQL(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
