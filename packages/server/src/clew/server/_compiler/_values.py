"""Value completion decided once per return type: graphql-core's `complete_value`, unrolled.

Each completer is `complete(executor, value, path)` and behaves as graphql-core's
`Executor.complete_value` for its type: it returns the completed value, or a coroutine when
something on the way is asynchronous, and raises what graphql-core raises (the caller locates
the error). `path` may be None for a leaf completer (`needs_path` False): the caller builds the
path only when an error needs it. The executor is graphql-core's own per-request `Executor`,
so errors, resolve infos and background work are graphql-core's own objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import isfinite
from types import CoroutineType
from typing import TYPE_CHECKING, Any, TypeAlias, final

from graphql import (
    GraphQLAbstractType,
    GraphQLError,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    located_error,
    specified_scalar_types,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import collect_iterator_awaitables
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_awaitable, is_iterable

if TYPE_CHECKING:
    from graphql.execution import Executor

__all__ = ["Complete", "Site", "exact_type", "fail", "field_path_of", "settle_field"]

Complete: TypeAlias = Callable[["Executor[Any]", Any, "Path | None"], Any]

#: Python types a value of which is never awaitable, an exception or callable: no checks needed.
_PLAIN = frozenset({str, int, float, bool, dict, list, tuple})
#: The Python type each built-in scalar returns unchanged (Int only within 32 bits, spec 3.5.1).
_EXACT: dict[str, type] = {"String": str, "ID": str, "Boolean": bool, "Int": int}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def exact_type(type_: GraphQLOutputType) -> type | None:
    """The Python type that `type_` (a built-in scalar, maybe non-null) returns unchanged."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    name = getattr(type_, "name", "")
    return _EXACT.get(name) if specified_scalar_types.get(name) is type_ else None


@final
class Site:
    """One response key of one parent type: what graphql-core looks up for it on every call."""

    __slots__ = (
        "definition",
        "details",
        "field_name",
        "iterable_message",
        "key",
        "node",
        "nodes",
        "null_message",
        "parent_type",
        "return_type",
    )

    def __init__(
        self, parent_type: GraphQLObjectType, key: str, details: FieldDetailsList, definition: Any
    ) -> None:
        self.key = key
        self.node = details[0].node
        self.field_name = self.node.name.value
        self.parent_type = parent_type
        self.definition = definition
        self.return_type: GraphQLOutputType = definition.type
        self.details = details
        self.nodes = [detail.node for detail in details]
        self.null_message = (
            f"Cannot return null for non-nullable field {parent_type}.{self.field_name}."
        )
        self.iterable_message = (
            f"Expected Iterable, but did not find one for field '{parent_type}.{self.field_name}'."
        )

    def info(self, executor: Executor[Any], path: Path) -> GraphQLResolveInfo[Any]:
        """The resolve info graphql-core builds for this field at `path` (the field's own)."""
        return executor.build_resolve_info(self.definition, self.nodes, self.parent_type, path)


def field_path_of(path: Path) -> Path:
    """The path of the field a list item at `path` belongs to (graphql-core's info path)."""
    while type(path.key) is int:
        path = path.prev  # type: ignore[assignment]
    return path


def fail(
    executor: Executor[Any], raw: Exception, return_type: GraphQLOutputType, site: Site, path: Path
) -> None:
    """graphql-core's `handle_field_error`: raise through a non-null type, else null and record."""
    error = located_error(raw, site.nodes, path.as_list())
    if type(return_type) is GraphQLNonNull:
        raise error
    executor.collected_errors.add(error, path)


async def settle_field(
    executor: Executor[Any], pending: Any, return_type: GraphQLOutputType, site: Site, path: Path
) -> Any:
    """An asynchronous completion of a field or list item, its error handled on arrival."""
    try:
        return await pending
    except Exception as raw:
        fail(executor, raw, return_type, site, path)
        return None


async def complete_awaited(
    executor: Executor[Any],
    pending: Any,
    complete: Complete,
    return_type: GraphQLOutputType,
    site: Site,
    *,
    path: Path,
) -> Any:
    """graphql-core's `complete_awaitable_value` (also its list-item twin)."""
    try:
        completed = complete(executor, await pending, path)
        if is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        fail(executor, raw, return_type, site, path)
        return None
    return completed


def non_null(inner: Complete, site: Site) -> Complete:
    message = site.null_message

    def complete(executor: Executor[Any], value: Any, path: Path | None) -> Any:
        completed = inner(executor, value, path)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


