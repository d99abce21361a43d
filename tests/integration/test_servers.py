"""The launcher fails loudly, with the reason, instead of hanging or skipping."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from . import servers
from .servers import ServerStartError, free_port, running_server


def test_missing_node_modules_names_make_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(servers, "PEERS_DIR", tmp_path)
    with pytest.raises(ServerStartError, match="run `make test`"):
        servers.node_executable()


def test_server_that_exits_reports_its_stderr() -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('cannot start: bad config')"]
    with (
        pytest.raises(ServerStartError, match="cannot start: bad config"),
        running_server("broken", command, port=free_port()),
    ):
        pytest.fail("the block must not run for a server that never listened")


def test_server_that_never_listens_times_out_and_is_stopped() -> None:
    script = "import sys, time; print('waiting', file=sys.stderr, flush=True); time.sleep(60)"
    command = [sys.executable, "-c", script]
    with (
        pytest.raises(ServerStartError, match=r"did not listen(.|\n)*waiting"),
        running_server("silent", command, port=free_port(), start_timeout=0.5),
    ):
        pytest.fail("the block must not run for a server that never listened")


def test_running_server_is_stopped_by_pid_afterwards() -> None:
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with running_server("http.server", command, port=port) as server:
        assert server.process.poll() is None
        assert server.http_url == f"http://127.0.0.1:{port}/graphql"
        assert server.ws_url == f"ws://127.0.0.1:{port}/graphql"
    assert server.process.returncode is not None
