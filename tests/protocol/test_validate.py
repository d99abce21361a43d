"""Operation payload checks shared by both subprotocols: hash-only persisted-query payloads."""

from __future__ import annotations

import pytest

from clew.protocol._errors import LocalProtocolError
from clew.protocol._validate import check_subscribe_payload

PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}


def test_hash_only_payload_may_omit_query() -> None:
    payload = {"extensions": PERSISTED}
    assert check_subscribe_payload(payload, "subscribe") == payload


@pytest.mark.parametrize(
    "payload",
    [{}, {"extensions": {}}, {"extensions": {"persistedQuery": None}}, {"extensions": 1}],
)
def test_query_still_required_without_a_persisted_query(payload: object) -> None:
    with pytest.raises(LocalProtocolError, match="expects the 'query' property to be a string"):
        check_subscribe_payload(payload, "subscribe")
