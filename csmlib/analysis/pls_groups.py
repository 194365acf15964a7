"""PLS group comparisons: MICOM and the permutation test of path differences.

Before comparing PLS results of two groups (two segments, two waves) the
composites must mean the same thing in both.  :func:`micom` runs the
three-step *measurement invariance of composites* procedure of Henseler,
Ringle & Sarstedt (2016); :func:`permutation_test` tests the difference of
every structural path between the groups (Chin & Dibbern 2010).

Definitions
-----------
Groups ``a`` and ``b`` (the two values of the group column, in sorted order
unless ``groups`` is given).  Items are standardized *within* each group to
estimate the group weights (SmartPLS' default), and on the *pooled* data
for everything computed on the pooled data.

Step 1, configural invariance
    Same model, same items, same algorithm settings in both groups.  Both
    groups are estimated from one specification here, so step 1 holds by
    construction and is reported as satisfied.
Step 2, compositional invariance
    For every construct ``j`` with outer weights ``w_a`` and ``w_b``
    (estimated in each group, on group-standardized items), ``c_j`` is the
    correlation, over the pooled respondents, of the composites ``Z_j w_a``
    and ``Z_j w_b`` where ``Z_j`` holds the block's items standardized on
    the pooled data:
    ``c = w_a' R w_b / sqrt(w_a' R w_a * w_b' R w_b)`` with ``R`` the pooled
    correlation matrix of the block.  Under random relabelling of the
    respondents (group sizes kept) the weights are re-estimated in both
    permuted groups; compositional invariance holds when ``c`` is at least
    the ``alpha`` quantile of the permuted ``c`` (one-sided).  A single-item
    construct has ``c = 1`` by definition.
Step 3, equality of composite means and variances
    Composite scores from the pooled fit (pooled weights on
    pooled-standardized items; mean 0, variance 1 over the pooled data).
    ``mean_diff = mean_a - mean_b`` and ``logvar_diff = log(var_a) -
    log(var_b)``; each is compared with its permutation distribution:
    equality holds when the observed difference lies inside the central
    ``1 - alpha`` permutation interval.
Verdict (Henseler et al. 2016)
    ``"full"`` (compositional invariance and equal means and variances:
    the groups may be pooled), ``"partial"`` (compositional invariance only:
    group-specific paths may be compared), ``"none"``.

Permutation p-values are ``(1 + #{permuted statistic at least as extreme})
/ (1 + number of successful permutations)`` (never 0).  Permutations whose
PLS estimation fails in a permuted group (a constant item, a singular
block) are counted in ``n_failed`` and left out.

Speed: PLS depends on the data only through the item covariance matrix, and
a relabelling changes only which rows enter each group's sums.  Each block
of permutations gives the group moments by two matrix products, and the
batched core :func:`csmlib.estimate.pls_core.pls_core` estimates all permuted groups
in lockstep.

Seeding: the relabellings come from ``numpy.random.SeedSequence(seed)``
(block ``j`` of 250 permutations uses the child ``spawn_key=(j,)``), so
:func:`permutation_groups` regenerates them; ``seed=None`` draws a seed from
fresh entropy and records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..estimate.prepare import check_pls_missing, input_frame, prepare_input
from ..privacy import quote
from ..errors import DataError, SpecError
from ..estimate.pls import check_pls_model, check_recursive
from ..estimate.pls_core import CompiledSpec, compile_spec, pls_core
from ..spec.modelspec import ModelSpec
from .tracking import DEFAULT_MIN_BASE, check_min_base

__all__ = [
    "micom",
    "permutation_test",
    "permutation_groups",
    "MicomResults",
    "PermutationResults",
    "BLOCK",
]

#: permutations per independently seeded block (part of reproducibility)
BLOCK = 250


# ---------------------------------------------------------------------------
# data and groups
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Groups:
    X: np.ndarray            # (n, p) items in cs.items order, complete rows
    in_a: np.ndarray         # (n,) bool, True for group a
    labels: tuple[Any, Any]
    column: str
    info: dict
    cs: CompiledSpec


def _split(spec: ModelSpec, data: Any, group: Any, groups: Sequence[Any] | None,
           min_base: int, scheme: str, what: str, missing: str = "listwise") -> _Groups:
    treatment = check_pls_missing(missing)
    check_pls_model(spec, what, scheme)
    check_recursive(spec)
    cs = compile_spec(spec)
    frame, file, _ = input_frame(data, what)
    if isinstance(group, str):
        if group not in frame.columns:
            raise DataError(f"the group column {group!r} is not in the data", file=file, column=group,
                            hint="name a column of the data that holds the two groups")
        g = frame[group]
        column = group
    else:
        g = pd.Series(np.asarray(group, dtype=object), index=frame.index)
        column = "group"
        if len(g) != len(frame):
            raise DataError(f"the group labels have {len(g)} entries for {len(frame)} rows",
                            file=file, hint="give one group label per row")
    present = list(pd.unique(g.dropna()))
    if groups is None:
        if len(present) != 2:
            raise DataError(f"{what} compares exactly two groups; column {column!r} holds "
                            f"{len(present)}", file=file, column=column, values=present[:10],
                            hint="pass groups=(a, b) to choose two of them")
        labels = tuple(sorted(present, key=str))
    else:
        labels = tuple(groups)
        if len(labels) != 2 or labels[0] == labels[1]:
            raise DataError("groups must name two different groups", column=column, values=list(labels),
                            hint="pass groups=(a, b)")
        absent = [v for v in labels if v not in present]
        if absent:
            raise DataError("group(s) not found in the data", file=file, column=column, values=absent,
                            hint=f"use values of the column, e.g. {present[:5]}")
    keep = g.isin(labels).to_numpy()
    # the two groups' rows only: "mean" replaces by the two groups' pooled item means
    inp = prepare_input(spec, data, missing=treatment, rows=keep, what=what)
    X = inp.X
    in_a = (g.iloc[inp.positions] == labels[0]).to_numpy()
    info = {"rows_read": int(len(frame)), "rows_other_groups_or_no_group": int((~keep).sum()),
            "rows_missing_items": int(inp.info["dropped"].get("missing values (listwise deletion)", 0)),
            "rows_used": int(len(X)), "mean_replaced": int(inp.info.get("mean_replaced", 0))}
    sizes = {labels[0]: int(in_a.sum()), labels[1]: int((~in_a).sum())}
    check_min_base(sizes, min_base=min_base, column=column, file=file)
    for lab, mask in ((labels[0], in_a), (labels[1], ~in_a)):
        sd = X[mask].std(axis=0, ddof=1)
        zero = [cs.items[i] for i in np.flatnonzero(~(sd > 0))]
        if zero:
            raise DataError(f"{len(zero)} item(s) have zero variance in group {quote(lab)} "
                            "(every respondent of the group gave the same answer)",
                            file=file, column=zero, values=[lab],
                            hint="drop the constant item(s) from the model or compare other groups")
    return _Groups(X=X, in_a=in_a, labels=labels, column=column, info=info, cs=cs)


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise SpecError(f"seed must be a non-negative integer or None, got {seed!r}", values=[seed])
    return int(seed)


def _check_n_perm(n_perm: Any) -> int:
    if isinstance(n_perm, bool) or int(n_perm) != n_perm or n_perm < 1:
        raise SpecError(f"n_perm must be a positive integer, got {n_perm!r}", values=[n_perm])
    return int(n_perm)


def permutation_groups(n: int, n_a: int, n_perm: int, seed: int, *, start: int = 0,
                       stop: int | None = None) -> np.ndarray:
    """Group-``a`` membership of permutations ``start .. stop-1``.

    Parameters
    ----------
    n : int
        Respondents used (both groups, complete rows, in data order).
    n_a : int
        Size of group ``a`` (kept in every permutation).
    n_perm, seed : int
        As given to (or recorded by) :func:`micom` / :func:`permutation_test`.

    Returns
    -------
    ndarray of bool, shape (stop - start, n)
        True where a respondent is in permuted group ``a``.
    """
    stop = n_perm if stop is None else stop
    out = np.zeros((max(stop - start, 0), n), dtype=bool)
    if stop <= start:
        return out
    row = 0
    for j in range(start // BLOCK, (stop - 1) // BLOCK + 1):
        b0 = j * BLOCK
        size = min(BLOCK, n_perm - b0)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))
        perms = np.argsort(rng.random((size, n)), axis=1)[:, :n_a]
        lo, hi = max(start - b0, 0), min(stop - b0, size)
        for r in range(lo, hi):
            out[row, perms[r]] = True
            row += 1
    return out


# ---------------------------------------------------------------------------
# batched group fits
# ---------------------------------------------------------------------------
class _GroupMoments:
    """Correlation matrices of the two groups defined by membership masks."""

    def __init__(self, X: np.ndarray) -> None:
        self.n, self.p = X.shape
        self.Xc = X - X.mean(axis=0)
        self.O = ((self.Xc[:, :, None] * self.Xc[:, None, :]).reshape(self.n, self.p * self.p)
                  if self.n * self.p * self.p <= 25_000_000 else None)
        self.s_tot = self.Xc.sum(axis=0)
        self.O_tot = self.Xc.T @ self.Xc

    def _cross(self, A: np.ndarray) -> np.ndarray:
        b = A.shape[0]
        if self.O is not None:
            return (A @ self.O).reshape(b, self.p, self.p)
        out = np.empty((b, self.p, self.p))
        for i in range(b):
            out[i] = (self.Xc.T * A[i]) @ self.Xc
        return out

    def correlations(self, in_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, n) bool -> correlation matrices of groups a and b, each (B, p, p)."""
        A = in_a.astype(float)
        n_a = A.sum(axis=1)
        n_b = self.n - n_a
        s_a = A @ self.Xc
        O_a = self._cross(A)
        s_b = self.s_tot - s_a
        O_b = self.O_tot - O_a
        out = []
        for s, O, m in ((s_a, O_a, n_a), (s_b, O_b, n_b)):
            cov = (O - s[:, :, None] * s[:, None, :] / m[:, None, None]) / (m - 1)[:, None, None]
            sd = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append(cov / sd[:, :, None] / sd[:, None, :])
        return out[0], out[1]


