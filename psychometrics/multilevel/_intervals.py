"""Confidence intervals for GLMMs: Wald, profile likelihood and parametric bootstrap
(lme4 ``confint(fit, method = "Wald" | "profile" | "boot")``).
"""
from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pandas as pd

from .._blas import single_blas_thread
from ..exceptions import ModelSpecificationError
from .._lazy import lazy_module

optimize = lazy_module("scipy.optimize")
stats = lazy_module("scipy.stats")


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
    sc = getattr(core, "x_scale", None)           # several grouping factors: scaled beta
    if sc is not None:
        scf = np.asarray(sc, dtype=float)[free]

        def fgs(z):
            d, g = fg(z * scf)
            return d, g * scf
        bounds = [(lo[i] / sc[i] if np.isfinite(lo[i]) else None, None)
                  for i in np.flatnonzero(free)]
        res = optimize.minimize(fgs, x0[free] / scf, jac=True, method="L-BFGS-B",
                                bounds=bounds,
                                options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-8})
        return float(res.fun)
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
    from ._glmm_core import _optimize
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


# =========================================================================== LMM profile / boot
# lme4 ``profile.merMod`` / ``confint(fit, method = "profile")`` for linear mixed models: the ML
# deviance (a REML fit is refitted by ML first, as lme4's ``devfun2``) as a function of the
# random-effect SDs and correlations and the residual SD (lme4's ``.sig01, ..., .sigma``), the
# fixed effects profiled out; each parameter in turn is held fixed and the deviance minimised
# over the others. The interval ends are where the signed square root of the deviance increase,
# ``zeta``, equals the normal quantiles. lme4 interpolates ``zeta`` by an interpolating spline
# through the points of its profile path and inverts the spline; here each end is found as a
# root of the exact profile (Brent's method), so lme4's values differ by its interpolation
# error (about 1e-4 relative, see docs/multilevel.md).
class _VarPar:
    """Map between lme4's theta and the SD/correlation parameters (``Cv_to_Sv``/``Sv_to_Cv``)."""

    def __init__(self, tpos, blocks):
        self.tpos = [tuple(t) for t in tpos]
        self.blocks = [list(b) for b in blocks]
        self.k = len(self.tpos)
        self.diag = np.array([r == c for r, c in self.tpos])
        self.q = 1 + max(max(r, c) for r, c in self.tpos)

    def T_of(self, theta):
        T = np.zeros((self.q, self.q))
        for (r, c), v in zip(self.tpos, theta):
            T[r, c] = v
        return T

    def to_sv(self, theta, sigma):
        D = self.T_of(theta)
        D = D @ D.T
        out = np.empty(self.k)
        for i, (r, c) in enumerate(self.tpos):
            if r == c:
                out[i] = sigma * math.sqrt(max(D[r, r], 0.0))
            else:
                den = math.sqrt(D[r, r] * D[c, c])
                out[i] = D[r, c] / den if den > 0 else 0.0
        return out

    def to_theta(self, sv, sigma):
        """theta from SDs/correlations (None when the correlations are not positive
        semi-definite). Zero SDs give zero columns of T (a pivot-free Cholesky that
        tolerates a semi-definite matrix)."""
        sd = np.zeros(self.q)
        R = np.eye(self.q)
        for i, (r, c) in enumerate(self.tpos):
            if r == c:
                sd[r] = sv[i] / sigma
            else:
                R[r, c] = R[c, r] = sv[i]
        theta = np.zeros(self.k)
        pos = {t: i for i, t in enumerate(self.tpos)}
        for blk in self.blocks:
            m = len(blk)
            D = R[np.ix_(blk, blk)] * np.outer(sd[blk], sd[blk])
            L = np.zeros((m, m))
            for j in range(m):
                piv = D[j, j] - L[j, :j] @ L[j, :j]
                scale = max(D[j, j], 1e-300)
                if piv < -1e-10 * scale:
                    return None
                if piv <= 1e-14 * scale:
                    # semi-definite: the rest of this column must vanish
                    for i in range(j + 1, m):
                        resid = D[i, j] - L[i, :j] @ L[j, :j]
                        if abs(resid) > 1e-7 * math.sqrt(max(D[i, i] * D[j, j], 1e-300)):
                            return None
                    continue
                L[j, j] = math.sqrt(piv)
                for i in range(j + 1, m):
                    L[i, j] = (D[i, j] - L[i, :j] @ L[j, :j]) / L[j, j]
            for a, r in enumerate(blk):
                for b, c in enumerate(blk[:a + 1]):
                    if (r, c) in pos:
                        theta[pos[(r, c)]] = L[a, b]
        return theta


