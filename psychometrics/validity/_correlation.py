"""Correlation tests: ``psych::corr.test`` and ``stats::p.adjust``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..results import Summary
from ._common import numeric_frame

__all__ = ["corr_test", "CorrTestResult", "p_adjust"]

_ADJUST = ("holm", "hochberg", "bonferroni", "BH", "BY", "fdr", "none")
_METHODS = ("pearson", "spearman", "kendall")


def p_adjust(p, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing, as R's ``stats::p.adjust``.

    Parameters
    ----------
    p : array-like
        p-values; NaN entries are kept as NaN and not counted.
    method : {"holm", "hochberg", "bonferroni", "BH", "BY", "fdr", "none"}
        ``"fdr"`` is ``"BH"``, as in R.
    """
    if method not in _ADJUST:
        raise DataValidationError(f"method= must be one of {', '.join(_ADJUST)}; got {method!r}.")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    n = q.size
    if n == 0 or method == "none":
        out[ok] = q
        return out
    if method == "bonferroni":
        adj = np.minimum(1.0, n * q)
    elif method == "holm":
        o = np.argsort(q, kind="stable")
        i = np.arange(1, n + 1)
        adj = np.empty(n)
        adj[o] = np.minimum(1.0, np.maximum.accumulate((n - i + 1) * q[o]))
    else:
        o = np.argsort(-q, kind="stable")          # decreasing, ties in original order
        i = np.arange(n, 0, -1)
        if method == "hochberg":
            factor = n - i + 1
        else:                                      # BH / fdr / BY
            factor = n / i * (np.sum(1.0 / np.arange(1, n + 1)) if method == "BY" else 1.0)
        adj = np.empty(n)
        adj[o] = np.minimum(1.0, np.minimum.accumulate(factor * q[o]))
    out[ok] = adj
    return out


@dataclass(frozen=True, eq=False)
class CorrTestResult:
    """Correlations with their tests and intervals (``psych::corr.test``).

    Attributes
    ----------
    r, n, p_value, p_adjusted : DataFrame
        Matrices (rows: ``x`` variables, columns: ``y`` variables, or the ``x`` variables
        again). ``p_value`` is unadjusted everywhere (psych puts the adjusted values in the
        upper triangle of its ``p``; here they are in ``p_adjusted``).
    table : DataFrame
        One row per pair: ``var1, var2, r, n, t, df, p_value, p_adjusted, se, ci_lower,
        ci_upper, ci_lower_adj, ci_upper_adj`` (psych's ``ci`` and ``ci.adj``).
    method, adjust, alpha : the options used.
    """

    r: pd.DataFrame
    n: pd.DataFrame
    p_value: pd.DataFrame
    p_adjusted: pd.DataFrame
    table: pd.DataFrame
    method: str
    adjust: str
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(
            title=f"Correlation tests ({self.method}; p adjusted by {self.adjust})",
            header=(f"{len(self.table)} pairs; intervals at {1 - self.alpha:.0%}; adjusted "
                    "intervals corrected for multiple tests as psych::corr.test does.",),
            blocks=(("Correlations", self.r.reset_index(names="variable")),
                    ("Pairs", self.table)))


def _corr(x: pd.DataFrame, y: pd.DataFrame, method: str) -> np.ndarray:
    both = pd.concat([x, y], axis=1, ignore_index=True)
    r = both.corr(method=method).to_numpy()
    return r[: x.shape[1], x.shape[1]:]


