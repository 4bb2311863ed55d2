"""Generalised linear mixed models (binomial logit, Poisson log) with one grouping factor.

``mixed(formula, data, family="binomial" | "poisson", nagq=1)`` lands here. The model is
lme4's ``glmer``: ``eta = X beta + Z Lambda u + offset``, ``u ~ N(0, I)``, with ``Lambda`` the
relative covariance factor (``theta``, lme4's order). The deviance

* ``nagq = 1`` (Laplace): ``sum_i -2 log p(y_i | u_hat) + |u_hat|^2 + log det(Lambda' Z' W Z Lambda + I)``
  at the conditional modes ``u_hat`` (penalised IRLS, one small Newton problem per patient);
* ``nagq > 1`` (one scalar random effect): adaptive Gauss-Hermite quadrature around ``u_hat``
  with the conditional SD ``1 / sqrt(H)``, as lme4's ``glmerAGQ`` (which, unlike the Laplace
  deviance, is built on deviance residuals: the constant ``-2 log p(y | saturated)`` is left out),

is minimised over ``(theta, beta)`` jointly, as lme4's second optimisation stage. The Laplace
deviance has an analytic gradient (implicit differentiation through the conditional modes);
the covariance of beta is ``2 [H^-1]_beta,beta`` from the Hessian of the deviance in
``(theta, beta)``, as lme4's default ``vcov`` (``use.hessian = TRUE``).

A zero variance is accepted only after refits from interior starting values found nothing
better (the deviance is even in a scalar theta, so theta = 0 is always a stationary point).
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
from scipy import optimize, special, stats

from ..exceptions import ConvergenceWarning, ModelSpecificationError, SingularFitWarning
from .._blas import single_blas_thread
from ..results import Summary

__all__ = ["GlmmResult", "glmm_fit"]

_EPS = np.finfo(float).eps


# --------------------------------------------------------------------------- families
class _Canonical:
    """Canonical link: the observed and expected information agree."""

    canonical = True
    extra_par = 0

    @classmethod
    def score(cls, y, mu, wt):          # d log p / d eta
        return wt * (y - mu)

    @classmethod
    def w_exp(cls, y, mu, wt):          # IRLS weights (expected information)
        return wt * cls.var(mu)

    @classmethod
    def w_obs(cls, y, mu, wt):          # -d score / d eta (observed information)
        return wt * cls.var(mu)

    @classmethod
    def dw_exp(cls, y, mu, wt):         # d w_exp / d eta
        return wt * cls.dvar_deta(mu)


class _Binomial(_Canonical):
    name = "binomial"
    link = "logit"

    @staticmethod
    def mu(eta):
        mu = special.expit(eta)
        return np.clip(mu, _EPS, 1 - _EPS)

    @staticmethod
    def var(mu):
        return mu * (1 - mu)

    @staticmethod
    def dvar_deta(mu):            # d/deta of mu(1-mu) for the logit link
        return mu * (1 - mu) * (1 - 2 * mu)

    @staticmethod
    def const(y, wt):
        """The part of -2 log p(y | mu) that does not depend on mu (binomial coefficient)."""
        m = np.round(wt)
        k = np.round(m * y)
        lc = special.gammaln(m + 1) - special.gammaln(k + 1) - special.gammaln(m - k + 1)
        return -2 * np.where(wt > 0, lc, 0.0)

    @staticmethod
    def m2ll_var(y, mu, wt):
        return -2 * wt * (special.xlogy(y, mu) + special.xlog1py(1 - y, -mu))

    @classmethod
    def m2loglik(cls, y, mu, wt):
        """-2 log p(y | mu) per row, as lme4's binomial ``aic`` (binomial coefficient included)."""
        return cls.const(y, wt) + cls.m2ll_var(y, mu, wt)

    @staticmethod
    def devres(y, mu, wt):
        return 2 * wt * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))

    @staticmethod
    def simulate(rng, mu, wt):
        m = np.round(wt).astype(int)
        return np.where(m > 0, rng.binomial(np.maximum(m, 1), mu) / np.maximum(m, 1), 0.0)


class _Poisson(_Canonical):
    name = "poisson"
    link = "log"

    @staticmethod
    def mu(eta):
        return np.exp(np.minimum(eta, 700.0))

    @staticmethod
    def var(mu):
        return mu

    @staticmethod
    def dvar_deta(mu):
        return mu

    @staticmethod
    def const(y, wt):
        return 2 * wt * special.gammaln(y + 1)

    @staticmethod
    def m2ll_var(y, mu, wt):
        return -2 * wt * (special.xlogy(y, mu) - mu)

    @classmethod
    def m2loglik(cls, y, mu, wt):
        return cls.const(y, wt) + cls.m2ll_var(y, mu, wt)

    @staticmethod
    def devres(y, mu, wt):
        return 2 * wt * (special.xlogy(y, y / mu) - (y - mu))

    @staticmethod
    def simulate(rng, mu, wt):
        return rng.poisson(mu).astype(float)


