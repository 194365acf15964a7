"""Polychoric correlations, thresholds and their asymptotic covariance, as lavaan.

Ordered answers (a 5-point Likert item) are read as a continuous latent
response ``y*`` cut at thresholds: ``y = c`` when ``tau_{c-1} < y* <= tau_c``.
lavaan's two-step estimates (``lavCor(..., ordered = ...)``, the first stage
of ``estimator = "WLSMV"``), reproduced here:

1. thresholds of each item from its own margins,
   ``tau_c = Phi^-1(share of answers <= c)`` (the univariate probit ML);
2. the correlation of each pair of latent responses by maximising the
   bivariate-normal likelihood of the pair's contingency table with the
   thresholds held at their step-1 values (bounded to [-0.999, 0.999];
   lavaan's handling of a 2 x 2 table with empty cells: a single empty cell
   gets 0.5 moved in with the margins kept, two empty cells give +-1, a table
   with ``n11 n22 = n12 n21`` gives 0).  Where the two part: with one empty
   cell in a 2 x 2 table lavaan 0.6.14 ends at its bound 0.999 (the empty
   cell's probability, computed negative near the bound, drops out of its
   likelihood); csmlib maximises the corrected likelihood (an interior
   value) and says so in an :class:`~csmlib.errors.EstimationWarning`;
3. the asymptotic covariance of (thresholds, correlations) from the casewise
   scores of both steps (Muthen 1984; lavaan's ``muthen1984``): with ``B``
   the sum of the scores' outer products and ``A`` its block-triangular
   part (threshold blocks of each item, the correlation scores against the
   thresholds of their pair, and the diagonal of the correlation scores),
   ``Gamma = N A^-1 B A^-T``, lavaan's ``NACOV`` (``lavInspect(fit,
   "gamma")``) whose diagonal inverse is the DWLS weight (``"wls.v"``).

Missing answers: ``missing="listwise"`` keeps the rows answered on every
item; ``missing="pairwise"`` (lavaan ``missing = "pairwise"``) uses every
answer of an item for its thresholds and every row answered on both items
for their correlation, and a missing answer adds nothing to the scores.

The bivariate normal probabilities are Genz's (2004) algorithm (Gauss-Legendre
quadrature of Drezner and Wesolowsky's formula, double precision),
vectorised over the cells of a table.

Ordered variables have 2 to 10 observed categories.  Items named in
``continuous=`` are lavaan's numeric variables: mean and variance (divisor
N), Pearson correlations among them, two-step polyserial correlations with
the ordered items (bounded to [-0.995, 0.995]), and their scores in the
NACOV (``H A^-1 B A^-T H'`` with ``H`` the change to their covariance
scale, and lavaan's sign: its statistic is minus the mean); complete data
only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..errors import DataError, EstimationWarning, SpecError
from .prepare import input_frame

__all__ = ["Polychoric", "polychoric", "bivariate_normal_cdf", "ordinal_levels", "MAX_CATEGORIES"]

#: the most categories an item may have to be treated as ordered
MAX_CATEGORIES = 10
#: lavaan's bounds of a polychoric correlation during its estimation
_RHO_BOUND = 0.999

_SQRT2 = np.sqrt(2.0)


def _phi(x):
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)


def _Phi(x):
    return special.ndtr(x)


# ---------------------------------------------------------------------------
# the bivariate normal distribution function
# ---------------------------------------------------------------------------
_GL = {
    3: (np.array([0.1713244923791705, 0.3607615730481384, 0.4679139345726904]),
        np.array([0.9324695142031522, 0.6612093864662647, 0.2386191860831970])),
    6: (np.array([.04717533638651177, 0.1069393259953183, 0.1600783285433464,
                  0.2031674267230659, 0.2334925365383547, 0.2491470458134029]),
        np.array([0.9815606342467191, 0.9041172563704750, 0.7699026741943050,
                  0.5873179542866171, 0.3678314989981802, 0.1252334085114692])),
    10: (np.array([.01761400713915212, .04060142980038694, .06267204833410906,
                   .08327674157670475, 0.1019301198172404, 0.1181945319615184,
                   0.1316886384491766, 0.1420961093183821, 0.1491729864726037,
                   0.1527533871307259]),
         np.array([0.9931285991850949, 0.9639719272779138, 0.9122344282513259,
                   0.8391169718222188, 0.7463319064601508, 0.6360536807265150,
                   0.5108670019508271, 0.3737060887154196, 0.2277858511416451,
                   0.07652652113349733])),
}


def _bvnu(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """P(X > h, Y > k) for a standard bivariate normal with correlation
    ``r`` (a scalar), elementwise over finite arrays ``h`` and ``k``
    (Genz 2004, ``bvnu``)."""
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    if r == 0:
        return _Phi(-h) * _Phi(-k)
    ar = abs(r)
    w, x = _GL[3 if ar < 0.3 else 6 if ar < 0.75 else 10]
    w = np.concatenate([w, w])
    x = np.concatenate([1 - x, 1 + x])
    hk = h * k
    if ar < 0.925:
        hs = (h * h + k * k) / 2
        asr = np.arcsin(r) / 2
        sn = np.sin(asr * x)                                   # (m,)
        terms = np.exp((sn[None, :] * hk[..., None] - hs[..., None]) / (1 - sn * sn)[None, :])
        return terms @ w * asr / (2 * np.pi) + _Phi(-h) * _Phi(-k)
    if r < 0:
        k = -k
        hk = -hk
    bvn = np.zeros(np.broadcast(h, k).shape)
    if ar < 1:
        as_ = (1 - r) * (1 + r)
        a = np.sqrt(as_)
        bs = (h - k) ** 2
        c = (4 - hk) / 8
        d = (12 - hk) / 80
        asr = -(bs / as_ + hk) / 2
        with np.errstate(under="ignore", over="ignore"):
            bvn = np.where(asr > -100, a * np.exp(asr) * (1 - c * (bs - as_) * (1 - d * bs) / 3
                                                          + c * d * as_ * as_), 0.0)
            b = np.sqrt(bs)
            sp = np.sqrt(2 * np.pi) * _Phi(-b / a)
            bvn = np.where(hk > -100, bvn - np.exp(-hk / 2) * sp * b * (1 - c * bs * (1 - d * bs) / 3), bvn)
            a = a / 2
            xs = (a * x) ** 2                                  # (m,)
            asr2 = -(bs[..., None] / xs[None, :] + hk[..., None]) / 2
            spx = 1 + c[..., None] * xs * (1 + 5 * d[..., None] * xs)
            rs = np.sqrt(1 - xs)
            ep = np.exp(-(hk[..., None] / 2) * xs / (1 + rs) ** 2) / rs
            terms = np.where(asr2 > -100, np.exp(asr2) * (spx - ep), 0.0)
        bvn = (a * (terms @ w) - bvn) / (2 * np.pi)
    if r > 0:
        bvn = bvn + _Phi(-np.maximum(h, k))
    else:
        L = np.where(h < 0, _Phi(k) - _Phi(h), _Phi(-h) - _Phi(-k))
        bvn = np.where(h >= k, -bvn, L - bvn)
    return np.clip(bvn, 0.0, 1.0)


def bivariate_normal_cdf(h: Any, k: Any, r: float) -> np.ndarray:
    """P(X <= h, Y <= k) of a standard bivariate normal with correlation ``r``.

    Parameters
    ----------
    h, k : array_like
        Upper limits (may be +-inf), broadcast together.
    r : float
        The correlation, in [-1, 1].

    Returns
    -------
    ndarray
        The probabilities, with the shape of ``h`` and ``k`` broadcast.
    """
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    out = np.empty(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    # infinite limits: a margin or 0 / 1
    out[~fin] = np.where((h[~fin] == -np.inf) | (k[~fin] == -np.inf), 0.0,
                         np.where(h[~fin] == np.inf, _Phi(k[~fin]), _Phi(h[~fin])))
    if fin.any():
        out[fin] = _bvnu(-h[fin], -k[fin], float(r))
    return out


def _bivariate_density(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """The standard bivariate normal density, 0 at infinite limits."""
    s = 1 - r * r
    with np.errstate(invalid="ignore", over="ignore"):
        q = (h * h - 2 * r * h * k + k * k) / s
        d = np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(s))
    return np.where(np.isfinite(h) & np.isfinite(k), d, 0.0)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def ordinal_levels(values: np.ndarray, name: str, file: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The categories of an ordered item (its distinct answers, sorted) and
    each row's category number 0..K-1 (-1 when missing).

    Raises
    ------
    DataError
        Fewer than 2 or more than :data:`MAX_CATEGORIES` categories.
    """
    x = np.asarray(values, dtype=float)
    obs = ~np.isnan(x)
    levels = np.unique(x[obs])
    if len(levels) < 2:
        raise DataError(f"item {name!r} has fewer than two different answers: it cannot be treated as ordered",
                        file=file, column=name, values=list(levels[:1]),
                        hint="drop the item from the model")
    if len(levels) > MAX_CATEGORIES:
        raise DataError(f"item {name!r} has {len(levels)} different answers; ordered items may have at most "
                        f"{MAX_CATEGORIES} categories",
                        file=file, column=name,
                        hint="treat the item as continuous (leave it out of ordered=) or recode it "
                             "into fewer categories")
    code = np.full(len(x), -1, dtype=int)
    code[obs] = np.searchsorted(levels, x[obs])
    return levels, code


