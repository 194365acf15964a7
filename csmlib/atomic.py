"""Atomic file writes.

Every file the study runner writes goes through :func:`write_bytes`: the
content is written to a temporary file in the *same folder* (so the final
rename never crosses a file system), flushed and fsynced, then moved into
place with :func:`os.replace`, which is atomic on POSIX and Windows.  A reader
therefore sees either the old file or the complete new one, never a partial
file, even if the writer is killed mid-write.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_bytes", "write_text", "write_json", "TEMP_PREFIX"]

#: prefix of the temporary files; a leftover one (writer killed before the
#: rename) is never mistaken for an output.
TEMP_PREFIX = ".csm-tmp-"


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
