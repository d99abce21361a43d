"""Fixtures: the recording GraphQL endpoint on aiohttp's test server, and its schema."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from graphql import GraphQLSchema

from .endpoint import GraphQLEndpoint, Server, make_schema


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    endpoint = GraphQLEndpoint()
    test_server = TestServer(endpoint.app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield Server(endpoint, test_server.make_url("/"))
    finally:
        endpoint.release_slow.set()
        await test_server.close()


@pytest.fixture
def schema() -> GraphQLSchema:
    return make_schema()
