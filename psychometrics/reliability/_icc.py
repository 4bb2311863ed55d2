"""Intraclass correlations (Shrout & Fleiss 1979), equal to ``psych::ICC`` (psych 2.2.9)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import DataIssue, DataValidationError
from ._data import check_choice, item_data
from ._summary import Summary

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

    def summary(self) -> Summary:
        return Summary(f"Intraclass correlations ({self.n_subjects} subjects, {self.n_raters} raters, "
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
    missing : {"raise", "drop"}
        Incomplete rows raise an error naming them, or are dropped (listwise).

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

    In R: ``psych::ICC(x)$results``.
    """
    func = "icc"
    check_choice(method, "method", func, ("reml", "anova"))
    check_choice(missing, "missing", func, ("raise", "drop"))
    if not (0 < level < 1):
        raise ValueError(f"The 'level' parameter of icc must be a float in (0, 1). Got {level!r} instead.")
    d = item_data(data, func, allow_constant=True, empty_rows="ignore")
    x = d.x
    incomplete = np.isnan(x).any(axis=1)
    if incomplete.any():
        if missing == "raise":
            issues = [DataIssue(d.index[i], None, None, "has missing ratings")
                      for i in np.nonzero(incomplete)[0]]
            raise DataValidationError(
                f"icc: {int(incomplete.sum())} row(s) have missing ratings.", issues,
                hint="Pass missing='drop' to drop incomplete rows (listwise), or impute them.")
        x = x[~incomplete]
    n, k = x.shape
    if n < 2:
        raise ValueError(f"icc needs at least 2 complete subjects (rows); got {n}.")
    gm = x.mean()
    rm = x.mean(axis=1)
    cm = x.mean(axis=0)
    ssb = k * ((rm - gm) ** 2).sum()
    ssj = n * ((cm - gm) ** 2).sum()
    sse = ((x - rm[:, None] - cm[None, :] + gm) ** 2).sum()
    dfb, dfj, dfe = n - 1, k - 1, (n - 1) * (k - 1)
    if sse <= 0:
        raise DataValidationError("icc: the ratings have no residual variance (every rating is "
                                  "explained by subject and rater means); ICCs are undefined.")
    if method == "anova":
        msb, msj, mse = ssb / dfb, ssj / dfj, sse / dfe
        msw = (ssj + sse) / (dfj + dfe)
        s_e, s_s, s_r = mse, (msb - mse) / k, (msj - mse) / n
    else:
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
                     options=dict(method=method, level=level, missing=missing))
