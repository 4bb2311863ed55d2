"""Coefficient alpha and item analysis, equal to ``psych::alpha`` (psych 2.2.9)."""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ReliabilityWarning
from ..numerics.itemdata import check_choice, item_data, resolve_reverse
from ..numerics.matrix import (cov2cor, first_pc_loadings, pairwise_cor_with, pairwise_cov, pc1_from_eig,
                     smc, smc_with_drops)
from ._summary import Summary, reliability_summary

__all__ = ["alpha", "alpha_from_matrix", "AlphaResult"]

_TOTAL_COLS = ["raw_alpha", "std_alpha", "g6_smc", "average_r", "signal_to_noise", "ase",
               "mean", "sd", "median_r"]
_DROP_COLS = ["raw_alpha", "std_alpha", "g6_smc", "average_r", "signal_to_noise", "alpha_se",
              "var_r", "med_r"]


# --------------------------------------------------------------------------- core
def _alpha_core(c: np.ndarray, r: np.ndarray, smc_values: np.ndarray | None = None) -> dict:
    """psych's internal ``alpha.1``: every alpha-type statistic of one item set."""
    n = c.shape[0]
    if smc_values is None:
        smc_values = smc(r)
    sum_c = c.sum()
    tr_c = np.trace(c)
    raw = (1.0 - tr_c / sum_c) * (n / (n - 1))
    sum_r = r.sum()
    std = (1.0 - n / sum_r) * (n / (n - 1))
    g6 = 1.0 - (n - smc_values.sum()) / sum_r
    av_r = (sum_r - n) / (n * (n - 1))
    lower = r[np.tril_indices(n, -1)]
    var_r = np.var(lower, ddof=1) if lower.size > 1 else np.nan
    med_r = float(np.median(lower))
    res1 = r - av_r
    gf1 = 1.0 - (res1 ** 2).sum() / (r ** 2).sum()
    rd = r - np.diag(r)[:, None]
    np.fill_diagonal(res1, 0.0)
    gf1_off = 1.0 - (res1 ** 2).sum() / (rd ** 2).sum()
    sn = n * av_r / (1.0 - av_r)
    cc = c @ c
    q = (2 * n ** 2 / ((n - 1) ** 2 * sum_c ** 3)) * (
        sum_c * (np.trace(cc) + tr_c ** 2) - 2 * (tr_c * cc.sum()))
    return dict(raw=raw, std=std, g6=g6, av_r=av_r, sn=sn, q=q, gf1=gf1, gf1_off=gf1_off,
                var_r=var_r, med_r=med_r)


def _drop_table(c: np.ndarray, r: np.ndarray, n_for_se: float | None,
                smc_drop: np.ndarray | None = None) -> np.ndarray:
    p = c.shape[0]
    if p > 3:
        if smc_drop is None:   # R near singular: psych's Pinv of each submatrix
            smc_drop = np.full((p, p), np.nan)
            for i in range(p):
                keep = np.r_[0:i, i + 1:p]
                smc_drop[i, keep] = smc(r[np.ix_(keep, keep)])
        return _drop_table_fast(c, r, n_for_se, smc_drop)
    rows = []
    if p > 2:
        for i in range(p):
            keep = np.r_[0:i, i + 1:p]
            s = _alpha_core(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)],
                            None if smc_drop is None else smc_drop[i, keep])
            se = np.sqrt(s["q"] / n_for_se) if n_for_se is not None else np.nan
            rows.append([s["raw"], s["std"], s["g6"], s["av_r"], s["sn"], se, s["var_r"], s["med_r"]])
    else:
        # psych's special case for two items: the "scale" left is a single item
        sm = smc(r)[0]
        r12 = r[0, 1]
        rows.append([c[0, 1] / c[1, 1], r12, sm, r12, r12 / (1 - r12), np.nan, 0.0, r12])
        rows.append([c[0, 1] / c[0, 0], r12, sm, r12, r12 / (1 - r12), np.nan, 0.0, r12])
    return np.array(rows, dtype=float)


