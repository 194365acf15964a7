"""Reading and validating survey data against an instrument.

:func:`read_survey` reads a CSV, Qualtrics CSV, Excel, SPSS or Stata export,
drops personal-data columns first, checks every answer against the
instrument (numeric, whole numbers on Likert items, inside the scale), sets
missing codes to NaN, reverse-codes, and returns a :class:`Survey`: a clean
numeric frame together with the instrument and a record of where the data
came from (:class:`Provenance`: the file's SHA-256, rows read, rows dropped
and why).

Rows are numbered as the user sees them: 1 = the first data row below the
header (the first response below the three Qualtrics header rows).  The
frame's index holds these numbers, so a row can always be traced back to
the file.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, DataWarning
from .instrument import Instrument
from ..privacy import detect_personal_columns, mask_value, quote
from .readers import FORMATS, RawTable, detect_format, read_raw

__all__ = ["Survey", "Provenance", "check_sheet", "read_survey"]

#: Cells read as "no answer" in text files (besides the instrument's missing codes).
NA_STRINGS = frozenset({"", "NA", "N/A", "NaN", "nan", "."})

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ROWS_NOTE = "(rows are data rows: 1 = the first row below the header)"


@dataclass(frozen=True)
class Provenance:
    """Where a Survey's data came from and what loading did to them.

    Attributes
    ----------
    path : str
        The file read.
    format : str
        ``csv``, ``qualtrics``, ``excel``, ``spss`` or ``stata``.
    sha256 : str
        SHA-256 of the file's bytes (hex).
    rows_read : int
        Data rows in the file.
    rows_kept : int
        Rows in the Survey.
    dropped_rows : tuple of (int, str)
        Rows dropped at load and why; see :attr:`dropped`.
    pii_dropped : tuple of str
        Personal-data columns found in the file and dropped: those the
        instrument declares (``pii_columns``), then those found by
        :mod:`csmlib.privacy` from their name or content.
    pii_detected : tuple of (str, str)
        The undeclared ones among them, with the kind of data
        (``("contact", "e-mail addresses (by content)")``); names only,
        never a value.
    missing_codes_applied : int
        Item cells set to NaN because they held a missing code (the
        instrument's codes or the file's declared user-missing values).
    reverse_coded : tuple of str
        Items reverse-coded at load.
    ignored_columns : tuple of str
        Other columns of the file that are not in the instrument (not kept).
    sheet, encoding : str or None
        As passed to :func:`read_survey`.
    notes : tuple of str
        What happened since loading (subsets, replaced data).
    load_notes : tuple of str
        The warnings reading the file gave (``DataWarning`` texts: columns
        dropped as personal data, items nobody answered, SPSS missing codes
        kept as answers, answers using a small part of the scale), kept so
        that a report can show them (names and counts only, never a value).
    """

    path: str
    format: str
    sha256: str
    rows_read: int
    rows_kept: int
    dropped_rows: tuple[tuple[int, str], ...] = ()
    pii_dropped: tuple[str, ...] = ()
    pii_detected: tuple[tuple[str, str], ...] = ()
    missing_codes_applied: int = 0
    reverse_coded: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    sheet: str | int | None = None
    encoding: str | None = None
    notes: tuple[str, ...] = ()
    load_notes: tuple[str, ...] = ()

    @property
    def dropped(self) -> pd.DataFrame:
        """Rows dropped at load.

        Returns
        -------
        DataFrame
            Columns ``row`` (int, 1-based data row in the file) and ``reason`` (str).
        """
        return pd.DataFrame({"row": pd.Series([r for r, _ in self.dropped_rows], dtype="int64"),
                             "reason": pd.Series([w for _, w in self.dropped_rows], dtype=object)})

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable record of the provenance."""
        return {
            "path": self.path, "format": self.format, "sha256": self.sha256,
            "rows_read": self.rows_read, "rows_kept": self.rows_kept,
            "dropped": [{"row": r, "reason": w} for r, w in self.dropped_rows],
            "pii_dropped": list(self.pii_dropped),
            "pii_detected": [{"column": c, "kind": k} for c, k in self.pii_detected],
            "missing_codes_applied": self.missing_codes_applied,
            "reverse_coded": list(self.reverse_coded),
            "ignored_columns": list(self.ignored_columns),
            "sheet": self.sheet, "encoding": self.encoding, "notes": list(self.notes),
            "load_notes": list(self.load_notes),
        }


