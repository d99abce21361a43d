"""Load for the server workloads: HTTP through wrk (answers checked first by a plain client),
subscriptions and idle sockets through the `websockets` client.

Every function here measures one target once and returns a `Sample`; `run.py` interleaves them.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from harness import CLIENT_CPU, Server, cpu_seconds, pinned, rss_kib
from schema import STREAM_QUERY
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from clew.protocol.sse import EventStreamParser

__all__ = [
    "Sample",
    "check_http",
    "fan_out",
    "idle_sockets",
    "open_socket",
    "register_persisted",
    "sse_stream",
    "stream",
    "wrk",
]

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

# wrk prints this line last, from Lua: requests, non-2xx answers, socket errors, seconds,
# p50 and p99 latency in microseconds.
_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%f %%f %%f\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
"""
_WRK_SCRIPT = (
    """
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
"""
    + _WRK_DONE
)
#: A GET of a fixed URL (an APQ hash-only query: no body at all).
_WRK_GET_SCRIPT = (
    """
wrk.headers["Accept"] = "application/json"
"""
    + _WRK_DONE
)


@dataclass
class Sample:
    """One measurement of one target: a value (higher is better unless the row says otherwise)
    and what else is worth printing beside it."""

    value: float
    failures: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError(
            "wrk is required for the HTTP workloads: `make bench` installs it with apt-get "
            "when run as root; otherwise install the Debian package `wrk`"
        )
    return found


