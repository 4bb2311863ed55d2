"""Immutable result objects of :func:`psychometrics.sem.twolevel.fit_twolevel`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..results import Summary
from .results import SEMResultBase, inference, sem_summary

__all__ = ["TwoLevelResult"]


@dataclass(frozen=True)
class TwoLevelResult(SEMResultBase):
    """Result of :func:`fit_twolevel` (immutable).

    Attributes
    ----------
    estimates : DataFrame
        ``lhs, op, rhs, level, label, est, se, z, p_value, ci_lower, ci_upper, std_all,
        free`` (lavaan ``parameterEstimates`` + ``standardizedSolution``'s ``est.std``),
        level 1 rows first.
    fit_measures : Mapping[str, float]
        lavaan ``fitMeasures()`` of a two-level model with snake_case keys: ``npar, fmin,
        chisq, df, pvalue, baseline_chisq, baseline_df, baseline_pvalue, cfi, tli, nnfi, rfi,
        nfi, pnfi, ifi, rni, logl, unrestricted_logl, aic, bic, ntotal, bic2, rmsea,
        rmsea_ci_lower, rmsea_ci_upper, rmsea_ci_level, rmsea_pvalue, rmsea_close_h0,
        rmsea_notclose_pvalue, rmsea_notclose_h0, srmr, srmr_within, srmr_between``, plus
        ``n_obs`` and ``n_clusters``.
    implied_within, implied_between : dict with ``cov`` (DataFrame) and ``mean`` (Series)
        Model-implied level-specific moments (lavaan ``fitted(fit)``).
    h1_within, h1_between : dict
        Saturated-model (EM) moments (lavaan ``lavInspect(fit, "h1")``).
    icc : Series
        Intraclass correlations of the level-1 variables from the h1 moments
        (lavaan ``lavInspect(fit, "icc")``).
    vcov : DataFrame or None
    dropped : Mapping[str, int]
        Rows removed before fitting, by reason (e.g. ``"no observed level-1 variable"``,
        ``"missing values (listwise deletion)"``) and ``"clusters with no observed
        values"``; empty when nothing was removed. ``n_obs`` counts the rows used.
    """

    model: str
    estimates: pd.DataFrame
    fit_measures: Mapping[str, float]
    converged: bool
    iterations: int
    optimizer_message: str
    n_obs: int
    n_clusters: int
    average_cluster_size: float
    cluster_sizes: pd.Series
    implied_within: Mapping[str, Any]
    implied_between: Mapping[str, Any]
    h1_within: Mapping[str, Any]
    h1_between: Mapping[str, Any]
    icc: pd.Series
    vcov: pd.DataFrame | None
    options: Mapping[str, Any]
    warnings: tuple[str, ...]
    timing: float
    parameter_table: pd.DataFrame
    dropped: Mapping[str, int] = field(default_factory=dict)
    _theta: np.ndarray = field(repr=False, compare=False, default=None)
    _model: Any = field(repr=False, compare=False, default=None)

    def standardized_solution(self) -> pd.DataFrame:
        """lavaan ``standardizedSolution(fit)`` (type ``std.all``) with delta-method SEs.

        Columns ``lhs, op, rhs, level, est_std, se, z, p_value, ci_lower, ci_upper``. The
        Jacobian of the standardized values is taken by complex-step differentiation
        (lavaan: ``lav_func_jacobian_complex``); ``se = sqrt(diag(J vcov J'))``.
        """
        est = self.estimates
        std = est["std_all"].to_numpy(dtype=float)
        se = np.full(len(std), np.nan)
        if self.vcov is not None and self._model is not None:
            from .twolevel_model import _std_all
            n = len(self._theta)
            J = np.zeros((len(std), n))
            h = 1e-20
            for j in range(n):
                x = self._theta.astype(complex)
                x[j] += 1j * h
                J[:, j] = np.imag(_std_all(self._model, x)) / h
            V = J @ self.vcov.to_numpy() @ J.T
            se = np.sqrt(np.clip(np.diag(V), 0, None))
            se[np.abs(np.diag(V)) < 1e-30] = np.nan    # fixed standardized values
        z, p, lo, hi = inference(std, se)
        return pd.DataFrame(dict(lhs=est["lhs"], op=est["op"], rhs=est["rhs"], level=est["level"],
                                 est_std=std, se=se, z=z, p_value=p, ci_lower=lo, ci_upper=hi))

    def to_frame(self) -> pd.DataFrame:
        """The parameter estimates (``estimates``), one row per parameter and level."""
        return self.estimates.copy()

    def summary(self) -> Summary:
        fm = self.fit_measures
        est_name = self.options.get("estimator", "ML")
        header = (("Estimator", f"{est_name} (two-level)"), ("Converged", str(self.converged)),
                  ("Iterations", str(self.iterations)), ("Observations", str(self.n_obs)),
                  ("Clusters", str(self.n_clusters)),
                  ("Average cluster size", f"{self.average_cluster_size:.3f}"),
                  ("Missing data", "full-information ML (missing='ml')"
                   if self.options.get("missing") == "ml" else "listwise deletion"),
                  ("Standard errors", "robust (Huber-White, cluster scores)"
                   if self.options.get("se") == "robust.huber.white" else "observed information"))
        header += tuple((f"Rows dropped: {why}", str(n)) for why, n in self.dropped.items())
        keys = ("chisq", "df", "pvalue", "chisq_scaled", "chisq_scaling_factor", "pvalue_scaled",
                "cfi", "tli", "rmsea", "cfi_robust", "tli_robust", "rmsea_robust", "srmr_within",
                "srmr_between", "logl", "unrestricted_logl", "aic", "bic")
        fit = tuple((k, float(fm[k])) for k in keys if k in fm)
        warn = "" if self.converged else ("THE MODEL DID NOT CONVERGE. The estimates below are "
                                          "NOT valid; standard errors are not computed.")
        cols = ["lhs", "op", "rhs", "level", "label", "est", "se", "z", "p_value", "std_all"]
        return sem_summary("Two-level structural equation model (lavaan-style summary)", header,
                           fit, self.estimates[cols], warn, by_level=True)

    def reliability(self, obs_var: bool = True) -> pd.DataFrame:
        """Level-specific omega (Geldhof et al. 2014) and Lai's (2021) omega for the
        observed cluster means; see :func:`.twolevel_reliability.twolevel_reliability`."""
        from .twolevel_reliability import twolevel_reliability
        return twolevel_reliability(self, obs_var=obs_var)

    def __repr__(self) -> str:
        fm = self.fit_measures
        s = f"TwoLevelResult(converged={self.converged}, n_obs={self.n_obs}, n_clusters={self.n_clusters}"
        if "chisq" in fm:
            s += (f", chisq={fm['chisq']:.3f}, df={fm['df']:.0f}, cfi={fm['cfi']:.3f}, "
                  f"rmsea={fm['rmsea']:.3f}")
        return s + ")"
