"""Choosing the GraphQL WebSocket subprotocol from a client's `Sec-WebSocket-Protocol` offer."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["Subprotocol", "select_subprotocol"]


class Subprotocol(StrEnum):
    """The two GraphQL-over-WebSocket subprotocols, by their registered names."""

    #: The graphql-ws library's protocol (GraphQL over WebSocket RFC); preferred.
    GRAPHQL_TRANSPORT_WS = "graphql-transport-ws"
    #: The legacy subscriptions-transport-ws protocol.
    GRAPHQL_WS = "graphql-ws"


#: Preference order when a client offers both: the maintained protocol first.
_PREFERENCE = (Subprotocol.GRAPHQL_TRANSPORT_WS, Subprotocol.GRAPHQL_WS)


def select_subprotocol(
    offered: Iterable[str], supported: Iterable[Subprotocol] = _PREFERENCE
) -> Subprotocol | None:
    """The subprotocol to accept, or None when nothing offered is supported.

    A server only ever selects a subprotocol the client offered; on None it should refuse the
    handshake (or accept and close with 4406 `SUBPROTOCOL_NOT_ACCEPTABLE`). `offered` may hold
    raw header values such as ``"graphql-ws, graphql-transport-ws"``.
    """
    names = {name.strip() for value in offered for name in value.split(",")}
    for subprotocol in _PREFERENCE:
        if subprotocol in supported and subprotocol.value in names:
            return subprotocol
    return None
