"""Bootstrap intervals for any fit: resample respondents, refit, summarize.

``csm.bootstrap(results, n_boot=5000, seed=1)`` resamples the rows (respondents)
of the data a fit used, with replacement, re-estimates the model on every
resample and returns :class:`BootstrapResults`: standard errors, percentile or
BCa intervals and bootstrap z / p-values for the paths, weights, loadings,
indirect and total effects, R-squared, the 0-100 satisfaction index of every
construct with scale limits, and HTMT.

How it is fast (PLS)
    PLS depends on the data only through the indicator covariance matrix.
    A resample is a vector of counts ``c`` (how often each respondent was
    drawn), so all resample means and covariance matrices of a chunk come
    from two matrix products (``C X`` and ``C (x_i x_i')``), and the batched
    core :func:`csmlib.estimate.pls_core.pls_core` estimates every resample of the
    chunk in lockstep.  Chunks run on ``n_jobs`` threads (numpy releases
    the GIL in its large array operations).

    A model with interaction terms or higher-order constructs redoes every
    stage of its estimation in every resample, batched the same way
    (:mod:`csmlib.estimate.bootstrap_stages`).  A weighted PLS fit
    (``fit_pls(..., weights=)``) multiplies each resample's counts by the
    case weights: the weights travel with their rows.

CB-SEM
    ML estimates also depend on the data only through the covariance
    matrix: the resample covariances of a chunk come from the same count
    products and every resample is refitted by batched Fisher scoring
    warm-started at the full-sample estimates (``csmlib.estimate.cbsem.refit_many``);
    defined parameters, effects, R-squared, the index and HTMT are computed
    from the refitted parameter vectors.  A refit that does not converge is
    a failed resample.  Only a ``statistics`` function (or a FIML fit with
    missing data) falls back to a full ``fit_cbsem`` per resample, in
    ``n_jobs`` worker processes.

Seeding
    The resample indices come from ``numpy.random.SeedSequence(seed)``: block
    ``j`` of 250 resamples uses the child with ``spawn_key=(j,)``, so the same
    seed gives the same resamples whatever ``n_jobs`` and chunking are.  With
    ``seed=None`` a seed is drawn from fresh entropy and recorded in
    ``.seed``; :func:`resample_indices` regenerates the indices.

Failures and sign flips
    A resample *fails* when the refit does not converge or cannot be
    estimated (a zero-variance item, a singular matrix, an error of the
    estimator).  Failed resamples are counted (``.n_failed``), kept as NaN
    rows in ``.draws`` and excluded from the intervals; the summary shows the
    count.  A resample is *sign-flipped* when some construct's weights (PLS)
    or loadings (CB-SEM) point against the full-sample ones (negative inner
    product); these are counted (``.n_sign_flipped``) and kept as estimated
    (no sign correction).

Intervals
    ``ci="percentile"``: the ``(1-level)/2`` and ``(1+level)/2`` quantiles of
    the successful draws.  ``ci="bca"`` (Efron 1987): bias correction
    ``z0 = Phi^-1(share of draws below the estimate, ties half)``,
    acceleration ``a = sum d^3 / (6 (sum d^2)^1.5)`` with ``d`` the
    deviations of the jackknife estimates from their mean (leave-one-out; for
    ``n > 1000`` a grouped jackknife with 1000 groups), also batched.
    ``se`` is the standard deviation of the successful draws, ``z = est /
    se`` and ``pvalue`` two-sided normal.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import CsmError, EstimationError, EstimationWarning, SpecError
from .results import CbsemResults, SectionedSummary
from .statistics import (block_index, htmt_from_corr, htmt_long, index_from_moments, raw_weights, resolve_scale_limits,
                         results_htmt, warn_unconverged)

__all__ = [
    "bootstrap",
    "BootstrapResults",
    "resample_indices",
    "percentile_interval",
    "bca_interval",
]

#: Resamples per independently seeded block (fixed: part of reproducibility).
BLOCK = 250
CI_METHODS = ("percentile", "bca")
GROUPS = ("estimates", "effects", "r2", "index", "htmt", "specific")


# ---------------------------------------------------------------------------
# resampling
# ---------------------------------------------------------------------------
def _block_rng(seed: int, j: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))


def resample_indices(n: int, n_boot: int, seed: int, *, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Row indices of resamples ``start .. stop-1`` of a bootstrap.

    Parameters
    ----------
    n : int
        Number of respondents.
    n_boot : int
        Number of resamples of the bootstrap.
    seed : int
        The bootstrap's seed (``BootstrapResults.seed``).
    start, stop : int
        Which resamples (default all).

    Returns
    -------
    ndarray of int, shape (stop - start, n)
        Row positions (0-based) drawn with replacement.
    """
    stop = n_boot if stop is None else stop
    if stop <= start:
        return np.empty((0, n), dtype=np.int64)
    parts = []
    for j in range(start // BLOCK, (stop - 1) // BLOCK + 1):
        b0 = j * BLOCK
        size = min(BLOCK, n_boot - b0)
        idx = _block_rng(seed, j).integers(0, n, size=(size, n))
        parts.append(idx[max(start - b0, 0): stop - b0])
    return np.concatenate(parts)


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    b = idx.shape[0]
    flat = (idx + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _jackknife_counts(n: int, start: int, stop: int, groups: np.ndarray | None) -> np.ndarray:
    if groups is None:
        C = np.ones((stop - start, n))
        C[np.arange(stop - start), np.arange(start, stop)] = 0.0
        return C
    return (groups[None, :] != np.arange(start, stop)[:, None]).astype(float)


class Moments:
    """Means and covariance matrices of count-weighted resamples, batched.

    A resample is a row ``c`` of counts (how often each respondent was
    drawn).  Its mean is ``c X / sum c`` and its second moments
    ``sum_i c_i x_i x_i' / sum c``: for a chunk of resamples both are one
    matrix product with the count matrix, over the ``p (p + 1) / 2``
    distinct products of the (centred) items.  Float64 throughout.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.n, self.p = X.shape
        self.center = X.mean(axis=0)
        self.Xc = X - self.center
        self.iu, self.ju = np.triu_indices(self.p)
        full = np.empty((self.p, self.p), dtype=int)      # position of (i, j) among the distinct pairs
        full[self.iu, self.ju] = full[self.ju, self.iu] = np.arange(len(self.iu))
        self.full = full.ravel()
        if self.n * len(self.iu) <= 12_500_000:
            self.O = self.Xc[:, self.iu] * self.Xc[:, self.ju]          # (n, p (p + 1) / 2)
        else:
            self.O = None

    def __call__(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = C.shape[0]
        tot = C.sum(axis=1)
        m = (C @ self.Xc) / tot[:, None]
        if self.O is not None:
            M2 = np.take(C @ self.O, self.full, axis=1).reshape(b, self.p, self.p)
        else:
            M2 = np.empty((b, self.p, self.p))
            for i in range(b):
                M2[i] = (self.Xc.T * C[i]) @ self.Xc
        M2 /= tot[:, None, None]
        S = (M2 - m[:, :, None] * m[:, None, :]) * (tot / (tot - 1.0))[:, None, None]
        return m + self.center, S


# ---------------------------------------------------------------------------
# statistics: what is bootstrapped
# ---------------------------------------------------------------------------
def keys_frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """The statistic key table of an engine: columns ``group, lhs, op, rhs``."""
    return pd.DataFrame(rows, columns=["group", "lhs", "op", "rhs"])


def _effect_pairs(results: Any) -> list[tuple[str, str]]:
    eff = results.effects
    return list(zip(eff["lhs"].astype(str), eff["rhs"].astype(str)))


def specific_keys(names: Sequence[str], B: np.ndarray) -> tuple[list[tuple[int, ...]], list[tuple[str, str, str, str]]]:
    """Chains of the specific indirect effects and their keys
    ``("specific", "X -> M -> Y", "chain", "")``."""
    from .effects import chain_label, indirect_chains

    chains = indirect_chains(B, names)
    return chains, [("specific", chain_label(c, names), "chain", "") for c in chains]


def _latent_adjacency(results: Any, names: Sequence[str]) -> np.ndarray:
    """``D[i, j] = 1`` when the spec has the path ``names[j] -> names[i]``."""
    pos = {nme: i for i, nme in enumerate(names)}
    D = np.zeros((len(names), len(names)))
    for frm, to in results.spec.paths:
        if frm in pos and to in pos:
            D[pos[to], pos[frm]] = 1.0
    return D


def index_getters(results: Any, groups: Sequence[str], scale_limits: Any, keys: list,
                  getters: list) -> list[tuple[str, pd.DataFrame]]:
    """The constructs whose index is a statistic (``"index"`` in ``groups``
    and scale limits for all their items), each with its items' limits
    (columns ``min, max``, in the spec's item order); appends their keys and
    ``("ix", position)`` getters to ``keys`` and ``getters``."""
    lim = resolve_scale_limits(results, scale_limits) if "index" in groups else None
    if lim is None:
        return []
    spec = results.spec
    out = []
    for c in spec.constructs:
        items = list(spec.items_of(c.name))
        if all(i in lim.index for i in items):
            keys.append(("index", c.name, "index", ""))
            getters.append(("ix", len(out)))
            out.append((c.name, lim.loc[items]))
    return out


def htmt_getters(names: Sequence[str], groups: Sequence[str], keys: list, getters: list) -> list[tuple[int, int]]:
    """The construct pairs ``(i, j)``, ``i < j``, whose HTMT is a statistic
    (``"htmt"`` in ``groups``); appends their keys and ``("h", (i, j))``
    getters to ``keys`` and ``getters``."""
    if "htmt" not in groups:
        return []
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    for i, j in pairs:
        keys.append(("htmt", names[i], "htmt", names[j]))
        getters.append(("h", (i, j)))
    return pairs


def effect_and_r2_getters(results: Any, groups: Sequence[str], cpos: dict[str, int],
                          keys: list, getters: list) -> None:
    """Append the keys and getters of the indirect and total effects and the
    R-squared (construct positions ``cpos`` in the core's path matrix) to
    ``keys`` and ``getters``, for the batched PLS engines."""
    if "effects" in groups:
        for lhs, rhs in _effect_pairs(results):
            for kind in ("indirect", "total"):
                keys.append(("effects", lhs, kind, rhs))
                getters.append((kind[0] + "e", (cpos[lhs], cpos[rhs])))
    if "r2" in groups:
        for nme in results.spec.endogenous:
            keys.append(("r2", nme, "r2", ""))
            getters.append(("r2", cpos[nme]))


class PlsEngine:
    """Batched PLS refits of a chunk of resamples."""

    name = "pls-batched"

    def __init__(self, results: Any, groups: Sequence[str], scale_limits: Any) -> None:
        from .pls_core import compile_spec

        spec = results.spec
        data = results.data
        if data is None:
            raise EstimationError("these PLS results carry no data to resample",
                                  hint="refit with csm.fit_pls")
        wcol = (results.options or {}).get("weights")
        self.cs = compile_spec(spec, [c for c in data.columns if c != wcol])
        self.X = data[list(self.cs.items)].to_numpy(dtype=float)
        self.n = self.X.shape[0]
        self.moments = Moments(self.X)
        self.sd_full = self.X.std(axis=0, ddof=1)
        opts = results.options or {}
        self.scheme = opts.get("scheme", "path")
        self.standardize = bool(opts.get("standardize", True))
        self.consistent = bool(opts.get("consistent", False))
        self.core_kw = {k: opts[k] for k in ("max_iter", "tol") if k in opts}
        cw = (results.extra or {}).get("case_weights")
        self.case_w = None if cw is None else np.asarray(cw, float)
        cs = self.cs
        ipos = {it: i for i, it in enumerate(cs.items)}
        cpos = cs.index if hasattr(cs, "index") else {n: i for i, n in enumerate(cs.names)}
        self.cpos = cpos
        keys: list[tuple[str, str, str, str]] = []
        getters: list[tuple[str, Any]] = []
        est = results.estimates
        if "estimates" in groups:
            for lhs, op, rhs in zip(est["lhs"], est["op"], est["rhs"]):
                if op == "<~" and rhs in ipos:
                    getters.append(("w", ipos[rhs]))
                elif op == "=~" and rhs in ipos:
                    getters.append(("l", ipos[rhs]))
                elif op == "~" and lhs in cpos and rhs in cpos:
                    getters.append(("p", (cpos[lhs], cpos[rhs])))
                else:
                    continue
                keys.append(("estimates", lhs, op, rhs))
        effect_and_r2_getters(results, groups, cpos, keys, getters)
        self.chains = []
        if "specific" in groups:
            self.chains, sk = specific_keys(list(cs.names), cs.D)
            keys += sk
            getters += [("sp", i) for i in range(len(sk))]
        self.index_blocks = []
        for nme, lim in index_getters(results, groups, scale_limits, keys, getters):
            blk = np.asarray(cs.blocks[cpos[nme]])
            items = [cs.items[i] for i in blk]
            self.index_blocks.append((blk, lim.loc[items, "min"].to_numpy(float), lim.loc[items, "max"].to_numpy(float)))
        self.htmt_pairs = htmt_getters(list(cs.names), groups, keys, getters)
        self.keys = keys_frame(keys)
        self.getters = getters
        full = self._fit(np.ones((1, self.n)))
        self.w_full = full["w"][0]

    def _fit(self, C: np.ndarray) -> dict[str, np.ndarray]:
        if self.case_w is not None:   # weighted PLS: a resample carries its rows' weights
            C = C * self.case_w
        m, S = self.moments(C)
        return self.fit_moments(m, S)

    def fit_moments(self, m: np.ndarray, S: np.ndarray) -> dict[str, np.ndarray]:
        """Batched PLS fits of a stack of samples given their item means
        ``m`` (B, p) and covariances ``S`` (B, p, p), items in ``cs.items``
        order: how :meth:`stats` fits resamples, and how
        :func:`csmlib.analysis.planning.plan_sample` fits whole simulated
        samples.  Returns the core's arrays (``w, l, p, te, ie, r2, cc``
        [construct correlations], ``raw, m, R, failed``)."""
        from .effects import total_effects_matrix
        from .pls_core import pls_core

        sd = np.sqrt(np.clip(np.diagonal(S, axis1=1, axis2=2), 0.0, None))
        zero = (sd <= 1e-7 * self.sd_full).any(axis=1)
        if zero.any():  # a constant item in a resample: fail it, keep the batch going
            S = S.copy()
            S[zero] = np.eye(self.X.shape[1])
            sd = np.where(zero[:, None], 1.0, sd)
        R = S / (sd[:, :, None] * sd[:, None, :])
        out = pls_core(R if self.standardize else S, self.cs, self.scheme,
                       consistent=self.consistent, **self.core_kw)
        w = out.weights
        raw = w / sd if self.standardize else w
        load = out.loadings
        if self.consistent and out.consistent_loadings is not None:
            load = out.consistent_loadings
        with np.errstate(invalid="ignore"):
            T = total_effects_matrix(np.nan_to_num(out.paths))
        if self.chains:
            from .effects import chain_effects

            sp = chain_effects(out.paths, self.chains)
        else:
            sp = None
        res = {"w": w, "l": load, "p": out.paths, "te": T, "ie": T - out.paths, "r2": out.r2, "sp": sp,
               "cc": out.construct_corr, "raw": raw, "m": m, "R": R,
               "failed": out.failed | ~out.converged | zero}
        return res

    def stats(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.stats_from_fit(self._fit(C))

    def stats_from_fit(self, f: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The statistics (columns as :attr:`keys`), failed and sign-flipped
        flags of the fits ``f`` (:meth:`fit_moments`)."""
        b = f["w"].shape[0]
        cols = []
        H = None
        if self.htmt_pairs:
            H = htmt_from_corr(f["R"], [np.asarray(bl) for bl in self.cs.blocks])
        for kind, arg in self.getters:
            if kind in ("w", "l", "r2", "sp"):
                cols.append(f[kind][:, arg])
            elif kind in ("p", "te", "ie"):
                cols.append(f[kind][:, arg[0], arg[1]])
            elif kind == "ix":
                blk, lo, hi = self.index_blocks[arg]
                cols.append(index_from_moments(f["raw"][:, blk], f["m"][:, blk], lo, hi))
            elif kind == "h":
                cols.append(H[:, arg[0], arg[1]])
        draws = np.column_stack(cols) if cols else np.empty((b, 0))
        failed = f["failed"] | nonfinite_is_failure(draws, self.keys)
        draws[failed] = np.nan
        dots = np.zeros((b, len(self.cs.names)))
        np.add.at(dots.T, np.asarray(self.cs.block), (f["w"] * self.w_full).T)
        flipped = (dots < 0).any(axis=1) & ~failed
        return draws, failed, flipped


class CbEngine:
    """Batched warm-started ML refits (``csmlib.estimate.cbsem.refit_many``) of a
    CB-SEM fit, and every standard statistic computed from the refitted
    parameter vectors: estimates (free and defined parameters), indirect
    and total effects, R-squared, the index (factor-score weights
    ``lambda / theta`` of each block, as :func:`csmlib.estimate.statistics.raw_weights`)
    and HTMT.  A resample fails when its refit does not converge, an item
    is constant in it, or a statistic is not finite."""

    name = "cbsem-batched"

    def __init__(self, results: Any, groups: Sequence[str], scale_limits: Any = None) -> None:
        spec = results.spec
        if results.data is None or "free_index" not in results.extra or "ram" not in results.extra:
            raise EstimationError("these CB-SEM results cannot be refitted in batch",
                                  hint='use engine="loop"')
        self.results = results
        self.ram = ram = results.extra["ram"]
        self.items = list(spec.indicators)
        X = results.data[self.items].to_numpy(dtype=float)
        self.X = X[~np.isnan(X).any(axis=1)]            # listwise, as the fit
        self.n = self.X.shape[0]
        self.moments = Moments(self.X)
        self.sd_full = self.X.std(axis=0, ddof=1)
        est = results.estimates
        free = np.asarray(results.extra["free_index"])
        from .cbsem import structural_nodes

        nodes, node_idx, self.node_mask = structural_nodes(spec, ram)
        lat = dict(zip(nodes, (int(i) for i in node_idx)))   # constructs and observed structural variables
        self.lat = lat
        keys: list[tuple[str, str, str, str]] = []
        getters: list[tuple[str, Any]] = []
        if "estimates" in groups:
            n_def = 0
            for (lhs, op, rhs), f in zip(zip(est["lhs"], est["op"], est["rhs"]), free):
                if f >= 0:
                    keys.append(("estimates", lhs, op, rhs))
                    getters.append(("theta", int(f)))
                elif op == ":=":
                    keys.append(("estimates", lhs, op, rhs))
                    getters.append(("defined", n_def))
                    n_def += 1
        self.lat_idx = node_idx
        lpos = {nme: i for i, nme in enumerate(nodes)}
        if "effects" in groups:
            for lhs, rhs in _effect_pairs(results):
                for kind in ("indirect", "total"):
                    keys.append(("effects", lhs, kind, rhs))
                    getters.append((kind[0] + "e", (lpos[lhs], lpos[rhs])))
        self.chains = []
        if "specific" in groups:
            self.chains, sk = specific_keys(nodes, _latent_adjacency(results, nodes))
            keys += sk
            getters += [("sp", i) for i in range(len(sk))]
        if "r2" in groups:
            r2 = results.r2
            for nme in r2.index:
                keys.append(("r2", str(nme), "r2", ""))
                getters.append(("r2", lat[nme]))
        self.index_blocks = []
        for nme, lim in index_getters(results, groups, scale_limits, keys, getters):
            it = np.array([self.items.index(i) for i in lim.index])
            self.index_blocks.append((it, lat[nme], lim["min"].to_numpy(float), lim["max"].to_numpy(float)))
        self.blocks = [np.array([self.items.index(i) for i in c.indicators]) for c in spec.constructs]
        self.pairs = htmt_getters(list(spec.construct_names), groups, keys, getters)
        self.keys = keys_frame(keys)
        self.getters = getters
        lam = [(k, int(f)) for k, (op, f) in enumerate(zip(est["op"], free)) if op == "=~" and f >= 0]
        self.load_cols = {}
        for k, f in lam:
            self.load_cols.setdefault(est["lhs"].iloc[k], []).append(f)
        self.theta_full = np.asarray(results.extra["theta"], dtype=float)

    def _derived(self, theta: np.ndarray, m: np.ndarray, kinds: set[str]) -> dict[str, np.ndarray]:
        from .cbsem import defined_many

        ram = self.ram
        out: dict[str, np.ndarray] = {"theta": theta}
        if "defined" in kinds:
            out["defined"] = defined_many(self.results, theta)
        if kinds & {"te", "ie", "sp", "r2", "ix"}:
            with np.errstate(all="ignore"):
                A, Sm = ram.matrices(np.nan_to_num(theta))
                li = self.lat_idx
                if kinds & {"te", "ie", "sp"}:
                    from .effects import total_effects_matrix

                    Bm = A[:, li[:, None], li[None, :]] * self.node_mask
                    try:
                        T = total_effects_matrix(Bm)
                    except CsmError:
                        T = np.full(Bm.shape, np.nan)
                    out["te"], out["ie"] = T, T - Bm
                    if self.chains:
                        from .effects import chain_effects

                        out["sp"] = chain_effects(Bm, self.chains)
                if "r2" in kinds:
                    try:
                        V = ram.total_covariance(np.nan_to_num(theta))
                    except np.linalg.LinAlgError:
                        V = np.full(A.shape, np.nan)
                    d = np.arange(ram.n)
                    out["r2"] = 1.0 - Sm[:, d, d] / V[:, d, d]
                if "ix" in kinds:
                    cols = []
                    for it, c, lo, hi in self.index_blocks:
                        if len(it) == 1:
                            w = np.ones((len(theta), 1))
                        else:
                            resid = Sm[:, it, it]
                            w = np.where(resid > 0, A[:, it, c] / resid, np.nan)
                            w = np.where((w >= 0).all(axis=1)[:, None], w, np.nan)   # negative: undefined
                        cols.append(index_from_moments(w, m[:, it], lo, hi))
                    out["ix"] = np.column_stack(cols)
        return out

    def stats(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m, S = self.moments(C)
        out = self.refit_moments(m, S, C.sum(axis=1))
        return out["draws"], out["failed"], out["flipped"]

    def refit_moments(self, m: np.ndarray, S: np.ndarray, tot: np.ndarray) -> dict[str, np.ndarray]:
        """Batched ML refits of a stack of samples given their item means
        ``m`` (B, p), covariances ``S`` (B, p, p; divisor ``tot - 1``, items
        in the model's order) and sizes ``tot`` (B,): how :meth:`stats`
        refits resamples, and how :func:`csmlib.analysis.planning.plan_sample`
        fits whole simulated samples.

        Returns
        -------
        dict
            ``draws`` (B, keys), ``failed`` and ``flipped`` (B,) as
            :meth:`stats`, and ``theta`` (B, k): the refitted free parameters.
        """
        from .cbsem import refit_many

        sd = np.sqrt(np.clip(np.diagonal(S, axis1=1, axis2=2), 0.0, None))
        zero = (sd <= 1e-7 * self.sd_full).any(axis=1)
        if zero.any():
            S = S.copy()
            S[zero] = np.diag(self.sd_full ** 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            theta, conv = refit_many(self.results, S * ((tot - 1) / tot)[:, None, None], self.n, means=m)
        kinds = {k for k, _ in self.getters}
        f = self._derived(theta, m, kinds)
        H = None
        if self.pairs:
            sdz = np.where(zero[:, None], 1.0, sd)
            H = htmt_from_corr(S / (sdz[:, :, None] * sdz[:, None, :]), self.blocks)
        cols = []
        for kind, arg in self.getters:
            if kind in ("theta", "defined", "r2", "ix", "sp"):
                cols.append(f[kind][:, arg])
            elif kind in ("te", "ie"):
                cols.append(f[kind][:, arg[0], arg[1]])
            elif kind == "h":
                cols.append(H[:, arg[0], arg[1]])
        draws = np.column_stack(cols) if cols else np.empty((len(m), 0))
        failed = ~conv | zero | nonfinite_is_failure(draws, self.keys)
        draws[failed] = np.nan
        flipped = np.zeros(len(m), dtype=bool)
        for c, fc in self.load_cols.items():
            flipped |= (theta[:, fc] @ self.theta_full[fc]) < 0
        return {"draws": draws, "failed": failed, "flipped": flipped & ~failed, "theta": theta}


def nonfinite_is_failure(draws: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """Non-finite values fail a resample, except HTMT (NaN by construction
    for some pairs, e.g. zero correlations in a block)."""
    mask = (keys["group"] != "htmt").to_numpy()
    if not mask.any():
        return np.zeros(draws.shape[0], dtype=bool)
    return ~np.isfinite(draws[:, mask]).all(axis=1)


class _LoopEngine:
    """Refit every resample with the estimator (CB-SEM, or any statistic)."""

    name = "loop"

    def __init__(self, results: Any, groups: Sequence[str], scale_limits: Any,
                 statistics: Callable[[Any], Any] | None = None) -> None:
        self.results = results
        self.data = results.data
        if self.data is None:
            raise EstimationError("these results carry no data to resample",
                                  hint="refit the model with csm.fit_pls / csm.fit_cbsem")
        self.n = len(self.data)
        # the fit's own limits (its instrument's) unless others are given: a refit
        # on a resample is a fit on a plain DataFrame, which has none
        self.scale_limits = resolve_scale_limits(results, scale_limits) if "index" in groups else None
        self.statistics = statistics
        self.groups = tuple(groups)
        theta = self._extract(results)
        if statistics is None:
            self.keys = theta.index.to_frame(index=False)
        else:
            self.keys = keys_frame([("statistics", str(k), "", "") for k in theta.index])
        self.theta_index = theta.index
        self.ref_sign = results.indicator_signs()

    def _extract(self, res: Any) -> pd.Series:
        if self.statistics is not None:
            return pd.Series(self.statistics(res), dtype=float)
        vals: dict[tuple[str, str, str, str], float] = {}
        e = res.estimates
        if "estimates" in self.groups:
            names = set(res.spec.construct_names) | set(res.spec.interactions)
            regs = set(res.spec.regressions)    # an indicator's regression too (x3 ~ ageyr)
            for lhs, op, rhs, est in zip(e["lhs"], e["op"], e["rhs"], e["est"]):
                if op in ("<~", "=~", ":=") or (op == "~" and ((lhs in names and rhs in names)
                                                               or (rhs, lhs) in regs)):
                    vals[("estimates", lhs, op, rhs)] = est
        if "effects" in self.groups:
            eff = res.effects
            for lhs, rhs, ind, tot in zip(eff["lhs"], eff["rhs"], eff["indirect"], eff["total"]):
                vals[("effects", lhs, "indirect", rhs)] = ind
                vals[("effects", lhs, "total", rhs)] = tot
        if "r2" in self.groups:
            r2 = res.r2
            # the endogenous constructs and the observed outcomes a CB fit reports (y1 ~ ind60)
            outcomes = {to for _, to in res.spec.regressions}
            for nme in dict.fromkeys([*res.spec.endogenous, *(v for v in r2.index if v in outcomes)]):
                vals[("r2", nme, "r2", "")] = r2.get(nme, np.nan)
        if "specific" in self.groups:
            sp = res.specific_effects
            for path, est in zip(sp["path"], sp["est"]):
                vals[("specific", path, "chain", "")] = est
        if "index" in self.groups:
            for nme, lim in index_getters(res, self.groups, self.scale_limits, [], []):
                warn_unconverged(res, f"the index of {nme!r}")
                try:
                    w = raw_weights(res, nme)[nme]
                    # an item without limits gives NaN limits, so a NaN index (as a DataError would)
                    vals[("index", nme, "index", "")] = block_index(res, nme, w, lim.reindex(list(w.index)))[0]
                except CsmError:
                    vals[("index", nme, "index", "")] = np.nan
        if "htmt" in self.groups:
            h = htmt_long(results_htmt(res))
            for lhs, rhs, v in zip(h["lhs"], h["rhs"], h["htmt"]):
                vals[("htmt", lhs, "htmt", rhs)] = v
        s = pd.Series(vals, dtype=float)
        s.index = pd.MultiIndex.from_tuples(list(s.index), names=["group", "lhs", "op", "rhs"])
        return s

    def stats(self, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = C.shape[0]
        k = len(self.theta_index)
        draws = np.full((b, k), np.nan)
        failed = np.zeros(b, dtype=bool)
        flipped = np.zeros(b, dtype=bool)
        values = self.data.to_numpy()
        for i in range(b):
            rows = np.repeat(np.arange(self.n), C[i].astype(int))
            frame = pd.DataFrame(values[rows], columns=self.data.columns)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = self.results.refit(frame)
                    s = self._extract(res).reindex(self.theta_index)
            except (CsmError, np.linalg.LinAlgError, ValueError, FloatingPointError):
                failed[i] = True
                continue
            if not res.converged or not np.isfinite(s.to_numpy()).all():
                failed[i] = True
                continue
            draws[i] = s.to_numpy()
            sg = res.indicator_signs()
            flipped[i] = any(np.nansum(sg[c] * self.ref_sign[c]) < 0 for c in sg)
        return draws, failed, flipped


def _refit_from_indices(engine: Any, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return engine.stats(_counts(idx, engine.n))


# process-pool plumbing (CB-SEM): the engine is sent once per worker
_WORKER_ENGINE: Any = None


def _init_worker(engine: Any) -> None:
    global _WORKER_ENGINE
    _WORKER_ENGINE = engine


def _worker_chunk(seed: int, n_boot: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eng = _WORKER_ENGINE
    return eng.stats(_counts(resample_indices(eng.n, n_boot, seed, start=start, stop=stop), eng.n))


def _worker_jack(start: int, stop: int, groups: np.ndarray | None) -> np.ndarray:
    eng = _WORKER_ENGINE
    return eng.stats(_jackknife_counts(eng.n, start, stop, groups))[0]


# ---------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------
def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of ``draws`` (NaN rows ignored).

    Returns
    -------
    (lower, upper) : tuple of ndarray, shape (k,)
    """
    a = (1.0 - level) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q = np.nanquantile(draws, [a, 1.0 - a], axis=0)
    return q[0], q[1]


def bca_interval(draws: np.ndarray, theta: np.ndarray, jack: np.ndarray,
                 level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated interval (Efron 1987) per column.

    Parameters
    ----------
    draws : ndarray (B, k)
        Bootstrap draws (NaN rows are failed resamples, ignored).
    theta : ndarray (k,)
        Full-sample estimates.
    jack : ndarray (n, k)
        Jackknife (leave-one-out or grouped) estimates.
    level : float

    Returns
    -------
    (lower, upper) : tuple of ndarray, shape (k,)
        NaN where the bias correction is infinite (every draw on one side).
    """
    ok = np.isfinite(draws)
    nb = ok.sum(axis=0)
    below = np.where(ok, draws < theta, False).sum(axis=0) + 0.5 * np.where(ok, draws == theta, False).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = sps.norm.ppf(below / nb)
        d = np.nanmean(jack, axis=0) - jack
        acc = np.nansum(d ** 3, axis=0) / (6.0 * np.nansum(d ** 2, axis=0) ** 1.5)
    acc = np.where(np.isfinite(acc), acc, 0.0)
    za = sps.norm.ppf([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    out = []
    for z in za:
        with np.errstate(divide="ignore", invalid="ignore"):
            p = sps.norm.cdf(z0 + (z0 + z) / (1.0 - acc * (z0 + z)))
        q = np.full(draws.shape[1], np.nan)
        for j in range(draws.shape[1]):
            if np.isfinite(p[j]) and nb[j] > 0:
                q[j] = np.quantile(draws[ok[:, j], j], p[j])
        out.append(q)
    return out[0], out[1]


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BootstrapResults:
    """Bootstrap of a fit.

    Attributes
    ----------
    results : Results
        The full-sample fit.
    keys : DataFrame
        One row per bootstrapped statistic: ``group`` (estimates, effects,
        r2, index, htmt, specific, statistics), ``lhs, op, rhs``.
    theta : ndarray (k,)
        Full-sample value of each statistic.
    draws : ndarray (n_boot, k)
        Every resample's statistics; failed resamples are NaN rows.
    failed, sign_flipped : ndarray of bool (n_boot,)
    jackknife : ndarray (n, k) or None
        Jackknife estimates (BCa).
    seed : int
        The seed actually used.
    ci : str
        ``"percentile"`` or ``"bca"``.
    level : float
    elapsed : float
        Seconds spent.
    engine : str
        ``"pls-batched"``, ``"cbsem-batched"`` or ``"loop"``.
    """

    results: Any
    keys: pd.DataFrame
    theta: np.ndarray
    draws: np.ndarray
    failed: np.ndarray
    sign_flipped: np.ndarray
    jackknife: np.ndarray | None
    seed: int
    ci: str
    level: float
    elapsed: float = 0.0
    engine: str = ""
    n_jobs: int = 1
    _table: pd.DataFrame = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", self.conf_int())

    @property
    def n_boot(self) -> int:
        return int(self.draws.shape[0])

    @property
    def n_failed(self) -> int:
        return int(self.failed.sum())

    @property
    def n_sign_flipped(self) -> int:
        return int(self.sign_flipped.sum())

    @property
    def n_successful(self) -> int:
        return self.n_boot - self.n_failed

    def conf_int(self, level: float | None = None, ci: str | None = None) -> pd.DataFrame:
        """Every statistic with its bootstrap standard error and interval.

        Parameters
        ----------
        level : float, optional
            Confidence level (default: the bootstrap's).
        ci : {"percentile", "bca"}, optional
            Interval method (default: the bootstrap's; ``"bca"`` needs the
            jackknife, computed when the bootstrap was run with ``ci="bca"``).

        Returns
        -------
        DataFrame
            Columns ``group, lhs, op, rhs, est, se, z, pvalue, ci_lower,
            ci_upper, n_ok`` (``n_ok`` = successful resamples used).
        """
        level = self.level if level is None else float(level)
        ci = self.ci if ci is None else ci
        _check_ci(ci, level)
        d = self.draws
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(d, axis=0, ddof=1) if d.shape[0] > 1 else np.full(d.shape[1], np.nan)
        if ci == "bca":
            if self.jackknife is None:
                raise EstimationError("BCa intervals need the jackknife, which this bootstrap did not compute",
                                      hint='run csm.bootstrap(..., ci="bca")')
            lo, hi = bca_interval(d, self.theta, self.jackknife, level)
        else:
            lo, hi = percentile_interval(d, level)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.theta / se
        p = 2.0 * sps.norm.sf(np.abs(z))
        out = self.keys.copy()
        out["est"] = self.theta
        out["se"] = se
        out["z"] = z
        out["pvalue"] = p
        out["ci_lower"] = lo
        out["ci_upper"] = hi
        out["n_ok"] = np.isfinite(d).sum(axis=0)
        return out

    def _group(self, g: str) -> pd.DataFrame:
        t = self._table
        return t[t["group"] == g].reset_index(drop=True)

    @property
    def table(self) -> pd.DataFrame:
        """All statistics (see :meth:`conf_int`)."""
        return self._table.copy()

    @property
    def estimates(self) -> pd.DataFrame:
        """The fit's estimates with bootstrap ``se``, ``z``, ``pvalue``,
        ``ci_lower``, ``ci_upper`` (columns as ``Results.estimates``; rows not
        bootstrapped keep the fit's values)."""
        est = self.results.estimates
        g = self._group("estimates").set_index(["lhs", "op", "rhs"])
        key = pd.MultiIndex.from_arrays([est["lhs"], est["op"], est["rhs"]])
        hit = key.isin(g.index)
        for c in ("se", "z", "pvalue", "ci_lower", "ci_upper"):
            vals = g[c].reindex(key[hit]).to_numpy()
            col = est[c].to_numpy(dtype=float, copy=True)
            col[hit] = vals
            est[c] = col
        return est

    @property
    def paths(self) -> pd.DataFrame:
        """Structural paths of :attr:`estimates` (interaction terms included)."""
        e = self.estimates
        spec = self.results.spec
        names = set(spec.construct_names)
        rhs_ok = e["rhs"].isin(names | set(spec.interactions))
        return e[(e["op"] == "~") & e["lhs"].isin(names) & rhs_ok].reset_index(drop=True)

    @property
    def index(self) -> pd.DataFrame:
        """Columns ``construct, index, se, ci_lower, ci_upper``."""
        g = self._group("index")
        return pd.DataFrame({"construct": g["lhs"], "index": g["est"], "se": g["se"],
                             "ci_lower": g["ci_lower"], "ci_upper": g["ci_upper"]})

    @property
    def r2(self) -> pd.DataFrame:
        """Columns ``construct, r2, se, ci_lower, ci_upper``."""
        g = self._group("r2")
        return pd.DataFrame({"construct": g["lhs"], "r2": g["est"], "se": g["se"],
                             "ci_lower": g["ci_lower"], "ci_upper": g["ci_upper"]})

    @property
    def htmt(self) -> pd.DataFrame:
        """Columns ``lhs, rhs, htmt, se, ci_lower, ci_upper``."""
        g = self._group("htmt")
        return pd.DataFrame({"lhs": g["lhs"], "rhs": g["rhs"], "htmt": g["est"], "se": g["se"],
                             "ci_lower": g["ci_lower"], "ci_upper": g["ci_upper"]})

    @property
    def effects(self) -> pd.DataFrame:
        """Columns ``lhs, rhs, direct, indirect, total`` and for each of
        ``direct, indirect, total`` its ``_se, _ci_lower, _ci_upper``."""
        eff = self.results.effects[["lhs", "rhs", "direct", "indirect", "total"]].copy()
        g = self._group("effects").set_index(["lhs", "op", "rhs"])
        p = self._group("estimates")
        p = p[p["op"] == "~"].set_index(["lhs", "rhs"])
        for kind in ("direct", "indirect", "total"):
            for c in ("se", "ci_lower", "ci_upper"):
                if kind == "direct":
                    vals = [p[c].get((l, r), np.nan) for l, r in zip(eff["lhs"], eff["rhs"])]
                else:
                    vals = [g[c].get((l, kind, r), np.nan) for l, r in zip(eff["lhs"], eff["rhs"])]
                eff[f"{kind}_{c}"] = np.asarray(vals, dtype=float)
        return eff

    @property
    def specific_effects(self) -> pd.DataFrame:
        """Specific indirect effects with bootstrap intervals from the same
        draws as every other statistic: the columns of
        :attr:`Results.specific_effects` (``path, from, to, n_mediators,
        est``) and ``se, ci_lower, ci_upper, pvalue`` (NaN when the bootstrap
        was run without the ``"specific"`` statistics)."""
        sp = self.results.specific_effects
        g = self._group("specific").set_index("lhs")
        for c in ("se", "ci_lower", "ci_upper", "pvalue"):
            sp[c] = g[c].reindex(sp["path"]).to_numpy(dtype=float) if len(g) else np.nan
        return sp

    @property
    def statistics(self) -> pd.DataFrame:
        """User statistics (``statistics=`` callable): ``name, est, se,
        ci_lower, ci_upper``."""
        g = self._group("statistics")
        return pd.DataFrame({"name": g["lhs"], "est": g["est"], "se": g["se"],
                             "ci_lower": g["ci_lower"], "ci_upper": g["ci_upper"]})

    def summary(self) -> "BootstrapSummary":
        """Text / HTML summary (renders in a notebook; ``str()`` for text)."""
        return BootstrapSummary(self)

    def __repr__(self) -> str:
        return (f"<BootstrapResults {self.engine}: {self.n_boot} resamples, seed={self.seed}, "
                f"{self.ci} {self.level:.0%}, failed={self.n_failed}, sign-flipped={self.n_sign_flipped}>")


class BootstrapSummary(SectionedSummary):
    """Summary of a :class:`BootstrapResults`: how the bootstrap ended, then
    the intervals."""

    def __init__(self, boot: BootstrapResults) -> None:
        self.boot = boot

    def _sections(self) -> list[tuple[str, Any]]:
        b = self.boot
        head = (f"Bootstrap of a {b.results.method} fit: {b.n_boot} resamples of n={b.results.n_obs}, "
                f"seed {b.seed}, {b.ci} intervals at {b.level:.0%}.\n"
                f"Failed resamples (excluded from the intervals): {b.n_failed}; "
                f"successful: {b.n_successful}; sign-flipped (kept): {b.n_sign_flipped}.\n"
                f"Engine: {b.engine}, {b.elapsed:.2f} s.")
        secs: list[tuple[str, Any]] = [("", head)]
        cols = ["lhs", "op", "rhs", "est", "se", "pvalue", "ci_lower", "ci_upper"]
        e = b.estimates
        for title, op in (("Structural paths", "~"), ("Weights", "<~"), ("Loadings", "=~"), ("Defined", ":=")):
            f = e[e["op"] == op]
            if len(f) and f["se"].notna().any():
                secs.append((title, f[cols]))
        eff = b.effects
        if len(eff):
            secs.append(("Total effects", eff[["lhs", "rhs", "total", "total_se", "total_ci_lower", "total_ci_upper"]]))
        if (b.keys["group"] == "specific").any():
            secs.append(("Specific indirect effects", b.specific_effects[["path", "est", "se", "ci_lower", "ci_upper"]]))
        for title, frame in (("R-squared", b.r2), ("Satisfaction index", b.index), ("HTMT", b.htmt),
                             ("Statistics", b.statistics)):
            if len(frame):
                secs.append((title, frame))
        return secs


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------
def warn_failed(failed: np.ndarray, stacklevel: int = 3) -> None:
    """Warn that resamples failed (an :class:`EstimationWarning` pointing at
    the caller of :func:`bootstrap`); nothing when none did."""
    if failed.any():
        warnings.warn(f"{int(failed.sum())} of {failed.shape[0]} bootstrap resamples failed (not "
                      "converged or not estimable); the intervals use the other resamples",
                      EstimationWarning, stacklevel=stacklevel)


def _check_ci(ci: str, level: float) -> None:
    if ci not in CI_METHODS:
        raise SpecError(f"unknown interval method ci={ci!r}", values=[ci],
                        hint='use ci="percentile" or ci="bca"')
    if not (0.0 < level < 1.0):
        raise SpecError(f"level must be between 0 and 1, got {level!r}", values=[level],
                        hint="e.g. level=0.95")


def _run_chunks(engine: Any, tasks: list[tuple[int, int]], fn_local: Callable, fn_worker: Callable,
                worker_args: Callable, n_jobs: int, processes: bool) -> list:
    if n_jobs <= 1 or len(tasks) <= 1:
        return [fn_local(a, b) for a, b in tasks]
    if processes:
        import multiprocessing as mp

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(engine,)) as ex:
            return list(ex.map(fn_worker, *zip(*[worker_args(a, b) for a, b in tasks])))
    with ThreadPoolExecutor(n_jobs) as ex:
        return list(ex.map(lambda t: fn_local(*t), tasks))


def bootstrap(
    results: Any,
    n_boot: int = 5000,
    seed: int | None = None,
    ci: str = "percentile",
    level: float = 0.95,
    *,
    n_jobs: int = 2,
    statistics: Sequence[str] | Callable[[Any], Any] | None = None,
    scale_limits: Any = None,
    chunk_size: int | None = None,
    engine: str = "auto",
    backend: str = "auto",
) -> BootstrapResults:
    """Bootstrap a fit: resample respondents with replacement and refit.

    Parameters
    ----------
    results : Results
        A PLS (:func:`csmlib.fit_pls`) or CB-SEM (:func:`csmlib.fit_cbsem`) fit.
    n_boot : int
        Number of resamples.
    seed : int, optional
        Seed; drawn from fresh entropy and recorded when None.
    ci : {"percentile", "bca"}
        Interval method (``"bca"`` also computes the jackknife).
    level : float
        Confidence level.
    n_jobs : int
        Parallel workers (threads for batched PLS, processes otherwise).
    statistics : sequence of str or callable, optional
        Which groups to bootstrap, among ``"estimates"`` (paths, weights,
        loadings, defined), ``"effects"`` (indirect and total),
        ``"specific"`` (every specific indirect effect, one per chain of
        paths with a mediator), ``"r2"``,
        ``"index"`` (every construct whose items have scale limits),
        ``"htmt"`` (default: all); or a function ``Results -> dict/Series``
        of named numbers, refitted per resample (slow path).
    scale_limits : DataFrame or dict, optional
        Theoretical item limits for the index, if the fit has none.
    chunk_size : int, optional
        Resamples per batch (default: bounded by memory, a multiple of 250).
    engine : {"auto", "batched", "loop"}
        ``"auto"``: batched for the standard statistics (PLS: the batched
        core; CB-SEM: warm-started batched ML refits, for complete-data or
        listwise fits), loop (one full refit per resample) for a
        ``statistics`` function and FIML fits with missing data.
    backend : {"auto", "threads", "processes"}
        How ``n_jobs`` workers run: ``"auto"`` uses threads for the batched
        engines and (forked) processes for per-resample refits.

    Returns
    -------
    BootstrapResults
        ``.estimates, .paths, .effects, .specific_effects, .r2, .index,
        .htmt`` with ``se``,
        ``ci_lower``, ``ci_upper``; ``.draws``, ``.n_failed``,
        ``.n_sign_flipped``, ``.seed``, ``.summary()``.
    """
    t0 = time.perf_counter()
    _check_ci(ci, level)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise SpecError(f"n_boot must be an integer of at least 2, got {n_boot!r}", values=[n_boot],
                        hint="use e.g. n_boot=5000")
    n_jobs = max(1, int(n_jobs))
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 63))
    seed = int(seed)
    if callable(statistics):
        groups: tuple[str, ...] = ()
        user_fn = statistics
    else:
        groups = tuple(GROUPS if statistics is None else statistics)
        bad = [g for g in groups if g not in GROUPS]
        if bad:
            raise SpecError(f"unknown statistics group(s): {', '.join(map(str, bad))}", values=bad,
                            hint=f"use any of: {', '.join(GROUPS)}, or a function of a Results")
        user_fn = None
    method = getattr(results, "method", None)
    if method not in ("pls", "cbsem"):
        raise SpecError("bootstrap needs the results of csm.fit_pls or csm.fit_cbsem",
                        values=[type(results).__name__])
    if engine not in ("auto", "batched", "loop"):
        raise SpecError(f"unknown engine {engine!r}", values=[engine], hint='use "auto", "batched" or "loop"')
    if backend not in ("auto", "threads", "processes"):
        raise SpecError(f"unknown backend {backend!r}", values=[backend],
                        hint='use "auto", "threads" or "processes"')
    if engine == "batched" and user_fn is not None:
        raise SpecError('engine="batched" works for the standard statistics only, not a function',
                        hint='use engine="loop"')
    if isinstance(results, CbsemResults) and (results.options or {}).get("weights") is not None:
        raise SpecError("bootstrapping a survey-weighted CB-SEM fit is not implemented: the resamples "
                        "would be refitted without the weights",
                        values=[results.options["weights"]],
                        hint="read the robust (MLR) standard errors of the weighted fit, or bootstrap "
                             "an unweighted fit")
    if isinstance(results, CbsemResults) and len((results.extra or {}).get("groups", ())) > 1:
        # the loop engine would refit the pooled rows as one group (its refit has no group=)
        raise EstimationError("the bootstrap of a multi-group fit is not available",
                              hint="bootstrap each group's own fit (fit_cbsem on that group's rows)")
    eng: Any = None
    if user_fn is None and engine in ("auto", "batched"):
        eng = results.bootstrap_engine(groups, scale_limits, engine)
    use_batched = eng is not None
    if eng is None:
        eng = _LoopEngine(results, groups, scale_limits, user_fn)
    theta = eng.stats(np.ones((1, eng.n)))[0][0]
    n = eng.n
    if chunk_size is None:
        if use_batched:
            p = eng.X.shape[1]
            fit_mem = BLOCK * (n + 12 * p * p) * 8            # bytes per block of resamples
            max_blocks = max(1, int(200e6 // fit_mem))
            per_job = -(-n_boot // (BLOCK * n_jobs))          # blocks per worker
            chunk_size = BLOCK * max(1, min(max_blocks, per_job))
        else:
            chunk_size = max(1, -(-n_boot // (4 * n_jobs)))
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise SpecError(f"chunk_size must be positive, got {chunk_size}", values=[chunk_size])
    tasks = [(a, min(a + chunk_size, n_boot)) for a in range(0, n_boot, chunk_size)]
    processes = backend == "processes" or (backend == "auto" and not use_batched)

    def local(a: int, b: int) -> tuple:
        return eng.stats(_counts(resample_indices(n, n_boot, seed, start=a, stop=b), n))

    parts = _run_chunks(eng, tasks, local, _worker_chunk, lambda a, b: (seed, n_boot, a, b),
                        n_jobs, processes)
    draws = np.concatenate([p[0] for p in parts])
    failed = np.concatenate([p[1] for p in parts])
    flipped = np.concatenate([p[2] for p in parts])

    jack = None
    if ci == "bca":
        groups_arr = None
        m = n
        if n > 1000:
            m = 1000
            groups_arr = np.arange(n) % m
            _block_rng(seed, 10 ** 9).shuffle(groups_arr)
        jsize = max(1, chunk_size if use_batched else chunk_size)
        jt = [(a, min(a + jsize, m)) for a in range(0, m, jsize)]
        jparts = _run_chunks(eng, jt, lambda a, b: eng.stats(_jackknife_counts(n, a, b, groups_arr))[0],
                             _worker_jack, lambda a, b: (a, b, groups_arr), n_jobs, processes)
        jack = np.concatenate(jparts)
    warn_failed(failed)
    return BootstrapResults(
        results=results, keys=eng.keys.reset_index(drop=True), theta=np.asarray(theta, float),
        draws=draws, failed=failed, sign_flipped=flipped, jackknife=jack, seed=seed, ci=ci,
        level=float(level), elapsed=time.perf_counter() - t0, engine=eng.name, n_jobs=n_jobs,
    )
