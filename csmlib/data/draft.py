"""Draft an instrument (codebook) from a survey export's own metadata.

An SPSS ``.sav`` or Stata ``.dta`` file already says what its columns mean:
variable labels (the question texts), value labels (the answer scale) and,
in SPSS, user-missing codes.  A Qualtrics CSV export carries its question
texts in the second header row and the question ids in the third
(``{"ImportId":"QID5_1"}``).  :func:`draft_instrument` turns that into an
instrument a researcher then edits, rather than types:

* numeric columns become items (``other_items``): the variable label as the
  question text, the value labels as labels, the scale from the smallest to
  the largest labelled or observed answer (user-missing codes and sentinel
  codes such as ``-99`` or ``99`` left out), the file's user-missing codes
  (and those sentinels, and codes beyond the scale whose value label means
  no answer: "don't know", "refused", "不知道", ...) as the item's
  ``missing_codes``, ``continuous`` when
  an answer has a fraction;
* columns holding personal data by name or content
  (:func:`csmlib.privacy.detect_personal_columns`) become ``pii_columns``;
  a unique identifier column the ``id_column``; a column called ``wave`` the
  ``wave_column``; a non-negative numeric ``weight`` column the
  ``weight_column``; text columns with a few distinct values
  ``segment_columns``; Qualtrics' own bookkeeping columns are left out;
* items whose names share a prefix (``CUSA1, CUSA2, CUSA3``; ``Q5_1, Q5_2``;
  Qualtrics ``QID5_1, QID5_2``) are *suggested* as constructs, in comments:
  which items measure which construct is the researcher's decision.

Everything the draft takes from the file (labels, names) is written by the
YAML emitter, never pasted into YAML text, so markup, newlines, YAML
specials, Chinese and very long labels read back exactly as they were.  The
draft guesses; every guess is listed in :attr:`Draft.notes` (as counts and
column names, never a value of the data).
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..errors import DataError
from ..privacy import check_role_column, detect_personal_columns, is_identifier_name
from .instrument import Instrument
from .readers import detect_format, read_raw

__all__ = ["Draft", "draft_instrument", "QUALTRICS_COLUMNS", "SENTINEL_CODES", "NON_ANSWER_LABEL"]

#: Qualtrics' bookkeeping columns: never items (personal ones are flagged as such).
QUALTRICS_COLUMNS = frozenset({
    "StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished", "RecordedDate",
    "DistributionChannel", "UserLanguage", "ExternalReference", "Q_RecaptchaScore", "Q_RelevantIDDuplicate",
    "Q_RelevantIDDuplicateScore", "Q_RelevantIDFraudScore", "Q_RelevantIDLastStartDate",
})
#: Codes that usually mean "no answer" when they lie well outside the other answers.
SENTINEL_CODES = (-999, -99, -98, -97, -9, -8, 9, 97, 98, 99, 997, 998, 999, 9999)
#: A text column with at most this many distinct values is suggested as a segment column.
MAX_SEGMENT_VALUES = 12
_WEIGHT_NAME = re.compile(r"^(weight|weights|wt|wgt|weging|gewicht|权重)$", re.IGNORECASE)
_PREFIX = re.compile(r"^(.+?)[_.\-]?(\d+)$")
#: Value labels that mean "no answer" (a code labelled so beyond the answer scale is a missing code).
NON_ANSWER_LABEL = re.compile(
    r"\b(don'?t know|do not know|dk|refused|refusal|no answer|not answered|not applicable|n/?a|"
    r"prefer not to (say|answer)|can'?t say|cannot say|no opinion|weet niet|geen antwoord|"
    r"wei(ß|ss) nicht|keine angabe|ne sais pas|no s[ée]|no sabe)\b|不知道|拒答|拒绝回答|不适用|说不清|无法回答",
    re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A drafted instrument.

    Attributes
    ----------
    instrument : dict
        The instrument as plain data (:meth:`Instrument.model_validate` reads it).
    suggestions : dict
        ``{construct name: [item names]}``: items grouped by name prefix.
    notes : tuple of str
        What the draft guessed and what to check (column names and counts,
        never a value of the data).
    source : str
        The file's name and format.
    wave : str or None
        The one value of the wave column, when the file holds a single wave.
    """

    instrument: dict
    suggestions: dict
    notes: tuple[str, ...] = ()
    source: str = ""
    wave: str | None = None
    _meta: dict = field(default_factory=dict, repr=False)

    def to_yaml(self) -> str:
        """The instrument YAML: a header comment, the instrument, and the
        construct suggestions as comments (uncomment and edit).

        Returns
        -------
        str
        """
        head = [
            "# Instrument (codebook) drafted by `csm init --from` from the metadata of",
            *_comment(f"{self.source}: variable labels as question texts, value labels and the answers",
                      prefix="# "),
            "# found as scales, user-missing codes as missing codes.  Check every item's scale",
            "# (the theoretical minimum and maximum, which the 0-100 index uses), its",
            "# missing codes and the personal-data columns; then move items into constructs.",
        ]
        if self.notes:
            head.append("#")
            head.append("# What the draft guessed:")
            for note in self.notes:
                head.extend(_comment(note, prefix="#   - "))
        body = yaml.safe_dump(self.instrument, allow_unicode=True, sort_keys=False, width=100,
                              default_flow_style=False)
        tail = ["", "# Suggested constructs: items whose names share a prefix.  To use one, move its",
                "# items from other_items into a construct (an item is declared once), e.g.:"]
        if self.suggestions:
            example = {"constructs": [{"name": name, "items": [{"name": i, "scale": list(self._meta.get(i, [1, 5]))}
                                                               for i in items]}
                                      for name, items in self.suggestions.items()]}
            tail.extend(_comment(yaml.safe_dump(example, allow_unicode=True, sort_keys=False, width=100),
                                 prefix="# "))
        else:
            tail.append("# (no two items share a name prefix: group the items by hand)")
        return "\n".join(head) + "\n" + body + "\n".join(tail) + "\n"

    def model_text(self) -> str:
        """A lavaan measurement model of the suggestions whose names are
        plain identifiers (``""`` when there is none): a starting point
        for the study file's ``model``.

        Returns
        -------
        str
        """
        ok = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
        lines = [f"{name} =~ " + " + ".join(items) for name, items in self.suggestions.items()
                 if ok.match(name) and all(ok.match(i) for i in items)]
        return "\n".join(lines)


