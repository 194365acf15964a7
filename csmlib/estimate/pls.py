"""PLS path modelling (Wold / Lohmöller), as SmartPLS and R plspm compute it.

:func:`fit_pls` checks the data, computes the item covariance matrix in one
pass and hands it to the batched numerical core in :mod:`csmlib.estimate.pls_core`
(``compile_spec`` / ``pls_core``, also used by the bootstrap), then assembles
a :class:`~csmlib.estimate.results.Results`.

Conventions
-----------
* ``standardize=True`` (default, SmartPLS): the algorithm runs on the item
  correlation matrix; outer weights ``F <~ x`` apply to standardized items.
* ``standardize=False`` (R plspm ``scaled = FALSE``): the algorithm runs on the
  item covariance matrix (centred, unscaled items); outer weights ``F <~ x``
  apply to the centred raw items.  In both cases construct scores have mean 0
  and unit variance, and paths are OLS regressions on the scores.
* Variances use the ``n - 1`` divisor (the results do not depend on it).
* Signs: each construct's weights are reversed if its score correlates
  negatively with its block (negative sum of item correlations).
* SRMR is the "saturated model" SRMR of the composite model: the implied
  correlation matrix keeps the observed correlations within each block and
  sets ``corr(x_i, x_j) = l_i r_FG l_j`` for items of different constructs
  ``F, G`` (``l``: standardized loadings, ``r_FG``: construct score
  correlation; PLSc: corrected loadings and correlations), and SRMR is the
  root mean square of the residual correlations over the ``p (p + 1) / 2``
  non-redundant elements (Henseler et al. 2014).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import warnings as _warnings

import numpy as np
import pandas as pd

from .effects import effects_table
from .prepare import check_pls_missing, prepare_input, unweighted_notice
from ..errors import DataError, DataWarning, EstimationError, EstimationWarning, SpecError
from .pls_core import SCHEMES, CompiledSpec, PlsCoreResult, compile_spec, pls_core
from .results import FIT_INDEX_NAMES, PlsResults, Results, tidy_estimates
from ..spec.modelspec import ModelSpec

__all__ = ["fit_pls", "case_weights", "check_sample_size", "weighted_moments", "check_pls_model", "check_recursive", "compile_spec", "pls_core", "covariance_one_pass", "CompiledSpec", "PlsCoreResult"]

_CHUNK = 1 << 16


def covariance_one_pass(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and sample covariance (``n - 1`` divisor) of ``X``.

    Works in chunks of rows, so it needs no centred copy of a large ``X``.

    Parameters
    ----------
    X : ndarray (n, p), float64

    Returns
    -------
    mean : ndarray (p,)
    cov : ndarray (p, p)
    """
    n = X.shape[0]
    mean = X.mean(axis=0)
    acc = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, n, _CHUNK):
        Xc = X[start:start + _CHUNK] - mean
        acc += Xc.T @ Xc
    return mean, acc / (n - 1)


def check_pls_model(spec: Any, what: str, scheme: str | None = None) -> None:
    """The checks of its arguments every PLS estimate starts with: ``spec``
    is a :class:`ModelSpec` and ``scheme`` (when given) a known inner
    weighting scheme.  ``what`` names the caller in the message.

    Raises
    ------
    SpecError
    """
    if not isinstance(spec, ModelSpec):
        raise SpecError(f"{what} needs a ModelSpec, got {type(spec).__name__}",
                        hint="build one with csm.ModelSpec.from_lavaan(text) or csm.models")
    if scheme is not None and scheme not in SCHEMES:
        raise SpecError(f"unknown inner weighting scheme {scheme!r}", values=[scheme],
                        hint=f"use one of: {', '.join(SCHEMES)}")


def check_recursive(spec: ModelSpec) -> None:
    """Refuse a non-recursive structural model (one with a loop of paths).

    PLS path modelling estimates each path by an ordinary regression of a
    construct's score on its predecessors' scores, which is only a
    consistent estimator when no construct is its own predecessor: SmartPLS
    refuses models with circular relationships and R plspm / semPLS require
    the inner matrix to be lower triangular.  (CB-SEM estimates non-recursive
    models, when they are identified.)

    Raises
    ------
    SpecError
        Naming one loop, e.g. ``Q -> S -> Q``, in the direction of its paths.
    """
    loop = _find_loop(spec.construct_names, spec.paths)
    if loop:
        text = " -> ".join(loop)
        raise SpecError(
            f"the structural model is not recursive: the paths {text} form a loop, and PLS path "
            "modelling needs a recursive model (no construct may be its own predecessor)",
            values=[text],
            hint="remove one of the paths of the loop, or fit the non-recursive model with "
                 "csm.fit_cbsem if it is identified",
        )


