"""Every report notebook, executed through papermill on small data.

The numbers a notebook records (and shows) must equal what the library
computes on the same data; the HTML report must hold no code, no injected
parameters and no personal data.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm
import pytest
import yaml

import csmlib as csm
from csmlib.report.htmlexport import notebook_to_html
from csmlib.report.record import read_results, results_frame

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "data" / "demo"
N_BOOT = 200
SEED = 7


def _run(name: str, tmp: Path, **params) -> tuple[dict, Path]:
    out = tmp / f"{name}.ipynb"
    results = tmp / f"{name}.results.json"
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), kernel_name="csm",
                        parameters={"results_path": str(results), **params},
                        cwd=str(NOTEBOOKS), progress_bar=False)
    return read_results(results), out


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """240 respondents of the demo study's first wave (both regions, with the
    fake names and e-mails the loader must drop)."""
    tmp = tmp_path_factory.mktemp("nb")
    raw = pd.read_csv(DEMO / "wave1.csv")
    raw.groupby("region").head(120).to_csv(tmp / "wave.csv", index=False)
    shutil.copy(DEMO / "instrument.yml", tmp / "instrument.yml")
    params = {"data_path": str(tmp / "wave.csv"), "instrument_path": str(tmp / "instrument.yml"),
              "model": "acsi", "n_boot": N_BOOT, "seed": SEED, "scheme": "path",
              "study": "test", "wave": "W1", "segment_column": "region"}
    survey = csm.read_survey(tmp / "wave.csv", csm.Instrument.from_yaml(tmp / "instrument.yml"))
    runs = {}
    for name in ("data_quality", "measurement", "structural", "index_drivers",
                 "complaints_loyalty"):
        runs[name] = _run(name, tmp, **params)
    wave_results = {f"all/{n}": str(tmp / f"{n}.results.json") for n in runs}
    runs["study_report"] = _run("study_report", tmp, **params, wave_results=wave_results)
    return {"tmp": tmp, "params": params, "survey": survey, "runs": runs,
            "pii": raw.groupby("region").head(120)[["name", "email"]]}


def _frame(runs, nb, key):
    return results_frame(runs[nb][0], key)


def _nb_text(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            out.append("".join(o.get("text", "")))
            out.append("".join(o.get("data", {}).get("text/plain", "")))
            out.append("".join(o.get("data", {}).get("text/markdown", "")))
            out.append("".join(o.get("data", {}).get("text/html", "")))
    return "\n".join(out)


def test_data_quality_records_what_the_library_computes(small):
    values, _ = small["runs"]["data_quality"]
    assert values["values"]["n"] == small["survey"].n == 240
    rec = _frame(small["runs"], "data_quality", "items").set_index("item")
    desc = csm.item_descriptives(small["survey"])
    for col in ("mean", "sd", "share_missing", "top_box"):
        np.testing.assert_allclose(rec[col].to_numpy(float), desc.loc[rec.index, col].to_numpy(float),
                                   rtol=1e-12, equal_nan=True)


def test_measurement_and_structural_match_library(small):
    spec = csm.models.acsi()
    pls = csm.fit_pls(spec, small["survey"], scheme="path", missing="mean")
    rel = _frame(small["runs"], "measurement", "reliability").set_index("construct")
    lib = csm.reliability_assessment(pls)
    np.testing.assert_allclose(rel["rho_c"].to_numpy(float), lib.loc[rel.index, "rho_c"].to_numpy(float),
                               rtol=1e-10, equal_nan=True)
    paths = _frame(small["runs"], "structural", "paths")
    ref = pls.paths.set_index(["lhs", "rhs"])["est"]
    got = paths.set_index(["lhs", "rhs"])["est"]
    np.testing.assert_allclose(got.to_numpy(), ref.loc[got.index].to_numpy(), rtol=1e-10)
    cb = csm.fit_cbsem(spec, small["survey"], missing="fiml")
    fit = _frame(small["runs"], "structural", "fit").set_index("index")["value"]
    for k in ("chisq", "cfi", "rmsea", "srmr"):
        assert fit[k] == pytest.approx(cb.fit_indices[k], rel=1e-8)
    # the measurement notebook's misfit section: the library's largest modification indices
    mi = _frame(small["runs"], "measurement", "modification_indices")
    lib = csm.modification_indices(csm.fit_cbsem(spec, small["survey"], missing="listwise")).head(10)
    assert mi[["lhs", "op", "rhs"]].values.tolist() == lib[["lhs", "op", "rhs"]].values.tolist()
    np.testing.assert_allclose(mi["mi"].to_numpy(float), lib["mi"].to_numpy(float), rtol=1e-8)
    assert "Where the model misfits" in _nb_text(small["runs"]["measurement"][1])


def test_structural_mediation_effect_sizes_prediction_match_library(small):
    """The structural notebook's mediation, VIF, f² and prediction sections
    record what the library computes; the measurement notebook the item VIFs."""
    spec = csm.models.acsi()
    pls = csm.fit_pls(spec, small["survey"], scheme="path", missing="mean")
    boot = csm.bootstrap(pls, n_boot=N_BOOT, seed=SEED)
    runs = small["runs"]
    sp = _frame(runs, "structural", "specific_effects").set_index("path")
    lib = boot.specific_effects.set_index("path")
    assert set(sp.index) == set(lib.index) and len(sp) > 0
    for c in ("est", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(sp[c].to_numpy(float), lib.loc[sp.index, c].to_numpy(float), rtol=1e-10)
    med = _frame(runs, "structural", "mediation")
    q = med[(med["x"] == "Quality") & (med["y"] == "Satisfaction")]
    lib_med = csm.mediation(boot, x="Quality", y="Satisfaction")
    assert list(q["effect"]) == list(lib_med["effect"]) and list(q["type"]) == list(lib_med["type"])
    f2 = _frame(runs, "structural", "f_squared")
    np.testing.assert_allclose(f2["f2"].to_numpy(float), csm.f_squared(pls)["f2"].to_numpy(float), rtol=1e-10)
    pred = _frame(runs, "structural", "prediction")
    lib_pred = csm.predict_pls(spec, small["survey"], folds=10, repeats=10, seed=SEED, missing="mean")
    np.testing.assert_allclose(pred["pls_rmse"].to_numpy(float), lib_pred["pls_rmse"].to_numpy(float), rtol=1e-10)
    vif = _frame(runs, "measurement", "outer_vif")
    lib_vif = csm.vif(pls).query("kind == 'outer'")
    np.testing.assert_allclose(vif["vif"].to_numpy(float), lib_vif["vif"].to_numpy(float), rtol=1e-10)


def test_index_drivers_match_library_and_what_is_shown(small):
    values, path = small["runs"]["index_drivers"]
    pls = csm.fit_pls(csm.models.acsi(), small["survey"], scheme="path", missing="mean")
    idx = float(csm.satisfaction_index(pls, construct="Satisfaction"))
    assert values["values"]["index"] == pytest.approx(idx, abs=1e-9)
    boot = csm.bootstrap(pls, n_boot=N_BOOT, seed=SEED).index.set_index("construct")
    assert values["values"]["index_ci_lower"] == pytest.approx(boot.loc["Satisfaction", "ci_lower"], abs=1e-9)
    assert values["values"]["index_ci_upper"] == pytest.approx(boot.loc["Satisfaction", "ci_upper"], abs=1e-9)
    # the sentence shown in the notebook carries the same number
    assert f"Satisfaction index {idx:.1f} (95% CI" in _nb_text(path)
    ipma = _frame(small["runs"], "index_drivers", "ipma").set_index("construct")
    lib = csm.ipma(pls, target="Loyalty").set_index("construct")
    np.testing.assert_allclose(ipma["importance"].to_numpy(float),
                               lib.loc[ipma.index, "importance"].to_numpy(float), rtol=1e-10)


def test_complaints_loyalty_match_metrics(small):
    values, _ = small["runs"]["complaints_loyalty"]
    data = small["survey"].data
    nps = csm.metrics.nps(data["recommend"], scale=(0, 10)).iloc[0]
    assert values["values"]["nps"] == pytest.approx(nps["nps"], abs=1e-12)
    cr = csm.metrics.complaint_rate(data["complained"]).iloc[0]
    assert values["values"]["complaint_rate"] == pytest.approx(cr["rate"], abs=1e-12)


def test_study_report_reads_the_recorded_results(small):
    values, path = small["runs"]["study_report"]
    assert values["values"]["index"] == small["runs"]["index_drivers"][0]["values"]["index"]
    text = _nb_text(path)
    assert "Satisfaction index" in text and "Net Promoter Score" in text
    # every section's estimation notes reach the summary (these data have missing answers)
    notes = values["values"]["estimation_notes"]
    measured = small["runs"]["measurement"][0]["values"]["estimation_notes"]
    assert measured and all(any(x.startswith(n) and "measurement" in x for x in notes) for n in measured)
    assert any("replaced by the item mean" in n for n in notes) and "Estimation notes" in text


def test_gaps_notebook_matches_servqual(tmp_path):
    rng = np.random.default_rng(3)
    n = 80
    e = rng.integers(4, 8, (n, 3))
    p = np.clip(e + rng.integers(-2, 2, (n, 3)), 1, 7)
    df = pd.DataFrame(np.column_stack([e, p]), columns=["e1", "e2", "e3", "p1", "p2", "p3"])
    df.insert(0, "respondent_id", range(1, n + 1))
    df.to_csv(tmp_path / "sq.csv", index=False)
    item = lambda name: {"name": name, "scale": [1, 7]}
    inst = {"name": "sq", "id_column": "respondent_id",
            "constructs": [{"name": "Perception", "items": [item(f"p{i}") for i in (1, 2, 3)]}],
            "other_items": [item(f"e{i}") for i in (1, 2, 3)]}
    (tmp_path / "sq.yml").write_text(yaml.safe_dump(inst), encoding="utf-8")
    values, _ = _run("gaps", tmp_path, data_path=str(tmp_path / "sq.csv"),
                     instrument_path=str(tmp_path / "sq.yml"), model="",
                     expectation_items=["e1", "e2", "e3"], perception_items=["p1", "p2", "p3"],
                     dimensions={"Reliability": ["p1", "p2"], "Empathy": ["p3"]})
    got = results_frame(values, "gaps").rename(columns={"item": "name"}).set_index(["level", "name"])
    ref = csm.servqual.gaps(df, ["e1", "e2", "e3"], ["p1", "p2", "p3"],
                            {"Reliability": ["p1", "p2"], "Empathy": ["p3"]}).set_index(["level", "name"])
    np.testing.assert_allclose(got["gap"].to_numpy(float), ref.loc[got.index, "gap"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(got["pvalue"].to_numpy(float), ref.loc[got.index, "pvalue"].to_numpy(float), rtol=1e-10)


def test_html_reports_hold_no_code_no_parameters_no_personal_data(small):
    pii = [str(v) for v in pd.unique(small["pii"].to_numpy().ravel())]
    for name, (_, path) in small["runs"].items():
        html = notebook_to_html(path.read_text(encoding="utf-8"))
        assert "import csmlib" not in html and "open_run(" not in html, name
        assert "injected-parameters" not in html and "results_path" not in html, name
        hits = [v for v in pii if v in html]
        assert not hits, (name, hits[:3])
        recorded = (small["tmp"] / f"{name}.results.json").read_text(encoding="utf-8")
        assert not [v for v in pii if v in recorded], name


def _weighted_wave(small, tmp_path) -> dict:
    """The small wave with a weight column ``w`` its instrument declares: the run parameters."""
    raw = pd.read_csv(small["params"]["data_path"])
    raw["w"] = np.where(raw["region"] == "North", 2.0, 0.5)
    raw.to_csv(tmp_path / "wave.csv", index=False)
    inst = yaml.safe_load((DEMO / "instrument.yml").read_text(encoding="utf-8"))
    inst["weight_column"] = "w"
    (tmp_path / "instrument.yml").write_text(yaml.safe_dump(inst, allow_unicode=True), encoding="utf-8")
    return {**small["params"], "data_path": str(tmp_path / "wave.csv"),
            "instrument_path": str(tmp_path / "instrument.yml")}


def test_weighted_survey_weights_the_metrics_and_the_model(small, tmp_path):
    params = _weighted_wave(small, tmp_path)
    values, path = _run("complaints_loyalty", tmp_path, **params)
    survey = csm.read_survey(tmp_path / "wave.csv", csm.Instrument.from_yaml(tmp_path / "instrument.yml"))
    weighted = csm.metrics.nps(survey.data["recommend"], weights=survey.weights).iloc[0]["nps"]
    unweighted = csm.metrics.nps(survey.data["recommend"]).iloc[0]["nps"]
    assert abs(weighted - unweighted) > 0.01      # the weights matter on these data
    assert values["values"]["nps"] == pytest.approx(weighted, abs=1e-12)
    rate = csm.metrics.complaint_rate(survey.data["complained"], weights=survey.weights).iloc[0]["rate"]
    assert values["values"]["complaint_rate"] == pytest.approx(rate, abs=1e-12)
    html = notebook_to_html(path.read_text(encoding="utf-8"))
    assert "weighted by" in html
    assert "declares weights" not in html         # PLS uses the weights: nothing to warn about
    # the index of a weighted study is the weighted-PLS index
    values, _ = _run("index_drivers", tmp_path, **params)
    pls = csm.fit_pls(csm.models.acsi(), survey, scheme="path", missing="mean", weights="w")
    idx = float(csm.satisfaction_index(pls, construct="Satisfaction"))
    with pytest.warns(csm.DataWarning, match="declares weights"):
        plain_fit = csm.fit_pls(csm.models.acsi(), survey, missing="mean")
    plain = float(csm.satisfaction_index(plain_fit, "Satisfaction"))
    assert abs(idx - plain) > 0.05
    assert values["values"]["index"] == pytest.approx(idx, abs=1e-9)


def test_structural_notebook_estimates_the_cb_model_with_the_instruments_weights(small, tmp_path):
    params = {**_weighted_wave(small, tmp_path), "n_boot": 50}
    values, path = _run("structural", tmp_path, **params)
    survey = csm.read_survey(tmp_path / "wave.csv", csm.Instrument.from_yaml(tmp_path / "instrument.yml"))
    weighted = csm.fit_cbsem(csm.models.acsi(), survey, missing="fiml", weights="w").fit_indices
    with pytest.warns(csm.errors.DataWarning, match="declares weights"):
        unweighted = csm.fit_cbsem(csm.models.acsi(), survey, missing="fiml").fit_indices
    fit = results_frame(values, "fit").set_index("index")["value"]
    assert abs(weighted["chisq"] - unweighted["chisq"]) > 1   # the weights matter on these data
    for k in ("chisq", "chisq_scaled", "cfi_robust", "rmsea_robust"):
        assert fit[k] == pytest.approx(weighted[k], rel=1e-8)
    notes = values["values"].get("cbsem_estimation_notes") or []
    assert not any("declares weights" in n for n in notes)


def test_suppressed_base_estimates_nothing(small, tmp_path):
    values, path = _run("index_drivers", tmp_path, **{**small["params"], "min_base": 1000})
    assert values["values"]["n"] == 240 and "index" not in values["values"]
    assert "below the minimum base of 1000" in _nb_text(path)


def test_tracking_notebook_accumulates_waves_and_matches_library(tmp_path):
    from csmlib.analysis import tracking

    inst = tmp_path / "instrument.yml"
    shutil.copy(DEMO / "instrument.yml", inst)
    for k in (1, 2):
        pd.read_csv(DEMO / f"wave{k}.csv").groupby("region").head(120).to_csv(tmp_path / f"w{k}.csv", index=False)
    common = {"instrument_path": str(inst), "model": "acsi", "n_boot": N_BOOT, "n_perm": 100,
              "seed": SEED, "scheme": "path", "study": "test", "segment_column": "region"}
    runs = {}
    for k, prev in ((1, ""), (2, str(tmp_path / "W1" / "tracking.results.json"))):
        out = tmp_path / f"W{k}"
        out.mkdir()
        runs[k] = _run("tracking", out, data_path=str(tmp_path / f"w{k}.csv"), wave=f"W{k}",
                       previous_results_path=prev, **common)
    surveys = {k: csm.read_survey(tmp_path / f"w{k}.csv", csm.Instrument.from_yaml(inst)) for k in (1, 2)}
    spec = csm.models.acsi()
    lib = {}
    for k, s in surveys.items():
        boot = csm.bootstrap(csm.fit_pls(spec, s, scheme="path", missing="mean"), n_boot=N_BOOT, seed=SEED,
                             statistics=["estimates", "index"])
        lib[k] = boot
        values = runs[k][0]["values"]
        sat = boot.index.set_index("construct").loc["Satisfaction"]
        assert values["index"] == pytest.approx(sat["index"], abs=1e-9)
        assert values["index_se"] == pytest.approx(sat["se"], abs=1e-9)
        assert values["index_ci_lower"] == pytest.approx(sat["ci_lower"], abs=1e-9)
        rec = results_frame(runs[k][0], "estimates")
        paths = rec[rec.kind == "path"].set_index("construct")
        ref = boot.paths.assign(key=lambda d: d.lhs + " ~ " + d.rhs).set_index("key")
        np.testing.assert_allclose(paths["est"].to_numpy(float), ref.loc[paths.index, "est"].to_numpy(float),
                                   atol=1e-9)
        np.testing.assert_allclose(paths["se"].to_numpy(float), ref.loc[paths.index, "se"].to_numpy(float),
                                   atol=1e-9)
    # the second wave carries the first wave's rows and tests the change
    v1, v2 = runs[1][0]["values"], runs[2][0]["values"]
    assert "change" not in v1
    change = tracking.compare_estimates(v1["index"], v1["index_se"], v2["index"], v2["index_se"])
    assert v2["change"] == pytest.approx(change["diff"], abs=1e-9)
    assert v2["change_pvalue"] == pytest.approx(change["pvalue"], rel=1e-9)
    trend = results_frame(runs[2][0], "trend")
    assert list(dict.fromkeys(trend.wave)) == ["W1", "W2"] and len(trend) == 2 * 15
    # segment league table: each region's own fit and bootstrap
    league = results_frame(runs[2][0], "segments").set_index("segment")
    for region in ("North", "South"):
        part = surveys[2].subset((surveys[2].data.region == region).to_numpy())
        b = csm.bootstrap(csm.fit_pls(spec, part, missing="mean"), n_boot=N_BOOT, seed=SEED, statistics=["index"], n_jobs=1)
        assert league.loc[region, "est"] == pytest.approx(
            b.index.set_index("construct").loc["Satisfaction", "index"], abs=1e-9)
    mic = csm.micom(spec, surveys[2], "region", n_perm=100, seed=SEED, missing="mean")
    rec = results_frame(runs[2][0], "micom").set_index("construct")
    np.testing.assert_allclose(rec["c"].to_numpy(float), mic.compositional.set_index("construct")
                               .loc[rec.index, "c"].to_numpy(float), atol=1e-12)
    perm = results_frame(runs[2][0], "path_differences")
    ref = csm.permutation_test(spec, surveys[2], "region", n_perm=100, seed=SEED, missing="mean").paths
    np.testing.assert_allclose(perm["pvalue"].to_numpy(float), ref["pvalue"].to_numpy(float), atol=1e-12)
    assert f"Satisfaction index {v2['index']:.1f} (95% CI" in _nb_text(runs[2][1])
    html = notebook_to_html(runs[2][1].read_text(encoding="utf-8"))
    assert "import csmlib" not in html and "injected-parameters" not in html


def test_wlsmv_reaches_the_measurement_and_structural_notebooks(small, tmp_path):
    """Issue 18: ``cbsem_estimator: WLSMV`` fits the CB-SEM model on ordered
    items in the structural notebook, and the measurement notebook shows the
    ML and WLSMV solutions side by side (a model without single-item
    constructs: WLSMV cannot identify those, as lavaan)."""
    model = ("Expectation =~ CUEX1 + CUEX2 + CUEX3\nQuality =~ PERQ1 + PERQ2 + PERQ3\n"
             "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\n"
             "Quality ~ Expectation\nSatisfaction ~ Quality + Expectation\nLoyalty ~ Satisfaction")
    params = {**small["params"], "model": model, "n_boot": 50, "cbsem_estimator": "WLSMV"}
    spec = csm.ModelSpec.from_lavaan(model)
    values, _ = _run("measurement", tmp_path, **params)
    assert values["values"]["wlsmv_recommended"] is False        # 10-point demo items
    both = results_frame(values, "estimator_comparison").set_index(["lhs", "op", "rhs"])
    lib = csm.fit_cbsem(spec, small["survey"], estimator="WLSMV", ordered=True).estimates
    lib = lib.set_index(["lhs", "op", "rhs"]).loc[both.index, "std_all"]
    np.testing.assert_allclose(both["WLSMV"].to_numpy(float), lib.to_numpy(float), rtol=1e-8)
    values, _ = _run("structural", tmp_path, **params)
    fit = results_frame(values, "fit").set_index("index")["value"]
    cb = csm.fit_cbsem(spec, small["survey"], estimator="WLSMV", ordered=True, missing="pairwise")
    for k in ("chisq_scaled", "cfi_scaled", "rmsea_scaled", "srmr"):
        assert fit[k] == pytest.approx(cb.fit_indices[k], rel=1e-8)


def _stray_outputs(path: Path) -> list:
    """Values a cell showed only because it was the cell's last expression
    (``execute_result``): the notebooks display everything they mean to show."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(o.get("data", {}).get("text/plain", ""))[:60])
            for i, cell in enumerate(nb["cells"]) for o in cell.get("outputs", [])
            if o["output_type"] == "execute_result"]


