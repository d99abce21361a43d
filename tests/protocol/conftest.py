"""Shared fixtures for the protocol tests.

Being a rootless conftest, this file also puts `tests/protocol` on `sys.path`, so the test
modules in its subdirectories can `from helpers import ConnectionPair`.
"""

from __future__ import annotations

import pytest
from helpers import ConnectionPair

from clew.protocol import Role


@pytest.fixture
def pair() -> ConnectionPair:
    """A client and a server connection wired to each other, before `connection_init`."""
    return ConnectionPair()


@pytest.fixture
def ready_pair() -> ConnectionPair:
    """A client and a server connection that have completed init and ack."""
    pair = ConnectionPair()
    pair.handshake()
    return pair


@pytest.fixture(params=[Role.CLIENT, Role.SERVER], ids=["client", "server"])
def role(request: pytest.FixtureRequest) -> Role:
    """Each side in turn, for rules that hold for both."""
    return request.param  # type: ignore[no-any-return]
