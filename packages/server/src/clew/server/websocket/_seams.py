"""Ariadne's per-message WebSocket methods as the socket sees them: overridden, or not at all.

A handler finds once, when it is built, which of its Ariadne methods a subclass overrides and
hands the socket a `Seams`: one subprotocol-neutral callable per step the socket takes (a frame
decoded, `connection_init`, an operation requested or cancelled, a ping, ...), or None where
the method is not overridden. The socket then takes its own path, with no extra call; the
methods' default implementations call back into that same path (`socket_of(websocket)`), so
``super().method(...)`` in an override is the normal behaviour.

`ClientContext` and `OperationsView` are what Ariadne's methods receive as `client_context`
and (legacy) `operations`: read-only views of the socket's state.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Final, final

import orjson

from clew.protocol import (
    Closure,
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    SubscribePayload,
)
from clew.protocol import websocket as ws

from ._hooks import Operation

if TYPE_CHECKING:
    import logging

    from graphql import DocumentNode
    from starlette.websockets import WebSocket

    from clew.server._subscription import Relay, SubscriptionStream

    from ._operations import Operations
    from ._socket import Socket

__all__ = [
    "ClientContext",
    "ForeignStream",
    "OperationsView",
    "SeamHost",
    "Seams",
    "attach",
    "json_object",
    "logged",
    "overrides",
    "socket_of",
    "stop_each",
]

#: Where a socket leaves itself in its WebSocket's scope, for the methods' defaults.
_SOCKET_KEY: Final = "clew.socket"


def socket_of(websocket: WebSocket) -> Socket:
    """The `Socket` serving `websocket`: what a default method acts on."""
    socket: Socket = websocket.scope[_SOCKET_KEY]
    return socket


def attach(websocket: WebSocket, socket: Socket) -> None:
    """Make `socket_of(websocket)` find `socket`."""
    websocket.scope[_SOCKET_KEY] = socket


@final
class OperationsView(Mapping[str, Operation]):
    """The socket's operations by id, as Ariadne's `operations` (read-only).

    An operation appears once it is valid and about to run (`on_operation` sees it then) and
    leaves when it has ended.
    """

    __slots__ = ("_operations",)

    def __init__(self, operations: Operations) -> None:
        self._operations = operations

    def __getitem__(self, operation_id: str) -> Operation:
        operation = self._operations.operation(operation_id)
        if operation is None:
            raise KeyError(operation_id)
        return operation

    def __iter__(self) -> Iterator[str]:
        return iter(
            [i for i in self._operations.ids() if self._operations.operation(i) is not None]
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)


@final
class ClientContext:
    """Ariadne's `ClientContext` of one graphql-transport-ws socket, read from the socket.

    `connection_init_received`, `connection_acknowledged`, `operations` (an `OperationsView`)
    and `websocket`, as Ariadne's; the tasks Ariadne keeps in it are the socket's own here.
    """

    __slots__ = ("_socket", "operations", "websocket")

    def __init__(self, socket: SeamHost, operations: OperationsView) -> None:
        self._socket = socket
        self.websocket = socket.websocket
        self.operations = operations

    @property
    def connection_init_received(self) -> bool:
        """Whether the client sent `connection_init`."""
        return self._socket.init_received

    @property
    def connection_acknowledged(self) -> bool:
        """Whether `connection_ack` was sent (until the socket closes)."""
        return self._socket.acknowledged


@final
class ForeignStream:
    """Results an override handed on that are not clew's stream, read as one.

    Each item is a result dict, or an `ExecutionResult` (sent as its ``formatted``). The
    socket's stream loop reads `failed` (the source raised): a foreign iterable never sets
    it; its exceptions end the operation with a masked `error` instead.
    """

    __slots__ = ("_iterator", "failed")

    def __init__(self, results: AsyncIterable[object]) -> None:
        self._iterator = aiter(results)
        self.failed = False

    def __aiter__(self) -> ForeignStream:
        return self

    def relay(self, _relay: Relay) -> ForeignStream:
        """Its results, every one yielded: the socket decides on each (no fast path)."""
        return self

    async def __anext__(self) -> FormattedExecutionResult:
        result = await anext(self._iterator)
        if isinstance(result, dict):
            return result  # type: ignore[return-value]
        formatted: FormattedExecutionResult = result.formatted  # type: ignore[attr-defined]
        return formatted

    async def aclose(self) -> None:
        """Close the wrapped results, as the operation's cleanup closes every stream."""
        close = getattr(self._iterator, "aclose", None)
        if close is not None:
            await close()