@dataclass(frozen=True)
class Polychoric:
    """Two-step polychoric correlations of ordered items, as lavaan.

    Attributes
    ----------
    correlation : DataFrame
        The polychoric correlation matrix (items x items).
    thresholds : DataFrame
        Columns ``item, threshold, est`` (``threshold`` is ``"t1"``,
        ``"t2"``, ...), in lavaan's order (item by item).
    gamma : DataFrame or None
        lavaan's ``NACOV``: N times the asymptotic covariance matrix of
        (thresholds, correlations), rows and columns labelled ``"x1|t1"``
        and ``"x1~~x2"``; correlations in lavaan's order (the lower triangle
        column by column: (2, 1), (3, 1), ..., (3, 2), ...).  None when not
        asked for.
    n_obs : int
        Rows used (pairwise: the rows with at least one answer).
    levels : dict
        The categories of each item (its observed answers, sorted).
    pair_n : DataFrame
        Rows answered on both items of each pair (items x items).
    empty_cells : tuple of (str, str)
        Pairs whose contingency table has an empty cell.
    missing : str
    """

    correlation: pd.DataFrame
    thresholds: pd.DataFrame
    gamma: pd.DataFrame | None
    n_obs: int
    levels: dict
    pair_n: pd.DataFrame
    empty_cells: tuple = ()
    missing: str = "listwise"
    numeric: tuple = ()
    means: dict = field(default_factory=dict)
    variances: dict = field(default_factory=dict)
    _codes: np.ndarray | None = field(default=None, repr=False)

    @property
    def sample_statistics(self) -> pd.Series:
        """The vector WLS estimation fits, in lavaan's order (labelled as the
        rows of :attr:`gamma`): per item its thresholds (``"x|t1"``, ...)
        or, for a continuous item, minus its mean (``"x~1"``, lavaan's
        sign); the variances of the continuous items (``"x~~x"``); then the
        correlations of the pairs, on the covariance scale of the
        continuous items (``"x~~y"``)."""
        items = list(self.correlation.columns)
        R = self.correlation.to_numpy()
        labels, vals = [], []
        for x in items:
            if x in self.numeric:
                labels.append(f"{x}~1")
                vals.append(-self.means[x])
            else:
                th = self.thresholds[self.thresholds["item"] == x]
                labels += [f"{x}|{t}" for t in th["threshold"]]
                vals += list(th["est"])
        for x in items:
            if x in self.numeric:
                labels.append(f"{x}~~{x}")
                vals.append(self.variances[x])
        sd = np.array([np.sqrt(self.variances[x]) if x in self.numeric else 1.0 for x in items])
        for j, i in _pairs(len(items)):
            labels.append(f"{items[j]}~~{items[i]}")
            vals.append(R[i, j] * sd[i] * sd[j])
        return pd.Series(vals, index=labels, dtype=float)


