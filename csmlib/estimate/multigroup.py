"""Multi-group maximum-likelihood SEM with equality constraints across groups.

The engine behind :func:`csmlib.measurement_invariance`.  semopy fits one
group at a time and cannot hold a parameter equal across groups, so the
multi-group model is estimated here, in the LISREL all-y parameterization
lavaan uses::

    Sigma_g = Lambda_g A_g Psi_g A_g' Lambda_g' + Theta_g,   A_g = (I - B_g)^-1
    mu_g    = nu_g + Lambda_g A_g alpha_g

with lavaan's defaults: the first loading of every construct fixed to 1
(marker), exogenous constructs freely correlated, endogenous constructs'
disturbances uncorrelated, residual variances free (fixed to 0 for a
single-indicator construct), intercepts ``nu`` free, construct means
``alpha`` fixed to 0 unless intercepts are held equal, in which case they
are free in every group but the first.

The discrepancy is lavaan's normal-theory ML with the biased (divide by n)
sample covariance::

    F = sum_g (n_g / N) [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
                          + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]

so that ``chisq = N F`` at the minimum, as lavaan reports it.  Minimized by
L-BFGS with the analytic gradient, from start values given by separate
single-group fits (a crude start, as lavaan's "simple" one, stalls on large
models with highly correlated constructs).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..privacy import quote
from ..errors import DataError, EstimationError, SpecError
from ..spec.modelspec import ModelSpec

__all__ = ["GROUP_EQUAL", "MultiGroupFit", "fit_multigroup", "group_moments"]

#: Parameter classes that can be held equal across groups (lavaan's names).
GROUP_EQUAL = ("loadings", "intercepts", "residuals", "regressions", "lv.variances", "means")


@dataclass(frozen=True)
class _Slot:
    matrix: str      # "L", "B", "P", "T", "nu", "al"
    i: int
    j: int
    cls: str         # parameter class for group.equal


@dataclass(frozen=True)
class MultiGroupFit:
    """A multi-group ML fit.

    Attributes
    ----------
    chisq, df, pvalue : float
        Likelihood-ratio test of the model against the saturated model.
    baseline_chisq, baseline_df : float
        The independence model (free variances and means per group).
    cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper : float
        Fit indices as lavaan computes them for several groups (RMSEA
        multiplied by sqrt(G)).
    n_free : int
        Free parameters.
    groups : tuple of str
    n_obs : tuple of int
    estimates : DataFrame
        Columns ``group, matrix, row, col, cls, est``: every parameter
        slot with its value.
    converged : bool
    message : str
    """

    chisq: float
    df: int
    pvalue: float
    baseline_chisq: float
    baseline_df: int
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_lower: float
    rmsea_ci_upper: float
    n_free: int
    groups: tuple[str, ...]
    n_obs: tuple[int, ...]
    estimates: pd.DataFrame
    converged: bool
    message: str

    def fit_indices(self) -> pd.Series:
        """``chisq, df, pvalue, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper``."""
        return pd.Series({k: float(getattr(self, k)) for k in
                          ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
                           "rmsea_ci_upper")})


def group_moments(data: pd.DataFrame, items: Sequence[str], group: str):
    """Per-group sample size, mean vector and biased covariance (divide by n).

    Rows with a missing item or group are dropped (listwise).

    Returns
    -------
    list of (name, n, mean (p,), cov (p, p))
    """
    missing = [c for c in [*items, group] if c not in data.columns]
    if missing:
        raise DataError("columns named by the model or the grouping are missing from the data",
                        column=", ".join(map(str, missing)),
                        hint="check the item names against the data, or the `group` argument")
    frame = data[[*items, group]].dropna()
    out = []
    for name, block in frame.groupby(group, sort=True):
        x = block[list(items)].to_numpy(dtype=float)
        n = len(x)
        if n <= len(items):
            raise DataError(f"group {quote(name)} has {n} complete rows for {len(items)} items; "
                            "a covariance matrix needs more rows than items",
                            column=group, values=[name],
                            hint="merge small groups or drop this group")
        m = x.mean(axis=0)
        c = (x - m).T @ (x - m) / n
        sd = np.sqrt(np.diag(c))
        zero = [items[k] for k in np.flatnonzero(sd < 1e-12)]
        if zero:
            raise DataError(f"items without variance in group {quote(name)}", column=", ".join(zero),
                            hint="an item every respondent answered alike carries no "
                                 "information: drop it from the model")
        out.append((str(name), n, m, c))
    if len(out) < 2:
        raise DataError("the grouping column has fewer than two groups", column=group,
                        hint="a multi-group comparison needs at least two groups")
    return out


class _Model:
    """Parameter layout of one multi-group model."""

    def __init__(self, spec: ModelSpec, n_groups: int, equal: Sequence[str],
                 partial: Sequence[tuple[str, str]] = ()):
        bad = [c.name for c in spec.constructs if c.mode == "B"]
        if bad:
            raise SpecError("composites (<~) have no place in a covariance-based multi-group model",
                            values=bad, hint="measure these constructs reflectively (=~)")
        unknown = sorted(set(equal) - set(GROUP_EQUAL))
        if unknown:
            raise SpecError("unknown parameter classes in group_equal", values=unknown,
                            hint=f"use some of {', '.join(GROUP_EQUAL)}")
        self.lv = list(spec.construct_names)
        self.ov = list(spec.indicators)
        p, m = len(self.ov), len(self.lv)
        self.p, self.m, self.G = p, m, n_groups
        oi = {v: k for k, v in enumerate(self.ov)}
        li = {v: k for k, v in enumerate(self.lv)}
        slots: list[_Slot] = []
        fixed_L: list[tuple[int, int]] = []
        single_items: set[int] = set()
        for c in spec.constructs:
            j = li[c.name]
            for k, x in enumerate(c.indicators):
                if k == 0:
                    fixed_L.append((oi[x], j))
                else:
                    slots.append(_Slot("L", oi[x], j, "loadings"))
            if len(c.indicators) == 1:
                single_items.add(oi[c.indicators[0]])
        for pred, out in spec.paths:
            if pred not in li or out not in li:
                raise SpecError(f"path {out} ~ {pred} involves a name that is not a construct",
                                hint="define every variable in a path as a construct")
            slots.append(_Slot("B", li[out], li[pred], "regressions"))
        endo = set(spec.endogenous)
        exo = [v for v in self.lv if v not in endo]
        for v in self.lv:
            slots.append(_Slot("P", li[v], li[v], "lv.variances"))
        for a in range(len(exo)):
            for b in range(a + 1, len(exo)):
                slots.append(_Slot("P", li[exo[b]], li[exo[a]], "lv.covariances"))
        for x in self.ov:
            if oi[x] not in single_items:
                slots.append(_Slot("T", oi[x], oi[x], "residuals"))
        for r in spec.relations:
            if r.op == "~~" and r.lhs != r.rhs:
                if r.lhs in oi and r.rhs in oi:
                    a, b = sorted((oi[r.lhs], oi[r.rhs]))
                    slots.append(_Slot("T", b, a, "residual.covariances"))
                elif r.lhs in li and r.rhs in li:
                    a, b = sorted((li[r.lhs], li[r.rhs]))
                    if not any(s.matrix == "P" and (s.i, s.j) == (b, a) for s in slots):
                        slots.append(_Slot("P", b, a, "lv.covariances"))
        for x in self.ov:
            slots.append(_Slot("nu", oi[x], 0, "intercepts"))
        means_free = "intercepts" in equal
        al_slots = [_Slot("al", li[v], 0, "means") for v in self.lv] if means_free else []
        self.fixed_L = fixed_L
        # map (group, slot) -> free index
        index: dict[tuple[int, _Slot], int] = {}
        shared: dict[_Slot, int] = {}
        k = 0
        names = {"L": self.ov, "T": self.ov, "nu": self.ov, "B": self.lv, "P": self.lv,
                 "al": self.lv}
        freed = {(cls, name) for cls, name in partial}
        for g in range(n_groups):
            for s in slots + (al_slots if (g > 0 and "means" not in equal) else []):
                if s.cls in equal and (s.cls, names[s.matrix][s.i]) not in freed:
                    if s not in shared:
                        shared[s] = k
                        k += 1
                    index[(g, s)] = shared[s]
                else:
                    index[(g, s)] = k
                    k += 1
        self.index = index
        self.n_free = k
        self.slots = slots
        self.al_slots = al_slots

    def matrices(self, theta: np.ndarray, g: int):
        p, m = self.p, self.m
        L = np.zeros((p, m))
        for i, j in self.fixed_L:
            L[i, j] = 1.0
        B = np.zeros((m, m))
        P = np.zeros((m, m))
        T = np.zeros((p, p))
        nu = np.zeros(p)
        al = np.zeros(m)
        for (gg, s), k in self.index.items():
            if gg != g:
                continue
            v = theta[k]
            if s.matrix == "L":
                L[s.i, s.j] = v
            elif s.matrix == "B":
                B[s.i, s.j] = v
            elif s.matrix == "P":
                P[s.i, s.j] = P[s.j, s.i] = v
            elif s.matrix == "T":
                T[s.i, s.j] = T[s.j, s.i] = v
            elif s.matrix == "nu":
                nu[s.i] = v
            else:
                al[s.i] = v
        return L, B, P, T, nu, al


def _start(model: _Model, moments) -> np.ndarray:
    theta = np.zeros(model.n_free)
    seen = np.zeros(model.n_free, dtype=bool)
    for g, (_, _, mean, cov) in enumerate(moments):
        marker = {j: i for i, j in model.fixed_L}
        psi0 = {}
        for j, i in marker.items():
            others = [s.i for s in model.slots if s.matrix == "L" and s.j == j]
            cv = [abs(cov[i, o]) for o in others]
            psi0[j] = max(np.mean(cv) if cv else 0.5 * cov[i, i], 0.05 * cov[i, i])
        for (gg, s), k in model.index.items():
            if gg != g or seen[k]:
                continue
            seen[k] = True
            if s.matrix == "L":
                theta[k] = cov[s.i, marker[s.j]] / psi0[s.j]
            elif s.matrix == "P":
                theta[k] = psi0[s.i] if s.i == s.j else 0.0
            elif s.matrix == "T":
                theta[k] = 0.5 * cov[s.i, s.i] if s.i == s.j else 0.0
            elif s.matrix == "nu":
                theta[k] = mean[s.i]
    return theta


def _start_from_groups(model: _Model, spec: ModelSpec, frame: pd.DataFrame, group: str,
                       moments) -> np.ndarray | None:
    """Start values from a separate single-group ML fit per group (csmlib's
    own Fisher-scoring engine), averaged across groups where a parameter is
    held equal; intercepts start at the group means and construct means at 0.
    ``None`` if a group cannot be fitted on its own (the crude start is then
    used)."""
    from .cbsem import fit_cbsem  # late: cbsem imports much of the package
    from ..errors import CsmError

    theta = np.zeros(model.n_free)
    count = np.zeros(model.n_free)
    keys = frame[group].astype(str)
    for g, (name, _, mean, _) in enumerate(moments):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = fit_cbsem(spec, frame[keys == name], se="none").estimates
        except CsmError:
            return None
        value = {(r.lhs, r.op, r.rhs): r.est for r in est.itertuples()}

        def sym(a: str, b: str) -> float:
            return value.get((a, "~~", b), value.get((b, "~~", a), np.nan))

        for (gg, s), k in model.index.items():
            if gg != g:
                continue
            if s.matrix == "L":
                v = value.get((model.lv[s.j], "=~", model.ov[s.i]), np.nan)
            elif s.matrix == "B":
                v = value.get((model.lv[s.i], "~", model.lv[s.j]), np.nan)
            elif s.matrix == "P":
                v = sym(model.lv[s.i], model.lv[s.j])
            elif s.matrix == "T":
                v = sym(model.ov[s.i], model.ov[s.j])
            elif s.matrix == "nu":
                v = mean[s.i]
            else:
                v = 0.0
            if not np.isfinite(v):
                return None
            theta[k] += v
            count[k] += 1
    return theta / np.maximum(count, 1)


def _objective(theta: np.ndarray, model: _Model, moments, N: int):
    f = 0.0
    grad = np.zeros_like(theta)
    p, m = model.p, model.m
    for g, (_, n, ybar, S) in enumerate(moments):
        L, B, P, T, nu, al = model.matrices(theta, g)
        try:
            A = np.linalg.inv(np.eye(m) - B)
        except np.linalg.LinAlgError:
            return np.inf, grad
        C = A @ P @ A.T
        Sigma = L @ C @ L.T + T
        sign, logdet = np.linalg.slogdet(Sigma)
        if sign <= 0:
            return np.inf, grad
        Si = np.linalg.inv(Sigma)
        Aal = A @ al
        mu = nu + L @ Aal
        d = ybar - mu
        v = Si @ d
        _, logdet_s = np.linalg.slogdet(S)
        fg = logdet + np.trace(S @ Si) - logdet_s - p + d @ v
        w = n / N
        f += w * fg
        W = Si @ (Sigma - S - np.outer(d, d)) @ Si
        WLC = W @ L @ C
        LA = L @ A
        ALWLA = LA.T @ W @ LA
        ALWLC = LA.T @ W @ L @ C
        ALv = LA.T @ v
        for (gg, s), k in model.index.items():
            if gg != g:
                continue
            if s.matrix == "L":
                gk = 2 * WLC[s.i, s.j] - 2 * v[s.i] * Aal[s.j]
            elif s.matrix == "T":
                gk = W[s.i, s.i] if s.i == s.j else 2 * W[s.i, s.j]
            elif s.matrix == "P":
                gk = ALWLA[s.i, s.i] if s.i == s.j else 2 * ALWLA[s.i, s.j]
            elif s.matrix == "B":
                gk = 2 * ALWLC[s.i, s.j] - 2 * ALv[s.i] * Aal[s.j]
            elif s.matrix == "nu":
                gk = -2 * v[s.i]
            else:
                gk = -2 * ALv[s.i]
            grad[k] += w * gk
    return f, grad


def _rmsea_ci(chisq: float, df: int, N: int, G: int, level: float = 0.90) -> tuple[float, float]:
    """lavaan's RMSEA interval from the noncentral chi-square (multiplied by sqrt(G))."""
    if df <= 0:
        return np.nan, np.nan

    def lam_for(prob: float) -> float:
        if stats.chi2.cdf(chisq, df) < prob:
            return 0.0
        hi = max(chisq, 1.0) * 10 + 100
        return optimize.brentq(lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob, 1e-12, hi)

    lo = lam_for(0.5 + level / 2)
    hi = lam_for(0.5 - level / 2)
    f = lambda lam: np.sqrt(lam / (N * df)) * np.sqrt(G)
    return f(lo), f(hi)


