"""The WebSocket hooks in both subprotocols: arguments, order, rejection and what resolvers see."""

from __future__ import annotations

import json
import logging

import pytest
from graphql import OperationType
from starlette.websockets import WebSocketDisconnect
from ws_support import LEGACY, TRANSPORT, Tracker, connect, make_app, subscribe

from clew.server import Limits
from clew.server.websocket import Operation


@pytest.fixture
def tracker() -> Tracker:
    return Tracker()


def data_of(ws: object) -> dict[str, object]:
    frame = ws.receive_json()  # type: ignore[attr-defined]
    assert frame["type"] in ("next", "data"), frame
    payload: dict[str, object] = frame["payload"]
    return payload


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_on_connect_result_and_params_reach_the_resolvers(
    tracker: Tracker, subprotocol: str
) -> None:
    with connect(make_app(tracker), subprotocol, init={"token": "abc"}) as ws:
        subscribe(ws, "1", "{ whoami }", subprotocol)
        seen = json.loads(data_of(ws)["data"]["whoami"])  # type: ignore[index]
    assert seen == {"params": {"token": "abc"}, "result": {"user": "abc"}, "token": None}
    assert tracker.calls[0] == ("on_connect", {"token": "abc"})


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_a_context_value_callable_gets_the_socket_and_the_init_payload(
    tracker: Tracker, subprotocol: str
) -> None:
    def context(websocket: object, data: dict[str, object]) -> dict[str, object]:
        return {"token": data.get("token"), "kind": websocket.scope["type"]}  # type: ignore[attr-defined]

    app = make_app(tracker, context_value=context)
    with connect(app, subprotocol, init={"token": "t1"}) as ws:
        subscribe(ws, "1", "{ whoami }", subprotocol)
        seen = json.loads(data_of(ws)["data"]["whoami"])  # type: ignore[index]
    # A user's context is left as the callable built it.
    assert seen == {"params": None, "result": None, "token": "t1"}


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_operation_hooks_see_each_operation_once_in_order(
    tracker: Tracker, subprotocol: str
) -> None:
    with connect(make_app(tracker), subprotocol) as ws:
        subscribe(ws, "q", "query Hi { hello }", subprotocol)
        data_of(ws)
        assert ws.receive_json()["type"] == "complete"
        subscribe(ws, "s", "subscription Tick { ticks(limit: 1) }", subprotocol, variables={})
        data_of(ws)
        assert ws.receive_json()["type"] == "complete"
        subscribe(ws, "bad", "{ nope }", subprotocol)
        assert ws.receive_json()["type"] == "error"
    assert tracker.hook_names() == [
        "on_connect",
        "on_operation",
        "on_complete",
        "on_operation",
        "on_complete",
        "on_disconnect",
    ]
    query, subscription = tracker.calls[1][1], tracker.calls[3][1]
    assert query == Operation(
        id="q", name="Hi", type=OperationType.QUERY, payload={"query": "query Hi { hello }"}
    )
    assert isinstance(subscription, Operation)
    assert (subscription.id, subscription.name, subscription.type) == (
        "s",
        "Tick",
        OperationType.SUBSCRIPTION,
    )
    assert tracker.calls[4][1] is subscription


def test_on_connect_returning_false_closes_4403(tracker: Tracker) -> None:
    with connect(make_app(tracker), init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "false"}})
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert (caught.value.code, caught.value.reason) == (4403, "Forbidden")
    assert tracker.hook_names() == ["on_connect", "on_disconnect"]


def test_connection_rejected_closes_4403(tracker: Tracker) -> None:
    with connect(make_app(tracker), init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "wrong"}})
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert caught.value.code == 4403


@pytest.mark.parametrize(
    ("token", "payload", "reason"),
    [
        ("wrong", {"message": "Bad token", "code": "AUTH"}, "Bad token"),
        ("false", {"message": "Forbidden"}, "Forbidden"),
    ],
)
def test_legacy_rejection_sends_connection_error_then_closes_1011(
    tracker: Tracker, token: str, payload: dict[str, str], reason: str
) -> None:
    with connect(make_app(tracker), LEGACY, init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": token}})
        assert ws.receive_json() == {"type": "connection_error", "payload": payload}
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert (caught.value.code, caught.value.reason) == (1011, reason)


def test_legacy_start_sent_with_a_rejected_init_gets_an_error_before_the_close(
    tracker: Tracker,
) -> None:
    # subscriptions-transport-ws' client writes `start` right behind `connection_init`; like
    # the reference server, clew answers it with `error` so the client ends the operation.
    with connect(make_app(tracker), LEGACY, init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "wrong"}})
        subscribe(ws, "1", "subscription { ticks }", LEGACY)
        subscribe(ws, "2", "{ hello }", LEGACY)
        ws.send_json({"type": "stop", "id": "1"})
        assert ws.receive_json() == {
            "type": "connection_error",
            "payload": {"message": "Bad token", "code": "AUTH"},
        }
        assert ws.receive_json() == {
            "type": "error",
            "id": "1",
            "payload": {"message": "Bad token"},
        }
        assert ws.receive_json() == {
            "type": "error",
            "id": "2",
            "payload": {"message": "Bad token"},
        }
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert (caught.value.code, caught.value.reason) == (1011, "Bad token")
    assert tracker.started == 0
    assert tracker.hook_names() == ["on_connect", "on_disconnect"]


