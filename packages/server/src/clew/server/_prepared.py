"""What preparing an operation yields: a ready operation, or why it cannot run.

Its own module so that the engine (`_execution.py`) and the subscription stream
(`_subscription.py`) both import it, instead of importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, final

from graphql import DocumentNode, OperationType

from clew.protocol import FormattedError
from clew.protocol.http import FailureKind

if TYPE_CHECKING:
    from ._compiler._plan import Plan

__all__ = ["PreparationFailure", "PreparedOperation"]


@final
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PreparedOperation:
    """A parsed, validated operation, ready to execute as often as needed."""

    document: DocumentNode
    #: The name to execute (None when the document holds a single anonymous operation).
    operation_name: str | None
    operation_type: OperationType
    #: The compiled plan that runs it, or None when graphql-core's executor does.
    plan: Plan | None = None


@final
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PreparationFailure:
    """Why a query cannot run: its errors as they travel, and the phase that produced them."""

    #: `DOCUMENT_PARSE` for a syntax error (or too many tokens); `VALIDATION` for a failed
    #: validation rule or an unknown or ambiguous operation name.
    kind: FailureKind
    errors: list[FormattedError]
