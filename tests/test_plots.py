"""Figures are returned, never written, and non-Latin labels render with real
glyphs (matplotlib warns 'Glyph ... missing from font(s)' otherwise)."""

from __future__ import annotations

import io
import logging
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from csmlib.report import plots
from csmlib.errors import CsmError
from csmlib.spec import Construct, ModelSpec, Relation


def _render(fig: Figure, caplog) -> None:
    """Draw the figure; fail on any missing-glyph warning or log record."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING):
            fig.savefig(io.BytesIO(), format="png")
    assert not [r for r in caplog.records if "missing from" in r.getMessage()]


@pytest.fixture
def chain_results():
    names = ["Quality", "Value", "Satisfaction", "Loyalty"]
    spec = ModelSpec(
        constructs=tuple(Construct(n, (f"{n[:3]}{i}" for i in (1, 2)) and (f"{n}1", f"{n}2")) for n in names),
        relations=(Relation("Value", "~", "Quality"), Relation("Satisfaction", "~", "Quality"),
                   Relation("Satisfaction", "~", "Value"), Relation("Loyalty", "~", "Satisfaction")),
    )
    paths = pd.DataFrame({"lhs": ["Value", "Satisfaction", "Satisfaction", "Loyalty"],
                          "rhs": ["Quality", "Quality", "Value", "Satisfaction"],
                          "est": [0.6, 0.3, -0.1, 0.5], "pvalue": [0.0001, 0.02, 0.4, 0.0]})
    r2 = pd.Series({"Value": 0.36, "Satisfaction": 0.41, "Loyalty": 0.25})
    return types.SimpleNamespace(spec=spec, paths=paths, r2=r2)


def test_path_diagram_places_constructs_by_depth_and_renders_cjk(chain_results, caplog):
    labels = {"Quality": "感知质量", "Value": "感知价值", "Satisfaction": "满意度", "Loyalty": "忠诚度"}
    fig = plots.path_diagram(chain_results, labels=labels)
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "满意度" in texts and "0.60***" in texts and "-0.10" in texts and "R² = 0.41" in texts
    _render(fig, caplog)


@pytest.mark.parametrize("model", ["acsi", "ecsi", "servqual"])
def test_path_diagram_labels_and_boxes_stay_on_the_canvas_and_apart(model):
    import csmlib as csm

    spec = getattr(csm.models, model)()
    names = list(spec.construct_names)
    rows = [(out, pred) for pred, out in spec.paths]
    paths = pd.DataFrame({"lhs": [o for o, _ in rows], "rhs": [p for _, p in rows],
                          "est": np.linspace(0.05, 0.6, len(rows)), "pvalue": 0.01})
    res = types.SimpleNamespace(spec=spec, paths=paths,
                                r2=pd.Series({n: 0.3 for n in spec.endogenous}))
    fig = plots.path_diagram(res)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    labels = [t for t in fig.axes[0].texts if t.get_bbox_patch() is not None]
    assert len(labels) == len(rows)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for b in boxes + [t.get_window_extent(renderer) for t in fig.axes[0].texts]:
        assert canvas.x0 <= b.x0 and b.x1 <= canvas.x1 and canvas.y0 <= b.y0 and b.y1 <= canvas.y1
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (labels[i].get_text(), labels[j].get_text())
    # the construct names are all drawn, once
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert all(shown.count(n) == 1 for n in names)


def test_layers_follow_longest_path():
    layers = plots._layers(["A", "B", "C"], [("A", "B"), ("B", "C"), ("A", "C")])
    assert layers == {"A": 0, "B": 1, "C": 2}


def test_ipma_index_trend_gap_chart(caplog):
    ipma = pd.DataFrame({"construct": ["质量", "Value"], "importance": [0.4, 0.2],
                         "performance": [70.0, 60.0]})
    _render(plots.ipma_map(ipma), caplog)
    trend = pd.DataFrame({"wave": ["2026Q1", "2026Q2"] * 2, "segment": ["北", "北", "South", "South"],
                          "index": [70, 72, 65, 66.0], "ci_lower": [68, 70, 63, 64.0],
                          "ci_upper": [72, 74, 67, 68.0]})
    fig = plots.index_trend(trend, group="segment")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["2026Q1", "2026Q2"]
    _render(fig, caplog)
    gaps = pd.DataFrame({"level": ["dimension"] * 2, "name": ["Tangibles", "Empathy"],
                         "gap": [-0.5, 0.2], "ci_lower": [-0.7, 0.1], "ci_upper": [-0.3, 0.3]})
    fig = plots.gap_chart(gaps)
    # worst gap at the bottom (sorted descending, drawn bottom-up)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Empathy", "Tangibles"]
    _render(fig, caplog)
    with pytest.raises(CsmError, match="importance"):
        plots.ipma_map(pd.DataFrame({"construct": ["a"]}))


def test_likert_bars_shares_and_scale_checks(caplog):
    items = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 5, np.nan], "q2": [5, 5, 4, 4, 1, 2, 3]})
    limits = pd.DataFrame({"min": [1, 1], "max": [5, 5]}, index=["q1", "q2"])
    fig = plots.likert_bars(items, scale_limits=limits, labels={"q1": "服务态度"})
    # one bar container per scale point; q1's share of 5s is 2 of 6 valid answers
    bars = fig.axes[0].containers
    assert len(bars) == 5
    assert bars[4][0].get_width() == pytest.approx(2 / 6)
    _render(fig, caplog)
    with pytest.raises(CsmError, match="one shared scale"):
        plots.likert_bars(items, scale_limits=pd.DataFrame({"min": [1, 0], "max": [5, 10]},
                                                           index=["q1", "q2"]))


def test_cjk_font_survives_a_theme_reset(caplog):
    import seaborn as sns

    sns.set_theme()
    ipma = pd.DataFrame({"construct": ["感知质量"], "importance": [0.4], "performance": [70.0]})
    _render(plots.ipma_map(ipma), caplog)


def test_plot_texts_show_invisible_and_reordering_characters_as_escapes(caplog):
    """A right-to-left override in an instrument label reversed the rest of a
    chart title ("**bold**" drew as "**dlob**"); zero-width characters hid
    text.  Every text of every chart shows them as \\uXXXX, as the HTML does."""
    import unicodedata

    from matplotlib.text import Text

    hostile = "Quality \u202eRTL\u200b\u2066x\u2069 $5\x07"
    items = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [5, 5, 4, 4, 1]})
    limits = pd.DataFrame({"min": [1, 1], "max": [5, 5]}, index=["q1", "q2"])
    figs = [plots.likert_bars(items, scale_limits=limits, labels={"q1": hostile}, title=hostile),
            plots.gap_chart(pd.DataFrame({"level": ["dimension"], "name": [hostile], "gap": [-0.5],
                                          "ci_lower": [-0.7], "ci_upper": [-0.3]}), title=hostile)]
    for fig in figs:
        texts = [t.get_text() for t in fig.findobj(Text)]
        assert any("\\u202e" in t for t in texts)
        bad = [t for t in texts if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in t)]
        assert not bad, bad
        _render(fig, caplog)


def _all_text(fig: Figure) -> list[str]:
    """Every text of the figure (which is closed)."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    plt.close(fig)
    return texts


