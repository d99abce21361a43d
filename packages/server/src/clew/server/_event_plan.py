"""A compiled fast path from one subscription event to its result, for the simple selections.

graphql-core executes every event of a subscription from the document: it collects the
fields, builds a resolve info per field, looks up resolvers, checks for awaitables and
completes each value by its type. For most subscriptions none of that changes between events:
the root field is read from the event and its value is a scalar, an enum, a list, or objects
read with the default resolver. `compile_event_plan` turns such a selection into a tree of
closures once, at subscribe time; each event then costs a few dictionary reads and the output
coercions.

The plan only ever produces results *without errors*. Whatever it does not cover is refused
when compiling (custom resolvers below the root, abstract types, `is_type_of`, directives,
field arguments below the root, middleware, a custom executor); whatever it meets at run time
and would need graphql-core's judgement (a null in a non-null position, a value the scalar
refuses, an awaitable, an exception, a callable the default resolver would call) makes it
raise, and the engine runs that event through graphql-core instead, so the errors and partial
data are graphql-core's own. The cost of that design: a property read or an output coercion
may run twice for an event that falls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias, cast

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined, is_awaitable

from clew.protocol._types import JSONObject

if TYPE_CHECKING:
    from graphql import DocumentNode

__all__ = ["EventPlan", "PlanRefused", "compile_event_plan"]

#: Turns one source event into the result's `data`; raises `PlanRefused` (or whatever a
#: coercion raised) when graphql-core must execute this event instead.
EventPlan: TypeAlias = Callable[[object], JSONObject]
_Complete: TypeAlias = Callable[[object], object]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

#: Types whose values need no awaitable or exception check before their coercion.
_PLAIN = frozenset({int, str, float, bool})


class PlanRefused(Exception):
    """This event needs graphql-core: the plan met something it does not decide itself."""


class _NotCompilable(Exception):
    """The selection uses something the plan does not cover: no plan for this operation."""


def compile_event_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> EventPlan | None:
    """The plan for the subscription `operation_name` of `document`, or None when it is not
    simple enough (see the module docstring); the document must have passed validation."""
    try:
        return _Compiler(schema, document).operation(operation_name)
    except _NotCompilable:
        return None


class _Compiler:
    """Builds the closures for one document; refuses with `_NotCompilable`."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.operations = [
            d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, operation_name: str | None) -> EventPlan:
        if operation_name is None:
            candidates = self.operations
        else:
            candidates = [o for o in self.operations if o.name and o.name.value == operation_name]
        root_type = self.schema.subscription_type
        if len(candidates) != 1 or root_type is None:
            raise _NotCompilable
        operation = candidates[0]
        if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
            raise _NotCompilable  # e.g. @experimental_disableErrorPropagation
        grouped = self.collect(root_type, [operation.selection_set])
        if len(grouped) != 1:
            raise _NotCompilable
        ((key, nodes),) = grouped.items()
        name = nodes[0].name.value
        field = root_type.fields.get(name)
        if field is None:
            raise _NotCompilable
        # The root field's arguments were coerced when the source stream was created; they
        # only reach a resolver, and the plan runs no resolver that uses them.
        read = _root_reader(name, field)
        complete = self.complete(field.type, nodes)

        def plan(event: object) -> JSONObject:
            return {key: complete(read(event))}  # type: ignore[dict-item]

        return plan

    # -- fields ----------------------------------------------------------------------------

    def collect(
        self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """CollectFields for a concrete type, without directives: response key -> nodes."""
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect_into(grouped, parent, selection_set, set())
        return grouped

    def _collect_into(
        self,
        grouped: dict[str, list[FieldNode]],
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise _NotCompilable  # @skip/@include/@defer/@stream, or a custom one
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, parent):
                    self._collect_into(grouped, parent, selection.selection_set, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if getattr(selection, "arguments", None):
                    raise _NotCompilable  # experimental fragment arguments
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None or getattr(fragment, "variable_definitions", None):
                    raise _NotCompilable
                if fragment.directives:
                    raise _NotCompilable
                if self._applies(fragment.type_condition, parent):
                    self._collect_into(grouped, parent, fragment.selection_set, visited)
            else:  # pragma: no cover - no other selection kinds exist
                raise _NotCompilable

    def _applies(self, condition: object, parent: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        name = getattr(getattr(condition, "name", None), "value", None)
        if name == parent.name:
            return True
        declared = self.schema.get_type(name) if isinstance(name, str) else None
        if declared is None:
            raise _NotCompilable
        return is_abstract_type(declared) and self.schema.is_sub_type(declared, parent)

    def object_fields(
        self, parent: GraphQLObjectType, nodes: list[FieldNode]
    ) -> list[tuple[str, _Complete]]:
        """Each response key of an object's sub-selection with how to compute it."""
        selection_sets = [node.selection_set for node in nodes if node.selection_set]
        fields: list[tuple[str, _Complete]] = []
        for key, sub_nodes in self.collect(parent, selection_sets).items():
            name = sub_nodes[0].name.value
            if name == "__typename":
                fields.append((key, _constant(parent.name)))
                continue
            field = parent.fields.get(name)
            if field is None or field.resolve is not None:
                raise _NotCompilable  # a resolver needs its info: graphql-core runs it
            if any(node.arguments for node in sub_nodes):
                raise _NotCompilable
            fields.append(
                (key, _chain(_default_reader(name), self.complete(field.type, sub_nodes)))
            )
        return fields

    # -- values ----------------------------------------------------------------------------

    def complete(self, type_: GraphQLOutputType, nodes: list[FieldNode]) -> _Complete:
        """CompleteValue for `type_`, refusing errors and awaitables."""
        if isinstance(type_, GraphQLNonNull):
            return _non_null(self.complete(cast("GraphQLOutputType", type_.of_type), nodes))
        if isinstance(type_, GraphQLList):
            return _list(self.complete(cast("GraphQLOutputType", type_.of_type), nodes))
        if is_leaf_type(type_):
            coerce = getattr(type_, "coerce_output_value", None) or type_.serialize
            leaf = _leaf(coerce)
            if type_ is GraphQLInt:
                return _int_leaf(leaf)
            if type_ is GraphQLString or type_ is GraphQLID:
                return _exact_leaf(str, leaf)
            if type_ is GraphQLBoolean:
                return _exact_leaf(bool, leaf)
            return leaf
        if isinstance(type_, GraphQLObjectType) and type_.is_type_of is None:
            return _object(self.object_fields(type_, nodes))
        raise _NotCompilable  # abstract types, or objects checked by is_type_of


def _root_reader(name: str, field: GraphQLField) -> _Complete:
    resolve = field.resolve
    if resolve is None:
        return _default_reader(name)
    if _is_event_resolver(resolve, name):
        # clew's `GraphQL.from_sdl` resolver: the event is the value, or a mapping holding it.
        def read_event(event: object) -> object:
            if isinstance(event, Mapping) and name in event:
                return event[name]
            return event

        return read_event
    raise _NotCompilable


def _is_event_resolver(resolve: Callable[..., object], name: str) -> bool:
    # Recognised by where it was defined and the field name it closes over, so the plan
    # does not need to import the app module (which builds on the engine).
    if getattr(resolve, "__module__", None) != "clew.server.app":
        return False
    if getattr(resolve, "__qualname__", None) != "_event_resolver.<locals>.resolve":
        return False
    cells = getattr(resolve, "__closure__", None) or ()
    return [cell.cell_contents for cell in cells] == [name]


def _constant(value: str) -> _Complete:
    def constant(_source: object) -> object:
        return value

    return constant


def _default_reader(name: str) -> _Complete:
    # graphql-core's `default_field_resolver`, except that a callable value (which it would
    # call with the resolve info) is refused.
    def read(source: object) -> object:
        if type(source) is dict or isinstance(source, Mapping):
            value = source.get(name)
        else:
            value = getattr(source, name, None)
        if callable(value):
            raise PlanRefused
        return value

    return read


def _chain(read: _Complete, complete: _Complete) -> _Complete:
    def field(source: object) -> object:
        return complete(read(source))

    return field


def _non_null(complete: _Complete) -> _Complete:
    def non_null(value: object) -> object:
        completed = complete(value)
        if completed is None:
            raise PlanRefused  # graphql-core reports the null and propagates it
        return completed

    return non_null


def _list(complete_item: _Complete) -> _Complete:
    def list_(value: object) -> object:
        if value is None or value is Undefined:
            return None
        kind = type(value)
        if kind is not list and kind is not tuple:
            raise PlanRefused  # other iterables, async iterables, awaitables, errors
        return [complete_item(item) for item in cast("list[object]", value)]

    return list_


def _leaf(coerce: Callable[[object], object]) -> _Complete:
    def leaf(value: object) -> object:
        if value is None or value is Undefined:
            return None
        if type(value) not in _PLAIN and (isinstance(value, Exception) or is_awaitable(value)):
            raise PlanRefused
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise PlanRefused
        return coerced

    return leaf


def _exact_leaf(kind: type, general: _Complete) -> _Complete:
    # A built-in scalar given exactly its own Python type returns it unchanged.
    def exact(value: object) -> object:
        return value if type(value) is kind else general(value)

    return exact


def _int_leaf(general: _Complete) -> _Complete:
    # Int: a Python int within the 32-bit range is its own output (GraphQL spec 3.5.1).
    def int_(value: object) -> object:
        if type(value) is int and _INT_MIN <= value <= _INT_MAX:
            return value
        return general(value)

    return int_


def _object(fields: list[tuple[str, _Complete]]) -> _Complete:
    def object_(value: object) -> object:
        if value is None or value is Undefined:
            return None
        if type(value) is not dict and (isinstance(value, Exception) or is_awaitable(value)):
            raise PlanRefused
        return {key: complete(value) for key, complete in fields}

    return object_
