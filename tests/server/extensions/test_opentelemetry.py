"""OpenTelemetry spans, recorded by the SDK's in-memory exporter: one per operation over HTTP, SSE
and both WebSocket subprotocols, error attributes, the client's trace context as parent, and
resolver spans through the field-level middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.testclient import TestClient

from clew.server import GraphQL
from clew.server.extensions import OpenTelemetry

SDL = """
type Query { hello(name: String = "world"): String! fail: String slow: String book: Book }
type Book { title: String! author: String! }
type Subscription { count(to: Int!): Int! failing: Int! }
"""
#: A client span's context, as the W3C `traceparent` it would send.
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def resolvers() -> dict[str, dict[str, object]]:
    async def count(_root: object, _info: object, to: int) -> AsyncIterator[int]:
        for n in range(1, to + 1):
            yield n

    def fail(_root: object, _info: object) -> str:
        raise ValueError("boom")

    async def failing(_root: object, _info: object) -> AsyncIterator[int]:
        yield 1
        raise ValueError("source broke")

    async def slow(_root: object, _info: object) -> str:
        await asyncio.sleep(0)
        return "done"

    return {
        "Query": {
            "hello": lambda _r, _i, name: f"Hello, {name}!",
            "fail": fail,
            "slow": slow,
            "book": lambda _r, _i: {"title": "Dune", "author": "Herbert"},
        },
        "Subscription": {"count": count, "failing": failing},
    }


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exporter: InMemorySpanExporter) -> OpenTelemetry:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return OpenTelemetry(tracer_provider=provider)


def app_with(tracing: OpenTelemetry, *, resolver_spans: bool = False) -> TestClient:
    middleware = [tracing.resolvers] if resolver_spans else None
    app = GraphQL.from_sdl(
        SDL, resolvers(), extensions=[tracing], middleware=middleware, debug=True
    )
    return TestClient(app)


def only(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def test_an_http_query_gets_one_server_span(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing)
    assert client.post("/", json={"query": "query Hi { hello }"}).status_code == 200
    span = only(exporter.get_finished_spans())
    assert span.name == "query Hi"
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes or {}) == {
        "graphql.operation.type": "query",
        "graphql.operation.name": "Hi",
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent is None


def test_errors_set_the_status_and_one_event_each(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing)
    client.post("/", json={"query": "{ fail hello }"})
    span = only(exporter.get_finished_spans())
    assert span.name == "query"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "boom"
    (event,) = span.events
    assert event.name == "graphql.error"
    assert dict(event.attributes or {}) == {
        "graphql.error.message": "boom",
        "graphql.error.path": "fail",
    }


def test_the_traceparent_header_is_the_parent(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing)
    client.post("/", json={"query": "{ hello }"}, headers={"traceparent": TRACEPARENT})
    span = only(exporter.get_finished_spans())
    assert span.parent is not None
    assert (span.parent.trace_id, span.parent.span_id) == (int(TRACE_ID, 16), int(PARENT_ID, 16))
    assert span.context is not None
    assert span.context.trace_id == int(TRACE_ID, 16)


@pytest.mark.parametrize(
    ("subprotocol", "subscribe", "done"),
    [
        ("graphql-transport-ws", "subscribe", "complete"),
        ("graphql-ws", "start", "complete"),
    ],
)
def test_each_websocket_operation_gets_a_span_parented_by_connection_init(
    tracing: OpenTelemetry,
    exporter: InMemorySpanExporter,
    subprotocol: str,
    subscribe: str,
    done: str,
) -> None:
    client = app_with(tracing)
    with client.websocket_connect("/", subprotocols=[subprotocol]) as websocket:
        websocket.send_json({"type": "connection_init", "payload": {"traceparent": TRACEPARENT}})
        assert websocket.receive_json()["type"] == "connection_ack"
        payload = {"query": "subscription Count { count(to: 2) }"}
        websocket.send_json({"id": "1", "type": subscribe, "payload": payload})
        seen = []
        while True:
            message = websocket.receive_json()
            if message["type"] == "ka":
                continue
            seen.append(message["type"])
            if message["type"] == done:
                break
        assert seen == ["next" if subprotocol == "graphql-transport-ws" else "data"] * 2 + [done]
        websocket.send_json({"id": "2", "type": subscribe, "payload": {"query": "{ hello }"}})
        while websocket.receive_json()["type"] != done:
            pass
    spans = sorted(exporter.get_finished_spans(), key=lambda span: span.name)
    assert [span.name for span in spans] == ["query", "subscription Count"]
    for span in spans:
        assert span.kind is SpanKind.SERVER
        assert span.parent is not None
        assert span.parent.trace_id == int(TRACE_ID, 16)
    assert dict(spans[1].attributes or {})["graphql.operation.type"] == "subscription"


def test_resolver_spans_nest_under_the_operation(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing, resolver_spans=True)
    answer = client.post("/", json={"query": "{ hello slow book { title } fail }"}).json()
    assert answer["data"]["slow"] == "done"
    spans = {span.name: span for span in exporter.get_finished_spans()}
    # Fields resolved by reading a key (Book.title) get no span of their own.
    assert set(spans) == {"query", "Query.hello", "Query.slow", "Query.book", "Query.fail"}
    operation = spans["query"]
    assert operation.context is not None
    for name in ("Query.hello", "Query.slow", "Query.book", "Query.fail"):
        span = spans[name]
        assert span.parent is not None
        assert span.parent.span_id == operation.context.span_id, name
    assert dict(spans["Query.slow"].attributes or {}) == {
        "graphql.field.name": "slow",
        "graphql.field.path": "slow",
        "graphql.field.type": "String",
    }
    assert spans["Query.fail"].status.status_code is StatusCode.ERROR
    assert spans["Query.hello"].status.status_code is StatusCode.UNSET


def test_no_resolver_spans_without_an_operation_span(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    # The middleware alone (no extension): nothing to nest under, so no orphan spans.
    app = GraphQL.from_sdl(SDL, resolvers(), middleware=[tracing.resolvers])
    assert TestClient(app).post("/", json={"query": "{ hello }"}).json() == {
        "data": {"hello": "Hello, world!"}
    }
    assert exporter.get_finished_spans() == ()


def test_a_failing_subscription_ends_its_span_with_the_error(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing)
    with client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as websocket:
        websocket.send_json({"type": "connection_init"})
        assert websocket.receive_json()["type"] == "connection_ack"
        payload = {"query": "subscription { failing }"}
        websocket.send_json({"id": "1", "type": "subscribe", "payload": payload})
        kinds = []
        while not kinds or kinds[-1] not in {"error", "complete"}:
            message = websocket.receive_json()
            if message["type"] != "ping":
                kinds.append(message["type"])
        assert kinds[0] == "next"
    span = only(exporter.get_finished_spans())
    assert span.name == "subscription"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "source broke"


def test_an_sse_operation_gets_a_span_parented_by_the_traceparent_header(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing)
    headers = {"accept": "text/event-stream", "traceparent": TRACEPARENT}
    body = {"query": "subscription Count { count(to: 2) }"}
    with client.stream("POST", "/", json=body, headers=headers) as response:
        assert response.status_code == 200
        events = [line for line in response.iter_lines() if line.startswith("event:")]
    assert events == ["event: next", "event: next", "event: complete"]
    span = only(exporter.get_finished_spans())
    assert span.name == "subscription Count"
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes or {})["graphql.operation.type"] == "subscription"
    assert span.parent is not None
    assert (span.parent.trace_id, span.parent.span_id) == (int(TRACE_ID, 16), int(PARENT_ID, 16))


def test_meta_fields_pass_through_the_resolver_spans(
    tracing: OpenTelemetry, exporter: InMemorySpanExporter
) -> None:
    client = app_with(tracing, resolver_spans=True)
    answer = client.post("/", json={"query": "{ __typename hello book { __typename title } }"})
    assert answer.json() == {
        "data": {
            "__typename": "Query",
            "hello": "Hello, world!",
            "book": {"__typename": "Book", "title": "Dune"},
        }
    }
    names = sorted(span.name for span in exporter.get_finished_spans())
    assert names == ["Query.book", "Query.hello", "query"]