def _fit_blocks(fit):
    spec = fit._spec
    if hasattr(spec, "blocks"):
        return spec.blocks
    return [tuple(range(t["off"], t["off"] + t["q"])) for t in spec.terms]


def _lme4_names(fit):
    k = len(fit.theta)
    return [f".sig{i + 1:02d}" for i in range(k)] + [".sigma"] + list(fit.fixef.index)


def _vc_names(fit, vp):
    """Our names of the variance parameters in theta order: ``sd_cor:group:var1[:var2]``."""
    names = []
    if hasattr(fit._spec, "blocks"):
        spec = fit._spec
        for r, c in spec.tpos:
            a, b = spec.re_names[c], spec.re_names[r]
            names.append(f"sd_cor:{spec.group}:{a}" if r == c else f"sd_cor:{spec.group}:{a}:{b}")
    else:
        for t in fit._spec.terms:
            for r, c in t["tpos"]:
                a, b = t["re_names"][c], t["re_names"][r]
                names.append(f"sd_cor:{t['name']}:{a}" if r == c
                             else f"sd_cor:{t['name']}:{a}:{b}")
    return names + ["sd_cor:Residual"]


class _Profile:
    """The ML deviance of a fitted LMM in lme4's (SD/correlation, sigma) parameters."""

    def __init__(self, fit):
        self.ml = fit.refit_ml()
        self.core = self.ml._core
        self.vp = _VarPar(fit._spec.tpos, _fit_blocks(fit))
        self.k = self.vp.k
        self.n = self.core.n
        sig = self.ml.sigma
        self.opt = np.append(self.vp.to_sv(self.ml.theta.to_numpy(), sig), sig)
        self.base = self.dev(self.opt)
        # which parameters are correlations, which SDs
        self.is_cor = np.append(~self.vp.diag, False)

    def dev(self, par):
        sigma = par[-1]
        if not sigma > 0:
            return np.inf
        theta = self.vp.to_theta(par[:-1], sigma)
        if theta is None:
            return np.inf
        ev = self.core.evaluate(theta, reml=False)
        if not ev.get("ok", False):
            return np.inf
        return float(ev["ldL2"] + ev["pwrss"] / sigma ** 2 + self.n * math.log(2 * math.pi * sigma ** 2))

    # ---- optimisation over all parameters but w, in transformed coordinates
    def _to_z(self, par, free):
        z = []
        for i in np.flatnonzero(free):
            v = par[i]
            if i == self.k:
                z.append(math.log(v))
            elif self.is_cor[i]:
                z.append(math.atanh(np.clip(v, -1 + 1e-12, 1 - 1e-12)))
            else:
                z.append(v / self.scale)
        return np.array(z)

    def _from_z(self, z, base, free):
        par = base.copy()
        for zi, i in zip(z, np.flatnonzero(free)):
            if i == self.k:
                par[i] = math.exp(zi)
            elif self.is_cor[i]:
                par[i] = math.tanh(zi)
            else:
                par[i] = abs(zi) * self.scale
        return par

    @property
    def scale(self):
        return max(self.opt[-1], 1e-8)

    def minimize_given(self, w, value, start):
        """min over the other parameters of dev with parameter ``w`` at ``value``."""
        from scipy import optimize as _opt
        free = np.ones(self.k + 1, dtype=bool)
        free[w] = False
        base = start.copy()
        base[w] = value
        if not free.any():
            return self.dev(base), base
        # SDs enter as |z| (the deviance is even in a scalar SD; for an SD of a correlated
        # block the sign is folded by abs as well, which keeps every correlation's sign)
        f = lambda z: self.dev(self._from_z(z, base, free))  # noqa: E731

        def fg(z):
            f0 = f(z)
            g = np.empty_like(z)
            for j in range(z.size):
                h = 1e-6 * max(1.0, abs(z[j]))
                e = np.zeros_like(z)
                e[j] = h
                g[j] = (f(z + e) - f(z - e)) / (2 * h)
            return f0, g
        z0 = self._to_z(base, free)
        best = _opt.minimize(fg, z0, jac=True, method="L-BFGS-B",
                             options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-7})
        par = self._from_z(best.x, base, free)
        return float(best.fun), par


