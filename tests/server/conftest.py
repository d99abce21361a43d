"""Shared fixtures for the server tests: a small schema and Starlette's test client."""

from __future__ import annotations

import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from redis_server import redis_server  # noqa: F401 - the shared redis-server fixture

with warnings.catch_warnings():
    # Starlette 1.x warns once, on import, that it prefers httpx2 to the installed httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    import starlette.testclient  # noqa: F401

from .helpers import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
