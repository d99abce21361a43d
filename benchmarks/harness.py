"""What every workload shares: uvicorn servers side by side on loopback, pinned to one core and
stopped by PID; the load generator pinned to the other; CPU and memory read from `/proc`."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CLIENT_CPU",
    "SERVER_CPU",
    "Server",
    "cpu_seconds",
    "pin_self",
    "pinned",
    "raise_open_files",
    "rss_kib",
    "servers",
]

HERE = Path(__file__).resolve().parent
_CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
#: The core the servers run on, and the core the load generators and clients run on; None when
#: the machine has a single core (then nothing is pinned).
SERVER_CPU: int | None = _CORES[0] if len(_CORES) >= 2 else None
CLIENT_CPU: int | None = _CORES[1] if len(_CORES) >= 2 else None


@dataclass(frozen=True)
class Server:
    """One running server: where to reach it and whose CPU time and memory to read."""

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


def rss_kib(pid: int) -> int:
    """Resident memory of process `pid` in KiB (`VmRSS` in `/proc/<pid>/status`)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def pinned(command: Sequence[str], cpu: int | None) -> list[str]:
    """`command` run on core `cpu` through taskset, when there is a core to pin to."""
    if cpu is None or shutil.which("taskset") is None:
        return list(command)
    return ["taskset", "-c", str(cpu), *command]


def pin_self() -> None:
    """Move this process (the load generator) to the client core."""
    if CLIENT_CPU is not None:
        os.sched_setaffinity(0, {CLIENT_CPU})


def raise_open_files() -> None:
    """Lift the soft limit on open files to the hard one (idle sockets and fan-out need it);
    servers started afterwards inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(factory: str, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", f"apps:{factory}", "--factory",
        "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(pinned(command, SERVER_CPU), stdout=subprocess.DEVNULL)


@contextmanager
def servers(factories: Mapping[str, str]) -> Iterator[dict[str, Server]]:
    """Start one uvicorn worker per factory in `apps.py` on a free loopback port, all on the
    server core; yield name -> server; stop them all by PID."""
    ports = {name: _free_port() for name in factories}
    processes = [_start(factory, ports[name]) for name, factory in factories.items()]
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
