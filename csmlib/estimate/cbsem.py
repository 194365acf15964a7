"""Covariance-based SEM (maximum likelihood), matching lavaan.

:func:`fit_cbsem` estimates a :class:`~csmlib.spec.ModelSpec` by normal-theory
maximum likelihood the way lavaan's ``sem()`` does by default.  The model is
what :func:`csmlib.estimate.partable.build_partable` reads from the spec (one
parameter table, lavaan's defaults, for one or several groups); the one
estimator is :class:`csmlib.estimate.ram.Likelihood` (ML and FIML, one or
many groups):

- likelihood "normal": the sample covariance has divisor N and
  ``chisq = 2 (logl_h1 - logl)`` (``N F_ML`` for complete data);
- estimation by Fisher scoring with step halving from the table's simple
  start values (semopy's estimates as the second start, or the first with
  ``start="semopy"``: semopy only proposes numbers); a step that makes an
  implied covariance non-positive-definite is halved, never taken;
- convergence checked, not trusted: the iteration reached a stationary
  point, every element of the gradient of the ML objective (minus logl / N)
  is below lavaan's ``optim.dx.tol`` (1e-3) and every implied covariance is
  positive definite; otherwise the next start is tried, and if none
  converges the fit is returned with ``converged=False`` and an
  :class:`~csmlib.errors.EstimationWarning`;
- standard errors from the inverse of the *expected* information matrix
  divided by N (lavaan ``information = "expected"``, the default for
  complete-data ML); z, two-sided p and 95% Wald intervals;
- ``robust=True``: Huber-White sandwich ``A^-1 B A^-1 / N`` with ``A`` the
  expected information and ``B`` the mean outer product of the casewise
  scores (lavaan ``se = "robust.huber.white"`` with ``information =
  "expected"``);
- the completely standardized solution ``std_all`` as lavaan's ``std.all``.

``missing="fiml"``: full-information ML with a mean structure (intercepts of
the items free, construct means 0), over the missing-data patterns;
standard errors from the observed information (numerical Hessian of the
analytic gradient), as lavaan's default for ``missing = "ml"``.  The fit
indices of a FIML fit are those of the model against the FIML (EM)
saturated model, the baseline estimated by FIML too; its SRMR includes the
mean residuals and its AIC/BIC count the means, as lavaan's with a mean
structure.  This holds on complete data too, so that ``missing="fiml"``
always reproduces lavaan's ``missing = "ml"``.

``estimator="MLR"`` / ``"MLM"`` and ``weights=`` (lavaan ``sampling.weights``):
the same likelihood (weighted patterns with survey weights), robust
standard errors and scaled tests from its Delta, informations and casewise
scores (:mod:`csmlib.estimate.robust`), group by group in a multi-group
fit as lavaan (also with FIML, and survey weights rescaled over all groups
as lavaan's ``sampling.weights.normalization = "total"``); fixed covariates,
and several groups with both survey weights and FIML, are refused with a
:class:`~csmlib.errors.SpecError`.

``group=``: a multi-group fit (mean structure, lavaan's group order),
``group_equal`` / ``group_partial`` as lavaan's ``group.equal`` /
``group.partial``; RMSEA times sqrt(G) and SRMR weighted by group size, as
lavaan.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .effects import effects_table
from .prepare import check_answered, input_frame, unweighted_notice
from ..errors import DataError, DataWarning, EstimationError, EstimationWarning, SpecError
from .fitindices import fit_measures, srmr
from .partable import Param, ParTable, build_partable
from .ram import Likelihood, RamModel, invert_information, natural_units, one_blas_thread, patterns
from .robust import check_estimator, item_moments, robust_fit, survey_weights
from .results import CbsemResults, Results, tidy_estimates
from ..spec.modelspec import ModelSpec

_GROUP = "__csm_group__"

__all__ = ["fit_cbsem", "refit_many", "refit_cbsem", "free_parameters", "defined_many", "refit_standard_errors"]


# ---------------------------------------------------------------------------
# the parameter table
# ---------------------------------------------------------------------------
def free_parameters(results: Results) -> pd.DataFrame:
    """The free parameters of a CB-SEM fit, in the order of the vectors
    :func:`refit_many` returns.

    Returns
    -------
    DataFrame
        Columns ``lhs, op, rhs, label, est`` (and ``group`` for a multi-group
        fit); row ``k`` describes element ``k`` of the free-parameter vector
        (for a label shared by several rows, the first of them).
    """
    table: ParTable = results.extra["table"]
    theta = results.extra["theta"]
    seen, rows = set(), []
    for r in table.rows:
        if r.free >= 0 and r.free not in seen:
            seen.add(r.free)
            rows.append((r.free, r.lhs, r.op, r.rhs, r.label, theta[r.free], r.group))
    rows.sort()
    out = pd.DataFrame([r[1:] for r in rows], columns=["lhs", "op", "rhs", "label", "est", "group"])
    return out if table.n_groups > 1 else out.drop(columns="group")


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def _prepare(spec: ModelSpec, data: Any, missing: str, observed: Sequence[str], group: str | None,
             exogenous_x: Sequence[str] = (), latent: Sequence[str] = ()):
    """The rows and columns a CB-SEM fit uses, checked: numeric finite
    items, no empty or constant item, the group column present.  Under
    FIML a row without a value of an observed covariate of ``fixed.x``
    (``exogenous_x``) is dropped, as lavaan does: the likelihood is
    conditional on the covariates.

    Returns
    -------
    frame (observed columns, plus the group column), scale limits,
    data_info, file name
    """
    df, file, limits = input_frame(data, "fit_cbsem")
    items = list(observed)
    missing_cols = [i for i in items if i not in set(map(str, df.columns))]
    if missing_cols:
        raise SpecError(f"{len(missing_cols)} variable(s) of the model are not columns of the data",
                        file=file, column=missing_cols,
                        hint="rename the columns in the data or the items in the model so that they agree")
    clash = [f for f in latent if f in set(map(str, df.columns))]
    if clash:
        raise SpecError(f"construct name(s) {', '.join(map(repr, clash))} are also columns of the data: the "
                        "model would ignore those columns (lavaan refuses such a model)",
                        file=file, column=clash,
                        hint="rename the construct (e.g. 'Image' rather than an item's name), or, to use the "
                             "column itself, write it as an observed variable")
    if group is not None and group not in df.columns:
        raise DataError(f"the grouping column {group!r} is missing from the data", file=file, column=[group],
                        hint="check the group argument against the column names")
    check_answered(df, spec, file)
    X = df[items]
    for c in items:
        col = X[c]
        if not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)):
            num = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & num.isna()
            if bad.any() or pd.api.types.is_bool_dtype(col):
                where = np.flatnonzero(bad.to_numpy()) if bad.any() else np.array([0])
                raise DataError(
                    f"item {c!r} is not numeric",
                    file=file, column=c, rows=[int(i) + 1 for i in where[:5]],
                    values=[col.iloc[int(i)] for i in where[:5]],
                    hint="recode the answers to numbers (read the data with csm.read_survey and an instrument)",
                )
    X = X.apply(pd.to_numeric).astype(float)
    if not np.isfinite(X.to_numpy()[~np.isnan(X.to_numpy())]).all():
        r, c = np.argwhere(np.isinf(X.to_numpy()))[0]
        raise DataError("an item has an infinite value", file=file, column=items[c], rows=[int(r) + 1],
                        values=[X.iat[r, c]], hint="replace it by a valid answer or a missing value")
    if group is not None:
        X = X.assign(**{_GROUP: df[group].to_numpy()})
    n_read = len(X)
    complete = X[items].notna().all(axis=1)
    info: dict[str, Any] = {"rows_read": n_read}
    all_missing = X[items].isna().all(axis=1)
    dropped: dict[str, int] = {}
    keep = complete if missing == "listwise" else ~all_missing
    if (~keep).any():
        dropped["missing values (listwise deletion)" if missing == "listwise" else "all items missing"] = \
            int((~keep).sum())
    if missing != "listwise" and len(exogenous_x):
        no_x = X[list(exogenous_x)].isna().any(axis=1) & keep
        if no_x.any():
            dropped["a fixed covariate missing (" + ", ".join(exogenous_x) + ")"] = int(no_x.sum())
        keep &= ~no_x
    if group is not None:
        no_group = X[_GROUP].isna() & keep
        if no_group.any():
            dropped["group missing"] = int(no_group.sum())
        keep &= ~X[_GROUP].isna()
    info["dropped"] = dropped
    if missing != "listwise":
        info["incomplete_rows_kept"] = int((~complete & keep).sum())
    used = X[keep]
    info["rows_used"] = len(used)
    blocks = [("", used)] if group is None else list(used.groupby(_GROUP, sort=True))
    if group is not None and len(blocks) < 2:
        raise DataError("the grouping column has fewer than two groups", file=file, column=[group],
                        hint="a multi-group comparison needs at least two groups")
    for name, block in blocks:
        sd = block[items].std(ddof=0)
        const = [c for c in items if not (sd[c] > 0)]
        if const:
            vals = [block[c].dropna().iloc[0] if block[c].notna().any() else float("nan") for c in const]
            where = f" of group {name!r}" if group is not None else ""
            raise DataError(
                f"{len(const)} item(s) have zero variance in the {len(block)} rows used{where}: "
                "items without variance cannot enter a covariance model",
                file=file, column=const, values=vals,
                hint="drop these items from the model (every respondent gave the same answer)",
            )
    return used, limits, info, file


def _sample_cov(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    Xc = X - mean
    return Xc.T @ Xc / len(X), mean


def _check_pd(S: np.ndarray, items: Sequence[str], file: str | None, where: str = "") -> None:
    """Refuse a singular sample covariance matrix; the test is on the
    correlations, so that items on very different scales (a variance of
    1e6 beside one of 1e-6) are not taken for linear combinations."""
    d = np.sqrt(np.clip(np.diag(S), 1e-300, None))
    w, v = np.linalg.eigh(S / d[:, None] / d[None, :])
    if w[0] <= 1e-10 * max(w[-1], 1e-300):
        involved = [items[i] for i in np.flatnonzero(np.abs(v[:, 0]) > 0.2)]
        raise EstimationError(
            f"the sample covariance matrix of the items{where} is not positive definite "
            "(some items are linear combinations of others, or there are fewer rows than items)",
            file=file, column=involved,
            hint="drop duplicated or summed items, merge small groups, or collect more responses",
        )


# ---------------------------------------------------------------------------
# estimation
# ---------------------------------------------------------------------------
def _semopy_desc(rows: Sequence[Param]) -> str:
    lines = []
    for r in rows:
        if r.op == "~1":
            continue
        if r.free < 0:
            term = f"{r.value!r}*{r.rhs}"
        elif r.label:
            term = f"lbl_{r.label}*{r.rhs}"
        else:
            term = r.rhs
        lines.append(f"{r.lhs} {r.op} {term}")
    return "\n".join(lines)


def _semopy_start(table: ParTable, frame: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    """Start values from a fresh semopy model of a single-group table (None
    when semopy fails); semopy only proposes numbers, the table is the model."""
    rows = table.group_rows(1)
    try:
        import semopy

        model = semopy.Model(_semopy_desc(rows))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = model.fit(frame, obj="MLW")
        mats = {
            "lambda": (model.mx_lambda, model.names_lambda),
            "beta": (model.mx_beta, model.names_beta),
            "psi": (model.mx_psi, model.names_psi),
            "theta": (model.mx_theta, model.names_theta),
        }
    except Exception as exc:  # semopy raises many kinds; we fall back to our own starts
        return None, f"semopy failed ({type(exc).__name__}: {exc}); csmlib's own start values used"

    def lookup(matrix_names, a, b):
        for key in matrix_names:
            M, (rn, cn) = mats[key]
            if a in rn and b in cn:
                return float(M[rn.index(a), cn.index(b)])
        return None

    theta = _table_start(table)
    for r in rows:
        if r.free < 0 or r.op == "~1":
            continue
        if r.op == "=~":
            v = lookup(("lambda", "beta"), r.rhs, r.lhs)
        elif r.op == "~":
            v = lookup(("beta", "lambda"), r.lhs, r.rhs)
        else:
            v = lookup(("psi", "theta"), r.lhs, r.rhs)
        if v is not None and np.isfinite(v):
            theta[r.free] = v
    return theta, str(getattr(res, "message", "")).strip()


def _table_start(table: ParTable) -> np.ndarray:
    """The start values of the table (the first row of each free parameter)."""
    theta = np.full(table.k, np.nan)
    for r in table.rows:
        if r.free >= 0 and np.isnan(theta[r.free]):
            theta[r.free] = r.value
    return theta


#: lavaan's optim.dx.tol: at a solution every element of the gradient of the
#: ML objective (minus the loglikelihood / N), each in its parameter's
#: natural unit (:func:`~csmlib.estimate.ram.natural_units`, near 1 for
#: items on rating scales), is below this
GRADIENT_TOL = 1e-3


def _converged(lik: Likelihood, theta: np.ndarray, reached: bool) -> tuple[bool, str]:
    """Convergence checked, not trusted: the optimizer reached a stationary
    point, the gradient is small there and every implied covariance is
    positive definite."""
    ll, grad, info = lik.evaluate(theta)
    if not np.isfinite(ll):
        return False, "the implied covariance matrix is not positive definite at the solution"
    # each element in its parameter's natural unit: the gradient of a variance of 1e-12
    # (an item in other units) is 1e12 times that of the same variance in the usual units
    gmax = float(np.max(np.abs(grad) * natural_units(info, lik.N))) / lik.N if len(grad) else 0.0
    if gmax > GRADIENT_TOL:
        return False, f"the gradient is not zero at the solution (largest element {gmax:.2g})"
    if not reached:
        return False, "the optimizer stopped before reaching a solution"
    return True, ""


def _estimate(lik: Likelihood, starts: Sequence):
    """Fisher scoring from each start in turn until one converges (as
    lavaan's optim.attempts); else the best of them, not converged.

    Parameters
    ----------
    starts : sequence of callables
        Each returns a start vector, or None when it has none; called only
        when the starts before it failed.

    Returns
    -------
    theta, converged, n_iter, message, the start that was used
    """
    tried = []
    for make in starts:
        theta0 = make()
        if theta0 is None or not np.all(np.isfinite(theta0)):
            continue
        theta, reached, n_iter, msg = lik.fisher_scoring(theta0)
        ok, why = _converged(lik, theta, reached)
        tried.append((theta, ok, n_iter, why or msg, make))
        if ok:
            return theta, True, n_iter, msg, make
    if not tried:
        raise EstimationError("no usable start values for the model",
                              hint="check that every construct has indicators with variance")
    theta, _, _, why, make = max(tried, key=lambda t: lik.loglik(t[0]))
    return theta, False, sum(t[2] for t in tried), why, make


def _moments(X: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (divisor N) of the complete rows of X, or the EM
    (saturated FIML) estimates when values are missing; weighted by the case
    weights ``w`` (summing to N) when given."""
    if not np.isnan(X).any():
        pt = patterns(X, w)[0]
        return pt.mean, pt.cov
    mu, Sig, _ = _fiml_saturated(X, w)
    return mu, Sig


def _fiml_saturated(X: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """EM estimates of the unrestricted mean and covariance, and their
    loglikelihood (case weights ``w`` summing to N, or none)."""
    mu, var = item_moments(X, w)
    Sig = np.diag(var)
    pats = patterns(X, w)
    n = sum(pt.n for pt in pats)
    for _ in range(1000):
        T1 = np.zeros_like(mu)
        T2 = np.zeros_like(Sig)
        for pt in pats:
            o, m = pt.observed, ~pt.observed
            Xo = pt.rows
            full = np.empty((len(Xo), len(mu)))
            full[:, o] = Xo
            if m.any():
                Soo = Sig[np.ix_(o, o)]
                Smo = Sig[np.ix_(m, o)]
                reg = np.linalg.solve(Soo, Smo.T).T
                full[:, m] = mu[m] + (Xo - mu[o]) @ reg.T
                T2[np.ix_(m, m)] += pt.n * (Sig[np.ix_(m, m)] - reg @ Smo.T)
            wf = full if pt.weights is None else full * pt.weights[:, None]
            T1 += wf.sum(axis=0)
            T2 += wf.T @ full
        mu_new = T1 / n
        Sig_new = T2 / n - np.outer(mu_new, mu_new)
        done = np.max(np.abs(Sig_new - Sig)) < 1e-10 and np.max(np.abs(mu_new - mu)) < 1e-10
        mu, Sig = mu_new, Sig_new
        if done:
            break
    ll = 0.0
    for pt in pats:
        o = pt.observed
        So = Sig[np.ix_(o, o)]
        d = pt.mean - mu[o]
        ll += -0.5 * pt.n * (o.sum() * np.log(2 * np.pi) + np.linalg.slogdet(So)[1]
                             + np.sum(np.linalg.inv(So) * (pt.cov + np.outer(d, d))))
    return mu, Sig, ll


# ---------------------------------------------------------------------------
# defined parameters
# ---------------------------------------------------------------------------
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs}
_NP_FUNCS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "abs": np.abs}


