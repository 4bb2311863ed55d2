"""Model-based reliability of CFA factors (semTools ``reliability()``, ``compRelSEM()``, ``AVE()``).

For a factor with loadings ``lambda_j`` on its observed indicators ``J``,
variance ``psi``, residual covariance block ``Theta_JJ``, sample covariance
``S_JJ`` and implied covariance ``Sigma_JJ`` (semTools 0.5-6, Raykov 2001,
Bentler 2009)::

    alpha  = k/(k-1) (1 - tr(S_JJ) / 1'S_JJ 1)                   (sample covariance)
    omega  = (sum lambda)^2 psi / ((sum lambda)^2 psi + 1'Theta_JJ 1)
    omega2 = (sum lambda)^2 psi / 1'Sigma_JJ 1                    (implied total variance)
    omega3 = (sum lambda)^2 psi / 1'S_JJ 1                        (observed total variance)
    avevar = sum(lambda^2 psi) / tr(Sigma_JJ)     AVE = sum(lambda^2 psi) / tr(S_JJ)

``compRelSEM()`` (default ``obs.var = TRUE``) is ``omega3``; with ``tau_eq=True``
it is ``alpha``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError

__all__ = ["reliability", "comp_rel_sem", "ave"]


def _factor_blocks(result):
    """Yield (group, group key, factor, indicator names, loadings, psi) per factor."""
    from .ordinal import OrdinalSEMResult
    if isinstance(result, OrdinalSEMResult):
        raise ModelSpecificationError(
            "reliability() and ave() need a continuous (ML/MLR) fit; for an ordinal fit use "
            "comp_rel_sem(), the ordinal omega of semTools::compRelSEM.")
    est = result.estimates
    lvs = list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))
    keys = list(result.sample_cov)
    for g, key in enumerate(keys, start=1):
        eg = est[est["group"] == g]
        for f in lvs:
            load = eg[(eg["op"] == "=~") & (eg["lhs"] == f)]
            inds = list(load["rhs"])
            if any(v not in result.sample_cov[key].index for v in inds):
                continue  # higher-order factor: indicators are latent
            psi = eg[(eg["op"] == "~~") & (eg["lhs"] == f) & (eg["rhs"] == f)]["est"].item()
            yield g, key, f, inds, load["est"].to_numpy(), psi


def reliability(result) -> pd.DataFrame:
    """semTools ``reliability(fit)``: one row per group and factor.

    Returns
    -------
    DataFrame with ``group, factor, alpha, omega, omega2, omega3, avevar``.

    Notes
    -----
    R: ``semTools::reliability(fit)`` (semTools 0.5-6), formulas in the module docstring.
    """
    if not result.converged:
        raise ModelSpecificationError("The model did not converge; reliability is not defined.")
    rows = []
    est = result.estimates
    for g, key, f, inds, lam, psi in _factor_blocks(result):
        S = result.sample_cov[key].loc[inds, inds].to_numpy()
        Sig = result.implied_cov[key].loc[inds, inds].to_numpy()
        eg = est[(est["group"] == g) & (est["op"] == "~~")]
        th = eg[eg["lhs"].isin(inds) & eg["rhs"].isin(inds)]
        th_sum = float(np.sum(np.where(th["lhs"] == th["rhs"], 1.0, 2.0) * th["est"].to_numpy()))
        k = len(inds)
        num = lam.sum() ** 2 * psi
        rows.append(dict(group=g, factor=f,
                         alpha=k / (k - 1) * (1 - np.trace(S) / S.sum()) if k > 1 else np.nan,
                         omega=num / (num + th_sum), omega2=num / Sig.sum(), omega3=num / S.sum(),
                         avevar=float(np.sum(lam ** 2 * psi) / np.trace(Sig))))
    return pd.DataFrame(rows, columns=["group", "factor", "alpha", "omega", "omega2", "omega3",
                                       "avevar"])


def comp_rel_sem(result, tau_eq: bool = False, obs_var: bool = True) -> pd.DataFrame:
    """semTools ``compRelSEM(fit, tau.eq =, obs.var =)``: composite reliability per factor.

    ``tau_eq=False, obs_var=True`` (default) is omega with the observed total variance
    (``omega3``); ``obs_var=False`` uses the implied total variance (``omega2``);
    ``tau_eq=True`` gives coefficient alpha. For an ordinal (WLSMV/DWLS) fit this is
    the ordinal omega of Green & Yang (2009), :func:`.ordinal.ordinal_omega`.
    """
    from .ordinal import OrdinalSEMResult, ordinal_omega
    if isinstance(result, OrdinalSEMResult):
        if tau_eq:
            raise ModelSpecificationError("tau_eq=True is not available for ordinal fits.")
        om = ordinal_omega(result, obs_var=obs_var)
        return pd.DataFrame({"group": 1, "factor": om.index, "reliability": om.to_numpy()})
    rel = reliability(result)
    col = "alpha" if tau_eq else ("omega3" if obs_var else "omega2")
    return rel[["group", "factor"]].assign(reliability=rel[col].to_numpy())


def ave(result, obs_var: bool = True) -> pd.DataFrame:
    """semTools ``AVE(fit)``: average variance extracted, ``sum(lambda^2 psi) / tr(S)``.

    With ``obs_var=False`` the implied variances are used (``reliability()$avevar``).
    """
    rows = []
    for g, key, f, inds, lam, psi in _factor_blocks(result):
        M = result.sample_cov[key] if obs_var else result.implied_cov[key]
        V = M.loc[inds, inds].to_numpy()
        rows.append(dict(group=g, factor=f, ave=float(np.sum(lam ** 2 * psi) / np.trace(V))))
    return pd.DataFrame(rows, columns=["group", "factor", "ave"])
