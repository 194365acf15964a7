"""Wave and segment comparisons: tests of differences and minimum bases."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from csmlib.analysis import tracking
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


@pytest.mark.slow   # Monte Carlo: replications of simulated data
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


# --------------------------------------------------------------------------
# minimum bases
# --------------------------------------------------------------------------
def test_check_min_base_names_the_group_and_n():
    tracking.check_min_base({"North": 300, "South": 31}, min_base=30)
    with pytest.raises(DataError, match=r"'South' \(n = 12\)") as e:
        tracking.check_min_base({"North": 300, "South": 12}, min_base=30, column="region")
    assert e.value.column == "region" and e.value.values == ["South"]
    with pytest.raises(DataError, match="min_base"):
        tracking.check_min_base({"a": 3}, min_base=-1)


def test_trend_and_league_refuse_estimates_of_small_bases():
    t = pd.DataFrame({"segment": ["N", "S", "E"], "est": [70.0, 75.0, 66.0],
                      "se": [0.5, 0.5, 0.5], "n": [300, 12, 280]})
    with pytest.raises(DataError, match=r"'S' \(n = 12\)"):
        tracking.league_table(t, reference=70.0, reference_se=0.3, min_base=30)
    # suppressed first: accepted, the small segment carries no estimate and no verdict
    lg = tracking.league_table(tracking.apply_min_base(t, min_base=30), reference=70.0,
                               reference_se=0.3, min_base=30).set_index("segment")
    assert np.isnan(lg.loc["S", "est"]) and lg.loc["S", "verdict"] == ""
    assert lg.loc["N", "verdict"] == "not different"
    w = pd.DataFrame({"wave": ["Q1", "Q2"], "est": [70.0, 72.0], "se": [1.0, 1.0], "n": [400, 20]})
    with pytest.raises(DataError, match=r"'Q2' \(n = 20\)"):
        tracking.trend_table(w, min_base=30)
    out = tracking.trend_table(tracking.apply_min_base(w, min_base=30), min_base=30)
    assert np.isnan(out.loc[1, "diff"])
    with pytest.raises(DataError, match="base-size"):
        tracking.trend_table(w.drop(columns="n"), min_base=30)


# --------------------------------------------------------------------------
# wave-to-wave change detection on simulated studies (issue #6 "done when")
# --------------------------------------------------------------------------


def _wave_change(drift: float, seed: int, n: int = 300, n_boot: int = 150):
    """Simulate two waves (Satisfaction moves by ``drift`` SD), fit PLS per wave, bootstrap
    the indices and compare the waves' Satisfaction index through the draws."""
    import csmlib as csm
    from csmlib.analysis import simulate as sim

    pop = sim.acsi_population()
    spec = csm.models.acsi()
    limits = {i: (1, 10) for i in pop.items}
    st = sim.simulate_study(pop, n, seed=seed, waves=2, drift={"Satisfaction": drift} if drift else None)
    est, draws = [], []
    for w in (1, 2):
        fit = csm.fit_pls(spec, st.data[st.data.wave == w])
        boot = csm.bootstrap(fit, n_boot=n_boot, seed=seed + w, statistics=["index"],
                             scale_limits=limits, n_jobs=1)
        col = np.flatnonzero(((boot.keys.group == "index") & (boot.keys.lhs == "Satisfaction")).to_numpy())[0]
        est.append(boot.theta[col])
        draws.append(boot.draws[:, col])
    truth = st.true_index_by_group.set_index("wave")["Satisfaction"]
    return tracking.compare_draws(est[0], draws[0], est[1], draws[1]), truth[2] - truth[1]


