"""Measurement quality (csmlib.analysis.measurement) against textbook definitions
written out longhand here, SmartPLS 2 cross-loadings on mobi, lavaan's
standardized solution of Bollen's political democracy model, and (when the
PLS estimator is available) R plspm AVE on the satisfaction data.

Reference data: data/references/ (see the README there) and the bundled datasets in data/."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import csmlib as csm
from csmlib.analysis import measurement as ms
from csmlib.errors import CsmError, DataError, DataWarning, SpecError
from csmlib.estimate.results import Results, tidy_estimates
from csmlib.spec import Construct, ModelSpec, Relation

DATA = Path(__file__).resolve().parents[1] / "data"
REF = DATA / "references"


# ---------------------------------------------------------------------------
# longhand textbook formulas (deliberately loops, not the library's algebra)
# ---------------------------------------------------------------------------
def mean_(x):
    return sum(x) / len(x)


def var_(x):
    m = mean_(x)
    return sum((v - m) ** 2 for v in x) / (len(x) - 1)


def cov_(x, y):
    mx, my = mean_(x), mean_(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / (len(x) - 1)


def corr_(x, y):
    return cov_(x, y) / math.sqrt(var_(x) * var_(y))


def alpha_longhand(cols):
    """Cronbach (1951): k/(k-1) * (1 - sum of item variances / variance of the total)."""
    k = len(cols)
    total = [sum(vals) for vals in zip(*cols)]
    return k / (k - 1) * (1 - sum(var_(c) for c in cols) / var_(total))


def rho_c_longhand(lam):
    s = sum(lam)
    return s * s / (s * s + sum(1 - v * v for v in lam))


def ave_longhand(lam):
    return sum(v * v for v in lam) / len(lam)


def rho_a_longhand(w, cols):
    """Dijkstra & Henseler (2015), eq. for rho_A with weights scaled to unit
    composite variance: (w'w)^2 * sum_{i!=j} w_i w_j r_ij / sum_{i!=j} w_i^2 w_j^2."""
    k = len(w)
    r = [[corr_(cols[i], cols[j]) for j in range(k)] for i in range(k)]
    v = sum(w[i] * w[j] * r[i][j] for i in range(k) for j in range(k))
    w = [x / math.sqrt(v) for x in w]
    ww = sum(x * x for x in w)
    num = sum(w[i] * w[j] * r[i][j] for i in range(k) for j in range(k) if i != j)
    den = sum(w[i] ** 2 * w[j] ** 2 for i in range(k) for j in range(k) if i != j)
    return ww**2 * num / den


def htmt_longhand(df, block_i, block_j, geometric=False):
    """Henseler, Ringle & Sarstedt (2015) / Roemer et al. (2021), on |r|."""
    def m(vals):
        if geometric:
            return math.exp(sum(math.log(v) for v in vals) / len(vals))
        return sum(vals) / len(vals)

    het = [abs(corr_(list(df[a]), list(df[b]))) for a in block_i for b in block_j]

    def mono(block):
        if len(block) == 1:
            return 1.0
        return m([abs(corr_(list(df[a]), list(df[b])))
                  for n, a in enumerate(block) for b in block[n + 1:]])

    return m(het) / math.sqrt(mono(block_i) * mono(block_j))


# ---------------------------------------------------------------------------
# fixtures: a small data set and hand-built results
# ---------------------------------------------------------------------------
BLOCKS = {"Quality": ["q1", "q2", "q3"], "Satisfaction": ["s1", "s2", "s3", "s4"], "Loyalty": ["l1"]}


def small_data(n=40, seed=7):
    rng = np.random.default_rng(seed)
    f1 = rng.normal(size=n)
    f2 = 0.6 * f1 + 0.8 * rng.normal(size=n)
    f3 = 0.5 * f2 + 0.85 * rng.normal(size=n)
    cols = {}
    for name, f, lam in (("q", f1, (0.8, 0.7, 0.6)), ("s", f2, (0.85, 0.75, 0.7, 0.65)), ("l", f3, (0.9,))):
        for j, l in enumerate(lam, 1):
            x = 4 + 1.3 * (l * f + math.sqrt(1 - l * l) * rng.normal(size=n))
            cols[f"{name}{j}"] = np.clip(np.round(x), 1, 7)
    return pd.DataFrame(cols)


def make_spec(blocks=BLOCKS, paths=(("Satisfaction", "Quality"), ("Loyalty", "Satisfaction"))):
    cons = tuple(Construct(k, tuple(v)) for k, v in blocks.items())
    rel = [Relation(k, "=~", i) for k, v in blocks.items() for i in v]
    rel += [Relation(lhs, "~", rhs) for lhs, rhs in paths]
    return ModelSpec(constructs=cons, relations=tuple(rel), name="small")


def make_results(spec, data, *, method="pls", rows=(), scores=None):
    est = tidy_estimates(pd.DataFrame(list(rows), columns=["lhs", "op", "rhs", "est", "std_all"])
                         if rows else pd.DataFrame(columns=["lhs", "op", "rhs", "est", "std_all"]))
    return Results(
        spec=spec, method=method, _estimates=est, _r2=pd.Series(dtype=float),
        _effects=pd.DataFrame(), _fit_indices=pd.Series(dtype=float),
        _scores=pd.DataFrame() if scores is None else scores,
        converged=True, n_iter=1, message="", n_obs=len(data) if data is not None else 0,
        _data=data,
    )


# outer weights and loadings chosen by hand (the formulas use them as given)
W = {"q1": 0.45, "q2": 0.35, "q3": 0.40, "s1": 0.30, "s2": 0.30, "s3": 0.25, "s4": 0.28, "l1": 1.0}
L = {"q1": 0.86, "q2": 0.79, "q3": 0.71, "s1": 0.88, "s2": 0.81, "s3": 0.77, "s4": 0.69, "l1": 1.0}


def pls_results(data=None):
    data = small_data() if data is None else data
    spec = make_spec()
    z = (data - data.mean()) / data.std(ddof=1)
    scores = pd.DataFrame({c: sum(W[i] * z[i] for i in items) for c, items in BLOCKS.items()})
    scores = scores / scores.std(ddof=1)
    rows = [(c, "=~", i, L[i], L[i]) for c, items in BLOCKS.items() for i in items]
    rows += [(c, "<~", i, W[i], np.nan) for c, items in BLOCKS.items() for i in items]
    return make_results(spec, data, rows=rows, scores=scores)


# ---------------------------------------------------------------------------
# reliability
# ---------------------------------------------------------------------------
def test_reliability_matches_textbook_definitions():
    res = pls_results()
    data = res.data
    rel = csm.reliability(res)
    assert list(rel.index) == ["Quality", "Satisfaction", "Loyalty"]
    assert list(rel.columns) == ["alpha", "alpha_std", "rho_a", "rho_c", "ave", "n_items"]
    for c in ("Quality", "Satisfaction"):
        items = BLOCKS[c]
        cols = [list(data[i]) for i in items]
        lam = [L[i] for i in items]
        assert rel.loc[c, "alpha"] == pytest.approx(alpha_longhand(cols), abs=1e-12)
        assert rel.loc[c, "rho_c"] == pytest.approx(rho_c_longhand(lam), abs=1e-12)
        assert rel.loc[c, "ave"] == pytest.approx(ave_longhand(lam), abs=1e-12)
        assert rel.loc[c, "rho_a"] == pytest.approx(rho_a_longhand([W[i] for i in items], cols), abs=1e-12)
        assert rel.loc[c, "n_items"] == len(items)
    # single item: perfectly reliable by convention (seminr 2.3.1 reports 1)
    assert rel.loc["Loyalty", "n_items"] == 1
    assert (rel.loc["Loyalty", ["alpha", "alpha_std", "rho_a", "rho_c", "ave"]] == 1.0).all()


def test_rho_a_does_not_depend_on_weight_scale():
    res = pls_results()
    data = res.data
    cols = [list(data[i]) for i in BLOCKS["Quality"]]
    w = [W[i] for i in BLOCKS["Quality"]]
    R = np.corrcoef(np.array(cols))
    a = ms._rho_a(np.array(w), R)
    b = ms._rho_a(10 * np.array(w), R)
    assert a == pytest.approx(b, abs=1e-12) == pytest.approx(rho_a_longhand(w, cols), abs=1e-12)


def test_rho_a_equal_weights_equals_alpha_on_standardized_items():
    """With equal weights, rho_A equals standardized alpha (Dijkstra & Henseler 2015)."""
    data = small_data()
    items = BLOCKS["Satisfaction"]
    z = [list((data[i] - data[i].mean()) / data[i].std()) for i in items]
    R = np.corrcoef(np.array([list(data[i]) for i in items]))
    assert ms._rho_a(np.ones(4), R) == pytest.approx(alpha_longhand(z), abs=1e-12)


def test_alpha_on_mobi_satisfaction_block():
    mobi = pd.read_csv(DATA / "mobi" / "mobi.csv")
    items = ["CUSA1", "CUSA2", "CUSA3"]
    spec = make_spec({"Satisfaction": items}, paths=())
    res = make_results(spec, mobi[items], rows=[("Satisfaction", "=~", i, 0.8, 0.8) for i in items])
    cols = [list(mobi[i]) for i in items]
    got = csm.reliability(res).loc["Satisfaction", "alpha"]
    assert got == pytest.approx(alpha_longhand(cols), abs=1e-12)
    # the other textbook form: k * mean covariance / (mean variance + (k-1) * mean covariance)
    k = len(cols)
    covs = [cov_(cols[i], cols[j]) for i in range(k) for j in range(k) if i != j]
    cbar, vbar = mean_(covs), mean_([var_(c) for c in cols])
    assert got == pytest.approx(k * cbar / (vbar + (k - 1) * cbar), abs=1e-12)


def test_reliability_assessment_flags():
    res = pls_results()
    out = ms.reliability_assessment(res, thresholds={"alpha": 0.7, "ave": 0.9})
    rel = csm.reliability(res)
    assert bool(out.loc["Quality", "ave_ok"]) is bool(rel.loc["Quality", "ave"] >= 0.9)
    assert bool(out.loc["Satisfaction", "alpha_ok"]) is bool(rel.loc["Satisfaction", "alpha"] >= 0.7)
    assert bool(out.loc["Loyalty", "alpha_ok"]) is True      # single item: alpha 1 by convention (seminr)
    assert "rho_c_ok" not in out.columns
    default = ms.reliability_assessment(res)
    assert {"alpha_ok", "rho_a_ok", "rho_c_ok", "ave_ok"} <= set(default.columns)
    with pytest.raises(DataError, match="unknown reliability"):
        ms.reliability_assessment(res, thresholds={"cr": 0.7})


# ---------------------------------------------------------------------------
# CB-SEM: omega from lavaan's standardized solution, implied correlations
# ---------------------------------------------------------------------------
PD_BLOCKS = {"ind60": ["x1", "x2", "x3"], "dem60": ["y1", "y2", "y3", "y4"], "dem65": ["y5", "y6", "y7", "y8"]}


def political_democracy_results():
    ref = pd.read_csv(REF / "political_democracy.reference_lavaan_params.csv")
    data = pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")
    spec = make_spec(PD_BLOCKS, paths=(("dem60", "ind60"), ("dem65", "ind60"), ("dem65", "dem60")))
    rows = [(r.lhs, r.op, r.rhs, r.est, r["std.all"]) for _, r in ref.iterrows()]
    return make_results(spec, data, method="cbsem", rows=rows), ref


def test_cbsem_omega_from_lavaan_standardized_solution():
    res, ref = political_democracy_results()
    rel = csm.reliability(res)
    std = {(r.lhs, r.op, r.rhs): r["std.all"] for _, r in ref.iterrows()}

    def theta(a, b):
        return std.get((a, "~~", b), std.get((b, "~~", a), 0.0))

    for c, items in PD_BLOCKS.items():
        lam = [std[(c, "=~", i)] for i in items]
        err = sum(theta(a, b) for a in items for b in items)   # variances + both off-diagonals
        omega = sum(lam) ** 2 / (sum(lam) ** 2 + err)
        assert rel.loc[c, "rho_c"] == pytest.approx(omega, abs=1e-12)
        assert rel.loc[c, "ave"] == pytest.approx(ave_longhand(lam), abs=1e-12)
        assert np.isnan(rel.loc[c, "rho_a"])
    # dem60 has the within-block residual covariance y2 ~~ y4: it lowers omega
    lam = [std[("dem60", "=~", i)] for i in PD_BLOCKS["dem60"]]
    assert rel.loc["dem60", "rho_c"] < rho_c_longhand(lam)


def test_cbsem_fornell_larcker_uses_implied_latent_correlations():
    res, ref = political_democracy_results()
    fl = csm.fornell_larcker(res)
    std = {(r.lhs, r.op, r.rhs): r["std.all"] for _, r in ref.iterrows()}
    b_di = std[("dem60", "~", "ind60")]
    g_ind = std[("dem65", "~", "ind60")]
    g_dem = std[("dem65", "~", "dem60")]
    # path tracing on the standardized solution (Wright's rules)
    assert fl.loc["dem60", "ind60"] == pytest.approx(b_di, abs=1e-6)
    assert fl.loc["dem65", "ind60"] == pytest.approx(g_ind + g_dem * b_di, abs=1e-6)
    assert fl.loc["dem65", "dem60"] == pytest.approx(g_dem + g_ind * b_di, abs=1e-6)
    rel = csm.reliability(res)
    for c in PD_BLOCKS:
        assert fl.loc[c, c] == pytest.approx(math.sqrt(rel.loc[c, "ave"]), abs=1e-12)
    assert np.allclose(fl.to_numpy(), fl.to_numpy().T, equal_nan=True)


# ---------------------------------------------------------------------------
# HTMT
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["arithmetic", "geometric"])
def test_htmt_matches_longhand(method):
    res = pls_results()
    data = res.data
    h = csm.htmt(res, method=method)
    names = list(BLOCKS)
    assert list(h.index) == names and list(h.columns) == names
    for a in names:
        assert np.isnan(h.loc[a, a])
        for b in names:
            if a != b:
                want = htmt_longhand(data, BLOCKS[a], BLOCKS[b], geometric=(method == "geometric"))
                assert h.loc[a, b] == pytest.approx(want, abs=1e-12)


