"""The 0-100 satisfaction index and importance-performance analysis (IPMA).

Satisfaction index (ACSI, Fornell et al. 1996)
----------------------------------------------
With the unstandardized (raw-metric) outer weights ``w_j`` of a construct's
block and the *theoretical* scale limits ``min_j, max_j`` of each item (from
the instrument, never the observed minimum and maximum)::

    index = 100 * sum_j w_j (mean_j - min_j) / sum_j w_j (max_j - min_j)

The index is invariant to the scale of the weights.  Negative weights make
the index meaningless and raise :class:`~csmlib.errors.EstimationError`.

Where the weights come from
    * PLS results: the raw-metric outer weights the estimator reports in
      ``results.extra["raw_weights"]``; if absent, the reported outer weights
      (``F <~ x``) divided by the item's standard deviation when the fit
      standardized the indicators (``options["standardize"]``, default True).
    * CB-SEM results: the factor-score regression weights of the block's
      one-factor measurement model, ``w_j = lambda_j / theta_j`` (raw
      loading over residual variance; for one factor the regression and
      Bartlett weights are proportional to these, and the index is invariant
      to that scale).  Composite (``<~``) blocks of a CB fit use their
      reported weights.

Importance-performance analysis (Ringle & Sarstedt 2016)
-------------------------------------------------------
1. Every item is rescaled to 0-100 with its theoretical limits:
   ``x~ = 100 (x - min) / (max - min)``.
2. The raw weights are carried to the rescaled items
   (``v_j = w_j (max_j - min_j)``) and normalized to sum to one per block;
   construct scores are ``LV = X~ v``, so a construct's mean score is its
   0-100 index: its *performance*.
3. Each endogenous score is regressed (OLS with intercept) on the scores of
   its predecessors; the unstandardized paths give the total effects
   ``(I - B)^-1 - I``.  A construct's *importance* is its unstandardized
   total effect on the target (points of target performance per point of
   driver performance).
4. Items: importance = normalized rescaled weight x the construct's total
   effect; performance = the rescaled item mean.

Priority rule
    ``priority = importance * (100 - performance)``: the target points to
    gain if the driver were raised to the top of its scale.  ``rank`` 1 is
    the highest priority (what to improve first).  ``quadrant`` is relative
    to the mean importance and mean performance of the rows shown:
    ``"concentrate here"`` (importance above the mean, performance below),
    ``"keep up the good work"`` (both above), ``"low priority"`` (both
    below), ``"possible overkill"`` (importance below, performance above).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..estimate.effects import total_effects_matrix
from ..estimate.statistics import (block_index, check_nonnegative_weights, check_within_limits, fit_case_weights,
                                   fit_data, index_from_moments, raw_weights, resolve_scale_limits,
                                   warn_unconverged, weighted_mean)
from ..errors import DataError, EstimationError, SpecError

__all__ = [
    "SatisfactionIndex",
    "satisfaction_index",
    "satisfaction_indices",
    "ipma",
    "raw_weights",
    "respondent_index",
    "resolve_scale_limits",
    "index_from_moments",
]

QUADRANTS = ("concentrate here", "keep up the good work", "low priority", "possible overkill")


class SatisfactionIndex(float):
    """A 0-100 index: a float that also carries how it was computed.

    Attributes
    ----------
    construct : str
        The construct the index is for.
    items : DataFrame
        Columns ``item, weight, weight_share, mean, min, max``: the raw
        weight, its share of the index (``w (max - min)`` normalized to sum
        to one), the item mean and the theoretical limits used.
    """

    construct: str
    items: pd.DataFrame

    def __new__(cls, value: float, construct: str, items: pd.DataFrame) -> "SatisfactionIndex":
        obj = super().__new__(cls, float(value))
        obj.construct = construct
        obj.items = items
        return obj

    def __repr__(self) -> str:
        return f"SatisfactionIndex({float(self):.4f}, construct={self.construct!r})"


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def _limits_for(results: Any, items: list[str], scale_limits: Any, what: str) -> pd.DataFrame:
    lim = resolve_scale_limits(results, scale_limits)
    if lim is None:
        raise DataError(
            f"{what} needs the theoretical scale limits of the items, and these results have none "
            "(the model was fitted on a plain DataFrame, not on a Survey with an instrument)",
            column=items,
            hint="fit on a Survey read with its instrument, or pass scale_limits= "
            "(a DataFrame with columns min, max indexed by item, or a dict item -> (min, max)); "
            "the observed minimum and maximum are never used",
        )
    missing = [i for i in items if i not in lim.index]
    if missing:
        raise DataError(
            f"{what} needs the theoretical scale limits of every item; some have none",
            column=missing,
            hint="add these items to the instrument's scales or to scale_limits=",
        )
    return lim.loc[items]


# ---------------------------------------------------------------------------
# the index
# ---------------------------------------------------------------------------
def _one_index(results: Any, construct: str, w: pd.Series, lim: pd.DataFrame) -> SatisfactionIndex:
    items = list(w.index)
    value, means = block_index(results, construct, w, lim)
    lo, hi = lim["min"].to_numpy(), lim["max"].to_numpy()
    share = w.to_numpy() * (hi - lo)
    items_df = pd.DataFrame({
        "item": items,
        "weight": w.to_numpy(float),
        "weight_share": share / share.sum(),
        "mean": means.astype(float),
        "min": lo.astype(float),
        "max": hi.astype(float),
    })
    return SatisfactionIndex(value, construct, items_df)


def satisfaction_index(results: Any, construct: str = "Satisfaction", *,
                       scale_limits: Any = None) -> SatisfactionIndex:
    """The 0-100 satisfaction index of one construct.

    Parameters
    ----------
    results : Results
        A PLS fit (or a CB-SEM fit: factor-score weights, see module doc).
    construct : str
        The construct, ``"Satisfaction"`` by default.
    scale_limits : DataFrame or dict, optional
        Theoretical item limits (columns ``min, max`` indexed by item, or
        ``item -> (min, max)``).  Required when the results were fitted on a
        plain DataFrame; overrides the instrument's limits otherwise.

    Returns
    -------
    SatisfactionIndex
        A float in [0, 100] with attributes ``construct`` and ``items``
        (columns ``item, weight, weight_share, mean, min, max``).

    Raises
    ------
    DataError
        No theoretical scale limits, or answers outside them.
    EstimationError
        Negative outer weights.
    """
    warn_unconverged(results, f"the index of {construct!r}")
    w = raw_weights(results, construct)[construct]
    lim = _limits_for(results, list(w.index), scale_limits, f"the index of {construct!r}")
    return _one_index(results, construct, w, lim)


def respondent_index(results: Any, construct: str = "Satisfaction", *, data: Any = None,
                     scale_limits: Any = None) -> pd.Series:
    """Each respondent's own 0-100 index: the index formula applied to one
    respondent's answers, with the fit's raw outer weights.

    The mean of these scores over the fit's respondents is the
    :func:`satisfaction_index` (same weights, same limits); their standard
    deviation is what sample-size planning needs
    (:func:`csmlib.analysis.planning.index_sd`).

    Parameters
    ----------
    results : Results
        A PLS fit (or a CB-SEM fit, see the module docstring): the weights.
    construct : str
        The index's construct.
    data : Survey or DataFrame, optional
        Respondents to score (default the fit's own data); must hold the
        construct's items.
    scale_limits : DataFrame or dict, optional
        As in :func:`satisfaction_index`.

    Returns
    -------
    pandas.Series
        One value per row of ``data`` (its index), named ``construct``; NaN
        where the respondent did not answer every item of the block.
    """
    w = raw_weights(results, construct)[construct]
    check_nonnegative_weights(construct, w)
    items = list(w.index)
    lim = _limits_for(results, items, scale_limits, f"the index of {construct!r}")
    frame = fit_data(results) if data is None else (data.data if hasattr(data, "data") else data)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a Survey or a DataFrame to score, got {type(data).__name__}")
    absent = [i for i in items if i not in frame.columns]
    if absent:
        raise DataError(f"the data to score lack items of construct {construct!r}", column=absent,
                        hint="score data that hold every item of the index's block")
    X = frame[items].to_numpy(dtype=float)
    scores = index_from_moments(w.to_numpy(float), X, lim["min"].to_numpy(float), lim["max"].to_numpy(float))
    return pd.Series(scores, index=frame.index, name=construct, dtype=float)


def satisfaction_indices(results: Any, *, scale_limits: Any = None) -> pd.DataFrame:
    """The 0-100 index of every construct whose items all have scale limits.

    Parameters
    ----------
    results : Results
    scale_limits : DataFrame or dict, optional
        As in :func:`satisfaction_index`.

    Returns
    -------
    DataFrame
        One row per item, constructs in model order: ``construct, index,
        item, weight, weight_share, mean, min, max`` (``index`` repeats on
        every item row of its construct; ``drop_duplicates("construct")``
        gives one row per construct).
    """
    warn_unconverged(results, "the satisfaction indices")
    lim = resolve_scale_limits(results, scale_limits)
    spec = results.spec
    if lim is None:
        _limits_for(results, list(spec.indicators), None, "the satisfaction indices")
    frames = []
    for c in spec.constructs:
        if not all(i in lim.index for i in spec.items_of(c.name)):
            continue
        w = raw_weights(results, c.name)[c.name]
        idx = _one_index(results, c.name, w, lim.loc[list(w.index)])
        f = idx.items.copy()
        f.insert(0, "index", float(idx))
        f.insert(0, "construct", c.name)
        frames.append(f)
    if not frames:
        _limits_for(results, list(spec.indicators), scale_limits, "the satisfaction indices")
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# IPMA
# ---------------------------------------------------------------------------
def _reaches(spec: Any, target: str) -> list[str]:
    """Constructs with a directed path to ``target``, in construct order."""
    preds: dict[str, set[str]] = {}
    for frm, to in spec.paths:
        preds.setdefault(to, set()).add(frm)
    seen: set[str] = set()
    stack = [target]
    while stack:
        for p in preds.get(stack.pop(), ()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return [n for n in spec.construct_names if n in seen and n != target]


def _rank_and_quadrant(df: pd.DataFrame) -> pd.DataFrame:
    df["priority"] = df["importance"] * (100.0 - df["performance"])
    df["rank"] = df["priority"].rank(ascending=False, method="min").astype(int)
    hi_imp = df["importance"] >= df["importance"].mean()
    hi_perf = df["performance"] >= df["performance"].mean()
    df["quadrant"] = np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        list(QUADRANTS[:3]), default=QUADRANTS[3],
    )
    return df.sort_values(["rank"], kind="stable").reset_index(drop=True)


def ipma_scores(results: Any, scale_limits: Any = None) -> tuple[pd.DataFrame, dict[str, pd.Series], pd.DataFrame]:
    """Rescaled (0-100) construct scores and the normalized rescaled weights.

    Returns
    -------
    scores : DataFrame
        One column per construct: scores on the 0-100 scale.
    weights : dict of str -> Series
        Normalized rescaled weights per construct (sum to one).
    rescaled : DataFrame
        The items rescaled to 0-100.
    """
    spec = results.spec
    lim = _limits_for(results, list(spec.indicators), scale_limits, "IPMA")
    data = fit_data(results)[list(spec.indicators)].astype(float)
    check_within_limits(data, lim)
    lo, hi = lim["min"], lim["max"]
    rescaled = 100.0 * (data - lo) / (hi - lo)
    rw = raw_weights(results)
    scores = {}
    weights = {}
    for c in spec.constructs:
        w = rw[c.name]
        check_nonnegative_weights(c.name, w)
        v = w * (hi[w.index] - lo[w.index])
        if v.sum() <= 0:
            raise EstimationError(f"construct {c.name!r} has all outer weights zero", column=list(w.index))
        v = v / v.sum()
        weights[c.name] = v
        scores[c.name] = rescaled[list(v.index)].to_numpy() @ v.to_numpy()
    return pd.DataFrame(scores, index=data.index), weights, rescaled


def unstandardized_paths(spec: Any, scores: pd.DataFrame, w: np.ndarray | None = None) -> np.ndarray:
    """OLS (with intercept; weighted by case weights ``w`` when given) path
    matrix ``B`` (outcome x predictor) on scores.

    An outcome with interaction terms (``y ~ x + m + x:m``) is regressed on
    the products of its mean-centred predictors too, so its paths from ``x``
    and ``m`` are their effects at the mean of the other (the interaction
    coefficients are not part of ``B``)."""
    names = list(spec.construct_names)
    pos = {n: i for i, n in enumerate(names)}
    B = np.zeros((len(names), len(names)))
    Z = scores[names].to_numpy(float)
    sw = np.ones(len(Z)) if w is None else np.sqrt(w)
    Zc = Z - weighted_mean(scores[names], w)
    for out in spec.endogenous:
        preds = list(spec.predecessors(out))
        terms = [r.rhs for r in spec.relations if r.op == "~" and r.lhs == out and r.rhs in spec.interactions]
        prods = [np.prod([Zc[:, pos[p]] for p in t.split(":")], axis=0) for t in terms]
        X = np.column_stack([np.ones(len(Z))] + [Z[:, pos[p]] for p in preds] + prods)
        coef, *_ = np.linalg.lstsq(X * sw[:, None], Z[:, pos[out]] * sw, rcond=None)
        for p, b in zip(preds, coef[1:1 + len(preds)]):
            B[pos[out], pos[p]] = b
    return B


def ipma(results: Any, target: str = "Loyalty", *, level: str = "constructs",
         scale_limits: Any = None) -> pd.DataFrame:
    """Importance-performance analysis (Ringle & Sarstedt 2016).

    Parameters
    ----------
    results : Results
        A PLS fit (CB-SEM fits use factor-score weights, see module doc).
    target : str
        The target construct, ``"Loyalty"`` by default.
    level : {"constructs", "items"}
        Drivers are the constructs with a directed path to the target, or
        their items.
    scale_limits : DataFrame or dict, optional
        Theoretical item limits; required if the results have none.

    Returns
    -------
    DataFrame
        Sorted by ``rank``.  ``level="constructs"``: columns ``construct,
        importance, performance, priority, rank, quadrant``.
        ``level="items"``: columns ``construct, item, weight, importance,
        performance, priority, rank, quadrant`` (``weight`` is the
        normalized rescaled outer weight).  ``importance`` is the
        unstandardized total effect on the target of a one-point (on 0-100)
        rise in the driver, ``performance`` its 0-100 mean, ``priority =
        importance * (100 - performance)``, ``rank`` 1 = improve first,
        ``quadrant`` relative to the mean importance and performance.
    """
    if level not in ("constructs", "items"):
        raise SpecError(f"level must be 'constructs' or 'items', not {level!r}", values=[level])
    warn_unconverged(results, "the importance-performance analysis")
    spec = results.spec
    spec.construct(target)
    drivers = _reaches(spec, target)
    if not drivers:
        raise SpecError(
            f"no construct has a path to {target!r}, so there is nothing to analyse",
            values=[target], hint="choose an endogenous construct as the target",
        )
    scores, weights, rescaled = ipma_scores(results, scale_limits)
    names = list(spec.construct_names)
    cw = fit_case_weights(results)
    T = total_effects_matrix(unstandardized_paths(spec, scores, cw))
    t = names.index(target)
    perf = pd.Series(weighted_mean(scores, cw), index=scores.columns)
    item_perf = pd.Series(weighted_mean(rescaled, cw), index=rescaled.columns)
    if level == "constructs":
        df = pd.DataFrame({
            "construct": drivers,
            "importance": [float(T[t, names.index(d)]) for d in drivers],
            "performance": [float(perf[d]) for d in drivers],
        })
        return _rank_and_quadrant(df)
    rows = []
    for d in drivers:
        te = float(T[t, names.index(d)])
        for item, v in weights[d].items():
            rows.append((d, item, float(v), float(v) * te, float(item_perf[item])))
    df = pd.DataFrame(rows, columns=["construct", "item", "weight", "importance", "performance"])
    return _rank_and_quadrant(df)
