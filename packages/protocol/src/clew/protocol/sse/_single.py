"""Single connection mode as a state machine: one reservation, its stream, its operations.

A client reserves a stream with PUT (201 and a token), opens it once with the token and
``Accept: text/event-stream``, POSTs operations carrying ``extensions.operationId`` (202; their
results go to the stream as ``{"id", "payload"}`` events), and stops one with DELETE
``?operationId=`` (200). When the stream ends the reservation dies with it (graphql-sse
`PROTOCOL.md`, `src/handler.ts`).

`Reservation` applies the same rules on both sides: the server calls `open_stream`, `start`,
`stop`, `send_next`/`send_complete` and `close`; the client calls `open_stream`, `start`,
`stop`, `receive` and `close`. Misuse comes back as the `RequestError` a server answers with:
its status is the protocol's (404 no such stream, 409 stream already open or id in use, 400 no
operation id, 429 too many operations).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from clew.protocol.http._errors import RequestError

from ._messages import Complete, StreamMessage, encode_message, encode_next_json

__all__ = [
    "MAX_ID_CHARS",
    "TRANSITIONS",
    "Reservation",
    "StreamEvent",
    "StreamState",
    "validate_operation_id",
]


class StreamState(Enum):
    """Where a reservation's stream is in its life."""

    #: Reserved by PUT; operations may run and their events wait for the stream.
    RESERVED = "reserved"
    #: The one stream is open and carries every operation's events.
    OPEN = "open"
    #: The stream ended (or was never opened and the reservation expired); the token is dead.
    CLOSED = "closed"


class StreamEvent(Enum):
    """What happens to a reservation's stream."""

    #: A request with the token and ``Accept: text/event-stream``.
    OPEN = "open"
    #: The stream's connection ended, or the reservation was dropped.
    CLOSE = "close"


#: {state: {event: new state}}; a missing entry is refused with `_REFUSALS`.
TRANSITIONS: Final[Mapping[StreamState, Mapping[StreamEvent, StreamState]]] = {
    StreamState.RESERVED: {
        StreamEvent.OPEN: StreamState.OPEN,
        StreamEvent.CLOSE: StreamState.CLOSED,
    },
    StreamState.OPEN: {StreamEvent.CLOSE: StreamState.CLOSED},
    # Closing twice is harmless: the stream and its operations are already gone.
    StreamState.CLOSED: {StreamEvent.CLOSE: StreamState.CLOSED},
}

#: The protocol's answer to an event its state does not allow.
_REFUSALS: Final[Mapping[tuple[StreamState, StreamEvent], tuple[int, str]]] = {
    (StreamState.OPEN, StreamEvent.OPEN): (409, "Stream already open"),
    (StreamState.CLOSED, StreamEvent.OPEN): (404, "Stream not found"),
}

_STREAM_NOT_FOUND: Final = (404, "Stream not found")
#: Tokens and operation ids longer than this are refused: nobody needs them, memory is finite.
MAX_ID_CHARS: Final = 256


def validate_operation_id(value: object) -> str:
    """The operation id of a request, or the protocol's 400 "Operation ID is missing"."""
    if not isinstance(value, str) or not value:
        raise RequestError(400, "Operation ID is missing")
    if len(value) > MAX_ID_CHARS:
        raise RequestError(400, f"The operation ID exceeds {MAX_ID_CHARS} characters")
    return value


class Reservation:
    """One reserved stream and the ids of the operations running on it."""

    def __init__(self, token: str, *, max_operations: int = 100) -> None:
        self.token = token
        self.max_operations = max_operations
        self.state = StreamState.RESERVED
        self._operations: set[str] = set()

    @property
    def operations(self) -> frozenset[str]:
        """The ids of the operations that are running."""
        return frozenset(self._operations)

    def _apply(self, event: StreamEvent) -> None:
        new_state = TRANSITIONS[self.state].get(event)
        if new_state is None:
            status, message = _REFUSALS[self.state, event]
            raise RequestError(status, message)
        self.state = new_state

    def _require_live(self) -> None:
        if self.state is StreamState.CLOSED:
            raise RequestError(*_STREAM_NOT_FOUND)

    # -- the stream --------------------------------------------------------------------------

    def open_stream(self) -> None:
        """The stream connects: 409 if it already did, 404 once the reservation is gone."""
        self._apply(StreamEvent.OPEN)

    def close(self) -> frozenset[str]:
        """The stream ended: the token dies; the operations still running must be stopped."""
        self._apply(StreamEvent.CLOSE)
        running = frozenset(self._operations)
        self._operations.clear()
        return running

    # -- operations ----------------------------------------------------------------------------

    def start(self, operation_id: object) -> str:
        """Reserve an operation id before running it (before the first await, on a server)."""
        self._require_live()
        operation_id = validate_operation_id(operation_id)
        if operation_id in self._operations:
            raise RequestError(409, "Operation with ID already exists")
        if len(self._operations) >= self.max_operations:
            raise RequestError(
                429, f"The stream already runs the maximum of {self.max_operations} operations"
            )
        self._operations.add(operation_id)
        return operation_id

    def stop(self, operation_id: object) -> bool:
        """DELETE: whether the operation was running (it is not any more); 200 either way."""
        self._require_live()
        operation_id = validate_operation_id(operation_id)
        if operation_id in self._operations:
            self._operations.remove(operation_id)
            return True
        return False

    def is_running(self, operation_id: str) -> bool:
        """Whether results for `operation_id` still go out (and come in)."""
        return operation_id in self._operations

    # -- events --------------------------------------------------------------------------------

    def send_next(self, operation_id: str, payload: bytes) -> bytes | None:
        """The `next` event for a result already encoded as compact JSON; None once stopped."""
        if operation_id not in self._operations:
            return None
        return encode_next_json(payload, operation_id)

    def send_complete(self, operation_id: str) -> bytes | None:
        """The `complete` event that ends an operation; None if it was stopped already."""
        if operation_id not in self._operations:
            return None
        self._operations.remove(operation_id)
        return encode_message(Complete(id=operation_id))

    def receive(self, message: StreamMessage) -> StreamMessage | None:
        """A message read from the stream, or None when its operation is unknown or stopped.

        Late events for stopped operations are expected (a `complete` may follow a DELETE) and
        ignored; a `complete` ends its operation.
        """
        operation_id = message.id
        if operation_id is None or operation_id not in self._operations:
            return None
        if isinstance(message, Complete):
            self._operations.remove(operation_id)
        return message
