"""A real redis-server for the tests: started on a free loopback port, stopped by PID.

Reusable by any test that needs Redis: a test package's conftest.py re-exports the
session-wide `redis_server` fixture (``from redis_server import redis_server``), which shares
one server; `running_redis()` starts a private one, which a test may `kill()` and `restart()`
on the same port to stage an outage. The server keeps nothing on disk (``--save ''
--appendonly no``) and binds 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

__all__ = [
    "HOST",
    "RedisServer",
    "RedisUnavailableError",
    "free_port",
    "redis_server",
    "running_redis",
]

HOST = "127.0.0.1"
_INSTALL_HINT = (
    "redis-server is not on PATH: install the Debian package `redis-server` "
    "(`make test` does it when run as root: apt-get install -y redis-server)"
)


class RedisUnavailableError(RuntimeError):
    """redis-server is missing, or did not start; the message says which and why."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _executable() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RedisUnavailableError(_INSTALL_HINT)
    return found


class RedisServer:
    """One redis-server process on a fixed loopback port; `kill` and `restart` keep the port."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The running server's process id (None while it is stopped)."""
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until it answers PING."""
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _halt
        command = [
            _executable(),
            "--bind", HOST,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._workdir),
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while not self._pings():
            if self._process.poll() is not None:
                raise RedisUnavailableError(
                    f"redis-server exited with {self._process.returncode}:\n{self._output()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RedisUnavailableError(f"redis-server did not answer within {timeout}s")
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would; its port stays ours to reuse."""
        self._halt(kill=True)

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `grace` seconds)."""
        self._halt(kill=False, grace=grace)

    def restart(self) -> None:
        """Start the server again on the same port after `kill` or `stop`."""
        self.start()

    def command(self, *args: str) -> object:
        """Run one command over a fresh connection and return the decoded RESP reply."""
        with socket.create_connection((HOST, self.port), timeout=5) as sock:
            sock.sendall(_encode(args))
            return _read_reply(sock.makefile("rb"))

    def _pings(self) -> bool:
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def _halt(self, *, kill: bool, grace: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            if kill:
                process.kill()
            else:
                process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=grace)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]


@contextmanager
def running_redis(port: int | None = None) -> Iterator[RedisServer]:
    """A private redis-server for the block; stopped by PID at the end, whatever happened."""
    with tempfile.TemporaryDirectory(prefix="clew-redis-") as workdir:
        server = RedisServer(port if port is not None else free_port(), Path(workdir))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server (127.0.0.1, free port, nothing on disk) shared by the whole session.

    Tests sharing it use channel or key names of their own; a test that stops Redis takes a
    private server from `running_redis()` instead.
    """
    with running_redis() as server:
        yield server


def _encode(args: tuple[str, ...]) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream: IO[bytes]) -> object:
    # Just enough RESP2 for test assertions: strings, errors, integers, bulk strings, arrays.
    line = stream.readline()
    if not line:
        raise ConnectionError("redis-server closed the connection")
    kind, body = line[:1], line[1:-2].decode()
    if kind == b"+":
        return body
    if kind == b"-":
        raise RuntimeError(f"redis-server: {body}")
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        return None if size < 0 else stream.read(size + 2)[:-2].decode()
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_reply(stream) for _ in range(count)]
    raise ValueError(f"Unexpected RESP reply {line!r}")
