"""The shared test schema served by clew itself, with counters the tests can read over HTTP.

`create_app` (for ``uvicorn --factory``) serves :func:`build_test_schema` unchanged at
``/graphql`` with clew's `GraphQL`, both WebSocket subprotocols, short keepalives and an
``on_connect`` that refuses ``{"token": "wrong"}``. Tests observe the server side through
``GET /_test/stats``: per connection_init token, how many sockets were initialised and are open,
and how many subscription source streams started, ended, and were closed before their end.
Keying by token lets tests share one server process without counting each other's work.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeAlias, final

import aiohttp
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from clew.protocol.http import RequestError
from clew.server import GraphQL, GraphQLHTTPHandler, GraphQLSSEHandler, StatusRules
from clew.server.websocket import (
    ConnectionRejected,
    GraphQLTransportWSHandler,
    GraphQLWSHandler,
)

# Relative: the package is imported as "integration" or "tests.integration" depending on rootdir.
from ..schema import build_test_schema, is_rejected, token_from_authorization  # noqa: TID252

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo
    from starlette.types import Receive, Scope, Send
    from starlette.websockets import WebSocket

__all__ = [
    "KEEPALIVE_INTERVAL",
    "NO_TOKEN",
    "STATS_PATH",
    "ServerStats",
    "Stats",
    "create_app",
    "create_draft_2026_app",
    "create_incremental_app",
    "fetch_stats",
    "new_token",
    "wait_for_stats",
]

#: The route answering `ServerStats.snapshot()` as JSON.
STATS_PATH: Final = "/_test/stats"
#: Seconds between server keepalives: graphql-transport-ws `ping`, legacy `ka`.
KEEPALIVE_INTERVAL: Final = 0.2
#: graphql-transport-ws: seconds the server waits for the client's `pong`.
PONG_TIMEOUT: Final = 1.0
#: The stats key of sockets and operations without a token.
NO_TOKEN: Final = ""

#: ``{counter: {token: value}}`` as the stats route answers it.
Stats: TypeAlias = Mapping[str, Mapping[str, int]]

_COUNTERS: Final = (
    "connection_inits",
    "rejected",
    "open_connections",
    "streams_started",
    "streams_ended",
    "streams_closed_early",
)


@final
class ServerStats:
    """What the server did, per connection_init (or Authorization) token."""

    def __init__(self) -> None:
        self.counters: dict[str, Counter[str]] = {name: Counter() for name in _COUNTERS}

    def add(self, counter: str, token: str | None, delta: int = 1) -> None:
        """Move one counter of one token by delta."""
        self.counters[counter][token or NO_TOKEN] += delta

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Every counter as ``{counter: {token: value}}``."""
        return {name: dict(values) for name, values in self.counters.items()}


@final
class _TrackedStream:
    """A subscription source stream that reports to `ServerStats` when it starts and ends.

    "Closed early" means ``aclose()`` reached it before the source ran out or failed, which is
    what a client's unsubscribe (or a dropped socket) must cause on the server.
    """

    def __init__(self, source: AsyncIterator[object], stats: ServerStats, token: str | None):
        self._source = source
        self._stats = stats
        self._token = token
        self._ended = False
        stats.add("streams_started", token)

    def __aiter__(self) -> _TrackedStream:
        return self

    async def __anext__(self) -> object:
        if self._ended:
            raise StopAsyncIteration
        try:
            return await self._source.__anext__()
        except (StopAsyncIteration, Exception):
            # Ran out or failed. A cancellation (BaseException) only interrupts the wait:
            # the stream lives on until someone calls aclose().
            self._end(early=False)
            raise

    async def aclose(self) -> None:
        if self._ended:
            return
        self._end(early=True)
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            await aclose()

    def _end(self, *, early: bool) -> None:
        if self._ended:
            return
        self._ended = True
        self._stats.add("streams_ended", self._token)
        if early:
            self._stats.add("streams_closed_early", self._token)


def _token_of(info: GraphQLResolveInfo[object]) -> str | None:
    context = info.context
    token = context.get("token") if isinstance(context, Mapping) else None
    return token if isinstance(token, str) else None


def _tracked(
    subscribe: Callable[..., AsyncIterator[object]], stats: ServerStats
) -> Callable[..., AsyncIterator[object]]:
    def start(root: object, info: GraphQLResolveInfo[object], **args: object) -> _TrackedStream:
        return _TrackedStream(subscribe(root, info, **args), stats, _token_of(info))

    return start


