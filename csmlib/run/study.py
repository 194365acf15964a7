"""Study files: everything a periodic study needs, described in one YAML file.

.. code-block:: yaml

    name: demo-acsi                  # study name (folder under the output folder)
    instrument: instrument.yml       # paths are relative to the study file
    model: acsi                      # a csm.models name, lavaan text, or a .lavaan file
    waves:                           # in time order; one file per wave
      - {name: 2026Q1, data: wave1.csv}
      - {name: 2026Q2, data: wave2.xlsx, sheet: Antworten}   # Excel sheet (name or 0-based number)
      - {name: 2026Q3, data: wave3.csv, encoding: cp1252}    # text encoding (default UTF-8)
      # optional fieldwork window of a wave (dates, inclusive): the complaint log's
      # report of the wave describes the tickets opened in it (see below)
      # - {name: 2026Q4, data: wave4.csv, start: 2026-10-01, end: 2026-12-31}
    segments:                        # optional; the whole sample ("all") is always run too
      column: region
      values: [North, South]         # optional; default: every value found in the data
    notebooks: [data_quality, measurement, structural, index_drivers, study_report]
    notebook_folder: notebooks       # optional: the study's own notebooks (default: notebooks/)
    parameters: {n_boot: 2000, seed: 20260101, scheme: path}   # passed to every notebook
    min_base: 30                     # a wave x segment with fewer respondents is suppressed
    multiplicity: holm               # adjustment of segment/item test families: holm, fdr_bh or none
    output: runs                     # relative to the current directory
    report: study_report             # optional: the notebook run once per wave (see csmlib.run.batch)
    complaints:                      # optional: the company's complaint log (notebook complaints_log)
      log: complaints.csv            # ticket export (CSV or Excel), see csmlib.data.complaint_log
      codebook: complaints.yml       # what its columns mean
      encoding: utf-8                # optional, as for waves
      sheet: 0                       # optional, as for waves
    timeout: 1800                    # optional: seconds a single notebook cell may take
    actions:                         # optional: improvement actions, tracked by the report
      - name: Shorter queues         # distinct
        owner: Branch operations     # the department responsible
        target: Quality              # a construct of the model (0-100 index) or an item (mean)
        baseline_wave: 2026Q1        # waves of the study; the due wave after the baseline
        target_value: 75
        due_wave: 2026Q3
    language: zh                     # optional: the reports' language, en or zh
                                     # (default: the instrument's language, else en)

Fieldwork windows: a wave's ``start`` and ``end`` (ISO dates, both or neither,
``start <= end``) say when it was in the field; ``csm run`` passes them to
every notebook as ``wave_start`` / ``wave_end`` (``""`` without a window).
The windows of the waves that have one must follow the waves' order without
overlapping: a day in two windows would count its complaints in two waves'
reports, and the volume trend and the test of change compare windows as
separate periods.  Gaps between windows are allowed (fieldwork is often
not continuous).

:func:`load_study` validates the file with pydantic and turns every problem
into a :class:`~csmlib.errors.StudyError` that names the file, the key path
(``waves[1].data``) and what to do; an unknown key comes with the closest
valid key, and a key given twice is an error.  It also reads the instrument,
builds the model and checks it against the instrument's items, checks the
notebook parameters it knows (``n_boot``, ``seed``, ``scheme``, ...) and that
``report`` names one of the notebooks, and that every key under
``parameters`` is a parameter of at least one of the study's notebooks (its
cell tagged ``parameters``, :func:`notebook_parameters`): a misspelt one is
refused with the closest name.  When notebooks of the study fit PLS
(:func:`fits_pls`), a model with a loop of paths is refused, as
:func:`csmlib.fit_pls` would refuse it in every run.  Text that reaches the notebooks as
parameters (``parameters``, the study and wave names, the actions) may not
hold personal data (an e-mail address, phone number, Chinese identity number
or IP address): it would be recorded in every run record and executed
notebook, so it is refused, naming the key.  A ``sheet`` for a file that is
not an Excel workbook is refused too (it would be ignored).  :meth:`Study.segment_bases` reads
every wave through the instrument with :func:`csmlib.read_survey` -- the
reader the notebooks use -- so ``csm validate`` and the planner of ``csm
run`` fail on the same inputs, with the same error, before any notebook runs.

Segment folders: a segment's folder name is its value when that is a safe,
short folder name; otherwise a safe slug of it followed by ``~`` and a short
hash of the value (:func:`segment_label`), so that different values never
share a folder (``Nord/Ost`` and ``Nord:Ost``), also on file systems that
ignore case, and a long value still makes a valid path.

Notebook names resolve to ``<notebook_folder>/<name>.ipynb`` (the study's
own notebooks: ``notebook_folder`` relative to the study file, default
``notebooks``), then to the report notebooks that ship with csm workbench
(:func:`csmlib.bundled.bundled_dir`); an entry ending in ``.ipynb`` is a path
relative to the study file.

:func:`relocate_study` writes a copy of a study file in another folder with
these paths made absolute (first waves only, other keys or parameters if
asked): the demo study run from tests and benchmarks.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import math
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from collections.abc import Iterator
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import CsmError, DataWarning, StudyError
from ..privacy import is_invisible
from ..data.instrument import field_path, load_yaml
from ..report.i18n import LANGUAGES, report_language

__all__ = [
    "Action",
    "Study",
    "Wave",
    "NotebookRef",
    "ComplaintSource",
    "load_study",
    "relocate_study",
    "resolve_model",
    "RESERVED_PARAMETERS",
    "project_notebooks",
    "segment_mask",
    "segment_label",
    "segment_labels",
    "notebook_parameters",
    "fits_pls",
]


def project_notebooks() -> Path:
    """The report notebooks that ship with csm workbench (the clone's
    ``notebooks/``, or the installed package's copy)."""
    from ..bundled import bundled_dir

    return bundled_dir("notebooks")


#: parameters the batch sets for every run; a study's ``parameters`` may not set them
RESERVED_PARAMETERS = frozenset({
    "study", "wave", "previous_wave", "segment", "segment_column", "segment_value",
    "data_path", "instrument_path", "model", "results_path", "previous_results_path",
    "wave_results", "min_base", "notebook", "data_encoding", "data_sheet", "actions", "language",
    "complaints_log_path", "complaints_codebook_path", "complaints_encoding", "complaints_sheet",
    "multiplicity", "fit_cache", "wave_start", "wave_end",
})

#: notebooks that read the study's complaint log (``complaints:`` in the study file)
COMPLAINT_NOTEBOOKS = frozenset({"complaints_log"})

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\- ]*$")