def test_no_notebook_shows_an_output_it_did_not_mean_to(small, tmp_path):
    for name, (_, path) in small["runs"].items():
        assert not _stray_outputs(path), (name, _stray_outputs(path))
    # the check finds what it forbids: the stray base a cell ending in record() used to print
    nb = json.loads(small["runs"]["data_quality"][1].read_text(encoding="utf-8"))
    nb["cells"][-1].setdefault("outputs", []).append(
        {"output_type": "execute_result", "data": {"text/plain": "240"}, "metadata": {}, "execution_count": 9})
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(nb), encoding="utf-8")
    assert _stray_outputs(bad) and _stray_outputs(bad)[0][1] == "240"


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_a_chinese_study_writes_every_report_in_chinese(tmp_path, csm_run):
    import re

    pd.read_csv(DEMO / "wave1.csv").head(200).to_csv(tmp_path / "w1.csv", index=False)
    for name in ("instrument.yml", "complaints.csv", "complaints.yml"):
        shutil.copy(DEMO / name, tmp_path / name)
    notebooks = ["data_quality", "measurement", "structural", "index_drivers", "complaints_loyalty",
                 "complaints_log", "feedback", "tracking", "study_design", "study_report"]
    study = {"name": "zh", "instrument": "instrument.yml", "model": "acsi",
             "waves": [{"name": "W1", "data": "w1.csv"}], "notebooks": notebooks,
             "complaints": {"log": "complaints.csv", "codebook": "complaints.yml"},
             "parameters": {"seed": SEED, "n_boot": 50, "plan_reps": 10}, "min_base": 30, "language": "zh",
             "output": str(tmp_path / "runs")}
    code, root, records = csm_run(tmp_path, study)
    assert code == 0, {str(p): r.get("error") for p, r in records.items()}
    assert {r["parameters"]["language"] for r in records.values()} == {"zh"}
    htmls = {p.stem: p.read_text(encoding="utf-8") for p in (root / "W1" / "all").glob("*.html")}
    assert set(htmls) == set(notebooks)
    for name, html_text in htmls.items():
        body = html_text.split("<body", 1)[1]
        headings = [re.sub(r"<[^>]+>", "", h).replace("\u00b6", "").strip()
                    for h in re.findall(r"<h[1-4][^>]*>(.*?)</h[1-4]>", body, flags=re.S)]
        own = [h for h in headings if h and not h.startswith("zh")]   # the run's title is data (study, wave)
        assert own and all(_cjk(h) for h in own), (name, [h for h in own if not _cjk(h)])
        for english in ("respondents", "Estimate", "Std. error", "Key findings", "Base: n", "Improve first",
                        "not a significant", "Importance-performance", "95% CI", "What the bases can show",
                        "detect a change", "Driver paths at this base", "power ", "What the comparisons say",
                        " without ", "Complaint volume", "Key figures", "complaints in the log", "Theme", "Raise ",
                        "missing answer", ">yes<", ">no<", "feedback）", "、feedback"):
            assert english not in body, (name, english)
        assert not re.search(r">\s*(yes|no)\s*</td>", body), name   # table cells say 是 / 否
    # the headline sentence and the findings, with the instrument's Chinese construct label
    values = read_results(root / "W1" / "all" / "index_drivers.results.json")["values"]
    assert f"总体满意度指数 {values['index']:.1f}（95% 置信区间" in htmls["index_drivers"]
    report_html = htmls["study_report"]
    for shown in ("主要发现", "目录", "csm-card", "净推荐值（NPS）", "投诉率", "样本量", "顾客忠诚度的驱动因素",
                  "：重要性", "绩效每提高 1 分"):
        assert shown in report_html, shown
    assert "优先改进" in htmls["index_drivers"]
    assert "估计值" in htmls["structural"] and "题项" in htmls["measurement"]
    design = read_results(root / "W1" / "all" / "study_design.results.json")["values"]
    assert f"全部受访者：样本量 200，可检测到 {design['detectable_change']:.1f} 分及以上的指数变化" \
        in htmls["study_design"]
    for shown in ("每期所需样本量", "总体真值", "卡方差", "BIC 权重", "ACSI（去掉 顾客预期 \u2192 总体满意度）"):
        assert shown in htmls["study_design"], shown
    assert re.search(r"投诉量(平均每月(上升|下降)\d|基本持平)", htmls["complaints_log"])
    # and no notebook of the study showed a value it did not display on purpose
    for path in (root / "W1" / "all").glob("*.ipynb"):
        assert not _stray_outputs(path), (path.stem, _stray_outputs(path))


