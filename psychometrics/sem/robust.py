"""Robust ML (lavaan ``estimator = "MLR"``): Huber-White SEs and the Yuan-Bentler scaled test.

Needs the raw data (casewise scores). With ``A0`` the observed information of
the model (Hessian of fmin), ``B0`` the first-order information (mean of the
casewise score cross-products at the model), ``A1``/``B1`` the same for the
saturated model at the sample moments (vech coordinates), per group ``g`` with
weight ``f_g = n_g / N``::

    vcov          = A0^-1 (sum_g f_g B0_g) A0^-1 / N            (robust.huber.white)
    tr(U Gamma)   = sum_g tr(A1_g^-1 B1_g) - sum_g f_g tr(B0_g A0^-1)
    c             = tr(U Gamma) / df,   chisq_scaled = chisq / c (yuan.bentler.mplus)

Casewise score of observation i for parameter k (``u_i = Sigma^-1 (y_i - mu)``)::

    s_ik = 0.5 (u_i' dSigma_k u_i - tr(Sigma^-1 dSigma_k)) + dmu_k' u_i

(lavaan ``lav_model_information_firstorder``, ``lav_test_yuan_bentler_mplus_trace``.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .estimate import Problem, row_values
from .matrices import fill, implied, jacobian

__all__ = ["RobustParts", "robust_parts", "h1_trace"]


@dataclass(frozen=True)
class RobustParts:
    vcov: np.ndarray
    trace_ugamma: float
    trace_h1: np.ndarray
    trace_h0: np.ndarray
    h1_ndat: np.ndarray


def _model_derivatives(prob: Problem, theta: np.ndarray, g: int):
    """Implied moments of group ``g`` at ``theta`` and their derivatives per free parameter.

    Returns ``Sigma, mu, Si = Sigma^-1, D3 (npar x p x p) = dSigma/dtheta`` and
    ``Dm (npar x p) = dmu/dtheta``; with fixed.x, the covariates' own moments get no
    derivative (zeroed).
    """
    values = row_values(prob, theta)
    M = fill(prob.rep, g, values)
    parts = implied(M)
    Sigma, mu = parts[0], parts[1]
    Si = np.linalg.inv(Sigma)
    dS, dm = jacobian(prob.rep, g, M, parts)
    agg = prob.agg[g]
    npar, p = agg.shape[0], Sigma.shape[0]
    D3 = (agg @ dS.reshape(len(dS), -1)).reshape(npar, p, p)
    Dm = agg @ dm
    x = prob.x_idx
    if len(x):
        D3[:, x[:, None], x[None, :]] = 0.0
        Dm[:, x] = 0.0
    return Sigma, mu, Si, D3, Dm


def _model_scores(prob: Problem, theta: np.ndarray, g: int) -> np.ndarray:
    """Casewise scores (n_g x npar) of the model at ``theta`` for group ``g``."""
    Sigma, mu, Si, D3, Dm = _model_derivatives(prob, theta, g)
    npar, p = D3.shape[0], Sigma.shape[0]
    Dk = D3.reshape(npar, -1)                           # npar x p*p
    X = prob.ss.data[g]
    center = mu if prob.meanstructure else prob.ss.mean[g]
    U = (X - center) @ Si                               # n x p
    n = U.shape[0]
    quad = (U[:, :, None] * U[:, None, :]).reshape(n, p * p) @ Dk.T
    tr = Dk @ Si.ravel()
    s = 0.5 * (quad - tr[None, :])
    if prob.meanstructure:
        s = s + U @ Dm.T
    return s


def _vech_weights(rows, cols):
    return np.where(rows == cols, 1.0, 2.0)


def _model_B0(prob: Problem, theta: np.ndarray, g: int) -> np.ndarray:
    """First-order information of the model from the data's moments up to order four.

    The casewise score is ``s_ik = 0.5 H_k . P_i + G_k . z_i + c_k`` with
    ``z_i = y_i - ybar``, ``P_i = vech(z_i z_i')``, ``H_k = w * vech(Si D_k Si)``,
    ``b = Si (ybar - mu)``, ``G_k = Si D_k b + Si dmu_k``,
    ``c_k = 0.5 (b' D_k b - tr(Si D_k)) + dmu_k' b``; so
    ``B0 = 0.25 H M4 H' + G S G' + c c' + 0.5 (H M3' G' + G M3 H') + 0.5 (H m2 c' + c m2' H')``.
    """
    Sigma, mu, Si, D3, Dm = _model_derivatives(prob, theta, g)
    npar, p = D3.shape[0], Sigma.shape[0]
    rows, cols, M4, M3, m2 = prob.ss.fourth_moments(g)
    w = _vech_weights(rows, cols)
    Y = Si @ D3 @ Si
    H = Y[:, rows, cols] * w
    c = -0.5 * np.einsum("kij,ji->k", D3, Si)
    G = np.zeros((npar, p))
    if prob.meanstructure:
        delta = prob.ss.mean[g] - mu
        b = Si @ delta
        G = (D3 @ b) @ Si + Dm @ Si
        c = c + 0.5 * np.einsum("i,kij,j->k", b, D3, b) + Dm @ b
    S = prob.ss.cov[g]
    HM3G = H @ M3.T @ G.T
    Hm2c = np.outer(H @ m2, c)
    B0 = 0.25 * H @ M4 @ H.T + G @ S @ G.T + np.outer(c, c) + 0.5 * (HM3G + HM3G.T) \
        + 0.5 * (Hm2c + Hm2c.T)
    return B0


def h1_trace(prob: Problem, g: int) -> tuple[float, int]:
    """tr(A1^-1 B1) of the saturated model of group ``g`` from the data's moments.

    With ``u_i = Si z_i`` and ``vech(u u') = T vech(z z')``:
    ``B1 = 0.25 w w' * (T M4 T' - vech(Si) vech(Si)')`` (cov part), the mean part
    ``Si`` and the cross part ``0.5 w * (Si M3 T')``; ``A1 = 0.5 D'(Si x Si)D`` (+ ``Si``).
    """
    S = prob.ss.cov[g]
    p = S.shape[0]
    Si = prob.Sinv[g]
    rows, cols, M4, M3, m2 = prob.ss.fourth_moments(g)
    w = _vech_weights(rows, cols)
    K = 0.5 * (Si[np.ix_(rows, rows)] * Si[np.ix_(cols, cols)]
               + Si[np.ix_(rows, cols)] * Si[np.ix_(cols, rows)])
    T = K * w[None, :]
    A1 = 0.5 * np.outer(w, w) * K
    vSi = Si[rows, cols]
    B1 = 0.25 * np.outer(w, w) * (T @ M4 @ T.T - np.outer(vSi, vSi))
    x = set(prob.x_idx.tolist())
    keep = np.array([not (a in x and b in x) for a, b in zip(rows, cols)], dtype=bool)
    A1, B1 = A1[np.ix_(keep, keep)], B1[np.ix_(keep, keep)]
    if prob.meanstructure:
        mk = np.array([k for k in range(p) if k not in x], dtype=int)
        k0 = len(mk)
        nk = int(keep.sum())
        A = np.zeros((k0 + nk,) * 2)
        A[:k0, :k0] = Si[np.ix_(mk, mk)]
        A[k0:, k0:] = A1
        B = np.zeros_like(A)
        B[:k0, :k0] = (Si @ S @ Si)[np.ix_(mk, mk)]
        cross = (0.5 * w[None, :] * (Si @ M3 @ T.T))[np.ix_(mk, keep)]
        B[:k0, k0:] = cross
        B[k0:, :k0] = cross.T
        B[k0:, k0:] = B1
        A1, B1 = A, B
    return float(np.trace(np.linalg.solve(A1, B1))), A1.shape[0]


def h1_trace_direct(prob: Problem, g: int) -> tuple[float, int]:
    """tr(A1^-1 B1) of the saturated model of group ``g`` and its number of moments."""
    S = prob.ss.cov[g]
    p = S.shape[0]
    Si = prob.Sinv[g]
    X = prob.ss.data[g]
    Z = X - prob.ss.mean[g]
    U = Z @ Si
    il = np.tril_indices(p)
    keep = np.ones(len(il[0]), dtype=bool)
    x = set(prob.x_idx.tolist())
    if x:
        keep = np.array([not (a in x and b in x) for a, b in zip(*il)])
    rows, cols = il[0][keep], il[1][keep]
    w = np.where(rows == cols, 1.0, 2.0)
    # scores in vech coordinates: 0.5 * D' vec(u u' - Si); their mean is 0 at the
    # sample moments, so B1 = 0.25 w w' * (mean of (u_r u_c)(u_r' u_c') - Si_rc Si_r'c')
    P = U[:, rows] * U[:, cols]
    n = X.shape[0]
    sc = None
    B1c = 0.25 * np.outer(w, w) * (P.T @ P / n - np.outer(Si[rows, cols], Si[rows, cols]))
    # A1 = 0.5 D' (Si x Si) D in the same coordinates
    A1 = 0.5 * w[:, None] * w[None, :] * 0.5 * (Si[np.ix_(rows, rows)] * Si[np.ix_(cols, cols)]
                                                 + Si[np.ix_(rows, cols)] * Si[np.ix_(cols, rows)])
    if prob.meanstructure:
        mk = np.array([k for k in range(p) if k not in x], dtype=int)
        Um = U[:, mk]
        k0 = len(mk)
        A1m = np.zeros((k0 + len(rows),) * 2)
        A1m[:k0, :k0] = Si[np.ix_(mk, mk)]
        A1m[k0:, k0:] = A1
        A1 = A1m
        B1 = np.zeros_like(A1)
        B1[:k0, :k0] = Um.T @ Um / n
        cross = 0.5 * w[None, :] * (Um.T @ P / n)   # mean of u is 0: no centring term
        B1[:k0, k0:] = cross
        B1[k0:, :k0] = cross.T
        B1[k0:, k0:] = B1c
    else:
        B1 = B1c
    del sc
    return float(np.sum(np.linalg.solve(A1, B1).diagonal())), A1.shape[0]


def robust_parts(prob: Problem, theta: np.ndarray, A0: np.ndarray, df: float,
                 h1=None, A0inv=None) -> RobustParts:
    """Huber-White vcov and the Yuan-Bentler (Mplus) trace for a fitted problem.

    ``h1``: ``(trace_h1, h1_ndat)`` of an earlier call on the same data (the saturated
    model does not depend on the model), to avoid a second pass over the data.
    ``A0inv``: the inverted information to use (under general constraints lavaan's
    augmented inverse, :func:`.constraints.constrained_vcov` times N); default inv(A0).
    """
    if prob.ss.patterns is not None:
        return fiml_robust_parts(prob, theta, A0, df, h1, A0inv)
    A0inv = np.linalg.inv(A0) if A0inv is None else A0inv
    N = prob.ss.ntotal
    ng = len(prob.rep.groups)
    B0 = np.zeros_like(A0)
    th1 = np.zeros(ng)
    th0 = np.zeros(ng)
    ndat = np.zeros(ng)
    for g in range(ng):
        B0g = _model_B0(prob, theta, g)
        fg = prob.ss.nobs[g] / N
        B0 += fg * B0g
        th0[g] = fg * np.sum(B0g * A0inv.T)
        if h1 is None:
            th1[g], ndat[g] = h1_trace(prob, g)
        else:
            th1[g], ndat[g] = h1[0][g], h1[1][g]
    vcov = A0inv @ B0 @ A0inv / N
    return RobustParts(vcov, float(np.sum(th1 - th0)), th1, th0, ndat)


# ----------------------------------------------------------------------------- FIML (missing = "ml")
def _fiml_model_scores(prob: Problem, theta: np.ndarray, g: int) -> np.ndarray:
    """Casewise scores under FIML: each row uses its observed block ``o``::

        s_ik = 0.5 (u_o' D_k,oo u_o - tr(Sigma_oo^-1 D_k,oo)) + dmu_k,o' u_o
    """
    values = row_values(prob, theta)
    M = fill(prob.rep, g, values)
    parts = implied(M)
    Sigma, mu = parts[0], parts[1]
    dS, dm = jacobian(prob.rep, g, M, parts)
    Gagg = prob.agg[g]
    npar = Gagg.shape[0]
    p = Sigma.shape[0]
    D3 = (Gagg @ dS.reshape(len(dS), -1)).reshape(npar, p, p)
    Dm = Gagg @ dm
    out = []
    for pt in prob.ss.patterns[g]:
        o = pt.obs
        Si = np.linalg.inv(Sigma[np.ix_(o, o)])
        U = (pt.rows - mu[o]) @ Si
        Do = D3[:, o[:, None], o[None, :]]
        q = len(o)
        quad = (U[:, :, None] * U[:, None, :]).reshape(pt.n, q * q) @ Do.reshape(npar, -1).T
        tr = Do.reshape(npar, -1) @ Si.ravel()
        out.append(0.5 * (quad - tr[None, :]) + U @ Dm[:, o].T)
    return np.vstack(out)


def _T(X, Y, ri, ci, w):
    """T(X, Y)_ab = (w_a w_b / 4) (X_jk Y_li + X_jl Y_ki + X_ik Y_lj + X_il Y_kj), a=(i,j), b=(k,l):
    tr(E_a X E_b Y) for symmetric unit matrices of unique elements."""
    i, j = ri[:, None], ci[:, None]
    k, l = ri[None, :], ci[None, :]
    return (np.outer(w, w) / 4.0) * (X[j, k] * Y[l, i] + X[j, l] * Y[k, i]
                                     + X[i, k] * Y[l, j] + X[i, l] * Y[k, j])


def _Tb(X, Y, ri, ci, w, wt):
    """``sum_k wt_k T(X_k, Y_k)`` for stacked X, Y (K x p x p), see :func:`_T`."""
    i, j = ri[:, None], ci[:, None]
    k, l = ri[None, :], ci[None, :]
    S = (X[:, j, k] * Y[:, l, i] + X[:, j, l] * Y[:, k, i]
         + X[:, i, k] * Y[:, l, j] + X[:, i, l] * Y[:, k, j])
    return (np.outer(w, w) / 4.0) * np.tensordot(wt, S, axes=1)


def _fiml_h1_hessian(prob: Problem, g: int, Sigma0=None, mu0=None) -> np.ndarray:
    """Observed information (Hessian of -logl/n) of the saturated FIML model, analytic.

    Per pattern (weight n_p/n), with G = Sigma_oo^-1, M = C_p + d d', H = G M G,
    v = G d: mu-mu block G; mu-sigma_b block (w_b/2)(G_.k v_l + G_.l v_k);
    sigma-sigma block (-T(G, G) + T(G, H) + T(G, H)') / 2. All patterns at once, each
    block embedded in p x p with zeros for its missing variables (which then add 0).
    """
    from .estimate import _packed
    from .missing import packed_inverse
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    if Sigma0 is None:
        Sigma0, mu0 = prob.ss.cov[g], prob.ss.mean[g]
    n = prob.ss.nobs[g]
    pk = _packed(prob, g)
    G, _ = packed_inverse(pk, Sigma0)
    wt = pk.n / n
    d = (pk.mean - mu0[None, :]) * pk.obs
    Mx = pk.cov + d[:, :, None] * d[:, None, :]
    Hm = np.matmul(np.matmul(G, Mx), G)
    v = np.einsum("kab,kb->ka", G, d)
    w = np.where(rows == cols, 1.0, 2.0)
    TGH = _Tb(G, Hm, rows, cols, w, wt)
    ss_ = -0.5 * _Tb(G, G, rows, cols, w, wt) + 0.5 * (TGH + TGH.T)
    ms = (w / 2.0)[None, :] * np.tensordot(
        wt, G[:, :, rows] * v[:, None, cols] + G[:, :, cols] * v[:, None, rows], axes=1)
    Gs = np.tensordot(wt, G, axes=1)
    return np.block([[Gs, ms], [ms.T, ss_]])


def _fiml_h1_scores_and_hessian(prob: Problem, g: int):
    """Saturated FIML model at the EM estimates: casewise scores and observed information.

    Parameters are (mu, vech Sigma); the information is the analytic Hessian of
    ``-logl / n`` (:func:`_fiml_h1_hessian`); scores in the same coordinates.
    """
    from .estimate import _packed
    from .missing import packed_inverse
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    w = _vech_weights(rows, cols)
    Sigma0, mu0 = prob.ss.cov[g], prob.ss.mean[g]
    pats = prob.ss.patterns[g]
    H = _fiml_h1_hessian(prob, g)
    Si, _ = packed_inverse(_packed(prob, g), Sigma0)
    S_list = []
    for k, pt in enumerate(pats):
        o = pt.obs
        Y = np.zeros((pt.n, p))
        Y[:, o] = pt.rows - mu0[o]
        U = Y @ Si[k]                       # zeros for the missing variables
        sc = np.empty((pt.n, p + len(rows)))
        sc[:, :p] = U
        sc[:, p:] = 0.5 * w[None, :] * (U[:, rows] * U[:, cols] - Si[k][rows, cols][None, :])
        S_list.append(sc)
    S = np.vstack(S_list)
    return S, H


def fiml_robust_parts(prob: Problem, theta: np.ndarray, A0: np.ndarray, df: float,
                      h1=None, A0inv=None) -> RobustParts:
    """MLR under FIML: casewise scores per missingness pattern (lavaan MLR + missing = "ml")."""
    A0inv = np.linalg.inv(A0) if A0inv is None else A0inv
    N = prob.ss.ntotal
    ng = len(prob.rep.groups)
    B0 = np.zeros_like(A0)
    th1 = np.zeros(ng)
    th0 = np.zeros(ng)
    ndat = np.zeros(ng)
    for g in range(ng):
        s = _fiml_model_scores(prob, theta, g)
        B0g = s.T @ s / s.shape[0]
        fg = prob.ss.nobs[g] / N
        B0 += fg * B0g
        th0[g] = fg * np.sum(B0g * A0inv.T)
        if h1 is None:
            S1, A1 = _fiml_h1_scores_and_hessian(prob, g)
            B1 = S1.T @ S1 / S1.shape[0]
            th1[g] = float(np.trace(np.linalg.solve(A1, B1)))
            ndat[g] = A1.shape[0]
        else:
            th1[g], ndat[g] = h1[0][g], h1[1][g]
    vcov = A0inv @ B0 @ A0inv / N
    return RobustParts(vcov, float(np.sum(th1 - th0)), th1, th0, ndat)


def _fiml_delta(prob: Problem, theta: np.ndarray, g: int):
    """d(mu, vech Sigma)/dtheta (unique elements, lower triangle) for group g."""
    values = row_values(prob, theta)
    M = fill(prob.rep, g, values)
    parts = implied(M)
    dS, dm = jacobian(prob.rep, g, M, parts)
    Gagg = prob.agg[g]
    p = parts[0].shape[0]
    rows, cols = np.tril_indices(p)
    D3 = (Gagg @ dS.reshape(len(dS), -1)).reshape(-1, p, p)
    return np.hstack([Gagg @ dm, D3[:, rows, cols]]).T, parts[0], parts[1]


def _not_x_mask(p: int, x_idx) -> np.ndarray:
    """(mu, vech Sigma) coordinates that do not belong to the fixed.x covariates only
    (lavaan ``eliminate.pstar.idx(type = "all")``)."""
    x = set(np.asarray(x_idx, dtype=int).tolist())
    rows, cols = np.tril_indices(p)
    mean_keep = [j not in x for j in range(p)]
    cov_keep = [not (a in x and b in x) for a, b in zip(rows, cols)]
    return np.array(mean_keep + cov_keep, dtype=bool)


def _complete_h1_information(Sigma):
    """Complete-data (mu, vech Sigma) information at Sigma: blockdiag(Si, 0.5 D'(Si x Si)D)."""
    p = Sigma.shape[0]
    Si = np.linalg.inv(Sigma)
    rows, cols = np.tril_indices(p)
    w = _vech_weights(rows, cols)
    K = 0.5 * (Si[np.ix_(rows, rows)] * Si[np.ix_(cols, cols)]
               + Si[np.ix_(rows, cols)] * Si[np.ix_(cols, rows)])
    k = len(rows)
    A = np.zeros((p + k, p + k))
    A[:p, :p] = Si
    A[p:, p:] = 0.5 * np.outer(w, w) * K
    return A


def _ml_chisq_at(prob: Problem, Sigmas, mus) -> float:
    """Complete-data ML chi-square of implied moments against the h1 (EM) moments."""
    X2 = 0.0
    for g, (Sig, mu) in enumerate(zip(Sigmas, mus)):
        S = prob.ss.cov[g]
        m = prob.ss.mean[g]
        Si = np.linalg.inv(Sig)
        d = m - mu
        F = (np.linalg.slogdet(Sig)[1] + np.sum(S * Si) - np.linalg.slogdet(S)[1] - S.shape[0]
             + d @ Si @ d)
        X2 += prob.ss.nobs[g] * F
    return float(X2)


def _fiml_h1_expected(prob: Problem, g: int) -> np.ndarray:
    """Expected information of the saturated FIML model at the EM moments,
    (mu, vech Sigma) coordinates: pattern-weighted complete-data blocks."""
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    k = len(rows)
    Sigma = prob.ss.cov[g]
    n = prob.ss.nobs[g]
    A = np.zeros((p + k, p + k))
    for pt in prob.ss.patterns[g]:
        o = pt.obs
        Si = np.zeros((p, p))
        Si[np.ix_(o, o)] = np.linalg.inv(Sigma[np.ix_(o, o)])
        w = _vech_weights(rows, cols)
        K = 0.5 * (Si[np.ix_(rows, rows)] * Si[np.ix_(cols, cols)]
                   + Si[np.ix_(rows, cols)] * Si[np.ix_(cols, rows)])
        B = np.zeros_like(A)
        B[:p, :p] = Si
        B[p:, p:] = 0.5 * np.outer(w, w) * K
        A += (pt.n / n) * B
    return A


def fiml_corrected(prob: Problem, theta: np.ndarray, A0: np.ndarray, df: float,
                   bprob: Problem, btheta: np.ndarray, bA0: np.ndarray, dfb: float,
                   version: str = "V6", information: str = "observed"):
    """lavaan ``lav_fit_fiml_corrected``: corrected statistics for robust CFI/RMSEA under FIML.

    ``XX3`` is the complete-data ML chi-square of the FIML estimates against the EM
    (h1) moments; with ``Wm``/``Jm`` the observed/first-order information of the
    saturated FIML model, ``Wc`` the complete-data information at the h1 moments and
    ``U = Wm - Wm Delta E^-1 Delta' Wm``: ``c3 = tr(Wc Wm^-1 U Wm^-1) / df`` (V6, ML)
    or ``tr(U Wm^-1 Wc Wm^-1 U Gamma) / df`` with ``Gamma = Wm^-1 Jm Wm^-1`` (V3, MLR).
    As lavaan (which switches to ``h1.information = "unstructured"``,
    ``observed.information = "h1"`` here), ``E = Delta' W Delta`` with ``W`` the
    saturated model's observed (``Wm``) or expected information at the EM moments.
    Returns ``(XX3, c3, XX3_null, c3_null)``.
    """
    from scipy.linalg import block_diag
    N = prob.ss.ntotal
    ng = len(prob.rep.groups)
    # fixed.x: the covariates' means and (co)variances carry no information (lavaan's
    # x.idx: rows/columns zeroed, inverses taken on the rest)
    keep = _not_x_mask(len(prob.ss.ov), prob.x_idx)

    def z(M):
        M = M.copy()
        M[~keep, :] = 0.0
        M[:, ~keep] = 0.0
        return M

    # lavaan refits the model at the EM moments with lavaan() (fit.tilde), whose fixed.x
    # default is TRUE: the complete-data h1 information Wc drops the covariates' own
    # moments even when the model was fitted with fixed.x = FALSE
    ov = list(prob.ss.ov)
    keep_c = _not_x_mask(len(ov), [ov.index(v) for v in prob.pt.names.ov_x])

    def zc(M):
        M = M.copy()
        M[~keep_c, :] = 0.0
        M[:, ~keep_c] = 0.0
        return M

    def zinv(M):
        out = np.zeros_like(M)
        out[np.ix_(keep, keep)] = np.linalg.inv(M[np.ix_(keep, keep)])
        return out

    Wm_g, Wc_g, Wmi_g, Gam_g, D_g, Db_g = [], [], [], [], [], []
    Sig_m, mu_m, Sig_b, mu_b = [], [], [], []
    for g in range(ng):
        fg = prob.ss.nobs[g] / N
        S1, Wm = _fiml_h1_scores_and_hessian(prob, g)
        Wm = z(Wm)
        Jm = z(S1.T @ S1 / S1.shape[0])
        Wmi = zinv(Wm)
        Wc = zc(_complete_h1_information(prob.ss.cov[g]))
        Wm_g.append(fg * Wm)
        Wc_g.append(fg * Wc)
        Wmi_g.append(Wmi / fg)
        Gam_g.append(Wmi @ Jm @ Wmi / fg)
        D, Sg, mg = _fiml_delta(prob, theta, g)
        D_g.append(D)
        Sig_m.append(Sg)
        mu_m.append(mg)
        Db, Sb, mb = _fiml_delta(bprob, btheta, g)
        Db_g.append(Db)
        Sig_b.append(Sb)
        mu_b.append(mb)
    Wm_all, Wc_all, Wmi_all = block_diag(*Wm_g), block_diag(*Wc_g), block_diag(*Wmi_g)
    Gam_all = block_diag(*Gam_g)
    D_all, Db_all = np.vstack(D_g), np.vstack(Db_g)
    if information == "observed":
        Wi_all = Wm_all
    else:
        Wi_all = block_diag(*[(prob.ss.nobs[g] / N) * z(_fiml_h1_expected(prob, g))
                              for g in range(ng)])
    A0 = D_all.T @ Wi_all @ D_all
    bA0 = Db_all.T @ Wi_all @ Db_all

    def k_of(Delta, Ainv):
        U = Wm_all - Wm_all @ Delta @ Ainv @ Delta.T @ Wm_all
        if version == "V3":
            return float(np.trace(U @ Wmi_all @ Wc_all @ Wmi_all @ U @ Gam_all))
        return float(np.trace(Wc_all @ Wmi_all @ U @ Wmi_all))

    XX3 = _ml_chisq_at(prob, Sig_m, mu_m)
    c3 = k_of(D_all, np.linalg.inv(A0)) / df
    XX3b = _ml_chisq_at(prob, Sig_b, mu_b)
    c3b = k_of(Db_all, np.linalg.inv(bA0)) / dfb
    return XX3, c3, XX3b, c3b


def fiml_observed_information(prob: Problem, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Hessian of fmin under FIML, semi-analytic.

    ``H = sum_g w_g [Delta_g' H_g Delta_g + sum_m gr_gm d2 m / dtheta dtheta']`` with
    ``H_g`` the analytic Hessian of ``-logl_g/n_g`` in (mu, vech Sigma) at the implied
    moments and ``gr_g`` its gradient; the second-derivative term by Richardson
    differences of ``gr' Delta(theta)`` (no pass over the missingness patterns).
    """
    from .estimate import _fiml_F
    values = row_values(prob, theta)
    npar = len(theta)
    H = np.zeros((npar, npar))
    p = len(prob.ss.ov)
    rows, cols = np.tril_indices(p)
    w = _vech_weights(rows, cols)
    grads = []
    for g in range(len(prob.rep.groups)):
        wg = prob.weights[g]
        D, Sig, mu = _fiml_delta(prob, theta, g)
        Hg = _fiml_h1_hessian(prob, g, Sig, mu)
        H += wg * (D.T @ Hg @ D)
        _, W, r = _fiml_F(prob, g, Sig, mu, need_grad=True)
        grads.append(wg * np.concatenate([-r, 0.5 * w * W[rows, cols]]))

    def gD(x):
        out = np.zeros(npar)
        for g in range(len(prob.rep.groups)):
            D, _, _ = _fiml_delta(prob, x, g)
            out += grads[g] @ D
        return out

    for j in range(npar):
        cs = []
        for dlt in (-2, -1, 1, 2):
            x = theta.copy()
            x[j] += dlt * h
            cs.append(gD(x))
        H[:, j] += (cs[0] - 8 * cs[1] + 8 * cs[2] - cs[3]) / (12 * h)
    del values
    return 0.5 * (H + H.T)
