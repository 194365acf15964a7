"""Measurement quality: reliability, convergent and discriminant validity,
cross-loadings and item descriptives.

Functions take a fitted :class:`~csmlib.estimate.results.Results` (PLS or CB-SEM)
and return tidy pandas frames whose columns their docstrings list.

* :func:`reliability` -- Cronbach's alpha, Dijkstra-Henseler rho_A,
  composite reliability rho_C (omega for CB-SEM) and AVE per construct;
  :func:`reliability_assessment` adds pass/fail columns.
* :func:`htmt` -- heterotrait-monotrait ratio (Henseler, Ringle & Sarstedt
  2015) or HTMT2 (Roemer, Schuberth & Henseler 2021);
  :func:`htmt_from_corr` is the vectorized kernel that works on a stack of
  correlation matrices (bootstrap).
* :func:`fornell_larcker`, :func:`cross_loadings`.
* :func:`item_descriptives` -- n, mean, sd, skew, kurtosis, missing share,
  top- and bottom-box shares against the *theoretical* scale limits.

Conventions
-----------
Reliability values follow seminr 2.3.1 (``summary()$reliability``; its
``evaluate_reliability.R``).  SmartPLS 4's values for these cases could not
be checked here (no SmartPLS output for single-item or mode B blocks among
the references), so only seminr's conventions are claimed:

* A single-item construct is treated as perfectly reliable: ``alpha``,
  ``alpha_std``, ``rho_c`` and ``ave`` are 1, and ``rho_a`` is 1 for PLS
  (``n_items`` is 1; seminr: alpha 1, rhoC and AVE 1, rho_A 1).  Internal
  consistency is not a criterion for it.
* A mode B (formative, ``<~``) construct gets ``rho_a`` = 1 (seminr sets
  rho_A of formative constructs to 1); its ``alpha``, ``rho_c`` and ``ave``
  are computed from its items and loadings like any other block, as seminr
  prints them, although they are no criterion for a formative block.
* Two alphas: ``alpha`` is the raw Cronbach's alpha from the item
  *covariance* matrix (psych's ``raw_alpha``, the textbook formula);
  ``alpha_std`` is the standardized alpha from the item *correlation* matrix
  (psych's ``std.alpha``), which is what seminr reports (it computes alpha
  from the item correlation matrix).  They differ when the items'
  variances differ.

In HTMT a single item's monotrait-heteromethod correlation is taken as 1 (as
seminr does), so its HTMT is the heterotrait mean divided by the square root
of the other construct's monotrait mean.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning, EstimationError
from ..estimate.statistics import (htmt_from_corr, htmt_long, htmt_matrix, indicator_frame,
                                   results_htmt, results_indicator_frame)
from ..estimate.results import Results
from ..estimate.prepare import input_frame
from ..spec.modelspec import ModelSpec

__all__ = [
    "reliability",
    "reliability_assessment",
    "DEFAULT_THRESHOLDS",
    "htmt",
    "htmt_from_corr",
    "fornell_larcker",
    "cross_loadings",
    "item_descriptives",
]

#: Usual cut-offs (Hair et al.): alpha, rho_A, rho_C >= 0.7, AVE >= 0.5.
DEFAULT_THRESHOLDS: dict[str, float] = {"alpha": 0.7, "rho_a": 0.7, "rho_c": 0.7, "ave": 0.5}



# ---------------------------------------------------------------------------
# input helpers
# ---------------------------------------------------------------------------
def _check_results(results: Any, what: str) -> Results:
    if not isinstance(results, Results):
        raise DataError(
            f"{what} needs a fitted Results object, got {type(results).__name__}",
            hint="pass the value returned by csm.fit_pls(...) or csm.fit_cbsem(...)",
        )
    return results


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no missing value (listwise deletion)."""
    return frame.dropna(how="any")


