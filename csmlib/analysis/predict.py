"""Out-of-sample predictive power of a PLS path model: PLSpredict and CVPAT.

* :func:`predict_pls` -- PLSpredict (Shmueli, Ray, Velasquez Estrada &
  Chatla 2016; Shmueli et al. 2019) as seminr 2.3.1 computes it
  (``predict_pls``): k-fold cross-validated predictions of every indicator
  of an endogenous construct, their RMSE and MAE, the linear-model
  benchmark and Q²predict.
* :func:`cvpat` -- the cross-validated predictive ability test (Liengaard
  et al. 2021; Sharma et al. 2023): paired t-tests of the per-respondent
  losses of PLS against the indicator-average (IA) and linear-model (LM)
  benchmarks, per endogenous construct and overall.

How it is fast
    PLS depends on the data only through the item covariance matrix.  A
    training set is the full sample minus one fold, so every training mean
    and covariance is the full-sample sums minus the held-out rows'
    contribution: one matrix product with a 0/1 "training rows" matrix for
    all folds and repeats at once (the bootstrap's count-weighted moments
    with counts 0 and 1).  The batched core
    :func:`csmlib.estimate.pls_core.pls_core` then estimates every training
    set in lockstep, and the predictions of the held-out rows and the LM
    benchmark's regressions are batched too.

Definitions (seminr 2.3.1)
--------------------------
For each fold, the model is estimated on the training rows (the data as
prepared by ``missing``: with ``"mean"`` every answer missing is replaced
by the item's mean over all rows *before* the folds are drawn, as seminr
does).  A held-out row is standardized with the training means and SDs
(``n - 1``); construct scores = standardized items x outer weights.

* ``technique="DA"`` (direct antecedents; seminr's default
  ``predict_DA``): each endogenous construct is predicted from the scores
  of its direct antecedents (the row's own scores, endogenous antecedents
  included).  ``"EA"`` (earliest antecedents, ``predict_EA``): predictions
  are propagated from the exogenous constructs' scores in causal order.
* Predicted item = predicted score x the item's loading, unstandardized
  with the training mean and SD.
* LM benchmark: each indicator of an endogenous construct regressed (OLS
  with intercept, training rows) on every indicator of the model except
  those of its own construct (seminr 2.3.1; Shmueli et al. 2019 use the
  exogenous constructs' indicators only).
* With ``repeats`` > 1 each row's predictions (PLS, LM and the training
  mean) are averaged over the repeats before the metrics are computed, as
  seminr averages its repetitions.
* ``RMSE = sqrt(mean e²)``, ``MAE = mean |e|`` over the n held-out
  predictions; ``q2_predict = 1 - sum (y - yhat_PLS)² / sum (y - ybar_train)²``
  with ``ybar_train`` the item's mean in the row's training set (the
  PLSpredict definition; seminr does not report it).
* ``folds=None``: leave-one-out (n folds of one row; deterministic, equal to
  seminr's ``predict_pls(noFolds = NULL)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import EstimationError, SpecError
from ..estimate.bootstrapping import Moments
from ..estimate.pls import check_pls_model, check_recursive
from ..estimate.pls_core import CompiledSpec, compile_spec, pls_core
from ..estimate.prepare import check_pls_missing, prepare_input
from ..spec.modelspec import ModelSpec

__all__ = ["predict_pls", "cvpat", "TECHNIQUES"]

TECHNIQUES = ("DA", "EA")
#: Largest sample for leave-one-out (its n training sets are estimated in one batch).
LOO_MAX_N = 5000


@dataclass(frozen=True)
class _CvPredictions:
    """Held-out predictions of every target item, per repeat (arrays
    ``(repeats, n, t)``) and the targets ``y`` ``(n, t)``."""

    items: tuple[str, ...]
    constructs: tuple[str, ...]
    y: np.ndarray
    pls: np.ndarray
    lm: np.ndarray
    train_mean: np.ndarray


def _check_options(folds: int | None, repeats: int, technique: str, n: int | None = None) -> None:
    if technique not in TECHNIQUES:
        raise SpecError(f"unknown prediction technique {technique!r}", values=[technique],
                        hint='use technique="DA" (direct antecedents) or "EA" (earliest antecedents)')
    if folds is not None and not (isinstance(folds, (int, np.integer)) and folds >= 2):
        raise SpecError(f"folds must be an integer of at least 2 or None (leave-one-out), got {folds!r}",
                        values=[folds], hint="use e.g. folds=10")
    if not (isinstance(repeats, (int, np.integer)) and repeats >= 1):
        raise SpecError(f"repeats must be a positive integer, got {repeats!r}", values=[repeats],
                        hint="use e.g. repeats=10")
    if n is not None and folds is not None and folds > n:
        raise SpecError(f"folds={folds} exceeds the {n} respondents", values=[folds],
                        hint="use fewer folds, or folds=None for leave-one-out")


def _fold_ids(n: int, folds: int | None, repeats: int, seed: int | None) -> np.ndarray:
    """Fold of each row in each repeat ``(repeats, n)``; LOO: row i is fold i."""
    if folds is None:
        return np.arange(n)[None, :]
    rng = np.random.default_rng(seed)
    out = np.empty((repeats, n), dtype=int)
    base = np.arange(n) * folds // n                     # folds of (almost) equal size
    for r in range(repeats):
        out[r, rng.permutation(n)] = base
    return out


def _targets(cs: CompiledSpec) -> list[int]:
    """Item positions of the indicators of endogenous constructs."""
    endo = set(cs.endogenous)
    return [i for i in range(cs.p) if int(cs.block[i]) in endo]


def _cv_predictions(spec: ModelSpec, data: Any, folds: int | None, repeats: int, seed: int | None,
                    technique: str, missing: str, scheme: str, max_iter: int, tol: float) -> _CvPredictions:
    check_pls_model(spec, "predict_pls", scheme)
    _check_options(folds, repeats, technique)
    check_pls_missing(missing)
    check_recursive(spec)
    cs = compile_spec(spec)
    if not cs.endogenous:
        raise SpecError("the model has no endogenous construct to predict",
                        hint="add structural paths (Outcome ~ Predictor)")
    inp = prepare_input(spec, data, missing=missing, min_rows=4, what="predict_pls")
    X = np.asarray(inp.X, dtype=float)
    n, p = X.shape
    _check_options(folds, repeats, technique, n)
    if folds is None and n > LOO_MAX_N:
        raise SpecError(f"leave-one-out on {n} respondents would estimate {n} models at once",
                        values=[n], hint=f"use k-fold cross-validation (folds=10) above {LOO_MAX_N} respondents")
    fold = _fold_ids(n, folds, repeats, seed)
    n_rep, n_fold = fold.shape[0], int(fold.max()) + 1
    # problem b = (repeat r, fold f): training rows are those not in fold f
    prob = fold + (np.arange(n_rep) * n_fold)[:, None]             # (repeats, n)
    held = np.zeros((n_rep * n_fold, n))
    held[prob.ravel(), np.tile(np.arange(n), n_rep)] = 1.0
    mean, S = Moments(X)(1.0 - held)                              # training means and covariances
    sd = np.sqrt(np.diagonal(S, axis1=1, axis2=2))
    if not (sd > 1e-12).all():
        b, i = np.argwhere(~(sd > 1e-12))[0]
        raise EstimationError(f"item {cs.items[i]!r} is constant in a training set of the cross-validation",
                              column=cs.items[i], hint="drop the item or use fewer folds")
    out = pls_core(S / sd[:, :, None] / sd[:, None, :], cs, scheme, max_iter=max_iter, tol=tol)
    if out.failed.any():
        raise EstimationError(f"PLS estimation failed in {int(out.failed.sum())} training set(s) of the "
                              "cross-validation (collinear scores or a degenerate block)",
                              hint="check the model on the full data with csm.fit_pls; use fewer folds")
    tgt = np.array(_targets(cs))
    pls_pred = np.empty((n_rep, n, len(tgt)))
    lm_pred = np.empty((n_rep, n, len(tgt)))
    train_mean = np.empty((n_rep, n, len(tgt)))
    Bm = out.paths
    exo = np.array([not cs.D[j].any() for j in range(cs.k)])
    lm_coef = _lm_coefficients(S, cs, tgt)
    for r in range(n_rep):
        pb = prob[r]
        m, s = mean[pb], sd[pb]                                       # (n, p)
        Z = (X - m) / s
        scores = np.einsum("ip,ip,pk->ik", Z, out.weights[pb], cs.M)   # (n, k)
        if technique == "DA":
            eta = np.einsum("ijk,ik->ij", Bm[pb], scores)
        else:
            eta = np.where(exo, scores, 0.0)
            for _ in range(cs.k):                                     # propagate in causal order
                eta = np.where(exo, scores, np.einsum("ijk,ik->ij", Bm[pb], eta))
        y_std = eta[:, cs.block[tgt]] * out.loadings[pb][:, tgt]
        pls_pred[r] = y_std * s[:, tgt] + m[:, tgt]
        train_mean[r] = m[:, tgt]
        for t, (cols, coef) in enumerate(lm_coef):
            lm_pred[r, :, t] = m[:, tgt[t]] + np.einsum("iq,iq->i", X[:, cols] - m[:, cols], coef[pb])
    return _CvPredictions(items=tuple(cs.items[i] for i in tgt),
                          constructs=tuple(cs.names[cs.block[i]] for i in tgt),
                          y=X[:, tgt], pls=pls_pred, lm=lm_pred, train_mean=train_mean)


def _lm_coefficients(S: np.ndarray, cs: CompiledSpec, tgt: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each target item: the predictor columns (every item outside its
    construct) and the OLS slopes of every training set ``(B, q)``."""
    out = []
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for t in tgt:
        j = int(cs.block[t])
        if j not in cache:
            cols = np.flatnonzero(cs.block != j)
            own = cs.blocks[j]
            Spp = S[:, cols[:, None], cols[None, :]]
            Spy = S[:, cols[:, None], own[None, :]]                     # (B, q, items of j)
            try:
                coef = np.linalg.solve(Spp, Spy)
            except np.linalg.LinAlgError as exc:
                raise EstimationError(
                    f"the LM benchmark for {cs.names[j]!r} is undefined: the other constructs' items are "
                    "collinear in a training set", values=[cs.names[j]],
                    hint="drop redundant items") from exc
            cache[j] = (cols, coef)
        cols, coef = cache[j]
        out.append((cols, coef[:, :, int(np.flatnonzero(cs.blocks[j] == t)[0])]))
    return out


