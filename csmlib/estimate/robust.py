"""Robust standard errors and scaled test statistics of a CB-SEM fit, as lavaan.

Everything here is a function of what a covariance-based model can evaluate
(the implied covariance ``Sigma(theta)``, its Jacobian ``Delta``, the
expected and observed information) and of the data's casewise scores, in the
space of the unrestricted ("h1") moments: the item means (when the model has
a mean structure) followed by ``vech(Sigma)``, the lower triangle taken
column by column as lavaan's ``lav_matrix_vech``.  Definitions follow lavaan
0.6.14 (``lav_test_satorra_bentler.R``, ``lav_test_yuan_bentler.R``,
``lav_fit_cfi.R``, ``lav_fit_rmsea.R``, ``lav_fit_fiml_corrected``):

- ``"MLM"`` (complete data): SEs ``E^-1 Delta' V Gamma V Delta E^-1 / N``
  with ``E = Delta' V Delta`` the expected information, ``V`` the
  normal-theory weight at the implied covariance and ``Gamma`` the
  asymptotic covariance of the sample moments (divisor N); Satorra-Bentler
  ``trace(U Gamma)`` with ``U = V - V Delta E^-1 Delta' V``.
- ``"MLR"`` (complete data, survey weights, FIML): Huber-White SEs
  ``E^-1 B0 E^-1 / N`` with ``E`` the observed information and ``B0`` the
  mean outer product of the casewise scores at the estimates; the
  Yuan-Bentler test in its Mplus variant, ``trace(A1^-1 B1) - trace(B0 E^-1)``
  with ``A1`` / ``B1`` the observed / first-order information of the
  unrestricted model at the sample (or EM) moments.
- The scaling factor is ``trace / df``; ``chisq_scaled = chisq / factor``.
  The baseline (independence) model is scaled the same way.  ``cfi_robust``,
  ``tli_robust`` and ``rmsea_robust`` are Brosseau-Liard & Savalei's; with
  missing data they use Savalei's (2018) FIML-corrected statistic (lavaan's
  version "V3").

Survey weights are lavaan's ``sampling.weights``: rescaled to sum to N, they
weight the sample moments and every casewise score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, SpecError
from .fitindices import cfi, rmsea, rmsea_ci, tli

__all__ = [
    "ESTIMATORS",
    "check_estimator",
    "survey_weights",
    "weighted_moments",
    "item_moments",
    "complete_data_robust",
    "fiml_robust",
    "observed_information",
    "vech_index",
    "h1_expected_information",
    "h1_observed_information",
    "casewise_scores",
    "missing_h1_observed_information",
    "missing_h1_expected_information",
    "Moments",
    "satorra_bentler_trace",
    "yuan_bentler_trace",
    "scaled_fit_indices",
    "fiml_corrected",
]


#: The ML-based estimators of :func:`csmlib.fit_cbsem`.
ESTIMATORS = ("ML", "MLR", "MLM")


def check_estimator(estimator: object, missing: str, weights: object) -> str:
    """The estimator a CB-SEM fit uses, as lavaan decides it.

    ``"MLM"`` needs complete data (lavaan refuses it with ``missing =
    "ml"``).  With survey weights the fit is weighted ML with MLR's robust
    standard errors and scaled test, as lavaan's ``sampling.weights``: an
    ``"ML"`` request becomes ``"MLR"``.

    Returns
    -------
    str
        ``"ML"``, ``"MLR"`` or ``"MLM"``.
    """
    est = str(estimator).upper()
    if est not in ESTIMATORS:
        raise SpecError(f"estimator {estimator!r} is not one of {', '.join(ESTIMATORS)}",
                        values=[estimator],
                        hint='use "ML" (normal theory), "MLR" (robust SEs and Yuan-Bentler test, '
                             'also with missing="fiml") or "MLM" (Satorra-Bentler, complete data)')
    if est == "MLM" and missing == "fiml":
        raise SpecError('estimator "MLM" needs complete data: its Satorra-Bentler correction is not '
                        'defined for full-information ML (lavaan refuses missing = "ml" with MLM too)',
                        values=[estimator],
                        hint='use estimator="MLR" with missing="fiml", or MLM with missing="listwise"')
    if weights is not None:
        if not isinstance(weights, str):
            raise SpecError(f"weights must be the name of a weight column, got {type(weights).__name__}",
                            values=[weights], hint='pass the column name, e.g. weights="weight"')
        if est == "MLM":
            raise SpecError('survey weights are estimated with MLR (robust SEs and the Yuan-Bentler '
                            'test); csmlib has no weighted Satorra-Bentler (MLM) test (lavaan 0.6.14 '
                            'runs MLM with sampling.weights but computes its Gamma without the weights)',
                            values=[estimator], hint='use estimator="MLR" (or "ML") with weights')
        est = "MLR"
    return est


def survey_weights(frame: pd.DataFrame, column: str, rows: pd.Index, file: str | None = None) -> np.ndarray:
    """Survey weights of the rows used, rescaled to sum to their number (as
    lavaan's ``sampling.weights``).

    Raises
    ------
    DataError
        The column is absent, not numeric, missing, negative or all zero.
    """
    if column not in frame.columns:
        raise DataError(f"the weight column {column!r} is not in the data", file=file, column=column,
                        hint="give the name of the column that holds the survey weights")
    raw = frame.loc[rows, column]
    w = pd.to_numeric(raw, errors="coerce")
    pos = np.flatnonzero(frame.index.isin(rows))
    bad = (w.isna() | (w < 0) | ~np.isfinite(w.fillna(0))).to_numpy()
    if bad.any():
        where = np.flatnonzero(bad)[:5]
        raise DataError(f"the weight column {column!r} has {int(bad.sum())} missing, negative or "
                        "non-numeric value(s) in the rows used", file=file, column=column,
                        rows=[int(pos[i]) + 1 for i in where], values=[raw.iloc[i] for i in where],
                        hint="give every respondent a non-negative weight, or drop those rows")
    w = w.to_numpy(dtype=float)
    if not w.sum() > 0:
        raise DataError(f"the weights in column {column!r} sum to zero", file=file, column=column,
                        hint="check the weight column")
    return w * len(w) / w.sum()


def item_moments(X: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each item's (weighted) mean and variance (divisor: the weight) over its
    observed values: the FIML estimates of the independence model."""
    w = np.ones(len(X)) if w is None else np.asarray(w, dtype=float)
    obs = ~np.isnan(X)
    W = np.where(obs, w[:, None], 0.0)
    Xz = np.where(obs, X, 0.0)
    mean = (W * Xz).sum(axis=0) / W.sum(axis=0)
    var = (W * np.where(obs, Xz - mean, 0.0) ** 2).sum(axis=0) / W.sum(axis=0)
    return mean, var


def weighted_moments(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted covariance (divisor: the sum of the weights) and mean."""
    mean = w @ X / w.sum()
    Xc = X - mean
    return (Xc * w[:, None]).T @ Xc / w.sum(), mean


# ---------------------------------------------------------------------------
# the unrestricted (h1) moments: vech order, information, casewise scores
# ---------------------------------------------------------------------------
def vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each element of ``vech`` (lower triangle, column by
    column, as lavaan): rows ``r >= c``."""
    r, c = np.triu_indices(p)  # upper triangle row-wise == lower triangle column-wise, transposed
    return c, r


def _vech(M: np.ndarray) -> np.ndarray:
    r, c = vech_index(M.shape[-1])
    return M[..., r, c]


def _dup_pre(K: np.ndarray, p: int) -> np.ndarray:
    """``D' K`` for a (p*p, m) matrix ``K`` and the duplication matrix ``D``
    (lavaan ``lav_matrix_duplication_pre``): (p*, m)."""
    r, c = vech_index(p)
    off = np.where(r != c, 1.0, 0.0)[:, None]
    return K[r * p + c, :] + off * K[c * p + r, :]


def _dup_pre_post(K: np.ndarray, p: int) -> np.ndarray:
    """``D' K D`` for a (p*p, p*p) matrix ``K``."""
    return _dup_pre(_dup_pre(K, p).T, p).T


def h1_expected_information(Sigma: np.ndarray, meanstructure: bool = False) -> np.ndarray:
    """Expected information per observation of the unrestricted normal model
    at ``Sigma``: ``Sigma^-1`` (means) and ``1/2 D' (Sigma^-1 x Sigma^-1) D``."""
    p = Sigma.shape[0]
    Si = np.linalg.inv(Sigma)
    I22 = 0.5 * _dup_pre_post(np.kron(Si, Si), p)
    if not meanstructure:
        return I22
    return _bdiag(Si, I22)


def h1_observed_information(S: np.ndarray, mean: np.ndarray, Sigma: np.ndarray, mu: np.ndarray,
                            meanstructure: bool = False) -> np.ndarray:
    """Observed information per observation of the normal model with
    moments ``(mu, Sigma)`` on complete data with sample moments
    ``(mean, S)`` (lavaan ``lav_mvnorm_information_observed_samplestats``)."""
    p = Sigma.shape[0]
    Si = np.linalg.inv(Sigma)
    d = np.asarray(mean) - np.asarray(mu)
    W = S + np.outer(d, d)
    AAA = Si @ (2 * W - Sigma) @ Si
    I22 = 0.5 * _dup_pre_post(np.kron(Si, AAA), p)
    if not meanstructure:
        return I22
    I21 = _dup_pre(np.kron((Si @ d)[:, None], Si), p)
    return np.block([[Si, I21.T], [I21, I22]])


def _bdiag(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    out = np.zeros((A.shape[0] + B.shape[0], A.shape[1] + B.shape[1]))
    out[: A.shape[0], : A.shape[1]] = A
    out[A.shape[0]:, A.shape[1]:] = B
    return out


def casewise_scores(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray, weights: np.ndarray | None = None,
                    meanstructure: bool = False) -> np.ndarray:
    """Casewise scores of the normal loglikelihood with respect to the
    unrestricted moments ``(mu, vech Sigma)`` (lavaan
    ``lav_mvnorm_missing_scores_mu_vech_sigma``): rows with missing values
    use the observed part only; times the case weight when given.

    Returns
    -------
    ndarray (n, p + p*) with a mean structure, else (n, p*)
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    r, c = vech_index(p)
    obs = ~np.isnan(X)
    keys, inv = np.unique(obs, axis=0, return_inverse=True)
    inv = inv.ravel()
    dmu = np.zeros((n, p))
    sc = np.zeros((n, len(r)))
    for g, o in enumerate(keys):
        rows = np.flatnonzero(inv == g)
        if not o.any():
            continue
        Si = np.zeros((p, p))
        Si[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
        Yc = np.zeros((len(rows), p))
        Yc[:, o] = (X[np.ix_(rows, o)] - mu[o]) @ Si[np.ix_(o, o)]
        dmu[rows] = Yc
        sc[rows] = Yc[:, r] * Yc[:, c] - Si[r, c][None, :]
    sc[:, r == c] /= 2
    out = np.hstack([dmu, sc]) if meanstructure else sc
    if weights is not None:
        out = out * np.asarray(weights, dtype=float)[:, None]
    return out


def missing_h1_expected_information(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray,
                                    weights: np.ndarray | None = None) -> np.ndarray:
    """Expected information per observation of the unrestricted normal model
    on incomplete data at ``(mu, Sigma)``, means first (lavaan
    ``lav_mvnorm_missing_information_expected``): each missing-data pattern's
    information of its observed items, weighted by its share of the cases."""
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    obs = ~np.isnan(X)
    keys, inv = np.unique(obs, axis=0, return_inverse=True)
    out = np.zeros((p + p * (p + 1) // 2,) * 2)
    for g, o in enumerate(keys):
        if not o.any():
            continue
        Si = np.zeros((p, p))
        Si[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
        share = w[inv.ravel() == g].sum() / w.sum()
        out += share * _bdiag(Si, 0.5 * _dup_pre_post(np.kron(Si, Si), p))
    return out


def missing_h1_observed_information(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray,
                                    weights: np.ndarray | None = None) -> np.ndarray:
    """Observed information per observation of the unrestricted normal model
    on incomplete data at ``(mu, Sigma)``, means first (lavaan
    ``lav_mvnorm_missing_information_observed_samplestats``): each
    missing-data pattern is a complete-data problem on its observed items,
    with its (weighted) sample moments; its information, weighted by the
    pattern's share of the cases, lands on the moments of those items."""
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    r, c = vech_index(p)
    pos = np.zeros((p, p), dtype=int)
    pos[r, c] = pos[c, r] = np.arange(len(r))
    obs = ~np.isnan(X)
    keys, inv = np.unique(obs, axis=0, return_inverse=True)
    out = np.zeros((p + len(r),) * 2)
    for g, o in enumerate(keys):
        if not o.any():
            continue
        rows = inv.ravel() == g
        wg, Xg = w[rows], X[np.ix_(rows, o)]
        S_g, mean_g = weighted_moments(Xg, wg)
        info = h1_observed_information(S_g, mean_g, Sigma[np.ix_(o, o)], mu[o], meanstructure=True)
        items = np.flatnonzero(o)
        ro, co = vech_index(len(items))
        at = np.concatenate([items, p + pos[items[ro], items[co]]])
        out[np.ix_(at, at)] += wg.sum() / w.sum() * info
    return out


# ---------------------------------------------------------------------------
# scaled tests
# ---------------------------------------------------------------------------
def satorra_bentler_trace(Delta: np.ndarray, V: np.ndarray, Gamma: np.ndarray) -> float:
    """``trace(U Gamma)`` with ``U = V - V Delta (Delta' V Delta)^-1 Delta' V``."""
    VD = V @ Delta
    E_inv = np.linalg.inv(Delta.T @ VD)
    return float(np.sum(V * Gamma) - np.sum((VD.T @ Gamma @ VD) * E_inv))


def yuan_bentler_trace(A1: np.ndarray, B1: np.ndarray, B0: np.ndarray, E_inv: np.ndarray) -> float:
    """Yuan-Bentler (Mplus variant): ``trace(A1^-1 B1) - trace(B0 E^-1)``."""
    return float(np.sum(B1 * np.linalg.inv(A1).T) - np.sum(B0 * E_inv.T))


@dataclass(frozen=True)
class Moments:
    """What the scaled fit indices need from one model and its baseline.

    Attributes
    ----------
    chisq, df : float
        The model's likelihood-ratio statistic and degrees of freedom.
    trace : float
        ``trace(U Gamma)`` of the model (``df * scaling factor``).
    chisq0, df0, trace0 : float
        The same for the baseline (independence) model.
    n : int
        Number of observations.
    """

    chisq: float
    df: float
    trace: float
    chisq0: float
    df0: float
    trace0: float
    n: int


def _factor(trace: float, df: float) -> float:
    if df <= 0 or not np.isfinite(trace):
        return float("nan")
    c = trace / df
    return c if c >= 0 else float("nan")


def scaled_fit_indices(m: Moments, corrected: dict[str, float] | None = None) -> pd.Series:
    """The scaled and robust fit indices of lavaan's ``fitMeasures``.

    Parameters
    ----------
    m : Moments
    corrected : dict, optional
        With missing data, the FIML-corrected statistics of
        :func:`fiml_corrected` (``xx3, c3, xx3_null, c3_null``); without,
        the robust indices use the model's own statistic and scaling factor.

    Returns
    -------
    Series
        ``chisq_scaled, df_scaled, pvalue_scaled, chisq_scaling_factor,
        baseline_chisq_scaled, baseline_df_scaled,
        baseline_chisq_scaling_factor, cfi_scaled, tli_scaled, cfi_robust,
        tli_robust, rmsea_scaled, rmsea_ci_lower_scaled,
        rmsea_ci_upper_scaled, rmsea_robust, rmsea_ci_lower_robust,
        rmsea_ci_upper_robust``.
    """
    c = _factor(m.trace, m.df)
    c0 = _factor(m.trace0, m.df0)
    chisq_s = m.chisq / c
    chisq0_s = m.chisq0 / c0
    out = {
        "chisq_scaled": chisq_s,
        "df_scaled": float(m.df),
        "pvalue_scaled": float(stats.chi2.sf(chisq_s, m.df)) if m.df > 0 else float("nan"),
        "chisq_scaling_factor": c,
        "baseline_chisq_scaled": chisq0_s,
        "baseline_df_scaled": float(m.df0),
        "baseline_chisq_scaling_factor": c0,
        "cfi_scaled": cfi(chisq_s, m.df, chisq0_s, m.df0),
        "tli_scaled": tli(chisq_s, m.df, chisq0_s, m.df0),
    }
    if corrected is None:
        xx3, c3, xx3_0, c3_0 = m.chisq, c, m.chisq0, c0
    else:
        xx3, c3, xx3_0, c3_0 = (corrected["xx3"], corrected["c3"], corrected["xx3_null"],
                                corrected["c3_null"])
    out["cfi_robust"] = cfi(xx3, m.df, xx3_0, m.df0, c_hat=c3, c_hat_null=c3_0)
    out["tli_robust"] = tli(xx3, m.df, xx3_0, m.df0, c_hat=c3, c_hat_null=c3_0)
    # scaled RMSEA: the unscaled statistic on trace(U Gamma) degrees of freedom
    df2 = m.trace if np.isfinite(m.trace) and m.trace != 0 else float("nan")
    out["rmsea_scaled"] = rmsea(m.chisq, df2, m.n)
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = rmsea_ci(m.chisq, df2, m.n)
    out["rmsea_robust"] = rmsea(xx3, m.df, m.n, c_hat=c3)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = rmsea_ci(xx3 / c3, m.df, m.n, c_hat=c3)
    return pd.Series({k: float(v) for k, v in out.items()})


def fiml_corrected(*, n: int, df: float, df0: float, Delta: np.ndarray, Delta0: np.ndarray,
                   Wm: np.ndarray, Jm: np.ndarray, mean_h1: np.ndarray, cov_h1: np.ndarray,
                   mu: np.ndarray, Sigma: np.ndarray, mu0: np.ndarray, Sigma0: np.ndarray) -> dict[str, float]:
    """Savalei's (2018) FIML-corrected statistics (lavaan
    ``lav_fit_fiml_corrected``, version "V3") for the robust CFI, TLI and
    RMSEA of a FIML fit.

    ``Wm`` / ``Jm`` are the observed / first-order information of the
    unrestricted model at the EM moments ``(mean_h1, cov_h1)``; ``Delta``,
    ``(mu, Sigma)`` and ``Delta0``, ``(mu0, Sigma0)`` the Jacobian and the
    implied moments of the model and of the baseline model, means first.

    Returns
    -------
    dict
        ``xx3`` (the complete-data statistic of the model against the EM
        moments), ``c3`` (its scaling factor), ``xx3_null``, ``c3_null``.
    """
    p = len(mean_h1)
    Wc = h1_expected_information(cov_h1, meanstructure=True)
    Wmi = np.linalg.inv(Wm)
    Gamma = Wmi @ Jm @ Wmi
    M = Wmi @ Wc @ Wmi

    def stat(mu_, Sigma_):
        Si = np.linalg.inv(Sigma_)
        d = mean_h1 - mu_
        f = (np.linalg.slogdet(Sigma_)[1] + np.sum(Si * cov_h1) - np.linalg.slogdet(cov_h1)[1] - p
             + d @ Si @ d)
        return n * f

    def k(D):
        U = Wm - Wm @ D @ np.linalg.inv(D.T @ Wm @ D) @ D.T @ Wm
        return float(np.trace(U @ M @ U @ Gamma))

    return {"xx3": stat(mu, Sigma), "c3": k(Delta) / df if df > 0 else float("nan"),
            "xx3_null": stat(mu0, Sigma0), "c3_null": k(Delta0) / df0 if df0 > 0 else float("nan")}


# ---------------------------------------------------------------------------
# a fitted model -> robust covariance of the estimates and scaled fit indices
# ---------------------------------------------------------------------------
def _delta(dSigma: np.ndarray) -> np.ndarray:
    """``d vech(Sigma) / d theta`` (p*, k) from ``dSigma`` (k, p, p)."""
    return _vech(dSigma).T


def _diag_selector(p: int) -> np.ndarray:
    """``d vech(Sigma) / d diag(Sigma)`` (p*, p): the baseline model's Jacobian."""
    r, c = vech_index(p)
    out = np.zeros((len(r), p))
    out[np.flatnonzero(r == c), np.arange(p)] = 1.0
    return out


def _crossprod(scores: np.ndarray, n: float) -> np.ndarray:
    return scores.T @ scores / n


def observed_information(gradient, theta: np.ndarray) -> np.ndarray:
    """Observed information: minus the Jacobian (central differences, steps
    ``1e-5 max(1, |theta_i|)``), symmetrized, of ``gradient(theta)``, an
    analytic score (per observation or total: the result is in its units)."""
    k = len(theta)
    H = np.zeros((k, k))
    for i in range(k):
        h = 1e-5 * max(1.0, abs(theta[i]))
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (gradient(theta + e) - gradient(theta - e)) / (2 * h)
    return -(H + H.T) / 2


def _sandwich(E: np.ndarray, B: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    E_inv = np.linalg.inv(E)
    return E_inv @ B @ E_inv / n, E_inv


def complete_data_robust(ram, theta: np.ndarray, X: np.ndarray, weights: np.ndarray | None,
                         estimator: str, fit: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Robust covariance of the estimates and scaled fit indices of an ML fit
    on complete (optionally weighted) data.

    Parameters
    ----------
    ram : RamModel
        The model (implied covariance, Jacobian, ML gradient).
    theta : ndarray (k,)
        ML estimates (on the weighted moments when ``weights`` is given).
    X : ndarray (n, p)
        The complete rows used.
    weights : ndarray (n,) or None
        Survey weights rescaled to sum to n.
    estimator : {"MLM", "MLR"}
    fit : Series
        The ML fit indices (``chisq, df, baseline_chisq, baseline_df``).

    Returns
    -------
    vcov : ndarray (k, k)
    indices : Series
        As :func:`scaled_fit_indices`.
    """
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    S, mean = weighted_moments(X, w)
    Xc = X - mean
    Sigma, d = ram.jacobian(theta)
    Delta = _delta(d)
    D0 = _diag_selector(p)
    S0 = np.diag(np.diag(S))
    B1s = _crossprod(casewise_scores(X, mean, Sigma, w), n)
    B0 = Delta.T @ B1s @ Delta
    if estimator == "MLM":
        r, c = vech_index(p)
        dev = Xc[:, r] * Xc[:, c]
        dev = dev - dev.mean(axis=0)
        Gamma = dev.T @ dev / n
        V = h1_expected_information(Sigma)
        VD = V @ Delta
        vcov, _ = _sandwich(Delta.T @ VD, VD.T @ Gamma @ VD, n)
        trace = satorra_bentler_trace(Delta, V, Gamma)
        trace0 = satorra_bentler_trace(D0, h1_expected_information(S0), Gamma)
    else:
        E = observed_information(lambda th: ram.gradient(th, S)[1], theta)
        vcov, E_inv = _sandwich(E, B0, n)
        A1 = h1_expected_information(S)
        B1 = _crossprod(casewise_scores(X, mean, S, w), n)
        trace = yuan_bentler_trace(A1, B1, B0, E_inv)
        B0_0 = D0.T @ _crossprod(casewise_scores(X, mean, S0, w), n) @ D0
        E0 = D0.T @ h1_expected_information(S0) @ D0
        trace0 = yuan_bentler_trace(A1, B1, B0_0, np.linalg.inv(E0))
    m = Moments(float(fit["chisq"]), float(fit["df"]), trace, float(fit["baseline_chisq"]),
                float(fit["baseline_df"]), trace0, n)
    return vcov, scaled_fit_indices(m)


def fiml_robust(ram, theta: np.ndarray, mu: np.ndarray, information: np.ndarray, X: np.ndarray,
                mean_h1: np.ndarray, cov_h1: np.ndarray, fit: pd.Series,
                weights: np.ndarray | None = None) -> tuple[np.ndarray, pd.Series]:
    """Huber-White covariance of the estimates and the scaled (Yuan-Bentler,
    Mplus variant) and FIML-corrected robust fit indices of a FIML fit
    (lavaan ``estimator = "MLR", missing = "ml"``).

    Parameters
    ----------
    ram : RamModel
    theta, mu : ndarray
        FIML estimates of the model parameters and of the item means.
    information : ndarray (k + p, k + p)
        Observed information (total, not per observation) of ``(theta, mu)``.
    X : ndarray (n, p)
        The rows used, NaN where an answer is missing.
    mean_h1, cov_h1 : ndarray
        EM estimates of the unrestricted means and covariance.
    fit : Series
        The FIML fit indices (``chisq, df, baseline_chisq, baseline_df``).
    weights : ndarray (n,), optional
        Survey weights rescaled to sum to n (the estimates, EM moments and
        information are then the weighted ones).

    Returns
    -------
    vcov : ndarray (k, k)
        Of the model parameters (the means left out).
    indices : Series
        As :func:`scaled_fit_indices`.
    """
    n, p = X.shape
    k = len(theta)
    Sigma, d = ram.jacobian(theta)
    ps = p * (p + 1) // 2
    Delta = np.zeros((p + ps, k + p))
    Delta[p:, :k] = _delta(d)
    Delta[:p, k:] = np.eye(p)
    Delta0 = _bdiag(np.eye(p), _diag_selector(p))
    B0 = Delta.T @ _crossprod(casewise_scores(X, mu, Sigma, weights, meanstructure=True), n) @ Delta
    vcov, E_inv = _sandwich(information / n, B0, n)
    A1 = missing_h1_observed_information(X, mean_h1, cov_h1, weights)
    B1 = _crossprod(casewise_scores(X, mean_h1, cov_h1, weights, meanstructure=True), n)
    trace = yuan_bentler_trace(A1, B1, B0, E_inv)
    mu0, v0 = item_moments(X, weights)
    S0 = np.diag(v0)
    B0_0 = Delta0.T @ _crossprod(casewise_scores(X, mu0, S0, weights, meanstructure=True), n) @ Delta0
    E0 = Delta0.T @ missing_h1_observed_information(X, mu0, S0, weights) @ Delta0
    trace0 = yuan_bentler_trace(A1, B1, B0_0, np.linalg.inv(E0))
    corrected = fiml_corrected(n=n, df=float(fit["df"]), df0=float(fit["baseline_df"]), Delta=Delta,
                               Delta0=Delta0, Wm=A1, Jm=B1, mean_h1=mean_h1, cov_h1=cov_h1, mu=mu,
                               Sigma=Sigma, mu0=mu0, Sigma0=S0)
    m = Moments(float(fit["chisq"]), float(fit["df"]), trace, float(fit["baseline_chisq"]),
                float(fit["baseline_df"]), trace0, n)
    return vcov[:k, :k], scaled_fit_indices(m, corrected)
