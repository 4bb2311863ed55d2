"""Two-level normal likelihood on cluster-size sufficient statistics (lavaan ``lav_mvnorm_cluster``).

Variables: ``y`` = level-1 variables (within-only and "both"), ``z`` = between-only
(cluster-level) variables. For a cluster ``j`` of size ``n`` with cluster means
``b_j = (z_j, ybar_j)`` the data split into independent parts:

* within deviations ``y_ij - ybar_j``: ``(n - 1)`` draws from ``N(0, Sigma_W)``;
* cluster means ``b_j ~ N(mu, V_n)``, ``V_n = Sigma_B + blockdiag(0_z, Sigma_W / n)``.

Hence (without the constant) ::

    -2 logL = (N - J) [log|Sigma_W| + tr(Sigma_W^-1 S_PW)]
              + sum_n ns_n [log|V_n| + p_y log n + tr(V_n^-1 (C_n + (m_n - mu)(m_n - mu)'))]

with ``S_PW`` the pooled within covariance (divisor ``N - J``) and, for the ``ns_n``
clusters of size ``n``, ``m_n`` / ``C_n`` the mean / covariance (divisor ``ns_n``) of
their cluster means. Everything works on these statistics, so the cost per
evaluation scales with the number of distinct cluster sizes, not with N.
``log|V_n| + p_y log n = log|Sigma_zz| + log|n Sigma_B.z + Sigma_W|`` is lavaan's
``L[clz]``; the likelihoods are identical.

The saturated (h1) model is fitted with lavaan's EM algorithm
(``lav_mvnorm_cluster_em_sat``: start at identity matrices and zero means, stop when
the log-likelihood gains less than 1e-4), reproduced step by step so that the
unrestricted log-likelihood, chi-square and SRMR equal lavaan's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ClusterStats", "cluster_stats", "minus2logl", "gradient_moments", "em_saturated",
           "H1"]

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class ClusterStats:
    """Sufficient statistics of clustered data, grouped by distinct cluster size."""

    y: tuple[str, ...]           # level-1 variables (within-only and both)
    z: tuple[str, ...]           # between-only variables
    nobs: int                    # N
    nclusters: int               # J
    cluster_ids: tuple           # cluster labels in order of first appearance
    cluster_size: np.ndarray     # per cluster (J)
    sizes: np.ndarray            # distinct sizes (K), ascending
    ns: np.ndarray               # clusters per size (K)
    mean_d: np.ndarray           # (K, q) mean of cluster means (z first, then y)
    cov_d: np.ndarray            # (K, q, q) covariance of cluster means (divisor ns)
    S_PW: np.ndarray             # pooled within covariance of y (divisor N - J)
    Y1Y1: np.ndarray             # raw crossproduct of y (N rows)
    S_total: np.ndarray          # total covariance of y (divisor N)
    mean_total: np.ndarray       # grand mean of y
    cov_z: np.ndarray            # covariance of z over clusters (divisor J)
    mean_z: np.ndarray
    cluster_means: np.ndarray    # (J, q) cluster means (z first, then y)

    @property
    def py(self) -> int:
        return len(self.y)

    @property
    def pz(self) -> int:
        return len(self.z)

    @property
    def average_cluster_size(self) -> float:
        """lavaan ``average.cluster.size``: ``(N - sum n_j^2 / N) / (J - 1)``."""
        n = self.cluster_size.astype(float)
        return float((self.nobs - np.sum(n ** 2) / self.nobs) / (self.nclusters - 1))


def cluster_stats(Y: np.ndarray, Z: np.ndarray, codes: np.ndarray, y_names, z_names,
                  cluster_ids) -> ClusterStats:
    """Sufficient statistics from level-1 data ``Y`` (N x py), cluster data ``Z`` (N x pz)
    and 0-based cluster codes (J clusters, codes in order of first appearance)."""
    N = Y.shape[0]
    J = int(codes.max()) + 1
    csize = np.bincount(codes, minlength=J)
    X = np.hstack([Z, Y])
    sums = np.zeros((J, X.shape[1]))
    np.add.at(sums, codes, X)
    means = sums / csize[:, None]                       # (J, q): z first, then ybar
    Ydev = Y - means[codes][:, Z.shape[1]:]
    S_PW = Ydev.T @ Ydev / (N - J)
    sizes, inv = np.unique(csize, return_inverse=True)
    K = len(sizes)
    q = X.shape[1]
    ns = np.bincount(inv, minlength=K)
    mean_d = np.zeros((K, q))
    cov_d = np.zeros((K, q, q))
    for k in range(K):
        B = means[inv == k]
        mean_d[k] = B.mean(axis=0)
        D = B - mean_d[k]
        cov_d[k] = D.T @ D / ns[k]
    Zc = means[:, :Z.shape[1]]
    mz = Zc.mean(axis=0)
    Dz = Zc - mz
    ym = Y.mean(axis=0)
    Yc = Y - ym
    return ClusterStats(tuple(y_names), tuple(z_names), N, J, tuple(cluster_ids), csize, sizes,
                        ns, mean_d, cov_d, S_PW, Y.T @ Y, Yc.T @ Yc / N, ym, Dz.T @ Dz / J, mz,
                        means)


def _inv_logdet(M):
    """Inverse and log-determinant of a (batch of) symmetric matrices; None if not PD."""
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return None, None
    logdet = 2.0 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    Li = np.linalg.inv(L)
    return np.swapaxes(Li, -1, -2) @ Li, logdet


def _V(cs: ClusterStats, sigma_w, sigma_b):
    """``V_n`` for every distinct size: (K, q, q)."""
    pz = cs.pz
    V = np.repeat(sigma_b[None], len(cs.sizes), axis=0)
    V[:, pz:, pz:] += sigma_w[None] / cs.sizes[:, None, None]
    return V


def constant(cs: ClusterStats) -> float:
    """``P log(2 pi)`` with ``P = N p_y + J p_z`` (lavaan's constant, times -2); with
    missing values ``P`` counts the observed cells."""
    if getattr(cs, "missing", False):
        return cs.n_observed * LOG2PI
    return (cs.nobs * cs.py + cs.nclusters * cs.pz) * LOG2PI


def minus2logl(cs: ClusterStats, sigma_w, sigma_b, mu) -> float:
    """-2 logL without the constant; ``sigma_b``/``mu`` over ``(z, y)`` (q), ``sigma_w`` over y.

    Returns inf when a covariance matrix is not positive definite.
    """
    return _minus2logl_vinv(cs, sigma_w, sigma_b, mu)[0]


def _minus2logl_vinv(cs: ClusterStats, sigma_w, sigma_b, mu):
    """-2 logL (no constant) and the inverses ``V_n^-1`` (reused by the EM's next E-step)."""
    Wi, ldw = _inv_logdet(sigma_w)
    if Wi is None:
        return np.inf, None
    Vi, ldv = _inv_logdet(_V(cs, sigma_w, sigma_b))
    if Vi is None:
        return np.inf, None
    d = cs.mean_d - mu
    C = cs.cov_d + d[:, :, None] * d[:, None, :]
    tr = np.einsum("kij,kji->k", Vi, C)
    between = np.sum(cs.ns * (ldv + cs.py * np.log(cs.sizes) + tr))
    within = (cs.nobs - cs.nclusters) * (ldw + np.sum(Wi * cs.S_PW))
    return float(between + within), Vi


def gradient_moments(cs: ClusterStats, sigma_w, sigma_b, mu):
    """-2 logL and its derivatives w.r.t. ``sigma_w``, ``sigma_b`` (as unconstrained
    matrices: ``dF/dSigma = G``, symmetric) and ``mu``.

    ``G_n = ns_n (V_n^-1 - V_n^-1 C~_n V_n^-1)``; ``dF/dSigma_B = sum_n G_n``,
    ``dF/dSigma_W = sum_n G_n[yy] / n + (N - J)(W^-1 - W^-1 S_PW W^-1)``,
    ``dF/dmu = -2 sum_n ns_n V_n^-1 (m_n - mu)``.
    """
    Wi, ldw = _inv_logdet(sigma_w)
    if Wi is None:
        return np.inf, None, None, None
    Vi, ldv = _inv_logdet(_V(cs, sigma_w, sigma_b))
    if Vi is None:
        return np.inf, None, None, None
    d = cs.mean_d - mu
    C = cs.cov_d + d[:, :, None] * d[:, None, :]
    tr = np.einsum("kij,kji->k", Vi, C)
    nw = cs.nobs - cs.nclusters
    f = float(np.sum(cs.ns * (ldv + cs.py * np.log(cs.sizes) + tr))
              + nw * (ldw + np.sum(Wi * cs.S_PW)))
    G = cs.ns[:, None, None] * (Vi - Vi @ C @ Vi)
    gB = G.sum(axis=0)
    pz = cs.pz
    gW = np.sum(G[:, pz:, pz:] / cs.sizes[:, None, None], axis=0) \
        + nw * (Wi - Wi @ cs.S_PW @ Wi)
    gmu = -2.0 * np.einsum("k,kij,kj->i", cs.ns, Vi, d)
    return f, 0.5 * (gW + gW.T), 0.5 * (gB + gB.T), gmu


@dataclass(frozen=True)
class H1:
    """Saturated two-level model (lavaan ``lavh1``): moments over (z, y) and log-likelihood."""

    sigma_w: np.ndarray     # y x y
    sigma_b: np.ndarray     # (z, y) x (z, y), zero rows/columns for within-only y
    mu_w: np.ndarray        # y  (lavaan Mu.W)
    mu_b: np.ndarray        # (z, y), zero for within-only y (lavaan Mu.B)
    logl: float             # without loglik.x
    iterations: int


def em_saturated(cs: ClusterStats, within_only: np.ndarray, tol: float = 1e-4,
                 max_iter: int = 5000, min_variance: float = 1e-5) -> H1:
    """lavaan's ``lav_mvnorm_cluster_em_sat`` on the cluster-size statistics.

    ``within_only``: boolean mask over y (level-1-only variables have no between part).
    The E-step sums of lavaan (over clusters of one size) are computed from the
    sum and crossproduct of their cluster means, which is algebraically identical.
    """
    py, pz = cs.py, cs.pz
    q = py + pz
    N, J = cs.nobs, cs.nclusters
    both = ~within_only
    ns = cs.ns.astype(float)
    s = ns[:, None] * cs.mean_d                                          # (K, q) sums
    M2 = ns[:, None, None] * (cs.cov_d + cs.mean_d[:, :, None] * cs.mean_d[:, None, :])
    Py = np.arange(pz, q)
    K = len(cs.sizes)
    nj = cs.sizes.astype(float)

    def loglik(sw, sb_y, syz, szz, muw, mub_y, muz):
        # lavaan 2l2implied -> implied22l: drop the between part of within-only variables
        SB = np.zeros((q, q))
        SB[:pz, :pz] = szz
        SB[pz:, :pz] = syz
        SB[:pz, pz:] = syz.T
        SB[pz:, pz:] = sb_y
        wo = Py[within_only]
        SB[wo, :] = 0.0
        SB[:, wo] = 0.0
        mu = np.concatenate([muz, muw + np.where(within_only, 0.0, mub_y)])
        f, Vi = _minus2logl_vinv(cs, sw, SB, mu)
        return -0.5 * (f + const), Vi

    # start: identity matrices, zero means (implied22l of the start values)
    sigma_w = np.eye(py)
    sigma_b = np.diag(both.astype(float))
    sigma_yz = np.zeros((py, pz))
    sigma_zz = np.eye(pz)
    mu_w = np.zeros(py)
    mu_b = np.zeros(py)
    mu_z = np.zeros(pz)
    const = constant(cs)
    # without within-only variables the E-step's Omega_n equals the V_n of the last
    # log-likelihood evaluation, so its inverse is reused
    reuse = not within_only.any()
    fx, _ = loglik(sigma_w, sigma_b, sigma_yz, sigma_zz, mu_w, mu_b, mu_z)
    Vi = None
    if pz:
        mu_z = cs.mean_z.copy()
        sigma_zz = cs.cov_z.copy()
    fx_old = fx
    it = 0
    for it in range(1, max_iter + 1):
        mu_y = mu_w + mu_b
        sigma_1 = np.hstack([sigma_yz, sigma_b])                      # py x q
        mu = np.concatenate([mu_z, mu_y])
        # all cluster sizes at once (batched over K)
        if Vi is None or not reuse:
            omega = np.zeros((K, q, q))
            omega[:, :pz, :pz] = sigma_zz
            omega[:, :pz, pz:] = sigma_yz.T
            omega[:, pz:, :pz] = sigma_yz
            omega[:, pz:, pz:] = sigma_w[None] / nj[:, None, None] + sigma_b[None]
            Vi = np.linalg.inv(omega)
        # E-step sums over clusters and sizes, with A_k = sigma_1 V_k^-1 factored out:
        # sum_k w_k A_k X_k A_k' = sigma_1 (sum_k w_k V_k^-1 X_k V_k^-1) sigma_1'
        sc = s - ns[:, None] * mu                                      # sum (b_j - mu)
        Vsc = np.einsum("kij,kj->ki", Vi, sc)
        sumEv = Vsc @ sigma_1.T + ns[:, None] * mu_b                   # (K, py)
        sm = s[:, :, None] * mu[None, None, :]                         # s mu'
        Dc = M2 - sm - np.swapaxes(sm, 1, 2) + ns[:, None, None] * np.outer(mu, mu)[None]
        Q = Vi @ Dc @ Vi
        Rm = (M2 - sm) @ Vi                                            # sum_j b_j (b_j - mu)' V^-1
        out = {}
        for name, w in (("1", np.ones(K)), ("n", nj)):
            Qw = np.einsum("k,kij->ij", w, Q)
            Vw = np.einsum("k,kij->ij", w * ns, Vi)
            vs = sigma_1 @ (w @ Vsc)                                   # sum_k w_k A_k sc_k
            nsw = float(w @ ns)
            Evv = nsw * sigma_b - sigma_1 @ Vw @ sigma_1.T + sigma_1 @ Qw @ sigma_1.T \
                + np.outer(vs, mu_b) + np.outer(mu_b, vs) + nsw * np.outer(mu_b, mu_b)
            out[name] = 0.5 * (Evv + Evv.T)
        BEv_n = (np.einsum("k,kij->ij", nj, Rm) @ sigma_1.T)[pz:] + np.outer(nj @ s[:, pz:], mu_b)
        MW = np.sum(nj[:, None] * (s[:, pz:] - sumEv), axis=0)
        MB = sumEv.sum(axis=0)
        CW2 = out["n"] - BEv_n - BEv_n.T
        CB = out["1"]
        if pz:
            ZY = (Rm.sum(axis=0) @ sigma_1.T)[:pz] + np.outer(s[:, :pz].sum(axis=0), mu_b)
        M_ws = MW / N
        M_bs = MB / J
        C_bs = CB / J
        C_ws = (cs.Y1Y1 + CW2) / N
        sigma_w = C_ws - np.outer(M_ws, M_ws)
        sigma_b = C_bs - np.outer(M_bs, M_bs)
        mu_w, mu_b = M_ws, M_bs
        if pz:
            sigma_yz = (ZY / J - np.outer(mu_z, M_bs)).T
        zero = np.flatnonzero(np.diag(sigma_w) < min_variance)
        if len(zero):
            sigma_w[zero, :] = 0.0
            sigma_w[:, zero] = 0.0
            sigma_w[zero, zero] = min_variance
        fx, Vi = loglik(sigma_w, sigma_b, sigma_yz, sigma_zz, mu_w, mu_b, mu_z)
        if fx - fx_old < tol:
            break
        fx_old = fx
    SB = np.zeros((q, q))
    SB[:pz, :pz] = sigma_zz
    SB[pz:, :pz] = sigma_yz
    SB[:pz, pz:] = sigma_yz.T
    SB[pz:, pz:] = sigma_b
    wo = Py[within_only]
    SB[wo, :] = 0.0
    SB[:, wo] = 0.0
    mub = np.concatenate([mu_z, np.where(within_only, 0.0, mu_b)])
    return H1(sigma_w, SB, mu_w.copy(), mub, float(fx), it)
