"""Headline customer metrics: Net Promoter Score, CSAT top-box shares,
complaint rates, and loyalty by complaint handling, each with an interval.

Every function takes plain arrays or Series of answers on a declared scale
(the instrument's theoretical limits, never the observed ones), ignores
missing answers (and says how many there were), and returns a one-row or
tidy DataFrame.  Optional survey weights use Kish's effective sample size
``n_eff = (sum w)^2 / sum w^2`` for the intervals.

Intervals at the edges
----------------------
* Shares (top-box, complaint rate): the Wilson score interval on ``n_eff``
  (with weights, the share times ``n_eff`` successes out of ``n_eff``), which
  stays inside [0, 1] and keeps a width when every answer is a success.
* NPS: the adjusted Wald interval of Rocks (2016, "Interval estimation for
  the net promoter score", The American Statistician 70(4), 365-372): add 3/4
  pseudo-promoters, 3/4 pseudo-detractors and 3/2 pseudo-passives (3 in all)
  and use the multinomial variance of the difference of the adjusted shares.
  Unlike the plain Wald interval it does not collapse to [100, 100] when
  every respondent is a promoter; Rocks found it among the best of the
  intervals he compared.
* With ``n_eff < MIN_N_EFF`` (one or a few weights dominate, or fewer than
  two answers) no interval is given: ``se``, ``ci_lower`` and ``ci_upper``
  are NaN, ``note`` says why, and a :class:`~csmlib.errors.DataWarning` is
  issued.  The tests check the coverage of both intervals by simulation,
  near the boundary and with unequal weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, DataWarning
from .multiplicity import DEFAULT_MULTIPLICITY, adjust_pvalues, check_multiplicity

__all__ = [
    "MIN_N_EFF",
    "proportion_ci",
    "nps",
    "top_box",
    "complaint_rate",
    "compare_shares",
    "loyalty_by_complaint_handling",
]


def _is_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_))


def _refuse(at: np.ndarray, values: pd.Series, name: str, what: str, hint: str) -> None:
    """A DataError naming the column ``name``, the first ten rows where ``at``
    is true (1-based) and their ``values``, when there are any."""
    if at.any():
        raise DataError(f"{name}: {what}", column=name, rows=list(np.flatnonzero(at)[:10] + 1),
                        values=list(values[at].iloc[:10]), hint=hint)


def _answers(values, name: str, scale: tuple[float, float] | None, weights=None, *,
             integer: bool = False):
    """Numeric answers without missing values, checked against the scale.

    With ``integer=True`` (the points of a rating scale) fractional answers
    (7.5) and booleans (``True``/``False``, which pandas would count as 1/0)
    are refused with the rows and values: averaged or pasted answers are not
    scale points, and scoring them silently would move the metric.
    """
    s = pd.Series(values, copy=False)
    if integer:
        boolean = (s.notna() if pd.api.types.is_bool_dtype(s.dtype) else s.map(_is_bool)).to_numpy(bool)
        _refuse(boolean, s, name, "answers are true/false, not points of the scale",
                "recode the column to the numeric codes of the scale (a yes/no question is not a rating scale)")
    x = pd.to_numeric(s, errors="coerce")
    _refuse((s.notna() & x.isna()).to_numpy(bool), s, name, "answers must be numeric",
            "recode text answers to the numeric codes of the scale")
    xf = x.astype(float)
    if integer:
        _refuse((np.isfinite(xf) & (xf != np.round(xf))).to_numpy(bool), x, name,
                "answers must be whole points of the scale",
                "the answers look averaged or imputed: score the original answers, or declare such "
                "codes as missing in the instrument")
    if scale is not None:
        lo, hi = scale
        _refuse((xf.notna() & ((xf < lo) | (xf > hi))).to_numpy(bool), x, name,
                f"answers outside the scale {lo:g}-{hi:g}",
                "check the scale limits in the instrument or declare the codes as missing")
    if weights is None:
        w = pd.Series(1.0, index=x.index)
    else:
        if not isinstance(weights, pd.Series) and len(weights) != len(x):
            raise DataError(f"{name}: {len(weights)} weights for {len(x)} answers",
                            column="weight", hint="pass one weight per answer (the survey's weight column)")
        w = pd.to_numeric(pd.Series(weights, index=x.index), errors="coerce")
        if w.isna().any() or (w < 0).any() or np.isinf(w).any():
            raise DataError(f"{name}: weights must be finite non-negative numbers",
                            column="weight", hint="fix or drop the respondents with missing, "
                                                  "negative or infinite weights")
    keep = x.notna()
    n_missing = int((~keep).sum())
    x, w = x[keep].to_numpy(float), w[keep].to_numpy(float)
    if len(x) == 0 or w.sum() <= 0:
        raise DataError(f"{name}: no valid answers", column=name,
                        hint="the base is empty: check the segment, wave or missing codes")
    return x, w, n_missing


def _effective_n(w: np.ndarray) -> float:
    """Kish's effective sample size (equals n for equal weights)."""
    return float(w.sum() ** 2 / (w**2).sum())


