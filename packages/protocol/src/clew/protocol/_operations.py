"""Connection states and the operation-id registry that both subprotocols' state machines share."""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum

__all__ = ["ConnectionState", "OperationRegistry"]


class ConnectionState(Enum):
    """Where a connection is in its life; one value describes both ends (graphql-ws `Context`)."""

    #: The socket is open and no `connection_init` has been sent or received yet.
    AWAITING_INIT = "awaiting_init"
    #: `connection_init` went out (client) or came in (server); the ack has not yet passed.
    AWAITING_ACK = "awaiting_ack"
    #: `connection_ack` passed: operations may run.
    ACKNOWLEDGED = "acknowledged"
    #: A close was decided (protocol error, rejection, timeout, terminate); nothing more is sent.
    CLOSING = "closing"
    #: The transport reported the socket closed.
    CLOSED = "closed"


class OperationRegistry:
    """The ids of the operations that are running on one connection.

    An id is reserved when the operation starts and released when it ends, so it may be reused
    afterwards (graphql-transport-ws: "an id may be reused once its operation completes").
    Lives on the connection object: there is no registry shared between connections.
    """

    __slots__ = ("_active",)

    def __init__(self) -> None:
        self._active: set[str] = set()

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._active

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._active))

    def __len__(self) -> int:
        return len(self._active)

    def reserve(self, operation_id: str) -> None:
        """Mark `operation_id` as running; the caller has checked it is free."""
        self._active.add(operation_id)

    def release(self, operation_id: str) -> bool:
        """End `operation_id`; False when it was not running (a late or unknown id)."""
        if operation_id in self._active:
            self._active.remove(operation_id)
            return True
        return False

    def clear(self) -> None:
        """Forget every operation: the connection is gone."""
        self._active.clear()
