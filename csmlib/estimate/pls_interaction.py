"""Interaction (moderation) terms in PLS path models, as seminr estimates them.

A model such as ``CUSL ~ COMP + LIKE + CUSA + SC + CUSA:SC`` holds the
interaction term ``CUSA:SC`` (the product of the constructs ``CUSA`` and
``SC``).  :func:`csmlib.fit_pls` estimates it with one of seminr's three
methods (``interaction_term(method = ...)``, seminr 2.3.1):

``two_stage`` (default, as SmartPLS 4)
    Stage 1 estimates the model without the interaction paths.  The
    interaction's single indicator is the product of the stage-1
    (unit-variance) scores of its constructs; stage 2 re-estimates the whole
    model with it.
``product_indicator``
    The interaction is a mode A construct measured by all products of the
    standardized items (``n - 1``; weighted when the fit is) of its
    constructs, one item from each (``cusa:switch_1`` ...).
``orthogonal``
    The same products, each replaced by its residual of an OLS regression
    (with intercept; weighted when the fit is) on all items of the
    interaction's constructs (Little et al. 2006).

Scaling of the interaction path (seminr's convention)
    seminr multiplies the interaction construct's unit-variance score by
    ``int_scale = sum_k sd(x_k) |l_k| / sum_k |l_k|`` over its indicators
    ``x_k`` (sample SD, ``n - 1``; ``l_k`` their loadings) and regresses on
    that.  So the ``est`` of an interaction path is per unit of this
    rescaled term, and ``std_all`` is the coefficient of the unit-variance
    interaction score (``est * int_scale``).  The other paths, R-squared and
    scores are unaffected.  ``extra["int_scale"]`` holds the factor of each
    term.

Results
    ``Results.spec`` is the model as given.  ``estimates`` hold the
    interaction construct's measurement rows (``CUSA:SC =~ CUSA:SC`` for
    two_stage; the product items otherwise) and the path rows with rhs
    ``"CUSA:SC"``; ``scores`` a column for each term (unit variance).
    ``extra["r2_excluded"]`` is the R-squared of every outcome in the model
    re-estimated without the interaction paths (the stage-1 model): with
    ``r2`` it gives the interaction's effect size
    ``f2 = (r2 - r2_excluded) / (1 - r2)``, seminr's ``fSquare``.
    ``extra["stage1"]`` holds that fit.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..spec.modelspec import Construct, ModelSpec
from .results import Results, tidy_estimates

__all__ = ["INTERACTION_METHODS", "fit_interaction", "without_interactions", "stage2_spec"]

INTERACTION_METHODS = ("two_stage", "product_indicator", "orthogonal")


def without_interactions(spec: ModelSpec) -> ModelSpec:
    """The model without its interaction terms (the stage-1 model)."""
    rels = tuple(r for r in spec.relations if not (r.op == "~" and ":" in r.rhs))
    return dataclasses.replace(spec, relations=rels)


def term_indicators(spec: ModelSpec, term: str, method: str) -> list[str]:
    """The indicator names of interaction ``term``: the term itself
    (two_stage), or one product ``"x1:m1"`` per combination of items of its
    constructs (product_indicator, orthogonal)."""
    if method == "two_stage":
        return [term]
    blocks = [list(spec.construct(p).indicators) for p in term.split(":")]
    return [":".join(combo) for combo in itertools.product(*blocks)]


def stage2_spec(spec: ModelSpec, method: str) -> ModelSpec:
    """The model estimated with the interaction terms: each term a mode A
    construct measured by :func:`term_indicators`."""
    base = without_interactions(spec)
    return dataclasses.replace(spec, constructs=base.constructs + tuple(
        Construct(t, tuple(term_indicators(spec, t, method)), "reflective") for t in spec.interactions))


def _weighted_std(X: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Column means and SDs (``n - 1``, or ``sum w - 1`` with weights)."""
    from .pls import weighted_moments

    mean, cov = weighted_moments(X, w)
    return mean, np.sqrt(np.diag(cov))


