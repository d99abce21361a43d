"""What the WebSocket hooks receive and return: one operation's identity, and a rejection."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from inspect import isawaitable
from typing import TYPE_CHECKING, TypeAlias, TypedDict, final

from graphql import OperationType

from clew.protocol import JSONObject, SubscribePayload
from clew.server._execution import CONNECTION_PARAMS, CONNECTION_RESULT

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

__all__ = [
    "CONNECTION_PARAMS",
    "CONNECTION_RESULT",
    "ConnectionRejected",
    "HookOptions",
    "Hooks",
    "OnComplete",
    "OnConnect",
    "OnDisconnect",
    "OnOperation",
    "Operation",
    "call_hook",
]


class ConnectionRejected(Exception):
    """Raised by `on_connect` to refuse a connection, e.g. for bad credentials.

    graphql-transport-ws closes the socket with 4403 Forbidden; the legacy graphql-ws sends
    `connection_error` with `payload` (default ``{"message": message}``) and closes with 1011.
    """

    def __init__(self, message: str = "Forbidden", payload: JSONObject | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.payload: JSONObject = payload if payload is not None else {"message": message}


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One operation running on a socket, as `on_operation` and `on_complete` see it."""

    #: The client-chosen id of `subscribe` (legacy: `start`).
    id: str
    #: The operation's name, when the document names it.
    name: str | None
    #: query, mutation or subscription.
    type: OperationType
    #: The request as the client sent it.
    payload: SubscribePayload


#: `on_connect(websocket, payload)`: return False or raise `ConnectionRejected` to refuse; any
#: other return value is kept as the connection result (see `CONNECTION_RESULT`).
OnConnect: TypeAlias = "Callable[[WebSocket, JSONObject | None], object | Awaitable[object]]"
#: `on_disconnect(websocket)`: called once when the socket is gone, however it ended.
OnDisconnect: TypeAlias = "Callable[[WebSocket], object | Awaitable[object]]"
#: `on_operation(websocket, operation)`: called when a valid operation is about to execute.
OnOperation: TypeAlias = "Callable[[WebSocket, Operation], object | Awaitable[object]]"
#: `on_complete(websocket, operation)`: called once after an operation `on_operation` saw ended.
OnComplete: TypeAlias = "Callable[[WebSocket, Operation], object | Awaitable[object]]"


async def call_hook(
    hook: Callable[..., object] | None, *args: object, logger: logging.Logger, name: str
) -> None:
    """Run a notification hook (sync or async); its failure is logged and goes no further.

    `name` says which hook of which transport, for the log line ("WebSocket on_complete").
    """
    if hook is None:
        return
    try:
        result = hook(*args)
        if isawaitable(result):
            await result
    except Exception:
        logger.exception("The %s hook failed", name)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Hooks:
    """The four optional callbacks of a handler (each sync or async)."""

    on_connect: OnConnect | None = None
    on_disconnect: OnDisconnect | None = None
    on_operation: OnOperation | None = None
    on_complete: OnComplete | None = None


class HookOptions(TypedDict, total=False):
    """The hooks as keyword arguments of either handler (see `Hooks`)."""

    on_connect: OnConnect | None
    on_disconnect: OnDisconnect | None
    on_operation: OnOperation | None
    on_complete: OnComplete | None