def test_htmt_tidy_and_spec_data_call():
    res = pls_results()
    sq = csm.htmt(res)
    tidy = csm.htmt(res.spec, res.data, tidy=True)
    assert list(tidy.columns) == ["lhs", "rhs", "htmt"]
    assert len(tidy) == 3
    for _, r in tidy.iterrows():
        assert r.htmt == pytest.approx(sq.loc[r.lhs, r.rhs], abs=1e-15)
    assert list(zip(tidy.lhs, tidy.rhs)) == [("Quality", "Satisfaction"), ("Quality", "Loyalty"),
                                            ("Satisfaction", "Loyalty")]


def test_htmt_from_corr_stack_equals_each_matrix():
    data = small_data(n=60, seed=3)
    rng = np.random.default_rng(11)
    X = data.to_numpy()
    stack = np.stack([np.corrcoef(X[rng.integers(0, len(X), len(X))], rowvar=False) for _ in range(25)])
    stack = stack.reshape(5, 5, *stack.shape[-2:])            # two batch dimensions
    cols = list(data.columns)
    blocks = [[cols.index(i) for i in items] for items in BLOCKS.values()]
    for method in ("arithmetic", "geometric"):
        H = ms.htmt_from_corr(stack, blocks, method=method)
        assert H.shape == (5, 5, 3, 3)
        for a in range(5):
            for b in range(5):
                one = ms.htmt_from_corr(stack[a, b], blocks, method=method)
                np.testing.assert_allclose(H[a, b], one, rtol=0, atol=1e-14)


