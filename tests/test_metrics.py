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
from csmlib.errors import DataError, DataWarning


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
    # Rocks' (2016) adjusted Wald: the same scores plus 3/4 pseudo-promoters
    # (+1), 3/4 pseudo-detractors (-1) and 3/2 pseudo-passives (0); the SE of
    # the mean of those n + 3 scores, with the population variance (ddof=0)
    n = len(valid)
    adj_mean = (score.sum() + 0.75 - 0.75) / (n + 3)
    adj_sq = (np.abs(score).sum() + 1.5) / (n + 3)
    adj_se = np.sqrt((adj_sq - adj_mean**2) / (n + 3))
    assert res["se"] == pytest.approx(100 * adj_se)
    assert res["promoters"] + res["passives"] + res["detractors"] == pytest.approx(1.0)
    assert res["ci_lower"] == pytest.approx(100 * (adj_mean - 1.959964 * adj_se), abs=1e-4)
    assert res["ci_upper"] == pytest.approx(100 * (adj_mean + 1.959964 * adj_se), abs=1e-4)
    assert res["note"] == ""


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


# --------------------------------------------------------------------------- edges
def test_nps_all_promoters_has_an_honest_interval():
    """40 promoters out of 40: the plain Wald interval is [100, 100] with SE
    0; the adjusted Wald interval keeps a width: with 40.75 promoters and
    0.75 detractors out of 43, 100 * (0.93023 - 1.96 * 0.04817)."""
    res = metrics.nps(np.full(40, 10.0)).iloc[0]
    assert res["nps"] == 100 and res["ci_upper"] == 100
    assert res["se"] == pytest.approx(4.8172, abs=1e-3)
    assert res["ci_lower"] == pytest.approx(83.58, abs=0.01)
    low = metrics.nps(np.zeros(40)).iloc[0]
    assert low["nps"] == -100 and low["ci_lower"] == -100
    assert low["ci_upper"] == pytest.approx(-83.58, abs=0.01)
    # the small sample of an all-promoter segment is wide, not [100, 100]
    small = metrics.nps(np.full(5, 9.0)).iloc[0]
    assert small["ci_lower"] < 50 and small["ci_upper"] == 100


def test_share_intervals_at_the_boundary_match_statsmodels_wilson():
    for k, n in ((40, 40), (0, 40), (1, 3)):
        x = np.r_[np.ones(k), np.zeros(n - k)]
        res = metrics.complaint_rate(x).iloc[0]
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (res["ci_lower"], res["ci_upper"]) == pytest.approx((lo, hi), abs=1e-12)
        assert res["ci_upper"] - res["ci_lower"] > 0.05


@pytest.mark.parametrize("call", [
    lambda x, w: metrics.nps(x, weights=w),
    lambda x, w: metrics.top_box(x, scale=(0, 10), weights=w),
    lambda x, w: metrics.complaint_rate((x > 8).astype(float), weights=w),
])
def test_no_interval_when_one_weight_dominates(call):
    """One dominant weight (Kish n_eff about 1): no interval, a note and a
    warning, rather than a narrow interval such as [94, 100]."""
    x = np.full(40, 10.0)
    x[:5] = 8
    w = np.r_[1000.0, np.ones(39)]
    with pytest.warns(DataWarning, match="no interval: the effective sample size is 1.0"):
        res = call(x, w).iloc[0]
    assert res["n_eff"] < 1.1 and res["n"] == 40
    assert np.isnan(res["ci_lower"]) and np.isnan(res["ci_upper"])
    assert "effective sample size" in res["note"]
    # one answer, no weights: no interval either
    with pytest.warns(DataWarning, match="no interval"):
        one = call(x[:1], None).iloc[0]
    assert np.isnan(one["ci_lower"])
    # moderate weights keep their (wide) interval
    w2 = np.r_[6.0, np.ones(39)]
    res2 = call(x, w2).iloc[0]
    assert res2["n_eff"] > metrics.MIN_N_EFF and res2["note"] == ""
    assert res2["ci_lower"] < res2["ci_upper"]


def _coverage(fn, truth, draw, reps, rng):
    """Share of ``reps`` seeded samples whose interval covers ``truth``."""
    hits = 0
    for _ in range(reps):
        x, w = draw(rng)
        row = fn(x, w).iloc[0]
        assert row["note"] == ""
        hits += row["ci_lower"] <= truth <= row["ci_upper"]
    print(f"coverage {hits / reps:.3f}")
    return hits / reps


def _lognormal(n):
    return lambda rng: rng.lognormal(0.0, 0.8, n)   # design effect about 1.9


