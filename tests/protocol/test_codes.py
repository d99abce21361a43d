"""Close codes: the values graphql-ws defines, which ones a client retries, and reason limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol import FATAL_CLOSE_CODES, CloseCode, is_retryable, limit_close_reason

# graphql-ws `src/common.ts` `CloseCode`, by name, and the RFC 6455 codes clew uses.
GRAPHQL_WS_CODES = {
    "INTERNAL_SERVER_ERROR": 4500,
    "INTERNAL_CLIENT_ERROR": 4005,
    "BAD_REQUEST": 4400,
    "BAD_RESPONSE": 4004,
    "UNAUTHORIZED": 4401,
    "FORBIDDEN": 4403,
    "SUBPROTOCOL_NOT_ACCEPTABLE": 4406,
    "CONNECTION_INITIALISATION_TIMEOUT": 4408,
    "CONNECTION_ACKNOWLEDGEMENT_TIMEOUT": 4504,
    "SUBSCRIBER_ALREADY_EXISTS": 4409,
    "TOO_MANY_INITIALISATION_REQUESTS": 4429,
    "TERMINATED": 4499,
}
RFC_6455_CODES = {
    "NORMAL_CLOSURE": 1000,
    "GOING_AWAY": 1001,
    "PROTOCOL_ERROR": 1002,
    "ABNORMAL_CLOSURE": 1006,
    "INTERNAL_ERROR": 1011,
}


def test_close_codes_have_the_graphql_ws_values() -> None:
    assert {code.name: code.value for code in CloseCode} == GRAPHQL_WS_CODES | RFC_6455_CODES


def test_close_codes_are_ints() -> None:
    assert CloseCode.BAD_REQUEST == 4400
    assert isinstance(CloseCode.BAD_REQUEST, int)


@pytest.mark.parametrize("code", [4500, 4005, 4400, 4004, 4401, 4406, 4409, 4429], ids=str)
def test_client_never_retries_fatal_codes(code: int) -> None:
    assert code in FATAL_CLOSE_CODES
    assert not is_retryable(code)
    assert not is_retryable(CloseCode(code))


@pytest.mark.parametrize("code", [4403, 4408, 4504, 4499, 1001, 1006, 1011], ids=str)
def test_client_retries_transient_codes(code: int) -> None:
    assert code not in FATAL_CLOSE_CODES
    assert is_retryable(code)


def test_normal_closure_is_not_retried() -> None:
    assert not is_retryable(CloseCode.NORMAL_CLOSURE)


def test_fatal_codes_are_exactly_graphql_ws_list() -> None:
    assert {4500, 4005, 4400, 4004, 4401, 4406, 4409, 4429} == FATAL_CLOSE_CODES


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("", ""),
        ("Forbidden", "Forbidden"),
        ("a" * 123, "a" * 123),
        ("a" * 124, "a" * 123),
        ("a" * 500, "a" * 123),
        # "é" is two bytes: 61 of them are 122 bytes, and the 62nd would make 124.
        ("é" * 62, "é" * 61),
        ("a" + "é" * 61, "a" + "é" * 61),
        # A four-byte character that straddles byte 123 is dropped whole.
        ("a" * 121 + "🦀", "a" * 121),
        ("a" * 119 + "🦀", "a" * 119 + "🦀"),
        ("a" * 120 + "€€", "a" * 120 + "€"),
        ("a" * 121 + "€", "a" * 121),
    ],
)
def test_close_reasons_are_capped_at_123_utf8_bytes(reason: str, expected: str) -> None:
    assert limit_close_reason(reason) == expected


@given(st.text())
def test_capped_reason_is_a_prefix_that_fits(reason: str) -> None:
    capped = limit_close_reason(reason)
    encoded = capped.encode("utf-8")
    assert len(encoded) <= 123
    assert reason.startswith(capped)
    if len(reason.encode("utf-8")) <= 123:
        assert capped == reason
    else:
        # Nothing more than the one partly-fitting character was cut.
        assert len(encoded) > 123 - 4
