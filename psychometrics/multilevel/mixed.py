"""Gaussian linear mixed models with one grouping factor (lme4/lmerTest numbers).

``mixed()`` fits ``y = X beta + Z b + e`` by REML or ML, with random
intercepts and random slopes for one grouping factor (patients), their
covariance unstructured (lme4's ``(1 + x | id)``) or diagonal (``(1 + x || id)``).
Inference on fixed effects uses Satterthwaite's degrees of freedom computed as
lmerTest does.
"""
from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import (ConvergenceWarning, DataQualityWarning, ModelSpecificationError,
                          SingularFitWarning)
from ._deriv import richardson_jacobian
from ._design import (SINGULAR_TOL, _prepare, _satt_df, _satt_F, _Spec,  # noqa: F401 (re-exported)
                      contrast_matrix, is_multi_formula)
from ._formula import type3_contrasts
from ._kr import kr_ddf, kr_pieces, kr_test
from ._lmm import LMMCore
from ._multi import mixed_multi
from .._blas import single_blas_thread
from ..results import Summary
from .._lazy import lazy_module

stats = lazy_module("scipy.stats")


__all__ = ["mixed", "MixedResult", "compare", "SINGULAR_TOL"]

# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class MixedResult:
    """Fitted linear mixed model (immutable).

    Attributes
    ----------
    formula, reml, group : model specification (``reml``: REML or ML criterion).
    n_obs, n_groups, n_dropped : rows used, patients, rows dropped for missing values.
    fixef : Series
        Fixed effects (``fixef(fit)``).
    vcov : DataFrame
        Their covariance ``sigma^2 (X'V^-1X)^-1`` (``vcov(fit)``).
    theta : Series
        Relative covariance factor, lme4 order and names (``getME(fit, "theta")``).
    sigma : float
        Residual SD (``sigma(fit)``).
    loglik, npar, aic, bic : float, int
        ``logLik(fit)`` (the REML criterion / -2 for REML fits), its df, AIC, BIC.
    deviance : float
        ML deviance at these estimates (``deviance(fit, REML = FALSE)``).
    reml_criterion : float
        ``REMLcrit(fit)`` (NaN for ML fits).
    random_effects : DataFrame
        ``as.data.frame(VarCorr(fit))``: group, var1, var2, variance, sd_cor.
    ranef : DataFrame
        Conditional modes, one row per patient (``ranef(fit)``).
    devcomp : dict
        ``getME(fit, "devcomp")$cmp``: ldL2, ldRX2, wrss, ussq, pwrss, sigmaML, sigmaREML, dev, REML.
    converged, singular : bool; messages : tuple of str
        ``converged``: the optimality check passed at the returned theta (interior
        components: lme4's relative gradient < 0.002 and a positive definite Hessian;
        variances at 0: the deviance is not lower at small positive values; no direction of
        negative curvature lowers it; see ``LMMCore.check_optimum`` and docs/multilevel.md).
        ``singular``: a boundary fit (lme4's ``isSingular``).
    timing : float
        Seconds spent building the statistics and optimising.

    Lazily computed: ``fixed_effects`` (Satterthwaite table), ``coef_table(ddf)``,
    ``contrast(L)``, ``anova()``, ``vcov_varpar``, ``vcov_kenward_roger``, ``icc``,
    ``refit_ml()``, ``summary()``.
    """

    formula: str
    reml: bool
    n_obs: int
    n_groups: int
    group: str
    n_dropped: int
    fixef: pd.Series
    vcov: pd.DataFrame
    theta: pd.Series
    sigma: float
    loglik: float
    npar: int
    aic: float
    bic: float
    deviance: float
    reml_criterion: float
    random_effects: pd.DataFrame
    ranef: pd.DataFrame
    devcomp: dict
    converged: bool
    singular: bool
    messages: tuple[str, ...]
    timing: float
    _core: Any = field(repr=False, compare=False)
    _spec: Any = field(repr=False, compare=False)

    # ------------------------------------------------------------ Satterthwaite
    @cached_property
    def _satt(self):
        pieces = _satterthwaite_pieces(self._core, self.theta.to_numpy(), self.sigma, self.reml)
        for msg in pieces["messages"]:
            warnings.warn(f"{msg} (model {self.formula!r}); Satterthwaite df may be unreliable.",
                          ConvergenceWarning, stacklevel=4)
        return pieces

    @cached_property
    def _kr(self):
        return kr_pieces(self._core, self.theta.to_numpy(), self.sigma, self._spec.blocks,
                         self._spec.tpos)

    @property
    def vcov_kenward_roger(self) -> pd.DataFrame:
        """Kenward-Roger adjusted covariance of the fixed effects (pbkrtest ``vcovAdj``)."""
        names = list(self.fixef.index)
        return pd.DataFrame(self._kr["PhiA"], index=names, columns=names)

    @property
    def vcov_varpar(self) -> pd.DataFrame:
        """Asymptotic covariance of (theta, sigma): ``2 H^-1`` of the deviance (lmerTest)."""
        A = self._satt["A"]
        names = list(self.theta.index) + ["sigma"]
        return pd.DataFrame(A, index=names, columns=names)

    def containment_df(self) -> pd.Series:
        """nlme's "inner-outer" (containment) denominator df per fixed effect.

        Patient-level columns (constant within every patient) get
        ``G - (number of patient-level columns) - 1``; all other columns,
        including the intercept, ``N - G - (number of other non-intercept
        columns)``. R: ``nlme::lme(...)``, ``summary(fit)$tTable[, "DF"]``.
        """
        xb = np.array(self._spec.x_between, dtype=bool)
        names = list(self.fixef.index)
        n_l2 = int(xb.sum())
        n_l1 = sum(1 for nm, b in zip(names, xb) if not b and nm != "(Intercept)")
        df1 = self.n_obs - self.n_groups - n_l1
        df2 = self.n_groups - n_l2 - 1
        return pd.Series([float(df2 if b else df1) for b in xb], index=names, name="df")

    def contrast(self, L, rhs: float = 0.0, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Test one or more single-df contrasts ``L beta = rhs`` (t-tests).

        ``L`` is a vector/matrix over the fixed effects, or a dict
        ``{term: weight}``. Returns a DataFrame with est, se, t, df, p_value,
        ci_lower, ci_upper. ``ddf="satterthwaite"`` (default)
        is lmerTest's ``contest1D``; ``ddf="containment"`` uses nlme's
        inner-outer df (the smallest df of the coefficients involved).
        """
        if ddf not in ("satterthwaite", "containment", "kenward-roger"):
            raise ModelSpecificationError(
                "The 'ddf' parameter must be 'satterthwaite', 'kenward-roger' or 'containment'. "
                f"Got {ddf!r} instead.")
        if ddf == "kenward-roger" and not self.reml:
            raise ModelSpecificationError(
                "Kenward-Roger's method is only available for REML fits (as in lmerTest); refit "
                "with reml=True.")
        L = contrast_matrix(L, list(self.fixef.index))
        V = self.vcov.to_numpy()
        if ddf == "kenward-roger":
            V = self._kr["PhiA"]
        beta = self.fixef.to_numpy()
        rows = []
        for ell in L:
            est = float(ell @ beta) - rhs
            var = float(ell @ V @ ell)
            if ddf == "kenward-roger":
                df = kr_ddf(ell, self.vcov.to_numpy(), self._kr)
            elif ddf == "satterthwaite":
                df = _satt_df(ell, var, self._satt)
            else:
                cdf = self.containment_df().to_numpy()
                df = float(cdf[np.abs(ell) > 0].min())
            se = math.sqrt(var)
            t = est / se
            p = 2 * stats.t.sf(abs(t), df)
            crit = stats.t.ppf(0.975, df)
            rows.append({"est": est, "se": se, "t": t, "df": df, "p_value": p,
                         "ci_lower": est - crit * se, "ci_upper": est + crit * se})
        return pd.DataFrame(rows)

    def coef_table(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Fixed-effects table with the chosen denominator df.

        ``ddf``: "satterthwaite" (lmerTest default, = ``fixed_effects``),
        "kenward-roger" (lmerTest ``summary(fit, ddf = "Kenward-Roger")``:
        adjusted SEs and KR df; REML only) or "containment" (nlme's df).
        """
        tab = self.contrast(np.eye(len(self.fixef)), ddf=ddf)
        tab.insert(0, "term", list(self.fixef.index))
        return tab

    @cached_property
    def fixed_effects(self) -> pd.DataFrame:
        """One row per fixed effect: term, est, se, t, df (Satterthwaite),
        p_value, ci_lower, ci_upper (95% t-interval with Satterthwaite df).

        R: ``summary(lmerTest::lmer(...))$coefficients``.
        """
        L = np.eye(len(self.fixef))
        tab = self.contrast(L)
        tab.insert(0, "term", list(self.fixef.index))
        return tab

    @cached_property
    def type3_contrasts(self) -> dict:
        """The hypothesis matrix ``L`` (rows over the fixed effects) of each term's type III
        test, as lmerTest's ``get_contrasts_type3(fit)``: a main effect that is also part of
        an interaction is tested averaged over the other factor's levels (for ``month *
        condition``, the mean slope of month over the conditions), not at the reference
        level."""
        d = self._spec.design
        X = self._core.data[1]
        return type3_contrasts(d.frame, d.terms, d.intercept, d.state, X,
                               list(self._spec.fixed_names))

    def anova(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Type III F-tests for every fixed term (lmerTest ``anova(fit, type = 3)``).

        Columns: term, sum_sq, mean_sq, df1 (numerator), df2 (denominator), f, p_value.
        Each term is tested with lmerTest's type III contrasts (see
        ``type3_contrasts``): for a single-column term not contained in an
        interaction F = t^2; multi-column terms, e.g. C(x), are tested jointly
        over their columns. ``ddf="kenward-roger"`` (REML fits)
        gives lmerTest's ``anova(fit, ddf = "Kenward-Roger")`` (pbkrtest
        ``KRmodcomp``: F scaled, sums of squares from the unscaled F).
        """
        if ddf not in ("satterthwaite", "kenward-roger"):
            raise ModelSpecificationError(
                f"The 'ddf' parameter must be 'satterthwaite' or 'kenward-roger'. Got {ddf!r} instead.")
        if ddf == "kenward-roger" and not self.reml:
            raise ModelSpecificationError(
                "Kenward-Roger's method is only available for REML fits (as in lmerTest); refit "
                "with reml=True.")
        rows = []
        beta = self.fixef.to_numpy()
        V = self.vcov.to_numpy()
        for term, L in self.type3_contrasts.items():
            if ddf == "kenward-roger":
                kr = kr_test(L, beta, V, self._kr)
                ndf, den = kr["q"], kr["ddf"]
                ss = kr["f_unscaled"] * self.sigma ** 2 * ndf
                F = kr["f_unscaled"] * kr["f_scaling"]
                rows.append({"term": term, "sum_sq": ss, "mean_sq": ss / ndf, "df1": ndf,
                             "df2": den, "f": F, "p_value": stats.f.sf(F, ndf, den)})
                continue
            F, ndf, ddf_ = _satt_F(L, beta, V, self._satt)
            ss = F * ndf * self.sigma ** 2
            rows.append({"term": term, "sum_sq": ss, "mean_sq": ss / ndf, "df1": ndf,
                         "df2": ddf_, "f": F, "p_value": stats.f.sf(F, ndf, ddf_)})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------ conveniences
    @property
    def icc(self) -> float:
        """Intraclass correlation tau_00 / (tau_00 + sigma^2) of the random intercept.

        With random slopes this is the ICC at zero of the slope predictors.
        NaN if the model has no random intercept.
        """
        tab = self.random_effects
        row = tab[(tab["var1"] == "(Intercept)") & tab["var2"].isna() & (tab["group"] != "Residual")]
        if row.empty:
            return float("nan")
        t00 = float(row["variance"].iloc[0])
        return t00 / (t00 + self.sigma ** 2)

    def fitted(self) -> pd.Series:
        """Conditional fitted values ``X beta + Z b`` per model row (lme4 ``fitted(fit)``),
        indexed like the rows of ``data`` that were used."""
        y, X, Z, codes = self._core.data
        f = X @ self.fixef.to_numpy() + np.einsum("nq,nq->n", Z, self.ranef.to_numpy()[codes])
        if self._spec.offset is not None:
            f = f + self._spec.offset
        return pd.Series(f, index=self._spec.row_index, name="fitted")

    def residuals(self) -> pd.Series:
        """Conditional residuals ``y - X beta - Z b`` (lme4 ``residuals(fit)``)."""
        y = self._core.data[0]
        return pd.Series(y - self.fitted().to_numpy(), index=self._spec.row_index,
                         name="residual")

    @cached_property
    def ranef_condvar(self) -> np.ndarray:
        """Conditional covariance of each patient's random effects, ``(G, q, q)`` in the
        order of :attr:`ranef` (lme4 ``attr(ranef(fit, condVar = TRUE)[[1]], "postVar")``):
        ``sigma^2 Lambda (Lambda' Z_i'Z_i Lambda + I)^-1 Lambda'``, given beta as lme4."""
        T = self._core.T_of(self.theta.to_numpy())
        M = np.ascontiguousarray(self._core.M.transpose(2, 0, 1))
        A = np.einsum("ji,gjk,kl->gil", T, M, T) + np.eye(T.shape[0])
        return self.sigma ** 2 * np.einsum("ij,gjk,lk->gil", T, np.linalg.inv(A), T)

    def predict(self, newdata: pd.DataFrame | None = None, re_form: str | None = None,
                allow_new_levels: bool = False) -> pd.Series:
        """Predictions (lme4 ``predict(fit, newdata, re.form, allow.new.levels)``).

        ``re_form=None`` adds the conditional modes (BLUPs), ``"~0"`` gives the
        population-level prediction ``X beta``; patients not in the fit get random effects 0
        when ``allow_new_levels`` is True, else an error naming them. Factor levels and
        poly()/scale() coefficients of the fit are reused for ``newdata``.
        """
        from ._predict import predict_eta
        eta, index = predict_eta(self, newdata, re_form, allow_new_levels)
        return pd.Series(eta, index=index, name="prediction")

    def simulate(self, nsim: int = 1, seed: int | None = None, re_form: str | None = "~0"
                 ) -> pd.DataFrame:
        """Simulated outcomes (lme4 ``simulate(fit, nsim, seed)``): new random effects for
        every patient (``re_form="~0"``, lme4's default) or the conditional modes
        (``re_form=None``), plus new residuals (``sigma / sqrt(weight)``); one column per
        simulation, rows as the fit."""
        rng = np.random.default_rng(seed)
        y, X, Z, codes = self._core.data
        T = self._core.T_of(self.theta.to_numpy())
        base = X @ self.fixef.to_numpy() + (0 if self._spec.offset is None else self._spec.offset)
        sd = self.sigma / (1.0 if self._spec.weights is None else np.sqrt(self._spec.weights))
        out = np.empty((len(y), nsim))
        for s in range(nsim):
            b = self.ranef.to_numpy() if re_form is None else \
                rng.standard_normal((self.n_groups, Z.shape[1])) @ T.T * self.sigma
            out[:, s] = base + np.einsum("nq,nq->n", Z, b[codes]) + rng.standard_normal(len(y)) * sd
        return pd.DataFrame(out, index=self._spec.row_index,
                            columns=[f"sim_{i + 1}" for i in range(nsim)])

    def confint(self, method: str = "wald", level: float = 0.95, nsim: int = 200,
                seed: int | None = None) -> pd.DataFrame:
        """Confidence intervals (lme4 ``confint(fit, method = "Wald" | "profile" | "boot")``).

        One row per parameter in lme4's order: the random-effect SDs and correlations
        (``.sig01, ...``, theta order), the residual SD (``.sigma``), the fixed effects.
        Columns: term (``sd_cor:group:var1[:var2]``, ``sd_cor:Residual``, fixed-effect name),
        lme4_name, est (this fit's estimate), ci_lower, ci_upper.

        ``"wald"``: fixed effects, normal quantiles (as lme4; the t-based intervals with
        Satterthwaite df are in :attr:`fixed_effects`); variance parameters NaN.
        ``"profile"``: profile likelihood of every parameter, as lme4's ``profile()``: the ML
        deviance (a REML fit is refitted by ML first, as lme4 does) minimised over the other
        parameters with this one held fixed; the ends are where the deviance has risen by
        ``qchisq(level, 1)``. An SD whose profile stays below that down to 0 gets 0, a
        correlation that reaches +/-1 gets +/-1. lme4 interpolates its profile by splines;
        the ends here are exact roots (see docs/multilevel.md for the agreement).
        ``"boot"``: parametric bootstrap percentiles from ``nsim`` refits of outcomes simulated
        from the fit (new random effects and residuals, lme4 ``bootMer(use.u = FALSE)``),
        reproducible with ``seed``.
        """
        from ._intervals import (_VarPar, _fit_blocks, _lme4_names, _vc_names,
                                 check_confint_args, lmm_profile_confint, lmm_wald_confint)
        check_confint_args(method, level, ("wald", "profile", "boot"))
        if method == "wald":
            return lmm_wald_confint(self, level)
        if method == "profile":
            return lmm_profile_confint(self, level)
        if not (isinstance(nsim, (int, np.integer)) and nsim >= 2):
            raise ModelSpecificationError(f"The 'nsim' parameter must be an integer >= 2. Got {nsim!r}.")
        vp = _VarPar(self._spec.tpos, _fit_blocks(self))
        sims = self.simulate(nsim=nsim, seed=seed)
        y, X, Z, codes = self._core.data
        k = vp.k
        boots = np.empty((nsim, k + 1 + len(self.fixef)))
        w = self._spec.weights
        sw = 1.0 if w is None else np.sqrt(w)
        for s in range(nsim):
            ys = sims.iloc[:, s].to_numpy() - (0 if self._spec.offset is None else self._spec.offset)
            core = LMMCore(ys * sw, X * np.atleast_1d(sw)[:, None] if w is not None else X,
                           Z * np.atleast_1d(sw)[:, None] if w is not None else Z,
                           codes, self.n_groups, self._spec.tpos)
            core.data = (ys, X, Z, codes)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = _fit(core, self._spec, self.reml, self.n_dropped)
            boots[s] = np.concatenate([vp.to_sv(f.theta.to_numpy(), f.sigma), [f.sigma],
                                       f.fixef.to_numpy()])
        a = (1 - level) / 2
        est = np.concatenate([vp.to_sv(self.theta.to_numpy(), self.sigma), [self.sigma],
                              self.fixef.to_numpy()])
        return pd.DataFrame({"term": _vc_names(self, vp) + list(self.fixef.index),
                             "lme4_name": _lme4_names(self), "est": est,
                             "ci_lower": np.nanquantile(boots, a, axis=0),
                             "ci_upper": np.nanquantile(boots, 1 - a, axis=0)})

    def refit_ml(self) -> "MixedResult":
        """The same model refitted by ML (itself if already ML), as ``anova()`` does in lme4.

        Computed once and cached."""
        if not self.reml:
            return self
        return self._ml_refit

    @cached_property
    def _ml_refit(self) -> "MixedResult":
        with warnings.catch_warnings():
            if self.singular:         # already reported for the REML fit
                warnings.simplefilter("ignore", SingularFitWarning)
            return _with_weights(_fit(self._core, self._spec, False, self.n_dropped))

    def __repr__(self) -> str:
        crit = "REML" if self.reml else "ML"
        flags = ("" if self.converged else ", not converged") + (", singular" if self.singular else "")
        return (f"<MixedResult {crit} {self.formula!r}: {self.n_obs} rows, {self.n_groups} "
                f"{self.group}, logLik {self.loglik:.4f}{flags}>")

    def to_frame(self) -> pd.DataFrame:
        """The fixed effects (``fixed_effects``): term, est, se, t, df, p_value, ci_lower, ci_upper."""
        return self.fixed_effects.copy()

    def summary(self) -> Summary:
        """Text/HTML/LaTeX summary like ``summary(lmerTest::lmer(...))``."""
        crit = "REML" if self.reml else "ML"
        header = [f"Formula: {self.formula}",
                  f"Observations: {self.n_obs}; groups ({self.group}): {self.n_groups}"
                  + (f"; rows dropped for missing values: {self.n_dropped}" if self.n_dropped else ""),
                  f"logLik {self.loglik:.4f}  AIC {self.aic:.4f}  BIC {self.bic:.4f}"
                  + (f"  REML criterion {self.reml_criterion:.4f}" if self.reml else
                     f"  deviance {self.deviance:.4f}")]
        footer = []
        if self.singular:
            footer.append("Warning: singular fit (a random-effect variance is estimated as ~0).")
        if not self.converged:
            footer.append("Warning: the optimiser did not converge: " + "; ".join(self.messages))
        return Summary(f"Linear mixed model fit by {crit} (Satterthwaite df)", tuple(header),
                       (("Random effects:", self.random_effects),
                        ("Fixed effects:", self.fixed_effects)), tuple(footer))


