"""The request and response objects the client hands out, in the shapes qlient's users know.

`GraphQLRequest(query, variables, operation_name)` and `GraphQLSubscriptionRequest(...,
options=..., subscription_id=...)` are what a caller builds; `GraphQLResponse(request, body)`
is what comes back: the answered request beside the validated result, or, for a subscription,
beside the stream of results it iterates. The wire rules stay in `clew.protocol.http`: a body
becomes a response only through its validation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Protocol, final, runtime_checkable

from clew.protocol import FormattedError, FormattedExecutionResult, JSONObject
from clew.protocol._slots import slot_setters
from clew.protocol.http import GraphQLResponse as ResponseBody
from clew.protocol.http._response import data_alone

__all__ = [
    "GraphQLRequest",
    "GraphQLResponse",
    "GraphQLSubscriptionRequest",
    "ResponseStream",
]


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One operation to send: qlient's positional order, plus the spec's `extensions`.

    `variables` may hold files (bytes, binary files, paths, `Upload`): the backend then sends a
    multipart upload.
    """

    #: The GraphQL document's source text.
    query: str
    #: Values for the operation's variables.
    variables: JSONObject | None = None
    #: Which operation of the document to run; None lets the document decide.
    operation_name: str | None = None
    _: KW_ONLY
    #: Implementation-defined additions (persisted queries, tracing, ...).
    extensions: JSONObject | None = None


#: The writers of `GraphQLRequest`'s slots, for `new_request`.
_SET_QUERY, _SET_VARIABLES, _SET_OPERATION_NAME, _SET_EXTENSIONS = slot_setters(
    GraphQLRequest, "query", "variables", "operation_name", "extensions"
)


def new_request(
    query: str,
    variables: JSONObject | None,
    operation_name: str | None,
    extensions: JSONObject | None,
) -> GraphQLRequest:
    """`GraphQLRequest(query, variables, operation_name, extensions=extensions)`, faster.

    Built slot by slot: the client makes one per `execute`, and a frozen dataclass' `__init__`
    pays a checked attribute write per field (the class has no `__post_init__` to skip).
    """
    request = GraphQLRequest.__new__(GraphQLRequest)
    _SET_QUERY(request, query)
    _SET_VARIABLES(request, variables)
    _SET_OPERATION_NAME(request, operation_name)
    _SET_EXTENSIONS(request, extensions)
    return request


@final
@dataclass(frozen=True, slots=True)
class GraphQLSubscriptionRequest(GraphQLRequest):
    """A subscription that wants its own `connection_init` payload or operation id (qlient's).

    Either one gives the subscription a WebSocket of its own, since a shared socket has one
    `connection_init` and ids chosen by the backend; the socket closes when the stream ends.
    """

    _: KW_ONLY
    #: The operation id to use; None lets the backend generate one.
    subscription_id: str | None = None
    #: The `connection_init` payload for this subscription's socket; None uses the backend's.
    options: JSONObject | None = None


@runtime_checkable
class ResponseStream(Protocol):
    """A subscription's results, each a `GraphQLResponse`; `aclose()` stops the operation."""

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        """The stream itself."""
        ...

    async def __anext__(self) -> GraphQLResponse:
        """The next result; `StopAsyncIteration` once the server completes the operation."""
        ...

    async def aclose(self) -> None:
        """Stop the operation early; a no-op once it has ended."""
        ...


@final
class GraphQLResponse:
    """The answer to `request`: a validated result, or a stream of them for a subscription.

    `GraphQLResponse(request, body)` takes a decoded body (validated: a malformed one raises
    `clew.protocol.http.ResponseFormatError`), an already validated
    `clew.protocol.http.GraphQLResponse`, or a `ResponseStream`. A result compares equal to
    another result with the same data, errors and extensions, whatever request it answers.
    """

    __slots__ = ("data", "data_present", "errors", "extensions", "raw", "request")

    #: The request this answers.
    request: object
    #: What the response was built from: the body, or the stream of results.
    raw: Mapping[str, object] | ResponseBody | ResponseStream
    #: The result; None when absent or null (see `data_present`), and for a stream.
    data: JSONObject | None
    #: A non-empty list of errors, or None.
    errors: list[FormattedError] | None
    #: Implementation-defined additions.
    extensions: JSONObject | None
    #: Whether the body had a `data` entry, even a null one (False for a stream).
    data_present: bool

    def __init__(
        self, request: object, response: Mapping[str, object] | ResponseBody | ResponseStream
    ) -> None:
        self.request = request
        self.raw = response
        data = data_alone(response)
        if data is not None:
            # A decoded body of data alone (every subscription event): valid as it stands.
            self.data = data
            self.errors = None
            self.extensions = None
            self.data_present = True
            return
        body: ResponseBody | None
        if type(response) is ResponseBody:  # a final class: the cheapest test
            body = response
        elif isinstance(response, Mapping):
            body = ResponseBody.from_mapping(dict(response))
        elif isinstance(response, ResponseStream):
            body = None
        else:
            raise TypeError(
                "GraphQLResponse takes a response body (a mapping) or a stream of responses, "
                f"got {type(response).__name__}"
            )
        self.data = None if body is None else body.data
        self.errors = None if body is None else body.errors
        self.extensions = None if body is None else body.extensions
        self.data_present = body is not None and body.data_present

    @property
    def is_stream(self) -> bool:
        """Whether this is a subscription's response, iterated with ``async for``."""
        return isinstance(self.raw, ResponseStream)

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        if not isinstance(self.raw, ResponseStream):
            raise TypeError("Only a subscription's response can be iterated")
        return self.raw.__aiter__()

    async def aclose(self) -> None:
        """Stop a subscription's operation; nothing to do for a single result."""
        if isinstance(self.raw, ResponseStream):
            await self.raw.aclose()

    def to_result(self) -> FormattedExecutionResult:
        """The result as a `FormattedExecutionResult`, with only the entries present."""
        result: FormattedExecutionResult = {}
        if self.errors is not None:
            result["errors"] = self.errors
        if self.data_present:
            result["data"] = self.data
        if self.extensions is not None:
            result["extensions"] = self.extensions
        return result

    def _key(self) -> tuple[object, ...]:
        return (self.data, self.errors, self.extensions, self.data_present)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GraphQLResponse):
            if self.is_stream or other.is_stream:
                return self is other
            return self._key() == other._key()
        if isinstance(other, ResponseBody):
            return not self.is_stream and self._key() == (
                other.data,
                other.errors,
                other.extensions,
                other.data_present,
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable payloads: compared by value only

    def __repr__(self) -> str:
        if self.is_stream:
            return f"GraphQLResponse({self.request!r}, <stream>)"
        return f"GraphQLResponse({self.request!r}, {self.to_result()!r})"
