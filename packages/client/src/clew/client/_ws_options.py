"""The tuning of the shared WebSocket: timeouts, keepalives, limits, retries, resubscription."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import final

from ._retry import RetryPolicy

__all__ = ["OnResubscribe", "WebSocketOptions"]

#: `on_resubscribe(operation_id, reconnects)`: a subscription was sent again on a new socket.
OnResubscribe = Callable[[str, int], object]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketOptions:
    """Tuning of the shared WebSocket; the backend's `websocket_options` mapping uses these names.

    Two kinds of keepalive exist and both can be on. `ping_interval`/`pong_timeout` (and
    `keepalive_timeout` for the legacy subprotocol) are GraphQL *protocol* messages, which
    prove the GraphQL server is alive; `heartbeat` is aiohttp's WebSocket *frame* ping, which
    only proves the socket is (and keeps proxies from closing it).
    """

    #: Seconds to wait for `connection_ack` before closing with 4504 (None: wait forever).
    ack_timeout: float | None = 10.0
    #: graphql-transport-ws: seconds between our `ping` messages (None: no pings).
    ping_interval: float | None = 15.0
    #: graphql-transport-ws: seconds to wait for the `pong` before closing (None: forever).
    pong_timeout: float | None = 10.0
    #: Legacy graphql-ws: seconds without `ka` (after the first) before closing with 1011.
    keepalive_timeout: float | None = 30.0
    #: aiohttp WebSocket-frame ping interval, passed to `ws_connect(heartbeat=...)`.
    heartbeat: float | None = None
    #: Seconds the socket stays open after the last operation ends (0: close at once).
    idle_timeout: float = 1.0
    #: Seconds allowed for the TCP connect and WebSocket handshake.
    connect_timeout: float | None = 10.0
    #: Seconds to wait for the closing handshake.
    close_timeout: float = 5.0
    #: Largest frame accepted from the server, in bytes.
    max_message_size: int = 4 * 1024 * 1024
    #: When and how to reconnect after the socket drops.
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Called with a subscription's id (and how many times it was re-sent so far) each time it
    #: is sent again after a reconnect: its results restart from the server's beginning, which
    #: the stream alone would not show. `Subscription.resubscriptions` counts the same.
    on_resubscribe: OnResubscribe | None = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, object]) -> WebSocketOptions:
        """Build options from a plain mapping, naming the valid keys when one is unknown.

        `retry` may be a `RetryPolicy` or a mapping of its fields.
        """
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TypeError(
                f"Unknown WebSocket option(s) {', '.join(unknown)}; valid: {', '.join(names)}"
            )
        values = dict(options)
        retry = values.get("retry")
        if isinstance(retry, Mapping):
            values["retry"] = RetryPolicy(**retry)
        elif retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy or a mapping, got {type(retry)}")
        for name, value in values.items():
            if name in ("retry", "on_resubscribe") or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"WebSocket option {name} must be a number, got {value!r}")
        resubscribe = values.get("on_resubscribe")
        if resubscribe is not None and not callable(resubscribe):
            raise TypeError(f"on_resubscribe must be callable, got {resubscribe!r}")
        return cls(**values)  # type: ignore[arg-type]
