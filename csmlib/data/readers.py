"""Format readers: CSV, Qualtrics CSV, Excel, SPSS ``.sav`` and Stata ``.dta``.

Each reader turns a file into a :class:`RawTable`: every column as read
(text files keep their cells as strings, so that :mod:`csmlib.data.survey` can
tell ``"7 "`` from ``"seven"``), the data row numbers as the user sees them
(1 = first data row below the header), the file's variable and value labels,
and the rows a format's own rules drop (Qualtrics previews and unfinished
responses).  Readers never interpret answers: missing codes, reverse coding
and range checks happen in :mod:`csmlib.data.survey`.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["RawTable", "FORMATS", "detect_format", "read_raw"]

#: Formats :func:`read_raw` understands.
FORMATS = ("csv", "qualtrics", "excel", "spss", "stata")

_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "excel", ".xlsm": "excel",
    ".sav": "spss", ".zsav": "spss",
    ".dta": "stata",
}

_MAGIC = {b"PK\x03\x04": "an Excel (.xlsx) or other zip file", b"$FL2": "an SPSS .sav file",
          b"$FL3": "an SPSS .zsav file", b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or other OLE file",
          b"%PDF": "a PDF file"}

_ENCODING_HINT = ("pass encoding=..., e.g. encoding='cp1252' (Western Windows), 'latin-1', "
                  "'gbk' or 'gb18030' (Chinese), 'shift_jis', or re-save the file as UTF-8")


@dataclass
class RawTable:
    """A file as read, before any interpretation.

    Attributes
    ----------
    frame : DataFrame
        Columns as named in the file's header (str), cells as read.
    rows : ndarray of int
        1-based data row number of each row of ``frame``.
    format : str
        One of :data:`FORMATS`.
    variable_labels : dict
        ``{column: label}`` from the file (SPSS/Stata labels, Qualtrics question texts).
    value_labels : dict
        ``{column: {code: label}}`` from the file.
    dropped : list of (int, str)
        Rows the format's rules dropped, with the reason.
    user_missing : dict
        ``{column: [(lo, hi), ...]}``: the values or ranges the file declares
        user-missing (SPSS); the cells keep their codes.
    rows_read : int
        Data rows in the file.
    import_ids : dict
        ``{column: ImportId}`` of a Qualtrics export (its third header row:
        ``QID5_1`` for the first row of question 5), else empty.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    format: str
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    dropped: list[tuple[int, str]] = field(default_factory=list)
    user_missing: dict[str, list[tuple[Any, Any]]] = field(default_factory=dict)
    rows_read: int = 0
    import_ids: dict[str, str] = field(default_factory=dict)


def detect_format(path: Path, raw: bytes) -> str:
    """The format of ``path`` from its extension and, for CSV, its header rows."""
    ext = path.suffix.lower()
    if ext == ".xls":
        raise DataError("old Excel .xls files cannot be read", file=str(path),
                        hint="open the file in Excel or LibreOffice and save it as .xlsx or .csv")
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        raise DataError(f"cannot tell the format of the file from its extension {ext or '(none)'!r}",
                        file=str(path),
                        hint=f"use one of {', '.join(sorted(_EXTENSIONS))} or pass format= one of {FORMATS}")
    return fmt


