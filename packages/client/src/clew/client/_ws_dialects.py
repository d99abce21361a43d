"""The two GraphQL WebSocket subprotocols behind one small interface, and the socket's options.

Each dialect wraps the `clew.protocol` client `Connection` of its subprotocol and builds that
subprotocol's frames (`subscribe` or `start`, `complete` or `stop`...), so the socket session in
`_ws_session.py` drives either one the same way. No protocol rule is decided here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias, final

from clew.protocol import (
    CloseCode,
    ConnectionState,
    JSONObject,
    LocalProtocolError,
    RemoteProtocolError,
    Role,
    Subprotocol,
    SubscribePayload,
)
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as lws

from ._retry import RetryPolicy

__all__ = ["Dialect", "IncomingMessage", "WebSocketOptions", "make_dialect"]

#: A message either client connection hands back from `receive()`.
IncomingMessage: TypeAlias = tws.Message | lws.Event


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketOptions:
    """Tuning of the shared WebSocket; the backend's `websocket_options` mapping uses these names.

    Two kinds of keepalive exist and both can be on. `ping_interval`/`pong_timeout` (and
    `keepalive_timeout` for the legacy subprotocol) are GraphQL *protocol* messages, which
    prove the GraphQL server is alive; `heartbeat` is aiohttp's WebSocket *frame* ping, which
    only proves the socket is (and keeps proxies from closing it).
    """

    #: Seconds to wait for `connection_ack` before closing with 4504 (None: wait forever).
    ack_timeout: float | None = 10.0
    #: graphql-transport-ws: seconds between our `ping` messages (None: no pings).
    ping_interval: float | None = 15.0
    #: graphql-transport-ws: seconds to wait for the `pong` before closing (None: forever).
    pong_timeout: float | None = 10.0
    #: Legacy graphql-ws: seconds without `ka` (after the first) before closing with 1011.
    keepalive_timeout: float | None = 30.0
    #: aiohttp WebSocket-frame ping interval, passed to `ws_connect(heartbeat=...)`.
    heartbeat: float | None = None
    #: Seconds the socket stays open after the last operation ends (0: close at once).
    idle_timeout: float = 1.0
    #: Seconds allowed for the TCP connect and WebSocket handshake.
    connect_timeout: float | None = 10.0
    #: Seconds to wait for the closing handshake.
    close_timeout: float = 5.0
    #: Largest frame accepted from the server, in bytes.
    max_message_size: int = 4 * 1024 * 1024
    #: When and how to reconnect after the socket drops.
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_mapping(cls, options: Mapping[str, object]) -> WebSocketOptions:
        """Build options from a plain mapping, naming the valid keys when one is unknown.

        `retry` may be a `RetryPolicy` or a mapping of its fields.
        """
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TypeError(
                f"Unknown WebSocket option(s) {', '.join(unknown)}; valid: {', '.join(names)}"
            )
        values = dict(options)
        retry = values.get("retry")
        if isinstance(retry, Mapping):
            values["retry"] = RetryPolicy(**retry)
        elif retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy or a mapping, got {type(retry)}")
        for name, value in values.items():
            if name == "retry" or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"WebSocket option {name} must be a number, got {value!r}")
        return cls(**values)  # type: ignore[arg-type]


class Dialect(Protocol):
    """One subprotocol's client side: frames to write, frames received, timers."""

    @property
    def subprotocol(self) -> str:
        """The negotiated subprotocol name."""
        ...

    @property
    def acknowledged(self) -> bool:
        """Whether `connection_ack` arrived, so operations may be sent."""
        ...

    @property
    def broken(self) -> bool:
        """Whether the connection decided to close (a send it refused), so the socket must."""
        ...

    def receive(self, data: str | bytes) -> list[IncomingMessage]:
        """The messages in one frame (raises `RemoteProtocolError` to close)."""
        ...

    def init(self, payload: JSONObject | None) -> str:
        """The `connection_init` frame."""
        ...

    def subscribe(self, operation_id: str, payload: SubscribePayload) -> str:
        """The frame that starts an operation."""
        ...

    def stop(self, operation_id: str) -> str | None:
        """The frame that stops an operation, or None if the server is no longer running it."""
        ...

    def pong(self, ping: tws.Ping) -> str:
        """The answer to a protocol `ping`."""
        ...

    def goodbye(self) -> str | None:
        """The frame to send before a normal close, if the subprotocol has one."""
        ...

    def next_deadline(self) -> float | None:
        """When `handle_timer` has work to do."""
        ...

    def handle_timer(self, now: float) -> list[str]:
        """Frames due now (raises `RemoteProtocolError` when a deadline passed)."""
        ...

    def connection_closed(self) -> None:
        """The socket is gone."""
        ...


