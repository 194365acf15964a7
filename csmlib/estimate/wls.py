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
  statistics, ``rmsea`` and ``rmsea_scaled`` with N - G (the sum of
  N_g - 1) as lavaan for these estimators, times sqrt(G); ``srmr`` the root mean square of the correlation residuals
  over the p (p + 1) / 2 elements with the diagonal (lavaan's ``srmr`` of
  an ordered model, ``srmr_bentler_nomean``).

Several groups (``group=``, ``group_equal=`` with ``"thresholds"``): each
group has its own sample statistics; the discrepancy is ``sum_g (N_g - 1)
r_g' W_g r_g`` and the covariance of the estimates and the scaled test come
from the groups' blocks stacked (lavaan's "N - 1" scaling per group).  The
model's thresholds and correlations in group g are ``delta_i (tau - mu_i)``
and ``delta_i delta_j Sigma_ij`` with ``mu`` the implied means (construct
means, free in groups 2.. once thresholds are equal) and ``delta`` the
scaling factors (likewise free).

Continuous indicators next to ordered ones (``ordered=[...]`` naming only
some items): their means (lavaan's statistic is minus the mean) and
variances join the thresholds, their covariances with other items the
correlations (Pearson and polyserial, on the covariance scale), as lavaan;
their intercepts and residual variances are parameters.

Supported: ordered items with 2 to 10 categories (the same number in every
group) and continuous indicators, ``missing="listwise"`` or ``"pairwise"``
(ordered items only).  Continuous variables that are no indicators, survey
weights, ``group_partial`` and fixed covariates are refused with a
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
from .ram import RamModel, invert_information
from .results import FIT_INDEX_NAMES, CbsemResults, tidy_estimates

__all__ = ["WLS_ESTIMATORS", "fit_ordered", "ordered_items", "scaled_difference"]

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


class _Group:
    """One group's sample statistics and model: thresholds (and minus the
    means of continuous items), variances of continuous items and
    correlations ``s`` (lavaan's order), ``Gamma``, the weights ``w``
    (diagonal of W), and the covariance structure of the group's rows of
    the table.  ``T`` is where the pairs start in ``s``."""

    def __init__(self, table: ParTable, g: int, pc: Polychoric, estimator: str) -> None:
        self.pc = pc
        self.n = pc.n_obs
        self.s = pc.sample_statistics.to_numpy()
        self.gamma = pc.gamma.to_numpy()
        self.w = 1 / np.diag(self.gamma) if estimator != "ULS" else np.ones(len(self.s))
        rows = table.group_rows(g)
        self.rows = rows
        self.ram = RamModel(table.observed, table.latent, [r for r in rows if r.matrix in ("A", "S", "M")],
                            k=table.k)
        self.p = len(table.observed)
        self.pairs = _pairs(self.p)
        numeric = set(pc.numeric)
        by_item = {}
        for r in rows:
            if r.op == "|":
                by_item.setdefault(r.i, []).append(r)
        self.th_rows, th_pos, mean_i, mean_pos = [], [], [], []
        at = 0
        for i, x in enumerate(table.observed):
            if x in numeric:
                mean_i.append(i)
                mean_pos.append(at)
                at += 1
            else:
                for r in by_item.get(i, []):
                    self.th_rows.append(r)
                    th_pos.append(at)
                    at += 1
        self.th_pos = np.array(th_pos, dtype=int)
        self.mean_i = np.array(mean_i, dtype=int)
        self.mean_pos = np.array(mean_pos, dtype=int)
        self.var_pos = at + np.arange(len(mean_i))
        self.T = at + len(mean_i)
        self.delta_rows = {r.i: r for r in rows if r.op == "~*~"}
        self.k = table.k

    def deltas(self, theta: np.ndarray) -> np.ndarray:
        """The scaling factors (1 for continuous items)."""
        dl = np.ones(self.p)
        for i, r in self.delta_rows.items():
            dl[i] = theta[r.free] if r.free >= 0 else r.value
        return dl

    def model(self, theta: np.ndarray, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Implied statistics in the order of ``s``: thresholds ``delta_i
        (tau - mu_i)``, minus the means and the variances of continuous
        items, and ``delta_i delta_j Sigma_ij``; and their Jacobian
        (statistics x k)."""
        ram = self.ram
        if jacobian:
            Sigma, dS = ram.jacobian(theta)
        else:
            Sigma, dS = ram.implied(theta), None
        mu = ram.implied_mean(theta)
        dl = self.deltas(theta)
        ii = np.array([i for _, i in self.pairs], dtype=int)
        jj = np.array([j for j, _ in self.pairs], dtype=int)
        tau = np.array([theta[r.free] if r.free >= 0 else r.value for r in self.th_rows])
        ti = np.array([r.i for r in self.th_rows], dtype=int)
        sig = np.empty(self.T + len(self.pairs))
        sig[self.th_pos] = dl[ti] * (tau - mu[ti])
        sig[self.mean_pos] = -mu[self.mean_i]
        sig[self.var_pos] = Sigma[self.mean_i, self.mean_i]
        sig[self.T:] = dl[ii] * dl[jj] * Sigma[ii, jj]
        if not jacobian:
            return sig, None
        D = np.zeros((len(sig), self.k))
        dmu = ram.mean_jacobian(theta)                                # (k, p)
        D[self.th_pos] = -(dl[ti][:, None] * dmu[:, ti].T)
        for q, r in zip(self.th_pos, self.th_rows):
            if r.free >= 0:
                D[q, r.free] += dl[r.i]
        D[self.mean_pos] = -dmu[:, self.mean_i].T
        D[self.var_pos] = dS[:, self.mean_i, self.mean_i].T
        D[self.T:] = (dl[ii] * dl[jj])[:, None] * dS[:, ii, jj].T
        for i, r in self.delta_rows.items():
            if r.free < 0:
                continue
            on = ti == i
            D[self.th_pos[on], r.free] += tau[on] - mu[i]
            for q, (j, i2) in enumerate(self.pairs):
                if i2 == i:
                    D[self.T + q, r.free] += dl[j] * Sigma[i2, j]
                elif j == i:
                    D[self.T + q, r.free] += dl[i2] * Sigma[i2, j]
        return sig, D


def _estimate(groups: list[_Group], theta0: np.ndarray, free: np.ndarray,
              max_iter: int = 500) -> tuple[np.ndarray, bool, int]:
    """Gauss-Newton with step halving on ``sum_g (N_g - 1) r_g' W_g r_g``."""
    theta = theta0.copy()

    def objective(th):
        f, parts = 0.0, []
        for gr in groups:
            sig, D = gr.model(th)
            r = gr.s - sig
            f += (gr.n - 1) * float(r @ (gr.w * r))
            parts.append((r, D))
        return f, parts

    def normal_equations(parts):
        A = np.zeros((len(free), len(free)))
        g = np.zeros(len(free))
        for gr, (r, D) in zip(groups, parts):
            Dc = D[:, free]
            A += (gr.n - 1) * Dc.T @ (gr.w[:, None] * Dc)
            g += (gr.n - 1) * Dc.T @ (gr.w * r)
        return A, g

    f, parts = objective(theta)
    for it in range(1, max_iter + 1):
        A, g = normal_equations(parts)
        try:
            step = np.linalg.solve(A, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(A, g, rcond=None)[0]
        t = 1.0
        for _ in range(40):
            cand = theta.copy()
            cand[free] += t * step
            f_new, parts_new = objective(cand)
            if np.isfinite(f_new) and f_new <= f + 1e-14 * max(1.0, f):
                break
            t /= 2
        else:
            return theta, False, it
        theta, f, parts = cand, f_new, parts_new
        if np.max(np.abs(t * step)) < 1e-9:
            _, g = normal_equations(parts)
            n_total = sum(gr.n for gr in groups)
            return theta, bool(np.max(np.abs(g)) / n_total < 1e-8), it
    return theta, False, max_iter


def fit_ordered(
    spec: ModelSpec,
    data: Any,
    *,
    estimator: str,
    ordered: Any,
    missing: str = "listwise",
    level: float = 0.95,
    se: str = "default",
    group: str | None = None,
    group_equal: Sequence[str] = (),
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
    group : str, optional
        A grouping column: a multi-group fit (groups in lavaan's order).
    group_equal : sequence of str
        lavaan's ``group.equal`` classes; ``"thresholds"`` frees the
        scaling factors and construct means of groups 2, 3, ... (lavaan
        0.6.14's delta parameterization).

    Returns
    -------
    CbsemResults
        As :func:`csmlib.fit_cbsem`: ``estimates`` (with thresholds ``x |
        t1``, the ordered items' residual variances ``x ~~ x`` (fixed, 1
        minus their R-squared), scaling factors ``x ~*~ x`` and intercepts
        ``x ~1`` as lavaan lists them; a ``group`` column with several
        groups), ``fit_indices`` (``chisq, df, pvalue, cfi, tli, rmsea,
        rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic, baseline_chisq,
        baseline_df, logl, npar``; WLSMV adds ``chisq_scaled, df_scaled,
        pvalue_scaled, chisq_scaling_factor, chisq_shift,
        baseline_chisq_scaled, baseline_df_scaled, baseline_pvalue_scaled,
        baseline_chisq_scaling_factor, cfi_scaled, tli_scaled,
        rmsea_scaled, rmsea_ci_lower_scaled, rmsea_ci_upper_scaled``; aic,
        bic and logl are NaN: there is no likelihood), ``r2`` by endogenous
        construct (by group and construct with groups), ``effects``;
        ``scores`` are not computed (NaN).  ``extra`` holds ``table``,
        ``ram`` (group 1), ``theta``, ``vcov``, ``polychoric`` (group 1's
        :class:`~csmlib.estimate.polychoric.Polychoric`; every group's
        under ``polychoric_groups``), ``implied_cor``, ``delta``,
        ``weights``.
    """
    from .cbsem import solution_tables

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
    unknown = [x for x in items if x not in observed]
    if unknown:
        raise SpecError("ordered items that are not variables of the model: " + ", ".join(unknown),
                        values=unknown, hint="name observed items of the model in ordered=")
    continuous = [x for x in observed if x not in items]
    indicators = {x for c in spec.constructs for x in c.indicators if x != c.name}
    loose = [x for x in continuous if x not in indicators]
    if loose:
        raise SpecError("continuous variables that are no indicators of a construct, in a model of ordered "
                        "items, are not available: " + ", ".join(loose), values=loose,
                        hint="measure them by single-item constructs ('F =~ x'), or fit the model by ML/MLR")
    if continuous and group is not None:
        raise SpecError("continuous items next to ordered ones in a multi-group fit are not available: "
                        + ", ".join(continuous), values=continuous,
                        hint="treat every item as ordered (ordered=True) for the multi-group fit")
    if check.exogenous_x:
        raise SpecError("observed covariates (fixed.x) in a model of ordered items are not available: "
                        + ", ".join(check.exogenous_x), values=list(check.exogenous_x),
                        hint="measure the covariates by single-item constructs, or fit the model by ML/MLR")
    df_in, file, limits = input_frame(data, "fit_cbsem")
    absent = [x for x in observed if x not in set(map(str, df_in.columns))]
    if absent:
        raise SpecError(f"{len(absent)} variable(s) of the model are not columns of the data", file=file,
                        column=absent, hint="rename the columns in the data or the items in the model")
    if group is not None and group not in df_in.columns:
        raise DataError(f"the grouping column {group!r} is missing from the data", file=file, column=[group],
                        hint="check the group argument against the column names")
    check_answered(df_in, spec, file)
    rows_read = len(df_in)
    if group is None:
        blocks = [("1", df_in)]
    else:
        from .cbsem import _GROUP, _group_blocks

        keep = df_in[group].notna()
        blocks = _group_blocks(df_in[keep].assign(**{_GROUP: df_in.loc[keep, group]}))
        if len(blocks) < 2:
            raise DataError("the grouping column has fewer than two groups", file=file, column=[group],
                            hint="a multi-group comparison needs at least two groups")
    pcs = [polychoric(b, observed, missing=missing, continuous=continuous) for _, b in blocks]
    for (name, _), pc in zip(blocks[1:], pcs[1:]):
        differ = [x for x in observed if len(pc.levels[x]) != len(pcs[0].levels[x])]
        if differ:
            raise DataError(f"item(s) have a different number of answered categories in group {name!r} "
                            f"than in group {blocks[0][0]!r}: thresholds cannot be compared",
                            file=file, column=differ,
                            hint="merge rare categories (recode) so that every group uses every category")
    N = sum(pc.n_obs for pc in pcs)
    G = len(blocks)
    no_group = 0 if group is None else int(df_in[group].isna().sum())
    dropped = {"group missing": no_group} if no_group else {}
    lost = rows_read - no_group - N
    if lost:
        dropped["missing values (listwise deletion)" if missing == "listwise" else "all items missing"] = lost
    info: dict[str, Any] = {"rows_read": rows_read, "rows_used": N, "dropped": dropped}
    if G > 1:
        info["groups"] = {name: pc.n_obs for (name, _), pc in zip(blocks, pcs)}
    th_start = {x: pcs[0].thresholds.loc[pcs[0].thresholds["item"] == x, "est"].to_numpy() for x in items}
    table = build_partable(spec, G, ordered=th_start, group_equal=group_equal,
                           moments=[_start_moments(pc, observed) for pc in pcs])
    k = table.k
    groups = [_Group(table, g + 1, pc, est) for g, pc in enumerate(pcs)]
    m = sum(len(gr.s) for gr in groups)
    if m - k < 0:
        raise EstimationError(f"the model has {k} free parameters but only {m} sample statistics: "
                              "it is not identified", values=[k, m], hint="simplify the model")
    theta0 = np.full(k, np.nan)
    for r in table.rows:
        if r.free >= 0 and np.isnan(theta0[r.free]):
            theta0[r.free] = r.value
    for gr in groups:        # thresholds start at the group's sample thresholds
        for q, r in zip(gr.th_pos, gr.th_rows):
            if r.free >= 0:
                theta0[r.free] = gr.s[q]
    free = np.arange(k)
    theta, conv, n_iter = _estimate(groups, theta0, free)
    warn: list[str] = []
    message = f"{est} by Gauss-Newton on the polychoric correlations ({n_iter} iterations)"
    if not conv:
        message = f"estimation did not converge after {n_iter} iterations; the estimates are not trustworthy"
        warn.append(message)
        warnings.warn(message, EstimationWarning, stacklevel=3)
    models = [gr.model(theta) for gr in groups]
    # everything per group with N_g - 1 (lavaan 0.6.14's scaling of these estimators)
    Wj = np.concatenate([(gr.n - 1) * gr.w for gr in groups])
    Gj = _block_diag([gr.gamma / (gr.n - 1) for gr in groups])
    Delta = np.vstack([D for _, D in models])
    A = Delta.T @ (Wj[:, None] * Delta)
    vcov = None
    U_Gamma = None
    try:
        A_inv = invert_information(A)
        WD = Wj[:, None] * Delta
        if se == "robust":
            vcov = A_inv @ (WD.T @ Gj @ WD) @ A_inv
        elif se == "standard":
            vcov = A_inv
        U_Gamma = (np.diag(Wj) - WD @ A_inv @ WD.T) @ Gj
    except np.linalg.LinAlgError:
        msg = "the information matrix is singular: the model is not identified; standard errors are not available"
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=3)
    # fit: the model, and the baseline (thresholds free, no correlation) in every group
    df = m - k
    chisq = sum((gr.n - 1) * float((gr.s - sig) @ (gr.w * (gr.s - sig))) for gr, (sig, _) in zip(groups, models))
    chisq0 = sum((gr.n - 1) * float(gr.s[gr.T:] @ (gr.w[gr.T:] * gr.s[gr.T:])) for gr in groups)
    df0 = sum(len(gr.pairs) for gr in groups)
    srmr_value = sum(gr.n / N * _srmr(gr, sig) for gr, (sig, _) in zip(groups, models))
    fit = _fit_indices(chisq, df, chisq0, df0, N, k, srmr_value, G)
    if est == "ULS":
        fit["pvalue"] = np.nan   # lavaan: the ULS statistic has no chi-square distribution
    if est == "WLSMV" and U_Gamma is not None:
        UG0 = _block_diag([gr.gamma[gr.T:, gr.T:] * gr.w[gr.T:, None] for gr in groups])
        fit = pd.concat([fit, _scaled(chisq, df, U_Gamma, chisq0, df0, UG0, N, G)])
    # residual variances of the ordered items: 1 / delta^2 - explained (delta parameterization)
    resid = []
    for g, gr in enumerate(groups):
        # continuous items: their residual variance parameter
        resid.append(np.where([x in gr.pc.numeric for x in observed], np.diag(gr.ram.matrices(theta)[1])[:gr.p],
                              1.0 / gr.deltas(theta) ** 2 - np.diag(gr.ram.implied(theta))))
        where = f" in group {g + 1}" if G > 1 else ""
        for i in np.flatnonzero(resid[-1] < 0):
            msg = (f"Heywood case: the residual variance of the ordered item {observed[i]!r} is "
                   f"negative ({resid[-1][i]:.4g}){where}")
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=3)
    for r in table.rows:
        if r.matrix == "S" and r.i == r.j and r.free >= 0 and theta[r.free] < 0:
            where = f" in group {r.group}" if G > 1 else ""
            msg = f"Heywood case: the variance {r.lhs} ~~ {r.rhs} is negative ({theta[r.free]:.4g}){where}"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=3)
    estimates, r2, effects, free_index = solution_tables(spec, table, [gr.ram for gr in groups], theta, vcov,
                                                         level, observed_variances=resid, fixed_se=0.0)
    used = pd.concat([b[observed] for _, b in blocks]).apply(pd.to_numeric, errors="coerce")
    used = used[used.notna().all(axis=1)] if missing == "listwise" else used[used.notna().any(axis=1)]
    scores = pd.DataFrame(np.nan, index=used.index, columns=list(groups[0].ram.latent))
    options = {"estimator": est, "ordered": tuple(x for x in observed if x in items), "missing": missing,
               "se": {"robust": "robust.sem", "standard": "standard", "none": "none"}[se],
               "test": "scaled.shifted" if est == "WLSMV" else "standard", "parameterization": "delta",
               "level": level, "group": group, "group_equal": tuple(group_equal), "group_partial": (),
               "weights": None}
    return CbsemResults(
        spec=spec, method="cbsem", _estimates=estimates, _r2=r2, _effects=effects, _fit_indices=fit,
        _scores=scores, converged=bool(conv), n_iter=int(n_iter), message=message, n_obs=int(N),
        data_info=info, warnings=tuple(warn), options=options, _data=used.copy(), _scale_limits=limits,
        extra={"table": table, "ram": groups[0].ram, "theta": theta.copy(), "vcov": vcov,
               "polychoric": pcs[0], "polychoric_groups": tuple(pcs),
               "implied_cor": _implied_matrix(models[0][0][groups[0].T:], groups[0].p, observed),
               "delta": Delta, "weights": Wj, "wls_weights_groups": tuple(gr.w for gr in groups),
               "free_index": np.array(free_index), "npar": k,
               "groups": tuple(b[0] for b in blocks), "group_n": tuple(pc.n_obs for pc in pcs)},
    )


def _start_moments(pc: Polychoric, observed: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances for the table's start values: 0 and the
    correlations for ordered items, the sample moments of continuous ones."""
    sd = np.array([np.sqrt(pc.variances[x]) if x in pc.numeric else 1.0 for x in observed])
    mean = np.array([pc.means[x] if x in pc.numeric else 0.0 for x in observed])
    return mean, pc.correlation.to_numpy() * np.outer(sd, sd)


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    n = sum(b.shape[0] for b in blocks)
    out = np.zeros((n, n))
    at = 0
    for b in blocks:
        out[at:at + b.shape[0], at:at + b.shape[0]] = b
        at += b.shape[0]
    return out


def _srmr(gr: "_Group", sig: np.ndarray) -> float:
    """Root mean square of the standardized residuals over the p (p + 1) / 2
    elements with the diagonal (zero for ordered items): covariances divided
    by the sample standard deviations of continuous items (1 for ordered)."""
    pc, p = gr.pc, gr.p
    items = list(pc.correlation.columns)
    sd = np.array([np.sqrt(pc.variances[x]) if x in pc.numeric else 1.0 for x in items])
    ii = np.array([i for _, i in gr.pairs], dtype=int)
    jj = np.array([j for j, _ in gr.pairs], dtype=int)
    off = (gr.s[gr.T:] - sig[gr.T:]) / (sd[ii] * sd[jj])
    diag = (gr.s[gr.var_pos] - sig[gr.var_pos]) / sd[gr.mean_i] ** 2
    return float(np.sqrt((np.sum(off ** 2) + np.sum(diag ** 2)) / (p * (p + 1) / 2)))


def _implied_matrix(sig: np.ndarray, p: int, names: list[str]) -> pd.DataFrame:
    M = np.eye(p)
    for (j, i), v in zip(_pairs(p), sig):
        M[i, j] = M[j, i] = v
    return pd.DataFrame(M, index=names, columns=names)


def _fit_indices(chisq: float, df: int, chisq0: float, df0: int, N: int, npar: int, srmr_value: float,
                 G: int) -> pd.Series:
    """The standard test and indices (lavaan's RMSEA of these estimators
    uses the sum of N_g - 1, times sqrt(G))."""
    lo, hi = rmsea_ci(chisq, df, N - G, groups=G)
    values = {
        "chisq": chisq, "df": float(df), "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "cfi": cfi(chisq, df, chisq0, df0), "tli": tli(chisq, df, chisq0, df0),
        "rmsea": rmsea(chisq, df, N - G, G), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": srmr_value, "aic": np.nan, "bic": np.nan,
    }
    out = pd.Series({key: float(values[key]) for key in FIT_INDEX_NAMES})
    extra = pd.Series({"baseline_chisq": chisq0, "baseline_df": float(df0), "logl": np.nan, "npar": float(npar)})
    return pd.concat([out, extra])


def _scaled(chisq: float, df: int, UG: np.ndarray, chisq0: float, df0: int, UG0: np.ndarray,
            N: int, G: int) -> pd.Series:
    """lavaan's scaled-shifted (mean-and-variance adjusted) test of the
    model and the baseline, and the indices from them."""
    def shift(x2, d, M):
        tr1 = float(np.trace(M))
        tr2 = float(np.sum(M * M.T))
        a = np.sqrt(d / tr2)
        # a just-identified model (df 0) has no scaling factor (lavaan: NA)
        return a * x2 + d - a * tr1, 1 / a if a > 0 else np.nan, d - a * tr1

    x2s, c, b = shift(chisq, df, UG)
    x20s, c0, _ = shift(chisq0, df0, UG0)
    lo, hi = rmsea_ci(x2s, df, N - G, groups=G)
    return pd.Series({
        "chisq_scaled": x2s, "df_scaled": float(df), "pvalue_scaled": float(stats.chi2.sf(x2s, df)),
        "chisq_scaling_factor": c, "chisq_shift": b,
        "baseline_chisq_scaled": x20s, "baseline_df_scaled": float(df0),
        "baseline_pvalue_scaled": float(stats.chi2.sf(x20s, df0)), "baseline_chisq_scaling_factor": c0,
        "cfi_scaled": cfi(x2s, df, x20s, df0), "tli_scaled": tli(x2s, df, x20s, df0),
        "rmsea_scaled": rmsea(x2s, df, N - G, G), "rmsea_ci_lower_scaled": lo, "rmsea_ci_upper_scaled": hi,
    }, dtype=float)


def scaled_difference(m1: CbsemResults, m0: CbsemResults) -> dict[str, float]:
    """The scaled-shifted chi-square difference test of two nested ordered
    fits, as lavaan's ``lavTestLRT`` for WLSMV (``method = "satorra.2000"``,
    ``scaled.shifted = TRUE``, ``A.method = "delta"``).

    ``m1`` is the less restricted fit, ``m0`` the more restricted one, on
    the same data and groups.  With ``Delta1``, ``Delta0`` the fits'
    Jacobians of the sample statistics (groups stacked), ``A`` spans the
    orthogonal complement of ``pinv(Delta1) Delta0`` (the directions the
    restriction removes); with ``P = sum_g f_g Delta1_g' W_g Delta1_g``
    (``f_g = N_g / N``), ``U = W Delta1 P^-1 A' (A P^-1 A')^+ A P^-1 Delta1' W``
    and ``Gamma`` the groups' NACOV times ``f_g``:
    ``a = sqrt(m / tr((U Gamma)^2))``, ``b = m - a tr(U Gamma)`` and the
    statistic ``a (T0 - T1) + b`` on ``m = df0 - df1`` degrees of freedom
    (``T`` the unscaled statistics).

    Returns
    -------
    dict
        ``delta_chisq`` (the scaled-shifted difference), ``delta_df``,
        ``pvalue``.
    """
    for res in (m1, m0):
        if not isinstance(res, CbsemResults) or not (res.options or {}).get("ordered"):
            raise SpecError("scaled_difference needs two ordered-item fits (csm.fit_cbsem with ordered=)",
                            hint="fit both models with estimator='WLSMV' and ordered=True")
    f1, f0 = m1.fit_indices, m0.fit_indices
    if f1["df"] > f0["df"]:
        m1, m0, f1, f0 = m0, m1, f0, f1
    m = int(round(f0["df"] - f1["df"]))
    if m == 0:
        return {"delta_chisq": float(f0["chisq"] - f1["chisq"]), "delta_df": 0.0, "pvalue": float("nan")}
    D1, D0 = m1.extra["delta"], m0.extra["delta"]
    if D1.shape[0] != D0.shape[0]:
        raise SpecError("the two fits do not have the same sample statistics (items, groups)",
                        hint="compare fits of the same data and items")
    H = np.linalg.pinv(D1) @ D0
    Q, R = np.linalg.qr(H, mode="complete")
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-8 * max(1.0, np.abs(R).max()))) if R.size else 0
    A = Q[:, rank:].T
    ns = np.array(m1.extra["group_n"], dtype=float)
    fg = ns / ns.sum()
    ws = m1.extra["wls_weights_groups"]
    gammas = [pc.gamma.to_numpy() for pc in m1.extra["polychoric_groups"]]
    sizes = [len(w) for w in ws]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    P = sum(f * D1[a:b].T @ (w[:, None] * D1[a:b]) for f, w, a, b in zip(fg, ws, starts[:-1], starts[1:]))
    P_inv = np.linalg.inv(P)
    APA = A @ P_inv @ A.T
    keep = ~((np.abs(APA.sum(axis=0)) < np.sqrt(np.finfo(float).eps))
             & (np.abs(APA.sum(axis=1)) < np.sqrt(np.finfo(float).eps)))
    A = A[keep]
    PAAPAAP = P_inv @ A.T @ np.linalg.pinv(A @ P_inv @ A.T) @ A @ P_inv
    V = np.concatenate(ws)
    U = (V[:, None] * D1) @ PAAPAAP @ (D1.T * V[None, :])
    UG = U @ _block_diag([f * g for f, g in zip(fg, gammas)])
    a = np.sqrt(m / float(np.sum(UG * UG.T)))
    b = m - a * float(np.trace(UG))
    T = (f0["chisq"] - f1["chisq"]) * a + b
    return {"delta_chisq": float(T), "delta_df": float(m), "pvalue": float(stats.chi2.sf(T, m))}
