"""A numpy RAM (reticular action model) representation of a CB-SEM model.

Every variable (observed items first, then latent constructs) is a row of
two matrices: ``A`` (directed effects, ``A[i, j]`` = effect of variable
``j`` on variable ``i``: loadings and paths) and ``S`` (symmetric (residual)
variances and covariances).  With ``F`` the filter that picks the observed
variables, the model-implied covariance of the items is

    Sigma(theta) = F (I - A)^-1 S (I - A)^-T F'.

:class:`RamModel` maps the vector of free parameters ``theta`` to ``A``,
``S`` and ``Sigma``; it computes the Jacobian ``d Sigma / d theta``
analytically, the expected (Fisher) information of normal-theory ML, and
does Fisher scoring, all on stacks of parameter vectors so that a
bootstrap can refit a thousand resamples at once.

Free parameter ``k`` is ``theta[k]``; :attr:`RamModel.rows` lists the
parameter-table rows (:class:`csmlib.estimate.partable.Param`, lavaan
style) with ``free`` = the index into ``theta`` (or -1 when the row is
fixed).  Rows that share a label share one free index (an equality
constraint).  Rows with ``matrix == "M"`` are intercepts and means: the
implied mean of the items is ``F (I - A)^-1 m``.

:class:`Likelihood` is the one estimator of every CB-SEM fit: the normal
loglikelihood of a parameter table over groups (one :class:`RamModel`
each) and missing-data patterns (ML: one pattern; FIML: one per pattern),
its gradient, expected and observed information and casewise scores, and
Fisher scoring with step halving.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["RamModel", "Likelihood", "Pattern", "patterns", "one_blas_thread", "invert_information"]


def one_blas_thread(fun):
    """Run ``fun`` with the BLAS library on one thread.

    The engine's linear algebra is on small matrices (tens to a few hundred
    rows), where a multithreaded BLAS only adds synchronisation: on a busy
    2-core machine a 171 x 171 solve took 350 ms with OpenBLAS' threads and
    about 1 ms without, which made a multi-group fit 10x slower.
    """
    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fun(*args, **kwargs)

    return wrapper


class RamModel:
    """Free parameters -> ``A``, ``S``, implied covariance and derivatives.

    Parameters
    ----------
    observed : sequence of str
        Observed variables, in the order of the sample covariance matrix.
    latent : sequence of str
        Latent variables.
    rows : sequence of Param
        The parameter table; ``free`` indices must be ``0..k-1``.
    """

    def __init__(self, observed, latent, rows, k: int | None = None) -> None:
        self.observed = tuple(observed)
        self.latent = tuple(latent)
        self.names = self.observed + self.latent
        self.rows = tuple(rows)
        self.p = len(self.observed)
        self.n = len(self.names)
        frees = [r.free for r in self.rows if r.free >= 0]
        self.k = int(k) if k is not None else ((max(frees) + 1) if frees else 0)
        n = self.n
        self.A0 = np.zeros((n, n))
        self.S0 = np.zeros((n, n))
        self.m0 = np.zeros(n)
        a_pos, s_pos, m_pos = [], [], []
        for r in self.rows:
            if r.free < 0:
                if r.matrix == "A":
                    self.A0[r.i, r.j] = r.value
                elif r.matrix == "M":
                    self.m0[r.i] = r.value
                else:
                    self.S0[r.i, r.j] = r.value
                    self.S0[r.j, r.i] = r.value
            elif r.matrix == "A":
                a_pos.append((r.i, r.j, r.free))
            elif r.matrix == "M":
                m_pos.append((r.i, r.free))
            else:
                s_pos.append((r.i, r.j, r.free))
        self._m = np.array(m_pos, dtype=int).reshape(-1, 2)
        self.has_means = bool(any(r.matrix == "M" for r in self.rows))
        self._a = np.array(a_pos, dtype=int).reshape(-1, 3)
        self._s = np.array(s_pos, dtype=int).reshape(-1, 3)
        # indicator matrices: position -> free parameter
        self._a_to_k = np.zeros((len(self._a), self.k))
        self._a_to_k[np.arange(len(self._a)), self._a[:, 2]] = 1.0
        self._s_to_k = np.zeros((len(self._s), self.k))
        self._s_to_k[np.arange(len(self._s)), self._s[:, 2]] = 1.0
        # free parameter of each free position (A positions, then S positions); when every
        # parameter sits at exactly one position (no equality labels) the position -> parameter
        # map is a permutation and the information is a reordering instead of two products
        pos_k = np.concatenate([self._a[:, 2], self._s[:, 2]]).astype(int)
        self._pos_k = pos_k
        self._perm = None
        if len(pos_k) == self.k and np.array_equal(np.sort(pos_k), np.arange(self.k)):
            self._perm = np.argsort(pos_k)        # parameter k sits at position _perm[k]

    # -- matrices ------------------------------------------------------------
    def start(self) -> np.ndarray:
        """Default start values (the ``value`` of each free row)."""
        theta = np.zeros(self.k)
        for r in self.rows:
            if r.free >= 0:
                theta[r.free] = r.value
        return theta

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``A`` and ``S`` for ``theta`` of shape ``(k,)`` or ``(B, k)``."""
        theta = np.asarray(theta, dtype=float)
        batch = theta.shape[:-1]
        A = np.broadcast_to(self.A0, batch + self.A0.shape).copy()
        S = np.broadcast_to(self.S0, batch + self.S0.shape).copy()
        if len(self._a):
            A[..., self._a[:, 0], self._a[:, 1]] = theta[..., self._a[:, 2]]
        if len(self._s):
            S[..., self._s[:, 0], self._s[:, 1]] = theta[..., self._s[:, 2]]
            S[..., self._s[:, 1], self._s[:, 0]] = theta[..., self._s[:, 2]]
        return A, S

    def means(self, theta: np.ndarray) -> np.ndarray:
        """Intercepts and means ``m`` of every variable for ``theta``."""
        theta = np.asarray(theta, dtype=float)
        m = np.broadcast_to(self.m0, theta.shape[:-1] + self.m0.shape).copy()
        if len(self._m):
            m[..., self._m[:, 0]] = theta[..., self._m[:, 1]]
        return m

    def implied_mean(self, theta: np.ndarray) -> np.ndarray:
        """Implied mean of the observed variables, ``F (I - A)^-1 m``."""
        _, _, _, G = self._parts(theta)
        return np.einsum("...pn,...n->...p", G, self.means(theta))

    def mean_jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``d mu / d theta`` of shape ``(k, p)``: ``G[:, i] (E m)_j`` for a
        directed effect ``A_ij`` and ``G[:, i]`` for an intercept ``m_i``."""
        theta = np.asarray(theta, dtype=float)
        _, _, E, G = self._parts(theta)
        Em = E @ self.means(theta)
        d = np.zeros((self.k, self.p))
        if len(self._a):
            contrib = G[:, self._a[:, 0]] * Em[self._a[:, 1]][None, :]   # (p, nA)
            np.add.at(d, self._a[:, 2], contrib.T)
        if len(self._m):
            np.add.at(d, self._m[:, 1], G[:, self._m[:, 0]].T)
        return d

    def _parts(self, theta):
        A, S = self.matrices(theta)
        E = np.linalg.inv(np.eye(self.n) - A)
        G = E[..., : self.p, :]
        return A, S, E, G

    def total_covariance(self, theta: np.ndarray) -> np.ndarray:
        """Implied covariance of all variables (observed and latent)."""
        _, S, E, _ = self._parts(theta)
        return E @ S @ np.swapaxes(E, -1, -2)

    def implied(self, theta: np.ndarray) -> np.ndarray:
        """Implied covariance ``Sigma`` of the observed variables."""
        _, S, _, G = self._parts(theta)
        return G @ S @ np.swapaxes(G, -1, -2)

    def jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Sigma`` and ``dSigma`` with ``dSigma[..., k, :, :] = d Sigma / d theta_k``."""
        _, S, E, G = self._parts(theta)
        Gt = np.swapaxes(G, -1, -2)
        Sigma = G @ S @ Gt
        batch = Sigma.shape[:-2]
        p = self.p
        d = np.zeros(batch + (p * p, self.k))
        if len(self._a):
            K = E @ S @ Gt  # (..., n, p)
            gi = np.swapaxes(G[..., :, self._a[:, 0]], -1, -2)  # (..., nA, p)
            kj = K[..., self._a[:, 1], :]  # (..., nA, p)
            outer = gi[..., :, :, None] * kj[..., :, None, :]  # (..., nA, p, p)
            outer = outer + np.swapaxes(outer, -1, -2)
            d += np.swapaxes(outer.reshape(batch + (len(self._a), p * p)), -1, -2) @ self._a_to_k
        if len(self._s):
            gi = np.swapaxes(G[..., :, self._s[:, 0]], -1, -2)  # (..., nS, p)
            gj = np.swapaxes(G[..., :, self._s[:, 1]], -1, -2)
            outer = gi[..., :, :, None] * gj[..., :, None, :]
            offdiag = (self._s[:, 0] != self._s[:, 1]).astype(float)[:, None, None]
            outer = outer + offdiag * np.swapaxes(outer, -1, -2)
            d += np.swapaxes(outer.reshape(batch + (len(self._s), p * p)), -1, -2) @ self._s_to_k
        d = np.ascontiguousarray(np.swapaxes(d, -1, -2)).reshape(batch + (self.k, p, p))
        return Sigma, d

    # -- normal-theory ML ------------------------------------------------------
    def information(self, theta: np.ndarray, S: np.ndarray | None = None):
        """Expected information of ML per observation,
        ``I_kl = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``, from the
        rank-2 structure of each derivative: every free position has
        ``dSigma = u v' + v u'``, so ``1/2 tr(Si dSigma_a Si dSigma_b)``
        = ``P_uu P_vv + P_uv o P_uv'`` elementwise with ``P_xy = X' Si Y``.
        Works on stacks; far cheaper than forming ``dSigma``.  With ``S``
        given, returns ``(information, gradient)`` (the gradient as
        :meth:`gradient`)."""
        single = np.ndim(theta) == 1
        th = np.atleast_2d(np.asarray(theta, dtype=float))
        st = self._state(th)
        if S is None:
            info = self._information_from_state(st, None)
            return info[0] if single else info
        Sb = np.broadcast_to(np.asarray(S, dtype=float), (th.shape[0], self.p, self.p))
        info, g = self._information_from_state(st, Sb)
        return (info[0], g[0]) if single else (info, g)

    def _to_parameters(self, pos: np.ndarray) -> np.ndarray:
        """Position-by-position matrix (..., P, P) -> parameter-by-parameter
        (..., k, k): ``M' pos M`` (sums over positions sharing a parameter)."""
        if self._perm is not None:
            q = self._perm
            return pos[..., q[:, None], q[None, :]]
        M = np.concatenate([self._a_to_k, self._s_to_k], axis=0)
        return M.T @ pos @ M

    # -- batched state: everything one Fisher-scoring step needs at theta ------
    def _positions(self):
        """Columns of the basis ``Z = [G, K']`` that give ``u`` and ``v`` of
        every free position, and the factor of ``v`` (1/2 on variances)."""
        n = self.n
        ui = np.concatenate([self._a[:, 0], self._s[:, 0]]).astype(int)
        vi = np.concatenate([n + self._a[:, 1], self._s[:, 1]]).astype(int)
        h = np.concatenate([np.ones(len(self._a)),
                            np.where(self._s[:, 0] == self._s[:, 1], 0.5, 1.0)])
        return ui, vi, h

    def _state(self, th: np.ndarray) -> dict[str, np.ndarray]:
        """``Sm, E, G, Sigma, Si, logdet`` and ``ok`` (Sigma positive definite
        and ``I - A`` invertible) for a stack ``th`` (B, k).  A problem that
        is not ``ok`` gets identity matrices in place of the failed ones."""
        A, Sm = self.matrices(th)
        IA = np.eye(self.n) - A
        ok = np.isfinite(th).all(axis=1)
        IA[~ok] = np.eye(self.n)
        E = _inv_stack(IA, ok)
        G = E[:, : self.p, :]
        with np.errstate(all="ignore"):
            Sigma = G @ Sm @ np.swapaxes(G, -1, -2)
            fin = ok & np.isfinite(Sigma).all(axis=(1, 2))
            Sigma = np.where(fin[:, None, None], Sigma, np.eye(self.p))
            sign, logdet = np.linalg.slogdet(Sigma)
        pd_ = fin & (sign > 0) & np.isfinite(logdet) & _positive_definite(Sigma)
        Si = _inv_stack(Sigma, pd_)
        # ok: the discrepancy is defined (Sigma positive definite); Si is the inverse of
        # Sigma whenever it exists, so a step can be computed from an indefinite start
        return {"Sm": Sm, "E": E, "G": G, "Sigma": Sigma, "Si": Si, "logdet": logdet, "ok": pd_}

    def _discrepancy_from_state(self, st: dict[str, np.ndarray], S: np.ndarray,
                                logdet_S: np.ndarray) -> np.ndarray:
        """ML discrepancy ``log|Sigma| + tr(S Sigma^-1) - log|S| - p``; inf where not ok."""
        with np.errstate(all="ignore"):
            f = st["logdet"] + np.einsum("bij,bij->b", S, st["Si"]) - logdet_S - self.p
        return np.where(st["ok"] & np.isfinite(f), f, np.inf)

    def _information_from_state(self, st: dict[str, np.ndarray], S: np.ndarray | None):
        G, Si = st["G"], st["Si"]
        Gt = np.swapaxes(G, -1, -2)
        K = st["E"] @ st["Sm"] @ Gt                                  # (B, n, p)
        Z = np.concatenate([G, np.swapaxes(K, -1, -2)], axis=-1)      # (B, p, 2n)
        W = Si @ Z
        P = np.swapaxes(Z, -1, -2) @ W                                # Z' Si Z (B, 2n, 2n)
        ui, vi, h = self._positions()
        Pu, Pv = P[:, ui, :], P[:, vi, :]
        Puu = Pu[:, :, ui]
        Pvv = Pv[:, :, vi] * (h[:, None] * h[None, :])
        Puv = Pu[:, :, vi] * h[None, :]
        info = self._to_parameters(Puu * Pvv + Puv * np.swapaxes(Puv, -1, -2))
        if S is None:
            return info
        return info, self._gradient_from_W(st, S, W)

    def _W(self, st: dict[str, np.ndarray]) -> np.ndarray:
        """``Si Z`` with ``Z = [G, K']`` (B, p, 2n): the factor both the
        information and the gradient are built from."""
        G = st["G"]
        K = st["E"] @ st["Sm"] @ np.swapaxes(G, -1, -2)               # (B, n, p)
        return st["Si"] @ np.concatenate([G, np.swapaxes(K, -1, -2)], axis=-1)

    def _gradient_from_W(self, st: dict[str, np.ndarray], S: np.ndarray, W: np.ndarray) -> np.ndarray:
        """The ML score direction per parameter: ``g_a = u' R v`` with
        ``R = Si (S - Sigma) Si``, i.e. ``(Si u)' (S - Sigma) (Si v)``."""
        ui, vi, h = self._positions()
        T = (S - st["Sigma"]) @ W                                     # (B, p, 2n)
        g = np.einsum("bpa,bpa->ba", W[:, :, ui], T[:, :, vi]) * h
        if self._perm is not None:
            return g[:, self._perm]
        return g @ np.concatenate([self._a_to_k, self._s_to_k], axis=0)

    def gradient(self, theta: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Implied covariance and the ML score direction per observation,
        ``g_k = 1/2 tr(Sigma^-1 (S - Sigma) Sigma^-1 dSigma_k)``, without
        forming ``dSigma`` (cheap enough for thousands of resamples)."""
        _, Sm, E, G = self._parts(theta)
        Gt = np.swapaxes(G, -1, -2)
        Sigma = G @ Sm @ Gt
        Si = np.linalg.inv(Sigma)
        R = Si @ (S - Sigma) @ Si
        batch = Sigma.shape[:-2]
        g = np.zeros(batch + (self.k,))
        if len(self._a):
            K = E @ Sm @ Gt  # (..., n, p)
            M1 = Gt @ R @ np.swapaxes(K, -1, -2)  # (..., n, n)
            g += (2 * M1[..., self._a[:, 0], self._a[:, 1]]) @ self._a_to_k
        if len(self._s):
            M2 = Gt @ R @ G
            w = np.where(self._s[:, 0] != self._s[:, 1], 2.0, 1.0)
            g += (w * M2[..., self._s[:, 0], self._s[:, 1]]) @ self._s_to_k
        return Sigma, 0.5 * g

    def fisher_scoring(
        self,
        theta: np.ndarray,
        S: np.ndarray,
        *,
        max_iter: int = 200,
        tol: float = 1e-9,
        information: np.ndarray | None = None,
        refresh: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ML estimates by Fisher scoring with step halving.

        Parameters
        ----------
        theta : ndarray (k,) or (B, k)
            Start values (warm start).
        S : ndarray (p, p) or (B, p, p)
            Sample covariance(s), divisor N.
        max_iter : int
        tol : float
            Convergence when every step is below ``tol`` times its
            parameter's scale: ``|theta|``, or its natural unit
            (:func:`natural_units`) when larger.
        information : ndarray (k, k), optional
            A fixed information matrix (e.g. the full-sample expected
            information at the full-sample estimates) used for every step
            instead of recomputing it: a quasi-Newton iteration that is
            much cheaper per step, for warm-started bootstrap refits.
        refresh : int, optional
            Recompute each problem's information in the first ``refresh``
            iterations only, then keep the last one (a chord iteration:
            each later step needs the gradient alone).  The fixed point is
            the same (the gradient is zero there); near it the information
            hardly changes, so the iteration stays fast.  None: every
            iteration (plain Fisher scoring).

        Returns
        -------
        theta : ndarray (B, k) or (k,)
        converged : ndarray of bool (B,) or ()
        n_iter : ndarray of int (B,) or ()
        """
        single = np.ndim(theta) == 1
        th = np.atleast_2d(np.asarray(theta, dtype=float)).copy()
        Sb = np.asarray(S, dtype=float)
        if Sb.ndim == 2:
            Sb = np.broadcast_to(Sb, (th.shape[0],) + Sb.shape)
        B = th.shape[0]
        if self.k == 0:
            out = (th, np.ones(B, bool), np.zeros(B, int))
            return tuple(o[0] for o in out) if single else out
        converged = np.zeros(B, dtype=bool)
        n_iter = np.zeros(B, dtype=int)
        sS, logdet_S = np.linalg.slogdet(Sb)
        st = self._state(th)
        fcur = self._discrepancy_from_state(st, Sb, logdet_S)
        # each parameter's natural unit (items in other units: a variance of 1e-12 beside one
        # of 1e8), for the step test and for solving on the information scaled to a unit diagonal
        unit_fixed = None
        info_inv = None
        if information is not None:
            information = np.asarray(information, dtype=float)
            unit_fixed = natural_units(information)
            info_inv = np.linalg.pinv(information / unit_fixed[:, None] / unit_fixed[None, :]) \
                / unit_fixed[:, None] / unit_fixed[None, :]
        # the working set: problems still iterating (a converged or stuck one leaves it)
        idx = np.arange(B)
        t, Sa, lda, f0 = th[idx], Sb[idx], logdet_S[idx], fcur[idx]
        sta = {key: v[idx] for key, v in st.items()}
        held = None                      # per problem: the inverse information kept (chord steps)
        unit = np.broadcast_to(unit_fixed if unit_fixed is not None else np.ones(self.k), t.shape).copy()
        for it in range(max_iter):
            if not len(idx):
                break
            if info_inv is None and held is None:
                info, grad = self._information_from_state(sta, Sa)
                dg = np.diagonal(info, axis1=-2, axis2=-1)
                ok_d = np.isfinite(dg) & (dg > 0)
                d = np.where(ok_d, np.sqrt(np.where(ok_d, dg, 1.0)), 1.0)       # 1 / natural unit
                unit = 1.0 / d
                scaled = info / d[:, :, None] / d[:, None, :]
                with np.errstate(all="ignore"):
                    try:
                        step = np.linalg.solve(scaled, (grad / d)[..., None])[..., 0] / d
                    except np.linalg.LinAlgError:
                        step = np.einsum("bkl,bl->bk", np.linalg.pinv(scaled), grad / d) / d
                if refresh is not None and it + 1 >= refresh:
                    with np.errstate(all="ignore"):
                        try:
                            held = np.linalg.inv(scaled) / d[:, :, None] / d[:, None, :]
                        except np.linalg.LinAlgError:
                            held = np.linalg.pinv(scaled) / d[:, :, None] / d[:, None, :]
            else:
                with np.errstate(all="ignore"):
                    grad = self._gradient_from_W(sta, Sa, self._W(sta))
                    step = grad @ info_inv.T if held is None else np.einsum("bkl,bl->bk", held, grad)
            n_iter[idx] += 1
            # step halving until the discrepancy does not increase
            alpha = np.ones(len(idx))
            trial = t + step
            st1 = self._state(trial)
            f1 = self._discrepancy_from_state(st1, Sa, lda)
            for _h in range(12):
                bad = ~(f1 <= f0 + 1e-12)
                if not bad.any():
                    break
                alpha[bad] /= 2
                trial[bad] = t[bad] + alpha[bad, None] * step[bad]
                sb = self._state(trial[bad])
                for key in st1:
                    st1[key][bad] = sb[key]
                f1[bad] = self._discrepancy_from_state(sb, Sa[bad], lda[bad])
            ok = np.isfinite(f1) & (f1 <= f0 + 1e-12)
            small = np.all(np.abs(alpha[:, None] * step) < tol * np.maximum(np.abs(t), unit), axis=1)
            done = ok & small
            th[idx[ok]] = trial[ok]
            converged[idx[done]] = True
            keep = ok & ~done            # a step that cannot decrease the discrepancy: stuck
            if keep.all():
                t, f0, sta = trial, f1, st1
            else:
                idx, t, Sa, lda, f0 = idx[keep], trial[keep], Sa[keep], lda[keep], f1[keep]
                unit = unit[keep]
                sta = {key: v[keep] for key, v in st1.items()}
                if held is not None:
                    held = held[keep]
        if single:
            return th[0], converged[0], n_iter[0]
        return th, converged, n_iter


def _positive_definite(M: np.ndarray) -> np.ndarray:
    """Which matrices of a stack (B, m, m) are positive definite (a positive
    determinant is not enough: two negative eigenvalues have one)."""
    try:
        np.linalg.cholesky(M)
        return np.ones(M.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.ones(M.shape[0], dtype=bool)
        for b in range(M.shape[0]):
            try:
                np.linalg.cholesky(M[b])
            except np.linalg.LinAlgError:
                out[b] = False
        return out


def natural_units(info: np.ndarray, n: float = 1.0) -> np.ndarray:
    """Each parameter's natural unit, ``1 / sqrt(information_kk / n)`` (the
    standard error of one observation's worth of data, as though the
    parameter were alone), 1 where a parameter has no information.  Steps
    and tolerances measured in these units are the same whatever the units
    of the items: a residual variance of 5e-7 (an item divided by 1000) is
    no longer below any absolute step or tolerance, nor a variance of 1e6
    above it.  Near 1 for items on the usual rating scales."""
    d = np.diag(np.asarray(info, dtype=float)) / n
    ok = np.isfinite(d) & (d > 0)
    return np.where(ok, 1.0 / np.sqrt(np.where(ok, d, 1.0)), 1.0)


def invert_information(info: np.ndarray, max_cond: float = 1e12) -> np.ndarray:
    """The inverse of an information matrix, or :class:`numpy.linalg.LinAlgError`
    when it is singular (the model is not identified).

    The test is the condition number of the information scaled to a unit
    diagonal (``D^-1/2 I D^-1/2``), and the inverse is taken of that matrix:
    a change of an item's units (times 1000: its loadings 1000 times, its
    variance a million times larger) multiplies the condition number of the
    matrix as it is by up to 10^12 and is no loss of identification.  A
    parameter without information (a zero on the diagonal) is not identified.

    Returns
    -------
    ndarray (k, k)
    """
    info = np.asarray(info, dtype=float)
    d = np.diag(info)
    if not np.all(np.isfinite(info)) or np.any(d <= 0):
        raise np.linalg.LinAlgError("the information matrix is singular")
    s = 1.0 / np.sqrt(d)
    scaled = info * s[:, None] * s[None, :]
    if np.linalg.cond(scaled) > max_cond:
        raise np.linalg.LinAlgError("the information matrix is singular")
    out = np.linalg.inv(scaled) * s[:, None] * s[None, :]
    if not np.all(np.isfinite(out)):
        raise np.linalg.LinAlgError("the information matrix is singular")
    return out


def _inv_stack(M: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Inverses of a stack of square matrices ``M`` (B, m, m).  A singular one
    gets the identity in its place and ``ok[b] = False`` (in place); the
    others are inverted all at once unless one fails, then one by one."""
    try:
        return np.linalg.inv(M)
    except np.linalg.LinAlgError:
        out = np.empty_like(M)
        for b in range(M.shape[0]):
            try:
                out[b] = np.linalg.inv(M[b])
            except np.linalg.LinAlgError:
                ok[b] = False
                out[b] = np.eye(M.shape[-1])
        return out


# ---------------------------------------------------------------------------
# the likelihood of a whole model: groups x missing-data patterns
# ---------------------------------------------------------------------------
class Pattern:
    """Rows of one group that share which variables are observed.

    Attributes
    ----------
    observed : ndarray of bool (p,)
    n : int
    mean : ndarray (p_o,)
        Mean of the observed variables over these rows.
    cov : ndarray (p_o, p_o)
        Their covariance about ``mean`` (divisor n).
    rows : ndarray (n, p_o) or None
        The data (for casewise scores), kept when available.
    weights : ndarray (n,) or None
        Case weights of the rows (survey weights, lavaan
        ``sampling.weights``): ``n`` is then their sum, ``mean`` and
        ``cov`` are weighted, and every casewise score is multiplied by its
        row's weight.
    """

    def __init__(self, observed: np.ndarray, X: np.ndarray | None = None, *, weights: np.ndarray | None = None,
                 n: int | None = None, mean: np.ndarray | None = None, cov: np.ndarray | None = None) -> None:
        self.observed = np.asarray(observed, dtype=bool)
        self.rows = X
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        if X is not None:
            if self.weights is None:
                self.n = len(X)
                self.mean = X.mean(axis=0)
                D = X - self.mean
                self.cov = D.T @ D / self.n
            else:
                w = self.weights
                self.n = float(w.sum())
                self.mean = w @ X / self.n
                D = X - self.mean
                self.cov = (D * w[:, None]).T @ D / self.n
        else:
            self.n, self.mean, self.cov = int(n), np.asarray(mean, float), np.asarray(cov, float)


def patterns(X: np.ndarray, weights: np.ndarray | None = None) -> list[Pattern]:
    """Missing-data patterns of a data matrix (NaN = missing); a complete
    matrix is one pattern.  ``weights``: case weights of the rows (see
    :class:`Pattern`)."""
    obs = ~np.isnan(X)
    if obs.all():
        return [Pattern(np.ones(X.shape[1], dtype=bool), X, weights=weights)]
    packed = np.ascontiguousarray(np.packbits(obs, axis=1))   # one short byte string per row
    codes = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    inv = np.unique(codes, return_inverse=True)[1].ravel()
    order = np.argsort(inv, kind="stable")
    bounds = np.flatnonzero(np.diff(inv[order])) + 1
    out = []
    for rows in np.split(order, bounds):
        o = obs[rows[0]]
        if o.any():
            out.append(Pattern(o, X[np.ix_(rows, np.flatnonzero(o))],
                               weights=None if weights is None else weights[rows]))
    return out


class Likelihood:
    """Normal-theory likelihood of a parameter table over groups and
    missing-data patterns: one estimator for ML and FIML, one or many groups.

    Each group ``g`` has its :class:`RamModel` (rows of that group, free
    indices into one parameter vector for all groups) and its data as
    :class:`Pattern` s (complete data: one pattern).  Without a mean
    structure the means are saturated (each pattern's mean is its fitted
    mean).  The loglikelihood of a pattern with ``n`` rows is
    ``-n/2 [p log 2pi + log|Sigma| + tr(Sigma^-1 (C + d d'))]`` with ``C``
    its covariance and ``d`` its mean minus the implied mean.

    Parameters
    ----------
    models : sequence of RamModel
        One per group, all with the same ``k``.
    data : sequence of list of Pattern
        One list per group.
    meanstructure : bool
    """

    def __init__(self, models: Sequence[RamModel], data: Sequence[list[Pattern]], meanstructure: bool) -> None:
        self.models = list(models)
        self.data = [list(d) for d in data]
        self.meanstructure = bool(meanstructure)
        self.k = self.models[0].k
        self.n_obs = [sum(pt.n for pt in d) for d in self.data]
        self.N = sum(self.n_obs)

    # -- per group pieces --------------------------------------------------------
    def _group(self, g: int, theta: np.ndarray, derivatives: bool):
        ram = self.models[g]
        if derivatives:
            Sigma, d = ram.jacobian(theta)
            dmu = ram.mean_jacobian(theta) if self.meanstructure else None
        else:
            Sigma, d, dmu = ram.implied(theta), None, None
        mu = ram.implied_mean(theta) if self.meanstructure else None
        return Sigma, mu, d, dmu

    def implied(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per group, the implied covariance and (with a mean structure) mean."""
        return [self._group(g, theta, False)[:2] for g in range(len(self.models))]

    def evaluate(self, theta: np.ndarray, *, gradient: bool = True, information: bool = True):
        """Loglikelihood, its gradient and the expected information (sums
        over all rows of all groups).

        Returns
        -------
        loglik : float
            ``-inf`` where an implied covariance is not positive definite.
        grad : ndarray (k,) or None
        info : ndarray (k, k) or None
        """
        k = self.k
        ll = 0.0
        grad = np.zeros(k) if gradient else None
        info = np.zeros((k, k)) if information else None
        deriv = gradient or information
        for g, pats in enumerate(self.data):
            try:
                Sigma, mu, d, dmu = self._group(g, theta, deriv)
            except np.linalg.LinAlgError:
                return -np.inf, grad, info
            if not np.all(np.isfinite(Sigma)):
                return -np.inf, grad, info
            p = Sigma.shape[0]
            # the gradient through the group's d loglik / d Sigma and d loglik / d mu,
            # summed over patterns, then one contraction with the Jacobian
            g_sigma = np.zeros((p, p)) if gradient else None
            g_mu = np.zeros(p) if gradient else None
            for pt in pats:
                o = pt.observed
                io = np.ix_(o, o)
                So = Sigma[io]
                try:   # positive definite, not only a positive determinant
                    L = np.linalg.cholesky(So)
                except np.linalg.LinAlgError:
                    return -np.inf, grad, info
                logdet = 2.0 * np.sum(np.log(np.diag(L)))
                Si = np.linalg.inv(So)
                C = pt.cov
                if self.meanstructure:
                    dev = pt.mean - mu[o]
                    C = C + np.outer(dev, dev)
                ll += -0.5 * pt.n * (o.sum() * np.log(2 * np.pi) + logdet + np.sum(Si * C))
                if gradient:
                    g_sigma[io] += pt.n * (Si @ (C - So) @ Si)
                    if self.meanstructure:
                        g_mu[o] += pt.n * (Si @ dev)
                if information:
                    do = d[:, o][:, :, o] if not o.all() else d
                    X = do @ Si                                        # (k, po, po)
                    info += 0.5 * pt.n * np.einsum("kab,lba->kl", X, X, optimize=True)
                    if self.meanstructure:
                        info += pt.n * (dmu[:, o] @ Si @ dmu[:, o].T)
            if gradient:
                grad += 0.5 * np.einsum("pq,kpq->k", g_sigma, d)
                if self.meanstructure:
                    grad += dmu @ g_mu
        return float(ll), grad, info

    def loglik(self, theta: np.ndarray) -> float:
        return self.evaluate(theta, gradient=False, information=False)[0]

    def delta(self, theta: np.ndarray, g: int) -> np.ndarray:
        """lavaan's Delta of group ``g`` (0-based): the Jacobian of the
        model-implied moments ``(mu, vech Sigma)`` with respect to ``theta``
        in lavaan's order: ``mu`` first, only with a mean structure, then
        ``vech`` the lower triangle by columns.

        Returns
        -------
        ndarray ([p +] p (p + 1) / 2, k)
        """
        ram = self.models[g]
        _, d = ram.jacobian(theta)
        rows, cols = np.triu_indices(ram.p)      # column-wise lower triangle = row-wise upper
        out = d[:, cols, rows].T
        if self.meanstructure:
            out = np.vstack([ram.mean_jacobian(theta).T, out])
        return out

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Gradient of the loglikelihood (sum over rows)."""
        return self.evaluate(theta, information=False)[1]

    def expected_information(self, theta: np.ndarray) -> np.ndarray:
        """Expected information, per observation (divided by the total N)."""
        return self.evaluate(theta, gradient=False)[2] / self.N

    def observed_information(self, theta: np.ndarray, *, central: bool = False) -> np.ndarray:
        """Observed information per observation: minus the Hessian of the
        loglikelihood / N (forward differences of the analytic gradient,
        step 1e-6 of each parameter's scale, ``|theta|`` or its natural unit
        when larger (:func:`natural_units`), symmetrized).  ``central=True``:
        central differences (step 1e-5 of that scale, twice the gradient evaluations,
        error about 1e-10 instead of 1e-6), for what is more sensitive than
        a standard error: the MLR sandwich and its Yuan-Bentler trace."""
        k = self.k
        H = np.zeros((k, k))
        g0 = None if central else self.gradient(theta)
        # steps relative to each parameter's own scale (a step of 1e-6 on a variance of 5e-7,
        # an item in other units, gave a wrong Hessian column and NaN standard errors)
        unit = np.maximum(np.abs(theta), natural_units(self.expected_information(theta)))
        for i in range(k):   # differences of the analytic gradient, symmetrized
            h = (1e-5 if central else 1e-6) * unit[i]
            e = np.zeros(k)
            e[i] = h
            if central:
                H[:, i] = (self.gradient(theta + e) - self.gradient(theta - e)) / (2 * h)
            else:
                H[:, i] = (self.gradient(theta + e) - g0) / h
        return -(H + H.T) / 2 / self.N

    def group_data(self, g: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The rows of group ``g`` (0-based) the likelihood holds, NaN where
        missing, pattern by pattern (the order of :meth:`scores`), and their
        case weights (None when unweighted)."""
        pats = self.data[g]
        X = np.full((sum(len(pt.rows) for pt in pats), len(pats[0].observed)), np.nan)
        at = 0
        for pt in pats:
            X[at:at + len(pt.rows), pt.observed] = pt.rows
            at += len(pt.rows)
        w = None if pats[0].weights is None else np.concatenate([pt.weights for pt in pats])
        return X, w

    def scores(self, theta: np.ndarray) -> list[np.ndarray]:
        """Casewise scores ``d loglik_i / d theta`` per group (rows in pattern
        order), from the data kept in the patterns."""
        out = []
        for g, pats in enumerate(self.data):
            Sigma, mu, d, dmu = self._group(g, theta, True)
            blocks = []
            for pt in pats:
                o = pt.observed
                Si = np.linalg.inv(Sigma[np.ix_(o, o)])
                D = pt.rows - (mu[o] if self.meanstructure else pt.mean)
                Z = D @ Si
                do = d[:, o][:, :, o]
                quad = np.einsum("ip,kpq,iq->ik", Z, do, Z, optimize=True)
                tr = np.einsum("kpq,qp->k", do, Si)
                sc = 0.5 * (quad - tr[None, :])
                if self.meanstructure:
                    sc += Z @ dmu[:, o].T
                if pt.weights is not None:
                    sc *= pt.weights[:, None]
                blocks.append(sc)
            out.append(np.vstack(blocks) if blocks else np.empty((0, self.k)))
        return out

    # -- estimation -----------------------------------------------------------------
    def fisher_scoring(self, theta: np.ndarray, *, max_iter: int = 500, tol: float = 1e-10,
                       max_halving: int = 30) -> tuple[np.ndarray, bool, int, str]:
        """Maximize the loglikelihood by Fisher scoring with step halving.

        A step whose implied covariance is not positive definite (loglik
        ``-inf``) or that lowers the loglikelihood is halved, never taken, so
        there is no flat plateau to stop on.

        Stops on a small step, or when the loglikelihood has stopped
        changing for five steps (relative change below 1e-11: a ridge of a
        model that is not identified), at the point of that stretch with the
        smallest gradient; :func:`csmlib.estimate.cbsem` then checks the
        gradient.

        Returns
        -------
        theta, reached (the iteration stopped on a small step or a flat
        loglikelihood), n_iter, message
        """
        th = np.asarray(theta, dtype=float).copy()
        ll, grad, info = self.evaluate(th)
        if not np.isfinite(ll):
            return th, False, 0, "the start values give a non-positive-definite implied covariance"
        scale = 1.0 / self.N
        flat_run: list[tuple[float, np.ndarray]] = []   # iterates of a flat stretch
        for it in range(1, max_iter + 1):
            # the scoring step solved on the information scaled to a unit diagonal
            # (items in units 1e12 apart make the matrix as it is numerically singular)
            d = 1.0 / natural_units(info)
            scaled = info / d[:, None] / d[None, :]
            try:
                step = np.linalg.solve(scaled, grad / d) / d
            except np.linalg.LinAlgError:
                step = (np.linalg.pinv(scaled) @ (grad / d)) / d
            if not np.all(np.isfinite(step)):
                return th, False, it, "the information matrix is singular"
            # a rejected step is shortened: halved, and damped towards the (scaled)
            # gradient (Levenberg-Marquardt) so that an ill-conditioned information
            # still leads uphill
            alpha, lam = 1.0, 0.0
            damp = 1e-4 * max(np.trace(scaled) / max(len(th), 1), 1e-12)
            for h in range(max_halving):
                trial = th + alpha * step
                ll1 = self.loglik(trial)
                if np.isfinite(ll1) and ll1 >= ll - 1e-12 * abs(ll):
                    break
                alpha /= 2
                if h % 2 == 1:
                    lam = damp if lam == 0 else lam * 10
                    step = np.linalg.solve(scaled + lam * np.eye(len(th)), grad / d) / d
            else:
                return th, False, it, "no step along the scoring direction increases the likelihood"
            # each parameter on its own scale: one tolerance from the largest |theta| let a
            # loading move by 1 when an item's variance was 1e10 (an item in other units),
            # and a floor of 1 let a variance of 1e-12 stop anywhere
            unit = np.maximum(np.abs(th), natural_units(info, self.N))
            small = bool(np.all(np.abs(alpha * step) < tol * unit))
            flat = abs(ll1 - ll) * scale < 1e-15
            th = trial
            ll_prev = ll
            ll, grad, info = self.evaluate(th)
            gmax = np.max(np.abs(grad)) * scale
            if small or (flat and gmax < 1e-8):
                return th, True, it, "Fisher scoring converged"
            # a ridge (a model that is not identified): the loglikelihood no longer
            # changes (relative 1e-11, nlminb's test is 1e-10) for 5 steps while the
            # scoring direction wanders; stop there, at the flattest point seen
            if abs(ll - ll_prev) <= 1e-11 * abs(ll):
                flat_run.append((gmax, th.copy()))
                # a gradient still shrinking steadily (by half over the stretch) is the slow,
                # linear convergence of scoring on a misfitting model, not a ridge: go on
                if len(flat_run) >= 5 and flat_run[-1][0] < 0.5 * flat_run[-5][0]:
                    flat_run.pop(0)
                elif len(flat_run) >= 5:
                    return min(flat_run, key=lambda t: t[0])[1], True, it, \
                        "the loglikelihood stopped changing (relative change below 1e-11)"
            else:
                flat_run.clear()
        return th, False, max_iter, f"no convergence after {max_iter} Fisher-scoring iterations"
