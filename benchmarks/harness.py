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

__all__ = ["Measurement", "Server", "cpu_seconds", "report", "servers"]


@dataclass
class Measurement:
    """How many items (requests or events) one server handled, in how long."""

    name: str
    count: int
    seconds: float
    failures: int
    #: CPU time the server process spent meanwhile (user + system), in seconds.
    server_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_item(self) -> float:
        """Server CPU microseconds per request or event: the cost, whatever the client's speed."""
        return self.server_cpu / self.count * 1e6 if self.count else 0.0


@dataclass(frozen=True)
class Server:
    """One running server: where to reach it and whose CPU time to read."""

    port: int
    pid: int


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux `/proc`; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime field 14, stime field 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
def servers(factories: Mapping[str, str], app_dir: Path) -> Iterator[dict[str, Server]]:
    """Start one uvicorn worker per factory on a free loopback port; yield name -> server."""
    ports = {name: _free_port() for name in factories}
    processes = [_start(factory, ports[name], app_dir) for name, factory in factories.items()]
    try:
        yield {
            name: Server(ports[name], process.pid)
            for name, process in zip(factories, processes, strict=True)
        }
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
    print(
        f"{'server':<15} {unit:>9} {'seconds':>8} {unit + '/s':>11} {'failures':>8}"
        f" {'server CPU µs/' + unit[:-1]:>22}"
    )
    for m in results:
        print(
            f"{m.name:<15} {m.count:>9} {m.seconds:>8.3f} {m.rate:>11,.0f} {m.failures:>8}"
            f" {m.cpu_per_item:>22.1f}"
        )
    clew = by_name["clew"]
    print()
    print(f"{'throughput':<28} {'server CPU per ' + unit[:-1]:>24}")
    for other in ("Ariadne", "Strawberry", "bare Starlette"):
        theirs = by_name[other]
        speed = clew.rate / theirs.rate if theirs.rate else float("nan")
        cost = theirs.cpu_per_item / clew.cpu_per_item if clew.cpu_per_item else float("nan")
        print(f"clew / {other:<15} {speed:>5.2f}x    {other} costs {cost:.2f}x clew's")
    return 0 if all(m.failures == 0 for m in results) else 1
