"""Descriptive statistics: ``psych::describe``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..results import Summary
from ._common import numeric_frame

__all__ = ["describe", "DescribeResult"]


@dataclass(frozen=True, eq=False)
class DescribeResult:
    """One row per variable: ``variable, n_obs, mean, sd, median, trimmed, mad, min, max,
    range, skew, kurtosis, se`` (psych's columns; ``n`` is called ``n_obs``)."""

    table: pd.DataFrame
    trim: float
    type: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(title="Descriptive statistics",
                       header=(f"Trimmed means drop {self.trim:.0%} at each end; skew and kurtosis "
                               f"of type {self.type} (as psych::describe).",),
                       blocks=(("Variables", self.table),))


def _trimmed_mean(x: np.ndarray, trim: float) -> float:
    """R's ``mean(x, trim=)``: drop floor(n * trim) values at each end."""
    n = x.size
    if trim >= 0.5:
        return float(np.median(x))
    lo = int(np.floor(n * trim))
    s = np.sort(x)
    return float(s[lo:n - lo].mean())


def _moments(x: np.ndarray, type_: int, n_total: int) -> tuple[float, float]:
    """psych's skew and kurtosi of types 1, 2 and 3 (Joanes & Gill, 1998).

    psych's type-1 kurtosis of a data frame column multiplies by the column's length
    *including* missing values (``length(x[, i])``); ``n_total`` reproduces that.
    """
    n = x.size
    d = x - x.mean()
    m2 = np.mean(d ** 2)
    if m2 == 0:                       # a constant column: psych gives NaN
        return np.nan, np.nan
    g1 = np.mean(d ** 3) / m2 ** 1.5
    g2 = np.mean(d ** 4) / m2 ** 2 - 3
    if type_ == 1:
        return float(g1), float(np.sum(d ** 4) * n_total / np.sum(d ** 2) ** 2 - 3)
    if type_ == 2:
        if n < 4:
            return np.nan, np.nan
        skew = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        kurt = (n - 1) * ((n + 1) * g2 + 6) / ((n - 2) * (n - 3))
        return float(skew), float(kurt)
    # type 3: b1 = g1 ((n-1)/n)^(3/2), b2 = (g2 + 3) ((n-1)/n)^2 - 3
    return float(g1 * ((n - 1) / n) ** 1.5), float((g2 + 3) * (1 - 1 / n) ** 2 - 3)


def describe(data, trim: float = 0.1, type: int = 3) -> DescribeResult:  # noqa: A002
    """Descriptive statistics of each numeric column, as ``psych::describe``.

    Parameters
    ----------
    data : DataFrame
        Numeric columns; missing values are dropped per column (psych's ``na.rm = TRUE``).
    trim : float
        Proportion trimmed at each end for the trimmed mean (psych default 0.1).
    type : {1, 2, 3}
        Skew and kurtosis estimator (psych default 3, as in e1071).

    Returns
    -------
    DescribeResult
        With ``type=1`` the kurtosis of a column with missing values follows psych 2.2.9,
        which scales by the column's length including the missing values.
        ``mad`` is the median absolute deviation scaled by 1.4826 (R's ``mad``); ``se`` is
        ``sd / sqrt(n)``.
    """
    if type not in (1, 2, 3):
        raise DataValidationError(f"type= must be 1, 2 or 3; got {type!r}.")
    if not 0 <= trim <= 0.5:
        raise DataValidationError(f"trim= must be between 0 and 0.5; got {trim!r}.")
    data = numeric_frame(data, func="describe")
    rows = []
    for col in data.columns:
        x = data[col].to_numpy()
        n_total = x.size
        x = x[~np.isnan(x)]
        n = x.size
        if n == 0:
            rows.append({"variable": str(col), "n_obs": 0})
            continue
        med = float(np.median(x))
        sd = float(np.std(x, ddof=1)) if n > 1 else np.nan
        skew, kurt = _moments(x, type, n_total) if n > 1 else (np.nan, np.nan)
        rows.append({
            "variable": str(col), "n_obs": n, "mean": float(x.mean()), "sd": sd,
            "median": med, "trimmed": _trimmed_mean(x, trim),
            "mad": float(1.4826 * np.median(np.abs(x - med))),
            "min": float(x.min()), "max": float(x.max()), "range": float(x.max() - x.min()),
            "skew": skew, "kurtosis": kurt, "se": sd / np.sqrt(n),
        })
    cols = ["variable", "n_obs", "mean", "sd", "median", "trimmed", "mad", "min", "max", "range",
            "skew", "kurtosis", "se"]
    table = pd.DataFrame(rows).reindex(columns=cols)
    table["n_obs"] = table["n_obs"].astype(int)
    return DescribeResult(table=table, trim=trim, type=type)
