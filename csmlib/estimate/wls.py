"""Ordered items by weighted least squares (WLSMV, DWLS, ULS), as lavaan.

:func:`fit_ordered` is what :func:`csmlib.fit_cbsem` runs for
``estimator="WLSMV" | "DWLS" | "ULS"`` or ``ordered=``: lavaan's
``sem(..., ordered = items, estimator = ...)`` with its defaults.

- Sample statistics (:func:`csmlib.estimate.polychoric.polychoric`): the
  thresholds and polychoric correlations ``s`` (lavaan's order) and their
  asymptotic covariance ``Gamma`` (NACOV, N times).
- The model: the parameter table of the spec with the ordered items
  (:func:`~csmlib.estimate.partable.build_partable` with ``ordered=``: delta
  parameterization, thresholds ``x | t1`` ..., intercepts 0, scaling
  factors 1); the implied correlations are the off-diagonal of the
  covariance structure of :class:`~csmlib.estimate.ram.RamModel` (the
  residual variance of an ordered item is 1 minus the explained variance,
  no parameter), the implied thresholds are the threshold parameters.
- Estimation: ``F = (s - sigma)' W (s - sigma)`` minimised by Gauss-Newton
  with step halving; ``W`` is ``diag(Gamma)^-1`` (DWLS, WLSMV) or the
  identity (ULS).  ``chisq = (N - 1) F``: lavaan 0.6.14 scales the test
  and the covariance of the estimates of these estimators by N - 1 (its
  reported ``fmin`` is ``chisq / 2N``), and so does csmlib.
- Standard errors: WLSMV the sandwich ``A^-1 Delta' W Gamma W Delta A^-1 /
  (N - 1)`` with ``A = Delta' W Delta`` (lavaan ``se = "robust.sem"``);
  DWLS and ULS ``A^-1 / (N - 1)`` (lavaan ``se = "standard"``).
- WLSMV's test is the mean-and-variance adjusted (scaled-shifted) statistic:
  with ``U = W - W Delta A^-1 Delta' W``, ``a = sqrt(df / tr((U Gamma)^2))``,
  ``chisq_scaled = a chisq + df - a tr(U Gamma)``, ``df_scaled = df``,
  ``chisq_scaling_factor = 1 / a``; the baseline (thresholds only, no
  correlation) likewise; ``cfi_scaled``, ``tli_scaled`` from the scaled
  statistics, ``rmsea`` and ``rmsea_scaled`` with N - 1 as lavaan for these
  estimators; ``srmr`` the root mean square of the correlation residuals
  over the p (p + 1) / 2 elements with the diagonal (lavaan's ``srmr`` of
  an ordered model, ``srmr_bentler_nomean``).

Supported: one group, every observed variable of the model ordered (2 to 10
categories), ``missing="listwise"`` or ``"pairwise"``.  Continuous indicators
next to ordered ones (polyserial correlations), several groups, survey
weights and fixed covariates are refused with a
:class:`~csmlib.errors.SpecError`: csmlib has not matched them to lavaan.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, EstimationError, EstimationWarning, SpecError
from ..spec.modelspec import ModelSpec
from .fitindices import cfi, rmsea, rmsea_ci, tli
from .partable import ParTable, build_partable
from .polychoric import Polychoric, _pairs, polychoric
from .prepare import check_answered, input_frame
from .ram import RamModel
from .results import FIT_INDEX_NAMES, CbsemResults, tidy_estimates

__all__ = ["WLS_ESTIMATORS", "fit_ordered", "ordered_items"]

#: estimators of ordered items, lavaan's names
WLS_ESTIMATORS = ("WLSMV", "DWLS", "ULS")


def ordered_items(spec_observed: Sequence[str], ordered: Any) -> list[str]:
    """The ordered items of a fit: ``True`` (every observed variable) or a
    list of names."""
    if ordered is True:
        return list(spec_observed)
    if ordered is None or ordered is False:
        return []
    if isinstance(ordered, str):
        ordered = [ordered]
    return [str(x) for x in ordered]


def _model_vector(ram: RamModel, theta: np.ndarray, table: ParTable, pairs) -> tuple[np.ndarray, np.ndarray]:
    """Implied correlations (lavaan's order) and their Jacobian (pairs x k)."""
    Sigma, d = ram.jacobian(theta)
    ii = np.array([i for _, i in pairs], dtype=int)
    jj = np.array([j for j, _ in pairs], dtype=int)
    return Sigma[ii, jj], d[:, ii, jj].T


def _estimate(ram: RamModel, theta0: np.ndarray, s: np.ndarray, w: np.ndarray, cov_free: np.ndarray,
              pairs, table, max_iter: int = 500) -> tuple[np.ndarray, bool, int, float]:
    """Gauss-Newton with step halving on the covariance parameters."""
    theta = theta0.copy()

    def objective(th):
        sig, J = _model_vector(ram, th, table, pairs)
        r = s - sig
        return float(r @ (w * r)), r, J

    f, r, J = objective(theta)
    for it in range(1, max_iter + 1):
        Jc = J[:, cov_free]
        A = Jc.T @ (w[:, None] * Jc)
        g = Jc.T @ (w * r)
        try:
            step = np.linalg.solve(A, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(A, g, rcond=None)[0]
        t = 1.0
        for _ in range(40):
            cand = theta.copy()
            cand[cov_free] += t * step
            f_new, r_new, J_new = objective(cand)
            if np.isfinite(f_new) and f_new <= f + 1e-14 * max(1.0, f):
                break
            t /= 2
        else:
            return theta, False, it, f
        theta, f, r, J = cand, f_new, r_new, J_new
        if np.max(np.abs(t * step)) < 1e-9:
            Jc = J[:, cov_free]
            grad = Jc.T @ (w * r)
            return theta, bool(np.max(np.abs(grad)) < 1e-6), it, f
    return theta, False, max_iter, f


def fit_ordered(
    spec: ModelSpec,
    data: Any,
    *,
    estimator: str,
    ordered: Any,
    missing: str = "listwise",
    level: float = 0.95,
    se: str = "default",
) -> CbsemResults:
    """Estimate a model of ordered items by WLSMV, DWLS or ULS (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec
    data : DataFrame or Survey
    estimator : {"WLSMV", "DWLS", "ULS"}
    ordered : True or sequence of str
        The ordered items (True: every observed variable of the model).
    missing : {"listwise", "pairwise"}
    level : float
        Confidence level of the Wald intervals.
    se : {"default", "robust", "standard", "none"}
        ``"default"``: robust for WLSMV, standard for DWLS and ULS (lavaan's
        defaults).

    Returns
    -------
    CbsemResults
        As :func:`csmlib.fit_cbsem`: ``estimates`` (with thresholds ``x |
        t1``, the ordered items' residual variances ``x ~~ x`` (fixed, 1
        minus their R-squared), scaling factors ``x ~*~ x`` and intercepts
        ``x ~1`` as lavaan lists them), ``fit_indices`` (``chisq, df,
        pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr, aic,
        bic, baseline_chisq, baseline_df, logl, npar``; WLSMV adds
        ``chisq_scaled, df_scaled, pvalue_scaled, chisq_scaling_factor,
        chisq_shift, baseline_chisq_scaled, baseline_df_scaled,
        baseline_pvalue_scaled, baseline_chisq_scaling_factor, cfi_scaled,
        tli_scaled, rmsea_scaled, rmsea_ci_lower_scaled,
        rmsea_ci_upper_scaled``; aic, bic and logl are NaN: there is no
        likelihood), ``r2`` by endogenous construct, ``effects``;
        ``scores`` are not computed (empty columns of NaN).  ``extra``
        holds ``table``, ``ram``, ``theta``, ``vcov``, ``polychoric``
        (:class:`~csmlib.estimate.polychoric.Polychoric`), ``implied_cor``,
        ``delta``, ``weights`` (the diagonal of W).
    """
    from .cbsem import _FUNCS, _defined_values, _effects, _num_jacobian, _row

    est = str(estimator).upper()
    if est not in WLS_ESTIMATORS:
        raise SpecError(f"estimator {estimator!r} is not one of {', '.join(WLS_ESTIMATORS)} for ordered items",
                        values=[estimator], hint='use estimator="WLSMV" (lavaan\'s default for ordered items)')
    if missing not in ("listwise", "pairwise"):
        raise SpecError(f"missing={missing!r} is not available for ordered items", values=[missing],
                        hint='use missing="listwise" or missing="pairwise" (lavaan\'s choices with WLSMV)')
    if se == "default":
        se = "robust" if est == "WLSMV" else "standard"
    if se not in ("robust", "standard", "none"):
        raise SpecError(f"se={se!r} is not one of 'robust', 'standard', 'none'", values=[se])
    check = build_partable(spec)
    observed = list(check.observed)
    items = ordered_items(observed, ordered)
    if not items:
        raise SpecError(f'estimator "{est}" needs ordered items', values=[est],
                        hint="name them: ordered=True (every item) or ordered=[...]")
    continuous = [x for x in observed if x not in items]
    if continuous:
        raise SpecError("continuous variables next to ordered items (polyserial correlations) are not "
                        "available: " + ", ".join(continuous), values=continuous,
                        hint="treat every item of the model as ordered (ordered=True), or fit the model "
                             'by ML (estimator="ML" or "MLR")')
    df_in, file, limits = input_frame(data, "fit_cbsem")
    absent = [x for x in observed if x not in set(map(str, df_in.columns))]
    if absent:
        raise SpecError(f"{len(absent)} variable(s) of the model are not columns of the data", file=file,
                        column=absent, hint="rename the columns in the data or the items in the model")
    check_answered(df_in, spec, file)
    rows_read = len(df_in)
    pc: Polychoric = polychoric(df_in, observed, missing=missing)
    N = pc.n_obs
    info = {"rows_read": rows_read, "rows_used": N,
            "dropped": ({"missing values (listwise deletion)" if missing == "listwise" else "all items missing":
                         rows_read - N} if rows_read > N else {})}
    th_start = {x: pc.thresholds.loc[pc.thresholds["item"] == x, "est"].to_numpy() for x in observed}
    R = pc.correlation.to_numpy()
    table = build_partable(spec, ordered=th_start, moments=[(np.zeros(len(observed)), R)])
    k = table.k
    p = len(observed)
    pairs = _pairs(p)
    T = len(pc.thresholds)
    m = T + len(pairs)
    if m - k < 0:
        raise EstimationError(f"the model has {k} free parameters but only {m} sample statistics: "
                              "it is not identified", values=[k, m], hint="simplify the model")
    ram = RamModel(table.observed, table.latent, [r for r in table.rows if r.matrix in ("A", "S", "M")], k=k)
    # threshold parameters, in the order of the sample thresholds
    th_free = np.array([r.free for r in table.rows if r.op == "|"], dtype=int)
    cov_free = np.array(sorted({r.free for r in table.rows if r.free >= 0 and r.matrix in ("A", "S")}), dtype=int)
    if set(th_free) & set(cov_free) or len(set(th_free)) != T:
        raise SpecError("labels that tie thresholds to each other or to other parameters are not available",
                        hint="remove the labels of the thresholds")
    s_all = pc.sample_statistics.to_numpy()
    Gamma = pc.gamma.to_numpy()
    w_all = 1 / np.diag(Gamma) if est != "ULS" else np.ones(m)
    s_cor, w_cor = s_all[T:], w_all[T:]
    theta0 = np.array([r.value for r in sorted({r.free: r for r in table.rows if r.free >= 0}.values(),
                                               key=lambda r: r.free)])
    theta0[th_free] = s_all[:T]
    theta, conv, n_iter, f = _estimate(ram, theta0, s_cor, w_cor, cov_free, pairs, table)
    warn: list[str] = []
    message = f"{est} by Gauss-Newton on the polychoric correlations ({n_iter} iterations)"
    if not conv:
        message = f"estimation did not converge after {n_iter} iterations; the estimates are not trustworthy"
        warn.append(message)
        warnings.warn(message, EstimationWarning, stacklevel=3)
    sig, J = _model_vector(ram, theta, table, pairs)
    Delta = np.zeros((m, k))
    Delta[np.arange(T), th_free] = 1.0
    Delta[T:, :] = J
    Delta[T:, th_free] = 0.0
    A = Delta.T @ (w_all[:, None] * Delta)
    vcov = None
    U_Gamma = None
    try:
        A_inv = np.linalg.inv(A)
        if not np.all(np.isfinite(A_inv)) or np.linalg.cond(A) > 1e12:
            raise np.linalg.LinAlgError
        WD = w_all[:, None] * Delta
        if se == "robust":
            vcov = A_inv @ (WD.T @ Gamma @ WD) @ A_inv / (N - 1)
        elif se == "standard":
            vcov = A_inv / (N - 1)
        U = np.diag(w_all) - WD @ A_inv @ WD.T
        U_Gamma = U @ Gamma
    except np.linalg.LinAlgError:
        msg = "the information matrix is singular: the model is not identified; standard errors are not available"
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=3)
    # fit
    df = m - k
    resid = s_cor - sig
    chisq = (N - 1) * float(resid @ (w_cor * resid))
    chisq0 = (N - 1) * float(s_cor @ (w_cor * s_cor))
    df0 = len(pairs)
    fit = _fit_indices(chisq, df, chisq0, df0, N, k, resid, p)
    if est == "ULS":
        fit["pvalue"] = np.nan   # lavaan: the ULS statistic has no chi-square distribution
    if est == "WLSMV" and U_Gamma is not None:
        G0 = Gamma[T:, T:] * w_cor[:, None]
        fit = pd.concat([fit, _scaled(chisq, df, U_Gamma, chisq0, df0, G0, N)])
    # residual variances of the ordered items (delta parameterization) and the total covariance
    A_mat, S_mat = ram.matrices(theta)
    explained = np.diag(ram.implied(theta))
    delta_resid = {observed[i]: 1.0 - explained[i] for i in range(p)}
    for i in range(p):
        S_mat[i, i] = delta_resid[observed[i]]
    E = np.linalg.inv(np.eye(ram.n) - A_mat)
    V = E @ S_mat @ E.T
    sd_all = np.sqrt(np.clip(np.diag(V), 0, None))
    for x, v in delta_resid.items():
        if v < 0:
            msg = f"Heywood case: the residual variance of the ordered item {x!r} is negative ({v:.4g})"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=3)
    for r in table.rows:
        if r.op == "~~" and r.lhs == r.rhs and r.free >= 0 and theta[r.free] < 0:
            msg = f"Heywood case: the variance {r.lhs} ~~ {r.rhs} is negative ({theta[r.free]:.4g})"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=3)
    z_crit = stats.norm.ppf(0.5 + level / 2)
    recs, free_index = [], []
    for r in table.rows:
        value = float(theta[r.free]) if r.free >= 0 else r.value
        s_e = float(np.sqrt(vcov[r.free, r.free])) if (vcov is not None and r.free >= 0
                                                       and vcov[r.free, r.free] >= 0) else np.nan
        if r.free < 0 and vcov is not None:
            s_e = 0.0            # lavaan: fixed parameters have se 0
        if r.matrix == "S" and r.i == r.j and r.lhs in delta_resid and r.free < 0:
            value = delta_resid[r.lhs]
        if r.matrix == "A":
            std = value * sd_all[r.j] / sd_all[r.i] if sd_all[r.i] > 0 else np.nan
        elif r.matrix == "M" or r.matrix == "T":
            std = value / sd_all[r.i] if sd_all[r.i] > 0 else np.nan
        elif r.matrix == "D":
            std = value
        elif r.i == r.j:
            std = value / V[r.i, r.i] if V[r.i, r.i] > 0 else np.nan
        else:
            den = S_mat[r.i, r.i] * S_mat[r.j, r.j]
            std = value / np.sqrt(den) if den > 0 else np.nan
        recs.append(_row(r.lhs, r.op, r.rhs, r.label, value, s_e, z_crit, std))
        free_index.append(r.free)
    values = _defined_values(table, theta, _FUNCS)
    for dfn in spec.defined:
        d_est = float(values[dfn.name])
        s_e = np.nan
        if vcov is not None:
            Jd = _num_jacobian(lambda th, nm=dfn.name: float(_defined_values(table, th, _FUNCS)[nm]), theta)
            s_e = float(np.sqrt(max((Jd @ vcov @ Jd.T)[0, 0], 0.0)))
        recs.append(_row(dfn.name, ":=", dfn.expression, dfn.name, d_est, s_e, z_crit, np.nan))
        free_index.append(-1)
    estimates = tidy_estimates(pd.DataFrame(recs))
    endo = set(spec.endogenous)
    r2 = pd.Series({f: 1 - S_mat[ram.p + i, ram.p + i] / V[ram.p + i, ram.p + i]
                    for i, f in enumerate(ram.latent) if f in endo}, dtype=float)
    r2.index.name = "construct"
    effects = _effects(ram, theta, vcov)
    used = df_in[observed].apply(pd.to_numeric, errors="coerce")
    used = used[used.notna().all(axis=1)] if missing == "listwise" else used[used.notna().any(axis=1)]
    scores = pd.DataFrame(np.nan, index=used.index, columns=list(ram.latent))
    options = {"estimator": est, "ordered": tuple(observed), "missing": missing,
               "se": {"robust": "robust.sem", "standard": "standard", "none": "none"}[se],
               "test": "scaled.shifted" if est == "WLSMV" else "standard", "parameterization": "delta",
               "level": level, "group": None, "group_equal": (), "group_partial": (), "weights": None}
    return CbsemResults(
        spec=spec, method="cbsem", _estimates=estimates, _r2=r2, _effects=effects, _fit_indices=fit,
        _scores=scores, converged=bool(conv), n_iter=int(n_iter), message=message, n_obs=int(N),
        data_info=info, warnings=tuple(warn), options=options, _data=used.copy(), _scale_limits=limits,
        extra={"table": table, "ram": ram, "theta": theta.copy(), "vcov": vcov, "polychoric": pc,
               "implied_cor": _implied_matrix(sig, p, observed), "delta": Delta, "weights": w_all,
               "free_index": np.array(free_index), "npar": k, "groups": ("1",), "group_n": (int(N),)},
    )


