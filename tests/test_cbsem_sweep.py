"""The CB-SEM engine against lavaan 0.6.14 on the models of the differential
sweep (data/references/make_r_references_sweep.R): cases one step off the
earlier tests where csmlib returned another number, or none, in silence.

* observed variables in the structural model (``y5 ~ y1 + ind60``): their
  R-squared was missing from ``r2`` and their effects from ``effects``;
* ``std_all`` of a defined parameter was NaN (lavaan applies the expression
  to the labels' standardized values);
* FIML with a covariate that has missing values: lavaan drops those rows
  (fixed.x), csmlib kept them and fitted another likelihood (its logl, AIC
  and BIC and n differed);
* items in very different units: one start tolerance for all parameters
  let a fit "converge" after one step with a chi-square 370 too large, and
  the start values made the scoring fail; the singularity check took the
  scale for collinearity;
* a ``~~`` / ``~ 1`` statement on an observed covariate was half-honoured
  (``x1 ~~ 0*x2`` gave the fit of another model than the one lavaan fits):
  now refused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.errors import EstimationWarning, SpecError
from csmlib.estimate.cbsem import fit_cbsem

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "references"
#: the datasets of make_r_references_sweep.R, by the names sweep_cases.csv uses
DATASETS = {name: ROOT / "data" / folder / f"{folder}.csv"
            for name, folder in [("holzinger", "holzinger_swineford1939"),
                                 ("political_democracy", "political_democracy")]}
DATASETS["holzinger_mcar15"] = REF / "holzinger_mcar15_data.csv"
CASES = pd.read_csv(REF / "sweep_cases.csv", keep_default_na=False).set_index("case")
PARAMS = pd.read_csv(REF / "sweep_lavaan_params.csv", keep_default_na=False,
                     na_values=[""]).fillna({"rhs": "", "label": ""})
FITS = pd.read_csv(REF / "sweep_lavaan_fit.csv")
R2 = pd.read_csv(REF / "sweep_lavaan_r2.csv")
#: measures that do not depend on the units of the items
SCALE_FREE = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
              "srmr", "baseline_chisq", "baseline_df"]
ALL = SCALE_FREE + ["aic", "bic", "logl"]


def _data(case: str) -> pd.DataFrame:
    c = CASES.loc[case]
    if c["dataset"] == "holzinger40":         # the first 40 rows: a Heywood case
        return pd.read_csv(DATASETS["holzinger"]).iloc[:40]
    return rescaled(pd.read_csv(DATASETS[c["dataset"]]), c["rescale"])


def rescaled(data: pd.DataFrame, rescale: str) -> pd.DataFrame:
    """``data`` with the columns of ``rescale`` (``"x4=1e4;x1=1e-3"``) multiplied."""
    data = data.copy()
    for part in filter(None, rescale.split(";")):
        col, factor = part.split("=")
        data[col] = data[col] * float(factor)
    return data


def _fit(case: str):
    c = CASES.loc[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        return fit_cbsem(csm.ModelSpec.from_lavaan(c["model"]), _data(case),
                         missing="fiml" if c["missing"] == "ml" else "listwise")


@pytest.fixture(scope="module", params=list(CASES.index))
def case(request):
    return request.param, _fit(request.param)


def _merged(name, res) -> pd.DataFrame:
    ref = PARAMS[PARAMS["case"] == name].copy()
    ref.loc[ref["op"] == ":=", "rhs"] = ""
    ours = res.estimates.copy()
    ours.loc[ours["op"] == ":=", "rhs"] = ""
    m = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", suffixes=("_ref", ""))
    assert m["std_all"].notna().all(), m.loc[m["std_all"].isna(), ["lhs", "op", "rhs"]]
    assert len(ours) == len(ref), (len(ours), len(ref))
    return m


def test_estimates_ses_std_all_and_fit_match_lavaan(case):
    name, res = case
    assert res.converged, res.message
    m = _merged(name, res)
    # std.all (defined parameters included) does not depend on the units
    assert_allclose(m["std_all"], m["std.all"], atol=1e-4, err_msg=name)
    ref = FITS[FITS["case"] == name].set_index("measure")["value"]
    ref.index = [k.replace(".", "_") for k in ref.index]
    assert res.n_obs == ref["ntotal"]
    rescaled = bool(CASES.loc[name, "rescale"])
    for k in SCALE_FREE if rescaled else ALL:
        assert res.fit_indices[k] == pytest.approx(ref[k], rel=1e-6, abs=1e-4), (name, k)
    if not rescaled:
        assert_allclose(m["est"], m["est_ref"], atol=1e-4, err_msg=name)
        free = m["se_ref"] > 0
        assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], atol=1e-4, err_msg=name)


def test_r2_of_every_structural_outcome_matches_lavaan(case):
    """lavaan reports R2 of every endogenous variable; ``r2`` holds the
    constructs and observed variables with an incoming path."""
    name, res = case
    ref = R2[R2["case"] == name].set_index("variable")["r2"]
    outcomes = set(res.spec.endogenous)
    assert set(res.r2.index) == outcomes
    for v in outcomes:
        assert res.r2[v] == pytest.approx(ref[v], abs=1e-6), (name, v)


@pytest.mark.parametrize("name", ["observed_mediation", "observed_paths_only"])
def test_effects_through_observed_variables_equal_lavaans_defined_products(name):
    """The indirect and total effects (and their delta-method SEs) through an
    observed mediator equal lavaan's ``ab := a*b`` / ``tot := c + a*b``."""
    res = _fit(name)
    ref = PARAMS[(PARAMS["case"] == name)]
    defined = ref[ref["op"] == ":="].set_index("lhs")
    eff = res.effects.set_index(["lhs", "rhs"])
    for r in ref[ref["op"] == "~"].itertuples():          # every path is a direct effect
        assert eff.loc[(r.lhs, r.rhs), "direct"] == pytest.approx(r.est, abs=1e-4)
        assert eff.loc[(r.lhs, r.rhs), "direct_se"] == pytest.approx(r.se, abs=1e-4)
    x, y = ("ind60", "y5") if name == "observed_mediation" else ("x1", "y2")
    ab = defined.loc["ab"]
    assert eff.loc[(y, x), "indirect"] == pytest.approx(ab["est"], abs=1e-4)
    assert eff.loc[(y, x), "indirect_se"] == pytest.approx(ab["se"], abs=1e-4)
    if name == "observed_mediation":
        tot = defined.loc["tot"]
        assert eff.loc[(y, x), "total"] == pytest.approx(tot["est"], abs=1e-4)
        assert eff.loc[(y, x), "total_se"] == pytest.approx(tot["se"], abs=1e-4)


