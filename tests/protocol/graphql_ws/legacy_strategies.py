"""Hypothesis strategies for legacy graphql-ws messages, shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from clew.protocol.graphql_ws import (
    Complete,
    ConnectionAck,
    ConnectionErrorMessage,
    ConnectionInit,
    ConnectionTerminate,
    Data,
    Error,
    Ka,
    Start,
    Stop,
)

__all__ = ["IDS", "MESSAGES"]

#: Operation ids: a small alphabet, so sequences reuse them.
IDS = st.sampled_from(["1", "2", "3"]) | st.text(min_size=1, max_size=8)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_objects = st.dictionaries(st.text(max_size=5), _json, max_size=3)
_errors = st.fixed_dictionaries(
    {"message": st.text(max_size=10)},
    optional={"path": st.lists(st.text(max_size=3) | st.integers(), max_size=3)},
)
_requests = st.fixed_dictionaries(
    {"query": st.text(max_size=20)},
    optional={
        "operationName": st.none() | st.text(max_size=5),
        "variables": st.none() | _objects,
        "extensions": st.none() | _objects,
    },
)

MESSAGES = st.one_of(
    st.builds(ConnectionInit, payload=st.none() | _objects),
    st.builds(ConnectionAck, payload=st.none() | _objects),
    st.builds(ConnectionErrorMessage, payload=st.none() | _objects),
    st.builds(Ka),
    st.builds(ConnectionTerminate),
    st.builds(Start, id=IDS, payload=_requests),
    st.builds(Stop, id=IDS),
    st.builds(Data, id=IDS, payload=_objects),
    st.builds(
        Error,
        id=IDS,
        payload=_errors
        | st.lists(_errors, min_size=1, max_size=3)
        | st.builds(lambda errors: {"errors": errors}, st.lists(_errors, min_size=1, max_size=2)),
    ),
    st.builds(Complete, id=IDS),
)
