"""Covariance-based SEM (maximum likelihood), matching lavaan.

:func:`fit_cbsem` estimates a :class:`~csmlib.spec.ModelSpec` by normal-theory
maximum likelihood the way lavaan's ``sem()`` does by default:

- marker-variable identification (the first loading of every construct is
  fixed to 1 unless the user fixed a loading of that construct);
- free residual variances of the items and variances of the constructs;
  covariances among exogenous constructs and among the residuals of pure
  outcome constructs (constructs that predict nothing), as lavaan's
  ``auto.cov.lv.x`` / ``auto.cov.y``; single-item constructs get their
  item's residual variance fixed to 0 (the construct *is* the item);
- likelihood "normal": the sample covariance has divisor N and
  ``chisq = N * F_ML``;
- standard errors from the inverse of the *expected* information matrix
  divided by N (lavaan ``information = "expected"``, the default for
  complete-data ML); z, two-sided p and 95% Wald intervals;
- ``robust=True``: Huber-White sandwich ``A^-1 B A^-1 / N`` with ``A`` the
  expected information and ``B`` the mean outer product of the casewise
  scores (lavaan ``se = "robust.huber.white"`` with ``information =
  "expected"``, i.e. the MLR standard errors of complete data when
  ``information = "expected"`` is requested);
- the completely standardized solution ``std_all`` as lavaan's ``std.all``.

semopy computes the point estimates (a fresh ``semopy.Model`` per fit; only
its parameter matrices are read, never ``inspect()``); csmlib then polishes
them by Fisher scoring on its own numpy RAM model (:mod:`csmlib.estimate.ram`) so that
the ML optimum is reached to 1e-9, and computes everything else itself.

``missing="fiml"``: full-information ML with a saturated mean structure
(every item has a free mean), maximized by csmlib over the missing-data
patterns (start: the listwise estimates); standard errors from the observed
information (numerical Hessian of the analytic FIML gradient), as lavaan's
default for ``missing = "ml"``.  The fit indices of a FIML fit are those of
the model against the FIML (EM) saturated model; its SRMR includes the mean
residuals and its AIC/BIC count the means, as lavaan's with a mean structure.
This holds on complete data too (estimates then equal the listwise ML ones;
the standard errors come from the observed instead of the expected
information), so that ``missing="fiml"`` always reproduces lavaan's
``missing = "ml"``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .effects import effects_table
from .prepare import check_answered, input_frame, unweighted_notice
from ..errors import DataError, DataWarning, EstimationError, EstimationWarning, SpecError
from .fitindices import fit_indices as _fit_indices
from .ram import ParamRow, RamModel
from .results import FIT_INDEX_NAMES, Results, tidy_estimates
from ..spec.modelspec import ModelSpec

__all__ = ["fit_cbsem", "build_ram", "refit_many", "refit_cbsem", "free_parameters", "defined_many"]


# ---------------------------------------------------------------------------
# specification -> RAM parameter table
# ---------------------------------------------------------------------------
def build_ram(spec: ModelSpec, variances: dict[str, float] | None = None) -> RamModel:
    """The lavaan-style parameter table of a CB-SEM model as a :class:`RamModel`.

    Parameters
    ----------
    spec : ModelSpec
    variances : dict, optional
        Observed item variances, used for start values only.

    Returns
    -------
    RamModel
        Rows in lavaan order: loadings, regressions, user covariances, then
        the default residual variances, construct variances and covariances.
    """
    if not isinstance(spec, ModelSpec):
        raise SpecError(
            f"fit_cbsem needs a ModelSpec, got {type(spec).__name__}",
            hint="build one with csm.ModelSpec.from_lavaan(text) or csm.models.acsi()",
        )
    composites = [c.name for c in spec.constructs if c.mode == "B" and not c.single_item]
    if composites or any(r.op == "<~" for r in spec.relations):
        names = composites or sorted({r.lhs for r in spec.relations if r.op == "<~"})
        raise SpecError(
            "CB-SEM cannot estimate composites (mode B, '<~'): " + ", ".join(names),
            values=names,
            hint="use csm.fit_pls for composite constructs, or declare them reflective ('=~')",
        )
    if any(r.op == "~1" for r in spec.relations):
        bad = [r for r in spec.relations if r.op == "~1"]
        raise SpecError(
            "fit_cbsem does not estimate models with intercepts ('~1')",
            values=[f"{r.lhs} ~1" for r in bad],
            hint="remove the intercept lines (means are saturated); line " + str(bad[0].line),
        )
    variances = variances or {}
    observed = list(spec.indicators)
    latent = list(spec.construct_names)
    clash = sorted(set(observed) & set(latent))
    if clash:
        raise SpecError(
            "names used both as a construct and as an item: " + ", ".join(clash),
            values=clash,
            hint="give the construct a name that is not a column of the data",
        )
    names = observed + latent
    pos = {v: i for i, v in enumerate(names)}
    rows: list[dict[str, Any]] = []

    def add(lhs, op, rhs, label, fixed, start, matrix, i, j, user=True):
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, label=label or "", fixed=fixed,
                         start=start, matrix=matrix, i=i, j=j, user=user))

    def where(name: str, rel) -> int:
        if name not in pos:
            raise SpecError(
                f"{name!r} is neither a construct nor an item of the model",
                values=[name],
                hint=f"check the spelling on line {rel.line}" if rel.line else "check the spelling",
            )
        return pos[name]

    # loadings, construct by construct (from the relations when present)
    loading_rel = {(r.lhs, r.rhs): r for r in spec.relations if r.op == "=~"}
    for c in spec.constructs:
        rels = [loading_rel.get((c.name, x)) for x in c.indicators]
        user_fixed = any(r is not None and r.fixed is not None for r in rels)
        user_freed = rels[0] is not None and bool(getattr(rels[0], "free", False))
        var_fixed = any(r.op == "~~" and r.lhs == r.rhs == c.name and r.fixed is not None
                        for r in spec.relations)
        if user_freed and not user_fixed and not var_fixed:
            raise SpecError(
                f"the first loading of {c.name!r} is freed (NA*) but nothing fixes the scale of {c.name!r}",
                values=[c.name],
                hint=f"fix one loading (1*item) or the variance ({c.name} ~~ 1*{c.name})",
            )
        for n_ind, (x, r) in enumerate(zip(c.indicators, rels)):
            fixed = r.fixed if r is not None else None
            if fixed is None and n_ind == 0 and not user_fixed and not user_freed:
                fixed = 1.0
            start = r.start if (r is not None and r.start is not None) else 1.0
            add(c.name, "=~", x, r.label if r else "", fixed, start, "A", pos[x], pos[c.name])
    # regressions and user covariances
    user_var: set[tuple[str, str]] = set()
    for r in spec.relations:
        if r.op == "~":
            i, j = where(r.lhs, r), where(r.rhs, r)
            add(r.lhs, "~", r.rhs, r.label, r.fixed, r.start if r.start is not None else 0.0, "A", i, j)
    for r in spec.relations:
        if r.op == "~~":
            i, j = where(r.lhs, r), where(r.rhs, r)
            if r.lhs == r.rhs:
                start = r.start if r.start is not None else (
                    0.5 * variances.get(r.lhs, 1.0) if r.lhs in observed else 0.05)
            else:
                start = r.start if r.start is not None else 0.0
            add(r.lhs, "~~", r.rhs, r.label, r.fixed, start, "S", i, j)
            user_var.add((r.lhs, r.rhs))
            user_var.add((r.rhs, r.lhs))
    # default residual variances of items
    single = {c.indicators[0] for c in spec.constructs if c.single_item}
    for x in observed:
        if (x, x) not in user_var:
            fixed = 0.0 if x in single else None
            add(x, "~~", x, "", fixed, 0.5 * variances.get(x, 1.0), "S", pos[x], pos[x], user=False)
    for c in spec.constructs:
        f = c.name
        if (f, f) not in user_var:
            start = 0.5 * variances[c.indicators[0]] if c.indicators[0] in variances else 0.05
            add(f, "~~", f, "", None, start, "S", pos[f], pos[f], user=False)
    # default covariances: exogenous constructs; pure-outcome construct residuals
    predictors = {r.rhs for r in spec.relations if r.op == "~"}
    outcomes = {r.lhs for r in spec.relations if r.op == "~"}
    exo = [f for f in latent if f not in outcomes]
    pure_y = [f for f in latent if f in outcomes and f not in predictors]
    for group in (exo, pure_y):
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                f, g = group[a], group[b]
                if (f, g) not in user_var:
                    add(f, "~~", g, "", None, 0.0, "S", pos[g], pos[f], user=False)
    # free indices: labels shared
    label_index: dict[str, int] = {}
    out: list[ParamRow] = []
    k = 0
    for r in rows:
        if r["fixed"] is not None:
            free, value = -1, float(r["fixed"])
        elif r["label"] and r["label"] in label_index:
            free, value = label_index[r["label"]], float(r["start"])
        else:
            free, value = k, float(r["start"])
            if r["label"]:
                label_index[r["label"]] = k
            k += 1
        out.append(ParamRow(r["lhs"], r["op"], r["rhs"], r["label"], free, value, r["matrix"],
                            r["i"], r["j"], r["user"]))
    return RamModel(observed, latent, out)


def free_parameters(results: Results) -> pd.DataFrame:
    """The free parameters of a CB-SEM fit, in the order of the vectors
    :func:`refit_many` returns.

    Returns
    -------
    DataFrame
        Columns ``lhs, op, rhs, label, est``; row ``k`` describes element
        ``k`` of the free-parameter vector (for a label shared by several
        rows, the first of them).
    """
    ram: RamModel = results.extra["ram"]
    theta = results.extra["theta"]
    seen, rows = set(), []
    for r in ram.rows:
        if r.free >= 0 and r.free not in seen:
            seen.add(r.free)
            rows.append((r.free, r.lhs, r.op, r.rhs, r.label, theta[r.free]))
    rows.sort()
    return pd.DataFrame([r[1:] for r in rows], columns=["lhs", "op", "rhs", "label", "est"])


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def _prepare(spec: ModelSpec, data: Any, missing: str):
    df, file, limits = input_frame(data, "fit_cbsem")
    spec.check_columns(df.columns, file=file)
    check_answered(df, spec, file)
    items = list(spec.indicators)
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
    n_read = len(X)
    complete = X.notna().all(axis=1)
    info: dict[str, Any] = {"rows_read": n_read}
    all_missing = X.isna().all(axis=1)
    if missing == "listwise":
        used = X[complete]
        info["dropped"] = {"missing values (listwise deletion)": int((~complete).sum())} if (~complete).any() else {}
    else:
        used = X[~all_missing]
        info["dropped"] = {"all items missing": int(all_missing.sum())} if all_missing.any() else {}
        info["incomplete_rows_kept"] = int((~complete & ~all_missing).sum())
    info["rows_used"] = len(used)
    sd = used.std(ddof=0)
    const = [c for c in items if not (sd[c] > 0)]
    if const:
        vals = [used[c].dropna().iloc[0] if used[c].notna().any() else float("nan") for c in const]
        raise DataError(
            f"{len(const)} item(s) have zero variance in the {len(used)} rows used, so a covariance model cannot use them",
            file=file, column=const, values=vals,
            hint="drop these items from the model (every respondent gave the same answer)",
        )
    return used, limits, info, file


def _sample_cov(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    Xc = X - mean
    return Xc.T @ Xc / len(X), mean


def _check_pd(S: np.ndarray, items: Sequence[str], file: str | None) -> None:
    w, v = np.linalg.eigh(S)
    if w[0] <= 1e-10 * max(w[-1], 1e-300):
        involved = [items[i] for i in np.flatnonzero(np.abs(v[:, 0]) > 0.2)]
        raise EstimationError(
            "the sample covariance matrix of the items is not positive definite "
            "(some items are linear combinations of others, or there are fewer rows than items)",
            file=file, column=involved,
            hint="drop duplicated or summed items, or collect more responses",
        )


# ---------------------------------------------------------------------------
# estimation
# ---------------------------------------------------------------------------
def _semopy_desc(ram: RamModel) -> str:
    lines = []
    for r in ram.rows:
        if r.free < 0:
            term = f"{r.value!r}*{r.rhs}"
        elif r.label:
            term = f"lbl_{r.label}*{r.rhs}"
        else:
            term = r.rhs
        lines.append(f"{r.lhs} {r.op} {term}")
    return "\n".join(lines)


def _semopy_start(ram: RamModel, frame: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    """Point estimates from a fresh semopy model (None when semopy fails)."""
    try:
        import semopy

        model = semopy.Model(_semopy_desc(ram))
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

    theta = ram.start()
    for r in ram.rows:
        if r.free < 0:
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


def _fit_ml(ram: RamModel, S: np.ndarray, frame: pd.DataFrame, start: str = "semopy"):
    if start == "semopy":
        theta0, smsg = _semopy_start(ram, frame)
    else:
        theta0, smsg = None, "simple start values"
    tried = []
    starts = [theta0] if theta0 is not None else [ram.start()]
    if start == "simple":
        starts.append("semopy")
    else:
        starts.append(ram.start())
    for start in starts:
        if isinstance(start, str):  # the simple start failed: try semopy's estimates
            start, smsg = _semopy_start(ram, frame)
            if start is None:
                continue
        theta, conv, it = ram.fisher_scoring(start, S, max_iter=500, tol=1e-9)
        tried.append((theta, bool(conv), int(it)))
        if conv:
            break
    theta, conv, it = tried[-1] if tried[-1][1] else min(
        tried, key=lambda t: float(_disc(ram, t[0], S)))
    return theta, conv, it, smsg


def _disc(ram, theta, S):
    from .ram import ml_discrepancy

    return ml_discrepancy(ram.implied(theta), S)


# -- FIML --------------------------------------------------------------------
def _patterns(X: np.ndarray):
    obs = ~np.isnan(X)
    keys, inv = np.unique(obs, axis=0, return_inverse=True)
    return [(keys[g], X[inv.ravel() == g][:, keys[g]]) for g in range(len(keys))]


def _fiml_loglik_grad(ram: RamModel, par: np.ndarray, pats) -> tuple[float, np.ndarray]:
    k = ram.k
    theta, mu = par[:k], par[k:]
    Sigma, d = ram.jacobian(theta)
    ll = 0.0
    g_theta = np.zeros(k)
    g_mu = np.zeros(len(mu))
    for o, Xg in pats:
        So = Sigma[np.ix_(o, o)]
        sign, logdet = np.linalg.slogdet(So)
        if sign <= 0:
            return -np.inf, np.zeros_like(par)
        Si = np.linalg.inv(So)
        D = Xg - mu[o]
        C = D.T @ D
        ng = len(Xg)
        ll += -0.5 * (ng * (o.sum() * np.log(2 * np.pi) + logdet) + np.sum(Si * C))
        W = 0.5 * (Si @ C @ Si - ng * Si)
        g_theta += np.einsum("pq,kpq->k", W, d[:, o][:, :, o])
        g_mu[o] += Si @ D.sum(axis=0)
    return ll, np.concatenate([g_theta, g_mu])


def _fit_fiml(ram: RamModel, X: np.ndarray, theta0: np.ndarray):
    from scipy import optimize

    pats = _patterns(X)
    mu0 = np.nanmean(X, axis=0)
    par0 = np.concatenate([theta0, mu0])
    n = len(X)

    def f(par):
        ll, g = _fiml_loglik_grad(ram, par, pats)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(par)
        return -ll / n, -g / n

    res = optimize.minimize(f, par0, jac=True, method="L-BFGS-B",
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
    par = res.x
    # observed information: numerical Jacobian of the analytic gradient
    m = len(par)
    H = np.zeros((m, m))
    for i in range(m):
        h = 1e-5 * max(1.0, abs(par[i]))
        e = np.zeros(m)
        e[i] = h
        H[:, i] = (_fiml_loglik_grad(ram, par + e, pats)[1] - _fiml_loglik_grad(ram, par - e, pats)[1]) / (2 * h)
    H = -(H + H.T) / 2
    ll = _fiml_loglik_grad(ram, par, pats)[0]
    gnorm = float(np.max(np.abs(f(par)[1])))
    return par, H, ll, bool(res.success or gnorm < 1e-5), int(res.nit), str(res.message), pats


def _fiml_saturated(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """EM estimates of the unrestricted mean and covariance, and their loglikelihood."""
    mu = np.nanmean(X, axis=0)
    Sig = np.diag(np.nanvar(X, axis=0))
    obs = ~np.isnan(X)
    for _ in range(1000):
        T1 = np.zeros_like(mu)
        T2 = np.zeros_like(Sig)
        for i in range(len(X)):
            o, m = obs[i], ~obs[i]
            x = X[i].copy()
            Cm = np.zeros_like(Sig)
            if m.any():
                Soo = Sig[np.ix_(o, o)]
                Smo = Sig[np.ix_(m, o)]
                reg = np.linalg.solve(Soo, Smo.T).T
                x[m] = mu[m] + reg @ (x[o] - mu[o])
                Cm[np.ix_(m, m)] = Sig[np.ix_(m, m)] - reg @ Smo.T
            T1 += x
            T2 += np.outer(x, x) + Cm
        mu_new = T1 / len(X)
        Sig_new = T2 / len(X) - np.outer(mu_new, mu_new)
        done = np.max(np.abs(Sig_new - Sig)) < 1e-10 and np.max(np.abs(mu_new - mu)) < 1e-10
        mu, Sig = mu_new, Sig_new
        if done:
            break
    ll = 0.0
    for o, Xg in _patterns(X):
        So = Sig[np.ix_(o, o)]
        D = Xg - mu[o]
        ll += -0.5 * (len(Xg) * (o.sum() * np.log(2 * np.pi) + np.linalg.slogdet(So)[1])
                      + np.sum(np.linalg.inv(So) * (D.T @ D)))
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


def _evaluate(expression: str, values: dict[str, float], name: str) -> float:
    try:
        return float(_eval_tree(expression, values, name, _FUNCS))
    except (ZeroDivisionError, ValueError, OverflowError):
        return float("nan")


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
    ram: RamModel = results.extra["ram"]
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    values: dict[str, Any] = {}
    for r in ram.rows:
        if r.label and r.label not in values:
            values[r.label] = theta[:, r.free] if r.free >= 0 else np.full(len(theta), r.value)
    cols = []
    with np.errstate(all="ignore"):
        for dfn in results.spec.defined:
            v = np.broadcast_to(np.asarray(_eval_tree(dfn.expression, values, dfn.name, _NP_FUNCS),
                                           dtype=float), (len(theta),))
            cols.append(np.where(np.isfinite(v), v, np.nan))
    return np.column_stack(cols) if cols else np.empty((len(theta), 0))


def _label_values(ram: RamModel, theta: np.ndarray) -> dict[str, float]:
    out = {}
    for r in ram.rows:
        if r.label and r.label not in out:
            out[r.label] = float(theta[r.free]) if r.free >= 0 else r.value
    return out


def _num_jacobian(fun, theta: np.ndarray) -> np.ndarray:
    f0 = np.atleast_1d(fun(theta))
    J = np.zeros((len(f0), len(theta)))
    for i in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[i]))
        e = np.zeros_like(theta)
        e[i] = h
        J[:, i] = (np.atleast_1d(fun(theta + e)) - np.atleast_1d(fun(theta - e))) / (2 * h)
    return J


# ---------------------------------------------------------------------------
# the public estimator
# ---------------------------------------------------------------------------
def fit_cbsem(
    spec: ModelSpec,
    data: Any,
    estimator: str = "ML",
    missing: str = "listwise",
    robust: bool = False,
    *,
    se: str = "standard",
    level: float = 0.95,
    start: str = "semopy",
) -> Results:
    """Estimate a model by covariance-based SEM (maximum likelihood), as lavaan.

    Parameters
    ----------
    spec : ModelSpec
        Reflective and single-item constructs, paths, covariances, labels,
        fixed values and defined parameters.  Composites (mode B, ``<~``)
        raise :class:`~csmlib.errors.SpecError` (use :func:`csmlib.fit_pls`).
    data : DataFrame or Survey
        One column per item (a Survey's ``.data`` is used, with its
        ``.scale_limits``).
    estimator : {"ML"}
        Normal-theory maximum likelihood (the only estimator).
    missing : {"listwise", "fiml"}
        Listwise deletion (rows dropped are recorded in ``data_info``) or
        full-information ML with saturated means.
    robust : bool
        Huber-White sandwich standard errors (see the module docstring);
        same as ``se="robust"``.  Complete data only.
    se : {"standard", "robust", "none"}
    level : float
        Confidence level of the Wald intervals.
    start : {"semopy", "simple"}
        Where the Fisher scoring starts: semopy's estimates (default) or
        csmlib's simple start values (loadings 1, residual variances half
        the item variance, construct variances 0.05, paths 0), which skips
        semopy (faster; used by simulation studies).  Both end at the same
        ML optimum when estimation converges.

    Returns
    -------
    Results
        ``method="cbsem"``.  ``estimates`` has columns ``lhs, op, rhs,
        label, est, se, z, pvalue, ci_lower, ci_upper, std_all``;
        ``effects`` has ``lhs, rhs, direct, indirect, total, direct_se,
        indirect_se, total_se``; ``fit_indices`` has ``chisq, df, pvalue,
        cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr, aic, bic``;
        ``r2`` by endogenous construct; ``scores`` are regression-method
        factor scores.  ``extra`` holds ``ram``, ``theta``, ``vcov``,
        ``sample_cov``, ``implied_cov``, ``free_index`` (free-parameter
        index of each estimates row, -1 when fixed or defined).

    Raises
    ------
    SpecError, DataError, EstimationError
    """
    if str(estimator).upper() != "ML":
        raise SpecError(f"estimator {estimator!r} is not available", values=[estimator],
                        hint="use estimator='ML' (robust standard errors: robust=True)")
    if missing not in ("listwise", "fiml"):
        raise SpecError(f"missing={missing!r} is not one of 'listwise', 'fiml'", values=[missing],
                        hint="use missing='listwise' or missing='fiml'")
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
    build_ram(spec)  # spec errors before data errors
    frame, limits, info, file = _prepare(spec, data, missing)
    items = list(spec.indicators)
    X = frame.to_numpy()
    complete = ~np.isnan(X).any(axis=1)
    Xc = X[complete]
    n = len(frame)
    if len(Xc) < 2:
        raise EstimationError(f"only {len(Xc)} complete row(s) to estimate from", file=file,
                              hint="collect more responses")
    S_lw, mean_lw = _sample_cov(Xc)
    ram = build_ram(spec, dict(zip(items, np.diag(S_lw))))
    npar = ram.k + (len(items) if missing == "fiml" else 0)
    if n < npar:
        raise EstimationError(
            f"fewer observations ({n}) than free parameters ({npar})", file=file,
            values=[n, npar], hint="simplify the model or collect more responses",
        )
    if missing == "listwise":
        _check_pd(S_lw, items, file)
    warn: list[str] = []
    notice = unweighted_notice(data, "CB-SEM")
    if notice:
        warn.append(notice)
        warnings.warn(notice, DataWarning, stacklevel=2)
    theta, conv, n_iter, smsg = _fit_ml(ram, S_lw, pd.DataFrame(Xc, columns=items), start)
    message = ("ML by semopy, refined by Fisher scoring" if start == "semopy" else
               "ML by Fisher scoring from simple start values") if "failed" not in smsg else smsg
    vcov = None
    if missing == "fiml":
        par, H, ll, conv, n_iter, fmsg, _ = _fit_fiml(ram, X, theta)
        theta, mu = par[: ram.k], par[ram.k:]
        message = f"FIML (L-BFGS-B): {fmsg}"
        try:
            vfull = np.linalg.inv(H)
            vcov = vfull[: ram.k, : ram.k]
        except np.linalg.LinAlgError:
            vcov = None
        mu_h1, S, ll_h1 = _fiml_saturated(X)
        Sigma = ram.implied(theta)
        S_fit = S
    else:
        S = S_lw
        mu = mean_lw
        Sigma = ram.implied(theta)
        S_fit = S
    if not conv:
        msg = f"estimation did not converge after {n_iter} iterations; the estimates are not trustworthy"
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    # standard errors
    info_exp = None
    if vcov is None and se != "none":
        info_exp = ram.expected_information(theta)
        try:
            A_inv = np.linalg.inv(info_exp)
            if not np.all(np.isfinite(A_inv)) or np.linalg.cond(info_exp) > 1e12:
                raise np.linalg.LinAlgError
            if robust:
                scores = ram.scores(theta, Xc - mean_lw)
                Bm = scores.T @ scores / n
                vcov = A_inv @ Bm @ A_inv / n
            else:
                vcov = A_inv / n
        except np.linalg.LinAlgError:
            msg = "the information matrix is singular: the model is not identified; standard errors are not available"
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
            vcov = None
    # trouble: Heywood cases, non-PD implied covariance
    A_mat, S_mat = ram.matrices(theta)
    V = ram.total_covariance(theta)
    for r in ram.rows:
        if r.op == "~~" and r.lhs == r.rhs and r.free >= 0 and theta[r.free] < 0:
            msg = (f"Heywood case: the variance {r.lhs} ~~ {r.rhs} is negative ({theta[r.free]:.4g}); "
                   "the model is probably misspecified or the sample too small")
            warn.append(msg)
            warnings.warn(msg, EstimationWarning, stacklevel=2)
    if np.linalg.eigvalsh(Sigma)[0] <= 0:
        msg = "the model-implied covariance matrix of the items is not positive definite"
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    lat = np.arange(ram.p, ram.n)
    if len(lat) and np.linalg.eigvalsh(V[np.ix_(lat, lat)])[0] < 0:
        msg = "the covariance matrix of the constructs is not positive definite"
        warn.append(msg)
        warnings.warn(msg, EstimationWarning, stacklevel=2)
    # estimates table
    z_crit = stats.norm.ppf(0.5 + level / 2)
    sd_all = np.sqrt(np.clip(np.diag(V), 0, None))
    recs, free_index = [], []
    for r in ram.rows:
        est = float(theta[r.free]) if r.free >= 0 else r.value
        s = float(np.sqrt(vcov[r.free, r.free])) if (vcov is not None and r.free >= 0 and vcov[r.free, r.free] >= 0) else np.nan
        if r.matrix == "A":
            std = est * sd_all[r.j] / sd_all[r.i] if sd_all[r.i] > 0 else np.nan
        elif r.i == r.j:
            std = est / V[r.i, r.i] if V[r.i, r.i] > 0 else np.nan
        else:
            den = S_mat[r.i, r.i] * S_mat[r.j, r.j]
            std = est / np.sqrt(den) if den > 0 else np.nan
        recs.append(_row(r.lhs, r.op, r.rhs, r.label, est, s, z_crit, std))
        free_index.append(r.free)
    # defined parameters
    for dfn in spec.defined:
        fun = lambda th, e=dfn.expression, nm=dfn.name: _evaluate(e, _label_values(ram, th), nm)
        est = fun(theta)
        s = np.nan
        if vcov is not None:
            J = _num_jacobian(fun, theta)
            s = float(np.sqrt(max((J @ vcov @ J.T)[0, 0], 0.0)))
        recs.append(_row(dfn.name, ":=", dfn.expression, dfn.name, est, s, z_crit, np.nan))
        free_index.append(-1)
    estimates = tidy_estimates(pd.DataFrame(recs))
    # R-squared, effects, fit, scores
    r2 = pd.Series({f: 1 - S_mat[ram.p + i, ram.p + i] / V[ram.p + i, ram.p + i]
                    for i, f in enumerate(ram.latent) if f in set(spec.endogenous)}, dtype=float)
    r2.index.name = "construct"
    effects = _effects(ram, theta, vcov)
    fit = _fit_indices(S_fit, Sigma, n, npar if missing == "fiml" else ram.k)
    if missing == "fiml":
        fit = _fiml_fit(fit, ll, ll_h1, n, npar, len(items), S, Sigma, X, mu_h1, mu)
    scores = _scores(ram, theta, Sigma, frame, mu)
    options = {"estimator": "ML", "missing": missing, "se": "robust.huber.white" if robust else (
        "none" if se == "none" else ("observed" if missing == "fiml" else "standard (expected information)")),
        "likelihood": "normal", "level": level, "start": start}
    return Results(
        spec=spec, method="cbsem", _estimates=estimates, _r2=r2, _effects=effects,
        _fit_indices=fit, _scores=scores, converged=bool(conv), n_iter=int(n_iter),
        message=message, n_obs=n, data_info=info, warnings=tuple(warn), options=options,
        _data=frame.copy(), _scale_limits=limits,
        extra={"ram": ram, "theta": theta.copy(), "vcov": vcov, "sample_cov": S, "implied_cov": Sigma,
               "sample_mean": mu, "free_index": np.array(free_index), "npar": npar,
               "semopy_message": smsg},
    )


def _row(lhs, op, rhs, label, est, se, z_crit, std):
    ok = np.isfinite(se) and se > 0
    z = est / se if ok else np.nan
    return {"lhs": lhs, "op": op, "rhs": rhs, "label": label, "est": est, "se": se, "z": z,
            "pvalue": 2 * stats.norm.sf(abs(z)) if ok else np.nan,
            "ci_lower": est - z_crit * se if ok else np.nan,
            "ci_upper": est + z_crit * se if ok else np.nan, "std_all": std}


def _effects(ram: RamModel, theta: np.ndarray, vcov: np.ndarray | None) -> pd.DataFrame:
    lat = list(range(ram.p, ram.n))
    names = list(ram.latent)

    def Bmat(th):
        A, _ = ram.matrices(th)
        return A[np.ix_(lat, lat)]

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

    J = _num_jacobian(fun, theta)
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


def _independence_loglik(X: np.ndarray) -> float:
    """Loglikelihood of the independence (baseline) model under FIML.

    With a diagonal covariance the likelihood factorizes over variables, so
    the FIML estimates are each variable's mean and (divide-by-n) variance
    over its observed values."""
    ll = 0.0
    for j in range(X.shape[1]):
        x = X[~np.isnan(X[:, j]), j]
        v = x.var()
        ll += -0.5 * len(x) * (np.log(2 * np.pi * v) + 1.0)
    return float(ll)


def _fiml_fit(fit, ll, ll_h1, n, npar, p, S, Sigma, X, mu_h1, mu) -> pd.Series:
    """Fit indices of a FIML fit: chi-square = 2 (logl_h1 - logl_h0);
    baseline chi-square = 2 (logl_h1 - logl_independence), the independence
    model estimated by FIML too (as lavaan does with ``missing = "ml"``)."""
    from .fitindices import cfi, rmsea, rmsea_ci, srmr, tli

    out = fit.copy()
    df = p * (p + 1) // 2 + p - npar
    chisq = max(2 * (ll_h1 - ll), 0.0)
    chisq0 = max(2 * (ll_h1 - _independence_loglik(X)), 0.0)
    df0 = p * (p - 1) // 2
    lo, hi = rmsea_ci(chisq, df, n)
    out.update({"chisq": chisq, "df": float(df), "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
                "cfi": cfi(chisq, df, chisq0, df0), "tli": tli(chisq, df, chisq0, df0),
                "rmsea": rmsea(chisq, df, n), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
                "srmr": srmr(S, Sigma, mu_h1, mu), "aic": -2 * ll + 2 * npar, "bic": -2 * ll + npar * np.log(n),
                "logl": ll, "baseline_chisq": chisq0, "baseline_df": float(df0)})
    return out


# ---------------------------------------------------------------------------
# fast refits for the bootstrap
# ---------------------------------------------------------------------------
def refit_many(
    results: Results,
    covariances: np.ndarray,
    n: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray]:
    """ML refits of a CB-SEM model on many covariance matrices at once.

    Fisher scoring on csmlib's numpy RAM model, warm-started from the
    full-sample estimates (no semopy).  The ML estimates depend on the data
    only through the covariance matrix, so ``n`` is not needed for the
    estimates; it is accepted for symmetry with callers that compute SEs.

    Parameters
    ----------
    results : Results
        A :func:`fit_cbsem` result.
    covariances : ndarray (B, p, p)
        Sample covariances (divisor N) of the items, in the order of
        ``results.spec.indicators``.
    n : int, optional
        Observations per resample (unused by the estimates).
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
    if results.method != "cbsem" or "ram" not in results.extra:
        raise EstimationError("refit_many needs the result of csm.fit_cbsem",
                              hint="fit the model with csm.fit_cbsem first")
    ram: RamModel = results.extra["ram"]
    C = np.asarray(covariances, dtype=float)
    if C.ndim == 2:
        C = C[None]
    if C.shape[1:] != (ram.p, ram.p):
        raise EstimationError(f"covariances must have shape (B, {ram.p}, {ram.p}), got {C.shape}")
    theta0 = results.extra["theta"]
    start = np.broadcast_to(theta0, (len(C), ram.k))
    theta, conv, _ = ram.fisher_scoring(start, C, max_iter=max_iter, tol=tol)
    conv = conv & np.all(np.isfinite(theta), axis=1)
    return theta, conv


def refit_cbsem(results: Results, data: pd.DataFrame) -> np.ndarray:
    """ML refit of a CB-SEM model on new data (e.g. one bootstrap resample).

    Returns
    -------
    ndarray (k,)
        Free-parameter vector (see :func:`refit_many`); NaN when the refit
        did not converge.
    """
    items = list(results.spec.indicators)
    frame, _, _ = input_frame(data, "fit_cbsem")
    X = frame[items].to_numpy(dtype=float)
    X = X[~np.isnan(X).any(axis=1)]
    S, _ = _sample_cov(X)
    theta, conv = refit_many(results, S[None], len(X))
    return theta[0] if conv[0] else np.full(theta.shape[1], np.nan)
