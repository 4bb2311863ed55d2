"""Scale scores with their reliabilities from a key list: ``psych::scoreItems``.

The bank-driven scorer (:func:`psychometrics.score`) applies an instrument's own rules
(prorating, rounding, reverse keys from the bank). This function is psych's key-list
scorer for ad hoc scales, with psych's statistics beside the scores: alpha, average
inter-item r, Guttman's lambda 6, signal/noise, item-scale and item-corrected
correlations, and the scale intercorrelations corrected for attenuation.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ReliabilityWarning
from ..results import Summary
from ._common import numeric_frame
from ._overlap import _keys_matrix

__all__ = ["score_items", "ScoreItemsResult"]

_IMPUTE = ("median", "mean", "none")


@dataclass(frozen=True, eq=False)
class ScoreItemsResult:
    """Scores and scale statistics of :func:`score_items`.

    Attributes
    ----------
    scores : DataFrame
        One column per scale, one row per input row (same index). With ``impute="none"``
        a row without any answered item of a scale has NaN there.
    scales : DataFrame
        One row per scale: ``scale, n_items, alpha, av_r, med_r, g6, sn, ase``, and with
        ``impute="none"`` also ``alpha_ob`` and ``n_items_answered`` (psych's
        ``alpha.ob``, ``num.ob.item``: alpha at the average number of items answered).
    cor : DataFrame
        Correlations of the scale scores.
    corrected : DataFrame
        Lower triangle ``cor``, diagonal alpha, upper triangle disattenuated.
    item_cor : DataFrame
        Correlation of each item with each scale score (items x scales).
    item_corrected : DataFrame
        Item-scale correlations with each item's variance replaced by its SMC
        (psych's ``item.corrected``).
    mims : DataFrame
        Mean item-by-item correlations within (diagonal: ``av_r``) and between scales.
    missing : DataFrame
        Count of missing items per row and scale.
    impute, totals : str, bool
        The options used.
    """

    scores: pd.DataFrame
    scales: pd.DataFrame
    cor: pd.DataFrame
    corrected: pd.DataFrame
    item_cor: pd.DataFrame
    item_corrected: pd.DataFrame
    mims: pd.DataFrame
    missing: pd.DataFrame
    impute: str
    totals: bool

    def to_frame(self) -> pd.DataFrame:
        return self.scales.copy()

    def summary(self) -> Summary:
        kind = "sums" if self.totals else "means"
        how = {"median": "missing responses replaced by the item median",
               "mean": "missing responses replaced by the item mean",
               "none": "each row scored over its answered items"}[self.impute]
        return Summary(
            title="Scale scores (psych::scoreItems)",
            header=(f"Item {kind}; {how}; {len(self.scores)} rows.",),
            blocks=(("Scales", self.scales),
                    ("Scale correlations (upper: disattenuated; diagonal: alpha)",
                     self.corrected.reset_index(names="scale"))))


def _smc_cov(c: np.ndarray) -> np.ndarray:
    """``psych::smc(C, covar = TRUE)``: SMCs of the correlations, times the variances."""
    from ..efa import smc
    d = np.sqrt(np.diag(c))
    return smc(c / np.outer(d, d)) * np.diag(c)


def score_items(keys: dict, data, *, impute: str = "median", totals: bool = False,
                min: float | None = None, max: float | None = None,  # noqa: A002
                delete: bool = True) -> ScoreItemsResult:
    """Score scales from a key list, with psych's reliability statistics.

    Equal to ``psych::scoreItems(keys, items, totals=, impute=, min=, max=)`` of psych
    2.2.9 on raw data.

    Parameters
    ----------
    keys : dict
        ``{scale: [items]}``; an item written ``"-A1"`` is reverse keyed (scored
        ``max + min - x``).
    data : DataFrame
        Raw item responses; columns not named in ``keys`` are ignored.
    impute : {"median", "mean", "none"}, default "median"
        psych's default replaces each missing response by the item's median; ``"none"``
        scores every row over the items it answered (a row with none answered is NaN).
    totals : bool
        Sums instead of means.
    min, max : float, optional
        The response range used to reverse items; by default the smallest and largest
        response over all scored items, as psych does. Give them when a response
        category was never used.
    delete : bool
        Drop items without variance (with a warning), as psych does.
    """
    if impute not in _IMPUTE:
        raise DataValidationError(f"impute={impute!r} is not one of {', '.join(map(repr, _IMPUTE))}.")
    if not isinstance(keys, dict) or not keys:
        raise DataValidationError("keys= must be a dict {scale: [items]} with at least one scale.")
    for name, lst in keys.items():
        if isinstance(lst, str) or not list(lst):
            raise DataValidationError(f"keys[{name!r}] must be a non-empty list of item names.")
        bare = [str(it).lstrip("-") for it in lst]
        twice = [it for it in dict.fromkeys(bare) if bare.count(it) > 1]
        if twice:
            raise DataValidationError(
                f"keys[{name!r}] lists item(s) {', '.join(map(repr, twice))} more than once "
                "(psych::scoreItems would count them twice); list each item once per scale.")
    data = numeric_frame(data, func="score_items")
    if data.shape[0] < 2:
        raise DataValidationError(f"data= has {data.shape[0]} row(s); scoring statistics need "
                                  "at least two.")
    items = list(dict.fromkeys(it.lstrip("-") for lst in keys.values() for it in lst))
    absent = [v for v in items if v not in data.columns]
    if absent:
        raise DataValidationError(f"keys= names item(s) not in data=: {', '.join(absent)}.")
    x = data[items].to_numpy(dtype=float)
    n_obs = (~np.isnan(x)).sum(axis=0)
    if np.any(n_obs == 0):
        none = [items[i] for i in np.flatnonzero(n_obs == 0)]
        raise DataValidationError(
            f"Item(s) {', '.join(map(repr, none))} have no observed response in any of the "
            f"{x.shape[0]} rows; remove them from keys= or check the data.")
    K = _keys_matrix(keys, items)
    names = [str(k) for k in keys]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # one response: sd NaN, dropped below
        sd = np.nanstd(x, axis=0, ddof=1) if x.shape[0] > 1 else np.zeros(x.shape[1])
    bad = np.flatnonzero(~(sd > 0))
    if bad.size and delete:
        for b in bad:
            warnings.warn(f"Item {items[b]!r} has no variance and was dropped from the data and "
                          "the keys (psych::scoreItems does the same).", ReliabilityWarning,
                          stacklevel=2)
        keep = np.setdiff1d(np.arange(len(items)), bad)
        x, K, items = x[:, keep], K[keep], [items[i] for i in keep]
    n_items = np.abs(K).sum(axis=0)
    if np.any(n_items == 0):
        empty = [names[j] for j in np.flatnonzero(n_items == 0)]
        raise DataValidationError(f"Scale(s) {', '.join(empty)} have no item with variance left.")
    lo = np.nanmin(x) if min is None else float(min)
    hi = np.nanmax(x) if max is None else float(max)
    miss = np.isnan(x)
    miss_rep = miss.astype(float) @ np.abs(K)
    n_rows = x.shape[0]
    absK = np.abs(K)

    if impute != "none":
        fill = np.nanmedian(x, axis=0) if impute == "median" else np.nanmean(x, axis=0)
        x = np.where(miss, fill[None, :], x)
        raw_scores = x @ K
        C = np.cov(x, rowvar=False)
        cov_scales = np.atleast_2d(np.cov(raw_scores, rowvar=False))
        correction = ((absK - K).sum(axis=0) / 2) * (hi + lo)
        scores = raw_scores + correction[None, :]
        if not totals:
            scores = scores / n_items[None, :]
        n_ob = n_items.astype(float)
    else:
        scores = np.full((n_rows, K.shape[1]), np.nan)
        n_ob = n_items.astype(float)
        flipped = np.where(K[None, :, :] < 0, hi + lo - x[:, :, None], x[:, :, None])
        for j in range(K.shape[1]):
            cols = np.flatnonzero(K[:, j] != 0)
            sub = flipped[:, cols, j]
            rs = np.sum(~np.isnan(sub), axis=1)
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                scores[:, j] = np.nansum(sub, axis=1) if totals else np.nanmean(sub, axis=1)
            n_ob[j] = rs[rs > 0].mean() if np.any(rs > 0) else np.nan
        C = pd.DataFrame(x).cov().to_numpy()
        cov_scales = K.T @ C @ K

    item_var = np.diag(C).copy()
    var_scales = np.diag(cov_scales)
    sum_item_var = item_var @ absK
    sum_item_var2 = (item_var ** 2) @ absK
    cov_scales2 = np.diag(absK.T @ (C ** 2) @ absK)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (var_scales - sum_item_var) * n_items / ((n_items - 1) * var_scales)
        av_r = alpha / (n_items - alpha * (n_items - 1))
        alpha_ob = av_r * n_ob / (1 + (n_ob - 1) * av_r)
        Q = (2 * n_items ** 2 / ((n_items - 1) ** 2 * var_scales ** 3)) * (
            var_scales * (sum_item_var2 + sum_item_var ** 2) - 2 * sum_item_var * cov_scales2)
        ase = np.sqrt(Q / n_rows)
        sn = av_r * n_items / (1 - av_r)
    alpha = np.where(np.isnan(alpha), 1.0, alpha)

    d = np.sqrt(np.diag(C))
    item_r = C / np.outer(d, d)
    med_r = np.empty(K.shape[1])
    for j in range(K.shape[1]):
        sel = np.flatnonzero(K[:, j] != 0)
        sgn = K[sel, j]
        small = item_r[np.ix_(sel, sel)] * np.outer(sgn, sgn)
        low = small[np.tril_indices(len(sel), -1)]
        med_r[j] = np.nanmedian(low) if low.size else np.nan

    if impute != "none":
        sc = raw_scores
        xc = x - x.mean(axis=0)
        scc = sc - sc.mean(axis=0)
        item_cor = (xc.T @ scc) / np.outer(np.sqrt((xc ** 2).sum(0)), np.sqrt((scc ** 2).sum(0)))
    else:
        item_cor = (C @ K) / np.outer(np.sqrt(item_var), np.sqrt(var_scales))

    Cs = C.copy()
    smc = _smc_cov(C)
    np.fill_diagonal(Cs, smc)
    sum_smc = smc @ absK
    with np.errstate(divide="ignore", invalid="ignore"):
        g6 = (var_scales - sum_item_var + sum_smc) / var_scales
    corrected_cov = K.T @ Cs @ K
    with np.errstate(invalid="ignore", divide="ignore"):   # NaN where psych has NaN
        item_rc = (Cs @ K) / np.outer(np.sqrt(item_var), np.sqrt(np.diag(corrected_cov)))
    key_var = np.diag(K.T @ K)
    mims = corrected_cov / np.outer(key_var, key_var)
    np.fill_diagonal(mims, av_r)

    sd_s = np.sqrt(var_scales)
    cor = cov_scales / np.outer(sd_s, sd_s)
    corrected = cor.copy()
    np.fill_diagonal(corrected, alpha)
    iu = np.triu_indices(len(names), 1)
    neg = [names[j] for j in np.flatnonzero(alpha < 0)]
    if neg and len(names) > 1:
        warnings.warn(f"Scale(s) {', '.join(map(repr, neg))} have negative alpha (items "
                      "correlate negatively: check the reverse keys); their disattenuated "
                      "correlations are NaN (psych gives NaN too).", ReliabilityWarning,
                      stacklevel=2)
    with np.errstate(invalid="ignore"):
        corrected[iu] = cor[iu] / np.sqrt(alpha[iu[0]] * alpha[iu[1]])

    scale_tab = pd.DataFrame({"scale": names, "n_items": n_items.astype(int), "alpha": alpha,
                              "av_r": av_r, "med_r": med_r, "g6": g6, "sn": sn, "ase": ase})
    if impute == "none":
        scale_tab["alpha_ob"] = alpha_ob
        scale_tab["n_items_answered"] = n_ob
    sq = lambda m: pd.DataFrame(m, index=names, columns=names)  # noqa: E731
    by_item = lambda m: pd.DataFrame(m, index=items, columns=names)  # noqa: E731
    return ScoreItemsResult(
        scores=pd.DataFrame(scores, index=data.index, columns=names), scales=scale_tab,
        cor=sq(cor), corrected=sq(corrected), item_cor=by_item(item_cor),
        item_corrected=by_item(item_rc), mims=sq(mims),
        missing=pd.DataFrame(miss_rep.astype(int), index=data.index, columns=names),
        impute=impute, totals=bool(totals))
