"""Channel and pattern names: one rule set for both pub/subs, and Redis' glob semantics."""

from __future__ import annotations

import pytest

from clew.server.pubsub import MAX_NAME_LENGTH
from clew.server.pubsub._channels import pattern_matcher, validate_channel, validate_pattern


@pytest.mark.parametrize("name", ["room:1", "a", "x" * MAX_NAME_LENGTH, "über:ünïcode"])
def test_valid_channel_names(name: str) -> None:
    assert validate_channel(name) == name


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("", ValueError, "cannot be empty"),
        ("x" * (MAX_NAME_LENGTH + 1), ValueError, "at most"),
        ("room 1", ValueError, "whitespace"),
        ("room\n1", ValueError, "whitespace"),
        ("room\x001", ValueError, "control"),
        ("room:*", ValueError, "subscribe_pattern"),
        ("room:?", ValueError, "subscribe_pattern"),
        ("room:[ab]", ValueError, "subscribe_pattern"),
        (b"room", TypeError, "must be a str"),
        (None, TypeError, "must be a str"),
    ],
)
def test_invalid_channel_names(name: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        validate_channel(name)


@pytest.mark.parametrize(
    ("pattern", "error"),
    [("", "cannot be empty"), ("room:[ab", "unterminated"), ("a b*", "whitespace")],
)
def test_invalid_patterns(pattern: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("room:*", ["room:", "room:1", "room:a:b"], ["room", "rooms:1", "xroom:1"]),
        ("room:?", ["room:1", "room:x"], ["room:", "room:12"]),
        ("room:[ab]", ["room:a", "room:b"], ["room:c", "room:ab"]),
        ("room:[^ab]", ["room:c"], ["room:a", "room:b"]),
        ("room:[a-c]", ["room:b"], ["room:d"]),
        ("room:\\*", ["room:*"], ["room:1"]),
        ("a.b", ["a.b"], ["axb"]),
        ("*", ["anything", "x"], []),
    ],
)
def test_patterns_match_as_redis_globs(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    matches = pattern_matcher(validate_pattern(pattern))
    assert all(matches(channel) for channel in matching)
    assert not any(matches(channel) for channel in not_matching)


def test_redis_pubsub_without_redis_py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import clew.server.pubsub as package

    monkeypatch.delitem(sys.modules, "clew.server.pubsub._redis", raising=False)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r'pip install "clew\[server,redis\]"'):
        _ = package.RedisPubSub
    with pytest.raises(AttributeError, match="Nothing"):
        _ = package.Nothing
