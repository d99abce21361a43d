"""Limits that keep one hostile or careless client from exhausting the server, and their rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

__all__ = ["Limits", "alias_limit_rule", "depth_limit_rule"]

_MIB = 1024 * 1024


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Upper bounds on what one request, upload, socket or document may cost.

    Exceeding one answers that request with a clear error (HTTP 413, a GraphQL error, or a close
    code) and leaves every other request and connection untouched.
    """

    #: Largest HTTP request body (JSON, or the non-file parts of a multipart request).
    max_body_bytes: int = _MIB
    #: Largest single uploaded file in a multipart request.
    max_upload_bytes: int = 10 * _MIB
    #: Most files in one multipart request.
    max_files: int = 10
    #: Largest WebSocket text frame a handler accepts.
    max_websocket_message_bytes: int = _MIB
    #: Most operations running at once on one WebSocket connection.
    max_operations_per_connection: int = 100
    #: Deepest field nesting in an operation, fragments followed (`{ a { b } }` has depth 2).
    max_query_depth: int = 15
    #: Most aliased fields in one document.
    max_aliases: int = 30
    #: Most lexical tokens in one document (graphql-core `parse(max_tokens=...)`).
    max_tokens: int = 5000

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule rejecting operations nested deeper than `max_depth` fields."""

    class QueryDepthLimitRule(ASTValidationRule):
        """Rejects operations whose field nesting exceeds the configured depth."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            # Each fragment's depth is computed once, so fragments spread many times stay cheap.
            self.fragment_depths: dict[str, int] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
            depth = self.depth(node.selection_set, frozenset())
            if depth > max_depth:
                name = f"'{node.name.value}'" if node.name else "The operation"
                self.report_error(
                    GraphQLError(
                        f"{name} exceeds the maximum query depth of {max_depth} (depth {depth}).",
                        node,
                    )
                )

        def depth(self, selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
            # A fragment cycle is cut here; NoFragmentCyclesRule reports it.
            if selection_set is None:
                return 0
            deepest = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    depth = 1 + self.depth(selection.selection_set, seen)
                elif isinstance(selection, InlineFragmentNode):
                    depth = self.depth(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    depth = self.spread_depth(selection.name.value, seen)
                else:  # pragma: no cover - the three selection kinds are exhaustive
                    continue
                deepest = max(deepest, depth)
            return deepest

        def spread_depth(self, name: str, seen: frozenset[str]) -> int:
            known = self.fragment_depths.get(name)
            if known is not None:
                return known
            fragment = self.context.get_fragment(name)
            if fragment is None or name in seen:
                return 0
            depth = self.depth(fragment.selection_set, seen | {name})
            self.fragment_depths[name] = depth
            return depth

    return QueryDepthLimitRule


def alias_limit_rule(max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule rejecting documents with more than `max_aliases` aliased fields."""

    class AliasLimitRule(ASTValidationRule):
        """Rejects documents that alias more fields than configured (alias amplification)."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_field(self, node: FieldNode, *_args: object) -> None:
            if node.alias is not None:
                self.count += 1
                if self.count == max_aliases + 1:
                    self.report_error(
                        GraphQLError(
                            f"The document exceeds the maximum of {max_aliases} aliases.", node
                        )
                    )

    return AliasLimitRule
