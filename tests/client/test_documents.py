"""`clew documents`: trusted-document manifests from `.graphql` files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clew.cli import main as clew_main
from clew.client.documents import canonical_document, collect_operations, generate_manifest, main
from clew.protocol.http import parse_manifest, sha256_hash


def project(tmp_path: Path) -> Path:
    (tmp_path / "src" / "nested").mkdir(parents=True)
    (tmp_path / "src" / "books.graphql").write_text(
        "query Books { books { ...BookParts } }\n"
        "fragment BookParts on Book { id title author { ...AuthorParts } }\n"
        "mutation AddBook($t: String!) { addBook(input: {title: $t}) { id } }\n"
    )
    (tmp_path / "src" / "nested" / "author.gql").write_text(
        "fragment AuthorParts on Author { name }\nsubscription Counter { counter(upTo: 3) }\n"
    )
    (tmp_path / "src" / "notes.txt").write_text("not a document")
    return tmp_path / "src"


def test_apollo_manifest_with_fragments_sorted_and_printed(tmp_path: Path) -> None:
    manifest = generate_manifest([project(tmp_path)])
    assert manifest["format"] == "apollo-persisted-query-manifest"
    assert manifest["version"] == 1
    operations = manifest["operations"]
    assert isinstance(operations, list)
    by_name = {op["name"]: op for op in operations}  # type: ignore[index]
    assert sorted(by_name) == ["AddBook", "Books", "Counter"]
    books = by_name["Books"]
    # The operation first, then every fragment it reaches, by name; printed by graphql-core.
    assert books["body"] == (
        "query Books {\n  books {\n    ...BookParts\n  }\n}\n\n"
        "fragment AuthorParts on Author {\n  name\n}\n\n"
        "fragment BookParts on Book {\n  id\n  title\n  author {\n    ...AuthorParts\n  }\n}"
    )
    assert books["type"] == "query"
    assert books["id"] == sha256_hash(books["body"])  # type: ignore[arg-type]
    assert by_name["AddBook"]["type"] == "mutation"
    assert by_name["Counter"]["type"] == "subscription"
    assert "AuthorParts" not in by_name["AddBook"]["body"]  # type: ignore[operator]
    # The server side reads it back.
    assert parse_manifest(manifest)[books["id"]] == books["body"]  # type: ignore[index]


def test_flat_format_and_canonical_text(tmp_path: Path) -> None:
    manifest = generate_manifest([project(tmp_path)], format="flat")
    assert len(manifest) == 3
    text = "query Counter2 { counter(upTo: 1) }"
    assert canonical_document(text) == "query Counter2 {\n  counter(upTo: 1)\n}"
    assert parse_manifest(manifest) == {
        key.removeprefix("sha256:"): value for key, value in manifest.items()
    }


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["{ a }"], "every operation needs a name"),
        (["query A { a }", "query A { b }"], "'A' is defined more than once"),
        (["query A { ...F }"], "uses unknown fragment 'F'"),
        (["query A {"], "Syntax Error"),
    ],
)
def test_bad_sources_say_why(texts: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        collect_operations([(f"f{i}.graphql", text) for i, text in enumerate(texts)])


def test_cli_writes_a_file_and_reports_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "manifest.json"
    source = project(tmp_path)
    assert main([str(source), "-o", str(output)]) == 0
    assert json.loads(output.read_text())["format"] == "apollo-persisted-query-manifest"
    files = [str(source / "books.graphql"), str(source / "nested" / "author.gql")]
    assert main([*files, "--format", "flat"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(files[:1]) == 1
    assert "uses unknown fragment 'AuthorParts'" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.graphql")]) == 1
    assert "clew documents:" in capsys.readouterr().err


def test_the_clew_console_script_runs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ops.graphql").write_text("query Greet { hello }\n")
    assert clew_main(["documents", str(tmp_path), "--format", "flat"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert list(manifest.values()) == ["query Greet {\n  hello\n}"]


def test_runs_without_the_server_packages(tmp_path: Path) -> None:
    # Block starlette and uvicorn: the generator needs only the client side (graphql-core).
    code = (
        "import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
        "from clew.client.documents import main\n"
        f"raise SystemExit(main([{str(project(tmp_path))!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "apollo-persisted-query-manifest" in result.stdout