#: below this effective sample size a share or an NPS gets no interval
MIN_N_EFF = 2.0

#: Rocks' (2016) adjusted Wald: pseudo-promoters and pseudo-detractors added
#: (3/4 each), and pseudo-respondents in all (3; the rest are passives)
_NPS_PSEUDO_EACH = 0.75
_NPS_PSEUDO_TOTAL = 3.0


def _no_interval(n_eff: float, name: str, stacklevel: int = 3) -> str:
    """``""`` when ``n_eff`` supports an interval, else the reason (also warned,
    at the caller ``stacklevel`` frames up)."""
    if n_eff >= MIN_N_EFF:
        return ""
    note = (f"{name}: no interval: the effective sample size is {n_eff:.2f}, below "
            f"{MIN_N_EFF:g} (too few answers, or one or a few weights dominate)")
    warnings.warn(note, DataWarning, stacklevel=stacklevel)
    return note


def _z(level: float) -> float:
    """The two-sided normal quantile of a confidence ``level`` (0 < level < 1)."""
    if not 0 < level < 1:
        raise DataError(f"confidence level must be between 0 and 1 (exclusive), got {level!r}",
                        values=[level], hint="use level=0.95 for a 95% interval")
    return float(stats.norm.ppf(0.5 + level / 2))


def proportion_ci(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (successes may be weighted).

    Computed by ``statsmodels.stats.proportion.proportion_confint(...,
    method="wilson")``, which takes non-integer counts: with weights, pass the
    weighted share times Kish's effective sample size as ``successes`` and
    the effective sample size as ``n``.

    Parameters
    ----------
    successes : float
        Successes (with weights: the weighted share times ``n``).
    n : float
        Trials (with weights: Kish's effective sample size).
    level : float
        Confidence level.

    Returns
    -------
    (lower, upper) : tuple of float
        NaN when ``n < MIN_N_EFF``.
    """
    from statsmodels.stats.proportion import proportion_confint

    _z(level)   # checks the level
    if not n >= MIN_N_EFF:
        return (np.nan, np.nan)
    lower, upper = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return (max(0.0, float(lower)), min(1.0, float(upper)))


def _share_interval(share: float, w: np.ndarray, level: float,
                    name: str) -> tuple[float, float, float, str]:
    """``(n_eff, lower, upper, note)``: the Wilson interval of a (weighted) share."""
    n_eff = _effective_n(w)
    note = _no_interval(n_eff, name, stacklevel=4)
    lower, upper = proportion_ci(share * n_eff, n_eff, level)
    return n_eff, lower, upper, note


def nps(recommend, *, scale: tuple[float, float] = (0, 10), weights=None,
        level: float = 0.95, name: str = "recommend") -> pd.DataFrame:
    """Net Promoter Score with an adjusted Wald interval (Rocks 2016).

    Promoters answer 9-10 and detractors 0-6 on the 0-10 likelihood-to-
    recommend question; NPS = 100 * (share promoters - share detractors).
    The interval adds 3/4 pseudo-promoters, 3/4 pseudo-detractors and 3/2
    pseudo-passives to the ``n_eff`` answers, ``p~ = (p n_eff + 3/4) /
    (n_eff + 3)``, ``d~`` likewise, and uses the multinomial variance
    ``var(p~ - d~) = (p~ + d~ - (p~ - d~)^2) / (n_eff + 3)``:
    ``100 * (p~ - d~ +- z se~)``, clipped to [-100, 100].  No interval below
    ``MIN_N_EFF`` (see the module docstring).

    Parameters
    ----------
    recommend : array-like
        Answers on the 0-10 scale, whole points; NaN = missing.  Fractional
        (7.5) or boolean answers raise :class:`~csmlib.errors.DataError`
        naming the rows and values.
    scale : (min, max)
        Must be (0, 10): NPS is defined on that scale only.
    weights : array-like, optional
        Survey weights.
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row: ``n`` (valid answers), ``n_missing``, ``n_eff``,
        ``promoters``, ``passives``, ``detractors`` (shares, 0-1), ``nps``
        (-100 to 100), ``se`` (the adjusted standard error ``100 se~`` of
        the interval), ``ci_lower``, ``ci_upper``, ``note`` (``""``, or why
        there is no interval).
    """
    if tuple(scale) != (0, 10):
        raise DataError(
            f"NPS is defined on the 0-10 scale, but {name!r} has scale {scale[0]:g}-{scale[1]:g}",
            column=name, hint="use the 0-10 likelihood-to-recommend question",
        )
    z = _z(level)
    x, w, n_missing = _answers(recommend, name, scale, weights, integer=True)
    tw = w.sum()
    p = w[x >= 9].sum() / tw
    d = w[x <= 6].sum() / tw
    passives = w[(x > 6) & (x < 9)].sum() / tw   # (counted: 1 - p - d left -5.6e-17 for none)
    n_eff = _effective_n(w)
    note = _no_interval(n_eff, name)
    se = lower = upper = np.nan
    if not note:
        m = n_eff + _NPS_PSEUDO_TOTAL
        pa = (p * n_eff + _NPS_PSEUDO_EACH) / m
        da = (d * n_eff + _NPS_PSEUDO_EACH) / m
        se = 100 * np.sqrt((pa + da - (pa - da) ** 2) / m)
        lower = max(-100.0, 100 * (pa - da) - z * se)
        upper = min(100.0, 100 * (pa - da) + z * se)
    return pd.DataFrame([{
        "n": len(x), "n_missing": n_missing, "n_eff": n_eff,
        "promoters": p, "passives": passives, "detractors": d,
        "nps": 100 * (p - d), "se": se, "ci_lower": lower, "ci_upper": upper, "note": note,
    }])


def top_box(answers, *, scale: tuple[float, float], boxes: int = 2, weights=None,
            level: float = 0.95, name: str = "item") -> pd.DataFrame:
    """CSAT-style top-box share: answers in the top ``boxes`` scale points.

    Parameters
    ----------
    answers : array-like
        Answers on an integer scale; NaN = missing.  Fractional or boolean
        answers raise :class:`~csmlib.errors.DataError` naming the rows and values.
    scale : (min, max)
        The item's theoretical scale limits (from the instrument).
    boxes : int
        How many of the highest scale points count (2 = top-2 box).

    Returns
    -------
    DataFrame
        One row: ``n``, ``n_missing``, ``n_eff``, ``top_box`` (share 0-1),
        ``bottom_box`` (share in the lowest ``boxes`` points), ``ci_lower``,
        ``ci_upper`` (Wilson interval of the top-box share; NaN below
        ``MIN_N_EFF``), ``note`` (``""``, or why there is no interval).
    """
    lo, hi = scale
    if boxes < 1 or boxes > hi - lo:
        raise DataError(f"boxes must be between 1 and {hi - lo:g} for a {lo:g}-{hi:g} scale",
                        values=[boxes], hint="use boxes=1 or 2")
    x, w, n_missing = _answers(answers, name, scale, weights, integer=True)
    tw = w.sum()
    share = w[x > hi - boxes].sum() / tw
    bottom = w[x < lo + boxes].sum() / tw
    n_eff, lower, upper, note = _share_interval(share, w, level, name)
    return pd.DataFrame([{
        "n": len(x), "n_missing": n_missing, "n_eff": n_eff, "top_box": share,
        "bottom_box": bottom, "ci_lower": lower, "ci_upper": upper, "note": note,
    }])


def complaint_rate(complained, *, weights=None, level: float = 0.95,
                   name: str = "complained") -> pd.DataFrame:
    """Share of customers who complained (answers 0 = no, 1 = yes).

    Returns
    -------
    DataFrame
        One row: ``n``, ``n_missing``, ``n_eff``, ``complaints`` (weighted
        count), ``rate`` (0-1), ``ci_lower``, ``ci_upper`` (Wilson; NaN
        below ``MIN_N_EFF``), ``note`` (``""``, or why there is no interval).
    """
    x, w, n_missing = _answers(complained, name, (0, 1), weights)
    if not np.isin(x, (0.0, 1.0)).all():
        bad = np.unique(x[~np.isin(x, (0.0, 1.0))])[:10]
        raise DataError(f"{name}: answers must be 0 (no) or 1 (yes)", column=name,
                        values=list(bad), hint="recode the complaint question to 0/1")
    tw = w.sum()
    rate = w[x == 1].sum() / tw
    n_eff, lower, upper, note = _share_interval(rate, w, level, name)
    return pd.DataFrame([{
        "n": len(x), "n_missing": n_missing, "n_eff": n_eff, "complaints": w[x == 1].sum(),
        "rate": rate, "ci_lower": lower, "ci_upper": upper, "note": note,
    }])


def compare_shares(share_a: float, n_a: float, share_b: float, n_b: float, *,
                   level: float = 0.95) -> pd.Series:
    """Test the change ``share_b - share_a`` of a share between two independent
    samples (e.g. the complaint rate of two waves).

    The test is the score test of equal proportions
    (``statsmodels.stats.proportion.test_proportions_2indep(..., method="score",
    correction=False)``, the pooled z test that R's ``prop.test(correct =
    FALSE)`` makes); the interval is Newcombe's hybrid score interval
    (``confint_proportions_2indep(..., method="newcomb")``), built from the
    two Wilson intervals.  With weights, pass each sample's weighted share and
    Kish's effective sample size (the ``n_eff`` of :func:`top_box` and
    :func:`complaint_rate`), as the Wilson intervals do.

    Parameters
    ----------
    share_a, n_a : float
        Share (0-1) and (effective) sample size of the reference sample.
    share_b, n_b : float
        Share and (effective) sample size of the comparison sample.
    level : float
        Confidence level of the interval.

    Returns
    -------
    Series
        ``share_a, share_b, diff, z, pvalue, ci_lower, ci_upper``; all but
        the shares NaN when either sample is below ``MIN_N_EFF``.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    _z(level)
    out = pd.Series({"share_a": float(share_a), "share_b": float(share_b), "diff": np.nan, "z": np.nan,
                     "pvalue": np.nan, "ci_lower": np.nan, "ci_upper": np.nan})
    for share, n in ((share_a, n_a), (share_b, n_b)):
        if not (np.isfinite(share) and 0 <= share <= 1):
            raise DataError(f"a share must lie between 0 and 1, got {share!r}", values=[share],
                            hint="pass shares (0-1), not percentages")
        if not np.isfinite(n) or n < MIN_N_EFF:
            return out
    c_a, c_b = share_a * n_a, share_b * n_b
    out["diff"] = float(share_b) - float(share_a)
    with np.errstate(divide="ignore", invalid="ignore"):   # statsmodels also forms ratios
        if c_a + c_b > 0 and c_a + c_b < n_a + n_b:   # else the pooled share is 0 or 1: no test
            res = test_proportions_2indep(c_b, n_b, c_a, n_a, method="score", compare="diff",
                                          correction=False)
            out["z"], out["pvalue"] = float(res.statistic), float(res.pvalue)
        lo, hi = confint_proportions_2indep(c_b, n_b, c_a, n_a, method="newcomb", compare="diff",
                                            alpha=1 - level)
    out["ci_lower"], out["ci_upper"] = float(lo), float(hi)
    return out


