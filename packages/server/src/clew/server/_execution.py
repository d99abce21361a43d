"""The execution engine: the one user of graphql-core, shared by the HTTP and WebSocket handlers.

Parsing and validating dominate the cost of a small operation, so the engine does both once per
distinct query text: a bounded LRU cache (one per engine, hence per schema) keeps the parsed
document, its validation errors (failures are cached too), and a ready `PreparedOperation` for
each operation name. A repeated query goes straight to execution.

The seam the transports use (all of it; nothing else here is public)::

    prepared = engine.prepare(query, operation_name)
    if isinstance(prepared, PreparationFailure):
        ...  # prepared.errors (formatted); prepared.kind: DOCUMENT_PARSE or VALIDATION
    context = await engine.context_for(request_or_websocket, data)  # data: the payload mapping
    if prepared.operation_type is OperationType.SUBSCRIPTION:
        stream = await engine.subscribe(prepared, variables, context)
        # a FormattedExecutionResult (errors only) when the stream could not be created;
        # else a SubscriptionStream (`_subscription.py`): `async for result in stream`, and
        # `await stream.aclose()` (or cancel the task iterating it) to stop - that closes the
        # resolver's generator.
    else:
        result = await engine.execute(prepared, variables, context)
    frame_or_body = engine.encode(result)

`execute` and `subscribe` raise `InternalServerError` (already logged; its `.result` is a safe
error result) only for failures outside the resolvers; resolver errors are in the results, and
a source generator's exception ends a `SubscriptionStream` with one last error result.
Unexpected exceptions are masked ("Internal server error") unless `debug` is on.
`engine.limits` carries the configured `Limits` for the transports to enforce.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable, Collection, Mapping, Sequence
from functools import lru_cache
from inspect import isawaitable
from typing import TYPE_CHECKING, cast, final

import orjson
from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql import execute as graphql_execute
from graphql.execution import MiddlewareManager

from clew.protocol import FormattedError, FormattedExecutionResult, JSONObject
from clew.protocol.http import FailureKind

from ._compiler import compiler_off
from ._documents import DocumentRefusal, InMemoryDocumentStore, PersistedDocuments
from ._errors import INTERNAL_ERROR_MESSAGE, UnexpectedError, format_error, is_unexpected
from ._extensions import Extension, ExtensionFactory, ExtensionList
from ._limits import Limits, alias_limit_rule, depth_limit_rule
from ._options import (
    ValidationRulesOption,
    check_extensions,
    check_manager_class,
    check_validation_rules,
    parser_kind,
    wraps_fields,
)
from ._preparation import Compiled
from ._prepared import PreparationFailure, PreparedOperation
from ._subscription import EXECUTOR_KEYWORD, SubscriptionStream, open_source_stream
from ._types import ContextValue, ErrorFormatter, QueryParser, RequestData, RootValue
from .pubsub import PubSub

if TYPE_CHECKING:
    from ._compiler._plan import Plan

__all__ = [
    "CONNECTION_PARAMS",
    "CONNECTION_RESULT",
    "PUBSUB",
    "Engine",
    "InternalServerError",
    "PreparationFailure",
    "PreparedOperation",
]

#: `websocket.scope` key holding the `connection_init` payload (an object, `{}` when absent),
#: also a key of the default context of a WebSocket operation.
CONNECTION_PARAMS = "connection_params"
#: `websocket.scope` key holding what `on_connect` returned (None without the hook), also a key
#: of the default context of a WebSocket operation.
CONNECTION_RESULT = "connection_result"

#: Key of the app's pub/sub in a dict context (``info.context["pubsub"]``).
PUBSUB = "pubsub"

#: Longer query texts are parsed every time rather than kept, so the cache's memory stays bounded.
_MAX_CACHED_QUERY_CHARS = 100_000


class InternalServerError(Exception):
    """An operation failed outside its resolvers (already logged); `result` is safe to send."""

    def __init__(self, result: FormattedExecutionResult) -> None:
        super().__init__(INTERNAL_ERROR_MESSAGE)
        self.result = result


def _extensions_finished(
    extensions: Sequence[Extension], context_value: object, errors: Sequence[GraphQLError] | None
) -> None:
    # Errors first, so a tracer records them on the operation's span before it ends; then
    # `request_finished` in reverse order, as Ariadne unwinds its extensions.
    if errors:
        for extension in extensions:
            extension.has_errors(errors, context_value)
    for extension in reversed(extensions):
        extension.request_finished(context_value)


@final
class _StreamHooks:
    """A subscription's extensions: errors of its events as they come, the end on close."""

    __slots__ = ("_context", "_extensions")

    def __init__(self, extensions: list[Extension], context_value: object) -> None:
        self._extensions = extensions
        self._context = context_value

    def errors(self, errors: Sequence[GraphQLError]) -> None:
        for extension in self._extensions:
            extension.has_errors(errors, self._context)

    def closed(self) -> None:
        _extensions_finished(self._extensions, self._context, None)


