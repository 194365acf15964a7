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


def test_hoc_index_uses_combined_item_weights(corp_rep):
    """The HOC's score is a weighted sum of its items with the combined raw
    weights, and its index is the index formula over those items."""
    for method in ("two_stage", "repeated_indicators"):
        res = csm.fit_pls(csm.ModelSpec.from_lavaan(hoc_model("=~")), corp_rep, missing="mean", hoc=method)
        w = csm.index.raw_weights(res, "REP")["REP"]
        assert list(w.index) == ["comp_1", "comp_2", "comp_3", "like_1", "like_2", "like_3"]
        X = res.data[list(w.index)].to_numpy(float)
        score = X @ w.to_numpy()
        _close(score - score.mean(), res.scores["REP"].to_numpy(), 1e-9)
        lim = {i: (1, 7) for i in w.index}
        idx = csm.satisfaction_index(res, "REP", scale_limits=lim)
        m = X.mean(axis=0)
        _close(float(idx), 100 * np.sum(w * (m - 1)) / np.sum(w * 6), 1e-9)
        assert set(csm.ipma(res, target="CUSL", scale_limits={i: (1, 7) for i in res.spec.indicators})["construct"]) \
            >= {"REP", "CUSA"}


# -- weighted PLS ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weighted(corp_rep):
    spec = csm.ModelSpec.from_lavaan(MEDIATION)
    d = corp_rep.dropna(subset=list(spec.indicators)).reset_index(drop=True)
    d["w"] = np.random.default_rng(3).integers(0, 4, len(d))
    rep = d.loc[np.repeat(d.index.to_numpy(), d["w"].to_numpy())].reset_index(drop=True)
    return spec, d, rep


@pytest.mark.parametrize("standardize", [True, False])
def test_weighted_pls_equals_repeated_rows(weighted, standardize):
    spec, d, rep = weighted
    a = csm.fit_pls(spec, d, weights="w", standardize=standardize)
    b = csm.fit_pls(spec, rep, standardize=standardize)
    np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.estimates["std_all"], b.estimates["std_all"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.r2, b.r2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.effects[["direct", "indirect", "total"]], b.effects[["direct", "indirect", "total"]],
                               rtol=0, atol=1e-10)
    lim = {i: (1, 7) for i in spec.indicators}
    for c in ("COMP", "LIKE", "CUSL"):
        _close(float(csm.satisfaction_index(a, c, scale_limits=lim)),
               float(csm.satisfaction_index(b, c, scale_limits=lim)), 1e-9)
    ia = csm.ipma(a, target="CUSL", scale_limits=lim).set_index("construct")
    ib = csm.ipma(b, target="CUSL", scale_limits=lim).set_index("construct")
    _close(ia.loc[ib.index, ["importance", "performance"]], ib[["importance", "performance"]], 1e-9)
    assert not any("unweighted" in m for m in a.warnings)


def test_weighted_structures_equal_repeated_rows(weighted, corp_rep):
    _, d, rep = weighted
    for text, kw in ((INTERACTION, {"interaction": "product_indicator"}), (INTERACTION, {}),
                     (hoc_model("<~"), {})):
        spec = csm.ModelSpec.from_lavaan(text)
        dd = corp_rep.dropna(subset=list(spec.indicators)).reset_index(drop=True)
        dd["w"] = np.random.default_rng(5).integers(0, 4, len(dd))
        rr = dd.loc[np.repeat(dd.index.to_numpy(), dd["w"].to_numpy())].reset_index(drop=True)
        a = csm.fit_pls(spec, dd, weights="w", **kw)
        b = csm.fit_pls(spec, rr, **kw)
        np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], rtol=0, atol=1e-9)


def test_weighted_bootstrap_resamples_weights_with_rows(weighted):
    spec, d, _ = weighted
    res = csm.fit_pls(spec, d, weights="w")
    boot = csm.bootstrap(res, n_boot=3, seed=11, statistics=["estimates"])
    from csmlib.estimate.bootstrapping import resample_indices
    idx = resample_indices(len(d), 3, 11)
    for b in range(3):
        refit = csm.fit_pls(spec, d.iloc[idx[b]].reset_index(drop=True), weights="w")
        e = refit.estimates.set_index(["lhs", "op", "rhs"])["est"]
        keys = boot.keys[boot.keys["group"] == "estimates"]
        got = boot.draws[b, keys.index.to_numpy()]
        want = e.loc[list(zip(keys["lhs"], keys["op"], keys["rhs"]))].to_numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def test_bad_case_weights_are_clear_errors(weighted):
    spec, d, _ = weighted
    bad = d.assign(w=d["w"].astype(float))
    bad.loc[4, "w"] = -1.0
    with pytest.raises(csm.DataError, match="negative") as e:
        csm.fit_pls(spec, bad, weights="w")
    assert "w" in str(e.value) and "5" in str(e.value)
    with pytest.raises(csm.DataError):
        csm.fit_pls(spec, d, weights="nosuchcolumn")