class _NegBinomial:
    """Negative binomial with log link and dispersion ``nb_theta`` (R's ``negative.binomial``);
    not canonical: IRLS (and lme4's Laplace) use the expected information."""

    name = "negative_binomial"
    link = "log"
    canonical = False
    extra_par = 1

    def __init__(self, nb_theta: float):
        self.th = float(nb_theta)

    @staticmethod
    def mu(eta):
        return np.exp(np.minimum(eta, 700.0))

    def var(self, mu):
        return mu + mu ** 2 / self.th

    def const(self, y, wt):
        t = self.th
        return -2 * wt * (special.gammaln(t + y) - special.gammaln(t) - special.gammaln(y + 1)
                          + t * np.log(t))

    def m2ll_var(self, y, mu, wt):
        t = self.th
        return -2 * wt * (special.xlogy(y, mu) - (t + y) * np.log(t + mu))

    def m2loglik(self, y, mu, wt):
        return self.const(y, wt) + self.m2ll_var(y, mu, wt)

    def score(self, y, mu, wt):
        return wt * self.th * (y - mu) / (mu + self.th)

    def w_exp(self, y, mu, wt):
        return wt * self.th * mu / (mu + self.th)

    def w_obs(self, y, mu, wt):
        return wt * self.th * mu * (y + self.th) / (mu + self.th) ** 2

    def dw_exp(self, y, mu, wt):
        return wt * self.th ** 2 * mu / (mu + self.th) ** 2

    def simulate(self, rng, mu, wt):
        p = self.th / (self.th + mu)
        return rng.negative_binomial(self.th, p).astype(float)


FAMILIES = {"binomial": _Binomial, "poisson": _Poisson}


