"""McDonald's omega from a Schmid-Leiman transformation (``psych::omega``,
``psych::schmid``).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError, ReliabilityWarning
from .._blas import single_blas_thread
from ._input import prepare_correlation, smc
from ._summary import Summary, efa_summary
from .fit_stats import FitStatistics, fa_stats
from .model import FactorAnalysis, _METHOD_ALIASES
from .rotation import canonical_rotation, rotate

__all__ = ["OmegaResult", "omega", "schmid_leiman"]


@dataclass(frozen=True, eq=False)
class OmegaResult:
    """Result of :func:`omega`.

    Attributes
    ----------
    omega_h : float
        Omega hierarchical, ``(sum g)^2 / V_t``.
    omega_total : float
        ``(V_t - sum u2) / V_t``.
    omega_lim : float
        Omega limit, ``(sum g)^2 / (V_t - sum u2)`` (psych's ``omega.lim``).
    alpha : float
        Cronbach's alpha of the (sign-flipped) items.
    g6 : float
        Guttman's lambda 6 (psych's ``G6``).
    ecv : float
        Explained common variance of the general factor.
    omega_group : DataFrame
        psych's ``omega.group``: rows ``g, F1*, ...``; columns ``total, general, group``.
    loadings : DataFrame
        Schmid-Leiman solution (psych's ``schmid$sl``): columns ``g, F1*, ..., h2, u2, p2``;
        index = item names, with ``-`` appended to items reversed by ``flip``.
    oblique_loadings : DataFrame
        Oblique group-factor pattern (``schmid$oblique``).
    phi : DataFrame
        Correlations of the oblique group factors (``schmid$phi``).
    g_loadings : Series
        Loadings of the group factors on the higher-order g (``schmid$gloading``).
    key : Series
        +1/-1 per item: the sign used by ``flip``.
    fit_stats : FitStatistics
        psych's ``stats``: fit of the Schmid-Leiman (g + group factors) model.
    n_factors, method, rotation, n_obs
    """

    omega_h: float
    omega_total: float
    omega_lim: float
    alpha: float
    g6: float
    ecv: float
    omega_group: pd.DataFrame
    loadings: pd.DataFrame
    oblique_loadings: pd.DataFrame
    phi: pd.DataFrame
    g_loadings: pd.Series
    key: pd.Series
    fit_stats: FitStatistics
    n_factors: int
    method: str
    rotation: str
    n_obs: float

    def coefficients(self) -> pd.DataFrame:
        """Tidy ``coefficient, value`` table of the scalar results."""
        names = ["omega_h", "omega_total", "omega_lim", "alpha", "g6", "ecv"]
        return pd.DataFrame({"coefficient": names,
                             "value": [float(getattr(self, n)) for n in names]})

    def to_frame(self) -> pd.DataFrame:
        """The omega coefficients (``coefficients()``)."""
        return self.coefficients()

    def summary(self) -> Summary:
        info = {n: getattr(self, n) for n in
                ["omega_h", "omega_total", "omega_lim", "alpha", "g6", "ecv"]}
        info["group factors"] = self.n_factors
        info["extraction / rotation"] = f"{self.method} / {self.rotation}"
        return efa_summary(
            title="Omega (Schmid-Leiman)", info=info,
            tables=[("Schmid-Leiman loadings", self.loadings),
                    ("Omega by group", self.omega_group)])


def schmid_leiman(r: np.ndarray, n_factors: int = 3, method: str = "minres",
                  rotation: str = "oblimin", n_obs: float | None = None,
                  option: str = "equal", items: list[str] | None = None) -> dict[str, np.ndarray]:
    """Schmid-Leiman transformation of correlation matrix ``r`` (``psych::schmid``).

    ``items`` names the rows and columns of ``r`` in warnings (V1, V2, ... without it).

    Returns a dict with ``sl`` (p x (k+4): g, F1*..Fk*, h2, u2, p2), ``orth``
    (varimax loadings), ``oblique`` (rotated pattern), ``phi``, ``gload``.

    Notes
    -----
    1. ``fa(r, k, fm = method, rotate = "varimax")``; 2. rotate those loadings
    obliquely (oblimin by default); 3. factor the factor correlations with one
    factor (``fa(phi, fm = method)``, or for k = 2 ``sqrt(|phi12|)``); 4.
    ``g = F gload``; group loadings ``sign(F) sqrt(F^2 (1 - gload^2))``,
    ``h2 = rowSums(orth^2)``, ``u2 = 1 - h2``, ``p2 = g^2 / h2``.
    """
    p = r.shape[0]
    r_in = r if items is None else pd.DataFrame(r, index=list(items), columns=list(items))
    orth = FactorAnalysis(n_factors, method=method, rotation="varimax").fit(
        r_in, n_obs=n_obs).loadings.to_numpy()
    if n_factors == 1:
        warnings.warn("omega with one factor: omega_h is not meaningful (psych: 'Omega_h for "
                      "1 factor is not meaningful, just omega_t').", ReliabilityWarning,
                      stacklevel=3)
        fload = orth
        factr = np.ones((1, 1))
        gload = np.array([1.0])
    else:
        rot = rotation
        if rot in ("none", "varimax", "quartimax", "gpa_varimax", "geomint", "bentlert"):
            raise ModelSpecificationError(
                f"omega needs an oblique rotation (oblimin, quartimin, promax, geomin, "
                f"bentler); got {rotation!r}.")
        res = rotate(orth, rot)
        fload = res.loadings
        factr = res.phi
        if n_factors > 2:
            g = FactorAnalysis(1, method=method, rotation="none").fit(factr)
            gload = g.loadings.to_numpy()[:, 0]
        else:
            r12 = factr[0, 1]
            if option == "equal":
                gload = np.array([math.sqrt(abs(r12)), math.copysign(math.sqrt(abs(r12)), r12)])
            elif option == "first":
                gload = np.array([1.0, r12])
            else:
                gload = np.array([r12, 1.0])
            warnings.warn("omega with 2 group factors: the general factor is not identified; "
                          f"its loadings are fixed by option={option!r}.", ReliabilityWarning,
                          stacklevel=3)
    gprim = fload @ gload
    h2 = (orth * orth).sum(axis=1)
    dm = np.diag(r)
    u2 = dm - h2
    uniq = dm[:, None] - fload ** 2
    primeload = fload * gload
    uniq2 = dm[:, None] - uniq - primeload ** 2
    uniq2[uniq2 < 0] = 0.0
    sm = np.sign(fload) * np.sqrt(uniq2)
    p2 = gprim ** 2 / h2
    sl = np.column_stack([gprim, sm, h2, u2, p2])
    return {"sl": sl, "orth": orth, "oblique": fload, "phi": factr, "gload": gload}


@single_blas_thread()
def omega(data: Any, n_factors: int = 3, method: str = "minres", rotation: str = "oblimin",
          *, n_obs: float | None = None, flip: bool = True, missing: str = "pairwise",
          cor: str = "pearson", option: str = "equal") -> OmegaResult:
    """McDonald's omega hierarchical and total via Schmid-Leiman.

    Parameters
    ----------
    data : DataFrame or array
        Raw responses (pairwise correlations, as psych) or a correlation matrix.
    n_factors : int
        Number of group factors (psych default 3).
    method : {"minres", "ml", "wls", "gls", "pa"}
        Extraction (psych default minres).
    rotation : str
        Oblique rotation of the group factors (psych default oblimin).
    flip : bool
        Reverse items whose general-factor loading is negative (psych default).
    option : {"equal", "first", "second"}
        How to identify g with 2 group factors (psych's ``option``).

    Returns
    -------
    OmegaResult

    Notes
    -----
    With ``V_t = 1'R1`` (after flipping), ``omega_h = (1'g)^2 / V_t``,
    ``omega_total = (V_t - 1'u2) / V_t``, ``omega_lim = (1'g)^2 / (V_t - 1'u2)``,
    ``alpha = (V_t - tr R)/V_t * p/(p-1)``, ``G6 = (V_t + 1'smc - tr R)/V_t``,
    ``ECV = 1'g^2 / (1'g^2 + sum of squared group loadings)``.  Each item is
    assigned to the group factor with its largest absolute loading for the
    ``omega_group`` table.  R: ``psych::omega(x, nfactors = 3, plot = FALSE)``.
    """
    if not isinstance(n_factors, (int, np.integer)) or isinstance(n_factors, bool) \
            or n_factors < 1:
        raise ModelSpecificationError(
            f"The 'n_factors' parameter of omega must be a positive integer. Got {n_factors!r}.")
    key_m = method.strip().lower() if isinstance(method, str) else None
    if _METHOD_ALIASES.get(key_m) not in ("minres", "ml", "wls", "gls", "pa"):
        raise ModelSpecificationError(
            "The 'method' parameter of omega must be 'minres', 'ml', 'wls', 'gls' or 'pa'. "
            f"Got {method!r}.")
    method = _METHOD_ALIASES[key_m]
    rot = canonical_rotation(rotation, "omega")
    if option not in ("equal", "first", "second"):
        raise ModelSpecificationError(
            f"The 'option' parameter of omega must be 'equal', 'first' or 'second'. "
            f"Got {option!r}.")
    ci = prepare_correlation(data, n_obs=n_obs, missing=missing, cor=cor, caller="omega")
    m = ci.r.copy()
    items = list(ci.items)
    p = len(items)
    sl_parts = schmid_leiman(m, n_factors, method, rot, n_obs=ci.n_obs, option=option,
                             items=[str(i) for i in items])
    sl = sl_parts["sl"].copy()
    k = n_factors
    key = np.ones(p)
    names = list(items)
    if flip:
        key = np.sign(sl[:, 0])
        key[key == 0] = 1
        if key.sum() < p:
            m = m * np.outer(key, key)
            sl[:, : k + 1] = sl[:, : k + 1] * key[:, None]
            names = [n + ("-" if s < 0 else "") for n, s in zip(items, key)]
    Vt = float(m.sum())
    Vitem = float(np.trace(m))
    gload = sl[:, 0]
    gsq = float(gload.sum()) ** 2
    uniq = float(sl[:, k + 2].sum())
    om_tot = (Vt - uniq) / Vt
    om_lim = gsq / (Vt - uniq)
    alpha = ((Vt - Vitem) / Vt) * (p / (p - 1))
    lambda6 = (Vt + float(smc(m).sum()) - Vitem) / Vt
    ev = (sl[:, : k + 1] ** 2).sum(axis=0)
    ecv = float(ev[0] / ev.sum())
    fs = fa_stats(m, sl[:, : k + 1], None, n_obs=ci.n_obs, alpha=0.1)
    # omega by group
    sub = np.argmax(np.abs(sl[:, 1: k + 1]), axis=1)
    omg = np.full(k + 1, np.nan)
    omgo = np.full(k + 1, np.nan)
    omt = np.full(k + 1, np.nan)
    grs = 0.0
    for gi in range(k):
        idx = np.flatnonzero(sub == gi)
        if idx.size:
            Vgr = float(m[np.ix_(idx, idx)].sum())
            gr = float(sl[idx, gi + 1].sum())
            grs += gr * gr
            gsum = float(sl[idx, 0].sum())
            omg[gi + 1] = gr * gr / Vgr
            omgo[gi + 1] = gsum * gsum / Vgr
            omt[gi + 1] = (gr * gr + gsum * gsum) / Vgr
    omgo[0] = float(sl[:, 0].sum()) ** 2 / Vt
    omg[0] = grs / Vt
    omt[0] = om_tot
    colnames = ["g"] + [f"F{i + 1}*" for i in range(k)] + ["h2", "u2", "p2"]
    grp = pd.DataFrame({"total": omt, "general": omgo, "group": omg},
                       index=pd.Index(colnames[: k + 1], name="factor"))
    fnames = [f"F{i + 1}" for i in range(k)]
    return OmegaResult(
        omega_h=gsq / Vt, omega_total=om_tot, omega_lim=om_lim, alpha=alpha, g6=lambda6,
        ecv=ecv, omega_group=grp,
        loadings=pd.DataFrame(sl, index=pd.Index(names, name="item"), columns=colnames),
        oblique_loadings=pd.DataFrame(sl_parts["oblique"], index=pd.Index(items, name="item"),
                                      columns=fnames),
        phi=pd.DataFrame(np.atleast_2d(sl_parts["phi"]), index=fnames[: np.atleast_2d(
            sl_parts["phi"]).shape[0]], columns=fnames[: np.atleast_2d(sl_parts["phi"]).shape[0]]),
        g_loadings=pd.Series(sl_parts["gload"], index=fnames, name="g"),
        key=pd.Series(key.astype(int), index=items, name="key"), fit_stats=fs,
        n_factors=k, method=method, rotation=rot,
        n_obs=math.nan if ci.n_obs is None else float(ci.n_obs))
