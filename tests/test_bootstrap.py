"""Bootstrap: seeding, agreement of the batched engine with plain refits,
coverage on simulated data, failure accounting, interval formulas."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import csmlib as csm
from csmlib.estimate.bootstrapping import bca_interval, percentile_interval, resample_indices
from csmlib.errors import EstimationWarning

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(DATA / "mobi" / "mobi.csv")


@pytest.fixture(scope="module")
def ecsi_fit(mobi):
    return csm.fit_pls(csm.models.ecsi(), csm.datasets.load("mobi"))


def test_same_seed_same_draws_whatever_the_workers(ecsi_fit):
    a = csm.bootstrap(ecsi_fit, 300, seed=7, n_jobs=1)
    np.testing.assert_array_equal(a.draws, csm.bootstrap(ecsi_fit, 300, seed=7, n_jobs=1).draws)
    # other chunking / workers: the same resamples (batched BLAS may differ in the last bits)
    b = csm.bootstrap(ecsi_fit, 300, seed=7, n_jobs=2, chunk_size=50)
    assert a.seed == b.seed == 7
    np.testing.assert_allclose(a.draws, b.draws, rtol=0, atol=1e-10)
    c = csm.bootstrap(ecsi_fit, 300, seed=8, n_jobs=1)
    assert not np.allclose(a.draws, c.draws)
    # no seed: one is drawn, recorded, and reproduces the run
    d = csm.bootstrap(ecsi_fit, 50, n_jobs=1)
    assert isinstance(d.seed, int)
    np.testing.assert_array_equal(d.draws, csm.bootstrap(ecsi_fit, 50, seed=d.seed, n_jobs=1).draws)
    # the first resamples do not depend on n_boot
    e = csm.bootstrap(ecsi_fit, 600, seed=7, n_jobs=1)
    np.testing.assert_allclose(a.draws, e.draws[:300], rtol=0, atol=1e-10)


@pytest.mark.parametrize("scheme,standardize", [("path", True), ("centroid", False)])
def test_batched_equals_loop_of_fit_pls(mobi, scheme, standardize):
    fit = csm.fit_pls(csm.models.ecsi(), mobi, scheme=scheme, standardize=standardize)
    lim = {c: (1, 10) for c in mobi.columns}
    boot = csm.bootstrap(fit, 5, seed=3, n_jobs=1, scale_limits=lim)
    idx = resample_indices(len(mobi), 5, 3)
    keys = boot.keys
    for b in range(5):
        res = csm.fit_pls(fit.spec, mobi.iloc[idx[b]].reset_index(drop=True), scheme=scheme,
                          standardize=standardize)
        e = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
        eff = res.effects.set_index(["lhs", "rhs"])
        ht = csm.htmt(res, tidy=True).set_index(["lhs", "rhs"])["htmt"]
        expected = []
        for g, lhs, op, rhs in keys.itertuples(index=False):
            if g == "estimates":
                expected.append(e[(lhs, op, rhs)])
            elif g == "effects":
                expected.append(eff.loc[(lhs, rhs), op])
            elif g == "r2":
                expected.append(res.r2[lhs])
            elif g == "index":
                expected.append(float(csm.satisfaction_index(res, lhs, scale_limits=lim)))
            elif g == "htmt":
                expected.append(ht[(lhs, rhs)])
            elif g == "specific":
                expected.append(res.specific_effects.set_index("path")["est"][lhs])
        np.testing.assert_allclose(boot.draws[b], np.array(expected, float), rtol=0, atol=1e-10)
    # the full-sample values are the fit's
    e = fit.estimates.set_index(["lhs", "op", "rhs"])["est"]
    est = boot.table[boot.table["group"] == "estimates"]
    np.testing.assert_allclose(est["est"], [e[k] for k in zip(est["lhs"], est["op"], est["rhs"])], atol=1e-10)


def test_frames_are_summaries_of_the_draws(ecsi_fit):
    boot = csm.bootstrap(ecsi_fit, 400, seed=2, n_jobs=1)
    keys = boot.keys
    j = int(np.flatnonzero((keys["lhs"] == "Satisfaction") & (keys["op"] == "~") & (keys["rhs"] == "Quality"))[0])
    d = boot.draws[:, j]
    row = boot.paths.set_index(["lhs", "rhs"]).loc[("Satisfaction", "Quality")]
    assert row["se"] == pytest.approx(np.std(d, ddof=1), rel=1e-12)
    assert row["ci_lower"] == pytest.approx(np.quantile(d, 0.025), rel=1e-12)
    assert row["ci_upper"] == pytest.approx(np.quantile(d, 0.975), rel=1e-12)
    assert row["z"] == pytest.approx(row["est"] / row["se"])
    assert row["pvalue"] == pytest.approx(2 * sps.norm.sf(abs(row["z"])))
    ix = boot.index.set_index("construct")
    assert list(boot.index.columns) == ["construct", "index", "se", "ci_lower", "ci_upper"]
    assert ix.loc["Satisfaction", "index"] == pytest.approx(float(csm.satisfaction_index(ecsi_fit)), abs=1e-9)
    assert ix.loc["Satisfaction", "ci_lower"] < ix.loc["Satisfaction", "index"] < ix.loc["Satisfaction", "ci_upper"]
    assert set(boot.r2["construct"]) == set(ecsi_fit.spec.endogenous)
    assert {"total_se", "total_ci_lower", "indirect_ci_upper"} <= set(boot.effects.columns)
    assert list(boot.htmt.columns) == ["lhs", "rhs", "htmt", "se", "ci_lower", "ci_upper"]
    assert list(boot.estimates.columns) == list(ecsi_fit.estimates.columns)
    assert boot.n_failed == 0 and boot.n_sign_flipped == 0
    text = str(boot.summary())
    assert "seed 2" in text and "Failed resamples" in text and "Satisfaction index" in text
    assert "<h4>" in boot.summary()._repr_html_()


@pytest.mark.slow   # Monte Carlo: replications of simulated data
def test_percentile_coverage_on_simulated_chain():
    """60 datasets (n = 200) from Quality -> Value -> Satisfaction -> Loyalty,
    400 resamples each, consistent PLS: the 95% percentile intervals of the
    three paths cover the true paths 88-99% of the time."""
    from csmlib.analysis import simulate

    pop = simulate.chain_population(scale_points=None)
    spec = csm.models.chain()
    hits = []
    for rep in range(60):
        sim = simulate.simulate_survey(pop, 200, seed=1000 + rep)
        fit = csm.fit_pls(spec, sim.data, consistent=True)
        boot = csm.bootstrap(fit, 400, seed=rep, statistics=["estimates"], n_jobs=1)
        truth = sim.truth.set_index(["lhs", "op", "rhs"])["est"]
        for r in boot.paths.itertuples():
            hits.append(r.ci_lower <= truth[(r.lhs, "~", r.rhs)] <= r.ci_upper)
    assert len(hits) == 180
    assert 0.88 <= np.mean(hits) <= 0.99


def test_failed_resamples_are_counted_not_dropped():
    """An item answered differently by only two respondents is constant in
    every resample that misses both: those refits fail and are counted."""
    rng = np.random.default_rng(4)
    n = 40
    f = rng.normal(size=n)
    data = pd.DataFrame({f"x{i}": f + rng.normal(size=n) for i in (1, 2, 3)})
    data["y1"] = data["x1"] + rng.normal(size=n)
    data["y2"] = 0.0
    data.loc[[5, 17], "y2"] = [1.0, 2.0]
    spec = csm.ModelSpec.from_lavaan("X =~ x1 + x2 + x3\nY =~ y1 + y2\nY ~ X")
    fit = csm.fit_pls(spec, data)
    with pytest.warns(EstimationWarning, match="failed"):
        boot = csm.bootstrap(fit, 500, seed=9, n_jobs=1, statistics=["estimates", "r2"])
    idx = resample_indices(n, 500, 9)
    expected = ~(np.isin(idx, [5, 17]).any(axis=1))
    assert expected.sum() > 20
    np.testing.assert_array_equal(boot.failed, expected)
    assert boot.n_failed == expected.sum()
    assert boot.draws.shape[0] == 500                       # kept as rows ...
    assert np.isnan(boot.draws[expected]).all()             # ... of NaN
    assert np.isfinite(boot.draws[~expected]).all()
    t = boot.table
    assert (t["n_ok"] == 500 - expected.sum()).all()
    assert f"Failed resamples (excluded from the intervals): {expected.sum()}" in str(boot.summary())


def test_bca_interval_formula():
    """BCa by Efron's formula on made-up draws, computed here step by step."""
    rng = np.random.default_rng(1)
    draws = rng.gamma(3.0, size=(2000, 1))
    theta = np.array([2.7])
    jack = rng.gamma(3.0, size=(50, 1)) / 10 + 2.7
    lo, hi = bca_interval(draws, theta, jack, 0.9)
    z0 = sps.norm.ppf(np.mean(draws[:, 0] < 2.7))
    d = jack[:, 0].mean() - jack[:, 0]
    a = (d ** 3).sum() / (6 * ((d ** 2).sum()) ** 1.5)
    for got, z in ((lo[0], sps.norm.ppf(0.05)), (hi[0], sps.norm.ppf(0.95))):
        p = sps.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        assert got == pytest.approx(np.quantile(draws[:, 0], p), rel=1e-12)
    plo, phi = percentile_interval(draws, 0.9)
    assert plo[0] == pytest.approx(np.quantile(draws[:, 0], 0.05))
    assert phi[0] == pytest.approx(np.quantile(draws[:, 0], 0.95))


