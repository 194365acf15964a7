"""The declared recorded keys (csmlib.report.keys): record() refuses what is
not declared, the notebooks record exactly what the schema says, and the
study report turns a key a run did not record into an error, not a NaN."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from csmlib import report
from csmlib.errors import StudyError
from csmlib.report import keys
from csmlib.report.record import record, record_frame, recorded, set_results_path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHIPPED = sorted(p for p in NOTEBOOKS.glob("*.py") if not p.stem.startswith("_"))


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.setattr(keys, "_declared", {})
    monkeypatch.delenv("CSM_RESULTS_PATH", raising=False)
    set_results_path(None)
    yield
    set_results_path(None)


def _recorded_in(source: Path) -> set[tuple[str, str]]:
    """(key, "value"|"table") of every record / record_frame / record_notes call."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        name = node.func.id
        if name == "record_notes":
            kw = {k.arg: k.value for k in node.keywords}
            key = kw["key"].value if "key" in kw else "estimation_notes"
            found.add((key, "value"))
        elif name in ("record", "record_frame"):
            arg = node.args[0]
            assert isinstance(arg, ast.Constant), (
                f"{source.name}:{node.lineno}: record keys must be literal strings "
                "so that the schema can be checked")
            found.add((arg.value, "table" if name == "record_frame" else "value"))
    return found


@pytest.mark.parametrize("source", SHIPPED, ids=lambda p: p.stem)
def test_every_notebook_records_exactly_its_declared_keys(source):
    notebook = source.stem
    calls = _recorded_in(source)
    assert calls, f"{notebook} records nothing"
    for key, kind in calls:
        spec = keys.key_spec(key)
        assert notebook in spec.recorded_by, f"{notebook} records {key!r}, not declared for it"
        assert (spec.type == "table") == (kind == "table"), (notebook, key, spec.type)
    declared = {k.name for k in keys.KEYS.values() if notebook in k.recorded_by}
    assert declared == {key for key, _ in calls}, f"declared but never recorded by {notebook}"


def test_schema_is_complete_and_typed():
    frame = keys.keys_frame()
    assert list(frame.columns) == ["key", "type", "notebook", "when", "meaning"]
    assert set(frame["type"]) <= set(keys.TYPES)
    assert frame["meaning"].str.len().min() > 5
    shipped = {p.stem for p in SHIPPED}
    assert set(frame["notebook"]) == shipped
    # what the study report reads from each notebook is declared for it
    source = (NOTEBOOKS / "study_report.py").read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("value", "frame") and len(node.args) >= 2 \
                and all(isinstance(a, ast.Constant) for a in node.args[:2]):
            nb, key = node.args[0].value, node.args[1].value
            assert keys.declared(nb, key), (nb, key)


def test_record_refuses_undeclared_keys_and_wrong_types():
    with pytest.raises(StudyError, match="'indx' is not declared"):
        record("indx", 74.0)
    with pytest.raises(StudyError, match="not declared"):
        record_frame("my_table", pd.DataFrame({"x": [1.0]}))
    with pytest.raises(StudyError, match="str value is not of type 'number'"):
        record("index", "high")
    with pytest.raises(StudyError, match="float value is not of type 'integer'"):
        record("n", 12.5)
    with pytest.raises(StudyError, match="record_frame"):
        record("paths", [1.0, 2.0])
    with pytest.raises(StudyError, match=r"record\(\)"):
        record_frame("index", pd.DataFrame({"x": [1.0]}))
    with pytest.raises(StudyError, match="list value is not of type 'strings'"):
        record("estimation_notes", [1, 2])
    assert recorded() == {"values": {}, "frames": {}}
    record("index", 74.5)
    record("index_se", float("nan"))   # NaN is a number, stored as null
    record("n", 120)
    assert recorded()["values"] == {"index": 74.5, "index_se": None, "n": 120}


