"""The four servers the HTTP benchmark compares, each answering `{ hello }` with "world".

Each is an app factory, so uvicorn builds it inside its own process (`--factory`).
"""

from __future__ import annotations

import strawberry
from ariadne import QueryType, make_executable_schema
from ariadne.asgi import GraphQL as AriadneGraphQL
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL as StrawberryGraphQL

from clew.server import GraphQL

__all__ = ["make_ariadne", "make_bare", "make_clew", "make_strawberry"]

SDL = "type Query { hello: String! }"
BODY = b'{"data":{"hello":"world"}}'


def _hello(*_args: object) -> str:
    return "world"


def make_bare() -> Starlette:
    """The ceiling: a Starlette endpoint that returns the answer without any GraphQL."""

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(BODY, media_type="application/json")

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])


def make_clew() -> object:
    """clew's GraphQL app with its defaults."""
    return GraphQL.from_sdl(SDL, {"Query": {"hello": _hello}})


def make_ariadne() -> object:
    """Ariadne's GraphQL app with its defaults."""
    query = QueryType()
    query.set_field("hello", _hello)
    return AriadneGraphQL(make_executable_schema(SDL, query))


def make_strawberry() -> object:
    """Strawberry's GraphQL app with its defaults."""

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

    return StrawberryGraphQL(strawberry.Schema(query=Query))
