"""`multipart/mixed` for incremental delivery: written as Apollo Server does, read at any cut."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clew.protocol import LocalProtocolError, RemoteProtocolError
from clew.protocol.incremental import MultipartMixedParser, MultipartMixedWriter, boundary_of

JSON_HEAD = b"content-type: application/json; charset=utf-8\r\n\r\n"


def body(*payloads: object) -> bytes:
    writer = MultipartMixedWriter()
    return b"".join(
        writer.part(json.dumps(p, separators=(",", ":")).encode(), last=i == len(payloads) - 1)
        for i, p in enumerate(payloads)
    )


def test_the_writer_writes_apollo_servers_bytes() -> None:
    assert body({"data": {}, "hasNext": True}, {"hasNext": False}) == (
        b"\r\n---\r\n"
        + JSON_HEAD
        + b'{"data":{},"hasNext":true}\r\n---\r\n'
        + JSON_HEAD
        + b'{"hasNext":false}\r\n-----\r\n'
    )


def test_the_writer_refuses_parts_after_the_last() -> None:
    writer = MultipartMixedWriter()
    writer.part(b"{}", last=True)
    with pytest.raises(LocalProtocolError, match="ended"):
        writer.part(b"{}", last=True)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ('multipart/mixed; boundary="-"; deferSpec=20220824', "-"),
        ("multipart/mixed;boundary=graphql", "graphql"),
        ("multipart/mixed", "-"),
        ("application/json", None),
        ("nonsense", None),
    ],
)
def test_boundary_of(content_type: str, boundary: str | None) -> None:
    assert boundary_of(content_type) == boundary


def parse(wire: bytes, boundary: str = "-") -> list[object]:
    parser = MultipartMixedParser(boundary)
    payloads: list[object] = list(parser.feed(wire))
    parser.close()
    return payloads


READABLE = [
    # Apollo Server's layout.
    (body({"a": 1}, {"b": 2}), [{"a": 1}, {"b": 2}]),
    # No CRLF before the first delimiter, a preamble, padding after delimiters, an epilogue.
    (b"--x\r\n" + JSON_HEAD + b"{}\r\n--x  \r\n" + JSON_HEAD + b'{"a":1}\r\n--x--tail', [{"a": 1}]),
    (b"preamble\r\n--x\r\n" + JSON_HEAD + b'{"a":1}\r\n--x--\r\n', [{"a": 1}]),
    # Header names in any case; more headers.
    (b'--x\r\nCONTENT-TYPE: application/json\r\nx: y\r\n\r\n{"a":1}\r\n--x--', [{"a": 1}]),
]


@pytest.mark.parametrize(("wire", "expected"), READABLE)
def test_readable_bodies(wire: bytes, expected: list[object]) -> None:
    boundary = "-" if wire.startswith(b"\r\n---") else "x"
    assert parse(wire, boundary) == expected


UNREADABLE = [
    (b"--x\r\n" + JSON_HEAD + b"{}\r\n", "Premature end"),
    (b"", "Premature end"),
    (b"--x\r\ncontent-type: text/plain\r\n\r\nhi\r\n--x--", "must be application/json"),
    (b"--x\r\n\r\n{}\r\n--x--", "must be application/json, got None"),
    (b"--x\r\ncontent-type: application/json\r\n{}\r\n--x--", "no blank line"),
    (b"--x\r\n" + JSON_HEAD + b"[1]\r\n--x--", "must be a JSON object"),
    (b"--x\r\n" + JSON_HEAD + b"{nope\r\n--x--", "not valid JSON"),
]


@pytest.mark.parametrize(("wire", "reason"), UNREADABLE)
def test_unreadable_bodies(wire: bytes, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        parse(wire, "x")


def test_a_part_larger_than_the_limit_is_refused() -> None:
    parser = MultipartMixedParser("x", max_part_bytes=50)
    with pytest.raises(RemoteProtocolError, match="limit of 50"):
        parser.feed(b"--x\r\n" + JSON_HEAD + b'{"a":"' + b"y" * 60)


def test_an_empty_boundary_is_host_misuse() -> None:
    with pytest.raises(LocalProtocolError, match="empty"):
        MultipartMixedParser("")


def test_data_after_the_end_is_ignored() -> None:
    parser = MultipartMixedParser()
    assert parser.feed(body({"a": 1})) == [{"a": 1}]
    assert parser.finished
    assert parser.feed(b"\r\n---\r\n" + JSON_HEAD + b"{}") == []
    parser.close()


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    chunks, start = [], 0
    for point in [*points, len(data)]:
        chunks.append(data[start:point])
        start = point
    return chunks


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(
        st.dictionaries(st.text(max_size=6), JSON_VALUES, min_size=1, max_size=4),
        min_size=1,
        max_size=6,
    ),
    cuts=st.lists(st.integers(0, 5000), max_size=25),
)
def test_round_trip_at_any_chunking(payloads: list[dict[str, object]], cuts: list[int]) -> None:
    wire = body(*payloads)
    parser = MultipartMixedParser()
    got = [payload for chunk in _split(wire, cuts) for payload in parser.feed(chunk)]
    parser.close()
    assert got == payloads
