"""A GraphQL-over-HTTP request: its parameters, read from a JSON body or a query string, and back.

The spec's request rules live here: `query` is a required string; `operationName` a string;
`variables` and `extensions` maps; null means absent; unknown parameters are ignored. The one
exception to "required": a request that names a persisted document instead, by hash in
``extensions.persistedQuery`` (Apollo's APQ) or by the `documentId` parameter (the spec's
persisted-documents appendix), leaves `query` out. Batches (a JSON array of requests, an
Apollo convention outside the spec) are read by `parse_request_value` when a server opts in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import final

from clew.protocol._codec import JSONDecodeFailure, describe, dumps, loads_value
from clew.protocol._slots import slot_setters
from clew.protocol._types import JSONObject

from ._errors import RequestError
from ._persisted import PersistedQuery, check_document_id

__all__ = [
    "GraphQLRequest",
    "check_request_method",
    "ensure_operation_allowed_for_method",
    "parse_json_body",
    "parse_request_value",
]

#: Methods that must not change state (RFC 9110 §9.2.1), so they must not run mutations.
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _optional_object(obj: Mapping[str, object], name: str) -> JSONObject | None:
    value = obj.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise RequestError(400, f"The {name!r} parameter must be a JSON object, got {describe(value)}")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class GraphQLRequest:
    """The parameters of a GraphQL-over-HTTP request, already validated."""

    #: The GraphQL document's source text; it need not parse to be a well-formed request.
    #: None only when the request names a persisted document instead (`document_id`, or
    #: `extensions` through `persisted_query`).
    query: str | None
    #: Which operation of the document to run; None lets the document decide.
    operation_name: str | None = None
    #: Values for the operation's variables.
    variables: JSONObject | None = None
    #: Implementation-defined additions (persisted queries, tracing, ...).
    extensions: JSONObject | None = None
    #: The persisted document to run, by document identifier (``sha256:<hex>``,
    #: ``x-<name>:<id>`` or a custom id). Beside `query` it names that text (a server may
    #: check a hash against it, as the appendix suggests); never beside `persisted_query`.
    document_id: str | None = None

    def __post_init__(self) -> None:
        if self.document_id is not None:
            check_document_id(self.document_id)
            if self.persisted_query is not None:
                raise RequestError(
                    400, "Send either 'documentId' or the 'persistedQuery' extension, not both"
                )
        elif self.query is None and self.persisted_query is None:
            raise RequestError(400, "The 'query' parameter is required")

    @property
    def persisted_query(self) -> PersistedQuery | None:
        """The persisted document `extensions` names, if any (`RequestError` when malformed)."""
        return PersistedQuery.from_extensions(self.extensions)

    @classmethod
    def from_mapping(cls, obj: object) -> GraphQLRequest:
        """Validate a decoded JSON body; `RequestError` (400) names the offending parameter.

        Servers that decode JSON themselves (orjson) call this; unknown keys are ignored and
        a null value counts as absent.
        """
        if not isinstance(obj, dict):
            raise RequestError(400, f"The request body must be a JSON object, got {describe(obj)}")
        params: Mapping[str, object] = obj
        query = params.get("query")
        if query is not None and not isinstance(query, str):
            raise RequestError(
                400, f"The 'query' parameter must be a string, got {describe(query)}"
            )
        operation_name = params.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestError(
                400,
                f"The 'operationName' parameter must be a string, got {describe(operation_name)}",
            )
        variables = _optional_object(params, "variables")
        extensions = _optional_object(params, "extensions")
        document_id = params.get("documentId")
        if query is None or document_id is not None:
            # No text, or a text named by id too: `__post_init__` applies the rules.
            if document_id is not None and not isinstance(document_id, str):
                raise RequestError(
                    400,
                    f"The 'documentId' parameter must be a string, got {describe(document_id)}",
                )
            return cls(
                query=query,
                operation_name=operation_name,
                variables=variables,
                extensions=extensions,
                document_id=document_id,
            )
        return _with_query(query, operation_name, variables, extensions)

    @classmethod
    def from_json(cls, body: bytes | str) -> GraphQLRequest:
        """Decode and validate an `application/json` POST body (UTF-8 assumed)."""
        try:
            obj = loads_value(body, "The request body")
        except JSONDecodeFailure as exc:
            raise RequestError(400, str(exc)) from None
        return cls.from_mapping(obj)

    @classmethod
    def from_query_params(cls, params: Mapping[str, str]) -> GraphQLRequest:
        """Read a GET request's urlencoded parameters (already decoded into `params`).

        `variables` and `extensions` are JSON texts; for them and for `operationName` an empty
        string means absent (so ``operationName=null`` names an operation called "null").
        """
        return cls(
            query=params.get("query"),
            operation_name=params.get("operationName") or None,
            variables=_json_param(params, "variables"),
            extensions=_json_param(params, "extensions"),
            document_id=params.get("documentId"),
        )

    def to_json_body(self) -> JSONObject:
        """The JSON POST body, with only the parameters that are present."""
        body: JSONObject = {} if self.query is None else {"query": self.query}
        if self.document_id is not None:
            body["documentId"] = self.document_id
        if self.operation_name is not None:
            body["operationName"] = self.operation_name
        if self.variables is not None:
            body["variables"] = self.variables
        if self.extensions is not None:
            body["extensions"] = self.extensions
        return body

    def to_query_params(self) -> dict[str, str]:
        """GET query parameters (to be urlencoded), with maps as compact JSON text, in the
        appendix's canonical order."""
        params = {} if self.query is None else {"query": self.query}
        if self.document_id is not None:
            params["documentId"] = self.document_id
        if self.operation_name is not None:
            params["operationName"] = self.operation_name
        if self.variables is not None:
            params["variables"] = dumps(self.variables)
        if self.extensions is not None:
            params["extensions"] = dumps(self.extensions)
        return params