def _pairs(p: int) -> list[tuple[int, int]]:
    """Pairs (j, i), i > j, in lavaan's order (lower triangle column by column)."""
    return [(j, i) for j in range(p - 1) for i in range(j + 1, p)]


def _cell_probabilities(t1: np.ndarray, t2: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell probabilities of a K1 x K2 table and their derivative in rho.

    ``t1``, ``t2``: thresholds with -inf and +inf added (length K + 1)."""
    H, Kk = np.meshgrid(t1, t2, indexing="ij")
    F = bivariate_normal_cdf(H, Kk, rho)
    f = _bivariate_density(H, Kk, rho)
    P = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
    dP = f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]
    return P, dP


def _pair_rho(freq: np.ndarray, t1: np.ndarray, t2: np.ndarray, start: float) -> tuple[float, bool]:
    """ML correlation of one contingency table, thresholds fixed (Fisher
    scoring with step halving, inside lavaan's bounds)."""
    n = freq.sum()

    def logl(r):
        P, dP = _cell_probabilities(t1, t2, r)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.sum(np.where(freq > 0, freq * np.log(P), 0.0))
        return ll, P, dP

    rho = float(np.clip(start, -0.99, 0.99))
    ll, P, dP = logl(rho)
    for _ in range(200):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.sum(np.where(freq > 0, freq * dP / P, 0.0))
            info = n * np.sum(np.where(P > 0, dP * dP / P, 0.0))
        if not (np.isfinite(g) and np.isfinite(info) and info > 0):
            return rho, False
        step = g / info
        new = float(np.clip(rho + step, -_RHO_BOUND, _RHO_BOUND))
        for _ in range(30):
            ll_new, P_new, dP_new = logl(new)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            new = (new + rho) / 2
        else:
            return rho, False
        done = abs(new - rho) < 1e-10
        rho, ll, P, dP = new, ll_new, P_new, dP_new
        if done or (abs(rho) == _RHO_BOUND and np.sign(g) == np.sign(rho)):
            return rho, True
    return rho, False


def _two_by_two(freq: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> tuple[np.ndarray, float | None]:
    """lavaan's special cases of a 2 x 2 table (zero.add = 0.5 with the
    margins kept; two empty cells; independence; zero thresholds)."""
    freq = freq.astype(float).copy()
    zero = np.flatnonzero(freq.ravel(order="F") == 0)
    if len(zero) == 2:
        return freq, (1.0 if freq[0, 0] > 0 else -1.0)
    if len(zero) == 1:
        s = 0.5 if zero[0] in (0, 3) else -0.5
        freq[0, 0] += s
        freq[1, 1] += s
        freq[1, 0] -= s
        freq[0, 1] -= s
    if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
        return freq, 0.0
    if t1[1] == 0 and t2[1] == 0:
        return freq, float(-np.cos(2 * np.pi * freq[0, 0] / freq.sum()))
    return freq, None


# ---------------------------------------------------------------------------
# the public function
# ---------------------------------------------------------------------------
def polychoric(
    data: Any,
    columns: Sequence[str] | None = None,
    *,
    missing: str = "listwise",
    gamma: bool = True,
    continuous: Sequence[str] = (),
) -> Polychoric:
    """Polychoric correlations and thresholds of ordered items (two-step, as lavaan).

    Parameters
    ----------
    data : DataFrame or Survey
        The answers; every column used must be numeric with 2 to 10
        distinct answers (the categories, in their numeric order).
    columns : sequence of str, optional
        The items (default: every column of ``data``).
    missing : {"listwise", "pairwise"}
        lavaan's ``missing = "listwise"`` (the default) or ``"pairwise"``.
    gamma : bool
        Also compute the asymptotic covariance matrix (lavaan's NACOV).
    continuous : sequence of str
        Items to treat as continuous (lavaan's numeric variables): their
        mean and variance (divisor N), Pearson correlations among them and
        polyserial correlations with the ordered items (two-step ML, as
        lavaan).  Complete data only (``missing="listwise"``).

    Returns
    -------
    Polychoric
        ``correlation`` (items x items), ``thresholds`` (columns ``item,
        threshold, est``), ``gamma`` (NACOV, labelled), ``n_obs``,
        ``levels``, ``pair_n``, ``empty_cells``.

    Raises
    ------
    DataError
        A column missing, not numeric, with fewer than 2 or more than 10
        categories, or no row left.
    """
    if missing not in ("listwise", "pairwise"):
        raise SpecError(f"missing must be 'listwise' or 'pairwise', got {missing!r}", values=[missing],
                        hint="use missing='pairwise' to keep incomplete rows")
    df, file, _ = input_frame(data, "polychoric")
    items = [str(c) for c in (df.columns if columns is None else columns)]
    absent = [c for c in items if c not in set(map(str, df.columns))]
    if absent:
        raise DataError(f"{len(absent)} column(s) are not in the data", file=file, column=absent,
                        hint="check the item names against the data's columns")
    if len(items) < 2:
        raise SpecError("polychoric correlations need at least two items", column=items,
                        hint="give two or more ordered items")
    continuous = [str(c) for c in continuous]
    stray = [c for c in continuous if c not in items]
    if stray:
        raise SpecError("continuous items that are not among the items: " + ", ".join(stray), values=stray,
                        hint="name items of columns= in continuous=")
    if continuous and missing == "pairwise":
        raise SpecError('missing="pairwise" with continuous items is not available', column=continuous,
                        hint='use missing="listwise" (or treat every item as ordered)')
    X = _numeric(df[items], file)
    if missing == "listwise":
        X = X[~np.isnan(X).any(axis=1)]
    else:
        X = X[~np.isnan(X).all(axis=1)]
    if len(X) == 0:
        raise DataError("no row has answers on the items", file=file, column=items,
                        hint="check the data or use missing='pairwise'")
    return _polychoric(X, items, file, missing, gamma, frozenset(continuous))


def _numeric(frame: pd.DataFrame, file: str | None) -> np.ndarray:
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            num = pd.to_numeric(col, errors="coerce")
            bad = (col.notna() & num.isna()).to_numpy()
            if bad.any() or pd.api.types.is_bool_dtype(col):
                where = np.flatnonzero(bad)[:5] if bad.any() else np.array([0])
                raise DataError(f"item {c!r} is not numeric", file=file, column=str(c),
                                rows=[int(i) + 1 for i in where], values=[col.iloc[int(i)] for i in where],
                                hint="code the ordered answers as numbers (1, 2, 3, ...)")
    return frame.apply(pd.to_numeric).to_numpy(dtype=float)


def _polyserial_rho(z: np.ndarray, t: np.ndarray, code: np.ndarray, start: float) -> float:
    """Two-step ML polyserial correlation: ``z`` the standardised
    continuous item, ``t`` the ordered item's thresholds (with -inf, inf),
    ``code`` its categories (lavaan's bounds -0.995, 0.995)."""
    from scipy import optimize

    up, lo = t[code + 1], t[code]

    def nll(r):
        R = np.sqrt(1 - r * r)
        pr = _Phi((up - r * z) / R) - _Phi((lo - r * z) / R)
        return -float(np.sum(np.log(np.maximum(pr, np.finfo(float).eps))))

    res = optimize.minimize_scalar(nll, bounds=(-0.995, 0.995), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    return float(res.x)


def _polychoric(X: np.ndarray, items: list[str], file: str | None, missing: str,
                want_gamma: bool, continuous: frozenset = frozenset()) -> Polychoric:
    N, p = X.shape
    num = np.array([x in continuous for x in items])
    levels, codes, taus, nth = {}, [], [], []
    means, variances = {}, {}
    for c, name in enumerate(items):
        if num[c]:
            x = X[:, c]
            means[name] = float(x.mean())
            variances[name] = float(np.mean((x - x.mean()) ** 2))
            if not variances[name] > 0:
                raise DataError(f"item {name!r} has no variance", file=file, column=name,
                                hint="drop the item from the model")
            codes.append(np.zeros(N, dtype=int))
            taus.append(np.zeros(0))
            nth.append(0)
            continue
        lev, code = ordinal_levels(X[:, c], name, file)
        levels[name] = tuple(float(v) for v in lev)
        counts = np.bincount(code[code >= 0], minlength=len(lev))
        cum = np.cumsum(counts)[:-1] / counts.sum()
        taus.append(special.ndtri(cum))
        codes.append(code)
        nth.append(len(lev) - 1)
    codes = np.column_stack(codes)
    ext = [np.concatenate([[-np.inf], t, [np.inf]]) for t in taus]
    zs = [(X[:, c] - means[x]) / np.sqrt(variances[x]) if num[c] else None for c, x in enumerate(items)]
    R = np.eye(p)
    pair_n = np.zeros((p, p), dtype=int)
    empty = []
    pairs = _pairs(p)
    with np.errstate(invalid="ignore"):
        for j, i in pairs:
            if num[i] and num[j]:
                R[i, j] = R[j, i] = float(np.mean(zs[i] * zs[j]))
                pair_n[i, j] = pair_n[j, i] = N
                continue
            if num[i] or num[j]:
                c_num, c_ord = (i, j) if num[i] else (j, i)
                start = float(np.corrcoef(X[:, c_num], X[:, c_ord])[0, 1])
                R[i, j] = R[j, i] = _polyserial_rho(zs[c_num], ext[c_ord], codes[:, c_ord], start)
                pair_n[i, j] = pair_n[j, i] = N
                continue
            both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
            a, b = codes[both, j], codes[both, i]       # lavaan: y1 = item j, y2 = item i
            K1, K2 = nth[j] + 1, nth[i] + 1
            freq = np.bincount(a * K2 + b, minlength=K1 * K2).reshape(K1, K2)
            pair_n[i, j] = pair_n[j, i] = int(both.sum())
            if (freq == 0).any():
                empty.append((items[j], items[i]))
            fixed = None
            if K1 == 2 and K2 == 2:
                one_empty = int((freq == 0).sum()) == 1
                freq, fixed = _two_by_two(freq, ext[j], ext[i])
                if one_empty and fixed is None:
                    warnings.warn(EstimationWarning(
                        f"the 2 x 2 table of items {j + 1} and {i + 1} has one empty cell: 0.5 answers were "
                        "moved into it keeping the margins (lavaan's zero.add), which keeps the correlation "
                        "below 1; lavaan 0.6.14 reports its bound 0.999 for such a table (its bivariate "
                        "probabilities of the empty cell turn negative and drop out of its likelihood)"))
            if fixed is not None:
                rho = fixed
            else:
                xa, xb = X[both, j], X[both, i]
                start = float(np.corrcoef(xa, xb)[0, 1]) if len(xa) > 1 else 0.0
                if not np.isfinite(start) or abs(start) >= 1:
                    start = 0.0
                rho, ok = _pair_rho(freq, ext[j], ext[i], start)
                if not ok:
                    rho0, ok0 = _pair_rho(freq, ext[j], ext[i], 0.0)
                    if ok0:
                        rho = rho0
                    else:
                        warnings.warn(EstimationWarning(
                            f"the polychoric correlation of items {j + 1} and {i + 1} of the model did not "
                            "converge; its start value (the Pearson correlation) is used"))
                        rho = start
            R[i, j] = R[j, i] = rho
    th_rows = [(name, f"t{t + 1}", float(v)) for name, tt in zip(items, taus) for t, v in enumerate(tt)]
    thresholds = pd.DataFrame(th_rows, columns=["item", "threshold", "est"])
    out = Polychoric(
        correlation=pd.DataFrame(R, index=items, columns=items), thresholds=thresholds, gamma=None,
        n_obs=int(N), levels=levels, pair_n=pd.DataFrame(pair_n, index=items, columns=items),
        empty_cells=tuple(empty), missing=missing, numeric=tuple(x for x, n in zip(items, num) if n),
        means=means, variances=variances, _codes=codes)
    if not want_gamma:
        return out
    G = _nacov(codes, taus, ext, R, pairs, N, num, zs, [variances.get(x, 1.0) for x in items])
    labels = list(out.sample_statistics.index)
    return replace(out, gamma=pd.DataFrame(G, index=labels, columns=labels))


def _nacov(codes: np.ndarray, taus: list, ext: list, R: np.ndarray, pairs: list, N: int,
           num: np.ndarray, zs: list, var: list) -> np.ndarray:
    """lavaan's NACOV of (thresholds and means, variances, correlations)
    from the casewise scores (muthen1984): ``N H A^-1 B A^-T H'`` with ``H``
    the change to the covariance scale of continuous items, and lavaan's
    sign of the means (its statistic is minus the mean)."""
    p = codes.shape[1]
    nth = [1 if num[v] else len(t) for v, t in enumerate(taus)]    # a continuous item: its mean slot
    start = np.concatenate([[0], np.cumsum(nth)])
    T = int(start[-1])
    num_idx = list(np.flatnonzero(num))
    var_col = {v: T + k for k, v in enumerate(num_idx)}                # the variance slots
    T1 = T + len(num_idx)                                              # A11 size
    P = len(pairs)
    SC = np.zeros((N, T1 + P))
    sd = np.sqrt(np.asarray(var, dtype=float))
    # step 1: threshold scores (ordered) and mean / variance scores (continuous)
    for v in range(p):
        if num[v]:
            res = zs[v] * sd[v]
            SC[:, start[v]] = res / var[v]
            SC[:, var_col[v]] = -1 / (2 * var[v]) + res * res / (2 * var[v] ** 2)
            continue
        e = ext[v]
        cat_p = _Phi(e[1:]) - _Phi(e[:-1])
        dens = _phi(e)
        obs = codes[:, v] >= 0
        c = codes[obs, v]
        rows = np.flatnonzero(obs)
        up = c < nth[v]
        SC[rows[up], start[v] + c[up]] += dens[c[up] + 1] / cat_p[c[up]]
        lo = c > 0
        SC[rows[lo], start[v] + c[lo] - 1] -= dens[c[lo]] / cat_p[c[lo]]
    A21 = np.zeros((P, T1))
    H21 = np.zeros((P, T1))
    H22 = np.ones(P)
    # step 2: correlation scores (y1 = item i, y2 = item j, as muthen1984 calls them)
    for q, (j, i) in enumerate(pairs):
        rho = R[i, j]
        if num[i] and num[j]:
            sc_rho, derivs = _bvreg_scores(zs[i] * sd[i], zs[j] * sd[j], var[i], var[j], rho)
            SC[:, T1 + q] = sc_rho
            for col, dv in zip((start[i], start[j], var_col[i], var_col[j]), derivs):
                A21[q, col] = sc_rho @ dv
            H21[q, var_col[i]] = sd[j] * rho / (2 * sd[i])
            H21[q, var_col[j]] = sd[i] * rho / (2 * sd[j])
            H22[q] = sd[i] * sd[j]
            continue
        if num[i] or num[j]:
            c_num, c_ord = (i, j) if num[i] else (j, i)
            sc_rho, d_mu, d_var, d_th = _bvmix_scores(zs[c_num], sd[c_num], ext[c_ord], codes[:, c_ord], rho)
            SC[:, T1 + q] = sc_rho
            A21[q, start[c_num]] = sc_rho @ d_mu
            A21[q, var_col[c_num]] = sc_rho @ d_var
            A21[q, start[c_ord]:start[c_ord + 1]] = sc_rho @ d_th
            H21[q, var_col[c_num]] = rho / (2 * sd[c_num])
            H22[q] = sd[c_num]
            continue
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        rows = np.flatnonzero(both)
        a, b = codes[both, i], codes[both, j]
        t1, t2 = ext[i], ext[j]
        Pc, dPc = _cell_probabilities(t1, t2, rho)
        Rr = np.sqrt(1 - rho * rho)
        with np.errstate(divide="ignore", invalid="ignore"):
            lik = Pc[a, b]
            bad = lik <= np.sqrt(np.finfo(float).eps)
            sc_rho = np.where(bad, 0.0, dPc[a, b] / lik)
            SC[rows, T1 + q] = sc_rho
            # d log P / d tau of y1 at its upper (a) and lower (a - 1) thresholds
            d1 = _phi(t1)                                               # (K1 + 1,)
            Z1 = d1[:, None] * (_Phi((t2[None, 1:] - rho * t1[:, None]) / Rr)
                                - _Phi((t2[None, :-1] - rho * t1[:, None]) / Rr))   # (K1+1, K2)
            Z1 = np.where(np.isfinite(t1)[:, None], Z1, 0.0)
            d2 = _phi(t2)
            Z2 = d2[:, None] * (_Phi((t1[None, 1:] - rho * t2[:, None]) / Rr)
                                - _Phi((t1[None, :-1] - rho * t2[:, None]) / Rr))   # (K2+1, K1)
            Z2 = np.where(np.isfinite(t2)[:, None], Z2, 0.0)
        for (yv, th_of, Z, own, other) in ((i, t1, Z1, a, b), (j, t2, Z2, b, a)):
            K = len(th_of) - 1
            sc = np.zeros((len(rows), K - 1))
            up = own < K - 1
            with np.errstate(divide="ignore", invalid="ignore"):
                sc[np.flatnonzero(up), own[up]] += Z[own[up] + 1, other[up]] / lik[up]
                lo = own > 0
                sc[np.flatnonzero(lo), own[lo] - 1] -= Z[own[lo], other[lo]] / lik[lo]
            sc[bad] = 0.0
            A21[q, start[yv]:start[yv + 1]] = sc_rho @ sc
    B = SC.T @ SC
    A11_inv = np.zeros((T1, T1))
    for v in range(p):
        idx = list(range(start[v], start[v + 1])) + ([var_col[v]] if num[v] else [])
        A11_inv[np.ix_(idx, idx)] = np.linalg.inv(B[np.ix_(idx, idx)])
    a22 = np.diag(B)[T1:]
    if np.any(a22 == 0):
        raise DataError("a pair of items has no information on its correlation (no rows answered both)",
                        hint="use fewer items or missing='listwise'")
    A22_inv = np.diag(1 / a22)
    Binv = np.zeros((T1 + P, T1 + P))
    Binv[:T1, :T1] = A11_inv
    Binv[T1:, T1:] = A22_inv
    Binv[T1:, :T1] = -A22_inv @ A21 @ A11_inv
    W = Binv @ B @ Binv.T
    if num.any():
        H = np.eye(T1 + P)
        H[T1:, :T1] = H21
        H[T1:, T1:] = np.diag(H22)
        W = H @ W @ H.T
        means = [start[v] for v in num_idx]
        W[means, :] *= -1
        W[:, means] *= -1
    return N * W


def _bvreg_scores(y1c: np.ndarray, y2c: np.ndarray, v1: float, v2: float, rho: float):
    """lavaan's casewise scores of a Pearson correlation (lav_bvreg_cor_scores):
    the correlation's, and the derivatives for the means and variances."""
    R = 1 - rho * rho
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    d_mu1 = (2 * y1c / v1 - 2 * rho * y2c / (s1 * s2)) / (2 * R)
    d_mu2 = -(2 * rho * y1c / (s1 * s2) - 2 * y2c / v2) / (2 * R)
    d_v1 = -(0.5 / v1 - ((y1c * y1c) / (v1 * v1) - rho * y1c * y2c / (v1 * s1 * s2)) / (2 * R))
    d_v2 = -(0.5 / v2 + (rho * y1c * y2c / (v2 * s1 * s2) - (y2c * y2c) / (v2 * v2)) / (2 * R))
    z = y1c * y1c / v1 - 2 * rho * y1c * y2c / (s1 * s2) + y2c * y2c / v2
    d_rho = rho / R + (y1c * y2c / (s1 * s2 * R) - z * rho / (R * R))
    return d_rho, (d_mu1, d_mu2, d_v1, d_v2)


def _bvmix_scores(z: np.ndarray, sd: float, t: np.ndarray, code: np.ndarray, rho: float):
    """lavaan's casewise scores of a polyserial correlation
    (lav_bvmix_cor_scores): the correlation's, and the derivatives for the
    continuous item's mean and variance and the ordered item's thresholds."""
    R = np.sqrt(1 - rho * rho)
    up, lo = t[code + 1], t[code]
    with np.errstate(invalid="ignore"):
        tj, tj1 = (up - rho * z) / R, (lo - rho * z) / R
        yz1 = np.where(np.isfinite(up), _phi(tj), 0.0)
        yz2 = np.where(np.isfinite(lo), _phi(tj1), 0.0)
        pr = np.maximum(_Phi(tj) - _Phi(tj1), np.finfo(float).eps)
        inv = 1 / pr
        d_mu = 1 / sd * (z + inv * (rho / R) * (yz1 - yz2))
        d_var = 1 / (2 * sd * sd) * ((z * z - 1) + (inv * rho * z / R) * (yz1 - yz2))
        TAUj = np.where(np.isfinite(up), yz1 * (up * rho - z), 0.0)
        TAUj1 = np.where(np.isfinite(lo), yz2 * (lo * rho - z), 0.0)
        d_rho = inv / (R ** 3) * (TAUj - TAUj1)
    K = len(t) - 1
    d_th = np.zeros((len(z), K - 1))
    rows = np.arange(len(z))
    has_up = code < K - 1
    d_th[rows[has_up], code[has_up]] += yz1[has_up] / R * inv[has_up]
    has_lo = code > 0
    d_th[rows[has_lo], code[has_lo] - 1] -= yz2[has_lo] / R * inv[has_lo]
    return d_rho, d_mu, d_var, d_th
