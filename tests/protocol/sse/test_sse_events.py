"""The event-stream encoder writes what the WHATWG parser reads back, and refuses what it cannot."""

from __future__ import annotations

import pytest

from clew.protocol import LocalProtocolError
from clew.protocol.sse import KEEP_ALIVE, encode_comment, encode_event

ENCODED = [
    ({"data": "x"}, b"data: x\n\n"),
    ({"data": ""}, b"data:\n\n"),
    ({"data": "a\nb"}, b"data: a\ndata: b\n\n"),
    ({"data": "a\r\nb\rc"}, b"data: a\ndata: b\ndata: c\n\n"),
    ({"data": " lead"}, b"data:  lead\n\n"),
    ({"data": "a\n"}, b"data: a\ndata:\n\n"),
    ({"data": "{}", "event": "next"}, b"event: next\ndata: {}\n\n"),
    ({"data": "", "event": "complete"}, b"event: complete\ndata:\n\n"),
    ({"data": "x", "id": "7", "retry": 1500}, b"id: 7\nretry: 1500\ndata: x\n\n"),
    ({"data": "é"}, "data: é\n\n".encode()),
]


@pytest.mark.parametrize(("kwargs", "expected"), ENCODED)
def test_encode_event(kwargs: dict[str, object], expected: bytes) -> None:
    assert encode_event(**kwargs) == expected  # type: ignore[arg-type]


REFUSED = [
    ({"data": "x", "event": "a\nb"}, "line break"),
    ({"data": "x", "event": "a\rb"}, "line break"),
    ({"data": "x", "id": "1\n"}, "line break"),
    ({"data": "x", "id": "1\0"}, "NUL"),
    ({"data": "x", "retry": -1}, "non-negative"),
]


@pytest.mark.parametrize(("kwargs", "reason"), REFUSED)
def test_encode_event_refuses(kwargs: dict[str, object], reason: str) -> None:
    with pytest.raises(LocalProtocolError, match=reason):
        encode_event(**kwargs)  # type: ignore[arg-type]


def test_comments() -> None:
    assert encode_comment() == KEEP_ALIVE == b":\n\n"
    assert encode_comment(" ping") == b": ping\n\n"
    with pytest.raises(LocalProtocolError, match="line break"):
        encode_comment("a\nb")
