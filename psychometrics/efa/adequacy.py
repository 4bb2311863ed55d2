"""Is a correlation matrix worth factoring?  Kaiser-Meyer-Olkin sampling
adequacy, Bartlett's test of sphericity, eigenvalues.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from .._blas import single_blas_thread
from ._input import prepare_correlation
from ._summary import Summary, efa_summary

__all__ = ["KMOResult", "BartlettResult", "kmo", "bartlett", "eigenvalues"]


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    msa : float
        Overall MSA (psych's ``MSA``).
    msa_items : Series
        Per-item MSA (psych's ``MSAi``), index = items.
    """

    msa: float
    msa_items: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item, msa``."""
        return pd.DataFrame({"item": self.msa_items.index.astype(object),
                             "msa": self.msa_items.to_numpy()})

    def summary(self) -> Summary:
        return efa_summary(
            title="Kaiser-Meyer-Olkin sampling adequacy",
            info={"overall MSA": self.msa},
            tables=[("Item MSA", self.to_frame().set_index("item"))])


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test that the correlation matrix is an identity matrix.

    Attributes
    ----------
    chisq, df, p_value : float
    n_obs : float
    """

    chisq: float
    df: float
    p_value: float
    n_obs: float

    def to_frame(self) -> pd.DataFrame:
        """One row: chisq, df, p_value, n_obs."""
        return pd.DataFrame([{"chisq": self.chisq, "df": self.df, "p_value": self.p_value,
                              "n_obs": self.n_obs}])

    def summary(self) -> Summary:
        return efa_summary(
            title="Bartlett's test of sphericity",
            info={"chi-square": self.chisq, "df": self.df,
                  "p": self.p_value, "n": self.n_obs})


@single_blas_thread()
def kmo(data: Any, *, missing: str = "pairwise") -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Parameters
    ----------
    data : DataFrame, array
        Raw responses (pairwise-complete correlations by default) or a
        correlation matrix.
    missing : {"pairwise", "listwise"}

    Returns
    -------
    KMOResult

    Notes
    -----
    With ``Q`` the anti-image (partial) correlations, ``cov2cor(R^-1)``, and
    off-diagonal sums, ``MSA = sum r^2 / (sum r^2 + sum q^2)`` and per item
    ``MSA_j = sum_k r_jk^2 / (sum_k r_jk^2 + sum_k q_jk^2)``.
    R: ``psych::KMO(data)``.
    """
    ci = prepare_correlation(data, missing=missing, caller="kmo")
    r = ci.r.copy()
    Q = np.linalg.inv(r)
    d = 1.0 / np.sqrt(np.diag(Q))
    Q = Q * np.outer(d, d)
    np.fill_diagonal(Q, 0.0)
    np.fill_diagonal(r, 0.0)
    r2 = r * r
    q2 = Q * Q
    msa = float(r2.sum() / (r2.sum() + q2.sum()))
    cr = r2.sum(axis=0)
    msai = cr / (cr + q2.sum(axis=0))
    return KMOResult(msa=msa, msa_items=pd.Series(msai, index=list(ci.items), name="msa"))


@single_blas_thread()
def bartlett(data: Any, n_obs: float | None = None, *, missing: str = "pairwise"
             ) -> BartlettResult:
    """Bartlett's test of sphericity.

    Parameters
    ----------
    data : DataFrame, array
        Raw responses or a correlation matrix.
    n_obs : float
        Sample size; required with a correlation matrix (psych silently uses
        100, we ask for it).

    Returns
    -------
    BartlettResult

    Notes
    -----
    ``chi2 = -log|R| (n - 1 - (2p + 5)/6)`` on ``p(p-1)/2`` df.
    R: ``psych::cortest.bartlett(R, n = n_obs)``.
    """
    from scipy import special  # lazy: keeps `import psychometrics.efa` light
    ci = prepare_correlation(data, n_obs=n_obs, missing=missing, caller="bartlett")
    if ci.n_obs is None:
        raise ModelSpecificationError(
            "bartlett was given a correlation matrix without n_obs; pass the sample size "
            "as n_obs= (psych would silently use 100).")
    p = ci.r.shape[0]
    n = float(ci.n_obs)
    sign, logdet = np.linalg.slogdet(ci.r)
    stat = -logdet * (n - 1 - (2 * p + 5) / 6)
    dof = p * (p - 1) / 2
    return BartlettResult(chisq=float(stat), df=float(dof),
                          p_value=float(special.chdtrc(dof, stat)), n_obs=n)


@single_blas_thread()
def eigenvalues(data: Any, *, missing: str = "pairwise") -> np.ndarray:
    """Eigenvalues of the correlation matrix, largest first
    (R: ``eigen(cor(x, use = "pairwise"))$values``)."""
    ci = prepare_correlation(data, missing=missing, caller="eigenvalues")
    return np.linalg.eigvalsh(ci.r)[::-1].copy()
