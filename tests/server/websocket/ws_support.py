"""A schema counting its live subscription sources, hooks recording their calls, app builders."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

import uvicorn
from graphql import GraphQLError
from starlette.testclient import TestClient

from clew.server import GraphQL, Limits
from clew.server.websocket import (
    ConnectionRejected,
    GraphQLTransportWSHandler,
    GraphQLWSHandler,
    Operation,
)

if TYPE_CHECKING:
    from starlette.testclient import WebSocketTestSession
    from starlette.websockets import WebSocket

SDL = """
type Query {
  hello(name: String = "world"): String!
  boom: String
  whoami: String
  slow: String
}

type Mutation {
  add(a: Int!, b: Int!): Int!
}

type Subscription {
  ticks(limit: Int = 3): Int!
  forever: Int!
  failAfter(n: Int!): Int
  refuseAfter(n: Int!): Int
  inbox: Int!
}
"""

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"


class Tracker:
    """What the resolvers and hooks saw; `live` counts subscription sources not yet closed."""

    def __init__(self) -> None:
        self.live = 0
        self.started = 0
        self.closed = 0
        self.calls: list[tuple[str, object]] = []
        self.slow_release = asyncio.Event()

    def hook_names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Inbox:
    """A subscription source that is an async iterator but not a generator (like a pub/sub)."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queue.put_nowait(1)
        self._closed = False
        tracker.live += 1
        tracker.started += 1

    def __aiter__(self) -> Inbox:
        return self

    async def __anext__(self) -> int:
        if self._closed:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._tracker.live -= 1
            self._tracker.closed += 1


def resolvers(tracker: Tracker) -> dict[str, dict[str, object]]:
    """Resolvers by type and field for `SDL`; subscription fields are source generators."""

    def boom(*_args: object) -> str:
        raise ValueError("secret detail")

    def whoami(_root: object, info: object) -> str:
        context = info.context  # type: ignore[attr-defined]
        return json.dumps(
            {
                "params": context.get("connection_params"),
                "result": context.get("connection_result"),
                "token": context.get("token"),
            }
        )

    async def slow(*_args: object) -> str:
        await tracker.slow_release.wait()
        return "done"

    async def counted(source: AsyncIterator[int]) -> AsyncIterator[int]:
        tracker.live += 1
        tracker.started += 1
        try:
            async for value in source:
                yield value
        finally:
            tracker.live -= 1
            tracker.closed += 1

    async def ticks_source(limit: int) -> AsyncIterator[int]:
        for tick in range(limit):
            yield tick

    async def forever_source() -> AsyncIterator[int]:
        yield 0
        await asyncio.Event().wait()  # never set: suspended until closed
        yield 1  # pragma: no cover

    async def fail_source(n: int, error: Exception) -> AsyncIterator[int]:
        for value in range(n):
            yield value
        raise error

    return {
        "Query": {
            "hello": lambda _root, _info, name: f"Hello {name}",
            "boom": boom,
            "whoami": whoami,
            "slow": slow,
        },
        "Mutation": {"add": lambda _root, _info, a, b: a + b},
        "Subscription": {
            "ticks": lambda _root, _info, limit: counted(ticks_source(limit)),
            "forever": lambda _root, _info: counted(forever_source()),
            "failAfter": lambda _root, _info, n: counted(
                fail_source(n, RuntimeError("source secret"))
            ),
            "refuseAfter": lambda _root, _info, n: counted(
                fail_source(n, GraphQLError("No more events for you"))
            ),
            "inbox": lambda _root, _info: Inbox(tracker),
        },
    }


def recording_hooks(tracker: Tracker, *, reject: str | None = None) -> dict[str, object]:
    """The four hooks, recording their calls; `reject` picks how on_connect refuses."""

    async def on_connect(websocket: WebSocket, payload: object) -> object:
        tracker.calls.append(("on_connect", payload))
        token = payload.get("token") if isinstance(payload, Mapping) else None
        if token == "wrong":
            raise ConnectionRejected("Bad token", {"message": "Bad token", "code": "AUTH"})
        if token == "false":
            return False
        if token == "crash":
            raise RuntimeError("on_connect bug")
        return {"user": token}

    def on_disconnect(websocket: WebSocket) -> None:
        tracker.calls.append(("on_disconnect", None))

    async def on_operation(websocket: WebSocket, operation: Operation) -> None:
        tracker.calls.append(("on_operation", operation))

    def on_complete(websocket: WebSocket, operation: Operation) -> None:
        tracker.calls.append(("on_complete", operation))

    return {
        "on_connect": on_connect,
        "on_disconnect": on_disconnect,
        "on_operation": on_operation,
        "on_complete": on_complete,
    }


def make_app(
    tracker: Tracker,
    *,
    hooks: bool = True,
    limits: Limits | None = None,
    init_timeout: float | None = 60.0,
    ping_interval: float | None = None,
    pong_timeout: float | None = None,
    keepalive: float | None = None,
    **options: object,
) -> GraphQL:
    """The GraphQL app over `SDL` with both WebSocket handlers."""
    hook_options = recording_hooks(tracker) if hooks else {}
    handlers = [
        GraphQLTransportWSHandler(
            connection_init_wait_timeout=init_timeout,
            ping_interval=ping_interval,
            pong_timeout=pong_timeout,
            **hook_options,  # type: ignore[arg-type]
        ),
        GraphQLWSHandler(keepalive=keepalive, **hook_options),  # type: ignore[arg-type]
    ]
    return GraphQL.from_sdl(
        SDL, resolvers(tracker), websocket_handlers=handlers, limits=limits, **options
    )


@contextmanager
def connect(
    app: GraphQL, subprotocol: str = TRANSPORT, *, init: object = None
) -> Iterator[WebSocketTestSession]:
    """A test-client socket offering `subprotocol`, acknowledged unless `init` is False."""
    with (
        TestClient(app) as client,
        client.websocket_connect(  # type: ignore[arg-type]
            "/", subprotocols=[subprotocol]
        ) as ws,
    ):
        if init is not False:
            ws.send_json({"type": "connection_init", "payload": init or {}})
            assert ws.receive_json()["type"] == "connection_ack"
        yield ws


def subscribe(
    ws: WebSocketTestSession,
    operation_id: str,
    query: str,
    subprotocol: str = TRANSPORT,
    **payload: object,
) -> None:
    """Send `subscribe` (legacy: `start`)."""
    kind = "subscribe" if subprotocol == TRANSPORT else "start"
    ws.send_json({"type": kind, "id": operation_id, "payload": {"query": query, **payload}})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: object) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """Run `app` on uvicorn in this event loop on a free loopback port; yields its ws URL."""
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}/", server
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task


async def settle(predicate: Callable[[], bool]) -> None:
    """Wait (up to 5 s) until `predicate()` holds: the server cleans up on its own time."""
    async with asyncio.timeout(5):
        while not predicate():  # noqa: ASYNC110 - the state lives in another component
            await asyncio.sleep(0.005)
