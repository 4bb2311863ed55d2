"""Every reliability coefficient of several scales in one table: ``psych::reliability``
and its unidimensionality index ``psych::unidim``."""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ReliabilityWarning
from ..results import Summary
from ._common import numeric_frame

__all__ = ["reliability_table", "ReliabilityTableResult", "unidim", "UnidimResult"]


def _keys_or_all(keys, data: pd.DataFrame) -> dict[str, list[str]]:
    if keys is None:
        return {"All_items": [str(c) for c in data.columns]}
    if not isinstance(keys, dict) or not keys:
        raise DataValidationError("keys= must be a dict {scale: [items]} with at least one scale.")
    out = {}
    for name, lst in keys.items():
        if isinstance(lst, str) or len(list(lst)) == 0:
            raise DataValidationError(f"keys[{name!r}] must be a non-empty list of item names.")
        out[str(name)] = [str(v) for v in lst]
    absent = sorted({v.lstrip("-") for lst in out.values() for v in lst} - set(map(str, data.columns)))
    if absent:
        raise DataValidationError(f"keys= names item(s) not in data=: {', '.join(absent)}.")
    return out


def _is_correlation(data: pd.DataFrame) -> bool:
    m = data.to_numpy(dtype=float, na_value=np.nan)
    return (m.shape[0] == m.shape[1] and list(data.index) == list(data.columns)
            and bool(np.all(np.isfinite(m))) and np.allclose(np.diag(m), 1.0))


def _unidim_stats(r: np.ndarray, names: list[str] | None = None) -> dict:
    """``psych::unidim`` of one correlation matrix (``check.keys = TRUE``)."""
    from ..efa import fa
    n = r.shape[0]
    names = [f"V{i + 1}" for i in range(n)] if names is None else list(names)
    f1 = fa(pd.DataFrame(r, index=names, columns=names),
            n_factors=1, method="minres", rotation="none")
    load = f1.loadings.to_numpy()[:, 0]
    fit_off = float(f1.fit_stats.fit_off)
    flip = np.where(load < 0, -1.0, 1.0)
    x = r * np.outer(flip, flip)
    vt = float(x.sum())
    low = x[np.tril_indices(n, -1)]
    av_r = (vt - n) / (n * (n - 1))
    alpha_res = float(np.sum((low - av_r) ** 2) / np.sum(low ** 2))
    uniq = float(np.sum(f1.uniquenesses.to_numpy()))
    g_flip = float(np.sum(np.outer(flip * load, flip * load)))
    return {"u": fit_off * (1 - alpha_res), "av_r_fit": 1 - alpha_res, "fa_fit": fit_off,
            "alpha": (1 - n / vt) * (n / (n - 1)), "av_r": av_r, "median_r": float(np.median(low)),
            "unidim_a": g_flip / (vt - uniq)}


