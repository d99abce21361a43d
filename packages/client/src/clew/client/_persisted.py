"""Automatic persisted queries on the client: which request to send first, and what to do next.

Apollo's persisted-queries link, as a small state machine per backend (one server): a query is
first sent as its hash alone; `PersistedQueryNotFound` means "send it again with the text";
`PersistedQueryNotSupported` means the same, and also "stop hashing" for the rest of the
session. A hash the server has answered (or registered) is remembered as known, and forgotten
again if the server later says it does not have it (an evicted store entry). At most one
retry per operation. The rules about the errors themselves live in `clew.protocol.http`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Final, final

from clew.protocol import JSONObject
from clew.protocol.http import GraphQLRequest, GraphQLResponse, PersistedQuery, PersistedQueryError

__all__ = ["PersistedQueries"]

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


def _with(extensions: JSONObject | None, persisted: PersistedQuery) -> JSONObject:
    return {**(extensions or {}), "persistedQuery": persisted.to_extension()}
