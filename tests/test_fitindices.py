"""Fit indices against lavaan and textbook cases.

The implied covariance of the political democracy model is built here, in
the test, with the textbook LISREL formulas from *lavaan's* estimates
(data/references/political_democracy.reference_lavaan_params.csv), so the
indices are checked independently of csmlib's estimator.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from csmlib.estimate import fitindices as fi

DATA = Path(__file__).resolve().parents[1] / "data"


def _pd_sample_cov():
    X = pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")
    obs = ["x1", "x2", "x3", "y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8"]
    Xv = X[obs].to_numpy(float)
    Xc = Xv - Xv.mean(axis=0)
    return obs, Xc.T @ Xc / len(Xv), len(Xv)


def _lavaan_implied(obs):
    ref = pd.read_csv(DATA / "references" / "political_democracy.reference_lavaan_params.csv")
    lat = ["ind60", "dem60", "dem65"]
    L = np.zeros((len(obs), 3))
    B = np.zeros((3, 3))
    Psi = np.zeros((3, 3))
    Th = np.zeros((len(obs), len(obs)))
    for r in ref.itertuples():
        if r.op == "=~":
            L[obs.index(r.rhs), lat.index(r.lhs)] = r.est
        elif r.op == "~":
            B[lat.index(r.lhs), lat.index(r.rhs)] = r.est
        elif r.lhs in lat:
            Psi[lat.index(r.lhs), lat.index(r.rhs)] = Psi[lat.index(r.rhs), lat.index(r.lhs)] = r.est
        else:
            Th[obs.index(r.lhs), obs.index(r.rhs)] = Th[obs.index(r.rhs), obs.index(r.lhs)] = r.est
    E = np.linalg.inv(np.eye(3) - B)
    return L @ E @ Psi @ E.T @ L.T + Th


def test_political_democracy_matches_lavaan():
    obs, S, n = _pd_sample_cov()
    Sigma = _lavaan_implied(obs)
    out = fi.fit_indices(S, Sigma, n, npar=31)
    # shared reference README (lavaan): chi2 38.125, df 35, p 0.329, CFI 0.995,
    # TLI 0.993, RMSEA 0.035, SRMR 0.044
    assert out["df"] == 35
    assert_allclose(out["chisq"], 38.125, atol=1e-3)
    assert_allclose(out["pvalue"], 0.329, atol=1e-3)
    assert_allclose(out["cfi"], 0.995, atol=1e-3)
    assert_allclose(out["tli"], 0.993, atol=1e-3)
    assert_allclose(out["rmsea"], 0.035, atol=1e-3)
    assert_allclose(out["srmr"], 0.044, atol=1e-3)
    # lavaan tutorial output for this model (lavaan.ugent.be/tutorial/sem.html):
    # baseline 730.654 on 55 df, logl -1547.791, AIC 3157.582, BIC 3229.424,
    # RMSEA 90% CI 0.000-0.092
    assert_allclose(out["baseline_chisq"], 730.654, atol=1e-3)
    assert out["baseline_df"] == 55
    assert_allclose(out["logl"], -1547.791, atol=1e-3)
    assert_allclose(out["aic"], 3157.582, atol=1e-3)
    assert_allclose(out["bic"], 3229.424, atol=1e-3)
    assert out["rmsea_ci_lower"] == 0.0
    assert_allclose(out["rmsea_ci_upper"], 0.092, atol=1e-3)


def test_saturated_model_fits_perfectly():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4))
    S = np.cov(X, rowvar=False, ddof=0)
    out = fi.fit_indices(S, S.copy(), 200, npar=10)
    assert out["df"] == 0
    assert_allclose(out[["chisq", "rmsea", "srmr", "rmsea_ci_lower", "rmsea_ci_upper"]], 0.0, atol=1e-10)
    assert out["cfi"] == 1.0 and out["tli"] == 1.0


def test_independence_model_has_cfi_zero_and_textbook_chisq():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3)) @ np.array([[1, 0.5, 0.3], [0, 1, 0.4], [0, 0, 1]])
    S = np.cov(X, rowvar=False, ddof=0)
    out = fi.fit_indices(S, np.diag(np.diag(S)), 300, npar=3)
    # textbook: chi2 of independence = -N log|R| with R the correlation matrix
    R = np.corrcoef(X, rowvar=False)
    assert_allclose(out["chisq"], -300 * np.log(np.linalg.det(R)), rtol=1e-10)
    assert_allclose(out["cfi"], 0.0, atol=1e-12)
    assert_allclose(out["tli"], 0.0, atol=1e-12)


def test_cfi_bounded_tli_not():
    # chi2 below df: CFI is clamped to 1, TLI exceeds 1 (as lavaan)
    assert fi.cfi(10.0, 20, 500.0, 28) == 1.0
    assert fi.tli(10.0, 20, 500.0, 28) > 1.0


def test_rmsea_ci_inverts_noncentral_chisquare():
    chisq, df, n = 120.0, 60, 400
    lo, hi = fi.rmsea_ci(chisq, df, n)
    lam_lo, lam_hi = lo**2 * n * df, hi**2 * n * df
    assert_allclose(stats.ncx2.cdf(chisq, df, lam_lo), 0.95, atol=1e-6)
    assert_allclose(stats.ncx2.cdf(chisq, df, lam_hi), 0.05, atol=1e-6)
    assert lo < fi.rmsea(chisq, df, n) < hi


def test_srmr_textbook_formula():
    S = np.array([[2.0, 0.8], [0.8, 1.0]])
    Sigma = np.array([[2.0, 0.5], [0.5, 1.0]])
    # only the covariance differs: residual 0.3 / sqrt(2 * 1), averaged over 3 elements
    assert_allclose(fi.srmr(S, Sigma), np.sqrt((0.3 / np.sqrt(2.0)) ** 2 / 3))


def test_non_positive_definite_implied_is_an_error():
    from csmlib.errors import EstimationError

    S = np.eye(2)
    with pytest.raises(EstimationError, match="not positive definite"):
        fi.ml_chisq(S, np.array([[1.0, 2.0], [2.0, 1.0]]), 10)
