"""`client.query.<field>(...)`, `client.mutation.<field>(...)`, `client.subscription.<field>(...)`.

Attribute access names a root field; calling it builds one typed operation from the schema
(introspected on first use) and sends it. Keyword arguments are the field's arguments, except
the reserved `_fields`, `_depth`, `_operation_name` and `_raise_on_errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, Protocol, TypeVar, cast, final

from graphql import GraphQLSchema

from ._builder import BuiltOperation, OperationKind, build_operation, root_type
from ._fields import FieldsLike
from ._messages import GraphQLResponse, ResponseStream

__all__ = ["DeferredStream", "OperationProxy", "OperationSender", "QueryField", "SubscriptionField"]


class OperationSender(Protocol):
    """What a proxy needs from its client (`AIOHTTPClient`): the schema, and sending."""

    @property
    def depth(self) -> int:
        """How deep an automatic selection goes below the root field."""
        ...

    @property
    def schema(self) -> GraphQLSchema | None:
        """The schema if already known (never fetches)."""
        ...

    async def get_schema(self) -> GraphQLSchema:
        """The schema, fetched on first use."""
        ...

    async def execute_built(
        self, built: BuiltOperation, *, raise_on_errors: bool = False
    ) -> GraphQLResponse:
        """Send a built query or mutation."""
        ...

    def subscribe_built(
        self, built: BuiltOperation, *, raise_on_errors: bool = False
    ) -> ResponseStream:
        """Stream a built subscription."""
        ...


F = TypeVar("F", "QueryField", "SubscriptionField")


def _with_selection(
    selection: FieldsLike | None, arguments: dict[str, object]
) -> dict[str, object]:
    """qlient's positional field selection is the same as `_fields=`; both at once is an error."""
    if selection is None:
        return arguments
    if "_fields" in arguments:
        raise TypeError("Give the field selection once: positionally or as _fields=, not both")
    return {**arguments, "_fields": selection}


def _options(
    arguments: dict[str, object],
) -> tuple[FieldsLike | None, int | None, str | None, bool]:
    """Pop the reserved keyword arguments; whatever remains are GraphQL arguments."""
    fields = cast("FieldsLike | None", arguments.pop("_fields", None))
    depth = arguments.pop("_depth", None)
    operation_name = arguments.pop("_operation_name", None)
    raise_on_errors = bool(arguments.pop("_raise_on_errors", False))
    if depth is not None and not isinstance(depth, int):
        raise TypeError(f"_depth must be an int, got {depth!r}")
    if operation_name is not None and not isinstance(operation_name, str):
        raise TypeError(f"_operation_name must be a str, got {operation_name!r}")
    return fields, depth, operation_name, raise_on_errors


class _Field:
    """One root field of one operation kind, bound to a client."""

    __slots__ = ("_client", "_kind", "name")

    def __init__(self, client: OperationSender, kind: OperationKind, name: str) -> None:
        self._client = client
        self._kind: OperationKind = kind
        self.name = name

    def __repr__(self) -> str:
        return f"<{self._kind} field {self.name!r}>"

    async def build(self, **arguments: object) -> BuiltOperation:
        """The operation a call with `arguments` would send, without sending it."""
        built, _ = await self._build(arguments)
        return built

    async def _build(self, arguments: dict[str, object]) -> tuple[BuiltOperation, bool]:
        fields, depth, operation_name, raise_on_errors = _options(arguments)
        schema = await self._client.get_schema()
        built = build_operation(
            schema,
            self._kind,
            self.name,
            arguments,
            fields=fields,
            depth=self._client.depth if depth is None else depth,
            operation_name=operation_name,
        )
        return built, raise_on_errors


@final
class QueryField(_Field):
    """A query or mutation root field: awaiting a call sends the operation over HTTP."""

    __slots__ = ()

    async def __call__(
        self, selection: FieldsLike | None = None, /, **arguments: object
    ) -> GraphQLResponse:
        built, raise_on_errors = await self._build(_with_selection(selection, arguments))
        return await self._client.execute_built(built, raise_on_errors=raise_on_errors)


@final
class SubscriptionField(_Field):
    """A subscription root field: a call returns a stream; iterating it subscribes."""

    __slots__ = ()

    def __call__(
        self, selection: FieldsLike | None = None, /, **arguments: object
    ) -> DeferredStream:
        arguments = _with_selection(selection, arguments)

        async def start() -> ResponseStream:
            built, raise_on_errors = await self._build(arguments)
            return self._client.subscribe_built(built, raise_on_errors=raise_on_errors)

        return DeferredStream(start)


@final
class DeferredStream:
    """A stream that must await something (the schema) before it can start the operation.

    Nothing happens until the first `__anext__`; `aclose()` stops the operation if it began.
    """

    __slots__ = ("_closed", "_start", "_stream")

    def __init__(self, start: Callable[[], Awaitable[ResponseStream]]) -> None:
        self._start = start
        self._stream: ResponseStream | None = None
        self._closed = False

    def __aiter__(self) -> AsyncIterator[GraphQLResponse]:
        return self

    async def __anext__(self) -> GraphQLResponse:
        if self._closed:
            raise StopAsyncIteration
        if self._stream is None:
            self._stream = await self._start()
        return await self._stream.__anext__()

    async def aclose(self) -> None:
        """Stop the operation (if it started); later iteration ends at once."""
        self._closed = True
        if self._stream is not None:
            await self._stream.aclose()


@final
class OperationProxy(Generic[F]):
    """`client.query` and friends: ``proxy.books`` or ``proxy["books"]`` names a root field."""

    __slots__ = ("_client", "_factory", "_kind")

    _factory: Callable[[OperationSender, OperationKind, str], F]

    def __init__(
        self,
        client: OperationSender,
        kind: OperationKind,
        factory: Callable[[OperationSender, OperationKind, str], F],
    ) -> None:
        self._client = client
        self._kind: OperationKind = kind
        self._factory = factory

    def __getattr__(self, name: str) -> F:
        if name.startswith("__"):  # keep copy, pickle and friends from probing the schema
            raise AttributeError(name)
        return self._factory(self._client, self._kind, name)

    def __getitem__(self, name: str) -> F:
        return self._factory(self._client, self._kind, name)

    def __dir__(self) -> list[str]:
        schema = self._client.schema
        if schema is None:
            return []
        try:
            return sorted(root_type(schema, self._kind).fields)
        except ValueError:
            return []

    def __repr__(self) -> str:
        return f"<{self._kind} proxy of {self._client!r}>"
