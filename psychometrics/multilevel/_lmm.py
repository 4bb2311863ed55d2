"""Computational core of the linear mixed model with one grouping factor.

The model is ``y = X beta + Z b + e`` with ``b_i ~ N(0, sigma^2 T T')`` for
group ``i`` and ``e ~ N(0, sigma^2 I)``; ``T`` (q x q, lower triangular) is
lme4's relative covariance factor, its free elements are ``theta``.

Because every random effect belongs to one grouping factor, ``Z`` is
block-diagonal by group and the whole profiled deviance depends on the data
only through per-group sufficient statistics (``M_i = Z_i'Z_i``,
``Z_i'X_i``, ``Z_i'y_i``) and the global ``X'X``, ``X'y``, ``y'y``. Every
evaluation of the deviance (and of its analytic gradient) costs O(G q^2 p)
array operations, independent of the number of rows.

With ``V_i = I + Z_i T T' Z_i'`` (the marginal covariance divided by
sigma^2) and ``K_i = T (I + T'M_iT)^{-1} T'`` (Woodbury)::

    ldL2  = sum_i log det(I + T' M_i T)          (lme4's ldL2)
    C     = X'V^{-1}X = X'X - sum_i X_i'Z_i K_i Z_i'X_i   (= RX'RX, ldRX2 = log det C)
    beta  = C^{-1} X'V^{-1}y
    pwrss = y'V^{-1}y - beta' X'V^{-1}y          (penalised weighted RSS)
    dev_ML   = ldL2 + n (1 + log(2 pi pwrss / n))
    dev_REML = ldL2 + ldRX2 + (n-p) (1 + log(2 pi pwrss / (n-p)))

Gradient, for theta_k sitting at T[r, c] (dD_k = E_rc T' + T E_cr):
``d dev / d theta_k = 2 [T'(sum_i W_i - m/pwrss sum_i a_i a_i' - [REML] sum_i B_i C^{-1} B_i')]_{c,r}``
with ``W_i = Z_i'V_i^{-1}Z_i``, ``a_i = Z_i'V_i^{-1}(y_i - X_i beta)``,
``B_i = Z_i'V_i^{-1}X_i`` and ``m = n`` (ML) or ``n - p`` (REML).
"""
from __future__ import annotations

import numpy as np

from ..numerics.reml import ProfiledDeviance, profiled_deviance

__all__ = ["LMMCore", "profiled_deviance"]


def _dot(x, y) -> float:
    """Dot product of two long vectors without BLAS level 1 (whose threading costs far more
    than the product itself on a busy machine)."""
    if x.shape[0] < 4096:             # short vectors: BLAS is single-threaded and cheapest
        return float(x @ y)
    return float(np.einsum("g,g->", x, y))