def _drop_table_fast(c: np.ndarray, r: np.ndarray, n_for_se: float | None,
                     smc_drop: np.ndarray) -> np.ndarray:
    """:func:`_drop_table` for p > 3 items in O(p^2 log p) instead of O(p^4).

    Each statistic of the scale without item i follows from sums over the full
    matrices minus item i's row and column (``_alpha_core`` on each submatrix
    gives the same numbers to rounding; tests check this).
    """
    p = c.shape[0]
    m = p - 1
    dc = np.diag(c)
    rs_c = c.sum(axis=0)
    sum_c = rs_c.sum() - 2.0 * rs_c + dc
    tr_c = np.trace(c) - dc
    raw = (1.0 - tr_c / sum_c) * (m / (m - 1))
    dr = np.diag(r)
    rs_r = r.sum(axis=0)
    sum_r = rs_r.sum() - 2.0 * rs_r + dr
    std = (1.0 - m / sum_r) * (m / (m - 1))
    g6 = 1.0 - (m - np.nansum(smc_drop, axis=1)) / sum_r
    av_r = (sum_r - m) / (m * (m - 1))
    sn = m * av_r / (1.0 - av_r)
    # q of alpha's standard error: tr(C_-i^2) and 1' C_-i^2 1
    c2 = c ** 2
    tr_cc = c2.sum() - 2.0 * c2.sum(axis=0) + dc ** 2
    mk = rs_c[:, None] - c                            # mk[k, i] = sum_j c_kj - c_ki
    cc_sum = (mk ** 2).sum(axis=0) - (rs_c - dc) ** 2
    q = (2 * m ** 2 / ((m - 1) ** 2 * sum_c ** 3)) * (
        sum_c * (tr_cc + tr_c ** 2) - 2 * (tr_c * cc_sum))
    se = np.sqrt(q / n_for_se) if n_for_se is not None else np.full(p, np.nan)
    # variance and median of the correlations below the diagonal, without item i
    lo = np.tril_indices(p, -1)
    low = r[lo]
    mu = low.mean()
    off = r - mu
    np.fill_diagonal(off, 0.0)
    s1 = (low - mu).sum() - off.sum(axis=0)
    s2 = ((low - mu) ** 2).sum() - (off ** 2).sum(axis=0)
    cnt = low.size - m
    var_r = (s2 - s1 ** 2 / cnt) / (cnt - 1) if cnt > 1 else np.full(p, np.nan)
    med_r = _median_without(low, lo, p)
    return np.column_stack([raw, std, g6, av_r, sn, se, var_r, med_r])


def _median_without(low: np.ndarray, lo: tuple, p: int) -> np.ndarray:
    """Median of the below-diagonal values without those of row/column i, for each i."""
    order = np.argsort(low, kind="stable")
    sorted_vals = low[order]
    rank = np.empty(low.size, dtype=np.intp)
    rank[order] = np.arange(low.size)
    # sorted positions of the values in row/column i
    owner_pos = [[] for _ in range(p)]
    for pos, a, b in zip(rank.tolist(), lo[0].tolist(), lo[1].tolist()):
        owner_pos[a].append(pos)
        owner_pos[b].append(pos)
    n_left = low.size - (p - 1)
    k1, k2 = (n_left - 1) // 2, n_left // 2          # 0-based ranks of the middle values
    out = np.empty(p)
    for i in range(p):
        removed = np.zeros(low.size, dtype=bool)
        removed[owner_pos[i]] = True
        # the wanted ranks lie within the first k2 + p positions
        window = ~removed[:k2 + p]
        pos = np.flatnonzero(window)
        out[i] = 0.5 * (sorted_vals[pos[k1]] + sorted_vals[pos[k2]])
    return out


def _response_frequencies(x: np.ndarray, names: list[str], max_categories: int = 10
                          ) -> pd.DataFrame | None:
    """``psych::response.frequencies(x, max = 10)``: proportions of each response."""
    obs = ~np.isnan(x)
    lo = np.where(obs, x, np.inf).min(axis=0)
    hi = np.where(obs, x, -np.inf).max(axis=0)
    select = (hi - lo) < (max_categories + 1)
    xs = x[:, select]
    if xs.shape[1] == 0:
        return None
    values = np.unique(xs[obs[:, select]])
    first = xs[:, 0]
    if values.size > max_categories or np.unique(first[~np.isnan(first)]).size > max_categories:
        return None
    n_cases = xs.shape[0]
    counts = (xs[:, :, None] == values[None, None, :]).sum(axis=0).astype(float)
    responses = counts.sum(axis=1)
    table = np.column_stack([counts / responses[:, None], 1.0 - responses / n_cases])
    cols = [str(int(v)) if float(v).is_integer() else str(v) for v in values] + ["miss"]
    return pd.DataFrame(table, index=pd.Index([n for n, s in zip(names, select) if s], name="item"),
                        columns=pd.Index(cols, dtype=object))


