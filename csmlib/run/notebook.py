"""What every report notebook does first: open its run.

A notebook run by ``csm run`` receives the parameters documented in
:mod:`csmlib.run.batch` (``data_path``, ``instrument_path``, ``segment``,
``segment_column``, ``model``, ``results_path``, ``previous_results_path``,
``min_base``, ...).  :func:`open_run` turns them into the objects the
notebook works with -- the instrument, the survey restricted to the segment,
the model specification, the previous wave's recorded results -- and points
:mod:`csmlib.report.record` at the results file, so the notebooks themselves hold
only parameters, calls, plots and prose.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from ..report.markup import Markdown, md

__all__ = ["Run", "open_run", "record_notes"]


@dataclass(frozen=True)
class Run:
    """The context of one notebook run.

    Attributes
    ----------
    instrument : Instrument
    survey : Survey
        The wave's survey, restricted to the segment (all respondents for
        segment ``"all"``).
    spec : ModelSpec or None
        The study's model (None when no model was given).
    wave, segment : str
    n : int
        Respondents in the segment.
    min_base : int
    suppressed : bool
        ``n < min_base``: the notebook reports the base and estimates nothing.
    previous : dict
        The previous wave's recorded results (``{}`` for the first wave).
    title : str
        ``"<study> - <wave> - <segment>"``.
    model : str
        The ``model`` parameter as given (a library name or lavaan text).
    language : str
        The report's language, one of :data:`csmlib.report.i18n.LANGUAGES`
        (the ``language`` parameter, else the instrument's).
    fits : FitCache
        The wave x segment's shared fits (:mod:`csmlib.run.fitcache`), used
        by :meth:`fit_pls`, :meth:`fit_cbsem` and :meth:`bootstrap`.
    """

    instrument: Any
    survey: Any
    spec: Any
    wave: str
    segment: str
    n: int
    min_base: int
    suppressed: bool
    previous: dict = field(default_factory=dict)
    title: str = ""
    model: str = ""
    language: str = "en"
    fits: Any = None

    def fit_pls(self, spec: Any = None, **options: Any) -> Any:
        """The run's PLS fit, :func:`csmlib.fit_pls` ``(spec, survey, **options)``,
        estimated once for the wave x segment's notebooks (:mod:`csmlib.run.fitcache`).

        Parameters
        ----------
        spec : ModelSpec, optional
            Another model of the run's survey (a competing or restricted
            model); default the run's model.  Its fit is shared as the run's
            is (the key holds the model).
        **options
            Passed on to :func:`csmlib.fit_pls` (``scheme``, ``missing``,
            ``weights`` ...); a fit is shared only with the same options.

        Returns
        -------
        PlsResults
        """
        return self._fits().fit_pls(self.spec if spec is None else spec, self.survey, **options)

    def bootstrap(self, results: Any, **options: Any) -> Any:
        """:func:`csmlib.bootstrap` ``(results, **options)`` of a fit from
        :meth:`fit_pls` or :meth:`fit_cbsem`, computed once for the wave x
        segment's notebooks (stored in the run's ``fit_cache`` folder).

        Returns
        -------
        BootstrapResults
        """
        return self._fits().bootstrap(results, **options)

    def _fits(self) -> Any:
        from .fitcache import FitCache

        return self.fits if self.fits is not None else FitCache(None, None)   # nothing shared

    def heading(self, *, show_model: bool = False) -> Markdown:
        """The run's heading: title, base (and the model), and the
        suppression notice when the base is below the minimum.

        Returns
        -------
        csmlib.report.Markdown
            Rendered through the one rendering boundary
            (:func:`csmlib.report.md`): text from the study file and the
            data is escaped.
        """
        from ..report.i18n import template as tr
        from ..report.tables import suppressed_finding

        lang = self.language
        template = tr("run_heading_model" if show_model and self.spec is not None else "run_heading", lang)
        if self.suppressed:
            template += "\n\n{notice}"
        return md(template, title=self.title, n=self.n,
                  model=self._model_label() if self.spec is not None else "",
                  notice=suppressed_finding(self.title, self.n, self.min_base, language=lang))

    def md(self, texts: Any, /, **values: Any) -> Markdown:
        """Markdown in the run's language: :func:`csmlib.report.i18n.md`
        (``texts`` a literal ``{"en": ..., "zh": ...}`` or a message key)."""
        from ..report import i18n

        return i18n.md(self.language, texts, **values)

    def text(self, texts: Any, /, **values: Any) -> str:
        """Plain text in the run's language (findings, chart titles):
        :func:`csmlib.report.i18n.text`."""
        from ..report import i18n

        return i18n.text(self.language, texts, **values)

    @property
    def names(self) -> dict[str, str]:
        """What the report shows for the instrument's items and constructs in
        the run's language (:func:`csmlib.report.display_names`)."""
        from ..report.tables import display_names

        return display_names(self.instrument, self.language)

    def name(self, code: str) -> str:
        """What the report shows for one item or construct (its code when unknown)."""
        return self.names.get(code, code)

    def table(self, frame: pd.DataFrame, digits: int = 3, **options: Any) -> Any:
        """:func:`csmlib.report.table` in the run's language, items and
        constructs named by the run's instrument."""
        from ..report.tables import table

        return table(frame, digits, language=self.language, instrument=self.instrument, **options)

    def _model_label(self) -> str:
        """The model's name, or (for lavaan text, whose comments may hold
        anything) a description of it: the text itself is never shown."""
        if self.spec.name:
            return self.spec.name
        from ..report.i18n import template as tr

        return self.model if re.fullmatch(r"[\w.-]+", self.model or "") else tr("lavaan_model", self.language)

    def fit_cbsem(self, estimator: str = "ML", missing: str = "fiml", **options: Any) -> Any:
        """The CB-SEM fit of the study's model with the study's
        ``cbsem_estimator`` and ``cbsem_missing``, estimated once for the
        wave x segment's notebooks (:mod:`csmlib.run.fitcache`).

        ``"ML"`` / ``"MLR"``: :func:`csmlib.fit_cbsem` with ``missing``
        and the instrument's survey weights.  ``"WLSMV"``: every item of
        the model as ordered (lavaan's ``ordered = TRUE``); missing answers
        pairwise (``missing="fiml"``: every respondent's answers are used,
        lavaan's ``missing = "pairwise"``) or listwise; survey weights are
        refused (csmlib has no weighted WLSMV).  ``options`` are passed on
        to :func:`csmlib.fit_cbsem` and override these.

        Returns
        -------
        CbsemResults
        """
        from ..errors import StudyError

        est = str(estimator).upper()
        weights = self.survey.instrument.weight_column
        if est in ("ML", "MLR"):
            chosen: dict[str, Any] = {"estimator": est, "missing": missing, "weights": weights}
        elif est != "WLSMV":
            raise StudyError(f"cbsem_estimator must be 'ML', 'MLR' or 'WLSMV', got {estimator!r}",
                             values=[estimator], hint="set parameters.cbsem_estimator in the study file")
        elif weights is not None:
            raise StudyError("cbsem_estimator WLSMV cannot use the instrument's survey weights",
                             column=weights, hint="use cbsem_estimator: MLR for weighted data")
        else:
            chosen = {"estimator": "WLSMV", "ordered": True,
                      "missing": "pairwise" if missing == "fiml" else "listwise"}
        return self._fits().fit_cbsem(self.spec, self.survey, **{**chosen, **options})

    def previous_value(self, key: str, default: float = float("nan")) -> Any:
        """A scalar recorded by the same notebook for the previous wave."""
        return self.previous.get("values", {}).get(key, default)

    def previous_frame(self, key: str) -> pd.DataFrame | None:
        """A table recorded by the same notebook for the previous wave, or None."""
        frames = self.previous.get("frames", {})
        if key not in frames:
            return None
        return pd.DataFrame(frames[key]["data"], columns=frames[key]["columns"])


