"""A plan's per-request graphql-core `Executor`, made from what compiling already decided.

`Executor.build` finds the operation and the fragments, checks the schema and coerces the
variables on every request, and the executor it makes refers to itself through its resolve-info
helpers (bound methods): a reference cycle, so every request left garbage that only the cyclic
GC frees, setting off a collection every few dozen requests. `ExecutorFactory` makes an
executor with the same attributes and values from the plan's operation, with helpers that do
the same work without referring back to it: reference counting frees it with the request.
"""

from __future__ import annotations

from asyncio import gather, get_running_loop
from collections.abc import Awaitable, Sequence
from functools import partial
from inspect import iscoroutine
from typing import Any, Final, final

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.executor import (
    CollectedErrors,
    default_field_resolver,
    default_type_resolver,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.pyutils import RefMap, gather_with_cancel
from graphql.pyutils import is_async_iterable as default_is_async_iterable
from graphql.pyutils import is_awaitable as default_is_awaitable
from graphql.type import GraphQLResolveInfoHelpers
from graphql.type.directives import GraphQLDisableErrorPropagationDirective

__all__ = ["ExecutorFactory"]

#: `Executor.build`'s default cap on variable coercion errors.
_MAX_COERCION_ERRORS: Final = 50


@final
class ExecutorFactory:
    """Makes `Executor.build(schema, document, root, context, variables, name)`'s executor for
    one compiled operation (no middleware, no custom resolvers, hooks or abort signal: the
    plan is only used without them)."""

    __slots__ = ("_definitions", "_schema", "_shared")

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        fragment_definitions = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._schema = schema
        self._definitions = tuple(operation.variable_definitions or ())
        # What `Executor.__init__` sets the same way on every request (none of it is mutated
        # by execution); the per-request state is added by `build`.
        self._shared: dict[str, object] = {
            "schema": schema,
            "fragment_definitions": fragment_definitions,
            # The plan refuses fragments that define variables, so no signatures here.
            "fragments": {
                name: FragmentDetails(definition, None)
                for name, definition in fragment_definitions.items()
            },
            "operation": operation,
            "field_resolver": default_field_resolver,
            "type_resolver": default_type_resolver,
            "subscribe_field_resolver": default_field_resolver,
            "enable_early_execution": False,
            "hide_suggestions": False,
            "abort_signal": None,
            "hooks": None,
            "middleware_manager": None,
            "error_propagation": not any(
                directive.name.value == GraphQLDisableErrorPropagationDirective.name
                for directive in operation.directives or ()
            ),
            "is_awaitable": default_is_awaitable,
            "is_async_iterable": default_is_async_iterable,
            "async_work_finished_hook_task": None,
            # Written only for a field under @stream, and the plan refuses every schema that
            # has the directive: this map stays empty, so all requests may share it.
            "_stream_usages": RefMap(),
        }

    def build(
        self, root_value: object, context_value: object, variables: dict[str, Any] | None
    ) -> Executor[Any] | list[GraphQLError]:
        """The executor for one request, or the errors of its variables (as `Executor.build`)."""
        if self._definitions:
            coerced = get_variable_values(
                self._schema,
                self._definitions,
                variables or {},
                max_errors=_MAX_COERCION_ERRORS,
            )
            if isinstance(coerced, list):
                return coerced
        else:
            coerced = VariableValues({}, {})
        executor: Executor[Any] = object.__new__(Executor)
        state = executor.__dict__
        state.update(self._shared)
        background: set[Awaitable[Any]] = set()
        state["root_value"] = root_value
        state["context_value"] = context_value
        state["variable_values"] = coerced
        # (gather, track), positionally: a named tuple is made faster so.
        state["async_helpers"] = GraphQLResolveInfoHelpers(
            _gather_async_work, partial(_track_async_work, background)
        )
        state["collected_errors"] = CollectedErrors()
        state["pending_incremental_futures"] = set()
        state["background_futures"] = background
        state["_relevant_sub_fields"] = {}
        return executor


def _gather_async_work(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    # `Executor.gather_async_work`.
    return gather_with_cancel(*values)


def _track_async_work(background: set[Awaitable[Any]], values: Sequence[Any]) -> None:
    # `Executor.track_async_work` and `settle_in_background`, on the executor's own set of
    # background futures rather than through the executor.
    awaitables = [value for value in values if default_is_awaitable(value)]
    if not awaitables:
        return
    try:
        get_running_loop()
    except RuntimeError:  # no running event loop: the awaitables can never run
        for awaitable in awaitables:
            if iscoroutine(awaitable):
                awaitable.close()
        return
    future = gather(*awaitables, return_exceptions=True)
    background.add(future)
    future.add_done_callback(background.discard)