MixedSummary = Summary


# --------------------------------------------------------------------------- fitting
def _varcorr_table(spec: _Spec, T: np.ndarray, sigma: float) -> pd.DataFrame:
    D = (T @ T.T) * sigma ** 2
    rows = []
    for blk in spec.blocks:
        for c in blk:
            rows.append({"group": spec.group, "var1": spec.re_names[c], "var2": None,
                         "variance": D[c, c], "sd_cor": math.sqrt(max(D[c, c], 0.0))})
        for ci, c in enumerate(blk):
            for r in blk[ci + 1:]:
                den = math.sqrt(D[c, c] * D[r, r])
                rows.append({"group": spec.group, "var1": spec.re_names[c], "var2": spec.re_names[r],
                             "variance": D[r, c], "sd_cor": D[r, c] / den if den > 0 else float("nan")})
    rows.append({"group": "Residual", "var1": None, "var2": None, "variance": sigma ** 2,
                 "sd_cor": sigma})
    return pd.DataFrame(rows)


def _fit(core: LMMCore, spec: _Spec, reml: bool, n_dropped: int, start=None,
         fixed_theta=None) -> MixedResult:
    t0 = _time.perf_counter()
    if fixed_theta is None:
        # many small BLAS calls (L-BFGS-B, 2x2 solves): OpenBLAS's thread pool would cost
        # milliseconds per call on a busy machine
        with single_blas_thread():
            theta, info = core.optimize(reml, start=start)
    else:
        theta = np.asarray(fixed_theta, dtype=float)
        info = {"converged": True, "message": "theta fixed by the caller (no optimisation)"}
    ev = core.evaluate(theta, reml, full=True)
    n, p = core.n, core.p
    m = n - p if reml else n
    pwrss = ev["pwrss"]
    sigma = math.sqrt(pwrss / m)
    T = ev["T"]
    Cinv = np.linalg.inv(ev["C"])
    V = sigma ** 2 * Cinv
    beta = ev["beta"]
    u = ev["a"] @ T                         # u_i = T' a_i  (rows)
    b = u @ T.T                             # b_i = T u_i
    ussq = float(np.sum(u * u))
    dev = ev["dev"]
    npar = p + len(theta) + 1
    if reml:
        reml_crit = dev
        ml_dev_here = ev["ldL2"] + n * (1 + math.log(2 * math.pi * pwrss / n))
    else:
        reml_crit = float("nan")
        ml_dev_here = dev
    loglik = -dev / 2
    messages = []
    diag_idx = [i for i, (r, c) in enumerate(spec.tpos) if r == c]
    singular = bool(np.any(theta[diag_idx] < SINGULAR_TOL))
    if singular:
        msg = (f"boundary (singular) fit of {spec.formula!r}: the random-effects covariance of "
               f"{spec.group!r} is singular (a variance estimated as ~0 or a correlation of "
               "~ +/-1); consider a simpler random-effects structure; see result.random_effects")
        messages.append(msg)
        warnings.warn(msg[0].upper() + msg[1:] + ".", SingularFitWarning, stacklevel=3)
    if not info["converged"]:
        messages.append(info["message"])
        warnings.warn(f"Model {spec.formula!r} failed to converge: {info['message']}.",
                      ConvergenceWarning, stacklevel=3)
    names = list(spec.fixed_names)
    res = MixedResult(
        formula=spec.formula, reml=reml, n_obs=n, n_groups=core.G, group=spec.group,
        n_dropped=n_dropped,
        fixef=pd.Series(beta, index=names, name="est"),
        vcov=pd.DataFrame(V, index=names, columns=names),
        theta=pd.Series(theta, index=list(spec.theta_names), name="theta"),
        sigma=sigma, loglik=loglik, npar=npar,
        aic=dev + 2 * npar, bic=dev + math.log(n) * npar,
        deviance=ml_dev_here, reml_criterion=reml_crit,
        random_effects=_varcorr_table(spec, T, sigma),
        ranef=pd.DataFrame(b, index=pd.Index(spec.levels, name=spec.group),
                           columns=list(spec.re_names)),
        devcomp={"ldL2": ev["ldL2"], "ldRX2": ev["ldRX2"], "wrss": pwrss - ussq, "ussq": ussq,
                 "pwrss": pwrss, "sigmaML": math.sqrt(pwrss / n),
                 "sigmaREML": math.sqrt(pwrss / (n - p)),
                 "dev": float("nan") if reml else dev, "REML": dev if reml else float("nan")},
        converged=bool(info["converged"]), singular=singular, messages=tuple(messages),
        timing=_time.perf_counter() - t0, _core=core, _spec=spec)
    return res


