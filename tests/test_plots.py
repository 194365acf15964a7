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

from csmlib import plots
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
