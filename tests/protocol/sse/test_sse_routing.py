"""One endpoint, many request kinds: the routing table and the Accept rule for streams."""

from __future__ import annotations

import pytest

from clew.protocol.sse import (
    RequestKind,
    accepts_token_reply,
    classify_request,
    wants_event_stream,
)

STREAM = "text/event-stream"
JSON = "application/json"

ROUTES = [
    ("GET", None, JSON, RequestKind.HTTP),
    ("POST", None, None, RequestKind.HTTP),
    ("POST", None, STREAM, RequestKind.DISTINCT_STREAM),
    ("get", None, STREAM, RequestKind.DISTINCT_STREAM),
    ("PUT", None, "*/*", RequestKind.RESERVE),
    ("PUT", "tok", STREAM, RequestKind.RESERVE),
    ("GET", "tok", STREAM, RequestKind.OPEN_STREAM),
    ("POST", "tok", STREAM, RequestKind.OPEN_STREAM),
    ("PATCH", "tok", STREAM, RequestKind.OPEN_STREAM),
    ("POST", "tok", JSON, RequestKind.EXECUTE),
    ("GET", "tok", None, RequestKind.EXECUTE),
    ("DELETE", "tok", None, RequestKind.STOP),
    ("DELETE", None, None, RequestKind.STOP),
    ("PATCH", "tok", JSON, RequestKind.METHOD_NOT_ALLOWED),
    ("OPTIONS", None, None, RequestKind.HTTP),
    ("OPTIONS", None, STREAM, RequestKind.HTTP),
    ("POST", "", STREAM, RequestKind.DISTINCT_STREAM),  # an empty token is no token
]


@pytest.mark.parametrize(("method", "token", "accept", "kind"), ROUTES)
def test_classify_request(
    method: str, token: str | None, accept: str | None, kind: RequestKind
) -> None:
    assert classify_request(method, token=token, accept=accept) is kind


ACCEPTS = [
    (None, False),
    ("", False),
    ("*/*", False),
    ("text/*", False),
    (JSON, False),
    (STREAM, True),
    ("text/event-stream; charset=utf-8", True),
    ("text/event-stream, */*", True),
    ("application/json, text/event-stream", True),  # a tie goes to the stream
    ("text/event-stream;q=0.5, application/json", False),
    ("text/event-stream;q=0.5, application/*", False),
    ("text/event-stream;q=0.5, */*;q=0.9", False),  # q-values rank before specificity
    ("text/event-stream;q=0.9, */*;q=0.9", True),  # at equal q the exact type wins
    ("text/event-stream;q=0", False),
    ("application/x-event-stream", False),
]


@pytest.mark.parametrize(("accept", "expected"), ACCEPTS)
def test_wants_event_stream(accept: str | None, expected: bool) -> None:
    assert wants_event_stream(accept) is expected


TOKEN_ACCEPTS = [
    (None, True),
    ("  ", True),
    ("*/*", True),
    ("text/plain", True),
    ("text/*", True),
    ("text/plain;q=0", False),
    ("application/json", False),
    (STREAM, False),
]


@pytest.mark.parametrize(("accept", "expected"), TOKEN_ACCEPTS)
def test_accepts_token_reply(accept: str | None, expected: bool) -> None:
    assert accepts_token_reply(accept) is expected
