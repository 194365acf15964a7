"""Batched PLS path modelling on covariance matrices (the numerical core).

PLS path modelling (Wold 1982; Lohmöller 1989) depends on the data only
through the covariance (or correlation) matrix of the indicators.  This
module therefore works on a *stack* of matrices ``S`` of shape ``(B, p, p)``
and iterates all ``B`` problems in lockstep with batched numpy.  ``B = 1`` for
an ordinary fit (:func:`csmlib.estimate.pls.fit_pls`); the bootstrap passes one matrix
per resample.

Usage for the bootstrap
-----------------------
>>> cs = compile_spec(spec, columns)            # once             # doctest: +SKIP
>>> S = resample_covariances(...)               # (B, p, p), items in cs.items order
>>> out = pls_core(S, cs, scheme="path")         # doctest: +SKIP
>>> out.paths[:, cs.index["Satisfaction"], cs.index["Value"]]  # (B,)  # doctest: +SKIP

* ``S`` may be covariances (raw metric, as R plspm ``scaled = FALSE``) or
  correlations (standardized indicators, as SmartPLS).  The weights come back
  in the metric of ``S``; any positive scaling of a whole matrix (``n`` vs
  ``n - 1`` divisor) leaves the results unchanged.
* Weight signs are fixed per resample inside the core (see
  :func:`pls_core`), so resamples need no further sign handling.
* Resamples that cannot be estimated (a zero-variance item, a collinear mode B
  block, collinear predictor scores) are flagged in ``failed`` and their
  results are NaN; they are never dropped.

Algorithm
---------
Initial outer weights are 1 for every item (SmartPLS, plspm), scaled so that
each construct score has unit variance.  Each iteration computes the construct
correlations ``C = W' S W``, the inner weights ``E`` of the scheme
(``centroid``: sign of the correlation of adjacent constructs; ``factorial``:
their correlation; ``path``: regression weights of a construct on its
predecessors and correlations with its successors), the covariance of every
item with its construct's inner proxy ``S W E``, and the new outer weights:
mode A (``reflective`` and ``"A"``) takes that covariance, mode B regresses the
inner proxy on the block (``S_jj^-1`` times it).  Single-item constructs keep
weight 1.  Weights are rescaled to unit score variance and the iteration stops
when the largest absolute change of an outer weight is below ``tol``
(SmartPLS' stop criterion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np

from ..errors import SpecError
from ..spec.modelspec import ModelSpec

__all__ = ["CompiledSpec", "PlsCoreResult", "compile_spec", "pls_core", "SCHEMES"]

SCHEMES = ("path", "centroid", "factorial")


@dataclass(frozen=True, eq=False)
class CompiledSpec:
    """Index arrays that describe a PLS model to the batched core.

    Attributes
    ----------
    names : tuple of str
        Construct names, in spec order (``k`` of them).
    items : tuple of str
        Indicator names in the order of the rows/columns of ``S`` (``p``).
    block : ndarray of int, shape (p,)
        Construct index of each item.
    blocks : tuple of ndarray of int
        For each construct, the item positions of its block.
    modes : tuple of str
        Mode of each construct: ``"A"`` (reflective or mode A composite),
        ``"B"`` (regression weights) or ``"single"`` (one item, weight 1).
    reflective : ndarray of bool, shape (k,)
        Constructs declared ``reflective`` (PLSc corrects these).
    D : ndarray of float, shape (k, k)
        Path adjacency, ``D[i, j] = 1`` when construct ``j`` predicts ``i``.
    M : ndarray of float, shape (p, k)
        One-hot block membership.
    index : dict
        Construct name -> position.
    """

    names: tuple[str, ...]
    items: tuple[str, ...]
    block: np.ndarray
    blocks: tuple[np.ndarray, ...]
    modes: tuple[str, ...]
    reflective: np.ndarray
    D: np.ndarray
    M: np.ndarray
    index: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def p(self) -> int:
        return len(self.items)

    def predecessors(self, j: int) -> np.ndarray:
        """Positions of the constructs with a path into construct ``j``."""
        return np.flatnonzero(self.D[j])

    @property
    def endogenous(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.k) if self.D[j].any())


def compile_spec(spec: ModelSpec, columns: Sequence[str] | None = None) -> CompiledSpec:
    """Compile a :class:`~csmlib.spec.ModelSpec` for :func:`pls_core`.

    Parameters
    ----------
    spec : ModelSpec
        The model.  Blocks must be disjoint; structural paths only between
        constructs.
    columns : sequence of str, optional
        Order of the items in the covariance matrices to be passed to the
        core; default ``spec.indicators``.  Must contain exactly the model's
        indicators.

    Returns
    -------
    CompiledSpec
    """
    if not spec.constructs:
        raise SpecError("the model has no constructs", hint="declare at least one construct with its items")
    names = spec.construct_names
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SpecError("construct names are repeated", values=dup, hint="give every construct a unique name")
    owner: dict[str, str] = {}
    for c in spec.constructs:
        if len(c.indicators) == 0:
            raise SpecError(f"construct {c.name!r} has no indicators", values=[c.name],
                            hint="give every construct at least one item")
        for item in c.indicators:
            if item in owner:
                raise SpecError(
                    f"item {item!r} belongs to both {owner[item]!r} and {c.name!r}; "
                    "PLS path modelling needs disjoint blocks",
                    column=item, hint="use each item in one block only (duplicate the column if you must)")
            owner[item] = c.name
    items = tuple(spec.indicators) if columns is None else tuple(map(str, columns))
    if sorted(items) != sorted(owner) or len(set(items)) != len(items):
        extra = [c for c in items if c not in owner]
        missing = [c for c in owner if c not in items]
        raise SpecError("the columns given do not match the model's indicators",
                        column=extra + missing,
                        hint="pass exactly the model's indicators (spec.indicators), each once")
    pos = {n: i for i, n in enumerate(names)}
    for r in spec.relations:
        if r.op == "~" and (r.lhs not in pos or r.rhs not in pos):
            raise SpecError(
                f"PLS path modelling estimates paths between constructs only, not {r.lhs} ~ {r.rhs}"
                + (f" (line {r.line})" if r.line else ""),
                values=[f"{r.lhs} ~ {r.rhs}"],
                hint="regress constructs on constructs; wrap an observed variable in a single-item construct")
    block = np.array([pos[owner[i]] for i in items], dtype=int)
    k, p = len(names), len(items)
    M = np.zeros((p, k))
    M[np.arange(p), block] = 1.0
    D = np.zeros((k, k))
    for frm, to in spec.paths:
        if frm == to:
            raise SpecError(f"construct {frm!r} predicts itself", values=[f"{to} ~ {frm}"],
                            hint="remove the self-loop")
        D[pos[to], pos[frm]] = 1.0
    modes = []
    for c in spec.constructs:
        if c.single_item:
            modes.append("single")
        elif c.mode == "B":
            modes.append("B")
        else:
            modes.append("A")
    return CompiledSpec(
        names=tuple(names), items=items, block=block,
        blocks=tuple(np.flatnonzero(block == j) for j in range(k)),
        modes=tuple(modes),
        reflective=np.array([c.mode == "reflective" and not c.single_item for c in spec.constructs]),
        D=D, M=M, index=pos,
    )


@dataclass(frozen=True, eq=False)
class PlsCoreResult:
    """Arrays returned by :func:`pls_core` (``B`` problems, ``p`` items,
    ``k`` constructs; item order ``compiled.items``, construct order
    ``compiled.names``).

    Attributes
    ----------
    weights : (B, p)
        Outer weights in the metric of ``S``; each construct score has unit
        variance (``w_j' S_jj w_j = 1``).
    loadings : (B, p)
        Covariance of each item with its (unit-variance) construct score;
        equals the loading when ``S`` is a correlation matrix.
    std_loadings : (B, p)
        Correlation of each item with its construct score.
    construct_corr : (B, k, k)
        Correlations of the construct scores (PLSc: disattenuated).
    paths : (B, k, k)
        ``paths[b, i, j]`` = standardized path coefficient of construct ``j``
        on ``i`` (OLS on the construct scores); 0 where there is no path.
    r2 : (B, k)
        R-squared of each construct (NaN for exogenous constructs).
    rho_a : (B, k)
        Dijkstra-Henseler rho_A of each block (1 for single items; NaN for
        mode B) -- filled in every fit, used by PLSc.
    converged : (B,) bool
    n_iter : (B,) int
        Iterations used.
    failed : (B,) bool
        True where the problem could not be estimated (results NaN).
    """

    weights: np.ndarray
    loadings: np.ndarray
    std_loadings: np.ndarray
    construct_corr: np.ndarray
    paths: np.ndarray
    r2: np.ndarray
    rho_a: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    failed: np.ndarray
    consistent_loadings: np.ndarray | None = None


def _block_diag_values(SW: np.ndarray, block: np.ndarray) -> np.ndarray:
    """(B, p, k) -> (B, p): for each item the entry of its own construct."""
    return SW[:, np.arange(SW.shape[1]), block]


def _sw(S: np.ndarray, w: np.ndarray, cs: CompiledSpec) -> np.ndarray:
    """``S @ W`` (B, p, k) for the block-diagonal weight matrix W built from w (B, p)."""
    return S @ (w[:, :, None] * cs.M[None])


def _scale(w: np.ndarray, SW: np.ndarray, cs: CompiledSpec) -> tuple[np.ndarray, np.ndarray]:
    """Rescale weights w and SW = S @ W so every score has unit variance."""
    var = (w * _block_diag_values(SW, cs.block)) @ cs.M       # (B, k): w_j' S_jj w_j
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        f = 1.0 / np.sqrt(var)
        return w * f[:, cs.block], SW * f[:, None, :]


def _construct_corr(w: np.ndarray, SW: np.ndarray, cs: CompiledSpec) -> np.ndarray:
    """C = W' S W (B, k, k)."""
    return cs.M.T[None] @ (w[:, :, None] * SW)


def _solve(A: np.ndarray, b: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Fast batched solve (LAPACK); falls back to :func:`_safe_solve`, which
    checks the conditioning of every problem, when a problem fails."""
    try:
        with np.errstate(all="ignore"):
            x = np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return _safe_solve(A, b, bad)
    if not np.isfinite(x).all():
        return _safe_solve(A, b, bad)
    return x


def _inner_weights(C: np.ndarray, cs: CompiledSpec, scheme: str, bad: np.ndarray) -> np.ndarray:
    """Inner weight matrices E (B, k, k): Z_k = sum_j Y_j E[j, k]."""
    A = ((cs.D + cs.D.T) > 0).astype(float)
    if scheme == "centroid":
        E = np.sign(C) * A
    elif scheme == "factorial":
        E = C * A
    else:  # path weighting
        E = C * cs.D  # successors of k: E[j, k] = C[j, k] where k -> j (D[j, k] = 1)
        for k in range(cs.k):
            P = cs.predecessors(k)
            if len(P) == 0:
                continue
            if len(P) == 1:   # regression on one unit-variance score: its correlation
                E[:, P[0], k] = C[:, P[0], k] / C[:, P[0], P[0]]
                continue
            E[:, P, k] = _solve(C[:, P[:, None], P[None, :]], C[:, P, k], bad)
    # an isolated construct keeps its own score as inner proxy
    iso = A.sum(axis=0) == 0
    if iso.any():
        idx = np.flatnonzero(iso)
        E[:, idx, idx] = 1.0
    return E


def _safe_solve(A: np.ndarray, b: np.ndarray, bad: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """Batched ``solve(A, b)`` for symmetric positive semi-definite ``A``;
    marks in ``bad`` (in place) the problems whose ``A`` is (nearly) singular
    (smallest eigenvalue of its correlation form below ``rcond`` times the
    largest) and returns NaN for them."""
    m = A.shape[-1]
    if m == 1:
        d = A[:, 0, 0]
        sing = ~(np.abs(d) > 0) | ~np.isfinite(d)
        bad |= sing
        with np.errstate(invalid="ignore", divide="ignore"):
            x = b / d[:, None]
        x[sing] = np.nan
        return x
    finite = np.isfinite(A).all(axis=(1, 2)) & np.isfinite(b).all(axis=1)
    Af = np.where(finite[:, None, None], A, np.eye(m))
    dg = np.sqrt(np.abs(np.diagonal(Af, axis1=1, axis2=2)))
    dg = np.where(dg > 0, dg, 1.0)
    R = Af / dg[:, :, None] / dg[:, None, :]
    ev = np.linalg.eigvalsh(R)
    sing = ~finite | (ev[:, 0] < rcond * np.maximum(ev[:, -1], 1e-300))
    bad |= sing
    Af = np.where(sing[:, None, None], np.eye(m), Af)
    bf = np.where(sing[:, None], 0.0, np.nan_to_num(b))
    x = np.linalg.solve(Af, bf[..., None])[..., 0]
    x[sing] = np.nan
    return x


def _mode_b_inverses(S: np.ndarray, cs: CompiledSpec, bad: np.ndarray) -> dict[int, np.ndarray]:
    """S_jj^-1 (B, m, m) of every mode B block, checked once for collinearity."""
    out = {}
    for j, mode in enumerate(cs.modes):
        if mode != "B":
            continue
        b = cs.blocks[j]
        Sjj = S[:, b[:, None], b[None, :]]
        m = len(b)
        eye = np.broadcast_to(np.eye(m), Sjj.shape)
        out[j] = _safe_solve_matrix(Sjj, eye, bad)
    return out


def _safe_solve_matrix(A: np.ndarray, Bm: np.ndarray, bad: np.ndarray) -> np.ndarray:
    cols = [_safe_solve(A, Bm[:, :, c], bad) for c in range(Bm.shape[-1])]
    return np.stack(cols, axis=-1)


#: Problems iterated together: a chunk's matrices stay in the CPU cache.
CHUNK = 256


def _iterate(S: np.ndarray, w: np.ndarray, cs: CompiledSpec, scheme: str, bad: np.ndarray,
             binv: dict[int, np.ndarray], single: np.ndarray, max_iter: int, tol: float,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The PLS iteration for problems not yet ``bad``; updates ``bad`` in place.

    Only the active problems are computed: once a problem converges (or
    fails) it leaves the working set, so its result is the one of the
    iteration where it converged, independent of the rest of the batch.

    Returns
    -------
    w, SW, converged, n_iter
    """
    B, p = w.shape
    w, SW = _scale(w, _sw(S, w, cs), cs)
    converged = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=int)
    idx = np.flatnonzero(~bad)
    if len(idx) == B:
        Sa, wa, SWa, binv_a = S, w, SW, binv
    else:
        Sa, wa, SWa = S[idx], w[idx], SW[idx]
        binv_a = {j: v[idx] for j, v in binv.items()}
    for it in range(1, max_iter + 1):
        if len(idx) == 0:
            break
        bad_a = np.zeros(len(idx), dtype=bool)
        C = _construct_corr(wa, SWa, cs)                     # (b, k, k)
        E = _inner_weights(C, cs, scheme, bad_a)
        # covariance of every item with its construct's inner proxy: (S W E)[i, block(i)]
        g = np.einsum("bik,bki->bi", SWa, E[:, :, cs.block])
        for j, inv in binv_a.items():
            blk = cs.blocks[j]
            g[:, blk] = np.einsum("bij,bj->bi", inv, g[:, blk])
        g[:, single] = 1.0
        w_new, SW_new = _scale(g, _sw(Sa, g, cs), cs)
        bad_a |= ~np.isfinite(w_new).all(axis=1)
        delta = np.abs(w_new - wa).max(axis=1)
        ok = ~bad_a
        done = ok & (delta < tol)
        keep = ok & ~done
        if ok.all():
            w[idx] = w_new
            SW[idx] = SW_new
            n_iter[idx] = it
        else:
            w[idx[ok]] = w_new[ok]
            SW[idx[ok]] = SW_new[ok]
            n_iter[idx[ok]] = it
            bad[idx[bad_a]] = True
        converged[idx[done]] = True
        if keep.all():
            wa, SWa = w_new, SW_new
        else:
            idx = idx[keep]
            Sa, wa, SWa = Sa[keep], w_new[keep], SW_new[keep]
            binv_a = {j: v[keep] for j, v in binv_a.items()}
    return w, SW, converged, n_iter


def pls_core(
    S: np.ndarray,
    compiled: CompiledSpec,
    scheme: str = "path",
    *,
    max_iter: int = 300,
    tol: float = 1e-7,
    consistent: bool = False,
    w0: np.ndarray | None = None,
) -> PlsCoreResult:
    """Estimate a PLS path model on a stack of covariance matrices.

    Parameters
    ----------
    S : ndarray, shape (B, p, p) or (p, p)
        Covariance or correlation matrices of the items, rows and columns
        in ``compiled.items`` order.
    compiled : CompiledSpec
        From :func:`compile_spec`.
    scheme : {"path", "centroid", "factorial"}
        Inner weighting scheme.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Stop when the largest absolute change of an outer weight (in the
        metric of ``S``, scores at unit variance) is below ``tol``.
    consistent : bool
        Consistent PLS (Dijkstra & Henseler 2015): correlations between
        ``reflective`` constructs are divided by ``sqrt(rho_A)`` of each and
        the paths and R-squared re-estimated from them; ``consistent_loadings``
        holds the corrected standardized loadings.
    w0 : ndarray (p,) or (B, p), optional
        Initial outer weights (default all ones).

    Returns
    -------
    PlsCoreResult
        Arrays with leading dimension ``B``; see its attributes.

    Notes
    -----
    Sign fixing (per problem, after convergence): a construct whose score
    has a negative sum of correlations with its own items has all its weights
    (and hence score, loadings and paths) reversed, so every construct
    correlates positively with its block on the whole.  With all-ones
    starting weights and positively correlated items this never triggers;
    it resolves the sign indeterminacy of mode B blocks and of bootstrap
    resamples.

    Problems are iterated in chunks of :data:`CHUNK` (so that a chunk's
    matrices stay in the CPU cache); within a chunk a converged problem
    leaves the working set while the others continue, so each problem's
    result does not depend on the rest of the batch (up to floating-point
    rounding of batched BLAS).
    """
    if scheme not in SCHEMES:
        raise SpecError(f"unknown inner weighting scheme {scheme!r}", values=[scheme],
                        hint=f"use one of: {', '.join(SCHEMES)}")
    S = np.asarray(S, dtype=float)
    if S.ndim == 2:
        S = S[None]
    cs = compiled
    B, p = S.shape[0], S.shape[1]
    if S.shape != (B, cs.p, cs.p):
        raise SpecError(f"S has shape {S.shape}, expected (B, {cs.p}, {cs.p}) for the compiled model",
                        hint="build S over exactly compiled.items, in that order")
    if B > CHUNK:
        w0b = None if w0 is None else np.broadcast_to(np.asarray(w0, float), (B, p))
        parts = [pls_core(S[a:a + CHUNK], cs, scheme, max_iter=max_iter, tol=tol, consistent=consistent,
                          w0=None if w0b is None else w0b[a:a + CHUNK])
                 for a in range(0, B, CHUNK)]
        return _concat_results(parts)
    var_items = np.diagonal(S, axis1=1, axis2=2)
    bad = ~np.isfinite(var_items).all(axis=1) | ~(var_items > 0).all(axis=1)
    bad |= ~np.isfinite(S.reshape(B, -1)).all(axis=1)
    if bad.any():
        S = np.where(bad[:, None, None], np.eye(p), S)
    single = np.array([cs.modes[j] == "single" for j in cs.block])
    binv = _mode_b_inverses(S, cs, bad)

    w = np.ones((B, p)) if w0 is None else np.broadcast_to(np.asarray(w0, float), (B, p)).copy()
    w, SW, converged, n_iter = _iterate(S, w, cs, scheme, bad, binv, single, max_iter, tol)

    # sign fixing: sum of correlations of each score with its own items
    sd = np.sqrt(np.diagonal(S, axis1=1, axis2=2))
    own = _block_diag_values(SW, cs.block)
    corr_sum = (own / sd) @ cs.M                                   # (B, k)
    flip = np.where(corr_sum < 0, -1.0, 1.0)
    if (flip < 0).any():
        w = w * flip[:, cs.block]
        SW = SW * flip[:, None, :]

    C = np.ascontiguousarray(_construct_corr(w, SW, cs))
    loadings = _block_diag_values(SW, cs.block)
    std_loadings = loadings / sd
    rho_a = _rho_a(S, sd, w, cs)
    consistent_loadings = None
    if consistent:
        rel = np.where(cs.reflective[None, :], rho_a, 1.0)
        bad |= ~(rel > 0).all(axis=1) | ~np.isfinite(rel).all(axis=1)
        with np.errstate(invalid="ignore"):
            q = np.sqrt(rel)
            C = C / q[:, :, None] / q[:, None, :]
        k_idx = np.arange(cs.k)
        C[:, k_idx, k_idx] = 1.0
        # corrected (standardized) loadings: c * w_std (Dijkstra & Henseler 2015, eq. 10)
        c = _rho_c_factor(S, sd, w, cs)
        consistent_loadings = np.where(cs.reflective[cs.block][None, :], w * sd * c[:, cs.block],
                                       std_loadings)

    paths = np.zeros((B, cs.k, cs.k))
    r2 = np.full((B, cs.k), np.nan)
    for j in cs.endogenous:
        P = cs.predecessors(j)
        beta = _safe_solve(C[:, P[:, None], P[None, :]], C[:, P, j], bad)
        paths[:, j, P] = beta
        r2[:, j] = np.einsum("bi,bi->b", C[:, j, P], beta)

    if bad.any():
        for arr in (w, loadings, std_loadings, paths, r2, rho_a):
            arr[bad] = np.nan
        C[bad] = np.nan
        if consistent_loadings is not None:
            consistent_loadings[bad] = np.nan
    return PlsCoreResult(
        weights=w, loadings=loadings, std_loadings=std_loadings, construct_corr=C,
        paths=paths, r2=r2, rho_a=rho_a, converged=converged & ~bad, n_iter=n_iter,
        failed=bad.copy(), consistent_loadings=consistent_loadings,
    )


def _concat_results(parts: list[PlsCoreResult]) -> PlsCoreResult:
    """Stack the results of consecutive chunks."""
    def cat(name: str):
        vals = [getattr(r, name) for r in parts]
        return None if vals[0] is None else np.concatenate(vals)
    return PlsCoreResult(**{f: cat(f) for f in PlsCoreResult.__dataclass_fields__})


def _rho_c_factor(S: np.ndarray, sd: np.ndarray, w: np.ndarray, cs: CompiledSpec) -> np.ndarray:
    """Dijkstra-Henseler ``c_j`` with ``c_j^2 = w'(R - diag R)w / w'(ww' - diag ww')w``
    on standardized items and weights (B, k); NaN for mode B / single items."""
    B = S.shape[0]
    out = np.full((B, cs.k), np.nan)
    for j, b in enumerate(cs.blocks):
        if cs.modes[j] != "A":
            continue
        sdb = sd[:, b]
        Rj = S[:, b[:, None], b[None, :]] / sdb[:, :, None] / sdb[:, None, :]
        wj = w[:, b] * sdb
        sw2 = (wj * wj).sum(axis=1)
        num = np.einsum("bi,bij,bj->b", wj, Rj, wj) - sw2            # w'(R - diag R)w, R_ii = 1
        den = sw2 ** 2 - (wj ** 4).sum(axis=1)                      # w'(ww' - diag ww')w
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.sqrt(num / den)
    return out


def _rho_a(S: np.ndarray, sd: np.ndarray, w: np.ndarray, cs: CompiledSpec) -> np.ndarray:
    """rho_A = (w'w)^2 c^2 (Dijkstra & Henseler 2015) per block (B, k), with
    standardized weights; 1 for single items, NaN for mode B blocks."""
    c = _rho_c_factor(S, sd, w, cs)
    out = np.full(c.shape, np.nan)
    for j, b in enumerate(cs.blocks):
        if cs.modes[j] == "single":
            out[:, j] = 1.0
        elif cs.modes[j] == "A":
            sw2 = ((w[:, b] * sd[:, b]) ** 2).sum(axis=1)
            out[:, j] = sw2 ** 2 * c[:, j] ** 2
    return out