# --------------------------------------------------------------------------- core
class GLMMCore:
    """Deviance, gradient and conditional modes of a one-grouping-factor GLMM.

    Rows are sorted by group once; every per-patient sum is a ``np.add.reduceat``.
    """

    def __init__(self, y, X, Z, codes, G, tpos, family, wt, offset):
        order = np.argsort(codes, kind="stable")
        self.order = order
        self.y, self.X, self.Z = y[order], X[order], Z[order]
        self.codes = codes[order]
        self.wt = wt[order]
        self.off = offset[order]
        self.G = G
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.tpos = list(tpos)
        self.k = len(self.tpos)
        self.fam = family
        counts = np.bincount(self.codes, minlength=G)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.ZZ = np.einsum("ni,nj->nij", self.Z, self.Z)
        self.ZX = np.einsum("ni,nj->nij", self.Z, self.X)
        self.lower = np.array([0.0 if r == c else -np.inf for r, c in self.tpos])
        self._u = np.zeros((G, self.q))
        self.c0 = family.const(self.y, self.wt)
        self.c0_sum = float(self.c0.sum())

    def gsum(self, a):
        return np.add.reduceat(a, self.starts, axis=0)

    def T_of(self, theta):
        T = np.zeros((self.q, self.q))
        for (r, c), v in zip(self.tpos, theta):
            T[r, c] = v
        return T

    def _eta(self, beta, T, u, base=None):
        base = np.einsum("np,p->n", self.X, beta) + self.off if base is None else base
        if self.q == 1:
            return base + self.Z[:, 0] * (T[0, 0] * u[:, 0])[self.codes]
        b = u @ T.T
        return base + np.einsum("nq,nq->n", self.Z, b[self.codes])

    def _group_dev(self, eta, u):
        mu = self.fam.mu(eta)
        d = self.fam.m2ll_var(self.y, mu, self.wt)          # constants are left out here
        return np.add.reduceat(d, self.starts) + np.sum(u * u, axis=1), mu

    def _MH(self, W, T):
        """Per-group Z'WZ and H = Lambda' Z'WZ Lambda + I."""
        if self.q == 1:
            M = np.add.reduceat(W * self.ZZ[:, 0, 0], self.starts)[:, None, None]
            return M, T[0, 0] ** 2 * M + 1.0
        M = self.gsum(W[:, None, None] * self.ZZ)
        return M, np.einsum("ji,gjk,kl->gil", T, M, T) + np.eye(self.q)

    def _gZ(self, v):
        """Per-group Z'v, (G, q)."""
        if self.q == 1:
            return np.add.reduceat(v * self.Z[:, 0], self.starts)[:, None]
        return self.gsum(v[:, None] * self.Z)

    def modes(self, beta, theta, u0=None, tol=1e-10, maxit=60):
        """Conditional modes u_hat (penalised IRLS with per-group step halving)."""
        T = self.T_of(theta)
        u = (self._u if u0 is None else u0).copy()
        base = np.einsum("np,p->n", self.X, beta) + self.off     # no BLAS threads
        eta = self._eta(beta, T, u, base)
        gdev, mu = self._group_dev(eta, u)
        for _ in range(maxit):
            W = self.fam.w_exp(self.y, mu, self.wt)
            r = self.fam.score(self.y, mu, self.wt)
            M, H = self._MH(W, T)
            grad = self._gZ(r) @ T - u
            if self.q == 1:
                step = grad / H[:, :, 0]
            else:
                step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
            fac = np.ones(self.G)
            for _h in range(30):
                un = u + fac[:, None] * step
                eta_n = self._eta(beta, T, un, base)
                gdev_n, mu_n = self._group_dev(eta_n, un)
                worse = gdev_n > gdev + 1e-12 * (1 + np.abs(gdev))
                if not worse.any():
                    break
                fac = np.where(worse, fac / 2, fac)
            u, eta, gdev, mu = un, eta_n, gdev_n, mu_n
            if np.max(np.abs(fac[:, None] * step)) < tol:
                break
        self._u = u
        return u, eta, mu, T

    def _pieces(self, beta, theta):
        u, eta, mu, T = self.modes(beta, theta)
        W = self.fam.w_exp(self.y, mu, self.wt)
        M, H = self._MH(W, T)
        return u, eta, mu, T, W, M, H

    def deviance(self, theta, beta, grad=False):
        theta = np.asarray(theta, dtype=float)
        beta = np.asarray(beta, dtype=float)
        u, eta, mu, T, W, M, H = self._pieces(beta, theta)
        d_i = self.fam.m2ll_var(self.y, mu, self.wt)
        sign, ld = np.linalg.slogdet(H)
        dev = float(d_i.sum() + self.c0_sum + np.sum(u * u) + ld.sum())
        if not grad:
            return dev
        Hinv = 1.0 / H if self.q == 1 else np.linalg.inv(H)
        K = np.einsum("ij,gjk,lk->gil", T, Hinv, T)                     # Lambda H^-1 Lambda'
        if self.q == 1:
            c = self.ZZ[:, 0, 0] * K[self.codes, 0, 0]
        else:
            c = np.einsum("ni,nij,nj->n", self.Z, K[self.codes], self.Z)
        Wp = self.fam.dw_exp(self.y, mu, self.wt)
        cw = c * Wp
        r = self.fam.score(self.y, mu, self.wt)
        # the modes move with the observed information (= W for canonical links)
        if self.fam.canonical:
            Wo, Ho, Hoinv, Ko = W, H, Hinv, K
        else:
            Wo = self.fam.w_obs(self.y, mu, self.wt)
            _, Ho = self._MH(Wo, T)
            Hoinv = 1.0 / Ho if self.q == 1 else np.linalg.inv(Ho)
            Ko = np.einsum("ij,gjk,lk->gil", T, Hoinv, T)
        ZWX = self.gsum(Wo[:, None, None] * self.ZX)                     # (G,q,p)
        # X_eff' cw with X_eff = X - Z Ko Z'WoX (per group), without an n x q x p gather
        g_beta = np.einsum("np,n->p", self.X, cw - 2 * r) \
            - np.einsum("gqp,gqr,gr->p", ZWX, Ko, self._gZ(cw))
        Zr = self._gZ(r)                                                  # (G,q)
        P = np.einsum("gij,kj,gkl->gil", Hinv, T, M)                     # H^-1 Lambda' M
        g_theta = np.empty(self.k)
        if self.q == 1:
            z, lam, h = self.Z[:, 0], T[0, 0], H[:, 0, 0]
            B = z * u[:, 0][self.codes]
            du = -(lam * self._gZ(Wo * B)[:, 0] - Zr[:, 0]) / Ho[:, 0, 0]
            deta = B + z * (lam * du)[self.codes]
            g_theta[0] = -2 * r @ B + 2 * np.sum(lam * M[:, 0, 0] / h) + cw @ deta
            return dev, np.concatenate([g_theta, g_beta])
        for j, (rr, cc) in enumerate(self.tpos):
            B = self.Z[:, rr] * u[self.codes, cc]
            rhs = self._gZ(Wo * B) @ T                                    # Lambda' Z'WoB
            rhs[:, cc] -= Zr[:, rr]                                       # - Lambda_j' Z'r
            du = -np.einsum("gij,gj->gi", Hoinv, rhs)
            deta = B + np.einsum("nq,nq->n", self.Z, (du @ T.T)[self.codes])
            g_theta[j] = -2 * r @ B + 2 * P[:, cc, rr].sum() + cw @ deta
        return dev, np.concatenate([g_theta, g_beta])

    # ---- adaptive Gauss-Hermite quadrature (one scalar random effect)
    def deviance_agq(self, theta, beta, nagq):
        theta = np.asarray(theta, dtype=float)
        beta = np.asarray(beta, dtype=float)
        u, eta, mu, T, W, M, H = self._pieces(beta, theta)
        z, w = np.polynomial.hermite_e.hermegauss(nagq)
        w = w / w.sum()
        h = H[:, 0, 0]
        s = 1.0 / np.sqrt(h)
        lam = T[0, 0]
        base = np.einsum("np,p->n", self.X, beta) + self.off     # no BLAS threads
        zcol = self.Z[:, 0]
        ell = np.empty((self.G, nagq))
        for k in range(nagq):
            uk = u[:, 0] + s * z[k]
            etak = base + zcol * lam * uk[self.codes]
            dr = self.fam.devres(self.y, self.fam.mu(etak), self.wt)
            ell[:, k] = -0.5 * np.add.reduceat(dr, self.starts) - 0.5 * uk ** 2 + 0.5 * z[k] ** 2
        lse = special.logsumexp(ell, axis=1, b=w[None, :])
        return float(np.sum(-2 * lse + np.log(h)))

    def glm_start(self):
        """beta of the GLM without random effects (IRLS), the optimiser's start."""
        beta = np.zeros(self.p)
        if self.fam.name == "binomial":
            mu = np.clip((self.wt * self.y + 0.5) / (self.wt + 1), 0.01, 0.99)
            eta = special.logit(mu)
        else:
            mu = self.y + 0.1
            eta = np.log(mu)
        for _ in range(50):
            W = self.fam.w_exp(self.y, mu, self.wt)
            zz = eta - self.off + (self.y - mu) / mu if self.fam.link == "log" else \
                eta - self.off + (self.y - mu) / self.fam.var(mu)
            XtW = self.X.T * W
            new = np.linalg.solve(XtW @ self.X, XtW @ zz)
            eta = self.X @ new + self.off
            mu = self.fam.mu(eta)
            if np.max(np.abs(new - beta)) < 1e-10:
                beta = new
                break
            beta = new
        return beta


