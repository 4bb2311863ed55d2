"""Full-information ML for incomplete data (lavaan ``missing = "ml"``).

Rows are grouped by missingness pattern; per pattern ``p`` with observed
variables ``o``, ``n_p`` rows, mean ``ybar_p`` and covariance ``C_p`` (divisor
``n_p``) the log-likelihood is::

    logl = -1/2 sum_p n_p [ p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 (C_p + d_p d_p')) ]
    d_p  = ybar_p - mu_o

The saturated (h1) moments are estimated by EM to a tight tolerance; the
chi-square is ``2 (logl_h1 - logl)`` and lavaan's ``fmin`` is ``chisq / (2 N)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ConvergenceWarning, DataValidationError

__all__ = ["Pattern", "patterns_of", "em_saturated", "pattern_loglik"]


@dataclass(frozen=True)
class Pattern:
    obs: np.ndarray      # indices of the observed variables
    n: int
    mean: np.ndarray     # mean of the observed variables in this pattern
    cov: np.ndarray      # covariance (divisor n) of the observed variables
    rows: np.ndarray     # the rows' observed values (n x len(obs))


def patterns_of(X: np.ndarray) -> tuple[Pattern, ...]:
    """Missingness patterns of ``X`` (rows with no observed value must be removed first)."""
    obs_mask = np.isfinite(X)
    keys, inverse = np.unique(obs_mask, axis=0, return_inverse=True)
    out = []
    for k in range(len(keys)):
        o = np.flatnonzero(keys[k])
        Y = X[inverse.ravel() == k][:, o]
        m = Y.mean(axis=0)
        Z = Y - m
        out.append(Pattern(o, Y.shape[0], m, Z.T @ Z / Y.shape[0], Y))
    return tuple(out)


def pattern_loglik(pats, Sigma, mu) -> float:
    """FIML log-likelihood of the patterns at (Sigma, mu)."""
    total = 0.0
    for pt in pats:
        o = pt.obs
        S_oo = Sigma[np.ix_(o, o)]
        sign, logdet = np.linalg.slogdet(S_oo)
        if sign <= 0:
            return -np.inf
        Si = np.linalg.inv(S_oo)
        d = pt.mean - mu[o]
        q = np.sum(Si * pt.cov) + d @ Si @ d
        total += -0.5 * pt.n * (len(o) * np.log(2 * np.pi) + logdet + q)
    return float(total)


def em_saturated(pats, p: int, tol: float = 1e-12, max_iter: int = 20000):
    """Saturated mean and covariance by EM (lavaan ``lav_mvnorm_missing_h1_estimate_moments``).

    Starts from the available-case means and variances; stops when the largest
    change of any moment is below ``tol``.
    """
    n = sum(pt.n for pt in pats)
    sums = np.zeros(p)
    cnt = np.zeros(p)
    sq = np.zeros(p)
    for pt in pats:
        sums[pt.obs] += pt.rows.sum(axis=0)
        sq[pt.obs] += (pt.rows ** 2).sum(axis=0)
        cnt[pt.obs] += pt.n
    if (cnt < 2).any():
        raise DataValidationError(
            f"Variable(s) at positions {np.flatnonzero(cnt < 2).tolist()} have fewer than 2 "
            f"observed values.")
    mu = sums / cnt
    Sigma = np.diag(sq / cnt - mu ** 2)
    # all patterns at once (see Packed): with P = Sigma Sigma_oo^-1 (embedded), the
    # completed rows are yhat = T y + c, T = O + M P, c = M (mu - P mu) (O, M the observed
    # and missing diagonal masks), so the pattern sums follow from its mean and covariance
    pk = pack(pats, p)
    miss = (~pk.obs).astype(float)
    obsf = pk.obs.astype(float)
    eye = np.eye(p)
    for it in range(max_iter):
        Si, _ = packed_inverse(pk, Sigma)
        if Si is None:
            break
        P = np.matmul(Sigma[None], Si)                                   # K x p x p
        T = obsf[:, :, None] * eye[None] + miss[:, :, None] * P
        c = miss * (mu[None, :] - P @ mu)
        yb = c + np.einsum("kab,kb->ka", T, pk.mean)
        cond = miss[:, :, None] * (Sigma[None] - np.matmul(P, Sigma[None])) * miss[:, None, :]
        TCT = np.matmul(np.matmul(T, pk.cov), np.swapaxes(T, 1, 2))
        T1 = pk.n @ yb
        T2 = np.tensordot(pk.n, TCT + cond + yb[:, :, None] * yb[:, None, :], axes=1)
        mu_new = T1 / n
        Sigma_new = T2 / n - np.outer(mu_new, mu_new)
        delta = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(Sigma_new - Sigma)))
        mu, Sigma = mu_new, 0.5 * (Sigma_new + Sigma_new.T)
        if delta < tol:
            return Sigma, mu, it + 1, True
    import warnings
    warnings.warn(f"EM for the saturated model did not converge in {max_iter} iterations.",
                  ConvergenceWarning, stacklevel=3)
    return Sigma, mu, max_iter, False


# ----------------------------------------------------------------------------- batched
@dataclass(frozen=True)
class Packed:
    """The patterns of one group stacked into arrays, every block embedded in p x p
    (zeros where a variable is missing), so that all patterns are processed by batched
    numpy calls instead of a Python loop."""

    obs: np.ndarray      # (K, p) bool
    n: np.ndarray        # (K,) rows per pattern
    q: np.ndarray        # (K,) observed variables per pattern
    mean: np.ndarray     # (K, p) pattern means, 0 where missing
    cov: np.ndarray      # (K, p, p) pattern covariances (divisor n), 0 where missing
    oo: np.ndarray       # (K, p, p) float mask of the observed block
    fill: np.ndarray     # (K, p, p) identity on the missing diagonal


def pack(pats, p: int) -> Packed:
    K = len(pats)
    obs = np.zeros((K, p), dtype=bool)
    mean = np.zeros((K, p))
    cov = np.zeros((K, p, p))
    for k, pt in enumerate(pats):
        o = pt.obs
        obs[k, o] = True
        mean[k, o] = pt.mean
        cov[k][np.ix_(o, o)] = pt.cov
    of = obs.astype(float)
    oo = of[:, :, None] * of[:, None, :]
    fill = np.zeros((K, p, p))
    idx = np.arange(p)
    fill[:, idx, idx] = 1.0 - of
    return Packed(obs, np.array([pt.n for pt in pats], dtype=float), obs.sum(axis=1),
                  mean, cov, oo, fill)


def packed_inverse(pk: Packed, Sigma: np.ndarray):
    """Per pattern: ``Sigma_oo^-1`` embedded in p x p (zeros elsewhere) and
    ``log|Sigma_oo|``; ``(None, None)`` when a block is not positive definite."""
    A = Sigma[None, :, :] * pk.oo + pk.fill
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None, None
    logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    Li = np.linalg.inv(L)
    Si = np.matmul(np.swapaxes(Li, 1, 2), Li) * pk.oo
    return Si, logdet


def packed_loglik(pk: Packed, Sigma: np.ndarray, mu: np.ndarray, need_grad: bool = False):
    """FIML ``-2 logl`` summed over patterns; with ``need_grad`` also
    ``W = sum_p n_p (Si - Si C Si - Si d d' Si)`` and ``r = sum_p n_p Si d``."""
    Si, logdet = packed_inverse(pk, Sigma)
    if Si is None:
        return (np.inf, None, None) if need_grad else np.inf
    d = (pk.mean - mu[None, :]) * pk.obs
    Sid = np.einsum("kab,kb->ka", Si, d)
    quad = np.einsum("kab,kab->k", Si, pk.cov) + np.einsum("ka,ka->k", d, Sid)
    m2 = float(pk.n @ (pk.q * np.log(2 * np.pi) + logdet + quad))
    if not need_grad:
        return m2
    SiC = np.matmul(Si, pk.cov)
    Wk = Si - np.matmul(SiC, Si) - Sid[:, :, None] * Sid[:, None, :]
    W = np.tensordot(pk.n, Wk, axes=1)
    r = pk.n @ Sid
    return m2, W, r


def packed_information(pk: Packed, Sigma: np.ndarray, D3: np.ndarray, Dm: np.ndarray):
    """Expected information ``sum_p n_p [0.5 tr(Si D_k Si D_l) + dmu_k' Si dmu_l]`` (not
    divided by n)."""
    Si, _ = packed_inverse(pk, Sigma)
    npar = D3.shape[0]
    Y = np.matmul(np.matmul(Si[:, None], D3[None]), Si[:, None])       # K x npar x p x p
    Z = np.tensordot(pk.n, Y, axes=1).reshape(npar, -1)
    I = 0.5 * (D3.reshape(npar, -1) @ Z.T)
    I += Dm @ np.tensordot(pk.n, Si, axes=1) @ Dm.T
    return I
