"""The ASGI app: mounting, schema input, subprotocol routing (4406) and graceful shutdown."""

from __future__ import annotations

import asyncio
import gc

import pytest
from graphql import build_schema
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from clew.protocol import Subprotocol
from clew.server import Engine, GraphQL

from .helpers import make_app


class FakeHandler:
    """A WebSocket handler that accepts with its subprotocol and says which one it is."""

    def __init__(self, subprotocol: Subprotocol) -> None:
        self.subprotocol = subprotocol
        self.engine: Engine | None = None
        self.shutdowns = 0

    def configure(self, engine: Engine) -> None:
        self.engine = engine

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        await websocket.accept(subprotocol=self.subprotocol.value)
        await websocket.send_text(self.subprotocol.value)
        await websocket.close()

    async def shutdown(self) -> None:
        self.shutdowns += 1


def test_mountable_in_starlette() -> None:
    outer = Starlette(routes=[Mount("/graphql", app=make_app())])
    response = TestClient(outer).post("/graphql/", json={"query": "{ hello }"})
    assert response.json() == {"data": {"hello": "Hello world"}}


def test_a_schema_object_or_sdl_is_accepted() -> None:
    schema = build_schema("type Query { answer: Int }")
    for source in (schema, "type Query { answer: Int }"):
        app = GraphQL(source, root_value={"answer": 42}, websocket_handlers=[])
        assert TestClient(app).post("/", json={"query": "{ answer }"}).json() == {
            "data": {"answer": 42}
        }


def test_from_sdl_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="no object type named 'Nope'"):
        GraphQL.from_sdl("type Query { a: Int }", {"Nope": {}}, websocket_handlers=[])
    with pytest.raises(ValueError, match="Query has no field named 'b'"):
        GraphQL.from_sdl(
            "type Query { a: Int }", {"Query": {"b": lambda *_: 1}}, websocket_handlers=[]
        )


def test_state_lives_on_the_app() -> None:
    first, second = make_app(), make_app()
    first.state.items = [1]
    assert not hasattr(second.state, "items")
    assert first.engine is not second.engine


def test_handlers_are_configured_with_the_engine() -> None:
    handler = FakeHandler(Subprotocol.GRAPHQL_TRANSPORT_WS)
    app = make_app(websocket_handlers=[handler])
    assert handler.engine is app.engine


def test_an_unsupported_subprotocol_is_closed_with_4406() -> None:
    app = make_app(websocket_handlers=[FakeHandler(Subprotocol.GRAPHQL_TRANSPORT_WS)])
    with TestClient(app).websocket_connect("/", subprotocols=["graphql-ws", "chat"]) as websocket:
        assert websocket.accepted_subprotocol is None
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert (closed.value.code, closed.value.reason) == (4406, "Subprotocol not acceptable")


def test_no_subprotocol_at_all_is_closed_with_4406() -> None:
    app = make_app(websocket_handlers=[FakeHandler(Subprotocol.GRAPHQL_WS)])
    with (
        TestClient(app).websocket_connect("/") as websocket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        websocket.receive_text()
    assert closed.value.code == 4406


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["graphql-ws"], "graphql-ws"),
        (["graphql-transport-ws"], "graphql-transport-ws"),
        (["graphql-ws", "graphql-transport-ws"], "graphql-transport-ws"),
    ],
)
def test_the_socket_goes_to_the_handler_of_the_negotiated_subprotocol(
    offered: list[str], chosen: str
) -> None:
    handlers = [FakeHandler(Subprotocol.GRAPHQL_WS), FakeHandler(Subprotocol.GRAPHQL_TRANSPORT_WS)]
    with TestClient(make_app(websocket_handlers=handlers)).websocket_connect(
        "/", subprotocols=offered
    ) as websocket:
        assert websocket.accepted_subprotocol == chosen
        assert websocket.receive_text() == chosen


async def test_lifespan_shutdown_lets_an_in_flight_request_finish() -> None:
    handler = FakeHandler(Subprotocol.GRAPHQL_TRANSPORT_WS)
    app = make_app(websocket_handlers=[handler])
    entered, gate = asyncio.Event(), asyncio.Event()

    async def slow(*_args: object) -> str:
        entered.set()
        await gate.wait()
        return "done"

    app.schema.query_type.fields["slow"].resolve = slow  # type: ignore[union-attr]
    events: list[str] = []
    lifespan_inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()

    async def lifespan_send(message: dict[str, object]) -> None:
        events.append(str(message["type"]))

    async def request_receive() -> dict[str, object]:
        return {"type": "http.request", "body": b'{"query":"{ slow }"}', "more_body": False}

    async def request_send(message: dict[str, object]) -> None:
        events.append(f"{message['type']}:{message.get('status', message.get('body'))}")

    await lifespan_inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan"}, lifespan_inbox.get, lifespan_send))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    request = asyncio.create_task(app(scope, request_receive, request_send))
    await entered.wait()
    await lifespan_inbox.put({"type": "lifespan.shutdown"})
    for _ in range(20):
        await asyncio.sleep(0)
    assert "lifespan.shutdown.complete" not in events
    assert handler.shutdowns == 1
    gate.set()
    await asyncio.wait_for(asyncio.gather(request, lifespan), 5)
    assert events == [
        "lifespan.startup.complete",
        "http.response.start:200",
        'http.response.body:b\'{"data":{"slow":"done"}}\'',
        "lifespan.shutdown.complete",
    ]


async def test_shutdown_without_requests_returns_at_once() -> None:
    handler = FakeHandler(Subprotocol.GRAPHQL_WS)
    app = make_app(websocket_handlers=[handler])
    await asyncio.wait_for(app.shutdown(), 1)
    assert handler.shutdowns == 1


@pytest.mark.parametrize("freeze_gc", [True, False])
async def test_lifespan_startup_freezes_what_is_alive_and_shutdown_releases_it(
    freeze_gc: bool,
) -> None:
    # A full collection pauses every request in flight for as long as it walks the heap:
    # what startup leaves alive (modules, the schema) is moved out of its reach, and back at
    # shutdown. freeze_gc=False leaves the collector alone.
    gc.unfreeze()  # whatever another app left frozen in this process
    app = GraphQL("type Query { hello: String }", freeze_gc=freeze_gc)
    inbox: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    events: list[str] = []

    async def send(message: dict[str, object]) -> None:
        events.append(str(message["type"]))

    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    try:
        for _ in range(100):
            if events:
                break
            await asyncio.sleep(0.01)
        assert events == ["lifespan.startup.complete"]
        frozen = gc.get_freeze_count()
        if freeze_gc:
            # The app, its schema and the modules loaded: tens of thousands of objects.
            assert frozen > 10_000
        else:
            assert frozen == 0
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(lifespan, 5)
        assert events == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        lifespan.cancel()
