"""Intraclass correlations (Shrout & Fleiss 1979), equal to ``psych::ICC`` (psych 2.2.9)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from ..exceptions import ConvergenceWarning, DataIssue, DataValidationError, SingularFitWarning
from .._blas import single_blas_thread
from ..numerics.itemdata import check_choice, item_data
from ._summary import Summary, reliability_summary

__all__ = ["icc", "ICCResult"]

_TYPES = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
_DESCRIPTION = ["Single_raters_absolute", "Single_random_raters", "Single_fixed_raters",
                "Average_raters_absolute", "Average_random_raters", "Average_fixed_raters"]


@dataclass(frozen=True)
class ICCResult:
    """Result of :func:`icc`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per Shrout-Fleiss form (``type`` ICC1, ICC2, ICC3, ICC1k,
        ICC2k, ICC3k; ``description`` as psych's row names): ``icc``, ``f``,
        ``df1``, ``df2``, ``p_value``, ``ci_lower``, ``ci_upper``.
    anova : pandas.DataFrame
        Rows subjects, raters, residual: ``df``, ``sum_sq``, ``mean_sq``,
        ``f``, ``p_value`` (with ``method="reml"`` the mean squares implied by the
        REML variance components, as psych's lmer route reports them).
    variance_components : pandas.DataFrame
        ``variance`` and ``percent`` of subjects, raters, residual and total.
    msw : float
        Within-subject mean square used for ICC1.
    reml : dict
        With ``missing="reml"`` on incomplete data, the iterative REML fit:
        ``reml_criterion`` (lme4's ``REMLcrit``), ``theta`` (relative sds of
        subjects and raters, lme4's ``getME(m, "theta")``), ``intercept``,
        ``n_ratings``, ``converged``, ``singular``. Empty otherwise (the
        components are then closed-form).
    """

    table: pd.DataFrame
    anova: pd.DataFrame
    variance_components: pd.DataFrame
    msw: float
    n_subjects: int
    n_raters: int
    method: str
    level: float
    options: dict = field(default_factory=dict)
    reml: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per ICC type (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        return reliability_summary(
            f"Intraclass correlations ({self.n_subjects} subjects, {self.n_raters} raters, "
            f"variance components by {self.method})",
            {"ICC": self.table.set_index("type"), "ANOVA": self.anova,
             "Variance components": self.variance_components})


def _reml_components(ssb, ssj, sse, n, k):
    """REML variance components of the balanced two-way random model, >= 0.

    For a balanced crossed design the REML likelihood depends on the data only
    through the three sums of squares, with expected mean squares
    s_e + k s_subj, s_e + n s_rater and s_e. The unconstrained maximum is the
    ANOVA solution; when an estimate would be negative the maximum lies on the
    boundary, which is found by comparing the four closed-form candidates.
    """
    dfb, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    cands = []
    # interior
    se = sse / dfe
    cands.append((se, (ssb / dfb - se) / k, (ssj / dfj - se) / n))
    # raters variance 0
    se2 = (ssj + sse) / (dfj + dfe)
    cands.append((se2, (ssb / dfb - se2) / k, 0.0))
    # subjects variance 0
    se3 = (ssb + sse) / (dfb + dfe)
    cands.append((se3, 0.0, (ssj / dfj - se3) / n))
    # both 0
    cands.append(((ssb + ssj + sse) / (dfb + dfj + dfe), 0.0, 0.0))

    def loglik(c):
        s_e, s_s, s_r = c
        lb, lj, le = s_e + k * s_s, s_e + n * s_r, s_e
        return -0.5 * (dfb * np.log(lb) + ssb / lb + dfj * np.log(lj) + ssj / lj
                       + dfe * np.log(le) + sse / le)

    feasible = [c for c in cands if c[0] > 0 and c[1] >= 0 and c[2] >= 0]
    return max(feasible, key=loglik)


def _reml_crit(theta, parts):
    """lme4's profiled REML criterion (-2 log restricted likelihood) and its parts.

    Model ``y = mu + Z_s b_s + Z_r b_r + e`` with ``b_s ~ N(0, (theta_s sigma)^2)``,
    ``b_r ~ N(0, (theta_r sigma)^2)``, ``e ~ N(0, sigma^2)``. With
    ``Lambda = diag(theta)`` and the penalised least-squares system
    ``A = [[Lambda'Z'Z Lambda + I, Lambda'Z'1], [1'Z Lambda, N]]``, right side
    ``b = [Lambda'Z'y, 1'y]``,
    ``-2 l_R = log det A + (N - 1) (1 + log(2 pi r2 / (N - 1)))`` where
    ``r2 = y'y - b'A^{-1}b`` is the penalised residual sum of squares at its
    minimum (Bates et al. 2015, eqs. 34-42, with sigma profiled out). The
    subject block of ``A`` is diagonal, so subjects are eliminated first
    (Schur complement on raters + intercept, a (k+1) x (k+1) system).
    ``parts``: per-subject counts ``ns`` and sums ``sys``, the subject x
    (rater, intercept) count matrix ``m``, per-rater counts/sums, N, sum y, y'y.
    """
    ts, tr = theta
    ns, sys_, m, nr, syr, big_n, sy, yy = parts
    k = nr.size
    ds = ts * ts * ns + 1.0                       # diagonal subject block
    sc = np.empty(k + 1)
    sc[:k] = tr
    sc[k] = 1.0
    ms = (ts * m) * sc[None, :]                   # n x (k+1) off-diagonal block
    s = ms.T @ (ms / ds[:, None])
    s = -s
    s[np.arange(k), np.arange(k)] += tr * tr * nr + 1.0
    s[k, k] += big_n
    s[:k, k] += tr * nr
    s[k, :k] += tr * nr
    bs = ts * sys_
    br = np.concatenate([tr * syr, [sy]]) - ms.T @ (bs / ds)
    c = linalg.cho_factor(s, lower=True)
    sol = linalg.cho_solve(c, br)
    r2 = float(yy - (bs * bs / ds).sum() - br @ sol)
    logdet = np.log(ds).sum() + 2.0 * np.log(np.diag(c[0])).sum()
    dfr = big_n - 1
    crit = logdet + dfr * (1.0 + np.log(2.0 * np.pi * r2 / dfr))
    return crit, r2 / dfr, float(sol[k])


def _reml_crit_safe(theta, parts):
    """``_reml_crit``'s criterion, +inf where the penalised system is not positive definite
    numerically (far out, e.g. theta ~ 1e10), so that line searches back off."""
    if not np.all(np.isfinite(theta)):
        return np.inf
    try:
        return _reml_crit(theta, parts)[0]
    except (np.linalg.LinAlgError, linalg.LinAlgError, FloatingPointError):
        return np.inf


#: steps (relative sd theta) at which the criterion is probed beside a boundary component
_PROBE_STEPS = (1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0)


def _reml_optimality(f, theta):
    """Optimality check of the ICC REML fit at ``theta`` (see ``_reml_components_incomplete``).

    Returns (ok, message, lower point or None)."""
    f0 = f(theta)
    tol = 1e-11 * max(1.0, abs(f0))
    boundary = theta < 1e-6
    best, best_f = None, f0 - tol
    for j in np.flatnonzero(boundary):        # deviance at small positive values
        for step in _PROBE_STEPS:
            t = theta.copy()
            t[j] = step
            ft = f(t)
            if ft < best_f:
                best, best_f = t, ft
    if best is not None:
        return False, (f"the REML criterion is {f0 - best_f:.3g} lower at theta = "
                       f"{best.tolist()} than at the boundary point"), best
    free = np.flatnonzero(~boundary)
    if free.size == 0:
        return True, "", None
    # interior components: central-difference gradient and Hessian in theta
    h = 1e-4 * np.maximum(theta[free], 1e-2)
    g = np.empty(free.size)
    H = np.empty((free.size, free.size))
    e = np.eye(theta.size)
    for a_, ja in enumerate(free):
        g[a_] = (f(theta + h[a_] * e[ja]) - f(theta - h[a_] * e[ja])) / (2 * h[a_])
        for b_, jb in enumerate(free):
            da, db = h[a_] * e[ja], h[b_] * e[jb]
            H[a_, b_] = (f(theta + da + db) - f(theta + da - db) - f(theta - da + db)
                         + f(theta - da - db)) / (4 * h[a_] * h[b_])
    H = 0.5 * (H + H.T)
    w, V = np.linalg.eigh(H)
    if not w.min() > 0:
        # a direction of negative curvature: look for a lower point along it
        v = np.zeros(theta.size)
        v[free] = V[:, 0]
        for step in _PROBE_STEPS:
            for sign in (1.0, -1.0):
                t = np.maximum(theta + sign * step * v, 0.0)
                if f(t) < best_f:
                    best, best_f = t, f(t)
        return False, f"the Hessian of the REML criterion is not positive definite " \
                      f"(eigenvalues {w.tolist()})", best
    rel = np.linalg.solve(H, g)
    if not np.max(np.abs(rel)) < 2e-3:
        return False, (f"relative gradient max|H^-1 g| = {np.max(np.abs(rel)):.3g} exceeds "
                       "0.002"), None
    return True, "", None


def _reml_components_incomplete(x):
    with single_blas_thread():          # many tiny BLAS calls (see psychometrics._blas)
        return _reml_components_incomplete_fit(x)


def _reml_components_incomplete_fit(x):
    """REML variance components of ``value ~ 1 + (1|subject) + (1|rater)`` on incomplete data.

    Minimises lme4's profiled REML criterion over the relative standard
    deviations ``theta = (sd_subject, sd_rater) / sigma >= 0``: L-BFGS-B from the
    best point of a grid, then a Nelder-Mead polish. The criterion is even in
    each theta, so its derivative vanishes at theta = 0 whether or not that is a
    minimum: a boundary component is accepted only when the criterion at small
    positive values is not lower (``_reml_optimality``; the optimiser restarts
    from a lower point when it finds one), and ``converged`` means that check
    passed (interior components: lme4's relative gradient |H^-1 g| < 0.002 and a
    positive definite Hessian). A theta below 1e-4 is a singular fit (lme4's
    ``isSingular`` tolerance). Returns (s_e, s_subject, s_rater, info dict).
    """
    n, k = x.shape
    obs = ~np.isnan(x)
    xf = np.where(obs, x, 0.0)
    m = np.concatenate([obs.astype(float), obs.sum(axis=1, keepdims=True)], axis=1)
    parts = (obs.sum(axis=1).astype(float), xf.sum(axis=1), m, obs.sum(axis=0).astype(float),
             xf.sum(axis=0), float(obs.sum()), float(xf.sum()), float((xf * xf).sum()))
    f = lambda t: _reml_crit_safe(np.asarray(t, dtype=float), parts)  # noqa: E731
    bounds = [(0.0, 1e4), (0.0, 1e4)]
    grid = np.r_[0.0, np.logspace(-2, 1.5, 8)]
    vals = np.array([[f([a, b]) for b in grid] for a in grid])
    ia, ib = np.unravel_index(int(np.argmin(vals)), vals.shape)
    start = np.array([grid[ia], grid[ib]])
    theta = start
    message = ""
    for _ in range(6):
        r = optimize.minimize(f, start, method="L-BFGS-B", jac="3-point", bounds=bounds,
                              options=dict(ftol=1e-15, gtol=1e-9, maxiter=1000))
        best_x, best_f = (r.x, r.fun) if r.fun <= f(start) else (start, f(start))
        # polish: finite-difference gradients limit L-BFGS-B near the optimum (it then stops
        # with ABNORMAL line search); Nelder-Mead takes the criterion to its noise floor
        simplex = best_x + np.array([[0.0, 0.0], [1e-3, 0.0], [0.0, 1e-3]])
        pol = optimize.minimize(f, best_x, method="Nelder-Mead", bounds=bounds,
                                options=dict(xatol=1e-8, fatol=1e-12 * max(1.0, abs(best_f)),
                                             maxiter=2000, initial_simplex=simplex))
        theta = np.maximum(pol.x if pol.fun <= best_f else best_x, 0.0)
        theta[theta < 1e-9] = 0.0
        ok, message, lower = _reml_optimality(f, theta)
        if lower is None:
            break
        start = lower
    converged = bool(ok)
    if not converged and not message:
        message = "no optimum found"
    crit, s2, beta = _reml_crit(theta, parts)
    if not converged:
        warnings.warn(f"icc: the REML fit failed its optimality check ({message}).",
                      ConvergenceWarning, stacklevel=4)
    singular = [name for name, t in zip(("subjects", "raters"), theta) if t < 1e-4]  # isSingular
    if singular:
        warnings.warn(f"icc: singular fit: the REML variance of {' and '.join(singular)} is "
                      f"(nearly) zero (relative sd theta = {theta.tolist()}), as lme4 would report "
                      f"'boundary (singular) fit'.", SingularFitWarning, stacklevel=4)
    info = dict(reml_criterion=float(crit), theta=theta.tolist(), intercept=float(beta),
                n_ratings=int(obs.sum()), converged=converged, singular=bool(singular),
                message=message)
    return s2, s2 * theta[0] ** 2, s2 * theta[1] ** 2, info


def icc(data, *, method: str = "reml", level: float = 0.95, missing: str = "raise") -> ICCResult:
    """The six Shrout-Fleiss intraclass correlations with F tests and intervals.

    Equal to ``psych::ICC(data)`` (``method="reml"``: psych's default
    ``lmer = TRUE``) or ``psych::ICC(data, lmer = FALSE)`` (``method="anova"``).

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array
        Rows are subjects (targets), columns raters (judges, items or occasions).
    method : {"reml", "anova"}
        How the within-subject mean square of ICC1 (and the reported mean
        squares) are obtained: from REML variance components of
        ``value ~ 1 + (1 | subject) + (1 | rater)`` (psych's default; the
        components are computed in closed form, which is exact for complete
        data), or from the two-way ANOVA table (the classical Shrout-Fleiss
        ``MSW = (SS_raters + SS_error) / (df_raters + df_error)``). ICC2, ICC3
        and their averages are identical under both unless a variance component
        is on its boundary (zero).
    level : float
        Confidence level (psych's ``alpha = 1 - level``).
    missing : {"raise", "drop", "reml"}
        Incomplete rows raise an error naming them (default), are dropped
        (listwise), or (``"reml"``, needs ``method="reml"``) every observed
        rating is used: the REML model is fitted iteratively to the long data
        without the missing cells, as ``psych::ICC(x)`` does, and n stays the
        number of rows (psych's ``n.obs``). Rows with no rating at all are an
        error with ``"reml"``.

    Returns
    -------
    ICCResult

    Raises
    ------
    DataValidationError
        Incomplete rows (with ``missing="raise"``; all are listed), non-numeric
        ratings, ratings without residual variance.
    ValueError
        Fewer than two raters or two complete subjects, bad options.

    Notes
    -----
    With n subjects, k raters and mean squares MSB (subjects), MSJ (raters),
    MSE (residual), MSW (within subjects):

    * ICC1 = (MSB - MSW) / (MSB + (k-1) MSW), ICC1k = (MSB - MSW) / MSB
    * ICC2 = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n),
      ICC2k = (MSB - MSE) / (MSB + (MSJ - MSE) / n)
    * ICC3 = (MSB - MSE) / (MSB + (k-1) MSE), ICC3k = (MSB - MSE) / MSB
    * F = MSB/MSW on (n-1, n(k-1)) df for ICC1, MSB/MSE on (n-1, (n-1)(k-1))
      for ICC2/3; intervals as Shrout & Fleiss (1979) / McGraw & Wong (1996),
      with Satterthwaite's df for ICC2, exactly as psych computes them.

    With ``missing="reml"`` and missing cells, the variance components are
    those of ``lme4::lmer(values ~ 1 + (1|id) + (1|items), na.action = na.omit)``
    (profiled REML criterion minimised over the two relative sds with
    L-BFGS-B, bounded at 0; a zero component gives a ``SingularFitWarning``),
    and the mean squares and ICCs follow from them with n = rows and k =
    columns exactly as psych forms them (MSB = k s_subj + s_e,
    MSJ = n s_rater + s_e, MSW = s_e + s_rater, MSE = s_e).

    In R: ``psych::ICC(x)$results``.
    """
    func = "icc"
    check_choice(method, "method", func, ("reml", "anova"))
    check_choice(missing, "missing", func, ("raise", "drop", "reml"))
    if missing == "reml" and method != "reml":
        raise ValueError("The 'missing' parameter of icc is 'reml' (fit the REML model to the "
                         "observed ratings), which needs method='reml'; got method="
                         f"{method!r}. Pass method='reml' or missing='drop'.")
    if not (0 < level < 1):
        raise ValueError(f"The 'level' parameter of icc must be a float in (0, 1). Got {level!r} instead.")
    d = item_data(data, func, allow_constant=True, empty_rows="ignore")
    x = d.x
    incomplete = np.isnan(x).any(axis=1)
    reml_info: dict = {}
    use_incomplete = missing == "reml" and incomplete.any()
    if incomplete.any() and missing != "reml":
        if missing == "raise":
            issues = [DataIssue(int(i) + 1, None, None, "has missing ratings")
                      for i in np.nonzero(incomplete)[0]]
            raise DataValidationError(
                f"icc: {int(incomplete.sum())} row(s) have missing ratings.", issues,
                hint="Pass missing='reml' to fit the REML model to the observed ratings (as "
                     "psych::ICC does), missing='drop' to drop incomplete rows (listwise), "
                     "or impute them.")
        x = x[~incomplete]
    if use_incomplete:
        empty = np.isnan(x).all(axis=1)
        if empty.any():
            issues = [DataIssue(int(i) + 1, None, None, "subject has no ratings")
                      for i in np.nonzero(empty)[0]]
            raise DataValidationError(
                f"icc: {int(empty.sum())} subject(s) (rows) have no ratings at all.", issues,
                hint="Drop these rows: a subject without ratings carries no information (psych "
                     "would still count it in n, changing every ICC).")
    n, k = x.shape
    if n < 2:
        raise ValueError(f"icc needs at least 2 complete subjects (rows); got {n}.")
    dfb, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    if use_incomplete:
        s_e, s_s, s_r, reml_info = _reml_components_incomplete(x)
        if not s_e > 0:
            raise DataValidationError("icc: the ratings have no residual variance (every rating "
                                      "is explained by subject and rater effects); ICCs are "
                                      "undefined.")
    else:
        gm = x.mean()
        rm = x.mean(axis=1)
        cm = x.mean(axis=0)
        ssb = k * ((rm - gm) ** 2).sum()
        ssj = n * ((cm - gm) ** 2).sum()
        sse = ((x - rm[:, None] - cm[None, :] + gm) ** 2).sum()
        if sse <= 0:
            raise DataValidationError("icc: the ratings have no residual variance (every rating is "
                                      "explained by subject and rater means); ICCs are undefined.")
    if method == "anova":
        msb, msj, mse = ssb / dfb, ssj / dfj, sse / dfe
        msw = (ssj + sse) / (dfj + dfe)
        s_e, s_s, s_r = mse, (msb - mse) / k, (msj - mse) / n
    else:
        if not use_incomplete:
            s_e, s_s, s_r = _reml_components(ssb, ssj, sse, n, k)
        mse = s_e
        msb = k * s_s + s_e
        msj = n * s_r + s_e
        msw = s_e + s_r
    fb, fj = msb / mse, msj / mse
    anova = pd.DataFrame({
        "df": [dfb, dfj, dfe],
        "sum_sq": [msb * dfb, msj * dfj, mse * dfe],
        "mean_sq": [msb, msj, mse],
        "f": [fb, fj, np.nan],
        "p_value": [stats.f.sf(fb, dfb, dfe), stats.f.sf(fj, dfj, dfe), np.nan],
    }, index=pd.Index(["subjects", "raters", "residual"], name="source"))
    tot = s_e + s_s + s_r
    vc = pd.DataFrame({"variance": [s_s, s_r, s_e, tot]},
                      index=pd.Index(["subjects", "raters", "residual", "total"], name="component"))
    vc["percent"] = vc["variance"] / tot

    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f11 = msb / msw
    df11n, df11d = n - 1, n * (k - 1)
    p11 = stats.f.sf(f11, df11n, df11d)
    f21 = msb / mse
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p21 = stats.f.sf(f21, df21n, df21d)
    a = 1 - level
    f1l = f11 / stats.f.ppf(1 - a / 2, df11n, df11d)
    f1u = f11 * stats.f.ppf(1 - a / 2, df11d, df11n)
    f3l = f21 / stats.f.ppf(1 - a / 2, df21n, df21d)
    f3u = f21 * stats.f.ppf(1 - a / 2, df21d, df21n)
    lo = np.full(6, np.nan)
    up = np.full(6, np.nan)
    lo[0], up[0] = (f1l - 1) / (f1l + (k - 1)), (f1u - 1) / (f1u + k - 1)
    lo[2], up[2] = (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)
    lo[3], up[3] = 1 - 1 / f1l, 1 - 1 / f1u
    lo[5], up[5] = 1 - 1 / f3l, 1 - 1 / f3u
    fj_ = msj / mse
    vn = (k - 1) * (n - 1) * ((k * icc2 * fj_ + n * (1 + (k - 1) * icc2) - k * icc2)) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj_ ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(1 - a / 2, n - 1, v)
    f2l = stats.f.ppf(1 - a / 2, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    lo[1], up[1] = l2, u2
    lo[4], up[4] = l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))
    table = pd.DataFrame({
        "type": _TYPES, "description": _DESCRIPTION,
        "icc": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
        "f": [f11, f21, f21, f11, f21, f21],
        "df1": [float(df11n), df21n, df21n, df11n, df21n, df21n],
        "df2": [float(df11d), df21d, df21d, df11d, df21d, df21d],
        "p_value": [p11, p21, p21, p11, p21, p21],
        "ci_lower": lo, "ci_upper": up,
    })
    return ICCResult(table=table, anova=anova, variance_components=vc, msw=float(msw),
                     n_subjects=n, n_raters=k, method=method, level=level,
                     options=dict(method=method, level=level, missing=missing),
                     reml=reml_info)
