"""Wave-to-wave and segment comparisons of indices and paths.

Periodic studies exist to answer "did it change, and where?".  The
functions here compare estimates from independent samples (two waves, two
segments) with a test of the difference, never by eye, and keep bases
below a minimum size out of every table.

Two samples drawn independently give independent estimates, so the
standard error of a difference is ``sqrt(se_a**2 + se_b**2)``; with
bootstrap draws of both estimates the difference's distribution is the
difference of independently drawn resamples, and the percentile interval
of those differences is reported beside the normal-theory test.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError

__all__ = [
    "DEFAULT_MIN_BASE",
    "compare_estimates",
    "compare_draws",
    "trend_table",
    "league_table",
    "apply_min_base",
]

#: Bases (respondents in a wave x segment) below this are suppressed.
DEFAULT_MIN_BASE = 30

_COMPARE_COLUMNS = ["est_a", "est_b", "diff", "se", "z", "pvalue", "ci_lower", "ci_upper"]


def _check_se(se: float, what: str) -> None:
    if not np.isfinite(se) or se < 0:
        raise DataError(f"the standard error of {what} is {se!r}; a comparison needs a finite, "
                        "non-negative standard error",
                        hint="bootstrap the fit first (csm.bootstrap) and pass its se")


def compare_estimates(est_a: float, se_a: float, est_b: float, se_b: float, *,
                      level: float = 0.95) -> pd.Series:
    """Test the difference ``est_b - est_a`` of two independent estimates.

    Parameters
    ----------
    est_a, se_a : float
        Estimate and standard error in the reference sample (e.g. last wave).
    est_b, se_b : float
        Estimate and standard error in the comparison sample (e.g. this wave).
    level : float
        Confidence level of the interval for the difference.

    Returns
    -------
    Series
        ``est_a, est_b, diff, se, z, pvalue, ci_lower, ci_upper``: the
        difference ``est_b - est_a``, its standard error
        ``sqrt(se_a^2 + se_b^2)``, the Wald z, its two-sided p-value and
        the normal interval.
    """
    _check_se(se_a, "the first estimate")
    _check_se(se_b, "the second estimate")
    diff = float(est_b) - float(est_a)
    se = float(np.hypot(se_a, se_b))
    z = diff / se if se > 0 else np.nan
    p = 2 * stats.norm.sf(abs(z)) if se > 0 else np.nan
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.Series([float(est_a), float(est_b), diff, se, z, p, diff - q * se, diff + q * se],
                     index=_COMPARE_COLUMNS, dtype=float)


def compare_draws(est_a: float, draws_a: np.ndarray, est_b: float, draws_b: np.ndarray, *,
                  level: float = 0.95) -> pd.Series:
    """Compare two independent estimates through their bootstrap draws.

    The standard errors are the standard deviations of the draws (failed
    resamples given as NaN are left out); the test is the Wald test of
    :func:`compare_estimates`; the interval is the percentile interval of
    ``draws_b - draws_a`` (independent resamples paired at random, which is
    valid because the samples are independent).

    Returns
    -------
    Series
        As :func:`compare_estimates`, with ``ci_lower, ci_upper`` the
        percentile interval of the differences.
    """
    a = np.asarray(draws_a, dtype=float)
    b = np.asarray(draws_b, dtype=float)
    a = a[np.isfinite(a)]
    b = b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        raise DataError("fewer than two successful bootstrap draws to compare",
                        hint="run the bootstrap with more resamples")
    out = compare_estimates(est_a, a.std(ddof=1), est_b, b.std(ddof=1), level=level)
    m = min(len(a), len(b))
    d = b[:m] - a[:m]
    out["ci_lower"], out["ci_upper"] = np.quantile(d, [0.5 - level / 2, 0.5 + level / 2])
    return out


def trend_table(table: pd.DataFrame, *, order: Sequence[str] | None = None,
                level: float = 0.95) -> pd.DataFrame:
    """Add wave-to-wave changes and their tests to a table of estimates per wave.

    Parameters
    ----------
    table : DataFrame
        One row per wave (and optionally per ``construct`` and/or
        ``segment``): columns ``wave, est, se`` and optionally
        ``ci_lower, ci_upper, n``.
    order : sequence of str, optional
        Wave order; default the order of first appearance.

    Returns
    -------
    DataFrame
        The input columns plus ``diff`` (change since the previous wave),
        ``diff_se``, ``diff_z``, ``diff_pvalue``, ``diff_ci_lower``,
        ``diff_ci_upper`` (NaN for the first wave of each series).
    """
    need = {"wave", "est", "se"}
    if not need <= set(table.columns):
        raise DataError("the trend table lacks columns",
                        column=", ".join(sorted(need - set(table.columns))),
                        hint="pass one row per wave with columns wave, est, se")
    waves = list(order) if order is not None else list(dict.fromkeys(table["wave"]))
    keys = [c for c in ("construct", "segment") if c in table.columns]
    rank = {w: i for i, w in enumerate(waves)}
    unknown = sorted(set(table["wave"]) - set(rank), key=str)
    if unknown:
        raise DataError("waves missing from the given order", values=unknown,
                        hint="list every wave in `order`")
    out = table.copy()
    out["_rank"] = out["wave"].map(rank)
    out = out.sort_values([*keys, "_rank"], kind="stable")
    cols = ["diff", "diff_se", "diff_z", "diff_pvalue", "diff_ci_lower", "diff_ci_upper"]
    for c in cols:
        out[c] = np.nan
    groups = ([g.index for _, g in out.groupby(keys, sort=False)] if keys else [out.index])
    for idx in groups:
        rows = out.loc[idx]
        for prev, cur in zip(rows.index[:-1], rows.index[1:]):
            if not (np.isfinite(out.at[prev, "est"]) and np.isfinite(out.at[cur, "est"])):
                continue
            c = compare_estimates(out.at[prev, "est"], out.at[prev, "se"],
                                  out.at[cur, "est"], out.at[cur, "se"], level=level)
            out.loc[cur, cols] = c[["diff", "se", "z", "pvalue", "ci_lower", "ci_upper"]].to_numpy()
    return out.drop(columns="_rank").reset_index(drop=True)


def league_table(table: pd.DataFrame, *, reference: float | None = None,
                 reference_se: float | None = None, level: float = 0.95,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Rank segments by an estimate, flagging those significantly off a reference.

    Parameters
    ----------
    table : DataFrame
        One row per segment: columns ``segment, est, se`` (optionally ``n``).
    reference, reference_se : float, optional
        The estimate to compare with (e.g. the total sample's index).  When
        omitted the comparison columns are NaN.  The segment is part of the
        total, so this test is conservative; it is meant for flagging.

    Returns
    -------
    DataFrame
        Sorted best first: the input columns plus ``rank``, ``diff``
        (segment minus reference), ``pvalue`` and ``verdict`` (``"above"``,
        ``"below"``, ``"not different"`` or ``""``).
    """
    need = {"segment", "est", "se"}
    if not need <= set(table.columns):
        raise DataError("the league table lacks columns",
                        column=", ".join(sorted(need - set(table.columns))),
                        hint="pass one row per segment with columns segment, est, se")
    out = table.sort_values("est", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["diff"] = np.nan
    out["pvalue"] = np.nan
    out["verdict"] = ""
    if reference is not None and reference_se is not None:
        for i, r in out.iterrows():
            if not np.isfinite(r["est"]):
                continue
            c = compare_estimates(reference, reference_se, r["est"], r["se"], level=level)
            out.at[i, "diff"] = c["diff"]
            out.at[i, "pvalue"] = c["pvalue"]
            out.at[i, "verdict"] = ("not different" if c["pvalue"] >= alpha
                                    else ("above" if c["diff"] > 0 else "below"))
    return out


def apply_min_base(table: pd.DataFrame, *, n_column: str = "n",
                   min_base: int = DEFAULT_MIN_BASE) -> pd.DataFrame:
    """Blank out estimates of bases below ``min_base`` and say so.

    Every numeric column except ``n_column`` becomes NaN on suppressed rows.

    Returns
    -------
    DataFrame
        The input with a boolean column ``suppressed`` added.
    """
    if n_column not in table.columns:
        raise DataError("the table has no base-size column", column=n_column,
                        hint="add the number of respondents per row")
    out = table.copy()
    small = out[n_column].astype(float) < min_base
    out["suppressed"] = small.to_numpy()
    numeric = [c for c in out.select_dtypes("number").columns if c != n_column]
    out.loc[small, numeric] = np.nan
    return out
