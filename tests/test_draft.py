"""csm init --from: an instrument drafted from an export's own metadata (SPSS
value labels and user-missing codes, Stata labels, Qualtrics question texts
and ImportIds), hostile labels round-tripping through YAML, and a study run
on each draft."""

import datetime
import warnings

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

import csmlib as csm
from csmlib.data.draft import draft_instrument
from csmlib.data.instrument import Instrument
from csmlib.errors import DataError, DataWarning, StudyError
from csmlib.run.cli import main
from csmlib.run.scaffold import init_study

HOSTILE = [
    "Overall, how <b>satisfied</b> are you? <script>alert(1)</script>",
    "two\nlines: with a colon",
    "- a list? [no] {not: a map} &anchor *alias !!python/object:os.system",
    "# not a comment, 'single' and \"double\" quotes, a tab\there",
    "总体而言，您对我们的服务满意吗？",
    "   leading and trailing spaces   ",
    "yes",
    "null",
    "1e3",
    "x" * 240,
]


def _sav(path, n=80, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "respondent_id": np.arange(1, n + 1, dtype=float),
        "email": [f"person{i}@example.org" for i in range(n)],
        "region": rng.choice(["North", "South", "East"], n),
        "comment": [f"free text answer number {i}" for i in range(n)],
        "weight": rng.uniform(0.5, 2.0, n),
        **{f"CUSA{j}": rng.integers(1, 11, n).astype(float) for j in range(1, 4)},
        **{f"CUSL{j}": rng.integers(1, 6, n).astype(float) for j in range(1, 3)},
        "nps": rng.integers(0, 11, n).astype(float),
        "score": np.round(rng.uniform(0, 100, n), 1),
    })
    df.loc[[2, 7], "CUSA1"] = 99.0           # user-missing (discrete)
    df.loc[[4], "CUSL1"] = 8.0              # user-missing range 8-9
    df.loc[[5], "CUSL1"] = 9.0
    df.loc[[6], "nps"] = -99.0              # not declared: a sentinel far outside the answers
    labels = {"CUSA1": HOSTILE[0], "CUSA2": HOSTILE[1], "CUSA3": HOSTILE[2], "CUSL1": HOSTILE[3],
              "CUSL2": HOSTILE[4], "nps": HOSTILE[5], "score": HOSTILE[9]}
    pyreadstat.write_sav(
        df, str(path), column_labels=labels,
        variable_value_labels={"CUSA1": {1.0: "Very dissatisfied", 10.0: "Very <i>satisfied</i>\nreally",
                                         99.0: "Don't know"},
                               "CUSL1": {1.0: HOSTILE[6], 5.0: HOSTILE[7], 9.0: "refused"},
                               "CUSL2": {1.0: "完全不同意", 5.0: "完全同意"}},
        missing_ranges={"CUSA1": [99.0], "CUSL1": [{"lo": 8.0, "hi": 9.0}]})
    return path


