"""Reading GraphQL responses on the client: strict shape checks and trust in the status code."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.protocol._types import FormattedError, JSONObject, JSONValue
from clew.protocol.http import GraphQLResponse, ResponseFormatError, is_graphql_response
from clew.protocol.http._response import data_alone

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)
json_objects: st.SearchStrategy[JSONObject] = st.dictionaries(st.text(), json_values, max_size=3)
formatted_errors: st.SearchStrategy[FormattedError] = st.builds(
    lambda message, path: {"message": message, "path": path} if path else {"message": message},
    st.text(),
    st.lists(st.text() | st.integers(min_value=0), max_size=3),
)


@st.composite
def responses(draw: st.DrawFn) -> GraphQLResponse:
    data_present = draw(st.booleans())
    errors = draw(st.lists(formatted_errors, min_size=0 if data_present else 1, max_size=3))
    return GraphQLResponse(
        data=draw(st.none() | json_objects) if data_present else None,
        errors=errors or None,
        extensions=draw(st.none() | json_objects),
        data_present=data_present,
    )


def test_reads_data_errors_and_extensions() -> None:
    body = (
        b'{"data": {"a": null}, "errors": [{"message": "boom", "locations": [{"line": 1,'
        b' "column": 3}], "path": ["a", 0], "extensions": {"code": "X"}}], "extensions": {"t": 1}}'
    )
    response = GraphQLResponse.from_json(body)
    assert response == GraphQLResponse(
        data={"a": None},
        errors=[
            {
                "message": "boom",
                "locations": [{"line": 1, "column": 3}],
                "path": ["a", 0],
                "extensions": {"code": "X"},
            }
        ],
        extensions={"t": 1},
    )


def test_a_data_only_result_is_the_response_the_constructor_builds() -> None:
    """`from_mapping` builds the common shape without `__init__`: nothing may tell it apart."""
    data: JSONObject = {"stream": 1}
    built = GraphQLResponse.from_mapping({"data": data})
    expected = GraphQLResponse(data=data)
    assert type(built) is GraphQLResponse
    assert built == expected
    assert repr(built) == repr(expected)
    assert (built.data, built.errors, built.extensions, built.data_present) == (
        data,
        None,
        None,
        True,
    )
    assert built.data is data  # not copied
    assert dataclasses.replace(built, data=None, errors=[{"message": "e"}]).data is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.data = None  # type: ignore[misc]
    # Anything else goes through the constructor's checks.
    assert GraphQLResponse.from_mapping({"data": data, "extensions": {"a": 1}}).extensions == {
        "a": 1
    }


@given(json_values | st.dictionaries(st.sampled_from(["data", "errors", "hasNext"]), json_values))
def test_data_alone_names_only_bodies_valid_as_they_stand(body: JSONValue) -> None:
    """A reader may keep a body `data_alone` accepts instead of validating it: it must be a
    body `from_mapping` reads as that data and nothing else."""
    data = data_alone(body)
    if data is None:
        assert not (type(body) is dict and body.keys() == {"data"} and type(body["data"]) is dict)
    else:
        assert type(body) is dict
        assert data is body["data"]
        assert GraphQLResponse.from_mapping(body) == GraphQLResponse(data=data)


def test_data_alone_takes_exact_json_objects_only() -> None:
    class Body(dict[str, JSONValue]):
        pass

    for body in ({"data": None}, {"data": []}, {"data": {}, "hasNext": True}, Body(data={})):
        assert data_alone(body) is None
    assert GraphQLResponse.from_mapping(Body(data={})) == GraphQLResponse(data={})


def test_null_data_is_told_apart_from_absent_data() -> None:
    null = GraphQLResponse.from_json('{"data": null, "errors": [{"message": "x"}]}')
    absent = GraphQLResponse.from_json('{"errors": [{"message": "x"}]}')
    assert (null.data_present, absent.data_present) == (True, False)
    assert null.to_json() == '{"errors":[{"message":"x"}],"data":null}'
    assert absent.to_json() == '{"errors":[{"message":"x"}]}'


def test_unknown_entries_are_ignored() -> None:
    assert GraphQLResponse.from_json('{"data": {}, "hasNext": false}') == GraphQLResponse(data={})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("nonsense", "Response is not valid JSON"),
        ("[]", "Response must be a JSON object, got array"),
        ("{}", "Response must have 'data' or 'errors'"),
        ('{"extensions": {}}', "Response must have 'data' or 'errors'"),
        ('{"data": []}', "Response 'data' must be an object or null, got array"),
        ('{"data": "x"}', "Response 'data' must be an object or null, got string"),
        ('{"errors": {}}', "Response 'errors' must be a list, got object"),
        ('{"errors": []}', "Response 'errors' must not be an empty list"),
        ('{"errors": ["boom"]}', "Response 'errors[0]' must be an object, got string"),
        (
            '{"errors": [{"message": "a"}, {}]}',
            "Response 'errors[1]' must have a string 'message', got null",
        ),
        (
            '{"errors": [{"message": 1}]}',
            "Response 'errors[0]' must have a string 'message', got number",
        ),
        (
            '{"errors": [{"message": "a", "locations": {}}]}',
            "Response 'errors[0]' 'locations' must be",
        ),
        (
            '{"errors": [{"message": "a", "locations": [1]}]}',
            "Response 'errors[0]' 'locations' must be",
        ),
        (
            '{"errors": [{"message": "a", "locations": [{"line": 1}]}]}',
            "Response 'errors[0]' 'locations'",
        ),
        (
            '{"errors": [{"message": "a", "locations": [{"line": true, "column": 1}]}]}',
            "Response 'errors[0]' 'locations'",
        ),
        ('{"errors": [{"message": "a", "path": "a.b"}]}', "Response 'errors[0]' 'path' must be"),
        ('{"errors": [{"message": "a", "path": [1.5]}]}', "Response 'errors[0]' 'path' must be"),
        (
            '{"errors": [{"message": "a", "extensions": []}]}',
            "Response 'errors[0]' 'extensions' must be an object, got array",
        ),
        ('{"data": {}, "extensions": 1}', "Response 'extensions' must be an object, got number"),
    ],
)
def test_malformed_responses_are_refused(body: str, message: str) -> None:
    with pytest.raises(ResponseFormatError) as info:
        GraphQLResponse.from_json(body)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": {}, "data_present": False}, "A response with data must have data_present=True"),
        ({"data": {}, "errors": []}, "'errors' must be None or a non-empty list"),
        ({"data_present": False}, "A response without data must have errors"),
    ],
)
def test_impossible_responses_cannot_be_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GraphQLResponse(**kwargs)  # type: ignore[arg-type]


@given(responses())
def test_response_json_round_trip(response: GraphQLResponse) -> None:
    assert GraphQLResponse.from_json(response.to_json()) == response


@pytest.mark.parametrize(
    ("status", "content_type", "expected"),
    [
        (200, "application/graphql-response+json; charset=utf-8", True),
        (400, "application/graphql-response+json", True),
        (422, "Application/GraphQL-Response+JSON", True),
        (200, "application/json", True),
        (200, "application/json; charset=utf-8", True),
        (400, "application/json", False),
        (502, "application/json", False),
        (294, "application/json", False),
        (200, "text/html", False),
        (200, None, False),
        (200, "garbage", False),
    ],
)
def test_non_200_json_bodies_are_not_relied_on(
    status: int, content_type: str | None, expected: bool
) -> None:
    assert is_graphql_response(status, content_type) is expected
