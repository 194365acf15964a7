"""PLS path modelling against SmartPLS 2 and R plspm, against a textbook
implementation on the raw data written here, and against the truth of data
simulated from known models.

References (data/references/README.md):
* mobi.reference_smartpls2.csv -- SmartPLS 2.0.M3, ECSI on mobi, three schemes (1e-4).
* satisfaction_plspm.csv -- R plspm, scaled = FALSE, centroid (1e-3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csmlib as csm
from csmlib.errors import DataError, EstimationError, SpecError
from csmlib.estimate.pls import compile_spec, covariance_one_pass, fit_pls, pls_core
from csmlib.spec import Construct, ModelSpec, Relation

DATA = Path(__file__).resolve().parents[1] / "data"
REF = DATA / "references"

ECSI_BLOCKS = {
    "Image": [f"IMAG{i}" for i in range(1, 6)],
    "Expectation": [f"CUEX{i}" for i in range(1, 4)],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": [f"CUSA{i}" for i in range(1, 4)],
    "Complaints": ["CUSCO"],
    "Loyalty": [f"CUSL{i}" for i in range(1, 4)],
}
ECSI_PATHS = [
    ("Image", "Expectation"), ("Image", "Satisfaction"), ("Image", "Loyalty"),
    ("Expectation", "Quality"), ("Expectation", "Value"), ("Expectation", "Satisfaction"),
    ("Quality", "Value"), ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
    ("Satisfaction", "Complaints"), ("Satisfaction", "Loyalty"), ("Complaints", "Loyalty"),
]
SAT_BLOCKS = {
    "IMAG": [f"imag{i}" for i in range(1, 6)], "EXPE": [f"expe{i}" for i in range(1, 6)],
    "QUAL": [f"qual{i}" for i in range(1, 6)], "VAL": [f"val{i}" for i in range(1, 5)],
    "SAT": [f"sat{i}" for i in range(1, 5)], "LOY": [f"loy{i}" for i in range(1, 5)],
}
SAT_PATHS = [
    ("IMAG", "EXPE"), ("IMAG", "SAT"), ("IMAG", "LOY"), ("EXPE", "QUAL"), ("EXPE", "VAL"),
    ("EXPE", "SAT"), ("QUAL", "VAL"), ("QUAL", "SAT"), ("VAL", "SAT"), ("SAT", "LOY"),
]


def make_spec(blocks, paths, modes=None, name=None) -> ModelSpec:
    modes = modes or {}
    cons = tuple(Construct(k, tuple(v), modes.get(k, "reflective")) for k, v in blocks.items())
    rel = tuple(Relation(k, "<~" if modes.get(k) == "B" else "=~", i) for k, v in blocks.items() for i in v)
    rel += tuple(Relation(to, "~", frm) for frm, to in paths)
    return ModelSpec(constructs=cons, relations=rel, name=name)


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(DATA / "mobi" / "mobi.csv")


@pytest.fixture(scope="module")
def satisfaction() -> pd.DataFrame:
    return pd.read_csv(DATA / "satisfaction" / "satisfaction.csv")


@pytest.fixture(scope="module")
def ecsi() -> ModelSpec:
    return make_spec(ECSI_BLOCKS, ECSI_PATHS, name="ECSI")


@pytest.fixture(scope="module")
def smartpls() -> pd.DataFrame:
    return pd.read_csv(REF / "mobi.reference_smartpls2.csv")


SCHEMES = [("centroid", "centroid"), ("factorial", "factorial"), ("path", "pathWeighting")]


# -- SmartPLS ----------------------------------------------------------------
@pytest.mark.parametrize("scheme,ref_scheme", SCHEMES)
def test_ecsi_matches_smartpls(mobi, ecsi, smartpls, scheme, ref_scheme):
    res = fit_pls(ecsi, mobi, scheme=scheme)
    assert res.converged and res.method == "pls"
    ref = smartpls[smartpls["scheme"] == ref_scheme]
    est = res.estimates.set_index(["op", "lhs", "rhs"])["est"]
    eff = res.effects.set_index(["lhs", "rhs"])["total"]
    checked = {"path": 0, "outer_weight": 0, "loading": 0, "total_effect": 0}
    for row in ref.itertuples(index=False):
        if row.type == "path":
            got = est[("~", row.to, row._2)]
        elif row.type == "outer_weight":
            got = est[("<~", row._2, row.to)]
        elif row.type == "loading":
            got = est[("=~", row._2, row.to)]
        elif row.type == "total_effect":
            got = eff[(row.to, row._2)]
        else:
            continue
        checked[row.type] += 1
        assert got == pytest.approx(row.value, abs=1e-4), (row.type, row._2, row.to)
    assert checked == {"path": 12, "outer_weight": 24, "loading": 24, "total_effect": 21}


@pytest.mark.parametrize("scheme,ref_scheme", SCHEMES)
def test_ecsi_cross_loadings_match_smartpls(mobi, ecsi, smartpls, scheme, ref_scheme):
    res = fit_pls(ecsi, mobi, scheme=scheme)
    ref = smartpls[(smartpls["scheme"] == ref_scheme) & (smartpls["type"] == "cross_loading")]
    scores = res.scores
    got = [np.corrcoef(mobi[r.to], scores[r._2])[0, 1] for r in ref.itertuples(index=False)]
    assert_allclose(got, ref["value"].to_numpy(), atol=1e-4)


def test_ecsi_path_weighting_r2(mobi, ecsi):
    res = fit_pls(ecsi, mobi, scheme="path")
    expected = {"Expectation": 0.2549, "Quality": 0.3100, "Value": 0.3453,
                "Satisfaction": 0.6811, "Complaints": 0.2789, "Loyalty": 0.4569}
    for k, v in expected.items():
        assert res.r2[k] == pytest.approx(v, abs=6e-5)
    assert set(res.r2.index) == set(expected)
    # adjusted R2 by its textbook formula
    n = len(mobi)
    adj = res.extra["r2_adj"]
    assert adj["Satisfaction"] == pytest.approx(1 - (1 - res.r2["Satisfaction"]) * (n - 1) / (n - 4 - 1))


# -- R plspm, scaled = FALSE ---------------------------------------------------
def test_satisfaction_matches_plspm_unscaled(satisfaction):
    spec = make_spec(SAT_BLOCKS, SAT_PATHS)
    res = fit_pls(spec, satisfaction, scheme="centroid", standardize=False)
    ref = pd.read_csv(REF / "satisfaction_plspm.csv")
    paths = res.paths.set_index(["lhs", "rhs"])["est"]
    for r in ref.itertuples(index=False):
        if r.type == "path":
            assert paths[(r.to, r._1)] == pytest.approx(r.value, abs=1e-3), (r._1, r.to)
        elif r.type == "r2":
            assert res.r2[r.to] == pytest.approx(r.value, abs=1e-3), r.to
        elif r.type == "ave":
            std = res.loadings.query("lhs == @r.to")["std_all"].to_numpy()
            assert np.mean(std ** 2) == pytest.approx(r.value, abs=1e-3), r.to
            assert res.extra["ave"][r.to] == pytest.approx(r.value, abs=1e-3)
    # standardize=True is a different estimator: it must differ noticeably here
    std = fit_pls(spec, satisfaction, scheme="centroid", standardize=True)
    assert abs(std.paths.set_index(["lhs", "rhs"])["est"][("EXPE", "IMAG")] - 0.5790) > 0.01


def test_unscaled_weights_metric(satisfaction):
    spec = make_spec(SAT_BLOCKS, SAT_PATHS)
    res = fit_pls(spec, satisfaction, scheme="centroid", standardize=False)
    X = satisfaction[list(spec.indicators)].astype(float)
    w = res.weights.set_index("rhs")
    # est applies to centred raw items, std_all to standardized items
    assert_allclose(w["std_all"], w["est"] * X.std(ddof=1)[w.index], rtol=1e-12)
    for name, items in SAT_BLOCKS.items():
        score = (X[items] - X[items].mean()) @ w.loc[items, "est"]
        assert_allclose(score.to_numpy(), res.scores[name].to_numpy(), atol=1e-10)
        assert_allclose(res.extra["raw_weights"][name].to_numpy(), w.loc[items, "est"].to_numpy())


# -- textbook implementation on the raw data ---------------------------------
def textbook_pls(X: pd.DataFrame, blocks, paths, modes, scheme, tol=1e-10, max_iter=500):
    """Lohmöller's algorithm written out on standardized raw data, one
    construct at a time, as in Tenenhaus et al. (2005)."""
    Z = (X - X.mean()) / X.std(ddof=1)
    names = list(blocks)
    n = len(Z)
    w = {k: np.ones(len(v)) for k, v in blocks.items()}

    def score(k):
        y = Z[blocks[k]].to_numpy() @ w[k]
        return y / y.std(ddof=1)

    preds = {k: [f for f, t in paths if t == k] for k in names}
    succs = {k: [t for f, t in paths if f == k] for k in names}
    for _ in range(max_iter):
        Y = pd.DataFrame({k: score(k) for k in names})
        new = {}
        for k in names:
            z = np.zeros(n)
            for j in preds[k] + succs[k]:
                r = np.corrcoef(Y[k], Y[j])[0, 1]
                if scheme == "centroid":
                    z += np.sign(r) * Y[j]
                elif scheme == "factorial":
                    z += r * Y[j]
                elif j in succs[k]:
                    z += r * Y[j]
            if scheme == "path" and preds[k]:
                beta = np.linalg.lstsq(Y[preds[k]].to_numpy(), Y[k].to_numpy(), rcond=None)[0]
                z += Y[preds[k]].to_numpy() @ beta
            Xk = Z[blocks[k]].to_numpy()
            if len(blocks[k]) == 1:
                wk = np.ones(1)
            elif modes.get(k) == "B":
                wk = np.linalg.lstsq(Xk, z, rcond=None)[0]
            else:
                wk = Xk.T @ z / (n - 1)
            new[k] = wk / (Xk @ wk).std(ddof=1)
        delta = max(np.abs(new[k] - w[k]).max() for k in names)
        w = new
        if delta < tol:
            break
    Y = pd.DataFrame({k: score(k) for k in names})
    coefs = {}
    for k in names:
        if preds[k]:
            b = np.linalg.lstsq(Y[preds[k]].to_numpy(), Y[k].to_numpy(), rcond=None)[0]
            coefs.update({(k, f): v for f, v in zip(preds[k], b)})
    return w, coefs


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
def test_mode_b_matches_textbook(mobi, scheme):
    modes = {"Image": "B", "Quality": "B"}
    spec = make_spec(ECSI_BLOCKS, ECSI_PATHS, modes=modes)
    res = fit_pls(spec, mobi, scheme=scheme, tol=1e-10)
    w, coefs = textbook_pls(mobi, ECSI_BLOCKS, ECSI_PATHS, modes, scheme)
    wt = res.weights.set_index(["lhs", "rhs"])["est"]
    for k, items in ECSI_BLOCKS.items():
        assert_allclose([wt[(k, i)] for i in items], w[k], atol=1e-7)
    pt = res.paths.set_index(["lhs", "rhs"])["est"]
    for key, v in coefs.items():
        assert pt[key] == pytest.approx(v, abs=1e-7)


# -- scores, raw weights, scale limits -----------------------------------------
def test_scores_and_raw_weights(mobi, ecsi):
    res = fit_pls(ecsi, mobi)
    sc = res.scores
    assert_allclose(sc.mean().to_numpy(), 0, atol=1e-12)
    assert_allclose(sc.std(ddof=1).to_numpy(), 1, atol=1e-12)
    sd = mobi.std(ddof=1)
    w = res.weights.set_index("rhs")
    raw = res.extra["raw_weights"]["Satisfaction"]
    assert_allclose(raw.to_numpy(), (w.loc[raw.index, "est"] / sd[raw.index]).to_numpy())
    rs = res.extra["raw_scores"]["Satisfaction"]
    expect = mobi[list(raw.index)].to_numpy() @ (raw / raw.sum()).to_numpy()
    assert_allclose(rs.to_numpy(), expect)
    assert 1 <= rs.min() and rs.max() <= 10
    # every construct correlates positively with its items
    for k, items in ECSI_BLOCKS.items():
        assert np.corrcoef(mobi[items].sum(axis=1), sc[k])[0, 1] > 0
    assert 0 < res.fit_indices["srmr"] < 0.2
    assert np.isnan(res.fit_indices["cfi"])
    assert res.estimates[["se", "z", "pvalue", "ci_lower", "ci_upper"]].isna().all().all()


def test_srmr_composite_model_longhand(mobi, ecsi):
    res = fit_pls(ecsi, mobi)
    R = mobi[list(ecsi.indicators)].corr().to_numpy()
    items = list(ecsi.indicators)
    owner = {i: k for k, v in ECSI_BLOCKS.items() for i in v}
    lam = res.loadings.set_index("rhs")["std_all"]
    C = res.scores.corr()
    p = len(items)
    res2 = []
    for a in range(p):
        for b in range(a, p):
            ia, ib = items[a], items[b]
            implied = R[a, b] if owner[ia] == owner[ib] else lam[ia] * lam[ib] * C.loc[owner[ia], owner[ib]]
            res2.append((R[a, b] - implied) ** 2)
    assert res.fit_indices["srmr"] == pytest.approx(np.sqrt(np.mean(res2)), abs=1e-12)


def test_survey_like_input_keeps_scale_limits(mobi, ecsi):
    class FakeSurvey:
        data = mobi
        scale_limits = pd.DataFrame({"min": 1.0, "max": 10.0}, index=list(mobi.columns))

    res = fit_pls(ecsi, FakeSurvey())
    assert res.scale_limits is not None
    assert set(res.scale_limits.index) == set(ecsi.indicators)
    assert (res.scale_limits["max"] == 10).all()


def test_sign_fixing_reversed_block(mobi, ecsi):
    flipped = mobi.copy()
    for c in ECSI_BLOCKS["Image"]:
        flipped[c] = 11 - flipped[c]
    a = fit_pls(ecsi, mobi)
    b = fit_pls(ecsi, flipped)
    wa = a.weights.set_index(["lhs", "rhs"])["est"]
    wb = b.weights.set_index(["lhs", "rhs"])["est"]
    img = [("Image", i) for i in ECSI_BLOCKS["Image"]]
    # reversing every item of a block reverses the construct: the sign fix
    # keeps its weights positive and flips its paths
    assert (wb[img] > 0).all()
    assert_allclose(wb[img], wa[img], atol=1e-8)
    pa = a.paths.set_index(["lhs", "rhs"])["est"]
    pb = b.paths.set_index(["lhs", "rhs"])["est"]
    assert pb[("Expectation", "Image")] == pytest.approx(-pa[("Expectation", "Image")], abs=1e-8)


# -- batched core --------------------------------------------------------------
def test_batched_core_equals_single(mobi, ecsi):
    cs = compile_spec(ecsi)
    R = mobi[list(cs.items)].corr().to_numpy()
    one = pls_core(R, cs, "path")
    many = pls_core(np.broadcast_to(R, (7, *R.shape)).copy(), cs, "path")
    for f in ("weights", "loadings", "paths", "r2", "construct_corr", "n_iter", "converged"):
        a, b = getattr(one, f), getattr(many, f)
        assert b.shape[0] == 7
        for i in range(7):
            # identical up to rounding: batched BLAS may sum in another order (1 ulp)
            assert_allclose(b[i], a[0], rtol=0, atol=1e-14)


def test_batched_core_mixed_batch(mobi, ecsi):
    """Different problems in one batch: each equals its own solo fit; a
    degenerate problem fails alone; a sign-reversed block is fixed per problem."""
    cs = compile_spec(ecsi)
    rng = np.random.default_rng(7)
    X = mobi[list(cs.items)].to_numpy(float)
    mats = [np.cov(X[rng.integers(0, len(X), len(X))], rowvar=False) for _ in range(4)]
    flip = np.ones(cs.p)
    flip[cs.blocks[cs.index["Image"]]] = -1
    mats.append(mats[0] * np.outer(flip, flip))
    bad = mats[1].copy()
    bad[3, :] = bad[:, 3] = 0.0
    mats.append(bad)
    S = np.stack(mats)
    out = pls_core(S, cs, "factorial")
    assert out.failed.tolist() == [False] * 5 + [True]
    assert np.isnan(out.paths[5]).all()
    for i in range(4):
        solo = pls_core(S[i], cs, "factorial")
        assert_allclose(out.paths[i], solo.paths[0], atol=1e-12)
        assert_allclose(out.weights[i], solo.weights[0], atol=1e-12)
    # the reversed block: the sign fix gives the reversed items the same
    # positive weights; the construct (and its paths) change sign
    assert_allclose(out.weights[4], out.weights[0], atol=1e-10)
    assert_allclose(out.std_loadings[4], out.std_loadings[0], atol=1e-10)
    e, i_, s_ = cs.index["Expectation"], cs.index["Image"], cs.index["Satisfaction"]
    assert_allclose(out.paths[4][e, i_], -out.paths[0][e, i_], atol=1e-10)
    assert_allclose(out.paths[4][s_, e], out.paths[0][s_, e], atol=1e-10)


def test_large_n_equals_fit_on_covariance():
    rng = np.random.default_rng(2026)
    n = 1_000_000
    f1 = rng.standard_normal(n)
    f2 = 0.6 * f1 + 0.8 * rng.standard_normal(n)
    f3 = 0.3 * f1 + 0.5 * f2 + np.sqrt(1 - 0.09 - 0.25 - 2 * 0.3 * 0.5 * 0.6) * rng.standard_normal(n)
    cols = {}
    for name, f in (("a", f1), ("b", f2), ("c", f3)):
        for j, lam in enumerate((0.9, 0.8, 0.7), start=1):
            cols[f"{name}{j}"] = 3 + 2 * (lam * f + np.sqrt(1 - lam ** 2) * rng.standard_normal(n))
    df = pd.DataFrame(cols)
    blocks = {"A": ["a1", "a2", "a3"], "Bc": ["b1", "b2", "b3"], "Cc": ["c1", "c2", "c3"]}
    spec = make_spec(blocks, [("A", "Bc"), ("A", "Cc"), ("Bc", "Cc")])
    res = fit_pls(spec, df, scheme="path")
    cs = compile_spec(spec)
    S = np.cov(df[list(cs.items)].to_numpy(), rowvar=False)
    sd = np.sqrt(np.diag(S))
    core = pls_core(S / np.outer(sd, sd), cs, "path")
    assert_allclose(res.weights["est"].to_numpy(), core.weights[0], atol=1e-10)
    pt = res.paths.set_index(["lhs", "rhs"])["est"]
    assert pt[("Bc", "A")] == pytest.approx(core.paths[0, 1, 0], abs=1e-10)
    assert pt[("Cc", "Bc")] == pytest.approx(core.paths[0, 2, 1], abs=1e-10)
    assert res.n_obs == n
    # one-pass covariance equals numpy's
    _, cov = covariance_one_pass(df.to_numpy(float))
    assert_allclose(cov, np.cov(df.to_numpy(float), rowvar=False), rtol=1e-10)


# -- consistent PLS ---------------------------------------------------------------
def test_plsc_recovers_common_factor_truth():
    rng = np.random.default_rng(11)
    n = 200_000
    xi = rng.standard_normal(n)
    eta = 0.5 * xi + np.sqrt(0.75) * rng.standard_normal(n)
    lam_x, lam_y = (0.6, 0.7, 0.8), (0.7, 0.75, 0.85)
    cols = {}
    for j, lam in enumerate(lam_x, 1):
        cols[f"x{j}"] = lam * xi + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
    for j, lam in enumerate(lam_y, 1):
        cols[f"y{j}"] = lam * eta + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
    df = pd.DataFrame(cols)
    spec = make_spec({"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3"]}, [("X", "Y")])
    plain = fit_pls(spec, df)
    plsc = fit_pls(spec, df, consistent=True)
    path_plain = plain.paths["est"].iloc[0]
    path_c = plsc.paths["est"].iloc[0]
    assert path_plain < 0.46  # attenuated
    assert path_c == pytest.approx(0.5, abs=0.01)
    assert plsc.r2["Y"] == pytest.approx(0.25, abs=0.01)
    lo = plsc.loadings.set_index("rhs")["std_all"]
    assert_allclose(lo[["x1", "x2", "x3"]], lam_x, atol=0.01)
    assert_allclose(lo[["y1", "y2", "y3"]], lam_y, atol=0.01)
    # rho_A is consistent for the reliability of the composite with weights
    # proportional to the loadings (Dijkstra & Henseler 2015):
    # (sum l^2)^2 / ((sum l^2)^2 + sum l^2 (1 - l^2))
    l2 = np.square(lam_x)
    rel = l2.sum() ** 2 / (l2.sum() ** 2 + np.sum(l2 * (1 - l2)))
    assert plsc.extra["rho_a"]["X"] == pytest.approx(rel, abs=0.01)


# -- bad input ----------------------------------------------------------------------
def test_mode_b_collinear_block_raises(mobi):
    df = mobi.copy()
    df["IMAG5"] = df["IMAG1"] + df["IMAG2"]
    spec = make_spec(ECSI_BLOCKS, ECSI_PATHS, modes={"Image": "B"})
    with pytest.raises(EstimationError) as ei:
        fit_pls(spec, df)
    msg = str(ei.value)
    assert "Image" in msg and "IMAG1" in msg and "IMAG5" in msg and "what to do" in msg


def test_zero_variance_item_raises(mobi, ecsi):
    df = mobi.copy()
    df["PERQ3"] = 5
    with pytest.raises(DataError) as ei:
        fit_pls(ecsi, df)
    assert ei.value.column == ["PERQ3"]
    assert "PERQ3" in str(ei.value)


def test_missing_values_listwise(mobi, ecsi):
    df = mobi.copy().astype(float)
    df.loc[[3, 10, 11], "CUSA2"] = np.nan
    df.loc[10, "IMAG1"] = np.nan
    res = fit_pls(ecsi, df)
    assert res.n_obs == len(mobi) - 3
    assert res.data_info["rows_read"] == len(mobi)
    assert res.data_info["rows_used"] == len(mobi) - 3
    assert res.data_info["dropped"] == {"missing values (listwise deletion)": 3}
    ref = fit_pls(ecsi, mobi.drop(index=[3, 10, 11]))
    assert_allclose(res.paths["est"], ref.paths["est"], atol=1e-12)
    assert len(res.scores) == len(mobi) - 3


def test_nothing_left_after_deletion(mobi, ecsi):
    df = mobi.copy().astype(float)
    df.loc[df.index[::2], "CUSCO"] = np.nan      # every row misses one item or the other
    df.loc[df.index[1::2], "CUSL1"] = np.nan
    with pytest.raises(DataError, match="listwise"):
        fit_pls(ecsi, df)
    df["CUSCO"] = np.nan                         # an item nobody answered is named as such
    with pytest.raises(DataError, match="no answer at all .construct.s. Complaints") as ei:
        fit_pls(ecsi, df)
    assert ei.value.column == "CUSCO" or list(ei.value.column) == ["CUSCO"]


def test_missing_column_and_text_values(mobi, ecsi):
    with pytest.raises(SpecError) as ei:
        fit_pls(ecsi, mobi.drop(columns=["PERV2"]))
    assert "PERV2" in str(ei.value)
    df = mobi.copy().astype(object)
    df.loc[4, "CUEX2"] = "n/a"
    with pytest.raises(DataError) as ei:
        fit_pls(ecsi, df)
    assert ei.value.rows == [5] and ei.value.column == "CUEX2"


def test_bad_options(mobi, ecsi):
    with pytest.raises(SpecError, match="scheme"):
        fit_pls(ecsi, mobi, scheme="pathweighting")
    with pytest.raises(DataError):
        fit_pls(ecsi, mobi.to_numpy())


def test_summary_renders(mobi, ecsi):
    res = fit_pls(ecsi, mobi)
    text = str(res.summary())
    assert "converged after" in text and "Satisfaction" in text


# -- the model library -------------------------------------------------------------
def test_model_library_ecsi_matches_smartpls(mobi, smartpls):
    models = pytest.importorskip("csmlib.spec.models")
    res = fit_pls(models.ecsi(), mobi, scheme="path")
    ref = smartpls[(smartpls["scheme"] == "pathWeighting") & (smartpls["type"] == "path")]
    pt = res.paths.set_index(["lhs", "rhs"])["est"]
    assert len(pt) == len(ref)
    for r in ref.itertuples(index=False):
        assert pt[(r.to, r._2)] == pytest.approx(r.value, abs=1e-4)


def test_model_library_satisfaction_matches_plspm(satisfaction):
    models = pytest.importorskip("csmlib.spec.models")
    res = fit_pls(models.satisfaction_model(), satisfaction, scheme="centroid", standardize=False)
    ref = pd.read_csv(REF / "satisfaction_plspm.csv").query("type == 'r2'")
    for r in ref.itertuples(index=False):
        assert res.r2[r.to] == pytest.approx(r.value, abs=1e-3)


# -- missing answers: listwise or mean replacement ------------------------------
def _demo_acsi():
    import csmlib as csm

    survey = csm.read_survey(DATA / "demo" / "wave1.csv",
                             csm.Instrument.from_yaml(DATA / "demo" / "instrument.yml"))
    return csm.models.acsi(), survey


def test_mean_replacement_is_fitting_the_mean_filled_data():
    spec, survey = _demo_acsi()
    data = survey.data
    items = list(spec.indicators)
    filled = data.copy()
    for c in items:   # longhand: each hole gets the mean of the answers given
        answers = [v for v in data[c] if v == v]
        filled[c] = [v if v == v else sum(answers) / len(answers) for v in data[c]]
    res = fit_pls(spec, survey, missing="mean")
    ref = fit_pls(spec, filled[items])
    assert_allclose(res.estimates["est"], ref.estimates["est"], rtol=1e-12, atol=1e-14)
    assert res.n_obs == len(data) == 600
    assert res.data_info["mean_replaced"] == int(data[items].isna().sum().sum()) > 300
    assert res.options["missing"] == "mean"
    lw = fit_pls(spec, survey)          # the default drops incomplete respondents
    assert lw.n_obs == 344 and lw.data_info["dropped"]["missing values (listwise deletion)"] == 256


def test_mean_replacement_on_complete_data_changes_nothing_and_bad_input_still_fails():
    mobi = pd.read_csv(DATA / "mobi" / "mobi.csv")
    spec = ModelSpec.from_lavaan("Q =~ PERQ1 + PERQ2 + PERQ3\nS =~ CUSA1 + CUSA2 + CUSA3\nS ~ Q")
    assert_allclose(fit_pls(spec, mobi, missing="mean").estimates["est"],
                    fit_pls(spec, mobi).estimates["est"], rtol=1e-13)
    with pytest.raises(SpecError, match="missing='pairwise'"):
        fit_pls(spec, mobi, missing="pairwise")
    text = mobi.astype({"PERQ2": object})
    text.loc[4, "PERQ2"] = "n/a"
    with pytest.raises(DataError, match="non-numeric"):   # never averaged away
        fit_pls(spec, text, missing="mean")


def test_bootstrap_and_group_comparisons_keep_the_missing_treatment():
    import csmlib as csm

    spec, survey = _demo_acsi()
    fit = fit_pls(spec, survey, missing="mean")
    loop = csm.bootstrap(fit, 30, seed=3, engine="loop", statistics=["estimates"], n_jobs=1)
    batched = csm.bootstrap(fit, 30, seed=3, engine="batched", statistics=["estimates"], n_jobs=1)
    assert_allclose(loop.draws, batched.draws, rtol=1e-7, atol=1e-9)
    mic = csm.micom(spec, survey, "region", n_perm=20, seed=1, missing="mean")
    assert sum(mic.n.values()) == 600   # nobody dropped


# ----------------------------------------------------------- too few respondents
def _two_construct_data(n: int, beta: float, seed: int = 3) -> pd.DataFrame:
    """Q -> S with a standardized path ``beta``, three items each (loadings 0.8)."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=n)
    s = beta * q + np.sqrt(1 - beta**2) * rng.normal(size=n)
    cols = {f"q{i}": 0.8 * q + 0.6 * rng.normal(size=n) for i in (1, 2, 3)}
    cols.update({f"s{i}": 0.8 * s + 0.6 * rng.normal(size=n) for i in (1, 2, 3)})
    return pd.DataFrame(cols)