# --------------------------------------------------------------------------- optimiser
def _optimize(core: GLMMCore, nagq: int, x0, fixed_theta=None):
    k, p = core.k, core.p
    lo = np.concatenate([core.lower, np.full(p, -np.inf)])
    free = np.ones(k + p, dtype=bool)
    if fixed_theta is not None:
        free[:k] = False
        x0 = np.concatenate([fixed_theta, x0[k:]])

    def full(xf):
        x = x0.copy()
        x[free] = xf
        return x

    if nagq == 1:
        def fg(xf):
            x = full(xf)
            d, g = core.deviance(x[:k], x[k:], grad=True)
            return d, g[free]
    else:
        def fun(x):
            return core.deviance_agq(x[:k], x[k:], nagq)

        def fg(xf):
            x = full(xf)
            d = fun(x)
            g = np.empty(free.sum())
            for j, idx in enumerate(np.flatnonzero(free)):
                h = 1e-5 * max(1.0, abs(x[idx]))
                xa, xb = x.copy(), x.copy()
                xa[idx] += h
                xb[idx] -= h
                if xb[idx] < lo[idx]:           # one-sided at the bound
                    g[j] = (fun(xa) - d) / h
                else:
                    g[j] = (fun(xa) - fun(xb)) / (2 * h)
            return d, g
    bounds = [(lo[i] if np.isfinite(lo[i]) else None, None) for i in np.flatnonzero(free)]
    res = optimize.minimize(fg, x0[free], jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20})
    x = full(res.x)
    dev = float(res.fun)
    return x, dev, fg


def _deviance_at(core, nagq, x):
    k = core.k
    return core.deviance(x[:k], x[k:]) if nagq == 1 else core.deviance_agq(x[:k], x[k:], nagq)