def test_htmt_from_corr_textbook_example_and_nan_isolation():
    # two blocks of two items: within r = .5 and .6, across all .3
    R = np.array([[1, .5, .3, .3], [.5, 1, .3, .3], [.3, .3, 1, .6], [.3, .3, .6, 1]])
    H = ms.htmt_from_corr(R, [[0, 1], [2, 3]])
    assert H[0, 1] == pytest.approx(0.3 / math.sqrt(0.5 * 0.6), abs=1e-15)
    assert H[1, 0] == H[0, 1] and np.isnan(H[0, 0])
    # a NaN correlation (a constant item in a resample) spoils only its pairs
    R3 = np.eye(6)
    R3[np.triu_indices(6, 1)] = R3.T[np.triu_indices(6, 1)] = 0.4
    R3[4, 5] = R3[5, 4] = np.nan
    H3 = ms.htmt_from_corr(R3, [[0, 1], [2, 3], [4, 5]])
    assert H3[0, 1] == pytest.approx(1.0)
    assert np.isnan(H3[0, 2]) and np.isnan(H3[1, 2])


def test_htmt_bad_input():
    res = pls_results()
    with pytest.raises(DataError, match="unknown HTMT method"):
        csm.htmt(res, method="harmonic")
    with pytest.raises(DataError, match="needs the data"):
        csm.htmt(res.spec)
    with pytest.raises(SpecError):
        csm.htmt(res.spec, res.data.drop(columns=["q2"]))
    d = res.data
    d["s3"] = 4.0
    with pytest.raises(DataError, match="no variance") as e:
        csm.htmt(res.spec, d)
    assert e.value.column == ["s3"]
    with pytest.raises(DataError, match="positive"):
        ms.htmt_from_corr(np.array([[1, .5, -.3], [.5, 1, .2], [-.3, .2, 1]]), [[0, 1], [2]],
                          method="geometric", absolute=False)


