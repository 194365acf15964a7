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
* a just-identified model under MLM / MLR: the scaled RMSEA (lavaan NA)
  and, with FIML, the robust CFI / TLI (lavaan 1).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.errors import EstimationWarning
from csmlib.estimate.cbsem import fit_cbsem

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "references"
DATASETS = {name: ROOT / "data" / folder / f"{folder}.csv"
            for name, folder in [("holzinger", "holzinger_swineford1939"),
                                 ("political_democracy", "political_democracy")]}
DATASETS["holzinger_mcar15"] = REF / "holzinger_mcar15_data.csv"
CASES = pd.read_csv(REF / "revB_cases.csv", keep_default_na=False).set_index("case")
PARAMS = pd.read_csv(REF / "revB_lavaan_params.csv", keep_default_na=False,
                     na_values=[""]).fillna({"rhs": "", "label": ""})
FITS = pd.read_csv(REF / "revB_lavaan_fit.csv")
#: measures that do not depend on the units of the items
SCALE_FREE = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
              "srmr", "baseline.chisq", "baseline.df", "ntotal", "chisq.scaled", "cfi.scaled", "tli.scaled",
              "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust"]


def _data(case: str) -> pd.DataFrame:
    c = CASES.loc[case]
    data = pd.read_csv(DATASETS[c["dataset"]])
    for part in filter(None, c["rescale"].split(";")):
        col, factor = part.split("=")
        data[col] = data[col] * float(factor)
    return data


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


def test_items_in_other_units_keep_their_standard_errors(case):
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
    assert free.sum() >= 5
    assert_allclose(sign(m.loc[free, "z"]), sign(m.loc[free, "z_ref"]), rtol=1e-3, atol=1e-3, err_msg=name)
    fit = FITS[FITS["case"] == name].set_index("measure")["value"]
    ours = pd.concat([res.fit_indices, pd.Series({"ntotal": float(res.n_obs)})])
    ours.index = ours.index.str.replace("_", ".")
    checked = [k for k in SCALE_FREE if k in fit.index and k in ours.index]   # ML has no robust measures
    assert len(checked) >= 10
    for k in checked:
        assert ours[k] == pytest.approx(fit[k], rel=1e-4, abs=1e-6), (name, k)


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
