"""A small chat served with the explorer: queries, mutations, a live subscription and uploads.

`make run` serves `clew.server.demo:app`, with the explorer's scripts served by the app from the
folder named by ``CLEW_EXPLORER_ASSETS`` (which `make run` fills once with
`clew explorer-assets`), so the page needs no CDN; without it they load from the CDN.
Everything the app remembers (messages, the pub/sub that feeds the subscription) is built by
`create_app` and lives on that one app. Posts reach subscribers through the app's pub/sub
(``info.context["pubsub"]``): in-process by default, or Redis when ``CLEW_REDIS_URL`` is set,
so ``clew serve clew.server.demo:app --workers 2`` serves one chat across workers (each worker
keeps its own history; live messages reach them all).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Protocol, cast, final

from graphql import GraphQLError
from starlette.datastructures import UploadFile

from .app import GraphQL
from .explorer import Explorer
from .pubsub import InMemoryPubSub, PubSub, validate_channel

__all__ = ["ASSETS_ENV", "REDIS_URL_ENV", "SDL", "ChatRoom", "app", "channel_of", "create_app"]

#: The environment variable naming a folder filled by `clew explorer-assets`.
ASSETS_ENV = "CLEW_EXPLORER_ASSETS"
#: Set to a Redis URL (``redis://127.0.0.1:6379/0``) to share the chat between workers.
REDIS_URL_ENV = "CLEW_REDIS_URL"

SDL = """
scalar Upload

type Query {
  "The latest messages of a room, oldest first."
  messages(room: String! = "general", last: Int = 20): [Message!]!
  "Rooms that have messages."
  rooms: [String!]!
}

type Mutation {
  "Post a message; subscribers of the room receive it."
  postMessage(room: String! = "general", author: String!, text: String!): Message!
  "Post a file (multipart request); the message describes the attachment."
  uploadAttachment(room: String! = "general", author: String!, file: Upload!): Message!
}

type Subscription {
  "Messages posted to a room from now on."
  messagePosted(room: String! = "general"): Message!
}

type Message {
  id: ID!
  room: String!
  author: String!
  text: String!
  postedAt: String!
  attachment: Attachment
}

type Attachment {
  filename: String!
  contentType: String
  size: Int!
}
"""

_WELCOME_QUERY = """# Post in one tab, watch it arrive in another:
#   subscription { messagePosted { author text } }
mutation Post {
  postMessage(author: "ada", text: "Hello from clew") { id postedAt }
}

query Latest {
  messages(last: 5) { author text postedAt }
}
"""


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """What the server keeps of an uploaded file."""

    filename: str
    contentType: str | None
    size: int


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One chat message."""

    id: str
    room: str
    author: str
    text: str
    postedAt: str
    attachment: Attachment | None = None


def channel_of(room: str) -> str:
    """The pub/sub channel of a room."""
    return f"chat:{room}"


class ChatRoom:
    """The chat's state: recent messages per room (of this worker)."""

    def __init__(self, history: int = 200, *, id_prefix: str = "") -> None:
        self._history = history
        self._rooms: dict[str, deque[Message]] = {}
        self._ids = count(1)
        self._id_prefix = id_prefix

    def post(
        self, room: str, author: str, text: str, attachment: Attachment | None = None
    ) -> Message:
        """Store a message (publishing it is the resolver's job)."""
        message = Message(
            id=f"{self._id_prefix}{next(self._ids)}",
            room=room,
            author=author,
            text=text,
            postedAt=datetime.now(UTC).isoformat(timespec="seconds"),
            attachment=attachment,
        )
        self._rooms.setdefault(room, deque(maxlen=self._history)).append(message)
        return message

    def messages(self, room: str, last: int) -> list[Message]:
        """The room's latest `last` messages, oldest first."""
        stored = self._rooms.get(room, ())
        return list(stored)[-last:] if last > 0 else []

    def rooms(self) -> list[str]:
        """Rooms with at least one message."""
        return sorted(self._rooms)


class _Info(Protocol):
    """What the resolvers use of graphql-core's GraphQLResolveInfo."""

    @property
    def context(self) -> Mapping[str, object]: ...


def _pubsub(info: _Info) -> PubSub:
    return cast(PubSub, info.context["pubsub"])


def _channel(room: str) -> str:
    channel = channel_of(room)
    try:
        validate_channel(channel)
    except ValueError as error:
        raise GraphQLError(f"Invalid room name {room!r}: {error}") from None
    return channel


def create_app(
    *, debug: bool = False, asset_dir: str | None = None, pubsub: PubSub | None = None
) -> GraphQL:
    """A fresh demo app with its own chat state.

    Explorer scripts come from `asset_dir` if given, else from the folder named by
    ``CLEW_EXPLORER_ASSETS``, else from the CDN. Without `pubsub` it uses Redis when
    ``CLEW_REDIS_URL`` is set, else the in-process pub/sub.
    """
    asset_dir = asset_dir or os.environ.get(ASSETS_ENV) or None
    redis_url = os.environ.get(REDIS_URL_ENV)
    if pubsub is None and redis_url:
        # Imported only then: it needs the `redis` extra.
        from .pubsub import RedisPubSub  # noqa: PLC0415

        pubsub = RedisPubSub(redis_url)
    elif pubsub is None:
        pubsub = InMemoryPubSub()
    # With workers sharing one chat, ids stay unique by naming the worker that gave them.
    shared = not isinstance(pubsub, InMemoryPubSub)
    chat = ChatRoom(id_prefix=f"{os.getpid()}-" if shared else "")

    def messages(_root: object, _info: object, room: str, last: int) -> list[Message]:
        return chat.messages(room, last)

    def rooms(_root: object, _info: object) -> list[str]:
        return chat.rooms()

    async def post_message(
        _root: object, info: _Info, room: str, author: str, text: str
    ) -> Message:
        channel = _channel(room)
        message = chat.post(room, author, text)
        await _pubsub(info).publish(channel, message)
        return message

    async def upload_attachment(
        _root: object, info: _Info, room: str, author: str, file: UploadFile
    ) -> Message:
        channel = _channel(room)
        size = len(await file.read())
        attachment = Attachment(
            filename=file.filename or "upload", contentType=file.content_type, size=size
        )
        message = chat.post(room, author, f"shared {attachment.filename}", attachment)
        await _pubsub(info).publish(channel, message)
        return message

    def message_posted(_root: object, info: _Info, room: str) -> AsyncIterator[object]:
        # The subscription itself, so closing the GraphQL subscription unsubscribes at once
        # (a wrapping `async for` would leave that to the garbage collector).
        return _pubsub(info).subscribe(_channel(room))

    app = GraphQL.from_sdl(
        SDL,
        {
            "Query": {"messages": messages, "rooms": rooms},
            "Mutation": {"postMessage": post_message, "uploadAttachment": upload_attachment},
            "Subscription": {"messagePosted": message_posted},
        },
        debug=debug,
        explorer=Explorer(
            title="clew chat demo", default_query=_WELCOME_QUERY, asset_dir=asset_dir
        ),
        pubsub=pubsub,
    )
    app.state.chat = chat
    return app


#: The app `make run` serves.
app = create_app()
