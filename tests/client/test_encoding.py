"""Request bodies: orjson's speed, the standard library's JSON and errors, for every value."""

from __future__ import annotations

import datetime
import enum
import json
import math
import uuid
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.client import _encoding
from clew.client._encoding import encode_json, encode_json_text


class Colour(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


class Name(str):
    pass


def _stdlib(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _outcome(encode: Callable[[object], bytes], value: object) -> object:
    """What encoding gives, read back: the JSON value, or the exception's type."""
    try:
        return ("json", json.loads(encode(value)))
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        return ("error", type(exc))


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()  # NaN and the infinities included
    | st.text()  # lone surrogates included
    | st.sampled_from([Colour.RED, Size.LARGE, Name("n"), uuid.UUID(int=7)])
)
keys = st.text() | st.integers() | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_encodes_every_value_as_the_standard_library_does(value: object) -> None:
    assert _outcome(encode_json, value) == _outcome(_stdlib, value)


@given(values)
def test_the_text_form_is_the_standard_librarys(value: object) -> None:
    assert _outcome(lambda v: encode_json_text(v).encode(), value) == _outcome(_stdlib, value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"x": math.nan}, ValueError),  # orjson would send null
        ([math.inf], ValueError),
        ({"colour": Colour.RED}, TypeError),  # orjson would send "red"
        ({"id": uuid.UUID(int=1)}, TypeError),  # orjson would send the text
        ({"at": datetime.date(2026, 1, 1)}, TypeError),
        ({"query": "\ud800"}, UnicodeEncodeError),
    ],
)
def test_values_orjson_reads_differently_keep_the_standard_librarys_error(
    value: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        encode_json(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"n": 2**70}, b'{"n":1180591620717411303424}'),  # orjson refuses past 64 bits
        ({1: "a", None: "b"}, b'{"1":"a","null":"b"}'),  # orjson refuses non-string keys
        ([Size.LARGE, Name("n")], b'[3,"n"]'),
        ({"t": ("a", 1)}, b'{"t":["a",1]}'),
        ({"q": "é\n"}, '{"q":"é\\n"}'.encode()),
    ],
)
def test_values_orjson_refuses_are_encoded_by_the_standard_library(
    value: object, expected: bytes
) -> None:
    assert encode_json(value) == expected


def test_plain_json_goes_through_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    orjson = pytest.importorskip("orjson")
    calls: list[object] = []

    def recording(value: object) -> bytes:
        calls.append(value)
        return bytes(orjson.dumps(value))

    monkeypatch.setattr(_encoding, "_orjson_dumps", recording)
    plain = {"query": "{ a }", "variables": {"n": [1, 2.5, None, True, ("x",)]}}
    assert encode_json(plain) == _stdlib(plain)
    assert calls == [plain]
    with pytest.raises(TypeError):
        encode_json({"variables": {"colour": Colour.RED}})
    assert calls == [plain]  # never handed to orjson


def test_without_orjson_the_standard_library_encodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_encoding, "_orjson_dumps", None)
    assert encode_json({"query": "{ a }", "n": 1.5}) == b'{"query":"{ a }","n":1.5}'
    with pytest.raises(ValueError, match="Out of range float"):
        encode_json({"x": math.nan})
