"""The GraphQL multipart request spec: placing uploads (server) and extracting them (client)."""

from __future__ import annotations

import json
from typing import TypeGuard, cast, final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol._types import JSONObject, JSONValue
from clew.protocol.http import (
    GraphQLRequest,
    RequestError,
    apply_file_map,
    build_multipart_request,
    parse_multipart_request,
)


@final
class Upload:
    """A stand-in for a server's upload object or a client's file handle."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Upload({self.name!r})"


def is_upload(value: object) -> TypeGuard[Upload]:
    return isinstance(value, Upload)


def with_files(variables: dict[str, object]) -> JSONObject:
    """Variables that hold upload objects where JSON would have files (the multipart model)."""
    return cast(JSONObject, variables)


def variables_of(request: object) -> dict[str, object]:
    assert isinstance(request, GraphQLRequest)
    assert request.variables is not None
    return dict(request.variables)


def rejection(
    operations: str, file_map: str, files: dict[str, Upload], max_files: int | None = None
) -> RequestError:
    with pytest.raises(RequestError) as info:
        parse_multipart_request(operations, file_map, files, max_files=max_files)
    return info.value


# --- Server side -----------------------------------------------------------------------------


def test_single_file_upload() -> None:
    file = Upload("a.txt")
    request = parse_multipart_request(
        b'{"query": "mutation($file: Upload!) { upload(file: $file) }",'
        b' "variables": {"file": null}}',
        b'{"0": ["variables.file"]}',
        {"0": file},
    )
    assert isinstance(request, GraphQLRequest)
    assert request.query == "mutation($file: Upload!) { upload(file: $file) }"
    assert variables_of(request)["file"] is file


def test_file_list_upload() -> None:
    files = {"0": Upload("a"), "1": Upload("b")}
    request = parse_multipart_request(
        '{"query": "m", "variables": {"files": [null, null]}}',
        '{"0": ["variables.files.0"], "1": ["variables.files.1"]}',
        files,
    )
    assert variables_of(request) == {"files": [files["0"], files["1"]]}


def test_one_file_may_fill_several_paths() -> None:
    file = Upload("shared")
    request = parse_multipart_request(
        '{"query": "m", "variables": {"a": null, "b": {"c": [null]}}}',
        '{"0": ["variables.a", "variables.b.c.0"]}',
        {"0": file},
    )
    assert variables_of(request) == {"a": file, "b": {"c": [file]}}


def test_batched_operations() -> None:
    files = {"0": Upload("a"), "1": Upload("b"), "2": Upload("c")}
    requests = parse_multipart_request(
        '[{"query": "m1", "variables": {"file": null}},'
        ' {"query": "m2", "variables": {"files": [null, null]}}]',
        '{"0": ["0.variables.file", "1.variables.files.0"], "1": ["1.variables.files.1"]}',
        files,
    )
    assert requests == [
        GraphQLRequest(query="m1", variables=with_files({"file": files["0"]})),
        GraphQLRequest(query="m2", variables=with_files({"files": [files["0"], files["1"]]})),
    ]


def test_numeric_keys_of_objects_are_keys() -> None:
    file = Upload("a")
    request = parse_multipart_request(
        '{"query": "m", "variables": {"0": null}}', '{"f": ["variables.0"]}', {"f": file}
    )
    assert variables_of(request) == {"0": file}


def test_files_not_in_the_map_are_ignored() -> None:
    request = parse_multipart_request('{"query": "{a}"}', "{}", {"stray": Upload("x")})
    assert request == GraphQLRequest(query="{a}")


def test_apply_file_map_takes_decoded_fields() -> None:
    placeholder = Upload("streaming")
    operations: JSONValue = {"query": "m", "variables": {"f": None}}
    request = apply_file_map(operations, {"x": ["variables.f"]}, {"x": placeholder})
    assert request == GraphQLRequest(query="m", variables=with_files({"f": placeholder}))


OPS = '{"query": "m", "variables": {"file": null, "list": [null], "n": 1}}'


@pytest.mark.parametrize(
    ("operations", "file_map", "message"),
    [
        ("{", '{"0": ["variables.file"]}', "The 'operations' multipart field is not valid JSON"),
        (OPS, "nope", "The 'map' multipart field is not valid JSON"),
        (
            '"op"',
            '{"0": ["variables.file"]}',
            "The 'operations' multipart field must be a JSON object or array, got string",
        ),
        (OPS, '["variables.file"]', "The 'map' multipart field must be a JSON object, got array"),
        (
            OPS,
            '{"0": "variables.file"}',
            "The 'map' entry for file '0' must be a non-empty array of path strings",
        ),
        (OPS, '{"0": []}', "The 'map' entry for file '0' must be a non-empty array"),
        (OPS, '{"0": [1]}', "The 'map' entry for file '0' must be a non-empty array"),
        (
            OPS,
            '{"missing": ["variables.file"]}',
            "File 'missing' is named in 'map' but was not uploaded",
        ),
        (OPS, '{"0": ["query"]}', "File path 'query' must point inside 'variables'"),
        (OPS, '{"0": ["variables"]}', "File path 'variables' must point inside 'variables'"),
        (
            OPS,
            '{"0": ["extensions.file"]}',
            "File path 'extensions.file' must point inside 'variables'",
        ),
        (
            OPS,
            '{"0": ["variables.nope"]}',
            "File path 'variables.nope' does not exist in 'operations'",
        ),
        (OPS, '{"0": ["variables.list.1"]}', "File path 'variables.list.1' does not exist"),
        (OPS, '{"0": ["variables.list.x"]}', "File path 'variables.list.x' does not exist"),
        (OPS, '{"0": ["variables.list.-1"]}', "File path 'variables.list.-1' does not exist"),
        (OPS, '{"0": ["variables.list.²"]}', "File path 'variables.list.²' does not exist"),
        (OPS, '{"0": ["variables.n.x"]}', "File path 'variables.n.x' does not exist"),
        (OPS, '{"0": ["variables.n"]}', "File path 'variables.n' must hold null in 'operations'"),
        (
            OPS,
            '{"0": ["variables.file", "variables.file"]}',
            "File path 'variables.file' must hold null",
        ),
        (
            '{"query": "m"}',
            '{"0": ["variables.file"]}',
            "File path 'variables.file' does not exist",
        ),
        (
            '[{"query": "m", "variables": {"f": null}}]',
            '{"0": ["variables.f"]}',
            "File path 'variables.f' must point inside '<index>.variables'",
        ),
        (
            '[{"query": "m", "variables": {"f": null}}]',
            '{"0": ["1.variables.f"]}',
            "File path '1.variables.f' does not exist",
        ),
        (
            '[{"query": "m", "variables": {"f": null}}]',
            '{"0": ["0.extensions.f"]}',
            "File path '0.extensions.f' must point inside '<index>.variables'",
        ),
        (
            '{"variables": {"f": null}}',
            '{"0": ["variables.f"]}',
            "The 'query' parameter is required",
        ),
        (
            '{"query": "m", "variables": [null]}',
            '{"0": ["variables.0"]}',
            "The 'variables' parameter must be a JSON object, got array",
        ),
        ("[]", "{}", "The 'operations' field must not be an empty array"),
        ('[{"query": 1}]', "{}", "Operation 0: The 'query' parameter must be a string"),
    ],
)
def test_invalid_multipart_requests_are_400(operations: str, file_map: str, message: str) -> None:
    error = rejection(operations, file_map, {"0": Upload("a")})
    assert error.status_code == 400
    assert error.message.startswith(message), error.message


def test_too_many_files_is_413() -> None:
    files = {str(n): Upload(str(n)) for n in range(3)}
    file_map = '{"0": ["variables.a"], "1": ["variables.b"], "2": ["variables.c"]}'
    operations = '{"query": "m", "variables": {"a": null, "b": null, "c": null}}'
    error = rejection(operations, file_map, files, max_files=2)
    assert (error.status_code, error.message) == (413, "Too many files: 3 uploaded, at most 2")
    request = parse_multipart_request(operations, file_map, files, max_files=3)
    assert variables_of(request) == {"a": files["0"], "b": files["1"], "c": files["2"]}


# --- Client side -----------------------------------------------------------------------------


def test_build_extracts_files_and_deduplicates_by_identity() -> None:
    shared, other = Upload("shared"), Upload("other")
    request = GraphQLRequest(
        query="m",
        operation_name="M",
        variables=with_files({"a": shared, "list": [other, shared, 1], "deep": {"x": {"y": None}}}),
    )
    operations, file_map, parts = build_multipart_request(request, is_upload)
    assert json.loads(operations) == {
        "query": "m",
        "operationName": "M",
        "variables": {"a": None, "list": [None, None, 1], "deep": {"x": {"y": None}}},
    }
    assert json.loads(file_map) == {
        "0": ["variables.a", "variables.list.1"],
        "1": ["variables.list.0"],
    }
    assert parts == [("0", shared), ("1", other)]
    # The request itself is left alone.
    assert variables_of(request)["a"] is shared


def test_build_without_files() -> None:
    operations, file_map, parts = build_multipart_request(GraphQLRequest(query="{a}"), is_upload)
    assert (json.loads(operations), json.loads(file_map), parts) == ({"query": "{a}"}, {}, [])


def test_build_batch_prefixes_paths_with_the_index() -> None:
    file = Upload("a")
    batch = [
        GraphQLRequest(query="q"),
        GraphQLRequest(query="m", variables=with_files({"f": file})),
    ]
    operations, file_map, parts = build_multipart_request(batch, is_upload)
    assert json.loads(operations) == [{"query": "q"}, {"query": "m", "variables": {"f": None}}]
    assert json.loads(file_map) == {"0": ["1.variables.f"]}
    assert parts == [("0", file)]


def test_build_refuses_files_under_keys_with_dots() -> None:
    request = GraphQLRequest(query="m", variables=with_files({"a.b": {"c": [Upload("x")]}}))
    with pytest.raises(ValueError, match=r"A file under key 'a\.b' cannot be addressed"):
        build_multipart_request(request, is_upload)


def test_build_allows_dotted_keys_without_files() -> None:
    request = GraphQLRequest(
        query="m", variables=with_files({"a.b": [1, {"c": None}], "f": Upload("x")})
    )
    operations, file_map, _ = build_multipart_request(request, is_upload)
    assert json.loads(operations)["variables"] == {"a.b": [1, {"c": None}], "f": None}
    assert json.loads(file_map) == {"0": ["variables.f"]}


# --- Round trip ------------------------------------------------------------------------------

keys = st.text(st.characters(blacklist_characters="."), max_size=5)
leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5)


@st.composite
def variables_with_files(draw: st.DrawFn) -> dict[str, object]:
    pool = [Upload(str(n)) for n in range(draw(st.integers(1, 3)))]
    values = st.recursive(
        leaves | st.sampled_from(pool),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3)
        ),
        max_leaves=10,
    )
    return draw(st.dictionaries(keys, values, max_size=4))


@given(st.lists(variables_with_files(), min_size=1, max_size=3), st.booleans())
def test_multipart_build_parse_round_trip(
    all_variables: list[dict[str, object]], batch: bool
) -> None:
    requests = [
        GraphQLRequest(query=f"m{n}", variables=with_files(variables))
        for n, variables in enumerate(all_variables)
    ]
    sent: GraphQLRequest | list[GraphQLRequest] = requests if batch else requests[0]
    operations, file_map, parts = build_multipart_request(sent, is_upload)
    assert len({id(file) for _, file in parts}) == len(parts)
    received = parse_multipart_request(operations, file_map, dict(parts))
    assert received == sent
