"""How many factors?  Horn's parallel analysis (``psych::fa.parallel``) and
Velicer's minimum average partial (MAP, as ``psych::vss``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from .._blas import single_blas_thread
from ._input import pairwise_cor, prepare_correlation
from ._summary import Summary, efa_summary
from .extraction import extract

__all__ = ["ParallelAnalysisResult", "MAPResult", "parallel_analysis", "velicer_map"]


@dataclass(frozen=True)
class ParallelAnalysisResult:
    """Result of :func:`parallel_analysis`.

    Attributes
    ----------
    table : DataFrame
        One row per position (1..p): ``position, observed_pc, observed_fa``,
        and for simulated normal data and (raw data only) resampled data the
        mean and quantile of the eigenvalues: ``sim_pc_mean, sim_pc_quantile,
        sim_fa_mean, sim_fa_quantile, resampled_pc_mean, resampled_pc_quantile,
        resampled_fa_mean, resampled_fa_quantile`` (NaN where not computed).
    n_factors, n_components : int or None
        Number of observed factor / component eigenvalues that exceed the
        simulated criterion before the first that does not (psych's ``nfact``,
        ``ncomp``); None if not computed (``fa="pc"`` or ``"fa"``) or if every
        eigenvalue exceeds it.
    simulated : ndarray
        Every simulated eigenvalue, shape (n_iter, k): psych's ``values`` columns
        (resampled pc, resampled fa, simulated pc, simulated fa as present).
    criterion, quantile, n_iter, seed, method, n_obs
    """

    table: pd.DataFrame
    n_factors: int | None
    n_components: int | None
    simulated: np.ndarray
    criterion: str
    quantile: float
    n_iter: int
    seed: int | None
    method: str
    n_obs: float

    @property
    def observed_pc(self) -> np.ndarray:
        return self.table["observed_pc"].to_numpy()

    @property
    def observed_fa(self) -> np.ndarray:
        return self.table["observed_fa"].to_numpy()

    def to_frame(self) -> pd.DataFrame:
        """The eigenvalue table (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        return efa_summary(
            title=f"Parallel analysis ({self.n_iter} iterations, {self.criterion} criterion)",
            info={"suggested factors": "NA" if self.n_factors is None else self.n_factors,
                  "suggested components":
                      "NA" if self.n_components is None else self.n_components,
                  "seed": "none" if self.seed is None else self.seed},
            tables=[("Eigenvalues", self.table.set_index("position"))])


@dataclass(frozen=True)
class MAPResult:
    """Velicer's minimum average partial.

    Attributes
    ----------
    table : DataFrame
        ``n_components, map`` (average squared partial correlation after
        removing that many principal components).
    n_factors : int
        Number of components at the minimum.
    """

    table: pd.DataFrame
    n_factors: int

    def to_frame(self) -> pd.DataFrame:
        """The MAP table (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        return efa_summary(
            title="Velicer's MAP", info={"suggested factors": self.n_factors},
            tables=[("Average squared partial correlations",
                     self.table.set_index("n_components"))])


def _fa_values(r: np.ndarray, nf: int, method: str) -> np.ndarray:
    # psych::fa.parallel's replicates: psych's own optimum, without the restart check
    return extract(r, nf, method, check_optimum=False).values


def _first_not_greater(obs: np.ndarray, crit: np.ndarray) -> int | None:
    """psych: ``which(!(obs > crit))[1] - 1`` (NA if every value is greater)."""
    idx = np.flatnonzero(~(obs > crit))
    return int(idx[0]) if idx.size else None


@single_blas_thread()
def parallel_analysis(data: Any, *, n_obs: float | None = None, method: str = "minres",
                      fa: str = "both", extract_factors: int = 1, n_iter: int = 20,
                      quantile: float = 0.95, criterion: str = "quantile",
                      resample: bool = True, seed: int | None = None,
                      missing: str = "pairwise") -> ParallelAnalysisResult:
    """Horn's parallel analysis with factor and component eigenvalues.

    Parameters
    ----------
    data : DataFrame or array
        Raw responses, or a correlation matrix with ``n_obs``.
    method : {"minres", "ml", "wls", "gls", "pa"}
        Extraction for the factor eigenvalues (1-factor solution, psych's default).
    fa : {"both", "pc", "fa"}
        Which eigenvalues to compare.
    extract_factors : int
        Factors extracted for the factor eigenvalues (psych's ``nfactors``, default 1).
    n_iter : int
        Number of simulated (and resampled) data sets (psych: 20).
    quantile : float
        Quantile of the simulated eigenvalues (psych's ``quant = 0.95``).
    criterion : {"quantile", "mean"}
        Compare with the simulated quantile (psych 2.2.9's rule) or mean.
    resample : bool
        Also resample the observed data (each column independently, with
        replacement), as psych does for raw data.
    seed : int, optional
        Seed of numpy's default generator; the same seed gives the same result.

    Returns
    -------
    ParallelAnalysisResult

    Notes
    -----
    Observed values: eigenvalues of R (components) and of the ``extract_factors``-factor
    reduced matrix (R with the communalities of the fitted model on the diagonal).
    Simulated: the same for ``n_iter`` matrices of standard normal data of the
    same size.  The number suggested is the count of leading observed values
    above the criterion.  R: ``psych::fa.parallel(x, fm = "minres", fa = "both")``
    (R's random numbers differ, so only the observed values equal R's).
    """
    if fa not in ("both", "pc", "fa"):
        raise ModelSpecificationError(
            f"The 'fa' parameter of parallel_analysis must be 'both', 'pc' or 'fa'. "
            f"Got {fa!r} instead.")
    if criterion not in ("quantile", "mean"):
        raise ModelSpecificationError(
            "The 'criterion' parameter of parallel_analysis must be 'quantile' or 'mean'. "
            f"Got {criterion!r} instead.")
    if not (0 < quantile < 1):
        raise ModelSpecificationError(
            f"The 'quantile' parameter of parallel_analysis must be in (0, 1). Got {quantile!r}.")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ModelSpecificationError(
            f"The 'n_iter' parameter of parallel_analysis must be a positive integer. "
            f"Got {n_iter!r} instead.")
    if isinstance(extract_factors, bool) or not isinstance(extract_factors, (int, np.integer)) \
            or extract_factors < 1:
        raise ModelSpecificationError(
            "The 'extract_factors' parameter of parallel_analysis must be a positive integer. "
            f"Got {extract_factors!r} instead.")
    if method not in ("minres", "ml", "wls", "gls", "pa"):
        raise ModelSpecificationError(
            "The 'method' parameter of parallel_analysis must be 'minres', 'ml', 'wls', 'gls' "
            f"or 'pa'. Got {method!r} instead.")
    ci = prepare_correlation(data, n_obs=n_obs, missing=missing, caller="parallel_analysis")
    if ci.n_obs is None:
        raise ModelSpecificationError(
            "parallel_analysis was given a correlation matrix without n_obs; the simulated "
            "data need the sample size (psych would silently use 100).")
    r = ci.r
    p = r.shape[0]
    nsub = int(round(ci.n_obs))
    rng = np.random.default_rng(seed)
    do_fa = fa != "pc"
    obs_pc = np.linalg.eigvalsh(r)[::-1]
    obs_fa = _fa_values(r, extract_factors, method) if do_fa else np.full(p, np.nan)
    raw = ci.raw if (resample and ci.raw is not None) else None

    samp_pc = np.full((n_iter, p), np.nan)
    samp_fa = np.full((n_iter, p), np.nan)
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.full((n_iter, p), np.nan)
    for it in range(n_iter):
        if raw is not None:
            for _attempt in range(100):
                idx = rng.integers(0, raw.shape[0], size=(nsub, p))
                samp = np.take_along_axis(raw, idx, axis=0)
                C = pairwise_cor(samp)
                if not np.isnan(C).any():
                    break
            samp_pc[it] = np.linalg.eigvalsh(C)[::-1]
            if do_fa:
                samp_fa[it] = _fa_values(C, extract_factors, method)
        z = rng.standard_normal((nsub, p))
        C = pairwise_cor(z)
        sim_pc[it] = np.linalg.eigvalsh(C)[::-1]
        if do_fa:
            sim_fa[it] = _fa_values(C, extract_factors, method)

    def mq(a):
        return a.mean(axis=0), np.quantile(a, quantile, axis=0)

    spm, spq = mq(sim_pc)
    sfm, sfq = mq(sim_fa) if do_fa else (np.full(p, np.nan),) * 2
    rpm, rpq = mq(samp_pc) if raw is not None else (np.full(p, np.nan),) * 2
    rfm, rfq = mq(samp_fa) if (raw is not None and do_fa) else (np.full(p, np.nan),) * 2
    table = pd.DataFrame({
        "position": np.arange(1, p + 1),
        "observed_pc": obs_pc, "observed_fa": obs_fa,
        "sim_pc_mean": spm, "sim_pc_quantile": spq,
        "sim_fa_mean": sfm, "sim_fa_quantile": sfq,
        "resampled_pc_mean": rpm, "resampled_pc_quantile": rpq,
        "resampled_fa_mean": rfm, "resampled_fa_quantile": rfq,
    })
    pc_crit = spq if criterion == "quantile" else spm
    fa_crit = sfq if criterion == "quantile" else sfm
    ncomp = _first_not_greater(obs_pc, pc_crit) if fa != "fa" else None
    nfact = _first_not_greater(obs_fa, fa_crit) if do_fa else None
    blocks = []
    if raw is not None:
        blocks.append(samp_pc)
        if do_fa:
            blocks.append(samp_fa)
    blocks.append(sim_pc)
    if do_fa:
        blocks.append(sim_fa)
    return ParallelAnalysisResult(
        table=table, n_factors=nfact, n_components=ncomp, simulated=np.hstack(blocks),
        criterion=criterion, quantile=float(quantile), n_iter=int(n_iter), seed=seed,
        method=method, n_obs=float(ci.n_obs))


@single_blas_thread()
def velicer_map(data: Any, max_components: int = 8, *, missing: str = "pairwise"
                ) -> MAPResult:
    """Velicer's minimum average partial (MAP) test.

    Parameters
    ----------
    data : DataFrame or array
        Raw responses or a correlation matrix.
    max_components : int
        Largest number of components removed (psych's ``n = 8``; at most p - 1).

    Returns
    -------
    MAPResult

    Notes
    -----
    For m = 1..max_components, partial out the first m principal components,
    ``C = R - A_m A_m'`` with ``A = V E^1/2``, rescale to partial correlations
    and average their squares over the ``p(p-1)`` off-diagonal cells.  The
    suggested number is the m with the smallest average.
    R: ``psych::vss(x, n = 8)$map`` (``psych::VSS``).
    """
    if isinstance(max_components, bool) or not isinstance(max_components, (int, np.integer)) \
            or max_components < 1:
        raise ModelSpecificationError(
            "The 'max_components' parameter of velicer_map must be a positive integer. "
            f"Got {max_components!r} instead.")
    ci = prepare_correlation(data, missing=missing, caller="velicer_map")
    r = ci.r
    p = r.shape[0]
    n1 = p - 1 if max_components >= p else max_components
    w, v = np.linalg.eigh(r)
    w, v = w[::-1], v[:, ::-1]
    with np.errstate(invalid="ignore"):
        comp = v * np.sqrt(w)
    out = np.full(min(max_components, p), np.nan)
    for i in range(1, n1 + 1):
        A = comp[:, :i]
        c = r - A @ A.T
        d = 1.0 / np.sqrt(np.diag(c))
        rs = c * np.outer(d, d)
        np.fill_diagonal(rs, 0.0)
        out[i - 1] = np.sum(rs * rs) / (p * (p - 1))
    table = pd.DataFrame({"n_components": np.arange(1, len(out) + 1), "map": out})
    return MAPResult(table=table, n_factors=int(np.nanargmin(out) + 1))
