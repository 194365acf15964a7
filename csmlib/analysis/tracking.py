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

from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError
from .multiplicity import DEFAULT_MULTIPLICITY, adjust_pvalues, check_multiplicity

__all__ = [
    "DEFAULT_MIN_BASE",
    "compare_estimates",
    "compare_draws",
    "trend_table",
    "league_table",
    "apply_min_base",
    "check_min_base",
    "wave_estimates",
    "append_wave",
    "segment_estimates",
]

#: Bases (respondents in a wave x segment) below this are suppressed.
DEFAULT_MIN_BASE = 30

_COMPARE_COLUMNS = ["est_a", "est_b", "diff", "se", "z", "pvalue", "ci_lower", "ci_upper"]


def _check_se(se: Any, what: str) -> None:
    se = np.asarray(se, dtype=float)
    bad = ~np.isfinite(se) | (se < 0)
    if bad.any():
        value = se[bad].flat[0]
        raise DataError(f"the standard error of {what} is {value!r}; a comparison needs a finite, "
                        "non-negative standard error",
                        hint="bootstrap the fit first (csm.bootstrap) and pass its se")


def _wald(est_a: Any, se_a: Any, est_b: Any, se_b: Any, level: float) -> dict[str, np.ndarray]:
    """The Wald test of ``est_b - est_a`` (scalars or arrays): ``diff, se, z,
    pvalue, ci_lower, ci_upper`` (NaN z and p where the standard error is 0)."""
    diff = np.asarray(est_b, dtype=float) - np.asarray(est_a, dtype=float)
    se = np.hypot(np.asarray(se_a, dtype=float), np.asarray(se_b, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.nan)
    p = np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), np.nan)
    q = stats.norm.ppf(0.5 + level / 2)
    return {"diff": diff, "se": se, "z": z, "pvalue": p, "ci_lower": diff - q * se,
            "ci_upper": diff + q * se}


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
    w = _wald(est_a, se_a, est_b, se_b, level)
    return pd.Series([float(est_a), float(est_b), *(float(w[k]) for k in _COMPARE_COLUMNS[2:])],
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
                level: float = 0.95, min_base: int | None = None) -> pd.DataFrame:
    """Add wave-to-wave changes and their tests to a table of estimates per wave.

    Parameters
    ----------
    table : DataFrame
        One row per wave (and optionally per ``construct`` and/or
        ``segment``): columns ``wave, est, se`` and optionally
        ``ci_lower, ci_upper, n``.
    order : sequence of str, optional
        Wave order; default the order of first appearance.
    min_base : int, optional
        When given, the table needs a column ``n`` and a row with an
        estimate from fewer than ``min_base`` respondents is refused
        (:class:`~csmlib.errors.DataError` naming the wave and n); blank
        such rows first with :func:`apply_min_base` (their ``est`` is NaN
        and they are not compared).

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
    if min_base is not None:
        _refuse_small(table, min_base, "wave")
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
                 alpha: float = 0.05, min_base: int | None = None,
                 multiplicity: str = DEFAULT_MULTIPLICITY) -> pd.DataFrame:
    """Rank segments by an estimate, flagging those significantly off a reference.

    The segments' tests are a family: with twenty segments tested at 5%
    about one is flagged by chance alone.  The flag therefore uses the
    p-value adjusted for multiplicity over the segments tested (Holm by
    default; see :mod:`csmlib.analysis.multiplicity`); the raw p-value is
    reported beside it.

    Parameters
    ----------
    table : DataFrame
        One row per segment: columns ``segment, est, se`` (optionally ``n``).
    reference, reference_se : float, optional
        The estimate to compare with (e.g. the total sample's index).  When
        omitted the comparison columns are NaN.  The segment is part of the
        total, so this test is conservative; it is meant for flagging.
    level : float
        Confidence level of the difference's interval (not reported here).
    alpha : float
        Level at which an adjusted p-value flags a segment.
    min_base : int, optional
        When given, the table needs a column ``n`` and a segment with an
        estimate from fewer than ``min_base`` respondents is refused
        (:class:`~csmlib.errors.DataError` naming the segment and n); blank
        such rows first with :func:`apply_min_base`.
    multiplicity : {"holm", "fdr_bh", "none"}
        Adjustment over the segments with an estimate.

    Returns
    -------
    DataFrame
        Sorted best first: the input columns plus ``rank`` (1 = highest
        estimate; equal estimates share the better rank; NaN without an
        estimate), ``diff``
        (segment minus reference), ``pvalue`` (raw), ``pvalue_adj``
        (adjusted over the family) and ``verdict`` (``"above"``,
        ``"below"``, ``"not different"`` on the adjusted p-value, or ``""``
        without a test).
    """
    check_multiplicity(multiplicity)
    need = {"segment", "est", "se"}
    if not need <= set(table.columns):
        raise DataError("the league table lacks columns",
                        column=", ".join(sorted(need - set(table.columns))),
                        hint="pass one row per segment with columns segment, est, se")
    if min_base is not None:
        _refuse_small(table, min_base, "segment")
    out = table.sort_values("est", ascending=False, kind="stable").reset_index(drop=True)
    rank = out["est"].astype(float).rank(ascending=False, method="min")   # ties share a rank
    out["rank"] = rank.astype(int) if rank.notna().all() else rank
    out["diff"] = np.nan
    out["pvalue"] = np.nan
    out["pvalue_adj"] = np.nan
    out["verdict"] = ""
    if reference is not None and reference_se is not None:
        _check_se(reference_se, "the reference")
        est = out["est"].to_numpy(float)
        ok = np.isfinite(est)
        _check_se(out["se"].to_numpy(float)[ok], "a segment's estimate")
        w = _wald(reference, reference_se, est[ok], out["se"].to_numpy(float)[ok], level)
        out.loc[ok, "diff"] = w["diff"]
        out.loc[ok, "pvalue"] = w["pvalue"]
        out["pvalue_adj"] = adjust_pvalues(out["pvalue"].to_numpy(float), multiplicity)
        tested = out["pvalue_adj"].notna()
        out.loc[tested, "verdict"] = np.where(
            out.loc[tested, "pvalue_adj"] >= alpha, "not different",
            np.where(out.loc[tested, "diff"] > 0, "above", "below"))
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


def check_min_base(sizes: Mapping[Any, int], *, min_base: int = DEFAULT_MIN_BASE,
                   column: str | None = None, file: str | None = None) -> None:
    """Refuse groups smaller than the minimum base.

    Parameters
    ----------
    sizes : mapping
        Group label -> number of respondents.
    min_base : int
        Smallest base that may be estimated.
    column, file : str, optional
        Where the groups come from (named in the error).

    Raises
    ------
    DataError
        Naming every group below ``min_base`` and its n.
    """
    if isinstance(min_base, bool) or int(min_base) != min_base or min_base < 0:
        raise DataError(f"min_base must be a non-negative integer, got {min_base!r}", values=[min_base])
    small = [(g, int(n)) for g, n in sizes.items() if int(n) < min_base]
    if small:
        desc = ", ".join(f"{g!r} (n = {n})" for g, n in small)
        raise DataError(f"group(s) below the minimum base of {min_base}: {desc}",
                        file=file, column=column, values=[g for g, _ in small],
                        hint="report these groups as suppressed, merge them with others, or lower "
                             "min_base knowingly")


def _refuse_small(table: pd.DataFrame, min_base: int, what: str) -> None:
    if "n" not in table.columns:
        raise DataError("the table has no base-size column", column="n",
                        hint="add the number of respondents per row, or leave min_base unset")
    n = table["n"].astype(float)
    est = pd.to_numeric(table["est"], errors="coerce")
    bad = (n < min_base) & est.notna()
    if bad.any():
        labels = table.loc[bad, what].tolist() if what in table.columns else table.index[bad].tolist()
        check_min_base(dict(zip(labels, n[bad].astype(int))), min_base=min_base, column=what)


def wave_estimates(boot: Any, *, wave: str, n: int | None = None,
                   constructs: Sequence[str] | None = None) -> pd.DataFrame:
    """The index and driver paths of one wave, with bootstrap intervals, as trend rows.

    Parameters
    ----------
    boot : BootstrapResults
        :func:`csmlib.bootstrap` of the wave's PLS fit (with the index).
    wave : str
        The wave label.
    n : int, optional
        Respondents of the wave (default: the fit's ``n_obs``).
    constructs : sequence of str, optional
        Constructs whose index to keep (default every construct with an index).

    Returns
    -------
    DataFrame
        One row per index and per structural path: ``wave, kind`` (``"index"``
        or ``"path"``), ``construct`` (the construct, or ``"Outcome ~
        Predictor"`` for a path), ``est, se, ci_lower, ci_upper, n`` -- the
        shape :func:`trend_table` takes (``construct`` keeps the series apart).
    """
    idx = boot.index
    if constructs is not None:
        idx = idx[idx["construct"].isin(list(constructs))]
    rows = [{"kind": "index", "construct": r.construct, "est": r.index, "se": r.se,
             "ci_lower": r.ci_lower, "ci_upper": r.ci_upper} for r in idx.itertuples()]
    rows += [{"kind": "path", "construct": f"{r.lhs} ~ {r.rhs}", "est": r.est, "se": r.se,
              "ci_lower": r.ci_lower, "ci_upper": r.ci_upper} for r in boot.paths.itertuples()]
    out = pd.DataFrame(rows, columns=["kind", "construct", "est", "se", "ci_lower", "ci_upper"])
    out.insert(0, "wave", str(wave))
    out["n"] = int(boot.results.n_obs if n is None else n)
    for c in ("est", "se", "ci_lower", "ci_upper"):
        out[c] = out[c].astype(float)
    return out


def append_wave(previous: pd.DataFrame | None, current: pd.DataFrame, *,
                max_rows: int = 200) -> pd.DataFrame:
    """Accumulate a trend frame: earlier waves' rows plus this wave's.

    Parameters
    ----------
    previous : DataFrame or None
        The trend recorded by the previous wave's run (None or empty for the
        first wave).  Its rows of the current wave (a re-run) are replaced.
    current : DataFrame
        This wave's rows (e.g. :func:`wave_estimates`), with a ``wave`` column.
    max_rows : int
        Keep at most this many rows, dropping the oldest waves first (recorded
        frames are limited to 200 rows).

    Returns
    -------
    DataFrame
        The columns of ``current``; rows of earlier waves first, in their order.
    """
    if "wave" not in current.columns:
        raise DataError("this wave's rows lack a wave column", column="wave",
                        hint="build them with tracking.wave_estimates")
    waves_now = set(current["wave"].astype(str))
    parts = []
    if previous is not None and len(previous):
        if "wave" not in previous.columns:
            raise DataError("the previous trend lacks a wave column", column="wave",
                            hint="pass the frame recorded as 'trend' by the previous wave's run")
        prev = previous[~previous["wave"].astype(str).isin(waves_now)]
        parts.append(prev.reindex(columns=current.columns))
    parts.append(current)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else current.reset_index(drop=True)
    out["wave"] = out["wave"].astype(str)
    waves = list(dict.fromkeys(out["wave"]))
    while len(out) > max_rows and len(waves) > 1:
        out = out[out["wave"] != waves.pop(0)]
    return out.reset_index(drop=True)


def segment_estimates(spec: Any, survey: Any, segment_column: str, *, construct: str = "Satisfaction",
                      n_boot: int = 1000, seed: int | None = None, scheme: str = "path",
                      min_base: int = DEFAULT_MIN_BASE, scale_limits: Any = None,
                      missing: str = "listwise", weights: str | None = None) -> pd.DataFrame:
    """The satisfaction index per segment, with bootstrap standard errors.

    Each segment is fitted on its own (PLS, ``scheme``) and bootstrapped
    (``n_boot`` resamples, seed ``seed``); a segment below ``min_base``
    respondents is reported as suppressed and not estimated.

    Parameters
    ----------
    spec : ModelSpec
    survey : Survey or DataFrame
        The wave's data with the segment column (a DataFrame needs
        ``scale_limits``).
    segment_column : str
    construct : str
        The index's construct.
    n_boot, seed, scheme, missing
        Passed to :func:`csmlib.fit_pls` / :func:`csmlib.bootstrap`.
    weights : str, optional
        A case-weight column: each segment's fit is weighted PLS (its index
        a weighted index, its bootstrap resampling the weights with the rows).
    min_base : int
    scale_limits : optional
        Theoretical item limits (default: the survey's).

    Returns
    -------
    DataFrame
        One row per segment (in order of first appearance): ``segment, n,
        est, se, ci_lower, ci_upper, suppressed`` -- the shape
        :func:`league_table` takes.
    """
    from ..estimate.bootstrapping import bootstrap
    from ..estimate.pls import fit_pls

    frame = survey.data if hasattr(survey, "data") and isinstance(survey.data, pd.DataFrame) else survey
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a Survey or a DataFrame, got {type(survey).__name__}")
    if segment_column not in frame.columns:
        raise DataError("the segment column is not in the data", column=segment_column,
                        hint="name a column of the survey that holds the segments")
    rows = []
    for seg in pd.unique(frame[segment_column].dropna()):
        mask = (frame[segment_column] == seg).to_numpy()
        n = int(mask.sum())
        row = {"segment": str(seg), "n": n, "est": np.nan, "se": np.nan, "ci_lower": np.nan,
               "ci_upper": np.nan, "suppressed": n < min_base}
        if n >= min_base:
            part = survey.subset(mask, note=f"segment {segment_column} = {seg}") \
                if hasattr(survey, "subset") else frame.loc[mask]
            fit = fit_pls(spec, part, scheme=scheme, missing=missing, weights=weights)
            boot = bootstrap(fit, n_boot=n_boot, seed=seed, statistics=["index"],
                             scale_limits=scale_limits, n_jobs=1)
            idx = boot.index.set_index("construct")
            if construct not in idx.index:
                raise DataError(f"no index for construct {construct!r}", values=[construct],
                                hint="give the construct's items scale limits in the instrument")
            r = idx.loc[construct]
            row.update(est=float(r["index"]), se=float(r["se"]), ci_lower=float(r["ci_lower"]),
                       ci_upper=float(r["ci_upper"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=["segment", "n", "est", "se", "ci_lower", "ci_upper", "suppressed"])
