"""A raw ASGI exchange for the SSE tests: the request goes in, the stream is read as it comes.

Driving the app's ASGI callable directly lets a test disconnect at an exact moment, hold the
reader back (`send` waits until released), and see every body chunk.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from clew.protocol.sse import EventStreamParser, StreamMessage, parse_message
from clew.server import GraphQL


class Exchange:
    """One HTTP request to `app`, with its response read incrementally."""

    def __init__(
        self,
        app: GraphQL,
        method: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | dict[str, Any] = b"",
        query: str = "",
        single_connection: bool = False,
    ) -> None:
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        self.app = app
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            "client": ("127.0.0.1", 1234),
            "server": ("127.0.0.1", 80),
        }
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._inbox.put_nowait({"type": "http.request", "body": body, "more_body": False})
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        #: Cleared to hold the reader back: `send` then waits, as on a full socket buffer.
        self.reading = asyncio.Event()
        self.reading.set()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""
        self.parser = EventStreamParser()
        self.single_connection = single_connection
        self._pending: list[StreamMessage] = []
        self.task: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        return await self._inbox.get()

    async def _send(self, message: dict[str, Any]) -> None:
        await self.reading.wait()
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self.started.set()
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.body += chunk
            if chunk:
                self._chunks.put_nowait(chunk)
            if not message.get("more_body", False):
                self.finished.set()

    def start(self) -> Exchange:
        self.task = asyncio.ensure_future(self.app(self.scope, self._receive, self._send))
        return self

    async def response(self, within: float = 10) -> Exchange:
        """Run the exchange to its end."""
        if self.task is None:
            self.start()
        assert self.task is not None
        await asyncio.wait_for(self.task, within)
        return self

    async def next_message(self, within: float = 10) -> StreamMessage:
        """The next graphql-sse message on the stream."""
        while not self._pending:
            chunk = await asyncio.wait_for(self._chunks.get(), within)
            for event in self.parser.feed(chunk):
                self._pending.append(parse_message(event, single_connection=self.single_connection))
        return self._pending.pop(0)

    def disconnect(self) -> None:
        self._inbox.put_nowait({"type": "http.disconnect"})

    def json(self) -> Any:
        return json.loads(self.body)


def messages_in(body: bytes, *, single_connection: bool = False) -> list[StreamMessage]:
    parser = EventStreamParser()
    events = parser.feed(body)
    assert parser.close() is False
    return [parse_message(event, single_connection=single_connection) for event in events]
