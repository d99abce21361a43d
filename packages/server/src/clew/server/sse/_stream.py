"""One `text/event-stream` response: a bounded outbox of frames, the writer, keep-alives.

Operations put encoded events in the `Outbox`; one writer task sends them in order, and writes
a keep-alive comment whenever the stream has been idle for the interval. The outbox holds at
most `limit` frames: when the client reads slowly, `send` waits on the transport's flow
control, the outbox fills, and `put` makes the operation wait, so a slow reader costs a bounded
amount of memory and pauses the subscription's source instead of buffering it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from clew.protocol.sse import CONTENT_TYPE, KEEP_ALIVE
from clew.server._types import Receive, Send

__all__ = ["STREAM_HEADERS", "Outbox", "wait_for_disconnect", "write_stream"]

#: graphql-sse's response headers; `x-accel-buffering` stops nginx from holding events back.
STREAM_HEADERS: Final = [
    (b"content-type", CONTENT_TYPE.encode()),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class Outbox:
    """Frames waiting for the writer; `put` waits while `limit` frames are already queued."""

    def __init__(self, limit: int) -> None:
        self._frames: deque[bytes] = deque()
        self._limit = limit
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        #: Set by `close`: the writer sends what is queued, then ends the response.
        self.closed = False

    def __len__(self) -> int:
        return len(self._frames)

    async def put(self, frame: bytes) -> None:
        """Queue `frame`, waiting while the outbox is full; dropped once the outbox is closed."""
        while len(self._frames) >= self._limit and not self.closed:
            self._writable.clear()
            await self._writable.wait()
        if self.closed:
            return
        self._frames.append(frame)
        self._readable.set()

    def close(self) -> None:
        """No more frames: the writer drains the outbox and ends the stream."""
        self.closed = True
        self._readable.set()
        self._writable.set()

    async def take(self, idle: float) -> list[bytes] | None:
        """The queued frames, waiting up to `idle` s for one; [] if none came, None at the end."""
        if not self._frames and not self.closed:
            self._readable.clear()
            try:
                await asyncio.wait_for(self._readable.wait(), idle)
            except TimeoutError:
                return []
        if not self._frames:
            return None
        frames = list(self._frames)
        self._frames.clear()
        self._writable.set()
        return frames


async def write_stream(send: Send, outbox: Outbox, keepalive_interval: float) -> None:
    """Answer 200 with an event stream and write the outbox's frames until it closes.

    A keep-alive comment goes out at once (some user agents wait for a first chunk before
    reporting the stream open) and again after every idle `keepalive_interval`.
    """
    await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    await send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})
    while True:
        frames = await outbox.take(keepalive_interval)
        if frames is None:
            break
        body = b"".join(frames) if frames else KEEP_ALIVE
        await send({"type": "http.response.body", "body": body, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone (the request body, if any, was read before)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