def _estimate_lookup(results: Results, op: str) -> dict[tuple[str, str], float]:
    """``(lhs, rhs) -> standardized value`` for rows with ``op``; std_all
    when reported, else est."""
    e = results.estimates
    rows = e[e["op"] == op]
    out: dict[tuple[str, str], float] = {}
    for lhs, rhs, est, std in zip(rows["lhs"], rows["rhs"], rows["est"], rows["std_all"]):
        out[(str(lhs), str(rhs))] = float(std) if np.isfinite(std) else float(est)
    return out


def _blocks(results: Results) -> dict[str, list[str]]:
    """Each construct's indicators as estimated.  A higher-order construct's
    are the right-hand sides of its loading rows: its dimensions (scores) in
    the two-stage approach, the repeated items otherwise."""
    spec = results.spec
    out = {c.name: list(c.indicators) for c in spec.constructs}
    e = results.estimates
    for h in spec.higher_order:
        out[h] = list(dict.fromkeys(e[(e["op"] == "=~") & (e["lhs"] == h)]["rhs"]))
    return out


def _with_dimension_scores(results: Results, data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with the scores of the dimensions that measure a
    higher-order construct (two-stage approach), where they are indicators."""
    blocks = _blocks(results)
    dims = [d for h in results.spec.higher_order for d in blocks[h] if d not in data.columns]
    return data.join(results.scores[dims]) if dims else data


def _std_loadings(results: Results, data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Standardized loadings by construct, in indicator order.

    Taken from the ``F =~ x`` rows (``std_all``, else ``est``).  For PLS, a
    block without loading rows falls back to the correlation of each item
    with the construct score (which is what a PLS loading is).
    """
    lk = _estimate_lookup(results, "=~")
    scores = results.scores
    out: dict[str, np.ndarray] = {}
    for name, inds in _blocks(results).items():
        vals = [lk.get((name, i), np.nan) for i in inds]
        if np.any(~np.isfinite(vals)) and results.method == "pls" and name in getattr(scores, "columns", ()):
            cl = _corr_items_scores(data[inds], scores[[name]])
            vals = [v if np.isfinite(v) else cl.loc[i, name] for v, i in zip(vals, inds)]
        out[name] = np.asarray(vals, dtype=float)
    return out


# ---------------------------------------------------------------------------
# reliability
# ---------------------------------------------------------------------------
def _cronbach_alpha(block: np.ndarray) -> float:
    """alpha = k/(k-1) * (1 - sum(var_i) / var(sum)), from the item covariance."""
    k = block.shape[1]
    if k < 2 or block.shape[0] < 2:
        return np.nan
    S = np.cov(block, rowvar=False, ddof=1)
    total = S.sum()
    if total <= 0:
        return np.nan
    return float(k / (k - 1) * (1.0 - np.trace(S) / total))


def _standardized_alpha(R: np.ndarray) -> float:
    """alpha = k/(k-1) * (1 - k / sum(R)) from the item correlation matrix
    (psych's ``std.alpha``; seminr's alpha)."""
    k = R.shape[0]
    total = R.sum()
    if k < 2 or not total > 0:
        return np.nan
    return float(k / (k - 1) * (1.0 - k / total))


def _rho_a(w: np.ndarray, R: np.ndarray) -> float:
    """Dijkstra-Henseler rho_A from weights ``w`` and indicator correlations ``R``.

    ``w`` is first scaled so that the composite has unit variance
    (``w' R w = 1``); then
    rho_A = (w'w)^2 * w'(R - diag R)w / w'(ww' - diag ww')w.
    """
    if w.size < 2 or not np.all(np.isfinite(w)):
        return np.nan
    v = float(w @ R @ w)
    if v <= 0:
        return np.nan
    w = w / np.sqrt(v)
    ww = np.outer(w, w)
    den = float(w @ (ww - np.diag(np.diag(ww))) @ w)
    if den == 0:
        return np.nan
    num = float(w @ (R - np.diag(np.diag(R))) @ w)
    return float((w @ w) ** 2 * num / den)


def _pair(lookup: dict[tuple[str, str], float], a: str, b: str) -> float:
    v = lookup.get((a, b), lookup.get((b, a), 0.0))
    return float(v) if np.isfinite(v) else 0.0


def reliability(results: Results) -> pd.DataFrame:
    """Internal consistency and convergent validity per construct.

    Parameters
    ----------
    results : Results
        A PLS (``method="pls"``) or CB-SEM (``method="cbsem"``) fit that
        carries its indicator data.

    Returns
    -------
    DataFrame
        Index: construct name (model order).  Columns:

        - ``alpha``: raw Cronbach's alpha from the item covariance matrix
          of the data (listwise complete rows of the block; psych's
          ``raw_alpha``).
        - ``alpha_std``: standardized alpha from the item correlation
          matrix of the same rows (psych's ``std.alpha``; the alpha seminr
          reports).
        - ``rho_a``: Dijkstra-Henseler rho_A from the PLS outer weights
          (``F <~ x``; standardized, rescaled to unit composite variance) and
          the indicator correlation matrix; 1 for a mode B construct (as
          seminr).  NaN for CB-SEM results, which have no outer weights.
        - ``rho_c``: composite reliability (sum l)^2 / ((sum l)^2 + sum(1 - l^2))
          from the standardized loadings l.  For CB-SEM this is omega, with
          the model's standardized residual variances (``x ~~ x`` std_all)
          in place of 1 - l^2, plus twice the standardized residual
          covariances among the block's items (``x ~~ y``), if any.
        - ``ave``: average variance extracted, the mean squared standardized
          loading.  (For a consistent PLS fit the loadings are the
          PLSc-corrected ones, as cSEM reports.)
        - ``n_items``: number of indicators.

        Single-item constructs get 1 in every statistic (``rho_a``: PLS
        only) and ``n_items`` 1, as seminr reports them.  Mode B
        (formative) constructs get ``rho_a`` 1 and the other statistics as
        any block (as seminr); internal consistency is not a criterion for
        them.  See the module docstring.

    Raises
    ------
    DataError
        If the results carry no data or an indicator is not numeric.
    """
    results = _check_results(results, "reliability")
    data = _with_dimension_scores(results, results_indicator_frame(results, "reliability"))
    loadings = _std_loadings(results, data)
    blocks = _blocks(results)
    weights = _estimate_lookup(results, "<~") if results.method == "pls" else {}
    resid = _estimate_lookup(results, "~~") if results.method == "cbsem" else {}
    rows = []
    for c in results.spec.constructs:
        items = blocks[c.name]
        k = len(items)
        row = {"alpha": np.nan, "alpha_std": np.nan, "rho_a": np.nan, "rho_c": np.nan, "ave": np.nan,
               "n_items": k}
        if k == 1:      # a single item: perfectly reliable by convention (seminr)
            row.update(alpha=1.0, alpha_std=1.0, rho_c=1.0, ave=1.0,
                       rho_a=1.0 if results.method == "pls" else np.nan)
        if k >= 2:
            block = _complete(data[items]).to_numpy()
            row["alpha"] = _cronbach_alpha(block)
            if block.shape[0] > 2:
                row["alpha_std"] = _standardized_alpha(np.corrcoef(block, rowvar=False))
            lam = loadings[c.name]
            if np.all(np.isfinite(lam)):
                if results.method == "cbsem":
                    theta = np.array([resid.get((i, i), np.nan) for i in items], dtype=float)
                    theta = np.where(np.isfinite(theta), theta, 1.0 - lam**2)
                    # residual covariances within the block count as error
                    err = theta.sum() + 2.0 * sum(
                        _pair(resid, a, b) for n, a in enumerate(items) for b in items[n + 1:]
                    )
                else:
                    err = float(np.sum(1.0 - lam**2))
                s2 = lam.sum() ** 2
                row["rho_c"] = float(s2 / (s2 + err))
                row["ave"] = float(np.mean(lam**2))
            if results.method == "pls":
                w = np.array([weights.get((c.name, i), np.nan) for i in items], dtype=float)
                if c.mode == "B":
                    row["rho_a"] = 1.0
                elif block.shape[0] > 2:
                    R = np.corrcoef(block, rowvar=False)
                    row["rho_a"] = _rho_a(w, R)
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(results.spec.construct_names, name="construct"))
    out["n_items"] = out["n_items"].astype(int)
    return out


