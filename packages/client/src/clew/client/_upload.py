"""File uploads: which variable values are files, and the multipart body that carries them.

The field layout (`operations`, `map`, then the files) comes from `clew.protocol.http`'s
`build_multipart_request`; this module only turns each file into an `aiohttp.FormData` part.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import KW_ONLY, dataclass
from pathlib import PurePath
from typing import IO, TypeAlias, TypeGuard, cast, final

import aiohttp

from clew.protocol import JSONObject
from clew.protocol.http import GraphQLRequest, MediaType, build_multipart_request

__all__ = ["FileValue", "Upload", "contains_files", "is_file", "multipart_form"]

#: The header that makes a multipart upload a non-"simple" CORS request, so a browser must
#: send a preflight first; clew's server (like Apollo's) refuses uploads without it (CSRF).
PREFLIGHT_HEADER = "GraphQL-Require-Preflight"

_DEFAULT_FILENAME = "upload"
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


@final
@dataclass(frozen=True, slots=True, eq=False)
class Upload:
    """A file to upload, with the name and media type the server should see.

    `content` may be bytes, an open binary file, or a path (opened only while sending).
    Two `Upload`s are two files even with equal content; pass the same object twice to send
    one file under two variables.
    """

    content: bytes | bytearray | memoryview | IO[bytes] | os.PathLike[str]
    _: KW_ONLY
    filename: str | None = None
    content_type: str | None = None


#: What may stand for a file among the variables.
FileValue: TypeAlias = "Upload | bytes | bytearray | memoryview | IO[bytes] | PurePath"


def is_file(value: object) -> TypeGuard[FileValue]:
    """Whether a variable value is sent as a file part rather than inside the JSON."""
    return isinstance(value, Upload | bytes | bytearray | memoryview | PurePath | io.IOBase)


def contains_files(value: object) -> bool:
    """Whether any file appears in `value`, at any depth of objects and arrays."""
    if value is None:  # no variables (most queries): no ABC checks
        return False
    if is_file(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_files(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_files(item) for item in value)
    return False


def _with_lists(value: object) -> object:
    """Tuples become lists: the multipart paths and the JSON encoder only walk lists and dicts."""
    if is_file(value):
        return value
    if isinstance(value, Mapping):
        return {key: _with_lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_with_lists(item) for item in value]
    return value


def _name_of(source: object) -> str | None:
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return os.path.basename(name)
    if isinstance(source, PurePath | os.PathLike):
        return os.path.basename(os.fspath(source))
    return None


def _part(file: FileValue, files: ExitStack) -> tuple[object, str, str]:
    """The payload, filename and content type for one file; paths are opened on `files`."""
    filename: str | None = None
    content_type: str | None = None
    content: object = file
    if isinstance(file, Upload):
        filename, content_type, content = file.filename, file.content_type, file.content
    if isinstance(content, memoryview | bytearray):
        content = bytes(content)
    if isinstance(content, os.PathLike):
        filename = filename or _name_of(content)
        content = files.enter_context(open(os.fspath(content), "rb"))  # noqa: SIM115
    filename = filename or _name_of(content) or _DEFAULT_FILENAME
    if content_type is None:
        guessed, _ = mimetypes.guess_type(filename)
        content_type = guessed or _DEFAULT_CONTENT_TYPE
    return content, filename, content_type


def multipart_form(request: GraphQLRequest, files: ExitStack) -> aiohttp.FormData:
    """The multipart body for `request`, whose variables hold files; paths open on `files`.

    Parts: `operations` and `map` (JSON), then one part per distinct file, in the order the
    multipart request spec requires so servers can stream.
    """
    variables = cast(JSONObject, _with_lists(request.variables))
    prepared = GraphQLRequest(
        query=request.query,
        operation_name=request.operation_name,
        variables=variables,
        extensions=request.extensions,
    )
    operations, file_map, parts = build_multipart_request(prepared, is_file)
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("operations", operations, content_type=MediaType.JSON.value)
    form.add_field("map", file_map, content_type=MediaType.JSON.value)
    for name, file in parts:
        content, filename, content_type = _part(file, files)
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form
