"""FIML fit indices: the baseline (independence) model is estimated by FIML
too, so CFI/TLI with missing data compare like with like."""

import numpy as np
import pytest
from scipy import stats

import csmlib as csm
from csmlib.analysis.simulate import chain_population, simulate_survey


def _data(missing_rate, seed=5):
    """The same 600 simulated respondents, with a share of answers deleted at random."""
    sim = simulate_survey(chain_population(), 600, seed=seed)
    data = sim.data[list(csm.models.chain().indicators)].copy()
    rng = np.random.default_rng(seed)
    return data.mask(rng.random(data.shape) < missing_rate)


def test_fiml_baseline_is_the_fiml_independence_model():
    data = _data(0.08)
    fit = csm.fit_cbsem(csm.models.chain(), data, missing="fiml").fit_indices
    # loglik of the saturated model from the reported chi-square and loglik
    ll_h1 = fit["logl"] + fit["chisq"] / 2
    # independence model under FIML: each variable's observed mean and ML variance
    ll0 = 0.0
    for col in data.columns:
        x = data[col].dropna().to_numpy(float)
        ll0 += stats.norm.logpdf(x, x.mean(), x.std(ddof=0)).sum()
    assert fit["baseline_chisq"] == pytest.approx(2 * (ll_h1 - ll0), rel=1e-8)
    p = data.shape[1]
    df0 = p * (p - 1) / 2
    cfi = 1 - max(fit["chisq"] - fit["df"], 0) / max(fit["baseline_chisq"] - df0, fit["chisq"] - fit["df"], 0)
    assert fit["cfi"] == pytest.approx(min(cfi, 1.0), abs=1e-12)


def test_fiml_indices_stay_near_the_complete_data_values_with_little_missingness():
    full = csm.fit_cbsem(csm.models.chain(), _data(0.0)).fit_indices
    fiml = csm.fit_cbsem(csm.models.chain(), _data(0.03), missing="fiml").fit_indices
    # same respondents, 3% of answers deleted at random: the baseline chi-square
    # (about n * sum of log-correlation terms) moves by a few percent at most
    assert fiml["baseline_chisq"] == pytest.approx(full["baseline_chisq"], rel=0.08)
    assert fiml["cfi"] == pytest.approx(full["cfi"], abs=0.02)
