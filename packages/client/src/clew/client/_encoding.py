"""Request bodies as UTF-8 JSON: orjson when it is installed, the standard library otherwise.

Both give the same JSON for every value. orjson is used only for plain JSON (exact `dict`,
`list`, `tuple`, `str`, `int`, `bool`, `None` and finite `float`): for anything else it would
differ (NaN as null, a plain `Enum` or `UUID` sent as its value, integers past 64 bits refused),
so the standard library encodes it as `json.dumps(allow_nan=False)` always has, errors included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

__all__ = ["encode_json", "encode_json_text"]

#: Built once: `json.dumps` with options builds a new encoder on every call.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)

_orjson_dumps: Callable[[object], bytes] | None
try:
    from orjson import dumps as _orjson_dumps
except ImportError:  # orjson comes with `clew[client]`; without it the standard library does all
    _orjson_dumps = None


def encode_json_text(value: object) -> str:
    """`value` as compact JSON text, by the standard library's rules (NaN refused)."""
    return _ENCODER.encode(value)


def encode_json(value: object) -> bytes:
    """`value` as compact UTF-8 JSON; what `encode_json_text` gives, encoded, only faster."""
    if _orjson_dumps is not None:
        try:
            if _is_plain(value):
                return _orjson_dumps(value)
        except (TypeError, RecursionError):  # past 64 bits, a lone surrogate, deep nesting
            pass
    return _ENCODER.encode(value).encode("utf-8")


def _is_plain(value: object) -> bool:
    """Whether orjson and the standard library encode `value` alike (exact types only).

    Loops, not `all()` over a generator: this runs once per request, on every body.
    """
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) is not str and not _is_plain(item)):
                return False
        return True
    if type(value) is str or type(value) is int or type(value) is bool or value is None:
        return True
    if type(value) is list or type(value) is tuple:
        for item in value:  # noqa: SIM110  # a loop: no generator to make on every body
            if not _is_plain(item):
                return False
        return True
    if type(value) is float:
        return value - value == 0  # False for NaN and the infinities
    return False