def _payload_token(payload: object) -> str | None:
    token = payload.get("token") if isinstance(payload, Mapping) else None
    return token if isinstance(token, str) else None


def _context(connection: HTTPConnection, data: Mapping[str, object]) -> dict[str, object]:
    # Over a websocket, data is the connection_init payload; over HTTP, the request parameters.
    if connection.scope["type"] == "websocket":
        token = _payload_token(data)
    else:
        token = token_from_authorization(connection.headers.get("authorization"))
    return {"request": connection, "token": token}


@final
class _StatsApp:
    """The clew app, plus the stats route."""

    def __init__(self, graphql: GraphQL, stats: ServerStats) -> None:
        self.graphql = graphql
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            await JSONResponse(self.stats.snapshot())(scope, receive, send)
            return
        await self.graphql(scope, receive, send)


def create_app(
    *, status_rules: StatusRules | None = None, incremental_delivery: bool = False
) -> _StatsApp:
    """A clew app on the shared test schema, with its own stats (default HTTP status rules)."""
    stats = ServerStats()
    peer = build_test_schema()
    subscription = peer.schema.subscription_type
    assert subscription is not None
    for field in subscription.fields.values():
        assert field.subscribe is not None
        field.subscribe = _tracked(field.subscribe, stats)

    def on_connect(_websocket: WebSocket, payload: object) -> str:
        token = _payload_token(payload)
        stats.add("connection_inits", token)
        if is_rejected(payload):
            stats.add("rejected", token)
            raise ConnectionRejected("Forbidden: the token is not accepted")
        stats.add("open_connections", token)
        return "accepted"

    def on_disconnect(websocket: WebSocket) -> None:
        if websocket.scope.get("connection_result") == "accepted":
            token = _payload_token(websocket.scope.get("connection_params"))
            stats.add("open_connections", token, -1)

    def authenticate(request: HTTPConnection) -> None:
        # GraphQL over SSE refuses the rejected token, as on_connect does on a socket.
        token = token_from_authorization(request.headers.get("authorization"))
        if is_rejected({"token": token}):
            raise RequestError(403, "Forbidden: the token is not accepted")

    app = GraphQL(
        peer.schema,
        incremental_delivery=incremental_delivery,
        context_value=_context,
        sse_handler=GraphQLSSEHandler(
            keepalive_interval=KEEPALIVE_INTERVAL, authenticate=authenticate
        ),
        # The shared schema promises the resolvers' own message ("boom"), as the other peers
        # show it; without debug clew masks unexpected exceptions as "Internal server error".
        debug=True,
        http_handler=GraphQLHTTPHandler(status_rules=status_rules),
        websocket_handlers=[
            GraphQLTransportWSHandler(
                ping_interval=KEEPALIVE_INTERVAL,
                pong_timeout=PONG_TIMEOUT,
                on_connect=on_connect,
                on_disconnect=on_disconnect,
            ),
            GraphQLWSHandler(
                keepalive=KEEPALIVE_INTERVAL, on_connect=on_connect, on_disconnect=on_disconnect
            ),
        ],
    )
    app.state.pubsub = peer.pubsub
    return _StatsApp(app, stats)


def create_incremental_app() -> _StatsApp:
    """The same app with incremental delivery (@defer/@stream) on."""
    return create_app(incremental_delivery=True)


def create_draft_2026_app() -> _StatsApp:
    """The same app with the 2026 GraphQL-over-HTTP statuses: 422 for validation, 294 partial."""
    return create_app(status_rules=StatusRules.draft_2026())


# -- reading the stats from a test ---------------------------------------------------------


def new_token() -> str:
    """A token no other test uses, so the shared server's counters for it are one test's alone."""
    return f"t-{uuid.uuid4().hex}"


async def fetch_stats(base_url: str) -> Stats:
    """The counters of the clew test server at base_url (``http://127.0.0.1:<port>``)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url + STATS_PATH) as response,
    ):
        response.raise_for_status()
        stats: Stats = await response.json()
        return stats


async def wait_for_stats(
    base_url: str, check: Callable[[Stats], bool], *, within: float = 5.0
) -> Stats:
    """Poll the counters until check holds: server-side clean-up finishes after the client's.

    Returns the matching stats; raises AssertionError quoting the last ones on timeout.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    stats = await fetch_stats(base_url)
    while not check(stats):
        if loop.time() > deadline:
            raise AssertionError(f"the server's counters never matched within {within}s: {stats}")
        await asyncio.sleep(0.02)
        stats = await fetch_stats(base_url)
    return stats
