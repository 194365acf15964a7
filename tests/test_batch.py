"""Batch runs of a study with papermill, recorded results, HTML export, atomic writes.

The notebook runs use the smoke notebook ``notebooks/_smoke.ipynb`` on tiny
CSV files; every expected number is computed here with pandas from the same
CSV text, independently of the notebook and of csmlib.
"""

from __future__ import annotations

import io
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from csmlib import atomic
from csmlib.run.batch import execute_run, input_hash, plan_runs, run_study
from csmlib.errors import DataError, StudyError
from csmlib.report.htmlexport import notebook_to_html
from csmlib.report.record import (
    MAX_FRAME_ROWS,
    read_results,
    record,
    record_frame,
    recorded,
    results_frame,
    set_results_path,
)
from csmlib.run.study import load_study

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
SMOKE_INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")


def _with_column(text: str, name: str) -> str:
    """``text`` with one more (empty) column ``name``: the smoke notebook's switch."""
    head, *rows = text.splitlines()
    return "\n".join([f"{head},{name}"] + [f"{r}," for r in rows]) + "\n"


W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,North,2,b\n3,South,7,a\n4,South,5,b\n"
W2_NEW = "id,region,x,y\n1,North,8,a\n2,North,3,b\n3,South,1,a\n4,South,1,b\n5,South,4,b\n"


# --------------------------------------------------------------------------- helpers
def _study(tmp_path: Path, waves: dict[str, str], segments: bool = True, **extra) -> Path:
    for name, text in waves.items():
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "instrument.yml").write_text(SMOKE_INSTRUMENT)
    doc = {
        "name": "smoke",
        "instrument": "instrument.yml",
        "model": "S =~ x",
        "waves": [{"name": n, "data": f"{n}.csv"} for n in waves],
        "notebooks": [str(SMOKE)],
        "parameters": {"seed": 11},
        "min_base": 1,
        "output": str(tmp_path / "runs"),
        **extra,
    }
    if segments:
        doc["segments"] = {"column": "region"}
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _expected(text: str, segment: str) -> dict:
    df = pd.read_csv(io.StringIO(text))
    if segment != "all":
        df = df[df["region"] == segment]
    return {"n": len(df), "mean_x": df["x"].mean(), "sum_x": df["x"].sum()}


def _visible(html: str) -> str:
    """The HTML without its <style> and <script> blocks (nbconvert's CSS mentions 'Out[')."""
    return re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S | re.I)


def _outside_references(html: str) -> list[str]:
    """Everything in a page that a browser would fetch from elsewhere: scripts
    and style sheets, src/href attributes that are not in-page anchors or
    data URLs, CSS url() and @import, JavaScript import()."""
    found = re.findall(r"<script\b[^>]*>|<link\b[^>]*>", html, flags=re.I)
    found += [v for v in re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html, flags=re.I)
              if not v.startswith(("#", "data:"))]
    found += [v for v in re.findall(r"url\(\s*[\"']?([^)\"']+)", html, flags=re.I)
              if not v.startswith(("#", "data:"))]
    found += re.findall(r"@import[^;]*|\bimport\(\s*[\"'][^)]*", html, flags=re.I)
    return found


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.run.json")}


# --------------------------------------------------------------------------- record
@pytest.fixture
def own_keys(monkeypatch):
    """Keys a study's own notebook would declare (csmlib.report.keys.declare),
    forgotten after the test."""
    from csmlib.report import keys

    monkeypatch.setattr(keys, "_declared", {})
    keys.declare("nan", "number", "a number that is NaN", notebook="test")
    keys.declare("by_segment", "mapping", "a value per segment", notebook="test")
    keys.declare("a", "integer", "a count", notebook="test")
    keys.declare("t", "table", "a table", notebook="test")