def _product_items(spec: ModelSpec, term: str, frame: pd.DataFrame, w: np.ndarray | None,
                   orthogonal: bool) -> pd.DataFrame:
    """The product indicators of ``term``: products of the standardized items
    of its constructs (one from each), residualized on all of their items
    when ``orthogonal``."""
    parts = term.split(":")
    blocks = [list(spec.construct(p).indicators) for p in parts]
    cols: dict[str, np.ndarray] = {}
    z = {}
    for items in blocks:
        X = frame[items].to_numpy(float)
        mean, sd = _weighted_std(X, w)
        for j, it in enumerate(items):
            z[it] = (X[:, j] - mean[j]) / sd[j]
    for name, combo in zip(term_indicators(spec, term, "product_indicator"), itertools.product(*blocks)):
        cols[name] = np.prod([z[it] for it in combo], axis=0)
    out = pd.DataFrame(cols, index=frame.index)
    if orthogonal:
        all_items = [it for items in blocks for it in items]
        A = np.column_stack([np.ones(len(frame))] + [frame[it].to_numpy(float) for it in all_items])
        Y = out.to_numpy()
        sw = np.ones(len(frame)) if w is None else np.sqrt(w)
        coef, *_ = np.linalg.lstsq(A * sw[:, None], Y * sw[:, None], rcond=None)
        out = pd.DataFrame(Y - A @ coef, index=frame.index, columns=out.columns)
    return out


def _check_terms(spec: ModelSpec, frame: pd.DataFrame) -> None:
    names = set(spec.construct_names)
    for term in spec.interactions:
        bad = [p for p in term.split(":") if p not in names]
        if bad:
            raise SpecError(f"the interaction term {term!r} names {', '.join(bad)}, not constructs of the model",
                            values=[term], hint="multiply constructs (or observed variables used in paths)")
        own = [r.lhs for r in spec.relations if r.op == "~" and r.rhs == term and r.lhs in term.split(":")]
        if own:
            raise SpecError(f"the interaction term {term!r} predicts one of its own constructs ({own[0]})",
                            values=[f"{own[0]} ~ {term}"], hint="moderate the paths into an outcome by other constructs")
        if term in frame.columns:
            raise SpecError(f"the data have a column named like the interaction term {term!r}",
                            column=term, hint="rename that column")


def fit_interaction(spec: ModelSpec, frame: pd.DataFrame, fit: Callable[[ModelSpec, pd.DataFrame], Results],
                    method: str) -> Results:
    """Estimate a PLS model with interaction terms (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec
        The model, with ``spec.interactions``.
    frame : DataFrame
        The prepared data (items, and the weight column of a weighted fit).
    fit : callable
        ``fit(spec, frame) -> Results`` for a model without interaction terms
        (one :func:`csmlib.fit_pls` call's options and case weights).
    method : {"two_stage", "product_indicator", "orthogonal"}

    Returns
    -------
    Results
        As :func:`csmlib.fit_pls`, for ``spec``; see the module docstring.
    """
    _check_terms(spec, frame)
    w = fit.case_w
    base = without_interactions(spec)
    stage1 = fit(base, frame)
    add: dict[str, pd.DataFrame] = {}
    spec2 = stage2_spec(spec, method)
    for term in spec.interactions:
        if method == "two_stage":
            sc = stage1.scores
            prod = np.prod([sc[p].to_numpy() for p in term.split(":")], axis=0)
            block = pd.DataFrame({term: prod}, index=frame.index)
        else:
            block = _product_items(spec, term, frame, w, orthogonal=method == "orthogonal")
        clash = [c for c in block.columns if c in frame.columns]
        if clash:
            raise SpecError("the data have columns named like product indicators", column=clash,
                            hint="rename those columns")
        add[term] = block
    frame2 = pd.concat([frame] + list(add.values()), axis=1)
    res = fit(spec2, frame2)

    est = res.estimates
    scale = {}
    for term, block in add.items():
        X = block.to_numpy(float)
        _, sd = _weighted_std(X, w)
        load = est[(est["op"] == "=~") & (est["lhs"] == term)].set_index("rhs")["std_all"].reindex(block.columns)
        l_ = np.abs(load.to_numpy(float))
        scale[term] = float(np.sum(sd * l_) / np.sum(l_))
        rows = (est["op"] == "~") & (est["rhs"] == term)
        est.loc[rows, "est"] = est.loc[rows, "std_all"] / scale[term]
    extra = dict(res.extra)
    extra.update(int_scale=pd.Series(scale, name="int_scale"), stage1=stage1,
                 r2_excluded=stage1.r2.reindex(res.r2.index), interaction_method=method)
    options = dict(res.options, interaction=method)
    return dataclasses.replace(res, spec=spec, _estimates=tidy_estimates(est), extra=extra, options=options)
