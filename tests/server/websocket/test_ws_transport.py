"""graphql-transport-ws served by clew: the issue's protocol rules, over Starlette's test client."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from ws_support import TRANSPORT, Tracker, connect, make_app, subscribe

from clew.server import Limits
from clew.server.websocket import GraphQLTransportWSHandler


@pytest.fixture
def tracker() -> Tracker:
    return Tracker()


def closed_with(ws: object) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as caught:
        ws.receive_text()  # type: ignore[attr-defined]
    return caught.value.code, caught.value.reason


def test_only_an_offered_subprotocol_is_selected(tracker: Tracker) -> None:
    app = make_app(tracker)
    with TestClient(app) as client:
        with client.websocket_connect("/", subprotocols=["graphql-ws", TRANSPORT]) as ws:
            assert ws.accepted_subprotocol == TRANSPORT
        with client.websocket_connect("/", subprotocols=["graphql-ws"]) as ws:
            assert ws.accepted_subprotocol == "graphql-ws"
        with client.websocket_connect("/", subprotocols=["mqtt"]) as ws:
            assert ws.accepted_subprotocol is None
            assert closed_with(ws)[0] == 4406


def test_a_handler_mounted_alone_refuses_a_socket_without_its_subprotocol(
    tracker: Tracker,
) -> None:
    graphql_app = make_app(tracker)
    handler = graphql_app.websocket_handlers[0]
    app = Starlette(routes=[WebSocketRoute("/ws", handler)])
    with TestClient(app) as client:
        with client.websocket_connect("/ws", subprotocols=["graphql-ws"]) as ws:
            assert ws.accepted_subprotocol is None
            assert closed_with(ws) == (4406, "Subprotocol not acceptable")
        with client.websocket_connect("/ws", subprotocols=[TRANSPORT]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json() == {"type": "connection_ack"}


def test_handle_before_configure_is_a_clear_error() -> None:
    app = Starlette(routes=[WebSocketRoute("/ws", GraphQLTransportWSHandler())])
    with (
        TestClient(app) as client,
        pytest.raises(RuntimeError, match=r"configure\(engine\)"),
        client.websocket_connect("/ws", subprotocols=[TRANSPORT]),
    ):
        pass  # pragma: no cover


def test_query_mutation_and_subscription_run_over_the_socket(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "q", '{ hello(name: "ws") }')
        assert ws.receive_json() == {
            "id": "q",
            "type": "next",
            "payload": {"data": {"hello": "Hello ws"}},
        }
        assert ws.receive_json() == {"id": "q", "type": "complete"}
        subscribe(ws, "m", "mutation($a: Int!) { add(a: $a, b: 2) }", variables={"a": 40})
        assert ws.receive_json()["payload"] == {"data": {"add": 42}}
        assert ws.receive_json() == {"id": "m", "type": "complete"}
        subscribe(ws, "s", "subscription { ticks(limit: 3) }")
        events = [ws.receive_json() for _ in range(4)]
    assert [event["payload"]["data"]["ticks"] for event in events[:3]] == [0, 1, 2]
    assert events[3] == {"id": "s", "type": "complete"}
    assert tracker.live == 0


def test_subscribe_before_the_ack_closes_4401_and_never_runs(tracker: Tracker) -> None:
    with connect(make_app(tracker), init=False) as ws:
        subscribe(ws, "1", "subscription { ticks }")
        assert closed_with(ws) == (4401, "Unauthorized")
    assert tracker.started == 0
    assert "on_operation" not in tracker.hook_names()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", 4400),
        ('{"type": "bogus"}', 4400),
        ('{"type": "subscribe", "id": 1, "payload": {"query": "{ hello }"}}', 4400),
        ('{"type": "connection_init"}', 4429),
    ],
)
def test_broken_frames_close_with_the_protocol_code(
    tracker: Tracker, frame: str, code: int
) -> None:
    with connect(make_app(tracker)) as ws:
        ws.send_text(frame)
        assert closed_with(ws)[0] == code


def test_a_running_id_reused_closes_4409(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "1", "subscription { forever }")
        assert ws.receive_json()["payload"] == {"data": {"forever": 0}}
        subscribe(ws, "1", "subscription { forever }")
        assert closed_with(ws) == (4409, "Subscriber for 1 already exists")
    assert tracker.live == 0


def test_syntax_and_validation_errors_end_that_operation_only(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "a", "{ hello")
        syntax = ws.receive_json()
        subscribe(ws, "b", "{ nope }")
        validation = ws.receive_json()
        subscribe(ws, "c", "{ hello }")
        assert ws.receive_json()["payload"] == {"data": {"hello": "Hello world"}}
        assert ws.receive_json() == {"id": "c", "type": "complete"}
    assert syntax["type"] == "error"
    assert syntax["id"] == "a"
    assert "Syntax Error" in syntax["payload"][0]["message"]
    assert validation["type"] == "error"
    assert validation["payload"][0]["message"] == "Cannot query field 'nope' on type 'Query'."


def test_resolver_errors_are_inside_the_result_and_masked(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "1", "{ boom hello }")
        result = ws.receive_json()
        assert ws.receive_json() == {"id": "1", "type": "complete"}
    assert result["type"] == "next"
    assert result["payload"]["data"] == {"boom": None, "hello": "Hello world"}
    assert result["payload"]["errors"][0]["message"] == "Internal server error"
    assert "secret" not in str(result)


@pytest.mark.parametrize(
    ("field", "message"),
    [("failAfter", "Internal server error"), ("refuseAfter", "No more events for you")],
)
def test_a_failing_source_ends_with_error_and_no_complete(
    tracker: Tracker, field: str, message: str
) -> None:
    # graphql-ws' server sends `error` when the source throws; no `complete` follows it.
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "1", f"subscription {{ {field}(n: 2) }}")
        values = [ws.receive_json()["payload"]["data"][field] for _ in range(2)]
        final = ws.receive_json()
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
    assert values == [0, 1]
    assert final["type"] == "error"
    assert final["id"] == "1"
    assert final["payload"][0]["message"] == message
    assert tracker.live == 0


def test_client_complete_stops_a_subscription_and_nothing_follows(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "1", "subscription { forever }")
        assert ws.receive_json()["payload"] == {"data": {"forever": 0}}
        ws.send_json({"type": "complete", "id": "1"})
        ws.send_json({"type": "ping"})
        # The pong comes next: no `complete` (or anything else) was sent for the stopped id.
        assert ws.receive_json() == {"type": "pong"}
        subscribe(ws, "1", "{ hello }")  # the id is free again
        assert ws.receive_json()["id"] == "1"
        assert ws.receive_json() == {"id": "1", "type": "complete"}
    assert tracker.live == 0
    assert tracker.closed == 1


def test_client_complete_of_a_pending_query_sends_nothing_for_it(tracker: Tracker) -> None:
    with connect(make_app(tracker)) as ws:
        subscribe(ws, "slow", "{ slow }")
        ws.send_json({"type": "complete", "id": "slow"})
        ws.send_json({"type": "complete", "id": "unknown"})  # ignored
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        subscribe(ws, "q", "{ hello }")
        assert ws.receive_json()["id"] == "q"


def test_ping_is_answered_and_pong_ignored(tracker: Tracker) -> None:
    with connect(make_app(tracker), init=False) as ws:
        ws.send_json({"type": "pong"})
        ws.send_json({"type": "ping", "payload": {"n": 1}})
        assert ws.receive_json() == {"type": "pong"}


def test_too_many_operations_errors_that_id_and_keeps_the_connection(tracker: Tracker) -> None:
    app = make_app(tracker, limits=Limits(max_operations_per_connection=2))
    with connect(app) as ws:
        for operation_id in ("1", "2"):
            subscribe(ws, operation_id, "subscription { forever }")
            assert ws.receive_json()["id"] == operation_id
        subscribe(ws, "3", "subscription { forever }")
        refused = ws.receive_json()
        ws.send_json({"type": "complete", "id": "1"})
        subscribe(ws, "4", "subscription { forever }")
        assert ws.receive_json() == {"id": "4", "type": "next", "payload": {"data": {"forever": 0}}}
    assert refused == {
        "id": "3",
        "type": "error",
        "payload": [{"message": "Too many operations on this connection (the limit is 2)"}],
    }
    assert tracker.started == 3
    assert tracker.live == 0


def test_a_frame_over_the_size_limit_closes_4400(tracker: Tracker) -> None:
    app = make_app(tracker, limits=Limits(max_websocket_message_bytes=200))
    with connect(app) as ws:
        subscribe(ws, "1", "{ hello }", extensions={"pad": "x" * 100})
        assert ws.receive_json()["type"] == "next"
        assert ws.receive_json()["type"] == "complete"
        subscribe(ws, "2", "{ hello }", extensions={"pad": "é" * 100})  # 200 bytes of UTF-8
        assert closed_with(ws) == (4400, "Message exceeds the maximum size of 200 bytes")


def test_connection_init_timeout_closes_4408(tracker: Tracker) -> None:
    with connect(make_app(tracker, init_timeout=0.05), init=False) as ws:
        assert closed_with(ws) == (4408, "Connection initialisation timeout")
    assert tracker.hook_names() == ["on_disconnect"]


def test_server_pings_once_acknowledged_and_closes_4408_without_pong(tracker: Tracker) -> None:
    app = make_app(tracker, ping_interval=0.02, pong_timeout=0.2)
    with connect(app) as ws:
        assert ws.receive_json() == {"type": "ping"}
        ws.send_json({"type": "pong"})
        # Unanswered from now on: more pings may come, then the close.
        while (message := ws.receive())["type"] == "websocket.send":
            assert message["text"] == '{"type":"ping"}'
    assert (message["code"], message["reason"]) == (4408, "Pong timeout")
