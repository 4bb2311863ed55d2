"""Ordinal CFA by DWLS / WLSMV and ULS / ULSMV, equal to lavaan 0.6-14
``cfa(model, data, ordered = ..., estimator = ...)``.

Delta parameterization: the residual variances of the ordered indicators are not free,
theta_ii = 1 - diag(Lambda Psi Lambda')_ii, scale factors are 1, thresholds are free.
Estimates minimise F = (s - sigma)' W (s - sigma), s = (thresholds, polychorics),
W = diag(NACOV)^-1 (DWLS, WLSMV) or W = I (ULS, ULSMV); robust (sandwich) SEs and the
scaled-shifted test with the same W (WLSMV, ULSMV).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ConvergenceWarning, IdentificationError, ModelSpecificationError
from .fit_measures import (agfi, gfi, hoelter_cn, incremental_indices, mfi, pgfi,
                           rmsea_measures, robust_indices, wls_residual_rms, wrmr)
from .matrices import build_representation, fill
from .ordinal_stats import OrdinalStats, ordinal_data, ordinal_stats
from .estimator import FitSpec
from .partable import build_partable, threshold_spec, threshold_variables, variable_names
from .results import SEMResultBase, frozen_mapping, inference
from .syntax import parse_model

__all__ = ["fit_ordinal", "OrdinalSEMResult", "ORDINAL_ESTIMATORS"]

#: the ``estimator=`` values for ordered indicators: WLSMV and ULSMV (robust SEs and the
#: scaled-shifted test) and their plain forms DWLS and ULS (lavaan 0.6-14)
ORDINAL_ESTIMATORS = ("WLSMV", "DWLS", "ULSMV", "ULS")


def check_ordinal_estimator(estimator) -> str:
    """The upper-cased ``estimator`` if it is one for ordered indicators; otherwise the
    package's error naming the accepted values."""
    est_u = str(estimator).upper() if isinstance(estimator, str) else None
    if est_u not in ORDINAL_ESTIMATORS:
        raise ModelSpecificationError(
            f"With ordered indicators the 'estimator' must be one of "
            f"{', '.join(map(repr, ORDINAL_ESTIMATORS))}; got {estimator!r}.")
    return est_u


def is_robust(est_u: str) -> bool:
    """WLSMV / ULSMV: robust.sem SEs and the scaled-shifted test."""
    return est_u in ("WLSMV", "ULSMV")


def discrepancy(est_u: str) -> str:
    """The discrepancy function minimised: "ULS" (ULS, ULSMV) or "DWLS" (DWLS, WLSMV)."""
    return "ULS" if est_u in ("ULS", "ULSMV") else "DWLS"


def weights(est_u: str, nacov) -> np.ndarray:
    """The diagonal of the weight matrix: diag(NACOV)^-1 (DWLS, WLSMV) or 1 (ULS, ULSMV)."""
    if est_u in ("ULS", "ULSMV"):
        return np.ones(nacov.shape[0])
    return 1.0 / np.diag(nacov)