@contextmanager
def _about_scale(name: str):
    """Re-issue the warnings raised while analysing one scale with the scale's name."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        warnings.warn(f"Scale {name!r}: {w.message}", w.category, stacklevel=4)


@dataclass(frozen=True, eq=False)
class UnidimResult:
    """``psych::unidim``: one row per scale.

    Columns ``scale, u, av_r_fit, fa_fit, alpha, av_r, median_r, unidim_a`` (psych's
    ``u``, ``av.r fit``, ``fa.fit``, ``alpha``, ``av.r``, ``median.r``, ``Unidim.A``):
    ``u = fa_fit * av_r_fit`` is the unidimensionality index, ``fa_fit`` the off-diagonal
    fit of one factor, ``av_r_fit`` how well the average correlation reproduces every
    correlation.
    """

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(
            title="Unidimensionality (psych::unidim)",
            header=("u = fa_fit x av_r_fit (1 = unidimensional); fa_fit: off-diagonal fit of one "
                    "factor; av_r_fit: how well the average correlation reproduces every "
                    "correlation.",),
            blocks=(("Scales", self.table),))


def unidim(data, keys: dict | None = None) -> UnidimResult:
    """Revelle's unidimensionality index of each scale.

    Equal to ``psych::unidim(x, keys.list)`` of psych 2.2.9 (correlations pairwise; each
    item flipped by the sign of its loading on one minres factor).

    Parameters
    ----------
    data : DataFrame
        Raw item responses or a correlation matrix (item names as index and columns).
    keys : dict, optional
        ``{scale: [items]}``; all columns form one scale if omitted. A leading ``-`` is
        accepted (the sign is taken from the factor loadings, as psych does).
    """
    data = numeric_frame(data, func="unidim")
    keys = _keys_or_all(keys, data)
    is_cor = _is_correlation(data)
    rows = []
    for name, lst in keys.items():
        sel = [v.lstrip("-") for v in lst]
        if len(sel) < 2:
            raise DataValidationError(f"Scale {name!r} has {len(sel)} item; unidim needs two.")
        r = data.loc[sel, sel].to_numpy() if is_cor else data[sel].corr().to_numpy()
        if np.isnan(r).any():
            raise DataValidationError(f"Scale {name!r}: some items are never answered together "
                                      "or have no variance; their correlation is undefined.")
        with _about_scale(name):
            rows.append({"scale": name, **_unidim_stats(r, sel)})
    return UnidimResult(table=pd.DataFrame(rows))


@dataclass(frozen=True, eq=False)
class ReliabilityTableResult:
    """``psych::reliability``: one row per scale.

    Columns ``scale, omega_h, alpha, omega_total, uni, r_fit, fa_fit, max_split,
    min_split, mean_r, med_r, n_items`` (psych's ``omega_h, alpha, omega.tot, Uni,
    r.fit, fa.fit, max.split, min.split, mean.r, med.r, n.items``).
    """

    table: pd.DataFrame
    n_factors: int

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(
            title="Reliability of each scale (psych::reliability)",
            header=(f"omega_h and omega_total from a Schmid-Leiman solution with {self.n_factors} "
                    "group factors; Uni = unidimensionality index; split halves over all splits "
                    "(or 10,000 random ones beyond 16 items).",),
            blocks=(("Scales", self.table),))


def reliability_table(keys: dict | None, data, *, n_factors: int = 2, n_sample: int = 10000,
                      seed: int | None = None) -> ReliabilityTableResult:
    """Omega hierarchical, alpha, omega total, unidimensionality and split halves per scale.

    Equal to ``psych::reliability(keys, items, nfactors = 2)`` of psych 2.2.9: for each
    scale, ``omega`` with ``n_factors`` group factors (two: g loadings identified by
    setting them equal, psych's ``option = "equal"``) on the pairwise correlations of its
    items, flipped by the sign of the general factor; ``unidim`` of that matrix; and
    ``split_half`` of it (every split up to 16 items; ``n_sample`` random ones beyond,
    seeded by ``seed``).

    Parameters
    ----------
    keys : dict or None
        ``{scale: [items]}`` (a leading ``-`` is accepted; signs are taken from the general
        factor, as psych does); None scores all columns as one scale.
    data : DataFrame
        Raw item responses or a correlation matrix.
    """
    from ..efa import omega
    from ..reliability import split_half
    data = numeric_frame(data, func="reliability_table")
    keys = _keys_or_all(keys, data)
    is_cor = _is_correlation(data)
    rows = []
    for name, lst in keys.items():
        sel = [v.lstrip("-") for v in lst]
        if len(sel) < 3:
            raise DataValidationError(f"Scale {name!r} has {len(sel)} item(s); omega and split "
                                      "halves need at least three.")
        p, k = len(sel), n_factors
        dof = p * (p - 1) // 2 - p * k + k * (k - 1) // 2
        if dof < 0:
            fits = max(j for j in range(1, k + 1)
                       if p * (p - 1) // 2 - p * j + j * (j - 1) // 2 >= 0 or j == 1)
            raise DataValidationError(
                f"Scale {name!r} has {p} items, too few for n_factors={k} group factors (the "
                f"factor model would have {dof} degrees of freedom; psych fits it anyway). Use "
                f"n_factors={fits} or leave the scale out.")
        sub = data.loc[sel, sel] if is_cor else data[sel]
        with _about_scale(name):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ReliabilityWarning)
                om = omega(sub, n_factors=n_factors)
                key = om.key.to_numpy(dtype=float)
                r = (sub.to_numpy() if is_cor else sub.corr().to_numpy()) * np.outer(key, key)
                rf = pd.DataFrame(r, index=sel, columns=sel)
                sh = split_half(rf, n_sample=n_sample, seed=seed).table.iloc[0]
            u = _unidim_stats(r, sel)
        rows.append({"scale": name, "omega_h": om.omega_h, "alpha": float(sh["alpha"]),
                     "omega_total": om.omega_total, "uni": u["u"], "r_fit": u["av_r_fit"],
                     "fa_fit": u["fa_fit"], "max_split": float(sh["max_split_half"]),
                     "min_split": float(sh["min_split_half"]), "mean_r": float(sh["average_r"]),
                     "med_r": float(sh["median_r"]), "n_items": len(sel)})
    return ReliabilityTableResult(table=pd.DataFrame(rows), n_factors=n_factors)
