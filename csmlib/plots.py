"""Figures for reports: path diagram, importance-performance map, index
trend, SERVQUAL gap chart and Likert distributions.

Every function returns a matplotlib Figure and never writes a file: saving is
the caller's choice.  Text in Chinese, Japanese or Korean renders with the
bundled Noto Sans CJK font (package ``noto-cjk-sans-otc``), registered on
first use; Latin text keeps the default font.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg", force=False)  # no display needed; notebooks switch to inline themselves
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from .errors import CsmError  # noqa: E402

__all__ = [
    "use_cjk_font",
    "path_diagram",
    "ipma_map",
    "index_trend",
    "gap_chart",
    "likert_bars",
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


def path_diagram(results, *, labels: Mapping[str, str] | None = None,
                 digits: int = 2, figsize: tuple[float, float] | None = None) -> Figure:
    """Structural model with its estimates.

    Constructs are placed in columns by their longest distance from an
    exogenous construct; arrows carry the path estimate (with significance
    stars when p-values are present, e.g. after a bootstrap) and endogenous
    constructs show their R-squared.

    Parameters
    ----------
    results : Results or BootstrapResults
        A fit (``.spec``, ``.paths``, ``.r2``), or bootstrap results of one
        (their ``.paths`` carry p-values, shown as stars).
    labels : mapping, optional
        Display label per construct (any script).
    """
    use_cjk_font()
    fit = getattr(results, "results", results)   # BootstrapResults wrap the fit
    spec = fit.spec
    names = list(spec.construct_names)
    paths = results.paths
    _need(paths, ["lhs", "rhs", "est"], "a path diagram")
    edges = [(r, l) for l, r in zip(paths["lhs"], paths["rhs"])]
    layer = _layers(names, edges)
    n_layers = max(layer.values()) + 1 if layer else 1
    cols: dict[int, list[str]] = {}
    for n in names:
        cols.setdefault(layer[n], []).append(n)
    height = max(len(v) for v in cols.values())
    fig = plt.figure(figsize=figsize or (2.6 * n_layers + 1, 1.3 * height + 1))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.7, n_layers - 0.3)
    ax.set_ylim(-0.8, height - 0.2)
    ax.axis("off")
    pos = {}
    for lay, members in cols.items():
        offset = (height - len(members)) / 2
        for i, n in enumerate(members):
            pos[n] = (lay, height - 1 - (offset + i))
    r2 = fit.r2
    w, h = 0.62, 0.36
    for n, (x, y) in pos.items():
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                    fc="#eef3f7", ec=PALETTE["accent"], lw=1.2))
        text = (labels or {}).get(n, n)
        ax.text(x, y + (0.05 if n in r2.index else 0), text, ha="center", va="center", fontsize=9)
        if n in r2.index and np.isfinite(r2[n]):
            ax.text(x, y - 0.11, f"R² = {r2[n]:.{digits}f}", ha="center", va="center",
                    fontsize=7, color="#444444")
    has_p = "pvalue" in paths.columns
    for _, row in paths.iterrows():
        (x0, y0), (x1, y1) = pos[row["rhs"]], pos[row["lhs"]]
        color = PALETTE["neg"] if row["est"] < 0 else PALETTE["accent"]
        arrow = FancyArrowPatch((x0 + w / 2 if x1 > x0 else x0, y0), (x1 - w / 2 if x1 > x0 else x1, y1),
                                arrowstyle="-|>", mutation_scale=10, color=color, lw=1.0,
                                connectionstyle="arc3,rad=0.0" if x1 > x0 else "arc3,rad=0.4",
                                shrinkA=2, shrinkB=2)
        ax.add_patch(arrow)
        lab = f"{row['est']:.{digits}f}" + (_stars(row["pvalue"]) if has_p else "")
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.06, lab, ha="center", va="bottom", fontsize=8,
                color=color, bbox=dict(fc="white", ec="none", pad=0.5, alpha=0.8))
    return fig


def ipma_map(ipma: pd.DataFrame, *, label: str = "construct", title: str | None = None,
             figsize: tuple[float, float] = (6.5, 5)) -> Figure:
    """Importance-performance map with quadrants split at the mean importance
    and mean performance.

    Parameters
    ----------
    ipma : DataFrame
        Columns ``importance``, ``performance`` and the label column
        (``csm.ipma`` output).
    """
    use_cjk_font()
    _need(ipma, [label, "importance", "performance"], "an importance-performance map")
    fig, ax = plt.subplots(figsize=figsize)
    x, y = ipma["importance"].to_numpy(float), ipma["performance"].to_numpy(float)
    ax.scatter(x, y, s=60, color=PALETTE["accent"], zorder=3)
    for xi, yi, t in zip(x, y, ipma[label].astype(str)):
        ax.annotate(t, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=9)
    ax.axvline(np.nanmean(x), color=PALETTE["muted"], ls="--", lw=0.8)
    ax.axhline(np.nanmean(y), color=PALETTE["muted"], ls="--", lw=0.8)
    ax.set_xlabel("Importance (unstandardized total effect)")
    ax.set_ylabel("Performance (0-100)")
    lo = max(0.0, np.nanmin(y) - 10)
    ax.set_ylim(lo, min(100.0, np.nanmax(y) + 10))
    ax.text(0.98, 0.02, "improve first: high importance, low performance", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=7, color="#555555")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def index_trend(trend: pd.DataFrame, *, x: str = "wave", y: str = "index",
                group: str | None = None, title: str | None = None,
                figsize: tuple[float, float] = (6.5, 3.8)) -> Figure:
    """Index per wave with its confidence interval (one line per group).

    Parameters
    ----------
    trend : DataFrame
        Columns ``wave``, ``index``, ``ci_lower``, ``ci_upper`` (and the
        ``group`` column when given), in wave order.
    """
    use_cjk_font()
    _need(trend, [x, y, "ci_lower", "ci_upper"], "an index trend")
    fig, ax = plt.subplots(figsize=figsize)
    groups = [(None, trend)] if group is None else list(trend.groupby(group, sort=False))
    order = list(dict.fromkeys(trend[x].astype(str)))
    for i, (g, d) in enumerate(groups):
        xs = [order.index(v) for v in d[x].astype(str)]
        color = plt.cm.tab10(i)
        ax.plot(xs, d[y], marker="o", color=color, label=None if g is None else str(g))
        ax.fill_between(xs, d["ci_lower"], d["ci_upper"], color=color, alpha=0.15, lw=0)
        for xi, yi in zip(xs, d[y]):
            ax.annotate(f"{yi:.1f}", (xi, yi), xytext=(0, 6), textcoords="offset points",
                        ha="center", fontsize=8)
    ax.set_xticks(range(len(order)), order)
    ax.set_ylabel("Index (0-100)")
    if group is not None:
        ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def gap_chart(gaps: pd.DataFrame, *, level: str = "dimension", title: str | None = None,
              figsize: tuple[float, float] = (6.5, 3.8)) -> Figure:
    """SERVQUAL gaps (perception minus expectation) with intervals, worst first.

    Parameters
    ----------
    gaps : DataFrame
        ``csm.servqual.gaps`` output (columns ``level, name, gap, ci_lower,
        ci_upper``).
    level : {"dimension", "item"}
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
    ax.set_xlabel("Gap: perception - expectation")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def likert_bars(items: pd.DataFrame, *, scale_limits: pd.DataFrame,
                labels: Mapping[str, str] | None = None, title: str | None = None,
                figsize: tuple[float, float] | None = None) -> Figure:
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
    fig, ax = plt.subplots(figsize=figsize or (7, 0.45 * len(cols) + 1.5))
    ys = np.arange(len(cols))[::-1]
    left = -share[[p for p in points if p < mid]].sum(axis=1).to_numpy()
    if mid in points:
        left = left - share[mid].to_numpy() / 2
    for k, p in enumerate(points):
        ax.barh(ys, share[p], left=left, color=cmap(k), edgecolor="white", lw=0.5, label=str(p))
        left = left + share[p].to_numpy()
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(ys, [(labels or {}).get(c, c) for c in cols])
    ax.set_xlabel("Share of answers (left: below midpoint, right: above)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
    ax.legend(ncol=min(len(points), 11), fontsize=7, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.18 if len(cols) < 6 else -0.08))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