def test_bca_run_and_jackknife(mobi):
    fit = csm.fit_pls(csm.models.chain(), mobi)
    boot = csm.bootstrap(fit, 300, seed=5, ci="bca", n_jobs=1, statistics=["estimates"])
    assert boot.jackknife.shape == (len(mobi), boot.draws.shape[1])
    # leave-one-out estimate of one path, by a plain refit
    j = int(np.flatnonzero((boot.keys["op"] == "~") & (boot.keys["lhs"] == "Value"))[0])
    loo = csm.fit_pls(fit.spec, mobi.drop(index=3).reset_index(drop=True))
    assert boot.jackknife[3, j] == pytest.approx(loo.paths.set_index("lhs").loc["Value", "est"], abs=1e-10)
    pct = boot.conf_int(ci="percentile")
    assert np.all(np.isfinite(boot.table["ci_lower"]))
    assert not np.allclose(pct["ci_lower"], boot.table["ci_lower"])


def test_bad_arguments(ecsi_fit):
    with pytest.raises(csm.SpecError, match="ci="):
        csm.bootstrap(ecsi_fit, 10, ci="student")
    with pytest.raises(csm.SpecError, match="n_boot"):
        csm.bootstrap(ecsi_fit, 1)
    with pytest.raises(csm.SpecError, match="statistics"):
        csm.bootstrap(ecsi_fit, 10, statistics=["paths"])
    with pytest.raises(csm.SpecError, match="level"):
        csm.bootstrap(ecsi_fit, 10, level=95)


