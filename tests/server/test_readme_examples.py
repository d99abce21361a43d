"""Every Python example in packages/server/README.md runs as written, and does what it says.

Each ```python block is executed verbatim in a fresh namespace; the app it builds is then
driven over HTTP (and WebSocket where the example is about it). A block without a check below
fails the test, so a new example cannot be added untested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from clew.protocol.http import sha256_hash
from clew.server.explorer import ASSET_PARAMETER, BUNDLES

README = Path(__file__).parents[2] / "packages" / "server" / "README.md"
HELLO = {"query": "{ hello }"}


def blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text("utf-8"), re.S | re.M)


def run(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace


def check_chat(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        assert client.post("/", json=HELLO).json() == {"data": {"hello": "Hello world"}}
        with client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json() == {"type": "connection_ack"}


def check_timing(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        body = client.post("/", json=HELLO).json()
    assert body["data"] == {"hello": "Hello world"}
    assert body["extensions"]["ms"] >= 0


def check_mount(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        reply = client.post("/graphql", json=HELLO, follow_redirects=False)
        assert (reply.status_code, reply.json()) == (200, {"data": {"hello": "Hello world"}})
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json() == {"type": "connection_ack"}


def check_websocket(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        with client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"token": "secret"}})
            assert ws.receive_json() == {"type": "connection_ack"}
        with client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"token": "nope"}})
            closed = ws.receive()
            assert closed["code"] == 4403


def check_ariadne_ws(ns: dict[str, Any]) -> None:
    with (
        TestClient(ns["app"]) as client,
        client.websocket_connect("/", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong", "payload": {"running": 0}}
        payload = {"query": "{ greeting }", "extensions": {"locale": "fr"}}
        ws.send_json({"type": "subscribe", "id": "1", "payload": payload})
        assert ws.receive_json()["payload"] == {"data": {"greeting": "Bonjour"}}


def check_ariadne(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        plain = client.post("/", json=HELLO).json()
        traced = client.post("/", json=HELLO, headers={"x-trace": "1"}).json()
    assert plain == {"data": {"hello": "Hello world"}}
    assert traced["extensions"]["fields"] == ["hello"]


def check_trusted(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        assert client.post("/", json=HELLO).json() == {"data": {"hello": "Hello world"}}
        # The listed hash resolves, as an APQ hash and as a `documentId`.
        digest = sha256_hash(HELLO["query"])
        apq = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
        assert client.post("/", json=apq).json() == {"data": {"hello": "Hello world"}}
        by_id = client.get("/", params={"documentId": f"sha256:{digest}"}).json()
        assert by_id == {"data": {"hello": "Hello world"}}
        refused = client.post("/", json={"query": "{ __typename }"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


def fill_assets(folder: Path) -> None:
    """What `clew explorer-assets ./explorer-assets` writes (stand-in bytes, same names)."""
    for bundle in BUNDLES:
        for bundle_file in bundle.files:
            path = folder / "explorer-assets" / bundle.key / bundle_file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"/* {bundle.key} */".encode())


def check_explorer_assets(ns: dict[str, Any]) -> None:
    bundle = BUNDLES[0]
    name = f"{bundle.key}/{bundle.files[0].path}"
    with TestClient(ns["app"]) as client:
        page = client.get("/", headers={"Accept": "text/html"})
        served = client.get("/", params={ASSET_PARAMETER: name})
    assert page.status_code == 200
    assert f"{ASSET_PARAMETER}={name}" in page.text
    assert served.content == f"/* {bundle.key} */".encode()


def check_cors(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:
        allowed = client.post("/", json=HELLO, headers={"Origin": "https://app.example"})
        other = client.post("/", json=HELLO, headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


def check_otel(ns: dict[str, Any]) -> None:
    with TestClient(ns["app"]) as client:  # the last `app` of the example: resolver spans too
        assert client.post("/", json=HELLO).json() == {"data": {"hello": None}}


def check_redis_pubsub(ns: dict[str, Any]) -> None:
    # Built as written; connecting needs a redis-server (tests/server/pubsub runs a real one).
    from clew.server.pubsub import RedisPubSub

    assert isinstance(ns["app"].pubsub, RedisPubSub)


def check_redis_documents(ns: dict[str, Any]) -> None:
    # Built as written; talking to Redis needs a redis-server (tests/server run a real one).
    from clew.server.redis_documents import RedisDocumentStore

    assert isinstance(ns["app"].engine.documents.store, RedisDocumentStore)


#: Examples that need files in the working directory first (a command the README shows).
PREPARE: dict[str, Callable[[Path], None]] = {"# explorer_assets.py": fill_assets}

CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "# explorer_assets.py": check_explorer_assets,
    "# redis_pubsub.py": check_redis_pubsub,
    "# redis_documents.py": check_redis_documents,
    "# cors.py": check_cors,
    "# otel.py": check_otel,
    "# trusted.py": check_trusted,
    "# chat.py": check_chat,
    "# timing.py": check_timing,
    "# mount.py": check_mount,
    "# websocket.py": check_websocket,
    "# ariadne_style.py": check_ariadne,
    "# ariadne_ws.py": check_ariadne_ws,
}


@pytest.mark.parametrize("code", blocks(), ids=lambda code: code.splitlines()[0])
def test_the_example_runs_as_written(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = code.splitlines()[0].split(" — ")[0].strip()
    assert marker in CHECKS, f"README example without a check: {marker!r}"
    monkeypatch.chdir(tmp_path)
    if marker in PREPARE:
        PREPARE[marker](tmp_path)
    CHECKS[marker](run(code))


def test_every_check_has_its_example() -> None:
    markers = {code.splitlines()[0].split(" — ")[0].strip() for code in blocks()}
    assert markers == set(CHECKS)


def test_mount_alone_redirects_posts_and_refuses_websockets_at_the_bare_path() -> None:
    # Why the README routes /graphql instead of mounting it: the behaviour it describes.
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.websockets import WebSocketDisconnect

    ns = run(next(code for code in blocks() if code.startswith("# mount.py")))
    mounted = Starlette(routes=[Mount("/graphql", app=ns["graphql"])])
    with TestClient(mounted) as client:
        assert client.post("/graphql", json=HELLO, follow_redirects=False).status_code == 307
        assert client.post("/graphql/", json=HELLO).json() == {"data": {"hello": "Hello world"}}
        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]),
        ):
            pass  # pragma: no cover - the handshake is refused
