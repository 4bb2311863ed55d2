"""Generalised linear mixed models with several grouping factors (lme4 ``glmer``, Laplace).

``mixed(formula, data, family="poisson" | "binomial")`` with nested or crossed random terms,
e.g. lme4's grouseticks ``TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)``.
The random effects are lme4's ``b = Lambda u``, ``u ~ N(0, I)``, with ``Z`` and ``Lambda`` as for
the linear model with several factors (``_multi.MultiLMMCore``). The Laplace deviance

    sum_i -2 log p(y_i | u_hat) + |u_hat|^2 + log det(Lambda' Z' W Z Lambda + I)

at the conditional modes ``u_hat`` (penalised IRLS on all random effects at once: a Newton
step solves with the sparse matrix ``H = Lambda' Z' W Z Lambda + I``, step halving) is minimised
over ``(theta, beta)`` jointly (lme4's second stage) by L-BFGS-B with central-difference
gradients. ``vcov`` is ``2 [H^-1]_beta,beta`` from the Hessian of the deviance in
``(theta, beta)`` by lme4's ``deriv12`` central differences (``use.hessian = TRUE``). A variance
at 0 is accepted only after refits from interior starts found nothing lower.
"""
from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning, ModelSpecificationError, SingularFitWarning
from ..results import Summary
from .._blas import single_blas_thread
from .._lazy import lazy_module

sp = lazy_module("scipy.sparse")
optimize = lazy_module("scipy.optimize")
spla = lazy_module("scipy.sparse.linalg")


__all__ = ["MultiGlmmResult", "glmm_multi_fit"]


class MultiGLMMCore:
    """Laplace deviance of a GLMM with several random-effects terms."""

    def __init__(self, y, X, lmm, fam, wt, off):
        self.y, self.X, self.fam, self.wt, self.off = y, X, fam, wt, off
        self.lmm = lmm                      # MultiLMMCore: Z, Lambda(theta), tpos, lower
        self.Z = lmm.Z.tocsc()
        self.n, self.p = X.shape
        self.Q = lmm.Q
        self.tpos = lmm.tpos
        self.k = len(self.tpos)
        self.lower = lmm.lower
        self._u = np.zeros(self.Q)
        self.c0_sum = float(fam.const(y, wt).sum())
        self._I = sp.identity(self.Q, format="csc")

    def _factor(self, ZL, W):
        H = (ZL.T @ sp.diags(W) @ ZL + self._I).tocsc()
        lu = spla.splu(H, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options={"SymmetricMode": True})
        d = lu.U.diagonal()
        if np.any(d <= 0):
            raise np.linalg.LinAlgError("H is not positive definite")
        return lu, float(np.sum(np.log(d)))

    def modes(self, theta, beta, tol=1e-10, maxit=100):
        ZL = (self.Z @ self.lmm.Lambda(theta)).tocsc()
        base = self.X @ beta + self.off
        u = self._u.copy()
        with np.errstate(all="ignore"):
            eta = base + ZL @ u
            mu = self.fam.mu(eta)
            obj = float(self.fam.m2ll_var(self.y, mu, self.wt).sum() + u @ u)
        if not np.isfinite(obj):          # a poor warm start: from u = 0
            u = np.zeros(self.Q)
            eta = base
            mu = self.fam.mu(eta)
            obj = float(self.fam.m2ll_var(self.y, mu, self.wt).sum())
        for _ in range(maxit):
            W = self.fam.w_exp(self.y, mu, self.wt)
            r = self.fam.score(self.y, mu, self.wt)
            lu, _ = self._factor(ZL, W)
            step = lu.solve(ZL.T @ r - u)
            fac = 1.0
            for _h in range(40):
                un = u + fac * step
                eta_n = base + ZL @ un
                mu_n = self.fam.mu(eta_n)
                with np.errstate(all="ignore"):
                    obj_n = float(self.fam.m2ll_var(self.y, mu_n, self.wt).sum() + un @ un)
                if obj_n <= obj + 1e-12 * (1 + abs(obj)):
                    break
                fac /= 2
            u, eta, mu, obj = un, eta_n, mu_n, obj_n
            size = np.max(np.abs(fac * step))
            # a full Newton step below 1e-6: the next would be ~1e-12 (quadratic convergence)
            if size < tol or (fac == 1.0 and size < 1e-6):
                break
        self._u = u
        return u, mu, ZL

    def deviance(self, theta, beta, grad: bool = False):
        """The Laplace deviance; with ``grad`` also its central-difference gradient in
        ``(theta, beta)`` (one-sided at a variance of 0)."""
        if grad:
            x = np.concatenate([np.asarray(theta, dtype=float), np.asarray(beta, dtype=float)])
            k = self.k
            d = self.deviance(x[:k], x[k:])
            g = np.empty_like(x)
            for j in range(x.size):
                h = 1e-6 * max(1.0, abs(x[j]))
                xa, xb = x.copy(), x.copy()
                xa[j] += h
                xb[j] -= h
                if j < k and xb[j] < self.lower[j]:
                    g[j] = (self.deviance(xa[:k], xa[k:]) - d) / h
                else:
                    g[j] = (self.deviance(xa[:k], xa[k:]) - self.deviance(xb[:k], xb[k:])) / (2 * h)
            return d, g
        theta = np.asarray(theta, dtype=float)
        beta = np.asarray(beta, dtype=float)
        if np.any(theta < self.lower):
            return np.inf
        try:
            with np.errstate(all="ignore"):
                u, mu, ZL = self.modes(theta, beta)
                _, ld = self._factor(ZL, self.fam.w_exp(self.y, mu, self.wt))
                d = float(self.fam.m2ll_var(self.y, mu, self.wt).sum() + self.c0_sum + u @ u + ld)
        except (np.linalg.LinAlgError, RuntimeError, FloatingPointError, ValueError):
            d = np.inf
        if not np.isfinite(d):
            self._u = np.zeros(self.Q)
            return np.inf
        return d

    def glm_start(self):
        from ._glmm_core import GLMMCore
        return GLMMCore.glm_start(self)


