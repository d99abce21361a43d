"""`GraphQLTransportWSHandler`: the graphql-transport-ws subprotocol (graphql-ws library) served."""

from __future__ import annotations

from typing import final

from clew.protocol import graphql_transport_ws as tws
from clew.protocol._codes import CloseCode
from clew.protocol._negotiation import Subprotocol
from clew.protocol._types import FormattedError, Role

from ._dialect import Dialect, Hooks, orjson_dumps
from ._hooks import OnComplete, OnConnect, OnDisconnect, OnOperation
from ._session import SessionHandler

__all__ = ["GraphQLTransportWSHandler"]


def _error(operation_id: str, errors: list[FormattedError]) -> tws.Message:
    return tws.Error(id=operation_id, payload=errors)


def _complete(operation_id: str) -> tws.Message:
    return tws.Complete(id=operation_id)


def _ack() -> tuple[tws.Message, ...]:
    return (tws.ConnectionAck(),)


def _pong() -> tws.Message:
    return tws.Pong()


@final
class GraphQLTransportWSHandler(SessionHandler[tws.Message]):
    """Serves `graphql-transport-ws`: every rule comes from `clew.protocol.graphql_transport_ws`.

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
        connection_init_wait_timeout: float | None = 60.0,
        ping_interval: float | None = None,
        pong_timeout: float | None = None,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
    ) -> None:
        super().__init__(
            Hooks(
                on_connect=on_connect,
                on_disconnect=on_disconnect,
                on_operation=on_operation,
                on_complete=on_complete,
            )
        )
        self.connection_init_wait_timeout = connection_init_wait_timeout
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout

    def _connect(self, now: float) -> tws.Connection:
        return tws.Connection(
            Role.SERVER,
            now=now,
            connection_init_timeout=self.connection_init_wait_timeout,
            ping_interval=self.ping_interval,
            pong_timeout=self.pong_timeout,
            dumps=orjson_dumps,
        )

    def _dialect(self) -> Dialect[tws.Message]:
        return Dialect(
            subprotocol=self.subprotocol,
            connect=self._connect,
            ack=_ack,
            next=tws.Next,
            error=_error,
            complete=_complete,
            pong=_pong,
            not_acceptable=CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
            too_large=CloseCode.BAD_REQUEST,
            internal_error=CloseCode.INTERNAL_SERVER_ERROR,
        )
