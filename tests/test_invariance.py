"""Measurement invariance: the multi-group ML engine against lavaan, and the
ladder's decisions on data simulated with and without a non-invariant item."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.errors import DataError, SpecError
from csmlib.analysis.invariance import measurement_invariance, noninvariant_items
from csmlib.estimate.cbsem import fit_cbsem
from csmlib.spec import Construct, ModelSpec, Relation

DATA = Path(__file__).resolve().parent.parent / "data"


def _cfa(blocks: dict[str, list[str]]) -> ModelSpec:
    cons = tuple(Construct(k, tuple(v)) for k, v in blocks.items())
    return ModelSpec(constructs=cons,
                     relations=tuple(Relation(c.name, "=~", x) for c in cons for x in c.indicators))


HS = _cfa({"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
           "speed": ["x7", "x8", "x9"]})


def test_holzinger_by_school_verdicts():
    # the numbers are compared with lavaan in tests/test_r_references.py;
    # here, the decision: loadings are invariant across schools, intercepts not
    data = pd.read_csv(DATA / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    got = measurement_invariance(HS, data, "school").set_index("step")
    assert got["converged"].all()
    assert got.loc["metric", "holds"] and not got.loc["scalar", "holds"]
    assert "do not compare construct means" in got.loc["scalar", "verdict"]


def _simulate(n, shift_item=None, shift=0.0, seed=0):
    """Two groups, two correlated factors with three items each; the groups
    differ in factor means (which scalar invariance allows) and, optionally,
    in one item's intercept (which it does not)."""
    rng = np.random.default_rng(seed)
    lam = np.array([1.0, 0.8, 0.9])
    frames = []
    for g, mean in ((0, 0.0), (1, 0.4)):
        f = rng.multivariate_normal([mean, mean / 2], [[1, 0.4], [0.4, 1]], size=n)
        x = np.column_stack([f[:, 0:1] * lam, f[:, 1:2] * lam]) + rng.normal(0, 0.6, (n, 6))
        df = pd.DataFrame(x + 3.0, columns=[f"a{i}" for i in (1, 2, 3)] + [f"b{i}" for i in (1, 2, 3)])
        if g == 1 and shift_item:
            df[shift_item] += shift
        df["grp"] = f"g{g}"
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


SIM = _cfa({"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]})


def test_invariant_data_passes_and_noninvariant_item_is_found():
    ok = measurement_invariance(SIM, _simulate(500, seed=1), "grp")
    assert ok["holds"].all(), ok[["step", "pvalue", "delta_cfi"]]
    data = _simulate(500, shift_item="a2", shift=0.5, seed=2)
    bad = measurement_invariance(SIM, data, "grp").set_index("step")
    assert bad.loc["metric", "holds"] and not bad.loc["scalar", "holds"]
    items = noninvariant_items(SIM, data, "grp")
    assert items.loc[0, "item"] == "a2" and items.loc[0, "pvalue"] < 1e-6


@pytest.mark.slow   # Monte Carlo: replications of simulated data
def test_false_alarm_rate_is_near_nominal_for_the_chisq_difference_test():
    # 40 seeded replications of invariant data: the scalar step's chi-square
    # difference test rejects about 5% of the time (binomial: 0-6 of 40 is
    # within 99% of that).
    p = [measurement_invariance(SIM, _simulate(200, seed=100 + r), "grp",
                                steps=("metric", "scalar")).loc[1, "pvalue"] for r in range(40)]
    assert sum(q < 0.05 for q in p) <= 6


def test_bad_input_is_reported():
    data = _simulate(100)
    with pytest.raises(DataError, match="fewer than two groups"):
        measurement_invariance(SIM, data.assign(grp="one"), "grp")
    with pytest.raises(DataError, match="missing"):
        measurement_invariance(SIM, data, "nogroup")
    with pytest.raises(DataError, match="without variance"):
        measurement_invariance(SIM, data.assign(a3=1.0), "grp")
    with pytest.raises(DataError, match="unknown invariance steps"):
        measurement_invariance(SIM, data, "grp", steps=("weak",))
    comp = ModelSpec(constructs=(Construct("A", ("a1", "a2"), "B"), Construct("B", ("b1", "b2"))),
                     relations=())
    with pytest.raises(SpecError, match="composites"):
        fit_cbsem(comp, data, group="grp")


def test_public_name():
    assert csm.measurement_invariance is measurement_invariance
