"""Study files: everything a periodic study needs, described in one YAML file.

.. code-block:: yaml

    name: demo-acsi                  # study name (folder under the output folder)
    instrument: instrument.yml       # paths are relative to the study file
    model: acsi                      # a csm.models name, lavaan text, or a .lavaan file
    waves:                           # in time order
      - {name: 2026Q1, data: wave1.csv}
      - {name: 2026Q2, data: wave2.csv}
    segments:                        # optional; the whole sample ("all") is always run too
      column: region
      values: [North, South]         # optional; default: every value found in the data
    notebooks: [data_quality, measurement, structural, index_drivers, study_report]
    parameters: {n_boot: 2000, seed: 20260101, scheme: path}   # passed to every notebook
    min_base: 30                     # a wave x segment with fewer respondents is suppressed
    output: runs                     # relative to the current directory
    report: study_report             # optional: the notebook run once per wave (see csmlib.run.batch)
    timeout: 1800                    # optional: seconds a single notebook cell may take

:func:`load_study` validates the file with pydantic and turns every problem
into a :class:`~csmlib.errors.StudyError` that names the file, the key path
(``waves[1].data``) and what to do; an unknown key comes with the closest
valid key.

Notebook names resolve to ``<study folder>/notebooks/<name>.ipynb``, then the
project's ``notebooks/<name>.ipynb``; an entry ending in ``.ipynb`` is a path
relative to the study file.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import CsmError, StudyError
from ..data.instrument import field_path

__all__ = [
    "Study",
    "Wave",
    "NotebookRef",
    "load_study",
    "resolve_model",
    "RESERVED_PARAMETERS",
    "PROJECT_NOTEBOOKS",
    "segment_mask",
]

#: the project's notebooks folder (``notebooks/`` next to ``csmlib/``)
PROJECT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

#: parameters the batch sets for every run; a study's ``parameters`` may not set them
RESERVED_PARAMETERS = frozenset({
    "study", "wave", "previous_wave", "segment", "segment_column", "segment_value",
    "data_path", "instrument_path", "model", "results_path", "previous_results_path",
    "wave_results", "min_base", "notebook",
})

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\- ]*$")


# --------------------------------------------------------------------------- schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _WaveModel(_Strict):
    name: str = Field(min_length=1)
    data: str = Field(min_length=1)

    @field_validator("name", mode="before")
    @classmethod
    def _name_str(cls, v: Any) -> Any:
        # a YAML wave name like 2026 arrives as an int: accept it as text
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not _SAFE_NAME.match(v) or v in {".", ".."}:
            raise ValueError(
                "a wave name becomes a folder name: use letters, digits, '.', '_', '-' and "
                "spaces, starting with a letter or digit"
            )
        return v


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


class _StudyModel(_Strict):
    name: str = Field(min_length=1)
    instrument: str = Field(min_length=1)
    model: str = Field(min_length=1)
    waves: list[_WaveModel] = Field(min_length=1)
    segments: _SegmentsModel | None = None
    notebooks: list[str] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    min_base: int = Field(default=30, ge=0)
    output: str = "runs"
    report: str = "study_report"
    timeout: int = Field(default=1800, gt=0)

    @field_validator("name")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not _SAFE_NAME.match(v):
            raise ValueError(
                "the study name becomes a folder name: use letters, digits, '.', '_', '-' and "
                "spaces, starting with a letter or digit"
            )
        return v


# --------------------------------------------------------------------------- loaded study
@dataclass(frozen=True)
class Wave:
    """One wave of a study: its label and its data file (absolute path)."""

    name: str
    data: Path


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
    output : Path
        The output root (``runs/``); the study's outputs go to ``output / name``.
    report : str
        Name of the notebook run once per wave on the whole sample, after the
        wave's other notebooks.
    timeout : int
        Seconds a single notebook cell may run.
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
    output: Path = Path("runs")
    report: str = "study_report"
    timeout: int = 1800

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

    def segment_bases(self) -> pd.DataFrame:
        """Respondents per wave x segment, as used for ``min_base``.

        The base of a segment is the number of rows of the wave's data file
        whose segment column equals the value (compared as text); ``all`` is
        every row.  Rows are counted as exported: the notebooks may drop a few
        more (e.g. entirely empty answers).

        Returns
        -------
        pandas.DataFrame
            Columns ``wave, segment, value, n``; ``segment`` is the folder label
            (``"all"`` or the value as text), ``value`` the value as in the data
            (``None`` for ``all``).
        """
        rows: list[dict[str, Any]] = []
        for wave in self.waves:
            if self.segment_column is None:
                n = len(_read_columns(wave.data, []))
                rows.append({"wave": wave.name, "segment": "all", "value": None, "n": n})
                continue
            col = _read_columns(wave.data, [self.segment_column])[self.segment_column]
            self._refuse_personal_segments(col, wave.data)
            rows.append({"wave": wave.name, "segment": "all", "value": None, "n": int(len(col))})
            as_text = col.dropna().map(_label)
            if self.segment_values is None:
                values = sorted(set(as_text), key=str)
                lookup = {v: v for v in values}
            else:
                lookup = {_label(v): v for v in self.segment_values}
                values = list(lookup)
            counts = as_text.value_counts()
            for label in values:
                rows.append({"wave": wave.name, "segment": label, "value": lookup[label],
                             "n": int(counts.get(label, 0))})
        frame = pd.DataFrame(rows, columns=["wave", "segment", "value", "n"])
        frame["value"] = pd.Series([r["value"] for r in rows], index=frame.index, dtype=object)
        frame["wave"] = frame["wave"].astype(object)
        frame["segment"] = frame["segment"].astype(object)
        return frame

    def _refuse_personal_segments(self, column: pd.Series, data: Path) -> None:
        """A segment column's values become folder names, run parameters and
        summary entries: refuse one that is declared personal data, is named
        like personal data, or holds (or whose values in the study file are)
        a single value that looks personal (:func:`csmlib.data.privacy.check_role_column`)."""
        from ..data.privacy import check_role_column

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
        doc = yaml.safe_load(Path(instrument).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()
    pii = doc.get("pii_columns") if isinstance(doc, dict) else None
    if isinstance(pii, str):
        return (pii,)
    return tuple(str(c) for c in pii) if isinstance(pii, (list, tuple)) else ()


def _label(value: Any) -> str:
    """Folder label of a segment value: its text (``2.0`` -> ``"2"``), made path-safe."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    text = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", text)
    return text if text not in {"", ".", "..", "all"} else f"_{text}_"


