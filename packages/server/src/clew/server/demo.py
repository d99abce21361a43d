"""A small chat served with the explorer: queries, mutations, a live subscription and uploads.

`make run` serves `clew.server.demo:app`, with the explorer's scripts served by the app from the
folder named by ``CLEW_EXPLORER_ASSETS`` (which `make run` fills once with
`clew explorer-assets`), so the page needs no CDN; without it they load from the CDN.
Everything the app remembers (messages, the pub/sub that feeds the subscription) is built by
`create_app` and lives on that one app.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import final

from starlette.datastructures import UploadFile

from .app import GraphQL
from .explorer import Explorer

__all__ = ["ASSETS_ENV", "SDL", "ChatRoom", "PubSub", "app", "create_app"]

#: The environment variable naming a folder filled by `clew explorer-assets`.
ASSETS_ENV = "CLEW_EXPLORER_ASSETS"

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


class PubSub:
    """In-process publish/subscribe: each subscriber gets its own bounded queue per topic."""

    def __init__(self, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[object]]] = {}

    def publish(self, topic: str, event: object) -> None:
        """Deliver `event` to the topic's subscribers; a subscriber that lags drops it."""
        for queue in self._subscribers.get(topic, ()):
            if not queue.full():
                queue.put_nowait(event)

    async def subscribe(self, topic: str) -> AsyncIterator[object]:
        """Events published to `topic` from now on, until the consumer closes the generator."""
        queue: asyncio.Queue[object] = asyncio.Queue(self._queue_size)
        subscribers = self._subscribers.setdefault(topic, set())
        subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)
            if not subscribers:
                self._subscribers.pop(topic, None)

    def subscriber_count(self, topic: str) -> int:
        """How many consumers currently listen to `topic`."""
        return len(self._subscribers.get(topic, ()))


class ChatRoom:
    """The chat's state: recent messages per room and the pub/sub announcing new ones."""

    def __init__(self, history: int = 200) -> None:
        self.pubsub = PubSub()
        self._history = history
        self._rooms: dict[str, deque[Message]] = {}
        self._ids = count(1)

    def post(
        self, room: str, author: str, text: str, attachment: Attachment | None = None
    ) -> Message:
        """Store a message and publish it to the room's subscribers."""
        message = Message(
            id=str(next(self._ids)),
            room=room,
            author=author,
            text=text,
            postedAt=datetime.now(UTC).isoformat(timespec="seconds"),
            attachment=attachment,
        )
        self._rooms.setdefault(room, deque(maxlen=self._history)).append(message)
        self.pubsub.publish(room, message)
        return message

    def messages(self, room: str, last: int) -> list[Message]:
        """The room's latest `last` messages, oldest first."""
        stored = self._rooms.get(room, ())
        return list(stored)[-last:] if last > 0 else []

    def rooms(self) -> list[str]:
        """Rooms with at least one message."""
        return sorted(self._rooms)


def create_app(*, debug: bool = False, asset_dir: str | None = None) -> GraphQL:
    """A fresh demo app with its own chat state; explorer scripts from `asset_dir` if given,
    else from the folder named by ``CLEW_EXPLORER_ASSETS``, else from the CDN."""
    asset_dir = asset_dir or os.environ.get(ASSETS_ENV) or None
    chat = ChatRoom()

    def messages(_root: object, _info: object, room: str, last: int) -> list[Message]:
        return chat.messages(room, last)

    def rooms(_root: object, _info: object) -> list[str]:
        return chat.rooms()

    def post_message(_root: object, _info: object, room: str, author: str, text: str) -> Message:
        return chat.post(room, author, text)

    async def upload_attachment(
        _root: object, _info: object, room: str, author: str, file: UploadFile
    ) -> Message:
        size = len(await file.read())
        attachment = Attachment(
            filename=file.filename or "upload", contentType=file.content_type, size=size
        )
        return chat.post(room, author, f"shared {attachment.filename}", attachment)

    def message_posted(_root: object, _info: object, room: str) -> AsyncIterator[object]:
        # The pub/sub generator itself, so closing the subscription closes it (a wrapping
        # `async for` would leave it to the garbage collector).
        return chat.pubsub.subscribe(room)

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
    )
    app.state.chat = chat
    return app


#: The app `make run` serves.
app = create_app()
