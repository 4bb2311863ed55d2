"""Small numerical building blocks shared by the reliability functions.

Each mirrors the R function psych relies on, so that results agree with R to
rounding error: ``cov(x, use = "pairwise")``, ``cor(x, y, use = "pairwise")``,
``psych::smc`` (through ``psych::Pinv``) and ``psych::cor.smooth``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pairwise_cov", "pairwise_cor_with", "listwise", "smc", "pinv_psych",
           "cor_smooth", "cov2cor", "first_pc_loadings", "smc_with_drops"]


def _centered(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = ~np.isnan(x)
    mean = np.nanmean(x, axis=0)
    xc = np.where(mask, x - mean, 0.0)
    return xc, mask.astype(float)


def pairwise_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``cov(x, use = "pairwise")`` and the pairwise counts.

    For each pair of columns the means and the cross-products are taken over the
    rows where both are observed (divisor n_ij - 1), exactly as R does. The
    data are first shifted by the column means, which leaves covariances
    unchanged and keeps the one-pass formula free of cancellation.
    """
    xc, m = _centered(x)
    n = m.T @ m
    sxy = xc.T @ xc
    sx = xc.T @ m          # sx[i, j] = sum of x_i over rows where j observed (and i)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (sxy - sx * sx.T / n) / (n - 1)
    cov[n < 2] = np.nan
    return cov, n


def pairwise_cor_with(total: np.ndarray, x: np.ndarray) -> np.ndarray:
    """R's ``cor(total, x, use = "pairwise")`` for a vector and a matrix."""
    both = ~np.isnan(x) & ~np.isnan(total)[:, None]
    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        t = total[both[:, j]]
        v = x[both[:, j], j]
        t = t - t.mean()
        v = v - v.mean()
        out[j] = (t @ v) / np.sqrt((t @ t) * (v @ v))
    return out


def listwise(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` without any missing value."""
    return x[~np.isnan(x).any(axis=1)]


def cov2cor(c: np.ndarray) -> np.ndarray:
    """R's ``cov2cor``."""
    s = 1.0 / np.sqrt(np.diag(c))
    r = c * s[:, None] * s[None, :]
    np.fill_diagonal(r, 1.0)
    return r


def pinv_psych(x: np.ndarray, tol: float = np.sqrt(np.finfo(float).eps)) -> np.ndarray:
    """``psych::Pinv``: Moore-Penrose inverse through the SVD."""
    u, d, vt = np.linalg.svd(x)
    keep = d > max(tol * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def smc(r: np.ndarray) -> np.ndarray:
    """``psych::smc`` of a correlation matrix (squared multiple correlations).

    ``1 - 1/diag(Pinv(R))``, with values above 1 set to 1 and below 0 set to 0
    as psych does.
    """
    r = cov2cor(r)
    out = 1.0 - 1.0 / np.diag(pinv_psych(r))
    out = np.where(out > 1.0, 1.0, out)
    out = np.where(out < 0.0, 0.0, out)
    return out


def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """``psych::cor.smooth``: returns the (possibly) smoothed matrix and whether it was smoothed."""
    vals, vecs = np.linalg.eigh(r)
    vals = vals[::-1]
    vecs = vecs[:, ::-1]
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    sm = (vecs * vals) @ vecs.T
    return cov2cor(sm), True


def first_pc_loadings(r: np.ndarray) -> np.ndarray:
    """Loadings on the first principal component, signed so that they sum >= 0.

    ``psych::principal(r, nfactors = 1)$loadings`` (psych flips the component
    when the sum of its loadings is negative).
    """
    vals, vecs = np.linalg.eigh(r)
    lam = max(vals[-1], np.finfo(float).eps)
    load = vecs[:, -1] * np.sqrt(lam)
    if load.sum() < 0:
        load = -load
    return load


def smc_with_drops(r: np.ndarray, eig: tuple[np.ndarray, np.ndarray] | None = None):
    """smcs of R and of every R without one item, from a single decomposition.

    Returns ``(smc_full, smc_drop)`` where ``smc_drop[i, j]`` is the smc of item
    j in R without item i (NaN for j == i), or None when R is too close to
    singular for psych's ``Pinv`` to equal the inverse (then call :func:`smc`
    on each submatrix).

    For a correlation matrix with eigenvalues above ``sqrt(eps) * max``,
    ``Pinv`` is the inverse P = V diag(1/lambda) V' (the SVD of a symmetric
    positive definite matrix is its eigendecomposition), and by the
    interlacing theorem every principal submatrix is full rank too. The
    inverse of R without item i then follows from P without an extra
    decomposition: diag((R_-i)^-1)_j = P_jj - P_ij^2 / P_ii.
    """
    r = cov2cor(r)
    vals, vecs = eig if eig is not None else np.linalg.eigh(r)
    if vals[0] <= np.sqrt(np.finfo(float).eps) * vals[-1]:
        return None
    inv = (vecs / vals) @ vecs.T
    d = np.diag(inv)
    full = np.clip(1.0 - 1.0 / d, 0.0, 1.0)
    dd = d[None, :] - inv ** 2 / d[:, None]
    with np.errstate(divide="ignore"):
        drop = np.clip(1.0 - 1.0 / dd, 0.0, 1.0)
    np.fill_diagonal(drop, np.nan)
    return full, drop


def pc1_from_eig(vals: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    """:func:`first_pc_loadings` from an existing ``eigh`` decomposition."""
    lam = max(vals[-1], np.finfo(float).eps)
    load = vecs[:, -1] * np.sqrt(lam)
    return -load if load.sum() < 0 else load
