"""Two-level normal likelihood with missing values (full-information ML), vectorised per
missing pattern; equal to lavaan 0.6-14 ``lav_mvnorm_cluster_missing_loglik_samplestats_2l``.

Model (``u_j`` the cluster's random part over ``(z, y)``, covariance ``Sigma_B``)::

    z_j  = mu_z + u_zj                          (between-only variables, one value per cluster)
    y_ij = mu_y + u_yj + w_ij,  w_ij ~ N(0, Sigma_W)

Row ``i`` of cluster ``j`` observes the subset ``o_i`` of ``y``; the cluster observes the
subset ``s_j`` of ``z``. The cluster's -2 log-likelihood is computed by conditioning on the
observed ``z``: ``u_b | z_s ~ N(m_j, B_j)`` (``u_b`` the random intercepts of the split
variables, ``m_j = S_bz S_zz^-1 (z_s - mu_z)``, ``B_j = S_bb - S_bz S_zz^-1 S_zb``), then
integrating ``u_b`` out of the rows with the Woodbury identity, which never inverts
``B_j`` (so a between covariance matrix on the boundary is fine)::

    -2 logL_j = log|S_zz,ss| + d_z' S_zz,ss^-1 d_z
                + sum_i (log|W_oi| + e_i' W_oi^-1 e_i)
                + log|I + B_j A_j| - r_j' K_j r_j

with ``e_i = y_io - mu_o - m_jo``, ``A_j = sum_i P_i' W_oi^-1 P_i``,
``r_j = sum_i P_i' W_oi^-1 e_i`` and ``K_j = B_j (I + A_j B_j)^-1``. The gradient follows
from ``Omega_j^-1 = D^-1 - D^-1 Q K_j Q' D^-1``: with ``v_i = W_oi^-1 (e_i - K_j r_j)``,
``dF/dSigma_W = sum_i (W_i^-1 - W_i^-1 K_j W_i^-1 - v_i v_i')``,
``dF/dB_j = A_j - A_j K_j A_j - (r_j - A_j K_j r_j)(...)'``,
``dF/d mu_y = -2 sum_i v_i``, then chained through ``B_j`` and ``m_j`` to ``S_zz, S_bz,
mu_z``. All sums run per missing pattern (rows) and per z pattern (clusters), batched over
clusters.

Rows with no observed ``y`` keep the cluster's ``z``; rows with nothing observed are
dropped before (:func:`.twolevel.fit_twolevel` reports them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MissingClusterStats", "missing_cluster_stats", "minus2logl_missing", "constant_missing",
           "gradient_missing"]

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class MissingClusterStats:
    """Raw data of clustered rows with holes, grouped by missing pattern."""

    y: tuple[str, ...]
    z: tuple[str, ...]
    nobs: int
    nclusters: int
    cluster_ids: tuple
    cluster_size: np.ndarray      # rows per cluster (J)
    Y: np.ndarray                 # (N, py), NaN where missing; rows sorted by pattern
    Z: np.ndarray                 # (J, pz), NaN where missing
    codes: np.ndarray             # cluster of each row (N)
    both: np.ndarray              # indices (in y) of split variables
    pat: np.ndarray               # (P, py) observed masks of the row patterns
    row_pat: np.ndarray           # pattern of each row (N)
    njp: np.ndarray               # (J, P) rows of pattern p in cluster j
    zpat: np.ndarray              # (Pz, pz) observed masks of the z patterns
    clus_zpat: np.ndarray         # z pattern of each cluster (J)
    n_observed: int               # observed cells (y cells + z cells)
    Y0: np.ndarray = None         # Y with zeros for the holes
    obsf: np.ndarray = None       # (N, py) 1.0 where observed
    pat_rows: tuple = ()          # slice of the rows of each pattern (rows sorted by pattern)
    C: object = None              # sparse (J, N) cluster indicator: C @ X sums rows per cluster
    missing = True

    @property
    def py(self) -> int:
        return len(self.y)

    @property
    def pz(self) -> int:
        return len(self.z)

    @property
    def average_cluster_size(self) -> float:
        n = self.cluster_size.astype(float)
        return float((self.nobs - np.sum(n ** 2) / self.nobs) / (self.nclusters - 1))

    # complete-data statistics used by checks and fixed.x moments, from available values
    @property
    def cluster_means(self) -> np.ndarray:
        J = self.nclusters
        Y0 = np.where(np.isnan(self.Y), 0.0, self.Y)
        cnt = np.zeros((J, self.py))
        s = np.zeros((J, self.py))
        np.add.at(cnt, self.codes, ~np.isnan(self.Y))
        np.add.at(s, self.codes, Y0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = s / cnt
        return np.hstack([self.Z, m])

    @property
    def mean_total(self) -> np.ndarray:
        return np.nanmean(self.Y, axis=0)

    @property
    def S_total(self) -> np.ndarray:
        """Pairwise total covariance of y (divisor N), as lavaan's fixed.x moments."""
        import pandas as pd
        C = pd.DataFrame(self.Y).cov(min_periods=1).to_numpy()
        return C * (self.nobs - 1) / self.nobs

    @property
    def cov_z(self) -> np.ndarray:
        import pandas as pd
        C = pd.DataFrame(self.Z).cov(min_periods=1).to_numpy()
        return C * (self.nclusters - 1) / self.nclusters