def _implied_matrix(sig: np.ndarray, p: int, names: list[str]) -> pd.DataFrame:
    M = np.eye(p)
    for (j, i), v in zip(_pairs(p), sig):
        M[i, j] = M[j, i] = v
    return pd.DataFrame(M, index=names, columns=names)


def _fit_indices(chisq: float, df: int, chisq0: float, df0: int, N: int, npar: int, resid: np.ndarray,
                 p: int) -> pd.Series:
    """The standard test and indices (lavaan's RMSEA of these estimators uses N - 1)."""
    lo, hi = rmsea_ci(chisq, df, N - 1)
    values = {
        "chisq": chisq, "df": float(df), "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "cfi": cfi(chisq, df, chisq0, df0), "tli": tli(chisq, df, chisq0, df0),
        "rmsea": rmsea(chisq, df, N - 1), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": float(np.sqrt(np.sum(resid ** 2) / (p * (p + 1) / 2))), "aic": np.nan, "bic": np.nan,
    }
    out = pd.Series({key: float(values[key]) for key in FIT_INDEX_NAMES})
    extra = pd.Series({"baseline_chisq": chisq0, "baseline_df": float(df0), "logl": np.nan, "npar": float(npar)})
    return pd.concat([out, extra])


def _scaled(chisq: float, df: int, UG: np.ndarray, chisq0: float, df0: int, UG0: np.ndarray,
            N: int) -> pd.Series:
    """lavaan's scaled-shifted (mean-and-variance adjusted) test of the
    model and the baseline, and the indices from them."""
    def shift(x2, d, M):
        tr1 = float(np.trace(M))
        tr2 = float(np.sum(M * M.T))
        a = np.sqrt(d / tr2)
        return a * x2 + d - a * tr1, 1 / a, d - a * tr1

    x2s, c, b = shift(chisq, df, UG)
    x20s, c0, _ = shift(chisq0, df0, UG0)
    lo, hi = rmsea_ci(x2s, df, N - 1)
    return pd.Series({
        "chisq_scaled": x2s, "df_scaled": float(df), "pvalue_scaled": float(stats.chi2.sf(x2s, df)),
        "chisq_scaling_factor": c, "chisq_shift": b,
        "baseline_chisq_scaled": x20s, "baseline_df_scaled": float(df0),
        "baseline_pvalue_scaled": float(stats.chi2.sf(x20s, df0)), "baseline_chisq_scaling_factor": c0,
        "cfi_scaled": cfi(x2s, df, x20s, df0), "tli_scaled": tli(x2s, df, x20s, df0),
        "rmsea_scaled": rmsea(x2s, df, N - 1), "rmsea_ci_lower_scaled": lo, "rmsea_ci_upper_scaled": hi,
    }, dtype=float)
