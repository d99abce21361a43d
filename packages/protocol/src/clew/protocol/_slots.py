"""Writing a frozen dataclass' slots directly, for objects made once per request or event."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["slot_setters"]

_Built = TypeVar("_Built")


def slot_setters(cls: type[_Built], *names: str) -> tuple[Callable[[_Built, object], None], ...]:
    """The writers of `cls`'s slots `names` (their member descriptors' `__set__`), in order.

    A constructor that skips a frozen dataclass' `__init__` writes each slot with one call
    instead of a checked `object.__setattr__`; it must write every slot, and keep to what
    `__post_init__` would accept.
    """
    slots = vars(cls)
    return tuple(slots[name].__set__ for name in names)
