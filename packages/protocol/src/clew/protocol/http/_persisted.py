"""Persisted documents: Apollo's automatic persisted queries (APQ) and trusted-document ids.

A request names its document by hash in ``extensions.persistedQuery = {"version": 1,
"sha256Hash": "<64 lowercase hex>"}`` and may leave `query` out. The hash is the SHA-256 of
the UTF-8 bytes of the exact query text. The server answers an unknown hash with the
`PersistedQueryNotFound` error (or `PersistedQueryNotSupported` when APQ is off), both sent
as 200 with a no-cache header so that no cache keeps the miss (Apollo Server's behaviour,
which Apollo clients expect); a client that sees one sends the query text along with the
hash, and the server verifies the two agree before storing the text.

The GraphQL-over-HTTP appendix "Persisted Documents" names a document by a *document
identifier* in the request's `documentId` parameter instead: ``sha256:<64 lowercase hex>``,
an application's own ``x-<name>:<id>``, or a custom id without a colon (every other prefix is
reserved). `check_document_id` holds a value to that syntax; `document_id_hash` reads the hash
such an id (or a trusted-document manifest's key) names.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final, cast, final

from clew.protocol._codec import describe
from clew.protocol._types import FormattedExecutionResult, JSONObject, JSONValue

from ._errors import RequestError

__all__ = [
    "PERSISTED_QUERY_CACHE_CONTROL",
    "PersistedQuery",
    "PersistedQueryError",
    "check_document_id",
    "document_id_hash",
    "sha256_hash",
]

#: The one APQ version there is.
_VERSION: Final = 1
_HEX_DIGITS: Final = frozenset("0123456789abcdef")
#: What a document identifier is made of besides its prefix's colon (the appendix's
#: UnreservedCharacter).
_UNRESERVED: Final = frozenset(string.ascii_letters + string.digits + "-._~")
#: How much of a refused prefix an error message repeats.
_SHOWN_PREFIX: Final = 40

#: The `Cache-Control` a persisted-query error goes out with, so that no cache stores a miss.
PERSISTED_QUERY_CACHE_CONTROL: Final = "private, no-cache, must-revalidate"


def sha256_hash(query: str) -> str:
    """The lowercase hex SHA-256 of `query`'s UTF-8 bytes: the APQ hash of that exact text."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def _is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and _HEX_DIGITS.issuperset(value)


