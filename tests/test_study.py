"""Study files: validation with clear errors naming the key path, and segment bases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from csmlib.errors import DataWarning, StudyError
from csmlib.run.study import Study, load_study, notebook_parameters, relocate_study, segment_mask

SMOKE = Path(__file__).resolve().parent.parent / "notebooks" / "_smoke.ipynb"
SMOKE_INSTRUMENT = ("name: smoke\nid_column: id\nsegment_columns: [region]\n"
                    "constructs: [{name: S, items: [{name: x, scale: [0, 10]}]}]\n")

W1 = "id,region,x,y\n1,North,1,a\n2,North,2,b\n3,South,3,a\n4,South,5,b\n5,North,4,a\n6,,9,a\n"
W2 = "id,region,x,y\n1,North,2,a\n2,East,2,b\n3,South,7,a\n"


def _write(tmp_path: Path, **overrides) -> Path:
    (tmp_path / "w1.csv").write_text(W1)
    (tmp_path / "w2.csv").write_text(W2)
    (tmp_path / "instrument.yml").write_text(SMOKE_INSTRUMENT)
    doc = {
        "name": "smoke",
        "instrument": "instrument.yml",
        "model": "S =~ x",
        "waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}],
        "segments": {"column": "region"},
        "notebooks": [str(SMOKE)],
        "parameters": {"seed": 3, "n_boot": 10},
        "min_base": 2,
        "output": str(tmp_path / "runs"),
    }
    for k, v in overrides.items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_valid_study_resolves_paths(tmp_path):
    study = load_study(_write(tmp_path))
    assert isinstance(study, Study)
    assert study.name == "smoke"
    assert study.instrument == (tmp_path / "instrument.yml").resolve()
    assert [w.name for w in study.waves] == ["w1", "w2"]
    assert study.waves[1].data == (tmp_path / "w2.csv").resolve()
    assert study.notebooks[0].name == "_smoke" and study.notebooks[0].path == SMOKE
    assert study.parameters == {"seed": 3, "n_boot": 10}
    assert study.seed == 3
    assert study.min_base == 2
    assert study.run_dir == (tmp_path / "runs" / "smoke").resolve()
    assert study.model == "S =~ x"
    assert study.report == "study_report" and study.timeout == 1800
    assert study.multiplicity == "holm"   # the default adjustment of test families


def test_multiplicity_reaches_every_notebook(tmp_path):
    from csmlib.run.batch import plan_runs

    study = load_study(_write(tmp_path, multiplicity="fdr_bh"))
    assert study.multiplicity == "fdr_bh"
    runs = plan_runs(study)
    assert runs and {r.parameters["multiplicity"] for r in runs} == {"fdr_bh"}
    with pytest.raises(StudyError, match="parameters.multiplicity"):
        load_study(_write(tmp_path, parameters={"multiplicity": "none"}))


def test_segment_bases_count_rows_by_hand(tmp_path):
    bases = load_study(_write(tmp_path)).segment_bases()
    got = {(r.wave, r.segment): r.n for r in bases.itertuples()}
    # counted by hand from W1 / W2 above (the row with an empty region is in "all" only)
    assert got == {
        ("w1", "all"): 6, ("w1", "North"): 3, ("w1", "South"): 2,
        ("w2", "all"): 3, ("w2", "East"): 1, ("w2", "North"): 1, ("w2", "South"): 1,
    }
    assert bases["value"].tolist()[0] is None


def test_segment_values_given(tmp_path):
    study = load_study(_write(tmp_path, segments={"column": "region", "values": ["North", "West"]}))
    with pytest.warns(DataWarning) as caught:
        bases = study.segment_bases()
    assert bases[bases.wave == "w1"].set_index("segment")["n"].to_dict() == {
        "all": 6, "North": 3, "West": 0}
    # nobody in either wave is in West: each wave says so (it was not remarked)
    texts = [str(w.message) for w in caught if "nobody in the wave" in str(w.message)]
    assert len(texts) == 2
    assert "waves[0] ('w1')" in texts[0] and "'West'" in texts[0] and "'region'" in texts[0]
    assert "given in the study file" in texts[0] and "'North'" not in texts[0]
    assert "waves[1] ('w2')" in texts[1]


def test_a_segment_value_missing_from_one_wave_is_remarked(tmp_path):
    # East is found in w2 only: w1 has no results for it
    with pytest.warns(DataWarning, match=r"waves\[0\] \('w1'\): nobody in the wave has the segment "
                                         r"value\(s\) 'East' of 'region' \(found in other waves\)"):
        load_study(_write(tmp_path)).segment_bases()


def test_no_remark_when_every_wave_has_every_value(tmp_path):
    import warnings

    study = load_study(_write(tmp_path, segments={"column": "region", "values": ["North", "South"]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        study.segment_bases()


def test_segment_mask():
    s = pd.Series(["North", None, "South", "North"])
    assert segment_mask(s, "North").tolist() == [True, False, False, True]
    assert segment_mask(s, "all").tolist() == [True] * 4
    assert segment_mask(pd.Series([1.0, 2.0, 1.0]), "1").tolist() == [True, False, True]


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        ({"wave": [{"name": "w1", "data": "w1.csv"}]}, ["wave", "unknown key", "'waves'"]),
        ({"waves": [{"name": "w1", "dat": "w1.csv"}]},
         ["waves[0].dat", "unknown key", "'data'", "waves[0].data", "missing"]),
        ({"instrument": None}, ["instrument", "required key is missing"]),
        ({"min_base": -1}, ["min_base", "greater than or equal to 0"]),
        ({"waves": []}, ["waves", "at least 1"]),
        ({"segments": {"column": "region", "valeus": ["a"]}}, ["segments.valeus", "'values'"]),
        ({"waves": [{"name": "w/1", "data": "w1.csv"}]}, ["waves[0].name", "folder name"]),
        ({"parameters": "n_boot=10"}, ["parameters", "dictionary"]),
        ({"multiplicity": "BH"}, ["multiplicity", "'holm'", "'fdr_bh'", "'none'", "'BH'"]),
    ],
)
def test_schema_errors_name_the_key_path(tmp_path, overrides, fragments):
    path = _write(tmp_path, **overrides)
    with pytest.raises(StudyError) as err:
        load_study(path)
    text = str(err.value)
    assert str(path.resolve()) in text
    for frag in fragments:
        assert frag in text, (frag, text)


@pytest.mark.parametrize(
    "overrides, fragments",
    [
        ({"waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w2", "data": "nope.csv"}]},
         ["waves[1].data", "data file not found", "nope.csv", "relative to the study file"]),
        ({"instrument": "missing.yml"}, ["instrument", "not found"]),
        ({"waves": [{"name": "w1", "data": "w1.csv"}, {"name": "w1", "data": "w2.csv"}]},
         ["wave names are repeated", "'w1'"]),
        ({"notebooks": ["no_such_notebook"]}, ["notebooks[0]", "no notebook named"]),
        ({"parameters": {"data_path": "x.csv"}}, ["parameters.data_path", "set by csm run"]),
        ({"model": "acsii"}, ["model", "'acsi'"]),
        ({"model": "not a model!"}, ["model", "lavaan"]),
        ({"model": "m.lavaan"}, ["model", "not found"]),
    ],
)
def test_semantic_errors(tmp_path, overrides, fragments):
    path = _write(tmp_path, **overrides)
    with pytest.raises(StudyError) as err:
        load_study(path)
    text = str(err.value)
    for frag in fragments:
        assert frag in text, (frag, text)


def test_lavaan_file_and_model_name(tmp_path):
    (tmp_path / "m.lavaan").write_text("S =~ x\n")
    assert load_study(_write(tmp_path, model="m.lavaan")).model == "S =~ x\n"
    demo = str(Path(__file__).resolve().parent.parent / "data" / "demo" / "instrument.yml")
    assert load_study(_write(tmp_path, model="acsi", instrument=demo)).model == "acsi"


def test_bad_yaml_names_line(tmp_path):
    path = tmp_path / "study.yml"
    path.write_text("name: x\nwaves: [\n  - a: b\n")
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert "not valid YAML" in str(err.value) and "row" in str(err.value)


def test_not_a_mapping_and_missing_file(tmp_path):
    path = tmp_path / "study.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(StudyError, match="YAML mapping"):
        load_study(path)
    with pytest.raises(StudyError, match="study file not found"):
        load_study(tmp_path / "absent.yml")


def test_missing_segment_column(tmp_path):
    with pytest.raises(StudyError) as err:
        load_study(_write(tmp_path, segments={"column": "regoin"}))
    assert "segments.column" in str(err.value) and "'regoin'" in str(err.value)
    assert "it declares: region" in str(err.value) and "instrument.yml" in str(err.value)


def test_segment_bases_of_a_semicolon_file(tmp_path):
    """Bases are counted from the file as read_survey reads it, whatever the delimiter."""
    path = _write(tmp_path)
    (tmp_path / "w1.csv").write_text("id;region;x\n1;North;3\n2;South;4\n3;North;5\n", encoding="utf-8")
    bases = load_study(path).segment_bases()
    got = bases[bases.wave == "w1"].set_index("segment")["n"].to_dict()
    assert got == {"all": 3, "North": 2, "South": 1}


# ------------------------------------------------------- segment folders
HOSTILE = ["Nord/Ost", "Nord:Ost", "Nord_Ost", "NA", "None", "null", "all", "..", " .hidden",
           "CON", "a~b", "x" * 300, "区" * 120, "North", "north", "Süd", "2", "2.5"]


def test_segment_labels_are_injective_safe_and_short():
    from csmlib.run.study import LABEL_MAX_BYTES, segment_label, segment_labels

    labels = segment_labels(HOSTILE)
    assert len(set(labels.values())) == len(HOSTILE)
    assert len({v.casefold() for v in labels.values()}) == len(HOSTILE)   # case-insensitive disks
    for value, label in labels.items():
        assert not set(label) & set('/\\:*?"<>|\x00') and label not in {"", ".", "..", "all"}
        assert not label.startswith((".", " ")) and not label.endswith((".", " "))
        assert len(label.encode("utf-8")) <= LABEL_MAX_BYTES + 11
    # safe values keep their own name; the others are a slug and a hash of the value
    assert labels["Süd"] == "Süd" and labels["NA"] == "NA" and labels["2.5"] == "2.5"
    assert labels["Nord/Ost"].startswith("Nord_Ost~") and labels["Nord_Ost"] == "Nord_Ost"
    assert labels["North"] != "North" and labels["north"] != "north"   # they differ only in case
    assert segment_label("Nord/Ost") == labels["Nord/Ost"]              # a function of the value
    assert segment_label(2.0) == "2"


def test_segment_labels_that_a_file_system_folds_to_one_get_their_own_folders():
    import unicodedata

    from csmlib.run.study import segment_labels

    # full-width letters (Chinese input methods) and decomposed accents (macOS
    # writes names decomposed) are the same name after NFKC normalisation
    values = ["Ｎorth", "North", "Su\u0308d", "S\u00fcd"]
    labels = segment_labels(values)
    folded = {unicodedata.normalize("NFKC", v).casefold() for v in labels.values()}
    assert len(folded) == 4 and all("~" in v for v in labels.values())


@pytest.mark.parametrize("names, key", [
    (["2026Q1", "2026q1"], "waves[0] and waves[1]"),
    (["w1", "w2", "W2"], "waves[1] and waves[2]"),
    (["w1", "w1."], "waves[0] and waves[1]"),           # Windows drops trailing dots and spaces
    (["w1", "w1 "], "waves[0] and waves[1]"),
])
def test_wave_names_a_file_system_folds_to_one_are_refused(tmp_path, names, key):
    # they shared one output folder on macOS and Windows: the later wave overwrote the earlier
    waves = [{"name": n, "data": "w1.csv" if i % 2 == 0 else "w2.csv"} for i, n in enumerate(names)]
    with pytest.raises(StudyError, match="differ only in case") as err:
        load_study(_write(tmp_path, waves=waves))
    assert key in str(err.value)


def test_notebook_names_that_differ_only_in_case_are_refused(tmp_path):
    import shutil

    shutil.copy(SMOKE, tmp_path / "Smoke.ipynb")
    shutil.copy(SMOKE, tmp_path / "smoke.ipynb")
    with pytest.raises(StudyError, match=r"notebooks\[0\] and notebooks\[1\]"):
        load_study(_write(tmp_path, notebooks=["Smoke.ipynb", "smoke.ipynb"]))


def test_segment_labels_hold_no_invisible_or_reordering_characters():
    """A folder name (and the run id, HTML title, summary rows made from it)
    never carries a right-to-left override, a zero-width or other format or
    line-separator character: they reorder or hide what a reader sees."""
    import unicodedata

    from csmlib.run.study import segment_label

    for value in ["Nord\u202eTSO", "a\u200bb", "\u2066x\u2069", "x\u2028y", "\ufeffNorth", "a\u00adb",
                  "\u202e中文"]:
        label = segment_label(value)
        assert not [c for c in label if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"}], (value, label)
        assert "~" in label                       # a slug and a hash: not the value itself


def test_segment_mask_matches_every_label_form():
    from csmlib.run.study import segment_labels

    values = pd.Series(HOSTILE + [None, "Nord/Ost"])
    labels = segment_labels(HOSTILE)
    for value, label in labels.items():
        hit = segment_mask(values, label)
        assert hit.sum() == (2 if value == "Nord/Ost" else 1), value
        assert values[hit].map(lambda v: str(v).strip()).eq(value).all()


def test_hostile_segment_values_get_their_own_bases(tmp_path):
    rows = [(i + 1, v, 1 + i % 9) for i, v in enumerate(HOSTILE)] + [(99, "Nord/Ost", 3)]
    text = "id,region,x\n" + "".join(f'{i},"{v}",{x}\n' for i, v, x in rows)
    path = _write(tmp_path)
    (tmp_path / "w1.csv").write_text(text, encoding="utf-8")
    bases = load_study(path).segment_bases()
    w1 = bases[bases.wave == "w1"]
    assert w1.set_index("segment").loc["all", "n"] == len(rows)
    by_value = {v.strip(): n for v, n in zip(w1["value"], w1["n"]) if v is not None}
    expected = {v.strip(): 1 for v in HOSTILE}
    expected["Nord/Ost"] = 2
    assert by_value == expected
    assert w1["segment"].is_unique


def test_bases_are_counted_by_the_notebooks_reader(tmp_path):
    """A Qualtrics export: two header rows, a preview and an unfinished response."""
    path = _write(tmp_path)
    (tmp_path / "w1.csv").write_text(
        "id,region,x,Status,Finished\n"
        "Respondent id,Region,How satisfied?,Response type,Finished\n"
        '{"ImportId":"id"},{"ImportId":"region"},{"ImportId":"QID1"},{"ImportId":"status"},'
        '{"ImportId":"finished"}\n'
        "1,North,3,IP Address,1\n2,North,4,Survey Preview,1\n3,South,5,IP Address,0\n"
        "4,South,6,IP Address,1\n5,North,7,IP Address,1\n")
    bases = load_study(path).segment_bases()
    w1 = bases[bases.wave == "w1"].set_index("segment")["n"].to_dict()
    assert w1 == {"all": 3, "North": 2, "South": 1}   # rows 1, 4, 5 by hand


# --------------------------------------------------------------------------- relocate_study
DEMO_STUDY = Path(__file__).resolve().parent.parent / "data" / "demo" / "study.yml"


def _same_inputs(a: Study, b: Study) -> None:
    assert [(w.name, w.data) for w in a.waves] == [(w.name, w.data) for w in b.waves]
    assert (a.instrument, a.model, a.notebooks, a.parameters) == (b.instrument, b.model, b.notebooks, b.parameters)
    assert a.complaints == b.complaints and a.actions == b.actions


def test_relocated_demo_study_reads_the_same_files(tmp_path):
    here = load_study(DEMO_STUDY, output=tmp_path / "a")
    copy = relocate_study(DEMO_STUDY, tmp_path / "elsewhere" / "copy.yml", output=str(tmp_path / "b"))
    there = load_study(copy)
    _same_inputs(here, there)
    assert there.output == (tmp_path / "b").resolve() and there.path == copy.resolve()
    assert here.complaints is not None and len(here.actions) == 2 and len(here.waves) == 3
    # the first two waves: the action due in the third is dropped, the other kept
    two = load_study(relocate_study(DEMO_STUDY, tmp_path / "two.yml", first_waves=2, output=str(tmp_path)))
    assert [w.name for w in two.waves] == ["2026Q1", "2026Q2"]
    assert [a.due_wave for a in two.actions] == ["2026Q2"]
    # changes and parameters; None removes a key
    path = relocate_study(DEMO_STUDY, tmp_path / "one.yml", first_waves=1, parameters={"n_boot": 50},
                          output=str(tmp_path), report=None, complaints=None, notebooks=["data_quality"])
    assert not {"report", "complaints", "actions"} & set(yaml.safe_load(path.read_text(encoding="utf-8")))
    one = load_study(path)
    assert one.actions == () and one.complaints is None
    assert [n.name for n in one.notebooks] == ["data_quality"]
    assert one.parameters == {**here.parameters, "n_boot": 50}


def test_relocate_study_makes_every_relative_path_absolute(tmp_path):
    """Notebook paths, the study's own notebook folder (named or the default
    notebooks/), a .lavaan model file: the copy in another folder finds them."""
    study = tmp_path / "study"
    (study / "nb").mkdir(parents=True)
    (study / "nb" / "own.ipynb").write_bytes(SMOKE.read_bytes())
    (study / "nb" / "other.ipynb").write_bytes(SMOKE.read_bytes())
    (study / "model.lavaan").write_text("S =~ x\n")
    path = _write(study, model="model.lavaan", notebooks=["own", "nb/other.ipynb"], notebook_folder="nb")
    here = load_study(path)
    assert [n.path for n in here.notebooks] == [(study / "nb" / f).resolve() for f in ("own.ipynb", "other.ipynb")]
    _same_inputs(here, load_study(relocate_study(path, tmp_path / "x" / "copy.yml")))
    # the default own folder notebooks/ next to the study file
    (study / "notebooks").mkdir()
    (study / "notebooks" / "mine.ipynb").write_bytes(SMOKE.read_bytes())
    path = _write(study, notebooks=["mine"], notebook_folder=None)
    copy = relocate_study(path, tmp_path / "y" / "copy.yml")
    assert load_study(copy).notebooks[0].path == (study / "notebooks" / "mine.ipynb").resolve()
    assert yaml.safe_load(copy.read_text(encoding="utf-8"))["notebook_folder"] == str(study / "notebooks")


# a Chinese mobile, an e-mail address and a Chinese resident identity number
# (check digit right: 11010519491231002X), in the forms consultants paste them
PERSONAL = {"mobile": "13812345678", "email": "zhang.wei@client.com.cn", "cn_id": "11010519491231002X"}


@pytest.mark.parametrize("kind", list(PERSONAL))
@pytest.mark.parametrize("where, key", [
    (lambda v: {"parameters": {"seed": 3, "client_contact": v}}, "parameters.client_contact"),
    (lambda v: {"parameters": {"seed": 3, "report_title": f"Q3 report, questions to {v}"}},
     "parameters.report_title"),
    (lambda v: {"parameters": {"seed": 3, "contacts": [{"who": "lead", "reach": v}]}},
     "parameters.contacts[0].reach"),
    (lambda v: {"actions": [{"name": "Queues", "owner": f"Branch ops ({v})", "target": "S",
                             "baseline_wave": "w1", "target_value": 5, "due_wave": "w2"}]},
     "actions[0].owner"),
])
def test_personal_data_in_the_study_file_is_refused(tmp_path, kind, where, key):
    # it went unmasked into every run's .run.json and papermill's injected cell of the .ipynb
    value = PERSONAL[kind]
    with pytest.raises(StudyError, match="looks like personal data") as err:
        load_study(_write(tmp_path, **where(value)))
    text = str(err.value)
    assert key in text and "removed>" in text
    assert value not in text and value[:-1] not in text and "zhang.wei" not in text


def test_personal_data_refused_in_a_wave_name(tmp_path):
    path = _write(tmp_path, waves=[{"name": "138 1234 5678", "data": "w1.csv"}])
    with pytest.raises(StudyError, match=r"waves\[0\].name"):
        load_study(path)


def _notebook(path: Path, parameters: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("x = 1 (not code)"),
                nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("later = 2")]
    nbformat.write(nb, path)
    return path


def test_ordinary_parameters_are_not_taken_for_personal_data(tmp_path):
    nb = _notebook(tmp_path / "own.ipynb", "title = ''\nthreshold: float = 0.1\nflags: list = []\n")
    params = {"seed": 20260101, "n_boot": 2000, "title": "Wave 2026Q3 (North)",
              "threshold": 0.05, "flags": [True, None, float("nan")]}
    study = load_study(_write(tmp_path, parameters=params, notebooks=[str(SMOKE), str(nb)]))
    assert study.parameters["seed"] == 20260101


def test_notebook_parameters_agree_with_papermill():
    # papermill's own reading of the parameters cell is the reference
    import papermill

    folder = Path(__file__).resolve().parent.parent / "notebooks"
    for path in sorted(folder.glob("*.ipynb")):
        assert set(notebook_parameters(path)) == set(papermill.inspect_notebook(str(path))), path.name


def test_notebook_parameters_of_odd_cells(tmp_path):
    nb = _notebook(tmp_path / "a.ipynb", "a = 1\nb: int = 2  # two\nc, d = 3, 4\nimport os\nprint(a)\n")
    assert notebook_parameters(nb) == ("a", "b", "c", "d")
    import nbformat

    bare = nbformat.v4.new_notebook()
    bare.cells = [nbformat.v4.new_code_cell("a = 1")]
    nbformat.write(bare, tmp_path / "bare.ipynb")
    assert notebook_parameters(tmp_path / "bare.ipynb") == ()
    (tmp_path / "broken.ipynb").write_text("{not json")
    with pytest.raises(StudyError, match="cannot be read"):
        notebook_parameters(tmp_path / "broken.ipynb")
    with pytest.raises(StudyError, match="not valid Python"):
        notebook_parameters(_notebook(tmp_path / "c.ipynb", "a = = 1"))


@pytest.mark.parametrize("parameters, fragments", [
    ({"seed": 3, "n_bot": 10}, ["parameters.n_bot: no notebook of the study has this parameter",
                                "did you mean 'n_boot'?", "_smoke", "own"]),
    ({"seed": 3, "Threshold": 0.2}, ["parameters.Threshold", "did you mean 'threshold'?"]),
    ({"sede": 3, "zzz_unrelated": 1}, ["parameters.sede", "'seed'", "parameters.zzz_unrelated"]),
])
def test_misspelt_parameter_is_refused_with_did_you_mean(tmp_path, parameters, fragments):
    # a misspelt parameter was passed to every notebook and silently ignored
    nb = _notebook(tmp_path / "own.ipynb", "threshold: float = 0.1\n")
    with pytest.raises(StudyError, match="unknown parameters") as err:
        load_study(_write(tmp_path, parameters=parameters, notebooks=[str(SMOKE), str(nb)]))
    text = str(err.value)
    for frag in fragments:
        assert frag in text, (frag, text)


def test_a_parameter_of_one_notebook_is_enough(tmp_path):
    # the union of the notebooks' parameters: sleep is declared by _smoke only
    nb = _notebook(tmp_path / "own.ipynb", "threshold: float = 0.1\n")
    study = load_study(_write(tmp_path, parameters={"sleep": 0.5, "threshold": 0.2},
                              notebooks=[str(SMOKE), str(nb)]))
    assert study.parameters == {"sleep": 0.5, "threshold": 0.2}


def test_the_demo_study_parameters_are_all_declared():
    demo = Path(__file__).resolve().parent.parent / "data" / "demo" / "study.yml"
    assert load_study(demo).parameters["n_boot"] == 1000


def test_fits_pls_by_parameter_or_code(tmp_path):
    from csmlib.run.study import fits_pls

    folder = Path(__file__).resolve().parent.parent / "notebooks"
    assert fits_pls(folder / "structural.ipynb") and fits_pls(folder / "measurement.ipynb")
    assert not fits_pls(folder / "data_quality.ipynb") and not fits_pls(SMOKE)
    assert fits_pls(_notebook(tmp_path / "a.ipynb", "pls_missing: str = 'mean'\n"))
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("res = csm.fit_pls(spec, data)")]
    nbformat.write(nb, tmp_path / "b.ipynb")
    assert fits_pls(tmp_path / "b.ipynb")
def test_fieldwork_windows_are_dates_in_order_and_reach_every_notebook(tmp_path):
    import datetime as dt

    from csmlib.run.batch import plan_runs

    waves = [{"name": "w1", "data": "w1.csv", "start": "2026-01-01", "end": "2026-03-31"},
             {"name": "w2", "data": "w2.csv", "start": dt.date(2026, 4, 1), "end": dt.date(2026, 6, 30)}]
    study = load_study(_write(tmp_path, waves=waves))
    assert [(w.start, w.end) for w in study.waves] == [(dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
                                                       (dt.date(2026, 4, 1), dt.date(2026, 6, 30))]
    params = {(r.wave, r.segment): r.parameters for r in plan_runs(study)}
    assert params[("w1", "all")]["wave_start"] == "2026-01-01" and params[("w2", "North")]["wave_end"] == "2026-06-30"
    # without windows: empty parameters (the notebooks' whole-log behaviour)
    plain = plan_runs(load_study(_write(tmp_path)))
    assert {(r.parameters["wave_start"], r.parameters["wave_end"]) for r in plain} == {("", "")}
    # a window on some waves only is allowed
    assert load_study(_write(tmp_path, waves=[waves[0], {"name": "w2", "data": "w2.csv"}])).waves[1].end is None


@pytest.mark.parametrize("w1, w2, match", [
    ({"start": "2026-01-01"}, {}, r"waves\[0\].*both start and end"),
    ({"start": "2026-03-31", "end": "2026-01-01"}, {}, r"waves\[0\].*ends \(2026-01-01\) before it starts"),
    ({"start": "31/01/2026", "end": "2026-03-31"}, {}, r"waves\[0\]\.start.*YYYY-MM-DD"),
    ({"start": "2026-01-01 08:00", "end": "2026-03-31"}, {}, r"waves\[0\]\.start.*without a time"),
    ({"start": "2026-02-30", "end": "2026-03-31"}, {}, r"waves\[0\]\.start"),
    ({"start": "2026-01-01", "end": "2026-04-15"}, {"start": "2026-04-01", "end": "2026-06-30"},
     r"(?s)waves\[1\]: the fieldwork window of w2 .*overlaps that of w1.*time order"),
    ({"start": "2026-04-01", "end": "2026-06-30"}, {"start": "2026-01-01", "end": "2026-03-31"},
     r"(?s)waves\[1\]: the fieldwork window of w2 .*comes before that of w1"),
])
def test_fieldwork_windows_that_make_no_sense_are_refused(tmp_path, w1, w2, match):
    waves = [{"name": "w1", "data": "w1.csv", **w1}, {"name": "w2", "data": "w2.csv", **w2}]
    with pytest.raises(StudyError, match=match):
        load_study(_write(tmp_path, waves=waves))


@pytest.mark.parametrize("params", [
    {"period_label": "2026-2027"}, {"period_label": "2026/2027"},
    {"title": "客户满意度 2025-2026 年度 (华东区)"}, {"version": "v2.0.1.3"}, {"version": "1.4.2"},
    {"report_date": __import__("datetime").date(2026, 3, 31)}, {"title": "目标 +5% (2026)", "share": 0.95},
    {"folder": "/data/exports/2026/q1"}, {"folder": "C:\\data\\2026-03\\q1"},
    {"period_label": "2026-01 至 2026-03"}, {"note": "fieldwork 09:00-18:00, n = 1 200"},
])
def test_legitimate_parameters_that_look_odd_are_not_refused(tmp_path, params):
    nb = _notebook(tmp_path / "own.ipynb", "title = ''\nperiod_label = ''\nversion = ''\nshare = 0.0\n"
                                           "folder = ''\nreport_date = None\nnote = ''\n")
    study = load_study(_write(tmp_path, parameters={"seed": 3, **params}, notebooks=[str(SMOKE), str(nb)]))
    assert {k: study.parameters[k] for k in params} == params


def test_a_study_and_waves_named_by_year_ranges_are_not_refused(tmp_path):
    waves = [{"name": "2025-2026", "data": "w1.csv"}, {"name": "2026-2027", "data": "w2.csv"}]
    study = load_study(_write(tmp_path, name="ACSI 2025-2027", waves=waves))
    assert [w.name for w in study.waves] == ["2025-2026", "2026-2027"]


@pytest.mark.parametrize("start, end", [(20260101, 20260331), (46023, 46112),   # Excel serial days
                                        (1767225600, 1774915200), (0.0, 86400.0)])   # Unix seconds
def test_fieldwork_dates_given_as_numbers_are_refused(tmp_path, start, end):
    # pydantic read a whole number of seconds at midnight as a Unix time (0.0 -> 1970-01-01)
    # and refused the others as 'Datetimes provided to dates should have zero time'
    waves = [{"name": "w1", "data": "w1.csv", "start": start, "end": end}, {"name": "w2", "data": "w2.csv"}]
    with pytest.raises(StudyError, match=r"waves\[0\]\.start.*YYYY-MM-DD.*not a number"):
        load_study(_write(tmp_path, waves=waves))


@pytest.mark.parametrize("waves, key", [
    ([{"name": 2026.10, "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}], r"waves\[0\]\.name"),
    ([{"name": "w1", "data": "w1.csv"}, {"name": 2026.20, "data": "w2.csv"}], r"waves\[1\]\.name"),
])
def test_a_wave_name_yaml_reads_as_a_decimal_number_is_refused(tmp_path, waves, key):
    # YAML reads 2026.10 as the number 2026.1: the wave was silently named 2026.1
    with pytest.raises(StudyError, match=key + r".*in quotes"):
        load_study(_write(tmp_path, waves=waves))


def test_an_action_wave_yaml_reads_as_a_decimal_number_is_refused(tmp_path):
    waves = [{"name": "2026.1", "data": "w1.csv"}, {"name": "2026.10", "data": "w2.csv"}]
    action = {"name": "a", "owner": "o", "target": "S", "baseline_wave": "2026.1", "target_value": 5,
              "due_wave": 2026.10}
    with pytest.raises(StudyError, match=r"actions\[0\]\.due_wave.*in quotes"):
        load_study(_write(tmp_path, waves=waves, actions=[action]))


def test_personal_data_in_the_study_files_segment_values_is_named_there(tmp_path):
    # the error blamed the first wave's data file ('the segment column holds phone numbers'),
    # which holds no such value: the study file does
    path = _write(tmp_path, segments={"column": "region", "values": ["North", "South", "138 1234 5678"]})
    with pytest.raises(StudyError, match=r"segments\.values\[2\]") as err:
        load_study(path)
    assert err.value.file == str(path) and "1234" not in str(err.value)


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2025-02-29"])
def test_an_impossible_date_in_the_study_file_names_its_line(tmp_path, day):
    # YAML reads an unquoted date itself: 'day is out of range for month' was a raw traceback
    path = _write(tmp_path, waves=[{"name": "w1", "data": "w1.csv", "start": "2026-01-01", "end": "2026-03-31"},
                                   {"name": "w2", "data": "w2.csv"}])
    path.write_text(path.read_text().replace("'2026-03-31'", day).replace("2026-03-31", day))
    assert day in path.read_text()
    with pytest.raises(StudyError, match=rf"not valid YAML.*{day}.*not a date") as err:
        load_study(path)
    assert err.value.rows   # the line of the date


def test_a_study_citing_its_standard_and_sample_size_is_not_refused(tmp_path):
    nb = _notebook(tmp_path / "own.ipynb", "title = ''\nnote = ''\n")
    params = {"seed": 3, "title": "GB/T 19038-2009 顾客满意测评 12/2025 - 03/2026",
              "note": "n = 1 200 000 customers; alpha 0.05/0.01"}
    study = load_study(_write(tmp_path, parameters=params, notebooks=[str(SMOKE), str(nb)]))
    assert study.parameters["title"] == params["title"]


@pytest.mark.parametrize("where, key", [
    (lambda n: {"waves": [{"name": n, "data": "w1.csv"}, {"name": "w2", "data": "w2.csv"}]}, r"waves\[0\]\.name"),
    (lambda n: {"name": n}, r"name"),
])
@pytest.mark.parametrize("name", ["NUL", "con", "Aux.2026", "COM1", "lpt9"])
def test_names_windows_reserves_for_devices_are_refused(tmp_path, where, key, name):
    # a wave or study name becomes a folder: Windows cannot create 'NUL' or 'con.x' (its device names)
    with pytest.raises(StudyError, match=key + r".*Windows"):
        load_study(_write(tmp_path, **where(name)))
