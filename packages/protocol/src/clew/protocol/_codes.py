"""WebSocket close codes used by both GraphQL subprotocols, and the close-reason length limit."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["FATAL_CLOSE_CODES", "CloseCode", "is_retryable", "limit_close_reason"]

#: RFC 6455 §5.5: a close frame's body is at most 125 bytes, two of which hold the code.
MAX_CLOSE_REASON_BYTES = 123


class CloseCode(IntEnum):
    """Close codes of RFC 6455 and of the graphql-ws library (`src/common.ts`)."""

    #: RFC 6455: the purpose of the connection has been fulfilled.
    NORMAL_CLOSURE = 1000
    #: RFC 6455: the server is shutting down or the browser navigated away.
    GOING_AWAY = 1001
    #: RFC 6455: protocol error; the legacy reference server's answer to an unknown subprotocol.
    PROTOCOL_ERROR = 1002
    #: RFC 6455: no close frame was received (never sent on the wire).
    ABNORMAL_CLOSURE = 1006
    #: RFC 6455: unexpected condition; the legacy server's close after `connection_error`.
    INTERNAL_ERROR = 1011
    #: graphql-ws: the client failed to handle a message (unexpected client error).
    BAD_RESPONSE = 4004
    #: graphql-ws: internal client error.
    INTERNAL_CLIENT_ERROR = 4005
    #: graphql-ws: malformed or unknown message.
    BAD_REQUEST = 4400
    #: graphql-ws: `subscribe` before the connection was acknowledged.
    UNAUTHORIZED = 4401
    #: graphql-ws: the server rejected `connection_init` (for example, bad credentials).
    FORBIDDEN = 4403
    #: graphql-ws: the offered subprotocol is not supported.
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    #: graphql-ws: `connection_init` did not arrive in time.
    CONNECTION_INITIALISATION_TIMEOUT = 4408
    #: graphql-ws: a `subscribe` reused the id of an operation that is still running.
    SUBSCRIBER_ALREADY_EXISTS = 4409
    #: graphql-ws: a second `connection_init`.
    TOO_MANY_INITIALISATION_REQUESTS = 4429
    #: graphql-ws: the client closed the socket on its own (`terminate()`).
    TERMINATED = 4499
    #: graphql-ws: internal server error.
    INTERNAL_SERVER_ERROR = 4500
    #: graphql-ws: `connection_ack` did not arrive in time.
    CONNECTION_ACKNOWLEDGEMENT_TIMEOUT = 4504


#: Codes after which a client must not reconnect: retrying would fail the same way
#: (graphql-ws `client.ts` `isFatalInternalCloseCode` and its list of non-retryable codes).
FATAL_CLOSE_CODES: frozenset[int] = frozenset(
    {
        CloseCode.INTERNAL_SERVER_ERROR,
        CloseCode.INTERNAL_CLIENT_ERROR,
        CloseCode.BAD_REQUEST,
        CloseCode.BAD_RESPONSE,
        CloseCode.UNAUTHORIZED,
        CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE,
        CloseCode.SUBSCRIBER_ALREADY_EXISTS,
        CloseCode.TOO_MANY_INITIALISATION_REQUESTS,
    }
)


def is_retryable(close_code: int) -> bool:
    """Whether a client should reconnect after the socket closed with `close_code`.

    A normal closure (1000) is a deliberate end, not a failure, so it is not retried either.
    """
    return close_code not in FATAL_CLOSE_CODES and close_code != CloseCode.NORMAL_CLOSURE


def limit_close_reason(reason: str) -> str:
    """Cut `reason` to at most 123 bytes of UTF-8 without splitting a character."""
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")
