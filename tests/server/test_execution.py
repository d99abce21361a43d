"""The engine: document cache, limits, error masking, context/root values, hooks, subscriptions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from graphql import DocumentNode, GraphQLError, OperationType, parse
from graphql.validation import ASTValidationRule

from clew.protocol.http import FailureKind
from clew.server import Extension, Limits, TrustedDocuments
from clew.server.engine import (
    Engine,
    InternalServerError,
    PreparationFailure,
    PreparedOperation,
    SubscriptionStream,
)

from .helpers import Recorder, make_app


def engine_for(recorder: Recorder | None = None, **options: object) -> Engine:
    return make_app(recorder, **options).engine


def prepared(engine: Engine, query: str, name: str | None = None) -> PreparedOperation:
    result = engine.prepare(query, name)
    assert isinstance(result, PreparedOperation), result
    return result


def failure(engine: Engine, query: str, name: str | None = None) -> PreparationFailure:
    result = engine.prepare(query, name)
    assert isinstance(result, PreparationFailure), result
    return result


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, query: str) -> DocumentNode:
        self.calls += 1
        return parse(query)


def counting_rule() -> tuple[type[ASTValidationRule], list[int]]:
    runs: list[int] = []

    class Counting(ASTValidationRule):
        def enter_document(self, *_args: object) -> None:
            runs.append(1)

    return Counting, runs


# -- the document cache ----------------------------------------------------------------------


def test_a_repeated_query_is_neither_parsed_nor_validated_again() -> None:
    parser = CountingParser()
    rule, runs = counting_rule()
    engine = engine_for(query_parser=parser, validation_rules=[rule])
    first = prepared(engine, "{ hello }")
    second = prepared(engine, "{ hello }")
    assert second is first
    assert (parser.calls, len(runs)) == (1, 1)
    prepared(engine, '{ hello(name: "x") }')
    assert (parser.calls, len(runs)) == (2, 2)


def test_failures_are_cached_too() -> None:
    parser = CountingParser()
    engine = engine_for(query_parser=parser)
    assert failure(engine, "{ nope }").kind is FailureKind.VALIDATION
    assert failure(engine, "{ nope }").kind is FailureKind.VALIDATION
    assert parser.calls == 1


def test_the_cache_is_bounded() -> None:
    parser = CountingParser()
    engine = engine_for(query_parser=parser, document_cache_size=2)
    for query in ("{ a: hello }", "{ b: hello }", "{ c: hello }", "{ a: hello }"):
        prepared(engine, query)
    assert parser.calls == 4  # "{ a: hello }" was evicted by the third query


def test_prepare_knows_each_operation_and_its_type() -> None:
    engine = engine_for()
    document = "query Q { hello } mutation M { add(a: 1, b: 2) } subscription S { ticks }"
    assert prepared(engine, document, "Q").operation_type is OperationType.QUERY
    assert prepared(engine, document, "M").operation_type is OperationType.MUTATION
    assert prepared(engine, document, "S").operation_type is OperationType.SUBSCRIPTION
    assert failure(engine, document).errors == [
        {"message": "Must provide operation name if query contains multiple operations."}
    ]
    assert failure(engine, document, "X").errors == [{"message": "Unknown operation named 'X'."}]
    assert prepared(engine, "query Only { hello }").operation_name == "Only"


def test_a_syntax_error_is_a_parse_failure() -> None:
    result = failure(engine_for(), "{ hello(")
    assert result.kind is FailureKind.DOCUMENT_PARSE
    assert result.errors[0]["message"].startswith("Syntax Error")


# -- limits ----------------------------------------------------------------------------------


def test_the_depth_limit_follows_fragments() -> None:
    engine = engine_for(limits=Limits(max_query_depth=3))
    prepared(engine, "{ nested { nested { hello } } }")
    deep = failure(
        engine, "query Deep { nested { ...F } } fragment F on Query { nested { nested { hello } } }"
    )
    assert deep.errors[0]["message"] == "'Deep' exceeds the maximum query depth of 3 (depth 4)."


def test_the_alias_limit() -> None:
    engine = engine_for(limits=Limits(max_aliases=2))
    prepared(engine, "{ a: hello b: hello }")
    too_many = failure(engine, "{ a: hello b: hello c: hello }")
    assert too_many.errors[0]["message"] == "The document exceeds the maximum of 2 aliases."


def test_the_token_limit() -> None:
    engine = engine_for(limits=Limits(max_tokens=10))
    prepared(engine, "{ hello }")
    too_long = failure(engine, "{ " + "hello " * 20 + "}")
    assert too_long.kind is FailureKind.DOCUMENT_PARSE
    assert "tokens" in too_long.errors[0]["message"]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_aliases"):
        Limits(max_aliases=0)


def test_introspection_off_fails_validation() -> None:
    engine = engine_for(introspection=False)
    assert failure(engine, "{ __schema { types { name } } }").kind is FailureKind.VALIDATION
    prepared(engine, "{ __typename hello }")


# -- errors ----------------------------------------------------------------------------------


async def test_unexpected_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_for()
    with caplog.at_level(logging.ERROR, logger="clew.server"):
        result = await engine.execute(prepared(engine, "{ hello boom }"), None, {})
    assert result == {
        "data": {"hello": "Hello world", "boom": None},
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 9}],
                "path": ["boom"],
            }
        ],
    }
    [record] = caplog.records
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "hunter2" in caplog.text  # the log keeps what the client must not see


async def test_deliberate_errors_are_shown() -> None:
    engine = engine_for()
    result = await engine.execute(prepared(engine, "{ refused }"), None, {})
    assert result["errors"][0]["message"] == "You may not see this"


async def test_debug_puts_the_traceback_in_extensions() -> None:
    engine = engine_for(debug=True)
    result = await engine.execute(prepared(engine, "{ boom }"), None, {})
    [error] = result["errors"]
    assert error["message"] == "database password is hunter2"
    exception = error["extensions"]["exception"]
    assert exception["type"] == "ValueError"  # type: ignore[index]
    assert any("raise ValueError" in line for line in exception["stacktrace"])  # type: ignore[index, union-attr]


async def test_a_custom_error_formatter_decides() -> None:
    def formatter(error: GraphQLError, debug: bool) -> dict[str, object]:
        return {"message": f"custom: {error.message} debug={debug}"}

    engine = engine_for(error_formatter=formatter)
    result = await engine.execute(prepared(engine, "{ boom }"), None, {})
    assert result["errors"] == [{"message": "custom: database password is hunter2 debug=False"}]


async def test_variable_coercion_errors_carry_no_data() -> None:
    engine = engine_for()
    result = await engine.execute(
        prepared(engine, "query($n: Int!) { count(n: $n) }"), {"n": "x"}, {}
    )
    assert "data" not in result
    assert "Int cannot represent" in result["errors"][0]["message"]


async def test_a_failing_root_value_callable_raises_internal_server_error() -> None:
    def root(*_args: object) -> object:
        raise RuntimeError("no root")

    engine = engine_for(root_value=root)
    with pytest.raises(InternalServerError) as raised:
        await engine.execute(prepared(engine, "{ hello }"), None, {})
    assert raised.value.result == {"errors": [{"message": "Internal server error"}]}


# -- context, root value, middleware, extensions ---------------------------------------------


async def test_default_context_holds_the_request_and_the_pubsub() -> None:
    engine = engine_for()
    assert engine.pubsub is not None
    context = await engine.context_for("the request", {})
    assert context == {"request": "the request", "pubsub": engine.pubsub}


class FakeSocket:
    def __init__(self, scope: dict[str, object]) -> None:
        self.scope = scope


async def test_default_websocket_context_holds_the_connection_params_and_result() -> None:
    socket = FakeSocket({"type": "websocket", "connection_result": {"user": "ada"}})
    engine = engine_for()
    context = await engine.context_for(socket, {"token": "t"})
    assert context == {
        "request": socket,
        "pubsub": engine.pubsub,
        "connection_params": {"token": "t"},
        "connection_result": {"user": "ada"},
    }
    http = FakeSocket({"type": "http"})
    assert await engine.context_for(http, {"query": "{ hello }"}) == {
        "request": http,
        "pubsub": engine.pubsub,
    }


@pytest.mark.parametrize("kind", ["value", "sync", "async"])
async def test_context_value_variants(kind: str) -> None:
    context_value: object
    if kind == "value":
        context_value = {"user": "ada"}
    elif kind == "sync":
        context_value = lambda request, data: {"user": request, "query": data["query"]}  # noqa: E731
    else:

        async def context_value(request: object, data: dict[str, object]) -> object:
            return {"user": request, "query": data["query"]}

    engine = engine_for(context_value=context_value)
    context = await engine.context_for("ada", {"query": "{ hello }"})
    expected = {"user": "ada"} if kind == "value" else {"user": "ada", "query": "{ hello }"}
    # A dict context gains the app's pub/sub.
    assert context == {**expected, "pubsub": engine.pubsub}


async def test_a_dict_context_keeps_its_own_pubsub_key() -> None:
    engine = engine_for(context_value=lambda _request, _data: {"pubsub": "mine"})
    assert await engine.context_for("ada", {}) == {"pubsub": "mine"}


@pytest.mark.parametrize("kind", ["value", "callable"])
async def test_a_context_that_is_not_a_dict_is_passed_as_it_is(kind: str) -> None:
    class Context:
        __slots__ = ("user",)

        def __init__(self) -> None:
            self.user = "ada"

    fixed = Context()
    engine = engine_for(context_value=fixed if kind == "value" else lambda _r, _d: fixed)
    # No key or attribute is added; such an app reaches its pub/sub as `app.pubsub`.
    assert await engine.context_for("ada", {}) is fixed
    assert not hasattr(fixed, "pubsub")


async def test_root_value_callable_receives_the_operation() -> None:
    seen: list[object] = []

    async def root(
        context: object, name: str | None, variables: object, document: DocumentNode
    ) -> object:
        seen.append((context, name, variables, isinstance(document, DocumentNode)))
        return None

    engine = engine_for(root_value=root)
    await engine.execute(prepared(engine, "query Q { hello }"), {"x": 1}, "ctx")
    assert seen == [("ctx", "Q", {"x": 1}, True)]


async def test_middleware_wraps_resolvers() -> None:
    def shout(next_: Callable[..., object], root: object, info: object, **args: object) -> object:
        value = next_(root, info, **args)
        return value.upper() if isinstance(value, str) else value

    engine = engine_for(middleware=[shout])
    result = await engine.execute(prepared(engine, "{ hello }"), None, {})
    assert result == {"data": {"hello": "HELLO WORLD"}}


async def test_extensions_run_per_operation_and_add_to_the_response() -> None:
    events: list[str] = []

    class Tracing(Extension):
        def request_started(self, context: object) -> None:
            events.append("started")

        def has_errors(self, errors: object, context: object) -> None:
            events.append("errors")

        def request_finished(self, context: object) -> None:
            events.append("finished")

        def format(self, context: object) -> dict[str, object]:
            return {"tracing": {"ok": True}}

    engine = engine_for(extensions=[Tracing])
    result = await engine.execute(prepared(engine, "{ hello refused }"), None, {})
    assert result["extensions"] == {"tracing": {"ok": True}}
    # Errors are reported while the operation is still open (a tracer adds them to its span).
    assert events == ["started", "errors", "finished"]


async def test_execution_context_class_is_used() -> None:
    from graphql import execution

    base = getattr(execution, "Executor", None) or execution.ExecutionContext  # type: ignore[attr-defined]
    built: list[object] = []

    class Recording(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    engine = engine_for(execution_context_class=Recording)
    assert await engine.execute(prepared(engine, "{ hello }"), None, {}) == {
        "data": {"hello": "Hello world"}
    }
    assert built


# -- subscriptions ---------------------------------------------------------------------------


async def test_a_subscription_streams_results_and_closes_its_generator(recorder: Recorder) -> None:
    engine = engine_for(recorder)
    stream = await engine.subscribe(prepared(engine, "subscription { ticks(limit: 3) }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    assert [result async for result in stream] == [{"data": {"ticks": n}} for n in range(3)]
    assert recorder.closed == 1


async def test_closing_a_subscription_runs_the_generators_finally(recorder: Recorder) -> None:
    engine = engine_for(recorder)
    stream = await engine.subscribe(
        prepared(engine, "subscription { ticks(limit: 100) }"), None, {}
    )
    assert isinstance(stream, SubscriptionStream)
    assert await anext(stream) == {"data": {"ticks": 0}}
    await stream.aclose()
    await stream.aclose()
    assert recorder.closed == 1
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_subscription_that_cannot_start_gives_one_result() -> None:
    engine = engine_for()
    result = await engine.subscribe(
        prepared(engine, "subscription($l: Int) { ticks(limit: $l) }"), {"l": "x"}, {}
    )
    assert isinstance(result, dict)
    assert "data" not in result
    assert result["errors"]


async def test_a_failing_source_ends_the_stream_with_a_masked_error() -> None:
    app = make_app()
    schema = app.schema

    async def broken(*_args: object, **_kwargs: object) -> object:
        yield 1
        raise RuntimeError("disk on fire")

    schema.subscription_type.fields["ticks"].subscribe = broken  # type: ignore[union-attr]
    engine = app.engine
    stream = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    assert await anext(stream) == {"data": {"ticks": 1}}
    assert not stream.failed
    assert await anext(stream) == {"errors": [{"message": "Internal server error"}]}
    assert stream.failed
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_a_failing_source_shows_its_message_and_traceback_with_debug() -> None:
    app = make_app(debug=True)

    async def broken(*_args: object, **_kwargs: object) -> object:
        yield 1
        raise RuntimeError("disk on fire")

    app.schema.subscription_type.fields["ticks"].subscribe = broken  # type: ignore[union-attr]
    engine = app.engine
    stream = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    results = [result async for result in stream]
    assert results[0] == {"data": {"ticks": 1}}
    [error] = results[1]["errors"]
    assert error["message"] == "disk on fire"
    exception = error["extensions"]["exception"]
    assert exception["type"] == "RuntimeError"  # type: ignore[index]
    assert any("disk on fire" in line for line in exception["stacktrace"])  # type: ignore[index]


async def test_a_source_raising_a_graphql_error_ends_the_stream_with_it() -> None:
    app = make_app()

    async def refusing(*_args: object, **_kwargs: object) -> object:
        raise GraphQLError("Subscription revoked")
        yield 1  # pragma: no cover - makes this an async generator

    app.schema.subscription_type.fields["ticks"].subscribe = refusing  # type: ignore[union-attr]
    engine = app.engine
    stream = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    assert [result async for result in stream] == [
        {"errors": [{"message": "Subscription revoked"}]}
    ]
    assert stream.failed


class Ticker:
    """An async iterator that is not a generator: it only stops when `aclose()` is called."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = 0
        self.waiting = asyncio.Event()

    def __aiter__(self) -> Ticker:
        return self

    async def __anext__(self) -> int:
        if self.sent:
            await asyncio.Event().wait()  # no second event, ever
        self.sent += 1
        return self.sent

    async def aclose(self) -> None:
        self.closed += 1


