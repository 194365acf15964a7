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
parameter-table rows (lavaan style) with ``free`` = the index into
``theta`` (or -1 when the row is fixed).  Rows that share a label share one
free index (an equality constraint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ParamRow", "RamModel", "ml_discrepancy"]


@dataclass(frozen=True)
class ParamRow:
    """One row of the parameter table.

    Attributes
    ----------
    lhs, op, rhs : str
        lavaan notation: ``F =~ x`` (loading), ``y ~ x`` (path), ``x ~~ y``.
    label : str
        User label ("" when none).
    free : int
        Index into the free-parameter vector, or -1 when fixed.
    value : float
        The fixed value (for fixed rows) or the default start value.
    matrix : str
        ``"A"`` or ``"S"``.
    i, j : int
        Position in that matrix (row = affected / first variable).
    user : bool
        Whether the row came from the user's model (not added by default).
    """

    lhs: str
    op: str
    rhs: str
    label: str
    free: int
    value: float
    matrix: str
    i: int
    j: int
    user: bool = True


class RamModel:
    """Free parameters -> ``A``, ``S``, implied covariance and derivatives.

    Parameters
    ----------
    observed : sequence of str
        Observed variables, in the order of the sample covariance matrix.
    latent : sequence of str
        Latent variables.
    rows : sequence of ParamRow
        The parameter table; ``free`` indices must be ``0..k-1``.
    """

    def __init__(self, observed, latent, rows) -> None:
        self.observed = tuple(observed)
        self.latent = tuple(latent)
        self.names = self.observed + self.latent
        self.rows = tuple(rows)
        self.p = len(self.observed)
        self.n = len(self.names)
        frees = [r.free for r in self.rows if r.free >= 0]
        self.k = (max(frees) + 1) if frees else 0
        n = self.n
        self.A0 = np.zeros((n, n))
        self.S0 = np.zeros((n, n))
        a_pos, s_pos = [], []
        for r in self.rows:
            if r.free < 0:
                if r.matrix == "A":
                    self.A0[r.i, r.j] = r.value
                else:
                    self.S0[r.i, r.j] = r.value
                    self.S0[r.j, r.i] = r.value
            elif r.matrix == "A":
                a_pos.append((r.i, r.j, r.free))
            else:
                s_pos.append((r.i, r.j, r.free))
        self._a = np.array(a_pos, dtype=int).reshape(-1, 3)
        self._s = np.array(s_pos, dtype=int).reshape(-1, 3)
        # indicator matrices: position -> free parameter
        self._a_to_k = np.zeros((len(self._a), self.k))
        self._a_to_k[np.arange(len(self._a)), self._a[:, 2]] = 1.0
        self._s_to_k = np.zeros((len(self._s), self.k))
        self._s_to_k[np.arange(len(self._s)), self._s[:, 2]] = 1.0

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
    def expected_information(self, theta: np.ndarray) -> np.ndarray:
        """Expected information of ML per observation:
        ``I_kl = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``."""
        Sigma, d = self.jacobian(theta)
        return _information(np.linalg.inv(Sigma), d)

    def scores(self, theta: np.ndarray, centered: np.ndarray) -> np.ndarray:
        """Casewise scores of the normal loglikelihood for the covariance
        parameters (means saturated): ``(n_obs, k)``."""
        Sigma, d = self.jacobian(theta)
        Si = np.linalg.inv(Sigma)
        Z = centered @ Si  # rows: Sigma^-1 d_i
        quad = np.einsum("ip,kpq,iq->ik", Z, d, Z, optimize=True)
        tr = np.einsum("kpp->k", Si @ d)
        return 0.5 * (quad - tr[None, :])

    def information(self, theta: np.ndarray, S: np.ndarray | None = None):
        """Expected information per observation (as :meth:`expected_information`)
        from the rank-2 structure of each derivative: every free position
        has ``dSigma = u v' + v u'``, so ``1/2 tr(Si dSigma_a Si dSigma_b)``
        = ``P_uu P_vv + (P_uv o P_uv' + P_uv' o P_uv) / 2`` elementwise with
        ``P_xy = X' Si Y``.  Works on stacks; far cheaper than forming
        ``dSigma``.  With ``S`` given, returns ``(information, gradient)``
        (the gradient as :meth:`gradient`)."""
        _, Sm, E, G = self._parts(theta)
        Gt = np.swapaxes(G, -1, -2)
        Sigma = G @ Sm @ Gt
        Si = np.linalg.inv(Sigma)
        Us, Vs, maps = [], [], []
        if len(self._a):
            K = E @ Sm @ Gt
            Us.append(G[..., :, self._a[:, 0]])
            Vs.append(np.swapaxes(K[..., self._a[:, 1], :], -1, -2))
            maps.append(self._a_to_k)
        if len(self._s):
            half = np.where(self._s[:, 0] == self._s[:, 1], 0.5, 1.0)
            Us.append(G[..., :, self._s[:, 0]])
            Vs.append(G[..., :, self._s[:, 1]] * half)
            maps.append(self._s_to_k)
        U = np.concatenate(Us, axis=-1)
        V = np.concatenate(Vs, axis=-1)
        M = np.concatenate(maps, axis=0)
        SiU, SiV = Si @ U, Si @ V
        Ut, Vt = np.swapaxes(U, -1, -2), np.swapaxes(V, -1, -2)
        Puu, Pvv, Puv = Ut @ SiU, Vt @ SiV, Ut @ SiV
        Puvt = np.swapaxes(Puv, -1, -2)
        pos = Puu * Pvv + 0.5 * (Puv * Puvt + Puvt * Puv)
        info = M.T @ pos @ M
        if S is None:
            return info
        # gradient: g_a = tr(R (u v' + v u')) / 2 = u' R v with R = Si (S - Sigma) Si
        R = Si @ (S - Sigma) @ Si
        g = np.einsum("...pa,...pa->...a", U, R @ V) @ M
        return info, g

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
            Convergence when the largest absolute step is below ``tol``.
        information : ndarray (k, k), optional
            A fixed information matrix (e.g. the full-sample expected
            information at the full-sample estimates) used for every step
            instead of recomputing it: a quasi-Newton iteration that is
            much cheaper per step, for warm-started bootstrap refits.

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
        active = np.ones(B, dtype=bool)
        converged = np.zeros(B, dtype=bool)
        n_iter = np.zeros(B, dtype=int)
        fcur = ml_discrepancy(self.implied(th), Sb)
        if information is not None:
            info_inv = np.linalg.pinv(np.asarray(information, dtype=float))
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if not len(idx):
                break
            t = th[idx]
            if information is None:
                try:
                    info, grad = self.information(t, Sb[idx])
                except np.linalg.LinAlgError:
                    active[idx] = False
                    break
                try:
                    step = np.linalg.solve(info, grad[..., None])[..., 0]
                except np.linalg.LinAlgError:
                    step = np.einsum("bkl,bl->bk", np.linalg.pinv(info), grad)
            else:
                try:
                    _, grad = self.gradient(t, Sb[idx])
                except np.linalg.LinAlgError:
                    grad = np.full(t.shape, np.nan)
                step = grad @ info_inv.T
            n_iter[idx] += 1
            # step halving until the discrepancy does not increase
            alpha = np.ones(len(idx))
            f0 = fcur[idx]
            trial = t + step
            f1 = ml_discrepancy(self.implied(trial), Sb[idx])
            for _h in range(12):
                bad = ~(f1 <= f0 + 1e-12)
                if not bad.any():
                    break
                alpha[bad] /= 2
                trial[bad] = t[bad] + alpha[bad, None] * step[bad]
                f1[bad] = ml_discrepancy(self.implied(trial[bad]), Sb[idx[bad]])
            ok = np.isfinite(f1) & (f1 <= f0 + 1e-12)
            th[idx[ok]] = trial[ok]
            fcur[idx[ok]] = f1[ok]
            small = np.max(np.abs(alpha[:, None] * step), axis=1) < tol
            done = ok & small
            converged[idx[done]] = True
            active[idx[done]] = False
            stuck = ~ok
            active[idx[stuck]] = False
        if single:
            return th[0], converged[0], n_iter[0]
        return th, converged, n_iter


def _information(Si: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``1/2 tr(Si d_k Si d_l)`` for stacks: Si (..., p, p), d (..., k, p, p)."""
    k, p = d.shape[-3], d.shape[-1]
    batch = d.shape[:-3]
    # rows of (d_k Si) for all k at once: (..., k*p, p) @ (..., p, p)
    X = (d.reshape(batch + (k * p, p)) @ Si).reshape(batch + (k, p, p))
    Xf = X.reshape(batch + (k, p * p))
    Xt = np.swapaxes(X, -1, -2).reshape(batch + (k, p * p))
    return 0.5 * (Xf @ np.swapaxes(Xt, -1, -2))


def ml_discrepancy(Sigma: np.ndarray, S: np.ndarray) -> np.ndarray:
    """ML discrepancy ``log|Sigma| + tr(S Sigma^-1) - log|S| - p`` (stacks
    allowed); ``inf`` where Sigma is not positive definite."""
    p = Sigma.shape[-1]
    sign, logdet = np.linalg.slogdet(Sigma)
    sS, logdetS = np.linalg.slogdet(S)
    with np.errstate(all="ignore"):
        try:
            tr = np.einsum("...ii->...", np.linalg.solve(Sigma, S))
        except np.linalg.LinAlgError:
            tr = np.full(sign.shape, np.inf)
        f = logdet + tr - logdetS - p
    return np.where(sign > 0, f, np.inf)
