"""Requests per second for `{ hello }` over HTTP: bare Starlette, clew, Ariadne, Strawberry.

All four servers run side by side, one uvicorn worker each with the same settings, on free
loopback ports. Each is then loaded in turn by the same closed-loop client: `--concurrency`
keep-alive connections, each sending its next POST as soon as the previous answer arrived,
until `--requests` answers (or `--seconds`) after a warm-up. The client is a minimal HTTP/1.1
speaker on asyncio streams, so it costs the CPU far less than the servers do. Every process
started here is stopped by its PID.

    .venv/bin/python benchmarks/http/bench_hello.py [--requests 20000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from harness import Measurement, Server, cpu_seconds, report, servers  # noqa: E402

SERVERS = {
    "bare Starlette": "apps:make_bare",
    "clew": "apps:make_clew",
    "Ariadne": "apps:make_ariadne",
    "Strawberry": "apps:make_strawberry",
}
QUERY = b'{"query":"{ hello }"}'
EXPECTED = b'{"data":{"hello":"world"}}'


def request_bytes(port: int) -> bytes:
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(QUERY)}\r\n\r\n"
    )
    return head.encode() + QUERY


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> bool:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return head.startswith(b"HTTP/1.1 200") and body == EXPECTED


async def wait_ready(port: int, deadline: float) -> None:
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                if await exchange(reader, writer, request_bytes(port)):
                    return
                raise RuntimeError(f"the server on port {port} answered wrongly")
            finally:
                writer.close()
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no server answered on port {port}") from None
            await asyncio.sleep(0.1)


async def load(port: int, total: int, concurrency: int, seconds: float) -> tuple[int, int, float]:
    data = request_bytes(port)
    done = failures = 0
    stop_at = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while done < total and time.monotonic() < stop_at:
                done += 1
                if not await exchange(reader, writer, data):
                    failures += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failures, time.perf_counter() - started


async def measure(running: dict[str, Server], args: argparse.Namespace) -> list[Measurement]:
    deadline = time.monotonic() + 60
    for server in running.values():
        await wait_ready(server.port, deadline)
    results = []
    for name, server in running.items():
        port = server.port
        await load(port, args.warmup, args.concurrency, args.seconds)
        cpu_before = cpu_seconds(server.pid)
        done, failures, elapsed = await load(port, args.requests, args.concurrency, args.seconds)
        cpu = cpu_seconds(server.pid) - cpu_before
        results.append(Measurement(name, done, elapsed, failures, cpu))
        print(f"  {name:<15} {done / elapsed:>9,.0f} req/s", file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="measured requests per server")
    parser.add_argument("--warmup", type=int, default=2_000, help="requests before measuring")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections")
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per server")
    args = parser.parse_args()
    with servers(SERVERS, HERE) as running:
        results = asyncio.run(measure(running, args))
    return report(results, "requests")


if __name__ == "__main__":
    sys.exit(main())
