"""Computational core of the GLMMs: families, the Laplace / AGQ deviance of one grouping factor
(``GLMMCore``), its optimiser and Hessian.

Used by ``glmm`` (the one-factor fit), ``_glmm_multi`` (starting values of the several-factor
fit) and ``_intervals`` (profile and bootstrap refits); it imports none of them, so the imports of
``multilevel`` run one way (see ``_design``).
"""
from __future__ import annotations

import numpy as np

from ..exceptions import ModelSpecificationError
from .._lazy import lazy_module

optimize = lazy_module("scipy.optimize")
special = lazy_module("scipy.special")


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
    return hessian12(lambda v: core.deviance_agq(v[:k], v[k:], nagq), x)


def hessian12(f, x, d=1e-4):
    """lme4's ``deriv12``: central second differences of ``f`` at ``x`` with step ``d``."""
    nx = len(x)
    H = np.empty((nx, nx))
    fx = f(x)
    for j in range(nx):
        xa, xs = x.copy(), x.copy()
        xa[j] += d
        xs[j] -= d
        H[j, j] = (f(xa) - 2 * fx + f(xs)) / d ** 2
        for i in range(j):
            xaa, xas, xsa, xss = xa.copy(), xa.copy(), xs.copy(), xs.copy()
            xaa[i] += d
            xas[i] -= d
            xsa[i] += d
            xss[i] -= d
            H[i, j] = H[j, i] = (f(xaa) - f(xas) - f(xsa) + f(xss)) / (4 * d ** 2)
    return H


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


