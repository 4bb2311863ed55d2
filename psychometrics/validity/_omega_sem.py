"""Omega from a confirmatory bifactor model: ``psych::omegaSem``.

The exploratory omega (:func:`psychometrics.efa.omega`, Schmid-Leiman) fixes the bifactor
structure; this refits it as a confirmatory bifactor model (orthogonal factors, each item
on g and on the group factor where its Schmid-Leiman loading is largest) and computes
omega hierarchical, omega total and the group omegas from the CFA loadings, as psych's
``omegaSem`` does with lavaan.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, ModelSpecificationError
from ..results import Summary
from ._common import numeric_frame

__all__ = ["omega_sem", "OmegaSemResult"]


@dataclass(frozen=True, eq=False)
class OmegaSemResult:
    """Result of :func:`omega_sem`.

    Attributes
    ----------
    omega_h, omega_total : float
        From the CFA loadings: ``(1'g)^2 / V_t`` and ``(V_t - sum(1 - h2)) / V_t`` with
        ``V_t = 1'R1`` (psych's ``omega.efa$omega``, ``omega.tot``).
    omega_group : DataFrame
        Rows ``g, F1, ...``; columns ``total, general, group`` (psych's ``omega.group``).
    loadings : DataFrame
        CFA loadings (items x ``g, F1, ...``), signs flipped as psych does. A group
        factor whose loadings have mixed signs has no preferred orientation; psych's
        depends on where lavaan's optimiser ended, ours makes the column sum positive
        before psych's flips. The omegas do not depend on it.
    factor_r2 : Series
        Squared multiple correlation of each factor with the items (psych's ``gR2``).
    model : str
        The bifactor model in lavaan syntax.
    fit : SEMResult
        The fitted CFA (``orthogonal = True``, ``std_lv = True``, on the correlations).
    omega : OmegaResult
        The exploratory (Schmid-Leiman) omega the model came from.
    """

    omega_h: float
    omega_total: float
    omega_group: pd.DataFrame
    loadings: pd.DataFrame
    factor_r2: pd.Series
    model: str
    fit: object
    omega: object

    def to_frame(self) -> pd.DataFrame:
        return self.omega_group.reset_index(names="factor")

    def summary(self) -> Summary:
        fm = self.fit.fit_measures
        return Summary(
            title="Omega from a confirmatory bifactor model (psych::omegaSem)",
            header=(f"omega_h = {self.omega_h:.3f}, omega_total = {self.omega_total:.3f}; "
                    f"CFA chi-square({fm['df']:.0f}) = {fm['chisq']:.2f}, "
                    f"CFI = {fm['cfi']:.3f}, RMSEA = {fm['rmsea']:.3f}.",
                    "Exploratory (Schmid-Leiman) omega_h = "
                    f"{self.omega.omega_h:.3f}."),
            blocks=(("Omega by factor", self.to_frame()),
                    ("CFA loadings", self.loadings.reset_index(names="item"))),
            footer=self._improper_note())

    def _improper_note(self) -> tuple[str, ...]:
        est = self.fit.estimates
        items = {str(i) for i in self.loadings.index}
        neg = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].isin(items)
                  & (est["est"] < 0)]
        if neg.empty:
            return ()
        shown = ", ".join(f"{r.lhs} ({r.est:.3f})" for r in neg.itertuples())
        return (f"Improper solution: negative residual variance of {shown} in the bifactor CFA "
                "(a Heywood case); the omegas rest on it. Consider fewer group factors.",)


def _bifactor_syntax(sl: pd.DataFrame, items: list[str], k: int) -> tuple[str, list[int]]:
    groups = sl.iloc[:, 1:k + 1].to_numpy()
    assign = np.argmax(np.abs(groups), axis=1)
    lines = ["g =~ " + " + ".join(items)]
    for j in range(k):
        members = [it for it, a in zip(items, assign) if a == j]
        if members:
            lines.append(f"F{j + 1} =~ " + " + ".join(members))
    return "\n".join(lines), list(assign)


def omega_sem(data, n_factors: int = 3, *, n_obs: float | None = None,
              method: str = "minres", rotation: str = "oblimin") -> OmegaSemResult:
    """Omega hierarchical and total from a confirmatory bifactor model.

    Equal to ``psych::omegaSem(m, nfactors = n_factors)`` of psych 2.2.9 with lavaan
    0.6-14: the Schmid-Leiman solution of :func:`psychometrics.efa.omega` decides which
    group factor each item loads on; the bifactor CFA is fitted by ML to the (pairwise)
    correlation matrix with orthogonal, standardized factors.

    Parameters
    ----------
    data : DataFrame
        Raw item responses, or a correlation matrix (then give ``n_obs``).
    n_factors : int
        Number of group factors.
    """
    from ..efa import omega
    from ..sem import fit as sem_fit
    if isinstance(n_factors, (int, np.integer)) and not isinstance(n_factors, bool) \
            and n_factors == 1:
        raise ModelSpecificationError(
            "omega_sem needs n_factors >= 2: with one group factor the bifactor CFA (every item "
            "on g and on the same group factor) is not identified. For one factor use "
            "psychometrics.efa.omega(data, n_factors=1) (omega total).")
    data = numeric_frame(data, func="omega_sem")
    is_cor = (data.shape[0] == data.shape[1] and list(data.index) == list(data.columns))
    if is_cor and n_obs is None:
        raise DataValidationError("omega_sem: data= is a correlation matrix; give n_obs= (the "
                                  "number of respondents) for the CFA.")
    om = omega(data, n_factors=n_factors, method=method, rotation=rotation, n_obs=n_obs)
    items = [str(c) for c in data.columns]
    model, _ = _bifactor_syntax(om.loadings, items, n_factors)
    if is_cor:
        r = data.to_numpy(dtype=float)
        n = float(n_obs)
    else:
        r = data.corr().to_numpy()
        n = float(len(data)) if n_obs is None else float(n_obs)
    cov = pd.DataFrame(r, index=items, columns=items)
    res = sem_fit(model, sample_cov=cov, sample_nobs=n, orthogonal=True, std_lv=True)
    est = res.estimates
    used = ["g"] + [f"F{j + 1}" for j in range(n_factors) if (f"F{j + 1}" in set(est["lhs"]))]
    lam = np.zeros((len(items), len(used)))
    pos = {v: i for i, v in enumerate(items)}
    for _, row in est[est["op"] == "=~"].iterrows():
        lam[pos[row["rhs"]], used.index(row["lhs"])] = row["est"]
    # A factor's sign is arbitrary; lavaan's optimiser, started from positive loadings,
    # ends with the larger part of each column positive. psych's column flips below
    # depend on that sign, so fix it the same way.
    lam = lam * np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    m = r.copy()
    g = lam[:, 0].copy()
    flip = np.where(g < 0, -1.0, 1.0)
    m = m * np.outer(flip, flip)
    lam = lam * flip[:, None]
    g = lam[:, 0]
    lam = np.where((lam < 0).sum(axis=0) > 0, -lam, lam)
    w = np.linalg.solve(m, lam)
    gr2 = np.diag(w.T @ lam)
    vt = float(m.sum())
    om_h = float(g.sum()) ** 2 / vt
    uniq = float(np.trace(m) - np.sum(lam ** 2))
    om_t = (vt - uniq) / vt
    nf = lam.shape[1]
    sub = np.argmax(np.abs(lam[:, 1:]), axis=1) if nf > 1 else np.zeros(len(items), int)
    total = np.full(nf, np.nan)
    general = np.full(nf, np.nan)
    group = np.full(nf, np.nan)
    grs = 0.0
    for j in range(1, nf):
        idx = np.flatnonzero(sub == j - 1)
        if idx.size:
            vgr = float(m[np.ix_(idx, idx)].sum())
            gr = float(lam[idx, j].sum())
            grs += gr ** 2
            group[j] = gr ** 2 / vgr
            general[j] = float(lam[idx, 0].sum()) ** 2 / vgr
            total[j] = (gr ** 2 + float(lam[idx, 0].sum()) ** 2) / vgr
    general[0] = float(lam[:, 0].sum()) ** 2 / vt
    group[0] = grs / vt
    total[0] = om_t
    rows = used
    return OmegaSemResult(
        omega_h=om_h, omega_total=om_t,
        omega_group=pd.DataFrame({"total": total, "general": general, "group": group},
                                 index=pd.Index(rows, name="factor")),
        loadings=pd.DataFrame(lam, index=items, columns=used),
        factor_r2=pd.Series(gr2, index=used, name="r2"), model=model, fit=res, omega=om)
