"""Events per second of one graphql-transport-ws subscription: clew, Ariadne, Strawberry, bare.

All four servers run side by side, one uvicorn worker each with the same settings, on free
loopback ports. Each is then measured in turn by the same client (the `websockets` library):
one socket, `connection_init`, then one `subscribe` to `stream(n: N)`, whose async generator
yields N integers with no pause; the clock runs from the `subscribe` to the `complete`, and
every `next` frame in between is counted. A warm-up stream runs first on each socket, then
`--rounds` measured rounds, each streaming once from every server in turn; each server's best
round counts (the least disturbed by the rest of the machine). The ratios of clew's rate to
the others' are printed last.
Every process started here is stopped by its PID.

    .venv/bin/python benchmarks/subscriptions/bench_stream.py [--events 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from harness import Measurement, Server, cpu_seconds, report, servers  # noqa: E402

SERVERS = {
    "bare Starlette": "apps:make_bare",
    "clew": "apps:make_clew",
    "Ariadne": "apps:make_ariadne",
    "Strawberry": "apps:make_strawberry",
}
QUERY = "subscription Stream($n: Int!) { stream(n: $n) }"


async def open_socket(port: int, deadline: float) -> ClientConnection:
    while True:
        try:
            ws = await connect(
                f"ws://127.0.0.1:{port}/",
                subprotocols=[Subprotocol("graphql-transport-ws")],
                max_queue=None,
                compression=None,
            )
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no server answered on port {port}") from None
            await asyncio.sleep(0.1)
    await ws.send(json.dumps({"type": "connection_init"}))
    ack = json.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"the server on port {port} answered {ack!r} to connection_init")
    return ws


async def stream(ws: ClientConnection, operation_id: str, events: int) -> tuple[int, int, float]:
    """Run one subscription: (`next` frames counted, failures, seconds)."""
    subscribe = {
        "type": "subscribe",
        "id": operation_id,
        "payload": {"query": QUERY, "variables": {"n": events}},
    }
    received = failures = 0
    started = time.perf_counter()
    await ws.send(json.dumps(subscribe))
    while True:
        frame = await ws.recv()
        # Counting by substring keeps the client's cost far below the servers'; the first and
        # last events are decoded in full to check that the stream is what was asked for.
        if '"next"' in frame:
            if received in (0, events - 1):
                payload = json.loads(frame)["payload"]
                if payload != {"data": {"stream": received}}:
                    failures += 1
            received += 1
        elif '"complete"' in frame:
            break
        else:
            raise RuntimeError(f"unexpected frame {frame[:200]!r}")
    elapsed = time.perf_counter() - started
    if received != events:
        failures += 1
    return received, failures, elapsed


async def measure(running: dict[str, Server], args: argparse.Namespace) -> list[Measurement]:
    deadline = time.monotonic() + 60
    sockets = {name: await open_socket(server.port, deadline) for name, server in running.items()}
    best: dict[str, Measurement] = {}
    try:
        async with asyncio.timeout(args.seconds):
            for ws in sockets.values():
                await stream(ws, "warmup", max(1, args.events // 10))
            # Rounds are interleaved (each round visits every server, starting one further
            # along), so a slow spell of the machine costs every server a round, not one
            # server all of its rounds.
            names = list(sockets)
            for round_number in range(args.rounds):
                start = round_number % len(names)
                for name in names[start:] + names[:start]:
                    if best.get(name) and best[name].failures:
                        continue
                    cpu_before = cpu_seconds(running[name].pid)
                    received, failures, elapsed = await stream(
                        sockets[name], str(round_number), args.events
                    )
                    cpu = cpu_seconds(running[name].pid) - cpu_before
                    current = Measurement(name, received, elapsed, failures, cpu)
                    if name not in best or current.rate > best[name].rate or failures:
                        best[name] = current
    finally:
        for ws in sockets.values():
            await ws.close()
    for name in names:
        print(f"  {name:<15} {best[name].rate:>10,.0f} events/s", file=sys.stderr)
    return [best[name] for name in names]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per measured stream")
    parser.add_argument("--rounds", type=int, default=3, help="measured streams per server")
    parser.add_argument("--seconds", type=float, default=120.0, help="time cap per server")
    args = parser.parse_args()
    with servers(SERVERS, HERE) as running:
        results = asyncio.run(measure(running, args))
    return report(results, "events")


if __name__ == "__main__":
    sys.exit(main())
