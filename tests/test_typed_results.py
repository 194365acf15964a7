"""The typed results of fit_pls / fit_cbsem (issue 15, item 2): each class
refits itself, knows the signs a resample is compared with and chooses its
bootstrap engine; the bootstrap only resamples and summarizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csmlib as csm
from csmlib.errors import EstimationError, SpecError


@pytest.fixture(scope="module")
def mobi():
    return csm.datasets.load("mobi").data


@pytest.fixture(scope="module")
def pls(mobi):
    return csm.fit_pls(csm.models.chain(), mobi)


@pytest.fixture(scope="module")
def cb(mobi):
    return csm.fit_cbsem(csm.models.chain(), mobi)


def test_fits_are_typed_and_still_results(pls, cb):
    assert type(pls) is csm.PlsResults and type(cb) is csm.CbsemResults
    assert isinstance(pls, csm.Results) and isinstance(cb, csm.Results)
    assert (pls.method, cb.method) == ("pls", "cbsem")
    assert repr(pls).startswith("<PlsResults pls")


def test_refit_on_the_same_rows_reproduces_the_fit(pls, cb, mobi):
    for res in (pls, cb):
        again = res.refit(res.data)
        assert type(again) is type(res)
        pd.testing.assert_frame_equal(again.estimates, res.estimates)


def test_refit_keeps_the_options(mobi):
    fit = csm.fit_pls(csm.models.chain(), mobi, scheme="factorial", standardize=False)
    rows = mobi.iloc[np.arange(0, len(mobi), 2)].reset_index(drop=True)
    direct = csm.fit_pls(fit.spec, rows, scheme="factorial", standardize=False)
    pd.testing.assert_frame_equal(fit.refit(rows).estimates, direct.estimates)


def test_signs_are_weights_for_pls_and_loadings_for_cbsem(pls, cb):
    for res, op in ((pls, "<~"), (cb, "=~")):
        assert res.outer_op == op
        signs = res.indicator_signs()
        e = res.estimates
        for c in res.spec.constructs:
            want = e[(e["op"] == op) & (e["lhs"] == c.name)].set_index("rhs")["est"]
            np.testing.assert_array_equal(signs[c.name], want.reindex(list(c.indicators)).to_numpy())


def test_engines_chosen_by_the_class(pls, cb):
    assert pls.bootstrap_engine(("estimates",), None, "auto").name == "pls-batched"
    assert cb.bootstrap_engine(("estimates",), None, "auto").name == "cbsem-batched"


def test_a_hand_made_results_cannot_refit(pls):
    import dataclasses

    bare = csm.Results(**{f.name: getattr(pls, f.name) for f in dataclasses.fields(pls)})
    with pytest.raises(EstimationError, match="fit_pls or csm.fit_cbsem"):
        bare.refit(pls.data)
    assert bare.bootstrap_engine(("estimates",), None, "auto") is None


def test_cb_helpers_refuse_pls_results(pls):
    with pytest.raises(SpecError, match="fit_cbsem"):
        csm.modification_indices(pls)
