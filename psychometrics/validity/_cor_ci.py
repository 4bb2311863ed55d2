"""Bootstrapped confidence intervals of correlations: ``psych::cor.ci`` (``corCi``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._blas import single_blas_thread
from ..exceptions import DataValidationError
from ..results import Summary
from ._common import numeric_frame
from ._overlap import _keys_matrix

__all__ = ["cor_ci", "CorCiResult"]

_METHODS = ("pearson", "spearman", "kendall")


@dataclass(frozen=True, eq=False)
class CorCiResult:
    """Correlations with bootstrapped (or, for a correlation matrix, normal-theory)
    confidence intervals, as ``psych::cor.ci``.

    Attributes
    ----------
    rho : DataFrame
        The correlations of the data (items, or the scales formed by ``keys``, corrected
        for shared items with ``overlap=True``): psych's ``rho``.
    table : DataFrame
        One row per pair, in psych's order (``var1`` before ``var2`` in column order):
        ``var1, var2, r`` and, from the bootstrap, ``boot_mean`` (psych's ``means``: tanh of
        the mean Fisher z of the replicates), ``boot_sd`` (psych's ``sds``: tanh of the
        standard deviation of those z), ``ci_lower, ci_upper`` (``tanh(mean z -/+ q sds)``,
        psych's ``lower``/``upper``), ``empirical_ci_lower, empirical_ci_upper`` (quantiles
        of the replicates, psych's ``low.e``/``up.e``), ``z`` (``|boot_mean| / boot_sd``,
        psych's ``tci``) and ``p_value`` (``2 (1 - Phi(z))``). For a correlation matrix
        (no bootstrap) only ``var1, var2, r, ci_lower, ci_upper`` (psych's ``cor.Ci``:
        ``tanh(atanh(r) -/+ q / sqrt(n - 3))``).
    replicates : DataFrame or None
        One row per bootstrap sample, one column per pair (``"var1-var2"``): psych's
        ``replicates``.
    n_iter, level, method, overlap, seed, n_obs : the options used and the rows (or the
        ``n_obs`` given with a correlation matrix).
    """

    rho: pd.DataFrame
    table: pd.DataFrame
    replicates: pd.DataFrame | None
    n_iter: int
    level: float
    method: str
    overlap: bool
    seed: int | None
    n_obs: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        if self.replicates is None:
            how = (f"normal theory from the correlation matrix, n = {self.n_obs} "
                   "(psych::cor.ci on a correlation matrix)")
        else:
            how = (f"{self.n_iter} bootstrap samples of {self.n_obs} rows (seed {self.seed}); "
                   "ci_*: normal interval of the Fisher z of the replicates, empirical_ci_*: "
                   "their quantiles (psych::cor.ci)")
        return Summary(title=f"Correlations with {self.level:.0%} confidence intervals",
                       header=(how,),
                       blocks=(("Correlations", self.rho.reset_index(names="variable")),
                               ("Pairs", self.table)))


def _fisherz(r):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((1 + r) / (1 - r))        # psych::fisherz


def _fisherz2r(z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(2 * z)
        return (e - 1) / (1 + e)                       # psych::fisherz2r


def _is_correlation(x: pd.DataFrame) -> bool:
    """psych's ``isCorrelation``: square, symmetric, unit diagonal."""
    a = x.to_numpy()
    return (a.shape[0] == a.shape[1] and not np.isnan(a).any()
            and np.allclose(a, a.T) and np.allclose(np.diag(a), 1.0))


def _cov2cor(c: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diag(c))
    out = c * np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return out


def _overlap_adjust(cov: np.ndarray, K: np.ndarray) -> np.ndarray:
    """psych's ``overlap = TRUE`` correction of keyed scale covariances ``K' R K``: a
    shared item's contribution ``k_i k_j`` becomes ``k_i k_j sqrt(av_r_i av_r_j)``."""
    key_var = np.diag(K.T @ K)
    av_r = (np.diag(cov) - key_var) / (key_var * (key_var - 1))
    shared = K.T @ K
    adj = cov - shared + shared * np.sqrt(np.outer(av_r, av_r))
    np.fill_diagonal(adj, np.diag(cov))
    return adj


def _scales(R: np.ndarray, K: np.ndarray | None, overlap: bool) -> np.ndarray:
    if K is None:
        return _cov2cor(R)
    cov = K.T @ R @ K
    if overlap:
        cov = _overlap_adjust(cov, K)
    return _cov2cor(cov)


class _PairwisePearson:
    """Pairwise-complete Pearson correlations of row-weighted data (a bootstrap sample is
    the data with each row weighted by how often it was drawn), as R's
    ``cor(x, use = "pairwise")`` of the resampled rows."""

    def __init__(self, x: np.ndarray):
        mask = ~np.isnan(x)
        centred = x - np.nanmean(x, axis=0)        # centring first: fewer cancellation errors
        self.M = mask.astype(float)
        self.X0 = np.where(mask, centred, 0.0)
        self.X2 = self.X0 ** 2

    def __call__(self, w: np.ndarray) -> np.ndarray:
        Wm = self.M * w[:, None]
        n = self.M.T @ Wm                            # pairwise (weighted) counts
        sx = self.X0.T @ Wm                          # sum of x_i over rows with x_j present
        sxx = self.X2.T @ Wm
        sxy = self.X0.T @ (self.X0 * w[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = sxy - sx * sx.T / n
            var = sxx - sx * sx / n
            r = cov / np.sqrt(var * var.T)
        np.fill_diagonal(r, 1.0)
        return r


def _summarise(reps: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """psych::cor.ci's summary of the replicates (rows = samples, columns = pairs)."""
    from scipy import special  # lazy: keeps `import psychometrics.validity` light
    p = 1 - level
    z = _fisherz(reps)
    with np.errstate(invalid="ignore"):
        means = np.nanmean(z, axis=0)
        sds = _fisherz2r(np.nanstd(z, axis=0, ddof=1))
    lower = _fisherz2r(means + special.ndtri(p / 2) * sds)
    upper = _fisherz2r(means + special.ndtri(1 - p / 2) * sds)
    mean_r = _fisherz2r(means)
    low_e = np.nanquantile(reps, p / 2, axis=0)      # R's quantile type 7
    up_e = np.nanquantile(reps, 1 - p / 2, axis=0)
    tci = np.abs(mean_r) / sds
    return {"boot_mean": mean_r, "boot_sd": sds, "ci_lower": lower, "ci_upper": upper,
            "empirical_ci_lower": low_e, "empirical_ci_upper": up_e, "z": tci,
            "p_value": 2 * special.ndtr(-tci)}


def _pairs(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """psych's pair order, ``r[lower.tri(r)]``: (1,2), (1,3), ..., (1,p), (2,3), ..."""
    k = len(names)
    i, j = np.triu_indices(k, 1)
    return i, j


def cor_ci(data, keys: dict | None = None, *, n_iter: int = 100, level: float = 0.95,
           overlap: bool = False, method: str = "pearson", n_obs: int | None = None,
           seed: int | None = None) -> CorCiResult:
    """Bootstrapped confidence intervals of item or scale correlations (``psych::cor.ci``).

    Parameters
    ----------
    data : DataFrame
        Raw responses (rows = respondents, NaN = missing; correlations are pairwise, as
        psych), or a correlation matrix (then ``n_obs`` is required and the intervals are
        normal theory, psych's ``cor.Ci``).
    keys : dict, optional
        ``{scale: [items]}`` (``"-A1"`` reverse keyed): the correlations of the unit-weighted
        scales ``K' R K`` (rescaled to correlations) instead of the items.
    n_iter : int
        Bootstrap samples (psych: 100). Each draws ``n`` rows with replacement.
    level : float
        Confidence level (psych's ``p = 1 - level``).
    overlap : bool
        Correct the scale correlations for shared items (``psych::scoreOverlap``'s
        correction); needs ``keys``.
    method : {"pearson", "spearman", "kendall"}
    n_obs : int, optional
        Sample size behind a correlation matrix (psych sets 1000 with a warning when it is
        missing; we require it).
    seed : int, optional
        Seed of numpy's generator for the bootstrap draws.

    Returns
    -------
    CorCiResult

    Notes
    -----
    R: ``psych::cor.ci(x, keys, n.iter = 100, p = 0.05, overlap, method)``. The summary of
    the replicates is psych's, quirks included: the interval ``tanh(mean z -/+ q s)`` uses
    ``s = tanh(sd z)`` (psych back-transforms the standard deviation), and ``z`` is
    ``|tanh(mean z)| / s``. The draws come from numpy's generator, not R's, so intervals
    agree with psych's to Monte-Carlo error only; given the same replicates every number
    equals psych's. ``poly = TRUE`` (polychoric/tetrachoric correlations) is not offered.
    """
    if not isinstance(n_iter, (int, np.integer)) or isinstance(n_iter, bool) or n_iter < 2:
        raise DataValidationError(f"n_iter= must be an integer of at least 2; got {n_iter!r}.")
    if not (isinstance(level, (float, int)) and 0 < level < 1):
        raise DataValidationError(f"level= must be a number between 0 and 1; got {level!r}.")
    if method not in _METHODS:
        raise DataValidationError(f"method= must be one of {', '.join(_METHODS)}; got {method!r}.")
    if overlap and keys is None:
        raise DataValidationError("overlap=True corrects scales for shared items; it needs keys=.")
    data = numeric_frame(data, func="cor_ci")
    if _is_correlation(data):
        return _from_matrix(data, keys, level, n_obs)
    if n_obs is not None:
        raise DataValidationError("n_obs= is for a correlation matrix; data= holds raw "
                                  f"responses ({len(data)} rows).")
    K = None
    if keys is not None:
        if not isinstance(keys, dict) or not keys:
            raise DataValidationError("keys= must be a dict {scale: [items]} with at least one "
                                      "scale.")
        for name, lst in keys.items():
            if isinstance(lst, str) or not len(lst):
                raise DataValidationError(f"keys[{name!r}] must be a non-empty list of item "
                                          "names.")
        items = list(dict.fromkeys(it.lstrip("-") for lst in keys.values() for it in lst))
        absent = [v for v in items if v not in data.columns]
        if absent:
            raise DataValidationError(f"keys= names item(s) not in data=: {', '.join(absent)}.")
        data = data[items]
        K = _keys_matrix(keys, items)
        if overlap and (np.diag(K.T @ K) < 2).any():
            short = [str(k) for k, v in zip(keys, np.diag(K.T @ K)) if v < 2]
            raise DataValidationError(f"overlap=True needs at least 2 items per scale; "
                                      f"{', '.join(short)} ha(s) fewer.")
        names = [str(k) for k in keys]
    else:
        names = [str(c) for c in data.columns]
    if len(names) < 2:
        raise DataValidationError("cor_ci needs at least two variables (or two scales).")
    x = data.to_numpy(dtype=float)
    n = x.shape[0]
    R = data.corr(method=method).to_numpy()
    if np.isnan(R).any():
        i, j = np.argwhere(np.isnan(R))[0]
        raise DataValidationError(
            f"The correlation of {data.columns[i]!r} and {data.columns[j]!r} cannot be computed "
            "(fewer than 2 rows observe both, or no variance); drop one of them.")
    rho = _scales(R, K, overlap)
    rng = np.random.default_rng(seed)
    ii, jj = _pairs(names)
    reps = np.empty((n_iter, len(ii)))
    fast = _PairwisePearson(x) if method == "pearson" else None
    with single_blas_thread():   # small products: threads only contend
        for b in range(n_iter):
            draw = rng.integers(0, n, n)
            if fast is not None:
                Rb = fast(np.bincount(draw, minlength=n).astype(float))
            else:
                Rb = pd.DataFrame(x[draw]).corr(method=method).to_numpy()
            reps[b] = _scales(Rb, K, overlap)[ii, jj]
    stats = _summarise(reps, level)
    table = pd.DataFrame({"var1": [names[i] for i in ii], "var2": [names[j] for j in jj],
                          "r": rho[ii, jj], **stats})
    labels = [f"{names[i]}-{names[j]}" for i, j in zip(ii, jj)]
    return CorCiResult(rho=pd.DataFrame(rho, index=names, columns=names), table=table,
                       replicates=pd.DataFrame(reps, columns=labels), n_iter=int(n_iter),
                       level=float(level), method=method, overlap=bool(overlap), seed=seed,
                       n_obs=int(n))


def _from_matrix(r: pd.DataFrame, keys, level: float, n_obs) -> CorCiResult:
    from scipy import special
    if keys is not None:
        raise DataValidationError("keys= needs raw responses; data= is a correlation matrix.")
    if n_obs is None or isinstance(n_obs, bool) or not n_obs > 3:
        raise DataValidationError(
            "data= is a correlation matrix: give n_obs= (the sample size, more than 3) for "
            f"normal-theory intervals; got {n_obs!r}.")
    names = [str(c) for c in r.columns]
    a = r.to_numpy()
    ii, jj = _pairs(names)
    p = 1 - level
    z = _fisherz(a[ii, jj])
    sd = 1 / np.sqrt(n_obs - 3)
    table = pd.DataFrame({"var1": [names[i] for i in ii], "var2": [names[j] for j in jj],
                          "r": a[ii, jj],
                          "ci_lower": _fisherz2r(z + special.ndtri(p / 2) * sd),
                          "ci_upper": _fisherz2r(z + special.ndtri(1 - p / 2) * sd)})
    return CorCiResult(rho=pd.DataFrame(a, index=names, columns=names), table=table,
                       replicates=None, n_iter=0, level=float(level), method="pearson",
                       overlap=False, seed=None, n_obs=int(n_obs))
