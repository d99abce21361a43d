"""An incremental `text/event-stream` parser: bytes in, whole events out, at any chunk boundary.

It follows WHATWG HTML §9.2.6 ("Interpreting an event stream"):

- the stream is UTF-8 (invalid sequences become U+FFFD), and one BOM is dropped at its start
  only, even when the BOM's bytes arrive in separate chunks;
- a line ends with CRLF, a lone CR or a lone LF, so a CR ending a chunk ends the line and an LF
  opening the next chunk is the second half of that CRLF;
- a blank line dispatches, a line starting with ``:`` is a comment, other lines split at their
  first ``:`` (one leading space dropped from the value) or are a field with an empty value;
- `data` appends the value and LF, `event` sets the type, `id` sets the last event ID unless the
  value holds NUL, `retry` sets the reconnection delay when the value is all ASCII digits, and
  unknown fields are ignored;
- dispatch with no data dispatches nothing; the end of the stream discards an unfinished event.

The parser keeps at most `max_event_chars` of an unfinished event, so a peer that never ends a
line or an event cannot make it grow without bound.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

from clew.protocol._errors import LocalProtocolError, RemoteProtocolError

from ._events import ServerSentEvent

__all__ = ["DEFAULT_MAX_EVENT_CHARS", "EventStreamParser"]

_LINE_END = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"
#: A generous bound for one event: a GraphQL result of several megabytes still fits.
DEFAULT_MAX_EVENT_CHARS: Final = 16 * 1024 * 1024


class EventStreamParser:
    """Turns the body of a `text/event-stream` response into `ServerSentEvent`s.

    Call `feed(chunk)` for every chunk as it arrives, and `close()` once the body has ended.
    `retry` holds the last reconnection delay the server set (milliseconds), and
    `last_event_id` the ID to send back as ``Last-Event-ID`` when reconnecting.
    """

    def __init__(self, *, max_event_chars: int = DEFAULT_MAX_EVENT_CHARS) -> None:
        self.max_event_chars = max_event_chars
        #: The reconnection delay in milliseconds, once the stream has set one.
        self.retry: int | None = None
        #: The last event ID committed by a dispatch.
        self.last_event_id = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False  # past the point where a BOM may appear
        self._after_cr = False  # the last line ended with CR: a leading LF completes a CRLF
        self._partial = ""  # the current line, not yet terminated
        self._data: list[str] = []
        self._data_chars = 0
        self._event = ""
        self._id = ""
        self._closed = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse one chunk of the body; the events it completed, in order."""
        if self._closed:
            raise LocalProtocolError("The event stream has ended; no more data can be fed")
        text = self._decoder.decode(chunk)
        if not self._started:
            if not text:
                return []
            self._started = True
            if text[0] == _BOM:
                text = text[1:]
        return self._lines(text)

    def close(self) -> bool:
        """End the stream; True when it ended inside an event, which is then discarded."""
        if self._closed:
            return False
        self._closed = True
        tail = self._decoder.decode(b"", final=True)
        unfinished = bool(self._partial or tail or self._data or self._event)
        self._partial = ""
        self._reset_event()
        return unfinished

    # -- lines ------------------------------------------------------------------------------

    def _lines(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if self._after_cr and text:
            self._after_cr = False
            if text[0] == "\n":
                text = text[1:]
        start = 0
        for match in _LINE_END.finditer(text):
            line = text[start : match.start()]
            if self._partial:
                line, self._partial = self._partial + line, ""
            start = match.end()
            event = self._line(line)
            if event is not None:
                events.append(event)
        if text.endswith("\r"):
            self._after_cr = True
        self._partial += text[start:]
        if len(self._partial) + self._data_chars > self.max_event_chars:
            raise RemoteProtocolError(
                f"An event exceeds the limit of {self.max_event_chars} characters"
            )
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None  # a comment, such as a keep-alive
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data.append(value)
            self._data_chars += len(value) + 1
            if self._data_chars > self.max_event_chars:
                raise RemoteProtocolError(
                    f"An event exceeds the limit of {self.max_event_chars} characters"
                )
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self._id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        # Any other field is ignored (WHATWG: "the field is ignored").
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id
        if not self._data:
            self._reset_event()
            return None
        event = ServerSentEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            last_event_id=self.last_event_id,
        )
        self._reset_event()
        return event

    def _reset_event(self) -> None:
        self._data = []
        self._data_chars = 0
        self._event = ""
