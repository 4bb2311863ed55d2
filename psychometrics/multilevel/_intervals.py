"""Confidence intervals for GLMMs: Wald, profile likelihood and parametric bootstrap
(lme4 ``confint(fit, method = "Wald" | "profile" | "boot")``).
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._blas import single_blas_thread
from ..exceptions import ModelSpecificationError

__all__ = ["glmm_confint"]


def _minimize_with(core, nagq, x_hat, fixed: dict):
    """Minimum deviance over the parameters not in ``fixed`` (index -> value)."""
    k = core.k
    free = np.ones(len(x_hat), dtype=bool)
    x0 = x_hat.copy()
    for i, v in fixed.items():
        free[i] = False
        x0[i] = v
    lo = np.concatenate([core.lower, np.full(core.p, -np.inf)])

    def full(xf):
        x = x0.copy()
        x[free] = xf
        return x

    def fg(xf):
        x = full(xf)
        if nagq == 1:
            d, g = core.deviance(x[:k], x[k:], grad=True)
            return d, g[free]
        d = core.deviance_agq(x[:k], x[k:], nagq)
        g = np.empty(free.sum())
        for j, idx in enumerate(np.flatnonzero(free)):
            h = 1e-5 * max(1.0, abs(x[idx]))
            xa = x.copy()
            xa[idx] += h
            g[j] = (core.deviance_agq(xa[:k], xa[k:], nagq) - d) / h
        return d, g
    bounds = [(lo[i] if np.isfinite(lo[i]) else None, None) for i in np.flatnonzero(free)]
    res = optimize.minimize(fg, x0[free], jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-8})
    return float(res.fun)


def _profile_limits(core, nagq, x_hat, dev_hat, i, se, crit, lower_bound):
    def f(v):
        return _minimize_with(core, nagq, x_hat, {i: v}) - dev_hat - crit

    out = []
    for sign in (-1, 1):
        step = max(se, 1e-3)
        a = x_hat[i]
        b = a + sign * step
        if lower_bound is not None and b < lower_bound:
            b = lower_bound
        for _ in range(40):
            if f(b) > 0:
                break
            if lower_bound is not None and b <= lower_bound:
                b = None
                break
            a, b = b, b + sign * step
            step *= 1.6
            if lower_bound is not None and b < lower_bound:
                b = lower_bound
        if b is None:
            out.append(lower_bound)
            continue
        out.append(optimize.brentq(f, min(a, b), max(a, b), xtol=1e-6))
    return out


def glmm_confint(fit, method: str, level: float, nsim: int, seed):
    if method not in ("wald", "profile", "boot"):
        raise ModelSpecificationError(
            f"The 'method' parameter must be 'wald', 'profile' or 'boot'. Got {method!r} instead.")
    if not 0 < level < 1:
        raise ModelSpecificationError(f"The 'level' parameter must be in (0, 1). Got {level!r}.")
    core = fit._core
    k = core.k
    theta = fit.theta.to_numpy()
    beta = fit.fixef.to_numpy()
    x_hat = np.concatenate([theta, beta])
    names = [f"theta:{n}" for n in fit.theta.index] + list(fit.fixef.index)
    se = np.concatenate([np.full(k, np.nan), np.sqrt(np.diag(fit.vcov.to_numpy()))])
    rows = []
    if method == "wald":
        zc = stats.norm.ppf(0.5 + level / 2)
        for j, nm in enumerate(names):
            lo_, hi_ = (x_hat[j] - zc * se[j], x_hat[j] + zc * se[j]) if j >= k else (np.nan, np.nan)
            rows.append({"term": nm, "est": x_hat[j], "ci_lower": lo_, "ci_upper": hi_})
        return pd.DataFrame(rows)
    nagq = fit.nagq
    if method == "profile":
        crit = stats.chi2.ppf(level, 1)
        dev_hat = fit.deviance
        with single_blas_thread():
            for j, nm in enumerate(names):
                diag = j < k and core.tpos[j][0] == core.tpos[j][1]
                step = se[j] if j >= k else max(0.25 * abs(x_hat[j]), 0.05)
                lo_, hi_ = _profile_limits(core, nagq, x_hat, dev_hat, j, step, crit,
                                           0.0 if diag else None)
                rows.append({"term": nm, "est": x_hat[j], "ci_lower": lo_, "ci_upper": hi_})
        return pd.DataFrame(rows)
    # parametric bootstrap
    from .glmm import _optimize
    sims = fit.simulate(nsim=nsim, seed=seed).to_numpy()[core.order]
    est = np.empty((nsim, len(x_hat)))
    boot = copy.copy(core)
    with single_blas_thread():
        for s in range(nsim):
            boot.y = sims[:, s]
            boot.c0 = boot.fam.const(boot.y, boot.wt)
            boot.c0_sum = float(boot.c0.sum())
            boot._u = core._u.copy()
            x, _, _ = _optimize(boot, nagq, x_hat.copy())
            x[:k] = np.where([r == c for r, c in core.tpos], np.abs(x[:k]), x[:k])
            est[s] = x
    a = (1 - level) / 2
    for j, nm in enumerate(names):
        rows.append({"term": nm, "est": x_hat[j], "ci_lower": float(np.quantile(est[:, j], a)),
                     "ci_upper": float(np.quantile(est[:, j], 1 - a))})
    return pd.DataFrame(rows)
