"""Decoding any JSON value (not only objects) for request bodies, batches and multipart fields."""

from __future__ import annotations

import json
from typing import cast

from clew.protocol._codec import JSONDecodeFailure
from clew.protocol._types import JSONValue

__all__ = ["loads_value"]


def _reject_constant(name: str) -> JSONValue:
    # NaN and Infinity are not JSON (RFC 8259 §6), though Python's json accepts them.
    raise JSONDecodeFailure(f"{name} is not valid JSON")


def loads_value(data: str | bytes | bytearray | memoryview, what: str) -> JSONValue:
    """Decode `data` as one JSON value, raising `JSONDecodeFailure` that names `what` was wrong."""
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONDecodeFailure(f"{what} is not valid UTF-8") from None
    try:
        return cast(JSONValue, json.loads(data, parse_constant=_reject_constant))
    except JSONDecodeFailure as exc:
        raise JSONDecodeFailure(f"{what} is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise JSONDecodeFailure(f"{what} is not valid JSON: {exc}") from None
