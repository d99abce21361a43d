"""The rows of the performance table, their targets, and the printed and JSON forms of a run."""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field

from server_load import Sample

__all__ = ["ROWS", "Results", "Row", "environment", "print_report"]


@dataclass(frozen=True)
class Row:
    """One line of the table: what is measured, in which unit, and which way is better."""

    key: str
    label: str
    unit: str
    #: The column clew is compared against, and the other columns in print order.
    baseline: str
    others: tuple[str, ...]
    higher_is_better: bool = True
    #: (reference, lowest acceptable clew/reference) or, lower-is-better, (reference, highest).
    targets: tuple[tuple[str, float], ...] = ()


SERVERS = ("Ariadne", "Strawberry")
ROWS = (
    Row("hello", "`{ hello }` req/s (wrk)", "req/s", "ceiling", SERVERS,
        targets=(("ceiling", 0.7),)),
    Row("books", "`books(count: 50)` all fields, req/s", "req/s", "ceiling", SERVERS,
        targets=(("Ariadne", 5.0),)),
    Row("books_apq", "`books(count: 50)` on clew: hash-only GET (APQ) vs full POST, req/s",
        "req/s", "full POST", ()),
    Row("stream", "stream, graphql-transport-ws, msg/s", "msg/s", "ceiling", SERVERS,
        targets=(("ceiling", 0.95),)),
    Row("stream_legacy", "stream, legacy graphql-ws, msg/s", "msg/s", "ceiling", SERVERS,
        targets=(("ceiling", 0.95),)),
    Row("stream_sse", "stream, SSE (graphql-sse), msg/s", "msg/s", "ceiling", ()),
    Row("fanout", "fan-out, 200 conns × 500 events, msg/s", "msg/s", "ceiling", SERVERS,
        targets=(("ceiling", 0.9),)),
    Row("idle", "idle acknowledged socket, KiB/conn", "KiB", "ceiling", SERVERS,
        higher_is_better=False),
    Row("client_queries", "client: sequential `{ hello }` q/s", "q/s", "raw", ("gql", "qlient"),
        targets=(("raw", 0.95), ("gql", 1.3))),
    Row("client_events", "client: CPU µs per received event", "µs", "raw", ("gql",),
        higher_is_better=False, targets=(("raw", 1.15), ("gql", 0.75))),
)  # fmt: skip
#: Absolute targets: clew's median must be at most this.
CEILINGS = {"idle": 23.0}
#: p99 / p50 of `{ hello }` must be at most this.
HELLO_TAIL = 2.5


