"""Subprotocol negotiation from the client's `Sec-WebSocket-Protocol` offer."""

from __future__ import annotations

import pytest

from clew.protocol import Subprotocol, select_subprotocol


def test_subprotocol_names() -> None:
    assert Subprotocol.GRAPHQL_TRANSPORT_WS == "graphql-transport-ws"
    assert Subprotocol.GRAPHQL_WS == "graphql-ws"


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        (["graphql-transport-ws"], Subprotocol.GRAPHQL_TRANSPORT_WS),
        (["graphql-ws"], Subprotocol.GRAPHQL_WS),
        (["graphql-ws", "graphql-transport-ws"], Subprotocol.GRAPHQL_TRANSPORT_WS),
        (["graphql-transport-ws", "graphql-ws"], Subprotocol.GRAPHQL_TRANSPORT_WS),
        (["graphql-ws, graphql-transport-ws"], Subprotocol.GRAPHQL_TRANSPORT_WS),
        ([" graphql-ws ,chat"], Subprotocol.GRAPHQL_WS),
        (["chat", "graphql-ws"], Subprotocol.GRAPHQL_WS),
        ([], None),
        ([""], None),
        (["chat", "superchat"], None),
        (["GRAPHQL-WS"], None),
        (["graphql-transport-ws-v2"], None),
        (["graphql-subscriptions"], None),
    ],
)
def test_select_subprotocol(offered: list[str], selected: Subprotocol | None) -> None:
    assert select_subprotocol(offered) is selected


def test_offer_may_be_any_iterable() -> None:
    assert select_subprotocol(iter(("graphql-ws",))) is Subprotocol.GRAPHQL_WS
    assert select_subprotocol(("graphql-ws",)) is Subprotocol.GRAPHQL_WS


@pytest.mark.parametrize(
    ("supported", "offered", "selected"),
    [
        ([Subprotocol.GRAPHQL_WS], ["graphql-ws", "graphql-transport-ws"], Subprotocol.GRAPHQL_WS),
        ([Subprotocol.GRAPHQL_WS], ["graphql-transport-ws"], None),
        ([Subprotocol.GRAPHQL_TRANSPORT_WS], ["graphql-ws"], None),
        # The server's preference holds whatever order `supported` lists.
        (
            [Subprotocol.GRAPHQL_WS, Subprotocol.GRAPHQL_TRANSPORT_WS],
            ["graphql-ws", "graphql-transport-ws"],
            Subprotocol.GRAPHQL_TRANSPORT_WS,
        ),
        ([], ["graphql-ws"], None),
    ],
)
def test_select_only_what_the_server_supports(
    supported: list[Subprotocol], offered: list[str], selected: Subprotocol | None
) -> None:
    assert select_subprotocol(offered, supported) is selected
