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

import pandas as pd

from . import i18n
from .keys import declared, read_recorded
from .markup import HTML, NO_MATH_CLASS, Markdown, html, html_escape, md, md_escape

__all__ = [
    "FIT_THRESHOLDS",
    "Findings",
    "fmt_ci",
    "fmt_number",
    "fmt_p",
    "index_finding",
    "change_phrase",
    "fit_assessment",
    "fit_finding",
    "driver_findings",
    "suppressed_finding",
    "md_escape",
    "md",
    "html",
    "html_escape",
    "Markdown",
    "HTML",
    "table",
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
           level: float = 0.95) -> str:
    """``"74.2 (95% CI 72.9-75.5)"``; the interval is left out when unknown."""
    text = fmt_number(est, digits)
    if _finite(lower) and _finite(upper):
        text += (f" ({level * 100:g}% CI {fmt_number(lower, digits)}"
                 f"\u2013{fmt_number(upper, digits)})")
    return text


def change_phrase(diff: object, pvalue: object = None, *, alpha: float = 0.05,
                  unit: str = "points", digits: int = 1, since: str = "the last wave") -> str:
    """Describe a change: ``"up 2.1 points from the last wave, a significant
    change (p = 0.012)"``.

    The verdict rests on the test's p-value only; without one the change is
    reported as untested, never as significant.
    """
    if not _finite(diff):
        return f"no comparison with {since} is available"
    d = float(diff)  # type: ignore[arg-type]
    if round(d, digits) == 0:
        direction = f"unchanged from {since}"
    else:
        word = "up" if d > 0 else "down"
        direction = f"{word} {fmt_number(abs(d), digits)} {unit} from {since}"
    if not _finite(pvalue):
        return f"{direction} (change not tested)"
    p = float(pvalue)  # type: ignore[arg-type]
    verdict = "a significant change" if p < alpha else "not a significant change"
    return f"{direction}, {verdict} ({fmt_p(p)})"


def index_finding(construct: str, index: object, ci_lower: object = None, ci_upper: object = None,
                  *, diff: object = None, pvalue: object = None, alpha: float = 0.05,
                  level: float = 0.95, since: str = "the last wave") -> str:
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

    Returns
    -------
    str
    """
    text = f"{construct} index {fmt_ci(index, ci_lower, ci_upper, level=level)}"
    if diff is not None and _finite(diff):
        text += ", " + change_phrase(diff, pvalue, alpha=alpha, since=since)
    return text + "."


def fit_assessment(fit_indices: pd.Series | Mapping[str, float],
                   thresholds: Mapping[str, tuple[str, float]] = FIT_THRESHOLDS) -> pd.DataFrame:
    """Judge fit indices against conventional cut-offs.

    A robust fit (``estimator="MLR"``/``"MLM"``, survey weights) is judged by
    its robust index where it has one (``cfi_robust`` for ``cfi``, ...), as
    lavaan's robust columns are read.

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
        if f"{name}_robust" in fit.index and _finite(fit[f"{name}_robust"]):
            name = f"{name}_robust"
        if name not in fit.index or not _finite(fit[name]):
            continue
        value = float(fit[name])
        passed = value >= cut if direction == ">=" else value <= cut
        rows.append({"index": name, "value": value, "rule": f"{direction} {cut:g}", "passed": bool(passed)})
    return pd.DataFrame(rows, columns=["index", "value", "rule", "passed"])


def fit_finding(fit_indices: pd.Series | Mapping[str, float],
                thresholds: Mapping[str, tuple[str, float]] = FIT_THRESHOLDS) -> str:
    """One sentence on model fit, naming the indices that miss their cut-off."""
    table = fit_assessment(fit_indices, thresholds)
    if table.empty:
        return "No fit indices are available for this model."
    def label(name: str) -> str:
        return f"robust {name[:-7].upper()}" if name.endswith("_robust") else name.upper()

    shown = ", ".join(f"{label(r.index)} {r.value:.3f}" for r in table.itertuples())
    failed = [label(r.index) for r in table.itertuples() if not r.passed]
    if not failed:
        return f"The model fits the data well ({shown}; all within conventional cut-offs)."
    return (f"The model's fit is questionable: {', '.join(failed)} "
            f"{'misses its' if len(failed) == 1 else 'miss their'} conventional cut-off ({shown}).")


def driver_findings(ipma: pd.DataFrame, target: str, *, top: int = 3) -> list[str]:
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
    out = []
    for r in table.head(top).itertuples():
        out.append(f"{r.construct}: importance {r.importance:.2f} (a one-point gain in "
                   f"{r.construct} performance moves {target} by {r.importance:.2f} points), "
                   f"performance {r.performance:.1f} of 100.")
    return out


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


