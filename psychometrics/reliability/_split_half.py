"""Split-half reliabilities equal to ``psych::splitHalf`` (psych 2.2.9)."""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ReliabilityWarning
from ..numerics.itemdata import check_choice, item_data, resolve_reverse
from ..numerics.matrix import cov2cor, first_pc_loadings, listwise, pairwise_cov, smc
from ._summary import Summary, reliability_summary

__all__ = ["split_half", "SplitHalfResult"]


@dataclass(frozen=True)
class SplitHalfResult:
    """Result of :func:`split_half`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row: ``max_split_half`` (Guttman's lambda 4, the best split),
        ``min_split_half`` (worst split, beta), ``mean_split_half``, ``alpha``,
        ``lambda2``, ``lambda6``, ``average_r``, ``median_r``, ``n_splits``
        (splits examined) and ``exhaustive`` (all splits or a random sample).
    max_split, min_split : pandas.DataFrame
        The items of each half (columns ``item``, ``half`` (1/2), ``key``).
    ci : pandas.DataFrame
        Percentile interval of the split-half values examined (``ci_lower``,
        ``median``, ``ci_upper``, ``level``).
    splits : numpy.ndarray
        Every split-half value examined, in the order examined.
    """

    table: pd.DataFrame
    max_split: pd.DataFrame
    min_split: pd.DataFrame
    ci: pd.DataFrame
    splits: np.ndarray
    keys: pd.Series
    options: dict = field(default_factory=dict)

    def __getattr__(self, name):
        table = object.__getattribute__(self, "table")
        if name in table.columns:
            return table[name].iloc[0]
        raise AttributeError(name)

    def to_frame(self) -> pd.DataFrame:
        """The split-half coefficients (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        how = "all splits" if bool(self.table["exhaustive"].iloc[0]) else "sampled splits"
        return reliability_summary(
            f"Split-half reliability ({how})",
            {"Split-half reliabilities": self.table, "Best split": self.max_split,
             "Worst split": self.min_split, "Interval": self.ci})


def _split_values(a: np.ndarray, r: np.ndarray, sumr: float) -> np.ndarray:
    """psych's split(): 4 * cov(A, B) / var(total) for each 0/1 row of ``a``."""
    b = 1.0 - a
    return 4.0 * np.einsum("ij,ij->i", a @ r, b) / sumr


def _is_correlation(data) -> bool:
    """A square DataFrame whose index equals its columns, symmetric with unit diagonal."""
    if not isinstance(data, pd.DataFrame) or data.shape[0] != data.shape[1] or data.shape[0] < 2:
        return False
    if list(data.index) != list(data.columns):
        return False
    m = data.to_numpy(dtype=float, na_value=np.nan)
    return bool(np.all(np.isfinite(m)) and np.allclose(m, m.T) and np.allclose(np.diag(m), 1.0))


