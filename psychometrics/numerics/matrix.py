"""Small numerical building blocks shared by reliability, efa and sem.

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


def smc_with_drops(r: np.ndarray, eig: tuple[np.ndarray, np.ndarray] | None = None, *,
                   exact: bool = False, report: list | None = None):
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

    For a singular R with more than :data:`EXACT_DROP_LIMIT` items and
    eigenvalues at psych's tolerance, the drop smcs come from the rank-k
    pseudo-inverse of the full matrix (an approximation of psych's per-submatrix
    ``Pinv``): a :class:`ReliabilityWarning` says so and a note is appended to
    ``report`` (a list) when given. ``exact=True`` returns None in that case
    instead, so that the caller decomposes every submatrix as psych does.
    """
    r = cov2cor(r)
    vals, vecs = eig if eig is not None else np.linalg.eigh(r)
    if vals[0] <= np.sqrt(np.finfo(float).eps) * vals[-1]:
        return _smc_with_drops_singular(vals, vecs, exact=exact, report=report)
    inv = (vecs / vals) @ vecs.T
    d = np.diag(inv)
    full = np.clip(1.0 - 1.0 / d, 0.0, 1.0)
    dd = d[None, :] - inv ** 2 / d[:, None]
    with np.errstate(divide="ignore"):
        drop = np.clip(1.0 - 1.0 / dd, 0.0, 1.0)
    np.fill_diagonal(drop, np.nan)
    return full, drop


#: Up to this many items, a near-singular R's submatrices are each decomposed.
EXACT_DROP_LIMIT = 150


def _smc_with_drops_singular(vals: np.ndarray, vecs: np.ndarray, *, exact: bool = False,
                             report: list | None = None):
    """:func:`smc_with_drops` for a singular R (more items than cases), or None.

    With R = V_k L V_k' of rank k < p (the eigenvalues psych's ``Pinv`` keeps),
    P = Pinv(R) = V_k L^-1 V_k' and H = V_k V_k' (leverages h = diag H), the
    ``Pinv`` of R without item i has, when R without item i keeps rank k,
    diagonal ``P_jj + 2 H_ij P_ij / (1 - h_i) + H_ij^2 P_ii / (1 - h_i)^2``
    (R_-i = B_-i B_-i' with B = V_k L^1/2; B_-i' B_-i = L - b_i b_i', inverted by
    Sherman-Morrison). This replaces p singular value decompositions (minutes
    for 300 items) by one. A submatrix whose smallest non-zero eigenvalue
    (the smallest root of the secular equation of L - b_i b_i') comes near
    psych's tolerance is decomposed itself, as psych does; None is returned
    when R's own rank is not clear-cut (eigenvalues near the tolerance).
    """
    tol = np.sqrt(np.finfo(float).eps) * vals[-1]
    keep = vals > tol
    k = int(keep.sum())
    p = vals.size
    if k == 0 or k >= p:
        return None
    near_tol = bool(np.any(vals[~keep] > 1e-3 * tol))
    if near_tol and (p <= EXACT_DROP_LIMIT or exact):
        return None
    lam = vals[keep]
    vk = vecs[:, keep]
    inv = (vk / lam) @ vk.T
    hat = vk @ vk.T
    h = np.diag(hat).copy()
    one_minus = 1.0 - h
    d = np.diag(inv)
    full = np.clip(1.0 - 1.0 / d, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = hat / one_minus[:, None]                  # H_ij / (1 - h_i), row i
        dd = d[None, :] + 2.0 * a * inv + a ** 2 * d[:, None]
        drop = np.clip(1.0 - 1.0 / dd, 0.0, 1.0)
    # smallest eigenvalue of L - b_i b_i' (b_i = row i of V_k L^1/2), by bisection on
    # the secular equation 1 = sum_m b_im^2 / (lam_m - x) for x below lam_1
    b2 = (vk ** 2) * lam                              # b_im^2
    lo_x = np.full(p, -1.0)                           # f(lo) > 0 for x <= 0 when h_i < 1
    hi_x = np.full(p, lam[0])
    for _ in range(60):
        mid = 0.5 * (lo_x + hi_x)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = 1.0 - (b2 / (lam[None, :] - mid[:, None])).sum(axis=1)
        pos = f > 0
        lo_x = np.where(pos, mid, lo_x)
        hi_x = np.where(pos, hi_x, mid)
    unsafe = (lo_x <= 100.0 * tol) | (one_minus <= 1e-8)
    if (near_tol or (unsafe.any() and p > EXACT_DROP_LIMIT)) and not exact:
        # eigenvalues of R or of a submatrix at psych's tolerance: which of them each
        # submatrix's Pinv keeps decides its smcs. Decomposing every submatrix (as psych)
        # costs minutes for hundreds of items, so use the rank-k formula and say so.
        import warnings

        from ..exceptions import ReliabilityWarning

        note = (f"Approximation: the correlation matrix of these {p} items is singular (fewer "
                f"cases than items) with eigenvalues near the pseudo-inverse tolerance; the "
                f"'if item dropped' lambda 6 (g6_smc of alpha_drop) uses the rank-{k} "
                f"pseudo-inverse of the full matrix instead of psych's pseudo-inverse of each "
                f"submatrix, and may differ from psych's, whose result depends on eigenvalues "
                f"at the tolerance. The scale's own g6_smc is exact. Pass g6_drop='exact' "
                f"to decompose every submatrix as psych does (slow for many items).")
        if report is not None:
            report.append(note)
        warnings.warn(note, ReliabilityWarning, stacklevel=4)
        drop[~np.isfinite(drop)] = np.nan
        np.fill_diagonal(drop, np.nan)
        return full, drop
    if unsafe.mean() > 0.5:
        return None
    r = (vecs * vals) @ vecs.T
    for i in np.flatnonzero(unsafe):
        rest = np.r_[0:i, i + 1:p]
        drop[i, rest] = smc(r[np.ix_(rest, rest)])
    np.fill_diagonal(drop, np.nan)
    return full, drop


def pc1_from_eig(vals: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    """:func:`first_pc_loadings` from an existing ``eigh`` decomposition."""
    lam = max(vals[-1], np.finfo(float).eps)
    load = vecs[:, -1] * np.sqrt(lam)
    return -load if load.sum() < 0 else load
