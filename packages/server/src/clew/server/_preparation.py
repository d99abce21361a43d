"""One document-cache entry: a document's operations by name, or why none of them can run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, final

from graphql import DocumentNode, OperationDefinitionNode

from clew.protocol.http import FailureKind

from ._prepared import PreparationFailure, PreparedOperation

if TYPE_CHECKING:
    from ._compiler._plan import Plan

__all__ = ["Compiled"]


@final
@dataclass(frozen=True, slots=True, eq=False)
class Compiled:
    """One document-cache entry: a failure, or the document's operations by name.

    A document holding exactly one operation has it under None too.
    """

    failure: PreparationFailure | None
    operations: Mapping[str | None, PreparedOperation]

    @classmethod
    def of(
        cls,
        document: DocumentNode,
        plan_for: Callable[[DocumentNode, str | None], Plan | None] | None = None,
    ) -> Compiled:
        """The operations of a valid document, each compiled by `plan_for` when given."""
        definitions = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operations: dict[str | None, PreparedOperation] = {}
        for definition in definitions:
            name = definition.name.value if definition.name else None
            prepared = PreparedOperation(
                document=document,
                operation_name=name,
                operation_type=definition.operation,
                plan=None if plan_for is None else plan_for(document, name),
            )
            if name is not None:
                operations[name] = prepared
            if len(definitions) == 1:
                operations[None] = prepared
        return cls(None, operations)

    def select(self, operation_name: str | None) -> PreparedOperation | PreparationFailure:
        """The operation to run, or why there is none (the GraphQL spec's GetOperation)."""
        if self.failure is not None:
            return self.failure
        prepared = self.operations.get(operation_name)
        if prepared is not None:
            return prepared
        if operation_name is None:
            message = "Must provide operation name if query contains multiple operations."
        else:
            message = f"Unknown operation named '{operation_name}'."
        return PreparationFailure(kind=FailureKind.VALIDATION, errors=[{"message": message}])
