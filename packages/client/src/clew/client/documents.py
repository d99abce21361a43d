"""Trusted-documents manifests from a project's `.graphql` files (``clew documents``).

Every named operation found becomes one manifest entry whose body is the operation plus the
fragments it uses (transitively), printed by graphql-core after sorting the definitions
(operations first, then by name), as Apollo's `generate-persisted-query-manifest` does. A
client sends exactly that body (`canonical_document` gives it for any text), or its hash; a
server loads the file with ``TrustedDocuments.from_manifest``. Needs only graphql-core.

Run as ``clew documents PATH... [-o FILE] [--format apollo|flat]`` or
``python -m clew.client.documents`` (no server extra needed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from clew.protocol import JSONObject
from clew.protocol.http import ManifestOperation, apollo_manifest

__all__ = ["canonical_document", "collect_operations", "generate_manifest", "main"]

_SUFFIXES = (".graphql", ".gql")


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _spreads(node: DefinitionNode) -> set[str]:
    visitor = _Spreads()
    visit(node, visitor)
    return visitor.names


def _sort_key(definition: DefinitionNode) -> tuple[int, str]:
    name = getattr(definition, "name", None)
    return (0 if isinstance(definition, OperationDefinitionNode) else 1, name.value if name else "")


def _print(definitions: Iterable[DefinitionNode]) -> str:
    return print_ast(DocumentNode(definitions=tuple(sorted(definitions, key=_sort_key))))


def collect_operations(sources: Iterable[tuple[str, str]]) -> list[ManifestOperation]:
    """The named operations of `(name, text)` sources, each with the fragments it uses.

    `ValueError` for a syntax error, an anonymous operation, or a name defined twice.
    """
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for source_name, text in sources:
        try:
            document = parse(text, no_location=True)
        except GraphQLError as error:
            raise ValueError(f"{source_name}: {error.message}") from None
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise ValueError(f"{source_name}: every operation needs a name")
                table: dict[str, OperationDefinitionNode] | dict[str, FragmentDefinitionNode]
                table, name = operations, definition.name.value
            elif isinstance(definition, FragmentDefinitionNode):
                table, name = fragments, definition.name.value
            else:
                continue
            if name in table:
                raise ValueError(f"{source_name}: {name!r} is defined more than once")
            table[name] = definition  # type: ignore[assignment]
    result: list[ManifestOperation] = []
    for name in sorted(operations):
        operation = operations[name]
        used: dict[str, FragmentDefinitionNode] = {}
        pending = list(_spreads(operation))
        while pending:
            fragment_name = pending.pop()
            if fragment_name in used:
                continue
            if fragment_name not in fragments:
                raise ValueError(f"Operation {name!r} uses unknown fragment {fragment_name!r}")
            used[fragment_name] = fragments[fragment_name]
            pending.extend(_spreads(used[fragment_name]))
        body = _print([operation, *used.values()])
        result.append(ManifestOperation(name=name, type=operation.operation.value, body=body))
    return result


def canonical_document(text: str) -> str:
    """`text` as the manifest prints it: send this (or its hash) to a trusted-documents server."""
    return _print(parse(text, no_location=True).definitions)


def _files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.suffix in _SUFFIXES)
        else:
            found.append(path)
    return found


def generate_manifest(
    paths: Iterable[str | Path], *, format: Literal["apollo", "flat"] = "apollo"
) -> JSONObject:
    """A manifest for the operations in `paths` (files, or directories searched for
    ``*.graphql`` / ``*.gql``): Apollo's format, or the flat ``{"sha256:<hash>": body}``."""
    sources = [(str(path), path.read_text(encoding="utf-8")) for path in _files(paths)]
    operations = collect_operations(sources)
    if format == "flat":
        return {f"sha256:{op.id}": op.body for op in operations}
    return apollo_manifest(operations)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``clew documents``."""
    parser.add_argument("paths", nargs="+", help=".graphql files or directories holding them")
    parser.add_argument("-o", "--output", help="write the manifest here (default: stdout)")
    parser.add_argument(
        "--format",
        choices=["apollo", "flat"],
        default="apollo",
        help="apollo-persisted-query-manifest (default) or a flat {id: document} object",
    )


def _run(args: argparse.Namespace) -> int:
    """Write the manifest the parsed arguments ask for; a clear message and 1 on bad input."""
    try:
        manifest = generate_manifest(args.paths, format=args.format)
    except (OSError, ValueError) as error:
        print(f"clew documents: {error}", file=sys.stderr)
        return 1
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``clew documents PATH...`` (the console script passes the command's name first) or
    ``python -m clew.client.documents PATH...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["documents"]:
        args = args[1:]
    parser = argparse.ArgumentParser(
        prog="clew documents", description="Write a trusted-documents manifest."
    )
    _add_arguments(parser)
    return _run(parser.parse_args(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
