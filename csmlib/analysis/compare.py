"""Compare competing models fitted to the same data.

:func:`compare_models` puts CB-SEM fits side by side and tests nested pairs
as lavaan's ``lavTestLRT`` does: the models are ordered by their degrees of
freedom and each is tested against the one before it (the less restricted
model), by the chi-square difference under ML and by the scaled difference
of Satorra & Bentler (2001) under MLM and MLR (lavaan's default method for
those tests).  The difference ``T0 - T1`` of two nested models is divided by

    c_d = (df0 * c0 - df1 * c1) / (df0 - df1)

with ``c0``, ``c1`` the models' chi-square scaling factors (``c1 = 1`` for a
saturated model), and referred to chi-square on ``df0 - df1`` degrees of
freedom.

A likelihood-ratio test is only valid when the restricted model is a special
case of the other.  lavaan assumes it; here it is checked by the nesting and
equivalence test of Bentler & Satorra (2010), as semTools' ``net()`` does:
the less restricted model is fitted to the *implied* moments of the more
restricted one (data with exactly those means and covariances, the same
groups and sizes).  When it reproduces them (chi-square below ``1e-4``,
semTools' criterion) the restricted model lies inside it: nested.  When it
does not, the pair is not nested and the test is refused.  Clear non-nested
cases are refused before that: fits of different data, of different
observed variables or groups, under different estimators, or with equal
degrees of freedom.  Refused pairs keep their row in the table (every
model's fit is still reported) with the reason in ``note``.

References: Satorra, A. & Bentler, P. M. (2001), Psychometrika 66, 507-514;
Bentler, P. M. & Satorra, A. (2010), Psychological Methods 15, 111-123.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecError
from ..estimate.results import Results

__all__ = ["compare_models", "nesting_check", "scaled_difference", "NET_CRITERION", "CB_COLUMNS"]

#: Chi-square below which a model reproduces another's implied moments (semTools ``net``).
NET_CRITERION = 1e-4
#: Columns of :func:`compare_models` for CB-SEM fits.
CB_COLUMNS = ("model", "estimator", "n", "npar", "chisq", "df", "chisq_pvalue", "aic", "bic", "cfi",
              "tli", "rmsea", "srmr", "chisq_scaled", "scaling_factor", "chisq_diff", "df_diff",
              "pvalue", "rmsea_diff", "test", "nested", "note")


def _names(fits: Sequence[Results], names: Sequence[str] | None) -> list[str]:
    if names is None:
        return [f"model {i + 1}" for i in range(len(fits))]
    names = [str(n) for n in names]
    if len(names) != len(fits):
        raise SpecError(f"{len(names)} names for {len(fits)} models", values=names,
                        hint="give one name per model, in the order of the fits")
    if len(set(names)) != len(names):
        raise SpecError("model names must differ", values=names)
    return names


def compare_models(*fits: Results, names: Sequence[str] | None = None, nested: str = "check") -> pd.DataFrame:
    """Compare models fitted to the same data: one table, and tests of nested pairs.

    Parameters
    ----------
    *fits : Results
        Two or more :func:`csmlib.fit_cbsem` fits (or one list of them).
    names : sequence of str, optional
        A name per fit (default ``"model 1"``, ``"model 2"``, ...).
    nested : {"check", "assume"}
        CB-SEM: ``"check"`` tests each pair's nesting (Bentler & Satorra
        2010, see the module docstring) and refuses the test of a pair that
        is not nested; ``"assume"`` trusts the order of the degrees of
        freedom, as ``lavTestLRT`` does (the clear non-nested cases are
        refused all the same).

    Returns
    -------
    DataFrame
        One row per model, in ``lavTestLRT``'s order (ascending
        ``df``), columns ``model, estimator, n, npar, chisq, df,
        chisq_pvalue, aic, bic, cfi, tli, rmsea, srmr, chisq_scaled,
        scaling_factor`` (the last two NaN under ML); against the model in
        the row before: ``chisq_diff, df_diff, pvalue`` (scaled under
        MLM/MLR), ``rmsea_diff`` (the RMSEA of the difference, ML only, as
        lavaan), ``test`` (the test used), ``nested`` (``"checked"``,
        ``"assumed"``, ``"no"``; empty in the first row) and ``note``
        (why a test was refused, or what to watch).

    Raises
    ------
    SpecError
        Fewer than two fits, or fits that are not all CB-SEM.
    """
    if nested not in ("check", "assume"):
        raise SpecError(f"nested={nested!r} is not one of 'check', 'assume'", values=[nested])
    if len(fits) == 1 and isinstance(fits[0], (list, tuple)):
        fits = tuple(fits[0])
    if len(fits) < 2:
        raise SpecError("compare_models needs at least two fits", values=[len(fits)],
                        hint="pass the fits to compare: compare_models(fit_a, fit_b, ...)")
    methods = {getattr(f, "method", None) for f in fits}
    if methods == {"cbsem"}:
        return _compare_cb(list(fits), _names(fits, names), nested)
    raise SpecError("compare_models compares CB-SEM fits with CB-SEM fits",
                    values=sorted(str(m) for m in methods),
                    hint="their fit statistics are not on one scale: compare the paths, not the fits")


# ------------------------------------------------------------------ CB-SEM

def _fit_value(fit: pd.Series, key: str) -> float:
    return float(fit[key]) if key in fit.index else np.nan


def _same_data(a: Results, b: Results) -> str:
    """Why ``a`` and ``b`` are not fits of the same data ("" when they are)."""
    ta, tb = a.extra["table"], b.extra["table"]
    if set(ta.observed) != set(tb.observed):
        diff = sorted(set(ta.observed) ^ set(tb.observed))
        return ("the models use different observed variables (" + ", ".join(diff[:6])
                + (", ..." if len(diff) > 6 else "") + "): their likelihoods are not comparable")
    ga, gb = a.extra.get("groups", ()), b.extra.get("groups", ())
    if (a.options or {}).get("group") != (b.options or {}).get("group") or tuple(ga) != tuple(gb):
        return "the models have different groups (another group column or other group labels)"
    da, db = a.data, b.data
    if da is None or db is None:
        return "a fit carries no data to compare"
    cols = sorted(ta.observed)
    if not da.index.equals(db.index) or not np.array_equal(
            da[cols].to_numpy(dtype=float), db[cols].to_numpy(dtype=float), equal_nan=True):
        return "the models were fitted to different data (other rows or other values)"
    if tuple(a.extra.get("group_n", ())) != tuple(b.extra.get("group_n", ())):
        return "the models have different groups (the same rows split into groups of other sizes)"
    wa, wb = a.extra.get("weights"), b.extra.get("weights")
    if (wa is None) != (wb is None) or (wa is not None and not np.array_equal(wa, wb)):
        return "the models were fitted with different survey weights"
    if (a.options or {}).get("missing") != (b.options or {}).get("missing"):
        return "the models treat missing values differently (listwise vs FIML)"
    return ""


def _moment_frame(fit: Results, seed: int = 1) -> pd.DataFrame:
    """Data with exactly ``fit``'s implied means and covariances (divisor N)
    in each group, with its group sizes and labels."""
    table = fit.extra["table"]
    items = list(table.observed)
    rng = np.random.default_rng(seed)
    parts = []
    for g, (Sigma, mu) in enumerate(fit.extra["implied_groups"]):
        n = int(fit.extra["group_n"][g])
        Z = rng.standard_normal((n, len(items)))
        Z -= Z.mean(axis=0)
        Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / n)).T      # covariance exactly I
        mean = mu if (table.meanstructure and mu is not None) else fit.extra["sample_mean_groups"][g]
        X = Z @ np.linalg.cholesky(Sigma).T + np.asarray(mean, dtype=float)
        part = pd.DataFrame(X, columns=items)
        if len(fit.extra["implied_groups"]) > 1:
            part[fit.options["group"]] = fit.extra["groups"][g]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def nesting_check(restricted: Results, general: Results) -> float:
    """Chi-square of ``general`` fitted to the implied moments of ``restricted``.

    The nesting and equivalence test of Bentler & Satorra (2010): when
    ``general`` reproduces the moments ``restricted`` implies (chi-square
    below :data:`NET_CRITERION`, semTools ``net()``), ``restricted`` is a
    special case of ``general`` (nested in it).

    Parameters
    ----------
    restricted, general : Results
        CB-SEM fits of the same data; ``restricted`` has the more degrees of
        freedom.

    Returns
    -------
    float
        The chi-square (0 up to the optimiser's tolerance when nested); NaN
        when ``general`` could not be fitted to those moments.
    """
    from ..estimate.cbsem import fit_cbsem

    opts = general.options or {}
    if min(restricted.extra["group_n"]) <= len(restricted.extra["table"].observed):
        return np.nan
    frame = _moment_frame(restricted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            check = fit_cbsem(general.spec, frame, missing=opts.get("missing", "listwise"),
                              group=opts.get("group") if len(general.extra["groups"]) > 1 else None,
                              group_equal=opts.get("group_equal", ()),
                              group_partial=opts.get("group_partial", ()), se="none")
        except Exception:   # the general model cannot even be fitted there: no verdict
            return np.nan
    return float(check.fit_indices["chisq"]) if check.converged else np.nan


def _scaled_test(kind: str) -> bool:
    return kind in ("MLM", "MLR")


def scaled_difference(T0: float, df0: float, c0: float, T1: float, df1: float, c1: float) -> float:
    """The Satorra-Bentler (2001) scaled chi-square difference, as lavaan's
    ``lav_test_diff_SatorraBentler2001``.

    Parameters
    ----------
    T0, df0, c0 : float
        Unscaled chi-square, degrees of freedom and scaling factor of the
        restricted model (more df).
    T1, df1, c1 : float
        The same of the less restricted model (``c1`` is taken as 1 when
        ``df1 == 0``).

    Returns
    -------
    float
        ``(T0 - T1) / c_d`` with ``c_d = (df0 c0 - df1 c1) / (df0 - df1)``,
        to be referred to chi-square on ``df0 - df1``; NaN when ``c_d`` is
        negative (lavaan: "scaling factor is negative").
    """
    if df1 == 0:
        c1 = 1.0
    cd = (df0 * c0 - df1 * c1) / (df0 - df1)
    return float((T0 - T1) / cd) if cd >= 0 else np.nan


def _pair_test(prev: Results, cur: Results, est: str, nested: str) -> dict[str, Any]:
    """lavTestLRT's test of ``cur`` (more df) against ``prev`` (fewer df)."""
    f1, f0 = prev.fit_indices, cur.fit_indices
    out: dict[str, Any] = {"chisq_diff": np.nan, "df_diff": np.nan, "pvalue": np.nan, "rmsea_diff": np.nan,
                           "test": "", "nested": "no", "note": ""}
    why = _same_data(prev, cur)
    e0 = (cur.options or {}).get("estimator", "ML")
    e1 = (prev.options or {}).get("estimator", "ML")
    if not why and e0 != e1:
        why = f"the models were fitted with different estimators ({e1}, {e0}): no common test"
    r1, r0 = _fit_value(f1, "df"), _fit_value(f0, "df")
    if not why and (np.isnan(r0) or np.isnan(r1) or r0 < 0 or r1 < 0):
        why = "a model is not identified (negative degrees of freedom): no test"
    if not why and r0 == r1:
        why = ("equal degrees of freedom: the models are either equivalent or not nested, "
               "and a difference test has no degrees of freedom")
    if not why and _scaled_test(est) and ("chisq_scaling_factor" not in f0.index
                                          or "chisq_scaling_factor" not in f1.index):
        why = f"an {est} fit without its scaled test (fitted with se='none'): refit with standard errors"
    if why:
        out["note"] = why
        return out
    T1, T0 = _fit_value(f1, "chisq"), _fit_value(f0, "chisq")
    notes = []
    if not (prev.converged and cur.converged):
        notes.append("not all models converged")
    if nested == "check":
        chi = nesting_check(cur, prev)
        if np.isnan(chi):
            out["nested"] = "assumed"
            notes.append("nesting could not be checked (the general model did not fit the restricted "
                         "model's moments); the test assumes it, as lavaan does")
        elif chi > NET_CRITERION:
            out["note"] = (f"not nested: the less restricted model cannot reproduce the moments the other "
                           f"implies (chi-square {chi:.4g}, Bentler & Satorra 2010); compare AIC and BIC "
                           "instead")
            return out
        else:
            out["nested"] = "checked"
    else:
        out["nested"] = "assumed"
        notes.append("nesting assumed (ordered by degrees of freedom, as lavaan)")
    m = r0 - r1
    if T0 - T1 < -np.finfo(float).eps ** (1 / 3):
        notes.append("the restricted model fits better: the models are not nested, or the less "
                     "restricted one missed its optimum")
    if _scaled_test(est):
        stat = scaled_difference(T0, r0, _fit_value(f0, "chisq_scaling_factor"),
                                 T1, r1, _fit_value(f1, "chisq_scaling_factor"))
        out["test"] = "Satorra-Bentler 2001 scaled difference"
        if np.isnan(stat):
            notes.append("the scaling factor of the difference is negative: no scaled test (compare AIC "
                         "and BIC, or collect more data)")
    else:
        out["test"] = "chi-square difference"
        stat = T0 - T1
        N, G = cur.n_obs, len(cur.extra["groups"])
        out["rmsea_diff"] = float(np.sqrt(max((stat / N) / m - 1 / N, 0.0)) * np.sqrt(G))
    out.update(chisq_diff=stat, df_diff=m, pvalue=float(stats.chi2.sf(stat, m)) if np.isfinite(stat) else np.nan)
    out["note"] = "; ".join(notes)
    return out


def _compare_cb(fits: list[Results], names: list[str], nested: str) -> pd.DataFrame:
    dfs = [_fit_value(f.fit_indices, "df") for f in fits]
    order = sorted(range(len(fits)), key=lambda i: (np.nan_to_num(dfs[i], nan=-1.0), i))  # stable, as R's order()
    est = (fits[order[0]].options or {}).get("estimator", "ML")
    rows = []
    for pos, i in enumerate(order):
        f = fits[i]
        fi = f.fit_indices
        e = (f.options or {}).get("estimator", "ML")
        row = {"model": names[i], "estimator": e, "n": int(f.n_obs), "npar": int(f.extra["npar"]),
               "chisq": _fit_value(fi, "chisq"), "df": _fit_value(fi, "df"),
               "chisq_pvalue": _fit_value(fi, "pvalue"), "aic": _fit_value(fi, "aic"),
               "bic": _fit_value(fi, "bic"), "cfi": _fit_value(fi, "cfi"), "tli": _fit_value(fi, "tli"),
               "rmsea": _fit_value(fi, "rmsea"), "srmr": _fit_value(fi, "srmr"),
               "chisq_scaled": _fit_value(fi, "chisq_scaled"),
               "scaling_factor": _fit_value(fi, "chisq_scaling_factor")}
        if pos == 0:
            row.update(chisq_diff=np.nan, df_diff=np.nan, pvalue=np.nan, rmsea_diff=np.nan, test="",
                       nested="", note="")
        else:
            row.update(_pair_test(fits[order[pos - 1]], f, est, nested))
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(CB_COLUMNS))
    out["df_diff"] = out["df_diff"].astype(float)
    return out
