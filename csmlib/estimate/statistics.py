"""Statistic kernels of a fit that both the bootstrap (estimate layer) and
the analyses (analysis layer) compute: pure numpy on moments, so that one
resample's value and the reported value come from one formula.

:mod:`csmlib.analysis.index` and :mod:`csmlib.analysis.measurement`
re-export them; the inverse-square-root minimum sample size
(:func:`min_n_inverse_sqrt`) is here because :func:`csmlib.fit_pls` checks
its own sample against it, and :mod:`csmlib.analysis.planning` re-exports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import DataError, SpecError

__all__ = ["HTMT_METHODS", "check_power", "check_probability", "htmt_from_corr", "index_from_moments",
           "min_n_inverse_sqrt", "resolve_scale_limits"]

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
