"""Server-sent events as data: one dispatched event, and the encoder for events and comments.

The wire format is WHATWG HTML §9.2 ("Server-sent events"): UTF-8 text, one ``field: value`` per
line, a blank line dispatches. The encoder refuses what the format cannot carry (a line break in
a field other than `data`, NUL in an id) instead of writing a stream the peer would misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import final

from clew.protocol._errors import LocalProtocolError

__all__ = ["KEEP_ALIVE", "ServerSentEvent", "encode_comment", "encode_event"]

#: Any line terminator the parser recognises: CRLF, a lone CR or a lone LF.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: An empty comment: what servers write to keep an idle stream alive (graphql-sse writes it on
#: accept and every 12 s; WHATWG suggests about every 15 s against proxy timeouts).
KEEP_ALIVE = b":\n\n"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSentEvent:
    """One dispatched event, as `EventSource` hands it to a listener."""

    #: The `event` field; ``"message"`` when the event named none (or an empty one).
    event: str = "message"
    #: The `data` lines joined with LF (the final LF removed).
    data: str = ""
    #: The stream's last event ID when this event was dispatched (``""`` when none was set).
    last_event_id: str = ""


def _single_line(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise LocalProtocolError(f"An event's {what} cannot contain a line break: {value!r}")
    return value


def encode_event(
    data: str,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
) -> bytes:
    """One event on the wire: optional `event`/`id`/`retry` lines, one `data:` line per line of
    `data`, and the blank line that dispatches it.

    An empty `data` still writes ``data:``, because `EventSource` drops events without data.
    """
    parts: list[str] = []
    if event is not None:
        parts.append(f"event: {_single_line(event, 'type')}\n")
    if id is not None:
        if "\0" in id:
            raise LocalProtocolError("An event id cannot contain NUL; receivers would ignore it")
        parts.append(f"id: {_single_line(id, 'id')}\n")
    if retry is not None:
        if retry < 0:
            raise LocalProtocolError(f"The retry delay must be a non-negative integer, got {retry}")
        parts.append(f"retry: {retry}\n")
    for line in _LINE_BREAK.split(data):
        # One space after the colon: the parser drops exactly one, so leading spaces survive.
        parts.append(f"data: {line}\n" if line else "data:\n")
    parts.append("\n")
    return "".join(parts).encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """A comment line and a blank line: ignored by receivers, it keeps proxies from timing out."""
    return f":{_single_line(text, 'comment')}\n\n".encode()
