"""Item response theory parameters from a factor analysis of tetrachoric or polychoric
correlations: ``psych::irt.fa``."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import HeywoodCaseWarning
from ..results import Summary
from .model import FactorAnalysisResult, fa

__all__ = ["irt_fa", "IRTFactorResult"]


@dataclass(frozen=True, eq=False)
class IRTFactorResult:
    """Normal-ogive IRT parameters from a factor analysis (Lord & Novick's conversion).

    Attributes
    ----------
    discrimination : DataFrame
        Items x factors, ``lambda / sqrt(1 - lambda^2)``.
    difficulty : dict[str, DataFrame]
        Per factor, items x thresholds, ``tau / sqrt(1 - lambda^2)``.
    fa : FactorAnalysisResult
        The factor analysis of ``rho``.
    rho, tau : DataFrame
        The tetrachoric (two categories) or polychoric correlations and thresholds.
    kind : {"tetrachoric", "polychoric"}
    """

    discrimination: pd.DataFrame
    difficulty: dict
    fa: FactorAnalysisResult
    rho: pd.DataFrame
    tau: pd.DataFrame
    kind: str

    def to_frame(self) -> pd.DataFrame:
        """One row per item and factor: ``item, factor, loading, discrimination`` and the
        difficulties ``difficulty_1 ...``."""
        rows = []
        for f in self.discrimination.columns:
            dif = self.difficulty[f]
            for item in self.discrimination.index:
                rows.append({"item": item, "factor": f,
                             "loading": float(self.fa.loadings.loc[item, f]),
                             "discrimination": float(self.discrimination.loc[item, f]),
                             **{f"difficulty_{c}": float(dif.loc[item, c]) for c in dif.columns}})
        return pd.DataFrame(rows)

    def summary(self) -> Summary:
        return Summary(title=f"IRT parameters from a factor analysis of {self.kind} correlations",
                       header=("discrimination = loading / sqrt(1 - loading^2); difficulty = "
                               "threshold / sqrt(1 - loading^2) (normal ogive; psych::irt.fa).",),
                       blocks=(("Items", self.to_frame()),))


def irt_fa(data, n_factors: int = 1, *, correct: float = 0.5, rotation: str = "oblimin",
           method: str = "minres") -> IRTFactorResult:
    """Factor analysis of tetrachoric/polychoric correlations, converted to IRT parameters.

    Equal to ``psych::irt.fa(x, nfactors, correct, rotate, fm)``: items with two values get
    :func:`~psychometrics.reliability.tetrachoric` correlations (continuity correction
    ``correct`` for empty cells), otherwise :func:`~psychometrics.reliability.polychoric`.
    A Heywood case (a loading of 1 or more) makes a discrimination undefined; as psych, it
    is replaced by the factor's largest discrimination and its difficulty by the
    threshold, with a warning naming the item.
    """
    from ..numerics.polychoric import polychoric
    from ..numerics.tetrachoric import tetrachoric

    x = pd.DataFrame(data)
    values = pd.unique(x.to_numpy().ravel())
    values = values[~pd.isna(values)]
    if len(values) == 2:
        cor, kind = tetrachoric(x, correct=correct), "tetrachoric"
    else:
        cor, kind = polychoric(x), "polychoric"
    res = fa(cor.rho, n_factors, method=method, rotation=rotation, n_obs=cor.n_obs)
    L = res.loadings
    tau = cor.tau.loc[L.index]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(1 - L ** 2)
        disc = L / scale
    difficulty = {f: tau.div(scale[f], axis=0) for f in L.columns}
    for f in L.columns:
        bad = disc.index[disc[f].isna()].tolist()
        if bad:
            warnings.warn(f"irt_fa: the loading of {', '.join(map(str, bad))} on {f} is 1 or more "
                          "(a Heywood case); its discrimination is set to the factor's largest and "
                          "its difficulty to its threshold, as psych does. Try another extraction "
                          "method.", HeywoodCaseWarning, stacklevel=2)
            disc.loc[bad, f] = disc[f].max()
            difficulty[f].loc[bad] = tau.loc[bad].to_numpy()
    return IRTFactorResult(discrimination=disc, difficulty=difficulty, fa=res, rho=cor.rho,
                           tau=cor.tau, kind=kind)