def _hessian(core: GLMMCore, nagq: int, x):
    """Hessian of the deviance in (theta, beta): Richardson differences of the analytic
    gradient (Laplace) or lme4's ``deriv12`` central second differences (AGQ)."""
    k = core.k
    if nagq == 1:
        nx = len(x)
        H = np.empty((nx, nx))
        for j in range(nx):
            h = 1e-4 * max(1.0, abs(x[j]))
            xa, xb = x.copy(), x.copy()
            xa[j] += h
            xb[j] -= h
            H[:, j] = (core.deviance(xa[:k], xa[k:], grad=True)[1]
                       - core.deviance(xb[:k], xb[k:], grad=True)[1]) / (2 * h)
        return 0.5 * (H + H.T)
    f = lambda v: core.deviance_agq(v[:k], v[k:], nagq)   # noqa: E731
    d = 1e-4
    nx = len(x)
    H = np.empty((nx, nx))
    fx = f(x)
    for j in range(nx):
        xa, xs = x.copy(), x.copy()
        xa[j] += d
        xs[j] -= d
        fa, fs = f(xa), f(xs)
        H[j, j] = (fa - 2 * fx + fs) / d ** 2
        for i in range(j):
            xaa, xas, xsa, xss = xa.copy(), xa.copy(), xs.copy(), xs.copy()
            xaa[i] += d
            xas[i] -= d
            xsa[i] += d
            xss[i] -= d
            H[i, j] = H[j, i] = (f(xaa) - f(xas) - f(xsa) + f(xss)) / (4 * d ** 2)
    return H


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class GlmmResult:
    """Fitted generalised linear mixed model (immutable), lme4's ``glmer`` fit.

    Attributes
    ----------
    formula, family, link, nagq, group : specification (``nagq`` 1 = Laplace).
    n_obs, n_groups, n_dropped : rows used, patients, rows dropped for missing values.
    fixef : Series (``fixef(fit)``); vcov : DataFrame (``vcov(fit)``, from the Hessian).
    theta : Series (``getME(fit, "theta")``).
    loglik, npar, aic, bic, deviance : ``logLik``, its df, ``AIC``, ``BIC``, ``-2 logLik``.
    random_effects : DataFrame (``as.data.frame(VarCorr(fit))``: group, var1, var2, variance, sd_cor).
    ranef : DataFrame of conditional modes ``b = Lambda u_hat`` (``ranef(fit)``).
    converged, singular : bool; messages : tuple of str; timing : float (seconds).
    """

    formula: str
    family: str
    link: str
    nagq: int
    n_obs: int
    n_groups: int
    group: str
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
    ranef: pd.DataFrame
    converged: bool
    singular: bool
    messages: tuple[str, ...]
    timing: float
    _core: Any = field(repr=False, compare=False)
    _spec: Any = field(repr=False, compare=False)
    _hess: Any = field(repr=False, compare=False)
    _call: Any = field(repr=False, compare=False)
    nb_theta: float = float("nan")      # negative binomial dispersion (getME(fit, "glmer.nb.theta"))

    reml = False      # compare(): GLMMs are maximum-likelihood fits

    # ------------------------------------------------------------ tables
    @cached_property
    def fixed_effects(self) -> pd.DataFrame:
        """term, est, se, z, p_value, ci_lower, ci_upper (Wald, 95%) and, for the logit/log
        link, the exponentiated estimate and interval (``odds_ratio`` / ``rate_ratio``).

        R: ``summary(fit)$coefficients``; ``exp(cbind(fixef(fit), confint(fit, method = "Wald")))``.
        """
        est = self.fixef.to_numpy()
        se = np.sqrt(np.diag(self.vcov.to_numpy()))
        z = est / se
        crit = stats.norm.ppf(0.975)
        tab = pd.DataFrame({"term": list(self.fixef.index), "est": est, "se": se, "z": z,
                            "p_value": 2 * stats.norm.sf(np.abs(z)),
                            "ci_lower": est - crit * se, "ci_upper": est + crit * se})
        ratio = "odds_ratio" if self.family == "binomial" else "rate_ratio"      # logit / log
        tab[ratio] = np.exp(est)
        tab[f"{ratio}_ci_lower"] = np.exp(tab["ci_lower"])
        tab[f"{ratio}_ci_upper"] = np.exp(tab["ci_upper"])
        return tab

    def to_frame(self) -> pd.DataFrame:
        """The fixed-effects table (:attr:`fixed_effects`)."""
        return self.fixed_effects

    @property
    def icc(self) -> float:
        """Latent-scale ICC of a random intercept: ``tau^2 / (tau^2 + pi^2/3)`` (logit) or
        NaN for Poisson (no single residual variance)."""
        if self.family != "binomial":
            return float("nan")
        tab = self.random_effects
        row = tab[(tab["var1"] == "(Intercept)") & tab["var2"].isna()]
        if row.empty:
            return float("nan")
        t = float(row["variance"].iloc[0])
        return t / (t + math.pi ** 2 / 3)

    @cached_property
    def ranef_condvar(self) -> np.ndarray:
        """Conditional covariance of each patient's random effects, ``(G, q, q)``
        (lme4 ``attr(ranef(fit, condVar = TRUE)[[1]], "postVar")``): ``Lambda H_g^-1 Lambda'``."""
        core = self._core
        theta, beta = self.theta.to_numpy(), self.fixef.to_numpy()
        u, eta, mu, T, W, M, H = core._pieces(beta, theta)
        return np.einsum("ij,gjk,lk->gil", T, np.linalg.inv(H), T)

    def fitted(self, type: str = "response") -> pd.Series:
        """Fitted values with the conditional modes (``fitted(fit)``; ``type="link"`` for eta)."""
        return self.predict(type=type)

    def predict(self, newdata: pd.DataFrame | None = None, re_form: str | None = None,
                type: str = "link", allow_new_levels: bool = False) -> pd.Series:
        """Predictions (lme4 ``predict(fit, newdata, re.form, type, allow.new.levels)``).

        ``re_form=None`` includes the conditional modes, ``"~0"`` (or ``"NA"``) gives the
        population-level prediction. Patients not in the fit get random effects 0 when
        ``allow_new_levels`` is True, else an error naming them. ``type``: "link" or "response".
        """
        from ._predict import predict_eta
        eta, index = predict_eta(self, newdata, re_form, allow_new_levels)
        if type == "response":
            eta = self._core.fam.mu(eta)
        elif type != "link":
            raise ModelSpecificationError(f"The 'type' parameter must be 'link' or 'response'. "
                                          f"Got {type!r} instead.")
        return pd.Series(eta, index=index, name=type)

    def simulate(self, nsim: int = 1, seed: int | None = None, re_form: str | None = "~0"
                 ) -> pd.DataFrame:
        """Simulated outcomes from the fitted model (lme4 ``simulate(fit, nsim, seed)``):
        new random effects for every patient (``re_form="~0"``, lme4's default) or the
        conditional modes (``re_form=None``); one column per simulation, rows as the fit."""
        rng = np.random.default_rng(seed)
        core = self._core
        fam = core.fam
        T = core.T_of(self.theta.to_numpy())
        base = core.X @ self.fixef.to_numpy() + core.off
        out = np.empty((core.n, nsim))
        for s in range(nsim):
            if re_form is None:
                b = self.ranef.to_numpy()
            else:
                b = rng.standard_normal((core.G, core.q)) @ T.T
            eta = base + np.einsum("nq,nq->n", core.Z, b[core.codes])
            out[:, s] = fam.simulate(rng, fam.mu(eta), core.wt)
        inv = np.empty_like(core.order)
        inv[core.order] = np.arange(core.n)
        return pd.DataFrame(out[inv], index=self._spec.row_index,
                            columns=[f"sim_{i + 1}" for i in range(nsim)])

    def confint(self, method: str = "wald", level: float = 0.95, nsim: int = 200,
                seed: int | None = None) -> pd.DataFrame:
        """Confidence intervals for the fixed effects and the random-effect SDs.

        ``method="wald"``: fixed effects only (``confint(fit, method = "Wald")``);
        ``"profile"``: likelihood-ratio (profile) intervals, the deviance re-minimised over the
        other parameters at each point (``confint(fit, method = "profile")``; SDs on the theta
        scale); ``"boot"``: parametric bootstrap percentiles from ``nsim`` refits.
        Columns: term, est, ci_lower, ci_upper.
        """
        from ._intervals import glmm_confint
        return glmm_confint(self, method, level, nsim, seed)

    def __repr__(self) -> str:
        flags = ("" if self.converged else ", not converged") + (", singular" if self.singular else "")
        return (f"<GlmmResult {self.family} {self.formula!r}: {self.n_obs} rows, {self.n_groups} "
                f"{self.group}, logLik {self.loglik:.4f}{flags}>")

    def summary(self) -> Summary:
        """Text/HTML/LaTeX summary like ``summary(glmer(...))``, with odds/rate ratios."""
        method = "Laplace approximation" if self.nagq == 1 else \
            f"adaptive Gauss-Hermite quadrature (nAGQ = {self.nagq})"
        header = [f"Family: {self.family} ({self.link})", f"Formula: {self.formula}",
                  f"Observations: {self.n_obs}; groups ({self.group}): {self.n_groups}"
                  + (f"; rows dropped for missing values: {self.n_dropped}" if self.n_dropped else ""),
                  f"logLik {self.loglik:.4f}  AIC {self.aic:.4f}  BIC {self.bic:.4f}  "
                  f"deviance {self.deviance:.4f}"]
        footer = []
        if self.singular:
            footer.append("Warning: singular fit (a random-effect variance is estimated as ~0).")
        if not self.converged:
            footer.append("Warning: the optimiser did not converge: " + "; ".join(self.messages))
        return Summary(f"Generalised linear mixed model fit by maximum likelihood ({method})",
                       tuple(header), (("Random effects:", self.random_effects),
                                       ("Fixed effects:", self.fixed_effects)), tuple(footer))


