"""Direct, indirect and total effects of a recursive or non-recursive path model.

With ``B`` the matrix of path coefficients (``B[i, j]`` = effect of construct
``j`` on construct ``i``), the total effects are ``(I - B)^-1 - I`` and the
indirect effects are total minus direct (Bollen 1987).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError

__all__ = ["path_matrix", "total_effects_matrix", "effects_table"]


def path_matrix(paths: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Square matrix ``B`` (outcome x predictor) from a paths frame with
    columns ``lhs`` (outcome), ``rhs`` (predictor) and ``est``."""
    pos = {n: i for i, n in enumerate(names)}
    B = np.zeros((len(names), len(names)))
    for lhs, rhs, est in zip(paths["lhs"], paths["rhs"], paths["est"]):
        B[pos[lhs], pos[rhs]] = est
    return B


def total_effects_matrix(B: np.ndarray) -> np.ndarray:
    """Total effects ``(I - B)^-1 - I``; works on a stack ``(..., k, k)``."""
    k = B.shape[-1]
    eye = np.eye(k)
    try:
        return np.linalg.inv(eye - B) - eye
    except np.linalg.LinAlgError as exc:  # pragma: no cover - needs a degenerate feedback loop
        raise EstimationError(
            "total effects are undefined: I - B is singular (a feedback loop with unit gain)",
            hint="check the structural model for loops",
        ) from exc


def effects_table(B: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Tidy effects of every construct on every other that it reaches.

    Parameters
    ----------
    B : ndarray (k, k)
        Path coefficients, ``B[i, j]`` = direct effect of ``names[j]`` on
        ``names[i]``.
    names : sequence of str
        Construct names in the order of ``B``.

    Returns
    -------
    DataFrame
        Columns ``lhs`` (outcome), ``rhs`` (predictor), ``direct``,
        ``indirect``, ``total``; one row per ordered pair with a non-zero
        total or direct effect, predictors in construct order.
    """
    T = total_effects_matrix(B)
    rows = []
    for j, rhs in enumerate(names):
        for i, lhs in enumerate(names):
            if i == j:
                continue
            direct, total = B[i, j], T[i, j]
            if direct == 0 and abs(total) < 1e-15:
                continue
            rows.append((lhs, rhs, direct, total - direct, total))
    return pd.DataFrame(rows, columns=["lhs", "rhs", "direct", "indirect", "total"]).astype(
        {"direct": float, "indirect": float, "total": float}
    )
