"""Turning user input (raw item responses or a correlation matrix) into a
checked correlation matrix, as psych does before every analysis.

Private module: the public functions validate their arguments through
:func:`prepare_correlation`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..io.itemdata import ItemData, as_frame, numeric_matrix
from ..exceptions import (
    DataIssue,
    DataValidationError,
    ModelSpecificationError,
    NotPositiveDefiniteError,
)

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class CorrelationInput:
    """A validated correlation matrix and what is known about its sample."""

    r: np.ndarray                 # p x p correlation matrix
    items: tuple[str, ...]        # item labels
    n_obs: float | None           # number of observations (rows), None if unknown
    np_obs: np.ndarray | None     # pairwise counts (raw data only), psych's np.obs
    raw: np.ndarray | None        # raw data (rows x items) when given
    source: str                   # "data" or "matrix"
    cor: str                      # "pearson", "poly" or "matrix"
    missing: str                  # "pairwise", "listwise" or "none"
    smoothed: bool                # True if the matrix was smoothed (psych::cor.smooth)


def pairwise_count(x: np.ndarray) -> np.ndarray:
    """Number of rows where both items are observed (``psych::pairwiseCount``)."""
    m = (~np.isnan(x)).astype(float)
    return m.T @ m


def pairwise_cor(x: np.ndarray) -> np.ndarray:
    """Pearson correlations on pairwise-complete observations.

    Equal to R's ``cor(x, use = "pairwise")``: for each pair of columns the
    means and standard deviations are those of the rows where both are
    observed.  Computed with masked cross-products (one pass over the data)
    after centring every column on its own mean, which keeps the sums small.
    """
    mask = ~np.isnan(x)
    if mask.all():
        xc = x - x.mean(axis=0)
        ss = xc.T @ xc
        d = np.sqrt(np.diag(ss))
        r = ss / np.outer(d, d)
        np.fill_diagonal(r, 1.0)
        return r
    col_mean = np.nanmean(x, axis=0)
    xc = np.where(mask, x - col_mean, 0.0)
    p = x.shape[1]
    # one Gram matrix holds every masked cross-product we need
    Z = np.hstack([xc, xc * xc, mask.astype(float)])
    G = Z.T @ Z
    sxy = G[:p, :p]                 # sum of x_j x_k over rows where both observed
    sx = G[:p, 2 * p:]              # sum of x_j over rows where k observed  [j, k]
    sxx = G[p:2 * p, 2 * p:]        # sum of x_j^2 over rows where k observed [j, k]
    n = G[2 * p:, 2 * p:]           # pair counts
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        varj = sxx - sx * sx / n
        r = cov / np.sqrt(varj * varj.T)
    r[n < 2] = np.nan
    np.fill_diagonal(r, 1.0)
    return r


def cov2cor(s: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diag(s))
    r = s * np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return r


def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12, force: bool = False
               ) -> tuple[np.ndarray, bool]:
    """``psych::cor.smooth``: raise eigenvalues below ``eig_tol`` and rescale.

    Smooths when the smallest eigenvalue is below machine epsilon (psych's
    rule) or when ``force``.  Returns the matrix and whether it was smoothed.
    """
    w, v = np.linalg.eigh(r)
    if w.min() >= _EPS and not force:
        return r, False
    w = w.copy()
    w[w < eig_tol] = 100 * eig_tol
    w = w * r.shape[0] / w.sum()
    x = (v * w) @ v.T
    return cov2cor(x), True


def is_correlation_matrix(x: np.ndarray) -> bool:
    """``psych::isCorrelation``: square, symmetric, unit diagonal, values in [-1, 1]."""
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        return False
    if np.isnan(x).any():
        return False
    return bool(np.allclose(x, x.T, rtol=0, atol=100 * _EPS * max(1.0, np.abs(x).max()))
                and np.allclose(np.diag(x), 1.0, rtol=0, atol=1e-8)
                and x.min() >= -1 - 1e-12 and x.max() <= 1 + 1e-12)


def _labels(data: Any, p: int, prefix: str = "V") -> tuple[str, ...]:
    if isinstance(data, pd.DataFrame):
        return tuple(str(c) for c in data.columns)
    return tuple(f"{prefix}{i + 1}" for i in range(p))


def _as_float_frame(data: Any, argname: str, caller: str = "fa"
                    ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Raw responses or a matrix as floats, through the input layer: an
    :class:`~psychometrics.io.ItemData` gives its item responses, an empty
    frame is refused, non-numeric and infinite cells are named by data row."""
    if not isinstance(data, (pd.DataFrame, ItemData)):
        try:
            arr = np.asarray(data, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                f"The {argname}= argument cannot be converted to a numeric matrix "
                f"({exc}).") from exc
        if arr.ndim != 2:
            raise DataValidationError(
                f"The {argname}= argument must be 2-dimensional (rows = respondents, "
                f"columns = items, or a square correlation matrix); got {arr.ndim} "
                f"dimension(s).")
        data = arr
    df = as_frame(data, caller, argname=argname, items_only=True, arrays=True)
    x = numeric_matrix(df, caller, argname=argname)
    return x, _labels(df, x.shape[1])


