"""Reading multipart bodies: fields and files, and a typed refusal (413 or 400) for each limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import pytest
from starlette.datastructures import Headers, UploadFile

from clew.protocol.http import RequestError
from clew.server._form import FormLimits, read_form

BOUNDARY = "b0undary"
HEADERS = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
LIMITS = FormLimits(max_files=2, max_fields=3, max_field_bytes=32, max_file_bytes=16)


def body(*parts: tuple[str, bytes]) -> bytes:
    """A multipart body; each part is (its header lines, its content)."""
    out = b""
    for headers, content in parts:
        out += f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def field(name: str, value: bytes) -> tuple[str, bytes]:
    return f'Content-Disposition: form-data; name="{name}"', value


def file(name: str, filename: str, content: bytes) -> tuple[str, bytes]:
    disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
    return f"{disposition}\r\nContent-Type: text/plain", content


async def chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def refusal(data: bytes, headers: Headers = HEADERS) -> tuple[int, str]:
    with pytest.raises(RequestError) as caught:
        await read_form(headers, chunks(data), LIMITS)
    return caught.value.status_code, caught.value.message


async def test_fields_and_files_arrive_in_order_with_files_rewound() -> None:
    data = body(field("operations", b"{}"), file("0", "a.txt", b"alpha"), field("map", b"[]"))
    form = await read_form(HEADERS, chunks(data), LIMITS)
    assert [key for key, _ in form.multi_items()] == ["operations", "0", "map"]
    assert form["operations"] == "{}"
    upload = form["0"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.content_type, await upload.read()) == (
        "a.txt",
        "text/plain",
        b"alpha",
    )
    await form.close()


async def test_a_charset_that_does_not_exist_reads_fields_as_latin_1() -> None:
    headers = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}; charset=nope"})
    form = await read_form(headers, chunks(body(field("f", "é".encode("latin-1")))), LIMITS)
    assert form["f"] == "é"


async def test_a_field_that_is_not_utf_8_is_read_as_latin_1() -> None:
    form = await read_form(HEADERS, chunks(body(field("f", b"\xe9"))), LIMITS)
    assert form["f"] == "é"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            [file("0", "a", b"1"), file("1", "b", b"2"), file("2", "c", b"3")],
            (413, "Too many files: at most 2"),
        ),
        (
            [field("a", b""), field("b", b""), field("c", b""), field("d", b"")],
            (413, "Too many form fields: at most 3"),
        ),
        ([field("big", b"x" * 33)], (413, "The form field 'big' exceeds 32 bytes")),
        (
            [file("0", "a.txt", b"y" * 17)],
            (413, "The file 'a.txt' exceeds the limit of 16 bytes"),
        ),
        (
            [("Content-Disposition: form-data", b"x")],
            (400, "Invalid multipart request: a part has no field name"),
        ),
    ],
    ids=["files", "fields", "field-size", "file-size", "no-name"],
)
async def test_each_limit_and_rule_is_a_typed_refusal(
    parts: Iterable[tuple[str, bytes]], expected: tuple[int, str]
) -> None:
    assert await refusal(body(*parts)) == expected


async def test_a_content_type_without_a_boundary_is_400() -> None:
    headers = Headers({"content-type": "multipart/form-data"})
    assert await refusal(b"", headers) == (
        400,
        "Invalid multipart request: the Content-Type has no boundary",
    )


async def test_a_malformed_body_is_400() -> None:
    data = f"--{BOUNDARY}\r\nno-colon-header-line\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode()
    assert await refusal(data) == (400, "Invalid multipart request: the body is malformed")


async def test_files_already_opened_are_closed_when_the_body_is_refused() -> None:
    opened: list[UploadFile] = []
    original = UploadFile.close

    async def close(self: UploadFile) -> None:
        opened.append(self)
        await original(self)

    data = body(file("0", "a", b"1"), file("1", "b", b"2"), file("2", "c", b"3"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UploadFile, "close", close)
        assert (await refusal(data))[0] == 413
    assert [upload.filename for upload in opened] == ["a", "b"]
