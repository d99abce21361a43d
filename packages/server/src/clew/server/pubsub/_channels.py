"""Channel and pattern names: what both pub/subs accept, and how a pattern matches a channel.

One rule set for `InMemoryPubSub` and `RedisPubSub`, so an app that works on one works on the
other. Patterns follow Redis' glob syntax (``*``, ``?``, ``[abc]``, ``[^a]``, ``[a-z]``, ``\\``
escapes), which `pattern_matcher` reproduces for the in-process pub/sub.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["MAX_NAME_LENGTH", "pattern_matcher", "validate_channel", "validate_pattern"]

#: Longer names are refused: channel names are keys, not payloads.
MAX_NAME_LENGTH = 1024
_GLOB_CHARACTERS = frozenset("*?[")


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"A pub/sub {what} must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError(f"A pub/sub {what} cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A pub/sub {what} is at most {MAX_NAME_LENGTH} characters long")
    if not name.isprintable() or any(character.isspace() for character in name):
        raise ValueError(f"A pub/sub {what} cannot contain whitespace or control characters")
    return name


def validate_channel(name: object) -> str:
    """`name` if it is a valid channel name; ValueError or TypeError saying why otherwise.

    Glob characters are refused in a channel name, so ``subscribe("room:*")`` cannot silently
    listen to a channel literally named ``room:*`` when a pattern was meant.
    """
    channel = _check_name(name, "channel name")
    if _GLOB_CHARACTERS.intersection(channel):
        raise ValueError(
            f"The channel name {channel!r} contains '*', '?' or '['; "
            "use subscribe_pattern() to listen to a pattern"
        )
    return channel


def validate_pattern(name: object) -> str:
    """`name` if it is a valid glob pattern (Redis' PSUBSCRIBE syntax)."""
    pattern = _check_name(name, "pattern")
    pattern_matcher(pattern)  # an unterminated class is refused here, not at the first message
    return pattern


def pattern_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate telling whether a channel name matches `pattern`, as Redis decides it."""
    parts: list[str] = []
    index, length = 0, len(pattern)
    while index < length:
        character = pattern[index]
        if character == "*":
            parts.append(".*")
        elif character == "?":
            parts.append(".")
        elif character == "\\" and index + 1 < length:
            index += 1
            parts.append(re.escape(pattern[index]))
        elif character == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                raise ValueError(f"The pattern {pattern!r} has an unterminated '['")
            body = pattern[index + 1 : end]
            negate = body.startswith("^")
            if negate:
                body = body[1:]
            escaped = "".join("\\" + c if c in "\\]^" else c for c in body)
            parts.append(f"[{'^' if negate else ''}{escaped}]")
            index = end
        else:
            parts.append(re.escape(character))
        index += 1
    try:
        compiled = re.compile("".join(parts), re.DOTALL)
    except re.error as error:
        raise ValueError(f"The pattern {pattern!r} is not a valid glob: {error}") from None
    return lambda channel: compiled.fullmatch(channel) is not None
