"""The CB-SEM engine against lavaan 0.6.14 on the cases where the review of
the differential sweep's changes (branch revB) found csmlib wrong
(data/references/make_r_references_revB.R).

* items in other units: the test of a singular information matrix was a
  condition number of the matrix as it is, which grows with the square of
  the ratio of the items' units, so an item in other units (y2 times 1000:
  a spend in currency beside a 1-10 scale) gave no standard errors and the
  warning "the model is not identified" (ML, MLR and FIML alike).  lavaan
  fits the data as they are; ML is equivariant under a change of units, so
  chi-square, std_all and the z values of the rescaled fit must equal
  lavaan's on the original data;
* items in units 1e-6 to 1e8 apart: the convergence tests and the
  difference steps of the observed information and of the delta method
  were absolute for parameters below 1 (a residual variance of 1e-12 never
  "converged" although the estimates were right; FIML of an item divided by
  1000 gave wrong and NaN standard errors);
* an indicator that is also the outcome of a ``~`` (``x3 ~ ageyr``, a
  covariate's direct effect on an item): its R-squared was missing from
  ``r2`` and the regression from ``effects``;
* the R-squared of a construct with a negative residual variance (5.47;
  lavaan NA);
* a just-identified model under MLM / MLR: the scaled RMSEA (lavaan NA)
  and, with FIML, the robust CFI / TLI (lavaan 1).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.errors import EstimationWarning
from csmlib.estimate.cbsem import fit_cbsem
from test_cbsem_sweep import DATASETS, REF, rescaled

CASES = pd.read_csv(REF / "revB_cases.csv", keep_default_na=False).set_index("case")
PARAMS = pd.read_csv(REF / "revB_lavaan_params.csv", keep_default_na=False,
                     na_values=[""]).fillna({"rhs": "", "label": ""})
FITS = pd.read_csv(REF / "revB_lavaan_fit.csv")
R2 = pd.read_csv(REF / "revB_lavaan_r2.csv")
#: measures that do not depend on the units of the items
SCALE_FREE = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "srmr", "baseline.chisq", "baseline.df", "ntotal", "chisq.scaled", "cfi.scaled", "tli.scaled",
              "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust"]


def _data(case: str) -> pd.DataFrame:
    c = CASES.loc[case]
    if c["dataset"].startswith("holzinger_rows_"):     # holzinger_rows_81_105: those rows (1-based)
        first, last = map(int, c["dataset"].split("_")[-2:])
        return pd.read_csv(DATASETS["holzinger"]).iloc[first - 1:last]
    return rescaled(pd.read_csv(DATASETS[c["dataset"]]), c["rescale"])


def _fit(case: str):
    c = CASES.loc[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EstimationWarning)
        res = fit_cbsem(csm.ModelSpec.from_lavaan(c["model"]), _data(case), estimator=c["estimator"],
                        missing="fiml" if c["missing"] == "ml" else "listwise", group=c["group"] or None,
                        group_equal=tuple(filter(None, c["group_equal"].split(","))))
    return res, [str(w.message) for w in caught if issubclass(w.category, EstimationWarning)]


@pytest.fixture(scope="module", params=list(CASES.index))
def case(request):
    return request.param, *_fit(request.param)


def test_estimates_and_fit_match_lavaan(case):
    name, res, warned = case
    assert res.converged, name
    assert not [w for w in warned if "not identified" in w], (name, warned)
    ref = PARAMS[(PARAMS["case"] == name) & (PARAMS["op"] != "~1")]
    ours = res.estimates.copy()
    if "group" not in ours:
        ours["group"] = np.where(ours["op"] == ":=", 0, 1)
    if CASES.loc[name, "group"]:    # lavaan's groups in order of appearance, csmlib's as res.extra["groups"]
        first = list(pd.unique(_data(name)[CASES.loc[name, "group"]]))
        ours["group"] = [first.index(res.extra["groups"][g - 1]) + 1 if g > 0 else 0 for g in ours["group"]]
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_ref", ""))
    assert len(m) == len(ref), name
    # an item times -1 turns the signs of its parameters (and of its construct's,
    # when it is the marker): the magnitudes stay
    sign = np.abs if "=-" in CASES.loc[name, "rescale"] else (lambda v: v)
    assert_allclose(sign(m["std_all"]), sign(m["std.all"]), atol=1e-4, err_msg=name)
    free = m["se_ref"] > 0
    assert free.sum() >= 4
    assert_allclose(sign(m.loc[free, "z"]), sign(m.loc[free, "z_ref"]), rtol=1e-3, atol=1e-3, err_msg=name)
    fit = FITS[FITS["case"] == name].set_index("measure")["value"]
    ours = pd.concat([res.fit_indices, pd.Series({"ntotal": float(res.n_obs)})])
    ours.index = ours.index.str.replace("_", ".")
    checked = [k for k in SCALE_FREE if k in fit.index and k in ours.index]   # ML has no robust measures
    assert len(checked) >= 10
    for k in checked:
        assert ours[k] == pytest.approx(fit[k], rel=1e-4, abs=1e-6), (name, k)


def test_r2_of_every_outcome_of_a_regression_matches_lavaan(case):
    """R-squared of the constructs and of every observed outcome of a ``~``,
    an indicator too (``x3 ~ ageyr`` beside ``visual =~ x1 + x2 + x3``)."""
    name, res, _ = case
    spec = csm.ModelSpec.from_lavaan(CASES.loc[name, "model"])
    outcomes = {r.lhs for r in spec.relations if r.op == "~"}
    r2 = res.r2.copy()
    if not outcomes:            # a CFA: no R-squared
        assert r2.empty, name
        return
    if isinstance(r2.index, pd.MultiIndex):
        first = list(pd.unique(_data(name)[CASES.loc[name, "group"]]))
        r2 = pd.Series(r2.values, index=pd.MultiIndex.from_tuples(
            [(first.index(res.extra["groups"][g - 1]) + 1, v) for g, v in r2.index]))
    else:
        r2.index = pd.MultiIndex.from_tuples([(1, v) for v in r2.index])
    assert outcomes <= set(r2.index.get_level_values(1)), (name, outcomes)
    ref = R2[R2["case"] == name].set_index(["group", "variable"])["r2"]
    assert len(r2) and set(r2.index) <= set(ref.index), name
    # NaN where lavaan has NA: a negative residual variance (csmlib reported 5.47)
    assert_allclose(r2.values, ref.reindex(r2.index).values, atol=1e-4, err_msg=name)


def test_effects_include_the_regression_of_an_indicator():
    res = _fit("mimic_direct_effect")[0]
    eff = res.effects.set_index(["lhs", "rhs"])
    ref = PARAMS[(PARAMS["case"] == "mimic_direct_effect") & (PARAMS["lhs"] == "x3") & (PARAMS["op"] == "~")]
    assert eff.loc[("x3", "ageyr"), "direct"] == pytest.approx(float(ref["est"].iloc[0]), abs=1e-4)
    assert eff.loc[("x3", "ageyr"), "direct_se"] == pytest.approx(float(ref["se"].iloc[0]), abs=1e-4)


JUST_IDENTIFIED = pd.read_csv(REF / "revB_just_identified_robust_lavaan.csv", keep_default_na=False,
                              na_values=[""])


@pytest.mark.parametrize("estimator,missing,group", [("MLR", "listwise", ""), ("MLM", "listwise", ""),
                                                     ("MLR", "ml", ""), ("MLR", "listwise", "school")])
def test_just_identified_robust_measures_as_lavaan(estimator, missing, group):
    """df 0: no scaled RMSEA (lavaan NA; csmlib reported 0), and with FIML a
    robust CFI and TLI of 1 (csmlib NaN)."""
    ref = JUST_IDENTIFIED[(JUST_IDENTIFIED["estimator"] == estimator) & (JUST_IDENTIFIED["missing"] == missing)
                          & (JUST_IDENTIFIED["group"].fillna("") == group)].set_index("measure")["value"]
    assert len(ref) == 16
    data = pd.read_csv(DATASETS["holzinger_mcar15" if missing == "ml" else "holzinger"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EstimationWarning)
        res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3"), data, estimator=estimator,
                        missing="fiml" if missing == "ml" else "listwise", group=group or None)
    for k, v in ref.items():
        ours = res.fit_indices[k.replace(".", "_")]
        if np.isnan(v):
            assert np.isnan(ours), (k, ours)
        else:
            assert ours == pytest.approx(v, abs=1e-8), k


def test_bootstrap_engines_agree_on_an_indicators_regression():
    """The loop engine drew R-squared for spec.endogenous and ``~`` among
    constructs only: an indicator's R-squared and regression (``y1 ~ ind60``)
    had no interval there, while the batched engine gave one."""
    res = _fit("indicator_outcome")[0]
    boots = {eng: csm.bootstrap(res, n_boot=40, seed=3, engine=eng, n_jobs=1) for eng in ("batched", "loop")}
    r2 = {eng: b.r2.set_index("construct") for eng, b in boots.items()}
    assert list(r2["loop"].index) == list(r2["batched"].index) == ["dem60", "y1"]
    assert_allclose(r2["loop"][["se", "ci_lower", "ci_upper"]], r2["batched"][["se", "ci_lower", "ci_upper"]],
                    rtol=1e-4)
    eff = {eng: b.effects.set_index(["lhs", "rhs"]) for eng, b in boots.items()}
    assert np.isfinite(eff["loop"].loc[("y1", "ind60"), "direct_se"])
    assert_allclose(eff["loop"]["direct_se"], eff["batched"]["direct_se"], rtol=1e-4)


PD_MODEL = ("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem65 =~ y5 + y6 + y7 + y8\n"
            "dem60 ~ ind60\ndem65 ~ ind60 + dem60\ny1 ~~ y5\ny2 ~~ y4 + y6\ny3 ~~ y7\ny4 ~~ y8\ny6 ~~ y8")


@pytest.mark.parametrize("rescale", ["y2=1e4", "x1=1e6;y5=1e-4"])
def test_batched_bootstrap_refits_items_in_other_units(rescale):
    """The batched engine's refits stopped on an absolute step (1e-9) and
    solved the unscaled information: with markers in units 1e10 apart every
    resample failed, with y2 times 1e4 one did and the intervals moved.
    R-squared is free of the units: the same resamples give the same draws
    as on the original data."""
    data = pd.read_csv(DATASETS["political_democracy"])
    scaled = rescaled(data, rescale)
    boots = [csm.bootstrap(fit_cbsem(csm.ModelSpec.from_lavaan(PD_MODEL), d), n_boot=60, seed=5,
                           engine="batched", statistics=None, n_jobs=1) for d in (data, scaled)]
    assert boots[0].engine == boots[1].engine == "cbsem-batched"
    assert boots[0].n_failed == boots[1].n_failed == 0
    cols = ["r2", "se", "ci_lower", "ci_upper"]
    assert_allclose(boots[1].r2[cols], boots[0].r2[cols], rtol=1e-5)


def test_modification_indices_no_regression_among_fixed_covariates():
    """lavaan lists no ``ageyr ~ sex`` (a covariate of fixed.x is no
    outcome); csmlib listed both directions with indices of 0."""
    ref = pd.read_csv(REF / "revB_mimic2_modindices_lavaan.csv")
    data = pd.read_csv(DATASETS["holzinger"])
    res = fit_cbsem(csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                                              "visual ~ ageyr + sex"), data)
    mi = csm.modification_indices(res)
    m = ref.merge(mi, on=["lhs", "op", "rhs"], how="outer", suffixes=("_ref", ""), indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs"]]
    weak = m["epc_ref"].abs() > 1       # the all but unidentified residual covariances (see the sweep's test)
    assert_allclose(m.loc[~weak, "mi"], m.loc[~weak, "mi_ref"], rtol=1e-3, atol=1e-5)
