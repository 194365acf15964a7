"""Plain-language findings and report tables built from results.

Notebooks call these to turn numbers csmlib computed into sentences a
consultant can put in front of a client, e.g. ``"Satisfaction index 74.2
(95% CI 72.9-75.5), up 2.1 points from the last wave, a significant
change."``  Nothing here computes a statistic: every number comes in as an
argument (from :mod:`csmlib.analysis.index`, :mod:`csmlib.estimate.bootstrapping`,
:mod:`csmlib.analysis.tracking`, ...) and is only formatted and judged against
stated thresholds.  Text that comes from data (construct labels, segment
names) is escaped where it is rendered, by the one rendering boundary
(:mod:`csmlib.report.markup`: :func:`md`, :func:`html`, and the same
escaping in :func:`table` and :class:`Findings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import i18n
from .keys import declared, read_recorded
from .markup import HTML, NO_MATH_CLASS, Markdown, html, html_escape, md, md_escape

__all__ = [
    "FIT_THRESHOLDS",
    "Findings",
    "fmt_ci",
    "fmt_interval",
    "fmt_number",
    "fmt_p",
    "index_finding",
    "change_phrase",
    "fit_assessment",
    "fit_finding",
    "side_by_side",
    "driver_findings",
    "suppressed_finding",
    "md_escape",
    "md",
    "html",
    "html_escape",
    "Markdown",
    "HTML",
    "table",
    "Tables",
    "key_figures",
    "section",
    "contents",
    "plain_frame",
    "display_names",
    "estimation_notes",
    "NOTE_KEYS",
    "as_table",
    "WaveResults",
    "reliability_finding",
    "mediation_finding",
    "misfit_findings",
    "MI_CUTOFF",
    "RESIDUAL_CUTOFF",
]

#: The keys under which the notebooks record their estimation notes
#: (:func:`csmlib.run.notebook.record_notes`) and the study report gathers them.
NOTE_KEYS = ("estimation_notes", "cbsem_estimation_notes")

#: Conventional cut-offs for approximate fit (Hu & Bentler 1999; SRMR for
#: PLS as in Henseler et al. 2016).  ``(direction, threshold)``.
FIT_THRESHOLDS: Mapping[str, tuple[str, float]] = {
    "cfi": (">=", 0.95),
    "tli": (">=", 0.95),
    "rmsea": ("<=", 0.06),
    "srmr": ("<=", 0.08),
}


def _finite(x: object) -> bool:
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def fmt_number(x: object, digits: int = 1) -> str:
    """Format a number with a fixed number of decimals; ``"n/a"`` for NaN/None."""
    if not _finite(x):
        return "n/a"
    return f"{float(x):.{digits}f}"  # type: ignore[arg-type]


def fmt_p(p: object) -> str:
    """Format a p-value as reports do: ``p < 0.001`` or ``p = 0.034``."""
    if not _finite(p):
        return "p n/a"
    p = float(p)  # type: ignore[arg-type]
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def fmt_ci(est: object, lower: object, upper: object, *, digits: int = 1,
           level: float = 0.95, language: str = "en") -> str:
    """``"74.2 (95% CI 72.9-75.5)"`` (in ``language``); the interval is left out when unknown."""
    interval = fmt_interval(lower, upper, digits=digits, level=level, language=language)
    return i18n.text(language, "ci", est=fmt_number(est, digits), interval=interval) if interval \
        else fmt_number(est, digits)


def fmt_interval(lower: object, upper: object, *, digits: int = 1, level: float = 0.95,
                 language: str = "en") -> str:
    """``"95% CI 72.9-75.5"`` (in ``language``); ``""`` when a bound is unknown."""
    if not (_finite(lower) and _finite(upper)):
        return ""
    return i18n.text(language, "interval", level=f"{level * 100:g}", lower=fmt_number(lower, digits),
                     upper=fmt_number(upper, digits))


def change_phrase(diff: object, pvalue: object = None, *, alpha: float = 0.05,
                  unit: str | None = None, digits: int = 1, since: str | None = None,
                  language: str = "en") -> str:
    """Describe a change: ``"up 2.1 points from the last wave, a significant
    change (p = 0.012)"`` (in ``language``; ``unit`` and ``since`` default
    to "points" and "the last wave" in that language).

    The verdict rests on the test's p-value only; without one the change is
    reported as untested, never as significant.
    """
    since = i18n.text(language, "last_wave") if since is None else since
    unit = i18n.text(language, "points") if unit is None else unit
    if not _finite(diff):
        return i18n.text(language, "no_comparison", since=since)
    d = float(diff)  # type: ignore[arg-type]
    if round(d, digits) == 0:
        direction = i18n.text(language, "unchanged", since=since)
    else:
        direction = i18n.text(language, "up" if d > 0 else "down", d=fmt_number(abs(d), digits),
                              unit=unit, since=since)
    if not _finite(pvalue):
        return i18n.text(language, "not_tested", direction=direction)
    p = float(pvalue)  # type: ignore[arg-type]
    return i18n.text(language, "significant" if p < alpha else "not_significant",
                     direction=direction, p=fmt_p(p))


def index_finding(construct: str, index: object, ci_lower: object = None, ci_upper: object = None,
                  *, diff: object = None, pvalue: object = None, alpha: float = 0.05,
                  level: float = 0.95, since: str | None = None, language: str = "en") -> str:
    """One sentence on a 0-100 index and, if given, its change.

    Parameters
    ----------
    construct : str
        Name shown, e.g. ``"Satisfaction"``.
    index, ci_lower, ci_upper : float
        The index and its interval (e.g. from :func:`csmlib.bootstrap`).
    diff, pvalue : float, optional
        Change since the previous wave and the p-value of its test
        (e.g. from :func:`csmlib.analysis.tracking.compare_indices`).
    language : str
        The sentence's language (:mod:`csmlib.report.i18n`).

    Returns
    -------
    str
    """
    value = fmt_ci(index, ci_lower, ci_upper, level=level, language=language)
    if diff is not None and _finite(diff):
        return i18n.text(language, "index_change", construct=construct, value=value,
                         change=change_phrase(diff, pvalue, alpha=alpha, since=since, language=language))
    return i18n.text(language, "index_finding", construct=construct, value=value)


def fit_assessment(fit_indices: pd.Series | Mapping[str, float],
                   thresholds: Mapping[str, tuple[str, float]] = FIT_THRESHOLDS) -> pd.DataFrame:
    """Judge fit indices against conventional cut-offs.

    A robust fit (``estimator="MLR"``/``"MLM"``, survey weights) is judged by
    its robust index where it has one (``cfi_robust`` for ``cfi``, ...), as
    lavaan's robust columns are read; a WLSMV fit of ordered items by its
    scaled index (``cfi_scaled``, ...).

    Returns
    -------
    DataFrame
        One row per index present (and finite) in ``fit_indices``: columns
        ``index`` (e.g. ``"cfi"`` or ``"cfi_robust"``), ``value``, ``rule``
        (e.g. ``">= 0.95"``), ``passed`` (bool).
    """
    fit = pd.Series(fit_indices, dtype=float)
    rows = []
    for name, (direction, cut) in thresholds.items():
        for suffix in ("_robust", "_scaled"):
            if f"{name}{suffix}" in fit.index and _finite(fit[f"{name}{suffix}"]):
                name = f"{name}{suffix}"
                break
        if name not in fit.index or not _finite(fit[name]):
            continue
        value = float(fit[name])
        passed = value >= cut if direction == ">=" else value <= cut
        rows.append({"index": name, "value": value, "rule": f"{direction} {cut:g}", "passed": bool(passed)})
    return pd.DataFrame(rows, columns=["index", "value", "rule", "passed"])


def side_by_side(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Standardized loadings and paths of several fits of one model, side by side.

    Parameters
    ----------
    fits : mapping of label to Results
        E.g. ``{"ML": ml_fit, "WLSMV": wlsmv_fit}``.

    Returns
    -------
    DataFrame
        Columns ``lhs, op, rhs`` (loadings ``=~`` then paths ``~``, in the
        first fit's order) and one column per label holding ``std_all``.
    """
    out = None
    for label, res in fits.items():
        est = res.estimates
        est = est[est["op"].isin(["=~", "~"])][["lhs", "op", "rhs", "std_all"]].rename(columns={"std_all": label})
        out = est if out is None else out.merge(est, on=["lhs", "op", "rhs"], how="left")
    return pd.DataFrame(columns=["lhs", "op", "rhs"]) if out is None else out.reset_index(drop=True)


