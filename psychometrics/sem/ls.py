"""Least-squares estimators for continuous data: ULS, GLS, WLS (ADF) (lavaan
``estimator = "ULS" / "GLS" / "WLS"``).

Per group ``g`` with weight ``w_g = (n_g - 1) / (N - G)``, sample moments ``s_g`` (vech of the
covariance with divisor N - 1, as lavaan's ``sample.cov.rescale = FALSE`` for these
estimators; plus the means with a mean structure) and the implied ``sigma_g(theta)``::

    F_g  = (s_g - sigma_g)' V_g (s_g - sigma_g),  minimised: sum_g w_g F_g
    chisq = sum_g (n_g - 1) F_g,  lavaan's fmin = chisq / (2 N)
    ULS: V = I;   GLS: V = 0.5 D'(S^-1 x S^-1) D (+ S^-1 for means);   WLS: V = Gamma^-1

(``Gamma`` the fourth-moment NACOV of the data, divisor N). Minimised by Gauss-Newton with
step halving; converged when the gradient ``2 sum w_g Delta' V r`` is ~0. Standard errors
(lavaan ``se = "standard"``): ``(sum_g w_g Delta_g' V_g Delta_g)^-1 / (N - G)``; GFI
``1 - sum_g w_g F_g / s_g' V_g s_g``.
"""
from __future__ import annotations

import numpy as np

from .estimate import OptimResult, row_values
from .matrices import fill, implied

__all__ = ["LS_ESTIMATORS", "ls_weights", "optimize_ls", "ls_vcov"]

LS_ESTIMATORS = ("ULS", "GLS", "WLS")


def _vech_weights(rows, cols):
    return np.where(rows == cols, 1.0, 2.0)


def ls_weights(prob, estimator: str):
    """Per group: (s, V) in the (means, vech) coordinates the model uses."""
    out = []
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    for g in range(len(prob.rep.groups)):
        S = prob.ss.cov[g]
        m = prob.ss.mean[g]
        s = S[rows, cols]
        if prob.meanstructure:
            s = np.concatenate([m, s])
        k = len(s)
        if estimator == "ULS":
            V = np.eye(k)
        elif estimator == "GLS":
            Si = np.linalg.inv(S)
            w = _vech_weights(rows, cols)
            K = 0.5 * (Si[np.ix_(rows, rows)] * Si[np.ix_(cols, cols)]
                       + Si[np.ix_(rows, cols)] * Si[np.ix_(cols, rows)])
            Vc = 0.5 * np.outer(w, w) * K
            if prob.meanstructure:
                V = np.zeros((k, k))
                V[:p, :p] = Si
                V[p:, p:] = Vc
            else:
                V = Vc
            if len(prob.x_idx):
                # fixed.x: the covariates' own moments carry no weight (their residuals
                # are 0; lavaan's GFI then leaves them out of s'Vs too)
                from .robust import _not_x_mask
                keep = _not_x_mask(p, prob.x_idx)
                if not prob.meanstructure:
                    keep = keep[p:]
                V = V * np.outer(keep, keep)
        elif len(prob.x_idx):
            # WLS with fixed.x covariates: lavaan's fixed.x Gamma (the variation of y given
            # x), inverted on the moments that do not belong to the covariates only; the
            # residuals of the covariates' own moments are 0
            from .robust import _not_x_mask
            from .robust_sb import _gamma_fixed_x
            keep = _not_x_mask(p, prob.x_idx)
            G = _gamma_fixed_x(prob, g)
            if not prob.meanstructure:
                keep, G = keep[p:], G[p:, p:]
            V = np.zeros((k, k))
            V[np.ix_(keep, keep)] = np.linalg.inv(G[np.ix_(keep, keep)])
        else:  # WLS: inverse of the ADF Gamma (divisor N)
            X = prob.ss.data[g]
            Z = X - X.mean(axis=0)
            P = Z[:, rows] * Z[:, cols]
            cols_ = [P - P.mean(axis=0)]
            if prob.meanstructure:
                cols_.insert(0, Z)
            Zc = np.hstack(cols_)
            Gamma = Zc.T @ Zc / X.shape[0]
            V = np.linalg.inv(Gamma)
        out.append((s, V))
    return out


