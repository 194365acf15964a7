"""Where a CB-SEM model misfits: modification indices and residuals, as lavaan.

:func:`modification_indices` is lavaan's ``modindices()`` with its defaults:
every parameter lavaan's ``lav_partable_full`` considers and the model does
not already hold (loadings of every construct on every item, covariances of
item residuals, of construct (residual) variances, and regressions among the
variables that take part in regressions) is added with the value 0 to the
fitted model; with ``I`` the expected information of that extended model
per observation at the estimates and ``g`` the gradient of the
loglikelihood per observation, the score test of one added parameter is

    mi = N g^2 / v,   v = I_xx - I_xm I_mm^-1 I_mx,   epc = g / v

(``m``: the model's free parameters, ``x``: the added one; ``v`` below
``eps^(1/3)`` means the parameter is not identified, and it is left out).
``sepc_lv`` standardizes the expected change by the constructs' variances,
``sepc_all`` by every variable's, with covariances divided by the residual
standard deviations (lavaan ``cov.std = TRUE``).

:func:`residuals` is lavaan's ``residuals()`` / ``lavResiduals()``: the
sample (or, with FIML, the EM) moments minus the implied ones, raw, as
correlations (Bollen: each matrix by its own variances; Bentler: both by the
sample variances) or divided by their standard errors ("standardized").

Both read one fitted model through the engine that fitted it: the
parameter table (:mod:`csmlib.estimate.partable`) and its likelihood
(:class:`csmlib.estimate.ram.Likelihood`: implied moments, Delta, expected
information, gradient over the same data and missing-data patterns); the
modification indices evaluate that likelihood on the table extended by the
candidate parameters.  They never refit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import SpecError
from .partable import Param, ParTable
from .ram import Likelihood, RamModel
from .results import CbsemResults, Results
from .robust import (casewise_scores, crossprod, h1_expected_information, h1_observed_information,
                     missing_h1_observed_information, vech_index)

__all__ = ["modification_indices", "residuals", "RESIDUAL_TYPES"]

#: The ``type`` values of :func:`residuals`.
RESIDUAL_TYPES = ("raw", "cor.bollen", "cor.bentler", "standardized")


def _cb_results(results: object, what: str) -> CbsemResults:
    if isinstance(results, CbsemResults) and (results.options or {}).get("ordered"):
        raise SpecError(f"{what} of an ordered-item fit ({results.options.get('estimator')}) is not available",
                        values=[results.options.get("estimator")],
                        hint="inspect the residual correlations: results.extra['polychoric'].correlation "
                             "minus results.extra['implied_cor']")
    if not isinstance(results, CbsemResults) or "likelihood" not in results.extra:
        raise SpecError(f"{what} needs the result of csm.fit_cbsem",
                        values=[type(results).__name__],
                        hint="fit the model with csm.fit_cbsem(spec, data) first")
    return results


# ---------------------------------------------------------------------------
# modification indices
# ---------------------------------------------------------------------------
def _candidates(table: ParTable) -> list[tuple[int, str, str, str, Param | None]]:
    """lavaan's candidate parameters (``lav_partable_full``) that the model
    does not estimate, group by group: ``(group, lhs, op, rhs, row)`` with
    ``row`` the model's fixed row of that parameter (a marker loading, a
    covariance fixed to 0), or None for a parameter the model leaves out."""
    ov, lv = list(table.observed), list(table.latent)
    out = []
    for g in range(1, table.n_groups + 1):
        rows = table.group_rows(g)
        free, fixed = set(), {}
        for r in rows:
            keys = [(r.lhs, r.op, r.rhs)] + ([(r.rhs, r.op, r.lhs)] if r.op == "~~" else [])
            for key in keys:
                if r.free >= 0 or r.exo:
                    free.add(key)
                elif r.op in ("=~", "~~", "~"):
                    fixed[key] = r
        regs = [r for r in rows if r.op == "~"]
        eqs = list(dict.fromkeys([r.lhs for r in regs] + [r.rhs for r in regs]))
        full = [(f, "=~", x) for f in lv for x in ov if x not in eqs]
        for names in (ov, lv):
            full += [(names[c], "~~", names[r]) for c in range(len(names)) for r in range(c, len(names))]
        full += [(y, "~", x) for y in eqs for x in eqs if y != x and not (y in ov and x in lv)]
        # a covariate of fixed.x takes no covariance (the model syntax refuses one,
        # and lavaan lists none) and is no outcome (lavaan lists no ageyr ~ sex)
        exo = set(table.exogenous_x)
        full = [c for c in full if not ((c[1] == "~~" and (c[0] in exo or c[2] in exo))
                                        or (c[1] == "~" and c[0] in exo))]
        out += [(g, *c, fixed.get(c)) for c in full if c not in free]
    return out


def _extended(res: Results, cands: list) -> tuple[Likelihood, np.ndarray]:
    """The fit's likelihood (same data, same patterns) on its parameter table
    extended by the candidates (free parameters ``k, k + 1, ...``; a fixed
    row of the model becomes free at its value, a new one free at 0), and
    the extended parameter vector at the estimates."""
    table: ParTable = res.extra["table"]
    lik: Likelihood = res.extra["likelihood"]
    k, m = table.k, len(cands)
    names = table.observed + table.latent
    pos = {v: i for i, v in enumerate(names)}
    freed = {id(c[4]): k + i for i, c in enumerate(cands) if c[4] is not None}
    rows = [replace(r, free=freed[id(r)]) if id(r) in freed else r for r in table.rows]
    values = np.zeros(m)
    for i, (g, lhs, op, rhs, row) in enumerate(cands):
        if row is not None:
            values[i] = row.value
            continue
        if op == "=~":
            mat, a, b = "A", pos[rhs], pos[lhs]
        elif op == "~":
            mat, a, b = "A", pos[lhs], pos[rhs]
        else:
            mat, a, b = "S", pos[lhs], pos[rhs]
        rows.append(Param(len(table.rows) + i + 1, lhs, op, rhs, g, k + i, 0.0, "", "", mat, a, b, user=False))
    models = [RamModel(table.observed, table.latent, [r for r in rows if r.group == g], k=k + m)
              for g in range(1, table.n_groups + 1)]
    return Likelihood(models, lik.data, lik.meanstructure), np.concatenate([res.extra["theta"], values])


def modification_indices(results: Results, *, sort: bool = True) -> pd.DataFrame:
    """Modification indices of a CB-SEM fit (lavaan ``modindices()``).

    Parameters
    ----------
    results : Results
        A :func:`csmlib.fit_cbsem` result (any ML-based estimator, with or
        without survey weights, one or several groups; with FIML the
        expected information and the gradient are those of the incomplete
        data, the item intercepts among the model's parameters, as lavaan).
        The indices use the expected information, lavaan's default.
    sort : bool
        Largest index first (default); ``False`` keeps lavaan's order of the
        candidates (group by group: loadings, item covariances, construct
        covariances, regressions).

    Returns
    -------
    DataFrame
        Columns ``lhs, op, rhs, mi, epc, sepc_lv, sepc_all`` (after ``rhs``
        a ``group`` column, 1-based, for a multi-group fit): one row per
        parameter the model could free (also a fixed one, such as a marker
        loading held equal across groups), ``mi`` the expected drop of the
        chi-square (1 df) if it were freed, ``epc`` its expected change,
        ``sepc_lv`` / ``sepc_all`` that change standardized by the
        constructs' / all variables' variances.  Parameters that would not
        be identified are left out.  Never a respecification: read it with
        theory.

    Raises
    ------
    SpecError
        Not a CB-SEM result.
    """
    res = _cb_results(results, "modification_indices")
    table: ParTable = res.extra["table"]
    lik: Likelihood = res.extra["likelihood"]
    theta = res.extra["theta"]
    cands = _candidates(table)
    cols = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all"]
    if not cands:
        return pd.DataFrame({c: pd.Series(dtype=object if c in cols[:3] else float) for c in cols})
    ext, th = _extended(res, cands)
    _, g, info = ext.evaluate(th)
    n = ext.N
    g, info = g / n, info / n
    k = table.k
    v = np.diag(info[k:, k:] - info[k:, :k] @ np.linalg.solve(info[:k, :k], info[:k, k:]))
    v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
    gx = g[k:]
    mi = n * gx ** 2 / v
    epc = gx / v
    scales = [_scales(ram, theta) for ram in lik.models]
    sepc_lv, sepc_all = [], []
    for (grp, lhs, op, rhs, _), e in zip(cands, epc):
        sd_lv, sd_all, resid_sd = scales[grp - 1]
        if op == "~~":
            den = resid_sd[lhs] * resid_sd[rhs]
            both_lv = lhs in sd_lv and rhs in sd_lv
            sepc_all.append(e / den if den > 0 else np.nan)
            sepc_lv.append((e / den if den > 0 else np.nan) if both_lv else e)
        elif op == "=~":
            sepc_lv.append(e * sd_lv[lhs])
            sepc_all.append(e * sd_lv[lhs] / sd_all[rhs])
        else:
            sepc_lv.append(e * sd_lv.get(rhs, 1.0) / sd_lv.get(lhs, 1.0))
            sepc_all.append(e * sd_all[rhs] / sd_all[lhs])
    out = pd.DataFrame({"lhs": [c[1] for c in cands], "op": [c[2] for c in cands],
                        "rhs": [c[3] for c in cands], "group": [c[0] for c in cands], "mi": mi, "epc": epc,
                        "sepc_lv": sepc_lv, "sepc_all": sepc_all})
    out = out[out["mi"].notna()]
    if table.n_groups == 1:
        out = out.drop(columns="group")
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _scales(ram: RamModel, theta: np.ndarray) -> tuple[dict, dict, dict]:
    """Construct SDs, every variable's implied SD, residual SDs (sqrt of the
    ``~~`` variance parameters)."""
    V = ram.total_covariance(theta)
    _, Sm = ram.matrices(theta)
    sd = np.sqrt(np.clip(np.diag(V), 0, None))
    rsd = np.sqrt(np.clip(np.diag(Sm), 0, None))
    names = ram.names
    sd_all = dict(zip(names, sd))
    return ({f: sd_all[f] for f in ram.latent}, sd_all, dict(zip(names, rsd)))


# ---------------------------------------------------------------------------
# residuals
# ---------------------------------------------------------------------------
def _rescale(M: np.ndarray, var: np.ndarray) -> np.ndarray:
    """lavaan's ``lav_residuals_rescale`` of a covariance: divide by
    ``sqrt(var_i var_j)``, except entries below 1e-5 in absolute value."""
    scale = 1 / np.sqrt(np.outer(var, var))
    return np.where(np.abs(M) < 1e-5, M, M * scale)


def _rescale_mean(m: np.ndarray, var: np.ndarray) -> np.ndarray:
    return np.where(np.abs(m) < 1e-5, m, m / np.sqrt(var))


def residuals(results: Results, type: str = "raw") -> pd.DataFrame:  # noqa: A002 (lavaan's name)
    """Residuals of a CB-SEM fit (lavaan ``residuals(fit, type = ...)``).

    Parameters
    ----------
    results : Results
        A :func:`csmlib.fit_cbsem` result (one or several groups).
    type : {"raw", "cor.bollen", "cor.bentler", "standardized"}
        ``"raw"``: sample minus implied covariance (divisor N).
        ``"cor.bollen"``: sample correlation minus implied correlation.
        ``"cor.bentler"``: both covariances divided by the sample SDs.
        ``"standardized"``: raw residuals divided by their standard errors
        (lavaan's ``"standardized"``; residuals below 1e-5 are returned as
        they are).

    Returns
    -------
    DataFrame
        Long form, columns ``lhs, op, rhs, residual`` (after ``rhs`` a
        ``group`` column, 1-based, for a multi-group fit): one ``~~`` row
        per element of the lower triangle (diagonal included; ``lhs`` is
        the item that comes first in the model), and, when the model has a
        mean structure (FIML, several groups, or ``~ 1`` in the model), one
        ``~1`` row per item (``rhs`` empty) with the residual of its mean
        (sample or EM mean minus implied mean).

    Raises
    ------
    SpecError
        Unknown ``type``.
    """
    res = _cb_results(results, "residuals")
    if type not in RESIDUAL_TYPES:
        raise SpecError(f"type={type!r} is not one of {', '.join(RESIDUAL_TYPES)}", values=[type],
                        hint='use "raw", "cor.bollen", "cor.bentler" or "standardized"')
    lik: Likelihood = res.extra["likelihood"]
    table: ParTable = res.extra["table"]
    ms = lik.meanstructure
    h1 = list(zip(res.extra["sample_mean_groups"], res.extra["sample_cov_groups"]))
    implied = [(Sigma, mean if mu is None else mu)
               for (Sigma, mu), (mean, _) in zip(lik.implied(res.extra["theta"]), h1)]
    ses = _residual_se(res, h1, implied) if type == "standardized" else None
    items = list(table.observed)
    r, c = vech_index(len(items))
    frames = []
    for g, ((mean_obs, S), (Sigma, mu)) in enumerate(zip(h1, implied)):
        var_obs, var_est = np.diag(S), np.diag(Sigma)
        if type == "cor.bentler":
            R, m = _rescale(S, var_obs) - _rescale(Sigma, var_obs), \
                _rescale_mean(mean_obs, var_obs) - _rescale_mean(mu, var_obs)
        elif type == "cor.bollen":
            R, m = _rescale(S, var_obs) - _rescale(Sigma, var_est), \
                _rescale_mean(mean_obs, var_obs) - _rescale_mean(mu, var_obs)
        else:
            R, m = S - Sigma, mean_obs - mu
        if ses is not None:
            raw = np.concatenate([m, R[r, c]]) if ms else R[r, c]
            with np.errstate(divide="ignore", invalid="ignore"):   # a covariate's own moments: SE 0
                z = np.where(np.abs(raw) < 1e-5, raw, raw / ses[g])
            if ms:
                m, z = z[: len(m)], z[len(m):]
            R = np.zeros_like(R)
            R[r, c] = z
            R[c, r] = z
        out = pd.DataFrame({"lhs": [items[j] for j in c], "op": "~~", "rhs": [items[i] for i in r],
                            "residual": R[r, c]})
        if ms:
            out = pd.concat([out, pd.DataFrame({"lhs": items, "op": "~1", "rhs": "", "residual": m})],
                            ignore_index=True)
        if table.n_groups > 1:
            out.insert(3, "group", g + 1)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def _fixed_x_elements(table: ParTable, meanstructure: bool) -> np.ndarray:
    """Positions, in the moment vector (means first with a mean structure,
    then ``vech`` of the covariance), of the moments of the covariates of
    ``fixed.x`` alone: their means, variances and covariances among them."""
    p = len(table.observed)
    x = {table.observed.index(v) for v in table.exogenous_x}
    r, c = vech_index(p)
    cov_el = [k for k, (i, j) in enumerate(zip(r, c)) if i in x and j in x]
    if meanstructure:
        return np.array(sorted(x) + [p + k for k in cov_el], dtype=int)
    return np.array(cov_el, dtype=int)


def _residual_se(res: Results, h1: list, implied: list) -> list[np.ndarray]:
    """Standard errors of the raw residuals of each group (lavaan
    ``lav_residuals_acov`` with ``z.type = "standardized"``): ``Q_g ACOV_g
    Q_g'`` with ``Q_g = I - f_g Delta_g A0^-1 Delta_g' A1_g``, ``f_g = n_g /
    N``, ``A1_g`` the information of the unrestricted model at the implied
    moments (expected for ML and MLM, observed for MLR and FIML), ``A0 =
    sum_g f_g Delta_g' A1_g Delta_g`` and ``ACOV_g`` the covariance of the
    group's sample (EM) moments (its sandwich for robust fits).  With a
    mean structure the means come first."""
    lik: Likelihood = res.extra["likelihood"]
    table: ParTable = res.extra["table"]
    theta = res.extra["theta"]
    n = lik.N
    ms = lik.meanstructure
    estimator = res.options.get("estimator", "ML")
    fiml = res.options.get("missing") == "fiml"
    parts = []
    A0 = np.zeros((lik.k, lik.k))
    for g, ((mean, S), (Sigma, mu)) in enumerate(zip(h1, implied)):
        X, w = lik.group_data(g)
        n_g = lik.n_obs[g]
        Delta = lik.delta(theta, g)
        if fiml:
            W_h1 = missing_h1_observed_information(X, mean, S, w)
            A1 = missing_h1_observed_information(X, mu, Sigma, w)
        else:
            W_h1 = h1_expected_information(S, meanstructure=ms)
            A1 = (h1_expected_information(Sigma, meanstructure=ms) if estimator in ("ML", "MLM")
                  else h1_observed_information(S, mean, Sigma, mu, meanstructure=ms))
        x_el = _fixed_x_elements(table, ms)
        if len(x_el):
            # fixed.x: the covariates' moments are no sample statistics to explain
            # (lavaan's h1 information has their rows and columns 0)
            W_h1, A1 = W_h1.copy(), A1.copy()
            for M in (W_h1, A1):
                M[x_el, :] = 0.0
                M[:, x_el] = 0.0
            keep = np.setdiff1d(np.arange(len(W_h1)), x_el)
            Wi = np.zeros_like(W_h1)
            Wi[np.ix_(keep, keep)] = np.linalg.inv(W_h1[np.ix_(keep, keep)])
        else:
            Wi = np.linalg.inv(W_h1)
        if estimator == "ML":
            acov_h1 = Wi / n_g
        else:
            B1 = crossprod(casewise_scores(X, mean, S, w, meanstructure=ms), n_g)
            acov_h1 = Wi @ B1 @ Wi / n_g
        A0 += n_g / n * Delta.T @ A1 @ Delta
        parts.append((n_g, Delta, A1, acov_h1))
    A0_inv = np.linalg.pinv(A0)
    out = []
    for n_g, Delta, A1, acov_h1 in parts:
        Q = np.eye(len(Delta)) - n_g / n * Delta @ A0_inv @ Delta.T @ A1
        v = np.diag(Q @ acov_h1 @ Q.T)
        out.append(np.sqrt(np.where(v >= 0, v, np.nan)))
    return out
