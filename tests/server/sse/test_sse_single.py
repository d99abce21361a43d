"""Single connection mode: PUT reserves, the token opens one stream, operations POST and DELETE."""

from __future__ import annotations

import asyncio

import pytest

from clew.protocol.sse import Complete, Next
from clew.server import GraphQL, Limits, TrustedDocuments
from clew.server.sse import GraphQLSSEHandler

from .asgi import Exchange
from .conftest import Probe, make_app

TOKEN = "x-graphql-event-stream-token"


async def reserve(app: GraphQL) -> str:
    exchange = await Exchange(app, "PUT").response()
    assert exchange.status == 201
    assert exchange.headers["content-type"] == "text/plain; charset=utf-8"
    return exchange.body.decode()


def open_stream(app: GraphQL, token: str) -> Exchange:
    headers = [(TOKEN, token), ("accept", "text/event-stream")]
    return Exchange(app, "GET", headers=headers, single_connection=True).start()


async def execute(
    app: GraphQL, token: str, query: str, operation_id: str | None, **extra: object
) -> Exchange:
    extensions = {} if operation_id is None else {"operationId": operation_id}
    headers = [(TOKEN, token), ("content-type", "application/json"), ("accept", "*/*")]
    body = {"query": query, "extensions": extensions, **extra}
    return await Exchange(app, "POST", headers=headers, body=body).response()


async def stop(app: GraphQL, token: str, operation_id: str | None) -> Exchange:
    query = "" if operation_id is None else f"operationId={operation_id}"
    return await Exchange(app, "DELETE", headers=[(TOKEN, token)], query=query).response()


async def test_reserve_open_execute_and_complete(app: GraphQL, probe: Probe) -> None:
    token = await reserve(app)
    assert len(token) >= 32
    stream = open_stream(app, token)
    assert (await execute(app, token, "{ hello }", "q1")).status == 202
    assert await stream.next_message() == Next(payload={"data": {"hello": "Hello world"}}, id="q1")
    assert await stream.next_message() == Complete(id="q1")
    assert (await execute(app, token, "subscription { ticks(limit: 2) }", "s1")).status == 202
    assert [await stream.next_message() for _ in range(3)] == [
        Next(payload={"data": {"ticks": 0}}, id="s1"),
        Next(payload={"data": {"ticks": 1}}, id="s1"),
        Complete(id="s1"),
    ]
    assert stream.status == 200
    assert not stream.finished.is_set()  # the stream outlives its operations
    stream.disconnect()
    await stream.response()
    assert probe.closed == 1


async def test_operations_before_the_stream_opens_are_delivered_when_it_does(
    app: GraphQL,
) -> None:
    token = await reserve(app)
    assert (await execute(app, token, "mutation { add(a: 2, b: 3) }", "m")).status == 202
    stream = open_stream(app, token)
    assert await stream.next_message() == Next(payload={"data": {"add": 5}}, id="m")
    assert await stream.next_message() == Complete(id="m")
    stream.disconnect()
    await stream.response()


async def test_a_second_stream_for_the_reservation_is_409(app: GraphQL) -> None:
    token = await reserve(app)
    first = open_stream(app, token)
    await first.started.wait()
    second = await open_stream(app, token).response()
    assert second.status == 409
    assert second.json() == {"errors": [{"message": "Stream already open"}]}
    first.disconnect()
    await first.response()


@pytest.mark.parametrize("token", ["nope", "../../etc", "x" * 5000, "é"])
async def test_unknown_or_malformed_tokens_are_404(app: GraphQL, token: str) -> None:
    await reserve(app)
    for exchange in (
        await open_stream(app, token).response(),
        await execute(app, token, "{ hello }", "a"),
        await stop(app, token, "a"),
    ):
        assert exchange.status == 404
        assert exchange.json() == {"errors": [{"message": "Stream not found"}]}


async def test_the_token_may_travel_in_the_query_string(app: GraphQL) -> None:
    token = await reserve(app)
    stream = Exchange(
        app,
        "GET",
        headers=[("accept", "text/event-stream")],
        query=f"token={token}",
        single_connection=True,
    ).start()
    await execute(app, token, "{ hello }", "q")
    assert await stream.next_message() == Next(payload={"data": {"hello": "Hello world"}}, id="q")
    stream.disconnect()
    await stream.response()


async def test_execute_refusals(app: GraphQL) -> None:
    token = await reserve(app)
    stream = open_stream(app, token)
    missing = await execute(app, token, "{ hello }", None)
    assert (missing.status, missing.json()["errors"][0]["message"]) == (
        400,
        "Operation ID is missing",
    )
    await execute(app, token, "subscription { gated }", "g")
    duplicate = await execute(app, token, "{ hello }", "g")
    assert (duplicate.status, duplicate.json()["errors"][0]["message"]) == (
        409,
        "Operation with ID already exists",
    )
    invalid = await execute(app, token, "{ nope }", "v")
    assert invalid.status == 400
    assert "Cannot query field 'nope'" in invalid.json()["errors"][0]["message"]
    # Unlike the reference server, a refused operation does not keep its id.
    assert (await execute(app, token, "{ hello }", "v")).status == 202
    headers = [(TOKEN, token), ("content-type", "application/json"), ("accept", "text/html")]
    refused = await Exchange(app, "POST", headers=headers, body={"query": "{ hello }"}).response()
    assert refused.status == 406
    mutation = await Exchange(
        app,
        "GET",
        headers=[(TOKEN, token)],
        query="query=mutation%7Badd(a:1,b:1)%7D&extensions=%7B%22operationId%22:%22z%22%7D",
    ).response()
    assert mutation.status == 405
    assert (await execute(app, token, "{ hello }", "z")).status == 202
    stream.disconnect()
    await stream.response()


