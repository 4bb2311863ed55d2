"""Saturated two-level model maximised over positive semi-definite matrices.

``Sigma_W = L_W L_W'`` (all level-1 variables) and ``Sigma_B = L_B L_B'`` (between-only
variables and the between parts of split variables) with free lower-triangular ``L``
(any sign on the diagonal) and free means: every parameter value is a proper covariance
model, so the maximum can sit on the boundary (a singular between matrix) but never
outside it. The gradient is chained from the moment derivatives
(``dF/dL = 2 G L``, ``G = dF/dSigma`` symmetric) of :mod:`.twolevel_stats` (complete data)
or :mod:`.twolevel_missing` (missing values); BFGS on ``F / N``.

lavaan 0.6-14 fits its saturated model with missing data the same way
(``lav_partable_unrestricted_chol``, nlminb with ``rel.tol = 1e-7``); with complete data it
uses an EM that stops at a log-likelihood gain below 1e-4 (:func:`.twolevel_stats.em_saturated`,
the default ``h1="em"``).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize as sopt

from .twolevel_stats import H1, constant, gradient_moments

__all__ = ["h1_cholesky", "h1_start_missing"]


def _psd_chol(S: np.ndarray, floor: float) -> np.ndarray:
    """Cholesky factor of ``S`` with eigenvalues raised to ``floor`` (a PD start)."""
    if S.shape[0] == 0:
        return S.copy()
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return np.linalg.cholesky((V * np.maximum(w, floor)) @ V.T)


def h1_start_missing(ms, within_only) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moment start for the saturated model with holes: pairwise within and between
    covariances of the available values (``Sigma_B = cov(cluster means) - Sigma_W / n``)."""
    import pandas as pd
    py, pz = ms.py, ms.pz
    means = ms.cluster_means                       # (J, q): z, then available y means
    dev = ms.Y - means[ms.codes][:, pz:]
    sw = pd.DataFrame(dev).cov(min_periods=2).to_numpy()
    sw = np.where(np.isfinite(sw), sw, 0.0)
    d = np.diag(sw).copy()
    d[~(d > 0)] = 1.0
    np.fill_diagonal(sw, d)
    cb = pd.DataFrame(means).cov(min_periods=2).to_numpy()
    cb = np.where(np.isfinite(cb), cb, 0.0)
    nbar = float(np.mean(ms.cluster_size))
    cb[pz:, pz:] -= sw / nbar
    wo = pz + np.flatnonzero(within_only)
    cb[wo, :] = 0.0
    cb[:, wo] = 0.0
    mu = np.concatenate([np.nanmean(ms.Z, axis=0) if pz else np.zeros(0),
                         np.nanmean(ms.Y, axis=0)])
    return sw, cb, np.where(np.isfinite(mu), mu, 0.0)


def h1_cholesky(stats, within_only, sigma_w, sigma_b, mu, *, gtol: float = 1e-10,
                max_iter: int = 20000, iterations0: int = 0):
    """Maximise the two-level likelihood over PSD ``Sigma_W``, ``Sigma_B`` and free means,
    started at the given moments (projected to PD). Returns ``(H1, converged, message)``."""
    missing = getattr(stats, "missing", False)
    if missing:
        from .twolevel_missing import gradient_missing as grad_fn
    else:
        grad_fn = gradient_moments
    py, pz = stats.py, stats.pz
    q = py + pz
    within_only = np.asarray(within_only, dtype=bool)
    bidx = np.concatenate([np.arange(pz), pz + np.flatnonzero(~within_only)])
    nb = len(bidx)
    scale_w = max(1e-8, float(np.mean(np.abs(np.diag(sigma_w)))))
    Lw0 = _psd_chol(sigma_w, 1e-6 * scale_w)
    Sb0 = sigma_b[np.ix_(bidx, bidx)]
    scale_b = max(1e-8, float(np.mean(np.abs(np.diag(Sb0))))) if nb else 1.0
    Lb0 = _psd_chol(Sb0, 1e-4 * scale_b)
    tw = np.tril_indices(py)
    tb = np.tril_indices(nb)
    nw, nbp = len(tw[0]), len(tb[0])

    def unpack(x):
        Lw = np.zeros((py, py))
        Lw[tw] = x[:nw]
        Lb = np.zeros((nb, nb))
        Lb[tb] = x[nw:nw + nbp]
        m = x[nw + nbp:]
        sb = np.zeros((q, q))
        sb[np.ix_(bidx, bidx)] = Lb @ Lb.T
        return Lw, Lb, Lw @ Lw.T, sb, m

    N = float(stats.nobs)

    def fun(x):
        Lw, Lb, sw, sb, m = unpack(x)
        f, gW, gB, gm = grad_fn(stats, sw, sb, m)
        if not np.isfinite(f):
            return 1e300, np.zeros_like(x)
        gLw = (2.0 * gW @ Lw)[tw]
        gLb = (2.0 * gB[np.ix_(bidx, bidx)] @ Lb)[tb]
        return f / N, np.concatenate([gLw, gLb, gm]) / N

    x0 = np.concatenate([Lw0[tw], Lb0[tb], np.asarray(mu, dtype=float)])
    res = sopt.minimize(fun, x0, jac=True, method="L-BFGS-B",
                        options=dict(gtol=gtol, ftol=1e-15, maxiter=max_iter, maxfun=2 * max_iter,
                                     maxcor=30))
    f_final, g = fun(res.x)
    converged = bool(np.isfinite(f_final) and f_final < 1e299
                     and np.max(np.abs(g)) < max(1e-6, 100 * gtol))
    Lw, Lb, sw, sb, m = unpack(res.x)
    F = f_final * N
    if missing:
        from .twolevel_missing import constant_missing
        const = constant_missing(stats)
    else:
        const = constant(stats)
    mu_w = np.where(within_only, m[pz:], 0.0)
    mu_b = m.copy()
    mu_b[pz:][within_only] = 0.0
    h1 = H1(sw, sb, mu_w, mu_b, float(-0.5 * (F + const)), iterations0 + int(res.nit))
    return h1, converged, str(res.message)