# ---------------------------------------------------------------------------
# Fornell-Larcker and cross-loadings
# ---------------------------------------------------------------------------
def test_fornell_larcker_pls_longhand():
    res = pls_results()
    fl = csm.fornell_larcker(res)
    sc = res.scores
    for a in BLOCKS:
        for b in BLOCKS:
            if a == b:
                if len(BLOCKS[a]) > 1:
                    assert fl.loc[a, a] == pytest.approx(math.sqrt(ave_longhand([L[i] for i in BLOCKS[a]])))
                else:      # single item: AVE 1 by convention (seminr's Fornell-Larcker table)
                    assert fl.loc[a, a] == 1.0
            else:
                assert fl.loc[a, b] == pytest.approx(corr_(list(sc[a]), list(sc[b])), abs=1e-12)


def test_cross_loadings_longhand():
    res = pls_results()
    cl = csm.cross_loadings(res)
    data, sc = res.data, res.scores
    assert list(cl.index) == [i for v in BLOCKS.values() for i in v]
    assert list(cl.columns) == list(BLOCKS)
    for i in cl.index:
        for c in cl.columns:
            assert cl.loc[i, c] == pytest.approx(corr_(list(data[i]), list(sc[c])), abs=1e-12)


ECSI_BLOCKS = {
    "Image": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    "Expectation": ["CUEX1", "CUEX2", "CUEX3"],
    "Quality": [f"PERQ{i}" for i in range(1, 8)],
    "Value": ["PERV1", "PERV2"],
    "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
    "Complaints": ["CUSCO"],
    "Loyalty": ["CUSL1", "CUSL2", "CUSL3"],
}
ECSI_PATHS = (
    ("Expectation", "Image"), ("Satisfaction", "Image"), ("Loyalty", "Image"),
    ("Quality", "Expectation"), ("Value", "Expectation"), ("Satisfaction", "Expectation"),
    ("Value", "Quality"), ("Satisfaction", "Quality"), ("Satisfaction", "Value"),
    ("Complaints", "Satisfaction"), ("Loyalty", "Satisfaction"), ("Loyalty", "Complaints"),
)


