"""Complaint logs: volume, Pareto, time to resolution, change, and recovery.

``csm.complaints`` is this module::

    log = csm.complaints.read_log("tickets.csv", "complaints.yml")
    csm.complaints.volume(log, period="M")            # tickets (and rate) per month
    csm.complaints.volume_trend(log, period="M")      # change per month, with interval and test
    csm.complaints.pareto(log, by="category")         # most frequent first, the vital few
    csm.complaints.resolution(log, by="category")     # median / p90 hours (Kaplan-Meier), SLA, reopen
    csm.complaints.category_by_period(log, period="Q")  # counts and residuals
    csm.complaints.change_test(log, period="Q")       # chi-square test of change in the mix
    csm.complaints.recovery(log, survey, customer_id="respondent_id", outcomes=["CUSL1"])
    csm.complaints.recovery_test(log, survey, customer_id="respondent_id", outcomes=["CUSL1"])
    csm.complaints.between(log, "2026-01-01", "2026-03-31")  # a wave's window: opened then, as of its end

Times to resolution of tickets still open are censored at the log's
``as_of``: medians, 90th percentiles and the share resolved within the SLA
are Kaplan-Meier estimates (with no open ticket they equal the plain
empirical ones).  Customer ids are salted hashes (see
:mod:`csmlib.data.complaint_log`) and never appear in any table.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data.complaint_log import ComplaintCodebook, ComplaintLog, censor, read_log
from ..errors import DataError
from .metrics import loyalty_by_complaint_handling

__all__ = [
    "read_log", "ComplaintLog", "ComplaintCodebook", "GROUPS", "kaplan_meier", "volume", "volume_trend",
    "pareto", "resolution", "category_by_period", "change_test", "recovery", "recovery_test",
    "recovery_groups", "between",
]

#: Recovery groups, in report order.
GROUPS = ("no complaint", "resolved within SLA", "resolved late", "unresolved")

_BY = ("category", "subcategory", "channel", "status")
_NOT_GIVEN = "(not given)"


def _check_log(log: Any) -> ComplaintLog:
    if not isinstance(log, ComplaintLog):
        raise DataError(f"expected a complaint log, got {type(log).__name__}",
                        hint="read one with csm.complaints.read_log(path, codebook)")
    return log


def _tickets(log: ComplaintLog) -> ComplaintLog:
    """``log`` when it holds tickets; a log without any (a window in which
    none was opened, :func:`between`) has no table to give: a DataError."""
    if log.n == 0:
        raise DataError(f"the complaint log holds no tickets (none opened up to {log.as_of:%Y-%m-%d}, or in the "
                        "window taken with between)", file=log.file,
                        hint="check the window's days against the log's dates; a period without complaints "
                             "has no table of them")
    return log


def _check_by(log: ComplaintLog, by: str | None) -> str | None:
    if by is None:
        return None
    if by not in _BY:
        raise DataError(f"cannot group tickets by {by!r}", values=[by], hint=f"use one of {_BY} or None")
    return by


def _groups(log: ComplaintLog, by: str) -> tuple[np.ndarray, np.ndarray]:
    """Each ticket's group as a code into the group labels (sorted; a ticket
    without a value is in :data:`_NOT_GIVEN`)."""
    _tickets(log)
    codes, labels = pd.factorize(log.tickets[by].to_numpy(dtype=object), sort=True, use_na_sentinel=True)
    if not len(labels):
        raise DataError(f"the complaint log has no {by} column", values=[by],
                        hint=f"declare {by}_column in the codebook, or group by another column")
    labels = np.asarray(labels, dtype=object).astype(str).astype(object)   # (text of any length)
    missing = codes < 0
    if missing.any():   # one group with the tickets whose export writes "(not given)" itself
        at = int(np.searchsorted(labels, _NOT_GIVEN))
        if at == len(labels) or labels[at] != _NOT_GIVEN:
            labels = np.insert(labels, at, _NOT_GIVEN)
            codes = codes + (codes >= at)
        codes[missing] = at
    return codes, labels


def _periods(log: ComplaintLog, period: str) -> pd.Series:
    try:
        return log.tickets["opened"].dt.to_period(period)
    except (ValueError, TypeError, AttributeError):
        raise DataError(f"unknown period {period!r}", values=[period],
                        hint="use 'D' (day), 'W' (week), 'M' (month), 'Q' (quarter) or 'Y' (year)") from None


# --------------------------------------------------------------------------- windows
def _day(value: Any, name: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    # text only as YYYY-MM-DD: pandas reads "01/02/2026" month first, whatever the writer meant
    iso = isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), flags=re.ASCII)
    try:
        day = (pd.NaT if isinstance(value, (str, int, float, np.number)) and not iso
               else pd.Timestamp(value.strip() if iso else value))
    except (ValueError, TypeError):
        day = pd.NaT
    if pd.isna(day) or day.tzinfo is not None or day != day.normalize():
        raise DataError(f"{name} must be a day (YYYY-MM-DD) on the log's clock, got {value!r}", values=[value],
                        hint="give a date without a time or zone, e.g. '2026-03-31' (a log whose timestamps "
                             "carry UTC offsets is on UTC)")
    return day


def between(log: ComplaintLog, start: Any = None, end: Any = None) -> ComplaintLog:
    """The log of a period (a wave's fieldwork window): tickets opened from
    ``start`` through ``end`` (whole days), as the log stood at the end of
    ``end``.

    As :func:`read_log` with ``as_of``: a ticket closed after the end of
    ``end`` is open then, and its time to resolution is censored there; the
    new ``as_of`` is the end of ``end`` (23:59:59.999999999), or the log's
    own ``as_of`` when that is earlier (a log cannot say what happened after
    it was exported).  Days are on the log's clock: its local time, or UTC
    for a log whose timestamps carry offsets.

    Parameters
    ----------
    log : ComplaintLog
    start, end : date, midnight timestamp, text ``YYYY-MM-DD``, or None
        First and last day (inclusive; other text, such as ``01/02/2026``,
        is refused: it reads month or day first); None or ``""``: from the first
        ticket, up to the log's ``as_of``.  ``between(log, end=day)`` is the
        whole log as of then (the window and the periods before it).

    Returns
    -------
    ComplaintLog
        ``tickets`` with the columns of :class:`ComplaintLog` (possibly no
        rows), the same codebook, file, hash and customer-id salt.

    Raises
    ------
    DataError
        A day that is not a date, has a time or zone, or ``start`` after ``end``.
        (A window without tickets is returned; the tables of such a log
        refuse it with a DataError saying it holds no tickets.)
    """
    log = _check_log(log)
    first, last = _day(start, "start"), _day(end, "end")
    if first is not None and last is not None and first > last:
        raise DataError(f"the window ends ({last:%Y-%m-%d}) before it starts ({first:%Y-%m-%d})",
                        values=[str(start), str(end)], hint="give start <= end")
    as_of = log.as_of if last is None else min(log.as_of, last + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))
    t = log.tickets
    keep = (t["opened"] <= as_of) & (True if first is None else t["opened"] >= first)
    t = t.loc[keep].reset_index(drop=True)
    if as_of < log.as_of:   # closed later: open as of then
        closed, is_closed, hours = censor(t["opened"], t["closed"], as_of)
        t = t.assign(closed=closed, is_closed=is_closed, hours=hours)
    return dataclasses.replace(log, tickets=t, as_of=pd.Timestamp(as_of))


# --------------------------------------------------------------------------- Kaplan-Meier
def kaplan_meier(time: Any, event: Any) -> pd.DataFrame:
    """The Kaplan-Meier estimate of the survival function of right-censored times.

    Parameters
    ----------
    time : array-like of float
        Time to the event, or to censoring.
    event : array-like of bool
        True where the event was observed (ticket closed), False where censored.

    Returns
    -------
    DataFrame
        One row per distinct time: ``time``, ``at_risk``, ``events``,
        ``survival`` (the estimate just after ``time``).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    if len(t) == 0:
        return pd.DataFrame({"time": [], "at_risk": [], "events": [], "survival": []})
    order = np.argsort(t)   # (the order among equal times does not matter: they are counted together)
    t, e = t[order], e[order]
    first = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
    uniq = t[first]
    events = np.add.reduceat(e.astype(np.int64), first)
    at_risk = len(t) - first
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame({"time": uniq, "at_risk": at_risk, "events": events, "survival": survival})


def _km_quantile(curve: pd.DataFrame, q: float) -> float:
    """The smallest time at which the estimated share of events reaches ``q``
    (NaN when the curve never gets there, e.g. too many open tickets)."""
    s = curve["survival"].to_numpy()
    hit = np.flatnonzero(s <= 1.0 - q + 1e-12)
    return float(curve["time"].iloc[hit[0]]) if len(hit) else np.nan


def _km_share_by(curve: pd.DataFrame, t: float) -> float:
    """Estimated share of events by time ``t`` (1 - S(t))."""
    times = curve["time"].to_numpy()
    i = np.searchsorted(times, t, side="right") - 1
    return 0.0 if i < 0 else float(1.0 - curve["survival"].iloc[i])


# --------------------------------------------------------------------------- volume
def volume(log: ComplaintLog, period: str = "M", *, base: Any = None) -> pd.DataFrame:
    """Tickets opened per period (every period from the first to ``as_of``).

    Parameters
    ----------
    log : ComplaintLog
    period : str
        A pandas period: ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``.
    base : number or Series, optional
        Customers (or orders, contracts) per period, for the complaint rate: one
        number for every period, or a Series indexed by period label (``"2026-01"``).

    Returns
    -------
    DataFrame
        ``period`` (label), ``start``, ``end`` (timestamps), ``count``,
        ``complete`` (False for a period that ends more than a minute after ``as_of``), and, when
        ``base`` is given, ``base`` and ``rate`` (count / base).
    """
    log = _tickets(_check_log(log))
    per = _periods(log, period)
    full = pd.period_range(per.min(), log.as_of.to_period(period), freq=per.dt.freq)
    counts = per.value_counts().reindex(full, fill_value=0)
    out = pd.DataFrame({
        "period": full.astype(str), "start": full.start_time, "end": full.end_time,
        "count": counts.to_numpy(dtype=np.int64),
        # (logs are written to the minute: an export at 23:59 of the last day is complete)
        "complete": full.end_time <= log.as_of + pd.Timedelta(minutes=1),
    })
    if base is not None:
        if isinstance(base, pd.Series):
            b = base.copy()
            b.index = b.index.astype(str)
            out["base"] = out["period"].map(b).astype(float).to_numpy()
        else:
            out["base"] = float(base)
        if (out["base"] <= 0).any():
            raise DataError("the base of a complaint rate must be above 0", values=list(out["base"][out["base"] <= 0]),
                            hint="give the number of customers (or orders) per period")
        out["rate"] = out["count"] / out["base"]
    return out


def volume_trend(log: ComplaintLog, period: str = "M", *, level: float = 0.95) -> pd.DataFrame:
    """The trend of the ticket volume: relative change per period.

    A quasi-Poisson regression (log link, dispersion from the Pearson
    chi-square) of the count of each complete period on its number; an
    incomplete last period is left out.

    Returns
    -------
    DataFrame
        One row: ``periods`` (complete periods used), ``change_per_period``
        (e.g. 0.05 = +5% per period), ``ci_lower``, ``ci_upper``, ``pvalue``,
        ``dispersion``.  NaN with fewer than 3 complete periods.
    """
    import statsmodels.api as sm

    v = volume(log, period)
    v = v[v["complete"]]
    row = {"periods": len(v), "change_per_period": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
           "pvalue": np.nan, "dispersion": np.nan}
    if len(v) >= 3 and v["count"].sum() > 0:
        x = sm.add_constant(np.arange(len(v), dtype=float))
        fit = sm.GLM(v["count"].to_numpy(float), x, family=sm.families.Poisson()).fit(scale="X2")
        lo, hi = fit.conf_int(alpha=1 - level)[1]
        row.update(change_per_period=float(np.expm1(fit.params[1])), ci_lower=float(np.expm1(lo)),
                   ci_upper=float(np.expm1(hi)), pvalue=float(fit.pvalues[1]), dispersion=float(fit.scale))
    return pd.DataFrame([row])


# --------------------------------------------------------------------------- pareto
def pareto(log: ComplaintLog, by: str = "category", *, vital_share: float = 0.8,
           lang: str | None = None) -> pd.DataFrame:
    """Tickets by category (or channel ...), most frequent first, with the vital few.

    Parameters
    ----------
    log : ComplaintLog
    by : {"category", "subcategory", "channel", "status"}
    vital_share : float
        The "vital few" are the most frequent groups that together make up
        this share of tickets (the group that crosses it included).
    lang : str, optional
        Language of the labels (default: the codebook's).

    Returns
    -------
    DataFrame
        ``<by>`` (the code), ``label`` (from the codebook, else the code),
        ``count``, ``share``, ``cumulative_share``, ``vital_few`` (bool).
        Ties are ordered by code.
    """
    log = _check_log(log)
    by = _check_by(log, by)
    if not 0 < vital_share <= 1:
        raise DataError(f"vital_share must be in (0, 1], got {vital_share!r}", hint="use e.g. 0.8")
    codes, labels = _groups(log, by)
    out = pd.DataFrame({by: labels, "count": np.bincount(codes, minlength=len(labels)).astype(np.int64)})
    out = out.sort_values(["count", by], ascending=[False, True], kind="stable").reset_index(drop=True)
    cb = log.codebook
    label = cb.channel_label if by == "channel" else cb.category_label if by == "category" else None
    out.insert(1, "label", [label(c, lang) if label else c for c in out[by]])
    out["share"] = out["count"] / out["count"].sum()
    out["cumulative_share"] = out["share"].cumsum()
    out["vital_few"] = (out["cumulative_share"] - out["share"]) < vital_share - 1e-12
    return out


# --------------------------------------------------------------------------- resolution
def _sla(log: ComplaintLog, sla_hours: Any) -> np.ndarray:
    if sla_hours is None:
        return log.tickets["sla_hours"].to_numpy(float)
    if isinstance(sla_hours, dict):
        return log.tickets["category"].map({str(k): float(v) for k, v in sla_hours.items()}).to_numpy(float)
    if isinstance(sla_hours, (int, float)) and not isinstance(sla_hours, bool) and sla_hours > 0:
        return np.full(log.n, float(sla_hours))
    raise DataError(f"sla_hours must be a number above 0 or {{category: hours}}, got {sla_hours!r}",
                    hint="e.g. sla_hours=48 or sla_hours={'billing': 24, 'delivery': 72}")


def _resolution_row(hours: np.ndarray, closed: np.ndarray, sla: np.ndarray, reopened: np.ndarray) -> dict:
    curve = kaplan_meier(hours, closed)
    has_sla = ~np.isnan(sla)
    within = np.nan
    if has_sla.any():
        # the SLA may differ by ticket: time as a share of its SLA, censored alike
        ratio = kaplan_meier(hours[has_sla] / sla[has_sla], closed[has_sla])
        within = _km_share_by(ratio, 1.0)
    known = ~np.isnan(reopened)
    return {
        "n": len(hours), "closed": int(closed.sum()), "open": int((~closed).sum()),
        "median_hours": _km_quantile(curve, 0.5), "p90_hours": _km_quantile(curve, 0.9),
        "within_sla_share": within,
        "open_over_sla": int((~closed & has_sla & (hours > np.where(has_sla, sla, np.inf))).sum()),
        "reopen_rate": float(reopened[known].mean()) if known.any() else np.nan,
    }


def resolution(log: ComplaintLog, by: str | None = None, sla_hours: Any = None) -> pd.DataFrame:
    """Time to resolution, SLA, reopening and open backlog.

    Parameters
    ----------
    log : ComplaintLog
    by : {"category", "subcategory", "channel", "status"}, optional
        One row per group (most tickets first), else one row for all tickets.
    sla_hours : number or dict, optional
        Overrides the codebook's SLA: hours for every ticket, or per category.

    Returns
    -------
    DataFrame
        ``<by>`` (when grouped), ``n``, ``closed``, ``open`` (backlog as of
        ``as_of``), ``median_hours``, ``p90_hours`` (Kaplan-Meier: open
        tickets censored at ``as_of``; NaN when too many are open to reach the
        quantile), ``within_sla_share`` (Kaplan-Meier share resolved within the
        ticket's SLA; NaN without an SLA), ``open_over_sla`` (open tickets
        already older than their SLA), ``reopen_rate`` (share of tickets with
        a known flag that were reopened; NaN without the column).
    """
    log = _check_log(log)
    by = _check_by(log, by)
    t = log.tickets
    hours, closed = t["hours"].to_numpy(float), t["is_closed"].to_numpy(bool)
    sla, reopened = _sla(log, sla_hours), t["reopened"].to_numpy(float)
    if by is None:
        return pd.DataFrame([_resolution_row(hours, closed, sla, reopened)])
    inverse, codes = _groups(log, by)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
    rows = []
    for k, code in enumerate(codes):
        idx = order[bounds[k]:bounds[k + 1]]
        rows.append({by: code, **_resolution_row(hours[idx], closed[idx], sla[idx], reopened[idx])})
    out = pd.DataFrame(rows)
    return out.sort_values(["n", by], ascending=[False, True], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- change
def _crosstab(log: ComplaintLog, period: str, by: str) -> pd.DataFrame:
    """Tickets of each group (rows, by label) opened in each period (columns,
    in time order; periods without tickets left out)."""
    codes, labels = _groups(log, by)
    when, periods = pd.factorize(_periods(log, period), sort=True)
    counts = np.bincount(codes * len(periods) + when, minlength=len(labels) * len(periods))
    return pd.DataFrame(counts.reshape(len(labels), len(periods)), index=pd.Index(labels, name=by),
                        columns=pd.Index(periods.astype(str), name="period"))


def category_by_period(log: ComplaintLog, period: str = "Q", by: str = "category") -> pd.DataFrame:
    """Tickets of each category (channel ...) in each period.

    Returns
    -------
    DataFrame
        One row per ``<by>`` x period: ``<by>``, ``period``, ``count``,
        ``share`` (of the period's tickets), ``expected`` (count if the mix
        did not change), ``adjusted_residual`` (beyond +-2: this cell drives a
        change; Haberman's adjusted residual).
    """
    log = _check_log(log)
    by = _check_by(log, by)
    tab = _crosstab(log, period, by)
    obs = tab.to_numpy(float)
    n = obs.sum()
    rows, cols = obs.sum(axis=1, keepdims=True), obs.sum(axis=0, keepdims=True)
    exp = rows @ cols / n
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = (obs - exp) / np.sqrt(exp * (1 - rows / n) * (1 - cols / n))
        share = obs / cols
    long = pd.DataFrame({
        by: np.repeat(tab.index.to_numpy(str), tab.shape[1]),
        "period": np.tile(tab.columns.to_numpy(str), tab.shape[0]),
        "count": obs.ravel().astype(np.int64), "share": share.ravel(), "expected": exp.ravel(),
        "adjusted_residual": adj.ravel(),
    })
    return long


def change_test(log: ComplaintLog, period: str = "Q", by: str = "category") -> pd.DataFrame:
    """Chi-square test that the mix of categories (channels ...) is the same in every period.

    Returns
    -------
    DataFrame
        One row: ``chi2``, ``df``, ``pvalue``, ``n``, ``periods``, ``groups``,
        ``cramers_v``, ``min_expected`` (below 5: the chi-square
        approximation is rough; merge small categories or longer periods).
        NaN statistics with fewer than two periods or groups.
    """
    log = _check_log(log)
    by = _check_by(log, by)
    tab = _crosstab(log, period, by)
    obs = tab.to_numpy(float)
    out = {"chi2": np.nan, "df": np.nan, "pvalue": np.nan, "n": int(obs.sum()), "periods": tab.shape[1],
           "groups": tab.shape[0], "cramers_v": np.nan, "min_expected": np.nan}
    if min(tab.shape) >= 2:
        res = stats.chi2_contingency(obs, correction=False)
        k = min(tab.shape) - 1
        out.update(chi2=float(res.statistic), df=int(res.dof), pvalue=float(res.pvalue),
                   cramers_v=float(np.sqrt(res.statistic / (obs.sum() * k))),
                   min_expected=float(res.expected_freq.min()))
    return pd.DataFrame([out])


# --------------------------------------------------------------------------- recovery
def _survey_frame(survey: Any) -> pd.DataFrame:
    data = getattr(survey, "data", survey)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"expected a Survey or a DataFrame, got {type(survey).__name__}",
                        hint="pass csm.read_survey(...) or a frame with the customer id and outcome columns")
    return data


def recovery_groups(log: ComplaintLog, survey: Any, customer_id: str, *,
                    sla_hours: Any = None, survey_date: str | None = None) -> pd.Series:
    """The complaint-handling group of every survey respondent.

    A respondent whose (hashed) customer id has no ticket is ``"no
    complaint"``; with tickets, the worst of them counts: ``"unresolved"``
    (a ticket still open) over ``"resolved late"`` (closed after its SLA)
    over ``"resolved within SLA"``.  A respondent without a customer id is
    NaN.

    Which tickets count (the rule):

    * without ``survey_date``: every ticket of the log, as it stood at the
      log's ``as_of`` -- also tickets opened after the respondent answered,
      which cannot have shaped the answer;
    * with ``survey_date``: only tickets opened before the respondent
      answered, handled as they stood then: a ticket closed later was still
      unresolved when the respondent answered.  A respondent with no date is
      NaN (cannot be told).  The survey's dates and the log's timestamps must
      be on one clock (both local, or both with UTC offsets: each is then in
      UTC).

    Parameters
    ----------
    log : ComplaintLog
    survey : Survey or DataFrame
    customer_id : str
        The survey column holding the log's customer ids.
    sla_hours : number or dict, optional
        Overrides the codebook's SLA.
    survey_date : str, optional
        The survey column holding when each respondent answered (datetime;
        the instrument's ``date_column``).

    Returns
    -------
    Series
        Indexed like the survey's rows, values from :data:`GROUPS` (categorical).
    """
    log = _check_log(log)
    data = _survey_frame(survey)
    if customer_id not in data.columns:
        raise DataError("the survey has no such customer id column", column=customer_id,
                        hint="give customer_id= the survey column that holds the log's customer ids")
    when = _answer_dates(data, survey_date)
    t = _tickets(log).tickets
    if t["customer"].isna().all():
        raise DataError("the complaint log has no customer ids to link to the survey",
                        hint="declare customer_id_column in the complaint codebook")
    sla = _sla(log, sla_hours)
    closed = t["is_closed"].to_numpy(bool)
    missing_sla = closed & np.isnan(sla)
    if missing_sla.any():
        cats = sorted(set(t.loc[missing_sla, "category"]))
        raise DataError("resolved tickets without an SLA cannot be called on time or late", values=cats,
                        hint="give sla_hours in the codebook (a number, or one per category) or pass sla_hours=")
    # 1 within SLA, 2 late, 3 unresolved; the worst ticket of a customer counts
    late = t["hours"].to_numpy(float) > sla
    keys = log.hash_ids(data[customer_id])
    if when is None:
        severity = np.where(~closed, 3, np.where(late, 2, 1))
        who, customers = pd.factorize(t["customer"], use_na_sentinel=True)   # (no id: left out)
        worst = np.zeros(len(customers) + 1, dtype=int)   # 0: no ticket (the last slot: not in the log)
        np.maximum.at(worst, who[who >= 0], severity[who >= 0])
        found = pd.Index(customers).get_indexer(keys.fillna(0).to_numpy(dtype=np.uint64))
        code = worst[np.where(keys.isna().to_numpy() | (found < 0), len(customers), found)]
    else:
        # every respondent's tickets opened before the answer, each as it stood at the answer
        linked = t.loc[t["customer"].notna(), ["customer", "opened", "closed"]].assign(late=late[t["customer"].notna()])
        pairs = pd.DataFrame({"respondent": np.arange(len(data)), "customer": keys.to_numpy(),
                              "answered": when.to_numpy()}).dropna(subset=["customer"])
        pairs = pairs.merge(linked, on="customer", how="inner")
        pairs = pairs[pairs["opened"] < pairs["answered"]]
        resolved = (pairs["closed"] <= pairs["answered"]).to_numpy()   # NaT (open): False
        severity = np.where(~resolved, 3, np.where(pairs["late"].to_numpy(bool), 2, 1))
        worst = pd.Series(severity, index=pairs.index).groupby(pairs["respondent"].to_numpy()).max()
        code = np.zeros(len(data), dtype=int)
        code[worst.index.to_numpy(dtype=int)] = worst.to_numpy(dtype=int)
    labels = np.asarray(GROUPS, dtype=object)[code]
    labels[keys.isna().to_numpy()] = None       # no customer id: cannot be told
    if when is not None:
        labels[when.isna().to_numpy()] = None   # no date: cannot be told which tickets came before
    return pd.Series(pd.Categorical(labels, categories=list(GROUPS)), index=data.index, name="group")


def _answer_dates(data: pd.DataFrame, survey_date: str | None) -> pd.Series | None:
    """The survey's answer dates (datetime64), or None without ``survey_date``."""
    if survey_date is None or survey_date == "":
        return None
    if survey_date not in data.columns:
        raise DataError("the survey has no such date column", column=survey_date,
                        hint="give survey_date= the survey column with when each respondent answered "
                             "(declare it as the instrument's date_column)")
    when = data[survey_date]
    if not pd.api.types.is_datetime64_any_dtype(when.dtype) or getattr(when.dt, "tz", None) is not None:
        raise DataError("the survey's date column does not hold dates without a time zone", column=survey_date,
                        hint="declare it as the instrument's date_column (read_survey then reads it), or pass "
                             "a datetime64 column without a zone")
    if len(when) and when.isna().all():
        raise DataError("no respondent has an answer date, so no complaint can be placed before or after an answer",
                        column=survey_date,
                        hint="fill the date column in the export, or leave survey_date out (every complaint of "
                             "the log then counts)")
    return when


def _outcomes(data: pd.DataFrame, outcomes: Any) -> list[str]:
    names = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    bad = [o for o in names if o not in data.columns]
    if not names or bad:
        raise DataError("outcomes must name columns of the survey", column=bad or None,
                        hint="e.g. outcomes=['CUSL1'] or a frame with construct scores")
    return names


def recovery(log: ComplaintLog, survey: Any, customer_id: str, outcomes: Sequence[str] | str, *,
             sla_hours: Any = None, min_base: int = 0, level: float = 0.95,
             survey_date: str | None = None) -> pd.DataFrame:
    """Satisfaction and loyalty of complainers by how their complaint was
    handled, beside non-complainers (the service-recovery comparison).

    Parameters
    ----------
    log : ComplaintLog
    survey : Survey or DataFrame
        Respondents, with ``customer_id`` and the ``outcomes`` columns.
    customer_id : str
        The survey column holding the ids the log's customer_id_column holds
        (hashed with the log's salt; never shown).
    outcomes : str or sequence of str
        Columns to compare (items, or construct scores added to the frame).
    sla_hours : number or dict, optional
        Overrides the codebook's SLA.
    min_base : int
        Groups with fewer respondents show ``n`` only (statistics NaN,
        ``suppressed`` True).
    level : float
        Confidence level of the intervals.
    survey_date : str, optional
        The survey column with when each respondent answered: only tickets
        opened before it count, as they stood then; without it, every ticket
        of the log counts (the rule: :func:`recovery_groups`).

    Returns
    -------
    DataFrame
        One row per outcome x group of :data:`GROUPS`: ``outcome``, ``group``,
        ``n``, ``mean``, ``sd``, ``se``, ``ci_lower``, ``ci_upper`` (t
        interval), ``diff_vs_rest``, ``pvalue_vs_rest`` (Welch t-test against
        all other respondents), ``suppressed``.
    """
    data = _survey_frame(survey)
    group = recovery_groups(log, data, customer_id, sla_hours=sla_hours, survey_date=survey_date)
    frames = []
    for name in _outcomes(data, outcomes):
        f = loyalty_by_complaint_handling(data[name], group.astype(object), order=list(GROUPS), level=level)
        f.insert(0, "outcome", name)
        f["suppressed"] = f["n"] < min_base
        stat_cols = ["mean", "sd", "se", "ci_lower", "ci_upper", "diff_vs_rest", "pvalue_vs_rest"]
        f.loc[f["suppressed"], stat_cols] = np.nan
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def recovery_test(log: ComplaintLog, survey: Any, customer_id: str, outcomes: Sequence[str] | str, *,
                  sla_hours: Any = None, min_base: int = 2, level: float = 0.95,
                  survey_date: str | None = None) -> pd.DataFrame:
    """Tests of the recovery comparison, per outcome.

    Welch's one-way ANOVA across the groups of :data:`GROUPS` with at least
    ``min_base`` (and 2) respondents, and the difference "resolved late"
    minus "resolved within SLA" with its Welch t interval and test.  The
    groups as :func:`recovery_groups` forms them (``survey_date``: only
    tickets opened before each respondent answered).

    Returns
    -------
    DataFrame
        One row per outcome: ``outcome``, ``groups`` (groups tested),
        ``welch_f``, ``df1``, ``df2``, ``pvalue``, ``late_minus_within``,
        ``late_ci_lower``, ``late_ci_upper``, ``late_pvalue``.
    """
    data = _survey_frame(survey)
    group = recovery_groups(log, data, customer_id, sla_hours=sla_hours, survey_date=survey_date).astype(object)
    floor = max(2, int(min_base))
    rows = []
    for name in _outcomes(data, outcomes):
        y = pd.to_numeric(data[name], errors="coerce")
        ok = y.notna() & group.notna()
        samples = {g: y[ok & (group == g)].to_numpy(float) for g in GROUPS}
        used = [g for g in GROUPS if len(samples[g]) >= floor]
        row: dict[str, Any] = {"outcome": name, "groups": len(used), "welch_f": np.nan, "df1": np.nan,
                               "df2": np.nan, "pvalue": np.nan, "late_minus_within": np.nan,
                               "late_ci_lower": np.nan, "late_ci_upper": np.nan, "late_pvalue": np.nan}
        if len(used) >= 2:
            res = stats.f_oneway(*(samples[g] for g in used), equal_var=False)
            k = len(used)
            row.update(welch_f=float(res.statistic), df1=k - 1, pvalue=float(res.pvalue))
            row["df2"] = _welch_df2([samples[g] for g in used])
        late, within = samples["resolved late"], samples["resolved within SLA"]
        if len(late) >= floor and len(within) >= floor:
            t = stats.ttest_ind(late, within, equal_var=False)
            ci = t.confidence_interval(confidence_level=level)
            row.update(late_minus_within=float(late.mean() - within.mean()), late_ci_lower=float(ci.low),
                       late_ci_upper=float(ci.high), late_pvalue=float(t.pvalue))
        rows.append(row)
    return pd.DataFrame(rows)


def _welch_df2(samples: list[np.ndarray]) -> float:
    """Denominator degrees of freedom of Welch's ANOVA (Welch 1951)."""
    n = np.array([len(s) for s in samples], float)
    w = n / np.array([s.var(ddof=1) for s in samples])
    k = len(samples)
    lam = 3 * np.sum((1 - w / w.sum()) ** 2 / (n - 1)) / (k**2 - 1)
    return float(1 / lam)