def prepare_correlation(data: Any, *, n_obs: float | None = None, missing: str = "pairwise",
                        cor: str = "pearson", smooth: bool = False,
                        min_items: int = 2, caller: str = "fa",
                        np_obs: Any = None) -> CorrelationInput:
    """Validate ``data`` and return its correlation matrix.

    ``data`` is either raw responses (rows = respondents, columns = items; a
    DataFrame or 2-D array, NaN = missing) or a square correlation matrix (then
    ``n_obs`` gives the sample size).  ``cor`` is ``"pearson"`` or ``"poly"``
    (polychoric correlations for ordinal items, computed by
    ``psychometrics.reliability.polychoric``).  ``missing`` is ``"pairwise"``
    (psych's default) or ``"listwise"``.
    """
    if missing not in ("pairwise", "listwise"):
        raise ModelSpecificationError(
            f"The 'missing' parameter of {caller} must be 'pairwise' or 'listwise'. "
            f"Got {missing!r} instead.")
    if cor not in ("pearson", "poly"):
        raise ModelSpecificationError(
            f"The 'cor' parameter of {caller} must be 'pearson' or 'poly'. Got {cor!r} instead.")
    if n_obs is not None:
        if not np.isscalar(n_obs) or not np.isfinite(n_obs) or n_obs <= 1:
            raise ModelSpecificationError(
                f"The 'n_obs' parameter of {caller} must be a number of observations "
                f"greater than 1. Got {n_obs!r} instead.")
    x, items = _as_float_frame(data, "data", caller)
    p = x.shape[1]
    if p < min_items:
        raise DataValidationError(
            f"{caller} needs at least {min_items} items (columns); the data have {p}.")
    if len(set(items)) != len(items):
        dup = sorted({i for i in items if items.count(i) > 1})
        raise DataValidationError(f"Item names must be unique; duplicated: {dup}.")

    if x.shape[0] == x.shape[1] and is_correlation_matrix(x):
        if cor == "poly":
            raise ModelSpecificationError(
                f"cor='poly' needs raw item responses, but {caller} was given a correlation "
                "matrix; pass the polychoric matrix itself (with cor='pearson', the default) "
                "or the raw data.")
        r = (x + x.T) / 2.0
        np.fill_diagonal(r, 1.0)
        r, smoothed = _check_pd(r, items, smooth, caller, n_rows=None)
        npo = None
        if np_obs is not None:
            npo = np.asarray(np_obs, dtype=float)
            if npo.shape != r.shape or np.isnan(npo).any() or (npo < 1).any():
                raise ModelSpecificationError(
                    f"The 'np_obs' parameter of {caller} must be a {r.shape[0]} x {r.shape[1]} "
                    "matrix of pairwise counts (each at least 1), like psych's np.obs.")
            if n_obs is None:
                n_obs = float(npo.max())   # psych: n.obs <- max(np.obs)
        return CorrelationInput(r=r, items=items, n_obs=n_obs, np_obs=npo, raw=None,
                                source="matrix", cor="matrix", missing="none",
                                smoothed=smoothed)
    if x.shape[0] == x.shape[1] and np.allclose(x, x.T, equal_nan=True) and \
            not np.allclose(np.diag(x), 1.0):
        # square and symmetric but not a correlation matrix: probably a covariance matrix
        d = np.diag(x)
        if (d > 0).all():
            raise ModelSpecificationError(
                f"The data given to {caller} are a square symmetric matrix whose diagonal is "
                "not 1 (a covariance matrix?). Convert it to a correlation matrix first "
                "(e.g. with psychometrics.efa.cov2cor) and give n_obs.")

    # ---- raw data
    if np_obs is not None:
        raise ModelSpecificationError(
            f"The 'np_obs' parameter of {caller} is only for a correlation-matrix input; "
            "with raw data the pairwise counts are computed.")
    if n_obs is not None:
        raise ModelSpecificationError(
            f"The 'n_obs' parameter of {caller} is only for a correlation-matrix input; "
            "with raw data the number of rows is used.")
    if missing == "listwise":
        keep = ~np.isnan(x).any(axis=1)
        x = x[keep]
    n_rows = x.shape[0]
    if n_rows < 3:
        raise DataValidationError(
            f"Too few rows for {caller}: {n_rows} "
            f"{'complete ' if missing == 'listwise' else ''}row(s); a correlation needs at "
            "least 3 (and a factor analysis many more).")
    # items with no variance (or too few observations)
    issues = []
    for j, name in enumerate(items):
        col = x[:, j]
        obs = col[~np.isnan(col)]
        if obs.size < 3:
            issues.append(DataIssue(row="-", column=name, value=None,
                                    problem=f"{obs.size} observed response(s), fewer than 3"))
        elif np.ptp(obs) == 0:
            issues.append(DataIssue(row="-", column=name, value=float(obs[0]),
                                    problem="item has no variance (every response is equal)"))
    if issues:
        names = ", ".join(repr(i.column) for i in issues)
        raise DataValidationError(
            f"Item(s) {names} cannot be factor analysed.", issues,
            hint="Drop these items; an item without variance has no correlation with "
                 "any other item.")
    if cor == "poly":
        r = _polychoric(x, items, caller)
        npo = pairwise_count(x)
    else:
        r = pairwise_cor(x)
        npo = pairwise_count(x)
    if np.isnan(r).any():
        i, j = np.argwhere(np.isnan(r))[0]
        raise DataValidationError(
            f"The correlation of items {items[i]!r} and {items[j]!r} cannot be computed: "
            f"they are observed together in {int(npo[i, j])} row(s) or one of them is "
            "constant where both are observed.",
            hint="Drop one of the two items or use missing='listwise' on more complete data.")
    r, smoothed = _check_pd(r, items, smooth, caller, n_rows=n_rows)
    n = float(x.shape[0])  # psych: n.obs = nrow(data), also with pairwise missing values
    return CorrelationInput(r=r, items=items, n_obs=n, np_obs=npo, raw=x, source="data",
                            cor=cor, missing=missing, smoothed=smoothed)


