"""Per-operation hooks for code that observes operations and adds to the response's `extensions`.

Every transport runs operations through the engine, so the hooks see HTTP requests and both
WebSocket subprotocols alike; a subscription is one operation from its start to its close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from graphql import GraphQLError, OperationType

from clew.protocol import JSONObject

__all__ = ["Extension", "ExtensionFactory", "ExtensionList"]


class Extension:
    """Base class for an extension: one instance is created per operation, hooks run in order.

    Override what you need. `format` returns entries merged into the response's top-level
    `extensions` map (for example timing or tracing data); returning None adds nothing.
    """

    def request_started(self, context: object) -> None:
        """Called before the operation executes."""

    def operation_started(
        self, operation_type: OperationType, operation_name: str | None, context: object
    ) -> None:
        """Called right after `request_started`, with what is about to run (for tracing)."""

    def request_finished(self, context: object) -> None:
        """Called after the operation executed, also when it failed; for a subscription, once
        its stream is closed."""

    def has_errors(self, errors: Sequence[GraphQLError], context: object) -> None:
        """Called with the result's errors before they are formatted, when there are any."""

    def format(self, context: object) -> JSONObject | None:
        """Entries for the response's `extensions` map."""
        return None


#: An `Extension` subclass, or any callable returning a fresh extension for each operation.
ExtensionFactory: TypeAlias = Callable[[], Extension]
ExtensionList: TypeAlias = Sequence[ExtensionFactory]