def _data_notes(fit: object) -> list[str]:
    """Who the estimates rest on: respondents left out, answers replaced."""
    info = getattr(fit, "data_info", None)
    if not isinstance(info, Mapping):
        return []
    method = {"pls": "PLS", "cbsem": "CB-SEM"}.get(str(getattr(fit, "method", "")), "The model")
    out = []
    used = info.get("rows_used")
    for reason, count in (info.get("dropped") or {}).items():
        if count:
            out.append(f"{method}: {count} respondent(s) left out ({reason}); the estimates "
                       f"rest on {used}.")
    replaced = info.get("mean_replaced", 0)
    if replaced:
        spec = getattr(fit, "spec", None)
        cells = (used or 0) * len(getattr(spec, "indicators", ()) or ())
        share = f" ({replaced / cells:.1%} of the answers)" if cells else ""
        out.append(f"{method}: {replaced} missing answer(s){share} replaced by the item mean.")
    kept = info.get("incomplete_rows_kept", 0)
    if kept:
        out.append(f"{method}: {kept} respondent(s) with missing answers kept, their answers "
                   "used by full-information ML.")
    return out


def estimation_notes(*fits: object) -> Findings:
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

    Returns
    -------
    Findings
        Titled "Estimation notes"; one item per distinct note.
    """
    notes: list[str] = []
    for fit in fits:
        if fit is None:
            continue
        notes.extend(_data_notes(fit))
        for w in getattr(fit, "warnings", ()) or ():
            notes.append(str(w))
        n_boot = getattr(fit, "n_boot", None)
        if n_boot:
            failed = int(getattr(fit, "n_failed", 0) or 0)
            flipped = int(getattr(fit, "n_sign_flipped", 0) or 0)
            if failed:
                notes.append(f"{failed} of {n_boot} bootstrap resamples failed; the intervals "
                             f"rest on the other {n_boot - failed}.")
            if flipped:
                notes.append(f"{flipped} of {n_boot} bootstrap resamples had an outer weight "
                             "change sign.")
    unique = list(dict.fromkeys(notes))
    return Findings(unique, title="Estimation notes")


def _is_p_column(name: object) -> bool:
    n = str(name).lower()
    return n in ("p", "p_value") or n.endswith("pvalue")


def table(frame: pd.DataFrame, digits: int = 3, *, hide_index: bool | None = None):
    """A results frame formatted for a report.

    Numbers are rounded to ``digits`` decimals (whole numbers stay whole),
    p-value columns (``p``, ``pvalue``, ``*_pvalue``) read ``< 0.001`` or
    ``0.034``, booleans ``yes``/``no``, missing values a dash, and every
    text cell and label is escaped (:func:`csmlib.report.markup.html_escape`;
    the table is marked for MathJax to leave alone).  The default row numbers
    (0, 1, 2, ...) are hidden; a meaningful index (construct, item) is kept.

    Parameters
    ----------
    frame : DataFrame
        Any tidy frame returned by csmlib.
    digits : int
        Decimals of non-integer numbers.
    hide_index : bool, optional
        Force the index shown (False) or hidden (True).

    Returns
    -------
    pandas.io.formats.style.Styler
        Renders as an HTML table in a notebook (and its HTML report).
    """
    frame = pd.DataFrame(frame)
    if hide_index is None:
        hide_index = frame.index.name is None and frame.index.nlevels == 1 \
            and pd.api.types.is_integer_dtype(frame.index.dtype)

    def number(x: object) -> str:
        if isinstance(x, bool):
            return "yes" if x else "no"
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

    formats = {c: (pvalue if _is_p_column(c) else whole if counts(c) else cell) for c in frame.columns}
    styler = frame.style.format(formats).format_index(html_escape, axis=0)
    styler = styler.format_index(html_escape, axis=1).set_table_attributes(f'class="{NO_MATH_CLASS}"')
    if hide_index:
        styler = styler.hide(axis="index")
    return styler


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

    def missing_note(self) -> Findings:
        """The keys in :attr:`missing` as a titled, escaped list (empty when none)."""
        return Findings([f"{w} was not recorded" for w in self._missing],
                        title="Results missing from the runs")

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

    def estimation_notes(self, segment: str = "all") -> Findings:
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
                    if notebook.replace("_", " ") not in where:
                        where.append(notebook.replace("_", " "))
        return Findings([f"{note} ({', '.join(where)})" for note, where in sections.items()],
                        title="Estimation notes")


def reliability_finding(reliability: pd.DataFrame) -> str:
    """One sentence on reliability and convergent validity.

    Parameters
    ----------
    reliability : DataFrame
        From :func:`csmlib.analysis.measurement.reliability_assessment` with a
        ``construct`` column and boolean ``*_ok`` / ``passed`` columns.
    """
    flags = [c for c in reliability.columns if c.endswith("_ok")]
    if not flags:
        return "Reliability was not assessed."
    bad = []
    for r in reliability.itertuples(index=False):
        failed = [f[:-3] for f in flags
                  if getattr(r, f) is not None and not pd.isna(getattr(r, f)) and not bool(getattr(r, f))]
        if failed:
            bad.append(f"{r.construct} ({', '.join(failed)})")
    if not bad:
        return "Every construct is measured reliably (alpha, rho_A, rho_C and AVE meet their thresholds)."
    return "Reliability below the usual thresholds for " + "; ".join(bad) + "."


_MEDIATION_WORDS = {
    "complementary": "complementary (partial) mediation: the indirect and the direct effect are both "
                     "significant and point the same way",
    "competitive": "competitive (partial) mediation: the indirect and the direct effect are both "
                   "significant and point in opposite directions",
    "indirect-only": "indirect-only (full) mediation: only the indirect effect is significant",
    "direct-only": "no mediation (direct-only): only the direct effect is significant",
    "no effect": "no effect: neither the direct nor the indirect effect is significant",
}


def mediation_finding(mediation: pd.DataFrame, *, digits: int = 2) -> str:
    """One plain-text sentence on a mediation analysis (render it through
    :func:`md` or :class:`Findings`, which escape it).

    Parameters
    ----------
    mediation : DataFrame
        From :func:`csmlib.mediation` (one ``x``/``y`` pair): columns ``x,
        y, effect, est, ci_lower, ci_upper, type``.

    Returns
    -------
    str
        E.g. "Quality → Satisfaction: direct 0.41 (95% CI 0.30–0.52),
        indirect 0.12 (95% CI 0.07–0.18); complementary (partial) mediation
        ...".  Plain text: construct names are not escaped here.
    """
    rows = mediation.set_index("effect")
    d, t = rows.loc["direct"], rows.loc["total indirect"]
    x, y = str(mediation["x"].iloc[0]), str(mediation["y"].iloc[0])
    words = _MEDIATION_WORDS.get(str(t["type"]), str(t["type"]))
    return (f"{x} \u2192 {y}: direct {fmt_ci(d['est'], d['ci_lower'], d['ci_upper'], digits=digits)}, "
            f"indirect {fmt_ci(t['est'], t['ci_lower'], t['ci_upper'], digits=digits)}; {words}.")
#: Standardized residuals beyond this (in absolute value) are pointed out
#: (about the two-sided 1% point of the normal distribution, rounded up).
RESIDUAL_CUTOFF = 3.0
#: Modification indices beyond this are pointed out (chi-square, 1 df, p < .005).
MI_CUTOFF = 7.88


def misfit_findings(modification_indices: pd.DataFrame, standardized_residuals: pd.DataFrame, *,
                    top: int = 3) -> Findings:
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

    Returns
    -------
    Findings
        Titled "Where the model misfits": the largest modification indices
        above :data:`MI_CUTOFF` and the largest standardized residuals
        beyond :data:`RESIDUAL_CUTOFF`, each with what it would mean, and a
        reminder that the model is not changed by them.  Names are plain
        text (escaped when rendered).
    """
    out = Findings(title="Where the model misfits")
    words = {"=~": "{rhs} also measuring {lhs}", "~~": "{lhs} and {rhs} sharing variance the model "
             "leaves out", "~": "a path from {rhs} to {lhs}"}
    mi = modification_indices.sort_values("mi", ascending=False)
    big = mi[mi["mi"] > MI_CUTOFF].head(top)
    for r in big.itertuples(index=False):
        what = words.get(r.op, "{lhs} {op} {rhs}").format(lhs=r.lhs, rhs=r.rhs, op=r.op)
        out.add(f"Modification index {r.mi:.1f} for {r.lhs} {r.op} {r.rhs}: {what} would lower the "
                f"chi-square by about {r.mi:.1f} (expected standardized value {r.sepc_all:.2f}).")
    res = standardized_residuals
    res = res[(res["op"] == "~~") & (res["lhs"] != res["rhs"])]
    res = res.assign(_abs=res["residual"].abs()).sort_values("_abs", ascending=False)
    beyond = res[res["_abs"] > RESIDUAL_CUTOFF].head(top)
    for r in beyond.itertuples(index=False):
        direction = "more" if r.residual > 0 else "less"
        out.add(f"Standardized residual {r.residual:.2f} for {r.lhs} with {r.rhs}: the two items "
                f"covary {direction} than the model implies.")
    if not len(out):
        out.add(f"No modification index above {MI_CUTOFF} and no standardized residual beyond "
                f"{RESIDUAL_CUTOFF:g}: nothing points at a missing loading, path or covariance.")
    else:
        out.add("These are leads to review against theory and the questionnaire, not changes: the "
                "model is estimated as specified.")
    return out