def test_record_merges_scalars_and_frames(tmp_path, own_keys):
    path = tmp_path / "r.json"
    set_results_path(path)
    try:
        # nothing returned: record() as a cell's last line shows no stray value in the report
        assert record("index", np.float64(74.25)) is None
        assert read_results(path)["values"]["index"] == 74.25
        record("n", np.int64(120))
        record("nan", float("nan"))
        record("by_segment", {"North": 1.5, "South": np.float32(2.0)})
        frame = pd.DataFrame({"construct": ["Quality", "Value"], "est": [0.5, 0.25]})
        assert record_frame("paths", frame) is None
        record("index", 75.0)   # replaces
    finally:
        set_results_path(None)
    res = read_results(path)
    assert res["values"] == {"index": 75.0, "n": 120, "nan": None,
                             "by_segment": {"North": 1.5, "South": 2.0}}
    pd.testing.assert_frame_equal(results_frame(res, "paths"), frame)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(atomic.TEMP_PREFIX)]


def test_record_memory_mode_without_results_path(monkeypatch, own_keys):
    monkeypatch.delenv("CSM_RESULTS_PATH", raising=False)
    set_results_path("")
    record("a", 1)
    record_frame("t", pd.Series([1.0, 2.0], name="v"))
    assert recorded() == {"values": {"a": 1},
                          "frames": {"t": {"columns": ["v"], "data": [[1.0], [2.0]]}}}


@pytest.mark.parametrize(
    "frame, fragment",
    [
        (pd.DataFrame({"x": range(MAX_FRAME_ROWS + 1)}), "respondent-level"),
        (pd.DataFrame({"respondent_id": [1], "x": [2.0]}), "respondent_id"),
        (pd.DataFrame({"Email Address": ["a@b"], "x": [2.0]}), "Email Address"),
        (pd.DataFrame({"ID": [1]}), "identifiers"),
        (pd.DataFrame({"name": ["Ann"]}), "personal data"),
        (pd.DataFrame({"x": [1.0]}).rename_axis("uuid"), "uuid"),
    ],
)
def test_record_frame_refuses_respondent_level(tmp_path, frame, fragment):
    with pytest.raises(DataError, match=fragment):
        record_frame("bad", frame, path=tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_record_frame_extra_pii_and_bad_values(tmp_path):
    with pytest.raises(DataError, match="customer_code"):
        record_frame("t", pd.DataFrame({"customer_code": [1]}), path=tmp_path / "r.json",
                     pii_columns=["customer_code"])
    with pytest.raises(DataError, match="record_frame"):
        record("t", pd.DataFrame({"x": [1]}), path=tmp_path / "r.json")
    with pytest.raises(DataError, match="object"):
        record("t", object(), path=tmp_path / "r.json")
    with pytest.raises(DataError, match="more than"):
        record("t", list(range(MAX_FRAME_ROWS + 1)), path=tmp_path / "r.json")
    with pytest.raises(DataError, match="key"):
        record("", 1, path=tmp_path / "r.json")


# --------------------------------------------------------------------------- atomic
def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "out.json"
    atomic.write_json(target, {"v": 1})

    def broken_fsync(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        atomic.write_json(target, {"v": 2, "big": "x" * 100_000})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]
    with pytest.raises(ValueError):
        atomic.write_json(tmp_path / "nan.json", {"v": float("nan")})
    assert not (tmp_path / "nan.json").exists()


def test_atomic_write_interrupted_mid_write(tmp_path, monkeypatch):
    target = tmp_path / "out.html"
    target.write_text("old report")
    real_fdopen = os.fdopen

    class Dying:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[: len(data) // 2])   # half written, then the "kill"
            raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: Dying(real_fdopen(fd, mode)))
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(target, "new report " * 1000)
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]


# --------------------------------------------------------------------------- html
def _nb_with_everything(error: bool = False):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell(
        'data_path = "/secret/path.csv"', metadata={"tags": ["injected-parameters"]})
    injected.outputs = [nbformat.v4.new_output("stream", name="stdout", text="/secret/path.csv")]
    code = nbformat.v4.new_code_cell("print('hello')\nimport warnings", execution_count=3)
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="<b>hello</b> & bye\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: stderr-noise\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=3),
    ]
    silent = nbformat.v4.new_code_cell("y = 2  # silent-code")
    md = nbformat.v4.new_markdown_cell("# Findings\nThe index rose.")
    nb.cells = [md, params, injected, code, silent]
    if error:
        bad = nbformat.v4.new_code_cell("1/0")
        bad.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                              evalue="division by zero",
                                              traceback=["Traceback-marker"])]
        nb.cells.append(bad)
    return nb


