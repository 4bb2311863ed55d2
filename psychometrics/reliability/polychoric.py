"""Polychoric correlations equal to ``psych::polychoric`` (psych 2.2.9), and ordinal alpha."""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..exceptions import DataValidationError, NotPositiveDefiniteWarning, DataQualityWarning
from ._brent import R_OPTIMIZE_TOL, brent_fmin
from ._bvn import RectanglePlan
from ._data import item_data
from ._stats import cor_smooth
from ._summary import Summary

__all__ = ["polychoric", "PolychoricResult", "ordinal_alpha"]

_DBL_MAX = np.finfo(float).max


@dataclass(frozen=True)
class PolychoricResult:
    """Result of :func:`polychoric`.

    Attributes
    ----------
    rho : pandas.DataFrame
        Polychoric correlation matrix (smoothed if it was not positive definite
        and ``smooth=True``).
    tau : pandas.DataFrame
        Thresholds: one row per item, columns ``"1"`` ... ``"k-1"`` (the normal
        quantiles of the cumulative response proportions).
    n_obs : int
        Number of rows of the data (psych's ``n.obs``).
    pairs : pandas.DataFrame
        One row per item pair: ``item1``, ``item2``, ``rho`` (before smoothing),
        ``objective`` (minus the log-likelihood per observation), ``n``
        (pairwise-complete rows), ``n_evaluations`` and ``corrected_cells``.
    smoothed : bool
        Whether ``cor.smooth`` changed the matrix.
    global_thresholds : bool
        Whether the item (global) thresholds were used for every pair.
    """

    rho: pd.DataFrame
    tau: pd.DataFrame
    n_obs: int
    pairs: pd.DataFrame
    smoothed: bool
    global_thresholds: bool
    correct: float
    options: dict = field(default_factory=dict)

    def summary(self) -> Summary:
        notes = []
        if self.smoothed:
            notes.append("The matrix was not positive definite and was smoothed (psych::cor.smooth).")
        if not self.global_thresholds:
            notes.append("Pairwise thresholds were used (global_thresholds=False).")
        n_fixed = int(self.pairs["corrected_cells"].sum())
        if n_fixed:
            notes.append(f"{n_fixed} empty cells were set to correct/n = {self.correct}/n.")
        return Summary(f"Polychoric correlations (n = {self.n_obs}, {self.rho.shape[0]} items)",
                       {"rho": self.rho, "tau": self.tau}, tuple(notes))


