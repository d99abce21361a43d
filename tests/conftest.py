"""Settings shared by the whole suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Property tests check behaviour, not speed: on a loaded machine (CI, or `make test` beside a
# benchmark) a slow example is no failure. Every other health check stays on.
settings.register_profile(
    "clew", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("clew")
