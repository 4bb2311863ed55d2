"""Scale intercorrelations corrected for shared items: ``psych::scoreOverlap``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..results import Summary
from ._common import numeric_frame

__all__ = ["score_overlap", "ScoreOverlapResult"]


@dataclass(frozen=True, eq=False)
class ScoreOverlapResult:
    """Scale correlations corrected for item overlap.

    Attributes
    ----------
    cor : DataFrame
        Scale correlations with each shared item's own variance replaced by the scales'
        average inter-item correlation (psych's ``cor``).
    corrected : DataFrame
        Lower triangle ``cor``, diagonal alpha, upper triangle disattenuated by the alphas.
    scales : DataFrame
        One row per scale: ``scale, n_items, alpha, av_r, g6, sn, sd`` (psych's ``size``,
        ``alpha``, ``av.r``, ``G6``, ``sn``, ``sd``).
    """

    cor: pd.DataFrame
    corrected: pd.DataFrame
    scales: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.scales.copy()

    def summary(self) -> Summary:
        return Summary(title="Scale correlations corrected for overlapping items",
                       header=("Upper triangle: disattenuated by alpha; diagonal: alpha; lower "
                               "triangle: overlap-corrected correlations (psych::scoreOverlap).",),
                       blocks=(("Scales", self.scales),
                               ("Corrected correlations", self.corrected.reset_index(names="scale"))))


def _keys_matrix(keys: dict, items: list[str]) -> np.ndarray:
    k = np.zeros((len(items), len(keys)))
    pos = {v: i for i, v in enumerate(items)}
    for j, lst in enumerate(keys.values()):
        for it in lst:
            k[pos[it.lstrip("-")], j] = -1.0 if it.startswith("-") else 1.0
    return k


def score_overlap(keys: dict, data) -> ScoreOverlapResult:
    """Correlations between scales that share items, corrected for the overlap.

    Equal to ``psych::scoreOverlap(keys, data)`` with its defaults (``correct = TRUE``,
    ``SMC = TRUE``, ``av.r = TRUE``): the correlation matrix is computed pairwise over the
    items named in ``keys`` (in that order), and each shared item's unit variance is
    replaced by the geometric mean of the two scales' average inter-item correlations.

    Parameters
    ----------
    keys : dict
        ``{scale: [items]}``; an item written ``"-A1"`` is reverse keyed.
    data : DataFrame
        Raw item responses (or a correlation matrix with the items as index and columns).
    """
    if not isinstance(keys, dict) or not keys:
        raise DataValidationError("keys= must be a dict {scale: [items]} with at least one scale.")
    data = numeric_frame(data, func="score_overlap")
    items = list(dict.fromkeys(it.lstrip("-") for lst in keys.values() for it in lst))
    absent = [v for v in items if v not in data.columns]
    if absent:
        raise DataValidationError(f"keys= names item(s) not in data=: {', '.join(absent)}.")
    is_cor = (data.shape[0] == data.shape[1] and list(data.index) == list(data.columns)
              and np.allclose(np.diag(data.to_numpy()), 1.0))
    r = (data.loc[items, items] if is_cor else data[items].corr()).to_numpy()
    if np.isnan(r).any():
        raise DataValidationError("Some pairs of items have no rows in common; their correlation "
                                  "is undefined.")
    from ..efa import smc
    K = _keys_matrix(keys, items)
    item_smc = smc(r)
    covar = K.T @ r @ K
    var = np.diag(covar)
    size = np.diag(K.T @ K)
    key_smc = K.T @ item_smc
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = ((var - size) / var) * (size / (size - 1))
    alpha = np.where(np.isfinite(alpha), alpha, 1.0)
    g6 = (var - size + key_smc) / var
    av_r = alpha / (size - alpha * (size - 1))
    with np.errstate(divide="ignore"):
        sn = av_r * size / (1 - av_r)
    adj = covar.copy()
    n_keys = K.shape[1]
    for i in range(n_keys):
        for j in range(i):
            shared = K[:, i] * K[:, j]
            adj[i, j] = adj[j, i] = covar[i, j] - shared.sum() + np.sum(shared * np.sqrt(av_r[i] * av_r[j]))
    d = np.sqrt(np.diag(adj))
    adj_r = adj / np.outer(d, d)
    corrected = adj_r.copy()
    np.fill_diagonal(corrected, alpha)
    iu = np.triu_indices(n_keys, 1)
    corrected[iu] = adj_r[iu] / np.sqrt(alpha[iu[0]] * alpha[iu[1]])
    names = [str(k) for k in keys]
    frame = lambda m: pd.DataFrame(m, index=names, columns=names)  # noqa: E731
    scales = pd.DataFrame({"scale": names, "n_items": size.astype(int), "alpha": alpha,
                           "av_r": av_r, "g6": g6, "sn": sn, "sd": np.sqrt(var)})
    return ScoreOverlapResult(cor=frame(adj_r), corrected=frame(corrected), scales=scales)