# --------------------------------------------------------------------------- schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ReadOptions(_Strict):
    """How to read a data file: text ``encoding`` and Excel ``sheet`` (waves, the complaint log)."""

    encoding: str | None = None
    sheet: str | int | None = None

    @field_validator("encoding")
    @classmethod
    def _codec(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError("unknown text encoding: use a Python codec name such as 'utf-8', "
                                 "'cp1252', 'latin-1', 'gbk'") from None
        return v


def _not_a_device(name: str, what: str) -> str:
    """``name`` unless Windows reserves it for a device (``NUL``, ``con.x``,
    ``COM1``): a folder of that name cannot be made there."""
    if name.split(".")[0].strip().upper() in _WINDOWS_RESERVED:
        raise ValueError(f"{what} becomes a folder name, and Windows reserves {name.split('.')[0]!r} for a "
                         "device (CON, PRN, AUX, NUL, COM1-9, LPT1-9): choose another name")
    return name


def _wave_text(v: Any) -> Any:
    """A wave name as YAML may give it: a whole number (``2026``) is taken as
    its text; a decimal number is refused, since YAML has already dropped what
    made it a name (``2026.10`` is read as 2026.1, October as January)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        raise ValueError(f"YAML reads this wave name as the number {v!r}, which may not be what was "
                         "written (2026.10 is read as 2026.1): write the name in quotes, e.g. '2026.10'")
    return v


class _WaveModel(_ReadOptions):
    name: str = Field(min_length=1)
    data: str = Field(min_length=1)
    start: date | None = None
    end: date | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        # a date only (YAML 2026-01-01, or the text "2026-01-01"): a window is whole days;
        # a number is refused (pydantic reads whole seconds at midnight as a Unix time,
        # so 0 was 1970-01-01, and an Excel serial day 46023 got a message about datetimes)
        if v is None or (isinstance(v, date) and not isinstance(v, datetime)):
            return v
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip(), flags=re.ASCII):
            return v.strip()
        if isinstance(v, datetime) or isinstance(v, str):
            raise ValueError("a fieldwork date is a day written YYYY-MM-DD (e.g. 2026-01-01), without a time")
        raise ValueError("a fieldwork date is a day written YYYY-MM-DD (e.g. 2026-01-01), not a number "
                         "(an Excel serial day or a Unix time)")

    @model_validator(mode="after")
    def _window(self) -> _WaveModel:
        if (self.start is None) != (self.end is None):
            raise ValueError("a fieldwork window needs both start and end (or neither)")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"the fieldwork window ends ({self.end}) before it starts ({self.start})")
        return self

    @field_validator("name", mode="before")
    @classmethod
    def _name_str(cls, v: Any) -> Any:
        return _wave_text(v)

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not _SAFE_NAME.match(v) or v in {".", ".."}:
            raise ValueError(
                "a wave name becomes a folder name: use letters, digits, '.', '_', '-' and "
                "spaces, starting with a letter or digit"
            )
        return _not_a_device(v, "a wave name")


class _SegmentsModel(_Strict):
    column: str = Field(min_length=1)
    values: list[str | int | float] | None = None

    @field_validator("values")
    @classmethod
    def _nonempty(cls, v: list | None) -> list | None:
        if v is not None and len(v) == 0:
            raise ValueError("values must not be empty: leave the key out to use every value")
        if v is not None and len({str(x) for x in v}) != len(v):
            raise ValueError("values are repeated")
        return v


class _ActionModel(_Strict):
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    target: str = Field(min_length=1)
    baseline_wave: str = Field(min_length=1)
    target_value: float
    due_wave: str = Field(min_length=1)

    @field_validator("baseline_wave", "due_wave", mode="before")
    @classmethod
    def _wave_str(cls, v: Any) -> Any:
        return _wave_text(v)

    @field_validator("target_value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError("target_value must be a finite number (the level to reach on the target's "
                             "scale: 0-100 for a construct, the answer scale for an item)")
        return v


class _ComplaintsModel(_ReadOptions):
    log: str = Field(min_length=1)
    codebook: str = Field(min_length=1)


class _StudyModel(_Strict):
    name: str = Field(min_length=1)
    instrument: str = Field(min_length=1)
    model: str = Field(min_length=1)
    waves: list[_WaveModel] = Field(min_length=1)
    segments: _SegmentsModel | None = None
    notebooks: list[str] = Field(min_length=1)
    notebook_folder: str | None = Field(default=None, min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    min_base: int = Field(default=30, ge=0)
    multiplicity: Literal["holm", "fdr_bh", "none"] = "holm"
    output: str = "runs"
    report: str = "study_report"
    timeout: int = Field(default=1800, gt=0)
    actions: list[_ActionModel] = Field(default_factory=list)
    complaints: _ComplaintsModel | None = None
    language: str | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        if v is not None and v not in LANGUAGES:
            raise ValueError(f"reports are written in {', '.join(LANGUAGES)}: use one of them, or leave "
                             "the key out for the instrument's language")
        return v

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not _SAFE_NAME.match(v):
            raise ValueError(
                "the study name becomes a folder name: use letters, digits, '.', '_', '-' and "
                "spaces, starting with a letter or digit"
            )
        return _not_a_device(v, "the study name")


# --------------------------------------------------------------------------- loaded study
@dataclass(frozen=True)
class Wave:
    """One wave of a study: its label, its data file (absolute path), how
    to read it (``encoding`` of a text file, Excel ``sheet``; None = default)
    and its fieldwork window (``start`` and ``end`` dates, inclusive; None =
    not given)."""

    name: str
    data: Path
    encoding: str | None = None
    sheet: str | int | None = None
    start: date | None = None
    end: date | None = None

    def window_parameters(self) -> dict[str, str]:
        """``{"wave_start": ..., "wave_end": ...}`` as ISO dates (``""`` without a window)."""
        return {"wave_start": self.start.isoformat() if self.start else "",
                "wave_end": self.end.isoformat() if self.end else ""}


@dataclass(frozen=True)
class Action:
    """An improvement action of a study (``actions:``): its ``name``, the
    ``owner`` department, the ``target`` construct (0-100 index) or item
    (mean on its scale), the ``baseline_wave``, the ``target_value`` to
    reach and the ``due_wave`` by which to reach it."""

    name: str
    owner: str
    target: str
    baseline_wave: str
    target_value: float
    due_wave: str

    def as_dict(self) -> dict[str, Any]:
        """The action as plain data (a notebook parameter)."""
        return {"name": self.name, "owner": self.owner, "target": self.target,
                "baseline_wave": self.baseline_wave, "target_value": self.target_value,
                "due_wave": self.due_wave}


@dataclass(frozen=True)
class ComplaintSource:
    """The study's complaint log: the export and its codebook (absolute
    paths) and how to read the export (``encoding``, ``sheet``; None = default)."""

    log: Path
    codebook: Path
    encoding: str | None = None
    sheet: str | int | None = None


@dataclass(frozen=True)
class NotebookRef:
    """A notebook of a study: its short name and its file (absolute path)."""

    name: str
    path: Path


@dataclass(frozen=True)
class Study:
    """A validated study file (see the module docstring).

    Attributes
    ----------
    name : str
    path : Path
        The study file.
    instrument : Path
    model : str
        A ``csm.models`` name or lavaan model text (a ``.lavaan`` file is read).
    waves : tuple of Wave
        In time order.
    segment_column : str or None
    segment_values : tuple or None
        As given in the file; ``None`` means every value found in the data.
    notebooks : tuple of NotebookRef
    parameters : dict
        Passed to every notebook.
    min_base : int
    multiplicity : str
        How families of segment or item tests are adjusted (``holm``,
        ``fdr_bh`` or ``none``; see :mod:`csmlib.analysis.multiplicity`),
        passed to every notebook as the parameter ``multiplicity``.
    output : Path
        The output root (``runs/``); the study's outputs go to ``output / name``.
    report : str
        Name of the notebook run once per wave on the whole sample, after the
        wave's other notebooks.
    timeout : int
        Seconds a single notebook cell may run.
    actions : tuple of Action
        Improvement actions, given to the report notebook (``actions``).
    complaints : ComplaintSource or None
        The complaint log (``complaints:`` in the study file).
    language : str
        The reports' language (:data:`csmlib.report.i18n.LANGUAGES`): the
        study's ``language``, else the instrument's, else English.
    """

    name: str
    path: Path
    instrument: Path
    model: str
    waves: tuple[Wave, ...]
    segment_column: str | None
    segment_values: tuple[Any, ...] | None
    notebooks: tuple[NotebookRef, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    min_base: int = 30
    multiplicity: str = "holm"
    output: Path = Path("runs")
    report: str = "study_report"
    timeout: int = 1800
    actions: tuple[Action, ...] = ()
    complaints: ComplaintSource | None = None
    language: str = "en"

    @classmethod
    def from_yaml(cls, path: str | Path, *, output: str | Path | None = None) -> "Study":
        """Same as :func:`load_study`."""
        return load_study(path, output=output)

    @property
    def run_dir(self) -> Path:
        """``output / name``: where this study's runs are written."""
        return self.output / self.name

    @property
    def seed(self) -> Any:
        """The ``seed`` parameter (``None`` when the study sets none)."""
        return self.parameters.get("seed")

    def load_instrument(self) -> Any:
        """The study's :class:`~csmlib.data.instrument.Instrument`."""
        from ..data.instrument import Instrument

        return Instrument.from_yaml(self.instrument)

    def read_wave(self, wave: Wave, instrument: Any = None) -> Any:
        """A wave's :class:`~csmlib.data.survey.Survey`, read as the notebooks read it.

        Raises
        ------
        DataError
            The file does not load through the instrument (named file, column,
            rows and values).
        StudyError
            The file holds several waves (several values in the instrument's
            ``wave_column``): one study wave is one file of one wave.
        """
        from ..data.survey import read_survey

        inst = instrument if instrument is not None else self.load_instrument()
        survey = read_survey(wave.data, inst, sheet=wave.sheet, encoding=wave.encoding)
        col = inst.wave_column
        if col is not None and col in survey.data.columns:
            present = sorted(map(str, survey.data[col].dropna().unique()))
            if len(present) > 1:
                i = [w.name for w in self.waves].index(wave.name)
                raise StudyError(
                    f"waves[{i}].data: the file holds {len(present)} waves in its wave column {col!r}, "
                    f"but the study reads it as the one wave {wave.name!r}",
                    file=str(wave.data), column=col, values=present[:10],
                    hint="split the file into one file per wave and list each under waves: "
                         "(a study wave is one file of one wave, so that its base, its index and its "
                         "change since the last wave are of that wave only)")
            if len(present) == 1 and present[0] != wave.name:
                from ..privacy import quote

                i = [w.name for w in self.waves].index(wave.name)
                warnings.warn(
                    f"waves[{i}].data: every respondent's wave column {col!r} says "
                    f"{quote(present[0], column=col)}, but the study reads the file as wave {wave.name!r}: "
                    "check that the file is listed under the right wave", DataWarning, stacklevel=2)
        return survey

    def segment_bases(self) -> pd.DataFrame:
        """Respondents per wave x segment, as used for ``min_base``.

        Every wave is read with :meth:`read_wave` (the reader the notebooks
        use: Qualtrics header and preview rows, unfinished and empty
        responses are not counted).  The base of a segment is the number of
        respondents whose segment value equals the segment's (compared as
        text, ``2.0`` as ``2``); ``all`` is every respondent.

        Returns
        -------
        pandas.DataFrame
            Columns ``wave, segment, value, n``; ``segment`` is the folder label
            (``"all"`` or :func:`segment_labels` of the value), ``value`` the
            value as in the data or the study file (``None`` for ``all``).

        Raises
        ------
        DataError, StudyError
            See :meth:`read_wave`.
        """
        inst = self.load_instrument()
        col = self.segment_column
        columns = []   # per wave: the segment column (or one None per respondent)
        read: dict[str, int] = {}   # data sha256 -> index of the first wave that read it
        for i, wave in enumerate(self.waves):
            survey = self.read_wave(wave, inst)
            first = read.setdefault(survey.provenance.sha256, i)
            if first != i:
                warnings.warn(f"waves[{i}].data: the same data as waves[{first}] ({self.waves[first].name!r}): "
                              "two waves of the study read the same answers", DataWarning, stacklevel=2)
            if col is None:
                columns.append(pd.Series([None] * survey.n, dtype=object))
                continue
            # values become folder names, run parameters and summary entries
            self._refuse_personal_segments(survey.data[col], wave.data)
            columns.append(survey.data[col])
        seen: dict[str, Any] = {}
        if col is not None and self.segment_values is not None:
            seen = {_text(v): v for v in self.segment_values}
        elif col is not None:
            for values in columns:
                for v in values.dropna().unique():
                    seen.setdefault(_text(v), v)
        order = sorted(seen, key=str)
        labels = segment_labels(order)
        rows: list[dict[str, Any]] = []
        for i, (wave, values) in enumerate(zip(self.waves, columns)):
            rows.append({"wave": wave.name, "segment": "all", "value": None, "n": int(len(values))})
            counts = values.dropna().map(_text).value_counts()
            absent = [k for k in order if k not in counts]
            if absent:
                from ..privacy import quote

                given = "given in the study file" if self.segment_values is not None else "found in other waves"
                warnings.warn(
                    f"waves[{i}] ({wave.name!r}): nobody in the wave has the segment value(s) "
                    f"{', '.join(quote(seen[k]) for k in absent[:10])}"
                    + (f" and {len(absent) - 10} more" if len(absent) > 10 else "")
                    + f" of {col!r} ({given}), so "
                    "the wave has no results for them: check the spelling of the values, or the wave's file",
                    DataWarning, stacklevel=2)
            # the values given in the study file, else those found in this wave
            # (labelled over all waves, so a value keeps its folder from wave to wave)
            for key in (order if self.segment_values is not None else [k for k in order if k in counts]):
                rows.append({"wave": wave.name, "segment": labels[key], "value": seen[key],
                             "n": int(counts.get(key, 0))})
        frame = pd.DataFrame(rows, columns=["wave", "segment", "value", "n"])
        frame["value"] = pd.Series([r["value"] for r in rows], index=frame.index, dtype=object)
        frame["wave"] = frame["wave"].astype(object)
        frame["segment"] = frame["segment"].astype(object)
        return frame

    def _refuse_personal_segments(self, column: pd.Series, data: Path) -> None:
        """A segment column's values become folder names, run parameters and
        summary entries: refuse one that is declared personal data, is named
        like personal data, or holds (or whose values in the study file are)
        a single value that looks personal (:func:`csmlib.privacy.check_role_column`)."""
        from ..privacy import check_role_column

        why = check_role_column(str(self.segment_column),
                                [*column.dropna(), *(self.segment_values or ())],
                                declared=_declared_pii(self.instrument))
        if why is not None:
            raise StudyError(
                f"{why}: segment values become folder names, run records and summary entries, "
                "so personal data cannot segment a study",
                file=str(data), column=str(self.segment_column),
                hint="segment by a non-personal column (region, channel, ...), or replace the "
                     "values with pseudonymous codes in the export")


