"""Figures for reports: path diagram, importance-performance map, index
trend, SERVQUAL gap chart and Likert distributions.

Every function returns a matplotlib Figure and never writes a file: saving is
the caller's choice.  Text in Chinese, Japanese or Korean renders with the
bundled Noto Sans CJK font (package ``noto-cjk-sans-otc``), registered on
first use; Latin text keeps the default font.

Every chart says what it rests on: given ``base`` (respondents) and
``wave``, it writes "Base: n = 600 · Wave: 2026Q3" under the plot; its own
words (axis labels, legend titles, notes) are in ``language``
(:mod:`csmlib.report.i18n`), and labels from the data and the instrument
are passed in by the caller in that language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import functools
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)  # no display needed; notebooks switch to inline themselves
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ..errors import CsmError  # noqa: E402
from . import i18n  # noqa: E402
from .markup import visible  # noqa: E402

__all__ = [
    "use_cjk_font",
    "path_diagram",
    "ipma_map",
    "index_trend",
    "gap_chart",
    "likert_bars",
    "simple_slopes_plot",
    "segment_chart",
]

PALETTE = {"accent": "#1f5f8b", "muted": "#8a9ba8", "neg": "#b03a2e", "pos": "#1e8449"}


@lru_cache(maxsize=1)
def _register_cjk_font() -> str | None:
    """Register the bundled Noto Sans CJK font once; its family name or None."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:  # pragma: no cover - the dependency is declared
        return None
    font_manager.fontManager.addfont(str(FONT_PATH))
    return "Noto Sans CJK SC"


def use_cjk_font() -> str | None:
    """Make CJK glyphs render: put the bundled CJK font behind the current
    font family, so Latin text is unchanged and CJK characters fall back to it.
    Called by every plot function (a theme reset, e.g. by seaborn, undoes it).

    Returns
    -------
    str or None
        The family name in use, or None if no CJK font is available.
    """
    family = _register_cjk_font()
    if family is not None and family not in plt.rcParams["font.family"]:
        # matplotlib falls back glyph by glyph only across the families listed
        # in font.family (a generic name such as "sans-serif" is one font)
        plt.rcParams["font.family"] = [*plt.rcParams["font.family"], family]
    return family


