"""PLS multi-group analysis (PLS-MGA) for any number of groups.

``csm.mga(spec, data, group="segment", n_boot=2000, seed=1)`` estimates the
model in every group and compares every structural path between every pair
of groups in two ways:

Henseler's PLS-MGA (Henseler, Ringle & Sinkovics 2009; as seminr 2.3.1's
``estimate_pls_mga``)
    Each group is bootstrapped (``n_boot`` resamples, the batched bootstrap
    of :func:`csmlib.bootstrap`; groups ``k = 0, 1, ...`` use the seeds
    ``SeedSequence(seed).spawn(k)``).  With the draws ``b1_i`` and ``b2_j``
    of a path in groups 1 and 2 and their bootstrap means ``m1, m2``,
    ``pls_mga_p = 1 - #{(i, j): 2 m1 - b1_i - 2 m2 + b2_j > 0} / (J1 J2)``:
    one-sided, near 0 when group 1's path is larger, near 1 when it is
    smaller; ``p_two_sided = 2 min(p, 1 - p)``.  Failed resamples are left
    out (their number is in ``n_failed``).
Permutation test (Chin & Dibbern 2010)
    For each pair, :func:`csmlib.pls_groups.permutation_test` on that pair's
    respondents (``n_perm`` relabellings, seed ``seed``); ``perm_pvalue`` is
    its two-sided p-value.  With more than two groups, the ``m (m - 1) / 2``
    pairwise tests of one path are a family: ``perm_pvalue_holm`` adjusts
    them with Holm's method (``statsmodels.stats.multitest.multipletests``);
    likewise ``p_two_sided_holm`` for the PLS-MGA p-values.  With two
    groups the adjusted p-values equal the raw ones.

Missing answers
    Every group is estimated from its own rows, so ``missing="mean"``
    replaces a missing answer by the item's mean **in its group** (as
    seminr, whose groups are re-estimated from the raw data).  The
    permutation test relabels the respondents of the pair, whose missing
    answers it replaces by the pair's pooled item means.

Multi-group comparisons mean something only when the composites are
invariant across the groups: run :func:`csmlib.micom` first.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, EstimationError, SpecError
from ..estimate.bootstrapping import bootstrap
from ..estimate.pls import check_pls_model, fit_pls
from ..estimate.prepare import check_pls_missing, input_frame
from ..estimate.results import Results
from ..spec.modelspec import ModelSpec
from .multiplicity import adjust_pvalues
from .pls_groups import _check_n_perm, _resolve_seed, permutation_test
from .tracking import DEFAULT_MIN_BASE, check_min_base

__all__ = ["mga", "MgaResults", "henseler_p"]


def henseler_p(draws_1: np.ndarray, draws_2: np.ndarray) -> np.ndarray:
    """Henseler's PLS-MGA p-value of each column (seminr's convention).

    Parameters
    ----------
    draws_1, draws_2 : ndarray (J1, q) and (J2, q)
        Bootstrap draws of ``q`` parameters in groups 1 and 2 (NaN rows are
        left out per column).

    Returns
    -------
    ndarray (q,)
        ``1 - #{(i, j): 2 m1 - b1_i - 2 m2 + b2_j > 0} / (J1 J2)``.
    """
    out = np.full(draws_1.shape[1], np.nan)
    for c in range(draws_1.shape[1]):
        b1 = draws_1[:, c][np.isfinite(draws_1[:, c])]
        b2 = draws_2[:, c][np.isfinite(draws_2[:, c])]
        if len(b1) == 0 or len(b2) == 0:
            continue
        a = 2 * b1.mean() - b1                  # condition: a_i > 2 m2 - b2_j
        b = np.sort(2 * b2.mean() - b2)
        count = np.searchsorted(b, a, side="left").sum()
        out[c] = 1.0 - count / (len(b1) * len(b2))
    return out


@dataclass(frozen=True, eq=False)
class MgaResults:
    """Result of :func:`mga`.

    Attributes
    ----------
    paths : DataFrame
        One row per structural path and pair of groups: ``lhs, op, rhs,
        group_1, group_2, est_1, est_2, diff, boot_mean_1, boot_mean_2,
        pls_mga_p, p_two_sided, p_two_sided_holm, perm_pvalue,
        perm_pvalue_holm`` (``diff = est_1 - est_2``; see the module
        docstring).
    group_paths : DataFrame
        The paths of every group with bootstrap intervals: ``group, lhs, op,
        rhs, est, se, ci_lower, ci_upper``.
    fits : dict
        Group label -> :class:`~csmlib.estimate.results.Results`.
    groups : tuple
        Group labels, sorted.
    n : dict
        Group label -> respondents used.
    n_boot, n_perm, seed : int
    n_failed : dict
        Group label -> failed bootstrap resamples.
    group_column : str
    """

    paths: pd.DataFrame
    group_paths: pd.DataFrame
    fits: dict = field(repr=False)
    groups: tuple = ()
    n: dict = field(default_factory=dict)
    n_boot: int = 0
    n_perm: int = 0
    seed: int = 0
    n_failed: dict = field(default_factory=dict)
    group_column: str = "group"


def mga(spec: ModelSpec, data: Any, group: str, *, n_boot: int = 2000, n_perm: int = 1000,
        seed: int | None = None, missing: str = "listwise", scheme: str = "path",
        groups: Sequence[Any] | None = None, min_base: int = DEFAULT_MIN_BASE,
        n_jobs: int = 2, weights: str | None = None) -> MgaResults:
    """PLS multi-group analysis: every path compared between every pair of
    groups (Henseler's PLS-MGA and the permutation test, Holm-adjusted).

    Parameters
    ----------
    spec : ModelSpec
        A first-order PLS model (no interaction terms or higher-order
        constructs).
    data : DataFrame or Survey
    group : str
        The column holding the groups.
    n_boot : int
        Bootstrap resamples per group (PLS-MGA).
    n_perm : int
        Permutations per pair of groups (0: no permutation test).
    seed : int, optional
        Seed of the bootstraps and permutations; drawn and recorded if None.
    missing : {"listwise", "mean"}
        Within each group (see the module docstring).
    scheme : {"path", "centroid", "factorial"}
    groups : sequence, optional
        The groups to compare (default: every value of the column, sorted).
    min_base : int
        Smallest group size allowed.
    n_jobs : int
        Threads of each group's bootstrap.
    weights : str, optional
        A case-weight column: each group is fitted by weighted PLS and its
        bootstrap resamples the weights with the rows.  The permutation test
        is unweighted, so it needs ``n_perm=0`` here.

    Returns
    -------
    MgaResults
        ``.paths`` columns ``lhs, op, rhs, group_1, group_2, est_1, est_2,
        diff, boot_mean_1, boot_mean_2, pls_mga_p, p_two_sided,
        p_two_sided_holm, perm_pvalue, perm_pvalue_holm``; ``.group_paths``
        columns ``group, lhs, op, rhs, est, se, ci_lower, ci_upper``.

    Raises
    ------
    SpecError
        A model with interaction terms or higher-order constructs; bad
        ``n_boot`` / ``n_perm`` / ``seed``.
    DataError
        The group column is absent, fewer than two groups, a group below
        ``min_base`` respondents.
    """
    check_pls_model(spec, "mga")
    if spec.interactions or spec.higher_order:
        raise SpecError("mga compares first-order models; this one has interaction terms or "
                        "higher-order constructs", values=list(spec.interactions + spec.higher_order),
                        hint="compare the groups of a model without them")
    check_pls_missing(missing)
    seed = _resolve_seed(seed)
    n_perm = 0 if n_perm == 0 else _check_n_perm(n_perm)
    if weights is not None and n_perm:
        raise SpecError("the permutation test of mga is unweighted; with weights= pass n_perm=0",
                        values=[weights], hint="mga(..., weights=col, n_perm=0) compares weighted groups "
                                                   "by Henseler's PLS-MGA")
    frame, file, _ = input_frame(data, "mga")
    if not isinstance(group, str) or group not in frame.columns:
        raise DataError(f"the group column {group!r} is not in the data", file=file, column=str(group),
                        hint="name a column of the data that holds the groups")
    g = frame[group]
    present = sorted(pd.unique(g.dropna()), key=str)
    labels = tuple(present if groups is None else groups)
    absent = [v for v in labels if v not in present]
    if absent or len(set(labels)) < 2:
        raise DataError("mga needs at least two groups present in the data", file=file, column=group,
                        values=absent or list(labels), hint=f"use values of the column, e.g. {present[:5]}")
    check_min_base({lab: int((g == lab).sum()) for lab in labels}, min_base=min_base, column=group, file=file)
    fits: dict[Any, Results] = {}
    boots = {}
    seeds = np.random.SeedSequence(seed).spawn(len(labels))
    for lab, ss in zip(labels, seeds):
        sub = frame.loc[(g == lab).to_numpy()]
        fits[lab] = fit_pls(spec, sub, scheme=scheme, missing=missing, weights=weights)
        if not fits[lab].converged:
            raise EstimationError(f"PLS did not converge in group {lab!r}", column=group, values=[lab],
                                  hint="check the group's data (constant items, a small group)")
        boots[lab] = bootstrap(fits[lab], n_boot=n_boot, seed=int(ss.generate_state(1)[0]),
                               statistics=["estimates"], n_jobs=n_jobs)

    path_keys = [(to, "~", frm) for frm, to in spec.paths]
    if not path_keys:
        raise SpecError("the model has no structural paths to compare", hint="add paths between constructs")

    def draws_of(lab) -> np.ndarray:
        b = boots[lab]
        keys = b.keys.reset_index(drop=True)
        pos = {(r.lhs, r.op, r.rhs): i for i, r in enumerate(keys.itertuples()) if r.group == "estimates"}
        return b.draws[:, [pos[k] for k in path_keys]]

    def est_of(lab) -> np.ndarray:
        p = fits[lab].paths.set_index(["lhs", "op", "rhs"])["est"]
        return p.loc[path_keys].to_numpy(float)

    rows = []
    for a, b in itertools.combinations(labels, 2):
        da, db = draws_of(a), draws_of(b)
        p = henseler_p(da, db)
        perm = np.full(len(path_keys), np.nan)
        if n_perm:
            pt = permutation_test(spec, frame, group, groups=(a, b), n_perm=n_perm, seed=seed,
                                  scheme=scheme, missing=missing, min_base=min_base)
            pp = pt.paths.set_index(["lhs", "rhs"])["pvalue"]
            perm = pp.loc[[(k[0], k[2]) for k in path_keys]].to_numpy(float)
        ea, eb = est_of(a), est_of(b)
        for k, key in enumerate(path_keys):
            rows.append(dict(lhs=key[0], op="~", rhs=key[2], group_1=a, group_2=b, est_1=ea[k], est_2=eb[k],
                             diff=ea[k] - eb[k], boot_mean_1=np.nanmean(da[:, k]), boot_mean_2=np.nanmean(db[:, k]),
                             pls_mga_p=p[k], p_two_sided=2 * min(p[k], 1 - p[k]), perm_pvalue=perm[k]))
    table = pd.DataFrame(rows)
    table["p_two_sided_holm"] = np.nan
    table["perm_pvalue_holm"] = np.nan
    for _, idx in table.groupby(["lhs", "rhs"], sort=False).groups.items():
        for raw in ("p_two_sided", "perm_pvalue"):
            table.loc[idx, f"{raw}_holm"] = adjust_pvalues(table.loc[idx, raw].to_numpy(float), "holm")
    cols = ["lhs", "op", "rhs", "group_1", "group_2", "est_1", "est_2", "diff", "boot_mean_1", "boot_mean_2",
            "pls_mga_p", "p_two_sided", "p_two_sided_holm", "perm_pvalue", "perm_pvalue_holm"]
    gp = []
    for lab in labels:
        bp = boots[lab].paths
        gp.append(bp[["lhs", "op", "rhs", "est", "se", "ci_lower", "ci_upper"]].assign(group=lab))
    group_paths = pd.concat(gp, ignore_index=True)[["group", "lhs", "op", "rhs", "est", "se", "ci_lower", "ci_upper"]]
    return MgaResults(paths=table[cols], group_paths=group_paths, fits=fits, groups=labels,
                      n={lab: fits[lab].n_obs for lab in labels}, n_boot=int(n_boot), n_perm=int(n_perm),
                      seed=seed, n_failed={lab: boots[lab].n_failed for lab in labels}, group_column=group)
