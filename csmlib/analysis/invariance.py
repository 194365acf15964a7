"""Measurement invariance across groups (waves, segments) for covariance-based SEM.

Before comparing an index, a path or a construct mean between waves or
segments, the constructs must mean the same thing in every group.  The
invariance ladder tests that in three nested steps (Meredith 1993; Vandenberg
& Lance 2000), each a multi-group fit of :func:`csmlib.estimate.cbsem.fit_cbsem` (``group=``):

``configural``
    the same model in every group, all parameters free;
``metric``
    loadings equal across groups (lavaan ``group.equal = "loadings"``):
    paths and correlations become comparable;
``scalar``
    loadings and item intercepts equal (``c("loadings", "intercepts")``),
    construct means free in all groups but the first: construct means, and
    so indices, become comparable;
``strict``
    residual variances equal too (``c("loadings", "intercepts",
    "residuals")``): observed scores, not only constructs, compare.

Ordered items (``ordered=``): the ladder of lavaan's ``group.equal`` for
ordered items, each a WLSMV fit (:mod:`csmlib.estimate.wls`):
``configural``; ``thresholds`` (thresholds equal; scaling factors and
construct means free in groups 2, 3, ...); ``metric`` (thresholds and
loadings); ``scalar`` (and intercepts, which lavaan 0.6.14's delta
parameterization already fixes at 0: the same fit as ``metric``).  The
statistics are the scaled-shifted ones (``chisq_scaled``, ``cfi_scaled``,
``rmsea_scaled``, ...) and the difference test is lavaan's ``lavTestLRT``
for WLSMV (Satorra 2000, scaled and shifted;
:func:`csmlib.estimate.wls.scaled_difference`).

A step *holds* when its chi-square difference test against the previous
step is not significant (p >= ``alpha``) or, since that test rejects trivial
differences in large samples, when the fit barely worsens: CFI drops by no
more than 0.010 (Cheung & Rensvold 2002) and RMSEA rises by no more than
0.015 (Chen 2007).  A step after a failed one is not supported either.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, EstimationWarning
from ..estimate.cbsem import fit_cbsem
from ..estimate.results import Results
from ..spec.modelspec import ModelSpec

__all__ = ["STEPS", "ORDERED_STEPS", "measurement_invariance", "noninvariant_items"]

#: The invariance ladder: step name -> lavaan ``group.equal``.
STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
#: The ladder for ordered items: step name -> lavaan ``group.equal`` (lavaan's order).
ORDERED_STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}

_COLUMNS = ["step", "chisq", "df", "chisq_pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "delta_chisq", "delta_df", "pvalue", "delta_cfi", "delta_rmsea",
            "holds", "converged", "verdict"]

_MEANING = {
    "metric": "loadings are equal, so paths and correlations can be compared across groups",
    "scalar": "item intercepts are equal too, so construct means and indices can be compared "
              "across groups",
    "strict": "residual variances are equal too, so observed item scores can be compared across groups",
    "thresholds": "the answer categories cut the latent responses at the same points in every group",
}
_FAILING = {
    "metric": "loadings differ between groups: compare neither paths nor means across groups",
    "scalar": "item intercepts differ between groups: do not compare construct means or indices "
              "across groups (see noninvariant_items for the items at fault)",
    "strict": "residual variances differ between groups: compare constructs, not raw item scores",
    "thresholds": "the answer categories are used differently between groups: compare neither means "
                  "nor loadings across groups",
}


def _fit(spec: ModelSpec, frame: pd.DataFrame, group: str, equal: Sequence[str],
         partial: Sequence = (), ordered: bool | Sequence[str] | None = None) -> Results:
    """One multi-group fit of the ladder, ML or (ordered items) WLSMV (no
    standard errors; a warning about the fit is reported in the step's
    verdict, not raised)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        if ordered is not None and ordered is not False:
            return fit_cbsem(spec, frame, group=group, group_equal=tuple(equal), estimator="WLSMV",
                             ordered=ordered, se="none")
        return fit_cbsem(spec, frame, group=group, group_equal=tuple(equal), group_partial=tuple(partial),
                         se="none")


def _frame(data) -> pd.DataFrame:
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise DataError("measurement invariance needs a DataFrame or a Survey",
                        hint="pass csm.read_survey(...) or a pandas DataFrame")
    return frame


