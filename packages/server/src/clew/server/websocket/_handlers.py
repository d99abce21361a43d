"""The two WebSocket handlers: configuration of one driver, one per subprotocol.

A handler is what the app routes a negotiated subprotocol to. It holds the subprotocol's
options and hooks and serves each socket with a `Socket` over a neutral
`clew.protocol.websocket.Connection`; nothing else differs between the two.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Unpack, final

import orjson
from starlette.websockets import WebSocket

from clew.protocol import JSONValue, Role, Subprotocol, select_subprotocol
from clew.protocol.websocket import Connection, not_acceptable
from clew.server._options import seconds

from ._hooks import HookOptions, Hooks
from ._socket import Socket

if TYPE_CHECKING:
    from clew.server._execution import Engine
    from clew.server._types import Receive, Scope, Send

__all__ = ["GraphQLTransportWSHandler", "GraphQLWSHandler"]


def _dumps(value: JSONValue) -> str:
    """The fast JSON encoder handed to every `Connection` (orjson returns bytes)."""
    return orjson.dumps(value).decode()


class _Handler(ABC):
    """What both handlers share: the engine, the hooks, the live sockets."""

    subprotocol: Subprotocol

    def __init__(self, **hooks: Unpack[HookOptions]) -> None:
        self._hooks = Hooks(**hooks)
        self._engine: Engine | None = None
        self._sockets: set[Socket] = set()

    def configure(self, engine: Engine) -> None:
        """Use `engine` (the app's) to prepare, execute and encode operations."""
        self._engine = engine

    @abstractmethod
    def _connect(self, now: float) -> Connection:
        """A fresh server `Connection` of this handler's subprotocol, with its options."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one socket (ASGI `websocket` scope, not yet accepted) until it closes."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}.configure(engine) was not called")
        offered = scope.get("subprotocols", ())
        closure = None
        if select_subprotocol(offered, (self.subprotocol,)) is None:
            # Only a subprotocol the client offered may be selected (RFC 6455 §4.2.2).
            closure = not_acceptable(self.subprotocol)
        websocket = WebSocket(scope, receive, send)
        socket = Socket(websocket, send, self._engine, self._connect, self._hooks)
        self._sockets.add(socket)
        try:
            await socket.run(closure)
        finally:
            self._sockets.discard(socket)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A handler is an ASGI app too: mount it alone (Starlette `WebSocketRoute`)."""
        await self.handle(scope, receive, send)

    async def shutdown(self) -> None:
        """Close every socket with 1001, after stopping (and closing) all their operations."""
        sockets = tuple(self._sockets)
        if sockets:
            await asyncio.gather(*(socket.shutdown() for socket in sockets))


@final
class GraphQLTransportWSHandler(_Handler):
    """Serves `graphql-transport-ws`: every rule comes from `clew.protocol`.

    - `connection_init_wait_timeout`: seconds a client has to send `connection_init` before
      the socket closes with 4408 (None waits forever).
    - `ping_interval`: seconds between server `ping`s once acknowledged (None sends none);
      `pong_timeout`: seconds to wait for the `pong` before closing with 4408.
    - `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to close
      with 4403; an unexpected exception closes with 4500 and is logged. Any other return
      value is kept in ``websocket.scope["connection_result"]`` (and the payload in
      ``websocket.scope["connection_params"]``); the default context carries both too.
    - `on_disconnect(websocket)`, `on_operation(websocket, operation)`,
      `on_complete(websocket, operation)`: see `clew.server.websocket`.
    """

    subprotocol = Subprotocol.GRAPHQL_TRANSPORT_WS

    def __init__(
        self,
        *,
        connection_init_wait_timeout: float | timedelta | None = 60.0,
        ping_interval: float | timedelta | None = None,
        pong_timeout: float | timedelta | None = None,
        **hooks: Unpack[HookOptions],
    ) -> None:
        super().__init__(**hooks)
        # Seconds or a timedelta (Ariadne's type), held as seconds.
        self.connection_init_wait_timeout = seconds(
            connection_init_wait_timeout, "connection_init_wait_timeout"
        )
        self.ping_interval = seconds(ping_interval, "ping_interval")
        self.pong_timeout = seconds(pong_timeout, "pong_timeout")

    def _connect(self, now: float) -> Connection:
        return Connection(
            self.subprotocol,
            Role.SERVER,
            now=now,
            connection_init_timeout=self.connection_init_wait_timeout,
            ping_interval=self.ping_interval,
            pong_timeout=self.pong_timeout,
            dumps=_dumps,
        )


@final
class GraphQLWSHandler(_Handler):
    """Serves the legacy `graphql-ws`: every rule comes from `clew.protocol`.

    - `keepalive`: seconds between `ka` frames, the first right after `connection_ack`
      (None sends none; the reference client only starts its timeout after the first `ka`).
    - `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to answer
      `connection_error` and close with 1011; an unexpected exception closes with 1011 and is
      logged. Other hooks and the connection's params and result: see `clew.server.websocket`.

    `start` before the ack is answered with `error` for its id and never runs; a `start`
    reusing a running id replaces that operation; `stop` is answered with `complete` at once
    while the operation's stream closes in the background; unknown or malformed frames get an
    `error` or `connection_error` reply and the socket stays open; `connection_terminate`
    closes with 1000.
    """

    subprotocol = Subprotocol.GRAPHQL_WS

    def __init__(
        self,
        *,
        keepalive: float | timedelta | None = None,
        **hooks: Unpack[HookOptions],
    ) -> None:
        super().__init__(**hooks)
        self.keepalive = seconds(keepalive, "keepalive")  # seconds or a timedelta (Ariadne's)

    def _connect(self, now: float) -> Connection:
        return Connection(
            self.subprotocol, Role.SERVER, now=now, keepalive_interval=self.keepalive, dumps=_dumps
        )