def _feldt(alpha_value: float, n_obs: float, n_var: int, level: float) -> tuple[float, float, float]:
    """``psych::alpha.ci``: Feldt's F-based interval and the implied average r."""
    # the F quantile by scipy.special.fdtri (= stats.f.ppf; scipy.stats costs 0.5 s to import)
    from scipy.special import fdtri
    p = 1.0 - level
    df1 = n_obs - 1
    df2 = (n_obs - 1) * (n_var - 1)
    upper = 1 - (1 - alpha_value) * fdtri(df1, df2, p / 2)
    lower = 1 - (1 - alpha_value) * fdtri(df1, df2, 1 - p / 2)
    r_bar = alpha_value / (n_var - alpha_value * (n_var - 1))
    return lower, upper, r_bar


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class AlphaResult:
    """Result of :func:`alpha` (one scale).

    Attributes
    ----------
    total : pandas.DataFrame
        One row (index ``"total"``): ``raw_alpha`` (alpha from covariances),
        ``std_alpha`` (from correlations), ``g6_smc`` (Guttman's lambda 6),
        ``average_r``, ``signal_to_noise``, ``ase`` (asymptotic standard error of
        alpha), ``mean`` and ``sd`` of the scale score, ``median_r``.
    alpha_drop : pandas.DataFrame
        One row per item: the statistics of the scale without that item
        (``raw_alpha``, ``std_alpha``, ``g6_smc``, ``average_r``,
        ``signal_to_noise``, ``alpha_se``, ``var_r``, ``med_r``).
    item_stats : pandas.DataFrame
        One row per item: ``key`` (+1/-1), ``n``, ``raw_r`` (item-total r),
        ``std_r`` (standardised item-total r), ``r_cor`` (corrected for item
        overlap and unreliability), ``r_drop`` (item-rest r), ``mean``, ``sd``
        (of the keyed item). For a matrix input only ``key``, ``std_r``,
        ``r_cor`` and ``r_drop`` are defined.
    response_freq : pandas.DataFrame or None
        Proportion of each response per (unreversed) item and ``miss``, the
        proportion missing; None when items have more than 10 categories.
    confidence_intervals : pandas.DataFrame
        Rows ``feldt`` and (if ``n_iter > 1``) ``bootstrap``; columns ``ci_lower``,
        ``est``, ``ci_upper``, ``level`` (the confidence level).
    keys : pandas.Series
        +1 / -1 per item (-1 = reverse keyed).
    scores : pandas.Series or None
        Scale score per respondent (mean, or sum with ``cumulative=True``, of
        the keyed items over the answered ones).
    boot : numpy.ndarray or None
        Bootstrapped raw alphas.
    """

    total: pd.DataFrame
    alpha_drop: pd.DataFrame
    item_stats: pd.DataFrame
    response_freq: pd.DataFrame | None
    confidence_intervals: pd.DataFrame
    keys: pd.Series
    scores: pd.Series | None
    boot: np.ndarray | None
    n_obs: int | None
    n_items: int
    missing: str
    unidim: float
    fit_off: float
    var_r: float
    feldt_r_bar: float
    negative_average_covariance: bool
    negatively_correlated_items: tuple[str, ...]
    dropped_rows: tuple = ()
    options: dict = field(default_factory=dict)
    #: How ``alpha_drop["g6_smc"]`` was computed: "exact" (psych's smcs of every
    #: submatrix, by closed forms or decomposition) or "approximate" (more than 150
    #: items, singular R with eigenvalues at the pseudo-inverse tolerance: the rank-k
    #: pseudo-inverse of the full matrix; ``g6_drop_note`` says so).
    g6_drop_method: str = "exact"
    g6_drop_note: str = ""

    # convenient scalars --------------------------------------------------------
    @property
    def raw_alpha(self) -> float:
        return float(self.total["raw_alpha"].iloc[0])

    @property
    def std_alpha(self) -> float:
        return float(self.total["std_alpha"].iloc[0])

    @property
    def g6(self) -> float:
        return float(self.total["g6_smc"].iloc[0])

    @property
    def average_r(self) -> float:
        return float(self.total["average_r"].iloc[0])

    @property
    def reversed_items(self) -> tuple[str, ...]:
        return tuple(self.keys.index[self.keys < 0])

    def to_frame(self) -> pd.DataFrame:
        """The reliability row (``total``)."""
        return self.total.copy()

    def summary(self) -> Summary:
        notes = []
        if self.reversed_items:
            notes.append(f"Reverse-keyed items: {', '.join(self.reversed_items)}.")
        if self.negative_average_covariance:
            notes.append("The average inter-item covariance is negative: alpha is not meaningful.")
        if self.negatively_correlated_items:
            notes.append("Items correlating negatively with the scale (check their keying): "
                         + ", ".join(self.negatively_correlated_items) + ".")
        if self.dropped_rows:
            notes.append(f"{len(self.dropped_rows)} completely empty row(s) were dropped.")
        if self.g6_drop_note:
            notes.append(self.g6_drop_note)
        if self.scores is not None and self.scores.isna().any() and not self.dropped_rows:
            notes.append(f"{int(self.scores.isna().sum())} row(s) answered no item (score missing) "
                         f"but are counted in n, as psych does.")
        tables = {"Reliability": self.total, "Confidence intervals": self.confidence_intervals,
                  "Reliability if an item is dropped": self.alpha_drop,
                  "Item statistics": self.item_stats}
        if self.response_freq is not None:
            tables["Response frequencies"] = self.response_freq
        n = f"n = {self.n_obs}, " if self.n_obs is not None else ""
        return reliability_summary(
            f"Coefficient alpha ({n}{self.n_items} items, missing = {self.missing})",
            tables, tuple(notes))