def read_raw(path: Path, raw: bytes, fmt: str, *, sheet: str | int | None = None,
             encoding: str | None = None) -> RawTable:
    """Read ``path`` (whose bytes are ``raw``) as format ``fmt``.

    ``fmt`` ``"csv"`` also detects a Qualtrics export from its header rows.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}", file=str(path), hint=f"use one of {FORMATS}")
    if not raw.strip():
        raise DataError("the file is empty", file=str(path),
                        hint="export the survey again; the file has no header and no data")
    if fmt in ("csv", "qualtrics"):
        return _read_text(path, raw, fmt, encoding)
    if fmt == "excel":
        return _read_excel(path, raw, sheet)
    return _read_stat(path, raw, fmt, encoding)


# ------------------------------------------------------------------ text
def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if encoding is None:
        for magic, what in _MAGIC.items():
            if raw.startswith(magic):
                raise DataError(f"the file is not a text (CSV) file: it looks like {what}", file=str(path),
                                hint="give the file its proper extension or pass format= "
                                     "('excel', 'spss', 'stata')")
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
        elif b"\x00" in raw[:8192]:
            raise DataError("the file is not a text (CSV) file: it contains binary (NUL) bytes",
                            file=str(path),
                            hint="check that this is the CSV export; if it is UTF-16 text, pass "
                                 "encoding='utf-16'")
    try:
        return raw.decode(encoding or "utf-8-sig")
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", file=str(path),
                        hint="use a Python codec name such as 'utf-8', 'cp1252', 'latin-1', 'gbk'") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"the file is not valid {encoding or 'UTF-8'} text (byte {exc.start}, line {line})",
                        file=str(path), values=[raw[exc.start:exc.start + 4]], hint=_ENCODING_HINT) from None


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_text(path: Path, raw: bytes, fmt: str, encoding: str | None) -> RawTable:
    text = _decode(path, raw, encoding)
    sep = _sniff_delimiter(text)
    cells = _split_csv(path, text, sep)
    header = [str(h).strip() for h in cells.iloc[0].tolist()] if len(cells) else []
    qualtrics = (len(cells) >= 3
                 and any(str(c).lstrip().startswith('{"ImportId"') for c in cells.iloc[2].tolist()))
    if fmt == "qualtrics" and not qualtrics:
        raise DataError("the file is not a Qualtrics export: its third row has no ImportId entries",
                        file=str(path), hint="export from Qualtrics as CSV with choice codes "
                                             "(numeric values), or read it with format='csv'")
    skip = 3 if qualtrics else 1
    body = cells.iloc[skip:].reset_index(drop=True)
    _check_header(path, header)
    body.columns = header
    variable_labels, import_ids = {}, {}
    if qualtrics:
        variable_labels = {h: str(t) for h, t in zip(header, cells.iloc[1].tolist()) if str(t)}
        import_ids = {h: qid for h, qid in zip(header, map(_import_id, cells.iloc[2].tolist())) if qid}
    rows = np.arange(1, len(body) + 1)
    out = RawTable(frame=body, rows=rows, format="qualtrics" if qualtrics else "csv",
                   variable_labels=variable_labels, rows_read=len(body), import_ids=import_ids)
    if qualtrics:
        _qualtrics_filter(out)
    return out


def _import_id(cell: Any) -> str:
    """The ImportId of a Qualtrics third-row cell (``{"ImportId":"QID5_1"}``), or ""."""
    import json

    try:
        value = json.loads(str(cell))
    except ValueError:
        return ""
    return str(value.get("ImportId", "")) if isinstance(value, dict) else ""


def _split_csv(path: Path, text: str, sep: str) -> pd.DataFrame:
    """Records of a CSV text as a frame of strings; every record as wide as the header.

    Blank lines are skipped.  A record with more or fewer fields than the
    header (a ragged row: an unquoted delimiter inside a value, a truncated
    line) is an error naming its data row and line, never silently padded.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        for rec in reader:
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            records.append(rec)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"the file cannot be read as CSV near line {reader.line_num}: {exc}",
                        file=str(path),
                        hint="check the quoting on that line (a quote \" that is opened but never "
                             "closed); re-export the file with standard CSV quoting") from None
    if not records:
        raise DataError("the file is empty", file=str(path), hint="export the survey again")
    width = len(records[0])
    bad = []
    for i, rec in enumerate(records[1:], start=1):
        if len(rec) > width and not any(c.strip() for c in rec[width:]):
            del rec[width:]   # trailing empty fields (a delimiter at the end of the line)
        if len(rec) != width:
            bad.append(i)
    if bad:
        shown = ", ".join(f"line {lines[i]} has {len(records[i])}" for i in bad[:5])
        more = f" (and {len(bad) - 5} more lines)" if len(bad) > 5 else ""
        raise DataError(f"the file cannot be read as CSV: {len(bad)} row(s) do not have as many fields as the header ({width}, "
                        f"delimiter {sep!r}): {shown}{more}", file=str(path), rows=[i for i in bad],
                        hint=f"a value holding the delimiter {sep!r} must be quoted, and a row must not be "
                             "cut short; fix or re-export those lines (rows are counted below the "
                             "header, lines from the top of the file)")
    return pd.DataFrame(records, dtype=object)


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise DataError("the file is empty", file=str(path), hint="export the survey again")
    unnamed = [i for i, h in enumerate(header) if not h]
    if len(unnamed) > 1:
        where = ", ".join(_column_letter(i) for i in unnamed[:10]) + (" ..." if len(unnamed) > 10 else "")
        raise DataError(f"{len(unnamed)} columns have no name in the header row (columns {where}): "
                        "the first row is not one column name per cell",
                        file=str(path),
                        hint="the first row must hold the column names, one per cell: unmerge merged "
                             "header cells, remove title rows above the header, and name every column")
    seen: dict[str, int] = {}
    dups = []
    for h in header:
        if h in seen:
            dups.append(h)
        seen[h] = seen.get(h, 0) + 1
    if dups:
        raise DataError("the header names some columns more than once", file=str(path),
                        column=list(dict.fromkeys(dups)),
                        hint="rename the duplicated columns so that every column name is unique")


