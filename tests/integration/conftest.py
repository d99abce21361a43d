"""Session-wide third-party peer servers for the integration tests, started once, stopped by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from redis_server import redis_server  # noqa: F401 - the shared redis-server fixture

from .peers.capabilities import Peer
from .servers import (
    NODE_SERVER,
    PEERS_DIR,
    RunningServer,
    node_executable,
    running_server,
    uvicorn_command,
)
from .servers import free_port as _free_port


@pytest.fixture
def free_port() -> int:
    """A loopback port nobody listens on right now."""
    return _free_port()


def _uvicorn(name: str, target: str) -> Iterator[RunningServer]:
    port = _free_port()
    with running_server(name, uvicorn_command(target, port), port=port) as server:
        yield server


@pytest.fixture(scope="session")
def node_server() -> Iterator[RunningServer]:
    """graphql-http, graphql-ws and subscriptions-transport-ws in one Node process."""
    node = node_executable()  # fails, naming `make test`, when node_modules is missing
    port = _free_port()
    with running_server(
        "node server.mjs", [node, str(NODE_SERVER), str(port)], port=port, cwd=PEERS_DIR
    ) as server:
        yield server


@pytest.fixture(scope="session")
def ariadne_transport_ws_server() -> Iterator[RunningServer]:
    """Ariadne whose WebSocket endpoint speaks graphql-transport-ws."""
    target = "peers.ariadne_app:create_transport_ws_app"
    yield from _uvicorn("ariadne (graphql-transport-ws)", target)


@pytest.fixture(scope="session")
def ariadne_legacy_ws_server() -> Iterator[RunningServer]:
    """Ariadne whose WebSocket endpoint speaks the legacy graphql-ws."""
    yield from _uvicorn("ariadne (graphql-ws)", "peers.ariadne_app:create_legacy_ws_app")


@pytest.fixture(scope="session")
def strawberry_server() -> Iterator[RunningServer]:
    """Strawberry serving both WebSocket subprotocols."""
    yield from _uvicorn("strawberry", "peers.strawberry_app:create_app")


@pytest.fixture(scope="session")
def clew_server() -> Iterator[RunningServer]:
    """clew's own server on the shared schema, both subprotocols, stats at /_test/stats."""
    yield from _uvicorn("clew", "peers.clew_app:create_app")


@pytest.fixture
def peer_server(request: pytest.FixtureRequest) -> Callable[[Peer], RunningServer]:
    """Look up the (session-wide) server of a peer named by a parametrised test."""

    def get(peer: Peer) -> RunningServer:
        server = request.getfixturevalue(peer.value)
        assert isinstance(server, RunningServer)
        return server

    return get