def _declared_pii(instrument: Path) -> tuple[str, ...]:
    """The instrument's ``pii_columns`` as written (the instrument itself is
    validated where it is loaded; an unreadable one declares nothing here)."""
    try:
        doc = load_yaml(Path(instrument).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()
    pii = doc.get("pii_columns") if isinstance(doc, dict) else None
    if isinstance(pii, str):
        return (pii,)
    return tuple(str(c) for c in pii) if isinstance(pii, (list, tuple)) else ()


#: characters never kept in a segment folder name (path separators, characters
#: Windows forbids, control characters, and ``~``, which marks a hashed label)
_UNSAFE = re.compile(r'[\\/:*?"<>|~\x00-\x1f\x7f]')
#: longest segment folder name, in UTF-8 bytes, before its hash is added
LABEL_MAX_BYTES = 80
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                               *(f"LPT{i}" for i in range(1, 10))})


def _text(value: Any) -> str:
    """A segment value as text: ``2.0`` -> ``"2"``, surrounding spaces stripped."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def segment_label(value: Any, *, hashed: bool = False) -> str:
    """The folder name of a segment value.

    The value's text itself when it is a safe folder name (no path
    separators, characters Windows forbids, control or invisible format
    characters (right-to-left overrides, zero-width spaces) or ``~``; not
    ``all``, empty, led or ended by a dot or space, or a Windows device
    name; at most :data:`LABEL_MAX_BYTES` bytes); otherwise (or with
    ``hashed=True``) a safe slug of it, cut to that length, then ``~`` and
    the first 10 hex digits of the SHA-256 of the text.  Labels of different
    values differ: unhashed labels are the values themselves and hold no ``~``.

    Parameters
    ----------
    value
        The segment value.
    hashed : bool
        Always add the hash (used when labels would differ only in case).

    Returns
    -------
    str
    """
    text = _text(value)
    slug = "".join("_" if is_invisible(c) else c
                   for c in _UNSAFE.sub("_", text)).strip(" .")
    safe = (slug == text and text not in {"", "all"} and len(text.encode("utf-8")) <= LABEL_MAX_BYTES
            and text.split(".")[0].upper() not in _WINDOWS_RESERVED)
    if safe and not hashed:
        return text
    while len(slug.encode("utf-8")) > LABEL_MAX_BYTES:
        slug = slug[:-1]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{slug or '_'}~{digest}"


def segment_labels(values: Any) -> dict[str, str]:
    """``{value text: folder label}`` for the segment values of one study.

    :func:`segment_label` of each value; values whose labels differ only in
    case (``North``, ``north``) or in characters file systems fold (Unicode
    normalisation) get hashed labels, so that they keep
    different folders on file systems that ignore case (macOS, Windows).

    Returns
    -------
    dict
        Keyed by the value's text (``2.0`` -> ``"2"``).
    """
    texts = list(dict.fromkeys(_text(v) for v in values))
    plain = {t: segment_label(t) for t in texts}
    folded: dict[str, int] = {}
    for label in plain.values():
        folded[_folder_key(label)] = folded.get(_folder_key(label), 0) + 1
    return {t: (segment_label(t, hashed=True) if folded[_folder_key(lab)] > 1 else lab)
            for t, lab in plain.items()}


# --------------------------------------------------------------------------- loading
_FIELDS: dict[str, type[BaseModel]] = {
    "": _StudyModel, "waves": _WaveModel, "segments": _SegmentsModel, "complaints": _ComplaintsModel,
}


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    parent = [p for p in loc[:-1] if not isinstance(p, int)]
    model = _FIELDS.get(".".join(parent))
    return list(model.model_fields) if model is not None else []


def _check_windows(waves: tuple[Wave, ...], file: Path) -> None:
    """The fieldwork windows of the waves that have one, in the waves' order,
    none overlapping the one before it."""
    windowed = [(i, w) for i, w in enumerate(waves) if w.start is not None]
    for (i, before), (j, after) in zip(windowed, windowed[1:]):
        if after.start <= before.end:
            raise StudyError(
                f"waves[{j}]: the fieldwork window of {after.name} ({after.start} to {after.end}) "
                + ("overlaps" if after.end >= before.start else "comes before")
                + f" that of {before.name} ({before.start} to {before.end})",
                file=str(file), values=[f"waves[{i}]", f"waves[{j}]"],
                hint="list the waves in time order, each window starting after the previous one ends "
                     "(a day in two windows would count its complaints in two waves' reports)")


def _validation_error(exc: ValidationError, file: Path) -> StudyError:
    lines = []
    first_hint = None
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = field_path(loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            valid = _valid_keys(loc)
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            msg = f"{where}: unknown key"
            hint = (f"did you mean {close[0]!r}? " if close else "") + (
                f"valid keys here: {', '.join(valid)}" if valid else "remove the key")
            msg += f" ({hint})"
            first_hint = first_hint or hint
        elif err["type"] == "missing":
            msg = f"{where}: required key is missing"
            first_hint = first_hint or f"add {where} to the study file"
        else:
            value = err.get("input")
            shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
            msg = f"{where}: {err['msg']} (got {shown[:60]})"
        lines.append(msg)
    return StudyError(
        "invalid study file:\n    " + "\n    ".join(lines),
        file=str(file),
        hint=first_hint or "fix the keys listed above (see csmlib.run.study for the format)",
    )


def _expand(value: str | Path, key: str, file: Path | str) -> Path:
    """``value`` with ``~`` / ``~user`` expanded; an unknown user is a StudyError."""
    try:
        return Path(value).expanduser()
    except RuntimeError:   # "Could not determine home directory" (~nosuchuser/...)
        raise StudyError(f"{key}: cannot expand {str(value)!r}: no home folder is known for "
                         f"{str(value).split('/')[0]!r}", file=str(file), values=[str(value)],
                         hint="write the path without '~user' (relative to the study file, or absolute)") from None


def _check_output(run_dir: Path, file: Path) -> None:
    """The study's output folder can be made: the nearest part of
    ``run_dir`` that exists is a folder, and a writable one."""
    existing = run_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise StudyError(f"output: {existing} is a file, not a folder, so the outputs cannot go to {run_dir}",
                         file=str(file), values=[str(existing)],
                         hint="move or rename that file, or choose another output folder "
                              "(output: in the study file, or --output)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StudyError(f"output: the folder {existing} is not writable, so the outputs cannot go to {run_dir}",
                         file=str(file), values=[str(existing)],
                         hint="make it writable, or choose another output folder "
                              "(output: in the study file, or --output)")


def _resolve_file(base: Path, value: str, key: str, file: Path, what: str) -> Path:
    p = _expand(value, key, file)
    p = p if p.is_absolute() else (base / p)
    p = p.resolve()
    if not p.is_file():
        raise StudyError(
            f"{key}: {what} not found: {value}",
            file=str(file),
            values=[str(p)],
            hint="paths in a study file are relative to the study file's folder",
        )
    return p


def _notebook_folder(base: Path, value: str | None, file: Path) -> Path:
    """The study's own notebook folder: ``notebook_folder`` (which must
    exist when given) or ``<study folder>/notebooks``."""
    if value is None:
        return base / "notebooks"
    folder = Path(value).expanduser()
    folder = (folder if folder.is_absolute() else base / folder).resolve()
    if not folder.is_dir():
        raise StudyError(f"notebook_folder: folder not found: {value}", file=str(file),
                         values=[str(folder)],
                         hint="paths in a study file are relative to the study file's folder")
    return folder


def _is_notebook_path(entry: str) -> bool:
    """A ``notebooks`` entry that is a path (relative to the study file), not a name."""
    return entry.endswith(".ipynb") or "/" in entry or "\\" in entry


def _is_model_file(value: str) -> bool:
    """A ``model`` value that names a ``.lavaan`` file (relative to the study file)."""
    text = value.strip()
    return text.endswith(".lavaan") and "\n" not in text


def _resolve_notebook(base: Path, entry: str, key: str, file: Path, own: Path) -> NotebookRef:
    if _is_notebook_path(entry):
        path = _resolve_file(base, entry, key, file, "notebook")
        return NotebookRef(name=path.stem, path=path)
    folders = (own, project_notebooks())
    candidates = [d / f"{entry}.ipynb" for d in folders]
    for c in candidates:
        if c.is_file():
            return NotebookRef(name=entry, path=c.resolve())
    known = sorted({p.stem for d in folders if d.is_dir()
                    for p in d.glob("*.ipynb") if not p.stem.startswith("_")})
    close = difflib.get_close_matches(entry, known, n=1)
    raise StudyError(
        f"{key}: no notebook named {entry!r}",
        file=str(file),
        values=[str(c) for c in candidates],
        hint=(f"did you mean {close[0]!r}? " if close else "")
        + (f"available: {', '.join(known)}" if known else "give a path to the .ipynb file"),
    )


def _resolve_model_entry(base: Path, value: str, file: Path) -> str:
    text = value.strip()
    if _is_model_file(text):
        path = _resolve_file(base, text, "model", file, "model file")
        try:
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise StudyError(f"model: the model file is not UTF-8 text (byte {exc.start})",
                             file=str(path), hint="save the .lavaan file as UTF-8") from None
    if any(op in text for op in ("=~", "~", "<~")):
        return text
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
        raise StudyError(
            "model: neither a model name, lavaan text nor a .lavaan file",
            file=str(file), values=[value[:60]],
            hint="write e.g. 'model: acsi', or the lavaan text, or 'model: my_model.lavaan'",
        )
    try:
        from ..spec import models
    except ImportError:  # the model library is not there yet: checked when the notebook runs
        return text
    names = list(getattr(models, "__all__", None) or [
        n for n in dir(models) if not n.startswith("_") and callable(getattr(models, n))])
    if text not in names:
        close = difflib.get_close_matches(text, names, n=1)
        raise StudyError(
            f"model: no model named {text!r} in csm.models",
            file=str(file), values=[text],
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + "use a csm.models name, lavaan text or a .lavaan file",
        )
    return text


def resolve_model(model: str):
    """The :class:`~csmlib.spec.ModelSpec` for a study's ``model`` value.

    Parameters
    ----------
    model : str
        A ``csm.models`` name (``"acsi"``) or lavaan model text, as passed to
        notebooks in the ``model`` parameter.

    Returns
    -------
    ModelSpec
    """
    from ..spec.modelspec import ModelSpec

    text = model.strip()
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
        from ..spec import models

        builder = getattr(models, text, None)
        if builder is None or not callable(builder):
            raise StudyError(f"no model named {text!r} in csm.models", values=[text],
                             hint="use a csm.models name or lavaan text")
        return builder()
    return ModelSpec.from_lavaan(text)


def load_study(path: str | Path, *, output: str | Path | None = None) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path : path-like
        The study YAML file.
    output : path-like, optional
        Overrides the file's ``output`` (the output root; relative to the
        current directory).

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        Unreadable YAML, unknown or missing keys, bad values, files that do not
        exist -- naming the file, the key path and what to do.
    """
    file = _expand(path, "study file", path).resolve()
    if not file.is_file():
        raise StudyError("study file not found", file=str(path),
                         hint="give the path to a study .yml file")
    try:
        raw = load_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise StudyError(
            f"the study file is not valid YAML ({getattr(exc, 'problem', exc)})",
            file=str(file),
            rows=[mark.line + 1] if mark is not None else None,
            hint="fix the YAML syntax at the line shown (indentation, quotes, colons)",
        ) from None
    except UnicodeDecodeError:
        raise StudyError("the study file is not UTF-8 text", file=str(file),
                         hint="save it as UTF-8") from None
    if not isinstance(raw, dict):
        raise StudyError("the study file must be a YAML mapping (key: value lines)",
                         file=str(file), hint="see csmlib.run.study for the format")
    try:
        m = _StudyModel.model_validate(raw)
    except ValidationError as exc:
        raise _validation_error(exc, file) from None

    base = file.parent
    names = [w.name for w in m.waves]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise StudyError("waves: wave names are repeated", file=str(file), values=dup,
                         hint="give every wave a distinct name")
    _refuse_same_folder(names, "waves", "wave", file)
    waves = tuple(
        Wave(w.name, _resolve_file(base, w.data, f"waves[{i}].data", file, "data file"),
             encoding=w.encoding, sheet=w.sheet, start=w.start, end=w.end)
        for i, w in enumerate(m.waves)
    )
    for i, w in enumerate(waves):
        _check_sheet(w.data, w.sheet, f"waves[{i}].sheet", file)
    _check_windows(waves, file)
    instrument = _resolve_file(base, m.instrument, "instrument", file, "instrument file")
    own = _notebook_folder(base, m.notebook_folder, file)
    notebooks = tuple(
        _resolve_notebook(base, e, f"notebooks[{i}]", file, own) for i, e in enumerate(m.notebooks)
    )
    nb_names = [n.name for n in notebooks]
    dup = sorted({n for n in nb_names if nb_names.count(n) > 1})
    if dup:
        raise StudyError("notebooks: notebook names are repeated", file=str(file), values=dup,
                         hint="list every notebook once")
    _refuse_same_folder(nb_names, "notebooks", "notebook", file)
    if "report" in m.model_fields_set and m.report not in nb_names:
        close = difflib.get_close_matches(m.report, nb_names, n=1)
        raise StudyError(
            f"report: {m.report!r} is not one of the study's notebooks, so no report would be made",
            file=str(file), values=[m.report],
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + f"name one of: {', '.join(nb_names)} (or add it to notebooks:)")
    bad = sorted(set(m.parameters) & RESERVED_PARAMETERS)
    if bad:
        raise StudyError(
            "parameters: these names are set by csm run for every notebook",
            file=str(file), values=[f"parameters.{b}" for b in bad],
            hint="remove them from parameters (use the study keys: waves, segments, model, ...)",
        )
    for k in m.parameters:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(k)):
            raise StudyError(f"parameters.{k}: not a valid parameter name", file=str(file),
                             hint="use Python identifiers (letters, digits, _)")
    _refuse_personal_text(m, file)
    complaints = _complaint_source(base, m.complaints, file, nb_names)
    model = _resolve_model_entry(base, m.model, file)
    segment_column = m.segments.column if m.segments else None
    inst = _check_against_instrument(instrument, model, segment_column, m.parameters, file)
    _check_parameter_names(m.parameters, notebooks, file)
    _check_pls_model(model, notebooks, file)
    actions = _check_actions(m.actions, names, inst, model, file)
    out = _expand(output if output is not None else m.output, "output", file)
    _check_output(out.resolve() / m.name, file)
    return Study(
        name=m.name,
        path=file,
        instrument=instrument,
        model=model,
        waves=waves,
        segment_column=segment_column,
        segment_values=tuple(m.segments.values) if m.segments and m.segments.values else None,
        notebooks=notebooks,
        parameters=dict(m.parameters),
        min_base=m.min_base,
        multiplicity=m.multiplicity,
        output=out.resolve(),
        report=m.report,
        timeout=m.timeout,
        actions=actions,
        complaints=complaints,
        language=report_language(m.language, inst),
    )


