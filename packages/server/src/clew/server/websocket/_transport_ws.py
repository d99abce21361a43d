"""`GraphQLTransportWSHandler`: graphql-transport-ws, with Ariadne's per-message methods.

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
from ._seams import ClientContext, SeamHost, Seams, overrides, socket_of

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from clew.server._subscription import SubscriptionStream

__all__ = ["GraphQLTransportWSHandler"]


class GraphQLTransportWSHandler(GraphQLWebsocketHandler):
    """Serves `graphql-transport-ws`: every rule comes from `clew.protocol`.

    - `connection_init_wait_timeout`: seconds a client has to send `connection_init` before
      the socket closes with 4408 (None waits forever).
    - `ping_interval`: seconds between server `ping`s once acknowledged (None sends none);
      `pong_timeout`: seconds to wait for the `pong` before closing with 4408.
    - `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to close
      with 4403; an unexpected exception closes with 4500 and is logged. Any other return
      value is kept in ``websocket.scope["connection_result"]`` (and the payload in
      ``websocket.scope["connection_params"]``); the default context carries both too.
    - `on_disconnect(websocket)`, `on_operation(websocket, operation)`,
      `on_complete(websocket, operation)`: see `clew.server.websocket`.

    Ariadne's methods below are override seams: a subclass's override is called at that step,
    and ``super()`` does what clew does without it. Methods not overridden cost nothing.
    """

    subprotocol = Subprotocol.GRAPHQL_TRANSPORT_WS

    def __init__(
        self,
        on_connect: OnConnect | None = None,
        on_disconnect: OnDisconnect | None = None,
        on_operation: OnOperation | None = None,
        on_complete: OnComplete | None = None,
        *,
        connection_init_wait_timeout: float | timedelta | None = 60.0,
        ping_interval: float | timedelta | None = None,
        pong_timeout: float | timedelta | None = None,
    ) -> None:
        super().__init__(on_connect, on_disconnect, on_operation, on_complete)
        # Seconds or a timedelta (Ariadne's type), held as seconds.
        self.connection_init_wait_timeout = seconds(
            connection_init_wait_timeout, "connection_init_wait_timeout"
        )
        self.ping_interval = seconds(ping_interval, "ping_interval")
        self.pong_timeout = seconds(pong_timeout, "pong_timeout")

    def _connect(self, now: float) -> Connection:
        return Connection(
            self.subprotocol,
            Role.SERVER,
            now=now,
            connection_init_timeout=self.connection_init_wait_timeout,
            ping_interval=self.ping_interval,
            pong_timeout=self.pong_timeout,
            dumps=dumps,
        )

    def _find_seams(self) -> Seams:
        def overridden(name: str) -> bool:
            return overrides(self, GraphQLTransportWSHandler, name)

        stop = overridden("stop_websocket_operation")
        return Seams(
            message=self._message if overridden("handle_websocket_message") else None,
            init=self._init if overridden("handle_websocket_connection_init_message") else None,
            operation=self._subscribe if overridden("handle_websocket_subscribe") else None,
            # The default `complete` handling is `stop_websocket_operation`.
            cancel=self._complete
            if stop or overridden("handle_websocket_complete_message")
            else None,
            stop=self._stop if stop else None,
            ping=self._ping if overridden("handle_websocket_ping_message") else None,
            pong=self._pong if overridden("handle_websocket_pong_message") else None,
            closing=self._invalid if overridden("handle_websocket_invalid_type") else None,
            timed_out=self._timed_out if overridden("handle_connection_init_timeout") else None,
            context=self.get_context_for_request
            if overrides(self, GraphQLWebsocketHandler, "get_context_for_request")
            else None,
            observe=self._observe if overridden("observe_async_results") else None,
            on_complete=self.handle_on_complete if overridden("handle_on_complete") else None,
        )

    # -- how the socket calls the overridden methods (Ariadne's arguments) -----------------

    async def _message(self, socket: SeamHost, message: dict[str, object]) -> None:
        await self.handle_websocket_message(socket.websocket, message, socket.client_context)

    async def _init(self, socket: SeamHost, payload: JSONObject | None) -> None:
        message: dict[str, object] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.handle_websocket_connection_init_message(
            socket.websocket, message, socket.client_context
        )

    async def _subscribe(self, socket: SeamHost, operation_id: str, data: SubscribePayload) -> None:
        await self.handle_websocket_subscribe(
            socket.websocket, data, operation_id, socket.client_context
        )

    async def _complete(self, socket: SeamHost, operation_id: str) -> None:
        await self.handle_websocket_complete_message(
            socket.websocket, operation_id, socket.client_context
        )

    async def _stop(self, socket: SeamHost, operation_id: str) -> None:
        await self.stop_websocket_operation(socket.websocket, operation_id, socket.client_context)

    async def _ping(self, socket: SeamHost) -> None:
        await self.handle_websocket_ping_message(socket.websocket, socket.client_context)

    async def _pong(self, socket: SeamHost) -> None:
        await self.handle_websocket_pong_message(socket.websocket, socket.client_context)

    async def _invalid(self, socket: SeamHost, closure: Closure) -> None:
        if closure.code == CloseCode.BAD_REQUEST:  # the frame is not a message it may send
            await self.handle_websocket_invalid_type(socket.websocket)

    async def _timed_out(self, socket: SeamHost, closure: Closure) -> None:
        del closure
        if not socket.init_received:  # else a `pong` came too late: the socket just closes
            await self.handle_connection_init_timeout(socket.websocket, socket.client_context)

    async def _observe(
        self, websocket: WebSocket, operation_id: str, stream: SubscriptionStream
    ) -> None:
        context = socket_of(websocket).client_context
        await self.observe_async_results(websocket, stream, operation_id, context)

    # -- Ariadne's methods: each default is clew's own step --------------------------------

    async def handle_connection_init_timeout(
        self, websocket: WebSocket, client_context: ClientContext
    ) -> None:
        """`connection_init` did not come in time: close with 4408 (the protocol's closure).

        Called when the connection's timer passed `connection_init_wait_timeout` (Ariadne runs
        this method as the timer itself). The connection is over by then: after this returns,
        the socket is closed with 4408 unless the override closed it already.
        """
        await socket_of(websocket).answer()

    async def handle_websocket_message(
        self, websocket: WebSocket, message: dict[str, object], client_context: ClientContext
    ) -> None:
        """One frame from the client, decoded (a frame that is not a JSON object goes to the
        connection directly): hand it to the protocol connection, which calls the methods
        below for what it holds."""
        await socket_of(websocket).feed(message)

    async def handle_websocket_connection_init_message(
        self, websocket: WebSocket, message: dict[str, object], client_context: ClientContext
    ) -> None:
        """`connection_init`: run `on_connect` on ``message["payload"]``, then ack or refuse
        (a second `connection_init` never gets here: the protocol closes 4429)."""
        payload = message.get("payload")
        await socket_of(websocket).accept(cast("JSONObject | None", payload))

    async def handle_websocket_ping_message(
        self, websocket: WebSocket, client_context: ClientContext
    ) -> None:
        """`ping`: answer with the `pong` the protocol prepared."""
        await socket_of(websocket).answer()

    async def handle_websocket_pong_message(
        self, websocket: WebSocket, client_context: ClientContext
    ) -> None:
        """`pong`: nothing to do (the protocol already cleared its pong deadline)."""

    async def handle_websocket_complete_message(
        self, websocket: WebSocket, operation_id: str, client_context: ClientContext
    ) -> None:
        """The client's `complete`: `stop_websocket_operation`."""
        await self.stop_websocket_operation(websocket, operation_id, client_context)

    async def handle_websocket_subscribe(
        self,
        websocket: WebSocket,
        data: SubscribePayload,
        operation_id: str,
        client_context: ClientContext,
    ) -> None:
        """A `subscribe` the protocol accepted (after the ack, with a fresh id): run it,
        within the connection's operation limit."""
        await socket_of(websocket).start(operation_id, data)

    async def handle_websocket_invalid_type(self, websocket: WebSocket) -> None:
        """A frame that is not a valid message: close with 4400 (the protocol's closure).

        The connection is over by then: after this returns, the socket is closed with 4400
        unless the override closed it already.
        """
        await socket_of(websocket).answer()

    async def handle_on_complete(self, websocket: WebSocket, operation: Operation) -> None:
        """An operation `on_operation` saw has ended: run `on_complete` (failures logged)."""
        await socket_of(websocket).operations.completed(operation)

    async def stop_websocket_operation(
        self, websocket: WebSocket, operation_id: str, client_context: ClientContext
    ) -> None:
        """Stop `operation_id` (a client `complete`, or the socket's cleanup): its task is
        cancelled and its subscription closed in the background, then `on_complete` runs."""
        socket_of(websocket).operations.stop(operation_id)

    async def observe_async_results(
        self,
        websocket: WebSocket,
        results_producer: AsyncIterable[object],
        operation_id: str,
        client_context: ClientContext,
    ) -> None:
        """Send each result of a subscription as `next`, then `complete` (`error` when its
        source failed). `results_producer` yields result dicts; an override may pass on
        another async iterable of dicts or `ExecutionResult`s."""
        await socket_of(websocket).operations.observe_id(operation_id, results_producer)
