"""Sufficient statistics: per-group sample size, mean vector and covariance (divisor N).

Raw data are read once (one pass of ``X'X`` per group); everything after this
step works on these moments only, so a 100,000-row data set costs no more than
a 300-row one in estimation.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import (DataQualityWarning, DataValidationError, ModelSpecificationError,
                          NotPositiveDefiniteError)

__all__ = ["SampleStats", "from_data", "from_moments"]


@dataclass(frozen=True)
class SampleStats:
    """Moments of one or more groups, ``cov`` with divisor N (lavaan ``likelihood = "normal"``)."""

    ov: tuple[str, ...]
    nobs: tuple[int, ...]
    mean: tuple[np.ndarray, ...]
    cov: tuple[np.ndarray, ...]
    group_labels: tuple
    n_dropped: int = 0
    has_means: bool = True
    data: tuple | None = None   # per-group raw data (complete rows), for robust SEs
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    patterns: tuple | None = None   # FIML: per group, the missingness patterns
    h1_loglik: tuple | None = None  # FIML: per group, the saturated log-likelihood
    baseline_loglik: tuple | None = None  # FIML: per group, the independence log-likelihood
    pairwise: tuple | None = None   # FIML: per group, (pairwise cov * (n-1)/n, available means)
    cases: pd.DataFrame | None = None  # one row per input row: row label, group, status

    def fourth_moments(self, g: int):
        """Per group: (vech rows, cols, M4, M3, m2) of the centred data, computed once.

        ``P_i = vech(z_i z_i')`` (lower triangle, row-major), ``M4 = P'P / n``,
        ``M3 = Z'P / n``, ``m2 = vech(S)``: everything the robust (MLR) computations
        need from the raw data, so a 100,000-row data set is read once.
        """
        key = ("m4", g)
        if key not in self.cache:
            X = self.data[g]
            Z = X - self.mean[g]
            p = Z.shape[1]
            rows, cols = np.tril_indices(p)
            P = Z[:, rows] * Z[:, cols]
            n = X.shape[0]
            self.cache[key] = (rows, cols, P.T @ P / n, Z.T @ P / n, self.cov[g][rows, cols])
        return self.cache[key]

    @property
    def ntotal(self) -> int:
        return int(sum(self.nobs))

    @property
    def ngroups(self) -> int:
        return len(self.nobs)


def _check_pd(cov: np.ndarray, ov, label) -> None:
    var = np.diag(cov)
    bad = [ov[k] for k in np.flatnonzero(var <= 0)]
    where = f" in group {label!r}" if label is not None else ""
    if bad:
        raise NotPositiveDefiniteError(
            f"The sample covariance matrix{where} is not positive definite: variable(s) "
            f"{', '.join(map(repr, bad))} have zero variance. Remove them from the model.")
    d = 1 / np.sqrt(var)
    R = cov * d[:, None] * d[None, :]
    try:
        Lc = np.linalg.cholesky(R)
        if np.min(np.diag(Lc)) ** 2 > 1e-10:
            return
    except np.linalg.LinAlgError:
        pass
    w, V = np.linalg.eigh(R)
    if w[0] < 1e-12 * max(1.0, w[-1]):
        v = V[:, 0]
        involved = [ov[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.1]
        raise NotPositiveDefiniteError(
            f"The sample covariance matrix{where} is singular (not positive definite; smallest "
            f"eigenvalue of the correlation matrix {w[0]:.3g}): variables "
            f"{', '.join(map(repr, involved))} are linearly dependent. Drop one of them.")


STATUS_USED = "used"
STATUS_LISTWISE = "dropped: missing value (listwise)"
STATUS_COVARIATE = "dropped: missing exogenous covariate (fixed_x)"
STATUS_EMPTY = "dropped: no observed model variable"
STATUS_GROUP = "dropped: missing group"


def _name_rows(mask, limit: int = 10) -> str:
    """The 1-based data rows where ``mask`` is True (position 0 is data row 1), as the
    package numbers rows in every message; ``result.cases`` keeps the index labels."""
    rows = (np.flatnonzero(np.asarray(mask)) + 1).tolist()
    shown = ", ".join(map(str, rows[:limit]))
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def from_data(data: pd.DataFrame, ov, group: str | None = None,
              missing: str = "listwise", x_vars=()) -> SampleStats:
    """Compute moments from raw data.

    ``missing="listwise"`` (lavaan default) drops incomplete rows; ``missing="ml"``
    keeps every row with at least one observed value, groups rows by missingness
    pattern, and takes the EM estimates of the saturated model as the sample moments
    (lavaan ``missing = "ml"``, ``sampstat.h1``). With ``missing="ml"`` the rows with a
    missing value in one of ``x_vars`` (the fixed.x covariates) are dropped first, as
    lavaan does with ``fixed.x = TRUE``; ``missing="ml.x"`` keeps them.

    The returned ``cases`` table names every input row (its ``data.index`` label), its
    group and whether it was used or why it was dropped.

    Raises
    ------
    ModelSpecificationError
        If a model variable or the group column is not in ``data``.
    DataValidationError
        If a model variable is not numeric.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"The 'data' argument must be a pandas DataFrame, got {type(data).__name__}.")
    absent = [v for v in ov if v not in data.columns]
    if absent:
        raise ModelSpecificationError(
            f"Variable(s) {', '.join(map(repr, absent))} of the model are not columns of 'data' "
            f"(columns: {', '.join(map(str, data.columns[:30]))}).")
    if group is not None and group not in data.columns:
        raise ModelSpecificationError(f"The 'group' column {group!r} is not a column of 'data'.")
    dtypes = data.dtypes
    nonnum = [v for v in ov if dtypes[v].kind not in "biuf"]
    if nonnum:
        raise DataValidationError(
            f"Model variable(s) {', '.join(map(repr, nonnum))} are not numeric "
            f"(dtype {dtypes[nonnum[0]]}); convert them to numbers first.")
    X = data[list(ov)].to_numpy(dtype=float, na_value=np.nan)
    if group is None:
        gcodes = np.zeros(len(X), dtype=int)
        labels: tuple = ()
        gvals = None
    else:
        gcol = data[group]
        keep_g = gcol.notna().to_numpy()
        gvals = gcol.to_numpy()
        labels = tuple(pd.unique(gcol[keep_g]))  # order of first appearance (lavaan)
        lookup = {v: k for k, v in enumerate(labels)}
        gcodes = np.array([lookup.get(v, -1) if k else -1 for v, k in zip(gvals, keep_g)])
    status = np.full(len(X), STATUS_USED, dtype=object)
    status[gcodes < 0] = STATUS_GROUP
    row_labels = data.index.to_numpy()
    if missing in ("ml", "ml.x"):
        if (gcodes < 0).any():
            lab = row_labels[gcodes < 0].tolist()
            warnings.warn(
                f"{len(lab)} of {len(X)} rows have no value in the group column {group!r} and "
                f"were dropped (data rows {_name_rows(gcodes < 0)}).", DataQualityWarning,
                stacklevel=3)
        if missing == "ml" and len(x_vars):
            xi = [list(ov).index(v) for v in x_vars]
            miss_x = ~np.isfinite(X[:, xi]).all(axis=1) & (status == STATUS_USED)
            if miss_x.any():
                status[miss_x] = STATUS_COVARIATE
                lab = row_labels[miss_x].tolist()
                warnings.warn(
                    f"{len(lab)} of {len(X)} rows have a missing value in the exogenous "
                    f"covariate(s) {', '.join(map(repr, x_vars))} and were dropped, as lavaan "
                    f"does with missing='ml' and fixed_x=True (data rows {_name_rows(miss_x)}). Use "
                    f"missing='ml.x' to keep them (covariate moments from all rows), or "
                    f"fixed_x=False to model the covariates; result.cases lists every row.",
                    DataQualityWarning, stacklevel=3)
        empty = ~np.isfinite(X).any(axis=1) & (status == STATUS_USED)
        status[empty] = STATUS_EMPTY
        ss = _from_data_fiml(X, gcodes, labels, ov, group, status == STATUS_USED, row_labels)
        return _with_cases(ss, row_labels, gcodes, labels, status)
    ok = np.isfinite(X).all(axis=1) & (gcodes >= 0)
    status[~ok & (gcodes >= 0)] = STATUS_LISTWISE
    n_dropped = int((~ok).sum())
    if n_dropped:
        lab = row_labels[~ok].tolist()
        warnings.warn(
            f"{n_dropped} of {len(X)} rows have missing values in the model variables"
            f"{' or the group column' if group else ''} and were dropped (listwise deletion; "
            f"data rows {_name_rows(~ok)}; result.cases lists every row).",
            DataQualityWarning, stacklevel=3)
    ng = max(len(labels), 1)
    nobs, means, covs, raw = [], [], [], []
    for g in range(ng):
        Xg = X[ok & (gcodes == g)]
        raw.append(Xg)
        n = Xg.shape[0]
        label = labels[g] if labels else None
        if n < 2:
            raise DataValidationError(
                f"Group {label!r} has {n} complete row(s); at least 2 are needed.")
        if n <= len(ov):
            where = f"Group {label!r} has" if label is not None else "The data have"
            raise DataValidationError(
                f"{where} {n} complete row(s) for {len(ov)} observed variables; a covariance "
                "matrix of p variables needs more than p rows. "
                + ("Merge small groups, drop this group or use fewer variables."
                   if label is not None else "Use more rows, fewer variables or "
                   "missing='ml' if rows were dropped for missing values."))
        m = Xg.mean(axis=0)
        Xc = Xg - m
        S = (Xc.T @ Xc) / n
        _check_pd(S, ov, label)
        nobs.append(n)
        means.append(m)
        covs.append(S)
    ss = SampleStats(tuple(ov), tuple(nobs), tuple(means), tuple(covs), labels, n_dropped,
                     data=tuple(raw))
    return _with_cases(ss, row_labels, gcodes, labels, status)