@dataclass(frozen=True)
class OrdinalSEMResult(SEMResultBase):
    """Result of an ordinal (DWLS / WLSMV / ULS / ULSMV) CFA (immutable).

    Attributes
    ----------
    estimates : pandas.DataFrame
        ``lhs op rhs group label est se z p_value ci_lower ci_upper std_all free``, rows as
        lavaan's ``parameterEstimates`` (loadings, thresholds ``|``, variances, scales
        ``~*~``, intercepts ``~1``); fixed rows have se 0 and NaN z / p.
    fit_measures : Mapping
        lavaan's ``fitMeasures`` names with ``.`` replaced by ``_``.
    thresholds : pandas.Series
        Sample thresholds (``lavInspect(fit, "sampstat")$th``).
    polychoric : pandas.DataFrame
        Sample polychoric correlations.
    nacov : pandas.DataFrame
        N x the asymptotic covariance of (thresholds, correlations) (``lavInspect(fit,
        "gamma")``).
    vcov : pandas.DataFrame
        Covariance of the free parameters (``vcov(fit)``), lavaan's names.
    n_obs, converged, iterations, options, timing, warnings
    """

    model: str
    estimates: pd.DataFrame
    fit_measures: Mapping
    thresholds: pd.Series
    polychoric: pd.DataFrame
    nacov: pd.DataFrame
    vcov: pd.DataFrame
    n_obs: int
    converged: bool
    iterations: int
    options: Mapping
    timing: float
    std_all: pd.DataFrame = field(repr=False)
    warnings: tuple = ()
    _extra: Any = field(default=None, repr=False, compare=False)

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002
        """lavaan ``standardizedSolution(fit)`` (std.all with delta-method SEs)."""
        if type != "std.all":
            raise ModelSpecificationError("Ordinal fits support type='std.all' only.")
        return self.std_all.copy()

    def r_squared(self) -> pd.DataFrame:
        """lavaan ``lavInspect(fit, "rsquare")``: ``group, variable, r_squared``
        (share of the latent response variance explained by the factors)."""
        m, theta = self._extra["model"], self._extra["theta"]
        M = m.matrices(theta)
        common = np.diag(M.Lambda @ M.Psi @ M.Lambda.T)
        total = common + np.diag(M.Theta) if m.theta_param else np.ones(len(common))
        rows = [(1, v, float(common[k] / total[k])) for k, v in enumerate(m.rep.ov)]
        return pd.DataFrame(rows, columns=["group", "variable", "r_squared"])

    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (``estimates``), one row per parameter."""
        return self.estimates.copy()

    def summary(self):
        """:class:`psychometrics.results.Summary` (``as_text()``, ``as_html()``, ...)."""
        from .results import sem_summary
        fm = self.fit_measures
        header = (("Estimator", self.options["estimator"]),
                  ("Parameterization", self.options["parameterization"]),
                  ("Observations", str(self.n_obs)),
                  ("Ordered indicators", ", ".join(self.options["ordered"])),
                  ("Converged", str(self.converged)))
        keys = ["npar", "chisq", "df", "pvalue", "chisq_scaled", "pvalue_scaled",
                "chisq_scaling_factor", "chisq_shift_parameter", "cfi", "tli", "cfi_scaled",
                "tli_scaled", "rmsea", "rmsea_scaled", "srmr", "wrmr"]
        fit = tuple((k, float(fm[k])) for k in keys if k in fm)
        warning = "" if self.converged else "NOT CONVERGED: estimates are not valid."
        return sem_summary("Ordinal structural equation model (lavaan-style summary)", header,
                           fit, self.estimates.copy(), warning)


class _Model:
    """Free parameters: model rows (loadings, latent (co)variances, residual covariances)
    then the thresholds."""

    def __init__(self, pt, rep, ordered, st: OrdinalStats, parameterization: str = "delta",
                 ths=None):
        self.pt, self.rep, self.st = pt, rep, st
        self.theta_param = parameterization == "theta"
        lhs, op, rhs, par = pt.c("lhs"), pt.c("op"), pt.c("rhs"), np.asarray(pt.c("par"))
        self.ov = list(rep.ov)
        self.perm = [self.ov.index(v) for v in st.names]
        ordset = set(ordered)
        fixed = np.asarray(pt.c("ustart"), dtype=float).copy()
        self.rowpar = np.full(len(par), -1)
        k = 0
        mapping = {}
        for r in range(len(par)):
            if par[r] < 0:
                continue
            if op[r] == "~~" and lhs[r] == rhs[r] and lhs[r] in ordset:
                # delta: residual variance = 1 - communality (not free); theta: fixed to 1
                if self.theta_param:
                    fixed[r] = 1.0
                continue
            if par[r] not in mapping:
                mapping[par[r]] = k
                k += 1
            self.rowpar[r] = mapping[par[r]]
        fixed[self.rowpar >= 0] = np.nan
        fixed[(self.rowpar < 0) & np.isnan(fixed)] = 0.0
        for r in range(len(par)):
            if self.theta_param and par[r] >= 0 and self.rowpar[r] < 0:
                fixed[r] = 1.0
        self.fixed = fixed
        self.nmod = k
        self.nth = sum(len(t) for t in st.th)
        # thresholds = th_fixed + th_A @ theta[nmod:] (explicit 'x | t1' syntax: labels,
        # equalities and fixed values; by default one free parameter per threshold)
        if ths is None:
            self.th_A, self.th_fixed = np.eye(self.nth), np.zeros(self.nth)
        else:
            self.th_A = ths.A
            self.th_fixed = np.where(ths.par >= 0, 0.0, ths.fixed)
        self.ths = ths
        self.npar = k + self.th_A.shape[1]
        self.th_var = np.concatenate([np.full(len(t), j) for j, t in enumerate(st.th)])
        # free model rows by matrix, for the analytic Jacobian (delta parameterization)
        ov_i = {v: q for q, v in enumerate(rep.ov)}
        lat_i = {v: q for q, v in enumerate(rep.lat)}
        self.jrows = []
        for r in range(len(par)):
            k = self.rowpar[r]
            if k < 0:
                continue
            if op[r] == "=~":
                self.jrows.append(("L", k, ov_i[rhs[r]], lat_i[lhs[r]]))
            elif op[r] == "~~" and lhs[r] in lat_i and rhs[r] in lat_i:
                self.jrows.append(("P", k, lat_i[lhs[r]], lat_i[rhs[r]]))
            elif op[r] == "~~" and lhs[r] in ov_i and rhs[r] in ov_i:
                self.jrows.append(("T", k, ov_i[lhs[r]], ov_i[rhs[r]]))
            else:
                self.jrows = None      # anything else: numerical Jacobian
                break
        self.il = np.array([i for i, j in st.pairs])
        self.jl = np.array([j for i, j in st.pairs])

    def values(self, theta):
        v = self.fixed.copy()
        free = self.rowpar >= 0
        v[free] = theta[self.rowpar[free]]
        return v

    def matrices(self, theta):
        M = fill(self.rep, 0, self.values(theta))
        return M

    def implied(self, theta):
        M = self.matrices(theta)
        LPL = M.Lambda @ M.Psi @ M.Lambda.T
        S = LPL + M.Theta
        S = S[np.ix_(self.perm, self.perm)]
        if self.theta_param:
            # theta parameterization: scale factors 1 / sqrt(diag Sigma*)
            d = 1.0 / np.sqrt(np.diag(S))
            return np.concatenate([self.tau(theta) * d[self.th_var],
                                   S[self.il, self.jl] * d[self.il] * d[self.jl]])
        return np.concatenate([self.tau(theta), S[self.il, self.jl]])

    def tau(self, theta):
        """The thresholds (model parameters, in the metric of the parameterization)."""
        return self.th_fixed + self.th_A @ theta[self.nmod:]

    def scales(self, theta):
        """Scale factors (``~*~``) in model (rep.ov) order: 1 (delta) or 1/sqrt(diag Sigma*)."""
        if not self.theta_param:
            return np.ones(len(self.ov))
        M = self.matrices(theta)
        return 1.0 / np.sqrt(np.diag(M.Lambda @ M.Psi @ M.Lambda.T + M.Theta))

    def jacobian(self, theta, h=1e-6):
        if self.theta_param:
            J = np.zeros((len(self.st.wls_obs), self.npar))
            for k in range(self.npar):
                e = np.zeros(self.npar)
                e[k] = h
                J[:, k] = (self.implied(theta + e) - self.implied(theta - e)) / (2 * h)
            return J
        # thresholds enter sigma as themselves (identity block)
        J = np.zeros((len(self.st.wls_obs), self.npar))
        J[:self.nth, self.nmod:] = self.th_A
        if self.jrows is not None:
            M = self.matrices(theta)
            L, LP = M.Lambda, M.Lambda @ M.Psi
            pi = np.asarray(self.perm)[self.il]
            pj = np.asarray(self.perm)[self.jl]
            Jc = J[self.nth:]
            for kind, k, a, b in self.jrows:
                if kind == "L":         # lambda[a (ov), b (lv)]
                    Jc[:, k] += (pi == a) * LP[pj, b] + (pj == a) * LP[pi, b]
                elif kind == "P":
                    if a == b:
                        Jc[:, k] += L[pi, a] * L[pj, a]
                    else:
                        Jc[:, k] += L[pi, a] * L[pj, b] + L[pi, b] * L[pj, a]
                else:
                    Jc[:, k] += ((pi == a) & (pj == b)) | ((pi == b) & (pj == a))
            return J
        # sigma is at most quadratic in each single parameter: central differences are exact
        # up to rounding
        for k in range(self.nmod):
            e = np.zeros(self.npar)
            e[k] = h
            J[self.nth:, k] = (self._cor(theta + e) - self._cor(theta - e)) / (2 * h)
        return J

    def _cor(self, theta):
        M = self.matrices(theta)
        S = M.Lambda @ M.Psi @ M.Lambda.T + M.Theta
        S = S[np.ix_(self.perm, self.perm)]
        return S[self.il, self.jl]


#: first-order optimality test of DWLS / ULS: the largest absolute element of the gradient of
#: F = (s - sigma)' W (s - sigma), i.e. 2 J' W (s - sigma), must be below this times
#: max(1, F) (the Jacobian is a central difference, whose error scales with the residuals)
GRAD_TOL = 1e-7


def _gauss_newton(m: _Model, w, theta, max_iter=500):
    """Minimise the DWLS / ULS discrepancy by Gauss-Newton with step halving.

    Returns ``(theta, F, converged, iterations)``. A step is taken only if it does not
    increase ``F``; the iteration stops when the step or the change of ``F`` is
    negligible, or when no step of length >= 1e-10 decreases ``F``. ``converged`` is
    then decided at the returned point by the first-order test alone: the largest
    absolute element of the gradient ``-2 J' W (s - sigma)`` is below
    ``GRAD_TOL * max(1, F)`` (``J`` the Jacobian of the model statistics). A stop on a small step or a failed
    line search away from a stationary point is not convergence.
    """
    s = m.st.wls_obs

    def F(t):
        d = s - m.implied(t)
        return float(d @ (w * d))

    f = F(theta)
    it = 0
    g = None
    for it in range(1, max_iter + 1):
        J = m.jacobian(theta)
        d = s - m.implied(theta)
        g = J.T @ (w * d)
        H = J.T @ (w[:, None] * J)
        step = np.linalg.solve(H, g)
        a = 1.0
        while True:
            tn = theta + a * step
            fn = F(tn)
            if fn <= f or a < 1e-10:
                break
            a /= 2
        if fn > f:                      # no decrease along the Gauss-Newton direction
            break
        stop = abs(f - fn) < 1e-16 * max(1.0, f) or np.max(np.abs(a * step)) < 1e-11
        theta, f = tn, fn
        if stop:
            break
    J = m.jacobian(theta)
    g = 2.0 * (J.T @ (w * (s - m.implied(theta))))
    conv = bool(np.all(np.isfinite(g)) and np.max(np.abs(g)) < GRAD_TOL * max(1.0, f))
    return theta, f, conv, it


def fit_ordinal(model: str, data: pd.DataFrame, ordered=True, *, estimator: str = "WLSMV",
                std_lv: bool = False, max_categories: int = 20,
                parameterization: str = "delta") -> OrdinalSEMResult:
    """Ordinal CFA by DWLS or ULS, with robust SEs and a scaled-shifted test (lavaan WLSMV,
    ULSMV).

    Parameters
    ----------
    model : str
        lavaan syntax with ``=~`` and ``~~`` statements (a measurement model).
    data : pandas.DataFrame
        Integer-coded ordinal responses; rows with a missing value in a model variable
        are dropped (listwise, with a ``DataQualityWarning``).
    ordered : True or list of str
        The ordinal indicators; ``True`` = every observed variable of the model (all
        indicators must be ordinal).
    estimator : {"WLSMV", "DWLS", "ULSMV", "ULS"}
        WLSMV: DWLS estimates, robust ("robust.sem") SEs and the scaled-shifted test;
        DWLS: standard SEs and the unscaled test only. ULSMV / ULS: the same with
        unweighted least squares (W = I); as lavaan, the unscaled ULS statistic has no
        p-value (``pvalue`` and ``baseline_pvalue`` are NaN).
    std_lv : bool
        Latent variances fixed to 1 instead of marker loadings.
    max_categories : int
        More categories than this raise ``DataValidationError``.
    parameterization : {"delta", "theta"}
        lavaan's ``parameterization =``.

    Returns
    -------
    OrdinalSEMResult

    Raises
    ------
    DataValidationError
        Non-numeric / non-integer ordered variables, too many categories, an empty
        category, a single category, two binary items with two empty cells.
    ModelSpecificationError, IdentificationError

    Warns
    -----
    DataQualityWarning, ConvergenceWarning, HeywoodCaseWarning, NotPositiveDefiniteWarning

    Notes
    -----
    Sample statistics s = (thresholds, polychoric correlations) and NACOV (Muthen 1984)
    come from :func:`.ordinal_stats.ordinal_stats`. The estimates minimise
    F = (s - sigma(theta))' W (s - sigma(theta)) with W = diag(NACOV)^-1 (DWLS, WLSMV) or
    W = I (ULS, ULSMV); chisq = (N-1) F;
    vcov = (D'WD)^-1 D'W NACOV W D (D'WD)^-1 / (N-1) (WLSMV, ULSMV) or (D'WD)^-1 / (N-1)
    (DWLS, ULS);
    scaled-shifted chisq = a chisq + df - a tr(U NACOV), a = sqrt(df / tr((U NACOV)^2)),
    U = W - W D (D'WD)^-1 D'W.

    In R: ``lavaan::cfa(model, data, ordered = c(...))`` (lavaan 0.6-14; estimator
    "WLSMV", parameterization "delta" by default; ``estimator = "ULSMV"`` etc.).
    """
    t0 = time.perf_counter()
    est_u = check_ordinal_estimator(estimator)
    robust = is_robust(est_u)
    from ..io.itemdata import ItemData, as_frame
    if isinstance(data, ItemData):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError("Ordinal models need raw 'data' as a pandas DataFrame.")
    data = as_frame(data, "fit_ordinal")
    parsed = parse_model(model)
    names = variable_names(parsed.statements)
    ov = list(names.ov)
    missing = [v for v in ov if v not in data.columns]
    if missing:
        raise ModelSpecificationError(f"Variable(s) {missing} of the model are not in the data.")
    if ordered is True:
        ordered = ov
    elif isinstance(ordered, str):
        ordered = [ordered]
    ordered = list(ordered)
    bad = [v for v in ordered if v not in ov]
    if bad:
        raise ModelSpecificationError(
            f"ordered variable(s) {bad} are not observed variables of the model.")
    if any(st_.op in ("~", "~1") for st_ in parsed.statements):
        raise ModelSpecificationError("Ordinal models support measurement models only "
                                      "(=~ and ~~ statements).")
    notord = [v for v in ov if v not in ordered]
    if notord:
        raise ModelSpecificationError(
            f"Mixed ordinal/continuous indicators are not supported: {notord} are not in "
            f"'ordered'. Pass ordered=True to treat all indicators as ordinal.")
    codes, levels, keep = ordinal_data(data, ov, max_categories=max_categories)
    warn = []
    n_drop = int((~keep).sum())
    if n_drop:
        import warnings
        from ..exceptions import DataQualityWarning
        msg = (f"{n_drop} of {len(keep)} rows have missing values in the model variables and "
               f"were dropped (listwise deletion, lavaan's default).")
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
        warn.append(msg)
    st = ordinal_stats(codes, ov)
    pt = build_partable(parsed, ngroups=1, std_lv=std_lv, meanstructure=False, fixed_x=False)
    rep = build_representation(pt)
    if parameterization not in ("delta", "theta"):
        raise ModelSpecificationError(
            f"The 'parameterization' argument must be 'delta' or 'theta', got "
            f"{parameterization!r}.")
    ths = threshold_spec(parsed, st.names, [len(t) for t in st.th],
                         set(pt.c("label")) - {""})
    m = _Model(pt, rep, ov, st, parameterization, ths)
    N = st.nobs
    ndat = len(st.wls_obs)
    df = ndat - m.npar
    if df < 0:
        raise IdentificationError(f"The model is not identified: {m.npar} free parameters but "
                                  f"{ndat} sample statistics.")
    Gam = st.nacov
    w = weights(est_u, Gam)
    # starting values: ML on the polychoric matrix (loadings, latent (co)variances)
    theta0 = _start(m, model, st, std_lv)
    if m.theta_param:
        # start from the delta solution mapped to the theta metric
        md = _Model(pt, rep, ov, st, "delta", ths)
        td, _, _, _ = _gauss_newton(md, w, _start(md, model, st, std_lv))
        theta0 = _delta_to_theta(md, m, td)
    theta, f, conv, it = _gauss_newton(m, w, theta0)
    if not conv:
        import warnings
        msg = f"{discrepancy(est_u)} did not converge after {it} iterations."
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        warn.append(msg)
    warn += _check_solution(m, theta)
    D = m.jacobian(theta)
    WD = w[:, None] * D
    E = D.T @ WD
    Ei = np.linalg.inv(E)
    if np.linalg.matrix_rank(E) < m.npar:
        raise IdentificationError("The information matrix is singular: the model is not "
                                  "identified.")
    # lavaan scales WLS-type statistics by N - 1 (test and vcov)
    if robust:
        V = Ei @ (WD.T @ Gam @ WD) @ Ei / (N - 1)     # se = "robust.sem"
    else:
        V = Ei / (N - 1)                               # se = "standard"

    chisq = (N - 1) * f
    # scaled-shifted test (lavaan test = "scaled.shifted")
    U = np.diag(w) - WD @ Ei @ WD.T
    UG = U @ Gam
    tr1 = float(np.trace(UG))
    tr2 = float(np.sum(UG * UG.T))
    fm = _fit_measures(m, st, w, Gam, chisq, df, N, f, tr1, tr2, est_u)
    fm.update(_residual_measures(m, st, theta, w, chisq, df, N))
    shared_th = ths.nfree < int(np.sum(ths.par >= 0))
    if robust and df > 0 and shared_th:
        # lavaan 0.6-14 returns NA for the robust (catML) measures when thresholds are
        # equal by label: its continuous refit (lav_object_catml) fails; we do the same
        fm.update({k: np.nan for k in _CATML_KEYS})
    elif robust and df > 0:
        # the df of lavaan's catML refit (correlations only): differs from df when some
        # thresholds are fixed
        fm.update(_robust_catml(m, st, theta, w, D, Ei, df, N, df3=len(m.il) - m.nmod))

    # estimates table in lavaan's order
    vals = m.values(theta)
    M = m.matrices(theta)
    LPL = M.Lambda @ M.Psi @ M.Lambda.T
    lhs, op, rhs = pt.c("lhs"), pt.c("op"), pt.c("rhs")
    se_all = np.sqrt(np.clip(np.diag(V), 0, None))
    if not conv:
        se_all[:] = np.nan      # no standard errors for a non-converged fit
    rows = []
    ov_i = {v: k for k, v in enumerate(rep.ov)}
    pnames = [""] * m.npar

    def add(l, o, r_, e, k):
        rows.append((l, o, r_, e, se_all[k] if k >= 0 else 0.0, k >= 0, k))

    for r in range(len(lhs)):
        if op[r] == "=~":
            add(lhs[r], op[r], rhs[r], vals[r], m.rowpar[r])
    th_rows = []
    tau = m.tau(theta)
    for j, v in enumerate(ov):
        for t in range(len(st.th[j])):
            i = st.th_index[j][t]
            kk = np.flatnonzero(m.th_A[i])
            k = m.nmod + int(kk[0]) if len(kk) else -1
            th_rows.append((v, "|", f"t{t + 1}", tau[i], k))
    for v, o, r_, e, k in th_rows:
        add(v, o, r_, e, k)
    for r in range(len(lhs)):
        if op[r] == "~~":
            e = vals[r]
            if lhs[r] == rhs[r] and lhs[r] in ov_i and not m.theta_param:
                e = 1.0 - LPL[ov_i[lhs[r]], ov_i[lhs[r]]]
            add(lhs[r], op[r], rhs[r], e, m.rowpar[r])
        elif op[r] not in ("=~",):
            add(lhs[r], op[r], rhs[r], vals[r], m.rowpar[r])
    scl = m.scales(theta)
    for v in ov:
        add(v, "~*~", v, float(scl[ov_i[v]]), -1)
    for v in ov:
        add(v, "~1", "", 0.0, -1)
    for v in names.lv:
        add(v, "~1", "", 0.0, -1)
    for l, o, r_, e, s_, fr, k in rows:
        if k >= 0 and not pnames[k]:
            pnames[k] = f"{l}{o}{r_}"
    tab = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se", "free", "_k"])
    th_pos = {(v, f"t{t + 1}"): int(st.th_index[j][t]) for j, v in enumerate(ov)
              for t in range(len(st.th[j]))}
    tab["_t"] = [th_pos[(l, r_)] if o == "|" else -1
                 for l, o, r_ in zip(tab["lhs"], tab["op"], tab["rhs"])]
    tab.loc[~tab["free"], "se"] = 0.0
    z, pv, lo, hi = inference(tab["est"].to_numpy(), np.where(tab["free"], tab["se"], np.nan))
    tab["z"], tab["p_value"], tab["ci_lower"], tab["ci_upper"] = z, pv, lo, hi
    fixed = ~tab["free"].to_numpy()
    tab.loc[fixed, "ci_lower"] = tab.loc[fixed, "est"]
    tab.loc[fixed, "ci_upper"] = tab.loc[fixed, "est"]
    std = _standardized(m, theta, V, tab)
    tab["group"] = 1
    lab = {(l, o, r_): lb for l, o, r_, lb in zip(lhs, op, rhs, pt.c("label")) if lb}
    lab.update({(v, "|", r_): lb for v, r_, lb in zip(ths.var, ths.rhs, ths.label) if lb})
    tab["label"] = [lab.get(k, "") for k in zip(tab["lhs"], tab["op"], tab["rhs"])]
    tab["std_all"] = std["est_std"].to_numpy()
    tab = tab[["lhs", "op", "rhs", "group", "label", "est", "se", "z", "p_value", "ci_lower",
               "ci_upper", "std_all", "free"]]
    thn = [f"{v}|t{t + 1}" for j, v in enumerate(ov) for t in range(len(st.th[j]))]
    pn = thn + [f"{ov[i]}~~{ov[j]}" for i, j in st.pairs]
    return OrdinalSEMResult(
        model=model, estimates=tab, fit_measures=frozen_mapping(fm),
        thresholds=pd.Series(np.concatenate(st.th), index=thn),
        polychoric=pd.DataFrame(st.cor, index=ov, columns=ov),
        nacov=pd.DataFrame(Gam, index=pn, columns=pn),
        vcov=pd.DataFrame(V, index=pnames, columns=pnames), n_obs=N, converged=conv,
        iterations=it, options=frozen_mapping(dict(estimator=est_u, parameterization=parameterization,
                                                   ordered=tuple(ov), std_lv=std_lv,
                                                   test="scaled.shifted" if robust
                                                   else "standard",
                                                   se="robust.sem" if robust
                                                   else "standard")),
        timing=time.perf_counter() - t0, std_all=std, warnings=tuple(warn),
        _extra=dict(model=m, theta=theta, stats=st, levels=levels))


def _delta_to_theta(md: _Model, mt: _Model, td):
    """Map delta estimates to theta-parameterization values (same implied moments):
    lambda_T = lambda_D / sqrt(theta_D) with the latent scale kept by the markers."""
    M = md.matrices(td)
    LPL = M.Lambda @ M.Psi @ M.Lambda.T
    res = 1.0 - np.diag(LPL)                     # delta residual variances
    g = 1.0 / np.sqrt(np.clip(res, 1e-6, None))  # y*_T = g * y*_D
    Lam = M.Lambda * g[:, None]
    nlat = Lam.shape[1]
    sc = np.ones(nlat)
    for a in range(nlat):                        # keep fixed loadings (markers) at their value
        fixed_rows = [i for i in range(Lam.shape[0]) if M.Lambda[i, a] != 0
                      and not any(mt.rowpar[r] >= 0 for r in _rows_of(mt, "=~", a, i))]
        if fixed_rows:
            i = fixed_rows[0]
            sc[a] = Lam[i, a] / M.Lambda[i, a]
    Lam = Lam / sc[None, :]
    Psi = M.Psi * np.outer(sc, sc)
    Th = M.Theta * np.outer(g, g)
    out = np.zeros(mt.npar)
    lhs, op, rhs = mt.pt.c("lhs"), mt.pt.c("op"), mt.pt.c("rhs")
    ov_i = {v: k for k, v in enumerate(mt.rep.ov)}
    lat_i = {v: k for k, v in enumerate(mt.rep.lat)}
    for r in range(len(lhs)):
        k = mt.rowpar[r]
        if k < 0:
            continue
        if op[r] == "=~":
            out[k] = Lam[ov_i[rhs[r]], lat_i[lhs[r]]]
        elif op[r] == "~~" and lhs[r] in lat_i and rhs[r] in lat_i:
            out[k] = Psi[lat_i[lhs[r]], lat_i[rhs[r]]]
        elif op[r] == "~~":
            out[k] = Th[ov_i[lhs[r]], ov_i[rhs[r]]]
    gp = g[md.perm]
    tau_t = md.tau(td) * gp[md.th_var]
    out[mt.nmod:] = np.linalg.lstsq(mt.th_A, tau_t - mt.th_fixed, rcond=None)[0]
    return out


def _rows_of(m, op_, a, i):
    lhs, op, rhs = m.pt.c("lhs"), m.pt.c("op"), m.pt.c("rhs")
    lv, v = m.rep.lat[a], m.rep.ov[i]
    return [r for r in range(len(lhs)) if op[r] == op_ and lhs[r] == lv and rhs[r] == v]


def check_raw_listwise(spec: FitSpec) -> None:
    """Ordinal estimators take raw data with listwise deletion only."""
    if spec.missing != "listwise" or spec.sample_cov is not None:
        raise ModelSpecificationError(
            "Ordinal models (ordered=...) support raw data and listwise deletion only.")


def estimate(spec: FitSpec) -> OrdinalSEMResult:
    """The single-group ordinal estimator (DWLS / WLSMV / ULS / ULSMV) of
    :func:`psychometrics.sem.fit`:
    :func:`fit_ordinal` with the options of ``spec``."""
    check_raw_listwise(spec)
    if spec.group_equal or spec.group_partial:
        raise ModelSpecificationError(
            "group_equal/group_partial need a 'group' column (multi-group model).")
    return fit_ordinal(spec.model, spec.data, spec.ordered, estimator=spec.estimator,
                       std_lv=spec.std_lv, max_categories=spec.max_categories,
                       parameterization=spec.parameterization)


def _check_solution(m: _Model, theta):
    """Heywood cases (implied residual variance 1 - communality < 0) and a non-PD latent
    covariance matrix, named (lavaan's post-check warnings)."""
    import warnings
    from ..exceptions import HeywoodCaseWarning, NotPositiveDefiniteWarning
    msgs = []
    M = m.matrices(theta)
    if m.theta_param:       # theta: the residual variances are parameters (fixed 1 by default)
        resid, what = np.diag(M.Theta), ""
    else:                   # delta: implied, 1 - communality
        resid, what = 1 - np.diag(M.Lambda @ M.Psi @ M.Lambda.T), " (1 - communality)"
    for v, r in zip(m.rep.ov, resid):
        if r < 0:
            msg = f"Heywood case: the residual variance of {v!r}{what} is {r:.4g}."
            warnings.warn(msg, HeywoodCaseWarning, stacklevel=3)
            msgs.append(msg)
    lv = list(m.rep.lv)
    idx = [m.rep.lat.index(v) for v in lv]
    P = M.Psi[np.ix_(idx, idx)]
    if P.size and np.linalg.eigvalsh(P)[0] < -1e-12:
        sd = np.sqrt(np.abs(np.diag(P)))
        Rl = P / np.outer(sd, sd)
        bad = [f"{lv[a]!r} with {lv[b]!r} = {Rl[a, b]:.3f}" for a in range(len(lv))
               for b in range(a) if abs(Rl[a, b]) > 1]
        detail = (": correlation " + ", ".join(bad)) if bad else ""
        msg = f"The latent covariance matrix (psi) is not positive definite{detail}."
        warnings.warn(msg, NotPositiveDefiniteWarning, stacklevel=3)
        msgs.append(msg)
    return msgs


def ml_start(model: str, cor: pd.DataFrame, nobs: int, std_lv: bool):
    """The ML fit of ``model`` to a polychoric matrix: the starting values of the ordinal
    estimators (an error when it cannot be fitted; callers then use simple starts)."""
    from .ml import estimate as ml_estimate   # looked up at each call (tests replace it)
    import warnings
    if threshold_variables(parse_model(model)):
        raise ModelSpecificationError("Threshold statements: no ML start.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ml_estimate(FitSpec(model, sample_cov=cor, sample_nobs=nobs, std_lv=std_lv))


def _start(m: _Model, model, st, std_lv):
    lhs, op, rhs = m.pt.c("lhs"), m.pt.c("op"), m.pt.c("rhs")
    try:
        r = ml_start(model, pd.DataFrame(st.cor, index=st.names, columns=st.names), st.nobs,
                     std_lv)
        est = r.estimates
        lut = {(a, b, c): e for a, b, c, e in zip(est["lhs"], est["op"], est["rhs"], est["est"])}
        if not r.converged:
            raise ValueError
    except Exception:   # e.g. a non-positive-definite polychoric matrix: simple starts
        lut = {}
        for a, b, c in zip(lhs, op, rhs):
            if b == "=~":
                lut[(a, b, c)] = 0.7
            elif b == "~~":
                lut[(a, b, c)] = (0.5 if a == c else 0.0)
    theta = np.zeros(m.npar)
    for r in range(len(lhs)):
        k = m.rowpar[r]
        if k >= 0:
            theta[k] = lut.get((lhs[r], op[r], rhs[r]), 0.5)
    # thresholds: the sample thresholds (least squares when some are equal or fixed)
    th = np.concatenate(st.th)
    theta[m.nmod:] = np.linalg.lstsq(m.th_A, th - m.th_fixed, rcond=None)[0]
    if m.ths is not None:
        for i, k in enumerate(m.ths.par):
            if k >= 0 and np.isfinite(m.ths.start[i]):
                theta[m.nmod + k] = m.ths.start[i]
    return theta


def _fit_measures(m, st, w, Gam, chisq, df, N, f, tr1, tr2, est_u):
    # lavaan: no reference distribution for the unscaled ULS statistic (p-values NA)
    uls = est_u in ("ULS", "ULSMV")
    fm = {"npar": float(m.npar), "fmin": chisq / (2 * N), "chisq": chisq, "df": float(df),
          "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 and not uls else np.nan}
    # baseline: thresholds free, correlations zero
    nth = m.nth
    r = st.wls_obs[nth:]
    wr = w[nth:]
    Xb = (N - 1) * float(np.sum(wr * r * r))
    dfb = len(r)
    Ub = np.diag(np.concatenate([np.zeros(nth), wr]))
    UGb = Ub @ Gam
    tb1, tb2 = float(np.trace(UGb)), float(np.sum(UGb * UGb.T))
    fm.update(baseline_chisq=Xb, baseline_df=float(dfb),
              baseline_pvalue=np.nan if uls else float(stats.chi2.sf(Xb, dfb)))
    if is_robust(est_u) and df > 0:
        a = np.sqrt(df / tr2)
        X2s = a * chisq + (df - a * tr1)
        ab = np.sqrt(dfb / tb2)
        Xbs = ab * Xb + (dfb - ab * tb1)
        fm.update(chisq_scaled=X2s, df_scaled=float(df), pvalue_scaled=float(stats.chi2.sf(X2s, df)),
                  chisq_scaling_factor=1 / a, chisq_shift_parameter=df - a * tr1,
                  baseline_chisq_scaled=Xbs, baseline_df_scaled=float(dfb),
                  baseline_pvalue_scaled=float(stats.chi2.sf(Xbs, dfb)),
                  baseline_chisq_scaling_factor=1 / ab)
    # lavaan: RMSEA with N - 1 for WLS-type estimators
    fm.update(_indices(chisq, df, Xb, dfb, N - 1, ""))
    if is_robust(est_u) and df > 0:
        fm.update(_indices(X2s, df, Xbs, dfb, N - 1, "_scaled"))
    return fm


_CATML_KEYS = ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust", "rmsea_robust",
               "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "rmsea_pvalue_robust",
               "rmsea_notclose_pvalue_robust")


def _robust_catml(m, st, theta, w, D, Ei, df, N, df3=None):
    """Robust CFI/TLI/RNI/RMSEA for categorical data (Savalei 2021; lavaan
    ``lav_fit_catml_dwls``): the ML discrepancy of the polychoric matrix R at the DWLS
    estimates, scaled by c = tr(U' V U Gamma_c) / df with V the normal-theory (ML)
    information of the off-diagonal correlations at the implied Sigma,
    U = I - D_c (D'WD)^-1 D_c' W_c (correlation rows only)."""
    R = st.cor
    p = R.shape[0]
    if np.linalg.eigvalsh(R)[0] < np.sqrt(np.finfo(float).eps):
        return {}   # lavaan returns NA when the polychoric matrix is not positive definite
    M = m.matrices(theta)
    dsc = m.scales(theta)
    S = ((M.Lambda @ M.Psi @ M.Lambda.T + M.Theta) * np.outer(dsc, dsc))[np.ix_(m.perm, m.perm)]
    np.fill_diagonal(S, 1.0)
    Si = np.linalg.inv(S)
    F = np.linalg.slogdet(S)[1] - np.linalg.slogdet(R)[1] + np.sum(R * Si) - p
    i, j = m.il, m.jl
    V = Si[np.ix_(i, i)] * Si[np.ix_(j, j)] + Si[np.ix_(i, j)] * Si[np.ix_(j, i)]
    nth = m.nth
    Dc = D[nth:]
    Wc = w[nth:]
    G = st.nacov[nth:, nth:]
    U = np.eye(len(i)) - Dc @ Ei @ (Dc.T * Wc)
    ks = float(np.sum((U.T @ V @ U) * G.T))
    # lavaan: c.hat3 and the RMSEA use the df of the catML refit (correlations only,
    # ``df3``); CFI/TLI/RNI the df of the DWLS model (they differ when thresholds are fixed)
    df3 = df if df3 is None else df3
    c3 = ks / df3
    xx3 = N * F                                 # catML chi-square (N * F_ML)
    xb3 = -N * np.linalg.slogdet(R)[1]          # catML independence model
    dfb = len(i)
    cb3 = float(np.trace(G)) / dfb
    n3 = N - 1                                  # lavaan 0.6-14: N - 1 in the RMSEA
    return robust_indices(xx3, df, xb3, dfb, c3, cb3, n3, 1, df_rmsea=df3)


def _residual_measures(m, st, theta, w, chisq, df, N):
    """RMR/SRMR/CRMR (thresholds as the 'mean' part), WRMR, GFI/AGFI/PGFI, MFI, Hoelter CN."""
    s = st.wls_obs
    e = s - m.implied(theta)
    nth = m.nth
    p = len(st.names)
    # diagonal residuals are 0 (delta)
    r = wls_residual_rms(e[nth:], e[:nth], p)
    nel = len(s)
    out = {}
    out.update(rmr=r["srmr_mean"], rmr_nomean=r["srmr"], srmr=r["srmr"],
               srmr_bentler=r["srmr_mean"], srmr_bentler_nomean=r["srmr"],
               crmr=r["crmr"], crmr_nomean=r["crmr_nomean"])
    out["wrmr"] = wrmr((N - 1) * np.sum(w * e * e), nel)
    out["srmr_mplus"] = out["srmr_mplus_nomean"] = np.nan   # NA in lavaan for categorical
    g = gfi(float(np.sum(w * e * e)), float(np.sum(w * s * s)))
    out["gfi"] = g
    out["agfi"] = agfi(g, nel, df)
    out["pgfi"] = pgfi(g, nel, df)
    out["mfi"] = mfi(chisq, df, N - 1)
    for a, key in ((0.05, "cn_05"), (0.01, "cn_01")):
        out[key] = float(hoelter_cn(chisq, df, N - 1, a)) if chisq > 0 else np.nan
    return out


def _indices(X2, df, Xb, dfb, N, sfx, G=1):
    """Incremental indices and RMSEA of the (scaled) statistic; ``N`` as the WLS family
    uses it (N - 1, or N - G with G groups)."""
    out = incremental_indices(X2, df, Xb, dfb, sfx)
    out.update(rmsea_measures(X2, df, N, G, sfx))
    if not sfx:
        out.update(rmsea_ci_level=0.9, rmsea_close_h0=0.05, rmsea_notclose_h0=0.08)
    return out


def _std_values(m: _Model, theta, tab):
    M = m.matrices(theta)
    sd_lv = np.sqrt(np.diag(M.Psi))
    LPL = M.Lambda @ M.Psi @ M.Lambda.T
    if m.theta_param:
        return _std_values_theta(m, theta, tab, M, sd_lv, LPL)
    ov_i = {v: k for k, v in enumerate(m.rep.ov)}
    lat_i = {v: k for k, v in enumerate(m.rep.lat)}
    out = []
    for l, o, r_, e, k in tab:
        if o == "=~":
            i, a = ov_i[r_], lat_i[l]
            out.append(M.Lambda[i, a] * sd_lv[a])
        elif o == "|":
            out.append(m.tau(theta)[k])
        elif o == "~~":
            if l in ov_i and r_ in ov_i:
                i, j = ov_i[l], ov_i[r_]
                if i == j:
                    out.append(1 - LPL[i, i])
                else:
                    th = M.Theta[i, j]
                    out.append(th / np.sqrt((1 - LPL[i, i]) * (1 - LPL[j, j])))
            else:
                a, b = lat_i[l], lat_i[r_]
                out.append(M.Psi[a, b] / (sd_lv[a] * sd_lv[b]))
        else:
            out.append(e)
    return np.array(out, dtype=float)


def _std_values_theta(m, theta, tab, M, sd_lv, LPL):
    Sd = np.diag(LPL + M.Theta)
    ov_i = {v: k for k, v in enumerate(m.rep.ov)}
    lat_i = {v: k for k, v in enumerate(m.rep.lat)}
    st_i = {v: k for k, v in enumerate(m.st.names)}
    out = []
    for l, o, r_, e, k in tab:
        if o == "=~":
            i, a = ov_i[r_], lat_i[l]
            out.append(M.Lambda[i, a] * sd_lv[a] / np.sqrt(Sd[i]))
        elif o == "|":
            out.append(m.tau(theta)[k] / np.sqrt(Sd[ov_i[l]]))
        elif o == "~~":
            if l in ov_i and r_ in ov_i:
                i, j = ov_i[l], ov_i[r_]
                if i == j:
                    out.append(M.Theta[i, i] / Sd[i])
                else:
                    out.append(M.Theta[i, j] / np.sqrt(M.Theta[i, i] * M.Theta[j, j]))
            else:
                a, b = lat_i[l], lat_i[r_]
                out.append(M.Psi[a, b] / (sd_lv[a] * sd_lv[b]))
        elif o == "~*~":
            out.append(1.0)
        else:
            out.append(e)
    return np.array(out, dtype=float)


def _standardized(m, theta, V, tab_df):
    tab = list(zip(tab_df["lhs"].tolist(), tab_df["op"].tolist(), tab_df["rhs"].tolist(),
                   tab_df["est"].tolist(), tab_df["_t"].tolist()))
    est = _std_values(m, theta, tab)
    h = 1e-6
    J = np.zeros((len(est), m.npar))
    for r, row in enumerate(tab):
        if row[1] == "|" and not m.theta_param:
            J[r, m.nmod:] = m.th_A[row[4]]
    for k in range(m.npar if m.theta_param else m.nmod):
        e = np.zeros(m.npar)
        e[k] = h
        J[:, k] = (_std_values(m, theta + e, tab) - _std_values(m, theta - e, tab)) / (2 * h)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, V, J), 0, None))
    se[np.all(J == 0, axis=1)] = 0.0
    z, pv, lo, hi = inference(est, np.where(se > 0, se, np.nan))
    out = pd.DataFrame({"lhs": tab_df["lhs"], "op": tab_df["op"], "rhs": tab_df["rhs"],
                        "est_std": est,
                        "se": se, "z": z, "p_value": pv, "ci_lower": lo, "ci_upper": hi})
    zero = se == 0
    out.loc[zero, "ci_lower"] = est[zero]
    out.loc[zero, "ci_upper"] = est[zero]
    return out


def _pbivnorm(a, b, r):
    """P(X <= a, Y <= b) for a standard bivariate normal with correlation r."""
    from ..numerics.bvn import bvn_rectangle
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    if abs(r) >= 1 - 1e-15:
        from scipy.special import ndtr
        return ndtr(np.minimum(a, b)) if r > 0 else np.maximum(ndtr(a) + ndtr(b) - 1, 0)
    ninf = np.full(a.shape, -np.inf)
    return bvn_rectangle(ninf, a, ninf, b, np.full(a.shape, r))


def ordinal_omega(result: OrdinalSEMResult, obs_var: bool = True) -> pd.Series:
    """Ordinal omega per factor (semTools ``compRelSEM`` on a categorical fit; Green & Yang 2009).

    Notes
    -----
    omega = sum_ij sum_cc' [Phi2(tau_ic, tau_jc'; lambda_i lambda_j psi) - Phi(tau_ic) Phi(tau_jc')]
    / sum_ij sum_cc' [Phi2(tau_ic, tau_jc'; rho_ij) - Phi(tau_ic) Phi(tau_jc')], with rho_ij the
    sample polychoric correlation (``obs_var=True``, semTools default) or the model-implied one,
    rho_ii = 1. R: ``semTools::compRelSEM(cfa(model, data, ordered = ...))``.
    """
    from scipy.special import ndtr
    ex = result._extra
    m, theta, st = ex["model"], ex["theta"], ex["stats"]
    M = m.matrices(theta)
    ov = list(m.rep.ov)
    dsc = m.scales(theta)
    Sig = M.Lambda @ M.Psi @ M.Lambda.T + M.Theta
    Sig = Sig * np.outer(dsc, dsc)
    out = {}
    for a, lv in enumerate(m.rep.lv):
        items = [ov[i] for i in range(len(ov)) if M.Lambda[i, a] != 0]
        idx = [st.names.index(v) for v in items]
        oi = [ov.index(v) for v in items]
        num = den = 0.0
        for x, i in zip(idx, oi):
            for y, j in zip(idx, oi):
                ti, tj = st.th[x], st.th[y]
                A, B = np.meshgrid(ti, tj, indexing="ij")
                prod = np.outer(ndtr(ti), ndtr(tj))
                rc = M.Lambda[i, a] * M.Lambda[j, a] * M.Psi[a, a] * dsc[i] * dsc[j]
                num += np.sum(_pbivnorm(A, B, rc) - prod)
                if x == y:
                    rt = 1.0
                else:
                    rt = st.cor[x, y] if obs_var else Sig[i, j]
                den += np.sum(_pbivnorm(A, B, rt) - prod)
        out[lv] = num / den
    return pd.Series(out, name="omega")
