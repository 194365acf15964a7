"""Robust standard errors and scaled test statistics of a CB-SEM fit, as lavaan.

Everything about the model comes from the one CB-SEM engine
(:class:`csmlib.estimate.ram.Likelihood` on the parameter table): the
implied moments, their Jacobian ``Delta`` (:meth:`Likelihood.delta`), the
expected and observed information and the (survey-weighted) casewise
scores.  This module adds only the unrestricted ("h1") and the baseline
(independence) models, in the space of the unrestricted moments: the item means (when the model has
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

Survey weights are lavaan's ``sampling.weights``: rescaled to sum to N (over
all groups), they weight the sample moments and every casewise score.

Several groups (lavaan's way): one information matrix and one cross-product
of the casewise scores over all cases; ``Gamma``, the h1 informations and
the baseline model per group, each weighted by its share ``n_g / N``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import block_diag

from ..errors import DataError, SpecError
from .fitindices import cfi, rmsea, rmsea_ci, tli
from .ram import invert_information, patterns

__all__ = [
    "ESTIMATORS",
    "check_estimator",
    "survey_weights",
    "robust_fit",
    "item_moments",
    "vech_index",
    "h1_expected_information",
    "h1_observed_information",
    "casewise_scores",
    "crossprod",
    "diag_selector",
    "missing_h1_observed_information",
    "missing_h1_expected_information",
    "Moments",
    "satorra_bentler_trace",
    "yuan_bentler_trace",
    "scaled_fit_indices",
    "fiml_corrected",
    "FimlGroup",
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
        raise SpecError(f"estimator {estimator!r} is not one of {', '.join(ESTIMATORS)} "
                        "(nor, for ordered items, WLSMV, DWLS, ULS)",
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


def _pattern_inverse(Sigma: np.ndarray, o: np.ndarray) -> np.ndarray:
    """``Sigma_oo^-1`` embedded in a p x p matrix of zeros."""
    p = len(o)
    Si = np.zeros((p, p))
    Si[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
    return Si


def casewise_scores(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray, weights: np.ndarray | None = None,
                    meanstructure: bool = False) -> np.ndarray:
    """Casewise scores of the normal loglikelihood with respect to the
    unrestricted moments ``(mu, vech Sigma)`` (lavaan
    ``lav_mvnorm_missing_scores_mu_vech_sigma``): rows with missing values
    use the observed part only; times the case weight when given.  Rows
    come pattern by pattern (:func:`csmlib.estimate.ram.patterns`), which
    is all a cross-product of the scores needs.

    Returns
    -------
    ndarray (n, p + p*) with a mean structure, else (n, p*)
    """
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    r, c = vech_index(p)
    blocks = []
    for pt in patterns(X, weights):
        o = pt.observed
        Si = _pattern_inverse(Sigma, o)
        Yc = np.zeros((len(pt.rows), p))
        Yc[:, o] = (pt.rows - mu[o]) @ Si[np.ix_(o, o)]
        sc = Yc[:, r] * Yc[:, c] - Si[r, c][None, :]
        sc[:, r == c] /= 2
        out = np.hstack([Yc, sc]) if meanstructure else sc
        blocks.append(out if pt.weights is None else out * pt.weights[:, None])
    return np.vstack(blocks)


def missing_h1_expected_information(X: np.ndarray, mu: np.ndarray, Sigma: np.ndarray,
                                    weights: np.ndarray | None = None) -> np.ndarray:
    """Expected information per observation of the unrestricted normal model
    on incomplete data at ``(mu, Sigma)``, means first (lavaan
    ``lav_mvnorm_missing_information_expected``): each missing-data pattern's
    information of its observed items, weighted by its share of the cases."""
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    pats = patterns(X, weights)
    total = sum(pt.n for pt in pats)
    out = np.zeros((p + p * (p + 1) // 2,) * 2)
    for pt in pats:
        Si = _pattern_inverse(Sigma, pt.observed)
        out += pt.n / total * _bdiag(Si, 0.5 * _dup_pre_post(np.kron(Si, Si), p))
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
    p = X.shape[1]
    r, c = vech_index(p)
    pos = np.zeros((p, p), dtype=int)
    pos[r, c] = pos[c, r] = np.arange(len(r))
    pats = patterns(X, weights)
    total = sum(pt.n for pt in pats)
    out = np.zeros((p + len(r),) * 2)
    for pt in pats:
        o = pt.observed
        info = h1_observed_information(pt.cov, pt.mean, Sigma[np.ix_(o, o)], mu[o], meanstructure=True)
        items = np.flatnonzero(o)
        ro, co = vech_index(len(items))
        at = np.concatenate([items, p + pos[items[ro], items[co]]])
        out[np.ix_(at, at)] += pt.n / total * info
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
    groups : int
        Number of groups (the RMSEAs are multiplied by sqrt(groups), as lavaan).
    """

    chisq: float
    df: float
    trace: float
    chisq0: float
    df0: float
    trace0: float
    n: int
    groups: int = 1


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
    # a just-identified model (df 0) has no scaling factor; lavaan reports its
    # chi-square unscaled (and so CFI, TLI 1 and robust RMSEA 0)
    chisq_s = m.chisq / c if m.df > 0 else m.chisq
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
    G = m.groups
    out["rmsea_scaled"] = rmsea(m.chisq, df2, m.n, G)
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = rmsea_ci(m.chisq, df2, m.n, groups=G)
    out["rmsea_robust"] = rmsea(xx3, m.df, m.n, G, c_hat=c3)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = rmsea_ci(xx3 / c3, m.df, m.n, groups=G,
                                                                          c_hat=c3)
    if m.df <= 0:
        # just identified, as lavaan: no scaling factor, so no scaled RMSEA (NaN), a robust
        # RMSEA of 0, and with FIML's correction a robust CFI and TLI of 1 (NaN without)
        out["rmsea_scaled"] = out["rmsea_ci_lower_scaled"] = out["rmsea_ci_upper_scaled"] = float("nan")
        if np.isfinite(xx3):
            out["rmsea_robust"] = out["rmsea_ci_lower_robust"] = out["rmsea_ci_upper_robust"] = 0.0
        if corrected is not None and np.isfinite(xx3):
            out["cfi_robust"] = out["tli_robust"] = 1.0
    return pd.Series({k: float(v) for k, v in out.items()})