@final
class _TransportWS:
    """graphql-transport-ws: `subscribe`/`complete`, client pings, 4504 on a late ack."""

    __slots__ = ("_conn",)

    subprotocol = Subprotocol.GRAPHQL_TRANSPORT_WS.value

    def __init__(self, options: WebSocketOptions, now: float) -> None:
        self._conn = tws.Connection(
            Role.CLIENT,
            now=now,
            ack_timeout=options.ack_timeout,
            ping_interval=options.ping_interval,
            pong_timeout=options.pong_timeout,
        )

    @property
    def acknowledged(self) -> bool:
        return self._conn.state is ConnectionState.ACKNOWLEDGED

    @property
    def broken(self) -> bool:
        return self._conn.state is ConnectionState.CLOSING

    def receive(self, data: str | bytes) -> list[IncomingMessage]:
        return list(self._conn.receive(data))

    def init(self, payload: JSONObject | None) -> str:
        return self._conn.send(tws.ConnectionInit(payload=payload))

    def subscribe(self, operation_id: str, payload: SubscribePayload) -> str:
        return self._conn.send(tws.Subscribe(id=operation_id, payload=payload))

    def stop(self, operation_id: str) -> str | None:
        if not self.acknowledged or operation_id not in self._conn.operations:
            return None
        try:
            return self._conn.send(tws.Complete(id=operation_id))
        except LocalProtocolError:  # completed by the server meanwhile
            return None

    def pong(self, ping: tws.Ping) -> str:
        return self._conn.send(ping.response())

    def goodbye(self) -> str | None:
        return None

    def next_deadline(self) -> float | None:
        return self._conn.next_deadline()

    def handle_timer(self, now: float) -> list[str]:
        return self._conn.handle_timer(now)

    def connection_closed(self) -> None:
        self._conn.connection_closed()


@final
class _LegacyWS:
    """Legacy graphql-ws: `start`/`stop`, the server's `ka`, `connection_terminate` to leave.

    The subprotocol has no ack timeout of its own; clew applies `ack_timeout` by closing 4504
    all the same, since a server that never acknowledges is as useless under either protocol.
    """

    __slots__ = ("_ack_deadline", "_conn")

    subprotocol = Subprotocol.GRAPHQL_WS.value

    def __init__(self, options: WebSocketOptions, now: float) -> None:
        self._conn = lws.Connection(
            Role.CLIENT, now=now, keepalive_timeout=options.keepalive_timeout
        )
        self._ack_deadline = now + options.ack_timeout if options.ack_timeout else None

    @property
    def acknowledged(self) -> bool:
        return self._conn.state is ConnectionState.ACKNOWLEDGED

    @property
    def broken(self) -> bool:
        return self._conn.state is ConnectionState.CLOSING

    def receive(self, data: str | bytes) -> list[IncomingMessage]:
        events = list[IncomingMessage](self._conn.receive(data))
        if self.acknowledged:
            self._ack_deadline = None
        return events

    def init(self, payload: JSONObject | None) -> str:
        return self._conn.send(lws.ConnectionInit(payload=payload))

    def subscribe(self, operation_id: str, payload: SubscribePayload) -> str:
        return self._conn.send(lws.Start(id=operation_id, payload=payload))

    def stop(self, operation_id: str) -> str | None:
        if not self.acknowledged or operation_id not in self._conn.operations:
            return None
        try:
            return self._conn.send(lws.Stop(id=operation_id))
        except LocalProtocolError:  # ended or already stopping
            return None

    def pong(self, ping: tws.Ping) -> str:
        raise AssertionError("The legacy subprotocol has no ping")

    def goodbye(self) -> str | None:
        try:
            return self._conn.send(lws.ConnectionTerminate())
        except LocalProtocolError:
            return None

    def next_deadline(self) -> float | None:
        deadline = self._conn.next_deadline()
        if self._ack_deadline is None:
            return deadline
        return self._ack_deadline if deadline is None else min(deadline, self._ack_deadline)

    def handle_timer(self, now: float) -> list[str]:
        if self._ack_deadline is not None and now >= self._ack_deadline:
            raise RemoteProtocolError(
                "Connection acknowledgement timeout", CloseCode.CONNECTION_ACKNOWLEDGEMENT_TIMEOUT
            )
        return self._conn.handle_timer(now)

    def connection_closed(self) -> None:
        self._conn.connection_closed()


def make_dialect(subprotocol: str | None, options: WebSocketOptions, now: float) -> Dialect | None:
    """The dialect for the subprotocol the server selected, or None if it selected none we know."""
    if subprotocol == Subprotocol.GRAPHQL_TRANSPORT_WS.value:
        return _TransportWS(options, now)
    if subprotocol == Subprotocol.GRAPHQL_WS.value:
        return _LegacyWS(options, now)
    return None
