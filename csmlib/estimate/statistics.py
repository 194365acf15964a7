"""Statistics of a fit that both the bootstrap (estimate layer) and the
analyses (analysis layer) compute, so that one resample's value and the
reported value come from one formula: the kernels on moments
(:func:`index_from_moments`, :func:`htmt_from_corr`, vectorized for the
batched engines), and what a fit's index and HTMT read from the fit (its
data and case weights, the raw weights of a block, :func:`block_index`,
:func:`results_htmt`), which :mod:`csmlib.analysis.index`,
:mod:`csmlib.analysis.measurement` and the bootstrap's loop engine share.
The inverse-square-root minimum sample size (:func:`min_n_inverse_sqrt`) is
here because :func:`csmlib.fit_pls` checks its own sample against it;
:mod:`csmlib.analysis.planning` re-exports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import DataError, EstimationError, SpecError

__all__ = ["HTMT_METHODS", "block_index", "check_nonnegative_weights", "check_power", "check_probability",
           "check_within_limits", "fit_case_weights", "fit_data", "htmt_from_corr", "htmt_long", "htmt_matrix",
           "index_from_moments", "indicator_frame", "min_n_inverse_sqrt", "raw_weights", "resolve_scale_limits",
           "results_htmt", "results_indicator_frame", "warn_unconverged", "weighted_mean"]

#: The ``method`` values of :func:`htmt_from_corr`.
HTMT_METHODS = ("arithmetic", "geometric")


def resolve_scale_limits(results: Any, scale_limits: Any = None) -> pd.DataFrame | None:
    """Theoretical item limits as a frame (index = item, columns ``min, max``).

    ``scale_limits`` (a frame with columns ``min, max`` indexed by item, or a
    mapping ``item -> (min, max)``) overrides the limits stored with the
    results (``results.scale_limits``, from the survey instrument).  Returns
    None if neither is available.
    """
    lim = scale_limits if scale_limits is not None else getattr(results, "scale_limits", None)
    if lim is None:
        return None
    if isinstance(lim, Mapping):
        rows = {}
        for item, pair in lim.items():
            try:
                lo, hi = pair
            except (TypeError, ValueError):
                raise DataError(
                    "scale_limits must map each item to a (min, max) pair",
                    column=str(item), values=[pair],
                    hint="e.g. scale_limits={'CUSA1': (1, 10), 'CUSA2': (1, 10)}",
                ) from None
            rows[str(item)] = (lo, hi)
        lim = pd.DataFrame.from_dict(rows, orient="index", columns=["min", "max"])
    if not isinstance(lim, pd.DataFrame) or not {"min", "max"} <= set(lim.columns):
        raise DataError(
            "scale_limits must be a DataFrame with columns 'min' and 'max' indexed by item, "
            "or a mapping item -> (min, max)",
            hint="e.g. pd.DataFrame({'min': 1, 'max': 10}, index=['CUSA1', 'CUSA2'])",
        )
    out = pd.DataFrame(index=lim.index.astype(str))
    for c in ("min", "max"):
        vals = pd.to_numeric(pd.Series(lim[c].to_numpy(), index=out.index), errors="coerce")
        bad = vals.index[~np.isfinite(vals.to_numpy(dtype=float))]
        if len(bad):
            raise DataError(
                f"scale limit '{c}' is missing or not a number",
                column=list(bad), values=list(lim.loc[lim.index.astype(str).isin(bad), c]),
                hint="give every item the numeric minimum and maximum of its answer scale",
            )
        out[c] = vals.astype(float)
    bad = out.index[out["max"] <= out["min"]]
    if len(bad):
        raise DataError(
            "scale limit 'max' must be greater than 'min'",
            column=list(bad), values=[tuple(v) for v in out.loc[bad, ["min", "max"]].to_numpy()],
            hint="check the instrument's scale definition for these items",
        )
    return out


def index_from_moments(weights: np.ndarray, means: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The index formula on arrays, vectorized over leading axes.

    ``100 * sum w (mean - lo) / sum w (hi - lo)`` over the last axis.
    """
    num = np.sum(weights * (means - lo), axis=-1)
    den = np.sum(weights * (hi - lo), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * num / den


def htmt_from_corr(
    R: np.ndarray,
    blocks: Sequence[Sequence[int]],
    *,
    method: str = "arithmetic",
    absolute: bool = True,
) -> np.ndarray:
    """HTMT on one correlation matrix or a stack of them, vectorized.

    Parameters
    ----------
    R : ndarray, shape (..., p, p)
        Indicator correlation matrices (any leading batch dimensions).
    blocks : sequence of sequences of int
        Column positions in ``R`` of each construct's indicators.
    method : {"arithmetic", "geometric"}
        ``"arithmetic"``: the original HTMT (Henseler et al. 2015), mean
        heterotrait-heteromethod correlation over the geometric mean of the
        two mean monotrait-heteromethod correlations.  ``"geometric"``:
        HTMT2 (Roemer et al. 2021), every mean a geometric mean.
    absolute : bool
        Use absolute correlations (default, as seminr and cSEM do).

    Returns
    -------
    ndarray, shape (..., k, k)
        Symmetric, NaN on the diagonal.  A single-item block's monotrait
        term is 1.
    """
    if method not in HTMT_METHODS:
        raise DataError(f"unknown HTMT method {method!r}", values=[method],
                        hint=f"use one of: {', '.join(HTMT_METHODS)}")
    R = np.asarray(R, dtype=float)
    if R.ndim < 2 or R.shape[-1] != R.shape[-2]:
        raise DataError(f"R must be a (stack of) square matrices, got shape {R.shape}",
                        hint="pass correlation matrices of shape (..., p, p)")
    p = R.shape[-1]
    k = len(blocks)
    M = np.zeros((k, p))
    for b, idx in enumerate(blocks):
        idx = list(idx)
        if not idx or min(idx) < 0 or max(idx) >= p:
            raise DataError(f"block {b} has indicator positions outside 0..{p - 1}",
                            values=idx, hint="give each block's column positions in R")
        M[b, idx] = 1.0
    off = 1.0 - np.eye(p)
    A = np.abs(R) if absolute else R.copy()
    if method == "geometric":
        if np.any(A[..., off.astype(bool)] < 0):
            raise DataError(
                "HTMT2 (geometric means) is defined for positive item correlations only",
                hint="use absolute=True, or reverse-code the negatively worded items",
            )
        # log(0) = -inf would poison the matrix products; a tiny floor keeps a
        # zero correlation's geometric contribution at (practically) zero
        A = np.log(np.maximum(A, 1e-300))
    bad = np.isnan(A) & off.astype(bool)
    A = np.where(off.astype(bool) & ~bad, A, 0.0)
    sums = M @ A @ M.T                          # (..., k, k)
    counts = M @ off @ M.T                      # (k, k)
    n_bad = M @ bad.astype(float) @ M.T         # NaN correlations touching a pair
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / counts
        if method == "geometric":
            means = np.exp(means)
        means = np.where(n_bad > 0, np.nan, means)
        mono = np.diagonal(means, axis1=-2, axis2=-1).copy()   # (..., k)
        single = np.diag(counts) == 0
        mono[..., single] = 1.0
        out = means / np.sqrt(mono[..., :, None] * mono[..., None, :])
    idx = np.arange(k)
    out[..., idx, idx] = np.nan
    return out


# ---------------------------------------------------------------------------
# a fit's data, case weights and raw weights: what the index and HTMT of a fit
# read, for the analyses and for the bootstrap's loop engine alike
# ---------------------------------------------------------------------------
def fit_data(results: Any) -> pd.DataFrame:
    """The data a fit kept (``results.data``); an EstimationError when it kept none."""
    data = getattr(results, "data", None)
    if data is None:
        raise EstimationError(
            "these results carry no indicator data, so item means cannot be computed",
            hint="refit the model with csm.fit_pls / csm.fit_cbsem (they keep the data they used)",
        )
    return data


def fit_case_weights(results: Any) -> np.ndarray | None:
    """The case weights of a weighted fit (``fit_pls(..., weights=)``), or None."""
    w = (getattr(results, "extra", None) or {}).get("case_weights")
    return None if w is None else np.asarray(w, float)


def weighted_mean(frame: pd.DataFrame, w: np.ndarray | None) -> np.ndarray:
    """Column means of ``frame``, weighted by case weights ``w`` when given."""
    X = frame.to_numpy(float)
    return X.mean(axis=0) if w is None else (w @ X) / w.sum()


def warn_unconverged(results: Any, what: str) -> None:
    """An index or IPMA on a fit that did not converge is reported, not hidden."""
    if getattr(results, "converged", True) is False:
        import warnings

        from ..errors import EstimationWarning

        warnings.warn(f"{what} rests on a fit that did not converge "
                      f"({getattr(results, 'message', '')}); do not report it as it stands",
                      EstimationWarning, stacklevel=3)


def _raw_weights_from_extra(rw: Any, spec: Any) -> dict[str, pd.Series] | None:
    out: dict[str, pd.Series] = {}
    if isinstance(rw, pd.DataFrame):
        if {"lhs", "rhs"} <= set(rw.columns):
            col = next((c for c in ("est", "weight", "raw_weight", "value") if c in rw.columns), None)
            if col is None:
                return None
            for c in spec.constructs:
                sub = rw[rw["lhs"] == c.name]
                out[c.name] = pd.Series(sub[col].to_numpy(float), index=sub["rhs"].astype(str))
            return out
        # wide: rows = items, columns = constructs
        for c in spec.constructs:
            if c.name in rw.columns:
                out[c.name] = rw.loc[list(c.indicators), c.name].astype(float)
        return out or None
    if isinstance(rw, pd.Series):
        if isinstance(rw.index, pd.MultiIndex):
            for c in spec.constructs:
                if c.name in rw.index.get_level_values(0):
                    out[c.name] = rw.loc[c.name].astype(float)
            return out
        for c in spec.constructs:
            out[c.name] = rw.reindex(list(c.indicators)).astype(float)
        return out
    if isinstance(rw, Mapping):
        for c in spec.constructs:
            if c.name in rw:
                v = rw[c.name]
                out[c.name] = (v.astype(float) if isinstance(v, pd.Series)
                               else pd.Series(dict(v) if isinstance(v, Mapping) else list(v),
                                              index=None if isinstance(v, Mapping) else list(c.indicators),
                                              dtype=float))
        return out
    return None


def raw_weights(results: Any, construct: str | None = None) -> dict[str, pd.Series]:
    """Raw-metric (unstandardized) weights of each block.

    Parameters
    ----------
    results : Results
        A PLS or CB-SEM fit (see the module docstring for where the weights
        come from).
    construct : str, optional
        Only this construct.

    Returns
    -------
    dict of str -> Series
        Construct name -> weights indexed by item, in block order.  Not
        normalized (the index and IPMA are invariant to their scale).
    """
    spec = results.spec
    names = [construct] if construct is not None else list(spec.construct_names)
    for n in names:
        spec.construct(n)  # SpecError naming the valid constructs
    out: dict[str, pd.Series] = {}
    if results.method == "pls":
        rw = _raw_weights_from_extra(results.extra.get("raw_weights"), spec) if results.extra else None
        est = results.estimates
        for n in names:
            items = list(spec.items_of(n))
            if rw is not None and n in rw and rw[n].reindex(items).notna().all():
                out[n] = rw[n].reindex(items).astype(float)
                continue
            w = est[(est["op"] == "<~") & (est["lhs"] == n)].set_index("rhs")["est"].reindex(items)
            if w.isna().any():
                raise EstimationError(
                    f"the results have no outer weights for construct {n!r}",
                    column=[i for i in items if pd.isna(w.get(i))],
                    hint="fit the model with csm.fit_pls",
                )
            if results.options.get("standardize", True):
                sd = fit_data(results)[items].astype(float).std(ddof=1)
                w = w / sd
            out[n] = w.astype(float)
        return out
    # CB-SEM: factor-score regression weights lambda / theta of each block
    est = results.estimates
    for n in names:
        c = spec.construct(n)
        items = list(c.indicators)
        comp = est[(est["op"] == "<~") & (est["lhs"] == n)].set_index("rhs")["est"].reindex(items)
        if comp.notna().all():
            out[n] = comp.astype(float)
            continue
        lam = est[(est["op"] == "=~") & (est["lhs"] == n)].set_index("rhs")["est"].reindex(items)
        if len(items) == 1:
            out[n] = pd.Series([1.0], index=items)
            continue
        var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])].set_index("lhs")["est"]
        theta = var.reindex(items)
        if lam.isna().any() or theta.isna().any():
            raise EstimationError(
                f"the results lack the loadings or residual variances of construct {n!r} "
                "needed for its factor-score weights",
                column=items, hint="fit the model with csm.fit_cbsem or csm.fit_pls",
            )
        bad = theta.index[theta.to_numpy() <= 0]
        if len(bad):
            raise EstimationError(
                f"construct {n!r} has non-positive residual variances (a Heywood case), "
                "so its factor-score weights are undefined",
                column=list(bad), values=list(theta[bad]),
                hint="fix the measurement model, or use PLS (csm.fit_pls) for the index",
            )
        out[n] = (lam / theta).astype(float)
    return out


