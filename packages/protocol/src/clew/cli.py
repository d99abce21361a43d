"""The `clew` console script: one command line whose subcommands live beside their extras.

`clew serve` and `clew explorer-assets` need `clew[server]`; `clew query`,
`clew subscribe`, `clew schema` and `clew documents` need `clew[client]`. A subcommand's
module is imported only when it runs, so either extra alone gives a working `clew`, and a
missing one is named rather than a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple, cast

__all__ = ["main"]


class _Command(NamedTuple):
    module: str
    extra: str
    summary: str


_SERVER: Final = "clew.server.cli"
_CLIENT: Final = "clew.client.cli"

#: Every subcommand: the module whose ``main(argv)`` runs it, the extra it needs, one line.
_COMMANDS: Final = {
    "serve": _Command(_SERVER, "server", "serve an app, an ASGI app or a schema with uvicorn"),
    "explorer-assets": _Command(
        _SERVER, "server", "download the explorer's scripts so it runs with no CDN"
    ),
    "query": _Command(_CLIENT, "client", "send a query or mutation, print the result"),
    "subscribe": _Command(_CLIENT, "client", "print a subscription's events, one JSON a line"),
    "schema": _Command(_CLIENT, "client", "print a server's schema (introspection) as SDL"),
    "documents": _Command(
        "clew.client.documents", "client", "write a trusted-documents manifest of .graphql files"
    ),
}


def _usage() -> str:
    width = max(map(len, _COMMANDS))
    lines = [
        "usage: clew COMMAND [ARGS...]",
        "",
        "GraphQL over HTTP and WebSocket. Commands:",
        *(f"  {name:<{width}}  {command.summary}" for name, command in _COMMANDS.items()),
        "",
        "`clew COMMAND --help` describes one command.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `clew` console script: run the subcommand named first in `argv`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    command = _COMMANDS.get(args[0])
    if command is None:
        print(f"clew: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(command.module)
    except ImportError as error:
        # The packages re-raise a friendlier ImportError from the one naming the module.
        missing = error.name or getattr(error.__cause__, "name", None) or "a dependency"
        print(
            f"clew {args[0]} needs the {command.extra!r} extra ({missing} is missing): "
            f'pip install "clew[{command.extra}]"',
            file=sys.stderr,
        )
        return 1
    run = cast(Callable[[Sequence[str]], int], module.main)
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
