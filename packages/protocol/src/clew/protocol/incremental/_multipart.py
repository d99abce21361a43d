"""`multipart/mixed` for incremental delivery: the writer servers use and the client's parser.

The layout is the one Apollo Server writes and Apollo Client reads (graphql-over-http
`rfcs/IncrementalDelivery.md`): the boundary ``-`` named in the Content-Type; before each part
CRLF ``---`` CRLF; a part is its own ``content-type: application/json; charset=utf-8``, an
empty line and one JSON payload; the body ends with CRLF ``-----`` CRLF. The parser is
incremental (parts come out as soon as their closing delimiter arrives, at any chunk
boundary), takes the boundary from the response's Content-Type, and insists on the closing
delimiter: a body without one was cut short.
"""

from __future__ import annotations

from typing import Final

from clew.protocol._codec import JSONDecodeFailure, loads_object
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._types import JSONObject
from clew.protocol.http._media import parse_media_type

__all__ = ["BOUNDARY", "MultipartMixedParser", "MultipartMixedWriter", "boundary_of"]

#: The boundary servers use, as Apollo Server does.
BOUNDARY: Final = "-"
_PART_HEAD: Final = b"content-type: application/json; charset=utf-8\r\n\r\n"
#: A generous bound for one part: a GraphQL payload of several megabytes still fits.
DEFAULT_MAX_PART_BYTES: Final = 16 * 1024 * 1024


class MultipartMixedWriter:
    """Writes the body of a `multipart/mixed` response, one payload (compact JSON) per call."""

    def __init__(self) -> None:
        self._started = False
        self._ended = False

    def part(self, payload: bytes, *, last: bool) -> bytes:
        """The bytes of one part; `last` closes the body (the payload with ``hasNext: false``)."""
        if self._ended:
            raise LocalProtocolError("The multipart body has ended; no more parts can follow")
        head = b"" if self._started else b"\r\n---\r\n"
        self._started = True
        self._ended = last
        return head + _PART_HEAD + payload + (b"\r\n-----\r\n" if last else b"\r\n---\r\n")


def boundary_of(content_type: str) -> str | None:
    """The boundary of a `multipart/mixed` Content-Type (``-`` when it names none, as Apollo
    Client assumes), or None when the type is not `multipart/mixed`."""
    try:
        media_type, params = parse_media_type(content_type)
    except ValueError:
        return None
    if media_type != "multipart/mixed":
        return None
    return params.get("boundary") or BOUNDARY


class MultipartMixedParser:
    """Reads a `multipart/mixed` body chunk by chunk into its JSON payloads.

    Call `feed(chunk)` as chunks arrive and `close()` at the end of the body; a body whose
    closing delimiter never came raises `RemoteProtocolError`. Parts whose Content-Type is not
    JSON raise too; empty ``{}`` parts (keep-alives some servers send) are skipped.
    """

    def __init__(self, boundary: str = BOUNDARY, *, max_part_bytes: int = DEFAULT_MAX_PART_BYTES):
        if not boundary:
            raise LocalProtocolError("A multipart boundary cannot be empty")
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self.max_part_bytes = max_part_bytes
        # A delimiter at the very start of the body has no CRLF before it; pretend it has.
        self._buffer = b"\r\n"
        self._in_part = False  # past the first delimiter: bytes before the next one are a part
        self.finished = False  # the closing delimiter arrived

    def feed(self, chunk: bytes) -> list[JSONObject]:
        """The payloads completed by `chunk`, in order."""
        if self.finished:
            return []  # the epilogue after the closing delimiter is ignored (RFC 2046 §5.1.1)
        self._buffer += chunk
        payloads: list[JSONObject] = []
        while True:
            index = self._buffer.find(self._delimiter)
            if index < 0:
                break
            after = index + len(self._delimiter)
            # The line ending the delimiter: `--` closes the body, else padding then CRLF.
            line_end = self._buffer.find(b"\r\n", after)
            closing = self._buffer[after : after + 2] == b"--"
            if line_end < 0 and not closing:
                break
            if self._in_part:
                payload = self._part(self._buffer[:index])
                if payload:
                    payloads.append(payload)
            self._in_part = True
            if closing:
                self.finished = True
                self._buffer = b""
                break
            self._buffer = self._buffer[line_end + 2 :]
        if len(self._buffer) > self.max_part_bytes:
            raise RemoteProtocolError(
                f"A multipart part exceeds the limit of {self.max_part_bytes} bytes"
            )
        return payloads

    def close(self) -> None:
        """The body ended; `RemoteProtocolError` if it ended before its closing delimiter."""
        if not self.finished:
            raise RemoteProtocolError("Premature end of multipart body")

    def _part(self, part: bytes) -> JSONObject | None:
        if part.startswith(b"\r\n"):
            head, body = b"", part[2:]  # a part without headers
        else:
            head, separator, body = part.partition(b"\r\n\r\n")
            if not separator:
                raise RemoteProtocolError("A multipart part has no blank line after its headers")
        content_type = None
        for line in head.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() == b"content-type":
                content_type = value.decode("latin-1").strip()
        if content_type is None or "application/json" not in content_type.lower():
            raise RemoteProtocolError(
                f"A multipart part must be application/json, got {content_type!r}"
            )
        try:
            payload = loads_object(body, "A multipart part")
        except JSONDecodeFailure as exc:
            raise RemoteProtocolError(str(exc)) from None
        return payload or None