@dataclass
class Results:
    """Every sample of one run, by row then target."""

    rows: tuple[Row, ...]
    settings: dict[str, object]
    environment: dict[str, object]
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)

    def add(self, row: str, target: str, sample: Sample) -> None:
        self.samples.setdefault(row, {}).setdefault(target, []).append(sample)

    def median(self, row: str, target: str, extra: str | None = None) -> float:
        samples = self.samples.get(row, {}).get(target, [])
        if not samples:
            return float("nan")
        values = [s.value if extra is None else s.extra[extra] for s in samples]
        return statistics.median(values)

    def ratio(self, row: str, reference: str) -> float:
        """clew's median over the reference's (for lower-is-better rows, still clew / theirs)."""
        theirs = self.median(row, reference)
        return self.median(row, "clew") / theirs if theirs else float("nan")

    def checks(self) -> list[tuple[str, bool]]:
        """Every target of the issue, as (description, met)."""
        found = []
        for row in self.rows:
            for reference, bound in row.targets:
                ratio = self.ratio(row.key, reference)
                met = ratio >= bound if row.higher_is_better else ratio <= bound
                sign = "≥" if row.higher_is_better else "≤"
                found.append((f"{row.key}: clew / {reference} = {ratio:.2f} ({sign} {bound})", met))
        for key, bound in CEILINGS.items():
            value = self.median(key, "clew")
            found.append((f"{key}: clew {value:.1f} (≤ {bound})", value <= bound))
        tail = self.median("hello", "clew", "p99_ms") / self.median("hello", "clew", "p50_ms")
        found.append((f"hello: clew p99 / p50 = {tail:.2f} (≤ {HELLO_TAIL})", tail <= HELLO_TAIL))
        return found

    def failures(self, *, partial: bool = False) -> list[str]:
        """Every (row, target) that answered wrongly or not at all.

        `partial` (a run of some groups only) ignores the rows that were not measured at all.
        """
        wrong = []
        for row in self.rows:
            if partial and not self.samples.get(row.key):
                continue
            for target in (row.baseline, "clew", *row.others):
                samples = self.samples.get(row.key, {}).get(target)
                if not samples:
                    wrong.append(f"{row.key} / {target}: not measured")
                elif any(s.failures for s in samples):
                    wrong.append(
                        f"{row.key} / {target}: {sum(s.failures for s in samples)} failures"
                    )
        return wrong

    def as_json(self) -> dict[str, object]:
        rows: dict[str, object] = {}
        for row in self.rows:
            targets = {}
            for target, samples in self.samples.get(row.key, {}).items():
                extras = {k: self.median(row.key, target, k) for k in samples[0].extra}
                targets[target] = {
                    "median": self.median(row.key, target),
                    "samples": [s.value for s in samples],
                    "failures": sum(s.failures for s in samples),
                    **extras,
                }
            refs = (row.baseline, *row.others)
            rows[row.key] = {
                "label": row.label,
                "unit": row.unit,
                "higher_is_better": row.higher_is_better,
                "targets": targets,
                "clew_over": {ref: self.ratio(row.key, ref) for ref in refs},
            }
        checks = [{"check": text, "met": met} for text, met in self.checks()]
        return {"environment": self.environment, "settings": self.settings, "rows": rows,
                "checks": checks}  # fmt: skip


def _cell(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def print_report(results: Results) -> None:
    """The table in Markdown (the README embeds it), then each target, met or not."""
    print()
    print("| workload | baseline | clew | others | clew / baseline | clew / others |")
    print("|---|---:|---:|---|---:|---|")
    for row in results.rows:
        base = results.median(row.key, row.baseline)
        clew = results.median(row.key, "clew")
        others = ", ".join(f"{o} {_cell(results.median(row.key, o))}" for o in row.others)
        ratios = ", ".join(f"{results.ratio(row.key, o):.2f}× {o}" for o in row.others)
        print(
            f"| {row.label} | {row.baseline} {_cell(base)} | {_cell(clew)} | {others} "
            f"| {results.ratio(row.key, row.baseline):.2f} | {ratios} |"
        )
    print()
    latency = ", ".join(
        f"{t} {results.median('hello', t, 'p50_ms'):.1f} / "
        f"{results.median('hello', t, 'p99_ms'):.1f}"
        for t in ("ceiling", "clew", "Ariadne", "Strawberry")
    )
    print(f"`{{ hello }}` p50 / p99 ms: {latency}")
    cpu = ", ".join(
        f"{t} {results.median('client_queries', t, 'cpu_us'):.0f}"
        for t in ("raw", "clew", "gql", "qlient")
    )
    print(f"client CPU µs per sequential query (the client process' own, kernel included): {cpu}")
    print("qlient cannot subscribe over graphql-transport-ws (it speaks only graphql-ws).")
    print()
    for text, met in results.checks():
        if "nan" in text:
            print(f"-------  {text.replace('nan', 'not measured')}")
        else:
            print(f"{'met    ' if met else 'NOT met'}  {text}")


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, object]:
    """The machine and every version the figures depend on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = (ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln)
            model = next(names, "")
    except OSError:
        pass
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (completed.stdout + completed.stderr).split("[")[0].strip()
    names = (
        "clew", "graphql-core", "ariadne", "strawberry-graphql", "gql", "qlient-aiohttp",
        "starlette", "uvicorn", "uvloop", "httptools", "websockets", "aiohttp", "orjson",
    )  # fmt: skip
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version,
        "versions": {name: _version(name) for name in names},
    }
