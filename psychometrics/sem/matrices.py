"""LISREL-style model matrices built from the parameter table.

Each group has ``Lambda`` (p x m), ``Theta`` (p x p), ``Psi`` (m x m),
``Beta`` (m x m), ``nu`` (p) and ``alpha`` (m). Observed variables that take
part in regressions (or covary with such variables) get a "dummy" latent
variable with a unit loading and zero residual variance, as in lavaan's
representation, so every regression lives in ``Beta``.

Implied moments::

    A     = (I - Beta)^-1
    Sigma = Lambda A Psi A' Lambda' + Theta
    mu    = nu + Lambda A alpha

:class:`Representation` maps each table row to ``(matrix, i, j)`` once;
:func:`implied` and :func:`jacobian` are the hot path of estimation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .partable import ParTable

__all__ = ["Representation", "GroupMatrices", "build_representation", "fill", "implied",
           "jacobian"]

LAMBDA, THETA, PSI, BETA, NU, ALPHA = range(6)
MATRIX_NAMES = ("lambda", "theta", "psi", "beta", "nu", "alpha")


@dataclass(frozen=True)
class GroupIndex:
    """Row -> matrix position for one group (arrays aligned with ``rows``)."""

    rows: np.ndarray      # positions in the parameter table
    mat: np.ndarray       # matrix code
    i: np.ndarray
    j: np.ndarray
    sel: tuple = ()       # per matrix code: positions (into rows) of that code


@dataclass(frozen=True)
class Representation:
    ov: tuple[str, ...]          # observed variables (order of Sigma)
    lat: tuple[str, ...]         # latent variables incl. dummies
    lv: tuple[str, ...]          # real latent variables
    dummy: tuple[str, ...]       # observed variables with a dummy latent
    groups: tuple[GroupIndex, ...]
    meanstructure: bool
    lambda_fixed: np.ndarray     # unit loadings of dummies (p x m)


@dataclass
class GroupMatrices:
    Lambda: np.ndarray
    Theta: np.ndarray
    Psi: np.ndarray
    Beta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray


def _dummy_ov(pt: ParTable) -> list[str]:
    lhs, op, rhs = pt.c("lhs"), pt.c("op"), pt.c("rhs")
    lv = set(pt.names.lv)
    ov = pt.names.ov
    dummy = set()
    for l, o, r in zip(lhs, op, rhs):
        if o in ("~", "<~"):
            for v in (l, r):
                if v not in lv:
                    dummy.add(v)
        elif o == "~~" and l != r and ((l in lv) != (r in lv)):
            dummy.add(l if l not in lv else r)
    # closure: a covariance between a dummy and a plain indicator makes both dummies
    cov = [(l, r) for l, o, r in zip(lhs, op, rhs) if o == "~~" and l != r
           and l not in lv and r not in lv]
    changed = True
    while changed:
        changed = False
        for a, b in cov:
            if (a in dummy) != (b in dummy):
                dummy.update((a, b))
                changed = True
    return [v for v in ov if v in dummy]


def build_representation(pt: ParTable) -> Representation:
    ov = list(pt.names.ov)
    lv = list(pt.names.lv)
    dummy = _dummy_ov(pt)
    lat = lv + dummy
    oi = {v: k for k, v in enumerate(ov)}
    li = {v: k for k, v in enumerate(lat)}
    dset = set(dummy)
    lvset = set(lv)
    p, m = len(ov), len(lat)
    lam_fixed = np.zeros((p, m))
    for d in dummy:
        lam_fixed[oi[d], li[d]] = 1.0
    groups = []
    L, O, R = pt.c("lhs"), pt.c("op"), pt.c("rhs")
    grp = np.asarray(pt.c("group"))
    for g in range(1, pt.ngroups + 1):
        idx = np.flatnonzero(grp == g)
        mats, ii, jj, keep = [], [], [], []
        for r in idx:
            lhs, op, rhs = L[r], O[r], R[r]
            if op == "=~":
                if rhs in lvset or rhs in dset:
                    mats.append(BETA); ii.append(li[rhs]); jj.append(li[lhs])
                else:
                    mats.append(LAMBDA); ii.append(oi[rhs]); jj.append(li[lhs])
            elif op in ("~", "<~"):     # '<~': the composite regressed on its indicators
                mats.append(BETA); ii.append(li[lhs]); jj.append(li[rhs])
            elif op == "~~":
                if lhs in li and rhs in li:
                    a, b = sorted((li[lhs], li[rhs]), reverse=True)
                    mats.append(PSI); ii.append(a); jj.append(b)
                else:
                    a, b = sorted((oi[lhs], oi[rhs]), reverse=True)
                    mats.append(THETA); ii.append(a); jj.append(b)
            elif op == "~1":
                if lhs in li:
                    mats.append(ALPHA); ii.append(li[lhs]); jj.append(0)
                else:
                    mats.append(NU); ii.append(oi[lhs]); jj.append(0)
            else:  # ':=' etc. have no matrix entry
                continue
            keep.append(r)
        mats_a = np.array(mats, dtype=int)
        sel = tuple(np.flatnonzero(mats_a == code) for code in range(6))
        groups.append(GroupIndex(np.array(keep, dtype=int), mats_a,
                                 np.array(ii, dtype=int), np.array(jj, dtype=int), sel))
    return Representation(tuple(ov), tuple(lat), tuple(lv), tuple(dummy), tuple(groups),
                          pt.meanstructure, lam_fixed)


def fill(rep: Representation, g: int, values: np.ndarray) -> GroupMatrices:
    """Matrices of group ``g`` (0-based) from the full row-value vector ``values``."""
    p, m = len(rep.ov), len(rep.lat)
    gi = rep.groups[g]
    v = values[gi.rows]
    dt = values.dtype
    Lam = rep.lambda_fixed.astype(dt)
    Th = np.zeros((p, p), dtype=dt)
    Ps = np.zeros((m, m), dtype=dt)
    Be = np.zeros((m, m), dtype=dt)
    nu = np.zeros(p, dtype=dt)
    al = np.zeros(m, dtype=dt)
    S = gi.sel
    for code, M in ((LAMBDA, Lam), (THETA, Th), (PSI, Ps), (BETA, Be)):
        k = S[code]
        if len(k):
            M[gi.i[k], gi.j[k]] = v[k]
            if code in (THETA, PSI):
                M[gi.j[k], gi.i[k]] = v[k]
    k = S[NU]
    if len(k):
        nu[gi.i[k]] = v[k]
    k = S[ALPHA]
    if len(k):
        al[gi.i[k]] = v[k]
    return GroupMatrices(Lam, Th, Ps, Be, nu, al)


def implied(M: GroupMatrices):
    """Implied covariance, mean, and helpers ``(Sigma, mu, A, L, C, Aalpha, Veta)``."""
    m = M.Psi.shape[0]
    if M.Beta.any():
        A = np.linalg.inv(np.eye(m) - M.Beta)
    else:
        A = np.eye(m)
    L = M.Lambda @ A
    Veta = A @ M.Psi @ A.T
    C = Veta @ M.Lambda.T
    Sigma = M.Lambda @ C + M.Theta
    Sigma = 0.5 * (Sigma + Sigma.T)
    Aal = A @ M.alpha
    mu = M.nu + L @ M.alpha
    return Sigma, mu, A, L, C, Aal, Veta


def jacobian(rep: Representation, g: int, M: GroupMatrices, parts=None):
    """Derivatives of Sigma (k x p x p) and mu (k x p) w.r.t. each row of group ``g``.

    Returns arrays aligned with ``rep.groups[g].rows``.

    Notes
    -----
    With ``A = (I-B)^-1``, ``L = Lambda A``, ``C = A Psi A' Lambda'``:
    dSigma/dLambda_ij = e_i C_j. + t, dSigma/dB_ij = L_.i C_j. + t,
    dSigma/dPsi_ij = L_.i L_.j' + t (i != j), dSigma/dTheta_ij = E_ij + E_ji;
    dmu/dnu_i = e_i, dmu/dalpha_i = L_.i, dmu/dLambda_ij = e_i (A alpha)_j,
    dmu/dB_ij = L_.i (A alpha)_j.
    """
    if parts is None:
        parts = implied(M)
    Sigma, mu, A, L, C, Aal, Veta = parts
    gi = rep.groups[g]
    k = len(gi.rows)
    p = Sigma.shape[0]
    dS = np.zeros((k, p, p))
    dm = np.zeros((k, p))
    mat, ii, jj = gi.mat, gi.i, gi.j
    r = np.arange(k)
    sel = mat == LAMBDA
    if sel.any():
        rs = r[sel]
        dS[rs, ii[sel], :] = C[jj[sel], :]
        dm[rs, ii[sel]] = Aal[jj[sel]]
    sel = mat == BETA
    if sel.any():
        rs = r[sel]
        dS[rs] = L[:, ii[sel]].T[:, :, None] * C[jj[sel], :][:, None, :]
        dm[rs] = L[:, ii[sel]].T * Aal[jj[sel]][:, None]
    sel = mat == PSI
    if sel.any():
        rs = r[sel]
        X = L[:, ii[sel]].T[:, :, None] * L[:, jj[sel]].T[:, None, :]
        diag = ii[sel] == jj[sel]
        X[diag] *= 0.5
        dS[rs] = X
    sel = mat == THETA
    if sel.any():
        rs = r[sel]
        dS[rs, ii[sel], jj[sel]] = np.where(ii[sel] == jj[sel], 0.5, 1.0)
    sel = (mat == LAMBDA) | (mat == BETA) | (mat == PSI) | (mat == THETA)
    dS[sel] = dS[sel] + dS[sel].transpose(0, 2, 1)
    sel = mat == NU
    if sel.any():
        dm[r[sel], ii[sel]] = 1.0
    sel = mat == ALPHA
    if sel.any():
        dm[r[sel]] = L[:, ii[sel]].T
    return dS, dm
