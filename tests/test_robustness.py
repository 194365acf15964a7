"""Bad input and estimation trouble: a corpus of broken files, each giving a
CsmError that names the file, column, row and value and says what to do, never
a traceback from pandas, numpy or semopy (issue #7 items 1 and 2).

The corpus is generated here from the first rows of the demo wave, so every
expected row / column / value below is known by construction.  Decisions:

* a UTF-8 byte-order mark is not an error: the file loads as without it;
* a CSV row with more or fewer fields than the header is an error (never padded);
* SPSS codes that the file gives no value label are kept as answers (the
  instrument's scale is the check, not the file's labels);
* an item with no answers at all loads with a DataWarning; the estimators then
  refuse it.
"""

from __future__ import annotations

import csv

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import csmlib as csm
from csmlib.run.cli import main
from csmlib.run.study import load_study
from csmlib.errors import (CsmError, DataError, DataWarning, EstimationError, EstimationWarning,
                           StudyError)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
LINES = (DEMO / "wave1.csv").read_text(encoding="utf-8").splitlines()[:41]   # header + 40 rows
HEADER = LINES[0].split(",")


@pytest.fixture(scope="module")
def inst():
    return csm.Instrument.from_yaml(DEMO / "instrument.yml")


@pytest.fixture(scope="module")
def good(inst, tmp_path_factory):
    p = tmp_path_factory.mktemp("good") / "wave.csv"
    p.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return csm.read_survey(p, inst)


@pytest.fixture(scope="module")
def full(inst):
    return csm.read_survey(DEMO / "wave1.csv", inst)


def _write(tmp_path, lines, name="wave.csv", encoding="utf-8", bom=False):
    p = tmp_path / name
    data = ("\n".join(lines) + "\n").encode(encoding)
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return p


def _set(lines, row, column, value):
    """``lines`` with data row ``row`` (1-based) of ``column`` set to ``value``."""
    out = list(lines)
    cells = out[row].split(",")
    cells[HEADER.index(column)] = value
    out[row] = ",".join(cells)
    return out


def _raises(exc_type, fn, *args, **kw):
    with pytest.raises(exc_type) as info:
        fn(*args, **kw)
    err = info.value
    assert isinstance(err, CsmError)
    assert err.hint, "every error says what to do"
    return err


# --------------------------------------------------------------- CSV files
def test_ragged_rows_name_row_and_line(tmp_path, inst):
    lines = list(LINES)
    lines[5] = lines[5].rsplit(",", 3)[0]          # data row 5 cut short by 3 fields
    lines[9] = lines[9] + ",7,8"                    # data row 9 has 2 fields too many
    p = _write(tmp_path, lines)
    err = _raises(DataError, csm.read_survey, p, inst)
    assert err.file == str(p)
    assert err.rows == [5, 9]
    n = len(HEADER)   # the demo's columns (the last, improve, is quoted only where it needs to be)
    assert f"line 6 has {n - 3}" in err.message and f"line 10 has {n + 2}" in err.message
    assert f"({n}" in err.message and "quoted" in err.hint
    # a trailing delimiter (an empty last field) is not ragged
    lines = [LINES[0]] + [ln + "," for ln in LINES[1:]]
    assert csm.read_survey(_write(tmp_path, lines, "trailing.csv"), inst).n == 40


def test_unterminated_quote(tmp_path, inst):
    lines = list(LINES)
    lines[3] = lines[3].replace(",North,", ',"North,', 1).replace(",South,", ',"South,', 1)
    err = _raises(DataError, csm.read_survey, _write(tmp_path, lines), inst)
    assert "cannot be read as CSV" in err.message and "quot" in err.hint


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_load_the_same_answers(tmp_path, inst, good, sep):
    p = _write(tmp_path, [ln.replace(",", sep) for ln in LINES])
    pd.testing.assert_frame_equal(csm.read_survey(p, inst).data, good.data)


def test_bom_loads_like_without(tmp_path, inst, good):
    s = csm.read_survey(_write(tmp_path, LINES, bom=True), inst)
    assert list(s.data.columns) == list(good.data.columns)      # no '\ufeffrespondent_id'
    pd.testing.assert_frame_equal(s.data, good.data)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_wrong_encoding_names_file_line_and_codec(tmp_path, inst, good, encoding):
    # a segment label with accents (and a cp1252-only dash): undecodable as UTF-8
    label = "Zürich–Süd" if encoding == "cp1252" else "Zürich"
    # the demo's open-ended answers (last column) are partly Chinese, which these
    # encodings cannot hold: those answers are left empty here
    rows = [next(csv.reader([ln])) for ln in LINES[1:]]
    plain = [",".join(r[:-1] + [r[-1] if r[-1].isascii() and "," not in r[-1] else ""]) for r in rows]
    lines = [LINES[0]] + [ln.replace(",North,", f",{label},") for ln in plain]
    first = next(i for i, ln in enumerate(lines) if label in ln)
    p = _write(tmp_path, lines, encoding=encoding)
    err = _raises(DataError, csm.read_survey, p, inst)
    assert err.file == str(p)
    assert f"line {first + 1})" in err.message and "not valid UTF-8" in err.message
    assert "encoding=" in err.hint and encoding.replace("latin-1", "cp1252") in err.hint
    s = csm.read_survey(p, inst, encoding=encoding)   # the hint works: no mojibake
    assert label in set(s.data["region"])
    assert (s.data["region"] == label).sum() == (good.data["region"] == "North").sum()


