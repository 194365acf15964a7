"""Complaint logs: a ticket export and the small codebook that says what it means.

A complaint (ticket) export -- CSV or Excel, one row per ticket -- is read
with :func:`read_log` through the reader every survey goes through
(:func:`csmlib.data.readers.read_raw`) and validated against a
:class:`ComplaintCodebook` (YAML path or dict).  The codebook schema::

    name: Service desk tickets       # optional
    language: en                     # default language of the labels
    id_column: ticket_id             # required: ticket id (unique)
    opened_column: opened            # required: when the complaint was opened
    closed_column: closed            # required: when it was closed (empty = still open)
    category_column: category        # required: complaint category (code)
    subcategory_column: null         # optional
    channel_column: channel          # optional: phone, e-mail, store, ...
    status_column: status            # optional: kept as text
    reopened_column: reopened        # optional: 1/0, true/false, yes/no, 是/否 (empty = unknown)
    customer_id_column: customer_id  # optional: links tickets to survey respondents (hashed at once)
    pii_columns: [customer_name, phone, description]   # personal data: never read into the log
    timestamp_format: null           # optional strftime format; default ISO 8601 (2026-01-31 14:05)
    sla_hours: 48                    # hours to resolve: a number, or per category {billing: 24, ...}
    categories:                      # optional: the valid codes and their labels (any language)
      billing: {en: Billing, zh: 账单}
      delivery: {en: Delivery, zh: 配送}
    channels:                        # optional: channel labels
      phone: {en: Phone, zh: 电话}

Only the columns the codebook names as roles are read into the log; every
other column (free-text descriptions, names, phone numbers) is left in the
file.  Customer ids are replaced at once by a salted hash (a fresh random
salt per log, held only in memory), so a customer id -- a phone number or
an identity number in many ticket systems -- is never kept, shown or
recorded; :func:`csmlib.analysis.complaints.recovery` hashes the survey's ids
with the same salt to link the two.

Timestamps either all carry a time zone (a UTC offset or ``Z``; they are
then converted to UTC) or none do (all in one local time): a log that mixes
the two is refused, since a local time cannot be put on the clock of one
with an offset.  An ``as_of`` follows the log's rule.

A ticket with an empty closed cell is still open: its time to resolution is
censored at the log's ``as_of`` (by default the latest timestamp in the log).
Tickets opened after an ``as_of`` given by the caller are not part of the log
as of then; tickets closed after it are open as of then.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
import hashlib
import re
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..errors import DataError
from ..privacy import check_role_column
from .instrument import Text, _check_text, _resolve_text, field_path, load_yaml
from .readers import FORMATS, detect_format, read_raw

__all__ = ["ComplaintCodebook", "ComplaintLog", "censor", "read_log", "TICKET_COLUMNS"]

#: Columns of :attr:`ComplaintLog.tickets`.
TICKET_COLUMNS = ("ticket", "opened", "closed", "category", "subcategory", "channel", "status",
                  "reopened", "customer", "is_closed", "hours", "sla_hours")

_TRUE = {"1", "true", "yes", "y", "t", "是", "1.0"}
_FALSE = {"0", "false", "no", "n", "f", "否", "0.0"}

_ROLE_KEYS = ("id_column", "opened_column", "closed_column", "category_column", "subcategory_column",
              "channel_column", "status_column", "reopened_column", "customer_id_column")


class ComplaintCodebook(BaseModel):
    """What the columns of a complaint export mean (see the module docstring).

    Build it with :meth:`from_yaml` or :meth:`from_mapping`; both raise
    :class:`~csmlib.errors.DataError` naming the file and the key path.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "complaint log"
    language: str = "en"
    id_column: str = Field(min_length=1)
    opened_column: str = Field(min_length=1)
    closed_column: str = Field(min_length=1)
    category_column: str = Field(min_length=1)
    subcategory_column: str | None = None
    channel_column: str | None = None
    status_column: str | None = None
    reopened_column: str | None = None
    customer_id_column: str | None = None
    pii_columns: tuple[str, ...] = ()
    timestamp_format: str | None = None
    sla_hours: Union[float, dict[str, float], None] = None
    categories: dict[str, Text] = Field(default_factory=dict)
    channels: dict[str, Text] = Field(default_factory=dict)

    @field_validator("pii_columns", mode="before")
    @classmethod
    def _str_list(cls, v: Any) -> Any:
        if v is None:
            return ()
        return (v,) if isinstance(v, str) else v

    @field_validator("categories", "channels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise PydanticCustomError("labels", "give {code: label} or {code: {language: label}}")
        for text in v.values():
            _check_text(text)
        return {str(k): val for k, val in v.items()}

    @field_validator("sla_hours", mode="before")
    @classmethod
    def _sla(cls, v: Any) -> Any:
        def ok(x: Any) -> bool:
            return isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) and x > 0
        if v is None or (not isinstance(v, dict) and ok(v)):
            return v
        if isinstance(v, dict) and v and all(ok(x) for x in v.values()):
            return {str(k): float(x) for k, x in v.items()}
        raise PydanticCustomError(
            "sla", "sla_hours must be a number of hours above 0, or {category: hours} with numbers above 0")

    @model_validator(mode="after")
    def _cross_checks(self) -> ComplaintCodebook:
        used: dict[str, str] = {}
        problems = []
        for key in _ROLE_KEYS:
            col = getattr(self, key)
            if col is None:
                continue
            if col in used:
                problems.append(f"{key}: column {col!r} is also the {used[col]}; give each role its own column")
            used[col] = key
            if col in self.pii_columns and key != "customer_id_column":
                problems.append(f"{key}: column {col!r} is also declared personal data (pii_columns)")
        if isinstance(self.sla_hours, dict) and self.categories:
            unknown = sorted(set(self.sla_hours) - set(self.categories))
            if unknown:
                problems.append(f"sla_hours: {', '.join(map(repr, unknown))} not among the categories "
                                f"({', '.join(map(repr, self.categories))})")
        if problems:
            raise PydanticCustomError("codebook", "\n".join(problems))
        return self

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_mapping(cls, obj: Any, *, file: str | None = None) -> ComplaintCodebook:
        """Validate a dict (as read from YAML) into a codebook.

        Raises
        ------
        DataError
            Listing every problem with its key path.
        """
        if not isinstance(obj, dict):
            raise DataError(f"a complaint codebook must be a mapping, got {type(obj).__name__}", file=file,
                            hint="give id_column, opened_column, closed_column and category_column "
                                 "(see csmlib.data.complaint_log)")
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            lines = []
            for err in exc.errors(include_url=False):
                path = field_path(tuple(err["loc"]))
                if err["type"] == "extra_forbidden":
                    key = str(err["loc"][-1])
                    close = difflib.get_close_matches(key, list(cls.model_fields), n=1, cutoff=0.5)
                    lines.append(f"{path}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))
                elif err["type"] == "missing":
                    lines.append(f"{path}: required key is missing")
                else:
                    lines.append(f"{path}: {err['msg']}" if path else err["msg"])
            where = f" {file}" if file else ""
            raise DataError(f"invalid complaint codebook{where}: {len(lines)} problem(s)\n    "
                            + "\n    ".join(lines), file=file,
                            hint="valid keys: " + ", ".join(cls.model_fields)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> ComplaintCodebook:
        """Read and validate a codebook YAML file (UTF-8).

        Raises
        ------
        DataError
            Missing file, invalid YAML (line named), or an invalid codebook.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError("complaint codebook file not found", file=str(path),
                            hint="check the path (relative paths are relative to the working directory)")
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise DataError(f"the codebook is not UTF-8 text (byte {exc.start})", file=str(path),
                            hint="save the YAML file as UTF-8") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise DataError(f"the codebook is not valid YAML ({getattr(exc, 'problem', exc)})", file=str(path),
                            rows=[mark.line + 1] if mark is not None else None,
                            hint="fix the YAML syntax at the line shown") from None
        return cls.from_mapping(data, file=str(path))

    # ------------------------------------------------------------------ labels
    def category_label(self, code: str, lang: str | None = None) -> str:
        """Label of category ``code`` in ``lang`` (default language, then any); the code when unlabelled."""
        return _resolve_text(self.categories.get(str(code)), lang, self.language) or str(code)

    def channel_label(self, code: str, lang: str | None = None) -> str:
        """Label of channel ``code`` in ``lang``; the code when unlabelled."""
        return _resolve_text(self.channels.get(str(code)), lang, self.language) or str(code)


@dataclass(frozen=True)
class ComplaintLog:
    """A validated complaint log.

    Attributes
    ----------
    tickets : DataFrame
        One row per ticket, columns :data:`TICKET_COLUMNS`: ``ticket`` (id,
        str), ``opened``, ``closed`` (datetime64; NaT = open as of ``as_of``),
        ``category``, ``subcategory``, ``channel``, ``status`` (str or None),
        ``reopened`` (float 1/0, NaN unknown), ``customer`` (salted 64-bit
        hash, UInt64, ``<NA>`` without an id), ``is_closed`` (bool), ``hours`` (opened to closed, or to
        ``as_of`` for open tickets), ``sla_hours`` (the ticket's SLA, NaN
        when none applies).
    codebook : ComplaintCodebook
    as_of : Timestamp
        Open tickets are censored here.
    file : str or None
        The file read (None for a frame).
    sha256 : str or None
        SHA-256 of the file's bytes.
    rows_read : int
    """

    tickets: pd.DataFrame
    codebook: ComplaintCodebook
    as_of: pd.Timestamp
    file: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    _salt: str = field(default="0" * 16, repr=False)

    def hash_ids(self, ids: Any) -> pd.Series:
        """Customer ids (e.g. a survey's id column) hashed as this log hashes its
        own, so that the two can be linked; missing stays ``<NA>``."""
        return _hash_ids(pd.Series(ids, dtype=object), self._salt)

    @property
    def n(self) -> int:
        """Tickets in the log."""
        return len(self.tickets)

    def __repr__(self) -> str:
        return (f"ComplaintLog({self.codebook.name!r}, {self.n} tickets, "
                f"{int(self.tickets['is_closed'].sum())} closed, as_of={self.as_of})")


def _hash_ids(ids: pd.Series, salt: str) -> pd.Series:
    """Salted 64-bit hashes (SipHash-2-4 keyed with the log's salt) of ids as
    text; a missing id stays missing (``<NA>``)."""
    return _hash_cells(_Cells.of(ids), salt, ids.index)


def _hash_cells(cells: _Cells, salt: str, index: pd.Index) -> pd.Series:
    """:func:`_hash_ids` of cells already read (each distinct id hashed once)."""
    hashed = pd.util.hash_array(cells.uniq, hash_key=salt, categorize=False)
    out = pd.array(np.append(hashed, np.uint64(0))[cells.codes], dtype="UInt64")   # (no id at all: all -1)
    out[cells.missing] = pd.NA
    return pd.Series(out, index=index, name="customer")


# --------------------------------------------------------------------------- read
def read_log(path: str | Path | pd.DataFrame, codebook: ComplaintCodebook | dict | str | Path, *,
             as_of: Any = None, sheet: str | int | None = None, encoding: str | None = None,
             format: str | None = None) -> ComplaintLog:  # noqa: A002
    """Read a complaint (ticket) export and validate it against its codebook.

    Parameters
    ----------
    path : str, Path or DataFrame
        CSV (``.csv``, ``.txt``, ``.tsv``) or Excel ``.xlsx``; or the export as
        a frame (rows numbered from 1 in messages).
    codebook : ComplaintCodebook, dict, str or Path
        The codebook, as an object, a dict, or the path of its YAML file.
    as_of : datetime-like, optional
        The moment the log describes (default: its latest opened or closed
        timestamp).  Open tickets are censored there; tickets opened later are
        left out and tickets closed later are open.
    sheet : str or int, optional
        Excel sheet (default: the first).
    encoding : str, optional
        Text encoding of a CSV (default UTF-8).
    format : {"csv", "excel"}, optional
        Overrides detection from the extension.

    Returns
    -------
    ComplaintLog
        ``.tickets`` has the columns listed in :class:`ComplaintLog`.

    Raises
    ------
    DataError
        Missing file or columns; empty, duplicate or personal-looking ticket
        ids; empty or unparseable timestamps; closed before opened; unknown
        category codes (when the codebook lists them); reopened flags that are
        not yes/no; category, channel or status values that look like personal
        data.  Each names the file, column, rows and (masked) values.
    """
    cb = _codebook(codebook)
    if isinstance(path, pd.DataFrame):   # an export already in memory (cells as read)
        frame = path.copy()
        frame.columns = [str(c) for c in frame.columns]
        tickets, log_as_of = _build(frame, np.arange(1, len(frame) + 1), cb, "<data frame>", as_of)
        return ComplaintLog(tickets=tickets, codebook=cb, as_of=log_as_of, rows_read=len(frame),
                            _salt=tickets.attrs.pop("salt"))
    path = Path(path)
    if not path.is_file():
        raise DataError("complaint log file not found", file=str(path),
                        hint="check the path (relative paths are relative to the working directory)")
    raw = path.read_bytes()
    if format is not None and format not in FORMATS:
        raise DataError(f"unknown format {format!r}", file=str(path), hint=f"use one of {FORMATS}")
    roles = [getattr(cb, k) for k in _ROLE_KEYS if getattr(cb, k) is not None]
    table = read_raw(path, raw, format or detect_format(path, raw), sheet=sheet, encoding=encoding,
                     fast=True, columns=roles)
    tickets, log_as_of = _build(table.frame, table.rows, cb, str(path), as_of, header=table.header)
    return ComplaintLog(tickets=tickets, codebook=cb, as_of=log_as_of, file=str(path),
                        sha256=hashlib.sha256(raw).hexdigest(), rows_read=table.rows_read,
                        _salt=tickets.attrs.pop("salt"))


def _codebook(codebook: Any) -> ComplaintCodebook:
    if isinstance(codebook, ComplaintCodebook):
        return codebook
    if isinstance(codebook, dict):
        return ComplaintCodebook.from_mapping(codebook)
    if isinstance(codebook, (str, Path)):
        return ComplaintCodebook.from_yaml(codebook)
    raise DataError(f"the complaint codebook must be a YAML path or a dict, got {type(codebook).__name__}",
                    hint="pass the path of the codebook YAML or a dict with id_column, opened_column, ...")


def _cell_text(v: Any) -> str | None:
    """One cell as stripped text; empty and missing -> None; a whole float
    (an id read as a number, 1001.0) as the whole number it is."""
    if isinstance(v, str):
        return v.strip() or None
    if v is None or (np.ndim(v) == 0 and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip() or None


_EDGE_SPACE = re.compile(r"^[^\S\n]|[^\S\n]$", re.MULTILINE)
_ASCII_SPACE = " \t\r\x0b\x0c\x1c\x1d\x1e\x1f"   # what str.strip strips of ASCII (\n aside)


def _edge_space(joined: str) -> bool:
    """Whether a value of ``joined`` (values joined by line feeds) starts or
    ends with white space; ASCII text by substring search, else by regex."""
    if not joined.isascii():
        return _EDGE_SPACE.search(joined) is not None
    if joined[:1] in tuple(_ASCII_SPACE) or joined[-1:] in tuple(_ASCII_SPACE):
        return True
    return any(f"{c}\n" in joined or f"\n{c}" in joined for c in _ASCII_SPACE)


@dataclass(frozen=True)
class _Cells:
    """A column's cells as stripped text, each distinct cell looked at once:
    ``uniq`` the distinct texts, ``codes`` each row's position in ``uniq``
    (-1 for an empty or missing cell)."""

    codes: np.ndarray
    uniq: np.ndarray

    @classmethod
    def of(cls, col: pd.Series) -> _Cells:
        codes, uniq = pd.factorize(col, use_na_sentinel=True)
        uniq = np.asarray(uniq, dtype=object)
        joined = "\n".join(uniq) if pd.api.types.infer_dtype(uniq, skipna=False) == "string" else None
        if joined is not None and joined.count("\n") == len(uniq) - 1 and not _edge_space(joined):
            empty = np.flatnonzero(uniq == "")   # text with nothing to strip (one scan of all of it)
            if not len(empty):
                return cls(codes, uniq)
            e = int(empty[0])
            return cls(np.where(codes == e, -1, codes - (codes > e)), np.delete(uniq, e))
        clean = [_cell_text(u) for u in uniq]   # strip; "a " and "a" become one text
        c2, u2 = pd.factorize(pd.Series(clean, dtype=object), use_na_sentinel=True)
        return cls(np.where(codes >= 0, np.append(c2, -1)[codes], -1), np.asarray(u2, dtype=object))

    @property
    def missing(self) -> np.ndarray:
        return self.codes < 0

    def values(self) -> np.ndarray:
        """Each row's text (None when empty)."""
        return np.append(self.uniq, None)[self.codes]

    def rows_where(self, hit: np.ndarray) -> np.ndarray:
        """Rows whose text is one of the distinct texts marked in ``hit``."""
        return ~self.missing & np.append(hit, False)[self.codes]

    def take(self, keep: np.ndarray) -> _Cells:
        return _Cells(self.codes[keep], self.uniq)


def _rows_error(message: str, file: str, column: str, rows: np.ndarray, values: list, hint: str,
                show_values: bool = True) -> DataError:
    n = len(rows)
    return DataError(f"{message} ({n} row{'s' if n != 1 else ''})", file=file, column=column,
                     rows=[int(r) for r in rows[:10]],
                     values=values[:10] if show_values else None, hint=hint)


def _timestamps(raw: pd.Series, rows: np.ndarray, cb: ComplaintCodebook, file: str,
                column: str) -> tuple[pd.Series, np.ndarray, np.ndarray, DataError | None]:
    """Parse a timestamp column (text, or Excel date cells); a cell that is
    neither empty nor a timestamp is an error.  Time zones are converted to
    UTC and dropped.

    Returns the timestamps (NaT where the cell is empty or unreadable), per
    row whether the cell carried a time zone (a UTC offset or ``Z``: the
    caller refuses a log that mixes the two, whose times without an offset
    cannot be put on the same clock), per row whether the cell is empty, and
    the error naming the unreadable cells (None when there are none), for the
    caller to raise in its order of checks."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        is_dt = np.zeros(len(raw), dtype=bool)   # text cells (CSV): no date objects to look for
    else:
        # date cells (NaT, a datetime too, is an empty cell: it goes with the text)
        is_dt = raw.map(lambda v: isinstance(v, (datetime, date)) and not pd.isna(v)).to_numpy(dtype=bool)
    out = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[ns]")
    aware = np.zeros(len(raw), dtype=bool)
    if is_dt.any():
        stamps = pd.Series([pd.Timestamp(v) for v in raw[is_dt]], dtype=object)
        zoned = np.array([v.tzinfo is not None for v in stamps], dtype=bool)
        aware[np.flatnonzero(is_dt)[zoned]] = True
        out[is_dt] = (pd.to_datetime(list(stamps), utc=True).tz_localize(None) if zoned.any()
                      else pd.to_datetime(list(stamps))).to_numpy(dtype="datetime64[ns]")
    txt = np.flatnonzero(~is_dt)
    cells = raw.to_numpy(dtype=object)[txt]
    if pd.api.types.infer_dtype(cells, skipna=False) not in ("string", "empty"):
        cells = np.array([_cell_text(v) or "" for v in cells], dtype=object)
    stamps, zoned = _parse_text(cells, cb.timestamp_format)
    empty = cells == ""
    redo = np.flatnonzero(np.isnat(stamps) & ~empty)   # white space around a stamp the format refuses
    if len(redo):
        stripped = np.array([v.strip() for v in cells[redo]], dtype=object)
        cells[redo] = stripped
        empty[redo] = stripped == ""
        stamps[redo], zoned[redo] = _parse_text(stripped, cb.timestamp_format)
    out[txt], aware[txt] = stamps, zoned
    missing = np.zeros(len(raw), dtype=bool)
    missing[txt] = empty
    bad = np.isnat(out) & ~missing
    problem = None
    if bad.any():
        shown = ("an ISO 8601 date and time, e.g. 2026-01-31 14:05," if cb.timestamp_format is None
                 else f"the timestamp_format {cb.timestamp_format!r}")
        text = np.empty(len(raw), dtype=object)
        text[txt] = cells
        problem = _rows_error(f"timestamps that cannot be read as {shown}", file, column, rows[bad],
                          [_date_like(v) for v in text[bad][:10]], "write dates as 2026-01-31 14:05 or set timestamp_format in the "
                          "codebook (e.g. '%d.%m.%Y %H:%M')")
    return pd.Series(out), aware, missing, problem


def _parse_text(cells: np.ndarray, fmt: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps of text cells (NaT where empty or unreadable), in UTC
    without a zone where a cell has one, and per cell whether it had one."""
    aware = np.zeros(len(cells), dtype=bool)
    if not len(cells):
        return np.empty(0, dtype="datetime64[ns]"), aware
    if fmt is None:
        one = _one_offset(cells)
        if one is not None:
            return one
    fmt = fmt or "ISO8601"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # pandas warns of mixed offsets: handled below
        try:
            parsed = pd.to_datetime(cells, format=fmt, errors="coerce")
        except (ValueError, TypeError):   # mixed time zones, a format pandas refuses
            parsed = None
    if isinstance(getattr(parsed, "dtype", None), pd.DatetimeTZDtype):   # one offset throughout?
        # pandas gives a stamp without an offset the offset of the first stamp
        # that has one (2026-01-02 10:00 after 2026-01-01 10:00+08:00 becomes
        # +08:00): each cell must say so itself, or the log mixes the two
        aware = _zoned(cells)
        if (aware | parsed.isna()).all():
            aware &= parsed.notna()
            parsed = parsed.tz_convert("UTC").tz_localize(None)
        else:
            parsed = None
    if parsed is None or not pd.api.types.is_datetime64_dtype(parsed):
        # offsets differ from cell to cell, or some cells have one and others none
        aware = _zoned(cells)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(cells, format=fmt, errors="coerce", utc=True).tz_localize(None)
    return np.asarray(parsed, dtype="datetime64[ns]").copy(), np.asarray(aware, dtype=bool).copy()


_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


def _one_offset(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The usual export with offsets: every non-empty cell an ISO 8601 time
    ending in one and the same UTC offset (``+08:00``) or ``Z``.  Read as the
    times before it, moved to UTC (pandas' parse of a million stamps with
    offsets takes ten times longer); None for anything else, which
    :func:`_parse_text` reads the general way."""
    text = pd.Series(cells, dtype=object)
    filled = (text != "").to_numpy()
    if not filled.any():
        return None
    for width in (6, 1):
        tails = text[filled].str[-width:].unique()
        if len(tails) == 1 and (tails[0] == "Z" if width == 1 else _OFFSET.fullmatch(tails[0])):
            break
    else:
        return None
    aware = _zoned(cells)
    if not aware[filled].all():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = pd.to_datetime(text.str[:-width].where(filled, ""), format="ISO8601", errors="coerce")
    if not pd.api.types.is_datetime64_dtype(local):   # another offset inside: not this case
        return None
    shift = pd.Timedelta(0)
    if width == 6:
        sign, hours, minutes = _OFFSET.fullmatch(tails[0]).groups()
        shift = (1 if sign == "+" else -1) * pd.Timedelta(hours=int(hours), minutes=int(minutes))
    stamps = (local - shift).to_numpy(dtype="datetime64[ns]").copy()
    return stamps, aware & ~np.isnat(stamps)


#: a timestamp that ends with a time zone: a time, then Z or a UTC offset
_ZONED = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[Zz]|(?:UTC|GMT)?\s*[+-]\d\d(?::?\d\d)?)\s*$")

#: the ASCII digits as one digit: _ZONED gives every text of one shape the same answer
_ONE_DIGIT = bytes.maketrans(b"0123456789", b"9" * 10)


def _zoned(cells: np.ndarray) -> np.ndarray:
    """Per text cell, whether it ends with a time zone (:data:`_ZONED`),
    looked at once per shape (a million stamps have a handful)."""
    joined = "\n".join(cells)
    if joined.count("\n") != len(cells) - 1:   # a cell holds a line feed: look at each
        return np.array([_ZONED.search(c) is not None for c in cells], dtype=bool)
    codes, shapes = pd.factorize(np.array(joined.encode("utf-8").translate(_ONE_DIGIT).split(b"\n"), dtype=object))
    return np.array([_ZONED.search(k.decode("utf-8")) is not None for k in shapes], dtype=bool)[codes]


def _check_zones(aware: np.ndarray, naive: np.ndarray, rows: np.ndarray, file: str,
                 columns: list[str]) -> bool:
    """Whether the log's timestamps carry time zones; refuse a log where some
    do and others do not (times without an offset are on an unknown clock, so
    a resolution time across the two would be off by the offset)."""
    if not aware.any():
        return False
    if naive.any():
        raise _rows_error("timestamps with a time zone (UTC offset) mixed with timestamps without one",
                          file, columns, rows[naive], [],
                          "give every opened and closed timestamp a UTC offset, e.g. 2026-01-31 14:05+08:00, "
                          "or none (all in the same local time)", show_values=False)
    return True


_DATE_LIKE = re.compile(r"[\d\s:./\-+,TZtz]{1,40}|[\d\s:./\-+,]{1,30}\s?(AM|PM|am|pm)")


def _date_like(value: str) -> str:
    """A bad timestamp as shown in an error: the value when it is made of
    digits and date punctuation; otherwise only its length (a name or a
    description in a date column is personal data the masking cannot see)."""
    return value if _DATE_LIKE.fullmatch(value) else f"<text of {len(value)} characters, not a date>"


def _build(frame: pd.DataFrame, rows: np.ndarray, cb: ComplaintCodebook, file: str,
           as_of: Any, header: list[str] | None = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The tickets of ``frame`` (the role columns of the file, or more) and the
    log's as_of; ``header`` is every column name of the file (default: the
    frame's), where a missing role column's close name is looked for."""
    rows = np.asarray(rows)
    wanted = {k: getattr(cb, k) for k in _ROLE_KEYS if getattr(cb, k) is not None}
    missing = [c for c in wanted.values() if c not in frame.columns]
    if missing:
        names = [str(x) for x in (header or frame.columns)]
        close = [difflib.get_close_matches(c, names, n=1) for c in missing]
        hint = "; ".join(f"{c!r}: did you mean {m[0]!r}?" for c, m in zip(missing, close) if m)
        raise DataError("the complaint log lacks columns its codebook names", file=file, column=missing,
                        hint=hint or "check the codebook's *_column keys against the file's header")
    # rows with nothing in the role columns (blank spreadsheet rows) are not tickets
    stamp_keys = ("opened_column", "closed_column")
    cells = {k: _Cells.of(frame[c]) for k, c in wanted.items() if k not in stamp_keys}
    stamps = {k: _timestamps(frame[wanted[k]], rows, cb, file, wanted[k]) for k in stamp_keys}
    blank = np.logical_and.reduce([c.missing for c in cells.values()] + [v[2] for v in stamps.values()])
    if blank.any():
        keep = ~blank
        cells = {k: v.take(keep) for k, v in cells.items()}
        stamps = {k: (v[0][keep].reset_index(drop=True), v[1][keep], v[2][keep], v[3])
                  for k, v in stamps.items()}
        rows = rows[keep]
    if not len(rows):
        raise DataError("the complaint log has no tickets", file=file, hint="export the tickets again")

    ids = cells["id_column"]
    idc = cb.id_column
    if ids.missing.any():
        raise _rows_error("empty ticket ids", file, idc, rows[ids.missing], [], "give every ticket its id",
                          show_values=False)
    why = check_role_column(idc, ids.uniq, declared=cb.pii_columns, role="ticket id", inside_text=False)
    if why:
        raise DataError(f"{why}: ticket ids end up in error messages and must not be personal data",
                        file=file, column=idc, hint="export the system's ticket number as the id")
    if len(ids.uniq) < len(rows):
        dup = np.bincount(ids.codes, minlength=len(ids.uniq))[ids.codes] > 1
        raise _rows_error("ticket ids are repeated", file, idc, rows[dup], list(ids.values()[dup]),
                          "each ticket must appear once: remove the duplicated rows or fix their ids")
    id_text = ids.values()

    opened, opened_zoned, no_open, problem = stamps["opened_column"]
    if problem is not None:
        raise problem
    if no_open.any():
        raise _rows_error("tickets without an opened timestamp", file, cb.opened_column, rows[no_open],
                          list(id_text[no_open]), "every ticket needs the time it was opened")
    closed, closed_zoned, _, problem = stamps["closed_column"]
    if problem is not None:
        raise problem
    zoned = _check_zones(opened_zoned | closed_zoned,
                         ~opened_zoned | (closed.notna().to_numpy() & ~closed_zoned),
                         rows, file, [cb.opened_column, cb.closed_column])
    before = (closed < opened).to_numpy()
    if before.any():
        shown = [f"{a} < {b}" for a, b in zip(closed[before][:10], opened[before][:10])]
        raise _rows_error("tickets closed before they were opened", file, cb.closed_column, rows[before],
                          shown, "check the two timestamps of those tickets (swapped columns? time zones?)")

    category = cells["category_column"]
    if category.missing.any():
        raise _rows_error("tickets without a category", file, cb.category_column, rows[category.missing], [],
                          "give every ticket a category (e.g. 'other')", show_values=False)
    if cb.categories:
        unknown = ~np.isin(category.uniq, list(cb.categories))
        if unknown.any():
            raise _rows_error("category codes the codebook does not list", file, cb.category_column,
                              rows[category.rows_where(unknown)], list(category.uniq[unknown]),
                              f"use one of {', '.join(map(repr, cb.categories))} or add the code to categories:")
    for key in ("category_column", "subcategory_column", "channel_column", "status_column"):
        if key in cells:
            why = check_role_column(wanted[key], cells[key].uniq, declared=cb.pii_columns,
                                    role=key.replace("_column", ""))
            if why:
                raise DataError(f"{why}: its values are shown in tables", file=file, column=wanted[key],
                                hint="export the code of the category, channel or status, not free text")

    reopened = np.full(len(rows), np.nan)
    if "reopened_column" in cells:
        flags = cells["reopened_column"]
        low = [u.lower() for u in flags.uniq]
        yes = np.array([u in _TRUE for u in low], dtype=bool)
        no = np.array([u in _FALSE for u in low], dtype=bool)
        bad = ~yes & ~no
        if bad.any():
            raise _rows_error("reopened flags that are not yes/no", file, cb.reopened_column,
                              rows[flags.rows_where(bad)], list(flags.uniq[bad]),
                              "write 1/0, true/false or yes/no (empty = unknown)")
        reopened = np.append(np.where(yes, 1.0, 0.0), np.nan)[flags.codes]

    latest = max(opened.max(), closed.max()) if closed.notna().any() else opened.max()
    when = latest if as_of is None else _as_of(as_of, zoned, file)
    inside = (opened <= when).to_numpy()
    if not inside.any():
        raise DataError(f"no ticket was opened on or before as_of {when}", file=file,
                        hint="pass a later as_of, or leave it out to use the log's latest timestamp")
    closed, is_closed, hours = censor(opened, closed, when)

    salt = secrets.token_hex(8)   # 16 characters: the SipHash key
    index = opened.index
    customer = (_hash_cells(cells["customer_id_column"], salt, index) if "customer_id_column" in cells
                else pd.Series(pd.NA, index=index, dtype="UInt64", name="customer"))
    none = np.full(len(rows), None, dtype=object)
    category_text = category.values()
    out = pd.DataFrame({
        "ticket": id_text,
        "opened": opened, "closed": closed,
        "category": category_text,
        "subcategory": cells["subcategory_column"].values() if "subcategory_column" in cells else none,
        "channel": cells["channel_column"].values() if "channel_column" in cells else none,
        "status": cells["status_column"].values() if "status_column" in cells else none,
        "reopened": reopened,
        "customer": customer,
        "is_closed": is_closed,
        "hours": hours,
        "sla_hours": _sla_per_ticket(cb, category),
    }, index=index)
    if not inside.all():
        out = out.loc[inside].reset_index(drop=True)
    out.attrs["salt"] = salt
    return out, pd.Timestamp(when)


def censor(opened: pd.Series, closed: pd.Series, as_of: pd.Timestamp) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Tickets as they stood at ``as_of``: one closed after it is open then,
    and an open ticket's time to resolution is censored there.

    Returns
    -------
    tuple
        ``closed`` (NaT where open as of then), ``is_closed`` (bool array) and
        ``hours`` (opened to closed, or to ``as_of``; float array).
    """
    closed = closed.where(closed <= as_of)
    is_closed = closed.notna().to_numpy()
    hours = (closed.fillna(as_of) - opened).dt.total_seconds().to_numpy() / 3600.0
    return closed, is_closed, hours


def _as_of(as_of: Any, zoned: bool, file: str) -> pd.Timestamp:
    """The caller's ``as_of`` on the log's clock: UTC without a zone when the
    log's timestamps carry zones (then ``as_of`` must carry one too), else as
    given (then it must carry none)."""
    try:
        when = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        when = pd.NaT
    if pd.isna(when):
        raise DataError(f"as_of is not a date and time: {as_of!r}", hint="pass e.g. as_of='2026-03-31 23:59'")
    if (when.tzinfo is not None) != zoned:
        raise DataError(f"as_of {as_of!r} " + ("has no time zone but the log's timestamps have one" if zoned
                                               else "has a time zone but the log's timestamps have none"),
                        file=file, hint="give as_of " + ("with a UTC offset, e.g. '2026-03-31 23:59+08:00'"
                                                         if zoned else "without one, in the log's local time"))
    return when.tz_convert("UTC").tz_localize(None) if zoned else when


def _sla_per_ticket(cb: ComplaintCodebook, category: _Cells) -> np.ndarray:
    n = len(category.codes)
    if cb.sla_hours is None:
        return np.full(n, np.nan)
    if isinstance(cb.sla_hours, dict):
        per = np.array([cb.sla_hours.get(u, np.nan) for u in category.uniq], dtype=float)
        return np.append(per, np.nan)[category.codes]
    return np.full(n, float(cb.sla_hours))