# --------------------------------------------------------------------------- checks
def _check_scale(c: np.ndarray, r: np.ndarray, names: list[str], func: str,
                 load: np.ndarray | None = None) -> tuple[bool, tuple[str, ...]]:
    p = c.shape[0]
    off = c[~np.eye(p, dtype=bool)]
    negative = bool(off.mean() < 0)
    if negative:
        warnings.warn(f"{func}: the average covariance among the (keyed) items "
                      f"{names} is negative ({off.mean():.4g}); alpha is then meaningless and may "
                      f"be negative. Check the keying (reverse=) of the items.",
                      ReliabilityWarning, stacklevel=3)
    if load is None:
        load = first_pc_loadings(r)
    neg = tuple(n for n, l in zip(names, load) if l < 0)
    if neg and not negative:
        warnings.warn(f"{func}: item(s) {list(neg)} correlate negatively with the total scale "
                      f"and probably should be reversed (pass them in reverse=, or use "
                      f"check_keys=True).", ReliabilityWarning, stacklevel=3)
    return negative, neg


def _keys_series(keys: np.ndarray, names: list[str]) -> pd.Series:
    return pd.Series(keys.astype(int), index=pd.Index(names, name="item"), name="key")


# --------------------------------------------------------------------------- public
def alpha(data, reverse: Iterable[str] | str | None = None, *, check_keys: bool = False,
          missing: str = "pairwise", cumulative: bool = False, n_iter: int = 1,
          seed: int | np.random.Generator | None = None, level: float = 0.95,
          response_range: tuple[float, float] | None = None,
          max_categories: int = 10, empty_rows: str = "keep",
          g6_drop: str = "auto") -> AlphaResult:
    """Cronbach's alpha, Guttman's lambda 6 and item analysis of one scale.

    Equal to ``psych::alpha(data, keys = reverse)`` of psych 2.2.9 (with the
    default ``use = "pairwise"``, here ``missing="pairwise"``).

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array
        Raw item responses (rows respondents, columns items); NaN = missing.
    reverse : str or sequence of str, optional
        Names of reverse-keyed items (a leading ``-`` is accepted, as in
        psych's keys). A reversed response is ``min + max - x``.
    check_keys : bool
        If True, reverse every item that loads negatively on the first
        principal component of the unkeyed items (psych's ``check.keys``);
        ``reverse`` must then be None.
    missing : {"pairwise", "listwise"}
        Pairwise-complete covariances (psych's default) or only complete rows.
    cumulative : bool
        Scale score as the sum instead of the mean of the answered items.
    n_iter : int
        Bootstrap resamples for a percentile interval of raw alpha (1 = none).
    seed : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    level : float
        Confidence level of the Feldt and bootstrap intervals.
    response_range : (min, max), optional
        Response-scale limits used for reverse keying. Default: the smallest and
        largest response observed over all items (what psych does).
    max_categories : int
        Response frequencies are tabulated for items with at most this many
        categories (psych's ``max``).
    empty_rows : {"keep", "drop"}
        Rows in which every item is missing are counted in n (psych's
        behaviour, which enters the standard error, the Feldt interval and the
        ``miss`` proportions) or dropped. Either way a ``DataQualityWarning``
        names them.
    g6_drop : {"auto", "exact"}, default "auto"
        How the "if item dropped" lambda 6 (``alpha_drop["g6_smc"]``) is computed.
        Both equal psych's per-submatrix smcs except in one case: more than 150
        items and a singular correlation matrix (fewer cases than items) with
        eigenvalues at psych's pseudo-inverse tolerance. There ``"auto"`` uses the
        rank-k pseudo-inverse of the full matrix (seconds), says so in
        ``result.g6_drop_method == "approximate"``, ``result.g6_drop_note``, the
        summary and a ``ReliabilityWarning``; ``"exact"`` decomposes every
        submatrix as psych does (minutes for thousands of items).

    Returns
    -------
    AlphaResult

    Raises
    ------
    ValueError
        Fewer than two items, an unknown item in ``reverse``, bad options.
    DataValidationError
        Non-numeric or infinite responses, an item without variance or without
        any response.

    Warns
    -----
    ReliabilityWarning
        The average inter-item covariance is negative (alpha meaningless), or an
        item correlates negatively with the total scale.
    DataQualityWarning
        Rows with every item missing (named in the message).

    Notes
    -----
    With C the (keyed) item covariance matrix, R = cov2cor(C) and p items:

    * raw alpha = p/(p-1) (1 - tr C / 1'C1); standardised alpha uses R.
    * G6(smc) = 1 - sum(1 - smc_i) / 1'R1, smc_i = 1 - 1/(R^-1)_ii.
    * average_r = mean off-diagonal r; S/N = p r / (1 - r).
    * ase = sqrt(Q / n) (Duhachek & Iacobucci 2004, as corrected in psych).
    * Feldt interval: 1 - (1 - alpha) F_{1-a/2 | a/2}(n - 1, (n - 1)(p - 1)).
    * ``r_cor`` replaces the diagonal of R by the smcs; ``r_drop`` is the
      correlation of the item with the sum of the other items.

    psych reverses items as ``max + min - x`` with min and max over all items;
    ``response_range`` overrides that (use the instrument's response scale when
    an extreme category is never used). In R:
    ``psych::alpha(x, keys = c("A1"))``.

    References
    ----------
    Cronbach (1951); Guttman (1945); Feldt, Woodruff & Salih (1987);
    Duhachek & Iacobucci (2004); Revelle, psych::alpha.
    """
    func = "alpha"
    check_choice(missing, "missing", func, ("pairwise", "listwise"))
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"The 'n_iter' parameter of alpha must be an integer >= 1. Got {n_iter!r} instead.")
    if not (0 < level < 1):
        raise ValueError(f"The 'level' parameter of alpha must be a float in (0, 1). Got {level!r} instead.")
    if check_keys and reverse is not None:
        raise ValueError("alpha: give either reverse= or check_keys=True, not both.")
    check_choice(empty_rows, "empty_rows", func, ("keep", "drop"))
    check_choice(g6_drop, "g6_drop", func, ("auto", "exact"))
    d = item_data(data, func, empty_rows=empty_rows)
    x = d.x
    names = d.names
    index = d.index
    if missing == "listwise":
        keep = ~np.isnan(x).any(axis=1)
        x = x[keep]
        index = index[keep]
        if x.shape[0] < 2:
            raise ValueError("alpha: fewer than two complete rows remain with missing='listwise'.")
    n_sub = x.shape[0]
    p = x.shape[1]
    response_freq = _response_frequencies(x, names, max_categories)
    c_raw, _ = pairwise_cov(x)
    if np.isnan(c_raw).any():
        i, j = np.argwhere(np.isnan(c_raw))[0]
        raise ValueError(f"alpha: items {names[i]!r} and {names[j]!r} are never answered by the "
                         f"same respondents (fewer than two); their covariance is undefined.")
    if check_keys:
        load = first_pc_loadings(cov2cor(c_raw))
        keys = np.where(load < 0, -1.0, 1.0)
        if (keys < 0).any():
            warnings.warn("alpha: item(s) " + str([n for n, k in zip(names, keys) if k < 0])
                          + " correlated negatively with the total scale and were automatically "
                            "reversed (check_keys=True).", ReliabilityWarning, stacklevel=2)
    else:
        keys = resolve_reverse(reverse, names, func)
    c = c_raw * keys[:, None] * keys[None, :]
    r = cov2cor(c)
    eig = np.linalg.eigh(r)           # one decomposition: first component and all smcs
    g6_notes: list[str] = []
    smcs = smc_with_drops(r, eig, exact=g6_drop == "exact", report=g6_notes)
    smc_full, smc_drop = smcs if smcs is not None else (smc(r), None)
    negative, neg_items = _check_scale(c, r, names, func, pc1_from_eig(*eig))

    # reverse-key the raw responses
    xk = x.copy()
    if (keys < 0).any():
        if response_range is None:
            lo, hi = np.nanmin(x), np.nanmax(x)
        else:
            lo, hi = map(float, response_range)
            if lo >= hi:
                raise ValueError(f"The 'response_range' parameter of alpha must be (min, max) with "
                                 f"min < max. Got {response_range!r} instead.")
            outside = (x < lo) | (x > hi)
            if outside.any():
                bad = sorted({names[j] for j in np.nonzero(outside)[1]})
                raise ValueError(f"alpha: item(s) {bad} have responses outside response_range="
                                 f"{response_range!r}.")
        flip = keys < 0
        xk[:, flip] = (hi + lo) - x[:, flip]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.nansum(xk, axis=1) if cumulative else np.nanmean(xk, axis=1)
    answered = ~np.isnan(xk).all(axis=1)
    total = np.where(answered, total, np.nan)
    mean_t = float(np.nanmean(total))
    sd_t = float(np.nanstd(total, ddof=1))
    raw_r = pairwise_cor_with(total, xk)

    s = _alpha_core(c, r, smc_full)
    ase = np.sqrt(s["q"] / n_sub)
    n_for_se = n_sub if n_sub > p else None
    drop = _drop_table(c, r, n_for_se, smc_drop)
    if n_for_se is None:
        drop[:, 5] = np.nan

    # item statistics
    sum_r = r.sum()
    std_r = r.sum(axis=0) / np.sqrt(sum_r)
    rc = r.copy()
    np.fill_diagonal(rc, smc_full)
    with np.errstate(invalid="ignore"):   # NaN only when the covariances are negative (warned)
        r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
        # item-rest r: covariance with the sum of the other items over the product of SDs;
        # the rest's variance is the full sum minus item i's row and column
        rs_c = c.sum(axis=0)
        dc = np.diag(c)
        r_drop = (rs_c - dc) / np.sqrt(dc * (rs_c.sum() - 2.0 * rs_c + dc))
    n_valid = (~np.isnan(xk)).sum(axis=0)
    item_means = np.nanmean(xk, axis=0)
    item_sd = np.nanstd(xk, axis=0, ddof=1)

    idx = pd.Index(names, name="item")
    total_df = pd.DataFrame([[s["raw"], s["std"], s["g6"], s["av_r"], s["sn"], ase, mean_t, sd_t,
                              s["med_r"]]], columns=_TOTAL_COLS, index=pd.Index(["total"]))
    drop_df = pd.DataFrame(drop, columns=_DROP_COLS, index=idx)
    item_df = pd.DataFrame({"key": keys.astype(int), "n": n_valid, "raw_r": raw_r, "std_r": std_r,
                            "r_cor": r_cor, "r_drop": r_drop, "mean": item_means, "sd": item_sd},
                           index=idx)
    lower, upper, r_bar = _feldt(s["raw"], n_sub, p, level)
    ci_rows = [["feldt", lower, s["raw"], upper, level]]
    boot = None
    if n_iter > 1:
        boot = _bootstrap(xk, n_iter, seed)
        q = np.quantile(boot, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
        ci_rows.append(["bootstrap", q[0], q[1], q[2], level])
    ci = pd.DataFrame([row[1:] for row in ci_rows], columns=["ci_lower", "est", "ci_upper", "level"],
                      index=pd.Index([row[0] for row in ci_rows], name="method"))
    scores = pd.Series(total, index=index, name="score")
    return AlphaResult(
        total=total_df, alpha_drop=drop_df, item_stats=item_df, response_freq=response_freq,
        confidence_intervals=ci, keys=_keys_series(keys, names), scores=scores, boot=boot,
        n_obs=n_sub, n_items=p, missing=missing, unidim=float(s["gf1"]), fit_off=float(s["gf1_off"]),
        var_r=float(s["var_r"]), feldt_r_bar=float(r_bar), negative_average_covariance=negative,
        negatively_correlated_items=neg_items, dropped_rows=d.dropped_rows,
        options=dict(reverse=None if reverse is None else list(np.atleast_1d(reverse)),
                     check_keys=check_keys, missing=missing, cumulative=cumulative, n_iter=n_iter,
                     seed=seed if not isinstance(seed, np.random.Generator) else "Generator",
                     level=level, response_range=response_range, empty_rows=empty_rows,
                     g6_drop=g6_drop),
        g6_drop_method="approximate" if g6_notes else "exact",
        g6_drop_note=g6_notes[0] if g6_notes else "")


def _bootstrap(xk: np.ndarray, n_iter: int, seed) -> np.ndarray:
    """Raw alpha of ``n_iter`` row resamples (pairwise covariances, as psych)."""
    rng = np.random.default_rng(seed)
    n = xk.shape[0]
    p = xk.shape[1]
    out = np.empty(n_iter)
    for b in range(n_iter):
        xb = xk[rng.integers(0, n, n)]
        cb, _ = pairwise_cov(xb)
        out[b] = (1.0 - np.trace(cb) / cb.sum()) * (p / (p - 1))
    return out


def alpha_from_matrix(matrix, reverse: Iterable[str] | str | None = None, *,
                      n_obs: int | None = None, level: float = 0.95,
                      g6_drop: str = "auto") -> AlphaResult:
    """Alpha from a covariance or correlation matrix (e.g. polychoric: ordinal alpha).

    Equal to ``psych::alpha(matrix, keys = reverse, n.obs = n_obs)``. Without
    ``n_obs`` there is no standard error and no Feldt interval (NaN), as in
    psych. Reverse keying flips the signs of the item's row and column.

    Parameters
    ----------
    matrix : pandas.DataFrame or 2-D array
        Symmetric covariance or correlation matrix with item names.
    reverse : str or sequence of str, optional
        Reverse-keyed items.
    n_obs : int, optional
        Number of observations behind the matrix.
    level : float
        Level of the Feldt interval (needs ``n_obs``).
    g6_drop : {"auto", "exact"}, default "auto"
        How the "if item dropped" lambda 6 (``alpha_drop["g6_smc"]``) is computed.
        Both equal psych's per-submatrix smcs except in one case: more than 150
        items and a singular correlation matrix (fewer cases than items) with
        eigenvalues at psych's pseudo-inverse tolerance. There ``"auto"`` uses the
        rank-k pseudo-inverse of the full matrix (seconds), says so in
        ``result.g6_drop_method == "approximate"``, ``result.g6_drop_note``, the
        summary and a ``ReliabilityWarning``; ``"exact"`` decomposes every
        submatrix as psych does (minutes for thousands of items).

    Returns
    -------
    AlphaResult
        ``item_stats`` has only ``key``, ``std_r``, ``r_cor`` and ``r_drop``
        (the others need raw data); ``scores`` and ``response_freq`` are None.

    Raises
    ------
    ValueError
        Not a square symmetric matrix, fewer than two items, a non-positive
        variance, an unknown item in ``reverse``.

    Warns
    -----
    ReliabilityWarning
        Negative average covariance, or items loading negatively on the first
        principal component.

    Notes
    -----
    The formulas are those of :func:`alpha`; with a correlation matrix raw
    and standardised alpha coincide. psych computes the Feldt interval of a
    matrix input with n = the number of rows of the matrix (the number of
    items), which is meaningless; here it uses ``n_obs`` (NaN without it). In R:
    ``psych::alpha(R, keys = c("A1"), n.obs = n)``.
    """
    func = "alpha_from_matrix"
    check_choice(g6_drop, "g6_drop", func, ("auto", "exact"))
    if isinstance(matrix, pd.DataFrame):
        names = [str(cn) for cn in matrix.columns]
        c = matrix.to_numpy(dtype=float)
    else:
        c = np.asarray(matrix, dtype=float)
        if c.ndim != 2:
            raise ValueError(f"matrix= of {func} must be 2-D.")
        names = [f"V{i + 1}" for i in range(c.shape[1])]
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"matrix= of {func} must be square; got shape {c.shape}.")
    if c.shape[0] < 2:
        raise ValueError(f"{func} needs at least 2 items; matrix= has {c.shape[0]}.")
    if not np.allclose(c, c.T, rtol=0, atol=1e-12) or np.isnan(c).any():
        raise ValueError(f"matrix= of {func} must be symmetric without missing values.")
    if (np.diag(c) <= 0).any():
        bad = [n for n, v in zip(names, np.diag(c)) if v <= 0]
        raise ValueError(f"matrix= of {func}: item(s) {bad} have a non-positive variance.")
    keys = resolve_reverse(reverse, names, func)
    c = c * keys[:, None] * keys[None, :]
    r = cov2cor(c)
    eig = np.linalg.eigh(r)           # one decomposition: first component and all smcs
    g6_notes: list[str] = []
    smcs = smc_with_drops(r, eig, exact=g6_drop == "exact", report=g6_notes)
    smc_full, smc_drop = smcs if smcs is not None else (smc(r), None)
    negative, neg_items = _check_scale(c, r, names, func, pc1_from_eig(*eig))
    p = c.shape[0]
    s = _alpha_core(c, r, smc_full)
    n_for_se = n_obs if (n_obs is not None and max(p, n_obs) > p) else None
    drop = _drop_table(c, r, n_for_se, smc_drop)
    ase = np.sqrt(s["q"] / n_obs) if n_obs is not None else np.nan
    std_r = r.sum(axis=0) / np.sqrt(r.sum())
    rc = r.copy()
    np.fill_diagonal(rc, smc_full)
    r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    rs_c = c.sum(axis=0)
    dc = np.diag(c)
    r_drop = (rs_c - dc) / np.sqrt(dc * (rs_c.sum() - 2.0 * rs_c + dc))
    idx = pd.Index(names, name="item")
    total_df = pd.DataFrame([[s["raw"], s["std"], s["g6"], s["av_r"], s["sn"], ase, np.nan, np.nan,
                              s["med_r"]]], columns=_TOTAL_COLS, index=pd.Index(["total"]))
    item_df = pd.DataFrame({"key": keys.astype(int), "n": np.nan, "raw_r": np.nan, "std_r": std_r,
                            "r_cor": r_cor, "r_drop": r_drop, "mean": np.nan, "sd": np.nan},
                           index=idx)
    if n_obs is not None:
        lower, upper, r_bar = _feldt(s["raw"], n_obs, p, level)
    else:
        lower = upper = np.nan
        r_bar = s["raw"] / (p - s["raw"] * (p - 1))
    ci = pd.DataFrame([[lower, s["raw"], upper, level]], columns=["ci_lower", "est", "ci_upper", "level"],
                      index=pd.Index(["feldt"], name="method"))
    return AlphaResult(
        total=total_df, alpha_drop=pd.DataFrame(drop, columns=_DROP_COLS, index=idx),
        item_stats=item_df, response_freq=None, confidence_intervals=ci,
        keys=_keys_series(keys, names), scores=None, boot=None, n_obs=n_obs, n_items=p,
        missing="matrix", unidim=float(s["gf1"]), fit_off=float(s["gf1_off"]), var_r=float(s["var_r"]),
        feldt_r_bar=float(r_bar), negative_average_covariance=negative,
        negatively_correlated_items=neg_items,
        options=dict(reverse=None if reverse is None else list(np.atleast_1d(reverse)), n_obs=n_obs,
                     level=level, g6_drop=g6_drop),
        g6_drop_method="approximate" if g6_notes else "exact",
        g6_drop_note=g6_notes[0] if g6_notes else "")
