"""Linear mixed models with several grouping factors: nested and crossed random effects.

lme4's formulation (Bates, Maechler, Bolker & Walker, 2015, J Stat Softw 67(1), section 3):
``y = X beta + Z Lambda u + e``, ``u ~ N(0, sigma^2 I)``, ``e ~ N(0, sigma^2 I)``. Each
random-effects term ``(expr | g)`` contributes ``G_g x q_g`` columns of ``Z`` (level-major, the
``q_g`` effects of one level side by side) and a block ``I_G (x) T_g`` of the relative
covariance factor ``Lambda`` (``T_g`` lower triangular, its free elements are ``theta``). With
``A = Lambda' Z'Z Lambda + I`` (sparse: its pattern is that of Z'Z)::

    ldL2  = log det A
    C     = X'X - X'Z Lambda A^-1 Lambda' Z'X          (= RX'RX,  ldRX2 = log det C)
    beta  = C^-1 (X'y - X'Z Lambda A^-1 Lambda' Z'y)
    pwrss = y'y - y'Z Lambda A^-1 Lambda'Z'y - beta' (X'y - ...)
    dev_ML   = ldL2 + n (1 + log(2 pi pwrss / n))
    dev_REML = ldL2 + ldRX2 + (n - p) (1 + log(2 pi pwrss / (n - p)))

``A`` is factored densely when it is small and by a sparse LU (SuperLU, symmetric mode, minimum
degree ordering; the log-determinant is the sum of log |U_ii|) otherwise. For nested random
intercepts the factor has no fill-in (patients within therapists), so one evaluation costs
O(number of levels).

The evaluator (``MultiLMMCore``), the optimiser, the optimality check and its restarts are
the shared REML core's (:mod:`psychometrics.numerics.reml`, issue 19): a boundary point is accepted only after
the deviance at small positive variances was checked, and ``converged`` means the check
passed. The gradient is a central difference of the deviance and the Hessian a second
difference of function values (the number of theta is small); lmerTest's Satterthwaite df use
the Hessian of the deviance in (theta, sigma) by Richardson-extrapolated differences, as
``numDeriv::hessian`` in lmerTest.
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
from ..results import Summary
from .._blas import single_blas_thread
from ._deriv import richardson_jacobian
from ..numerics.reml import MultiLMMCore
from ._design import (SINGULAR_TOL, _dependent_columns, _Design, _label, _level_codes,
                      _prior_weights, _satt_df, _satt_F, contrast_matrix, expand_random_terms,
                      is_multi_formula, richardson_hessian)
from ._formula import build_design, parse_formula
from .._lazy import lazy_module

sp = lazy_module("scipy.sparse")
stats = lazy_module("scipy.stats")


__all__ = ["is_multi_formula", "mixed_multi", "MultiMixedResult", "expand_random_terms"]


# --------------------------------------------------------------------------- preparation
@dataclass(frozen=True, eq=False)
class _MultiSpec:
    formula: str
    response: str
    fixed_names: tuple
    term_cols: dict
    terms: tuple          # per term: dict(name, re_names, levels, q, off, col0, tpos)
    tpos: tuple
    theta_names: tuple
    row_index: Any = None
    design: Any = None        # mixed._Design: fixed terms, formula state, model frame
    weights: Any = None       # prior weights of the rows used (None: all 1)
    expanded: tuple = ()      # expand_random_terms(...) of the formula (for new data)


def _check_nesting(data, ok, factor_cols, expanded):
    """Warnings about the grouping structure: ids reused under two levels of another factor
    (ambiguous nesting) in a crossed specification, and upper levels with a single lower level
    in a nested one."""
    singles = {facs[0] for _, _, facs, _ in expanded if len(facs) == 1}
    nested_names = {facs for _, _, facs, _ in expanded if len(facs) > 1}
    d = data.loc[ok]
    for a in sorted(singles):
        for b in sorted(singles):
            if a == b or any(set((a, b)) <= set(f) for f in nested_names):
                continue
            nb = d.groupby(a, sort=True)[b].nunique()
            if d.groupby(b, sort=True)[a].nunique().max() <= 1:
                continue          # b is nested in a (e.g. broods within locations): expected
            multi = nb[nb > 1]
            if 0 < len(multi) <= 0.5 * len(nb):
                shown = []
                for lev in multi.index[:10]:
                    under = sorted(map(_label, pd.unique(d.loc[d[a] == lev, b])))
                    shown.append(f"{_label(lev)} (under {', '.join(under)})")
                more = f" and {len(multi) - 10} more" if len(multi) > 10 else ""
                warnings.warn(
                    f"Ambiguous nesting: {len(nb) - len(multi)} of the {len(nb)} levels of {a!r} "
                    f"occur under one level of {b!r} each, but {len(multi)} {a!r} id(s) occur "
                    f"under several: {'; '.join(shown)}{more}. The model treats {a!r} and "
                    f"{b!r} as crossed, so these are taken to be the same {a!r} seen under "
                    f"different {b!r}. If {a!r} is nested in {b!r} (ids reused), write "
                    f"'(1 | {b}/{a})', or make the ids unique, e.g. data['{a}'] = "
                    f"data['{b}'].astype(str) + '_' + data['{a}'].astype(str).",
                    DataQualityWarning, stacklevel=4)
    for facs in sorted(nested_names):
        upper, lower = facs[:-1], facs
        cnt = d[list(lower)].drop_duplicates().groupby(list(upper)).size()
        one = cnt[cnt == 1]
        if len(one):
            ids = [":".join(map(_label, i if isinstance(i, tuple) else (i,)))
                   for i in one.index[:10]]
            warnings.warn(
                f"{len(one)} level(s) of {':'.join(upper)!r} have a single {facs[-1]!r}: "
                f"{', '.join(ids)}{' ...' if len(one) > 10 else ''}. For them the "
                f"{':'.join(upper)!r} and {facs[-1]!r} random intercepts are not told apart "
                "by their own data (the estimates lean on the other levels).",
                DataQualityWarning, stacklevel=4)


def _prepare_multi(formula, data, family: str = "gaussian", weights=None):
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError(
            f"The 'data' argument must be a pandas DataFrame, got {type(data).__name__}.")
    parsed = parse_formula(formula)
    expanded = expand_random_terms(parsed.random)
    cols = list(map(str, data.columns))
    if parsed.response not in data.columns:
        raise ModelSpecificationError(
            f"Outcome {parsed.response!r} is not a column of data; columns are {cols}.")
    factor_cols = sorted({f for _, _, facs, _ in expanded for f in facs})
    for f in factor_cols:
        if f not in data.columns:
            raise ModelSpecificationError(
                f"Grouping column {f!r} of {formula!r} is not a column of data; columns are "
                f"{cols}.")
    col = data[parsed.response]
    if not pd.api.types.is_numeric_dtype(col):
        raise ModelSpecificationError(
            f"Outcome {parsed.response!r} must be numeric (dtype is {col.dtype}).")
    levels_cache: dict = {}
    X, xnames, term_cols = build_design(data, parsed.terms, parsed.intercept, levels_cache)
    y = col.to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    w_all = None
    if weights is not None:
        w_all = _prior_weights(weights, data, None)
        ok &= np.isfinite(w_all)
    Zs = []
    for terms, intercept, facs, name in expanded:
        Zt, zn, _ = build_design(data, terms, intercept, levels_cache)
        if Zt.shape[1] == 0:
            raise ModelSpecificationError(f"A random-effects term of {formula!r} has no columns.")
        Zs.append((Zt, zn))
        ok &= np.all(np.isfinite(Zt), axis=1)
    for f in factor_cols:
        ok &= data[f].notna().to_numpy()
    n_dropped = int((~ok).sum())
    n = int(ok.sum())
    if n == 0:
        raise ModelSpecificationError(
            f"No complete rows: every row has a missing value in {parsed.response!r}, the "
            f"predictors or the grouping columns {factor_cols}.")
    _check_nesting(data, ok, factor_cols, expanded)
    y, X = y[ok], X[ok]
    d = data.loc[ok]
    # terms in lme4's order: decreasing number of levels (stable)
    raw = []
    names_seen = {}
    for (terms, intercept, facs, name), (Zt, zn) in zip(expanded, Zs):
        codes, levels = _level_codes(d, name.split(":"))   # labels in the order of the name
        if name in names_seen and names_seen[name] & set(zn):
            raise ModelSpecificationError(
                f"Random effect(s) {sorted(names_seen[name] & set(zn))} of {name!r} appear twice "
                f"in {formula!r}.")
        names_seen.setdefault(name, set()).update(zn)
        raw.append({"name": name, "facs": facs, "Zt": Zt[ok], "re_names": tuple(zn),
                    "re_terms": tuple(terms), "re_intercept": bool(intercept),
                    "codes": codes.astype(np.int64), "levels": tuple(levels.tolist()),
                    "G": len(levels), "q": Zt.shape[1]})
    raw.sort(key=lambda t: -t["G"])
    off = col0 = 0
    tpos, tnames = [], []
    for t in raw:
        t["off"], t["col0"] = off, col0
        t["tpos"] = [(r, c) for c in range(t["q"]) for r in range(c, t["q"])]
        for r, c in t["tpos"]:
            tpos.append((off + r, off + c))
            tnames.append(f"{t['name']}.{t['re_names'][c]}" if r == c
                          else f"{t['name']}.{t['re_names'][r]}.{t['re_names'][c]}")
        off += t["q"]
        col0 += t["G"] * t["q"]
    # ---- identifiability (lme4's checks, with the offending factor named)
    for t in raw:
        if t["G"] < 2:
            lev = t["levels"][0] if t["levels"] else None
            raise ModelSpecificationError(
                f"Grouping factor {t['name']!r} has a single level ({lev!r}) among the {n} complete "
                f"rows; a variance between its levels cannot be estimated. Remove the term "
                f"'(... | {t['name']})' or check the column.")
        if t["G"] >= n and family == "gaussian":     # glmer: an observation-level effect is fine
            raise ModelSpecificationError(
                f"Grouping factor {t['name']!r} has {t['G']} levels for {n} complete rows (one row "
                f"per level): its random effect cannot be told apart from the residual. Remove the "
                f"term '(... | {t['name']})' (lme4: number of levels of each grouping factor must "
                "be < number of observations).")
        if n <= t["G"] * t["q"] and family == "gaussian":   # glmer: check.nobs.vs.nRE ignored
            cnt = np.bincount(t["codes"], minlength=t["G"])
            few = [t["levels"][i] for i in np.flatnonzero(cnt < t["q"])]
            few_txt = (f" Levels with fewer than {t['q']} rows: {', '.join(map(str, few[:10]))}"
                       + (f" and {len(few) - 10} more." if len(few) > 10 else ".")) if few else ""
            raise ModelSpecificationError(
                f"Too few observations for the random effects of {t['name']!r}: {n} rows <= "
                f"{t['G']} levels x {t['q']} random effect(s) ({', '.join(t['re_names'])}); their "
                "variances and the residual variance are not identifiable. Use fewer random "
                f"slopes.{few_txt}")
        nth = len(t["tpos"])
        if t["G"] <= nth:
            raise ModelSpecificationError(
                f"Too few levels of {t['name']!r} ({t['G']}) for {nth} random-effects covariance "
                f"parameter(s); use a simpler random-effects structure for it.")
        if t["G"] < 5:
            warnings.warn(f"Only {t['G']} levels of {t['name']!r}: variance components estimated "
                          "from fewer than 5 groups are very imprecise.", DataQualityWarning,
                          stacklevel=3)
    bad = _dependent_columns(X, xnames)
    if bad:
        raise ModelSpecificationError(
            f"The fixed-effects design of {formula!r} is rank deficient: column(s) {bad} are "
            "linear combinations of earlier columns. Remove them.")
    blob = " ".join([parsed.response] + [f for t in parsed.terms for f in t]
                    + [f for terms, _, _, _ in expanded for t in terms for f in t] + factor_cols)
    frame = d[[c for c in data.columns if str(c) in blob]]
    spec = _MultiSpec(formula, parsed.response, tuple(xnames), term_cols,
                      tuple({k: v for k, v in t.items() if k not in ("Zt", "codes")} for t in raw),
                      tuple(tpos), tuple(tnames), d.index,
                      design=_Design(parsed.terms, parsed.intercept, levels_cache, frame),
                      expanded=tuple(expanded), weights=None if w_all is None else w_all[ok])
    return spec, y, X, raw, n_dropped


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class MultiMixedResult:
    """Fitted linear mixed model with several grouping factors (immutable).

    Attributes as :class:`~psychometrics.multilevel.MixedResult`, except:

    groups : tuple of str
        Grouping factors in lme4's order (most levels first), e.g.
        ``("patient:therapist", "therapist")``.
    n_groups : dict
        Levels per grouping factor (``ngrps(fit)``).
    ranef : dict of DataFrame
        Conditional modes per grouping factor, one row per level (``ranef(fit)``); levels of
        an interaction factor are labelled ``"patient:therapist"`` values joined by ``:``.
    random_effects : DataFrame
        ``as.data.frame(VarCorr(fit))``: group, var1, var2, variance, sd_cor.

    R equivalent: ``lmerTest::lmer(y ~ x + (1 | therapist/patient), data)``.
    """

    formula: str
    reml: bool
    n_obs: int
    groups: tuple
    n_groups: dict
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
    ranef: dict
    devcomp: dict
    converged: bool
    singular: bool
    messages: tuple
    timing: float
    _core: Any = field(repr=False, compare=False)
    _spec: Any = field(repr=False, compare=False)

    @cached_property
    def _satt(self):
        # hundreds of small dense factorisations: OpenBLAS's thread pool would cost far more
        # than the work on a busy machine
        with single_blas_thread():
            return _satterthwaite_multi(self._core, self.theta.to_numpy(), self.sigma, self.reml)

    @property
    def vcov_varpar(self) -> pd.DataFrame:
        """Asymptotic covariance of (theta, sigma): ``2 H^-1`` of the deviance (lmerTest)."""
        names = list(self.theta.index) + ["sigma"]
        return pd.DataFrame(self._satt["A"], index=names, columns=names)

    @cached_property
    def _kr(self):
        from ._kr import KR_DENSE_MAX, kr_pieces_dense
        if not self.reml:
            raise ModelSpecificationError(
                "Kenward-Roger's method is only available for REML fits (as in lmerTest); refit "
                "with reml=True.")
        if self._spec.weights is not None:
            raise ModelSpecificationError(
                "Kenward-Roger df with prior weights are not available; use ddf='satterthwaite'.")
        if self.n_obs > KR_DENSE_MAX:
            raise ModelSpecificationError(
                f"Kenward-Roger df for several grouping factors use dense {self.n_obs} x "
                f"{self.n_obs} matrices; available up to {KR_DENSE_MAX} rows. Use "
                "ddf='satterthwaite'.")
        core = self._core
        Z = core.Z.tocsc()
        Ts = core.T_list(self.theta.to_numpy())
        Zs, Tb = [], []
        for t in self._spec.terms:
            Zs.append(Z[:, t["col0"]:t["col0"] + t["G"] * t["q"]])
            Tb.append(Ts[t["name"]])
        with single_blas_thread():
            return kr_pieces_dense(core.data[1], Zs, Tb, self.sigma)

    @property
    def vcov_kenward_roger(self) -> pd.DataFrame:
        """Kenward-Roger adjusted covariance of the fixed effects (pbkrtest ``vcovAdj``)."""
        names = list(self.fixef.index)
        return pd.DataFrame(self._kr["PhiA"], index=names, columns=names)

    def coef_table(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Fixed-effects table with Satterthwaite or Kenward-Roger df (lmerTest ``summary(fit,
        ddf = "Kenward-Roger")``: adjusted SEs, KR df; REML only)."""
        tab = self.contrast(np.eye(len(self.fixef)), ddf=ddf)
        tab.insert(0, "term", list(self.fixef.index))
        return tab

    def contrast(self, L, rhs: float = 0.0, ddf: str = "satterthwaite") -> pd.DataFrame:
        """t-tests of single-df contrasts ``L beta = rhs`` with Satterthwaite (lmerTest
        ``contest1D``) or Kenward-Roger df. ``L``: vector/matrix over the fixed effects or
        ``{term: weight}``."""
        from ._kr import kr_ddf
        if ddf not in ("satterthwaite", "kenward-roger"):
            raise ModelSpecificationError(
                f"The 'ddf' parameter must be 'satterthwaite' or 'kenward-roger'. Got {ddf!r} instead.")
        names = list(self.fixef.index)
        L = contrast_matrix(L, names)
        V = self.vcov.to_numpy() if ddf == "satterthwaite" else self._kr["PhiA"]
        beta = self.fixef.to_numpy()
        rows = []
        for ell in L:
            est = float(ell @ beta) - rhs
            var = float(ell @ V @ ell)
            df = _satt_df(ell, var, self._satt) if ddf == "satterthwaite" else \
                kr_ddf(ell, self.vcov.to_numpy(), self._kr)
            se = math.sqrt(var)
            t = est / se
            crit = stats.t.ppf(0.975, df)
            rows.append({"est": est, "se": se, "t": t, "df": df,
                         "p_value": 2 * stats.t.sf(abs(t), df),
                         "ci_lower": est - crit * se, "ci_upper": est + crit * se})
        return pd.DataFrame(rows)

    @cached_property
    def fixed_effects(self) -> pd.DataFrame:
        """One row per fixed effect: term, est, se, t, df (Satterthwaite), p_value, ci_lower,
        ci_upper. R: ``summary(lmerTest::lmer(...))$coefficients``."""
        tab = self.contrast(np.eye(len(self.fixef)))
        tab.insert(0, "term", list(self.fixef.index))
        return tab

    def to_frame(self) -> pd.DataFrame:
        """The fixed-effects table (``fixed_effects``)."""
        return self.fixed_effects

    @cached_property
    def type3_contrasts(self) -> dict:
        """Each term's type III hypothesis matrix, as lmerTest's ``get_contrasts_type3``."""
        from ._formula import type3_contrasts
        d = self._spec.design
        return type3_contrasts(d.frame, d.terms, d.intercept, d.state, self._core.data[1],
                               list(self._spec.fixed_names))

    def anova(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Type III F-tests of every fixed term with Satterthwaite df (lmerTest ``anova(fit)``).

        Columns: term, sum_sq, mean_sq, df1, df2, f, p_value. ``ddf="kenward-roger"``
        (REML fits) as lmerTest's ``anova(fit, ddf = "Kenward-Roger")`` (pbkrtest, dense
        matrices: up to ``_kr.KR_DENSE_MAX`` rows)."""
        from ._kr import kr_test
        if ddf not in ("satterthwaite", "kenward-roger"):
            raise ModelSpecificationError(
                f"The 'ddf' parameter must be 'satterthwaite' or 'kenward-roger'. Got {ddf!r} instead.")
        beta, V = self.fixef.to_numpy(), self.vcov.to_numpy()
        rows = []
        for term, L in self.type3_contrasts.items():
            if ddf == "kenward-roger":
                kr = kr_test(L, beta, V, self._kr)
                ndf, den = kr["q"], kr["ddf"]
                ss = kr["f_unscaled"] * self.sigma ** 2 * ndf
                F = kr["f_unscaled"] * kr["f_scaling"]
                rows.append({"term": term, "sum_sq": ss, "mean_sq": ss / ndf, "df1": ndf,
                             "df2": den, "f": F, "p_value": stats.f.sf(F, ndf, den)})
                continue
            F, ndf, den = _satt_F(L, beta, V, self._satt)
            ss = F * ndf * self.sigma ** 2
            rows.append({"term": term, "sum_sq": ss, "mean_sq": ss / ndf, "df1": ndf,
                         "df2": den, "f": F, "p_value": stats.f.sf(F, ndf, den)})
        return pd.DataFrame(rows)

    def refit_ml(self) -> "MultiMixedResult":
        """The same model refitted by ML (itself if already ML), as lme4's ``anova()`` does;
        used by :func:`~psychometrics.multilevel.compare`. Computed once and cached."""
        if not self.reml:
            return self
        return self._ml_refit

    @cached_property
    def _ml_refit(self) -> "MultiMixedResult":
        with warnings.catch_warnings():
            if self.singular:         # already reported for the REML fit
                warnings.simplefilter("ignore", SingularFitWarning)
            return _with_weights_multi(_fit_multi(self._core, self._spec, False, self.n_dropped))

    def variance_shares(self) -> pd.Series:
        """Share of the total variance (random intercepts and residual) at each level, e.g.
        therapist, patient within therapist, occasion: the ICC at each level. Only the
        ``(Intercept)`` variances enter (with random slopes: at 0 of the slope predictors)."""
        tab = self.random_effects
        rows = tab[tab["var2"].isna() & ((tab["var1"] == "(Intercept)") | (tab["group"] == "Residual"))]
        v = rows.set_index("group")["variance"]
        return v / v.sum()

    def predict(self, newdata: pd.DataFrame | None = None, re_form: str | None = None,
                allow_new_levels: bool = False) -> pd.Series:
        """Predictions (lme4 ``predict(fit, newdata, re.form, allow.new.levels)``).

        ``re_form``: None adds the conditional modes of every random term, ``"~0"`` gives
        ``X beta``, a formula of some of the model's random terms, e.g. ``"~(1 | therapist)"``,
        adds only those (lme4 ``re.form = ~(1 | therapist)``). Levels not in the fit get random
        effects 0 when ``allow_new_levels`` is True, else an error naming them. Factor levels and
        poly()/scale() coefficients of the fit are reused for ``newdata``.
        """
        from ._predict import predict_multi
        eta, index = predict_multi(self, newdata, re_form, allow_new_levels)
        return pd.Series(eta, index=index, name="prediction")

    def simulate(self, nsim: int = 1, seed: int | None = None, re_form: str | None = "~0"
                 ) -> pd.DataFrame:
        """Simulated outcomes (lme4 ``simulate(fit, nsim, seed)``): new random effects for every
        level of every grouping factor (``re_form="~0"``, lme4's default) or the conditional
        modes (``re_form=None``), plus new residuals; one column per simulation."""
        if not (isinstance(nsim, (int, np.integer)) and nsim >= 1):
            raise ModelSpecificationError(f"The 'nsim' parameter must be a positive integer. Got {nsim!r}.")
        if re_form is not None and str(re_form).replace(" ", "") not in ("~0", "NA"):
            raise ModelSpecificationError(
                f"re_form={re_form!r}: simulate() takes '~0' (new random effects) or None "
                "(the conditional modes).")
        rng = np.random.default_rng(seed)
        y, X = self._core.data
        Z = getattr(self._core, "Z_plain", self._core.Z)
        Lam = self._core.Lambda(self.theta.to_numpy())
        sw = getattr(self._core, "sw", None)
        sd = self.sigma if sw is None else self.sigma / sw
        base = X @ self.fixef.to_numpy()
        out = np.empty((len(y), nsim))
        for s in range(nsim):
            b = self._b if re_form is None else \
                np.asarray(Lam @ (rng.standard_normal(self._core.Q) * self.sigma)).ravel()
            out[:, s] = base + Z @ b + rng.standard_normal(len(y)) * sd
        return pd.DataFrame(out, index=self._spec.row_index,
                            columns=[f"sim_{i + 1}" for i in range(nsim)])

    def confint(self, method: str = "wald", level: float = 0.95, nsim: int = 200,
                seed: int | None = None) -> pd.DataFrame:
        """Confidence intervals (lme4 ``confint(fit, method = "Wald" | "profile" | "boot")``).

        One row per parameter in lme4's order (``.sig01, ...`` for the SDs/correlations of the
        grouping factors in the order of :attr:`theta`, ``.sigma``, the fixed effects); columns
        term, lme4_name, est, ci_lower, ci_upper. ``"wald"``: fixed effects only (normal
        quantiles). ``"profile"``: profile likelihood (ML deviance, as lme4; see
        :meth:`MixedResult.confint <psychometrics.multilevel.MixedResult.confint>`).
        ``"boot"``: parametric bootstrap percentiles (``nsim`` refits, reproducible with
        ``seed``).
        """
        from ._intervals import (check_confint_args, lmm_boot_confint, lmm_profile_confint,
                                 lmm_wald_confint)
        check_confint_args(method, level, ("wald", "profile", "boot"))
        if method == "wald":
            return lmm_wald_confint(self, level)
        if method == "profile":
            return lmm_profile_confint(self, level)
        return lmm_boot_confint(self, level, nsim, seed)

    def fitted(self) -> pd.Series:
        """Conditional fitted values ``X beta + Z b`` (lme4 ``fitted(fit)``)."""
        y, X = self._core.data
        f = X @ self.fixef.to_numpy() + getattr(self._core, "Z_plain", self._core.Z) @ self._b
        return pd.Series(f, index=self._spec.row_index, name="fitted")

    def residuals(self) -> pd.Series:
        """Conditional residuals ``y - X beta - Z b`` (lme4 ``residuals(fit)``)."""
        return pd.Series(self._core.data[0] - self.fitted().to_numpy(),
                         index=self._spec.row_index, name="residual")

    @property
    def _b(self):
        return np.concatenate([self.ranef[t["name"]].to_numpy().ravel()
                               for t in self._spec.terms])

    def _refit(self, core) -> "MultiMixedResult":
        """This model refitted to ``core`` (e.g. simulated outcomes; used by the bootstrap in
        ``_intervals``, which so needs no import of this module)."""
        return _fit_multi(core, self._spec, self.reml, self.n_dropped)

    def __repr__(self) -> str:
        crit = "REML" if self.reml else "ML"
        flags = ("" if self.converged else ", not converged") + (", singular" if self.singular else "")
        grp = ", ".join(f"{g} {self.n_groups[g]}" for g in self.groups)
        return (f"<MultiMixedResult {crit} {self.formula!r}: {self.n_obs} rows, {grp}, "
                f"logLik {self.loglik:.4f}{flags}>")

    def summary(self) -> Summary:
        """Text/HTML/LaTeX summary like ``summary(lmerTest::lmer(...))``."""
        crit = "REML" if self.reml else "ML"
        header = [f"Formula: {self.formula}",
                  f"Observations: {self.n_obs}; groups: "
                  + ", ".join(f"{g} {self.n_groups[g]}" for g in self.groups)
                  + (f"; rows dropped for missing values: {self.n_dropped}" if self.n_dropped else ""),
                  f"logLik {self.loglik:.4f}  AIC {self.aic:.4f}  BIC {self.bic:.4f}"]
        footer = []
        if self.singular:
            footer.append("Warning: singular fit (a random-effect variance is estimated as ~0).")
        if not self.converged:
            footer.append("Warning: the optimiser did not converge: " + "; ".join(self.messages))
        return Summary(f"Linear mixed model fit by {crit} (Satterthwaite df)", tuple(header),
                       (("Random effects:", self.random_effects),
                        ("Fixed effects:", self.fixed_effects)), tuple(footer))


def _satterthwaite_multi(core, theta, sigma, reml):
    """lmerTest's vcov_varpar (2 H^-1 of the deviance in (theta, sigma), Richardson second
    differences as numDeriv::hessian) and the Jacobian of cov(beta) = sigma^2 C(theta)^-1."""
    k = len(theta)
    vp = np.concatenate([theta, [sigma]])
    f = lambda v: core._fixed_sigma_dev(v[:k], reml, v[k])  # noqa: E731
    H = richardson_hessian(f, vp)
    w, U = np.linalg.eigh(0.5 * (H + H.T))
    pos = w > 1e-8
    A = 2.0 * (U[:, pos] / w[pos]) @ U[:, pos].T
    p = core.p

    def covbeta(v):
        ev = core.evaluate(v[:k], reml=False)
        return (v[k] ** 2 * np.linalg.inv(ev["C"])).ravel()

    J = richardson_jacobian(covbeta, vp)
    return {"A": A, "jac": [J[:, j].reshape(p, p) for j in range(k + 1)], "messages": []}


def _varcorr_multi(spec, Ts, sigma):
    rows = []
    for t in spec.terms:
        T = Ts[t["name"]]
        D = T @ T.T * sigma ** 2
        nm = t["re_names"]
        for c in range(t["q"]):
            rows.append({"group": t["name"], "var1": nm[c], "var2": None, "variance": D[c, c],
                         "sd_cor": math.sqrt(max(D[c, c], 0.0))})
        for c in range(t["q"]):
            for r in range(c + 1, t["q"]):
                den = math.sqrt(D[c, c] * D[r, r])
                rows.append({"group": t["name"], "var1": nm[c], "var2": nm[r], "variance": D[r, c],
                             "sd_cor": D[r, c] / den if den > 0 else float("nan")})
    rows.append({"group": "Residual", "var1": None, "var2": None, "variance": sigma ** 2,
                 "sd_cor": sigma})
    return pd.DataFrame(rows)


def _fit_multi(core, spec, reml, n_dropped, fixed_theta=None):
    t0 = _time.perf_counter()
    if fixed_theta is None:
        with single_blas_thread():
            theta, info = core.optimize(reml)
    else:
        theta = np.asarray(fixed_theta, dtype=float)
        info = {"converged": True, "message": "theta fixed by the caller (no optimisation)"}
    ev = core.evaluate(theta, reml, full=True)
    n, p = core.n, core.p
    m = n - p if reml else n
    pwrss = ev["pwrss"]
    sigma = math.sqrt(pwrss / m)
    V = sigma ** 2 * np.linalg.inv(ev["C"])
    u = ev["u"]
    b = ev["b"]
    ussq = float(u @ u)
    dev = ev["dev"]
    npar = p + len(theta) + 1
    ml_dev = ev["ldL2"] + n * (1 + math.log(2 * math.pi * pwrss / n))
    diag_idx = [i for i, (r, c) in enumerate(spec.tpos) if r == c]
    singular = bool(np.any(theta[diag_idx] < SINGULAR_TOL))
    messages = []
    if singular:
        zero = [spec.theta_names[i] for i in diag_idx if theta[i] < SINGULAR_TOL]
        msg = (f"boundary (singular) fit of {spec.formula!r}: relative covariance factor(s) "
               f"{zero} ~ 0 (a variance estimated as ~0 or a correlation of ~ +/-1); consider a "
               "simpler random-effects structure; see result.random_effects")
        messages.append(msg)
        warnings.warn(msg[0].upper() + msg[1:] + ".", SingularFitWarning, stacklevel=3)
    if not info["converged"]:
        messages.append(info["message"])
        warnings.warn(f"Model {spec.formula!r} failed to converge: {info['message']}.",
                      ConvergenceWarning, stacklevel=3)
    ranef = {}
    for t in spec.terms:
        blk = b[t["col0"]:t["col0"] + t["G"] * t["q"]].reshape(t["G"], t["q"])
        ranef[t["name"]] = pd.DataFrame(blk, index=pd.Index(t["levels"], name=t["name"]),
                                        columns=list(t["re_names"]))
    names = list(spec.fixed_names)
    return MultiMixedResult(
        formula=spec.formula, reml=reml, n_obs=n, groups=tuple(t["name"] for t in spec.terms),
        n_groups={t["name"]: t["G"] for t in spec.terms}, n_dropped=n_dropped,
        fixef=pd.Series(ev["beta"], index=names, name="est"),
        vcov=pd.DataFrame(V, index=names, columns=names),
        theta=pd.Series(theta, index=list(spec.theta_names), name="theta"),
        sigma=sigma, loglik=-dev / 2, npar=npar, aic=dev + 2 * npar, bic=dev + math.log(n) * npar,
        deviance=ml_dev, reml_criterion=dev if reml else float("nan"),
        random_effects=_varcorr_multi(spec, core.T_list(theta), sigma), ranef=ranef,
        devcomp={"ldL2": ev["ldL2"], "ldRX2": ev["ldRX2"], "wrss": pwrss - ussq, "ussq": ussq,
                 "pwrss": pwrss, "sigmaML": math.sqrt(pwrss / n),
                 "sigmaREML": math.sqrt(pwrss / (n - p))},
        converged=bool(info["converged"]), singular=singular, messages=tuple(messages),
        timing=_time.perf_counter() - t0, _core=core, _spec=spec)


def mixed_multi(formula: str, data: pd.DataFrame, reml: bool = True,
                theta: Sequence[float] | None = None, weights=None) -> MultiMixedResult:
    """Fit an LMM with several grouping factors (called by :func:`mixed` for such formulas).

    Nested ``(1 | therapist/patient)`` (= ``(1 | therapist) + (1 | therapist:patient)``),
    crossed ``(1 | patient) + (1 | rater)``, random slopes in any term. R equivalent:
    ``lmerTest::lmer(formula, data, REML = reml)``.
    """
    from ..io.itemdata import as_frame
    data = as_frame(data, "mixed")   # data entry: an ItemData, or an empty frame refused
    spec, y, X, raw, n_dropped = _prepare_multi(formula, data, weights=weights)
    t0 = _time.perf_counter()
    if spec.weights is not None:
        # prior weights (lme4 weights=): residual variance sigma^2 / w_i; the model is fitted to
        # rows scaled by sqrt(w), the deviance gets lme4's -sum(log w) (_with_weights_multi)
        w = spec.weights
        if np.any(w <= 0):
            bad = list(spec.row_index[np.flatnonzero(w <= 0)[:10]])
            raise ModelSpecificationError(
                f"Prior weights of a Gaussian model must be positive; rows {bad} have weight <= 0.")
        sw = np.sqrt(w)
        core = MultiLMMCore(y * sw, X * sw[:, None],
                            [{**t, "Zt": t["Zt"] * sw[:, None]} for t in raw])
        core.sw = sw
        core.Z_plain = (sp.diags(1.0 / sw) @ core.Z).tocsc()
    else:
        core = MultiLMMCore(y, X, raw)
    core.data = (y, X)
    if theta is not None:
        theta = np.asarray(theta, dtype=float).ravel()
        if theta.size != len(spec.tpos):
            raise ModelSpecificationError(
                f"theta has {theta.size} value(s) but the model has {len(spec.tpos)}: "
                f"{list(spec.theta_names)}.")
        if np.any(theta < core.lower):
            raise ModelSpecificationError(
                f"theta values for diagonal elements {list(spec.theta_names)} must be >= 0.")
    res = _with_weights_multi(_fit_multi(core, spec, bool(reml), n_dropped, fixed_theta=theta))
    object.__setattr__(res, "timing", _time.perf_counter() - t0)
    return res


def _with_weights_multi(res):
    """lme4's ``-sum(log w)`` in the deviance / REML criterion of a weighted fit."""
    w = res._spec.weights
    if w is None:
        return res
    ldw = float(np.sum(np.log(w)))
    crit = -2 * res.loglik - ldw
    for k, v in {"loglik": -crit / 2, "aic": crit + 2 * res.npar,
                 "bic": crit + math.log(res.n_obs) * res.npar, "deviance": res.deviance - ldw,
                 "reml_criterion": res.reml_criterion - ldw}.items():
        object.__setattr__(res, k, v)
    return res
