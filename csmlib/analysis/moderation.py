"""Simple slopes of a moderated PLS model (``y ~ x + m + x:m``).

With unit-variance construct scores, a model ``y = b_x x + b_m m + b_xm
(x m) + e`` (``b_xm``: the ``est`` of the interaction path, per unit of the
product term in seminr's scaling, see :mod:`csmlib.estimate.pls_interaction`)
has the *simple slope* of ``x`` at the moderator level ``m``::

    slope(m) = b_x + b_xm * m

(Aiken & West 1991; seminr's ``slope_analysis``).  Levels are in standard
deviations of the moderator (``at=(-1, 0, 1)``: one SD below the mean, the
mean, one SD above).  Given the bootstrap of the fit, each slope gets the
bootstrap SE and percentile interval of ``b_x + b_xm m`` over the same draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SpecError
from ..estimate.bootstrapping import BootstrapResults, percentile_interval

__all__ = ["simple_slopes"]


def _term(spec: Any, x: str, moderator: str) -> str:
    for term in spec.interactions:
        if sorted(term.split(":")) == sorted([x, moderator]):
            return term
    raise SpecError(f"the model has no interaction term of {x!r} and {moderator!r}",
                    values=[f"{x}:{moderator}"],
                    hint=f"interaction terms of the model: {', '.join(spec.interactions) or 'none'}")


def simple_slopes(results: Any, x: str, moderator: str, at: Sequence[float] = (-1.0, 0.0, 1.0),
                  *, level: float = 0.95) -> pd.DataFrame:
    """The simple slopes of ``x`` at levels of ``moderator``.

    Parameters
    ----------
    results : Results or BootstrapResults
        A PLS fit with the interaction term ``x:moderator``, or its bootstrap
        (:func:`csmlib.bootstrap`), which adds intervals.
    x, moderator : str
        The constructs of the interaction term (in either order).
    at : sequence of float
        Moderator levels in standard deviations from its mean.
    level : float
        Interval level (bootstrap only).

    Returns
    -------
    DataFrame
        One row per outcome of the interaction and level: ``lhs`` (outcome),
        ``x``, ``moderator``, ``at``, ``slope`` (effect of one SD of ``x``,
        in SDs of the outcome), ``intercept`` (``b_m * at``: the outcome's
        predicted level at ``x = 0``), and with a bootstrap ``se``,
        ``ci_lower``, ``ci_upper`` of the slope.
    """
    boot = results if isinstance(results, BootstrapResults) else None
    res = boot.results if boot is not None else results
    spec = res.spec
    term = _term(spec, x, moderator)
    paths = res.paths.set_index(["lhs", "rhs"])["est"]
    outcomes = [lhs for lhs, rhs in paths.index if rhs == term]
    at_arr = np.asarray(at, dtype=float)
    rows = []
    for y in outcomes:
        bx = float(paths.get((y, x), 0.0))
        bm = float(paths.get((y, moderator), 0.0))
        bxm = float(paths[(y, term)])
        for a in at_arr:
            rows.append({"lhs": y, "x": x, "moderator": moderator, "at": float(a),
                         "slope": bx + bxm * a, "intercept": bm * a})
    out = pd.DataFrame(rows, columns=["lhs", "x", "moderator", "at", "slope", "intercept"])
    if boot is None:
        return out
    keys = boot.keys.reset_index(drop=True)
    pos = {(r.lhs, r.op, r.rhs): i for i, r in enumerate(keys.itertuples()) if r.group == "estimates"}
    ok = ~boot.failed
    se, lo, hi = [], [], []
    for y in outcomes:
        dx = boot.draws[ok, pos[(y, "~", x)]] if (y, "~", x) in pos else np.zeros(ok.sum())
        dxm = boot.draws[ok, pos[(y, "~", term)]]
        d = dx[:, None] + dxm[:, None] * at_arr[None, :]
        l_, h_ = percentile_interval(d, level)
        se += list(d.std(axis=0, ddof=1))
        lo += list(l_)
        hi += list(h_)
    return out.assign(se=se, ci_lower=lo, ci_upper=hi)