def mixed(formula: str, data: pd.DataFrame, groups: str | None = None,
          re_formula: str | None = None, reml: bool = True,
          re_cov: str = "unstructured", theta: Sequence[float] | None = None,
          family: str = "gaussian", weights=None, nagq: int = 1):
    """Fit a linear (Gaussian) or generalised linear mixed model.

    One grouping factor gives a :class:`MixedResult` (Gaussian) or a ``GlmmResult``;
    Gaussian models with random terms for several grouping factors, nested
    ``(1 | therapist/patient)`` or crossed ``(1 | patient) + (1 | rater)``, give a
    :class:`~psychometrics.multilevel._multi.MultiMixedResult` (lme4's sparse formulation,
    see docs/multilevel.md "Several grouping factors").

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2 + x1:x2"``; may carry lme4-style random terms
        ``(1 + x1 | id)`` (correlated) or ``(1 + x1 || id)`` (uncorrelated),
        in which case ``groups``/``re_formula`` are not needed. ``C(x)`` codes a
        categorical predictor with treatment contrasts.
    data : DataFrame
        Rows with a missing value in any model variable are dropped (counted in
        ``result.n_dropped``), as lme4's default ``na.omit`` does.
    groups : str, optional
        Grouping column (patient id) when the formula has no random terms.
    re_formula : str, optional
        Random-effects design for ``groups``: ``"1"`` (default, random
        intercept), ``"1 + x"`` (intercept and slope), ``"0 + x"`` (slope only).
    reml : bool, default True
        REML (lme4's default) or maximum likelihood.
    re_cov : {"unstructured", "diagonal"}
        Covariance of the random effects given by ``re_formula``; "diagonal"
        is lme4's ``||``.
    theta : sequence of float, optional
        Do not optimise: evaluate the model at this relative covariance factor
        (lme4's ``getME(fit, "theta")``, same order). Everything else (beta,
        sigma, SEs, df, ranef, likelihood) follows from it; useful to reproduce
        another program's fit exactly or to profile the likelihood.
    family : {"gaussian", "binomial", "poisson", "negative_binomial"}, default "gaussian"
        ``"binomial"`` (logit link) and ``"poisson"`` (log link) fit a GLMM by
        maximum likelihood as lme4's ``glmer``, ``"negative_binomial"`` (log link,
        dispersion estimated, ``result.nb_theta``) as ``glmer.nb``; they return a
        :class:`~psychometrics.multilevel.glmm.GlmmResult`; a binomial outcome is
        0/1, a proportion with ``weights`` (trials), or ``cbind(successes, failures)``.
        ``offset(log(exposure))`` in the formula adds an offset.
    weights : str or array, optional
        Prior weights (lme4 ``weights=``): for a Gaussian model the residual
        variance of row i is ``sigma^2 / w_i``; for a binomial one the trials.
    nagq : int, default 1
        GLMMs only: 1 is the Laplace approximation; more than 1 uses adaptive
        Gauss-Hermite quadrature with that many points (one scalar random effect),
        as lme4's ``nAGQ``.

    Returns
    -------
    MixedResult or GlmmResult

    Raises
    ------
    ModelSyntaxError, ModelSpecificationError, DataValidationError
        For a malformed formula, unknown or non-numeric columns, a rank-deficient
        fixed design, or too few groups/rows for the random-effects structure.

    Warns
    -----
    SingularFitWarning
        A random-effect SD is estimated at (near) zero (``result.singular``).
    ConvergenceWarning
        The optimality check failed at the returned point (``result.converged``).

    Notes
    -----
    The profiled deviance (Bates et al., 2015, lme4) is minimised over the
    relative covariance factor ``theta`` with L-BFGS-B using its analytic
    gradient, then polished by Newton steps; all computations use per-group
    sufficient statistics (see ``psychometrics.multilevel._lmm``). A variance
    estimated at 0 is accepted only after the interior has been checked (the
    deviance at small positive values, runs from interior starts); the
    derivative of the deviance vanishes at 0 by symmetry, so a stationary point
    there proves nothing. ``converged`` reports that optimality check.
    Fixed-effect inference: Satterthwaite df from the Hessian of the deviance
    in (theta, sigma) and the Jacobian of cov(beta), as lmerTest (Kuznetsova
    et al., 2017).

    R equivalent: ``lmerTest::lmer(y ~ x + (1 + x | id), data, REML = TRUE)``.

    Examples
    --------
    >>> fit = mixed("Reaction ~ Days + (Days | Subject)", sleepstudy)   # doctest: +SKIP
    >>> fit.fixed_effects                                                # doctest: +SKIP
    """
    from ..io.itemdata import as_frame
    data = as_frame(data, "mixed")   # data entry: an ItemData, or an empty frame refused
    if not isinstance(reml, (bool, np.bool_)):
        raise ModelSpecificationError(f"The 'reml' parameter must be True or False. Got {reml!r}.")
    if family not in ("gaussian", "binomial", "poisson", "negative_binomial"):
        raise ModelSpecificationError(
            "The 'family' parameter must be 'gaussian', 'binomial', 'poisson' or "
            "'negative_binomial'. "
            f"Got {family!r} instead.")
    multi = isinstance(formula, str) and groups is None and re_formula is None \
        and is_multi_formula(formula)
    if family != "gaussian" and multi:
        from ._glmm_multi import glmm_multi_fit
        return glmm_multi_fit(formula, data, family, nagq=nagq, weights=weights, theta=theta)
    if family != "gaussian":
        from .glmm import glmm_fit
        return glmm_fit(formula, data, family, groups=groups, re_formula=re_formula,
                        re_cov=re_cov, weights=weights, nagq=nagq, theta=theta)
    if multi:
        # several grouping factors (nested a/b, interaction a:b, crossed): lme4's sparse
        # formulation in _multi.py; returns a MultiMixedResult
        if nagq != 1:
            raise ModelSpecificationError(
                "nagq= applies to GLMMs (family='binomial' or 'poisson').")
        return mixed_multi(formula, data, reml=bool(reml), theta=theta, weights=weights)
    if nagq != 1:
        raise ModelSpecificationError("nagq= applies to GLMMs (family='binomial' or 'poisson').")
    spec, y, X, Z, codes, G, n_dropped = _prepare(formula, data, groups, re_formula, re_cov,
                                                  weights=weights)
    _warn_discrete_outcome(y, formula)
    t0 = _time.perf_counter()
    if spec.offset is not None:
        y = y - spec.offset
    y0, X0, Z0 = y, X, Z
    if spec.weights is not None:
        w = spec.weights
        if np.any(w <= 0):
            bad = list(spec.row_index[np.flatnonzero(w <= 0)[:10]])
            raise ModelSpecificationError(
                f"Prior weights of a Gaussian model must be positive; rows {bad} have weight 0.")
        sw = np.sqrt(w)
        y, X, Z = y * sw, X * sw[:, None], Z * sw[:, None]
    core = LMMCore(y, X, Z, codes, G, spec.tpos)
    core.data = (y0 + (0 if spec.offset is None else spec.offset), X0, Z0, codes)
    if theta is not None:
        theta = np.asarray(theta, dtype=float).ravel()
        if theta.size != len(spec.tpos):
            raise ModelSpecificationError(
                f"theta has {theta.size} value(s) but the model has {len(spec.tpos)}: "
                f"{list(spec.theta_names)}.")
        lo = core.lower
        if np.any(theta < lo):
            raise ModelSpecificationError(
                f"theta values for diagonal elements {list(spec.theta_names)} must be >= 0.")
    res = _with_weights(_fit(core, spec, bool(reml), n_dropped, fixed_theta=theta))
    object.__setattr__(res, "timing", _time.perf_counter() - t0)
    return res


