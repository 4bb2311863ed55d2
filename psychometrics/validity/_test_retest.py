"""Test-retest reliability of a scale from two occasions: ``psych::testRetest``.

The scale-score correlation between the occasions, alpha at each, the retest correlation
of every item, each patient's profile agreement (the correlation of their item responses
at the two occasions, ``rqq``, and the mean squared difference, ``dxy``), and the
generalizability coefficients of the person x occasion x item variance components
(Shrout & Lane, 2012), as psych computes them. :func:`retest_reliability` is the
clinic's variant (adjacent assessments of patients without reliable change).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, plain
from ..results import Summary
from ._common import check_long_columns

__all__ = ["retest_analysis", "RetestAnalysisResult"]


@dataclass(frozen=True, eq=False)
class RetestAnalysisResult:
    """Result of :func:`retest_analysis`.

    Attributes
    ----------
    r12 : float
        Correlation of the scale scores (item means) at the two occasions.
    alpha : DataFrame
        One row per occasion: ``occasion, raw_alpha, std_alpha, g6, av_r, sn, q, gf1,
        gf1_off, var_r`` (psych's ``alpha`` rows; psych labels ``q``, ``gf1`` and
        ``gf1_off`` "se", "lower" and "upper", but they are alpha's Q statistic and the
        fit of the equal-correlation model, on and off the diagonal).
    items : DataFrame
        One row per item: ``item, rii`` (item retest correlation), ``pc1, pc2`` (loadings on
        the first principal component at each occasion), ``mean1, mean2``, ``key`` (+1/-1
        as scored).
    persons : DataFrame
        One row per patient: ``id, score1, score2, sd1, sd2, rqq, dxy``.
    components : DataFrame
        Person, occasion, item and interaction variance components (REML, as psych's
        ``lmer`` model) with ``variance`` and ``percent``.
    coefficients : dict
        ``R1F, RkF, R1R, RkR, Rc`` (Shrout & Lane, 2012).
    reml_criterion : float
        -2 REML log-likelihood of the variance-component model (lme4's ``REMLcrit``).
    n_obs, n_items : int
    dropped_ids : tuple
        Patients assessed at only one of the two occasions (dropped, as psych does).
    """

    r12: float
    alpha: pd.DataFrame
    items: pd.DataFrame
    persons: pd.DataFrame
    components: pd.DataFrame
    coefficients: dict
    reml_criterion: float
    n_obs: int
    n_items: int
    occasions: tuple
    dropped_ids: tuple

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"statistic": ["r12", *self.coefficients],
                             "value": [self.r12, *self.coefficients.values()]})

    def summary(self) -> Summary:
        t1, t2 = self.occasions
        return Summary(
            title="Test-retest reliability (psych::testRetest)",
            header=(f"Occasions {t1} and {t2}; {self.n_obs} patients with both, "
                    f"{len(self.dropped_ids)} with one only (dropped); {self.n_items} items.",
                    f"Scale-score correlation r12 = {self.r12:.3f}; mean profile correlation "
                    f"rqq = {np.nanmean(self.persons['rqq']):.3f}."),
            blocks=(("Coefficients", self.to_frame()), ("Alpha by occasion", self.alpha),
                    ("Items", self.items), ("Variance components", self.components)))


def _alpha_1(c: np.ndarray) -> dict:
    """psych's internal ``alpha.1`` of a covariance matrix."""
    from ..efa import smc
    n = c.shape[0]
    d = np.sqrt(np.diag(c))
    r = c / np.outer(d, d)
    sum_c, sum_r = c.sum(), r.sum()
    av_r = (sum_r - n) / (n * (n - 1))
    off = r[~np.eye(n, dtype=bool)]
    res1 = r - av_r
    gf1 = 1 - np.sum(res1 ** 2) / np.sum(r ** 2)
    rd = r - np.diag(r)[None, :]        # R - diag(R): recycles the diagonal down the columns
    np.fill_diagonal(res1, 0.0)
    gf1_off = 1 - np.sum(res1 ** 2) / np.sum(rd ** 2)
    tr = np.trace(c)
    q = (2 * n ** 2 / ((n - 1) ** 2 * sum_c ** 3)) * (
        sum_c * (np.trace(c @ c) + tr ** 2) - 2 * (tr * np.sum(c @ c)))
    return {"raw_alpha": (1 - tr / sum_c) * n / (n - 1), "std_alpha": (1 - n / sum_r) * n / (n - 1),
            "g6": 1 - (n - smc(r).sum()) / sum_r, "av_r": av_r, "sn": n * av_r / (1 - av_r),
            "q": q, "gf1": gf1, "gf1_off": gf1_off, "var_r": float(np.var(off, ddof=1))}


def _pc1(x: pd.DataFrame) -> np.ndarray:
    from ..efa import fa
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fa(x, n_factors=1, method="pc", rotation="none").loadings.to_numpy()[:, 0]


def retest_analysis(data: pd.DataFrame, items, id: str = "id", time: str = "time",  # noqa: A002
                    occasions=None, *, check_keys: bool = True) -> RetestAnalysisResult:
    """Test-retest reliability of a scale from its items at two occasions.

    Equal to ``psych::testRetest(data, keys = items, id = id, time = time)`` of psych 2.2.9
    (with ``lmer = TRUE``: the variance components by REML, equal to lme4).

    Parameters
    ----------
    data : DataFrame
        Long data: one row per patient and occasion, with the item columns.
    items : list of str
        The scale's items; ``"-x"`` reverses ``x`` (``max + min - x`` over the items'
        observed range at each occasion, as psych does).
    id, time : str
        Patient and occasion columns.
    occasions : pair, optional
        The two occasions to compare; by default the two smallest values of ``time``.
    check_keys : bool
        Reverse items that load negatively on the first principal component at the first
        occasion (psych's default), with a warning.
    """
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise DataValidationError("data= must be a non-empty DataFrame (long: one row per "
                                  "patient and occasion).")
    items = [str(v) for v in items]
    sign = np.array([-1.0 if v.startswith("-") else 1.0 for v in items])
    names = [v.lstrip("-") for v in items]
    if len(names) < 2:
        raise DataValidationError("items= needs at least two items.")
    for col in [id, time, *names]:
        if col not in data.columns:
            raise DataValidationError(f"data= has no column {col!r}.")
    check_long_columns(data, id, time, names, [])
    times = sorted(pd.unique(data[time].dropna()))
    if occasions is None:
        if len(times) < 2:
            raise DataValidationError(f"{time!r} has fewer than two distinct occasions.")
        occasions = times[:2]
    occasions = tuple(occasions)
    if len(occasions) != 2:
        raise DataValidationError(f"occasions= must be two values of {time!r}; got {occasions}.")
    absent = [t for t in occasions if t not in set(times)]
    if absent:
        raise DataValidationError(f"No rows at {time} = {absent}.")
    check_long_columns(data, id, time, [], occasions)
    sub = data[data[time].isin(occasions)]
    sub = sub.sort_values([time, id], kind="mergesort")
    x = sub[sub[time] == occasions[0]]
    y = sub[sub[time] == occasions[1]]
    both = set(x[id]) & set(y[id])
    dropped = tuple(sorted((set(x[id]) | set(y[id])) - both, key=str))
    if dropped:
        warnings.warn(f"{len(dropped)} patient(s) have only one of the two occasions and were "
                      f"dropped (as psych does): {', '.join(map(str, dropped[:10]))}"
                      f"{' ...' if len(dropped) > 10 else ''}.", DataQualityWarning, stacklevel=2)
        x, y = x[x[id].isin(both)], y[y[id].isin(both)]
    if len(x) < 3:
        raise DataValidationError(f"Only {len(x)} patient(s) have both occasions; test-retest "
                                  "needs at least three.")
    ids = x[id].to_numpy()
    X = x[names].to_numpy(dtype=float, copy=True)
    Y = y[names].to_numpy(dtype=float, copy=True)
    never = [(n, t) for M, t in ((X, occasions[0]), (Y, occasions[1]))
             for n, col in zip(names, M.T) if np.isnan(col).all()]
    if never:
        shown = "; ".join(f"{n!r} at {time} = {plain(t)!r}" for n, t in never[:6])
        raise DataValidationError(
            f"Item(s) never answered at an occasion by the {len(x)} patients seen at both: "
            f"{shown}{' ...' if len(never) > 6 else ''}. Drop those items or choose other "
            "occasions.")
    mean1, mean2 = np.nanmean(X, axis=0), np.nanmean(Y, axis=0)
    lo_x, hi_x, lo_y, hi_y = np.nanmin(X), np.nanmax(X), np.nanmin(Y), np.nanmax(Y)
    rev = sign < 0
    X[:, rev] = hi_x - X[:, rev] + lo_x
    Y[:, rev] = hi_y - Y[:, rev] + lo_y
    p1 = _pc1(pd.DataFrame(X, columns=names))
    p2 = _pc1(pd.DataFrame(Y, columns=names))
    keys = np.ones(len(names))
    if check_keys and (np.any(p1 < 0) or np.any(p2 < 0)):
        keys[p1 < 0] = -1.0
        if np.any(keys < 0):
            warnings.warn("Item(s) " + ", ".join(n for n, k in zip(names, keys) if k < 0)
                          + " correlate negatively with the first principal component and were "
                          "reversed (psych's check.keys).", DataQualityWarning, stacklevel=2)
    neg = keys < 0
    nx, ny = X.copy(), Y.copy()
    nx[:, neg] = hi_x + lo_x - X[:, neg]
    ny[:, neg] = hi_y + lo_y - Y[:, neg]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        xs, ys = np.nanmean(nx, axis=1), np.nanmean(ny, axis=1)
    ok = ~np.isnan(xs) & ~np.isnan(ys)
    r12 = float(np.corrcoef(xs[ok], ys[ok])[0, 1])
    cx = pd.DataFrame(nx).cov().to_numpy()
    cy = pd.DataFrame(ny).cov().to_numpy()
    alpha = pd.DataFrame([{"occasion": occasions[0], **_alpha_1(cx)},
                          {"occasion": occasions[1], **_alpha_1(cy)}])
    rii = np.array([pd.Series(X[:, j]).corr(pd.Series(Y[:, j])) if
                    np.nanstd(X[:, j]) > 0 and np.nanstd(Y[:, j]) > 0 else np.nan
                    for j in range(len(names))])
    # psych correlates the raw (only user-reversed) items for rii
    items_tab = pd.DataFrame({"item": names, "rii": rii, "pc1": p1, "pc2": p2, "mean1": mean1,
                              "mean2": mean2, "key": keys.astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sdx = np.nanstd(nx, axis=1, ddof=1)
        sdy = np.nanstd(ny, axis=1, ddof=1)
        dxy = np.nanmean((nx - ny) ** 2, axis=1)
    rqq = np.full(len(ids), np.nan)
    for i in range(len(ids)):
        if sdx[i] > 0 and sdy[i] > 0:
            rqq[i] = pd.Series(nx[i]).corr(pd.Series(ny[i]))
    persons = pd.DataFrame({"id": ids, "score1": xs, "score2": ys, "sd1": sdx, "sd2": sdy,
                            "rqq": rqq, "dxy": dxy})
    comps, coefs, crit = _components(nx, ny, names)
    return RetestAnalysisResult(r12=r12, alpha=alpha, items=items_tab, persons=persons,
                                components=comps, coefficients=coefs, reml_criterion=crit,
                                n_obs=len(ids),
                                n_items=len(names), occasions=occasions, dropped_ids=dropped)


def _components(nx: np.ndarray, ny: np.ndarray, names: list[str]):
    """psych's ``mlr1``: person x occasion x item variance components by REML."""
    from ..reliability import multilevel_reliability_long
    n, k = nx.shape
    long = pd.DataFrame({"id": np.tile(np.repeat(np.arange(n), k), 2),
                         "time": np.repeat([1, 2], n * k),
                         "item": np.tile(np.tile(names, n), 2),
                         "value": np.concatenate([nx.ravel(), ny.ravel()])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = multilevel_reliability_long(long, "id", "time", "item", "value", nested=False)
    c = ml.components.set_index("component")["variance"]
    s_id, s_t, s_pxt = c["id"], c["time"], c["id:time"]
    s_pxi, err = c["id:items"], c["residual"]
    nt = 2
    base = s_id + s_pxi / k
    coefs = {"R1F": base / (base + err / k),
             "RkF": base / (base + err / (nt * k)),
             "R1R": base / (base + s_t + s_pxt + err / k),
             "RkR": base / (base + s_t / nt + s_pxt / nt + err / (nt * k)),
             "Rc": s_pxt / (s_pxt + err / k)}
    comps = ml.components[["component", "variance", "percent"]].reset_index(drop=True)
    return (comps, {key: float(v) for key, v in coefs.items()},
            float(ml.crossed_fit.reml_criterion))