@pytest.mark.parametrize("scheme", ["centroid", "factorial", "pathWeighting"])
def test_cross_loadings_match_smartpls_on_mobi(scheme):
    """Scores built from SmartPLS 2's own outer weights; our cross-loadings
    and loading-based statistics must reproduce SmartPLS's tables."""
    mobi = pd.read_csv(DATA / "mobi" / "mobi.csv")
    ref = pd.read_csv(REF / "mobi.reference_smartpls2.csv")
    ref = ref[ref.scheme == scheme]
    w = {(r["from"], r["to"]): r.value for _, r in ref[ref.type == "outer_weight"].iterrows()}
    lo = {(r["from"], r["to"]): r.value for _, r in ref[ref.type == "loading"].iterrows()}
    z = (mobi - mobi.mean()) / mobi.std(ddof=1)
    scores = pd.DataFrame({c: sum(w[(c, i)] * z[i] for i in items) for c, items in ECSI_BLOCKS.items()})
    spec = make_spec(ECSI_BLOCKS, paths=ECSI_PATHS)
    rows = [(c, "=~", i, lo[(c, i)], lo[(c, i)]) for c, items in ECSI_BLOCKS.items() for i in items]
    rows += [(c, "<~", i, w[(c, i)], w[(c, i)]) for c, items in ECSI_BLOCKS.items() for i in items]
    res = make_results(spec, mobi, rows=rows, scores=scores)
    cl = csm.cross_loadings(res)
    n = 0
    for _, r in ref[ref.type == "cross_loading"].iterrows():
        assert cl.loc[r.to, r["from"]] == pytest.approx(r.value, abs=1e-4), (r.to, r["from"])
        n += 1
    assert n == 168
    # own-block cross-loadings are the loadings
    for (c, i), v in lo.items():
        assert cl.loc[i, c] == pytest.approx(v, abs=1e-4)
    rel = csm.reliability(res)
    for c, items in ECSI_BLOCKS.items():
        if len(items) > 1:
            lam = [lo[(c, i)] for i in items]
            assert rel.loc[c, "rho_c"] == pytest.approx(rho_c_longhand(lam), abs=1e-12)
            assert rel.loc[c, "ave"] == pytest.approx(ave_longhand(lam), abs=1e-12)
            cols = [list(mobi[i]) for i in items]
            assert rel.loc[c, "rho_a"] == pytest.approx(rho_a_longhand([w[(c, i)] for i in items], cols),
                                                        abs=1e-9)


