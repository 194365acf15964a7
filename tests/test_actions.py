"""Improvement actions: the study file's ``actions:`` and their status wave to wave."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csmlib.analysis.actions import (
    STATUSES,
    action_status,
    candidate_actions,
    construct_measures,
    item_measures,
)
from csmlib.errors import DataError, StudyError
from csmlib.run.batch import plan_runs
from csmlib.run.study import load_study, relocate_study

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def _action(**kw):
    a = {"name": "Shorter queues", "owner": "Branches", "target": "PERQ4", "baseline_wave": "w1",
         "target_value": 6.5, "due_wave": "w3"}
    a.update(kw)
    return a


def _waves(means, n=400, seed=1):
    """Item answers of known mean per wave (normal, sd 2) and their measures."""
    rng = np.random.default_rng(seed)
    frames, measures = {}, []
    for i, mu in enumerate(means, start=1):
        x = mu + 2 * rng.standard_normal(n)
        frames[f"w{i}"] = x
        measures.append(item_measures(pd.DataFrame({"PERQ4": x}), ["PERQ4"], wave=f"w{i}"))
    return frames, pd.concat(measures, ignore_index=True)


def test_status_over_the_waves_with_the_change_test():
    frames, measures = _waves([6.0, 6.3, 7.0])
    acts = [_action()]
    # wave 1: the baseline; wave 2: not yet due, the change so far; wave 3: due and met
    s1 = action_status(acts, measures, wave="w1").iloc[0]
    assert s1["status"] == "not yet due" and math.isnan(s1["diff"])
    s2 = action_status(acts, measures, wave="w2").iloc[0]
    assert s2["status"] == "not yet due" and s2["measured_wave"] == "w2"
    s3 = action_status(acts, measures, wave="w3").iloc[0]
    assert s3["status"] == "met" and s3["measured_wave"] == "w3"
    # the change test, by hand: independent means
    a, b = frames["w1"], frames["w3"]
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    z = (b.mean() - a.mean()) / se
    assert s3["baseline"] == pytest.approx(a.mean()) and s3["value"] == pytest.approx(b.mean())
    assert s3["diff"] == pytest.approx(b.mean() - a.mean())
    assert s3["se"] == pytest.approx(se)
    assert s3["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert s3["ci_lower"] < 1.0 < s3["ci_upper"]         # the true change
    # a target above what was reached: not met
    assert action_status([_action(target_value=7.5)], measures, wave="w3").iloc[0]["status"] == "not met"


def test_status_later_waves_judge_at_the_due_wave():
    _, measures = _waves([6.0, 7.0, 5.0])
    s = action_status([_action(due_wave="w2")], measures, wave="w3").iloc[0]
    assert s["measured_wave"] == "w2" and s["status"] == "met"


def test_not_measurable_and_future_waves():
    _, measures = _waves([6.0, 7.0])
    gone = measures.copy()
    gone.loc[gone["wave"] == "w2", ["est", "se"]] = np.nan        # suppressed / not estimated
    s = action_status([_action(due_wave="w2")], gone, wave="w2").iloc[0]
    assert s["status"] == "not measurable" and "due wave" in s["reason"]
    s = action_status([_action(target="Value", due_wave="w2")], measures, wave="w2").iloc[0]
    assert s["status"] == "not measurable" and "baseline" in s["reason"]
    # baseline in the future (an action decided for a later wave)
    s = action_status([_action(baseline_wave="w2", due_wave="w3")], measures, wave="w1").iloc[0]
    assert s["status"] == "not yet due"
    assert set(action_status([_action()], measures, wave="w2")["status"]) <= set(STATUSES)


def test_measures_of_constructs_and_errors():
    idx = pd.DataFrame({"construct": ["Quality", "Satisfaction"], "index": [70.0, 72.5], "se": [1.0, 1.2],
                        "ci_lower": [68, 70], "ci_upper": [72, 75]})
    m = construct_measures(idx, wave="w1")
    assert list(m.columns) == ["wave", "target", "est", "se", "kind"]
    assert m.set_index("target").loc["Satisfaction", "est"] == 72.5
    # a wave without measures: nothing is measurable in it
    s = action_status([_action(target="Quality", baseline_wave="w1", due_wave="w9", target_value=75)], m,
                      wave="w9").iloc[0]
    assert s["status"] == "not measurable" and s["baseline"] == 70.0 and math.isnan(s["value"])
    with pytest.raises(DataError, match="lack"):
        action_status([{"name": "x"}], m, wave="w1")
    with pytest.raises(DataError, match="twice"):
        action_status([_action()], pd.concat([m, m]), wave="w1")
    small = item_measures(pd.DataFrame({"PERQ4": [1.0, 2.0, 3.0]}), ["PERQ4"], wave="w1", min_base=30)
    assert small["est"].isna().all()


def test_candidate_actions_from_the_improve_first_list():
    ipma = pd.DataFrame({"construct": ["Quality", "Value", "Expectation"], "importance": [0.5, 0.3, 0.1],
                         "performance": [70.0, 97.0, 60.0], "priority": [15, 0.9, 4], "rank": [1, 3, 2],
                         "quadrant": ["", "", ""]})
    c = candidate_actions(ipma, wave="w1", due_wave="w2", n=2)
    assert list(c["target"]) == ["Quality", "Expectation"]
    assert (c["owner"] == "").all()
    assert list(c["target_value"]) == [75.0, 65.0]
    c = candidate_actions(ipma, wave="w1", due_wave="w2", n=3)
    assert c["target_value"].max() <= 100
    # without rank: importance * (100 - performance), largest first (15, 4, 0.9)
    c = candidate_actions(ipma.drop(columns="rank"), wave="w1", due_wave="w2")
    assert list(c["target"]) == ["Quality", "Expectation", "Value"]


# ------------------------------------------------------------- study file
def _study(tmp_path, actions):
    return relocate_study(DEMO / "study.yml", tmp_path / "study.yml", output=str(tmp_path / "runs"),
                          actions=actions)


def _act(**kw):
    a = {"name": "Clearer bills", "owner": "Billing", "target": "PERQ5", "baseline_wave": "2026Q1",
         "target_value": 7.5, "due_wave": "2026Q3"}
    a.update(kw)
    return a


def test_study_actions_load_and_reach_the_report_run(tmp_path):
    study = load_study(_study(tmp_path, [_act(), _act(name="Better service", owner="Service",
                                                      target="Quality", target_value=80)]))
    assert [a.owner for a in study.actions] == ["Billing", "Service"]
    assert study.actions[1].target_value == 80.0
    runs = plan_runs(study)
    reports = [r for r in runs if r.kind == "report"]
    assert reports and all(r.parameters["actions"][0]["target"] == "PERQ5" for r in reports)
    assert all("actions" not in r.parameters for r in runs if r.kind != "report")


@pytest.mark.parametrize("bad, fragment", [
    ({"target": "Nothing"}, "neither a construct"),
    ({"target": "Qualty"}, "did you mean 'Quality'"),
    ({"baseline_wave": "2025Q4"}, "not a wave of the study"),
    ({"due_wave": "2026Q1"}, "not after the baseline"),
    ({"target_value": 11}, "outside the scale [1, 10]"),
    ({"target": "Quality", "target_value": 120}, "outside the 0-100 index"),
    ({"target_value": "high"}, "finite number"),
    ({"owner": ""}, "owner"),
])
def test_bad_actions_are_clear_study_errors(tmp_path, bad, fragment):
    with pytest.raises(StudyError) as err:
        load_study(_study(tmp_path, [_act(**bad)]))
    assert fragment in str(err.value) and "actions[0]" in str(err.value)


def test_repeated_action_names(tmp_path):
    with pytest.raises(StudyError, match="named twice"):
        load_study(_study(tmp_path, [_act(), _act()]))
