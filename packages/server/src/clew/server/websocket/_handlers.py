"""The base of the two WebSocket handlers: one driver, configured per subprotocol.

A handler is what the app routes a negotiated subprotocol to. It holds the subprotocol's
options and hooks and serves each socket with a `Socket` over a neutral
`clew.protocol.websocket.Connection`. The two subclasses (`_transport_ws.py`, `_legacy_ws.py`)
add their options and Ariadne's per-message methods, which are override seams (`Seams`).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Coroutine
from typing import TYPE_CHECKING

import orjson
from starlette.websockets import WebSocket

from clew.protocol import JSONValue, Subprotocol, select_subprotocol
from clew.protocol.websocket import Connection, not_acceptable
from clew.server._handler_base import GraphQLHandler

from ._hooks import CONNECTION_PARAMS, Hooks, OnComplete, OnConnect, OnDisconnect, OnOperation
from ._seams import Seams
from ._socket import Socket

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from clew.server._execution import Engine
    from clew.server._types import Receive, RequestData, Scope, Send

__all__ = ["GraphQLWebsocketHandler", "dumps"]


def dumps(value: JSONValue) -> str:
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
        #: The per-message methods a subclass overrides, found once (none: the socket's path).
        self._seams = self._find_seams()

    def _find_seams(self) -> Seams:
        """Which of this handler's Ariadne methods its class overrides, as the socket calls
        them (each subclass maps its own methods)."""
        return Seams()

    def configure(self, engine: Engine, *args: object, **kwargs: object) -> None:
        """Use `engine` (the app's) to prepare, execute and encode operations.

        Ariadne's `http_handler` keyword is accepted and unused: operations run on the engine.
        """
        self._engine = engine

    @abstractmethod
    def _connect(self, now: float) -> Connection:
        """A fresh server `Connection` of this handler's subprotocol, with its options."""

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[object, None, None]:
        """Serve one socket (ASGI `websocket` scope, not yet accepted) until it closes.

        Returns the coroutine that serves it rather than being one: an open socket then keeps
        no frame of this method (a server holds one per socket, most of them idle).
        """
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}.configure(engine) was not called")
        websocket = WebSocket(scope, receive, send)
        if self._custom_handle:
            return self.handle_websocket(websocket)
        return self._serve(websocket, send)

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
        socket = Socket(websocket, send, self.engine, self._connect, hooks, seams=self._seams)
        self._sockets.add(socket)
        try:
            await socket.run(closure)
        finally:
            self._sockets.discard(socket)

    async def get_context_for_request(self, request: HTTPConnection, data: RequestData) -> object:
        """The context of one WebSocket operation; `data` is its payload (as in Ariadne).

        An override is asked once per operation. By default the context comes from the app's
        `context_value` built from the ``connection_init`` params (clew's choice: a callable
        `context_value` receives those as its data, and the default context holds them as
        ``"connection_params"``), not from the operation's payload.
        """
        del data
        params: RequestData = request.scope.get(CONNECTION_PARAMS) or {}
        return await self.engine.context_for(request, params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A handler is an ASGI app too: mount it alone (Starlette `WebSocketRoute`)."""
        await self.handle(scope, receive, send)

    async def shutdown(self) -> None:
        """Close every socket with 1001, after stopping (and closing) all their operations."""
        sockets = tuple(self._sockets)
        if sockets:
            await asyncio.gather(*(socket.shutdown() for socket in sockets))
