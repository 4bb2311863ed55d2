"""Measurement invariance: nested multi-group fits and their likelihood-ratio tests.

``invariance()`` fits configural, metric (loadings), scalar (+ intercepts) and
strict (+ residuals) models; ``lrt()`` compares nested fits as
``lavaan::lavTestLRT`` (models ordered by df, chi-square difference tests of
consecutive models, RMSEA of the difference).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..results import Summary
from .results import SEMResult

__all__ = ["invariance", "lrt", "InvarianceResult", "LEVELS"]

LEVELS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


def lrt(*fits: SEMResult, names=None) -> pd.DataFrame:
    """Chi-square difference tests of nested models (lavaan ``lavTestLRT``, method "standard").

    Returns
    -------
    DataFrame indexed by model name with ``df, aic, bic, chisq, chisq_diff, rmsea_diff,
    df_diff, p_value_diff`` (lavaan: ``Df, AIC, BIC, Chisq, Chisq diff, RMSEA, Df diff,
    Pr(>Chisq)``). ``rmsea_diff`` is the RMSEA of the difference test:
    ``sqrt(max(0, (dX2 - ddf) / (N ddf))) * sqrt(G)``. For MLR fits the difference is
    Satorra-Bentler (2001) scaled, ``(T0 - T1) / cd`` with
    ``cd = (df0 c0 - df1 c1) / (df0 - df1)``, and ``rmsea_diff`` is NaN (as lavaan); ``chisq``
    stays the standard (unscaled) statistic, as lavaan's "Chisq" column.
    """
    from scipy import special  # lazy: keeps `import psychometrics.sem` light

    if len(fits) < 2:
        raise ModelSpecificationError("lrt() needs at least two fitted models.")
    names = list(names) if names is not None else [f"model{i + 1}" for i in range(len(fits))]
    for nm, f in zip(names, fits):
        if not f.converged:
            raise ModelSpecificationError(f"Model {nm!r} did not converge; it cannot be compared.")
    n0 = fits[0].n_obs
    for nm, f in zip(names, fits):
        if f.n_obs != n0:
            raise ModelSpecificationError(
                f"Model {nm!r} was fitted to {f.n_obs} observations, the first to {n0}; nested "
                f"models must use the same data.")
    scaled = all("chisq_scaling_factor" in f.fit_measures for f in fits)
    if not scaled and any("chisq_scaling_factor" in f.fit_measures for f in fits):
        raise ModelSpecificationError("lrt() cannot compare a robust (MLR) fit with a plain ML fit.")
    order = sorted(range(len(fits)), key=lambda i: fits[i].fit_measures["df"])
    rows = []
    prev = None
    for i in order:
        fm = fits[i].fit_measures
        row = dict(model=names[i], df=fm["df"], aic=fm["aic"], bic=fm["bic"], chisq=fm["chisq"],
                   chisq_diff=np.nan, rmsea_diff=np.nan, df_diff=np.nan, p_value_diff=np.nan)
        if prev is not None:
            d = fm["chisq"] - prev["chisq"]
            ddf = fm["df"] - prev["df"]
            N = fm["ntotal"]
            G = len(fits[i].n_obs)
            if scaled and ddf > 0:
                # Satorra-Bentler (2001) scaled difference (lavaan's default for MLR);
                # lavaan reports no RMSEA of the difference then
                c1 = prev["chisq_scaling_factor"] if prev["df"] > 0 else 1.0
                cd = (fm["df"] * fm["chisq_scaling_factor"] - prev["df"] * c1) / ddf
                d = d / cd if cd > 0 else np.nan
            row["chisq_diff"] = d
            row["df_diff"] = ddf
            if ddf > 0:
                if not scaled:
                    row["rmsea_diff"] = float(np.sqrt(max(0.0, (d - ddf) / (N * ddf))) * np.sqrt(G))
                row["p_value_diff"] = float(special.chdtrc(ddf, d))
        rows.append(row)
        prev = fm
    return pd.DataFrame(rows).set_index("model")


@dataclass(frozen=True)
class InvarianceResult:
    """Fits of the invariance sequence and their comparison table."""

    fits: Mapping[str, SEMResult]
    table: pd.DataFrame

    def __repr__(self) -> str:
        return f"InvarianceResult(levels={list(self.fits)})\n{self.table.to_string()}"

    def to_frame(self) -> pd.DataFrame:
        """The comparison table with the level as a column (``model``)."""
        return self.table.reset_index()

    def summary(self) -> Summary:
        """The comparison of the invariance levels (lavaan ``lavTestLRT`` + fit changes)."""
        return Summary("Measurement invariance across groups",
                       (f"Levels: {', '.join(self.fits)}",),
                       (("Model comparison", self.table),),
                       ("p_value_diff: chi-square difference test against the previous level.",))


def invariance(model: str, data: pd.DataFrame, group: str,
               levels=("configural", "metric", "scalar", "strict"), group_partial=None,
               **kwargs) -> InvarianceResult:
    """Fit the measurement-invariance sequence and compare consecutive models.

    Parameters
    ----------
    model : str
        lavaan syntax of the (one-group) measurement model.
    data : DataFrame
    group : str
        Group column (order = first appearance, as lavaan).
    levels : sequence of str
        Any of ``"configural", "metric", "scalar", "strict"`` in increasing order.
    group_partial : list of str, optional
        Released constraints, passed to every constrained fit.
    **kwargs
        Passed to :func:`psychometrics.sem.fit` (e.g. ``std_lv``).

    Returns
    -------
    InvarianceResult
        ``table`` has ``npar, df, chisq, p_value, cfi, tli, rmsea, srmr, aic, bic`` per level
        and ``chisq_diff, df_diff, p_value_diff, rmsea_diff, delta_cfi, delta_rmsea`` against the
        previous level (lavaan ``lavTestLRT``); with ``estimator="MLR"`` the difference
        test is Satorra-Bentler scaled and ``cfi_robust, rmsea_robust`` with their
        changes are added.

    Notes
    -----
    R: ``cfa(model, data, group = g, group.equal = ...)`` for each level, then
    ``lavTestLRT(configural, metric, scalar, strict)``.
    """
    from .api import fit
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ModelSpecificationError(
            f"The 'levels' argument contains {bad[0]!r}; allowed: {', '.join(LEVELS)}.")
    fits = {}
    for lv in levels:
        fits[lv] = fit(model, data, group=group, group_equal=list(LEVELS[lv]) or None,
                       group_partial=group_partial if LEVELS[lv] else None, **kwargs)
    comp = lrt(*fits.values(), names=list(fits))
    rows = []
    prev = None
    for lv, f in fits.items():
        fm = f.fit_measures
        row = dict(model=lv, npar=fm["npar"], df=fm["df"], chisq=fm["chisq"], p_value=fm["pvalue"],
                   cfi=fm["cfi"], tli=fm["tli"], rmsea=fm["rmsea"], srmr=fm["srmr"],
                   aic=fm["aic"], bic=fm["bic"],
                   chisq_diff=comp.at[lv, "chisq_diff"], df_diff=comp.at[lv, "df_diff"],
                   p_value_diff=comp.at[lv, "p_value_diff"],
                   rmsea_diff=comp.at[lv, "rmsea_diff"],
                   delta_cfi=np.nan if prev is None else fm["cfi"] - prev["cfi"],
                   delta_rmsea=np.nan if prev is None else fm["rmsea"] - prev["rmsea"])
        if "cfi_robust" in fm:  # MLR: the robust indices and their changes too
            row.update(cfi_robust=fm["cfi_robust"], rmsea_robust=fm["rmsea_robust"],
                       delta_cfi_robust=np.nan if prev is None
                       else fm["cfi_robust"] - prev["cfi_robust"],
                       delta_rmsea_robust=np.nan if prev is None
                       else fm["rmsea_robust"] - prev["rmsea_robust"])
        rows.append(row)
        prev = fm
    table = pd.DataFrame(rows).set_index("model")
    return InvarianceResult(MappingProxyType(fits), table)
