"""Polychoric correlations equal to ``psych::polychoric`` (psych 2.2.9), and ordinal alpha."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..exceptions import (DataQualityWarning, DataValidationError, EstimationError,
                          NotPositiveDefiniteWarning)
from ..results import Summary
from .brent import R_OPTIMIZE_TOL, brent_fmin
from .bvn import RectanglePlan
from .itemdata import item_data
from .matrix import cor_smooth

__all__ = ["polychoric", "PolychoricResult", "polychoric_pair"]

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
        (pairwise-complete rows), ``n_evaluations``, ``corrected_cells`` and
        ``zero_probability_cells`` (cells with observations but model probability 0 at
        ``rho``: then ``rho`` is not a maximum-likelihood estimate, and a
        DataQualityWarning names the pair).
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

    def to_frame(self) -> pd.DataFrame:
        """One row per item pair (``pairs``)."""
        return self.pairs.copy()

    def summary(self) -> Summary:
        notes = []
        if self.smoothed:
            notes.append("The matrix was not positive definite and was smoothed (psych::cor.smooth).")
        if not self.global_thresholds:
            notes.append("Pairwise thresholds were used (global_thresholds=False).")
        n_fixed = int(self.pairs["corrected_cells"].sum())
        if n_fixed:
            notes.append(f"{n_fixed} empty cells were set to correct/n = {self.correct}/n.")
        return Summary(
            f"Polychoric correlations (n = {self.n_obs}, {self.rho.shape[0]} items)",
            blocks=(("rho", self.rho), ("tau", self.tau)),
            footer=tuple(f"Note: {n}" for n in notes), digits=3)


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


def _zero_prob_cells(batch: "_PairBatch", rho: np.ndarray) -> np.ndarray:
    """Per pair: number of cells with observations whose model probability is <= 0 at
    ``rho`` (psych's ``polyF`` leaves them out, so the objective there is not the
    likelihood; found by the issue-19 audit)."""
    idx = np.arange(len(rho))
    p = _cell_probs(np.asarray(rho, float), batch._plan(idx), batch.shape, batch.rc, batch.cc)
    return ((p <= 0) & (batch.tabs > 0)).reshape(len(rho), -1).sum(axis=1)


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
    # one bincount for all pairs: code = pair * (K+1)^2 + x_i * (K+1) + x_j (0 = missing)
    k1 = xmax + 1
    codes = (np.arange(il.shape[0]) * k1 * k1)[None, :] + xi[:, il] * k1 + xi[:, jl]
    full = np.bincount(codes.ravel(), minlength=il.shape[0] * k1 * k1).reshape(-1, k1, k1)
    tabs = full[:, 1:, 1:].astype(float)             # pairs x K x K, rows item i, cols item j
    tot = tabs.sum(axis=(1, 2))
    n_pairs = il.shape[0]
    rho = np.full(n_pairs, np.nan)
    objective = np.full(n_pairs, np.nan)
    n_eval = np.zeros(n_pairs, dtype=int)
    fixed = np.zeros(n_pairs, dtype=int)
    zero_cells = np.zeros(n_pairs, dtype=int)
    has = tot > 0
    if global_:
        idx = np.nonzero(has)[0]
        if idx.size:
            batch = _PairBatch(tabs[idx] / tot[idx, None, None], tau[:, il[idx]].T, tau[:, jl[idx]].T)
            x_opt, f_opt, ne = brent_fmin(batch, np.full(idx.size, -1.0), np.full(idx.size, 1.0), tol)
            rho[idx] = x_opt
            objective[idx] = batch(x_opt, np.arange(idx.size))
            n_eval[idx] = ne + 1
            zero_cells[idx] = _zero_prob_cells(batch, x_opt)
    else:
        groups: dict[tuple[int, int], list] = {}
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
            groups.setdefault(tab.shape, []).append((k, tab, rc, cc))
        # pairs whose tables have the same shape are optimised together
        for members in groups.values():
            ks = np.array([m[0] for m in members])
            batch = _PairBatch(np.stack([m[1] for m in members]), np.stack([m[2] for m in members]),
                               np.stack([m[3] for m in members]))
            lo = np.full(ks.size, -1.0)
            x_opt, f_opt, ne = brent_fmin(batch, lo, -lo, tol)
            rho[ks] = x_opt
            objective[ks] = batch(x_opt, np.arange(ks.size))
            n_eval[ks] = ne + 1
            zero_cells[ks] = _zero_prob_cells(batch, x_opt)
        if fixed.sum() > 0 and correct > 0:
            warnings.warn(f"{func}: {int(fixed.sum())} cells were adjusted for 0 values using the "
                          f"correction for continuity (correct={correct}). Examine your data "
                          f"carefully.", DataQualityWarning, stacklevel=2)
    mat = np.eye(p)
    mat[il, jl] = rho
    mat[jl, il] = rho
    pairs = pd.DataFrame({"item1": [names[i] for i in il], "item2": [names[j] for j in jl],
                          "rho": rho, "objective": objective, "n": tot.astype(int),
                          "n_evaluations": n_eval, "corrected_cells": fixed,
                          "zero_probability_cells": zero_cells})
    if zero_cells.any():
        bad = pairs.loc[zero_cells > 0, ["item1", "item2"]].values.tolist()
        warnings.warn(f"{func}: at the estimated rho of pair(s) {bad}, cells with observations have "
                      f"model probability 0; psych's objective drops such cells, so rho there is "
                      f"not a maximum-likelihood estimate (psych::polychoric stops with 'Something "
                      f"is wrong in polycor' on such tables). Merge sparse categories.",
                      DataQualityWarning, stacklevel=2)
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


def _pair_table(x, y):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("polychoric_pair: x and y must be 1-D and of equal length.")
    ok = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        raise DataValidationError("polychoric_pair: x and y have no complete pair.")
    xv, xi = np.unique(x, return_inverse=True)
    yv, yi = np.unique(y, return_inverse=True)
    tab = np.zeros((xv.size, yv.size))
    np.add.at(tab, (xi, yi), 1.0)
    return tab


def polychoric_pair(x, y, *, method: str = "two_step", maxcor: float = 0.9999) -> float:
    """Polychoric correlation of two ordinal variables, as ``polycor::polychor``.

    Parameters
    ----------
    x, y : array_like
        Ordinal codes (any sortable numbers; NaN = missing, pairs with a
        missing value are dropped).
    method : {"two_step", "ml"}
        ``"two_step"``: thresholds from the margins of the pair's table, then
        rho by R's ``optimise`` on (-maxcor, maxcor), step for step as
        ``polycor::polychor(x, y)`` (polycor 0.8.1). ``"ml"``: rho and both
        sets of thresholds by maximum likelihood (``polychor(x, y, ML = TRUE)``;
        polycor uses Nelder-Mead with optim's defaults, which stops up to ~1%
        short of the maximum on bfi items; we use BFGS from the two-step
        solution, converged, so the two agree only to about 1e-2).
    maxcor : float
        Bound of |rho|.

    Notes
    -----
    Unlike :func:`polychoric` (psych), empty rows/columns of the table are
    dropped, no continuity correction is made and thresholds are pairwise.
    """
    from scipy.optimize import minimize

    if method not in ("two_step", "ml"):
        raise ValueError(f"The 'method' parameter of polychoric_pair must be 'two_step' or 'ml'. "
                         f"Got {method!r} instead.")
    tab = _pair_table(x, y)
    r, c = tab.shape
    if r < 2 or c < 2:
        raise DataValidationError("polychoric_pair: the table of x and y has fewer than 2 rows or "
                                  "columns (a variable is constant).")
    n = tab.sum()
    rc = ndtri(np.cumsum(tab.sum(axis=1)) / n)[:-1]
    cc = ndtri(np.cumsum(tab.sum(axis=0)) / n)[:-1]

    def cells(rc_, cc_):
        rcut = np.r_[-np.inf, rc_, np.inf]
        ccut = np.r_[-np.inf, cc_, np.inf]
        l1, l2 = np.meshgrid(rcut[:-1], ccut[:-1], indexing="ij")
        u1, u2 = np.meshgrid(rcut[1:], ccut[1:], indexing="ij")
        return RectanglePlan(l1, u1, l2, u2)

    plan = cells(rc, cc)

    def f(rho, _idx=None):
        rho = np.atleast_1d(rho)
        out = np.empty(rho.shape[0])
        for i, rr in enumerate(rho):
            rr = np.sign(rr) * maxcor if abs(rr) > maxcor else rr
            p = plan.evaluate(rr)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = -np.sum(tab.ravel() * np.log(p))
            out[i] = v if np.isfinite(v) else _DBL_MAX
        return out

    rho, _, _ = brent_fmin(f, np.array([-maxcor]), np.array([maxcor]))
    rho = float(rho[0])
    if method == "two_step":
        return rho

    def negll(par):
        rr = float(np.clip(par[0], -maxcor, maxcor))
        rc_, cc_ = par[1:r], par[r:]
        if np.any(np.diff(rc_) < 0) or np.any(np.diff(cc_) < 0):
            return 1e300
        p = cells(rc_, cc_).evaluate(rr)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = -np.sum(tab.ravel() * np.log(p))
        return v if np.isfinite(v) else 1e300

    start = np.r_[rho, rc, cc]
    res = minimize(negll, start, method="BFGS", options=dict(gtol=1e-8, maxiter=2000))
    if not np.isfinite(res.fun) or res.fun > negll(start):
        raise EstimationError("polychoric_pair: maximum-likelihood estimation failed "
                              f"({res.message}).")
    return float(np.clip(res.x[0], -maxcor, maxcor))
