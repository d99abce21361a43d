"""Persisted documents over both WebSocket subprotocols: APQ and trusted documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ws_support import LEGACY, TRANSPORT, Tracker, connect, make_app

from clew.protocol.http import sha256_hash
from clew.server import TrustedDocuments

QUERY = '{ hello(name: "ws") }'
HASH = sha256_hash(QUERY)
DATA = {"data": {"hello": "Hello ws"}}


def send(ws: object, subprotocol: str, operation_id: str, **payload: object) -> None:
    kind = "subscribe" if subprotocol == TRANSPORT else "start"
    ws.send_json({"type": kind, "id": operation_id, "payload": payload})  # type: ignore[attr-defined]


def persisted(digest: str = HASH) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def errors_of(message: dict[str, object]) -> list[dict[str, object]]:
    assert message["type"] == "error"
    payload = message["payload"]
    return payload if isinstance(payload, list) else [payload]  # type: ignore[return-value]


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_apq_over_the_socket(subprotocol: str) -> None:
    next_type = "next" if subprotocol == TRANSPORT else "data"
    with connect(make_app(Tracker()), subprotocol) as ws:
        send(ws, subprotocol, "1", extensions=persisted())
        (error,) = errors_of(ws.receive_json())
        assert error == {
            "message": "PersistedQueryNotFound",
            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
        }
        send(ws, subprotocol, "2", query=QUERY, extensions=persisted())
        assert ws.receive_json() == {"id": "2", "type": next_type, "payload": DATA}
        assert ws.receive_json() == {"id": "2", "type": "complete"}
        send(ws, subprotocol, "3", extensions=persisted())
        assert ws.receive_json() == {"id": "3", "type": next_type, "payload": DATA}
        assert ws.receive_json() == {"id": "3", "type": "complete"}
        send(ws, subprotocol, "4", query=QUERY, extensions=persisted(sha256_hash("{ x }")))
        assert errors_of(ws.receive_json()) == [{"message": "provided sha does not match query"}]


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_apq_off_over_the_socket(subprotocol: str) -> None:
    with connect(make_app(Tracker(), persisted_queries=False), subprotocol) as ws:
        send(ws, subprotocol, "1", extensions=persisted())
        (error,) = errors_of(ws.receive_json())
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}


@pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
def test_trusted_documents_over_the_socket(subprotocol: str, tmp_path: Path) -> None:
    manifest = tmp_path / "documents.json"
    manifest.write_text(json.dumps({f"sha256:{HASH}": QUERY}))
    app = make_app(Tracker(), documents=TrustedDocuments.from_manifest(manifest))
    next_type = "next" if subprotocol == TRANSPORT else "data"
    with connect(app, subprotocol) as ws:
        send(ws, subprotocol, "1", extensions=persisted())
        assert ws.receive_json() == {"id": "1", "type": next_type, "payload": DATA}
        assert ws.receive_json() == {"id": "1", "type": "complete"}
        send(ws, subprotocol, "2", query="{ hello }")
        (error,) = errors_of(ws.receive_json())
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