def _qualtrics(path):
    names = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
             "RecordedDate", "ResponseId", "RecipientLastName", "RecipientEmail", "LocationLatitude",
             "DistributionChannel", "UserLanguage", "Q1_1", "Q1_2", "Q1_3", "likely", "happy", "Q9"]
    texts = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
             "Finished", "Recorded Date", "Response ID", "Recipient Last Name", "Recipient Email",
             "Location Latitude", "Distribution Channel", "User Language",
             HOSTILE[0], HOSTILE[1], HOSTILE[4] * 300, HOSTILE[2], HOSTILE[8], "Anything else?"]
    qids = ["startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate",
            "_recordId", "recipientLastName", "recipientEmail", "locationLatitude", "distributionChannel",
            "userLanguage", "QID1_1", "QID1_2", "QID1_3", "QID7_1", "QID7_2", "QID9_TEXT"]
    rng = np.random.default_rng(5)
    rows = []
    for i in range(45):
        answers = [str(v) for v in rng.integers(1, 8, 5)]
        if i == 3:
            answers[0] = "-99"                 # Qualtrics' "seen but not answered"
        if i == 4:
            answers[2] = ""
        rows.append([f"2026-01-{1 + i % 28:02d} 10:00:00", f"2026-01-{1 + i % 28:02d} 10:09:00",
                     "IP Address", f"10.0.{i}.7", "100", str(300 + i), "True" if i != 44 else "False",
                     "2026-01-02 10:09:00", f"R_{i:05d}abc", f"Surname{i}", f"r{i}@example.org",
                     f"{52 + i / 100:.4f}", "anonymous", "EN", *answers, f"comment {i}"])
    q = lambda s: '"' + str(s).replace('"', '""') + '"'   # noqa: E731  (CSV quoting)
    lines = [",".join(q(x) for x in names), ",".join(q(x) for x in texts),
             ",".join(q('{"ImportId":"%s"}' % x) for x in qids)]
    lines += [",".join(q(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_spss_draft_reads_labels_scales_and_user_missing_codes(tmp_path):
    path = _sav(tmp_path / "export.sav")
    _, meta = pyreadstat.read_sav(str(path))
    draft = draft_instrument(path)
    inst = draft.instrument
    assert inst["id_column"] == "respondent_id"
    assert inst["pii_columns"] == ["email"]
    assert inst["segment_columns"] == ["region"]
    assert inst["weight_column"] == "weight"
    items = {it["name"]: it for it in inst["other_items"]}
    assert list(items) == ["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL2", "nps", "score"]
    assert items["CUSA1"]["scale"] == [1, 10] and items["CUSA1"]["missing_codes"] == [99]
    assert items["CUSA1"]["labels"] == {1: {"en": "Very dissatisfied"}, 10: {"en": "Very <i>satisfied</i>\nreally"}}
    assert items["CUSL1"]["scale"] == [1, 5] and items["CUSL1"]["missing_codes"] == [8, 9]
    assert items["nps"]["scale"] == [0, 10] and items["nps"]["missing_codes"] == [-99]
    assert items["score"].get("continuous") is True and "missing_codes" not in items["score"]
    assert "missing_codes" not in items["CUSA2"]
    for col, label in meta.column_names_to_labels.items():
        if label and col in items:
            assert items[col]["text"] == {"en": label}
    assert draft.suggestions == {"CUSA": ["CUSA1", "CUSA2", "CUSA3"], "CUSL": ["CUSL1", "CUSL2"]}
    assert any("nps" in n and "missing" in n for n in draft.notes)
    assert any("comment" in n for n in draft.notes)
    # no value of the data in the notes
    assert not any("@" in n or "free text answer" in n for n in draft.notes)


def test_the_yaml_round_trips_hostile_labels_and_keeps_suggestions_commented(tmp_path):
    path = _sav(tmp_path / "export.sav")
    _, meta = pyreadstat.read_sav(str(path))
    draft = draft_instrument(path)
    text = draft.to_yaml()
    raw = yaml.safe_load(text)
    assert raw == draft.instrument                        # every label exactly as the file has it
    assert raw["constructs"] == []
    (tmp_path / "instrument.yml").write_text(text, encoding="utf-8")
    inst = Instrument.from_yaml(tmp_path / "instrument.yml")
    for col, label in meta.column_names_to_labels.items():   # (SPSS keeps 256 bytes, no trailing blanks)
        if col in inst.item_names:
            assert inst.item(col).text_in() == label
    assert inst.item("CUSL2").text_in() == HOSTILE[4]
    assert inst.item("CUSA2").text_in() == HOSTILE[1]
    # the suggestions are comments that, uncommented, are the constructs to paste
    block = text[text.index("# constructs:"):]
    assert all(line.startswith("#") for line in block.splitlines())
    suggested = yaml.safe_load("\n".join(line[2:] for line in block.splitlines()))
    assert [c["name"] for c in suggested["constructs"]] == ["CUSA", "CUSL"]
    assert [i["name"] for i in suggested["constructs"][0]["items"]] == ["CUSA1", "CUSA2", "CUSA3"]
    # the suggestions, moved into constructs, give an instrument that loads
    moved = dict(raw)
    used = {i["name"] for c in suggested["constructs"] for i in c["items"]}
    by_name = {i["name"]: i for i in raw["other_items"]}
    moved["constructs"] = [{"name": c["name"], "items": [by_name[i["name"]] for i in c["items"]]}
                           for c in suggested["constructs"]]
    moved["other_items"] = [i for i in raw["other_items"] if i["name"] not in used]
    assert Instrument.model_validate(moved).construct_items == draft.suggestions


def test_a_hostile_file_name_and_source_stay_in_comments(tmp_path):
    path = _sav(tmp_path / "export\nname: evil #.sav")
    text = draft_instrument(path).to_yaml()
    assert yaml.safe_load(text)["name"] == "export\nname: evil #"
    assert "evil" not in {k for k in yaml.safe_load(text)}


def test_stata_draft(tmp_path):
    df = pd.DataFrame({"id": [1.0, 2, 3, 4, 5, 6], "sat1": [1.0, 2, 3, 4, 5, 3], "sat2": [2.0, 2, 4, 5, 1, 3],
                       "household_id": [1.0, 1, 2, 2, 3, 3]})
    path = tmp_path / "export.dta"
    pyreadstat.write_dta(df, str(path), column_labels={"sat1": "Satisfied overall", "sat2": HOSTILE[4]},
                         variable_value_labels={"sat1": {1: "low", 5: "high"}})
    draft = draft_instrument(path)
    items = {it["name"]: it for it in draft.instrument["other_items"]}
    assert draft.instrument["id_column"] == "id"
    assert items["sat1"] == {"name": "sat1", "text": {"en": "Satisfied overall"}, "scale": [1, 5],
                             "labels": {1: {"en": "low"}, 5: {"en": "high"}}}
    assert items["sat2"]["text"] == {"en": HOSTILE[4]}
    assert draft.suggestions == {"sat": ["sat1", "sat2"]}
    assert "household_id" not in items and any("household_id" in n for n in draft.notes)


def test_qualtrics_draft_reads_question_texts_and_import_ids(tmp_path):
    path = _qualtrics(tmp_path / "qualtrics.csv")
    draft = draft_instrument(path)
    inst = draft.instrument
    assert inst["id_column"] == "ResponseId"
    assert set(inst["pii_columns"]) == {"IPAddress", "RecipientLastName", "RecipientEmail", "LocationLatitude"}
    items = {it["name"]: it for it in inst["other_items"]}
    assert list(items) == ["Q1_1", "Q1_2", "Q1_3", "likely", "happy"]     # bookkeeping and text left out
    assert items["Q1_1"]["text"] == {"en": HOSTILE[0]} and items["Q1_2"]["text"] == {"en": HOSTILE[1]}
    assert items["Q1_3"]["text"] == {"en": HOSTILE[4] * 300} and items["happy"]["text"] == {"en": HOSTILE[8]}
    assert items["Q1_1"]["scale"] == [1, 7] and items["Q1_1"]["missing_codes"] == [-99]
    # Q1_* by name; likely and happy share no name prefix but one question (QID7)
    assert draft.suggestions == {"Q1": ["Q1_1", "Q1_2", "Q1_3"], "QID7": ["likely", "happy"]}
    assert yaml.safe_load(draft.to_yaml()) == inst


def test_no_numeric_column_and_bad_init_calls(tmp_path):
    p = tmp_path / "text.csv"
    p.write_text("name,comment\nA,x\nB,y\n", encoding="utf-8")
    with pytest.raises(DataError, match="no numeric column"):
        draft_instrument(p)
    with pytest.raises(StudyError, match="not found"):
        init_study(tmp_path / "s", from_file=tmp_path / "missing.sav")
    with pytest.raises(StudyError, match="one or the other"):
        init_study(tmp_path / "s", from_file=p, demo=True)
    sav = _sav(tmp_path / "export.sav")
    init_study(tmp_path / "s2", from_file=sav)
    with pytest.raises(StudyError, match="overwrite"):
        init_study(tmp_path / "s2", from_file=sav)


def _init_and_validate(tmp_path, export, capsys):
    folder = tmp_path / "study"
    assert main(["init", str(folder), "--from", str(export)]) == 0
    data = next((folder / "data").iterdir())
    assert data.read_bytes() == export.read_bytes()
    Instrument.from_yaml(folder / "instrument.yml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        assert main(["validate", str(folder / "instrument.yml")]) == 0
        assert main(["validate", str(data), "--instrument", str(folder / "instrument.yml")]) == 0
        assert main(["validate", str(folder / "study.yml")]) == 0
    out = capsys.readouterr().out
    assert "data OK" in out and "study file OK" in out
    return folder


def test_init_from_spss_validates(tmp_path, capsys):
    folder = _init_and_validate(tmp_path, _sav(tmp_path / "export.sav"), capsys)
    study = yaml.safe_load((folder / "study.yml").read_text(encoding="utf-8"))
    assert study["model"].split("\n")[:2] == ["CUSA =~ CUSA1 + CUSA2 + CUSA3", "CUSL =~ CUSL1 + CUSL2"]
    survey = csm.read_survey(folder / "data" / "export.sav", Instrument.from_yaml(folder / "instrument.yml"))
    assert survey.data["CUSA1"].isna().sum() == 2 and survey.data["CUSL1"].isna().sum() == 2
    assert "email" not in survey.data


def test_init_from_spss_with_dates_strings_and_empty_columns_validates(tmp_path, capsys):
    # a DATETIME variable used to become an item with a scale in nanoseconds, which the
    # file it came from then failed to validate against
    n = 40
    rng = np.random.default_rng(8)
    df = pd.DataFrame({
        "respondent_id": np.arange(1, n + 1, dtype=float),
        "city": rng.choice(["Leiden", "Delft"], n),
        "visit": [datetime.date(2026, 1, 1 + i % 28) for i in range(n)],
        "submitted": [datetime.datetime(2026, 1, 2, 9, i % 60) for i in range(n)],
        "empty": np.full(n, np.nan),
        **{f"SAT{j}": rng.integers(1, 6, n).astype(float) for j in range(1, 4)},
    })
    sav = tmp_path / "dates.sav"
    pyreadstat.write_sav(df, str(sav), variable_format={"visit": "DATE11", "submitted": "DATETIME20"})
    draft = draft_instrument(sav)
    assert [it["name"] for it in draft.instrument["other_items"]] == ["SAT1", "SAT2", "SAT3"]
    assert "submitted" in " ".join(draft.notes) and "visit" in " ".join(draft.notes)
    _init_and_validate(tmp_path, sav, capsys)


def test_undeclared_dont_know_codes_beyond_the_scale_become_missing_codes(tmp_path, capsys):
    # a 1-5 item with 6 = "Don't know" (not declared user-missing in the file) used to get the
    # scale 1-6: "don't know" read as the most satisfied answer, in silence
    n = 60
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"Q1": rng.integers(1, 7, n).astype(float), "Q2": rng.integers(0, 6, n).astype(float),
                       "Q3": rng.integers(1, 6, n).astype(float)})
    sav = tmp_path / "dk.sav"
    pyreadstat.write_sav(df, str(sav), variable_value_labels={
        "Q1": {1.0: "Very poor", 5.0: "Very good", 6.0: "Don't know"},
        "Q2": {0.0: "拒答", 1.0: "很差", 5.0: "很好"},
        "Q3": {1.0: "No", 3.0: "Don't know", 5.0: "Yes"}})        # inside the scale: an answer, kept
    items = {it["name"]: it for it in draft_instrument(sav).instrument["other_items"]}
    assert items["Q1"]["scale"] == [1, 5] and items["Q1"]["missing_codes"] == [6]
    assert items["Q2"]["scale"] == [1, 5] and items["Q2"]["missing_codes"] == [0]
    assert items["Q3"]["scale"] == [1, 5] and "missing_codes" not in items["Q3"]
    folder = _init_and_validate(tmp_path, sav, capsys)
    survey = csm.read_survey(folder / "data" / "dk.sav", Instrument.from_yaml(folder / "instrument.yml"))
    assert survey.data["Q1"].isna().sum() == (df["Q1"] == 6).sum() > 0
    assert survey.data["Q1"].max() == 5


def test_init_from_qualtrics_validates(tmp_path, capsys):
    _init_and_validate(tmp_path, _qualtrics(tmp_path / "qualtrics.csv"), capsys)


@pytest.mark.notebooks
@pytest.mark.parametrize("make", [_sav, _qualtrics], ids=["spss", "qualtrics"])
def test_a_study_runs_on_the_draft(tmp_path, make, capsys):
    export = make(tmp_path / ("export.sav" if make is _sav else "qualtrics.csv"))
    folder = _init_and_validate(tmp_path, export, capsys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        code = main(["run", str(folder / "study.yml"), "--jobs", "1", "--no-progress",
                     "--output", str(tmp_path / "runs")])
    assert code == 0
    record = next((tmp_path / "runs").rglob("data_quality.results.json"))
    assert record.is_file()


def test_items_without_a_shared_prefix_still_give_a_study_that_validates(tmp_path, capsys):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"id": range(1, 41), "wave": "2026Q3", "happy": rng.integers(1, 6, 40),
                       "likely": rng.integers(0, 11, 40)})
    export = tmp_path / "plain.csv"
    df.to_csv(export, index=False)
    folder = _init_and_validate(tmp_path, export, capsys)
    study = yaml.safe_load((folder / "study.yml").read_text(encoding="utf-8"))
    assert study["model"].strip() == "Draft =~ happy + likely"
    # the file's one wave label names the wave, so the study does not warn that they differ
    assert study["waves"] == [{"name": "2026Q3", "data": "data/plain.csv"}]
    assert yaml.safe_load((folder / "instrument.yml").read_text(encoding="utf-8"))["wave_column"] == "wave"
    main(["validate", str(folder / "study.yml")])
    assert "warning" not in capsys.readouterr().out
    assert "no two items share a name prefix" in (folder / "instrument.yml").read_text(encoding="utf-8")


def test_hostile_column_names_round_trip_and_stay_out_of_the_model(tmp_path):
    rng = np.random.default_rng(4)
    names = ["Q5 #1: *x*", "Q5 #2: &y", "- [z]\u2028k 3", "- [z]\u2028k 4", "<b>q</b>_1", "ok_1", "ok_2"]
    df = pd.DataFrame({"id": range(1, 41), **{n: rng.integers(1, 6, 40) for n in names}})
    export = tmp_path / "hostile.csv"
    df.to_csv(export, index=False)
    draft = draft_instrument(export)
    text = draft.to_yaml()
    raw = yaml.safe_load(text)
    assert raw == draft.instrument and [i["name"] for i in raw["other_items"]] == names
    inst = Instrument.model_validate(raw)
    assert list(csm.read_survey(export, inst).data.columns) == ["id", *names]
    assert draft.model_text() == "ok =~ ok_1 + ok_2"         # only plain names go into lavaan text
    assert draft.suggestions == {"- [z]\u2028k": ["- [z]\u2028k 3", "- [z]\u2028k 4"], "ok": ["ok_1", "ok_2"]}
    block = text[text.index("# Suggested constructs"):]
    assert all(line.startswith("#") for line in block.splitlines() if line)   # (splitlines splits at U+2028 too)
    assert yaml.safe_load(block) is None                                      # nothing but comments
