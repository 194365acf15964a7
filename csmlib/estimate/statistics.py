"""Statistic kernels of a fit that both the bootstrap (estimate layer) and
the analyses (analysis layer) compute: pure numpy on moments, so that one
resample's value and the reported value come from one formula.

:mod:`csmlib.analysis.index` and :mod:`csmlib.analysis.measurement`
re-export them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["HTMT_METHODS", "htmt_from_corr", "index_from_moments", "resolve_scale_limits"]

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