@pytest.mark.parametrize("text,kw", [(INTERACTION, {"interaction": "two_stage"}),
                                     (INTERACTION, {"interaction": "orthogonal"}),
                                     (hoc_model("=~"), {"hoc": "two_stage"}),
                                     (hoc_model("=~"), {"hoc": "repeated_indicators"})])
def test_bootstrap_redoes_the_stages_in_every_resample(corp_rep, text, kw):
    """A draw of the batched engine is the fit of the resampled data, stages
    and all."""
    from csmlib.estimate.bootstrapping import resample_indices

    spec = csm.ModelSpec.from_lavaan(text)
    res = csm.fit_pls(spec, corp_rep, missing="mean", **kw)
    boot = csm.bootstrap(res, n_boot=2, seed=7, statistics=["estimates", "r2"], n_jobs=1)
    assert boot.engine == "pls-staged-batched"
    assert boot.n_failed == 0
    idx = resample_indices(res.n_obs, 2, 7)
    refit = csm.fit_pls(spec, res.data.iloc[idx[1]].reset_index(drop=True), missing="mean", **kw)
    e = refit.estimates.set_index(["lhs", "op", "rhs"])["est"]
    keys = boot.keys[boot.keys["group"] == "estimates"]
    want = e.loc[list(zip(keys["lhs"], keys["op"], keys["rhs"]))].to_numpy()
    np.testing.assert_allclose(boot.draws[1, keys.index.to_numpy()], want, rtol=0, atol=1e-9)
    r2 = boot.keys[boot.keys["group"] == "r2"]
    np.testing.assert_allclose(boot.draws[1, r2.index.to_numpy()], refit.r2[r2["lhs"]].to_numpy(), rtol=0, atol=1e-9)
    if spec.interactions:
        assert ("CUSL", "CUSA:SC") in set(zip(boot.paths["lhs"], boot.paths["rhs"]))


@pytest.mark.parametrize("text,kw", [(INTERACTION, {}), (INTERACTION, {"interaction": "product_indicator"}),
                                     (INTERACTION, {"interaction": "orthogonal"}), (hoc_model("<~"), {}),
                                     (hoc_model("=~"), {"hoc": "repeated_indicators"})])
def test_batched_staged_bootstrap_equals_refits(corp_rep, text, kw):
    """Weighted, every statistic group: the batched engine's draws are the
    loop engine's (one fit_pls per resample)."""
    spec = csm.ModelSpec.from_lavaan(text)
    d = corp_rep.assign(w=np.random.default_rng(1).uniform(0.3, 2.0, len(corp_rep)))
    res = csm.fit_pls(spec, d, missing="mean", weights="w", **kw)
    lim = {i: (1, 7) for i in spec.construct("CUSL").indicators + spec.construct("COMP").indicators
           + spec.construct("LIKE").indicators}
    a = csm.bootstrap(res, n_boot=4, seed=3, scale_limits=lim, n_jobs=1)
    b = csm.bootstrap(res, n_boot=4, seed=3, scale_limits=lim, engine="loop", n_jobs=1)
    assert a.engine == "pls-staged-batched" and a.n_failed == b.n_failed == 0
    ka = [tuple(k) for k in a.keys.to_numpy()]
    kb = {tuple(k): i for i, k in enumerate(b.keys.to_numpy())}
    assert set(ka) == set(kb)
    if spec.higher_order:
        assert ("index", "REP", "index", "") in kb
    np.testing.assert_allclose(a.draws, b.draws[:, [kb[k] for k in ka]], rtol=0, atol=1e-9)
    raw = csm.fit_pls(spec, d, missing="mean", standardize=False, **kw)
    with pytest.raises(SpecError, match="batched"):
        csm.bootstrap(raw, n_boot=2, seed=1, engine="batched")