def split_half(data, reverse: Iterable[str] | str | None = None, *, check_keys: bool = True,
               n_sample: int = 10000, brute: bool = False, covar: bool = False,
               missing: str = "pairwise", seed: int | np.random.Generator | None = None,
               level: float = 0.95) -> SplitHalfResult:
    """Maximum, minimum and mean split-half reliability, lambda 2 and lambda 6.

    Equal to ``psych::splitHalf(data)`` of psych 2.2.9.

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array
        Raw item responses (rows respondents, columns items), or a correlation matrix
        (a square DataFrame with the item names as index and columns), as psych accepts.
    reverse : str or sequence of str, optional
        Reverse-keyed items. If None and ``check_keys`` is True, items loading
        negatively on the first principal component are reversed (with a
        ``ReliabilityWarning``), as psych does.
    check_keys : bool
        See ``reverse``.
    n_sample : int
        psych examines every split when their number, ``choose(p, p//2) / 2``,
        is at most ``n_sample`` (so up to 16 items), otherwise ``n_sample``
        random splits.
    brute : bool
        Examine every split whatever their number.
    covar : bool
        Work with covariances instead of correlations.
    missing : {"pairwise", "listwise"}
        Missing-data handling of the covariance matrix.
    seed : int or numpy.random.Generator, optional
        Seed for the sampled splits.
    level : float
        Level of the percentile interval of the split values.

    Returns
    -------
    SplitHalfResult

    Raises
    ------
    ValueError
        Fewer than two items, unknown items in ``reverse``, bad options, two
        items never answered together.
    DataValidationError
        Non-numeric responses, items without variance or without responses.

    Warns
    -----
    ReliabilityWarning
        Items were reversed automatically (``check_keys``).

    Notes
    -----
    For a split into halves A and B with (correlation) matrix R, the
    split-half reliability is 4 * 1'R_AB 1 / 1'R1 (Guttman's lambda 4 of that
    split; Flanagan-Rulon). lambda2 = (S_off + sqrt(p/(p-1) sum_off r^2)) / 1'R1,
    lambda6 = (S_off + sum smc) / 1'R1, alpha = p/(p-1) S_off / 1'R1.

    psych enumerates the first ``choose(p, p//2) / 2`` combinations of p//2
    items in lexicographic order. For an even p these are all distinct splits;
    for an odd p they are only about half of them (and for p = 3 the mean is
    divided by 1.5 while 2 splits are examined). This function reproduces
    psych exactly, including these quirks, so that its numbers equal R's.

    In R: ``psych::splitHalf(x)``.
    """
    func = "split_half"
    check_choice(missing, "missing", func, ("pairwise", "listwise"))
    if not (0 < level < 1):
        raise ValueError(f"The 'level' parameter of split_half must be a float in (0, 1). Got {level!r} instead.")
    if not isinstance(n_sample, (int, np.integer)) or n_sample < 1:
        raise ValueError(f"The 'n_sample' parameter of split_half must be a positive integer. Got {n_sample!r} instead.")
    if _is_correlation(data):
        names = [str(c) for c in data.columns]
        n = len(names)
        r = data.to_numpy(dtype=float)
    else:
        d = item_data(data, func, empty_rows="ignore")
        x = listwise(d.x) if missing == "listwise" else d.x
        names = d.names
        n = x.shape[1]
        r, _ = pairwise_cov(x)
    if np.isnan(r).any():
        i, j = np.argwhere(np.isnan(r))[0]
        raise ValueError(f"split_half: items {names[i]!r} and {names[j]!r} are never answered by "
                         f"the same respondents; their covariance is undefined.")
    if not covar:
        r = cov2cor(r)
    if reverse is None and check_keys:
        load = first_pc_loadings(cov2cor(r))
        keys = np.where(load < 0, -1.0, 1.0)
        if (keys < 0).any():
            warnings.warn(f"split_half: item(s) {[nm for nm, k in zip(names, keys) if k < 0]} were "
                          f"negatively correlated with the total scale and were automatically "
                          f"reversed.", ReliabilityWarning, stacklevel=2)
    else:
        keys = resolve_reverse(reverse, names, func)
    r = r * keys[:, None] * keys[None, :]

    sumr = r.sum()
    off = r.copy()
    np.fill_diagonal(off, 0.0)
    sumsq_off = (off ** 2).sum()
    sum_off = sumr - np.trace(r)
    alpha_ = (sum_off / sumr) * n / (n - 1)
    s = smc(r)
    if covar:
        s = s * np.diag(r)
    lambda6 = (sum_off + s.sum()) / sumr
    lambda2 = (sum_off + np.sqrt(sumsq_off * n / (n - 1))) / sumr
    lower = r[np.tril_indices(n, -1)]
    med_r = float(np.median(lower))
    av_r = float(lower.mean())

    m = n // 2
    count = round(math.comb(n, m)) / 2
    if brute and count > 2_000_000:
        raise ValueError(f"split_half: brute=True would examine {count:,.0f} splits of {n} items; "
                         f"use the random sample (brute=False, n_sample=...) instead.")
    if brute or count <= n_sample:
        exhaustive = True
        n_eval = math.ceil(count)
        combos = itertools.islice(itertools.combinations(range(n), m), n_eval)
        a = np.zeros((n_eval, n))
        for row, comb in enumerate(combos):
            a[row, list(comb)] = 1.0
        values = _split_values(a, r, sumr)
        mean_split = values.sum() / count
    else:
        exhaustive = False
        rng = np.random.default_rng(seed)
        a = np.zeros((n_sample, n))
        chosen = np.argsort(rng.random((n_sample, n)), axis=1)[:, :m]
        np.put_along_axis(a, chosen, 1.0, axis=1)
        values = _split_values(a, r, sumr)
        mean_split = values.mean()
    imax = int(np.argmax(values))
    imin = int(np.argmin(values))

    def split_frame(row):
        return pd.DataFrame({"item": names, "half": np.where(a[row] == 1, 1, 2),
                             "key": keys.astype(int)})

    table = pd.DataFrame([{
        "max_split_half": values[imax], "min_split_half": values[imin],
        "mean_split_half": mean_split, "alpha": alpha_, "lambda2": lambda2, "lambda6": lambda6,
        "average_r": av_r, "median_r": med_r, "n_splits": values.shape[0],
        "exhaustive": exhaustive}])
    qs = np.quantile(values, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
    ci = pd.DataFrame([{"ci_lower": qs[0], "median": qs[1], "ci_upper": qs[2], "level": level}])
    return SplitHalfResult(table=table, max_split=split_frame(imax), min_split=split_frame(imin),
                           ci=ci, splits=values,
                           keys=pd.Series(keys.astype(int), index=pd.Index(names, name="item"),
                                          name="key"),
                           options=dict(check_keys=check_keys, n_sample=n_sample, brute=brute,
                                        covar=covar, missing=missing, level=level,
                                        seed=seed if not isinstance(seed, np.random.Generator) else "Generator"))