def fit_finding(fit_indices: pd.Series | Mapping[str, float],
                thresholds: Mapping[str, tuple[str, float]] = FIT_THRESHOLDS, *,
                language: str = "en") -> str:
    """One sentence on model fit, naming the indices that miss their cut-off
    (in ``language``)."""
    table = fit_assessment(fit_indices, thresholds)
    if table.empty:
        return i18n.text(language, "no_fit")

    def label(name: str) -> str:
        for suffix, key in (("_robust", "robust_index"), ("_scaled", "scaled_index")):
            if name.endswith(suffix):
                return i18n.text(language, key, name=name[:-len(suffix)].upper())
        return name.upper()

    sep = i18n.text(language, "list_sep")
    shown = sep.join(f"{label(r.index)} {r.value:.3f}" for r in table.itertuples())
    failed = [label(r.index) for r in table.itertuples() if not r.passed]
    if not failed:
        return i18n.text(language, "fit_good", shown=shown)
    return i18n.text(language, "fit_poor_one" if len(failed) == 1 else "fit_poor_many",
                     failed=sep.join(failed), shown=shown)


def driver_findings(ipma: pd.DataFrame, target: str, *, top: int = 3, language: str = "en",
                    names: Mapping[str, str] | None = None) -> list[str]:
    """Sentences naming what to improve first, from an importance-performance table.

    Parameters
    ----------
    ipma : DataFrame
        Columns ``construct, importance, performance`` and optionally
        ``rank`` (1 = improve first), as returned by :func:`csmlib.ipma`.
    target : str
        The target construct's name, for the wording.
    top : int
        How many drivers to name.
    language : str
        The sentences' language (:mod:`csmlib.report.i18n`).
    names : mapping, optional
        What to call each construct (:func:`display_names`); default its name.

    Returns
    -------
    list of str
    """
    needed = {"construct", "importance", "performance"}
    if not needed <= set(ipma.columns):
        from ..errors import DataError
        raise DataError("the importance-performance table lacks columns",
                        column=", ".join(sorted(needed - set(ipma.columns))),
                        hint="pass the frame returned by csm.ipma()")
    table = ipma.copy()
    if "rank" in table.columns:
        table = table.sort_values("rank")
    else:
        table = table.assign(_p=table["importance"] * (100 - table["performance"])) \
                     .sort_values("_p", ascending=False)
    names = names or {}
    return [i18n.text(language, "driver", construct=names.get(r.construct, r.construct),
                      target=names.get(target, target), importance=f"{r.importance:.2f}",
                      performance=f"{r.performance:.1f}")
            for r in table.head(top).itertuples()]


