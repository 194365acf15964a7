"""Instrument (codebook) validation and YAML round-trips."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import csmlib as csm
from csmlib.errors import DataError
from csmlib.data.instrument import Instrument


def _write(tmp_path, data, name="instrument.yml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def test_public_api_and_views(instrument):
    assert csm.Instrument is Instrument
    assert [i.name for i in instrument.items] == ["CUSA1", "CUSA2", "CUSL1", "CUSL2", "recommend"]
    assert instrument.construct_items == {"Satisfaction": ["CUSA1", "CUSA2"], "Loyalty": ["CUSL1", "CUSL2"]}
    assert instrument.item("CUSL1").reverse is True
    expected = pd.DataFrame({"min": [1.0, 1.0, 1.0, 1.0, 0.0], "max": [10.0, 10.0, 5.0, 5.0, 10.0]},
                            index=pd.Index(["CUSA1", "CUSA2", "CUSL1", "CUSL2", "recommend"], name="item"))
    pd.testing.assert_frame_equal(instrument.scale_limits, expected)
    assert instrument.item_missing_codes("CUSA1") == (98, 99, -99)
    assert instrument.item_missing_codes("CUSL2") == (9,)
    assert instrument.reverse_items == ["CUSL1"]


def test_texts_and_labels_by_language(instrument):
    assert instrument.text("CUSA1") == "Overall, how satisfied are you?"
    assert instrument.text("CUSA1", lang="zh") == "总体而言，您满意吗？"
    assert instrument.text("CUSA1", lang="fr") == "Overall, how satisfied are you?"  # falls back
    assert instrument.text("recommend", lang="zh").startswith("How likely")  # plain str
    assert instrument.text("CUSA2") is None
    assert instrument.label("CUSA1", 10, lang="zh") == "非常满意"
    assert instrument.label("CUSA1", 1.0) == "Very dissatisfied"
    assert instrument.label("CUSA1", 5) is None
    assert instrument.construct_label("Satisfaction", "zh") == "总体满意度"
    assert instrument.construct_label("Loyalty") == "Loyalty"


def test_unknown_item_suggests_close_name(instrument):
    with pytest.raises(DataError, match="CUSA1"):
        instrument.item("CUSA_1")


def test_yaml_round_trip_keeps_chinese(tmp_path, instrument_dict):
    src = _write(tmp_path, instrument_dict)
    inst = Instrument.from_yaml(src)
    out = tmp_path / "out.yml"
    text = inst.to_yaml(out)
    raw = out.read_text(encoding="utf-8")
    assert "总体满意度" in raw and "非常不满意" in raw and "\\u" not in raw  # written as is, not escaped
    assert raw == text
    again = Instrument.from_yaml(out)
    assert again == inst
    assert again.label("CUSA1", 1, "zh") == "非常不满意"
    assert again.text("CUSA1", "zh") == "总体而言，您满意吗？"
    # and the plain data read back equal what was written (codes stay integers)
    assert yaml.safe_load(raw)["constructs"][0]["items"][0]["labels"][1]["zh"] == "非常不满意"


def _problem(instrument_dict, tmp_path, match):
    p = _write(tmp_path, instrument_dict)
    with pytest.raises(DataError, match=match) as info:
        Instrument.from_yaml(p)
    assert info.value.file == str(p)
    assert "ValidationError" not in str(info.value)
    return str(info.value)


def test_missing_scale_names_key_path(tmp_path, instrument_dict):
    del instrument_dict["constructs"][1]["items"][0]["scale"]
    msg = _problem(instrument_dict, tmp_path, r"constructs\[1\]\.items\[0\]\.scale: required")
    assert "scale: [1, 10]" in msg  # says what to do


def test_typo_key_suggests_closest(tmp_path, instrument_dict):
    item = instrument_dict["constructs"][0]["items"][1]
    item["scael"] = item.pop("scale")
    msg = _problem(instrument_dict, tmp_path, r"constructs\[0\]\.items\[1\]\.scael: unknown key")
    assert "did you mean 'scale'" in msg
    instrument_dict["constructs"][0]["items"][1]["scale"] = [1, 10]
    del instrument_dict["constructs"][0]["items"][1]["scael"]
    instrument_dict["segmnet_columns"] = ["x"]
    msg = _problem(instrument_dict, tmp_path, "segmnet_columns: unknown key")
    assert "did you mean 'segment_columns'" in msg


def test_scale_min_not_below_max(tmp_path, instrument_dict):
    instrument_dict["constructs"][0]["items"][0]["scale"] = [10, 1]
    _problem(instrument_dict, tmp_path, r"constructs\[0\]\.items\[0\]\.scale: scale minimum 10")
    instrument_dict["constructs"][0]["items"][0]["scale"] = [5, 5]
    _problem(instrument_dict, tmp_path, "scale minimum 5 must be smaller")
    instrument_dict["constructs"][0]["items"][0]["scale"] = [1, "ten"]
    _problem(instrument_dict, tmp_path, "two numbers")


def test_duplicate_item_names_anywhere(tmp_path, instrument_dict):
    instrument_dict["other_items"][0]["name"] = "CUSA2"
    _problem(instrument_dict, tmp_path, r"other_items\[0\]\.name: item 'CUSA2' is declared twice")


def test_duplicate_construct_names(tmp_path, instrument_dict):
    instrument_dict["constructs"][1]["name"] = "Satisfaction"
    _problem(instrument_dict, tmp_path, r"constructs\[1\]\.name: construct 'Satisfaction'")


@pytest.mark.parametrize("key,value", [("id_column", "CUSA1"), ("segment_columns", ["CUSL2"]),
                                       ("pii_columns", ["recommend"]), ("wave_column", "CUSA2")])
def test_item_declared_as_other_column(tmp_path, instrument_dict, key, value):
    instrument_dict[key] = value
    _problem(instrument_dict, tmp_path, f"{key}.*also declared as an item")


def test_id_column_cannot_be_personal_data(tmp_path, instrument_dict):
    instrument_dict["id_column"] = "email"
    _problem(instrument_dict, tmp_path, "personal data")


def test_missing_code_inside_scale_is_rejected(tmp_path, instrument_dict):
    instrument_dict["constructs"][0]["items"][1]["missing_codes"] = [5]
    _problem(instrument_dict, tmp_path, r"inside the scale \[1, 10\]")
    # default codes against an item whose scale contains them: ask for item codes
    instrument_dict["constructs"][0]["items"][1]["missing_codes"] = None
    instrument_dict["other_items"][0]["scale"] = [0, 100]
    _problem(instrument_dict, tmp_path, r"other_items\[0\].*default missing codes \[98, 99\]")


def test_all_problems_reported_at_once(tmp_path, instrument_dict):
    del instrument_dict["constructs"][0]["items"][0]["scale"]
    instrument_dict["constructs"][1]["items"][0]["scale"] = [3, 1]
    instrument_dict["colour"] = "blue"
    msg = _problem(instrument_dict, tmp_path, "3 problem")
    assert "items[0].scale: required" in msg and "scale minimum 3" in msg and "colour" in msg


def test_bad_yaml_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Instrument.from_yaml(tmp_path / "nope.yml")
    p = tmp_path / "bad.yml"
    p.write_text("name: x\nconstructs: [\n  - oops: {\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid YAML at line"):
        Instrument.from_yaml(p)
    p.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DataError, match="mapping"):
        Instrument.from_yaml(p)
    p.write_text("name: x\nname: y\nother_items: [{name: a, scale: [1, 5]}]\n", encoding="utf-8")
    with pytest.raises(DataError, match="given twice"):
        Instrument.from_yaml(p)
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8"):
        Instrument.from_yaml(p)


def test_model_validate_raises_data_error(instrument_dict):
    instrument_dict["constructs"][0]["items"][0]["reverse"] = "maybe"
    with pytest.raises(DataError, match=r"constructs\[0\]\.items\[0\]\.reverse"):
        Instrument.model_validate(instrument_dict)
    with pytest.raises(DataError, match="mapping"):
        Instrument.model_validate(["not", "a", "dict"])


def test_instrument_is_immutable(instrument):
    with pytest.raises(Exception):
        instrument.name = "other"