def _varcorr(spec, T):
    D = T @ T.T
    rows = []
    for blk in spec.blocks:
        for c in blk:
            rows.append({"group": spec.group, "var1": spec.re_names[c], "var2": None,
                         "variance": D[c, c], "sd_cor": math.sqrt(max(D[c, c], 0.0))})
        for ci, c in enumerate(blk):
            for r in blk[ci + 1:]:
                den = math.sqrt(D[c, c] * D[r, r])
                rows.append({"group": spec.group, "var1": spec.re_names[c],
                             "var2": spec.re_names[r], "variance": D[r, c],
                             "sd_cor": D[r, c] / den if den > 0 else float("nan")})
    return pd.DataFrame(rows)


def _check_outcome(family, y, spec):
    bad = None
    if family == "binomial":
        if np.any((y < 0) | (y > 1)):
            bad = np.flatnonzero((y < 0) | (y > 1))
            what = "a proportion between 0 and 1 (or 0/1, or cbind(successes, failures))"
    else:
        if np.any((y < 0) | (y != np.round(y))):
            bad = np.flatnonzero((y < 0) | (y != np.round(y)))
            what = "a non-negative whole number (a count)"
    if bad is not None and bad.size:
        rows = list(spec.row_index[bad[:10]])
        raise ModelSpecificationError(
            f"The outcome of {spec.formula!r} must be {what} for family={family!r}; rows {rows} "
            f"have values {list(y[bad[:10]])}.")