#: an R name as lavaan accepts for a label ("a", "is", "b_2", "c.1")
_R_NAME = re.compile(r"(?<![\w.])(?:[A-Za-z][\w.]*|\.[A-Za-z_][\w.]*)")


def _eval_tree(expression: str, values: dict[str, Any], name: str, funcs: dict[str, Any]) -> Any:
    # Labels are R names, which may be Python keywords ("is", "in") or hold
    # dots ("a.1"): each name is parsed as a neutral alias and looked up by
    # its original spelling.
    aliases: dict[str, str] = {}

    def alias(m: re.Match) -> str:
        return aliases.setdefault(m.group(0), f"_p{len(aliases)}")

    text = _R_NAME.sub(alias, expression.replace("^", "**"))
    original = {v: k for k, v in aliases.items()}

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            label = original.get(node.id, node.id)
            if label not in values:
                raise SpecError(
                    f"defined parameter {name!r} uses {label!r}, which is not a parameter label",
                    values=[label],
                    hint="label the parameter in the model (e.g. 'Satisfaction ~ a*Quality') or fix the name",
                )
            return values[label]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and original.get(node.func.id) in funcs and len(node.args) == 1:
            return funcs[original[node.func.id]](ev(node.args[0]))
        raise SpecError(f"cannot evaluate the defined parameter {name!r}: {expression!r}",
                        values=[expression], hint="use labels, numbers, + - * / ^ and sqrt/exp/log/abs")

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"defined parameter {name!r} is not a valid expression: {expression!r}",
                        values=[expression], hint="write it as in lavaan, e.g. 'ind := a*b'") from exc
    return ev(tree)


