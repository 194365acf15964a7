"""Where a study run's time went, from its run records and executed notebooks.

Usage::

    csm run data/demo/study.yml --output /tmp/demo-runs
    python benchmarks/profile_study.py /tmp/demo-runs/demo-acsi

For every successful run, the run record's start and end (the worker's
clock) and papermill's per-cell times split the run into: *start* (staging
the inputs, starting the kernel -- or resetting the warm one -- up to the
first cell), the cells (by kind: the imports cell, ``open_run``, cells that
fit models, the rest) and *after* (from the last cell to the end of the
run: saving the notebook, masking it, the HTML export).  Sums are
run-seconds: on 2 workers the wall time is about half their total.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path

_FIT = re.compile(r"fit_pls\(|fit_cbsem\(|bootstrap\(")


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _kind(source: str) -> str:
    if "open_run(" in source:
        return "cells: open_run"
    if _FIT.search(source):
        return "cells: fitting models (and what else those cells do)"
    if source.lstrip().startswith(("import ", "from ", "%")):
        return "cells: imports"
    return "cells: the rest"


def profile(root: Path) -> tuple[dict[str, float], int, float]:
    """Run-seconds by part of a run; the number of runs; the wall time from
    the first run's start to the last run's end."""
    parts: dict[str, float] = defaultdict(float)
    starts, ends = [], []
    for rec_path in sorted(root.rglob("*.run.json")):
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        nb_path = rec_path.with_name(rec_path.name.replace(".run.json", ".ipynb"))
        if rec.get("status") != "success" or not nb_path.is_file():
            continue
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"
                 and c["metadata"].get("papermill", {}).get("start_time")]
        if not cells:
            continue
        start, end = _t(rec["start"]), _t(rec["end"])
        starts.append(start)
        ends.append(end)
        first = _t(cells[0]["metadata"]["papermill"]["start_time"])
        last = _t(cells[-1]["metadata"]["papermill"]["end_time"])
        parts["start: staging, kernel start or reset"] += (first - start).total_seconds()
        parts["after: save, mask, HTML export"] += (end - last).total_seconds()
        for c in cells:
            parts[_kind("".join(c["source"]))] += c["metadata"]["papermill"].get("duration") or 0.0
        parts["total"] += (end - start).total_seconds()
    wall = (max(ends) - min(starts)).total_seconds() if ends else 0.0
    return dict(parts), len(starts), wall


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    parts, n, wall = profile(Path(args[0]))
    if not n:
        print("no successful run with an executed notebook found")
        return 1
    total = parts.pop("total")
    print(f"{n} runs; {total:.1f} run-seconds ({total / n:.2f} s per run); "
          f"wall {wall:.1f} s from the first start to the last end")
    for name, sec in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:58s} {sec:7.1f} s  {100 * sec / total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
