"""`GraphQLWSHandler`: legacy graphql-ws (subscriptions-transport-ws), with Ariadne's methods.

Each of Ariadne's methods is an override seam at the step it names; its default is the step
the socket takes when it is not overridden (`Seams`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from clew.protocol import CloseCode, Closure, JSONObject, Role, Subprotocol, SubscribePayload
from clew.protocol.websocket import Connection
from clew.server._options import seconds

from ._handlers import GraphQLWebsocketHandler, dumps
from ._hooks import OnComplete, OnConnect, OnDisconnect, OnOperation, Operation
from ._seams import OperationsView, SeamHost, Seams, overrides, socket_of

if TYPE_CHECKING:
    from graphql import DocumentNode
    from starlette.websockets import WebSocket

    from clew.server._subscription import SubscriptionStream

__all__ = ["GraphQLWSHandler"]


class GraphQLWSHandler(GraphQLWebsocketHandler):
    """Serves the legacy `graphql-ws`: every rule comes from `clew.protocol`.

    - `keepalive`: seconds between `ka` frames, the first right after `connection_ack`
      (None sends none; the reference client only starts its timeout after the first `ka`).
    - `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to answer
      `connection_error` and close with 1011; an unexpected exception closes with 1011 and is
      logged. Other hooks and the connection's params and result: see `clew.server.websocket`.

    `start` before the ack is answered with `error` for its id and never runs; a `start`
    reusing a running id replaces that operation; `stop` is answered with `complete` at once
    while the operation's stream closes in the background; unknown or malformed frames get an
    `error` or `connection_error` reply and the socket stays open; `connection_terminate`
    closes with 1000.

    Ariadne's methods below are override seams: a subclass's override is called at that step,
    and ``super()`` does what clew does without it. Methods not overridden cost nothing.
    """

    subprotocol = Subprotocol.GRAPHQL_WS

    def __init__(
        self,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
        *,
        keepalive: float | timedelta | None = None,
    ) -> None:
        super().__init__(on_connect, on_disconnect, on_operation, on_complete)
        self.keepalive = seconds(keepalive, "keepalive")  # seconds or a timedelta (Ariadne's)

    def _connect(self, now: float) -> Connection:
        return Connection(
            self.subprotocol, Role.SERVER, now=now, keepalive_interval=self.keepalive, dumps=dumps
        )

    def _find_seams(self) -> Seams:
        def overridden(name: str) -> bool:
            return overrides(self, GraphQLWSHandler, name)

        stop = overridden("stop_websocket_operation")
        return Seams(
            message=self._message if overridden("handle_websocket_message") else None,
            init=self._init if overridden("handle_websocket_connection_init_message") else None,
            operation=self._start if overridden("process_single_message") else None,
            cancel=self._stop if stop else None,
            stop=self._stop if stop else None,
            closing=self._terminate
            if overridden("handle_websocket_connection_terminate_message")
            else None,
            keepalive=self.keep_websocket_alive if overridden("keep_websocket_alive") else None,
            context=self.get_context_for_request
            if overrides(self, GraphQLWebsocketHandler, "get_context_for_request")
            else None,
            subscription=self._subscription if overridden("start_websocket_operation") else None,
            observe=self._observe if overridden("observe_async_results") else None,
        )

    # -- how the socket calls the overridden methods (Ariadne's arguments) -----------------

    async def _message(self, socket: SeamHost, message: dict[str, object]) -> None:
        await self.handle_websocket_message(
            socket.websocket, message, socket.client_context.operations
        )

    async def _init(self, socket: SeamHost, payload: JSONObject | None) -> None:
        message: dict[str, object] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.handle_websocket_connection_init_message(socket.websocket, message)

    async def _start(self, socket: SeamHost, operation_id: str, data: SubscribePayload) -> None:
        await self.process_single_message(
            socket.websocket, data, operation_id, socket.client_context.operations
        )

    async def _stop(self, socket: SeamHost, operation_id: str) -> None:
        operation = socket.client_context.operations.get(operation_id)
        if operation is None:  # not started yet (on_operation has not seen it): just stop it
            socket.operations.stop(operation_id)
        else:
            await self.stop_websocket_operation(socket.websocket, operation)

    async def _terminate(self, socket: SeamHost, closure: Closure) -> None:
        if closure.code == CloseCode.NORMAL_CLOSURE:  # the client's connection_terminate
            await self.handle_websocket_connection_terminate_message(socket.websocket)

    async def _subscription(
        self,
        websocket: WebSocket,
        operation_id: str,
        data: SubscribePayload,
        context_value: object,
        query_document: DocumentNode,
    ) -> None:
        operations = socket_of(websocket).client_context.operations
        await self.start_websocket_operation(
            websocket, data, context_value, query_document, operation_id, operations
        )

    async def _observe(
        self, websocket: WebSocket, operation_id: str, stream: SubscriptionStream
    ) -> None:
        await self.observe_async_results(websocket, stream, operation_id)

    # -- Ariadne's methods: each default is clew's own step --------------------------------

    async def handle_websocket_message(
        self, websocket: WebSocket, message: dict[str, object], operations: OperationsView
    ) -> None:
        """One frame from the client, decoded (a frame that is not a JSON object goes to the
        connection directly): hand it to the protocol connection, which calls the methods
        below for what it holds."""
        await socket_of(websocket).feed(message)

    async def process_single_message(
        self,
        websocket: WebSocket,
        data: SubscribePayload,
        operation_id: str,
        operations: OperationsView,
    ) -> None:
        """A `start` the connection accepted (`data`: its payload; after the ack): run it,
        within the connection's operation limit."""
        await socket_of(websocket).start(operation_id, data)

    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, object]
    ) -> None:
        """`connection_init`: run `on_connect` on ``message["payload"]``, then `connection_ack`
        (and the first `ka`), or `connection_error` and close."""
        payload = message.get("payload")
        await socket_of(websocket).accept(cast("JSONObject | None", payload))

    async def handle_websocket_connection_terminate_message(self, websocket: WebSocket) -> None:
        """`connection_terminate`: close with 1000 (the protocol's closure).

        The connection is over by then: after this returns, the socket is closed with 1000
        unless the override closed it already.
        """
        await socket_of(websocket).answer()

    async def keep_websocket_alive(self, websocket: WebSocket) -> None:
        """Keep the socket alive once acknowledged: an override runs as a task from the ack
        until the socket closes. The default returns at once: the connection's own `ka`
        timer sends `ka` every `keepalive` seconds (set `keepalive=None` to send your own)."""

    async def start_websocket_operation(  # noqa: PLR0917 - Ariadne's signature
        self,
        websocket: WebSocket,
        data: SubscribePayload,
        context_value: object,
        query_document: DocumentNode,
        operation_id: str,
        operations: OperationsView,
    ) -> None:
        """Start a valid subscription (after `on_operation`) with this context and document,
        send its results and `complete` (a document other than the prepared one is
        validated first)."""
        await socket_of(websocket).operations.subscribe_id(
            operation_id, data, context_value, query_document
        )

    async def stop_websocket_operation(self, websocket: WebSocket, operation: Operation) -> None:
        """Stop `operation` (a client `stop`, a `start` reusing its id, or the socket's
        cleanup): its task is cancelled and its subscription closed in the background, then
        `on_complete` runs."""
        socket_of(websocket).operations.stop(operation.id)

    async def observe_async_results(
        self, websocket: WebSocket, results: AsyncIterable[object], operation_id: str
    ) -> None:
        """Send each result of a subscription as `data`, then `complete` (`error` when its
        source failed). `results` yields result dicts; an override may pass on another async
        iterable of dicts or `ExecutionResult`s."""
        await socket_of(websocket).operations.observe_id(operation_id, results)