def _moments(prob, theta, g):
    from .robust import _fiml_delta
    D, Sigma, mu = _fiml_delta(prob, theta, g)
    p = Sigma.shape[0]
    rows, cols = np.tril_indices(p)
    sig = Sigma[rows, cols]
    if prob.meanstructure:
        return np.concatenate([mu, sig]), D
    return sig, D[p:]


def _F(prob, theta, W, wts=None):
    values = row_values(prob, theta)
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    F = 0.0
    for g, (s, V) in enumerate(W):
        Sigma, mu = implied(fill(prob.rep, g, values))[:2]
        sig = Sigma[rows, cols]
        if prob.meanstructure:
            sig = np.concatenate([mu, sig])
        r = s - sig
        F += (prob.weights if wts is None else wts)[g] * r @ V @ r
    return float(F)


def _parts(prob, theta, W, wts=None):
    npar = len(theta)
    F = 0.0
    b = np.zeros(npar)
    J = np.zeros((npar, npar))
    for g, (s, V) in enumerate(W):
        sig, D = _moments(prob, theta, g)
        r = s - sig
        VD = V @ D
        w = (prob.weights if wts is None else wts)[g]
        F += w * r @ V @ r
        b += w * VD.T @ r
        J += w * D.T @ VD
    return F, b, J


def optimize_ls(prob, theta0, estimator: str, max_iter: int = 500):
    """Gauss-Newton minimisation of the LS discrepancy; returns OptimResult (fmin = F/2,
    ``information`` = sum w Delta' V Delta with w = n_g / N).

    Groups are weighted by ``(n_g - 1) / (N - G)`` in the discrepancy (lavaan
    ``lav_model_objective``: ``0.5 (n_g - 1) / n_g F_g`` averaged with weights n_g)."""
    W = ls_weights(prob, estimator)
    n = np.asarray(prob.ss.nobs, dtype=float)
    wts = (n - 1) / (n.sum() - len(n))
    theta = np.asarray(theta0, dtype=float).copy()
    F, b, J = _parts(prob, theta, W, wts)
    converged = False
    message = "maximum number of iterations reached"
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(J, b)
        except np.linalg.LinAlgError:
            message = "singular Gauss-Newton matrix"
            break
        t = 1.0
        while t > 1e-10:
            new = theta + t * step
            F_new = _F(prob, new, W, wts)
            if np.isfinite(F_new) and F_new <= F + 1e-15 * max(1.0, F):
                break
            t *= 0.5
        else:
            message = "line search failed"
            break
        theta = new
        F_old = F
        F, b, J = _parts(prob, theta, W, wts)
        if np.max(np.abs(2 * b)) < 1e-10 or (abs(F_old - F) <= 1e-16 * max(1.0, F)
                                              and np.max(np.abs(2 * b)) < 1e-7):
            converged = True
            message = "gradient below tolerance"
            break
    if len(n) > 1:
        J = _parts(prob, theta, W)[2]        # information with the weights n_g / N
    return OptimResult(theta, 0.5 * F, -2 * b, J, it, converged, message)


def ls_group_parts(prob, theta, estimator: str):
    """Per group: (F_g = r' V r, s' V s) at theta (for chi-square and GFI)."""
    W = ls_weights(prob, estimator)
    out = []
    for g, (s, V) in enumerate(W):
        sig, _ = _moments(prob, theta, g)
        r = s - sig
        out.append((float(r @ V @ r), float(s @ V @ s)))
    return out


def ls_vcov(J: np.ndarray, n: int) -> np.ndarray:
    """lavaan ``se = "standard"`` for ULS/GLS/WLS: ``(Delta' V Delta)^-1 / (N - G)``."""
    return np.linalg.inv(J) / n
