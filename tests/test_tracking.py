"""Wave and segment comparisons: tests of differences and minimum bases."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from csmlib import tracking
from csmlib.errors import DataError


def _mean_se(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(len(x))


def test_compare_estimates_matches_statsmodels_unequal_variance_z_test():
    rng = np.random.default_rng(3)
    a, b = rng.normal(70, 12, 400), rng.normal(72, 15, 300)
    got = tracking.compare_estimates(*_mean_se(a), *_mean_se(b))
    cm = CompareMeans(DescrStatsW(b), DescrStatsW(a))
    z, p = cm.ztest_ind(usevar="unequal")
    lo, hi = cm.zconfint_diff(usevar="unequal")
    assert got["diff"] == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert got["z"] == pytest.approx(z, rel=1e-10)
    assert got["pvalue"] == pytest.approx(p, rel=1e-10)
    assert (got["ci_lower"], got["ci_upper"]) == pytest.approx((lo, hi), rel=1e-10)


def test_rejection_rate_is_nominal_without_change_and_high_with_one():
    rng = np.random.default_rng(11)
    reps, n = 2000, 200
    a = rng.normal(70, 15, (reps, n))
    b0 = rng.normal(70, 15, (reps, n))
    b1 = rng.normal(74, 15, (reps, n))   # a 4-point change

    def rejects(x, y):
        return np.mean([tracking.compare_estimates(*_mean_se(x[i]), *_mean_se(y[i]))["pvalue"] < 0.05
                        for i in range(reps)])

    size = rejects(a, b0)
    # binomial sd of the rejection rate at 5%: sqrt(.05 * .95 / 2000) = 0.0049
    assert 0.035 < size < 0.065
    # power of the two-sided z test for a 4-point change with se = 15 sqrt(2 / n)
    from scipy.stats import norm
    delta = 4 / (15 * np.sqrt(2 / n))
    power = norm.cdf(delta - 1.959964) + norm.cdf(-delta - 1.959964)
    assert rejects(a, b1) == pytest.approx(power, abs=4 * np.sqrt(power * (1 - power) / reps))


def test_compare_draws_uses_draw_sd_and_percentile_interval():
    rng = np.random.default_rng(5)
    da, db = rng.normal(70, 1.0, 4000), rng.normal(73, 2.0, 4000)
    da[:10] = np.nan  # failed resamples are left out, not counted as values
    got = tracking.compare_draws(70, da, 73, db)
    assert got["se"] == pytest.approx(np.hypot(np.nanstd(da, ddof=1), db.std(ddof=1)), rel=1e-12)
    # the difference of independent normals: N(3, sqrt(5)); percentile interval ~ 3 -+ 1.96 sqrt(5)
    assert got["ci_lower"] == pytest.approx(3 - 1.96 * np.sqrt(5), abs=0.2)
    assert got["ci_upper"] == pytest.approx(3 + 1.96 * np.sqrt(5), abs=0.2)
    with pytest.raises(DataError, match="fewer than two"):
        tracking.compare_draws(1, [np.nan, 1.0], 2, [1.0, 2.0])


def test_trend_table_compares_consecutive_waves_within_each_series():
    t = pd.DataFrame({
        "construct": ["Sat"] * 3 + ["Loy"] * 3,
        "wave": ["Q2", "Q1", "Q3", "Q1", "Q2", "Q3"],
        "est": [72.0, 70.0, 72.5, 60.0, 61.0, np.nan],
        "se": [1.0, 1.0, 0.5, 2.0, 2.0, 2.0],
    })
    out = tracking.trend_table(t, order=["Q1", "Q2", "Q3"])
    sat = out[out.construct == "Sat"].set_index("wave")
    assert np.isnan(sat.loc["Q1", "diff"])
    assert sat.loc["Q2", "diff"] == pytest.approx(2.0)
    assert sat.loc["Q2", "diff_se"] == pytest.approx(np.sqrt(2))
    assert sat.loc["Q3", "diff"] == pytest.approx(0.5)
    loy = out[out.construct == "Loy"].set_index("wave")
    assert loy.loc["Q2", "diff"] == pytest.approx(1.0) and np.isnan(loy.loc["Q3", "diff"])
    with pytest.raises(DataError, match="order"):
        tracking.trend_table(t, order=["Q1", "Q2"])
    with pytest.raises(DataError, match="se"):
        tracking.trend_table(t.drop(columns="se"))


def test_league_table_and_min_base():
    t = pd.DataFrame({"segment": ["N", "S", "E"], "est": [70.0, 75.0, 66.0],
                      "se": [0.5, 0.5, 0.5], "n": [300, 12, 280]})
    lg = tracking.league_table(t, reference=70.0, reference_se=0.3)
    assert list(lg.segment) == ["S", "N", "E"] and list(lg["rank"]) == [1, 2, 3]
    assert list(lg.verdict) == ["above", "not different", "below"]
    sup = tracking.apply_min_base(t, min_base=30).set_index("segment")
    assert sup.loc["S", "suppressed"] and np.isnan(sup.loc["S", "est"]) and sup.loc["S", "n"] == 12
    assert not sup.loc["N", "suppressed"] and sup.loc["N", "est"] == 70.0
    with pytest.raises(DataError, match="base-size"):
        tracking.apply_min_base(t.drop(columns="n"))