def _signed_root(fn, v0, sign, target, step, bound, start):
    """Point v on side ``sign`` of v0 where ``fn(v, start)`` (the profile deviance increase)
    equals ``target``; ``bound`` (or None) limits v; returns the bound when the increase stays
    below ``target`` up to it. The bracket is found by secant steps on ``zeta`` (the signed
    square root of the increase, nearly linear in v), then closed by Brent's method."""
    from scipy import optimize as _opt
    cache = {v0: (0.0, start)}
    zt = math.sqrt(target)

    def z(v):
        if v not in cache:
            near = min(cache, key=lambda u: abs(u - v))
            cache[v] = fn(v, cache[near][1])
        return math.sqrt(max(cache[v][0], 0.0)) - zt

    def clip(v):
        if bound is not None and (v - bound) * sign >= 0:
            return bound
        return v
    pa, za = v0, -zt
    b = clip(v0 + sign * step)
    for _ in range(60):
        zb = z(b)
        if zb > 0:
            break
        if bound is not None and b == bound:
            return bound
        # secant extrapolation to the target, 5% beyond it, at most 4x the last distance
        dist = abs(b - pa)
        if zb > za:
            nxt = (b - pa) / (zb - za) * (-zb) * 1.05
            nxt = sign * min(max(abs(nxt), 0.05 * dist), 4.0 * dist)
        else:
            nxt = sign * 2.0 * dist
        pa, za = b, zb
        b = clip(b + nxt)
    else:
        return float("nan")
    lo_, hi_ = (pa, b) if pa < b else (b, pa)
    return float(_opt.brentq(z, lo_, hi_, xtol=1e-9 * max(1.0, abs(v0)), rtol=1e-10))