def loyalty_by_complaint_handling(loyalty, group, *, order: Sequence[str] | None = None,
                                  level: float = 0.95, name: str = "loyalty",
                                  multiplicity: str = DEFAULT_MULTIPLICITY) -> pd.DataFrame:
    """Mean loyalty by complaint-handling group, with t intervals, and a
    Welch ANOVA-free comparison: each group against the others.

    Parameters
    ----------
    loyalty : array-like
        A loyalty score per respondent (an item, or a construct's 0-100 score).
    group : array-like
        Group per respondent (e.g. "did not complain", "complaint resolved",
        "complaint not resolved"); NaN = not asked.
    order : sequence of str, optional
        Row order of the groups.
    multiplicity : {"holm", "fdr_bh", "none"}
        Adjustment of the groups' p-values over the family of groups
        (:mod:`csmlib.analysis.multiplicity`).

    Returns
    -------
    DataFrame
        One row per group: ``group``, ``n``, ``mean``, ``sd``, ``se``,
        ``ci_lower``, ``ci_upper`` (t interval), ``diff_vs_rest`` (mean minus
        the mean of everyone else), ``pvalue_vs_rest`` (Welch t-test),
        ``pvalue_vs_rest_adj`` (adjusted over the groups).
    """
    check_multiplicity(multiplicity)
    y = pd.to_numeric(pd.Series(loyalty), errors="coerce").to_numpy(float)
    g = pd.Series(group).to_numpy(object)
    ok = ~np.isnan(y) & pd.notna(g)
    y, g = y[ok], g[ok]
    groups = list(order) if order is not None else sorted(set(g), key=str)
    rows = []
    for lab in groups:
        yi, rest = y[g == lab], y[g != lab]
        n = len(yi)
        mean = yi.mean() if n else np.nan
        sd = yi.std(ddof=1) if n > 1 else np.nan
        se = sd / np.sqrt(n) if n > 1 else np.nan
        t = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else np.nan
        if n > 1 and len(rest) > 1:
            p = stats.ttest_ind(yi, rest, equal_var=False).pvalue
            diff = mean - rest.mean()
        else:
            p, diff = np.nan, np.nan
        rows.append({"group": lab, "n": n, "mean": mean, "sd": sd, "se": se,
                     "ci_lower": mean - t * se, "ci_upper": mean + t * se,
                     "diff_vs_rest": diff, "pvalue_vs_rest": p})
    out = pd.DataFrame(rows, columns=["group", "n", "mean", "sd", "se", "ci_lower", "ci_upper",
                                      "diff_vs_rest", "pvalue_vs_rest"])
    out["pvalue_vs_rest_adj"] = adjust_pvalues(out["pvalue_vs_rest"].to_numpy(float), multiplicity)
    return out
