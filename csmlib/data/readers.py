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

import codecs
import csv
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

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
    header : list of str
        Every column name of the file, also those ``columns=`` left out of
        ``frame`` (to suggest a close name for a missing column).
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
    header: list[str] = field(default_factory=list)


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
             encoding: str | None = None, fast: bool = False,
             columns: Iterable[str] | None = None) -> RawTable:
    """Read ``path`` (whose bytes are ``raw``) as format ``fmt``.

    ``fmt`` ``"csv"`` also detects a Qualtrics export from its header rows.
    ``fast=True`` splits a large plain CSV with pandas' C parser (see
    :func:`_split_csv_fast`); the result is the same table, and a file it
    cannot split cleanly is read the exact way, with the same errors.
    ``columns`` keeps only the columns of those names (the header is still
    checked whole); the others are never turned into values, so free text
    and personal data in them go no further than the file.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}", file=str(path), hint=f"use one of {FORMATS}")
    if not raw or raw.isspace():
        raise DataError("the file is empty", file=str(path),
                        hint="export the survey again; the file has no header and no data")
    keep = None if columns is None else set(columns)
    if fmt in ("csv", "qualtrics"):
        table = _read_text(path, raw, fmt, encoding, fast=fast, keep=keep)
    elif fmt == "excel":
        table = _read_excel(path, raw, sheet)
    else:
        table = _read_stat(path, raw, fmt, encoding)
    table.header = table.header or [str(c) for c in table.frame.columns]
    if keep is not None and not set(table.frame.columns) <= keep:
        table.frame = table.frame[[c for c in table.frame.columns if c in keep]]
    return table


# ------------------------------------------------------------------ text
def _decode(path: Path, raw: bytes, encoding: str | None, head: int | None = None) -> str:
    """The text of ``raw`` (or of its first ``head`` bytes, a character cut
    at the end left out), or a DataError saying why it is not text."""
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
        if head is not None and len(raw) > head:
            return codecs.getincrementaldecoder(encoding or "utf-8-sig")().decode(raw[:head], final=False)
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


_UTF8 = (None, "utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig")

#: Bytes of a large UTF-8 CSV decoded by the fast reading (for the delimiter
#: and the header); the C parser decodes and checks the rest.
_HEAD = 1 << 20


def _read_text(path: Path, raw: bytes, fmt: str, encoding: str | None, fast: bool = False,
               keep: set[str] | None = None) -> RawTable:
    # the fast way reads the records from the bytes (the C parser decodes and checks them):
    # only the head of the file is decoded here, for the delimiter and the header
    head = _HEAD if fast and (encoding or None) in _UTF8 and len(raw) > _HEAD else None
    text = _decode(path, raw, encoding, head)
    sep = _sniff_delimiter(text)
    first = _first_records(text, sep, 3)
    if head is not None and len(first) < 3:   # records longer than the head: decode it all
        head, text = None, _decode(path, raw, encoding)
        first = _first_records(text, sep, 3)
    qualtrics = len(first) >= 3 and any(str(c).lstrip().startswith('{"ImportId"') for c in first[2])
    header = [str(h).strip() for h in first[0]] if first else []
    body = None
    if fast and not qualtrics and header:
        use = [i for i, h in enumerate(header) if keep is None or h in keep]
        data = (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw) if (encoding or None) in _UTF8 \
            else text.encode("utf-8")
        body = _split_csv_fast(data, sep, use)
        if body is not None:
            body.columns = [header[i] for i in use]
    if body is None:
        if head is not None:
            text = _decode(path, raw, encoding)
        cells = _split_csv(path, text, sep)
        body = cells.iloc[3 if qualtrics else 1:].reset_index(drop=True)
        body.columns = header
    if fmt == "qualtrics" and not qualtrics:
        raise DataError("the file is not a Qualtrics export: its third row has no ImportId entries",
                        file=str(path), hint="export from Qualtrics as CSV with choice codes "
                                             "(numeric values), or read it with format='csv'")
    _check_header(path, header)
    variable_labels, import_ids = {}, {}
    if qualtrics:
        variable_labels = {h: str(t) for h, t in zip(header, first[1]) if str(t)}
        import_ids = {h: qid for h, qid in zip(header, map(_import_id, first[2])) if qid}
    rows = np.arange(1, len(body) + 1)
    out = RawTable(frame=body, rows=rows, format="qualtrics" if qualtrics else "csv",
                   variable_labels=variable_labels, rows_read=len(body), import_ids=import_ids, header=header)
    if qualtrics:
        _qualtrics_filter(out)
    return out


def _first_records(text: str, sep: str, n: int) -> list[list[str]]:
    """The first ``n`` non-blank records of a CSV text, read as :func:`_split_csv`
    reads them (``[]`` when the text has none; fewer when it ends sooner or
    cannot be read: :func:`_split_csv` then says why)."""
    size = 1 << 16
    while True:   # a prefix of the text, longer until it holds n + 1 records or is the whole text
        out: list[list[str]] = []
        reader = csv.reader(io.StringIO(text[:size], newline=""), delimiter=sep, strict=True)
        try:
            for rec in reader:
                if not rec or (len(rec) == 1 and not rec[0].strip()):
                    continue
                out.append(rec)
                if len(out) > n:   # the first n ended before it began: none was cut by the prefix
                    return out[:n]
        except csv.Error:
            if size >= len(text):
                return out
        if size >= len(text):
            return out
        size *= 4


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


def _split_csv_fast(data: bytes, sep: str, usecols: list[int] | None = None) -> pd.DataFrame | None:
    """The records below the header of a CSV given as UTF-8 bytes, split by
    pandas' C parser (for large files: a million tickets), keeping the
    columns at positions ``usecols`` (default all); the cells are those of
    :func:`_split_csv`.  None when the text is not plainly a rectangle of
    records, so that the caller reads it the exact way (and reports what is
    wrong).

    The C parser pads short records and reads ``"abc"def`` as ``abcdef``,
    where the exact reader refuses both; so the bytes are checked first, at
    C speed: every quoted section is closed and stands alone between
    delimiters, and every non-blank line outside quotes has as many
    delimiters as the header.
    """
    if b"\x00" in data:
        return None
    bare = re.sub(rb'"[^"]*"', b"\x00", data) if b'"' in data else data   # quoted sections -> NUL
    if b'"' in bare:
        return None   # a quote opened and never closed
    b = np.frombuffer(bare, dtype=np.uint8)
    nul = np.flatnonzero(b == 0)
    if len(nul):   # a quoted section stands alone between delimiters (or next to another: "")
        ok = np.array([0, ord(sep), 10, 13], dtype=np.uint8)
        before = np.where(nul > 0, b[np.maximum(nul - 1, 0)], 10)
        after = np.where(nul < len(b) - 1, b[np.minimum(nul + 1, len(b) - 1)], 10)
        if not (np.isin(before, ok).all() and np.isin(after, ok).all()):
            return None   # text glued to a quoted section: "abc"def
    counts = _delimiters_per_line(b, sep)
    if not len(counts) or (counts != counts[0]).any():
        return None
    width = int(counts[0]) + 1
    use = list(range(width)) if usecols is None else list(usecols)
    if not use:
        return None
    try:
        frame = pd.read_csv(io.BytesIO(data), sep=sep, header=0, dtype=str, engine="c", encoding="utf-8",
                            usecols=use, keep_default_na=False, na_filter=False, skip_blank_lines=True,
                            quotechar='"', doublequote=True)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, csv.Error):
        return None
    if len(frame) + 1 != len(counts) or frame.shape[1] != len(use):
        return None
    frame.columns = range(len(use))
    return frame if (frame.dtypes == object).all() else frame.astype(object)


def _delimiters_per_line(b: np.ndarray, sep: str) -> np.ndarray:
    """Delimiters on each non-blank line of a text given as its UTF-8 bytes
    ``b`` (an ASCII delimiter and a line feed are single bytes in UTF-8)."""
    bounds = np.concatenate(([0], np.flatnonzero(b == 10) + 1, [len(b)]))
    seps = np.flatnonzero(b == ord(sep))
    counts = np.diff(np.searchsorted(seps, bounds))
    lengths = np.diff(bounds)
    # a line without delimiters may be blank (skipped by both readers): look at those alone
    blank = np.zeros(len(counts), dtype=bool)
    for i in np.flatnonzero(counts == 0):
        blank[i] = not bytes(b[bounds[i]:bounds[i] + lengths[i]]).strip()
    return counts[~blank]


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
