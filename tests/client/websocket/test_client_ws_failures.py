"""Misbehaving servers: each surfaces one clear, typed error within the configured limits.

Never an endless reconnect loop: a message over the size limit and a protocol violation end
the connection for good under both subprotocols alike; a server that acknowledges and then
fails the same way every time uses up `max_attempts`; one that never acknowledges surfaces an
`AckTimeoutError`. A resubscription after a reconnect is visible to the consumer.
"""

from __future__ import annotations

import asyncio

import pytest

from clew.client import AIOHTTPBackend
from clew.client.errors import (
    AckTimeoutError,
    MessageTooBigError,
    WebSocketClosedError,
    WebSocketProtocolError,
)
from conftest import BackendFactory, FakeServer, collect, op

#: Retries fast enough that a loop would show up as many connections within the test.
RETRY = {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.02}


async def failure(backend: AIOHTTPBackend, within: float = 10.0) -> WebSocketClosedError:
    """The error a subscription ends with, which must come within `within` seconds."""
    async with asyncio.timeout(within):
        with pytest.raises(WebSocketClosedError) as caught:
            await collect(backend.execute_subscription(op("Hang")))
    return caught.value


async def test_a_message_over_the_size_limit_fails_at_once(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    # The server acknowledges, then sends a frame over the limit, every time it is asked.
    fake.garbage_after_ack = '{"payload":"' + "x" * 5000 + '"}'
    backend = make_backend(
        [subprotocol], websocket_options={"max_message_size": 1024, "retry": RETRY}
    )
    error = await failure(backend)
    assert isinstance(error, MessageTooBigError)
    assert error.close_code == 1009
    assert "too big" in error.reason.lower()
    assert fake.connections == 1  # the server would only send it again
    await fake.wait_for(lambda: fake.sockets[0].client_close_code is not None)
    assert fake.sockets[0].client_close_code == 1009


@pytest.mark.parametrize("code", [1001, 1011, 1012, 1013, 4408, 4499, -1])
async def test_a_close_after_every_ack_uses_up_max_attempts(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str, code: int
) -> None:
    # Acknowledged, then closed (or dropped: -1) before anything useful arrived, every time:
    # each such connection is a failed attempt, so the loop ends after max_attempts retries.
    fake.close_after_ack = code
    backend = make_backend([subprotocol], websocket_options={"retry": RETRY})
    error = await failure(backend)
    assert type(error) is WebSocketClosedError
    assert error.close_code == (1006 if code == -1 else code)
    assert fake.connections == 1 + RETRY["max_attempts"]


@pytest.mark.parametrize(
    "frame",
    [
        "this is not json",
        '{"type":"nonsense"}',
        '{"type":"error","id":"1","payload":42}',
        '{"type":"complete"}',
    ],
    ids=["not-json", "unknown-type", "malformed-error", "no-id"],
)
async def test_a_protocol_violation_fails_at_once_under_both_subprotocols(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str, frame: str
) -> None:
    fake.garbage_after_ack = frame
    backend = make_backend([subprotocol], websocket_options={"retry": RETRY})
    loop = asyncio.get_running_loop()
    began = loop.time()
    error = await failure(backend)
    assert isinstance(error, WebSocketProtocolError)
    # graphql-transport-ws closes 4004 (or 4400), the legacy subprotocol 1002: neither retried.
    assert error.close_code in (4004, 4400) if subprotocol == "graphql-transport-ws" else 1002
    assert error.reason
    assert fake.connections == 1
    assert loop.time() - began < 2.0  # no backoff: it fails at once (was 10-16 s for legacy)


async def test_a_server_that_never_acknowledges_surfaces_an_ack_timeout(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    fake.ack = False
    backend = make_backend([subprotocol], websocket_options={"ack_timeout": 0.1, "retry": RETRY})
    loop = asyncio.get_running_loop()
    began = loop.time()
    error = await failure(backend)
    assert isinstance(error, AckTimeoutError)
    assert isinstance(error, TimeoutError)
    assert error.close_code == 4504
    assert fake.connections == 1 + RETRY["max_attempts"]
    # Within the configured limits: four ack timeouts and three short backoffs.
    assert loop.time() - began < 4 * 0.1 + 3 * 0.02 + 3.0


async def test_a_resubscription_is_visible_to_the_consumer(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    heard: list[tuple[str, int]] = []
    backend = make_backend(
        [subprotocol],
        websocket_options={"on_resubscribe": lambda *args: heard.append(args)},
    )
    stream = backend.execute_subscription(op("Count", n=2, delay=0.05))
    assert [(await anext(stream)).data for _ in range(2)] == [{"count": 1}, {"count": 2}]
    assert (stream.resubscriptions, heard) == (0, [])
    ticks = backend.execute_subscription(op("Ticks", delay=0.02))
    assert (await anext(ticks)).data == {"tick": 1}
    fake.drop()
    # The stream restarts from the server's beginning; the consumer can tell.
    assert (await anext(ticks)).data == {"tick": 1}
    assert ticks.resubscriptions == 1
    ticks_id = fake.sockets[1].started[0][0]
    assert heard == [(ticks_id, 1)]
    await ticks.aclose()
    await stream.aclose()
