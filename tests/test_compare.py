"""Model comparison: nested CB-SEM pairs against lavaan's lavTestLRT (ML, MLM,
MLR; one and two groups; labels, a fixed path, FIML), the nesting check, and
the refusals of pairs a likelihood-ratio test cannot compare."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.analysis.compare import CB_COLUMNS, compare_models, nesting_check, scaled_difference
from csmlib.errors import SpecError

DATA = Path(__file__).resolve().parent.parent / "data"
REF = pd.read_csv(DATA / "references" / "compare_lavaan_lrt.csv")



def _lav(name):
    return (DATA / "references" / f"compare_{name}.lav").read_text(encoding="utf-8")


HS_FREE, HS_EQUAL, HS_EQUAL_ORTH = _lav("hs_free"), _lav("hs_equal"), _lav("hs_equal_orth")
PD, PD_FIXED = _lav("pd_full"), _lav("pd_fixed")

def _read(name):
    return pd.read_csv(DATA / name)


HS = _read("holzinger_swineford1939/holzinger_swineford1939.csv")
HSM = _read("references/holzinger_missing_data.csv")
POLDEM = _read("political_democracy/political_democracy.csv")
spec = csm.ModelSpec.from_lavaan

# case -> (data, {model name: fit keyword arguments}) as in make_r_references_compare.R
CASES = {
    "hs_labels": (HS, {"free": dict(spec=spec(HS_FREE)), "equal": dict(spec=spec(HS_EQUAL)),
                       "equal_orth": dict(spec=spec(HS_EQUAL_ORTH))}),
    "pd_fixed_path": (POLDEM, {"full": dict(spec=spec(PD)), "fixed": dict(spec=spec(PD_FIXED))}),
    "hs_groups": (HS, {"configural": dict(spec=spec(HS_FREE), group="school"),
                       "metric": dict(spec=spec(HS_FREE), group="school", group_equal=("loadings",))}),
    "hs_fiml": (HSM, {"free": dict(spec=spec(HS_FREE), missing="fiml"),
                      "equal": dict(spec=spec(HS_EQUAL), missing="fiml")}),
}
PARAMS = [(case, est) for case, est in REF[["case", "estimator"]].drop_duplicates().itertuples(index=False)]


def _fits(case, est, order=None):
    data, models = CASES[case]
    names = list(models) if order is None else order
    fits = [csm.fit_cbsem(data=data, estimator=est, **models[n]) for n in names]
    return fits, names


@pytest.mark.parametrize("case,est", PARAMS, ids=[f"{c}-{e}" for c, e in PARAMS])
def test_lavtestlrt(case, est):
    # given in reverse order: compare_models orders by df as lavTestLRT does
    _, models = CASES[case]
    fits, names = _fits(case, est, order=list(reversed(list(models))))
    got = compare_models(*fits, names=names)
    ref = REF[(REF.case == case) & (REF.estimator == est)].sort_values("order")
    assert list(got.columns) == list(CB_COLUMNS)
    assert got["model"].tolist() == ref["model"].tolist()
    for col in ["df", "chisq", "aic", "bic", "chisq_pvalue", "cfi", "tli", "rmsea", "srmr", "npar", "n"]:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), atol=1e-4, rtol=1e-7,
                                   err_msg=col)
    # the scaling factors agree with lavaan's to 1e-6 relative (tests/test_cbsem_robust.py: lavaan stops
    # its optimiser short of the optimum); the scaled difference divides by (df0 c0 - df1 c1) / (df0 - df1),
    # which multiplies that by about 2 df0 / (df0 - df1): up to 7e-5 relative here
    scaled = est != "ML"
    for col in ["chisq_diff", "df_diff", "pvalue", "rmsea_diff", "chisq_scaled", "scaling_factor"]:
        rtol = 1e-4 if scaled and col in ("chisq_diff", "chisq_scaled") else 1e-7
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), atol=1e-4, rtol=rtol,
                                   equal_nan=True, err_msg=col)
    assert got["nested"].tolist()[1:] == ["checked"] * (len(got) - 1)
    want = "Satorra-Bentler 2001 scaled difference" if est != "ML" else "chi-square difference"
    assert set(got["test"].iloc[1:]) == {want}
    assert (got["note"] == "").all()


@pytest.mark.parametrize("case,est", [p for p in PARAMS if p[1] != "ML"], ids=lambda p: str(p))
def test_scaled_difference_from_lavaans_own_statistics_is_lavaans(case, est):
    # the formula alone, fed lavaan's chi-squares, dfs and scaling factors: exact
    ref = REF[(REF.case == case) & (REF.estimator == est)].sort_values("order").reset_index(drop=True)
    for i in range(1, len(ref)):
        r1, r0 = ref.iloc[i - 1], ref.iloc[i]
        got = scaled_difference(r0.chisq, r0.df, r0.scaling_factor, r1.chisq, r1.df, r1.scaling_factor)
        np.testing.assert_allclose(got, r0.chisq_diff, rtol=1e-10)


def test_scaled_difference_edge_cases():
    # a saturated less restricted model counts with scaling factor 1; a negative c_d gives no test
    assert scaled_difference(10.0, 2, 1.2, 0.0, 0, 99.0) == pytest.approx(10.0 / 1.2)
    assert np.isnan(scaled_difference(10.0, 3, 0.5, 5.0, 2, 2.0))


def test_assumed_nesting_gives_the_same_numbers_and_says_so():
    fits, names = _fits("pd_fixed_path", "ML")
    checked = compare_models(*fits, names=names)
    assumed = compare_models(*fits, names=names, nested="assume")
    np.testing.assert_allclose(assumed["chisq_diff"].iloc[1], checked["chisq_diff"].iloc[1], rtol=1e-12)
    assert assumed["nested"].iloc[1] == "assumed" and "assumed" in assumed["note"].iloc[1]


def test_nesting_check_tells_nested_from_non_nested():
    free, equal = (csm.fit_cbsem(spec(m), HS) for m in (HS_FREE, HS_EQUAL))
    assert nesting_check(equal, free) < 1e-6          # equal loadings lie inside the free model
    # visual and speed uncorrelated + a residual covariance (df 24) vs textual and speed
    # uncorrelated (df 25): neither contains the other
    a = csm.fit_cbsem(spec(HS_FREE + "\nvisual ~~ 0*speed\nx7 ~~ x8"), HS)
    b = csm.fit_cbsem(spec(HS_FREE + "\ntextual ~~ 0*speed"), HS)
    assert a.fit_indices["df"] == 24 and b.fit_indices["df"] == 25
    assert nesting_check(b, a) > 1.0
    got = compare_models(a, b, names=["a", "b"])
    assert got["nested"].iloc[1] == "no" and np.isnan(got["pvalue"].iloc[1])
    assert "not nested" in got["note"].iloc[1]
    # the table is still there
    assert got["aic"].notna().all() and got["cfi"].notna().all()
    # lavaan would test this pair; so does nested="assume", and says what it assumed
    assumed = compare_models(a, b, names=["a", "b"], nested="assume")
    assert np.isfinite(assumed["pvalue"].iloc[1]) and assumed["nested"].iloc[1] == "assumed"


NET_REF = pd.read_csv(DATA / "references" / "compare_semtools_net.csv")
NET_MODELS = {
    "hs_free": dict(spec=HS_FREE), "hs_equal": dict(spec=HS_EQUAL), "hs_equal_orth": dict(spec=HS_EQUAL_ORTH),
    "hs_a": dict(spec=HS_FREE + "\nvisual ~~ 0*speed\nx7 ~~ x8"), "hs_b": dict(spec=HS_FREE + "\ntextual ~~ 0*speed"),
    "pd_full": dict(spec=PD, data=POLDEM), "pd_fixed": dict(spec=PD_FIXED, data=POLDEM),
    "hs_configural": dict(spec=HS_FREE, group="school"),
    "hs_metric": dict(spec=HS_FREE, group="school", group_equal=("loadings",)),
}


@pytest.mark.parametrize("restricted,general", list(NET_REF[["restricted", "general"]].itertuples(index=False)),
                         ids=lambda x: str(x))
def test_nesting_check_agrees_with_semtools_net(restricted, general):
    def fit(name):
        kw = dict(NET_MODELS[name])
        data = kw.pop("data", HS)
        return csm.fit_cbsem(spec(kw.pop("spec")), data, se="none", **kw)

    ref = NET_REF[(NET_REF.restricted == restricted) & (NET_REF.general == general)].iloc[0]
    chi = nesting_check(fit(restricted), fit(general))
    assert (chi < 1e-4) == bool(ref["nested_semtools"])
    np.testing.assert_allclose(chi, ref["chisq"], atol=1e-4, rtol=1e-6)


def test_multigroup_nesting_check():
    conf = csm.fit_cbsem(spec(HS_FREE), HS, group="school", se="none")
    metric = csm.fit_cbsem(spec(HS_FREE), HS, group="school", group_equal=("loadings",), se="none")
    assert nesting_check(metric, conf) < 1e-6
    assert nesting_check(conf, metric) > 1.0         # the other way round it is not


@pytest.mark.parametrize("other,why", [
    (lambda: csm.fit_cbsem(spec(HS_EQUAL), HS.iloc[:250]), "different data"),
    (lambda: csm.fit_cbsem(spec(HS_EQUAL), HS.assign(x1=HS["x1"] + 0.5)), "different data"),
    (lambda: csm.fit_cbsem(spec(HS_FREE.replace(" + x6", "")), HS), "different observed variables"),
    (lambda: csm.fit_cbsem(spec(HS_EQUAL), HS, group="school"), "different groups"),
    (lambda: csm.fit_cbsem(spec(HS_EQUAL), HS, estimator="MLM"), "different estimators"),
    (lambda: csm.fit_cbsem(spec(HS_FREE.replace("x1 + x2 + x3", "x1 + x2 + x3 + x4").replace(
        "x4 + x5", "x5")), HS), "equal degrees of freedom"),
    (lambda: csm.fit_cbsem(spec(HS_EQUAL), HS, estimator="MLM", se="none"), "different estimators"),
])
def test_refused_pairs_are_still_tabulated(other, why):
    base = csm.fit_cbsem(spec(HS_FREE), HS)
    got = compare_models(base, other(), names=["base", "other"])
    refused = got.iloc[1]
    assert why in refused["note"]
    assert refused["nested"] == "no"
    assert np.isnan(refused["chisq_diff"]) and np.isnan(refused["pvalue"])
    assert got["chisq"].notna().all() and got["df"].notna().all()


ORD = pd.read_csv(DATA / "ordinal" / "acsi5.csv")
ORD_REF = pd.read_csv(DATA / "references" / "compare_ordinal_lrt.csv")


@pytest.mark.parametrize("case", ["WLSMV", "ULS", "DWLS", "WLSMV_pairwise"])
def test_ordered_fits_lavtestlrt(case):
    """WLSMV: lavaan's satorra.2000 scaled-shifted difference (not the plain
    difference of the unscaled statistics); ULS, DWLS: the plain difference."""
    ref = ORD_REF[ORD_REF["case"] == case].reset_index(drop=True)
    est, missing = ref["estimator"].iloc[0], ref["missing"].iloc[0]
    data = ORD if missing == "listwise" else pd.read_csv(DATA / "ordinal" / "acsi5_missing.csv")
    fits = [csm.fit_cbsem(spec(_lav(f"ord_{m}")), data, estimator=est, ordered=True, missing=missing)
            for m in ("free", "equal", "zero")]
    got = compare_models(*fits, names=["free", "equal", "zero"])
    assert list(got["model"]) == list(ref["model"])
    for col in ("df", "chisq", "chisq_diff", "df_diff", "pvalue", "rmsea_diff"):
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-4,
                                   atol=1e-8, equal_nan=True, err_msg=col)
    assert (got["nested"].iloc[1:] == "assumed").all()


def test_ordered_fits_with_other_ordered_items_are_refused():
    free = csm.fit_cbsem(spec(_lav("ord_free")), ORD, estimator="WLSMV", ordered=True)
    part = csm.fit_cbsem(spec(_lav("ord_equal")), ORD, estimator="WLSMV",
                         ordered=["CUEX1", "CUEX2", "CUEX3"])
    got = compare_models(free, part)
    assert "ordered categories" in got["note"].iloc[1] and np.isnan(got["pvalue"].iloc[1])


def test_scaled_fit_without_standard_errors_is_refused():
    a = csm.fit_cbsem(spec(HS_FREE), HS, estimator="MLM", se="none")
    b = csm.fit_cbsem(spec(HS_EQUAL), HS, estimator="MLM", se="none")
    got = compare_models(a, b)
    assert "scaled test" in got["note"].iloc[1] and np.isnan(got["pvalue"].iloc[1])


def test_bad_calls():
    a = csm.fit_cbsem(spec(HS_FREE), HS)
    with pytest.raises(SpecError, match="at least two"):
        compare_models(a)
    with pytest.raises(SpecError, match="one name per model"):
        compare_models(a, a, names=["x"])
    with pytest.raises(SpecError, match="names must differ"):
        compare_models(a, a, names=["x", "x"])
    with pytest.raises(SpecError, match="nested"):
        compare_models(a, a, nested="maybe")
    pls = csm.fit_pls(spec(HS_FREE), HS)
    with pytest.raises(SpecError, match="CB-SEM fits with CB-SEM"):
        compare_models(a, pls)


def test_public_names():
    from csmlib.analysis.compare import information_criteria

    assert csm.compare_models is compare_models and csm.information_criteria is information_criteria


# ------------------------------------------------------------------ PLS: information criteria (seminr)
IT_REF = pd.read_csv(DATA / "references" / "seminr_it_criteria.csv")
PLS_MODELS = {name: _lav(f"pls_{name}") for name in ("mediation", "no_direct", "simple")}

@pytest.fixture(scope="module")
def pls_fits():
    corp = csm.datasets.load_frame("corp_rep_data").replace(-99, np.nan)
    return {name: csm.fit_pls(spec(text), corp, missing="mean") for name, text in PLS_MODELS.items()}


@pytest.mark.parametrize("model", list(PLS_MODELS))
def test_information_criteria_equal_seminr(pls_fits, model):
    from csmlib.analysis.compare import information_criteria

    got = information_criteria(pls_fits[model])
    ref = IT_REF[IT_REF.model == model].set_index("construct")
    assert list(got.index) == list(ref.index)
    # aic, bic: seminr's it_criteria; aicc, hq, gm: Sharma et al.'s formulas applied in R to
    # seminr's scores and to seminr's estimate of the saturated model (make_seminr_it_criteria.R)
    for col in ["n", "k", "r2", "aic", "bic", "aicc", "hq", "gm"]:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=0, atol=1e-6,
                                   err_msg=col)


def test_pls_comparison_ranks_by_bic_with_akaike_weights(pls_fits):
    got = compare_models(pls_fits["mediation"], pls_fits["no_direct"], pls_fits["simple"],
                         names=["mediation", "no_direct", "simple"], construct="CUSL")
    ref = IT_REF[IT_REF.construct == "CUSL"].set_index("model")
    bic = ref.loc[["mediation", "no_direct", "simple"], "bic"].to_numpy()
    w = np.exp(-(bic - bic.min()) / 2)
    w /= w.sum()
    want = pd.DataFrame({"model": ["mediation", "no_direct", "simple"], "bic": bic, "w": w}).sort_values("bic")
    assert got["model"].tolist() == want["model"].tolist()
    assert got["rank"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(got["bic"], want["bic"], atol=1e-6)
    np.testing.assert_allclose(got["bic_weight"], want["w"], atol=1e-9)
    assert got["bic_weight"].sum() == pytest.approx(1.0)
    assert got["delta_bic"].iloc[0] == 0.0
    # without a construct: every outcome the models share (CUSA and CUSL), each ranked on its own
    both = compare_models(pls_fits["mediation"], pls_fits["simple"])
    assert both["construct"].tolist() == ["CUSA", "CUSA", "CUSL", "CUSL"]
    assert both.groupby("construct")["bic_weight"].sum().to_numpy() == pytest.approx([1.0, 1.0])


def test_pls_comparison_refusals(pls_fits):
    with pytest.raises(SpecError, match="not an endogenous construct of every model"):
        compare_models(pls_fits["mediation"], pls_fits["simple"], construct="COMP")
    corp = csm.datasets.load_frame("corp_rep_data").replace(-99, np.nan)
    fewer = csm.fit_pls(spec(PLS_MODELS["simple"]), corp.iloc[:300], missing="mean")
    with pytest.raises(SpecError, match="different numbers of respondents"):
        compare_models(pls_fits["simple"], fewer)
    shifted = csm.fit_pls(spec(PLS_MODELS["simple"]), corp.assign(cusa=corp["cusa"] * 2), missing="mean")
    with pytest.raises(SpecError, match="different data"):
        compare_models(pls_fits["mediation"], shifted)
    cb = csm.fit_cbsem(spec(HS_FREE), HS)
    with pytest.raises(SpecError, match="information_criteria needs"):
        from csmlib.analysis.compare import information_criteria
        information_criteria(cb)


def test_weighted_pls_fits_have_no_information_criteria(pls_fits):
    # the criteria used to come from the unweighted score correlations of a weighted fit:
    # another R-squared than the fit's own (CUSA 0.29 against the weighted 0.26)
    from csmlib.analysis.compare import information_criteria

    corp = csm.datasets.load_frame("corp_rep_data").replace(-99, np.nan)
    corp["w"] = np.random.default_rng(1).uniform(0.2, 3.0, len(corp))
    weighted = csm.fit_pls(spec(PLS_MODELS["mediation"]), corp, missing="mean", weights="w")
    with pytest.raises(SpecError, match="survey-weighted"):
        information_criteria(weighted)
    simple = csm.fit_pls(spec(PLS_MODELS["simple"]), corp, missing="mean", weights="w")
    with pytest.raises(SpecError, match="survey-weighted"):
        compare_models(simple, weighted)
