"""Ordered items: polychoric correlations, thresholds and NACOV against lavaan
(data/references/make_r_references_ordinal.R), and WLSMV fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.estimate.polychoric import bivariate_normal_cdf, polychoric

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "references"


def _data(name: str) -> pd.DataFrame:
    if name == "mobi":
        return pd.read_csv(ROOT / "data" / "mobi" / "mobi.csv")
    if name == "acsi5_recoded":      # written by make_r_references_ordinal.R from acsi5.csv
        return pd.read_csv(ROOT / "data" / "ordinal" / "acsi5_recoded.csv")
    return pd.read_csv(ROOT / "data" / "ordinal" / f"{name}.csv")


def _matrix(tag: str, kind: str) -> pd.DataFrame:
    long = pd.read_csv(REF / f"ordinal_{tag}_{kind}.csv")
    return long.pivot(index="row", columns="col", values="value")


# ---------------------------------------------------------------------------
# the bivariate normal distribution function
# ---------------------------------------------------------------------------
def test_bivariate_normal_cdf_matches_scipy_in_every_regime():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(5)
    for r in (-0.999, -0.95, -0.6, -0.1, 0.0, 0.2, 0.5, 0.8, 0.93, 0.99):
        h, k = rng.normal(scale=1.5, size=(2, 5))
        mine = bivariate_normal_cdf(h, k, r)
        ref = [multivariate_normal([0, 0], [[1, r], [r, 1]], abseps=1e-12, releps=1e-12).cdf([a, b])
               for a, b in zip(h, k)]
        assert_allclose(mine, ref, atol=1e-10)
    assert_allclose(bivariate_normal_cdf([np.inf, -np.inf, 0.3], [0.3, 1.0, np.inf], 0.4),
                    [0.6179114221889527, 0.0, 0.6179114221889527], atol=1e-12)


# ---------------------------------------------------------------------------
# polychoric correlations against lavCor
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("tag, data, missing", [
    ("acsi5", "acsi5", "listwise"),
    ("acsi5_pairwise", "acsi5_missing", "pairwise"),
    ("mobi", "mobi", "listwise"),
])
def test_polychoric_and_thresholds_match_lavcor(tag, data, missing):
    d = _data(data)
    pc = csm.polychoric(d, missing=missing, gamma=False)
    ref = _matrix(tag, "polychoric").loc[d.columns, d.columns]
    assert_allclose(pc.correlation.to_numpy(), ref.to_numpy(), atol=1e-4)
    th = pd.read_csv(REF / f"ordinal_{tag}_thresholds.csv")
    assert list(pc.thresholds["item"]) == list(th["item"])
    assert list(pc.thresholds["threshold"]) == list(th["threshold"])
    assert_allclose(pc.thresholds["est"], th["est"], atol=1e-4)
    assert pc.gamma is None


@pytest.mark.parametrize("tag, data, missing", [
    ("acsi5_six", "acsi5", "listwise"),
    ("acsi5_six_pairwise", "acsi5_missing", "pairwise"),
])
def test_nacov_and_dwls_weights_match_lavaan(tag, data, missing):
    d = _data(data).iloc[:, :6]
    pc = polychoric(d, missing=missing)
    ref = _matrix(tag, "gamma").loc[pc.gamma.index, pc.gamma.columns]
    assert_allclose(pc.gamma.to_numpy(), ref.to_numpy(), atol=1e-4 * np.abs(ref.to_numpy()).max())
    wlsv = pd.read_csv(REF / f"ordinal_{tag}_wlsv.csv")
    assert list(wlsv["name"]) == list(pc.sample_statistics.index)
    assert_allclose(1 / np.diag(pc.gamma.to_numpy()), wlsv["wls_v"], rtol=1e-4)


def test_polyserial_and_pearson_nacov_match_lavaan():
    d = _data("acsi5")[["CUEX1", "CUSA1", "CUEX2", "CUSA2", "CUEX3", "CUSA3"]]
    pc = polychoric(d, continuous=["CUSA1", "CUSA2", "CUSA3"])
    obs = pd.read_csv(REF / "ordinal_mixed_wls_obs.csv")
    assert list(pc.sample_statistics.index) == list(obs["name"])
    assert_allclose(pc.sample_statistics.to_numpy(), obs["value"], atol=1e-4)
    ref = _matrix("mixed", "gamma").loc[pc.gamma.index, pc.gamma.columns].to_numpy()
    assert_allclose(pc.gamma.to_numpy(), ref, atol=1e-4 * np.abs(ref).max())


def test_pairwise_uses_every_answer():
    d = _data("acsi5_missing")
    pw = polychoric(d, missing="pairwise", gamma=False)
    lw = polychoric(d, missing="listwise", gamma=False)
    assert pw.n_obs == len(d) and lw.n_obs == int(d.notna().all(axis=1).sum())
    assert pw.pair_n.loc["CUEX1", "CUEX2"] == int(d[["CUEX1", "CUEX2"]].notna().all(axis=1).sum())


def test_binary_and_three_category_items_match_lavcor():
    d = _data("acsi5_recoded")
    with pytest.warns(csm.EstimationWarning, match="one empty cell"):
        pc = polychoric(d)
    ref = _matrix("recoded", "polychoric").loc[d.columns, d.columns]
    ours = pc.correlation
    sparse = {("b1", "b_sparse"), ("b2", "b_sparse")}   # one empty cell: lavaan ends at its bound 0.999
    for a in d.columns:
        for b in d.columns:
            if (a, b) in sparse or (b, a) in sparse:
                assert ref.loc[a, b] == 0.999 and 0.9 < ours.loc[a, b] < 0.999
            else:
                assert ours.loc[a, b] == pytest.approx(ref.loc[a, b], abs=1e-4), (a, b)
    th = pd.read_csv(REF / "ordinal_recoded_thresholds.csv")
    assert_allclose(pc.thresholds["est"], th["est"], atol=1e-4)
    keep = [k for k in pc.gamma.index if "b_sparse" not in k]
    G = _matrix("recoded", "gamma").loc[keep, keep].to_numpy()
    assert_allclose(pc.gamma.loc[keep, keep].to_numpy(), G, atol=1e-4 * np.abs(G).max())


def test_two_by_two_tables_as_lavaan():
    # lavaan: one empty cell -> 0.5 moved in keeping the margins; two empty -> +-1
    rng = np.random.default_rng(3)
    z = rng.normal(size=(400, 2)) @ np.linalg.cholesky([[1, 0.5], [0.5, 1]]).T
    d = pd.DataFrame((z > [0.3, -0.2]).astype(int), columns=["a", "b"])
    r = polychoric(d, gamma=False).correlation.loc["a", "b"]
    assert 0.3 < r < 0.7
    perfect = pd.DataFrame({"a": [0, 0, 1, 1, 1], "b": [0, 0, 1, 1, 1]})
    assert polychoric(perfect, gamma=False).correlation.loc["a", "b"] == 1.0


def test_bad_ordered_items_are_refused():
    d = _data("acsi5").iloc[:, :3].copy()
    with pytest.raises(csm.DataError, match="at most 10"):
        polychoric(d.assign(CUEX1=np.arange(len(d)) % 12))
    with pytest.raises(csm.DataError, match="fewer than two"):
        polychoric(d.assign(CUEX1=3))
    with pytest.raises(csm.DataError, match="not numeric"):
        polychoric(d.assign(CUEX1="x"))
    with pytest.raises(csm.DataError, match="not in the data"):
        polychoric(d, columns=["CUEX1", "nope"])
    with pytest.raises(csm.SpecError, match="pairwise"):
        polychoric(d, missing="fiml")


# ---------------------------------------------------------------------------
# WLSMV / DWLS / ULS fits against lavaan's sem(..., ordered = TRUE)
# ---------------------------------------------------------------------------
MOBI_ITEMS = ["CUEX1", "CUEX2", "CUEX3"] + [f"PERQ{i}" for i in range(1, 8)] + [
    "PERV1", "PERV2", "CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL3"]
FITS = [
    ("acsi5_wlsmv", "acsi5", "acsi5", "WLSMV", "listwise"),
    ("acsi5_dwls", "acsi5", "acsi5", "DWLS", "listwise"),
    ("acsi5_uls", "acsi5", "acsi5", "ULS", "listwise"),
    ("acsi5_pairwise_wlsmv", "acsi5", "acsi5_missing", "WLSMV", "pairwise"),
    ("mobi_wlsmv", "mobi", "mobi", "WLSMV", "listwise"),
    ("acsi5_mixed_wlsmv", "acsi5", "acsi5", "WLSMV", "listwise"),   # CUSA1-3 continuous
]
_FIT_CACHE: dict = {}


def _ordered_fit(tag, model, data, estimator, missing):
    if tag not in _FIT_CACHE:
        spec = csm.ModelSpec.from_lavaan((REF / f"ordinal_{model}.lav").read_text())
        d = _data(data)
        if model == "mobi":
            d = d[MOBI_ITEMS]
        ordered = [c for c in d.columns if not c.startswith("CUSA")] if "mixed" in tag else True
        _FIT_CACHE[tag] = csm.fit_cbsem(spec, d, estimator=estimator, missing=missing, ordered=ordered)
    return _FIT_CACHE[tag]


@pytest.mark.parametrize("tag, model, data, estimator, missing", FITS)
def test_ordered_estimates_match_lavaan(tag, model, data, estimator, missing):
    res = _ordered_fit(tag, model, data, estimator, missing)
    assert res.converged
    ref = pd.read_csv(REF / f"ordinal_{tag}_params.csv").fillna({"label": "", "rhs": ""})
    ours = res.estimates
    m = ref.merge(ours, on=["lhs", "op", "rhs"], suffixes=("_lavaan", ""), how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "_merge"]]
    assert_allclose(m["est"], m["est_lavaan"], atol=1e-3)
    assert_allclose(m["se"], m["se_lavaan"], atol=1e-3)
    assert_allclose(m["std_all"], m["std.all"], atol=1e-3)
    th = ours[ours["op"] == "|"]
    assert len(th) and th["rhs"].str.fullmatch(r"t\d+").all()
    r2 = pd.read_csv(REF / f"ordinal_{tag}_r2.csv").set_index("variable")["r2"]
    assert_allclose(res.r2.to_numpy(), r2[res.r2.index].to_numpy(), atol=1e-3)


@pytest.mark.parametrize("tag, model, data, estimator, missing", FITS)
def test_ordered_fit_indices_match_lavaan(tag, model, data, estimator, missing):
    res = _ordered_fit(tag, model, data, estimator, missing)
    ref = pd.read_csv(REF / f"ordinal_{tag}_fit.csv").set_index("measure")["value"]
    fi = res.fit_indices
    names = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr",
             "baseline_chisq", "baseline_df", "npar"]
    if estimator == "WLSMV":
        names += ["chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor", "baseline_chisq_scaled",
                  "baseline_df_scaled", "baseline_chisq_scaling_factor", "cfi_scaled", "tli_scaled",
                  "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled"]
    else:
        assert "chisq_scaled" not in fi.index
    for name in names:
        want = ref[name.replace("_", ".") if name != "rmsea_ci_lower_scaled" else "rmsea.ci.lower.scaled"]
        if np.isnan(want):
            assert np.isnan(fi[name]), name
        else:
            assert fi[name] == pytest.approx(want, abs=1e-3, rel=1e-6), name
    assert np.isnan(fi["aic"]) and np.isnan(fi["logl"])


def test_mixed_fit_records_and_refits_only_its_ordered_items():
    # the continuous CUSA items stay continuous in options and in a refit (the bootstrap's):
    # they used to be recorded as ordered, and a refit estimated another model (their thresholds)
    res = _ordered_fit(*FITS[5])
    assert res.options["ordered"] == tuple(c for c in _data("acsi5").columns if not c.startswith("CUSA"))
    again = res.refit(_data("acsi5"))
    assert not (again.estimates["op"].eq("|") & again.estimates["lhs"].str.startswith("CUSA")).any()
    np.testing.assert_allclose(again.estimates["est"].to_numpy(), res.estimates["est"].to_numpy(), atol=1e-8)


def test_mobi_misfit_is_seen_by_the_scaled_test():
    # the real data misfit: the scaled RMSEA is far from 0 (a test that cannot pass by chisq < df)
    res = _ordered_fit(*FITS[4])
    assert res.fit_indices["rmsea_scaled"] > 0.08 and res.fit_indices["pvalue_scaled"] < 1e-6


def test_ordered_fits_refuse_what_they_do_not_match():
    spec = csm.ModelSpec.from_lavaan((REF / "ordinal_acsi5.lav").read_text())
    d = _data("acsi5")
    with pytest.raises(csm.SpecError, match="pairwise.*continuous"):
        csm.fit_cbsem(spec, d, estimator="WLSMV", ordered=["CUEX1", "CUEX2"], missing="pairwise")
    with pytest.raises(csm.SpecError, match="multi-group"):
        csm.fit_cbsem(spec, d.assign(g=np.arange(len(d)) % 2), estimator="WLSMV", ordered=["CUEX1"], group="g")
    with pytest.raises(csm.SpecError, match="not variables of the model"):
        csm.fit_cbsem(spec, d, estimator="WLSMV", ordered=["CUEX1", "nope"])
    with pytest.raises(csm.SpecError, match="WLSMV, DWLS or ULS"):
        csm.fit_cbsem(spec, d, ordered=True)
    with pytest.raises(csm.SpecError, match="survey weights"):
        csm.fit_cbsem(spec, d.assign(w=1.0), estimator="WLSMV", weights="w", ordered=True)
    with pytest.raises(csm.SpecError, match="not available for ordered"):
        csm.fit_cbsem(spec, d, estimator="WLSMV", missing="fiml", ordered=True)
    with pytest.raises(csm.SpecError, match="ordered items only"):
        csm.fit_cbsem(spec, d, estimator="WLSMV")
    reg = csm.ModelSpec.from_lavaan("F =~ CUEX1 + CUEX2 + CUEX3\nF ~ PERQ1")
    with pytest.raises(csm.SpecError, match="observed covariates"):
        csm.fit_cbsem(reg, d, estimator="WLSMV", ordered=True)
    outcome = csm.ModelSpec.from_lavaan("F =~ CUEX1 + CUEX2 + CUEX3\nCUSA1 ~ F")
    with pytest.raises(csm.SpecError, match="only be indicators"):
        csm.fit_cbsem(outcome, d, estimator="WLSMV", ordered=True)
    with pytest.raises(csm.DataError, match="at most 10"):
        csm.fit_cbsem(spec, d.assign(CUEX1=np.arange(len(d)) % 11), estimator="WLSMV", ordered=True)


# ---------------------------------------------------------------------------
# recovery: WLSMV finds the latent loadings that ML attenuates
# ---------------------------------------------------------------------------
def _generator():
    import importlib.util

    sp = importlib.util.spec_from_file_location("make_acsi5", ROOT / "data" / "ordinal" / "make_acsi5.py")
    mod = importlib.util.module_from_spec(sp)
    sp.loader.exec_module(mod)
    return mod


def test_bundled_acsi5_is_the_generators_output():
    mod = _generator()
    complete, incomplete = mod.make()
    pd.testing.assert_frame_equal(_data("acsi5"), complete, check_dtype=False)
    pd.testing.assert_frame_equal(_data("acsi5_missing"), incomplete.astype(float), check_dtype=False)
    assert (ROOT / "data" / "ordinal" / "acsi5.lav").read_text() == mod.MODEL
    assert csm.ModelSpec.from_lavaan((REF / "ordinal_acsi5.lav").read_text()).to_lavaan() == \
        csm.ModelSpec.from_lavaan(mod.MODEL).to_lavaan()


def test_wlsmv_recovers_latent_loadings_that_ml_attenuates():
    mod = _generator()
    d = mod.discretise(mod.latent_responses(5000, np.random.default_rng(7)))
    spec = csm.ModelSpec.from_lavaan(mod.MODEL)
    wlsmv = csm.fit_cbsem(spec, d, estimator="WLSMV", ordered=True).estimates.set_index(["lhs", "op", "rhs"])
    ml = csm.fit_cbsem(spec, d).estimates.set_index(["lhs", "op", "rhs"])
    truth = {(c, "=~", f"{mod.PREFIX[c]}{k}"): lam for c in mod.CONSTRUCTS
             for k, lam in enumerate(mod.LOADINGS[c], start=1)}
    err_w = np.array([wlsmv.loc[key, "std_all"] - lam for key, lam in truth.items()])
    err_ml = np.array([ml.loc[key, "std_all"] - lam for key, lam in truth.items()])
    assert np.abs(err_w).max() < 0.05 and abs(err_w.mean()) < 0.015        # SE about 0.01 at n = 5000
    assert (err_ml < 0).all() and err_ml.mean() < -0.03                      # ML on the codes: attenuated
    paths = {(o, "~", p): b for (o, p), b in mod.PATHS.items()}
    assert max(abs(wlsmv.loc[key, "std_all"] - b) for key, b in paths.items()) < 0.08


def test_an_ordered_fit_refits_as_itself_and_refuses_ml_only_tools():
    res = _ordered_fit(*FITS[0])
    again = res.refit(_data("acsi5").iloc[:400])
    assert again.options["estimator"] == "WLSMV" and (again.estimates["op"] == "|").any()
    with pytest.raises(csm.SpecError, match="batched"):
        csm.bootstrap(res, n_boot=2, seed=1, engine="batched")
    with pytest.raises(csm.SpecError, match="ordered-item fit"):
        csm.modification_indices(res)
    with pytest.raises(csm.SpecError, match="ordered-item fit"):
        csm.residuals(res)


# ---------------------------------------------------------------------------
# several groups: lavaan's group.equal with thresholds (delta parameterization)
# ---------------------------------------------------------------------------
INVARIANCE_STEPS = {"configural": (), "thresholds": ("thresholds",), "metric": ("thresholds", "loadings"),
                    "scalar": ("thresholds", "loadings", "intercepts")}


def _halves() -> pd.DataFrame:
    d = _data("acsi5")[["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL2", "CUSL3"]]
    return d.assign(half=np.where(np.arange(len(d)) % 2 == 0, "a", "b"))   # R: rep(c("a", "b"), 400)


@pytest.mark.parametrize("step", list(INVARIANCE_STEPS))
def test_multigroup_ordered_fits_match_lavaan(step):
    spec = csm.ModelSpec.from_lavaan((REF / "ordinal_invariance.lav").read_text())
    res = csm.fit_cbsem(spec, _halves(), estimator="WLSMV", ordered=True, group="half",
                        group_equal=INVARIANCE_STEPS[step])
    assert res.converged
    ref = pd.read_csv(REF / f"ordinal_invariance_{step}_params.csv").fillna({"label": "", "rhs": ""})
    m = ref.merge(res.estimates, on=["lhs", "op", "rhs", "group"], suffixes=("_lavaan", ""), how="outer",
                  indicator=True)
    assert (m["_merge"] == "both").all()
    for col, ref_col in (("est", "est_lavaan"), ("se", "se_lavaan"), ("std_all", "std.all")):
        assert_allclose(m[col], m[ref_col], atol=1e-3, err_msg=col)
    fit = pd.read_csv(REF / f"ordinal_invariance_{step}_fit.csv").set_index("measure")["value"]
    for name in ("chisq", "df", "npar", "chisq_scaled", "chisq_scaling_factor", "baseline_chisq",
                 "baseline_chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea", "rmsea_scaled",
                 "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "srmr"):
        assert res.fit_indices[name] == pytest.approx(fit[name.replace("_", ".")], abs=1e-3), name


def test_ordered_invariance_ladder_matches_lavaan():
    spec = csm.ModelSpec.from_lavaan((REF / "ordinal_invariance.lav").read_text())
    tab = csm.measurement_invariance(spec, _halves(), "half", ordered=True).set_index("step")
    assert list(tab.index) == ["configural", "thresholds", "metric", "scalar"]
    for step in tab.index:
        fit = pd.read_csv(REF / f"ordinal_invariance_{step}_fit.csv").set_index("measure")["value"]
        for ours, theirs in (("chisq", "chisq.scaled"), ("df", "df"), ("cfi", "cfi.scaled"),
                             ("rmsea", "rmsea.scaled"), ("chisq_pvalue", "pvalue.scaled")):
            assert tab.loc[step, ours] == pytest.approx(fit[theirs], abs=1e-3), (step, ours)
    lrt = pd.read_csv(REF / "ordinal_invariance_lrt.csv").set_index("step")
    for step in ("thresholds", "metric"):
        assert tab.loc[step, "delta_chisq"] == pytest.approx(lrt.loc[step, "delta_chisq"], abs=1e-3)
        assert tab.loc[step, "delta_df"] == lrt.loc[step, "delta_df"]
        assert tab.loc[step, "pvalue"] == pytest.approx(lrt.loc[step, "pvalue"], abs=1e-4)
    assert tab["holds"].all()                   # random halves of one population
    assert tab.loc["scalar", "delta_df"] == 0 and "fixed at 0" in tab.loc["scalar", "verdict"]


# ---------------------------------------------------------------------------
# the workbench: study parameter, the measurement notebook's advice
# ---------------------------------------------------------------------------
def test_single_ordered_item_constructs_are_refused_as_lavaan_cannot_estimate_them():
    spec = csm.ModelSpec.from_lavaan("S =~ CUSA1 + CUSA2 + CUSA3\nC =~ CUEX1\nC ~ S")
    with pytest.raises(csm.SpecError, match="single ordered item: C"):
        csm.fit_cbsem(spec, _data("acsi5"), estimator="WLSMV", ordered=True)


def test_ordinal_candidates_need_few_categories_and_a_ceiling():
    from csmlib.analysis.quality import ordinal_candidates

    desc = pd.DataFrame({"top_box": [0.62, 0.62, 0.20, 0.70], "scale_min": [1, 1, 1, 0],
                         "scale_max": [5, 10, 5, 1]}, index=["a", "b", "c", "yesno"])
    out = ordinal_candidates(desc).set_index("item")
    assert out["candidate"].to_dict() == {"a": True, "b": False, "c": False, "yesno": False}
    assert out.loc["b", "categories"] == 10 and out.loc["b", "ceiling"]


def test_scaled_indices_judge_a_wlsmv_fit():
    res = _ordered_fit(*FITS[4])
    table = csm.report.fit_assessment(res.fit_indices).set_index("index")
    assert {"cfi_scaled", "tli_scaled", "rmsea_scaled"} <= set(table.index)
    assert "scaled RMSEA" in csm.report.fit_finding(res.fit_indices)
    both = csm.report.side_by_side({"WLSMV": res, "again": res})
    assert list(both.columns) == ["lhs", "op", "rhs", "WLSMV", "again"]
    assert set(both["op"]) == {"=~", "~"} and (both["WLSMV"] == both["again"]).all()


def test_run_fits_cbsem_with_the_study_estimator():
    from csmlib.run.notebook import open_run

    model = "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Satisfaction"
    run = open_run(str(ROOT / "data/demo/wave1.csv"), str(ROOT / "data/demo/instrument.yml"), model=model,
                   study="s", wave="w")
    wl = run.fit_cbsem("WLSMV", "fiml")
    assert wl.options["estimator"] == "WLSMV" and wl.options["missing"] == "pairwise" and wl.converged
    assert run.fit_cbsem("ML", "listwise").options["estimator"] == "ML"
    with pytest.raises(csm.StudyError, match="ML', 'MLR' or 'WLSMV'"):
        run.fit_cbsem("GLS")


def test_study_checks_the_cbsem_estimator_early(tmp_path):
    from csmlib.run.study import _check_against_instrument

    inst = ROOT / "data/demo/instrument.yml"
    with pytest.raises(csm.StudyError, match="cbsem_estimator"):
        _check_against_instrument(inst, "acsi", None, {"cbsem_estimator": "WLS"}, tmp_path / "s.yml")
    with pytest.raises(csm.StudyError, match="measured by one item: Complaints"):
        _check_against_instrument(inst, "acsi", None, {"cbsem_estimator": "WLSMV"}, tmp_path / "s.yml")
    _check_against_instrument(inst, "acsi", None, {"cbsem_estimator": "MLR"}, tmp_path / "s.yml")


def test_multigroup_ordered_fit_records_dropped_rows_and_refits_by_group():
    spec = csm.ModelSpec.from_lavaan((REF / "ordinal_invariance.lav").read_text())
    d = _halves()
    d.loc[:9, "half"] = None
    res = csm.fit_cbsem(spec, d, estimator="WLSMV", ordered=True, group="half", group_equal="thresholds")
    assert res.data_info["dropped"] == {"group missing": 10} and res.n_obs == len(d) - 10
    again = res.refit(d.iloc[::2].reset_index(drop=True).assign(half=np.where(np.arange(400) % 4 < 2, "a", "b")))
    assert again.options["group"] == "half" and again.options["group_equal"] == ("thresholds",)
    assert "group" in again.estimates.columns