@dataclass(frozen=True, eq=False)
class Survey:
    """Survey answers validated against an instrument.

    Create it with :func:`read_survey`.  Item columns are float64 (NaN =
    no answer), reverse-coded items are already reversed; the index holds
    the 1-based data row of each respondent in the file.

    Attributes
    ----------
    instrument : Instrument
    provenance : Provenance
    variable_labels : dict
        ``{column: label}`` as given by the file (SPSS/Stata variable labels,
        Qualtrics question texts), for the kept columns only.
    value_labels : dict
        ``{column: {code: label}}`` as given by the file, for the kept
        columns; for reverse-coded items the codes are reversed too.
    """

    _data: pd.DataFrame = field(repr=False)
    instrument: Instrument = field(repr=False)
    provenance: Provenance
    variable_labels: dict[str, str] = field(default_factory=dict, repr=False)
    value_labels: dict[str, dict] = field(default_factory=dict, repr=False)
    _texts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def texts(self) -> pd.DataFrame:
        """The answers to the instrument's text items (open-ended questions),
        a copy: one column per text item (str; NaN = no answer), indexed like
        :attr:`data`.  Free text may hold personal data: quote it only
        through :func:`csmlib.analysis.feedback.quotable`."""
        if self._texts is None:
            return pd.DataFrame(index=self._data.index)
        return self._texts.copy()

    @property
    def data(self) -> pd.DataFrame:
        """All kept columns (id, wave, segments, weight, items), a copy."""
        return self._data.copy()

    @property
    def item_names(self) -> list[str]:
        return [c for c in self.instrument.item_names if c in self._data.columns]

    @property
    def items(self) -> pd.DataFrame:
        """Item columns only (float64), a copy."""
        return self._data[self.item_names].copy()

    @property
    def n(self) -> int:
        """Number of respondents."""
        return len(self._data)

    @property
    def scale_limits(self) -> pd.DataFrame:
        """Theoretical scale limits: index ``item``, columns ``min``, ``max``."""
        return self.instrument.scale_limits

    @property
    def weights(self) -> pd.Series | None:
        """The weight column, or None when the instrument declares none."""
        col = self.instrument.weight_column
        return None if col is None else self._data[col].copy()

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        p = self.provenance
        return (f"Survey({self.instrument.name!r}: {self.n} respondents x {len(self.item_names)} items "
                f"from {Path(p.path).name} [{p.format}], {len(p.dropped_rows)} rows dropped)")

    def subset(self, mask: Any, *, note: str | None = None) -> Survey:
        """The respondents selected by a boolean ``mask``.

        Parameters
        ----------
        mask : boolean Series (aligned on the index) or array of length :attr:`n`
        note : str, optional
            Description recorded in the provenance (default: the count).

        Returns
        -------
        Survey
        """
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self._data.index):
                if not mask.index.isin(self._data.index).all() or len(mask) != self.n:
                    raise DataError("the subset mask is not aligned with the survey's rows",
                                    hint="build the mask from survey.data, e.g. survey.data['region'] == 'north'")
                mask = mask.reindex(self._data.index)
            values = mask.to_numpy()
        else:
            values = np.asarray(mask)
        if values.shape != (self.n,) or values.dtype != bool:
            raise DataError(f"the subset mask must be {self.n} True/False values, got shape {values.shape} "
                            f"of dtype {values.dtype}",
                            hint="pass a boolean Series or array with one entry per respondent")
        data = self._data.loc[values]
        note = note or f"subset: {int(values.sum())} of {self.n} rows"
        prov = replace(self.provenance, rows_kept=len(data), notes=self.provenance.notes + (note,))
        texts = None if self._texts is None else self._texts.loc[values].copy()
        return replace(self, _data=data.copy(), provenance=prov, _texts=texts)

    def segment(self, value: Any, *, column: str | None = None) -> Survey:
        """The respondents of one segment.

        Parameters
        ----------
        value
            The segment value (e.g. ``"north"``).
        column : str, optional
            The segment column; may be omitted when the instrument declares exactly one.

        Returns
        -------
        Survey
        """
        segs = list(self.instrument.segment_columns)
        if column is None:
            if len(segs) != 1:
                raise DataError(f"the instrument declares {len(segs)} segment columns; say which one",
                                hint=f"pass column= one of {segs}" if segs else
                                "declare segment_columns in the instrument")
            column = segs[0]
        if column not in self._data.columns:
            raise DataError(f"no column {column!r} in the survey", column=column,
                            hint=f"segment columns are: {segs}")
        col = self._data[column]
        mask = (col == value).fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            present = sorted(map(str, col.dropna().unique()))
            raise DataError(f"no respondent has {column} == {quote(value, column=column)}", column=column,
                            hint=f"values present: {', '.join(quote(v, column=column) for v in present[:20])}")
        return self.subset(mask, note=f"segment: {column} == {quote(value, column=column)}")

    def segments(self, column: str | None = None) -> dict[Any, Survey]:
        """``{value: Survey}`` for every value of a segment column."""
        segs = list(self.instrument.segment_columns)
        column = column if column is not None else (segs[0] if len(segs) == 1 else None)
        if column is None or column not in self._data.columns:
            raise DataError("say which segment column", hint=f"pass column= one of {segs}")
        return {v: self.segment(v, column=column) for v in self._data[column].dropna().unique()}

    def with_data(self, data: pd.DataFrame, *, note: str = "data replaced") -> Survey:
        """A Survey with the same instrument and provenance but new data.

        Parameters
        ----------
        data : DataFrame
            Must hold every item column of this Survey, numeric.
        note : str
            Recorded in the provenance.

        Returns
        -------
        Survey
        """
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"with_data needs a DataFrame, got {type(data).__name__}")
        missing = [c for c in self.item_names if c not in data.columns]
        if missing:
            raise DataError("the new data lack item columns", column=missing,
                            hint="keep every item column of the survey")
        bad = [c for c in self.item_names if not pd.api.types.is_numeric_dtype(data[c])]
        if bad:
            raise DataError("item columns must be numeric", column=bad,
                            hint="convert the answers to numbers (NaN for no answer)")
        prov = replace(self.provenance, rows_kept=len(data), notes=self.provenance.notes + (note,))
        texts = None if self._texts is None else self._texts.reindex(data.index)
        return replace(self, _data=data.copy(), provenance=prov, _texts=texts)


