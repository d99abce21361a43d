"""The schema cache: introspected once and shared, or given up front; local validation."""

from __future__ import annotations

import asyncio

import pytest
from graphql import GraphQLSchema, introspection_from_schema

from clew.client import (
    AIOHTTPClient,
    GraphQLResponseError,
    HTTPStatusError,
    SchemaValidationError,
)
from clew.client._schema import INTROSPECTION_OPERATION, SchemaSource

from .endpoint import SDL, Server


async def test_introspection_happens_once(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        assert client.schema is None
        # Concurrent first calls share one introspection request.
        first, second = await asyncio.gather(
            client.query.hello(), client.query.books(count=1, _fields=["id"])
        )
        third = await client.query.hello(name="again")
        await client.validate("{ hello }")
        assert client.schema is not None
    assert first.data == {"hello": "Hello, world!"}
    assert second.data == {"books": [{"id": "1"}]}
    assert third.data == {"hello": "Hello, again!"}
    assert len(server.endpoint.operations(INTROSPECTION_OPERATION)) == 1
    assert len(server.endpoint.requests) == 4


async def test_invalidate_introspects_again(server: Server) -> None:
    async with AIOHTTPClient(server.url) as client:
        await client.get_schema()
        client.invalidate_schema()
        await client.get_schema()
    assert len(server.endpoint.operations(INTROSPECTION_OPERATION)) == 2


async def test_failed_introspection_raises_and_is_not_cached(server: Server) -> None:
    server.endpoint.refuse_introspection = True
    async with AIOHTTPClient(server.url) as client:
        with pytest.raises(GraphQLResponseError, match="introspection is disabled"):
            await client.query.hello()
        assert client.schema is None
        server.endpoint.refuse_introspection = False
        result = await client.query.hello()
    assert result.data == {"hello": "Hello, world!"}
    assert len(server.endpoint.operations(INTROSPECTION_OPERATION)) == 2


async def test_introspection_transport_failure_propagates(server: Server) -> None:
    async with AIOHTTPClient(server.route("/bad-gateway")) as client:
        with pytest.raises(HTTPStatusError):
            await client.get_schema()
        assert client.schema is None


@pytest.mark.parametrize("kind", ["sdl", "schema", "introspection"])
async def test_schema_given_up_front_is_never_introspected(
    server: Server, schema: GraphQLSchema, kind: str
) -> None:
    sources: dict[str, SchemaSource] = {
        "sdl": SDL,
        "schema": schema,
        "introspection": {"data": introspection_from_schema(schema)},
    }
    source = sources[kind]
    async with AIOHTTPClient(server.url, schema=source) as client:
        assert client.schema is not None
        result = await client.query.hello(name=kind)
    assert result.data == {"hello": f"Hello, {kind}!"}
    assert server.endpoint.operations(INTROSPECTION_OPERATION) == []


async def test_validate_reports_every_problem_locally(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        await client.validate("query($n: Int) { books(count: $n) { id title } }")
        with pytest.raises(SchemaValidationError) as caught:
            await client.validate("{ books(cnt: 1) { titel } }")
        with pytest.raises(SchemaValidationError, match="Syntax Error"):
            await client.validate("{ books(")
    problems = caught.value.problems
    assert any("Unknown argument 'cnt'" in problem for problem in problems)
    assert any("Cannot query field 'titel' on type 'Book'" in problem for problem in problems)
    assert server.endpoint.requests == []


async def test_dir_of_a_proxy_lists_root_fields_once_known(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        assert dir(client.mutation) == [
            "addBook",
            "addBooks",
            "upload",
            "uploadMany",
            "uploadPair",
        ]
    async with AIOHTTPClient(server.url) as unknown:
        assert dir(unknown.query) == []  # never fetches from dir()
    assert server.endpoint.requests == []
