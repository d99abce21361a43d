"""The reconnect policy on its own: delays, jitter, attempts and fatal close codes."""

from __future__ import annotations

import pytest

from clew.client._retry import DEFAULT_FATAL_CLOSE_CODES, RetryPolicy
from clew.protocol import FATAL_CLOSE_CODES, CloseCode, is_retryable


def test_delays_double_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0)
    assert [policy.delay(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999])
def test_jitter_draws_within_its_share_of_the_delay(draw: float) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0, jitter=0.5)
    delay = policy.delay(3, rand=lambda: draw)  # ceiling 4.0, half of it random
    assert delay == pytest.approx(2.0 + 2.0 * draw)


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=1.0)
    assert policy.delay(2, rand=lambda: 0.0) == 0.0
    assert policy.delay(2, rand=lambda: 0.5) == 1.0


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert RetryPolicy(max_delay=7.0, jitter=0).delay(10_000) == 7.0


def test_attempts_are_counted_from_one() -> None:
    policy = RetryPolicy(max_attempts=2)
    assert policy.should_retry(None, 1)
    assert policy.should_retry(1006, 2)
    assert not policy.should_retry(1006, 3)
    assert not RetryPolicy(max_attempts=0).should_retry(None, 1)


@pytest.mark.parametrize("code", [4400, 4401, 4403, 4406, 4409, 4429, 4500, 4004, 4005, 1000])
def test_default_fatal_codes_are_never_retried(code: int) -> None:
    policy = RetryPolicy(max_attempts=100)
    assert policy.is_fatal(code)
    assert not policy.should_retry(code, 1)


@pytest.mark.parametrize("code", [1001, 1006, 1011, 1012, 4408, 4499, 4504, None])
def test_other_codes_are_retried(code: int | None) -> None:
    assert RetryPolicy().should_retry(code, 1)


def test_defaults_follow_the_protocol_package() -> None:
    # Everything the protocol calls non-retryable, plus 4403: rejected credentials stay rejected.
    assert FATAL_CLOSE_CODES <= DEFAULT_FATAL_CLOSE_CODES
    assert all(not is_retryable(code) for code in DEFAULT_FATAL_CLOSE_CODES - {4403})
    assert CloseCode.FORBIDDEN in DEFAULT_FATAL_CLOSE_CODES


def test_fatal_codes_are_configurable() -> None:
    policy = RetryPolicy(fatal_close_codes=frozenset({1012}))
    assert not policy.should_retry(1012, 1)
    assert policy.should_retry(4403, 1)


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": -1}, {"base_delay": -1.0}, {"max_delay": -0.1}, {"jitter": 1.5}],
)
def test_invalid_policies_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**options)  # type: ignore[arg-type]
