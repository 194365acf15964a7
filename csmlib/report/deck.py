"""The consultant's deck: ``runs/<study>/<wave>/report.pptx``, built from recorded results.

After a study run, :func:`csmlib.run.batch.collect_summary` builds one deck
per wave whose study report succeeded (python-pptx), from the results the
runs recorded -- the study report's (index, trend, segment league table,
estimation notes), the whole sample's ``index_drivers`` (IPMA) and
``complaints_loyalty`` (NPS, top-2 box, complaint rate) -- never by
estimating again.  Slides:

1. title: study, wave, base;
2. key findings: the index and its change, NPS, complaint rate, the drivers
   to improve first, segments off the total;
3. index trend: the chart (an image at slide resolution) and a native table;
4. segment league table (native, editable table, raw and adjusted p);
5. drivers: the importance-performance map (image);
6. improvement priorities: the drivers ranked (native table);
7. method note: model, bootstrap, index definition, multiplicity adjustment,
   minimum base, estimation notes.

A slide whose results were not recorded says so instead of showing numbers.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import write_bytes
from .keys import read_recorded
from .tables import driver_findings, fmt_ci, fmt_number, fmt_p, index_finding

__all__ = ["DeckInputs", "deck_slides", "build_deck", "write_deck", "SLIDE_TITLES"]

#: slide titles, in order
SLIDE_TITLES = ("Key findings", "Index over time", "Segments", "Drivers of {target}",
                "Improvement priorities", "How the numbers were estimated")

#: image resolution of the charts (dots per inch at their size on the slide)
CHART_DPI = 150

_MULTIPLICITY_TEXT = {
    "holm": "Holm's method (familywise error rate 5%)",
    "fdr_bh": "the Benjamini-Hochberg method (false discovery rate 5%)",
    "none": "no adjustment (each segment tested at 5% on its own)",
}


@dataclass(frozen=True)
class DeckInputs:
    """What one wave's deck is built from.

    Attributes
    ----------
    study, wave : str
    report : mapping or None
        The study report's recorded results (``values``, ``frames``).
    drivers : mapping or None
        The whole sample's ``index_drivers`` results.
    metrics : mapping or None
        The whole sample's ``complaints_loyalty`` results.
    base : int or None
        Respondents in the wave.
    method : mapping
        ``model, scheme, n_boot, seed, multiplicity, min_base`` as the study ran.
    index_construct, target : str
        The headline index's construct and the outcome the drivers are ranked for.
    """

    study: str
    wave: str
    report: Mapping[str, Any] | None = None
    drivers: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | None = None
    base: int | None = None
    method: Mapping[str, Any] = field(default_factory=dict)
    index_construct: str = "Satisfaction"
    target: str = "Loyalty"

    def value(self, results: str, notebook: str, key: str) -> Any:
        """A recorded scalar (None when not recorded)."""
        return read_recorded(getattr(self, results), notebook, key)[0]

    def frame(self, results: str, notebook: str, key: str) -> pd.DataFrame | None:
        """A recorded table (None when not recorded)."""
        return read_recorded(getattr(self, results), notebook, key)[0]


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _key_findings(d: DeckInputs) -> list[str]:
    out = []
    idx = d.value("report", "study_report", "index")
    if _finite(idx):
        change = d.value("drivers", "index_drivers", "change")
        out.append(index_finding(d.index_construct, idx, d.value("report", "study_report", "index_ci_lower"),
                                 d.value("report", "study_report", "index_ci_upper"),
                                 diff=change, pvalue=d.value("drivers", "index_drivers", "change_pvalue")))
    else:
        out.append("The satisfaction index was not estimated for this wave.")
    nps = d.frame("metrics", "complaints_loyalty", "nps_detail")
    if nps is not None and len(nps):
        r = nps.iloc[0]
        out.append(f"Net Promoter Score {fmt_ci(r['nps'], r['ci_lower'], r['ci_upper'])}.")
    cr = d.frame("metrics", "complaints_loyalty", "complaint_rate_detail")
    if cr is not None and len(cr):
        r = cr.iloc[0]
        out.append(f"Complaint rate {fmt_ci(100 * r['rate'], 100 * r['ci_lower'], 100 * r['ci_upper'])}%.")
    ipma = d.frame("drivers", "index_drivers", "ipma")
    if ipma is not None and len(ipma):
        out.extend(f"Improve first: {t}" for t in driver_findings(ipma, d.target, top=2))
    seg = d.frame("report", "study_report", "segments")
    if seg is not None and "verdict" in seg.columns:
        off = seg[seg["verdict"].isin(["above", "below"])]
        if len(off):
            out.append("Segments off the total (adjusted for multiplicity): "
                       + "; ".join(f"{s} {v}" for s, v in zip(off["segment"], off["verdict"])) + ".")
        elif len(seg):
            out.append("No segment differs significantly from the total (adjusted for multiplicity).")
    return out


def _p_text(p: Any) -> str:
    """``"0.034"`` or ``"< 0.001"`` (a table column headed p)."""
    return fmt_p(p).removeprefix("p ").removeprefix("= ")


def _trend_rows(trend: pd.DataFrame) -> pd.DataFrame:
    from ..analysis.tracking import trend_table

    t = trend_table(trend.rename(columns={"index": "est"}))
    return pd.DataFrame({
        "Wave": t["wave"].astype(str),
        "Index": [fmt_number(v) for v in t["est"]],
        "95% interval": [f"{fmt_number(a)}\u2013{fmt_number(b)}" for a, b in zip(t["ci_lower"], t["ci_upper"])],
        "Change": [f"{v:+.1f}" if _finite(v) else "" for v in t["diff"]],
        "p (change)": [_p_text(v) if _finite(v) else "" for v in t["diff_pvalue"]],
    })


def _league_rows(seg: pd.DataFrame) -> pd.DataFrame:
    def num(col: str, f: Any) -> list[str]:
        return [f(v) if _finite(v) else "" for v in seg[col]] if col in seg.columns else [""] * len(seg)

    return pd.DataFrame({
        "Rank": num("rank", lambda v: f"{int(v)}"),
        "Segment": seg["segment"].astype(str),
        "Base (n)": num("n", lambda v: f"{int(v)}"),
        "Index": num("est", fmt_number),
        "Difference to total": num("diff", lambda v: f"{v:+.1f}"),
        "p": num("pvalue", _p_text),
        "p (adjusted)": num("pvalue_adj", _p_text),
        "Against the total": seg["verdict"].astype(str) if "verdict" in seg.columns else "",
    })


def _priority_rows(ipma: pd.DataFrame) -> pd.DataFrame:
    t = ipma.sort_values("rank") if "rank" in ipma.columns else ipma
    return pd.DataFrame({
        "Priority": [f"{int(r)}" for r in t["rank"]] if "rank" in t.columns else range(1, len(t) + 1),
        "Driver": t["construct"].astype(str),
        "Importance": [f"{v:.2f}" for v in t["importance"]],
        "Performance (0-100)": [fmt_number(v) for v in t["performance"]],
        "Advice": t["quadrant"].astype(str) if "quadrant" in t.columns else "",
    })


def _method_notes(d: DeckInputs) -> list[str]:
    m = d.method
    out = [f"Model: {m.get('model', 'n/a')}, estimated by PLS path modelling "
           f"({m.get('scheme', 'path')} weighting scheme) on {d.base if d.base is not None else 'n/a'} "
           f"respondents of wave {d.wave}."]
    out.append(f"Intervals: 95% percentile bootstrap, {m.get('n_boot', 'n/a')} resamples, seed "
               f"{m.get('seed', 'n/a')}.")
    out.append(f"The {d.index_construct} index is 100 * sum w (mean - min) / sum w (max - min) over its "
               "items, with the outer weights w and the scale limits of the instrument.")
    out.append("Drivers: importance is the total effect on " + d.target + "; performance is the "
               "driver's 0-100 index.")
    out.append("Segments are tested against the total, adjusted for multiplicity with "
               + _MULTIPLICITY_TEXT.get(str(m.get("multiplicity", "holm")), str(m.get("multiplicity")))
               + f"; bases below {m.get('min_base', 'n/a')} are suppressed.")
    notes = d.value("report", "study_report", "estimation_notes") or []
    out.extend(f"Note: {n}" for n in notes[:4])
    return out


def deck_slides(d: DeckInputs) -> list[dict[str, Any]]:
    """The deck's content, slide by slide, before layout.

    Returns
    -------
    list of dict
        One dict per slide: ``title`` (str), ``bullets`` (list of str),
        ``table`` (DataFrame of display strings, or None) and ``chart``
        (``"trend"``, ``"ipma"`` or None).
    """
    trend = d.frame("report", "study_report", "trend")
    seg = d.frame("report", "study_report", "segments")
    ipma = d.frame("drivers", "index_drivers", "ipma")
    missing = "Not recorded for this wave."
    slides = [
        {"title": f"{d.study}: customer satisfaction, {d.wave}",
         "bullets": [f"Base: {d.base} respondents" if d.base is not None else ""], "table": None,
         "chart": None, "kind": "title"},
        {"title": SLIDE_TITLES[0], "bullets": _key_findings(d), "table": None, "chart": None},
        {"title": SLIDE_TITLES[1], "bullets": [] if trend is not None and len(trend) else [missing],
         "table": _trend_rows(trend) if trend is not None and len(trend) else None,
         "chart": "trend" if trend is not None and len(trend) else None},
        {"title": SLIDE_TITLES[2], "bullets": [] if seg is not None and len(seg) else
         ["No segment results for this wave."],
         "table": _league_rows(seg) if seg is not None and len(seg) else None,
         "chart": "segments" if seg is not None and seg["est"].notna().any() else None},
        {"title": SLIDE_TITLES[3].format(target=d.target),
         "bullets": [] if ipma is not None and len(ipma) else [missing], "table": None,
         "chart": "ipma" if ipma is not None and len(ipma) else None},
        {"title": SLIDE_TITLES[4], "bullets": [] if ipma is not None and len(ipma) else [missing],
         "table": _priority_rows(ipma) if ipma is not None and len(ipma) else None, "chart": None},
        {"title": SLIDE_TITLES[5], "bullets": _method_notes(d), "table": None, "chart": None},
    ]
    return slides


def _chart_png(d: DeckInputs, kind: str, width_in: float, height_in: float) -> bytes:
    import matplotlib.pyplot as plt

    from . import plots

    if kind == "trend":
        fig = plots.index_trend(d.frame("report", "study_report", "trend"),
                                title=f"{d.index_construct} index by wave",
                                figsize=(width_in, height_in))
    elif kind == "segments":
        fig = plots.segment_chart(d.frame("report", "study_report", "segments"),
                                  reference=d.value("report", "study_report", "index"),
                                  figsize=(width_in, height_in))
    else:
        fig = plots.ipma_map(d.frame("drivers", "index_drivers", "ipma"),
                             title=f"Drivers of {d.target}", figsize=(width_in, height_in))
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=CHART_DPI)
    finally:
        plt.close(fig)
    return buf.getvalue()


def _table_font(rows: int, height_in: float) -> int:
    """A font size (points) at which ``rows`` table rows fit in ``height_in``
    inches (a row is about 2.1 times its font size), between 8 and 14."""
    return int(max(8, min(14, height_in * 72 / (2.1 * rows))))


def _add_table(slide: Any, frame: pd.DataFrame, left: Any, top: Any, width: Any, font_pt: int) -> int:
    """Add ``frame`` as a native table; returns its height (EMU)."""
    from pptx.util import Emu, Pt

    rows, cols = len(frame) + 1, len(frame.columns)
    row_h = Emu(int(Pt(font_pt * 2.1)))
    shape = slide.shapes.add_table(rows, cols, left, top, width, Emu(row_h * rows))
    table = shape.table
    for i in range(rows):
        table.rows[i].height = row_h
    for j, name in enumerate(frame.columns):
        table.cell(0, j).text = str(name)
    for i, values in enumerate(frame.itertuples(index=False), start=1):
        for j, v in enumerate(values):
            table.cell(i, j).text = "" if v is None else str(v)
    for i in range(rows):
        for j in range(cols):
            for p in table.cell(i, j).text_frame.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(font_pt)
    return int(row_h * rows)


def _source_line(d: DeckInputs) -> str:
    base = f"n = {d.base}" if d.base is not None else "n not recorded"
    return f"Base: {base}, wave {d.wave}. Source: recorded results of the study {d.study} (csm run)."


def _add_bullets(slide: Any, bullets: Sequence[str], left: Any, top: Any, width: Any, height: Any,
                 font_pt: int = 16, bullet: str = "\u2022 ") -> None:
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    for k, text in enumerate(t for t in bullets if t):
        p = tf.paragraphs[0] if k == 0 else tf.add_paragraph()
        p.text = bullet + text
        p.font.size = Pt(font_pt)
        p.space_after = Pt(6)


def build_deck(d: DeckInputs) -> bytes:
    """The wave's deck as ``.pptx`` bytes (16:9; see the module docstring).

    Returns
    -------
    bytes
        A presentation with the seven slides of :func:`deck_slides`: titles
        as slide titles, tables as native (editable) tables, charts as PNG
        images at :data:`CHART_DPI`.
    """
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    margin, width = Inches(0.6), Inches(13.333 - 1.2)
    for content in deck_slides(d):
        if content.get("kind") == "title":
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            slide.shapes.title.text = content["title"]
            slide.placeholders[1].text = content["bullets"][0]
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[5])   # title only
        slide.shapes.title.text = content["title"]
        slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(30)
        top, room = Inches(1.5), 5.6   # inches below the title
        table, chart = content["table"], content["chart"]
        if table is not None and chart == "segments":
            # the league table across the slide, the chart below it when there is room
            font = _table_font(len(table) + 1, room * 0.5 if len(table) <= 8 else room)
            height = _add_table(slide, table, margin, top, width, font)
            left_in = room - height / 914400 - 0.2
            if left_in >= 2.4:
                png = _chart_png(d, chart, 8.0, left_in)
                slide.shapes.add_picture(io.BytesIO(png), margin, Emu(top + height + Inches(0.2)),
                                         height=Inches(left_in))
        elif chart is not None:
            w_in = 7.0 if table is not None else 8.5
            png = _chart_png(d, chart, w_in, 5.2)
            slide.shapes.add_picture(io.BytesIO(png), margin, top, width=Inches(w_in))
            if table is not None:
                _add_table(slide, table, Inches(8.0), top, Inches(13.333 - 8.6),
                           _table_font(len(table) + 1, room))
        elif table is not None:
            _add_table(slide, table, margin, top, width, _table_font(len(table) + 1, room))
        if content["bullets"]:
            _add_bullets(slide, content["bullets"], margin, top, width, Inches(5.5))
        if chart is not None:   # every chart says its base and wave
            _add_bullets(slide, [_source_line(d)], margin, Inches(7.05), width, Inches(0.35),
                         font_pt=10, bullet="")
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def write_deck(path: str | Path, d: DeckInputs) -> Path:
    """Write :func:`build_deck` to ``path`` atomically.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    return write_bytes(path, build_deck(d))
