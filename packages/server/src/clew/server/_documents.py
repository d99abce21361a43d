"""Persisted documents: which query text a request runs when it names its document instead.

A request names it by hash in Apollo's ``extensions.persistedQuery``, or by the `documentId`
parameter of the GraphQL-over-HTTP persisted-documents appendix (``sha256:<hex>``, or an id of
the manifest's own, ``x-<name>:<id>`` or custom). Two sources, consulted in this order, keyed by
the SHA-256 hex of the text (the trusted list also by its custom ids):

- `TrustedDocuments`, an allowlist loaded from a build-time manifest. In `only` mode (the
  default) nothing else runs: a request whose hash or text is not in the list is refused
  before its text is parsed, so a hostile document costs a dictionary lookup.
- A `DocumentStore` for Apollo's automatic persisted queries (APQ): a hash-only request is
  answered from the store or with `PersistedQueryNotFound`; a request carrying both hash and
  text is verified, then stored once it has parsed and validated. `InMemoryDocumentStore` (an
  LRU) is the default; `clew.server.redis_documents.RedisDocumentStore` shares one store among
  several workers. With APQ off (`persisted_queries=False`) a hash gets
  `PersistedQueryNotSupported`, as Apollo Server answers.

A `documentId` the server cannot resolve gets one error (`PERSISTED_QUERY_NOT_FOUND`, 400):
nothing can register a document under an id, so retrying cannot help.

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
    PERSISTED_QUERY_CACHE_CONTROL,
    PersistedQuery,
    PersistedQueryError,
    RequestError,
    document_id_hash,
    documents_by_id,
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
    """The documents a server trusts, by id; in `only` mode it runs no other.

    `documents` maps ids to texts as a manifest does: an id that is a hash (``sha256:<hex>``
    or bare hex) must be its text's SHA-256 (`ValueError` otherwise) and is kept as bare hex;
    other ids (``x-<name>:<id>``, custom) as written. `allow_arbitrary=True` also runs
    documents outside the list (for development), while ids from the list still resolve.
    """

    def __init__(self, documents: Mapping[str, str], *, allow_arbitrary: bool = False) -> None:
        #: The documents by the key they are looked up under (a hash as bare hex).
        self.documents: Mapping[str, str] = documents_by_id(documents)
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
#: How much of an unknown document id the error repeats.
_SHOWN_ID = 100


def _unknown_id(document_id: str) -> DocumentRefusal:
    shown = document_id if len(document_id) <= _SHOWN_ID else document_id[:_SHOWN_ID] + "..."
    error: FormattedError = {
        "message": f"No persisted document has the id {shown!r}",
        "extensions": {"code": PersistedQueryError.NOT_FOUND.code},
    }
    headers = {"Cache-Control": PERSISTED_QUERY_CACHE_CONTROL}
    return DocumentRefusal(errors=[error], status_code=400, headers=headers)


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
        self, query: str | None, extensions: JSONObject | None, document_id: str | None = None
    ) -> Resolved | DocumentRefusal:
        """The text a request runs, or why it runs nothing; never parses.

        `document_id` is a request's `documentId`, already checked by `GraphQLRequest` (which
        refuses it beside an APQ extension). Beside a query text, an id that is a hash must be
        the text's (400 otherwise) and registers it while APQ is on; any other id names nothing
        more than the text does.
        """
        if document_id is None:
            try:
                persisted = PersistedQuery.from_extensions(extensions)
            except RequestError as error:
                return DocumentRefusal.from_request_error(error)
        elif query is None:
            return await self._by_id(document_id)
        else:
            named = _named_text(query, document_id, registering=self.store is not None)
            if isinstance(named, DocumentRefusal):
                return named
            persisted = named
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

    async def _by_id(self, document_id: str) -> Resolved | DocumentRefusal:
        """The trusted list's document under `document_id`, else (for a hash, while APQ is on
        and arbitrary documents may run) the APQ store's."""
        digest = document_id_hash(document_id)
        trusted = self.trusted
        if trusted is not None:
            known = trusted.documents.get(document_id if digest is None else digest)
            if known is not None:
                return Resolved(known)
            if not trusted.allow_arbitrary:
                return _unknown_id(document_id)
        if digest is not None and self.store is not None:
            stored = await self.store.get(digest)
            if stored is not None:
                return Resolved(stored)
        return _unknown_id(document_id)

    async def register(self, resolved: Resolved) -> None:
        """Store a newly sent APQ text, now that it has parsed and validated."""
        if resolved.register_as is not None and self.store is not None:
            await self.store.set(resolved.register_as, resolved.text)


def _named_text(
    query: str, document_id: str, *, registering: bool
) -> PersistedQuery | DocumentRefusal | None:
    """A text sent with an id: the APQ hash to register it under (a hash id, APQ on), None to
    run it as a plain text, or the refusal of a hash id that is not the text's."""
    digest = document_id_hash(document_id)
    if digest is None:
        return None
    persisted = PersistedQuery(sha256_hash=digest)
    if registering:
        return persisted  # the APQ path verifies it
    try:
        persisted.verify(query)
    except RequestError as error:
        return DocumentRefusal.from_request_error(error)
    return None


_NOT_FOUND = DocumentRefusal.from_apq(PersistedQueryError.NOT_FOUND)
_NOT_SUPPORTED = DocumentRefusal.from_apq(PersistedQueryError.NOT_SUPPORTED)
