"""NPS, top-box, complaint rates and SERVQUAL gaps against independent
computations (statsmodels' Wilson interval, scipy's paired t-test, and the
textbook definitions written out longhand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from csmlib.analysis import metrics
from csmlib.analysis import servqual
from csmlib.errors import DataError


@pytest.fixture
def answers():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 11, size=400).astype(float)
    x[rng.choice(400, 15, replace=False)] = np.nan
    return x


def test_nps_matches_definition(answers):
    valid = answers[~np.isnan(answers)]
    # per-respondent score +1 / 0 / -1; NPS is 100 x its mean
    score = np.array([1.0 if a >= 9 else (-1.0 if a <= 6 else 0.0) for a in valid])
    res = metrics.nps(answers).iloc[0]
    assert res["n"] == len(valid) and res["n_missing"] == 15
    assert res["nps"] == pytest.approx(100 * score.mean())
    # SE of a mean of iid scores, with the population variance (ddof=0)
    assert res["se"] == pytest.approx(100 * score.std(ddof=0) / np.sqrt(len(valid)))
    assert res["promoters"] + res["passives"] + res["detractors"] == pytest.approx(1.0)
    assert res["ci_lower"] == pytest.approx(res["nps"] - 1.959964 * res["se"], abs=1e-4)


def test_nps_rejects_other_scales_and_out_of_scale_answers():
    with pytest.raises(DataError, match="0-10"):
        metrics.nps([1, 2, 3], scale=(1, 5))
    with pytest.raises(DataError, match="outside the scale") as e:
        metrics.nps([1, 2, 11, 5])
    assert e.value.rows == [3] and e.value.values == [11.0]
    with pytest.raises(DataError, match="numeric"):
        metrics.nps(["9", "ten"])


def test_nps_weighted_uses_weighted_shares():
    x = np.array([10, 10, 0, 7])
    w = np.array([1.0, 1.0, 2.0, 4.0])
    res = metrics.nps(x, weights=w).iloc[0]
    assert res["nps"] == pytest.approx(100 * (2 / 8 - 2 / 8))
    assert res["n_eff"] == pytest.approx(8**2 / (1 + 1 + 4 + 16))


def test_top_box_and_wilson_interval_match_statsmodels(answers):
    x = answers[~np.isnan(answers)]
    x = np.clip(x, 1, 10)
    res = metrics.top_box(x, scale=(1, 10), boxes=2).iloc[0]
    k = int((x >= 9).sum())
    assert res["top_box"] == pytest.approx(k / len(x))
    assert res["bottom_box"] == pytest.approx((x <= 2).sum() / len(x))
    lo, hi = proportion_confint(k, len(x), alpha=0.05, method="wilson")
    assert (res["ci_lower"], res["ci_upper"]) == pytest.approx((lo, hi), abs=1e-12)


def test_complaint_rate(answers):
    c = np.where(np.isnan(answers), np.nan, (answers > 8).astype(float))
    res = metrics.complaint_rate(c).iloc[0]
    valid = c[~np.isnan(c)]
    lo, hi = proportion_confint(valid.sum(), len(valid), alpha=0.05, method="wilson")
    assert res["rate"] == pytest.approx(valid.mean())
    assert (res["ci_lower"], res["ci_upper"]) == pytest.approx((lo, hi), abs=1e-12)
    with pytest.raises(DataError, match="0 \\(no\\) or 1 \\(yes\\)|outside the scale"):
        metrics.complaint_rate([0, 1, 0.5])


def test_loyalty_by_complaint_handling_matches_scipy():
    rng = np.random.default_rng(3)
    g = rng.choice(["none", "resolved", "unresolved"], 300)
    y = rng.normal(70, 10, 300) - 15 * (g == "unresolved")
    res = metrics.loyalty_by_complaint_handling(y, g).set_index("group")
    yi = y[g == "unresolved"]
    assert res.loc["unresolved", "mean"] == pytest.approx(yi.mean())
    lo, hi = stats.t.interval(0.95, len(yi) - 1, loc=yi.mean(), scale=stats.sem(yi))
    assert (res.loc["unresolved", "ci_lower"], res.loc["unresolved", "ci_upper"]) == pytest.approx((lo, hi))
    assert res.loc["unresolved", "pvalue_vs_rest"] < 1e-6


def test_servqual_gaps_match_paired_t():
    rng = np.random.default_rng(11)
    n = 120
    e = rng.integers(4, 8, size=(n, 4)).astype(float)
    p = np.clip(e - rng.integers(0, 3, size=(n, 4)), 1, 7)
    df = pd.DataFrame(np.hstack([e, p]), columns=["e1", "e2", "e3", "e4", "p1", "p2", "p3", "p4"])
    df.loc[3, "p2"] = np.nan
    res = servqual.gaps(df, ["e1", "e2", "e3", "e4"], ["p1", "p2", "p3", "p4"],
                        {"Tangibles": ["p1", "p2"], "Empathy": ["p3", "p4"]})
    item = res[(res["level"] == "item") & (res["name"] == "p2")].iloc[0]
    ok = df[["e2", "p2"]].dropna()
    ref = stats.ttest_rel(ok["p2"], ok["e2"])
    assert item["n"] == n - 1
    assert item["gap"] == pytest.approx((ok["p2"] - ok["e2"]).mean())
    assert item["t"] == pytest.approx(ref.statistic) and item["pvalue"] == pytest.approx(ref.pvalue)
    dim = res[(res["level"] == "dimension") & (res["name"] == "Tangibles")].iloc[0]
    ok = df[["p1", "p2", "e1", "e2"]].dropna()
    d = ok[["p1", "p2"]].mean(axis=1) - ok[["e1", "e2"]].mean(axis=1)
    assert dim["gap"] == pytest.approx(d.mean())
    assert dim["pvalue"] == pytest.approx(stats.ttest_1samp(d, 0).pvalue)


def test_servqual_bad_input():
    df = pd.DataFrame({"e1": [1, 2], "p1": [2, 3]})
    with pytest.raises(DataError, match="pairs"):
        servqual.gaps(df, ["e1"], ["p1", "p2"])
    with pytest.raises(DataError, match="not columns") as e:
        servqual.gaps(df, ["e1", "e9"], ["p1", "p9"])
    assert e.value.column == ["e9", "p9"]