# ------------------------------------------------------------------ read
def read_survey(path: str | Path, instrument: Instrument, *, sheet: str | int | None = None,
                encoding: str | None = None, format: str | None = None) -> Survey:  # noqa: A002
    """Read a survey export and validate it against ``instrument``.

    Parameters
    ----------
    path : str or Path
        CSV (``.csv``, ``.txt``, ``.tsv``; Qualtrics exports are detected
        from their three header rows), Excel ``.xlsx``, SPSS ``.sav`` or
        Stata ``.dta``.
    instrument : Instrument
        The codebook the file follows.
    sheet : str or int, optional
        Excel sheet name or 0-based number (default: the first sheet); a
        sheet given for a file of another format is a DataError.
    encoding : str, optional
        Text encoding of a CSV (default UTF-8, with or without BOM) or of an
        SPSS/Stata file's strings.
    format : {"csv", "qualtrics", "excel", "spss", "stata"}, optional
        Overrides detection from the extension.

    Returns
    -------
    Survey
        ``.data`` holds, in this order, the id, wave, segment, weight and
        date columns the instrument declares, then every item column (float64,
        missing codes as NaN, reverse-coded items reversed).  The date column
        (when each respondent answered) is datetime64: timestamps with a UTC
        offset are converted to UTC (without a zone), as complaint logs'
        are; an empty cell is NaT.

    Raises
    ------
    DataError
        For a missing, empty or unreadable file, missing columns, answers
        that are not numbers, not whole numbers on a Likert item or outside
        the item's scale, missing or duplicate respondent ids, bad weights,
        answer dates that cannot be read (or some with a UTC offset and some
        without),
        Excel formula cells without a stored result (sheet and cell named).
        Each error lists every problem of its kind with column, rows and values.
        When a declared ``encoding`` makes the file fail or lose declared
        columns and the file is UTF-8 text whose header has them, the error
        says that the declared encoding is probably wrong.

    Warns
    -----
    DataWarning
        Undeclared personal-data columns dropped; items nobody answered; SPSS
        user-missing codes that are answers on the item's scale (kept as
        answers: the instrument is the authority); answers that stay in the
        lower part of a declared scale (a shorter scale coded?).

    Notes
    -----
    In id, wave and segment columns only an empty cell is missing, or a text
    the instrument lists in ``missing_texts``; ``NA``, ``None``, ``null`` are
    values.  ``provenance.sha256`` is the hash of the bytes read, which are
    read once.
    """
    if not isinstance(instrument, Instrument):
        raise DataError(f"read_survey needs an Instrument, got {type(instrument).__name__}",
                        hint="load one with csm.Instrument.from_yaml(path)")
    path = Path(path)
    if not path.exists():
        raise DataError("survey file not found", file=str(path),
                        hint="check the path (relative paths are relative to the working directory)")
    if not path.is_file():
        raise DataError("the survey path is not a file", file=str(path), hint="give the path of the export file")
    raw = path.read_bytes()
    if format is not None and format not in FORMATS:
        raise DataError(f"unknown format {format!r}", file=str(path), hint=f"use one of {FORMATS}")
    fmt = format or detect_format(path, raw)
    check_sheet(path, fmt, sheet)
    columns: list[str] = []   # the header as read, for a wrong declared encoding
    try:
        table = read_raw(path, raw, fmt, sheet=sheet, encoding=encoding)
        columns = list(table.frame.columns)
        survey = _build(table, instrument, path=str(path), sha256=hashlib.sha256(raw).hexdigest(),
                        sheet=sheet, encoding=encoding)
    except DataError as exc:
        better = _wrong_encoding(exc, path, raw, fmt, encoding, instrument, columns)
        if better is None:
            raise
        raise better from None
    garbled = _garbled_utf8(path, raw, fmt, encoding)
    if garbled is not None:
        raise garbled
    return survey