def measurement_invariance(spec: ModelSpec, data, group: str, *,
                           steps: Sequence[str] | None = None,
                           alpha: float = 0.05, max_delta_cfi: float = 0.010,
                           max_delta_rmsea: float = 0.015,
                           ordered: bool | Sequence[str] | None = None) -> pd.DataFrame:
    """Test configural, metric, scalar (and strict) invariance of ``spec`` across groups.

    Parameters
    ----------
    spec : ModelSpec
        A reflective (CB-SEM) model.
    data : DataFrame or Survey
        Items and the grouping column.
    group : str
        Column whose values define the groups (e.g. ``"gender"``, ``"wave"``).
    steps : sequence of str, optional
        Steps of :data:`STEPS` (default configural, metric, scalar), or
        with ``ordered`` of :data:`ORDERED_STEPS` (default all four), in
        order.
    alpha, max_delta_cfi, max_delta_rmsea : float
        The decision rule of the module docstring.
    ordered : True or sequence of str, optional
        Treat the items as ordered categories (lavaan ``ordered =``): WLSMV
        fits, the ordered ladder and its scaled statistics (see the module
        docstring).

    Returns
    -------
    DataFrame
        One row per step: ``step``, the step's ``chisq, df, chisq_pvalue,
        cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper``; against the
        previous step ``delta_chisq, delta_df, pvalue`` (chi-square
        difference test), ``delta_cfi, delta_rmsea``; ``holds`` (bool),
        ``converged`` and a plain-language ``verdict``.  With ``ordered``
        the fit columns hold the scaled statistics (``chisq_scaled``,
        ``pvalue_scaled``, ``cfi_scaled``, ``tli_scaled``,
        ``rmsea_scaled`` and its interval) and the difference test is the
        scaled-shifted one.
    """
    from ..estimate.wls import scaled_difference

    is_ordered = ordered is not None and ordered is not False
    ladder = ORDERED_STEPS if is_ordered else STEPS
    if steps is None:
        steps = tuple(ladder) if is_ordered else ("configural", "metric", "scalar")
    unknown = [s for s in steps if s not in ladder]
    if unknown:
        raise DataError("unknown invariance steps" + (" for ordered items" if is_ordered else ""),
                        values=unknown, hint=f"use some of {', '.join(ladder)}, in order")
    frame = _frame(data)
    rows = []
    prev = None
    failed = False
    for step in steps:
        res = _fit(spec, frame, group, ladder[step], ordered=ordered)
        fit = res.fit_indices
        if is_ordered:
            fit = _scaled_view(fit)
        row = {"step": step, "chisq": fit["chisq"], "df": int(fit["df"]), "chisq_pvalue": fit["pvalue"],
               "cfi": fit["cfi"], "tli": fit["tli"], "rmsea": fit["rmsea"],
               "rmsea_ci_lower": fit["rmsea_ci_lower"], "rmsea_ci_upper": fit["rmsea_ci_upper"],
               "delta_chisq": np.nan, "delta_df": np.nan, "pvalue": np.nan,
               "delta_cfi": np.nan, "delta_rmsea": np.nan, "converged": res.converged}
        if prev is None:
            row["holds"] = True
            row["verdict"] = (f"baseline: the same model in every group ({', '.join(res.extra['groups'])}), "
                              f"CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}")
        else:
            if is_ordered:
                diff = scaled_difference(prev_res, res)
                dchi, ddf, p = diff["delta_chisq"], int(diff["delta_df"]), diff["pvalue"]
            else:
                dchi = fit["chisq"] - prev["chisq"]
                ddf = int(fit["df"] - prev["df"])
                p = float(stats.chi2.sf(max(dchi, 0.0), ddf)) if ddf > 0 else np.nan
            dcfi = fit["cfi"] - prev["cfi"]
            drmsea = fit["rmsea"] - prev["rmsea"]
            small = dcfi >= -max_delta_cfi and drmsea <= max_delta_rmsea
            holds = (not failed) and ((p >= alpha) or small or ddf == 0)
            row.update(delta_chisq=dchi, delta_df=ddf, pvalue=p, delta_cfi=dcfi,
                       delta_rmsea=drmsea)
            row["holds"] = bool(holds)
            if failed:
                row["verdict"] = f"{step} invariance not supported: a previous step failed"
            elif holds and ddf == 0:
                row["verdict"] = (f"{step}: the same model as the previous step (the intercepts of ordered "
                                  "items are fixed at 0): construct means can be compared once thresholds "
                                  "and loadings are equal")
            elif holds:
                row["verdict"] = f"{step} invariance holds: {_MEANING.get(step, '')}"
            else:
                row["verdict"] = f"{step} invariance fails: {_FAILING.get(step, '')}"
            failed = failed or not holds
        if not res.converged:
            row["verdict"] += f" (warning: {res.message})"
        rows.append(row)
        prev, prev_res = fit, res
    return pd.DataFrame(rows, columns=_COLUMNS)


def _scaled_view(fit: pd.Series) -> pd.Series:
    """The scaled statistics of a WLSMV fit under the ladder's names."""
    out = fit.copy()
    for name in ("chisq", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper"):
        out[name] = fit.get(f"{name}_scaled", np.nan)
    return out


def noninvariant_items(spec: ModelSpec, data, group: str, *, step: str = "scalar") -> pd.DataFrame:
    """Which items break ``step``: free each item's constrained parameter in turn.

    For ``step="scalar"`` each item's intercept is freed (lavaan
    ``group.partial``), for ``"metric"`` each non-marker loading; the drop
    in chi-square against the fully constrained step is tested on its
    degrees of freedom.

    Returns
    -------
    DataFrame
        Sorted by ``delta_chisq`` descending: ``item, delta_chisq, delta_df,
        pvalue`` (of freeing that item) and ``cfi`` of the partial model.
    """
    if step not in ("metric", "scalar"):
        raise DataError(f"noninvariant_items works for 'metric' or 'scalar', not {step!r}")
    frame = _frame(data)
    full = _fit(spec, frame, group, STEPS[step]).fit_indices
    cls = "intercepts" if step == "scalar" else "loadings"
    items = ([x for c in spec.constructs for x in c.indicators] if cls == "intercepts" else
             [x for c in spec.constructs for x in c.indicators[1:]])
    rows = []
    for item in items:
        part = _fit(spec, frame, group, STEPS[step], [(cls, item)]).fit_indices
        d = full["chisq"] - part["chisq"]
        ddf = int(full["df"] - part["df"])
        rows.append({"item": item, "delta_chisq": d, "delta_df": ddf,
                     "pvalue": float(stats.chi2.sf(max(d, 0.0), ddf)) if ddf > 0 else np.nan,
                     "cfi": part["cfi"]})
    out = pd.DataFrame(rows, columns=["item", "delta_chisq", "delta_df", "pvalue", "cfi"])
    return out.sort_values("delta_chisq", ascending=False, kind="stable").reset_index(drop=True)
