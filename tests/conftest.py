"""Shared fixtures: a small instrument as plain data and as an Instrument,
and ``csm run`` of a study written from a dict."""

from __future__ import annotations

import copy
import json
import warnings

import pytest
import yaml

_INSTRUMENT = {
    "name": "Test tracker",
    "language": "en",
    "id_column": "respondent_id",
    "wave_column": "wave",
    "segment_columns": ["region"],
    "pii_columns": ["name", "email", "phone", "ip_address"],
    "missing_codes": [98, 99, -99],
    "constructs": [
        {"name": "Satisfaction",
         "label": {"en": "Overall satisfaction", "zh": "总体满意度"},
         "items": [
             {"name": "CUSA1", "text": {"en": "Overall, how satisfied are you?",
                                        "zh": "总体而言，您满意吗？"},
              "scale": [1, 10],
              "labels": {1: {"en": "Very dissatisfied", "zh": "非常不满意"},
                         10: {"en": "Very satisfied", "zh": "非常满意"}}},
             {"name": "CUSA2", "scale": [1, 10]},
         ]},
        {"name": "Loyalty",
         "items": [{"name": "CUSL1", "scale": [1, 5], "reverse": True},
                   {"name": "CUSL2", "scale": [1, 5], "missing_codes": [9]}]},
    ],
    "other_items": [{"name": "recommend", "text": "How likely are you to recommend us (0-10)?",
                     "scale": [0, 10]}],
}


@pytest.fixture
def instrument_dict():
    """The test instrument as plain data (a fresh deep copy each time)."""
    return copy.deepcopy(_INSTRUMENT)


@pytest.fixture
def instrument(instrument_dict):
    """The test instrument as a validated :class:`csmlib.data.instrument.Instrument`."""
    from csmlib.data.instrument import Instrument

    return Instrument.model_validate(instrument_dict)


@pytest.fixture
def csm_run():
    """``csm_run(folder, study_dict, jobs=2)`` writes ``folder/study.yml``, runs
    ``csm run`` on it (data warnings silenced) and returns ``(exit code, the
    study's output folder, {run record path: record})``."""
    def run(folder, study, jobs=2):
        from csmlib.errors import DataWarning
        from csmlib.run.cli import main

        path = folder / "study.yml"
        path.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            code = main(["run", str(path), "--jobs", str(jobs), "--no-progress"])
        root = folder / study.get("output", "runs") / study["name"]
        records = {p: json.loads(p.read_text(encoding="utf-8")) for p in root.rglob("*.run.json")}
        return code, root, records

    return run