def test_a_studys_own_notebook_declares_its_keys():
    keys.declare("mean_x", "number", "mean of x", notebook="mine")
    record("mean_x", 1.5)
    assert keys.declared("mine", "mean_x") and not keys.declared("index_drivers", "mean_x")
    with pytest.raises(StudyError, match="already declared as 'integer'"):
        keys.declare("n", "number", "rows")
    with pytest.raises(StudyError, match="unknown recorded-key type"):
        keys.declare("z", "float", "z")
    # declaring a built-in key for another notebook keeps its type and meaning
    spec = keys.declare("index", "number", "ignored", notebook="mine")
    assert spec.meaning == keys.KEYS["index"].meaning and "index_drivers" in spec.recorded_by


def _write(tmp: Path, name: str, values: dict, frames: dict | None = None) -> str:
    path = tmp / f"{name}.results.json"
    path.write_text(json.dumps({"schema": 1, "values": values, "frames": frames or {}}))
    return str(path)


def test_wave_results_report_a_missing_key_instead_of_nan(tmp_path):
    res = report.WaveResults({
        "all/index_drivers": _write(tmp_path, "i", {"n": 240, "index": 70.0}),
        "all/complaints_loyalty": _write(tmp_path, "c", {"n": 240}),
        "North/index_drivers": str(tmp_path / "suppressed.results.json"),   # no file
    })
    assert res.value("index_drivers", "index") == 70.0
    # every index_drivers run records index_se: its absence is an error, not a NaN
    assert math.isnan(res.value("index_drivers", "index_se"))
    assert res.frame("index_drivers", "ipma") is None
    # optional keys (nps needs recommend_item; change a previous wave) are not
    assert math.isnan(res.value("complaints_loyalty", "nps"))
    assert res.value("index_drivers", "change", default=None) is None
    # neither are the keys of a run that did not happen
    assert math.isnan(res.value("index_drivers", "index", segment="North"))
    assert res.missing == ["all/index_drivers: index_se", "all/index_drivers: ipma"]
    note = res.missing_note()
    assert note.items == ["all/index_drivers: index_se was not recorded",
                          "all/index_drivers: ipma was not recorded"]
    with pytest.raises(StudyError, match="index_se; all/index_drivers: ipma") as err:
        res.check()
    assert "csm run --force" in str(err.value)
    # the report may only read what the schema says a notebook records
    with pytest.raises(StudyError, match="not declared to record 'nps'"):
        res.value("index_drivers", "nps")


def test_wave_results_without_missing_keys_pass_the_check(tmp_path):
    frames = {"ipma": {"columns": ["construct"], "data": [["Quality"]]}}
    res = report.WaveResults({"all/index_drivers": _write(
        tmp_path, "i", {"index": 70.0, "index_se": 1.0}, frames)})
    assert res.value("index_drivers", "index_se") == 1.0
    assert list(res.frame("index_drivers", "ipma")["construct"]) == ["Quality"]
    res.check()
    assert res.missing == [] and not res.missing_note()


@pytest.mark.notebooks
def test_study_report_shows_and_fails_on_a_missing_key(tmp_path):
    wave_results = {"all/index_drivers": _write(
        tmp_path, "index_drivers",
        {"n": 240, "index": 70.0, "index_ci_lower": 68.0, "index_ci_upper": 72.0,
         "estimation_notes": []},
        {"ipma": {"columns": ["construct", "importance", "performance"],
                  "data": [["Quality", 0.4, 71.0], ["Value", 0.2, 65.0]]}})}
    out = tmp_path / "study_report.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(NOTEBOOKS / "study_report.ipynb"), str(out), kernel_name="csm",
                            parameters={"wave_results": wave_results,
                                        "results_path": str(tmp_path / "r.json")},
                            cwd=str(NOTEBOOKS), progress_bar=False)
    assert "all/index_drivers: index_se" in str(err.value)
    shown = "\n".join("".join(o.get("data", {}).get("text/markdown", "")) + "".join(
        o.get("data", {}).get("text/html", ""))
        for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", []))
    assert "index_se was not recorded" in shown
    assert "Some results are missing from the runs" in shown
