"""Running one operation through graphql-core and through the compiled plan, side by side.

Resolver behaviours are written into the data as markers (`Raise`, `Later`, `Call`) and
*materialised* afresh for each run, so both executions see equal but separate values
(coroutines cannot be awaited twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    execute,
)
from graphql.execution import Executor

from clew.server._compiler._plan import Plan

__all__ = ["Call", "Fresh", "Later", "Obj", "Raise", "compare", "materialise", "outcome"]


@dataclass(frozen=True)
class Raise:
    """The resolver (or a callable read by the default resolver) raises this."""

    message: str
    graphql: bool = False

    def error(self) -> Exception:
        return GraphQLError(self.message) if self.graphql else ValueError(self.message)


@dataclass(frozen=True)
class Later:
    """An awaitable that settles as `value` after `ticks` turns of the event loop."""

    value: Any
    ticks: int = 0


@dataclass(frozen=True)
class Call:
    """A callable the default resolver finds and calls (with the info and arguments)."""

    value: Any


@dataclass(frozen=True)
class Returned:
    """An exception *returned* as the value (graphql-core raises it for the field)."""

    message: str


class Fresh:
    """A root value built afresh by `factory` for each run (to record what each run did)."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory


class Obj:
    """An object read by attribute rather than by key."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"Obj({self.__dict__!r})"


def materialise(value: Any) -> Any:
    """`value` with its markers turned into what a resolver would produce, built afresh."""
    if isinstance(value, Fresh):
        return value.factory()
    if isinstance(value, Raise):
        error = value.error()

        def raising(*_args: Any, **_kwargs: Any) -> Any:
            raise error

        return raising
    if isinstance(value, Later):
        return Awaitable(value)  # a coroutine only once awaited: unread values warn nothing
    if isinstance(value, Call):
        inner = value.value

        def call(_info: Any, **_kwargs: Any) -> Any:
            # A callable read by the default resolver may return a real coroutine.
            return _settle_later(inner) if isinstance(inner, Later) else materialise(inner)

        return call
    if isinstance(value, Returned):
        return ValueError(value.message)
    if isinstance(value, dict):
        return {key: materialise(item) for key, item in value.items()}
    if isinstance(value, Obj):
        return Obj({key: materialise(item) for key, item in value.__dict__.items()})
    if isinstance(value, list):
        return [materialise(item) for item in value]
    return value


class Awaitable:
    """An awaitable (not a coroutine) settling as its `Later` says."""

    def __init__(self, later: Later) -> None:
        self.later = later

    def __await__(self) -> Any:
        return _settle_later(self.later).__await__()


async def _settle_later(later: Later) -> Any:
    for _ in range(later.ticks):
        await asyncio.sleep(0)
    if isinstance(later.value, Raise):
        raise later.value.error()
    return materialise(later.value)


def outcome(result: ExecutionResult) -> tuple[Any, list[Any]]:
    """What must be equal: the data, and each error's wire shape and original exception."""
    errors = [
        (
            error.formatted,
            type(error.original_error).__name__,
            str(error.original_error) if error.original_error else None,
        )
        for error in result.errors or ()
    ]
    return result.data, errors


async def _settle(result: Any) -> ExecutionResult:
    if not isinstance(result, ExecutionResult):
        result = await result
    assert isinstance(result, ExecutionResult)
    # Let work settling in the background (after an error bubbled) finish before the next run.
    current = asyncio.current_task()
    while pending := [task for task in asyncio.all_tasks() if task is not current]:
        await asyncio.gather(*pending, return_exceptions=True)
    return result


async def run_both(
    schema: GraphQLSchema,
    document: DocumentNode,
    root: Any,
    variables: dict[str, Any] | None,
) -> tuple[ExecutionResult, ExecutionResult]:
    """graphql-core's result, then the plan's, for one operation on fresh copies of `root`."""
    expected = await _settle(execute(schema, document, materialise(root), {}, variables))
    actual = await _settle(Plan(schema, document, None).execute(materialise(root), {}, variables))
    return expected, actual


async def run_event_both(
    schema: GraphQLSchema, document: DocumentNode, event: Any, variables: dict[str, Any] | None
) -> tuple[ExecutionResult, ExecutionResult]:
    """graphql-core's per-event result for a subscription, then the plan's."""
    import graphql

    built = Executor.build(schema, document, None, {}, variables)
    assert isinstance(built, Executor), built
    expected = await _settle(
        graphql.execute_subscription_event(built.build_per_event_executor(materialise(event)))
    )
    plan = Plan(schema, document, None)
    actual = await _settle(plan.run_event(built, materialise(event)))
    # A second event on the same plan and variables: its arguments are known to coerce now,
    # which lets a one-leaf selection take the shortest path.
    again = await _settle(plan.run_event(built, materialise(event)))
    assert outcome(again) == outcome(actual)
    return expected, actual


def compare(expected: ExecutionResult, actual: ExecutionResult) -> None:
    """Assert the two results are the same for a client, and for a debug traceback."""
    got, wanted = outcome(actual), outcome(expected)
    assert got == wanted, f"\nplan:         {got}\ngraphql-core: {wanted}"