@pytest.mark.parametrize("probs, n, weighted", [
    ((0.98, 0.02, 0.00), 40, False),
    ((0.95, 0.04, 0.01), 40, True),
    ((0.90, 0.10, 0.00), 30, True),
    ((0.30, 0.30, 0.40), 15, False),
])
def test_nps_interval_coverage_by_simulation(probs, n, weighted):
    """Seeded trinomial samples (promoter, passive, detractor) near the
    boundary and with unequal weights: the 95% interval covers the true NPS
    in at least 90% of 600 samples (the plain Wald interval covers 55-87% in
    the boundary cases)."""
    rng = np.random.default_rng(20260601 + n)
    truth = 100 * (probs[0] - probs[2])
    weights = _lognormal(n) if weighted else (lambda rng: None)

    def draw(rng):
        cat = rng.choice(3, size=n, p=probs)
        return np.choose(cat, [10.0, 7.0, 3.0]), weights(rng)

    cov = _coverage(lambda x, w: metrics.nps(x, weights=w), truth, draw, 600, rng)
    assert cov >= 0.90, cov


@pytest.mark.parametrize("p, n, weighted", [(0.97, 40, False), (0.99, 30, True),
                                            (0.02, 50, True)])
def test_share_interval_coverage_by_simulation(p, n, weighted):
    """The Wilson interval on Kish's n_eff covers the true complaint rate in
    at least 90% of 600 seeded samples, near 0 and 1 and with unequal weights."""
    rng = np.random.default_rng(20260602 + n)
    weights = _lognormal(n) if weighted else (lambda rng: None)

    def draw(rng):
        return (rng.random(n) < p).astype(float), weights(rng)

    cov = _coverage(lambda x, w: metrics.complaint_rate(x, weights=w), p, draw, 600, rng)
    assert cov >= 0.90, cov


@pytest.mark.parametrize("call", [
    lambda w: metrics.nps([10, 9, 0, 5], weights=w),
    lambda w: metrics.top_box([5, 4, 3, 1], scale=(1, 5), weights=w),
    lambda w: metrics.complaint_rate([0, 1, 0, 1], weights=w),
])
@pytest.mark.parametrize("weights, fragment", [
    ([1.0, np.inf, 1.0, 1.0], "finite"),              # gave NaN shares and numpy warnings
    ([1.0, 1.0], "2 weights for 4 answers"),          # gave pandas' ValueError
])
def test_bad_weights_are_a_data_error(call, weights, fragment):
    with pytest.raises(DataError, match=fragment):
        call(weights)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.5, 95])
def test_confidence_level_outside_0_1_is_a_data_error(level):
    for call in (lambda: metrics.nps([10, 9, 0, 5] * 10, level=level),
                 lambda: metrics.top_box([5, 4, 3, 1] * 10, scale=(1, 5), level=level),
                 lambda: metrics.complaint_rate([0, 1] * 10, level=level)):
        with pytest.raises(DataError, match="level"):
            call()


@pytest.mark.parametrize("call", [
    lambda x: metrics.nps(x),
    lambda x: metrics.top_box(x, scale=(0, 10)),
])
def test_fractional_answers_are_refused_with_rows_and_values(call):
    # 7.5 was scored as a passive (NPS) without a word
    with pytest.raises(DataError, match="whole points") as e:
        call([9, 7.5, np.nan, 10, 6.25])
    assert e.value.rows == [2, 5] and e.value.values == [7.5, 6.25]
    assert e.value.column == "recommend" or e.value.column == "item"


@pytest.mark.parametrize("answers, rows", [
    ([True, False, True], [1, 2, 3]),                       # bool dtype: scored as 1/0 (detractors)
    (np.array([True, False]), [1, 2]),
    ([9, True, np.nan, 10], [2]),                           # object column with a pasted True
    (pd.Series([True, None], dtype="boolean"), [1]),        # pandas' nullable boolean
])
def test_boolean_answers_are_refused_by_nps(answers, rows):
    with pytest.raises(DataError, match="true/false") as e:
        metrics.nps(answers, name="NPS1")
    assert e.value.rows == rows and e.value.column == "NPS1"
    assert all(v is True or v is False or v == 1 or v == 0 for v in e.value.values)


def test_refused_values_are_masked():
    # a Chinese mobile number pasted into the recommend column is quoted masked
    with pytest.raises(DataError) as e:
        metrics.nps([9, "13812345678 7.5"])
    assert "13812345678" not in str(e.value)


def test_whole_points_as_floats_and_complaint_booleans_still_work():
    assert metrics.nps([9.0, 10.0, 0.0, 7.0]).iloc[0]["nps"] == pytest.approx(25.0)
    assert metrics.complaint_rate([True, False, False, True]).iloc[0]["rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("promoters, detractors", [(4, 1), (5, 1), (8, 2), (2, 9)])
def test_nps_shares_without_passives_are_exactly_zero_passives(promoters, detractors):
    # passives were 1 - p - d: -5.6e-17 for 4 promoters and 1 detractor, shown as '-0.000' in a report
    r = metrics.nps([10] * promoters + [0] * detractors).iloc[0]
    assert r["passives"] == 0.0 and not np.signbit(r["passives"])
    r = metrics.nps([10] * promoters + [0] * detractors + [7, 8]).iloc[0]
    assert r["passives"] == 2 / (promoters + detractors + 2)
