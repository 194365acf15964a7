"""SERVQUAL gap analysis: perception minus expectation, by item and by
dimension, with paired tests.

A SERVQUAL instrument asks each attribute twice: what customers expect of an
excellent provider (E) and what they perceive of this one (P).  The gap
P - E is negative where the service falls short.  Items are paired by
position: ``expectations[i]`` goes with ``perceptions[i]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from .multiplicity import DEFAULT_MULTIPLICITY, adjust_pvalues, check_multiplicity

__all__ = ["DIMENSIONS", "gaps"]

#: The five SERVQUAL dimensions (Parasuraman, Zeithaml & Berry 1988) with the
#: positions (1-based) of their items in the 22-item instrument.
DIMENSIONS: dict[str, tuple[int, ...]] = {
    "Tangibles": (1, 2, 3, 4),
    "Reliability": (5, 6, 7, 8, 9),
    "Responsiveness": (10, 11, 12, 13),
    "Assurance": (14, 15, 16, 17),
    "Empathy": (18, 19, 20, 21, 22),
}


def _paired(diff: np.ndarray, level: float) -> dict[str, float]:
    n = len(diff)
    if n < 2:
        return {"n": n, "gap": np.nan, "se": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                "t": np.nan, "pvalue": np.nan}
    mean = diff.mean()
    se = diff.std(ddof=1) / np.sqrt(n)
    tcrit = stats.t.ppf(0.5 + level / 2, n - 1)
    if se == 0:
        t, p = (np.nan, np.nan) if mean == 0 else (np.copysign(np.inf, mean), 0.0)
    else:
        t = mean / se
        p = 2 * stats.t.sf(abs(t), n - 1)
    return {"n": n, "gap": mean, "se": se, "ci_lower": mean - tcrit * se,
            "ci_upper": mean + tcrit * se, "t": t, "pvalue": p}


def gaps(data: pd.DataFrame, expectations: Sequence[str], perceptions: Sequence[str],
         dimensions: Mapping[str, Sequence[str]] | None = None, *,
         level: float = 0.95, multiplicity: str = DEFAULT_MULTIPLICITY) -> pd.DataFrame:
    """Perception-minus-expectation gaps with paired t-tests.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (a Survey's ``.data`` or any frame).
    expectations, perceptions : sequence of str
        Paired item columns, in the same order.
    dimensions : mapping of str to sequence of str, optional
        Dimension name -> its perception items.  A dimension's gap is each
        respondent's mean perception minus mean expectation over the
        dimension's item pairs (respondents with any missing pair excluded).
        Default: one row per item only.
    level : float
        Confidence level of the intervals.
    multiplicity : {"holm", "fdr_bh", "none"}
        Adjustment of the p-values over the family of items, and separately
        over the family of dimensions (:mod:`csmlib.analysis.multiplicity`).

    Returns
    -------
    DataFrame
        Columns ``level`` ("item" or "dimension"), ``name`` (perception item
        or dimension), ``expectation`` (mean), ``perception`` (mean), ``gap``
        (mean of P - E over respondents who answered both), ``se``,
        ``ci_lower``, ``ci_upper`` (paired t interval), ``t``, ``pvalue``
        (paired t-test of zero gap), ``pvalue_adj`` (adjusted over the
        items, or over the dimensions), ``n``.
    """
    check_multiplicity(multiplicity)
    expectations, perceptions = list(expectations), list(perceptions)
    if len(expectations) != len(perceptions):
        raise DataError(
            f"{len(expectations)} expectation items but {len(perceptions)} perception items",
            hint="pass the expectation and perception items in matching pairs",
        )
    missing = [c for c in expectations + perceptions if c not in data.columns]
    if missing:
        raise DataError(f"{len(missing)} SERVQUAL item(s) are not columns of the data",
                        column=missing, hint="check the item names in the instrument")
    pair_of = dict(zip(perceptions, expectations))
    num = data[expectations + perceptions].apply(pd.to_numeric, errors="coerce")
    rows = []
    for e, p in zip(expectations, perceptions):
        both = num[[e, p]].dropna()
        res = _paired((both[p] - both[e]).to_numpy(float), level)
        rows.append({"level": "item", "name": p, "expectation": both[e].mean(),
                     "perception": both[p].mean(), **res})
    for dim, items in (dimensions or {}).items():
        unknown = [i for i in items if i not in pair_of]
        if unknown:
            raise DataError(f"dimension {dim!r} names items that are not perception items",
                            column=unknown, hint="list the dimension's perception items")
        exp_cols = [pair_of[i] for i in items]
        both = num[list(items) + exp_cols].dropna()
        pm, em = both[list(items)].mean(axis=1), both[exp_cols].mean(axis=1)
        res = _paired((pm - em).to_numpy(float), level)
        rows.append({"level": "dimension", "name": dim, "expectation": em.mean(),
                     "perception": pm.mean(), **res})
    cols = ["level", "name", "expectation", "perception", "gap", "se", "ci_lower", "ci_upper",
            "t", "pvalue", "pvalue_adj", "n"]
    out = pd.DataFrame(rows)
    out["pvalue_adj"] = np.nan
    for _, idx in out.groupby("level", sort=False).groups.items():
        out.loc[idx, "pvalue_adj"] = adjust_pvalues(out.loc[idx, "pvalue"].to_numpy(float), multiplicity)
    return out[cols]
