"""A client `Connection` wired to a server `Connection`, as h11's `tests/helpers.py` does.

One pair class serves both subprotocols: it is given the subprotocol's module and uses that
module's `Connection`, `parse`, `ConnectionInit` and `ConnectionAck`.

Every frame one side writes is handed to the other side's `receive()`, and the pair checks that
the receiver sees exactly the message that was sent, so each test exercises both state machines
and the wire format at once.
"""

from __future__ import annotations

from types import ModuleType

from clew.protocol import ConnectionState, Role, graphql_transport_ws
from clew.protocol.graphql_transport_ws import Connection, Message, Subscribe

__all__ = ["ConnectionPair", "subscribe"]


def subscribe(operation_id: str, query: str = "{ hello }") -> Subscribe:
    """A `subscribe` message with a minimal valid payload."""
    return Subscribe(id=operation_id, payload={"query": query})


class ConnectionPair:
    """Two connections, one per role, that talk through in-memory frames."""

    def __init__(
        self,
        protocol: ModuleType = graphql_transport_ws,
        *,
        now: float = 0.0,
        **options: float,
    ) -> None:
        self.protocol = protocol
        self.client = protocol.Connection(Role.CLIENT, now=now, **options)
        self.server = protocol.Connection(Role.SERVER, now=now, **options)
        #: Every frame that crossed the pair, as (sender, frame), in order.
        self.wire: list[tuple[Role, str]] = []

    def conn(self, role: Role) -> Connection:
        """The connection that speaks for `role`."""
        return self.client if role is Role.CLIENT else self.server

    def peer(self, role: Role) -> Connection:
        """The connection on the other end from `role`."""
        return self.server if role is Role.CLIENT else self.client

    def send(self, sender: Role, message: Message) -> list[Message]:
        """`sender` sends `message`; returns what the peer's `receive()` produced."""
        frame = self.conn(sender).send(message)
        assert self.protocol.parse(frame) == message
        return self.deliver(sender, frame)

    def deliver(self, sender: Role, frame: str) -> list[Message]:
        """Hand one raw frame written by `sender` to the peer."""
        self.wire.append((sender, frame))
        return self.peer(sender).receive(frame)

    def exchange(self, sender: Role, message: Message) -> None:
        """Send `message` and assert the peer sees exactly it."""
        assert self.send(sender, message) == [message]

    def handshake(self, init: Message | None = None, ack: Message | None = None) -> None:
        """`connection_init` then `connection_ack`: both sides end up ACKNOWLEDGED."""
        self.exchange(Role.CLIENT, init or self.protocol.ConnectionInit())
        assert self.client.state is ConnectionState.AWAITING_ACK
        assert self.server.state is ConnectionState.AWAITING_ACK
        self.exchange(Role.SERVER, ack or self.protocol.ConnectionAck())
        assert self.client.state is ConnectionState.ACKNOWLEDGED
        assert self.server.state is ConnectionState.ACKNOWLEDGED