# -- multi-group ------------------------------------------------------------------------
def test_mga_matches_seminr(corp_rep):
    ref = pd.read_csv(REF / "seminr_corp_rep_mga.csv").set_index(["lhs", "rhs"])
    m = csm.mga(csm.ModelSpec.from_lavaan(MEDIATION), corp_rep, group="servicetype", n_boot=1000,
                n_perm=0, seed=123, missing="mean")
    assert m.groups == (1, 2) and m.n == {1: 125, 2: 219}
    got = m.paths.set_index(["lhs", "rhs"]).loc[ref.index]
    for c in ("est_1", "est_2", "diff"):
        _close(got[c], ref[c])
    # bootstrap-random: seminr's README tolerance
    _close(got["pls_mga_p"], ref["pls_mga_p"], 0.08)
    _close(got["p_two_sided"], ref["p_two_sided"], 0.16)
    assert got["perm_pvalue"].isna().all()


def test_henseler_p_counts_pairs():
    from csmlib.analysis.mga import henseler_p

    b1 = np.array([[1.0], [2.0], [3.0]])           # mean 2: 2m1 - b1 = 3, 2, 1
    b2 = np.array([[0.0], [4.0]])                  # mean 2: 2m2 - b2 = 4, 0
    # pairs with (2 m1 - b1_i) - (2 m2 - b2_j) > 0: (3,0) (2,0) (1,0) -> 3 of 6
    _close(henseler_p(b1, b2), [1 - 3 / 6], 1e-15)


def test_mga_three_groups_holm(corp_rep):
    d = corp_rep.assign(seg=np.arange(len(corp_rep)) % 3)
    spec = csm.ModelSpec.from_lavaan(MEDIATION)
    m = csm.mga(spec, d, group="seg", n_boot=100, n_perm=99, seed=5, missing="mean", min_base=30)
    assert len(m.paths) == 3 * len(spec.paths)
    assert {(a, b) for a, b in zip(m.paths["group_1"], m.paths["group_2"])} == {(0, 1), (0, 2), (1, 2)}
    assert (m.paths["perm_pvalue_holm"] >= m.paths["perm_pvalue"] - 1e-15).all()
    # each group's paths are that group's own fit (group-wise mean replacement)
    own = csm.fit_pls(spec, d[d["seg"] == 2], missing="mean").paths.set_index(["lhs", "rhs"])["est"]
    row = m.paths[(m.paths["group_1"] == 1) & (m.paths["group_2"] == 2)].set_index(["lhs", "rhs"])
    _close(row["est_2"], own.loc[row.index], 1e-12)
    # the pair's permutation p-value is the two-group permutation test's
    pt = csm.permutation_test(spec, d, "seg", groups=(0, 2), n_perm=99, seed=5, missing="mean", min_base=30)
    row = m.paths[(m.paths["group_1"] == 0) & (m.paths["group_2"] == 2)].set_index(["lhs", "rhs"])
    _close(row["perm_pvalue"], pt.paths.set_index(["lhs", "rhs"]).loc[row.index, "pvalue"], 1e-15)
    with pytest.raises(csm.DataError):
        csm.mga(spec, d, group="nosuch", n_boot=10)
    with pytest.raises(SpecError):
        csm.mga(csm.ModelSpec.from_lavaan(INTERACTION), d, group="seg", n_boot=10)