def _find_loop(names: Sequence[str], paths: Sequence[tuple[str, str]]) -> list[str]:
    """One loop of ``(predictor, outcome)`` paths as ``[a, b, ..., a]``, or ``[]``."""
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in paths:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    state: dict[str, int] = {}          # 1: on the current path, 2: finished
    for root in succ:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        trail = [root]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
            elif state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
                trail.append(nxt)
    return []


def _raise_bad_blocks(S: np.ndarray, cs: CompiledSpec, spec: ModelSpec, file: str | None) -> None:
    sd = np.sqrt(np.diag(S))
    zero = [cs.items[i] for i in np.flatnonzero(~(sd > 1e-12 * max(1.0, sd.max())))]
    if zero:
        raise DataError(f"{len(zero)} item(s) have zero variance (every respondent gave the same answer)",
                        file=file, column=zero,
                        hint="drop the constant item(s) from the model")
    R = S / sd[:, None] / sd[None, :]
    for j, mode in enumerate(cs.modes):
        if mode != "B":
            continue
        b = cs.blocks[j]
        ev = np.linalg.eigvalsh(R[np.ix_(b, b)])
        if ev[0] < 1e-10 * ev[-1]:
            items = [cs.items[i] for i in b]
            raise EstimationError(
                f"the items of mode B construct {cs.names[j]!r} are collinear (smallest eigenvalue of "
                f"their correlation matrix {ev[0]:.2e}); regression weights are undefined",
                column=items, values=[cs.names[j]],
                hint="drop redundant items (e.g. one that is the sum of others) or estimate the block in mode A")


def _srmr(R: np.ndarray, cs: CompiledSpec, std_load: np.ndarray, C: np.ndarray) -> float:
    l_ = std_load
    implied = (l_[:, None] * l_[None, :]) * C[np.ix_(cs.block, cs.block)]
    same = cs.block[:, None] == cs.block[None, :]
    implied = np.where(same, R, implied)
    iu = np.triu_indices(len(l_))
    res = (R - implied)[iu]
    return float(np.sqrt(np.mean(res ** 2)))


