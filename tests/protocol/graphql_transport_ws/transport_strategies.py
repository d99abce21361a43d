"""Hypothesis strategies for graphql-transport-ws: valid payloads and messages of every class."""

from __future__ import annotations

from hypothesis import strategies as st

from clew.protocol.graphql_transport_ws import (
    Complete,
    ConnectionAck,
    ConnectionInit,
    Error,
    Message,
    Next,
    Ping,
    Pong,
    Subscribe,
)

__all__ = ["IDS", "JSON_OBJECTS", "JSON_VALUES", "MESSAGES"]

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
JSON_OBJECTS = st.dictionaries(st.text(), JSON_VALUES, max_size=4)
IDS = st.text(min_size=1)
OPTIONAL_OBJECTS = st.none() | JSON_OBJECTS


def _drop_absent(mapping: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in mapping.items() if value is not ...}


ABSENT = st.just(...)
SUBSCRIBE_PAYLOADS = st.builds(
    lambda query, name, variables, extensions: _drop_absent(
        {"query": query, "operationName": name, "variables": variables, "extensions": extensions}
    ),
    st.text(),
    ABSENT | st.none() | st.text(),
    ABSENT | OPTIONAL_OBJECTS,
    ABSENT | OPTIONAL_OBJECTS,
)
FORMATTED_ERRORS = st.builds(
    lambda message, locations, path, extensions: _drop_absent(
        {"message": message, "locations": locations, "path": path, "extensions": extensions}
    ),
    st.text(),
    ABSENT
    | st.lists(
        st.fixed_dictionaries({"line": st.integers(1, 10**6), "column": st.integers(1, 10**6)}),
        max_size=3,
    ),
    ABSENT | st.lists(st.text() | st.integers(0, 10**6), max_size=4),
    ABSENT | JSON_OBJECTS,
)
EXECUTION_RESULTS = st.builds(
    lambda data, errors, extensions, has_next: _drop_absent(
        {"data": data, "errors": errors, "extensions": extensions, "hasNext": has_next}
    ),
    ABSENT | OPTIONAL_OBJECTS,
    ABSENT | st.lists(FORMATTED_ERRORS, min_size=1, max_size=3),
    ABSENT | JSON_OBJECTS,
    ABSENT | st.booleans(),
)
MESSAGES: st.SearchStrategy[Message] = st.one_of(
    st.builds(ConnectionInit, payload=OPTIONAL_OBJECTS),
    st.builds(ConnectionAck, payload=OPTIONAL_OBJECTS),
    st.builds(Ping, payload=OPTIONAL_OBJECTS),
    st.builds(Pong, payload=OPTIONAL_OBJECTS),
    st.builds(Subscribe, id=IDS, payload=SUBSCRIBE_PAYLOADS),
    st.builds(Next, id=IDS, payload=EXECUTION_RESULTS),
    st.builds(Error, id=IDS, payload=st.lists(FORMATTED_ERRORS, min_size=1, max_size=3)),
    st.builds(Complete, id=IDS),
)
