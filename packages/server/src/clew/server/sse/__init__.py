"""GraphQL over server-sent events: the graphql-sse protocol, both modes, on the app's endpoint.

`GraphQL(schema)` serves it by default (`sse_handler=GraphQLSSEHandler(...)` to configure it,
`sse_handler=None` to turn it off): a POST or GET with ``Accept: text/event-stream`` streams
the operation's results (distinct connections mode); PUT reserves a stream for single
connection mode. `on_operation(request, operation)` and `on_complete(request, operation)` are
the WebSocket handlers' hooks, with the same semantics and the same `Operation`.
"""

from __future__ import annotations

from ._handler import Authenticate, GraphQLSSEHandler
from ._operation import OnComplete, OnOperation

__all__ = ["Authenticate", "GraphQLSSEHandler", "OnComplete", "OnOperation"]