def _read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read the given columns of a data file (all rows) for counting."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt", ".tsv"}:
            from ..data.readers import _sniff_delimiter

            with open(path, encoding="utf-8", errors="replace") as fh:
                sep = "\t" if suffix == ".tsv" else _sniff_delimiter(fh.read(1 << 16))
            header = pd.read_csv(path, sep=sep, nrows=0)
            _check_has(path, header.columns, columns)
            return pd.read_csv(path, sep=sep, usecols=columns or [header.columns[0]], dtype=str,
                               keep_default_na=True)
        if suffix in {".sav", ".zsav", ".dta"}:
            import pyreadstat

            reader = pyreadstat.read_sav if suffix != ".dta" else pyreadstat.read_dta
            _, meta = reader(str(path), metadataonly=True)
            _check_has(path, meta.column_names, columns)
            df, _ = reader(str(path), usecols=columns or [meta.column_names[0]])
            return df
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            df = pd.read_excel(path)
            _check_has(path, df.columns, columns)
            return df[columns] if columns else df
    except CsmError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the file named
        raise StudyError(
            f"cannot read the data file ({type(exc).__name__}: {exc})",
            file=str(path),
            hint="check that the file is a readable CSV, SPSS, Stata or Excel export",
        ) from None
    raise StudyError(
        f"unsupported data file type {suffix!r}",
        file=str(path),
        hint="use a .csv, .sav, .dta or .xlsx export",
    )


def _check_has(path: Path, available: Any, columns: list[str]) -> None:
    available = [str(c) for c in available]
    missing = [c for c in columns if c not in available]
    if missing:
        close = difflib.get_close_matches(missing[0], available, n=1)
        raise StudyError(
            "the segment column is not in the data file",
            file=str(path),
            column=missing,
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + "fix segments.column in the study file",
        )


# --------------------------------------------------------------------------- loading
_FIELDS: dict[str, type[BaseModel]] = {
    "": _StudyModel, "waves": _WaveModel, "segments": _SegmentsModel,
}


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    parent = [p for p in loc[:-1] if not isinstance(p, int)]
    model = _FIELDS.get(".".join(parent))
    return list(model.model_fields) if model is not None else []


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


def _resolve_file(base: Path, value: str, key: str, file: Path, what: str) -> Path:
    p = Path(value).expanduser()
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


def _resolve_notebook(base: Path, entry: str, key: str, file: Path) -> NotebookRef:
    if entry.endswith(".ipynb") or "/" in entry or "\\" in entry:
        path = _resolve_file(base, entry, key, file, "notebook")
        return NotebookRef(name=path.stem, path=path)
    candidates = [base / "notebooks" / f"{entry}.ipynb", PROJECT_NOTEBOOKS / f"{entry}.ipynb"]
    for c in candidates:
        if c.is_file():
            return NotebookRef(name=entry, path=c.resolve())
    known = sorted({p.stem for d in (base / "notebooks", PROJECT_NOTEBOOKS) if d.is_dir()
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
    if text.endswith(".lavaan") and "\n" not in text:
        path = _resolve_file(base, text, "model", file, "model file")
        return path.read_text(encoding="utf-8")
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
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise StudyError("study file not found", file=str(path),
                         hint="give the path to a study .yml file")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
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
    waves = tuple(
        Wave(w.name, _resolve_file(base, w.data, f"waves[{i}].data", file, "data file"))
        for i, w in enumerate(m.waves)
    )
    instrument = _resolve_file(base, m.instrument, "instrument", file, "instrument file")
    notebooks = tuple(
        _resolve_notebook(base, e, f"notebooks[{i}]", file) for i, e in enumerate(m.notebooks)
    )
    nb_names = [n.name for n in notebooks]
    dup = sorted({n for n in nb_names if nb_names.count(n) > 1})
    if dup:
        raise StudyError("notebooks: notebook names are repeated", file=str(file), values=dup,
                         hint="list every notebook once")
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
    model = _resolve_model_entry(base, m.model, file)
    out = Path(output) if output is not None else Path(m.output)
    return Study(
        name=m.name,
        path=file,
        instrument=instrument,
        model=model,
        waves=waves,
        segment_column=m.segments.column if m.segments else None,
        segment_values=tuple(m.segments.values) if m.segments and m.segments.values else None,
        notebooks=notebooks,
        parameters=dict(m.parameters),
        min_base=m.min_base,
        output=out.expanduser().resolve(),
        report=m.report,
        timeout=m.timeout,
    )


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
    return values.map(lambda v: (not pd.isna(v)) and _label(v) == segment).astype(bool)
