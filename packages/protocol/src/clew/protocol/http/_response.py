"""A GraphQL response as a client reads it: strict shape checks, and when a body can be trusted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast, final

from clew.protocol._codec import JSONDecodeFailure, describe, dumps, loads_value
from clew.protocol._slots import slot_setters
from clew.protocol._types import FormattedError, FormattedExecutionResult, JSONObject, JSONValue

from ._errors import ResponseFormatError
from ._media import MediaType, parse_media_type

__all__ = ["GraphQLResponse", "data_alone", "is_graphql_response", "parse_batch_response"]


def _check_error(index: int, error: JSONValue) -> FormattedError:
    where = f"'errors[{index}]'"
    if not isinstance(error, dict):
        raise ResponseFormatError(f"Response {where} must be an object, got {describe(error)}")
    message = error.get("message")
    if not isinstance(message, str):
        raise ResponseFormatError(
            f"Response {where} must have a string 'message', got {describe(message)}"
        )
    locations = error.get("locations")
    if locations is not None and not (
        isinstance(locations, list)
        and all(
            isinstance(loc, dict) and all(type(loc.get(key)) is int for key in ("line", "column"))
            for loc in locations
        )
    ):
        raise ResponseFormatError(
            f"Response {where} 'locations' must be a list of {{line, column}} integers"
        )
    path = error.get("path")
    if path is not None and not (
        isinstance(path, list) and all(type(item) in {str, int} for item in path)
    ):
        raise ResponseFormatError(f"Response {where} 'path' must be a list of strings and integers")
    extensions = error.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise ResponseFormatError(
            f"Response {where} 'extensions' must be an object, got {describe(extensions)}"
        )
    return cast(FormattedError, error)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GraphQLResponse:
    """A validated GraphQL response (GraphQL spec §7.1) as received over HTTP.

    `data_present` tells ``"data": null`` (execution began and failed at the root) from no
    `data` entry at all (a request error: execution never began).
    """

    #: The result; None when absent or null (see `data_present`).
    data: JSONObject | None = None
    #: A non-empty list of errors, or None when the response has none.
    errors: list[FormattedError] | None = None
    #: Implementation-defined additions.
    extensions: JSONObject | None = None
    #: Whether the response had a `data` entry, even a null one.
    data_present: bool = True

    def __post_init__(self) -> None:
        if self.data is not None and not self.data_present:
            raise ValueError("A response with data must have data_present=True")
        if self.errors is not None and not self.errors:
            raise ValueError("'errors' must be None or a non-empty list")
        if not self.data_present and self.errors is None:
            raise ValueError("A response without data must have errors")

    @classmethod
    def from_mapping(cls, obj: object) -> GraphQLResponse:
        """Validate a decoded body; `ResponseFormatError` says what is not a GraphQL response."""
        alone = data_alone(obj)
        if alone is not None:
            return _data_only(alone)
        if not isinstance(obj, dict):
            raise ResponseFormatError(f"Response must be a JSON object, got {describe(obj)}")
        data = obj.get("data")
        body = cast("Mapping[str, JSONValue]", obj)
        if data is not None and not isinstance(data, dict):
            raise ResponseFormatError(
                f"Response 'data' must be an object or null, got {describe(data)}"
            )
        raw_errors = body.get("errors")
        errors: list[FormattedError] | None = None
        if raw_errors is not None:
            if not isinstance(raw_errors, list):
                raise ResponseFormatError(
                    f"Response 'errors' must be a list, got {describe(raw_errors)}"
                )
            if not raw_errors:
                raise ResponseFormatError("Response 'errors' must not be an empty list")
            errors = [_check_error(index, error) for index, error in enumerate(raw_errors)]
        extensions = body.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise ResponseFormatError(
                f"Response 'extensions' must be an object, got {describe(extensions)}"
            )
        if "data" not in body and errors is None:
            raise ResponseFormatError("Response must have 'data' or 'errors'")
        return cls(
            data=data,
            errors=errors,
            extensions=extensions,
            data_present="data" in body,
        )

    @classmethod
    def from_json(cls, body: bytes | str) -> GraphQLResponse:
        """Decode and validate a response body."""
        try:
            obj = loads_value(body, "Response")
        except JSONDecodeFailure as exc:
            raise ResponseFormatError(str(exc)) from None
        return cls.from_mapping(obj)

    def to_result(self) -> FormattedExecutionResult:
        """The response as a `FormattedExecutionResult`, with only the entries present."""
        result: FormattedExecutionResult = {}
        if self.errors is not None:
            result["errors"] = self.errors
        if self.data_present:
            result["data"] = self.data
        if self.extensions is not None:
            result["extensions"] = self.extensions
        return result

    def to_json(self) -> str:
        """The response body as compact JSON text."""
        return dumps(cast(JSONObject, self.to_result()))


#: The writers of `GraphQLResponse`'s slots, for `_data_only`.
_SET_DATA, _SET_ERRORS, _SET_EXTENSIONS, _SET_PRESENT = slot_setters(
    GraphQLResponse, "data", "errors", "extensions", "data_present"
)


def data_alone(body: object) -> JSONObject | None:
    """The `data` of a decoded body that holds an object `data` and nothing else, else None.

    The common result (every subscription event, most queries), and valid as it stands: a
    reader may keep the body itself rather than build a `GraphQLResponse` from it. Any other
    body goes through `GraphQLResponse.from_mapping`, which checks it.
    """
    if type(body) is dict and len(body) == 1:
        data = body.get("data")
        if type(data) is dict:
            return data
    return None


def _data_only(data: JSONObject) -> GraphQLResponse:
    """`GraphQLResponse(data=data)` for a result that is an object and nothing else.

    Built slot by slot: one per subscription event, and a frozen dataclass' `__init__` pays a
    checked attribute write per field plus `__post_init__`, whose rules this shape meets.
    """
    response = GraphQLResponse.__new__(GraphQLResponse)
    _SET_DATA(response, data)
    _SET_ERRORS(response, None)
    _SET_EXTENSIONS(response, None)
    _SET_PRESENT(response, True)
    return response


def parse_batch_response(body: bytes | str, expected_length: int) -> list[GraphQLResponse]:
    """Decode the reply to a batch: a JSON array of responses, one per request, in order.

    `ResponseFormatError` when it is not an array, has the wrong length (the message Apollo's
    BatchHttpLink gives) or holds an entry that is not a GraphQL response.
    """
    try:
        value = loads_value(body, "Response")
    except JSONDecodeFailure as exc:
        raise ResponseFormatError(str(exc)) from None
    if not isinstance(value, list):
        raise ResponseFormatError(f"A batch response must be a JSON array, got {describe(value)}")
    if len(value) != expected_length:
        raise ResponseFormatError(
            f"server returned results with length {len(value)}, "
            f"expected length of {expected_length}"
        )
    responses: list[GraphQLResponse] = []
    for index, entry in enumerate(value):
        try:
            responses.append(GraphQLResponse.from_mapping(entry))
        except ResponseFormatError as exc:
            raise ResponseFormatError(f"Batch response {index}: {exc}") from None
    return responses


def is_graphql_response(status_code: int, content_type: str | None) -> bool:
    """Whether a client may read the body as a GraphQL response (spec, "Processing the response").

    `application/graphql-response+json` bodies are GraphQL responses at any status. A non-200
    `application/json` body may come from a proxy or gateway, so it must not be relied on.
    """
    if content_type is None:
        return False
    try:
        name, _ = parse_media_type(content_type)
    except ValueError:
        return False
    if name == MediaType.GRAPHQL_RESPONSE_JSON.value:
        return True
    return name == MediaType.JSON.value and status_code == 200