# ---------------------------------------------------------------------------
# item descriptives
# ---------------------------------------------------------------------------
def test_item_descriptives_longhand():
    df = pd.DataFrame({
        "a": [1, 2, 2, 3, 5, 5, 5, 4, np.nan, 1],
        "b": [3, 3, 4, 4, 4, 5, 1, 2, 2, 3],
        "note": list("abcdefghij"),
    })
    limits = {"a": (1, 5), "b": (1, 5)}
    out = csm.item_descriptives(df, scale_limits=limits, top=2)
    assert list(out.index) == ["a", "b"]   # the text column is not an item
    assert list(out.columns) == ["n", "mean", "sd", "skew", "kurtosis", "share_missing",
                                 "scale_min", "scale_max", "top_box", "bottom_box"]
    for item in ("a", "b"):
        x = [v for v in df[item] if not (isinstance(v, float) and math.isnan(v))]
        n = len(x)
        m = mean_(x)
        sd = math.sqrt(var_(x))
        m2 = sum((v - m) ** 2 for v in x) / n
        m3 = sum((v - m) ** 3 for v in x) / n
        m4 = sum((v - m) ** 4 for v in x) / n
        g1 = m3 / m2 ** 1.5
        G1 = g1 * math.sqrt(n * (n - 1)) / (n - 2)
        G2 = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * (m4 / m2**2 - 3) + 6)
        assert out.loc[item, "n"] == n
        assert out.loc[item, "mean"] == pytest.approx(m)
        assert out.loc[item, "sd"] == pytest.approx(sd)
        assert out.loc[item, "skew"] == pytest.approx(G1)
        assert out.loc[item, "skew"] == pytest.approx(stats.skew(x, bias=False))
        assert out.loc[item, "kurtosis"] == pytest.approx(G2)
        assert out.loc[item, "kurtosis"] == pytest.approx(stats.kurtosis(x, bias=False))
        assert out.loc[item, "share_missing"] == pytest.approx((len(df) - n) / len(df))
        assert out.loc[item, "top_box"] == pytest.approx(sum(v >= 4 for v in x) / n)   # top-2 box
        assert out.loc[item, "bottom_box"] == pytest.approx(sum(v == 1 for v in x) / n)


def test_item_descriptives_uses_theoretical_limits_not_observed():
    df = pd.DataFrame({"x": [2, 3, 4, 4]})          # scale 1..5; nobody answered 5 or 1
    out = csm.item_descriptives(df, scale_limits=(1, 5))
    assert out.loc["x", "top_box"] == 0.0 and out.loc["x", "bottom_box"] == 0.0
    lim = pd.DataFrame({"min": [0], "max": [4]}, index=["x"])
    out = csm.item_descriptives(df, scale_limits=lim)
    assert out.loc["x", "top_box"] == 0.5


def test_item_descriptives_step_for_coarse_scales():
    df = pd.DataFrame({"a01": [0, 20, 60, 80, 80, 100, 100, 40]})   # 0-100 in steps of 20
    out = csm.item_descriptives(df, scale_limits=(0, 100), top=2, bottom=2, step=20)
    assert out.loc["a01", "top_box"] == pytest.approx(4 / 8)      # 80 and 100
    assert out.loc["a01", "bottom_box"] == pytest.approx(2 / 8)   # 0 and 20
    with pytest.raises(DataError, match="step"):
        csm.item_descriptives(df, scale_limits=(0, 100), step=0)


def test_item_descriptives_from_results_and_survey_like():
    res = pls_results()
    with pytest.warns(DataWarning, match="no scale limits"):
        out = csm.item_descriptives(res)
    assert list(out.index) == list(res.spec.indicators)
    assert out[["top_box", "bottom_box"]].isna().all().all()

    class SurveyLike:   # the Survey interface: .data and .scale_limits (index item, min, max)
        data = res.data.assign(age=41.0)                  # not an item of the instrument
        scale_limits = pd.DataFrame({"min": 1.0, "max": 7.0}, index=list(res.data.columns))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = csm.item_descriptives(SurveyLike())
    assert list(out.index) == list(res.data.columns)
    x = list(res.data["q1"])
    assert out.loc["q1", "top_box"] == pytest.approx(sum(v == 7 for v in x) / len(x))


def test_item_descriptives_bad_input():
    df = pd.DataFrame({"a": [1, 2, 9, 3], "t": list("wxyz")})
    with pytest.raises(DataError, match="outside its scale") as e:
        csm.item_descriptives(df, scale_limits=(1, 5))
    assert e.value.column == "a" and e.value.rows == [3] and e.value.values == [9.0]
    with pytest.raises(DataError, match="not numeric"):
        csm.item_descriptives(df, items=["t"], scale_limits=(1, 5))
    with pytest.raises(DataError, match="not columns"):
        csm.item_descriptives(df, items=["zz"], scale_limits=(1, 5))
    with pytest.raises(DataError, match="exceed"):
        csm.item_descriptives(df[["a"]], scale_limits=(5, 1))
    with pytest.raises(DataError, match="positive integer"):
        csm.item_descriptives(df[["a"]], scale_limits=(1, 10), top=0)


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [csm.reliability, csm.htmt, csm.fornell_larcker, csm.cross_loadings])
def test_results_without_data_is_a_clear_error(fn):
    res = pls_results()
    bare = make_results(res.spec, None, rows=[("Quality", "=~", "q1", 0.8, 0.8)])
    with pytest.raises(CsmError, match="carry none"):
        fn(bare)


