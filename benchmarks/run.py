"""`make bench`: every workload of the performance table, against every target, in one run.

Servers (clew, Ariadne, Strawberry and the ceiling: the same stack with no GraphQL work) run
side by side, one uvicorn worker each (uvloop + httptools), pinned to one core; the load
generators (wrk, the `websockets` client, the client processes) run on the other. Each row is
measured in interleaved rounds (every round visits every target, starting one further along,
so a slow spell of the shared machine costs every target a round rather than one target all of
its rounds); the median of the rounds counts. The table with its ratios and the targets is
printed, and everything is written as JSON (and drawn by `chart.py`).

    .venv/bin/python benchmarks/run.py [--rounds 5] [--short-rounds 9] [--json results.json]
    .venv/bin/python benchmarks/run.py --smoke   # every workload briefly, every answer checked
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from websockets.asyncio.client import ClientConnection

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    CLIENT_CPU,
    Server,
    pin_self,
    pinned,
    raise_open_files,
    servers,
)
from report import ROWS, Results, environment, print_report  # noqa: E402
from schema import BOOKS_ANSWER, BOOKS_QUERY, HELLO_ANSWER, HELLO_QUERY  # noqa: E402
from server_load import (  # noqa: E402
    LEGACY_WS,
    TRANSPORT_WS,
    Sample,
    check_http,
    fan_out,
    idle_sockets,
    open_socket,
    register_persisted,
    sse_stream,
    stream,
    wrk,
    wrk_path,
)

#: Server name -> factory in apps.py. Ariadne serves one subprotocol per app, hence two.
FACTORIES = {
    "ceiling": "ceiling",
    "clew": "clew",
    "Ariadne": "ariadne",
    "Ariadne legacy": "ariadne_legacy",
    "Strawberry": "strawberry_app",
}
SERVER_TARGETS = ("ceiling", "clew", "Ariadne", "Strawberry")
SSE_TARGETS = ("ceiling", "clew")
CLIENT_TARGETS = ("raw", "clew", "gql", "qlient")
RECEIVING_CLIENTS = ("raw", "clew", "gql")


@dataclass(frozen=True)
class Settings:
    rounds: int
    #: Rounds of the rows a slow spell swings most (streams, fan-out, the client rows): more,
    #: shorter rounds, so the median sees the machine's spells evenly.
    short_rounds: int
    wrk_seconds: float
    connections: int
    stream_events: int
    fan_count: int
    fan_events: int
    idle_sockets: int
    queries: int
    client_events: int
    #: Decode and check every streamed event, not just the first and last.
    check_all: bool


# Five rounds (nine for streams, fan-out and both client rows), streams of 50,000 events (about
# half a second at the ceiling's rate), 6,000 sequential client queries (about two seconds) and
# 60,000 events received: a round of 10,000 events or 2,000 queries lasted under 0.6 s, within
# a scheduling hiccup or two of this shared machine, while five rounds of 10,000 queries let one
# slow spell of a few seconds move a median. Fan-out keeps 500 events a socket: fewer would
# weigh each subscription's start (which the ceiling does not have) against fewer events.
FULL = Settings(5, 9, 3.0, 64, 50_000, 200, 500, 500, 6_000, 60_000, check_all=False)
SMOKE = Settings(1, 1, 1.0, 16, 300, 20, 50, 40, 300, 2_000, check_all=True)

Measure = Callable[[str], Awaitable[Sample]]


async def rounds(
    row: str, targets: tuple[str, ...], measure: Measure, results: Results, *, short: bool = False
) -> None:
    """Measure `row` on every target, `settings.rounds` (or `short_rounds`) times, interleaved."""
    count = results.settings["short_rounds" if short else "rounds"]
    for number in range(int(str(count))):
        start = number % len(targets)
        for target in targets[start:] + targets[:start]:
            sample = await measure(target)
            results.add(row, target, sample)
            print(f"  {row:<18} {target:<11} {sample.value:>12,.1f}", file=sys.stderr)


def _streamer(
    running: dict[str, Server],
    names: dict[str, str],
    sockets: dict[str, ClientConnection],
    subprotocol: str,
    settings: Settings,
) -> Measure:
    async def one(target: str) -> Sample:
        server = running[names[target]]
        events, check_all = settings.stream_events, settings.check_all
        return await stream(server, sockets[target], subprotocol, events, check_all)

    return one


async def server_rows(running: dict[str, Server], settings: Settings, results: Results) -> None:
    deadline = time.monotonic() + 90
    for name, server in running.items():
        await asyncio.to_thread(check_http, server, HELLO_QUERY, HELLO_ANSWER, deadline)
        if name != "Ariadne legacy":
            await asyncio.to_thread(check_http, server, BOOKS_QUERY, BOOKS_ANSWER, deadline)

    for row, query in (("hello", HELLO_QUERY), ("books", BOOKS_QUERY)):

        async def http(target: str, query: str = query) -> Sample:
            server = running[target]
            return await asyncio.to_thread(
                wrk, server, query, settings.wrk_seconds, settings.connections
            )

        await rounds(row, SERVER_TARGETS, http, results)

    # APQ: clew answering books(50) by hash alone over GET vs the same query POSTed in full.
    clew = running["clew"]
    books_get = await asyncio.to_thread(register_persisted, clew, BOOKS_QUERY, BOOKS_ANSWER)

    async def persisted(target: str) -> Sample:
        get = books_get if target == "clew" else None
        sample = await asyncio.to_thread(
            wrk, clew, BOOKS_QUERY, settings.wrk_seconds, settings.connections, get=get
        )
        # What each request carries besides headers: the URL's path and query, or the body.
        sent = len(get) if get else len(json.dumps({"query": BOOKS_QUERY}))
        sample.extra["request_bytes"] = float(sent)
        return sample

    await rounds("books_apq", ("full POST", "clew"), persisted, results)

    for row, subprotocol in (("stream", TRANSPORT_WS), ("stream_legacy", LEGACY_WS)):
        names = {t: "Ariadne legacy" if row == "stream_legacy" and t == "Ariadne" else t
                 for t in SERVER_TARGETS}  # fmt: skip
        sockets = {t: await open_socket(running[names[t]], subprotocol, deadline) for t in names}
        try:
            for target, ws in sockets.items():  # warm-up
                await stream(running[names[target]], ws, subprotocol, 100, check_all=True)
            measure = _streamer(running, names, sockets, subprotocol, settings)
            await rounds(row, SERVER_TARGETS, measure, results, short=True)
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets.values()))

    async def sse_one(target: str) -> Sample:
        return await sse_stream(running[target], settings.stream_events, settings.check_all)

    # GraphQL over SSE (graphql-sse, distinct connections): Ariadne serves no SSE, and
    # Strawberry's SSE subscription fails on this schema ("Cannot return null for non-nullable
    # field Subscription.stream"), so the row compares clew with the ceiling only.
    await rounds("stream_sse", SSE_TARGETS, sse_one, results)

    fan = {
        t: [
            await open_socket(running[t], TRANSPORT_WS, deadline) for _ in range(settings.fan_count)
        ]
        for t in SERVER_TARGETS
    }
    try:

        async def fan_one(target: str) -> Sample:
            return await fan_out(running[target], fan[target], settings.fan_events)

        await rounds("fanout", SERVER_TARGETS, fan_one, results, short=True)
    finally:
        await asyncio.gather(*(ws.close() for group in fan.values() for ws in group))


async def idle_row(settings: Settings, results: Results) -> None:
    """Fresh servers for every round: memory freed by closed sockets would be reused."""
    factories = {name: FACTORIES[name] for name in SERVER_TARGETS}
    for number in range(settings.rounds):
        with servers(factories) as running:
            deadline = time.monotonic() + 90
            start = number % len(SERVER_TARGETS)
            for target in SERVER_TARGETS[start:] + SERVER_TARGETS[:start]:
                sample = await idle_sockets(running[target], settings.idle_sockets, deadline)
                results.add("idle", target, sample)
                print(f"  {'idle':<18} {target:<11} {sample.value:>12,.1f}", file=sys.stderr)


def _client(mode: str, kind: str, server: Server, count: int) -> Sample:
    command = [sys.executable, str(HERE / "clients.py"), mode, kind,
               f"http://127.0.0.1:{server.port}/", str(count)]  # fmt: skip
    completed = subprocess.run(
        pinned(command, CLIENT_CPU), capture_output=True, text=True, timeout=600, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} {mode} failed:\n{completed.stderr[-3000:]}")
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    extra = {"cpu_us": out["cpu"] / out["count"] * 1e6, "per_second": out["count"] / out["seconds"]}
    value = extra["per_second"] if mode == "sequential" else extra["cpu_us"]
    return Sample(value, int(out["failures"]) + (out["count"] != count), extra)


async def client_rows(ceiling: Server, settings: Settings, results: Results) -> None:
    # Measured alone (`--only client`), nothing else has waited for the server to start yet.
    deadline = time.monotonic() + 90
    await asyncio.to_thread(check_http, ceiling, HELLO_QUERY, HELLO_ANSWER, deadline)

    async def sequential(kind: str) -> Sample:
        return await asyncio.to_thread(_client, "sequential", kind, ceiling, settings.queries)

    async def receive(kind: str) -> Sample:
        return await asyncio.to_thread(_client, "receive", kind, ceiling, settings.client_events)

    await rounds("client_queries", CLIENT_TARGETS, sequential, results, short=True)
    await rounds("client_events", RECEIVING_CLIENTS, receive, results, short=True)


#: The groups of rows `--only` picks from, in the order a full run measures them.
GROUPS = ("idle", "server", "client")


async def main_async(settings: Settings, results: Results, groups: tuple[str, ...]) -> None:
    if "idle" in groups:
        await idle_row(settings, results)
    if "server" in groups or "client" in groups:
        with servers(FACTORIES) as running:
            if "server" in groups:
                await server_rows(running, settings, results)
            if "client" in groups:
                await client_rows(running["ceiling"], settings, results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every workload briefly, checked")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per row (default 5)")
    parser.add_argument(
        "--short-rounds",
        type=int,
        help="rounds of the stream, fan-out and client rows (default 9)",
    )
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups of rows to measure, of {', '.join(GROUPS)} (default all)",
    )
    args = parser.parse_args()
    groups = tuple(group.strip() for group in args.only.split(",") if group.strip())
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}: choose from {', '.join(GROUPS)}")
    settings = SMOKE if args.smoke else FULL
    if args.rounds:
        settings = dataclasses.replace(settings, rounds=args.rounds)
    if args.short_rounds:
        settings = dataclasses.replace(settings, short_rounds=args.short_rounds)
    wrk_path()  # fail early, with the message saying how to install it
    raise_open_files()
    pin_self()
    results = Results(ROWS, vars(settings), environment())
    started = time.monotonic()
    asyncio.run(main_async(settings, results, groups))
    results.settings["wall_seconds"] = round(time.monotonic() - started, 1)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results.as_json(), indent=2) + "\n")
    failures = results.failures(partial=set(groups) != set(GROUPS))
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