def check_nonnegative_weights(construct: str, w: pd.Series) -> None:
    """An EstimationError naming the items of ``construct`` whose raw weight
    ``w`` is negative (the 0-100 index is not defined then)."""
    neg = w.index[w.to_numpy() < 0]
    if len(neg):
        raise EstimationError(
            f"construct {construct!r} has negative outer weights, so its 0-100 index is not "
            "defined (an item that lowers the index as it rises)",
            column=list(neg), values=[round(float(v), 6) for v in w[neg]],
            hint="check for reverse-coded items not recoded in the instrument, or drop the "
            "item from the block; csmlib does not hide negative weights",
        )


def block_index(results: Any, construct: str, w: pd.Series, lim: pd.DataFrame) -> tuple[float, np.ndarray]:
    """The 0-100 index of one block of a fit, with the checks that make it
    defined: the index formula (:func:`index_from_moments`) on the raw
    weights ``w`` (indexed by item), the fit's (case-weighted) item means
    and the theoretical limits ``lim`` (columns ``min, max``, rows in the
    order of ``w``).

    Returns
    -------
    tuple
        The index (float) and the item means (ndarray, in the order of ``w``).

    Raises
    ------
    EstimationError
        A negative weight, or all weights zero.
    DataError
        Answers outside the theoretical limits (the first 10 rows named).
    """
    items = list(w.index)
    check_nonnegative_weights(construct, w)
    if not np.any(w.to_numpy() > 0):
        raise EstimationError(
            f"construct {construct!r} has all outer weights zero; its index is undefined",
            column=items, hint="check the block's items for constant answers",
        )
    data = fit_data(results)[items].astype(float)
    check_within_limits(data, lim)
    means = weighted_mean(data, fit_case_weights(results))
    lo, hi = lim["min"].to_numpy(), lim["max"].to_numpy()
    return float(index_from_moments(w.to_numpy(), means, lo, hi)), means