def _with_cases(ss: SampleStats, row_labels, gcodes, labels, status) -> SampleStats:
    from dataclasses import replace
    grp = [labels[c] if (labels and c >= 0) else (1 if c >= 0 else None) for c in gcodes]
    cases = pd.DataFrame({"row": row_labels, "group": grp, "status": status})
    return replace(ss, cases=cases)


def from_moments(sample_cov, sample_nobs, ov, sample_mean=None, rescale: bool = True,
                 group_labels=()) -> SampleStats:
    """Moments given directly (lavaan ``sample.cov``, ``sample.nobs``, ``sample.mean``).

    As lavaan (``sample.cov.rescale = TRUE``), the covariance is taken to have divisor
    N - 1 and is multiplied by (N - 1) / N.
    """
    covs_in = sample_cov if isinstance(sample_cov, (list, tuple)) else [sample_cov]
    nobs_in = sample_nobs if isinstance(sample_nobs, (list, tuple)) else [sample_nobs]
    if len(nobs_in) != len(covs_in):
        raise ModelSpecificationError(
            f"'sample_nobs' has {len(nobs_in)} entries but 'sample_cov' has {len(covs_in)} groups.")
    means_in = (sample_mean if isinstance(sample_mean, (list, tuple)) else [sample_mean]) \
        if sample_mean is not None else [None] * len(covs_in)
    nobs, means, covs = [], [], []
    for g, (S, n, m) in enumerate(zip(covs_in, nobs_in, means_in)):
        label = group_labels[g] if group_labels else None
        if isinstance(S, pd.DataFrame):
            missing = [v for v in ov if v not in S.columns or v not in S.index]
            if missing:
                raise ModelSpecificationError(
                    f"Variable(s) {', '.join(map(repr, missing))} of the model are not in the "
                    f"rows/columns of 'sample_cov'.")
            S = S.loc[list(ov), list(ov)].to_numpy(dtype=float)
        else:
            S = np.asarray(S, dtype=float)
            if S.shape != (len(ov), len(ov)):
                raise ModelSpecificationError(
                    f"'sample_cov' is a {S.shape} array without names; it must be "
                    f"{len(ov)} x {len(ov)} in the model's variable order {list(ov)}, or a "
                    f"DataFrame with variable names.")
        if not np.allclose(S, S.T, rtol=1e-10, atol=1e-12):
            raise ModelSpecificationError("'sample_cov' is not symmetric.")
        n = int(n)
        if n < 2:
            raise ModelSpecificationError(f"'sample_nobs' must be at least 2, got {n}.")
        if rescale:
            S = S * (n - 1) / n
        _check_pd(S, ov, label)
        if m is None:
            mv = np.zeros(len(ov))
        elif isinstance(m, (pd.Series, dict)):
            mv = np.array([m[v] for v in ov], dtype=float)
        else:
            mv = np.asarray(m, dtype=float)
        nobs.append(n)
        covs.append(S)
        means.append(mv)
    return SampleStats(tuple(ov), tuple(nobs), tuple(means), tuple(covs), tuple(group_labels), 0,
                       has_means=sample_mean is not None)