def _garbled_utf8(path: Path, raw: bytes, fmt: str, encoding: str | None) -> DataError | None:
    """The error for a UTF-8 text file read without a fault in another declared
    ``encoding`` (latin-1 and the other codecs that accept every byte): its
    header was ASCII, so every column was found, but its non-ASCII text
    (segment values, free-text answers) was read as mojibake (华北 as
    'åŽåŒ—').  A file whose non-ASCII bytes all form UTF-8 sequences is
    UTF-8: text in a single-byte encoding almost never does.  None otherwise."""
    if fmt not in ("csv", "qualtrics") or encoding is None or raw.isascii():
        return None
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return DataError(
        f"the declared encoding {encoding!r} is probably wrong: the file is UTF-8 text (every non-ASCII "
        f"character in it is a UTF-8 sequence), so read as {encoding} its text -- segment values, open "
        "answers -- would be garbled (华北 read as 'åŽåŒ—')",
        file=str(path),
        hint=f"remove encoding: {encoding} (UTF-8 is the default), or declare encoding: utf-8")


def _declared_columns(inst: Instrument) -> list[str]:
    """The columns ``inst`` requires in a file: roles (id, wave, segment, weight), items, text items."""
    roles = inst.role_columns
    return roles["id"] + roles["wave"] + roles["segment"] + roles["weight"] + inst.item_names + inst.text_names


def _wrong_encoding(exc: DataError, path: Path, raw: bytes, fmt: str, encoding: str | None,
                    inst: Instrument, columns: list[str]) -> DataError | None:
    """The error to give instead of ``exc`` when the declared text
    ``encoding`` is probably wrong: the file is UTF-8 (with non-ASCII bytes),
    read as ``encoding`` it failed or lacked columns the instrument declares
    (``columns`` are those it had), and read as UTF-8 it has them all.
    None when that is not so (``exc`` stands)."""
    if fmt not in ("csv", "qualtrics") or encoding is None or raw.isascii():
        return None
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return None
    declared = _declared_columns(inst)
    missing = [c for c in declared if c not in columns]
    if not missing:
        return None
    try:
        raw.decode("utf-8-sig")
        as_utf8 = read_raw(path, raw, fmt, encoding=None)
    except (UnicodeDecodeError, DataError):
        return None
    if any(c not in as_utf8.frame.columns for c in missing):
        return None
    first = exc.message.splitlines()[0]
    return DataError(
        f"the declared encoding {encoding!r} is probably wrong: read as {encoding}, the file fails "
        f"({first}); but it is UTF-8 text, and read as UTF-8 its header has the column(s) the "
        "instrument declares",
        file=str(path), column=missing,
        hint=f"remove encoding: {encoding} (UTF-8 is the default), or declare encoding: utf-8")


def check_sheet(path: str | Path, fmt: str, sheet: str | int | None, *, key: str = "sheet") -> None:
    """Refuse an Excel ``sheet`` for a file of another format ``fmt``.

    A sheet given for a CSV (or SPSS/Stata) file was ignored, so a study
    file that meant another file, or another sheet, read the wrong answers
    without a word.

    Raises
    ------
    DataError
        ``sheet`` is given and ``fmt`` is not ``"excel"``; names the file,
        the ``key`` and the sheet.
    """
    if sheet is not None and fmt != "excel":
        raise DataError(f"{key}: a sheet applies only to Excel files, but this file is read as {fmt}",
                        file=str(path), values=[sheet],
                        hint="remove the sheet, or give the Excel workbook (.xlsx) that has the sheet")


