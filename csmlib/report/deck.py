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
from . import i18n
from .tables import driver_findings, fmt_ci, fmt_number, fmt_p, index_finding

__all__ = ["DeckInputs", "deck_slides", "build_deck", "deck_digest", "write_deck", "TEXTS"]

#: most segments named in the key findings (those with the smallest adjusted p):
#: forty segments off the total would run the sentence off the slide
MAX_KEY_SEGMENTS = 5

#: image resolution of the charts (dots per inch at their size on the slide)
CHART_DPI = 150

#: every text of the deck, written by hand in each report language (:mod:`csmlib.report.i18n`)
TEXTS: dict[str, dict[str, str]] = {
    "title": {"en": "{study}: customer satisfaction, {wave}", "zh": "{study}：顾客满意度，{wave}"},
    "base": {"en": "Base: {n} respondents", "zh": "样本量：{n}"},
    "key_findings": {"en": "Key findings", "zh": "主要发现"},
    "trend": {"en": "Index over time", "zh": "指数趋势"},
    "segments": {"en": "Segments", "zh": "细分群体"},
    "drivers": {"en": "Drivers of {target}", "zh": "{target}的驱动因素"},
    "priorities": {"en": "Improvement priorities", "zh": "改进优先级"},
    "method": {"en": "How the numbers were estimated", "zh": "估计方法说明"},
    "not_recorded": {"en": "Not recorded for this wave.", "zh": "本期未记录。"},
    "no_segments": {"en": "No segment results for this wave.", "zh": "本期没有细分群体结果。"},
    "no_index": {"en": "The satisfaction index was not estimated for this wave.",
                 "zh": "本期未估计满意度指数。"},
    "nps": {"en": "Net Promoter Score {value}.", "zh": "净推荐值（NPS）{value}。"},
    "complaint_rate": {"en": "Complaint rate {value}%.", "zh": "投诉率 {value}%。"},
    "improve_first": {"en": "Improve first: {finding}", "zh": "优先改进：{finding}"},
    "segments_off": {"en": "Segments off the total (adjusted for multiplicity): {list}.",
                     "zh": "与总体有显著差异的细分群体（经多重比较校正）：{list}。"},
    "segment_off": {"en": "{segment} {verdict}", "zh": "{segment}{verdict}"},
    "segments_more": {"en": "and {n} more (see the segments slides)", "zh": "另有 {n} 个（见细分群体页）"},
    "segments_same": {"en": "No segment differs significantly from the total (adjusted for multiplicity).",
                      "zh": "经多重比较校正后，没有细分群体与总体有显著差异。"},
    "col_wave": {"en": "Wave", "zh": "调查期"},
    "col_index": {"en": "Index", "zh": "指数"},
    "col_interval": {"en": "95% interval", "zh": "95% 置信区间"},
    "col_change": {"en": "Change", "zh": "变化"},
    "col_p_change": {"en": "p (change)", "zh": "p 值（变化）"},
    "col_rank": {"en": "Rank", "zh": "排序"},
    "col_segment": {"en": "Segment", "zh": "细分群体"},
    "col_base": {"en": "Base (n)", "zh": "样本量"},
    "col_diff": {"en": "Difference to total", "zh": "与总体之差"},
    "col_p": {"en": "p", "zh": "p 值"},
    "col_p_adj": {"en": "p (adjusted)", "zh": "校正后 p 值"},
    "col_verdict": {"en": "Against the total", "zh": "与总体比较"},
    "col_priority": {"en": "Priority", "zh": "优先级"},
    "col_driver": {"en": "Driver", "zh": "驱动因素"},
    "col_importance": {"en": "Importance", "zh": "重要性"},
    "col_performance": {"en": "Performance (0-100)", "zh": "绩效（0-100）"},
    "col_advice": {"en": "Advice", "zh": "建议"},
    "m_model": {"en": "Model: {model}, estimated by PLS path modelling ({scheme} weighting scheme) on "
                      "{n} respondents of wave {wave}.",
                "zh": "模型：{model}，采用偏最小二乘路径模型（PLS，{scheme} 加权方案）估计，样本为 {wave} 期的 "
                      "{n} 名受访者。"},
    "m_boot": {"en": "Intervals: 95% percentile bootstrap, {n_boot} resamples, seed {seed}.",
               "zh": "置信区间：95% 百分位 bootstrap 区间，重抽样 {n_boot} 次，随机种子 {seed}。"},
    "m_index": {"en": "The {construct} index is 100 * sum w (mean - min) / sum w (max - min) over its "
                      "items, with the outer weights w and the scale limits of the instrument.",
                "zh": "{construct}指数 = 100 × Σw(均值 − 量表最小值) / Σw(量表最大值 − 量表最小值)，"
                      "w 为各题项的外部权重，量表上下限取自问卷。"},
    "m_drivers": {"en": "Drivers: importance is the total effect on {target}; performance is the "
                        "driver's 0-100 index.",
                  "zh": "驱动因素：重要性为对{target}的总效应；绩效为该因素的 0-100 指数。"},
    "m_segments": {"en": "Segments are tested against the total, adjusted for multiplicity with {how}; "
                         "bases below {min_base} are suppressed.",
                   "zh": "各细分群体与总体比较，采用{how}进行多重比较校正；样本量低于 {min_base} 的结果不予报告。"},
    "holm": {"en": "Holm's method (familywise error rate 5%)", "zh": "Holm 法（族错误率 5%）"},
    "fdr_bh": {"en": "the Benjamini-Hochberg method (false discovery rate 5%)",
               "zh": "Benjamini-Hochberg 法（错误发现率 5%）"},
    "none": {"en": "no adjustment (each segment tested at 5% on its own)",
             "zh": "不校正（每个细分群体单独以 5% 水平检验）"},
    "m_note": {"en": "Note: {note}", "zh": "说明：{note}"},
    "source": {"en": "Source: the recorded results of the study {study}, wave {wave} (csm run); "
                     "the chart states its base.",
               "zh": "来源：研究 {study} {wave} 期的记录结果（csm run）；图中注明样本量。"},
    "chart_trend": {"en": "{construct} index by wave", "zh": "各期{construct}指数"},
    "n/a": {"en": "n/a", "zh": "无"},
    "continued": {"en": "{title} (continued)", "zh": "{title}（续）"},
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
    language : str
        The deck's language (:data:`csmlib.report.i18n.LANGUAGES`).
    names : mapping
        What to call each construct in that language
        (:func:`csmlib.report.tables.display_names`); default its name.
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
    language: str = "en"
    names: Mapping[str, str] = field(default_factory=dict)

    def value(self, results: str, notebook: str, key: str) -> Any:
        """A recorded scalar (None when not recorded)."""
        return read_recorded(getattr(self, results), notebook, key)[0]

    def frame(self, results: str, notebook: str, key: str) -> pd.DataFrame | None:
        """A recorded table (None when not recorded)."""
        return read_recorded(getattr(self, results), notebook, key)[0]

    def t(self, key: str, **values: Any) -> str:
        """The deck text ``key`` (:data:`TEXTS`) in the deck's language."""
        return i18n.text(self.language, TEXTS[key], **values)

    def word(self, value: Any) -> str:
        """A recorded category (a verdict, an IPMA quadrant) in the deck's language."""
        return str(i18n.category(value, self.language))

    def name(self, construct: str) -> str:
        """What to call a construct in the deck's language."""
        return self.names.get(construct, construct)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _key_findings(d: DeckInputs) -> list[str]:
    lang = d.language
    out = []
    idx = d.value("report", "study_report", "index")
    if _finite(idx):
        out.append(index_finding(d.name(d.index_construct), idx,
                                 d.value("report", "study_report", "index_ci_lower"),
                                 d.value("report", "study_report", "index_ci_upper"),
                                 diff=d.value("drivers", "index_drivers", "change"),
                                 pvalue=d.value("drivers", "index_drivers", "change_pvalue"), language=lang))
    else:
        out.append(d.t("no_index"))
    nps = d.frame("metrics", "complaints_loyalty", "nps_detail")
    if nps is not None and len(nps):
        r = nps.iloc[0]
        out.append(d.t("nps", value=fmt_ci(r["nps"], r["ci_lower"], r["ci_upper"], language=lang)))
    cr = d.frame("metrics", "complaints_loyalty", "complaint_rate_detail")
    if cr is not None and len(cr):
        r = cr.iloc[0]
        out.append(d.t("complaint_rate", value=fmt_ci(100 * r["rate"], 100 * r["ci_lower"],
                                                      100 * r["ci_upper"], language=lang)))
    ipma = d.frame("drivers", "index_drivers", "ipma")
    if ipma is not None and len(ipma):
        out.extend(d.t("improve_first", finding=f)
                   for f in driver_findings(ipma, d.target, top=2, language=lang, names=d.names))
    seg = d.frame("report", "study_report", "segments")
    if seg is not None and "verdict" in seg.columns:
        off = seg[seg["verdict"].isin(["above", "below"])]
        if len(off):
            shown = (off.sort_values("pvalue_adj", kind="stable") if "pvalue_adj" in off.columns
                     else off).head(MAX_KEY_SEGMENTS)   # the clearest differences; the rest on their slides
            parts = [d.t("segment_off", segment=s, verdict=d.word(v))
                     for s, v in zip(shown["segment"], shown["verdict"])]
            if len(off) > len(shown):
                parts.append(d.t("segments_more", n=len(off) - len(shown)))
            out.append(d.t("segments_off", list=i18n.text(lang, "clause_sep").join(parts)))
        elif len(seg):
            out.append(d.t("segments_same"))
    return out


def _p_text(p: Any) -> str:
    """``"0.034"`` or ``"< 0.001"`` (a table column headed p)."""
    return fmt_p(p).removeprefix("p ").removeprefix("= ")


def _trend_rows(d: DeckInputs, trend: pd.DataFrame) -> pd.DataFrame:
    from ..analysis.tracking import trend_table

    t = trend_table(trend.rename(columns={"index": "est"}))
    return pd.DataFrame({
        d.t("col_wave"): t["wave"].astype(str).to_list(),
        d.t("col_index"): [fmt_number(v) for v in t["est"]],
        d.t("col_interval"): [f"{fmt_number(a)}\u2013{fmt_number(b)}"
                              for a, b in zip(t["ci_lower"], t["ci_upper"])],
        d.t("col_change"): [f"{v:+.1f}" if _finite(v) else "" for v in t["diff"]],
        d.t("col_p_change"): [_p_text(v) if _finite(v) else "" for v in t["diff_pvalue"]],
    })


def _league_rows(d: DeckInputs, seg: pd.DataFrame) -> pd.DataFrame:
    def num(col: str, f: Any) -> list[str]:
        return [f(v) if _finite(v) else "" for v in seg[col]] if col in seg.columns else [""] * len(seg)

    return pd.DataFrame({
        d.t("col_rank"): num("rank", lambda v: f"{int(v)}"),
        d.t("col_segment"): seg["segment"].astype(str).to_list(),
        d.t("col_base"): num("n", lambda v: f"{int(v)}"),
        d.t("col_index"): num("est", fmt_number),
        d.t("col_diff"): num("diff", lambda v: f"{v:+.1f}"),
        d.t("col_p"): num("pvalue", _p_text),
        d.t("col_p_adj"): num("pvalue_adj", _p_text),
        d.t("col_verdict"): [d.word(v) for v in seg["verdict"]] if "verdict" in seg.columns else "",
    })


def _priority_rows(d: DeckInputs, ipma: pd.DataFrame) -> pd.DataFrame:
    t = ipma.sort_values("rank") if "rank" in ipma.columns else ipma
    return pd.DataFrame({
        d.t("col_priority"): [f"{int(r)}" for r in t["rank"]] if "rank" in t.columns
        else [str(k) for k in range(1, len(t) + 1)],
        d.t("col_driver"): [d.name(c) for c in t["construct"].astype(str)],
        d.t("col_importance"): [f"{v:.2f}" for v in t["importance"]],
        d.t("col_performance"): [fmt_number(v) for v in t["performance"]],
        d.t("col_advice"): [d.word(v) for v in t["quadrant"]] if "quadrant" in t.columns else "",
    })


def _method_notes(d: DeckInputs) -> list[str]:
    m = d.method
    na = d.t("n/a")

    def get(key: str) -> Any:
        return na if m.get(key) is None else m[key]

    out = [d.t("m_model", model=get("model"), scheme=get("scheme"),
               n=na if d.base is None else d.base, wave=d.wave),
           d.t("m_boot", n_boot=get("n_boot"), seed=get("seed")),
           d.t("m_index", construct=d.name(d.index_construct)),
           d.t("m_drivers", target=d.name(d.target)),
           d.t("m_segments", how=d.t(str(m.get("multiplicity", "holm"))), min_base=get("min_base"))]
    notes = d.value("report", "study_report", "estimation_notes") or []
    out.extend(d.t("m_note", note=n) for n in notes[:4])
    return out


def deck_slides(d: DeckInputs) -> list[dict[str, Any]]:
    """The deck's content, slide by slide, before layout, in the deck's language.

    Returns
    -------
    list of dict
        One dict per slide: ``title`` (str), ``bullets`` (list of str),
        ``table`` (DataFrame of display strings, or None), ``chart``
        (``"trend"``, ``"segments"``, ``"ipma"`` or None) and, for the
        first, ``kind`` ``"title"``.
    """
    trend = d.frame("report", "study_report", "trend")
    seg = d.frame("report", "study_report", "segments")
    ipma = d.frame("drivers", "index_drivers", "ipma")
    has_trend = trend is not None and len(trend) > 0
    has_seg = seg is not None and len(seg) > 0
    has_ipma = ipma is not None and len(ipma) > 0
    missing = d.t("not_recorded")
    slides = [
        {"title": d.t("title", study=d.study, wave=d.wave),
         "bullets": [d.t("base", n=d.base) if d.base is not None else ""], "table": None,
         "chart": None, "kind": "title"},
        {"title": d.t("key_findings"), "bullets": _key_findings(d), "table": None, "chart": None},
        {"title": d.t("trend"), "bullets": [] if has_trend else [missing],
         "table": _trend_rows(d, trend) if has_trend else None, "chart": "trend" if has_trend else None},
        {"title": d.t("segments"), "bullets": [] if has_seg else [d.t("no_segments")],
         "table": _league_rows(d, seg) if has_seg else None,
         "chart": "segments" if has_seg and seg["est"].notna().any() else None},
        {"title": d.t("drivers", target=d.name(d.target)), "bullets": [] if has_ipma else [missing],
         "table": None, "chart": "ipma" if has_ipma else None},
        {"title": d.t("priorities"), "bullets": [] if has_ipma else [missing],
         "table": _priority_rows(d, ipma) if has_ipma else None, "chart": None},
        {"title": d.t("method"), "bullets": _method_notes(d), "table": None, "chart": None},
    ]
    return [part for slide in slides for part in _split(d, slide)]


#: a table with more rows goes on several slides (its header repeated)
MAX_TABLE_ROWS = 14
#: a table with at most this many rows shares its slide with its chart
ROWS_BESIDE_CHART = 8


def _split(d: DeckInputs, slide: dict[str, Any]) -> list[dict[str, Any]]:
    """One slide, or -- for a long table -- the table over several slides
    ("(continued)") and its chart on a slide of its own after them."""
    table = slide["table"]
    if table is None or len(table) <= (MAX_TABLE_ROWS if slide["chart"] is None else ROWS_BESIDE_CHART):
        return [slide]
    parts = [{**slide, "table": table.iloc[i:i + MAX_TABLE_ROWS].reset_index(drop=True), "chart": None,
              "title": slide["title"] if i == 0 else d.t("continued", title=slide["title"])}
             for i in range(0, len(table), MAX_TABLE_ROWS)]
    if slide["chart"] is not None:
        parts.append({**slide, "table": None, "bullets": [], "title": d.t("continued", title=slide["title"])})
    return parts


def _chart_png(d: DeckInputs, kind: str, width_in: float, height_in: float) -> bytes:
    import matplotlib.pyplot as plt

    from . import plots

    on = {"base": d.base, "wave": d.wave, "language": d.language}   # written under every chart
    if kind == "trend":   # the waves it spans; their bases differ
        trend = d.frame("report", "study_report", "trend")
        waves = trend["wave"].astype(str).tolist()
        fig = plots.index_trend(trend, title=d.t("chart_trend", construct=d.name(d.index_construct)),
                                figsize=(width_in, height_in), language=d.language,
                                wave=waves[0] if len(waves) == 1 else f"{waves[0]}\u2013{waves[-1]}")
    elif kind == "segments":
        fig = plots.segment_chart(d.frame("report", "study_report", "segments"),
                                  reference=d.value("report", "study_report", "index"),
                                  figsize=(width_in, height_in), **on)
    else:
        fig = plots.ipma_map(d.frame("drivers", "index_drivers", "ipma"), names=d.names,
                             title=d.t("drivers", target=d.name(d.target)), figsize=(width_in, height_in),
                             **on)
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
    return d.t("source", wave=d.wave, study=d.study)


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
        if table is not None and chart == "trend":   # the chart, its table beside it
            png = _chart_png(d, chart, 7.0, 5.2)
            slide.shapes.add_picture(io.BytesIO(png), margin, top, width=Inches(7.0))
            _add_table(slide, table, Inches(8.0), top, Inches(13.333 - 8.6),
                       _table_font(len(table) + 1, room))
        elif table is not None and chart is not None:   # the (wide) table across, its chart below
            height = _add_table(slide, table, margin, top, width, _table_font(len(table) + 1, room * 0.45))
            left_in = room - height / 914400 - 0.2
            png = _chart_png(d, chart, 8.0, left_in)
            slide.shapes.add_picture(io.BytesIO(png), margin, Emu(top + height + Inches(0.2)),
                                     height=Inches(left_in))
        elif chart is not None:
            png = _chart_png(d, chart, 8.5, 5.2)
            slide.shapes.add_picture(io.BytesIO(png), margin, top, width=Inches(8.5))
        elif table is not None:
            _add_table(slide, table, margin, top, width, _table_font(len(table) + 1, room))
        if content["bullets"]:
            _add_bullets(slide, content["bullets"], margin, top, width, Inches(5.5))
        if chart is not None:   # every chart says its source (and, on the chart, its base and wave)
            _add_bullets(slide, [_source_line(d)], margin, Inches(7.05), width, Inches(0.35),
                         font_pt=10, bullet="")
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def deck_digest(d: DeckInputs) -> str:
    """A digest of everything the deck is built from (its inputs and the
    csmlib version): equal digests give the same deck."""
    import hashlib
    import json

    from .. import __version__

    fields = {k: getattr(d, k) for k in d.__dataclass_fields__}
    for k in ("report", "drivers", "metrics"):   # the recorded results only
        fields[k] = None if fields[k] is None else {s: fields[k].get(s) for s in ("values", "frames")}
    text = json.dumps({"csmlib": __version__, **fields}, sort_keys=True, default=str)
    return "csm-deck:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_deck(path: str | Path, d: DeckInputs) -> Path:
    """Write :func:`build_deck` to ``path`` atomically, unless the deck there
    was built from the same inputs (its :func:`deck_digest`, kept in the
    presentation's ``identifier`` property): a study run again rebuilds only
    the decks whose recorded results changed.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    from pptx import Presentation

    path = Path(path)
    digest = deck_digest(d)
    if path.is_file():
        try:
            if Presentation(str(path)).core_properties.identifier == digest:
                return path
        except Exception:   # noqa: BLE001 - an unreadable old deck is rebuilt
            pass
    data = build_deck(d)
    prs = Presentation(io.BytesIO(data))
    prs.core_properties.identifier = digest
    buf = io.BytesIO()
    prs.save(buf)
    return write_bytes(path, buf.getvalue())