def group_sums(codes: np.ndarray, G: int, cols: np.ndarray) -> np.ndarray:
    """Sum the columns of ``cols`` (n x k) within groups ``codes`` (0..G-1) -> (G, k).

    One pass of ``np.add.reduceat`` over rows sorted by group (long data are
    usually sorted by patient already; otherwise one stable argsort).
    """
    cols = np.asarray(cols, dtype=float)
    if cols.ndim == 1:
        cols = cols[:, None]
    if codes.size > 1 and np.any(codes[1:] < codes[:-1]):
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        cols = cols[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out = np.zeros((G, cols.shape[1]))
    out[codes[starts]] = np.add.reduceat(cols, starts, axis=0)
    return out


def within_ss(codes: np.ndarray, G: int, cols: np.ndarray) -> np.ndarray:
    """Within-group sum of squares of each column: sum x^2 - sum_g (sum_g x)^2 / n_g."""
    cols = np.asarray(cols, dtype=float)
    cnt = np.bincount(codes, minlength=G).astype(float)
    sums = group_sums(codes, G, cols)
    with np.errstate(invalid="ignore", divide="ignore"):
        between = np.where(cnt[:, None] > 0, sums ** 2 / cnt[:, None], 0.0).sum(axis=0)
    return np.einsum("ij,ij->j", cols, cols) - between


class LMMCore(ProfiledDeviance):
    """Sufficient statistics and profiled deviance of a one-factor LMM.

    The optimiser and its optimality check (``optimize``, ``check_optimum``) are the shared
    ones of :class:`psychometrics.numerics.reml.ProfiledDeviance`.
    """

    def __init__(self, y, X, Z, codes, G, tpos):
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.G = G
        self.tpos = list(tpos)            # list of (row, col) in T for each theta
        self.ntheta = len(self.tpos)
        self.lower = np.array([0.0 if r == c else -np.inf for r, c in self.tpos])
        q, p = self.q, self.p
        # per-group cross-products of Z with [Z, X, y]; stored "structure of arrays"
        # (each small-matrix element is a contiguous length-G vector) so that every
        # operation below is a vector operation or a BLAS call.
        W = np.column_stack([Z, X, y])
        prods = (Z[:, :, None] * W[:, None, :]).reshape(self.n, -1)
        S = group_sums(codes, G, prods).reshape(G, q, q + p + 1)
        self.M = np.ascontiguousarray(S[:, :, :q].transpose(1, 2, 0))       # (q, q, G)
        self.ZX = np.ascontiguousarray(S[:, :, q:q + p].transpose(1, 0, 2))  # (q, G, p)
        self.Zy = np.ascontiguousarray(S[:, :, q + p].T)                     # (q, G)
        self.Msum = self.M.sum(axis=2)
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self.nobs_group = np.bincount(codes, minlength=G)

    # ------------------------------------------------------------------ pieces
    def T_of(self, theta):
        T = np.zeros((self.q, self.q))
        for (r, c), v in zip(self.tpos, theta):
            T[r, c] = v
        return T

    def _K(self, T):
        """ldL2 and K_i = T (I + T'M_iT)^{-1} T' as a (q, q, G) array."""
        q, M = self.q, self.M
        if q == 1:
            t = T[0, 0]
            a11 = 1.0 + t * t * M[0, 0]
            return float(np.sum(np.log(a11))), (t * t / a11)[None, None, :]
        # A = I + T' M T, element-wise over groups: T is a small constant matrix, so
        # every entry is a short linear combination of the length-G vectors M[i, j]
        # (symmetric: only i <= k is computed).
        MT = [[None] * q for _ in range(q)]
        for i in range(q):
            for k in range(q):
                terms = [M[i, j] * T[j, k] for j in range(q) if T[j, k] != 0.0]
                MT[i][k] = sum(terms) if terms else np.zeros(self.G)
        A = np.empty((q, q, self.G))
        for i in range(q):
            for k in range(i, q):
                terms = [T[j, i] * MT[j][k] for j in range(q) if T[j, i] != 0.0]
                A[i, k] = sum(terms) if terms else 0.0
                if i == k:
                    A[i, k] += 1.0
                else:
                    A[k, i] = A[i, k]
        if q == 2:
            a, b, d = A[0, 0], A[0, 1], A[1, 1]
            det = a * d - b * b
            ldL2 = float(np.sum(np.log(det)))
            Ainv = np.empty_like(A)
            Ainv[0, 0] = d / det
            Ainv[1, 1] = a / det
            Ainv[0, 1] = Ainv[1, 0] = -b / det
        else:
            Ab = np.ascontiguousarray(A.transpose(2, 0, 1))
            L = np.linalg.cholesky(Ab)
            ldL2 = float(2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2))))
            Ainv = np.linalg.inv(Ab).transpose(1, 2, 0)
        # K = T Ainv T'
        TA = [[sum(T[i, j] * Ainv[j, k] for j in range(q) if T[i, j] != 0.0) for k in range(q)]
              for i in range(q)]
        K = np.zeros((q, q, self.G))
        for i in range(q):
            for l_ in range(i, q):
                acc = 0.0
                for k in range(q):
                    if T[l_, k] != 0.0 and not np.isscalar(TA[i][k]):
                        acc = acc + TA[i][k] * T[l_, k]
                K[i, l_] = acc
                K[l_, i] = K[i, l_]
        return ldL2, K

    def evaluate(self, theta, reml: bool, grad: bool = False, full: bool = False,
                 sigma: float | None = None):
        """Profiled deviance (and pieces) at ``theta``.

        With ``sigma`` given, ``grad`` is the gradient in theta of lmerTest's
        deviance at fixed sigma, ``ldL2 + pwrss/sigma^2 (+ ldRX2)``.
        """
        theta = np.asarray(theta, dtype=float)
        T = self.T_of(theta)
        q, p, n = self.q, self.p, self.n
        M, ZX, Zy = self.M, self.ZX, self.Zy
        ldL2, K = self._K(T)
        if not np.isfinite(ldL2):
            return {"dev": np.inf, "ok": False}
        KZX = [sum(K[i, j][:, None] * ZX[j] for j in range(q)) for i in range(q)]
        KZy = [sum(K[i, j] * Zy[j] for j in range(q)) for i in range(q)]
        C = self.XtX - sum(ZX[i].T @ KZX[i] for i in range(q))
        Xvy = self.Xty - sum(ZX[i].T @ KZy[i] for i in range(q))
        yvy = self.yty - float(sum(_dot(Zy[i], KZy[i]) for i in range(q)))
        out = profiled_deviance(C, Xvy, yvy, ldL2, n, p, reml)
        if not out["ok"]:
            return out
        out.update({"C": C, "T": T})
        beta, pwrss, m = out["beta"], out["pwrss"], (n - p if reml else n)
        if grad or full:
            c = [Zy[i] - ZX[i] @ beta for i in range(q)]                      # Z_i'r_i
            MK = [[sum(M[i, j] * K[j, k] for j in range(q)) for k in range(q)] for i in range(q)]
            a = [c[i] - sum(MK[i][k] * c[k] for k in range(q)) for i in range(q)]
            if full:
                out["a"] = np.column_stack(a)                                  # (G, q)
            if grad:
                H = np.empty((q, q))
                fac = (m / pwrss) if sigma is None else 1.0 / sigma ** 2
                for i in range(q):
                    for l_ in range(q):
                        w = self.Msum[i, l_] - sum(_dot(MK[i][k], M[k, l_]) for k in range(q))
                        H[i, l_] = w - fac * _dot(a[i], a[l_])
                if reml:
                    Cinv = np.linalg.inv(C)
                    B = [ZX[i] - sum(MK[i][k][:, None] * ZX[k] for k in range(q)) for i in range(q)]
                    BC = [B[i] @ Cinv for i in range(q)]
                    for i in range(q):
                        for l_ in range(q):
                            H[i, l_] -= float(np.sum(BC[i] * B[l_]))
                TH = T.T @ H
                out["grad"] = np.array([2.0 * TH[c_, r_] for r_, c_ in self.tpos])
        return out

