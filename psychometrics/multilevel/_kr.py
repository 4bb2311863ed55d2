"""Kenward-Roger adjusted covariance of the fixed effects and denominator df.

Follows pbkrtest's ``vcovAdj`` / ``Lb_ddf`` (Kenward & Roger, 1997; Halekoh &
Hojsgaard, 2014) with the covariance linear in its parameters
``Sigma = sum_r gamma_r G_r``: one ``G_r = Z E_r Z'`` per unique element of
each random-effects covariance block plus ``G = I`` for the residual.

Everything reduces to per-group small matrices. With ``V_i = I + Z_i D Z_i'``
(Sigma_i = sigma^2 V_i), ``K_i = T(I + T'M_iT)^{-1}T'`` and ``R_i = I - M_i K_i``:
``Z'V^-1 = R Z'``, ``Z'V^-1Z = R M``, ``Z'V^-1X = R ZX``, ``Z'V^-2Z = R M R'``,
``Z'V^-2X = R R ZX``, ``X'V^-2X = X'X - 2 ZX'K ZX + ZX'KMK ZX``,
``X'V^-3X = X'V^-2X - B'KB`` and ``tr V^-2 = n_i - 2 tr(KM) + tr(KMKM)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["kr_pieces", "kr_ddf"]


def _bmm(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = np.einsum("gij,gjk->gik", out, m)
    return out


def kr_pieces(core, theta, sigma, blocks, tpos):
    """Adjusted vcov ``PhiA`` (p x p), the P list and W matrix (pbkrtest attributes)."""
    T = core.T_of(theta)
    q, p, G = core.q, core.p, core.G
    M = np.ascontiguousarray(core.M.transpose(2, 0, 1))        # (G,q,q)
    ZX = np.ascontiguousarray(core.ZX.transpose(1, 0, 2))      # (G,q,p)
    A = np.einsum("ji,gjk,kl->gil", T, M, T)
    A[:, range(q), range(q)] += 1.0
    K = np.einsum("ij,gjk,lk->gil", T, np.linalg.inv(A), T)
    I = np.eye(q)
    R = I[None] - _bmm(M, K)
    W1 = _bmm(R, M)                                             # Z'V^-1 Z
    B = _bmm(R, ZX)                                             # Z'V^-1 X
    W2 = _bmm(R, M, R.transpose(0, 2, 1))                       # Z'V^-2 Z
    C2 = _bmm(R, B)                                             # Z'V^-2 X
    KZX = _bmm(K, ZX)
    XV2X = core.XtX - 2 * np.einsum("gqi,gqj->ij", ZX, KZX) \
        + np.einsum("gqi,gqr,grj->ij", KZX, M, KZX)
    XV3X = XV2X - np.einsum("gqi,gqr,grj->ij", B, K, B)
    KM = _bmm(K, M)
    trV2 = float(core.n - 2 * np.einsum("gii->", KM) + np.einsum("gij,gji->", KM, KM))
    s2 = sigma ** 2
    C = core.XtX - np.einsum("gqi,gqj->ij", ZX, KZX)
    Phi = s2 * np.linalg.inv(C)
    # E_r patterns: unique elements of each covariance block (lower triangle, column-major)
    Es = []
    for blk in blocks:
        for ci, c in enumerate(blk):
            for r in blk[ci:]:
                E = np.zeros((q, q))
                E[r, c] = E[c, r] = 1.0
                Es.append(E)
    nr = len(Es)
    ng = nr + 1
    P = []
    for E in Es:
        P.append(-np.einsum("gqi,qr,grj->ij", B, E, B) / s2 ** 2)
    P.append(-XV2X / s2 ** 2)
    Q = {}
    Kt = np.empty((ng, ng))
    for a in range(ng):
        for b in range(a, ng):
            if a < nr and b < nr:
                Q[a, b] = np.einsum("gqi,qr,grs,st,gtj->ij", B, Es[a], W1, Es[b], B) / s2 ** 3
                Kt[a, b] = np.einsum("ij,gjk,kl,gli->", Es[a], W1, Es[b], W1) / s2 ** 2
            elif a < nr:          # b is the residual
                Q[a, b] = np.einsum("gqi,qr,grj->ij", B, Es[a], C2) / s2 ** 3
                Kt[a, b] = np.einsum("ij,gji->", Es[a], W2) / s2 ** 2
            else:
                Q[a, b] = XV3X / s2 ** 3
                Kt[a, b] = trV2 / s2 ** 2
            Kt[b, a] = Kt[a, b]
    return _kr_finish(P, Q, Kt, Phi, ng, p)


def _kr_finish(P, Q, Kt, Phi, ng, p):
    """pbkrtest's ``vcovAdj`` from the pieces P_r, Q_rs and K_rs = tr(S^-1 G_r S^-1 G_s)."""
    IE2 = np.empty((ng, ng))
    for a in range(ng):
        for b in range(a, ng):
            IE2[a, b] = IE2[b, a] = Kt[a, b] - 2 * np.sum(Phi * Q[a, b]) \
                + np.sum((Phi @ P[a]) * (P[b] @ Phi))
    ev = np.linalg.eigvalsh(IE2)
    Wm = 2 * (np.linalg.inv(IE2) if np.min(np.abs(ev)) > 1e-10 else np.linalg.pinv(IE2))
    UU = np.zeros((p, p))
    for a in range(ng - 1):
        for b in range(a + 1, ng):
            UU += Wm[a, b] * (Q[a, b] - P[a] @ Phi @ P[b])
    UU = UU + UU.T
    for a in range(ng):
        UU += Wm[a, a] * (Q[a, a] - P[a] @ Phi @ P[a])
    PhiA = Phi + 2 * Phi @ UU @ Phi
    return {"PhiA": PhiA, "P": P, "W": Wm, "Phi": Phi}