def _with_weights(res: MixedResult) -> MixedResult:
    """Add lme4's ``-sum(log w)`` to the deviance / REML criterion of a weighted fit
    (the fit itself is the unweighted one on rows scaled by sqrt(w))."""
    w = res._spec.weights
    if w is None:
        return res
    ldw = float(np.sum(np.log(w)))
    crit = -2 * res.loglik - ldw
    dc = dict(res.devcomp)
    dc["dev"] = dc["dev"] - ldw
    dc["REML"] = dc["REML"] - ldw
    for k, v in {"loglik": -crit / 2, "aic": crit + 2 * res.npar,
                 "bic": crit + math.log(res.n_obs) * res.npar, "deviance": res.deviance - ldw,
                 "reml_criterion": res.reml_criterion - ldw, "devcomp": dc}.items():
        object.__setattr__(res, k, v)
    return res


def _warn_discrete_outcome(y: np.ndarray, formula: str) -> None:
    """Warn when a Gaussian model is given a 0/1 or small-count outcome."""
    y = y[np.isfinite(y)]
    if y.size == 0 or np.any(y != np.round(y)) or y.min() < 0:
        return
    vals = np.unique(y)
    if vals.size <= 2 and set(vals.tolist()) <= {0.0, 1.0}:
        warnings.warn(
            f"The outcome of {formula!r} only takes the values 0 and 1 but is fitted as Gaussian; "
            "for a binary outcome use family='binomial' (lme4's glmer(..., family = binomial)).",
            DataQualityWarning, stacklevel=3)
    elif y.max() <= 20 and vals[0] == 0:
        warnings.warn(
            f"The outcome of {formula!r} only takes small non-negative whole numbers (0 to "
            f"{int(y.max())}) but is fitted as Gaussian; if it is a count, use family='poisson' "
            "(lme4's glmer(..., family = poisson)).", DataQualityWarning, stacklevel=3)


