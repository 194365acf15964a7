"""The study scorecard: one row per wave x segment, as a CSV and a workbook.

After a study run, :func:`csmlib.run.batch.collect_summary` hands every
run's recorded results to :func:`scorecard` and writes
``<output>/<study>/scorecard.csv`` and ``scorecard.xlsx``
(:func:`write_scorecard`).  Nothing is re-estimated: every number is a
recorded result, read through the declared keys (:mod:`csmlib.report.keys`).

Where the numbers come from
---------------------------
* base: the respondents of the wave x segment (the planner's count);
  ``suppressed`` when the base is below the study's ``min_base`` (then no
  estimate is shown);
* index, its 95% interval, its change since the previous wave and the
  change's p-value: ``index_drivers`` (``index``, ``index_ci_lower``,
  ``index_ci_upper``, ``change``, ``change_pvalue``), or ``tracking``
  when the study has no ``index_drivers``;
* NPS with its interval, top-2 box and complaint rate with their intervals:
  ``complaints_loyalty`` (``nps_detail``, ``top_box``, ``complaint_rate_detail``);
  the change of the top-2 box and of the complaint rate since the same
  segment's previous wave is tested from the recorded shares and effective
  sample sizes (:func:`csmlib.analysis.metrics.compare_shares`: the score
  test of R's ``prop.test``).

The change flag
---------------
The changes of one wave's segments are a family of tests (for the index, the
top-2 box and the complaint rate alike): each segment's p-value is adjusted
over the segments of its wave (the study's ``multiplicity``, Holm by
default; :mod:`csmlib.analysis.multiplicity`); the whole sample's change is
a family of one. ``change_flag`` is ``"up"`` or ``"down"`` when the adjusted
p-value is below ``alpha``, ``"no change"`` otherwise, and ``""`` without a
test (first wave, suppressed base).

The workbook
------------
Sheet ``Scorecard`` (the table with number formats, a frozen header row and
frozen wave/segment columns, an auto-filter, significant changes
highlighted: green for good news, red for bad -- a rising complaint rate is
red) and one sheet per table of the latest wave's study report (index trend,
segments, drivers), with the same formats. Text cells are neutralised
against formula injection as in the CSV files
(:func:`csmlib.atomic.neutralise_csv_cells`); both files are written
atomically.  The workbook's sheet names, headings and recorded categories
(flags, verdicts, IPMA advice) are in the study's language
(:mod:`csmlib.report.i18n`); the CSV keeps the machine names and values.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.multiplicity import DEFAULT_MULTIPLICITY, adjust_pvalues
from ..atomic import neutralise_csv_cells, write_bytes, write_csv
from . import i18n
from .keys import read_recorded

__all__ = ["SCORECARD_COLUMNS", "scorecard", "report_tables", "scorecard_workbook",
           "write_scorecard"]

#: the columns of :func:`scorecard`, in order
SCORECARD_COLUMNS = (
    "wave", "segment", "base", "suppressed",
    "index", "index_ci_lower", "index_ci_upper",
    "change", "change_pvalue", "change_pvalue_adj", "change_flag",
    "nps", "nps_ci_lower", "nps_ci_upper",
    "top2_box", "top2_box_ci_lower", "top2_box_ci_upper",
    "top2_box_change", "top2_box_change_pvalue", "top2_box_change_pvalue_adj", "top2_box_change_flag",
    "complaint_rate", "complaint_rate_ci_lower", "complaint_rate_ci_upper",
    "complaint_rate_change", "complaint_rate_change_pvalue", "complaint_rate_change_pvalue_adj",
    "complaint_rate_change_flag",
)

#: plain-language headings of the workbook's columns in each report language
#: (:mod:`csmlib.report.i18n`); any other column keeps its name
HEADINGS: dict[str, dict[str, str]] = {
    "wave": {"en": "Wave", "zh": "调查期"},
    "segment": {"en": "Segment", "zh": "细分群体"},
    "base": {"en": "Base (n)", "zh": "样本量"},
    "suppressed": {"en": "Suppressed", "zh": "不予报告"},
    "index": {"en": "Index (0-100)", "zh": "指数（0-100）"},
    "index_ci_lower": {"en": "Index 95% lower", "zh": "指数 95% 下限"},
    "index_ci_upper": {"en": "Index 95% upper", "zh": "指数 95% 上限"},
    "change": {"en": "Change since last wave", "zh": "较上一期变化"},
    "change_pvalue": {"en": "p (change)", "zh": "p 值（变化）"},
    "change_pvalue_adj": {"en": "p (change, adjusted)", "zh": "校正后 p 值（变化）"},
    "change_flag": {"en": "Significant change", "zh": "显著变化"},
    "nps": {"en": "NPS", "zh": "净推荐值"},
    "nps_ci_lower": {"en": "NPS 95% lower", "zh": "净推荐值 95% 下限"},
    "nps_ci_upper": {"en": "NPS 95% upper", "zh": "净推荐值 95% 上限"},
    "top2_box": {"en": "Top-2 box", "zh": "前两项比例"},
    "top2_box_ci_lower": {"en": "Top-2 box 95% lower", "zh": "前两项比例 95% 下限"},
    "top2_box_ci_upper": {"en": "Top-2 box 95% upper", "zh": "前两项比例 95% 上限"},
    "top2_box_change": {"en": "Top-2 box change", "zh": "前两项比例变化"},
    "top2_box_change_pvalue": {"en": "p (top-2 box change)", "zh": "p 值（前两项比例变化）"},
    "top2_box_change_pvalue_adj": {"en": "p (top-2 box change, adjusted)",
                                   "zh": "校正后 p 值（前两项比例变化）"},
    "top2_box_change_flag": {"en": "Significant top-2 box change", "zh": "前两项比例显著变化"},
    "complaint_rate": {"en": "Complaint rate", "zh": "投诉率"},
    "complaint_rate_ci_lower": {"en": "Complaint rate 95% lower", "zh": "投诉率 95% 下限"},
    "complaint_rate_ci_upper": {"en": "Complaint rate 95% upper", "zh": "投诉率 95% 上限"},
    "complaint_rate_change": {"en": "Complaint rate change", "zh": "投诉率变化"},
    "complaint_rate_change_pvalue": {"en": "p (complaint rate change)", "zh": "p 值（投诉率变化）"},
    "complaint_rate_change_pvalue_adj": {"en": "p (complaint rate change, adjusted)",
                                         "zh": "校正后 p 值（投诉率变化）"},
    "complaint_rate_change_flag": {"en": "Significant complaint rate change", "zh": "投诉率显著变化"},
    # the study report's tables
    "est": {"en": "Index (0-100)", "zh": "指数（0-100）"},
    "se": {"en": "Standard error", "zh": "标准误"},
    "ci_lower": {"en": "95% lower", "zh": "95% 下限"},
    "ci_upper": {"en": "95% upper", "zh": "95% 上限"},
    "n": {"en": "Base (n)", "zh": "样本量"},
    "rank": {"en": "Rank", "zh": "排序"},
    "diff": {"en": "Difference", "zh": "差异"},
    "pvalue": {"en": "p", "zh": "p 值"},
    "pvalue_adj": {"en": "p (adjusted)", "zh": "校正后 p 值"},
    "verdict": {"en": "Against the total", "zh": "与总体比较"},
    "construct": {"en": "Driver", "zh": "驱动因素"},
    "importance": {"en": "Importance (total effect)", "zh": "重要性（总效应）"},
    "performance": {"en": "Performance (0-100)", "zh": "绩效（0-100）"},
    "priority": {"en": "Priority", "zh": "优先级"},
    "quadrant": {"en": "Advice", "zh": "建议"},
}

#: the sheets, by recorded key (``scorecard``: the scorecard itself), in each report language
SHEETS: dict[str, dict[str, str]] = {
    "scorecard": {"en": "Scorecard", "zh": "计分卡"},
    "trend": {"en": "Index trend", "zh": "指数趋势"},
    "segments": {"en": "Segments", "zh": "细分群体"},
    "ipma": {"en": "Drivers", "zh": "驱动因素"},
}

_SHARE = ("top2_box", "complaint_rate")
_INDEX_SOURCES = ("index_drivers", "tracking")


def _results(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """The recorded results of one collected run (None unless it succeeded)."""
    if entry.get("status") != "success":
        return None
    return {"values": entry.get("values", {}), "frames": entry.get("frames", {})}


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _first_row(frame: pd.DataFrame | None, columns: Sequence[str]) -> list[float]:
    if frame is None or not len(frame):
        return [math.nan] * len(columns)
    return [_num(frame.iloc[0][c]) if c in frame.columns else math.nan for c in columns]


def scorecard(entries: Sequence[Mapping[str, Any]], *, waves: Sequence[str],
              min_base: int = 0, multiplicity: str = DEFAULT_MULTIPLICITY,
              alpha: float = 0.05) -> pd.DataFrame:
    """One row per wave x segment: base, index, change, NPS, top-2 box, complaint rate.

    Parameters
    ----------
    entries : sequence of mapping
        The collected runs (as in ``summary.json``): ``wave, segment,
        notebook, status, n, values, frames``.
    waves : sequence of str
        The study's waves in time order (row order).
    min_base : int
        Bases below this are marked suppressed.
    multiplicity : {"holm", "fdr_bh", "none"}
        Adjustment of the segments' change p-values within a wave.
    alpha : float
        Level at which an adjusted p-value flags a change.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SCORECARD_COLUMNS`: ``wave, segment`` (``all`` first,
        then the segments in the study's order), ``base`` (respondents),
        ``suppressed`` (bool), ``index, index_ci_lower, index_ci_upper``
        (0-100), ``change`` (index points since the previous wave),
        ``change_pvalue`` (raw), ``change_pvalue_adj`` (adjusted over the
        wave's segments), ``change_flag`` (``up``, ``down``, ``no change``
        or ``""``), ``nps, nps_ci_lower, nps_ci_upper`` (-100 to 100),
        ``top2_box, complaint_rate`` and their ``_ci_lower, _ci_upper``
        (shares 0-1), each with ``_change`` (since the segment's previous
        wave), ``_change_pvalue``, ``_change_pvalue_adj`` and
        ``_change_flag`` as for the index.  NaN where a run did not record
        the figure.
    """
    by_cell: dict[tuple[str, str], dict[str, Any]] = {}
    order: list[tuple[str, str]] = []
    for e in entries:
        key = (str(e["wave"]), str(e["segment"]))
        if key not in by_cell:
            by_cell[key] = {"base": e.get("n"), "status": set(), "runs": {}}
            order.append(key)
        cell = by_cell[key]
        cell["status"].add(e.get("status"))
        cell["runs"][e["notebook"]] = _results(e)
    rank = {w: i for i, w in enumerate(waves)}
    segs = list(dict.fromkeys(s for _, s in order if s != "all"))
    order.sort(key=lambda k: (rank.get(k[0], len(rank)), k[1] != "all",
                              segs.index(k[1]) if k[1] in segs else -1))

    rows = []
    for wave, segment in order:
        cell = by_cell[(wave, segment)]
        base = cell["base"]
        suppressed = (base is not None and int(base) < min_base) or "suppressed" in cell["status"]
        runs = cell["runs"]
        row: dict[str, Any] = {"wave": wave, "segment": segment,
                               "base": np.nan if base is None else int(base), "suppressed": bool(suppressed)}
        source = next((nb for nb in _INDEX_SOURCES if runs.get(nb) is not None), None)
        for key in ("index", "index_ci_lower", "index_ci_upper", "change", "change_pvalue"):
            value = read_recorded(runs.get(source), source, key)[0] if source else None
            row[key] = _num(value)
        cl = runs.get("complaints_loyalty")
        row["nps"], row["nps_ci_lower"], row["nps_ci_upper"] = _first_row(
            read_recorded(cl, "complaints_loyalty", "nps_detail")[0], ("nps", "ci_lower", "ci_upper"))
        (row["top2_box"], row["top2_box_ci_lower"], row["top2_box_ci_upper"],
         row["_n_top2_box"]) = _first_row(read_recorded(cl, "complaints_loyalty", "top_box")[0],
                                          ("top_box", "ci_lower", "ci_upper", "n_eff"))
        (row["complaint_rate"], row["complaint_rate_ci_lower"], row["complaint_rate_ci_upper"],
         row["_n_complaint_rate"]) = _first_row(
            read_recorded(cl, "complaints_loyalty", "complaint_rate_detail")[0],
            ("rate", "ci_lower", "ci_upper", "n_eff"))
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=list(SCORECARD_COLUMNS))
    out = pd.DataFrame(rows)
    for share in _SHARE:
        _share_changes(out, share, waves)
    family = [out["wave"], out["segment"] == "all"]   # a wave's segments; the whole sample alone
    for prefix in ("", "top2_box_", "complaint_rate_"):
        _adjust_and_flag(out, prefix, family, multiplicity, alpha)
    out["base"] = out["base"].astype("Int64")
    return out.reindex(columns=list(SCORECARD_COLUMNS))


def _share_changes(out: pd.DataFrame, share: str, waves: Sequence[str]) -> None:
    """Add ``<share>_change`` and ``<share>_change_pvalue``: each row against
    the same segment's previous wave (:func:`csmlib.analysis.metrics.compare_shares`
    on the recorded shares and effective sample sizes)."""
    from ..analysis.metrics import compare_shares

    out[f"{share}_change"] = np.nan
    out[f"{share}_change_pvalue"] = np.nan
    n_col = f"_n_{share}"
    at = {(w, s): i for i, (w, s) in enumerate(zip(out["wave"], out["segment"]))}
    for i, (wave, segment) in enumerate(zip(out["wave"], out["segment"])):
        k = list(waves).index(wave) if wave in waves else 0
        j = at.get((waves[k - 1], segment)) if k > 0 else None
        if j is None:
            continue
        a, na, b, nb = (out.at[j, share], out.at[j, n_col], out.at[i, share], out.at[i, n_col])
        if all(np.isfinite([a, na, b, nb])):
            c = compare_shares(a, na, b, nb)
            out.loc[i, [f"{share}_change", f"{share}_change_pvalue"]] = [c["diff"], c["pvalue"]]


def _adjust_and_flag(out: pd.DataFrame, prefix: str, family: list, multiplicity: str,
                     alpha: float) -> None:
    """Add ``<prefix>change_pvalue_adj`` (adjusted within each ``family``) and
    ``<prefix>change_flag`` (``up``/``down`` below ``alpha``, ``no change``, or
    ``""`` without a test)."""
    change, p, adj = f"{prefix}change", f"{prefix}change_pvalue", f"{prefix}change_pvalue_adj"
    out[adj] = np.nan
    for _, idx in out.groupby(family, sort=False).groups.items():
        out.loc[idx, adj] = adjust_pvalues(out.loc[idx, p].to_numpy(float), multiplicity)
    tested = out[adj].notna() & out[change].notna()
    flag = np.where(out[adj] < alpha, np.where(out[change] > 0, "up", "down"), "no change")
    out[f"{prefix}change_flag"] = np.where(tested, flag, "")


def report_tables(report_results: Mapping[str, Any] | None,
                  drivers_results: Mapping[str, Any] | None) -> dict[str, pd.DataFrame]:
    """The tables of one wave's study report, from its recorded results.

    Parameters
    ----------
    report_results : mapping or None
        The report notebook's recorded results (``trend``, ``segments``).
    drivers_results : mapping or None
        The whole sample's ``index_drivers`` results (``ipma``).

    Returns
    -------
    dict of str to DataFrame
        Recorded key -> table, in :data:`SHEETS` order, for the
        tables that were recorded: ``trend`` (``wave, index, se, ci_lower,
        ci_upper``), ``segments`` (the league table), ``ipma`` (``construct,
        importance, performance, priority, rank, quadrant``).
    """
    found = {
        "trend": read_recorded(report_results, "study_report", "trend")[0],
        "segments": read_recorded(report_results, "study_report", "segments")[0],
        "ipma": read_recorded(drivers_results, "index_drivers", "ipma")[0],
    }
    return {k: v for k, v in found.items() if v is not None and len(v)}


def _number_format(column: str) -> str:
    if column in ("base", "n", "rank"):
        return "0"
    if "pvalue" in column:
        return "0.000"
    if column.startswith(_SHARE):
        return "0.0%"
    if column in ("importance", "priority") or column == "se" or column.endswith("_se"):
        return "0.000"
    return "0.0"


#: the change flags of the scorecard: prefix of their columns -> +1 when a rise
#: is good news (highlighted green), -1 when it is bad news (highlighted red)
_FLAGS = {"": 1, "top2_box_": 1, "complaint_rate_": -1}


def _write_sheet(ws: Any, frame: pd.DataFrame, language: str, *, freeze: str = "A2",
                 flags: bool = False, names: Mapping[str, str] | None = None) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    shown = frame.copy()
    for c in shown.columns:   # recorded categories and construct names in the report's language
        if not pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c]):
            own = names if c == "construct" and names else {}
            shown[c] = [own.get(v, i18n.category(v, language)) if isinstance(v, str) else v
                        for v in shown[c]]
    headings = [i18n.template(HEADINGS[c], language) if c in HEADINGS else c for c in frame.columns]
    frame, shown = neutralise_csv_cells(frame), neutralise_csv_cells(shown)
    columns = list(frame.columns)
    ws.append([ILLEGAL_CHARACTERS_RE.sub(" ", str(h))
               for h in neutralise_csv_cells(pd.DataFrame(columns=headings)).columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in columns}
    for values in shown.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA
                   else (bool(v) if isinstance(v, np.bool_) else
                         (v.item() if isinstance(v, np.generic) else
                          # control characters (a vertical tab pasted from a spreadsheet) cannot be
                          # stored in a workbook: shown as a space
                          (ILLEGAL_CHARACTERS_RE.sub(" ", v) if isinstance(v, str) else v)))
                   for v in values])
    for j, c in enumerate(columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(10, min(28, 2 * len(headings[j - 1]) + 2))
        if numeric[c]:
            fmt = _number_format(c)
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
    ws.freeze_panes = freeze
    ws.auto_filter.ref = ws.dimensions
    if flags:
        good, bad = PatternFill("solid", fgColor="C6EFCE"), PatternFill("solid", fgColor="FFC7CE")
        for prefix, sign in _FLAGS.items():
            flag_column = f"{prefix}change_flag"
            if flag_column not in columns:
                continue
            cells = [k + 1 for k, c in enumerate(columns) if c.startswith(f"{prefix}change")]
            for r, flag in enumerate(frame[flag_column], start=2):
                if flag in ("up", "down"):
                    fill = good if (flag == "up") == (sign > 0) else bad
                    for k in cells:
                        ws.cell(row=r, column=k).fill = fill


def scorecard_workbook(card: pd.DataFrame, tables: Mapping[str, pd.DataFrame], *,
                       language: str = "en", names: Mapping[str, str] | None = None) -> bytes:
    """The scorecard workbook as ``.xlsx`` bytes.

    Parameters
    ----------
    card : DataFrame
        :func:`scorecard`.
    tables : mapping
        :func:`report_tables` of the latest wave (recorded key -> table).
    language : str
        Language of the headings, sheet names and recorded categories
        (:mod:`csmlib.report.i18n`).
    names : mapping, optional
        What to call each construct in that language (the drivers sheet).

    Returns
    -------
    bytes
        A workbook with the scorecard sheet and one sheet per table
        (:data:`SHEETS`).
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = i18n.template(SHEETS["scorecard"], language)
    _write_sheet(ws, card, language, freeze="C2", flags=True)
    for key, frame in tables.items():
        title = i18n.template(SHEETS[key], language) if key in SHEETS else key
        _write_sheet(wb.create_sheet(title[:31]), frame, language, names=names)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_scorecard(folder: str | Path, card: pd.DataFrame, tables: Mapping[str, pd.DataFrame], *,
                    language: str = "en", names: Mapping[str, str] | None = None) -> tuple[Path, Path]:
    """Write ``scorecard.csv`` (machine column names) and ``scorecard.xlsx``
    (:func:`scorecard_workbook` in ``language``) into ``folder`` atomically.

    Returns
    -------
    (Path, Path)
        The CSV and the workbook.
    """
    folder = Path(folder)
    csv_path = write_csv(folder / "scorecard.csv", card)
    xlsx_path = write_bytes(folder / "scorecard.xlsx", scorecard_workbook(card, tables, language=language,
                                                                          names=names))
    return csv_path, xlsx_path
