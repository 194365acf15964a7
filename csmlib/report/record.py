"""Recorded results: the only way a notebook hands numbers to the batch.

A notebook run by ``csm run`` receives the parameter ``results_path``.  Each
:func:`record` / :func:`record_frame` call merges one entry into that JSON
file (rewritten atomically each time, so a run killed mid-way leaves a valid
file).  The batch collects every run's file into ``summary.csv`` without
re-running notebooks or scraping HTML.

Typical notebook use::

    from csmlib.report.record import record, record_frame, set_results_path
    set_results_path(results_path)            # the papermill parameter
    record("index", idx)                      # a scalar
    record_frame("paths", pls.paths[["lhs", "rhs", "est"]])

When ``results_path`` is empty (a notebook opened interactively) the values
are kept in memory only (see :func:`recorded`), so the same notebook works in
JupyterLab and in batch.

Every key is declared, with its type, meaning and the notebooks that record
it, in :mod:`csmlib.report.keys`; :func:`record` and :func:`record_frame`
refuse (:class:`~csmlib.errors.StudyError`) an undeclared key or a value of
another type.  A study's own notebook declares its keys first with
:func:`csmlib.report.keys.declare`.

Only aggregates are recorded -- the rule
-----------------------------------------
Recorded results end up in summary tables that are shared widely, so they
must never contain respondent-level (personal) data.  :func:`record_frame`
refuses (:class:`~csmlib.errors.DataError`) a frame that

* has more than :data:`MAX_FRAME_ROWS` (200) rows -- an aggregate table
  (paths, loadings, indices per segment) is small; a respondent table is not;
* has a column or index name that looks like an identifier (``id``,
  ``uuid``, ``respondent_id``, ``ResponseId``: :func:`csmlib.privacy.is_identifier_name`)
  or personal data (``name``, ``Email Address``, ``phone``, ``ip_address``,
  ``address``, ``zip``, ``dob``, 姓名, 手机, 身份证, ...: the one list of
  :data:`csmlib.privacy.PII_NAME_PATTERNS`), or one of the extra names
  given in ``pii_columns``.  Name constructs and items
  ``construct``/``item``/``lhs``.

:func:`record` accepts JSON scalars (numbers, strings, booleans, ``None``)
and short lists / flat dicts of scalars (at most :data:`MAX_FRAME_ROWS`
entries).  NaN and infinities are stored as ``null``.  Every recorded string
(values and table cells) passes the masking function
:func:`csmlib.privacy.mask_text`: an e-mail address, phone number,
identity number or IP address is stored as ``<... removed>``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import write_json
from ..privacy import column_kind, is_identifier_name, mask_text
from ..errors import DataError, StudyError
from .keys import check_recorded

__all__ = [
    "record",
    "record_frame",
    "set_results_path",
    "recorded",
    "read_results",
    "results_frame",
    "MAX_FRAME_ROWS",
]

#: a recorded frame with more rows than this is taken for respondent-level data
MAX_FRAME_ROWS = 200

_SCHEMA = 1

_state: dict[str, Any] = {"path": None, "memory": {"values": {}, "frames": {}}}


def set_results_path(path: str | os.PathLike[str] | None) -> None:
    """Set the results file used by :func:`record` when no ``path`` is given.

    Parameters
    ----------
    path : path-like or None
        The notebook parameter ``results_path``.  ``None`` or ``""`` keeps
        results in memory only (interactive use).
    """
    _state["path"] = None if path in (None, "") else str(path)
    _state["memory"] = {"values": {}, "frames": {}}


def _target(path: str | os.PathLike[str] | None) -> str | None:
    if path not in (None, ""):
        return str(path)
    if _state["path"] is not None:
        return _state["path"]
    env = os.environ.get("CSM_RESULTS_PATH", "")
    return env or None


def _jsonable_scalar(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return mask_text(value)   # defence in depth: recorded text passes the masking function
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    raise DataError(
        f"cannot record {key!r}: a value of type {type(value).__name__} is not a number, "
        "string, boolean or None",
        values=[repr(value)[:80]],
        hint="record numbers and short labels; use record_frame for tables",
    )


def _jsonable(value: Any, key: str) -> Any:
    if isinstance(value, (pd.DataFrame, pd.Series)):
        raise DataError(
            f"cannot record {key!r} with record(): it is a pandas {type(value).__name__}",
            hint="use record_frame(key, df) for tables",
        )
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, Mapping):
        if len(value) > MAX_FRAME_ROWS:
            raise DataError(
                f"cannot record {key!r}: {len(value)} entries is more than the "
                f"{MAX_FRAME_ROWS} allowed for an aggregate",
                hint="record aggregates only, never respondent-level data",
            )
        return {str(k): _jsonable_scalar(v, key) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_FRAME_ROWS:
            raise DataError(
                f"cannot record {key!r}: {len(value)} entries is more than the "
                f"{MAX_FRAME_ROWS} allowed for an aggregate",
                hint="record aggregates only, never respondent-level data",
            )
        return [_jsonable_scalar(v, key) for v in value]
    return _jsonable_scalar(value, key)


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise DataError(
            "a recorded result needs a non-empty string key",
            values=[repr(key)],
            hint='call record("index", value)',
        )
    return key


def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        return {"schema": _SCHEMA, "values": {}, "frames": {}}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudyError(
            f"the results file is not readable JSON ({exc})",
            file=str(p),
            hint="delete it and run the notebook again",
        ) from None
    if not isinstance(data, dict):
        raise StudyError("the results file does not hold a JSON object", file=str(p),
                         hint="delete it and run the notebook again")
    data.setdefault("schema", _SCHEMA)
    data.setdefault("values", {})
    data.setdefault("frames", {})
    return data


def _store(section: str, key: str, payload: Any, path: str | os.PathLike[str] | None) -> None:
    target = _target(path)
    if target is None:
        _state["memory"][section][key] = payload
        return
    data = _load(target)
    other = "frames" if section == "values" else "values"
    data[other].pop(key, None)   # one key, one kind
    data[section][key] = payload
    write_json(target, data)


def record(key: str, value: Any, *, path: str | os.PathLike[str] | None = None) -> None:
    """Record one aggregate result of the notebook.

    Parameters
    ----------
    key : str
        Name of the result (``"index"``, ``"n"``, ``"path.Satisfaction~Quality"``).
        Recording the same key again replaces the earlier value.
    value : scalar, list or dict of scalars
        Numbers (numpy scalars are converted), strings, booleans, ``None``;
        NaN and infinities are stored as ``None``.
    path : path-like, optional
        Results file; default the one set by :func:`set_results_path`, else the
        environment variable ``CSM_RESULTS_PATH``, else memory only.

    Returns
    -------
    None
        Nothing, so that ``record(...)`` as the last line of a cell puts no
        stray value into the report.

    Raises
    ------
    DataError
        A value that is not JSON-like, or a list/dict too long to be an aggregate.
    StudyError
        ``key`` is not declared in :mod:`csmlib.report.keys`, or the value is
        not of its declared type.
    """
    payload = _jsonable(value, _check_key(key))
    check_recorded(key, payload, table=False)
    _store("values", key, payload, path)


def _looks_personal(name: Any, extra: set[str]) -> bool:
    text = str(name).strip().lower()
    if text in extra or re.sub(r"[\s_\-.]+", "", text) in extra:
        return True
    return is_identifier_name(name) or column_kind(name) is not None


def record_frame(
    key: str,
    df: pd.DataFrame | pd.Series,
    *,
    path: str | os.PathLike[str] | None = None,
    pii_columns: Iterable[str] = (),
) -> None:
    """Record an aggregate table (paths, loadings, indices by segment, ...).

    Parameters
    ----------
    key : str
        Name of the table.
    df : pandas.DataFrame or Series
        The table; a Series is recorded as a one-column frame.  At most
        :data:`MAX_FRAME_ROWS` rows and no identifier-like column or index
        names (see the module docstring for the rule).
    path : path-like, optional
        Results file, as for :func:`record`.
    pii_columns : iterable of str
        Further column names to refuse (e.g. the instrument's ``pii_columns``).

    Returns
    -------
    None
        Nothing, so that ``record_frame(...)`` as the last line of a cell
        puts no stray table into the report.  The frame is recorded with
        its named index reset into columns.

    Raises
    ------
    DataError
        The frame looks respondent-level, or holds values that are not
        numbers, strings, booleans or missing.
    StudyError
        ``key`` is not declared as a table in :mod:`csmlib.report.keys`.
    """
    _check_key(key)
    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name if df.name is not None else "value")
    if not isinstance(df, pd.DataFrame):
        raise DataError(
            f"record_frame({key!r}, ...) needs a pandas DataFrame, not {type(df).__name__}",
            hint="use record() for scalars",
        )
    if len(df) > MAX_FRAME_ROWS:
        raise DataError(
            f"refusing to record {key!r}: {len(df)} rows looks like respondent-level data "
            f"(an aggregate table has at most {MAX_FRAME_ROWS} rows)",
            hint="record aggregates (means, estimates, counts by group), never respondents",
        )
    extra = {str(c).strip().lower() for c in pii_columns}
    names = [*map(str, df.columns)] + [n for n in df.index.names if n is not None]
    bad = [n for n in names if _looks_personal(n, extra)]
    if bad:
        raise DataError(
            f"refusing to record {key!r}: column names look like identifiers or personal data",
            column=bad,
            hint="drop identifier columns; name construct/item columns 'construct' or 'item'",
        )
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df.reset_index(drop=True)
    if flat.columns.duplicated().any():
        raise DataError(f"cannot record {key!r}: duplicate column names",
                        column=[str(c) for c in flat.columns[flat.columns.duplicated()]],
                        hint="rename the columns")
    check_recorded(key, None, table=True)
    payload = {
        "columns": [str(c) for c in flat.columns],
        "data": [[_jsonable_scalar(v, key) for v in row] for row in flat.itertuples(index=False)],
    }
    _store("frames", key, payload, path)


def recorded() -> dict[str, Any]:
    """Results recorded in memory (when no results file is set).

    Returns
    -------
    dict
        ``{"values": {key: value}, "frames": {key: {"columns", "data"}}}``.
    """
    return json.loads(json.dumps(_state["memory"]))


def read_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file written by :func:`record`.

    Returns
    -------
    dict
        ``{"schema": 1, "values": {key: value}, "frames": {key: {"columns": [...],
        "data": [[...], ...]}}}``.
    """
    if not Path(path).exists():
        raise StudyError("results file not found", file=str(path),
                         hint="run the notebook (csm run) first")
    return _load(str(path))


def results_frame(results: Mapping[str, Any], key: str) -> pd.DataFrame:
    """One recorded table of ``results`` (from :func:`read_results`) as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        The columns recorded with :func:`record_frame`.
    """
    frames = results.get("frames", {})
    if key not in frames:
        raise StudyError(f"no recorded table named {key!r}", values=sorted(frames),
                         hint="use one of the recorded table names")
    fr = frames[key]
    return pd.DataFrame(fr["data"], columns=fr["columns"])
