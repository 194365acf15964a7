"""Errors and warnings raised by csmlib.

Every error names what is wrong, where (file, column, row, value) and what to
do about it, so that a user never has to read a traceback from pandas, numpy
or semopy to find out what happened.

Errors end up in executed notebooks, run records and study summaries, so
what they quote from the data passes the one masking function
(:func:`csmlib.privacy.quote` for columns and values,
:func:`csmlib.privacy.mask_text` for the message): e-mail addresses,
phone numbers, identity numbers and IP addresses never appear in an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CsmError",
    "SpecError",
    "DataError",
    "EstimationError",
    "StudyError",
    "CsmWarning",
    "EstimationWarning",
    "DataWarning",
]


def _fmt_list(values: Iterable[Any], limit: int = 10, column: str | None = None) -> str:
    from .privacy import quote   # lazily: importing csmlib needs no pandas

    values = list(values)
    shown = ", ".join(quote(v, column=column) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values) - limit} more)"
    return shown


class CsmError(Exception):
    """Base class of every error csmlib raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, in plain language.
    file : str, optional
        The file at fault.
    column : str or sequence of str, optional
        The column(s) at fault.
    rows : sequence of int, optional
        The row(s) at fault, numbered as the user sees them (1 = first data row).
    values : sequence, optional
        The offending value(s), shown masked, with control characters
        escaped and cut to a readable length (:func:`csmlib.privacy.quote`).
    hint : str, optional
        What to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | Sequence[str] | None = None,
        rows: Sequence[int] | None = None,
        values: Sequence[Any] | None = None,
        hint: str | None = None,
    ) -> None:
        from .privacy import mask_text, mask_value   # lazily: importing csmlib needs no pandas

        self.message = mask_text(message)
        self.file = None if file is None else str(file)
        self.column = column
        self.rows = None if rows is None else list(rows)
        self.values = None if values is None else [mask_value(v) for v in values]
        self.hint = None if hint is None else mask_text(hint)
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.message]
        if self.file is not None:
            parts.append(f"file: {self.file}")
        if self.column is not None:
            cols = [self.column] if isinstance(self.column, str) else list(self.column)
            parts.append(("column: " if len(cols) == 1 else "columns: ") + _fmt_list(cols, 20))
        if self.rows is not None:
            parts.append(("row: " if len(self.rows) == 1 else "rows: ") + _fmt_list(self.rows))
        if self.values is not None:
            # values of a column named like personal data (names, addresses, ...) are withheld
            single = self.column if isinstance(self.column, str) else None
            parts.append(("value: " if len(self.values) == 1 else "values: ")
                         + _fmt_list(self.values, column=single))
        if self.hint:
            parts.append(f"what to do: {self.hint}")
        return "\n  ".join(parts)


class SpecError(CsmError):
    """A model specification is malformed or does not fit the data."""


class DataError(CsmError):
    """Survey data, an instrument or a study file is unusable as given."""


class EstimationError(CsmError):
    """An estimator could not produce trustworthy estimates."""


class StudyError(CsmError):
    """A study file or a batch run is malformed or failed."""


class CsmWarning(UserWarning):
    """Base class of every warning csmlib issues.

    Warnings reach executed notebooks (stderr), so their text passes the
    masking function (:func:`csmlib.privacy.mask_text`) like errors.
    """

    def __init__(self, message: object = "", *args: object) -> None:
        from .privacy import mask_text   # lazily: importing csmlib needs no pandas

        super().__init__(mask_text(str(message)), *args)


class EstimationWarning(CsmWarning):
    """Estimates exist but need care: Heywood cases, non-convergence, ..."""


class DataWarning(CsmWarning):
    """Data were loaded but something about them needs attention."""
