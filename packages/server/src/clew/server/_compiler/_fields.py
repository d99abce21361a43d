"""Field execution compiled per selection: graphql-core's `execute_field`/`execute_fields`.

A runner is `run(executor, source, parent_path)` for one response key: it resolves the field
(a resolver with its resolve info, or the default resolver as a direct key or attribute read),
completes the value, and handles a field error as graphql-core does, returning the value or a
coroutine. Arguments written as literals were coerced when compiling; arguments that use
variables are coerced per request with graphql-core's `get_argument_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy
from types import CoroutineType
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import Undefined
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, async_reduce, gather_with_cancel, is_awaitable

from ._resolvers import EventResolver
from ._values import Complete, Site, complete_awaited, fail, settle_field

if TYPE_CHECKING:
    from graphql.execution import Executor

__all__ = ["Arguments", "ExecuteFields", "Runner", "Selection", "field_runner", "typename_runner"]

Runner: TypeAlias = Callable[["Executor[Any]", Any, "Path | None"], Any]
ExecuteFields: TypeAlias = Callable[["Executor[Any]", Any, "Path | None"], Any]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
#: Types a default-resolved value of which is never callable nor awaitable.
_PLAIN = frozenset({str, int, float, bool, dict, list, tuple})


class Arguments:
    """A field's arguments: coerced once when they are literals, else per request."""

    __slots__ = ("_checked", "dynamic", "mutable", "static")

    def __init__(self, site: Site, uses_variables: bool) -> None:
        self.dynamic = uses_variables
        self.static: dict[str, Any] = {}
        if not uses_variables and (site.definition.args or site.node.arguments):
            # Raises for a literal the argument's type refuses: the plan is then refused.
            self.static = get_argument_values(site.definition, site.node)
        self.mutable = any(isinstance(v, (list, dict)) for v in self.static.values())
        self._checked: object = None

    def values(self, executor: Executor[Any], site: Site) -> dict[str, Any]:
        if self.dynamic:
            detail = site.details[0]
            return get_argument_values(
                site.definition,
                detail.node,
                executor.variable_values,
                detail.fragment_variable_values,
                executor.hide_suggestions,
            )
        # A resolver may change what it was given; the next request must not see that.
        return deepcopy(self.static) if self.mutable else self.static

    def checked(self, variables: object) -> bool:
        """Whether coercing would not raise for `variables` (known without coercing)."""
        return not self.dynamic or variables is self._checked

    def check(self, executor: Executor[Any], site: Site) -> None:
        """Coerce only to raise what graphql-core raises, for a resolver that ignores its
        arguments (`EventResolver`): once per set of variables, as every event of a
        subscription shares its variables and so its outcome."""
        variables = executor.variable_values
        if self.dynamic and variables is not self._checked:
            self.values(executor, site)
            self._checked = variables


def typename_runner(type_name: str) -> Runner:
    def run(_executor: Executor[Any], _source: Any, _path: Path | None) -> Any:
        return type_name

    return run


def field_runner(
    site: Site, complete: Complete, needs_path: bool, arguments: Arguments, exact: type | None
) -> Runner:
    """The runner for `site`; `exact` is a Python type its leaf returns unchanged (or None)."""
    resolve = site.definition.resolve
    if isinstance(resolve, EventResolver):
        return _runner(site, complete, needs_path, arguments, read=resolve.read)
    if resolve is not None:
        return _runner(site, complete, needs_path, arguments, resolve=resolve)
    return _default_runner(site, complete, needs_path, arguments, exact)


def _default_runner(
    site: Site, complete: Complete, needs_path: bool, arguments: Arguments, exact: type | None
) -> Runner:
    # The common case, kept short: the default resolver, a key or attribute read (a callable
    # value is called with the resolve info and the arguments, coerced first in any case).
    key, name, parent_name = site.key, site.field_name, site.parent_type.name
    return_type = site.return_type
    bounded = exact is int
    uses_arguments = arguments.dynamic or bool(arguments.static)

    def run(executor: Executor[Any], source: Any, parent_path: Path | None) -> Any:
        path = None
        try:
            args = arguments.values(executor, site) if uses_arguments else None
            if source.__class__ is dict or isinstance(source, Mapping):
                value = source.get(name)
            else:
                value = getattr(source, name, None)
            kind = value.__class__
            if kind is exact and (not bounded or _INT_MIN <= value <= _INT_MAX):  # type: ignore[operator]
                return value
            if needs_path:
                path = Path(parent_path, key, parent_name)
            if kind not in _PLAIN:
                if callable(value):
                    path = path or Path(parent_path, key, parent_name)
                    info = site.info(executor, path)
                    value = value(info) if args is None else value(info, **args)
                if value.__class__ not in _PLAIN and is_awaitable(value):
                    path = path or Path(parent_path, key, parent_name)
                    return complete_awaited(executor, value, complete, return_type, site, path=path)
            completed = complete(executor, value, path)
            if completed.__class__ is CoroutineType:
                path = path or Path(parent_path, key, parent_name)
                return settle_field(executor, completed, return_type, site, path)
        except Exception as raw:
            fail(executor, raw, return_type, site, path or Path(parent_path, key, parent_name))
            return None
        return completed

    return run


