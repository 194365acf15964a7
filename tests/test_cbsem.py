"""CB-SEM against lavaan, textbook identities and simulated truth."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.estimate.cbsem import fit_cbsem, free_parameters, refit_cbsem, refit_many
from csmlib.errors import DataError, EstimationError, EstimationWarning, SpecError

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def pdem():
    return pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")


@pytest.fixture(scope="module")
def pd_fit(pdem):
    return fit_cbsem(csm.models.political_democracy(), pdem)


@pytest.fixture(scope="module")
def lavaan_ref():
    return pd.read_csv(DATA / "references" / "political_democracy.reference_lavaan_params.csv")


def _merge(est, ref):
    m = ref.merge(est, on=["lhs", "op", "rhs"], how="left", suffixes=("_ref", ""))
    assert m["est"].notna().all(), "a lavaan parameter is missing from our table"
    return m


def test_political_democracy_estimates_match_lavaan(pd_fit, lavaan_ref):
    e = pd_fit.estimates
    assert len(e) == len(lavaan_ref)
    m = _merge(e, lavaan_ref)
    assert_allclose(m["est"], m["est_ref"], atol=1e-3)
    assert_allclose(m["std_all"], m["std.all"], atol=1e-3)
    free = m["se_ref"] > 0
    for ours, theirs in [("se", "se_ref"), ("z", "z_ref"), ("pvalue", "pvalue_ref"),
                         ("ci_lower", "ci.lower"), ("ci_upper", "ci.upper")]:
        assert_allclose(m.loc[free, ours], m.loc[free, theirs], atol=1e-3, err_msg=ours)
    # fixed marker loadings: estimate 1, no standard error
    assert (m.loc[~free, "est"] == 1).all() and m.loc[~free, "se"].isna().all()


def test_political_democracy_fit_matches_lavaan(pd_fit):
    f = pd_fit.fit_indices
    assert_allclose(f[["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]],
                    [38.125, 35, 0.329, 0.995, 0.993, 0.035, 0.044], atol=1e-3)
    assert pd_fit.converged and pd_fit.method == "cbsem" and pd_fit.n_obs == 75
    assert pd_fit.warnings == ()


def test_r2_and_effects_from_lavaan_estimates(pd_fit, lavaan_ref):
    ref = lavaan_ref.set_index(["lhs", "op", "rhs"])["est"]
    # R2 = 1 - residual variance / total variance of the construct (textbook)
    b1, b2, b3 = ref["dem60", "~", "ind60"], ref["dem65", "~", "ind60"], ref["dem65", "~", "dem60"]
    v_ind, psi60, psi65 = ref["ind60", "~~", "ind60"], ref["dem60", "~~", "dem60"], ref["dem65", "~~", "dem65"]
    v60 = b1**2 * v_ind + psi60
    c = b1 * v_ind  # cov(dem60, ind60)
    v65 = b2**2 * v_ind + b3**2 * v60 + 2 * b2 * b3 * c + psi65
    assert_allclose(pd_fit.r2[["dem60", "dem65"]], [1 - psi60 / v60, 1 - psi65 / v65], atol=1e-4)
    eff = pd_fit.effects.set_index(["lhs", "rhs"])
    assert_allclose(eff.loc[("dem65", "ind60"), "indirect"], b1 * b3, atol=1e-5)
    assert_allclose(eff.loc[("dem65", "ind60"), "total"], b2 + b1 * b3, atol=1e-5)
    # direct-effect SEs are the path SEs of lavaan
    assert_allclose(eff.loc[("dem65", "ind60"), "direct_se"], 0.221313792, atol=1e-4)
    # indirect SE: delta method = Sobel with the covariance of the two paths
    e = pd_fit.estimates
    k1 = pd_fit.extra["free_index"][((e.lhs == "dem60") & (e.op == "~") & (e.rhs == "ind60")).to_numpy()][0]
    k3 = pd_fit.extra["free_index"][((e.lhs == "dem65") & (e.op == "~") & (e.rhs == "dem60")).to_numpy()][0]
    V = pd_fit.extra["vcov"]
    sobel = np.sqrt(b3**2 * V[k1, k1] + b1**2 * V[k3, k3] + 2 * b1 * b3 * V[k1, k3])
    assert_allclose(eff.loc[("dem65", "ind60"), "indirect_se"], sobel, rtol=1e-4)
    assert np.isnan(eff.loc[("dem60", "ind60"), "indirect_se"])


def test_lavaan_text_labels_and_defined_parameters(pdem, lavaan_ref):
    spec = csm.ModelSpec.from_lavaan(
        """
        ind60 =~ x1 + x2 + x3
        dem60 =~ y1 + y2 + y3 + y4
        dem65 =~ y5 + y6 + y7 + y8
        dem60 ~ a*ind60
        dem65 ~ c*ind60 + b*dem60
        y1 ~~ y5
        y2 ~~ y4 + y6
        y3 ~~ y7
        y4 ~~ y8
        y6 ~~ y8
        ind := a*b
        total := c + a*b
        """
    )
    res = fit_cbsem(spec, pdem)
    d = res.defined.set_index("lhs")
    ref = lavaan_ref.set_index(["lhs", "op", "rhs"])["est"]
    a, b, c = ref["dem60", "~", "ind60"], ref["dem65", "~", "dem60"], ref["dem65", "~", "ind60"]
    assert_allclose(d.loc["ind", "est"], a * b, atol=1e-4)
    assert_allclose(d.loc["total", "est"], c + a * b, atol=1e-4)
    eff = res.effects.set_index(["lhs", "rhs"])
    assert_allclose(d.loc["ind", "se"], eff.loc[("dem65", "ind60"), "indirect_se"], rtol=1e-4)
    assert_allclose(d.loc["total", "se"], eff.loc[("dem65", "ind60"), "total_se"], rtol=1e-4)
    assert res.paths.set_index("rhs").loc["ind60"].shape[0] == 2


def test_summary_and_immutability(pd_fit):
    text = str(pd_fit.summary())
    assert "ended normally" in text and "dem65" in text
    assert "<" in pd_fit.summary()._repr_html_()
    e = pd_fit.estimates
    e.loc[0, "est"] = 99.0
    assert pd_fit.estimates.loc[0, "est"] != 99.0


def test_listwise_deletion_is_recorded(pdem):
    d = pdem.copy()
    d.loc[[3, 10], "y2"] = np.nan
    res = fit_cbsem(csm.models.political_democracy(), d)
    assert res.n_obs == 73
    assert res.data_info["rows_read"] == 75 and res.data_info["rows_used"] == 73
    assert sum(res.data_info["dropped"].values()) == 2


def test_fiml_on_complete_data_equals_ml_and_handles_missing(pdem, pd_fit):
    res = fit_cbsem(csm.models.political_democracy(), pdem, missing="fiml")
    # FIML has a mean structure: lavaan reports its intercepts and means ("~1") too
    est = res.estimates[res.estimates["op"] != "~1"].reset_index(drop=True)
    assert_allclose(est["est"], pd_fit.estimates["est"], atol=1e-6)
    means = res.estimates[res.estimates["op"] == "~1"].set_index("lhs")["est"]
    assert_allclose(means[list(pdem.columns)], pdem.mean(), atol=1e-6)
    d = pdem.copy()
    rng = np.random.default_rng(7)
    mask = rng.random(d.shape) < 0.05
    d = d.mask(mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        r2 = fit_cbsem(csm.models.political_democracy(), d, missing="fiml")
    assert r2.n_obs == 75 and r2.converged
    # FIML keeps every row; estimates stay near the complete-data ones
    diff = (r2.paths["est"] - pd_fit.paths["est"]).abs()
    assert (diff < 3 * pd_fit.paths["se"]).all()
    assert r2.paths["se"].notna().all()


def test_robust_standard_errors(pdem, pd_fit):
    res = fit_cbsem(csm.models.political_democracy(), pdem, robust=True)
    assert_allclose(res.estimates["est"], pd_fit.estimates["est"])
    assert res.options["se"] == "robust.huber.white (expected information)"
    # on normal data with many rows, sandwich and model-based SEs agree
    rng = np.random.default_rng(11)
    L = np.array([[1.0], [0.8], [0.7], [0.9]])
    X = rng.normal(size=(20000, 1)) @ L.T + rng.normal(size=(20000, 4)) * 0.6
    spec = csm.ModelSpec.from_lavaan("F =~ a1 + a2 + a3 + a4")
    df = pd.DataFrame(X, columns=["a1", "a2", "a3", "a4"])
    s1 = fit_cbsem(spec, df, start="simple").estimates["se"]
    s2 = fit_cbsem(spec, df, robust=True, start="simple").estimates["se"]
    ok = s1.notna()
    assert_allclose(s2[ok], s1[ok], rtol=0.08)


# -- trouble reported, not hidden ------------------------------------------------
def test_composites_are_refused(pdem):
    spec = csm.ModelSpec.from_lavaan("ind60 <~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3\ndem60 ~ ind60")
    with pytest.raises(SpecError, match="composites.*fit_pls|fit_pls"):
        fit_cbsem(spec, pdem)


def test_non_numeric_item_is_a_data_error(pdem):
    d = pdem.copy().astype({"x2": object})
    d.loc[4, "x2"] = "n/a"
    with pytest.raises(DataError) as err:
        fit_cbsem(csm.models.political_democracy(), d)
    assert "x2" in str(err.value) and "n/a" in str(err.value) and "5" in str(err.value)


def test_zero_variance_item_is_a_data_error(pdem):
    d = pdem.copy()
    d["y3"] = 4.0
    with pytest.raises(DataError, match="zero variance") as err:
        fit_cbsem(csm.models.political_democracy(), d)
    assert "y3" in str(err.value)


def test_fewer_rows_than_parameters(pdem):
    with pytest.raises(EstimationError, match=r"fewer observations \(20\) than free parameters \(31\)"):
        fit_cbsem(csm.models.political_democracy(), pdem.iloc[:20])


def test_collinear_items_are_reported(pdem):
    d = pdem.copy()
    d["y4"] = d["y1"] + d["y2"]
    with pytest.raises(EstimationError, match="not positive definite") as err:
        fit_cbsem(csm.models.political_democracy(), d)
    assert "y4" in str(err.value)


def test_missing_columns_listed(pdem):
    with pytest.raises(SpecError) as err:
        fit_cbsem(csm.models.political_democracy(), pdem.drop(columns=["y1", "x3"]))
    assert "y1" in str(err.value) and "x3" in str(err.value)


def test_heywood_case_is_warned():
    # correlations r12 = r13 = 0.8, r23 = 0.4 imply lambda1^2 = 1.6 > 1
    R = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 3))
    Z = (Z - Z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False, ddof=0))).T
    X = Z @ np.linalg.cholesky(R).T  # sample covariance exactly R
    spec = csm.ModelSpec.from_lavaan("F =~ h1 + h2 + h3")
    with pytest.warns(EstimationWarning, match="Heywood.*h1 ~~ h1"):
        res = fit_cbsem(spec, pd.DataFrame(X, columns=["h1", "h2", "h3"]))
    assert any("Heywood" in w for w in res.warnings)
    # just-identified: theta_11 = 1 - r12 r13 / r23 (textbook)
    e = res.estimates.set_index(["lhs", "op", "rhs"])
    assert_allclose(e.loc[("h1", "~~", "h1"), "est"], 1 - 0.8 * 0.8 / 0.4, atol=1e-6)


def test_bad_options():
    spec = csm.models.political_democracy()
    d = pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")
    with pytest.raises(SpecError):
        fit_cbsem(spec, d, estimator="WLSMV")
    with pytest.raises(SpecError):
        fit_cbsem(spec, d, missing="pairwise")
    with pytest.raises(DataError):
        fit_cbsem(spec, d.to_numpy())


# -- fast refits for the bootstrap ------------------------------------------------
def test_refit_many_matches_full_fits(pdem, pd_fit):
    rng = np.random.default_rng(5)
    X = pd_fit.data[list(pd_fit.spec.indicators)].to_numpy()
    idx = rng.integers(0, len(X), size=(20, len(X)))
    Xb = X[idx] - X[idx].mean(axis=1, keepdims=True)
    C = np.einsum("bnp,bnq->bpq", Xb, Xb) / len(X)
    est, conv = refit_many(pd_fit, C, len(X))
    assert est.shape == (20, 31) and conv.all()
    for b in (0, 7):
        sample = pd.DataFrame(X[idx[b]], columns=list(pd_fit.spec.indicators))
        full = fit_cbsem(pd_fit.spec, sample)
        assert_allclose(est[b], full.extra["theta"], atol=1e-5)
        assert_allclose(refit_cbsem(pd_fit, sample), full.extra["theta"], atol=1e-5)
    fp = free_parameters(pd_fit)
    assert len(fp) == 31 and list(fp.columns) == ["lhs", "op", "rhs", "label", "est"]
    assert_allclose(refit_many(pd_fit, pd_fit.extra["sample_cov"][None])[0][0], fp["est"], atol=1e-7)


# -- Monte Carlo: recovery and coverage on a known ACSI population -----------------
def _acsi_truth(pop):
    """The population in csmlib's parametrization (marker loading 1), by hand:
    items x = sd * (lambda F + e); a construct's scale is its marker's
    sd * lambda; paths rescale by scale_outcome / scale_predictor."""
    t = pop.truth().set_index(["lhs", "op", "rhs"])["est"]
    scale = {}
    for c, its in pop.constructs.items():
        scale[c] = pop.item_sds[its[0]] * pop.loadings[its[0]]
    rows = {}
    for c, its in pop.constructs.items():
        for i in its:
            rows[(c, "=~", i)] = pop.item_sds[i] * pop.loadings[i] / scale[c]
            if len(its) > 1:
                rows[(i, "~~", i)] = pop.item_sds[i] ** 2 * (1 - pop.loadings[i] ** 2)
        rows[(c, "~~", c)] = t[(c, "~~", c)] * scale[c] ** 2
    for (p, o), v in pop.paths.items():
        rows[(o, "~", p)] = v * scale[o] / scale[p]
    return pd.Series(rows)


@pytest.mark.slow   # Monte Carlo: replications of simulated data
def test_monte_carlo_recovery_and_coverage():
    from csmlib.analysis.simulate import acsi_population, simulate_survey

    pop = acsi_population(scale_points=None)
    truth = _acsi_truth(pop)
    spec = csm.models.acsi()
    ests, hits = [], []
    for rep in range(30):
        sim = simulate_survey(pop, 2000, seed=1000 + rep)
        res = fit_cbsem(spec, sim.data, start="simple")
        assert res.converged
        e = res.estimates.set_index(["lhs", "op", "rhs"])
        e = e[e["se"].notna()]
        e = e.loc[[k for k in e.index if k in truth.index]]
        ests.append(e["est"])
        tr = truth.loc[e.index]
        hits.append(((e["ci_lower"] <= tr) & (tr <= e["ci_upper"])).to_numpy())
    est = pd.concat(ests, axis=1)
    assert len(est) >= 40  # loadings, paths, residual and construct variances
    tr = truth.loc[est.index]
    mc_se = est.std(axis=1, ddof=1) / np.sqrt(est.shape[1])
    z = (est.mean(axis=1) - tr) / mc_se
    assert (z.abs() < 4).all(), z[z.abs() >= 4]
    coverage = np.mean(np.concatenate(hits))
    assert 0.90 <= coverage <= 0.99, coverage
