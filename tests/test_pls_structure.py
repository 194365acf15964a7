"""PLS moderation, higher-order constructs, weighted PLS and multi-group
analysis against seminr 2.3.1 (data/references/seminr_corp_rep_*.csv, see
data/references/README.md) and exact identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.errors import SpecError

REF = csm.datasets.data_dir() / "references"
TOL = 1e-6

MED = """QUAL <~ qual_1 + qual_2 + qual_3 + qual_4 + qual_5 + qual_6 + qual_7 + qual_8
PERF <~ perf_1 + perf_2 + perf_3 + perf_4 + perf_5
CSOR <~ csor_1 + csor_2 + csor_3 + csor_4 + csor_5
ATTR <~ attr_1 + attr_2 + attr_3
COMP =~ comp_1 + comp_2 + comp_3
LIKE =~ like_1 + like_2 + like_3
CUSA =~ cusa
"""
INTERACTION = MED + """SC =~ switch_1 + switch_2 + switch_3 + switch_4
CUSL =~ cusl_1 + cusl_2 + cusl_3
COMP ~ QUAL + PERF + CSOR + ATTR
LIKE ~ QUAL + PERF + CSOR + ATTR
CUSA ~ COMP + LIKE
CUSL ~ COMP + LIKE + CUSA + SC + CUSA:SC
"""
MEDIATION = MED + """CUSL =~ cusl_1 + cusl_2 + cusl_3
COMP ~ QUAL + PERF + CSOR + ATTR
LIKE ~ QUAL + PERF + CSOR + ATTR
CUSA ~ COMP + LIKE
CUSL ~ COMP + LIKE + CUSA
"""


def hoc_model(op: str) -> str:
    return MED + f"""REP {op} COMP + LIKE
CUSL =~ cusl_1 + cusl_2 + cusl_3
REP ~ QUAL + PERF + CSOR + ATTR
CUSA ~ REP
CUSL ~ REP + CUSA
"""


@pytest.fixture(scope="module")
def corp_rep() -> pd.DataFrame:
    return csm.datasets.load_frame("corp_rep_data").replace(-99, np.nan)


def _close(got: pd.Series | np.ndarray, want: pd.Series | np.ndarray, tol: float = TOL) -> None:
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=0, atol=tol)


# -- moderation ---------------------------------------------------------------------
def test_interaction_term_parses_and_renders():
    spec = csm.ModelSpec.from_lavaan(INTERACTION)
    assert spec.interactions == ("CUSA:SC",)
    assert "CUSA:SC" not in spec.construct_names
    assert csm.ModelSpec.from_lavaan(spec.to_lavaan()) == spec
    with pytest.raises(SpecError, match="only appear on the right"):
        csm.ModelSpec.from_lavaan("A =~ a1 + a2\nB =~ b1 + b2\nA:B ~ A")
    with pytest.raises(SpecError, match="repeats"):
        csm.ModelSpec.from_lavaan("A =~ a1 + a2\nY =~ y1 + y2\nY ~ A + A:A")


def test_cbsem_refuses_interaction(corp_rep):
    with pytest.raises(SpecError, match="interaction"):
        csm.fit_cbsem(csm.ModelSpec.from_lavaan(INTERACTION), corp_rep)


@pytest.mark.parametrize("method", ["two_stage", "product_indicator", "orthogonal"])
def test_interaction_matches_seminr(corp_rep, method):
    ref = pd.read_csv(REF / "seminr_corp_rep_interaction_paths.csv")
    ref = ref[ref["method"] == method].set_index(["lhs", "rhs"])
    r2 = pd.read_csv(REF / "seminr_corp_rep_interaction_r2.csv")
    r2 = r2[r2["method"] == method].set_index("construct")
    res = csm.fit_pls(csm.ModelSpec.from_lavaan(INTERACTION), corp_rep, missing="mean", interaction=method)
    paths = res.paths.set_index(["lhs", "rhs"])
    assert set(paths.index) == set(ref.index)
    _close(paths.loc[ref.index, "est"], ref["est"])
    _close(paths.loc[ref.index, "std_all"], ref["std_all"])
    _close(res.r2[r2.index], r2["r2"])
    _close(res.extra["r2_adj"][r2.index], r2["r2_adj"])
    _close(res.extra["int_scale"]["CUSA:SC"], ref["int_scale"].dropna().iloc[0])
    # the interaction's R-squared contribution: stage-1 (no interaction) R-squared
    excl = res.extra["r2_excluded"]
    assert excl["CUSL"] < res.r2["CUSL"]
    _close(excl["COMP"], res.r2["COMP"], 1e-4)


# -- higher-order constructs ------------------------------------------------------------
@pytest.mark.parametrize("variant,op,method", [
    ("two_stage_A", "=~", "two_stage"), ("two_stage_B", "<~", "two_stage"),
    ("repeated_indicators_A", "=~", "repeated_indicators")])
def test_hoc_matches_seminr(corp_rep, variant, op, method):
    paths = pd.read_csv(REF / "seminr_corp_rep_hoc_paths.csv")
    outer = pd.read_csv(REF / "seminr_corp_rep_hoc_outer.csv")
    r2 = pd.read_csv(REF / "seminr_corp_rep_hoc_r2.csv")
    spec = csm.ModelSpec.from_lavaan(hoc_model(op))
    assert spec.higher_order == ("REP",)
    res = csm.fit_pls(spec, corp_rep, missing="mean", hoc=method)
    final = (paths["variant"] == variant) & (paths["stage"].isna() | (paths["stage"] == 2))
    want = paths[final].set_index(["lhs", "rhs"])
    got = res.paths.set_index(["lhs", "rhs"])
    assert set(got.index) == set(want.index)
    _close(got.loc[want.index, "est"], want["est"])
    o = outer[outer["variant"] == variant].set_index(["construct", "item"])
    _close(res.loadings.set_index(["lhs", "rhs"]).loc[o.index, "std_all"], o["loading"])
    _close(res.weights.set_index(["lhs", "rhs"]).loc[o.index, "std_all"], o["weight"])
    w = r2[(r2["variant"] == variant) & (r2["stage"].isna() | (r2["stage"] == 2))].set_index("construct")
    _close(res.r2[w.index], w["r2"])
    if method == "two_stage":
        s1 = paths[(paths["variant"] == variant) & (paths["stage"] == 1)].set_index(["lhs", "rhs"])
        _close(res.extra["stage1"].paths.set_index(["lhs", "rhs"]).loc[s1.index, "est"], s1["est"])
        w1 = r2[(r2["variant"] == variant) & (r2["stage"] == 1)].set_index("construct")
        _close(res.extra["stage1"].r2[w1.index], w1["r2"])
