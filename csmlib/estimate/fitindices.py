"""Fit indices of a covariance structure, as lavaan computes them.

Pure functions of the sample covariance ``S`` (divisor N), the implied
covariance ``Sigma``, the number of observations ``N`` and the number of
free parameters.  Definitions follow lavaan 0.6 for ``estimator = "ML"``,
``likelihood = "normal"``, one group, no mean structure:

- ``chisq = N * F_ML`` with ``F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p``;
  ``df = p (p + 1) / 2 - npar``.
- Baseline (independence) model: ``Sigma_0 = diag(S)``, ``df_0 = p (p - 1) / 2``.
- ``cfi = 1 - max(chisq - df, 0) / max(chisq - df, chisq_0 - df_0, 0)``
  (1 when both are 0), bounded to [0, 1].
- ``tli = (chisq_0/df_0 - chisq/df) / (chisq_0/df_0 - 1)``, not bounded (1 when df = 0).
- ``rmsea = sqrt(max((chisq/N)/df - 1/N, 0))``; 90% CI by inverting the
  noncentral chi-square: the lower (upper) limit uses the noncentrality
  ``lambda`` with ``P(X2 <= chisq; df, lambda) = 0.95 (0.05)`` and
  ``rmsea = sqrt(lambda / (N df))``.
- ``srmr``: Bentler's SRMR (lavaan's ``srmr``/``srmr_bentler`` without a mean
  structure): the root mean square of the lower triangle, diagonal included,
  of ``(S - Sigma) / sqrt(s_ii s_jj)``.
- ``logl = -N/2 (p log(2 pi) + log|Sigma| + tr(S Sigma^-1))`` (means
  saturated), ``aic = -2 logl + 2 npar``, ``bic = -2 logl + npar log N``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import EstimationError
from .results import FIT_INDEX_NAMES

__all__ = [
    "ml_chisq",
    "baseline_chisq",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci",
    "srmr",
    "loglik",
    "fit_indices",
    "fit_measures",
]


def _check(S: np.ndarray, Sigma: np.ndarray | None = None) -> None:
    S = np.asarray(S)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise EstimationError(f"a covariance matrix must be square, got shape {S.shape}")
    if Sigma is not None and np.shape(Sigma) != S.shape:
        raise EstimationError(
            f"sample and implied covariance differ in shape: {S.shape} vs {np.shape(Sigma)}"
        )


def _logdet(M: np.ndarray, what: str) -> float:
    sign, logdet = np.linalg.slogdet(M)
    if sign <= 0:
        raise EstimationError(
            f"the {what} covariance matrix is not positive definite",
            hint="look for items that are constant or linear combinations of others",
        )
    return float(logdet)


def ml_chisq(S: np.ndarray, Sigma: np.ndarray, n: int) -> float:
    """Likelihood-ratio chi-square ``N * F_ML`` of the model against the
    saturated model."""
    _check(S, Sigma)
    p = S.shape[0]
    f = _logdet(Sigma, "implied") + np.trace(np.linalg.solve(Sigma, S)) - _logdet(S, "sample") - p
    return float(n * max(f, 0.0)) if f > -1e-12 else float(n * f)


def baseline_chisq(S: np.ndarray, n: int) -> tuple[float, int]:
    """Chi-square and df of the independence model (``Sigma_0 = diag(S)``)."""
    _check(S)
    p = S.shape[0]
    chisq0 = n * (float(np.sum(np.log(np.diag(S)))) - _logdet(S, "sample"))
    return float(chisq0), p * (p - 1) // 2


def _robust_c(df: float, c_hat: float, c_hat_null: float) -> tuple[float, float]:
    """The scaling factors the robust CFI/TLI use: lavaan applies them only
    when the model has df and neither factor is 1."""
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        return c_hat, c_hat_null
    return 1.0, 1.0


def cfi(chisq: float, df: float, chisq0: float, df0: float, *, c_hat: float = 1.0,
        c_hat_null: float = 1.0) -> float:
    """Comparative fit index, bounded to [0, 1] as lavaan.

    With the scaling factors ``c_hat`` (model) and ``c_hat_null`` (baseline)
    of a robust test, the robust CFI of Brosseau-Liard & Savalei (2014):
    ``chisq - c_hat df`` in place of ``chisq - df``.
    """
    if np.isnan([chisq, df, chisq0, df0, c_hat, c_hat_null]).any():
        return float("nan")
    c, c0 = _robust_c(df, c_hat, c_hat_null)
    t1 = max(chisq - c * df, 0.0)
    t2 = max(chisq - c * df, chisq0 - c0 * df0, 0.0)
    if abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8:
        return 1.0
    return float(min(max(1.0 - t1 / t2, 0.0), 1.0))


def tli(chisq: float, df: float, chisq0: float, df0: float, *, c_hat: float = 1.0,
        c_hat_null: float = 1.0) -> float:
    """Tucker-Lewis index (non-normed fit index), unbounded as lavaan; with
    ``c_hat`` / ``c_hat_null`` the robust TLI (see :func:`cfi`)."""
    if np.isnan([chisq, df, chisq0, df0, c_hat, c_hat_null]).any():
        return float("nan")
    if df <= 0:
        return 1.0
    c, c0 = _robust_c(df, c_hat, c_hat_null)
    t1 = (chisq - c * df) * df0
    t2 = (chisq0 - c0 * df0) * df
    return float(1.0 - t1 / t2) if t2 != 0 else 1.0


def rmsea(chisq: float, df: float, n: int, groups: int = 1, *, c_hat: float = 1.0) -> float:
    """Root mean square error of approximation (lavaan: N, not N - 1; with
    several groups multiplied by sqrt(G), as lavaan 0.6); with the scaling
    factor ``c_hat`` of a robust test, the robust RMSEA
    ``sqrt(max(chisq / (N df) - c_hat / N, 0))``."""
    if np.isnan([chisq, df, c_hat]).any():
        return float("nan")
    if df <= 0:
        return 0.0
    return float(np.sqrt(max((chisq / n) / df - c_hat / n, 0.0)) * np.sqrt(groups))


def _ncp(chisq: float, df: float, prob: float) -> float:
    """Noncentrality ``lambda`` with ``P(X <= chisq; df, lambda) = prob`` (0 when none)."""
    f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
    if f(0.0) < 0:
        return 0.0
    hi = max(chisq, 1.0)
    while f(hi) > 0:
        hi *= 2
        if hi > 1e8:
            return float("nan")
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-10))


def rmsea_ci(chisq: float, df: float, n: int, level: float = 0.90, groups: int = 1, *,
             c_hat: float = 1.0) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the noncentral
    chi-square (times sqrt(G) with G groups, as lavaan; ``df`` need not be
    an integer: the scaled RMSEA uses ``trace(U Gamma)``); with ``c_hat``,
    the robust interval ``sqrt(c_hat lambda / (N df))`` of a scaled
    statistic ``chisq``."""
    if np.isnan([chisq, df, c_hat]).any():
        return float("nan"), float("nan")
    if df < 1:
        return 0.0, 0.0
    a = (1 - level) / 2
    lo = _ncp(chisq, df, 1 - a)
    hi = _ncp(chisq, df, a)
    g = np.sqrt(groups)
    return float(np.sqrt(c_hat * lo / (n * df)) * g), float(np.sqrt(c_hat * hi / (n * df)) * g)


