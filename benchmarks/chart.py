"""Draw a run's ratios (the JSON `run.py --json` wrote) as a PNG: clew against each reference,
one group of bars per row, oriented so that right of the 1× line is always better for clew.

    .venv/bin/python benchmarks/chart.py benchmarks/results.json benchmarks/results.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = {"ceiling": "#4c72b0", "raw": "#4c72b0", "Ariadne": "#dd8452", "Strawberry": "#55a868",
           "gql": "#dd8452", "qlient": "#55a868"}  # fmt: skip


def draw(results: dict[str, object], out: Path) -> None:
    rows = results["rows"]
    assert isinstance(rows, dict)
    labels: list[str] = []
    bars: list[tuple[int, float, str]] = []
    for index, row in enumerate(reversed(list(rows.values()))):
        labels.append(row["label"].replace("`", ""))
        references = list(row["clew_over"].items())
        for offset, (reference, ratio) in enumerate(references):
            # Lower is better for memory and CPU: draw theirs / clew's, so right is better.
            advantage = ratio if row["higher_is_better"] else 1 / ratio
            bars.append((index, advantage, reference))
            position = index + (offset - (len(references) - 1) / 2) * 0.25
            plt.barh(position, advantage, height=0.23, color=COLOURS.get(reference, "grey"))
            plt.text(advantage * 1.03, position, f"{advantage:.2f}× {reference}",
                     va="center", fontsize=7)  # fmt: skip
    plt.axvline(1.0, color="black", linewidth=0.8)
    plt.xscale("log")
    plt.yticks(range(len(labels)), labels, fontsize=8)
    plt.xlabel(
        "clew's advantage: throughput clew ÷ them, memory and CPU them ÷ clew; > 1 is better"
    )
    environment = results["environment"]
    assert isinstance(environment, dict)
    versions = environment["versions"]
    plt.title(
        f"clew {versions['clew']} vs Ariadne {versions['ariadne']}, Strawberry "
        f"{versions['strawberry-graphql']}, gql {versions['gql']}, ceiling\n"
        f"{environment['cpu']}, {environment['cores']} cores, Python {environment['python']}, "
        f"graphql-core {versions['graphql-core']}",
        fontsize=8,
    )
    plt.gcf().set_size_inches(10, 6)
    plt.xlim(right=max(advantage for _, advantage, _ in bars) * 3)
    plt.tight_layout()
    plt.savefig(out, dpi=110)


def main() -> None:
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))


if __name__ == "__main__":
    main()