class SeamHost:
    """The base of a `Socket`: what overridden methods and their defaults act on (Ariadne's
    arguments, and the socket's own steps they fall back to)."""

    # The slots this base assigns; the socket's others are the subclasses'.
    __slots__ = ("_closing", "_context", "_pending")
    #: Set once the socket is closing: nothing more is written.
    _closing: bool
    #: Ariadne's `client_context`, made on first use.
    _context: ClientContext | None
    #: What the default of the overridden method being called answers with (the `pong`, the
    #: closure the connection asked for).
    _pending: str | Closure | None

    if TYPE_CHECKING:
        _conn: ws.Connection | None
        _websocket: WebSocket
        _operations: Operations
        _logger: logging.Logger
        init_received: bool

        async def _dispatch(self, conn: ws.Connection, event: ws.Event) -> None: ...

        async def _write(self, frame: str) -> None: ...

        async def _close(self, closure: Closure) -> None: ...

        async def error(self, operation_id: str, errors: list[FormattedError]) -> None: ...

    async def start(self, operation_id: str, payload: SubscribePayload) -> None:
        """Run an operation the connection accepted, within the socket's operation limit.

        What `handle_websocket_subscribe` (legacy: `process_single_message`) does by default.
        """
        if self._closing:
            return
        refusal = self._operations.start(operation_id, payload)
        if refusal is not None:
            await self.error(operation_id, [{"message": refusal}])

    async def feed(self, message: Mapping[str, object]) -> None:
        """Give one decoded frame to the connection and act on its events.

        What `handle_websocket_message` does by default: the frame goes through the same
        `Connection.receive` and `_dispatch` as on the socket's own path.
        """
        conn = self._conn
        if conn is not None and not self._closing:
            for event in conn.receive(orjson.dumps(message)):
                await self._dispatch(conn, event)

    @property
    def websocket(self) -> WebSocket:
        """The Starlette `WebSocket` this socket serves."""
        return self._websocket

    @property
    def operations(self) -> Operations:
        """The socket's running operations."""
        return self._operations

    @property
    def acknowledged(self) -> bool:
        """Whether `connection_ack` was sent and the socket is still open."""
        return self._conn is not None and self._conn.acknowledged

    @property
    def client_context(self) -> ClientContext:
        """Ariadne's `client_context` (and legacy `operations`) of this socket."""
        if self._context is None:
            self._context = ClientContext(self, OperationsView(self._operations))
        return self._context

    async def answer(self) -> None:
        """Do what the connection asked for the event being handled: write its reply (the
        `pong`), or close as it said. What the matching methods do by default."""
        pending = self._pending
        if isinstance(pending, str):
            await self._write(pending)
        elif pending is not None:
            await self._close(pending)

    async def _close_through(
        self, seam: Callable[[SeamHost, Closure], Awaitable[None]], closure: Closure
    ) -> None:
        """Let an overridden method act on a connection that is over; then it closes (if the
        method has not closed it already): the protocol ended it."""
        self._pending = closure
        try:
            await seam(self, closure)
        except Exception:
            self._logger.exception("The WebSocket handler failed")
        await self._close(closure)


#: One step of the socket, as an overridden method of the handler takes it.
_SocketStep = Callable[["SeamHost"], Awaitable[None]]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Seams:
    """The overridden methods of one handler, each as the socket calls it; None = its own path.

    Which Ariadne method each field stands for differs by subprotocol (see the handlers).
    """

    #: Each frame that decodes to a JSON object (`handle_websocket_message`).
    message: Callable[[SeamHost, dict[str, object]], Awaitable[None]] | None = None
    #: `connection_init` arrived, with its payload.
    init: Callable[[SeamHost, JSONObject | None], Awaitable[None]] | None = None
    #: An operation the protocol accepted: run it (`subscribe`; legacy `start`).
    operation: Callable[[SeamHost, str, SubscribePayload], Awaitable[None]] | None = None
    #: The client ended an operation (`complete`; legacy `stop`, or a `start` replacing it).
    cancel: Callable[[SeamHost, str], Awaitable[None]] | None = None
    #: The socket's cleanup stops each operation still running.
    stop: Callable[[SeamHost, str], Awaitable[None]] | None = None
    ping: _SocketStep | None = None
    pong: _SocketStep | None = None
    #: A frame made the connection close (e.g. an invalid message, legacy `connection_terminate`).
    closing: Callable[[SeamHost, Closure], Awaitable[None]] | None = None
    #: A deadline passed (e.g. `connection_init` did not come in time).
    timed_out: Callable[[SeamHost, Closure], Awaitable[None]] | None = None
    #: Run as a task once the connection is acknowledged, cancelled at the cleanup.
    keepalive: Callable[[WebSocket], Awaitable[None]] | None = None
    #: The context of one operation, from its payload (`get_context_for_request`).
    context: Callable[[WebSocket, SubscribePayload], Awaitable[object]] | None = None
    #: A valid subscription, with its context and document: start and serve it.
    subscription: (
        Callable[[WebSocket, str, SubscribePayload, object, DocumentNode], Awaitable[None]] | None
    ) = None
    #: Send a subscription's results, then `complete`.
    observe: Callable[[WebSocket, str, SubscriptionStream], Awaitable[None]] | None = None
    #: An operation `on_operation` saw has ended: run `on_complete`.
    on_complete: Callable[[WebSocket, Operation], Awaitable[None]] | None = None

    @property
    def any(self) -> bool:
        """Whether anything is overridden at all."""
        return any(getattr(self, field.name) is not None for field in fields(self))


def overrides(handler: object, base: type, name: str) -> bool:
    """Whether `handler`'s class overrides `base`'s method `name`."""
    return getattr(type(handler), name) is not getattr(base, name)


def json_object(data: str | bytes) -> dict[str, object] | None:
    """`data` decoded, when it is a JSON object (what `handle_websocket_message` is given)."""
    try:
        decoded = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


async def logged(work: Awaitable[None], logger: logging.Logger, name: str) -> None:
    """Run an overridden method as a task of its own: its failure is logged, not lost."""
    try:
        await work
    except Exception:
        logger.exception("The WebSocket %s method failed", name)


async def stop_each(
    host: SeamHost, stop: Callable[[SeamHost, str], Awaitable[None]], operation_ids: Iterable[str]
) -> None:
    """The cleanup's overridden `stop_websocket_operation`, for each operation still running."""
    for operation_id in operation_ids:
        try:
            await stop(host, operation_id)
        except Exception:
            host._logger.exception("The WebSocket stop_websocket_operation method failed")
