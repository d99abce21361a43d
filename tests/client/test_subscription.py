"""A subscription's results as its caller iterates them, queued or awaited, ends and errors.

`SubscriptionCall` takes results already queued through `Subscription.poll` (no coroutine per
result) and awaits `__anext__` otherwise: either way the caller sees the same sequence.
"""

from __future__ import annotations

import asyncio

import pytest

from clew.client._messages import GraphQLResponse
from clew.client._subscription import Operation, Subscription
from clew.client._subscription_call import SubscriptionCall
from clew.protocol.http import GraphQLResponse as ResponseBody


class Owner:
    """Records what the subscription asks of its transport."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.stopped: list[str] = []

    def start(self, operation: Operation) -> None:
        self.started.append(operation.id)

    def stop(self, operation: Operation) -> None:
        self.stopped.append(operation.id)


def result(value: int) -> ResponseBody:
    return ResponseBody(data={"n": value})


def setup() -> tuple[Owner, Operation, Subscription]:
    owner = Owner()
    operation = Operation("1", {"query": "subscription { n }"}, single_result=False)
    return owner, operation, Subscription(owner, operation)


async def test_queued_results_then_the_end_in_order() -> None:
    owner, operation, subscription = setup()
    ended: list[bool] = []

    async def on_end() -> None:
        ended.append(True)

    call = SubscriptionCall("request", subscription, on_end)
    for value in (1, 2, 3):
        operation.push(result(value))
    operation.finish()
    received = [response async for response in call]
    assert [response.data for response in received] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert all(type(r) is GraphQLResponse and r.request == "request" for r in received)
    assert owner.started == ["1"]
    assert ended == [True]
    with pytest.raises(StopAsyncIteration):
        await anext(call)


async def test_nothing_is_polled_before_the_operation_starts_or_after_it_closed() -> None:
    owner, operation, subscription = setup()
    operation.push(result(1))
    assert subscription.poll() is None  # not started: `__anext__` must start it first
    assert owner.started == []
    assert (await anext(subscription)).data == {"n": 1}
    assert owner.started == ["1"]
    operation.push(result(2))
    assert subscription.poll() == result(2)
    assert subscription.poll() is None  # nothing queued
    operation.push(result(3))
    await subscription.aclose()
    assert owner.stopped == ["1"]
    assert subscription.poll() is None  # closed: queued results are not handed out


async def test_an_error_after_queued_results_is_raised_after_them() -> None:
    _, operation, subscription = setup()
    call = SubscriptionCall("request", subscription)
    operation.push(result(1))
    operation.fail(RuntimeError("gone"))
    assert (await anext(call)).data == {"n": 1}
    assert subscription.poll() is None  # the error is next: `__anext__` raises it
    with pytest.raises(RuntimeError, match="gone"):
        await anext(call)


async def test_a_waiting_caller_is_woken_by_the_next_result() -> None:
    _, operation, subscription = setup()
    call = SubscriptionCall("request", subscription)
    waiting = asyncio.ensure_future(anext(call))
    await asyncio.sleep(0)
    assert not waiting.done()
    operation.push(result(7))
    assert (await asyncio.wait_for(waiting, 5)).data == {"n": 7}


async def test_a_body_of_data_alone_is_queued_as_it_came_and_read_either_way() -> None:
    owner, operation, subscription = setup()
    call = SubscriptionCall("request", subscription)
    bodies = [{"data": {"n": value}} for value in range(5)]
    for body in bodies[:3]:
        operation.push(body)
    # The first goes through `__anext__` (it starts the operation): the transport's contract,
    # a validated `clew.protocol.http.GraphQLResponse`, which the caller's response wraps.
    first = await anext(call)
    assert first.raw == ResponseBody(data={"n": 0})
    assert owner.started == ["1"]
    # Queued ones are taken as they came: the caller's response is over the body itself.
    second = await anext(call)
    assert type(second) is GraphQLResponse
    assert second.raw is bodies[1]
    assert second.data is bodies[1]["data"]
    assert (second.errors, second.extensions, second.data_present) == (None, None, True)
    assert subscription.poll() is bodies[2]
    # Read through the transport's contract (`OperationStream`), a body is validated.
    operation.push(bodies[3])
    operation.push(result(4))
    assert await anext(subscription) == ResponseBody(data={"n": 3})
    assert await anext(subscription) == result(4)
