"""A legacy client `Connection` wired to a legacy server `Connection` (h11 `tests/helpers.py`).

Every frame one side writes is handed to the other side's `receive()`, and the pair checks that
the receiver sees exactly the message that was sent, so each test exercises both state machines
and the wire format at once.
"""

from __future__ import annotations

from clew.protocol import ConnectionState, Role
from clew.protocol.graphql_ws import (
    Connection,
    ConnectionAck,
    ConnectionInit,
    Event,
    Message,
    Start,
    parse,
)

__all__ = ["LegacyPair", "start"]


def start(operation_id: str, query: str = "{ hello }") -> Start:
    """A `start` message with a minimal valid payload."""
    return Start(id=operation_id, payload={"query": query})


class LegacyPair:
    """Two legacy connections, one per role, that talk through in-memory frames."""

    def __init__(self, *, now: float = 0.0, **options: float) -> None:
        self.client = Connection(Role.CLIENT, now=now, **options)
        self.server = Connection(Role.SERVER, now=now, **options)
        #: Every frame that crossed the pair, as (sender, frame), in order.
        self.wire: list[tuple[Role, str]] = []

    def conn(self, role: Role) -> Connection:
        """The connection that speaks for `role`."""
        return self.client if role is Role.CLIENT else self.server

    def peer(self, role: Role) -> Connection:
        """The connection on the other end from `role`."""
        return self.server if role is Role.CLIENT else self.client

    def send(self, sender: Role, message: Message) -> list[Event]:
        """`sender` sends `message`; returns what the peer's `receive()` produced."""
        frame = self.conn(sender).send(message)
        assert parse(frame) == message
        return self.deliver(sender, frame)

    def deliver(self, sender: Role, frame: str) -> list[Event]:
        """Hand one raw frame written by `sender` to the peer."""
        self.wire.append((sender, frame))
        return self.peer(sender).receive(frame)

    def exchange(self, sender: Role, message: Message) -> None:
        """Send `message` and assert the peer sees exactly it."""
        assert self.send(sender, message) == [message]

    def handshake(
        self, init: ConnectionInit | None = None, ack: ConnectionAck | None = None
    ) -> None:
        """`connection_init` then `connection_ack`: both sides end up ACKNOWLEDGED."""
        self.exchange(Role.CLIENT, init or ConnectionInit())
        assert self.client.state is ConnectionState.AWAITING_ACK
        assert self.server.state is ConnectionState.AWAITING_ACK
        self.exchange(Role.SERVER, ack or ConnectionAck())
        assert self.client.state is ConnectionState.ACKNOWLEDGED
        assert self.server.state is ConnectionState.ACKNOWLEDGED
