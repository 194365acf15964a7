"""Bundled datasets (csmlib.data.datasets) and the demo study loading through the instrument."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib import DataError

DATA = Path(__file__).resolve().parent.parent / "data"
# the shared reference set sits beside a clone of the project (../shared)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"

# rows x columns as stated in data/PROVENANCE.md
SHAPES = {
    "mobi": (250, 24),
    "satisfaction": (250, 28),
    "political_democracy": (75, 11),
    "holzinger_swineford1939": (301, 15),
    "corp_rep_data": (344, 50),
    "csem_SQ": (411, 23),
}


def test_names_lists_the_bundled_datasets():
    assert set(SHAPES) <= set(csm.datasets.names())


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_load_frame_shapes_match_provenance(name):
    frame = csm.datasets.load_frame(name)
    assert frame.shape == SHAPES[name]
    assert csm.datasets.path(name) == DATA / name / f"{name}.csv"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_bundled_copies_are_unchanged(name):
    src = SHARED / f"{name}.csv"
    if not src.exists():
        pytest.skip("shared reference datasets not available")
    assert (DATA / name / f"{name}.csv").read_bytes() == src.read_bytes()


def test_load_mobi_as_survey():
    survey = csm.datasets.load("mobi")
    assert survey.n == 250
    assert len(survey.item_names) == 24
    raw = pd.read_csv(DATA / "mobi" / "mobi.csv")
    items = survey.items
    pd.testing.assert_frame_equal(items[raw.columns].astype(float).reset_index(drop=True),
                                  raw.astype(float))
    limits = survey.scale_limits
    assert limits.to_numpy().min() == 1 and limits.to_numpy().max() == 10


def test_load_satisfaction_as_survey():
    survey = csm.datasets.load("satisfaction")
    assert survey.n == 250
    assert len(survey.item_names) == 27
    assert "gender" in survey.data.columns
    assert sorted(survey.data["gender"].value_counts().tolist()) == [102, 148]
    raw = pd.read_csv(DATA / "satisfaction" / "satisfaction.csv")
    np.testing.assert_array_equal(survey.items[survey.item_names].to_numpy(dtype=float),
                                  raw[survey.item_names].to_numpy(dtype=float))


def test_unknown_dataset_is_a_clear_error():
    with pytest.raises(DataError, match="mobi"):
        csm.datasets.load_frame("mobile")
    with pytest.raises(DataError, match="load_frame"):
        csm.datasets.load("political_democracy")


def test_demo_study_loads_through_its_instrument():
    paths = csm.datasets.demo_paths()
    inst = csm.Instrument.from_yaml(paths["instrument"])
    raw = pd.read_csv(paths["2026Q1"])
    survey = csm.read_survey(paths["2026Q1"], inst)
    assert survey.n == len(raw) == 600
    data = survey.data
    assert "name" not in data.columns and "email" not in data.columns   # personal data dropped
    assert not (survey.items == 99).any().any()                         # missing code applied
    assert survey.items.isna().to_numpy().mean() == pytest.approx(0.03, abs=0.01)
    # PERQ7 is reverse-coded: stored value = 1 + 10 - answer
    ok = raw["PERQ7"] != 99
    np.testing.assert_array_equal(data["PERQ7"].to_numpy()[ok.to_numpy()],
                                  11 - raw.loc[ok, "PERQ7"].to_numpy())
    assert set(data["region"]) == {"North", "South"}
