"""The ASGI app: one endpoint that routes HTTP, both WebSocket subprotocols and lifespan events."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Final, Protocol

from graphql import DocumentNode, GraphQLSchema, build_schema
from graphql.execution import MiddlewareManager
from starlette.datastructures import State
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from clew.protocol import CloseCode, Closure, Subprotocol, select_subprotocol
from clew.protocol.websocket import not_acceptable

from ._compiler import EventResolver
from ._cors import CORS, websocket_origin_allowed
from ._documents import DocumentStore, InMemoryDocumentStore, PersistedDocuments, TrustedDocuments
from ._execution import Engine
from ._extensions import ExtensionList
from ._incremental import with_incremental_directives
from ._incremental_http import IncrementalHTTPHandler
from ._limits import Limits
from ._options import ValidationRulesOption
from ._types import (
    ContextValue,
    ErrorFormatter,
    QueryParser,
    Receive,
    RequestData,
    RootValue,
    Scope,
    Send,
)
from ._upload import bind_upload_scalar
from .explorer import Explorer, ExplorerLike
from .http_handler import GraphQLHTTPHandler
from .pubsub import InMemoryPubSub, PubSub
from .sse import GraphQLSSEHandler
from .websocket import GraphQLTransportWSHandler, GraphQLWSHandler

if TYPE_CHECKING:
    from graphql import GraphQLFieldResolver

__all__ = ["GraphQL", "WebSocketHandler"]


class WebSocketHandler(Protocol):
    """One GraphQL-over-WebSocket subprotocol, served by `GraphQL` on the shared endpoint.

    The app negotiates the subprotocol, then calls `handle` with the ASGI `websocket` scope of
    the not-yet-accepted socket: the handler accepts it itself, naming its `subprotocol`.
    `configure` is called once, before the first socket, with the app's execution engine;
    `shutdown` on lifespan shutdown must complete the running operations and close every
    socket with 1001 (going away).
    """

    subprotocol: Subprotocol

    def configure(self, engine: Engine) -> None: ...

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def shutdown(self) -> None: ...


class _Default:
    """The type of `_DEFAULT`: "not given", where None means "turned off"."""


_DEFAULT: Final = _Default()


class GraphQL:
    """A GraphQL endpoint as an ASGI app: HTTP, the explorer and GraphQL over WebSocket.

    Serve it with uvicorn, or mount it (``Mount("/graphql", app=GraphQL(schema))``). Server-wide
    state (the engine with its document cache, the handlers) lives on the instance.
    """

    def __init__(
        self,
        schema: GraphQLSchema | str,
        *,
        http_handler: GraphQLHTTPHandler | None = None,
        websocket_handlers: Sequence[WebSocketHandler] | None = None,
        sse_handler: GraphQLSSEHandler | _Default | None = _DEFAULT,
        incremental_delivery: bool = False,
        websocket_handler: WebSocketHandler | None = None,
        context_value: ContextValue = None,
        root_value: RootValue = None,
        query_parser: QueryParser | Callable[[object, RequestData], DocumentNode] | None = None,
        validation_rules: ValidationRulesOption | None = (),
        debug: bool = False,
        introspection: bool = True,
        explorer: bool | ExplorerLike = True,
        logger: str | logging.Logger | None = None,
        error_formatter: ErrorFormatter | None = None,
        execution_context_class: type | None = None,
        extensions: ExtensionList = (),
        middleware: Collection[object] | MiddlewareManager | None = None,
        middleware_manager_class: type[MiddlewareManager] | None = None,
        limits: Limits | None = None,
        document_cache_size: int = 1024,
        documents: TrustedDocuments | None = None,
        persisted_queries: bool | DocumentStore = True,
        cors: CORS | None = None,
        pubsub: PubSub | None = None,
        freeze_gc: bool = True,
    ) -> None:
        """`documents` restricts (or extends) what runs to a trusted manifest; APQ is on by
        default with an in-memory store, `persisted_queries` names another store or turns it off.
        """
        if websocket_handler is not None:
            # Ariadne's singular option: that handler alone serves WebSockets.
            if websocket_handlers is not None:
                raise TypeError("Pass websocket_handler or websocket_handlers, not both")
            websocket_handlers = [websocket_handler]
        if http_handler is not None and not isinstance(http_handler, GraphQLHTTPHandler):
            raise TypeError(
                f"http_handler must be a GraphQLHTTPHandler, got {type(http_handler).__name__}"
            )
        if not (isinstance(explorer, (bool, ExplorerLike))):
            raise TypeError(
                "explorer must be True, False or an object with html(request), got "
                f"{type(explorer).__name__}"
            )
        if isinstance(schema, str):
            schema = build_schema(schema)
        bind_upload_scalar(schema)
        self.schema = schema
        #: Room for application state (a pub/sub, a database pool), as on a Starlette app.
        self.state = State()
        #: The app's pub/sub: started and closed with the app, ``info.context["pubsub"]``.
        self.pubsub: PubSub = pubsub if pubsub is not None else InMemoryPubSub()
        make_engine = partial(
            Engine,
            context_value=context_value,
            root_value=root_value,
            query_parser=query_parser,
            validation_rules=validation_rules,
            debug=debug,
            introspection=introspection,
            logger=logger,
            error_formatter=error_formatter,
            execution_context_class=execution_context_class,
            extensions=extensions,
            middleware=middleware,
            middleware_manager_class=middleware_manager_class,
            limits=limits,
            document_cache_size=document_cache_size,
            documents=PersistedDocuments(_apq_store(persisted_queries), documents),
            pubsub=self.pubsub,
        )
        self.engine = make_engine(schema)
        #: With `incremental_delivery`, the engine that runs @defer/@stream (`_incremental.py`);
        #: HTTP answers with it when the client accepts `multipart/mixed`, and SSE always does.
        self.incremental_engine: Engine | None = None
        self._incremental_http: IncrementalHTTPHandler | None = None
        if incremental_delivery:
            self.incremental_engine = make_engine(with_incremental_directives(schema))
            self._incremental_http = IncrementalHTTPHandler(
                self.incremental_engine, getattr(http_handler, "status_rules", None)
            )
        # The explorer needs introspection to show anything, so it follows it.
        if explorer is True:
            explorer = Explorer()
        self.explorer: ExplorerLike | None = (
            explorer if not isinstance(explorer, bool) and introspection else None
        )
        self.http_handler = http_handler if http_handler is not None else GraphQLHTTPHandler()
        self.http_handler.configure(self.engine, self.explorer)
        #: Which other origins may call the endpoint from a browser (None: only its own).
        self.cors = cors
        if websocket_handlers is None:
            websocket_handlers = _default_websocket_handlers()
        self.websocket_handlers: tuple[WebSocketHandler, ...] = tuple(websocket_handlers)
        for handler in self.websocket_handlers:
            handler.configure(self.incremental_engine or self.engine)
        self._by_subprotocol = {handler.subprotocol: handler for handler in self.websocket_handlers}
        #: GraphQL over SSE (graphql-sse, both modes) on this endpoint; None turns it off.
        self.sse_handler = GraphQLSSEHandler() if isinstance(sse_handler, _Default) else sse_handler
        if self.sse_handler is not None:
            self.sse_handler.configure(self.incremental_engine or self.engine)
        self._http: ASGIApp = self._serve_http
        self._cors_middleware: CORSMiddleware | None = None
        if cors is not None:
            self._cors_middleware = cors.wrap(self._serve_http, self._cors_methods())
            self._http = self._cors_middleware
        self._in_flight = 0
        self._idle: asyncio.Event | None = None
        #: Whether lifespan startup moves what is alive out of the cyclic GC's reach.
        self.freeze_gc = freeze_gc
        self._frozen = False

    @classmethod
    def from_sdl(
        cls,
        sdl: str,
        resolvers: Mapping[str, Mapping[str, GraphQLFieldResolver]] | None = None,
        **options: object,
    ) -> GraphQL:
        """An app for a schema in SDL, with resolvers by type then field name.

        A field of the subscription type takes an async generator function (its source stream);
        every other field takes a resolver ``(obj, info, **args)``.
        """
        schema = build_schema(sdl)
        subscription = schema.subscription_type
        for type_name, fields in (resolvers or {}).items():
            declared = schema.get_type(type_name)
            declared_fields = getattr(declared, "fields", None)
            if declared_fields is None:
                raise ValueError(f"The schema has no object type named {type_name!r}")
            for field_name, resolver in fields.items():
                if field_name not in declared_fields:
                    raise ValueError(f"{type_name} has no field named {field_name!r}")
                field = declared_fields[field_name]
                if declared is subscription:
                    field.subscribe = resolver
                    field.resolve = EventResolver(field_name)
                else:
                    field.resolve = resolver
        return cls(schema, **options)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            self._in_flight += 1
            try:
                await self._http(scope, receive, send)
            finally:
                self._in_flight -= 1
                if self._in_flight == 0 and self._idle is not None:
                    self._idle.set()
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _cors_methods(self) -> list[str]:
        """What a cross-origin page may send: the HTTP handler's methods, and graphql-sse's
        (a stream may be a GET; single connection mode reserves with PUT, stops with DELETE)."""
        methods = ["GET", "POST"] if self.http_handler.allow_get else ["POST"]
        sse = self.sse_handler
        if sse is not None:
            methods = ["GET", "POST", *(("PUT", "DELETE") if sse.single_connection else ())]
        return methods

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # GraphQL over SSE first: it claims only its own requests, reading nothing otherwise.
        sse, incremental = self.sse_handler, self._incremental_http
        if sse is not None and sse.claims(scope) and await sse.handle(scope, receive, send):
            return
        if incremental is None or not await incremental.handle(scope, receive, send):
            await self.http_handler.handle(scope, receive, send)

    def _websocket(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """What serves one socket: its handler's coroutine, or a refusal's.

        A plain function, not a coroutine: an open socket then keeps no frame of the app's
        (the server holds one per socket, most of them idle).
        """
        if self._cors_middleware is not None and not websocket_origin_allowed(
            scope, self._cors_middleware
        ):
            # Closing before accepting answers the handshake with HTTP 403.
            return WebSocket(scope, receive, send).close(CloseCode.FORBIDDEN, "Origin not allowed")
        chosen = select_subprotocol(
            scope.get("subprotocols", ()), supported=self._by_subprotocol.keys()
        )
        if chosen is None:
            # The handshake succeeds without a subprotocol, then the close code tells why
            # (graphql-ws' server answer, 4406).
            return _refuse(
                WebSocket(scope, receive, send), not_acceptable(Subprotocol.GRAPHQL_TRANSPORT_WS)
            )
        return self._by_subprotocol[chosen].handle(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.pubsub.start()
                except Exception as error:
                    # Reported, then raised, as Starlette's router does: the server exits.
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    raise
                self._freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._unfreeze()
                try:
                    await self.shutdown()
                except Exception as error:  # reported to the server, which logs it
                    await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    def _freeze(self) -> None:
        """Once started, move every object alive (modules, the schema, the app) out of the
        cyclic GC's reach: a full collection then walks only what was made since, instead of
        pausing every request in flight for tens of milliseconds on a large heap."""
        if self.freeze_gc and not self._frozen:
            gc.collect()
            gc.freeze()
            self._frozen = True

    def _unfreeze(self) -> None:
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    async def shutdown(self) -> None:
        """Finish gracefully: websocket handlers complete their operations and close with 1001,
        in-flight HTTP requests run to completion, then the pub/sub closes.

        Called on ASGI lifespan shutdown; when the app is mounted inside another app (whose
        lifespan does not reach mounted apps) call it from that app's lifespan.
        """
        await asyncio.gather(*(handler.shutdown() for handler in self.websocket_handlers))
        if self.sse_handler is not None:
            await self.sse_handler.shutdown()
        if self._in_flight:
            self._idle = asyncio.Event()
            await self._idle.wait()
        await self.pubsub.aclose()


def _apq_store(option: bool | DocumentStore) -> DocumentStore | None:
    if option is True:
        return InMemoryDocumentStore()
    if option is False:
        return None
    return option


def _default_websocket_handlers() -> list[WebSocketHandler]:
    return [GraphQLTransportWSHandler(), GraphQLWSHandler()]


async def _refuse(websocket: WebSocket, closure: Closure) -> None:
    """Complete the handshake without a subprotocol, then close with `closure`."""
    await websocket.accept()
    await websocket.close(closure.code, closure.reason)