def missing_cluster_stats(Y: np.ndarray, Z: np.ndarray, codes: np.ndarray, y_names, z_names,
                          cluster_ids, within_only: np.ndarray) -> MissingClusterStats:
    """Group rows by missing pattern. ``Z`` is (J, pz): one value per cluster (NaN if
    missing)."""
    N, py = Y.shape
    J = int(codes.max()) + 1
    obs = ~np.isnan(Y)
    pat, row_pat = np.unique(obs, axis=0, return_inverse=True)
    row_pat = np.asarray(row_pat).reshape(-1)
    # rows sorted by pattern: every pattern is one contiguous block (no gathers per call)
    order = np.argsort(row_pat, kind="stable")
    Y, codes, row_pat, obs = Y[order], np.asarray(codes)[order], row_pat[order], obs[order]
    P = pat.shape[0]
    njp = np.zeros((J, P))
    np.add.at(njp, (codes, row_pat), 1.0)
    zobs = ~np.isnan(Z) if Z.shape[1] else np.ones((J, 0), dtype=bool)
    if Z.shape[1]:
        zpat, cz = np.unique(zobs, axis=0, return_inverse=True)
        cz = np.asarray(cz).reshape(-1)
    else:
        zpat, cz = np.ones((1, 0), dtype=bool), np.zeros(J, dtype=int)
    both = np.flatnonzero(~np.asarray(within_only, dtype=bool))
    from scipy import sparse
    C = sparse.csr_matrix((np.ones(N), (codes, np.arange(N))), shape=(J, N))
    bounds = np.searchsorted(row_pat, np.arange(P + 1))
    pat_rows = tuple(slice(int(bounds[p]), int(bounds[p + 1])) for p in range(P))
    return MissingClusterStats(tuple(y_names), tuple(z_names), N, J, tuple(cluster_ids),
                               np.bincount(codes, minlength=J), Y, Z, codes, both, pat,
                               row_pat, njp, zpat, cz, int(obs.sum() + zobs.sum()),
                               np.where(obs, Y, 0.0), obs.astype(float), pat_rows, C)


def constant_missing(ms: MissingClusterStats) -> float:
    return ms.n_observed * LOG2PI


def _pattern_inverses(sigma_w, pat):
    """Embedded inverses ``P' W_oo^-1 P`` (P, py, py) and log-determinants of each row
    pattern, all patterns at once: ``W`` with the missing rows/columns replaced by the
    identity has inverse ``blockdiag(W_oo^-1, I)`` and determinant ``|W_oo|``. None if some
    ``W_oo`` is not positive definite."""
    m = pat.astype(float)
    Wb = sigma_w[None] * (m[:, :, None] * m[:, None, :])
    idx = np.arange(pat.shape[1])
    Wb[:, idx, idx] += 1.0 - m
    try:
        L = np.linalg.cholesky(Wb)
    except np.linalg.LinAlgError:
        return None, None
    ld = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
    Li = np.linalg.inv(L)
    Wi = np.swapaxes(Li, 1, 2) @ Li
    Wi *= m[:, :, None] * m[:, None, :]
    return Wi, ld