@pytest.mark.parametrize("fn", [csm.reliability, csm.fornell_larcker, csm.cross_loadings])
def test_non_results_input_is_a_clear_error(fn):
    with pytest.raises(DataError, match="fitted Results"):
        fn(small_data())


def test_missing_indicator_column_and_missing_scores():
    res = pls_results()
    broken = make_results(res.spec, res.data.drop(columns=["s2"]), rows=[])
    with pytest.raises(SpecError) as e:
        csm.reliability(broken)
    assert "s2" in str(e.value)
    no_scores = make_results(res.spec, res.data, rows=[])
    with pytest.raises(CsmError, match="scores"):
        csm.cross_loadings(no_scores)


# ---------------------------------------------------------------------------
# on real fits, once the estimators exist
# ---------------------------------------------------------------------------
HAS_PLS = importlib.util.find_spec("csmlib.estimate.pls") is not None

SAT_BLOCKS = {
    "IMAG": [f"imag{i}" for i in range(1, 6)], "EXPE": [f"expe{i}" for i in range(1, 6)],
    "QUAL": [f"qual{i}" for i in range(1, 6)], "VAL": [f"val{i}" for i in range(1, 5)],
    "SAT": [f"sat{i}" for i in range(1, 5)], "LOY": [f"loy{i}" for i in range(1, 5)],
}
SAT_PATHS = (("EXPE", "IMAG"), ("SAT", "IMAG"), ("LOY", "IMAG"), ("QUAL", "EXPE"), ("VAL", "EXPE"),
             ("SAT", "EXPE"), ("VAL", "QUAL"), ("SAT", "QUAL"), ("SAT", "VAL"), ("LOY", "SAT"))


@pytest.mark.skipif(not HAS_PLS, reason="csmlib.estimate.pls not available yet")
def test_ave_matches_plspm_on_satisfaction():
    sat = pd.read_csv(DATA / "satisfaction" / "satisfaction.csv").drop(columns=["gender"])
    spec = make_spec(SAT_BLOCKS, paths=SAT_PATHS)
    pls = csm.fit_pls(spec, sat, scheme="centroid", standardize=False)   # plspm scaled = FALSE
    rel = csm.reliability(pls)
    want = {"IMAG": 0.582, "EXPE": 0.616, "QUAL": 0.659, "VAL": 0.664, "SAT": 0.759, "LOY": 0.639}
    for c, v in want.items():
        assert rel.loc[c, "ave"] == pytest.approx(v, abs=1e-3)
    for c, items in SAT_BLOCKS.items():
        assert rel.loc[c, "alpha"] == pytest.approx(alpha_longhand([list(sat[i]) for i in items]), abs=1e-12)
    cl = csm.cross_loadings(pls)
    for c, items in SAT_BLOCKS.items():      # own-block cross-loadings are the loadings
        for i in items:
            assert cl.loc[i, c] == pytest.approx(pls.loadings.set_index("rhs").loc[i, "std_all"], abs=1e-6)


