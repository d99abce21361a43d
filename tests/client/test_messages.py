"""The client's request and response objects."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clew.client import GraphQLRequest
from clew.client._messages import new_request
from clew.protocol import JSONObject

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
