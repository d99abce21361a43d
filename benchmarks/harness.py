"""What both benchmarks share: uvicorn servers side by side on loopback, stopped by PID, and
one report format with the ratios that matter (clew against each other server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measurement", "report", "servers"]


@dataclass
class Measurement:
    """How many items (requests or events) one server handled, in how long."""

    name: str
    count: int
    seconds: float
    failures: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(factory: str, port: int, app_dir: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--app-dir", str(app_dir), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


@contextmanager
def servers(factories: Mapping[str, str], app_dir: Path) -> Iterator[dict[str, int]]:
    """Start one uvicorn worker per factory on a free loopback port; yield name -> port."""
    ports = {name: _free_port() for name in factories}
    processes = [_start(factory, ports[name], app_dir) for name, factory in factories.items()]
    try:
        yield ports
    finally:
        for process in processes:
            os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def report(results: list[Measurement], unit: str) -> int:
    """Print the table and the ratios; the exit status is 1 when any server failed."""
    by_name = {m.name: m for m in results}
    print(f"{'server':<15} {unit:>9} {'seconds':>8} {unit + '/s':>11} {'failures':>8}")
    for m in results:
        print(f"{m.name:<15} {m.count:>9} {m.seconds:>8.3f} {m.rate:>11,.0f} {m.failures:>8}")
    clew = by_name["clew"].rate
    print()
    for other in ("Ariadne", "Strawberry", "bare Starlette"):
        rate = by_name[other].rate
        print(f"clew / {other:<15} {clew / rate if rate else float('nan'):.2f}x")
    return 0 if all(m.failures == 0 for m in results) else 1