def test_fiml_drops_rows_without_a_covariate_and_says_so():
    res = _fit("fiml_missing_covariate")
    data = pd.read_csv(DATASETS["holzinger_mcar15"])
    n_missing_x = int(data["x4"].isna().sum())
    assert n_missing_x > 0
    assert res.data_info["dropped"] == {"a fixed covariate missing (x4, ageyr)": n_missing_x}
    assert res.n_obs == len(data) - n_missing_x


def test_rescaled_items_are_the_same_fit_in_other_units():
    """Loadings follow the units (x2's loading on the marker x1 times 1e-3
    becomes 1e3 times larger); the one-step "convergence" of the old
    tolerance is gone."""
    res = _fit("rescaled_items")
    m = _merged("rescaled_items", res).set_index(["lhs", "op", "rhs"])
    assert res.n_iter > 1
    assert m.loc[("visual", "=~", "x2"), "est"] == pytest.approx(
        m.loc[("visual", "=~", "x2"), "est_ref"] * 1e3, rel=1e-4)
    assert m.loc[("textual", "=~", "x5"), "est"] == pytest.approx(
        m.loc[("textual", "=~", "x5"), "est_ref"] * 1e-4, rel=1e-4)
    lik = res.extra["likelihood"]
    assert np.isfinite(lik.loglik(res.extra["theta"]))


REFUSED = pd.read_csv(REF / "sweep_refused_lavaan.csv", keep_default_na=False)


@pytest.mark.parametrize("name", list(REFUSED["case"]))
def test_statements_on_fixed_covariates_are_refused(name):
    """lavaan fits another model here (its chi-square on 1 df, recorded by the
    R script, where the model without the statement is saturated); csmlib
    refuses and says what to do."""
    c = REFUSED.set_index("case").loc[name]
    assert c["lavaan_df"] == 1 and c["lavaan_chisq"] > 100
    data = pd.read_csv(DATASETS[c["dataset"]])
    with pytest.raises(SpecError, match="observed covariate 'x1'") as err:
        fit_cbsem(csm.ModelSpec.from_lavaan(c["model"]), data)
    assert "single-item construct" in err.value.hint
    # the model without the statement is fitted (saturated, as lavaan's fixed.x fit)
    base = fit_cbsem(csm.ModelSpec.from_lavaan("y1 ~ x1 + x2"), data)
    assert base.fit_indices["df"] == 0


ERRORS = pd.read_csv(REF / "sweep_errors_lavaan.csv", keep_default_na=False)


