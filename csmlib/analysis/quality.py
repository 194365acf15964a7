"""Data-quality checks of a survey wave: bases, drops, straight-lining, flags.

Everything is aggregated: counts and shares, never respondent rows.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["DEFAULT_LIMITS", "response_summary", "straightlining", "flag_problems", "ordinal_candidates"]

#: Thresholds of :func:`flag_problems`.
DEFAULT_LIMITS: Mapping[str, float] = {
    "share_missing": 0.10,     # an item unanswered by more than 10%
    "top_box": 0.50,           # ceiling: more than half answer the scale maximum
    "bottom_box": 0.50,        # floor
    "straightlining": 0.10,    # more than 10% give one answer to a whole block
    "min_sd": 1e-9,            # an item without variance
}


def response_summary(survey: Any) -> pd.DataFrame:
    """Rows read, kept and dropped (by reason) when the survey was loaded.

    Parameters
    ----------
    survey : Survey

    Returns
    -------
    DataFrame
        Columns ``what, count``: ``rows read``, ``rows kept``, then one row
        per drop reason (``dropped: <reason>``).
    """
    prov = getattr(survey, "provenance", None)
    if prov is None:
        raise DataError("response_summary needs a Survey (csm.read_survey), not a plain frame")
    rows = [("rows read", int(prov.rows_read)), ("rows kept", int(prov.rows_kept))]
    dropped = prov.dropped
    if len(dropped):
        for reason, count in dropped.groupby("reason").size().items():
            rows.append((f"dropped: {reason}", int(count)))
    return pd.DataFrame(rows, columns=["what", "count"])


def straightlining(data: Any, blocks: Mapping[str, Sequence[str]] | None = None, *,
                   min_items: int = 3) -> pd.DataFrame:
    """Share of respondents giving the same answer to every item of a block.

    Parameters
    ----------
    data : Survey or DataFrame
    blocks : mapping construct -> items, optional
        Default: the instrument's constructs (a Survey), else every numeric
        column as one block ``"all items"``.
    min_items : int
        Blocks with fewer items are skipped (two equal answers are not a
        pattern).

    Returns
    -------
    DataFrame
        Columns ``block, n_items, n_complete, straightliners, share``;
        plus a row ``all items`` over the union of the blocks.
    """
    frame = getattr(data, "data", data)
    if blocks is None:
        inst = getattr(data, "instrument", None)
        if inst is not None:
            blocks = inst.construct_items
        else:
            blocks = {"all items": list(frame.select_dtypes("number").columns)}
    rows = []
    union: list[str] = []
    for name, items in blocks.items():
        items = [i for i in items if i in frame.columns]
        union.extend(i for i in items if i not in union)
        if len(items) < min_items:
            continue
        rows.append(_straight(name, frame[items]))
    if len(blocks) > 1 and len(union) >= min_items:
        rows.append(_straight("all items", frame[union]))
    return pd.DataFrame(rows, columns=["block", "n_items", "n_complete", "straightliners", "share"])


def _straight(name: str, block: pd.DataFrame) -> dict[str, Any]:
    x = block.dropna().to_numpy(dtype=float)
    same = (x == x[:, :1]).all(axis=1) if len(x) else np.zeros(0, dtype=bool)
    n = len(x)
    return {"block": name, "n_items": block.shape[1], "n_complete": n,
            "straightliners": int(same.sum()), "share": float(same.mean()) if n else np.nan}


def flag_problems(descriptives: pd.DataFrame, straight: pd.DataFrame | None = None,
                  limits: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Problems worth a look before modelling, with what to do.

    Parameters
    ----------
    descriptives : DataFrame
        From :func:`csmlib.item_descriptives` (index item; columns
        ``share_missing, sd, top_box, bottom_box`` and, to recognise
        yes/no items, which have no floor or ceiling, ``scale_min,
        scale_max``).
    straight : DataFrame, optional
        From :func:`straightlining`.
    limits : mapping, optional
        Overrides of :data:`DEFAULT_LIMITS`.

    Returns
    -------
    DataFrame
        Columns ``problem, where, value, limit, advice``; empty when
        nothing is flagged.
    """
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    rows = []
    for item, r in descriptives.iterrows():
        if r.get("share_missing", 0) > lim["share_missing"]:
            rows.append(("many missing answers", item, r["share_missing"], lim["share_missing"],
                         "check routing and the missing codes; consider FIML"))
        if r.get("sd", 1.0) <= lim["min_sd"]:
            rows.append(("no variance", item, r["sd"], lim["min_sd"],
                         "drop the item: it carries no information"))
        two_point = r.get("scale_max", np.nan) - r.get("scale_min", np.nan) <= 1
        if two_point:
            continue  # a yes/no item (complained?) has no floor or ceiling to speak of
        if r.get("top_box", 0) > lim["top_box"]:
            rows.append(("ceiling effect", item, r["top_box"], lim["top_box"],
                         "the scale cannot show improvement; interpret the index with care"))
        if r.get("bottom_box", 0) > lim["bottom_box"]:
            rows.append(("floor effect", item, r["bottom_box"], lim["bottom_box"],
                         "check the item's wording and reverse coding"))
    if straight is not None:
        for r in straight.itertuples():
            if np.isfinite(r.share) and r.share > lim["straightlining"]:
                rows.append(("straight-lining", r.block, r.share, lim["straightlining"],
                             "inspect these interviews; consider excluding inattentive responses"))
    return pd.DataFrame(rows, columns=["problem", "where", "value", "limit", "advice"])


def ordinal_candidates(descriptives: pd.DataFrame, *, max_categories: int = 7,
                       limits: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Items better treated as ordered categories (WLSMV) than as numbers (ML).

    An item with few answer categories (at most ``max_categories``) whose
    answers pile against the top (a ceiling: the top-box share above the
    ``top_box`` limit of :data:`DEFAULT_LIMITS`) is a coarse, skewed view of
    the latent response: normal-theory ML on its codes understates the
    loadings, and WLSMV on the polychoric correlations (``csm.fit_cbsem(...,
    estimator="WLSMV", ordered=True)``) is the field's practice.

    Parameters
    ----------
    descriptives : DataFrame
        From :func:`csmlib.item_descriptives` (index item; columns
        ``top_box, scale_min, scale_max``: the instrument's limits, so the
        categories are its scale points, 1 apart).
    max_categories : int
        The most categories an ordered treatment is recommended for.
    limits : mapping, optional
        Overrides of :data:`DEFAULT_LIMITS` (``top_box``).

    Returns
    -------
    DataFrame
        Columns ``item, categories, top_box, ceiling, candidate`` (bool);
        yes/no items and items without scale limits are not candidates.
    """
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    rows = []
    for item, r in descriptives.iterrows():
        k = r.get("scale_max", np.nan) - r.get("scale_min", np.nan) + 1
        top = float(r.get("top_box", np.nan))
        ceiling = bool(np.isfinite(top) and top > lim["top_box"])
        few = bool(np.isfinite(k) and 3 <= k <= max_categories)
        rows.append({"item": item, "categories": float(k), "top_box": top, "ceiling": ceiling,
                     "candidate": few and ceiling})
    return pd.DataFrame(rows, columns=["item", "categories", "top_box", "ceiling", "candidate"])