def srmr(S: np.ndarray, Sigma: np.ndarray, mean: np.ndarray | None = None,
         mu: np.ndarray | None = None) -> float:
    """Bentler's standardized root mean square residual.

    Without means, the root mean square of the standardized covariance
    residuals ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` over the p(p+1)/2
    non-duplicated elements.  With a mean structure (``mean``, the sample or
    EM means, and ``mu``, the model-implied means), the p standardized mean
    residuals ``(m_i - mu_i) / sqrt(s_ii)`` join the average, as lavaan
    computes its ``srmr`` whenever the model has a mean structure (e.g.
    ``missing = "ml"``).
    """
    _check(S, Sigma)
    sd = np.sqrt(np.diag(S))
    R = (S - Sigma) / np.outer(sd, sd)
    res = R[np.tril_indices_from(R)]
    if mean is not None and mu is not None:
        res = np.concatenate([res, (np.asarray(mean) - np.asarray(mu)) / sd])
    return float(np.sqrt(np.mean(res**2)))


def loglik(S: np.ndarray, Sigma: np.ndarray, n: int) -> float:
    """Normal loglikelihood of the model with saturated means."""
    _check(S, Sigma)
    p = S.shape[0]
    return float(
        -n / 2 * (p * np.log(2 * np.pi) + _logdet(Sigma, "implied") + np.trace(np.linalg.solve(Sigma, S)))
    )


def fit_measures(*, chisq: float, df: float, chisq0: float, df0: float, n: int, logl: float,
                 npar: int, srmr_value: float, groups: int = 1) -> pd.Series:
    """Fit indices from the test statistics of a model and its baseline.

    Parameters
    ----------
    chisq, df : float
        Likelihood-ratio test of the model against the saturated model.
    chisq0, df0 : float
        The same for the baseline (independence) model.
    n : int
        Total number of observations (all groups).
    logl : float
        Loglikelihood of the model.
    npar : int
        Free parameters.
    srmr_value : float
    groups : int

    Returns
    -------
    Series
        ``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower,
        rmsea_ci_upper, srmr, aic, bic`` then ``baseline_chisq,
        baseline_df, logl, npar``.
    """
    lo, hi = rmsea_ci(chisq, df, n, groups=groups)
    values = {
        "chisq": chisq, "df": float(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        "cfi": cfi(chisq, df, chisq0, df0), "tli": tli(chisq, df, chisq0, df0),
        "rmsea": rmsea(chisq, df, n, groups), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": srmr_value, "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(n),
    }
    out = pd.Series({k: float(values[k]) for k in FIT_INDEX_NAMES})
    extra = pd.Series({"baseline_chisq": float(chisq0), "baseline_df": float(df0), "logl": float(logl),
                       "npar": float(npar)})
    return pd.concat([out, extra])


def fit_indices(S: np.ndarray, Sigma: np.ndarray, n: int, npar: int) -> pd.Series:
    """All fit indices of one model.

    Parameters
    ----------
    S : ndarray (p, p)
        Sample covariance, divisor N.
    Sigma : ndarray (p, p)
        Model-implied covariance.
    n : int
        Number of observations.
    npar : int
        Number of free (distinct) parameters of the covariance structure.

    Returns
    -------
    Series
        Index ``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower,
        rmsea_ci_upper, srmr, aic, bic`` (plus ``baseline_chisq``,
        ``baseline_df``, ``logl``, ``npar``).
    """
    S = np.asarray(S, dtype=float)
    Sigma = np.asarray(Sigma, dtype=float)
    _check(S, Sigma)
    p = S.shape[0]
    df = p * (p + 1) // 2 - int(npar)
    chisq = ml_chisq(S, Sigma, n)
    chisq0, df0 = baseline_chisq(S, n)
    return fit_measures(chisq=chisq, df=df, chisq0=chisq0, df0=df0, n=n, logl=loglik(S, Sigma, n),
                        npar=int(npar), srmr_value=srmr(S, Sigma))