def _core(ms: MissingClusterStats, sigma_w, sigma_b, mu, need_grad: bool,
          per_cluster: bool = False):
    py, pz = ms.py, ms.pz
    b = ms.both
    bq = pz + b                      # positions of split variables in (z, y)
    Wi, ldw = _pattern_inverses(sigma_w, ms.pat)
    if Wi is None:
        return None
    J = ms.nclusters
    Szz = sigma_b[:pz, :pz]
    Sbz = sigma_b[np.ix_(bq, np.arange(pz))]
    Sbb = sigma_b[np.ix_(bq, bq)]
    mu_z = mu[:pz]
    mu_y = mu[pz:]
    pb = len(b)
    # ---- z part, per z pattern
    m = np.zeros((J, pb))           # conditional means of u_b
    Bz = np.zeros((len(ms.zpat), pb, pb))
    Fz = 0.0
    zinfo = []
    for s, mask in enumerate(ms.zpat):
        cl = np.flatnonzero(ms.clus_zpat == s)
        o = np.flatnonzero(mask)
        if len(o):
            try:
                L = np.linalg.cholesky(Szz[np.ix_(o, o)])
            except np.linalg.LinAlgError:
                return None
            Li = np.linalg.inv(L)
            Szi = Li.T @ Li
            dz = ms.Z[np.ix_(cl, o)] - mu_z[o]
            gz = dz @ Szi                                   # (n_s, |o|)
            Fz += len(cl) * 2.0 * np.sum(np.log(np.diag(L))) + np.sum(gz * dz)
            C = Sbz[:, o]
            CSzi = C @ Szi
            Bz[s] = Sbb - CSzi @ C.T
            m[cl] = gz @ C.T
            zinfo.append((cl, o, Szi, CSzi, dz, gz))
        else:
            Bz[s] = Sbb
            zinfo.append((cl, o, None, None, None, None))
    # ---- rows
    mfull = np.zeros((J, py))
    mfull[:, b] = m
    E = (ms.Y0 - mu_y - mfull[ms.codes]) * ms.obsf
    PW = np.empty_like(E)
    for p, sl in enumerate(ms.pat_rows):
        PW[sl] = E[sl] @ Wi[p]
    quad = np.sum(PW * E)
    ldW = float(ms.njp.sum(axis=0) @ ldw)
    R = ms.C @ PW
    Afull = (ms.njp @ Wi.reshape(len(Wi), -1)).reshape(J, py, py)
    A = Afull[:, b][:, :, b]
    r = R[:, b]
    Bj = Bz[ms.clus_zpat]                                    # (J, pb, pb)
    I = np.eye(pb)
    M = I[None] + Bj @ A                                     # I + B A (det = |I + A B|)
    sign, ld = np.linalg.slogdet(M)
    if np.any(sign <= 0):
        return None
    # K = (I + B A)^-1 B = B (I + A B)^-1  (symmetric)
    K = np.linalg.solve(M, Bj)
    h = np.matmul(K, r[:, :, None])[:, :, 0]
    F = float(Fz + ldW + quad + np.sum(ld) - np.sum(r * h))
    if not need_grad:
        return F
    # ---- gradient w.r.t. Sigma_W, B_j, the y means
    hfull = np.zeros((J, py))
    hfull[:, b] = h
    Hr = hfull[ms.codes]
    V = PW.copy()
    for p, sl in enumerate(ms.pat_rows):
        V[sl] -= Hr[sl] @ Wi[p]
    if pb == py:
        Kfull = K
    else:
        Kfull = np.zeros((J, py, py))
        Kfull[:, b[:, None], b[None, :]] = K
    if per_cluster:
        WKW = np.einsum("jp,pab,jbc,pcd->jad", ms.njp, Wi, Kfull, Wi, optimize=True)
        VV = np.zeros((J, py, py))
        np.add.at(VV, ms.codes, V[:, :, None] * V[:, None, :])
        gW = Afull - WKW - VV                                  # (J, py, py)
    else:
        Kp = (ms.njp.T @ Kfull.reshape(J, -1)).reshape(-1, py, py)
        gW = Afull.sum(axis=0) - (Wi @ Kp @ Wi).sum(axis=0) - V.T @ V
    AK = A @ K
    t = r - np.matmul(A, h[:, :, None])[:, :, 0]                    # r - A K r
    gBj = A - AK @ A - t[:, :, None] * t[:, None, :]         # (J, pb, pb)
    Vsum = ms.C @ V
    gmy_j = -2.0 * Vsum                                      # (J, py), dF/d(mu_y + m_j)
    gm_j = gmy_j[:, b]
    q = py + pz
    shape = (J, q, q) if per_cluster else (q, q)
    gSB = np.zeros(shape)
    gmu = np.zeros((J, q) if per_cluster else q)
    if per_cluster:
        gSB[np.ix_(np.arange(J), bq, bq)] = gBj
        gmu[:, pz:] = gmy_j
    else:
        gSB[np.ix_(bq, bq)] = gBj.sum(axis=0)
        gmu[pz:] = gmy_j.sum(axis=0)
    for cl, o, Szi, CSzi, dz, gz in zinfo:
        if len(o) == 0 or len(cl) == 0:
            continue
        oz = o
        gB_c = gBj[cl]                                        # (n, pb, pb)
        gm_c = gm_j[cl]                                       # (n, pb)
        # dF/dC (C = S_bz[:, o]): -2 gB C Szi + gm (Szi d)'
        dC = -2.0 * gB_c @ CSzi[None] + gm_c[:, :, None] * gz[:, None, :]
        # dF/dS_zz,oo: Szi C' gB C Szi - sym((Szi C' gm)(Szi d)') + Szi - Szi d d' Szi
        CtgmS = gm_c @ CSzi                                   # (n, |o|) = (Szi C' gm)'
        cross = CtgmS[:, :, None] * gz[:, None, :]
        dS = (np.swapaxes(CSzi, 0, 1)[None] @ gB_c @ CSzi[None]
              - 0.5 * (cross + np.swapaxes(cross, 1, 2))
              + Szi[None] - gz[:, :, None] * gz[:, None, :])
        dmz = -2.0 * gz - CtgmS                               # (n, |o|)
        if per_cluster:
            gSB[np.ix_(cl, bq, oz)] += 0.5 * dC
            gSB[np.ix_(cl, oz, bq)] += 0.5 * np.swapaxes(dC, 1, 2)
            gSB[np.ix_(cl, oz, oz)] += dS
            gmu[np.ix_(cl, oz)] += dmz
        else:
            dCs = dC.sum(axis=0)
            gSB[np.ix_(bq, oz)] += 0.5 * dCs
            gSB[np.ix_(oz, bq)] += 0.5 * dCs.T
            gSB[np.ix_(oz, oz)] += dS.sum(axis=0)
            gmu[oz] += dmz.sum(axis=0)
    if per_cluster:
        gW = 0.5 * (gW + np.swapaxes(gW, 1, 2))
        gSB = 0.5 * (gSB + np.swapaxes(gSB, 1, 2))
        return F, gW, gSB, gmu
    return F, 0.5 * (gW + gW.T), 0.5 * (gSB + gSB.T), gmu


def minus2logl_missing(ms: MissingClusterStats, sigma_w, sigma_b, mu) -> float:
    """-2 logL without the constant (inf where a covariance matrix is not PD)."""
    out = _core(ms, sigma_w, sigma_b, mu, need_grad=False)
    return np.inf if out is None else out


def gradient_missing(ms: MissingClusterStats, sigma_w, sigma_b, mu, per_cluster=False):
    """-2 logL and its derivatives w.r.t. ``sigma_w`` (py x py), ``sigma_b`` and ``mu`` over
    ``(z, y)``, as unconstrained symmetric matrices (the convention of
    :func:`.twolevel_stats.gradient_moments`). ``per_cluster=True``: the derivatives of
    every cluster's -2 logL (leading axis J), for robust standard errors."""
    out = _core(ms, sigma_w, sigma_b, mu, need_grad=True, per_cluster=per_cluster)
    if out is None:
        return np.inf, None, None, None
    return out