def open_run(data_path: str, instrument_path: str, *, model: str = "", segment: str = "all",
             segment_column: str = "", results_path: str = "", previous_results_path: str = "",
             min_base: int = 30, study: str = "", wave: str = "", data_encoding: str = "",
             data_sheet: str | int = "", segment_value: Any = None, language: str = "",
             fit_cache: str = "",
             **_ignored: Any) -> Run:
    """Load a notebook run's inputs from its papermill parameters.

    Parameters
    ----------
    data_path, instrument_path : str
        Survey file and its instrument YAML.
    data_encoding, data_sheet : str
        How to read the survey file: text encoding, Excel sheet (name or
        0-based number); ``""`` for the default.  ``csm run`` passes the
        wave's ``encoding`` and ``sheet`` from the study file.
    model : str
        A ``csm.models`` name or lavaan text ("" for none).
    segment, segment_column : str
        ``"all"`` or a segment label (the segment's folder name), and the
        column holding segments.
    segment_value : object
        The segment's value in the data, as ``csm run`` passes it: the title
        shows it (a folder label may be a slug with a hash, ``Nord_Ost~0a6c...``).
    results_path : str
        Where :func:`csmlib.report.record.record` writes ("" keeps results in memory).
    previous_results_path : str
        The previous wave's results file ("" for none).
    min_base : int
        Bases below this are suppressed.
    study, wave : str
        For the title.
    language : str
        The report's language (``"en"``, ``"zh"``; ``""``: the instrument's,
        see :func:`csmlib.report.i18n.report_language`).
    fit_cache : str
        The wave x segment's folder of shared fits, as ``csm run`` passes it
        (``""``: bootstraps are not stored; fits are still shared within
        this kernel).  See :mod:`csmlib.run.fitcache`.

    Returns
    -------
    Run
    """
    from ..data.instrument import Instrument
    from ..report.i18n import report_language
    from ..report.record import read_results, set_results_path
    from .fitcache import FitCache, run_inputs
    from .study import resolve_model, segment_mask
    from ..data.survey import read_survey

    set_results_path(results_path or None)
    instrument = Instrument.from_yaml(instrument_path)
    survey = read_survey(data_path, instrument, encoding=data_encoding or None,
                         sheet=None if data_sheet == "" else data_sheet)
    if segment != "all":
        if not segment_column:
            raise DataError(f"segment {segment!r} given without a segment column",
                            hint="set segment_column, or segment='all'")
        if segment_column not in survey.data.columns:
            raise DataError("the segment column is not in the survey", file=str(data_path),
                            column=segment_column,
                            hint="declare it in the instrument's segment_columns")
        survey = survey.subset(segment_mask(survey.data[segment_column], segment),
                               note=f"segment {segment_column} = {segment}")
    spec = resolve_model(model) if model else None
    previous: dict = {}
    if previous_results_path and Path(previous_results_path).exists():
        previous = read_results(previous_results_path)
    shown = segment if segment == "all" or segment_value is None else segment_value
    title = " \u2013 ".join(str(x) for x in (study or instrument.name, wave, shown) if x)
    fits = FitCache(fit_cache or None, run_inputs(
        data_path, instrument_path, model=model, segment=segment, segment_column=segment_column,
        data_encoding=data_encoding, data_sheet=data_sheet))
    return Run(instrument=instrument, survey=survey, spec=spec, wave=wave, segment=segment,
               n=int(survey.n), min_base=int(min_base), suppressed=int(survey.n) < int(min_base),
               previous=previous, title=title, model=model,
               language=report_language(language, instrument), fits=fits)


def record_notes(*fits: Any, key: str = "estimation_notes", language: str = "en") -> Any:
    """The estimation notes of ``fits`` (:func:`csmlib.report.estimation_notes`,
    in ``language``), recorded under ``key`` (one of :data:`csmlib.report.NOTE_KEYS`,
    which the study report gathers) and returned for display."""
    from ..errors import CsmError
    from ..report.record import record
    from ..report.tables import NOTE_KEYS, estimation_notes

    if key not in NOTE_KEYS:
        raise CsmError(f"estimation notes cannot be recorded under {key!r}", values=[key],
                       hint=f"use one of {', '.join(NOTE_KEYS)}: the study report reads those")
    notes = estimation_notes(*fits, language=language)
    record(key, notes.items)
    return notes