def _build(table: RawTable, inst: Instrument, *, path: str, sha256: str, sheet: Any,
           encoding: str | None) -> Survey:
    frame = table.frame
    # rows with nothing at all in them (",,,,," lines, blank spreadsheet rows) are not respondents
    empty = (frame.apply(_is_blank).all(axis=1).to_numpy(dtype=bool) if len(frame.columns)
             else np.zeros(len(frame), bool))
    # 1. personal data goes first, before anything else can keep it: the
    # declared columns, then undeclared ones that look personal by name or content
    pii = [c for c in inst.pii_columns if c in frame.columns]
    frame = frame.drop(columns=pii)
    roles = inst.role_columns
    keep_roles = roles["id"] + roles["wave"] + roles["segment"] + roles["weight"] + roles["date"]
    items = inst.item_names
    text_names = inst.text_names
    wanted = keep_roles + items
    detected = _personal_columns(frame, keep_roles, items + text_names, path)
    load_notes: list[str] = []   # the warnings given, kept in the provenance for reports
    if detected:
        frame = frame.drop(columns=list(detected))
        pii += list(detected)
        load_notes.append(
            f"{len(detected)} column(s) not declared as personal data look like personal data and "
            f"were dropped at load: {', '.join(f'{c!r} ({k})' for c, k in detected.items())}; "
            f"declare them in the instrument's pii_columns")
        warnings.warn(DataWarning(f"{load_notes[-1]} ({path})"), stacklevel=3)
    ignored = [c for c in frame.columns if c not in wanted + text_names]
    texts = frame[[c for c in text_names if c in frame.columns]]
    frame = frame[[c for c in wanted if c in frame.columns]]
    variable_labels = {k: v for k, v in table.variable_labels.items() if k in wanted}
    value_labels = {k: v for k, v in table.value_labels.items() if k in wanted}
    table.frame = frame.iloc[:0]  # the raw table (with personal data) is not kept anywhere

    # 2. every declared column present
    missing = [c for c in wanted if c not in frame.columns] + [c for c in text_names if c not in texts.columns]
    if missing:
        close = {c: difflib.get_close_matches(c, ignored, n=1) for c in missing}
        sugg = [f"{c!r} -> {m[0]!r}?" for c, m in close.items() if m]
        raise DataError(f"{len(missing)} column(s) the instrument declares are not in the file", file=path,
                        column=missing,
                        hint=("rename the columns in the file or the instrument"
                              + (f" (similar columns in the file: {', '.join(sugg)})" if sugg else "")))

    rows = np.asarray(table.rows)
    dropped = list(table.dropped)
    if empty.any():
        dropped += [(int(r), "empty row (no value in any column)") for r in rows[empty]]
        frame, rows, texts = frame.loc[~empty], rows[~empty], texts.loc[~empty]
    dropped.sort()
    frame = frame.reset_index(drop=True)
    texts = pd.DataFrame({c: _text_answers(texts[c]) for c in text_names}, index=pd.Index(rows, name="row"))
    if len(frame) == 0:
        why = ("the file has a header but no data rows" if table.rows_read == 0
               else f"no respondent is left: all {table.rows_read} data rows were dropped")
        raise DataError(why, file=path, hint="check that this is the right export (and, for Qualtrics, "
                                             "that it holds finished, non-preview responses)")

    # 4. answers: numeric, no missing codes left, whole numbers, inside the scale
    out: dict[str, pd.Series] = {}
    problems: list[str] = []
    bad_cols: list[str] = []
    bad_rows: set[int] = set()
    bad_values: list[Any] = []
    hints: list[str] = []
    n_missing_codes = 0
    notes: list[str] = []   # warnings, given once the file has loaded
    answered: dict[str, np.ndarray] = {}

    def report(col: str, what: str, mask: np.ndarray, values: np.ndarray, hint: str) -> None:
        r = rows[mask]
        v = list(dict.fromkeys(mask_value(_show(x)) for x in values[mask]))
        shown = ", ".join(map(str, r[:10])) + (f", ... ({len(r) - 10} more)" if len(r) > 10 else "")
        problems.append(f"{col}: {len(r)} {what} in row(s) {shown}: "
                        f"{', '.join(quote(x, column=col) for x in v[:10])}")
        bad_cols.append(col)
        bad_rows.update(int(x) for x in r)
        bad_values.extend(v)
        hints.append(hint)

    for name in items:
        item = inst.item(name)
        raw_col = frame[name]
        values, not_number = _to_numbers(raw_col)
        if not_number.any():
            report(name, "answer(s) that are not numbers", not_number, raw_col.to_numpy(dtype=object),
                   "answers must be numeric codes: export codes rather than answer texts, and mark "
                   "no answer with an empty cell or a missing code declared in the instrument")
        lo, hi = item.scale
        declared = _declared_missing(values, table.user_missing.get(name, ()))
        if declared.any():
            # the instrument is the authority: a code the file declares missing
            # but that is an answer on the item's scale stays an answer
            valid = declared & (values >= lo) & (values <= hi)
            if valid.any():
                codes_kept = sorted({_show(v) for v in values[valid]})
                notes.append(
                    f"{name}: the file declares {', '.join(map(str, codes_kept))} user-missing, but the "
                    f"instrument's scale [{lo}, {hi}] makes it a valid answer; {int(valid.sum())} answer(s) "
                    "kept (if these are really non-answers, the instrument's scale is wrong)")
            n_missing_codes += int((declared & ~valid).sum())
            values = np.where(declared & ~valid, np.nan, values)
        codes = inst.item_missing_codes(name)
        if codes:
            is_code = np.isin(values, np.asarray(codes, dtype=float))
            n_missing_codes += int(is_code.sum())
            values = np.where(is_code, np.nan, values)
        finite = ~np.isnan(values)
        if not item.continuous:
            frac = finite & (values != np.round(values))
            if frac.any():
                report(name, "answer(s) that are not whole numbers", frac, values,
                       f"{name} is a Likert item with whole-number answers; fix the values, or declare "
                       "continuous: true for the item in the instrument if fractions are valid")
                finite &= ~frac
        outside = finite & ((values < lo) | (values > hi))
        if outside.any():
            report(name, f"answer(s) outside the scale [{lo}, {hi}]", outside, values,
                   "fix the values, declare them as missing_codes of the item, or correct the "
                   "item's scale in the instrument")
        if bad_cols and bad_cols[-1] == name:
            continue
        answered[name] = values   # as answered (before reverse coding), for the range check
        if item.reverse:
            values = lo + hi - values
        out[name] = pd.Series(values, dtype="float64")

    weight = inst.weight_column
    if weight is not None:
        values, not_number = _to_numbers(frame[weight])
        if not_number.any():
            report(weight, "weight(s) that are not numbers", not_number, frame[weight].to_numpy(dtype=object),
                   "weights must be non-negative numbers")
        else:
            bad = np.isnan(values) | (values < 0)
            if bad.any():
                report(weight, "missing or negative weight(s)", bad, values,
                       "every respondent needs a non-negative weight")
            out[weight] = pd.Series(values, dtype="float64")

    date = inst.date_column
    if date is not None:
        stamps, unreadable, mixed = _to_timestamps(frame[date])
        if unreadable.any():
            report(date, "date(s) that cannot be read", unreadable, frame[date].to_numpy(dtype=object),
                   "write when each respondent answered as an ISO date (2026-03-31) or date and time "
                   "(2026-03-31 14:05) between 1677-09-22 and 2262-04-11, or leave the cell empty")
        elif mixed.any():
            report(date, "date(s) with a UTC offset beside dates without one", mixed,
                   frame[date].to_numpy(dtype=object),
                   "give every date a UTC offset (2026-03-31 14:05+08:00) or none (all in one local time)")
        else:
            out[date] = stamps

    if problems:
        cols = list(dict.fromkeys(bad_cols))
        raise DataError(f"{len(cols)} column(s) hold invalid values {_ROWS_NOTE}:\n    "
                        + "\n    ".join(problems), file=path, column=cols, rows=sorted(bad_rows),
                        values=bad_values, hint="; ".join(dict.fromkeys(hints)))

    # 5. respondent ids: present and unique
    for role in ("id", "wave", "segment"):
        for col in roles[role]:
            raw_col = frame[col]
            ranges = table.user_missing.get(col, ())
            if ranges:
                raw_col = raw_col.where(~_declared_missing(raw_col.to_numpy(dtype=object), ranges))
            out[col] = _tidy_labels(raw_col, inst.missing_texts)
    if inst.id_column is not None:
        ids = out[inst.id_column]
        absent = ids.isna().to_numpy()
        if absent.any():
            raise DataError(f"{int(absent.sum())} respondent(s) have no id {_ROWS_NOTE}", file=path,
                            column=inst.id_column, rows=rows[absent].tolist(),
                            hint="give every respondent an id, or drop the id_column from the instrument")
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataError(f"respondent ids are not unique: {len(set(ids[dup]))} id(s) appear more than "
                            f"once {_ROWS_NOTE}", file=path, column=inst.id_column,
                            rows=rows[dup].tolist(), values=list(dict.fromkeys(ids[dup].tolist())),
                            hint="remove duplicated responses (or fix the ids) before loading")

    data = pd.DataFrame({c: out[c] for c in wanted})
    data.index = pd.Index(rows, name="row")
    empty_items = [c for c in items if data[c].isna().all()]
    if empty_items:
        where = {c: k for k, cols in inst.construct_items.items() for c in cols}
        blocks = sorted({where[c] for c in empty_items if c in where
                         and all(i in empty_items for i in inst.construct_items[where[c]])})
        load_notes.append(
            f"{len(empty_items)} item(s) have no answer at all: {', '.join(empty_items)}"
            + (f"; construct(s) {', '.join(blocks)} cannot be estimated from this file" if blocks else "")
            + "; check the export (or the missing codes), or leave them out of the model")
        warnings.warn(DataWarning(f"{load_notes[-1]} ({path})"), stacklevel=3)
    notes += _narrow_ranges(answered, inst)
    for note in notes:
        load_notes.append(note)
        warnings.warn(DataWarning(f"{note} ({path})"), stacklevel=3)
    value_labels = {k: _reverse_labels(v, inst.item(k)) if k in items and inst.item(k).reverse else dict(v)
                    for k, v in value_labels.items()}
    prov = Provenance(
        path=path, format=table.format, sha256=sha256, rows_read=table.rows_read, rows_kept=len(data),
        dropped_rows=tuple(dropped), pii_dropped=tuple(pii),
        pii_detected=tuple(detected.items()), missing_codes_applied=n_missing_codes,
        reverse_coded=tuple(inst.reverse_items), ignored_columns=tuple(ignored), sheet=sheet,
        encoding=encoding, load_notes=tuple(load_notes))
    return Survey(_data=data, instrument=inst, provenance=prov, variable_labels=variable_labels,
                  value_labels=value_labels, _texts=texts if text_names else None)


