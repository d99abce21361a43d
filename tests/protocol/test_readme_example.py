"""The echo server in packages/protocol/README.md runs, and speaks both subprotocols correctly.

The code block is taken verbatim from the README, run as a script on a free loopback port, and
driven by a raw `websockets` client that checks every frame and close code, under
graphql-transport-ws and under the legacy graphql-ws, from one server written once against the
neutral `clew.protocol.websocket.Connection`.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

README = Path(__file__).parents[2] / "packages" / "protocol" / "README.md"
HEADER = '"""A GraphQL WebSocket echo server, both subprotocols'
SUBPROTOCOLS = [Subprotocol("graphql-transport-ws")]
LEGACY = [Subprotocol("graphql-ws")]


def example_code() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```$", README.read_text("utf-8"), re.S | re.M)
    (code,) = [block for block in blocks if block.startswith(HEADER)]
    return str(code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the example exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the example did not start listening")


def start(code: str, directory: Path) -> Iterator[str]:
    script = directory / "echo_server.py"
    script.write_text(code, "utf-8")
    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port)], stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield f"ws://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        # The example must not have logged a traceback (an unhandled error in the handler).
        assert b"Traceback" not in stderr, stderr.decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The README's example, exactly as written."""
    yield from start(example_code(), tmp_path_factory.mktemp("readme"))


@pytest.fixture(scope="module")
def impatient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example with its init timeout cut from 3 s to 0.2 s, to test it quickly."""
    code = example_code()
    assert "INIT_TIMEOUT = 3.0" in code
    code = code.replace("INIT_TIMEOUT = 3.0", "INIT_TIMEOUT = 0.2")
    yield from start(code, tmp_path_factory.mktemp("impatient"))


async def recv_json(ws: ClientConnection) -> object:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


def test_example_is_short_and_written_against_the_neutral_connection() -> None:
    code = example_code()
    assert "ws.Connection(subprotocol, Role.SERVER" in code
    assert "graphql_transport_ws" not in code
    assert "graphql_ws" not in code
    assert "assert_never(event)" in code
    assert len(code.splitlines()) < 80


async def test_echo_session(server: str) -> None:
    async with connect(server, subprotocols=SUBPROTOCOLS) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        await ws.send('{"type":"connection_init","payload":{"token":"t"}}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send('{"type":"ping","payload":{"n":1}}')
        assert await recv_json(ws) == {"type": "pong"}
        for query in ("{ hello }", "subscription { ticks }"):
            await ws.send(
                json.dumps({"id": "é1", "type": "subscribe", "payload": {"query": query}})
            )
            assert await recv_json(ws) == {
                "id": "é1",
                "type": "next",
                "payload": {"data": {"echo": query}},
            }
            # The id may be reused once the operation is complete.
            assert await recv_json(ws) == {"id": "é1", "type": "complete"}
        # A complete for an operation that already ended is ignored: the socket stays open.
        await ws.send('{"id":"é1","type":"complete"}')
        await ws.send('{"type":"ping"}')
        assert await recv_json(ws) == {"type": "pong"}


async def test_bad_message_closes_4400(server: str) -> None:
    async with connect(server, subprotocols=SUBPROTOCOLS) as ws:
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send('{"type":"nope"}')
        assert await closed_with(ws) == (4400, "Invalid message 'type' property \"nope\"")


async def test_invalid_json_closes_4400(server: str) -> None:
    async with connect(server, subprotocols=SUBPROTOCOLS) as ws:
        await ws.send("{")
        code, reason = await closed_with(ws)
        assert code == 4400
        assert reason.startswith("Message is not valid JSON")


async def test_subscribe_before_ack_closes_4401(server: str) -> None:
    async with connect(server, subprotocols=SUBPROTOCOLS) as ws:
        await ws.send('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}')
        assert await closed_with(ws) == (4401, "Unauthorized")


async def test_second_init_closes_4429(server: str) -> None:
    async with connect(server, subprotocols=SUBPROTOCOLS) as ws:
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send('{"type":"connection_init"}')
        assert await closed_with(ws) == (4429, "Too many initialisation requests")


async def test_init_timeout_closes_4408(impatient_server: str) -> None:
    async with connect(impatient_server, subprotocols=SUBPROTOCOLS) as ws:
        # A ping does not count as connection_init.
        await ws.send('{"type":"ping"}')
        assert await recv_json(ws) == {"type": "pong"}
        assert await closed_with(ws) == (4408, "Connection initialisation timeout")


async def test_init_in_time_keeps_the_socket_open(impatient_server: str) -> None:
    async with connect(impatient_server, subprotocols=SUBPROTOCOLS) as ws:
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await asyncio.sleep(0.4)
        await ws.send('{"type":"ping"}')
        assert await recv_json(ws) == {"type": "pong"}


async def test_handshake_without_the_subprotocol_is_refused(server: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(server):
            pass
    assert info.value.response.status_code == 400


# -- the same server, legacy graphql-ws ------------------------------------------------------


async def test_legacy_echo_session(server: str) -> None:
    async with connect(server, subprotocols=LEGACY) as ws:
        assert ws.subprotocol == "graphql-ws"
        await ws.send('{"type":"connection_init","payload":{"token":"t"}}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": "{ a }"}}))
        assert await recv_json(ws) == {
            "id": "1",
            "type": "data",
            "payload": {"data": {"echo": "{ a }"}},
        }
        assert await recv_json(ws) == {"id": "1", "type": "complete"}
        # A stop for an operation that already ended is ignored; the id may be reused.
        await ws.send('{"id":"1","type":"stop"}')
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": "{ b }"}}))
        assert (await recv_json(ws))["payload"] == {"data": {"echo": "{ b }"}}
        assert await recv_json(ws) == {"id": "1", "type": "complete"}


async def test_legacy_bad_frames_are_answered_and_the_socket_stays_open(server: str) -> None:
    async with connect(server, subprotocols=LEGACY) as ws:
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send("{")
        reply = await recv_json(ws)
        assert isinstance(reply, dict)
        assert reply["type"] == "connection_error"
        await ws.send('{"id":"2","type":"nope"}')
        assert await recv_json(ws) == {
            "id": "2",
            "type": "error",
            "payload": {"message": "Invalid message 'type' property \"nope\""},
        }
        await ws.send(json.dumps({"id": "3", "type": "start", "payload": {"query": "{ c }"}}))
        assert (await recv_json(ws))["id"] == "3"


async def test_legacy_start_before_the_ack_gets_an_error(server: str) -> None:
    async with connect(server, subprotocols=LEGACY) as ws:
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": "{ a }"}}))
        assert await recv_json(ws) == {
            "id": "1",
            "type": "error",
            "payload": {"message": "Unauthorized"},
        }


async def test_legacy_terminate_closes_1000(server: str) -> None:
    async with connect(server, subprotocols=LEGACY) as ws:
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
        await ws.send('{"type":"connection_terminate"}')
        assert await closed_with(ws) == (1000, "")


async def test_legacy_has_no_init_timeout(impatient_server: str) -> None:
    async with connect(impatient_server, subprotocols=LEGACY) as ws:
        await asyncio.sleep(0.4)  # twice the graphql-transport-ws init timeout
        await ws.send('{"type":"connection_init"}')
        assert await recv_json(ws) == {"type": "connection_ack"}
