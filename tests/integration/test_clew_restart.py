"""The clew server restarts under a running subscription; the clew client resubscribes by itself.

Each test runs its own clew server on a fixed free port, stops that process by PID in the
middle of a subscription (SIGTERM for a graceful shutdown, SIGKILL for a crash), starts a new
one on the same port, and keeps reading the same ``async for``.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from typing import final

import pytest

from clew.client import AIOHTTPClient
from clew.client._websocket import WebSocketManager

from .peers.clew_app import fetch_stats, new_token
from .servers import RunningServer, free_port, running_server, uvicorn_command

pytestmark = pytest.mark.timeout(60)

COUNT = "subscription Count($to: Int!, $delay: Int) { count(to: $to, delayMs: $delay) }"


@final
class RestartableServer:
    """One clew test server at a time on a port that stays the same across restarts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.starts = 0
        self._stack: ExitStack | None = None
        self._current: RunningServer | None = None

    @property
    def current(self) -> RunningServer:
        assert self._current is not None, "the server is not running"
        return self._current

    def start(self) -> RunningServer:
        """Start a fresh process (fresh state and stats) and wait until it listens."""
        assert self._stack is None
        stack = ExitStack()
        command = uvicorn_command("peers.clew_app:create_app", self.port)
        self._current = stack.enter_context(
            running_server(f"clew #{self.starts + 1}", command, port=self.port)
        )
        self._stack = stack
        self.starts += 1
        return self._current

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send sig to the server's PID, wait for it to exit, release the port."""
        stack, self._stack = self._stack, None
        if stack is None:
            return
        process = self.current.process
        if process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=10)
        stack.close()  # stops it by PID if it somehow still runs, and closes its stderr file
        self._current = None


@pytest.fixture
def restartable_server() -> Iterator[RestartableServer]:
    server = RestartableServer()
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_subscription_survives_a_server_restart(
    restartable_server: RestartableServer, subprotocol: str, sig: signal.Signals
) -> None:
    token = new_token()
    # Retry quickly and long enough to outlast a server start (about a second).
    retry = {"base_delay": 0.05, "max_delay": 0.25, "jitter": 0.0, "max_attempts": 80}
    client = AIOHTTPClient(
        restartable_server.current.http_url,
        subscription_protocols=(subprotocol,),
        connection_params={"token": token},
        websocket_options={"retry": retry},
    )
    before: list[int] = []
    after: list[int] = []
    async with client:
        stream = client.subscribe(COUNT, {"to": 1_000_000, "delay": 20})
        async for response in stream:
            assert response.errors is None, response.errors
            assert response.data is not None
            value = response.data["count"]
            assert isinstance(value, int)
            if restartable_server.starts == 1:
                before.append(value)
                if len(before) == 3:
                    await asyncio.to_thread(restartable_server.stop, sig)
                    await asyncio.to_thread(restartable_server.start)
            else:
                after.append(value)
                # The new process counts from 1 again; values the old one sent before it
                # stopped may still arrive first.
                if after[-3:] == [1, 2, 3]:
                    break
        manager = client.backend.websocket()
        assert isinstance(manager, WebSocketManager)
        assert manager.connections_opened == 2
    assert before == [1, 2, 3]
    assert all(value > 3 for value in after[:-3]), after
    # The new server saw this client once: one connection_init, one resubscribed stream.
    stats = await fetch_stats(restartable_server.current.url)
    assert stats["connection_inits"].get(token) == 1
    assert stats["streams_started"].get(token) == 1
