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
    for it in range(max_iter):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for pt in pats:
            o = pt.obs
            m = np.setdiff1d(np.arange(p), o)
            if len(m) == 0:
                T1 += pt.rows.sum(axis=0)
                T2 += pt.rows.T @ pt.rows
                continue
            S_oo = Sigma[np.ix_(o, o)]
            B = np.linalg.solve(S_oo, Sigma[np.ix_(o, m)]).T          # m x o
            Yhat = np.empty((pt.n, p))
            Yhat[:, o] = pt.rows
            Yhat[:, m] = mu[m] + (pt.rows - mu[o]) @ B.T
            T1 += Yhat.sum(axis=0)
            T2 += Yhat.T @ Yhat
            cond = Sigma[np.ix_(m, m)] - B @ Sigma[np.ix_(o, m)]
            T2[np.ix_(m, m)] += pt.n * cond
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
