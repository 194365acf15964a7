"""Sample-size and power planning (csmlib.analysis.planning).

Expected values come from textbook formulas written out here, from
statsmodels' power classes (an independent implementation), from scipy's
bivariate normal distribution, and from the truth of simulated data; never
from csmlib itself.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm
from statsmodels.stats.power import NormalIndPower, TTestIndPower, TTestPower

import csmlib as csm
from csmlib import DataError, SpecError
from csmlib.analysis import simulate as sim
from csmlib.analysis.planning import min_n_inverse_sqrt

Z = norm.ppf(0.975) + norm.ppf(0.8)   # 1.959964 + 0.841621


# ------------------------------------------------------------ plan_tracking
def test_tracking_equals_the_closed_form_two_sample_formula():
    out = csm.plan_tracking(18.0, 2.0)
    # n = 2 sd^2 (z_{1-alpha/2} + z_{power})^2 / change^2
    expected = 2 * 18.0**2 * Z**2 / 2.0**2
    assert out["n_exact"].iloc[0] == pytest.approx(expected, rel=1e-12)
    assert out["n"].iloc[0] == math.ceil(expected) == 1272
    # statsmodels (counts the far tail too, a power of 1e-6: the same to 1e-5)
    sm = NormalIndPower().solve_power(effect_size=2.0 / 18.0, alpha=0.05, power=0.8, ratio=1.0)
    assert out["n_exact"].iloc[0] == pytest.approx(sm, rel=1e-5)


@pytest.mark.parametrize("sd, change, alpha, power", [(18.0, 2.0, 0.05, 0.8), (12.5, 3.0, 0.10, 0.9),
                                                      (20.0, 8.0, 0.01, 0.8)])
def test_tracking_t_test_equals_statsmodels(sd, change, alpha, power):
    out = csm.plan_tracking(sd, change, alpha=alpha, power=power, test="t")
    sm = TTestIndPower().solve_power(effect_size=change / sd, alpha=alpha, power=power, ratio=1.0)
    assert out["n_exact"].iloc[0] == pytest.approx(sm, rel=1e-5)
    assert out["n"].iloc[0] == math.ceil(sm)


def test_tracking_paired_design():
    sd, rho, change = 18.0, 0.6, 2.0
    sd_diff = sd * math.sqrt(2 * (1 - rho))
    z = csm.plan_tracking(sd, change, design="paired", correlation=rho)
    assert z["n_exact"].iloc[0] == pytest.approx(sd_diff**2 * Z**2 / change**2, rel=1e-12)
    t = csm.plan_tracking(sd, change, design="paired", correlation=rho, test="t")
    sm = TTestPower().solve_power(effect_size=change / sd_diff, alpha=0.05, power=0.8)
    assert t["n_exact"].iloc[0] == pytest.approx(sm, rel=1e-5)


def test_tracking_per_segment_and_detectable_change_is_the_inverse():
    sds = {"North": 16.0, "South": 21.0}
    out = csm.plan_tracking(sds, -2.0)
    assert list(out["segment"]) == ["North", "South"]
    np.testing.assert_allclose(out["n_exact"], [2 * s**2 * Z**2 / 4.0 for s in sds.values()], rtol=1e-12)
    back = csm.detectable_change(sds, {"North": 300, "South": 250})
    np.testing.assert_allclose(back["change"], [Z * 16.0 * math.sqrt(2 / 300), Z * 21.0 * math.sqrt(2 / 250)],
                               rtol=1e-12)
    # statsmodels: the effect size a given n detects
    sm = NormalIndPower().solve_power(effect_size=None, nobs1=300, alpha=0.05, power=0.8, ratio=1.0)
    assert back["change"].iloc[0] / 16.0 == pytest.approx(sm, rel=1e-5)
    t = csm.detectable_change(16.0, 300, test="t")
    sm_t = TTestIndPower().solve_power(effect_size=None, nobs1=300, alpha=0.05, power=0.8, ratio=1.0)
    assert t["change"].iloc[0] / 16.0 == pytest.approx(sm_t, rel=1e-5)
    # the frame of index_sd gives the bases itself
    frame = pd.DataFrame({"segment": ["all", "A"], "n": [600, 300], "n_scored": [590, 295], "mean": [70.0, 71.0],
                          "sd": [17.0, 18.0]})
    both = csm.detectable_change(frame)
    np.testing.assert_allclose(both["change"], [Z * 17 * math.sqrt(2 / 600), Z * 18 * math.sqrt(2 / 300)])


def test_planned_n_detects_the_change_at_the_planned_power():
    """Two waves of the ACSI population, Satisfaction up 0.3 SD in the
    second: the n planned from the exact respondent-level SD of the
    (equal-weight) index detects the true index change in 80% of 1,000
    simulated pairs of waves, within Monte-Carlo error."""
    before = sim.acsi_population()
    after = before.shifted({"Satisfaction": 0.3})
    items = list(before.constructs["Satisfaction"])
    span = 100.0 / sum(before.scale_points[i] - 1 for i in items)

    def sd_of(pop):   # SD of 100 * sum(Y_j - 1) / sum(k_j - 1): from the answers' exact covariance
        cov = pop.expected_item_covariance().loc[items, items].to_numpy()
        return span * math.sqrt(cov.sum())

    change = float(after.true_index()["Satisfaction"] - before.true_index()["Satisfaction"])
    sd = math.sqrt((sd_of(before) ** 2 + sd_of(after) ** 2) / 2)
    n = int(csm.plan_tracking(sd, change)["n"].iloc[0])
    assert 100 < n < 600
    reps = 1000

    def wave_scores(pop, seed):
        y = sim.simulate_survey(pop, n * reps, seed=seed).data[items].to_numpy()
        return (span * (y - 1).sum(axis=1)).reshape(reps, n)

    a, b = wave_scores(before, 11), wave_scores(after, 12)
    z = (b.mean(1) - a.mean(1)) / np.sqrt(a.var(1, ddof=1) / n + b.var(1, ddof=1) / n)
    detected = np.mean(np.abs(z) > norm.ppf(0.975))
    assert abs(detected - 0.8) < 3 * math.sqrt(0.8 * 0.2 / reps)


def test_tracking_refuses_bad_input():
    with pytest.raises(DataError, match="positive"):
        csm.plan_tracking(-3.0, 2.0)
    with pytest.raises(DataError, match="positive"):
        csm.plan_tracking({"A": float("nan")}, 2.0)
    with pytest.raises(SpecError, match="non-zero"):
        csm.plan_tracking(18.0, 0.0)
    with pytest.raises(SpecError, match="correlation"):
        csm.plan_tracking(18.0, 2.0, design="paired")
    with pytest.raises(SpecError, match="paired"):
        csm.plan_tracking(18.0, 2.0, correlation=0.5)
    with pytest.raises(SpecError, match="design"):
        csm.plan_tracking(18.0, 2.0, design="panel")
    with pytest.raises(SpecError, match="alpha"):
        csm.plan_tracking(18.0, 2.0, alpha=1.5)
    with pytest.raises(DataError, match="base"):
        csm.detectable_change({"A": 10.0, "B": 12.0}, {"A": 100})
    with pytest.raises(SpecError, match="needs n"):
        csm.detectable_change(12.0)


R_T = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "references" / "planning_t_power_r.csv")


@pytest.mark.parametrize("row", range(len(R_T)))
def test_t_test_with_a_large_change_equals_r_power_t_test(row):
    # a large change at 2-3 respondents: scipy's noncentral t returns NaN there
    # (the solver used to stop with a raw ValueError); R's power.t.test (strict) is the reference
    ref = R_T.iloc[row]
    design = "paired" if ref["type"] == "paired" else "independent"
    kw = dict(design=design, correlation=0.5 if design == "paired" else None, test="t")
    sd = 10.0   # paired with correlation 0.5: the SD of a member's change is sd; independent: sd per wave
    if ref["solve_for"] == "delta":
        got = csm.detectable_change(sd, 2, **kw)["change"].iloc[0]
        assert got == pytest.approx(sd * ref["delta"], rel=1e-5)
    else:
        got = csm.plan_tracking(sd, sd * ref["delta"], **kw)["n_exact"].iloc[0]
        assert got == pytest.approx(ref["n"], rel=1e-5)


def test_planning_refuses_power_at_or_below_alpha_and_odd_bases():
    # power <= alpha made the closed forms negative: a negative change, or an n from a squared negative
    for call in (lambda: csm.detectable_change(10.0, 100, power=0.02),
                 lambda: csm.plan_tracking(10.0, 2.0, power=0.01),
                 lambda: csm.plan_tracking(10.0, 2.0, power=0.05, alpha=0.05, test="t"),
                 lambda: min_n_inverse_sqrt(0.2, power=0.04)):
        with pytest.raises(SpecError, match="power must exceed alpha"):
            call()
    with pytest.raises(SpecError, match="alpha"):
        csm.plan_tracking(10.0, 2.0, alpha="five percent")
    with pytest.raises(DataError, match="whole number"):
        csm.detectable_change(10.0, 2.5)          # was reported as n = 2 with the change of 2.5
    with pytest.raises(DataError, match="one number, or a mapping"):
        csm.detectable_change(10.0, [100, 200])   # was a raw broadcasting ValueError


# ------------------------------------------------------------------ index_sd
def test_index_sd_is_the_sd_of_the_respondents_index():
    pop = sim.acsi_population()
    data = sim.simulate_survey(pop, 20_000, seed=5, segments=["A", "B"]).data
    limits = {i: (1, 10) for i in pop.items}
    fit = csm.fit_pls(pop.spec(), data[list(pop.items)])
    out = csm.index_sd(fit, "Satisfaction", data=data, by="segment", scale_limits=limits)
    assert list(out["segment"]) == ["all", "A", "B"] or list(out["segment"]) == ["all", "B", "A"]
    assert out.set_index("segment").loc[["A", "B"], "n"].sum() == out["n"].iloc[0] == 20_000
    assert (out["n_scored"] == out["n"]).all()   # no missing answers
    # the mean of the respondents' index is the index
    assert out["mean"].iloc[0] == pytest.approx(float(csm.satisfaction_index(fit, scale_limits=limits)), rel=1e-12)
    # the SD: 100 sqrt(w' Sigma w) / sum w (k - 1), Sigma the answers' exact population covariance
    from csmlib.analysis.index import raw_weights

    w = raw_weights(fit, "Satisfaction")["Satisfaction"]
    items = list(w.index)
    cov = pop.expected_item_covariance().loc[items, items].to_numpy()
    sd_true = 100 * math.sqrt(w.to_numpy() @ cov @ w.to_numpy()) / (w.sum() * 9)
    assert out["sd"].iloc[0] == pytest.approx(sd_true, rel=0.02)


def test_index_sd_names_a_missing_segment_column():
    pop = sim.chain_population()
    data = sim.simulate_survey(pop, 300, seed=1).data
    fit = csm.fit_pls(pop.spec(), data[list(pop.items)])
    with pytest.raises(DataError, match="segment column"):
        csm.index_sd(fit, data=data, by="region", scale_limits={i: (1, 10) for i in pop.items})


# ---------------------------------------------------- Kock & Hadaya (2018)
def test_inverse_square_root_method():
    # the paper: n_min > (2.486 / |beta_min|)^2 at 5% (one-tailed) and 80% power
    assert min_n_inverse_sqrt(0.197) == math.ceil((2.486475 / 0.197) ** 2) == 160
    assert min_n_inverse_sqrt([0.4, -0.1, 0.25]) == math.ceil((2.486475 / 0.1) ** 2) == 619
    two = (norm.ppf(0.975) + norm.ppf(0.8)) / 0.2
    assert min_n_inverse_sqrt(0.2, two_sided=True) == math.ceil(two**2)
    with pytest.raises(SpecError):
        min_n_inverse_sqrt(0.0)


# ------------------------------------------------ the answers' covariance
def test_expected_item_covariance_of_likert_answers():
    pop = sim.acsi_population(latent_shifts={"Expectation": 0.4},
                              scale_points={"CUSA1": None, "CUSA2": 5})
    cov = pop.expected_item_covariance()
    r = pop.latent_response_covariance()
    mu = pop.continuous_means()   # x_j = mean_j + sd_j y*_j  ->  mean of y*_j

    def upper(item):   # standardized cut points a_c = tau_c - mu_j
        m = (mu[item] - pop.item_means[item]) / pop.item_sds[item]
        return pop.thresholds(item) - m

    # two Likert items from scipy's bivariate normal, term by term
    a, b = upper("CUEX1"), upper("PERQ2")
    rho = r.loc["CUEX1", "PERQ2"]
    mvn = multivariate_normal([0, 0], [[1, rho], [rho, 1]])
    joint = sum(mvn.cdf([-x, -y]) for x in a for y in b)
    expected = joint - norm.sf(a).sum() * norm.sf(b).sum()
    assert cov.loc["CUEX1", "PERQ2"] == pytest.approx(expected, abs=2e-7)
    # a continuous item with a Likert one: E[x 1(z > a)] = sd r phi(a)
    c = upper("CUSA3")
    assert cov.loc["CUSA1", "CUSA3"] == pytest.approx(
        pop.item_sds["CUSA1"] * r.loc["CUSA1", "CUSA3"] * norm.pdf(c).sum(), rel=1e-12)
    # and a large sample agrees (within 5 standard errors of a covariance)
    data = sim.simulate_survey(pop, 300_000, seed=2).data[list(pop.items)]
    emp = data.cov()
    se = np.sqrt((np.outer(np.diag(emp), np.diag(emp)) + emp.to_numpy() ** 2) / len(data))
    assert np.max(np.abs(emp.to_numpy() - cov.to_numpy()) / se) < 5


# ------------------------------------------------------------- plan_sample
def _two_predictors(scale_points=None):
    """X1 -> Y (0.5) and X2 -> Y (0): X2 independent of X1 and Y, and
    related to W (so that PLS' inner proxy of X2 exists in the population)."""
    items = {"X1": ("a1", "a2", "a3"), "X2": ("b1", "b2", "b3"), "Y": ("c1", "c2", "c3"),
             "W": ("d1", "d2", "d3")}
    return sim.PopulationModel(constructs=items, paths={("X1", "Y"): 0.5, ("X2", "Y"): 0.0, ("X2", "W"): 0.5},
                               scale_points=scale_points, name="two")


@pytest.mark.parametrize("method", ["pls", "cbsem"])
def test_plan_sample_power_is_alpha_for_a_zero_path_and_one_for_a_strong_one(method):
    reps = 1000
    plan = csm.plan_sample(_two_predictors(), [200], reps=reps, seed=3, method=method)
    p = plan.paths[plan.paths["lhs"] == "Y"].set_index("rhs")
    assert p.loc["X2", "target"] == pytest.approx(0.0, abs=1e-10)
    assert abs(p.loc["X2", "power"] - 0.05) < 3 * math.sqrt(0.05 * 0.95 / reps)
    assert p.loc["X1", "power"] > 0.999
    assert p["n_failed"].sum() == 0 and (p["n_ok"] == reps).all()


def test_cbsem_targets_are_the_true_paths_and_pls_attenuates():
    pop = sim.chain_population(scale_points=None)
    cb = csm.plan_sample(pop, [150], reps=20, seed=1, method="cbsem").paths
    np.testing.assert_allclose(cb["target"], cb["true"], atol=1e-6)
    pls = csm.plan_sample(pop, [150], reps=20, seed=1, method="pls").paths
    assert (pls["target"].abs() < pls["true"].abs()).all()


def test_refit_standard_errors_equal_fit_cbsem():
    from csmlib.estimate.cbsem import refit_many, refit_standard_errors

    pop = sim.acsi_population()
    data = sim.simulate_survey(pop, 400, seed=9).data[list(pop.items)]
    fit = csm.fit_cbsem(pop.spec(), data)
    X = data.to_numpy(float)
    S = np.cov(X, rowvar=False, bias=True)
    theta, conv = refit_many(fit, S[None], len(X))
    assert conv[0]
    se = refit_standard_errors(fit, theta, len(X))[0]
    free = np.asarray(fit.extra["free_index"])
    est = fit.estimates
    rows = free >= 0
    np.testing.assert_allclose(se[free[rows]], est.loc[rows, "se"].to_numpy(), rtol=1e-5)


@pytest.mark.slow
def test_cbsem_coverage_is_nominal():
    reps = 1000
    plan = csm.plan_sample(sim.acsi_population(), [300], reps=reps, seed=7, method="cbsem")
    cov = plan.paths["coverage"]
    assert abs(cov.mean() - 0.95) < 0.01
    assert cov.between(0.95 - 4 * math.sqrt(0.05 * 0.95 / reps), 0.95 + 4 * math.sqrt(0.05 * 0.95 / reps)).all()
    # the index half-width: 1.96 x its sampling SD, near the truth at this n
    idx = plan.index.set_index("construct").loc["Satisfaction"]
    assert idx["halfwidth"] == pytest.approx(norm.ppf(0.975) * idx["sd_est"])
    assert abs(idx["mean_est"] - idx["true"]) < 3 * idx["sd_est"] / math.sqrt(reps)


def test_plan_sample_is_seeded_and_refuses_bad_input():
    pop = _two_predictors()
    a = csm.plan_sample(pop, [60, 90], reps=10, seed=4)
    b = csm.plan_sample(pop, [60, 90], reps=10, seed=4, n_jobs=1)
    pd.testing.assert_frame_equal(a.paths, b.paths)   # the same plan on one thread or two
    assert list(a.paths["n"]) == [60] * 3 + [90] * 3
    assert a.index.empty   # continuous items: no index
    with pytest.raises(SpecError, match="exceed"):
        csm.plan_sample(pop, [12], reps=10, seed=1)
    with pytest.raises(SpecError, match="method"):
        csm.plan_sample(pop, [100], reps=10, seed=1, method="ols")
    with pytest.raises(SpecError, match="seed"):
        csm.plan_sample(pop, [100], reps=10, seed=None)
    with pytest.raises(SpecError, match="PopulationModel"):
        csm.plan_sample("acsi", [100], reps=10, seed=1)


def test_without_paths_is_the_nested_alternative():
    spec = csm.models.acsi()
    alt = spec.without_paths([("Expectation", "Satisfaction")], name="mediated")
    assert alt.name == "mediated"
    assert set(spec.paths) - set(alt.paths) == {("Expectation", "Satisfaction")}
    assert alt.indicators == spec.indicators
    with pytest.raises(SpecError, match="not in the model"):
        spec.without_paths([("Loyalty", "Quality")])
    labelled = csm.ModelSpec.from_lavaan("F =~ a1 + a2 + a3\nG =~ b1 + b2 + b3\nH =~ c1 + c2 + c3\n"
                                         "G ~ x*F\nH ~ y*G + F\nxy := x*y\n")
    with pytest.raises(SpecError, match="label"):
        labelled.without_paths([("F", "G")])
    assert labelled.without_paths([("F", "H")]).paths == (("F", "G"), ("G", "H"))


def test_population_from_fit_recovers_the_population():
    from csmlib.analysis.planning import population_from_fit

    pop = sim.acsi_population()
    data = sim.simulate_survey(pop, 20_000, seed=3).data[list(pop.items)]
    fit = csm.fit_cbsem(pop.spec(), data)
    like = population_from_fit(fit, scale_limits={i: (1, 10) for i in pop.items})
    assert like.construct_names == pop.construct_names and like.items == pop.items
    assert set(like.scale_points.values()) == {10}
    for key, true in pop.paths.items():
        assert like.paths[key] == pytest.approx(true, abs=0.03)
    # discretizing 10-point answers attenuates the standardized loadings a little (0.8 -> about 0.78)
    lam = np.array([like.loadings[i] for i in pop.items if len(pop.constructs[pop.construct_of(i)]) > 1])
    assert np.all(np.abs(lam - 0.8) < 0.04)
    assert like.item_means["CUSA1"] == pytest.approx(data["CUSA1"].mean())
    assert like.item_sds["CUSA1"] == pytest.approx(data["CUSA1"].std(ddof=1))
    # limits 0..9 describe the same answers shifted: the same population
    shifted = data - 1
    fit0 = csm.fit_cbsem(pop.spec(), shifted)
    like0 = population_from_fit(fit0, scale_limits={i: (0, 9) for i in pop.items})
    assert like0.item_means["CUSA1"] == pytest.approx(like.item_means["CUSA1"])
    with pytest.raises(SpecError, match="fit_cbsem"):
        population_from_fit(csm.fit_pls(pop.spec(), data), scale_limits={i: (1, 10) for i in pop.items})
    with pytest.raises(DataError, match="scale limits"):
        population_from_fit(fit)


@pytest.mark.parametrize("extra, what", [
    ("CUSA1 ~~ CUSL1", "CUSA1 ~~ CUSL1"),                       # a residual covariance
    ("Value ~~ Loyalty", "Value ~~ Loyalty"),                    # endogenous constructs' disturbances
    ("Higher =~ Quality + Value", "second-order"),               # a second-order construct
])
def test_population_from_fit_refuses_what_a_population_model_cannot_hold(extra, what):
    # these used to be dropped without a word (a second-order factor's constructs became
    # "items" unrelated to anything): plan_sample then simulated another population
    from csmlib.analysis.planning import population_from_fit

    pop = sim.acsi_population()
    data = sim.simulate_survey(pop, 2_000, seed=4).data[list(pop.items)]
    text = pop.spec().to_lavaan() + "\n" + extra
    if "Higher" in extra:   # Quality and Value measure Higher, which Expectation explains
        measurement = [line for line in text.splitlines() if "=~" in line]
        text = "\n".join(measurement + ["Higher ~ Expectation", "Satisfaction ~ Expectation + Higher",
                                         "Complaints ~ Satisfaction", "Loyalty ~ Satisfaction + Complaints"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = csm.fit_cbsem(csm.ModelSpec.from_lavaan(text), data)
    with pytest.raises(SpecError, match=re.escape(what)):
        population_from_fit(fit, scale_limits={i: (1, 10) for i in pop.items})


def test_plan_sample_pls_estimates_and_ols_standard_errors_equal_fit_pls_and_statsmodels():
    """One simulated sample through the batched planner: the paths equal
    csm.fit_pls on the same answers, and each path's standard error equals
    statsmodels' OLS of the outcome's standardized scores on its predictors'."""
    import statsmodels.api as smapi

    from csmlib.analysis.planning import _planner, _sample_moments, _scale_limits

    pop = sim.acsi_population()
    planner = _planner(pop, "pls", "path", 1, _scale_limits(pop))
    data = sim.simulate_survey(pop, 250, seed=8).data[planner.items]
    m, S = _sample_moments(data.to_numpy(float)[None])
    est, se, failed, df = planner.estimate(m, S, len(data))
    assert not failed[0]
    fit = csm.fit_pls(pop.spec(), data)
    keys = planner.engine.keys
    scores = fit.scores
    scores = (scores - scores.mean()) / scores.std(ddof=1)
    for j, (group, lhs, op, rhs) in enumerate(keys.itertuples(index=False)):
        if group != "estimates" or op != "~":
            continue
        ref = fit.paths.set_index(["lhs", "rhs"]).loc[(lhs, rhs), "est"]
        assert est[0, j] == pytest.approx(ref, abs=1e-8)
        preds = list(pop.spec().predecessors(lhs))
        ols = smapi.OLS(scores[lhs].to_numpy(), smapi.add_constant(scores[preds].to_numpy())).fit()
        assert se[0, j] == pytest.approx(ols.bse[1 + preds.index(rhs)], rel=1e-6)
        assert df[j] == ols.df_resid
