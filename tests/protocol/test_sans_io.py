"""clew.protocol is sans-IO: importing all of it pulls in no event loop, socket, clock or framework.

Each check runs in a fresh interpreter, since the test process itself has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import clew.protocol

BANNED = ("asyncio", "socket", "time", "aiohttp", "starlette", "graphql")

# Runs in a fresh interpreter: forget what startup imported from BANNED, record any attempt
# to import it again, import every module of clew.protocol, and report.
PROBE = """
import importlib, json, pkgutil, sys

BANNED = set(sys.argv[1].split(","))
baseline = sorted(sys.modules)
for name in list(sys.modules):
    if name.split(".")[0] in BANNED:
        del sys.modules[name]
attempts = []


class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            attempts.append(name)


sys.meta_path.insert(0, Recorder())
import clew.protocol

imported = ["clew.protocol"]
for info in pkgutil.walk_packages(clew.protocol.__path__, "clew.protocol."):
    importlib.import_module(info.name)
    imported.append(info.name)
print(json.dumps({"baseline": baseline, "after": sorted(sys.modules), "attempts": attempts,
                  "imported": imported}))
"""


def run(code: str, *args: str) -> str:
    # Without the coverage plugin's variables, the child is a plain interpreter.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE", "COVERAGE"))}
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    return completed.stdout


def banned(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in BANNED}


def test_importing_clew_protocol_adds_no_io_modules() -> None:
    startup = set(json.loads(run("import json, sys; print(json.dumps(sorted(sys.modules)))")))
    report = json.loads(run(PROBE, ",".join(BANNED)))
    added = set(report["after"]) - startup
    assert banned(added) == set()
    # Stricter: what startup itself imported (``time``) was forgotten first, and no module of
    # clew.protocol asked for any of it again.
    assert report["attempts"] == []
    assert banned(set(report["after"])) == set()


def test_the_probe_imports_every_subpackage() -> None:
    report = json.loads(run(PROBE, ",".join(BANNED)))
    root = Path(clew.protocol.__file__).parent
    subpackages = {
        f"clew.protocol.{path.parent.name}"
        for path in root.glob("*/__init__.py")
        if path.parent.name != "__pycache__"
    }
    assert "clew.protocol.graphql_transport_ws" in subpackages
    assert subpackages <= set(report["imported"])
    assert "clew.protocol.graphql_transport_ws.connection" in report["imported"]


def test_the_probe_would_notice_a_banned_import() -> None:
    # The same probe, pointed at a module that does use a clock, reports it.
    report = json.loads(
        run(
            PROBE.replace("import clew.protocol\n", "import clew.protocol\nimport sched\n"),
            ",".join(BANNED),
        )
    )
    assert "time" in report["attempts"]