def leaf(type_: GraphQLLeafType, null_message: str | None = None) -> Complete:
    """`complete_leaf_value`; with `null_message`, for the non-null type around it too."""
    coerce = type_.coerce_output_value
    builtin = specified_scalar_types.get(type_.name) is type_
    exact = _EXACT.get(type_.name) if builtin else None
    bounded = exact is int
    finite = builtin and type_.name == "Float"

    def complete(executor: Executor[Any], value: Any, path: Path | None) -> Any:
        kind = value.__class__
        if kind is exact:
            if not bounded or _INT_MIN <= value <= _INT_MAX:
                return value
        elif kind is float and finite and isfinite(value):
            return value
        elif kind not in _PLAIN and isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if null_message is not None:
                raise TypeError(null_message)
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})`"
                f" to return non-nullable value, returned: {inspect(coerced)}"
            )
        if not builtin and is_awaitable(coerced) and coerced.__class__ is not CoroutineType:
            return _await(coerced)
        return coerced

    return complete


async def _await(pending: Any) -> Any:
    return await pending


def list_(
    item: Complete,
    item_needs_path: bool,
    item_type: GraphQLOutputType,
    list_type: GraphQLList[Any],
    site: Site,
    *,
    null_message: str | None = None,
) -> Complete:
    """`complete_list_value`; with `null_message`, for the non-null type around it too."""
    message = site.iterable_message

    def complete(executor: Executor[Any], value: Any, path: Path | None) -> Any:
        assert path is not None
        kind = value.__class__
        if kind is not list and kind is not tuple:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if null_message is not None:
                    raise TypeError(null_message)
                return None
            if executor.is_async_iterable(value):
                info = site.info(executor, field_path_of(path))
                return executor.complete_list_value(
                    list_type, site.details, info, path, value, None
                )
            if not is_iterable(value):
                raise GraphQLError(message)
        completed: list[Any] = []
        append = completed.append
        pending: list[int] = []
        iterator = iter(value)
        index = 0
        try:
            for entry in iterator:
                item_path = Path(path, index, None) if item_needs_path else None
                if entry.__class__ not in _PLAIN and is_awaitable(entry):
                    item_path = item_path or Path(path, index, None)
                    append(complete_awaited(executor, entry, item, item_type, site, path=item_path))
                    pending.append(index)
                else:
                    try:
                        done = item(executor, entry, item_path)
                        if done.__class__ is CoroutineType:
                            item_path = item_path or Path(path, index, None)
                            append(settle_field(executor, done, item_type, site, item_path))
                            pending.append(index)
                        else:
                            append(done)
                    except Exception as raw:
                        fail(executor, raw, item_type, site, item_path or Path(path, index, None))
                        append(None)
                index += 1
        except Exception:
            leftovers = [completed[i] for i in pending]
            leftovers.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if leftovers:
                executor.settle_in_background(leftovers)
            raise
        if not pending:
            return completed
        return _gather_items(completed, pending)

    return complete


async def _gather_items(completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        index = pending[0]
        completed[index] = await completed[index]
    else:
        results = await gather_with_cancel(*(completed[index] for index in pending))
        for index, result in zip(pending, results, strict=True):
            completed[index] = result
    return completed


ExecuteFields: TypeAlias = Callable[["Executor[Any]", Any, Path], Any]


def object_(
    fields: ExecuteFields,
    object_type: GraphQLObjectType,
    site: Site,
    null_message: str | None = None,
) -> Complete:
    """`complete_object_value`; with `null_message`, for the non-null type around it too."""
    is_type_of = object_type.is_type_of

    def complete(executor: Executor[Any], value: Any, path: Path | None) -> Any:
        assert path is not None
        if value.__class__ is not dict:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if null_message is not None:
                    raise TypeError(null_message)
                return None
        if is_type_of is None:
            return fields(executor, value, path)
        return check_type_of(executor, fields, object_type, value, path, site=site)

    return complete


def check_type_of(
    executor: Executor[Any],
    fields: ExecuteFields,
    object_type: GraphQLObjectType,
    value: Any,
    path: Path,
    *,
    site: Site,
) -> Any:
    """`complete_object_value` for a type with `is_type_of`."""
    assert object_type.is_type_of is not None
    verdict = object_type.is_type_of(value, site.info(executor, field_path_of(path)))
    if is_awaitable(verdict):
        return _fields_after(executor, fields, verdict, object_type, value, path=path, site=site)
    if not verdict:
        raise _invalid_return_type(object_type, value, site)
    return fields(executor, value, path)


async def _fields_after(
    executor: Executor[Any],
    fields: ExecuteFields,
    verdict: Any,
    object_type: GraphQLObjectType,
    value: Any,
    *,
    path: Path,
    site: Site,
) -> Any:
    if not await verdict:
        raise _invalid_return_type(object_type, value, site)
    completed = fields(executor, value, path)
    return await completed if is_awaitable(completed) else completed


def _invalid_return_type(object_type: GraphQLObjectType, value: Any, site: Site) -> GraphQLError:
    return GraphQLError(
        f"Expected value of type '{object_type}' but got: {inspect(value)}.", site.nodes
    )


def abstract(
    by_type: Mapping[str, Complete], abstract_type: GraphQLAbstractType, site: Site
) -> Complete:
    """`complete_abstract_value`: the runtime type decides which compiled object completes."""

    def complete(executor: Executor[Any], value: Any, path: Path | None) -> Any:
        assert path is not None
        if value.__class__ is not dict:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                return None
        info = site.info(executor, field_path_of(path))
        resolve_type = abstract_type.resolve_type or executor.type_resolver
        runtime = resolve_type(value, info, abstract_type)
        if is_awaitable(runtime):
            return _abstract_after(
                executor, by_type, runtime, abstract_type, info, value=value, path=path, site=site
            )
        object_type = executor.ensure_valid_runtime_type(
            runtime, abstract_type, site.details, info, value
        )
        return by_type[object_type.name](executor, value, path)

    return complete


async def _abstract_after(
    executor: Executor[Any],
    by_type: Mapping[str, Complete],
    runtime: Any,
    abstract_type: GraphQLAbstractType,
    info: GraphQLResolveInfo[Any],
    *,
    value: Any,
    path: Path,
    site: Site,
) -> Any:
    object_type = executor.ensure_valid_runtime_type(
        await runtime, abstract_type, site.details, info, value
    )
    completed = by_type[object_type.name](executor, value, path)
    return await completed if is_awaitable(completed) else completed
