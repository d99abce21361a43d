"""The one driver of a GraphQL WebSocket, whichever subprotocol: frames in, events out, frames back.

A `Socket` reads each frame, feeds it to the neutral `clew.protocol.websocket.Connection`, and
acts on the events it returns in a single `match`; it decides no protocol rule and never asks
which subprotocol it serves. It owns what the protocol core cannot: the socket, one timer task
driving `next_deadline()`/`handle_timer()`, the operation tasks (`Operations`), the hooks, and
the cleanup that runs exactly once however the socket ends (client close, abrupt disconnect,
protocol error, timeout or server shutdown).

An idle acknowledged socket is most sockets a server holds, so it costs only its reader: the
timer task exists only while the connection has a deadline (no keep-alive pings: none after
the acknowledgement), and nothing waits on an event unless a shutdown is waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, assert_never

from starlette.websockets import WebSocket

from clew.protocol import (
    Closure,
    FormattedError,
    FormattedExecutionResult,
)
from clew.protocol import websocket as ws
from clew.server._subscription import Relay

from ._handshake import GONE, Handshake, frame_text
from ._hooks import Hooks, call_hook
from ._operations import Operations
from ._seams import ForeignStream, Seams, attach, json_object, stop_each

if TYPE_CHECKING:
    from clew.server._execution import Engine
    from clew.server._subscription import Stoppable, SubscriptionStream
    from clew.server._types import Send

__all__ = ["Socket"]


class Socket(Handshake):
    """One accepted socket: its `Connection`, timer task, operations and hooks.

    `send` is the ASGI send the socket was opened with: data frames go straight to it, while
    the handshake and the close go through the Starlette `WebSocket`, whose state they move.
    """

    # Slots: a server holds one of these per open socket, most of them idle.
    # (`_closing`, `_context`, `_pending` and `_keepalive` are the base classes' slots.)
    __slots__ = (
        "_armed", "_conn", "_connect", "_done", "_done_waiter", "_engine", "_hooks",
        "_interrupted", "_logger", "_max_bytes", "_operations", "_reader",
        "_rearm", "_seams", "_send", "_timer", "_websocket", "init_received",
    )  # fmt: skip

    def __init__(
        self,
        websocket: WebSocket,
        send: Send,
        engine: Engine,
        connect: Callable[[float], ws.Connection],
        hooks: Hooks,
        *,
        seams: Seams,
    ) -> None:
        self._websocket = websocket
        self._send = send
        self._engine = engine
        self._connect = connect
        self._hooks = hooks
        self._logger = engine.logger
        self._max_bytes = engine.limits.max_websocket_message_bytes
        self._operations = Operations(
            engine,
            websocket,
            self,
            on_operation=hooks.on_operation,
            on_complete=hooks.on_complete,
            seams=seams,
        )
        self._seams = seams
        attach(websocket, self)
        #: Whether `connection_init` arrived (Ariadne's `connection_init_received`).
        self.init_received = False
        self._context = None
        self._pending = None
        self._keepalive = None
        self._closing = False
        self._reader: asyncio.Task[object] | None = None
        self._interrupted = False
        #: The timer task and what wakes it, while the connection has a deadline.
        self._timer: asyncio.Task[None] | None = None
        self._rearm: asyncio.Event | None = None
        self._armed: float | None = None
        #: Set once the cleanup has run; a shutdown waiting for it waits on `_done_waiter`.
        self._done = False
        self._done_waiter: asyncio.Future[None] | None = None
        self._conn: ws.Connection | None = None

    # -- the reader ------------------------------------------------------------------------

    async def run(self, closure: Closure | None) -> None:
        """Accept the socket and serve it until it closes; returns after the cleanup.

        `closure` refuses it instead: the handshake completes without a subprotocol, then
        the close code says why (the client offered none the handler speaks).
        """
        websocket = self._websocket
        try:
            if closure is not None:
                await websocket.accept()
                await websocket.close(closure.code, closure.reason)
                self._finished()
                return
            loop = asyncio.get_running_loop()
            conn = self._conn = self._connect(loop.time())
            await websocket.accept(subprotocol=conn.subprotocol.value)
        except GONE:
            self._finished()
            return
        self._reader = asyncio.current_task()
        self._arm(conn)
        # The read loop is inline, not a method: an open socket then keeps one frame less.
        try:
            receive = self._websocket.receive
            # An overridden `handle_websocket_message` takes each frame that is a JSON object.
            decoded = self._seams.message
            while not self._closing:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return  # websocket.disconnect: the client is gone
                data = frame_text(message)
                if len(data) > self._max_bytes // 4 and self._too_large(data):
                    await self._close(conn.too_large(self._max_bytes))
                    return
                if decoded is not None and (frame := json_object(data)) is not None:
                    await decoded(self, frame)
                else:
                    for event in conn.receive(data):
                        await self._dispatch(conn, event)
                if conn.next_deadline() != self._armed:
                    self._arm(conn)
        except asyncio.CancelledError:
            reader = self._reader
            if not self._interrupted or reader is None or reader.uncancel() > 0:
                raise
        except Exception:  # an overridden handler method failed: 4500 (legacy 1011), logged
            self._logger.exception("The WebSocket handler failed")
            await self._close(conn.internal_error())
        finally:
            self._reader = None
            self._closing = True
            if self._timer is not None:
                self._timer.cancel()
            conn.connection_closed()
            if self._keepalive is not None:
                self._keepalive.cancel()
                await asyncio.gather(self._keepalive, return_exceptions=True)
            if self._seams.stop is not None:
                await stop_each(self, self._seams.stop, self._operations.ids())
            await self._operations.stop_all()
            await call_hook(
                self._hooks.on_disconnect,
                websocket,
                logger=self._logger,
                name="WebSocket on_disconnect",
            )
            self._finished()

    def _too_large(self, data: str | bytes) -> bool:
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
        return size > self._max_bytes

    async def _dispatch(self, conn: ws.Connection, event: ws.Event) -> None:
        """Act on one event of the `Connection`: the whole server side of both subprotocols.

        Where a handler overrides the matching Ariadne method (`Seams`), that method acts.
        """
        seams = self._seams
        match event:
            case ws.InitRequested(payload=payload):
                self.init_received = True
                if seams.init is not None:
                    await seams.init(self, payload)
                else:
                    await self.accept(payload)
            case ws.OperationRequested(id=operation_id, payload=payload):
                if seams.operation is not None:
                    await seams.operation(self, operation_id, payload)
                else:
                    await self.start(operation_id, payload)
            case ws.OperationCancelled(id=operation_id, reply=reply):
                if seams.cancel is not None:
                    await seams.cancel(self, operation_id)
                else:
                    # Not awaited: a generator's slow `finally` must not hold up the socket.
                    self._operations.stop(operation_id)
                if reply is not None:
                    await self._write(reply)
            case ws.PingReceived(reply=reply):
                if seams.ping is not None:
                    self._pending = reply
                    await seams.ping(self)
                else:
                    await self._write(reply)
            case ws.Refused(reply=reply):
                await self._write(reply)
            case ws.PongReceived():
                if seams.pong is not None:
                    await seams.pong(self)
            case ws.CloseRequired(code=code, reason=reason):
                if seams.closing is not None:
                    await self._close_through(seams.closing, Closure(code=code, reason=reason))
                else:
                    await self._close(Closure(code=code, reason=reason))
            case ws.Acknowledged() | ws.Rejected() | ws.ResultReceived() | ws.OperationFailed():
                pass  # only a client receives these; the connection never reports them here
            case ws.OperationCompleted():
                pass  # likewise
            case _:
                assert_never(event)

    # -- timers ----------------------------------------------------------------------------

    def _arm(self, conn: ws.Connection) -> None:
        """Make the timer follow `next_deadline()`: wake it, or start it if it has ended."""
        if self._rearm is not None:
            self._rearm.set()
        elif conn.next_deadline() is not None and not self._closing:
            self._rearm = asyncio.Event()
            self._timer = asyncio.get_running_loop().create_task(
                self._run_timers(conn, self._rearm), name="clew-ws-timers"
            )

    async def _run_timers(self, conn: ws.Connection, rearm: asyncio.Event) -> None:
        """The connection's one timer: sleep until `next_deadline()`, then `handle_timer()`;
        it ends when there is no deadline left (`_arm` starts it again when one comes)."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            rearm.clear()
            deadline = self._armed = conn.next_deadline()
            if deadline is None:
                self._timer = self._rearm = None
                return
            delay = deadline - loop.time()
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await rearm.wait()
                except TimeoutError:
                    pass  # the deadline came: run the timers below
                continue
            due = conn.handle_timer(loop.time())
            if isinstance(due, ws.CloseRequired):  # e.g. 4408: connection_init came too late
                closure = Closure(code=due.code, reason=due.reason)
                if self._seams.timed_out is not None:
                    await self._close_through(self._seams.timed_out, closure)
                else:
                    await self._close(closure)
                self._interrupt()
                return
            for frame in due:
                await self._write(frame)

    # -- writing (the `Emitter` the operation tasks use) -----------------------------------

    def wants(self, operation_id: str) -> bool:
        """Whether a frame for `operation_id` may still be sent."""
        conn = self._conn
        return not self._closing and conn is not None and operation_id in conn.operations

    async def next(self, operation_id: str, result: FormattedExecutionResult) -> None:
        """Send one result of `operation_id`."""
        if self._conn is not None and not self._closing:
            await self._emit(operation_id, self._conn.result(operation_id, result))

    async def stream(
        self,
        operation_id: str,
        stream: SubscriptionStream | ForeignStream,
        operation: Stoppable,
    ) -> bool:
        """Send each result of `stream` as a result frame of `operation_id`.

        Stops once `operation.stopped` (it was stopped or replaced), when the protocol lets
        nothing more through (the operation ended, or its result could not be encoded and it
        failed instead), when the socket is gone, or with `error` when the source failed.
        True when the stream simply ran out, so `complete` may follow.

        The hot path of every subscription: the stream sends each result that may simply be
        sent itself (`Relay`: one encoding by the protocol's `result_encoder`, one ASGI
        `send`), and hands this loop only what needs a decision.
        """
        conn, send = self._conn, self._send
        if conn is None:
            return False
        relay = Relay(conn.result_encoder(operation_id), send, operation, GONE)
        async for result in stream.relay(relay):
            if operation.stopped or self._closing:
                return False
            if stream.failed:
                # The source raised: the engine's last result carries only the (masked)
                # error. Like graphql-ws' server, end the operation with `error`.
                await self.error(operation_id, result.get("errors") or [])
                return False
            frame = conn.result(operation_id, result)
            if type(frame) is not str:
                await self._emit(operation_id, frame)
                return False
            try:
                await send({"type": "websocket.send", "text": frame})
            except GONE:
                relay.lost = True
                break
        if relay.lost:
            self._closing = True  # the reader sees the disconnect and cleans up
            return False
        return True

    async def error(self, operation_id: str, errors: list[FormattedError]) -> None:
        """End `operation_id` with `errors`; no `complete` follows."""
        if self._conn is not None and not self._closing:
            await self._emit(operation_id, self._conn.fail(operation_id, errors))

    async def complete(self, operation_id: str) -> None:
        """End `operation_id` normally."""
        if self._conn is not None and not self._closing:
            await self._emit(operation_id, self._conn.complete(operation_id))

    async def _emit(self, operation_id: str, frame: str | ws.Unencodable | None) -> None:
        """Write what a verb returned: a frame, nothing, or the error replacing a bad result."""
        if frame is None:
            return  # the operation ended meanwhile: nothing more may be sent for it
        if isinstance(frame, ws.Unencodable):
            self._logger.error(
                "WebSocket operation %r failed: its result cannot be sent (%s)",
                operation_id,
                frame.reason,
            )
            frame = frame.frame
        await self._write(frame)

    async def _write(self, frame: str) -> None:
        if self._closing:
            return
        try:
            await self._send({"type": "websocket.send", "text": frame})
        except GONE:
            self._closing = True  # the reader sees the disconnect and cleans up

    # -- closing ---------------------------------------------------------------------------

    async def _close(self, closure: Closure) -> None:
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(*GONE):
            await self._websocket.close(closure.code, closure.reason)

    def _interrupt(self) -> None:
        """Stop the reader after we closed the socket ourselves, so cleanup runs now."""
        reader = self._reader
        if reader is not None and not self._interrupted:
            self._interrupted = True
            reader.cancel()

    async def shutdown(self) -> None:
        """Close with 1001 (going away) and wait until every operation has been closed."""
        if self._conn is not None:
            await self._close(self._conn.going_away())
        else:
            self._closing = True  # not accepted yet: the reader stops before its first frame
        self._interrupt()
        if not self._done:
            if self._done_waiter is None:
                self._done_waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._done_waiter)

    def _finished(self) -> None:
        """The cleanup has run: release any shutdown waiting for it."""
        self._done = True
        if self._done_waiter is not None and not self._done_waiter.done():
            self._done_waiter.set_result(None)