def test_every_chart_says_its_base_and_wave_in_the_report_language(chain_results, caplog):
    ipma = pd.DataFrame({"construct": ["Quality"], "importance": [0.4], "performance": [70.0]})
    trend = pd.DataFrame({"wave": ["2026Q1", "2026Q2"], "index": [70, 72.0], "ci_lower": [68, 70.0],
                          "ci_upper": [72, 74.0], "n": [580, 612]})
    gaps = pd.DataFrame({"level": ["dimension"], "name": ["Empathy"], "gap": [0.2], "ci_lower": [0.1],
                         "ci_upper": [0.3]})
    items = pd.DataFrame({"q1": [1, 2, 3, 4, 5]})
    limits = pd.DataFrame({"min": [1], "max": [5]}, index=["q1"])
    slopes = pd.DataFrame({"lhs": ["Loyalty"], "x": ["Satisfaction"], "moderator": ["Price"], "at": [1.0],
                           "slope": [0.3], "intercept": [0.1]})
    charts = {
        "path": lambda **k: plots.path_diagram(chain_results, **k),
        "ipma": lambda **k: plots.ipma_map(ipma, names={"Quality": "感知质量"}, **k),
        "gap": lambda **k: plots.gap_chart(gaps, **k),
        "likert": lambda **k: plots.likert_bars(items, scale_limits=limits, **k),
        "slopes": lambda **k: plots.simple_slopes_plot(slopes, **k),
    }
    for name, draw in charts.items():
        en = _all_text(draw(base=1234, wave="2026Q3"))
        assert "Base: n = 1,234 \u00b7 Wave: 2026Q3" in en, name
        fig = draw(base=600, wave="2026Q3", language="zh")
        _render(fig, caplog)
        zh = _all_text(fig)
        assert "样本量：n = 600 \u00b7 调查期：2026Q3" in zh, name
        assert not any("Base:" in t for t in _all_text(draw())), name   # nothing given, nothing said
    zh = _all_text(plots.ipma_map(ipma, names={"Quality": "感知质量"}, language="zh"))
    assert "重要性（非标准化总效应）" in zh and "感知质量" in zh and "Quality" not in zh
    # a trend's base is the range of its waves' bases
    assert "Base: n = 580\u2013612 \u00b7 Wave: 2026Q1\u20132026Q2" in _all_text(
        plots.index_trend(trend, wave="2026Q1\u20132026Q2"))
    assert "指数（0-100）" in _all_text(plots.index_trend(trend, language="zh"))