def test_user_statistic_with_loop_engine(mobi):
    fit = csm.fit_pls(csm.models.chain(), mobi)
    lim = {c: (1, 10) for c in mobi.columns}

    def gap(res):
        return {"sat_minus_value": float(csm.satisfaction_index(res, "Satisfaction", scale_limits=lim))
                - float(csm.satisfaction_index(res, "Value", scale_limits=lim))}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        boot = csm.bootstrap(fit, 20, seed=1, n_jobs=1, statistics=gap)
    s = boot.statistics
    assert list(s["name"]) == ["sat_minus_value"]
    assert s["est"].iloc[0] == pytest.approx(gap(fit)["sat_minus_value"])
    # the same resamples as the batched engine: index draws agree
    b2 = csm.bootstrap(fit, 20, seed=1, n_jobs=1, statistics=["index"], scale_limits=lim)
    k = b2.keys.set_index("lhs").index
    diff = b2.draws[:, k.get_loc("Satisfaction")] - b2.draws[:, k.get_loc("Value")]
    np.testing.assert_allclose(boot.draws[:, 0], diff, atol=1e-9)


# -- CB-SEM: batched warm-started refits for every statistic group ------------------
ACSI_LABELLED = """
Expectation =~ CUEX1 + CUEX2 + CUEX3
Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Complaints =~ CUSCO
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Quality ~ Expectation
Value ~ Expectation + vq*Quality
Satisfaction ~ Expectation + sq*Quality + sv*Value
Complaints ~ Satisfaction
Loyalty ~ Satisfaction + Complaints
qvs := vq*sv
qs_total := sq + vq*sv
"""


