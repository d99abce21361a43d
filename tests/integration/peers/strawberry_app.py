"""The shared test schema served by Strawberry, a third-party server clew is compared with.

Strawberry builds its schema from Python types, so the SDL is written again here in its terms;
the integration tests check by introspection that it matches ``schema.graphql``. One app serves
both WebSocket subprotocols; build it with ``uvicorn --factory ...strawberry_app:create_app``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema.config import StrawberryConfig
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UnsetType

# Relative: the package is imported as "integration" or "tests.integration" depending on rootdir.
from ..schema import PubSub, is_rejected, token_from_authorization  # noqa: TID252

__all__ = ["create_app", "create_incremental_app"]


def _pubsub(info: strawberry.Info) -> PubSub:
    pubsub = info.context["pubsub"]
    assert isinstance(pubsub, PubSub)
    return pubsub


@strawberry.type
class Query:
    """Queries of the shared test schema."""

    @strawberry.field
    def hello(self, name: str | None = "world") -> str:
        return f"Hello, {name}!"

    @strawberry.field
    def add(self, a: int, b: int) -> int:
        return a + b

    @strawberry.field
    def fail(self) -> str | None:
        raise RuntimeError("boom")

    @strawberry.field
    async def slow(self, ms: int) -> str:
        await asyncio.sleep(ms / 1000)
        return f"slept {ms}"

    @strawberry.field
    def whoami(self, info: strawberry.Info) -> str | None:
        params = info.context.get("connection_params")
        if isinstance(params, Mapping):
            token = params.get("token")
            return token if isinstance(token, str) else None
        request = info.context["request"]
        return token_from_authorization(request.headers.get("authorization"))


@strawberry.type
class Mutation:
    """Mutations of the shared test schema."""

    @strawberry.mutation
    def echo(self, message: str) -> str:
        return message

    @strawberry.mutation
    def publish(self, info: strawberry.Info, room: str, text: str) -> bool:
        return _pubsub(info).publish(room, text)


@strawberry.type
class Subscription:
    """Subscriptions of the shared test schema."""

    @strawberry.subscription
    async def count(self, to: int, delay_ms: int | None = 0) -> AsyncGenerator[int, None]:
        for value in range(1, to + 1):
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            yield value

    @strawberry.subscription
    async def fail_after(self, n: int) -> AsyncGenerator[int, None]:
        for value in range(1, n + 1):
            yield value
        raise RuntimeError("boom")

    @strawberry.subscription
    async def messages(self, info: strawberry.Info, room: str) -> AsyncGenerator[str, None]:
        inbox = _pubsub(info).subscribe(room)
        try:
            async for text in inbox:
                yield text
        finally:
            await inbox.aclose()  # type: ignore[attr-defined]


class _App(GraphQL[dict[str, object], None]):
    """Strawberry's ASGI app with the test context and the shared auth rule."""

    def __init__(self, *, incremental: bool = False) -> None:
        schema = strawberry.Schema(
            query=Query,
            mutation=Mutation,
            subscription=Subscription,
            config=StrawberryConfig(enable_experimental_incremental_execution=incremental),
        )
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self._pubsub = PubSub()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, object]:
        return {"request": request, "response": response, "pubsub": self._pubsub}

    async def on_ws_connect(
        self, context: dict[str, object]
    ) -> UnsetType | dict[str, object] | None:
        if is_rejected(context.get("connection_params")):
            raise ConnectionRejectionError({"message": "Forbidden"})
        # The default (UNSET) acknowledges without a payload; None would send "payload": null.
        return await super().on_ws_connect(context)


def create_app() -> GraphQL[dict[str, object], None]:
    """A Strawberry app serving both graphql-transport-ws and the legacy graphql-ws."""
    return _App()


def create_incremental_app() -> GraphQL[dict[str, object], None]:
    """The same app with Strawberry's experimental incremental execution (@defer/@stream)."""
    return _App(incremental=True)
