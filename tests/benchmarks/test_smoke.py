"""`make bench-smoke`: every benchmark workload runs briefly on every target and answers right.

It runs the real benchmark (`benchmarks/run.py --smoke`: uvicorn servers for the ceiling, clew,
Ariadne and Strawberry, wrk, the websockets load and each client in its own process) and reads
the JSON it writes; figures are not judged here, only that every cell was measured without a
wrong answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import ROWS  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def test_every_workload_answers_correctly_on_every_target(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    rows = json.loads(out.read_text())["rows"]
    for row in ROWS:
        measured = rows[row.key]["targets"]
        for target in (row.baseline, "clew", *row.others):
            assert measured[target]["failures"] == 0, (row.key, target)
            assert measured[target]["median"] > 0, (row.key, target)
    # The table printed every row with its ratios.
    for row in ROWS:
        assert row.label in completed.stdout
