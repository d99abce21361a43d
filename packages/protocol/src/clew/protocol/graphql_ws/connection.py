"""One legacy graphql-ws connection, for either side, with no I/O of its own.

The host feeds each received text frame to `receive()` and acts on the events it returns;
it writes whatever `send()` and `handle_timer()` return. Time only enters through `now`
arguments, so the same object runs under asyncio, trio, threads or a test with a fake clock.

What a server host does with each event:
- `ConnectionInit`: decide (await `on_connect`) *before* feeding the next frame — the reference
  client writes `start` right behind `connection_init` — then write `send(ConnectionAck())`
  and, with keep-alive on, `send(Ka())` at once (the reference does); or apply `reject()`:
  write its frames, then, for a short bounded grace before closing, feed the frames already
  in flight — each `start` comes back as `Refused` with an `error` carrying the rejection's
  message — and close with the closure's code.
- `Start`: run the operation, reserving its id before any `await`. When the id was already
  running (or stopping), the start replaces it: end the old work silently, sending nothing.
- `Stop`: end the operation; afterwards send `Complete` (the reference does) or nothing, never
  `Data` (`send` refuses it).
- `ConnectionTerminate`: close the socket (1000) and end every operation.
- `Refused`: write `reply` and carry on; nothing else changed.
A client host ends an operation on `Error` or `Complete`, reports `ConnectionErrorMessage`
received while awaiting the ack as a rejection, ignores `Ka`, and closes with the error's
`close_code` on `RemoteProtocolError`. Both call `connection_closed()` when the socket goes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

from clew.protocol._codec import JSONDecodeFailure
from clew.protocol._codec import dumps as json_dumps
from clew.protocol._codes import CloseCode, limit_close_reason
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._operations import ConnectionState, OperationRegistry, OperationState
from clew.protocol._types import Closure, FormattedExecutionResult, JSONObject, Role

from ._codec import Dumps, build, data_affixes, decode, serialize
from ._state import TRANSITIONS, Verdict, check_sendable, refusal, rejection_reply, transition
from .messages import ConnectionErrorMessage, Data, Event, Ka, Message, MessageType, Refused

__all__ = ["Connection"]

_ENDED = (ConnectionState.CLOSING, ConnectionState.CLOSED)
_DATA: Final = MessageType.DATA.value
_RUNNING: Final = OperationState.RUNNING


class Connection:
    """The protocol state of one socket, seen from `our_role`.

    Timers are optional and relative to the `now` given at construction. A server with
    `keepalive_interval` sends `ka` that often once acknowledged. A client with
    `keepalive_timeout` checks every `keepalive_timeout`, starting with the first `ka` (as the
    reference client does), that a `ka` arrived since the previous check, and closes 1011
    otherwise; a silent server is so detected one to two timeouts after its last `ka`. Each
    side ignores the other side's option. Ask `next_deadline()` when to call `handle_timer(now)`.
    """

    def __init__(
        self,
        our_role: Role,
        *,
        now: float = 0.0,
        keepalive_interval: float | None = None,
        keepalive_timeout: float | None = None,
        dumps: Dumps = json_dumps,
    ) -> None:
        self.our_role = our_role
        self.their_role = Role.SERVER if our_role is Role.CLIENT else Role.CLIENT
        self._state = ConnectionState.AWAITING_INIT
        self._operations = OperationRegistry()
        self._running = self._operations.states  # for `receive_result`: no call per lookup
        self._dumps = dumps
        # Set by `halt()`: result encoders produce no more frames.
        self._halted = False
        is_server = our_role is Role.SERVER
        self._ka_interval = keepalive_interval if is_server and keepalive_interval else None
        self._next_ka = now + self._ka_interval if self._ka_interval else None
        self._ka_timeout = keepalive_timeout if not is_server and keepalive_timeout else None
        self._ka_check: float | None = None
        self._ka_seen = False
        # The latest time the host told us; the first keep-alive window starts from it.
        self._now = now
        # After `reject()` (until `connection_closed()`): the rejection's message.
        self._rejection: str | None = None
        # Whether the peer may send `data` now: the table's answer, asked again only when
        # the state moved (`receive_result` runs once per result).
        self._results_in: ConnectionState | None = None
        self._results_allowed = False

    @property
    def state(self) -> ConnectionState:
        """Where the connection is; see `ConnectionState`."""
        return self._state

    @property
    def operations(self) -> Collection[str]:
        """The ids of the operations running or stopping now (read-only view)."""
        return self._operations

    def receive(self, data: str | bytes) -> list[Event]:
        """Process one frame from the peer; returns the events the host must act on.

        An empty list means the frame changed nothing the host must see (e.g. `data` for a
        stopped id). A server never raises for a bad client frame: it returns `Refused`, whose
        `reply` the host writes before carrying on. A client raises `RemoteProtocolError`
        (close 1002) for a frame the server may not send; the connection is then CLOSING.
        Once CLOSING or CLOSED, frames still in flight are dropped — except, on a server that
        rejected the connection, a `start`, which comes back `Refused` with an `error` for its
        id carrying the rejection's message (what the reference server answers).
        """
        if self._rejection is not None:
            return self._receive_rejected(data, self._rejection)
        if self._state in _ENDED:
            return []
        if self.our_role is Role.SERVER:
            return self._receive_as_server(data)
        try:
            message = build(decode(data))
            self._state, verdict = transition(
                self.their_role, self._state, message, self._operations
            )
        except JSONDecodeFailure as exc:
            raise self._fail(str(exc), CloseCode.PROTOCOL_ERROR) from None
        except LocalProtocolError as exc:
            raise self._fail(exc.reason, CloseCode.PROTOCOL_ERROR) from None
        if type(message) is Ka:
            self._ka_seen = True
            if self._ka_timeout is not None and self._ka_check is None:
                self._ka_check = self._now + self._ka_timeout
        return [message] if verdict is Verdict.ACCEPTED else []

    def receive_result(self, raw: JSONObject) -> tuple[str, FormattedExecutionResult] | None:
        """The fast path for what a client receives most: `data` for a running operation.

        `raw` is a decoded frame. Returns its id and result when it is a well-formed `data`
        the peer may send now (the table says so) for a running operation, not a stopping
        one: the host acts on it exactly as on the `Data` that `receive` would return, and
        nothing else changes (`data` moves no state). Returns None for anything else,
        changing nothing: `receive` decides then, with every rule and error.
        """
        if raw.get("type") != _DATA:
            return None
        operation_id, payload = raw.get("id"), raw.get("payload")
        if type(payload) is not dict or type(operation_id) is not str:
            return None
        if self._running.get(operation_id) is not _RUNNING:
            return None  # a running id is a non-empty string: it passed `send(Start)`
        state = self._state
        if state is not self._results_in:
            allowed = TRANSITIONS.get((self.their_role, state))
            self._results_in, self._results_allowed = state, allowed is not None and Data in allowed
        if not self._results_allowed:
            return None
        return operation_id, payload  # type: ignore[return-value]  # a dict: a result's shape

    def _receive_as_server(self, data: str | bytes) -> list[Event]:
        """A client frame: a message to act on, or a `Refused` reply; never an exception."""
        try:
            raw = decode(data)
        except JSONDecodeFailure as exc:
            return [self._refuse(None, str(exc))]
        try:
            message = build(raw)
        except LocalProtocolError as exc:
            return [self._refuse(raw.get("id"), exc.reason)]
        try:
            self._state, verdict = transition(
                self.their_role, self._state, message, self._operations
            )
        except LocalProtocolError as exc:
            return [self._refuse(getattr(message, "id", None), exc.reason)]
        return [message] if verdict is Verdict.ACCEPTED else []

    def _receive_rejected(self, data: str | bytes, reason: str) -> list[Event]:
        """A client frame that arrived with the rejected init: a `Refused` reply or nothing."""
        try:
            message = build(decode(data))
        except (JSONDecodeFailure, LocalProtocolError):
            return []
        reply = rejection_reply(message, reason)
        if reply is None:
            return []
        return [Refused(reply=serialize(reply, self._dumps), reason=reason)]

    def _refuse(self, operation_id: object, reason: str) -> Refused:
        reply = refusal(operation_id, reason, self._operations)
        return Refused(reply=serialize(reply, self._dumps), reason=reason)

    def send(self, message: Message) -> str:
        """Check that we may send `message` now and return the frame to write.

        Raises `LocalProtocolError` for a message the protocol forbids here, which leaves the
        connection CLOSING — except for a message naming an operation it may not act on (the
        peer stopped it, or it ended meanwhile), for an `error` whose payload is not one
        error object, and for a payload JSON cannot carry, which are refused and change
        nothing.
        """
        if self._state in _ENDED:
            raise LocalProtocolError(
                f"Cannot send '{message.type}': the connection is closing",
                CloseCode.PROTOCOL_ERROR,
            )
        check_sendable(message)
        # Encoded first: a payload JSON cannot carry is refused before anything moves.
        frame = serialize(message, self._dumps)
        try:
            new_state, verdict = transition(self.our_role, self._state, message, self._operations)
        except LocalProtocolError:
            self._state = ConnectionState.CLOSING
            raise
        if verdict is Verdict.IGNORED:
            raise LocalProtocolError(
                f"Cannot send '{message.type}': operation {getattr(message, 'id', '')!r} "
                "is not running",
                CloseCode.PROTOCOL_ERROR,
            )
        self._state = new_state
        return frame

    def halt(self) -> None:
        """The host is closing the socket: result encoders made here produce no more frames.

        Nothing else changes; `send` still answers as before. A host wrapping this connection
        (`clew.protocol.websocket.Connection`) calls it when it stops sending, so an encoder
        never outlives its rules.
        """
        self._halted = True

    def result_encoder(self, operation_id: str) -> Callable[[FormattedExecutionResult], str | None]:
        """`send(Data(id=operation_id, payload=...))` for a stream of results, made once.

        Each call returns the frame when `send` would, changing nothing (a `data` moves no
        state); None when `send` would refuse it, for `send` to say why, and once `halt()`
        was called. The frame's text around the result is encoded once (`data_affixes`), and
        `send`'s checks are read from `TRANSITIONS` once: per result, the state and the
        operation's state are looked at.
        """
        if type(operation_id) is not str or not operation_id:
            return _never
        prefix, suffix = data_affixes(operation_id, self._dumps)
        dumps, state_of = self._dumps, self._operations.states.get  # no proxy per lookup
        # A tuple: membership tests identity first, where a set would hash the enum in Python.
        sendable = tuple(
            state
            for (role, state), allowed in TRANSITIONS.items()
            if role is self.our_role and Data in allowed
        )
        running = OperationState.RUNNING

        def encode(payload: FormattedExecutionResult) -> str | None:
            if (
                self._state in sendable
                and state_of(operation_id) is running
                and type(payload) is dict
                and not self._halted
            ):
                try:
                    return prefix + dumps(payload) + suffix  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    return None  # not JSON: `send` refuses it with the reason
            return None

        return encode

    def reject(self, payload: JSONObject | None = None) -> Closure:
        """Refuse the `connection_init` just received (server): `connection_error`, then 1011.

        `payload` is the `connection_error` payload (default `{"message": "Forbidden"}`); its
        string `message`, if any, is the close reason. The reference server closes with 1011.
        Until `connection_closed()`, `receive()` answers each `start` still in flight with an
        `error` carrying that message (default "Forbidden"), uncapped.
        """
        if self.our_role is not Role.SERVER or self._state is not ConnectionState.AWAITING_ACK:
            raise LocalProtocolError(
                "Only a server awaiting its ack can reject a connection",
                CloseCode.PROTOCOL_ERROR,
            )
        if payload is None:
            payload = {"message": "Forbidden"}
        frame = serialize(ConnectionErrorMessage(payload=payload), self._dumps)
        self._state = ConnectionState.CLOSING
        message = payload.get("message")
        reason = message if isinstance(message, str) and message else "Forbidden"
        self._rejection = reason
        return Closure(
            code=CloseCode.INTERNAL_ERROR, reason=limit_close_reason(reason), frames=(frame,)
        )

    def connection_closed(self) -> tuple[str, ...]:
        """The transport reports the socket closed; returns the ids that were still live."""
        live = tuple(self._operations)
        self._operations.clear()
        self._rejection = None
        self._state = ConnectionState.CLOSED
        return live

    def next_deadline(self) -> float | None:
        """The earliest time at which `handle_timer` has work to do, or None."""
        if self._state in _ENDED:
            return None
        if self._state is ConnectionState.ACKNOWLEDGED and self._next_ka is not None:
            return self._next_ka
        return self._ka_check

    def handle_timer(self, now: float) -> list[str]:
        """Run the timers that are due: returns frames to write (a server's `ka`).

        Raises `RemoteProtocolError` (close 1011) when a client's keep-alive window passed
        without a `ka`; the connection is then CLOSING.
        """
        self._now = max(self._now, now)
        if self._state in _ENDED:
            return []
        if self._ka_check is not None and self._ka_timeout is not None and now >= self._ka_check:
            if not self._ka_seen:
                raise self._fail("Keep-alive timeout", CloseCode.INTERNAL_ERROR)
            self._ka_seen = False
            self._ka_check = now + self._ka_timeout
        frames: list[str] = []
        if (
            self._state is ConnectionState.ACKNOWLEDGED
            and self._next_ka is not None
            and self._ka_interval is not None
            and now >= self._next_ka
        ):
            frames.append(self.send(Ka()))
            self._next_ka = now + self._ka_interval
        return frames

    def _fail(self, reason: str, close_code: int) -> RemoteProtocolError:
        """Enter CLOSING and build the error the host closes the socket with."""
        self._state = ConnectionState.CLOSING
        return RemoteProtocolError(reason, close_code)


def _never(_payload: FormattedExecutionResult) -> None:
    """The encoder of an id no `data` may carry: `send` refuses each result and says why."""
