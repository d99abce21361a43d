"""`clew query`, `clew subscribe`, `clew schema`: the client from a terminal.

Results are JSON on stdout, coloured on a terminal and plain when piped (or with ``NO_COLOR``);
errors go to stderr with the server's message, and the exit status is 1. `subscribe` prints
one JSON object a line as events arrive; Ctrl-C (or SIGTERM) completes the subscription with
the server before the client exits, with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Final, TextIO

from graphql import print_schema

from clew.protocol import JSONObject

from ._messages import GraphQLResponse
from .client import AIOHTTPClient
from .errors import (
    GraphQLResponseError,
    HTTPStatusError,
    SubscriptionError,
    TransportError,
)

__all__ = ["main"]

_RESET: Final = "\x1b[0m"
_KEY: Final = "\x1b[34;1m"
_STRING: Final = "\x1b[32m"
_NUMBER: Final = "\x1b[36m"
_LITERAL: Final = "\x1b[35m"
_ERROR: Final = "\x1b[31;1m"


class _Failed(Exception):
    """Ends a command with status 1 after its message is printed."""


# -- output ------------------------------------------------------------------------------------


def _use_colour(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return "NO_COLOR" not in os.environ and stream.isatty()


def _paint(value: object, colour: bool, indent: int | None, level: int = 0) -> str:
    """`value` as JSON; with colour, keys, strings, numbers and literals in ANSI colours."""
    if not colour:
        separators = (",", ": ") if indent is not None else (",", ":")
        return json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    if isinstance(value, Mapping) and value:
        items = [
            f"{_KEY}{json.dumps(str(key), ensure_ascii=False)}{_RESET}:"
            f"{' ' if indent is not None else ''}{_paint(item, colour, indent, level + 1)}"
            for key, item in value.items()
        ]
        return _join("{", items, "}", indent, level)
    if isinstance(value, list) and value:
        items = [_paint(item, colour, indent, level + 1) for item in value]
        return _join("[", items, "]", indent, level)
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return f"{_STRING}{text}{_RESET}"
    if isinstance(value, bool) or value is None:
        return f"{_LITERAL}{text}{_RESET}"
    if isinstance(value, int | float):
        return f"{_NUMBER}{text}{_RESET}"
    return text  # an empty object or list


def _join(opening: str, items: list[str], closing: str, indent: int | None, level: int) -> str:
    if indent is None:
        return opening + ",".join(items) + closing
    inner = "\n" + " " * (indent * (level + 1))
    return opening + inner + ("," + inner).join(items) + "\n" + " " * (indent * level) + closing


def _response_json(response: GraphQLResponse) -> JSONObject:
    body: JSONObject = {}
    if response.data_present:
        body["data"] = response.data
    if response.errors:
        body["errors"] = list(response.errors)  # type: ignore[arg-type]
    if response.extensions:
        body["extensions"] = response.extensions
    return body


class _Output:
    """Where results and error messages go, and whether each stream is coloured."""

    def __init__(self, colour: str) -> None:
        self.colour = _use_colour(colour, sys.stdout)
        self.error_colour = _use_colour(colour, sys.stderr)

    def result(self, response: GraphQLResponse, *, indent: int | None) -> None:
        print(_paint(_response_json(response), self.colour, indent), flush=True)

    def error(self, message: str) -> None:
        prefix = f"{_ERROR}error:{_RESET}" if self.error_colour else "error:"
        print(f"{prefix} {message}", file=sys.stderr, flush=True)

    def errors_of(self, response: GraphQLResponse) -> bool:
        """Print the response's error messages; True when there were any."""
        for error in response.errors or ():
            self.error(error.get("message", "(no message)"))
        return bool(response.errors)


# -- arguments ---------------------------------------------------------------------------------


def _pair(text: str, separator: str, what: str) -> tuple[str, str]:
    name, found, value = text.partition(separator)
    if not found or not name.strip():
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return name.strip(), value.strip() if separator == ":" else value


def _variable(text: str) -> tuple[str, object]:
    name, value = _pair(text, "=", "name=value")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value  # not JSON: the text itself, so `--var name=ada` needs no quotes