def test_legacy_rejection_skips_frames_over_the_size_limit(tracker: Tracker) -> None:
    app = make_app(tracker, limits=Limits(max_websocket_message_bytes=128))
    with connect(app, LEGACY, init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "false"}})
        subscribe(ws, "big", "{ hello }", LEGACY, extensions={"pad": "x" * 128})
        subscribe(ws, "small", "{ hello }", LEGACY)
        assert ws.receive_json()["type"] == "connection_error"
        assert ws.receive_json() == {
            "type": "error",
            "id": "small",
            "payload": {"message": "Forbidden"},
        }
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert caught.value.code == 1011


def test_legacy_rejection_stops_reading_when_the_client_closes(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY, init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "false"}})
        subscribe(ws, "1", "{ hello }", LEGACY)
        ws.close(1000)
        assert ws.receive_json() == {
            "type": "connection_error",
            "payload": {"message": "Forbidden"},
        }
        assert ws.receive_json() == {
            "type": "error",
            "id": "1",
            "payload": {"message": "Forbidden"},
        }
    # The drain saw the disconnect and ended; nothing ran for the pending start.
    assert tracker.started == 0


def test_subscribe_sent_with_a_rejected_init_is_not_answered(tracker: Tracker) -> None:
    # graphql-transport-ws: the 4403 close alone ends whatever the client sent meanwhile.
    with connect(make_app(tracker), init=False) as ws:
        ws.send_json({"type": "connection_init", "payload": {"token": "wrong"}})
        subscribe(ws, "1", "{ hello }")
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert (caught.value.code, caught.value.reason) == (4403, "Forbidden")
    assert tracker.started == 0


@pytest.mark.parametrize(("subprotocol", "code"), [(TRANSPORT, 4500), (LEGACY, 1011)])
def test_an_on_connect_bug_is_an_internal_error_with_its_traceback_logged(
    tracker: Tracker, subprotocol: str, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="clew.server"),
        connect(make_app(tracker), subprotocol, init=False) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"token": "crash"}})
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert (caught.value.code, caught.value.reason) == (code, "Internal server error")
    [record] = [r for r in caplog.records if "on_connect" in r.getMessage()]
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "on_connect bug"


def test_failing_notification_hooks_are_logged_and_change_nothing(
    tracker: Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("hook bug")

    from ws_support import SDL, resolvers

    from clew.server import GraphQL
    from clew.server.websocket import GraphQLTransportWSHandler

    handler = GraphQLTransportWSHandler(on_complete=broken, on_disconnect=broken)
    app = GraphQL.from_sdl(SDL, resolvers(tracker), websocket_handlers=[handler])
    with caplog.at_level(logging.ERROR, logger="clew.server"), connect(app) as ws:
        subscribe(ws, "1", "{ hello }")
        data_of(ws)
        assert ws.receive_json()["type"] == "complete"
        subscribe(ws, "2", "{ hello }")
        assert data_of(ws) == {"data": {"hello": "Hello world"}}
    messages = [record.getMessage() for record in caplog.records]
    assert "The WebSocket on_complete hook failed" in messages


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_a_failing_on_operation_ends_that_operation_with_an_error(
    tracker: Tracker, subprotocol: str
) -> None:
    from ws_support import SDL, resolvers

    from clew.server import GraphQL
    from clew.server.websocket import GraphQLTransportWSHandler, GraphQLWSHandler

    async def refuse(_websocket: object, operation: Operation) -> None:
        if operation.name == "Forbidden":
            raise RuntimeError("on_operation bug")

    handlers = [
        GraphQLTransportWSHandler(on_operation=refuse),
        GraphQLWSHandler(on_operation=refuse),
    ]
    app = GraphQL.from_sdl(SDL, resolvers(tracker), websocket_handlers=handlers)
    with connect(app, subprotocol) as ws:
        subscribe(ws, "1", "subscription Forbidden { ticks }", subprotocol)
        error = ws.receive_json()
        subscribe(ws, "2", "{ hello }", subprotocol)
        assert data_of(ws) == {"data": {"hello": "Hello world"}}
    assert error["type"] == "error"
    assert "Internal server error" in json.dumps(error["payload"])
    assert tracker.started == 0
