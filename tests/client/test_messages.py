"""The client's request and response objects."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.client import GraphQLRequest, GraphQLResponse
from clew.client._messages import new_request
from clew.protocol import JSONObject
from clew.protocol.http import GraphQLResponse as ResponseBody
from clew.protocol.http import ResponseFormatError

objects = st.none() | st.dictionaries(st.text(), st.integers() | st.text(), max_size=3)


@given(st.text(), objects, st.none() | st.text(), objects)
def test_new_request_builds_what_the_constructor_builds(
    query: str,
    variables: JSONObject | None,
    operation_name: str | None,
    extensions: JSONObject | None,
) -> None:
    made = new_request(query, variables, operation_name, extensions)
    built = GraphQLRequest(query, variables, operation_name, extensions=extensions)
    assert type(made) is GraphQLRequest
    assert made == built
    assert repr(made) == repr(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.query = "{ b }"  # type: ignore[misc]


@given(st.dictionaries(st.sampled_from(["data", "errors", "extensions", "hasNext"]), objects))
def test_a_body_is_read_as_the_protocol_reads_it(body: JSONObject) -> None:
    """Bodies of data alone skip the protocol's object; every body reads the same either way."""
    try:
        expected = ResponseBody.from_mapping(body)
    except ResponseFormatError as exc:
        with pytest.raises(ResponseFormatError, match=str(exc)):
            GraphQLResponse("request", body)
        return
    response = GraphQLResponse("request", body)
    assert response.raw is body
    assert response == expected == GraphQLResponse("request", expected)
    assert (response.data, response.errors, response.extensions, response.data_present) == (
        expected.data,
        expected.errors,
        expected.extensions,
        expected.data_present,
    )