def _comment(text: str, prefix: str) -> list[str]:
    """``text`` as comment lines: every line (and any line break a YAML or
    Python reader would see) starts with ``prefix``."""
    return [prefix + line for line in re.split(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]",
                                              text.rstrip("\n"))]


def _numeric(series: pd.Series) -> pd.Series | None:
    """The column as floats when every non-empty cell is a number, else None
    (dates and times are not numbers, though pandas would convert them to
    nanoseconds)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(series) \
            or pd.api.types.is_timedelta64_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    cells = series.astype(object).where(series.notna(), None)
    text = cells.map(lambda v: v.strip() if isinstance(v, str) else v)
    text = text.where(text != "", None)
    if text.map(lambda v: isinstance(v, (datetime.date, datetime.time, datetime.timedelta, np.datetime64,
                                         np.timedelta64))).any():
        return None
    num = pd.to_numeric(text, errors="coerce")
    if (num.isna() & text.notna()).any():
        return None
    return num.astype(float)


def _tidy(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else x


def _user_missing_codes(ranges: list[tuple[Any, Any]], values: np.ndarray) -> list[float]:
    """Discrete user-missing codes, and the observed values inside a declared range."""
    codes: set[float] = set()
    for lo, hi in ranges:
        if lo is None or hi is None:
            continue
        if lo == hi:
            codes.add(float(lo))
        else:
            codes.update(float(v) for v in values if lo <= v <= hi)
    return sorted(codes)


def _labelled_non_answers(labels: dict[float, str], values: np.ndarray, missing: list[float]) -> list[float]:
    """Codes whose value label means no answer (:data:`NON_ANSWER_LABEL`) and
    that lie beyond every other labelled or observed answer (a "don't know"
    after the top of the scale, or before its bottom)."""
    flagged = [k for k, v in labels.items() if k not in missing and NON_ANSWER_LABEL.search(str(v))]
    rest = [float(v) for v in values if v not in missing and v not in flagged] + \
        [k for k in labels if k not in missing and k not in flagged]
    if not rest:
        return []
    lo, hi = min(rest), max(rest)
    return [k for k in flagged if k > hi or k < lo]


def _sentinels(values: np.ndarray, labelled: list[float]) -> list[float]:
    """Sentinel codes (:data:`SENTINEL_CODES`) that lie far outside the other answers."""
    found = sorted({float(v) for v in values if v in SENTINEL_CODES})
    out = []
    for s in found:
        rest = np.array([v for v in list(values) + labelled if v not in found], dtype=float)
        if not len(rest):
            continue
        lo, hi = float(rest.min()), float(rest.max())
        if (s < lo or s > hi) and abs(s) > 2 * max(abs(lo), abs(hi), 1.0):
            out.append(s)
    return out


def _group(names: list[str], import_ids: dict[str, str]) -> dict[str, list[str]]:
    """Items grouped by name prefix (or by Qualtrics question id); groups of two or more."""
    groups: dict[str, list[str]] = {}
    def prefix(name: str) -> str | None:
        m = _PREFIX.match(name)
        key = m.group(1).rstrip(" _.-") if m else ""
        return key if re.search(r"[^\W\d_]", key) else None

    for n in names:
        key = prefix(n)
        if key is None and n in import_ids:
            key = prefix(import_ids[n])
        if key is not None:
            groups.setdefault(key, []).append(n)
    return {k: v for k, v in groups.items() if len(v) >= 2}


def _language(texts: list[str]) -> str:
    cjk = sum(bool(re.search(r"[\u4e00-\u9fff]", t)) for t in texts)
    return "zh" if texts and cjk > len(texts) / 2 else "en"


def draft_instrument(path: str | Path, *, name: str | None = None, encoding: str | None = None,
                     sheet: str | int | None = None) -> Draft:
    """Draft an instrument from a survey export's metadata (see the module docstring).

    Parameters
    ----------
    path : str or Path
        An SPSS ``.sav``, Stata ``.dta``, Qualtrics CSV export, plain CSV or
        Excel file (read by the survey reader, :mod:`csmlib.data.readers`).
    name : str, optional
        The instrument's name (default: the file's stem).
    encoding, sheet
        As :func:`csmlib.read_survey`.

    Returns
    -------
    Draft
        ``instrument`` validates with :meth:`Instrument.model_validate` and
        :func:`csmlib.read_survey` reads ``path`` with it.

    Raises
    ------
    DataError
        The file cannot be read, or has no numeric column to draft an item from.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("the export to draft the instrument from was not found", file=str(path),
                        hint="check the path")
    raw = path.read_bytes()
    table = read_raw(path, raw, detect_format(path, raw), sheet=sheet, encoding=encoding)
    frame = table.frame
    notes: list[str] = []
    personal = detect_personal_columns(frame)
    pii = list(personal)
    if pii:
        notes.append("personal data (dropped on reading, never reported): "
                     + ", ".join(f"{c} ({k})" for c, k in personal.items()))
    roles: dict[str, Any] = {"id_column": None, "wave_column": None, "weight_column": None}
    segments: list[str] = []
    items: list[dict] = []
    meta: dict[str, tuple] = {}
    skipped: list[str] = []
    wave = None
    for col in frame.columns:
        if col in personal or (table.format == "qualtrics" and col in QUALTRICS_COLUMNS):
            continue
        series = frame[col]
        present = series[series.notna() & (series.astype(str).str.strip() != "")]
        if is_identifier_name(col):      # an identifier is never an item, unique or not
            if roles["id_column"] is None and present.is_unique and len(present):
                roles["id_column"] = col
            else:
                skipped.append(col)
            continue
        if roles["wave_column"] is None and str(col).strip().lower() == "wave":
            roles["wave_column"] = col
            labels = present.astype(str).str.strip().unique()
            wave = str(labels[0]) if len(labels) == 1 and check_role_column(col, labels, role="wave") is None \
                else None
            continue
        num = _numeric(series)
        if num is None:
            distinct = present.astype(str).str.strip().nunique()
            if 2 <= distinct <= MAX_SEGMENT_VALUES and distinct < len(present):
                segments.append(col)
            else:
                skipped.append(col)
            continue
        if roles["weight_column"] is None and _WEIGHT_NAME.match(str(col).strip()) and (num.dropna() >= 0).all():
            roles["weight_column"] = col
            continue
        item = _draft_item(col, num.dropna().to_numpy(), table, notes)
        if item is None:
            skipped.append(col)
            continue
        items.append(item)
        meta[col] = tuple(item["scale"])
    if not items:
        raise DataError("the export has no numeric column to draft an item from", file=str(path),
                        hint="export the answers as numeric codes (SPSS/Stata: values, not labels; "
                             "Qualtrics: 'Use choice text' off)")
    if skipped:
        notes.append(f"{len(skipped)} column(s) left out (free text, dates, constant, empty or a second identifier): "
                     + ", ".join(map(str, skipped[:12])) + (", ..." if len(skipped) > 12 else ""))
    if segments:
        notes.append("text columns with a few distinct values, drafted as segment columns: "
                     + ", ".join(map(str, segments)))
    texts = [t for it in items for t in ([it["text"]] if isinstance(it.get("text"), str) else [])]
    lang = _language(texts)
    for it in items:
        if isinstance(it.get("text"), str):
            it["text"] = {lang: it["text"]}
        if it.get("labels"):
            it["labels"] = {k: {lang: v} for k, v in it["labels"].items()}
    inst = {"name": name or path.stem or "Drafted instrument", "language": lang,
            **{k: v for k, v in roles.items()}, "segment_columns": segments, "pii_columns": pii,
            "missing_codes": [], "constructs": [], "other_items": items}
    Instrument.model_validate(inst)       # a draft that does not load is a bug here, not the user's
    suggestions = _group([it["name"] for it in items], table.import_ids)
    fmt = {"spss": "SPSS", "stata": "Stata", "qualtrics": "Qualtrics CSV", "csv": "CSV", "excel": "Excel"}
    return Draft(instrument=inst, suggestions=suggestions, notes=tuple(notes),
                 source=f"{path.name} ({fmt.get(table.format, table.format)})", wave=wave, _meta=meta)


