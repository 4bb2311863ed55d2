"""Level-specific reliability of a two-level CFA (Geldhof, Preacher & Zyphur 2014; Lai 2021).

For a factor with loadings ``lambda`` (on observed indicators ``J``) and variance
``psi`` at one level, and level covariance matrices ``Sigma_W`` / ``Sigma_B``
(saturated-model (h1) estimates when ``obs_var=True``, as semTools' default;
model-implied when ``obs_var=False``)::

    omega (level l)  = (sum lambda_l)^2 psi_l / 1' Sigma_l[J, J] 1          (Geldhof)
    omega_b          = (sum lambda_b)^2 psi_b / (1' Sigma_B 1 + 1' Sigma_W 1 / n~)   (Lai)
    irr              = 1' Sigma_B 1 / (1' Sigma_B 1 + 1' Sigma_W 1 / n~)
    omega_2l         = ((sum lambda_w)^2 psi_w + (sum lambda_b)^2 psi_b) / 1'(Sigma_W + Sigma_B)1

with ``n~`` the harmonic mean cluster size. ``omega_b`` is the reliability of the
observed cluster means of the unit-weighted composite as measures of the
between-cluster factor (for a patient: the reliability of the patient's mean
score); ``omega_2l`` is the reliability of a single composite score of a
configural construct (the same factor name at both levels, loadings equal across
levels). With model-implied matrices and equal loadings, ``omega_b`` is Lai's
formula ``(sum lambda)^2 psi_b / [(sum lambda)^2 (psi_b + psi_w / n~) + sum theta_b +
sum theta_w / n~]``.

R: ``semTools::compRelSEM(fit)`` (per-block omegas), ``compRelSEM(fit, shared = "fb")``
(``omega_B``, ``IRR``), ``compRelSEM(fit, config = "f", shared = "f")`` (``omega_W``,
``omega_2L``, ``omega_B``), semTools 0.5-6.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError

__all__ = ["twolevel_reliability", "lai_omega_between"]


def lai_omega_between(loadings, psi_b, psi_w, theta_b, theta_w, n_harmonic: float) -> float:
    """Lai's (2021) omega of observed cluster means for equal loadings across levels.

    ``(sum lambda)^2 psi_b / [(sum lambda)^2 (psi_b + psi_w / n~) + sum theta_b + sum theta_w / n~]``
    with ``theta_b``/``theta_w`` the residual variances (diagonal) of the indicators.
    """
    s2 = float(np.sum(loadings)) ** 2
    return s2 * psi_b / (s2 * (psi_b + psi_w / n_harmonic) + float(np.sum(theta_b))
                         + float(np.sum(theta_w)) / n_harmonic)


def _factors(est: pd.DataFrame, level: int, ov: set):
    out = {}
    e = est[(est["level"] == level) & (est["op"] == "=~")]
    for f in dict.fromkeys(e["lhs"]):
        rows = e[e["lhs"] == f]
        inds = list(rows["rhs"])
        if any(v not in ov for v in inds):
            continue  # higher-order factor
        psi = est[(est["level"] == level) & (est["op"] == "~~") & (est["lhs"] == f)
                  & (est["rhs"] == f)]["est"]
        out[f] = (inds, rows["est"].to_numpy(dtype=float), float(psi.iloc[0]))
    return out


def twolevel_reliability(result, obs_var: bool = True) -> pd.DataFrame:
    """Level-specific omegas of every factor of a two-level CFA.

    Parameters
    ----------
    result : TwoLevelResult
    obs_var : bool
        Denominators from the saturated-model (h1) level covariance matrices (default,
        semTools ``obs.var = TRUE``) or from the model-implied ones.

    Returns
    -------
    DataFrame
        One row per factor and level: ``level, factor, n_indicators, omega`` (Geldhof's
        level-specific omega), ``omega_b, irr`` (Lai's omega and the interrater
        reliability of observed cluster means; level-2 factors), ``omega_2l`` (configural
        factors: same name at both levels). NaN where a coefficient does not apply.

    Notes
    -----
    Formulas in the module docstring. Factors whose indicators are latent (higher
    order) are skipped. R: ``semTools::compRelSEM()`` (see module docstring).
    """
    if not result.converged:
        raise ModelSpecificationError("The model did not converge; reliability is not defined.")
    src_w = result.h1_within if obs_var else result.implied_within
    src_b = result.h1_between if obs_var else result.implied_between
    Sw, Sb = src_w["cov"], src_b["cov"]
    n_h = 1.0 / float(np.mean(1.0 / result.cluster_sizes.to_numpy(dtype=float)))
    est = result.estimates
    f1 = _factors(est, 1, set(Sw.index))
    f2 = _factors(est, 2, set(Sb.index))
    rows = []
    for level, facs, S in ((1, f1, Sw), (2, f2, Sb)):
        for f, (inds, lam, psi) in facs.items():
            common = lam.sum() ** 2 * psi
            tot = float(S.loc[inds, inds].to_numpy().sum())
            r = dict(level=level, factor=f, n_indicators=len(inds), omega=common / tot,
                     omega_b=np.nan, irr=np.nan, omega_2l=np.nan)
            if level == 2:
                w_inds = [v for v in inds if v in Sw.index]
                tw = float(Sw.loc[w_inds, w_inds].to_numpy().sum())
                denom = tot + tw / n_h
                r["omega_b"] = common / denom
                r["irr"] = tot / denom
            other = f2 if level == 1 else f1
            if f in other and sorted(other[f][0]) == sorted(inds):
                inds_o, lam_o, psi_o = other[f]
                common_o = lam_o.sum() ** 2 * psi_o
                tot_w = float(Sw.loc[inds, inds].to_numpy().sum())
                tot_b = float(Sb.loc[inds, inds].to_numpy().sum())
                r["omega_2l"] = (common + common_o) / (tot_w + tot_b)
            rows.append(r)
    return pd.DataFrame(rows, columns=["level", "factor", "n_indicators", "omega", "omega_b",
                                       "irr", "omega_2l"])
