"""GraphQL-over-HTTP request parameters: the spec's request rules, one test per rule."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol._codec import dumps
from clew.protocol._types import JSONObject, JSONValue
from clew.protocol.http import (
    GraphQLRequest,
    RequestError,
    check_request_method,
    ensure_operation_allowed_for_method,
    parse_json_body,
)

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects: st.SearchStrategy[JSONObject] = st.dictionaries(st.text(), json_values, max_size=4)
requests = st.builds(
    GraphQLRequest,
    query=st.text(),
    operation_name=st.none() | st.text(),
    variables=st.none() | json_objects,
    extensions=st.none() | json_objects,
)


def rejection(call: object) -> RequestError:
    assert callable(call)
    with pytest.raises(RequestError) as info:
        call()
    return info.value


# --- POST bodies -----------------------------------------------------------------------------


def test_post_requires_query_string() -> None:
    error = rejection(lambda: GraphQLRequest.from_json(b'{"variables": {}}'))
    assert (error.status_code, error.message) == (400, "The 'query' parameter is required")


def test_query_need_not_parse_to_be_well_formed() -> None:
    assert GraphQLRequest.from_json('{"query": "{"}') == GraphQLRequest(query="{")


def test_all_four_parameters_are_read() -> None:
    body = (
        b'{"query": "query Q($id: ID!) { node(id: $id) { id } }", "operationName": "Q",'
        b' "variables": {"id": "1"}, "extensions": {"persistedQuery": {"version": 1}}}'
    )
    assert GraphQLRequest.from_json(body) == GraphQLRequest(
        query="query Q($id: ID!) { node(id: $id) { id } }",
        operation_name="Q",
        variables={"id": "1"},
        extensions={"persistedQuery": {"version": 1}},
    )


def test_null_means_absent() -> None:
    body = '{"query": "{a}", "operationName": null, "variables": null, "extensions": null}'
    assert GraphQLRequest.from_json(body) == GraphQLRequest(query="{a}")


def test_unknown_parameters_are_ignored() -> None:
    body = '{"query": "{a}", "qeury": 1, "id": "x", "doc_id": [1]}'
    assert GraphQLRequest.from_json(body) == GraphQLRequest(query="{a}")


def test_utf8_is_assumed_for_bodies() -> None:
    body = '{"query": "{ greet(name: \\"Zoë 🎉\\") }"}'.encode()
    assert GraphQLRequest.from_json(body).query == '{ greet(name: "Zoë 🎉") }'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"NONSENSE", "The request body is not valid JSON: Expecting value: line 1 column 1"),
        (b'{"query":', "The request body is not valid JSON"),
        (b"\xff\xfe", "The request body is not valid UTF-8"),
        (b'{"query": NaN}', "The request body is not valid JSON"),
        (b"[]", "The request body must be a JSON object, got array"),
        (b'"{a}"', "The request body must be a JSON object, got string"),
        (b'{"qeury": "{a}"}', "The 'query' parameter is required"),
        (b'{"query": 1}', "The 'query' parameter must be a string, got number"),
        (b'{"query": ["{a}"]}', "The 'query' parameter must be a string, got array"),
        (
            b'{"query": "{a}", "operationName": 7}',
            "The 'operationName' parameter must be a string, got number",
        ),
        (
            b'{"query": "{a}", "operationName": {}}',
            "The 'operationName' parameter must be a string, got object",
        ),
        (
            b'{"query": "{a}", "variables": [7]}',
            "The 'variables' parameter must be a JSON object, got array",
        ),
        (
            b'{"query": "{a}", "variables": "{}"}',
            "The 'variables' parameter must be a JSON object, got string",
        ),
        (
            b'{"query": "{a}", "extensions": true}',
            "The 'extensions' parameter must be a JSON object, got boolean",
        ),
    ],
)
def test_malformed_post_bodies_are_400(body: bytes, message: str) -> None:
    error = rejection(lambda: GraphQLRequest.from_json(body))
    assert error.status_code == 400
    assert error.message.startswith(message)
    assert error.headers == {}
    assert error.result == {"errors": [{"message": error.message}]}


def test_from_mapping_accepts_bodies_decoded_elsewhere() -> None:
    decoded = json.loads('{"query": "{a}", "variables": {"x": [1, 2]}}')
    assert GraphQLRequest.from_mapping(decoded).variables == {"x": [1, 2]}
    error = rejection(lambda: GraphQLRequest.from_mapping(None))
    assert error.message == "The request body must be a JSON object, got null"
    assert repr(error) == "RequestError(400, 'The request body must be a JSON object, got null')"


@given(
    st.text(),
    st.none() | st.text(),
    st.none() | st.dictionaries(st.text(), json_values, max_size=3),
    st.none() | st.dictionaries(st.text(), json_values, max_size=3),
)
def test_from_mapping_builds_what_the_constructor_builds(
    query: str,
    operation_name: str | None,
    variables: JSONObject | None,
    extensions: JSONObject | None,
) -> None:
    body = {
        "query": query,
        "operationName": operation_name,
        "variables": variables,
        "extensions": extensions,
    }
    read = GraphQLRequest.from_mapping(body)
    built = GraphQLRequest(
        query=query, operation_name=operation_name, variables=variables, extensions=extensions
    )
    assert type(read) is GraphQLRequest
    assert read == built
    assert repr(read) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.query = "{ b }"  # type: ignore[misc]


def test_to_json_body_has_only_present_parameters() -> None:
    assert GraphQLRequest(query="{a}").to_json_body() == {"query": "{a}"}
    full = GraphQLRequest(query="{a}", operation_name="A", variables={}, extensions={"e": 1})
    assert full.to_json_body() == {
        "query": "{a}",
        "operationName": "A",
        "variables": {},
        "extensions": {"e": 1},
    }


@given(requests)
def test_json_body_round_trip(request: GraphQLRequest) -> None:
    assert GraphQLRequest.from_json(dumps(request.to_json_body())) == request


# --- Batches ---------------------------------------------------------------------------------


def test_single_body_through_parse_json_body() -> None:
    assert parse_json_body(b'{"query": "{a}"}') == GraphQLRequest(query="{a}")


def test_batches_are_refused_unless_enabled() -> None:
    error = rejection(lambda: parse_json_body(b'[{"query": "{a}"}]'))
    assert (error.status_code, error.message) == (
        400,
        "The request body must be a JSON object; batched requests are not enabled",
    )


def test_batches_parse_when_enabled() -> None:
    body = b'[{"query": "{a}"}, {"query": "{b}", "variables": {"x": 1}}]'
    assert parse_json_body(body, allow_batch=True) == [
        GraphQLRequest(query="{a}"),
        GraphQLRequest(query="{b}", variables={"x": 1}),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "The request body must not be an empty array"),
        (
            b'[{"query": "{a}"}, 3]',
            "Operation 1: The request body must be a JSON object, got number",
        ),
        (b'[{"query": 1}]', "Operation 0: The 'query' parameter must be a string, got number"),
        (b"[", "The request body is not valid JSON"),
    ],
)
def test_malformed_batches_are_400(body: bytes, message: str) -> None:
    error = rejection(lambda: parse_json_body(body, allow_batch=True))
    assert error.status_code == 400
    assert error.message.startswith(message)


# --- GET query strings -----------------------------------------------------------------------


def test_get_parameters_are_read_from_the_query_string() -> None:
    params = {
        "query": "query($id: ID!){user(id:$id){name}}",
        "variables": '{"id":"QVBJcy5ndXJ1"}',
        "extensions": '{"a": [1]}',
        "operationName": "null",
    }
    assert GraphQLRequest.from_query_params(params) == GraphQLRequest(
        query="query($id: ID!){user(id:$id){name}}",
        operation_name="null",
        variables={"id": "QVBJcy5ndXJ1"},
        extensions={"a": [1]},
    )


def test_get_requires_query() -> None:
    error = rejection(lambda: GraphQLRequest.from_query_params({"variables": "{}"}))
    assert (error.status_code, error.message) == (400, "The 'query' parameter is required")


def test_get_empty_string_means_absent() -> None:
    params = {"query": "{a}", "operationName": "", "variables": "", "extensions": ""}
    assert GraphQLRequest.from_query_params(params) == GraphQLRequest(query="{a}")


def test_get_json_null_means_absent() -> None:
    params = {"query": "{a}", "variables": "null", "extensions": " null "}
    assert GraphQLRequest.from_query_params(params) == GraphQLRequest(query="{a}")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"variables": "[7]"}, "The 'variables' parameter must be a JSON object, got array"),
        ({"variables": "{"}, "The 'variables' parameter is not valid JSON"),
        ({"extensions": "1"}, "The 'extensions' parameter must be a JSON object, got number"),
        ({"extensions": "Infinity"}, "The 'extensions' parameter is not valid JSON: Infinity"),
    ],
)
def test_get_maps_must_be_json_object_strings(params: dict[str, str], message: str) -> None:
    error = rejection(lambda: GraphQLRequest.from_query_params({"query": "{a}", **params}))
    assert error.status_code == 400
    assert error.message.startswith(message)


@given(requests.filter(lambda r: r.operation_name != ""))
def test_query_params_round_trip(request: GraphQLRequest) -> None:
    assert GraphQLRequest.from_query_params(request.to_query_params()) == request


def test_to_query_params_encodes_maps_as_json() -> None:
    request = GraphQLRequest(query="{a}", operation_name="A", variables={"é": 1}, extensions={})
    assert request.to_query_params() == {
        "query": "{a}",
        "operationName": "A",
        "variables": '{"é":1}',
        "extensions": "{}",
    }


# --- Methods ---------------------------------------------------------------------------------


def test_get_mutation_is_405_with_allow_post() -> None:
    error = rejection(lambda: ensure_operation_allowed_for_method("GET", "mutation"))
    assert error.status_code == 405
    assert error.headers == {"Allow": "POST"}
    assert error.message == "Mutations cannot be executed over GET; use POST"


def test_head_mutation_is_405_too() -> None:
    assert (
        rejection(lambda: ensure_operation_allowed_for_method("head", "mutation")).status_code
        == 405
    )


@pytest.mark.parametrize(
    ("method", "operation"),
    [("GET", "query"), ("POST", "mutation"), ("POST", "query"), ("get", "subscription")],
)
def test_other_method_operation_pairs_are_allowed(method: str, operation: str) -> None:
    ensure_operation_allowed_for_method(method, operation)  # does not raise


def test_server_accepts_post() -> None:
    check_request_method("POST", allow_get=False)  # none of these raise
    check_request_method("post")
    check_request_method("GET")


@pytest.mark.parametrize(
    ("method", "allow_get", "allow"),
    [("PUT", True, "GET, POST"), ("DELETE", True, "GET, POST"), ("GET", False, "POST")],
)
def test_unsupported_methods_are_405_with_allow(method: str, allow_get: bool, allow: str) -> None:
    error = rejection(lambda: check_request_method(method, allow_get=allow_get))
    assert error.status_code == 405
    assert error.headers == {"Allow": allow}
    assert error.message.startswith(f"Method {method} is not allowed")