def suppressed_finding(what: str, n: int, min_base: int, *, language: str = "en") -> str:
    """The sentence shown instead of estimates for a base that is too small
    (plain text, in ``language``: see :mod:`csmlib.report.i18n`)."""
    return i18n.text(language, "suppressed", what=what, n=n, min_base=min_base)


@dataclass
class Findings:
    """An ordered list of findings that renders as a bulleted list.

    In a notebook the list displays as HTML (text escaped); ``str()`` gives
    plain text.
    """

    items: list[str] = field(default_factory=list)
    title: str | None = None

    def add(self, text: str | Iterable[str]) -> "Findings":
        if isinstance(text, str):
            self.items.append(text)
        else:
            self.items.extend(text)
        return self

    def __len__(self) -> int:
        return len(self.items)

    def __str__(self) -> str:
        head = f"{self.title}\n" if self.title else ""
        return head + "\n".join(f"- {t}" for t in self.items)

    def _repr_html_(self) -> str:
        head = f"<h3>{html_escape(self.title)}</h3>" if self.title else ""
        body = "".join(f"<li>{html_escape(t)}</li>" for t in self.items)
        return f"<div class='{NO_MATH_CLASS}'>{head}<ul class='csm-findings'>{body}</ul></div>"


def _data_notes(fit: object, language: str) -> list[str]:
    """Who the estimates rest on: respondents left out, answers replaced."""
    info = getattr(fit, "data_info", None)
    if not isinstance(info, Mapping):
        return []
    method = {"pls": "PLS", "cbsem": "CB-SEM"}.get(str(getattr(fit, "method", "")),
                                                  i18n.text(language, "the_model"))
    out = []
    used = info.get("rows_used")
    for reason, count in (info.get("dropped") or {}).items():
        if count:
            out.append(i18n.text(language, "left_out", method=method, count=count,
                                 reason=i18n.value_label(reason, language), used=used))
    replaced = info.get("mean_replaced", 0)
    if replaced:
        spec = getattr(fit, "spec", None)
        cells = (used or 0) * len(getattr(spec, "indicators", ()) or ())
        share = i18n.text(language, "share_of_answers", share=f"{replaced / cells:.1%}") if cells else ""
        out.append(i18n.text(language, "mean_replaced", method=method, replaced=replaced, share=share))
    kept = info.get("incomplete_rows_kept", 0)
    if kept:
        out.append(i18n.text(language, "fiml_kept", method=method, kept=kept))
    return out


def estimation_notes(*fits: object, language: str = "en") -> Findings:
    """What a reader must know about the estimation behind a report section.

    Collects, for fitted results, who the estimates rest on (respondents
    left out, answers replaced by item means or used by FIML) and their
    ``warnings`` (non-convergence, Heywood cases, unused survey weights,
    ...); for bootstraps, how many resamples failed or flipped sign.  Notebooks display it (it is empty,
    and shows nothing, when all went well): warnings raised while a notebook
    runs go to stderr, which the HTML report leaves out.

    Parameters
    ----------
    *fits : Results or BootstrapResults
        Anything with a ``warnings`` tuple, or ``n_boot``/``n_failed``.
    language : str
        The notes' language (:mod:`csmlib.report.i18n`); the estimators'
        own warnings are shown as they were raised (in English).

    Returns
    -------
    Findings
        Titled "Estimation notes"; one item per distinct note.
    """
    notes: list[str] = []
    for fit in fits:
        if fit is None:
            continue
        notes.extend(_data_notes(fit, language))
        for w in getattr(fit, "warnings", ()) or ():
            notes.append(str(w))
        n_boot = getattr(fit, "n_boot", None)
        if n_boot:
            failed = int(getattr(fit, "n_failed", 0) or 0)
            flipped = int(getattr(fit, "n_sign_flipped", 0) or 0)
            if failed:
                notes.append(i18n.text(language, "boot_failed", failed=failed, n_boot=n_boot,
                                       ok=n_boot - failed))
            if flipped:
                notes.append(i18n.text(language, "boot_flipped", flipped=flipped, n_boot=n_boot))
    unique = list(dict.fromkeys(notes))
    return Findings(unique, title=i18n.text(language, "notes_title"))


def _is_p_column(name: object) -> bool:
    n = str(name).lower()
    return n in ("p", "p_value") or n.endswith("pvalue")


#: A table with more columns than this is split into parts (see :func:`table`).
MAX_COLUMNS = 9

