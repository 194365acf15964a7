"""Estimator input: one function turns a model's items and the data into
what every estimator reads.

:func:`prepare_input` is the one way in: it takes a model specification (or
a list of items), a :class:`~csmlib.data.survey.Survey` or a DataFrame, a
missing-value policy and the extra columns an estimator needs (weights,
groups), checks them, and returns an :class:`EstimatorInput`: the numeric
item frame, the file the data came from (named in every error), and the
rows dropped and why.  PLS (:func:`csmlib.fit_pls`), the PLS group
comparisons (:mod:`csmlib.analysis.pls_groups`) and the measurement
statistics (:mod:`csmlib.analysis.measurement`) read their data through it,
so that their checks and their wording are the same.

Rows are numbered as the user sees them: for a Survey, the data row in the
file (its index); for a DataFrame, the position (1 = first row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..privacy import mask_value
from ..errors import DataError, SpecError
from ..spec.modelspec import ModelSpec

__all__ = ["EstimatorInput", "prepare_input", "input_frame", "MISSING_POLICIES", "PLS_MISSING",
           "check_answered", "check_pls_missing", "mean_replace", "unweighted_notice"]

#: How PLS treats missing answers: drop incomplete respondents, or replace a
#: missing answer by the item's mean (SmartPLS' and seminr's default).
PLS_MISSING = ("listwise", "mean")

#: Missing-value policies of :func:`prepare_input`: ``listwise`` drops a
#: respondent with any missing item; ``mean`` replaces a missing answer by the
#: item's mean; ``available`` keeps incomplete respondents (estimators that
#: use every answer: FIML, pairwise statistics) and drops only those who
#: answered no item.
MISSING_POLICIES = ("listwise", "mean", "available")

_LISTWISE = "missing values (listwise deletion)"
_NO_ANSWER = "no item answered"


@dataclass(frozen=True)
class EstimatorInput:
    """What an estimator reads, prepared by :func:`prepare_input`.

    Attributes
    ----------
    frame : DataFrame
        The rows kept: the item columns (float64, in ``items`` order; NaN
        only under ``missing="available"``), then the extra columns as given.
        The index is the data's (a Survey's file row numbers).
    items : tuple of str
    file : str or None
        The data file (a Survey's provenance), for error messages.
    scale_limits : DataFrame or None
        A Survey's theoretical scale limits (index ``item``, columns ``min``,
        ``max``); None for a DataFrame.
    info : dict
        ``rows_read`` (rows given), ``rows_used``, ``dropped`` (``{reason:
        count}``), ``dropped_rows`` (the first 1,000 dropped row numbers) and,
        for ``missing="mean"``, ``mean_replaced`` (answers replaced).
    positions : ndarray of int
        0-based positions of the kept rows in the data given, to align
        arrays given beside the data (group labels, weights).
    """

    frame: pd.DataFrame
    items: tuple[str, ...]
    file: str | None
    scale_limits: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def X(self) -> np.ndarray:
        """The item columns as a float64 array (rows x items)."""
        return self.frame[list(self.items)].to_numpy(dtype="float64", na_value=np.nan)


def input_frame(data: Any, what: str = "the estimator") -> tuple[pd.DataFrame, str | None, pd.DataFrame | None]:
    """``(frame, file, scale_limits)`` of a DataFrame or a Survey.

    A Survey (anything with a ``.data`` DataFrame) gives its data, the file
    named in its provenance and its scale limits; a DataFrame gives itself,
    ``None`` and ``None``.

    Raises
    ------
    DataError
        ``data`` is neither.
    """
    if isinstance(data, pd.DataFrame):
        return data, None, None
    inner = getattr(data, "data", None)
    if isinstance(inner, pd.DataFrame):
        prov = getattr(data, "provenance", None)
        file = getattr(prov, "path", None)
        for attr in ("file", "path", "source"):
            if file is not None:
                break
            v = getattr(data, attr, None)
            if isinstance(v, str) or hasattr(v, "__fspath__"):
                file = v
        limits = getattr(data, "scale_limits", None)
        return inner, (None if file is None else str(file)), (limits if isinstance(limits, pd.DataFrame) else None)
    raise DataError(f"{what} needs a pandas DataFrame or a Survey, got {type(data).__name__}",
                    hint="pass csm.read_survey(...) or a DataFrame with one column per item")


def prepare_input(model: ModelSpec | Sequence[str], data: Any, *, missing: str = "listwise",
                  extra: Sequence[str] = (), rows: Any = None, min_rows: int = 1,
                  what: str = "the estimator") -> EstimatorInput:
    """Check the data for a model and return the estimator's input.

    Parameters
    ----------
    model : ModelSpec or sequence of str
        The model (its indicators are the items) or the item names.
    data : Survey or DataFrame
        The answers.  A Survey's file is named in every error.
    missing : {"listwise", "mean", "available"}
        See :data:`MISSING_POLICIES`.  ``mean`` uses the mean over the rows
        selected by ``rows``.
    extra : sequence of str
        Other columns the estimator needs (a weight or group column): they
        must be present and are returned as given, after the items.
    rows : boolean array or Series, optional
        Only these rows are considered (e.g. the two groups compared); the
        others count as dropped "not selected".
    min_rows : int
        Fewer rows left than this is an error.
    what : str
        The caller's name, for the error when ``data`` is of the wrong type.

    Returns
    -------
    EstimatorInput

    Raises
    ------
    SpecError
        An item is not a column of the data; ``missing`` is unknown.
    DataError
        An item holds text, True/False or infinite values, or nobody answered
        it (naming its construct); an extra column is missing; fewer than
        ``min_rows`` rows are left.  Each error names the file, the columns,
        the rows and the values.
    """
    if missing not in MISSING_POLICIES:
        raise SpecError(f"missing={missing!r} is not one of {', '.join(map(repr, MISSING_POLICIES))}",
                        values=[missing], hint="use 'listwise', 'mean' or 'available'")
    spec = model if isinstance(model, ModelSpec) else None
    items = tuple(spec.indicators) if spec is not None else tuple(str(i) for i in model)
    frame, file, limits = input_frame(data, what)
    absent = [i for i in items if i not in frame.columns]
    if absent:
        raise SpecError(f"{len(absent)} indicator(s) of the model are not columns of the data",
                        file=file, column=absent,
                        hint="rename the columns in the data or the items in the model so that they agree")
    twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]} & (set(items) | set(extra)))
    if twice:
        raise DataError(f"{len(twice)} column name(s) appear more than once in the data", file=file,
                        column=twice, hint="give every column a unique name")
    gone = [c for c in extra if c not in frame.columns]
    if gone:
        raise DataError(f"{len(gone)} column(s) the estimator needs are not in the data", file=file,
                        column=gone, hint="name columns of the data (see the instrument's columns)")
    row_no = (np.asarray(frame.index) if not isinstance(data, pd.DataFrame)
              else np.arange(1, len(frame) + 1))
    rows_read = len(frame)
    positions = np.arange(rows_read)
    dropped: dict[str, int] = {}
    dropped_rows: list[int] = []
    if rows is not None:
        sel = np.asarray(rows.to_numpy() if isinstance(rows, pd.Series) else rows, dtype=bool)
        if sel.shape != (rows_read,):
            raise DataError(f"the row selection has {sel.size} entries for {rows_read} rows", file=file,
                            hint="give one True/False per row")
        if (~sel).any():
            dropped["not selected"] = int((~sel).sum())
        frame, row_no, positions = frame.loc[sel], row_no[sel], positions[sel]
    X = _numeric_items(frame, items, row_no, file)
    check_answered(X, spec if spec is not None else items, file)
    info: dict[str, Any] = {"rows_read": int(rows_read)}
    if missing == "mean":
        X, info["mean_replaced"] = mean_replace(X, items)
    holes = X.isna().to_numpy()
    drop = holes.any(axis=1) if missing == "listwise" else holes.all(axis=1)
    if drop.any():
        dropped[_LISTWISE if missing == "listwise" else _NO_ANSWER] = int(drop.sum())
        dropped_rows = [int(r) for r in row_no[drop][:1000]]
    kept = X.loc[~drop] if drop.any() else X
    for c in extra:
        kept[c] = frame[c].to_numpy()[~drop]
    info.update({"rows_used": int(len(kept)), "dropped": dropped})
    if dropped_rows:
        info["dropped_rows"] = dropped_rows
    if len(kept) < min_rows:
        why = ", ".join(f"{n} row(s): {r}" for r, n in dropped.items()) or "none dropped"
        raise DataError(f"only {len(kept)} row(s) left of {rows_read} ({why}); at least {min_rows} are needed",
                        file=file, column=[i for i, h in zip(items, holes.any(axis=0)) if h] or None,
                        hint="impute or drop the items with many missing values, or supply more complete responses")
    return EstimatorInput(frame=kept, items=items, file=file, scale_limits=limits, info=info,
                          positions=positions[~drop])


def _numeric_items(frame: pd.DataFrame, items: tuple[str, ...], row_no: np.ndarray,
                   file: str | None) -> pd.DataFrame:
    """The item columns as float64; text, True/False or infinite values are an error."""
    out = {}
    for c in items:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            raise DataError(f"column {c!r} holds non-numeric values (True/False)", file=file, column=c,
                            hint="recode the answers as numbers (read the data with csm.read_survey and an instrument)")
        if pd.api.types.is_numeric_dtype(col):
            values = col.to_numpy(dtype="float64", na_value=np.nan)
        else:
            conv = pd.to_numeric(col, errors="coerce")
            bad = (conv.isna() & col.notna()).to_numpy()
            if bad.any():
                pos = np.flatnonzero(bad)
                raise DataError(f"column {c!r} holds non-numeric values", file=file, column=c,
                                rows=row_no[pos[:10]].tolist(),
                                values=[mask_value(v) for v in col.iloc[pos[:10]].tolist()],
                                hint="recode the answers as numbers (read the data with csm.read_survey "
                                     "and an instrument)")
            values = conv.to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            pos = np.flatnonzero(inf)
            raise DataError(f"column {c!r} holds infinite values", file=file, column=c,
                            rows=row_no[pos[:10]].tolist(), values=values[pos[:10]].tolist(),
                            hint="replace infinite values by valid answers or missing values")
        out[c] = values
    return pd.DataFrame(out, index=frame.index, columns=list(items))


def check_answered(frame: pd.DataFrame, spec: ModelSpec | Sequence[str], file: str | None = None) -> None:
    """Raise a DataError naming the items (and their constructs) nobody answered.

    Without this, listwise deletion would silently drop every row and the
    user would read about "no complete rows" or "zero variance" instead of
    the cause: a construct's questions were never asked or never exported.
    """
    indicators = spec.indicators if isinstance(spec, ModelSpec) else tuple(spec)
    items = [i for i in indicators if i in frame.columns]
    empty = [i for i in items if frame[i].isna().all()]
    if not empty:
        return
    owners = (sorted({c.name for c in spec.constructs if set(c.indicators) & set(empty)})
              if isinstance(spec, ModelSpec) else [])
    raise DataError(
        f"{len(empty)} item(s) have no answer at all"
        + (f" (construct(s) {', '.join(owners)})" if owners else ""),
        file=file, column=empty,
        hint="check that these questions were asked and exported, and that their missing codes "
             "are right; or drop the construct from the model")


def unweighted_notice(data: object, estimator: str) -> str | None:
    """The warning an estimator gives when its data carry survey weights it
    does not use, or ``None``.

    ``data`` is a Survey (or anything with a ``weights`` Series); a plain
    DataFrame declares no weights.  CB-SEM, and PLS unless given
    ``weights=``, estimate from unweighted moments; saying so keeps a
    weighted study from reading unweighted paths and indices as weighted
    ones.
    """
    weights = getattr(data, "weights", None)
    if not isinstance(weights, pd.Series):
        return None
    w = pd.to_numeric(weights, errors="coerce")
    if w.notna().any() and w.dropna().nunique() <= 1:
        return None  # equal weights: unweighted is the same
    fix = (f"; fit_pls(..., weights={weights.name!r}) estimates weighted PLS" if estimator == "PLS" else "")
    return (f"the survey declares weights ({weights.name!r}), but {estimator} estimates from "
            "unweighted data: paths, loadings and indices describe the sample, not the weighted "
            f"population (the complaint, NPS and top-box metrics use the weights){fix}")


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
