"""The shared integration-test schema in plain graphql-core, one implementation for such servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import final

from graphql import GraphQLResolveInfo, GraphQLSchema, build_schema

__all__ = [
    "REJECTED_TOKEN",
    "SDL",
    "SDL_PATH",
    "PeerSchema",
    "PubSub",
    "build_test_schema",
    "is_rejected",
    "token_from_authorization",
    "token_from_context",
]

#: The file every peer implements; kept beside this module so the Node server reads it too.
SDL_PATH = Path(__file__).with_name("schema.graphql")
SDL = SDL_PATH.read_text(encoding="utf-8")

#: A connection_init payload ``{"token": REJECTED_TOKEN}`` is refused by every test server.
REJECTED_TOKEN = "wrong"

#: Reads the token for ``whoami``; the context type is each server's own.
TokenGetter = Callable[["GraphQLResolveInfo[object]"], "str | None"]


def is_rejected(payload: object) -> bool:
    """Tell whether a connection_init payload carries the token every test server refuses."""
    return isinstance(payload, Mapping) and payload.get("token") == REJECTED_TOKEN


def token_from_authorization(header: str | None) -> str | None:
    """Read the token of an HTTP Authorization header, with or without a "Bearer " prefix."""
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    return rest if rest and scheme.lower() == "bearer" else header


def token_from_context(info: GraphQLResolveInfo[object]) -> str | None:
    """Read ``token`` from a mapping context or a context object; servers put it there."""
    context: object = info.context
    if isinstance(context, Mapping):
        token = context.get("token")
    else:
        token = getattr(context, "token", None)
    return token if isinstance(token, str) else None


@final
class _Inbox:
    """One subscriber's queue, registered on creation so a publish right after subscribe is seen."""

    def __init__(self, rooms: dict[str, set[asyncio.Queue[str]]], room: str) -> None:
        self._rooms = rooms
        self._room = room
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._closed = False
        rooms.setdefault(room, set()).add(self._queue)

    def __aiter__(self) -> _Inbox:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        return await self._queue.get()

    async def aclose(self) -> None:
        """Unregister from the room; graphql-core calls this when the subscription ends."""
        if self._closed:
            return
        self._closed = True
        queues = self._rooms.get(self._room)
        if queues is not None:
            queues.discard(self._queue)
            if not queues:
                del self._rooms[self._room]


@final
class PubSub:
    """In-process rooms for the ``publish`` mutation and ``messages`` subscription of one schema."""

    def __init__(self) -> None:
        self._rooms: dict[str, set[asyncio.Queue[str]]] = {}

    def publish(self, room: str, text: str) -> bool:
        """Deliver text to every current subscriber of room; true when there was one."""
        queues = self._rooms.get(room, set())
        for queue in queues:
            queue.put_nowait(text)
        return bool(queues)

    def subscribe(self, room: str) -> AsyncIterator[str]:
        """Start listening to room now; the iterator yields each text published after this call."""
        return _Inbox(self._rooms, room)

    def subscriber_count(self, room: str) -> int:
        """How many subscribers room has now (for tests of clean-up)."""
        return len(self._rooms.get(room, ()))


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class PeerSchema:
    """A fresh executable schema and the pub/sub its ``publish``/``messages`` fields share."""

    schema: GraphQLSchema
    pubsub: PubSub


def build_test_schema(*, token_of: TokenGetter = token_from_context) -> PeerSchema:
    """Build the shared test schema with its own pub/sub; no state is shared between calls."""
    schema = build_schema(SDL)
    pubsub = PubSub()

    async def slow(_root: object, _info: GraphQLResolveInfo[object], ms: int) -> str:
        await asyncio.sleep(ms / 1000)
        return f"slept {ms}"

    def fail(_root: object, _info: GraphQLResolveInfo[object]) -> str:
        raise RuntimeError("boom")

    async def count(
        _root: object, _info: GraphQLResolveInfo[object], to: int, delayMs: int = 0
    ) -> AsyncIterator[int]:
        for value in range(1, to + 1):
            if delayMs > 0:
                await asyncio.sleep(delayMs / 1000)
            yield value

    async def fail_after(
        _root: object, _info: GraphQLResolveInfo[object], n: int
    ) -> AsyncIterator[int]:
        for value in range(1, n + 1):
            yield value
        raise RuntimeError("boom")

    def messages(_root: object, _info: GraphQLResolveInfo[object], room: str) -> AsyncIterator[str]:
        return pubsub.subscribe(room)

    def event(value: object, _info: GraphQLResolveInfo[object], **_args: object) -> object:
        return value

    query = schema.query_type
    mutation = schema.mutation_type
    subscription = schema.subscription_type
    assert query is not None
    assert mutation is not None
    assert subscription is not None
    query.fields["hello"].resolve = lambda _r, _i, name="world": f"Hello, {name}!"
    query.fields["add"].resolve = lambda _r, _i, a, b: a + b
    query.fields["fail"].resolve = fail
    query.fields["slow"].resolve = slow
    query.fields["whoami"].resolve = lambda _r, info: token_of(info)
    mutation.fields["echo"].resolve = lambda _r, _i, message: message
    mutation.fields["publish"].resolve = lambda _r, _i, room, text: pubsub.publish(room, text)
    for name, subscriber in (("count", count), ("failAfter", fail_after), ("messages", messages)):
        subscription.fields[name].subscribe = subscriber
        subscription.fields[name].resolve = event
    return PeerSchema(schema=schema, pubsub=pubsub)