def test_study_design_plans_from_the_wave_by_hand(small, tmp_path):
    from scipy.stats import norm

    values, path = _run("study_design", tmp_path, **small["params"])
    v = values["values"]
    design = results_frame(values, "design_bases").set_index("segment")
    assert design.loc["all", "n"] == v["n"] == 240
    assert design.loc[["North", "South"], "n"].tolist() == [120, 120]
    # the respondents' index by hand: 100 sum w (x - 1) / sum w (10 - 1), this wave's PLS weights
    pls = csm.fit_pls(csm.models.acsi(), small["survey"], scheme="path", missing="mean")
    from csmlib.analysis.index import raw_weights

    w = raw_weights(pls, "Satisfaction")["Satisfaction"]
    x = small["survey"].data[list(w.index)].to_numpy(float)
    scores = 100 * ((x - 1) @ w.to_numpy()) / (9 * w.sum())
    scores = scores[~np.isnan(scores)]
    assert design.loc["all", "n_scored"] == len(scores)
    assert v["index_sd"] == pytest.approx(np.std(scores, ddof=1), rel=1e-10)
    z = norm.ppf(0.975) + norm.ppf(0.8)
    assert v["detectable_change"] == pytest.approx(z * v["index_sd"] * math.sqrt(2 / 240), rel=1e-10)
    assert v["n_for_change"] == math.ceil(2 * v["index_sd"] ** 2 * z**2 / 2.0**2)
    paths = results_frame(values, "path_min_n")
    one_tailed = norm.ppf(0.95) + norm.ppf(0.8)
    expected = [math.ceil((one_tailed / abs(e)) ** 2) for e in paths["est"]]
    assert paths["min_n_inverse_sqrt"].astype(int).tolist() == expected
    assert "respondents detect a change of" in _nb_text(path)
    html = notebook_to_html(path.read_text(encoding="utf-8"))
    assert "import csmlib" not in html and "injected-parameters" not in html
    for col in ("name", "email"):
        assert not any(str(s) in html for s in small["pii"][col])
    # the competing model: the likelihood-ratio test of the left-out path, by hand from the two fits
    from scipy.stats import chi2

    cmp = results_frame(values, "model_comparison")
    assert list(cmp["model"]) == ["ACSI", "ACSI without Expectation -> Satisfaction"]
    diff = cmp["chisq"].iloc[1] - cmp["chisq"].iloc[0]
    assert cmp["chisq_diff"].iloc[1] == pytest.approx(diff, rel=1e-9) and cmp["df_diff"].iloc[1] == 1
    assert cmp["pvalue"].iloc[1] == pytest.approx(chi2.sf(diff, 1), rel=1e-9)
    pls_cmp = results_frame(values, "model_comparison_pls")
    assert set(pls_cmp["construct"]) == {"Satisfaction"} and pls_cmp["bic_weight"].sum() == pytest.approx(1.0)
    # the driver paths' power: simulated at this base and at the base the target change needs
    pw = results_frame(values, "path_power")
    assert sorted(set(pw["n"])) == sorted({240, v["n_for_change"]})
    assert pw["power"].between(0, 1).all() and (pw.groupby("n")["power"].mean().diff().dropna() >= 0).all()
    # a segment's own run plans that segment
    (tmp_path / "north").mkdir()
    seg, _ = _run("study_design", tmp_path / "north", **{**small["params"], "segment": "North",
                                                         "segment_value": "North"})
    first = results_frame(seg, "design_bases").iloc[0]
    assert first["segment"] == "North" and first["n"] == 120


def test_study_design_compares_ecsi_with_its_acsi_style_restriction(tmp_path):
    values, _ = _run("study_design", tmp_path, data_path=str(ROOT / "data" / "mobi" / "mobi.csv"),
                     instrument_path=str(ROOT / "data" / "mobi" / "instrument.yml"), segment_column="",
                     model="acsi", study="mobi", wave="W1")
    cmp = results_frame(values, "model_comparison")
    assert list(cmp["model"])[2:] == ["ECSI", "ECSI, image only through expectations"]
    assert cmp["df_diff"].iloc[3] == 2 and cmp["nested"].iloc[3] == "checked"
    assert set(results_frame(values, "design_bases")["segment"]) == {"all"}
