"""Trace context for outgoing requests: the W3C `traceparent` (and `tracestate`) of the current
OpenTelemetry span, when opentelemetry-api is installed and a span is active.

It goes in the headers of every HTTP request and in the `connection_init` payload of the
WebSocket (asked on every connect), where clew's server reads it to parent its operation spans.
Without opentelemetry-api, or with no span active, nothing is added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import isawaitable

from clew.protocol import JSONObject

from ._types import ConnectionParams

__all__ = ["trace_headers", "with_trace_context"]

_inject: Callable[[dict[str, str]], None] | None
_current: Callable[[], Mapping[str, object]]
try:
    from opentelemetry import propagate
    from opentelemetry.context import get_current as _current

    _inject = propagate.inject
except ImportError:  # opentelemetry-api is optional (`clew[otel]`); tested in a subprocess
    _inject = None


def trace_headers() -> dict[str, str]:
    """The current trace context as headers (empty without a span or opentelemetry-api).

    An empty context (no span, no baggage: most requests of most programs) has nothing to
    propagate, so the propagators are asked only when it holds something.
    """
    if _inject is None or not _current():
        return {}
    carrier: dict[str, str] = {}
    _inject(carrier)
    return carrier


def with_trace_context(
    params: ConnectionParams | None,
) -> ConnectionParams | None:
    """`params` as a callable that adds the trace context current when the socket connects."""
    if _inject is None:
        return params

    async def payload() -> JSONObject | None:
        base = params() if callable(params) else params
        if isawaitable(base):  # a plain callable is accepted too
            base = await base
        context = trace_headers()
        if not context:
            return base
        return {**(base or {}), **context}

    return payload
