"""Batched bootstrap of two-stage PLS models (interaction terms estimated
``two_stage``, higher-order constructs estimated ``two_stage``).

Every resample redoes both stages, in lockstep for a chunk of resamples, as
:func:`csmlib.fit_pls` does them on the resampled data:

1. Stage 1: the resample's item moments (counts times case weights, see
   :mod:`csmlib.estimate.bootstrapping`) and the batched core give the
   stage-1 outer weights of every resample.
2. The stage-2 indicators of each resample: for a higher-order construct,
   the dimension scores are linear in the items, so their covariances with
   the items and with each other follow from the item covariance matrix
   (``S W`` and ``W' S W``); for an interaction term, the product of the
   resample's unit-variance stage-1 scores is formed row by row (an ``(B,
   n)`` array) and its moments are count-weighted sums.
3. Stage 2: the batched core on the augmented correlation matrices.

The statistics are those of the loop engine (one :func:`csmlib.fit_pls` per
resample) to rounding: paths (interaction paths in seminr's scaling, per
unit of the product term), loadings and weights of both levels, R-squared,
indirect and total effects, the 0-100 index (a higher-order construct's
through its combined item weights) and HTMT of the first-order constructs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..spec.modelspec import Construct, ModelSpec
from .pls_core import compile_spec, pls_core

__all__ = ["StagedPlsEngine", "supports"]


def supports(results: Any) -> bool:
    """True when :class:`StagedPlsEngine` can bootstrap ``results``: a
    standardized PLS fit (not PLSc) whose interaction terms or higher-order
    constructs were estimated ``two_stage``, not both."""
    spec, opts = results.spec, results.options or {}
    if not opts.get("standardize", True) or opts.get("consistent", False) or results._data is None:
        return False
    if spec.interactions and not spec.higher_order:
        return opts.get("interaction", "two_stage") == "two_stage"
    if spec.higher_order and not spec.interactions:
        return opts.get("hoc", "two_stage") == "two_stage"
    return False


def _stage_specs(spec: ModelSpec) -> tuple[ModelSpec, ModelSpec, list[str]]:
    """(stage-1 spec, stage-2 spec, names of the added stage-2 indicators)."""
    if spec.interactions:
        from .pls_interaction import without_interactions

        base = without_interactions(spec)
        terms = list(spec.interactions)
        spec2 = dataclasses.replace(spec, constructs=base.constructs + tuple(
            Construct(t, (t,), "reflective") for t in terms))
        return base, spec2, terms
    from .pls_hoc import stage1_spec

    dims = [d for h in spec.higher_order for d in spec.construct(h).indicators]
    cons2 = tuple(c for c in spec.constructs if c.name not in dims)
    rels2 = tuple(r for r in spec.relations if not (r.op in ("=~", "<~") and r.lhs in dims))
    return stage1_spec(spec), dataclasses.replace(spec, constructs=cons2, relations=rels2), dims


class StagedPlsEngine:
    """Both stages of a two-stage PLS fit, batched over resamples (see the
    module docstring).  Interface of the bootstrap engines: ``keys``, ``n``,
    ``X``, ``stats(C)``."""

    name = "pls-two-stage-batched"

    def __init__(self, results: Any, groups: Sequence[str], scale_limits: Any) -> None:
        from .bootstrapping import _index_constructs, _keys_frame, _Moments, effect_and_r2_getters

        spec = results.spec
        self.spec = spec
        self.hoc = bool(spec.higher_order)
        spec1, spec2, added = _stage_specs(spec)
        self.cs1 = compile_spec(spec1)
        self.cs2 = compile_spec(spec2)
        self.added = added
        items = list(self.cs1.items)
        self.X = results._data[items].to_numpy(dtype=float)
        self.n = self.X.shape[0]
        self.moments = _Moments(self.X)
        self.sd_full = self.X.std(axis=0, ddof=1)
        cw = (results.extra or {}).get("case_weights")
        self.case_w = None if cw is None else np.asarray(cw, float)
        opts = results.options or {}
        self.scheme = opts.get("scheme", "path")
        self.core_kw = {k: opts[k] for k in ("max_iter", "tol") if k in opts}
        ext = {nm: i for i, nm in enumerate(items + added)}
        self.pos2 = np.array([ext[nm] for nm in self.cs2.items])
        ipos1 = {it: i for i, it in enumerate(self.cs1.items)}
        ipos2 = {it: i for i, it in enumerate(self.cs2.items)}
        c1, c2 = self.cs1.index, self.cs2.index
        # parts of each interaction term / dimensions of each HOC, as stage-1 block positions
        self.added_blocks = [[np.asarray(self.cs1.blocks[c1[p]]) for p in a.split(":")] if not self.hoc
                             else [np.asarray(self.cs1.blocks[c1[a]])] for a in added]
        keys: list[tuple[str, str, str, str]] = []
        getters: list[tuple[str, Any]] = []
        est = results._estimates
        if "estimates" in groups:
            for lhs, op, rhs in zip(est["lhs"], est["op"], est["rhs"]):
                if op in ("<~", "=~") and lhs in c2 and rhs in ipos2:
                    getters.append(("w2" if op == "<~" else "l2", ipos2[rhs]))
                elif op in ("<~", "=~") and lhs in c1 and rhs in ipos1:
                    getters.append(("w1" if op == "<~" else "l1", ipos1[rhs]))
                elif op == "~" and lhs in c2 and rhs in c2:
                    getters.append(("p", (c2[lhs], c2[rhs])))
                else:
                    continue
                keys.append(("estimates", lhs, op, rhs))
        effect_and_r2_getters(results, groups, c2, keys, getters)
        names, lim = _index_constructs(results, scale_limits) if "index" in groups else ([], None)
        self.index_specs = []
        for nme in names:
            its = list(spec.items_of(nme))
            self.index_specs.append((nme, np.array([ipos1[i] for i in its]),
                                     lim.loc[its, "min"].to_numpy(float), lim.loc[its, "max"].to_numpy(float)))
            keys.append(("index", nme, "index", ""))
            getters.append(("ix", len(self.index_specs) - 1))
        self.htmt_blocks: list[np.ndarray] = []
        if "htmt" in groups:
            first = [c.name for c in spec.constructs if c.name not in spec.higher_order]
            self.htmt_blocks = [np.array([ipos1[i] for i in spec.construct(nm).indicators]) for nm in first]
            for a in range(len(first)):
                for b in range(a + 1, len(first)):
                    keys.append(("htmt", first[a], "htmt", first[b]))
                    getters.append(("h", (a, b)))
        self.keys = _keys_frame(keys)
        self.getters = getters
        self.w_full = self._fit(np.ones((1, self.n)))["w2"][0]

    # -- the two stages of a chunk of resamples -------------------------------------------
    def _added_moments(self, C: np.ndarray, m: np.ndarray, S: np.ndarray, raw1: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Covariances of the added stage-2 indicators with the items (B, p, q)
        and with each other (B, q, q)."""
        B, p = raw1.shape
        q = len(self.added)
        if self.hoc:                       # dimension scores: linear in the items
            Wd = np.zeros((B, p, q))
            for k, (blk,) in enumerate(self.added_blocks):
                Wd[:, blk, k] = raw1[:, blk]
            SXA = S @ Wd
            return SXA, np.swapaxes(Wd, 1, 2) @ SXA
        tot = C.sum(axis=1)
        P = np.empty((q, B, self.n))
        for k, parts in enumerate(self.added_blocks):
            prod = np.ones((B, self.n))
            for blk in parts:                 # unit-variance stage-1 score of the part, row by row
                prod *= raw1[:, blk] @ self.X[:, blk].T - np.einsum("bi,bi->b", m[:, blk], raw1[:, blk])[:, None]
            P[k] = prod
        CP = C[None] * P                                                   # (q, B, n)
        mP = CP.sum(axis=2) / tot                                          # (q, B)
        f = (tot / (tot - 1.0))
        SXA = np.stack([(CP[k] @ self.X) / tot[:, None] - m * mP[k][:, None] for k in range(q)], axis=2)
        SXA *= f[:, None, None]
        SAA = np.einsum("kbn,lbn->bkl", CP, P) / tot[:, None, None] - mP.T[:, :, None] * mP.T[:, None, :]
        return SXA, SAA * f[:, None, None]

    def _fit(self, C: np.ndarray) -> dict[str, Any]:
        from .effects import total_effects_matrix

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
        o1 = pls_core(R, self.cs1, self.scheme, **self.core_kw)
        raw1 = np.nan_to_num(o1.weights / sd)
        SXA, SAA = self._added_moments(C, m, S, raw1)
        B, p = raw1.shape
        q = len(self.added)
        Sx = np.empty((B, p + q, p + q))
        Sx[:, :p, :p] = S
        Sx[:, :p, p:] = SXA
        Sx[:, p:, :p] = np.swapaxes(SXA, 1, 2)
        Sx[:, p:, p:] = SAA
        S2 = Sx[:, self.pos2][:, :, self.pos2]
        sd2 = np.sqrt(np.clip(np.diagonal(S2, axis1=1, axis2=2), 0.0, None))
        bad2 = ~(sd2 > 0).all(axis=1)
        sd2 = np.where(sd2 > 0, sd2, 1.0)
        R2 = S2 / (sd2[:, :, None] * sd2[:, None, :])
        o2 = pls_core(R2, self.cs2, self.scheme, **self.core_kw)
        with np.errstate(invalid="ignore"):
            T = total_effects_matrix(np.nan_to_num(o2.paths))
        paths = o2.paths.copy()
        if not self.hoc:                      # seminr's scaling: per unit of the product term
            for t in self.added:
                j = self.cs2.index[t]
                paths[:, :, j] /= sd2[:, list(self.cs2.items).index(t)][:, None]
        raw2 = o2.weights / sd2
        return {"w1": o1.weights, "l1": o1.loadings, "w2": o2.weights, "l2": o2.loadings, "p": paths,
                "te": T, "ie": T - o2.paths, "r2": o2.r2, "raw1": raw1, "raw2": raw2, "m": m, "R": R,
                "failed": o1.failed | ~o1.converged | o2.failed | ~o2.converged | zero | bad2}

    def _index_weights(self, f: dict[str, Any], nme: str) -> np.ndarray:
        """Raw item weights (B, items) of construct ``nme``, in ``items_of`` order."""
        c1, c2 = self.cs1.index, self.cs2.index
        if nme in self.spec.higher_order:
            ipos2 = {it: i for i, it in enumerate(self.cs2.items)}
            parts = [f["raw2"][:, [ipos2[d]]] * f["raw1"][:, self.cs1.blocks[c1[d]]]
                     for d in self.spec.construct(nme).indicators]
            return np.concatenate(parts, axis=1)
        if nme in c2 and nme not in self.added and not (self.hoc and nme in self.added):
            ipos2 = {it: i for i, it in enumerate(self.cs2.items)}
            return f["raw2"][:, [ipos2[i] for i in self.spec.construct(nme).indicators]]
        return f["raw1"][:, self.cs1.blocks[c1[nme]]]

    def stats(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from ..analysis.index import index_from_moments
        from .bootstrapping import _nonfinite_is_failure

        f = self._fit(C)
        b = C.shape[0]
        H = None
        if self.htmt_blocks:
            from ..analysis.measurement import htmt_from_corr

            H = htmt_from_corr(f["R"], self.htmt_blocks)
        cols = []
        for kind, arg in self.getters:
            if kind in ("w1", "l1", "w2", "l2", "r2"):
                cols.append(f[kind][:, arg])
            elif kind in ("p", "te", "ie"):
                cols.append(f[kind][:, arg[0], arg[1]])
            elif kind == "ix":
                nme, pos, lo, hi = self.index_specs[arg]
                cols.append(index_from_moments(self._index_weights(f, nme), f["m"][:, pos], lo, hi))
            elif kind == "h":
                cols.append(H[:, arg[0], arg[1]])
        draws = np.column_stack(cols) if cols else np.empty((b, 0))
        failed = f["failed"] | _nonfinite_is_failure(draws, self.keys)
        draws[failed] = np.nan
        dots = np.zeros((b, self.cs2.k))
        np.add.at(dots.T, np.asarray(self.cs2.block), (np.nan_to_num(f["w2"]) * self.w_full).T)
        flipped = (dots < 0).any(axis=1) & ~failed
        return draws, failed, flipped