def test_html_has_no_code_parameters_stderr_or_prompts():
    html = _visible(notebook_to_html(_nb_with_everything()))
    assert "Findings" in html and "The index rose." in html
    assert "&lt;b&gt;hello&lt;/b&gt; &amp; bye" in html   # escaped output
    assert "<b>hello</b>" not in html
    assert "42" in html
    for absent in ("/secret/path.csv", "data_path", "print(", "import warnings", "x = 1",
                   "silent-code", "stderr-noise", "In&nbsp;[", "Out[", "In [3]"):
        assert absent not in html, absent


def test_html_is_self_contained_and_typesets_no_tex():
    """A report loads nothing from a CDN or any other site (no MathJax,
    require.js, mermaid): it opens offline and the client's browser calls no
    third party.  TeX-like text stays the text it is."""
    nb = _nb_with_everything()
    nb.cells.append(nbformat.v4.new_markdown_cell("Growth of $x^2$ and \\(y\\)"))
    html = notebook_to_html(nb)
    assert _outside_references(html) == []
    assert "cdnjs" not in html and "mathjax" not in html.lower().replace("mathjax_ignore", "")
    assert "$x^2$" in _visible(html)
    # the check itself finds what the stock nbconvert page loads
    from nbconvert import HTMLExporter

    stock, _ = HTMLExporter(exclude_input=True).from_notebook_node(nb)
    assert any("mathjax" in r.lower() for r in _outside_references(stock))
    assert any("require" in r for r in _outside_references(stock))


def test_html_refuses_failed_notebook():
    with pytest.raises(StudyError, match="ZeroDivisionError: division by zero"):
        notebook_to_html(_nb_with_everything(error=True))


# --------------------------------------------------------------------------- plan
def test_plan_and_hash(tmp_path):
    study = load_study(_study(tmp_path, {"w1": W1, "w2": W2}, min_base=3))
    runs = plan_runs(study)
    assert [r.run_id for r in runs] == [
        "w1/all/_smoke", "w1/North/_smoke", "w1/South/_smoke",
        "w2/all/_smoke", "w2/North/_smoke", "w2/South/_smoke"]
    by = {r.run_id: r for r in runs}
    assert by["w1/South/_smoke"].suppressed and by["w1/South/_smoke"].n == 2
    assert by["w2/North/_smoke"].depends_on == ("w1/North/_smoke",)
    assert by["w2/North/_smoke"].parameters["previous_results_path"].endswith(
        os.path.join("w1", "North", "_smoke.results.json"))
    assert by["w2/North/_smoke"].parameters["seed"] == 11
    h = input_hash(by["w1/all/_smoke"])
    (tmp_path / "w1.csv").write_text(W1 + "6,North,1,a\n")
    assert input_hash(by["w1/all/_smoke"]) != h
    assert input_hash(by["w2/all/_smoke"]) == input_hash(by["w2/all/_smoke"])


