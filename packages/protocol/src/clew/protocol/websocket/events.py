"""What a GraphQL WebSocket connection reports, the same for both subprotocols.

`Connection.receive()` returns these, whichever subprotocol the socket speaks: a host matches
them once, ending in `assert_never`, and never asks which subprotocol it is serving. An event
that needs an answer carries the answer ready-made (`reply`): the core never writes on its own,
but it decides every reply (wsproto's `Ping.response()`). Do not subclass these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias, final

from clew.protocol._types import (
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    SubscribePayload,
)

__all__ = [
    "Acknowledged",
    "CloseRequired",
    "Event",
    "InitRequested",
    "OperationCancelled",
    "OperationCompleted",
    "OperationFailed",
    "OperationRequested",
    "PingReceived",
    "PongReceived",
    "Refused",
    "Rejected",
    "ResultReceived",
    "Unencodable",
]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class InitRequested:
    """Server: the client sent `connection_init`; answer with `accept()` or `reject()`.

    Decide before feeding the next frame: a legacy client writes `start` right behind it.
    """

    payload: JSONObject | None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledged:
    """Client: the server accepted `connection_init`; operations may start."""

    payload: JSONObject | None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Client: the legacy server refused `connection_init` (`connection_error`).

    Close the socket normally and report `reason`; graphql-transport-ws refuses by closing
    with 4403 instead, which the transport reports.
    """

    payload: JSONObject | None
    reason: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OperationRequested:
    """Server: run `payload` under `id`; reserve the id before any `await`."""

    id: str
    payload: SubscribePayload


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OperationCancelled:
    """Server: the client no longer wants `id`: end its work silently, then write `reply`.

    `reply` is the legacy `complete` that answers `stop` (None under graphql-transport-ws, and
    when a legacy `start` replaces a running id: an `OperationRequested` for it follows).
    The id is released already: nothing more may be sent for that operation.
    """

    id: str
    reply: str | None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class ResultReceived:
    """Client: one result of `id` (`next`, legacy `data`)."""

    id: str
    payload: FormattedExecutionResult


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OperationFailed:
    """Client: the server ended `id` with `errors`; no `complete` follows."""

    id: str
    errors: list[FormattedError]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class OperationCompleted:
    """Client: the server ended `id` normally."""

    id: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PingReceived:
    """Either side: the peer sent `ping`; write `reply` (the `pong`) promptly."""

    payload: JSONObject | None
    reply: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PongReceived:
    """Either side: the peer sent `pong` (graphql-transport-ws); nothing to write.

    The connection has already cleared its pong deadline; a host may note the heartbeat.
    """

    payload: JSONObject | None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """Server: a legacy client frame was refused; write `reply`, the socket stays open."""

    reason: str
    reply: str


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CloseRequired:
    """The connection is over: a rule was broken, a deadline passed, or the peer said goodbye.

    Close the socket with `code` and `reason`. `retryable` tells a client whether reconnecting
    could help: False for a peer that broke the protocol, under either subprotocol.
    """

    code: int
    reason: str
    retryable: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Unencodable:
    """A result or error that JSON cannot carry: the operation failed instead, socket usable.

    Write `frame` (the operation's `error`, with a masked message) and log `reason`; the
    operation has ended, so nothing more is sent for it.
    """

    frame: str
    reason: str


#: Everything `Connection.receive()` and `Connection.handle_timer()` may return.
Event: TypeAlias = (
    InitRequested
    | Acknowledged
    | Rejected
    | OperationRequested
    | OperationCancelled
    | ResultReceived
    | OperationFailed
    | OperationCompleted
    | PingReceived
    | PongReceived
    | Refused
    | CloseRequired
)
