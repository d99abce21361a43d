"""File uploads per the GraphQL multipart request spec (jaydenseric/graphql-multipart-request-spec).

A `multipart/form-data` body carries an `operations` field (one request or an array, with every
file replaced by null), a `map` field (file field name -> object paths such as
``variables.file`` or ``1.variables.files.0``), then the files. This module is generic over the
file type `F`: the server passes its upload objects in, the client gets its own objects back.
It only reads and writes the two JSON fields; the form-data framing belongs to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeGuard, TypeVar, cast

from clew.protocol._codec import JSONDecodeFailure, describe, dumps, loads_value
from clew.protocol._types import JSONObject, JSONValue

from ._errors import RequestError
from ._request import GraphQLRequest, parse_request_value

__all__ = ["apply_file_map", "build_multipart_request", "parse_multipart_request"]

F = TypeVar("F")


def _decode(data: str | bytes, field: str) -> JSONValue:
    try:
        return loads_value(data, f"The {field!r} multipart field")
    except JSONDecodeFailure as exc:
        raise RequestError(400, str(exc)) from None


def _check_map(file_map: JSONValue, max_files: int | None) -> dict[str, list[str]]:
    if not isinstance(file_map, dict):
        raise RequestError(
            400, f"The 'map' multipart field must be a JSON object, got {describe(file_map)}"
        )
    if max_files is not None and len(file_map) > max_files:
        raise RequestError(413, f"Too many files: {len(file_map)} uploaded, at most {max_files}")
    checked: dict[str, list[str]] = {}
    for name, paths in file_map.items():
        if not (isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths)):
            raise RequestError(
                400, f"The 'map' entry for file {name!r} must be a non-empty array of path strings"
            )
        checked[name] = cast("list[str]", paths)
    return checked


def _child(node: object, key: str, path: str) -> object:
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and key.isascii() and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    raise RequestError(400, f"File path {path!r} does not exist in 'operations'")


def _place(operations: JSONValue, path: str, file: object, *, batched: bool) -> None:
    """Replace the null at `path` inside `operations` by `file`, or explain why it cannot."""
    *keys, last = path.split(".")
    prefix = 2 if batched else 1
    if len(keys) < prefix or keys[prefix - 1] != "variables":
        where = "<index>.variables" if batched else "variables"
        raise RequestError(400, f"File path {path!r} must point inside {where!r}")
    parent: object = operations
    for key in keys:
        parent = _child(parent, key, path)
    if _child(parent, last, path) is not None:
        raise RequestError(400, f"File path {path!r} must hold null in 'operations'")
    if isinstance(parent, dict):
        parent[last] = file
    else:
        cast("list[object]", parent)[int(last)] = file


def apply_file_map(
    operations: JSONValue,
    file_map: JSONValue,
    files: Mapping[str, F],
    *,
    max_files: int | None = None,
) -> GraphQLRequest | list[GraphQLRequest]:
    """Put `files` into already-decoded `operations` as `file_map` says, and validate the result.

    For servers that decode the fields themselves, or that stream: `files` may hold
    placeholders for uploads still arriving. `operations` is updated in place. A file may
    fill several paths; paths must lie inside an operation's `variables` and hold null; a
    map entry naming a file that is not in `files` is refused (400); files not named in the map
    are ignored. More than `max_files` map entries is 413.
    """
    if not isinstance(operations, dict | list):
        raise RequestError(
            400,
            "The 'operations' multipart field must be a JSON object or array, "
            f"got {describe(operations)}",
        )
    for name, paths in _check_map(file_map, max_files).items():
        if name not in files:
            raise RequestError(400, f"File {name!r} is named in 'map' but was not uploaded")
        for path in paths:
            _place(operations, path, files[name], batched=isinstance(operations, list))
    return parse_request_value(operations, allow_batch=True, what="The 'operations' field")


def parse_multipart_request(
    operations: str | bytes,
    file_map: str | bytes,
    files: Mapping[str, F],
    *,
    max_files: int | None = None,
) -> GraphQLRequest | list[GraphQLRequest]:
    """Decode the `operations` and `map` fields and place `files` (see `apply_file_map`).

    The variables of the returned requests hold the `F` objects where the client had files.
    """
    decoded_operations = _decode(operations, "operations")
    decoded_map = _decode(file_map, "map")
    return apply_file_map(decoded_operations, decoded_map, files, max_files=max_files)


def _extract(
    value: object,
    path: str,
    is_file: Callable[[object], TypeGuard[F]],
    found: dict[int, tuple[F, list[str]]],
) -> JSONValue:
    """A copy of `value` with files replaced by null; `found` maps file identity to its paths."""
    if is_file(value):
        found.setdefault(id(value), (value, []))[1].append(path)
        return None
    if isinstance(value, dict):
        copy: JSONObject = {}
        for key, item in value.items():
            if "." in key and _contains_file(item, is_file):
                raise ValueError(f"A file under key {key!r} cannot be addressed: it contains '.'")
            copy[key] = _extract(item, f"{path}.{key}", is_file, found)
        return copy
    if isinstance(value, list):
        return [
            _extract(item, f"{path}.{index}", is_file, found) for index, item in enumerate(value)
        ]
    return cast(JSONValue, value)


def _contains_file(value: object, is_file: Callable[[object], bool]) -> bool:
    if is_file(value):
        return True
    if isinstance(value, dict):
        return any(_contains_file(item, is_file) for item in value.values())
    if isinstance(value, list):
        return any(_contains_file(item, is_file) for item in value)
    return False


def build_multipart_request(
    request: GraphQLRequest | Sequence[GraphQLRequest],
    is_file: Callable[[object], TypeGuard[F]],
) -> tuple[str, str, list[tuple[str, F]]]:
    """The `operations` and `map` field texts and the ``(field name, file)`` parts to send.

    Values in the variables for which `is_file` is true (at any depth in objects and arrays)
    become null in `operations`; the same object used twice is sent once, under several paths.
    File fields are named ``"0"``, ``"1"``, ... in order of first appearance. A sequence of
    requests is sent as a batch. Requests are not modified.
    """
    batch = not isinstance(request, GraphQLRequest)
    requests = list(request) if not isinstance(request, GraphQLRequest) else [request]
    found: dict[int, tuple[F, list[str]]] = {}
    bodies: list[JSONValue] = []
    for index, item in enumerate(requests):
        body = item.to_json_body()
        if item.variables is not None:
            prefix = f"{index}.variables" if batch else "variables"
            body["variables"] = _extract(item.variables, prefix, is_file, found)
        bodies.append(body)
    file_map: JSONObject = {}
    parts: list[tuple[str, F]] = []
    for number, (file, paths) in enumerate(found.values()):
        file_map[str(number)] = list[JSONValue](paths)
        parts.append((str(number), file))
    operations = dumps(bodies) if batch else dumps(bodies[0])
    return operations, dumps(file_map), parts
