"""Reading a multipart/form-data body under clew's limits, each refusal a typed `RequestError`.

A limit overrun is a 413 and a malformed body a 400. Starlette's form parser reports both as one
exception class told apart only by its English wording, so the parts are read here, on the
python-multipart parser that Starlette itself builds on, and every refusal is decided where the
limit is checked.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import Final, final

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile

from clew.protocol.http import GraphQLRequest, RequestError, parse_multipart_request

from ._http_io import stream_body
from ._limits import Limits
from ._types import Receive, Scope

__all__ = ["FormLimits", "multipart_graphql_request", "read_form", "read_request_form"]

#: File contents stay in memory up to this size, then move to a temporary file.
_SPOOL_MAX_SIZE: Final = 1024 * 1024


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FormLimits:
    """How much one multipart body may carry."""

    max_files: int
    max_fields: int
    max_field_bytes: int
    max_file_bytes: int


@dataclass(slots=True)
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)
    file: UploadFile | None = None
    size: int = 0


@final
class _FormReader:
    """The python-multipart callbacks: each part's headers, then its data, within the limits."""

    def __init__(self, limits: FormLimits, charset: str) -> None:
        self.limits = limits
        self.charset = charset
        self.items: list[tuple[str, str | UploadFile]] = []
        self.files: list[UploadFile] = []
        #: File data waiting to be written: UploadFile writes are awaited, callbacks are not.
        self.pending: list[tuple[UploadFile, bytes]] = []
        self.part = _Part()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.fields = 0

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers.append((bytes(self.header_name).lower(), bytes(self.header_value)))
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition = next((v for k, v in self.part.headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name")
        if name is None:
            raise RequestError(400, "Invalid multipart request: a part has no field name")
        self.part.name = self._decode(name)
        filename = options.get(b"filename")
        if filename is None:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                limit = self.limits.max_fields
                raise RequestError(413, f"Too many form fields: at most {limit}")
            return
        if len(self.files) >= self.limits.max_files:
            raise RequestError(413, f"Too many files: at most {self.limits.max_files}")
        # The file outlives this call: the form closes it once the request is answered.
        spool = SpooledTemporaryFile(max_size=_SPOOL_MAX_SIZE)  # noqa: SIM115
        upload = UploadFile(
            file=spool,  # type: ignore[arg-type]
            size=0,
            filename=self._decode(filename),
            headers=Headers(raw=self.part.headers),
        )
        self.part.file = upload
        self.files.append(upload)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.size += end - start
        if part.file is None:
            if part.size > self.limits.max_field_bytes:
                limit = self.limits.max_field_bytes
                raise RequestError(413, f"The form field {part.name!r} exceeds {limit} bytes")
            part.data += data[start:end]
            return
        if part.size > self.limits.max_file_bytes:
            limit = self.limits.max_file_bytes
            message = f"The file {part.file.filename!r} exceeds the limit of {limit} bytes"
            raise RequestError(413, message)
        self.pending.append((part.file, data[start:end]))

    def on_part_end(self) -> None:
        part = self.part
        value = part.file if part.file is not None else self._decode(part.data)
        self.items.append((part.name, value))

    def _decode(self, raw: bytes | bytearray) -> str:
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError:
            return raw.decode("latin-1")


async def read_form(headers: Headers, body: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    """The fields and files of a multipart body; files are rewound, ready to read."""
    _, params = parse_options_header(headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise RequestError(400, "Invalid multipart request: the Content-Type has no boundary")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset).name
    except LookupError:
        charset = "latin-1"
    reader = _FormReader(limits, charset)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
        },
    )
    try:
        async for chunk in body:
            parser.write(chunk)
            for upload, data in reader.pending:
                await upload.write(data)
            reader.pending.clear()
        parser.finalize()
        for upload in reader.files:
            await upload.seek(0)
    except BaseException as error:
        for upload in reader.files:
            await upload.close()
        if isinstance(error, FormParserError):
            raise RequestError(400, "Invalid multipart request: the body is malformed") from None
        raise
    return FormData(reader.items)


async def read_request_form(scope: Scope, receive: Receive, limits: Limits) -> FormData:
    """The multipart body of an HTTP request (ASGI `scope`), read under the app's `limits`."""
    # Files are spooled by the reader; the stream as a whole may carry every allowed file.
    budget = limits.max_body_bytes + limits.max_files * limits.max_upload_bytes
    form_limits = FormLimits(
        max_files=limits.max_files,
        max_fields=limits.max_files + 2,
        max_field_bytes=limits.max_body_bytes,
        max_file_bytes=limits.max_upload_bytes,
    )
    return await read_form(Headers(scope=scope), stream_body(receive, budget), form_limits)


def multipart_graphql_request(form: FormData, max_files: int) -> GraphQLRequest:
    """The GraphQL multipart request a form carries, its files placed in the variables."""
    operations, file_map = form.get("operations"), form.get("map")
    if not isinstance(operations, str) or not isinstance(file_map, str):
        raise RequestError(400, "A multipart request needs the 'operations' and 'map' fields first")
    files = {key: value for key, value in form.multi_items() if isinstance(value, UploadFile)}
    parsed = parse_multipart_request(operations, file_map, files, max_files=max_files)
    if isinstance(parsed, list):
        raise RequestError(400, "Batched multipart requests are not supported")
    return parsed
