"""What differs between the two subprotocols, as data the one `Session` driver is given.

A `Dialect` names the server's messages of one subprotocol and its close codes; the
`ServerConnection` protocol is the part of either sans-IO `Connection` the driver uses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, final

import orjson

from clew.protocol._negotiation import Subprotocol
from clew.protocol._types import (
    Closure,
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    JSONValue,
)

from ._hooks import OnComplete, OnConnect, OnDisconnect, OnOperation

__all__ = ["Dialect", "Hooks", "ResultMessage", "ServerConnection", "orjson_dumps"]

M = TypeVar("M")
M_co = TypeVar("M_co", covariant=True)
M_contra = TypeVar("M_contra", contravariant=True)


def orjson_dumps(value: JSONValue) -> str:
    """The fast JSON encoder handed to every `Connection` (orjson returns bytes)."""
    return orjson.dumps(value).decode()


class ServerConnection(Protocol[M_contra]):
    """The part of a subprotocol's sans-IO `Connection` the driver uses (both have it)."""

    @property
    def operations(self) -> Collection[str]: ...

    def receive(self, data: str | bytes) -> Sequence[object]: ...

    def send(self, message: M_contra) -> str: ...

    def reject(self, payload: JSONObject | None = None) -> Closure: ...

    def connection_closed(self) -> tuple[str, ...]: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> list[str]: ...


class ResultMessage(Protocol[M_co]):
    """Builds the message carrying one result of an operation."""

    def __call__(self, *, id: str, payload: FormattedExecutionResult) -> M_co: ...


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect(Generic[M]):
    """How one subprotocol names the server's messages; everything else is the `Connection`'s."""

    subprotocol: Subprotocol
    #: A fresh `Connection(Role.SERVER, now=..., dumps=...)` with the handler's timer options.
    connect: Callable[[float], ServerConnection[M]]
    #: What accepting `connection_init` sends: the ack (legacy: and the first `ka`).
    ack: Callable[[], Sequence[M]]
    #: The message carrying one result (the class itself: `next`, legacy `data`).
    next: ResultMessage[M]
    error: Callable[[str, list[FormattedError]], M]
    complete: Callable[[str], M]
    #: The answer to a client `ping` (graphql-transport-ws only).
    pong: Callable[[], M] | None
    #: Close code when the client did not offer this subprotocol.
    not_acceptable: int
    #: Close code for a frame over `Limits.max_websocket_message_bytes`.
    too_large: int
    #: Close code for an unexpected server failure (such as `on_connect` raising).
    internal_error: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Hooks:
    """The four optional callbacks of a handler (each sync or async)."""

    on_connect: OnConnect | None = None
    on_disconnect: OnDisconnect | None = None
    on_operation: OnOperation | None = None
    on_complete: OnComplete | None = None
