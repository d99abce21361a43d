"""Connection states and the operation-id registry that both subprotocols' state machines share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum

__all__ = ["ConnectionState", "OperationRegistry", "OperationState"]


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


class OperationState(Enum):
    """Where one operation id is in its life (the legacy protocol's `stop` needs two steps)."""

    #: The operation runs: results may flow for it.
    RUNNING = "running"
    #: Legacy `stop` passed: no more `data`, but the server may still end it with `complete`.
    STOPPING = "stopping"


class OperationRegistry:
    """The ids of the operations that are running on one connection.

    An id is reserved when the operation starts and released when it ends, so it may be reused
    afterwards (graphql-transport-ws: "an id may be reused once its operation completes").
    Lives on the connection object: there is no registry shared between connections.
    """

    __slots__ = ("_active",)

    def __init__(self) -> None:
        self._active: dict[str, OperationState] = {}

    @property
    def states(self) -> Mapping[str, OperationState]:
        """Each running or stopping id and its state, read-only: the same live mapping for the
        registry's whole life, so a hot path may keep it and look ids up without a call."""
        return self._active

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._active

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._active))

    def __len__(self) -> int:
        return len(self._active)

    def reserve(self, operation_id: str) -> None:
        """Mark `operation_id` as running; the caller has checked whether it was free."""
        self._active[operation_id] = OperationState.RUNNING

    def state_of(self, operation_id: str) -> OperationState | None:
        """The state of `operation_id`, or None when no operation has it."""
        return self._active.get(operation_id)

    def stop(self, operation_id: str) -> bool:
        """Move a running `operation_id` to STOPPING; False when it was not running."""
        if self._active.get(operation_id) is OperationState.RUNNING:
            self._active[operation_id] = OperationState.STOPPING
            return True
        return False

    def release(self, operation_id: str) -> bool:
        """End `operation_id`; False when it was not running (a late or unknown id)."""
        return self._active.pop(operation_id, None) is not None

    def clear(self) -> None:
        """Forget every operation: the connection is gone."""
        self._active.clear()