@pytest.fixture(scope="module")
def acsi_cb():
    from csmlib.analysis import simulate

    sim = simulate.simulate_survey(simulate.acsi_population(), 250, seed=11)
    spec = csm.ModelSpec.from_lavaan(ACSI_LABELLED)
    data = sim.data[list(spec.indicators)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = csm.fit_cbsem(spec, data)
    return fit, data


def test_cbsem_batched_equals_fresh_fits(acsi_cb):
    """Every statistic group of the batched CB-SEM engine equals a fresh
    csm.fit_cbsem (semopy start, Fisher scoring) on the same resample rows."""
    fit, data = acsi_cb
    lim = {c: (1, 10) for c in data.columns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = csm.bootstrap(fit, 4, seed=3, n_jobs=1, scale_limits=lim)
    assert boot.engine == "cbsem-batched" and boot.n_failed == 0
    assert set(boot.keys["group"]) == {"estimates", "effects", "r2", "index", "htmt", "specific"}
    assert {":=", "~~", "=~", "~"} <= set(boot.keys["op"])
    idx = resample_indices(len(data), 4, 3)
    for b in (0, 3):
        sample = data.iloc[idx[b]].reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = csm.fit_cbsem(fit.spec, sample)
        e = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
        eff = res.effects.set_index(["lhs", "rhs"])
        ht = csm.htmt(res, tidy=True).set_index(["lhs", "rhs"])["htmt"]
        expected = []
        for g, lhs, op, rhs in boot.keys.itertuples(index=False):
            if g == "estimates":
                expected.append(e[(lhs, op, rhs)])
            elif g == "effects":
                expected.append(eff.loc[(lhs, rhs), op])
            elif g == "r2":
                expected.append(res.r2[lhs])
            elif g == "index":
                expected.append(float(csm.satisfaction_index(res, lhs, scale_limits=lim)))
            elif g == "specific":
                expected.append(res.specific_effects.set_index("path")["est"][lhs])
            else:
                expected.append(ht[(lhs, rhs)])
        np.testing.assert_allclose(boot.draws[b], np.array(expected, float), rtol=0, atol=2e-5)
    # the defined parameter is the product of its labelled paths, resample by resample
    k = boot.keys.reset_index(drop=True)
    col = lambda lhs, op, rhs: int(np.flatnonzero((k["lhs"] == lhs) & (k["op"] == op) & (k["rhs"] == rhs))[0])
    np.testing.assert_allclose(boot.draws[:, col("qvs", ":=", "vq*sv")],
                               boot.draws[:, col("Value", "~", "Quality")]
                               * boot.draws[:, col("Satisfaction", "~", "Value")], rtol=1e-12)


def test_cbsem_nonconverged_refits_fail(acsi_cb, monkeypatch):
    """A refit that does not converge is a failed resample (counted, NaN)."""
    import csmlib.estimate.cbsem as cbsem

    fit, _ = acsi_cb
    real = cbsem.refit_many

    def one_iteration(results, covariances, n=None, **kw):
        return real(results, covariances, n, max_iter=1)

    monkeypatch.setattr(cbsem, "refit_many", one_iteration)
    with pytest.warns(EstimationWarning, match="failed"):
        boot = csm.bootstrap(fit, 20, seed=1, n_jobs=1, statistics=["estimates"])
    assert boot.n_failed == 20 and np.isnan(boot.draws).all()


def test_parallel_backends_give_the_serial_draws(ecsi_fit, acsi_cb):
    """Threads and forked processes over chunks draw the same resamples as
    one serial run with the same seed (PLS core chunked internally too)."""
    serial = csm.bootstrap(ecsi_fit, 600, seed=4, n_jobs=1)
    for backend in ("threads", "processes"):
        par = csm.bootstrap(ecsi_fit, 600, seed=4, n_jobs=2, backend=backend, chunk_size=250)
        np.testing.assert_allclose(par.draws, serial.draws, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(par.failed, serial.failed)
    fit, _ = acsi_cb
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = csm.bootstrap(fit, 60, seed=2, n_jobs=1)
        cp = csm.bootstrap(fit, 60, seed=2, n_jobs=2, chunk_size=25)
    np.testing.assert_allclose(cp.draws, cs.draws, rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(cp.failed, cs.failed)


@pytest.mark.parametrize("engine", ["loop", "auto"])
def test_multi_group_cbsem_fit_is_refused_by_every_engine(engine):
    # the loop engine (also used for a statistic function) refitted the pooled rows as one
    # group and stopped with a raw ValueError
    hs = csm.datasets.load_frame("holzinger_swineford1939")
    spec = csm.ModelSpec.from_lavaan("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6")
    fit = csm.fit_cbsem(spec, hs, group="school")
    with pytest.raises(csm.EstimationError, match="multi-group"):
        csm.bootstrap(fit, n_boot=10, seed=1, engine=engine)
    with pytest.raises(csm.EstimationError, match="multi-group"):
        csm.bootstrap(fit, n_boot=10, seed=1, statistics=lambda res: res.estimates["est"].iloc[:2])


def test_cbsem_loop_engine_index_and_htmt_equal_the_batched_engines():
    """The loop engine (a fit_cbsem per resample; index from the factor-score
    weights of the refit, HTMT of its data, both read through
    csmlib.estimate.statistics) and the batched CB engine (index and HTMT
    from the refitted parameter vectors and the resample's moments, in
    arrays) draw the same index and HTMT on the same resamples; a block
    whose limits are not all given has no index in either."""
    inst = csm.Instrument.from_yaml(DATA / "demo" / "instrument.yml")
    survey = csm.read_survey(DATA / "demo" / "wave1.csv", inst)
    cb = csm.fit_cbsem(csm.models.acsi(), survey)
    lim = {i: (1, 10) for i in cb.spec.indicators if i != cb.spec.construct("Loyalty").indicators[0]}
    kw = dict(seed=5, n_jobs=1, statistics=["index", "htmt"], scale_limits=lim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = csm.bootstrap(cb, 6, engine="batched", **kw)
        loop = csm.bootstrap(cb, 6, engine="loop", **kw)
    assert batched.engine == "cbsem-batched" and loop.engine == "loop"
    assert batched.n_failed == loop.n_failed == 0
    kb = [tuple(k) for k in batched.keys.to_numpy()]
    kl = {tuple(k): i for i, k in enumerate(loop.keys.to_numpy())}
    assert set(kb) == set(kl)
    assert ("index", "Satisfaction", "index", "") in kl and any(k[0] == "htmt" for k in kl)
    assert ("index", "Loyalty", "index", "") not in kl
    np.testing.assert_allclose(loop.draws[:, [kl[k] for k in kb]], batched.draws, rtol=0, atol=2e-5)
    # the full-sample index is the reported one
    ix = loop.index.set_index("construct")["index"]
    assert ix["Satisfaction"] == pytest.approx(float(csm.satisfaction_index(cb, "Satisfaction", scale_limits=lim)),
                                               abs=1e-9)


@pytest.mark.parametrize("method", ["cbsem", "pls"])
def test_loop_engine_keeps_the_instruments_scale_limits(method):
    """A fit on a Survey carries its instrument's scale limits; the loop
    engine's refits (on plain resampled frames) use them too, so their
    index is drawn, not failed: the draws are the batched engine's."""
    inst = csm.Instrument.from_yaml(DATA / "demo" / "instrument.yml")
    survey = csm.read_survey(DATA / "demo" / "wave1.csv", inst)
    fit = csm.fit_cbsem(csm.models.acsi(), survey) if method == "cbsem" else csm.fit_pls(csm.models.acsi(), survey)
    kw = dict(seed=2, n_jobs=1, statistics=["index"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batched = csm.bootstrap(fit, 4, engine="batched", **kw)
        loop = csm.bootstrap(fit, 4, engine="loop", **kw)
    assert loop.n_failed == batched.n_failed == 0
    assert list(loop.keys["lhs"]) == list(batched.keys["lhs"]) == list(fit.spec.construct_names)
    np.testing.assert_allclose(loop.draws, batched.draws, rtol=0, atol=2e-5)