def _fit_stack(R: np.ndarray, cs: CompiledSpec, scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PLS on a stack of correlation matrices -> weights (B, p), paths (B, k, k), failed (B,)."""
    bad = ~np.isfinite(R).all(axis=(1, 2))
    if bad.any():
        R = R.copy()
        R[bad] = np.eye(R.shape[1])
    out = pls_core(R, cs, scheme)
    failed = bad | out.failed
    w, paths = out.weights.copy(), out.paths.copy()
    w[failed] = np.nan
    paths[failed] = np.nan
    return w, paths, failed


def _group_fits(grp: _Groups, n_perm: int, seed: int, scheme: str):
    """Observed and permuted group fits: yields (masks, wa, wb, pa, pb, failed) per chunk;
    the first chunk is the observed grouping (one row)."""
    mom = _GroupMoments(grp.X)
    n, n_a = len(grp.X), int(grp.in_a.sum())
    chunks = [grp.in_a[None, :]]
    chunks += [(s, min(s + BLOCK, n_perm)) for s in range(0, n_perm, BLOCK)]
    for ch in chunks:
        masks = ch if isinstance(ch, np.ndarray) else permutation_groups(n, n_a, n_perm, seed,
                                                                          start=ch[0], stop=ch[1])
        Ra, Rb = mom.correlations(masks)
        B = masks.shape[0]
        w, paths, failed = _fit_stack(np.concatenate([Ra, Rb]), grp.cs, scheme)
        yield (masks, w[:B], w[B:], paths[:B], paths[B:], failed[:B] | failed[B:])


def _composite_corr(wa: np.ndarray, wb: np.ndarray, R: np.ndarray, cs: CompiledSpec) -> np.ndarray:
    """c per construct (B, k) from group weights (B, p) and the pooled correlation matrix."""
    B = wa.shape[0]
    c = np.full((B, cs.k), np.nan)
    for j, b in enumerate(cs.blocks):
        if cs.modes[j] == "single":
            c[:, j] = 1.0
            continue
        Rj = R[np.ix_(b, b)]
        a, bb = wa[:, b], wb[:, b]
        num = np.einsum("bi,ij,bj->b", a, Rj, bb)
        va = np.einsum("bi,ij,bj->b", a, Rj, a)
        vb = np.einsum("bi,ij,bj->b", bb, Rj, bb)
        with np.errstate(invalid="ignore", divide="ignore"):
            c[:, j] = num / np.sqrt(va * vb)
    return c


def _pvalue_two_sided(obs: np.ndarray, perm: np.ndarray) -> np.ndarray:
    ok = np.isfinite(perm)
    extreme = (np.abs(perm) >= np.abs(obs)[None, :] - 1e-12) & ok
    return (1.0 + extreme.sum(axis=0)) / (1.0 + ok.sum(axis=0))


def _quantiles(perm: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    out = np.full((len(qs), perm.shape[1]), np.nan)
    for j in range(perm.shape[1]):
        x = perm[:, j]
        x = x[np.isfinite(x)]
        if len(x):
            out[:, j] = np.quantile(x, qs)
    return out


# ---------------------------------------------------------------------------
# MICOM
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MicomResults:
    """Result of :func:`micom`.

    Attributes
    ----------
    configural : DataFrame
        ``construct, satisfied, note`` -- step 1 (satisfied by construction).
    compositional : DataFrame
        ``construct, c, c_quantile, pvalue, invariant`` -- step 2: the
        correlation ``c`` of the composites built with either group's
        weights, the ``alpha`` quantile of its permutation distribution,
        the one-sided permutation p-value (share of permuted ``c`` at or
        below the observed one) and ``c >= c_quantile``.
    means : DataFrame
        ``construct, mean_a, mean_b, diff, ci_lower, ci_upper, pvalue, equal``
        -- step 3a on pooled-weight, pooled-standardized composite scores:
        ``diff = mean_a - mean_b``, the central ``1 - alpha`` permutation
        interval, the two-sided permutation p-value, ``equal`` when the
        interval contains ``diff``.
    variances : DataFrame
        ``construct, var_a, var_b, diff, ci_lower, ci_upper, pvalue, equal``
        -- step 3b with ``diff = log(var_a) - log(var_b)``.
    summary : DataFrame
        ``construct, configural, compositional, equal_means, equal_variances,
        invariance`` with ``invariance`` one of ``"full"``, ``"partial"``,
        ``"none"``.
    groups : tuple
        The labels of groups ``a`` and ``b``.
    n : dict
        Group label -> respondents used.
    group_column : str
    n_perm, n_failed : int
        Permutations run, and those left out because a permuted group
        could not be estimated.
    seed : int
        The seed used (regenerate the relabellings with
        :func:`permutation_groups`).
    alpha : float
    scheme : str
    c_perm, mean_perm, logvar_perm : ndarray (n_perm, k)
        Permutation draws (NaN for failed permutations), constructs in
        spec order.
    data_info : dict
        Rows read, dropped (other groups, missing items) and used.
    """

    configural: pd.DataFrame
    compositional: pd.DataFrame
    means: pd.DataFrame
    variances: pd.DataFrame
    summary: pd.DataFrame
    groups: tuple
    n: dict
    group_column: str
    n_perm: int
    n_failed: int
    seed: int
    alpha: float
    scheme: str
    c_perm: np.ndarray = field(repr=False)
    mean_perm: np.ndarray = field(repr=False)
    logvar_perm: np.ndarray = field(repr=False)
    data_info: dict = field(default_factory=dict)


def micom(spec: ModelSpec, data: Any, group: Any, *, n_perm: int = 1000, seed: int | None = None,
          scheme: str = "path", alpha: float = 0.05, groups: Sequence[Any] | None = None,
          min_base: int = DEFAULT_MIN_BASE, missing: str = "listwise") -> MicomResults:
    """Measurement invariance of composites (Henseler, Ringle & Sarstedt 2016).

    Parameters
    ----------
    spec : ModelSpec
        The PLS model (the same for both groups).
    data : DataFrame or Survey
        Items and the group column; rows with a missing item or group are
        left out (counted in ``data_info``).
    group : str or array-like
        The column holding the groups, or one label per row.
    n_perm : int
        Random relabellings (Henseler et al. recommend 5000 for a final
        assessment).
    seed : int, optional
        Seed of the relabellings; drawn from fresh entropy and recorded
        when None.
    scheme : {"path", "centroid", "factorial"}
        Inner weighting scheme.
    alpha : float
        Significance level (step 2: the ``alpha`` quantile; step 3: the
        central ``1 - alpha`` interval).
    groups : pair, optional
        Which two groups to compare when the column holds more.
    min_base : int
        Each group needs at least this many complete respondents, else
        :class:`~csmlib.errors.DataError` naming the group and its n.
    missing : {"listwise", "mean"}
        As :func:`csmlib.fit_pls`; ``"mean"`` uses the two groups' pooled
        item means.

    Returns
    -------
    MicomResults
        Tidy frames per step (see the class); the module docstring defines
        every statistic.
    """
    n_perm = _check_n_perm(n_perm)
    seed = _resolve_seed(seed)
    if not 0 < alpha < 0.5:
        raise SpecError(f"alpha must be in (0, 0.5), got {alpha!r}", values=[alpha])
    grp = _split(spec, data, group, groups, min_base, scheme, "MICOM", missing)
    cs, X = grp.cs, grp.X
    n, k = X.shape[0], cs.k
    names = list(cs.names)
    # pooled quantities (unchanged by relabelling)
    mu, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
    Z = (X - mu) / sd
    R = (Z.T @ Z) / (n - 1)
    w_pool, _, failed_pool = _fit_stack(R[None], cs, scheme)
    if failed_pool[0]:
        from ..errors import EstimationError
        raise EstimationError("PLS estimation on the pooled data failed (collinear scores or a degenerate block)",
                              hint="check the model on the pooled data with csm.fit_pls first")
    Y = Z @ (w_pool[0][:, None] * cs.M)          # (n, k) pooled composite scores
    Y2 = Y * Y

    def mean_var(masks: np.ndarray) -> tuple[np.ndarray, ...]:
        A = masks.astype(float)
        na = A.sum(axis=1)[:, None]
        nb = n - na
        sa, sb = A @ Y, Y.sum(axis=0) - A @ Y
        qa, qb = A @ Y2, Y2.sum(axis=0) - A @ Y2
        ma, mb = sa / na, sb / nb
        va, vb = (qa - na * ma ** 2) / (na - 1), (qb - nb * mb ** 2) / (nb - 1)
        return ma, mb, va, vb

    c_all, m_all, v_all, fail_all = [], [], [], []
    for masks, wa, wb, _, _, failed in _group_fits(grp, n_perm, seed, scheme):
        c = _composite_corr(wa, wb, R, cs)
        ma, mb, va, vb = mean_var(masks)
        with np.errstate(divide="ignore", invalid="ignore"):
            lv = np.log(va) - np.log(vb)
        c[failed] = np.nan
        c_all.append(c)
        m_all.append(ma - mb)
        v_all.append(lv)
        fail_all.append(failed)
    c_obs, c_perm = c_all[0][0], np.concatenate(c_all[1:])
    d_obs, d_perm = m_all[0][0], np.concatenate(m_all[1:])
    lv_obs, lv_perm = v_all[0][0], np.concatenate(v_all[1:])
    failed_perm = np.concatenate(fail_all[1:])
    if fail_all[0][0]:
        from ..errors import EstimationError
        raise EstimationError("PLS estimation failed in one of the groups", column=grp.column,
                              values=list(grp.labels),
                              hint="fit csm.fit_pls on each group's data to find the degenerate block")
    # failed permutations give no step-3 draws either (comparability of counts)
    d_perm[failed_perm] = np.nan
    lv_perm[failed_perm] = np.nan
    ma, mb, va, vb = (x[0] for x in mean_var(grp.in_a[None, :]))

    single = np.array([m == "single" for m in cs.modes])
    c_q = _quantiles(c_perm, [alpha])[0]
    ok = np.isfinite(c_perm)
    p_c = (1.0 + ((c_perm <= c_obs[None, :] + 1e-12) & ok).sum(axis=0)) / (1.0 + ok.sum(axis=0))
    c_obs = np.where(single, 1.0, c_obs)
    c_q = np.where(single, 1.0, c_q)
    p_c = np.where(single, 1.0, p_c)
    invariant = (c_obs >= c_q - 1e-12) | single
    compositional = pd.DataFrame({"construct": names, "c": c_obs, "c_quantile": c_q,
                                  "pvalue": p_c, "invariant": invariant})

    def step3(obs, perm, a_val, b_val, a_name, b_name):
        lo, hi = _quantiles(perm, [alpha / 2, 1 - alpha / 2])
        p = _pvalue_two_sided(obs, perm)
        return pd.DataFrame({"construct": names, a_name: a_val, b_name: b_val, "diff": obs,
                             "ci_lower": lo, "ci_upper": hi, "pvalue": p,
                             "equal": (obs >= lo) & (obs <= hi)})

    means = step3(d_obs, d_perm, ma, mb, "mean_a", "mean_b")
    variances = step3(lv_obs, lv_perm, va, vb, "var_a", "var_b")
    full = invariant & means["equal"].to_numpy() & variances["equal"].to_numpy()
    summary = pd.DataFrame({
        "construct": names, "configural": True, "compositional": invariant,
        "equal_means": means["equal"].to_numpy(), "equal_variances": variances["equal"].to_numpy(),
        "invariance": np.where(full, "full", np.where(invariant, "partial", "none"))})
    configural = pd.DataFrame({"construct": names, "satisfied": True,
                               "note": "same model, items and algorithm settings in both groups"})
    return MicomResults(
        configural=configural, compositional=compositional, means=means, variances=variances,
        summary=summary, groups=grp.labels, n={grp.labels[0]: int(grp.in_a.sum()),
                                               grp.labels[1]: int((~grp.in_a).sum())},
        group_column=grp.column, n_perm=n_perm, n_failed=int(failed_perm.sum()), seed=seed,
        alpha=float(alpha), scheme=scheme, c_perm=c_perm, mean_perm=d_perm, logvar_perm=lv_perm,
        data_info=grp.info)


# ---------------------------------------------------------------------------
# permutation test of path differences
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PermutationResults:
    """Result of :func:`permutation_test`.

    Attributes
    ----------
    paths : DataFrame
        ``lhs, rhs, est_a, est_b, diff, ci_lower, ci_upper, pvalue`` -- one
        row per structural path (``lhs`` the outcome): the standardized
        path in each group, ``diff = est_a - est_b``, the central
        ``1 - alpha`` interval of the permuted differences (the range of
        differences expected when the groups do not differ) and the
        two-sided permutation p-value.
    groups, n, group_column, n_perm, n_failed, seed, alpha, scheme, data_info
        As in :class:`MicomResults`.
    diff_perm : ndarray (n_perm, number of paths)
        Permuted differences (NaN for failed permutations), rows of
        ``paths`` in order.
    """

    paths: pd.DataFrame
    groups: tuple
    n: dict
    group_column: str
    n_perm: int
    n_failed: int
    seed: int
    alpha: float
    scheme: str
    diff_perm: np.ndarray = field(repr=False)
    data_info: dict = field(default_factory=dict)


def permutation_test(spec: ModelSpec, data: Any, group: Any, *, n_perm: int = 1000,
                     seed: int | None = None, scheme: str = "path", alpha: float = 0.05,
                     groups: Sequence[Any] | None = None,
                     min_base: int = DEFAULT_MIN_BASE, missing: str = "listwise") -> PermutationResults:
    """Permutation test of the difference of every path between two groups
    (Chin & Dibbern 2010).

    The model is estimated in each group (items standardized within the
    group); the difference of each standardized path is compared with its
    distribution under random relabelling of the respondents (group sizes
    kept).  Run :func:`micom` first: the comparison is meaningful under (at
    least partial) compositional invariance.

    Parameters
    ----------
    spec, data, group, n_perm, seed, scheme, alpha, groups, min_base, missing
        As in :func:`micom`.

    Returns
    -------
    PermutationResults
        ``.paths`` columns ``lhs, rhs, est_a, est_b, diff, ci_lower,
        ci_upper, pvalue``.
    """
    n_perm = _check_n_perm(n_perm)
    seed = _resolve_seed(seed)
    if not 0 < alpha < 0.5:
        raise SpecError(f"alpha must be in (0, 0.5), got {alpha!r}", values=[alpha])
    grp = _split(spec, data, group, groups, min_base, scheme, "The permutation test", missing)
    cs = grp.cs
    pairs = [(cs.index[to], cs.index[frm], to, frm) for frm, to in spec.paths]
    if not pairs:
        raise SpecError("the model has no structural paths to compare",
                        hint="add paths between constructs")
    rows_i = np.array([p[0] for p in pairs])
    cols_j = np.array([p[1] for p in pairs])
    diffs, est, fails = [], None, []
    for _, _, _, pa, pb, failed in _group_fits(grp, n_perm, seed, scheme):
        a, b = pa[:, rows_i, cols_j], pb[:, rows_i, cols_j]
        if est is None:
            if failed[0]:
                from ..errors import EstimationError
                raise EstimationError("PLS estimation failed in one of the groups", column=grp.column,
                                      values=list(grp.labels),
                                      hint="fit csm.fit_pls on each group's data to find the degenerate block")
            est = (a[0], b[0])
        else:
            diffs.append(a - b)
            fails.append(failed)
    d_perm = np.concatenate(diffs)
    obs = est[0] - est[1]
    lo, hi = _quantiles(d_perm, [alpha / 2, 1 - alpha / 2])
    table = pd.DataFrame({"lhs": [p[2] for p in pairs], "rhs": [p[3] for p in pairs],
                          "est_a": est[0], "est_b": est[1], "diff": obs, "ci_lower": lo,
                          "ci_upper": hi, "pvalue": _pvalue_two_sided(obs, d_perm)})
    return PermutationResults(
        paths=table, groups=grp.labels,
        n={grp.labels[0]: int(grp.in_a.sum()), grp.labels[1]: int((~grp.in_a).sum())},
        group_column=grp.column, n_perm=n_perm, n_failed=int(np.concatenate(fails).sum()),
        seed=seed, alpha=float(alpha), scheme=scheme, diff_perm=d_perm, data_info=grp.info)

