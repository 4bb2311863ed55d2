"""Bootstrap standard errors, intervals and the Bollen-Stine test (lavaan ``se = "bootstrap"``,
``test = "bollen.stine"``, ``parameterEstimates(boot.ci.type =)``).

Every draw resamples the rows of each group with replacement (group sizes kept, as
lavaan), recomputes the sample moments (or, under ``missing="ml"``, the missingness
patterns and EM moments) and refits the model from the original estimates. Draws whose
fit fails (non-positive-definite moments, no convergence) are dropped and counted, as
lavaan's ``error.idx``. The resampling indices come from one
``numpy.random.default_rng(seed)`` stream generated before any fit, so the draws are
identical whatever ``n_jobs`` is.

Bollen-Stine: the data of each group are first transformed to fit the model exactly,
``Y* = (Y - ybar) S^-1/2 Sigma^1/2 (+ mu)``; the p-value is the share of bootstrap
chi-squares larger than the observed one (lavaan ``lav_test``).

Intervals follow lavaan 0.6-14 ``parameterEstimates``: ``"perc"`` (default),
``"bca.simple"`` (bias-corrected, no acceleration), ``"basic"``, ``"norm"``; order
statistics are interpolated on the normal quantile scale as ``boot:::norm.inter``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from ..exceptions import EstimationError, ModelSpecificationError

__all__ = ["BootstrapDraws", "run_bootstrap", "bootstrap_intervals", "norm_inter",
           "CI_TYPES"]

CI_TYPES = ("perc", "bca.simple", "basic", "norm")


@dataclass(frozen=True)
class BootstrapDraws:
    """The successful bootstrap draws of a fit.

    Attributes
    ----------
    kind : {"ordinary", "bollen.stine"}
    n_draws : int
        Draws requested (lavaan ``bootstrap =``).
    seed : int or None
    theta : ndarray (n_ok, npar)
        Free-parameter estimates of each successful draw (lavaan ``lavInspect(fit, "boot")``).
    defined : ndarray (n_ok, ndef)
        The defined parameters (``:=``) of each draw.
    chisq : ndarray (n_ok,)
        The chi-square of each draw.
    failed : tuple of int
        0-based numbers of the draws that failed (dropped).
    defined_at_mean : ndarray (ndef,)
        The defined parameters evaluated at the mean of the draws (lavaan's "norm" bias).
    """

    kind: str
    n_draws: int
    seed: int | None
    theta: np.ndarray
    defined: np.ndarray
    chisq: np.ndarray
    failed: tuple
    defined_at_mean: np.ndarray = None   # defined parameters at the mean draw ("norm")

    @property
    def n_successful(self) -> int:
        return int(self.theta.shape[0])


# ----------------------------------------------------------------------------- draws
def _group_rows(ss):
    """Per group: the rows that enter the fit (complete data, or with NaN under FIML)."""
    if ss.patterns is None:
        if ss.data is None:
            raise ModelSpecificationError(
                "Bootstrap needs raw data; the model was fitted from moments (sample_cov).")
        return [np.asarray(X, dtype=float) for X in ss.data]
    out = []
    p = len(ss.ov)
    for pats in ss.patterns:
        blocks = []
        for pt in pats:
            B = np.full((pt.n, p), np.nan)
            B[:, pt.obs] = pt.rows
            blocks.append(B)
        out.append(np.vstack(blocks))
    return out


def _sqrtm(A):
    w, V = np.linalg.eigh(A)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def _bollen_stine_rows(prob, theta, rows):
    from .estimate import row_values
    from .matrices import fill, implied
    values = row_values(prob, theta)
    out = []
    for g, X in enumerate(rows):
        Sigma, mu = implied(fill(prob.rep, g, values))[:2]
        S = prob.ss.cov[g]
        S_isqrt = _sqrtm(np.linalg.inv(S))
        Z = (X - X.mean(axis=0)) @ S_isqrt @ _sqrtm(Sigma)
        out.append(Z + (mu if prob.meanstructure else 0.0))
    return out


#: general constraints of the model being bootstrapped, for worker processes (compiled
#: expressions cannot be pickled; forked workers inherit this module state)
_CONSTRAINTS = None


def _one_draw(prob, theta0, rows, idx_list, max_iter, cs=None):
    """Refit on one resample; returns (theta, fmin) or None. With general constraints
    ``cs`` the draw is refitted under them and kept only when the KKT test passes."""
    from .estimate import make_problem, optimize
    ss = prob.ss
    try:
        if ss.patterns is None:
            means, covs, data = [], [], []
            for X, idx in zip(rows, idx_list):
                Xb = X[idx]
                m = Xb.mean(axis=0)
                Z = Xb - m
                means.append(m)
                covs.append(Z.T @ Z / Xb.shape[0])
                data.append(Xb)
            ssb = replace(ss, mean=tuple(means), cov=tuple(covs), data=tuple(data), cache={})
        elif not np.any(np.asarray(prob.cols["exo"]) == 1):
            ssb = _fiml_light(ss, [X[idx] for X, idx in zip(rows, idx_list)])
        else:
            # fixed.x covariates take their (EM) moments from the draw: full statistics
            from .samplestats import _from_data_fiml
            Xall = np.vstack([X[idx] for X, idx in zip(rows, idx_list)])
            gcodes = np.concatenate([np.full(len(idx), g) for g, idx in enumerate(idx_list)])
            ok = np.ones(len(Xall), dtype=bool)
            ssb = _from_data_fiml(Xall, gcodes, ss.group_labels, ss.ov, None, ok,
                                  np.arange(len(Xall)))
        pb = make_problem(prob.pt, prob.rep, ssb)
        if cs is not None:
            from .constraints import optimize_constrained
            opt = optimize_constrained(pb, theta0, cs, max_iter=max_iter)
            if not opt.converged or not np.all(np.isfinite(opt.theta)):
                return None
            return opt.theta, float(opt.fmin)
        opt = optimize(pb, theta0, max_iter=max_iter)
        if not opt.converged:
            # second try from the default start values
            from .estimate import start_values
            opt2 = optimize(pb, start_values(pb), max_iter=max_iter)
            if opt2.converged or (np.isfinite(opt2.fmin) and opt2.fmin < opt.fmin):
                opt = opt2
        if not opt.converged and not _stationary(opt):
            return None
    except (np.linalg.LinAlgError, ValueError, FloatingPointError, EstimationError,
            ZeroDivisionError):
        return None
    if not np.all(np.isfinite(opt.theta)):
        return None
    return opt.theta, float(opt.fmin)


def _fiml_light(ss, Xs):
    """FIML statistics of a draw without the EM step: the patterns are all the fit needs
    for the estimates (the saturated log-likelihood only shifts fmin by a constant, set
    to 0 here; the moments are available-case ones, used for nothing but start values)."""
    from .missing import patterns_of
    pats, means, covs = [], [], []
    for X in Xs:
        pats.append(patterns_of(X))
        m = np.nanmean(X, axis=0)
        means.append(m)
        covs.append(np.diag(np.nanvar(X, axis=0)))
    return replace(ss, mean=tuple(means), cov=tuple(covs), patterns=tuple(pats),
                   h1_loglik=tuple(0.0 for _ in Xs), nobs=tuple(len(X) for X in Xs),
                   data=None, cache={})


def _stationary(opt, gtol: float = 1e-7) -> bool:
    """Optimality check for a draw the optimizer flagged (e.g. a line search that cannot
    lower an fmin of ~0 in a saturated model): gradient ~0 and positive-definite
    information, i.e. a strict local minimum."""
    if opt.grad is None or opt.information is None or not np.isfinite(opt.fmin):
        return False
    if np.max(np.abs(opt.grad)) > gtol:
        return False
    try:
        return bool(np.linalg.eigvalsh(opt.information)[0] > 0)
    except np.linalg.LinAlgError:
        return False


def _run_chunk(args):
    import warnings
    prob, theta0, rows, chunk, max_iter = args[:5]
    cs = args[5] if len(args) > 5 else _CONSTRAINTS
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b, idx_list in chunk:
            out.append((b, _one_draw(prob, theta0, rows, idx_list, max_iter, cs)))
    return out


def run_bootstrap(prob, theta, defs, *, n_draws: int = 1000, seed=None,
                  kind: str = "ordinary", n_jobs: int = 1, max_iter: int = 1000,
                  constraints=None) -> BootstrapDraws:
    """Bootstrap a fitted model (``prob`` at its estimates ``theta``).

    Parameters
    ----------
    prob : estimate.Problem
    theta : ndarray
        The estimates (start values of every draw).
    defs : tuple of CompiledDefinition
    n_draws : int
        Number of draws (lavaan ``bootstrap = 1000``).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same draws.
    kind : {"ordinary", "bollen.stine"}
    n_jobs : int
        Worker processes (1 = in this process). Results do not depend on it.
    constraints : constraints.ConstraintSet, optional
        General constraints: every draw is refitted under them (lavaan does the same).

    Returns
    -------
    BootstrapDraws
    """
    if kind not in ("ordinary", "bollen.stine"):
        raise ModelSpecificationError(
            f"The bootstrap kind must be 'ordinary' or 'bollen.stine'; got {kind!r}.")
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ModelSpecificationError(
            f"The 'bootstrap' argument must be an integer >= 2 (number of draws); got "
            f"{n_draws!r}.")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ModelSpecificationError(f"The 'n_jobs' argument must be a positive integer; got "
                                      f"{n_jobs!r}.")
    rows = _group_rows(prob.ss)
    if kind == "bollen.stine":
        if prob.ss.patterns is not None:
            raise ModelSpecificationError(
                "The Bollen-Stine bootstrap is not available with missing='ml' (as lavaan).")
        rows = _bollen_stine_rows(prob, theta, rows)
    rng = np.random.default_rng(seed)
    idx = [[rng.integers(0, len(X), size=len(X)) for X in rows] for _ in range(n_draws)]
    tasks = list(enumerate(idx))
    import multiprocessing as mp
    can_fork = "fork" in mp.get_all_start_methods()
    if n_jobs == 1 or (constraints is not None and not can_fork):
        results = _run_chunk((prob, theta, rows, tasks, max_iter, constraints))
    else:
        global _CONSTRAINTS
        from concurrent.futures import ProcessPoolExecutor
        ctx = mp.get_context("fork") if can_fork else None
        n_chunks = min(len(tasks), 4 * n_jobs)
        chunks = [tasks[k::n_chunks] for k in range(n_chunks)]
        results = []
        _CONSTRAINTS = constraints
        try:
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as ex:
                for part in ex.map(_run_chunk, [(prob, theta, rows, c, max_iter)
                                                for c in chunks]):
                    results.extend(part)
        finally:
            _CONSTRAINTS = None
        results.sort(key=lambda t: t[0])
    ok = [(b, r) for b, r in results if r is not None]
    failed = tuple(b for b, r in results if r is None)
    npar = len(theta)
    T = np.array([r[0] for _, r in ok]).reshape(-1, npar)
    chisq = np.array([2.0 * prob.ss.ntotal * r[1] for _, r in ok])
    D = defined_draws(prob, defs, T)
    Dm = defined_draws(prob, defs, T.mean(axis=0, keepdims=True))[0] if len(T) else \
        np.full(len(defs), np.nan)
    return BootstrapDraws(kind, int(n_draws), seed, T, D, chisq, failed, Dm)


def defined_draws(prob, defs, T: np.ndarray) -> np.ndarray:
    """The defined parameters for every row of ``T`` (vectorised evaluation)."""
    from .defined import evaluate_definitions
    if not defs or T.shape[0] == 0:
        return np.zeros((T.shape[0], len(defs)))
    labels = prob.pt.c("label")
    free = prob.par >= 0
    env = {}
    for r, lbl in enumerate(labels):
        if lbl and lbl not in env:
            env[lbl] = T[:, prob.par[r]] if free[r] else np.full(T.shape[0], prob.fixed[r])
    vals = evaluate_definitions(defs, env)
    return np.column_stack([np.broadcast_to(np.asarray(vals[d.name], dtype=float), (T.shape[0],))
                            for d in defs])


# ----------------------------------------------------------------------------- intervals
def norm_inter(t: np.ndarray, alpha) -> np.ndarray:
    """Interpolated order statistics, ``boot:::norm.inter`` (as lavaan copies it).

    For ``rk = (R + 1) alpha`` between two order statistics, interpolates linearly on
    the normal-quantile scale; integer ``rk`` takes the order statistic itself.
    """
    t = np.sort(np.asarray(t, dtype=float)[np.isfinite(t)])
    R = len(t)
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    out = np.empty(len(alpha))
    for j in range(len(alpha)):
        if k[j] == rk[j]:
            out[j] = t[k[j] - 1] if 1 <= k[j] <= R else (t[0] if k[j] < 1 else t[-1])
        elif k[j] <= 0:
            out[j] = t[0]
        elif k[j] >= R:
            out[j] = t[-1]
        else:
            z1 = special.ndtri(alpha[j])
            z2 = special.ndtri(k[j] / (R + 1))
            z3 = special.ndtri((k[j] + 1) / (R + 1))
            tk, tk1 = t[k[j] - 1], t[k[j]]
            out[j] = tk + (z1 - z2) / (z3 - z2) * (tk1 - tk)
    return out


def _interval(t, est, se, kind, level, center=None):
    a = (1 - level) / 2
    if kind == "norm":
        bias = (np.mean(t) if center is None else center) - est
        q = special.ndtri(1 - a)
        return est - bias - q * se, est - bias + q * se
    if kind == "perc":
        lo, hi = norm_inter(t, [a, 1 - a])
        return lo, hi
    if kind == "basic":
        lo_q, hi_q = norm_inter(t, [1 - a, a])
        return 2 * est - lo_q, 2 * est - hi_q
    if kind == "bca.simple":
        tt = t[np.isfinite(t)]
        if np.var(tt) == 0:
            return est, est
        w = special.ndtri(np.sum(tt < est) / len(tt))
        za = special.ndtri(np.array([a, 1 - a]))
        adj = special.ndtr(w + (w + za))
        lo, hi = norm_inter(tt, adj)
        return lo, hi
    raise ModelSpecificationError(
        f"The bootstrap interval type must be one of {', '.join(map(repr, CI_TYPES))}; got "
        f"{kind!r}.")


def bootstrap_intervals(estimates: pd.DataFrame, par: np.ndarray, draws: BootstrapDraws,
                        kind: str = "perc", level: float = 0.95):
    """Lower and upper bounds for every row of ``estimates`` (lavaan ``parameterEstimates``).

    ``par`` is the free-parameter index of each parameter-table row (``-1`` fixed); the
    remaining rows of ``estimates`` are the defined parameters, in order. Fixed rows get
    ``est, est`` (as lavaan). Uses the ``se`` column for ``"norm"``.
    """
    if kind not in CI_TYPES:
        raise ModelSpecificationError(
            f"The 'type' argument must be one of {', '.join(map(repr, CI_TYPES))}; got {kind!r}.")
    if not (isinstance(level, float) and 0 < level < 1):
        raise ModelSpecificationError(f"The 'level' argument must be in (0, 1); got {level!r}.")
    est = estimates["est"].to_numpy(dtype=float)
    se = estimates["se"].to_numpy(dtype=float)
    lo = est.copy()
    hi = est.copy()
    n_rows = len(par)
    for r in range(len(est)):
        center = None
        if r < n_rows:
            k = par[r]
            if k < 0:
                continue
            t = draws.theta[:, k]
        else:
            t = draws.defined[:, r - n_rows]
            center = draws.defined_at_mean[r - n_rows]
        lo[r], hi[r] = _interval(t, est[r], se[r], kind, level, center)
    return lo, hi

