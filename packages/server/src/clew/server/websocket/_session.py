"""The one driver of a GraphQL WebSocket, for both subprotocols: frames in, events out, frames back.

A `Session` reads each frame, feeds it to the subprotocol's sans-IO `Connection`, and acts on
the events it returns in a single `match`; it implements no protocol rule itself. It owns what
the protocol core cannot: the socket, one timer task driving `next_deadline()`/`handle_timer()`,
the operation tasks (`Operations`), the hooks, and the cleanup that runs exactly once however
the socket ends (client close, abrupt disconnect, protocol error, timeout or server shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from inspect import isawaitable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from starlette.websockets import WebSocketDisconnect

from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as gws
from clew.protocol._codes import CloseCode
from clew.protocol._errors import LocalProtocolError, RemoteProtocolError
from clew.protocol._negotiation import Subprotocol, select_subprotocol
from clew.protocol._types import (
    FormattedError,
    FormattedExecutionResult,
    JSONObject,
    SubscribePayload,
)

from ._dialect import Dialect, Hooks, ServerConnection
from ._hooks import (
    CONNECTION_PARAMS,
    CONNECTION_RESULT,
    ConnectionRejected,
    call_hook,
)
from ._operations import Operations

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from clew.server._execution import Engine
    from clew.server._subscription import SubscriptionStream
    from clew.server._types import Message, Send

__all__ = ["Session", "SessionHandler"]

M = TypeVar("M")

#: What writing to a socket raises once the peer is gone (uvicorn's `ClientDisconnected` is an
#: OSError; Starlette raises RuntimeError after a close and WebSocketDisconnect otherwise).
_GONE = (OSError, RuntimeError, WebSocketDisconnect)

#: How long a rejected socket keeps reading the frames the client sent behind its
#: `connection_init` before it closes (the reference legacy server waits 10 ms): what the
#: `Connection` makes of them (legacy: an `error` for each `start`) is written first.
_REJECTION_GRACE = 0.05


def _payload(message: Message) -> str | bytes:
    """The text (or bytes) of one `websocket.receive` ASGI message."""
    data: str | bytes | None = message.get("text")
    if data is None:
        data = message.get("bytes") or b""
    return data


class Session(Generic[M]):
    """One accepted socket: its `Connection`, timer task, operations and hooks."""

    def __init__(
        self, websocket: WebSocket, engine: Engine, dialect: Dialect[M], hooks: Hooks
    ) -> None:
        self._websocket = websocket
        self._engine = engine
        self._dialect = dialect
        self._hooks = hooks
        self._logger = engine.logger
        self._max_bytes = engine.limits.max_websocket_message_bytes
        self._max_operations = engine.limits.max_operations_per_connection
        self._operations = Operations(
            engine,
            websocket,
            self,
            on_operation=hooks.on_operation,
            on_complete=hooks.on_complete,
        )
        self._closing = False
        self._reader: asyncio.Task[object] | None = None
        self._interrupted = False
        self._rearm = asyncio.Event()
        self._armed: float | None = None
        self._done = asyncio.Event()
        self._conn: ServerConnection[M] | None = None
        self._next_message = dialect.next

    # -- the reader ------------------------------------------------------------------------

    async def run(self) -> None:
        """Accept the socket and serve it until it closes; returns after the cleanup."""
        websocket, dialect = self._websocket, self._dialect
        try:
            if select_subprotocol(websocket.scope.get("subprotocols", ()), (dialect.subprotocol,)):
                await websocket.accept(subprotocol=dialect.subprotocol.value)
            else:
                # Only a subprotocol the client offered may be selected (RFC 6455 §4.2.2).
                await websocket.accept()
                await websocket.close(dialect.not_acceptable, "Subprotocol not acceptable")
                self._done.set()
                return
        except _GONE:
            self._done.set()
            return
        loop = asyncio.get_running_loop()
        conn = self._conn = dialect.connect(loop.time())
        self._reader = asyncio.current_task()
        timer = loop.create_task(self._run_timers(conn), name="clew-ws-timers")
        try:
            await self._read(conn)
        except asyncio.CancelledError:
            reader = self._reader
            if not self._interrupted or reader is None or reader.uncancel() > 0:
                raise
        finally:
            self._reader = None
            self._closing = True
            timer.cancel()
            conn.connection_closed()
            await self._operations.stop_all()
            await call_hook(
                self._hooks.on_disconnect, websocket, logger=self._logger, name="on_disconnect"
            )
            self._done.set()

    async def _read(self, conn: ServerConnection[M]) -> None:
        receive = self._websocket.receive
        while not self._closing:
            message = await receive()
            if message["type"] != "websocket.receive":
                return  # websocket.disconnect: the client is gone
            data = _payload(message)
            if len(data) > self._max_bytes // 4 and self._too_large(data):
                await self._close(
                    self._dialect.too_large,
                    f"Message exceeds the maximum size of {self._max_bytes} bytes",
                )
                return
            try:
                events = conn.receive(data)
            except RemoteProtocolError as exc:
                await self._close(exc.close_code, exc.reason)
                return
            for event in events:
                await self._dispatch(conn, event)
            if conn.next_deadline() != self._armed:
                self._rearm.set()

    def _too_large(self, data: str | bytes) -> bool:
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
        return size > self._max_bytes

    async def _dispatch(self, conn: ServerConnection[M], event: object) -> None:
        """Act on one event of the `Connection`: the whole server side of both subprotocols."""
        match event:
            case tws.ConnectionInit(payload=payload) | gws.ConnectionInit(payload=payload):
                await self._connect(conn, payload)
            case (
                tws.Subscribe(id=operation_id, payload=payload)
                | gws.Start(id=operation_id, payload=payload)
            ):
                await self._start(operation_id, payload)
            case tws.Complete(id=operation_id):
                # The client no longer wants it; the Connection already released the id.
                self._operations.stop(operation_id)
            case gws.Stop(id=operation_id):
                # Legacy: end the operation, then say so with `complete` (reference server).
                task = self._operations.stop(operation_id)
                if task is not None:
                    await asyncio.wait((task,))
                await self.complete(operation_id)
            case tws.Ping():
                if self._dialect.pong is not None:
                    await self._write(conn.send(self._dialect.pong()))
            case gws.Refused(reply=reply):
                # A bad legacy frame: the ready `error`/`connection_error` reply, socket open.
                await self._write(reply)
            case gws.ConnectionTerminate():
                await self._close(CloseCode.NORMAL_CLOSURE, "")
            case _:
                pass  # tws.Pong: a heartbeat needs no answer

    async def _start(self, operation_id: str, payload: SubscribePayload) -> None:
        if self._closing:
            return
        if operation_id in self._operations:
            self._operations.stop(operation_id)  # legacy `start` with a running id replaces it
        if len(self._operations) >= self._max_operations:
            limit = self._max_operations
            message = f"Too many operations on this connection (the limit is {limit})"
            await self.error(operation_id, [{"message": message}])
            return
        self._operations.start(operation_id, payload)

    async def _connect(self, conn: ServerConnection[M], payload: JSONObject | None) -> None:
        websocket, on_connect = self._websocket, self._hooks.on_connect
        params: JSONObject = payload if payload is not None else {}
        websocket.scope[CONNECTION_PARAMS] = params
        self._operations.connection_params = params
        result: object = None
        if on_connect is not None:
            try:
                result = on_connect(websocket, payload)
                if isawaitable(result):
                    result = await result
            except ConnectionRejected as rejection:
                await self._reject(conn, rejection.payload)
                return
            except Exception:
                self._logger.exception("The WebSocket on_connect hook failed")
                await self._close(self._dialect.internal_error, "Internal server error")
                return
            if result is False:
                await self._reject(conn, None)
                return
        if self._closing:
            return
        websocket.scope[CONNECTION_RESULT] = result
        for message in self._dialect.ack():
            await self._write(conn.send(message))

    async def _reject(self, conn: ServerConnection[M], payload: JSONObject | None) -> None:
        if self._closing:
            return
        closure = conn.reject(payload)
        for frame in closure.frames:
            await self._write(frame)
        await self._answer_in_flight(conn)
        await self._close(closure.code, closure.reason)

    async def _answer_in_flight(self, conn: ServerConnection[M]) -> None:
        """Feed the rejected `Connection` the frames already sent, for a bounded grace.

        A legacy client writes `start` right behind `connection_init`; the `Connection` returns
        a `Refused` reply for it, which is written so the client ends that operation. Stops at
        the grace's end or as soon as the client closes; oversized frames are skipped.
        """
        receive = self._websocket.receive
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_REJECTION_GRACE):
                while not self._closing:
                    message = await receive()
                    if message["type"] != "websocket.receive":
                        self._closing = True  # the client is gone: nothing more to close
                        return
                    data = _payload(message)
                    if len(data) > self._max_bytes // 4 and self._too_large(data):
                        continue
                    for event in conn.receive(data):
                        if isinstance(event, gws.Refused):
                            await self._write(event.reply)

    # -- timers ----------------------------------------------------------------------------

    async def _run_timers(self, conn: ServerConnection[M]) -> None:
        """The connection's one timer: sleep until `next_deadline()`, then `handle_timer()`."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            self._rearm.clear()
            deadline = self._armed = conn.next_deadline()
            if deadline is None:
                await self._rearm.wait()
                continue
            delay = deadline - loop.time()
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await self._rearm.wait()
                except TimeoutError:
                    pass  # the deadline came: run the timers below
                continue
            try:
                frames = conn.handle_timer(loop.time())
            except RemoteProtocolError as exc:  # e.g. 4408: connection_init came too late
                await self._close(exc.close_code, exc.reason)
                self._interrupt()
                return
            for frame in frames:
                await self._write(frame)

    # -- writing (the `Emitter` the operation tasks use) -----------------------------------

    def wants(self, operation_id: str) -> bool:
        """Whether a frame for `operation_id` may still be sent."""
        conn = self._conn
        return not self._closing and conn is not None and operation_id in conn.operations

    async def next(self, operation_id: str, result: FormattedExecutionResult) -> None:
        """Send one result of `operation_id`."""
        frame = self._frame(self._dialect.next(id=operation_id, payload=result))
        if frame is not None:
            await self._write(frame)

    async def stream(
        self, operation_id: str, stream: SubscriptionStream, current: Callable[[], bool]
    ) -> bool:
        """Send each result of `stream` as a result frame of `operation_id`.

        Stops when `current()` turns False (the operation was stopped or replaced), when the
        protocol or the socket lets nothing more through, or with `error` when the source
        failed. True when the stream simply ran out, so `complete` may follow.

        The hot path of every subscription: per event one `conn.send`, one ASGI `send`.
        """
        conn, make = self._conn, self._next_message
        # Starlette's `WebSocket.send` only runs its state checks, which a data frame does
        # not move: results go straight to the ASGI `send` it wraps.
        send = cast("Send", getattr(self._websocket, "_send", self._websocket.send))
        async for result in stream:
            if not current() or self._closing or conn is None:
                return False
            if stream.failed:
                # The source raised: the engine's last result carries only the (masked)
                # error. Like graphql-ws' server, end the operation with `error`.
                await self.error(operation_id, result.get("errors") or [])
                return False
            try:
                frame = conn.send(make(id=operation_id, payload=result))
            except LocalProtocolError:
                return False  # the operation ended meanwhile: nothing more may be sent for it
            try:
                await send({"type": "websocket.send", "text": frame})
            except _GONE:
                self._closing = True  # the reader sees the disconnect and cleans up
                return False
        return True

    async def error(self, operation_id: str, errors: list[FormattedError]) -> None:
        """End `operation_id` with `errors`; no `complete` follows."""
        frame = self._frame(self._dialect.error(operation_id, errors))
        if frame is not None:
            await self._write(frame)

    async def complete(self, operation_id: str) -> None:
        """End `operation_id` normally."""
        frame = self._frame(self._dialect.complete(operation_id))
        if frame is not None:
            await self._write(frame)

    def _frame(self, message: M) -> str | None:
        conn = self._conn
        if self._closing or conn is None:
            return None
        try:
            return conn.send(message)
        except LocalProtocolError:
            return None  # the operation ended meanwhile: nothing more may be sent for it

    async def _write(self, frame: str) -> None:
        if self._closing:
            return
        try:
            await self._websocket.send({"type": "websocket.send", "text": frame})
        except _GONE:
            self._closing = True  # the reader sees the disconnect and cleans up

    # -- closing ---------------------------------------------------------------------------

    async def _close(self, code: int, reason: str) -> None:
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(*_GONE):
            await self._websocket.close(code, reason)

    def _interrupt(self) -> None:
        """Stop the reader after we closed the socket ourselves, so cleanup runs now."""
        reader = self._reader
        if reader is not None and not self._interrupted:
            self._interrupted = True
            reader.cancel()

    async def shutdown(self) -> None:
        """Close with 1001 (going away) and wait until every operation has been closed."""
        await self._close(CloseCode.GOING_AWAY, "Server shutting down")
        self._interrupt()
        await self._done.wait()


class SessionHandler(ABC, Generic[M]):
    """Base of the two handlers: the `WebSocketHandler` protocol over a `Dialect`."""

    subprotocol: Subprotocol

    def __init__(self, hooks: Hooks) -> None:
        self._hooks = hooks
        self._engine: Engine | None = None
        self._sessions: set[Session[M]] = set()

    def configure(self, engine: Engine) -> None:
        """Use `engine` (the app's) to prepare, execute and encode operations."""
        self._engine = engine

    @abstractmethod
    def _dialect(self) -> Dialect[M]:
        """How this handler's subprotocol is spoken: its connection, messages and codes."""

    async def handle(self, websocket: WebSocket) -> None:
        """Serve one socket, not yet accepted, until it closes."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}.configure(engine) was not called")
        session = Session(websocket, self._engine, self._dialect(), self._hooks)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)

    async def shutdown(self) -> None:
        """Close every socket with 1001, after stopping (and closing) all their operations."""
        sessions = tuple(self._sessions)
        if sessions:
            await asyncio.gather(*(session.shutdown() for session in sessions))