def corr_test(x, y=None, method: str = "pearson", adjust: str = "holm", alpha: float = 0.05,
              missing: str = "pairwise") -> CorrTestResult:
    """Correlations with t tests, adjusted p-values and confidence intervals.

    Equal to ``psych::corr.test(x, y, use, method, adjust, alpha)`` (its ``normal = TRUE``
    route: a t test with n - 2 df for every method, Fisher-z intervals).

    Parameters
    ----------
    x, y : DataFrame
        Numeric columns. Without ``y`` every pair of ``x`` is tested (psych's symmetric
        case); with ``y`` every ``x`` column against every ``y`` column.
    method : {"pearson", "spearman", "kendall"}
    adjust : {"holm", "hochberg", "bonferroni", "BH", "BY", "fdr", "none"}
        Multiple-test adjustment of the p-values (and of the adjusted intervals).
    alpha : float
        1 - confidence level of the intervals.
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` (default, psych's ``use = "pairwise"``) uses, for each pair, the rows
        where both are observed; ``"listwise"`` the rows complete on every variable.

    Notes
    -----
    The adjusted intervals follow psych exactly: with ``adjust = "holm"`` the pair with the
    k-th smallest ``|z|`` gets the normal quantile ``1 - alpha / (2 k)``; otherwise every
    pair gets ``1 - alpha / (2 m)`` for m pairs.
    """
    from scipy import special, stats  # lazy: keeps the package import light
    if method not in _METHODS:
        raise DataValidationError(f"method= must be one of {', '.join(_METHODS)}; got {method!r}.")
    if adjust not in _ADJUST:
        raise DataValidationError(f"adjust= must be one of {', '.join(_ADJUST)}; got {adjust!r}.")
    if not 0 < alpha < 1:
        raise DataValidationError(f"alpha= must be between 0 and 1; got {alpha!r}.")
    if missing not in ("pairwise", "listwise"):
        raise DataValidationError(f"missing= must be 'pairwise' or 'listwise'; got {missing!r}.")
    x = numeric_frame(x, "x", "corr_test")
    sym = y is None
    y = x if sym else numeric_frame(y, "y", "corr_test")
    if not sym and len(y) != len(x):
        raise DataValidationError(f"x= has {len(x)} rows and y= has {len(y)}; they must be the "
                                  "same observations.")
    if missing == "listwise":
        keep = x.notna().all(axis=1) & y.notna().all(axis=1)
        x, y = x[keep], y[keep]
    r = _corr(x, y, method)
    n = x.notna().to_numpy(float).T @ y.notna().to_numpy(float)
    if n.min() < 3:
        raise DataValidationError("corr_test needs at least 3 observed pairs for every pair of "
                                  f"variables; the smallest count is {int(n.min())}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(n - 2) / np.sqrt(1 - r * r)
        se = np.sqrt((1 - r * r) / (n - 2))
    p = np.minimum(2 * stats.t.sf(np.abs(t), n - 2), 1.0)
    if sym:
        iu = np.triu_indices_from(r, 1)
        pa = np.full_like(p, np.nan)
        pa[iu] = p_adjust(p[iu], adjust)
        pa = np.where(np.isnan(pa), pa.T, pa)
        np.fill_diagonal(pa, 0.0)
        # pairs in psych's order: (i, j), i < j, by columns of the lower triangle
        il = np.tril_indices_from(r, -1)
        order = np.lexsort((il[0], il[1]))
        rows, cols = il[1][order], il[0][order]
    else:
        pa = p_adjust(p.ravel(order="F"), adjust).reshape(p.shape, order="F")
        jj, ii = np.meshgrid(np.arange(r.shape[1]), np.arange(r.shape[0]))
        rows, cols = ii.ravel(order="F"), jj.ravel(order="F")
    rr = r[rows, cols]
    nn = n[rows, cols]
    z = np.arctanh(rr)
    sef = 1.0 / np.sqrt(nn - 3)
    dif = special.ndtri(1 - alpha / 2)
    if adjust == "holm":
        rank = np.empty(z.size)
        rank[np.argsort(np.abs(z), kind="stable")] = np.arange(1, z.size + 1)
        dif_adj = special.ndtri(1 - alpha / (2 * rank))
    else:
        dif_adj = special.ndtri(1 - alpha / (2 * z.size))
    xn, yn = [str(c) for c in x.columns], [str(c) for c in y.columns]
    table = pd.DataFrame({
        "var1": [xn[i] for i in rows], "var2": [yn[j] for j in cols],
        "r": rr, "n": nn, "t": t[rows, cols], "df": nn - 2,
        "p_value": p[rows, cols], "p_adjusted": pa[rows, cols], "se": se[rows, cols],
        "ci_lower": np.tanh(z - dif * sef), "ci_upper": np.tanh(z + dif * sef),
        "ci_lower_adj": np.tanh(z - dif_adj * sef), "ci_upper_adj": np.tanh(z + dif_adj * sef),
    })
    frame = lambda m: pd.DataFrame(m, index=xn, columns=yn)  # noqa: E731
    return CorrTestResult(r=frame(r), n=frame(n), p_value=frame(p), p_adjusted=frame(pa),
                          table=table, method=method, adjust=adjust, alpha=alpha)
