"""The WebSocket handlers' hooks on SSE: `on_operation` before execution, `on_complete` once
per operation however it ended (completed, stopped by DELETE, the client gone)."""

from __future__ import annotations

import logging

import pytest
from graphql import OperationType
from starlette.requests import Request

from clew.protocol.sse import Complete, Next
from clew.server import GraphQL
from clew.server.sse import GraphQLSSEHandler
from clew.server.websocket import Operation

from .asgi import Exchange, messages_in
from .conftest import Probe, make_app
from .test_sse_distinct import STREAM, post
from .test_sse_single import execute, open_stream, reserve, stop


class Recorder:
    """Every hook call, in order, with what the resolvers had done by then."""

    def __init__(self, probe: Probe, *, refuse: bool = False) -> None:
        self.probe = probe
        self.refuse = refuse
        self.calls: list[tuple[str, Operation]] = []
        #: `probe.closed` when `on_complete` ran: the generator must be closed by then.
        self.closed_at_complete: list[int] = []
        self.requests: list[Request] = []

    async def on_operation(self, request: Request, operation: Operation) -> None:
        self.requests.append(request)
        self.calls.append(("operation", operation))
        if self.refuse:
            raise PermissionError("secret reason")

    def on_complete(self, request: Request, operation: Operation) -> None:
        self.calls.append(("complete", operation))
        self.closed_at_complete.append(self.probe.closed)

    def app(self) -> GraphQL:
        handler = GraphQLSSEHandler(
            keepalive_interval=30, on_operation=self.on_operation, on_complete=self.on_complete
        )
        return make_app(self.probe, sse_handler=handler)


async def test_distinct_mode_calls_each_hook_once(probe: Probe) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    exchange = await post(app, {"query": "query Greet { hello }", "variables": {"x": 1}})
    assert messages_in(exchange.body)[-1] == Complete()
    assert [kind for kind, _ in recorder.calls] == ["operation", "complete"]
    operation = recorder.calls[0][1]
    assert recorder.calls[1][1] is operation
    assert (operation.name, operation.type) == ("Greet", OperationType.QUERY)
    assert operation.payload["query"] == "query Greet { hello }"
    assert operation.payload.get("variables") == {"x": 1}
    assert operation.id  # distinct connections mode: an id the server made
    assert recorder.requests[0].headers["accept"] == "text/event-stream"


async def test_distinct_mode_disconnect_completes_once_after_the_generator_closed(
    probe: Probe,
) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    exchange = Exchange(app, "POST", headers=STREAM, body={"query": "subscription { gated }"})
    exchange.start()
    assert await exchange.next_message() == Next(payload={"data": {"gated": 0}})
    assert [kind for kind, _ in recorder.calls] == ["operation"]
    exchange.disconnect()
    await exchange.response()
    assert [kind for kind, _ in recorder.calls] == ["operation", "complete"]
    assert recorder.closed_at_complete == [1]


async def test_a_failing_on_operation_ends_the_operation_masked(probe: Probe) -> None:
    recorder = Recorder(probe, refuse=True)
    app = recorder.app()
    exchange = await post(app, {"query": "subscription { ticks }"})
    assert messages_in(exchange.body) == [
        Next(payload={"errors": [{"message": "Internal server error"}]}),
        Complete(),
    ]
    assert b"secret reason" not in exchange.body
    assert probe.started == 0  # never executed
    assert [kind for kind, _ in recorder.calls] == ["operation", "complete"]


async def test_invalid_operations_reach_no_hook(probe: Probe) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    await post(app, {"query": "{ nope }"})
    assert recorder.calls == []


async def test_single_mode_hooks_carry_the_operation_id(probe: Probe) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    token = await reserve(app)
    stream = open_stream(app, token)
    assert (await execute(app, token, "{ hello }", "q1")).status == 202
    assert await stream.next_message() == Next(payload={"data": {"hello": "Hello world"}}, id="q1")
    assert await stream.next_message() == Complete(id="q1")
    assert [(kind, op.id) for kind, op in recorder.calls] == [
        ("operation", "q1"),
        ("complete", "q1"),
    ]
    stream.disconnect()
    await stream.response()
    assert len(recorder.calls) == 2  # nothing more when the stream ends


async def test_single_mode_delete_completes_once_after_the_generator_closed(
    probe: Probe,
) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    token = await reserve(app)
    stream = open_stream(app, token)
    await execute(app, token, "subscription { gated }", "g")
    assert await stream.next_message() == Next(payload={"data": {"gated": 0}}, id="g")
    assert (await stop(app, token, "g")).status == 200
    assert [(kind, op.id) for kind, op in recorder.calls] == [
        ("operation", "g"),
        ("complete", "g"),
    ]
    assert recorder.closed_at_complete == [1]
    assert (await stop(app, token, "g")).status == 200
    stream.disconnect()
    await stream.response()
    assert len(recorder.calls) == 2  # once, even after a second DELETE and the disconnect


async def test_single_mode_stream_disconnect_completes_every_operation(probe: Probe) -> None:
    recorder = Recorder(probe)
    app = recorder.app()
    token = await reserve(app)
    stream = open_stream(app, token)
    await execute(app, token, "subscription { gated }", "g1")
    await execute(app, token, "subscription { forever }", "g2")
    await stream.next_message()
    stream.disconnect()
    await stream.response()
    completed = sorted(op.id for kind, op in recorder.calls if kind == "complete")
    assert completed == ["g1", "g2"]
    assert probe.closed == 2


async def test_a_failing_on_complete_is_logged_as_the_sse_hook(
    probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    def on_complete(_request: Request, _operation: Operation) -> None:
        raise RuntimeError("cleanup broke")

    app = make_app(probe, sse_handler=GraphQLSSEHandler(on_complete=on_complete))
    with caplog.at_level(logging.ERROR):
        exchange = await post(app, {"query": "{ hello }"})
    assert messages_in(exchange.body)[-1] == Complete()  # the operation itself went through
    assert "The SSE on_complete hook failed" in [record.getMessage() for record in caplog.records]
