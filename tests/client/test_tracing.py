"""`trace_headers`: what the client adds to each request from the current OpenTelemetry context."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import baggage, context, propagate
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace import TracerProvider

from clew.client._tracing import trace_headers


class _Counting(TextMapPropagator):
    """Wraps the global propagator and counts how often it is asked to inject."""

    def __init__(self, inner: TextMapPropagator) -> None:
        self.inner = inner
        self.injected = 0

    def inject(self, carrier, context=None, setter=None) -> None:  # type: ignore[no-untyped-def]
        self.injected += 1
        self.inner.inject(carrier, context=context)

    def extract(self, carrier, context=None, getter=None):  # type: ignore[no-untyped-def]
        return self.inner.extract(carrier, context=context)

    @property
    def fields(self) -> set[str]:
        return self.inner.fields


@pytest.fixture
def counting() -> Iterator[_Counting]:
    original = propagate.get_global_textmap()
    wrapper = _Counting(original)
    propagate.set_global_textmap(wrapper)
    try:
        yield wrapper
    finally:
        propagate.set_global_textmap(original)


def test_no_span_and_no_baggage_adds_nothing_and_asks_no_propagator(counting: _Counting) -> None:
    assert trace_headers() == {}
    assert counting.injected == 0


def test_the_current_span_is_injected(counting: _Counting) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("client") as span:
        ids = span.get_span_context()
        headers = trace_headers()
    flags = int(ids.trace_flags)
    assert headers["traceparent"] == f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{flags:02x}"
    assert counting.injected == 1
    assert trace_headers() == {}  # the span ended: nothing again


def test_baggage_without_a_span_is_injected(counting: _Counting) -> None:
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        headers = trace_headers()
    finally:
        context.detach(token)
    assert headers == {"baggage": "tenant=acme"}
    assert counting.injected == 1
