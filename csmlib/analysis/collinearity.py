"""Collinearity and effect sizes of a PLS path model: VIF and f².

* :func:`vif` -- variance inflation factors of the indicators of each block
  (``kind="outer"``) and of the antecedents of each endogenous construct
  (``kind="inner"``), as seminr 2.3.1 (``summary()$validity$vif_items``,
  ``summary()$vif_antecedents``) and SmartPLS report them.
* :func:`f_squared` -- Cohen's f² of every structural path, by re-estimating
  the model without the path (seminr's ``summary()$fSquare``) and, for
  comparison, from the full model's scores (SmartPLS 3, Hair et al.'s
  Primer).

Usual thresholds (Hair et al., *A Primer on PLS-SEM*, 3rd ed.): a VIF above 5
signals critical collinearity (ideally below 3); f² of 0.02, 0.15 and 0.35
are small, medium and large effects.  :data:`VIF_THRESHOLDS`,
:data:`F2_THRESHOLDS` and :func:`f2_size` hold them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, SpecError
from ..estimate.pls_core import pls_core

__all__ = ["vif", "vif_assessment", "f_squared", "f2_size", "VIF_THRESHOLDS", "F2_THRESHOLDS"]

#: VIF above ``critical`` is critical collinearity; Hair et al. prefer below ``ideal``.
VIF_THRESHOLDS = {"ideal": 3.0, "critical": 5.0}
#: Cohen's f² cut-offs for small, medium and large effects.
F2_THRESHOLDS = {"small": 0.02, "medium": 0.15, "large": 0.35}


def _check_pls(results: Any, what: str) -> Any:
    if getattr(results, "method", None) != "pls" or "compiled" not in (results.extra or {}):
        raise SpecError(f"{what} needs the results of csm.fit_pls",
                        values=[type(results).__name__], hint="fit the model with csm.fit_pls")
    return results


def _inverse_diag(R: np.ndarray) -> np.ndarray:
    """diag(R^-1) = 1 / (1 - R²_i) of each variable on the others (OLS with intercept)."""
    if R.shape[0] == 1:
        return np.ones(1)
    try:
        return np.diag(np.linalg.inv(R))
    except np.linalg.LinAlgError:
        return np.full(R.shape[0], np.inf)


def vif(results: Any) -> pd.DataFrame:
    """Variance inflation factors of the indicators and of the antecedents.

    ``outer``: each indicator regressed (OLS with intercept) on the other
    indicators of its construct, ``VIF = 1 / (1 - R²)``, computed as the
    diagonal of the inverse of the block's item correlation matrix (the
    data as fitted: after mean replacement, weighted where the fit is).  A
    single item has VIF 1.  ``inner``: each antecedent of an endogenous
    construct regressed on the other antecedents of the same construct,
    from the construct score correlations (PLSc: the corrected ones); an
    outcome with a single antecedent gives VIF 1 (seminr writes NA).

    Parameters
    ----------
    results : Results
        A :func:`csmlib.fit_pls` fit.

    Returns
    -------
    DataFrame
        Columns ``kind`` (``"outer"``, ``"inner"``), ``construct`` (outer:
        the block; inner: the outcome), ``variable`` (the indicator or the
        antecedent), ``vif``.  Infinite for perfectly collinear variables.
    """
    res = _check_pls(results, "vif")
    cs = res.extra["compiled"]
    S = np.asarray(res.extra["S"], dtype=float)
    sd = np.sqrt(np.diag(S))
    R = S / sd[:, None] / sd[None, :]
    rows = []
    for j, b in enumerate(cs.blocks):
        for i, v in zip(b, _inverse_diag(R[np.ix_(b, b)])):
            rows.append(("outer", cs.names[j], cs.items[i], float(v)))
    C = res.extra["construct_corr"].to_numpy(dtype=float)
    for j in cs.endogenous:
        P = cs.predecessors(j)
        for i, v in zip(P, _inverse_diag(C[np.ix_(P, P)])):
            rows.append(("inner", cs.names[j], cs.names[i], float(v)))
    return pd.DataFrame(rows, columns=["kind", "construct", "variable", "vif"])


def vif_assessment(results: Any, kind: str) -> pd.DataFrame:
    """:func:`vif` of one kind with the usual thresholds.

    Parameters
    ----------
    results : Results
        A :func:`csmlib.fit_pls` fit.
    kind : {"outer", "inner"}

    Returns
    -------
    DataFrame
        Columns ``construct, variable, vif``, ``below_critical`` (VIF below
        ``VIF_THRESHOLDS["critical"]`` = 5) and ``below_ideal`` (below 3).
    """
    if kind not in ("outer", "inner"):
        raise SpecError(f"unknown VIF kind {kind!r}", values=[kind], hint='use "outer" or "inner"')
    v = vif(results)
    v = v[v["kind"] == kind].drop(columns="kind").reset_index(drop=True)
    v["below_critical"] = v["vif"] < VIF_THRESHOLDS["critical"]
    v["below_ideal"] = v["vif"] < VIF_THRESHOLDS["ideal"]
    return v


def _r2(C: np.ndarray, j: int, P: np.ndarray) -> float:
    if len(P) == 0:
        return 0.0
    c = C[P, j]
    return float(c @ np.linalg.solve(C[np.ix_(P, P)], c))


def f_squared(results: Any) -> pd.DataFrame:
    """Cohen's f² of every structural path.

    ``f2 = (R²_incl - R²_excl) / (1 - R²_incl)`` for the path ``rhs -> lhs``,
    where ``R²_incl`` is the outcome's R² in the fitted model and
    ``R²_excl`` its R² when the **whole PLS model is re-estimated without
    that path** (outer weights change; seminr 2.3.1 ``summary()$fSquare``;
    an outcome left without antecedents has ``R²_excl = 0``).  The
    re-estimation uses the fit's working covariance matrix and options
    (scheme, tolerance, PLSc).  ``f2_fixed_scores`` takes ``R²_excl`` instead
    from the full model's construct scores with the predictor left out
    (SmartPLS 3 as described in Hair et al.'s Primer); the two usually
    differ in the third decimal.

    Parameters
    ----------
    results : Results
        A :func:`csmlib.fit_pls` fit.

    Returns
    -------
    DataFrame
        Columns ``lhs`` (outcome), ``rhs`` (predictor), ``f2``,
        ``f2_fixed_scores``, ``size`` (``"large"``, ``"medium"``,
        ``"small"`` or ``"negligible"`` by :data:`F2_THRESHOLDS`, from
        ``f2``); one row per path, in the order of ``results.paths``.

    Raises
    ------
    EstimationError
        When a re-estimation without a path fails.
    """
    res = _check_pls(results, "f_squared")
    cs = res.extra["compiled"]
    S = np.asarray(res.extra["S"], dtype=float)
    C = res.extra["construct_corr"].to_numpy(dtype=float)
    opts = res.options or {}
    kw = {k: opts[k] for k in ("max_iter", "tol", "consistent") if k in opts}
    scheme = opts.get("scheme", "path")
    rows = []
    for lhs, rhs in zip(res.paths["lhs"], res.paths["rhs"]):
        j, i = cs.index[lhs], cs.index[rhs]
        P = cs.predecessors(j)
        r2_in = _r2(C, j, P)
        D = cs.D.copy()
        D[j, i] = 0.0
        out = pls_core(S, dataclasses.replace(cs, D=D), scheme, **kw)
        if out.failed[0]:
            raise EstimationError(f"f_squared: the model without the path {rhs} -> {lhs} could not be estimated",
                                  values=[f"{lhs} ~ {rhs}"], hint="check the model for collinear constructs")
        r2_ex = float(out.r2[0, j]) if np.isfinite(out.r2[0, j]) else 0.0
        r2_fixed = _r2(C, j, P[P != i])
        rows.append((lhs, rhs, (r2_in - r2_ex) / (1 - r2_in), (r2_in - r2_fixed) / (1 - r2_in)))
    out_df = pd.DataFrame(rows, columns=["lhs", "rhs", "f2", "f2_fixed_scores"])
    out_df["size"] = [f2_size(v) for v in out_df["f2"]]
    return out_df


def f2_size(f2: float) -> str:
    """``"large"`` (>= 0.35), ``"medium"`` (>= 0.15), ``"small"`` (>= 0.02)
    or ``"negligible"`` (Cohen 1988)."""
    for name in ("large", "medium", "small"):
        if f2 >= F2_THRESHOLDS[name]:
            return name
    return "negligible"
