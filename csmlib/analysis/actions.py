"""Closing the loop: improvement actions and what became of them.

A study file lists the actions decided after a wave (``actions:``, see
:mod:`csmlib.run.study`): who owns each (a department), which construct or
item it should raise, from which baseline wave, to which target value, by
which wave.  Each wave's report then shows every action's status:

``not yet due``
    the due wave has not been measured yet (the change so far is shown);
``met`` / ``not met``
    the due wave's estimate reaches / does not reach the target value;
``not measurable``
    the target was not measured in the baseline or the due wave (not
    estimated, or suppressed for a small base).

Targets are levels on the target's own scale: a construct's 0-100 index,
an item's mean on its answer scale (reverse-coded items reversed, so
higher is better).  The change from the baseline is tested with
:func:`csmlib.analysis.tracking.compare_estimates` (independent waves);
"met" means the estimate reaches the target, and the test says whether the
change since the baseline is more than sampling error.

>>> status = action_status(actions, measures, wave="2026Q3")      # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .tracking import compare_estimates

__all__ = ["ACTION_FIELDS", "STATUSES", "action_status", "candidate_actions", "item_measures",
           "construct_measures"]

#: What an action says (the keys of ``actions:`` in a study file).
ACTION_FIELDS = ("name", "owner", "target", "baseline_wave", "target_value", "due_wave")
#: The statuses, in the order a report lists them.
STATUSES = ("not met", "met", "not yet due", "not measurable")
_MEASURE_COLUMNS = ("wave", "target", "est", "se")
_STATUS_COLUMNS = ["action", "owner", "target", "baseline_wave", "due_wave", "target_value", "baseline",
                   "measured_wave", "value", "diff", "se", "pvalue", "ci_lower", "ci_upper", "status",
                   "reason"]


def _check_actions(actions: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(list(actions)) if not isinstance(actions, pd.DataFrame) else actions.copy()
    if len(frame) == 0:
        return pd.DataFrame(columns=list(ACTION_FIELDS))
    missing = [c for c in ACTION_FIELDS if c not in frame.columns]
    if missing:
        raise DataError(f"the actions lack {', '.join(missing)}", column=missing,
                        hint=f"every action needs {', '.join(ACTION_FIELDS)}")
    return frame[list(ACTION_FIELDS)].reset_index(drop=True)


def _check_measures(measures: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(measures, pd.DataFrame):
        raise DataError("the measures must be a DataFrame with columns wave, target, est, se")
    missing = [c for c in _MEASURE_COLUMNS if c not in measures.columns]
    if missing:
        raise DataError(f"the measures lack column(s) {', '.join(missing)}", column=missing,
                        hint="one row per wave and target: wave, target, est, se")
    m = measures.copy()
    m["wave"] = m["wave"].astype(str)
    m["target"] = m["target"].astype(str)
    dup = m.duplicated(["wave", "target"])
    if dup.any():
        raise DataError("the measures hold a wave and target twice", values=m.loc[dup, "target"].tolist()[:5],
                        hint="give one row per wave and target")
    return m


def action_status(actions: Iterable[Mapping[str, Any]] | pd.DataFrame, measures: pd.DataFrame, *,
                  wave: str, level: float = 0.95) -> pd.DataFrame:
    """Each action's status at ``wave`` with the test of its change.

    Parameters
    ----------
    actions : iterable of mappings or DataFrame
        Fields ``name, owner, target, baseline_wave, target_value,
        due_wave`` (as a study's ``actions:``; ``Study.actions``).
    measures : DataFrame
        The targets' estimates so far, one row per wave and target, waves in
        time order: ``wave, target, est, se`` (NaN ``est``: not measured).
        Waves after ``wave`` are ignored; a wave not in the table has not
        been measured yet (``wave`` itself, when absent, comes after the
        table's waves and measured nothing).
    wave : str
        The wave the report is for.
    level : float
        Confidence level of the interval of the change.

    Returns
    -------
    DataFrame
        One row per action, in the given order: ``action`` (its name), ``owner, target,
        baseline_wave, due_wave, target_value``; ``baseline`` (estimate in
        the baseline wave), ``measured_wave`` (the due wave once it is
        measured, else ``wave``), ``value`` (estimate there), ``diff, se,
        pvalue, ci_lower, ci_upper`` (change from the baseline,
        :func:`~csmlib.analysis.tracking.compare_estimates`), ``status`` (one
        of :data:`STATUSES`) and ``reason`` (why, in words).
    """
    acts = _check_actions(actions)
    m = _check_measures(measures)
    order = list(dict.fromkeys(m["wave"]))
    wave = str(wave)
    order = order[:order.index(wave) + 1] if wave in order else order + [wave]
    known = m[m["wave"].isin(order)].set_index(["wave", "target"])

    def measure(w: str, target: str) -> tuple[float, float]:
        if (w, target) not in known.index:
            return math.nan, math.nan
        row = known.loc[(w, target)]
        return float(row["est"]), float(row["se"])

    rows = []
    for a in acts.to_dict("records"):
        base_w, due_w, target = str(a["baseline_wave"]), str(a["due_wave"]), str(a["target"])
        row = {"action": a["name"], **{k: a[k] for k in ("owner", "target", "baseline_wave", "due_wave",
                                                          "target_value")}}
        due_reached = due_w in order
        at = due_w if due_reached else wave
        base, base_se = measure(base_w, target) if base_w in order else (math.nan, math.nan)
        value, value_se = measure(at, target)
        row.update(baseline=base, measured_wave=at, value=value)
        change = {k: math.nan for k in ("diff", "se", "pvalue", "ci_lower", "ci_upper")}
        if all(np.isfinite([base, base_se, value, value_se])) and at != base_w:
            test = compare_estimates(base, base_se, value, value_se, level=level)
            change = {k: float(test[k]) for k in change}
        row.update(change)
        if base_w not in order:
            status, reason = "not yet due", f"the baseline wave {base_w} is not measured yet"
        elif not np.isfinite(base):
            status, reason = "not measurable", f"{target} was not measured in the baseline wave {base_w}"
        elif not due_reached:
            status, reason = "not yet due", f"due in {due_w}"
        elif not np.isfinite(value):
            status, reason = "not measurable", f"{target} was not measured in the due wave {due_w}"
        elif value >= float(a["target_value"]):
            status, reason = "met", f"{due_w} reached the target"
        else:
            status, reason = "not met", f"{due_w} stayed below the target"
        row.update(status=status, reason=reason)
        rows.append(row)
    return pd.DataFrame(rows, columns=_STATUS_COLUMNS)


def candidate_actions(ipma: pd.DataFrame, *, wave: str, due_wave: str, n: int = 3,
                      step: float = 5.0) -> pd.DataFrame:
    """Proposed actions from the importance-performance ("improve first") list.

    The ``n`` drivers ranked first by :func:`csmlib.ipma` (largest
    ``priority``), each with the target of raising its performance by
    ``step`` points (at most 100) by ``due_wave``; the owner is left blank
    for the study team to fill in.

    Parameters
    ----------
    ipma : DataFrame
        ``csm.ipma(...)`` at construct level (columns ``construct,
        importance, performance`` and ``rank``; without ``rank`` the order
        is ``importance * (100 - performance)``, largest first).
    wave : str
        The baseline wave (this one).
    due_wave : str
        When the target should be reached (e.g. the next wave).
    n : int
        How many to propose.
    step : float
        Points of performance (0-100) to gain.

    Returns
    -------
    DataFrame
        ``action, owner (""), target, baseline_wave, target_value, due_wave,
        performance, importance``: the fields of a study file's ``actions:``
        (``action`` is its ``name``) and the figures they come from.
    """
    need = [c for c in ("construct", "performance", "importance") if c not in ipma.columns]
    if need:
        raise DataError(f"the importance-performance table lacks {', '.join(need)}", column=need,
                        hint="pass csm.ipma(results, target=...) at construct level")
    if "rank" in ipma.columns:
        top = ipma.sort_values("rank", kind="stable").head(n)
    else:   # csm.ipma's priority: importance * (100 - performance), largest first
        priority = ipma["importance"].astype(float) * (100 - ipma["performance"].astype(float))
        top = ipma.assign(_p=priority).sort_values("_p", ascending=False, kind="stable").head(n)
    return pd.DataFrame({
        "action": [f"Raise {c}" for c in top["construct"]], "owner": "",
        "target": top["construct"].astype(str).to_numpy(), "baseline_wave": str(wave),
        "target_value": np.minimum(100.0, np.round(top["performance"].to_numpy(float) + step, 1)),
        "due_wave": str(due_wave), "performance": top["performance"].to_numpy(float),
        "importance": top["importance"].to_numpy(float)})


def construct_measures(indices: pd.DataFrame, *, wave: str) -> pd.DataFrame:
    """A wave's construct indices (``boot.index``, recorded as ``indices``) as measures.

    Returns
    -------
    DataFrame
        ``wave, target, est, se, kind`` (``kind`` = ``"construct"``).
    """
    need = [c for c in ("construct", "index", "se") if c not in indices.columns]
    if need:
        raise DataError(f"the indices table lacks {', '.join(need)}", column=need)
    return pd.DataFrame({"wave": str(wave), "target": indices["construct"].astype(str).to_numpy(),
                         "est": indices["index"].to_numpy(float), "se": indices["se"].to_numpy(float),
                         "kind": "construct"})


def item_measures(data: pd.DataFrame, items: Iterable[str], *, wave: str, min_base: int = 30) -> pd.DataFrame:
    """Item means as measures: mean, standard error ``sd / sqrt(n)``.

    Parameters
    ----------
    data : DataFrame
        The survey's data (``survey.data``: reverse-coded items reversed).
    items : iterable of str
        The items.
    wave : str
        The wave label.
    min_base : int
        Items with fewer answers get NaN (not measured).

    Returns
    -------
    DataFrame
        ``wave, target, est, se, kind`` (``kind`` = ``"item"``), one row per item.
    """
    rows = []
    for item in items:
        if item not in data.columns:
            raise DataError(f"the data have no item {item!r}", column=item)
        x = pd.to_numeric(data[item], errors="coerce").dropna().to_numpy(float)
        ok = len(x) >= max(min_base, 2)
        rows.append({"wave": str(wave), "target": str(item), "est": x.mean() if ok else math.nan,
                     "se": x.std(ddof=1) / math.sqrt(len(x)) if ok else math.nan, "kind": "item"})
    return pd.DataFrame(rows, columns=["wave", "target", "est", "se", "kind"])
