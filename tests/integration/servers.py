"""Run peer servers as subprocesses on free loopback ports, and the Node client, for the tests."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, final

__all__ = [
    "HOST",
    "NODE_CLIENT",
    "NODE_SERVER",
    "PEERS_DIR",
    "NodeClientError",
    "RunningServer",
    "ServerStartError",
    "free_port",
    "node_executable",
    "python_module_name",
    "run_node_client",
    "run_node_client_async",
    "running_server",
    "uvicorn_command",
]

HOST = "127.0.0.1"
PEERS_DIR = Path(__file__).with_name("peers")
NODE_SERVER = PEERS_DIR / "server.mjs"
NODE_CLIENT = PEERS_DIR / "client.mjs"
#: The GraphQL endpoint path every peer serves (Ariadne and Strawberry serve any path).
GRAPHQL_PATH = "/graphql"


class ServerStartError(RuntimeError):
    """A peer server exited or did not accept connections in time; carries its stderr."""


class NodeClientError(RuntimeError):
    """The Node client did not finish its scenario with a final ``{"done": true}`` line."""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RunningServer:
    """A started peer server: where to reach it and the process to stop."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    @property
    def http_url(self) -> str:
        """The GraphQL-over-HTTP endpoint."""
        return f"{self.url}{GRAPHQL_PATH}"

    @property
    def ws_url(self) -> str:
        """The GraphQL-over-WebSocket endpoint."""
        return f"ws://{HOST}:{self.port}{GRAPHQL_PATH}"


def free_port() -> int:
    """Ask the OS for a loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def python_module_name(relative: str) -> str:
    """The importable name of a module of this package (``"peers.ariadne_app"`` -> full name).

    The integration tests are a package whose root name depends on how pytest found it, so
    subprocesses import them by the same name the tests did.
    """
    return f"{__package__}.{relative}" if __package__ else relative


def _import_root() -> Path:
    depth = len(__package__.split(".")) if __package__ else 0
    return Path(__file__).resolve().parents[depth]


def uvicorn_command(
    target: str, port: int, *, factory: bool = True, in_package: bool = True
) -> list[str]:
    """``python -m uvicorn`` on 127.0.0.1:port for ``module:attr``.

    With in_package the module is named relative to this package (``peers.strawberry_app``);
    otherwise it is an importable name such as ``clew.server.demo``. With factory, attr is
    called to build the app (``--factory``), so each server process gets fresh state.
    """
    module, _, attr = target.partition(":")
    name = python_module_name(module) if in_package else module
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *(["--factory"] if factory else []),
        f"{name}:{attr}",
        "--app-dir",
        str(_import_root()),
        "--host",
        HOST,
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--log-level",
        "warning",
    ]


def node_executable() -> str:
    """The ``node`` binary, with the peers' dependencies installed; fails loudly otherwise."""
    node = shutil.which("node")
    if node is None:
        raise ServerStartError("node is not on PATH; the integration tests need Node 18 or newer")
    if not (PEERS_DIR / "node_modules" / "graphql-ws").is_dir():
        raise ServerStartError(
            f"{PEERS_DIR / 'node_modules'} is missing: run `make test`, which installs the Node "
            "peers (or `cd tests/integration/peers && npm ci`)"
        )
    return node


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


@contextmanager
def running_server(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    start_timeout: float = 20.0,
    stop_timeout: float = 5.0,
) -> Iterator[RunningServer]:
    """Run command until the block ends: wait until port accepts connections, then stop by PID.

    stderr goes to a temporary file (a pipe could fill and stall the server) and is quoted in
    the error when the server exits or does not listen within start_timeout seconds.
    """
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + start_timeout
            while not _accepts(port):
                if process.poll() is not None:
                    raise ServerStartError(
                        f"{name} exited with {process.returncode} before listening on "
                        f"{HOST}:{port}; stderr:\n{_read(stderr)}"
                    )
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"{name} did not listen on {HOST}:{port} within {start_timeout}s; "
                        f"stderr:\n{_read(stderr)}"
                    )
                time.sleep(0.05)
            yield RunningServer(name=name, port=port, process=process)
        finally:
            _stop(process, stop_timeout)


def _parse_client_output(stdout: str, stderr: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    if not lines or lines[-1] != {"done": True}:
        raise NodeClientError(f"node client did not finish; stdout:\n{stdout}\nstderr:\n{stderr}")
    crashes = [line for line in lines if line.get("event") == "crash"]
    if crashes:
        raise NodeClientError(f"node client crashed: {crashes[0]['message']}\nstderr:\n{stderr}")
    return lines[:-1]


def _client_command(url: str, protocol: str) -> list[str]:
    return [node_executable(), str(NODE_CLIENT), url, protocol]


def run_node_client(
    url: str, protocol: str, scenario: Mapping[str, object], *, timeout: float = 30.0
) -> list[dict[str, object]]:
    """Run peers/client.mjs on scenario and return its event lines (without the final done line).

    Blocks the calling thread; from a test whose server runs in the same event loop use
    :func:`run_node_client_async`.
    """
    completed = subprocess.run(
        _client_command(url, protocol),
        input=json.dumps(scenario).encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return _parse_client_output(
        completed.stdout.decode(errors="replace"), completed.stderr.decode(errors="replace")
    )


async def run_node_client_async(
    url: str, protocol: str, scenario: Mapping[str, object]
) -> list[dict[str, object]]:
    """:func:`run_node_client` without blocking the event loop; bound it with asyncio.timeout().

    The client also stops itself after the scenario's ``timeoutMs`` (10 s by default).
    """
    process = await asyncio.create_subprocess_exec(
        *_client_command(url, protocol),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await process.communicate(json.dumps(scenario).encode())
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return _parse_client_output(stdout.decode(errors="replace"), stderr.decode(errors="replace"))
