"""The event-stream parser follows WHATWG HTML §9.2.6 line by line, at any chunk boundary."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clew.protocol import LocalProtocolError, RemoteProtocolError
from clew.protocol.sse import (
    EventStreamParser,
    ServerSentEvent,
    encode_comment,
    encode_event,
)


def parse(body: bytes) -> list[ServerSentEvent]:
    parser = EventStreamParser()
    events = parser.feed(body)
    parser.close()
    return events


def E(data: str, event: str = "message", last_event_id: str = "") -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, last_event_id=last_event_id)


# (wire bytes, events dispatched): one rule of the spec per row.
STREAMS = [
    (b"data: x\n\n", [E("x")]),
    (b"data:x\n\n", [E("x")]),  # the space after the colon is optional
    (b"data:  x\n\n", [E(" x")]),  # only one space is dropped
    (b"data: a\ndata: b\n\n", [E("a\nb")]),  # multi-line data joins with LF
    (b"data: a\r\ndata: b\r\n\r\n", [E("a\nb")]),  # CRLF
    (b"data: a\rdata: b\r\r", [E("a\nb")]),  # lone CR
    (b"data\n\n", [E("")]),  # a field name alone has an empty value
    (b"data:\n\n", [E("")]),  # empty data still dispatches
    (b"data:\ndata:\n\n", [E("\n")]),
    (b"event: x\n\n", []),  # no data: nothing is dispatched and the type resets
    (b"event: x\n\ndata: y\n\n", [E("y")]),
    (b"event: next\ndata: {}\n\n", [E("{}", "next")]),
    (b"event:\ndata: y\n\n", [E("y")]),  # an empty type is "message"
    (b": comment\ndata: y\n\n", [E("y")]),
    (b":\n\n:\n\n", []),  # keep-alives
    (b"Data: y\n\n", []),  # field names are case-sensitive
    (b"foo: bar\ndata: y\n\n", [E("y")]),  # unknown fields are ignored
    (b"id: 3\ndata: y\n\n", [E("y", last_event_id="3")]),
    (b"id: 3\ndata: y\n\ndata: z\n\n", [E("y", last_event_id="3"), E("z", last_event_id="3")]),
    (b"id: 3\n\nid\ndata: z\n\n", [E("z", last_event_id="")]),  # an empty id resets it
    (b"id: 3\n\nid: a\x00b\ndata: z\n\n", [E("z", last_event_id="3")]),  # NUL: ignored
    (b"\xef\xbb\xbfdata: y\n\n", [E("y")]),  # one leading BOM is dropped
    (b"\xef\xbb\xbf\xef\xbb\xbfdata: y\n\n", []),  # a second BOM is part of the field name
    (b"data: \xff\n\n", [E("\ufffd")]),  # invalid UTF-8 becomes U+FFFD
    (b"data: y", []),  # the stream ends inside an event: discarded
    (b"data: y\n", []),
    (b"data: a:b\n\n", [E("a:b")]),  # the value keeps later colons
]


@pytest.mark.parametrize(("body", "expected"), STREAMS)
def test_stream(body: bytes, expected: list[ServerSentEvent]) -> None:
    assert parse(body) == expected


@pytest.mark.parametrize(("body", "expected"), STREAMS)
def test_stream_one_byte_at_a_time(body: bytes, expected: list[ServerSentEvent]) -> None:
    parser = EventStreamParser()
    events = [event for i in range(len(body)) for event in parser.feed(body[i : i + 1])]
    parser.close()
    assert events == expected


RETRIES = [
    (b"retry: 1500\n", 1500),
    (b"retry: 0\n", 0),
    (b"retry: 15a\n", None),
    (b"retry: \n", None),
    (b"retry: \xef\xbc\x91\n", None),  # a full-width digit is not an ASCII digit
    (b"retry: 10\nretry: x\n", 10),
]


@pytest.mark.parametrize(("body", "expected"), RETRIES)
def test_retry(body: bytes, expected: int | None) -> None:
    parser = EventStreamParser()
    parser.feed(body)
    assert parser.retry == expected


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"") == []  # an empty chunk keeps the pending CR
    assert parser.feed(b"\ndata: b\r") == []
    assert parser.feed(b"\r") == [E("a\nb")]


def test_bom_split_across_chunks_is_still_dropped() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"\xef") == []
    assert parser.feed(b"\xbb") == []
    assert parser.feed(b"\xbfdata: y\n\n") == [E("y")]
    # Later BOMs are text.
    assert parser.feed(b"data: \xef\xbb\xbf\n\n") == [E("\ufeff")]


def test_close_reports_an_unfinished_event_and_is_idempotent() -> None:
    parser = EventStreamParser()
    parser.feed(b"data: y\n\n")
    assert parser.close() is False
    assert parser.close() is False
    for unfinished in (b"data: y\n", b"data: y", b"event: x\n", b"\xc3"):
        parser = EventStreamParser()
        parser.feed(unfinished)
        assert parser.close() is True


def test_feed_after_close_is_host_misuse() -> None:
    parser = EventStreamParser()
    parser.close()
    with pytest.raises(LocalProtocolError, match="ended"):
        parser.feed(b"data: x\n\n")


@pytest.mark.parametrize(
    "body",
    [
        b"x" * 101,  # one line that never ends
        b"data: " + b"x" * 60 + b"\ndata: " + b"y" * 60,  # data plus an unfinished line
        b"data: " + b"x" * 60 + b"\ndata: " + b"y" * 60 + b"\n",  # data lines alone
    ],
)
def test_an_event_larger_than_the_limit_is_refused(body: bytes) -> None:
    parser = EventStreamParser(max_event_chars=100)
    with pytest.raises(RemoteProtocolError, match="limit of 100"):
        parser.feed(body)


def test_the_limit_counts_one_event_not_the_stream() -> None:
    parser = EventStreamParser(max_event_chars=100)
    for _ in range(10):
        assert parser.feed(b"data: " + b"x" * 80 + b"\n\n") == [E("x" * 80)]


# -- fuzzing: random events, random line endings, random chunk boundaries --------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
_NAME = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=12
)
_EVENTS = st.lists(
    st.tuples(
        _NAME,  # type ("" means message)
        _TEXT,  # data
        st.none() | _NAME.filter(lambda s: "\0" not in s),  # id
        st.booleans(),  # a keep-alive comment before it
    ),
    max_size=8,
)


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    chunks, start = [], 0
    for point in [*points, len(body)]:
        chunks.append(body[start:point])
        start = point
    return chunks


@settings(max_examples=300, deadline=None)
@given(
    events=_EVENTS,
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_round_trip_at_any_chunking(
    events: list[tuple[str, str, str | None, bool]],
    newline: str,
    bom: bool,
    cuts: list[int],
) -> None:
    wire = b"\xef\xbb\xbf" if bom else b""
    expected: list[ServerSentEvent] = []
    last_id = ""
    for name, data, event_id, keep_alive in events:
        if keep_alive:
            wire += encode_comment()
        wire += encode_event(data, event=name or None, id=event_id)
        if event_id is not None:
            last_id = event_id
        expected.append(E(_LINE_BREAK.sub("\n", data), name or "message", last_id))
    wire = wire.replace(b"\n", newline.encode())
    parser = EventStreamParser()
    got = [event for chunk in _split(wire, cuts) for event in parser.feed(chunk)]
    assert parser.close() is False
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200), cuts=st.lists(st.integers(0, 1000), max_size=10))
def test_any_bytes_parse_the_same_at_any_chunking(body: bytes, cuts: list[int]) -> None:
    whole = EventStreamParser()
    expected = whole.feed(body)
    expected_unfinished = whole.close()
    parser = EventStreamParser()
    got = [event for chunk in _split(body, cuts) for event in parser.feed(chunk)]
    assert got == expected
    assert parser.close() is expected_unfinished
    assert parser.retry == whole.retry
    assert parser.last_event_id == whole.last_event_id
