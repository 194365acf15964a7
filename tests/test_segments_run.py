"""A study run end to end on awkward inputs (issue 13, class 3): segment
values that used to share a folder or break the path, and a data file
edited while the study runs.  Uses the smoke notebook (real papermill runs)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

import csmlib.run.batch as batch
from csmlib.report.record import read_results
from csmlib.run.batch import run_study

pytestmark = pytest.mark.notebooks

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
              "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")


def _study(folder: Path, text: str, segments: bool) -> Path:
    (folder / "w1.csv").write_text(text, encoding="utf-8")
    (folder / "instrument.yml").write_text(INSTRUMENT)
    doc = {"name": "smoke", "instrument": "instrument.yml", "model": "S =~ x",
           "waves": [{"name": "w1", "data": "w1.csv"}], "notebooks": [str(SMOKE)],
           "parameters": {"seed": 1}, "min_base": 1, "output": str(folder / "runs")}
    if segments:
        doc["segments"] = {"column": "region"}
    path = folder / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_awkward_segment_values_each_get_their_own_folder_and_base(tmp_path):
    long = "Region " + "x" * 300
    # value -> the x answers of its respondents (sums differ, so merged segments would show)
    groups = {"Nord/Ost": [1, 2], "Nord:Ost": [4], "North": [8], "north": [7, 7], long: [9],
              "all": [3], "CON": [5]}
    answers = [(v, x) for v, xs in groups.items() for x in xs]
    lines = [f'{i},"{v}",{x},a' for i, (v, x) in enumerate(answers, 1)]
    path = _study(tmp_path, "id,region,x,y\n" + "\n".join(lines) + "\n", segments=True)
    out = run_study(path, executor=ThreadPoolExecutor(1))   # one: runs chdir
    assert out.ok, out.table
    table = out.table
    assert len(table) == 1 + len(groups) and table["run_id"].is_unique
    folders = set()
    for o in out.outcomes:
        if o.run.segment == "all":
            continue
        res = read_results(o.run.results_path)["values"]
        xs = groups[o.run.segment_value]
        assert (res["n"], res["sum_x"]) == (len(xs), sum(xs)), o.run.segment_value
        folders.add(o.run.out_dir.name.casefold())
        assert len(o.run.out_dir.name.encode()) <= 100
    assert len(folders) == len(groups)
    total = read_results(next(o.run.results_path for o in out.outcomes if o.run.segment == "all"))
    assert total["values"]["n"] == sum(len(v) for v in groups.values())


def test_a_data_file_edited_during_the_run_is_recorded_as_read(tmp_path, monkeypatch):
    old = "id,region,x,y\n1,N,2,a\n2,N,4,a\n3,S,6,b\n"
    path = _study(tmp_path, old, segments=False)
    data = tmp_path / "w1.csv"
    build = batch._build_payload

    def build_then_edit(run, *args):
        payload = build(run, *args)   # the notebook gets these bytes ...
        data.write_text("id,region,x,y\n1,N,9,a\n", encoding="utf-8")   # ... then the file changes
        return payload

    monkeypatch.setattr(batch, "_build_payload", build_then_edit)
    out = run_study(path, executor=ThreadPoolExecutor(1))
    assert out.ok
    run = out.outcomes[0].run
    rec = json.loads(run.record_path.read_text())
    read_hash = hashlib.sha256(old.encode()).hexdigest()
    assert rec["data_sha256"] == read_hash and rec["inputs"]["data"]["sha256"] == read_hash
    assert read_results(run.results_path)["values"]["n"] == 3
    assert hashlib.sha256(data.read_bytes()).hexdigest() != read_hash
