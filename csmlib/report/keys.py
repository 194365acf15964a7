"""The recorded keys: every result a notebook records, declared in one place.

Each key has one type, a meaning, and the notebooks that record it -- with,
for each notebook, the condition under which it records the key (``""``:
every run that was not suppressed records it).  :func:`csmlib.report.record.record`
and :func:`~csmlib.report.record.record_frame` refuse a key that is not
declared here, or a value of another type; the study report reads other
notebooks' results through :func:`read_recorded`, so a key that a run should
have recorded and did not is reported as missing, never read as NaN.

A study's own notebook declares its own keys before recording them::

    from csmlib.report.keys import declare
    declare("mean_x", "number", "mean of x", notebook="my_notebook")

Types: ``number`` (a float or int; NaN is stored as null), ``integer``,
``string``, ``boolean``, ``strings`` (a list of strings), ``numbers`` (a
list of numbers), ``mapping`` (a flat dict of scalars) and ``table`` (a frame
recorded with ``record_frame``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import StudyError

__all__ = ["RecordedKey", "KEYS", "TYPES", "declare", "declared", "key_spec", "check_recorded",
           "read_recorded", "keys_frame"]

TYPES = ("number", "integer", "string", "boolean", "strings", "numbers", "mapping", "table")

#: condition wording shared by several keys
_PREVIOUS = "when the previous wave has an index"
_ALWAYS = ""


@dataclass(frozen=True)
class RecordedKey:
    """One recorded key.

    Attributes
    ----------
    name : str
    type : str
        One of :data:`TYPES`.
    meaning : str
        What the value is, in a sentence.
    recorded_by : mapping
        ``{notebook: condition}``; condition ``""`` means every run of the
        notebook that was not suppressed records the key, otherwise it says
        when the key is recorded.
    """

    name: str
    type: str
    meaning: str
    recorded_by: Mapping[str, str] = field(default_factory=dict)

    def required_by(self, notebook: str) -> bool:
        """Whether every (unsuppressed) run of ``notebook`` records this key."""
        return self.recorded_by.get(notebook) == _ALWAYS


def _k(name: str, type_: str, meaning: str, **recorded_by: str) -> RecordedKey:
    return RecordedKey(name, type_, meaning, dict(recorded_by))


_NOTES = "estimation notes: respondents left out, answers replaced, warnings, failed resamples"
_PLS_NB = ("measurement", "structural", "index_drivers", "tracking")
_WITH_INDEX = "when index_drivers recorded the index"
#: the headline index and its interval: who records them
_INDEX_BY = {"index_drivers": _ALWAYS, "tracking": _ALWAYS, "study_report": _WITH_INDEX}

_LOG_TABLES = "on the whole sample (segment all), when tickets were opened in the wave's window (or the log)"
_LOG_WINDOW = "on the whole sample (segment all)"
_RECOVERY = "when the log has customer ids and the segment's base is not suppressed"

_BUILTIN = (
    _k("n", "integer", "respondents in the wave x segment",
       **{nb: _ALWAYS for nb in ("data_quality", "gaps", "complaints_loyalty", "study_design", *_PLS_NB)}),
    _k("estimation_notes", "strings", "PLS " + _NOTES,
       **{nb: _ALWAYS for nb in _PLS_NB}, study_design=_ALWAYS,
       complaints_loyalty="when the model has the loyalty construct and a complained item is set",
       feedback="when themes were found and the model has the satisfaction construct",
       study_report=_ALWAYS),
    _k("cbsem_estimation_notes", "strings", "CB-SEM " + _NOTES, structural=_ALWAYS,
       measurement=_ALWAYS),
    _k("modification_indices", "table", "the ten largest CB-SEM modification indices (lhs, op, rhs, "
       "mi, epc, sepc_lv, sepc_all)", measurement=_ALWAYS),
    _k("standardized_residuals", "table", "the ten largest standardized residual covariances of "
       "two items", measurement=_ALWAYS),
    # data_quality
    _k("responses", "table", "rows read, dropped (and why) and kept", data_quality=_ALWAYS),
    _k("items", "table", "per item: n, mean, sd, share missing, top and bottom box",
       data_quality=_ALWAYS),
    _k("straightlining", "table", "respondents answering every item of a construct alike, by construct",
       data_quality=_ALWAYS),
    _k("n_flags", "integer", "data-quality problems flagged", data_quality=_ALWAYS),
    # measurement
    _k("loadings", "table", "standardized PLS loadings (construct, item, loading, passed >= 0.708)",
       measurement=_ALWAYS),
    _k("wlsmv_recommended", "boolean", "an item of the model has 7 or fewer answer categories with a "
       "ceiling: WLSMV (ordered items) is recommended over ML", measurement=_ALWAYS),
    _k("estimator_comparison", "table", "standardized loadings and paths of the CB-SEM model by ML and by "
       "WLSMV (ordered items) side by side (lhs, op, rhs, one column per estimator)",
       measurement="when compare_estimators is true or cbsem_estimator is WLSMV"),
    _k("reliability", "table", "alpha, rho_A, rho_C and AVE per construct with their *_ok flags",
       measurement=_ALWAYS),
    _k("htmt", "table", "HTMT ratios with bootstrap intervals", measurement=_ALWAYS),
    # structural
    _k("paths", "table", "PLS path estimates with bootstrap SE, percentile interval and p-value",
       structural=_ALWAYS),
    _k("r2", "table", "R-squared per endogenous construct", structural=_ALWAYS),
    _k("srmr", "number", "SRMR of the PLS model", structural=_ALWAYS),
    _k("fit", "table", "CB-SEM fit indices (index, value)", structural=_ALWAYS),
    _k("specific_effects", "table", "every specific indirect effect (chain of paths) with bootstrap "
       "SE, percentile interval and p-value", structural=_ALWAYS),
    _k("mediation", "table", "direct, specific and total indirect effects with the Zhao et al. "
       "(2010) mediation type, per pair with a direct path and a chain",
       structural="when the model has a direct path beside a chain"),
    _k("inner_vif", "table", "VIF of each antecedent among the antecedents of its construct",
       structural=_ALWAYS),
    _k("f_squared", "table", "Cohen's f-squared of every path", structural=_ALWAYS),
    _k("prediction", "table", "PLSpredict per item: PLS and LM RMSE/MAE and Q2predict",
       structural="when out-of-sample prediction could be assessed"),
    _k("cvpat", "table", "CVPAT tests of PLS against the IA and LM benchmarks",
       structural="when out-of-sample prediction could be assessed"),
    _k("outer_vif", "table", "VIF of each item among the items of its construct",
       measurement=_ALWAYS),
    # index_drivers, tracking, study_report
    _k("indices", "table", "0-100 index of every construct with bootstrap SE and interval",
       index_drivers=_ALWAYS),
    _k("index", "number", "the headline satisfaction index (0-100)", **_INDEX_BY),
    _k("index_se", "number", "bootstrap standard error of the index", **_INDEX_BY),
    _k("index_ci_lower", "number", "lower bound of the index's 95% bootstrap interval", **_INDEX_BY),
    _k("index_ci_upper", "number", "upper bound of the index's 95% bootstrap interval", **_INDEX_BY),
    _k("seed", "integer", "bootstrap seed", index_drivers=_ALWAYS, tracking=_ALWAYS),
    _k("n_boot", "integer", "bootstrap resamples", index_drivers=_ALWAYS, tracking=_ALWAYS),
    _k("n_failed", "integer", "bootstrap resamples that failed", index_drivers=_ALWAYS,
       tracking=_ALWAYS),
    _k("change", "number", "index change since the previous wave",
       index_drivers=_PREVIOUS, tracking=_PREVIOUS),
    _k("change_pvalue", "number", "p-value of the index change since the previous wave",
       index_drivers=_PREVIOUS, tracking=_PREVIOUS),
    _k("ipma", "table", "importance (total effect) and performance (0-100) of each driver",
       index_drivers=_ALWAYS),
    _k("estimates", "table", "this wave's indices and paths with bootstrap intervals",
       tracking=_ALWAYS),
    _k("trend", "table", "the index (and paths) of every wave so far",
       tracking=_ALWAYS, study_report=_WITH_INDEX),
    _k("changes", "table", "this wave's change of every index and path, with tests",
       tracking=_ALWAYS),
    _k("segments", "table", "each segment's index against the total (league table)",
       tracking="for the whole sample of a study with segments",
       study_report="when index_drivers recorded the index for the whole sample and segments"),
    _k("micom", "table", "composite invariance (MICOM) of two segments",
       tracking="with exactly two estimated segments"),
    _k("micom_seed", "integer", "permutation seed of MICOM",
       tracking="with exactly two estimated segments"),
    _k("path_differences", "table", "permutation test of path differences between two segments",
       tracking="with exactly two estimated segments"),
    # complaints_loyalty
    _k("nps", "number", "Net Promoter Score (-100 to 100)",
       complaints_loyalty="when recommend_item is set"),
    _k("nps_detail", "table", "NPS with promoter and detractor shares and interval",
       complaints_loyalty="when recommend_item is set"),
    _k("top2_box", "number", "share of the top two answers of csat_item",
       complaints_loyalty="when csat_item is set"),
    _k("top_box", "table", "top-2 box share of csat_item with interval",
       complaints_loyalty="when csat_item is set"),
    _k("complaint_rate", "number", "share of respondents who complained",
       complaints_loyalty="when complained_item is set"),
    _k("complaint_rate_detail", "table", "complaint rate with interval",
       complaints_loyalty="when complained_item is set"),
    _k("loyalty_by_complaint", "table", "loyalty (0-100) of complainers and the rest",
       complaints_loyalty="when the model has the loyalty construct and a complained item is set"),
    # complaints_log (the company's complaint log; the log's own tables on the whole sample only)
    _k("complaint_tickets", "integer", "tickets opened in the wave's fieldwork window (without one: in the whole "
       "log) as of the date the log's tables describe",
       complaints_log=_LOG_WINDOW + ", when the log reaches the window (not when it ends before the window starts)"),
    _k("complaint_from", "string", "first day of the wave's fieldwork window the log's tables describe "
       "(\"\" without a window: the whole log)", complaints_log=_LOG_WINDOW),
    _k("complaint_as_of", "string", "the date the log's tables describe (YYYY-MM-DD): the end of the wave's "
       "window, or the log's own date when that is earlier or there is no window", complaints_log=_LOG_WINDOW),
    _k("complaint_open", "integer", "tickets still open as of the log's date (the backlog)",
       complaints_log=_LOG_TABLES),
    _k("complaint_median_hours", "number", "median hours to resolution (Kaplan-Meier)",
       complaints_log=_LOG_TABLES),
    _k("complaint_p90_hours", "number", "90th percentile of hours to resolution (Kaplan-Meier)",
       complaints_log=_LOG_TABLES),
    _k("complaint_within_sla", "number", "share of tickets resolved within their SLA (Kaplan-Meier)",
       complaints_log=_LOG_TABLES),
    _k("complaint_reopen_rate", "number", "share of tickets reopened",
       complaints_log=_LOG_TABLES),
    _k("complaint_trend", "number", "change of the ticket volume per period (0.05 = +5%)",
       complaints_log=_LOG_TABLES),
    _k("complaint_volume", "table", "tickets per period", complaints_log=_LOG_TABLES),
    _k("complaint_pareto", "table", "tickets by category, most first, with the vital few",
       complaints_log=_LOG_TABLES),
    _k("complaint_channels", "table", "tickets by channel, most first", complaints_log=_LOG_TABLES),
    _k("complaint_resolution", "table", "time to resolution, SLA, reopening and backlog by category",
       complaints_log=_LOG_TABLES),
    _k("complaint_change", "table", "chi-square test of change in the category mix between periods",
       complaints_log=_LOG_TABLES),
    _k("recovery", "table", "satisfaction and loyalty by complaint handling (within SLA, late, "
       "unresolved, no complaint)", complaints_log=_RECOVERY),
    _k("recovery_test", "table", "Welch ANOVA across complaint-handling groups and late minus within SLA",
       complaints_log=_RECOVERY),
    # study_design
    _k("design_bases", "table", "per segment (and all): base n, respondents scored, mean and SD of the "
       "respondents' index, the change the base detects and the base a target change needs",
       study_design=_ALWAYS),
    _k("index_sd", "number", "respondent-level standard deviation of the headline index (0-100 points)",
       study_design=_ALWAYS),
    _k("detectable_change", "number", "smallest index change between two waves of this base that is "
       "detected with the planned power", study_design=_ALWAYS),
    _k("n_for_change", "integer", "respondents per wave needed to detect the target index change",
       study_design="when the respondents' index has a standard deviation"),
    _k("path_min_n", "table", "each PLS path with its inverse-square-root minimum sample size "
       "(Kock & Hadaya 2018)", study_design=_ALWAYS),
    _k("path_power", "table", "power of each PLS path at this base and at the base the target change "
       "needs, simulated from a population like this wave's CB-SEM fit (plan_sample)",
       study_design="when the wave's CB-SEM fit describes a population"),
    _k("model_comparison", "table", "CB-SEM fits of the model and its nested alternatives with the "
       "likelihood-ratio test of each restriction (compare_models)",
       study_design="for the whole sample, when an alternative model could be built"),
    _k("model_comparison_pls", "table", "PLS information criteria of the index construct in the model and "
       "its nested alternatives, ranked by BIC with Akaike weights",
       study_design="for the whole sample, when an alternative model could be built"),
    # gaps
    _k("gaps", "table", "SERVQUAL gaps (perception minus expectation) by item and dimension",
       gaps="when expectation and perception items are given"),
    # feedback (open-ended answers)
    _k("n_answers", "integer", "respondents who answered the open-ended question",
       feedback="when the instrument declares the text item"),
    _k("themes", "table", "themes of the open-ended answers: label, language, answers, share, coherence",
       feedback="when enough answers were given to find themes"),
    _k("theme_terms", "table", "each theme's most characteristic terms, in rank order",
       feedback="when enough answers were given to find themes"),
    _k("theme_scores", "table", "mean satisfaction (0-100) of respondents per theme, with a test",
       feedback="when themes were found and the model has the satisfaction construct"),
    _k("theme_shares", "table", "share of each segment's answers per theme",
       feedback="for the whole sample of a study with segments, when themes were found"),
    _k("theme_waves", "table", "each wave's themes so far, tracked across waves by their top terms: wave, "
       "theme (the name it is tracked under), label, terms, answers, answers with the theme, share",
       feedback="when themes were found"),
    _k("theme_change", "table", "change of each theme's share since the previous wave, with interval and test",
       feedback="when themes were found and the previous wave recorded its themes"),
    # study_report: improvement actions
    _k("action_measures", "table", "the action targets' estimates of every wave so far",
       study_report="when the study file lists actions"),
    _k("action_status", "table", "each improvement action's status with the change test",
       study_report="when the study file lists actions"),
    _k("candidate_actions", "table", "actions proposed from the improve-first list (owner blank)",
       study_report="when index_drivers recorded the importance-performance table"),
)

#: the keys of the notebooks that ship with csm workbench, by name
KEYS: Mapping[str, RecordedKey] = {k.name: k for k in _BUILTIN}

_declared: dict[str, RecordedKey] = {}


def _check_type(type_: str) -> None:
    if type_ not in TYPES:
        raise StudyError(f"unknown recorded-key type {type_!r}", values=[type_],
                         hint=f"use one of: {', '.join(TYPES)}")


def declare(name: str, type: str, meaning: str, *, notebook: str = "", when: str = "") -> RecordedKey:
    """Declare a key that a study's own notebook records.

    Parameters
    ----------
    name : str
        The key.
    type : str
        One of :data:`TYPES`.
    meaning : str
        What the value is.
    notebook : str
        The notebook that records it (the name the study file gives it).
    when : str
        The condition under which the notebook records it ("" for always).

    Returns
    -------
    RecordedKey
        The declaration (merged with earlier declarations of the same key).

    Raises
    ------
    StudyError
        An unknown type, or a key already declared with another type.
    """
    _check_type(type)
    known = key_spec(name, missing_ok=True)
    if known is not None and known.type != type:
        raise StudyError(f"recorded key {name!r} is already declared as {known.type!r}",
                         values=[type], hint="use another key name, or the declared type")
    recorded_by = dict(known.recorded_by) if known is not None else {}
    if notebook:
        recorded_by[notebook] = when
    spec = RecordedKey(name, type, meaning if known is None else known.meaning, recorded_by)
    _declared[name] = spec
    return spec


def key_spec(name: str, *, missing_ok: bool = False) -> RecordedKey | None:
    """The declaration of ``name`` (a study's own declaration first).

    Raises
    ------
    StudyError
        ``name`` is not declared (unless ``missing_ok``).
    """
    spec = _declared.get(name) or KEYS.get(name)
    if spec is None and not missing_ok:
        raise StudyError(
            f"the recorded key {name!r} is not declared",
            values=[name],
            hint="use a key of csmlib.report.keys.KEYS, or declare it first with "
                 "csmlib.report.keys.declare(name, type, meaning, notebook=...)",
        )
    return spec


def declared(notebook: str, name: str) -> bool:
    """Whether ``notebook`` is declared to record ``name``."""
    spec = key_spec(name, missing_ok=True)
    return spec is not None and notebook in spec.recorded_by


def check_recorded(name: str, payload: Any, *, table: bool) -> None:
    """Check a value about to be recorded against its declaration.

    Parameters
    ----------
    name : str
    payload : object
        The JSON-ready value (``record``) -- not used for tables.
    table : bool
        Whether it comes from ``record_frame``.

    Raises
    ------
    StudyError
        An undeclared key, a table under a scalar key (or the reverse), or a
        value of another type than declared.
    """
    spec = key_spec(name)
    if (spec.type == "table") != table:
        how = "record_frame" if spec.type == "table" else "record"
        raise StudyError(f"the recorded key {name!r} is declared as {spec.type!r}",
                         values=[name], hint=f"record it with {how}()")
    if table or _fits(spec.type, payload):
        return
    raise StudyError(f"cannot record {name!r}: a {type(payload).__name__} value is not of type "
                     f"{spec.type!r}",
                     values=[repr(payload)[:80]],
                     hint=f"{name!r} is declared as {spec.type} ({spec.meaning})")


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _fits(type_: str, v: Any) -> bool:
    if type_ == "number":
        return _is_number(v)
    if type_ == "integer":
        return v is None or (isinstance(v, int) and not isinstance(v, bool))
    if type_ == "string":
        return v is None or isinstance(v, str)
    if type_ == "boolean":
        return v is None or isinstance(v, bool)
    if type_ == "strings":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if type_ == "numbers":
        return isinstance(v, list) and all(_is_number(x) for x in v)
    return isinstance(v, dict)   # mapping


def read_recorded(results: Mapping[str, Any] | None, notebook: str, name: str) -> tuple[Any, bool]:
    """Read one recorded key of a run's results, as its declaration says.

    Parameters
    ----------
    results : mapping or None
        The run's results (:func:`csmlib.report.record.read_results`); None
        when the run has none (suppressed, failed, or not in the study).
    notebook : str
        The notebook that recorded them.
    name : str
        The key; ``notebook`` must be declared to record it.

    Returns
    -------
    (value, missing)
        The value (a DataFrame for a table), or None when it was not
        recorded; ``missing`` is True when the run exists and every run of
        the notebook should have recorded the key (an error to report).

    Raises
    ------
    StudyError
        ``notebook`` is not declared to record ``name``.
    """
    spec = key_spec(name)
    if notebook not in spec.recorded_by:
        raise StudyError(f"the notebook {notebook!r} is not declared to record {name!r}",
                         values=[f"{notebook}/{name}"],
                         hint=f"{name!r} is recorded by: {', '.join(spec.recorded_by) or 'no notebook'}")
    if results is None:
        return None, False
    section = results.get("frames" if spec.type == "table" else "values", {})
    if name not in section:
        return None, spec.required_by(notebook)
    value = section[name]
    if spec.type == "table":
        value = pd.DataFrame(value["data"], columns=value["columns"])
    return value, False


def keys_frame() -> pd.DataFrame:
    """The declared keys as a table (for documentation and review).

    Returns
    -------
    pandas.DataFrame
        Columns ``key, type, notebook, when, meaning``: one row per key and
        notebook that records it; ``when`` is empty for "every run".
    """
    rows = [{"key": k.name, "type": k.type, "notebook": nb, "when": when, "meaning": k.meaning}
            for k in {**KEYS, **_declared}.values() for nb, when in k.recorded_by.items()]
    return pd.DataFrame(rows, columns=["key", "type", "notebook", "when", "meaning"])
