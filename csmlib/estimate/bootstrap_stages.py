"""Batched bootstrap of PLS models with interaction terms or higher-order
constructs (every method of :mod:`csmlib.estimate.pls_interaction` and
:mod:`csmlib.estimate.pls_hoc`).

Every resample redoes every stage, in lockstep for a chunk of resamples, as
:func:`csmlib.fit_pls` does them on the resampled data:

1. Stage 1 (two-stage methods): the resample's item moments (counts times
   case weights, see :mod:`csmlib.estimate.bootstrapping`) and the batched
   core give the stage-1 outer weights of every resample.
2. The added indicators of each resample.  Linear ones -- a higher-order
   construct's dimension scores (two_stage), copies of items (repeated
   indicators) -- have covariances with the items and with each other that
   follow from the item covariance matrix (``S V`` and ``V' S V``).
   Products -- of the unit-variance stage-1 scores (two_stage) or of the
   resample-standardized items (product_indicator), the latter
   residualized on the constructs' items by the resample's weighted OLS
   (orthogonal) -- are formed row by row (``(B, n)`` arrays) and their
   moments are count-weighted sums.
3. The final model: the batched core on the augmented correlation matrices.

The statistics are those of the loop engine (one :func:`csmlib.fit_pls` per
resample) to rounding: paths (interaction paths in seminr's scaling, per
unit of the product term), loadings and weights of both levels, R-squared,
indirect and total effects, the 0-100 index (a higher-order construct's
through its combined item weights) and HTMT of the first-order constructs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .pls_core import compile_spec, pls_core
from .statistics import htmt_from_corr, index_from_moments

__all__ = ["StagedPlsEngine", "supports"]


def supports(results: Any) -> bool:
    """True when :class:`StagedPlsEngine` can bootstrap ``results``: a
    standardized PLS fit (not PLSc) with interaction terms or higher-order
    constructs (not both)."""
    spec, opts = results.spec, results.options or {}
    if not opts.get("standardize", True) or opts.get("consistent", False) or results.data is None:
        return False
    return bool(spec.interactions) != bool(spec.higher_order)


class StagedPlsEngine:
    """Every stage of an interaction or higher-order PLS fit, batched over
    resamples (see the module docstring).  Interface of the bootstrap
    engines: ``keys``, ``n``, ``X``, ``stats(C)``."""

    name = "pls-staged-batched"

    def __init__(self, results: Any, groups: Sequence[str], scale_limits: Any) -> None:
        from . import pls_hoc, pls_interaction
        from .bootstrapping import (keys_frame, Moments, specific_keys, effect_and_r2_getters, htmt_getters,
                                    index_getters)

        spec = results.spec
        opts = results.options or {}
        self.spec = spec
        self.hoc = bool(spec.higher_order)
        self.method = opts.get("hoc" if self.hoc else "interaction", "two_stage")
        items = list(spec.indicators)
        self.copies: dict[tuple[str, str], str] = {}
        if self.hoc and self.method == "two_stage":
            spec1, spec2 = pls_hoc.stage1_spec(spec), pls_hoc.stage2_spec(spec)
        elif self.hoc:
            spec1 = None
            spec2, cp = pls_hoc.repeated_spec(spec)
            self.copies = {(c.split("::", 1)[0], item): c for c, item in cp.items()}
        else:
            spec1 = pls_interaction.without_interactions(spec) if self.method == "two_stage" else None
            spec2 = pls_interaction.stage2_spec(spec, self.method)
        self.cs1 = None if spec1 is None else compile_spec(spec1, items)
        self.cs2 = compile_spec(spec2)
        self.X = results.data[items].to_numpy(dtype=float)
        self.n = self.X.shape[0]
        self.moments = Moments(self.X)
        self.sd_full = self.X.std(axis=0, ddof=1)
        cw = (results.extra or {}).get("case_weights")
        self.case_w = None if cw is None else np.asarray(cw, float)
        self.scheme = opts.get("scheme", "path")
        self.core_kw = {k: opts[k] for k in ("max_iter", "tol") if k in opts}
        ipos = {it: i for i, it in enumerate(items)}
        self.ipos = ipos
        self.added = [nm for nm in self.cs2.items if nm not in ipos]
        ext = {**ipos, **{nm: len(items) + k for k, nm in enumerate(self.added)}}
        self.pos2 = np.array([ext[nm] for nm in self.cs2.items])
        self.ipos2 = {it: i for i, it in enumerate(self.cs2.items)}
        c2 = self.cs2.index
        c1 = {} if self.cs1 is None else self.cs1.index
        keys: list[tuple[str, str, str, str]] = []
        getters: list[tuple[str, Any]] = []
        est = results.estimates
        if "estimates" in groups:
            for lhs, op, rhs in zip(est["lhs"], est["op"], est["rhs"]):
                rhs2 = self.copies.get((lhs, rhs), rhs)
                if op in ("<~", "=~") and lhs in c2 and rhs2 in self.ipos2 \
                        and self.cs2.block[self.ipos2[rhs2]] == c2[lhs]:
                    getters.append(("w2" if op == "<~" else "l2", self.ipos2[rhs2]))
                elif op in ("<~", "=~") and lhs in c1 and rhs in ipos:
                    getters.append(("w1" if op == "<~" else "l1", ipos[rhs]))
                elif op == "~" and lhs in c2 and rhs in c2:
                    getters.append(("p", (c2[lhs], c2[rhs])))
                else:
                    continue
                keys.append(("estimates", lhs, op, rhs))
        effect_and_r2_getters(results, groups, c2, keys, getters)
        self.chains: list[tuple[int, ...]] = []
        if "specific" in groups:
            self.chains, sk = specific_keys(list(self.cs2.names), self.cs2.D)
            keys += sk
            getters += [("sp", i) for i in range(len(sk))]
        self.index_specs = [(nme, np.array([ipos[i] for i in lim.index]), lim["min"].to_numpy(float),
                             lim["max"].to_numpy(float))
                            for nme, lim in index_getters(results, groups, scale_limits, keys, getters)]
        first = [c.name for c in spec.constructs if c.name not in spec.higher_order]
        self.htmt_blocks: list[np.ndarray] = []
        if htmt_getters(first, groups, keys, getters):
            self.htmt_blocks = [np.array([ipos[i] for i in spec.construct(nm).indicators]) for nm in first]
        self.keys = keys_frame(keys)
        self.getters = getters
        self.w_full = self._fit(np.ones((1, self.n)))["w2"][0]

    # -- the added indicators ---------------------------------------------------------
    def _linear(self, raw1: np.ndarray | None, B: int) -> np.ndarray:
        """Weights ``V`` (B, p, q) of the added columns that are linear in the
        items: dimension scores (stage-1 raw weights) or item copies."""
        V = np.zeros((B, len(self.ipos), len(self.added)))
        for k, nm in enumerate(self.added):
            if self.method == "two_stage":
                blk = self.cs1.blocks[self.cs1.index[nm]]
                V[:, blk, k] = raw1[:, blk]
            else:
                V[:, self.ipos[nm.split("::", 1)[1]], k] = 1.0
        return V

    def _products(self, C: np.ndarray, m: np.ndarray, sd: np.ndarray, raw1: np.ndarray | None) -> np.ndarray:
        """The product columns (q, B, n) of every resample."""
        B = C.shape[0]
        out = np.empty((len(self.added), B, self.n))
        for k, nm in enumerate(self.added):
            prod = np.ones((B, self.n))
            if self.method == "two_stage":     # unit-variance stage-1 scores of the term's constructs
                for part in nm.split(":"):
                    blk = self.cs1.blocks[self.cs1.index[part]]
                    prod *= raw1[:, blk] @ self.X[:, blk].T - np.einsum("bi,bi->b", m[:, blk], raw1[:, blk])[:, None]
            else:                                # resample-standardized items
                for it in nm.split(":"):
                    i = self.ipos[it]
                    prod *= (self.X[None, :, i] - m[:, i:i + 1]) / sd[:, i:i + 1]
            out[k] = prod
        if self.method == "orthogonal":
            out = self._residualize(C, out)
        return out

    def _residualize(self, C: np.ndarray, P: np.ndarray) -> np.ndarray:
        """Each product's residual of the resample's weighted OLS (with
        intercept) on all items of its term's constructs."""
        for term in self.spec.interactions:
            its = [it for part in term.split(":") for it in self.spec.construct(part).indicators]
            cols = [k for k, nm in enumerate(self.added) if self.cs2.names[self.cs2.block[self.ipos2[nm]]] == term]
            A = np.column_stack([np.ones(self.n)] + [self.X[:, self.ipos[i]] for i in its])   # (n, a)
            AtCA = np.einsum("bi,ij,ik->bjk", C, A, A)
            Y = np.moveaxis(P[cols], 0, 2)                                                 # (B, n, q_t)
            AtCY = np.einsum("bi,ij,bik->bjk", C, A, Y)
            coef = np.linalg.solve(AtCA, AtCY)                                            # (B, a, q_t)
            P[cols] = np.moveaxis(Y - np.einsum("ij,bjk->bik", A, coef), 2, 0)
        return P

    def _augmented(self, C: np.ndarray, m: np.ndarray, S: np.ndarray, sd: np.ndarray,
                   raw1: np.ndarray | None) -> np.ndarray:
        """The covariance matrices (B, p + q, p + q) of the items and the added columns."""
        B, p = m.shape
        q = len(self.added)
        if self.hoc:
            V = self._linear(raw1, B)
            SXA = S @ V
            SAA = np.swapaxes(V, 1, 2) @ SXA
        else:
            P = self._products(C, m, sd, raw1)
            tot = C.sum(axis=1)
            f = tot / (tot - 1.0)
            CP = C[None] * P
            mP = CP.sum(axis=2) / tot
            SXA = np.stack([(CP[k] @ self.X) / tot[:, None] - m * mP[k][:, None] for k in range(q)], axis=2)
            SXA *= f[:, None, None]
            SAA = (np.einsum("kbn,lbn->bkl", CP, P) / tot[:, None, None]
                   - mP.T[:, :, None] * mP.T[:, None, :]) * f[:, None, None]
        Sx = np.empty((B, p + q, p + q))
        Sx[:, :p, :p] = S
        Sx[:, :p, p:] = SXA
        Sx[:, p:, :p] = np.swapaxes(SXA, 1, 2)
        Sx[:, p:, p:] = SAA
        return Sx

    def _fit(self, C: np.ndarray) -> dict[str, Any]:
        from .effects import chain_effects, total_effects_matrix

        if self.case_w is not None:
            C = C * self.case_w
        m, S = self.moments(C)
        sd = np.sqrt(np.clip(np.diagonal(S, axis1=1, axis2=2), 0.0, None))
        zero = (sd <= 1e-7 * self.sd_full).any(axis=1)
        if zero.any():
            S = S.copy()
            S[zero] = np.eye(S.shape[1])
            sd = np.where(zero[:, None], 1.0, sd)
        R = S / (sd[:, :, None] * sd[:, None, :])
        failed = zero.copy()
        out: dict[str, Any] = {"m": m, "R": R}
        raw1 = None
        if self.cs1 is not None:
            o1 = pls_core(R, self.cs1, self.scheme, **self.core_kw)
            raw1 = np.nan_to_num(o1.weights / sd)
            out.update(w1=o1.weights, l1=o1.loadings, raw1=raw1)
            failed |= o1.failed | ~o1.converged
        with np.errstate(invalid="ignore", divide="ignore"):
            S2 = self._augmented(C, m, S, sd, raw1)[:, self.pos2][:, :, self.pos2]
        sd2 = np.sqrt(np.clip(np.diagonal(S2, axis1=1, axis2=2), 0.0, None))
        failed |= ~(sd2 > 0).all(axis=1) | ~np.isfinite(S2).all(axis=(1, 2))
        sd2 = np.where(sd2 > 0, sd2, 1.0)
        R2 = np.nan_to_num(S2 / (sd2[:, :, None] * sd2[:, None, :]))
        o2 = pls_core(R2, self.cs2, self.scheme, **self.core_kw)
        failed |= o2.failed | ~o2.converged
        with np.errstate(invalid="ignore"):
            T = total_effects_matrix(np.nan_to_num(o2.paths))
        paths = o2.paths.copy()
        if not self.hoc:                      # seminr's scaling: per unit of the rescaled term
            for t in self.spec.interactions:
                j = self.cs2.index[t]
                blk = self.cs2.blocks[j]
                lab = np.abs(o2.loadings[:, blk])
                paths[:, :, j] /= ((sd2[:, blk] * lab).sum(axis=1) / lab.sum(axis=1))[:, None]
        out.update(w2=o2.weights, l2=o2.loadings, p=paths, te=T, ie=T - o2.paths, r2=o2.r2,
                   raw2=o2.weights / sd2, failed=failed,
                   sp=chain_effects(paths, self.chains) if self.chains else None)
        return out

    def _index_weights(self, f: dict[str, Any], nme: str) -> np.ndarray:
        """Raw item weights (B, items) of construct ``nme``, in ``items_of`` order."""
        spec = self.spec
        if nme in spec.higher_order and self.method == "two_stage":
            c1 = self.cs1.index
            parts = [f["raw2"][:, [self.ipos2[d]]] * f["raw1"][:, self.cs1.blocks[c1[d]]]
                     for d in spec.construct(nme).indicators]
            return np.concatenate(parts, axis=1)
        if nme in self.cs2.index:
            cols = [self.ipos2[self.copies.get((nme, i), i)] for i in spec.items_of(nme)]
            return f["raw2"][:, cols]
        return f["raw1"][:, self.cs1.blocks[self.cs1.index[nme]]]

    def stats(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from .bootstrapping import nonfinite_is_failure

        f = self._fit(C)
        b = C.shape[0]
        H = None
        if self.htmt_blocks:
            H = htmt_from_corr(f["R"], self.htmt_blocks)
        cols = []
        for kind, arg in self.getters:
            if kind in ("w1", "l1", "w2", "l2", "r2", "sp"):
                cols.append(f[kind][:, arg])
            elif kind in ("p", "te", "ie"):
                cols.append(f[kind][:, arg[0], arg[1]])
            elif kind == "ix":
                nme, pos, lo, hi = self.index_specs[arg]
                cols.append(index_from_moments(self._index_weights(f, nme), f["m"][:, pos], lo, hi))
            elif kind == "h":
                cols.append(H[:, arg[0], arg[1]])
        draws = np.column_stack(cols) if cols else np.empty((b, 0))
        failed = f["failed"] | nonfinite_is_failure(draws, self.keys)
        draws[failed] = np.nan
        dots = np.zeros((b, self.cs2.k))
        np.add.at(dots.T, np.asarray(self.cs2.block), (np.nan_to_num(f["w2"]) * self.w_full).T)
        flipped = (dots < 0).any(axis=1) & ~failed
        return draws, failed, flipped
