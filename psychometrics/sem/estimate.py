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
from .missing import pack, packed_information, packed_loglik
from .partable import ParTable
from .samplestats import SampleStats

__all__ = ["Problem", "make_problem", "row_values", "fmin_value", "evaluate", "optimize",
           "optimize_checked", "second_order_check", "simple_start_values",
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
    cols: dict
    x_idx: np.ndarray          # positions of fixed.x covariates in the observed variables

    @property
    def npar(self) -> int:
        return self.pt.npar


def make_problem(pt: ParTable, rep: Representation, ss: SampleStats) -> Problem:
    par = np.asarray(pt.c("par"), dtype=int)
    fixed = np.asarray(pt.c("ustart"), dtype=float).copy()
    fixed[par >= 0] = np.nan
    # fixed.x rows take the sample moments of their group
    ov_index = {v: k for k, v in enumerate(ss.ov)}
    exo = np.asarray(pt.c("exo")) == 1
    lhs_l, op_l, rhs_l, grp_l = pt.c("lhs"), pt.c("op"), pt.c("rhs"), pt.c("group")
    for r in np.flatnonzero(exo):
        g = grp_l[r] - 1
        if op_l[r] == "~~":
            fixed[r] = ss.cov[g][ov_index[lhs_l[r]], ov_index[rhs_l[r]]]
        elif op_l[r] == "~1":
            fixed[r] = ss.mean[g][ov_index[lhs_l[r]]]
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
    cols = {c: pt.c(c) for c in ("lhs", "op", "rhs", "group", "start", "exo")}
    x_idx = np.array([ov_index[v] for v in pt.names.ov_x] if pt.fixed_x else [], dtype=int)
    return Problem(pt, rep, ss, par, fixed, tuple(agg), w, pt.meanstructure, logdetS, Sinv, cols,
                   x_idx)


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
        if prob.ss.patterns is not None:
            F = _fiml_F(prob, g, Sigma, mu)
            if not np.isfinite(F):
                return np.inf
            total += prob.weights[g] * 0.5 * F
            continue
        S = prob.ss.cov[g]
        p = S.shape[0]
        F = logdet + np.sum(S * Si) - prob.logdetS[g] - p
        if prob.meanstructure:
            d = prob.ss.mean[g] - mu
            F += d @ Si @ d
        total += prob.weights[g] * 0.5 * F
    return float(total)


def _fiml_F(prob: Problem, g: int, Sigma, mu, need_grad: bool = False):
    """FIML discrepancy ``F_g = -2 (logl_g - logl_h1_g) / n_g`` (and W, r for the gradient).

    The gradient of ``F_g`` is ``tr(W dSigma) - 2 r' dmu`` with ``W`` and ``r`` summed over
    missingness patterns (each on its observed block), so the same matrix-form
    gradient as for complete data applies.
    """
    n_g = prob.ss.nobs[g]
    pk = _packed(prob, g)
    if need_grad:
        m2, W, r = packed_loglik(pk, Sigma, mu, need_grad=True)
        if not np.isfinite(m2):
            return np.inf, None, None
    else:
        m2 = packed_loglik(pk, Sigma, mu)
        if not np.isfinite(m2):
            return np.inf
    F = (m2 + 2.0 * prob.ss.h1_loglik[g]) / n_g
    return (F, W / n_g, r / n_g) if need_grad else F


def _packed(prob: Problem, g: int):
    """The missingness patterns of group ``g`` as stacked arrays (computed once)."""
    key = ("packed", g)
    cache = prob.ss.cache
    if key not in cache:
        cache[key] = pack(prob.ss.patterns[g], len(prob.ss.ov))
    return cache[key]


def _fiml_information(prob: Problem, g: int, Sigma, Dk, Dm):
    """Expected information of group g under FIML: pattern-weighted blocks."""
    npar = Dk.shape[0]
    p = Sigma.shape[0]
    return packed_information(_packed(prob, g), Sigma, Dk.reshape(npar, p, p), Dm) \
        / prob.ss.nobs[g]


def _row_gradient(rep, g, M, parts, W, Sid):
    """dF/d(row value) for the rows of group ``g``, from matrix-form derivatives.

    With ``W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1``, ``L = Lambda A``,
    ``V = A Psi A'`` and ``r = Sigma^-1 (m - mu)``:
    dF/dLambda = 2 W Lambda V - 2 r (A alpha)', dF/dTheta = W, dF/dPsi = L' W L,
    dF/dBeta = 2 L' W L Psi A' - 2 L' r (A alpha)', dF/dnu = -2 r, dF/dalpha = -2 L' r
    (symmetric off-diagonal entries counted twice).
    """
    Sigma, mu, A, L, C, Aal, Veta = parts
    gi = rep.groups[g]
    out = np.zeros(len(gi.rows), dtype=np.result_type(W, float))
    S = gi.sel
    LtW = L.T @ W
    LtWL = LtW @ L
    k = S[0]  # LAMBDA
    if len(k):
        GL = 2.0 * (W @ M.Lambda @ Veta)
        if Sid is not None:
            GL = GL - 2.0 * np.outer(Sid, Aal)
        out[k] = GL[gi.i[k], gi.j[k]]
    k = S[1]  # THETA
    if len(k):
        out[k] = W[gi.i[k], gi.j[k]] * np.where(gi.i[k] == gi.j[k], 1.0, 2.0)
    k = S[2]  # PSI
    if len(k):
        out[k] = LtWL[gi.i[k], gi.j[k]] * np.where(gi.i[k] == gi.j[k], 1.0, 2.0)
    k = S[3]  # BETA
    if len(k):
        GB = 2.0 * (LtWL @ M.Psi @ A.T)
        if Sid is not None:
            GB = GB - 2.0 * np.outer(L.T @ Sid, Aal)
        out[k] = GB[gi.i[k], gi.j[k]]
    if Sid is not None:
        k = S[4]  # NU
        if len(k):
            out[k] = -2.0 * Sid[gi.i[k]]
        k = S[5]  # ALPHA
        if len(k):
            out[k] = -2.0 * (L.T @ Sid)[gi.i[k]]
    return out


def evaluate(prob: Problem, theta: np.ndarray, info: bool = True):
    """fmin, its gradient, and (optionally) the expected information (per observation).

    Returns ``(fmin, grad, information)``; ``fmin`` is inf when Sigma is not PD.

    Notes
    -----
    Gradient: dF/dtheta_k = tr(G dSigma_k) - 2 dmu_k' Sigma^-1 (m - mu), with
    ``G = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1``. Expected information of group g:
    ``0.5 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l``
    (lavaan ``lav_model_information_expected``), weighted by n_g / N. With fixed.x,
    the moments of the exogenous covariates carry no information and no gradient
    (lavaan ``lav_mvnorm_*`` with ``x.idx``); this only matters for candidate
    parameters in modification indices.
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
        if prob.ss.patterns is not None:
            F, Wf, rf = _fiml_F(prob, g, Sigma, mu, need_grad=True)
            if not np.isfinite(F):
                return np.inf, None, None
            G = prob.agg[g]
            gg = G @ _row_gradient(prob.rep, g, M, parts, Wf, rf)
            w = prob.weights[g]
            f += w * 0.5 * F
            grad += w * 0.5 * gg
            if info:
                dS, dm = jacobian(prob.rep, g, M, parts)
                Dk = G @ dS.reshape(len(dS), -1)
                I += w * _fiml_information(prob, g, Sigma, Dk, G @ dm)
            continue
        S = prob.ss.cov[g]
        p = S.shape[0]
        F = logdet + np.sum(S * Si) - prob.logdetS[g] - p
        G = prob.agg[g]
        SiS = Si @ S
        if prob.meanstructure:
            d = prob.ss.mean[g] - mu
            Sid = Si @ d
            F += d @ Sid
            Wg = Si - SiS @ Si - np.outer(Sid, Sid)
        else:
            Sid = None
            Wg = Si - SiS @ Si
        gg = G @ _row_gradient(prob.rep, g, M, parts, Wg, Sid)
        if info:
            dS, dm = jacobian(prob.rep, g, M, parts)
            Dk = G @ dS.reshape(len(dS), -1)            # npar x p*p
            if prob.meanstructure:
                Dm = G @ dm
        w = prob.weights[g]
        f += w * 0.5 * F
        grad += w * 0.5 * gg
        if info:
            x = prob.x_idx
            if len(x):
                Dk = Dk.reshape(npar, p, p).copy()
                Dk[:, x[:, None], x[None, :]] = 0.0
                Dk = Dk.reshape(npar, -1)
                if prob.meanstructure:
                    Dm = Dm.copy()
                    Dm[:, x] = 0.0
            D3 = Dk.reshape(npar, p, p)
            Y = Si @ D3 @ Si
            Ig = 0.5 * (Dk @ Y.reshape(npar, -1).T)
            if prob.meanstructure:
                Ig += Dm @ Si @ Dm.T
            I += w * Ig
    return f, grad, I


def _factor_starts(prob: Problem):
    """Per group and latent variable: loadings and variance from the first principal axis.

    For a latent variable whose indicators are all observed, the first eigenvector
    ``v`` (eigenvalue ``e``) of their sample covariance gives loadings ``sqrt(e) v``;
    with a marker they are rescaled so the marker loading is 1 and the variance becomes
    the squared marker loading. Residual variances start at ``s_jj - lambda_j^2 psi``
    (at least 10% of ``s_jj``).
    """
    lhs, op, rhs, grp = prob.cols["lhs"], prob.cols["op"], prob.cols["rhs"], prob.cols["group"]
    ov_index = {v: k for k, v in enumerate(prob.ss.ov)}
    dummy = set(prob.rep.dummy)
    out = {}
    for g in range(prob.pt.ngroups):
        S = prob.ss.cov[g]
        for lv in prob.pt.names.lv:
            rows = [r for r in range(len(lhs)) if grp[r] == g + 1 and op[r] == "=~" and lhs[r] == lv]
            inds = [rhs[r] for r in rows]
            if len(inds) < 2 or any(v not in ov_index or v in dummy for v in inds):
                continue
            idx = [ov_index[v] for v in inds]
            w, V = np.linalg.eigh(S[np.ix_(idx, idx)])
            lam = np.sqrt(max(w[-1], 1e-8)) * V[:, -1]
            if lam.sum() < 0:
                lam = -lam
            marker = None
            for r, l in zip(rows, lam):
                if prob.par[r] < 0 and prob.fixed[r] != 0:
                    marker = (prob.fixed[r], l)
                    break
            if marker is not None and abs(marker[1]) > 1e-8:
                scale = marker[0] / marker[1]
                lam_s = lam * scale
                psi = (1 / scale) ** 2
            else:
                lam_s, psi = lam, 1.0
            for r, l, v in zip(rows, lam_s, inds):
                out[r] = l
                ii = ov_index[v]
                out[("res", g, v)] = max(S[ii, ii] - (lam[inds.index(v)]) ** 2, 0.1 * S[ii, ii])
            out[("psi", g, lv)] = psi
    return out


def start_values(prob: Problem) -> np.ndarray:
    """Starting values.

    Loadings, latent variances and residual variances from the first principal axis of
    each factor's indicators (see ``_factor_starts``); otherwise lavaan's simple values:
    loadings 1, residual variances half the sample variance, latent variances 0.05,
    covariances and regressions 0, intercepts the sample means. ``start()`` overrides.
    """
    lhs, op, rhs, grp = prob.cols["lhs"], prob.cols["op"], prob.cols["rhs"], prob.cols["group"]
    start = prob.cols["start"]
    theta = np.zeros(prob.npar)
    set_ = np.zeros(prob.npar, dtype=bool)
    ov_index = {v: k for k, v in enumerate(prob.ss.ov)}
    lvset = set(prob.pt.names.lv)
    std_lv = prob.pt.options.get("std_lv", False)
    fs = _factor_starts(prob)
    eqs_y = set(prob.pt.names.eqs_y)
    dummy = set(prob.rep.dummy)
    for r in range(len(lhs)):
        k = prob.par[r]
        if k < 0 or set_[k]:
            continue
        g = grp[r] - 1
        l, o, rr = lhs[r], op[r], rhs[r]
        S = prob.ss.cov[g]
        st = start[r]
        if np.isfinite(st):
            val = st
        elif o == "=~":
            if r in fs:
                val = fs[r]
            elif rr in ov_index:
                val = np.sqrt(0.5 * S[ov_index[rr], ov_index[rr]]) if std_lv else 1.0
            else:
                val = 1.0
        elif o == "~~" and l == rr:
            if l in lvset:
                val = fs.get(("psi", g, l), 1.0 if std_lv else 0.05)
                if std_lv:
                    val = 1.0
            else:
                ii = ov_index[l]
                if l in dummy and l not in eqs_y:
                    val = S[ii, ii]
                else:
                    val = fs.get(("res", g, l), 0.5 * S[ii, ii])
        elif o == "~1" and l in ov_index:
            val = prob.ss.mean[g][ov_index[l]]
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


def _line_search(prob, theta, f, g, step):
    slope = g @ step
    t = 1.0
    while t >= 1e-12:
        new = theta + t * step
        f_new = fmin_value(prob, new)
        if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
            return new, f_new, t
        t *= 0.5
    return None, f, 0.0


def optimize(prob: Problem, theta0: np.ndarray, max_iter: int = 1000, gtol: float = 1e-9,
             ftol: float = 1e-15, n_scoring: int = 4) -> OptimResult:
    """Fisher scoring, then BFGS started from the inverse expected information.

    The first ``n_scoring`` iterations are Fisher scoring steps (Newton steps with the
    expected information, step halving); Fisher scoring converges only linearly for a
    misspecified model, so the remaining iterations are BFGS updates of the inverse
    information (superlinear). Converged when the largest absolute gradient element
    of ``fmin`` is below ``gtol``, or when ``fmin`` changes by less than ``ftol``
    (relative) with a gradient below ``sqrt(gtol)``.
    """
    theta = theta0.copy()
    f, g, I = evaluate(prob, theta)
    if not np.isfinite(f):
        # start values give a non-PD Sigma: shrink covariances towards zero
        c = prob.cols
        for r in range(len(c["op"])):
            if prob.par[r] >= 0 and c["op"][r] in ("~~", "~") and c["lhs"][r] != c["rhs"][r]:
                theta[prob.par[r]] = 0.0
        f, g, I = evaluate(prob, theta)
        if not np.isfinite(f):
            return OptimResult(theta, f, np.full(prob.npar, np.nan), None, 0, False,
                               "the implied covariance matrix at the starting values is not "
                               "positive definite")
    message = "maximum number of iterations reached"
    converged = False
    H = None
    it = 0
    while it < max_iter:
        if np.max(np.abs(g)) < gtol:
            converged = True
            message = "gradient below tolerance"
            break
        it += 1
        if H is None:
            try:
                Hs = np.linalg.inv(I)
            except np.linalg.LinAlgError:
                Hs = np.linalg.pinv(I)
        else:
            Hs = H
        step = -Hs @ g
        if not np.all(np.isfinite(step)) or g @ step >= 0:
            step = -g
            H = None
        new, f_new, t = _line_search(prob, theta, f, g, step)
        if new is None:
            if H is not None:       # BFGS direction failed: restart from scoring
                H = None
                f, g, I = evaluate(prob, theta)
                continue
            message = "line search failed"
            break
        f_new, g_new, I_new = evaluate(prob, new, info=(it < n_scoring))
        if it < n_scoring:
            I = I_new
        else:
            if H is None:
                H = Hs.copy()
            s_ = new - theta
            y = g_new - g
            ys = y @ s_
            if ys > 1e-300:
                rho = 1.0 / ys
                Hy = H @ y
                H = H - rho * (np.outer(s_, Hy) + np.outer(Hy, s_)) \
                    + (rho * rho * (y @ Hy) + rho) * np.outer(s_, s_)
        f_old = f
        theta, f, g = new, f_new, g_new
        if abs(f_old - f) <= ftol * max(1.0, abs(f)) and np.max(np.abs(g)) < np.sqrt(gtol):
            converged = True
            message = "relative change of fmin below tolerance"
            break
    info = evaluate(prob, theta, info=True)[2]
    return OptimResult(theta, f, g, info, it, converged, message)


# --------------------------------------------------------------------------- optimality
#: second-order check: the smallest eigenvalue of the Hessian of fmin may be negative by
#: at most this fraction of the largest (finite-difference noise is ~1e-9 relative)
HESSIAN_RTOL = 1e-6
#: iterations allowed to each restart (a fit that diverges along a ridge stops here)
RESTART_MAX_ITER = 500


def hessian_fd(prob: Problem, theta: np.ndarray, h: float = 1e-5) -> np.ndarray | None:
    """Hessian of ``fmin`` by central differences of the analytic gradient (symmetrised).

    Step ``h * max(1, |theta_j|)``; returns None when a displaced point leaves the
    positive-definite region.
    """
    n = len(theta)
    H = np.empty((n, n))
    for j in range(n):
        s = h * max(1.0, abs(theta[j]))
        x = theta.copy()
        x[j] += s
        fp, gp, _ = evaluate(prob, x, info=False)
        x[j] -= 2 * s
        fm, gm, _ = evaluate(prob, x, info=False)
        if not (np.isfinite(fp) and np.isfinite(fm)):
            return None
        H[:, j] = (gp - gm) / (2 * s)
    return 0.5 * (H + H.T)


def second_order_check(prob: Problem, theta: np.ndarray):
    """``(ok, smallest, largest, direction)``: is ``theta`` a local minimum of fmin?

    ``ok`` when the smallest eigenvalue of the finite-difference Hessian is at least
    ``-HESSIAN_RTOL * max(1, largest)``; ``direction`` is the eigenvector of the smallest
    eigenvalue (the descent direction out of a saddle point).
    """
    H = hessian_fd(prob, theta)
    if H is None or not np.all(np.isfinite(H)):
        return True, np.nan, np.nan, None     # cannot be checked: first-order result stands
    w, V = np.linalg.eigh(H)
    ok = bool(w[0] >= -HESSIAN_RTOL * max(1.0, w[-1]))
    return ok, float(w[0]), float(w[-1]), V[:, 0]


def simple_start_values(prob: Problem) -> np.ndarray:
    """lavaan's ``start = "simple"`` values: free loadings 1, regressions and covariances 0,
    latent variances 0.05 (1 with ``std_lv``), residual variances and intercepts from
    :func:`start_values`'s sample-moment rules."""
    theta = start_values(prob).copy()
    c = prob.cols
    lvset = set(prob.pt.names.lv)
    std_lv = prob.pt.options.get("std_lv", False)
    for r in range(len(c["op"])):
        k = prob.par[r]
        if k < 0 or np.isfinite(c["start"][r]):
            continue
        o, l, rr = c["op"][r], c["lhs"][r], c["rhs"][r]
        if o == "=~":
            theta[k] = 1.0 if not std_lv else theta[k]
        elif o == "~":
            theta[k] = 0.0
        elif o == "~~" and l != rr:
            theta[k] = 0.0
        elif o == "~~" and l in lvset:
            theta[k] = 1.0 if std_lv else 0.05
        elif o == "~~":
            g = c["group"][r] - 1
            ii = list(prob.ss.ov).index(l) if l in prob.ss.ov else None
            if ii is not None:
                theta[k] = 0.5 * prob.ss.cov[g][ii, ii]
    return theta


def _jittered_starts(prob: Problem, base: np.ndarray, n: int):
    """``n`` deterministic multiplicative perturbations (log-normal, sd 0.3) of ``base``."""
    rng = np.random.default_rng(12345)
    for _ in range(n):
        yield base * np.exp(rng.normal(0.0, 0.3, len(base)))


def optimize_checked(prob: Problem, max_iter: int = 1000,
                     theta0: np.ndarray | None = None) -> OptimResult:
    """Optimise from ``theta0`` (default :func:`start_values`), then prove the optimum;
    restart if it fails.

    The accepted point must pass (1) the first-order test of :func:`optimize` (largest
    absolute gradient of fmin below 1e-9, or a relative fmin change below 1e-15 with the
    gradient below 3.2e-5) and (2) the second-order test of :func:`second_order_check`
    (the finite-difference Hessian has no eigenvalue below ``-1e-6`` times its largest:
    a local minimum, not a saddle point). A saddle point is left along the eigenvector
    of the negative eigenvalue; a run that fails (1) is restarted from lavaan's "simple"
    start values and from two perturbed starts. Of the runs that pass both tests the one
    with the smallest fmin is returned (``converged=True``); if none passes, the run with
    the smallest fmin is returned with ``converged=False``.

    Maximum likelihood here is unconstrained (as lavaan's default ``bounds = "none"``):
    a negative variance (Heywood case) is an interior point of the parameter space and
    is reported only when it passed both tests.
    """
    runs = []

    def run(theta0, it_cap, label):
        res = optimize(prob, theta0, max_iter=it_cap)
        if res.converged:
            ok, lo, hi, v = second_order_check(prob, res.theta)
            if not ok:
                # saddle point: step out along the negative curvature, both ways
                best = None
                for sgn in (1.0, -1.0):
                    for t in (1e-2, 1e-1):
                        x = res.theta + sgn * t * v * max(1.0, np.linalg.norm(res.theta))
                        fx = fmin_value(prob, x)
                        if np.isfinite(fx) and fx < res.fmin and (best is None or fx < best[1]):
                            best = (x, fx)
                if best is not None:
                    return run(best[0], it_cap, label + ", left a saddle point")
                res = OptimResult(res.theta, res.fmin, res.grad, res.information,
                                  res.iterations, False,
                                  f"saddle point: Hessian eigenvalue {lo:.3g} < 0")
            else:
                res = OptimResult(res.theta, res.fmin, res.grad, res.information,
                                  res.iterations, True,
                                  res.message + "; second-order check passed" + label)
        runs.append(res)
        return res

    first = run(start_values(prob) if theta0 is None else np.asarray(theta0, float),
                max_iter, "")
    if not first.converged:
        cap = min(max_iter, RESTART_MAX_ITER)
        starts = [(simple_start_values(prob), " (restart from simple start values)")]
        starts += [(t, f" (restart from perturbed start values {i + 1})")
                   for i, t in enumerate(_jittered_starts(prob, start_values(prob), 2))]
        for theta0, label in starts:
            if np.isfinite(fmin_value(prob, theta0)):
                if run(theta0, cap, label).converged:
                    break
    ok = [r for r in runs if r.converged]
    pool = ok if ok else [r for r in runs if np.isfinite(r.fmin)] or runs
    return min(pool, key=lambda r: r.fmin)
