"""Intraclass correlations (Shrout & Fleiss 1979), equal to ``psych::ICC`` (psych 2.2.9)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning, DataIssue, DataValidationError, SingularFitWarning
from .._blas import single_blas_thread
from ..numerics.itemdata import check_choice, item_data
from ..numerics.reml import random_intercepts_core
from ._summary import Summary, reliability_summary
from .._lazy import lazy_module

stats = lazy_module("scipy.stats")


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


def _reml_components_incomplete(x):
    with single_blas_thread():          # many tiny BLAS calls (see psychometrics._blas)
        return _reml_components_incomplete_fit(x)


def _reml_components_incomplete_fit(x):
    """REML variance components of ``value ~ 1 + (1|subject) + (1|rater)`` on incomplete data.

    The model is built as two random-intercept blocks of Z (subjects, raters) and fitted by the
    shared REML core (:mod:`psychometrics.numerics.reml`): lme4's profiled REML criterion
    minimised over the relative standard deviations ``theta = (sd_subject, sd_rater) / sigma``,
    with its optimality check (a boundary component is accepted only when the criterion at
    small positive values is not lower and interior restarts are not better; interior
    components pass lme4's relative gradient |H^-1 g| < 0.002 with a positive definite
    Hessian). ``converged`` means that check passed. A theta below 1e-4 is a singular fit
    (lme4's ``isSingular`` tolerance). Returns (s_e, s_subject, s_rater, info dict).
    """
    n, k = x.shape
    r, c = np.nonzero(~np.isnan(x))
    y = x[r, c]
    core = random_intercepts_core(y, np.ones((y.size, 1)), [r, c])
    theta, fit = core.optimize(reml=True)
    theta = np.where(theta < 1e-9, 0.0, theta)
    ev = core.evaluate(theta, True)
    crit = float(ev["dev"])
    s2 = float(ev["pwrss"]) / (y.size - 1)
    beta = float(ev["beta"][0])
    converged = bool(fit["converged"])
    message = "" if converged else fit["message"]
    if not converged:
        warnings.warn(f"icc: the REML fit failed its optimality check ({message}).",
                      ConvergenceWarning, stacklevel=4)
    singular = [name for name, t in zip(("subjects", "raters"), theta) if t < 1e-4]  # isSingular
    if singular:
        warnings.warn(f"icc: singular fit: the REML variance of {' and '.join(singular)} is "
                      f"(nearly) zero (relative sd theta = {theta.tolist()}), as lme4 would report "
                      f"'boundary (singular) fit'.", SingularFitWarning, stacklevel=4)
    info = dict(reml_criterion=crit, theta=theta.tolist(), intercept=beta,
                n_ratings=int(y.size), converged=converged, singular=bool(singular),
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
    (lme4's profiled REML criterion minimised over the two relative sds by the shared REML
    core, :mod:`psychometrics.numerics.reml`, with its optimality check; a zero component
    gives a ``SingularFitWarning``),
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