def _from_data_fiml(X, gcodes, labels, ov, group, ok, row_labels) -> SampleStats:
    from .missing import em_saturated, pattern_loglik, patterns_of
    any_obs = np.isfinite(X).any(axis=1)
    empty = ~any_obs & (gcodes >= 0)
    n_dropped = int((~ok).sum())
    if empty.any():
        warnings.warn(
            f"{int(empty.sum())} of {len(X)} rows have no observed model variable and were "
            f"dropped (data rows {_name_rows(empty)}).",
            DataQualityWarning, stacklevel=4)
    ng = max(len(labels), 1)
    nobs, means, covs, pats, h1, base, pw = [], [], [], [], [], [], []
    p = X.shape[1]
    for g in range(ng):
        Xg = X[ok & (gcodes == g)]
        label = labels[g] if labels else None
        if Xg.shape[0] < 2:
            raise DataValidationError(f"Group {label!r} has {Xg.shape[0]} usable row(s).")
        pg = patterns_of(Xg)
        Sigma, mu, _, _ = em_saturated(pg, p)
        _check_pd(Sigma, ov, label)
        nobs.append(Xg.shape[0])
        means.append(mu)
        covs.append(Sigma)
        pats.append(pg)
        h1.append(pattern_loglik(pg, Sigma, mu))
        # independence model: per variable, available-case mean and variance (ML)
        lb = 0.0
        for j in range(p):
            y = Xg[:, j]
            y = y[np.isfinite(y)]
            v = y.var()
            lb += -0.5 * len(y) * (np.log(2 * np.pi) + np.log(v) + 1.0)
        base.append(lb)
        # lavaan's sample statistics under missing = "ml" (used for GFI): pairwise
        # covariances rescaled by (n - 1)/n and available-case means
        dfg = pd.DataFrame(Xg)
        n = Xg.shape[0]
        pw.append((dfg.cov().to_numpy() * (n - 1) / n, dfg.mean().to_numpy()))
    return SampleStats(tuple(ov), tuple(nobs), tuple(means), tuple(covs), labels, n_dropped,
                       data=None, patterns=tuple(pats), h1_loglik=tuple(h1),
                       baseline_loglik=tuple(base), pairwise=tuple(pw))
