"""The one place that touches `json`: decoding frames and bodies, and encoding messages."""

from __future__ import annotations

import json
from typing import cast

from ._types import JSONObject, JSONValue

__all__ = ["JSONDecodeFailure", "describe", "dumps", "loads_object", "loads_value"]


class JSONDecodeFailure(ValueError):
    """Text that is not a JSON object; the message says what was wrong."""


def _reject_constant(name: str) -> JSONValue:
    # NaN and Infinity are not JSON (RFC 8259 §6), though Python's json accepts them.
    raise JSONDecodeFailure(f"{name} is not valid JSON")


def loads_value(data: str | bytes | bytearray | memoryview, what: str = "Message") -> JSONValue:
    """Decode `data` as one JSON value, raising `JSONDecodeFailure` that names `what` was wrong."""
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONDecodeFailure(f"{what} is not valid UTF-8") from None
    try:
        return cast(JSONValue, json.loads(data, parse_constant=_reject_constant))
    except (ValueError, RecursionError) as exc:
        # JSONDecodeFailure is a ValueError too: NaN/Infinity land here with their own reason.
        raise JSONDecodeFailure(f"{what} is not valid JSON: {exc}") from None


def loads_object(data: str | bytes | bytearray | memoryview, what: str = "Message") -> JSONObject:
    """Decode `data` as a JSON object, raising `JSONDecodeFailure` with a readable reason."""
    value = loads_value(data, what)
    if not isinstance(value, dict):
        raise JSONDecodeFailure(f"{what} must be a JSON object, got {describe(value)}")
    return value


def dumps(value: JSONValue) -> str:
    """Encode `value` compactly; the peer must be able to decode exactly what was sent."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def describe(value: object) -> str:
    """A JSON type name for error messages, as graphql-ws' `extendedTypeof` gives."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