def _num_hessian(f, x, rel=1e-4):
    k = x.size
    h = rel * np.maximum(np.abs(x), 1e-2)
    f0 = f(x)
    H = np.empty((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H


def lmm_profile_confint(fit, level: float = 0.95) -> pd.DataFrame:
    """lme4 ``confint(fit, method = "profile")`` for a (multi-factor) LMM."""
    with single_blas_thread():
        P = _Profile(fit)
        crit = stats.chi2.ppf(level, 1)
        zc = math.sqrt(crit)
        rows = []
        k = P.k
        est_fit = np.append(P.vp.to_sv(fit.theta.to_numpy(), fit.sigma), fit.sigma)
        # Wald SEs of the SD/correlation parameters (first steps of the root search)
        wse = np.full(k + 1, np.nan)
        inner = ~((~P.is_cor) & (P.opt <= 1e-8 * P.opt[-1])) & (np.abs(P.opt) < 1 - 1e-6)
        try:
            Hs = _num_hessian(lambda x: P.dev(np.where(inner, x, P.opt)), P.opt)
            idx = np.flatnonzero(inner)
            cov = 2 * np.linalg.inv(Hs[np.ix_(idx, idx)])
            wse[idx] = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
        except np.linalg.LinAlgError:
            pass
        for w in range(k + 1):
            v0 = P.opt[w]

            def fn(v, st, w=w):
                d, par = P.minimize_given(w, v, st)
                return d - P.base, par
            if P.is_cor[w]:
                step = 0.1 if abs(v0) < 0.9 else 0.25 * (1 - abs(v0))
                if np.isfinite(wse[w]):
                    step = min(zc * wse[w], 0.5 * (1 - abs(v0)) + 1e-6)
                lo_ = _signed_root(fn, v0, -1, crit, step, -1.0, P.opt)
                hi_ = _signed_root(fn, v0, 1, crit, step, 1.0, P.opt)
            else:
                step = 0.25 * v0 if v0 > 0 else 0.05 * P.opt[-1]
                if np.isfinite(wse[w]):
                    step = min(zc * wse[w], 0.9 * v0) if v0 > 0 else step
                lo_ = 0.0 if v0 == 0 else _signed_root(fn, v0, -1, crit, step, 0.0, P.opt)
                hi_ = _signed_root(fn, v0, 1, crit, step, None, P.opt)
            rows.append((est_fit[w], lo_, hi_))
        # fixed effects: beta_j held at a value through the offset, the ML deviance minimised
        # over theta (sigma profiled), as lme4's profile of the fixed effects
        ml = P.ml
        beta = ml.fixef.to_numpy()
        se = np.sqrt(np.diag(ml.vcov.to_numpy()))
        th0 = ml.theta.to_numpy()
        base_fe = float(P.core.evaluate(th0, reml=False)["dev"])
        for j in range(len(beta)):
            red = _core_fix_beta(P.core, j)

            def fn(v, st, red=red):
                c = red(v)
                sc = c.theta_scale
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x, d, *_ = c._run(np.asarray(st, dtype=float) / sc, False, sc, 1000)
                return float(d) - base_fe, x * sc
            lo_ = _signed_root(fn, beta[j], -1, crit, zc * se[j], None, th0)
            hi_ = _signed_root(fn, beta[j], 1, crit, zc * se[j], None, th0)
            rows.append((fit.fixef.to_numpy()[j], lo_, hi_))
    names = _vc_names(fit, P.vp) + list(fit.fixef.index)
    arr = np.array(rows, dtype=float)
    return pd.DataFrame({"term": names, "lme4_name": _lme4_names(fit), "est": arr[:, 0],
                         "ci_lower": arr[:, 1], "ci_upper": arr[:, 2]})


def _core_fix_beta(core, j):
    """A function v -> a shallow copy of ``core`` for the model with fixed effect j held at v
    (column j moved into the offset): the cross-products are updated, no data are touched."""
    keep = [i for i in range(core.p) if i != j]

    def make(v):
        c = copy.copy(core)
        c.p = core.p - 1
        c.XtX = core.XtX[np.ix_(keep, keep)]
        c.Xty = core.Xty[keep] - v * core.XtX[keep, j]
        c.yty = core.yty - 2 * v * core.Xty[j] + v * v * core.XtX[j, j]
        if hasattr(core, "ZtX"):          # several grouping factors
            c.ZtX = core.ZtX[:, keep]
            c.Zty = core.Zty - v * core.ZtX[:, j]
        else:
            c.ZX = np.ascontiguousarray(core.ZX[:, :, keep])
            c.Zy = core.Zy - v * core.ZX[:, :, j]
        return c
    return make


def lmm_boot_confint(fit, level: float, nsim: int, seed) -> pd.DataFrame:
    """Parametric bootstrap percentile intervals of a multi-factor LMM (lme4 ``confint(fit,
    method = "boot", boot.type = "perc")``, i.e. ``bootMer(use.u = FALSE)``): ``nsim``
    outcomes simulated from the fit (new random effects and residuals), each refitted from the
    fit's estimates; the SD/correlation parameters, sigma and the fixed effects of each refit."""
    if not (isinstance(nsim, (int, np.integer)) and nsim >= 2):
        raise ModelSpecificationError(f"The 'nsim' parameter must be an integer >= 2. Got {nsim!r}.")
    core = fit._core
    vp = _VarPar(fit._spec.tpos, _fit_blocks(fit))
    sims = fit.simulate(nsim=nsim, seed=seed).to_numpy()
    X = core.data[1]
    sw = getattr(core, "sw", None)
    if sw is not None:                       # weighted fit: the core holds rows x sqrt(w)
        X = X * sw[:, None]
    Zt = core.Z.T.tocsr()
    boots = np.empty((nsim, vp.k + 1 + core.p))
    with single_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(nsim):
            y = sims[:, s] if sw is None else sims[:, s] * sw
            c = copy.copy(core)
            c.Zty = np.asarray(Zt @ y).ravel()
            c.Xty = X.T @ y
            c.yty = float(y @ y)
            c.data = (y, X)
            f = fit._refit(c)              # the fit's own fitting function (no import of it)
            boots[s] = np.concatenate([vp.to_sv(f.theta.to_numpy(), f.sigma), [f.sigma],
                                       f.fixef.to_numpy()])
    a = (1 - level) / 2
    est = np.concatenate([vp.to_sv(fit.theta.to_numpy(), fit.sigma), [fit.sigma],
                          fit.fixef.to_numpy()])
    return pd.DataFrame({"term": _vc_names(fit, vp) + list(fit.fixef.index),
                         "lme4_name": _lme4_names(fit), "est": est,
                         "ci_lower": np.nanquantile(boots, a, axis=0),
                         "ci_upper": np.nanquantile(boots, 1 - a, axis=0)})


def lmm_wald_confint(fit, level: float) -> pd.DataFrame:
    """lme4 ``confint(fit, method = "Wald")``: normal-quantile intervals of the fixed effects;
    NaN for the variance parameters (as lme4)."""
    vp = _VarPar(fit._spec.tpos, _fit_blocks(fit))
    se = np.sqrt(np.diag(fit.vcov.to_numpy()))
    zc = stats.norm.ppf(0.5 + level / 2)
    beta = fit.fixef.to_numpy()
    nv = vp.k + 1
    est = np.concatenate([vp.to_sv(fit.theta.to_numpy(), fit.sigma), [fit.sigma], beta])
    return pd.DataFrame({"term": _vc_names(fit, vp) + list(fit.fixef.index),
                         "lme4_name": _lme4_names(fit), "est": est,
                         "ci_lower": np.concatenate([np.full(nv, np.nan), beta - zc * se]),
                         "ci_upper": np.concatenate([np.full(nv, np.nan), beta + zc * se])})


def check_confint_args(method, level, allowed):
    if method not in allowed:
        raise ModelSpecificationError(
            f"The 'method' parameter must be one of {', '.join(map(repr, allowed))}. Got "
            f"{method!r} instead.")
    if not (isinstance(level, (float, int)) and 0 < level < 1):
        raise ModelSpecificationError(f"The 'level' parameter must be in (0, 1). Got {level!r}.")