def test_empty_and_header_only(tmp_path, inst):
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    assert _raises(DataError, csm.read_survey, p, inst).file == str(p)
    p = _write(tmp_path, [LINES[0]], "header.csv")
    err = _raises(DataError, csm.read_survey, p, inst)
    assert "header but no data rows" in err.message and err.file == str(p)


def test_answers_outside_the_scale(tmp_path, inst):
    lines = _set(_set(LINES, 3, "CUSA2", "11"), 7, "recommend", "-1")
    err = _raises(DataError, csm.read_survey, _write(tmp_path, lines), inst)
    assert err.column == ["CUSA2", "recommend"] and err.rows == [3, 7]
    assert set(err.values) == {11, -1}
    assert "outside the scale [1, 10]" in err.message and "outside the scale [0, 10]" in err.message
    assert "missing_codes" in err.hint


def test_text_in_numeric_items(tmp_path, inst):
    lines = _set(_set(LINES, 2, "PERQ3", "very good"), 12, "PERQ3", "\"7,5\"")
    err = _raises(DataError, csm.read_survey, _write(tmp_path, lines), inst)
    assert err.column == ["PERQ3"] and err.rows == [2, 12]
    assert err.values == ["very good", "7,5"]
    assert "not numbers" in err.message and "numeric codes" in err.hint


def test_personal_value_in_an_item_is_not_quoted(tmp_path, inst):
    lines = _set(LINES, 4, "CUSA1", "jane.doe@example.com")
    err = _raises(DataError, csm.read_survey, _write(tmp_path, lines), inst)
    assert err.column == ["CUSA1"] and err.rows == [4]
    assert "jane.doe" not in str(err) and "<e-mail address removed>" in str(err)


# ------------------------------------------------------ Excel, SPSS, YAML
def test_excel_merged_header_cells(tmp_path, inst):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pd.read_csv(DEMO / "wave1.csv", nrows=10)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    ws.merge_cells("F1:H1")                       # CUEX1 spans CUEX1..CUEX3: G1, H1 lose their names
    for r in frame.itertuples(index=False):
        ws.append(list(r))
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    err = _raises(DataError, csm.read_survey, p, inst)
    assert err.file == str(p)
    assert "columns G, H" in err.message and "no name in the header row" in err.message
    assert "unmerge" in err.hint


