"""Maximum likelihood estimation (lavaan ``estimator = "ML"``, ``likelihood = "normal"``).

The discrepancy function, per group ``g`` with weight ``w_g = n_g / N``::

    F_g  = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)
    fmin = sum_g w_g F_g / 2          (lavaan's ``fmin``; chisq = 2 N fmin)

It is minimised by Fisher scoring (Newton steps with the expected
information, step halving when the discrepancy does not decrease) with the
analytic gradient. Works on the sample moments only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import GroupMatrices, Representation, fill, implied, jacobian
from .partable import ParTable
from .samplestats import SampleStats

__all__ = ["Problem", "make_problem", "row_values", "fmin_value", "evaluate", "optimize",
           "start_values", "OptimResult"]


@dataclass(frozen=True)
class Problem:
    """Everything estimation needs, precomputed once: table, representation, moments."""

    pt: ParTable
    rep: Representation
    ss: SampleStats
    par: np.ndarray            # par index per table row (-1 fixed)
    fixed: np.ndarray          # value of fixed rows (nan for free rows)
    agg: tuple                 # per group: (npar x k) aggregation matrix rows -> theta
    weights: np.ndarray        # n_g / N
    meanstructure: bool
    logdetS: tuple
    Sinv: tuple

    @property
    def npar(self) -> int:
        return self.pt.npar


def make_problem(pt: ParTable, rep: Representation, ss: SampleStats) -> Problem:
    t = pt.table
    par = t["par"].to_numpy()
    fixed = t["ustart"].to_numpy(dtype=float).copy()
    fixed[par >= 0] = np.nan
    # fixed.x rows take the sample moments of their group
    ov_index = {v: k for k, v in enumerate(ss.ov)}
    exo = t["exo"].to_numpy() == 1
    for r in np.flatnonzero(exo):
        g = t.at[r, "group"] - 1
        if t.at[r, "op"] == "~~":
            fixed[r] = ss.cov[g][ov_index[t.at[r, "lhs"]], ov_index[t.at[r, "rhs"]]]
        elif t.at[r, "op"] == "~1":
            fixed[r] = ss.mean[g][ov_index[t.at[r, "lhs"]]]
    fixed[(par < 0) & np.isnan(fixed)] = 0.0
    agg = []
    for gi in rep.groups:
        k = len(gi.rows)
        G = np.zeros((pt.npar, k))
        pr = par[gi.rows]
        sel = pr >= 0
        G[pr[sel], np.flatnonzero(sel)] = 1.0
        agg.append(G)
    w = np.array(ss.nobs, dtype=float) / ss.ntotal
    logdetS = tuple(np.linalg.slogdet(S)[1] for S in ss.cov)
    Sinv = tuple(np.linalg.inv(S) for S in ss.cov)
    return Problem(pt, rep, ss, par, fixed, tuple(agg), w, pt.meanstructure, logdetS, Sinv)


def row_values(prob: Problem, theta: np.ndarray) -> np.ndarray:
    """Value of every parameter-table row for the free-parameter vector ``theta``."""
    v = prob.fixed.astype(np.result_type(prob.fixed, theta))
    free = prob.par >= 0
    v[free] = theta[prob.par[free]]
    return v


def _group_parts(prob: Problem, values: np.ndarray):
    out = []
    for g in range(len(prob.rep.groups)):
        M = fill(prob.rep, g, values)
        out.append((M, implied(M)))
    return out


def _chol_inv(Sigma):
    try:
        Lc = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        return None, None
    logdet = 2.0 * np.log(np.diag(Lc)).sum()
    Li = np.linalg.inv(Lc)
    return Li.T @ Li, logdet


def fmin_value(prob: Problem, theta: np.ndarray) -> float:
    """lavaan's ``fmin`` (inf if an implied covariance matrix is not positive definite)."""
    values = row_values(prob, theta)
    total = 0.0
    for g, (M, parts) in enumerate(_group_parts(prob, values)):
        Sigma, mu = parts[0], parts[1]
        Si, logdet = _chol_inv(Sigma)
        if Si is None:
            return np.inf
        S = prob.ss.cov[g]
        p = S.shape[0]
        F = logdet + np.sum(S * Si) - prob.logdetS[g] - p
        if prob.meanstructure:
            d = prob.ss.mean[g] - mu
            F += d @ Si @ d
        total += prob.weights[g] * 0.5 * F
    return float(total)


