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

For PLS fits, :func:`information_criteria` gives per endogenous construct
the criteria of Sharma et al. (2019) from the construct scores: with ``n``
respondents, ``k`` = the construct's antecedents + 1 and ``SSE = (1 - R²)
s² (n - 1)`` (``s²`` the variance of its scores, 1 when standardized):

* ``AIC = n log(SSE / n) + 2k`` and ``BIC = n log(SSE / n) + k log(n)``
  (seminr 2.3.1, ``summary(model)$it_criteria``),
* ``AICc = n log(SSE / n) + n (n + k) / (n - k - 2)``,
* ``HQ = n log(SSE / n) + 2k log(log(n))``,
* ``GM = SSE / MSE + k log(n)`` (Geweke & Meese 1981) with ``MSE = 1 -
  R²`` of the construct in the *saturated* structural model (every construct
  earlier in the model's causal order predicts it), re-estimated by PLS
  with the same settings, as cSEM's ``calculateModelSelectionCriteria``.

:func:`compare_models` on PLS fits ranks the models by BIC of a target
construct with Akaike weights ``w_i = exp(-ΔBIC_i / 2) / Σ exp(-ΔBIC_j /
2)`` (Danks, Sharma & Sarstedt 2020).

References: Satorra, A. & Bentler, P. M. (2001), Psychometrika 66, 507-514;
Bentler, P. M. & Satorra, A. (2010), Psychological Methods 15, 111-123;
Sharma, P. N., Sarstedt, M., Shmueli, G., Kim, K. H. & Thiele, K. O. (2019),
Journal of the Association for Information Systems 20(4), 346-397;
Danks, N. P., Sharma, P. N. & Sarstedt, M. (2020), Journal of Business
Research 113, 13-24.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import CsmError, SpecError
from ..estimate.results import Results

__all__ = ["compare_models", "information_criteria", "nesting_check", "scaled_difference", "NET_CRITERION",
           "CB_COLUMNS", "PLS_COLUMNS", "CRITERIA"]

#: Chi-square below which a model reproduces another's implied moments (semTools ``net``).
NET_CRITERION = 1e-4
#: The criteria of :func:`information_criteria`, in order.
CRITERIA = ("aic", "aicc", "bic", "hq", "gm")
#: Columns of :func:`compare_models` for PLS fits.
PLS_COLUMNS = ("model", "construct", "n", "k", "r2", *CRITERIA, "delta_bic", "bic_weight", "rank")
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


def compare_models(*fits: Results, names: Sequence[str] | None = None, nested: str = "check",
                   construct: str | None = None) -> pd.DataFrame:
    """Compare models fitted to the same data: one table, and tests of nested pairs.

    Parameters
    ----------
    *fits : Results
        Two or more fits (or one list of them), all :func:`csmlib.fit_cbsem`
        or all :func:`csmlib.fit_pls`.
    names : sequence of str, optional
        A name per fit (default ``"model 1"``, ``"model 2"``, ...).
    nested : {"check", "assume"}
        CB-SEM: ``"check"`` tests each pair's nesting (Bentler & Satorra
        2010, see the module docstring) and refuses the test of a pair that
        is not nested; ``"assume"`` trusts the order of the degrees of
        freedom, as ``lavTestLRT`` does (the clear non-nested cases are
        refused all the same).
    construct : str, optional
        PLS: the target construct whose BIC ranks the models (default: every
        endogenous construct the models share, each ranked on its own).

    Returns
    -------
    DataFrame
        CB-SEM: one row per model, in ``lavTestLRT``'s order (ascending
        ``df``), columns ``model, estimator, n, npar, chisq, df,
        chisq_pvalue, aic, bic, cfi, tli, rmsea, srmr, chisq_scaled,
        scaling_factor`` (the last two NaN under ML); against the model in
        the row before: ``chisq_diff, df_diff, pvalue`` (scaled under
        MLM/MLR), ``rmsea_diff`` (the RMSEA of the difference, ML only, as
        lavaan), ``test`` (the test used), ``nested`` (``"checked"``,
        ``"assumed"``, ``"no"``; empty in the first row) and ``note``
        (why a test was refused, or what to watch).
        PLS: one row per model and construct, columns ``model, construct,
        n, k, r2, aic, aicc, bic, hq, gm, delta_bic, bic_weight, rank``
        (:func:`information_criteria`; ``delta_bic`` against the model with
        the lowest BIC for that construct, ``bic_weight`` the Akaike weight
        of the BIC, ``rank`` 1 = lowest BIC), by construct and rank.

    Raises
    ------
    SpecError
        Fewer than two fits, a mix of CB-SEM and PLS fits, PLS fits of
        different data, or a PLS ``construct`` not endogenous in every model.
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
    if methods == {"pls"}:
        return _compare_pls(list(fits), _names(fits, names), construct)
    raise SpecError("compare_models compares CB-SEM fits with CB-SEM fits, or PLS fits with PLS fits",
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
    if tuple((a.options or {}).get("ordered") or ()) != tuple((b.options or {}).get("ordered") or ()):
        return "the models treat other items as ordered categories: their test statistics are not comparable"
    wa, wb = a.extra.get("weights"), b.extra.get("weights")   # ordered fits: the WLS weights of the same data
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
        except (CsmError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            return np.nan   # the general model cannot even be fitted there: no verdict
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


def _pair_test(prev: Results, cur: Results, nested: str) -> dict[str, Any]:
    """lavTestLRT's test of ``cur`` (more df) against ``prev`` (fewer df)."""
    f1, f0 = prev.fit_indices, cur.fit_indices
    out: dict[str, Any] = {"chisq_diff": np.nan, "df_diff": np.nan, "pvalue": np.nan, "rmsea_diff": np.nan,
                           "test": "", "nested": "no", "note": ""}
    why = _same_data(prev, cur)
    e0 = (cur.options or {}).get("estimator", "ML")
    e1 = (prev.options or {}).get("estimator", "ML")
    if not why and e0 != e1:
        why = f"the models were fitted with different estimators ({e1}, {e0}): no common test"
    ordered = tuple((cur.options or {}).get("ordered") or ())
    est = e0
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
    if nested == "check" and ordered:
        out["nested"] = "assumed"
        notes.append("nesting of ordered-item fits is not checked; the test assumes it, as lavaan does")
    elif nested == "check":
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
    if est == "WLSMV":
        from ..estimate.wls import scaled_difference as satorra_2000

        stat = satorra_2000(prev, cur)["delta_chisq"]
        out["test"] = "Satorra 2000 scaled-shifted difference"
    elif _scaled_test(est):
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
            row.update(_pair_test(fits[order[pos - 1]], f, nested))
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(CB_COLUMNS))
    out["df_diff"] = out["df_diff"].astype(float)
    return out


