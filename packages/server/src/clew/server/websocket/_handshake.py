"""What a socket does with `connection_init`: `on_connect`, then the ack or the refusal.

`Handshake` is the part of the `Socket` (which it is mixed into) that runs the hook, writes the
frames the `Connection` returns for accepting or rejecting, and, after a rejection, answers the
frames a client sent behind its `connection_init` for a bounded grace.
"""

from __future__ import annotations

import asyncio
import contextlib
from inspect import isawaitable
from typing import TYPE_CHECKING

from starlette.websockets import WebSocketDisconnect

from clew.protocol import JSONObject
from clew.protocol import websocket as ws

from ._hooks import CONNECTION_PARAMS, CONNECTION_RESULT, ConnectionRejected
from ._seams import SeamHost, logged

if TYPE_CHECKING:
    import logging

    from starlette.websockets import WebSocket

    from clew.server._types import Message

    from ._hooks import Hooks
    from ._operations import Operations
    from ._seams import Seams

__all__ = ["GONE", "REJECTION_GRACE", "Handshake", "frame_text"]

#: What writing to a socket raises once the peer is gone (uvicorn's `ClientDisconnected` is an
#: OSError; Starlette raises RuntimeError after a close and WebSocketDisconnect otherwise).
GONE = (OSError, RuntimeError, WebSocketDisconnect)

#: How long a rejected socket keeps reading the frames the client sent behind its
#: `connection_init` before it closes (the reference legacy server waits 10 ms): what the
#: `Connection` makes of them (legacy: an `error` for each `start`) is written first.
REJECTION_GRACE = 0.05


def frame_text(message: Message) -> str | bytes:
    """The text (or bytes) of one `websocket.receive` ASGI message."""
    data: str | bytes | None = message.get("text")
    if data is None:
        data = message.get("bytes") or b""
    return data


class Handshake(SeamHost):
    """The `connection_init` part of a `Socket`, its subclass."""

    __slots__ = ("_keepalive",)
    #: An overridden `keep_websocket_alive`, running since the acknowledgement.
    _keepalive: asyncio.Task[None] | None

    if TYPE_CHECKING:
        _conn: ws.Connection | None
        _websocket: WebSocket
        _hooks: Hooks
        _operations: Operations
        _logger: logging.Logger
        _max_bytes: int
        _seams: Seams

        def _too_large(self, data: str | bytes) -> bool: ...

    async def accept(self, payload: JSONObject | None) -> None:
        """Run `on_connect` on the `connection_init` payload, then acknowledge or refuse.

        What `handle_websocket_connection_init_message` does by default.
        """
        conn = self._conn
        if conn is None:
            return
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
                await self._close(conn.internal_error())
                return
            if result is False:
                await self._reject(conn, None)
                return
        if self._closing:
            return
        websocket.scope[CONNECTION_RESULT] = result
        for frame in conn.accept():
            await self._write(frame)
        keepalive = self._seams.keepalive
        if keepalive is not None and not self._closing:
            self._keepalive = asyncio.get_running_loop().create_task(
                logged(keepalive(websocket), self._logger, "keep_websocket_alive"),
                name="clew-ws-keepalive",
            )

    async def _reject(self, conn: ws.Connection, payload: JSONObject | None) -> None:
        if self._closing:
            return
        closure = conn.reject(payload)
        for frame in closure.frames:
            await self._write(frame)
        await self._answer_in_flight(conn)
        await self._close(closure)

    async def _answer_in_flight(self, conn: ws.Connection) -> None:
        """Feed the rejected `Connection` the frames already sent, for a bounded grace.

        A legacy client writes `start` right behind `connection_init`; the `Connection` returns
        a `Refused` reply for it, which is written so the client ends that operation. Stops at
        the grace's end or as soon as the client closes; oversized frames are skipped.
        """
        receive = self._websocket.receive
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REJECTION_GRACE):
                while not self._closing:
                    message = await receive()
                    if message["type"] != "websocket.receive":
                        self._closing = True  # the client is gone: nothing more to close
                        return
                    data = frame_text(message)
                    if len(data) > self._max_bytes // 4 and self._too_large(data):
                        continue
                    for event in conn.receive(data):
                        if isinstance(event, ws.Refused):
                            await self._write(event.reply)