#: What a lavaan operator means, in words, by language.
_OP_WORDS = {
    "=~": {"en": "loading", "zh": "载荷"},
    "~": {"en": "path", "zh": "路径"},
    "~~": {"en": "covariance", "zh": "协方差"},
    ":=": {"en": "defined", "zh": "定义参数"},
    "|": {"en": "threshold", "zh": "阈值"},
}
_YES_NO = {"en": ("yes", "no"), "zh": ("是", "否")}


def display_names(instrument: Any, language: str = "en") -> dict[str, str]:
    """What tables and charts show for the instrument's items and constructs.

    Items show their short text (:meth:`~csmlib.data.instrument.Instrument.item_label`)
    in ``language``; constructs their label in ``language`` -- except in
    English, where they keep the model's names, the words English findings use.

    Returns
    -------
    dict
        ``{item or construct name: text shown}``; empty without an instrument.
    """
    if instrument is None:
        return {}
    names = {i: instrument.item_label(i, language) for i in instrument.item_names}
    if language != i18n.DEFAULT_LANGUAGE:
        names.update({c: instrument.construct_label(c, language) for c in instrument.construct_names})
    return names


def plain_frame(frame: pd.DataFrame, *, language: str = "en", instrument: Any = None) -> pd.DataFrame:
    """A results frame reworded for a reader, before it is formatted.

    * lavaan's ``lhs, op, rhs`` become ``from, to`` (a path's cause first,
      a loading's construct first), ``construct, item`` when every row is
      a loading, ``variable, with`` when every row is a covariance (or an
      HTMT ratio); ``op`` becomes words (``path``, ``loading`` ...) and is left
      out when it is the same in every row; a frame with ``lhs, rhs`` and no
      ``op`` (effects, effect sizes) reads as paths (``lhs`` is the outcome);
    * an empty ``label`` column is left out;
    * item and construct names in text cells, the index and column names
      become their :func:`display_names` (a path ``"Loyalty ~ Satisfaction"``
      reads ``"Satisfaction → Loyalty"``, a chain ``"A -> B -> C"`` ``"A → B → C"``), and the fixed words of csmlib's
      frames (IPMA quadrants, effect sizes, verdicts, data-quality problems:
      :data:`csmlib.report.i18n.VALUE_LABELS`) are in ``language``.

    Column names stay the frame's own (labelled by :func:`table`).

    Returns
    -------
    DataFrame
    """
    out = pd.DataFrame(frame).copy()
    if "label" in out.columns and out["label"].map(lambda v: v is None or str(v).strip() in ("", "nan")).all():
        out = out.drop(columns="label")
    if {"lhs", "rhs"} <= set(out.columns):
        ops = set(out["op"].astype(str)) if "op" in out.columns else {"~"}
        cause_left = out["op"].astype(str).ne("~").to_numpy() if "op" in out.columns \
            else pd.Series(False, index=out.index).to_numpy()
        lhs, rhs = out["lhs"].to_numpy(object), out["rhs"].to_numpy(object)
        pairs = ops == {"~~"} or ("op" not in out.columns and "htmt" in out.columns)   # no direction
        names = ("construct", "item") if ops == {"=~"} else ("variable", "with") if pairs else ("from", "to")
        first = pd.Series(np.where(cause_left, lhs, rhs), index=out.index, dtype=object)
        second = pd.Series(np.where(cause_left, rhs, lhs), index=out.index, dtype=object)
        rest = [c for c in out.columns if c not in ("lhs", "rhs", "op")]
        kept = out[rest]
        out = pd.concat([first.rename(names[0]).to_frame(), second.rename(names[1]).to_frame()], axis=1)
        if len(ops) > 1:
            out["op"] = frame["op"].astype(str).map(
                lambda o: i18n.template(_OP_WORDS[o], language) if o in _OP_WORDS else o).to_numpy()
        out = pd.concat([out, kept], axis=1)
    shown = display_names(instrument, language)
    constructs = set(instrument.construct_names) if instrument is not None else set()

    def name(v: object) -> object:
        if not isinstance(v, str):
            return v
        outcome, tilde, cause = v.partition(" ~ ")
        if tilde and outcome in constructs and cause in constructs:   # a path as tracking writes it
            return f"{shown.get(cause, cause)} \u2192 {shown.get(outcome, outcome)}"
        chain = v.split(" -> ")
        if len(chain) > 1 and set(chain) <= constructs:   # a chain of paths (specific indirect effects)
            return " \u2192 ".join(shown.get(c, c) for c in chain)
        return i18n.value_label(shown.get(v, v), language)

    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype):
            out[c] = out[c].map(name)
    if out.index.nlevels == 1 and (out.index.dtype == object or pd.api.types.is_string_dtype(out.index.dtype)):
        out.index = out.index.map(name)
    out.columns = [shown.get(c, c) if isinstance(c, str) else c for c in out.columns]
    return out


