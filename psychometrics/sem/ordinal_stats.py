"""Sample statistics for ordinal indicators, as lavaan 0.6-14 (``lav_samplestats_step1/2``,
``lav_muthen1984``): thresholds, pairwise two-step polychoric correlations and their
asymptotic covariance matrix (NACOV) from casewise scores (Muthen 1984).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from ..exceptions import DataValidationError
from ..numerics.bvn import bvn_rectangle, bvn_upper

__all__ = ["OrdinalStats", "ordinal_data", "ordinal_stats"]

_SQRT2PI = np.sqrt(2 * np.pi)


def _dnorm(x):
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.exp(-0.5 * x * x) / _SQRT2PI
    return np.where(np.isfinite(x), out, 0.0)


def _dbinorm(x, y, rho):
    """Bivariate standard normal density (0 when a coordinate is infinite)."""
    r2 = 1 - rho * rho
    fin = np.isfinite(x) & np.isfinite(y)
    xs = np.where(fin, x, 0.0)
    ys = np.where(fin, y, 0.0)
    d = np.exp(-(xs * xs - 2 * rho * xs * ys + ys * ys) / (2 * r2)) / (2 * np.pi * np.sqrt(r2))
    return np.where(fin, d, 0.0)


def ordinal_data(data: pd.DataFrame, ordered: list[str], max_categories: int = 20):
    """Validate ordered columns and code them 0..K-1 (rows complete on ``ordered``).

    Returns ``(codes (n x p int array), levels per variable)``.
    """
    X = np.empty((len(data), len(ordered)))
    for j, v in enumerate(ordered):
        col = data[v]
        try:
            X[:, j] = pd.to_numeric(col, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                f"Ordered variable {v!r} is not numeric; code its categories as integers "
                f"1, 2, ..., K.") from exc
    keep = ~np.isnan(X).any(axis=1)
    X = X[keep]
    codes = np.empty(X.shape, dtype=int)
    levels = []
    for j, v in enumerate(ordered):
        x = X[:, j]
        if np.any(x != np.round(x)):
            bad = x[x != np.round(x)][:3]
            raise DataValidationError(
                f"Ordered variable {v!r} has non-integer values (e.g. {list(bad)}); ordered "
                f"indicators must be integer-coded categories.")
        lev = np.unique(x)
        if len(lev) < 2:
            raise DataValidationError(
                f"Ordered variable {v!r} has only one observed category ({lev.tolist()}); "
                f"thresholds cannot be estimated. Drop the variable.")
        if len(lev) > max_categories:
            raise DataValidationError(
                f"Ordered variable {v!r} has {len(lev)} categories (more than "
                f"max_categories={max_categories}); treat it as continuous instead.")
        full = np.arange(lev[0], lev[-1] + 1)
        if len(full) != len(lev):
            missing = sorted(int(c) for c in set(full.tolist()) - set(lev.tolist()))
            raise DataValidationError(
                f"Ordered variable {v!r} has empty categories {missing} between "
                f"{int(lev[0])} and {int(lev[-1])}; recode (collapse) the categories so that "
                f"every category is observed.")
        codes[:, j] = (x - lev[0]).astype(int)
        levels.append(lev)
    return codes, levels, keep


@dataclass(frozen=True)
class OrdinalStats:
    """Thresholds, polychoric correlations and NACOV (lavaan's ``WLS.obs`` / ``NACOV``)."""

    names: tuple[str, ...]
    nobs: int
    th: tuple[np.ndarray, ...]          # thresholds per variable
    cor: np.ndarray                     # polychoric correlation matrix
    wls_obs: np.ndarray                 # thresholds, then vech(lower, no diagonal) of cor
    nacov: np.ndarray                   # N x asymptotic covariance of wls_obs
    th_index: tuple[np.ndarray, ...]    # positions of each variable's thresholds in wls_obs
    pairs: tuple[tuple[int, int], ...]  # (i, j), i > j, in wls_obs order


def _pair_grid(ti, tj):
    ei = np.concatenate([[-np.inf], ti, [np.inf]])
    ej = np.concatenate([[-np.inf], tj, [np.inf]])
    Ki, Kj = len(ei) - 1, len(ej) - 1
    l1 = np.repeat(ei[:-1], Kj)
    u1 = np.repeat(ei[1:], Kj)
    l2 = np.tile(ej[:-1], Ki)
    u2 = np.tile(ej[1:], Ki)
    return l1, u1, l2, u2, (Ki, Kj)


def _pair_terms(rho, grid):
    l1, u1, l2, u2, shape = grid
    P = bvn_rectangle(l1, u1, l2, u2, np.full(l1.shape, rho))
    phi = (_dbinorm(u1, u2, rho) - _dbinorm(l1, u2, rho) - _dbinorm(u1, l2, rho)
           + _dbinorm(l1, l2, rho))
    return P, phi


def _polychoric(freq, grid):
    """Two-step ML polychoric correlation given the thresholds (lavaan ``lav_bvord``)."""
    f = freq.ravel()

    def score(rho):
        P, phi = _pair_terms(rho, grid)
        ok = f > 0
        Pk, phik = P[ok], phi[ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(Pk > 1e-300, phik / Pk, np.sign(phik) * 1e300)
        return np.sum(f[ok] * q)

    s0 = score(0.0)
    if s0 == 0:
        return 0.0
    lo, hi = (0.0, 0.999) if s0 > 0 else (-0.999, 0.0)
    if s0 > 0 and score(hi) >= 0:
        return hi
    if s0 < 0 and score(lo) <= 0:
        return lo
    return brentq(score, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)


class _AllPairs:
    """All pairs' tables grouped by shape, for vectorised cell probabilities."""

    def __init__(self, th, pairs, freqs):
        groups: dict = {}
        for k, (i, j) in enumerate(pairs):
            groups.setdefault((len(th[i]) + 1, len(th[j]) + 1), []).append(k)
        self.npairs = len(pairs)
        self.groups = []
        for (Ki, Kj), idx in groups.items():
            idx = np.array(idx)
            TI = np.array([th[pairs[k][0]] for k in idx])
            TJ = np.array([th[pairs[k][1]] for k in idx])
            F = np.array([freqs[k] for k in idx])
            X = np.broadcast_to(TI[:, :, None], (len(idx), Ki - 1, Kj - 1))
            Y = np.broadcast_to(TJ[:, None, :], (len(idx), Ki - 1, Kj - 1))
            self.groups.append((idx, Ki, Kj, TI, TJ, F, X, Y))

    def group_terms(self, rho):
        """Per shape group: (pair indices, P, phi = dP/drho, gnorm = d2P/drho2, counts)."""
        out = []
        cs = (lambda A: A[:, 1:, 1:] - A[:, :-1, 1:] - A[:, 1:, :-1] + A[:, :-1, :-1])
        for idx, Ki, Kj, TI, TJ, F, X, Y in self.groups:
            m = len(idx)
            r = np.broadcast_to(rho[idx][:, None, None], X.shape)
            C = bvn_upper(-X, -Y, r).reshape(X.shape)
            r2 = 1 - r * r
            q = X * X - 2 * r * X * Y + Y * Y
            d = np.exp(-q / (2 * r2)) / (2 * np.pi * np.sqrt(r2))
            guv = r / r2 + X * Y / r2 - r * q / (r2 * r2)
            G = np.zeros((m, Ki + 1, Kj + 1))
            G[:, 1:Ki, 1:Kj] = C
            G[:, Ki, 1:Kj] = ndtr(TJ)
            G[:, 1:Ki, Kj] = ndtr(TI)
            G[:, Ki, Kj] = 1.0
            D = np.zeros((m, Ki + 1, Kj + 1))
            D[:, 1:Ki, 1:Kj] = d
            H = np.zeros((m, Ki + 1, Kj + 1))
            H[:, 1:Ki, 1:Kj] = d * guv
            out.append((idx, cs(G), cs(D), cs(H), F))
        return out

    def terms(self, rho):
        """Per pair: (P, phi, gnorm, counts)."""
        out = [None] * self.npairs
        for idx, P, phi, gn, F in self.group_terms(rho):
            for a, k in enumerate(idx):
                out[k] = (P[a], phi[a], gn[a], F[a])
        return out


def _polychoric_all(th, pairs, freqs, start, max_iter=50):
    """Newton-Raphson for all pairs at once (lavaan: nlminb with analytic gradient/Hessian);
    pairs that do not converge fall back to a bracketing root search of the score."""
    ap = _AllPairs(th, pairs, freqs)
    rho = np.clip(np.asarray(start, float), -0.99, 0.99)
    done = np.zeros(len(pairs), bool)
    for _ in range(max_iter):
        g = np.zeros(len(pairs))
        h = np.zeros(len(pairs))
        for idx, P, phi, gn, F in ap.group_terms(rho):
            ok = F > 0
            tiny = np.any(ok & (P <= 1e-300), axis=(1, 2))
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(ok, phi / P, 0.0)
                gg = np.sum(np.where(ok, F * q, 0.0), axis=(1, 2))
                hh = np.sum(np.where(ok, F * (gn / P - q * q), 0.0), axis=(1, 2))
            g[idx] = gg
            h[idx] = np.where(tiny, np.nan, hh)
        step = np.where((h < 0) & np.isfinite(h), -g / h, 0.0)
        bad = ~((h < 0) & np.isfinite(h))
        new = rho + step
        bad |= np.abs(new) >= 0.999
        rho = np.where(bad, rho, new)
        done = ~bad & (np.abs(step) < 1e-13)
        if np.all(done | bad) and np.all(np.abs(step[~bad]) < 1e-13):
            break
    out = rho.copy()
    for k in np.flatnonzero(~done):
        i, j = pairs[k]
        out[k] = _polychoric(freqs[k], _pair_grid(th[i], th[j]))
    return out


def ordinal_stats(codes: np.ndarray, names) -> OrdinalStats:
    """Step 1 (thresholds), step 2 (polychorics) and step 3 (NACOV) of Muthen (1984)."""
    n, p = codes.shape
    K = codes.max(axis=0) + 1
    th, th_index, sc_th_blocks = [], [], []
    z1s, z2s = [], []
    start = 0
    for j in range(p):
        y = codes[:, j]
        counts = np.bincount(y, minlength=K[j])
        tau = ndtri(np.cumsum(counts)[:-1] / n)
        th.append(tau)
        th_index.append(np.arange(start, start + K[j] - 1))
        start += K[j] - 1
        ext = np.concatenate([[-np.inf], tau, [np.inf]])
        z1, z2 = ext[y + 1], ext[y]
        z1s.append(z1)
        z2s.append(z2)
        lik = ndtr(z1) - ndtr(z2)
        sc = np.zeros((n, K[j] - 1))
        up = y < K[j] - 1
        sc[np.flatnonzero(up), y[up]] += _dnorm(z1[up]) / lik[up]
        lo = y > 0
        sc[np.flatnonzero(lo), y[lo] - 1] -= _dnorm(z2[lo]) / lik[lo]
        sc_th_blocks.append(sc)
    nth = start
    pairs = [(i, j) for j in range(p - 1) for i in range(j + 1, p)]
    pstar = len(pairs)
    R = np.eye(p)
    sc_cor = np.zeros((n, pstar))
    A21 = np.zeros((pstar, nth))
    freqs, starts = [], []
    for i, j in pairs:
        freq = np.zeros((K[i], K[j]))
        np.add.at(freq, (codes[:, i], codes[:, j]), 1.0)
        freqs.append(freq)
        c = np.corrcoef(codes[:, i], codes[:, j])[0, 1]
        starts.append(c if np.isfinite(c) else 0.0)
    special = {}
    for k, (i, j) in enumerate(pairs):
        if freqs[k].shape == (2, 2):
            f = freqs[k].copy()
            zero = np.argwhere(f == 0)
            if len(zero) == 2:
                # lavaan sets rho = +-1 and warns; the casewise scores (and so NACOV,
                # the weights and the SEs) are then undefined, so we stop with a clear error
                raise DataValidationError(
                    f"The 2 x 2 table of {names[j]!r} x {names[i]!r} has two empty cells: the "
                    f"two binary items are (inversely) identical, their polychoric correlation "
                    f"is +-1 and the WLS weight matrix is undefined. Drop one of them.")
            if len(zero) == 1:
                # lavaan zero.add = 0.5 with zero.keep.margins for a single empty cell
                a, b = zero[0]
                sgn = 1.0 if a == b else -1.0
                f += sgn * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
                freqs[k] = f
            if f[0, 0] * f[1, 1] == f[0, 1] * f[1, 0]:
                special[k] = 0.0
            elif th[i][0] == 0 and th[j][0] == 0:
                special[k] = -np.cos(2 * np.pi * f[0, 0] / f.sum())
    rhos = _polychoric_all(th, pairs, freqs, starts)
    for k, v in special.items():
        rhos[k] = v
    ap = _AllPairs(th, pairs, freqs)
    terms = ap.terms(rhos)
    for k, (i, j) in enumerate(pairs):
        yi, yj = codes[:, i], codes[:, j]
        rho = rhos[k]
        R[i, j] = R[j, i] = rho
        P, phi = terms[k][0].ravel(), terms[k][1].ravel()
        cell = yi * K[j] + yj
        lik = P[cell]
        sc_cor[:, k] = phi[cell] / lik
        r = np.sqrt(1 - rho * rho)
        # A21 = sum_cases sc_rho * d log P / d thresholds; both depend on the cell only,
        # so aggregate over the observed cell counts
        Kij = (K[i], K[j])
        cnt = np.bincount(cell, minlength=K[i] * K[j]).reshape(Kij).astype(float)
        P2 = P.reshape(Kij)
        sc2 = phi.reshape(Kij) / np.where(P2 > 0, P2, np.inf)
        for (a, b, transpose) in ((i, j, False), (j, i, True)):
            ta, tb = th[a], th[b]
            eb = np.concatenate([[-np.inf], tb, [np.inf]])
            # U[c, m] = dP(cell with a-category c (upper cut ta[c]), b-category m) / d ta[c]
            with np.errstate(invalid="ignore"):
                Z = (eb[None, :] - rho * ta[:, None]) / r
            U = _dnorm(ta)[:, None] * np.diff(ndtr(Z), axis=1)
            C = cnt.T if transpose else cnt
            Pm = P2.T if transpose else P2
            S2 = sc2.T if transpose else sc2
            with np.errstate(divide="ignore", invalid="ignore"):
                up = np.where(C[:-1] > 0, C[:-1] * S2[:-1] * U / Pm[:-1], 0.0)
                lo = np.where(C[1:] > 0, C[1:] * S2[1:] * U / Pm[1:], 0.0)
            A21[k, th_index[a]] = up.sum(axis=1) - lo.sum(axis=1)
    sc_th = np.hstack(sc_th_blocks)
    SC = np.hstack([sc_th, sc_cor])
    inner = SC.T @ SC
    A11 = np.zeros((nth, nth))
    for idx in th_index:
        A11[np.ix_(idx, idx)] = inner[np.ix_(idx, idx)]
    a22 = np.sum(sc_cor * sc_cor, axis=0)
    A11i = np.linalg.inv(A11)
    A22i = np.diag(1.0 / a22)
    Binv = np.zeros((nth + pstar, nth + pstar))
    Binv[:nth, :nth] = A11i
    Binv[nth:, nth:] = A22i
    Binv[nth:, :nth] = -A22i @ A21 @ A11i
    W = Binv @ inner @ Binv.T
    nacov = n * W
    nacov = 0.5 * (nacov + nacov.T)
    wls_obs = np.concatenate([np.concatenate(th), [R[i, j] for i, j in pairs]])
    return OrdinalStats(tuple(names), n, tuple(th), R, wls_obs, nacov, tuple(th_index),
                        tuple(pairs))
