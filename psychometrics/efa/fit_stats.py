"""Goodness-of-fit statistics of a factor model, as ``psych::fa.stats``.

Private helper of :mod:`psychometrics.efa`; the numbers are exposed through
:class:`~psychometrics.efa.model.FitStatistics`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ._input import cor_smooth

__all__ = ["FitStatistics", "fa_stats"]


@dataclass(frozen=True)
class FitStatistics:
    """Fit of a factor model, named as psych names them (snake_case).

    Attributes
    ----------
    objective : float
        ``F = tr(M^-1 R) - log det(M^-1 R) - p`` with ``M`` the model-implied
        correlation matrix (psych's ``objective``; the ML discrepancy).
    chisq : float
        ``STATISTIC = F * ((n - 1) - (2p + 5)/6 - 2k/3)`` (Bartlett-corrected).
    df : float
        ``p(p-1)/2 - p k + k(k-1)/2``.
    p_value : float
        Upper tail of ``chisq`` on ``df`` (NaN if dof <= 0 or n unknown).
    null_objective, null_chisq, null_df : float
        Same for the independence model (``F0 = tr(R) - log det R - p``,
        ``null.chisq = F0 ((n-1) - (2p+5)/6)``, ``null.dof = p(p-1)/2``).
    rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_confidence : float
        ``sqrt(max(chisq/(dof n) - 1/(n-1), 0))`` and its confidence interval from
        the noncentral chi-square (psych's ``RMSEA``; confidence 0.9).
    tli : float
        Tucker-Lewis index ``(M0 - Mm)/(M0 - 1/nm)``.
    bic, sabic : float
        ``chisq - dof log(n)``, ``chisq - dof log((n+2)/24)``.
    rms, crms : float
        Root mean square off-diagonal residual, and corrected by dof.
    fit, fit_off : float
        ``1 - sum(res^2)/sum(r^2)``, same off the diagonal.
    empirical_chisq, empirical_p_value, empirical_bic : float
        psych's ``chi``, ``EPVAL``, ``EBIC`` (residual-based chi-square).
    n_obs : float
        Number of observations used (NaN if unknown).
    harmonic_n_obs : float
        psych's ``nh``: harmonic mean of pairwise counts (raw data) or ``n_obs``.
    """

    objective: float
    chisq: float
    df: float
    p_value: float
    null_objective: float
    null_chisq: float
    null_df: float
    rmsea: float
    rmsea_ci_lower: float
    rmsea_ci_upper: float
    rmsea_confidence: float
    tli: float
    bic: float
    sabic: float
    rms: float
    crms: float
    fit: float
    fit_off: float
    empirical_chisq: float
    empirical_p_value: float
    empirical_bic: float
    n_obs: float
    harmonic_n_obs: float

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _logdet(a: np.ndarray) -> float:
    sign, ld = np.linalg.slogdet(a)
    if sign <= 0:
        return math.nan
    return float(ld)


def fa_stats(r: np.ndarray, f: np.ndarray, phi: np.ndarray | None = None, *,
             n_obs: float | None = None, np_obs: np.ndarray | None = None,
             alpha: float = 0.1, smooth: bool = True) -> FitStatistics:
    """Fit statistics of loadings ``f`` (and factor correlations ``phi``) for ``r``.

    Notes
    -----
    A line-by-line equivalent of ``psych::fa.stats`` (psych 2.2.9, called by
    ``fa`` with ``alpha = 0.1``, i.e. a 90% RMSEA interval).  With raw data psych
    passes the pairwise counts ``np.obs``; the empirical chi-square and ``rms``
    then weight each residual by its count and divide by their harmonic mean.
    """
    from scipy import special as spc  # lazy: keeps `import psychometrics.efa` light
    n = r.shape[0]
    nf = f.shape[1]
    nobs = math.nan if n_obs is None else float(n_obs)
    model = f @ f.T if phi is None else f @ phi @ f.T
    residual = r - model
    r2 = float(np.sum(r * r))
    rstar2 = float(np.sum(residual * residual))
    dof = n * (n - 1) / 2 - n * nf + nf * (nf - 1) / 2
    np.fill_diagonal(residual, 0.0)
    if np_obs is None:
        rstar_off = float(np.sum(residual ** 2))
        r2_off = r2 - float(np.trace(r))
        chi = rstar_off * nobs
        rms = math.sqrt(rstar_off / (n * (n - 1)))
        nh = nobs
        crms = math.sqrt(rstar_off / (2 * dof)) if dof > 0 else math.nan
    else:
        rstar_off = float(np.sum(residual ** 2 * np_obs))
        w = r * r * np_obs
        r2_off = float(w.sum() - np.trace(w))
        chi = rstar_off
        nh = 1.0 / float(np.mean(1.0 / np_obs))
        rms = math.sqrt(rstar_off / (nh * n * (n - 1)))
        crms = math.sqrt(rstar_off / (2 * nh * dof)) if dof > 0 else math.nan
    if dof > 0:
        epval = float(spc.chdtrc(dof, chi)) if not math.isnan(chi) else math.nan
        ebic = chi - dof * math.log(nh) if not math.isnan(nh) else math.nan
    else:
        epval = ebic = math.nan
    fit = 1 - rstar2 / r2
    fit_off = 1 - rstar_off / r2_off

    mdl = model.copy()
    mdl[np.diag_indices(n)] = np.diag(r)
    mdl, _ = cor_smooth(mdl)
    rr = cor_smooth(r)[0] if smooth else r
    try:
        minvr = np.linalg.solve(mdl, rr)
    except np.linalg.LinAlgError:
        minvr = np.eye(n)
    objective = float(np.trace(minvr)) - _logdet(minvr) - n
    chisq = math.nan
    pval = math.nan
    if not math.isnan(nobs):
        chisq = objective * ((nobs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3)
        if not math.isnan(chisq) and chisq < 0:
            chisq = 0.0
        pval = float(spc.chdtrc(dof, chisq)) if dof > 0 else math.nan
    F0 = float(np.trace(rr)) - _logdet(rr) - n
    Mm = objective / dof if dof != 0 else math.nan
    M0 = F0 * 2 / (n * (n - 1))
    nm = (nobs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3
    null_dof = n * (n - 1) / 2
    null_chisq = tli = math.nan
    rmsea = lo = hi = bic = sabic = math.nan
    if not math.isnan(nobs):
        null_chisq = F0 * ((nobs - 1) - (2 * n + 5) / 6)
        tli = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0 and not math.isnan(objective):
            rmsea = math.sqrt(max(chisq / (dof * nobs) - 1 / (nobs - 1), 0.0))
            lo, hi = _rmsea_ci(chisq, dof, nobs, alpha / 2)
            if math.isnan(hi) and rmsea <= 0:
                hi = 0.0  # psych: a failed uniroot for the upper bound with RMSEA 0
            if not math.isnan(hi) and hi < rmsea:
                hi = math.nan
            if not math.isnan(lo) and lo > rmsea:
                lo = math.nan
            bic = chisq - dof * math.log(nobs)
            sabic = chisq - dof * math.log((nobs + 2) / 24)
    return FitStatistics(
        objective=objective, chisq=chisq, df=float(dof), p_value=pval,
        null_objective=F0, null_chisq=null_chisq, null_df=float(null_dof),
        rmsea=rmsea, rmsea_ci_lower=lo, rmsea_ci_upper=hi, rmsea_confidence=1 - alpha,
        tli=tli, bic=bic, sabic=sabic, rms=rms, crms=crms, fit=fit, fit_off=fit_off,
        empirical_chisq=chi, empirical_p_value=epval, empirical_bic=ebic,
        n_obs=nobs, harmonic_n_obs=nh)


def _rmsea_ci(chisq: float, dof: float, n: float, tail: float) -> tuple[float, float]:
    """psych's RMSEA interval: noncentrality where the ncx2 cdf at ``chisq`` is
    ``tail`` (upper bound) and ``1 - tail`` (lower bound), found on
    ``[0, max(n, chisq) + 2n]`` by R's ``uniroot`` with its default tolerance
    (``eps^0.25`` on the noncentrality), whose iterations are reproduced.

    Where R's ``uniroot`` fails (end points of equal sign) psych's ``try`` gives the
    upper bound 0 if the RMSEA is 0 and NA otherwise, and the lower bound NA; the
    caller applies the RMSEA-0 rule.
    """
    from scipy import special as spc
    from ..numerics.brent import uniroot
    upper_x = max(n, chisq) + 2 * n
    p0 = float(spc.chdtr(dof, chisq))

    def root(target):
        fn = lambda x: float(spc.chndtr(chisq, dof, x)) - target if x > 0 else p0 - target
        f_lo, f_hi = fn(0.0), fn(upper_x)
        if np.isnan(f_lo) or np.isnan(f_hi) or f_lo * f_hi > 0:
            return math.nan
        return uniroot(fn, 0.0, upper_x)

    hi = 0.0
    if p0 > tail:
        x = root(tail)
        hi = math.sqrt(x / (n - 1) / dof) if not math.isnan(x) else math.nan
    lo = 0.0
    if p0 > 1 - tail:
        x = root(1 - tail)
        lo = math.sqrt(x / (n - 1) / dof) if not math.isnan(x) else math.nan
    return lo, hi
