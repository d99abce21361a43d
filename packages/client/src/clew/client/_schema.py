"""The client's schema: given up front, or introspected once and cached; used for local validation.

Concurrent first calls share one introspection request (a lock, not a race); a failed
introspection is not cached, so the next call tries again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias, cast, final

from graphql import (
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    IntrospectionQuery,
    build_client_schema,
    build_schema,
    get_introspection_query,
    parse,
    validate,
)

from ._messages import GraphQLRequest, GraphQLResponse
from .errors import GraphQLResponseError, SchemaValidationError

__all__ = ["SchemaCache", "SchemaSource", "load_schema", "validate_operation"]

#: What a caller may hand over instead of letting the client introspect: SDL text, a built
#: schema, or an introspection result (the `data` of the introspection query).
SchemaSource: TypeAlias = "str | GraphQLSchema | Mapping[str, object]"

#: Sends one request and returns the server's response (the backend's `execute_query`).
Executor: TypeAlias = Callable[[GraphQLRequest], Awaitable[GraphQLResponse]]

#: The operation name the introspection request carries, so server logs can tell it apart.
INTROSPECTION_OPERATION = "IntrospectionQuery"


def load_schema(source: SchemaSource) -> GraphQLSchema:
    """Build a schema from SDL, an introspection result, or return a built one unchanged."""
    if isinstance(source, GraphQLSchema):
        return source
    if isinstance(source, str):
        return build_schema(source)
    data = source.get("data", source)
    return build_client_schema(cast(IntrospectionQuery, data))


@final
class SchemaCache:
    """Holds the schema for one client; introspects through `executor` when first needed."""

    __slots__ = ("_executor", "_lock", "_schema")

    def __init__(self, executor: Executor, schema: SchemaSource | None = None) -> None:
        self._executor = executor
        self._schema = None if schema is None else load_schema(schema)
        self._lock = asyncio.Lock()

    @property
    def cached(self) -> GraphQLSchema | None:
        """The schema if it is already known, without any request."""
        return self._schema

    async def get(self) -> GraphQLSchema:
        """The schema, introspecting the server on the first call only."""
        if self._schema is not None:
            return self._schema
        async with self._lock:
            if self._schema is None:  # another caller may have finished while we waited
                self._schema = await self._introspect()
            return self._schema

    def invalidate(self) -> None:
        """Forget the schema so the next use introspects again (after a deployment, say)."""
        self._schema = None

    async def _introspect(self) -> GraphQLSchema:
        request = GraphQLRequest(
            query=get_introspection_query(descriptions=False),
            operation_name=INTROSPECTION_OPERATION,
        )
        response = await self._executor(request)
        if response.errors or response.data is None:
            raise GraphQLResponseError(
                response.errors or [{"message": "Introspection returned no data"}],
                response.data,
                response.extensions,
            )
        return build_client_schema(cast(IntrospectionQuery, response.data))


def validate_operation(schema: GraphQLSchema, query: str) -> None:
    """Parse and validate `query` against `schema` as a server would; raise on any problem."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise SchemaValidationError(exc.message) from None
    errors: list[GraphQLError] = validate(schema, document)
    if errors:
        raise SchemaValidationError([error.message for error in errors])