def _cell_probs(rho: np.ndarray, plan: RectanglePlan, shape: tuple[int, int],
                rc: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """psych's ``polyBinBvn``: predicted cell probabilities for a batch of pairs.

    ``rc``/``cc`` (batch x cuts) are the row/column thresholds; the interior
    (nr-1) x (nc-1) cells come from the bivariate normal, the last row and
    column from the margins, exactly as psych does.
    """
    m = rho.shape[0]
    nr, nc = shape
    inner = plan.evaluate(np.repeat(rho, (nr - 1) * (nc - 1))).reshape(m, nr - 1, nc - 1)
    p = np.empty((m, nr, nc))
    p[:, :nr - 1, :nc - 1] = inner
    prc = ndtr(rc)
    pcc = ndtr(cc)
    p[:, 0, nc - 1] = prc[:, 0] - inner[:, 0, :].sum(axis=1)
    p[:, nr - 1, 0] = pcc[:, 0] - inner[:, :, 0].sum(axis=1)
    if nr > 2:
        p[:, 1:nr - 1, nc - 1] = (prc[:, 1:] - prc[:, :-1]) - inner[:, 1:, :].sum(axis=2)
    if nc > 2:
        p[:, nr - 1, 1:nc - 1] = (pcc[:, 1:] - pcc[:, :-1]) - inner[:, :, 1:].sum(axis=1)
    p[:, nr - 1, nc - 1] = 1 - prc[:, nr - 2] - p[:, nr - 1, :nc - 1].sum(axis=1)
    return p


def _objective(p: np.ndarray, tab: np.ndarray) -> np.ndarray:
    """psych's ``polyF``: -sum(tab * log P) over cells with P > 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.log(np.where(p > 0, p, np.nan))
    lp = np.where(np.isfinite(lp), lp, np.nan)
    terms = tab * lp
    val = -np.nansum(terms.reshape(terms.shape[0], -1), axis=1)
    return np.where(np.isfinite(val), val, _DBL_MAX)


class _PairBatch:
    """Pairs sharing one table shape; the objective of any subset at given rhos."""

    def __init__(self, tabs: np.ndarray, rc: np.ndarray, cc: np.ndarray):
        self.tabs, self.rc, self.cc = tabs, rc, cc
        m, nr, nc = tabs.shape
        self.shape = (nr, nc)
        row_cuts = np.concatenate([np.full((m, 1), -np.inf), rc, np.full((m, 1), np.inf)], axis=1)
        col_cuts = np.concatenate([np.full((m, 1), -np.inf), cc, np.full((m, 1), np.inf)], axis=1)
        self.l1 = np.repeat(row_cuts[:, :nr - 1, None], nc - 1, axis=2)
        self.u1 = np.repeat(row_cuts[:, 1:nr, None], nc - 1, axis=2)
        self.l2 = np.repeat(col_cuts[:, None, :nc - 1], nr - 1, axis=1)
        self.u2 = np.repeat(col_cuts[:, None, 1:nc], nr - 1, axis=1)
        self._plans: dict[bytes, RectanglePlan] = {}

    def _plan(self, idx: np.ndarray) -> RectanglePlan:
        key = idx.tobytes()
        plan = self._plans.get(key)
        if plan is None:
            plan = RectanglePlan(self.l1[idx], self.u1[idx], self.l2[idx], self.u2[idx])
            self._plans[key] = plan
        return plan

    def __call__(self, rho: np.ndarray, idx: np.ndarray) -> np.ndarray:
        p = _cell_probs(rho, self._plan(idx), self.shape, self.rc[idx], self.cc[idx])
        return _objective(p, self.tabs[idx])


def _check_integer(x: np.ndarray, names: list[str], func: str) -> None:
    obs = ~np.isnan(x)
    frac = obs & (x != np.round(np.where(obs, x, 0)))
    if frac.any():
        bad = sorted({names[j] for j in np.nonzero(frac)[1]})
        raise DataValidationError(f"{func}: item(s) {bad} have non-integer responses; polychoric "
                                  f"correlations need ordered categories coded as integers.")


def polychoric(data, *, smooth: bool = True, global_thresholds: bool = True, correct: float = 0.5,
               max_categories: int = 8, tol: float = R_OPTIMIZE_TOL) -> PolychoricResult:
    """Polychoric correlation matrix of ordinal items, equal to ``psych::polychoric``.

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array
        Integer-coded ordinal responses (NaN = missing). Pairs use their
        pairwise-complete rows.
    smooth : bool
        Smooth a non-positive-definite matrix with ``psych::cor.smooth``.
    global_thresholds : bool
        Use each item's thresholds (from all its responses) for every pair
        (psych's ``global = TRUE``, default). If False, each pair gets thresholds
        from its own two-way table, with empty cells set to ``correct / n``.
        psych switches to False (with a warning) when items have different
        numbers of categories; so does this function.
    correct : float
        Continuity correction for empty cells (only used with pairwise
        thresholds, as in psych).
    max_categories : int
        More categories than this raise an error (psych's ``max.cat``).
    tol : float
        Tolerance of the one-dimensional minimisation; R's ``optimize`` default.

    Returns
    -------
    PolychoricResult
        ``.rho`` (DataFrame), ``.tau`` (thresholds), ``.n_obs``, ``.pairs``.

    Raises
    ------
    DataValidationError
        Non-integer responses, too many categories, items without variance.

    Warns
    -----
    NotPositiveDefiniteWarning
        The matrix was not positive definite (and was smoothed if ``smooth``).
    DataQualityWarning
        Items have different numbers of categories (pairwise thresholds used),
        or empty cells were corrected.

    Notes
    -----
    Responses are shifted so that the smallest response over all items is 1.
    Thresholds: tau_ik = Phi^-1(proportion of item i's responses <= k). For
    each pair, rho minimises -sum_ab p_ab log P_ab(rho, tau), where p_ab are
    the observed cell proportions and P_ab the bivariate-normal cell
    probabilities (Genz's algorithm, as in mnormt), with R's ``optimize`` on
    (-1, 1) step for step, so the numbers equal psych's (which stop about 1e-4
    from the exact maximum-likelihood value, as R's tolerance implies). All
    pairs are optimised simultaneously.

    In R: ``psych::polychoric(x)$rho``, ``$tau``.
    """
    func = "polychoric"
    d = item_data(data, func, min_items=2, empty_rows="ignore")
    x = d.x
    names = d.names
    _check_integer(x, names, func)
    n_sub = x.shape[0]
    xmin_all = np.nanmin(x)
    nvalues = int(np.nanmax(x) - xmin_all + 1)
    if nvalues > max_categories:
        raise DataValidationError(
            f"{func}: the items have {nvalues} categories (from {xmin_all:g} to {np.nanmax(x):g}), "
            f"more than max_categories={max_categories}; polychoric correlations are probably not "
            f"needed (use Pearson correlations) or raise max_categories.")
    xs = x - xmin_all + 1
    xmax_i = np.nanmax(xs, axis=0)
    global_ = bool(global_thresholds)
    if xmax_i.min() != xmax_i.max():
        if global_:
            warnings.warn(f"{func}: the items do not have an equal number of response alternatives "
                          f"(largest responses {dict(zip(names, (xmax_i + xmin_all - 1).tolist()))}); "
                          f"pairwise thresholds are used (global_thresholds=False).",
                          DataQualityWarning, stacklevel=2)
        global_ = False
    xmax = int(xmax_i.max())
    p = x.shape[1]
    obs = ~np.isnan(xs)
    xi = np.where(obs, xs, 0).astype(int)            # 0 = missing, 1..xmax categories
    counts = np.stack([(xi == k).sum(axis=0) for k in range(1, nvalues + 1)], axis=0)
    n_item = counts.sum(axis=0)
    freq = counts / n_item
    with np.errstate(divide="ignore"):
        tau = ndtri(np.cumsum(freq, axis=0)[:nvalues - 1, :])   # (nvalues-1) x p
    tau_df = pd.DataFrame(tau.T, index=pd.Index(names, name="item"),
                          columns=[str(k) for k in range(1, nvalues)])

    # two-way tables of every pair (row variable = the later item, as psych)
    il, jl = [], []
    for i in range(1, p):
        for j in range(i):
            il.append(i); jl.append(j)
    il = np.array(il); jl = np.array(jl)
    onehot = np.stack([(xi == k) for k in range(1, xmax + 1)], axis=2).astype(float)  # n x p x K
    flat = onehot.reshape(n_sub, p * xmax)
    cross = (flat.T @ flat).reshape(p, xmax, p, xmax)
    tabs = cross[il, :, jl, :]                       # pairs x K x K, rows item i, cols item j
    tot = tabs.sum(axis=(1, 2))
    n_pairs = il.shape[0]
    rho = np.full(n_pairs, np.nan)
    objective = np.full(n_pairs, np.nan)
    n_eval = np.zeros(n_pairs, dtype=int)
    fixed = np.zeros(n_pairs, dtype=int)
    has = tot > 0
    if global_:
        idx = np.nonzero(has)[0]
        if idx.size:
            batch = _PairBatch(tabs[idx] / tot[idx, None, None], tau[:, il[idx]].T, tau[:, jl[idx]].T)
            x_opt, f_opt, ne = brent_fmin(batch, np.full(idx.size, -1.0), np.full(idx.size, 1.0), tol)
            rho[idx] = x_opt
            objective[idx] = batch(x_opt, np.arange(idx.size))
            n_eval[idx] = ne + 1
    else:
        for k in np.nonzero(has)[0]:
            tab = tabs[k] / tot[k]
            tab = tab[~(tab == 0).all(axis=1)][:, ~(tab == 0).all(axis=0)]
            if correct > 0 and (tab == 0).any():
                fixed[k] = 1
                tab = np.where(tab == 0, correct / tot[k], tab)
            if min(tab.shape) < 2:
                continue
            rc = ndtri(np.cumsum(tab.sum(axis=1))[:-1])
            cc = ndtri(np.cumsum(tab.sum(axis=0))[:-1])
            batch = _PairBatch(tab[None], rc[None], cc[None])
            x_opt, f_opt, ne = brent_fmin(batch, np.array([-1.0]), np.array([1.0]), tol)
            rho[k] = x_opt[0]
            objective[k] = batch(x_opt, np.array([0]))[0]
            n_eval[k] = ne[0] + 1
        if fixed.sum() > 0 and correct > 0:
            warnings.warn(f"{func}: {int(fixed.sum())} cells were adjusted for 0 values using the "
                          f"correction for continuity (correct={correct}). Examine your data "
                          f"carefully.", DataQualityWarning, stacklevel=2)
    mat = np.eye(p)
    mat[il, jl] = rho
    mat[jl, il] = rho
    pairs = pd.DataFrame({"item1": [names[i] for i in il], "item2": [names[j] for j in jl],
                          "rho": rho, "objective": objective, "n": tot.astype(int),
                          "n_evaluations": n_eval, "corrected_cells": fixed})
    smoothed = False
    if np.isnan(mat).any():
        bad = pairs.loc[pairs["rho"].isna(), ["item1", "item2"]].values.tolist()
        warnings.warn(f"{func}: some correlations could not be estimated (no data or a single "
                      f"category for pairs {bad}); smoothing turned off.", DataQualityWarning,
                      stacklevel=2)
    elif smooth:
        mat, smoothed = cor_smooth(mat)
        if smoothed:
            warnings.warn(f"{func}: the polychoric matrix was not positive definite; it was "
                          f"smoothed (psych::cor.smooth).", NotPositiveDefiniteWarning, stacklevel=2)
    else:
        if np.linalg.eigvalsh(mat).min() < np.finfo(float).eps:
            warnings.warn(f"{func}: the polychoric matrix is not positive definite (smooth=False).",
                          NotPositiveDefiniteWarning, stacklevel=2)
    rho_df = pd.DataFrame(mat, index=pd.Index(names, name="item"), columns=names)
    return PolychoricResult(rho=rho_df, tau=tau_df, n_obs=n_sub, pairs=pairs, smoothed=smoothed,
                            global_thresholds=global_, correct=correct,
                            options=dict(smooth=smooth, global_thresholds=global_thresholds,
                                         correct=correct, max_categories=max_categories, tol=tol))


def ordinal_alpha(data, reverse: Iterable[str] | str | None = None, **polychoric_options):
    """Ordinal alpha: :func:`alpha_from_matrix` of the polychoric correlations.

    Equal to ``psych::alpha(psych::polychoric(x)$rho, keys = reverse)``
    (Zumbo, Gadermann & Zeisser 2007). The polychoric matrix is computed on
    the unreversed items; reversing flips signs in the matrix. Returns the
    :class:`AlphaResult` (without standard errors, as in psych, since the
    matrix is given without ``n.obs``); the polychoric result is in
    ``result.options["polychoric"]``.
    """
    from .alpha import alpha_from_matrix

    pc = polychoric(data, **polychoric_options)
    res = alpha_from_matrix(pc.rho, reverse=reverse)
    res.options["polychoric"] = pc
    return res
