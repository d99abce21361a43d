"""Selection sets: explicit (`Fields(...)`, `_fields=[...]`) and checked, or chosen automatically.

Automatic selection also lives here: scalar and enum fields, nested objects to a depth limit,
never a field that needs arguments. Every name is checked, and a mistake names the valid ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeAlias, final

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from .errors import SchemaValidationError

__all__ = ["Fields", "FieldsLike", "select_fields"]

FieldSpec: TypeAlias = "str | Fields | Mapping[str, FieldsLike]"
FieldsLike: TypeAlias = "Fields | Sequence[FieldSpec]"

_Composite: TypeAlias = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


@final
class Fields:
    """A selection set: ``Fields("id", "title", author=Fields("name"))``.

    Positional items are field names (an object field named alone gets an automatic
    selection); keyword items give a sub-selection for one field.
    """

    __slots__ = ("_items",)

    _items: tuple[tuple[str, FieldsLike | None], ...]

    def __init__(self, *names: FieldSpec, **nested: FieldsLike) -> None:
        items: list[tuple[str, FieldsLike | None]] = list(_flatten(names))
        items.extend(nested.items())
        self._items = tuple(items)

    def __iter__(self) -> Iterator[tuple[str, FieldsLike | None]]:
        return iter(self._items)

    def __repr__(self) -> str:
        parts = [name if sub is None else f"{name}={sub!r}" for name, sub in self._items]
        return f"Fields({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fields) and other._items == self._items

    def __hash__(self) -> int:
        return hash(self._items)


def _flatten(specs: Iterable[FieldSpec]) -> Iterable[tuple[str, FieldsLike | None]]:
    """Turn the accepted spellings into (name, sub-selection or None) pairs."""
    for spec in specs:
        if isinstance(spec, str):
            yield spec, None
        elif isinstance(spec, Fields):
            yield from spec._items
        elif isinstance(spec, Mapping):
            yield from spec.items()
        else:
            raise TypeError(
                f"A field selection item must be a name, a mapping or Fields, got {spec!r}"
            )


def _items(fields: FieldsLike) -> Iterable[tuple[str, FieldsLike | None]]:
    if isinstance(fields, Fields):
        return fields._items
    if isinstance(fields, str):
        # A bare string is a sequence of characters; take it as one name, not as letters.
        return ((fields, None),)
    return _flatten(fields)


def _valid(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"


def _needs_arguments(field: GraphQLField) -> bool:
    return any(is_required_argument(arg) for arg in field.args.values())


def select_fields(
    schema: GraphQLSchema,
    owner: str,
    type_: GraphQLOutputType,
    fields: FieldsLike | None,
    depth: int,
) -> str:
    """The selection set for a value of `type_` (``""`` for scalars and enums).

    `owner` names the field for error messages (``Query.books``). With `fields` None the
    selection is automatic, following nested objects `depth` levels deep.
    """
    named = get_named_type(type_)
    if is_leaf_type(named):
        if fields is not None:
            raise SchemaValidationError(f"{owner} returns {type_}, which has no fields to select")
        return ""
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
    if fields is None:
        return _auto(schema, named, depth)
    return _explicit(schema, named, fields, depth)


def _auto(schema: GraphQLSchema, type_: _Composite, depth: int) -> str:
    """Leaf fields, plus object fields while `depth` lasts; `__typename` keeps a set non-empty."""
    parts: list[str] = []
    if isinstance(type_, GraphQLUnionType):
        parts.append("__typename")
        for member in type_.types:
            inner = _auto(schema, member, depth)
            parts.append(f"... on {member.name} {inner}")
        return "{ " + " ".join(parts) + " }"
    for name, field in type_.fields.items():
        if _needs_arguments(field) or field.deprecation_reason is not None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif depth > 0:
            assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            parts.append(f"{name} {_auto(schema, named, depth - 1)}")
    if isinstance(type_, GraphQLInterfaceType) or not parts:
        parts.insert(0, "__typename")
    return "{ " + " ".join(parts) + " }"


def _explicit(schema: GraphQLSchema, type_: _Composite, fields: FieldsLike, depth: int) -> str:
    parts: list[str] = []
    for name, sub in _items(fields):
        if name == "__typename":
            if sub is not None:
                raise SchemaValidationError("__typename is a String and has no fields to select")
            parts.append(name)
            continue
        if name.startswith("... on "):
            parts.append(_fragment(schema, type_, name.removeprefix("... on ").strip(), sub, depth))
            continue
        if isinstance(type_, GraphQLUnionType):
            raise SchemaValidationError(
                f"{type_.name} is a union: select '__typename' or '... on <Type>' with a "
                f"sub-selection; its types are: {_valid(t.name for t in type_.types)}"
            )
        field = type_.fields.get(name)
        if field is None:
            raise SchemaValidationError(
                f"{type_.name} has no field {name!r}; valid fields: {_valid(type_.fields)}"
            )
        if _needs_arguments(field):
            required = ", ".join(
                f"{arg_name}: {arg.type}"
                for arg_name, arg in field.args.items()
                if is_required_argument(arg)
            )
            raise SchemaValidationError(
                f"{type_.name}.{name} needs arguments ({required}); "
                "write the operation by hand and send it with execute()"
            )
        inner = select_fields(schema, f"{type_.name}.{name}", field.type, sub, max(depth - 1, 0))
        parts.append(f"{name} {inner}" if inner else name)
    if not parts:
        raise SchemaValidationError(f"The selection for {type_.name} is empty")
    return "{ " + " ".join(parts) + " }"


def _fragment(
    schema: GraphQLSchema, parent: _Composite, type_name: str, sub: FieldsLike | None, depth: int
) -> str:
    """An inline fragment ``... on T { ... }`` on a union or interface member."""
    possible = (
        [parent]
        if isinstance(parent, GraphQLObjectType)
        else list(schema.get_possible_types(parent))
    )
    target = next((t for t in possible if t.name == type_name), None)
    if target is None:
        raise SchemaValidationError(
            f"{parent.name} cannot be a {type_name!r}; possible types: "
            f"{_valid(t.name for t in possible)}"
        )
    inner = _auto(schema, target, depth) if sub is None else _explicit(schema, target, sub, depth)
    return f"... on {type_name} {inner}"
