"""Ariadne's `WebSocketConnectionError`: raised by `on_connect` to refuse a connection."""

from __future__ import annotations

from clew.protocol._types import JSONObject

from .websocket._hooks import ConnectionRejected

__all__ = ["WebSocketConnectionError"]

#: Ariadne's message when the error carries none.
_DEFAULT_MESSAGE = "Unexpected error has occurred."


class WebSocketConnectionError(ConnectionRejected):
    """Refuse a connection from `on_connect`, as `ConnectionRejected` does (Ariadne's name).

    `payload` is a JSON object sent as the legacy `connection_error` payload (its `message`,
    if a string, is the close reason), or a message text. graphql-transport-ws closes with 4403.
    """

    def __init__(self, payload: JSONObject | str | None = None) -> None:
        if isinstance(payload, dict):
            message = payload.get("message")
            super().__init__(message if isinstance(message, str) else "Forbidden", payload)
        else:
            text = str(payload) if payload else _DEFAULT_MESSAGE
            super().__init__(text, {"message": text})
