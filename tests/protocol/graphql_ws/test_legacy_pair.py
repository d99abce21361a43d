"""Whole legacy sessions between client and server `Connection`s (PROTOCOL.md message flow)."""

from __future__ import annotations

from legacy_helpers import LegacyPair, start

from clew.protocol import ConnectionState, Role
from clew.protocol.graphql_ws import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    Ka,
    Stop,
)


def test_session_init_phase_ack_then_ka() -> None:
    pair = LegacyPair(keepalive_interval=30.0, keepalive_timeout=60.0)
    pair.handshake(init=ConnectionInit(payload={"authToken": "t"}), ack=ConnectionAck())
    pair.exchange(Role.SERVER, Ka())
    assert [frame for _, frame in pair.wire] == [
        '{"type":"connection_init","payload":{"authToken":"t"}}',
        '{"type":"connection_ack"}',
        '{"type":"ka"}',
    ]


def test_query_flow_start_data_complete(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1", "{ hello }"))
    ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload={"data": {"hello": "world"}}))
    ready_legacy_pair.exchange(Role.SERVER, Complete(id="1"))
    assert not ready_legacy_pair.client.operations
    assert not ready_legacy_pair.server.operations


def test_subscription_flow_data_until_stop_then_complete(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1", "subscription { tick }"))
    for tick in range(3):
        ready_legacy_pair.exchange(Role.SERVER, Data(id="1", payload={"data": {"tick": tick}}))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    assert ready_legacy_pair.send(Role.SERVER, Complete(id="1")) == []
    assert not ready_legacy_pair.client.operations
    assert not ready_legacy_pair.server.operations


def test_validation_failure_flow_error_only(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1", "{ nope }"))
    error = Error(id="1", payload={"message": "Cannot query field 'nope' on type 'Query'."})
    ready_legacy_pair.exchange(Role.SERVER, error)
    assert not ready_legacy_pair.client.operations


def test_many_operations_interleave_on_one_socket(ready_legacy_pair: LegacyPair) -> None:
    for operation_id in ("1", "2", "3"):
        ready_legacy_pair.exchange(Role.CLIENT, start(operation_id, "subscription { tick }"))
    ready_legacy_pair.exchange(Role.SERVER, Data(id="2", payload={"data": {}}))
    ready_legacy_pair.exchange(Role.CLIENT, Stop(id="1"))
    ready_legacy_pair.exchange(Role.SERVER, Data(id="3", payload={"data": {}}))
    ready_legacy_pair.exchange(Role.SERVER, Complete(id="2"))
    assert sorted(ready_legacy_pair.server.operations) == ["1", "3"]
    assert sorted(ready_legacy_pair.client.operations) == ["1", "3"]


def test_session_ends_with_connection_terminate(ready_legacy_pair: LegacyPair) -> None:
    ready_legacy_pair.exchange(Role.CLIENT, start("1", "subscription { tick }"))
    ready_legacy_pair.exchange(Role.CLIENT, ConnectionTerminate())
    assert ready_legacy_pair.server.state is ConnectionState.CLOSING
    assert ready_legacy_pair.server.connection_closed() == ("1",)
    assert ready_legacy_pair.client.connection_closed() == ("1",)
