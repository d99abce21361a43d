"""`GraphQLWSHandler`: the legacy graphql-ws subprotocol (subscriptions-transport-ws)."""

from __future__ import annotations

from datetime import timedelta

from clew.protocol import Role, Subprotocol
from clew.protocol.websocket import Connection
from clew.server._options import seconds

from ._handlers import GraphQLWebsocketHandler, dumps
from ._hooks import OnComplete, OnConnect, OnDisconnect, OnOperation

__all__ = ["GraphQLWSHandler"]


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
            self.subprotocol, Role.SERVER, now=now, keepalive_interval=self.keepalive, dumps=dumps
        )
