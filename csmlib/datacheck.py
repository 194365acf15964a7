"""Checks every estimator makes on its input before estimating."""

from __future__ import annotations

import pandas as pd

from .errors import DataError
from .spec import ModelSpec

__all__ = ["check_answered"]


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