def _polychoric(x: np.ndarray, items: tuple[str, ...], caller: str) -> np.ndarray:
    try:
        from ..numerics.polychoric import polychoric
    except ImportError as exc:  # pragma: no cover - depends on the branch state
        raise ModelSpecificationError(
            f"cor='poly' in {caller} needs psychometrics.reliability.polychoric, which is not "
            "available in this installation. Compute the polychoric matrix elsewhere and "
            "pass it as data= with n_obs=.") from exc
    res = polychoric(pd.DataFrame(x, columns=list(items)))
    rho = res.rho
    rho = rho.loc[list(items), list(items)] if isinstance(rho, pd.DataFrame) else rho
    return np.asarray(rho, dtype=float)


def _check_pd(r: np.ndarray, items: tuple[str, ...], smooth: bool, caller: str,
              n_rows: int | None) -> tuple[np.ndarray, bool]:
    w, v = np.linalg.eigh(r)
    if w[0] >= _EPS * r.shape[0] * 10:
        return r, False
    if smooth:
        return cor_smooth(r, force=True)
    # name the items that carry the (near) linear dependency
    vec = np.abs(v[:, 0])
    involved = [items[k] for k in np.argsort(-vec) if vec[k] > 0.1][:8]
    extra = ""
    if n_rows is not None and n_rows <= len(items):
        extra = (f" The data have only {n_rows} rows for {len(items)} items; at least "
                 f"{len(items) + 1} are needed.")
    raise NotPositiveDefiniteError(
        f"The correlation matrix given to {caller} is singular or not positive definite "
        f"(smallest eigenvalue {w[0]:.3g}); items involved in the linear dependency: "
        f"{', '.join(involved)}.{extra} Drop redundant items, or pass smooth=True to smooth "
        "the matrix as psych::cor.smooth does.")


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations, ``psych::smc`` (1 - 1/diag(R^-1), clipped to [0, 1])."""
    inv = _pinv(r)
    s = 1.0 - 1.0 / np.diag(inv)
    s = np.where(s > 1, 1.0, s)
    s = np.where(s < 0, 0.0, s)
    return s


def _pinv(x: np.ndarray) -> np.ndarray:
    """``psych::Pinv``: SVD pseudo-inverse with tolerance sqrt(eps) * d[0]."""
    u, d, vt = np.linalg.svd(x)
    keep = d > max(np.sqrt(_EPS) * d[0], 0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T
