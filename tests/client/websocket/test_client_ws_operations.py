"""One operation on the shared socket: stopping it, its errors, and queries over the socket."""

from __future__ import annotations

import asyncio
import gc
from contextlib import aclosing

import pytest

from clew.client import AIOHTTPClient, GraphQLRequest
from clew.client._builder import OperationKind, operation_kind
from clew.client._subscription import Operation, Subscription
from clew.client._websocket import WebSocketManager
from clew.client.errors import (
    GraphQLResponseError,
    SubscriptionError,
    TransportError,
    WebSocketClosedError,
)
from conftest import QUERIES, BackendFactory, FakeServer, collect, op


async def test_breaking_out_of_async_for_stops_that_operation_only(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    keep = backend.execute_subscription(op("Ticks"))
    assert (await anext(keep)).data == {"tick": 1}
    async for response in backend.execute_subscription(op("Ticks")):
        assert response.data == {"tick": 1}
        break
    gc.collect()  # not needed on CPython (refcounting), kept for other interpreters
    (kept_id, _), (dropped_id, _) = fake.started()
    await fake.wait_for(lambda: fake.stopped() == [dropped_id])
    # The other subscription carries on, on the same socket.
    assert (await anext(keep)).data == {"tick": 2}
    assert fake.connections == 1
    await keep.aclose()
    await fake.wait_for(lambda: fake.stopped() == [dropped_id, kept_id])


async def test_aclose_stops_the_operation_and_ends_iteration(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    stream = backend.execute_subscription(op("Ticks"))
    async with aclosing(stream):
        assert (await anext(stream)).data == {"tick": 1}
    await fake.wait_for(lambda: len(fake.stopped()) == 1)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    await stream.aclose()  # idempotent
    assert len(fake.stopped()) == 1


async def test_cancelling_the_consumer_stops_the_operation(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    other = backend.execute_subscription(op("Ticks"))
    assert (await anext(other)).data == {"tick": 1}
    consumer = asyncio.create_task(collect(backend.execute_subscription(op("Hang"))))
    await fake.wait_for(lambda: len(fake.started()) == 2)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    hang_id = fake.started()[1][0]
    await fake.wait_for(lambda: fake.stopped() == [hang_id])
    assert (await anext(other)).data is not None
    await other.aclose()


async def test_an_error_message_fails_that_iterator_only(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    ticks = backend.execute_subscription(op("Ticks"))
    assert (await anext(ticks)).data == {"tick": 1}
    with pytest.raises(SubscriptionError) as caught:
        await collect(backend.execute_subscription(op("Fail")))
    assert [error["message"] for error in caught.value.errors] == ["boom"]
    assert "boom" in str(caught.value)
    assert (await anext(ticks)).data is not None
    await ticks.aclose()


async def test_result_errors_are_events_not_exceptions(
    make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol])
    responses = [r async for r in backend.execute_subscription(op("Partial"))]
    assert len(responses) == 1
    assert responses[0].data == {"partial": None}
    assert responses[0].errors == [{"message": "half"}]


async def test_the_client_raises_result_errors_when_asked(fake: FakeServer) -> None:
    async with AIOHTTPClient(fake.url, websocket_options={"idle_timeout": 0}) as client:
        stream = client.subscribe(op("Partial").query, operation_name="Partial")
        assert [r.errors async for r in stream] == [[{"message": "half"}]]
        checked = client.subscribe(
            op("Partial").query, operation_name="Partial", raise_on_errors=True
        )
        with pytest.raises(GraphQLResponseError):
            await collect(checked)


async def test_operations_after_close_fail_clearly(make_backend: BackendFactory) -> None:
    backend = make_backend()
    transport = backend.websocket()
    await transport.close()
    with pytest.raises(WebSocketClosedError, match="closed"):
        await anext(transport.subscribe(op("Count"), single_result=False))


async def test_consumers_waiting_when_the_client_closes_get_an_exception(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    consumer = asyncio.create_task(collect(backend.execute_subscription(op("Hang"))))
    await asyncio.sleep(0.05)
    await backend.close()
    with pytest.raises(WebSocketClosedError) as caught:
        await consumer
    assert caught.value.close_code == 1000


async def test_queries_and_mutations_can_run_over_the_socket(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], use_websocket_for_queries=True)
    response = await backend.execute_query(op("Echo", value=7))
    assert response.data == {"echo": {"value": 7}}
    response = await backend.execute_mutation(op("Bump"))
    assert response.data == {"bump": 1}
    assert fake.connections == 1
    assert [name for _, name in fake.started()] == ["Echo", "Bump"]


async def test_an_error_message_for_a_query_is_a_response_with_errors_as_over_http(
    fake: FakeServer, make_backend: BackendFactory, subprotocol: str
) -> None:
    backend = make_backend([subprotocol], use_websocket_for_queries=True)
    ticks = backend.execute_subscription(op("Ticks"))
    assert (await anext(ticks)).data == {"tick": 1}
    refused = GraphQLRequest(query="query Nope { nope }", operation_name="Nope")
    response = await backend.execute_query(refused)
    assert response.errors == [{"message": "Unknown operation Nope"}]
    assert response.data is None
    assert not response.data_present  # a request error: execution never began
    refused = GraphQLRequest(query="mutation Nope { nope }", operation_name="Nope")
    assert (await backend.execute_mutation(refused)).errors == [
        {"message": "Unknown operation Nope"}
    ]
    # Only those operations ended: the subscription and the socket carry on.
    assert (await anext(ticks)).data is not None
    assert fake.connections == 1
    await ticks.aclose()


async def test_the_client_raises_an_error_message_for_a_query_only_when_asked(
    fake: FakeServer,
) -> None:
    async with AIOHTTPClient(fake.url, use_websocket_for_queries=True) as client:
        quiet = await client.execute("query Nope { nope }", operation_name="Nope")
        assert quiet.errors == [{"message": "Unknown operation Nope"}]
        with pytest.raises(GraphQLResponseError) as caught:
            await client.execute("query Nope { nope }", operation_name="Nope", raise_on_errors=True)
        assert [error["message"] for error in caught.value.errors] == ["Unknown operation Nope"]
        assert caught.value.data is None
        # A subscription still ends with `SubscriptionError` from its iterator.
        with pytest.raises(SubscriptionError):
            await collect(client.subscribe(QUERIES["Fail"], operation_name="Fail"))


async def test_queries_over_the_socket_are_single_results_without_a_parse(
    fake: FakeServer, make_backend: BackendFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the backend already knows a query is a single result")

    monkeypatch.setattr("clew.client.backend.operation_kind", no_parse)
    backend = make_backend(use_websocket_for_queries=True)
    assert (await backend.execute_query(op("Echo", value=1))).data == {"echo": {"value": 1}}
    assert (await backend.execute_mutation(op("Bump"))).data == {"bump": 1}


async def test_many_concurrent_queries_over_one_socket(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend(use_websocket_for_queries=True)
    responses = await asyncio.gather(
        *(backend.execute_query(op("Echo", value=i)) for i in range(20))
    )
    assert [r.data for r in responses] == [{"echo": {"value": i}} for i in range(20)]
    assert fake.connections == 1


@pytest.mark.parametrize(
    ("query", "operation_name", "kind"),
    [
        ("{ hello }", None, "query"),
        ("query Q { hello }", None, "query"),
        ("mutation M { bump }", None, "mutation"),
        ("subscription S { tick }", None, "subscription"),
        ("query A { a } subscription B { b }", "B", "subscription"),
        ("query A { a } subscription B { b }", "A", "query"),
        ("query A { a } subscription B { b }", "C", "the default"),
        ("subscription { tick } mutation", None, "the default"),
        (None, None, "the default"),
    ],
)
@pytest.mark.parametrize("default", ["query", "subscription"])
def test_the_kind_is_decided_in_one_place_with_one_default(
    query: str | None, operation_name: str | None, kind: str, default: OperationKind
) -> None:
    # The caller's intent (execute: query; subscribe: subscription) decides what the
    # document cannot: an unparseable one, one selecting nothing, one sent by hash only.
    expected = default if kind == "the default" else kind
    assert operation_kind(query, operation_name, default=default) == expected


async def test_an_operation_that_cannot_be_encoded_is_refused_before_sending(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    backend = make_backend()
    ticks = backend.execute_subscription(op("Ticks"))
    assert (await anext(ticks)).data == {"tick": 1}
    request = op("Count")
    unencodable = type(request)(
        query=request.query,
        operation_name="Count",
        variables={"n": object()},  # type: ignore[dict-item]
    )
    with pytest.raises(TypeError, match="JSON"):
        backend.execute_subscription(unencodable)
    assert (await anext(ticks)).data is not None
    assert fake.connections == 1
    await ticks.aclose()


async def test_an_operation_the_connection_cannot_encode_fails_alone(
    fake: FakeServer, make_backend: BackendFactory
) -> None:
    # Past the early check (built by hand), the protocol connection itself refuses the frame:
    # only that operation fails; the connection and the other operations go on.
    backend = make_backend(websocket_options={"retry": {"max_attempts": 5}})
    transport = backend.websocket()
    assert isinstance(transport, WebSocketManager)
    ticks = backend.execute_subscription(op("Ticks"))
    assert (await anext(ticks)).data == {"tick": 1}
    bad = Operation(
        "bad",
        {"query": QUERIES["Count"], "variables": {"n": object()}},  # type: ignore[dict-item]
        single_result=False,
    )
    with pytest.raises(TransportError, match="Cannot send operation bad"):
        await anext(Subscription(transport, bad))
    assert (await anext(ticks)).data == {"tick": 2}
    await ticks.aclose()
    assert fake.connections == 1
    assert [name for _, name in fake.started()] == ["Ticks"]
