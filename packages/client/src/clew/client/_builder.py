"""Building one typed operation from a root field and keyword arguments, checked against the schema.

``client.query.books(count=5)`` becomes ``query books($count: Int) { books(count: $count) {...} }``
with ``{"count": 5}`` as variables. Argument names, required arguments and value types are checked
here, before anything is sent, with graphql-core's own variable coercion.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias, final

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
    get_variable_values,
    is_required_argument,
    parse,
)

from ._fields import FieldsLike, select_fields
from .errors import SchemaValidationError

__all__ = ["BuiltOperation", "OperationKind", "build_operation", "operation_kind", "root_type"]

OperationKind: TypeAlias = Literal["query", "mutation", "subscription"]


def operation_kind(
    query: str | None, operation_name: str | None, *, default: OperationKind
) -> OperationKind:
    """The kind of the operation `query` selects: the one place the client decides it.

    `default` is the caller's intent (`execute`: a query; `subscribe`: a subscription), used
    when the document cannot say: it does not parse, selects nothing, or was sent by hash
    only. The server then reports the error, or knows the document. A document naming neither
    ``mutation`` nor ``subscription`` is a query without parsing it (the common path).
    """
    if query is None:
        return default
    if "mutation" not in query and "subscription" not in query:
        return "query"
    try:
        operation = get_operation_ast(parse(query, no_location=True), operation_name)
    except GraphQLError:
        return default
    if operation is None:
        return default
    return operation.operation.value


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltOperation:
    """A ready-to-send operation: its kind, document text, name and variable values."""

    #: Decided when it was built, from the root field: never guessed again from the text.
    kind: OperationKind
    query: str
    operation_name: str
    variables: dict[str, object]


def root_type(schema: GraphQLSchema, kind: OperationKind) -> GraphQLObjectType:
    """The schema's root type for `kind`, or `SchemaValidationError` when it has none."""
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[kind]
    if root is None:
        raise SchemaValidationError(f"The schema has no {kind} type")
    return root


def _to_wire(value: object) -> object:
    """Python conveniences to GraphQL input values: an `enum.Enum` member becomes its name."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        return {key: _to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_wire(item) for item in value]
    return value


def build_operation(
    schema: GraphQLSchema,
    kind: OperationKind,
    field_name: str,
    arguments: Mapping[str, object],
    *,
    fields: FieldsLike | None = None,
    depth: int = 1,
    operation_name: str | None = None,
) -> BuiltOperation:
    """One operation selecting `field_name` on the `kind` root, with `arguments` as variables.

    Only the arguments given are declared, so omitted optional arguments keep the server's
    defaults; a None value is sent as an explicit null.
    """
    root = root_type(schema, kind)
    field = root.fields.get(field_name)
    if field is None:
        raise SchemaValidationError(
            f"{root.name} has no field {field_name!r}; valid fields: "
            f"{', '.join(sorted(root.fields)) or '(none)'}"
        )
    owner = f"{root.name}.{field_name}"
    unknown = sorted(set(arguments) - set(field.args))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        noun = "argument" if len(unknown) == 1 else "arguments"
        raise SchemaValidationError(
            f"{owner} has no {noun} {names}; valid arguments: "
            f"{', '.join(sorted(field.args)) or '(none)'}"
        )
    missing = [
        f"{name}: {arg.type}"
        for name, arg in field.args.items()
        if is_required_argument(arg) and name not in arguments
    ]
    if missing:
        raise SchemaValidationError(f"{owner} needs the argument(s) {', '.join(missing)}")

    selection = select_fields(schema, owner, field.type, fields, depth)
    name = operation_name or field_name
    declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in arguments)
    passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    header = f"{kind} {name}({declared})" if declared else f"{kind} {name}"
    call = f"{field_name}({passed})" if passed else field_name
    query = f"{header} {{ {call} {selection} }}" if selection else f"{header} {{ {call} }}"

    variables = {arg: _to_wire(value) for arg, value in arguments.items()}
    if variables:
        check_variables(schema, query, variables, owner)
    return BuiltOperation(kind=kind, query=query, operation_name=name, variables=variables)


def check_variables(
    schema: GraphQLSchema, query: str, variables: Mapping[str, object], owner: str
) -> None:
    """Coerce `variables` as a server would (GraphQL spec §6.1.2) and raise on any mismatch."""
    document = parse(query, no_location=True)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    result = get_variable_values(schema, operation.variable_definitions or (), dict(variables))
    if isinstance(result, list):
        raise SchemaValidationError([_describe(error, owner) for error in result])


def _describe(error: GraphQLError, owner: str) -> str:
    # graphql-core speaks of "Variable '$count'"; the caller wrote an argument of `owner`.
    message = error.message
    if message.startswith("Variable '$"):
        name, _, rest = message.removeprefix("Variable '$").partition("'")
        return f"Argument {name!r} of {owner}{rest}"
    return message