def _text_as_given(plot: Any) -> Any:
    """Draw a plot with matplotlib's mathtext off: labels, titles and tick
    texts come from data and the instrument, and a ``$`` in them must show
    as a dollar sign, not start TeX (``"x$_$"`` would fail to draw).  Control
    and invisible format characters in any text of the figure (a
    right-to-left override would reverse the rest of a title) are shown as
    ``\\uXXXX`` (:func:`csmlib.report.markup.visible`)."""

    @functools.wraps(plot)
    def draw(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context({"text.parse_math": False}):
            out = plot(*args, **kwargs)
        fig = out if isinstance(out, Figure) else getattr(out, "figure", None)
        if fig is not None:
            for t in fig.findobj(Text):
                text = t.get_text()
                shown = visible(text)
                if shown != text:
                    t.set_text(shown)
        return out

    return draw


def _base_text(base: int | str | None, wave: str | None, language: str) -> str:
    """``"Base: n = 600 · Wave: 2026Q3"`` in ``language`` (what is given of the two)."""
    parts = []
    if base is not None and str(base) != "":
        n = f"{base:,}" if isinstance(base, (int, np.integer)) else str(base)
        parts.append(i18n.text(language, "chart_base", n=n))
    if wave:
        parts.append(i18n.text(language, "chart_wave", wave=str(wave)))
    return i18n.text(language, "chart_sep").join(parts)


def _finish(fig: Figure, base: int | str | None, wave: str | None, language: str) -> Figure:
    """Lay the figure out with its base and wave written under it, bottom left."""
    note = _base_text(base, wave, language)
    if note:
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        fig.text(0.01, 0.01, note, ha="left", va="bottom", fontsize=7, color="#555555")
    else:
        fig.tight_layout()
    return fig


def _wrap(label: str, width: int = 30) -> str:
    """A long tick label on two lines at most (CJK text, without spaces, is cut by characters)."""
    import textwrap

    if len(label) <= width:
        return label
    lines = textwrap.wrap(label, width) if " " in label else [label[i:i + width // 2] for i in
                                                              range(0, len(label), width // 2)]
    return "\n".join(lines[:2]) + ("\u2026" if len(lines) > 2 else "")


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CsmError(f"{what} needs the columns {', '.join(cols)}", column=missing,
                       hint=f"pass the frame returned by the csmlib function that makes {what} data")


def _layers(names: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Layer of each node: its longest distance from a node without predecessors."""
    preds = {n: [a for a, b in edges if b == n] for n in names}
    layer: dict[str, int] = {}

    def depth(n: str, seen: frozenset[str]) -> int:
        if n in layer:
            return layer[n]
        if n in seen:  # a feedback loop: stop climbing
            return 0
        d = 0 if not preds[n] else 1 + max(depth(p, seen | {n}) for p in preds[n])
        layer[n] = d
        return d

    for n in names:
        depth(n, frozenset())
    return layer


def _stars(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _positions(names: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Box centres: one column per layer (longest path from an exogenous
    construct).  Several constructs in a layer are stacked; a lone construct
    sits on the row its neighbours pull it to, and in a chain whose arrows
    skip layers (ACSI: expectations -> value, satisfaction -> loyalty) the
    lone constructs alternate above and below the middle, so that no arrow
    runs through a box it does not touch."""
    layer = _layers(names, edges)
    cols: dict[int, list[str]] = {}
    for n in names:
        cols.setdefault(layer[n], []).append(n)
    height = max(len(v) for v in cols.values())
    skips = any(layer[b] - layer[a] > 1 for a, b in edges)
    pos: dict[str, tuple[float, float]] = {}
    zig = 0
    for lay in sorted(cols):
        members = cols[lay]
        if len(members) == 1 and skips:
            pos[members[0]] = (1.2 * lay, 0.55 if zig % 2 == 0 else -0.55)
            zig += 1
            continue
        zig = 0
        span = max(height - 1, 1) if len(members) > 1 else 0
        for i, n in enumerate(members):
            y = span / 2 - i * (span / max(len(members) - 1, 1)) if len(members) > 1 else 0.0
            pos[n] = (1.2 * lay, y * 0.8)
    return pos


def _border_point(c: tuple[float, float], towards: tuple[float, float], w: float, h: float
                  ) -> tuple[float, float]:
    """Where the segment from a box centre ``c`` towards a point leaves the box."""
    dx, dy = towards[0] - c[0], towards[1] - c[1]
    if dx == 0 and dy == 0:
        return c
    t = min((w / 2) / abs(dx) if dx else np.inf, (h / 2) / abs(dy) if dy else np.inf)
    return c[0] + t * dx, c[1] + t * dy


def _crosses_box(p0, p1, centre, w: float, h: float) -> bool:
    """Does the segment p0-p1 pass through the box around ``centre``?"""
    for t in np.linspace(0.05, 0.95, 73):
        x, y = p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])
        if abs(x - centre[0]) < w / 2 and abs(y - centre[1]) < h / 2:
            return True
    return False


@_text_as_given
def path_diagram(results, *, labels: Mapping[str, str] | None = None,
                 digits: int = 2, figsize: tuple[float, float] | None = None,
                 base: int | str | None = None, wave: str | None = None, language: str = "en") -> Figure:
    """Structural model with its estimates.

    Constructs are placed in columns by their longest distance from an
    exogenous construct (lone constructs of a chain alternate above and below
    the middle, so arrows that skip a column stay visible); arrows carry the
    path estimate (with significance stars when p-values are present, e.g.
    after a bootstrap) and endogenous constructs show their R-squared.  An
    arrow that would cross another box is drawn as an arc.  An interaction
    term (``x:m``) is drawn as a box of its own with its path; a
    higher-order construct estimated in two stages gets dashed arrows from
    its dimensions, labelled with its loadings (mode B: weights) on them.

    Parameters
    ----------
    results : Results or BootstrapResults
        A fit (``.spec``, ``.paths``, ``.r2``), or bootstrap results of one
        (their ``.paths`` carry p-values, shown as stars).
    labels : mapping, optional
        Display label per construct (any script).
    digits : int
        Decimals of the estimates.
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).
    figsize : (width, height), optional
        Inches; by default 1.8 per column.

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    fit = getattr(results, "results", results)   # BootstrapResults wrap the fit
    spec = fit.spec
    names = list(spec.construct_names) + list(spec.interactions)   # an interaction term is its own box
    paths = results.paths
    _need(paths, ["lhs", "rhs", "est"], "a path diagram")
    paths = paths.assign(measure=False)
    if spec.higher_order:        # two-stage HOC: its measurement by the dimensions, dashed
        e = results.estimates
        hoc = e[e["lhs"].isin(spec.higher_order) & e["rhs"].isin(names) & e["op"].isin(["=~", "<~"])]
        hoc = hoc[[(op == "<~") == (spec.construct(h).mode == "B") for h, op in zip(hoc["lhs"], hoc["op"])]]
        paths = pd.concat([paths, hoc.assign(measure=True)], ignore_index=True)
    edges = [(r, l) for l, r in zip(paths["lhs"], paths["rhs"])]
    pos = _positions(names, edges)
    w, h = 0.78, 0.42
    geometry = []          # (row, p0, p1, rad, ctrl): every arrow, before drawing
    for _, row in paths.iterrows():
        c0, c1 = pos[row["rhs"]], pos[row["lhs"]]
        others = [pos[m] for m in names if m not in (row["rhs"], row["lhs"])]
        curved = any(_crosses_box(c0, c1, o, w, h) for o in others) or c0[0] >= c1[0]
        rad = 0.0
        p0, p1 = _border_point(c0, c1, w, h), _border_point(c1, c0, w, h)
        if curved:
            # an arc on the free side (away from the middle), leaving and
            # entering through the top or bottom edge; longer arcs bulge more
            up = (c0[1] + c1[1]) / 2 >= 0
            step = np.sign(c1[0] - c0[0]) or 1.0
            p0 = (c0[0] + 0.15 * step, c0[1] + (h / 2 if up else -h / 2))
            p1 = (c1[0] - 0.15 * step, c1[1] + (h / 2 if up else -h / 2))
            length = float(np.hypot(p1[0] - p0[0], p1[1] - p0[1]))
            bulge = 0.22 + 0.07 * length
            # arc3 puts the control point at mid + rad * (dy, -dx): sign it to the free side
            rad = 2 * bulge / length * (-1 if (p1[0] - p0[0] > 0) == up else 1)
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        ctrl = ((p0[0] + p1[0]) / 2 + rad * dy, (p0[1] + p1[1]) / 2 - rad * dx)
        geometry.append((row, p0, p1, rad, ctrl))

    def on_curve(p0, ctrl, p1, t: float) -> tuple[float, float]:
        return ((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * ctrl[0] + t ** 2 * p1[0],
                (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * ctrl[1] + t ** 2 * p1[1])

    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()] + [on_curve(p0, c, p1, 0.5)[1] for _, p0, p1, _, c in geometry]
    x_lo, x_hi = min(xs) - 0.55, max(xs) + 0.55
    y_lo, y_hi = min(ys) - 0.6, max(ys) + 0.6
    unit = 1.5                                        # inches per unit, both axes
    fig = plt.figure(figsize=figsize or (unit * (x_hi - x_lo), unit * (y_hi - y_lo)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.axis("off")
    r2 = fit.r2
    for n, (x, y) in pos.items():
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                    fc="#eef3f7", ec=PALETTE["accent"], lw=1.2, zorder=2))
        text = (labels or {}).get(n, n)
        has_r2 = n in r2.index and np.isfinite(r2[n])
        ax.text(x, y + (0.07 if has_r2 else 0), text, ha="center", va="center", fontsize=10,
                zorder=3)
        if has_r2:
            ax.text(x, y - 0.11, f"R² = {r2[n]:.{digits}f}", ha="center", va="center",
                    fontsize=8, color="#444444", zorder=3)
    has_p = "pvalue" in paths.columns
    placed: list[tuple[float, float]] = []
    for row, p0, p1, rad, ctrl in geometry:
        color = PALETTE["neg"] if row["est"] < 0 else PALETTE["accent"]
        ax.add_patch(FancyArrowPatch(p0, p1, arrowstyle="-|>", mutation_scale=12, color=color,
                                     lw=1.1, connectionstyle=f"arc3,rad={rad}", ls="--" if row["measure"] else "-",
                                     shrinkA=1, shrinkB=1, zorder=1))
        # the label sits on the arrow (axes units are equal in inches, so
        # matplotlib's display-space arc is this curve), at its middle unless
        # another label is there (crossing arrows)
        for t in (0.5, 0.33, 0.67, 0.25, 0.75):
            lx, ly = on_curve(p0, ctrl, p1, t)
            if all(abs(lx - qx) > 0.32 or abs(ly - qy) > 0.14 for qx, qy in placed):
                break
        placed.append((lx, ly))
        lab = f"{row['est']:.{digits}f}" + (_stars(row["pvalue"]) if has_p else "")
        ax.text(lx, ly, lab, ha="center", va="center", fontsize=9, color=color, zorder=4,
                bbox=dict(fc="white", ec="none", pad=0.6, alpha=0.9))
    note = _base_text(base, wave, language)
    if note:
        fig.text(0.01, 0.01, note, ha="left", va="bottom", fontsize=7, color="#555555")
    return fig


@_text_as_given
def ipma_map(ipma: pd.DataFrame, *, label: str = "construct", title: str | None = None,
             figsize: tuple[float, float] = (6.5, 5), base: int | str | None = None,
             wave: str | None = None, language: str = "en",
             names: Mapping[str, str] | None = None) -> Figure:
    """Importance-performance map with quadrants split at the mean importance
    and mean performance.

    Parameters
    ----------
    ipma : DataFrame
        Columns ``importance``, ``performance`` and the label column
        (``csm.ipma`` output).
    names : mapping, optional
        Text shown for each label (e.g. the constructs' names in the report's language).
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).
    """
    use_cjk_font()
    _need(ipma, [label, "importance", "performance"], "an importance-performance map")
    fig, ax = plt.subplots(figsize=figsize)
    x, y = ipma["importance"].to_numpy(float), ipma["performance"].to_numpy(float)
    ax.scatter(x, y, s=60, color=PALETTE["accent"], zorder=3)
    for xi, yi, t in zip(x, y, ipma[label].astype(str).map(lambda v: (names or {}).get(v, v))):
        ax.annotate(t, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=9)
    ax.axvline(np.nanmean(x), color=PALETTE["muted"], ls="--", lw=0.8)
    ax.axhline(np.nanmean(y), color=PALETTE["muted"], ls="--", lw=0.8)
    ax.set_xlabel(i18n.text(language, "axis_importance"))
    ax.set_ylabel(i18n.text(language, "axis_performance"))
    lo = max(0.0, np.nanmin(y) - 10)
    ax.set_ylim(lo, min(100.0, np.nanmax(y) + 10))
    ax.text(0.98, 0.02, i18n.text(language, "improve_first"), transform=ax.transAxes,
            ha="right", va="bottom", fontsize=7, color="#555555")
    if title:
        ax.set_title(title)
    return _finish(fig, base, wave, language)


@_text_as_given
def simple_slopes_plot(slopes: pd.DataFrame, *, x_range: tuple[float, float] = (-2.0, 2.0),
                       title: str | None = None, figsize: tuple[float, float] = (6, 4.5),
                       base: int | str | None = None, wave: str | None = None,
                       language: str = "en") -> Figure:
    """Simple-slopes plot of a moderated path: the outcome's predicted
    (standardized) level against ``x`` at each moderator level.

    Parameters
    ----------
    slopes : DataFrame
        ``csm.simple_slopes(...)`` output: columns ``lhs, x, moderator, at,
        slope, intercept`` (one outcome; the first is drawn if several).
    x_range : (float, float)
        Range of ``x`` in standard deviations.
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).
    """
    use_cjk_font()
    _need(slopes, ["lhs", "x", "moderator", "at", "slope", "intercept"], "a simple-slopes plot")
    if slopes.empty:
        raise CsmError("the simple-slopes table is empty", hint="pass csm.simple_slopes(...) output")
    y = slopes["lhs"].iloc[0]
    sub = slopes[slopes["lhs"] == y]
    fig, ax = plt.subplots(figsize=figsize)
    xs = np.linspace(x_range[0], x_range[1], 50)
    colors = plt.cm.viridis(np.linspace(0.1, 0.8, len(sub)))
    for color, (_, r) in zip(colors, sub.iterrows()):
        ax.plot(xs, r["intercept"] + r["slope"] * xs, color=color, lw=2,
                label=i18n.text(language, "slope_line", moderator=r["moderator"], at=f"{r['at']:+g}",
                                slope=f"{r['slope']:.3f}"))
    ax.axhline(0, color=PALETTE["muted"], lw=0.6)
    ax.axvline(0, color=PALETTE["muted"], lw=0.6)
    ax.set_xlabel(i18n.text(language, "axis_sd", x=sub["x"].iloc[0]))
    ax.set_ylabel(i18n.text(language, "axis_predicted", y=y))
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return _finish(fig, base, wave, language)


@_text_as_given
def index_trend(trend: pd.DataFrame, *, x: str = "wave", y: str = "index",
                group: str | None = None, title: str | None = None,
                figsize: tuple[float, float] = (6.5, 3.8), base: int | str | None = None,
                wave: str | None = None, language: str = "en") -> Figure:
    """Index per wave with its confidence interval (one line per group).

    Parameters
    ----------
    trend : DataFrame
        Columns ``wave``, ``index``, ``ci_lower``, ``ci_upper`` (and the
        ``group`` column when given), in wave order.  With one or two groups
        every point shows its value; with more, the legend (outside, right)
        names the lines and the values are left to the table beside.
        With an ``n`` column and no ``base``, the base written under the
        chart is the range of the waves' bases; without ``wave``, the waves
        written under it are the first and the last shown.
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    _need(trend, [x, y, "ci_lower", "ci_upper"], "an index trend")
    groups = [(None, trend)] if group is None else list(trend.groupby(group, sort=False))
    many = len(groups) > 2   # values on the points would pile up: the legend and table tell
    if many:
        figsize = (figsize[0] + 1.8, figsize[1])
    fig, ax = plt.subplots(figsize=figsize)
    order = list(dict.fromkeys(trend[x].astype(str)))
    for i, (g, d) in enumerate(groups):
        xs = [order.index(v) for v in d[x].astype(str)]
        color = plt.cm.tab10(i)
        ax.plot(xs, d[y], marker="o", color=color, label=None if g is None else str(g))
        ax.fill_between(xs, d["ci_lower"], d["ci_upper"], color=color,
                        alpha=0.07 if many else 0.15, lw=0)
        if not many:
            for xi, yi in zip(xs, d[y]):
                ax.annotate(f"{yi:.1f}", (xi, yi), xytext=(0, 6), textcoords="offset points",
                            ha="center", fontsize=8)
    ax.set_xticks(range(len(order)), order)
    ax.set_ylabel(i18n.text(language, "axis_index"))
    if group is not None:
        if many:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    if base is None and "n" in trend.columns and trend["n"].notna().any():
        lo, hi = int(trend["n"].min()), int(trend["n"].max())
        base = lo if lo == hi else f"{lo:,}\u2013{hi:,}"
    if wave is None and order:
        wave = order[0] if len(order) == 1 else f"{order[0]}\u2013{order[-1]}"
    return _finish(fig, base, wave, language)


@_text_as_given
def pareto_chart(pareto: pd.DataFrame, *, label: str = "label", vital_share: float = 0.8,
                 title: str | None = None, figsize: tuple[float, float] = (6.5, 3.8)) -> Figure:
    """A Pareto chart: tickets per category (most first) with the cumulative share.

    Parameters
    ----------
    pareto : DataFrame
        ``csm.complaints.pareto`` output (columns ``count, cumulative_share,
        vital_few`` and ``label``).
    label : str
        The column naming the bars.
    vital_share : float
        Where the reference line of the cumulative share is drawn.

    Returns
    -------
    Figure
        Bars of the vital few in the accent colour, the rest muted.
    """
    use_cjk_font()
    _need(pareto, [label, "count", "cumulative_share", "vital_few"], "a Pareto chart")
    fig, ax = plt.subplots(figsize=figsize)
    xs = np.arange(len(pareto))
    colors = [PALETTE["accent"] if v else PALETTE["muted"] for v in pareto["vital_few"]]
    ax.bar(xs, pareto["count"], color=colors)
    ax.set_xticks(xs, pareto[label].astype(str), rotation=30, ha="right")
    ax.set_ylabel("Tickets")
    ax2 = ax.twinx()
    ax2.plot(xs, 100 * pareto["cumulative_share"], color="#333333", marker="o", lw=1)
    ax2.axhline(100 * vital_share, color="#333333", lw=0.8, ls=":")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("Cumulative share (%)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


@_text_as_given
def gap_chart(gaps: pd.DataFrame, *, level: str = "dimension", title: str | None = None,
              figsize: tuple[float, float] = (6.5, 3.8), base: int | str | None = None,
              wave: str | None = None, language: str = "en") -> Figure:
    """SERVQUAL gaps (perception minus expectation) with intervals, worst first.

    Parameters
    ----------
    gaps : DataFrame
        ``csm.servqual.gaps`` output (columns ``level, name, gap, ci_lower,
        ci_upper``).
    level : {"dimension", "item"}
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).
    """
    use_cjk_font()
    _need(gaps, ["level", "name", "gap", "ci_lower", "ci_upper"], "a gap chart")
    d = gaps[gaps["level"] == level].sort_values("gap", ascending=False)
    fig, ax = plt.subplots(figsize=figsize)
    ys = np.arange(len(d))
    colors = [PALETTE["neg"] if g < 0 else PALETTE["pos"] for g in d["gap"]]
    ax.barh(ys, d["gap"], color=colors, alpha=0.85)
    ax.errorbar(d["gap"], ys, xerr=[d["gap"] - d["ci_lower"], d["ci_upper"] - d["gap"]],
                fmt="none", ecolor="#333333", capsize=3, lw=0.8)
    ax.set_yticks(ys, d["name"].astype(str))
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xlabel(i18n.text(language, "axis_gap"))
    if title:
        ax.set_title(title)
    return _finish(fig, base, wave, language)


@_text_as_given
def likert_bars(items: pd.DataFrame, *, scale_limits: pd.DataFrame,
                labels: Mapping[str, str] | None = None, title: str | None = None,
                figsize: tuple[float, float] | None = None, base: int | str | None = None,
                wave: str | None = None, language: str = "en") -> Figure:
    """Diverging stacked bars of the answer distribution of each item.

    Answers below the scale midpoint extend left, above it right; the
    midpoint (odd scales) is split across zero.

    Parameters
    ----------
    items : DataFrame
        Answers, one column per item (the Survey's ``.items``).
    scale_limits : DataFrame
        Index = item, columns ``min``, ``max`` (the instrument's theoretical
        limits; every item must share one scale).
    labels : mapping, optional
        Display label per item (any script).
    base : int or str, optional
        The respondents the chart rests on, written under it ("Base: n = 600").
    wave : str, optional
        The wave, written under it beside the base.
    language : str
        Language of the chart's own words (:mod:`csmlib.report.i18n`).
    """
    use_cjk_font()
    cols = list(items.columns)
    missing = [c for c in cols if c not in scale_limits.index]
    if missing:
        raise CsmError("likert_bars needs scale limits for every item", column=missing,
                       hint="pass survey.scale_limits")
    lims = scale_limits.loc[cols, ["min", "max"]].drop_duplicates()
    if len(lims) != 1:
        raise CsmError("likert_bars draws items on one shared scale; these items have several",
                       column=cols, hint="plot each scale's items separately")
    lo, hi = (int(v) for v in lims.iloc[0])
    points = np.arange(lo, hi + 1)
    share = pd.DataFrame({p: (items == p).sum() / items.notna().sum() for p in points})
    mid = (lo + hi) / 2
    cmap = plt.get_cmap("RdBu", len(points))
    shown = [_wrap(str((labels or {}).get(c, c))) for c in cols]
    widest = max(len(line) for text in shown for line in text.split("\n"))
    fig, ax = plt.subplots(figsize=figsize or (min(6 + 0.09 * widest, 11), 0.5 * len(cols) + 1.6))
    ys = np.arange(len(cols))[::-1]
    left = -share[[p for p in points if p < mid]].sum(axis=1).to_numpy()
    if mid in points:
        left = left - share[mid].to_numpy() / 2
    for k, p in enumerate(points):
        ax.barh(ys, share[p], left=left, color=cmap(k), edgecolor="white", lw=0.5, label=str(p))
        left = left + share[p].to_numpy()
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(ys, shown)
    ax.set_xlabel(i18n.text(language, "axis_share"))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
    # the answer key to the right of the bars, clear of the axis label
    ax.legend(ncol=1 if len(points) <= 7 or len(cols) >= 5 else 2, fontsize=7, frameon=False,
              title=i18n.text(language, "legend_answer"), title_fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title)
    return _finish(fig, base, wave, language)


#: the segment chart's texts in each report language (:mod:`csmlib.report.i18n`)
_SEGMENT_TEXTS: dict[str, dict[str, str]] = {
    "axis": {"en": "Index (0-100) with its {level} interval", "zh": "指数（0-100）及其 {level} 置信区间"},
    "total": {"en": "total", "zh": "总体"},
    "legend": {"en": "against the total", "zh": "与总体比较"},
}


@_text_as_given
def segment_chart(league: pd.DataFrame, *, reference: float | None = None, level: float = 0.95,
                  title: str | None = None, figsize: tuple[float, float] | None = None,
                  base: int | str | None = None, wave: str | None = None,
                  language: str = "en") -> Figure:
    """Each segment's index with its normal interval, in league-table order,
    coloured by its verdict against the total (seaborn).

    Parameters
    ----------
    league : DataFrame
        :func:`csmlib.analysis.tracking.league_table`: columns ``segment,
        est, se`` and optionally ``verdict`` (suppressed segments, with a NaN
        ``est``, are left out).
    reference : float, optional
        The total's index, drawn as a dashed line.
    level : float
        Confidence level of the intervals ``est +- z se``.
    base, wave : optional
        Written under the chart (the total's respondents and the wave).
    language : str
        Language of the chart's texts (:mod:`csmlib.report.i18n`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import seaborn as sns
    from scipy import stats

    def say(key: str, **values: Any) -> str:
        return i18n.text(language, _SEGMENT_TEXTS[key], **values)

    use_cjk_font()
    _need(league, ["segment", "est", "se"], "a segment chart")
    d = league[np.isfinite(league["est"].to_numpy(float))].copy()
    d["segment"] = d["segment"].astype(str)
    verdict = d["verdict"].astype(str) if "verdict" in d.columns else pd.Series("", index=d.index)
    d["verdict"] = [i18n.category(v, language) for v in verdict]
    colours = {"above": PALETTE["pos"], "below": PALETTE["neg"], "not different": PALETTE["muted"]}
    palette = {i18n.category(k, language): c for k, c in colours.items()}
    fig, ax = plt.subplots(figsize=figsize or (6.5, 0.4 * len(d) + 1.4))
    half = stats.norm.ppf(0.5 + level / 2) * d["se"].to_numpy(float)
    ys = np.arange(len(d))
    ax.errorbar(d["est"], ys, xerr=half, fmt="none", ecolor="#555555", elinewidth=1, capsize=3, zorder=1)
    sns.scatterplot(data=d.assign(_y=ys), x="est", y="_y", hue="verdict",
                    palette={v: palette.get(v, PALETTE["accent"]) for v in d["verdict"].unique()},
                    s=60, ax=ax, zorder=2, legend=bool(d["verdict"].ne("").any()))
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="#333333", ls="--", lw=0.8)
        ax.annotate(say("total"), (reference, len(d) - 0.5), xytext=(3, 0), textcoords="offset points",
                    fontsize=8, color="#333333")
    ax.set_yticks(ys, d["segment"].tolist())
    ax.set_ylim(len(d) - 0.5, -0.5)   # rank 1 on top
    ax.set_ylabel("")
    ax.set_xlabel(say("axis", level=f"{level:.0%}"))
    if ax.get_legend() is not None:
        ax.legend(title=say("legend"), fontsize=8, title_fontsize=8, frameon=False,
                  loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        ax.set_title(title)
    return _finish(fig, base, wave, language)