class Engine:
    """Prepares, executes and encodes operations for one schema, with its options and cache."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        context_value: ContextValue = None,
        root_value: RootValue = None,
        query_parser: QueryParser | Callable[[object, RequestData], DocumentNode] | None = None,
        validation_rules: ValidationRulesOption | None = (),
        debug: bool = False,
        introspection: bool = True,
        logger: str | logging.Logger | None = None,
        error_formatter: ErrorFormatter | None = None,
        execution_context_class: type | None = None,
        extensions: ExtensionList = (),
        middleware: Collection[object] | MiddlewareManager | None = None,
        middleware_manager_class: type[MiddlewareManager] | None = None,
        limits: Limits | None = None,
        document_cache_size: int = 1024,
        documents: PersistedDocuments | None = None,
        pubsub: PubSub | None = None,
    ) -> None:
        checked_extensions = check_extensions(extensions)
        if checked_extensions is not None and not isinstance(checked_extensions, tuple):
            raise TypeError(
                "GraphQL(extensions=...) takes a list; per-request extensions are an option of "
                "GraphQLHTTPHandler(extensions=...)"
            )
        self.schema = schema
        #: The app's pub/sub, added to every dict context under ``"pubsub"``.
        self.pubsub = pubsub
        #: Persisted documents (APQ on, in memory, unless configured otherwise).
        self.documents = (
            documents if documents is not None else PersistedDocuments(InMemoryDocumentStore())
        )
        self.debug = debug
        self.introspection = introspection
        self.limits = limits if limits is not None else Limits()
        self.logger = (
            logger
            if isinstance(logger, logging.Logger)
            else logging.getLogger(logger or "clew.server")
        )
        self._context_value = context_value
        #: Whether a context value (or callable) is configured; without one the context is
        #: `default_context`'s.
        self.has_context_value = context_value is not None
        self._root_value = root_value
        self._root_is_callable = callable(root_value)
        kind = parser_kind(query_parser)
        #: Ariadne's `query_parser(context, data)`: called per request, never cached.
        self._request_parser = (
            cast(Callable[[object, RequestData], DocumentNode], query_parser)
            if kind is not None and kind.per_request
            else None
        )
        self._parse: QueryParser = (
            cast(QueryParser, query_parser)
            if kind is not None and not kind.per_request
            else self._default_parse
        )
        checked_rules = check_validation_rules(validation_rules)
        #: Ariadne's `validation_rules(context, document, data)`: asked per request.
        self._request_rules = (
            None
            if isinstance(checked_rules, tuple)
            else cast(
                Callable[[object, DocumentNode, object], Collection[type[ASTValidationRule]]],
                checked_rules,
            )
        )
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            depth_limit_rule(self.limits.max_query_depth),
            alias_limit_rule(self.limits.max_aliases),
        ]
        if not introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        if isinstance(checked_rules, tuple):
            rules.extend(checked_rules)
        #: Whether preparing needs the request's context (Ariadne's parser or rules
        #: callables): then the transports build the context first and pass it, with the
        #: request data, to `prepare`, and nothing is cached.
        self.prepares_per_request = (
            self._request_parser is not None or self._request_rules is not None
        )
        self._rules = tuple(rules)
        self._error_formatter: ErrorFormatter = error_formatter or format_error
        self._extensions: tuple[ExtensionFactory, ...] = tuple(checked_extensions or ())
        self._manager_class = check_manager_class(middleware_manager_class)
        #: Whether an app-wide extension wraps field resolution: execution must then go through
        #: graphql-core's middleware (a factory that is not a class may, so it counts).
        self.wraps_fields = any(
            not isinstance(factory, type) or wraps_fields(factory) for factory in self._extensions
        )
        self._middleware: MiddlewareManager | None
        if middleware is None or isinstance(middleware, MiddlewareManager):
            self._middleware = middleware
            self._middleware_items: tuple[object, ...] = (
                tuple(middleware.middlewares or ()) if middleware is not None else ()
            )
        elif isinstance(middleware, Collection) and not isinstance(middleware, str | bytes):
            # Built once: the manager caches the wrapped resolvers across requests.
            self._middleware_items = tuple(middleware)
            self._middleware = self._manager_class(*middleware) if middleware else None
        else:
            raise TypeError(
                "GraphQL(middleware=...) takes a list of middleware or a MiddlewareManager; "
                "per-request middleware is an option of GraphQLHTTPHandler(middleware=...), "
                f"got {type(middleware).__name__}"
            )
        self._executor_options: dict[str, object] = (
            {EXECUTOR_KEYWORD: execution_context_class} if execution_context_class else {}
        )
        self._cached_compile = lru_cache(maxsize=document_cache_size)(self._compile)
        # Why every operation is left to graphql-core's executor (None: compile each one).
        self._compiler_off = compiler_off(
            middleware=self._middleware is not None or self.wraps_fields,
            executor_class=execution_context_class,
        )
        #: Operations compiled, and operations left to graphql-core's executor (each logged at
        #: debug level with the reason), since the engine was made.
        self.plans_compiled = 0
        self.plans_refused = 0

    # -- preparing -------------------------------------------------------------------------

    def prepare(
        self,
        query: str,
        operation_name: str | None,
        *,
        context: object = None,
        data: RequestData | None = None,
    ) -> PreparedOperation | PreparationFailure:
        """The operation to run for `query`, parsed and validated at most once per query text.

        With `prepares_per_request`, `context` and `data` go to the per-request parser and
        rules, and the query is parsed and validated every time.
        """
        if self.prepares_per_request:
            compiled = self._compile(query, context, data, operation_name)
        elif len(query) <= _MAX_CACHED_QUERY_CHARS:
            compiled = self._cached_compile(query)
        else:
            compiled = self._compile(query)
        return compiled.select(operation_name)

    def prepare_document(
        self,
        document: DocumentNode,
        operation_name: str | None,
        *,
        context: object = None,
        data: RequestData | None = None,
    ) -> PreparedOperation | PreparationFailure:
        """Validate an already parsed `document` (Ariadne's `query_document`); never cached."""
        return self._validated(document, context, data, plans=False).select(operation_name)

    async def prepare_request(
        self,
        query: str | None,
        operation_name: str | None,
        extensions: JSONObject | None,
        *,
        document_id: str | None = None,
        context: object = None,
        data: RequestData | None = None,
    ) -> PreparedOperation | PreparationFailure | DocumentRefusal:
        """`prepare`, for a request that may name its document instead (`_documents.py`): by
        hash in `extensions`, or by `document_id` (the HTTP transports' `documentId`).

        Every transport calls this, so APQ and trusted documents apply to all of them alike.
        `context` and `data` are for a per-request parser or rules (see `prepare`).
        """
        if query is not None and not self._names_a_document(extensions, document_id):
            return self.prepare(query, operation_name, context=context, data=data)
        documents = self.documents
        resolved = await documents.resolve(query, extensions, document_id)
        if isinstance(resolved, DocumentRefusal):
            return resolved
        prepared = self.prepare(resolved.text, operation_name, context=context, data=data)
        if resolved.register_as is not None and isinstance(prepared, PreparedOperation):
            await documents.register(resolved)
        return prepared

    def prepare_now(
        self,
        query: str | None,
        operation_name: str | None,
        extensions: JSONObject | None,
        *,
        document_id: str | None = None,
    ) -> PreparedOperation | PreparationFailure | None:
        """What `prepare_request` answers, when it can answer without waiting (the request
        names no persisted document, no trusted list applies, nothing is prepared per
        request); None when it cannot: then await `prepare_request`."""
        if (
            query is None
            or self.prepares_per_request
            or self._names_a_document(extensions, document_id)
        ):
            return None
        return self.prepare(query, operation_name)

    def _names_a_document(self, extensions: JSONObject | None, document_id: str | None) -> bool:
        # Whether the text to run must be looked up (`_documents.py`) rather than taken as sent.
        return (
            extensions is not None or document_id is not None or self.documents.trusted is not None
        )

    def cache_clear(self) -> None:
        """Forget every prepared document (for example after changing resolvers in tests)."""
        self._cached_compile.cache_clear()

    def _default_parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.limits.max_tokens)

    def _compile(
        self,
        query: str,
        context: object = None,
        data: RequestData | None = None,
        operation_name: str | None = None,
    ) -> Compiled:
        if data is None and self.prepares_per_request:
            data = {"query": query, "operationName": operation_name}
        try:
            if self._request_parser is not None:
                document = self._request_parser(context, cast(RequestData, data))
            else:
                document = self._parse(query)
        except GraphQLError as error:
            return Compiled(
                PreparationFailure(kind=FailureKind.DOCUMENT_PARSE, errors=self._format([error])),
                {},
            )
        # Only a cached document is worth compiling: a per-request one is prepared every time.
        return self._validated(document, context, data, plans=not self.prepares_per_request)

    def _validated(
        self, document: DocumentNode, context: object, data: RequestData | None, *, plans: bool
    ) -> Compiled:
        rules = self._rules
        if self._request_rules is not None:
            extra = self._request_rules(context, document, data)
            if extra:
                rules = (*rules, *extra)
        errors = validate(self.schema, document, rules)
        if errors:
            return Compiled(
                PreparationFailure(kind=FailureKind.VALIDATION, errors=self._format(errors)), {}
            )
        return Compiled.of(document, self._plan if plans else None)

    def _plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        # Refusing is explicit, logged and counted; anything else a compilation raises is a bug.
        reason = self._compiler_off
        if reason is None:
            from ._compiler._plan import compile_plan  # noqa: PLC0415 - graphql-core 3.3 only

            plan = compile_plan(self.schema, document, operation_name)
            if not isinstance(plan, str):
                self.plans_compiled += 1
                return plan
            reason = plan
        self.plans_refused += 1
        name = operation_name or "(anonymous)"
        self.logger.debug("Operation %s runs on graphql-core's executor: %s", name, reason)
        return None

    # -- running ---------------------------------------------------------------------------

    async def context_for(self, connection: object, data: RequestData) -> object:
        """The context value for one operation: the configured value or what its callable gives.

        Without a configured value it is ``{"request": connection, "pubsub": pubsub}`` (no
        ``"pubsub"`` for an engine built without one); for a
        WebSocket it also holds ``"connection_params"`` (`data`, the ``connection_init``
        payload) and ``"connection_result"`` (what ``on_connect`` returned, from the socket's
        scope). A configured (or returned) dict gains ``"pubsub"`` unless it has that key;
        any other context object is passed as it is.
        """
        configured = self._context_value
        if configured is None:
            return self.default_context(connection, data)
        value = configured
        if callable(configured):
            value = configured(connection, data)
            if isawaitable(value):
                value = await value
        if isinstance(value, dict) and self.pubsub is not None:
            value.setdefault(PUBSUB, self.pubsub)
        return value

    def default_context(self, connection: object, data: RequestData) -> dict[str, object]:
        """The context `context_for` gives when the app configures none (`has_context_value`
        False), made without a coroutine."""
        context: dict[str, object] = {"request": connection}
        if self.pubsub is not None:
            context[PUBSUB] = self.pubsub
        scope = getattr(connection, "scope", None)
        # `dict` first: an ASGI scope is one, told apart without the ABC's check.
        if isinstance(scope, (dict, Mapping)) and scope.get("type") == "websocket":
            # `data` is the connection_init payload; on_connect's result is in the scope.
            context[CONNECTION_PARAMS] = data
            context[CONNECTION_RESULT] = scope.get(CONNECTION_RESULT)
        return context

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: JSONObject | None,
        context_value: object,
        *,
        extensions: Sequence[ExtensionFactory] = (),
        middleware: Sequence[object] = (),
        manager_class: type[MiddlewareManager] | None = None,
    ) -> FormattedExecutionResult:
        """Run a query or mutation (a subscription runs once, with the root value as its event).

        `extensions` and `middleware` are added, for this operation only, after the app's own,
        combined by `manager_class` (default: the app's `middleware_manager_class`).
        Resolver errors are in the result; an exception outside the resolvers (a failing root
        value callable, a broken schema, an extension's hook) raises `InternalServerError`.
        """
        instances: list[Extension] | None = None
        # Field-wrapping extensions and middleware run inside graphql-core's execution, which
        # calls them for every field: any other executor must step aside when this is not None.
        wrapping = self._middleware
        if extensions or middleware or self._extensions:
            factories = (*self._extensions, *extensions) if extensions else self._extensions
            instances = self._extensions_started(prepared, context_value, factories)
            wrapping = self._middleware_for(instances, middleware, manager_class)
        result: ExecutionResult | None = None
        failure: Exception | None = None
        try:
            root = (
                await self._root_for(prepared, variables, context_value)
                if self._root_is_callable
                else self._root_value
            )
            plan = prepared.plan if wrapping is None else None
            if plan is not None:
                outcome = plan.execute(root, context_value, variables)
            else:
                outcome = graphql_execute(
                    self.schema,
                    prepared.document,
                    root,
                    context_value,
                    variables,
                    prepared.operation_name,
                    middleware=wrapping,
                    **self._executor_options,  # type: ignore[arg-type]
                )
            result = outcome if isinstance(outcome, ExecutionResult) else await outcome
        except GraphQLError as error:
            result = ExecutionResult(None, [error])
        except Exception as error:  # a bug outside any resolver, e.g. in a root value callable
            failure = error
            raise InternalServerError(self._internal_error(error)) from error
        finally:
            if instances:
                errors = result.errors if result is not None else None
                if failure is not None:
                    errors = [UnexpectedError(failure)]
                self._finish_extensions(instances, context_value, errors)
        return self.format_result(result, context_value, instances)

    def _finish_extensions(
        self,
        instances: Sequence[Extension],
        context_value: object,
        errors: Sequence[GraphQLError] | None,
    ) -> None:
        """`has_errors`, then `request_finished`; a failing hook masks the whole result."""
        try:
            _extensions_finished(instances, context_value, errors)
        except Exception as error:
            raise InternalServerError(self._internal_error(error)) from error

    def _middleware_for(
        self,
        instances: Sequence[Extension] | None,
        extra: Sequence[object],
        manager_class: type[MiddlewareManager] | None = None,
    ) -> MiddlewareManager | None:
        """The app's manager, unless this operation adds middleware or field-wrapping extensions.

        Extensions whose `resolve` does something run innermost, after every middleware, as
        in Ariadne; graphql-core's execution calls them for each field.
        """
        wrapping = [e for e in instances if wraps_fields(e)] if instances else []
        if not wrapping and not extra:
            return self._middleware
        return (manager_class or self._manager_class)(*self._middleware_items, *extra, *wrapping)

    def internal_error(self, error: Exception) -> FormattedExecutionResult:
        """Log a failure outside the resolvers; the masked result to send for it."""
        return self._internal_error(error)

    async def subscribe(
        self, prepared: PreparedOperation, variables: JSONObject | None, context_value: object
    ) -> SubscriptionStream | FormattedExecutionResult:
        """Start a subscription: its results, or one result saying why it could not start.

        Like `execute`, raises `InternalServerError` for a failure outside the resolvers.
        """
        if prepared.operation_type is not OperationType.SUBSCRIPTION:
            raise ValueError("Engine.subscribe() runs subscriptions; use execute() for the others")
        extensions = self._extensions_started(prepared, context_value, self._extensions)
        middleware = self._middleware_for(extensions, ())
        try:
            root = await self._root_for(prepared, variables, context_value)
            source, execute_event = open_source_stream(
                self.schema,
                prepared,
                root,
                variables,
                context_value,
                middleware=middleware,
                executor_options=self._executor_options,
                plan=prepared.plan if middleware is None else None,
            )
            if isawaitable(source):
                source = await source
        except GraphQLError as error:
            source = ExecutionResult(None, [error])
        except Exception as error:
            if extensions:
                _extensions_finished(extensions, context_value, [UnexpectedError(error)])
            raise InternalServerError(self._internal_error(error)) from error
        except BaseException:
            if extensions:
                _extensions_finished(extensions, context_value, None)
            raise
        if isinstance(source, ExecutionResult):
            if extensions:
                _extensions_finished(extensions, context_value, source.errors)
            # The stream could not be created: a request error, so no `data` (as graphql-js).
            failed = self.format_result(source, context_value, extensions)
            if failed.get("data") is None:
                failed.pop("data", None)
            return failed
        stream = cast(AsyncIterable[object], source)
        return SubscriptionStream(
            stream,
            execute_event,
            context_value,
            format_result=self.format_result,
            unexpected=self._internal_error,
            hooks=_StreamHooks(extensions, context_value) if extensions else None,
        )

    async def _root_for(
        self, prepared: PreparedOperation, variables: JSONObject | None, context_value: object
    ) -> object:
        if not self._root_is_callable:
            return self._root_value
        factory = cast(Callable[..., object], self._root_value)
        root = factory(context_value, prepared.operation_name, variables, prepared.document)
        return await root if isawaitable(root) else root

    def _extensions_started(
        self,
        prepared: PreparedOperation,
        context_value: object,
        factories: Sequence[ExtensionFactory],
    ) -> list[Extension] | None:
        """One instance of each extension, started in order; a failing hook is a masked 500."""
        if not factories:
            return None
        try:
            extensions = [factory() for factory in factories]
            kind, name = prepared.operation_type, prepared.operation_name
            for extension in extensions:
                extension.request_started(context_value)
                # Ariadne's extensions have no `operation_started`.
                operation_started = getattr(extension, "operation_started", None)
                if operation_started is not None:
                    operation_started(kind, name, context_value)
        except Exception as error:
            raise InternalServerError(self._internal_error(error)) from error
        return extensions

    # -- formatting ------------------------------------------------------------------------

    def format_result(
        self,
        result: ExecutionResult,
        context_value: object,
        extensions: list[Extension] | None = None,
    ) -> FormattedExecutionResult:
        """The wire shape of `result`: errors formatted (and masked), extensions merged (their
        `format`; `has_errors` ran earlier, while the operation was still open).

        A result that failed before execution (such as variable coercion) carries no `data`
        key, as the GraphQL spec requires for request errors.
        """
        errors = result.errors
        formatted: FormattedExecutionResult
        if not errors:
            formatted = {"data": result.data}
        elif result.data is None and all(error.path is None for error in errors):
            formatted = {"errors": self._format(errors)}
        else:
            formatted = {"data": result.data, "errors": self._format(errors)}
        if result.extensions or extensions:
            entries: JSONObject = dict(result.extensions or {})
            try:
                for extension in extensions or ():
                    entries.update(extension.format(context_value) or {})
            except Exception as error:
                raise InternalServerError(self._internal_error(error)) from error
            if entries:
                formatted["extensions"] = entries
        return formatted

    def _format(self, errors: Collection[GraphQLError]) -> list[FormattedError]:
        for error in errors:
            if is_unexpected(error):
                self.logger.error(
                    "An exception escaped a resolver: %s",
                    error.message,
                    exc_info=error.original_error,
                )
        formatter, debug = self._error_formatter, self.debug
        return [formatter(error, debug) for error in errors]

    def _internal_error(self, error: Exception) -> FormattedExecutionResult:
        self.logger.error("The operation failed outside its resolvers", exc_info=error)
        wrapped = UnexpectedError(error)
        return {"errors": [self._error_formatter(wrapped, self.debug)]}

    @staticmethod
    def encode(result: FormattedExecutionResult | Mapping[str, object]) -> bytes:
        """`result` as compact UTF-8 JSON."""
        return orjson.dumps(result)