# --------------------------------------------------------------------------- Satterthwaite
def _satterthwaite_pieces(core: LMMCore, theta: np.ndarray, sigma: float, reml: bool, tol=1e-8):
    """lmerTest's vcov_varpar (= 2 H^-1) and Jacobian of cov(beta) at (theta, sigma)."""
    k = len(theta)
    n, p = core.n, core.p
    m = n - p if reml else n

    def grad_vp(vp):
        th, s = vp[:k], vp[k]
        ev = core.evaluate(th, reml=reml, grad=True, sigma=s)
        return np.append(ev["grad"], -2.0 * ev["pwrss"] / s ** 3 + 2.0 * m / s)

    vp = np.concatenate([theta, [sigma]])
    Hs = richardson_jacobian(grad_vp, vp)
    Hs = 0.5 * (Hs + Hs.T)
    w, U = np.linalg.eigh(Hs)
    pos = w > tol
    neg = w < -tol
    msgs = []
    if neg.any():
        msgs.append(f"Model failed to converge with {int(neg.sum())} negative eigenvalue(s) of "
                    "the deviance Hessian")
    if (~pos & ~neg).any():
        msgs.append(f"{int((~pos & ~neg).sum())} eigenvalue(s) of the deviance Hessian close to zero")
    Hinv = (U[:, pos] / w[pos]) @ U[:, pos].T
    A_vp = 2.0 * Hinv

    def covbeta(vp_):
        th, s = vp_[:k], vp_[k]
        ev = core.evaluate(th, reml=False)
        return (s ** 2 * np.linalg.inv(ev["C"])).ravel()

    J = richardson_jacobian(covbeta, vp)
    jac_list = [J[:, j].reshape(p, p) for j in range(k + 1)]
    return {"A": A_vp, "jac": jac_list, "messages": msgs}


