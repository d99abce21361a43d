"""Fixtures for the legacy graphql-ws tests; this directory is on `sys.path` (rootless conftest)."""

from __future__ import annotations

import pytest
from legacy_helpers import LegacyPair


@pytest.fixture
def legacy_pair() -> LegacyPair:
    """A legacy client and server connection wired to each other, before `connection_init`."""
    return LegacyPair()


@pytest.fixture
def ready_legacy_pair() -> LegacyPair:
    """A legacy client and server connection that have completed init and ack."""
    pair = LegacyPair()
    pair.handshake()
    return pair