def check_within_limits(data: pd.DataFrame, lim: pd.DataFrame) -> None:
    """A DataError naming the first item of ``data`` with answers outside
    its theoretical limits (``lim``: columns ``min, max``, a row per column
    of ``data``), the first 10 such rows (1-based) and their values; the
    index and IPMA are not defined on them."""
    lo, hi = lim["min"].to_numpy(), lim["max"].to_numpy()
    outside = data.lt(lo, axis=1) | data.gt(hi, axis=1)
    if outside.to_numpy().any():
        col = outside.any().idxmax()
        rows = list(np.flatnonzero(outside[col].to_numpy())[:10] + 1)
        raise DataError(
            f"item answers lie outside the item's theoretical scale [{lim.loc[col, 'min']:g}, "
            f"{lim.loc[col, 'max']:g}]",
            column=col, rows=rows, values=list(data[col].to_numpy()[np.array(rows) - 1]),
            hint="recode out-of-range answers (missing codes?) or correct the scale limits",
        )


def results_indicator_frame(results: Any, what: str) -> pd.DataFrame:
    """The indicator data of a fit, checked: every indicator present and numeric."""
    data = results.data
    if data is None or len(data) == 0:
        raise DataError(
            f"{what} needs the indicator data, but these {results.method} results carry none",
            hint="refit the model with csm.fit_pls / csm.fit_cbsem on the survey data "
            "(results built by hand must pass _data=...)",
        )
    return indicator_frame(data, results.spec, what)