def relocate_study(path: str | Path, target: str | Path, *, first_waves: int | None = None,
                   parameters: dict[str, Any] | None = None, **changes: Any) -> Path:
    """Write a copy of a study file in another folder that reads the same
    files: every path the file gives relative to its own folder is made
    absolute, so the copy runs from anywhere (tests and benchmarks run the
    demo study this way, with their own output folder).

    The paths made absolute: ``instrument``, every wave's ``data``, the
    complaint log and codebook, ``notebooks`` entries that are paths,
    ``notebook_folder`` (and the study's own ``notebooks/`` folder when the
    file names none and that folder exists), and a ``.lavaan`` model file.
    ``output`` stays as it is (it is relative to the current folder), and so
    do paths that start with ``~``.  Nothing is validated here:
    :func:`load_study` checks the copy.

    Parameters
    ----------
    path : path-like
        The study file.
    target : path-like
        The file to write; its folder is created.
    first_waves : int, optional
        Keep only the first ``first_waves`` waves (after ``changes``);
        actions that name a wave no longer there are dropped.
    parameters : dict, optional
        Notebook parameters merged into the study's ``parameters``.
    **changes
        Top-level keys to replace (``output=``, ``notebooks=``,
        ``actions=``, ``name=``, ...), applied before the paths are made
        absolute, so that their paths, like the file's own, are relative to
        the original study file's folder (or absolute); ``None`` removes the
        key.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    from ..atomic import write_text

    source = Path(path).expanduser().resolve()
    base = source.parent
    doc = load_yaml(source.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise StudyError("the study file must be a YAML mapping (key: value lines)", file=str(source),
                         hint="see csmlib.run.study for the format")
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    if parameters:
        doc["parameters"] = {**(doc.get("parameters") or {}), **parameters}

    def absolute(value: str) -> str:
        p = Path(value)
        return value if value.startswith("~") or p.is_absolute() else str(base / p)

    def file_value(value: Any) -> Any:
        return absolute(value) if isinstance(value, str) else value

    all_waves = [w for w in doc.get("waves") or [] if isinstance(w, dict)]
    if first_waves is not None:
        kept = {w.get("name") for w in all_waves[:first_waves]}
        doc["waves"] = all_waves[:first_waves]
        actions = [a for a in doc.get("actions") or []
                   if a.get("baseline_wave") in kept and a.get("due_wave") in kept]
        if actions:
            doc["actions"] = actions
        else:
            doc.pop("actions", None)
    if "waves" in doc:
        doc["waves"] = [dict(w, data=file_value(w.get("data"))) if isinstance(w, dict) else w
                        for w in doc["waves"]]
    if "instrument" in doc:
        doc["instrument"] = file_value(doc["instrument"])
    if isinstance(doc.get("complaints"), dict):
        doc["complaints"] = {k: file_value(v) if k in ("log", "codebook") else v
                             for k, v in doc["complaints"].items()}
    if isinstance(doc.get("notebooks"), list):
        doc["notebooks"] = [absolute(e) if isinstance(e, str) and _is_notebook_path(e) else e
                            for e in doc["notebooks"]]
    if doc.get("notebook_folder"):
        doc["notebook_folder"] = file_value(doc["notebook_folder"])
    elif (base / "notebooks").is_dir():
        doc["notebook_folder"] = str(base / "notebooks")
    if isinstance(doc.get("model"), str) and _is_model_file(doc["model"]):
        doc["model"] = absolute(doc["model"].strip())
    return write_text(target, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def notebook_parameters(path: str | Path) -> tuple[str, ...]:
    """The parameters a notebook declares: the names assigned in its cell
    tagged ``parameters`` (papermill's convention), in order.

    Read with :mod:`ast` from the notebook's JSON (what
    ``papermill.inspect_notebook`` reports for a Python notebook, without
    importing papermill); a notebook without such a cell declares none.

    Raises
    ------
    StudyError
        The file is not a notebook, or its parameters cell is not Python.
    """
    import ast

    path = Path(path)
    names: list[str] = []
    for cell in _code_cells(path):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = _source(cell)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise StudyError(f"the notebook's parameters cell is not valid Python (line {exc.lineno})",
                             file=str(path), hint="fix the cell tagged 'parameters'") from None
        for node in tree.body:
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.append(n.id)
    return tuple(names)


def _code_cells(path: Path) -> list[dict[str, Any]]:
    """The code cells of the notebook ``path`` (a StudyError if it is not one)."""
    import json

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [c for c in cells if c.get("cell_type") == "code"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StudyError(f"the notebook cannot be read ({type(exc).__name__})", file=str(path),
                         hint="save it again from Jupyter (a .ipynb file is JSON)") from None


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def fits_pls(path: str | Path) -> bool:
    """Whether the notebook ``path`` fits PLS path models: it takes the
    ``pls_missing`` parameter (every PLS notebook of csm workbench does), or
    its code calls ``fit_pls``."""
    path = Path(path)
    return "pls_missing" in notebook_parameters(path) or any(
        "fit_pls" in _source(c) for c in _code_cells(path))


def _check_pls_model(model: str, notebooks: tuple[NotebookRef, ...], file: Path) -> None:
    """When notebooks of the study fit PLS, the model must be one PLS can
    estimate: a loop of paths (a non-recursive model) is refused by
    :func:`csmlib.fit_pls` in every run, so it is refused here, before any
    run, naming the loop and the notebooks.  (CB-SEM notebooks alone may fit
    a non-recursive model.)"""
    pls = [nb.name for nb in notebooks if fits_pls(nb.path)]
    if not pls:
        return
    from ..estimate.pls import check_recursive

    try:
        check_recursive(resolve_model(model))
    except CsmError as exc:
        raise StudyError(f"model: {exc.message}; the notebooks {', '.join(pls)} fit PLS",
                         file=str(file), values=exc.values,
                         hint=f"{exc.hint}, or remove the PLS notebooks from notebooks:") from None


def _check_parameter_names(parameters: dict[str, Any], notebooks: tuple[NotebookRef, ...],
                           file: Path) -> None:
    """Every study parameter is declared by at least one of the study's
    notebooks: a misspelt one (``n_bot``) was passed to every notebook and
    silently ignored.  Refused naming the key, the closest declared
    parameter and the notebooks."""
    declared: set[str] = set()
    for nb in notebooks:
        declared.update(notebook_parameters(nb.path))
    unknown = [k for k in parameters if k not in declared]
    if not unknown:
        return
    offered = sorted(declared - RESERVED_PARAMETERS)
    lines = []
    for k in unknown:
        close = difflib.get_close_matches(k, offered, n=1)
        lines.append(f"parameters.{k}: no notebook of the study has this parameter"
                     + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise StudyError(
        "unknown parameters:\n    " + "\n    ".join(lines), file=str(file),
        hint=f"fix the name, or remove it; the notebooks ({', '.join(nb.name for nb in notebooks)}) "
             f"take: {', '.join(offered) or '(no parameters)'}")


def _folder_key(name: str) -> str:
    """What a file system that folds names keeps of ``name``: Unicode
    normalised (NFKC; macOS compares decomposed forms), case folded (macOS,
    Windows) and trailing dots and spaces dropped (Windows).  Two names
    with the same key share a folder or file there."""
    return unicodedata.normalize("NFKC", name).casefold().rstrip(" .")


def _refuse_same_folder(names: list[str], key: str, what: str, file: Path) -> None:
    """Distinct names (waves, notebooks) that a file system would take for
    one (``2026Q1`` and ``2026q1``, ``w1`` and ``w1.``) would write their
    outputs into the same folder or files: refused, naming both entries."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        j = seen.setdefault(_folder_key(name), i)
        if j != i:
            raise StudyError(
                f"{key}[{j}] and {key}[{i}]: the {what} names {names[j]!r} and {name!r} differ only in "
                "case, in trailing dots or spaces, or in characters that file systems fold, so on macOS "
                "and Windows their outputs would go to the same folder",
                file=str(file), values=[names[j], name],
                hint=f"give the {what}s names that differ in more than case (e.g. 2026Q1, 2026Q2)")


