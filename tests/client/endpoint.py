"""A small GraphQL-over-HTTP endpoint for the client tests, recording every request.

It speaks `application/graphql-response+json`, accepts GET, JSON POST and multipart uploads
(which must carry `GraphQL-Require-Preflight`), and has a few misbehaving routes for the
transport-error tests.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from graphql import GraphQLError, GraphQLSchema, build_schema, graphql
from yarl import URL

from clew.protocol.http import GraphQLRequest, parse_multipart_request

SDL = """
enum Genre { FICTION SCIENCE HISTORY }
scalar Upload

input BookInput {
  title: String!
  genre: Genre = FICTION
  tags: [String!]
}

type Author {
  name: String!
  born: Int
  books: [Book!]!
}

type Book {
  id: ID!
  title: String!
  genre: Genre!
  tags: [String!]!
  author: Author
  reviews(first: Int!): [String!]!
  isbn: String @deprecated(reason: "use id")
}

union SearchResult = Book | Author

type FileInfo {
  filename: String!
  contentType: String!
  size: Int!
  text: String!
}

type Query {
  hello(name: String): String!
  books(count: Int, genre: Genre): [Book!]!
  book(id: ID!): Book
  search(text: String!): [SearchResult!]!
  whoami: String
  partial: Book
}

type Mutation {
  addBook(input: BookInput!): Book!
  addBooks(titles: [String!]!): [Book!]!
  upload(file: Upload!): FileInfo!
  uploadMany(files: [Upload!]!): [FileInfo!]!
  uploadPair(first: Upload!, second: Upload!): [FileInfo!]!
}

type Subscription {
  counter(upTo: Int!): Int!
}
"""

AUTHOR = {"name": "Ursula", "born": 1929}
BOOKS: list[dict[str, object]] = [
    {"id": str(i), "title": f"Book {i}", "genre": "FICTION", "tags": ["t"], "author": AUTHOR}
    for i in range(1, 11)
]
AUTHOR["books"] = BOOKS


@dataclass
class UploadedFile:
    """One file part as the endpoint received it."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class Recorded:
    """One request as the endpoint saw it."""

    method: str
    path: str
    headers: dict[str, str]
    payload: dict[str, Any] | None = None
    file_parts: list[str] = field(default_factory=list)
    file_map: dict[str, list[str]] = field(default_factory=dict)
    field_order: list[str] = field(default_factory=list)

    @property
    def operation_name(self) -> str | None:
        return None if self.payload is None else self.payload.get("operationName")


def _file_info(upload: UploadedFile) -> dict[str, object]:
    return {
        "filename": upload.filename,
        "contentType": upload.content_type,
        "size": len(upload.content),
        "text": upload.content.decode("utf-8", errors="replace"),
    }


def _books(
    _info: object, count: int | None = None, genre: str | None = None
) -> list[dict[str, object]]:
    books = [b for b in BOOKS if genre is None or b["genre"] == genre]
    return books if count is None else books[:count]


def _partial(_info: object) -> dict[str, object]:
    def title(_info: object) -> str:
        raise GraphQLError("title is unavailable")

    return {"id": "99", "title": title, "genre": "SCIENCE", "tags": []}


ROOT: dict[str, object] = {
    "hello": lambda _info, name=None: f"Hello, {name or 'world'}!",
    "books": _books,
    "book": lambda _info, id: next((b for b in BOOKS if b["id"] == id), None),
    "search": lambda _info, text: [{**BOOKS[0], "__typename": "Book"}],
    "whoami": lambda info: info.context["request"].headers.get("Authorization"),
    "partial": _partial,
    "addBook": lambda _info, input: {"id": "new", "tags": [], **input},
    "addBooks": lambda _info, titles: [
        {"id": str(n), "title": t, "genre": "FICTION", "tags": []} for n, t in enumerate(titles)
    ],
    "upload": lambda _info, file: _file_info(file),
    "uploadMany": lambda _info, files: [_file_info(f) for f in files],
    "uploadPair": lambda _info, first, second: [_file_info(first), _file_info(second)],
}


def make_schema() -> GraphQLSchema:
    # Union members are told apart by their "__typename" key (graphql-core's default).
    return build_schema(SDL)


