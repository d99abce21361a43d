"""The per-connection operation registry and the connection states both subprotocols share."""

from __future__ import annotations

from clew.protocol import ConnectionState
from clew.protocol._operations import OperationRegistry, OperationState


def test_connection_states() -> None:
    assert [state.value for state in ConnectionState] == [
        "awaiting_init",
        "awaiting_ack",
        "acknowledged",
        "closing",
        "closed",
    ]


def test_reserve_and_release() -> None:
    registry = OperationRegistry()
    assert len(registry) == 0
    assert "1" not in registry
    registry.reserve("1")
    registry.reserve("2")
    assert "1" in registry
    assert len(registry) == 2
    assert sorted(registry) == ["1", "2"]
    assert registry.state_of("1") is OperationState.RUNNING
    assert registry.release("1") is True
    assert registry.release("1") is False
    assert registry.state_of("1") is None
    assert list(registry) == ["2"]


def test_release_of_unknown_id_is_false() -> None:
    assert OperationRegistry().release("ghost") is False


def test_iteration_is_a_snapshot() -> None:
    registry = OperationRegistry()
    registry.reserve("a")
    registry.reserve("b")
    for operation_id in registry:
        registry.release(operation_id)
    assert len(registry) == 0


def test_stop_moves_a_running_operation_to_stopping_once() -> None:
    registry = OperationRegistry()
    registry.reserve("1")
    assert registry.stop("1") is True
    assert registry.state_of("1") is OperationState.STOPPING
    assert "1" in registry
    assert registry.stop("1") is False
    assert registry.stop("unknown") is False
    assert registry.release("1") is True


def test_clear_forgets_everything() -> None:
    registry = OperationRegistry()
    registry.reserve("a")
    registry.stop("a")
    registry.reserve("b")
    registry.clear()
    assert len(registry) == 0
    assert registry.state_of("a") is None


def test_registries_are_independent() -> None:
    first, second = OperationRegistry(), OperationRegistry()
    first.reserve("1")
    assert "1" not in second