def _column_letter(i: int) -> str:
    """Spreadsheet column name of 0-based column ``i`` (0 -> A, 26 -> AA)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _qualtrics_filter(t: RawTable) -> None:
    f = t.frame
    reasons = pd.Series("", index=f.index)
    if "Finished" in f:
        fin = f["Finished"].astype(str).str.strip().str.lower()
        reasons[fin.isin(["0", "false"])] = "unfinished response (Finished = false)"
    if "DistributionChannel" in f:
        preview = f["DistributionChannel"].astype(str).str.strip().str.lower() == "preview"
        reasons[preview] = "survey preview (DistributionChannel = preview)"
    if "Status" in f:
        preview = f["Status"].astype(str).str.strip().str.lower() == "survey preview"
        reasons[preview] = "survey preview (Status = Survey Preview)"
    drop = reasons != ""
    t.dropped = [(int(r), str(why)) for r, why in zip(t.rows[drop.to_numpy()], reasons[drop])]
    t.frame = f.loc[~drop].reset_index(drop=True)
    t.rows = t.rows[~drop.to_numpy()]


# ----------------------------------------------------------------- excel
def _read_excel(path: Path, raw: bytes, sheet: str | int | None) -> RawTable:
    if not raw.startswith(b"PK\x03\x04"):
        raise DataError("the file is not an Excel .xlsx workbook", file=str(path),
                        hint="check that this is the .xlsx export, or pass the right format=")
    try:
        import openpyxl
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise DataError(f"the file cannot be read as an Excel workbook: {exc}", file=str(path),
                        hint="open it in Excel and save it again as .xlsx") from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(f"the workbook has no sheet number {sheet} (0-based)", file=str(path),
                                hint=f"its sheets are: {', '.join(map(repr, names))}")
            ws = wb[names[sheet]]
        else:
            if sheet not in names:
                raise DataError(f"the workbook has no sheet {sheet!r}", file=str(path),
                                hint=f"its sheets are: {', '.join(map(repr, names))}")
            ws = wb[sheet]
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        title = ws.title
    finally:
        wb.close()
    _check_formula_results(path, raw, title, values)
    if not values or all(v is None for v in values[0]):
        raise DataError("the sheet is empty (no header row)", file=str(path),
                        hint="put the column names in the first row of the sheet")
    header = [("" if h is None else str(h).strip()) for h in values[0]]
    width = len(header)
    body = [(r + [None] * width)[:width] for r in values[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    rows = np.arange(1, len(frame) + 1)
    # trailing empty rows (formatted but blank) and unnamed empty columns are not data
    nonempty = frame.notna().any(axis=1).to_numpy()
    if nonempty.any():
        last = int(np.flatnonzero(nonempty)[-1]) + 1
        frame, rows = frame.iloc[:last], rows[:last]
    else:
        frame, rows = frame.iloc[:0], rows[:0]
    keep = [i for i, h in enumerate(header) if h or frame[i].notna().any()]
    frame = frame[keep]
    header = [header[i] for i in keep]
    _check_header(path, header)
    frame.columns = header
    return RawTable(frame=frame.reset_index(drop=True), rows=rows, format="excel", rows_read=len(frame))


def _check_formula_results(path: Path, raw: bytes, sheet: str, values: list[list[Any]]) -> None:
    """A formula cell without a stored result is an error, never an empty answer.

    A workbook written by a program that does not calculate (a script using
    openpyxl, some exporters) stores formulas without their results; read
    for values, those cells look empty.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        has_formulas = any(re.search(rb"<f[ >/]", zf.read(n)) for n in zf.namelist()
                           if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    if not has_formulas:
        return
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    try:
        cells = []
        for r, row in enumerate(wb[sheet].iter_rows(values_only=True)):
            for c, v in enumerate(row):
                formula = (isinstance(v, str) and v.startswith("=")) or type(v).__name__ in (
                    "ArrayFormula", "DataTableFormula")
                cached = values[r][c] if r < len(values) and c < len(values[r]) else None
                if formula and cached is None:
                    cells.append(f"{_column_letter(c)}{r + 1}")
    finally:
        wb.close()
    if cells:
        shown = ", ".join(cells[:10]) + (f", ... ({len(cells) - 10} more)" if len(cells) > 10 else "")
        raise DataError(f"{len(cells)} formula cell(s) on sheet {sheet!r} have no stored result, so their "
                        f"values are unknown (cells {shown})", file=str(path),
                        rows=sorted({int(re.sub(r"[A-Z]", "", x)) - 1 for x in cells})[:10],
                        hint="open the workbook in Excel or LibreOffice, let it recalculate and save it "
                             "(or replace the formulas by their values); rows are data rows below the header")


# ------------------------------------------------------------ SPSS/Stata
def _read_stat(path: Path, raw: bytes, fmt: str, encoding: str | None) -> RawTable:
    """Read SPSS / Stata from ``raw``, the bytes already read (and hashed):
    pyreadstat needs a path, so it reads a private copy of those bytes, never
    the file again (which may have changed since)."""
    import pyreadstat

    kind = "an SPSS .sav" if fmt == "spss" else "a Stata .dta"
    with tempfile.TemporaryDirectory(prefix="csm-read-") as tmp:
        copy = Path(tmp) / f"data{path.suffix}"
        copy.write_bytes(raw)
        try:
            if fmt == "spss":
                frame, meta = pyreadstat.read_sav(str(copy), user_missing=True, encoding=encoding)
            else:
                frame, meta = pyreadstat.read_dta(str(copy), encoding=encoding)
        except (pyreadstat.PyreadstatError, pyreadstat.ReadstatError, UnicodeError, LookupError,
                ValueError, OSError) as exc:
            hint = "check that the file is " + kind + " file (not renamed from another format)"
            if "encod" in str(exc).lower() or isinstance(exc, (UnicodeError, LookupError)):
                hint = _ENCODING_HINT
            raise DataError(f"the file cannot be read as {kind} file: {str(exc).replace(str(copy), str(path))}",
                            file=str(path), hint=hint) from None
    frame.columns = [str(c) for c in frame.columns]
    # the file's user-missing declarations are kept, not applied: the instrument
    # decides (csmlib.data.survey) whether a declared code is a valid answer
    user_missing = {str(col): [(rng.get("lo"), rng.get("hi")) for rng in ranges]
                    for col, ranges in (getattr(meta, "missing_ranges", None) or {}).items()
                    if str(col) in frame and ranges}
    labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
    value_labels = {k: dict(v) for k, v in (meta.variable_value_labels or {}).items()}
    rows = np.arange(1, len(frame) + 1)
    return RawTable(frame=frame, rows=rows, format=fmt, variable_labels=labels,
                    value_labels=value_labels, user_missing=user_missing, rows_read=len(frame))