class GraphQLEndpoint:
    """The test server's state: the schema, the request log, and a gate for the slow route."""

    def __init__(self) -> None:
        self.schema = make_schema()
        self.requests: list[Recorded] = []
        self.release_slow = asyncio.Event()
        self.refuse_introspection = False
        self.app = web.Application()
        self.app.router.add_route("*", "/graphql", self.graphql)
        self.app.router.add_post("/slow", self.slow)
        self.app.router.add_post("/not-json", self.not_json)
        self.app.router.add_post("/bad-gateway", self.bad_gateway)
        self.app.router.add_post("/proxy-json-error", self.proxy_json_error)
        self.app.router.add_post("/wrong-shape", self.wrong_shape)
        self.app.router.add_post("/legacy-400", self.legacy_400)

    def operations(self, name: str | None = None) -> list[Recorded]:
        """The GraphQL requests received, optionally only those with `operationName` == name."""
        return [r for r in self.requests if name is None or r.operation_name == name]

    async def graphql(self, request: web.Request) -> web.Response:
        record = Recorded(request.method, request.path, dict(request.headers))
        self.requests.append(record)
        if request.method == "GET":
            parsed = GraphQLRequest.from_query_params(dict(request.query))
        elif request.content_type == "multipart/form-data":
            if request.headers.get("GraphQL-Require-Preflight") is None:
                return web.json_response({"errors": [{"message": "CSRF"}]}, status=400)
            parsed = await self._multipart(request, record)
        else:
            parsed = GraphQLRequest.from_json(await request.read())
        record.payload = {
            "query": parsed.query,
            "operationName": parsed.operation_name,
            "variables": parsed.variables,
            "extensions": parsed.extensions,
        }
        if self.refuse_introspection and parsed.operation_name == "IntrospectionQuery":
            return web.Response(
                text='{"errors":[{"message":"introspection is disabled"}]}',
                status=400,
                content_type="application/graphql-response+json",
            )
        result = await graphql(
            self.schema,
            parsed.query,
            root_value=ROOT,
            context_value={"request": request},
            variable_values=parsed.variables,
            operation_name=parsed.operation_name,
        )
        status = 200 if result.data is not None else 400
        return web.Response(
            text=json.dumps(result.formatted),
            status=status,
            content_type="application/graphql-response+json",
        )

    async def _multipart(self, request: web.Request, record: Recorded) -> GraphQLRequest:
        reader = await request.multipart()
        fields: dict[str, bytes] = {}
        files: dict[str, UploadedFile] = {}
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            name = part.name or ""
            content = await part.read()
            if part.filename is None:
                fields[name] = bytes(content)
            else:
                record.file_parts.append(name)
                files[name] = UploadedFile(
                    part.filename, part.headers.get("Content-Type", ""), bytes(content)
                )
            record.field_order.append(name)
        record.file_map = json.loads(fields["map"])
        parsed = parse_multipart_request(fields["operations"], fields["map"], files)
        assert isinstance(parsed, GraphQLRequest)
        return parsed

    async def slow(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.method, request.path, dict(request.headers)))
        await asyncio.wait_for(self.release_slow.wait(), timeout=10)
        return web.json_response({"data": {"late": True}})

    async def not_json(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    async def bad_gateway(self, request: web.Request) -> web.Response:
        return web.Response(text="upstream down", status=502, content_type="text/plain")

    async def proxy_json_error(self, request: web.Request) -> web.Response:
        # application/json with a non-2xx status may come from a proxy: not a GraphQL response.
        return web.json_response({"errors": [{"message": "rate limited"}]}, status=429)

    async def legacy_400(self, request: web.Request) -> web.Response:
        # What Ariadne and Strawberry answer for a document that fails validation.
        body = {"errors": [{"message": "Cannot query field 'nope' on type 'Query'."}]}
        return web.json_response(body, status=400)

    async def wrong_shape(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [1, 2]})


@dataclass
class Server:
    """The running endpoint and its base URL."""

    endpoint: GraphQLEndpoint
    base: URL

    @property
    def url(self) -> str:
        return str(self.base.with_path("/graphql"))

    def route(self, path: str) -> str:
        return str(self.base.with_path(path))