def predict_pls(
    spec: ModelSpec,
    data: Any,
    *,
    folds: int | None = 10,
    repeats: int = 10,
    seed: int | None = None,
    technique: str = "DA",
    missing: str = "mean",
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
) -> pd.DataFrame:
    """PLSpredict: cross-validated prediction errors of the endogenous indicators.

    See the module docstring for the definitions (seminr 2.3.1
    ``predict_pls``).

    Parameters
    ----------
    spec : ModelSpec
        A recursive model with at least one structural path.
    data : DataFrame or Survey
        One column per item.
    folds : int or None
        Number of folds; ``None`` for leave-one-out (then ``repeats`` and
        ``seed`` are ignored).
    repeats : int
        Repetitions of the k-fold split (predictions averaged per row).
    seed : int, optional
        Seed of the fold assignment (``numpy.random.default_rng(seed)``).
    technique : {"DA", "EA"}
        Direct antecedents (default, seminr's) or earliest antecedents.
    missing : {"mean", "listwise"}
        As :func:`csmlib.fit_pls`; ``"mean"`` (seminr's default) replaces
        missing answers by the item means over all rows before the folds.
    scheme, max_iter, tol
        As :func:`csmlib.fit_pls` (items are standardized).

    Returns
    -------
    DataFrame
        One row per indicator of an endogenous construct, in model order.
        Columns ``construct``, ``item``, ``pls_rmse``, ``pls_mae``,
        ``lm_rmse``, ``lm_mae``, ``q2_predict``.  An item whose
        ``pls_rmse`` is below ``lm_rmse`` is predicted better by the PLS
        model than by the naive linear model (Shmueli et al. 2019: all items
        -> high, the majority -> medium, a minority -> low, none -> no
        predictive power, given ``q2_predict > 0``).

    Raises
    ------
    SpecError
        Bad options or a model without endogenous constructs.
    EstimationError
        A training set that cannot be estimated.
    """
    cv = _cv_predictions(spec, data, folds, repeats, seed, technique, missing, scheme, max_iter, tol)
    y = cv.y
    e_pls = y - cv.pls.mean(axis=0)
    e_lm = y - cv.lm.mean(axis=0)
    e_naive = y - cv.train_mean.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q2 = 1.0 - (e_pls ** 2).sum(axis=0) / (e_naive ** 2).sum(axis=0)
    return pd.DataFrame({
        "construct": list(cv.constructs), "item": list(cv.items),
        "pls_rmse": np.sqrt((e_pls ** 2).mean(axis=0)), "pls_mae": np.abs(e_pls).mean(axis=0),
        "lm_rmse": np.sqrt((e_lm ** 2).mean(axis=0)), "lm_mae": np.abs(e_lm).mean(axis=0),
        "q2_predict": q2,
    })