def _div0(x, y, tol=1e-14):
    return 1.0 if (abs(x) < tol and abs(y) < tol) else x / y


def kr_test(L, beta, V0, pieces):
    """pbkrtest ``.KR_adjust`` / ``Lb_ddf`` for the hypothesis ``L beta = 0``.

    Returns a dict with ``ddf`` (KR denominator df), ``f_scaling``, ``f_unscaled``
    (Wald statistic with the adjusted covariance divided by q) and ``q``.
    """
    L = np.atleast_2d(np.asarray(L, dtype=float))
    Theta = L.T @ np.linalg.solve(L @ V0 @ L.T, L)
    P, W = pieces["P"], pieces["W"]
    A1 = A2 = 0.0
    TV0 = Theta @ V0
    n = len(P)
    us = [TV0 @ P[i] @ V0 for i in range(n)]
    for i in range(n):
        for j in range(i, n):
            e = 1.0 if i == j else 2.0
            A1 += e * W[i, j] * np.trace(us[i]) * np.trace(us[j])
            A2 += e * W[i, j] * np.sum(us[i] * us[j].T)
    q = int(np.linalg.matrix_rank(L))
    Bq = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    den = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
    v0 = 1 + c1 * Bq
    v1 = 1 - c2 * Bq
    v2 = 1 - c3 * Bq
    v0 = 0.0 if abs(v0) < 1e-10 else v0
    rho = (1 / q) * _div0(1 - A2 / q, v1) ** 2 * v0 / v2
    df2 = 4 + (q + 2) / (q * rho - 1)
    fscale = 1.0 if abs(df2 - 2) < 1e-2 else df2 * (1 - A2 / q) / (df2 - 2)
    Lb = L @ np.asarray(beta, dtype=float)
    wald = float(Lb @ np.linalg.solve(L @ pieces["PhiA"] @ L.T, Lb))
    return {"ddf": float(df2), "f_scaling": float(fscale), "f_unscaled": wald / q, "q": q}


def kr_ddf(L, V0, pieces):
    """pbkrtest ``Lb_ddf``: KR denominator df for the hypothesis ``L beta = 0``."""
    L = np.atleast_2d(np.asarray(L, dtype=float))
    return kr_test(L, np.zeros(L.shape[1]), V0, pieces)["ddf"]


#: largest number of rows for the dense Kenward-Roger computation (several grouping factors)
KR_DENSE_MAX = 4000


def kr_pieces_dense(X, Zt_list, theta_blocks, sigma):
    """pbkrtest ``vcovAdj`` with dense n x n matrices, for several grouping factors.

    ``Zt_list``: per random-effects term its n x (G q) sparse design (level-major, q effects per
    level); ``theta_blocks``: per term its q x q relative covariance factor T. The covariance is
    ``Sigma = sum_r gamma_r G_r``: ``G_r = Z_t (I_G (x) E_r) Z_t'`` for each unique element r of
    each term's covariance and ``G = I`` for the residual (pbkrtest's parametrisation).
    """
    n, p = X.shape
    s2 = sigma ** 2
    Sigma = s2 * np.eye(n)
    Gs = []
    for Zt, T in zip(Zt_list, theta_blocks):
        q = T.shape[0]
        Zd = np.asarray(Zt.todense()) if hasattr(Zt, "todense") else np.asarray(Zt)
        Gl = Zd.shape[1] // q
        Zr = Zd.reshape(n, Gl, q)
        D = s2 * T @ T.T
        Sigma += np.einsum("ngq,qr,mgr->nm", Zr, D, Zr)
        for c in range(q):
            for r in range(c, q):
                E = np.zeros((q, q))
                E[r, c] = E[c, r] = 1.0
                Gs.append(np.einsum("ngq,qr,mgr->nm", Zr, E, Zr))
    Gs.append(np.eye(n))
    Si = np.linalg.inv(Sigma)
    SiX = Si @ X
    Phi = np.linalg.inv(X.T @ SiX)
    ng = len(Gs)
    SG = [Si @ G for G in Gs]                     # S^-1 G_r
    P = [-(SiX.T @ G @ SiX) for G in Gs]
    Q, Kt = {}, np.empty((ng, ng))
    for a in range(ng):
        GaSiX = Gs[a] @ SiX
        for b in range(a, ng):
            Q[a, b] = GaSiX.T @ SG[b] @ SiX      # X'S^-1 G_a S^-1 G_b S^-1 X
            Kt[a, b] = Kt[b, a] = float(np.sum(SG[a] * SG[b].T))
    return _kr_finish(P, Q, Kt, Phi, ng, p)
