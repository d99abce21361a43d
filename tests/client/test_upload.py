"""File uploads by the multipart request spec: every accepted file form, lists, deduplication."""

from __future__ import annotations

import io
from pathlib import Path

from clew.client import AIOHTTPClient, Upload
from clew.client._upload import contains_files, is_file

from .endpoint import SDL, Server

INFO = ["filename", "contentType", "size", "text"]


async def test_single_bytes_upload(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.mutation.upload(file=b"hello", _fields=INFO)
    assert result.errors is None
    assert result.data == {
        "upload": {
            "filename": "upload",
            "contentType": "application/octet-stream",
            "size": 5,
            "text": "hello",
        }
    }
    (request,) = server.endpoint.requests
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.headers["GraphQL-Require-Preflight"] == "1"  # passes CSRF protection
    assert request.field_order == ["operations", "map", "0"]  # the spec's order
    assert request.file_map == {"0": ["variables.file"]}
    assert request.payload is not None
    assert request.payload["query"] == (
        "mutation upload($file: Upload!) { upload(file: $file) { filename contentType size text } }"
    )


async def test_upload_helper_sets_name_and_type(server: Server) -> None:
    upload = Upload(b"a,b\n1,2\n", filename="table.csv", content_type="text/csv")
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.mutation.upload(file=upload, _fields=["filename", "contentType"])
    assert result.data == {"upload": {"filename": "table.csv", "contentType": "text/csv"}}


async def test_path_and_open_file_uploads(server: Server, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"from a path")
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        by_path = await client.mutation.upload(file=notes, _fields=INFO)
        with notes.open("rb") as handle:
            by_handle = await client.mutation.upload(file=handle, _fields=["filename", "text"])
        in_memory = await client.mutation.upload(
            file=Upload(io.BytesIO(b"memory"), filename="m.bin"), _fields=["filename", "text"]
        )
    assert by_path.data == {
        "upload": {
            "filename": "notes.txt",
            "contentType": "text/plain",
            "size": 11,
            "text": "from a path",
        }
    }
    assert by_handle.data == {"upload": {"filename": "notes.txt", "text": "from a path"}}
    assert in_memory.data == {"upload": {"filename": "m.bin", "text": "memory"}}


async def test_list_of_files(server: Server) -> None:
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.mutation.uploadMany(
            files=(b"one", Upload(b"two", filename="2.txt")), _fields=["filename", "text"]
        )
    assert result.data == {
        "uploadMany": [
            {"filename": "upload", "text": "one"},
            {"filename": "2.txt", "text": "two"},
        ]
    }
    (request,) = server.endpoint.requests
    assert request.file_map == {"0": ["variables.files.0"], "1": ["variables.files.1"]}
    assert request.file_parts == ["0", "1"]


async def test_same_file_twice_is_sent_once(server: Server) -> None:
    shared = Upload(b"shared bytes", filename="s.txt")
    async with AIOHTTPClient(server.url, schema=SDL) as client:
        result = await client.mutation.uploadPair(first=shared, second=shared, _fields=["text"])
    assert result.data == {"uploadPair": [{"text": "shared bytes"}, {"text": "shared bytes"}]}
    (request,) = server.endpoint.requests
    assert request.file_parts == ["0"]
    assert request.file_map == {"0": ["variables.first", "variables.second"]}


async def test_execute_with_files_and_get_still_posts(server: Server) -> None:
    async with AIOHTTPClient(server.url, use_get_for_queries=True) as client:
        result = await client.execute(
            "mutation($f: Upload!) { upload(file: $f) { size } }", {"f": bytearray(b"xyz")}
        )
        plain = await client.execute("{ hello }")
    assert result.data == {"upload": {"size": 3}}
    assert plain.data == {"hello": "Hello, world!"}
    upload, query = server.endpoint.requests
    assert upload.method == "POST"
    assert query.method == "GET"
    assert "GraphQL-Require-Preflight" not in query.headers  # only uploads need it


def test_what_counts_as_a_file(tmp_path: Path) -> None:
    assert is_file(b"x")
    assert is_file(memoryview(b"x"))
    assert is_file(tmp_path)
    assert is_file(io.BytesIO())
    assert is_file(Upload(b""))
    assert not is_file("a string is text, not a file")
    assert contains_files({"input": {"attachments": [None, b"x"]}})
    assert not contains_files({"input": {"title": "x", "tags": ["a"]}})