class PersistedQueryError(Enum):
    """The two errors an APQ server answers a hash with, spelled as Apollo's clients match them.

    Each value is the error's `message`; `code` is its ``extensions.code``.
    """

    #: The server does not know the hash: send it again with the query text.
    NOT_FOUND = "PersistedQueryNotFound"
    #: The server does not do APQ: send query texts from now on.
    NOT_SUPPORTED = "PersistedQueryNotSupported"

    @property
    def code(self) -> str:
        """The ``extensions.code``: ``PERSISTED_QUERY_NOT_FOUND`` or ``..._NOT_SUPPORTED``."""
        return "PERSISTED_QUERY_" + self.name

    @property
    def result(self) -> FormattedExecutionResult:
        """The response body: one error with the message and code, and no `data`."""
        return {"errors": [{"message": self.value, "extensions": {"code": self.code}}]}

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers the reply carries (status 200, as Apollo Server sends it)."""
        return {"Cache-Control": PERSISTED_QUERY_CACHE_CONTROL}

    @classmethod
    def in_result(cls, result: Mapping[str, object]) -> PersistedQueryError | None:
        """Which of the two errors `result` (a decoded response body) reports, if any.

        Apollo Client recognises them by message or by ``extensions.code``, so this does too.
        """
        errors = result.get("errors")
        if not isinstance(errors, list):
            return None
        for error in cast(list[object], errors):
            if not isinstance(error, Mapping):
                continue
            extensions = error.get("extensions")
            code = extensions.get("code") if isinstance(extensions, Mapping) else None
            for member in cls:
                if error.get("message") == member.value or code == member.code:
                    return member
        return None


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PersistedQuery:
    """The ``extensions.persistedQuery`` of a request: which document, by SHA-256 hash."""

    #: 64 lowercase hex digits.
    sha256_hash: str
    version: int = _VERSION

    def __post_init__(self) -> None:
        if self.version != _VERSION:
            raise RequestError(400, "Unsupported persisted query version")
        if not _is_sha256_hex(self.sha256_hash):
            raise RequestError(
                400,
                "The persisted query's 'sha256Hash' must be 64 lowercase hexadecimal digits",
            )

    @classmethod
    def for_query(cls, query: str) -> PersistedQuery:
        """The extension naming `query` (its hash computed here)."""
        return cls(sha256_hash=sha256_hash(query))

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, JSONValue] | None) -> PersistedQuery | None:
        """Read ``extensions.persistedQuery``; None when absent, `RequestError` (400) if bad."""
        if extensions is None:
            return None
        value = extensions.get("persistedQuery")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise RequestError(
                400,
                f"The 'persistedQuery' extension must be an object, got {describe(value)}",
            )
        version = value.get("version")
        if type(version) is not int or version != _VERSION:
            raise RequestError(400, "Unsupported persisted query version")
        digest = value.get("sha256Hash")
        if not isinstance(digest, str):
            raise RequestError(
                400,
                "The persisted query's 'sha256Hash' must be a string, got " + describe(digest),
            )
        return cls(sha256_hash=digest, version=version)

    def to_extension(self) -> JSONObject:
        """The value of ``extensions.persistedQuery``."""
        return {"version": self.version, "sha256Hash": self.sha256_hash}

    def verify(self, query: str) -> None:
        """Refuse (400) a query text whose hash differs from this one, case included."""
        if sha256_hash(query) != self.sha256_hash:
            raise RequestError(400, "provided sha does not match query")


def check_document_id(document_id: str) -> None:
    """Refuse (400) a `documentId` that is not a document identifier of the appendix.

    Accepted: ``sha256:`` and 64 lowercase hex digits, ``x-<name>:<id>`` and a custom id
    without a colon, each made of letters, digits and ``-._~``. Any other prefix is reserved
    by the appendix, so it is refused rather than guessed at.
    """
    prefix, colon, payload = document_id.partition(":")
    if not colon:
        if prefix and _UNRESERVED.issuperset(prefix):
            return
        raise RequestError(
            400,
            "The 'documentId' parameter must be a document identifier: 'sha256:' and 64 "
            "lowercase hexadecimal digits, 'x-<name>:<id>', or an id of letters, digits, "
            "'-', '.', '_' and '~'",
        )
    if prefix == "sha256":
        if _is_sha256_hex(payload):
            return
        raise RequestError(
            400, "A 'sha256:' document identifier needs 64 lowercase hexadecimal digits"
        )
    if not prefix.startswith("x-"):
        shown = prefix[:_SHOWN_PREFIX]
        raise RequestError(
            400,
            f"Unsupported document identifier prefix {shown!r}: use 'sha256:' or a prefix of "
            "your own starting 'x-'",
        )
    if len(prefix) > 2 and payload and _UNRESERVED.issuperset(prefix + payload):
        return
    raise RequestError(
        400,
        "An 'x-' document identifier is 'x-<name>:<id>', both made of letters, digits, "
        "'-', '.', '_' and '~'",
    )


def document_id_hash(document_id: str) -> str | None:
    """The SHA-256 hex a trusted-document id names: ``sha256:<hex>`` or bare hex; else None.

    Custom (``x-...`` or colon-less non-hash) identifiers are the server's own business.
    """
    prefix, colon, payload = document_id.partition(":")
    if not colon:
        return document_id if _is_sha256_hex(document_id) else None
    if prefix == "sha256" and _is_sha256_hex(payload):
        return payload
    return None