@dataclass(frozen=True)
class FimlGroup:
    """One group's pieces of the FIML-corrected statistics.

    Attributes
    ----------
    n : float
        Cases of the group.
    Delta, Delta0 : ndarray
        Jacobians of ``(mu, vech Sigma)`` of the model (all its parameters)
        and of the group's baseline (independence) model.
    Wm, Jm : ndarray
        Observed and first-order information of the unrestricted model at
        the EM moments.
    mean_h1, cov_h1 : ndarray
        The EM moments.
    mu, Sigma, mu0, Sigma0 : ndarray
        Implied moments of the model and of the baseline model.
    """

    n: float
    Delta: np.ndarray
    Delta0: np.ndarray
    Wm: np.ndarray
    Jm: np.ndarray
    mean_h1: np.ndarray
    cov_h1: np.ndarray
    mu: np.ndarray
    Sigma: np.ndarray
    mu0: np.ndarray
    Sigma0: np.ndarray


def fiml_corrected(groups: list[FimlGroup], *, df: float, df0: float) -> dict[str, float]:
    """Savalei's (2018) FIML-corrected statistics (lavaan
    ``lav_fit_fiml_corrected``, version "V3") for the robust CFI, TLI and
    RMSEA of a FIML fit, over one or several groups (lavaan's block-diagonal
    matrices, each group weighted by its share ``f_g = n_g / N``).

    Returns
    -------
    dict
        ``xx3`` (the complete-data statistic of the model against the EM
        moments), ``c3`` (its scaling factor), ``xx3_null``, ``c3_null``.
    """
    N = sum(gr.n for gr in groups)
    f = [gr.n / N for gr in groups]
    Wmi = [np.linalg.inv(gr.Wm) for gr in groups]
    Wm_all = block_diag(*[fg * gr.Wm for fg, gr in zip(f, groups)])
    Wmi_all = block_diag(*[Wi / fg for fg, Wi in zip(f, Wmi)])
    Wc_all = block_diag(*[fg * h1_expected_information(gr.cov_h1, meanstructure=True) for fg, gr in zip(f, groups)])
    Gamma_all = block_diag(*[Wi @ gr.Jm @ Wi / fg for fg, Wi, gr in zip(f, Wmi, groups)])
    M = Wmi_all @ Wc_all @ Wmi_all

    def stat(moments):
        total = 0.0
        for gr, (mu_, Sigma_) in zip(groups, moments):
            Si = np.linalg.inv(Sigma_)
            d = gr.mean_h1 - mu_
            total += gr.n * (np.linalg.slogdet(Sigma_)[1] + np.sum(Si * gr.cov_h1)
                             - np.linalg.slogdet(gr.cov_h1)[1] - len(d) + d @ Si @ d)
        return total

    def k(D):
        U = Wm_all - Wm_all @ D @ np.linalg.inv(D.T @ Wm_all @ D) @ D.T @ Wm_all
        return float(np.trace(U @ M @ U @ Gamma_all))

    D = np.vstack([gr.Delta for gr in groups])
    D0 = block_diag(*[gr.Delta0 for gr in groups])
    return {"xx3": stat([(gr.mu, gr.Sigma) for gr in groups]), "c3": k(D) / df if df > 0 else float("nan"),
            "xx3_null": stat([(gr.mu0, gr.Sigma0) for gr in groups]),
            "c3_null": k(D0) / df0 if df0 > 0 else float("nan")}


