"""Atomic file writes, with the permissions of an ordinary file, and CSV
files that are safe to open in a spreadsheet.

Every file the study runner writes goes through :func:`write_bytes`: the
content is written to a temporary file in the *same folder* (so the final
rename never crosses a file system), flushed and fsynced, then moved into
place with :func:`os.replace`, which is atomic on POSIX and Windows.  A reader
therefore sees either the old file or the complete new one, never a partial
file, even if the writer is killed mid-write.  The final file has mode
``0o666 & ~umask``, as if ``open(path, "w")`` had created it (the temporary
file is private until then).

Every CSV file goes through :func:`write_csv`, which neutralises text cells
that a spreadsheet would run as a formula (:func:`neutralise_csv_cells`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # pandas is imported only by the CSV writer
    import pandas as pd

__all__ = ["write_bytes", "write_text", "write_json", "write_csv", "neutralise_csv_cells",
           "file_mode", "TEMP_PREFIX"]

#: prefix of the temporary files; a leftover one (writer killed before the
#: rename) is never mistaken for an output.
TEMP_PREFIX = ".csm-tmp-"


def _umask() -> int:
    """The process's umask, read without changing it where the system allows
    (``/proc/self/status`` on Linux); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from ``open(path, "w")``: ``0o666 & ~umask``."""
    return 0o666 & ~_umask()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating missing parent folders.

    Parameters
    ----------
    path : path-like
        Destination file.
    data : bytes
        The complete content.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        if hasattr(os, "fchmod"):   # mkstemp makes the file 0600; not on Windows
            os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`write_bytes`."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON to ``path`` atomically.

    NaN and infinities are not valid JSON: they must be converted to ``None``
    by the caller (``allow_nan=False`` makes a forgotten one an error instead
    of a file other tools cannot read).
    """
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False, sort_keys=False)
    return write_text(path, text + "\n")


#: first characters that make a spreadsheet read a cell as a formula (OWASP
#: "CSV injection": = + - @, and tab and carriage return, which some
#: spreadsheets skip before looking at the next character)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _neutralise(value: Any) -> Any:
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def neutralise_csv_cells(frame: "pd.DataFrame") -> "pd.DataFrame":
    """A copy of ``frame`` whose text cells and column names cannot run as
    spreadsheet formulas.

    A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a leading ``'`` (the OWASP advice against CSV
    injection); a spreadsheet then shows the text as it is.  Numbers, and
    text that is exactly a number (``"-1.5"``, ``"+2e3"``), are left as they
    are, so negative numbers stay numbers.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        Same shape, index and column dtypes.
    """
    import pandas as pd

    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        dtype = col.dtype
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue   # numbers and dates cannot hold text
        out.isetitem(i, col.map(_neutralise))
    out.columns = [_neutralise(c) for c in out.columns]
    return out


def write_csv(path: str | os.PathLike[str], frame: "pd.DataFrame", **to_csv: Any) -> Path:
    """Write ``frame`` as UTF-8 CSV (without its index) to ``path`` atomically,
    with its text cells neutralised (:func:`neutralise_csv_cells`).

    Lines end with CRLF (RFC 4180, as spreadsheets write CSV): the CSV
    writer then quotes every cell holding a carriage return or a line feed,
    so no text can start a row of its own.

    Parameters
    ----------
    path : path-like
    frame : pandas.DataFrame
    **to_csv
        Passed to :meth:`pandas.DataFrame.to_csv` (e.g. ``lineterminator="\\n"``
        for data without line breaks in text).

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    to_csv.setdefault("index", False)
    to_csv.setdefault("lineterminator", "\r\n")
    text = neutralise_csv_cells(frame).to_csv(**to_csv)
    return write_text(path, text)
