"""Resolvers the compiler recognises by type, so it can read their values without calling them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import final

__all__ = ["PLAIN_EVENTS", "EventResolver"]

#: Event types that are never a mapping: the event is the value (`read` returns it as is).
PLAIN_EVENTS = frozenset({int, str, float, bool, list, tuple, type(None)})


@final
class EventResolver:
    """The resolver of a subscription field whose source event *is* the field's value.

    An event is either the value itself or a mapping holding it under the field name (so one
    generator may serve several fields). `GraphQL.from_sdl` sets it on every subscription field;
    set it yourself (``field.resolve = EventResolver("count")``) on a hand-built schema. The
    compiled plan reads the event directly instead of calling it with a resolve info.
    """

    __slots__ = ("field_name",)

    def __init__(self, field_name: str) -> None:
        self.field_name = field_name

    def __call__(self, event: object, _info: object, **_args: object) -> object:
        return self.read(event)

    def read(self, event: object) -> object:
        """The field's value carried by `event`."""
        kind = event.__class__
        if kind in PLAIN_EVENTS:
            return event
        if (kind is dict or isinstance(event, Mapping)) and self.field_name in event:  # type: ignore[operator]
            return event[self.field_name]  # type: ignore[index]
        return event

    def __repr__(self) -> str:
        return f"EventResolver({self.field_name!r})"
