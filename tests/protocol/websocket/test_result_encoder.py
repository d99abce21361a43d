"""`Connection.result_encoder`: a stream's `result`, made once, answering as `result` does.

Every case drives two identical server `Connection`s through the same history, then asks one
the encoder (falling back to its `result` where the encoder answers None, as a host does) and
the other `result`, and holds both answers, and the states they leave, equal. The encoder is
made before the history as well as after it: one made early must follow what happens later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

from clew.protocol import (
    ConnectionState,
    FormattedExecutionResult,
    Role,
    Subprotocol,
    SubscribePayload,
)
from clew.protocol import graphql_transport_ws as tws
from clew.protocol import graphql_ws as gws
from clew.protocol.websocket import Connection, Unencodable

TRANSPORT = Subprotocol.GRAPHQL_TRANSPORT_WS
LEGACY = Subprotocol.GRAPHQL_WS
BOTH = pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
QUERY: SubscribePayload = {"query": "subscription { n }"}

History = Callable[[Connection, Connection], None]


def _server(
    subprotocol: Subprotocol,
    history: History,
    before: Callable[[Connection], None] | None = None,
    **options: object,
) -> Connection:
    """A server `Connection` after `history`, fed by a client `Connection` of its own;
    `before` sees it acknowledged, before the history."""
    client = Connection(subprotocol, Role.CLIENT)
    server = Connection(subprotocol, Role.SERVER, **options)  # type: ignore[arg-type]
    server.receive(client.init())
    for frame in server.accept():
        client.receive(frame)
    if before is not None:
        before(server)
    history(client, server)
    return server


def _start(*ids: str) -> History:
    def history(client: Connection, server: Connection) -> None:
        for operation_id in ids:
            server.receive(client.start(operation_id, QUERY))

    return history


def _then(first: History, second: History) -> History:
    def history(client: Connection, server: Connection) -> None:
        first(client, server)
        second(client, server)

    return history


def _cancel(operation_id: str) -> History:
    def history(client: Connection, server: Connection) -> None:
        frame = client.cancel(operation_id)
        assert frame is not None
        server.receive(frame)

    return history


def _completed(operation_id: str) -> History:
    def history(client: Connection, server: Connection) -> None:
        frame = server.complete(operation_id)
        assert frame is not None
        client.receive(frame)

    return history


def _going_away(_client: Connection, server: Connection) -> None:
    server.going_away()


def _closed(_client: Connection, server: Connection) -> None:
    server.connection_closed()


def _too_large(_client: Connection, server: Connection) -> None:
    server.too_large(1024)


def _internal_error(_client: Connection, server: Connection) -> None:
    server.internal_error()


def _broken(_client: Connection, server: Connection) -> None:
    server.receive("not json")  # the peer broke the protocol: the connection is over


def _nothing(_client: Connection, _server: Connection) -> None:
    pass


HISTORIES: dict[str, tuple[History, str]] = {
    "running": (_start("1"), "1"),
    "another-running": (_start("2", "1"), "2"),
    "never-started": (_start("2"), "1"),
    "no-operation": (_nothing, "1"),
    "cancelled-by-the-client": (_then(_start("1"), _cancel("1")), "1"),
    "completed-by-the-server": (_then(_start("1"), _completed("1")), "1"),
    "restarted-after-completion": (_then(_then(_start("1"), _completed("1")), _start("1")), "1"),
    "server-going-away": (_then(_start("1"), _going_away), "1"),
    "socket-closed": (_then(_start("1"), _closed), "1"),
    "peer-broke-the-protocol": (_then(_start("1"), _broken), "1"),
    "empty-id": (_start("1"), ""),
}

PAYLOADS: dict[str, object] = {
    "data": {"data": {"n": 1}},
    "unicode-and-nesting": {"data": {"s": 'é\u2028"\\</script>', "l": [1, None, {"x": 2.5}]}},
    "errors": {"data": None, "errors": [{"message": "m", "path": ["n"]}]},
    "nan": {"data": {"x": math.nan}},
    "not-json": {"data": {"x": object()}},
    "not-a-dict": [{"data": {"n": 1}}],
}


def _state(conn: Connection) -> tuple[ConnectionState, tuple[str, ...]]:
    return conn.state, tuple(conn.operations)


@BOTH
@pytest.mark.parametrize("made", ["before-the-history", "after-the-history"])
@pytest.mark.parametrize("history_name", sorted(HISTORIES))
@pytest.mark.parametrize("payload_name", sorted(PAYLOADS))
def test_the_encoder_answers_as_result(
    subprotocol: Subprotocol, made: str, history_name: str, payload_name: str
) -> None:
    history, operation_id = HISTORIES[history_name]
    payload = PAYLOADS[payload_name]
    encoders: list[Callable[[FormattedExecutionResult], str | None]] = []

    def make(server: Connection) -> None:
        encoders.append(server.result_encoder(operation_id))

    early = made == "before-the-history"
    fast = _server(subprotocol, history, make if early else None)
    slow = _server(subprotocol, history)
    if not early:
        make(fast)
    encode = encoders[0]
    for _ in range(2):  # the second call sees what the first left
        expected = slow.result(operation_id, payload)  # type: ignore[arg-type]
        frame = encode(payload)  # type: ignore[arg-type]
        if frame is not None:
            assert type(expected) is str  # a frame only where `result` gives one
            assert frame == expected
        else:
            got = fast.result(operation_id, payload)  # type: ignore[arg-type]
            assert got == expected
            assert type(got) is type(expected)
        assert _state(fast) == _state(slow)


@BOTH
def test_simple_results_take_the_fast_path(subprotocol: Subprotocol) -> None:
    server = _server(subprotocol, _start("1"))
    encode = server.result_encoder("1")
    for payload_name in ("data", "unicode-and-nesting", "errors"):
        assert type(encode(PAYLOADS[payload_name])) is str  # type: ignore[arg-type]


@BOTH
@pytest.mark.parametrize("end", [_going_away, _closed, _too_large, _internal_error])
def test_an_early_encoder_stops_when_the_connection_is_over(
    subprotocol: Subprotocol, end: History
) -> None:
    encoders: list[Callable[[FormattedExecutionResult], str | None]] = []
    server = _server(
        subprotocol, _start("1"), lambda conn: encoders.append(conn.result_encoder("1"))
    )
    assert type(encoders[0](PAYLOADS["data"])) is str  # type: ignore[arg-type]
    end(Connection(subprotocol, Role.CLIENT), server)
    assert encoders[0](PAYLOADS["data"]) is None  # type: ignore[arg-type]
    assert server.result("1", PAYLOADS["data"]) is None  # type: ignore[arg-type]


@BOTH
def test_frames_are_the_subprotocols_own(subprotocol: Subprotocol) -> None:
    server = _server(subprotocol, _start("op 1"), dumps=json.dumps)

    frame = server.result_encoder("op 1")({"data": {"n": 7, "s": "é"}})
    assert isinstance(frame, str)
    assert "\\u00e9" in frame  # encoded by the connection's own `dumps`
    kind = "next" if subprotocol is TRANSPORT else "data"
    payload = {"data": {"n": 7, "s": "é"}}
    assert json.loads(frame) == {"id": "op 1", "type": kind, "payload": payload}
    parse = tws.parse if subprotocol is TRANSPORT else gws.parse
    assert parse(frame).payload == payload  # type: ignore[union-attr]


@BOTH
def test_an_encoder_made_before_its_operation_starts_follows_it(subprotocol: Subprotocol) -> None:
    client = Connection(subprotocol, Role.CLIENT)
    server = Connection(subprotocol, Role.SERVER)
    encode = server.result_encoder("1")
    server.receive(client.init())
    for frame in server.accept():
        client.receive(frame)
    assert encode({"data": {"n": 1}}) is None  # not running yet
    server.receive(client.start("1", QUERY))
    assert isinstance(encode({"data": {"n": 1}}), str)
    assert encode({"data": {"n": math.inf}}) is None  # JSON cannot carry it: `result` decides
    assert isinstance(server.result("1", {"data": {"n": math.inf}}), Unencodable)
    assert encode({"data": {"n": 1}}) is None  # the unencodable result ended the operation


@pytest.mark.parametrize("inner", [tws.Connection, gws.Connection])
def test_a_subprotocol_connection_encoder_leaves_refusals_to_send(
    inner: type[tws.Connection] | type[gws.Connection],
) -> None:
    client = inner(Role.CLIENT)
    assert client.result_encoder("1")({"data": {"n": 1}}) is None  # a client sends no results
    server = inner(Role.SERVER)
    assert server.result_encoder("")({"data": {"n": 1}}) is None  # no result may carry this id
    assert server.result_encoder(1)({"data": {"n": 1}}) is None  # type: ignore[arg-type]