def evaluate(prob: Problem, theta: np.ndarray, info: bool = True):
    """fmin, its gradient, and (optionally) the expected information (per observation).

    Returns ``(fmin, grad, information)``; ``fmin`` is inf when Sigma is not PD.

    Notes
    -----
    Gradient: dF/dtheta_k = tr(G dSigma_k) - 2 dmu_k' Sigma^-1 (m - mu), with
    ``G = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1``. Expected information of group g:
    ``0.5 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l``
    (lavaan ``lav_model_information_expected``), weighted by n_g / N.
    """
    values = row_values(prob, theta)
    npar = prob.npar
    f = 0.0
    grad = np.zeros(npar)
    I = np.zeros((npar, npar)) if info else None
    for g, (M, parts) in enumerate(_group_parts(prob, values)):
        Sigma, mu = parts[0], parts[1]
        Si, logdet = _chol_inv(Sigma)
        if Si is None:
            return np.inf, None, None
        S = prob.ss.cov[g]
        p = S.shape[0]
        F = logdet + np.sum(S * Si) - prob.logdetS[g] - p
        dS, dm = jacobian(prob.rep, g, M, parts)
        G = prob.agg[g]
        Dk = G @ dS.reshape(len(dS), -1)            # npar x p*p
        SiS = Si @ S
        if prob.meanstructure:
            d = prob.ss.mean[g] - mu
            Sid = Si @ d
            F += d @ Sid
            Wg = Si - SiS @ Si - np.outer(Sid, Sid)
            Dm = G @ dm
            gg = Dk @ Wg.ravel() - 2.0 * (Dm @ Sid)
        else:
            Wg = Si - SiS @ Si
            gg = Dk @ Wg.ravel()
        w = prob.weights[g]
        f += w * 0.5 * F
        grad += w * 0.5 * gg
        if info:
            D3 = Dk.reshape(npar, p, p)
            Y = Si @ D3 @ Si
            Ig = 0.5 * (Dk @ Y.reshape(npar, -1).T)
            if prob.meanstructure:
                Ig += Dm @ Si @ Dm.T
            I += w * Ig
    return f, grad, I


def start_values(prob: Problem) -> np.ndarray:
    """Simple starting values (lavaan ``start = "simple"``-like, with sample variances).

    Loadings 1 (0.7 sd-scaled when ``std_lv``), residual variances half the sample
    variance, latent variances 0.05, covariances and regressions 0, intercepts the
    sample means. User ``start()`` values override.
    """
    t = prob.pt.table
    theta = np.zeros(prob.npar)
    set_ = np.zeros(prob.npar, dtype=bool)
    ov_index = {v: k for k, v in enumerate(prob.ss.ov)}
    lvset = set(prob.pt.names.lv)
    std_lv = prob.pt.options.get("std_lv", False)
    for r in range(len(t)):
        k = prob.par[r]
        if k < 0 or set_[k]:
            continue
        g = t.at[r, "group"] - 1
        lhs, op, rhs = t.at[r, "lhs"], t.at[r, "op"], t.at[r, "rhs"]
        S = prob.ss.cov[g]
        st = t.at[r, "start"]
        if np.isfinite(st):
            val = st
        elif op == "=~":
            if rhs in ov_index:
                val = np.sqrt(0.5 * S[ov_index[rhs], ov_index[rhs]]) if std_lv else 1.0
            else:
                val = 1.0
        elif op == "~~" and lhs == rhs:
            if lhs in lvset:
                val = 1.0 if std_lv else 0.05
            else:
                dummy_exo = lhs in prob.rep.dummy and lhs not in prob.pt.names.eqs_y
                ii = ov_index[lhs]
                val = S[ii, ii] if dummy_exo else 0.5 * S[ii, ii]
        elif op == "~1" and lhs in ov_index:
            val = prob.ss.mean[g][ov_index[lhs]]
        else:
            val = 0.0
        theta[k] = val
        set_[k] = True
    return theta


@dataclass(frozen=True)
class OptimResult:
    theta: np.ndarray
    fmin: float
    grad: np.ndarray
    information: np.ndarray
    iterations: int
    converged: bool
    message: str


def optimize(prob: Problem, theta0: np.ndarray, max_iter: int = 500, gtol: float = 1e-9,
             ftol: float = 1e-15) -> OptimResult:
    """Fisher scoring with step halving.

    Converged when the largest absolute gradient element of ``fmin`` is below
    ``gtol`` or successive steps change ``fmin`` by less than ``ftol`` (relative)
    with a gradient below ``sqrt(gtol)``.
    """
    theta = theta0.copy()
    f, g, I = evaluate(prob, theta)
    if not np.isfinite(f):
        # start values give a non-PD Sigma: shrink covariances towards zero
        t = prob.pt.table
        for r in range(len(t)):
            if prob.par[r] >= 0 and t.at[r, "op"] in ("~~", "~") and t.at[r, "lhs"] != t.at[r, "rhs"]:
                theta[prob.par[r]] = 0.0
        f, g, I = evaluate(prob, theta)
        if not np.isfinite(f):
            return OptimResult(theta, f, np.full(prob.npar, np.nan), None, 0, False,
                               "the implied covariance matrix at the starting values is not "
                               "positive definite")
    it = 0
    message = "maximum number of iterations reached"
    converged = False
    for it in range(1, max_iter + 1):
        if np.max(np.abs(g)) < gtol:
            converged = True
            message = "gradient below tolerance"
            it -= 1
            break
        try:
            step = np.linalg.solve(I, -g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(I, -g, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            step = -g
        slope = g @ step
        if slope > 0:  # not a descent direction (information not PD): use the gradient
            step = -g
            slope = g @ step
        tstep = 1.0
        while True:
            new = theta + tstep * step
            f_new = fmin_value(prob, new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * tstep * slope:
                break
            tstep *= 0.5
            if tstep < 1e-12:
                break
        if tstep < 1e-12:
            message = "line search failed"
            break
        theta = new
        f_old = f
        f, g, I = evaluate(prob, theta)
        if abs(f_old - f) <= ftol * max(1.0, abs(f)) and np.max(np.abs(g)) < np.sqrt(gtol):
            converged = True
            message = "relative change of fmin below tolerance"
            break
    return OptimResult(theta, f, g, I, it, converged, message)
