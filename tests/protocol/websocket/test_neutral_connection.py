"""The subprotocol-neutral `Connection`: one vocabulary of events for both subprotocols.

A client and a server `Connection` are wired to each other; every test runs under both
subprotocols unless its rule belongs to one, and checks what each side sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from clew.protocol import Closure, ConnectionState, LocalProtocolError, Role, Subprotocol
from clew.protocol.websocket import (
    MASKED_ERROR,
    Acknowledged,
    CloseRequired,
    Connection,
    Event,
    InitRequested,
    OperationCancelled,
    OperationCompleted,
    OperationFailed,
    OperationRequested,
    PingReceived,
    PongReceived,
    Refused,
    Rejected,
    ResultReceived,
    Unencodable,
    not_acceptable,
)

TRANSPORT = Subprotocol.GRAPHQL_TRANSPORT_WS
LEGACY = Subprotocol.GRAPHQL_WS
BOTH = pytest.mark.parametrize("subprotocol", [TRANSPORT, LEGACY])
QUERY = {"query": "{ hello }"}


@dataclass
class Pair:
    """A client and a server `Connection` of one subprotocol, talking through frames."""

    subprotocol: Subprotocol
    options: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = Connection(self.subprotocol, Role.CLIENT, **self.options)
        self.server = Connection(self.subprotocol, Role.SERVER, **self.options)

    def to_server(self, frame: str) -> list[Event]:
        return self.server.receive(frame)

    def to_client(self, *frames: str) -> list[Event]:
        return [event for frame in frames for event in self.client.receive(frame)]

    def handshake(self) -> None:
        assert self.to_server(self.client.init({"token": "t"})) == [
            InitRequested(payload={"token": "t"})
        ]
        assert self.to_client(*self.server.accept()) == [Acknowledged(payload=None)]
        assert self.client.acknowledged
        assert self.server.acknowledged

    def start(self, operation_id: str = "1") -> None:
        events = self.to_server(self.client.start(operation_id, QUERY))
        assert events == [OperationRequested(id=operation_id, payload=QUERY)]


@pytest.fixture(params=[TRANSPORT, LEGACY])
def pair(request: pytest.FixtureRequest) -> Pair:
    ready = Pair(request.param)
    ready.handshake()
    return ready


# -- the life of an operation, the same events under both subprotocols ------------------------


def test_results_then_complete(pair: Pair) -> None:
    pair.start()
    frame = pair.server.result("1", {"data": {"hello": "world"}})
    assert isinstance(frame, str)
    assert pair.to_client(frame) == [ResultReceived(id="1", payload={"data": {"hello": "world"}})]
    done = pair.server.complete("1")
    assert done is not None
    assert pair.to_client(done) == [OperationCompleted(id="1")]
    assert not pair.client.operations
    assert not pair.server.operations
    # The operation is over: nothing more may be sent for it.
    assert pair.server.result("1", {"data": None}) is None
    assert pair.server.complete("1") is None
    assert pair.client.cancel("1") is None


def test_fail_ends_the_operation(pair: Pair) -> None:
    pair.start()
    frame = pair.server.fail("1", [{"message": "no"}, {"message": "second"}])
    assert isinstance(frame, str)
    events = pair.to_client(frame)
    # The legacy subprotocol carries one error object: the first.
    expected = (
        [{"message": "no"}, {"message": "second"}]
        if pair.subprotocol is TRANSPORT
        else [{"message": "no"}]
    )
    assert events == [OperationFailed(id="1", errors=expected)]  # type: ignore[arg-type]
    assert pair.server.complete("1") is None


def test_a_legacy_fail_without_errors_still_sends_one() -> None:
    pair = Pair(LEGACY)
    pair.handshake()
    pair.start()
    frame = pair.server.fail("1", [])
    assert isinstance(frame, str)
    assert pair.to_client(frame) == [OperationFailed(id="1", errors=[{"message": "Error"}])]


def test_cancel_is_answered_by_the_core(pair: Pair) -> None:
    pair.start()
    frame = pair.client.cancel("1")
    assert frame is not None
    (event,) = pair.to_server(frame)
    assert isinstance(event, OperationCancelled)
    assert event.id == "1"
    if pair.subprotocol is TRANSPORT:
        assert event.reply is None
    else:
        # Legacy: the core answers `stop` with `complete` at once; no `data` may follow.
        assert event.reply == '{"id":"1","type":"complete"}'
        assert pair.to_client(event.reply) == []  # the client had stopped it already
    assert pair.server.result("1", {"data": None}) is None
    assert not pair.server.operations


def test_cancel_before_the_ack_or_for_an_unknown_id_is_nothing() -> None:
    for subprotocol in (TRANSPORT, LEGACY):
        fresh = Pair(subprotocol)
        assert fresh.client.cancel("1") is None
        fresh.handshake()
        assert fresh.client.cancel("unknown") is None


def test_a_legacy_start_reusing_a_running_id_replaces_it() -> None:
    pair = Pair(LEGACY)
    pair.handshake()
    pair.start("1")
    again = '{"type":"start","id":"1","payload":{"query":"{ again }"}}'
    assert pair.to_server(again) == [
        OperationCancelled(id="1", reply=None),
        OperationRequested(id="1", payload={"query": "{ again }"}),
    ]


def test_a_transport_subscribe_reusing_a_running_id_closes_4409() -> None:
    pair = Pair(TRANSPORT)
    pair.handshake()
    pair.start("1")
    again = '{"type":"subscribe","id":"1","payload":{"query":"{ again }"}}'
    assert pair.to_server(again) == [
        CloseRequired(code=4409, reason="Subscriber for 1 already exists", retryable=False)
    ]
    assert pair.server.state is ConnectionState.CLOSING
    assert pair.to_server('{"type":"ping"}') == []  # frames in flight are dropped


def test_start_before_the_ack_is_refused_locally(pair: Pair) -> None:
    fresh = Pair(pair.subprotocol)
    with pytest.raises(LocalProtocolError):
        fresh.client.start("1", QUERY)


# -- failures that stay inside one operation ---------------------------------------------------


@BOTH
def test_an_unencodable_result_fails_only_its_operation(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol)
    pair.handshake()
    pair.start("bad")
    pair.start("good")
    outcome = pair.server.result("bad", {"data": {"x": math.nan}})
    assert isinstance(outcome, Unencodable)
    assert "Cannot encode" in outcome.reason
    (event,) = pair.to_client(outcome.frame)
    assert event == OperationFailed(id="bad", errors=[{"message": MASKED_ERROR}])
    # The connection stays usable: the other operation goes on, a new one starts.
    assert pair.server.acknowledged
    frame = pair.server.result("good", {"data": {"x": 1}})
    assert isinstance(frame, str)
    assert pair.to_client(frame) == [ResultReceived(id="good", payload={"data": {"x": 1}})]
    pair.start("bad")


@BOTH
def test_unencodable_errors_fail_with_the_masked_error(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol)
    pair.handshake()
    pair.start()
    outcome = pair.server.fail("1", [{"message": "m", "extensions": {"x": math.inf}}])
    assert isinstance(outcome, Unencodable)
    assert pair.to_client(outcome.frame) == [
        OperationFailed(id="1", errors=[{"message": MASKED_ERROR}])
    ]


@BOTH
def test_an_unencodable_start_is_refused_and_changes_nothing(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol)
    pair.handshake()
    with pytest.raises(LocalProtocolError, match="Cannot encode"):
        pair.client.start("1", {"query": "q", "variables": {"x": math.nan}})
    assert not pair.client.operations
    pair.start("1")


@BOTH
def test_nothing_is_sent_once_the_connection_is_over(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol)
    pair.handshake()
    pair.start()
    assert pair.server.going_away() == Closure(code=1001, reason="Server shutting down")
    assert pair.server.state is ConnectionState.CLOSING
    assert not pair.server.acknowledged
    assert pair.server.result("1", {"data": {"x": math.nan}}) is None
    assert pair.server.fail("1", []) is None
    assert pair.server.complete("1") is None
    assert pair.server.receive('{"type":"connection_init"}') == []
    assert pair.server.next_deadline() is None
    assert pair.server.handle_timer(1e9) == []
    assert pair.server.connection_closed() == ("1",)


# -- ping, refusals, rejections, the peer breaking the rules ----------------------------------


def test_a_transport_ping_comes_with_its_pong_on_either_side() -> None:
    pair = Pair(TRANSPORT, {"ping_interval": 5.0})
    pair.handshake()
    for sender, receiver in ((pair.client, pair.server), (pair.server, pair.client)):
        due = sender.handle_timer(5.0)
        assert isinstance(due, list)
        (ping,) = due
        (event,) = receiver.receive(ping)
        assert event == PingReceived(payload=None, reply='{"type":"pong"}')
        assert sender.receive(event.reply) == [PongReceived(payload=None)]
        assert sender.receive('{"type":"pong","payload":{"at":1}}') == [
            PongReceived(payload={"at": 1})
        ]


def test_a_bad_legacy_frame_is_refused_with_a_reply() -> None:
    pair = Pair(LEGACY)
    pair.handshake()
    (event,) = pair.to_server("{not json")
    assert isinstance(event, Refused)
    assert event.reply.startswith('{"type":"connection_error"')
    assert pair.server.acknowledged  # the socket stays open


@BOTH
def test_a_rejection(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol)
    assert pair.to_server(pair.client.init()) == [InitRequested(payload=None)]
    closure = pair.server.reject({"message": "Bad token"})
    if subprotocol is TRANSPORT:
        assert closure == Closure(code=4403, reason="Forbidden")
        return
    assert (closure.code, closure.reason) == (1011, "Bad token")
    # The legacy client reads `connection_error` as the rejection.
    assert pair.to_client(*closure.frames) == [
        Rejected(payload={"message": "Bad token"}, reason="Bad token")
    ]
    assert pair.client.state is ConnectionState.CLOSING
    # A `start` the client wrote behind its init is answered before the server closes.
    (event,) = pair.to_server('{"type":"start","id":"7","payload":{"query":"{ a }"}}')
    assert event == Refused(reason="Bad token", reply=event.reply)
    assert '"id":"7"' in event.reply


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"type":"connection_error"}', "Forbidden"),
        ('{"type":"connection_error","payload":{"message":""}}', '{"message":""}'),
        ('{"type":"connection_error","payload":{"code":1}}', '{"code":1}'),
    ],
)
def test_a_legacy_rejection_without_a_message_reads_its_payload(frame: str, reason: str) -> None:
    pair = Pair(LEGACY)
    pair.client.init()
    (event,) = pair.to_client(frame)
    assert isinstance(event, Rejected)
    assert event.reason == reason


def test_a_late_legacy_connection_error_is_ignored() -> None:
    pair = Pair(LEGACY)
    pair.handshake()
    assert pair.to_client('{"type":"connection_error","payload":{"message":"x"}}') == []
    assert pair.client.acknowledged


@pytest.mark.parametrize(
    ("subprotocol", "role", "code"),
    [(TRANSPORT, Role.SERVER, 4400), (TRANSPORT, Role.CLIENT, 4004), (LEGACY, Role.CLIENT, 1002)],
)
def test_a_peer_breaking_the_protocol_is_never_worth_a_retry(
    subprotocol: Subprotocol, role: Role, code: int
) -> None:
    # A client treats a violation alike under both subprotocols: close, and do not retry.
    conn = Connection(subprotocol, role)
    if role is Role.CLIENT:
        conn.init()
    (event,) = conn.receive('{"type":"nonsense"}')
    assert isinstance(event, CloseRequired)
    assert (event.code, event.retryable) == (code, False)
    assert conn.state is ConnectionState.CLOSING


def test_legacy_terminate() -> None:
    pair = Pair(LEGACY)
    pair.handshake()
    closure = pair.client.terminate()
    assert (closure.code, closure.frames) == (1000, ('{"type":"connection_terminate"}',))
    assert pair.to_server(*closure.frames) == [CloseRequired(code=1000, reason="", retryable=False)]
    assert pair.client.terminate().frames == ()  # said once


def test_transport_terminate_is_a_plain_close() -> None:
    pair = Pair(TRANSPORT)
    pair.handshake()
    assert pair.client.terminate() == Closure(code=1000, reason="Normal Closure")


# -- closures the host asks for ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subprotocol", "role", "too_large", "internal"),
    [
        (TRANSPORT, Role.SERVER, 4400, (4500, "Internal server error")),
        (TRANSPORT, Role.CLIENT, 4400, (4005, "Internal client error")),
        (LEGACY, Role.SERVER, 1009, (1011, "Internal server error")),
        (LEGACY, Role.CLIENT, 1009, (1011, "Internal client error")),
    ],
)
def test_closure_codes(
    subprotocol: Subprotocol, role: Role, too_large: int, internal: tuple[int, str]
) -> None:
    closure = Connection(subprotocol, role).too_large(10)
    assert closure == Closure(code=too_large, reason="Message exceeds the maximum size of 10 bytes")
    closure = Connection(subprotocol, role).internal_error()
    assert (closure.code, closure.reason) == internal


def test_not_acceptable() -> None:
    assert not_acceptable(TRANSPORT).code == 4406
    assert not_acceptable(LEGACY).code == 1002


# -- timers ------------------------------------------------------------------------------------


@BOTH
def test_a_server_that_never_acknowledges_closes_4504_retryably(
    subprotocol: Subprotocol,
) -> None:
    client = Connection(subprotocol, Role.CLIENT, now=100.0, ack_timeout=10.0)
    client.init()
    assert client.next_deadline() == 110.0
    assert client.handle_timer(105.0) == []
    closed = client.handle_timer(110.0)
    assert closed == CloseRequired(
        code=4504, reason="Connection acknowledgement timeout", retryable=True
    )
    assert client.next_deadline() is None


@BOTH
def test_the_ack_stops_the_ack_timeout(subprotocol: Subprotocol) -> None:
    pair = Pair(subprotocol, {"ack_timeout": 10.0})
    pair.handshake()
    assert pair.client.next_deadline() is None
    assert pair.client.handle_timer(1000.0) == []


def test_the_legacy_ack_timeout_and_the_keepalive_window_both_count() -> None:
    client = Connection(LEGACY, Role.CLIENT, ack_timeout=10.0, keepalive_timeout=3.0)
    client.init()
    assert client.receive('{"type":"ka"}') == []  # a `ka` may precede the ack
    assert client.next_deadline() == 3.0
    client = Connection(LEGACY, Role.CLIENT, ack_timeout=2.0, keepalive_timeout=3.0)
    client.init()
    client.receive('{"type":"ka"}')
    assert client.next_deadline() == 2.0


def test_a_legacy_server_sends_ka_with_the_ack_and_then_periodically() -> None:
    pair = Pair(LEGACY, {"keepalive_interval": 5.0})
    pair.to_server(pair.client.init())
    frames = pair.server.accept()
    assert frames == ('{"type":"connection_ack"}', '{"type":"ka"}')
    assert pair.to_client(*frames) == [Acknowledged(payload=None)]
    assert pair.server.handle_timer(5.0) == ['{"type":"ka"}']


@pytest.mark.parametrize(
    ("subprotocol", "options", "code"),
    [
        (TRANSPORT, {"connection_init_timeout": 1.0}, 4408),
    ],
)
def test_a_late_init_closes(subprotocol: Subprotocol, options: dict[str, float], code: int) -> None:
    server = Connection(subprotocol, Role.SERVER, **options)
    closed = server.handle_timer(1.0)
    assert isinstance(closed, CloseRequired)
    assert closed.code == code
