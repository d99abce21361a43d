"""Incremental delivery (`@defer`, `@stream`) on the server, opt-in: graphql-core 3.3 executes it.

`GraphQL(..., incremental_delivery=True)` builds a second `Engine` on a copy of the schema that
declares `@defer` and `@stream` (graphql-core keeps them out of the specified directives, and
its plain `execute` refuses a schema holding them). Transports that can deliver payloads one by
one use it: HTTP when the client accepts `multipart/mixed`, and SSE. Everywhere else the
directives stay unknown, so a document using them fails validation with a clear error.

Payloads are graphql-core's newer format (`pending`/`incremental`/`completed`); errors in them
are formatted (and masked) by the engine like any other.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from inspect import isawaitable
from typing import cast

from graphql import (
    ExecutionResult,
    GraphQLDeferDirective,
    GraphQLError,
    GraphQLSchema,
    GraphQLStreamDirective,
    experimental_execute_incrementally,
    specified_directives,
)
from graphql.execution import (
    ExperimentalIncrementalExecutionResults,
    SubsequentIncrementalExecutionResult,
)

from clew.protocol._types import FormattedExecutionResult, JSONObject, JSONValue
from clew.server._execution import Engine, InternalServerError, PreparedOperation

__all__ = ["execute_incrementally", "supports_incremental", "with_incremental_directives"]


def with_incremental_directives(schema: GraphQLSchema) -> GraphQLSchema:
    """A schema like `schema` (same types and resolvers) that also declares @defer and @stream."""
    kwargs = schema.to_kwargs()
    directives = list(kwargs.get("directives") or specified_directives)
    names = {directive.name for directive in directives}
    for directive in (GraphQLDeferDirective, GraphQLStreamDirective):
        if directive.name not in names:
            directives.append(directive)
    kwargs["directives"] = tuple(directives)
    return GraphQLSchema(**kwargs)


def supports_incremental(engine: Engine) -> bool:
    """Whether `engine` is an incremental one: its schema declares @defer."""
    return any(directive.name == "defer" for directive in engine.schema.directives)


async def execute_incrementally(
    engine: Engine, prepared: PreparedOperation, variables: JSONObject | None, context: object
) -> FormattedExecutionResult | AsyncGenerator[JSONObject, None]:
    """One result when nothing was deferred, else the payloads (the first has `hasNext`).

    Raises `InternalServerError` for a failure outside the resolvers, as `Engine.execute` does.
    """
    try:
        root = await engine._root_for(prepared, variables, context)
        outcome = experimental_execute_incrementally(
            engine.schema,
            prepared.document,
            root,
            context,
            variables,
            prepared.operation_name,
            middleware=engine._middleware,
            **engine._executor_options,  # type: ignore[arg-type]
        )
        if isawaitable(outcome):
            outcome = await outcome
    except GraphQLError as error:
        return engine.format_result(ExecutionResult(None, [error]), context)
    except Exception as error:
        raise InternalServerError(engine._internal_error(error)) from error
    if isinstance(outcome, ExecutionResult):
        return engine.format_result(outcome, context)
    return _payloads(engine, outcome, context)


async def _payloads(
    engine: Engine, results: ExperimentalIncrementalExecutionResults, context: object
) -> AsyncGenerator[JSONObject, None]:
    initial = results.initial_result
    first = cast(
        JSONObject,
        engine.format_result(ExecutionResult(initial.data, initial.errors), context),
    )
    first["data"] = cast(JSONValue, initial.data)  # `data` stays even beside errors
    first["pending"] = [cast(JSONValue, pending.formatted) for pending in initial.pending]
    first["hasNext"] = initial.has_next
    yield first
    subsequent = results.subsequent_results
    try:
        async for result in subsequent:
            yield _subsequent(engine, result, context)
    finally:
        await subsequent.aclose()


def _errors(engine: Engine, errors: list[GraphQLError] | None, context: object) -> JSONValue:
    formatted = engine.format_result(ExecutionResult(None, errors), context)
    return cast(JSONValue, formatted.get("errors"))


def _subsequent(
    engine: Engine, result: SubsequentIncrementalExecutionResult, context: object
) -> JSONObject:
    payload = cast(JSONObject, result.formatted)
    for key, entries in (("incremental", result.incremental), ("completed", result.completed)):
        if not entries:
            continue
        formatted = cast("list[JSONObject]", payload[key])
        for entry, raw in zip(formatted, entries, strict=True):
            if raw.errors:
                entry["errors"] = _errors(engine, list(raw.errors), context)
    return payload