def _header(text: str) -> tuple[str, str]:
    return _pair(text, ":", "'Name: value'")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clew", description="GraphQL from a terminal.")
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("url", help="the GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql")
    common.add_argument(
        "--header",
        "-H",
        dest="headers",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="an HTTP header (also sent on the WebSocket handshake); repeatable",
    )
    common.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the output (default: on a terminal, unless NO_COLOR is set)",
    )
    common.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for each HTTP request (default: 60)"
    )
    operation = argparse.ArgumentParser(add_help=False)
    operation.add_argument("document", help="the GraphQL document")
    operation.add_argument(
        "--var",
        "-v",
        dest="variables",
        action="append",
        type=_variable,
        default=[],
        metavar="NAME=VALUE",
        help="a variable; VALUE is read as JSON when it parses (5, true, [1]), else as text",
    )
    operation.add_argument("--operation-name", "-o", help="which operation of the document")
    commands.add_parser(
        "query",
        parents=[common, operation],
        help="send a query or mutation over HTTP and print the result",
    )
    subscribe = commands.add_parser(
        "subscribe",
        parents=[common, operation],
        help="print a subscription's events as they arrive, one JSON object a line",
    )
    subscribe.add_argument(
        "--init",
        dest="connection_params",
        action="append",
        type=_variable,
        default=[],
        metavar="NAME=VALUE",
        help="an entry of the connection_init payload (read like --var); repeatable",
    )
    commands.add_parser(
        "schema", parents=[common], help="print the server's schema (introspection) as SDL"
    )
    return parser


# -- commands ----------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> AIOHTTPClient:
    params = dict(getattr(args, "connection_params", []))
    return AIOHTTPClient(
        args.url,
        headers=dict(args.headers),
        timeout=args.timeout,
        connection_params=params or None,
    )


async def _query(args: argparse.Namespace, out: _Output) -> int:
    async with _client(args) as client:
        response = await client.execute(
            args.document, dict(args.variables) or None, args.operation_name
        )
    out.result(response, indent=2)
    return 1 if out.errors_of(response) else 0


async def _schema(args: argparse.Namespace, out: _Output) -> int:
    async with _client(args) as client:
        try:
            schema = await client.get_schema()
        except GraphQLResponseError as error:
            for entry in error.errors:
                out.error(entry.get("message", "(no message)"))
            return 1
    print(print_schema(schema), flush=True)
    return 0


async def _subscribe(args: argparse.Namespace, out: _Output) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    failed = False

    async with _client(args) as client:
        stream = client.subscribe(args.document, dict(args.variables) or None, args.operation_name)

        async def consume() -> None:
            nonlocal failed
            async for response in stream:
                out.result(response, indent=None)
                failed = out.errors_of(response) or failed

        consumer = asyncio.ensure_future(consume())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not consumer.done():
                consumer.cancel()
                with suppress(asyncio.CancelledError):
                    await consumer
            # Sends `complete` (or `stop`) while the socket is still open: a clean end.
            await stream.aclose()
        if not consumer.cancelled():
            consumer.result()  # re-raises what ended the stream early
    return 1 if failed else 0


_RUNNERS: Final = {"query": _query, "subscribe": _subscribe, "schema": _schema}


def _server_message(error: HTTPStatusError) -> str:
    # A GraphQL server explains a refusal in a JSON body's errors; quote those when present.
    try:
        body = json.loads(error.body)
        messages = [entry["message"] for entry in body["errors"]]
    except (ValueError, KeyError, TypeError):
        return str(error)
    return f"HTTP {error.status}: " + "; ".join(map(str, messages))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``query``, ``subscribe`` or ``schema`` as the `clew` console script does."""
    args = _parser().parse_args(argv)
    out = _Output(args.color)
    try:
        return asyncio.run(_RUNNERS[args.command](args, out))
    except SubscriptionError as error:
        for entry in error.errors:
            out.error(entry.get("message", "(no message)"))
    except HTTPStatusError as error:
        out.error(_server_message(error))
    except TransportError as error:
        out.error(str(error))
    except ValueError as error:  # a malformed URL, say
        out.error(str(error))
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
