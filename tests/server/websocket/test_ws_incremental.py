"""With incremental delivery on, each @defer/@stream payload is one frame on both subprotocols."""

from __future__ import annotations

import pytest
from ws_support import LEGACY, TRANSPORT, Tracker, connect, make_app, subscribe

from clew.protocol.incremental import IncrementalMerger

QUERY = '{ hello ... @defer(label: "L") { other: hello(name: "later") } }'
RESULT = {"data": {"hello": "Hello world", "other": "Hello later"}}


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_each_payload_is_one_result_frame(subprotocol: str) -> None:
    result_type = "next" if subprotocol == TRANSPORT else "data"
    app = make_app(Tracker(), incremental_delivery=True)
    with connect(app, subprotocol) as ws:
        subscribe(ws, "1", QUERY, subprotocol)
        frames = []
        while (frame := ws.receive_json())["type"] != "complete":
            assert frame["type"] == result_type
            assert frame["id"] == "1"
            frames.append(frame["payload"])
        assert frame == {"id": "1", "type": "complete"}
    assert frames[0] == {
        "data": {"hello": "Hello world"},
        "pending": [{"id": "0", "path": [], "label": "L"}],
        "hasNext": True,
    }
    assert frames[-1]["hasNext"] is False
    merger = IncrementalMerger()
    for payload in frames:
        merged = merger.apply(payload)
    assert merged == RESULT


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_operations_without_defer_and_subscriptions_are_unchanged(subprotocol: str) -> None:
    app = make_app(Tracker(), incremental_delivery=True)
    with connect(app, subprotocol) as ws:
        subscribe(ws, "1", "{ hello }", subprotocol)
        assert ws.receive_json()["payload"] == {"data": {"hello": "Hello world"}}
        assert ws.receive_json() == {"id": "1", "type": "complete"}
        subscribe(ws, "2", "subscription { ticks(limit: 2) }", subprotocol)
        assert [ws.receive_json()["payload"] for _ in range(2)] == [
            {"data": {"ticks": 0}},
            {"data": {"ticks": 1}},
        ]
        assert ws.receive_json() == {"id": "2", "type": "complete"}


def test_without_incremental_delivery_the_directive_is_unknown() -> None:
    with connect(make_app(Tracker()), TRANSPORT) as ws:
        subscribe(ws, "1", QUERY)
        frame = ws.receive_json()
        assert frame["type"] == "error"
        assert "Unknown directive '@defer'" in frame["payload"][0]["message"]