async def test_cancelling_a_stream_waiting_for_its_source_still_lets_aclose_close_it() -> None:
    app = make_app()
    ticker = Ticker()
    app.schema.subscription_type.fields["ticks"].subscribe = lambda *_a, **_k: ticker  # type: ignore[union-attr]
    engine = app.engine
    stream = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    assert await anext(stream) == {"data": {"ticks": 1}}
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert ticker.closed == 0
    await stream.aclose()
    await stream.aclose()
    assert ticker.closed == 1


async def test_an_event_the_plan_refuses_runs_through_graphql_core(recorder: Recorder) -> None:
    app = make_app(recorder)

    async def source(*_args: object, **_kwargs: object) -> object:
        for value in (1, None, "2", 2**40, 3):
            yield value

    app.schema.subscription_type.fields["ticks"].subscribe = source  # type: ignore[union-attr]
    engine = app.engine
    stream = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert isinstance(stream, SubscriptionStream)
    results = [result async for result in stream]
    location = {"locations": [{"line": 1, "column": 16}], "path": ["ticks"]}
    assert results == [
        {"data": {"ticks": 1}},
        {
            "data": None,
            "errors": [
                # graphql-core raises a TypeError here, which the engine masks
                {"message": "Internal server error"} | location
            ],
        },
        {"data": {"ticks": 2}},
        {
            "data": None,
            "errors": [
                {"message": "Int cannot represent non 32-bit signed integer value: 1099511627776"}
                | location
            ],
        },
        {"data": {"ticks": 3}},
    ]


