"""Rater agreement: ``psych::cohen.kappa``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..results import Summary

__all__ = ["cohen_kappa", "KappaResult"]


@dataclass(frozen=True, eq=False)
class KappaResult:
    """Cohen's kappa for two raters, or every pair of several raters.

    Attributes
    ----------
    table : DataFrame
        One row per pair of raters and kind (``"unweighted"``, ``"weighted"``): ``rater1,
        rater2, kind, est, se, ci_lower, ci_upper, n_obs`` (psych's ``confid``, ``var.kappa``,
        ``var.weighted``; intervals clipped to [-1, 1] as psych does).
    agreement : DataFrame or None
        The cross-table of proportions of the two raters (two raters only).
    weights : ndarray
        The weight matrix (default: quadratic, ``1 - (i - j)^2 / (k - 1)^2``).
    """

    table: pd.DataFrame
    agreement: pd.DataFrame | None
    weights: np.ndarray
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def kappa(self) -> float:
        """Unweighted kappa of the first pair."""
        return float(self.table.loc[self.table["kind"] == "unweighted", "est"].iloc[0])

    @property
    def weighted_kappa(self) -> float:
        return float(self.table.loc[self.table["kind"] == "weighted", "est"].iloc[0])

    def summary(self) -> Summary:
        return Summary(title="Cohen's kappa",
                       header=(f"Intervals at {1 - self.alpha:.0%} (normal approximation, psych's "
                               "variance formulas).",),
                       blocks=(("Agreement", self.table),))


def _kappa_pair(a: np.ndarray, b: np.ndarray, labels: list, w: np.ndarray | None, alpha: float):
    from scipy import special  # lazy: keeps the package import light
    k = len(labels)
    ia = pd.Categorical(a, categories=labels).codes
    ib = pd.Categorical(b, categories=labels).codes
    x = np.zeros((k, k))
    np.add.at(x, (ia, ib), 1.0)
    tot = x.sum()
    x = x / tot
    rs, cs = x.sum(axis=1), x.sum(axis=0)
    prob = np.outer(rs, cs)
    po, pc = np.trace(x), np.trace(prob)
    kappa = (po - pc) / (1 - pc) if k > 1 else np.nan
    if w is None:
        i, j = np.indices((k, k))
        w = 1 - (j - i) ** 2 / (k - 1) ** 2 if k > 1 else np.ones((1, 1))
    wpo, wpc = float(np.sum(w * x)), float(np.sum(w * prob))
    colw = (w * cs[:, None]).sum(axis=0)   # R: colSums(w * cs), cs recycled down each column
    roww = (w * rs[:, None]).sum(axis=1)
    eye = np.eye(k)
    plus = lambda u, v: u[:, None] + v[None, :]  # noqa: E731  psych's %+%
    var_k = (1 / (tot * (1 - pc) ** 4)) * (
        np.trace(x * (eye * (1 - pc) - plus(rs, cs) * (1 - po)) ** 2)
        + (1 - po) ** 2 * (np.sum(x * plus(cs, rs) ** 2) - np.trace(x * plus(cs, rs) ** 2))
        - (po * pc - 2 * pc + po) ** 2)
    var_w = (1 / (tot * (1 - wpc) ** 4)) * (
        np.sum(x * (w * (1 - wpc) - plus(colw, roww) * (1 - wpo)) ** 2)
        - (wpo * wpc - 2 * wpc + wpo) ** 2)
    wkappa = (wpo - wpc) / (1 - wpc) if np.trace(w) > 0 else 1 - wpo / wpc
    var_k = 0.0 if not np.isfinite(var_k) or var_k < 0 else var_k
    var_w = 0.0 if not np.isfinite(var_w) or var_w < 0 else var_w
    q = special.ndtri(alpha / 2)
    out = []
    for kind, est, v in (("unweighted", kappa, var_k), ("weighted", wkappa, var_w)):
        lo, hi = est + q * np.sqrt(v), est - q * np.sqrt(v)
        out.append({"kind": kind, "est": est, "se": np.sqrt(v), "ci_lower": max(lo, -1.0),
                    "ci_upper": min(hi, 1.0), "n_obs": int(tot)})
    return out, pd.DataFrame(x, index=labels, columns=labels), w


def cohen_kappa(data, weights=None, alpha: float = 0.05, levels=None) -> KappaResult:
    """Cohen's kappa and weighted kappa with confidence intervals (``psych::cohen.kappa``).

    Parameters
    ----------
    data : DataFrame
        One column per rater, one row per rated object. With two columns, rows where
        either rater is missing are dropped and counted in ``n_obs``; with three or more,
        every pair of raters is compared on its own complete rows (as psych).
    weights : array, optional
        A k x k agreement-weight matrix over the category levels (psych's ``w``); default
        quadratic weights.
    alpha : float
        1 - confidence level.
    levels : list, optional
        The category levels in order (default: the sorted union of observed values).
    """
    if not isinstance(data, pd.DataFrame) or data.shape[1] < 2:
        raise DataValidationError("data= must be a DataFrame with one column per rater (at least "
                                  "two).")
    if not 0 < alpha < 1:
        raise DataValidationError(f"alpha= must be between 0 and 1; got {alpha!r}.")
    cols = list(data.columns)
    rows, agreement, w_used = [], None, None
    for jj in range(1, len(cols)):
        for ii in range(jj):
            if len(cols) == 2:
                ii, jj = 0, 1
            pair = data[[cols[ii], cols[jj]]].dropna()
            if pair.empty:
                raise DataValidationError(f"Raters {cols[ii]!r} and {cols[jj]!r} rated no object "
                                          "in common.")
            labels = list(levels) if levels is not None else sorted(
                set(pair.iloc[:, 0]) | set(pair.iloc[:, 1]))
            unknown = (set(pair.iloc[:, 0]) | set(pair.iloc[:, 1])) - set(labels)
            if unknown:
                raise DataValidationError(f"levels= does not contain the observed value(s) "
                                          f"{sorted(map(str, unknown))}.")
            w = None if weights is None else np.asarray(weights, dtype=float)
            if w is not None and w.shape != (len(labels), len(labels)):
                raise DataValidationError(f"weights= must be {len(labels)} x {len(labels)} (one "
                                          f"row and column per level); got {w.shape}.")
            res, agreement, w_used = _kappa_pair(pair.iloc[:, 0].to_numpy(),
                                                 pair.iloc[:, 1].to_numpy(), labels, w, alpha)
            rows += [{"rater1": str(cols[ii]), "rater2": str(cols[jj]), **r} for r in res]
            if len(cols) == 2:
                break
        if len(cols) == 2:
            break
    table = pd.DataFrame(rows)
    return KappaResult(table=table, agreement=agreement if len(cols) == 2 else None,
                       weights=w_used, alpha=alpha)
