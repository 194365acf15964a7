"""Survey loading: every format, missing codes, reverse coding, personal data,
provenance, and a clear DataError for every kind of bad input.

Expected values are written out by hand from the files the tests create."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import csmlib as csm
from csmlib.errors import DataError
from csmlib.data.survey import Provenance, Survey, read_survey

NAMES = ["Zhang Wei", "Alice Smithson", "Bob Jonesworth", "李小龙"]
EMAILS = ["zw@example.org", "alice@example.org", "bob@example.org", "li@example.cn"]

HEADER = "respondent_id,name,email,wave,region,CUSA1,CUSA2,CUSL1,CUSL2,recommend,comment\n"
ROWS = [
    "r1,Zhang Wei,zw@example.org,2026Q1,north,7,8,1,2,9,ok",
    "r2,Alice Smithson,alice@example.org,2026Q1,south, 10 ,99,5,9,10,",
    "r3,Bob Jonesworth,bob@example.org,2026Q1,north,1,,2,3,-99,fine",
    "r4,李小龙,li@example.cn,2026Q1,south,98,NA,4,5,0,",
]


def _csv(tmp_path, rows=ROWS, header=HEADER, name="wave.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes((header + "\n".join(rows) + "\n").encode(encoding))
    return p


def _frame():
    """The answers of ROWS, as numbers, before missing codes and reverse coding."""
    return pd.DataFrame({
        "respondent_id": ["r1", "r2", "r3", "r4"], "name": NAMES, "email": EMAILS,
        "wave": ["2026Q1"] * 4, "region": ["north", "south", "north", "south"],
        "CUSA1": [7.0, 10, 1, 98], "CUSA2": [8.0, 99, np.nan, np.nan], "CUSL1": [1.0, 5, 2, 4],
        "CUSL2": [2.0, 9, 3, 5], "recommend": [9.0, 10, -99, 0], "comment": ["ok", "", "fine", ""],
    })


def _expected_items():
    # missing codes 98/99/-99 (default) and 9 (CUSL2 only) -> NaN; CUSL1 reversed on [1, 5]: 6 - x
    return pd.DataFrame({
        "CUSA1": [7.0, 10, 1, np.nan], "CUSA2": [8.0, np.nan, np.nan, np.nan],
        "CUSL1": [5.0, 1, 4, 2], "CUSL2": [2.0, np.nan, 3, 5], "recommend": [9.0, 10, np.nan, 0],
    }, index=pd.Index([1, 2, 3, 4], name="row"))


def _assert_pii_gone(survey):
    blob = pickle.dumps(survey)
    text = repr(survey) + json.dumps(survey.provenance.as_dict()) + survey.data.to_csv()
    text += repr(survey.variable_labels) + repr(survey.value_labels)
    for secret in NAMES + EMAILS:
        assert secret not in text
        assert secret.encode("utf-8") not in blob
    assert "name" not in survey.data.columns and "email" not in survey.data.columns


# ------------------------------------------------------------------ CSV
def test_csv_loads_cleans_and_records_provenance(tmp_path, instrument):
    p = _csv(tmp_path)
    s = read_survey(p, instrument)
    assert isinstance(s, Survey) and csm.read_survey is read_survey
    assert list(s.data.columns) == ["respondent_id", "wave", "region",
                                    "CUSA1", "CUSA2", "CUSL1", "CUSL2", "recommend"]
    pd.testing.assert_frame_equal(s.items, _expected_items())
    assert all(s.items.dtypes == "float64")
    assert s.data["respondent_id"].tolist() == ["r1", "r2", "r3", "r4"]
    assert s.n == 4 and len(s) == 4
    prov = s.provenance
    assert isinstance(prov, Provenance)
    assert prov.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert prov.format == "csv" and prov.path == str(p)
    assert (prov.rows_read, prov.rows_kept) == (4, 4)
    assert prov.pii_dropped == ("name", "email")
    # 98 (CUSA1 r4), 99 (CUSA2 r2), 9 (CUSL2 r2), -99 (recommend r3); "NA" and "" are plain blanks
    assert prov.missing_codes_applied == 4
    assert prov.reverse_coded == ("CUSL1",)
    assert prov.ignored_columns == ("comment",)
    assert list(prov.dropped.columns) == ["row", "reason"] and prov.dropped.empty
    pd.testing.assert_frame_equal(s.scale_limits, instrument.scale_limits)
    _assert_pii_gone(s)


def test_survey_is_immutable_and_returns_copies(tmp_path, instrument):
    s = read_survey(_csv(tmp_path), instrument)
    d = s.data
    d.loc[1, "CUSA1"] = -5
    assert s.data.loc[1, "CUSA1"] == 7
    with pytest.raises(AttributeError):
        s.provenance = None  # type: ignore[misc]


def test_semicolon_csv_and_other_encodings(tmp_path, instrument):
    rows = [r.replace(",", ";") for r in ROWS]
    p = _csv(tmp_path, rows=rows, header=HEADER.replace(",", ";"), name="semi.csv")
    pd.testing.assert_frame_equal(read_survey(p, instrument).items, _expected_items())
    # GBK-encoded file: UTF-8 decoding fails with a hint, encoding= reads it
    p = _csv(tmp_path, name="gbk.csv", encoding="gbk")
    with pytest.raises(DataError, match="not valid UTF-8") as info:
        read_survey(p, instrument)
    assert "encoding=" in info.value.hint and info.value.file == str(p)
    s = read_survey(p, instrument, encoding="gbk")
    pd.testing.assert_frame_equal(s.items, _expected_items())
    assert s.provenance.encoding == "gbk"


def test_segment_subset_and_with_data(tmp_path, instrument):
    s = read_survey(_csv(tmp_path), instrument)
    north = s.segment("north")
    assert north.data.index.tolist() == [1, 3] and north.n == 2
    assert north.provenance.rows_kept == 2 and "region == 'north'" in north.provenance.notes[-1]
    assert north.provenance.sha256 == s.provenance.sha256
    assert s.n == 4  # the original is untouched
    sub = s.subset(s.data["CUSA1"] > 5)
    assert sub.data.index.tolist() == [1, 2]
    assert s.subset(np.array([True, False, False, True])).data.index.tolist() == [1, 4]
    with pytest.raises(DataError, match="True/False"):
        s.subset([1, 0, 1, 0])
    with pytest.raises(DataError, match="values present: 'north', 'south'"):
        s.segment("east")
    filled = s.with_data(s.data.fillna(0), note="imputed with 0")
    assert filled.items.isna().sum().sum() == 0 and filled.provenance.notes[-1] == "imputed with 0"
    with pytest.raises(DataError, match="lack item columns"):
        s.with_data(s.data.drop(columns=["CUSA1"]))


# ---------------------------------------------------------------- Excel
def test_excel(tmp_path, instrument):
    p = tmp_path / "wave.xlsx"
    df = _frame()
    df["CUSA1"] = df["CUSA1"].astype(object)
    df.loc[0, "CUSA1"] = " 7 "  # numbers stored as text, padded, are fine
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xw, sheet_name="About", index=False)
        df.to_excel(xw, sheet_name="Data", index=False)
    s = read_survey(p, instrument, sheet="Data")
    pd.testing.assert_frame_equal(s.items, _expected_items())
    assert s.provenance.format == "excel" and s.provenance.sheet == "Data"
    assert s.provenance.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    _assert_pii_gone(s)
    assert read_survey(p, instrument, sheet=1).items.equals(s.items)
    with pytest.raises(DataError, match="no sheet 'Daten'") as info:
        read_survey(p, instrument, sheet="Daten")
    assert "'About', 'Data'" in info.value.hint
    with pytest.raises(DataError, match="not in the file") as info:  # the first sheet has no items
        read_survey(p, instrument)
    assert "CUSA1" in info.value.column


def test_sheet_for_a_csv_is_refused(tmp_path, instrument):
    # the sheet was ignored: a study that meant the workbook read the CSV without a word
    p = _csv(tmp_path)
    with pytest.raises(DataError, match="a sheet applies only to Excel files, but this file is read as csv") as e:
        read_survey(p, instrument, sheet="Data")
    assert e.value.file == str(p) and e.value.values == ["Data"]
    with pytest.raises(DataError, match="only to Excel"):
        read_survey(p, instrument, sheet=0)
    assert read_survey(p, instrument).n == 4


CN_INSTRUMENT = {"name": "cn", "id_column": "编号", "segment_columns": ["地区"],
                 "constructs": [{"name": "S", "items": [{"name": "满意度1", "scale": [1, 5]},
                                                       {"name": "满意度2", "scale": [1, 5]}]}]}
CN_CSV = "编号,地区,满意度1,满意度2\n1,华北,3,4\n2,华南,4,5\n3,华北,2,2\n"


@pytest.mark.parametrize("encoding, first", [
    ("latin-1", "4 column(s) the instrument declares are not in the file"),  # read, as mojibake
    ("shift_jis", "not in the file"),
    ("gbk", "not valid gbk text"),                                           # did not decode
    ("cp1252", "not valid cp1252 text"),
])
def test_a_wrong_declared_encoding_is_named_as_the_likely_cause(tmp_path, encoding, first):
    # it said "columns ... are not in the file" (or "pass encoding=...", the key the user had set)
    from csmlib.data.instrument import Instrument

    inst = Instrument.model_validate(CN_INSTRUMENT)
    p = tmp_path / "wave.csv"
    p.write_bytes(CN_CSV.encode("utf-8"))
    with pytest.raises(DataError, match=f"the declared encoding '{encoding}' is probably wrong") as e:
        read_survey(p, inst, encoding=encoding)
    assert first in e.value.message and "it is UTF-8 text" in e.value.message
    assert "remove encoding" in e.value.hint and e.value.file == str(p)
    assert read_survey(p, inst).n == read_survey(p, inst, encoding="utf-8").n == 3


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "gbk", "shift_jis"])
def test_a_wrong_declared_encoding_that_only_garbles_text_is_refused(tmp_path, encoding):
    # an ASCII header with Chinese answers and segment values: read as latin-1 it loaded
    # without a word, the regions and free-text answers as mojibake ('åŽåŒ—' for 华北)
    from csmlib.data.instrument import Instrument

    inst = Instrument.model_validate({"name": "cn", "id_column": "id", "segment_columns": ["region"],
                                      "text_items": [{"name": "why"}],
                                      "constructs": [{"name": "S", "items": [{"name": "s1", "scale": [1, 5]}]}]})
    p = tmp_path / "wave.csv"
    p.write_bytes("id,region,s1,why\n1,华北,3,价格太贵\n2,华南,4,排队太久\n3,华北,2,\n".encode("utf-8"))
    with pytest.raises(DataError, match=f"the declared encoding '{encoding}' is probably wrong") as e:
        read_survey(p, inst, encoding=encoding)
    assert "UTF-8" in e.value.message and "remove encoding" in e.value.hint and e.value.file == str(p)
    assert read_survey(p, inst).data["region"].tolist() == ["华北", "华南", "华北"]
    # a file truly in the declared encoding is read as declared
    q = tmp_path / "declared.csv"
    q.write_bytes("id,region,s1,why\n1,Nord,3,trop cher\n2,Süd,4,Müller, déjà\n".replace("Müller, ", "")
                  .encode("latin-1"))
    assert read_survey(q, inst, encoding="latin-1").data["region"].tolist() == ["Nord", "Süd"]


def test_a_right_encoding_with_a_truly_missing_column_keeps_its_error(tmp_path):
    from csmlib.data.instrument import Instrument

    inst = Instrument.model_validate(CN_INSTRUMENT)
    p = tmp_path / "wave.csv"
    p.write_bytes(CN_CSV.replace("满意度2", "满意度3").encode("gbk"))   # gbk, as declared; a column is absent
    with pytest.raises(DataError, match="not in the file") as e:
        read_survey(p, inst, encoding="gbk")
    assert "probably wrong" not in str(e.value) and e.value.column == ["满意度2"]
    q = tmp_path / "utf8.csv"                        # UTF-8 read as latin-1, but the column is absent in UTF-8 too
    q.write_bytes(CN_CSV.replace("满意度2", "满意度3").encode("utf-8"))
    with pytest.raises(DataError, match="not in the file") as e:
        read_survey(q, inst, encoding="latin-1")
    assert "probably wrong" not in str(e.value)


# ----------------------------------------------------------------- SPSS
def test_spss_user_missing_and_labels(tmp_path, instrument):
    df = _frame().drop(columns=["comment"])
    df.loc[2, "CUSA2"] = 97.0  # declared user-missing in the file only (not an instrument code)
    df["CUSA2"] = df["CUSA2"].fillna(97.0)
    p = tmp_path / "wave.sav"
    pyreadstat.write_sav(
        df, str(p),
        column_labels={"CUSA1": "Overall satisfaction", "name": "Respondent name", "CUSL1": "Would switch"},
        variable_value_labels={"CUSA1": {1.0: "Very dissatisfied", 10.0: "Very satisfied", 98.0: "Refused"},
                               "CUSL1": {1.0: "Disagree", 5.0: "Agree"}},
        missing_ranges={"CUSA2": [97.0], "CUSA1": [{"lo": 98.0, "hi": 98.0}]})
    s = read_survey(p, instrument)
    pd.testing.assert_frame_equal(s.items, _expected_items())
    assert s.provenance.format == "spss"
    # CUSA2: 97 (file) in rows 3, 4 + 99 (instrument) in row 2; CUSA1 98 (file), CUSL2 9, recommend -99
    assert s.provenance.missing_codes_applied == 6
    assert s.variable_labels == {"CUSA1": "Overall satisfaction", "CUSL1": "Would switch"}
    assert s.value_labels["CUSA1"] == {1.0: "Very dissatisfied", 10.0: "Very satisfied", 98.0: "Refused"}
    # reverse-coded item: the labels follow the reversed codes (6 - x)
    assert s.value_labels["CUSL1"] == {5.0: "Disagree", 1.0: "Agree"}
    _assert_pii_gone(s)


def test_stata(tmp_path, instrument):
    p = tmp_path / "wave.dta"
    df = _frame().drop(columns=["comment"]).fillna({"CUSA2": 99.0})
    pyreadstat.write_dta(df, str(p), column_labels={"CUSA1": "Overall satisfaction"},
                         variable_value_labels={"CUSA1": {1: "Very dissatisfied", 10: "Very satisfied"}})
    s = read_survey(p, instrument)
    exp = _expected_items()
    pd.testing.assert_frame_equal(s.items, exp)
    assert s.provenance.format == "stata"
    assert s.variable_labels == {"CUSA1": "Overall satisfaction"}
    assert s.value_labels["CUSA1"] == {1: "Very dissatisfied", 10: "Very satisfied"}
    _assert_pii_gone(s)


# ------------------------------------------------------------ Qualtrics
def _qualtrics(tmp_path):
    names = ["StartDate", "Status", "IPAddress", "Finished", "DistributionChannel", "respondent_id",
             "name", "email", "wave", "region", "CUSA1", "CUSA2", "CUSL1", "CUSL2", "recommend"]
    texts = ["Start Date", "Response Type", "IP Address", "Finished", "Distribution Channel", "Id",
             "Your name", "Your e-mail", "Wave", "Region", "总体而言，您满意吗？", "Q2 text", "Q3 text",
             "Q4 text", "Recommend?"]
    imports = ['"{""ImportId"":""%s""}"' % n for n in names]
    rows = [
        "2026-01-01,IP Address,10.0.0.1,1,anonymous,r1,Zhang Wei,zw@example.org,2026Q1,north,7,8,1,2,9",
        "2026-01-01,Survey Preview,10.0.0.9,1,preview,p1,Tester,t@example.org,2026Q1,north,3,3,3,3,3",
        "2026-01-02,IP Address,10.0.0.2,1,anonymous,r2,Alice Smithson,alice@example.org,2026Q1,south,10,99,5,9,10",
        "2026-01-02,IP Address,10.0.0.3,0,anonymous,u1,Carol Unfinished,c@example.org,2026Q1,south,2,,,,",
        "2026-01-03,IP Address,10.0.0.4,True,anonymous,r3,Bob Jonesworth,bob@example.org,2026Q1,north,1,,2,3,-99",
        "2026-01-03,IP Address,10.0.0.5,False,anonymous,u2,Dan Dropped,d@example.org,2026Q1,north,,,,,",
        "2026-01-04,IP Address,10.0.0.6,1,anonymous,r4,李小龙,li@example.cn,2026Q1,south,98,,4,5,0",
    ]
    text = ",".join(names) + "\n" + ",".join(texts) + "\n" + ",".join(imports) + "\n" + "\n".join(rows) + "\n"
    p = tmp_path / "qualtrics_export.csv"
    p.write_text(text, encoding="utf-8-sig")
    return p


def test_qualtrics_detected_filtered_and_recorded(tmp_path, instrument):
    p = _qualtrics(tmp_path)
    s = read_survey(p, instrument)
    prov = s.provenance
    assert prov.format == "qualtrics"
    exp = _expected_items()
    exp.index = pd.Index([1, 3, 5, 7], name="row")  # respondent rows below the 3 header rows
    pd.testing.assert_frame_equal(s.items, exp)
    assert (prov.rows_read, prov.rows_kept) == (7, 4)
    assert prov.dropped["row"].tolist() == [2, 4, 6]
    reasons = prov.dropped["reason"].tolist()
    assert "preview" in reasons[0] and "unfinished" in reasons[1] and "unfinished" in reasons[2]
    assert s.variable_labels["CUSA1"] == "总体而言，您满意吗？"
    assert "name" not in s.variable_labels and "IPAddress" not in s.variable_labels
    assert prov.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    _assert_pii_gone(s)
    blob = pickle.dumps(s)
    for gone in (b"Carol Unfinished", b"10.0.0.1", b"Tester"):
        assert gone not in blob
    with pytest.raises(DataError, match="not a Qualtrics export"):
        read_survey(_csv(tmp_path), instrument, format="qualtrics")


# -------------------------------------------------------------- bad input
def _err(path, instrument, match, **kw):
    with pytest.raises(DataError, match=match) as info:
        read_survey(path, instrument, **kw)
    assert info.value.file == str(path)
    return info.value


def test_out_of_scale_lists_every_cell(tmp_path, instrument):
    rows = list(ROWS)
    rows[0] = rows[0].replace(",7,8,1,2,9,", ",11,8,1,2,9,")
    rows[2] = rows[2].replace(",1,,2,3,", ",0,,2,3,")
    rows[3] = rows[3].replace(",98,NA,4,5,", ",98,NA,6,5,")
    err = _err(_csv(tmp_path, rows=rows), instrument, "outside the scale")
    msg = str(err)
    assert "CUSA1: 2 answer(s) outside the scale [1, 10] in row(s) 1, 3: 11, 0" in msg
    assert "CUSL1: 1 answer(s) outside the scale [1, 5] in row(s) 4: 6" in msg
    assert err.column == ["CUSA1", "CUSL1"] and err.rows == [1, 3, 4]
    assert set(err.values) == {11, 0, 6}


def test_non_numeric_and_non_integer_answers(tmp_path, instrument):
    rows = list(ROWS)
    rows[0] = rows[0].replace(",7,8,", ",seven,8,")
    rows[2] = rows[2].replace(",2,3,-99,", ",2.5,3,-99,")
    rows[3] = rows[3].replace(",4,5,0,", ",4,5,\"3,5\",")
    err = _err(_csv(tmp_path, rows=rows), instrument, "invalid values")
    msg = str(err)
    assert "CUSA1: 1 answer(s) that are not numbers in row(s) 1: 'seven'" in msg
    assert "CUSL1: 1 answer(s) that are not whole numbers in row(s) 3: 2.5" in msg
    assert "recommend: 1 answer(s) that are not numbers in row(s) 4: '3,5'" in msg
    assert "continuous: true" in err.hint


def test_continuous_items_accept_fractions(tmp_path, instrument_dict):
    instrument_dict["other_items"][0]["continuous"] = True
    inst = csm.Instrument.model_validate(instrument_dict)
    rows = list(ROWS)
    rows[0] = rows[0].replace(",2,9,ok", ",2,9.5,ok")
    s = read_survey(_csv(tmp_path, rows=rows), inst)
    assert s.items["recommend"].tolist()[:2] == [9.5, 10.0]


def test_missing_columns_listed_together(tmp_path, instrument):
    header = HEADER.replace("CUSA2", "CUSA_2").replace("region", "Region")
    err = _err(_csv(tmp_path, header=header), instrument, "2 column")
    assert err.column == ["region", "CUSA2"]
    assert "'CUSA2' -> 'CUSA_2'" in err.hint


def test_duplicate_and_missing_ids(tmp_path, instrument):
    rows = list(ROWS)
    rows[3] = rows[3].replace("r4,", "r2,")
    err = _err(_csv(tmp_path, rows=rows), instrument, "not unique")
    assert err.rows == [2, 4] and err.values == ["r2"] and err.column == "respondent_id"
    rows[3] = rows[3].replace("r2,", ",")
    err = _err(_csv(tmp_path, rows=rows), instrument, "have no id")
    assert err.rows == [4]


def test_empty_and_header_only(tmp_path, instrument):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    _err(p, instrument, "empty")
    p.write_text("\n\n  \n")
    _err(p, instrument, "empty")
    p.write_text(HEADER)
    _err(p, instrument, "header but no data rows")
    x = tmp_path / "empty.xlsx"
    pd.DataFrame(columns=_frame().columns).to_excel(x, index=False)
    _err(x, instrument, "header but no data rows")


def test_unreadable_files(tmp_path, instrument):
    with pytest.raises(DataError, match="not found"):
        read_survey(tmp_path / "missing.csv", instrument)
    garbage = bytes(range(256)) * 8
    p = tmp_path / "garbage.csv"
    p.write_bytes(garbage)
    _err(p, instrument, "binary")
    p = tmp_path / "garbage.sav"
    p.write_bytes(garbage)
    err = _err(p, instrument, "cannot be read as an SPSS")
    assert err.hint
    p = tmp_path / "garbage.dta"
    p.write_bytes(garbage)
    _err(p, instrument, "cannot be read as a Stata")
    p = tmp_path / "garbage.xlsx"
    p.write_bytes(garbage)
    _err(p, instrument, "not an Excel")
    # an Excel workbook saved under a .csv name
    x = tmp_path / "real.xlsx"
    _frame().to_excel(x, index=False)
    p = tmp_path / "renamed.csv"
    p.write_bytes(x.read_bytes())
    err = _err(p, instrument, "looks like an Excel")
    assert "format=" in err.hint
    assert read_survey(p, instrument, format="excel").n == 4
    p = tmp_path / "wave.json"
    p.write_text("{}")
    _err(p, instrument, "extension")
    p = tmp_path / "old.xls"
    p.write_bytes(garbage)
    _err(p, instrument, "xls")
    p = _csv(tmp_path, rows=ROWS + ["r5,x,y,2026Q1,north,1,2,3,4,5,6,7,8"])
    _err(p, instrument, "cannot be read as CSV")
    with pytest.raises(DataError, match="needs an Instrument"):
        read_survey(p, {"name": "x"})


def test_duplicate_header_columns(tmp_path, instrument):
    err = _err(_csv(tmp_path, header=HEADER.replace("CUSA2", "CUSA1")), instrument, "more than once")
    assert err.column == ["CUSA1"]


def test_wrong_encoding_is_not_silently_mangled(tmp_path, instrument):
    # cp1252 text with an accent read as UTF-8 must fail, not produce mojibake
    rows = [r.replace("Alice Smithson", "Zoë Smithson").replace("李小龙", "Li") for r in ROWS]
    p = _csv(tmp_path, rows=rows, encoding="cp1252")
    err = _err(p, instrument, "not valid UTF-8")
    assert "cp1252" in err.hint
    assert read_survey(p, instrument, encoding="cp1252").n == 4


def test_blank_rows_are_dropped_and_reported(tmp_path, instrument):
    rows = ROWS[:2] + [",,,,,,,,,,"] + ROWS[2:]
    s = read_survey(_csv(tmp_path, rows=rows), instrument)
    assert s.n == 4 and s.provenance.rows_read == 5
    assert s.provenance.dropped["row"].tolist() == [3]
    assert s.data.index.tolist() == [1, 2, 4, 5]


def test_weights(tmp_path, instrument_dict):
    instrument_dict["weight_column"] = "w"
    inst = csm.Instrument.model_validate(instrument_dict)
    header = HEADER.replace("comment", "w")
    rows = [r.rsplit(",", 1)[0] + "," + w for r, w in zip(ROWS, ["1.5", "0.5", "1", "2"])]
    s = read_survey(_csv(tmp_path, rows=rows, header=header), inst)
    assert s.weights.tolist() == [1.5, 0.5, 1.0, 2.0] and s.data.columns[3] == "w"
    rows = [r.rsplit(",", 1)[0] + "," + w for r, w in zip(ROWS, ["1.5", "-1", "", "heavy"])]
    err = _err(_csv(tmp_path, rows=rows, header=header), inst, "invalid values")
    assert "w: 1 weight(s) that are not numbers in row(s) 4: 'heavy'" in str(err)
    rows[3] = rows[3].replace("heavy", "1")
    err = _err(_csv(tmp_path, rows=rows, header=header), inst, "missing or negative weight")
    assert err.rows == [2, 3]



def test_answer_dates(tmp_path, instrument_dict):
    instrument_dict["date_column"] = "answered"
    inst = csm.Instrument.model_validate(instrument_dict)
    header = HEADER.replace("comment", "answered")

    def rows(dates):
        return [r.rsplit(",", 1)[0] + "," + d for r, d in zip(ROWS, dates)]

    s = read_survey(_csv(tmp_path, rows=rows(["2026-03-01", "2026-03-02 14:05", "", "2026-03-04T08:00:30"]),
                         header=header), inst)
    assert s.data.columns[3] == "answered" and s.data["answered"].dtype == "datetime64[ns]"
    assert s.data["answered"].tolist()[:2] == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02 14:05")]
    assert pd.isna(s.data["answered"].iloc[2]) and s.data["answered"].iloc[3] == pd.Timestamp("2026-03-04 08:00:30")
    # with UTC offsets: on UTC, as complaint logs
    s = read_survey(_csv(tmp_path, rows=rows(["2026-03-01 08:00+08:00", "2026-03-01 00:30Z", "",
                                              "2026-03-01 01:00-05:00"]), header=header), inst)
    assert s.data["answered"].tolist()[:2] == [pd.Timestamp("2026-03-01 00:00"), pd.Timestamp("2026-03-01 00:30")]
    assert s.data["answered"].iloc[3] == pd.Timestamp("2026-03-01 06:00")
    # a day-month order that could be read two ways, a number, a mix of zones: refused, named
    err = _err(_csv(tmp_path, rows=rows(["03/04/2026", "45000", "2026-02-30", "2026-03-01"]), header=header), inst,
               "invalid values")
    assert "answered: 3 date(s) that cannot be read in row(s) 1, 2, 3" in str(err) and err.rows == [1, 2, 3]
    err = _err(_csv(tmp_path, rows=rows(["2026-03-01", "2026-03-01 10:00+08:00", "2026-03-02", ""]),
                    header=header), inst, "invalid values")
    assert "UTC offset beside dates without one in row(s) 2" in str(err)
    # a date column is a role, not an item, and not personal data
    bad = dict(instrument_dict, pii_columns=["answered"])
    with pytest.raises(DataError, match="date_column.*personal data"):
        csm.Instrument.model_validate(bad)

def test_answer_dates_beyond_what_a_timestamp_holds_are_refused(tmp_path, instrument_dict):
    # placeholders '0001-01-01' and '9999-12-31' were stored as 1754-08-30 and 1816-03-29 (overflow)
    instrument_dict["date_column"] = "answered"
    inst = csm.Instrument.model_validate(instrument_dict)
    header = HEADER.replace("comment", "answered")
    rows = [r.rsplit(",", 1)[0] + "," + d for r, d in zip(ROWS, ["0001-01-01", "9999-12-31 23:59",
                                                              "1600-01-01T00:00+08:00", "2026-03-01"])]
    err = _err(_csv(tmp_path, rows=rows, header=header), inst, "invalid values")
    assert "answered: 3 date(s) that cannot be read in row(s) 1, 2, 3" in str(err) and err.rows == [1, 2, 3]
    assert "1677" in str(err)   # the hint says which dates can be read


def test_survey_without_optional_columns(tmp_path):
    inst = csm.Instrument.model_validate(
        {"name": "bare", "other_items": [{"name": "nps", "scale": [0, 10]}]})
    p = tmp_path / "nps.csv"
    p.write_text("nps,other\n10,x\n 0,y\n,z\n")
    s = read_survey(p, inst)
    assert s.items["nps"].tolist()[:2] == [10.0, 0.0] and np.isnan(s.items["nps"].iloc[2])
    assert list(s.data.columns) == ["nps"] and s.weights is None


def test_load_warnings_are_kept_for_the_report(tmp_path, instrument):
    """Every DataWarning reading the file gives is also kept in the provenance
    (the data-quality report shows them; stderr is not in the HTML)."""
    rows = [r.replace(",ok", ",x@y.example").replace(",fine", ",z@y.example") for r in ROWS]
    rows = [",".join(c if i != 8 else "" for i, c in enumerate(r.split(","))) for r in rows]  # CUSL2 empty
    with pytest.warns(csm.DataWarning) as rec:
        survey = read_survey(_csv(tmp_path, rows), instrument)
    notes = survey.provenance.load_notes
    assert len(notes) == len(rec) >= 1
    assert any("no answer at all: CUSL2" in n for n in notes)
    assert "load_notes" in survey.provenance.as_dict()
    text = json.dumps(survey.provenance.as_dict())
    assert all(secret not in text for secret in NAMES + EMAILS + ["x@y.example", "z@y.example"])
    assert str(tmp_path) not in " ".join(notes)   # the file is named once, by the report
