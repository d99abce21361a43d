"""Compiling one operation into a plan, and running it on graphql-core's per-request executor.

graphql-core works out, on every request, which fields a selection holds, which resolver and
arguments each one has and how each value completes. None of that changes between requests
of one cached document, except through the variables of `@skip`/`@include`: `Plan` decides it
once per combination of those (at most `MAX_CONDITIONS` of them, so at most 16 compilations).
Field collection itself is graphql-core's `collect_fields`, so merging, fragments and
directives mean exactly what they mean there.

At run time a plan uses graphql-core's own `Executor` for what belongs to one request:
the coerced variables and their errors, resolve infos, collected errors with their nulled
positions, and background settling (a query's or mutation's made by `_executor.py` from what
compiling decided, as `Executor.build` would make it, but freed by reference counting).
Whatever the plan does not cover is refused when compiling (`Refused`, with the reason), never
discovered while running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from itertools import product
from typing import TYPE_CHECKING, Any, TypeAlias, final

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NonNullTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_variable_values

from clew.protocol import FormattedExecutionResult

from ._executor import ExecutorFactory
from ._fields import Arguments, Selection, field_runner, typename_runner
from ._resolvers import PLAIN_EVENTS, EventResolver
from ._values import Complete, Site, abstract, exact_type, leaf, list_, non_null, object_

if TYPE_CHECKING:
    from graphql.language import DirectiveNode

__all__ = ["MAX_CONDITIONS", "EventRunner", "Plan", "Refused", "compile_plan"]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
#: More `@skip`/`@include` variables than this and the operation is left to graphql-core.
MAX_CONDITIONS = 4
_CONDITIONS = ("skip", "include")


#: One subscription event executed: wire-shaped when it raised no error, else its result.
EventRunner: TypeAlias = (
    "Callable[[object], FormattedExecutionResult | ExecutionResult | Awaitable[Any]]"
)


class Refused(Exception):
    """The operation uses something the compiler does not cover; the message says what."""


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | str:
    """The plan for an operation of a validated document, or why it is refused."""
    try:
        return Plan(schema, document, operation_name)
    except Refused as refusal:
        return str(refusal)


@final
class Plan:
    """One operation of a validated document, compiled; run it with `execute` or `run`."""

    __slots__ = (
        "_conditions",
        "_executors",
        "_roots",
        "_serially",
        "document",
        "operation",
        "operation_name",
        "schema",
    )

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
    ) -> None:
        self.schema = schema
        self.document = document
        self.operation_name = operation_name
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name and o.name.value == operation_name]
        if len(operations) != 1:
            raise Refused("the operation to run is not unique")
        self.operation = operation = operations[0]
        if operation.directives:
            raise Refused("the operation carries directives")
        root_type = schema.get_root_type(operation.operation)
        if root_type is None:
            raise Refused(f"the schema has no {operation.operation.value} type")
        if schema.get_directive("defer") or schema.get_directive("stream"):
            raise Refused("the schema enables @defer/@stream")
        fragments: dict[str, FragmentDetails] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    raise Refused("a fragment defines variables")
                fragments[definition.name.value] = FragmentDetails(definition, None)
        self._conditions = _condition_variables(operation, fragments)
        self._executors = ExecutorFactory(schema, document, operation)
        self._serially = operation.operation is OperationType.MUTATION
        self._roots: dict[tuple[object, ...], Selection] = {}
        try:
            for values in product((False, True), repeat=len(self._conditions)):
                variables = self._variables(dict(zip(self._conditions, values, strict=True)))
                builder = _Builder(schema, fragments, variables, operation)
                grouped = collect_fields(schema, fragments, variables, root_type, operation)[0]
                self._roots[values] = builder.selection(root_type, grouped)
        except RecursionError:
            raise Refused("the selections are nested too deeply") from None

    def _variables(self, values: dict[str, bool]) -> VariableValues:
        definitions = [
            d for d in self.operation.variable_definitions or () if d.variable.name.value in values
        ]
        coerced = get_variable_values(self.schema, definitions, values)
        assert isinstance(coerced, VariableValues), coerced
        return coerced

    def execute(
        self, root_value: object, context_value: object, variables: dict[str, Any] | None
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """graphql-core's `execute` for this operation: variable errors, then the fields."""
        executor = self._executors.build(root_value, context_value, variables)
        if isinstance(executor, list):
            return ExecutionResult(None, executor)
        return self.run(executor, self._serially)

    def _selection(self, variables: VariableValues) -> Selection:
        conditions = self._conditions
        if conditions:
            coerced = variables.coerced
            return self._roots[tuple(coerced[name] for name in conditions)]
        return self._roots[()]

    def run_event(
        self, executor: Executor[Any], event: object
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """graphql-core's `execute_subscription_event` for `event`, with `executor` the
        subscription's: `event_runner`'s outcome, as an `ExecutionResult`."""
        outcome = self.event_runner(executor)(event)
        if isinstance(outcome, dict):
            return ExecutionResult(outcome.get("data"), None)
        return outcome

    def event_runner(self, executor: Executor[Any]) -> EventRunner:
        """graphql-core's `execute_subscription_event`, for every event of the subscription
        `executor` was built for, with what they share decided once (the selection: the
        variables are the subscription's).

        An event executed without an error comes back wire-shaped, ``{"data": data}`` (all
        that formatting such a result does); any other as an `ExecutionResult`, maybe still
        to be awaited. The per-event copy of `executor` is only made once something needs it
        (a resolve info, an error), so an event read and completed without either costs
        neither.
        """
        variables = executor.variable_values
        selection = self._selection(variables)
        execute = selection.execute

        def run(event: object) -> FormattedExecutionResult | ExecutionResult | Awaitable[Any]:
            scope = _EventScope(executor, event)
            per_event: Executor[Any] = scope  # type: ignore[assignment]
            try:
                data = execute(per_event, event, None)
                if data.__class__ is not dict:  # a coroutine: something was asynchronous
                    return _finish(per_event, data)
            except GraphQLError as error:
                errors = per_event.collected_errors
                errors.add(error, None)
                return ExecutionResult(None, errors.errors)
            built = scope.built
            if built is not None and built.collected_errors.errors:
                return ExecutionResult(data, built.collected_errors.errors)
            return {"data": data}

        leaf = selection.event_leaf
        if leaf is None:
            return run
        # `subscription { count }`: an event carrying a value of the exact Python type its
        # scalar returns unchanged is copied, as graphql-core's execution would, once the
        # field's arguments are known to coerce with these variables (the first event's run
        # checks them, as graphql-core would on every event).
        key, read, exact, arguments = leaf
        bounded = exact is int
        # An event of that exact type is its own value: `read` would return it unchanged.
        direct = exact in PLAIN_EVENTS
        checked = False

        def run_leaf(event: object) -> FormattedExecutionResult | ExecutionResult | Awaitable[Any]:
            nonlocal checked
            if checked or arguments.checked(variables):
                checked = True
                value = event if direct and event.__class__ is exact else read(event)
                if value.__class__ is exact and (
                    not bounded or _INT_MIN <= value <= _INT_MAX  # type: ignore[operator]
                ):
                    return {"data": {key: value}}  # type: ignore[return-value]
            return run(event)

        return run_leaf

    def run(
        self, executor: Executor[Any], serially: bool
    ) -> ExecutionResult | Awaitable[ExecutionResult]:
        """graphql-core's `execute_operation` on `executor` (per request or per event)."""
        selection = self._selection(executor.variable_values)
        errors = executor.collected_errors
        try:
            execute = selection.execute_serially if serially else selection.execute
            data = execute(executor, executor.root_value, None)
            if data.__class__ is not dict:  # a coroutine: something was asynchronous
                return _finish(executor, data)
        except GraphQLError as error:
            errors.add(error, None)
            return ExecutionResult(None, errors.errors)
        return ExecutionResult(data, errors.errors or None)


class _EventScope:
    """Stands for a per-event executor, building it (`build_per_event_executor`) on first use.

    The variables are read without building it: they are the subscription's own.
    """

    __slots__ = ("_base", "_event", "built", "hide_suggestions", "variable_values")

    def __init__(self, base: Executor[Any], event: object) -> None:
        self._base = base
        self._event = event
        self.variable_values = base.variable_values
        self.hide_suggestions = base.hide_suggestions
        self.built: Executor[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        built = self.built
        if built is None:
            built = self.built = self._base.build_per_event_executor(self._event)
        return getattr(built, name)


async def _finish(executor: Executor[Any], pending: Awaitable[Any]) -> ExecutionResult:
    errors = executor.collected_errors
    try:
        data = await pending
    except GraphQLError as error:
        errors.add(error, None)
        return ExecutionResult(None, errors.errors)
    return ExecutionResult(data, errors.errors or None)


class _Builder:
    """Compiles the selections of one operation for one set of condition values."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.operation = operation

    def selection(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> Selection:
        selection = Selection(parent_type.name)
        for key, details in grouped.items():
            node = details[0].node
            if any(detail.defer_usage is not None for detail in details):
                raise Refused("a selection is deferred")  # pragma: no cover - refused earlier
            name = node.name.value
            if name == "__typename":
                selection.add(key, typename_runner(parent_type.name))
                continue
            definition = self.schema.get_field(parent_type, name)
            if definition is None:  # graphql-core skips it too
                continue
            site = Site(parent_type, key, details, definition)
            complete, needs_path = self.complete(site.return_type, site)
            try:
                arguments = Arguments(site, _uses_variables(node))
            except GraphQLError as error:
                raise Refused(f"an argument literal is refused: {error.message}") from None
            exact = exact_type(site.return_type)
            runner = field_runner(site, complete, needs_path, arguments, exact)
            plain_read = definition.resolve is None and not (arguments.dynamic or arguments.static)
            selection.add(key, runner, name if plain_read else None, exact)
            if isinstance(definition.resolve, EventResolver) and exact is not None:
                selection.event_leaf = (key, definition.resolve.read, exact, arguments)
        if len(selection.steps) != 1:
            selection.event_leaf = None
        return selection

    def complete(
        self, type_: GraphQLOutputType, site: Site, null_message: str | None = None
    ) -> tuple[Complete, bool]:
        """The completer for `type_` at `site` (raising `null_message` for a null, when the
        type is the inner type of a non-null one), and whether it needs its path up front."""
        if isinstance(type_, GraphQLNonNull):
            return self.complete(type_.of_type, site, site.null_message)
        if isinstance(type_, GraphQLList):
            item_type = type_.of_type
            inner, needs_path = self.complete(item_type, site)
            return list_(inner, needs_path, item_type, type_, site, null_message=null_message), True
        if is_leaf_type(type_):
            return leaf(type_, null_message), False
        if isinstance(type_, GraphQLObjectType):
            return self.object_completer(type_, site.details, site, null_message), True
        if is_abstract_type(type_):
            by_type = {
                possible.name: self.object_completer(possible, site.details, site)
                for possible in self.schema.get_possible_types(type_)
            }
            completer = abstract(by_type, type_, site)
            return (completer if null_message is None else non_null(completer, site)), True
        raise Refused(f"unexpected output type {type_}")  # pragma: no cover

    def object_completer(
        self,
        type_: GraphQLObjectType,
        details: FieldDetailsList,
        site: Site,
        null_message: str | None = None,
    ) -> Complete:
        grouped = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, type_, details
        )[0]
        return object_(self.selection(type_, grouped).execute, type_, site, null_message)


def _condition_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDetails]
) -> tuple[str, ...]:
    """The variables `@skip`/`@include` read, refusing what the plan cannot decide up front."""
    declared = {d.variable.name.value: d for d in operation.variable_definitions or ()}
    names: set[str] = set()
    sets = [operation.selection_set] + [f.definition.selection_set for f in fragments.values()]
    for directive in _directives(sets):
        name = directive.name.value
        if name in ("defer", "stream"):
            raise Refused(f"@{name} is used")
        if name not in _CONDITIONS:
            continue
        for argument in directive.arguments or ():
            if isinstance(argument.value, VariableNode):
                variable = argument.value.name.value
                definition = declared.get(variable)
                if definition is None or not isinstance(definition.type, NonNullTypeNode):
                    raise Refused(f"@{name} reads the nullable variable ${variable}")
                names.add(variable)
    if len(names) > MAX_CONDITIONS:
        raise Refused(f"more than {MAX_CONDITIONS} variables decide @skip/@include")
    return tuple(sorted(names))


def _directives(selection_sets: list[SelectionSetNode]) -> Iterator[DirectiveNode]:
    stack = list(selection_sets)
    while stack:
        for selection in stack.pop().selections:
            yield from selection.directives or ()
            if isinstance(selection, FragmentSpreadNode) and getattr(selection, "arguments", None):
                raise Refused("a fragment spread passes arguments")
            if (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)


def _uses_variables(node: FieldNode) -> bool:
    values: list[ValueNode] = [argument.value for argument in node.arguments or ()]
    while values:
        value = values.pop()
        if isinstance(value, VariableNode):
            return True
        if isinstance(value, ListValueNode):
            values.extend(value.values)
        elif isinstance(value, ObjectValueNode):
            values.extend(field.value for field in value.fields)
    return False
