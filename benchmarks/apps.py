"""The targets every server workload is run against, as uvicorn app factories.

- `ceiling`: the same stack with no GraphQL work. A Starlette route answers POST with the
  precomputed answer's bytes, and a Starlette websocket route speaks just enough of each
  subprotocol to ack and then send precomputed `next`/`data` frames in a tight loop (prefix +
  counter digits + suffix: no generator, no executor); a POST accepting `text/event-stream`
  gets the same events as server-sent events.
- `clew`, `ariadne`, `ariadne_legacy` (Ariadne serves one subprotocol per app), `strawberry`:
  each framework with its defaults, serving `schema.SDL` over the same prebuilt data.

uvicorn builds each app inside its own process (`--factory`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry
from ariadne import ObjectType, QueryType, SubscriptionType, make_executable_schema
from ariadne.asgi import GraphQL as AriadneGraphQL
from ariadne.asgi.handlers import GraphQLTransportWSHandler as AriadneTransportWS
from ariadne.asgi.handlers import GraphQLWSHandler as AriadneLegacyWS
from schema import BOOKS, BOOKS_BYTES, HELLO_BYTES, SDL
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL as StrawberryGraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from clew.server import GraphQL

__all__ = ["ariadne", "ariadne_legacy", "ceiling", "clew", "strawberry_app"]

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def _hello(*_args: object) -> str:
    return "world"


def _books(_root: object, _info: object, count: int) -> list[dict[str, object]]:
    return BOOKS[:count]


async def _stream(_root: object, _info: object, n: int) -> AsyncGenerator[int, None]:
    for value in range(n):
        yield value


# --- the ceiling ------------------------------------------------------------------------------


async def _ceiling_http(request: Request) -> Response:
    body = await request.body()
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_ceiling_sse(json.loads(body)["variables"]["n"]),
                                 media_type="text/event-stream")  # fmt: skip
    return Response(BOOKS_BYTES if b"books" in body else HELLO_BYTES, media_type="application/json")


async def _ceiling_sse(n: int) -> AsyncGenerator[bytes, None]:
    # graphql-sse's distinct connections mode: a keep-alive, one `next` per value, `complete`.
    yield b":\n\n"
    for value in range(n):
        yield b'event: next\ndata: {"data":{"stream":' + str(value).encode() + b"}}\n\n"
    yield b"event: complete\ndata:\n\n"


async def _ceiling_ws(websocket: WebSocket) -> None:
    offered = websocket.scope.get("subprotocols", [])
    subprotocol = TRANSPORT_WS if TRANSPORT_WS in offered else LEGACY_WS
    await websocket.accept(subprotocol=subprotocol)
    event = "next" if subprotocol == TRANSPORT_WS else "data"
    while True:
        received = await websocket.receive()
        if received["type"] == "websocket.disconnect":
            return
        message = json.loads(received["text"])
        kind = message["type"]
        if kind == "connection_init":
            await websocket.send_text('{"type":"connection_ack"}')
        elif kind == "ping":
            await websocket.send_text('{"type":"pong"}')
        elif kind in ("subscribe", "start"):
            operation_id = json.dumps(message["id"])
            prefix = f'{{"id":{operation_id},"type":"{event}","payload":{{"data":{{"stream":'
            suffix = "}}}"
            for value in range(message["payload"]["variables"]["n"]):
                await websocket.send_text(prefix + str(value) + suffix)
            await websocket.send_text(f'{{"id":{operation_id},"type":"complete"}}')
        elif kind == "connection_terminate":
            await websocket.close()
            return


def ceiling() -> Starlette:
    """The same stack with no GraphQL work: the ratio every server is held to."""
    return Starlette(
        routes=[Route("/", _ceiling_http, methods=["POST"]), WebSocketRoute("/", _ceiling_ws)]
    )


# --- the GraphQL servers ----------------------------------------------------------------------


def clew() -> GraphQL:
    """clew's app with its defaults (both subprotocols on one endpoint)."""
    return GraphQL.from_sdl(
        SDL,
        {
            "Query": {"hello": _hello, "books": _books},
            "Subscription": {"stream": _stream},
        },
    )


def _ariadne(handler: AriadneTransportWS | AriadneLegacyWS) -> AriadneGraphQL:
    query = QueryType()
    query.set_field("hello", _hello)
    query.set_field("books", _books)
    subscription = SubscriptionType()
    subscription.set_source("stream", _stream)
    subscription.set_field("stream", lambda value, *_args, **_kwargs: value)
    schema = make_executable_schema(SDL, query, subscription, ObjectType("Book"))
    return AriadneGraphQL(schema, websocket_handler=handler)


def ariadne() -> AriadneGraphQL:
    """Ariadne's app with its defaults, serving graphql-transport-ws."""
    return _ariadne(AriadneTransportWS())


def ariadne_legacy() -> AriadneGraphQL:
    """Ariadne's app with its defaults, serving the legacy graphql-ws (one subprotocol per app)."""
    return _ariadne(AriadneLegacyWS())


@strawberry.type
class Author:
    id: strawberry.ID
    name: str
    born: int | None


@strawberry.type
class Book:
    id: strawberry.ID
    title: str
    year: int
    price: float
    in_stock: bool
    tags: list[str]
    author: Author


def _strawberry_books() -> list[Book]:
    made = []
    for book in BOOKS:
        author = dict(book["author"])  # type: ignore[call-overload]
        fields = {k: v for k, v in book.items() if k not in ("author", "inStock")}
        made.append(Book(**fields, in_stock=book["inStock"], author=Author(**author)))  # type: ignore[arg-type]
    return made


def strawberry_app() -> StrawberryGraphQL[None, None]:
    """Strawberry's app with its defaults, serving both subprotocols."""
    prebuilt = _strawberry_books()

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

        @strawberry.field
        def books(self, count: int) -> list[Book]:
            return prebuilt[:count]

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def stream(self, n: int) -> AsyncGenerator[int, None]:
            for value in range(n):
                yield value

    schema = strawberry.Schema(query=Query, subscription=Subscription)
    return StrawberryGraphQL(
        schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
    )
