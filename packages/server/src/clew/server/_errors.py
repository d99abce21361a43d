"""Turning GraphQL errors into wire shapes without leaking internals unless debugging."""

from __future__ import annotations

import traceback
from typing import cast

from graphql import GraphQLError

from clew.protocol import FormattedError, JSONObject

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "UnexpectedError",
    "format_error",
    "is_unexpected",
    "request_error",
]

#: What a client sees instead of an unexpected exception's message when `debug` is off.
INTERNAL_ERROR_MESSAGE = "Internal server error"


class UnexpectedError(GraphQLError):
    """An exception that escaped outside any field: a subscription's source stream, a root
    value callable. It has no `path`, yet it is as unexpected as a resolver's bug."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original) or type(original).__name__, original_error=original)


def is_unexpected(error: GraphQLError) -> bool:
    """Whether `error` wraps an exception a resolver did not raise deliberately.

    A resolver that means to tell the client something raises `GraphQLError`; anything else
    that escapes a field (it then has a `path`) is a bug or an outage and must not leak.
    """
    if isinstance(error, UnexpectedError):
        return True
    original = error.original_error
    return (
        original is not None and not isinstance(original, GraphQLError) and error.path is not None
    )


def format_error(error: GraphQLError, debug: bool) -> FormattedError:
    """The default error formatter: masks unexpected exceptions, or shows their traceback."""
    formatted = cast(FormattedError, error.formatted)
    if not is_unexpected(error):
        return formatted
    original = error.original_error
    assert original is not None
    if not debug:
        masked: FormattedError = {"message": INTERNAL_ERROR_MESSAGE}
        if "locations" in formatted:
            masked["locations"] = formatted["locations"]
        if "path" in formatted:
            masked["path"] = formatted["path"]
        return masked
    extensions: JSONObject = dict(formatted.get("extensions") or {})
    extensions["exception"] = {
        "type": type(original).__name__,
        "stacktrace": [
            line
            for chunk in traceback.format_exception(original)
            for line in chunk.rstrip("\n").split("\n")
        ],
    }
    formatted["extensions"] = extensions
    return formatted


def request_error(message: str) -> list[FormattedError]:
    """The `errors` list of a response that failed before execution, such as a 400 or 413."""
    return [{"message": message}]