# --------------------------------------------------------------------------- model comparison
def compare(*fits: MixedResult, refit: bool = True, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Likelihood-ratio tests of nested models, as lme4's ``anova(m1, m2, ...)``.

    REML fits are refitted by ML first when ``refit`` is True (lme4's
    default). Models are ordered by number of parameters; each row after the
    first is tested against the previous one.

    Returns a DataFrame with model, npar, aic, bic, loglik, deviance, chisq,
    df, p_value.
    """
    if len(fits) < 2:
        raise ModelSpecificationError("compare() needs at least two fitted models.")
    names = list(names) if names is not None else [f"model{i + 1}" for i in range(len(fits))]
    if len(names) != len(fits):
        raise ModelSpecificationError("names= must give one name per model.")
    n_obs = {f.n_obs for f in fits}
    if len(n_obs) > 1:
        raise ModelSpecificationError(
            f"Models were fitted to different numbers of rows {sorted(n_obs)}; likelihood-ratio "
            "tests need the same data.")
    use = [f.refit_ml() if (refit and f.reml) else f for f in fits]
    if not refit and len({f.reml for f in fits}) > 1:
        raise ModelSpecificationError("Cannot compare REML and ML fits without refit=True.")
    order = sorted(range(len(use)), key=lambda i: use[i].npar)
    rows = []
    prev = None
    for i in order:
        f = use[i]
        dev = -2 * f.loglik
        row = {"model": names[i], "npar": f.npar, "aic": f.aic, "bic": f.bic, "loglik": f.loglik,
               "deviance": dev, "chisq": np.nan, "df": np.nan, "p_value": np.nan}
        if prev is not None:
            chisq = prev["deviance"] - dev
            ddf = f.npar - prev["npar"]
            row["chisq"] = chisq
            row["df"] = ddf
            row["p_value"] = stats.chi2.sf(chisq, ddf) if ddf > 0 else np.nan
        rows.append(row)
        prev = row
    return pd.DataFrame(rows)