def _leaves(value: Any, key: str) -> Iterator[tuple[str, Any]]:
    """``(key path, value)`` of every key and scalar in a parameter value
    (mappings and lists walked: ``parameters.contacts[0]``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{key} (a key)", k
            yield from _leaves(v, f"{key}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{key}[{i}]")
    else:
        yield key, value


def _refuse_personal_text(m: _StudyModel, file: Path) -> None:
    """Refuse personal data in the study file's text that reaches every
    notebook as a parameter: ``parameters`` (keys and values, nested ones
    too), the study and wave names, the segment values the file lists, the
    actions' names, owners and targets.

    They are recorded as given in each run's ``.run.json``, in papermill's
    injected-parameters cell of the executed ``.ipynb``, and may be shown in
    reports; masking them in the records alone would leave the notebook
    computing with, and a report showing, the real value, and would make the
    record differ from what ran.  So a value in which
    :func:`csmlib.privacy.mask_text` finds an e-mail address, phone number
    (Chinese mobile and landline included), Chinese identity number or IP
    address is a StudyError naming the key, with the value masked.
    """
    from ..privacy import mask_value, quote

    texts: list[tuple[str, Any]] = [("name", m.name)]
    texts += [(f"waves[{i}].name", w.name) for i, w in enumerate(m.waves)]
    if m.segments is not None and m.segments.values:
        texts += [(f"segments.values[{i}]", v) for i, v in enumerate(m.segments.values)]
    for i, a in enumerate(m.actions):
        texts += [(f"actions[{i}].{k}", getattr(a, k)) for k in ("name", "owner", "target")]
    for k, v in m.parameters.items():
        texts += list(_leaves(v, f"parameters.{k}"))
        texts.append((f"parameters.{k} (the name)", k))
    # (a value is returned as it is when nothing in it looks personal: NaN too)
    found = [(key, v) for key, v in texts if mask_value(v) is not v and mask_value(v) != v]
    if found:
        raise StudyError(
            "the study file holds what looks like personal data (an e-mail address, phone number, "
            "identity number or IP address), which would be recorded in every run and report: "
            + "; ".join(f"{key} = {quote(v)}" for key, v in found[:10]),
            file=str(file),
            hint="remove personal data from the study file (keep client contacts elsewhere); if the "
                 "value is not personal data, write it without the separators or prefixes that make it "
                 "look like a phone number",
        )


def _complaint_source(base: Path, block: Any, file: Path, notebooks: list[str]) -> ComplaintSource | None:
    """The ``complaints:`` block with its files found and the codebook valid;
    a notebook that reads the log without the block is an error."""
    if block is None:
        needs = sorted(set(notebooks) & COMPLAINT_NOTEBOOKS)
        if needs:
            raise StudyError(f"notebooks: {', '.join(needs)} reads the study's complaint log, "
                             "but the study file has no complaints: block", file=str(file),
                             hint="add complaints: {log: tickets.csv, codebook: complaints.yml}, "
                                  "or remove the notebook")
        return None
    from ..data.complaint_log import ComplaintCodebook

    log = _resolve_file(base, block.log, "complaints.log", file, "complaint log")
    codebook = _resolve_file(base, block.codebook, "complaints.codebook", file, "complaint codebook")
    try:
        ComplaintCodebook.from_yaml(codebook)
    except CsmError as exc:
        raise StudyError(f"complaints.codebook: {exc.message}", file=str(file),
                         hint=exc.hint or "fix the complaint codebook") from None
    _check_sheet(log, block.sheet, "complaints.sheet", file)
    return ComplaintSource(log=log, codebook=codebook, encoding=block.encoding, sheet=block.sheet)


def _check_sheet(data: Path, sheet: str | int | None, key: str, file: Path) -> None:
    """A ``sheet`` given for a file that is not an Excel workbook is refused
    (it was ignored): :func:`csmlib.data.survey.check_sheet`, as a StudyError
    naming the key.  A file whose format cannot be told is left to its reader."""
    if sheet is None:
        return
    from ..data.readers import detect_format
    from ..data.survey import check_sheet

    try:
        fmt = detect_format(data, b"")
    except CsmError:
        return
    try:
        check_sheet(data, fmt, sheet, key=key)
    except CsmError as exc:
        raise StudyError(exc.message, file=str(file), values=[sheet],
                         hint=f"{exc.hint} (the file: {data.name})") from None


#: notebook parameters the study checks before anything runs:
#: name -> (what a valid value is, test)
_PARAMETER_RULES: dict[str, tuple[str, Any]] = {
    "n_boot": ("a whole number above 0", lambda v: _whole(v) and v > 0),
    "n_perm": ("a whole number above 0", lambda v: _whole(v) and v > 0),
    "seed": ("a whole number, 0 or more", lambda v: _whole(v) and v >= 0),
    "scheme": ("one of 'path', 'centroid', 'factorial'", lambda v: v in ("path", "centroid", "factorial")),
    "pls_missing": ("'mean' or 'listwise'", lambda v: v in ("mean", "listwise")),
    "cbsem_missing": ("'fiml' or 'listwise'", lambda v: v in ("fiml", "listwise")),
    "cbsem_estimator": ("'ML', 'MLR' or 'WLSMV'", lambda v: v in ("ML", "MLR", "WLSMV")),
    "compare_estimators": ("true or false", lambda v: isinstance(v, bool)),
}
#: parameters naming a construct of the model, or an item of the instrument ("" = none)
_CONSTRUCT_PARAMETERS = ("index_construct", "target", "loyalty_construct")
_ITEM_PARAMETERS = ("recommend_item", "csat_item", "complained_item")


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_against_instrument(instrument: Path, model: str, segment_column: str | None,
                              parameters: dict[str, Any], file: Path) -> Any:
    """What the notebooks would find wrong later: the instrument does not load,
    the model does not parse or names items the instrument lacks, the
    segment column is not one of the instrument's, or a parameter is invalid.
    Returns the instrument."""
    from ..data.instrument import Instrument

    inst = Instrument.from_yaml(instrument)
    try:
        spec = resolve_model(model)
    except CsmError as exc:
        raise StudyError(f"model: {exc.message}", file=str(file), column=exc.column, values=exc.values,
                         hint=exc.hint) from None
    absent = [i for i in spec.indicators if i not in inst.item_names]
    if absent:
        close = {i: difflib.get_close_matches(i, inst.item_names, n=1) for i in absent}
        sugg = [f"{i!r} -> {c[0]!r}?" for i, c in close.items() if c]
        raise StudyError(f"model: {len(absent)} indicator(s) of the model are not items of the instrument",
                         file=str(file), column=absent,
                         hint=("rename them in the model or declare them in the instrument "
                               f"({instrument.name})" + (f"; similar items: {', '.join(sugg)}" if sugg else "")))
    if segment_column is not None and segment_column not in inst.segment_columns:
        raise StudyError(f"segments.column: {segment_column!r} is not a segment column of the instrument",
                         file=str(file), column=segment_column,
                         hint=f"declare it in segment_columns of {instrument.name}"
                         + (f" (it declares: {', '.join(inst.segment_columns)})" if inst.segment_columns else ""))
    problems = []
    for key, (what, ok) in _PARAMETER_RULES.items():
        if key in parameters and not ok(parameters[key]):
            problems.append(f"parameters.{key}: must be {what} (got {parameters[key]!r})")
    for key in _CONSTRUCT_PARAMETERS:
        v = parameters.get(key)
        if key in parameters and v not in spec.construct_names:
            problems.append(f"parameters.{key}: {v!r} is not a construct of the model "
                            f"(constructs: {', '.join(spec.construct_names)})")
    for key in _ITEM_PARAMETERS:
        v = parameters.get(key)
        if key in parameters and v != "" and v not in inst.item_names:
            problems.append(f"parameters.{key}: {v!r} is not an item of the instrument (use \"\" for none)")
    if parameters.get("cbsem_estimator") == "WLSMV":
        if inst.weight_column is not None:
            problems.append("parameters.cbsem_estimator: WLSMV cannot use the instrument's survey weights "
                            "(use MLR)")
        single = [c.name for c in spec.constructs if len(c.indicators) == 1 and c.indicators[0] != c.name]
        if single:
            problems.append("parameters.cbsem_estimator: WLSMV needs two or more items per construct; "
                            f"measured by one item: {', '.join(single)} (use ML or MLR)")
    if problems:
        raise StudyError("invalid parameters:\n    " + "\n    ".join(problems), file=str(file),
                         hint="fix the values under parameters: in the study file")
    return inst


def _check_actions(models: list[_ActionModel], waves: list[str], inst: Any, model: str,
                   file: Path) -> tuple[Action, ...]:
    """The study's actions, each checked: a distinct name, a target that is a
    construct of the model or an item of the instrument (``inst``), a target
    value on its scale, baseline and due waves of the study with the due wave
    later."""
    if not models:
        return ()
    constructs = list(resolve_model(model).construct_names)
    problems = []
    seen: set[str] = set()
    for i, a in enumerate(models):
        key = f"actions[{i}]"
        if a.name in seen:
            problems.append(f"{key}.name: the action {a.name!r} is named twice")
        seen.add(a.name)
        for which in ("baseline_wave", "due_wave"):
            w = getattr(a, which)
            if w not in waves:
                problems.append(f"{key}.{which}: {w!r} is not a wave of the study (waves: {', '.join(waves)})")
        if a.baseline_wave in waves and a.due_wave in waves and \
                waves.index(a.due_wave) <= waves.index(a.baseline_wave):
            problems.append(f"{key}.due_wave: {a.due_wave!r} is not after the baseline wave {a.baseline_wave!r}")
        if a.target in constructs:
            if not 0 <= a.target_value <= 100:
                problems.append(f"{key}.target_value: {a.target_value} is outside the 0-100 index of "
                                f"construct {a.target!r}")
        elif a.target in inst.item_names:
            lo, hi = inst.item(a.target).scale
            if not lo <= a.target_value <= hi:
                problems.append(f"{key}.target_value: {a.target_value} is outside the scale [{lo}, {hi}] "
                                f"of item {a.target!r}")
        else:
            close = difflib.get_close_matches(a.target, constructs + inst.item_names, n=1)
            problems.append(f"{key}.target: {a.target!r} is neither a construct of the model nor an item "
                            "of the instrument" + (f" (did you mean {close[0]!r}?)" if close else ""))
    if problems:
        raise StudyError("invalid actions:\n    " + "\n    ".join(problems), file=str(file),
                         hint="fix the actions: in the study file (target: a construct or item; waves: "
                              "names under waves:, the due wave after the baseline)")
    return tuple(Action(a.name, a.owner, a.target, a.baseline_wave, float(a.target_value), a.due_wave)
                 for a in models)


def segment_mask(values: pd.Series, segment: str) -> pd.Series:
    """Rows of a segment, as the batch counts them.

    Parameters
    ----------
    values : pandas.Series
        The segment column of the survey data.
    segment : str
        The notebook parameter ``segment``: ``"all"`` or a segment label.

    Returns
    -------
    pandas.Series of bool
        ``True`` for the segment's rows (every row for ``"all"``).
    """
    if segment == "all":
        return pd.Series(True, index=values.index)
    # a label is the value's plain or hashed label (segment_labels hashes values
    # whose labels differ only in case), so match either
    hit = {v: segment in (segment_label(v), segment_label(v, hashed=True)) for v in values.dropna().unique()}
    return values.map(lambda v: (not pd.isna(v)) and hit[v]).astype(bool)
