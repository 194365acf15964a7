"""Survey instruments (codebooks): constructs, items, scales, labels.

An :class:`Instrument` says what a survey export means: which columns are
the items of which construct, each item's theoretical scale (its minimum
and maximum, used by the 0-100 index), which items are reverse-coded, which
codes mean "no answer", the question texts and value labels in any
language, and which columns identify respondents, waves, segments, weights
or persons (personal data, dropped at load).

The YAML schema::

    name: Demo ACSI tracker          # required
    language: en                     # default language of texts and labels
    id_column: respondent_id         # respondent id (unique), optional
    wave_column: wave                # optional
    segment_columns: [region]        # optional
    weight_column: null              # optional, non-negative numbers
    date_column: answered            # optional: when each respondent answered (a date or
                                     # date and time; all with a UTC offset or none)
    pii_columns: [name, email]       # personal data: dropped at load, never kept
    missing_codes: [98, 99, -99]     # default "no answer" codes of every item
    missing_texts: [unknown]         # texts meaning "no value" in id, wave and segment
                                     # columns (default: only an empty cell; NA, None
                                     # and null are values there unless listed)
    constructs:
      - name: Satisfaction
        label: {en: Overall satisfaction, zh: 总体满意度}   # str or {lang: text}
        items:
          - name: CUSA1
            text: {en: "Overall, how satisfied are you?"}  # str or {lang: text}
            short: {en: Overall satisfaction}   # optional: a few words for tables and charts
            scale: [1, 10]           # theoretical min and max (required)
            reverse: false           # stored value = min + max - answer
            missing_codes: [99]      # optional, replaces the default list
            labels: {1: {en: Very dissatisfied}, 10: Very satisfied}
            continuous: false        # true: fractions are valid answers
    other_items:                     # items in no construct (NPS, complaint, ...)
      - name: recommend
        scale: [0, 10]
    text_items:                      # open-ended questions (free text, any language)
      - name: improve
        text: {en: "What should we improve?", zh: 我们应该改进什么？}
        language: auto               # auto (per answer), en or zh

Missing codes may not lie inside an item's scale (they would throw real
answers away): an item whose scale holds a default code needs its own
``missing_codes``.  The instrument is the authority over the data file: a
code an SPSS file declares user-missing is missing only when it lies outside
the item's scale; inside the scale it is an answer, kept, with a
:class:`~csmlib.errors.DataWarning` (see :func:`csmlib.read_survey`).

It is read from YAML and validated with pydantic; every problem becomes a
:class:`~csmlib.errors.DataError` naming the file and the key path
(``constructs[2].items[0].scale``), never a raw pydantic error.

>>> inst = Instrument.model_validate({
...     "name": "demo",
...     "constructs": [{"name": "Satisfaction",
...                     "items": [{"name": "CUSA1", "scale": [1, 10]}]}]})
>>> inst.construct_items
{'Satisfaction': ['CUSA1']}
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Union

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..errors import DataError

__all__ = ["Instrument", "InstrumentConstruct", "Item", "Text", "TextItem"]

#: A text in one language (``str``) or in several (``{lang: text}``).
Text = Union[str, dict[str, str]]

_NUMBER_TYPES = (int, float)


def _is_number(x: Any) -> bool:
    return isinstance(x, _NUMBER_TYPES) and not isinstance(x, bool)


def _tidy_number(x: float | int) -> float | int:
    """``1.0`` -> ``1`` so that codes and labels print and round-trip as written."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer():
        return int(x)
    return x


def _check_text(v: Any) -> Any:
    if isinstance(v, dict):
        if not v:
            raise PydanticCustomError("text", "a text given per language must name at least one language")
        for lang, text in v.items():
            if not isinstance(lang, str) or not isinstance(text, str):
                raise PydanticCustomError(
                    "text", "texts per language must be {language: text} with both as strings; "
                    "got {lang!r}: {text!r}", {"lang": lang, "text": text})
    return v


