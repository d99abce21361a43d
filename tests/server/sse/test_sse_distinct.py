"""Distinct connections mode: any operation POSTed (or GET) with Accept: text/event-stream."""

from __future__ import annotations

import asyncio

import pytest

from clew.protocol.http import RequestError
from clew.protocol.sse import KEEP_ALIVE, Complete, Next
from clew.server import GraphQL, TrustedDocuments
from clew.server.sse import GraphQLSSEHandler

from .asgi import Exchange, messages_in
from .conftest import Probe, make_app

STREAM = [("accept", "text/event-stream"), ("content-type", "application/json")]


async def post(app: GraphQL, body: dict[str, object], **kwargs: object) -> Exchange:
    return await Exchange(app, "POST", headers=STREAM, body=body, **kwargs).response()  # type: ignore[arg-type]


async def test_a_query_streams_one_next_then_complete(app: GraphQL) -> None:
    exchange = await post(app, {"query": "{ hello }"})
    assert exchange.status == 200
    assert exchange.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert exchange.headers["cache-control"] == "no-cache"
    assert exchange.body.startswith(KEEP_ALIVE)  # the first chunk opens the stream at once
    assert messages_in(exchange.body) == [
        Next(payload={"data": {"hello": "Hello world"}}),
        Complete(),
    ]


async def test_a_query_over_get(app: GraphQL) -> None:
    exchange = await Exchange(
        app,
        "GET",
        headers=[("accept", "text/event-stream")],
        query="query=query+Q($n:String){hello(name:$n)}&variables=%7B%22n%22%3A%22x%22%7D",
    ).response()
    assert messages_in(exchange.body) == [Next(payload={"data": {"hello": "Hello x"}}), Complete()]


async def test_a_mutation(app: GraphQL) -> None:
    exchange = await post(app, {"query": "mutation { add(a: 1, b: 2) }"})
    assert messages_in(exchange.body) == [Next(payload={"data": {"add": 3}}), Complete()]


async def test_a_mutation_over_get_is_405(app: GraphQL) -> None:
    exchange = await Exchange(
        app,
        "GET",
        headers=[("accept", "text/event-stream")],
        query="query=mutation%7Badd(a:1,b:2)%7D",
    ).response()
    assert exchange.status == 405
    assert exchange.headers["allow"] == "POST"


async def test_a_subscription_to_completion_closes_its_generator(
    app: GraphQL, probe: Probe
) -> None:
    exchange = await post(app, {"query": "subscription { ticks(limit: 3) }"})
    assert messages_in(exchange.body) == [
        Next(payload={"data": {"ticks": 0}}),
        Next(payload={"data": {"ticks": 1}}),
        Next(payload={"data": {"ticks": 2}}),
        Complete(),
    ]
    assert probe.closed == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
        ("{ hello", "Syntax Error"),
        ("subscription A { ticks } subscription B { ticks }", "Must provide operation name"),
    ],
)
async def test_request_errors_arrive_inside_the_stream(
    app: GraphQL, query: str, message: str
) -> None:
    exchange = await post(app, {"query": query})
    assert exchange.status == 200
    [first, last] = messages_in(exchange.body)
    assert isinstance(first, Next)
    assert "data" not in first.payload
    assert message in first.payload["errors"][0]["message"]
    assert last == Complete()


async def test_resolver_errors_are_masked_as_on_every_transport(app: GraphQL) -> None:
    exchange = await post(app, {"query": "{ boom refused }"})
    [first, _] = messages_in(exchange.body)
    assert isinstance(first, Next)
    assert first.payload["data"] == {"boom": None, "refused": None}
    assert [e["message"] for e in first.payload["errors"]] == [
        "Internal server error",
        "You may not see this",
    ]
    assert "hunter2" not in exchange.body.decode()


async def test_a_failing_source_ends_with_one_masked_error(app: GraphQL) -> None:
    exchange = await post(app, {"query": "subscription { failing }"})
    messages = messages_in(exchange.body)
    assert messages[0] == Next(payload={"data": {"failing": 1}})
    assert isinstance(messages[1], Next)
    assert messages[1].payload["errors"][0]["message"] == "Internal server error"
    assert messages[2] == Complete()
    assert "secret" not in exchange.body.decode()


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        (STREAM, b"{nope", 400, "not valid JSON"),
        (STREAM, b"{}", 400, "'query' parameter is required"),
        (
            [("accept", "text/event-stream"), ("content-type", "text/plain")],
            b"{}",
            415,
            "Unsupported",
        ),
        ([("accept", "text/event-stream")], b"{}", 415, "needs a Content-Type"),
    ],
)
async def test_malformed_requests_get_the_http_status(
    app: GraphQL, headers: list[tuple[str, str]], body: bytes, status: int, message: str
) -> None:
    exchange = await Exchange(app, "POST", headers=headers, body=body).response()
    assert exchange.status == status
    assert message in exchange.json()["errors"][0]["message"]


async def test_a_body_over_the_limit_is_413(probe: Probe) -> None:
    from clew.server import Limits

    app = make_app(probe, limits=Limits(max_body_bytes=50))
    exchange = await post(app, {"query": "{ hello }", "variables": {"x": "y" * 100}})
    assert exchange.status == 413


