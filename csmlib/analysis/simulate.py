"""Survey data drawn from a known population model.

A :class:`PopulationModel` is the truth: constructs with their items,
standardized loadings, standardized structural paths, latent means, and the
answer scale of every item.  :func:`simulate_survey` draws one sample from it
(optionally from several segments with their own populations),
:func:`simulate_study` draws several waves with wave-to-wave drift.  Both
return a :class:`Simulated` holding the data *and* the truth, so that an
estimator can be checked against the values it should recover.

The data-generating process (all in standardized units):

1. Latent constructs follow the recursive structural model
   ``eta = alpha + B eta + zeta``.  Exogenous constructs have variance 1 (and
   the given correlations); the disturbance variance of every endogenous
   construct is ``1 - R^2`` so that every construct has variance 1 when
   ``alpha = 0``.  ``alpha`` (the *latent shift* of a construct, in SD units)
   moves the construct's mean and, through the paths, the means of its
   consequences: the latent means are ``(I - B)^{-1} alpha``.
2. The latent response of item ``j`` of construct ``F`` is
   ``y*_j = lambda_j F + e_j`` with ``var(e_j) = 1 - lambda_j^2`` (standardized).
3. The continuous answer is ``x_j = mean_j + sd_j * y*_j``.  For a ``k``-point
   Likert item the recorded answer is ``x_j`` rounded to the nearest scale
   point and censored to ``1..k``; equivalently ``y*_j`` is cut at the
   thresholds ``tau_c = (c + 0.5 - mean_j) / sd_j``, ``c = 1..k-1``.
   A continuous item (``scale_points`` None) records ``x_j`` itself.
4. Missing answers are missing completely at random, each item cell
   independently with probability ``missing_rate``.

The *true index* of a construct is the ACSI index formula applied to the
population: with equal weights (the default) it is
``100 * sum_j (E[Y_j] - 1) / sum_j (k_j - 1)`` over the construct's Likert
items, where ``E[Y_j] = 1 + sum_c P(y*_j > tau_c)`` is the exact expectation
of the discretized answer (``y*_j ~ N(lambda_j mu_F, 1)``).  With
``weights="loadings"`` the weights are the true standardized loadings.  For a
sample pooled over segments or waves the expectation is the share-weighted
mixture.

Run ``python -m csmlib.analysis.simulate --demo data/demo`` to regenerate the bundled
demo study (see :func:`write_demo`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..atomic import write_csv
from ..data.datasets import DEMO_WAVES
from ..errors import SpecError
from .simulate_complaints import write_demo_complaints

__all__ = [
    "VERBATIM_THEMES",
    "simulate_verbatims",
    "PopulationModel",
    "Simulated",
    "chain_population",
    "acsi_population",
    "ecsi_population",
    "simulate_survey",
    "simulate_study",
    "write_demo",
    "DEMO_WAVES",
]

#: mobi item names (as in the model library) per construct
MOBI_ITEMS: dict[str, tuple[str, ...]] = {
    "Image": tuple(f"IMAG{i}" for i in range(1, 6)),
    "Expectation": tuple(f"CUEX{i}" for i in range(1, 4)),
    "Quality": tuple(f"PERQ{i}" for i in range(1, 8)),
    "Value": ("PERV1", "PERV2"),
    "Satisfaction": tuple(f"CUSA{i}" for i in range(1, 4)),
    "Complaints": ("CUSCO",),
    "Loyalty": tuple(f"CUSL{i}" for i in range(1, 4)),
}

TRUTH_COLUMNS = ["lhs", "op", "rhs", "est"]


def _freeze(mapping: Mapping | None) -> MappingProxyType:
    return MappingProxyType(dict(mapping or {}))


def _default_mean(k: int | None) -> float:
    # satisfaction answers lean to the top of the scale: 72% of the way up
    return 0.0 if k is None else 1.0 + 0.72 * (k - 1)


def _default_sd(k: int | None) -> float:
    return 1.0 if k is None else (k - 1) / 5.0


@dataclass(frozen=True, eq=False)
class PopulationModel:
    """A known population: the truth that simulated surveys are drawn from.

    Parameters
    ----------
    constructs : mapping of str to sequence of str
        Construct name -> its item names, in order.
    loadings : mapping of str to float
        Item -> standardized loading, in (0, 1].  Items not given get 0.8
        (1.0 for the item of a single-item construct).
    paths : mapping of (predictor, outcome) to float
        True standardized path coefficients of a recursive (acyclic) model.
    scale_points : int, None or mapping of str to (int or None)
        Number of Likert points (answers ``1..k``) per item, or None for a
        continuous item.  A single value applies to every item.
    item_means, item_sds : mapping of str to float, optional
        Mean and SD of the continuous answer ``x_j`` when the latent mean is
        0.  Defaults: ``1 + 0.72 (k - 1)`` and ``(k - 1) / 5`` for a
        ``k``-point item; 0 and 1 for a continuous item.
    latent_shifts : mapping of str to float, optional
        Structural intercept of a construct in SD units (0 by default).
        Its effect propagates along the paths.
    exogenous_correlations : mapping of (str, str) to float, optional
        Correlations between exogenous constructs (0 by default).
    name : str
        A label for reports.
    """

    constructs: Mapping[str, tuple[str, ...]]
    loadings: Mapping[str, float] = field(default_factory=dict)
    paths: Mapping[tuple[str, str], float] = field(default_factory=dict)
    scale_points: Any = 10
    item_means: Mapping[str, float] = field(default_factory=dict)
    item_sds: Mapping[str, float] = field(default_factory=dict)
    latent_shifts: Mapping[str, float] = field(default_factory=dict)
    exogenous_correlations: Mapping[tuple[str, str], float] = field(default_factory=dict)
    name: str = "population"

    def __post_init__(self) -> None:
        constructs = {str(c): tuple(items) for c, items in dict(self.constructs).items()}
        if not constructs:
            raise SpecError("A population model needs at least one construct.")
        items: list[str] = []
        for c, its in constructs.items():
            if not its:
                raise SpecError(f"Construct {c!r} has no items.", hint="give every construct at least one item")
            items.extend(its)
        dup = sorted({i for i in items if items.count(i) > 1})
        if dup:
            raise SpecError("Items appear in more than one construct.", values=dup,
                            hint="give every item a unique name")
        names = list(constructs)
        unknown = sorted({n for pair in dict(self.paths) for n in pair if n not in constructs})
        unknown += sorted({n for pair in dict(self.exogenous_correlations) for n in pair
                           if n not in constructs})
        unknown += sorted(n for n in dict(self.latent_shifts) if n not in constructs)
        if unknown:
            raise SpecError("Unknown construct(s) in the population model.", values=sorted(set(unknown)),
                            hint=f"use one of {names}")
        loadings = {}
        for c, its in constructs.items():
            for i in its:
                lam = float(dict(self.loadings).get(i, 1.0 if len(its) == 1 else 0.8))
                if not (0.0 < abs(lam) <= 1.0):
                    raise SpecError(f"The standardized loading of item {i!r} must be in (0, 1].",
                                    values=[lam])
                loadings[i] = lam
        extra = sorted(set(dict(self.loadings)) - set(items))
        if extra:
            raise SpecError("Loadings given for items that are in no construct.", values=extra)
        if isinstance(self.scale_points, Mapping):
            scale = {i: dict(self.scale_points).get(i, 10) for i in items}
        else:
            scale = {i: self.scale_points for i in items}
        for i, k in scale.items():
            if k is not None and (int(k) != k or k < 2):
                raise SpecError(f"Item {i!r}: scale_points must be an integer >= 2 or None (continuous).",
                                values=[k])
            scale[i] = None if k is None else int(k)
        means = {i: float(dict(self.item_means).get(i, _default_mean(scale[i]))) for i in items}
        sds = {i: float(dict(self.item_sds).get(i, _default_sd(scale[i]))) for i in items}
        bad_sd = [i for i in items if not sds[i] > 0]
        if bad_sd:
            raise SpecError("Item SDs must be positive.", values=bad_sd)
        object.__setattr__(self, "constructs", _freeze(constructs))
        object.__setattr__(self, "loadings", _freeze(loadings))
        object.__setattr__(self, "paths", _freeze({(str(a), str(b)): float(v)
                                                   for (a, b), v in dict(self.paths).items()}))
        object.__setattr__(self, "scale_points", _freeze(scale))
        object.__setattr__(self, "item_means", _freeze(means))
        object.__setattr__(self, "item_sds", _freeze(sds))
        object.__setattr__(self, "latent_shifts", _freeze({k: float(v) for k, v in
                                                           dict(self.latent_shifts).items()}))
        object.__setattr__(self, "exogenous_correlations", _freeze(
            {(str(a), str(b)): float(v) for (a, b), v in dict(self.exogenous_correlations).items()}))
        # validates acyclicity and R^2 < 1
        object.__setattr__(self, "_solved", self._solve())

    # ------------------------------------------------------------------ views
    @property
    def construct_names(self) -> tuple[str, ...]:
        return tuple(self.constructs)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(i for its in self.constructs.values() for i in its)

    def construct_of(self, item: str) -> str:
        for c, its in self.constructs.items():
            if item in its:
                return c
        raise SpecError(f"Item {item!r} is in no construct of the population model.")

    @property
    def exogenous(self) -> tuple[str, ...]:
        outcomes = {o for _, o in self.paths}
        return tuple(c for c in self.constructs if c not in outcomes)

    def thresholds(self, item: str) -> np.ndarray:
        """Cut points on the standardized latent response ``y*`` of a Likert item."""
        k = self.scale_points[item]
        if k is None:
            return np.array([])
        c = np.arange(1, k)
        return (c + 0.5 - self.item_means[item]) / self.item_sds[item]

    # ------------------------------------------------------------- modifiers
    def replace(self, **changes: Any) -> "PopulationModel":
        """A copy with some fields replaced (``paths={...}`` replaces all paths)."""
        fields = dict(constructs=self.constructs, loadings=self.loadings, paths=self.paths,
                      scale_points=self.scale_points, item_means=self.item_means,
                      item_sds=self.item_sds, latent_shifts=self.latent_shifts,
                      exogenous_correlations=self.exogenous_correlations, name=self.name)
        fields.update(changes)
        return PopulationModel(**fields)

    def with_paths(self, paths: Mapping[tuple[str, str], float]) -> "PopulationModel":
        """A copy with the given paths changed (others kept)."""
        missing = [p for p in paths if p not in self.paths]
        if missing:
            raise SpecError("These paths are not in the population model.", values=missing,
                            hint="only existing paths can be changed")
        return self.replace(paths={**self.paths, **{tuple(k): float(v) for k, v in paths.items()}})

    def shifted(self, shifts: Mapping[str, float]) -> "PopulationModel":
        """A copy whose latent shifts are increased by ``shifts`` (SD units)."""
        new = dict(self.latent_shifts)
        for c, s in shifts.items():
            new[c] = new.get(c, 0.0) + float(s)
        return self.replace(latent_shifts=new)

    # ------------------------------------------------------------ the truth
    def _solve(self) -> dict[str, Any]:
        names = list(self.constructs)
        m = len(names)
        pos = {c: i for i, c in enumerate(names)}
        preds: dict[str, list[str]] = {c: [] for c in names}
        for (p, o) in self.paths:
            if p == o:
                raise SpecError(f"Construct {p!r} cannot predict itself.")
            preds[o].append(p)
        # topological order, exogenous first
        order: list[str] = [c for c in names if not preds[c]]
        done = set(order)
        while len(order) < m:
            ready = [c for c in names if c not in done and all(p in done for p in preds[c])]
            if not ready:
                raise SpecError("The structural model of the population is not recursive (it has a cycle).",
                                values=sorted(c for c in names if c not in done))
            order.extend(ready)
            done.update(ready)
        B = np.zeros((m, m))
        for (p, o), v in self.paths.items():
            B[pos[o], pos[p]] = v
        sigma = np.zeros((m, m))
        psi = np.zeros((m, m))
        exo = [c for c in order if not preds[c]]
        for a in exo:
            psi[pos[a], pos[a]] = 1.0
        for (a, b), r in self.exogenous_correlations.items():
            if a not in exo or b not in exo:
                raise SpecError("Correlations can only be set between exogenous constructs.", values=[a, b])
            psi[pos[a], pos[b]] = psi[pos[b], pos[a]] = r
        ie = [pos[c] for c in exo]
        sigma[np.ix_(ie, ie)] = psi[np.ix_(ie, ie)]
        if np.linalg.eigvalsh(sigma[np.ix_(ie, ie)]).min() <= 0:
            raise SpecError("The correlations between exogenous constructs are not positive definite.")
        processed = list(ie)
        for c in order[len(exo):]:
            k = pos[c]
            b = B[k, processed]
            cov = b @ sigma[np.ix_(processed, processed)]
            explained = float(cov @ b)
            if explained >= 1.0:
                raise SpecError(f"The paths into {c!r} explain R^2 = {explained:.3f} >= 1 of its variance.",
                                hint="use smaller standardized path coefficients")
            psi[k, k] = 1.0 - explained
            sigma[k, processed] = cov
            sigma[processed, k] = cov
            sigma[k, k] = 1.0
            processed.append(k)
        T = np.linalg.inv(np.eye(m) - B)
        alpha = np.array([self.latent_shifts.get(c, 0.0) for c in names])
        return dict(names=names, B=B, psi=psi, sigma=sigma, T=T, mean=T @ alpha, alpha=alpha)

    def latent_covariance(self) -> pd.DataFrame:
        """Implied covariance (= correlation) matrix of the constructs."""
        s = self._solved
        return pd.DataFrame(s["sigma"].copy(), index=s["names"], columns=s["names"])

    def latent_means(self) -> pd.Series:
        """Means of the constructs, ``(I - B)^{-1} alpha``, in SD units."""
        s = self._solved
        return pd.Series(s["mean"].copy(), index=s["names"], name="mean")

    def r2(self) -> pd.Series:
        """True R^2 of each endogenous construct."""
        s = self._solved
        endo = [c for c in s["names"] if c not in self.exogenous]
        pos = {c: i for i, c in enumerate(s["names"])}
        return pd.Series({c: 1.0 - s["psi"][pos[c], pos[c]] for c in endo},
                         name="r2", dtype=float)

    def _lambda(self) -> np.ndarray:
        names = self._solved["names"]
        lam = np.zeros((len(self.items), len(names)))
        for j, i in enumerate(self.items):
            lam[j, names.index(self.construct_of(i))] = self.loadings[i]
        return lam

    def latent_response_covariance(self) -> pd.DataFrame:
        """Implied correlation matrix of the standardized latent responses ``y*``."""
        lam = self._lambda()
        s = lam @ self._solved["sigma"] @ lam.T
        np.fill_diagonal(s, 1.0)
        return pd.DataFrame(s, index=list(self.items), columns=list(self.items))

    def implied_covariance(self) -> pd.DataFrame:
        """Implied covariance of the continuous answers ``x_j = mean_j + sd_j y*_j``.

        For continuous items this is the covariance of the simulated data;
        for Likert items it is the covariance before discretization.
        """
        d = np.array([self.item_sds[i] for i in self.items])
        r = self.latent_response_covariance().to_numpy()
        return pd.DataFrame(r * np.outer(d, d), index=list(self.items), columns=list(self.items))

    def continuous_means(self) -> pd.Series:
        """Means of the continuous answers ``x_j``."""
        mu = self._lambda() @ self._solved["mean"]
        return pd.Series([self.item_means[i] + self.item_sds[i] * mu[j] for j, i in enumerate(self.items)],
                         index=list(self.items), name="mean")

    def expected_item_means(self) -> pd.Series:
        """Exact expectation of each recorded answer (discretized for Likert items)."""
        mu = self._lambda() @ self._solved["mean"]
        out = {}
        for j, i in enumerate(self.items):
            if self.scale_points[i] is None:
                out[i] = self.item_means[i] + self.item_sds[i] * mu[j]
            else:
                out[i] = 1.0 + float(norm.sf(self.thresholds(i) - mu[j]).sum())
        return pd.Series(out, name="mean", dtype=float)

    def expected_item_covariance(self) -> pd.DataFrame:
        """Exact covariance of the recorded answers (discretized for Likert items).

        With ``z_j = y*_j - mu_j`` standard normal, ``a_jc = tau_jc - mu_j`` and
        ``r`` the latent-response correlations, a Likert answer is ``1 +
        sum_c 1[z_j > a_jc]``, so

        * two Likert items: ``sum_c sum_d [Phi2(-a_ic, -a_jd; r_ij) -
          Q(a_ic) Q(a_jd)]`` (``Q`` the normal upper tail, ``Phi2`` the
          bivariate normal distribution function, by Owen's T function);
          the variance of one item puts ``Q(max(a_ic, a_id))`` in the first term;
        * a continuous item with a Likert item: ``sd_i r_ij sum_d phi(a_jd)``
          (Stein's lemma);
        * two continuous items: ``sd_i sd_j r_ij`` (:meth:`implied_covariance`).

        Returns
        -------
        pandas.DataFrame
            Items x items, in :attr:`items` order.
        """
        items = list(self.items)
        r = self.latent_response_covariance().to_numpy()
        mu = self._lambda() @ self._solved["mean"]
        cuts = [self.thresholds(i) - mu[j] for j, i in enumerate(items)]
        sds = np.array([self.item_sds[i] for i in items])
        p = len(items)
        out = np.empty((p, p))
        for a in range(p):
            for b in range(a, p):
                ca, cb = cuts[a], cuts[b]
                if not len(ca) and not len(cb):
                    v = sds[a] * sds[b] * (1.0 if a == b else r[a, b])
                elif not len(ca) or not len(cb):
                    sd, c = (sds[a], cb) if not len(ca) else (sds[b], ca)
                    v = sd * r[a, b] * float(norm.pdf(c).sum())
                elif a == b:
                    hi = np.maximum(ca[:, None], ca[None, :])
                    v = float((norm.sf(hi) - np.outer(norm.sf(ca), norm.sf(ca))).sum())
                else:
                    joint = _bivariate_cdf(-ca[:, None], -cb[None, :], r[a, b])
                    v = float((joint - np.outer(norm.sf(ca), norm.sf(cb))).sum())
                out[a, b] = out[b, a] = v
        return pd.DataFrame(out, index=items, columns=items)

    def true_index(self, weights: str = "equal") -> pd.Series:
        """True 0-100 index per construct (see the module docstring).

        Parameters
        ----------
        weights : {"equal", "loadings"}
            Equal item weights or the true standardized loadings.

        Returns
        -------
        pandas.Series
            Index by construct; NaN for a construct with a continuous item.
        """
        return _index_from_means(self, self.expected_item_means(), weights)

    def truth(self) -> pd.DataFrame:
        """True parameters as a tidy frame.

        Returns
        -------
        pandas.DataFrame
            Columns ``lhs, op, rhs, est``: loadings ``F =~ x`` (standardized),
            paths ``outcome ~ predictor`` (standardized), construct
            (residual) variances ``F ~~ F`` and exogenous correlations,
            item residual variances ``x ~~ x`` (of ``y*``), construct means
            ``F ~1`` (SD units) and ``F r2 F`` (R^2 of endogenous constructs).
        """
        s = self._solved
        names = s["names"]
        rows = []
        for c, its in self.constructs.items():
            for i in its:
                rows.append((c, "=~", i, self.loadings[i]))
        for c in names:
            for (p, o), v in self.paths.items():
                if o == c:
                    rows.append((o, "~", p, v))
        for a in names:
            rows.append((a, "~~", a, s["psi"][names.index(a), names.index(a)]))
        for (a, b), r in self.exogenous_correlations.items():
            rows.append((a, "~~", b, r))
        for i in self.items:
            rows.append((i, "~~", i, 1.0 - self.loadings[i] ** 2))
        for a in names:
            rows.append((a, "~1", "", s["mean"][names.index(a)]))
        for c, v in self.r2().items():
            rows.append((c, "r2", c, v))
        return pd.DataFrame(rows, columns=TRUTH_COLUMNS).astype({"est": float})

    def lavaan_syntax(self) -> str:
        """The model as lavaan syntax (reflective constructs, the true paths)."""
        lines = [f"{c} =~ {' + '.join(its)}" for c, its in self.constructs.items()]
        for c in self.constructs:
            preds = [p for (p, o) in self.paths if o == c]
            if preds:
                lines.append(f"{c} ~ {' + '.join(preds)}")
        return "\n".join(lines) + "\n"

    def spec(self):
        """The model as a :class:`~csmlib.spec.ModelSpec` (reflective constructs, the true paths)."""
        from ..spec.modelspec import ModelSpec

        return ModelSpec.from_lavaan(self.lavaan_syntax(), name=self.name)

    # ------------------------------------------------------------- sampling
    def _draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        s = self._solved
        m = len(s["names"])
        chol = np.linalg.cholesky(s["psi"])
        zeta = rng.standard_normal((n, m)) @ chol.T + s["alpha"]
        eta = zeta @ s["T"].T
        lam = self._lambda()
        theta = np.array([1.0 - self.loadings[i] ** 2 for i in self.items])
        ystar = eta @ lam.T + rng.standard_normal((n, len(self.items))) * np.sqrt(theta)
        out = {}
        for j, i in enumerate(self.items):
            k = self.scale_points[i]
            if k is None:
                out[i] = self.item_means[i] + self.item_sds[i] * ystar[:, j]
            else:
                out[i] = (1 + np.searchsorted(self.thresholds(i), ystar[:, j], side="left")).astype(float)
        frame = pd.DataFrame(out)
        frame.attrs["eta"] = eta
        return frame


def _bivariate_cdf(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """``P(Z1 <= h, Z2 <= k)`` for standard normals with correlation ``r``
    (``|r| < 1``), vectorized: Owen (1956),
    ``Phi(h)/2 + Phi(k)/2 - T(h, (k - r h) / (h s)) - T(k, (h - r k) / (k s)) - beta``
    with ``s = sqrt(1 - r^2)`` and ``beta = 1/2`` when ``h k < 0``.  A zero
    argument is moved by 1e-13 (the function is continuous there)."""
    from scipy.special import owens_t

    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    h = np.where(h == 0.0, 1e-13, h)
    k = np.where(k == 0.0, 1e-13, k)
    s = math.sqrt(1.0 - r * r)
    beta = np.where(h * k < 0, 0.5, 0.0)
    return (0.5 * norm.cdf(h) + 0.5 * norm.cdf(k) - owens_t(h, (k - r * h) / (h * s))
            - owens_t(k, (h - r * k) / (k * s)) - beta)


def _index_from_means(pop: PopulationModel, means: pd.Series, weights: str) -> pd.Series:
    if weights not in ("equal", "loadings"):
        raise SpecError("weights must be 'equal' or 'loadings'.", values=[weights])
    out = {}
    for c, its in pop.constructs.items():
        ks = [pop.scale_points[i] for i in its]
        if any(k is None for k in ks):
            out[c] = math.nan
            continue
        w = np.array([1.0 if weights == "equal" else pop.loadings[i] for i in its])
        num = sum(wj * (means[i] - 1.0) for wj, i in zip(w, its))
        den = sum(wj * (k - 1.0) for wj, k in zip(w, ks))
        out[c] = 100.0 * num / den
    return pd.Series(out, name="index", dtype=float)


# ---------------------------------------------------------------- helpers
def chain_population(
    *,
    quality_value: float = 0.6,
    value_satisfaction: float = 0.6,
    satisfaction_loyalty: float = 0.6,
    items: Mapping[str, Sequence[str]] | None = None,
    loading: float = 0.8,
    scale_points: Any = 10,
    **kwargs: Any,
) -> PopulationModel:
    """Quality -> Value -> Satisfaction -> Loyalty.

    Parameters
    ----------
    quality_value, value_satisfaction, satisfaction_loyalty : float
        True standardized paths.
    items : mapping, optional
        Construct -> item names; default the mobi items of these constructs.
    loading : float
        Standardized loading of every item (override with ``loadings=``).
    scale_points : int, None or mapping
        Likert points per item (None: continuous).
    **kwargs
        Further :class:`PopulationModel` fields.
    """
    names = ("Quality", "Value", "Satisfaction", "Loyalty")
    items = dict(items) if items is not None else {c: MOBI_ITEMS[c] for c in names}
    loadings = {i: loading for its in items.values() for i in its}
    loadings.update(kwargs.pop("loadings", {}))
    return PopulationModel(
        constructs=items, loadings=loadings, scale_points=scale_points,
        paths={("Quality", "Value"): quality_value, ("Value", "Satisfaction"): value_satisfaction,
               ("Satisfaction", "Loyalty"): satisfaction_loyalty},
        name=kwargs.pop("name", "chain"), **kwargs)


#: default true paths of the ACSI model (roughly as estimated on mobi)
ACSI_PATHS: dict[tuple[str, str], float] = {
    ("Expectation", "Quality"): 0.55,
    ("Expectation", "Value"): 0.10,
    ("Expectation", "Satisfaction"): 0.10,
    ("Quality", "Value"): 0.55,
    ("Quality", "Satisfaction"): 0.50,
    ("Value", "Satisfaction"): 0.25,
    ("Satisfaction", "Complaints"): 0.50,
    ("Satisfaction", "Loyalty"): 0.55,
    ("Complaints", "Loyalty"): 0.15,
}

#: default true paths of the ECSI model (ACSI plus Image)
ECSI_PATHS: dict[tuple[str, str], float] = {
    ("Image", "Expectation"): 0.50,
    ("Image", "Satisfaction"): 0.20,
    ("Image", "Loyalty"): 0.20,
    ("Expectation", "Quality"): 0.55,
    ("Expectation", "Value"): 0.10,
    ("Expectation", "Satisfaction"): 0.05,
    ("Quality", "Value"): 0.55,
    ("Quality", "Satisfaction"): 0.45,
    ("Value", "Satisfaction"): 0.20,
    ("Satisfaction", "Complaints"): 0.50,
    ("Satisfaction", "Loyalty"): 0.45,
    ("Complaints", "Loyalty"): 0.10,
}


def acsi_population(
    *,
    paths: Mapping[tuple[str, str], float] | None = None,
    items: Mapping[str, Sequence[str]] | None = None,
    loading: float = 0.8,
    scale_points: Any = 10,
    image: bool = False,
    **kwargs: Any,
) -> PopulationModel:
    """The ACSI model: Expectation -> Quality, Value, Satisfaction;
    Quality -> Value, Satisfaction; Value -> Satisfaction; Satisfaction ->
    Complaints, Loyalty; Complaints -> Loyalty.  Complaints is a single item.

    Parameters
    ----------
    paths : mapping, optional
        Changes to the default true paths :data:`ACSI_PATHS` (or
        :data:`ECSI_PATHS` with ``image=True``).
    items : mapping, optional
        Construct -> item names; default the mobi items (CUEX1-3, PERQ1-7,
        PERV1-2, CUSA1-3, CUSCO, CUSL1-3; IMAG1-5).
    loading : float
        Standardized loading of every multi-item construct's items
        (override single items with ``loadings=``); the Complaints item has
        loading 1.
    scale_points : int, None or mapping
        Likert points per item (None: continuous).
    image : bool
        Add Image (the ECSI model).
    **kwargs
        Further :class:`PopulationModel` fields.
    """
    names = (("Image",) if image else ()) + ("Expectation", "Quality", "Value", "Satisfaction",
                                             "Complaints", "Loyalty")
    items = dict(items) if items is not None else {c: MOBI_ITEMS[c] for c in names}
    true_paths = dict(ECSI_PATHS if image else ACSI_PATHS)
    for k, v in dict(paths or {}).items():
        if tuple(k) not in true_paths:
            raise SpecError("Not a path of the model.", values=[k], hint=f"use one of {list(true_paths)}")
        true_paths[tuple(k)] = float(v)
    loadings = {i: (loading if len(its) > 1 else 1.0) for its in items.values() for i in its}
    loadings.update(kwargs.pop("loadings", {}))
    return PopulationModel(constructs=items, loadings=loadings, paths=true_paths,
                           scale_points=scale_points, name=kwargs.pop("name", "ecsi" if image else "acsi"),
                           **kwargs)


def ecsi_population(**kwargs: Any) -> PopulationModel:
    """The ECSI model: :func:`acsi_population` with Image (IMAG1-5)."""
    return acsi_population(image=True, **kwargs)


# ------------------------------------------------------------- simulation
@dataclass(frozen=True, eq=False)
class Simulated:
    """Simulated survey data together with the truth it was drawn from.

    Attributes
    ----------
    data : pandas.DataFrame
        ``respondent_id``, the group columns (``wave``, ``segment``) when
        there are groups, and one column per item (float; NaN = missing).
    truth : pandas.DataFrame
        Columns ``lhs, op, rhs, est`` (see :meth:`PopulationModel.truth`),
        preceded by the group columns when there are groups.
    population_covariance : pandas.DataFrame
        Implied covariance of the continuous answers in the population the
        pooled data were drawn from (the share-weighted mixture over groups).
    true_index : pandas.Series
        True 0-100 index per construct of the pooled population (equal
        weights, see the module docstring).
    true_index_by_group : pandas.DataFrame
        Group columns plus one column per construct; one row per group
        (a single row without group columns when there are no groups).
    populations : dict
        Group key (tuple of group values; ``()`` without groups) -> the
        :class:`PopulationModel` of that group.
    shares : dict
        Group key -> share of the respondents (exactly n_group / n).
    group_columns : tuple of str
        ``("wave",)``, ``("segment",)``, ``("wave", "segment")`` or ``()``.
    seed : int or None
        The seed used.
    latent : pandas.DataFrame or None
        The drawn construct scores (rows as in ``data``), with
        ``keep_latent=True``.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    population_covariance: pd.DataFrame
    true_index: pd.Series
    true_index_by_group: pd.DataFrame
    populations: dict
    shares: dict
    group_columns: tuple[str, ...]
    seed: int | None
    latent: pd.DataFrame | None = None

    @property
    def population(self) -> PopulationModel:
        """The population when there is a single one."""
        if len(self.populations) != 1:
            raise SpecError("This simulation has several populations (groups).",
                            hint="use .populations[group]")
        return next(iter(self.populations.values()))

    @property
    def items(self) -> tuple[str, ...]:
        return next(iter(self.populations.values())).items


def _split(n: int, shares: Sequence[float]) -> list[int]:
    raw = np.asarray(shares, dtype=float) * n
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    for j in order[: n - base.sum()]:
        base[j] += 1
    return base.tolist()


def _check_rate(missing_rate: float) -> float:
    rate = float(missing_rate)
    if not 0.0 <= rate < 1.0:
        raise SpecError("missing_rate must be in [0, 1).", values=[missing_rate])
    return rate


def _run(
    groups: list[tuple[tuple, PopulationModel, int]],
    group_columns: tuple[str, ...],
    *,
    seed: int | None,
    missing_rate: float,
    id_column: str,
    id_start: int,
    shuffle: bool,
    keep_latent: bool,
) -> Simulated:
    rate = _check_rate(missing_rate)
    items = groups[0][1].items
    for _, pop, _ in groups:
        if pop.items != items or pop.construct_names != groups[0][1].construct_names:
            raise SpecError("Every group's population must have the same constructs and items.")
    rng = np.random.default_rng(seed)
    frames, latents = [], []
    for key, pop, n_g in groups:
        f = pop._draw(n_g, rng)
        eta = f.attrs.pop("eta")
        for j, (col, val) in enumerate(zip(group_columns, key)):
            f.insert(j, col, val)
        frames.append(f)
        latents.append(pd.DataFrame(eta, columns=list(pop.construct_names)))
    data = pd.concat(frames, ignore_index=True)
    latent = pd.concat(latents, ignore_index=True)
    if shuffle and len(groups) > 1:
        perm = rng.permutation(len(data))
        data = data.iloc[perm].reset_index(drop=True)
        latent = latent.iloc[perm].reset_index(drop=True)
    if rate > 0:
        mask = rng.random((len(data), len(items))) < rate
        vals = data[list(items)].to_numpy(dtype=float, copy=True)
        vals[mask] = np.nan
        data[list(items)] = vals
    data.insert(0, id_column, np.arange(id_start, id_start + len(data)))
    # the truth
    n = sum(n_g for _, _, n_g in groups)
    shares = {key: n_g / n for key, _, n_g in groups}
    truths, idx_rows = [], []
    for key, pop, _ in groups:
        t = pop.truth()
        for j, col in enumerate(group_columns):
            t.insert(j, col, key[j])
        truths.append(t)
        row = dict(zip(group_columns, key))
        row.update(pop.true_index().to_dict())
        idx_rows.append(row)
    truth = pd.concat(truths, ignore_index=True)
    cov, pooled_index = _pool(groups)
    return Simulated(
        data=data, truth=truth, population_covariance=cov, true_index=pooled_index,
        true_index_by_group=pd.DataFrame(idx_rows), populations={k: p for k, p, _ in groups},
        shares=shares, group_columns=group_columns, seed=seed,
        latent=latent if keep_latent else None)


def _segments(population: PopulationModel, segments: Any, segment_shares: Any
              ) -> list[tuple[str, PopulationModel, float]]:
    if segments is None:
        return []
    if isinstance(segments, Mapping):
        names = [str(s) for s in segments]
        pops = []
        for s, v in segments.items():
            if isinstance(v, PopulationModel):
                pops.append(v)
            elif isinstance(v, Mapping):
                pops.append(population.with_paths(v))
            else:
                raise SpecError(f"Segment {s!r}: give a PopulationModel or a mapping of changed paths.",
                                values=[type(v).__name__])
    else:
        names = [str(s) for s in segments]
        pops = [population] * len(names)
    if not names or len(set(names)) != len(names):
        raise SpecError("Segments must be non-empty and unique.", values=names)
    if segment_shares is None:
        shares = [1.0 / len(names)] * len(names)
    else:
        shares = [float(dict(segment_shares).get(s, math.nan)) for s in names]
        if any(not (x > 0) for x in shares) or abs(sum(shares) - 1.0) > 1e-9:
            raise SpecError("segment_shares must give every segment a positive share, summing to 1.",
                            values=shares)
    return list(zip(names, pops, shares))


def simulate_survey(
    population: PopulationModel,
    n: int,
    *,
    seed: int | None,
    missing_rate: float = 0.0,
    segments: Mapping[str, Any] | Sequence[str] | None = None,
    segment_shares: Mapping[str, float] | None = None,
    segment_column: str = "segment",
    id_column: str = "respondent_id",
    id_start: int = 1,
    keep_latent: bool = False,
) -> Simulated:
    """Draw one survey sample from a known population.

    Parameters
    ----------
    population : PopulationModel
        The truth.
    n : int
        Number of respondents (split over segments by their shares, exactly).
    seed : int or None
        Seed of the numpy Generator; the same seed gives the same data.
    missing_rate : float
        Probability that an item answer is missing (MCAR, per cell).
    segments : mapping or sequence, optional
        Segment name -> its own :class:`PopulationModel`, or a mapping of
        paths changed from ``population`` (``{("Value", "Satisfaction"):
        0.4}``); a plain sequence of names gives identical populations.
    segment_shares : mapping, optional
        Segment -> share of respondents (default equal).
    segment_column, id_column : str
        Column names.
    id_start : int
        First respondent id.
    keep_latent : bool
        Keep the drawn construct scores in ``.latent``.

    Returns
    -------
    Simulated
        ``.data`` has columns ``respondent_id``, ``segment`` (with segments)
        and the items.
    """
    n = _check_n(n)
    segs = _segments(population, segments, segment_shares)
    if not segs:
        groups = [((), population, n)]
        cols: tuple[str, ...] = ()
    else:
        sizes = _split(n, [s for _, _, s in segs])
        groups = [((name,), pop, k) for (name, pop, _), k in zip(segs, sizes)]
        cols = (segment_column,)
    return _run(groups, cols, seed=seed, missing_rate=missing_rate, id_column=id_column,
                id_start=id_start, shuffle=True, keep_latent=keep_latent)


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise SpecError("n must be a positive integer.", values=[n])
    return int(n)


def simulate_study(
    population: PopulationModel,
    n: int,
    *,
    seed: int | None,
    waves: int | Sequence[str] = 3,
    drift: Mapping[str, float] | None = None,
    missing_rate: float = 0.0,
    segments: Mapping[str, Any] | Sequence[str] | None = None,
    segment_shares: Mapping[str, float] | None = None,
    wave_column: str = "wave",
    segment_column: str = "segment",
    id_column: str = "respondent_id",
    keep_latent: bool = False,
) -> Simulated:
    """Draw several waves of a periodic study.

    Wave ``w`` (0-based) is drawn from the population shifted by
    ``w * drift``: ``drift`` maps a construct to the change of its latent
    shift per wave, in SD units, which also moves its consequences along the
    paths.

    Parameters
    ----------
    population : PopulationModel
        The truth in the first wave.
    n : int
        Respondents per wave.
    seed : int or None
        Seed; the same seed gives the same study.
    waves : int or sequence of str
        Number of waves (labelled 1, 2, ...) or their labels.
    drift : mapping of str to float, optional
        Construct -> latent shift per wave.
    missing_rate, segments, segment_shares
        As in :func:`simulate_survey`.
    wave_column, segment_column, id_column : str
        Column names.
    keep_latent : bool
        Keep the drawn construct scores in ``.latent``.

    Returns
    -------
    Simulated
        ``.data`` has columns ``respondent_id`` (unique over the study),
        ``wave``, ``segment`` (with segments) and the items; rows ordered by
        wave.  ``.true_index_by_group`` has one row per wave (x segment).
    """
    n = _check_n(n)
    labels = list(range(1, int(waves) + 1)) if isinstance(waves, int) else list(waves)
    if not labels or len(set(labels)) != len(labels):
        raise SpecError("waves must be a positive number or unique labels.", values=list(labels))
    drift = dict(drift or {})
    segs = _segments(population, segments, segment_shares)
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**63 - 1, size=len(labels))
    parts = []
    next_id = 1
    for w, (label, wseed) in enumerate(zip(labels, seeds)):
        shift = {c: w * d for c, d in drift.items()}
        if not segs:
            groups = [((label,), population.shifted(shift), n)]
            cols: tuple[str, ...] = (wave_column,)
        else:
            sizes = _split(n, [s for _, _, s in segs])
            groups = [((label, name), pop.shifted(shift), k) for (name, pop, _), k in zip(segs, sizes)]
            cols = (wave_column, segment_column)
        parts.append(_run(groups, cols, seed=int(wseed), missing_rate=missing_rate,
                          id_column=id_column, id_start=next_id, shuffle=True, keep_latent=keep_latent))
        next_id += n
    all_groups = [(k, p, round(s * n)) for part in parts for k, p in part.populations.items()
                  for s in [part.shares[k]]]
    pooled = _pool(all_groups)
    return Simulated(
        data=pd.concat([p.data for p in parts], ignore_index=True),
        truth=pd.concat([p.truth for p in parts], ignore_index=True),
        population_covariance=pooled[0], true_index=pooled[1],
        true_index_by_group=pd.concat([p.true_index_by_group for p in parts], ignore_index=True),
        populations={k: v for p in parts for k, v in p.populations.items()},
        shares={k: n_g / (n * len(labels)) for k, _, n_g in all_groups},
        group_columns=cols, seed=seed,
        latent=pd.concat([p.latent for p in parts], ignore_index=True) if keep_latent else None)


def _pool(groups: list[tuple[tuple, PopulationModel, int]]) -> tuple[pd.DataFrame, pd.Series]:
    """Covariance and index of the mixture of groups (weights n_g / n)."""
    n = sum(g[2] for g in groups)
    shares = [g[2] / n for g in groups]
    mix_mean = sum(s * p.expected_item_means() for s, (_, p, _) in zip(shares, groups))
    index = _index_from_means(groups[0][1], mix_mean, "equal")
    cm = [p.continuous_means() for _, p, _ in groups]
    grand = sum(s * m for s, m in zip(shares, cm))
    cov = sum(s * (p.implied_covariance() + np.outer(m - grand, m - grand))
              for s, m, (_, p, _) in zip(shares, cm, groups))
    return cov, index


# ------------------------------------------------------------ demo study
#: settings of the demo study (the truth behind data/demo)
DEMO_SEED = 20260101
DEMO_N = 600
DEMO_MISSING_RATE = 0.03
DEMO_DRIFT = {"Satisfaction": 0.15}
DEMO_REVERSED = ("PERQ7",)
DEMO_MISSING_CODE = 99


def demo_population() -> PopulationModel:
    """The population of the demo study's first wave (ACSI, 10-point items)."""
    return acsi_population(name="demo")


def demo_segments() -> dict[str, PopulationModel]:
    """Demo regions: in the South value matters more for satisfaction."""
    base = demo_population()
    return {"North": base,
            "South": base.with_paths({("Value", "Satisfaction"): 0.40, ("Quality", "Satisfaction"): 0.40})}


def simulate_demo() -> Simulated:
    """The simulated study behind ``data/demo`` (before coding for the files).

    Three waves of :data:`DEMO_N` respondents, regions North and South
    (equal shares, different paths, see :func:`demo_segments`), drift of
    +0.15 SD per wave in Satisfaction, 3% missing answers.
    """
    return simulate_study(demo_population(), DEMO_N, seed=DEMO_SEED,
                          waves=[w for _, w in DEMO_WAVES], drift=DEMO_DRIFT,
                          missing_rate=DEMO_MISSING_RATE, segments=demo_segments(),
                          segment_column="region", keep_latent=True)


def _demo_frames(sim: Simulated) -> dict[str, pd.DataFrame]:
    """Code the simulated demo study as raw survey exports, one per wave."""
    rng = np.random.default_rng(DEMO_SEED + 1)
    data = sim.data.copy()
    n = len(data)
    items = list(sim.items)
    # extra items from the latent constructs
    loy = sim.latent["Loyalty"].to_numpy()
    sat = sim.latent["Satisfaction"].to_numpy()
    rec = 7.2 + 2.0 * (0.85 * loy + math.sqrt(1 - 0.85**2) * rng.standard_normal(n))
    data["recommend"] = np.clip(np.rint(rec), 0, 10)
    data["complained"] = (rng.standard_normal(n) < -1.0 - 0.6 * sat).astype(float)
    extra_missing = rng.random((n, 2)) < DEMO_MISSING_RATE
    vals = data[["recommend", "complained"]].to_numpy(copy=True)
    vals[extra_missing] = np.nan
    data[["recommend", "complained"]] = vals
    for col in DEMO_REVERSED:   # raw answers of a reverse-worded question
        data[col] = 11 - data[col]
    coded = items + ["recommend", "complained"]
    data[coded] = data[coded].fillna(DEMO_MISSING_CODE).astype("int64")
    ids = data["respondent_id"]
    data.insert(3, "name", [f"Respondent {i:05d}" for i in ids])
    data.insert(4, "email", [f"respondent{i:05d}@example.com" for i in ids])
    data["improve"] = _demo_verbatims(sat, data["name"].tolist(), data["email"].tolist())
    return {file: data[data["wave"] == wave].reset_index(drop=True) for file, wave in DEMO_WAVES}


#: Seed of the demo's open-ended answers: a generator of their own, so that
#: every other column of the demo files stays as it was before they were added.
DEMO_VERBATIM_SEED = DEMO_SEED + 17


def _demo_verbatims(sat: np.ndarray, names: list[str], emails: list[str]) -> list[str]:
    """The demo's answers to "What should we improve?" (``improve``): 60%
    answer, half in Chinese; waiting time, price, staff attitude or noise
    (20%), staff and waiting mentioned more by the less satisfied
    (:func:`simulate_verbatims`' phrases); 4% add a contact (the fake e-mail,
    a test mobile number, or the respondent's fake name) that masking and
    the quote checks must keep out of every report."""
    rng = np.random.default_rng(DEMO_VERBATIM_SEED)
    themes = ["waiting", "price", "staff", "noise"]
    out = []
    for z, name, email in zip(sat, names, emails):
        if rng.random() >= 0.6:
            out.append("")
            continue
        lang = "zh" if rng.random() < 0.5 else "en"
        w = np.array([0.3 * math.exp(-0.4 * z), 0.3, 0.2 * math.exp(-0.8 * z), 0.2])
        text = _verbatim(themes[rng.choice(4, p=w / w.sum())], lang, rng)
        if rng.random() < 0.04:
            contact = [f"Mail me: {email}", "请拨打138 0013 8000联系我。", f"Regards, {name}"][rng.integers(3)]
            text = f"{text} {contact}"
        out.append(text)
    return out


def write_demo(folder: str | Path) -> list[Path]:
    """Write the demo study's wave CSVs (``wave1.csv`` ... ``wave3.csv``) and its
    complaint log (``complaints.csv``, ``complaints.yml``; see
    :func:`csmlib.analysis.simulate_complaints.write_demo_complaints`).

    The instrument ``instrument.yml`` is maintained by hand beside them.
    Columns: ``respondent_id, wave, region, name, email``, the ACSI items
    (CUEX1-3, PERQ1-7 with PERQ7 reverse-worded, PERV1-2, CUSA1-3, CUSCO,
    CUSL1-3; 1-10), ``recommend`` (0-10) and ``complained`` (0/1); missing
    answers are coded 99; ``improve``, the open-ended answers in English and
    Chinese (:func:`_demo_verbatims`).  Deterministic: the same files every time.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    frames = _demo_frames(simulate_demo())
    for file, frame in frames.items():
        path = folder / file
        write_csv(path, frame, lineterminator="\n")
        written.append(path)
    written += write_demo_complaints(folder, {wave: frames[file] for file, wave in DEMO_WAVES})
    return written


# ------------------------------------------------------------- verbatims
#: Phrases of the themes :func:`simulate_verbatims` seeds, per language
#: (English, Chinese): waiting time, price, staff attitude.
VERBATIM_THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "waiting": {
        "en": ("The waiting time is far too long.", "I had to wait forty minutes in the queue.",
               "Long queues and slow service at the counter.", "Waiting on the hotline takes ages.",
               "Please cut the waiting time, the queue never moves.",
               "Too long a wait before anyone served me.", "The queue at the branch was very long."),
        "zh": ("排队等待时间太长了。", "等了四十分钟才办理。", "柜台排队的人太多，等待太久。",
               "客服热线等待时间很长。", "希望缩短排队等待的时间。", "每次去都要排队等很久。",
               "营业厅排队太慢了。"),
    },
    "price": {
        "en": ("The prices are too high.", "Your fees are expensive compared with other providers.",
               "The price increase this year was not explained.", "Too expensive for what we get.",
               "Monthly fees keep going up, prices should come down.", "Cheaper prices please.",
               "The bill is expensive and the fees are unclear."),
        "zh": ("价格太贵了。", "价格比其他公司高。", "今年价格上涨也没有解释。", "套餐价格偏高，不划算。",
               "月费越来越贵，希望降价。", "费用太贵，性价比低。", "资费不透明，价格贵。"),
    },
    "staff": {
        "en": ("The staff were rude to me.", "Unfriendly staff at the branch.",
               "The attitude of the staff was impolite and unhelpful.",
               "Staff should be trained to be more polite.", "The employee was rude and impatient.",
               "Nobody on the staff showed a friendly attitude.", "Rude and unhelpful staff."),
        "zh": ("工作人员态度很差。", "服务人员不耐烦，态度冷淡。", "店员态度恶劣，不礼貌。",
               "希望员工服务态度好一点。", "客服人员态度不好，很不耐烦。", "员工对顾客没有礼貌。",
               "工作人员服务态度需要改进。"),
    },
}
# words of answers on no common subject: two of them, at random, per noise answer
_NOISE_WORDS = {
    "en": ("parking", "website", "colour", "weather", "garden", "music", "lighting", "coffee", "magazine",
           "holiday", "bicycle", "umbrella", "football", "newsletter", "elevator", "painting", "keyboard",
           "blanket", "tickets", "recipes", "balcony", "printer", "festival", "uniforms", "calendar",
           "stickers", "podcast", "furniture", "airport", "library", "battery", "carpet", "lottery",
           "museum", "packaging", "radio", "sofa", "stadium", "tablet", "window"),
    "zh": ("停车场", "网站", "颜色", "天气", "花园", "音乐", "灯光", "咖啡", "杂志", "假期", "自行车", "雨伞",
           "足球", "电梯", "绘画", "键盘", "毯子", "门票", "菜谱", "阳台", "打印机", "节日", "制服", "日历",
           "贴纸", "播客", "家具", "机场", "图书馆", "电池", "地毯", "彩票", "博物馆", "包装", "收音机",
           "沙发", "体育场", "平板", "窗户", "海报"),
}
_NOISE_FRAMES = {"en": ("Something about the {0} and the {1}.", "Maybe the {0}, or the {1}.",
                        "The {0} reminded me of the {1}."),
                 "zh": ("关于{0}和{1}。", "{0}还有{1}吧。", "想到了{0}和{1}。")}
_CLOSING = {"en": ("Thank you.", "Otherwise everything is fine.", "That is all."),
            "zh": ("谢谢。", "其他都还可以。", "就这些。")}


def _verbatim(theme: str, lang: str, rng: np.random.Generator) -> str:
    """One simulated answer on ``theme`` (or ``"noise"``) in ``lang``."""
    if theme == "noise":
        a, b = rng.choice(len(_NOISE_WORDS[lang]), size=2, replace=False)
        frame = _NOISE_FRAMES[lang][rng.integers(len(_NOISE_FRAMES[lang]))]
        text = frame.format(_NOISE_WORDS[lang][a], _NOISE_WORDS[lang][b])
    else:
        bank = VERBATIM_THEMES[theme][lang]
        picks = rng.choice(len(bank), size=1 + int(rng.random() < 0.4), replace=False)
        text = (" " if lang == "en" else "").join(bank[i] for i in picks)
    if rng.random() < 0.3:
        closing = _CLOSING[lang][rng.integers(len(_CLOSING[lang]))]
        text = f"{text} {closing}" if lang == "en" else text + closing
    return text


def simulate_verbatims(n: int, *, seed: int, lang: str = "en", shares: Mapping[str, float] | None = None,
                       noise_share: float = 0.2) -> pd.DataFrame:
    """Simulated open-ended answers with known themes (waiting time, price,
    staff attitude) and noise (answers on no common subject).

    Each themed answer is one or two phrases of its theme
    (:data:`VERBATIM_THEMES`), sometimes followed by a closing phrase; a
    noise answer names two words drawn at random from 40 unrelated words.

    Parameters
    ----------
    n : int
        Number of answers.
    seed : int
        Seed of the generator.
    lang : {"en", "zh"}
        Language of the answers.
    shares : mapping, optional
        ``{theme: share}`` of the themed answers (default equal shares).
    noise_share : float
        Share of noise answers.

    Returns
    -------
    DataFrame
        ``text``, ``theme`` (``"waiting"``, ``"price"``, ``"staff"`` or
        ``"noise"``).
    """
    n = _check_n(n)
    if lang not in ("en", "zh"):
        raise SpecError(f"verbatims are simulated in 'en' or 'zh', not {lang!r}")
    shares = dict(shares or {t: 1.0 for t in VERBATIM_THEMES})
    unknown = set(shares) - set(VERBATIM_THEMES)
    if unknown or not 0 <= noise_share <= 1:
        raise SpecError(f"unknown theme(s) {sorted(unknown)} or noise_share {noise_share!r} outside [0, 1]")
    names = list(shares) + ["noise"]
    p = np.array([shares[t] for t in shares], dtype=float)
    p = np.append((1 - noise_share) * p / p.sum(), noise_share)
    rng = np.random.default_rng(seed)
    theme = rng.choice(len(names), size=n, p=p)
    texts = [_verbatim(names[t], lang, rng) for t in theme]
    return pd.DataFrame({"text": texts, "theme": [names[t] for t in theme]})


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m csmlib.analysis.simulate --demo FOLDER``: regenerate the demo study."""
    parser = argparse.ArgumentParser(prog="python -m csmlib.analysis.simulate", description=main.__doc__)
    parser.add_argument("--demo", metavar="FOLDER", required=True,
                        help="folder to write wave1.csv, wave2.csv, wave3.csv into")
    args = parser.parse_args(argv)
    write_demo(args.demo)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
