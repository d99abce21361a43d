"""Ariadne's documented server API, run as written (only imports changed) against clew on uvicorn.

Each block below is code an Ariadne user has: `GraphQLHTTPHandler(extensions=...,
middleware=..., middleware_manager_class=...)` with lists and per-request callables, an
`Extension` with `request_started`/`resolve`/`has_errors`/`format`, `query_parser(context,
data)`, a `validation_rules` callable, `timedelta` timeouts, `WebSocketConnectionError` in
`on_connect`, `GraphQL(..., websocket_handler=...)` and an explorer answering None. The schema
is built with Ariadne's own `make_executable_schema`. One test per documented method shows that
overriding it in a subclass changes what the server does.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from inspect import iscoroutinefunction
from typing import Any

import aiohttp
import pytest
from ariadne import QueryType, SubscriptionType, make_executable_schema
from graphql import GraphQLError, parse
from graphql.execution import MiddlewareManager
from graphql.pyutils import is_awaitable
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.responses import JSONResponse, PlainTextResponse, Response

# Ariadne: from ariadne.asgi import GraphQL; from ariadne.asgi.handlers import ...;
# from ariadne.types import Extension; from ariadne.exceptions import WebSocketConnectionError
from clew.server import Extension, GraphQL, WebSocketConnectionError
from clew.server.explorer import ExplorerHttp405
from clew.server.handlers import (
    GraphQLHandler,
    GraphQLHTTPHandler,
    GraphQLHttpHandlerBase,
    GraphQLTransportWSHandler,
    GraphQLWSHandler,
)
from live_server import serve

type_defs = """
    scalar Upload
    type Query { hello(name: String = "World"): String!  whoami: String  fail: String }
    type Mutation { upload(file: Upload!): String! }
    type Subscription { counter(to: Int = 2): Int! }