def fit_pls(
    spec: ModelSpec,
    data: Any,
    scheme: str = "path",
    standardize: bool = True,
    *,
    consistent: bool = False,
    max_iter: int = 300,
    tol: float = 1e-7,
    init: str = "ones",
    missing: str = "listwise",
    weights: str | None = None,
    interaction: str = "two_stage",
    hoc: str = "two_stage",
) -> Results:
    """Fit a PLS path model (Wold / Lohmöller algorithm).

    Parameters
    ----------
    spec : ModelSpec
        Constructs (``reflective`` and ``"A"``: mode A correlation weights;
        ``"B"``: regression weights; one item: weight 1) and paths.  It may
        hold interaction terms (``y ~ x + m + x:m``, see ``interaction``)
        and higher-order constructs (``H =~ F1 + F2``, see ``hoc``).
    data : DataFrame or Survey
        One column per item.  A Survey (anything with ``.data`` and
        ``.scale_limits``) also passes its scale limits on to the index.
        Missing answers are handled as ``missing`` says.
    scheme : {"path", "centroid", "factorial"}
        Inner weighting scheme ("path" is SmartPLS' "path weighting").
    standardize : bool
        True: work on standardized items (SmartPLS, plspm ``scaled=TRUE``);
        False: on centred raw items (plspm ``scaled=FALSE``).
    consistent : bool
        Consistent PLS (PLSc, Dijkstra & Henseler 2015) for ``reflective``
        constructs: construct correlations corrected with rho_A, loadings
        corrected, paths and R-squared re-estimated.
    max_iter : int
        Maximum iterations.
    tol : float
        Stop criterion: largest absolute change of an outer weight.
    init : {"ones"}
        Initial outer weights (all ones, as SmartPLS and plspm).
    missing : {"listwise", "mean"}
        Respondents with a missing answer are dropped (``"listwise"``), or a
        missing answer is replaced by the item's mean over the data given
        (``"mean"``, SmartPLS' and seminr's default); ``data_info`` records
        the respondents dropped or ``mean_replaced``, the answers replaced.
        A bootstrap resamples the data as fitted (mean-replaced).
    weights : str, optional
        Weighted PLS (SmartPLS' WPLS): the name of a column of non-negative
        case weights.  Every mean, covariance and regression is weighted
        (frequency-weight convention: covariance divisor ``sum w - 1``), so
        integer weights give exactly the fit of the data with each row
        repeated that many times.  The bootstrap resamples the weights with
        their rows; the index and IPMA use weighted means.  ``n_obs`` and
        the adjusted R-squared count respondents (rows), not weights.
    interaction : {"two_stage", "product_indicator", "orthogonal"}
        How interaction terms ``x:m`` are estimated (seminr's three; see
        :mod:`csmlib.estimate.pls_interaction`; ``two_stage`` is SmartPLS 4's
        default).
    hoc : {"two_stage", "repeated_indicators"}
        How higher-order constructs are estimated (disjoint two-stage as
        seminr's ``higher_composite``, or repeated indicators; see
        :mod:`csmlib.estimate.pls_hoc`).

    Returns
    -------
    Results
        ``method="pls"``.  ``estimates`` has loadings ``F =~ x`` (est: covariance
        of item and unit-variance score, i.e. the loading on standardized items
        when ``standardize``; std_all: standardized loading, PLSc-corrected
        when ``consistent``), outer weights ``F <~ x`` (est: weight in the
        working metric; std_all: weight on standardized items) and paths
        ``Outcome ~ Predictor`` (est = std_all, except interaction paths:
        see :mod:`csmlib.estimate.pls_interaction`); se, z, pvalue and CI are NaN
        (see :func:`csmlib.bootstrap`).  ``r2`` by endogenous construct;
        ``effects`` columns ``lhs, rhs, direct, indirect, total``;
        ``scores`` one unit-variance, mean-0 column per construct;
        ``fit_indices`` with ``srmr`` (others NaN).  ``extra`` holds
        ``raw_weights`` (dict construct -> Series of weights on raw items),
        ``raw_scores`` (DataFrame: weighted means of raw items, weights
        normalized to sum 1, in the item metric), ``r2_adj`` (Series),
        ``construct_corr`` (DataFrame), ``rho_a`` (Series), ``ave`` (Series),
        ``item_mean`` and ``item_sd`` (Series), ``S`` (working matrix),
        ``compiled`` (:class:`~csmlib.estimate.pls_core.CompiledSpec`) and
        ``case_weights`` (ndarray of the case weights, or None).

    Raises
    ------
    DataError
        Fewer respondents than the largest regression of the model (a
        construct on its predictors, a mode B block on its items) has
        predictors + 2 (:func:`check_sample_size`).
    SpecError
        A non-recursive structural model (:func:`check_recursive`), bad options.

    Warns
    -----
    EstimationWarning
        Also kept in ``results.warnings`` (which ``summary()`` and reports
        show): no convergence.  (No power note is made from the estimated
        paths: a power computed from the observed effect is a restatement
        of its p-value; plan the sample beforehand with
        :func:`csmlib.min_n_inverse_sqrt` or :func:`csmlib.plan_sample`.)

    Notes
    -----
    seminr checks neither: on a tiny sample its ``estimate_pls`` solves each
    regression's normal equations with ``solve()``, which stops with "system
    is exactly singular" only when respondents <= predictors and otherwise
    returns a perfect fit without a word; a loop of paths is not refused
    either (each construct is regressed on its predecessors, whatever the
    loop).  SmartPLS refuses circular models, as :func:`fit_pls` does.
    """
    check_pls_model(spec, "fit_pls", scheme)
    if init != "ones":
        raise SpecError(f"unknown initialisation {init!r}", values=[init], hint='use init="ones"')
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise SpecError(f"max_iter must be a positive integer, got {max_iter!r}", values=[max_iter])
    if not (tol > 0):
        raise SpecError(f"tol must be positive, got {tol!r}", values=[tol])
    from .pls_hoc import HOC_METHODS
    from .pls_interaction import INTERACTION_METHODS

    if interaction not in INTERACTION_METHODS:
        raise SpecError(f"unknown interaction method {interaction!r}", values=[interaction],
                        hint=f"use one of: {', '.join(INTERACTION_METHODS)}")
    if hoc not in HOC_METHODS:
        raise SpecError(f"unknown higher-order method {hoc!r}", values=[hoc],
                        hint=f"use one of: {', '.join(HOC_METHODS)}")
    if weights is not None and not isinstance(weights, str):
        raise SpecError(f"weights must be the name of a column, got {type(weights).__name__}",
                        values=[weights], hint='write e.g. weights="weight"')
    check_pls_missing(missing)
    if spec.interactions and spec.higher_order:
        raise SpecError("a model with both interaction terms and higher-order constructs is not supported",
                        values=list(spec.interactions) + list(spec.higher_order),
                        hint="estimate the higher-order construct's scores first, then the moderated model")
    weighted_mean = weights is not None and missing == "mean"
    inp = prepare_input(spec, data, missing="available" if weighted_mean else missing, min_rows=3,
                        what="fit_pls", extra=[weights] if weights is not None else ())
    rows = inp.positions + 1 if isinstance(data, pd.DataFrame) else np.asarray(inp.frame.index)
    case_w = None if weights is None else case_weights(inp.frame[weights], inp.file, rows)
    frame = inp.frame
    if weighted_mean:   # weighted PLS replaces a missing answer by the item's weighted mean
        frame, inp.info["mean_replaced"] = weighted_mean_replace(frame, list(spec.indicators), case_w)
    options = dict(scheme=scheme, standardize=standardize, consistent=consistent,
                   max_iter=max_iter, tol=tol, init=init, missing=missing, weights=weights)
    notices = [] if weights is not None else [m for m in [unweighted_notice(data, "PLS")] if m]
    fit = _FrameFit(file=inp.file, limits=inp.scale_limits, info=inp.info, options=options,
                    case_w=case_w, notices=notices)
    if spec.interactions:
        from .pls_interaction import fit_interaction

        return fit_interaction(spec, frame, fit, interaction)
    if spec.higher_order:
        from .pls_hoc import fit_hoc

        return fit_hoc(spec, frame, fit, hoc)
    return fit(spec, frame)


