"""Shared fixtures: a small instrument as plain data and as an Instrument."""

from __future__ import annotations

import copy

import pytest

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
