"""The protocol's error types: who broke a rule, and how the socket should close because of it."""

from __future__ import annotations

from ._codes import CloseCode, limit_close_reason

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """A broken protocol rule, with the close code and reason the socket should close with.

    Abstract: raise `LocalProtocolError` for a mistake of the host code and
    `RemoteProtocolError` for a violation by the peer.
    """

    close_code: int
    reason: str

    def __init__(self, reason: str, close_code: int = CloseCode.BAD_REQUEST) -> None:
        if type(self) is ProtocolError:
            raise TypeError(
                "ProtocolError is abstract: raise LocalProtocolError or RemoteProtocolError"
            )
        super().__init__(reason)
        self.reason = limit_close_reason(reason)
        self.close_code = int(close_code)


class LocalProtocolError(ProtocolError):
    """The host code asked for something the protocol forbids, such as `next` for an unknown id."""

    def _as_remote(self) -> RemoteProtocolError:
        """The same failure, seen from the side that received the offending data."""
        remote = RemoteProtocolError(self.reason, self.close_code)
        remote.__cause__ = self
        return remote


class RemoteProtocolError(ProtocolError):
    """The peer broke a rule; close the socket with `close_code` and `reason`."""