def fit_multigroup(spec: ModelSpec, data: pd.DataFrame, group: str, *,
                   group_equal: Sequence[str] = (), group_partial: Sequence[tuple[str, str]] = (),
                   max_iter: int = 20000) -> MultiGroupFit:
    """Fit ``spec`` in every group of ``data[group]`` at once, holding the
    parameter classes in ``group_equal`` equal across groups.

    Parameters
    ----------
    spec : ModelSpec
        Reflective measurement model (and paths among constructs).
    data : DataFrame
        Items and the grouping column; incomplete rows are dropped.
    group : str
        Grouping column (e.g. ``"gender"``, ``"wave"``).
    group_equal : sequence of str
        Any of :data:`GROUP_EQUAL`, as lavaan's ``group.equal``.
    group_partial : sequence of (class, name)
        Exceptions to ``group_equal``, as lavaan's ``group.partial``: e.g.
        ``[("intercepts", "x3")]`` frees the intercept of item ``x3``
        (``("loadings", "x3")`` its loading) in every group.

    Returns
    -------
    MultiGroupFit
    """
    moments = group_moments(data, list(spec.indicators), group)
    model = _Model(spec, len(moments), tuple(group_equal), tuple(group_partial))
    N = sum(n for _, n, _, _ in moments)
    G = len(moments)
    p = model.p
    n_moments = G * (p * (p + 1) // 2 + p)
    df = n_moments - model.n_free
    if df < 0:
        raise EstimationError(f"the model has {model.n_free} free parameters but only "
                              f"{n_moments} sample moments: it is not identified",
                              hint="add indicators or constrain parameters")
    best = None
    for theta0 in (_start_from_groups(model, spec, data, group, moments), _start(model, moments)):
        if theta0 is None:
            continue
        for _ in range(3):  # L-BFGS-B restarted from where it stopped, if it stalled
            res = optimize.minimize(_objective, theta0, args=(model, moments, N), jac=True,
                                    method="L-BFGS-B",
                                    options={"maxiter": max_iter, "maxfun": 4 * max_iter,
                                             "ftol": 1e-15, "gtol": 1e-9, "maxcor": 30})
            gnorm = float(np.max(np.abs(res.jac))) if np.all(np.isfinite(res.jac)) else np.inf
            if best is None or res.fun < best[0].fun:
                best = (res, gnorm)
            if gnorm < 1e-5 or not np.isfinite(res.fun):
                break
            theta0 = res.x
        if best[1] < 1e-5:
            break
    res, gnorm = best
    converged = bool(np.isfinite(res.fun) and gnorm < 1e-5)
    chisq = float(N * res.fun)
    base = sum(n * (np.sum(np.log(np.diag(S))) - np.linalg.slogdet(S)[1])
               for _, n, _, S in moments)
    base_df = G * p * (p - 1) // 2
    num = max(chisq - df, 0.0)
    den = max(base - base_df, chisq - df, 0.0)
    cfi = 1.0 - num / den if den > 0 else 1.0
    tli = ((base / base_df) - (chisq / df)) / ((base / base_df) - 1) if df > 0 else np.nan
    rmsea = np.sqrt(max(chisq - df, 0.0) / (N * df)) * np.sqrt(G) if df > 0 else np.nan
    lo, hi = _rmsea_ci(chisq, df, N, G)
    rows = []
    names = {"L": (model.ov, model.lv), "B": (model.lv, model.lv), "P": (model.lv, model.lv),
             "T": (model.ov, model.ov), "nu": (model.ov, [""]), "al": (model.lv, [""])}
    for (g, s), k in model.index.items():
        rn, cn = names[s.matrix]
        rows.append({"group": moments[g][0], "matrix": s.matrix, "row": rn[s.i],
                     "col": cn[s.j], "cls": s.cls, "est": float(res.x[k])})
    return MultiGroupFit(
        chisq=chisq, df=int(df), pvalue=float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        baseline_chisq=float(base), baseline_df=int(base_df), cfi=float(cfi), tli=float(tli),
        rmsea=float(rmsea), rmsea_ci_lower=float(lo), rmsea_ci_upper=float(hi),
        n_free=model.n_free, groups=tuple(g[0] for g in moments),
        n_obs=tuple(g[1] for g in moments), estimates=pd.DataFrame(rows),
        converged=converged,
        message=("converged" if converged else
                 f"did not converge: {res.message} (largest gradient {gnorm:.2g})"))
