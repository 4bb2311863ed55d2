"""MLM and MLMV (lavaan ``estimator = "MLM"`` / ``"MLMV"``): ML estimates, ``robust.sem``
standard errors and the Satorra-Bentler scaled (MLM) or scaled-and-shifted (MLMV) test.

Complete data only. Per group ``g`` (weight ``f_g = n_g / N``), in (mu, vech Sigma)
coordinates: ``Delta_g`` the Jacobian of the implied moments, ``W_g`` the expected
information of the saturated model at the implied moments (lavaan's default
``h1.information = "structured"``; with fixed.x the covariates' own moments are dropped,
lavaan ``x.idx``) and ``Gamma_g`` the asymptotic covariance of the sample moments
(fourth moments about the mean, divisor n_g)::

    A      = sum_g f_g Delta_g' W_g Delta_g                  (expected information)
    vcov   = A^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) A^-1 / N
    U      = W - W Delta A^-1 Delta' W     (W = blockdiag f_g W_g, Gamma = blockdiag Gamma_g / f_g)
    MLM:   c = tr(U Gamma) / df,   chisq_scaled = chisq / c
    MLMV:  a = sqrt(df / tr((U Gamma)^2)),  b = df - a tr(U Gamma),  chisq_scaled = a chisq + b

(lavaan ``lav_model_nvcov_robust_sem``, ``lav_test_satorra_bentler``.)
"""
from __future__ import annotations

import numpy as np

from .estimate import Problem
from .robust import RobustParts, _complete_h1_information, _fiml_delta, _not_x_mask

__all__ = ["sb_parts", "sb_trace", "as_robust_parts"]


def _gamma(prob: Problem, g: int) -> np.ndarray:
    """NACOV of (mean, vech S) of group g, divisor n_g (lavaan ``lav_samplestats_Gamma``).

    With fixed.x covariates, lavaan's version for fixed x: the casewise moment
    contributions minus those of the values predicted by the covariates (OLS on [1, x]),
    so that only the variation of y given x enters.
    """
    if len(prob.x_idx):
        return _gamma_fixed_x(prob, g)
    rows, cols, M4, M3, m2 = prob.ss.fourth_moments(g)
    S = prob.ss.cov[g]
    p = S.shape[0]
    G4 = M4 - np.outer(m2, m2)
    out = np.zeros((p + len(rows),) * 2)
    out[:p, :p] = S
    out[:p, p:] = M3
    out[p:, :p] = M3.T
    out[p:, p:] = G4
    return out


def _gamma_fixed_x(prob: Problem, g: int) -> np.ndarray:
    Y = prob.ss.data[g]
    n, p = Y.shape
    x = prob.x_idx
    y = np.setdiff1d(np.arange(p), x)
    Xd = np.column_stack([np.ones(n), Y[:, x]])
    coef, *_ = np.linalg.lstsq(Xd, Y[:, y], rcond=None)
    Yhat = Y.copy()
    Yhat[:, y] = Xd @ coef
    rows, cols = np.tril_indices(p)
    Yc = Y - Y.mean(axis=0)
    Hc = Yhat - Yhat.mean(axis=0)
    Z = np.hstack([Y - Yhat, Yc[:, rows] * Yc[:, cols] - Hc[:, rows] * Hc[:, cols]])
    Zc = Z - Z.mean(axis=0)
    return Zc.T @ Zc / n


def sb_parts(prob: Problem, theta: np.ndarray, df: float):
    """(vcov, tr(U Gamma), tr((U Gamma)^2)) for MLM/MLMV at the ML estimates."""
    from scipy.linalg import block_diag
    N = prob.ss.ntotal
    ng = len(prob.rep.groups)
    p = len(prob.ss.ov)
    keep = _not_x_mask(p, prob.x_idx)
    if not prob.meanstructure:
        keep = keep.copy()
        keep[:p] = False
    Ws, Gs, Ds, fs = [], [], [], []
    for g in range(ng):
        f = prob.ss.nobs[g] / N
        D, Sig, _ = _fiml_delta(prob, theta, g)
        W = _complete_h1_information(Sig)
        Gm = _gamma(prob, g)
        Ws.append(W[np.ix_(keep, keep)])
        Gs.append(Gm[np.ix_(keep, keep)])
        Ds.append(D[keep])
        fs.append(f)
    A = sum(f * D.T @ W @ D for f, D, W in zip(fs, Ds, Ws))
    B = sum(f * D.T @ W @ Gm @ W @ D for f, D, W, Gm in zip(fs, Ds, Ws, Gs))
    Ai = np.linalg.inv(A)
    vcov = Ai @ B @ Ai / N
    W_all = block_diag(*[f * W for f, W in zip(fs, Ws)])
    G_all = block_diag(*[Gm / f for f, Gm in zip(fs, Gs)])
    D_all = np.vstack(Ds)
    U = W_all - W_all @ D_all @ Ai @ D_all.T @ W_all
    UG = U @ G_all
    return vcov, float(np.trace(UG)), float(np.sum(UG * UG.T)), A


def sb_trace(prob: Problem, theta: np.ndarray, df: float) -> tuple[float, float]:
    _, t1, t2, _ = sb_parts(prob, theta, df)
    return t1, t2


def as_robust_parts(vcov, trace_ugamma) -> RobustParts:
    nan = np.array([np.nan])
    return RobustParts(vcov, trace_ugamma, nan, nan, nan)
