"""clew on the shared test schema with batching on, for the persisted-query and batch interop.

`create_app` (for ``uvicorn --factory``) keeps APQ's defaults (on, in-memory store) and turns
on batching (at most 10 operations), which the default peer app leaves off.
"""

from __future__ import annotations

import os

from clew.server import GraphQL, GraphQLHTTPHandler

from ..schema import build_test_schema  # noqa: TID252


def create_app() -> GraphQL:
    """A fresh app: its own APQ store, so each server process starts knowing no hash."""
    return GraphQL(
        build_test_schema().schema,
        http_handler=GraphQLHTTPHandler(batching=True, max_batch_size=10),
        websocket_handlers=[],
    )


def create_redis_app() -> GraphQL:
    """The same app with its APQ store in the Redis at ``$CLEW_TEST_REDIS_URL`` (keys under
    ``$CLEW_TEST_REDIS_PREFIX``), so that several processes share their documents."""
    from clew.server.redis_documents import RedisDocumentStore

    store = RedisDocumentStore(
        os.environ["CLEW_TEST_REDIS_URL"], prefix=os.environ["CLEW_TEST_REDIS_PREFIX"] + ":"
    )
    return GraphQL(
        build_test_schema().schema,
        http_handler=GraphQLHTTPHandler(batching=True, max_batch_size=10),
        websocket_handlers=[],
        persisted_queries=store,
    )


def create_trusted_app() -> GraphQL:
    """The app running only the documents of the manifest at ``$CLEW_TEST_MANIFEST``."""
    from clew.server import TrustedDocuments

    return GraphQL(
        build_test_schema().schema,
        websocket_handlers=[],
        documents=TrustedDocuments.from_manifest(os.environ["CLEW_TEST_MANIFEST"]),
    )