def cvpat(
    spec: ModelSpec,
    data: Any,
    *,
    folds: int | None = 10,
    repeats: int = 10,
    seed: int | None = None,
    technique: str = "EA",
    missing: str = "mean",
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
) -> pd.DataFrame:
    """Cross-validated predictive ability test (CVPAT) of a PLS model.

    Definition (Liengaard, Sharma, Hult, Jensen, Sarstedt, Hair & Ringle
    2021, *Decision Sciences* 52(2); Sharma et al. 2023): the cross-validated
    predictions of :func:`predict_pls` (same folds for every model) give for
    each respondent ``i`` and endogenous construct the loss ``L_i`` = the
    mean over the construct's indicators of the squared prediction error;
    the overall loss is the mean of the construct losses.  With ``D_i =
    L_benchmark,i - L_PLS,i`` the test statistic is the paired t-statistic
    ``t = mean(D) / (sd(D) / sqrt(n))`` on ``n - 1`` degrees of freedom;
    ``t > 0`` means PLS predicts better than the benchmark.  Benchmarks:
    ``"IA"`` (indicator average: each item predicted by its mean in the
    row's training set) and ``"LM"`` (the linear model of
    :func:`predict_pls`).  With ``repeats`` > 1 each respondent's losses are
    averaged over the repeats.  (seminr's CVPAT code, after Sharma et al.
    2023, also offers bootstrap p-values and predicts IA by the full-sample
    mean; these are not computed here.)

    Parameters
    ----------
    spec, data, folds, repeats, seed, missing, scheme, max_iter, tol
        As :func:`predict_pls`.
    technique : {"EA", "DA"}
        Prediction technique (default ``"EA"``, as seminr's CVPAT).

    Returns
    -------
    DataFrame
        For each benchmark (``"IA"``, ``"LM"``) one row per endogenous
        construct and one ``"overall"`` row.  Columns ``benchmark``,
        ``construct``, ``pls_loss``, ``benchmark_loss`` (mean losses),
        ``diff`` (``pls_loss - benchmark_loss``; negative: PLS better),
        ``t``, ``df``, ``pvalue`` (two-sided) and ``pvalue_pls_better``
        (one-sided, H1: PLS has the smaller loss).
    """
    cv = _cv_predictions(spec, data, folds, repeats, seed, technique, missing, scheme, max_iter, tol)
    names = list(dict.fromkeys(cv.constructs))
    cons = np.array(cv.constructs)

    def losses(pred: np.ndarray) -> np.ndarray:
        sq = ((cv.y[None] - pred) ** 2)                                  # (repeats, n, t)
        per = np.stack([sq[:, :, cons == c].mean(axis=2) for c in names], axis=2)
        per = per.mean(axis=0)                                          # (n, constructs)
        return np.column_stack([per, per.mean(axis=1)])
    L_pls = losses(cv.pls)
    rows = []
    for bench, pred in (("IA", cv.train_mean), ("LM", cv.lm)):
        L_b = losses(pred)
        for c, label in enumerate(names + ["overall"]):
            D = L_b[:, c] - L_pls[:, c]
            n = len(D)
            sdv = D.std(ddof=1)
            t = D.mean() / (sdv / np.sqrt(n)) if sdv > 0 else np.nan
            rows.append((bench, label, L_pls[:, c].mean(), L_b[:, c].mean(), -D.mean(), t, n - 1,
                         2 * sps.t.sf(abs(t), n - 1), sps.t.sf(t, n - 1)))
    return pd.DataFrame(rows, columns=["benchmark", "construct", "pls_loss", "benchmark_loss", "diff", "t", "df",
                                       "pvalue", "pvalue_pls_better"])