# --------------------------------------------------------------------------- notebook runs
@pytest.mark.notebooks
def test_study_lifecycle(tmp_path):
    """Run, rerun (skips), one broken wave (others kept), fixed wave (only it reruns)."""
    path = _study(tmp_path, {"w1": W1, "w2": W2})
    root = tmp_path / "runs" / "smoke"
    events = []
    out = run_study(path, jobs=2, progress=events.append)
    assert out.ok, out.table
    assert sorted(o.status for o in out.outcomes) == ["success"] * 6
    assert len(events) == 6
    texts = {"w1": W1, "w2": W2}
    for wave in ("w1", "w2"):
        for seg in ("all", "North", "South"):
            d = root / wave / seg
            for suffix in (".ipynb", ".html", ".results.json", ".run.json"):
                assert (d / f"_smoke{suffix}").is_file(), (d, suffix)
            exp = _expected(texts[wave], seg)
            res = read_results(d / "_smoke.results.json")
            assert res["values"]["n"] == exp["n"]
            assert res["values"]["mean_x"] == exp["mean_x"]   # exact: JSON keeps every digit
            assert res["values"]["sum_x"] == exp["sum_x"]
            assert res["values"]["seed"] == 11
            if wave == "w2":
                prev = _expected(W1, seg)
                assert res["values"]["change_mean_x"] == pytest.approx(
                    exp["mean_x"] - prev["mean_x"], abs=1e-12)
            by_y = results_frame(res, "by_y")
            df = pd.read_csv(io.StringIO(texts[wave]))
            df = df if seg == "all" else df[df.region == seg]
            assert by_y.set_index("y")["mean_x"].to_dict() == df.groupby("y")["x"].mean().to_dict()
            page = (d / "_smoke.html").read_text()
            assert _outside_references(page) == [], d
            html = _visible(page)
            assert f"Mean of x in {seg}: {exp['mean_x']:.6f} (n = {exp['n']})" in html
            for absent in ("set_results_path", "import pandas", "injected", "secret-stderr-marker",
                           str(tmp_path), "Traceback", "In&nbsp;["):
                assert absent not in html, (absent, d)
            nb = nbformat.read(d / "_smoke.ipynb", as_version=4)
            injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert len(injected) == 1 and str(tmp_path) in injected[0].source
            assert "csm-run-" not in injected[0].source    # staged paths mapped back
            rec = json.loads((d / "_smoke.run.json").read_text())
            assert rec["status"] == "success" and rec["error"] is None
            assert rec["seed"] == 11 and rec["kernel"] == "csm"
            assert rec["data_sha256"] == __import__("hashlib").sha256(
                (tmp_path / f"{wave}.csv").read_bytes()).hexdigest()
            assert {"python", "pandas", "papermill", "csm-workbench"} <= set(rec["versions"])
            assert rec["start"] <= rec["end"]
    summary = pd.read_csv(root / "summary.csv")
    assert list(summary.columns) == ["study", "wave", "segment", "notebook", "key", "value_number",
                                     "value_text"]
    got = summary.set_index(["wave", "segment", "key"])["value_number"]
    assert got[("w2", "South", "mean_x")] == pytest.approx(_expected(W2, "South")["mean_x"])
    assert got[("w1", "all", "n")] == 5
    assert len(json.loads((root / "summary.json").read_text())["runs"]) == 6

    # rerun: nothing changed -> everything skipped, no record rewritten
    before = _mtimes(root)
    out = run_study(path, jobs=2)
    assert [o.status for o in out.outcomes] == ["skipped"] * 6
    assert _mtimes(root) == before

    # one wave's notebook raises: that wave's runs fail with the message, the rest stand
    (tmp_path / "w2.csv").write_text(W2.replace("id,region,x,y", "id,region,x,y,fail")
                                     .replace("\n", ",1\n").replace("y,fail,1\n", "y,fail\n"))
    out = run_study(path, executor=ThreadPoolExecutor(2))   # any submit()-executor works
    assert not out.ok
    status = out.table.set_index("run_id")["status"].to_dict()
    assert status == {"w1/all/_smoke": "skipped", "w1/North/_smoke": "skipped",
                      "w1/South/_smoke": "skipped", "w2/all/_smoke": "failed",
                      "w2/North/_smoke": "failed", "w2/South/_smoke": "failed"}
    rec = json.loads((root / "w2" / "North" / "_smoke.run.json").read_text())
    assert rec["status"] == "failed"
    assert rec["error"].startswith("ValueError: smoke failure requested by the data of wave w2")
    assert "Traceback" not in rec["error"] and "\x1b[" not in rec["error"]
    assert not (root / "w2" / "North" / "_smoke.html").exists()
    assert not (root / "w2" / "North" / "_smoke.results.json").exists()
    assert {k: v for k, v in _mtimes(root).items() if k.startswith("w1")} == {
        k: v for k, v in before.items() if k.startswith("w1")}
    summary = json.loads((root / "summary.json").read_text())
    assert {r["run_id"]: r["status"] for r in summary["runs"]}["w2/South/_smoke"] == "failed"

    # the wave's data fixed (and changed): only that wave reruns
    (tmp_path / "w2.csv").write_text(W2_NEW)
    out = run_study(path, jobs=2)
    assert out.ok
    status = out.table.set_index("run_id")["status"].to_dict()
    assert [status[f"w1/{s}/_smoke"] for s in ("all", "North", "South")] == ["skipped"] * 3
    assert [status[f"w2/{s}/_smoke"] for s in ("all", "North", "South")] == ["success"] * 3
    for seg in ("all", "North", "South"):
        res = read_results(root / "w2" / seg / "_smoke.results.json")
        assert res["values"]["mean_x"] == _expected(W2_NEW, seg)["mean_x"]