async def test_a_failing_subscribe_resolver_gives_errors_without_data() -> None:
    app = make_app()

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise GraphQLError("Not subscribed")

    app.schema.subscription_type.fields["ticks"].subscribe = refuse  # type: ignore[union-attr]
    engine = app.engine
    result = await engine.subscribe(prepared(engine, "subscription { ticks }"), None, {})
    assert result == {
        "errors": [
            {
                "message": "Not subscribed",
                "locations": [{"line": 1, "column": 16}],
                "path": ["ticks"],
            }
        ]
    }


async def test_subscribe_refuses_other_operations() -> None:
    engine = engine_for()
    with pytest.raises(ValueError, match="subscriptions"):
        await engine.subscribe(prepared(engine, "{ hello }"), None, {})


def test_encode_is_compact_json() -> None:
    assert Engine.encode({"data": {"hello": "wörld"}}) == '{"data":{"hello":"wörld"}}'.encode()


async def test_prepare_now_answers_what_prepare_request_would_without_waiting() -> None:
    engine = engine_for()
    now = engine.prepare_now("{ hello }", None, None)
    assert isinstance(now, PreparedOperation)
    assert now is await engine.prepare_request("{ hello }", None, None)
    assert engine.prepare_now("{ hello", None, None) == engine.prepare("{ hello", None)
    # A persisted document must be looked up first: only `prepare_request` answers it.
    apq = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    assert engine.prepare_now("{ hello }", None, apq) is None
    assert engine.prepare_now(None, None, None) is None
    per_request = engine_for(validation_rules=lambda _context, _document, _data: [])
    assert per_request.prepare_now("{ hello }", None, None) is None
    trusted = engine_for(documents=TrustedDocuments({"x-app:hello": "{ hello }"}))
    assert trusted.prepare_now("{ hello }", None, None) is None


async def test_the_default_context_is_context_fors_when_none_is_configured() -> None:
    engine = engine_for()
    assert not engine.has_context_value
    connection = object()
    assert engine.default_context(connection, {}) == await engine.context_for(connection, {})
    assert engine_for(context_value={"a": 1}).has_context_value