def _minimize(core, x0, sc):
    """L-BFGS-B over z = x / sc (sc: 1 for theta, the GLM's information scale for beta)."""
    k = core.k
    lo = np.concatenate([core.lower, np.full(core.p, -np.inf)]) / sc

    def f(z):
        x = z * sc
        return core.deviance(x[:k], x[k:])

    def fg(x):
        d = f(x)
        g = np.empty_like(x)
        for j in range(x.size):
            h = 1e-6 * max(1.0, abs(x[j]))
            xa, xb = x.copy(), x.copy()
            xa[j] += h
            xb[j] -= h
            if xb[j] < lo[j]:
                g[j] = (f(xa) - d) / h
            else:
                g[j] = (f(xa) - f(xb)) / (2 * h)
        return d, g
    bounds = [(v if np.isfinite(v) else None, None) for v in lo]
    res = optimize.minimize(fg, x0 / sc, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 3000, "ftol": 1e-15, "gtol": 1e-8, "maxcor": 20})
    z = np.asarray(res.x, dtype=float)
    return z * sc, float(f(z)), res


@dataclass(frozen=True, eq=False)
class MultiGlmmResult:
    """GLMM with several grouping factors (lme4 ``glmer``, Laplace), immutable.

    Attributes as :class:`~psychometrics.multilevel.glmm.GlmmResult`, except ``groups`` (lme4's
    order of the grouping factors), ``n_groups`` (dict) and ``ranef`` (dict of DataFrames, one
    per grouping factor).
    """

    formula: str
    family: str
    link: str
    nagq: int
    n_obs: int
    groups: tuple
    n_groups: dict
    n_dropped: int
    fixef: pd.Series
    vcov: pd.DataFrame
    theta: pd.Series
    loglik: float
    npar: int
    aic: float
    bic: float
    deviance: float
    random_effects: pd.DataFrame
    ranef: dict
    converged: bool
    singular: bool
    messages: tuple
    timing: float
    _core: Any = field(repr=False, compare=False)
    _spec: Any = field(repr=False, compare=False)

    reml = False

    @cached_property
    def fixed_effects(self) -> pd.DataFrame:
        """term, est, se, z, p_value, ci_lower, ci_upper (Wald, 95%) and the odds/rate ratios
        (R: ``summary(fit)$coefficients``)."""
        from .glmm import GlmmResult
        return GlmmResult.fixed_effects.func(self)

    def to_frame(self) -> pd.DataFrame:
        return self.fixed_effects

    @property
    def _b(self):
        return np.concatenate([self.ranef[t["name"]].to_numpy().ravel() for t in self._spec.terms])

    def predict(self, newdata: pd.DataFrame | None = None, re_form: str | None = None,
                type: str = "link", allow_new_levels: bool = False) -> pd.Series:
        """Predictions (lme4 ``predict(fit, newdata, re.form, type, allow.new.levels)``);
        ``re_form`` None (all random terms), ``"~0"`` (none) or some of the model's terms,
        e.g. ``"~(1 | BROOD)"``."""
        from ._predict import predict_multi
        if type not in ("link", "response"):
            raise ModelSpecificationError(f"The 'type' parameter must be 'link' or 'response'. "
                                          f"Got {type!r} instead.")
        eta, index = predict_multi(self, newdata, re_form, allow_new_levels)
        if newdata is None:
            eta = eta + self._core.off
        if type == "response":
            eta = self._core.fam.mu(eta)
        return pd.Series(eta, index=index, name=type)

    def fitted(self, type: str = "response") -> pd.Series:
        return self.predict(type=type)

    def confint(self, method: str = "wald", level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals (lme4 ``confint(fit, method = "Wald" | "profile")``): Wald for
        the fixed effects; ``"profile"``: the Laplace deviance re-minimised over the other
        parameters at each point, for theta (the relative SDs, lme4's ``.sig01, ...``) and the
        fixed effects. Columns: term, est, ci_lower, ci_upper. (``"boot"``: one grouping
        factor only so far.)"""
        from ._intervals import glmm_confint
        if method == "boot":
            raise ModelSpecificationError(
                "method='boot' is not available for GLMMs with several grouping factors yet; "
                "use 'wald' or 'profile'.")
        return glmm_confint(self, method, level, 0, None)

    def __repr__(self) -> str:
        grp = ", ".join(f"{g} {self.n_groups[g]}" for g in self.groups)
        return (f"<MultiGlmmResult {self.family} {self.formula!r}: {self.n_obs} rows, {grp}, "
                f"logLik {self.loglik:.4f}>")

    def summary(self) -> Summary:
        header = [f"Family: {self.family} ({self.link})", f"Formula: {self.formula}",
                  f"Observations: {self.n_obs}; groups: "
                  + ", ".join(f"{g} {self.n_groups[g]}" for g in self.groups),
                  f"logLik {self.loglik:.4f}  AIC {self.aic:.4f}  BIC {self.bic:.4f}"]
        footer = []
        if self.singular:
            footer.append("Warning: singular fit (a random-effect variance is estimated as ~0).")
        if not self.converged:
            footer.append("Warning: the optimiser did not converge: " + "; ".join(self.messages))
        return Summary("Generalised linear mixed model fit by maximum likelihood (Laplace "
                       "approximation)", tuple(header),
                       (("Random effects:", self.random_effects),
                        ("Fixed effects:", self.fixed_effects)), tuple(footer))


def glmm_multi_fit(formula, data, family, nagq=1, weights=None, theta=None):
    """Fit a GLMM with several grouping factors (called by :func:`mixed`)."""
    from ._glmm_core import FAMILIES, _check_outcome, hessian12
    from ._multi import MultiLMMCore, _prepare_multi
    from ._design import SINGULAR_TOL
    if family not in FAMILIES:
        raise ModelSpecificationError(
            f"family={family!r} with several grouping factors: only 'binomial' and 'poisson' so "
            "far (negative binomial takes one grouping factor).")
    if nagq != 1:
        raise ModelSpecificationError(
            "nagq > 1 (adaptive quadrature) needs a single scalar random effect; with several "
            "grouping factors only the Laplace approximation (nagq=1) exists, as in lme4.")
    if weights is not None or theta is not None:
        raise ModelSpecificationError(
            "weights= and theta= are not supported for GLMMs with several grouping factors yet.")
    spec, y, X, raw, n_dropped = _prepare_multi(formula, data, family=family)
    if "offset(" in formula.replace(" ", ""):
        raise ModelSpecificationError(
            "offset() is not supported for GLMMs with several grouping factors yet.")
    _check_outcome(family, y, spec)
    t0 = _time.perf_counter()
    fam = FAMILIES[family]
    lmm = MultiLMMCore(y, X, raw)
    core = MultiGLMMCore(y, X, lmm, fam, np.ones(len(y)), np.zeros(len(y)))
    core.data = (y, X)
    k, p = core.k, core.p
    with single_blas_thread():
        beta0 = core.glm_start()
        mu0 = fam.mu(X @ beta0)
        info = np.einsum("np,n,np->p", X, fam.w_exp(y, mu0, core.wt), X) / len(y)
        sc = np.concatenate([np.ones(k), 1.0 / np.sqrt(np.maximum(info, 1e-300))])
        core.x_scale = sc
        best = None
        starts = [np.where([r == c for r, c in core.tpos], 1.0, 0.0)]
        tried = 0
        while starts:
            th0 = starts.pop(0)
            core._u = np.zeros(core.Q)
            x, dev, res = _minimize(core, np.concatenate([th0, beta0]), sc)
            tried += 1
            if best is None or dev < best[1] - 1e-10:
                best = (x, dev, res)
            diag = np.array([r == c for r, c in core.tpos])
            if tried == 1 and np.any(diag & (best[0][:k] < 1e-4)):
                # a variance at 0: check the interior from other starts
                starts += [np.where(diag, 0.5, 0.0), np.where(diag, 2.0, 0.0)]
        x, dev, res = best
        core._u = np.zeros(core.Q)
        dev = core.deviance(x[:k], x[k:])
        f = lambda v: core.deviance(v[:k], v[k:])  # noqa: E731
        # Newton polish on the interior parameters (the deviance is flat along the fixed
        # effects of a poorly scaled design; L-BFGS-B stops early there)
        diag0 = np.array([r == c for r, c in core.tpos] + [False] * p)
        H = hessian12(f, x)
        x_h = x.copy()
        for _ in range(4):                  # chord Newton: the Hessian of the first point
            inn = ~(diag0 & (x < 1e-6))
            g = np.empty(k + p)
            for j in range(k + p):
                h = 1e-5 * max(1.0, abs(x[j]))
                xa, xb = x.copy(), x.copy()
                xa[j] += h
                xb[j] -= h
                g[j] = (f(xa) - f(xb)) / (2 * h)
            try:
                step = np.zeros(k + p)
                step[inn] = -np.linalg.solve(H[np.ix_(inn, inn)], g[inn])
            except np.linalg.LinAlgError:
                break
            xn = x + step
            if np.any(xn[:k] < core.lower):
                break
            dn = f(xn)
            if not dn < dev:
                break
            x, dev = xn, dn
            if np.max(np.abs(step)) < 1e-9:
                break
        if np.max(np.abs(x - x_h)) > 1e-6:
            H = hessian12(f, x)
        # optimality: lme4's relative gradient on the interior parameters, positive definite H
        g = np.empty(k + p)
        for j in range(k + p):
            h = 1e-6 * max(1.0, abs(x[j]))
            xa, xb = x.copy(), x.copy()
            xa[j] += h
            xb[j] -= h
            lower_j = core.lower[j] if j < k else -np.inf
            g[j] = (f(xa) - f(xb)) / (2 * h) if xb[j] >= lower_j else (f(xa) - dev) / h
    diag = np.array([r == c for r, c in core.tpos] + [False] * p)
    inner = ~(diag & (x < 1e-6))
    messages = []
    try:
        Hi = H[np.ix_(inner, inner)]
        rel = np.linalg.solve(Hi, g[inner])
        min_eig = float(np.linalg.eigvalsh(Hi).min())
        converged = bool(np.max(np.abs(rel)) < 2e-3 and min_eig > 0)
        if not converged:
            messages.append(f"optimality check failed: max|H^-1 g| = {np.max(np.abs(rel)):.3g}, "
                            f"smallest Hessian eigenvalue {min_eig:.3g}")
    except np.linalg.LinAlgError:
        converged = False
        messages.append("the Hessian of the deviance is singular")
    # boundary components: the deviance must not fall at small positive values
    for j in np.flatnonzero(~inner):
        for s in (1e-4, 1e-3, 1e-2, 0.1):
            xt = x.copy()
            xt[j] = s
            if f(xt) < dev - 1e-8:
                converged = False
                messages.append(f"the deviance is lower at theta[{j}] = {s}")
                break
    theta_hat, beta = x[:k], x[k:]
    Hb = H
    try:
        Vfull = 2.0 * np.linalg.inv(Hb[np.ix_(inner, inner)])
        idx = np.flatnonzero(inner)
        pos = {j: i for i, j in enumerate(idx)}
        V = Vfull[np.ix_([pos[k + j] for j in range(p)], [pos[k + j] for j in range(p)])]
    except np.linalg.LinAlgError:
        V = np.full((p, p), np.nan)
    singular = bool(np.any(theta_hat[np.array([r == c for r, c in core.tpos])] < SINGULAR_TOL))
    if singular:
        msg = (f"Boundary (singular) fit of {formula!r}: a random-effect variance is estimated "
               "as ~0; see result.random_effects.")
        messages.append(msg)
        warnings.warn(msg, SingularFitWarning, stacklevel=3)
    if not converged:
        warnings.warn(f"Model {formula!r} failed to converge: {'; '.join(messages)}.",
                      ConvergenceWarning, stacklevel=3)
    # conditional modes and VarCorr
    core._u = np.zeros(core.Q)
    u, mu, ZL = core.modes(theta_hat, beta)
    b = np.asarray(lmm.Lambda(theta_hat) @ u).ravel()
    ranef, rows = {}, []
    Ts = lmm.T_list(theta_hat)
    for t in spec.terms:
        blk = b[t["col0"]:t["col0"] + t["G"] * t["q"]].reshape(t["G"], t["q"])
        ranef[t["name"]] = pd.DataFrame(blk, index=pd.Index(t["levels"], name=t["name"]),
                                        columns=list(t["re_names"]))
        D = Ts[t["name"]] @ Ts[t["name"]].T
        for c in range(t["q"]):
            rows.append({"group": t["name"], "var1": t["re_names"][c], "var2": None,
                         "variance": D[c, c], "sd_cor": math.sqrt(max(D[c, c], 0.0))})
        for c in range(t["q"]):
            for r in range(c + 1, t["q"]):
                den = math.sqrt(D[c, c] * D[r, r])
                rows.append({"group": t["name"], "var1": t["re_names"][c],
                             "var2": t["re_names"][r], "variance": D[r, c],
                             "sd_cor": D[r, c] / den if den > 0 else float("nan")})
    n = len(y)
    npar = k + p
    names = list(spec.fixed_names)
    return MultiGlmmResult(
        formula=formula, family=family, link=fam.link, nagq=1, n_obs=n,
        groups=tuple(t["name"] for t in spec.terms), n_groups={t["name"]: t["G"] for t in spec.terms},
        n_dropped=n_dropped, fixef=pd.Series(beta, index=names, name="est"),
        vcov=pd.DataFrame(V, index=names, columns=names),
        theta=pd.Series(theta_hat, index=list(spec.theta_names), name="theta"),
        loglik=-dev / 2, npar=npar, aic=dev + 2 * npar, bic=dev + math.log(n) * npar,
        deviance=dev, random_effects=pd.DataFrame(rows), ranef=ranef, converged=converged,
        singular=singular, messages=tuple(messages), timing=_time.perf_counter() - t0,
        _core=core, _spec=spec)