def _merge_intervals(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Each ``ci_lower``/``ci_upper`` (or ``X_ci_lower``/``X_ci_upper``) pair
    as one text column ``ci`` (``X_ci``): ``"0.12 to 0.34"`` reads as one interval."""
    out = frame
    for lower in [c for c in frame.columns if str(c).endswith("ci_lower")]:
        upper = str(lower)[:-5] + "upper"
        if upper not in frame.columns:
            continue
        merged = [f"{fmt_number(a, digits)} \u2013 {fmt_number(b, digits)}"
                  if _finite(a) and _finite(b) else None for a, b in zip(frame[lower], frame[upper])]
        at = list(out.columns).index(lower)
        out = out.drop(columns=[lower, upper])
        out.insert(at, str(lower)[:-6], pd.Series(merged, index=out.index, dtype=object))
    return out


def _parts(frame: pd.DataFrame, max_columns: int, language: str) -> list[tuple[str | None, pd.DataFrame]]:
    """A wide frame as narrower parts, each with the leading text columns
    that name its rows.  Columns of one statistic (``direct``,
    ``direct_se``, ``direct_ci``, ``direct_pvalue``; ``est`` with ``se``,
    ``ci``, ``pvalue``) make one part, titled by the statistic; otherwise
    the other columns are cut into parts of at most ``max_columns``."""
    cols = list(frame.columns)
    if len(cols) <= max_columns:
        return [(None, frame)]
    keys = []
    for c in cols:
        if pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(frame[c].dtype):
            break
        keys.append(c)
    values = [c for c in cols if c not in keys]
    # a statistic and its companions: "direct" with "direct_se", "direct_ci", ...; "est" with "se", "ci", ...
    groups = {c: {c: "est", **{f"{c}_{k}": k for k in ("se", "z", "pvalue", "ci")}}
              for c in values if c != "est" and (f"{c}_ci" in cols or f"{c}_se" in cols)}
    if groups and "est" in values and ("se" in cols or "ci" in cols):
        groups = {"est": {"est": "est", "se": "se", "z": "z", "pvalue": "pvalue", "ci": "ci"}, **groups}
    parts: list[tuple[str | None, pd.DataFrame]] = []
    if len(groups) > 1:
        used = []
        for stat, own in groups.items():
            own = {k: v for k, v in own.items() if k in cols}
            used += list(own)
            parts.append((i18n.label(stat, language), frame[keys + list(own)].rename(columns=own)))
        rest = [c for c in values if c not in used]   # the base, a rank ...: with the first part
        first_caption, first = parts[0]
        parts[0] = (first_caption, pd.concat([first, frame[rest]], axis=1))
        return parts
    width = max(1, max_columns - len(keys))
    n_parts = -(-len(values) // width)
    width = -(-len(values) // n_parts)   # parts of about equal width
    return [(None, frame[keys + values[i:i + width]]) for i in range(0, len(values), width)]


class Tables:
    """Several report tables shown one after the other (a wide table split
    by :func:`table`): renders as HTML in a notebook.

    Attributes
    ----------
    parts : list of pandas.io.formats.style.Styler
    """

    def __init__(self, parts: Sequence[Any]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return len(self.parts)

    def to_html(self) -> str:
        """The parts' HTML, in order."""
        return "\n".join(p.to_html() for p in self.parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def table(frame: pd.DataFrame, digits: int = 3, *, hide_index: bool | None = None,
          language: str = "en", instrument: Any = None, max_columns: int = MAX_COLUMNS):
    """A results frame formatted for a report, in plain language.

    The frame is reworded (:func:`plain_frame`: lavaan's ``lhs, op, rhs``
    as From / To, item codes as their short question texts, construct names
    in the report's language), each interval pair shown as one "95%
    interval" column, and every column labelled in plain words in
    ``language`` (:func:`csmlib.report.i18n.label`: Estimate, Std. error, p
    ...).  Numbers are rounded to ``digits`` decimals (whole numbers stay
    whole), p-value columns (``p``, ``pvalue``, ``*_pvalue``) read ``<
    0.001`` or ``0.034``, booleans yes/no, missing values a dash, and every
    text cell and label is escaped (:func:`csmlib.report.markup.html_escape`;
    the table is marked for MathJax to leave alone).  The default row
    numbers (0, 1, 2, ...) are hidden; a meaningful index (construct, item)
    is kept.  A table with more than ``max_columns`` columns is split into
    parts that fit the page, each repeating the columns that name the rows.

    Parameters
    ----------
    frame : DataFrame
        Any tidy frame returned by csmlib.
    digits : int
        Decimals of non-integer numbers.
    hide_index : bool, optional
        Force the index shown (False) or hidden (True).
    language : str
        The report's language (:data:`csmlib.report.i18n.LANGUAGES`).
    instrument : Instrument, optional
        Gives the items' short texts and the constructs' labels.
    max_columns : int
        Widest table shown in one part.

    Returns
    -------
    pandas.io.formats.style.Styler or Tables
        Renders as an HTML table (a wide one as several) in a notebook and
        its HTML report; both have ``to_html()``.
    """
    frame = pd.DataFrame(frame)
    if hide_index is None:
        hide_index = frame.index.name is None and frame.index.nlevels == 1 \
            and pd.api.types.is_integer_dtype(frame.index.dtype)
    index_name = frame.index.name
    frame = _merge_intervals(plain_frame(frame, language=language, instrument=instrument), digits)
    if frame.index.nlevels == 1 and index_name is not None:
        frame.index.name = i18n.label(index_name, language)
    styled = [_styled(part, digits, hide_index, language, caption)
              for caption, part in _parts(frame, max_columns, language)]
    return styled[0] if len(styled) == 1 else Tables(styled)


def _styled(frame: pd.DataFrame, digits: int, hide_index: bool, language: str, caption: str | None):
    yes, no = _YES_NO.get(language, _YES_NO["en"])

    def number(x: object) -> str:
        if isinstance(x, bool):
            return yes if x else no
        if not _finite(x):
            return "\u2013" if x is None or isinstance(x, float) else html_escape(x)
        v = float(x)  # type: ignore[arg-type]
        return f"{v:,.0f}" if v.is_integer() and abs(v) < 1e15 and not isinstance(x, float) \
            else f"{v:.{digits}f}"

    def pvalue(x: object) -> str:
        if not _finite(x):
            return "\u2013"
        return "&lt; 0.001" if float(x) < 0.001 else f"{float(x):.3f}"  # type: ignore[arg-type]

    def cell(x: object) -> str:
        if x is None or x is pd.NA or x is pd.NaT:
            return "\u2013"
        if isinstance(x, (bool, int, float)) or (hasattr(x, "dtype")):
            return number(x.item() if hasattr(x, "item") else x)
        return html_escape(x)

    def whole(x: object) -> str:
        return f"{float(x):,.0f}" if _finite(x) else "\u2013"  # type: ignore[arg-type]

    def counts(col: str) -> bool:
        """A count or rank held as floats (because some are missing)."""
        name = str(col).lower()
        values = pd.to_numeric(frame[col], errors="coerce") if frame[col].dtype.kind == "f" else None
        return values is not None and (name in ("n", "rank", "df", "delta_df") or name.startswith("n_")) \
            and bool(((values.dropna() % 1) == 0).all())

    labels: dict[object, str] = {}
    for c in frame.columns:
        text = i18n.label(c, language)
        labels[c] = text if text not in labels.values() else str(c)
    formats = {labels[c]: (pvalue if _is_p_column(c) else whole if counts(c) else cell) for c in frame.columns}
    styler = frame.rename(columns=labels).style.format(formats).format_index(html_escape, axis=0)
    styler = styler.format_index(html_escape, axis=1).set_table_attributes(f'class="{NO_MATH_CLASS}"')
    if caption:
        styler = styler.set_caption(html_escape(caption))
    if hide_index:
        styler = styler.hide(axis="index")
    return styler


def key_figures(figures: Sequence[Mapping[str, object]]) -> HTML:
    """Key-figure cards for the top of a report: one card per figure, its
    label small, its value large, a note (interval, change, base) beneath.

    Parameters
    ----------
    figures : sequence of mappings
        Each with ``label`` and ``value`` (text, already formatted in the
        report's language) and optionally ``note``; every text is escaped.

    Returns
    -------
    csmlib.report.HTML
        ``<div class="csm-cards">`` of ``<div class="csm-card">``, styled by
        the report's style sheet (:data:`csmlib.report.htmlexport.REPORT_CSS`);
        its plain text is one ``label: value (note)`` line per card.
    """
    cards, lines = [], []
    for f in figures:
        label, value, note = (str(f.get(k, "") or "") for k in ("label", "value", "note"))
        cards.append(f'<div class="csm-card"><div class="csm-card-label">{html_escape(label)}</div>'
                     f'<div class="csm-card-value">{html_escape(value)}</div>'
                     f'<div class="csm-card-note">{html_escape(note)}</div></div>')
        lines.append(f"{label}: {value}" + (f" ({note})" if note else ""))
    return HTML(f'<div class="csm-cards {NO_MATH_CLASS}">{"".join(cards)}</div>', "\n".join(lines))


def _anchor(key: str) -> str:
    from ..errors import CsmError

    if not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise CsmError(f"section key {key!r}: use ASCII letters, digits, '-' and '_'", values=[key])
    return f"csm-{key}"


def section(key: str, title: str, *, level: int = 2) -> HTML:
    """A report heading that :func:`contents` links to (``id="csm-<key>"``).

    Parameters
    ----------
    key : str
        The section's fixed key (the notebook's own, ASCII).
    title : str
        The heading text in the report's language (escaped).
    level : int
        Heading level, 1-4.

    Returns
    -------
    csmlib.report.HTML
    """
    tag = f"h{min(max(int(level), 1), 4)}"
    return HTML(f'<{tag} id="{_anchor(key)}">{html_escape(title)}</{tag}>', str(title))


def contents(sections: Sequence[tuple[str, str]], *, title: str = "Contents") -> HTML:
    """A table of contents linking to the report's :func:`section` headings.

    Parameters
    ----------
    sections : sequence of (key, title)
        In report order; titles in the report's language (escaped).
    title : str
        The list's heading.

    Returns
    -------
    csmlib.report.HTML
        ``<div class="csm-toc">`` with an ordered list of in-page links.
    """
    items = "".join(f'<li><a href="#{_anchor(k)}">{html_escape(t)}</a></li>' for k, t in sections)
    plain = "\n".join([str(title), *(f"{i}. {t}" for i, (_, t) in enumerate(sections, 1))])
    return HTML(f'<div class="csm-toc"><strong>{html_escape(title)}</strong><ol>{items}</ol></div>', plain)


def as_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> pd.DataFrame:
    """A small display frame with the given columns, in order."""
    return pd.DataFrame(list(rows), columns=list(columns))


class WaveResults:
    """The recorded results of one wave's runs, as the study report reads them.

    Parameters
    ----------
    wave_results : mapping
        ``{"<segment>/<notebook>": results file}``, the ``wave_results``
        parameter :mod:`csmlib.run.batch` gives the report notebook.  Files that
        do not exist (suppressed or failed runs) are skipped.

    Every read goes through the declared keys (:mod:`csmlib.report.keys`):
    a key that a run's notebook records on every run but that is absent
    from its results is gathered in :attr:`missing` (shown by
    :meth:`missing_note`, raised by :meth:`check`), never read as NaN.
    """

    def __init__(self, wave_results: Mapping[str, str]):
        from pathlib import Path

        from .record import read_results

        self._results: dict[tuple[str, str], dict] = {}
        self._missing: list[str] = []
        for key, path in wave_results.items():
            segment, _, notebook = str(key).rpartition("/")
            if Path(path).exists():
                self._results[(segment, notebook)] = read_results(path)

    def segments(self, notebook: str) -> list[str]:
        """Segments (other than ``all``) with results from ``notebook``."""
        return [s for (s, nb) in self._results if nb == notebook and s != "all"]

    def has(self, notebook: str, segment: str = "all") -> bool:
        return (segment, notebook) in self._results

    def _read(self, notebook: str, key: str, segment: str) -> Any:
        value, missing = read_recorded(self._results.get((segment, notebook)), notebook, key)
        where = f"{segment}/{notebook}: {key}"
        if missing and where not in self._missing:
            self._missing.append(where)
        return value

    def value(self, notebook: str, key: str, segment: str = "all", default: object = math.nan):
        """A recorded scalar, or ``default`` when the run did not record it
        (a key the run should have recorded is also noted in :attr:`missing`).

        Raises
        ------
        StudyError
            ``notebook`` is not declared to record ``key``.
        """
        value = self._read(notebook, key, segment)
        return default if value is None else value

    def frame(self, notebook: str, key: str, segment: str = "all") -> pd.DataFrame | None:
        """A recorded table, or None (noted in :attr:`missing` when the run
        should have recorded it)."""
        return self._read(notebook, key, segment)

    @property
    def missing(self) -> list[str]:
        """``"<segment>/<notebook>: <key>"`` of every key read so far that a
        run should have recorded and did not."""
        return list(self._missing)

    def missing_note(self, language: str = "en") -> Findings:
        """The keys in :attr:`missing` as a titled, escaped list (empty when none)."""
        return Findings([i18n.text(language, "not_recorded", where=w) for w in self._missing],
                        title=i18n.text(language, "missing_title"))

    def check(self) -> None:
        """Raise when a run did not record a key the report read.

        Raises
        ------
        StudyError
            Naming every missing ``segment/notebook: key``; the report's
            run record then carries the error.
        """
        from ..errors import StudyError

        if self._missing:
            raise StudyError(
                "the study report read results that the runs did not record: "
                + "; ".join(self._missing),
                values=self._missing,
                hint="the notebooks named must record these keys (csmlib.report.keys); "
                     "run them again with csm run --force",
            )

    def estimation_notes(self, segment: str = "all", language: str = "en") -> Findings:
        """Every section's recorded estimation notes (``estimation_notes``,
        ``cbsem_estimation_notes``), each once, followed by the sections
        that recorded it.

        Returns
        -------
        Findings
            Titled "Estimation notes"; empty when no section recorded any.
        """
        sections: dict[str, list[str]] = {}   # note -> the sections that recorded it
        for (seg, notebook), results in self._results.items():
            if seg != segment:
                continue
            for key in NOTE_KEYS:
                if not declared(notebook, key):
                    continue   # a study's own notebook that records no notes
                for note in self._read(notebook, key, seg) or []:
                    where = sections.setdefault(str(note), [])
                    shown = i18n.value_label(notebook.replace("_", " "), language)
                    if shown not in where:
                        where.append(shown)
        sep = i18n.text(language, "list_sep")
        return Findings([i18n.text(language, "note_sections", note=note, sections=sep.join(where))
                         for note, where in sections.items()],
                        title=i18n.text(language, "notes_title"))


def reliability_finding(reliability: pd.DataFrame, *, language: str = "en",
                        names: Mapping[str, str] | None = None) -> str:
    """One sentence on reliability and convergent validity.

    Parameters
    ----------
    reliability : DataFrame
        From :func:`csmlib.analysis.measurement.reliability_assessment` with a
        ``construct`` column and boolean ``*_ok`` / ``passed`` columns.
    language : str
        The sentence's language (:mod:`csmlib.report.i18n`).
    names : mapping, optional
        What to call each construct (:func:`display_names`); default its name.
    """
    flags = [c for c in reliability.columns if c.endswith("_ok")]
    if not flags:
        return i18n.text(language, "reliability_none")
    names = names or {}
    bad = []
    for r in reliability.itertuples(index=False):
        failed = [f[:-3] for f in flags
                  if getattr(r, f) is not None and not pd.isna(getattr(r, f)) and not bool(getattr(r, f))]
        if failed:
            bad.append(i18n.text(language, "reliability_which", construct=names.get(r.construct, r.construct),
                                 failed=", ".join(failed)))
    if not bad:
        return i18n.text(language, "reliability_good")
    return i18n.text(language, "reliability_bad", constructs=i18n.text(language, "clause_sep").join(bad))


def mediation_finding(mediation: pd.DataFrame, *, digits: int = 2, language: str = "en",
                      names: Mapping[str, str] | None = None) -> str:
    """One plain-text sentence on a mediation analysis (render it through
    :func:`md` or :class:`Findings`, which escape it).

    Parameters
    ----------
    mediation : DataFrame
        From :func:`csmlib.mediation` (one ``x``/``y`` pair): columns ``x,
        y, effect, est, ci_lower, ci_upper, type``.
    language : str
        The sentence's language (:mod:`csmlib.report.i18n`).
    names : mapping, optional
        What to call each construct (:func:`display_names`); default its name.

    Returns
    -------
    str
        E.g. "Quality → Satisfaction: direct 0.41 (95% CI 0.30–0.52),
        indirect 0.12 (95% CI 0.07–0.18); complementary (partial) mediation
        ...".  Plain text: construct names are not escaped here.
    """
    rows = mediation.set_index("effect")
    d, t = rows.loc["direct"], rows.loc["total indirect"]
    names = names or {}
    x, y = (names.get(str(mediation[c].iloc[0]), str(mediation[c].iloc[0])) for c in ("x", "y"))
    kind = f"mediation_{t['type']}"
    words = i18n.text(language, kind) if kind in i18n.MESSAGES else str(t["type"])
    return i18n.text(language, "mediation", x=x, y=y, words=words,
                     direct=fmt_ci(d["est"], d["ci_lower"], d["ci_upper"], digits=digits, language=language),
                     indirect=fmt_ci(t["est"], t["ci_lower"], t["ci_upper"], digits=digits, language=language))
#: Standardized residuals beyond this (in absolute value) are pointed out
#: (about the two-sided 1% point of the normal distribution, rounded up).
RESIDUAL_CUTOFF = 3.0
#: Modification indices beyond this are pointed out (chi-square, 1 df, p < .005).
MI_CUTOFF = 7.88


def misfit_findings(modification_indices: pd.DataFrame, standardized_residuals: pd.DataFrame, *,
                    top: int = 3, language: str = "en", names: Mapping[str, str] | None = None) -> Findings:
    """Plain sentences on where a covariance-based model misfits.

    Parameters
    ----------
    modification_indices : DataFrame
        From :func:`csmlib.modification_indices` (``lhs, op, rhs, mi,
        sepc_all``).
    standardized_residuals : DataFrame
        From :func:`csmlib.residuals` with ``type="standardized"`` (``lhs,
        op, rhs, residual``); only covariances between two different items
        are named.
    top : int
        How many of each to name at most.
    language : str
        The sentences' language (:mod:`csmlib.report.i18n`).
    names : mapping, optional
        What to call each item and construct (:func:`display_names`); default its name.

    Returns
    -------
    Findings
        Titled "Where the model misfits": the largest modification indices
        above :data:`MI_CUTOFF` and the largest standardized residuals
        beyond :data:`RESIDUAL_CUTOFF`, each with what it would mean, and a
        reminder that the model is not changed by them.  Names are plain
        text (escaped when rendered).
    """
    out = Findings(title=i18n.text(language, "misfit_title"))
    names = names or {}
    mi = modification_indices.sort_values("mi", ascending=False)
    big = mi[mi["mi"] > MI_CUTOFF].head(top)
    for r in big.itertuples(index=False):
        lhs, rhs = names.get(r.lhs, r.lhs), names.get(r.rhs, r.rhs)
        what = i18n.text(language, f"misfit_{r.op}", lhs=lhs, rhs=rhs) if f"misfit_{r.op}" in i18n.MESSAGES \
            else f"{lhs} {r.op} {rhs}"
        out.add(i18n.text(language, "misfit_mi", mi=f"{r.mi:.1f}", lhs=lhs, op=r.op, rhs=rhs, what=what,
                          sepc=f"{r.sepc_all:.2f}"))
    res = standardized_residuals
    res = res[(res["op"] == "~~") & (res["lhs"] != res["rhs"])]
    res = res.assign(_abs=res["residual"].abs()).sort_values("_abs", ascending=False)
    beyond = res[res["_abs"] > RESIDUAL_CUTOFF].head(top)
    for r in beyond.itertuples(index=False):
        out.add(i18n.text(language, "misfit_more" if r.residual > 0 else "misfit_less", r=f"{r.residual:.2f}",
                          lhs=names.get(r.lhs, r.lhs), rhs=names.get(r.rhs, r.rhs)))
    if not len(out):
        out.add(i18n.text(language, "misfit_none", mi=f"{MI_CUTOFF}", r=f"{RESIDUAL_CUTOFF:g}"))
    else:
        out.add(i18n.text(language, "misfit_leads"))
    return out
