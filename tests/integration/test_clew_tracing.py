"""The client propagates the current span's trace context to a real clew server: the
`traceparent` header on HTTP, and in the `connection_init` payload of the WebSocket."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from graphql import GraphQLResolveInfo
from opentelemetry.sdk.trace import TracerProvider

from clew.client import AIOHTTPClient
from clew.server import GraphQL

from .servers import RunningServer, free_port, running_server, uvicorn_command

SDL = """
type Query { traceparent: String }
type Subscription { initTraceparent: String }
"""


def create_app() -> GraphQL:
    """Answers with the trace context each transport received (``uvicorn --factory``)."""

    def traceparent(_root: object, info: GraphQLResolveInfo) -> str | None:
        value: str | None = info.context["request"].headers.get("traceparent")
        return value

    async def init_traceparent(_root: object, info: GraphQLResolveInfo) -> AsyncIterator[object]:
        yield (info.context["connection_params"] or {}).get("traceparent")

    return GraphQL.from_sdl(
        SDL,
        {
            "Query": {"traceparent": traceparent},
            "Subscription": {"initTraceparent": init_traceparent},
        },
    )


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    port = free_port()
    command = uvicorn_command("test_clew_tracing:create_app", port)
    with running_server("clew (tracing)", command, port=port) as running:
        yield running


async def test_the_current_span_travels_on_http_and_in_connection_init(
    server: RunningServer,
) -> None:
    tracer = TracerProvider().get_tracer("test")
    async with AIOHTTPClient(server.http_url) as client:
        assert (await client.execute("{ traceparent }")).data == {"traceparent": None}
        with tracer.start_as_current_span("client") as span:
            context = span.get_span_context()
            ids = f"{context.trace_id:032x}-{context.span_id:016x}"
            expected = f"00-{ids}-{int(context.trace_flags):02x}"
            assert (await client.execute("{ traceparent }")).data == {"traceparent": expected}
            stream = client.subscribe("subscription { initTraceparent }")
            first = await anext(aiter(stream))
            await stream.aclose()
            assert first.data == {"initTraceparent": expected}


def run_without_opentelemetry(code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys; sys.modules['opentelemetry'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, check=False
    )


def test_without_opentelemetry_the_client_adds_nothing() -> None:
    result = run_without_opentelemetry(
        "from clew.client._tracing import trace_headers, with_trace_context\n"
        "assert trace_headers() == {}\n"
        "assert with_trace_context({'token': 't'}) == {'token': 't'}\n"
        "import clew.client\n"
    )
    assert result.returncode == 0, result.stderr


def test_without_opentelemetry_the_extension_names_the_extra() -> None:
    result = run_without_opentelemetry(
        "import clew.server.extensions\nfrom clew.server.extensions import OpenTelemetry\n"
    )
    assert result.returncode == 1
    assert 'pip install "clew[otel]"' in result.stderr