def indicator_frame(data: Any, spec: Any, what: str) -> pd.DataFrame:
    """The model's indicators of ``data`` (DataFrame or Survey), checked by
    :func:`~csmlib.estimate.prepare.prepare_input`; incomplete rows kept."""
    from .prepare import prepare_input

    return prepare_input(spec, data, missing="available", what=what).frame


def _check_variance(frame: pd.DataFrame) -> None:
    sd = frame.std(ddof=1)
    const = [str(c) for c in sd.index[~(sd > 0)]]
    if const:
        raise DataError(
            f"{len(const)} indicator(s) have no variance, so their correlations are undefined",
            column=const,
            hint="drop the constant items from the model",
        )


def htmt_matrix(frame: pd.DataFrame, spec: Any, *, case_weights: pd.Series | None = None,
                method: str = "arithmetic", absolute: bool = True) -> pd.DataFrame:
    """HTMT of every pair of first-order constructs from indicator data.

    Parameters
    ----------
    frame : DataFrame
        The model's indicators (incomplete rows are dropped: listwise).
    spec : ModelSpec
        The blocks.
    case_weights : Series, optional
        Case weights indexed like ``frame`` (a weighted fit): weighted
        correlations.
    method, absolute
        As in :func:`htmt_from_corr`.

    Returns
    -------
    DataFrame
        Square construct x construct frame, NaN on the diagonal.

    Raises
    ------
    DataError
        Fewer than 3 complete rows, or an indicator without variance.
    """
    frame = frame.dropna(how="any")
    if len(frame) < 3:
        raise DataError(f"htmt needs at least 3 complete rows, the data have {len(frame)}",
                        hint="check the missing values of the indicators")
    _check_variance(frame)
    pos = {x: n for n, x in enumerate(frame.columns)}
    first_order = [c for c in spec.constructs if c.name not in spec.higher_order]   # HTMT is item-level
    blocks = [[pos[i] for i in c.indicators] for c in first_order]
    if case_weights is None:
        R = np.corrcoef(frame.to_numpy(), rowvar=False)
    else:   # a weighted fit: weighted correlations
        C = np.cov(frame.to_numpy(), rowvar=False, aweights=case_weights.loc[frame.index].to_numpy())
        sd = np.sqrt(np.diag(C))
        R = C / sd[:, None] / sd[None, :]
    names = pd.Index([c.name for c in first_order])
    return pd.DataFrame(htmt_from_corr(R, blocks, method=method, absolute=absolute), index=names, columns=names)