# --------------------------------------------------------------- helpers
def _personal_columns(frame: pd.DataFrame, roles: list[str], items: list[str], path: str) -> dict[str, str]:
    """Undeclared personal-data columns to drop; a role column holding them is an error."""
    role_hits = detect_personal_columns(frame, [c for c in roles if c in frame])
    if role_hits:
        col, kind = next(iter(role_hits.items()))
        kind, _, how = kind.partition(" (")
        said = "is named like a column of" if how.startswith("by column name") else "holds"
        raise DataError(f"the column {col!r}, which the instrument uses as respondent id, wave, segment or "
                        f"weight, {said} {kind}: personal data must not be kept",
                        file=path, column=list(role_hits),
                        hint="replace it with a pseudonymous code (e.g. a running number) in the export, "
                             "and declare the original column in pii_columns")
    others = [c for c in frame.columns if c not in roles and c not in items]
    return detect_personal_columns(frame, others)


def _text_answers(col: pd.Series) -> np.ndarray:
    """A text item's cells as str (numbers as written), blank cells as NaN."""
    out = []
    for v in col.to_numpy(dtype=object):
        if _is_missing_scalar(v):
            out.append(np.nan)
            continue
        t = _show(v) if isinstance(v, float) else v
        t = str(t)
        out.append(t if t.strip() else np.nan)
    return np.asarray(out, dtype=object)


