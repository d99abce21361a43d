"""Which third-party peer supports which feature, so tests parametrise over facts, not skips.

Every entry was observed against the pinned peer versions; ``tests/integration/test_peers.py``
checks the unsupported entries still fail the way their reason says, so the table cannot go stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import final

__all__ = ["CAPABILITIES", "Feature", "Peer", "Support", "peers_with", "peers_without", "support"]


class Peer(StrEnum):
    """A third-party test server; each value is also the name of its pytest fixture."""

    #: graphql-http + graphql-ws + subscriptions-transport-ws in one Node process (server.mjs).
    NODE = "node_server"
    #: Ariadne with GraphQLTransportWSHandler (one websocket handler per Ariadne app).
    ARIADNE_TRANSPORT_WS = "ariadne_transport_ws_server"
    #: Ariadne with GraphQLWSHandler.
    ARIADNE_LEGACY_WS = "ariadne_legacy_ws_server"
    #: Strawberry with both subscription protocols enabled.
    STRAWBERRY = "strawberry_server"


class Feature(StrEnum):
    """Something a test may need from a peer server."""

    #: Queries and mutations over HTTP POST.
    HTTP = "http"
    #: The graphql-transport-ws subprotocol.
    TRANSPORT_WS = "graphql-transport-ws"
    #: The legacy graphql-ws subprotocol (subscriptions-transport-ws) for subscriptions.
    LEGACY_WS = "graphql-ws"
    #: Legacy graphql-ws queries and mutations: one ``data`` then ``complete``.
    LEGACY_WS_SINGLE_RESULT = "graphql-ws single result"
    #: graphql-transport-ws: a rejected connection_init closes the socket with 4403.
    TRANSPORT_WS_REJECT_4403 = "graphql-transport-ws reject 4403"
    #: graphql-ws: a rejected connection_init is answered with ``connection_error``.
    LEGACY_WS_CONNECTION_ERROR = "graphql-ws connection_error"
    #: graphql-transport-ws: an error raised by a subscription's source stream ends the
    #: operation with an ``error`` message (graphql-ws's reading of the protocol).
    TRANSPORT_WS_SOURCE_ERROR_MESSAGE = "graphql-transport-ws source error message"
    #: graphql-ws: queries and mutations run over the socket at all (answered with ``data``).
    LEGACY_WS_QUERIES = "graphql-ws queries"
    #: graphql-ws: an error raised by a subscription's source stream is sent as ``error``,
    #: as subscriptions-transport-ws' server does.
    LEGACY_WS_SOURCE_ERROR_MESSAGE = "graphql-ws source error message"
    #: graphql-ws: a subscription failing validation gets a ``data`` message with the errors,
    #: then ``complete``, as subscriptions-transport-ws' server sends it (its PROTOCOL.md names
    #: ``error`` for validation failures; peers without this feature send that instead).
    LEGACY_WS_VALIDATION_AS_DATA = "graphql-ws validation errors as data"
    #: graphql-ws: ``stop`` ends a subscription waiting for its next event; the socket stays up.
    LEGACY_WS_STOP = "graphql-ws stop"
    #: HTTP: a request error (a document failing validation) has no ``data`` entry at all.
    HTTP_REQUEST_ERROR_WITHOUT_DATA = "http request error without data"


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Support:
    """Whether a peer supports a feature, and if not what it does instead."""

    supported: bool
    reason: str = ""


_YES = Support(supported=True)


def _no(reason: str) -> Support:
    return Support(supported=False, reason=reason)


_NOT_LEGACY = _no("this Ariadne app's websocket handler speaks only graphql-transport-ws")
_NOT_TRANSPORT = _no("this Ariadne app's websocket handler speaks only graphql-ws")
_NEXT_THEN_COMPLETE = "it sends the error as a `next` with errors, then `complete`"
_DATA_THEN_COMPLETE = "it sends the error as a `data` with errors, then `complete`"
_VALIDATION_AS_ERROR = "it answers a subscription failing validation with an `error` message"

CAPABILITIES: Mapping[Peer, Mapping[Feature, Support]] = MappingProxyType(
    {
        Peer.NODE: MappingProxyType(dict.fromkeys(Feature, _YES)),
        Peer.ARIADNE_TRANSPORT_WS: MappingProxyType(
            {
                Feature.HTTP: _YES,
                Feature.TRANSPORT_WS: _YES,
                Feature.LEGACY_WS: _NOT_LEGACY,
                Feature.LEGACY_WS_SINGLE_RESULT: _NOT_LEGACY,
                Feature.TRANSPORT_WS_REJECT_4403: _no(
                    "Ariadne closes a rejected connection with 1000, not 4403"
                ),
                Feature.LEGACY_WS_CONNECTION_ERROR: _NOT_LEGACY,
                Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE: _no(f"Ariadne: {_NEXT_THEN_COMPLETE}"),
                Feature.LEGACY_WS_QUERIES: _NOT_LEGACY,
                Feature.LEGACY_WS_SOURCE_ERROR_MESSAGE: _NOT_LEGACY,
                Feature.LEGACY_WS_VALIDATION_AS_DATA: _NOT_LEGACY,
                Feature.LEGACY_WS_STOP: _NOT_LEGACY,
                Feature.HTTP_REQUEST_ERROR_WITHOUT_DATA: _YES,
            }
        ),
        Peer.ARIADNE_LEGACY_WS: MappingProxyType(
            {
                Feature.HTTP: _YES,
                Feature.TRANSPORT_WS: _NOT_TRANSPORT,
                Feature.LEGACY_WS: _YES,
                Feature.LEGACY_WS_SINGLE_RESULT: _no(
                    "Ariadne sends `data` for a query or mutation but never `complete`"
                ),
                Feature.TRANSPORT_WS_REJECT_4403: _NOT_TRANSPORT,
                Feature.LEGACY_WS_CONNECTION_ERROR: _YES,
                Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE: _NOT_TRANSPORT,
                Feature.LEGACY_WS_QUERIES: _YES,
                Feature.LEGACY_WS_SOURCE_ERROR_MESSAGE: _no(f"Ariadne: {_DATA_THEN_COMPLETE}"),
                Feature.LEGACY_WS_VALIDATION_AS_DATA: _no(f"Ariadne: {_VALIDATION_AS_ERROR}"),
                Feature.LEGACY_WS_STOP: _no(
                    "Ariadne's graphql-ws handler calls aclose() on a subscription generator "
                    "that is waiting for its next event, which raises 'asynchronous generator "
                    "is already running'; the connection dies without a close frame"
                ),
                Feature.HTTP_REQUEST_ERROR_WITHOUT_DATA: _YES,
            }
        ),
        Peer.STRAWBERRY: MappingProxyType(
            {
                Feature.HTTP: _YES,
                Feature.TRANSPORT_WS: _YES,
                Feature.LEGACY_WS: _YES,
                Feature.LEGACY_WS_SINGLE_RESULT: _no(
                    "Strawberry answers a graphql-ws query or mutation with an `error`: "
                    "'queries are not allowed' / 'mutations are not allowed'"
                ),
                Feature.TRANSPORT_WS_REJECT_4403: _YES,
                Feature.LEGACY_WS_CONNECTION_ERROR: _YES,
                Feature.TRANSPORT_WS_SOURCE_ERROR_MESSAGE: _no(
                    f"Strawberry: {_NEXT_THEN_COMPLETE}"
                ),
                Feature.LEGACY_WS_QUERIES: _no(
                    "Strawberry refuses graphql-ws queries and mutations with an `error`"
                ),
                Feature.LEGACY_WS_SOURCE_ERROR_MESSAGE: _no(f"Strawberry: {_DATA_THEN_COMPLETE}"),
                Feature.LEGACY_WS_VALIDATION_AS_DATA: _no(f"Strawberry: {_VALIDATION_AS_ERROR}"),
                Feature.LEGACY_WS_STOP: _YES,
                Feature.HTTP_REQUEST_ERROR_WITHOUT_DATA: _no(
                    'Strawberry sends `"data": null` beside the errors of a request that fails '
                    "validation; the GraphQL-over-HTTP spec says a request error has no `data`"
                ),
            }
        ),
    }
)


def support(peer: Peer, feature: Feature) -> Support:
    """The table entry for peer and feature."""
    return CAPABILITIES[peer][feature]


def peers_with(*features: Feature) -> list[Peer]:
    """Peers supporting every one of features, in table order (for ``parametrize``)."""
    return [peer for peer, row in CAPABILITIES.items() if all(row[f].supported for f in features)]


def peers_without(feature: Feature) -> list[Peer]:
    """Peers lacking feature (for tests that pin down what they do instead)."""
    return [peer for peer, row in CAPABILITIES.items() if not row[feature].supported]
