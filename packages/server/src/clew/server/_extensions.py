"""Per-operation hooks for code that observes operations and adds to the response's `extensions`.

Every transport runs operations through the engine, so the hooks see HTTP requests and both
WebSocket subprotocols alike; a subscription is one operation from its start to its close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

from graphql import GraphQLError, GraphQLResolveInfo, OperationType

from clew.protocol import JSONObject

__all__ = ["Extension", "ExtensionFactory", "ExtensionList"]


class Extension:
    """Base class for an extension: one instance is created per operation (Ariadne's hook set).

    Override what you need. `request_started` runs in order, `request_finished` in reverse order;
    `resolve` wraps every field's resolver (only when overridden: the pass-through below costs
    nothing); `format` returns entries merged into the response's top-level `extensions` map
    (for example timing or tracing data); returning None adds nothing. Ariadne's own
    `ariadne.types.Extension` subclasses work unchanged.
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

    def resolve(
        self,
        next_: Callable[..., object],
        obj: object,
        info: GraphQLResolveInfo[object],
        **kwargs: object,
    ) -> object:
        """Wraps one field's resolution: call `next_(obj, info, **kwargs)` and return its value.

        The value may be awaitable (an async resolver); return it as is, or an awaitable of
        your own that awaits it.
        """
        return next_(obj, info, **kwargs)

    def has_errors(self, errors: Sequence[GraphQLError], context: object) -> None:
        """Called with the result's errors before they are formatted, when there are any."""

    def format(self, context: object) -> JSONObject | None:
        """Entries for the response's `extensions` map."""
        return None


#: An `Extension` subclass, or any callable returning a fresh extension for each operation.
ExtensionFactory: TypeAlias = Callable[[], Extension]
ExtensionList: TypeAlias = Sequence[ExtensionFactory]