"""

query = QueryType()


@query.field("hello")
def resolve_hello(_, info, name):
    return f"Hello, {name}!"


@query.field("whoami")
def resolve_whoami(_, info):
    return info.context.get("user") if isinstance(info.context, dict) else None


@query.field("fail")
def resolve_fail(_, info):
    raise GraphQLError("boom")


subscription = SubscriptionType()


@subscription.source("counter")
async def counter_generator(obj, info, to):
    for i in range(1, to + 1):
        yield i


@subscription.field("counter")
def counter_resolver(count, info, to):
    return count


schema = make_executable_schema(type_defs, query, subscription)


async def post(url: str, body: object, **headers: str) -> tuple[int, str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as reply,
    ):
        text = await reply.text()
        try:
            return reply.status, reply.headers.get("content-type", ""), json.loads(text)
        except ValueError:
            return reply.status, reply.headers.get("content-type", ""), text


# -- constructor options -----------------------------------------------------------------


class QueryExecutionTimeExtension(Extension):
    def __init__(self):
        self.start_timestamp = None

    def request_started(self, context):
        self.start_timestamp = time.perf_counter_ns()

    def format(self, context):
        if self.start_timestamp:
            exec_time_in_ms = (time.perf_counter_ns() - self.start_timestamp) / 1000000
            return {"execution": exec_time_in_ms}
        return None


class MyExtension(Extension):
    """Ariadne's `resolve` example: records each field's path and time."""

    def __init__(self):
        self.paths = []

    def resolve(self, next_, obj, info, **kwargs):
        path = ".".join(map(str, info.path.as_list()))

        # Fast implementation for synchronous resolvers
        if not iscoroutinefunction(next_):
            start_time = time.time()
            result = next_(obj, info, **kwargs)
            self.paths.append((path, time.time() - start_time))
            return result

        # Create async closure for async `next_` that GraphQL
        # query executor will handle for us.
        async def async_my_extension():
            start_time = time.time()
            result = await next_(obj, info, **kwargs)
            if is_awaitable(result):
                result = await result
            self.paths.append((path, time.time() - start_time))
            return result

        # GraphQL query executor will execute this closure for us
        return async_my_extension()

    def has_errors(self, errors, context):
        self.errors = [error.message for error in errors]

    def format(self, context):
        return {"paths": [path for path, _ in self.paths], "errors": getattr(self, "errors", [])}


async def test_extensions_list_runs_every_hook_including_resolve() -> None:
    app = GraphQL(
        schema,
        http_handler=GraphQLHTTPHandler(extensions=[QueryExecutionTimeExtension, MyExtension]),
    )
    async with serve(app) as url:
        status, _, body = await post(url, {"query": '{ hello(name: "Bob") fail }'})
    assert status == 200
    assert body["data"] == {"hello": "Hello, Bob!", "fail": None}
    # `fail` raised inside `next_`, so the example records only `hello` (as under Ariadne).
    assert body["extensions"]["paths"] == ["hello"]
    assert body["extensions"]["errors"] == ["boom"]
    assert body["extensions"]["execution"] > 0


async def test_extensions_callable_chooses_per_request() -> None:
    def get_extensions(request, context):
        if request.headers.get("x-enable-tracing"):
            return [MyExtension]
        return None

    app = GraphQL(schema, http_handler=GraphQLHTTPHandler(extensions=get_extensions))
    async with serve(app) as url:
        _, _, plain = await post(url, {"query": "{ hello }"})
        _, _, traced = await post(url, {"query": "{ hello }"}, **{"x-enable-tracing": "1"})
    assert "extensions" not in plain
    assert traced["extensions"]["paths"] == ["hello"]


def lowercase_middleware(resolver, obj, info, **args):
    value = resolver(obj, info, **args)
    if isinstance(value, str):
        return value.lower()
    return value


async def test_middleware_list_and_callable_and_manager_class() -> None:
    managers = []

    class CustomMiddlewareManager(MiddlewareManager):
        def __init__(self, *middlewares):
            managers.append(middlewares)
            super().__init__(*middlewares)

    async def get_middleware(request, context):
        return [lowercase_middleware] if request.headers.get("x-lower") else None

    listed = GraphQL(
        schema,
        http_handler=GraphQLHTTPHandler(
            middleware=[lowercase_middleware], middleware_manager_class=CustomMiddlewareManager
        ),
    )
    per_request = GraphQL(schema, http_handler=GraphQLHTTPHandler(middleware=get_middleware))
    async with serve(listed) as url:
        _, _, body = await post(url, {"query": "{ hello }"})
        assert body["data"] == {"hello": "hello, world!"}
    assert managers == [(lowercase_middleware,)]
    async with serve(per_request) as url:
        _, _, plain = await post(url, {"query": "{ hello }"})
        _, _, lower = await post(url, {"query": "{ hello }"}, **{"x-lower": "1"})
    assert plain["data"] == {"hello": "Hello, World!"}
    assert lower["data"] == {"hello": "hello, world!"}


async def test_query_parser_takes_context_and_data() -> None:
    seen = []

    def parse_query(context, data):
        seen.append((type(context).__name__, data["query"]))
        return parse(data["query"].replace("hi", "hello"))

    app = GraphQL(schema, query_parser=parse_query)
    async with serve(app) as url:
        status, _, body = await post(url, {"query": "{ hi }"})
    assert status == 200
    assert body == {"data": {"hello": "Hello, World!"}}
    assert seen == [("dict", "{ hi }")]


async def test_validation_rules_callable_gets_context_document_and_data() -> None:
    def get_validation_rules(context_value, document, data):
        if data.get("operationName") == "Secret":
            return [NoSchemaIntrospectionCustomRule]
        return []

    app = GraphQL(schema, validation_rules=get_validation_rules)
    async with serve(app) as url:
        _, _, open_ = await post(
            url, {"query": "query Open { __typename __schema { queryType { name } } }"}
        )
        status, _, secret = await post(
            url,
            {
                "query": "query Secret { __schema { queryType { name } } }",
                "operationName": "Secret",
            },
            Accept="application/graphql-response+json",
        )
    assert open_["data"]["__schema"] == {"queryType": {"name": "Query"}}
    assert status == 400
    assert "introspection" in secret["errors"][0]["message"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"extensions": QueryExecutionTimeExtension}, "wrap QueryExecutionTimeExtension"),
        ({"extensions": ["not callable"]}, "Extension class"),
        ({"extensions": 3}, "extensions must be"),
        ({"middleware": 3}, "middleware must be"),
        ({"middleware_manager_class": dict}, "middleware_manager_class"),
    ],
)
def test_bad_handler_options_fail_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        GraphQLHTTPHandler(**options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"query_parser": lambda a, b, c: None}, "query_parser"),
        ({"query_parser": "parse"}, "query_parser"),
        ({"validation_rules": lambda document: []}, "context, document, data"),
        ({"validation_rules": [int]}, "ASTValidationRule"),
        ({"validation_rules": NoSchemaIntrospectionCustomRule}, "wrap"),
        ({"explorer": "graphiql"}, "explorer"),
        ({"websocket_handler": GraphQLWSHandler(), "websocket_handlers": []}, "not both"),
    ],
)
def test_bad_app_options_fail_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        GraphQL(schema, **options)


@pytest.mark.parametrize(
    "options",
    [
        {"connection_init_wait_timeout": "10"},
        {"connection_init_wait_timeout": True},
    ],
)
def test_bad_durations_fail_at_construction(options: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="timedelta"):
        GraphQLTransportWSHandler(**options)


def test_timedeltas_are_seconds_from_construction() -> None:
    handler = GraphQLTransportWSHandler(connection_init_wait_timeout=timedelta(minutes=1))
    assert handler.connection_init_wait_timeout == 60.0
    assert GraphQLWSHandler(keepalive=timedelta(milliseconds=1500)).keepalive == 1.5


async def test_an_extension_that_raises_gives_a_masked_graphql_error() -> None:
    class Broken(Extension):
        def request_started(self, context):
            raise RuntimeError("secret detail")

    app = GraphQL(schema, http_handler=GraphQLHTTPHandler(extensions=[Broken]))
    async with serve(app) as url:
        status, content_type, body = await post(url, {"query": "{ hello }"})
    assert status == 500
    assert content_type.startswith("application/json")
    assert body == {"errors": [{"message": "Internal server error"}]}


# -- WebSocket ---------------------------------------------------------------------------


def on_connect(websocket, payload):
    if not (payload or {}).get("token"):
        raise WebSocketConnectionError({"message": "Token missing", "code": "401"})


async def test_websocket_connection_error_rejects_with_4403_on_graphql_transport_ws() -> None:
    app = GraphQL(
        schema,
        websocket_handler=GraphQLTransportWSHandler(
            on_connect=on_connect, connection_init_wait_timeout=timedelta(seconds=10)
        ),
    )
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {}})
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4403
        assert message.extra == "Forbidden"
        async with session.ws_connect(url, protocols=["graphql-transport-ws"]) as accepted:
            await accepted.send_json({"type": "connection_init", "payload": {"token": "t"}})
            assert (await accepted.receive_json(timeout=10)) == {"type": "connection_ack"}
            await accepted.send_json(
                {"type": "subscribe", "id": "1", "payload": {"query": "subscription { counter }"}}
            )
            events = [await accepted.receive_json(timeout=10) for _ in range(3)]
    assert events == [
        {"type": "next", "id": "1", "payload": {"data": {"counter": 1}}},
        {"type": "next", "id": "1", "payload": {"data": {"counter": 2}}},
        {"type": "complete", "id": "1"},
    ]


async def test_websocket_connection_error_sends_connection_error_on_graphql_ws() -> None:
    app = GraphQL(
        schema,
        websocket_handler=GraphQLWSHandler(on_connect=on_connect, keepalive=timedelta(seconds=5)),
    )
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {}})
        message = await ws.receive_json(timeout=10)
    assert message == {
        "type": "connection_error",
        "payload": {"message": "Token missing", "code": "401"},
    }


async def test_a_timedelta_connection_init_wait_timeout_closes_a_silent_socket() -> None:
    app = GraphQL(
        schema,
        websocket_handler=GraphQLTransportWSHandler(
            connection_init_wait_timeout=timedelta(milliseconds=300)
        ),
    )
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        message = await ws.receive(timeout=20)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4408


async def test_the_singular_websocket_handler_serves_only_its_subprotocol() -> None:
    app = GraphQL(schema, websocket_handler=GraphQLWSHandler())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.receive(timeout=10)
        assert ws.close_code == 4406
        async with session.ws_connect(url, protocols=["graphql-ws"]) as legacy:
            assert legacy.protocol == "graphql-ws"


async def test_an_explorer_answering_none_means_405() -> None:
    app = GraphQL(schema, explorer=ExplorerHttp405())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": "text/html"}) as reply,
    ):
        assert reply.status == 405
        assert "POST" in reply.headers["Allow"]


# -- every documented method is an override seam -----------------------------------------


async def _ask(handler: GraphQLHTTPHandler, **request: Any) -> tuple[int, dict[str, str], str]:
    app = GraphQL(schema, http_handler=handler)
    method = request.pop("method", "POST")
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.request(method, url, **request) as reply,
    ):
        return reply.status, dict(reply.headers), await reply.text()


HELLO = {"json": {"query": "{ hello }"}}


def test_the_hierarchy_is_ariadnes() -> None:
    assert issubclass(GraphQLHTTPHandler, GraphQLHttpHandlerBase)
    assert issubclass(GraphQLHttpHandlerBase, GraphQLHandler)
    with pytest.raises(TypeError):
        GraphQLHandler()  # type: ignore[abstract]


async def test_override_handle() -> None:
    class Handler(GraphQLHTTPHandler):
        async def handle(self, scope, receive, send):
            response = PlainTextResponse("handled here", status_code=418)
            await response(scope, receive, send)

    assert (await _ask(Handler(), **HELLO))[::2] == (418, "handled here")


async def test_override_configure() -> None:
    class Handler(GraphQLHTTPHandler):
        def configure(self, *args, **kwargs):
            super().configure(*args, **kwargs)
            self.configured = True

    handler = Handler()
    GraphQL(schema, http_handler=handler)
    assert handler.configured


async def test_override_get_context_for_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def get_context_for_request(self, request, data):
            return {"request": request, "user": request.headers.get("x-user")}

    _, _, text = await _ask(Handler(), json={"query": "{ whoami }"}, headers={"x-user": "ann"})
    assert json.loads(text) == {"data": {"whoami": "ann"}}


async def test_override_handle_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def handle_request(self, request):
            if request.headers.get("x-maintenance"):
                return PlainTextResponse("down for maintenance", status_code=503)
            return await super().handle_request(request)

    assert (await _ask(Handler(), **HELLO, headers={"x-maintenance": "1"}))[0] == 503
    assert json.loads((await _ask(Handler(), **HELLO))[2]) == {"data": {"hello": "Hello, World!"}}


async def test_override_render_explorer() -> None:
    class Handler(GraphQLHTTPHandler):
        async def render_explorer(self, request, explorer):
            return Response("<p>my explorer</p>", media_type="text/html")

    status, _, text = await _ask(Handler(), method="GET", headers={"Accept": "text/html"})
    assert (status, text) == (200, "<p>my explorer</p>")


async def test_override_graphql_http_server() -> None:
    class Handler(GraphQLHTTPHandler):
        async def graphql_http_server(self, request):
            response = await super().graphql_http_server(request)
            response.headers["x-served-by"] = "custom"
            return response

    status, headers, text = await _ask(Handler(), **HELLO)
    assert (status, headers["x-served-by"]) == (200, "custom")
    assert json.loads(text) == {"data": {"hello": "Hello, World!"}}


async def test_override_extract_data_from_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def extract_data_from_request(self, request):
            if request.headers.get("content-type") == "application/graphql":
                return {"query": (await request.body()).decode()}
            return await super().extract_data_from_request(request)

    status, _, text = await _ask(
        Handler(), data=b"{ hello }", headers={"content-type": "application/graphql"}
    )
    assert (status, json.loads(text)) == (200, {"data": {"hello": "Hello, World!"}})


async def test_override_extract_data_from_json_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def extract_data_from_json_request(self, request):
            data = await super().extract_data_from_json_request(request)
            return {**data, "variables": {"name": "Json"}}

    _, _, text = await _ask(
        Handler(), json={"query": "query($name: String) { hello(name: $name) }"}
    )
    assert json.loads(text) == {"data": {"hello": "Hello, Json!"}}


async def test_override_extract_data_from_multipart_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def extract_data_from_multipart_request(self, request):
            data = await super().extract_data_from_multipart_request(request)
            return {"query": '{{ hello(name: "{}") }}'.format(data["variables"]["file"].filename)}

    form = aiohttp.FormData()
    form.add_field(
        "operations",
        json.dumps(
            {
                "query": "mutation($file: Upload!) { upload(file: $file) }",
                "variables": {"file": None},
            }
        ),
    )
    form.add_field("map", json.dumps({"0": ["variables.file"]}))
    form.add_field("0", b"content", filename="upload.txt")
    status, _, text = await _ask(Handler(), data=form, headers={"GraphQL-Require-Preflight": "1"})
    assert (status, json.loads(text)) == (200, {"data": {"hello": "Hello, upload.txt!"}})


async def test_override_extract_data_from_get_request() -> None:
    class Handler(GraphQLHTTPHandler):
        def extract_data_from_get_request(self, request):
            return {"query": '{{ hello(name: "{}") }}'.format(request.query_params["q"])}

    status, _, text = await _ask(Handler(), method="GET", params={"q": "Get"})
    assert (status, json.loads(text)) == (200, {"data": {"hello": "Hello, Get!"}})


async def test_override_execute_graphql_query() -> None:
    class Handler(GraphQLHTTPHandler):
        async def execute_graphql_query(self, request, data, **kwargs):
            success, result = await super().execute_graphql_query(request, data, **kwargs)
            return success, {**result, "extensions": {"wrapped": True}}

    _, _, text = await _ask(Handler(), **HELLO)
    assert json.loads(text) == {"data": {"hello": "Hello, World!"}, "extensions": {"wrapped": True}}


async def test_override_get_extensions_for_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def get_extensions_for_request(self, request, context):
            return [MyExtension]

    _, _, text = await _ask(Handler(), **HELLO)
    assert json.loads(text)["extensions"] == {"paths": ["hello"], "errors": []}


async def test_override_get_middleware_for_request() -> None:
    class Handler(GraphQLHTTPHandler):
        async def get_middleware_for_request(self, request, context):
            return [lowercase_middleware]

    _, _, text = await _ask(Handler(), **HELLO)
    assert json.loads(text) == {"data": {"hello": "hello, world!"}}


async def test_override_create_json_response() -> None:
    class Handler(GraphQLHTTPHandler):
        async def create_json_response(self, request, result, success):
            return JSONResponse({"ok": success, **result}, status_code=200 if success else 299)

    assert json.loads((await _ask(Handler(), **HELLO))[2])["ok"] is True
    status, _, text = await _ask(Handler(), json={"query": "{ nope }"})
    assert (status, json.loads(text)["ok"]) == (299, False)


async def test_override_handle_not_allowed_method() -> None:
    class Handler(GraphQLHTTPHandler):
        def handle_not_allowed_method(self, request):
            return PlainTextResponse(f"no {request.method} here", status_code=405)

    status, _, text = await _ask(Handler(), method="PATCH", **HELLO)
    assert (status, text) == (405, "no PATCH here")


async def test_an_explorer_object_gives_its_page_per_request() -> None:
    class Explorer:
        def html(self, request):
            return f"<p>explorer for {request.url.path}</p>"

    app = GraphQL(schema, explorer=Explorer())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.get(url + "/x", headers={"Accept": "text/html"}) as reply,
    ):
        assert (reply.status, await reply.text()) == (200, "<p>explorer for /x</p>")


def test_the_plain_handler_takes_the_raw_path_and_a_subclass_the_seams() -> None:
    class Handler(GraphQLHTTPHandler):
        async def create_json_response(self, request, result, success):
            return JSONResponse(result)

    assert not GraphQLHTTPHandler()._through_seams
    assert not GraphQLHTTPHandler()._per_request_options
    assert Handler()._through_seams
    assert GraphQLHTTPHandler(extensions=[MyExtension])._per_request_options


async def test_app_extensions_wrap_fields_over_the_websocket_too() -> None:
    seen = []

    class Paths(Extension):
        def resolve(self, next_, obj, info, **kwargs):
            seen.append(".".join(map(str, info.path.as_list())))
            return next_(obj, info, **kwargs)

    app = GraphQL(schema, extensions=[Paths], websocket_handler=GraphQLTransportWSHandler())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init"})
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ hello }"}})
        await ws.send_json(
            {"type": "subscribe", "id": "s", "payload": {"query": "subscription { counter }"}}
        )
        ended = set()
        while ended != {"q", "s"}:
            message = await ws.receive_json(timeout=10)
            if message["type"] == "complete":
                ended.add(message["id"])
    assert sorted(seen) == ["counter", "counter", "hello"]


# -- the WebSocket handlers --------------------------------------------------------------


def test_the_websocket_hierarchy_is_ariadnes() -> None:
    from clew.server.handlers import GraphQLWebsocketHandler, GraphQLWebsocketHandlerBase

    for handler_class in (GraphQLTransportWSHandler, GraphQLWSHandler):
        assert issubclass(handler_class, GraphQLWebsocketHandler)
    assert issubclass(GraphQLWebsocketHandler, GraphQLHandler)
    assert GraphQLWebsocketHandlerBase is GraphQLWebsocketHandler
    with pytest.raises(TypeError):
        GraphQLWebsocketHandler()  # type: ignore[abstract]


async def _init(url: str, protocol: str, payload: dict[str, object]) -> tuple[Any, int | None]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=[protocol]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": payload})
        message = await ws.receive(timeout=10)
        answer = json.loads(message.data) if message.type is aiohttp.WSMsgType.TEXT else None
    return answer, ws.close_code


@pytest.mark.parametrize(
    ("handler_class", "protocol"),
    [(GraphQLTransportWSHandler, "graphql-transport-ws"), (GraphQLWSHandler, "graphql-ws")],
)
async def test_hooks_are_positional_and_settable_attributes(
    handler_class: type[GraphQLTransportWSHandler | GraphQLWSHandler], protocol: str
) -> None:
    connected, disconnected = [], []
    handler = handler_class(lambda websocket, payload: connected.append(payload))
    app = GraphQL(schema, websocket_handler=handler)
    async with serve(app) as url:
        assert (await _init(url, protocol, {"n": 1}))[0] == {"type": "connection_ack"}
        handler.on_connect = on_connect  # Ariadne's attribute, replaced after construction
        handler.on_disconnect = disconnected.append
        answer, _ = await _init(url, protocol, {})
        for _ in range(100):
            if disconnected:
                break
            await asyncio.sleep(0.05)
    assert connected == [{"n": 1}]
    assert answer is None or answer["type"] == "connection_error"
    assert len(disconnected) == 1


async def test_override_handle_websocket() -> None:
    class Handler(GraphQLTransportWSHandler):
        async def handle_websocket(self, websocket):
            if websocket.query_params.get("token") != "t":
                await websocket.close(code=4001)
                return
            await super().handle_websocket(websocket)

    app = GraphQL(schema, websocket_handler=Handler())
    async with serve(app) as url, aiohttp.ClientSession() as session:
        # Closed before it was accepted: the handshake itself is refused (ASGI's 403).
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await session.ws_connect(url, protocols=["graphql-transport-ws"])
        assert caught.value.status == 403
        async with session.ws_connect(
            f"{url}?token=t", protocols=["graphql-transport-ws"]
        ) as accepted:
            await accepted.send_json({"type": "connection_init"})
            assert (await accepted.receive_json(timeout=10)) == {"type": "connection_ack"}
            await accepted.send_json(
                {"type": "subscribe", "id": "1", "payload": {"query": "{ hello }"}}
            )
            assert (await accepted.receive_json(timeout=10)) == {
                "type": "next",
                "id": "1",
                "payload": {"data": {"hello": "Hello, World!"}},
            }


async def test_query_parser_over_the_websocket_gets_the_sockets_context_and_payload() -> None:
    seen = []

    def parse_query(context, data):
        seen.append((context["connection_params"], data["query"]))
        return parse(data["query"])

    app = GraphQL(schema, query_parser=parse_query, websocket_handler=GraphQLTransportWSHandler())
    async with (
        serve(app) as url,
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"token": "t"}})
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": "{ hello }"}})
        assert (await ws.receive_json(timeout=10))["payload"] == {
            "data": {"hello": "Hello, World!"}
        }
    assert seen == [({"token": "t"}, "{ hello }")]


def test_compiled_execution_steps_aside_only_for_field_wrapping_extensions() -> None:
    plain = GraphQL(schema)
    timed = GraphQL(schema, extensions=[QueryExecutionTimeExtension])  # no `resolve` of its own
    wrapped = GraphQL(schema, extensions=[MyExtension])
    for app in (plain, timed, wrapped):
        app.engine.prepare("{ hello }", None)
    assert plain.engine.plans_compiled == timed.engine.plans_compiled == 1
    assert (wrapped.engine.plans_compiled, wrapped.engine.plans_refused) == (0, 1)