def test_a_simulated_index_change_is_detected():
    # +0.4 SD of latent satisfaction in wave 2, 300 respondents per wave: the true index
    # moves by about 5.8 points, the standard error of the difference is about 1.4
    # (z about 4, power about 0.98); we ask for 9 of 10 (P(<= 8 | 0.98) = 0.016)
    res = [_wave_change(0.4, seed=500 + r) for r in range(10)]
    detected = sum(c["pvalue"] < 0.05 for c, _ in res)
    assert detected >= 9
    true_diff = res[0][1]
    assert 5 < true_diff < 7
    diffs = np.array([c["diff"] for c, _ in res])
    # the estimated change is unbiased for the true one: mean of 10 within 3 standard errors
    assert diffs.mean() == pytest.approx(true_diff, abs=3 * diffs.std(ddof=1) / np.sqrt(10))
    # and the percentile intervals of the difference cover the truth in most replications
    assert sum(c["ci_lower"] <= true_diff <= c["ci_upper"] for c, _ in res) >= 8


@pytest.mark.slow   # Monte Carlo: replications of simulated data
def test_no_change_is_flagged_at_close_to_the_nominal_rate():
    # 40 replications without any change; at the nominal 5% the number of false alarms is
    # Binomial(40, 0.05): mean 2, P(>= 7) = 0.0035.  A test that over-rejects (e.g. an
    # underestimated bootstrap se) would exceed 6; we also require the z statistics to
    # have about unit spread (sd within 0.65-1.45; its sampling sd is about 0.11).
    res = [_wave_change(0.0, seed=900 + r) for r in range(40)]
    assert all(t == 0 for _, t in res)
    false_alarms = sum(c["pvalue"] < 0.05 for c, _ in res)
    assert false_alarms <= 6
    z = np.array([c["z"] for c, _ in res])
    assert 0.65 < z.std(ddof=1) < 1.45


def test_wave_estimates_shape_for_trend_tables():
    import csmlib as csm
    from csmlib.analysis import simulate as sim

    pop = sim.acsi_population()
    data = sim.simulate_survey(pop, 200, seed=3).data
    fit = csm.fit_pls(csm.models.acsi(), data)
    boot = csm.bootstrap(fit, n_boot=50, seed=1, scale_limits={i: (1, 10) for i in pop.items}, n_jobs=1)
    rows = tracking.wave_estimates(boot, wave="W1", constructs=["Satisfaction"])
    assert list(rows.columns) == ["wave", "kind", "construct", "est", "se", "ci_lower", "ci_upper", "n"]
    idx = rows[rows.kind == "index"].set_index("construct")
    assert list(idx.index) == ["Satisfaction"] and idx.loc["Satisfaction", "n"] == 200
    assert idx.loc["Satisfaction", "est"] == pytest.approx(
        float(csm.satisfaction_index(fit, "Satisfaction", scale_limits={i: (1, 10) for i in pop.items})))
    paths = rows[rows.kind == "path"].set_index("construct")
    assert paths.loc["Satisfaction ~ Value", "est"] == pytest.approx(
        fit.paths.set_index(["lhs", "rhs"]).loc[("Satisfaction", "Value"), "est"])
    assert len(paths) == 9 and (paths["se"] > 0).all()


def test_append_wave_replaces_a_rerun_and_keeps_the_newest_waves():
    prev = pd.DataFrame({"wave": ["Q1", "Q2"], "construct": ["Sat", "Sat"], "est": [70.0, 71.0]})
    cur = pd.DataFrame({"wave": ["Q2"], "construct": ["Sat"], "est": [72.0]})
    out = tracking.append_wave(prev, cur)
    assert list(out.wave) == ["Q1", "Q2"] and list(out.est) == [70.0, 72.0]
    assert list(tracking.append_wave(None, cur).est) == [72.0]
    many = pd.DataFrame({"wave": [f"W{i}" for i in range(10) for _ in range(30)], "construct": "Sat",
                         "est": 1.0})
    kept = tracking.append_wave(many, cur.assign(wave="W10"), max_rows=200)
    assert len(kept) <= 200 and kept.wave.iloc[-1] == "W10" and "W0" not in set(kept.wave)
