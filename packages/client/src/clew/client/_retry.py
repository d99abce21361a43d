"""When and how soon the WebSocket reconnects: a pure policy, testable without a clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, final

from clew.protocol import FATAL_CLOSE_CODES, CloseCode

__all__ = ["DEFAULT_FATAL_CLOSE_CODES", "RetryPolicy"]

#: Close codes after which reconnecting would fail the same way, so the client gives up at once:
#: the protocol's list (`clew.protocol.FATAL_CLOSE_CODES`, graphql-ws' non-retryable codes),
#: plus 4403 — a server that rejected `connection_init` will reject the same credentials again —
#: and 1000, a deliberate end rather than a failure (`clew.protocol.is_retryable`).
DEFAULT_FATAL_CLOSE_CODES: Final[frozenset[int]] = FATAL_CLOSE_CODES | {
    CloseCode.FORBIDDEN,
    CloseCode.NORMAL_CLOSURE,
}


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter (graphql-ws `randomisedExponentialBackoff`).

    `max_attempts` counts consecutive failed connection attempts; it starts again from zero
    each time a connection is acknowledged. Zero means the first failure is final.
    """

    #: How many times in a row to try again before giving up.
    max_attempts: int = 5
    #: The delay before the first retry, in seconds; it doubles with every further attempt.
    base_delay: float = 0.5
    #: The longest delay between two attempts, in seconds.
    max_delay: float = 30.0
    #: The share of each delay that is random (0: none, 1: anywhere in [0, delay]).
    jitter: float = 0.5
    #: Close codes that end the connection for good (no retry, the caller sees the error).
    fatal_close_codes: frozenset[int] = field(default=DEFAULT_FATAL_CLOSE_CODES)

    def __post_init__(self) -> None:
        if self.max_attempts < 0:
            raise ValueError("max_attempts must be zero or more")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def is_fatal(self, close_code: int | None) -> bool:
        """Whether a socket closed with `close_code` must not be reopened.

        None (the socket could not be opened, or vanished without a close frame) is never fatal.
        """
        return close_code is not None and close_code in self.fatal_close_codes

    def should_retry(self, close_code: int | None, attempt: int) -> bool:
        """Whether to try again after the `attempt`-th consecutive failure (counting from 1)."""
        return not self.is_fatal(close_code) and attempt <= self.max_attempts

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `attempt` (counting from 1).

        `base_delay * 2 ** (attempt - 1)`, capped at `max_delay`, of which the `jitter` share
        is drawn at random so that many clients do not reconnect in lockstep.
        """
        exponent = min(max(attempt - 1, 0), 62)  # 2**62 already exceeds any sensible cap
        ceiling = min(self.max_delay, self.base_delay * 2.0**exponent)
        return ceiling * (1.0 - self.jitter) + ceiling * self.jitter * rand()