# -- simple slopes ---------------------------------------------------------------------
def test_simple_slopes_and_plot(corp_rep):
    spec = csm.ModelSpec.from_lavaan(INTERACTION)
    res = csm.fit_pls(spec, corp_rep, missing="mean")
    ss = csm.simple_slopes(res, x="CUSA", moderator="SC")
    ref = pd.read_csv(REF / "seminr_corp_rep_interaction_paths.csv")
    ref = ref[ref["method"] == "two_stage"].set_index(["lhs", "rhs"])["est"]
    # slope(m) = b_CUSA + b_CUSA:SC * m with seminr's coefficients
    _close(ss["slope"], ref[("CUSL", "CUSA")] + ref[("CUSL", "CUSA:SC")] * np.array([-1, 0, 1]))
    _close(ss["intercept"], ref[("CUSL", "SC")] * np.array([-1, 0, 1]))
    # two-stage: est is the OLS coefficient of the product of the stage-1 (unit-variance)
    # scores, so the outcome's slope in x at moderator level m is b_x + est m
    sc, s1 = res.scores, res.extra["stage1"].scores
    Z = np.column_stack([np.ones(len(sc)), sc["COMP"], sc["LIKE"], sc["CUSA"], sc["SC"], s1["CUSA"] * s1["SC"]])
    coef, *_ = np.linalg.lstsq(Z, sc["CUSL"], rcond=None)
    _close(coef[5], ref[("CUSL", "CUSA:SC")], 1e-6)
    assert csm.simple_slopes(res, x="SC", moderator="CUSA")["slope"].iloc[1] == pytest.approx(ref[("CUSL", "SC")])
    with pytest.raises(SpecError, match="no interaction"):
        csm.simple_slopes(res, x="COMP", moderator="SC")
    boot = csm.bootstrap(res, n_boot=20, seed=2, statistics=["estimates"], n_jobs=1)
    sb = csm.simple_slopes(boot, x="CUSA", moderator="SC")
    assert (sb["ci_lower"] < sb["slope"]).all() and (sb["slope"] < sb["ci_upper"]).all()
    fig = csm.plots.simple_slopes_plot(ss)
    assert len(fig.axes[0].lines) >= 3
    texts = [t.get_text() for t in csm.plots.path_diagram(boot).axes[0].texts]
    assert "CUSA:SC" in texts and any(t.startswith("-0.07") for t in texts)


def test_hoc_reliability_from_stage_two_loadings(corp_rep):
    """Two-stage: the HOC's reliability comes from its loadings on the
    dimension scores (seminr's stage-2 loadings)."""
    outer = pd.read_csv(REF / "seminr_corp_rep_hoc_outer.csv")
    lam = outer[(outer["variant"] == "two_stage_A") & (outer["construct"] == "REP")]["loading"].to_numpy()
    res = csm.fit_pls(csm.ModelSpec.from_lavaan(hoc_model("=~")), corp_rep, missing="mean")
    rel = csm.reliability(res)
    _close(rel.loc["REP", "ave"], np.mean(lam ** 2))
    _close(rel.loc["REP", "rho_c"], lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1 - lam ** 2)))
    assert rel.loc["REP", "n_items"] == 2


def test_cbsem_fits_higher_order_constructs_as_second_order_factors():
    """The one CB-SEM engine reads constructs measured by constructs as
    lavaan does: the second-order Holzinger-Swineford model with three
    first-order factors is just identified at the top, so its fit is the
    first-order CFA's (lavaan tutorial: chisq 85.306, df 24)."""
    d = csm.datasets.load_frame("holzinger_swineford1939")
    spec = csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                                     "speed =~ x7 + x8 + x9\ng =~ visual + textual + speed")
    assert spec.higher_order == ("g",) and "visual" not in spec.indicators
    fit = csm.fit_cbsem(spec, d)
    assert fit.converged
    assert fit.fit_indices["df"] == 24 and fit.fit_indices["chisq"] == pytest.approx(85.306, abs=1e-3)


def test_segment_estimates_are_weighted(weighted):
    from csmlib.analysis import tracking

    spec, d, rep = weighted
    d = d.assign(seg=np.where(np.arange(len(d)) % 2 == 0, "a", "b"))
    lim = {i: (1, 7) for i in spec.indicators}
    got = tracking.segment_estimates(spec, d, "seg", construct="CUSL", n_boot=10, seed=1,
                                     scale_limits=lim, weights="w", min_base=30).set_index("segment")
    for seg in ("a", "b"):
        part = d[d["seg"] == seg]
        part = part.loc[np.repeat(part.index.to_numpy(), part["w"].to_numpy())]
        want = float(csm.satisfaction_index(csm.fit_pls(spec, part), "CUSL", scale_limits=lim))
        _close(got.loc[seg, "est"], want, 1e-9)


