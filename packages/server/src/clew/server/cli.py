"""The server's commands: `clew serve module:attr` (a GraphQL app, any ASGI app or a bare schema,
with uvicorn) and `clew explorer-assets DEST` (the explorer's scripts, for use with no CDN)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import socket
import sys
from collections.abc import Sequence

import uvicorn
from graphql import GraphQLSchema

from ._explorer_assets import DEFAULT_REGISTRY, AssetDownloadError, download_explorer_assets
from .app import GraphQL

__all__ = ["load_app", "main"]

#: How a reloading or multi-worker server (which imports the app in fresh processes) learns
#: which `module:attr` to load.
_TARGET_ENV = "CLEW_SERVE_TARGET"


def _import(target: str) -> object:
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise SystemExit(f"clew serve: expected module:attribute, got {target!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SystemExit(f"clew serve: cannot import {module_name!r}: {error}") from None
    value: object = module
    for name in attribute.split("."):
        try:
            value = getattr(value, name)
        except AttributeError:
            raise SystemExit(
                f"clew serve: {module_name!r} has no attribute {attribute!r}"
            ) from None
    return value


def _as_app(value: object, target: str) -> object:
    if isinstance(value, GraphQLSchema):
        return GraphQL(value)
    if isinstance(value, GraphQL) or callable(value):
        return value
    raise SystemExit(
        f"clew serve: {target!r} is neither a GraphQL app, an ASGI app nor a GraphQLSchema"
    )


#: How long `clew serve` lets websocket operations wind down before uvicorn's own shutdown.
_WEBSOCKET_SHUTDOWN_TIMEOUT = 10.0


class _GracefulServer(uvicorn.Server):
    """uvicorn, but a clew app says goodbye to its websockets itself.

    uvicorn closes every websocket with 1012 before it sends the lifespan shutdown event, so
    the app's own graceful close (operations completed, generators closed, then 1001) would
    never be seen by clients. This server stops accepting connections, lets the app close its
    sockets, then carries on with uvicorn's shutdown.
    """

    def __init__(self, config: uvicorn.Config, app: GraphQL) -> None:
        super().__init__(config)
        self._graphql = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        timeout = self.config.timeout_graceful_shutdown or _WEBSOCKET_SHUTDOWN_TIMEOUT
        # On a timeout, uvicorn's shutdown below cancels whatever is left.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._graphql.shutdown(), timeout)
        await super().shutdown(sockets)


def load_app() -> object:
    """The app named by the environment; the factory reloading and worker processes call."""
    target = os.environ.get(_TARGET_ENV)
    if not target:
        raise RuntimeError(f"{_TARGET_ENV} is not set; start the server with `clew serve`")
    return _as_app(_import(target), target)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clew", description="GraphQL over HTTP and WebSocket.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve an app with uvicorn",
        description=(
            "Serve module:attr with uvicorn. attr may be a clew GraphQL app, any ASGI app, "
            "or a graphql-core GraphQLSchema (served by a default GraphQL app)."
        ),
    )
    serve.add_argument("target", metavar="module:attr", help="what to serve, e.g. myapp:app")
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")
    serve.add_argument("--reload", action="store_true", help="restart when source files change")
    serve.add_argument("--workers", type=int, default=None, help="number of worker processes")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level (default: %(default)s)",
    )
    assets = commands.add_parser(
        "explorer-assets",
        help="download the explorer's scripts so it runs with no CDN",
        description=(
            "Fetch the explorer's pinned npm packages (GraphiQL, React, graphql-ws), check "
            "them against their pinned integrity hashes, and unpack the files the page needs "
            "into DEST. Serve them with GraphQL(..., explorer=Explorer(asset_dir=DEST))."
        ),
    )
    assets.add_argument("dest", metavar="DEST", help="the folder to fill")
    assets.add_argument(
        "--registry", default=DEFAULT_REGISTRY, help="the npm registry (default: %(default)s)"
    )
    return parser


def _explorer_assets(dest: str, registry: str) -> int:
    try:
        written = download_explorer_assets(dest, registry=registry)
    except AssetDownloadError as error:
        print(f"clew explorer-assets: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `clew` console script."""
    args = _parser().parse_args(argv)
    if args.command == "explorer-assets":
        return _explorer_assets(args.dest, args.registry)
    # Like uvicorn, import apps from the working directory.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: str = args.target
    app = _as_app(_import(target), target)  # fail early, with a clear message
    options: dict[str, object] = {"host": args.host, "port": args.port, "log_level": args.log_level}
    if args.reload or (args.workers or 1) > 1:
        # Fresh processes import the app themselves, through the factory below.
        os.environ[_TARGET_ENV] = target
        uvicorn.run(
            "clew.server.cli:load_app",
            factory=True,
            reload=args.reload,
            workers=args.workers,
            **options,  # type: ignore[arg-type]
        )
    elif isinstance(app, GraphQL):
        _GracefulServer(uvicorn.Config(app, **options), app).run()  # type: ignore[arg-type]
    else:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