def reliability_assessment(
    results: Results, thresholds: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """:func:`reliability` with pass/fail columns against thresholds.

    Parameters
    ----------
    results : Results
    thresholds : mapping, optional
        Minimum acceptable value per statistic; defaults to
        :data:`DEFAULT_THRESHOLDS` (alpha, rho_a, rho_c >= 0.7; ave >= 0.5).
        Keys must be among ``alpha, rho_a, rho_c, ave``.

    Returns
    -------
    DataFrame
        The columns of :func:`reliability` plus, for every thresholded
        statistic, ``<stat>_ok`` (nullable boolean: True when the value is at
        least the threshold, NA when the statistic is NaN, e.g. single
        items or rho_a of CB-SEM).
    """
    th = dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
    unknown = [k for k in th if k not in DEFAULT_THRESHOLDS]
    if unknown:
        raise DataError(
            "unknown reliability statistic(s) in thresholds",
            values=unknown,
            hint=f"use keys among: {', '.join(DEFAULT_THRESHOLDS)}",
        )
    rel = reliability(results)
    for stat, cut in th.items():
        v = rel[stat]
        ok = pd.array([pd.NA if not np.isfinite(x) else bool(x >= cut) for x in v], dtype="boolean")
        rel[f"{stat}_ok"] = ok
    return rel


# ---------------------------------------------------------------------------
# HTMT
# ---------------------------------------------------------------------------
def htmt(
    obj: Results | ModelSpec,
    data: pd.DataFrame | Any = None,
    *,
    method: str = "arithmetic",
    tidy: bool = False,
    absolute: bool = True,
) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations for every construct pair.

    Parameters
    ----------
    obj : Results or ModelSpec
        A fit (its spec and indicator data are used) or a specification,
        then ``data`` is required.
    data : DataFrame or Survey, optional
        Indicator data when ``obj`` is a ModelSpec (a Survey's ``.data`` is
        used).
    method : {"arithmetic", "geometric"}
        Original HTMT (default) or HTMT2, see :func:`htmt_from_corr`.
    tidy : bool
        Return a long frame instead of the square one.
    absolute : bool
        Use absolute item correlations (default).

    Returns
    -------
    DataFrame
        Square construct x construct frame (NaN diagonal), or with
        ``tidy=True`` one row per pair (``lhs`` before ``rhs`` in model
        order) with columns ``lhs, rhs, htmt``.

    Notes
    -----
    Pearson correlations of the listwise complete rows of the model's
    indicators.  Single-item constructs: see the module docstring.
    """
    if isinstance(obj, Results):
        square = results_htmt(obj, method=method, absolute=absolute)
    elif isinstance(obj, ModelSpec):
        if data is None:
            raise DataError("htmt(spec, data) needs the data when given a model specification",
                            hint="pass the survey or DataFrame as the second argument")
        square = htmt_matrix(indicator_frame(data, obj, "htmt"), obj, method=method, absolute=absolute)
    else:
        raise DataError(f"htmt needs a Results object or a ModelSpec, got {type(obj).__name__}",
                        hint="pass csm.fit_pls(...) results, or a spec and the data")
    return htmt_long(square) if tidy else square




# ---------------------------------------------------------------------------
# Fornell-Larcker, cross-loadings
# ---------------------------------------------------------------------------
def _corr_items_scores(items: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of every item with every score (pairwise complete)."""
    if len(items) != len(scores):
        raise DataError(
            f"the fit's data have {len(items)} rows but its scores {len(scores)}",
            hint="the results are inconsistent; refit the model",
        )
    X = items.reset_index(drop=True).astype(float)
    S = scores.reset_index(drop=True).astype(float)
    out = pd.DataFrame(index=X.columns, columns=S.columns, dtype=float)
    for s in S.columns:
        out[s] = X.corrwith(S[s])
    return out


def _construct_correlations(results: Results) -> pd.DataFrame:
    """Construct correlations: PLS score correlations (PLSc: the fit's
    consistent construct correlations); CB-SEM model-implied
    latent correlations Phi = (I - B)^-1 Psi (I - B)^-T from the estimates
    (falling back to score correlations if the estimates lack a variance)."""
    names = list(results.spec.construct_names)
    consistent = results.extra.get("construct_corr") if results.options.get("consistent") else None
    if results.method == "pls" and isinstance(consistent, pd.DataFrame) and set(names) <= set(consistent.index):
        # PLSc: the fit's consistent (disattenuated) construct correlations
        return consistent.loc[names, names].astype(float)
    if results.method == "cbsem":
        phi = _implied_latent_cov(results, names)
        if phi is not None:
            d = np.sqrt(np.diag(phi))
            return pd.DataFrame(phi / np.outer(d, d), index=names, columns=names)
    scores = results.scores
    if scores is None or not set(names) <= set(scores.columns):
        raise EstimationError(
            "construct correlations need the construct scores, which these results lack",
            column=[n for n in names if scores is None or n not in scores.columns],
            hint="refit the model; PLS and CB-SEM fits carry construct scores",
        )
    return scores[names].astype(float).corr()


def _implied_latent_cov(results: Results, names: list[str]) -> np.ndarray | None:
    e = results.estimates
    k = len(names)
    pos = {n: i for i, n in enumerate(names)}
    B = np.zeros((k, k))
    psi = np.full((k, k), np.nan)
    for lhs, op, rhs, est in zip(e["lhs"], e["op"], e["rhs"], e["est"]):
        if lhs in pos and rhs in pos:
            if op == "~":
                B[pos[lhs], pos[rhs]] = est
            elif op == "~~":
                psi[pos[lhs], pos[rhs]] = psi[pos[rhs], pos[lhs]] = est
    if not np.all(np.isfinite(np.diag(psi))):
        return None
    psi = np.where(np.isfinite(psi), psi, 0.0)
    try:
        inv = np.linalg.inv(np.eye(k) - B)
    except np.linalg.LinAlgError:
        return None
    phi = inv @ psi @ inv.T
    if np.any(np.diag(phi) <= 0):
        return None
    return phi


def fornell_larcker(results: Results) -> pd.DataFrame:
    """Fornell-Larcker criterion table.

    Parameters
    ----------
    results : Results
        PLS or CB-SEM fit with its data.

    Returns
    -------
    DataFrame
        Square construct x construct frame: sqrt(AVE) on the diagonal
        (1 for single-item constructs, whose AVE is 1 by convention), construct correlations off the
        diagonal (PLS: correlations of the construct scores, or for a
        consistent PLS fit its consistent construct correlations; CB-SEM:
        the model-implied latent correlations).  Discriminant validity holds
        for a construct when its diagonal value exceeds its correlations.
    """
    results = _check_results(results, "fornell_larcker")
    rel = reliability(results)
    corr = _construct_correlations(results)
    names = list(results.spec.construct_names)
    out = corr.loc[names, names].copy()
    for n in names:
        out.loc[n, n] = np.sqrt(rel.loc[n, "ave"])
    return out


def cross_loadings(results: Results) -> pd.DataFrame:
    """Correlation of every item with every construct score.

    Parameters
    ----------
    results : Results
        A fit carrying its indicator data and construct scores.

    Returns
    -------
    DataFrame
        Index: item (model order); columns: construct names.  An item
        should correlate more with its own construct than with any other.
    """
    results = _check_results(results, "cross_loadings")
    data = results_indicator_frame(results, "cross_loadings")
    scores = results.scores
    names = list(results.spec.construct_names)
    missing = [n for n in names if scores is None or n not in scores.columns]
    if missing:
        raise EstimationError(
            "cross-loadings need the construct scores, which these results lack",
            column=missing, hint="refit the model; PLS and CB-SEM fits carry construct scores",
        )
    out = _corr_items_scores(data, scores[names])
    out.index.name = "item"
    return out


# ---------------------------------------------------------------------------
# item descriptives
# ---------------------------------------------------------------------------
def _limits_frame(limits: Any, items: list[str]) -> pd.DataFrame | None:
    """Normalize scale limits to a frame (index item, columns min, max)."""
    if limits is None:
        return None
    if isinstance(limits, pd.DataFrame):
        if not {"min", "max"} <= set(limits.columns):
            raise DataError("scale_limits must have columns 'min' and 'max'",
                            column=[str(c) for c in limits.columns],
                            hint="pass a frame indexed by item with columns min and max, "
                            "a dict {item: (min, max)}, or one (min, max) pair for every item")
        lim = limits[["min", "max"]]
    elif isinstance(limits, Mapping):
        lim = pd.DataFrame({k: tuple(v) for k, v in limits.items()}, index=["min", "max"]).T
    elif isinstance(limits, (tuple, list)) and len(limits) == 2 and np.isscalar(limits[0]):
        lim = pd.DataFrame({"min": [limits[0]] * len(items), "max": [limits[1]] * len(items)}, index=items)
    else:
        raise DataError(f"cannot read scale_limits of type {type(limits).__name__}",
                        hint="pass a frame indexed by item with columns min and max, "
                        "a dict {item: (min, max)}, or one (min, max) pair for every item")
    lim = lim.astype(float)
    bad = [str(i) for i in lim.index if not lim.loc[i, "max"] > lim.loc[i, "min"]]
    if bad:
        raise DataError("scale maximum must exceed the scale minimum", column=bad,
                        hint="correct the scale limits in the instrument")
    return lim


def item_descriptives(
    data: pd.DataFrame | Results | Any,
    *,
    scale_limits: Any = None,
    items: Sequence[str] | None = None,
    top: int = 1,
    bottom: int = 1,
    step: float = 1.0,
) -> pd.DataFrame:
    """Descriptive statistics per item.

    Parameters
    ----------
    data : DataFrame, Survey or Results
        Item answers.  A Survey contributes its ``.data`` and
        ``.scale_limits``; Results their indicator data and scale limits.
    scale_limits : DataFrame, dict or (min, max), optional
        Theoretical scale limits: a frame indexed by item with columns
        ``min`` and ``max``, a dict ``{item: (min, max)}``, or one pair for
        every item.  Overrides the limits carried by ``data``.  Never the
        observed range: without limits the box shares are NaN (with a
        DataWarning).
    items : sequence of str, optional
        Items to describe; default: the model's indicators (Results), the
        instrument's items (Survey), else every numeric column.
    top, bottom : int
        Width of the top / bottom box in scale points: ``top=2`` counts the
        two highest points (answers ``>= max - step``).
    step : float
        Distance between adjacent scale points (1 for the usual 1..5 or
        1..10 scales; 20 for a 0-100 scale in steps of 20).

    Returns
    -------
    DataFrame
        Index: item.  Columns:

        - ``n``: non-missing answers;
        - ``mean``, ``sd`` (n - 1 denominator);
        - ``skew``: adjusted Fisher-Pearson skewness G1 (as SPSS, Excel);
        - ``kurtosis``: excess kurtosis G2 (as SPSS, Excel; 0 for a normal);
        - ``share_missing``: missing answers / rows;
        - ``scale_min``, ``scale_max``: theoretical limits (NaN if unknown);
        - ``top_box``, ``bottom_box``: share of non-missing answers in the
          top / bottom ``top`` / ``bottom`` scale points.

    Raises
    ------
    DataError
        A requested item is absent or not numeric, or an answer lies
        outside its scale limits.
    """
    carried = None
    if isinstance(data, Results):
        frame = results_indicator_frame(data, "item_descriptives")
        carried = data.scale_limits
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = input_frame(data, "item_descriptives")[0]
        carried = getattr(data, "scale_limits", None)
    for name, v in (("top", top), ("bottom", bottom)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise DataError(f"{name} must be a positive integer number of scale points",
                            values=[v], hint=f"use {name}=1 for the single extreme point, 2 for two")
    if items is None:
        items = [str(c) for c in frame.columns
                 if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
        if isinstance(carried, pd.DataFrame) and scale_limits is None and not isinstance(data, Results):
            # a Survey: its instrument says which columns are items
            known = set(map(str, carried.index))
            items = [c for c in items if c in known]
    else:
        items = list(items)
        absent = [i for i in items if i not in frame.columns]
        if absent:
            raise DataError(f"{len(absent)} item(s) are not columns of the data", column=absent,
                            hint="check the item names")
        bad = [i for i in items if not pd.api.types.is_numeric_dtype(frame[i])
               or pd.api.types.is_bool_dtype(frame[i])]
        if bad:
            raise DataError(f"{len(bad)} item(s) are not numeric", column=bad,
                            hint="recode the answers as numbers (read the survey with its instrument)")
    if isinstance(step, bool) or not isinstance(step, (int, float, np.integer, np.floating)) or not step > 0:
        raise DataError("step must be a positive number (the distance between scale points)",
                        values=[step], hint="use step=1 for the usual integer scales")
    X = frame[items].astype(float)
    lim = _limits_frame(scale_limits if scale_limits is not None else carried, items)
    if lim is None or not set(items) <= set(lim.index):
        unknown = items if lim is None else [i for i in items if i not in lim.index]
        warnings.warn(
            f"no scale limits for {len(unknown)} item(s) ({', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''}): top- and bottom-box shares are NaN; "
            "pass scale_limits= or read the survey with its instrument",
            DataWarning, stacklevel=2,
        )
    rows = []
    for i in items:
        x = X[i]
        v = x.dropna()
        lo = hi = np.nan
        if lim is not None and i in lim.index:
            lo, hi = float(lim.loc[i, "min"]), float(lim.loc[i, "max"])
            outside = x[(x < lo) | (x > hi)]
            if len(outside):
                raise DataError(
                    f"{len(outside)} answer(s) of item {i!r} lie outside its scale {lo:g}..{hi:g}",
                    column=i,
                    rows=[int(p) + 1 for p in np.flatnonzero(((x < lo) | (x > hi)).to_numpy())],
                    values=outside.tolist(),
                    hint="declare the codes as missing in the instrument or correct the scale limits",
                )
        n = int(v.size)
        rows.append({
            "n": n,
            "mean": float(v.mean()) if n else np.nan,
            "sd": float(v.std(ddof=1)) if n > 1 else np.nan,
            "skew": float(v.skew()) if n > 2 else np.nan,
            "kurtosis": float(v.kurt()) if n > 3 else np.nan,
            "share_missing": float(x.isna().mean()) if len(x) else np.nan,
            "scale_min": lo,
            "scale_max": hi,
            "top_box": float((v >= hi - (top - 1) * step).mean()) if n and np.isfinite(hi) else np.nan,
            "bottom_box": float((v <= lo + (bottom - 1) * step).mean()) if n and np.isfinite(lo) else np.nan,
        })
    out = pd.DataFrame(rows, index=pd.Index(items, name="item"))
    out["n"] = out["n"].astype(int)
    return out
