"""Merging incremental payloads into one progressively completed result, in either format.

Newer format (`pending`/`completed`): each entry's `id` names a pending fragment or stream
whose path was announced; `data` merges into the object at that path plus `subPath`, `items`
extend the list there, and `completed` errors join the result's errors. 2022 format: each
entry carries its `path`; a stream's path ends with the index its items start at.
"""

from __future__ import annotations

import copy
from typing import cast

from clew.protocol._codec import describe
from clew.protocol._errors import RemoteProtocolError
from clew.protocol._types import FormattedError, FormattedExecutionResult, JSONObject, JSONValue

__all__ = ["IncrementalMerger", "resolve_path"]


def resolve_path(data: JSONValue, path: list[JSONValue]) -> JSONValue:
    """The value at `path` (field names and list indices) inside `data`."""
    node = data
    for key in path:
        if isinstance(node, dict) and isinstance(key, str) and key in node:
            node = node[key]
            continue
        if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            continue
        raise RemoteProtocolError(f"The path {path!r} does not exist in the result")
    return node


def _deep_merge(target: JSONObject, source: JSONObject) -> None:
    for key, value in source.items():
        existing = target.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            _deep_merge(existing, value)
        else:
            target[key] = value


def _entries(payload: JSONObject, key: str) -> list[JSONObject]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RemoteProtocolError(f"'{key}' must be a list of objects, got {describe(value)}")
    return cast("list[JSONObject]", value)


class IncrementalMerger:
    """Applies payloads in order; `result` is the merged result so far, `has_next` whether
    more payloads will come."""

    def __init__(self) -> None:
        self.result: FormattedExecutionResult = {}
        self.has_next = True
        self._paths: dict[str, list[JSONValue]] = {}

    def apply(self, payload: JSONObject) -> FormattedExecutionResult:
        """Merge one payload; a copy of the merged result (safe to keep or change)."""
        if not self.has_next:
            raise RemoteProtocolError("A payload arrived after the one with hasNext: false")
        if "data" in payload:
            data = payload["data"]
            if data is not None and not isinstance(data, dict):
                raise RemoteProtocolError(f"'data' must be an object, got {describe(data)}")
            self.result["data"] = copy.deepcopy(data)
        self._add_errors(payload.get("errors"))
        if isinstance(payload.get("extensions"), dict):
            extensions = dict(self.result.get("extensions") or {})
            extensions.update(cast(JSONObject, payload["extensions"]))
            self.result["extensions"] = extensions
        for entry in _entries(payload, "pending"):
            pending_id = entry.get("id")
            path = entry.get("path")
            if not isinstance(pending_id, str) or not isinstance(path, list):
                raise RemoteProtocolError("A pending entry needs a string 'id' and a 'path' list")
            self._paths[pending_id] = path
        for entry in _entries(payload, "incremental"):
            self._incremental(entry)
        for entry in _entries(payload, "completed"):
            self._paths.pop(cast(str, entry.get("id")), None)
            self._add_errors(entry.get("errors"))
        self.has_next = payload.get("hasNext") is True
        return copy.deepcopy(self.result)

    def _incremental(self, entry: JSONObject) -> None:
        self._add_errors(entry.get("errors"))
        if "id" in entry:
            base = self._paths.get(cast(str, entry["id"]))
            if base is None:
                raise RemoteProtocolError(f"No pending entry has the id {describe(entry['id'])}")
            path = base + cast("list[JSONValue]", entry.get("subPath") or [])
            index = None
        else:
            raw_path = entry.get("path")
            if not isinstance(raw_path, list):
                raise RemoteProtocolError("An incremental entry needs an 'id' or a 'path'")
            path = raw_path
            index = None
            if "items" in entry:
                path, last = path[:-1], path[-1] if path else None
                if not isinstance(last, int):
                    raise RemoteProtocolError("A stream entry's path must end with an index")
                index = last
        data = self.result.get("data")
        if "items" in entry:
            items = entry["items"]
            target = resolve_path(cast(JSONValue, data), path)
            if not isinstance(target, list) or not isinstance(items, list):
                if items is None:
                    return  # a stream that failed as a whole (2022 format)
                raise RemoteProtocolError(f"Streamed items at {path!r} need a list")
            start = len(target) if index is None else index
            target[start : start + len(items)] = copy.deepcopy(items)
        else:
            value = entry.get("data")
            if value is None:
                return  # a fragment that failed as a whole (2022 format)
            target = resolve_path(cast(JSONValue, data), path)
            if not isinstance(target, dict) or not isinstance(value, dict):
                raise RemoteProtocolError(f"Deferred data at {path!r} needs an object")
            _deep_merge(target, copy.deepcopy(value))

    def _add_errors(self, errors: JSONValue) -> None:
        if errors is None:
            return
        if not isinstance(errors, list):
            raise RemoteProtocolError(f"'errors' must be a list, got {describe(errors)}")
        merged = list(self.result.get("errors") or [])
        merged.extend(cast("list[FormattedError]", errors))
        self.result["errors"] = merged
