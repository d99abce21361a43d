"""Persisted documents on the client: APQ's hash-first exchange, and `documentId` requests.

`PersistedQueries` is Apollo's persisted-queries link, as a small state machine per backend
(one server): a query is first sent as its hash alone; `PersistedQueryNotFound` means "send it
again with the text"; `PersistedQueryNotSupported` means the same, and also "stop hashing" for
the rest of the session. A hash the server has answered (or registered) is remembered as
known, and forgotten again if the server later says it does not have it (an evicted store
entry). At most one retry per operation. The rules about the errors themselves live in
`clew.protocol.http`.

`DocumentIds` is the GraphQL-over-HTTP persisted-documents appendix's side: a server that runs
known documents only (trusted documents) is sent each document's id in `documentId` instead of
its text, with no retry (the server cannot learn a document from a request).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Final, Literal, final

from clew.protocol import JSONObject
from clew.protocol.http import (
    GraphQLRequest,
    GraphQLResponse,
    PersistedQuery,
    PersistedQueryError,
    RequestError,
    check_document_id,
    document_id_hash,
    documents_by_id,
    sha256_hash,
)

__all__ = ["DocumentIds", "PersistedQueries"]

#: Query texts whose hash is remembered (hashing is cheap, but the same texts recur).
_HASH_CACHE_SIZE: Final = 512


@final
class PersistedQueries:
    """APQ state for one server: whether it supports APQ and which hashes it knows."""

    __slots__ = ("_hashes", "known", "supported")

    def __init__(self) -> None:
        #: False once the server said `PersistedQueryNotSupported`: send texts from then on.
        self.supported = True
        #: Hashes the server has answered from its store or accepted with their text.
        self.known: set[str] = set()
        self._hashes: OrderedDict[str, PersistedQuery] = OrderedDict()

    def persisted(self, query: str) -> PersistedQuery:
        """The extension for `query` (hashes of recent texts are kept)."""
        found = self._hashes.get(query)
        if found is None:
            found = self._hashes[query] = PersistedQuery.for_query(query)
            if len(self._hashes) > _HASH_CACHE_SIZE:
                self._hashes.popitem(last=False)
        return found

    def first_request(self, request: GraphQLRequest) -> GraphQLRequest | None:
        """The hash-only form of `request` to send first, or None to send it as it is."""
        if not self.supported or request.query is None or request.persisted_query is not None:
            return None
        persisted = self.persisted(request.query)
        return replace(request, query=None, extensions=_with(request.extensions, persisted))

    def retry_request(
        self, request: GraphQLRequest, response: GraphQLResponse
    ) -> GraphQLRequest | None:
        """What to send after `response` to the hash-only request, or None if it is final."""
        error = PersistedQueryError.in_result(response.to_result())
        assert request.query is not None
        persisted = self.persisted(request.query)
        if error is None:
            self.known.add(persisted.sha256_hash)
            return None
        self.known.discard(persisted.sha256_hash)
        if error is PersistedQueryError.NOT_SUPPORTED:
            self.supported = False
            return request
        # Registration: the text along with its hash, so the server stores it.
        return replace(request, extensions=_with(request.extensions, persisted))

    def registered(self, request: GraphQLRequest, response: GraphQLResponse) -> None:
        """Note the answer to a registration: its hash is known unless the server refused it."""
        persisted = request.persisted_query
        refused = PersistedQueryError.in_result(response.to_result()) is not None
        if persisted is not None and response.data_present and not refused:
            self.known.add(persisted.sha256_hash)


@final
class DocumentIds:
    """Which `documentId` names a query text: every text by its SHA-256 (``"sha256"``), or
    the texts of a manifest (id -> text, as `clew.protocol.http.parse_manifest` reads one,
    hash ids written ``sha256:<hex>`` or bare) by their ids, other texts by none."""

    __slots__ = ("id_for",)

    def __init__(self, source: Literal["sha256"] | Mapping[str, str]) -> None:
        #: The `documentId` for a query text, or None to send the text itself.
        self.id_for: Callable[[str], str | None]
        if isinstance(source, str):
            if source != "sha256":
                raise ValueError(f"document_ids must be 'sha256' or a manifest, got {source!r}")
            self.id_for = lru_cache(maxsize=_HASH_CACHE_SIZE)(_sha256_id)
            return
        by_text: dict[str, str] = {}
        for key, text in documents_by_id(source).items():
            document_id = key if document_id_hash(key) is None else f"sha256:{key}"
            try:
                check_document_id(document_id)
            except RequestError as error:
                raise ValueError(f"Manifest id {key!r}: {error.message}") from None
            by_text[text] = document_id
        self.id_for = by_text.get

    def named(self, request: GraphQLRequest) -> GraphQLRequest | None:
        """`request` naming its text by id instead, or None when its text has no id."""
        if request.query is None or request.document_id is not None:
            return None
        document_id = self.id_for(request.query)
        if document_id is None:
            return None
        return replace(request, query=None, document_id=document_id)


def _sha256_id(query: str) -> str:
    return f"sha256:{sha256_hash(query)}"


def _with(extensions: JSONObject | None, persisted: PersistedQuery) -> JSONObject:
    return {**(extensions or {}), "persistedQuery": persisted.to_extension()}
