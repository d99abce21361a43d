"""A fake GraphQL WebSocket server on aiohttp's test server, for the client transport's tests.

It speaks both subprotocols through `clew.protocol`'s server-side `Connection`s and runs a tiny
operation table chosen by `operationName`:

- ``Count`` (subscription): `{"count": i}` for i in 1..`n`, `delay` seconds apart, then complete;
- ``Ticks`` (subscription): `{"tick": i}` every `delay` seconds, forever;
- ``Hang`` (subscription): never answers;
- ``Fail``: an `error` message;
- ``Partial`` (subscription): one result with data *and* errors, then complete;
- ``Echo`` (query): one result echoing the variables, then complete;
- ``Bump`` (mutation): counts a run, then answers (or hangs with ``hang: true``).

Switches make it misbehave: never ack, reject `connection_init`, ignore pings, send one `ka`
only, send garbage (or a frame over the client's size limit) after the ack, close or drop
every socket right after its ack, drop every socket, close with a code, restart on the same
port. Everything it saw is recorded for the assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clew.client import AIOHTTPBackend
from clew.protocol import JSONObject, LocalProtocolError, RemoteProtocolError, Role
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as gws
from clew.protocol.http import GraphQLRequest, GraphQLResponse

BOTH = ("graphql-transport-ws", "graphql-ws")

#: Small timings so reconnect tests stay fast.
FAST_RETRY: dict[str, object] = {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.05}


@dataclass
class Seen:
    """One socket as the server saw it."""

    number: int
    subprotocol: str | None
    offered: str
    inits: list[JSONObject | None] = field(default_factory=list)
    started: list[tuple[str, str | None]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    client_close_code: int | None = None
    terminated: bool = False
    pings: int = 0
    frame_pings: int = 0


Emit = Callable[[JSONObject], Awaitable[bool]]


class FakeServer:
    """The switches, the record, and the aiohttp app of the fake server."""

    def __init__(self) -> None:
        # -- switches --
        self.subprotocols: tuple[str, ...] = BOTH
        self.ack = True
        self.reject = False
        #: Legacy only: the `connection_error` frame sent when rejecting (None: the usual one).
        self.reject_frame: str | None = None
        self.answer_pings = True
        self.ka_interval: float | None = None
        self.ka_once = False
        self.garbage_after_ack: str | None = None
        #: Close every socket with this code right after acknowledging it (-1: drop it).
        self.close_after_ack: int | None = None
        # -- record --
        self.sockets: list[Seen] = []
        self.peers: set[int] = set()
        self.mutations_run = 0
        self.gate = asyncio.Event()
        self._open: dict[int, tuple[web.WebSocketResponse, web.Request]] = {}
        self._numbers = itertools.count(1)
        self.test_server: TestServer | None = None
        self.port = 0

    # -- control --

    @property
    def connections(self) -> int:
        """How many WebSocket handshakes the server accepted."""
        return len(self.sockets)

    def started(self) -> list[tuple[str, str | None]]:
        """Every (id, operationName) started, over all sockets."""
        return [item for seen in self.sockets for item in seen.started]

    def stopped(self) -> list[str]:
        """Every id the client stopped, over all sockets."""
        return [item for seen in self.sockets for item in seen.stopped]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Poll until `condition()` holds (server-side effects arrive asynchronously)."""
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 - the conditions are plain attributes
                await asyncio.sleep(0.005)

    def drop(self) -> None:
        """Cut every open socket without a close frame (the client sees 1006)."""
        for _ws, request in list(self._open.values()):
            assert request.transport is not None
            request.transport.close()

    async def close_all(self, code: int, reason: str = "") -> None:
        """Close every open socket with `code`."""
        for ws, _request in list(self._open.values()):
            await ws.close(code=code, message=reason.encode())

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/graphql", self.handle)
        self.test_server = TestServer(app, host="127.0.0.1", port=port)
        await self.test_server.start_server()
        self.port = self.test_server.port or 0

    async def stop(self) -> None:
        """Stop serving, as a crashed process would: every socket drops, new ones are refused."""
        self.drop()  # aiohttp's graceful shutdown would otherwise wait for the open sockets
        if self.test_server is not None:
            await self.test_server.close()
            self.test_server = None

    async def restart(self, downtime: float = 0.05) -> None:
        """Stop the server (every socket drops, connections are refused), then start it again."""
        await self.stop()
        await asyncio.sleep(downtime)
        await self.start(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    # -- the WebSocket route --

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        # autoping off so the WebSocket-frame pings of aiohttp's `heartbeat` can be counted.
        ws = web.WebSocketResponse(protocols=self.subprotocols, autoping=False)
        await ws.prepare(request)
        seen = Seen(
            next(self._numbers),
            ws.ws_protocol,
            request.headers.get("Sec-WebSocket-Protocol", ""),
        )
        self.sockets.append(seen)
        self.peers.add(id(request.transport))
        self._open[seen.number] = (ws, request)
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            if ws.ws_protocol == "graphql-transport-ws":
                await self._serve_transport(ws, seen, tasks)
            elif ws.ws_protocol == "graphql-ws":
                await self._serve_legacy(ws, seen, tasks)
            else:
                await ws.receive()
        finally:
            # Record first: aiohttp cancels this handler once the TCP connection is gone.
            seen.client_close_code = ws.close_code
            del self._open[seen.number]
            for task in tasks.values():
                task.cancel()
        return ws

    async def _serve_transport(
        self, ws: web.WebSocketResponse, seen: Seen, tasks: dict[str, asyncio.Task[None]]
    ) -> None:
        conn = tws.Connection(Role.SERVER)
        async for frame in ws:
            if not await _is_text(ws, seen, frame):
                continue
            try:
                messages = conn.receive(frame.data)
            except RemoteProtocolError as exc:
                await ws.close(code=exc.close_code, message=exc.reason.encode())
                return
            for message in messages:
                match message:
                    case tws.ConnectionInit(payload=payload):
                        seen.inits.append(payload)
                        if self.reject:
                            closure = conn.reject()
                            await ws.close(code=closure.code, message=closure.reason.encode())
                            return
                        if self.ack:
                            await ws.send_str(conn.send(tws.ConnectionAck()))
                        if await self._misbehave_after_ack(ws):
                            return
                    case tws.Ping():
                        seen.pings += 1
                        if self.answer_pings:
                            await ws.send_str(conn.send(message.response()))
                    case tws.Subscribe(id=operation_id, payload=payload):
                        seen.started.append((operation_id, payload.get("operationName")))

                        self._launch(ws, conn, tasks, operation_id, payload, legacy=False)
                    case tws.Complete(id=operation_id):
                        seen.stopped.append(operation_id)
                        task = tasks.pop(operation_id, None)
                        if task is not None:
                            task.cancel()
                    case _:
                        pass

    async def _serve_legacy(
        self, ws: web.WebSocketResponse, seen: Seen, tasks: dict[str, asyncio.Task[None]]
    ) -> None:
        conn = gws.Connection(Role.SERVER)
        async for frame in ws:
            if not await _is_text(ws, seen, frame):
                continue
            for message in conn.receive(frame.data):
                match message:
                    case gws.Refused(reply=reply):
                        await ws.send_str(reply)
                    case gws.ConnectionInit(payload=payload):
                        seen.inits.append(payload)
                        if self.reject:
                            closure = conn.reject({"message": "Forbidden"})
                            replies = closure.frames
                            if self.reject_frame is not None:
                                replies = (self.reject_frame,)
                            for reply in replies:
                                await ws.send_str(reply)
                            await ws.close(code=closure.code, message=closure.reason.encode())
                            return
                        if self.ack:
                            await ws.send_str(conn.send(gws.ConnectionAck()))
                            if self.ka_interval is not None or self.ka_once:
                                await ws.send_str(conn.send(gws.Ka()))
                            if self.ka_interval is not None:
                                tasks[""] = asyncio.create_task(self._keepalive(ws, conn))
                        if await self._misbehave_after_ack(ws):
                            return
                    case gws.Start(id=operation_id, payload=payload):
                        seen.started.append((operation_id, payload.get("operationName")))

                        self._launch(ws, conn, tasks, operation_id, payload, legacy=True)
                    case gws.Stop(id=operation_id):
                        seen.stopped.append(operation_id)
                        task = tasks.pop(operation_id, None)
                        if task is not None:
                            task.cancel()
                        await _write(ws, conn, gws.Complete(id=operation_id))
                    case gws.ConnectionTerminate():
                        seen.terminated = True
                        await ws.close()
                        return
                    case _:
                        pass

    async def _misbehave_after_ack(self, ws: web.WebSocketResponse) -> bool:
        """Apply the after-ack switches; True when the socket is done for."""
        if self.garbage_after_ack is not None:
            await ws.send_str(self.garbage_after_ack)
        if self.close_after_ack is None:
            return False
        if self.close_after_ack == -1:
            self.drop()
        else:
            await ws.close(code=self.close_after_ack, message=b"closing after the ack")
        return True

    def _launch(
        self,
        ws: web.WebSocketResponse,
        conn: Any,
        tasks: dict[str, asyncio.Task[None]],
        operation_id: str,
        payload: Any,
        *,
        legacy: bool,
    ) -> None:
        """Run one operation from the table as a task, writing through `conn`."""

        async def emit(result: JSONObject) -> bool:
            kind = gws.Data if legacy else tws.Next
            return await _write(ws, conn, kind(id=operation_id, payload=result))  # type: ignore[arg-type]

        async def end(error: str | None) -> None:
            message: Any
            if error is None:
                message = (gws.Complete if legacy else tws.Complete)(id=operation_id)
            elif legacy:
                message = gws.Error(id=operation_id, payload={"message": error})
            else:
                message = tws.Error(id=operation_id, payload=[{"message": error}])
            await _write(ws, conn, message)

        tasks[operation_id] = asyncio.create_task(self._run(payload, emit, end))

    async def _keepalive(self, ws: web.WebSocketResponse, conn: gws.Connection) -> None:
        assert self.ka_interval is not None
        while True:
            await asyncio.sleep(self.ka_interval)
            if not await _write(ws, conn, gws.Ka()):
                return

    # -- the operation table --

    async def _run(
        self,
        payload: Any,
        emit: Emit,
        end: Callable[[str | None], Awaitable[None]],
    ) -> None:
        name = payload.get("operationName")
        variables = payload.get("variables") or {}
        delay = float(variables.get("delay", 0))
        match name:
            case "Count":
                for i in range(1, int(variables.get("n", 3)) + 1):
                    if delay:
                        await asyncio.sleep(delay)
                    if not await emit({"data": {"count": i}}):
                        return
                await end(None)
            case "Ticks":
                for i in itertools.count(1):
                    await asyncio.sleep(delay or 0.01)
                    if not await emit({"data": {"tick": i}}):
                        return
            case "Hang":
                await asyncio.Event().wait()
            case "Fail":
                await end("boom")
            case "Partial":
                await emit({"data": {"partial": None}, "errors": [{"message": "half"}]})
                await end(None)
            case "Echo":
                await emit({"data": {"echo": variables}})
                await end(None)
            case "Bump":
                self.mutations_run += 1
                if variables.get("hang"):
                    await asyncio.Event().wait()
                await emit({"data": {"bump": self.mutations_run}})
                await end(None)
            case "Gated":
                await self.gate.wait()
                await emit({"data": {"gated": True}})
                await end(None)
            case _:
                await end(f"Unknown operation {name}")


async def _is_text(ws: web.WebSocketResponse, seen: Seen, frame: aiohttp.WSMessage) -> bool:
    """Answer and count WebSocket-frame pings; True for a text frame to hand to the protocol."""
    if frame.type is aiohttp.WSMsgType.PING:
        seen.frame_pings += 1
        await ws.pong(frame.data)
    return frame.type is aiohttp.WSMsgType.TEXT


async def _write(ws: web.WebSocketResponse, conn: Any, message: Any) -> bool:
    """Write `message` if the protocol still allows it (the client may have stopped the id)."""
    try:
        frame = conn.send(message)
    except LocalProtocolError:
        return False
    if ws.closed:
        return False
    with contextlib.suppress(ConnectionError, aiohttp.ClientError):
        await ws.send_str(frame)
        return True
    return False


QUERIES = {
    "Count": "subscription Count($n: Int, $delay: Float) { count(n: $n, delay: $delay) }",
    "Ticks": "subscription Ticks($delay: Float) { tick(delay: $delay) }",
    "Hang": "subscription Hang { hang }",
    "Fail": "subscription Fail { fail }",
    "Partial": "subscription Partial { partial }",
    "Echo": "query Echo($value: Int) { echo(value: $value) }",
    "Bump": "mutation Bump($hang: Boolean) { bump(hang: $hang) }",
    "Gated": "query Gated { gated }",
}


def op(name: str, **variables: object) -> GraphQLRequest:
    """The request that runs `name` from the fake server's table."""
    return GraphQLRequest(
        query=QUERIES[name],
        operation_name=name,
        variables=dict(variables) or None,  # type: ignore[arg-type]
    )


async def collect(stream: AsyncIterator[GraphQLResponse], limit: int | None = None) -> list[Any]:
    """The `data` of each result until the stream ends (or `limit` results)."""
    results: list[Any] = []
    async for response in stream:
        results.append(response.data)
        if limit is not None and len(results) >= limit:
            break
    return results


def clew_tasks() -> set[asyncio.Task[Any]]:
    """The client transport's tasks still alive (named ``clew websocket ...``)."""
    return {
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("clew websocket") and not task.done()
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    server = FakeServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(params=BOTH)
def subprotocol(request: pytest.FixtureRequest) -> str:
    """Each subprotocol in turn, for rules that hold for both."""
    return request.param  # type: ignore[no-any-return]


BackendFactory = Callable[..., AIOHTTPBackend]


@pytest.fixture
async def make_backend(fake: FakeServer) -> AsyncIterator[BackendFactory]:
    """Build backends against the fake server with fast timings; all are closed afterwards,
    and then none of the transport's tasks may be left running."""
    backends: list[AIOHTTPBackend] = []

    def make(
        protocols: tuple[str, ...] | list[str] | None = None, **options: object
    ) -> AIOHTTPBackend:
        ws_options: dict[str, object] = {"retry": FAST_RETRY, "idle_timeout": 0.05}
        ws_options.update(options.pop("websocket_options", None) or {})  # type: ignore[call-overload]
        backend = AIOHTTPBackend(
            fake.url,
            # The fake selects the first offered subprotocol: the maintained one unless asked.
            subscription_protocols=protocols or ("graphql-transport-ws", "graphql-ws"),
            websocket_options=ws_options,
            **options,  # type: ignore[arg-type]
        )
        backends.append(backend)
        return backend

    yield make
    for backend in backends:
        await backend.close()
    assert not clew_tasks()
