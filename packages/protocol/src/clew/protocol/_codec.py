"""The one place that touches `json`: decoding frames and bodies, and encoding messages.

Decoding uses orjson when it is installed (about five times faster per frame, and every
received frame goes through here), falling back to the standard library for anything orjson
refuses or might read differently, so what is accepted, what it decodes to and every error
message are the standard library's either way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Final, cast

from ._types import JSONObject, JSONValue

__all__ = [
    "JSONDecodeFailure",
    "Text",
    "describe",
    "dumps",
    "find_orjson_loads",
    "loads_object",
    "loads_value",
]


class JSONDecodeFailure(ValueError):
    """Text that is not a JSON object; the message says what was wrong."""


def _reject_constant(name: str) -> JSONValue:
    # NaN and Infinity are not JSON (RFC 8259 §6), though Python's json accepts them.
    raise JSONDecodeFailure(f"{name} is not valid JSON")


Text = str | bytes | bytearray | memoryview

#: The standard library's decoder, built once (`json.loads` with an argument builds one a call).
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
#: 19 digits in a row: perhaps an integer beyond 64 bits, which orjson reads as a float. Found
#: by turning every ASCII digit into "0" and every other byte into "." (UTF-8 never uses a
#: digit's byte inside another character), then searching for 19 zeros: a few C calls, about
#: half of a regular expression's time on a short frame and a tenth on a long one.
_DIGITS_AS_ZEROS: Final = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_LONG_DIGITS: Final = b"0" * 19


@functools.cache
def find_orjson_loads() -> Callable[[Text], JSONValue] | None:
    """orjson's decoder if orjson is installed (it is optional: the protocol needs nothing).

    Looked up on the first decode, not on import: orjson imports `datetime`, hence `time`,
    which importing a sans-IO package must not.
    """
    try:
        import orjson  # noqa: PLC0415
    except ImportError:
        return None
    return cast("Callable[[Text], JSONValue]", orjson.loads)


def loads_value(data: Text, what: str = "Message") -> JSONValue:
    """Decode `data` as one JSON value, raising `JSONDecodeFailure` that names `what` was wrong."""
    fast_loads = find_orjson_loads()
    if fast_loads is not None:
        try:
            value = fast_loads(data)
        except ValueError:  # orjson.JSONDecodeError: the standard library says why, or accepts
            pass
        else:
            # Kept only when orjson read it exactly as the standard library would. A str
            # orjson decoded holds no lone surrogate (orjson refuses those), so it encodes.
            if type(data) is bytes:  # an HTTP body: no copy
                raw = data
            elif type(data) is str:  # a WebSocket text frame
                raw = data.encode()
            else:
                raw = data.encode() if isinstance(data, str) else bytes(data)
            # No run found: `partition` is the cheapest C call that says so (`in` tries the
            # needle as an integer first, paying for an exception; `find` parses a tuple).
            if not raw.translate(_DIGITS_AS_ZEROS).partition(_LONG_DIGITS)[1]:
                return value
    if not isinstance(data, str):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONDecodeFailure(f"{what} is not valid UTF-8") from None
    try:
        if data.startswith("\ufeff"):  # json.loads refuses a BOM, with its own message
            return cast(JSONValue, json.loads(data, parse_constant=_reject_constant))
        return cast(JSONValue, _DECODER.decode(data))
    except (ValueError, RecursionError) as exc:
        # JSONDecodeFailure is a ValueError too: NaN/Infinity land here with their own reason.
        raise JSONDecodeFailure(f"{what} is not valid JSON: {exc}") from None


def loads_object(data: Text, what: str = "Message") -> JSONObject:
    """Decode `data` as a JSON object, raising `JSONDecodeFailure` with a readable reason."""
    value = loads_value(data, what)
    if not isinstance(value, dict):
        raise JSONDecodeFailure(f"{what} must be a JSON object, got {describe(value)}")
    return value


#: Built once: `json.dumps` with options builds a new encoder on every call.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: JSONValue) -> str:
    """Encode `value` compactly; the peer must be able to decode exactly what was sent."""
    return _ENCODER.encode(value)


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