def _is_missing_scalar(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _parse_cell(v: Any) -> tuple[float, bool, bool]:
    """``(value, blank, not_a_number)`` of one cell as read."""
    if _is_missing_scalar(v):
        return np.nan, True, False
    if isinstance(v, (bool, np.bool_)):
        return np.nan, False, True
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        return (x, False, False) if math.isfinite(x) else (np.nan, False, True)
    if isinstance(v, str):
        t = v.strip()
        if t in NA_STRINGS:
            return np.nan, True, False
        if _NUMBER.fullmatch(t):
            return float(t), False, False
    return np.nan, False, True


def _parse_column(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, blank mask and not-a-number mask, parsing each distinct cell once."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed = [_parse_cell(v) for v in np.asarray(uniques, dtype=object)] + [(np.nan, True, False)]
    table = np.array([p[0] for p in parsed], dtype="float64")
    blank = np.array([p[1] for p in parsed], dtype=bool)
    bad = np.array([p[2] for p in parsed], dtype=bool)
    return table[codes], blank[codes], bad[codes]  # code -1 (missing) picks the last entry


def _is_blank(col: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.isna()
    return pd.Series(_parse_column(col)[1], index=col.index)


def _to_numbers(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN = empty) and a mask of cells that are not numbers."""
    if pd.api.types.is_bool_dtype(col):
        return np.full(len(col), np.nan), np.ones(len(col), bool)
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        return values, np.isinf(values)
    values, _, bad = _parse_column(col)
    return values, bad


#: a text answer date: ISO 8601 day, optionally a time and a UTC offset
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _to_timestamps(col: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Answer dates: timestamps (NaT = empty; with a UTC offset: in UTC, no
    zone), a mask of cells that are not dates (numbers are not dates), and a
    mask of the cells on the minority side when some carry an offset and
    some do not."""
    values = col.to_numpy(dtype=object)
    stamps = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad = np.zeros(len(values), bool)
    zoned = np.zeros(len(values), bool)
    given = np.zeros(len(values), bool)
    for i, v in enumerate(values):
        if _is_missing_scalar(v) or v is pd.NaT or (isinstance(v, str) and not v.strip()):
            continue
        given[i] = True
        if isinstance(v, (int, float, np.number, bool)) or (isinstance(v, str) and not _ISO_DATE.match(v.strip())):
            t = pd.NaT   # a number is no date; a text date must be ISO (03/04/2026 is March or April)
        else:
            try:
                t = pd.Timestamp(v.strip() if isinstance(v, str) else v)
            except (ValueError, TypeError, OverflowError):
                t = pd.NaT
        if not pd.isna(t):
            t = t.tz_convert("UTC") if t.tzinfo is not None else t
            # (outside the nanosecond range, a placeholder such as 0001-01-01 or 9999-12-31 wrapped
            # round to another date when stored)
            if not pd.Timestamp.min.tz_localize(t.tzinfo) <= t <= pd.Timestamp.max.tz_localize(t.tzinfo):
                t = pd.NaT
        if pd.isna(t):
            bad[i] = True
            continue
        zoned[i] = t.tzinfo is not None
        stamps[i] = (t.tz_localize(None) if zoned[i] else t).as_unit("ns").to_datetime64()
    n_zoned, n_local = int((given & zoned & ~bad).sum()), int((given & ~zoned & ~bad).sum())
    mixed = np.zeros(len(values), bool)
    if n_zoned and n_local:
        mixed = given & ~bad & (zoned if n_zoned <= n_local else ~zoned)
    return pd.Series(stamps, dtype="datetime64[ns]"), bad, mixed


def _declared_missing(values: np.ndarray, ranges: Any) -> np.ndarray:
    """Cells inside the file's user-missing values or ranges ``[(lo, hi), ...]``."""
    values = np.asarray(values)
    mask = np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "f":
        for lo, hi in ranges:
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
                mask |= (values >= lo) & (values <= hi)
        return mask
    for lo, hi in ranges:
        for i, v in enumerate(values):
            if _is_missing_scalar(v) or mask[i]:
                continue
            try:
                mask[i] = bool(lo <= v <= hi)
            except TypeError:   # a text code against a number or the reverse
                mask[i] = False
    return mask


#: an answer range narrower than this share of the declared scale, on every
#: item of that scale, is reported (e.g. answers on 1-5 in a 1-10 instrument)
NARROW_RANGE_SHARE = 0.75
#: ... when the items of that scale hold at least this many answers
NARROW_RANGE_MIN_ANSWERS = 30


def _narrow_ranges(answered: dict[str, np.ndarray], inst: Instrument) -> list[str]:
    """A note per declared scale whose answers, over all its items, stay in the
    lower part of the scale: the data were probably coded on a shorter scale,
    and an index on the declared scale would be misleading.  ``answered``
    holds each item's answers as given (before reverse coding).

    Only scales of at least five points are checked (a 0/1 item answered
    only 0 is plausible), and only when their items hold
    :data:`NARROW_RANGE_MIN_ANSWERS` answers.
    """
    by_scale: dict[tuple, list[str]] = {}
    for item in inst.items:
        if item.name in answered:
            by_scale.setdefault(tuple(item.scale) + (item.continuous,), []).append(item.name)
    notes = []
    for (lo, hi, continuous), names in by_scale.items():
        if not continuous and hi - lo + 1 < 5:
            continue
        values = np.concatenate([answered[n] for n in names])
        values = values[~np.isnan(values)]
        if len(values) < NARROW_RANGE_MIN_ANSWERS:
            continue
        top = float(values.max())
        if top < lo + NARROW_RANGE_SHARE * (hi - lo):
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            notes.append(
                f"the {len(values)} answers of the item(s) with scale [{lo}, {hi}] ({shown}) lie only in "
                f"[{_show(values.min())}, {_show(top)}]: were they coded on a shorter scale? Indices "
                f"on the declared scale [{lo}, {hi}] would be misleading; check the items' scale in the "
                "instrument")
    return notes


def _tidy_labels(col: pd.Series, missing_texts: tuple[str, ...] = ()) -> pd.Series:
    """id / wave / segment values: strings stripped, whole floats -> Int64.

    Only an empty cell, or a text the instrument declares in
    ``missing_texts``, is missing: ``NA``, ``None`` or ``null`` are kept as
    values (a segment may be called that)."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)):
            return pd.Series(pd.array([None if np.isnan(v) else int(v) for v in values], dtype="Int64"))
        return pd.Series(values)
    absent = {""} | {str(t).strip() for t in missing_texts}
    vals = [None if (v is None or (isinstance(v, float) and math.isnan(v))
                     or (isinstance(v, str) and v.strip() in absent))
            else (v.strip() if isinstance(v, str) else v) for v in col.to_numpy(dtype=object)]
    if all(v is None or isinstance(v, str) for v in vals):
        return pd.Series(vals, dtype="str")
    return pd.Series(vals, dtype=object)


def _reverse_labels(labels: dict, item: Any) -> dict:
    lo, hi = item.scale
    return {(lo + hi - k if isinstance(k, (int, float)) and lo <= k <= hi else k): v
            for k, v in labels.items()}


def _show(x: Any) -> Any:
    if isinstance(x, (float, np.floating)) and math.isfinite(x) and float(x).is_integer():
        return int(x)
    if isinstance(x, np.generic):
        return x.item()
    return x