def test_spss_unlabelled_codes_are_kept(tmp_path, inst):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.read_csv(DEMO / "wave1.csv", nrows=20).drop(columns=["name", "email"])
    frame.loc[3, "CUSA1"] = 4                     # 4 has no value label in the file
    frame["region"] = frame["region"].astype(str)
    p = tmp_path / "unlabelled.sav"
    pyreadstat.write_sav(frame, str(p), variable_value_labels={"CUSA1": {1: "Very dissatisfied",
                                                                         10: "Very satisfied"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # kept silently: the scale is the check
        s = csm.read_survey(p, inst)
    assert s.data.loc[4, "CUSA1"] == 4.0
    assert s.value_labels["CUSA1"] == {1.0: "Very dissatisfied", 10.0: "Very satisfied"}
    np.testing.assert_array_equal(s.data["CUSA1"].to_numpy(), frame["CUSA1"].to_numpy(float))


def test_instrument_with_duplicate_item_names(tmp_path, capsys):
    doc = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    doc["constructs"][3]["items"][2]["name"] = "CUSA1"
    p = tmp_path / "instrument.yml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    err = _raises(DataError, csm.Instrument.from_yaml, p)
    assert err.file == str(p)
    assert "constructs[3].items[2].name: item 'CUSA1' is declared twice" in err.message
    assert "constructs[3].items[0]" in err.message
    assert main(["validate", str(p)]) == 2
    stderr = capsys.readouterr().err
    assert "declared twice" in stderr and "Traceback" not in stderr


# ------------------------------------------------------------------ study
def _study(tmp_path, **overrides):
    for name in ("instrument.yml", "wave1.csv"):
        (tmp_path / name).write_bytes((DEMO / name).read_bytes())
    doc = {"name": "robust", "instrument": "instrument.yml", "model": "acsi",
           "waves": [{"name": "W1", "data": "wave1.csv"}], "notebooks": ["data_quality"],
           "output": str(tmp_path / "runs")}
    doc.update(overrides)
    p = tmp_path / "study.yml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


def test_study_typos_and_unknown_keys_suggest_the_closest(tmp_path, capsys):
    p = _study(tmp_path, segmnets={"column": "region"}, paramters={"seed": 1}, colour="blue")
    err = _raises(StudyError, load_study, p)
    text = str(err)
    assert str(p) in text
    assert "segmnets" in text and "'segments'" in text
    assert "paramters" in text and "'parameters'" in text
    assert "colour" in text
    assert main(["run", str(p), "--no-progress"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("csm: error:") and "segmnets" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "runs").exists()      # nothing half-written


def test_cli_validate_bad_data_is_one_message(tmp_path, capsys):
    lines = _set(LINES, 3, "CUSA2", "eleven")
    data = _write(tmp_path, lines)
    code = main(["validate", str(data), "--instrument", str(DEMO / "instrument.yml")])
    stderr = capsys.readouterr().err
    assert code == 2
    assert stderr.startswith("csm: error:") and stderr.count("csm: error:") == 1
    assert str(data) in stderr and "CUSA2" in stderr and "'eleven'" in stderr and "row: 3" in stderr
    assert "Traceback" not in stderr


# ------------------------------------------------------ estimation inputs
def test_item_without_variance(good):
    d = good.data
    d["CUSA2"] = 7.0
    s = good.with_data(d)
    for fit in (csm.fit_pls, csm.fit_cbsem):
        err = _raises(DataError, fit, csm.models.acsi(), s)
        assert err.column == ["CUSA2"] and "zero variance" in err.message


def test_perfectly_collinear_items(full):
    d = full.data
    d["CUSA2"] = d["CUSA1"]
    s = full.with_data(d)
    spec_b = csm.ModelSpec.from_lavaan("Q =~ PERQ1 + PERQ2 + PERQ3\nS <~ CUSA1 + CUSA2 + CUSA3\nS ~ Q")
    err = _raises(EstimationError, csm.fit_pls, spec_b, s)
    assert "'S'" in err.message and "collinear" in err.message
    assert {"CUSA1", "CUSA2"} <= set(err.column)
    err = _raises(EstimationError, csm.fit_cbsem, csm.models.acsi(), s)
    assert set(err.column) == {"CUSA1", "CUSA2"}
    # mode A (correlation weights) is defined: finite numbers, and two identical
    # items necessarily get identical loadings and weights
    res = csm.fit_pls(csm.models.acsi(), s)
    assert np.isfinite(res.estimates["est"]).all()
    lo = res.loadings.set_index("rhs")["est"]
    assert lo["CUSA1"] == pytest.approx(lo["CUSA2"], abs=1e-12)
    assert np.isfinite(float(csm.satisfaction_index(res)))


def test_fewer_respondents_than_parameters(good):
    small = good.subset(np.arange(good.n) < 30)
    err = _raises(EstimationError, csm.fit_cbsem, csm.models.acsi(), small)
    assert "fewer observations" in err.message and "than free parameters" in err.message
    n_obs, n_par = err.values
    # the complete rows over the model's 19 items, counted here by hand
    model_items = [c for c in small.item_names if c not in ("recommend", "complained")]
    assert n_obs == small.items[model_items].dropna().shape[0]
    assert n_obs < n_par


def test_all_answers_missing_for_a_construct(tmp_path, inst):
    lines = [LINES[0]]
    for ln in LINES[1:]:
        cells = ln.split(",")
        for c in ("CUSA1", "CUSA2", "CUSA3"):
            cells[HEADER.index(c)] = "99" if c == "CUSA3" else ""   # 99 is the missing code
        lines.append(",".join(cells))
    p = _write(tmp_path, lines)
    with pytest.warns(DataWarning, match="CUSA1, CUSA2, CUSA3.*construct\\(s\\) Satisfaction"):
        s = csm.read_survey(p, inst)
    for fit in (csm.fit_pls, csm.fit_cbsem):
        err = _raises(DataError, fit, csm.models.acsi(), s)
        assert "no answer at all" in err.message and "Satisfaction" in err.message


def test_all_answers_missing_error_names_the_construct(good):
    d = good.data
    d[["CUSA1", "CUSA2", "CUSA3"]] = np.nan
    s = good.with_data(d)
    for fit in (csm.fit_pls, csm.fit_cbsem):
        with pytest.raises(CsmError) as info:
            fit(csm.models.acsi(), s)
        assert sorted(info.value.column) == ["CUSA1", "CUSA2", "CUSA3"]
        assert "no answer" in info.value.message


# --------------------------------------------------- estimation trouble
def test_pls_non_convergence_surfaces(good):
    with pytest.warns(EstimationWarning, match="did NOT converge in 1 iterations"):
        res = csm.fit_pls(csm.models.acsi(), good, max_iter=1)
    assert res.converged is False and res.n_iter == 1
    assert "NOT converge" in res.message
    text = str(res.summary())
    assert "DID NOT converge" in text


def test_index_of_a_non_converged_fit_is_flagged(good):
    with pytest.warns(EstimationWarning):
        res = csm.fit_pls(csm.models.acsi(), good, max_iter=1)
    with pytest.warns(EstimationWarning, match="converge"):
        csm.satisfaction_index(res)


def test_cb_unidentified_model_is_fitted_with_lavaans_warnings():
    # two factors sharing indicators, on pure noise: df = -1, not identified.
    # lavaan 0.6.14 fits it (converged, chisq NA) and warns that the information
    # matrix cannot be inverted and that an lv variance is negative
    # (data/references/engine_warned_lavaan.csv, make_r_references.R section 6).
    ref_dir = ROOT / "data" / "references"
    X = pd.read_csv(ref_dir / "engine_unidentified_data.csv")
    ref = pd.read_csv(ref_dir / "engine_warned_lavaan.csv").iloc[0]
    assert ref["converged"] and "could not be inverted" in ref["warnings"]
    assert "lv variances are negative" in ref["warnings"]
    spec = csm.ModelSpec.from_lavaan("F =~ a + b + c + d\nG =~ a + b")
    with pytest.warns(EstimationWarning) as rec:
        res = csm.fit_cbsem(spec, X)
    msgs = " | ".join(str(w.message) for w in rec)
    assert res.converged
    assert "not identified" in msgs and "standard errors are not available" in msgs
    assert "Heywood" in msgs and "F ~~ F" in msgs
    assert res.fit_indices["logl"] == pytest.approx(ref["logl"], abs=1e-4)
    assert res.fit_indices["df"] == ref["df"] and np.isnan(res.fit_indices["chisq"])
    assert res.estimates["se"].isna().all()


def test_cb_non_convergence_surfaces(monkeypatch):
    # an optimizer that stops early: converged=False, a warning, and the summary says so
    from csmlib.estimate import ram

    real = ram.Likelihood.fisher_scoring
    monkeypatch.setattr(ram.Likelihood, "fisher_scoring",
                        lambda self, theta, **kw: real(self, theta, max_iter=1))
    data = pd.read_csv(ROOT / "data" / "political_democracy" / "political_democracy.csv")
    with pytest.warns(EstimationWarning) as rec:
        res = csm.fit_cbsem(csm.models.political_democracy(), data, start="simple")
    assert res.converged is False
    assert any("did not converge" in str(w.message) for w in rec)
    assert any("did not converge" in w for w in res.warnings)
    assert "not converge" in str(res.summary()).lower()


def test_heywood_case_blocks_a_cb_index():
    # correlations r12 = r13 = 0.8, r23 = 0.4 imply theta_11 = 1 - .8*.8/.4 = -0.6 < 0
    R = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.4], [0.8, 0.4, 1.0]])
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 3))
    Z = (Z - Z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False, ddof=0))).T
    X = pd.DataFrame(5 + Z @ np.linalg.cholesky(R).T, columns=["h1", "h2", "h3"])
    with pytest.warns(EstimationWarning, match="Heywood"):
        res = csm.fit_cbsem(csm.ModelSpec.from_lavaan("F =~ h1 + h2 + h3"), X)
    err = _raises(EstimationError, csm.satisfaction_index, res, "F",
                  scale_limits={c: (1, 10) for c in X.columns})
    assert "'F'" in err.message and "Heywood" in err.message and err.column == ["h1"]


def test_estimators_say_when_declared_survey_weights_are_not_used():
    from types import SimpleNamespace

    from csmlib.errors import DataWarning

    data = pd.read_csv(ROOT / "data" / "political_democracy" / "political_democracy.csv")
    spec = csm.models.political_democracy()
    weighted = SimpleNamespace(data=data, scale_limits=None,
                               weights=pd.Series(np.linspace(0.5, 2.0, len(data)), index=data.index, name="w"))
    for fit in (csm.fit_pls, csm.fit_cbsem):
        with pytest.warns(DataWarning, match="declares weights .'w'."):
            res = fit(spec, weighted)
        assert any("unweighted" in w for w in res.warnings)
        equal = SimpleNamespace(data=data, scale_limits=None,
                                weights=pd.Series(1.0, index=data.index, name="w"))
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            assert not fit(spec, equal).warnings and not fit(spec, data).warnings