@pytest.mark.skipif(not HAS_PLS, reason="csmlib.estimate.pls not available yet")
def test_real_pls_fit_on_mobi_against_smartpls():
    """fit_pls on mobi (path weighting): cross-loadings and the loading-based
    statistics against SmartPLS 2; rho_A and HTMT against the longhand forms."""
    mobi = pd.read_csv(DATA / "mobi" / "mobi.csv")
    ref = pd.read_csv(REF / "mobi.reference_smartpls2.csv")
    ref = ref[ref.scheme == "pathWeighting"]
    spec = make_spec(ECSI_BLOCKS, paths=ECSI_PATHS)
    pls = csm.fit_pls(spec, mobi, scheme="path")
    cl = csm.cross_loadings(pls)
    for _, r in ref[ref.type == "cross_loading"].iterrows():
        assert cl.loc[r.to, r["from"]] == pytest.approx(r.value, abs=1e-4)
    lo = {(r["from"], r["to"]): r.value for _, r in ref[ref.type == "loading"].iterrows()}
    w = {(r["from"], r["to"]): r.value for _, r in ref[ref.type == "outer_weight"].iterrows()}
    rel = csm.reliability(pls)
    for c, items in ECSI_BLOCKS.items():
        if len(items) == 1:
            assert (rel.loc[c, ["alpha", "alpha_std", "rho_a", "rho_c", "ave"]] == 1.0).all()
            continue
        lam = [lo[(c, i)] for i in items]
        assert rel.loc[c, "rho_c"] == pytest.approx(rho_c_longhand(lam), abs=1e-4)
        assert rel.loc[c, "ave"] == pytest.approx(ave_longhand(lam), abs=1e-4)
        cols = [list(mobi[i]) for i in items]
        assert rel.loc[c, "rho_a"] == pytest.approx(rho_a_longhand([w[(c, i)] for i in items], cols), abs=1e-4)
        assert rel.loc[c, "alpha"] == pytest.approx(alpha_longhand(cols), abs=1e-12)
    fl = csm.fornell_larcker(pls)
    sc = pls.scores
    assert fl.loc["Satisfaction", "Loyalty"] == pytest.approx(
        corr_(list(sc["Satisfaction"]), list(sc["Loyalty"])), abs=1e-12)
    h = csm.htmt(pls)
    assert h.loc["Image", "Complaints"] == pytest.approx(
        htmt_longhand(mobi, ECSI_BLOCKS["Image"], ["CUSCO"]), abs=1e-12)
    assert h.loc["Value", "Satisfaction"] == pytest.approx(
        htmt_longhand(mobi, ECSI_BLOCKS["Value"], ECSI_BLOCKS["Satisfaction"]), abs=1e-12)


HAS_CBSEM = importlib.util.find_spec("csmlib.estimate.cbsem") is not None


@pytest.mark.skipif(not HAS_CBSEM, reason="csmlib.estimate.cbsem not available yet")
def test_real_cbsem_fit_omega_matches_lavaan():
    """fit_cbsem on political democracy: omega and AVE from our fit equal the
    longhand values from lavaan's completely standardized solution (1e-3)."""
    data = pd.read_csv(DATA / "political_democracy" / "political_democracy.csv")
    ref = pd.read_csv(REF / "political_democracy.reference_lavaan_params.csv")
    text = """
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + y2 + y3 + y4
    dem65 =~ y5 + y6 + y7 + y8
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
    """
    cb = csm.fit_cbsem(csm.ModelSpec.from_lavaan(text), data)
    rel = csm.reliability(cb)
    std = {(r.lhs, r.op, r.rhs): r["std.all"] for _, r in ref.iterrows()}
    for c, items in PD_BLOCKS.items():
        lam = [std[(c, "=~", i)] for i in items]
        err = sum(std.get((a, "~~", b), std.get((b, "~~", a), 0.0)) for a in items for b in items)
        assert rel.loc[c, "rho_c"] == pytest.approx(sum(lam) ** 2 / (sum(lam) ** 2 + err), abs=1e-3)
        assert rel.loc[c, "ave"] == pytest.approx(ave_longhand(lam), abs=1e-3)
        assert np.isnan(rel.loc[c, "rho_a"])
    fl = csm.fornell_larcker(cb)
    b = std[("dem60", "~", "ind60")]
    assert fl.loc["dem60", "ind60"] == pytest.approx(b, abs=1e-3)
    assert fl.loc["dem65", "dem60"] == pytest.approx(std[("dem65", "~", "dem60")]
                                                     + std[("dem65", "~", "ind60")] * b, abs=1e-3)


@pytest.mark.skipif(not HAS_PLS, reason="csmlib.estimate.pls not available yet")
def test_fornell_larcker_plsc_uses_disattenuated_correlations():
    """PLSc (Dijkstra & Henseler 2015): construct correlation = score
    correlation / sqrt(rho_A_i * rho_A_j), rho_A = 1 for a single item."""
    mobi = pd.read_csv(DATA / "mobi" / "mobi.csv")
    spec = make_spec(ECSI_BLOCKS, paths=ECSI_PATHS)
    pls = csm.fit_pls(spec, mobi, scheme="path", consistent=True)
    fl = csm.fornell_larcker(pls)
    wt = pls.weights.set_index("rhs")["std_all"]
    sc = pls.scores

    def rho(c):
        items = ECSI_BLOCKS[c]
        if len(items) == 1:
            return 1.0
        return rho_a_longhand([wt[i] for i in items], [list(mobi[i]) for i in items])

    for a, b in (("Satisfaction", "Loyalty"), ("Image", "Value"), ("Complaints", "Loyalty")):
        want = corr_(list(sc[a]), list(sc[b])) / math.sqrt(rho(a) * rho(b))
        assert fl.loc[a, b] == pytest.approx(want, abs=1e-9)