#: The writers of `GraphQLRequest`'s slots, for `_with_query`.
_SET_QUERY, _SET_OPERATION_NAME, _SET_VARIABLES, _SET_EXTENSIONS, _SET_DOCUMENT_ID = slot_setters(
    GraphQLRequest, "query", "operation_name", "variables", "extensions", "document_id"
)


def _with_query(
    query: str,
    operation_name: str | None,
    variables: JSONObject | None,
    extensions: JSONObject | None,
) -> GraphQLRequest:
    """`GraphQLRequest(...)` for parameters already checked, a query text present and no
    `documentId`.

    Built slot by slot: one per HTTP request on both sides, and a frozen dataclass' `__init__`
    pays a checked attribute write per field plus `__post_init__`, whose rule a query meets.
    """
    request = GraphQLRequest.__new__(GraphQLRequest)
    _SET_QUERY(request, query)
    _SET_OPERATION_NAME(request, operation_name)
    _SET_VARIABLES(request, variables)
    _SET_EXTENSIONS(request, extensions)
    _SET_DOCUMENT_ID(request, None)
    return request


def _json_param(params: Mapping[str, str], name: str) -> JSONObject | None:
    text = params.get(name)
    if not text:
        return None
    try:
        value = loads_value(text, f"The {name!r} parameter")
    except JSONDecodeFailure as exc:
        raise RequestError(400, str(exc)) from None
    return _optional_object({name: value}, name)


def parse_json_body(
    body: bytes | str, *, allow_batch: bool = False, max_batch_size: int | None = None
) -> GraphQLRequest | list[GraphQLRequest]:
    """Decode a JSON POST body: one request or, with `allow_batch`, a non-empty array of them.

    Batching is not part of the GraphQL-over-HTTP spec; servers opt in.
    """
    try:
        value = loads_value(body, "The request body")
    except JSONDecodeFailure as exc:
        raise RequestError(400, str(exc)) from None
    return parse_request_value(value, allow_batch=allow_batch, max_batch_size=max_batch_size)


def parse_request_value(
    value: object,
    *,
    allow_batch: bool = False,
    max_batch_size: int | None = None,
    what: str = "The request body",
) -> GraphQLRequest | list[GraphQLRequest]:
    """Validate a decoded body: one request, or a batch (a non-empty JSON array of requests).

    A batch is refused as a whole, before any of it runs (400): when batching is off, when it
    is empty, when it holds more than `max_batch_size` operations, or when any entry is not a
    well-formed request (the message names its index).
    """
    if not isinstance(value, list):
        return GraphQLRequest.from_mapping(value)
    if not allow_batch:
        raise RequestError(400, f"{what} must be a JSON object; batched requests are not enabled")
    if not value:
        raise RequestError(400, f"{what} must not be an empty array")
    if max_batch_size is not None and len(value) > max_batch_size:
        raise RequestError(
            400,
            f"The batch holds {len(value)} operations; this endpoint takes at most "
            f"{max_batch_size} per request",
        )
    requests: list[GraphQLRequest] = []
    for index, item in enumerate(value):
        try:
            requests.append(GraphQLRequest.from_mapping(item))
        except RequestError as exc:
            raise RequestError(exc.status_code, f"Operation {index}: {exc.message}") from None
    return requests


def check_request_method(method: str, *, allow_get: bool = True) -> None:
    """Refuse methods the endpoint does not serve with 405 and the `Allow` header it needs."""
    allowed = ("GET", "POST") if allow_get else ("POST",)
    if method.upper() not in allowed:
        raise RequestError(
            405,
            f"Method {method.upper()} is not allowed; use {' or '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


def ensure_operation_allowed_for_method(method: str, operation_type: str) -> None:
    """Refuse a mutation over GET (or HEAD) with 405 and ``Allow: POST``; the spec's MUST.

    `operation_type` is the selected operation's kind (``"query"``, ``"mutation"``,
    ``"subscription"``), as graphql-core's `OperationType.value` gives it.
    """
    if method.upper() in _SAFE_METHODS and operation_type == "mutation":
        raise RequestError(
            405,
            f"Mutations cannot be executed over {method.upper()}; use POST",
            headers={"Allow": "POST"},
        )
