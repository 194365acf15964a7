"""Issue 13, class 4: configuration that would fail later is refused up front.

A corpus of broken studies.  For each, ``csm run`` fails before any notebook
runs, and ``csm validate`` reports the very same error, with exit code 2."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml

import csmlib.run.batch as batch
from csmlib.run.cli import main
from csmlib.run.study import load_study

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
INSTRUMENT = ("name: smoke\nid_column: id\nwave_column: wave\nsegment_columns: [region]\n"
              "constructs: [{name: S, items: [{name: x, scale: [0, 10]}, {name: x2, scale: [0, 10]}]}]\n")
W1 = "id,wave,region,x,x2\n1,w1,North,1,2\n2,w1,North,2,3\n3,w1,South,3,3\n4,w1,South,5,4\n"
W2 = "id,wave,region,x,x2\n1,w2,North,2,2\n2,w2,North,2,5\n3,w2,South,7,6\n"


def _study(folder: Path, **overrides) -> Path:
    (folder / "w1.csv").write_text(W1)
    (folder / "w2.csv").write_text(W2)
    (folder / "instrument.yml").write_text(INSTRUMENT)
    doc = {"name": "smoke", "instrument": "instrument.yml", "model": "S =~ x + x2",
           "waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}],
           "segments": {"column": "region"}, "notebooks": [str(SMOKE)],
           "parameters": {"seed": 3, "n_boot": 10}, "min_base": 1, "output": str(folder / "runs")}
    doc.update(overrides)
    path = folder / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _xlsx(path: Path, rows: list[list], sheet: str = "Data") -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)


def _answer_outside_scale(d):
    (d / "w2.csv").write_text(W2.replace("3,w2,South,7,6", "3,w2,South,11,6"))


def _instrument_is_csv(d):
    return _study(d, instrument="w1.csv")


def _duplicate_key_in_study(d):
    p = _study(d)
    p.write_text(p.read_text() + "min_base: 5\n")


def _impossible_date_in_study(d):
    # YAML's own reading of an unquoted 2026-02-30 was a raw ValueError traceback
    p = _study(d)
    p.write_text(p.read_text().replace("data: w1.csv\n", "data: w1.csv\n  start: 2026-01-01\n  end: 2026-02-30\n"))
    assert "2026-02-30" in p.read_text()


def _duplicate_key_in_instrument(d):
    (d / "instrument.yml").write_text(INSTRUMENT + "name: again\n")


def _non_utf8_model(d):
    (d / "m.lavaan").write_bytes("# Qualität\nS =~ x + x2\n".encode("cp1252"))
    return _study(d, model="m.lavaan")


def _several_waves_in_one_file(d):
    (d / "w2.csv").write_text(W2 + "4,w3,North,2,2\n5,w1,South,3,3\n")


def _wrong_encoding(d):
    (d / "w2.csv").write_bytes(W2.replace("North", "Nörd").encode("cp1252"))


def _formula_without_result(d):
    _xlsx(d / "w2.xlsx", [["id", "wave", "region", "x", "x2"], [1, "w2", "North", 2, "=D2+1"],
                          [2, "w2", "South", 3, 4]])
    return _study(d, waves=[{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w2.xlsx"}])


def _missing_sheet(d):
    _xlsx(d / "w2.xlsx", [["id", "wave", "region", "x", "x2"], [1, "w2", "North", 2, 3]])
    return _study(d, waves=[{"name": "w1", "data": "w1.csv"},
                            {"name": "w2", "data": "w2.xlsx", "sheet": "Antworten"}])


def _ragged_csv(d):
    (d / "w2.csv").write_text(W2 + "4,w2,North,Ost,2,2\n")


def _item_missing_in_file(d):
    (d / "w1.csv").write_text(W1.replace(",x2", ",xx2"))


CASES = {
    "impossible date in the study": (_impossible_date_in_study, "'2026-02-30' is not a date"),
    # data: every wave loads through the instrument with the notebooks' reader
    "answer outside the scale": (_answer_outside_scale, "outside the scale [0, 10]"),
    "several waves in one file": (_several_waves_in_one_file, "holds 3 waves in its wave column 'wave'"),
    "wrong encoding": (_wrong_encoding, "not valid UTF-8"),
    "formula without a stored result": (_formula_without_result, "have no stored result"),
    "missing Excel sheet": (_missing_sheet, "no sheet 'Antworten'"),
    "sheet for a CSV": (lambda d: _study(d, waves=[{"name": "w1", "data": "w1.csv", "sheet": "Data"}]),
                        "waves[0].sheet: a sheet applies only to Excel files"),
    "ragged CSV": (_ragged_csv, "do not have as many fields"),
    "item missing in the file": (_item_missing_in_file, "not in the file"),
    "data file missing": (lambda d: _study(d, waves=[{"name": "w1", "data": "nope.csv"}]),
                          "data file not found"),
    "unknown user in a path": (lambda d: _study(d, waves=[{"name": "w1", "data": "~nosuchuser9/w.csv"}]),
                               "no home folder is known for '~nosuchuser9'"),
    "unknown encoding": (lambda d: _study(d, waves=[{"name": "w1", "data": "w1.csv", "encoding": "utf-9"}]),
                         "unknown text encoding"),
    # model and instrument
    "model syntax error": (lambda d: _study(d, model="S =~ x +\nS ~~"), "model: "),
    "model item not in the instrument": (lambda d: _study(d, model="S =~ x + x3"),
                                         "not items of the instrument"),
    "instrument is a CSV": (_instrument_is_csv, "instrument"),
    "duplicate key in the study": (_duplicate_key_in_study, "'min_base' is given twice"),
    "duplicate key in the instrument": (_duplicate_key_in_instrument, "'name' is given twice"),
    "non-UTF-8 model file": (_non_utf8_model, "model file is not UTF-8"),
    "segment column not in the instrument": (lambda d: _study(d, segments={"column": "x"}),
                                             "not a segment column of the instrument"),
    # parameters and notebooks
    "n_boot negative": (lambda d: _study(d, parameters={"n_boot": -5}), "parameters.n_boot: must be a whole"),
    "seed text": (lambda d: _study(d, parameters={"seed": "abc"}), "parameters.seed"),
    "unknown scheme": (lambda d: _study(d, parameters={"scheme": "pathh"}), "parameters.scheme"),
    "unknown construct": (lambda d: _study(d, parameters={"index_construct": "Satisfaction"}),
                          "parameters.index_construct"),
    "PLS notebook with a loop of paths": (
        lambda d: _study(d, model="S =~ x\nT =~ x2\nS ~ T\nT ~ S", notebooks=[str(SMOKE), "structural"]),
        "the paths S -> T -> S form a loop"),
    "misspelt parameter": (lambda d: _study(d, parameters={"seed": 3, "n_bot": 10}), "did you mean 'n_boot'?"),
    "misspelt report notebook": (lambda d: _study(d, report="_smok"), "did you mean '_smoke'"),
    "misspelt notebook": (lambda d: _study(d, notebooks=["data_qualty"]), "did you mean 'data_quality'"),
    # output: csm run failed with "Not a directory" and a hint to free disk space
    "output folder is a file": (lambda d: (d / "runs").write_text("x") and None, "is a file, not a folder"),
    "output inside a file": (lambda d: _study(d, output=str(d / "w1.csv" / "runs")), "is a file, not a folder"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validate_reports_what_run_would_fail_on(tmp_path, capsys, monkeypatch, case):
    make, fragment = CASES[case]
    path = make(tmp_path) or tmp_path / "study.yml"
    if not path.exists():
        path = _study(tmp_path)
        make(tmp_path)

    def no_notebook(*args, **kwargs):
        raise AssertionError(f"{case}: csm run got as far as running notebooks")

    monkeypatch.setattr(batch, "_schedule", no_notebook)
    assert main(["validate", str(path)]) == 2
    validate_err = capsys.readouterr().err
    assert main(["run", str(path), "--no-progress", "--jobs", "1"]) == 2
    run_err = capsys.readouterr().err
    assert validate_err == run_err, case
    assert validate_err.startswith("csm: error: ") and "Traceback" not in validate_err
    assert fragment in validate_err, (case, validate_err)


@pytest.mark.parametrize("study", ["absent.yml", "~nosuchuser9/study.yml"])
def test_an_unreadable_study_path_is_the_same_error(tmp_path, capsys, monkeypatch, study):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", study]) == 2
    validate_err = capsys.readouterr().err
    assert main(["run", study, "--no-progress"]) == 2
    assert capsys.readouterr().err == validate_err and "Traceback" not in validate_err


def test_every_case_is_valid_without_its_fault(tmp_path, capsys):
    assert main(["validate", str(_study(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "study file OK" in out and "runs: 6 (0 suppressed)" in out


def test_encoding_and_sheet_per_wave_are_used(tmp_path, capsys):
    path = _study(tmp_path)
    (tmp_path / "w2.csv").write_bytes(W2.replace("North", "Nörd").encode("cp1252"))
    _xlsx(tmp_path / "w1.xlsx", [["id", "wave", "region", "x", "x2"], [1, "w1", "Nörd", 2, 3],
                                 [2, "w1", "South", 2, 3], [3, "w1", "Nörd", 4, 4]], sheet="Antworten")
    doc = yaml.safe_load(path.read_text())
    doc["waves"] = [{"name": "w1", "data": "w1.xlsx", "sheet": "Antworten"},
                    {"name": "w2", "data": "w2.csv", "encoding": "cp1252"}]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    (tmp_path / "w1.csv").unlink()
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "w1 Nörd" in " ".join(out.split()) and "n=2" in out
    runs = {r.run_id: r for r in batch.plan_runs(load_study(path))}
    p = runs["w1/Nörd/_smoke"].parameters
    assert (p["data_sheet"], p["data_encoding"]) == ("Antworten", "")
    assert runs["w2/Nörd/_smoke"].parameters["data_encoding"] == "cp1252"
    assert runs["w2/Nörd/_smoke"].n == 2


def test_load_warnings_are_shown_by_validate_and_run(tmp_path, capsys, monkeypatch):
    path = _study(tmp_path)
    rows = "".join(f"{i},w1,North,{1 + i % 5},{1 + i % 4}\n" for i in range(1, 21))
    (tmp_path / "w1.csv").write_text("id,wave,region,x,x2\n" + rows)   # 40 answers, all in 1-5 of 0-10
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: the 40 answers of the item(s) with scale [0, 10] (x, x2) lie only in [1, 5]" in out
    monkeypatch.setattr(batch, "_schedule", lambda *a, **k: [])
    main(["run", str(path), "--no-progress", "--jobs", "1"])
    err = capsys.readouterr().err
    assert "csm: warning: the 40 answers of the item(s) with scale [0, 10]" in err


def test_a_wave_file_of_another_wave_or_read_twice_is_warned(tmp_path, capsys, monkeypatch):
    """A study wave reading a file whose wave column names one other wave (a
    file listed under the wrong wave), or two waves reading the same bytes,
    gave numbers of the wrong wave (and a change of 0) without a word."""
    path = _study(tmp_path)
    (tmp_path / "w2.csv").write_text(W2.replace(",w2,", ",w9,"))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: waves[1].data: every respondent's wave column 'wave' says 'w9'" in out
    monkeypatch.setattr(batch, "_schedule", lambda *a, **k: [])
    main(["run", str(path), "--no-progress", "--jobs", "1"])
    assert "csm: warning: waves[1].data: every respondent's wave column 'wave' says 'w9'" in capsys.readouterr().err
    (tmp_path / "w2.csv").write_text(W1)
    path = _study(tmp_path, waves=[{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w1.csv"}])
    assert main(["validate", str(path)]) == 0
    assert "warning: waves[1].data: the same data as waves[0] ('w1')" in capsys.readouterr().out


def test_a_segment_value_nobody_has_is_a_warning_of_validate(tmp_path, capsys):
    path = _study(tmp_path, segments={"column": "region", "values": ["North", "Sout"]})
    assert main(["validate", str(path)]) == 0            # a warning, not a failure
    out = " ".join(capsys.readouterr().out.split())
    for i, wave in enumerate(("w1", "w2")):
        assert (f"warning: waves[{i}] ('{wave}'): nobody in the wave has the segment value(s) 'Sout' "
                "of 'region' (given in the study file)") in out
    assert "Sout n=0 suppressed" in out


def test_a_loop_of_paths_is_fine_without_a_pls_notebook(tmp_path, capsys):
    # only notebooks that fit PLS need a recursive model (CB-SEM estimates loops)
    path = _study(tmp_path, model="S =~ x\nT =~ x2\nS ~ T\nT ~ S")
    assert main(["validate", str(path)]) == 0


def test_the_loop_error_names_the_pls_notebooks(tmp_path, capsys):
    path = _study(tmp_path, model="S =~ x\nT =~ x2\nS ~ T\nT ~ S",
                  notebooks=[str(SMOKE), "structural", "index_drivers", "data_quality"])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model: the structural model is not recursive" in err
    assert "the notebooks structural, index_drivers fit PLS" in err and "data_quality" not in err.split("fit PLS")[0]
