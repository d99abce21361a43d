"""The shared JSON boundary: strict decoding with readable reasons, compact faithful encoding."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol import _codec
from clew.protocol._codec import (
    JSONDecodeFailure,
    describe,
    dumps,
    find_orjson_loads,
    loads_object,
    loads_value,
)


def _without_orjson() -> mock._patch[object]:
    """Decode with the standard library alone, as where orjson is not installed."""
    return mock.patch.object(_codec, "find_orjson_loads", return_value=None)


@pytest.fixture(autouse=True, params=["orjson", "stdlib"])
def decoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here holds for both decoders: what is accepted, its value, every message."""
    if request.param == "orjson":
        assert find_orjson_loads() is not None, "the dev environment installs orjson"
        yield request.param
    else:
        with _without_orjson():
            yield request.param


DOC = '{"a":[1,2.5,"x",true,null]}'


@pytest.mark.parametrize(
    "data",
    [
        '{"a":[1,2.5,"x",true,null]}',
        b'{"a":[1,2.5,"x",true,null]}',
        bytearray(b'{"a":[1,2.5,"x",true,null]}'),
        memoryview(b'{"a":[1,2.5,"x",true,null]}'),
    ],
    ids=["str", "bytes", "bytearray", "memoryview"],
)
def test_loads_object_accepts_text_and_bytes(data: str | bytes) -> None:
    assert loads_object(data) == {"a": [1, 2.5, "x", True, None]}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80", "Body is not valid UTF-8"),
        (
            "{",
            "Body is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ("NaN", "Body is not valid JSON: NaN is not valid JSON"),
        ("[Infinity]", "Body is not valid JSON: Infinity is not valid JSON"),
        ("1", "Body must be a JSON object, got number"),
        ("[]", "Body must be a JSON object, got array"),
    ],
)
def test_loads_object_names_what_was_wrong(data: str | bytes, reason: str) -> None:
    with pytest.raises(JSONDecodeFailure) as info:
        loads_object(data, "Body")
    assert str(info.value) == reason
    assert isinstance(info.value, ValueError)


def test_loads_value_accepts_any_json_value() -> None:
    assert loads_value("[1]") == [1]
    assert loads_value(b"null") is None
    assert loads_value('"s"') == "s"


def test_recursion_is_a_decode_failure() -> None:
    with pytest.raises(JSONDecodeFailure, match=r"^Message is not valid JSON: "):
        loads_value("[" * 100_000 + "]" * 100_000)


def test_dumps_is_compact_and_keeps_unicode() -> None:
    assert dumps({"a": [1, None], "é": "🦀"}) == '{"a":[1,null],"é":"🦀"}'


def test_dumps_refuses_nan() -> None:
    with pytest.raises(ValueError, match=r"not JSON compliant"):
        dumps(float("nan"))


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (False, "boolean"),
        (0, "number"),
        (1.5, "number"),
        ("", "string"),
        ([], "array"),
        ({}, "object"),
        (object(), "object"),
        (b"x", "bytes"),
        ((1,), "tuple"),
    ],
)
def test_describe_names_json_types(value: object, name: str) -> None:
    assert describe(value) == name


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=15,
)


@given(st.dictionaries(st.text(), JSON, max_size=5))
def test_dumps_then_loads_is_identity(value: dict[str, object]) -> None:
    text = dumps(value)  # type: ignore[arg-type]
    for patch in (mock.patch.object(_codec, "find_orjson_loads", find_orjson_loads),
                  _without_orjson()):  # fmt: skip
        with patch:
            assert loads_object(text) == value
            assert loads_object(text.encode("utf-8")) == value


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # beyond 64 bits: orjson would give a float
        "-9223372036854775809",
        "[18446744073709551616]",
        '"\\ud800"',  # a lone surrogate escape: orjson refuses it, the standard library not
        "1e400",  # orjson refuses what overflows a double; the standard library gives inf
        '{"a":1,"a":2}',
        '{"id":"1","payload":{"data":{"n":1234567890123456789}}}',  # a run of 19: guarded
        '{"id":"1","payload":{"data":{"n":123456789012345678}}}',  # 18: orjson's, exactly
        '["1234567890123456789012", 1.25]',  # a long run in a string: guarded all the same
    ],
)
def test_decodes_exactly_as_the_standard_library(text: str) -> None:
    class Text(str):
        pass

    expected = json.loads(text)
    encoded = text.encode("utf-8", "surrogatepass")
    for data in (text, encoded, bytearray(encoded), memoryview(encoded), Text(text)):
        value = loads_value(data)
        assert value == expected
        assert type(value) is type(expected)


def test_a_bom_is_refused_with_the_standard_librarys_reason() -> None:
    with pytest.raises(
        JSONDecodeFailure, match=r"^Message is not valid JSON: Unexpected UTF-8 BOM"
    ):
        loads_value("\ufeff{}")


def test_orjson_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # `import orjson` raises ImportError
    assert find_orjson_loads.__wrapped__() is None
