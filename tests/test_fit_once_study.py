"""Fit once, report many in ``csm run``: a worker's notebooks run on one warm
kernel that each notebook finds in a fresh kernel's state, and a wave x
segment's notebooks share their fits -- with the same recorded results as
one fresh kernel per notebook fitting its own models (today's method)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
import yaml

from csmlib.run.batch import FIT_CACHE_FOLDER, run_study
from csmlib.run.study import load_study

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"

_PARAMS = 'expect_warm: bool = False  # whether the kernel ran another notebook before'

_LEAK = """\
import json, os, warnings
import numpy as np
import matplotlib.pyplot as plt
from csmlib.report.record import set_results_path
np.mean([])                      # a RuntimeWarning, shown once per place in a kernel
leaked = 1
warnings.simplefilter("error")
plt.rcParams["lines.linewidth"] = 9.0
plt.figure()
set_results_path("elsewhere.json")
json._csm_test_marker = True     # module state: stays while the kernel lives
os.chdir("/")
"""

_CHECK = """\
import json, os, warnings
import numpy as np
import matplotlib.pyplot as plt
from csmlib.report import record
assert "leaked" not in globals()
assert warnings.filters[0][0] != "error", warnings.filters[:2]
assert plt.rcParams["lines.linewidth"] != 9.0
assert plt.get_fignums() == []
assert record._state["path"] is None
assert os.getcwd() != "/"
assert getattr(json, "_csm_test_marker", False) == expect_warm, expect_warm
np.mean([])                      # shown again: the new notebook has not seen it
"""


def _notebook(path: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(_PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "csm", "display_name": "csm", "language": "python"}
    nbformat.write(nb, path)
    return path


def _study(folder: Path, expect_warm: bool) -> Path:
    doc = {
        "name": "warm", "instrument": str(DEMO / "instrument.yml"), "model": "acsi",
        "waves": [{"name": "2026Q1", "data": str(DEMO / "wave1.csv")}],
        "notebooks": [str(_notebook(folder / "leak.ipynb", _LEAK)),
                      str(_notebook(folder / "check.ipynb", _CHECK))],
        "parameters": {"expect_warm": expect_warm}, "min_base": 30,
    }
    path = folder / f"study_{expect_warm}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("fit_once", [True, False])
def test_each_notebook_finds_a_fresh_kernel(tmp_path, fit_once):
    study = load_study(_study(tmp_path, expect_warm=fit_once), output=tmp_path / "out")
    out = run_study(study, jobs=1, fit_once=fit_once)
    assert [(o.run.notebook, o.status, o.error) for o in out.outcomes] == [
        ("leak", "success", None), ("check", "success", None)]
    executed = nbformat.read(out.outcomes[1].run.output(".ipynb"), as_version=4)
    assert [c.execution_count for c in executed.cells if c.cell_type == "code"] == [1, 2, 3]
    stderr = "".join(o.get("text", "") for o in executed.cells[-1].outputs
                     if o.get("name") == "stderr")
    assert "Mean of empty slice" in stderr


def test_a_failed_notebook_ends_the_warm_kernel(tmp_path):
    """leak fails after leaving its state: check then runs on a new kernel
    (it would fail on the old one, which still has the marker)."""
    study_path = _study(tmp_path, expect_warm=False)
    _notebook(tmp_path / "leak.ipynb", _LEAK + "raise ValueError('stop here')\n")
    out = run_study(load_study(study_path, output=tmp_path / "out"), jobs=1)
    assert [(o.run.notebook, o.status) for o in out.outcomes] == [("leak", "failed"), ("check", "success")]
    assert "stop here" in out.outcomes[0].error


def _results(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.results.json"))}


def test_fit_once_records_the_same_results_as_one_fit_per_notebook(tmp_path):
    only = "2026Q1/North/*"
    shared = run_study(load_study(DEMO / "study.yml", output=tmp_path / "shared"), jobs=2, only=only)
    own = run_study(load_study(DEMO / "study.yml", output=tmp_path / "own"), jobs=2, only=only,
                    fit_once=False)
    assert shared.ok and own.ok, (shared.table, own.table)
    got, expected = _results(tmp_path / "shared"), _results(tmp_path / "own")
    study = load_study(DEMO / "study.yml")
    assert len(got) == len(study.notebooks) - 1 and got == expected   # every notebook but the report
    fits = tmp_path / "shared" / "demo-acsi" / "2026Q1" / "North" / FIT_CACHE_FOLDER
    # the full bootstrap (measurement, structural, index_drivers) and tracking's
    assert len(list(fits.glob("bootstrap-*.npz"))) == 2
    assert not (tmp_path / "own" / "demo-acsi" / "2026Q1" / "North" / FIT_CACHE_FOLDER).exists()
    records = [json.loads(p.read_text()) for p in (tmp_path / "shared").rglob("*.run.json")]
    assert all("fit_cache" not in r["parameters"] for r in records)   # a path, not an input