def defined_many(results: Results, theta: np.ndarray) -> np.ndarray:
    """Defined parameters (``name := expression``) of a CB-SEM model for
    many free-parameter vectors at once (e.g. bootstrap refits).

    Parameters
    ----------
    results : Results
        A :func:`fit_cbsem` result.
    theta : ndarray (B, k)
        Free-parameter vectors (as :func:`refit_many` returns).

    Returns
    -------
    ndarray (B, m)
        One column per defined parameter, in the order of
        ``results.spec.defined``; NaN where the expression is undefined
        (division by zero, log of a negative number, ...).
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    with np.errstate(all="ignore"):
        values = _defined_values(results.extra["table"], theta, _NP_FUNCS)
    cols = [np.where(np.isfinite(v), v, np.nan) for v in
            (np.broadcast_to(np.asarray(values[d.name], dtype=float), (len(theta),))
             for d in results.spec.defined)]
    return np.column_stack(cols) if cols else np.empty((len(theta), 0))


def _defined_values(table: ParTable, theta: np.ndarray, funcs: dict[str, Any]) -> dict[str, Any]:
    """Values of every label and defined parameter (a ``:=`` may use earlier
    ones) for ``theta`` of shape ``(k,)`` or ``(B, k)``."""
    values: dict[str, Any] = {}
    for r in table.rows:
        if r.label and r.label not in values:
            values[r.label] = theta[..., r.free] if r.free >= 0 else (
                np.full(theta.shape[:-1], r.value) if theta.ndim > 1 else r.value)
    return _evaluate_defined(table, values, funcs)


def _evaluate_defined(table: ParTable, values: dict[str, Any], funcs: dict[str, Any]) -> dict[str, Any]:
    """``values`` (one per label) with every defined parameter added, in order."""
    for dfn in table.defined:
        try:
            values[dfn.name] = _eval_tree(dfn.expression, values, dfn.name, funcs)
        except (ZeroDivisionError, ValueError, OverflowError):
            values[dfn.name] = float("nan")
    return values


def _num_jacobian(fun, theta: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    """Central differences of ``fun`` at ``theta``, each step 1e-6 of its
    parameter's scale: ``|theta|``, or its standard error when larger (not 1:
    a loading of 1e-6, an item in other units, would be stepped by itself)."""
    f0 = np.atleast_1d(fun(theta))
    J = np.zeros((len(f0), len(theta)))
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    unit = np.where(np.isfinite(se) & (se > 0), np.maximum(np.abs(theta), se), np.maximum(1.0, np.abs(theta)))
    for i in range(len(theta)):
        h = 1e-6 * unit[i]
        e = np.zeros_like(theta)
        e[i] = h
        J[:, i] = (np.atleast_1d(fun(theta + e)) - np.atleast_1d(fun(theta - e))) / (2 * h)
    return J


# ---------------------------------------------------------------------------
# the public estimator
# ---------------------------------------------------------------------------
@one_blas_thread
def fit_cbsem(
    spec: ModelSpec,
    data: Any,
    estimator: str = "ML",
    missing: str = "listwise",
    robust: bool = False,
    *,
    weights: str | None = None,
    group: str | None = None,
    group_equal: Sequence[str] = (),
    group_partial: Sequence = (),
    se: str = "standard",
    level: float = 0.95,
    start: str = "simple",
    ordered: bool | Sequence[str] | None = None,
) -> Results:
    """Estimate a model by covariance-based SEM (maximum likelihood), as lavaan.

    Parameters
    ----------
    spec : ModelSpec
        Reflective and single-item constructs, second-order constructs,
        observed variables in regressions, paths, covariances, intercepts,
        labels, fixed values, ``c(a, b)*`` group modifiers, ``a == b``
        constraints and defined parameters.  Composites (mode B, ``<~``)
        raise :class:`~csmlib.errors.SpecError` (use :func:`csmlib.fit_pls`).
    data : DataFrame or Survey
        One column per observed variable (a Survey's ``.data`` is used, with
        its ``.scale_limits``).
    estimator : {"ML", "MLR", "MLM", "WLSMV", "DWLS", "ULS"}
        ``"WLSMV"`` / ``"DWLS"`` / ``"ULS"``: ordered items by weighted
        least squares on their polychoric correlations, as lavaan's
        ``ordered =`` (see :mod:`csmlib.estimate.wls`; they need
        ``ordered``).  Normal-theory maximum likelihood; ``"MLR"``: the same estimates with
        Huber-White SEs from the observed information and the Yuan-Bentler
        (Mplus variant) scaled test, also with ``missing="fiml"``; ``"MLM"``:
        Satorra-Bentler SEs and scaled test, complete data only (see
        :mod:`csmlib.estimate.robust`; one or several groups; no fixed
        covariates).  Robust fits add lavaan's scaled and robust indices to
        ``fit_indices`` (``chisq_scaled``, ``df_scaled``, ``pvalue_scaled``,
        ``chisq_scaling_factor``, ``baseline_chisq_scaled``,
        ``baseline_df_scaled``, ``baseline_chisq_scaling_factor``,
        ``cfi_scaled``, ``tli_scaled``, ``cfi_robust``, ``tli_robust``,
        ``rmsea_scaled``, ``rmsea_ci_lower_scaled``,
        ``rmsea_ci_upper_scaled``, ``rmsea_robust``,
        ``rmsea_ci_lower_robust``, ``rmsea_ci_upper_robust``).
    missing : {"listwise", "fiml", "pairwise"}
        Listwise deletion (rows dropped are recorded in ``data_info``) or
        full-information ML (with a mean structure; a row without a value
        of an observed covariate of fixed.x is dropped, as lavaan does, and
        recorded in ``data_info``); ``"pairwise"`` for ordered items only
        (lavaan ``missing = "pairwise"``).
    robust : bool
        Huber-White sandwich standard errors from the expected information
        (see the module docstring); same as ``se="robust"``.  Complete data
        only; ``estimator="MLR"`` is lavaan's robust choice.
    weights : str, optional
        A column of ``data`` holding survey weights (lavaan
        ``sampling.weights``): rescaled to sum to N over the rows used, they
        weight the moments (listwise) or the likelihood (FIML); the fit is
        then MLR (robust SEs and scaled test), as lavaan does, and
        ``options`` and ``message`` say so.  ``"MLM"`` with weights is
        refused; with ``group=`` the weights are rescaled to sum to N over
        all groups (lavaan's default), listwise only.
    group : str, optional
        A grouping column: a multi-group fit (lavaan ``group=``); groups are
        numbered 1, 2, ... in ``estimates`` in lavaan's order (the order of
        first appearance in the data, or a categorical's categories).
    group_equal : sequence of str
        Parameter classes held equal across groups (lavaan ``group.equal``):
        any of ``loadings, intercepts, means, residuals,
        residual.covariances, lv.variances, lv.covariances, regressions``.
    group_partial : sequence
        Exceptions to ``group_equal`` (lavaan ``group.partial``): lavaan
        syntax (``"x3 ~ 1"``, ``"visual =~ x2"``) or ``(class, name)`` pairs.
    se : {"standard", "robust", "none"}
    level : float
        Confidence level of the Wald intervals.
    start : {"simple", "semopy"}
        The first start of the Fisher scoring: the table's simple start
        values (loadings from the marker covariances) or semopy's estimates
        (single-group fits).  When the first start does not converge, the
        other is tried (semopy is then fitted only if needed), then unit
        loadings.
    ordered : True or sequence of str, optional
        Items to treat as ordered categories (lavaan ``ordered =``): True
        for every observed variable of the model; with a list, the other
        items of the model are continuous indicators (listwise).  The fit is then WLSMV
        (or the ``estimator`` given among WLSMV, DWLS, ULS), with
        thresholds in ``estimates`` (op ``"|"``, rhs ``"t1"``, ...) and
        lavaan's scaled fit indices; ML with ordered items is refused.

    Returns
    -------
    Results
        ``method="cbsem"``.  ``estimates`` has columns ``lhs, op, rhs,
        label, est, se, z, pvalue, ci_lower, ci_upper, std_all`` (and
        ``group``, 1-based, for a multi-group fit); ``effects`` has ``lhs,
        rhs, direct, indirect, total, direct_se, indirect_se, total_se``
        (and ``group``); ``fit_indices`` has ``chisq, df, pvalue, cfi, tli,
        rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic`` (then
        ``baseline_chisq, baseline_df, logl, npar``); ``r2`` by endogenous
        construct or observed outcome of a ``~``, an indicator's too (by group
        and construct for several groups; NaN where the residual variance is
        negative, as lavaan); ``effects`` among the constructs and
        the observed variables of the structural model; ``scores``
        are regression-method factor scores.  ``extra`` holds ``table``
        (:class:`~csmlib.estimate.partable.ParTable`), ``likelihood``
        (:class:`~csmlib.estimate.ram.Likelihood`, the evaluation interface),
        ``ram`` (group 1's :class:`~csmlib.estimate.ram.RamModel`),
        ``theta``, ``vcov``, ``sample_cov``, ``implied_cov``, ``sample_mean``
        (group 1; per group under ``*_groups``), ``free_index``
        (free-parameter index of each estimates row, -1 when fixed or
        defined), ``groups`` and ``group_n``.

    Raises
    ------
    SpecError, DataError, EstimationError
        Among the SpecErrors: a construct named like a column of the data,
        a ``~~`` / ``~ 1`` statement on an observed covariate of fixed.x,
        a ``group_partial`` entry that names no parameter.
    """
    from .wls import WLS_ESTIMATORS, fit_ordered

    wls = str(estimator).upper() in WLS_ESTIMATORS
    if ordered is not None and ordered is not False and not wls:
        raise SpecError(f'ordered items are estimated by WLSMV, DWLS or ULS, not {estimator!r}',
                        values=[estimator], hint='use estimator="WLSMV" (lavaan\'s default for ordered items)')
    if wls:
        if weights is not None or group_partial:
            raise SpecError(f"estimator {str(estimator).upper()!r} with survey weights or group_partial is not "
                            "available", values=[weights or str(group_partial)],
                            hint="use ML/MLR for weighted fits; hold whole classes equal with group_equal")
        if group is None and group_equal:
            raise SpecError("group_equal needs a multi-group fit", values=list(group_equal),
                            hint="give the grouping column: fit_cbsem(spec, data, group='column', ...)")
        if ordered is None or ordered is False:
            raise SpecError(f"estimator {str(estimator).upper()!r} is available for ordered items only "
                            "(lavaan would fit continuous items by DWLS, which csmlib does not)",
                            values=[estimator],
                            hint="name the ordered items: ordered=True (every item) or ordered=[...]; "
                                 'for continuous items use estimator="MLR"')
        if robust:
            se = "robust"
        return fit_ordered(spec, data, estimator=estimator, ordered=ordered, missing=missing, level=level,
                           se="default" if se == "standard" and not robust else se, group=group,
                           group_equal=(group_equal,) if isinstance(group_equal, str) else tuple(group_equal))
    if missing not in ("listwise", "fiml"):
        raise SpecError(f"missing={missing!r} is not one of 'listwise', 'fiml'", values=[missing],
                        hint="use missing='listwise' or missing='fiml'")
    estimator = check_estimator(estimator, missing, weights)
    if se not in ("standard", "robust", "none"):
        raise SpecError(f"se={se!r} is not one of 'standard', 'robust', 'none'", values=[se])
    robust = bool(robust) or se == "robust"
    if robust and missing == "fiml":
        raise SpecError("robust standard errors are implemented for complete data only",
                        hint="use missing='listwise' with robust=True, or robust=False with FIML")
    if start not in ("semopy", "simple"):
        raise SpecError(f"start={start!r} is not one of 'semopy', 'simple'", values=[start])
    if not (0 < level < 1):
        raise SpecError(f"level must be between 0 and 1, got {level}", values=[level])
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if group is None and (group_equal or group_partial):
        raise SpecError("group_equal and group_partial need a multi-group fit", values=list(group_equal),
                        hint="give the grouping column: fit_cbsem(spec, data, group='column', ...)")
    n_mod = {len(r.groups) for r in spec.relations if getattr(r, "groups", None) is not None}
    check = build_partable(spec, max(n_mod) if n_mod else (2 if group else 1),
                           group_equal=group_equal, group_partial=group_partial)  # spec errors first
    if group is not None and weights is not None and missing == "fiml":
        raise SpecError("survey weights with missing=\"fiml\" in a multi-group fit: not available (lavaan "
                        "0.6.14 truncates the weighted group sizes to integers in its FIML-corrected "
                        "robust CFI, TLI and RMSEA, so there is no reference to agree with)",
                        values=[weights, group],
                        hint='use missing="listwise" for the weighted multi-group fit, or fit each group '
                             "on its own with FIML")
    if estimator != "ML" and check.exogenous_x:
        raise SpecError(f'estimator "{estimator}"' + (" (survey weights)" if weights is not None else "")
                        + " is not available for models with fixed observed covariates (fixed.x: "
                        + ", ".join(check.exogenous_x) + "): their robust correction is not implemented",
                        values=list(check.exogenous_x),
                        hint='use estimator="ML", or measure the covariates by single-item constructs')
    frame, limits, info, file = _prepare(spec, data, missing, check.observed, group, check.exogenous_x,
                                         check.latent)
    items = list(check.observed)
    w = None if weights is None else survey_weights(input_frame(data, "fit_cbsem")[0], weights, frame.index, file)
    if group is None:
        blocks = [("1", frame)]
    else:
        blocks = _group_blocks(frame)
    G = len(blocks)
    Xs = [b[items].to_numpy(dtype=float) for _, b in blocks]
    # survey weights rescaled to sum to N over all groups (lavaan's sampling.weights.normalization
    # = "total"), each group's rows with their own
    ws = [None] * G if w is None else [w[frame.index.get_indexer(b.index)] for _, b in blocks]
    n_g = [len(X) for X in Xs]
    n = sum(n_g)
    for (name, _), X in zip(blocks, Xs):
        if len(X) < 2 or (~np.isnan(X).any(axis=1)).sum() < 1 and missing == "listwise":
            raise EstimationError(f"only {len(X)} complete row(s) to estimate from"
                                  + (f" in group {name!r}" if group else ""), file=file,
                                  hint="collect more responses")
    saturated = [_fiml_saturated(X, wg) if np.isnan(X).any() else None for X, wg in zip(Xs, ws)]
    moments = [(sat[0], sat[1]) if sat is not None else _moments(X, wg) for X, wg, sat in zip(Xs, ws, saturated)]
    fiml = missing == "fiml"
    table = build_partable(spec, G, meanstructure=fiml, group_equal=group_equal,
                           group_partial=group_partial, moments=moments)
    npar = table.k
    if n < npar:
        raise EstimationError(
            f"fewer observations ({n}) than free parameters ({npar})", file=file,
            values=[n, npar], hint="simplify the model or collect more responses",
        )
    if not fiml:
        for (name, _), (_, S), X in zip(blocks, moments, Xs):
            _check_pd(S, items, file, f" in group {name!r} ({len(X)} rows)" if group else "")
    df = table.n_moments() - npar
    warn: list[str] = []
    if df < 0:   # lavaan fits it and reports no test; so do we, and say why
        msg = (f"the model has {npar} free parameters but only {table.n_moments()} sample moments "
               f"(df = {df}): it is not identified, and its chi-square and fit indices are not defined")
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    notice = unweighted_notice(data, "CB-SEM") if weights is None else None
    if notice:
        warn.append(notice)
        warnings.warn(notice, DataWarning, stacklevel=2)
    models = [RamModel(table.observed, table.latent, table.group_rows(g), k=npar) for g in range(1, G + 1)]
    lik = Likelihood(models, [patterns(X, wg) for X, wg in zip(Xs, ws)], table.meanstructure)
    # starts: semopy (single group, complete rows) and the table's simple starts
    simple = _table_start(table)
    notes = {"semopy": ""}

    def semopy_start() -> np.ndarray | None:
        Xc = Xs[0][~np.isnan(Xs[0]).any(axis=1)]
        if G > 1 or len(Xc) < 2:
            return None
        semo, notes["semopy"] = _semopy_start(table, pd.DataFrame(Xc, columns=items))
        if semo is not None and table.meanstructure:
            means = [r.free for r in table.rows if r.op == "~1" and r.free >= 0]
            semo[means] = simple[means]
        return semo

    def unit_start() -> np.ndarray:   # lavaan's "simple" start: every free loading 1
        th = simple.copy()
        th[[r.free for r in table.rows if r.op == "=~" and r.free >= 0]] = 1.0
        return th

    starts = ([semopy_start, lambda: simple] if start == "semopy" else [lambda: simple, semopy_start])
    starts.append(unit_start)
    theta, conv, n_iter, why, used = _estimate(lik, starts)
    smsg = notes["semopy"] or "simple start values"
    message = (("FIML" if fiml else "ML") + " by Fisher scoring from "
               + ("semopy's estimates" if used is semopy_start else "simple start values"))
    if not conv:
        msg = (f"estimation did not converge after {n_iter} iterations ({why}); "
               "the estimates are not trustworthy")
        message = msg
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    fit = _fit(lik, table, theta, Xs, ws, moments, fiml, saturated)
    # standard errors
    vcov = None
    if se != "none" and estimator != "ML":
        # robust SEs and scaled tests from the engine's moments, Delta, informations and scores
        try:
            vcov, scaled = robust_fit(lik, theta, estimator, fit, h1=moments, fiml=fiml)
            fit = pd.concat([fit, scaled])
            # identification as for ML: a sandwich around a singular information
            # is finite but meaningless (an MLR fit of a model that is not
            # identified reported standard errors without a word)
            info_m = lik.observed_information(theta) if fiml else lik.expected_information(theta)
            try:
                invert_information(info_m)
            except np.linalg.LinAlgError:
                vcov = None
                raise
        except np.linalg.LinAlgError:
            msg = "the information matrix is singular: the model is not identified; standard errors are not available"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
    elif se != "none":
        try:
            info_m = lik.observed_information(theta) if fiml else lik.expected_information(theta)
            A_inv = invert_information(info_m)
            if robust:
                scores = np.vstack(lik.scores(theta))
                vcov = A_inv @ (scores.T @ scores / n) @ A_inv / n
            else:
                vcov = A_inv / n
        except np.linalg.LinAlgError:
            msg = "the information matrix is singular: the model is not identified; standard errors are not available"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
            vcov = None
    # trouble: Heywood cases, non-PD implied covariance
    for r in table.rows:
        if r.op == "~~" and r.lhs == r.rhs and r.free >= 0 and theta[r.free] < 0:
            msg = (f"Heywood case: the variance {r.lhs} ~~ {r.rhs} is negative ({theta[r.free]:.4g})"
                   + (f" in group {r.group}" if G > 1 else "")
                   + "; the model is probably misspecified or the sample too small")
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
    implied = lik.implied(theta)
    for g, ram in enumerate(models):
        where = f" (group {g + 1})" if G > 1 else ""
        if np.linalg.eigvalsh(implied[g][0])[0] <= 0:
            msg = "the model-implied covariance matrix of the items is not positive definite" + where
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
        V = ram.total_covariance(theta)
        lat = np.arange(ram.p, ram.n)
        if len(lat) and np.linalg.eigvalsh(V[np.ix_(lat, lat)])[0] < 0:
            msg = "the covariance matrix of the constructs is not positive definite" + where
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
    estimates, r2, effects, free_index = solution_tables(spec, table, models, theta, vcov, level)
    scores = pd.concat([_scores(ram, theta, implied[g][0], b[items],
                                implied[g][1] if table.meanstructure else moments[g][0])
                        for g, (ram, (_, b)) in enumerate(zip(models, blocks))]).reindex(frame.index)
    if estimator == "ML" or se == "none":
        se_used = "robust.huber.white (expected information)" if robust else (
            "none" if se == "none" else ("observed" if fiml else "standard (expected information)"))
    else:
        se_used = ("robust.sem (Satorra-Bentler)" if estimator == "MLM"
                   else "robust.huber.white (observed information)")
        if conv:
            message += (f"; {estimator}: {se_used} standard errors and the "
                        + ("Satorra-Bentler" if estimator == "MLM" else "Yuan-Bentler (Mplus variant)")
                        + " scaled test" + ("; survey weights (lavaan sampling.weights)" if w is not None else ""))
    options = {"estimator": estimator, "weights": weights, "missing": missing, "se": se_used,
               "likelihood": "normal", "level": level, "start": start, "group": group,
        "group_equal": tuple(group_equal), "group_partial": tuple(group_partial)}
    if G > 1:
        info["groups"] = {name: int(k) for (name, _), k in zip(blocks, n_g)}
    return CbsemResults(
        spec=spec, method="cbsem", _estimates=estimates, _r2=r2, _effects=effects,
        _fit_indices=fit, _scores=scores, converged=bool(conv), n_iter=int(n_iter),
        message=message, n_obs=n, data_info=info, warnings=tuple(warn), options=options,
        _data=frame[items].copy(), _scale_limits=limits,
        extra={"table": table, "likelihood": lik, "ram": models[0], "theta": theta.copy(), "vcov": vcov,
               "sample_cov": moments[0][1], "implied_cov": implied[0][0], "sample_mean": moments[0][0],
               "sample_cov_groups": [m[1] for m in moments],
               "sample_mean_groups": [m[0] for m in moments], "implied_groups": implied,
               "free_index": np.array(free_index), "npar": npar, "groups": tuple(b[0] for b in blocks),
               "group_n": tuple(n_g), "semopy_message": smsg, "weights": w},
    )


def solution_tables(spec: ModelSpec, table: ParTable, models: Sequence[RamModel], theta: np.ndarray,
                    vcov: np.ndarray | None, level: float, *, observed_variances: Sequence | None = None,
                    fixed_se: float = float("nan")) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, list[int]]:
    """The estimates (with Wald intervals and ``std_all``), R-squared and
    effects of a fitted parameter table, group by group, then the defined
    parameters.

    Parameters
    ----------
    spec, table, models, theta, vcov, level :
        The fit (one :class:`RamModel` per group).
    observed_variances : sequence of arrays, optional
        Per group, the (residual) variances of the observed variables that
        are no parameters (ordered items in the delta parameterization):
        reported as their ``~~`` estimates and used for the standardized
        solution and R-squared.
    fixed_se : float
        The standard error shown for a fixed row when the fit has standard
        errors (lavaan shows 0 for its categorical fits).

    Returns
    -------
    estimates, r2, effects, free_index
        As :func:`fit_cbsem` reports them; ``free_index`` maps each row to
        its free parameter (-1 fixed or defined).
    """
    G = len(models)
    z_crit = stats.norm.ppf(0.5 + level / 2)
    endo = {to for _, to in spec.regressions}     # constructs and observed outcomes of a ~
    recs, free_index, r2_parts, eff_parts = [], [], [], []
    for g, ram in enumerate(models):
        A_mat, S_mat = ram.matrices(theta)
        if observed_variances is None:
            V = ram.total_covariance(theta)
        else:
            S_mat[np.arange(ram.p), np.arange(ram.p)] = observed_variances[g]
            E = np.linalg.inv(np.eye(ram.n) - A_mat)
            V = E @ S_mat @ E.T
        sd_all = np.sqrt(np.clip(np.diag(V), 0, None))
        for r in table.group_rows(g + 1):
            est = float(theta[r.free]) if r.free >= 0 else r.value
            if observed_variances is not None and r.matrix == "S" and r.i == r.j < ram.p and r.free < 0:
                est = float(S_mat[r.i, r.i])
            if r.free >= 0:
                s = float(np.sqrt(vcov[r.free, r.free])) if (vcov is not None and vcov[r.free, r.free] >= 0) \
                    else np.nan
            else:
                s = fixed_se if vcov is not None else np.nan
            if r.matrix == "A":
                std = est * sd_all[r.j] / sd_all[r.i] if sd_all[r.i] > 0 else np.nan
            elif r.matrix in ("M", "T"):
                std = est / sd_all[r.i] if sd_all[r.i] > 0 else np.nan
            elif r.matrix == "D":
                std = 1.0            # lavaan's std.all of a scaling factor
            elif r.i == r.j:
                std = est / V[r.i, r.i] if V[r.i, r.i] > 0 else np.nan
            else:
                # with a negative (Heywood) variance lavaan divides by sqrt(|product|)
                den = abs(S_mat[r.i, r.i] * S_mat[r.j, r.j])
                std = est / np.sqrt(den) if den > 0 else np.nan
            recs.append(_row(r.lhs, r.op, r.rhs, r.label, est, s, z_crit, std) | {"group": g + 1})
            free_index.append(r.free)
        nodes, node_idx, mask = structural_nodes(spec, ram)
        # none beside a negative residual variance (a Heywood case; lavaan: NA)
        r2g = pd.Series({f: 1 - S_mat[i, i] / V[i, i] if S_mat[i, i] >= 0 else np.nan
                         for f, i in zip(nodes, node_idx) if f in endo}, dtype=float)
        eff = _effects(ram, theta, vcov, nodes, node_idx, mask)
        if G > 1:
            r2g.index = pd.MultiIndex.from_product([[g + 1], r2g.index], names=["group", "construct"])
            eff.insert(0, "group", g + 1)
        r2_parts.append(r2g)
        eff_parts.append(eff)
    # defined parameters (a := may use earlier ones); their std_all is the
    # expression of the labels' std_all values, as lavaan's standardizedSolution
    values = _defined_values(table, theta, _FUNCS)
    std_labels: dict[str, Any] = {}
    for rec in recs:
        if rec["label"] and rec["label"] not in std_labels:
            std_labels[rec["label"]] = rec["std_all"]
    with np.errstate(all="ignore"):
        std_values = _evaluate_defined(table, std_labels, _FUNCS)
    for dfn in spec.defined:
        est = float(values[dfn.name])
        s = np.nan
        if vcov is not None:
            J = _num_jacobian(lambda th, nm=dfn.name: float(_defined_values(table, th, _FUNCS)[nm]), theta,
                              vcov)
            s = float(np.sqrt(max((J @ vcov @ J.T)[0, 0], 0.0)))
        recs.append(_row(dfn.name, ":=", dfn.expression, dfn.name, est, s, z_crit,
                         float(std_values[dfn.name])) | {"group": 0})
        free_index.append(-1)
    estimates = tidy_estimates(pd.DataFrame(recs))
    if G > 1:
        estimates.insert(3, "group", np.array([r["group"] for r in recs], dtype=int))
    r2 = pd.concat(r2_parts) if G > 1 else r2_parts[0]
    if G == 1:
        r2.index.name = "construct"
    effects = pd.concat(eff_parts, ignore_index=True) if G > 1 else eff_parts[0]
    return estimates, r2, effects, free_index


def _group_blocks(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The groups in lavaan's order: a categorical column's categories, else
    the order in which the values first appear in the data."""
    col = frame[_GROUP]
    if isinstance(col.dtype, pd.CategoricalDtype):
        order = [c for c in col.cat.categories if (col == c).any()]
    else:
        order = list(pd.unique(col))
    return [(str(k), frame[col == k]) for k in order]


def _fit(lik: Likelihood, table: ParTable, theta: np.ndarray, Xs: list[np.ndarray], ws: list,
         moments: list[tuple[np.ndarray, np.ndarray]], fiml: bool, saturated: list) -> pd.Series:
    """Fit indices as lavaan: chisq = 2 (logl_h1 - logl), the saturated and
    the baseline (independence) model estimated by FIML too under FIML; the
    covariates of ``fixed.x`` stay saturated in the baseline and the
    reported logl (so AIC and BIC) is conditional on them (the joint
    loglikelihood minus that of the covariates); SRMR averaged over groups
    with weights n_g / N; RMSEA times sqrt(G)."""
    G = table.n_groups
    N = lik.N
    x_idx = [table.observed.index(v) for v in table.exogenous_x]
    y_idx = [i for i in range(len(table.observed)) if i not in x_idx]
    ll = lik.loglik(theta)
    ll_h1 = ll0 = ll_x = 0.0
    srmr_w = 0.0
    implied = lik.implied(theta)
    for g, X in enumerate(Xs):
        mean, S = moments[g]
        n = lik.n_obs[g]        # the group's rows, or the sum of their survey weights
        p = S.shape[0]
        if fiml:
            ll_h1 += (saturated[g] or _fiml_saturated(X, ws[g]))[2]
            ll_xg = _fiml_saturated(X[:, x_idx], ws[g])[2] if x_idx else 0.0
            ll0 += _independence_loglik(X[:, y_idx], ws[g]) + ll_xg
        else:
            ll_h1 += -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + p)
            nx = len(x_idx)
            ll_xg = -0.5 * n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(S[np.ix_(x_idx, x_idx)])[1]
                                + nx) if x_idx else 0.0
            S0 = np.diag(np.diag(S))
            if x_idx:
                S0[np.ix_(x_idx, x_idx)] = S[np.ix_(x_idx, x_idx)]
            ll0 += -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(S0)[1] + p)
        ll_x += ll_xg
        Sigma, mu = implied[g]
        srmr_g = srmr(S, Sigma, mean, mu) if table.meanstructure else srmr(S, Sigma)
        srmr_w += n / N * srmr_g
    p, nx = len(table.observed), len(x_idx)
    df0 = G * (p * (p - 1) // 2 - nx * (nx - 1) // 2)
    if table.n_moments() < table.k:
        out = fit_measures(chisq=0.0, df=0, chisq0=max(2 * (ll_h1 - ll0), 0.0), df0=df0, n=N, logl=ll - ll_x,
                           npar=table.k, srmr_value=srmr_w, groups=G)
        out[["chisq", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper"]] = np.nan
        out["df"] = float(table.n_moments() - table.k)
        return out
    return fit_measures(chisq=max(2 * (ll_h1 - ll), 0.0), df=table.n_moments() - table.k,
                        chisq0=max(2 * (ll_h1 - ll0), 0.0), df0=df0, n=N, logl=ll - ll_x, npar=table.k,
                        srmr_value=srmr_w, groups=G)


def _row(lhs, op, rhs, label, est, se, z_crit, std):
    ok = np.isfinite(se) and se > 0
    z = est / se if ok else np.nan
    return {"lhs": lhs, "op": op, "rhs": rhs, "label": label, "est": est, "se": se, "z": z,
            "pvalue": 2 * stats.norm.sf(abs(z)) if ok else np.nan,
            "ci_lower": est - z_crit * se if ok else np.nan,
            "ci_upper": est + z_crit * se if ok else np.nan, "std_all": std}


def structural_nodes(spec: ModelSpec, ram: RamModel) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The variables of the structural model: every construct of the RAM
    model, then the observed variables that a ``~`` names (an observed
    outcome ``y5 ~ y1 + ind60``, a covariate ``visual ~ ageyr``, an
    indicator regressed on a covariate ``x3 ~ ageyr``).

    Returns
    -------
    names : list of str
    index : ndarray of int
        Each name's position in the RAM matrices.
    mask : ndarray (k, k)
        1 where ``A[index[i], index[j]]`` is a structural effect of
        ``names[j]`` on ``names[i]``: every pair of constructs (paths and
        second-order loadings, as before), and for a pair with an observed
        variable only the regressions of the spec (an observed outcome may
        also be an indicator: its loading is no structural effect).
    """
    regressions = spec.regressions
    on_paths = {v for pair in regressions for v in pair}
    obs = [v for v in ram.observed if v in on_paths]
    names = list(ram.latent) + obs
    index = np.array([ram.p + i for i in range(len(ram.latent))] + [ram.observed.index(v) for v in obs],
                     dtype=int)
    k, nl = len(names), len(ram.latent)
    mask = np.zeros((k, k))
    mask[:nl, :nl] = 1.0
    pos = {v: i for i, v in enumerate(names)}
    for frm, to in regressions:
        if frm in pos and to in pos:
            mask[pos[to], pos[frm]] = 1.0
    return names, index, mask


def _effects(ram: RamModel, theta: np.ndarray, vcov: np.ndarray | None, names: list[str],
             index: np.ndarray, mask: np.ndarray) -> pd.DataFrame:
    """Direct, indirect and total effects among the structural ``names``
    (:func:`structural_nodes`), with delta-method standard errors."""

    def Bmat(th):
        A, _ = ram.matrices(th)
        return A[np.ix_(index, index)] * mask

    tab = effects_table(Bmat(theta), names)
    for c in ("direct_se", "indirect_se", "total_se"):
        tab[c] = np.nan
    if vcov is None or not len(tab):
        return tab
    ii = np.array([names.index(x) for x in tab["lhs"]])
    jj = np.array([names.index(x) for x in tab["rhs"]])
    eye = np.eye(len(names))

    def fun(th):
        B = Bmat(th)
        T = np.linalg.inv(eye - B) - eye
        return np.concatenate([B[ii, jj], T[ii, jj] - B[ii, jj], T[ii, jj]])

    J = _num_jacobian(fun, theta, vcov)
    se = np.sqrt(np.clip(np.einsum("ik,kl,il->i", J, vcov, J), 0, None))
    m = len(tab)
    tab["direct_se"], tab["indirect_se"], tab["total_se"] = se[:m], se[m:2 * m], se[2 * m:]
    # a direct effect that is not a path of the model has no standard error
    tab.loc[tab["direct"] == 0, "direct_se"] = np.nan
    tab.loc[tab["indirect"].abs() < 1e-12, "indirect_se"] = np.nan
    return tab


def _scores(ram, theta, Sigma, frame, mu) -> pd.DataFrame:
    """Regression-method (Thurstone) factor scores; NaN for incomplete rows."""
    V = ram.total_covariance(theta)
    C = V[ram.p:, : ram.p]  # cov(construct, item)
    try:
        W = np.linalg.solve(Sigma, C.T)
    except np.linalg.LinAlgError:
        W = np.full(C.T.shape, np.nan)
    sc = (frame.to_numpy() - mu) @ W
    return pd.DataFrame(sc, index=frame.index, columns=list(ram.latent))


def _independence_loglik(X: np.ndarray, w: np.ndarray | None = None) -> float:
    """Loglikelihood of the independence (baseline) model under FIML.

    With a diagonal covariance the likelihood factorizes over variables, so
    the FIML estimates are each variable's mean and (divide-by-n) variance
    over its observed values (weighted by ``w`` when given)."""
    w = np.ones(len(X)) if w is None else w
    _, v = item_moments(X, w)
    n_obs = np.where(~np.isnan(X), w[:, None], 0.0).sum(axis=0)
    return float(np.sum(-0.5 * n_obs * (np.log(2 * np.pi * v) + 1.0)))


# ---------------------------------------------------------------------------
# fast refits for the bootstrap
# ---------------------------------------------------------------------------
def refit_many(
    results: Results,
    covariances: np.ndarray,
    n: int | None = None,
    *,
    means: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray]:
    """ML refits of a single-group CB-SEM model on many covariance matrices at once.

    Fisher scoring on the covariance structure of the parameter table,
    warm-started from the full-sample estimates (no semopy).  The ML
    estimates of the covariance structure depend on the data only through
    the covariance matrix; with a mean structure whose intercepts are all
    free (FIML fits), the intercepts follow from ``means`` (without them
    they keep their full-sample values).

    Parameters
    ----------
    results : Results
        A single-group :func:`fit_cbsem` result.
    covariances : ndarray (B, p, p)
        Sample covariances (divisor N) of the observed variables, in the
        order of ``results.extra["table"].observed``.
    n : int, optional
        Observations per resample (unused by the estimates).
    means : ndarray (B, p), optional
        Sample means of the resamples.
    max_iter, tol :
        Fisher-scoring limits.

    Returns
    -------
    estimates : ndarray (B, k)
        Free-parameter vectors; column ``k`` is row ``k`` of
        :func:`free_parameters` (``results.extra["free_index"]`` maps each
        row of ``results.estimates`` to its column, -1 when fixed/defined).
    converged : ndarray of bool (B,)
    """
    if not isinstance(results, CbsemResults) or "table" not in results.extra:
        raise EstimationError("refit_many needs the result of csm.fit_cbsem",
                              hint="fit the model with csm.fit_cbsem first")
    ram, cov_free, intercepts = _covariance_part(results)
    C = np.asarray(covariances, dtype=float)
    if C.ndim == 2:
        C = C[None]
    if C.shape[1:] != (ram.p, ram.p):
        raise EstimationError(f"covariances must have shape (B, {ram.p}, {ram.p}), got {C.shape}")
    theta_full = np.broadcast_to(results.extra["theta"], (len(C), len(results.extra["theta"]))).copy()
    # chord steps (the information of the second iteration kept) are cheap; the few
    # resamples they do not bring to the optimum continue with plain Fisher scoring
    th, conv, _ = ram.fisher_scoring(theta_full[:, cov_free], C, max_iter=max_iter, tol=tol, refresh=2)
    slow = ~conv & np.isfinite(th).all(axis=1)
    if slow.any():
        th[slow], conv[slow], _ = ram.fisher_scoring(th[slow], C[slow], max_iter=max_iter, tol=tol)
    theta_full[:, cov_free] = th
    if means is not None and intercepts is not None:
        full = results.extra["ram"]
        m = np.asarray(means, dtype=float).reshape(len(C), ram.p)
        with np.errstate(all="ignore"):
            _, _, _, Gm = full._parts(theta_full)
            lat_means = full.means(theta_full)[:, ram.p:]
            rhs = m - np.einsum("bpl,bl->bp", Gm[:, :, ram.p:], lat_means)
            try:
                nu = np.linalg.solve(Gm[:, :, : ram.p], rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:
                nu = np.full(rhs.shape, np.nan)
        theta_full[:, intercepts] = nu
    conv = conv & np.all(np.isfinite(theta_full), axis=1)
    return theta_full, conv


def refit_standard_errors(results: Results, theta: np.ndarray, n: int) -> np.ndarray:
    """Standard errors of many refits of a single-group ML fit, batched:
    the inverse expected information divided by ``n`` (as :func:`fit_cbsem`
    with ``estimator="ML"`` on complete data), at each parameter vector.

    Parameters
    ----------
    results : Results
        The :func:`fit_cbsem` result the refits came from.
    theta : ndarray (B, k)
        Free-parameter vectors (:func:`refit_many`).
    n : int
        Observations of each refitted sample.

    Returns
    -------
    ndarray (B, k)
        Standard errors; NaN for the intercepts, and for a whole row whose
        information is singular or not finite.
    """
    ram, cov_free, _ = _covariance_part(results)
    th = np.atleast_2d(np.asarray(theta, dtype=float))
    out = np.full(th.shape, np.nan)
    ok = np.isfinite(th).all(axis=1)
    if not ok.any():
        return out
    with np.errstate(all="ignore"):
        info = ram.information(th[ok][:, cov_free])
        good = np.isfinite(info).all(axis=(1, 2))
        ev = np.linalg.eigvalsh(info[good])       # symmetric: condition number from the eigenvalues
        good[good] = ev[:, 0] > 1e-12 * ev[:, -1]
        var = np.full((len(info), len(cov_free)), np.nan)
        if good.any():
            var[good] = np.diagonal(np.linalg.inv(info[good]), axis1=1, axis2=2) / float(n)
    se = np.sqrt(np.where(var >= 0, var, np.nan))
    rows = np.flatnonzero(ok)
    out[rows[:, None], cov_free[None, :]] = se
    return out


def _covariance_part(results: Results):
    """The covariance structure of a single-group table as its own
    :class:`RamModel` (free indices renumbered), the global index of each of
    its parameters, and the global indices of the intercepts of the
    observed variables (in their order) when they are all free and
    distinct, else None."""
    cached = results.extra.get("_covariance_part")
    if cached is not None:
        return cached
    table: ParTable = results.extra["table"]
    if table.n_groups > 1:
        raise EstimationError("the bootstrap of a multi-group fit is not available",
                              hint="bootstrap each group's own fit (fit_cbsem on that group's rows)")
    if any(r.exo for r in table.rows):
        raise EstimationError("batched refits of models with fixed covariates (fixed.x) are not available",
                              hint='bootstrap this model with engine="loop"')
    rows = table.group_rows(1)
    cov_free = sorted({r.free for r in rows if r.free >= 0 and r.matrix != "M"})
    mean_rows = [r for r in rows if r.matrix == "M" and r.free >= 0]
    if {r.free for r in mean_rows} & set(cov_free):
        raise EstimationError("a label ties a mean to a covariance parameter: batched refits are not available",
                              hint='bootstrap this model with engine="loop"')
    remap = {f: i for i, f in enumerate(cov_free)}
    ram = RamModel(table.observed, table.latent,
                   [replace(r, free=remap[r.free]) if r.free >= 0 else r for r in rows if r.matrix != "M"])
    by_var = {r.lhs: r.free for r in mean_rows if r.lhs in table.observed}
    intercepts = None
    if table.meanstructure and len(by_var) == len(table.observed) and len(set(by_var.values())) == len(by_var):
        intercepts = np.array([by_var[v] for v in table.observed])
    out = (ram, np.array(cov_free, dtype=int), intercepts)
    results.extra["_covariance_part"] = out
    return out


def refit_cbsem(results: Results, data: pd.DataFrame) -> np.ndarray:
    """ML refit of a CB-SEM model on new data (e.g. one bootstrap resample).

    Returns
    -------
    ndarray (k,)
        Free-parameter vector (see :func:`refit_many`); NaN when the refit
        did not converge.
    """
    items = list(results.extra["table"].observed)
    frame, _, _ = input_frame(data, "fit_cbsem")
    X = frame[items].to_numpy(dtype=float)
    X = X[~np.isnan(X).any(axis=1)]
    S, mean = _sample_cov(X)
    theta, conv = refit_many(results, S[None], len(X), means=mean[None])
    return theta[0] if conv[0] else np.full(theta.shape[1], np.nan)
