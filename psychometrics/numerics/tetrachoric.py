"""Tetrachoric correlations of dichotomous items, equal to ``psych::tetrachoric``."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..exceptions import DataQualityWarning, DataValidationError
from .brent import R_OPTIMIZE_TOL, brent_fmin
from .itemdata import item_data
from .matrix import cor_smooth
from .polychoric import PolychoricResult, _PairBatch

__all__ = ["tetrachoric"]


def tetrachoric(data, *, correct: float = 0.5, smooth: bool = True) -> PolychoricResult:
    """Tetrachoric correlation matrix of dichotomous (0/1) items.

    Equal to ``psych::tetrachoric(x, correct = 0.5, smooth = TRUE)``: thresholds from each
    item's proportion of 1s (``tau = -qnorm(mean)``), each pair's 2x2 table on its
    pairwise-complete rows with an empty cell replaced by ``correct`` (psych's continuity
    correction; a warning names the pairs), rho maximising the bivariate-normal likelihood
    by R's ``optimize`` on (-1, 1), step for step.

    Without empty cells the result equals :func:`polychoric` of the same items.

    Raises
    ------
    DataValidationError
        An item with more than two values, or one that never varies.
    """
    func = "tetrachoric"
    d = item_data(data, func, min_items=2, empty_rows="ignore")
    x, names = d.x, d.names
    x = x - np.nanmin(x, axis=0)
    bad = [n for n, m in zip(names, np.nanmax(x, axis=0)) if m != 1]
    if bad:
        raise DataValidationError(
            f"{func}: item(s) {', '.join(map(str, bad))} are not dichotomous (two values, e.g. "
            "0/1, and both observed); use polychoric() for ordinal items.")
    nonint = [n for n, col in zip(names, x.T) if np.any((col != 0) & (col != 1) & ~np.isnan(col))]
    if nonint:
        raise DataValidationError(f"{func}: item(s) {', '.join(map(str, nonint))} have values other "
                                  "than the item's two categories.")
    mean = np.nanmean(x, axis=0)
    tau = -ndtri(mean)
    p = x.shape[1]
    il, jl = np.tril_indices(p, -1)
    order = np.lexsort((jl, il))              # psych: i = 2..p, j = 1..i-1
    il, jl = il[order], jl[order]
    obs = ~np.isnan(x)
    xi = np.where(obs, x, -1).astype(int)
    tabs = np.zeros((il.size, 2, 2))
    for a in (0, 1):
        for b in (0, 1):
            tabs[:, a, b] = ((xi[:, il] == a) & (xi[:, jl] == b)).sum(axis=0)
    n_pair = tabs.sum(axis=(1, 2))
    if (n_pair <= 2).any():
        k = int(np.argmax(n_pair <= 2))
        raise DataValidationError(f"{func}: items {names[il[k]]!r} and {names[jl[k]]!r} are both "
                                  f"answered in only {int(n_pair[k])} rows.")
    empty = (tabs == 0).any(axis=(1, 2)) & (correct > 0)
    tabs = np.where((tabs == 0) & (correct > 0), correct, tabs)
    if empty.any():
        pairs = [f"{names[il[k]]}-{names[jl[k]]}" for k in np.nonzero(empty)[0]]
        warnings.warn(f"{func}: an empty cell was replaced with correct = {correct} for the "
                      f"pair(s) {', '.join(pairs)} (psych's continuity correction); check these "
                      "items.", DataQualityWarning, stacklevel=2)
    batch = _PairBatch(tabs, tau[il][:, None], tau[jl][:, None])
    lo = np.full(il.size, -1.0)
    rho, _, ne = brent_fmin(batch, lo, -lo, R_OPTIMIZE_TOL)
    objective = batch(rho, np.arange(il.size))
    mat = np.eye(p)
    mat[il, jl] = rho
    mat[jl, il] = rho
    smoothed = False
    if smooth:
        mat, smoothed = cor_smooth(mat)
    pairs = pd.DataFrame({"item1": [names[i] for i in il], "item2": [names[j] for j in jl],
                          "rho": rho, "objective": objective, "n": n_pair.astype(int),
                          "n_evaluations": ne + 1, "corrected_cells": empty.astype(int)})
    idx = pd.Index(names, name="item")
    return PolychoricResult(rho=pd.DataFrame(mat, index=idx, columns=names),
                            tau=pd.DataFrame({"1": tau}, index=idx), n_obs=int(x.shape[0]),
                            pairs=pairs, smoothed=bool(smoothed), global_thresholds=True,
                            correct=correct, options={"func": func, "smooth": smooth})
