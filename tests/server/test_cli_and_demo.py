"""`clew serve` (help, a real uvicorn serving the demo), the demo app, and the import guard."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from clew.server import GraphQL
from clew.server.cli import main
from clew.server.demo import create_app
from clew.server.engine import SubscriptionStream

CLEW = Path(sys.executable).with_name("clew")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in ("module:attr", "--host", "--port", "--reload", "--workers"):
        assert option in out


def test_a_bad_target_is_explained() -> None:
    with pytest.raises(SystemExit, match="expected module:attribute"):
        main(["serve", "clew.server.demo"])
    with pytest.raises(SystemExit, match="has no attribute 'nope'"):
        main(["serve", "clew.server.demo:nope"])
    with pytest.raises(SystemExit, match="neither a GraphQL app"):
        main(["serve", "clew.server.demo:SDL"])


def test_the_console_script_serves_the_demo_on_uvicorn() -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(CLEW), "serve", "clew.server.demo:app", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = post(
                    port, 'mutation { postMessage(author: "ada", text: "hi") { id text } }'
                )
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert answer == {"data": {"postMessage": {"id": "1", "text": "hi"}}}
        assert post(port, "{ messages { author text } }") == {
            "data": {"messages": [{"author": "ada", "text": "hi"}]}
        }
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    # uvicorn shuts down gracefully, then re-raises the signal it was stopped with.
    assert process.returncode in {0, -signal.SIGTERM}


def _drain(client: ClientConnection) -> None:
    while True:
        client.recv(timeout=10)


def test_stopping_clew_serve_closes_websockets_with_1001() -> None:
    # uvicorn alone would drop them with 1012 before the app's lifespan shutdown runs.
    port = free_port()
    process = subprocess.Popen(
        [str(CLEW), "serve", "clew.server.demo:app", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = connect(
                    f"ws://127.0.0.1:{port}/",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                )
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        with client:
            client.send('{"type":"connection_init"}')
            assert json.loads(client.recv(timeout=10)) == {"type": "connection_ack"}
            query = 'subscription { messagePosted(room: "r") { text } }'
            client.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            time.sleep(0.2)  # the subscription is running when the server is told to stop
            os.kill(process.pid, signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                _drain(client)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_make_runs_module_is_importable() -> None:
    from clew.server import demo

    assert isinstance(demo.app, GraphQL)
    assert demo.app.explorer is not None


async def test_the_demo_subscription_is_fed_by_mutations() -> None:
    app = create_app()
    engine = app.engine
    subscribe = engine.prepare('subscription { messagePosted(room: "r") { author text } }', None)
    post_message = engine.prepare(
        'mutation { postMessage(room: "r", author: "ada", text: "yo") { id } }', None
    )
    context = await engine.context_for(None, {})
    stream = await engine.subscribe(subscribe, None, context)  # type: ignore[arg-type]
    assert isinstance(stream, SubscriptionStream)
    task = asyncio.ensure_future(anext(stream))
    for _ in range(10):  # let the subscription reach the pub/sub
        await asyncio.sleep(0)
    assert app.pubsub.subscriber_count("chat:r") == 1
    await engine.execute(post_message, None, context)  # type: ignore[arg-type]
    assert await task == {"data": {"messagePosted": {"author": "ada", "text": "yo"}}}
    await stream.aclose()
    assert app.pubsub.subscriber_count("chat:r") == 0


def test_an_invalid_room_name_is_a_graphql_error() -> None:
    client = TestClient(create_app())
    mutation = 'mutation { postMessage(room: "a room", author: "a", text: "b") { id } }'
    body = client.post("/", json={"query": mutation}).json()
    assert "Invalid room name 'a room'" in body["errors"][0]["message"]


def test_the_demo_uses_redis_when_told_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from clew.server.pubsub import RedisPubSub

    monkeypatch.setenv("CLEW_REDIS_URL", "redis://127.0.0.1:6390/0")
    app = create_app()
    assert isinstance(app.pubsub, RedisPubSub)
    assert app.pubsub.url == "redis://127.0.0.1:6390/0"
    monkeypatch.delenv("CLEW_REDIS_URL")
    assert not isinstance(create_app().pubsub, RedisPubSub)


def test_the_demo_takes_uploads() -> None:
    client = TestClient(create_app())
    operations = {
        "query": 'mutation($f: Upload!) { uploadAttachment(author: "ada", file: $f) '
        "{ text attachment { filename size } } }",
        "variables": {"f": None},
    }
    response = client.post(
        "/",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("notes.txt", b"hello", "text/plain")},
        headers={"GraphQL-Require-Preflight": "1"},
    )
    assert response.json() == {
        "data": {
            "uploadAttachment": {
                "text": "shared notes.txt",
                "attachment": {"filename": "notes.txt", "size": 5},
            }
        }
    }


def test_demo_apps_do_not_share_state() -> None:
    first, second = TestClient(create_app()), TestClient(create_app())
    first.post("/", json={"query": 'mutation { postMessage(author: "a", text: "b") { id } }'})
    assert second.post("/", json={"query": "{ rooms }"}).json() == {"data": {"rooms": []}}


@pytest.mark.parametrize("missing", ["starlette", "uvicorn", "graphql"])
def test_a_missing_dependency_names_the_extra(missing: str) -> None:
    code = f"import sys; sys.modules[{missing!r}] = None; import clew.server"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert 'pip install "clew[server]"' in result.stderr
    assert f"({missing} is missing)" in result.stderr
