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

from ..exceptions import ConvergenceWarning, ModelSpecificationError, SingularFitWarning
from .._blas import single_blas_thread
from ..results import Summary
from ._glmm_core import (FAMILIES, GLMMCore, _check_outcome, _deviance_at, _hessian,
                         _NegBinomial, _optimize)
from .._lazy import lazy_module

optimize = lazy_module("scipy.optimize")
stats = lazy_module("scipy.stats")


__all__ = ["GlmmResult", "glmm_fit"]

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


def glmm_fit(formula, data, family, groups=None, re_formula=None, re_cov="unstructured",
             weights=None, nagq=1, theta=None, _start=None) -> GlmmResult:
    """Fit a GLMM (see :func:`psychometrics.multilevel.mixed`, ``family=``)."""
    from ..io.itemdata import as_frame
    from ._design import _prepare
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