# ------------------------------------------------------------------ PLS

def _check_pls(results: Any) -> Results:
    if getattr(results, "method", None) != "pls" or "compiled" not in (results.extra or {}):
        raise SpecError("information_criteria needs the results of csm.fit_pls",
                        values=[type(results).__name__], hint="fit the model with csm.fit_pls")
    return results


def _r2(R: np.ndarray, j: int, pred: np.ndarray) -> float:
    """R-squared of variable ``j`` on ``pred`` from a correlation matrix."""
    if not len(pred):
        return 0.0
    rxy = R[pred, j]
    return float(rxy @ np.linalg.solve(R[np.ix_(pred, pred)], rxy))


def information_criteria(results: Results, *, gm: bool = True) -> pd.DataFrame:
    """Information criteria of a PLS path model per endogenous construct.

    The criteria of Sharma et al. (2019) as in the module docstring; AIC
    and BIC equal seminr's ``summary(model)$it_criteria``.  Lower is better;
    compare models on the same data and the same target construct.

    Parameters
    ----------
    results : PlsResults
        A :func:`csmlib.fit_pls` fit.
    gm : bool
        Compute the Geweke-Meese criterion (one more PLS estimation, of the
        saturated structural model).  Not available (NaN) for models with
        interaction terms or higher-order constructs.

    Returns
    -------
    DataFrame
        One row per endogenous construct (index ``construct``), columns
        ``n`` (respondents), ``k`` (antecedents + 1), ``r2`` (from the
        construct scores, as seminr), ``sse``, ``aic``, ``aicc``, ``bic``,
        ``hq``, ``gm``.

    Raises
    ------
    SpecError
        ``results`` is not a PLS fit, or a survey-weighted one.
    EstimationError
        The saturated model could not be estimated.
    """
    res = _check_pls(results)
    if (res.options or {}).get("weights") is not None:
        # the criteria are those of unweighted OLS on the scores; a weighted fit's R-squared is another
        # (it used to be replaced by the unweighted one without a word)
        raise SpecError("information criteria are not available for a survey-weighted PLS fit",
                        values=[res.options["weights"]],
                        hint="compare the models fitted without weights= (the criteria of Sharma et al. "
                             "2019 are defined for unweighted regressions)")
    cs = res.extra["compiled"]
    scores = res.scores[list(cs.names)].to_numpy(dtype=float)
    n = len(scores)
    R = np.corrcoef(scores, rowvar=False)
    var = np.var(scores, axis=0, ddof=1)
    endo = [j for j in range(len(cs.names)) if len(cs.predecessors(j))]
    mse = _saturated_mse(res) if gm else {}
    rows = []
    for j in endo:
        pred = cs.predecessors(j)
        r2 = _r2(R, j, pred)
        k = len(pred) + 1
        sse = (1.0 - r2) * var[j] * (n - 1)
        base = n * np.log(sse / n)
        rows.append({"construct": cs.names[j], "n": n, "k": k, "r2": r2, "sse": sse,
                     "aic": base + 2 * k, "aicc": base + n * (n + k) / (n - k - 2),
                     "bic": base + k * np.log(n), "hq": base + 2 * k * np.log(np.log(n)),
                     "gm": sse / mse[j] + k * np.log(n) if j in mse else np.nan})
    return pd.DataFrame(rows, columns=["construct", "n", "k", "r2", "sse", *CRITERIA]).set_index("construct")