@pytest.mark.notebooks
def test_dead_kernel_then_resume(tmp_path):
    """A kernel killed mid-run is recorded as failed; the rerun redoes only that run."""
    path = _study(tmp_path, {"w1": W1, "w2": _with_column(W2, "die")}, segments=False)
    root = tmp_path / "runs" / "smoke"
    out = run_study(path, jobs=1)
    assert out.table.set_index("run_id")["status"].to_dict() == {
        "w1/all/_smoke": "success", "w2/all/_smoke": "failed"}
    assert "kernel died" in out.table.set_index("run_id").loc["w2/all/_smoke", "error"]
    w1_record = (root / "w1" / "all" / "_smoke.run.json").stat().st_mtime_ns
    (tmp_path / "w2.csv").write_text(W2)
    out = run_study(path, jobs=1)
    assert out.table["status"].tolist() == ["skipped", "success"]
    assert (root / "w1" / "all" / "_smoke.run.json").stat().st_mtime_ns == w1_record
    assert read_results(root / "w2" / "all" / "_smoke.results.json")["values"]["n"] == 4


@pytest.mark.notebooks
def test_suppressed_segment_and_worker_payload(tmp_path):
    """Segments below min_base are recorded as suppressed, not run; the worker needs no paths."""
    path = _study(tmp_path, {"w1": W1}, min_base=3)
    study = load_study(path)
    runs = plan_runs(study)
    # the worker gets bytes, not paths: delete the inputs after building the payload
    from csmlib.run.batch import _build_payload

    payload = _build_payload(runs[1])   # w1/North: n = 3
    (tmp_path / "w1.csv").unlink()
    res = execute_run(payload)
    assert res["status"] == "success", res["error"]
    assert json.loads(res["results"])["values"]["n"] == 3
    (tmp_path / "w1.csv").write_text(W1)
    out = run_study(study, jobs=1, only="*/South/*")
    assert [(o.run.run_id, o.status) for o in out.outcomes] == [("w1/South/_smoke", "suppressed")]
    rec = json.loads((tmp_path / "runs" / "smoke" / "w1" / "South" / "_smoke.run.json").read_text())
    assert rec["status"] == "suppressed" and "n=2" in rec["error"] and "min_base=3" in rec["error"]
    with pytest.raises(StudyError, match="matches no run"):
        run_study(study, jobs=1, only="w9/*")


@pytest.mark.notebooks
def test_cell_timeout_is_a_failed_run(tmp_path):
    path = _study(tmp_path, {"w1": W1}, segments=False, timeout=2,
                  parameters={"seed": 1, "sleep": 30})
    out = run_study(path, jobs=1)
    (o,) = out.outcomes
    assert o.status == "failed"
    assert o.error.startswith("a cell ran longer than the time limit")
    assert o.seconds < 25
    assert not out.ok


def test_a_worker_standing_in_a_deleted_folder_still_runs(tmp_path, monkeypatch):
    """A run goes back to the process's folder afterwards; if that folder is
    gone (an earlier run's temporary folder), it goes to the temporary
    directory instead of failing the run (and every run after it)."""
    import os
    import tempfile

    from csmlib.run.batch import _InFolder

    gone, work = tmp_path / "gone", tmp_path / "work"
    gone.mkdir()
    work.mkdir()
    monkeypatch.chdir(gone)
    with _InFolder(work):
        assert os.getcwd() == str(work)
        gone.rmdir()
    assert os.getcwd() == os.path.realpath(tempfile.gettempdir())
    with _InFolder(gone.parent / "work"):
        pass
    assert os.getcwd() == os.path.realpath(tempfile.gettempdir())
