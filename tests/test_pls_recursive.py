"""A non-recursive structural model is refused by PLS, with the loop named
(issue 13, class 6).  SmartPLS refuses circular relationships and R plspm /
semPLS require a lower-triangular inner matrix; CB-SEM keeps estimating
(and warning when the model is not identified)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csmlib as csm
from csmlib.errors import SpecError
from csmlib.estimate.pls import check_recursive


def _data(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 3))
    f[:, 1] += 0.5 * f[:, 0]
    f[:, 2] += 0.4 * f[:, 1]
    return pd.DataFrame({f"{c.lower()}{i}": f[:, j] + rng.normal(scale=0.6, size=n)
                         for j, c in enumerate("QSL") for i in range(3)})


MEASURE = "Q =~ q0 + q1 + q2\nS =~ s0 + s1 + s2\nL =~ l0 + l1 + l2\n"


@pytest.mark.parametrize("paths, loops", [
    ("S ~ Q\nQ ~ S\nL ~ S\n", ("Q -> S -> Q", "S -> Q -> S")),
    ("S ~ Q\nL ~ S\nQ ~ L\n", ("Q -> S -> L -> Q", "S -> L -> Q -> S", "L -> Q -> S -> L")),
])
def test_fit_pls_refuses_a_loop_and_names_it(paths, loops):
    spec = csm.ModelSpec.from_lavaan(MEASURE + paths)
    with pytest.raises(SpecError, match="not recursive") as e:
        csm.fit_pls(spec, _data())
    assert e.value.values[0] in loops
    assert e.value.values[0] in str(e.value)
    assert "csm.fit_cbsem" in str(e.value)


def test_mga_and_micom_refuse_a_loop_too():
    spec = csm.ModelSpec.from_lavaan(MEASURE + "S ~ Q\nQ ~ S\nL ~ S\n")
    data = _data(400).assign(g=np.repeat(["a", "b"], 200))
    with pytest.raises(SpecError, match="not recursive"):
        csm.micom(spec, data, "g", n_perm=10, seed=1)


def test_cb_sem_still_estimates_the_non_recursive_model():
    spec = csm.ModelSpec.from_lavaan(MEASURE + "S ~ Q\nQ ~ S\nL ~ S\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = csm.fit_cbsem(spec, _data())
    assert {("S", "Q"), ("Q", "S")} <= set(zip(fit.paths["lhs"], fit.paths["rhs"]))


def test_recursive_models_still_fit():
    spec = csm.ModelSpec.from_lavaan(MEASURE + "S ~ Q\nL ~ S + Q\n")
    fit = csm.fit_pls(spec, _data())
    assert len(fit.paths) == 3


@st.composite
def _graphs(draw):
    """A random DAG on k constructs (edges only from lower to higher order
    in a random permutation), and optionally one edge back against it."""
    k = draw(st.integers(2, 7))
    order = draw(st.permutations(range(k)))
    pairs = [(order[i], order[j]) for i in range(k) for j in range(i + 1, k)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=len(pairs)))
    back = None
    if draw(st.booleans()):
        a, b = draw(st.sampled_from(edges))
        # any path from a to b plus an edge b -> a closes a loop; use the edge itself
        back = (b, a)
    return k, edges, back


@settings(max_examples=150, deadline=None)
@given(_graphs())
def test_loops_found_exactly_and_named_along_real_paths(graph):
    k, edges, back = graph
    all_edges = edges + ([back] if back else [])
    text = "".join(f"C{i} =~ x{i}\n" for i in range(k))
    text += "".join(f"C{b} ~ C{a}\n" for a, b in all_edges)
    spec = csm.ModelSpec.from_lavaan(text)
    if back is None:
        check_recursive(spec)            # a DAG passes
        return
    with pytest.raises(SpecError) as e:
        check_recursive(spec)
    loop = e.value.values[0].split(" -> ")
    assert loop[0] == loop[-1] and len(loop) >= 3
    named = {(f"C{a}", f"C{b}") for a, b in all_edges}
    assert all((u, v) in named for u, v in zip(loop, loop[1:])), loop