def case_weights(column: pd.Series, file: str | None = None, rows: Sequence[Any] | None = None) -> np.ndarray:
    """Check a column of case weights and return it as floats.

    ``rows`` are the rows' numbers in the file (for the error message;
    default 1, 2, ...).

    Raises
    ------
    DataError
        Naming the column, the rows and the values, when a weight is missing,
        not a number, negative or infinite, or the weights sum to 1 or less.
    """
    name = str(column.name)
    w = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        at = np.flatnonzero(bad)[:10]
        raise DataError(f"{int(bad.sum())} case weight(s) are missing, not numbers, negative or infinite",
                        file=file, column=name,
                        rows=[int(i) + 1 for i in at] if rows is None else [rows[i] for i in at],
                        values=[column.iloc[i] for i in at],
                        hint="give every respondent a finite, non-negative weight (0 leaves a row out)")
    if not w.sum() > 1:
        raise DataError(f"the case weights sum to {w.sum():g}; weighted PLS needs a total weight above 1",
                        file=file, column=name,
                        hint="scale the weights, e.g. to mean 1 (w / w.mean())")
    return w


def weighted_mean_replace(frame: pd.DataFrame, items: list[str], w: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Missing answers of ``items`` replaced by the item's mean weighted by
    the case weights ``w`` (over the respondents who answered it), so that
    integer weights act as repeated rows here too.

    Returns
    -------
    (DataFrame, int)
        A copy with the replacements, and how many answers were replaced.
    """
    X = frame[items].to_numpy(dtype=float)
    holes = np.isnan(X)
    n = int(holes.sum())
    if n == 0:
        return frame, 0
    ww = np.where(holes, 0.0, w[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.nansum(X * ww, axis=0) / ww.sum(axis=0)
    out = frame.copy()
    out[items] = np.where(holes, means[None, :], X)
    return out, n


def weighted_moments(X: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Column means and covariance of ``X``, weighted by case weights ``w``
    (frequency weights: divisor ``sum w - 1``) or unweighted (``w=None``:
    divisor ``n - 1``).

    Returns
    -------
    mean : ndarray (p,)
    cov : ndarray (p, p)
    """
    if w is None:
        return covariance_one_pass(X)
    tot = w.sum()
    mean = (w @ X) / tot
    Xc = X - mean
    return mean, (Xc.T * w) @ Xc / (tot - 1.0)


def _regressions(cs: Any) -> list[tuple[str, list[str]]]:
    """Every regression a PLS fit makes: ``(what, predictors)`` for each
    endogenous construct on its predecessors and each mode B block on its items."""
    out = [(f"the regression of {cs.names[j]} on its predictors",
            [cs.names[i] for i in cs.predecessors(j)]) for j in cs.endogenous]
    out += [(f"the mode B weights of {cs.names[j]}, a regression on its items",
             [cs.items[i] for i in cs.blocks[j]]) for j in range(cs.k) if cs.modes[j] == "B"]
    return out


def check_sample_size(cs: Any, n: int, file: str | None = None, *, weighted: bool = False) -> None:
    """Refuse a sample too small for the model's regressions.

    Every regression of a PLS fit (a construct on its predecessors, a mode B
    construct on its items) needs more respondents than predictors + 1 to
    leave a residual: with fewer than ``predictors + 2`` respondents the
    scores fit exactly (R-squared 1, adjusted R-squared undefined) and the
    algorithm still "converges".  (seminr does not check either: it solves
    the normal equations with ``solve()``, which fails with "system is
    exactly singular" only when respondents <= predictors, and otherwise
    returns a perfect fit.)

    Parameters
    ----------
    cs : CompiledSpec
    n : int
        Respondents (with case weights: those whose weight is above 0).
    file : str, optional
        The data file, for the message.
    weighted : bool
        ``n`` counts the respondents with a case weight above 0.

    Raises
    ------
    DataError
        Naming the number of respondents, the largest regression and what it needs.
    """
    regs = _regressions(cs)
    if not regs:
        return
    what, preds = max(regs, key=lambda r: len(r[1]))
    need = len(preds) + 2
    if n < need:
        raise DataError(
            f"fit_pls: {n} respondent(s){' with a case weight above 0' if weighted else ''} are too few for "
            f"this model: {what} "
            f"({', '.join(preds)}) needs at least {need} (predictors + 2)",
            file=file, hint="estimate the model on a larger sample (a whole wave rather than a small segment), "
                            "or simplify the model")


class _FrameFit:
    """Fits a plain (item-level, recursive) PLS model on a prepared frame,
    with the options, provenance and case weights of one :func:`fit_pls`
    call; the interaction and higher-order estimators call it for each
    stage."""

    def __init__(self, *, file, limits, info, options, case_w, notices) -> None:
        self.file, self.limits, self.info, self.options = file, limits, info, options
        self.case_w, self.notices = case_w, notices

    def __call__(self, spec: ModelSpec, frame: pd.DataFrame) -> Results:
        check_recursive(spec)
        cs = compile_spec(spec)
        X = frame[list(cs.items)].to_numpy(dtype=float)
        n = X.shape[0]
        # (a weight of 0 leaves a row out: only the others inform the regressions)
        check_sample_size(cs, n if self.case_w is None else int(np.count_nonzero(self.case_w > 0)), self.file,
                          weighted=self.case_w is not None)
        mean, cov = weighted_moments(X, self.case_w)
        _raise_bad_blocks(cov, cs, spec, self.file)
        sd = np.sqrt(np.diag(cov))
        R = cov / sd[:, None] / sd[None, :]
        S = R if self.options["standardize"] else cov
        o = self.options
        out = pls_core(S, cs, o["scheme"], max_iter=o["max_iter"], tol=o["tol"], consistent=o["consistent"])
        if out.failed[0]:
            raise EstimationError(
                "PLS estimation failed: construct scores are collinear or a block is degenerate",
                hint="check for constructs measured by the same items or perfectly correlated scores")
        res = _assemble(spec, cs, out, S, R, mean, sd, X, frame, self.info, self.limits, n, dict(o),
                        notices=self.notices)
        res.extra["case_weights"] = self.case_w
        return res


def _assemble(spec, cs, out, S, R, mean, sd, X, used, info, limits, n, options,
              notices: Sequence[str] = ()) -> Results:
    w = out.weights[0]
    w_std = w if options["standardize"] else w * sd
    w_raw = w_std / sd
    loadings = out.loadings[0]
    std_load = out.std_loadings[0] if out.consistent_loadings is None else out.consistent_loadings[0]
    C = out.construct_corr[0]
    Bm = out.paths[0]
    labels = {(r.lhs, r.op, r.rhs): r.label for r in spec.relations if r.label}

    rows = []
    for i, item in enumerate(cs.items):
        F = cs.names[cs.block[i]]
        rows.append((F, "=~", item, labels.get((F, "=~", item), ""), loadings[i], std_load[i]))
    for i, item in enumerate(cs.items):
        F = cs.names[cs.block[i]]
        rows.append((F, "<~", item, labels.get((F, "<~", item), ""), w[i], w_std[i]))
    for j in range(cs.k):
        for i in cs.predecessors(j):
            lhs, rhs = cs.names[j], cs.names[i]
            rows.append((lhs, "~", rhs, labels.get((lhs, "~", rhs), ""), Bm[j, i], Bm[j, i]))
    est = tidy_estimates(pd.DataFrame(rows, columns=["lhs", "op", "rhs", "label", "est", "std_all"]))

    endo = list(cs.endogenous)
    r2 = pd.Series(out.r2[0, endo], index=[cs.names[j] for j in endo], dtype=float, name="r2")
    npred = np.array([len(cs.predecessors(j)) for j in endo])
    with np.errstate(divide="ignore", invalid="ignore"):
        r2_adj = pd.Series(1 - (1 - r2.to_numpy()) * (n - 1) / (n - npred - 1), index=r2.index, name="r2_adj")
    effects = effects_table(Bm, cs.names)

    Wraw = w_raw[:, None] * cs.M
    scores_arr = X @ Wraw - mean @ Wraw
    index = used.index
    scores = pd.DataFrame(scores_arr, index=index, columns=list(cs.names), copy=False)
    colsum = Wraw.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_scores = pd.DataFrame(X @ (Wraw / colsum), index=index, columns=list(cs.names), copy=False)
    raw_weights = {cs.names[j]: pd.Series(w_raw[b], index=[cs.items[i] for i in b], name=cs.names[j])
                   for j, b in enumerate(cs.blocks)}
    ave = pd.Series({cs.names[j]: float(np.mean(std_load[b] ** 2)) for j, b in enumerate(cs.blocks)}, name="ave")

    fit = pd.Series(np.nan, index=list(FIT_INDEX_NAMES), dtype=float)
    fit["srmr"] = _srmr(R, cs, std_load, C)

    conv = bool(out.converged[0])
    it = int(out.n_iter[0])
    warns: list[str] = list(notices)
    for msg in notices:
        _warnings.warn(msg, DataWarning, stacklevel=4)
    if conv:
        message = f"PLS ({options['scheme']} scheme) converged after {it} iterations (tol {options['tol']:g})."
    else:
        message = (f"PLS ({options['scheme']} scheme) did NOT converge in {options['max_iter']} iterations "
                   f"(tol {options['tol']:g}); estimates are from the last iteration.")
        warns.append(message)
        _warnings.warn(message, EstimationWarning, stacklevel=4)
    if options["consistent"] and (out.rho_a[0][cs.reflective] > 1).any():
        bad = [cs.names[j] for j in np.flatnonzero(cs.reflective & (out.rho_a[0] > 1))]
        warns.append(f"rho_A above 1 for {', '.join(bad)}: PLSc correction is unreliable")
    if np.any(np.abs(C[~np.eye(cs.k, dtype=bool)]) > 1) and options["consistent"]:
        warns.append("a corrected construct correlation exceeds 1 in absolute value")

    limits_out = None
    if limits is not None:
        lim = pd.DataFrame(limits)
        limits_out = lim.loc[[i for i in cs.items if i in lim.index]] if len(lim) else lim

    extra = {
        "raw_weights": raw_weights,
        "raw_scores": raw_scores,
        "r2_adj": r2_adj,
        "construct_corr": pd.DataFrame(C, index=list(cs.names), columns=list(cs.names)),
        "rho_a": pd.Series(out.rho_a[0], index=list(cs.names), name="rho_a"),
        "ave": ave,
        "item_mean": pd.Series(mean, index=list(cs.items), name="mean"),
        "item_sd": pd.Series(sd, index=list(cs.items), name="sd"),
        "S": S,
        "compiled": cs,
        "path_matrix": pd.DataFrame(Bm, index=list(cs.names), columns=list(cs.names)),
    }
    return PlsResults(
        spec=spec, method="pls", _estimates=est, _r2=r2, _effects=effects, _fit_indices=fit,
        _scores=scores, converged=conv, n_iter=it, message=message, n_obs=int(n),
        data_info=info, warnings=tuple(warns), options=options, _data=used,
        _scale_limits=limits_out, extra=extra,
    )
