"""The notebooks as files: one typed, commented ``parameters`` cell each (so
``papermill --help-notebook`` documents them), no outputs in git, and the
jupytext ``py:percent`` twin saying the same as the ``.ipynb``."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import papermill as pm
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("*.ipynb"))
PARAM_LINE = re.compile(r"^[A-Za-z_]\w*: [^=]+ = .+  # \S.*$")


def test_every_notebook_is_here():
    names = {p.stem for p in PAIRS}
    assert {"data_quality", "measurement", "structural", "index_drivers", "gaps",
            "complaints_loyalty", "study_report", "tracking"} <= names


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_one_typed_commented_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in tagged[0].source.splitlines() if ln.strip() and not ln.startswith("#")]
    bad = [ln for ln in lines if not PARAM_LINE.match(ln)]
    assert not bad, f"not 'name: type = default  # comment': {bad}"
    documented = pm.inspect_notebook(str(path))
    assert len(documented) == len(lines)
    assert all(p["inferred_type_name"] != "None" and p["help"] for p in documented.values())


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_py_percent_twin_matches(path):
    twin = path.with_suffix(".py")
    assert twin.is_file(), f"{twin.name} missing: run jupytext --sync notebooks/*.py"
    assert "format_name: percent" in twin.read_text(encoding="utf-8")
    ipynb = nbformat.read(path, as_version=4)
    py = jupytext.read(twin)
    cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert cells(py) == cells(ipynb), f"{path.name} and {twin.name} differ: jupytext --sync"
