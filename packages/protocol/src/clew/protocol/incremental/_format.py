"""The two incremental-delivery payload formats, choosing one from Accept, and converting.

- `IncrementalFormat.V0_2` (``incrementalSpec=v0.2``, graphql-js 17 alpha.9, what graphql-core
  3.3 executes): the initial payload announces ``pending: [{id, path, label?}]``; later
  payloads carry ``incremental: [{id, data | items, subPath?, errors?}]`` and
  ``completed: [{id, errors?}]``.
- `IncrementalFormat.V0_1` (``deferSpec=20220824``, graphql-js 17 alpha.2, Apollo's default):
  entries carry their own ``path`` (a stream's ends with the index of its first item) and
  ``label``; there is no ``pending`` or ``completed``.

`LegacyConverter` turns the first into the second, one payload at a time, for clients that
only speak the 2022 format (no Python converter existed; Apollo's JS side uses
`@yaacovcr/transform`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import cast

from clew.protocol._codec import describe
from clew.protocol._errors import RemoteProtocolError
from clew.protocol._types import JSONObject, JSONValue
from clew.protocol.http._media import _split, parse_media_type

from ._merge import IncrementalMerger, resolve_path

__all__ = ["IncrementalFormat", "LegacyConverter", "negotiate_incremental"]


class IncrementalFormat(StrEnum):
    """A payload format, named by its `multipart/mixed` parameter."""

    #: graphql-js 17.0.0-alpha.2, Apollo Client's `deferSpec=20220824` (Apollo Kotlin: v0.1).
    V0_1 = "deferSpec=20220824"
    #: graphql-js 17.0.0-alpha.9 (`pending`/`completed`), `incrementalSpec=v0.2`.
    V0_2 = "incrementalSpec=v0.2"

    @property
    def content_type(self) -> str:
        """The response's Content-Type, with the boundary clew writes."""
        return f'multipart/mixed; boundary="-"; {self.value}'

    @property
    def accept(self) -> str:
        """How a client asks for this format in `Accept`."""
        return f"multipart/mixed;{self.value}"


def negotiate_incremental(accept: str | None) -> IncrementalFormat | None:
    """The format `Accept` asks for, or None when it names none (a server then answers 406
    for an operation that defers or streams). A bare ``multipart/mixed`` does not count, as
    for Apollo Server; with both formats, the higher q-value wins, then the first listed."""
    if not accept:
        return None
    best: tuple[float, int, IncrementalFormat] | None = None
    for position, item in enumerate(_split(accept, ",")):
        try:
            media_type, params = parse_media_type(item)
        except ValueError:
            continue
        if media_type != "multipart/mixed":
            continue
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            continue
        for candidate in IncrementalFormat:
            name, _, value = candidate.value.partition("=")
            if params.get(name.lower()) == value and quality > 0:
                key = (quality, -position, candidate)
                if best is None or key[:2] > best[:2]:
                    best = key
    return None if best is None else best[2]


class LegacyConverter:
    """Rewrites graphql-core's `pending`/`completed` payloads into the 2022 format."""

    def __init__(self) -> None:
        self._pending: dict[str, tuple[list[JSONValue], str | None]] = {}
        # The merged result so far: a stream entry's path needs the list's current length.
        self._merged = IncrementalMerger()

    def convert(self, payload: JSONObject) -> JSONObject:
        """The 2022-format payload for one payload of the newer format."""
        out: JSONObject = {}
        for key in ("data", "errors"):
            if key in payload:
                out[key] = payload[key]
        self._remember(payload.get("pending"))
        incremental: list[JSONValue] = []
        data = self._merged.result.get("data")
        for raw in cast("list[JSONValue]", payload.get("incremental") or []):
            entry = cast(JSONObject, raw)
            path, label = self._lookup(entry.get("id"))
            path = path + cast("list[JSONValue]", entry.get("subPath") or [])
            legacy: JSONObject = {}
            if "items" in entry:
                target = resolve_path(cast(JSONValue, data), path)
                index = len(target) if isinstance(target, list) else 0
                legacy["items"] = entry["items"]
                legacy["path"] = [*path, index]
            else:
                legacy["data"] = entry.get("data")
                legacy["path"] = path
            if label is not None:
                legacy["label"] = label
            for key in ("errors", "extensions"):
                if key in entry:
                    legacy[key] = entry[key]
            incremental.append(legacy)
        for raw in cast("list[JSONValue]", payload.get("completed") or []):
            entry = cast(JSONObject, raw)
            path, label = self._lookup(entry.get("id"))
            if "errors" in entry:
                # The whole fragment or stream failed: the 2022 format says so with null data.
                failed: JSONObject = {"data": None, "path": path, "errors": entry["errors"]}
                if label is not None:
                    failed["label"] = label
                incremental.append(failed)
            self._pending.pop(cast(str, entry.get("id")), None)
        if incremental:
            out["incremental"] = incremental
        if "hasNext" in payload:
            out["hasNext"] = payload["hasNext"]
        if "extensions" in payload:
            out["extensions"] = payload["extensions"]
        self._merged.apply(payload)
        return out

    def _remember(self, pending: JSONValue) -> None:
        for raw in cast("list[JSONValue]", pending or []):
            entry = cast(JSONObject, raw)
            label = entry.get("label")
            self._pending[cast(str, entry.get("id"))] = (
                list(cast("list[JSONValue]", entry.get("path") or [])),
                label if isinstance(label, str) else None,
            )

    def _lookup(self, pending_id: JSONValue) -> tuple[list[JSONValue], str | None]:
        known = self._pending.get(pending_id) if isinstance(pending_id, str) else None
        if known is None:
            raise RemoteProtocolError(f"No pending entry has the id {describe(pending_id)}")
        path, label = known
        return list(path), label