@pytest.mark.parametrize("name", list(ERRORS["case"]))
def test_models_lavaan_refuses_are_refused(name):
    """A construct named like a column of the data: lavaan refuses ("latent
    variable names collide with observed variable names"); csmlib fitted
    the construct and ignored the column."""
    c = ERRORS.set_index("case").loc[name]
    assert c["lavaan_error"].startswith("lavaan ERROR")
    data = pd.read_csv(DATASETS[c["dataset"]])
    with pytest.raises(SpecError, match="also columns of the data") as err:
        fit_cbsem(csm.ModelSpec.from_lavaan(c["model"]), data)
    assert err.value.hint


def test_just_identified_ordered_model_has_no_scaling_factor():
    """df = 0 under WLSMV: lavaan's scaling factor is NA; csmlib divided by
    zero (a RuntimeWarning, and an infinite factor)."""
    ref = pd.read_csv(REF / "sweep_wlsmv_just_identified_fit.csv").set_index("measure")["value"]
    data = pd.read_csv(REF / "sweep_ordinal3_data.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3"), data, ordered=True,
                        estimator="WLSMV")
    fi = res.fit_indices
    assert fi["df"] == ref["df"] == 0
    assert fi["chisq_scaled"] == pytest.approx(ref["chisq.scaled"], abs=1e-8)
    assert np.isnan(ref["chisq.scaling.factor"]) and np.isnan(fi["chisq_scaling_factor"])


def test_robust_is_the_expected_information_sandwich_and_says_so():
    """lavaan's ``se = "robust.huber.white"`` uses the observed information
    by default (SEs up to 2x those of the expected one here); ``robust=True``
    is the expected-information sandwich, and ``options["se"]`` now says so
    (it read "robust.huber.white", which a reader matches with lavaan's
    default)."""
    ref = pd.read_csv(REF / "sweep_huber_white_lavaan.csv", keep_default_na=False, na_values=[""])
    data = pd.read_csv(DATASETS["holzinger"])
    spec = csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9")
    res = fit_cbsem(spec, data, robust=True)
    assert res.options["se"] == "robust.huber.white (expected information)"
    m = ref.merge(res.estimates, on=["lhs", "op", "rhs"])
    free = m["se_expected"] > 0
    assert free.sum() == 21
    assert_allclose(m.loc[free, "se"], m.loc[free, "se_expected"], atol=1e-4)
    assert (m.loc[free, "se"] - m.loc[free, "se_observed_default"]).abs().max() > 0.1


def test_batched_bootstrap_reads_the_observed_structural_variables():
    """The batched CB bootstrap computes the effects, R2 and specific effects
    of the observed outcomes as the loop engine refitting fit_cbsem does
    (it indexed the constructs only, and the new effects rows would have
    raised a KeyError)."""
    res = _fit("observed_mediation")
    batched = csm.bootstrap(res, n_boot=60, seed=3)
    loop = csm.bootstrap(res, n_boot=60, seed=3, engine="loop")
    assert batched.engine == "cbsem-batched"
    key = ["group", "lhs", "op", "rhs"]
    m = batched.table.fillna({"rhs": ""}).merge(loop.table.fillna({"rhs": ""}), on=key, suffixes=("", "_loop"))
    assert len(m) >= 18      # the engines list different sets of free parameters, the rest alike
    keys = set(zip(m["group"], m["lhs"], m["rhs"]))
    assert {("effects", "y5", "ind60"), ("r2", "y1", ""), ("r2", "y5", "")} <= keys, keys
    assert any(g == "specific" and "y1" in lhs for g, lhs, _ in keys), keys
    sel = m["group"].isin(["effects", "r2", "specific"]) & (m["est"].abs() > 1e-12)
    assert_allclose(m.loc[sel, "se"], m.loc[sel, "se_loop"], rtol=1e-4)


@pytest.mark.parametrize("estimator", ["MLM", "MLR"])
def test_just_identified_robust_fit_reports_lavaans_values(estimator):
    """df = 0 under MLM / MLR: chisq_scaled is the chi-square, CFI / TLI 1,
    the robust RMSEA and its interval 0 (they were NaN)."""
    ref = pd.read_csv(REF / "sweep_just_identified_robust_lavaan.csv")
    ref = ref[ref["estimator"] == estimator].set_index("measure")["value"]
    data = pd.read_csv(DATASETS["holzinger"])
    res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3"), data, estimator=estimator)
    for k, v in ref.items():
        assert res.fit_indices[k.replace(".", "_")] == pytest.approx(v, abs=1e-8), k