def _runner(
    site: Site,
    complete: Complete,
    needs_path: bool,
    arguments: Arguments,
    *,
    resolve: Callable[..., Any] | None = None,
    read: Callable[[Any], Any] | None = None,
) -> Runner:
    # A resolver with its info and arguments, or an event read.
    key, parent_name = site.key, site.parent_type.name
    return_type = site.return_type
    uses_arguments = arguments.dynamic or bool(arguments.static)

    def run(executor: Executor[Any], source: Any, parent_path: Path | None) -> Any:
        path = Path(parent_path, key, parent_name) if needs_path else None
        try:
            if resolve is not None:
                args = arguments.values(executor, site) if uses_arguments else arguments.static
                path = path or Path(parent_path, key, parent_name)
                value = resolve(source, site.info(executor, path), **args)
            else:
                assert read is not None
                arguments.check(executor, site)
                value = read(source)
            if value.__class__ not in _PLAIN and is_awaitable(value):
                path = path or Path(parent_path, key, parent_name)
                return complete_awaited(executor, value, complete, return_type, site, path=path)
            completed = complete(executor, value, path)
            if completed.__class__ is CoroutineType:
                path = path or Path(parent_path, key, parent_name)
                return settle_field(executor, completed, return_type, site, path)
        except Exception as raw:
            fail(executor, raw, return_type, site, path or Path(parent_path, key, parent_name))
            return None
        return completed

    return run


class Selection:
    """The runners of one object type's grouped field set: `execute_fields` for it."""

    __slots__ = ("event_leaf", "runners", "steps", "type_name")

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.runners: list[tuple[str, Runner]] = []
        #: When the selection is one leaf field read by an `EventResolver`: its key, reader,
        #: the Python type returned unchanged, and its arguments (see `Plan.run_event`).
        self.event_leaf: tuple[str, Callable[[Any], Any], type, Arguments] | None = None
        # Per key: the field name and Python type when the key is a default-resolved leaf
        # read straight from a dict, returned as is when the value has exactly that type.
        self.steps: list[tuple[str, str | None, type | None, Runner]] = []

    def add(
        self, key: str, run: Runner, read: str | None = None, exact: type | None = None
    ) -> None:
        self.runners.append((key, run))
        self.steps.append((key, read if exact is not None else None, exact, run))

    def execute(self, executor: Executor[Any], source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields`: every key at once, awaiting what is asynchronous."""
        results: dict[str, Any] = {}
        pending: list[str] | None = None
        is_dict = source.__class__ is dict
        try:
            for key, read, exact, run in self.steps:
                if read is not None and is_dict:
                    # The runner's first step, inlined for the most common field of all.
                    value = source.get(read)
                    kind = value.__class__
                    if kind is exact and (kind is not int or _INT_MIN <= value <= _INT_MAX):
                        results[key] = value
                        continue
                result = run(executor, source, path)
                results[key] = result
                if result.__class__ is CoroutineType:
                    if pending is None:
                        pending = [key]
                    else:
                        pending.append(key)
        except Exception:
            if pending:
                executor.settle_in_background([results[key] for key in pending])
            raise
        if pending is None:
            return results
        return _gather_fields(results, pending)

    def execute_serially(self, executor: Executor[Any], source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields_serially`: each key after the previous one settled."""

        def reducer(results: dict[str, Any], entry: tuple[str, Runner]) -> Any:
            key, run = entry
            result = run(executor, source, path)
            if result is Undefined:  # pragma: no cover - validated documents have every field
                return results
            if is_awaitable(result):
                return _set_result(results, key, result)
            results[key] = result
            return results

        return async_reduce(reducer, self.runners, {})


async def _set_result(results: dict[str, Any], key: str, pending: Any) -> dict[str, Any]:
    results[key] = await pending
    return results


async def _gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        key = pending[0]
        results[key] = await results[key]
    else:
        awaited = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, awaited, strict=True))
    return results
