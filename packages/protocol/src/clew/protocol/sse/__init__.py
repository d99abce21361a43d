"""GraphQL over server-sent events (the graphql-sse protocol), sans-IO.

Wire format (WHATWG HTML §9.2):
    `encode_event` / `encode_comment` write events and comments (`KEEP_ALIVE` is the empty
    comment servers send on idle streams); `EventStreamParser` reads a `text/event-stream` body
    chunk by chunk into `ServerSentEvent`s, at any chunk boundary.

graphql-sse messages:
    `Next` (one result) and `Complete` (the end of an operation), with `id` in single
    connection mode; `encode_message` / `encode_next_json` write them and `parse_message` reads
    them from a `ServerSentEvent`.

Routing and single connection mode:
    `classify_request(method, token=, accept=)` says which graphql-sse request (if any) an HTTP
    request is; `Reservation` is one reserved stream's state machine (`TRANSITIONS`), refusing
    misuse with the protocol's status codes as `clew.protocol.http.RequestError`.
"""

from __future__ import annotations

from ._events import KEEP_ALIVE, ServerSentEvent, encode_comment, encode_event
from ._messages import (
    Complete,
    EventType,
    Next,
    StreamMessage,
    encode_message,
    encode_next_json,
    parse_message,
)
from ._parser import DEFAULT_MAX_EVENT_CHARS, EventStreamParser
from ._routing import (
    ALLOWED_METHODS,
    OPERATION_ID_KEY,
    TOKEN_HEADER,
    TOKEN_QUERY_PARAMETER,
    RequestKind,
    accepts_token_reply,
    classify_request,
    wants_event_stream,
)
from ._single import (
    MAX_ID_CHARS,
    TRANSITIONS,
    Reservation,
    StreamEvent,
    StreamState,
    validate_operation_id,
)

#: The Content-Type of an event stream; the format is UTF-8 only.
CONTENT_TYPE = "text/event-stream; charset=utf-8"

__all__ = [
    "ALLOWED_METHODS",
    "CONTENT_TYPE",
    "DEFAULT_MAX_EVENT_CHARS",
    "KEEP_ALIVE",
    "MAX_ID_CHARS",
    "OPERATION_ID_KEY",
    "TOKEN_HEADER",
    "TOKEN_QUERY_PARAMETER",
    "TRANSITIONS",
    "Complete",
    "EventStreamParser",
    "EventType",
    "Next",
    "RequestKind",
    "Reservation",
    "ServerSentEvent",
    "StreamEvent",
    "StreamMessage",
    "StreamState",
    "accepts_token_reply",
    "classify_request",
    "encode_comment",
    "encode_event",
    "encode_message",
    "encode_next_json",
    "parse_message",
    "validate_operation_id",
    "wants_event_stream",
]