def test_ipma_of_a_moderated_model_uses_effects_at_the_moderator_mean(corp_rep):
    spec = csm.ModelSpec.from_lavaan(INTERACTION.replace("QUAL <~", "QUAL =~").replace("PERF <~", "PERF =~")
                                     .replace("CSOR <~", "CSOR =~").replace("ATTR <~", "ATTR =~"))
    res = csm.fit_pls(spec, corp_rep, missing="mean")
    lim = {i: (1, 7) for i in spec.indicators}
    got = csm.ipma(res, target="CUSL", scale_limits=lim).set_index("construct")
    # by hand: rescaled scores, CUSL on its predictors and the centred CUSA x SC product
    from csmlib.analysis.index import ipma_scores

    sc, _, _ = ipma_scores(res, lim)
    c = sc - sc.mean()
    X = np.column_stack([np.ones(len(sc)), sc["COMP"], sc["LIKE"], sc["CUSA"], sc["SC"], c["CUSA"] * c["SC"]])
    coef, *_ = np.linalg.lstsq(X, sc["CUSL"], rcond=None)
    _close(got.loc["SC", "importance"], coef[4], 1e-9)
    assert got.loc["SC", "performance"] == pytest.approx(sc["SC"].mean())


def test_weighted_mean_replacement_equals_repeated_rows(corp_rep):
    """missing="mean" with weights: the weighted item mean, which is the
    mean of the repeated rows."""
    spec = csm.ModelSpec.from_lavaan(MEDIATION)
    d = corp_rep.assign(w=np.random.default_rng(8).integers(0, 4, len(corp_rep)))
    assert d[list(spec.indicators)].isna().to_numpy().sum() > 10
    rep = d.loc[np.repeat(d.index.to_numpy(), d["w"].to_numpy())].reset_index(drop=True)
    a = csm.fit_pls(spec, d, weights="w", missing="mean")
    b = csm.fit_pls(spec, rep, missing="mean")
    np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], rtol=0, atol=1e-10)
    assert a.data_info["mean_replaced"] == d[list(spec.indicators)].isna().to_numpy().sum()


def test_weighted_mga_fits_each_group_weighted(weighted):
    spec, d, _ = weighted
    d = d.assign(seg=np.arange(len(d)) % 2)
    m = csm.mga(spec, d, group="seg", n_boot=20, n_perm=0, seed=1, weights="w", min_base=30)
    part = d[d["seg"] == 1]
    rep = part.loc[np.repeat(part.index.to_numpy(), part["w"].to_numpy())]
    want = csm.fit_pls(spec, rep).paths.set_index(["lhs", "rhs"])["est"]
    got = m.paths.set_index(["lhs", "rhs"])["est_2"]
    _close(got, want.loc[got.index], 1e-10)
    with pytest.raises(SpecError, match="unweighted"):
        csm.mga(spec, d, group="seg", n_boot=20, n_perm=10, weights="w", min_base=30)


def test_interaction_recovers_a_simulated_moderation():
    """y = 0.3 x + 0.2 m + 0.25 x m + e with reliable items: every method's
    interaction path is the product coefficient in SD units of y, attenuated
    only by the composites' reliability (about 0.9 here)."""
    rng = np.random.default_rng(5)
    n = 5000
    x = rng.normal(size=n)
    m = 0.3 * x + np.sqrt(1 - 0.09) * rng.normal(size=n)
    y = 0.3 * x + 0.2 * m + 0.25 * x * m + 0.7 * rng.normal(size=n)
    d = pd.DataFrame({f"{nm}{k}": 0.9 * v / v.std() + 0.44 * rng.normal(size=n)
                      for nm, v in (("x", x), ("m", m), ("y", y)) for k in range(3)})
    spec = csm.ModelSpec.from_lavaan("X =~ x0 + x1 + x2\nM =~ m0 + m1 + m2\nY =~ y0 + y1 + y2\nY ~ X + M + X:M")
    truth = 0.25 / y.std()
    for method in ("two_stage", "product_indicator", "orthogonal"):
        est = csm.fit_pls(spec, d, interaction=method).paths.set_index("rhs").loc["X:M", "est"]
        assert 0.85 * truth < est < 1.0 * truth, (method, est, truth)


def test_path_diagram_of_a_two_stage_hoc_shows_its_dimensions(corp_rep):
    res = csm.fit_pls(csm.ModelSpec.from_lavaan(hoc_model("=~")), corp_rep, missing="mean")
    texts = [t.get_text() for t in csm.plots.path_diagram(res).axes[0].texts]
    ref = pd.read_csv(REF / "seminr_corp_rep_hoc_outer.csv")
    lam = ref[(ref["variant"] == "two_stage_A") & (ref["construct"] == "REP")]["loading"]
    assert {f"{v:.2f}" for v in lam} <= set(texts)
