"""How messages travel through a broker: a `Codec` turns them into bytes and back."""

from __future__ import annotations

from typing import Protocol, final

import orjson

__all__ = ["Codec", "JSONCodec"]


class Codec(Protocol):
    """Encodes a published message to bytes, and decodes what a subscriber receives."""

    def encode(self, message: object, /) -> bytes: ...

    def decode(self, data: bytes, /) -> object: ...


@final
class JSONCodec:
    """JSON through orjson: dicts, lists, str, numbers, dataclasses, datetimes, UUIDs.

    A dataclass or datetime arrives as its JSON form (a dict, an ISO string), as it would in a
    GraphQL result.
    """

    __slots__ = ()

    def encode(self, message: object, /) -> bytes:
        """`message` as compact UTF-8 JSON; TypeError for what JSON cannot hold."""
        return orjson.dumps(message)

    def decode(self, data: bytes, /) -> object:
        """The JSON value in `data`; ValueError when it is not JSON."""
        return orjson.loads(data)
