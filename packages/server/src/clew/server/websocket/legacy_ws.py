"""`GraphQLWSHandler`: the legacy graphql-ws subprotocol (subscriptions-transport-ws) served."""

from __future__ import annotations

from collections.abc import Sequence
from typing import final

from clew.protocol import graphql_ws as gws
from clew.protocol._codes import CloseCode
from clew.protocol._negotiation import Subprotocol
from clew.protocol._types import FormattedError, Role

from ._dialect import Dialect, Hooks, orjson_dumps
from ._hooks import OnComplete, OnConnect, OnDisconnect, OnOperation
from ._session import SessionHandler

__all__ = ["GraphQLWSHandler"]

#: RFC 6455 §7.4.1: a message too big to process.
_MESSAGE_TOO_BIG = 1009


def _error(operation_id: str, errors: list[FormattedError]) -> gws.Message:
    # The reference server, Ariadne and Strawberry send one error object: the first.
    return gws.Error(id=operation_id, payload=errors[0] if errors else {"message": "Error"})


def _complete(operation_id: str) -> gws.Message:
    return gws.Complete(id=operation_id)


@final
class GraphQLWSHandler(SessionHandler[gws.Message]):
    """Serves the legacy `graphql-ws`: every rule comes from `clew.protocol.graphql_ws`.

    - `keepalive`: seconds between `ka` frames, the first right after `connection_ack`
      (None sends none; the reference client only starts its timeout after the first `ka`).
    - `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to answer
      `connection_error` and close with 1011; an unexpected exception closes with 1011 and is
      logged. Other hooks and the connection's params and result: see `clew.server.websocket`.

    `start` before the ack is answered with `error` for its id and never runs; a `start`
    reusing a running id replaces that operation; `stop` ends the operation (its subscription
    stream closed), then `complete` is sent; unknown or malformed frames get an `error` or
    `connection_error` reply and the socket stays open; `connection_terminate` closes with 1000.
    """

    subprotocol = Subprotocol.GRAPHQL_WS

    def __init__(
        self,
        *,
        keepalive: float | None = None,
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
        self.keepalive = keepalive

    def _connect(self, now: float) -> gws.Connection:
        return gws.Connection(
            Role.SERVER, now=now, keepalive_interval=self.keepalive, dumps=orjson_dumps
        )

    def _ack(self) -> Sequence[gws.Message]:
        if self.keepalive:
            return (gws.ConnectionAck(), gws.Ka())
        return (gws.ConnectionAck(),)

    def _dialect(self) -> Dialect[gws.Message]:
        return Dialect(
            subprotocol=self.subprotocol,
            connect=self._connect,
            ack=self._ack,
            next=gws.Data,
            error=_error,
            complete=_complete,
            pong=None,
            not_acceptable=CloseCode.PROTOCOL_ERROR,
            too_large=_MESSAGE_TOO_BIG,
            internal_error=CloseCode.INTERNAL_ERROR,
        )
