"""Data-quality checks: straight-lining and flags, against hand counts."""

import numpy as np
import pandas as pd
import pytest

from csmlib.analysis import quality
from csmlib.errors import DataError


def _frame():
    return pd.DataFrame({
        "a1": [5, 3, 1, 4, np.nan, 2],
        "a2": [5, 3, 2, 4, 4, 2],
        "a3": [5, 3, 3, 1, 4, 2],
        "b1": [1, 3, 7, 7, 7, 7],
        "b2": [1, 2, 7, 7, 7, 7],
        "b3": [1, 2, 7, 7, 7, 7],
    }, dtype=float)


def test_straightlining_counts_identical_complete_rows():
    out = quality.straightlining(_frame(), {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"],
                                            "short": ["a1", "a2"]}).set_index("block")
    # A: complete rows 0,1,2,3,5; identical: rows 0, 1, 5 -> 3 of 5
    assert out.loc["A", "n_complete"] == 5 and out.loc["A", "straightliners"] == 3
    assert out.loc["A", "share"] == pytest.approx(3 / 5)
    # B: rows 0, 2, 3, 4, 5 identical -> 5 of 6
    assert out.loc["B", "straightliners"] == 5
    assert "short" not in out.index
    # all items: row 0 (5,5,5,1,1,1) is not, row 5 (2,2,2,7,7,7) is not -> none
    assert out.loc["all items", "straightliners"] == 0


def test_flags_name_item_value_and_advice():
    desc = pd.DataFrame({"share_missing": [0.2, 0.0], "sd": [1.0, 0.0],
                         "top_box": [0.6, 0.1], "bottom_box": [0.0, 0.0]}, index=["x", "y"])
    straight = pd.DataFrame({"block": ["A"], "n_items": [3], "n_complete": [10],
                             "straightliners": [3], "share": [0.3]})
    flags = quality.flag_problems(desc, straight)
    assert set(zip(flags.problem, flags["where"])) == {
        ("many missing answers", "x"), ("ceiling effect", "x"), ("no variance", "y"),
        ("straight-lining", "A")}
    assert (flags.advice.str.len() > 10).all()
    assert quality.flag_problems(desc.iloc[:0]).empty


def test_yes_no_items_have_no_floor_or_ceiling():
    desc = pd.DataFrame({"share_missing": [0.0, 0.0], "sd": [0.4, 1.2], "top_box": [0.1, 0.1],
                         "bottom_box": [0.83, 0.6], "scale_min": [0, 1], "scale_max": [1, 7]},
                        index=["complained", "q1"])
    flags = quality.flag_problems(desc)
    assert list(zip(flags.problem, flags["where"])) == [("floor effect", "q1")]


def test_response_summary_needs_a_survey():
    with pytest.raises(DataError, match="needs a Survey"):
        quality.response_summary(_frame())