def _http_exchange(port: int, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check_http(server: Server, query: str, expected: object, deadline: float) -> None:
    """Fail unless the server answers `query` with exactly `expected` (waiting for it to start)."""
    body = json.dumps({"query": query}).encode()
    while True:
        try:
            status, answer = _http_exchange(server.port, body)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no server answered on port {server.port}") from None
            time.sleep(0.1)
    if status != 200 or json.loads(answer) != expected:
        raise RuntimeError(f"port {server.port} answered {status} {answer[:300]!r} to {query}")


def register_persisted(server: Server, query: str, expected: object) -> str:
    """Register `query` in the server's APQ store (hash and text POSTed once); return the path
    of its hash-only GET, after checking that this GET answers exactly `expected`."""
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    status, answer = _http_exchange(
        server.port, json.dumps({"query": query, "extensions": extensions}).encode()
    )
    if status != 200 or json.loads(answer) != expected:
        raise RuntimeError(f"registering the persisted query answered {status} {answer[:300]!r}")
    compact = json.dumps(extensions, separators=(",", ":"))
    path = "/?" + urllib.parse.urlencode({"extensions": compact})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()
    if status != 200 or json.loads(answer) != expected:
        raise RuntimeError(f"the hash-only GET answered {status} {answer[:300]!r}")
    return path


def wrk(
    server: Server, query: str, seconds: float, connections: int, *, get: str | None = None
) -> Sample:
    """Requests per second from wrk's closed loop of `connections` keep-alive connections,
    with p50/p99 latency in ms and the server's CPU µs per request.

    `query` is POSTed as JSON; with `get` (a path and query string) that URL is fetched with
    GET instead, and `query` is not sent."""
    body = json.dumps(json.dumps({"query": query}))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % body if get is None else _WRK_GET_SCRIPT % ())
    try:
        command = [
            wrk_path(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s",
            "-s", script.name, f"http://127.0.0.1:{server.port}{get or '/'}",
        ]  # fmt: skip
        cpu_before = cpu_seconds(server.pid)
        completed = subprocess.run(
            pinned(command, CLIENT_CPU), capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"wrk failed: {completed.stdout}{completed.stderr}")
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        Path(script.name).unlink()
    line = next(ln for ln in completed.stdout.splitlines() if ln.startswith("RESULT "))
    requests, status_errors, socket_errors, duration, p50, p99 = (
        float(part) for part in line.split()[1:]
    )
    return Sample(
        requests / duration,
        int(status_errors + socket_errors),
        {"p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "server_cpu_us": cpu / requests * 1e6},
    )


async def open_socket(server: Server, subprotocol: str, deadline: float) -> ClientConnection:
    """A socket that has sent `connection_init` and received `connection_ack`."""
    while True:
        try:
            ws = await connect(
                f"ws://127.0.0.1:{server.port}/",
                subprotocols=[Subprotocol(subprotocol)],
                max_queue=None,
                compression=None,
                ping_interval=None,
            )
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no server answered on port {server.port}") from None
            await asyncio.sleep(0.1)
    if ws.subprotocol != subprotocol:
        raise RuntimeError(f"port {server.port} chose {ws.subprotocol!r}, not {subprotocol}")
    await ws.send('{"type":"connection_init","payload":{}}')
    while True:
        ack = json.loads(await ws.recv())
        if ack.get("type") != "ka":  # legacy servers may send keep-alives first
            break
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"port {server.port} answered {ack!r} to connection_init")
    return ws


async def run_stream(
    ws: ClientConnection, subprotocol: str, operation_id: str, n: int, check_all: bool
) -> tuple[int, int]:
    """Subscribe to `stream(n)` and read until `complete`: (events counted, failures).

    Frames are counted by substring, which keeps the client's cost far below the servers';
    the first and last events (every event with `check_all`) are decoded and checked.
    """
    start = "subscribe" if subprotocol == TRANSPORT_WS else "start"
    event = '"next"' if subprotocol == TRANSPORT_WS else '"data"'
    payload = {"query": STREAM_QUERY, "variables": {"n": n}}
    await ws.send(json.dumps({"type": start, "id": operation_id, "payload": payload}))
    received = failures = 0
    while True:
        frame = await ws.recv()
        if event in frame:
            if check_all or received in (0, n - 1):
                message = json.loads(frame)
                if message["payload"] != {"data": {"stream": received}}:
                    failures += 1
            received += 1
        elif '"complete"' in frame:
            break
        elif '"ka"' not in frame:
            raise RuntimeError(f"unexpected frame {frame[:200]!r}")
    return received, failures + (received != n)


async def stream(
    server: Server, ws: ClientConnection, subprotocol: str, n: int, check_all: bool
) -> Sample:
    """Events per second of one subscription streaming `n` events as fast as it can."""
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    received, failures = await run_stream(ws, subprotocol, "1", n, check_all)
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_before
    return Sample(received / elapsed, failures, {"server_cpu_us": cpu / max(received, 1) * 1e6})


async def run_sse_stream(
    session: aiohttp.ClientSession, url: str, n: int, check_all: bool
) -> tuple[int, int]:
    """POST `stream(n)` with ``Accept: text/event-stream`` (graphql-sse's distinct connections
    mode) and read until `complete`: (events counted, failures).

    Events are counted by substring across chunk boundaries; with `check_all` every event is
    parsed (clew's own `EventStreamParser`) and checked.
    """
    payload = {"query": STREAM_QUERY, "variables": {"n": n}}
    headers = {"Accept": "text/event-stream"}
    received = failures = 0
    parser = EventStreamParser() if check_all else None
    tail = b""
    async with session.post(url, json=payload, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"SSE stream answered {response.status}")
        async for chunk in response.content.iter_any():
            if parser is not None:
                for event in parser.feed(chunk):
                    if event.event == "next":
                        if json.loads(event.data) != {"data": {"stream": received}}:
                            failures += 1
                        received += 1
                continue
            window = tail + chunk
            received += window.count(b"event: next") - tail.count(b"event: next")
            tail = window[-16:]
    return received, failures + (received != n)


async def sse_stream(server: Server, n: int, check_all: bool) -> Sample:
    """Events per second of one subscription streaming `n` events over SSE."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
        url = f"http://127.0.0.1:{server.port}/"
        await run_sse_stream(session, url, 10, check_all=True)  # warm the connection
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        received, failures = await run_sse_stream(session, url, n, check_all)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu_before
    return Sample(received / elapsed, failures, {"server_cpu_us": cpu / max(received, 1) * 1e6})


async def fan_out(server: Server, sockets: Sequence[ClientConnection], n: int) -> Sample:
    """Events per second when every socket streams `n` events at once."""
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(run_stream(ws, TRANSPORT_WS, "1", n, check_all=False) for ws in sockets)
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_before
    received = sum(count for count, _ in results)
    failures = sum(failed for _, failed in results)
    return Sample(received / elapsed, failures, {"server_cpu_us": cpu / max(received, 1) * 1e6})


async def _answers_ping(ws: ClientConnection) -> None:
    pong = await ws.ping()
    await asyncio.wait_for(pong, 30)


async def idle_sockets(server: Server, count: int, deadline: float) -> Sample:
    """KiB of server memory per acknowledged, idle graphql-transport-ws socket (lower is
    better): resident memory with `count` such sockets open, less resident memory before.

    A few sockets are opened and kept first, so that what every connection's first use loads
    (modules, caches) is in the baseline, not in the figure.
    """
    warm = [await open_socket(server, TRANSPORT_WS, deadline) for _ in range(8)]
    await asyncio.sleep(0.3)
    before = rss_kib(server.pid)
    opened: list[ClientConnection] = []
    try:
        for _ in range(count):
            opened.append(await open_socket(server, TRANSPORT_WS, deadline))
        await asyncio.sleep(0.5)
        after = rss_kib(server.pid)
        # Every socket must still be open and answering: an idle socket that the server
        # dropped would cost it nothing.
        await asyncio.gather(*(_answers_ping(ws) for ws in opened))
    finally:
        await asyncio.gather(*(ws.close() for ws in opened + warm))
    return Sample((after - before) / count, 0, {"sockets": count})
