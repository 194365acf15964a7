"""Issue 13, class 3: data are never silently lost or distorted at load.

A corpus of files that used to lose or distort answers without a word; each
case fails if the loss comes back.  Expected values are written out by hand
from the files the tests create."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from csmlib.data.instrument import Instrument
from csmlib.data.survey import read_survey
from csmlib.errors import DataError, DataWarning

BASE = {
    "name": "loss", "id_column": "id", "segment_columns": ["region"], "missing_codes": [99],
    "constructs": [{"name": "S", "items": [{"name": "q1", "scale": [1, 10]},
                                           {"name": "q2", "scale": [1, 10]}]}],
}


def _inst(**extra) -> Instrument:
    return Instrument.model_validate({**BASE, **extra})


def _quiet_read(path, inst, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return read_survey(path, inst, **kw)


# ------------------------------------------------------- SPSS user-missing
def test_spss_user_missing_inside_the_scale_stays_an_answer_with_a_warning(tmp_path):
    df = pd.DataFrame({"id": [1.0, 2, 3, 4], "region": ["N", "S", "X", "N"],
                       "q1": [5.0, 7, 5, 97], "q2": [2.0, 3, 4, 5]})
    p = tmp_path / "w.sav"
    # the file says 5 and 97 are "no answer" for q1; 5 is an answer on the scale [1, 10]
    pyreadstat.write_sav(df, str(p), missing_ranges={"q1": [5.0, 97.0], "region": ["X"]})
    with pytest.warns(DataWarning) as rec:
        s = read_survey(p, _inst())
    msgs = [str(w.message) for w in rec if "user-missing" in str(w.message)]
    assert len(msgs) == 1
    assert "q1" in msgs[0] and "declares 5 user-missing" in msgs[0] and "[1, 10]" in msgs[0]
    assert "2 answer(s) kept" in msgs[0] and str(p) in msgs[0]
    assert s.data["q1"].tolist()[:3] == [5.0, 7.0, 5.0] and np.isnan(s.data["q1"].iloc[3])
    assert s.provenance.missing_codes_applied == 1          # only 97
    assert s.data["region"].tolist()[:2] == ["N", "S"] and pd.isna(s.data["region"].iloc[2])


def test_spss_user_missing_outside_the_scale_is_missing_without_warning(tmp_path):
    df = pd.DataFrame({"id": [1.0, 2, 3], "region": ["N", "S", "N"], "q1": [1.0, 97, 3],
                       "q2": [2.0, 3, 4]})
    p = tmp_path / "w.sav"
    pyreadstat.write_sav(df, str(p), missing_ranges={"q1": [{"lo": 90.0, "hi": 98.0}]})
    s = _quiet_read(p, _inst())
    assert np.isnan(s.data["q1"].iloc[1]) and s.provenance.missing_codes_applied == 1


# ------------------------------------------------------------ Excel
def test_excel_formula_without_a_stored_result_names_sheet_and_cell(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Antworten"
    ws.append(["id", "region", "q1", "q2"])
    ws.append([1, "N", 3, 4])
    ws.append([2, "S", "=C2+1", 5])      # openpyxl stores no result for it
    ws.append([3, "N", 6, "=C4*1"])
    p = tmp_path / "w.xlsx"
    wb.save(p)
    with pytest.raises(DataError) as err:
        read_survey(p, _inst())
    e = err.value
    assert "2 formula cell(s) on sheet 'Antworten' have no stored result" in e.message
    assert "C3" in e.message and "D4" in e.message and e.rows == [2, 3] and e.file == str(p)
    assert "recalculate" in e.hint


def test_excel_text_starting_with_equals_is_not_a_formula(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "region", "q1", "q2"])
    ws.append([1, "N", 3, 4])
    ws.append([2, "S", 7, 5])
    ws.cell(row=3, column=2).value = "=S"          # a text
    ws.cell(row=3, column=2).data_type = "s"
    p = tmp_path / "w.xlsx"
    wb.save(p)
    s = _quiet_read(p, _inst())
    assert s.data["region"].tolist() == ["N", "=S"]


# ---------------------------------------------------- segment values
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_na_none_null_are_segment_values_unless_declared_missing(tmp_path, fmt):
    values = ["NA", "None", "null", "N/A", "nan", ".", ""]
    rows = [(i + 1, v, 5, 6) for i, v in enumerate(values)]
    if fmt == "csv":
        p = tmp_path / "w.csv"
        p.write_text("id,region,q1,q2\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows))
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["id", "region", "q1", "q2"])
        for r in rows:
            ws.append([r[0], r[1] or None, r[2], r[3]])
        p = tmp_path / "w.xlsx"
        wb.save(p)
    s = _quiet_read(p, _inst())
    assert s.data["region"].tolist()[:6] == values[:6] and pd.isna(s.data["region"].iloc[6])
    assert set(s.segments("region")) == set(values[:6])
    declared = _quiet_read(p, _inst(missing_texts=["NA", "null"]))
    assert declared.data["region"].isna().tolist() == [True, False, True, False, False, False, True]


# ------------------------------------------------- answer range in use
def test_answers_on_a_shorter_scale_warn_with_observed_and_declared_range(tmp_path):
    rng = np.random.default_rng(1)
    q = rng.integers(1, 6, size=(40, 2))       # 1-5 answers, instrument says 1-10
    p = tmp_path / "w.csv"
    p.write_text("id,region,q1,q2\n" + "".join(f"{i},N,{a},{b}\n" for i, (a, b) in enumerate(q, 1)))
    with pytest.warns(DataWarning, match=r"lie only in \[1, 5\]") as rec:
        read_survey(p, _inst())
    msg = next(str(w.message) for w in rec if "lie only in" in str(w.message))
    assert "80 answers" in msg and "scale [1, 10]" in msg and "q1, q2" in msg
    # a reverse-coded item is judged on its answers, not on the reversed values (6-10)
    rev = {**BASE, "constructs": [{"name": "S", "items": [{"name": "q1", "scale": [1, 10]},
                                                          {"name": "q2", "scale": [1, 10], "reverse": True}]}]}
    with pytest.warns(DataWarning, match=r"lie only in \[1, 5\]"):
        read_survey(p, Instrument.model_validate(rev))


def test_full_range_or_few_answers_do_not_warn(tmp_path):
    p = tmp_path / "w.csv"
    # one answer of 8 on the 1-10 scale is enough (8 >= 1 + 0.75 * 9)
    p.write_text("id,region,q1,q2\n" + "".join(f"{i},N,{1 + i % 5},{8 if i == 1 else 2}\n"
                                                for i in range(1, 41)))
    _quiet_read(p, _inst())
    p.write_text("id,region,q1,q2\n" + "".join(f"{i},N,2,3\n" for i in range(1, 11)))  # 20 answers
    _quiet_read(p, _inst())
    binary = _inst(other_items=[{"name": "complained", "scale": [0, 1]}])
    p.write_text("id,region,q1,q2,complained\n" + "".join(f"{i},N,9,9,0\n" for i in range(1, 41)))
    _quiet_read(p, binary)


# --------------------------------------------------- hash of the bytes read
def test_the_hash_is_of_the_bytes_that_were_read(tmp_path, monkeypatch):
    p = tmp_path / "w.csv"
    old = b"id,region,q1,q2\n1,N,3,4\n2,S,9,9\n"
    p.write_bytes(old)
    from pathlib import Path

    real = Path.read_bytes

    def read_then_edit(self):
        data = real(self)
        if self == p:
            self.write_bytes(old.replace(b"3,4", b"1,1"))   # edited while being read
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_edit)
    s = read_survey(p, _inst())
    assert s.provenance.sha256 == hashlib.sha256(old).hexdigest()
    assert s.data["q1"].tolist() == [3.0, 9.0]
    assert hashlib.sha256(p.read_bytes()).hexdigest() != s.provenance.sha256


def test_spss_is_read_from_the_bytes_that_were_hashed(tmp_path, monkeypatch):
    from pathlib import Path

    p = tmp_path / "w.sav"
    pyreadstat.write_sav(pd.DataFrame({"id": [1.0, 2], "region": ["N", "S"], "q1": [3.0, 9],
                                       "q2": [4.0, 9]}), str(p))
    old = p.read_bytes()
    pyreadstat.write_sav(pd.DataFrame({"id": [1.0], "region": ["N"], "q1": [1.0], "q2": [1.0]}),
                         str(tmp_path / "new.sav"))
    new = (tmp_path / "new.sav").read_bytes()
    real = Path.read_bytes

    def read_then_edit(self):
        data = real(self)
        if self == p:
            real_write(self, new)   # the file changes right after it was read
        return data

    real_write = Path.write_bytes
    monkeypatch.setattr(Path, "read_bytes", read_then_edit)
    s = read_survey(p, _inst())
    assert s.provenance.sha256 == hashlib.sha256(old).hexdigest()
    assert s.n == 2 and s.data["q1"].tolist() == [3.0, 9.0]