# ---------------------------------------------------------------------------
# a fitted model -> robust covariance of the estimates and scaled fit indices
# ---------------------------------------------------------------------------
def diag_selector(p: int, meanstructure: bool = False) -> np.ndarray:
    """The baseline (independence) model's Delta: ``d (mu, vech Sigma) /
    d (mu, diag Sigma)`` ((p +) p*, (p +) p), means only with a mean structure."""
    r, c = vech_index(p)
    out = np.zeros((len(r), p))
    out[np.flatnonzero(r == c), np.arange(p)] = 1.0
    return _bdiag(np.eye(p), out) if meanstructure else out


def crossprod(scores: np.ndarray, n: float) -> np.ndarray:
    """``scores' scores / n``: the first-order information of casewise scores."""
    return scores.T @ scores / n


def _adf_gamma(X: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Asymptotic covariance of the sample moments ``([mean,] vech S)``
    (divisor N, lavaan's ``Gamma`` of ``estimator = "MLM"``)."""
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    r, c = vech_index(p)
    dev = Xc[:, r] * Xc[:, c]
    dev = dev - dev.mean(axis=0)
    if meanstructure:
        dev = np.hstack([Xc, dev])
    return dev.T @ dev / n


def robust_fit(lik, theta: np.ndarray, estimator: str, fit: pd.Series, *,
               h1: list[tuple[np.ndarray, np.ndarray]], fiml: bool) -> tuple[np.ndarray, pd.Series]:
    """Robust covariance of the estimates and the scaled fit indices of an ML
    (or FIML) fit, from the engine's evaluation of the model.

    Everything about the model comes from the one likelihood
    (:class:`csmlib.estimate.ram.Likelihood`): its implied moments, its
    Delta (Jacobian of the moments), its expected and observed information
    and its casewise scores (weighted by the survey weights); this module
    adds only the unrestricted (h1) and baseline models, group by group.
    With several groups the pieces are lavaan's: the information and the
    scores' cross-product over all cases, ``Gamma`` and the h1 informations
    per group, each group weighted by its share ``n_g / N``.

    Parameters
    ----------
    lik : Likelihood
        The fitted model's likelihood, with its data (rows and survey
        weights, :meth:`~csmlib.estimate.ram.Likelihood.group_data`);
        :func:`csmlib.fit_cbsem` refuses fixed covariates, and several
        groups with weights, before it gets here.
    theta : ndarray (k,)
        Estimates.
    estimator : {"MLM", "MLR"}
    fit : Series
        The ML fit indices (``chisq, df, baseline_chisq, baseline_df``).
    h1 : list of (mean, cov)
        Per group, the unrestricted moments: (weighted) sample moments, or
        the EM estimates under FIML.
    fiml : bool
        Full-information ML (MLR only): the robust CFI, TLI and RMSEA use
        Savalei's FIML-corrected statistic.

    Returns
    -------
    vcov : ndarray (k, k)
    indices : Series
        As :func:`scaled_fit_indices`.
    """
    n = float(lik.N)
    ms = bool(lik.meanstructure)
    G = len(lik.models)
    sc = np.vstack(lik.scores(theta))
    B0 = crossprod(sc, n)
    trace_h1 = trace0 = 0.0
    middle = np.zeros((lik.k, lik.k))
    fiml_groups = []
    if estimator == "MLM":
        E_inv = invert_information(lik.expected_information(theta))
    else:
        E_inv = invert_information(lik.observed_information(theta, central=True))
    for g, (mean_h1, cov_h1) in enumerate(h1):
        X, w = lik.group_data(g)
        p = X.shape[1]
        n_g = float(lik.n_obs[g])
        Sigma, mu = lik.implied(theta)[g]
        Delta = lik.delta(theta, g)
        D0 = diag_selector(p, ms)
        if fiml:
            mu0, v0 = item_moments(X, w)
            S0 = np.diag(v0)
        else:
            mu0, S0 = mean_h1, np.diag(np.diag(cov_h1))
        if estimator == "MLM":
            Gamma = _adf_gamma(X, ms)
            V = h1_expected_information(Sigma, meanstructure=ms)
            VD = V @ Delta
            middle += n_g / n * (VD.T @ Gamma @ VD)
            trace_h1 += float(np.sum(V * Gamma))
            trace0 += satorra_bentler_trace(D0, h1_expected_information(S0, meanstructure=ms), Gamma)
        else:
            B1 = crossprod(casewise_scores(X, mean_h1, cov_h1, w, meanstructure=ms), n_g)
            B0_0 = D0.T @ crossprod(casewise_scores(X, mu0, S0, w, meanstructure=ms), n_g) @ D0
            if fiml:
                A1 = missing_h1_observed_information(X, mean_h1, cov_h1, w)
                E0 = D0.T @ missing_h1_observed_information(X, mu0, S0, w) @ D0
            else:   # at the sample moments the observed information is the expected one
                A1 = h1_expected_information(cov_h1, meanstructure=ms)
                E0 = D0.T @ h1_expected_information(S0, meanstructure=ms) @ D0
            trace_h1 += float(np.sum(B1 * np.linalg.inv(A1).T))
            trace0 += yuan_bentler_trace(A1, B1, B0_0, np.linalg.inv(E0))
            if fiml:
                fiml_groups.append(FimlGroup(n_g, Delta, D0, A1, B1, mean_h1, cov_h1, mu, Sigma, mu0, S0))
    if estimator == "MLM":
        vcov = E_inv @ middle @ E_inv / n
        trace = trace_h1 - float(np.sum(middle * E_inv.T))
    else:
        vcov = E_inv @ B0 @ E_inv / n
        trace = trace_h1 - float(np.sum(B0 * E_inv.T))
    corrected = None
    if fiml:
        corrected = fiml_corrected(fiml_groups, df=float(fit["df"]), df0=float(fit["baseline_df"]))
    m = Moments(float(fit["chisq"]), float(fit["df"]), trace, float(fit["baseline_chisq"]),
                float(fit["baseline_df"]), trace0, n, G)
    return vcov, scaled_fit_indices(m, corrected)
