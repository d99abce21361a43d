"""OpenTelemetry tracing: a span per operation on every transport, and optional resolver spans.

```python
tracing = OpenTelemetry()
app = GraphQL(schema, extensions=[tracing])                           # operation spans
app = GraphQL(schema, extensions=[tracing], middleware=[tracing.resolvers])  # + resolver spans
```

Operation spans (kind SERVER) carry `graphql.operation.type` and `graphql.operation.name`, and
an error status with one `graphql.error` event per error. Their parent is the trace context
the client sent: the `traceparent` header over HTTP, the `connection_init` payload over a
WebSocket (where clew's client puts it), read from the default context's request; pass
`carrier` to read it from a context of your own. Only `opentelemetry-api` is needed
(`clew[otel]`); without an SDK configured the spans cost next to nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import Token
from inspect import isawaitable
from typing import Final, TypeAlias, final

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
    from opentelemetry.context import Context
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        f"clew.server.extensions.OpenTelemetry needs opentelemetry-api ({error.name} is "
        'missing): pip install "clew[otel]"'
    ) from error

from graphql import GraphQLError, GraphQLResolveInfo, OperationType
from starlette.requests import HTTPConnection

from clew.server._extensions import Extension

__all__ = ["CarrierGetter", "OpenTelemetry", "default_carrier"]

#: Reads the incoming trace context (``traceparent``, ``tracestate``) for one operation.
CarrierGetter: TypeAlias = Callable[[object], Mapping[str, str] | None]

_TRACER_NAME: Final = "clew.server"


def default_carrier(context: object) -> Mapping[str, str] | None:
    """The trace context in the default context: HTTP headers, or the connection_init payload."""
    if not isinstance(context, Mapping):
        return None
    connection = context.get("request")
    if not isinstance(connection, HTTPConnection):
        return None
    if connection.scope["type"] == "websocket":
        params = context.get("connection_params")
        if isinstance(params, Mapping):
            return {k: v for k, v in params.items() if isinstance(v, str)}
        return None
    return connection.headers


@final
class OpenTelemetry:
    """Makes one tracing `Extension` per operation; `resolvers` is its field-level middleware."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        carrier: CarrierGetter = default_carrier,
    ) -> None:
        self.tracer = trace.get_tracer(_TRACER_NAME, tracer_provider=tracer_provider)
        self.carrier = carrier
        #: graphql-core middleware adding a span around every resolver a field declares
        #: (fields resolved by reading an attribute get none) within a query or mutation.
        self.resolvers = _ResolverSpans(self.tracer)

    def __call__(self) -> Extension:
        return _OperationSpan(self.tracer, self.carrier)


@final
class _OperationSpan(Extension):
    """One operation's span: opened when the operation is known, ended when it finishes."""

    def __init__(self, tracer: trace.Tracer, carrier: CarrierGetter) -> None:
        self._tracer = tracer
        self._carrier = carrier
        self._span: trace.Span | None = None
        self._token: Token[Context] | None = None

    def operation_started(
        self, operation_type: OperationType, operation_name: str | None, context: object
    ) -> None:
        carrier = self._carrier(context)
        parent = propagate.extract(carrier) if carrier else None
        kind = operation_type.value
        attributes: dict[str, str] = {"graphql.operation.type": kind}
        if operation_name:
            attributes["graphql.operation.name"] = operation_name
        span = self._tracer.start_span(
            f"{kind} {operation_name}" if operation_name else kind,
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
        )
        self._span = span
        if operation_type is not OperationType.SUBSCRIPTION:
            # Resolver spans nest under it; a subscription outlives the task that started it.
            self._token = otel_context.attach(trace.set_span_in_context(span))

    def has_errors(self, errors: Sequence[GraphQLError], context: object) -> None:
        span = self._span
        if span is None:
            return
        for error in errors:
            attributes: dict[str, str] = {"graphql.error.message": error.message}
            if error.path:
                attributes["graphql.error.path"] = ".".join(map(str, error.path))
            span.add_event("graphql.error", attributes)
        span.set_status(trace.StatusCode.ERROR, errors[0].message)

    def request_finished(self, context: object) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
            self._token = None
        if self._span is not None:
            self._span.end()
            self._span = None


@final
class _ResolverSpans:
    """graphql-core middleware: a span around each resolver a field declares."""

    __slots__ = ("_tracer",)

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def resolve(
        self,
        next_: Callable[..., object],
        root: object,
        info: GraphQLResolveInfo[object],
        **args: object,
    ) -> object:
        # Meta-fields (`__typename`, `__schema`, `__type`) are not among the type's fields.
        field = info.parent_type.fields.get(info.field_name)
        # Fields read from their parent, and operations nobody traces, cost one check each.
        if field is None or field.resolve is None or not trace.get_current_span().is_recording():
            return next_(root, info, **args)
        span = self._tracer.start_span(
            f"{info.parent_type.name}.{info.field_name}",
            attributes={
                "graphql.field.name": info.field_name,
                "graphql.field.path": ".".join(map(str, info.path.as_list())),
                "graphql.field.type": str(info.return_type),
            },
        )
        try:
            with trace.use_span(span, record_exception=True, set_status_on_exception=True):
                result = next_(root, info, **args)
        except BaseException:
            span.end()
            raise
        if isawaitable(result):
            return _end_when_done(span, result)
        span.end()
        return result


async def _end_when_done(span: trace.Span, pending: Awaitable[object]) -> object:
    try:
        with trace.use_span(span, record_exception=True, set_status_on_exception=True):
            return await pending
    finally:
        span.end()
