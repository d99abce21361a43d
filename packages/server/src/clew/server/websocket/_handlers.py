"""The two WebSocket handlers: configuration of one driver, one per subprotocol.

A handler is what the app routes a negotiated subprotocol to. It holds the subprotocol's
options and hooks and serves each socket with a `Socket` over a neutral
`clew.protocol.websocket.Connection`; nothing else differs between the two.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING

import orjson
from starlette.websockets import WebSocket

from clew.protocol import JSONValue, Role, Subprotocol, select_subprotocol
from clew.protocol.websocket import Connection, not_acceptable
from clew.server._handler_base import GraphQLHandler
from clew.server._options import seconds

from ._hooks import Hooks, OnComplete, OnConnect, OnDisconnect, OnOperation
from ._socket import Socket

if TYPE_CHECKING:
    from clew.server._execution import Engine
    from clew.server._types import Receive, Scope, Send

__all__ = ["GraphQLTransportWSHandler", "GraphQLWSHandler", "GraphQLWebsocketHandler"]


def _dumps(value: JSONValue) -> str:
    """The fast JSON encoder handed to every `Connection` (orjson returns bytes)."""
    return orjson.dumps(value).decode()


class GraphQLWebsocketHandler(GraphQLHandler):
    """Ariadne's base of the WebSocket handlers: the four hooks and `handle_websocket`.

    The hooks are attributes, as in Ariadne (given positionally or by name, or set later);
    each socket uses the ones set when it opens. `handle_websocket(websocket)` serves one
    socket, not yet accepted: override it to act before (or instead of) serving, and call
    ``super().handle_websocket(websocket)`` to serve it.
    """

    subprotocol: Subprotocol

    def __init__(
        self,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
    ) -> None:
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_operation = on_operation
        self.on_complete = on_complete
        self._sockets: set[Socket] = set()
        #: `handle_websocket` is overridden: sockets go through it (else straight to `_serve`).
        self._custom_handle = (
            type(self).handle_websocket is not GraphQLWebsocketHandler.handle_websocket
        )

    def configure(self, engine: Engine, *args: object, **kwargs: object) -> None:
        """Use `engine` (the app's) to prepare, execute and encode operations.

        Ariadne's `http_handler` keyword is accepted and unused: operations run on the engine.
        """
        self._engine = engine

    @abstractmethod
    def _connect(self, now: float) -> Connection:
        """A fresh server `Connection` of this handler's subprotocol, with its options."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one socket (ASGI `websocket` scope, not yet accepted) until it closes."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}.configure(engine) was not called")
        websocket = WebSocket(scope, receive, send)
        if self._custom_handle:
            await self.handle_websocket(websocket)
        else:
            await self._serve(websocket, send)

    async def handle_websocket(self, websocket: WebSocket) -> None:
        """Serve `websocket` (not yet accepted) until it closes: Ariadne's override seam."""
        await self._serve(websocket, websocket.send)

    async def _serve(self, websocket: WebSocket, send: Send) -> None:
        offered = websocket.scope.get("subprotocols", ())
        closure = None
        if select_subprotocol(offered, (self.subprotocol,)) is None:
            # Only a subprotocol the client offered may be selected (RFC 6455 §4.2.2).
            closure = not_acceptable(self.subprotocol)
        hooks = Hooks(
            on_connect=self.on_connect,
            on_disconnect=self.on_disconnect,
            on_operation=self.on_operation,
            on_complete=self.on_complete,
        )
        socket = Socket(websocket, send, self.engine, self._connect, hooks)
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


class GraphQLTransportWSHandler(GraphQLWebsocketHandler):
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
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
        *,
        connection_init_wait_timeout: float | timedelta | None = 60.0,
        ping_interval: float | timedelta | None = None,
        pong_timeout: float | timedelta | None = None,
    ) -> None:
        super().__init__(on_connect, on_disconnect, on_operation, on_complete)
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


class GraphQLWSHandler(GraphQLWebsocketHandler):
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
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
        *,
        keepalive: float | timedelta | None = None,
    ) -> None:
        super().__init__(on_connect, on_disconnect, on_operation, on_complete)
        self.keepalive = seconds(keepalive, "keepalive")  # seconds or a timedelta (Ariadne's)

    def _connect(self, now: float) -> Connection:
        return Connection(
            self.subprotocol, Role.SERVER, now=now, keepalive_interval=self.keepalive, dumps=_dumps
        )
