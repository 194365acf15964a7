"""Simulation from a known population model (csmlib.analysis.simulate).

Expected values are computed here from textbook formulas (implied
covariances of a standardized chain model, the normal distribution of a
rounded continuous answer), never from csmlib itself; large samples are
compared with them within a few standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import csmlib as csm
from csmlib import SpecError
from csmlib.analysis import simulate as sim

N_BIG = 100_000
DATA = Path(__file__).resolve().parent.parent / "data"

CHAIN = ("Quality", "Value", "Satisfaction", "Loyalty")


def _chain_implied(pop, a, b, c, lam):
    """Implied covariance of the continuous chain items, by hand.

    Standardized chain Q -> V -> S -> L: corr of constructs i < j is the
    product of the paths between them; cov(x_i, x_j) = sd_i sd_j lam_i lam_j
    corr(F_i, F_j), var(x_i) = sd_i^2.
    """
    paths = [a, b, c]
    items, owner = [], []
    for k, con in enumerate(CHAIN):
        for it in pop.constructs[con]:
            items.append(it)
            owner.append(k)
    p = len(items)
    cov = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            lo, hi = sorted((owner[i], owner[j]))
            r = float(np.prod(paths[lo:hi]))
            cov[i, j] = 1.0 if i == j else lam * lam * r
    return pd.DataFrame(cov, index=items, columns=items)


def _rounded_mean(mean, sd, k):
    """E[Y] for Y = clip(round(X), 1, k), X ~ N(mean, sd^2), by hand."""
    cuts = np.arange(1, k) + 0.5
    cdf = np.concatenate([[0.0], norm.cdf((cuts - mean) / sd), [1.0]])
    probs = np.diff(cdf)
    return float(np.sum(np.arange(1, k + 1) * probs))


def test_continuous_sample_covariance_matches_population():
    a, b, c, lam = 0.6, 0.5, 0.7, 0.75
    pop = sim.chain_population(quality_value=a, value_satisfaction=b, satisfaction_loyalty=c,
                               loading=lam, scale_points=None)
    expected = _chain_implied(pop, a, b, c, lam)
    # the population's own implied covariance equals the textbook one
    np.testing.assert_allclose(pop.implied_covariance().loc[expected.index, expected.columns],
                               expected, atol=1e-12)
    s = sim.simulate_survey(pop, N_BIG, seed=11)
    x = s.data[list(expected.columns)]
    sample = x.cov().to_numpy()
    sigma = expected.to_numpy()
    # SE of a sample covariance under normality: sqrt((s_ii s_jj + s_ij^2) / n)
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / N_BIG)
    assert np.max(np.abs(sample - sigma) / se) < 5.0
    np.testing.assert_allclose(x.mean(), 0.0, atol=5 / math.sqrt(N_BIG))
    np.testing.assert_allclose(s.population_covariance, expected, atol=1e-12)


def test_latent_regression_recovers_acsi_paths():
    pop = sim.acsi_population()
    s = sim.simulate_survey(pop, N_BIG, seed=3, keep_latent=True)
    eta = s.latent
    np.testing.assert_allclose(eta.var(), 1.0, atol=0.02)   # standardized constructs
    truth = s.truth[s.truth.op == "~"]
    for outcome, rows in truth.groupby("lhs"):
        X = np.column_stack([np.ones(len(eta)), eta[list(rows.rhs)].to_numpy()])
        coef = np.linalg.lstsq(X, eta[outcome].to_numpy(), rcond=None)[0][1:]
        np.testing.assert_allclose(coef, rows.est.to_numpy(), atol=0.015)


def test_truth_frame_uses_lavaan_conventions():
    pop = sim.acsi_population(paths={("Value", "Satisfaction"): 0.3})
    t = pop.truth()
    assert list(t.columns) == ["lhs", "op", "rhs", "est"]
    row = t[(t.lhs == "Satisfaction") & (t.op == "~") & (t.rhs == "Value")]
    assert row.est.item() == 0.3
    assert t[(t.op == "=~") & (t.rhs == "CUSA1")].lhs.item() == "Satisfaction"
    assert t[(t.op == "=~") & (t.rhs == "CUSCO")].est.item() == 1.0
    assert set(t.op) == {"=~", "~", "~~", "~1", "r2"}
    # residual variances: standardized constructs
    exp_var = t[(t.op == "~~") & (t.lhs == "Expectation") & (t.rhs == "Expectation")].est.item()
    assert exp_var == 1.0
    # chain R^2 by hand: Value = 0.6 Quality + e -> R^2 0.36
    chain = sim.chain_population().truth()
    assert chain[(chain.op == "r2") & (chain.lhs == "Value")].est.item() == pytest.approx(0.36)
    assert set(pop.items) == {"CUEX1", "CUEX2", "CUEX3", *[f"PERQ{i}" for i in range(1, 8)],
                              "PERV1", "PERV2", "CUSA1", "CUSA2", "CUSA3", "CUSCO",
                              "CUSL1", "CUSL2", "CUSL3"}
    assert "IMAG5" in sim.ecsi_population().items


@pytest.mark.parametrize("k", [5, 7, 10])
def test_likert_item_means_match_discretized_normal(k):
    pop = sim.chain_population(scale_points=k, item_means={"CUSA1": 1 + 0.5 * (k - 1)},
                               latent_shifts={"Satisfaction": 0.4})
    s = sim.simulate_survey(pop, N_BIG, seed=k)
    # Satisfaction mean = 0.4 (its own shift); Loyalty mean = 0.6 * 0.4
    lat_mean = {"Quality": 0.0, "Value": 0.0, "Satisfaction": 0.4, "Loyalty": 0.24}
    for con in CHAIN:
        for it in pop.constructs[con]:
            m = pop.item_means[it] + pop.item_sds[it] * 0.8 * lat_mean[con]
            expected = _rounded_mean(m, pop.item_sds[it], k)
            assert pop.expected_item_means()[it] == pytest.approx(expected, abs=1e-10)
            col = s.data[it]
            assert set(np.unique(col)) <= set(range(1, k + 1))
            se = col.std() / math.sqrt(N_BIG)
            assert abs(col.mean() - expected) < 5 * se


def test_true_index_is_the_acsi_formula_on_expected_means():
    pop = sim.acsi_population(latent_shifts={"Satisfaction": -0.2})
    s = sim.simulate_survey(pop, N_BIG, seed=5)
    for con in ("Satisfaction", "Loyalty", "Quality"):
        its = pop.constructs[con]
        means = [_rounded_mean(pop.item_means[i] + pop.item_sds[i] * pop.loadings[i]
                               * pop.latent_means()[con], pop.item_sds[i], 10) for i in its]
        expected = 100 * sum(m - 1 for m in means) / (9 * len(its))
        assert s.true_index[con] == pytest.approx(expected, abs=1e-9)
        sample = 100 * (s.data[list(its)].mean() - 1).sum() / (9 * len(its))
        assert abs(sample - expected) < 0.3   # SE of the index is about 0.05 at n = 100,000
    # latent means by hand: S = -0.2, Loyalty = 0.55 * -0.2 + 0.15 * 0.5 * -0.2
    assert pop.latent_means()["Loyalty"] == pytest.approx(-0.2 * (0.55 + 0.15 * 0.5))


def test_seed_determinism():
    pop = sim.acsi_population()
    a = sim.simulate_survey(pop, 500, seed=42, missing_rate=0.1, segments=["x", "y"])
    b = sim.simulate_survey(pop, 500, seed=42, missing_rate=0.1, segments=["x", "y"])
    c = sim.simulate_survey(pop, 500, seed=43, missing_rate=0.1, segments=["x", "y"])
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data.equals(c.data)
    st1 = sim.simulate_study(pop, 300, seed=1, drift={"Satisfaction": 0.1})
    st2 = sim.simulate_study(pop, 300, seed=1, drift={"Satisfaction": 0.1})
    pd.testing.assert_frame_equal(st1.data, st2.data)


def test_segments_have_their_own_paths():
    pop = sim.chain_population(scale_points=None)
    s = sim.simulate_survey(pop, 2 * 50_000, seed=8, keep_latent=True,
                            segments={"A": {("Value", "Satisfaction"): 0.2},
                                      "B": {("Value", "Satisfaction"): 0.7}})
    assert (s.data.segment.value_counts() == 50_000).all()
    for seg, true in (("A", 0.2), ("B", 0.7)):
        rows = s.data.segment == seg
        v = s.latent.loc[rows, "Value"].to_numpy()
        y = s.latent.loc[rows, "Satisfaction"].to_numpy()
        slope = np.polyfit(v, y, 1)[0]
        assert slope == pytest.approx(true, abs=0.015)
        t = s.truth[(s.truth.segment == seg) & (s.truth.lhs == "Satisfaction") & (s.truth.op == "~")]
        assert t.est.item() == true
    # pooled covariance is the 50/50 mixture: cov(V, S items) = 0.8^2 * (0.2 + 0.7) / 2
    assert s.population_covariance.loc["PERV1", "CUSA1"] == pytest.approx(0.64 * 0.45)
    with pytest.raises(SpecError):
        sim.simulate_survey(pop, 10, seed=1, segments={"A": {("Loyalty", "Quality"): 0.3}})


def test_drift_moves_the_index_by_the_intended_amount():
    pop = sim.chain_population(satisfaction_loyalty=0.5)
    d = 0.3
    st = sim.simulate_study(pop, 40_000, seed=21, waves=["q1", "q2", "q3"], drift={"Satisfaction": d},
                            keep_latent=True)
    assert list(st.data.wave.unique()) == ["q1", "q2", "q3"]
    assert st.data.respondent_id.is_unique
    by = st.true_index_by_group.set_index("wave")
    for w, label in enumerate(["q1", "q2", "q3"]):
        lat = st.latent[st.data.wave == label]
        assert lat.Satisfaction.mean() == pytest.approx(w * d, abs=0.02)
        assert lat.Loyalty.mean() == pytest.approx(w * d * 0.5, abs=0.02)   # propagated along the path
        for con, shift in (("Satisfaction", w * d), ("Loyalty", w * d * 0.5), ("Value", 0.0)):
            its = pop.constructs[con]
            means = [_rounded_mean(pop.item_means[i] + pop.item_sds[i] * 0.8 * shift,
                                   pop.item_sds[i], 10) for i in its]
            expected = 100 * sum(m - 1 for m in means) / (9 * len(its))
            assert by.loc[label, con] == pytest.approx(expected, abs=1e-9)
            data = st.data[st.data.wave == label]
            sample = 100 * (data[list(its)].mean() - 1).sum() / (9 * len(its))
            assert abs(sample - expected) < 0.5
    assert by.loc["q3", "Satisfaction"] - by.loc["q1", "Satisfaction"] > 5   # about 3 points per wave
    assert by.loc["q3", "Value"] == by.loc["q1", "Value"]


def test_missing_rate_is_honoured():
    pop = sim.acsi_population()
    s = sim.simulate_survey(pop, 20_000, seed=4, missing_rate=0.07, segments=["a", "b"])
    items = s.data[list(pop.items)]
    cells = items.size
    rate = items.isna().to_numpy().mean()
    assert abs(rate - 0.07) < 4 * math.sqrt(0.07 * 0.93 / cells)
    assert s.data[["respondent_id", "segment"]].notna().all().all()
    assert sim.simulate_survey(pop, 1000, seed=4).data.notna().all().all()


@pytest.mark.parametrize("bad", [
    dict(paths={("Quality", "Value"): 1.2}),
    dict(paths={("Quality", "Value"): 0.5, ("Value", "Quality"): 0.5}),
    dict(loadings={"PERQ1": 1.5}),
    dict(scale_points=1),
    dict(paths={("Quality", "Nope"): 0.5}),
])
def test_bad_population_raises_spec_error(bad):
    base = dict(constructs={"Quality": ("PERQ1", "PERQ2"), "Value": ("PERV1", "PERV2")},
                paths={("Quality", "Value"): 0.5})
    base.update(bad)
    with pytest.raises(SpecError):
        sim.PopulationModel(**base)


def test_bad_arguments_raise_spec_error():
    pop = sim.chain_population()
    with pytest.raises(SpecError, match="missing_rate"):
        sim.simulate_survey(pop, 10, seed=1, missing_rate=1.5)
    with pytest.raises(SpecError, match="n must"):
        sim.simulate_survey(pop, 0, seed=1)
    with pytest.raises(SpecError):
        sim.simulate_survey(pop, 10, seed=1, segments={"a": 0.5})


def test_population_is_immutable():
    pop = sim.chain_population()
    with pytest.raises(Exception):
        pop.paths[("Quality", "Value")] = 0.1
    with pytest.raises(Exception):
        pop.name = "x"
    assert pop.with_paths({("Quality", "Value"): 0.1}).paths[("Quality", "Value")] == 0.1
    assert pop.paths[("Quality", "Value")] == 0.6


def test_demo_files_are_exactly_what_the_generator_writes(tmp_path):
    written = sim.write_demo(tmp_path)
    assert [p.name for p in written] == ["wave1.csv", "wave2.csv", "wave3.csv",
                                         "complaints.csv", "complaints.yml"]
    for p in written:
        assert p.read_bytes() == (DATA / "demo" / p.name).read_bytes(), p.name


def test_demo_cli_writes_the_same_files(tmp_path):
    assert sim.main(["--demo", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "wave2.csv").read_bytes() == (DATA / "demo" / "wave2.csv").read_bytes()


def test_demo_files_follow_the_instrument():
    inst = csm.Instrument.from_yaml(DATA / "demo" / "instrument.yml")
    for i, (file, wave) in enumerate(sim.DEMO_WAVES):
        raw = pd.read_csv(DATA / "demo" / file)
        assert 550 <= len(raw) <= 650
        assert set(raw.wave) == {wave}
        assert set(raw.region) == {"North", "South"}
        assert raw.respondent_id.is_unique
        assert {"name", "email"} <= set(raw.columns)
        assert set(inst.item_names) <= set(raw.columns)
        items = raw[inst.item_names]
        assert (items == 99).any().all() or (items == 99).to_numpy().sum() > 100
        for name in inst.item_names:
            lo, hi = inst.item(name).scale
            ok = items[name].between(lo, hi) | (items[name] == 99)
            assert ok.all(), name
    assert inst.reverse_items == ["PERQ7"]
    assert inst.label("CUSA1", 10, "zh") == "非常满意"


def test_demo_satisfaction_drifts_upwards():
    demo = sim.simulate_demo()
    by = demo.true_index_by_group.groupby("wave")["Satisfaction"].mean()
    assert by.is_monotonic_increasing
    frames = [pd.read_csv(DATA / "demo" / f) for f, _ in sim.DEMO_WAVES]
    idx = []
    for raw in frames:
        sat = raw[["CUSA1", "CUSA2", "CUSA3"]].replace(99, np.nan)
        idx.append(100 * (sat.mean() - 1).mean() / 9)
    assert idx[2] > idx[0]
    # PERQ7 is stored reverse-worded: it correlates negatively with PERQ1
    raw = frames[0][["PERQ1", "PERQ7"]].replace(99, np.nan)
    assert raw.corr().iloc[0, 1] < -0.3
