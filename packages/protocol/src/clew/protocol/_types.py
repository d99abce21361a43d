"""Shared vocabulary: roles, JSON aliases and the payload shapes both subprotocols carry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NotRequired, TypeAlias, TypedDict, final

__all__ = [
    "Closure",
    "FormattedError",
    "FormattedErrorLocation",
    "FormattedExecutionResult",
    "JSONObject",
    "JSONValue",
    "Role",
    "SubscribePayload",
]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"


class Role(Enum):
    """Which end of the socket a connection object speaks for."""

    #: The side that opened the socket and sends `connection_init`.
    CLIENT = "client"
    #: The side that accepted the socket and sends `connection_ack`.
    SERVER = "server"


class SubscribePayload(TypedDict):
    """An operation request: the payload of `subscribe` (and legacy `start`).

    `query` is absent only when ``extensions.persistedQuery`` names the document instead.
    """

    query: NotRequired[str]
    operationName: NotRequired[str | None]
    variables: NotRequired[JSONObject | None]
    extensions: NotRequired[JSONObject | None]


class FormattedErrorLocation(TypedDict):
    """A position in the query document (GraphQL spec §7.1.2)."""

    line: int
    column: int


class FormattedError(TypedDict):
    """A GraphQL error as it travels (GraphQL spec §7.1.2), as graphql-core formats it."""

    message: str
    locations: NotRequired[list[FormattedErrorLocation]]
    path: NotRequired[list[str | int]]
    extensions: NotRequired[JSONObject]


class FormattedExecutionResult(TypedDict, total=False):
    """An execution result as it travels (GraphQL spec §7.1), like graphql-core's."""

    data: JSONObject | None
    errors: list[FormattedError]
    extensions: JSONObject
    hasNext: bool


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Closure:
    """How to end a connection the protocol's way: send `frames`, then close with `code`."""

    code: int
    reason: str
    frames: tuple[str, ...] = ()
