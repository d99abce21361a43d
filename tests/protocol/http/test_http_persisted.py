"""Persisted documents and batching: the APQ extension, Apollo's errors, hashes, batch shapes."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol.http import (
    APOLLO_MANIFEST_FORMAT,
    PERSISTED_QUERY_CACHE_CONTROL,
    GraphQLRequest,
    ManifestOperation,
    PersistedQuery,
    PersistedQueryError,
    RequestError,
    ResponseFormatError,
    apollo_manifest,
    document_id_hash,
    documents_by_id,
    parse_batch_response,
    parse_json_body,
    parse_manifest,
    parse_request_value,
    sha256_hash,
)

TYPENAME_HASH = "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"


def rejection(call: Callable[[], object]) -> RequestError:
    with pytest.raises(RequestError) as info:
        call()
    return info.value


def test_hash_matches_apollo_test_vector() -> None:
    assert sha256_hash("{__typename}") == TYPENAME_HASH


@pytest.mark.parametrize(
    ("text", "document_id"),
    [
        (
            "query ($id: ID!) {\n  user(id: $id) {\n    name\n  }\n}",
            "sha256:7dba4bd717b41f10434822356a93c32b1fb4907b983e854300ad839f84cdcd6e",
        ),
        (
            "query($id:ID!){user(id:$id){name}}",
            "sha256:71f7dc5758652baac68e4a10c50be732b741c892ade2883a99358f52b555286b",
        ),
    ],
)
def test_hash_matches_persisted_documents_appendix_vectors(text: str, document_id: str) -> None:
    assert f"sha256:{sha256_hash(text)}" == document_id
    assert document_id_hash(document_id) == sha256_hash(text)


def test_document_ids_bare_hex_and_custom() -> None:
    assert document_id_hash(TYPENAME_HASH) == TYPENAME_HASH
    assert document_id_hash("x-custom:abc") is None
    assert document_id_hash("sha256:" + TYPENAME_HASH.upper()) is None
    assert document_id_hash("abc123") is None


def test_extension_round_trip() -> None:
    persisted = PersistedQuery.for_query("{__typename}")
    extension = persisted.to_extension()
    assert extension == {"version": 1, "sha256Hash": TYPENAME_HASH}
    assert PersistedQuery.from_extensions({"persistedQuery": extension}) == persisted


def test_absent_extension_is_none() -> None:
    assert PersistedQuery.from_extensions(None) is None
    assert PersistedQuery.from_extensions({}) is None
    assert PersistedQuery.from_extensions({"persistedQuery": None}) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "The 'persistedQuery' extension must be an object, got array"),
        ({"version": 2, "sha256Hash": TYPENAME_HASH}, "Unsupported persisted query version"),
        ({"version": True, "sha256Hash": TYPENAME_HASH}, "Unsupported persisted query version"),
        ({"sha256Hash": TYPENAME_HASH}, "Unsupported persisted query version"),
        ({"version": 1}, "The persisted query's 'sha256Hash' must be a string, got null"),
        (
            {"version": 1, "sha256Hash": "abc"},
            "The persisted query's 'sha256Hash' must be 64 lowercase hexadecimal digits",
        ),
        (
            {"version": 1, "sha256Hash": TYPENAME_HASH.upper()},
            "The persisted query's 'sha256Hash' must be 64 lowercase hexadecimal digits",
        ),
    ],
)
def test_malformed_extensions_are_400(value: object, message: str) -> None:
    error = rejection(lambda: PersistedQuery.from_extensions({"persistedQuery": value}))  # type: ignore[dict-item]
    assert (error.status_code, error.message) == (400, message)


def test_constructing_another_version_is_refused() -> None:
    error = rejection(lambda: PersistedQuery(sha256_hash=TYPENAME_HASH, version=2))
    assert error.message == "Unsupported persisted query version"


def test_verify_compares_exact_hash() -> None:
    PersistedQuery.for_query("{__typename}").verify("{__typename}")
    error = rejection(lambda: PersistedQuery.for_query("{__typename}").verify("{ __typename }"))
    assert (error.status_code, error.message) == (400, "provided sha does not match query")


def test_errors_are_exactly_apollos() -> None:
    assert PersistedQueryError.NOT_FOUND.result == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert PersistedQueryError.NOT_SUPPORTED.result == {
        "errors": [
            {
                "message": "PersistedQueryNotSupported",
                "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
            }
        ]
    }
    assert PersistedQueryError.NOT_FOUND.headers == {"Cache-Control": PERSISTED_QUERY_CACHE_CONTROL}
    assert PERSISTED_QUERY_CACHE_CONTROL == "private, no-cache, must-revalidate"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (PersistedQueryError.NOT_FOUND.result, PersistedQueryError.NOT_FOUND),
        (PersistedQueryError.NOT_SUPPORTED.result, PersistedQueryError.NOT_SUPPORTED),
        ({"errors": [{"message": "PersistedQueryNotFound"}]}, PersistedQueryError.NOT_FOUND),
        (
            {"errors": [{"message": "x", "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}}]},
            PersistedQueryError.NOT_SUPPORTED,
        ),
        ({"errors": ["junk", {"message": "other"}]}, None),
        ({"errors": [{"message": "x", "extensions": []}]}, None),
        ({"errors": "PersistedQueryNotFound"}, None),
        ({"data": {"a": 1}}, None),
    ],
)
def test_errors_are_recognised_by_message_or_code(
    result: dict[str, object], expected: PersistedQueryError | None
) -> None:
    assert PersistedQueryError.in_result(result) is expected


def test_request_may_omit_query_when_it_names_a_persisted_query() -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": TYPENAME_HASH}}
    request = GraphQLRequest.from_mapping({"extensions": extensions})
    assert request.query is None
    assert request.persisted_query == PersistedQuery(sha256_hash=TYPENAME_HASH)
    assert request.to_json_body() == {"extensions": extensions}
    params = request.to_query_params()
    assert "query" not in params
    assert GraphQLRequest.from_query_params(params) == request


def test_request_without_query_or_extension_is_400() -> None:
    error = rejection(lambda: GraphQLRequest.from_mapping({"extensions": {"other": 1}}))
    assert (error.status_code, error.message) == (400, "The 'query' parameter is required")


def test_request_with_bad_extension_and_no_query_is_400() -> None:
    body = {"extensions": {"persistedQuery": {"version": 3, "sha256Hash": TYPENAME_HASH}}}
    error = rejection(lambda: GraphQLRequest.from_mapping(body))
    assert error.message == "Unsupported persisted query version"


def test_batch_limit_refuses_before_anything() -> None:
    body = [{"query": "{a}"}] * 3
    assert len(parse_request_value(body, allow_batch=True, max_batch_size=3)) == 3  # type: ignore[arg-type]
    error = rejection(
        lambda: parse_json_body(
            b'[{"query":"{a}"},{"query":"{b}"}]', allow_batch=True, max_batch_size=1
        )
    )
    assert (error.status_code, error.message) == (
        400,
        "The batch holds 2 operations; this endpoint takes at most 1 per request",
    )


def test_batch_response_in_order() -> None:
    responses = parse_batch_response(b'[{"data":{"a":1}},{"errors":[{"message":"no"}]}]', 2)
    assert [r.to_result() for r in responses] == [
        {"data": {"a": 1}},
        {"errors": [{"message": "no"}]},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[", "Response is not valid JSON"),
        (b'{"data":{}}', "A batch response must be a JSON array, got object"),
        (b'[{"data":{}}]', "server returned results with length 1, expected length of 2"),
        (b'[{"data":{}}, 3]', "Batch response 1: Response must be a JSON object, got number"),
    ],
)
def test_malformed_batch_responses(body: bytes, message: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        parse_batch_response(body, 2)
    assert str(info.value).startswith(message)


def test_apollo_manifest_round_trip() -> None:
    operations = [
        ManifestOperation(name="A", type="query", body="query A { a }"),
        ManifestOperation(name="M", type="mutation", body="mutation M { m }"),
    ]
    manifest = apollo_manifest(operations)
    assert manifest == {
        "format": APOLLO_MANIFEST_FORMAT,
        "version": 1,
        "operations": [
            {
                "id": sha256_hash("query A { a }"),
                "name": "A",
                "type": "query",
                "body": "query A { a }",
            },
            {
                "id": sha256_hash("mutation M { m }"),
                "name": "M",
                "type": "mutation",
                "body": "mutation M { m }",
            },
        ],
    }
    assert parse_manifest(manifest) == {op.id: op.body for op in operations}


def test_flat_manifest_ids_are_normalised_and_custom_ids_kept() -> None:
    body = "{__typename}"
    assert parse_manifest({f"sha256:{TYPENAME_HASH}": body, "x-mine": "{a}"}) == {
        TYPENAME_HASH: body,
        "x-mine": "{a}",
    }
    assert parse_manifest({TYPENAME_HASH: body}) == {TYPENAME_HASH: body}


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([], "A manifest must be a JSON object, got array"),
        ({"k": 1}, "Manifest entry 'k' must be a document string"),
        ({TYPENAME_HASH: "{other}"}, "is not the SHA-256 hash of its document"),
        ({"format": "other", "version": 1}, "Unsupported manifest format 'other' version 1"),
        ({"format": APOLLO_MANIFEST_FORMAT, "version": 2}, "Unsupported manifest format"),
        ({"format": APOLLO_MANIFEST_FORMAT, "version": 1}, "needs an 'operations' array"),
        (
            {"format": APOLLO_MANIFEST_FORMAT, "version": 1, "operations": [1]},
            "Manifest operation 0 must be an object",
        ),
        (
            {"format": APOLLO_MANIFEST_FORMAT, "version": 1, "operations": [{"id": "x"}]},
            "Manifest operation 0 needs string 'id' and 'body'",
        ),
    ],
)
def test_bad_manifests_say_why(manifest: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_manifest(manifest)


# -- documentId (the GraphQL-over-HTTP persisted-documents appendix) -----------------------

#: The appendix's DocumentIdentifier grammar, written out as a regular expression.
APPENDIX_SYNTAX = re.compile(
    r"sha256:[0-9a-f]{64}|x-[A-Za-z0-9._~-]+:[A-Za-z0-9._~-]+|[A-Za-z0-9._~-]+", re.ASCII
)
id_characters = st.sampled_from(
    [*string.ascii_letters, *string.digits, *"-._~", ":", "x", "-", "sha256:", "/", " ", "é"]
)


@given(st.lists(id_characters, max_size=12).map("".join) | st.just(f"sha256:{TYPENAME_HASH}"))
def test_a_document_id_is_accepted_exactly_when_the_appendix_grammar_matches(value: str) -> None:
    if APPENDIX_SYNTAX.fullmatch(value):
        assert GraphQLRequest.from_mapping({"documentId": value}).document_id == value
    else:
        assert (
            rejection(lambda: GraphQLRequest.from_mapping({"documentId": value})).status_code == 400
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must be a document identifier"),
        ("a b", "must be a document identifier"),
        ("sha256:" + TYPENAME_HASH.upper(), "64 lowercase hexadecimal digits"),
        ("sha256:abc", "64 lowercase hexadecimal digits"),
        ("md5:0cc175b9c0f1b6a831c399e269772661", "Unsupported document identifier prefix 'md5'"),
        (":abc", "Unsupported document identifier prefix ''"),
        ("x-app:", "'x-<name>:<id>'"),
        ("x-:abc", "'x-<name>:<id>'"),
        ("x-app:a:b", "'x-<name>:<id>'"),
        ("x-app:a/b", "'x-<name>:<id>'"),
    ],
)
def test_malformed_document_ids_are_400_saying_why(value: str, message: str) -> None:
    error = rejection(lambda: GraphQLRequest.from_mapping({"documentId": value}))
    assert error.status_code == 400
    assert message in error.message


def test_a_long_unsupported_prefix_is_shown_cut_short() -> None:
    error = rejection(lambda: GraphQLRequest.from_mapping({"documentId": "y" * 1000 + ":1"}))
    assert f"'{'y' * 40}'" in error.message
    assert "y" * 41 not in error.message


@pytest.mark.parametrize("value", [1, True, ["sha256:abc"], {"id": "a"}])
def test_a_document_id_must_be_a_string(value: object) -> None:
    error = rejection(lambda: GraphQLRequest.from_mapping({"query": "{a}", "documentId": value}))
    assert error.message.startswith("The 'documentId' parameter must be a string, got ")


def test_a_document_id_is_read_from_bodies_and_query_strings_and_written_back() -> None:
    document_id = f"sha256:{TYPENAME_HASH}"
    body = {"documentId": document_id, "operationName": "A", "variables": {"id": "1"}}
    request = GraphQLRequest.from_json(json.dumps(body))
    assert request == GraphQLRequest(
        query=None, document_id=document_id, operation_name="A", variables={"id": "1"}
    )
    assert request.to_json_body() == body
    # The appendix's canonical GET parameters: documentId first, maps as compact JSON.
    params = request.to_query_params()
    assert list(params) == ["documentId", "operationName", "variables"]
    assert params["variables"] == '{"id":"1"}'
    assert GraphQLRequest.from_query_params(params) == request


def test_a_document_id_may_name_the_text_sent_beside_it_but_not_an_apq_hash_too() -> None:
    both = GraphQLRequest.from_mapping({"query": "{__typename}", "documentId": "x-app:q1"})
    assert (both.query, both.document_id) == ("{__typename}", "x-app:q1")
    assert both.to_json_body() == {"query": "{__typename}", "documentId": "x-app:q1"}
    apq = {"persistedQuery": {"version": 1, "sha256Hash": TYPENAME_HASH}}
    error = rejection(
        lambda: GraphQLRequest.from_mapping({"documentId": "x-app:q1", "extensions": apq})
    )
    assert (error.status_code, error.message) == (
        400,
        "Send either 'documentId' or the 'persistedQuery' extension, not both",
    )


def test_a_request_with_neither_query_nor_document_id_is_400() -> None:
    error = rejection(lambda: GraphQLRequest.from_query_params({"operationName": "A"}))
    assert error.message == "The 'query' parameter is required"


def test_documents_by_id_keys_hashes_as_bare_hex_and_checks_them() -> None:
    text = "{__typename}"
    assert documents_by_id({f"sha256:{TYPENAME_HASH}": text, "x-a:b": "{a}", "c": "{c}"}) == {
        TYPENAME_HASH: text,
        "x-a:b": "{a}",
        "c": "{c}",
    }
    assert documents_by_id({TYPENAME_HASH: text}) == {TYPENAME_HASH: text}
    with pytest.raises(ValueError, match="is not the SHA-256 hash of its document"):
        documents_by_id({f"sha256:{TYPENAME_HASH}": "{other}"})