def _draft_item(col: str, values: np.ndarray, table: Any, notes: list[str]) -> dict | None:
    """One item from a numeric column: text, scale, labels, missing codes."""
    labels = {float(k): str(v) for k, v in (table.value_labels.get(col) or {}).items()
              if isinstance(k, (int, float)) and not isinstance(k, bool) and math.isfinite(float(k))}
    declared = _user_missing_codes(table.user_missing.get(col, []), values)
    labelled = _labelled_non_answers(labels, values, declared)
    if labelled:
        notes.append(f"{col}: code(s) {', '.join(str(_tidy(c)) for c in labelled)} labelled as no answer "
                     "(don't know, refused, ...) beyond the other answers taken as missing codes")
    missing = sorted(set(declared) | set(labelled))
    guessed = _sentinels(np.array([v for v in values if v not in missing]), [k for k in labels if k not in missing])
    if guessed:
        notes.append(f"{col}: code(s) {', '.join(str(_tidy(g)) for g in guessed)} far outside the other "
                     "answers taken as missing codes")
    codes = sorted(set(missing) | set(guessed))
    answers = [v for v in values if v not in codes] + [k for k in labels if k not in codes]
    if len(set(answers)) < 2:
        return None
    lo, hi = min(answers), max(answers)
    codes = [c for c in codes if not lo <= c <= hi]
    item: dict[str, Any] = {"name": col}
    text = table.variable_labels.get(col)
    if text is not None and str(text).strip():
        item["text"] = str(text)
    item["scale"] = [_tidy(lo), _tidy(hi)]
    if codes:
        item["missing_codes"] = [_tidy(c) for c in codes]
    kept = {_tidy(k): v for k, v in sorted(labels.items()) if lo <= k <= hi and str(v).strip()}
    if kept:
        item["labels"] = kept
    if any(not float(v).is_integer() for v in answers):
        item["continuous"] = True
    return item