def _resolve_text(text: Text | None, lang: str | None, default_lang: str) -> str | None:
    if text is None or isinstance(text, str):
        return text
    for key in (lang, default_lang):
        if key is not None and key in text:
            return text[key]
    return next(iter(text.values()))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Item(_Strict):
    """One survey item (question).

    Attributes
    ----------
    name : str
        Column name in the data file.
    text : str or dict, optional
        Question text, or ``{language: text}``.
    short : str or dict, optional
        A few words standing for the question in tables and charts
        (``{language: text}`` or one text).
    scale : (min, max)
        Theoretical minimum and maximum of the answers (required).
    reverse : bool
        Reverse-coded: the stored value becomes ``min + max - answer``.
    missing_codes : tuple of numbers, optional
        Codes meaning "no answer"; replaces the instrument's default list.
    labels : dict
        Value labels ``{answer code: str or {language: text}}``, keyed by the
        code as answered (before reverse coding).
    continuous : bool
        True when any value in the scale is valid (slider, 0-100 rating);
        otherwise answers must be whole numbers.
    """

    name: str = Field(min_length=1)
    text: Text | None = None
    short: Text | None = None
    scale: tuple[int | float, int | float]
    reverse: bool = False
    missing_codes: tuple[int | float, ...] | None = None
    labels: dict[int | float, Text] = Field(default_factory=dict)
    continuous: bool = False

    @field_validator("text", "short", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return _check_text(v)

    @field_validator("scale", mode="before")
    @classmethod
    def _scale(cls, v: Any) -> Any:
        if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(_is_number(x) for x in v):
            raise PydanticCustomError(
                "scale", "scale must be a list of two numbers [min, max], got {v!r}", {"v": v})
        lo, hi = v
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise PydanticCustomError("scale", "scale limits must be finite numbers, got {v!r}", {"v": v})
        if lo >= hi:
            raise PydanticCustomError(
                "scale", "scale minimum {lo} must be smaller than its maximum {hi}", {"lo": lo, "hi": hi})
        return (_tidy_number(lo), _tidy_number(hi))

    @field_validator("missing_codes", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> Any:
        return _check_codes(v)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise PydanticCustomError("labels", "labels must be a mapping {code: label}, got {v!r}", {"v": v})
        out = {}
        for key, text in v.items():
            code = key
            if isinstance(key, str):
                try:
                    code = float(key.strip())
                except ValueError:
                    code = None
            if not _is_number(code) or not math.isfinite(code):
                raise PydanticCustomError(
                    "labels", "value label keys must be answer codes (numbers), got {key!r}", {"key": key})
            out[_tidy_number(code)] = _check_text(text)
        return out

    @model_validator(mode="after")
    def _codes_outside_scale(self) -> Item:
        lo, hi = self.scale
        inside = [c for c in (self.missing_codes or ()) if lo <= c <= hi]
        if inside:
            raise PydanticCustomError(
                "missing_code_in_scale",
                "missing code(s) {codes} lie inside the scale [{lo}, {hi}] of item {name!r}, so real "
                "answers would be thrown away; use codes outside the scale",
                {"codes": inside, "lo": lo, "hi": hi, "name": self.name})
        return self

    def text_in(self, lang: str | None = None, default_lang: str = "en") -> str | None:
        """The question text in ``lang`` (falling back to ``default_lang``, then any)."""
        return _resolve_text(self.text, lang, default_lang)


class TextItem(_Strict):
    """An open-ended question: its answers are free text, kept as strings
    (``Survey.texts``), never as numbers, and analysed by
    :func:`csmlib.analysis.feedback.themes`.

    Attributes
    ----------
    name : str
        Column name in the data file.
    text : str or dict, optional
        Question text, or ``{language: text}``.
    language : {"auto", "en", "zh"}
        Language of the answers (``auto``: decided per answer).
    """

    name: str = Field(min_length=1)
    text: Text | None = None
    language: str = "auto"

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return _check_text(v)

    def text_in(self, lang: str | None = None, default_lang: str = "en") -> str | None:
        """The question text in ``lang`` (falling back to ``default_lang``, then any)."""
        return _resolve_text(self.text, lang, default_lang)

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if v not in ("auto", "en", "zh"):
            raise PydanticCustomError("language", "the language of a text item must be auto, en or zh, "
                                      "got '{v}'", {"v": v})
        return v


def _check_codes(v: Any) -> Any:
    if v is None:
        return v
    if not isinstance(v, (list, tuple)):
        v = [v]
    bad = [c for c in v if not _is_number(c) or not math.isfinite(c)]
    if bad:
        raise PydanticCustomError(
            "missing_codes", "missing codes must be finite numbers, got {bad!r}", {"bad": bad})
    return tuple(_tidy_number(c) for c in v)


class InstrumentConstruct(_Strict):
    """A construct of the instrument: a name, a label and its items."""

    name: str = Field(min_length=1)
    label: Text | None = None
    items: tuple[Item, ...] = Field(min_length=1)

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, v: Any) -> Any:
        return _check_text(v)


class Instrument(_Strict):
    """A survey instrument (codebook).

    Build it with :meth:`from_yaml` or :meth:`model_validate`; both raise
    :class:`~csmlib.errors.DataError` on an invalid instrument.  See the
    module docstring of :mod:`csmlib.data.instrument` for the YAML schema.
    """

    name: str = Field(min_length=1)
    language: str = "en"
    id_column: str | None = None
    wave_column: str | None = None
    segment_columns: tuple[str, ...] = ()
    weight_column: str | None = None
    date_column: str | None = None
    pii_columns: tuple[str, ...] = ()
    missing_codes: tuple[int | float, ...] = ()
    missing_texts: tuple[str, ...] = ()
    constructs: tuple[InstrumentConstruct, ...] = ()
    other_items: tuple[Item, ...] = ()
    text_items: tuple[TextItem, ...] = ()


    @field_validator("segment_columns", "pii_columns", "missing_texts", mode="before")
    @classmethod
    def _str_list(cls, v: Any) -> Any:
        if v is None:
            return ()
        if isinstance(v, str):
            return (v,)
        return v

    @field_validator("missing_codes", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> Any:
        return () if v is None else _check_codes(v)

    @model_validator(mode="after")
    def _cross_checks(self) -> Instrument:
        problems: list[str] = []
        items = self.items
        if not items:
            problems.append("the instrument declares no items: add constructs with items or other_items")
        seen: dict[str, str] = {}
        texts = [(f"text_items[{i}]", t) for i, t in enumerate(self.text_items)]
        for where, item in _item_locations(self) + texts:
            if item.name in seen:
                problems.append(f"{where}.name: item {item.name!r} is declared twice "
                                f"(also at {seen[item.name]}); item names must be unique")
            else:
                seen[item.name] = where
        cnames: dict[str, int] = {}
        for i, c in enumerate(self.constructs):
            if c.name in cnames:
                problems.append(f"constructs[{i}].name: construct {c.name!r} is declared twice "
                                f"(also at constructs[{cnames[c.name]}])")
            else:
                cnames[c.name] = i
        roles = [("id_column", self.id_column), ("wave_column", self.wave_column),
                 ("weight_column", self.weight_column), ("date_column", self.date_column)]
        roles += [(f"segment_columns[{i}]", c) for i, c in enumerate(self.segment_columns)]
        roles += [(f"pii_columns[{i}]", c) for i, c in enumerate(self.pii_columns)]
        for key, col in roles:
            if col is not None and col in seen:
                problems.append(f"{key}: column {col!r} is also declared as an item at {seen[col]}; "
                                f"a column is either an item or the {key.split('[')[0]}")
        pii = set(self.pii_columns)
        for key, col in roles[:4] + [r for r in roles if r[0].startswith("segment")]:
            if col is not None and col in pii:
                problems.append(f"{key}: column {col!r} is also declared personal data (pii_columns) "
                                "and would be dropped at load; use a pseudonymous column instead")
        for where, t in texts:
            if t.name in pii:
                problems.append(f"{where}.name: the text item {t.name!r} is also declared personal data "
                                "(pii_columns) and would be dropped at load; a text item's answers are "
                                "masked wherever they are quoted")
        codes_default = self.missing_codes
        for where, item in _item_locations(self):
            if item.missing_codes is None:
                lo, hi = item.scale
                inside = [c for c in codes_default if lo <= c <= hi]
                if inside:
                    problems.append(
                        f"{where}: the default missing codes {inside} lie inside the scale "
                        f"[{lo}, {hi}] of item {item.name!r}; give the item its own missing_codes "
                        "(e.g. missing_codes: [] or codes outside its scale)")
        if problems:
            raise PydanticCustomError("instrument", "\n".join(problems))
        return self

    # ------------------------------------------------------------------ I/O
    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Instrument:  # type: ignore[override]
        """Validate a dict (as read from YAML) into an Instrument.

        Raises
        ------
        DataError
            Listing every problem with its key path.
        """
        return _validate(cls, obj, file=None, args=args, kwargs=kwargs)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Instrument:
        """Read and validate an instrument YAML file.

        Parameters
        ----------
        path : str or Path
            The instrument YAML (UTF-8).

        Returns
        -------
        Instrument

        Raises
        ------
        DataError
            If the file is missing, is not YAML, or does not follow the schema;
            the message names the file and the key path of each problem.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError("instrument file not found", file=str(path),
                            hint="check the path (relative paths are relative to the working directory)")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"instrument file is not UTF-8 text (byte {exc.start})", file=str(path),
                            hint="save the YAML file as UTF-8") from None
        try:
            data = load_yaml(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise DataError(f"instrument file is not valid YAML{where}: {exc.problem}", file=str(path),
                            hint="fix the YAML syntax (indentation, colons, quotes)") from None
        except yaml.YAMLError as exc:
            raise DataError(f"instrument file is not valid YAML: {exc}", file=str(path),
                            hint="fix the YAML syntax") from None
        if not isinstance(data, dict):
            raise DataError("instrument file must be a YAML mapping with keys name, constructs, ...",
                            file=str(path), hint="see the instrument schema in csmlib.data.instrument")
        return _validate(cls, data, file=str(path), args=(), kwargs={})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, dicts, str, numbers), as :meth:`from_yaml` reads it."""
        return _plain(self.model_dump(mode="python", exclude_defaults=True))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Write the instrument as UTF-8 YAML (Unicode kept as is).

        Parameters
        ----------
        path : str or Path, optional
            Where to write; when omitted only the text is returned.

        Returns
        -------
        str
            The YAML text.
        """
        text = yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False,
                              default_flow_style=None, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # ---------------------------------------------------------------- views
    @property
    def items(self) -> tuple[Item, ...]:  # type: ignore[override]
        """All items: construct items in order, then other_items."""
        return tuple(i for c in self.constructs for i in c.items) + tuple(self.other_items)

    @property
    def item_names(self) -> list[str]:
        """Names of all items, in :attr:`items` order."""
        return [i.name for i in self.items]

    def item(self, name: str) -> Item:
        """The item called ``name``.

        Raises
        ------
        DataError
            If there is no such item (the message suggests close names).
        """
        return self._named(self.items, name, "item")

    @property
    def text_names(self) -> list[str]:
        """Names of the text (open-ended) items."""
        return [t.name for t in self.text_items]

    def text_item(self, name: str) -> TextItem:
        """The text item called ``name``.

        Raises
        ------
        DataError
            If there is no such text item (the message suggests close names).
        """
        return self._named(self.text_items, name, "text item")

    def _named(self, entries: tuple[Any, ...], name: str, what: str) -> Any:
        for entry in entries:
            if entry.name == name:
                return entry
        close = difflib.get_close_matches(str(name), [e.name for e in entries], n=3)
        raise DataError(f"instrument {self.name!r} has no {what} {name!r}", column=str(name),
                        hint=(f"did you mean {', '.join(map(repr, close))}?" if close
                              else f"check the {what} name against the instrument"))

    @property
    def construct_items(self) -> dict[str, list[str]]:
        """``{construct: [item names]}`` in instrument order."""
        return {c.name: [i.name for i in c.items] for c in self.constructs}

    @property
    def construct_names(self) -> list[str]:
        return [c.name for c in self.constructs]

    @property
    def scale_limits(self) -> pd.DataFrame:
        """Theoretical scale limits.

        Returns
        -------
        DataFrame
            Index ``item`` (every item), columns ``min``, ``max`` (float).
        """
        items = self.items
        return pd.DataFrame(
            {"min": [float(i.scale[0]) for i in items], "max": [float(i.scale[1]) for i in items]},
            index=pd.Index([i.name for i in items], name="item"))

    def item_missing_codes(self, name: str) -> tuple[float | int, ...]:
        """The missing codes in force for item ``name`` (its own, else the default)."""
        item = self.item(name)
        return self.missing_codes if item.missing_codes is None else item.missing_codes

    @property
    def reverse_items(self) -> list[str]:
        """Names of reverse-coded items."""
        return [i.name for i in self.items if i.reverse]

    def text(self, item: str, lang: str | None = None) -> str | None:
        """Question text of ``item`` in ``lang`` (default: the instrument's language).

        Falls back to the instrument's language, then to any language given.
        """
        return _resolve_text(self.item(item).text, lang, self.language)

    def item_label(self, item: str, lang: str | None = None) -> str:
        """What a table or chart shows for ``item``: its ``short`` text in
        ``lang`` (falling back as :meth:`text` does), else its question text,
        else its name."""
        it = self.item(item)
        return _resolve_text(it.short, lang, self.language) or self.text(item, lang) or it.name

    def label(self, item: str, value: float, lang: str | None = None) -> str | None:
        """Value label of answer code ``value`` of ``item`` (None when unlabelled)."""
        labels = self.item(item).labels
        if not _is_number(value):
            return None
        text = labels.get(_tidy_number(value))
        return _resolve_text(text, lang, self.language)

    def construct_label(self, construct: str, lang: str | None = None) -> str:
        """Label of ``construct`` in ``lang``; its name when it has no label."""
        for c in self.constructs:
            if c.name == construct:
                return _resolve_text(c.label, lang, self.language) or c.name
        raise DataError(f"instrument {self.name!r} has no construct {construct!r}",
                        hint=f"constructs are: {', '.join(self.construct_names)}")

    @property
    def role_columns(self) -> dict[str, list[str]]:
        """Non-item columns by role: ``id``, ``wave``, ``segment``, ``weight``, ``date``, ``pii``."""
        return {
            "id": [self.id_column] if self.id_column else [],
            "wave": [self.wave_column] if self.wave_column else [],
            "segment": list(self.segment_columns),
            "weight": [self.weight_column] if self.weight_column else [],
            "date": [self.date_column] if self.date_column else [],
            "pii": list(self.pii_columns),
        }


# --------------------------------------------------------------- helpers
def _item_locations(inst: Instrument) -> list[tuple[str, Item]]:
    out = [(f"constructs[{ci}].items[{ii}]", item)
           for ci, c in enumerate(inst.constructs) for ii, item in enumerate(c.items)]
    out += [(f"other_items[{ii}]", item) for ii, item in enumerate(inst.other_items)]
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {(_tidy_number(k) if _is_number(k) else k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if _is_number(obj):
        return _tidy_number(obj)
    return obj


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice in the same mapping", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # an unquoted date YAML reads itself: one that does not exist (2026-02-30) raised a bare
    # ValueError from datetime; here it is a YAML error naming its line
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark) from None


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(text: str) -> Any:
    """Parse YAML text safely; a key given twice in one mapping is an error
    (:class:`yaml.MarkedYAMLError` naming its line), never a silent last-wins.
    Instrument and study files are read with it."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (SafeLoader subclass)



def _model_at(loc: tuple) -> type[BaseModel]:
    """The pydantic model whose keys are valid at ``loc`` (a path to a mapping)."""
    model: type[BaseModel] = Instrument
    i = 0
    while i < len(loc):
        key = loc[i]
        if model is Instrument and key == "constructs":
            model, i = InstrumentConstruct, i + 2
        elif model is Instrument and key == "other_items":
            model, i = Item, i + 2
        elif model is Instrument and key == "text_items":
            model, i = TextItem, i + 2
        elif model is InstrumentConstruct and key == "items":
            model, i = Item, i + 2
        else:
            i += 1
    return model


def field_path(loc: tuple) -> str:
    """A pydantic error location as the path a YAML author reads:
    ``("constructs", 0, "items", 2, "scale")`` -> ``constructs[0].items[2].scale``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_HINTS = {
    "scale": "give the item's theoretical minimum and maximum, e.g. scale: [1, 10]",
    "name": "give every instrument, construct and item a name",
    "items": "list the construct's items under items:",
}


def _validate(cls: type[Instrument], obj: Any, *, file: str | None, args: tuple, kwargs: dict) -> Instrument:
    if not isinstance(obj, dict):
        raise DataError(f"an instrument must be a mapping, got {type(obj).__name__}", file=file,
                        hint="pass a dict with keys name, constructs, ... (see csmlib.data.instrument)")
    try:
        return super(Instrument, cls).model_validate(obj, *args, **kwargs)
    except ValidationError as exc:
        lines, hints = [], []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            path = field_path(loc)
            kind = err["type"]
            if kind == "extra_forbidden":
                key = str(loc[-1])
                valid = list(_model_at(loc[:-1]).model_fields)
                close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
                msg = f"{path}: unknown key {key!r}"
                if close:
                    msg += f" (did you mean {close[0]!r}?)"
                lines.append(msg)
                hints.append(f"valid keys here are: {', '.join(valid)}")
            elif kind == "missing":
                lines.append(f"{path}: required key is missing")
                hints.append(_HINTS.get(str(loc[-1]), f"add the key {loc[-1]!r}"))
            elif kind == "instrument":
                lines.extend(err["msg"].split("\n"))
            else:
                msg = err["msg"]
                if kind not in ("scale", "labels", "missing_codes", "text", "missing_code_in_scale", "language"):
                    msg += f" (got {err.get('input')!r})"
                lines.append(f"{path}: {msg}" if path else msg)
        hint = "; ".join(dict.fromkeys(hints)) or "fix the instrument as described"
        where = f" {file}" if file else ""
        raise DataError(f"invalid instrument{where}: {len(lines)} problem(s)\n    "
                        + "\n    ".join(lines), file=file, hint=hint) from None
