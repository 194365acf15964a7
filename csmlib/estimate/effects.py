"""Direct, indirect and total effects of a recursive or non-recursive path model.

With ``B`` the matrix of path coefficients (``B[i, j]`` = effect of construct
``j`` on construct ``i``), the total effects are ``(I - B)^-1 - I`` and the
indirect effects are total minus direct (Bollen 1987).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError, SpecError

__all__ = ["path_matrix", "total_effects_matrix", "effects_table", "indirect_chains", "chain_effects",
           "specific_effects_table", "chain_label", "SPECIFIC_COLUMNS"]

#: Columns of :func:`specific_effects_table`.
SPECIFIC_COLUMNS = ("path", "from", "to", "n_mediators", "est")


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


def indirect_chains(B: np.ndarray, names: Sequence[str]) -> list[tuple[int, ...]]:
    """Every chain of paths with at least one mediator, ``x -> m1 -> ... -> y``.

    Parameters
    ----------
    B : ndarray (k, k)
        Path matrix or adjacency, ``B[i, j] != 0`` when ``names[j]`` predicts
        ``names[i]``.
    names : sequence of str
        Construct names (used in the error for a loop).

    Returns
    -------
    list of tuple of int
        Construct positions along each chain, depth first from each
        construct in order (successors in construct order), as seminr lists
        specific effects.

    Raises
    ------
    SpecError
        When the structural model has a loop (a specific effect of a
        non-recursive model is an infinite series, not a product).
    """
    k = B.shape[0]
    succ = [np.flatnonzero(B[:, j] != 0) for j in range(k)]
    out: list[tuple[int, ...]] = []

    def walk(chain: tuple[int, ...]) -> None:
        for s in succ[chain[-1]]:
            if s in chain:
                loop = " -> ".join(names[c] for c in chain[chain.index(s):] + (s,))
                raise SpecError(f"specific indirect effects need a recursive model; the paths {loop} form a loop",
                                values=[loop], hint="remove one path of the loop")
            nxt = chain + (int(s),)
            if len(nxt) >= 3:
                out.append(nxt)
            walk(nxt)

    for j in range(k):
        walk((j,))
    return out


def chain_effects(B: np.ndarray, chains: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Products of the path coefficients along each chain.

    Parameters
    ----------
    B : ndarray (..., k, k)
        One path matrix or a stack of them (bootstrap draws).
    chains : sequence of tuple of int
        From :func:`indirect_chains`.

    Returns
    -------
    ndarray (..., len(chains))
    """
    cols = []
    for c in chains:
        v = B[..., c[1], c[0]]
        for a, b in zip(c[1:-1], c[2:]):
            v = v * B[..., b, a]
        cols.append(v)
    if not cols:
        return np.zeros(B.shape[:-2] + (0,))
    return np.stack(cols, axis=-1)


def chain_label(chain: Sequence[int], names: Sequence[str]) -> str:
    """``"COMP -> CUSA -> CUSL"`` for a chain of construct positions."""
    return " -> ".join(names[c] for c in chain)


def specific_effects_table(B: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Every specific indirect effect of a recursive path model.

    A specific indirect effect of ``x`` on ``y`` through the mediators
    ``m1, ..., mk`` is the product of the path coefficients along the chain
    ``x -> m1 -> ... -> mk -> y``; the specific effects of ``x`` on ``y``
    sum to its indirect effect (Bollen 1987; seminr's
    ``specific_effect_significance``).

    Parameters
    ----------
    B : ndarray (k, k)
        Path coefficients, ``B[i, j]`` = direct effect of ``names[j]`` on
        ``names[i]``.
    names : sequence of str

    Returns
    -------
    DataFrame
        Columns ``path`` (``"COMP -> CUSA -> CUSL"``), ``from``, ``to``,
        ``n_mediators`` (int), ``est``; one row per chain with at least one
        mediator, in the order of :func:`indirect_chains`.
    """
    chains = indirect_chains(B, names)
    est = chain_effects(B, chains)
    return pd.DataFrame({
        "path": [chain_label(c, names) for c in chains],
        "from": [names[c[0]] for c in chains],
        "to": [names[c[-1]] for c in chains],
        "n_mediators": np.array([len(c) - 2 for c in chains], dtype=int),
        "est": np.asarray(est, dtype=float),
    }, columns=list(SPECIFIC_COLUMNS))
