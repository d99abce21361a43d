"""The legacy graphql-ws subprotocol served by clew, as subscriptions-transport-ws' server does."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect
from ws_support import LEGACY, Tracker, connect, make_app, subscribe

from clew.server import Limits


@pytest.fixture
def tracker() -> Tracker:
    return Tracker()


def start(ws: object, operation_id: str, query: str, **payload: object) -> None:
    subscribe(ws, operation_id, query, LEGACY, **payload)  # type: ignore[arg-type]


def test_a_query_sends_data_then_complete(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "query Greet { hello }")
        assert ws.receive_json() == {
            "id": "1",
            "type": "data",
            "payload": {"data": {"hello": "Hello world"}},
        }
        assert ws.receive_json() == {"id": "1", "type": "complete"}
        start(ws, "2", "mutation { add(a: 1, b: 2) }")
        assert ws.receive_json()["payload"] == {"data": {"add": 3}}
        assert ws.receive_json() == {"id": "2", "type": "complete"}


def test_start_before_the_ack_is_refused_and_never_runs(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY, init=False) as ws:
        start(ws, "1", "subscription { ticks }")
        assert ws.receive_json() == {
            "id": "1",
            "type": "error",
            "payload": {"message": "Unauthorized"},
        }
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        start(ws, "2", "{ hello }")
        assert ws.receive_json()["id"] == "2"
    assert tracker.started == 0


def test_stop_of_a_running_subscription_completes_it_and_keeps_the_connection(
    tracker: Tracker,
) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "subscription { forever }")
        assert ws.receive_json()["payload"] == {"data": {"forever": 0}}
        ws.send_json({"type": "stop", "id": "1"})
        assert ws.receive_json() == {"id": "1", "type": "complete"}
        assert tracker.live == 0  # the generator was closed before `complete` was sent
        start(ws, "2", "{ hello }")
        assert ws.receive_json()["type"] == "data"
        assert ws.receive_json() == {"id": "2", "type": "complete"}
    assert tracker.closed == 1


def test_a_duplicate_start_replaces_the_running_operation(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "subscription { forever }")
        assert ws.receive_json()["payload"] == {"data": {"forever": 0}}
        start(ws, "1", "subscription { ticks(limit: 2) }")
        frames = [ws.receive_json() for _ in range(3)]
    assert [frame.get("payload") for frame in frames] == [
        {"data": {"ticks": 0}},
        {"data": {"ticks": 1}},
        None,
    ]
    assert frames[2] == {"id": "1", "type": "complete"}
    assert tracker.started == 2
    assert tracker.live == 0
    completed = [op for name, op in tracker.calls if name == "on_complete"]
    assert [op.payload["query"] for op in completed] == [  # type: ignore[attr-defined]
        "subscription { forever }",
        "subscription { ticks(limit: 2) }",
    ]


@pytest.mark.parametrize(
    ("frame", "reply"),
    [
        ('{"type": "bogus", "id": "7"}', {"type": "error", "id": "7"}),
        ('{"type": "bogus"}', {"type": "connection_error"}),
        ("not json", {"type": "connection_error"}),
    ],
)
def test_unknown_or_broken_frames_get_a_reply_and_the_socket_stays_open(
    tracker: Tracker, frame: str, reply: dict[str, str]
) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        ws.send_text(frame)
        answer = ws.receive_json()
        start(ws, "1", "{ hello }")
        assert ws.receive_json()["type"] == "data"
    assert {key: answer[key] for key in reply} == reply
    assert isinstance(answer["payload"]["message"], str)


def test_validation_error_is_one_error_object_for_that_id(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "{ nope }")
        error = ws.receive_json()
        start(ws, "2", "{ hello }")
        # No `complete` follows the `error`: the next frame is for the next operation.
        assert ws.receive_json()["id"] == "2"
    assert error == {
        "id": "1",
        "type": "error",
        "payload": {
            "message": "Cannot query field 'nope' on type 'Query'.",
            "locations": [{"line": 1, "column": 3}],
        },
    }


def test_a_failing_source_ends_with_error(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "subscription { failAfter(n: 1) }")
        assert ws.receive_json()["payload"] == {"data": {"failAfter": 0}}
        assert ws.receive_json() == {
            "id": "1",
            "type": "error",
            "payload": {"message": "Internal server error"},
        }
    assert tracker.live == 0


def test_keepalive_follows_the_ack_and_repeats(tracker: Tracker) -> None:
    with connect(make_app(tracker, keepalive=0.02), LEGACY, init=False) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        assert [ws.receive_json() for _ in range(3)] == [{"type": "ka"}] * 3


def test_connection_terminate_closes_normally(tracker: Tracker) -> None:
    with connect(make_app(tracker), LEGACY) as ws:
        start(ws, "1", "subscription { forever }")
        ws.receive_json()
        ws.send_json({"type": "connection_terminate"})
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert caught.value.code == 1000
    assert tracker.live == 0
    assert tracker.hook_names()[-2:] == ["on_complete", "on_disconnect"]


def test_too_many_operations_errors_that_id(tracker: Tracker) -> None:
    with connect(make_app(tracker, limits=Limits(max_operations_per_connection=1)), LEGACY) as ws:
        start(ws, "1", "subscription { forever }")
        ws.receive_json()
        start(ws, "2", "subscription { forever }")
        assert ws.receive_json() == {
            "id": "2",
            "type": "error",
            "payload": {"message": "Too many operations on this connection (the limit is 1)"},
        }
        ws.send_json({"type": "stop", "id": "1"})
        assert ws.receive_json() == {"id": "1", "type": "complete"}


def test_a_frame_over_the_size_limit_closes_1009(tracker: Tracker) -> None:
    app = make_app(tracker, limits=Limits(max_websocket_message_bytes=64))
    with connect(app, LEGACY) as ws:
        start(ws, "1", "{ hello }", extensions={"pad": "x" * 64})
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_json()
    assert caught.value.code == 1009
    assert caught.value.reason == "Message exceeds the maximum size of 64 bytes"