async def test_delete_stops_the_operation_and_closes_its_generator(
    app: GraphQL, probe: Probe
) -> None:
    token = await reserve(app)
    stream = open_stream(app, token)
    await execute(app, token, "subscription { gated }", "g")
    assert await stream.next_message() == Next(payload={"data": {"gated": 0}}, id="g")
    assert (await stop(app, token, "g")).status == 200
    assert probe.closed == 1  # closed before the 200
    assert (await stop(app, token, "g")).status == 200  # unknown or finished: 200 too
    missing = await stop(app, token, None)
    assert (missing.status, missing.json()["errors"][0]["message"]) == (
        400,
        "Operation ID is missing",
    )
    # Nothing more comes for the stopped operation; the stream carries on.
    await execute(app, token, "{ hello }", "after")
    assert await stream.next_message() == Next(
        payload={"data": {"hello": "Hello world"}}, id="after"
    )
    stream.disconnect()
    await stream.response()


async def test_a_stream_disconnect_kills_the_token_and_its_operations(
    app: GraphQL, probe: Probe
) -> None:
    token = await reserve(app)
    stream = open_stream(app, token)
    await execute(app, token, "subscription { gated }", "g1")
    await execute(app, token, "subscription { forever }", "g2")
    await stream.next_message()
    stream.disconnect()
    await stream.response()
    assert probe.closed == 2
    assert (await execute(app, token, "{ hello }", "x")).status == 404
    assert (await open_stream(app, token).response()).status == 404


async def test_a_reservation_never_opened_expires(probe: Probe) -> None:
    app = make_app(probe, sse_handler=GraphQLSSEHandler(reservation_timeout=0.05))
    token = await reserve(app)
    await execute(app, token, "subscription { gated }", "g")
    await asyncio.sleep(0.5)
    assert (await open_stream(app, token).response()).status == 404
    assert probe.closed == 1


async def test_too_many_operations_is_429(probe: Probe) -> None:
    app = make_app(probe, limits=Limits(max_operations_per_connection=2))
    token = await reserve(app)
    stream = open_stream(app, token)
    for operation_id in ("a", "b"):
        assert (await execute(app, token, "subscription { gated }", operation_id)).status == 202
    assert (await execute(app, token, "subscription { gated }", "c")).status == 429
    stream.disconnect()
    await stream.response()


async def test_reservation_refusals(app: GraphQL) -> None:
    refused = await Exchange(app, "PUT", headers=[("accept", "application/json")]).response()
    assert refused.status == 406
    token = await reserve(app)
    patch = await Exchange(app, "PATCH", headers=[(TOKEN, token)]).response()
    assert patch.status == 405
    assert patch.headers["allow"] == "GET, POST, PUT, DELETE"


async def test_single_connection_mode_can_be_turned_off(probe: Probe) -> None:
    app = make_app(probe, sse_handler=GraphQLSSEHandler(single_connection=False))
    assert (await Exchange(app, "PUT").response()).status == 405
    # A token is then just a header: the POST is plain GraphQL over HTTP.
    exchange = await execute(app, "whatever", "{ hello }", "a")
    assert exchange.json() == {"data": {"hello": "Hello world"}}


async def test_shutdown_ends_single_connection_streams(app: GraphQL, probe: Probe) -> None:
    token = await reserve(app)
    stream = open_stream(app, token)
    await execute(app, token, "subscription { gated }", "g")
    await stream.next_message()
    await asyncio.wait_for(app.shutdown(), 10)
    await stream.response()
    assert probe.closed == 1


async def test_an_operation_by_document_id(probe: Probe) -> None:
    app = make_app(probe, documents=TrustedDocuments({"x-app:hello": "{ hello }"}))
    token = await reserve(app)
    stream = open_stream(app, token)
    headers = [(TOKEN, token), ("content-type", "application/json"), ("accept", "*/*")]
    body = {"documentId": "x-app:hello", "extensions": {"operationId": "q1"}}
    assert (await Exchange(app, "POST", headers=headers, body=body).response()).status == 202
    assert await stream.next_message() == Next(payload={"data": {"hello": "Hello world"}}, id="q1")
    assert await stream.next_message() == Complete(id="q1")
    body["documentId"] = "x-app:other"
    unknown = await Exchange(app, "POST", headers=headers, body=body).response()
    assert unknown.status == 400
    stream.disconnect()
