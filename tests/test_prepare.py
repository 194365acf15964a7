"""One way in: every estimator's input is prepared by one function
(csmlib.estimate.prepare.prepare_input), with the same checks and wording,
naming the file of a Survey in every error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.errors import DataError, SpecError
from csmlib.estimate.prepare import prepare_input

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
SPEC = csm.ModelSpec.from_lavaan("Q =~ PERQ1 + PERQ2 + PERQ3\nS =~ CUSA1 + CUSA2 + CUSA3\nS ~ Q")


@pytest.fixture(scope="module")
def survey():
    inst = csm.Instrument.from_yaml(DEMO / "instrument.yml")
    return csm.read_survey(DEMO / "wave1.csv", inst)


def _callers(data):
    """Every estimator entry point that reads a model's items from data."""
    return {
        "fit_pls": lambda: csm.fit_pls(SPEC, data),
        "micom": lambda: csm.micom(SPEC, data, "region", n_perm=5, seed=1, min_base=5),
        "htmt": lambda: csm.htmt(SPEC, data),
    }


def test_listwise_rows_are_the_files_rows(survey):
    # counted from the raw CSV: a row is incomplete when a model item is empty or the code 99
    raw = pd.read_csv(DEMO / "wave1.csv", dtype=str)
    items = list(SPEC.indicators)
    bad = raw[items].isna() | (raw[items].apply(lambda c: c.str.strip()) == "99")
    expected = [i + 1 for i in np.flatnonzero(bad.any(axis=1).to_numpy())]
    assert expected, "the demo wave has incomplete rows"
    inp = prepare_input(SPEC, survey)
    assert inp.file == str(DEMO / "wave1.csv")
    assert inp.info["dropped"] == {"missing values (listwise deletion)": len(expected)}
    assert inp.info["dropped_rows"] == expected
    assert list(inp.frame.index) == [r for r in range(1, len(raw) + 1) if r not in expected]
    res = csm.fit_pls(SPEC, survey)
    assert res.data_info["dropped_rows"] == expected and res.n_obs == len(raw) - len(expected)


def test_errors_on_a_survey_name_the_file_everywhere(survey):
    spec = csm.ModelSpec.from_lavaan("Q =~ PERQ1 + PERQ2 + NOPE1\nS =~ CUSA1 + CUSA2\nS ~ Q")
    for name, call in {"fit_pls": lambda: csm.fit_pls(spec, survey),
                       "micom": lambda: csm.micom(spec, survey, "region", n_perm=5, seed=1),
                       "htmt": lambda: csm.htmt(spec, survey)}.items():
        with pytest.raises(SpecError) as err:
            call()
        assert err.value.file == str(DEMO / "wave1.csv"), name
        assert err.value.column == ["NOPE1"], name
    data = survey.data
    data["CUSA2"] = np.nan
    empty = survey.with_data(data, note="CUSA2 blanked")
    messages = set()
    for name, call in _callers(empty).items():
        with pytest.raises(DataError) as err:
            call()
        assert err.value.file == str(DEMO / "wave1.csv"), name
        assert err.value.column == ["CUSA2"], name
        messages.add(err.value.message)
    assert messages == {"1 item(s) have no answer at all (construct(s) S)"}


def test_text_in_an_item_is_the_same_error_everywhere(survey):
    df = survey.data.reset_index(drop=True)
    df["CUSA3"] = df["CUSA3"].astype(object)
    df.loc[[4, 9], "CUSA3"] = ["n/a", "ten"]
    seen = set()
    for name, call in _callers(df).items():
        with pytest.raises(DataError) as err:
            call()
        e = err.value
        assert (e.column, e.rows, e.values) == ("CUSA3", [5, 10], ["n/a", "ten"]), name
        seen.add(e.message)
    assert seen == {"column 'CUSA3' holds non-numeric values"}
    df.loc[[4, 9], "CUSA3"] = [np.inf, 5]
    with pytest.raises(DataError, match="infinite") as err:
        csm.fit_pls(SPEC, df.astype({"CUSA3": float}))
    assert err.value.rows == [5]


def test_policies_and_selection(survey):
    df = pd.DataFrame({"a": [1.0, np.nan, 3, np.nan, 5], "b": [2.0, 3, np.nan, np.nan, 1],
                       "g": list("xyxyx")})
    lw = prepare_input(["a", "b"], df, extra=["g"])
    assert list(lw.frame.index) == [0, 4] and lw.frame["g"].tolist() == ["x", "x"]
    assert lw.info["dropped_rows"] == [2, 3, 4]
    mean = prepare_input(["a", "b"], df, missing="mean")
    assert mean.info["mean_replaced"] == 4 and mean.frame["a"].tolist() == [1, 3, 3, 3, 5]
    assert mean.frame["b"].tolist() == [2, 3, 2, 2, 1]
    avail = prepare_input(["a", "b"], df, missing="available")
    assert list(avail.frame.index) == [0, 1, 2, 4] and avail.info["dropped"] == {"no item answered": 1}
    sel = prepare_input(["a", "b"], df, rows=df["g"].eq("x"), missing="mean")
    # means over the selected rows only: a (1, 3, 5) -> 3, b (2, -, 1) -> 1.5
    assert sel.frame["b"].tolist() == [2, 1.5, 1] and sel.positions.tolist() == [0, 2, 4]
    with pytest.raises(DataError, match="only 2 row"):
        prepare_input(["a", "b"], df, min_rows=3)
    with pytest.raises(DataError, match="not in the data"):
        prepare_input(["a"], df, extra=["weight"])
    with pytest.raises(SpecError, match="pairwise"):
        prepare_input(["a"], df, missing="pairwise")
    with pytest.raises(DataError, match="True/False"):
        prepare_input(["a"], df.assign(a=df["a"] > 2))
    with pytest.raises(DataError, match="more than once") as err:
        prepare_input(["a", "b"], pd.concat([df, df[["a"]]], axis=1))
    assert err.value.column == ["a"]
    nullable = df.astype({"a": "Float64"})
    assert prepare_input(["a", "b"], nullable).frame["a"].tolist() == [1.0, 5.0]


def test_fit_cbsem_errors_on_a_survey_name_the_file(survey):
    """fit_cbsem read the file from ``survey.file`` / ``survey.path``, which a
    Survey does not have (it keeps it in its provenance): its errors named no file."""
    spec = csm.ModelSpec.from_lavaan("Q =~ PERQ1 + PERQ2 + NOPE1\nS =~ CUSA1 + CUSA2\nS ~ Q")
    with pytest.raises(SpecError) as err:
        csm.fit_cbsem(spec, survey)
    assert err.value.file == str(DEMO / "wave1.csv") and err.value.column == ["NOPE1"]
    data = survey.data
    data["CUSA2"] = np.inf
    with pytest.raises(DataError) as err:
        csm.fit_cbsem(SPEC, survey.with_data(data, note="CUSA2 infinite"))
    assert err.value.file == str(DEMO / "wave1.csv") and "CUSA2" in str(err.value.column)
