"""The 0-100 satisfaction index and IPMA against hand computations.

References: SmartPLS 2 outer weights on mobi (data/references/
mobi.reference_smartpls2.csv) and formulas computed directly in the tests
(Fornell et al. 1996 index; Ringle & Sarstedt 2016 IPMA).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.errors import DataError, EstimationError
from csmlib.analysis.index import satisfaction_indices
from csmlib.estimate.results import Results, tidy_estimates
from csmlib.spec import Construct, ModelSpec, Relation

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(DATA / "mobi" / "mobi.csv")


@pytest.fixture(scope="module")
def smartpls() -> pd.DataFrame:
    ref = pd.read_csv(DATA / "references" / "mobi.reference_smartpls2.csv")
    return ref[(ref["scheme"] == "pathWeighting") & (ref["type"] == "outer_weight")]


def _results(blocks: dict[str, dict[str, float]], paths: list[tuple[str, str]], data: pd.DataFrame,
             limits=None, raw: bool = True) -> Results:
    """A hand-built PLS Results whose raw weights are the given numbers."""
    constructs = tuple(Construct(n, tuple(w), "reflective") for n, w in blocks.items())
    rel = [Relation(n, "=~", i) for n, w in blocks.items() for i in w]
    rel += [Relation(out, "~", pred) for pred, out in paths]
    spec = ModelSpec(constructs=constructs, relations=tuple(rel), name="hand")
    est = pd.DataFrame(
        [(n, "<~", i, w) for n, ws in blocks.items() for i, w in ws.items()]
        + [(out, "~", pred, 0.0) for pred, out in paths],
        columns=["lhs", "op", "rhs", "est"])
    extra = {"raw_weights": {n: pd.Series(ws, dtype=float) for n, ws in blocks.items()}} if raw else {}
    return Results(
        spec=spec, method="pls", _estimates=tidy_estimates(est), _r2=pd.Series(dtype=float),
        _effects=pd.DataFrame(columns=["lhs", "rhs", "direct", "indirect", "total"]),
        _fit_indices=pd.Series(dtype=float), _scores=pd.DataFrame(), converged=True, n_iter=1,
        message="", n_obs=len(data), options={"standardize": not raw}, _data=data,
        _scale_limits=limits, extra=extra,
    )


def _limits(items, lo, hi) -> pd.DataFrame:
    return pd.DataFrame({"min": float(lo), "max": float(hi)}, index=pd.Index(list(items), name="item"))


# --------------------------------------------------------------------------- index
def test_index_matches_hand_computation_with_smartpls_weights(mobi, smartpls):
    """Raw weight = SmartPLS standardized weight / item sd; limits 1..10."""
    fit = csm.fit_pls(csm.models.ecsi(), mobi)
    lim = {c: (1, 10) for c in mobi.columns}
    for construct in ("Satisfaction", "Quality", "Loyalty", "Image"):
        w = smartpls[smartpls["from"] == construct].set_index("to")["value"]
        items = list(w.index)
        raw = w / mobi[items].std(ddof=1)
        mean = mobi[items].mean()
        expected = 100 * (raw * (mean - 1)).sum() / (raw * 9).sum()
        got = csm.satisfaction_index(fit, construct, scale_limits=lim)
        assert got == pytest.approx(expected, abs=1e-4)
        assert got.construct == construct
        np.testing.assert_allclose(got.items["mean"], mean.to_numpy())
    # the ACSI satisfaction index of mobi, printed by hand from the formula
    w = smartpls[smartpls["from"] == "Satisfaction"].set_index("to")["value"]
    assert float(csm.satisfaction_index(fit, scale_limits=lim)) == pytest.approx(72.454, abs=1e-3)


def test_index_uses_instrument_limits_of_a_survey():
    survey = csm.datasets.load("mobi")
    fit = csm.fit_pls(csm.models.ecsi(), survey)
    with_survey = csm.satisfaction_index(fit, "Satisfaction")
    explicit = csm.satisfaction_index(fit, "Satisfaction",
                                      scale_limits={i: (1, 10) for i in ("CUSA1", "CUSA2", "CUSA3")})
    assert float(with_survey) == pytest.approx(float(explicit), abs=1e-12)


def test_index_invariant_to_weight_scaling(mobi):
    lim = _limits(["CUSA1", "CUSA2", "CUSA3"], 1, 10)
    w = {"CUSA1": 0.3, "CUSA2": 0.2, "CUSA3": 0.5}
    a = csm.satisfaction_index(_results({"Satisfaction": w}, [], mobi, lim))
    b = csm.satisfaction_index(_results({"Satisfaction": {k: 7.3 * v for k, v in w.items()}}, [], mobi, lim))
    assert float(a) == pytest.approx(float(b), rel=1e-13)
    m = mobi[list(w)].mean()
    hand = 100 * sum(w[i] * (m[i] - 1) for i in w) / sum(w[i] * 9 for i in w)
    assert float(a) == pytest.approx(hand, rel=1e-13)


def test_negative_weight_raises_naming_construct_and_item(mobi):
    lim = _limits(["CUSA1", "CUSA2", "CUSA3"], 1, 10)
    res = _results({"Satisfaction": {"CUSA1": 0.5, "CUSA2": -0.1, "CUSA3": 0.6}}, [], mobi, lim)
    with pytest.raises(EstimationError) as err:
        csm.satisfaction_index(res, "Satisfaction")
    assert "Satisfaction" in str(err.value) and "CUSA2" in str(err.value)
    assert "negative" in str(err.value)


def test_observed_limits_are_never_used():
    """Answers on a 1..7 scale that only use 3..6: the theoretical limits count."""
    rng = np.random.default_rng(5)
    data = pd.DataFrame({f"s{i}": rng.integers(3, 7, size=80).astype(float) for i in (1, 2)})
    w = {"s1": 0.6, "s2": 0.4}
    res = _results({"Sat": w}, [], data, _limits(w, 1, 7))
    m = data.mean()
    theoretical = 100 * sum(w[i] * (m[i] - 1) for i in w) / sum(w[i] * 6 for i in w)
    observed = 100 * sum(w[i] * (m[i] - 3) for i in w) / sum(w[i] * 3 for i in w)
    got = float(csm.satisfaction_index(res, "Sat"))
    assert got == pytest.approx(theoretical, rel=1e-13)
    assert abs(got - observed) > 5


def test_missing_limits_raise_a_clear_error(mobi):
    res = _results({"Satisfaction": {"CUSA1": 0.3, "CUSA2": 0.3, "CUSA3": 0.4}}, [], mobi, None)
    with pytest.raises(DataError) as err:
        csm.satisfaction_index(res, "Satisfaction")
    msg = str(err.value)
    assert "scale_limits=" in msg and "CUSA1" in msg and "observed" in msg
    # limits given for some items only: the missing ones are named
    with pytest.raises(DataError, match="CUSA3"):
        csm.satisfaction_index(res, "Satisfaction", scale_limits={"CUSA1": (1, 10), "CUSA2": (1, 10)})
    with pytest.raises(DataError, match="greater than"):
        csm.satisfaction_index(res, "Satisfaction", scale_limits={i: (10, 1) for i in ("CUSA1", "CUSA2", "CUSA3")})


def test_answers_outside_scale_raise(mobi):
    res = _results({"Satisfaction": {"CUSA1": 0.3, "CUSA2": 0.3, "CUSA3": 0.4}}, [], mobi,
                   _limits(["CUSA1", "CUSA2", "CUSA3"], 1, 7))
    with pytest.raises(DataError, match="outside"):
        csm.satisfaction_index(res, "Satisfaction")


def test_unknown_construct_raises(mobi):
    fit = csm.fit_pls(csm.models.ecsi(), mobi)
    with pytest.raises(csm.SpecError, match="Satisfaction"):
        csm.satisfaction_index(fit, "Happiness", scale_limits={c: (1, 10) for c in mobi.columns})


def test_satisfaction_indices_every_construct(mobi):
    fit = csm.fit_pls(csm.models.ecsi(), mobi)
    lim = {c: (1, 10) for c in mobi.columns}
    tab = satisfaction_indices(fit, scale_limits=lim)
    assert list(tab.columns) == ["construct", "index", "item", "weight", "weight_share", "mean", "min", "max"]
    one = tab.drop_duplicates("construct").set_index("construct")["index"]
    assert list(one.index) == list(fit.spec.construct_names)
    for c in one.index:
        assert one[c] == pytest.approx(float(csm.satisfaction_index(fit, c, scale_limits=lim)), abs=1e-12)
    # single item: the index is the rescaled item mean
    assert one["Complaints"] == pytest.approx(100 * (mobi["CUSCO"].mean() - 1) / 9, abs=1e-12)


# --------------------------------------------------------------------------- IPMA
def _ipma_hand(data, blocks, paths, lo, hi, target):
    """Ringle & Sarstedt (2016), written out directly."""
    resc = 100 * (data - lo) / (hi - lo)
    scores = {}
    for c, w in blocks.items():
        v = pd.Series(w) * (hi - lo)
        v = v / v.sum()
        scores[c] = (resc[list(v.index)] * v).sum(axis=1)
    scores = pd.DataFrame(scores)
    names = list(blocks)
    B = np.zeros((len(names), len(names)))
    for out in names:
        preds = [p for p, o in paths if o == out]
        if not preds:
            continue
        X = np.column_stack([np.ones(len(scores))] + [scores[p] for p in preds])
        coef = np.linalg.solve(X.T @ X, X.T @ scores[out].to_numpy())
        for p, b in zip(preds, coef[1:]):
            B[names.index(out), names.index(p)] = b
    T = np.linalg.inv(np.eye(len(names)) - B) - np.eye(len(names))
    t = names.index(target)
    return {c: T[t, names.index(c)] for c in names if c != target}, scores.mean(), resc.mean()


def test_ipma_matches_hand_computation(mobi):
    blocks = {
        "Quality": {"PERQ1": 0.2, "PERQ2": 0.1, "PERQ3": 0.3},
        "Value": {"PERV1": 0.5, "PERV2": 0.6},
        "Satisfaction": {"CUSA1": 0.3, "CUSA2": 0.25, "CUSA3": 0.35},
        "Loyalty": {"CUSL1": 0.4, "CUSL3": 0.5},
    }
    paths = [("Quality", "Value"), ("Quality", "Satisfaction"), ("Value", "Satisfaction"),
             ("Satisfaction", "Loyalty"), ("Value", "Loyalty")]
    items = [i for w in blocks.values() for i in w]
    res = _results(blocks, paths, mobi[items], _limits(items, 1, 10))
    imp, perf, item_perf = _ipma_hand(mobi[items], blocks, paths, 1.0, 10.0, "Loyalty")
    got = csm.ipma(res, target="Loyalty").set_index("construct")
    assert list(got.columns) == ["importance", "performance", "priority", "rank", "quadrant"]
    assert set(got.index) == {"Quality", "Value", "Satisfaction"}
    for c in got.index:
        assert got.loc[c, "importance"] == pytest.approx(imp[c], abs=1e-10)
        assert got.loc[c, "performance"] == pytest.approx(perf[c], abs=1e-10)
        # performance is the construct's 0-100 index
        assert got.loc[c, "performance"] == pytest.approx(float(csm.satisfaction_index(res, c)), abs=1e-10)
    pr = got["importance"] * (100 - got["performance"])
    np.testing.assert_allclose(got["priority"], pr)
    assert got["rank"].tolist() == sorted(got["rank"].tolist())
    assert got.index[0] == pr.idxmax()
    # items: importance = normalized rescaled weight x construct total effect
    it = csm.ipma(res, target="Loyalty", level="items").set_index("item")
    for c in ("Quality", "Value", "Satisfaction"):
        w = pd.Series(blocks[c]) * 9
        w = w / w.sum()
        for i in w.index:
            assert it.loc[i, "importance"] == pytest.approx(w[i] * imp[c], abs=1e-10)
            assert it.loc[i, "performance"] == pytest.approx(item_perf[i], abs=1e-10)


def test_ipma_quadrants_follow_the_documented_rule(mobi):
    fit = csm.fit_pls(csm.models.ecsi(), csm.datasets.load("mobi"))
    tab = csm.ipma(fit, target="Loyalty")
    mi, mp = tab["importance"].mean(), tab["performance"].mean()
    for _, r in tab.iterrows():
        hi_i, hi_p = r["importance"] >= mi, r["performance"] >= mp
        expect = {(True, False): "concentrate here", (True, True): "keep up the good work",
                  (False, False): "low priority", (False, True): "possible overkill"}[(hi_i, hi_p)]
        assert r["quadrant"] == expect
    assert set(tab["construct"]) == {"Image", "Expectation", "Quality", "Value", "Satisfaction", "Complaints"}


def test_ipma_on_simulated_chain_recovers_the_true_index_and_effect():
    """Chain Quality -> Value -> Satisfaction -> Loyalty with continuous items,
    equal loadings: equal weights are the truth, the performance is the true
    0-100 index and the importance the product of unstandardized paths."""
    from csmlib.analysis import simulate

    pop = simulate.chain_population(scale_points=None)
    sim = simulate.simulate_survey(pop, 20000, seed=11)
    spec = csm.models.chain()
    items = {c: list(v) for c, v in pop.constructs.items()}
    data = sim.data[[i for v in items.values() for i in v]]
    lo, hi = data.min().min() - 1, data.max().max() + 1  # any limits that contain the data
    lim = {i: (lo, hi) for i in data.columns}
    fit = csm.fit_pls(spec, data)
    tab = csm.ipma(fit, target="Loyalty", scale_limits=lim).set_index("construct")
    # performance: the construct's index on these limits, from item means (equal loadings -> ~equal weights)
    for c, its in items.items():
        if c == "Loyalty":
            continue
        hand = 100 * (data[its].mean().mean() - lo) / (hi - lo)
        assert tab.loc[c, "performance"] == pytest.approx(hand, abs=0.2)
    # importance of Quality on Loyalty = product of the three unstandardized paths on 0-100 scores
    resc = 100 * (data - lo) / (hi - lo)
    s = {c: resc[its].mean(axis=1) for c, its in items.items()}
    b = [np.polyfit(s[a], s[o], 1)[0] for a, o in (("Quality", "Value"), ("Value", "Satisfaction"),
                                                   ("Satisfaction", "Loyalty"))]
    assert tab.loc["Quality", "importance"] == pytest.approx(np.prod(b), rel=0.03)


def test_ipma_errors(mobi):
    fit = csm.fit_pls(csm.models.ecsi(), mobi)
    with pytest.raises(DataError, match="scale_limits"):
        csm.ipma(fit, target="Loyalty")
    lim = {c: (1, 10) for c in mobi.columns}
    with pytest.raises(csm.SpecError, match="path to"):
        csm.ipma(fit, target="Image", scale_limits=lim)
    with pytest.raises(csm.SpecError, match="level"):
        csm.ipma(fit, target="Loyalty", level="drivers", scale_limits=lim)


def test_answers_outside_the_scale_are_refused_by_the_index_and_ipma(mobi):
    """One rule for the index and the IPMA: an answer outside the item's
    theoretical limits is a DataError naming the item, its first rows
    (1-based) and values, and the limits."""
    fit = csm.fit_pls(csm.models.ecsi(), mobi)
    lim = {c: (1, 10) for c in mobi.columns}
    lim["CUSA2"] = (1, 8)     # mobi's CUSA2 reaches 10
    rows = list(np.flatnonzero(mobi["CUSA2"].to_numpy() > 8)[:10] + 1)
    assert rows
    for call in (lambda: csm.satisfaction_index(fit, "Satisfaction", scale_limits=lim),
                 lambda: csm.ipma(fit, target="Loyalty", scale_limits=lim)):
        with pytest.raises(DataError, match=r"outside the item's theoretical scale \[1, 8\]") as err:
            call()
        assert err.value.column == "CUSA2" and err.value.rows == rows
    # the other blocks keep their index
    assert 0 < float(csm.satisfaction_index(fit, "Loyalty", scale_limits=lim)) < 100
