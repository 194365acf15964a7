"""Higher-order constructs in PLS path models.

A higher-order construct (HOC) is measured by other constructs, its
dimensions: ``REP =~ COMP + LIKE`` (mode A) or ``REP <~ COMP + LIKE``
(mode B).  :func:`csmlib.fit_pls` estimates it with ``hoc=``:

``two_stage`` (default; seminr's ``higher_composite``, the *disjoint*
two-stage approach, Sarstedt et al. 2019)
    Stage 1 estimates the model with the HOC replaced by its dimensions:
    every antecedent of the HOC points at each dimension, each dimension
    points at every outcome of the HOC.  Stage 2 measures the HOC by the
    stage-1 scores of its dimensions (unit variance) and drops the
    dimensions from the model.
``repeated_indicators``
    The HOC is measured by (copies of) all items of its dimensions, in its
    own mode; the structural paths ``dimension ~ HOC`` are added; the
    antecedents of the HOC point at the HOC only.

Results (both levels)
    ``Results.spec`` is the model as given.  ``estimates`` hold the final
    model (two_stage: stage 2, with ``REP =~ COMP`` / ``REP <~ COMP`` rows of
    the HOC on its dimensions) and the dimensions' own loadings and weights
    (two_stage: from stage 1); ``scores`` a column per construct, the
    dimensions included.  ``extra["stage1"]`` holds the stage-1 fit
    (two_stage).

Index and IPMA of a HOC
    The HOC's score is a weighted sum of its dimensions' scores, each a
    weighted sum of their items, so it is a weighted sum of the items: its
    raw (item-metric) weight of item ``i`` of dimension ``d`` is ``v_d *
    w_di`` (``v_d`` the HOC's raw weight on the score of ``d``, ``w_di`` the
    raw outer weight of ``i`` in ``d``; repeated indicators: the HOC's own
    raw weights on the copies).  ``extra["raw_weights"][HOC]`` holds these
    combined weights, so :func:`csmlib.satisfaction_index` and
    :func:`csmlib.ipma` compute the HOC's 0-100 index with the theoretical
    scale limits of its items, exactly as for any construct.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..spec.modelspec import Construct, ModelSpec, Relation
from .results import Results, tidy_estimates

__all__ = ["HOC_METHODS", "fit_hoc", "stage1_spec", "stage2_spec", "repeated_spec"]

HOC_METHODS = ("two_stage", "repeated_indicators")


def _dims(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    out = {h: spec.construct(h).indicators for h in spec.higher_order}
    nested = [h for h, d in out.items() if any(x in out for x in d)]
    if nested:
        raise SpecError("higher-order constructs of higher-order constructs (third order) are not supported",
                        values=nested, hint="measure a higher-order construct by first-order constructs")
    owner: dict[str, str] = {}
    for h, d in out.items():
        for x in d:
            if x in owner:
                raise SpecError(f"construct {x!r} is a dimension of both {owner[x]!r} and {h!r}",
                                values=[x], hint="give each dimension one higher-order construct")
            owner[x] = h
    on_path = sorted({n for r in spec.relations if r.op == "~" for n in (r.lhs, r.rhs) if n in owner})
    if on_path:
        raise SpecError("a dimension of a higher-order construct has structural paths of its own: "
                        + ", ".join(on_path), values=on_path,
                        hint="draw the paths to and from the higher-order construct")
    return out


def stage1_spec(spec: ModelSpec) -> ModelSpec:
    """The disjoint two-stage approach's stage-1 model: every higher-order
    construct replaced by its dimensions (paths into it go into each
    dimension, paths out of it leave from each dimension)."""
    dims = _dims(spec)
    expand = lambda n: dims.get(n, (n,))  # noqa: E731
    rels: list[Relation] = []
    seen = set()
    for r in spec.relations:
        if r.lhs in dims and r.op in ("=~", "<~"):
            continue
        if r.op == "~" and (r.lhs in dims or r.rhs in dims):
            for lhs in expand(r.lhs):
                for rhs in expand(r.rhs):
                    if (lhs, rhs) not in seen:
                        seen.add((lhs, rhs))
                        rels.append(Relation(lhs, "~", rhs, line=r.line))
            continue
        if r.op == "~~" and (r.lhs in dims or r.rhs in dims):
            continue
        if r.op == "~":
            seen.add((r.lhs, r.rhs))
        rels.append(r)
    cons = tuple(c for c in spec.constructs if c.name not in dims)
    return dataclasses.replace(spec, constructs=cons, relations=tuple(rels), defined=())


def _combined_weights(hoc_w: pd.Series, dim_w: dict[str, pd.Series]) -> pd.Series:
    parts = [dim_w[d] * float(v) for d, v in hoc_w.items()]
    out = pd.concat(parts)
    return out.groupby(level=0, sort=False).sum()


def _raw_scores(frame: pd.DataFrame, w: pd.Series) -> np.ndarray:
    X = frame[list(w.index)].to_numpy(float)
    return X @ (w.to_numpy() / w.sum())


def fit_hoc(spec: ModelSpec, frame: pd.DataFrame, fit: Callable[[ModelSpec, pd.DataFrame], Results],
            method: str) -> Results:
    """Estimate a PLS model with higher-order constructs (module docstring).

    Parameters
    ----------
    spec : ModelSpec
        The model, with ``spec.higher_order``.
    frame : DataFrame
        The prepared data (items, and the weight column of a weighted fit).
    fit : callable
        ``fit(spec, frame) -> Results`` for a first-order model (one
        :func:`csmlib.fit_pls` call's options and case weights).
    method : {"two_stage", "repeated_indicators"}

    Returns
    -------
    Results
        As :func:`csmlib.fit_pls`, for ``spec``; see the module docstring.
    """
    dims = _dims(spec)
    clash = [d for ds in dims.values() for d in ds if d in frame.columns]
    if clash:
        raise SpecError("the data have columns named like dimensions of a higher-order construct",
                        column=clash, hint="rename those columns or the constructs")
    if method == "two_stage":
        return _two_stage(spec, frame, fit, dims)
    return _repeated(spec, frame, fit, dims)


def stage2_spec(spec: ModelSpec) -> ModelSpec:
    """The disjoint two-stage approach's stage-2 model: each higher-order
    construct measured by its dimensions' (stage-1 score) columns, the
    dimensions dropped."""
    dims = [d for ds in _dims(spec).values() for d in ds]
    cons2 = tuple(c for c in spec.constructs if c.name not in dims)
    rels2 = tuple(r for r in spec.relations if not (r.op in ("=~", "<~") and r.lhs in dims))
    return dataclasses.replace(spec, constructs=cons2, relations=rels2)


def _two_stage(spec, frame, fit, dims) -> Results:
    s1 = stage1_spec(spec)
    r1 = fit(s1, frame)
    all_dims = [d for ds in dims.values() for d in ds]
    frame2 = pd.concat([frame, r1.scores[all_dims]], axis=1)
    spec2 = stage2_spec(spec)
    r2 = fit(spec2, frame2)

    e1 = r1.estimates
    dim_rows = e1[e1["op"].isin(["=~", "<~"]) & e1["lhs"].isin(all_dims)]
    est = tidy_estimates(pd.concat([r2.estimates, dim_rows], ignore_index=True))
    scores = pd.concat([r2.scores, r1.scores[all_dims]], axis=1)
    extra = dict(r2.extra)
    rw1 = r1.extra["raw_weights"]
    rw = dict(r2.extra["raw_weights"])
    raw_scores = r2.extra["raw_scores"].copy()
    for d in all_dims:
        rw[d] = rw1[d]
        raw_scores[d] = r1.extra["raw_scores"][d]
    for h in dims:
        rw[h] = _combined_weights(r2.extra["raw_weights"][h], rw1)
        raw_scores[h] = _raw_scores(frame, rw[h])
    extra.update(raw_weights=rw, raw_scores=raw_scores, stage1=r1, hoc_method="two_stage",
                 item_mean=pd.concat([r1.extra["item_mean"], r2.extra["item_mean"]]).groupby(level=0, sort=False).first(),
                 item_sd=pd.concat([r1.extra["item_sd"], r2.extra["item_sd"]]).groupby(level=0, sort=False).first())
    return dataclasses.replace(r2, spec=spec, _estimates=est, _scores=scores, extra=extra,
                               options=dict(r2.options, hoc="two_stage"))


def _copy_name(h: str, item: str) -> str:
    return f"{h}::{item}"


def repeated_spec(spec: ModelSpec) -> tuple[ModelSpec, dict[str, str]]:
    """The repeated-indicators model: each higher-order construct measured by
    copies of its dimensions' items (named ``"HOC::item"``), with the paths
    ``dimension ~ HOC``.

    Returns
    -------
    (ModelSpec, dict)
        The model, and copy name -> item.
    """
    dims = _dims(spec)
    cons = []
    copies: dict[str, str] = {}
    for c in spec.constructs:
        if c.name in dims:
            items = [it for d in dims[c.name] for it in spec.construct(d).indicators]
            names = [_copy_name(c.name, it) for it in items]
            copies.update(zip(names, items))
            cons.append(Construct(c.name, tuple(names), c.mode))
        else:
            cons.append(c)
    rels = [r for r in spec.relations if not (r.op in ("=~", "<~") and r.lhs in dims)]
    rels += [Relation(d, "~", h) for h, ds in dims.items() for d in ds]
    return dataclasses.replace(spec, constructs=tuple(cons), relations=tuple(rels)), copies


def _repeated(spec, frame, fit, dims) -> Results:
    spec_ri, copies = repeated_spec(spec)
    frame_ri = pd.concat([frame, pd.DataFrame({k: frame[v].to_numpy() for k, v in copies.items()},
                                              index=frame.index)], axis=1)
    res = fit(spec_ri, frame_ri)
    est = res.estimates
    est["rhs"] = est["rhs"].map(lambda x: copies.get(x, x))
    extra = dict(res.extra)
    rw = {n: (s.rename(index=lambda x: copies.get(x, x))) for n, s in res.extra["raw_weights"].items()}
    extra.update(raw_weights=rw, hoc_method="repeated_indicators")
    for key in ("item_mean", "item_sd"):
        s = res.extra[key]
        extra[key] = s[[i for i in s.index if i not in copies]]
    return dataclasses.replace(res, spec=spec, _estimates=tidy_estimates(est), _data=frame,
                               extra=extra, options=dict(res.options, hoc="repeated_indicators"))
