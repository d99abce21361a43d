"""The built wheel, installed in fresh venvs, brings exactly the dependencies each extra promises.

The wheel is built once; each case gets its own venv (made without pip, and filled by this
interpreter's pip through `--python`, which keeps the whole module to a few seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# Building and installing can take minutes on a machine with a cold package cache.
pytestmark = pytest.mark.timeout(600)

# Imports each module named on the command line; reports "ok" or the error, one JSON object.
PROBE = """
import importlib, json, sys

report = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as error:
        report[name] = f"{type(error).__name__}: {error}"
    else:
        report[name] = "ok"
print(json.dumps(report))
"""
MODULES = [
    "clew.protocol",
    "clew.protocol.graphql_transport_ws",
    "clew.protocol.http",
    "clew.client",
    "clew.server",
    "clew.server.pubsub",
    "aiohttp",
    "orjson",
    "redis",
    "starlette",
    "graphql",
]


def clean_env() -> dict[str, str]:
    """The environment without anything that points back into this checkout or its venv."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "COV_CORE", "COVERAGE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run(*args: str | Path, cwd: Path) -> str:
    completed = subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=cwd,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clew wheel, built from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT, cwd=out)
    (built,) = out.glob("clew-*.whl")
    return built


@pytest.fixture(scope="session")
def venvs() -> dict[str, Path]:
    """The venv made for each extra ("" for none), filled by `probe`."""
    return {}


@pytest.fixture(scope="session")
def probe(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory, venvs: dict[str, Path]
) -> Callable[[str], dict[str, str]]:
    """Install the wheel with `extra` into a fresh venv and report which modules import."""
    reports: dict[str, dict[str, str]] = {}

    def install_and_probe(extra: str) -> dict[str, str]:
        if extra not in reports:
            home = tmp_path_factory.mktemp(f"venv-{extra.replace(',', '-') or 'bare'}")
            venv = home / "venv"
            run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=home)
            python = venv / "bin" / "python"
            requirement = f"{wheel}[{extra}]" if extra else str(wheel)
            pip = [sys.executable, "-m", "pip", "--python", python]
            run(*pip, "install", "-q", "--disable-pip-version-check", requirement, cwd=home)
            reports[extra] = json.loads(run(python, "-c", PROBE, *MODULES, cwd=home))
            venvs[extra] = venv
        return reports[extra]

    return install_and_probe


def test_no_extra_installs_only_the_protocol_core(probe: Callable[[str], dict[str, str]]) -> None:
    report = probe("")
    assert report["clew.protocol"] == "ok"
    assert report["clew.protocol.graphql_transport_ws"] == "ok"
    assert report["clew.protocol.http"] == "ok"
    for dependency in ("aiohttp", "starlette", "graphql", "orjson"):
        assert report[dependency].startswith("ModuleNotFoundError"), report[dependency]


def test_client_extra_brings_aiohttp_not_starlette(probe: Callable[[str], dict[str, str]]) -> None:
    report = probe("client")
    assert report["aiohttp"] == "ok"
    assert report["graphql"] == "ok"
    assert report["orjson"] == "ok"  # request bodies are encoded through it
    assert report["clew.client"] == "ok"
    assert report["clew.protocol"] == "ok"
    assert report["starlette"].startswith("ModuleNotFoundError")


def test_server_extra_brings_starlette_not_aiohttp(probe: Callable[[str], dict[str, str]]) -> None:
    report = probe("server")
    assert report["starlette"] == "ok"
    assert report["graphql"] == "ok"
    assert report["clew.server"] == "ok"
    assert report["clew.protocol"] == "ok"
    assert report["aiohttp"].startswith("ModuleNotFoundError")
    # The in-process pub/sub comes with the server; redis-py only with the `redis` extra.
    assert report["clew.server.pubsub"] == "ok"
    assert report["redis"].startswith("ModuleNotFoundError")


def test_redis_extra_beside_server_brings_redis_py(
    probe: Callable[[str], dict[str, str]],
) -> None:
    report = probe("server,redis")
    assert report["redis"] == "ok"
    assert report["clew.server.pubsub"] == "ok"
    assert report["aiohttp"].startswith("ModuleNotFoundError")


@pytest.mark.parametrize("extra", ["", "client"])
def test_server_without_its_extra_names_the_install_command(
    probe: Callable[[str], dict[str, str]], extra: str
) -> None:
    error = probe(extra)["clew.server"]
    # The probe only catches ImportError (and its subclasses), so this is one.
    assert error != "ok"
    assert 'pip install "clew[server]"' in error


@pytest.mark.parametrize("extra", ["", "server"])
def test_client_without_its_extra_names_the_install_command(
    probe: Callable[[str], dict[str, str]], extra: str
) -> None:
    error = probe(extra)["clew.client"]
    assert error != "ok"
    assert 'pip install "clew[client]"' in error


def test_wheel_is_a_namespace_package_with_type_information(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        requirements = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    # `clew` is a namespace package: a clew/__init__.py would shadow other clew.* distributions.
    assert "clew/__init__.py" not in names
    for package in ("protocol", "client", "server"):
        assert f"clew/{package}/__init__.py" in names
        assert f"clew/{package}/py.typed" in names
    # Every dependency belongs to an extra: a bare install pulls in nothing.
    assert requirements
    assert all("extra ==" in requirement for requirement in requirements), requirements
    # The explorer's own start-up script and stylesheet ship with the server package.
    assert {"clew/server/explorer.js", "clew/server/explorer.css"} <= names
    # The console script is the dispatcher, importable with no extra at all.
    (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as archive:
        assert "clew = clew.cli:main" in archive.read(entry_points).decode()
    otel = [r for r in requirements if r.replace("'", '"').endswith('extra == "otel"')]
    assert [r.split(";")[0].split(">")[0].strip() for r in otel] == ["opentelemetry-api"]


@pytest.fixture(scope="session")
def clew_script(
    probe: Callable[[str], dict[str, str]], venvs: dict[str, Path]
) -> Callable[..., tuple[int, str]]:
    """Run the `clew` console script of the venv that has `extra` installed."""

    def run_script(extra: str, *args: str) -> tuple[int, str]:
        probe(extra)  # installs the venv
        script = venvs[extra] / "bin" / "clew"
        completed = subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
            check=False,
        )
        return completed.returncode, completed.stdout + completed.stderr

    return run_script


@pytest.mark.parametrize(
    ("extra", "works", "refused"),
    [
        ("server", ["serve", "explorer-assets"], ["query", "subscribe", "schema", "documents"]),
        ("client", ["query", "subscribe", "schema", "documents"], ["serve", "explorer-assets"]),
        ("", [], ["serve", "query"]),
    ],
)
def test_the_console_script_runs_what_the_installed_extra_allows(
    clew_script: Callable[..., tuple[int, str]],
    extra: str,
    works: list[str],
    refused: list[str],
) -> None:
    status, output = clew_script(extra, "--help")
    assert status == 0
    assert "serve" in output
    assert "query" in output
    for command in works:
        status, output = clew_script(extra, command, "--help")
        assert (status, "usage: clew") == (0, output[:11]), output
    for command in refused:
        status, output = clew_script(extra, command, "--help")
        wanted = "client" if command in {"query", "subscribe", "schema", "documents"} else "server"
        assert status == 1, output
        assert f"needs the {wanted!r} extra" in output, output
        assert f'pip install "clew[{wanted}]"' in output, output
        assert "Traceback" not in output