def test_fewer_respondents_than_the_largest_regression_needs_are_refused():
    # 3 respondents "converged" without a word (R-squared 1 for S on Q, V)
    from csmlib.errors import DataError

    spec = csm.ModelSpec.from_lavaan("Q =~ q1 + q2\nV =~ s1 + s2\nS =~ q3 + s3\nS ~ Q + V")
    data = _two_construct_data(4, 0.5)
    with pytest.raises(DataError, match=r"3 respondent\(s\) are too few.*regression of S on its "
                                        r"predictors \(Q, V\) needs at least 4"):
        csm.fit_pls(spec, data.iloc[:3])
    assert csm.fit_pls(spec, data).n_obs == 4          # predictors + 2 is enough to estimate


def test_respondents_with_zero_case_weight_do_not_count_towards_the_sample_size():
    # weights 0 leave rows out: 3 weighted respondents of 40 gave R-squared 1 without a word
    from csmlib.errors import DataError

    spec = csm.ModelSpec.from_lavaan("Q =~ q1 + q2\nV =~ s1 + s2\nS =~ q3 + s3\nS ~ Q + V")
    data = _two_construct_data(40, 0.5).assign(w=0.0)
    data.loc[:2, "w"] = 5.0
    with pytest.raises(DataError, match=r"3 respondent\(s\) with a case weight above 0 are too few.*"
                                        r"needs at least 4"):
        csm.fit_pls(spec, data, weights="w")
    data.loc[3, "w"] = 0.5
    assert csm.fit_pls(spec, data, weights="w").n_obs == 40


def test_a_mode_b_block_counts_as_a_regression_on_its_items():
    from csmlib.errors import DataError

    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(6, 8)), columns=list("abcdefgh"))
    spec = csm.ModelSpec.from_lavaan("F <~ a + b + c + d + e\nG =~ f + g + h\nG ~ F")
    with pytest.raises(DataError, match=r"mode B weights of F, a regression on its items "
                                        r"\(a, b, c, d, e\) needs at least 7"):
        csm.fit_pls(spec, data)
