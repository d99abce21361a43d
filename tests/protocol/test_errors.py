"""Protocol errors: abstract base, local vs remote, close code and a capped reason."""

from __future__ import annotations

import pytest

from clew.protocol import CloseCode, LocalProtocolError, ProtocolError, RemoteProtocolError


def test_protocol_error_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        ProtocolError("anything")


@pytest.mark.parametrize("cls", [LocalProtocolError, RemoteProtocolError])
def test_errors_carry_close_code_and_reason(cls: type[ProtocolError]) -> None:
    error = cls("Subscriber for 1 already exists", CloseCode.SUBSCRIBER_ALREADY_EXISTS)
    assert isinstance(error, ProtocolError)
    assert isinstance(error, Exception)
    assert error.close_code == 4409
    assert type(error.close_code) is int
    assert error.reason == "Subscriber for 1 already exists"
    assert str(error) == "Subscriber for 1 already exists"


@pytest.mark.parametrize("cls", [LocalProtocolError, RemoteProtocolError])
def test_default_close_code_is_bad_request(cls: type[ProtocolError]) -> None:
    assert cls("bad").close_code == CloseCode.BAD_REQUEST


def test_local_and_remote_are_distinct() -> None:
    assert not issubclass(LocalProtocolError, RemoteProtocolError)
    assert not issubclass(RemoteProtocolError, LocalProtocolError)


def test_reason_is_capped_but_the_message_is_whole() -> None:
    error = LocalProtocolError("x" * 300)
    assert error.reason == "x" * 123
    # The full text stays available for logs.
    assert str(error) == "x" * 300


def test_local_error_seen_from_the_receiving_side() -> None:
    local = LocalProtocolError("Unauthorized", CloseCode.UNAUTHORIZED)
    remote = local._as_remote()
    assert isinstance(remote, RemoteProtocolError)
    assert (remote.reason, remote.close_code) == ("Unauthorized", 4401)
    assert remote.__cause__ is local