def results_htmt(results: Any, *, method: str = "arithmetic", absolute: bool = True) -> pd.DataFrame:
    """:func:`htmt_matrix` of a fit's own data (weighted like the fit).

    Returns
    -------
    DataFrame
        Square construct x construct frame, NaN on the diagonal.
    """
    frame = results_indicator_frame(results, "htmt")
    cw = fit_case_weights(results)
    weights = None if cw is None else pd.Series(cw, index=results.data.index)
    return htmt_matrix(frame, results.spec, case_weights=weights, method=method, absolute=absolute)


def htmt_long(square: pd.DataFrame) -> pd.DataFrame:
    """A square HTMT frame as one row per pair.

    Returns
    -------
    DataFrame
        Columns ``lhs, rhs, htmt``, ``lhs`` before ``rhs`` in model order.
    """
    names = list(square.index)
    H = square.to_numpy()
    rows = [(names[a], names[b], H[a, b]) for a in range(len(names)) for b in range(a + 1, len(names))]
    return pd.DataFrame(rows, columns=["lhs", "rhs", "htmt"])
# -------------------------------------------------------- Kock & Hadaya
def check_probability(value: Any, name: str) -> float:
    """``value`` as a float strictly between 0 and 1 (a SpecError naming ``name`` otherwise)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if not 0.0 < v < 1.0:
        raise SpecError(f"{name} must be strictly between 0 and 1.", values=[value])
    return v


def check_power(alpha: Any, power: Any) -> tuple[float, float]:
    """alpha and power, each in (0, 1), with power above alpha: a test rejects
    with probability alpha already when nothing changed, so a lower power
    asks for no respondents at all (the closed forms turn negative)."""
    alpha, power = check_probability(alpha, "alpha"), check_probability(power, "power")
    if power <= alpha:
        raise SpecError("power must exceed alpha (a test rejects with probability alpha when nothing changed).",
                        values=[power, alpha], hint="e.g. alpha=0.05 and power=0.8")
    return alpha, power


def min_n_inverse_sqrt(path: float | Sequence[float], *, alpha: float = 0.05, power: float = 0.8,
                       two_sided: bool = False) -> int:
    """Minimum sample size of the inverse square root method for PLS
    (Kock & Hadaya 2018): ``n_min = ((z[1 - alpha] + z[power]) / |beta_min|)**2``,
    rounded up.

    Parameters
    ----------
    path : float or sequence of float
        The path coefficient(s) expected to be significant; the smallest in
        absolute value decides.
    alpha, power : float
        Significance level and power (5% and 80%: ``(2.486 / |beta_min|)**2``).
    two_sided : bool
        ``z[1 - alpha / 2]`` instead of the paper's one-tailed ``z[1 - alpha]``.

    Returns
    -------
    int
        The minimum number of respondents.
    """
    alpha, power = check_power(alpha, power)
    vals = np.abs(np.atleast_1d(np.asarray(path, dtype=float)))
    if not len(vals) or not np.all(np.isfinite(vals)) or vals.min() <= 0:
        raise SpecError("the paths must be non-zero numbers.", values=list(np.atleast_1d(path)))
    z = sps.norm.ppf(1.0 - (alpha / 2.0 if two_sided else alpha)) + sps.norm.ppf(power)
    return int(math.ceil((z / vals.min()) ** 2 - 1e-9))
