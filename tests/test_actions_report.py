"""The study report's improvement actions over two waves: the index_drivers
runs record the indices, the report carries the measures forward and shows
each action's status with the change test the library computes."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest
from scipy import stats

import csmlib as csm
from csmlib.report.htmlexport import notebook_to_html
from csmlib.report.record import read_results, results_frame

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "data" / "demo"
ACTIONS = [
    {"name": "Raise satisfaction", "owner": "Customer experience", "target": "Satisfaction",
     "baseline_wave": "W1", "target_value": 73.0, "due_wave": "W2"},
    {"name": "Clearer bills", "owner": "Billing", "target": "PERQ5", "baseline_wave": "W1",
     "target_value": 9.5, "due_wave": "W2"},
    {"name": "Later", "owner": "Billing", "target": "PERQ4", "baseline_wave": "W1",
     "target_value": 9.5, "due_wave": "W3"},
]


def _execute(name: str, out: Path, **params) -> None:
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), kernel_name="csm", parameters=params,
                        cwd=str(NOTEBOOKS), progress_bar=False)


@pytest.fixture(scope="module")
def two_waves(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("actions")
    out = {}
    previous = ""
    for wave, file in (("W1", "wave1.csv"), ("W2", "wave2.csv")):
        common = {"data_path": str(DEMO / file), "instrument_path": str(DEMO / "instrument.yml"),
                  "wave": wave, "study": "t", "n_boot": 100, "seed": 5, "model": "acsi"}
        idx = tmp / f"{wave}_index_drivers.results.json"
        _execute("index_drivers", tmp / f"{wave}_index_drivers.ipynb", results_path=str(idx), **common)
        rep = tmp / f"{wave}_study_report.results.json"
        _execute("study_report", tmp / f"{wave}_study_report.ipynb", results_path=str(rep),
                 wave_results={"all/index_drivers": str(idx)}, previous_results_path=previous,
                 actions=ACTIONS, **common)
        previous = str(rep)
        out[wave] = {"index": read_results(idx), "report": read_results(rep),
                     "html": notebook_to_html((tmp / f"{wave}_study_report.ipynb").read_text(encoding="utf-8"))}
    return out


def test_status_and_change_test_from_the_recorded_indices(two_waves):
    i1 = results_frame(two_waves["W1"]["index"], "indices").set_index("construct").loc["Satisfaction"]
    i2 = results_frame(two_waves["W2"]["index"], "indices").set_index("construct").loc["Satisfaction"]
    status = results_frame(two_waves["W2"]["report"], "action_status").set_index("action")
    sat = status.loc["Raise satisfaction"]
    assert sat["baseline"] == pytest.approx(i1["index"]) and sat["value"] == pytest.approx(i2["index"])
    se = math.hypot(i1["se"], i2["se"])
    assert sat["pvalue"] == pytest.approx(2 * stats.norm.sf(abs((i2["index"] - i1["index"]) / se)))
    assert sat["status"] == ("met" if i2["index"] >= 73 else "not met")
    # the item: its mean in each wave, from the data
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    m1 = csm.read_survey(DEMO / "wave1.csv", inst).data["PERQ5"].mean()
    m2 = csm.read_survey(DEMO / "wave2.csv", inst).data["PERQ5"].mean()
    bills = status.loc["Clearer bills"]
    assert bills["baseline"] == pytest.approx(m1) and bills["value"] == pytest.approx(m2)
    assert bills["status"] == "not met"                      # 9.5 is far above the demo's mean
    assert status.loc["Later", "status"] == "not yet due"
    first = results_frame(two_waves["W1"]["report"], "action_status")
    assert set(first["status"]) == {"not yet due"}
    measures = results_frame(two_waves["W2"]["report"], "action_measures")
    assert set(measures["wave"]) == {"W1", "W2"}


def test_report_lists_actions_by_owner_and_proposes_candidates(two_waves):
    html = two_waves["W2"]["html"]
    assert "Improvement actions" in html and "Customer experience" in html and "Billing" in html
    assert "Proposed actions" in html
    proposed = results_frame(two_waves["W2"]["report"], "candidate_actions")
    assert (proposed["owner"] == "").all() and len(proposed) >= 1
    ipma = results_frame(two_waves["W2"]["index"], "ipma").sort_values("rank")
    assert proposed["target"].iloc[0] == ipma["construct"].iloc[0]
