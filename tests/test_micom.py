"""MICOM and the permutation test of path differences, checked against the
truth of simulated populations and a hand computation of MICOM's ``c``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.analysis import simulate as sim
from csmlib.errors import DataError, SpecError
from csmlib.analysis.pls_groups import permutation_groups

SPEC = csm.models.acsi()
POP = sim.acsi_population()
#: segment B: Value matters much more for satisfaction (true path 0.25 -> 0.55)
B_PATHS = {("Value", "Satisfaction"): 0.55}


@pytest.fixture(scope="module")
def different_path():
    """Equal measurement, one different structural path, 400 per group."""
    return sim.simulate_survey(POP, 800, seed=11, segments={"A": POP, "B": B_PATHS})


@pytest.fixture(scope="module")
def bad_item():
    """Item CUSA1 loads 0.8 in A but only 0.2 in B."""
    bad = POP.replace(loadings={**POP.loadings, "CUSA1": 0.2})
    return sim.simulate_survey(POP, 800, seed=12, segments={"A": POP, "B": bad})


def test_invariant_population_is_found_invariant(different_path):
    m = csm.micom(SPEC, different_path.data, "segment", n_perm=500, seed=1)
    assert m.groups == ("A", "B") and m.n == {"A": 400, "B": 400}
    assert m.configural["satisfied"].all()
    comp = m.compositional.set_index("construct")
    # composites built with either group's weights are practically the same
    assert (comp["c"] > 0.99).all()
    assert comp.loc["Complaints", "c"] == 1.0          # single item: c = 1 by definition
    # the population has equal latent means (0) and variances (1): the composite
    # differences are sampling noise (sd about 0.07 for means, 0.1 for log variances)
    assert (m.means["diff"].abs() < 0.25).all() and (m.variances["diff"].abs() < 0.35).all()
    # 17 tests at 5% (5 multi-item c's, 6 means, 6 variances): chance flags are expected
    # (0.85 on average; the nominal rate is checked over replications below).  Were they
    # independent, P(4 or more) = 1 - binom.cdf(3, 17, 0.05) = 0.010
    flags = ((~comp["invariant"]).sum() + (~m.means["equal"]).sum() + (~m.variances["equal"]).sum())
    assert flags <= 3
    assert m.seed == 1 and m.n_perm == 500 and m.n_failed == 0


@pytest.mark.parametrize("seed", [12, 13])
def test_item_with_a_different_loading_breaks_compositional_invariance(seed):
    bad = POP.replace(loadings={**POP.loadings, "CUSA1": 0.2})
    data = sim.simulate_survey(POP, 800, seed=seed, segments={"A": POP, "B": bad}).data
    m = csm.micom(SPEC, data, "segment", n_perm=500, seed=2)
    comp = m.compositional.set_index("construct")
    assert not comp.loc["Satisfaction", "invariant"]
    assert comp.loc["Satisfaction", "c"] < comp.loc["Satisfaction", "c_quantile"]
    assert comp.loc["Satisfaction", "pvalue"] < 0.01
    assert m.summary.set_index("construct").loc["Satisfaction", "invariance"] == "none"


def test_a_latent_mean_difference_is_flagged_in_step_3():
    shifted = POP.shifted({"Quality": 0.4})       # +0.4 SD in B, carried along the paths
    data = sim.simulate_survey(POP, 800, seed=14, segments={"A": POP, "B": shifted}).data
    m = csm.micom(SPEC, data, "segment", n_perm=500, seed=3)
    means = m.means.set_index("construct")
    assert not means.loc["Quality", "equal"] and means.loc["Quality", "pvalue"] < 0.01
    # B is higher, so a - b < 0.  Expected size (equal-weight composite of 7 items with
    # loading 0.8, ignoring the rounding to a 10-point scale): within-group effect size
    # d = 7 * 0.8 * 0.4 / sqrt((7 * 0.8)^2 + 7 * (1 - 0.8^2)) = 0.385, in pooled SD units
    # d / sqrt(1 + d^2 / 4) = 0.378; its standard error is about sqrt(2 / 400) = 0.071
    d = 7 * 0.8 * 0.4 / np.sqrt((7 * 0.8) ** 2 + 7 * (1 - 0.8 ** 2))
    assert means.loc["Quality", "diff"] == pytest.approx(-d / np.sqrt(1 + d * d / 4), abs=3 * 0.071)
    assert means.loc["Expectation", "equal"]       # upstream of Quality: no shift


def test_hand_computed_c_for_one_permutation(different_path):
    data = different_path.data
    n_perm, seed, which = 20, 9, 13
    m = csm.micom(SPEC, data, "segment", n_perm=n_perm, seed=seed)
    items = list(SPEC.indicators)
    X = data[items].to_numpy(float)
    n = len(X)
    in_a = permutation_groups(n, int((data["segment"] == "A").sum()), n_perm, seed,
                              start=which, stop=which + 1)[0]
    assert in_a.sum() == 400
    # pooled standardization, written out
    mean = [sum(X[i, j] for i in range(n)) / n for j in range(len(items))]
    sd = [np.sqrt(sum((X[i, j] - mean[j]) ** 2 for i in range(n)) / (n - 1)) for j in range(len(items))]
    Z = np.array([[(X[i, j] - mean[j]) / sd[j] for j in range(len(items))] for i in range(n)])
    # weights of each permuted group on its standardized items (fit_pls matches SmartPLS)
    wa = csm.fit_pls(SPEC, data.loc[in_a]).weights.set_index("rhs")["std_all"]
    wb = csm.fit_pls(SPEC, data.loc[~in_a]).weights.set_index("rhs")["std_all"]
    got = m.c_perm[which]
    for k, c in enumerate(SPEC.constructs):
        if len(c.indicators) < 2:
            continue
        cols = [items.index(i) for i in c.indicators]
        ya = [sum(Z[r, q] * wa[i] for q, i in zip(cols, c.indicators)) for r in range(n)]
        yb = [sum(Z[r, q] * wb[i] for q, i in zip(cols, c.indicators)) for r in range(n)]
        ma, mb = sum(ya) / n, sum(yb) / n
        cov = sum((u - ma) * (v - mb) for u, v in zip(ya, yb))
        va = sum((u - ma) ** 2 for u in ya)
        vb = sum((v - mb) ** 2 for v in yb)
        assert got[k] == pytest.approx(cov / np.sqrt(va * vb), abs=1e-9), c.name
    # step 3 of the same permutation: mean difference of pooled-weight scores
    wp = csm.fit_pls(SPEC, data).weights.set_index("rhs")["std_all"]
    sat = SPEC.constructs[SPEC.construct_names.index("Satisfaction")]
    cols = [items.index(i) for i in sat.indicators]
    y = np.array([sum(Z[r, q] * wp[i] for q, i in zip(cols, sat.indicators)) for r in range(n)])
    k = SPEC.construct_names.index("Satisfaction")
    assert m.mean_perm[which, k] == pytest.approx(y[in_a].mean() - y[~in_a].mean(), abs=1e-9)
    assert m.logvar_perm[which, k] == pytest.approx(
        np.log(y[in_a].var(ddof=1)) - np.log(y[~in_a].var(ddof=1)), abs=1e-9)


def test_permutation_test_detects_the_simulated_path_difference(different_path):
    data = different_path.data
    p = csm.permutation_test(SPEC, data, "segment", n_perm=500, seed=4)
    t = p.paths.set_index(["lhs", "rhs"])
    vs = t.loc[("Satisfaction", "Value")]
    assert vs["pvalue"] < 0.01 and vs["diff"] < 0
    assert not (vs["ci_lower"] <= vs["diff"] <= vs["ci_upper"])
    # the group estimates are those of separate PLS fits (fit_pls matches SmartPLS) ...
    for g, col in (("A", "est_a"), ("B", "est_b")):
        ref = csm.fit_pls(SPEC, data[data.segment == g]).paths.set_index(["lhs", "rhs"])["est"]
        np.testing.assert_allclose(t[col].to_numpy(), ref.loc[t.index].to_numpy(), atol=1e-7)
    # ... and recover the difference of true structural paths (0.25 vs 0.55); composite-based
    # paths are attenuated by measurement error, so compare the difference loosely
    assert vs["diff"] == pytest.approx(0.25 - 0.55, abs=0.15)
    assert p.seed == 4 and p.n_perm == 500 and p.n_failed == 0 and len(p.diff_perm) == 500


@pytest.mark.slow   # Monte Carlo: replications of simulated data
def test_false_positive_rates_are_near_nominal_over_replications():
    # 25 replications of two identical populations (400 per group), 200 permutations each.
    # Every flag below is a false positive.  Rates are pooled over constructs / paths
    # (125-225 trials per statistic; binomial sd at 5% about 0.015-0.019, inflated somewhat
    # because constructs of one replication are correlated), so we accept 0.01-0.10.
    reps, flags = 25, {"c": [], "mean": [], "var": [], "path": []}
    for r in range(reps):
        data = sim.simulate_survey(POP, 800, seed=1000 + r, segments=["A", "B"]).data
        m = csm.micom(SPEC, data, "segment", n_perm=200, seed=r)
        multi = m.compositional["construct"] != "Complaints"
        flags["c"].extend(~m.compositional.loc[multi, "invariant"])
        flags["mean"].extend(~m.means["equal"])
        flags["var"].extend(~m.variances["equal"])
        p = csm.permutation_test(SPEC, data, "segment", n_perm=200, seed=r)
        flags["path"].extend(p.paths["pvalue"] < 0.05)
    for what, f in flags.items():
        assert 0.01 <= np.mean(f) <= 0.10, (what, np.mean(f))


def test_seeded_reproducible_and_seed_recorded(different_path):
    d = different_path.data
    a = csm.permutation_test(SPEC, d, "segment", n_perm=30, seed=5)
    b = csm.permutation_test(SPEC, d, "segment", n_perm=30, seed=5)
    np.testing.assert_array_equal(a.diff_perm, b.diff_perm)
    c = csm.micom(SPEC, d, "segment", n_perm=30)
    assert isinstance(c.seed, int)
    again = csm.micom(SPEC, d, "segment", n_perm=30, seed=c.seed)
    np.testing.assert_array_equal(c.c_perm, again.c_perm)
    # chunked generation equals one pass
    full = permutation_groups(100, 40, 600, 3)
    np.testing.assert_array_equal(full[240:260], permutation_groups(100, 40, 600, 3, start=240, stop=260))
    assert (full.sum(axis=1) == 40).all()


def test_groups_below_min_base_are_refused(different_path):
    d = different_path.data
    small = pd.concat([d[d.segment == "A"], d[d.segment == "B"].head(25)])
    for fn in (csm.micom, csm.permutation_test):
        with pytest.raises(DataError, match=r"'B' \(n = 25\)") as e:
            fn(SPEC, small, "segment", n_perm=10, seed=1)
        assert e.value.column == "segment" and e.value.values == ["B"]
    # a lower minimum base lets it through
    assert csm.permutation_test(SPEC, small, "segment", n_perm=10, seed=1, min_base=20).n["B"] == 25


def test_bad_input_is_named(different_path):
    d = different_path.data.copy()
    with pytest.raises(DataError, match="not in the data"):
        csm.micom(SPEC, d, "region", n_perm=10, seed=1)
    d3 = d.copy()
    d3.loc[d3.index[:100], "segment"] = "C"
    with pytest.raises(DataError, match="exactly two groups"):
        csm.micom(SPEC, d3, "segment", n_perm=10, seed=1)
    m = csm.micom(SPEC, d3, "segment", groups=("C", "B"), n_perm=10, seed=1)
    assert m.groups == ("C", "B") and m.n["C"] == 100
    with pytest.raises(DataError, match="not found"):
        csm.micom(SPEC, d, "segment", groups=("A", "Z"), n_perm=10, seed=1)
    with pytest.raises(SpecError, match="n_perm"):
        csm.permutation_test(SPEC, d, "segment", n_perm=0)
    bad = d.copy()
    bad["CUSA2"] = bad["CUSA2"].astype(object)
    bad.loc[bad.index[3], "CUSA2"] = "n/a"
    with pytest.raises(DataError, match="non-numeric") as e:
        csm.micom(SPEC, bad, "segment", n_perm=10, seed=1)
    assert e.value.column == "CUSA2" and e.value.values == ["n/a"]
    const = d.copy()
    const.loc[const.segment == "B", "PERV1"] = 5
    with pytest.raises(DataError, match="zero variance in group 'B'"):
        csm.permutation_test(SPEC, const, "segment", n_perm=10, seed=1)
    # missing answers: rows left out and counted
    miss = d.copy()
    miss.loc[miss.index[:7], "CUEX1"] = np.nan
    p = csm.permutation_test(SPEC, miss, "segment", n_perm=10, seed=1)
    assert p.data_info["rows_missing_items"] == 7 and sum(p.n.values()) == 793
