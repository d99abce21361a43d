"""One graphql-transport-ws connection, for either side, with no I/O of its own.

The host feeds each received text frame to `receive()` and acts on the messages it returns;
it writes whatever `send()` and `handle_timer()` return. Time only enters through `now`
arguments, so the same object runs under asyncio, trio, threads or a test with a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Final

from clew.protocol._codec import dumps as json_dumps
from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._operations import ConnectionState, OperationRegistry
from clew.protocol._types import Closure, FormattedExecutionResult, JSONObject, Role

from ._codec import Dumps, next_affixes, parse, serialize
from ._state import TRANSITIONS, transition
from .messages import ConnectionInit, Message, MessageType, Next, Ping, Pong

__all__ = ["Connection"]

_ENDED = (ConnectionState.CLOSING, ConnectionState.CLOSED)
_NEXT: Final = MessageType.NEXT.value


class Connection:
    """The protocol state of one socket, seen from `our_role`.

    Timers are optional and all relative to the `now` given at construction:
    `connection_init_timeout` (server: close 4408 when `connection_init` is late),
    `ack_timeout` (client: close 4504 when `connection_ack` is late), and `ping_interval`
    with `pong_timeout` (either side: send `ping` periodically once acknowledged, close 4408
    when the `pong` is late). Ask `next_deadline()` when to call `handle_timer(now)`.
    """

    def __init__(
        self,
        our_role: Role,
        *,
        now: float = 0.0,
        connection_init_timeout: float | None = None,
        ack_timeout: float | None = None,
        ping_interval: float | None = None,
        pong_timeout: float | None = None,
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
        self._init_deadline = (
            now + connection_init_timeout if is_server and connection_init_timeout else None
        )
        self._ack_deadline = now + ack_timeout if not is_server and ack_timeout else None
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._next_ping = now + ping_interval if ping_interval else None
        self._pong_deadline: float | None = None
        self._sending_in: ConnectionState | None = None
        self._sending: Mapping[type[Message], ConnectionState] | None = None
        # Whether the peer may send `next` now: the table's answer, asked again only when
        # the state moved (`receive_result` runs once per result).
        self._results_in: ConnectionState | None = None
        self._results_allowed = False

    @property
    def state(self) -> ConnectionState:
        """Where the connection is; see `ConnectionState`."""
        return self._state

    @property
    def operations(self) -> Collection[str]:
        """The ids of the operations running now (read-only view)."""
        return self._operations

    def receive(self, data: str | bytes) -> list[Message]:
        """Process one frame from the peer; returns the messages the host must act on.

        An empty list means the frame changed nothing the host must see (e.g. `complete` for
        a finished id). Raises `RemoteProtocolError` — close the socket with its `close_code`
        and `reason` — when the peer broke a rule; the connection is then CLOSING. Once
        CLOSING or CLOSED, frames still in flight are dropped.
        """
        if self._state in _ENDED:
            return []
        try:
            message = parse(data)
            self._state, counts = transition(
                self.their_role, self._state, message, self._operations
            )
        except RemoteProtocolError as exc:
            # An unparseable frame is 4400 Bad Request from a client, but a client closes
            # 4004 Bad Response for a server frame it cannot parse (graphql-ws `client.ts`).
            code = CloseCode.BAD_RESPONSE if self.our_role is Role.CLIENT else exc.close_code
            raise self._fail(exc.reason, code) from None
        except LocalProtocolError as exc:
            raise self._fail(exc.reason, exc.close_code) from None
        if type(message) is Pong:
            self._pong_deadline = None
        elif self._state is ConnectionState.ACKNOWLEDGED:
            self._ack_deadline = None
        elif type(message) is ConnectionInit:
            self._init_deadline = None
        return [message] if counts else []

    def receive_result(self, raw: JSONObject) -> tuple[str, FormattedExecutionResult] | None:
        """The fast path for what a client receives most: `next` for a running operation.

        `raw` is a decoded frame. Returns its id and result when it is a well-formed `next`
        the peer may send now (the table says so) for a running operation: the host acts on
        it exactly as on the `Next` that `receive` would return, and nothing else changes (a
        `next` moves no state). Returns None for anything else, changing nothing: `receive`
        decides then, with every rule and error.
        """
        if raw.get("type") != _NEXT:
            return None
        operation_id, payload = raw.get("id"), raw.get("payload")
        # `type(x) is` rather than `isinstance`: exact JSON types, and the checks narrow.
        if type(payload) is not dict or type(operation_id) is not str:
            return None
        if operation_id not in self._running:
            return None  # a running id is a non-empty string: it passed `send(Subscribe)`
        state = self._state
        if state is not self._results_in:
            allowed = TRANSITIONS.get((self.their_role, state))
            self._results_in, self._results_allowed = state, allowed is not None and Next in allowed
        if not self._results_allowed:
            return None
        return operation_id, payload  # type: ignore[return-value]  # a dict: a result's shape

    def send(self, message: Message) -> str:
        """Check that we may send `message` now and return the frame to write.

        Raises `LocalProtocolError` for a message the protocol forbids here, which leaves the
        connection CLOSING — except for a message naming an operation that is no longer
        running (the peer completed it meanwhile) and for a payload JSON cannot carry, which
        are refused and change nothing.
        """
        state = self._state
        if state in _ENDED:
            raise LocalProtocolError(f"Cannot send '{message.type}': the connection is closing")
        if state is not self._sending_in:
            # The table's row for what we may send, looked up again only when the state moved.
            self._sending_in = state
            self._sending = TRANSITIONS.get((self.our_role, state))
        # Encoded first: a payload JSON cannot carry is refused before anything moves.
        frame = serialize(message, self._dumps)
        try:
            new_state, counts = transition(
                self.our_role, state, message, self._operations, allowed=self._sending
            )
        except LocalProtocolError:
            self._state = ConnectionState.CLOSING
            raise
        if not counts:
            raise LocalProtocolError(
                f"Cannot send '{message.type}': no operation with id "
                f"{getattr(message, 'id', '')!r} is running"
            )
        self._state = new_state
        if new_state is ConnectionState.ACKNOWLEDGED:
            self._init_deadline = None
        return frame

    def halt(self) -> None:
        """The host is closing the socket: result encoders made here produce no more frames.

        Nothing else changes; `send` still answers as before. A host wrapping this connection
        (`clew.protocol.websocket.Connection`) calls it when it stops sending, so an encoder
        never outlives its rules.
        """
        self._halted = True

    def result_encoder(self, operation_id: str) -> Callable[[FormattedExecutionResult], str | None]:
        """`send(Next(id=operation_id, payload=...))` for a stream of results, made once.

        Each call returns the frame when `send` would, changing nothing (a `next` moves no
        state); None when `send` would refuse it, for `send` to say why, and once `halt()`
        was called. The frame's text around the result is encoded once (`next_affixes`), and
        `send`'s checks are read from `TRANSITIONS` once: per result, the state and the
        operation's id are looked at.
        """
        if type(operation_id) is not str or not operation_id:
            return _never
        prefix, suffix = next_affixes(operation_id, self._dumps)
        dumps, operations = self._dumps, self._operations.states  # no proxy per lookup
        # A tuple: membership tests identity first, where a set would hash the enum in Python.
        sendable = tuple(
            state
            for (role, state), allowed in TRANSITIONS.items()
            if role is self.our_role and Next in allowed
        )

        def encode(payload: FormattedExecutionResult) -> str | None:
            if (
                self._state in sendable
                and operation_id in operations
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
        """Refuse the `connection_init` just received (server): close 4403 Forbidden.

        `payload` is unused by this subprotocol, which has no rejection message; it exists
        so both subprotocols' connections are driven the same way.
        """
        del payload
        if self.our_role is not Role.SERVER or self._state is not ConnectionState.AWAITING_ACK:
            raise LocalProtocolError("Only a server awaiting its ack can reject a connection")
        self._state = ConnectionState.CLOSING
        return Closure(code=CloseCode.FORBIDDEN, reason="Forbidden")

    def connection_closed(self) -> tuple[str, ...]:
        """The transport reports the socket closed; returns the ids that were still running."""
        running = tuple(self._operations)
        self._operations.clear()
        self._state = ConnectionState.CLOSED
        return running

    def next_deadline(self) -> float | None:
        """The earliest time at which `handle_timer` has work to do, or None."""
        if self._state in _ENDED:
            return None
        candidates = [self._init_deadline, self._ack_deadline, self._pong_deadline]
        if self._state is ConnectionState.ACKNOWLEDGED:
            candidates.append(self._next_ping)
        deadlines = [deadline for deadline in candidates if deadline is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[str]:
        """Run the timers that are due: returns frames to write (a `ping`).

        Raises `RemoteProtocolError` when the peer let a deadline pass: 4408 for a late
        `connection_init` or `pong`, 4504 for a late `connection_ack`.
        """
        if self._state in _ENDED:
            return []
        if self._init_deadline is not None and now >= self._init_deadline:
            raise self._fail(
                "Connection initialisation timeout", CloseCode.CONNECTION_INITIALISATION_TIMEOUT
            )
        if self._ack_deadline is not None and now >= self._ack_deadline:
            raise self._fail(
                "Connection acknowledgement timeout", CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT
            )
        if self._pong_deadline is not None and now >= self._pong_deadline:
            raise self._fail("Pong timeout", CloseCode.CONNECTION_INITIALISATION_TIMEOUT)
        frames: list[str] = []
        if (
            self._state is ConnectionState.ACKNOWLEDGED
            and self._next_ping is not None
            and self._ping_interval is not None
            and now >= self._next_ping
        ):
            frames.append(self.send(Ping()))
            self._next_ping = now + self._ping_interval
            if self._pong_timeout and self._pong_deadline is None:
                self._pong_deadline = now + self._pong_timeout
        return frames

    def _fail(self, reason: str, close_code: int) -> RemoteProtocolError:
        """Enter CLOSING and build the error the host closes the socket with."""
        self._state = ConnectionState.CLOSING
        return RemoteProtocolError(reason, close_code)


def _never(_payload: FormattedExecutionResult) -> None:
    """The encoder of an id no `next` may carry: `send` refuses each result and says why."""