def glmm_fit(formula, data, family, groups=None, re_formula=None, re_cov="unstructured",
             weights=None, nagq=1, theta=None, _start=None) -> GlmmResult:
    """Fit a GLMM (see :func:`psychometrics.multilevel.mixed`, ``family=``)."""
    from ..io.itemdata import as_frame
    from .mixed import _prepare
    data = as_frame(data, "mixed")
    if not isinstance(nagq, (int, np.integer)) or nagq < 1:
        raise ModelSpecificationError(f"The 'nagq' parameter must be a whole number >= 1. "
                                      f"Got {nagq!r} instead.")
    spec, y, X, Z, codes, G, n_dropped = _prepare(formula, data, groups, re_formula, re_cov,
                                                  weights=weights, family=family)
    if nagq > 1 and family == "negative_binomial":
        raise ModelSpecificationError("nagq > 1 is not available for family='negative_binomial' "
                                      "(as lme4's glmer.nb, use the Laplace approximation).")
    if nagq > 1 and Z.shape[1] != 1:
        raise ModelSpecificationError(
            f"nagq={nagq} (adaptive Gauss-Hermite quadrature) needs a single scalar random effect, "
            f"e.g. (1 | {spec.group}); {formula!r} has {Z.shape[1]}. Use nagq=1 (Laplace).")
    _check_outcome(family, y, spec)
    with single_blas_thread():      # many small BLAS calls: one thread is much faster
        return _glmm_fit_core(formula, spec, y, X, Z, codes, G, n_dropped, family, groups,
                              re_formula, re_cov, weights, nagq, theta, _start)


def _fit_negbin(formula, spec, y, X, Z, codes, G, n_dropped, groups, re_formula, re_cov,
                weights, theta):
    """lme4's ``glmer.nb``: the Poisson GLMM, then the NB dispersion minimising the profiled
    Laplace deviance (each point a full (theta, beta) fit, warm-started), then the final fit."""
    t0 = _time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = _glmm_fit_core(formula, spec, y, X, Z, codes, G, n_dropped, "poisson", groups,
                              re_formula, re_cov, weights, 1, theta, None)
    core = pois._core
    x_warm = np.concatenate([pois.theta.to_numpy(), pois.fixef.to_numpy()])
    mu = core.fam.mu(core._eta(pois.fixef.to_numpy(), core.T_of(pois.theta.to_numpy()), core._u))
    extra = np.sum((core.y - mu) ** 2 - mu) / max(np.sum(mu ** 2), 1e-12)
    lt0 = math.log(1.0 / extra) if extra > 1e-3 else math.log(1e3)
    fixed = None if theta is None else np.asarray(theta, dtype=float)
    cache: dict = {}

    def prof(lt):
        core.fam = _NegBinomial(math.exp(lt))
        core.c0 = core.fam.const(core.y, core.wt)
        core.c0_sum = float(core.c0.sum())
        x, dev, _ = _optimize(core, 1, x_warm.copy(), fixed)
        x_warm[:] = x
        cache[lt] = dev
        return dev

    res = optimize.minimize_scalar(prof, bracket=(lt0 - 0.3, lt0 + 0.3),
                                   options={"xtol": 1e-9, "maxiter": 200})
    nb_theta = math.exp(float(res.x))
    out = _glmm_fit_core(formula, spec, y, X, Z, codes, G, n_dropped, "negative_binomial", groups,
                         re_formula, re_cov, weights, 1, theta, x_warm,
                         fam_obj=_NegBinomial(nb_theta))
    k = 1
    object.__setattr__(out, "nb_theta", nb_theta)
    object.__setattr__(out, "npar", out.npar + k)
    object.__setattr__(out, "aic", out.aic + 2 * k)
    object.__setattr__(out, "bic", out.bic + math.log(out.n_obs) * k)
    object.__setattr__(out, "timing", _time.perf_counter() - t0)
    return out


