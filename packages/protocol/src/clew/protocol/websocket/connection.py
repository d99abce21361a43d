"""One GraphQL WebSocket connection that hides which subprotocol it speaks.

wsproto's `Connection` hides the handshake and the frame protocol behind one set of events;
this one hides graphql-transport-ws and legacy graphql-ws the same way. Each subprotocol keeps
its own messages, codec and transition table (`clew.protocol.graphql_transport_ws`,
`clew.protocol.graphql_ws`); this layer maps their messages to one vocabulary of events
(`receive()`) and takes verbs on the send side (`accept`, `reject`, `start`, `cancel`,
`result`, `fail`, `complete`, the closures). Every rule a host used to apply lives here: the
legacy ack timeout, legacy `stop` answered with `complete`, `ping` answered with `pong`, a
result JSON cannot carry turned into that operation's `error`. No I/O; time enters through
`now` arguments (`next_deadline()` / `handle_timer(now)`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final, TypeAlias, cast

from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as gws
from clew.protocol._codec import JSONDecodeFailure, loads_value
from clew.protocol._codec import dumps as json_dumps
from clew.protocol._codes import CloseCode, is_retryable, limit_close_reason
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._negotiation import Subprotocol
from clew.protocol._operations import ConnectionState
from clew.protocol._types import (
    Closure,
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    JSONValue,
    Role,
    SubscribePayload,
)

from .events import (
    Acknowledged,
    CloseRequired,
    Event,
    InitRequested,
    OperationCancelled,
    OperationCompleted,
    OperationFailed,
    OperationRequested,
    PingReceived,
    PongReceived,
    Refused,
    Rejected,
    ResultReceived,
    Unencodable,
)

__all__ = ["MASKED_ERROR", "Connection", "not_acceptable"]

#: What a peer is told about a result or error that could not be encoded (details are logged).
MASKED_ERROR: Final = "Internal server error"

#: RFC 6455 §7.4.1: a message too big to process (the legacy subprotocol's answer).
_MESSAGE_TOO_BIG: Final = 1009

_Message: TypeAlias = tws.Message | gws.Message
_Dumps: TypeAlias = Callable[[JSONValue], str]


def not_acceptable(subprotocol: Subprotocol) -> Closure:
    """How a server refuses a socket that offered none of its subprotocols.

    graphql-ws closes 4406; the legacy reference server closed 1002. Accept the handshake
    without a subprotocol, then close with this (RFC 6455 §4.2.2: select only one offered).
    """
    if subprotocol is Subprotocol.GRAPHQL_WS:
        return Closure(code=CloseCode.PROTOCOL_ERROR, reason="Subprotocol not acceptable")
    return Closure(code=CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, reason="Subprotocol not acceptable")


class Connection:
    """The protocol state of one socket, seen from `our_role`, in either subprotocol.

    Options, each used only where its subprotocol and role give it a meaning:
    `connection_init_timeout` (server, graphql-transport-ws: 4408), `ack_timeout` (client,
    both subprotocols: 4504), `ping_interval`/`pong_timeout` (graphql-transport-ws, either
    side), `keepalive_interval` (legacy server: `ka` after the ack and then periodically),
    `keepalive_timeout` (legacy client: 1011 when `ka` stops). `dumps` is the JSON encoder.
    """

    def __init__(
        self,
        subprotocol: Subprotocol,
        our_role: Role,
        *,
        now: float = 0.0,
        connection_init_timeout: float | None = None,
        ack_timeout: float | None = None,
        ping_interval: float | None = None,
        pong_timeout: float | None = None,
        keepalive_interval: float | None = None,
        keepalive_timeout: float | None = None,
        dumps: _Dumps = json_dumps,
    ) -> None:
        self.subprotocol = Subprotocol(subprotocol)
        self.our_role = our_role
        self._server = our_role is Role.SERVER
        self._legacy = self.subprotocol is Subprotocol.GRAPHQL_WS
        self._over = False
        inner: tws.Connection | gws.Connection
        if self._legacy:
            inner = gws.Connection(
                our_role,
                now=now,
                keepalive_interval=keepalive_interval,
                keepalive_timeout=keepalive_timeout,
                dumps=dumps,
            )
            # The legacy subprotocol has no ack timeout; a server that never acknowledges is
            # as useless under it as under the other, so the client applies one all the same.
            self._ack_deadline = now + ack_timeout if not self._server and ack_timeout else None
            self._ka_on_accept = bool(keepalive_interval)
        else:
            inner = tws.Connection(
                our_role,
                now=now,
                connection_init_timeout=connection_init_timeout,
                ack_timeout=ack_timeout,
                ping_interval=ping_interval,
                pong_timeout=pong_timeout,
                dumps=dumps,
            )
            self._ack_deadline = None
            self._ka_on_accept = False
        self._inner = inner
        #: The inner connection's check of a decoded result, while a client may take results:
        #: a client tries `receive_result` first, since results are most of what it receives.
        self._take: Callable[[JSONObject], tuple[str, FormattedExecutionResult] | None] | None = (
            None if self._server else inner.receive_result
        )
        self._send = cast("Callable[[_Message], str]", inner.send)
        # The hot path's message class: one result of an operation.
        self._result: Callable[..., _Message] = gws.Data if self._legacy else tws.Next

    # -- state -----------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """Where the connection is; see `ConnectionState`."""
        return ConnectionState.CLOSING if self._over else self._inner.state

    @property
    def acknowledged(self) -> bool:
        """Whether `connection_ack` passed, so operations may run."""
        return self.state is ConnectionState.ACKNOWLEDGED

    @property
    def operations(self) -> Collection[str]:
        """The ids of the operations running now (read-only view)."""
        return self._inner.operations

    # -- receiving -------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> list[Event]:
        """Process one frame from the peer; returns the events the host acts on, in order.

        Never raises for what the peer sent: a broken rule comes back as `CloseRequired`,
        after which frames still in flight are dropped.
        """
        if self._over:
            return []
        if self._take is not None:
            result = self.receive_result(data)
            if result is not None:
                return [ResultReceived(id=result[0], payload=result[1])]
        inner = self._inner
        live = len(inner.operations)
        try:
            received = inner.receive(data)
        except RemoteProtocolError as exc:
            # The peer broke the protocol: reconnecting would only meet the same peer.
            return [self._close_required(exc.close_code, exc.reason, retryable=False)]
        events: list[Event] = []
        for message in received:
            event = self._event(message, live)
            if type(event) is list:
                events.extend(event)
            elif event is not None:
                events.append(cast(Event, event))
        return events

    def receive_result(self, data: str | bytes) -> tuple[str, FormattedExecutionResult] | None:
        """Client: the id and result when `data` is a result for a running operation, else None.

        The flat path for what a client receives most, with no event built: act on the pair
        as on a `ResultReceived`. None changes nothing: pass the same frame to `receive`,
        which decides with every rule and error (decoding it again: only results are hot).
        A server always gets None (a client sends no results).
        """
        take = self._take
        if take is None:
            return None
        try:
            raw = loads_value(data)
        except JSONDecodeFailure:
            return None
        if type(raw) is not dict:
            return None
        return take(raw)

    def _event(self, message: _Message | gws.Refused, live: int) -> Event | list[Event] | None:
        """The neutral event for one accepted message of either subprotocol."""
        match message:
            case (
                tws.Next(id=operation_id, payload=result)
                | gws.Data(id=operation_id, payload=result)
            ):
                return ResultReceived(id=operation_id, payload=result)
            case tws.ConnectionInit(payload=payload) | gws.ConnectionInit(payload=payload):
                return InitRequested(payload=payload)
            case tws.ConnectionAck(payload=payload) | gws.ConnectionAck(payload=payload):
                self._ack_deadline = None
                return Acknowledged(payload=payload)
            case tws.Subscribe(id=operation_id, payload=payload):
                return OperationRequested(id=operation_id, payload=payload)
            case gws.Start(id=operation_id, payload=payload):
                requested = OperationRequested(id=operation_id, payload=payload)
                if len(self._inner.operations) == live:
                    # The id was running: the reference server replaces the old operation.
                    return [OperationCancelled(id=operation_id, reply=None), requested]
                return requested
            case tws.Complete(id=operation_id) if self._server:
                return OperationCancelled(id=operation_id, reply=None)
            case gws.Stop(id=operation_id):
                # The reference server answers `stop` with `complete`; no `data` may follow.
                return OperationCancelled(
                    id=operation_id, reply=self._send(gws.Complete(id=operation_id))
                )
            case tws.Complete(id=operation_id) | gws.Complete(id=operation_id):
                return OperationCompleted(id=operation_id)
            case tws.Error(id=operation_id, payload=errors):
                return OperationFailed(id=operation_id, errors=errors)
            case gws.Error(id=operation_id):
                return OperationFailed(id=operation_id, errors=message.errors)
            case tws.Ping(payload=payload):
                return PingReceived(payload=payload, reply=self._send(message.response()))
            case tws.Pong(payload=payload):
                return PongReceived(payload=payload)
            case gws.Refused(reason=reason, reply=reply):
                return Refused(reason=reason, reply=reply)
            case gws.ConnectionErrorMessage(payload=payload) if not self._server:
                if self._inner.state is ConnectionState.ACKNOWLEDGED:
                    return None  # a late one answers a frame the server could not read
                self._halt()
                return Rejected(payload=payload, reason=_rejection_reason(payload))
            case gws.ConnectionTerminate():
                return self._close_required(CloseCode.NORMAL_CLOSURE, "", retryable=False)
            case _:
                return None  # ka: a timer only, which the subprotocol's connection ran

    # -- sending: the connection ------------------------------------------------------------

    def init(self, payload: JSONObject | None = None) -> str:
        """Client: the `connection_init` frame."""
        if self._legacy:
            return self._send(gws.ConnectionInit(payload=payload))
        return self._send(tws.ConnectionInit(payload=payload))

    def accept(self, payload: JSONObject | None = None) -> tuple[str, ...]:
        """Server: accept `connection_init`; the frames to write (legacy: `ka` follows the ack)."""
        if not self._legacy:
            return (self._send(tws.ConnectionAck(payload=payload)),)
        ack = self._send(gws.ConnectionAck(payload=payload))
        return (ack, self._send(gws.Ka())) if self._ka_on_accept else (ack,)

    def reject(self, payload: JSONObject | None = None) -> Closure:
        """Server: refuse `connection_init` (4403; legacy: `connection_error`, then 1011).

        Until `connection_closed()`, a legacy `start` still in flight comes back `Refused`
        with an `error` carrying the rejection's message: feed such frames for a short grace.
        """
        return self._inner.reject(payload)

    def terminate(self) -> Closure:
        """Client: end the connection normally (legacy: `connection_terminate` first)."""
        frames: tuple[str, ...] = ()
        if self._legacy and not self._over:
            frames = (self._send(gws.ConnectionTerminate()),)
        self._halt()
        return Closure(code=CloseCode.NORMAL_CLOSURE, reason="Normal Closure", frames=frames)

    def too_large(self, limit: int) -> Closure:
        """A frame over `limit` bytes arrived: how to close (4400; legacy: 1009)."""
        self._halt()
        code = _MESSAGE_TOO_BIG if self._legacy else CloseCode.BAD_REQUEST
        return Closure(code=code, reason=f"Message exceeds the maximum size of {limit} bytes")

    def internal_error(self) -> Closure:
        """Our own side failed unexpectedly: how to close (4500, client 4005; legacy: 1011)."""
        self._halt()
        if self._legacy:
            code = CloseCode.INTERNAL_ERROR
        elif self._server:
            code = CloseCode.INTERNAL_SERVER_ERROR
        else:
            code = CloseCode.INTERNAL_CLIENT_ERROR
        reason = "Internal server error" if self._server else "Internal client error"
        return Closure(code=code, reason=reason)

    def going_away(self) -> Closure:
        """The server shuts down (1001 under both subprotocols)."""
        self._halt()
        return Closure(code=CloseCode.GOING_AWAY, reason="Server shutting down")

    # -- sending: operations ----------------------------------------------------------------

    def start(self, operation_id: str, payload: SubscribePayload) -> str:
        """Client: the frame that starts an operation (`subscribe`; legacy `start`).

        Raises `LocalProtocolError` before the ack, for an id still running, or for a
        payload JSON cannot carry; the connection is unchanged by the last.
        """
        if self._legacy:
            return self._send(gws.Start(id=operation_id, payload=payload))
        return self._send(tws.Subscribe(id=operation_id, payload=payload))

    def cancel(self, operation_id: str) -> str | None:
        """Client: the frame that stops an operation, or None when the server ended it."""
        if not self.acknowledged or operation_id not in self._inner.operations:
            return None
        if self._legacy:
            return self._send(gws.Stop(id=operation_id))
        return self._send(tws.Complete(id=operation_id))

    def result(
        self, operation_id: str, payload: FormattedExecutionResult
    ) -> str | Unencodable | None:
        """Server: the frame carrying one result of `operation_id` (`next`; legacy `data`).

        None when the operation no longer runs (the client cancelled it, the socket closes).
        `Unencodable` when JSON cannot carry `payload`: the operation failed with an `error`
        instead, and the connection stays usable.
        """
        if self._over:
            return None
        try:
            return self._send(self._result(id=operation_id, payload=payload))
        except LocalProtocolError as exc:
            return self._unencodable(operation_id, exc)

    def result_encoder(self, operation_id: str) -> Callable[[FormattedExecutionResult], str | None]:
        """Server: the frames of `operation_id`'s results, for a stream of them, made once.

        Each call returns the frame `result(operation_id, payload)` would return, or None:
        then ask `result`, which applies every rule (the operation may have ended, the socket
        may be closing, JSON may not carry the payload). Only the result itself is encoded
        per call; the frame's text around it is prepared once.
        """
        return self._inner.result_encoder(operation_id)

    def fail(self, operation_id: str, errors: list[FormattedError]) -> str | Unencodable | None:
        """Server: the `error` ending `operation_id` (legacy: its first error); no `complete`.

        None and `Unencodable` as for `result`.
        """
        if self._over:
            return None
        try:
            return self._send(self._error(operation_id, errors))
        except LocalProtocolError as exc:
            return self._unencodable(operation_id, exc)

    def complete(self, operation_id: str) -> str | None:
        """Server: the `complete` ending `operation_id`, or None when it no longer runs."""
        if not self.acknowledged or operation_id not in self._inner.operations:
            return None
        if self._legacy:
            return self._send(gws.Complete(id=operation_id))
        return self._send(tws.Complete(id=operation_id))

    def _error(self, operation_id: str, errors: list[FormattedError]) -> _Message:
        if self._legacy:
            # The reference server, Ariadne and Strawberry send one error object: the first.
            return gws.Error(id=operation_id, payload=errors[0] if errors else {"message": "Error"})
        return tws.Error(id=operation_id, payload=errors)

    def _unencodable(self, operation_id: str, exc: LocalProtocolError) -> Unencodable | None:
        """After a refused send: None if the operation ended, else its masked `error`."""
        if not self.acknowledged or operation_id not in self._inner.operations:
            return None  # ended meanwhile, or the socket closes: nothing more may be sent
        frame = self._send(self._error(operation_id, [{"message": MASKED_ERROR}]))
        return Unencodable(frame=frame, reason=exc.reason)

    # -- time and the end -------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time at which `handle_timer` has work to do, or None."""
        if self._over:
            return None
        deadline, ack = self._inner.next_deadline(), self._ack_deadline
        if ack is None:
            return deadline
        return ack if deadline is None else min(deadline, ack)

    def handle_timer(self, now: float) -> list[str] | CloseRequired:
        """Run the timers that are due: frames to write (`ping`, `ka`), or the close a passed
        deadline calls for (4408, 4504, legacy 1011), which a client may retry."""
        if self._over:
            return []
        if self._ack_deadline is not None and now >= self._ack_deadline:
            return self._close_required(
                CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT,
                "Connection acknowledgement timeout",
                retryable=True,
            )
        try:
            return self._inner.handle_timer(now)
        except RemoteProtocolError as exc:
            return self._close_required(exc.close_code, exc.reason, retryable=True)

    def connection_closed(self) -> tuple[str, ...]:
        """The transport reports the socket closed; returns the ids that were still running."""
        self._halt()
        return self._inner.connection_closed()

    def _halt(self) -> None:
        """Nothing more is sent: the connection is over for this side."""
        self._over = True
        self._take = None
        self._inner.halt()

    def _close_required(self, code: int, reason: str, *, retryable: bool) -> CloseRequired:
        self._halt()
        return CloseRequired(
            code=code,
            reason=limit_close_reason(reason),
            retryable=retryable and is_retryable(code),
        )


def _rejection_reason(payload: JSONObject | None) -> str:
    """Why a legacy server refused: the `message` of its `connection_error`, else its payload
    as JSON, else "Forbidden"."""
    if payload is None:
        return "Forbidden"
    message = payload.get("message")
    reason = message if isinstance(message, str) and message else json_dumps(payload)
    return limit_close_reason(reason)
