"""CB-SEM, invariance, measurement quality and bootstrap intervals against
lavaan 0.6.14, semTools 0.5.6, psych 2.2.9 and boot 1.3.28, run by
data/references/make_r_references.R
(the reference CSVs and their provenance are in data/references/README.md).

lavaan's own numbers are stored at full precision, so the tolerances here are
those of two optimizers that stop at slightly different points (1e-4 on
estimates and standard errors), far inside the 1e-3 the issues ask for.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.estimate.bootstrapping import bca_interval, percentile_interval
from csmlib.estimate.cbsem import fit_cbsem
from csmlib.errors import EstimationWarning
from csmlib.analysis.invariance import measurement_invariance
from csmlib.analysis.measurement import htmt, reliability
from csmlib.spec import ModelSpec, Relation

DATA = Path(__file__).resolve().parents[1] / "data"
REF = DATA / "references"
HS_TEXT = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

# The R script's SEM of the plspm satisfaction model (indirect and total
# effects as defined parameters), from the file both read.
SAT_SEM = (REF / "satisfaction_sem.lav").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sat():
    return pd.read_csv(DATA / "satisfaction" / "satisfaction.csv")


@pytest.fixture(scope="module")
def pdem():
    return pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")


def _params(name: str) -> pd.DataFrame:
    p = pd.read_csv(REF / name)
    return p[p["op"] != "~1"].reset_index(drop=True)


def _fit_table(name: str) -> pd.Series:
    f = pd.read_csv(REF / name).set_index("measure")["value"]
    f.index = [k.replace(".", "_") for k in f.index]
    return f


def _merge(ref: pd.DataFrame, est: pd.DataFrame) -> pd.DataFrame:
    m = ref.merge(est, on=["lhs", "op", "rhs"], how="left", suffixes=("_ref", ""))
    assert m["est"].notna().all(), m.loc[m["est"].isna(), ["lhs", "op", "rhs"]]
    return m


def _check_params(m: pd.DataFrame, se_col: str = "se_ref", atol: float = 1e-4) -> None:
    assert_allclose(m["est"], m["est_ref"], atol=atol)
    free = m[se_col] > 0
    assert_allclose(m.loc[free, "se"], m.loc[free, se_col], atol=atol)
    std = m["std.all"].notna() & (m["op"] != ":=")
    assert_allclose(m.loc[std, "std_all"], m.loc[std, "std.all"], atol=atol)


def _check_fit(ours: pd.Series, ref: pd.Series, names, rtol: float = 1e-6, atol: float = 1e-6):
    for k in names:
        assert ours[k] == pytest.approx(ref[k], rel=rtol, abs=atol), k


# ---------------------------------------------------------------------------
# measurement invariance: lavaan's group.equal ladder
# ---------------------------------------------------------------------------
def _cfa(spec: ModelSpec) -> ModelSpec:
    return ModelSpec(constructs=spec.constructs,
                     relations=tuple(Relation(c.name, "=~", x)
                                     for c in spec.constructs for x in c.indicators))


@pytest.mark.parametrize("dataset, spec, group", [
    ("holzinger", ModelSpec.from_lavaan(HS_TEXT), "school"),
    ("satisfaction", _cfa(csm.models.satisfaction_model()), "gender"),
])
def test_invariance_ladder_matches_lavaan(dataset, spec, group, sat):
    data = sat if dataset == "satisfaction" else pd.read_csv(
        DATA / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    ref = pd.read_csv(REF / f"{dataset}_invariance_lavaan.csv").set_index("step")
    got = measurement_invariance(spec, data, group).set_index("step")
    assert got["converged"].all()
    for step in ("configural", "metric", "scalar"):
        assert got.loc[step, "df"] == ref.loc[step, "df"]
        for ours, theirs in [("chisq", "chisq"), ("cfi", "cfi"), ("tli", "tli"),
                             ("rmsea", "rmsea"), ("rmsea_ci_lower", "rmsea.ci.lower"),
                             ("rmsea_ci_upper", "rmsea.ci.upper")]:
            assert got.loc[step, ours] == pytest.approx(ref.loc[step, theirs], abs=1e-5), (step, ours)
    for step in ("metric", "scalar"):
        assert got.loc[step, "delta_chisq"] == pytest.approx(ref.loc[step, "delta_chisq"], abs=1e-5)
        assert got.loc[step, "delta_df"] == ref.loc[step, "delta_df"]
        assert got.loc[step, "pvalue"] == pytest.approx(ref.loc[step, "delta_pvalue"], rel=1e-4)


def test_partial_invariance_matches_lavaan_group_partial():
    data = pd.read_csv(DATA / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    res = fit_cbsem(ModelSpec.from_lavaan(HS_TEXT), data, group="school",
                    group_equal=("loadings", "intercepts"),
                    group_partial=[("intercepts", "x3"), ("intercepts", "x7")])
    ref = _fit_table("holzinger_partial_lavaan.csv")
    fit = res.fit_indices
    assert res.converged and fit["df"] == ref["df"]
    for k in ("chisq", "cfi", "rmsea"):
        assert fit[k] == pytest.approx(ref[k], abs=1e-5), k


# ---------------------------------------------------------------------------
# one-group CB-SEM: estimates, SEs, standardized solution, defined parameters,
# effects, fit, robust SEs
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sat_fit(sat):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        return fit_cbsem(ModelSpec.from_lavaan(SAT_SEM), sat)


def test_satisfaction_sem_matches_lavaan(sat_fit):
    ref = _params("satisfaction_sem_lavaan_params.csv")
    m = _merge(ref, sat_fit.estimates)
    assert len(sat_fit.estimates) == len(ref)
    _check_params(m, atol=2e-4)
    fit = _fit_table("satisfaction_sem_lavaan_fit.csv")
    _check_fit(sat_fit.fit_indices, fit, ["df", "baseline_chisq", "baseline_df"])
    _check_fit(sat_fit.fit_indices, fit, ["chisq", "cfi", "tli", "rmsea", "rmsea_ci_lower",
                                          "rmsea_ci_upper", "srmr", "aic", "bic", "logl"],
               rtol=1e-6, atol=1e-5)


def test_effects_equal_lavaan_defined_indirect_and_total_effects(sat_fit):
    ref = _params("satisfaction_sem_lavaan_params.csv")
    ref = ref[ref["op"] == ":="].set_index("lhs")
    eff = sat_fit.effects.set_index(["lhs", "rhs"])
    for name, row in ref.iterrows():
        kind, pred, out = name.split("_")
        col = "indirect" if kind == "ind" else "total"
        assert eff.loc[(out, pred), col] == pytest.approx(row["est"], abs=1e-4), name
        assert eff.loc[(out, pred), f"{col}_se"] == pytest.approx(row["se"], abs=2e-4), name


def test_robust_standard_errors_match_lavaan(sat, pdem):
    # lavaan se = "robust.huber.white", information = "expected"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = fit_cbsem(ModelSpec.from_lavaan(SAT_SEM), sat, robust=True)
    m = _merge(_params("satisfaction_sem_lavaan_params.csv"), res.estimates)
    free = m["se_robust"] > 0
    assert_allclose(m.loc[free, "se"], m.loc[free, "se_robust"], atol=2e-4)
    res = fit_cbsem(csm.models.political_democracy(), pdem, robust=True)
    m = _merge(_params("political_democracy_robust_lavaan.csv"), res.estimates)
    free = m["se_ref"] > 0
    assert_allclose(m["est"], m["est_ref"], atol=1e-4)
    assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], atol=1e-4)


# ---------------------------------------------------------------------------
# full-information ML (lavaan missing = "ml")
# ---------------------------------------------------------------------------
FIT_NAMES = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
             "srmr", "aic", "bic", "logl", "baseline_chisq", "baseline_df"]


def test_fiml_with_missing_values_matches_lavaan():
    data = pd.read_csv(REF / "holzinger_missing_data.csv")
    assert data.isna().any(axis=1).sum() > 80  # the rule deleted values in many rows
    res = fit_cbsem(ModelSpec.from_lavaan(HS_TEXT), data, missing="fiml")
    assert res.n_obs == len(data) and res.converged
    m = _merge(_params("holzinger_fiml_lavaan_params.csv"), res.estimates)
    _check_params(m)  # SEs: observed information, lavaan's default with missing = "ml"
    _check_fit(res.fit_indices, _fit_table("holzinger_fiml_lavaan_fit.csv"), FIT_NAMES, atol=1e-5)


def test_fiml_on_complete_data_matches_lavaan(pdem):
    res = fit_cbsem(csm.models.political_democracy(), pdem, missing="fiml")
    m = _merge(_params("political_democracy_fiml_lavaan_params.csv"), res.estimates)
    _check_params(m)
    _check_fit(res.fit_indices, _fit_table("political_democracy_fiml_lavaan_fit.csv"), FIT_NAMES,
               atol=1e-5)


@pytest.mark.parametrize("missing, ref", [("listwise", "listwise"), ("fiml", "ml")])
def test_the_demo_acsi_model_matches_lavaan(missing, ref):
    # the product's own model on the product's own (cleaned) demo data
    survey = csm.read_survey(DATA / "demo" / "wave1.csv",
                             csm.Instrument.from_yaml(DATA / "demo" / "instrument.yml"))
    items = list(csm.models.acsi().indicators)
    written = pd.read_csv(REF / "demo_wave1_acsi_items.csv")
    pd.testing.assert_frame_equal(survey.data[items].reset_index(drop=True), written,
                                  check_dtype=False)   # lavaan saw what csmlib reads
    res = fit_cbsem(csm.models.acsi(), survey, missing=missing)
    assert res.n_obs == (344 if missing == "listwise" else 600) and not res.warnings
    m = _merge(_params(f"demo_acsi_{ref}_lavaan_params.csv"), res.estimates)
    _check_params(m)
    _check_fit(res.fit_indices, _fit_table(f"demo_acsi_{ref}_lavaan_fit.csv"), FIT_NAMES, atol=1e-5)


# ---------------------------------------------------------------------------
# measurement quality: semTools::htmt and psych::alpha
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["arithmetic", "geometric"])
def test_htmt_matches_semtools(sat_fit, method):
    ref = pd.read_csv(REF / "satisfaction_htmt_semtools.csv")
    ref = ref[ref["method"] == method]
    got = htmt(sat_fit, method=method)
    for r in ref.itertuples():
        assert got.loc[r.construct, r.other] == pytest.approx(r.htmt, abs=1e-10)


def test_cronbach_alpha_matches_psych(sat_fit):
    ref = pd.read_csv(REF / "satisfaction_alpha_psych.csv").set_index("construct")["alpha"]
    got = reliability(sat_fit)["alpha"]
    assert_allclose(got[ref.index], ref, atol=1e-10)
    # standardized alpha (psych std.alpha; what seminr and SmartPLS report)
    std = pd.read_csv(REF / "satisfaction_alpha_psych.csv").set_index("construct")["alpha_std"]
    assert_allclose(reliability(sat_fit)["alpha_std"][std.index], std, atol=1e-10)


# ---------------------------------------------------------------------------
# bootstrap intervals: boot::boot.ci from the same draws and jackknife
# ---------------------------------------------------------------------------
def test_percentile_and_bca_intervals_match_boot():
    draws = pd.read_csv(REF / "boot_sat1_variance_draws.csv")["draw"].to_numpy()
    jack = pd.read_csv(REF / "boot_sat1_variance_jackknife.csv")["jackknife"].to_numpy()
    ref = pd.read_csv(REF / "boot_sat1_variance_intervals.csv")

    def rank(v):  # position among the draws, in draws
        return float(np.sum(draws < v))

    for r in ref.itertuples():
        lo, hi = bca_interval(draws[:, None], np.array([r.t0]), jack[:, None], r.level)
        plo, phi = percentile_interval(draws[:, None], r.level)
        # boot interpolates at rank (R + 1) alpha on the normal scale, csmlib
        # linearly: within one order statistic.  A wrong bias correction or
        # acceleration moves the BCa limits by 30 to 115 ranks here.
        for ours, theirs in [(lo[0], r.bca_lower), (hi[0], r.bca_upper),
                             (plo[0], r.perc_lower), (phi[0], r.perc_upper)]:
            assert abs(rank(ours) - rank(theirs)) <= 1.5, (r.level, ours, theirs)