def _glmm_fit_core(formula, spec, y, X, Z, codes, G, n_dropped, family, groups, re_formula,
                   re_cov, weights, nagq, theta, _start, fam_obj=None):
    if family == "negative_binomial" and fam_obj is None:
        return _fit_negbin(formula, spec, y, X, Z, codes, G, n_dropped, groups, re_formula,
                           re_cov, weights, theta)
    t0 = _time.perf_counter()
    fam = FAMILIES[family] if fam_obj is None else fam_obj
    wt = np.ones(len(y)) if spec.weights is None else spec.weights
    off = np.zeros(len(y)) if spec.offset is None else spec.offset
    core = GLMMCore(y, X, Z, codes, G, spec.tpos, fam, wt, off)
    k = core.k
    diag = np.array([r == c for r, c in spec.tpos])
    fixed_theta = None if theta is None else np.asarray(theta, dtype=float).ravel()
    if fixed_theta is not None and fixed_theta.size != k:
        raise ModelSpecificationError(f"theta has {fixed_theta.size} value(s) but the model has "
                                      f"{k}: {list(spec.theta_names)}.")
    beta0 = core.glm_start()
    th0 = np.where(diag, 1.0, 0.0)
    x0 = np.concatenate([th0, beta0]) if _start is None else np.asarray(_start, dtype=float)
    if nagq > 1 and _start is None and fixed_theta is None:      # start at the Laplace optimum
        x0, _, _ = _optimize(core, 1, x0)
    x, dev, fg = _optimize(core, nagq, x0, fixed_theta)
    # boundary rule: a zero SD is accepted only if interior starts find nothing better
    if fixed_theta is None:
        at0 = diag & (np.abs(x[:k]) < 1e-4)
        for start in (0.5, 1.5):
            if not at0.any():
                break
            xs = x.copy()
            xs[:k][at0] = start
            x2, dev2, _ = _optimize(core, nagq, xs)
            if dev2 < dev - 1e-9:
                x, dev = x2, dev2
                at0 = diag & (np.abs(x[:k]) < 1e-4)
    # Newton polish on the free interior parameters
    H = _hessian(core, nagq, x)
    if fixed_theta is None:
        for _ in range(3):
            act = np.ones(len(x), dtype=bool)
            act[:k] = ~(diag & (x[:k] <= 1e-10))
            _, g = fg(x)
            try:
                step = np.linalg.solve(H[np.ix_(act, act)], g[act])
            except np.linalg.LinAlgError:
                break
            xn = x.copy()
            xn[act] -= step
            xn[:k] = np.where(diag, np.maximum(xn[:k], 0.0), xn[:k])
            dn = _deviance_at(core, nagq, xn)
            if dn > dev:
                break
            x, dev = xn, dn
        H = _hessian(core, nagq, x)
    theta_hat, beta = x[:k].copy(), x[k:]
    dev = _deviance_at(core, nagq, x)          # also leaves the conditional modes at x
    messages = []
    converged = True
    if fixed_theta is None:
        _, g = fg(x)
        dev = _deviance_at(core, nagq, x)
        act = np.concatenate([~(diag & (theta_hat <= 1e-10)), np.ones(core.p, dtype=bool)])
        gmax = float(np.max(np.abs(g[act])))
        if gmax > 1e-3:
            converged = False
            messages.append(f"max|gradient| of the deviance {gmax:.2g} > 1e-3")
    # vcov: 2 [H^-1]_beta (lme4 use.hessian = TRUE); beta block alone if H is not PD
    p = core.p
    Hb = H
    ev = np.linalg.eigvalsh(Hb)
    if fixed_theta is not None or ev.min() <= 0:
        V = 2 * np.linalg.inv(H[k:, k:])
    else:
        V = 2 * np.linalg.inv(Hb)[k:, k:]
    V = 0.5 * (V + V.T)
    singular = bool(np.any(theta_hat[diag] < 1e-4))
    if singular:
        msg = (f"boundary (singular) fit of {formula!r}: a random-effect variance of "
               f"{spec.group!r} is estimated as ~0 (checked: refits from interior starts found "
               "no better likelihood)")
        messages.append(msg)
        warnings.warn(msg[0].upper() + msg[1:] + ".", SingularFitWarning, stacklevel=3)
    if not converged:
        warnings.warn(f"Model {formula!r} failed to converge: {messages[0]}.", ConvergenceWarning,
                      stacklevel=3)
    T = core.T_of(theta_hat)
    u = core._u
    b = u @ T.T
    npar = p + k
    names = list(spec.fixed_names)
    loglik = -dev / 2
    n = core.n
    res = GlmmResult(
        formula=formula, family=family, link=fam.link, nagq=int(nagq), n_obs=n, n_groups=G,
        group=spec.group, n_dropped=n_dropped,
        fixef=pd.Series(beta, index=names, name="est"),
        vcov=pd.DataFrame(V, index=names, columns=names),
        theta=pd.Series(theta_hat, index=list(spec.theta_names), name="theta"),
        loglik=loglik, npar=npar, aic=dev + 2 * npar, bic=dev + math.log(n) * npar,
        deviance=dev, random_effects=_varcorr(spec, T),
        ranef=pd.DataFrame(b, index=pd.Index(spec.levels, name=spec.group),
                           columns=list(spec.re_names)),
        converged=converged, singular=singular, messages=tuple(messages),
        timing=_time.perf_counter() - t0, _core=core, _spec=spec, _hess=H,
        _call={"formula": formula, "family": family, "groups": groups, "re_formula": re_formula,
               "re_cov": re_cov, "weights": weights, "nagq": nagq})
    return res
