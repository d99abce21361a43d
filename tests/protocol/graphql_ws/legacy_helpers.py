"""The shared `ConnectionPair` (tests/protocol/helpers.py) speaking the legacy subprotocol."""

from __future__ import annotations

from helpers import ConnectionPair

from clew.protocol import graphql_ws
from clew.protocol.graphql_ws import Start

__all__ = ["LegacyPair", "start"]


def start(operation_id: str, query: str = "{ hello }") -> Start:
    """A `start` message with a minimal valid payload."""
    return Start(id=operation_id, payload={"query": query})


class LegacyPair(ConnectionPair):
    """Two legacy connections, one per role, that talk through in-memory frames."""

    def __init__(self, *, now: float = 0.0, **options: float) -> None:
        super().__init__(graphql_ws, now=now, **options)
