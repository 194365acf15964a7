"""Checks every estimator makes on its input before estimating."""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..spec.modelspec import ModelSpec

__all__ = ["PLS_MISSING", "check_answered", "check_pls_missing", "mean_replace", "unweighted_notice"]

#: How PLS treats missing answers: drop incomplete respondents, or replace a
#: missing answer by the item's mean (SmartPLS' and seminr's default).
PLS_MISSING = ("listwise", "mean")


def check_answered(frame: pd.DataFrame, spec: ModelSpec, file: str | None = None) -> None:
    """Raise a DataError naming the items (and their constructs) nobody answered.

    Without this, listwise deletion would silently drop every row and the
    user would read about "no complete rows" or "zero variance" instead of
    the cause: a construct's questions were never asked or never exported.
    """
    items = [i for i in spec.indicators if i in frame.columns]
    empty = [i for i in items if frame[i].isna().all()]
    if not empty:
        return
    owners = sorted({c.name for c in spec.constructs if set(c.indicators) & set(empty)})
    raise DataError(
        f"{len(empty)} item(s) have no answer at all (construct(s) {', '.join(owners)})",
        file=file, column=empty,
        hint="check that these questions were asked and exported, and that their missing codes "
             "are right; or drop the construct from the model")


def unweighted_notice(data: object, estimator: str) -> str | None:
    """The warning an estimator gives when its data carry survey weights it
    does not use, or ``None``.

    ``data`` is a Survey (or anything with a ``weights`` Series); a plain
    DataFrame declares no weights.  The model estimators (PLS, CB-SEM)
    estimate from unweighted moments; saying so keeps a weighted study from
    reading unweighted paths and indices as weighted ones.
    """
    weights = getattr(data, "weights", None)
    if not isinstance(weights, pd.Series):
        return None
    w = pd.to_numeric(weights, errors="coerce")
    if w.notna().any() and w.dropna().nunique() <= 1:
        return None  # equal weights: unweighted is the same
    return (f"the survey declares weights ({weights.name!r}), but {estimator} estimates from "
            "unweighted data: paths, loadings and indices describe the sample, not the weighted "
            "population (the complaint, NPS and top-box metrics use the weights)")


def check_pls_missing(missing: object) -> str:
    """Validate a PLS ``missing`` option; returns it."""
    from ..errors import SpecError

    if missing not in PLS_MISSING:
        raise SpecError(f"missing={missing!r} is not one of {', '.join(map(repr, PLS_MISSING))}",
                        values=[missing],
                        hint='use "mean" (replace a missing answer by the item mean, as SmartPLS '
                             'and seminr do) or "listwise" (drop respondents with a missing answer)')
    return str(missing)


def mean_replace(frame: pd.DataFrame, items: "list[str] | tuple[str, ...]") -> tuple[pd.DataFrame, int]:
    """Missing answers of numeric item columns replaced by the item's mean.

    The mean is over the answers present in ``frame`` (for a segment, the
    segment's).  Columns that are not numeric are left alone, so that the
    estimator's own check reports text in a numeric item instead of it being
    turned into a mean; other columns are untouched.

    Returns
    -------
    (DataFrame, int)
        A copy with the replacements, and how many answers were replaced.
    """
    cols = [c for c in items if c in frame.columns
            and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    holes = frame[cols].isna()
    n = int(holes.to_numpy().sum())
    if n == 0:
        return frame, 0
    out = frame.copy()
    out[cols] = frame[cols].fillna(frame[cols].mean())
    return out, n
