"""Persisted documents: which query text a request runs when it names its document by hash.

Two sources, consulted in this order, both keyed by the SHA-256 hex of the text:

- `TrustedDocuments`, an allowlist loaded from a build-time manifest. In `only` mode (the
  default) nothing else runs: a request whose hash or text is not in the list is refused
  before its text is parsed, so a hostile document costs a dictionary lookup.
- A `DocumentStore` for Apollo's automatic persisted queries (APQ): a hash-only request is
  answered from the store or with `PersistedQueryNotFound`; a request carrying both hash and
  text is verified, then stored once it has parsed and validated. `InMemoryDocumentStore` (an
  LRU) is the default; `clew.server.redis_documents.RedisDocumentStore` shares one store among
  several workers. With APQ off (`persisted_queries=False`) a hash gets
  `PersistedQueryNotSupported`, as Apollo Server answers.

The store keeps texts; parsing and validating stay in the engine's document cache, so a
stored document is prepared once per process like any other query text.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Protocol, final, runtime_checkable

from clew.protocol import FormattedError, JSONObject
from clew.protocol.http import (
    PersistedQuery,
    PersistedQueryError,
    RequestError,
    parse_manifest,
)

__all__ = [
    "DocumentRefusal",
    "DocumentStore",
    "InMemoryDocumentStore",
    "PersistedDocuments",
    "TrustedDocuments",
]

#: The `extensions.code` of a refusal by a trusted-documents server (Apollo's safelisting code).
NOT_IN_LIST_CODE = "PERSISTED_QUERY_NOT_IN_LIST"


@runtime_checkable
class DocumentStore(Protocol):
    """Where APQ keeps query texts by hash; shared by every request of an app (or of many)."""

    async def get(self, sha256_hash: str) -> str | None:
        """The text stored under `sha256_hash`, or None."""
        ...

    async def set(self, sha256_hash: str, document: str) -> None:
        """Store `document` (already verified, parsed and validated) under its hash."""
        ...


class InMemoryDocumentStore:
    """A bounded least-recently-used store for one process (the default APQ store)."""

    def __init__(self, max_size: int = 1024) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._documents: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    async def get(self, sha256_hash: str) -> str | None:
        """The text under `sha256_hash` (now the most recently used), or None."""
        document = self._documents.get(sha256_hash)
        if document is not None:
            self._documents.move_to_end(sha256_hash)
        return document

    async def set(self, sha256_hash: str, document: str) -> None:
        """Store `document`, evicting the least recently used one beyond `max_size`."""
        self._documents[sha256_hash] = document
        self._documents.move_to_end(sha256_hash)
        if len(self._documents) > self.max_size:
            self._documents.popitem(last=False)


@final
class TrustedDocuments:
    """The documents a server trusts, by SHA-256 hash; in `only` mode it runs no other.

    `allow_arbitrary=True` also runs documents outside the list (for development), while
    hashes from the list still resolve.
    """

    def __init__(self, documents: Mapping[str, str], *, allow_arbitrary: bool = False) -> None:
        self.documents: Mapping[str, str] = dict(documents)
        self.allow_arbitrary = allow_arbitrary
        self._texts = frozenset(self.documents.values())

    @classmethod
    def from_manifest(
        cls, path: str | PathLike[str], *, allow_arbitrary: bool = False
    ) -> TrustedDocuments:
        """Load a manifest file: Apollo's persisted-query manifest or a flat ``{id: text}``."""
        value = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(parse_manifest(value), allow_arbitrary=allow_arbitrary)

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, text: object) -> bool:
        """Whether `text` is exactly one of the trusted documents (no parsing, no hashing)."""
        return text in self._texts


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRefusal:
    """A request whose document could not be resolved, and how to answer it.

    `status_code` is 200 for Apollo's two APQ errors (with `headers` keeping caches off) and
    400 for a hash that does not match its text or a document outside the trusted list.
    """

    errors: list[FormattedError]
    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_apq(cls, error: PersistedQueryError) -> DocumentRefusal:
        """Apollo's `PersistedQueryNotFound` / `PersistedQueryNotSupported`, status 200."""
        return cls(errors=error.result["errors"], status_code=200, headers=error.headers)

    @classmethod
    def from_request_error(cls, error: RequestError) -> DocumentRefusal:
        """A malformed or mismatched persisted query (400)."""
        return cls(
            errors=[{"message": error.message}],
            status_code=error.status_code,
            headers=error.headers,
        )


_NOT_TRUSTED = DocumentRefusal(
    errors=[
        {
            "message": "This server runs only trusted documents, and this one is not in its list",
            "extensions": {"code": NOT_IN_LIST_CODE},
        }
    ],
    status_code=400,
)


@final
@dataclass(frozen=True, slots=True)
class Resolved:
    """The text to prepare, and the hash to store it under once it prepares (APQ registration)."""

    text: str
    register_as: str | None = None


@final
class PersistedDocuments:
    """The engine's policy for persisted documents: trusted list first, then the APQ store."""

    def __init__(
        self, store: DocumentStore | None, trusted: TrustedDocuments | None = None
    ) -> None:
        #: The APQ store, or None when APQ is off.
        self.store = store
        self.trusted = trusted

    async def resolve(
        self, query: str | None, extensions: JSONObject | None
    ) -> Resolved | DocumentRefusal:
        """The text a request runs, or why it runs nothing; never parses."""
        try:
            persisted = PersistedQuery.from_extensions(extensions)
        except RequestError as error:
            return DocumentRefusal.from_request_error(error)
        trusted = self.trusted
        if persisted is None:
            if query is None:  # the transports' request checks refuse this first
                return DocumentRefusal.from_request_error(
                    RequestError(400, "The 'query' parameter is required")
                )
            if trusted is not None and not trusted.allow_arbitrary and query not in trusted:
                return _NOT_TRUSTED
            return Resolved(query)
        digest = persisted.sha256_hash
        if query is not None:
            try:
                persisted.verify(query)
            except RequestError as error:
                return DocumentRefusal.from_request_error(error)
        if trusted is not None:
            known = trusted.documents.get(digest)
            if known is not None:
                return Resolved(known)
            if not trusted.allow_arbitrary:
                # The hash is verified against the text, so the text is not in the list either.
                return _NOT_TRUSTED if query is not None else _NOT_FOUND
        if self.store is None:
            return _NOT_SUPPORTED
        if query is not None:
            return Resolved(query, register_as=digest)
        stored = await self.store.get(digest)
        if stored is None:
            return _NOT_FOUND
        return Resolved(stored)

    async def register(self, resolved: Resolved) -> None:
        """Store a newly sent APQ text, now that it has parsed and validated."""
        if resolved.register_as is not None and self.store is not None:
            await self.store.set(resolved.register_as, resolved.text)


_NOT_FOUND = DocumentRefusal.from_apq(PersistedQueryError.NOT_FOUND)
_NOT_SUPPORTED = DocumentRefusal.from_apq(PersistedQueryError.NOT_SUPPORTED)