async def test_the_default_context_holds_the_request(app: GraphQL, probe: Probe) -> None:
    await post(app, {"query": "{ whoami }"})
    assert isinstance(probe.context, dict)
    assert probe.context["request"].method == "POST"


async def test_a_context_callable_gets_the_request_data(probe: Probe) -> None:
    seen: list[object] = []

    def context(request: object, data: object) -> dict[str, object]:
        seen.append(data)
        return {"user": "ann"}

    app = make_app(probe, context_value=context)
    await post(app, {"query": "{ whoami }", "extensions": {"k": 1}})
    assert seen == [{"query": "{ whoami }", "extensions": {"k": 1}}]
    assert isinstance(probe.context, dict)
    assert probe.context["user"] == "ann"  # the callable's context (the app adds its pub/sub)


async def test_authenticate_refuses_with_its_status(probe: Probe) -> None:
    def authenticate(request: object) -> None:
        raise RequestError(401, "Who are you?")

    app = make_app(probe, sse_handler=GraphQLSSEHandler(authenticate=authenticate))
    exchange = await post(app, {"query": "subscription { ticks }"})
    assert exchange.status == 401
    assert exchange.json() == {"errors": [{"message": "Who are you?"}]}
    assert probe.started == 0


async def test_a_disconnect_mid_stream_closes_the_generator(app: GraphQL, probe: Probe) -> None:
    exchange = Exchange(app, "POST", headers=STREAM, body={"query": "subscription { gated }"})
    exchange.start()
    assert await exchange.next_message() == Next(payload={"data": {"gated": 0}})
    exchange.disconnect()
    await exchange.response()
    assert probe.closed == 1
    assert app.sse_handler is not None
    assert app.sse_handler.open_streams == 0


async def test_keep_alive_comments_on_an_idle_stream(probe: Probe) -> None:
    app = make_app(probe, sse_handler=GraphQLSSEHandler(keepalive_interval=0.05))
    exchange = Exchange(app, "POST", headers=STREAM, body={"query": "subscription { gated }"})
    exchange.start()
    await exchange.next_message()
    await asyncio.sleep(0.5)
    probe.gate.set()
    await exchange.response()
    # The first keep-alive, at least one while idle, then the last event and complete.
    head, _, tail = exchange.body.partition(b'"gated":0}}\n\n')
    assert head.startswith(KEEP_ALIVE)
    assert tail.count(KEEP_ALIVE) >= 2
    assert messages_in(exchange.body)[-2:] == [Next(payload={"data": {"gated": 1}}), Complete()]


async def test_a_slow_reader_pauses_the_source_with_bounded_memory(probe: Probe) -> None:
    app = make_app(probe, sse_handler=GraphQLSSEHandler(max_queued_events=8))
    exchange = Exchange(app, "POST", headers=STREAM, body={"query": "subscription { forever }"})
    exchange.start()
    assert await exchange.next_message() == Next(payload={"data": {"forever": 0}})
    exchange.reading.clear()  # the client stops reading: every send now waits
    await asyncio.sleep(0.3)
    produced = probe.produced
    await asyncio.sleep(0.3)
    # The source is paused, not buffered: nothing more was produced while nobody read,
    # and what was produced is the events in flight plus a full outbox at most.
    assert probe.produced == produced
    assert produced <= 1 + 8 + 8 + 3
    exchange.reading.set()
    seen = [await exchange.next_message() for _ in range(30)]
    assert seen == [Next(payload={"data": {"forever": n}}) for n in range(1, 31)]
    exchange.disconnect()
    await exchange.response()
    assert probe.closed == 1


async def test_plain_http_requests_are_not_claimed(app: GraphQL) -> None:
    exchange = await Exchange(
        app, "POST", headers=[("content-type", "application/json")], body={"query": "{ hello }"}
    ).response()
    assert "event-stream" not in exchange.headers["content-type"]
    assert exchange.json() == {"data": {"hello": "Hello world"}}


async def test_sse_can_be_turned_off(probe: Probe) -> None:
    app = make_app(probe, sse_handler=None)
    exchange = await post(app, {"query": "{ hello }"})
    assert exchange.status == 406


async def test_shutdown_ends_open_streams(app: GraphQL, probe: Probe) -> None:
    exchange = Exchange(app, "POST", headers=STREAM, body={"query": "subscription { gated }"})
    exchange.start()
    await exchange.next_message()
    await asyncio.wait_for(app.shutdown(), 10)
    await exchange.response()
    assert exchange.finished.is_set()
    assert probe.closed == 1


async def test_a_persisted_document_by_document_id(probe: Probe) -> None:
    trusted = TrustedDocuments({"x-app:ticks": "subscription { ticks(limit: 2) }"})
    app = make_app(probe, documents=trusted)
    exchange = await post(app, {"documentId": "x-app:ticks"})
    assert messages_in(exchange.body) == [
        Next(payload={"data": {"ticks": 0}}),
        Next(payload={"data": {"ticks": 1}}),
        Complete(),
    ]
    unknown = await post(app, {"documentId": "x-app:other"})
    assert unknown.status == 400
    assert unknown.body.startswith(b'{"errors":[{"message":"No persisted document has the id')