def _causal_order(D: np.ndarray) -> list[int]:
    """Construct positions in a causal order: each after all its
    antecedents, ties in the spec's order."""
    k = D.shape[0]
    done: list[int] = []
    while len(done) < k:
        ready = [j for j in range(k) if j not in done and all(i in done for i in np.flatnonzero(D[j]))]
        if not ready:
            raise SpecError("the structural model has a loop: it has no saturated model to compare with")
        done.append(ready[0])
    return done


def _saturated_mse(res: Results) -> dict[int, float]:
    """``1 - R²`` of every construct in the saturated structural model (each
    construct predicted by all constructs before it in the causal order),
    re-estimated by PLS with the fit's scheme, on the fit's item moments."""
    import dataclasses

    from ..errors import EstimationError
    from ..estimate.pls_core import pls_core

    if res.spec.interactions or res.spec.higher_order:
        return {}
    cs = res.extra["compiled"]
    order = _causal_order(np.asarray(cs.D))
    D = np.zeros_like(np.asarray(cs.D, dtype=float))
    for pos, j in enumerate(order):
        D[j, order[:pos]] = 1.0
    opts = res.options or {}
    kw = {key: opts[key] for key in ("max_iter", "tol") if key in opts}
    out = pls_core(np.asarray(res.extra["S"], dtype=float), dataclasses.replace(cs, D=D),
                   opts.get("scheme", "path"), **kw)
    if out.failed[0]:
        raise EstimationError("information_criteria: the saturated structural model could not be estimated",
                              hint="use gm=False, or check the model for collinear constructs")
    return {j: 1.0 - float(out.r2[0, j]) for j in range(len(cs.names)) if np.isfinite(out.r2[0, j])}


def _compare_pls(fits: list[Results], names: list[str], construct: str | None) -> pd.DataFrame:
    n = {int(f.n_obs) for f in fits}
    if len(n) > 1:
        raise SpecError("the PLS fits use different numbers of respondents: information criteria compare "
                        "models of the same data only", values=sorted(n),
                        hint="fit every model to the same rows (the same missing-value handling)")
    first = fits[0].data
    for f in fits[1:]:
        other = f.data
        common = [c for c in first.columns if c in other.columns] if first is not None and other is not None else []
        if first is None or other is None or not first.index.equals(other.index) or not np.array_equal(
                first[common].to_numpy(dtype=float), other[common].to_numpy(dtype=float), equal_nan=True):
            raise SpecError("the PLS fits were estimated on different data (other rows, or other values of "
                            "the items they share): information criteria compare models of the same data only",
                            hint="fit every model to the same rows, with the same missing-value handling")
    crit = [information_criteria(f) for f in fits]
    shared = [c for c in crit[0].index if all(c in t.index for t in crit[1:])]
    if construct is not None:
        if construct not in shared:
            raise SpecError(f"{construct!r} is not an endogenous construct of every model", values=[construct],
                            hint="choose one of " + (", ".join(shared) or "(none: the models share no outcome)"))
        shared = [construct]
    if not shared:
        raise SpecError("the models share no endogenous construct to compare them on",
                        hint="compare models that explain the same target construct")
    rows = []
    for c in shared:
        bic = np.array([t.loc[c, "bic"] for t in crit])
        delta = bic - bic.min()
        w = np.exp(-delta / 2)
        w /= w.sum()
        rank = stats.rankdata(bic, method="min").astype(int)
        for name, t, d, wi, rk in zip(names, crit, delta, w, rank):
            r = t.loc[c]
            rows.append({"model": name, "construct": c, "n": int(r["n"]), "k": int(r["k"]), "r2": r["r2"],
                         **{key: r[key] for key in CRITERIA}, "delta_bic": d, "bic_weight": wi, "rank": int(rk)})
    out = pd.DataFrame(rows, columns=list(PLS_COLUMNS))
    order = {c: i for i, c in enumerate(shared)}
    return (out.assign(_o=out["construct"].map(order)).sort_values(["_o", "rank"], kind="stable")
            .drop(columns="_o").reset_index(drop=True))
