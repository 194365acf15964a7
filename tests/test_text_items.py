"""Text (open-ended) items: declared in the instrument, read as strings, and
the respondents' own names read for the quote check."""

from __future__ import annotations

import pytest

import csmlib as csm
from csmlib.analysis.feedback import names_in_file
from csmlib.errors import DataError

INSTRUMENT = {
    "name": "t", "id_column": "id", "pii_columns": ["name"],
    "constructs": [{"name": "S", "items": [{"name": "x", "scale": [1, 5]}]}],
    "text_items": [{"name": "comment", "text": {"en": "What should we improve?", "zh": "我们应该改进什么？"}}],
}
CSV = ('id,name,x,comment\n1,Ann Lee,3,Queue too long\n2,Bob,4,\n3,Cy,5,12345\n,,,\n'
       '4,Di,2,"价格太贵"\n5,Ed,1,"  "\n')


def _files(tmp_path, csv=CSV, **changes):
    inst = csm.Instrument.model_validate({**INSTRUMENT, **changes})
    path = tmp_path / "w.csv"
    path.write_text(csv, encoding="utf-8")
    return inst, path


def test_text_items_are_read_as_strings_beside_the_numeric_data(tmp_path):
    inst, path = _files(tmp_path)
    assert inst.text_names == ["comment"] and inst.text_item("comment").language == "auto"
    assert "comment" not in inst.item_names
    survey = csm.read_survey(path, inst)
    assert "comment" not in survey.data.columns            # the numeric data stay numeric
    texts = survey.texts
    assert list(texts.index) == list(survey.data.index) == [1, 2, 3, 5, 6]
    assert texts["comment"].tolist()[0] == "Queue too long"
    assert texts["comment"].isna().tolist() == [False, True, False, False, True]
    assert texts.loc[3, "comment"] == "12345"               # a number is kept as written
    sub = survey.subset(survey.data["x"] >= 3)
    assert list(sub.texts.index) == [1, 2, 3]
    assert list(survey.with_data(survey.data.iloc[:2]).texts.index) == [1, 2]
    assert "comment" not in survey.provenance.ignored_columns


def test_survey_without_text_items_has_empty_texts(tmp_path):
    inst, path = _files(tmp_path, text_items=[])
    survey = csm.read_survey(path, inst)
    assert survey.texts.shape == (5, 0)
    assert "comment" in survey.provenance.ignored_columns


def test_missing_text_column_is_an_error(tmp_path):
    inst, path = _files(tmp_path, csv="id,name,x\n1,A,3\n")
    with pytest.raises(DataError, match="not in the file") as err:
        csm.read_survey(path, inst)
    assert "comment" in str(err.value)


@pytest.mark.parametrize("change, fragment", [
    ({"text_items": [{"name": "x"}]}, "declared twice"),
    ({"text_items": [{"name": "name"}]}, "also declared personal data"),
    ({"text_items": [{"name": "c", "language": "fr"}]}, "must be auto, en or zh, got 'fr'"),
    ({"text_items": [{"name": "c", "scale": [1, 5]}]}, "unknown key 'scale'"),
])
def test_bad_text_items(change, fragment):
    with pytest.raises(DataError) as err:
        csm.Instrument.model_validate({**INSTRUMENT, **change})
    assert fragment in str(err.value)


def test_text_item_round_trips_through_yaml(tmp_path):
    inst = csm.Instrument.model_validate(INSTRUMENT)
    path = tmp_path / "i.yml"
    inst.to_yaml(path)
    assert csm.Instrument.from_yaml(path).text_items == inst.text_items
    with pytest.raises(DataError, match="no text item"):
        inst.text_item("other")


def test_names_in_file_reads_the_dropped_name_column(tmp_path):
    inst, path = _files(tmp_path)
    names = names_in_file(path, inst)
    assert {"Ann Lee", "Ann", "Lee", "Bob", "Di"} <= names
    assert "Queue too long" not in names