def test_group_partial_naming_no_parameter_is_refused():
    """lavaan ignores ``group.partial = "visual =~ x99"`` (its fit is the full
    metric model, recorded by the R script): a typo that leaves the
    parameter held equal without a word.  csmlib refuses the entry."""
    ref = pd.read_csv(REF / "sweep_partial_typo_lavaan.csv").set_index("model")
    assert ref.loc["partial_typo", "chisq"] == ref.loc["metric", "chisq"]
    data = pd.read_csv(DATASETS["holzinger"])
    spec = csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9")
    with pytest.raises(SpecError, match="names no parameter of the model"):
        fit_cbsem(spec, data, group="school", group_equal=("loadings",), group_partial=("visual =~ x99",))
    with pytest.raises(SpecError, match="names no parameter of the model"):
        fit_cbsem(spec, data, group="school", group_equal=("loadings",), group_partial=(("loadings", "x99"),))
    ok = fit_cbsem(spec, data, group="school", group_equal=("loadings",), group_partial=("visual =~ x2",))
    assert ok.fit_indices["df"] == ref.loc["metric", "df"] - 1


def test_modification_indices_of_indicator_outcome_covariances_are_lavaans_score_tests():
    """lavaan's modindices() omits x1 ~~ y1 beside y1 ~ ind60; its score test
    (lavTestScore, recorded by the R script) equals csmlib's index."""
    ref = pd.read_csv(REF / "sweep_score_tests_lavaan.csv")
    data = pd.read_csv(DATASETS["political_democracy"])
    res = fit_cbsem(csm.ModelSpec.from_lavaan("ind60 =~ x1 + x2 + x3\ny1 ~ ind60\ny5 ~ y1 + ind60"), data)
    mi = csm.modification_indices(res).set_index(["lhs", "op", "rhs"])["mi"]
    for add, x2 in zip(ref["add"], ref["score_x2"]):
        lhs, rhs = (t.strip() for t in add.split("~~"))
        assert mi[(lhs, "~~", rhs)] == pytest.approx(x2, rel=1e-5), add


def test_modification_indices_leave_out_covariances_of_fixed_covariates():
    ref = pd.read_csv(REF / "sweep_mimic_modindices_lavaan.csv")
    data = pd.read_csv(DATASETS["holzinger"])
    res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                                              "visual ~ ageyr"), data)
    mi = csm.modification_indices(res)
    assert not ((mi["op"] == "~~") & ((mi["lhs"] == "ageyr") | (mi["rhs"] == "ageyr"))).any()
    m = ref.merge(mi, on=["lhs", "op", "rhs"], how="outer", suffixes=("_ref", ""), indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs"]]
    # the residual covariances inside the three-item visual block are all but
    # unidentified (expected changes 1.7 to 6.4): their indices depend on the
    # last digits of the estimates, and lavaan's optimizer stops earlier
    weak = m["epc_ref"].abs() > 1
    assert weak.sum() == 3
    assert_allclose(m.loc[~weak, "mi"], m.loc[~weak, "mi_ref"], rtol=1e-4, atol=1e-6)
    assert_allclose(m.loc[weak, "mi"], m.loc[weak, "mi_ref"], rtol=1e-2)


@pytest.mark.parametrize("case", ["ml", "fiml"])
def test_standardized_residuals_with_fixed_covariates_match_lavaan(case):
    """With covariates of fixed.x the residuals' standard errors leave the
    covariates' own moments out of the h1 information, as lavaan (they were
    up to 1% off: -1.5434 for lavaan's -1.5556)."""
    ref = pd.read_csv(REF / "sweep_fixed_x_std_residuals_lavaan.csv")
    ref = ref[(ref["case"] == case) & ref["residual"].notna()]
    data = pd.read_csv(DATASETS["holzinger" if case == "ml" else "holzinger_mcar15"])
    res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                                              "visual ~ ageyr + sex"), data,
                    missing="fiml" if case == "fiml" else "listwise")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = csm.residuals(res, type="standardized")
    ours = ours[ours["op"] == "~~"]
    key = {frozenset((a, b)): v for a, b, v in zip(ours["lhs"], ours["rhs"], ours["residual"])}
    got = np.array([key[frozenset((a, b))] for a, b in zip(ref["lhs"], ref["rhs"])])
    assert len(ref) > 30
    assert_allclose(got, ref["residual"], rtol=1e-3, atol=1e-4)


def test_robust_fit_of_a_model_that_is_not_identified_has_no_standard_errors():
    """MLR on a model that is not identified: lavaan warns (recorded by the R
    script); csmlib gave sandwich SEs without a word, now it warns and
    leaves them out as it does for ML."""
    ref = pd.read_csv(REF / "sweep_unidentified_mlr_lavaan.csv").iloc[0]
    assert "not identified" in ref["lavaan_warning"]
    data = pd.read_csv(DATASETS["holzinger"])
    with pytest.warns(EstimationWarning, match="not identified"):
        res = fit_cbsem(csm.ModelSpec.from_lavaan(ref["model"]), data, estimator=ref["estimator"])
    assert res.estimates["se"].isna().all()
