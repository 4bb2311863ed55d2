"""Exploratory factor analysis: the model specification, ``fit()`` and its
immutable result, with psych 2.2.9's conventions (``psych::fa``,
``psych::principal``).
"""
from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import (
    ConvergenceWarning,
    HeywoodCaseWarning,
    IdentificationError,
    ModelSpecificationError,
)
from .._blas import single_blas_thread
from ._input import CorrelationInput, cor_smooth, prepare_correlation
from ._summary import Summary, efa_summary
from .extraction import METHODS, Extraction, extract
from .fit_stats import FitStatistics, fa_stats
from .rotation import ROTATIONS, Rotation, canonical_rotation, rotate, stats_promax

__all__ = ["FactorAnalysis", "FactorAnalysisResult", "fa", "degrees_of_freedom"]

_METHOD_ALIASES = {
    "minres": "minres", "uls": "minres", "ml": "ml", "mle": "ml", "wls": "wls", "gls": "gls",
    "pa": "pa",
    "principal_axis": "pa", "pc": "pc", "pca": "pc", "principal": "pc",
    "principal_components": "pc",
}


def degrees_of_freedom(n_items: int, n_factors: int) -> float:
    """Degrees of freedom of an exploratory factor model,
    ``p(p-1)/2 - p k + k(k-1)/2`` (psych's ``dof``)."""
    p, k = n_items, n_factors
    return p * (p - 1) / 2 - p * k + k * (k - 1) / 2


@dataclass(frozen=True)
class FactorAnalysis:
    """Specification of an exploratory factor analysis.

    Parameters
    ----------
    n_factors : int
        Number of factors to extract.
    method : {"minres", "ml", "wls", "gls", "pa", "pc"}
        Extraction: minimum residual (psych's default), maximum likelihood,
        weighted least squares (residuals weighted by ``1/((R^-1)_ii (R^-1)_jj)``),
        generalised least squares (residuals premultiplied by ``R^-1``), iterated
        principal axis, principal components (``psych::principal``). R:
        ``psych::fa(..., fm = "minres" | "ml" | "wls" | "gls" | "pa")``.
    rotation : str
        ``"none"``, ``"varimax"`` (stats::varimax), ``"quartimax"``, ``"promax"``
        (Kaiser-normalised, as psych), ``"oblimin"`` (default), ``"quartimin"``,
        ``"geomin"`` (= ``"geominQ"``), ``"geominT"``, ``"bentler"`` (= ``"bentlerQ"``),
        ``"bentlerT"``, ``"gpa_varimax"`` (GPArotation's Varimax), ``"bifactor"``,
        ``"biquartimin"``, ``"equamax"``, ``"oblimax"``, ``"simplimax"``.
    gamma : float
        Oblimin's gamma (0 = quartimin, psych's and GPArotation's default); only with
        ``rotation="oblimin"``. R: ``fa(..., rotate = "oblimin", gam = gamma)``.
    missing : {"pairwise", "listwise"}
        Correlations on pairwise-complete rows (psych's default) or complete rows.
    cor : {"pearson", "poly"}
        Pearson or polychoric correlations (the latter through
        ``psychometrics.reliability.polychoric``).
    smooth : bool
        Smooth a non-positive-definite correlation matrix (``psych::cor.smooth``)
        instead of raising :class:`~psychometrics.exceptions.NotPositiveDefiniteError`.
    min_err, max_iter : float, int
        Stopping rule of principal-axis iterations (psych: 0.001 and 50).

    Examples
    --------
    >>> res = FactorAnalysis(n_factors=5, method="ml").fit(bfi_items)   # doctest: +SKIP
    >>> res.loadings                                                     # doctest: +SKIP
    """

    n_factors: int = 1
    method: str = "minres"
    rotation: str = "oblimin"
    gamma: float = 0.0
    missing: str = "pairwise"
    cor: str = "pearson"
    smooth: bool = False
    min_err: float = 0.001
    max_iter: int = 50

    @single_blas_thread()
    def fit(self, data: Any, n_obs: float | None = None, *, np_obs: Any = None
            ) -> "FactorAnalysisResult":
        """Fit the model to raw responses or to a correlation matrix.

        Parameters
        ----------
        data : DataFrame or array
            Rows = respondents, columns = items (NaN = missing), or a square
            correlation matrix (then give ``n_obs`` for the fit statistics).
        n_obs : float, optional
            Sample size behind a correlation matrix.
        np_obs : array, optional
            Pairwise counts behind a correlation matrix (psych's ``np.obs``), e.g.
            for a polychoric matrix computed on data with missing values; the
            empirical chi-square, ``rms`` and ``crms`` then weight each residual by
            its count, as psych does for raw data.  ``n_obs`` defaults to its maximum.

        Returns
        -------
        FactorAnalysisResult

        Raises
        ------
        ModelSpecificationError
            Unknown method/rotation, non-integer or non-positive ``n_factors``.
        IdentificationError
            More factors than the data can identify (negative degrees of freedom).
        DataValidationError
            Too few rows, items without variance, non-numeric data.
        NotPositiveDefiniteError
            Singular correlation matrix (and ``smooth=False``).

        Warns
        -----
        HeywoodCaseWarning
            A communality of 1 or more (or a uniqueness at its lower bound 0.005).
        ConvergenceWarning
            The optimiser, the principal-axis iterations or the rotation stopped
            at their iteration limit.
        """
        t0 = time.perf_counter()
        method = self._method()
        rot = canonical_rotation(self.rotation, "FactorAnalysis")
        nf = self._n_factors()
        ci = prepare_correlation(data, n_obs=n_obs, missing=self.missing, cor=self.cor,
                                 smooth=self.smooth, caller="FactorAnalysis", np_obs=np_obs)
        p = len(ci.items)
        if nf > p:
            raise IdentificationError(
                f"n_factors={nf} is more than the number of items ({p}).")
        dof = degrees_of_freedom(p, nf)
        if dof < 0 and method != "pc":
            kmax = max_factors(p)
            raise IdentificationError(
                f"n_factors={nf} cannot be identified from {p} items: the model has "
                f"{dof:g} degrees of freedom (p(p-1)/2 - pk + k(k-1)/2 must be >= 0). "
                f"Use at most {kmax} factor(s) for {p} items.")
        return _fit(ci, nf, method, rot, self, t0)

    # -- validation helpers
    def _method(self) -> str:
        m = self.method
        key = m.strip().lower() if isinstance(m, str) else None
        if key not in _METHOD_ALIASES:
            raise ModelSpecificationError(
                "The 'method' parameter of FactorAnalysis must be one of 'minres', 'ml', "
                f"'wls', 'gls', 'pa', 'pc'. Got {m!r} instead.")
        return _METHOD_ALIASES[key]

    def _n_factors(self) -> int:
        k = self.n_factors
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ModelSpecificationError(
                f"The 'n_factors' parameter of FactorAnalysis must be a positive integer. "
                f"Got {k!r} instead.")
        return int(k)


def max_factors(p: int) -> int:
    """Largest number of factors with non-negative degrees of freedom for ``p`` items."""
    k = 0
    while k + 1 <= p and degrees_of_freedom(p, k + 1) >= 0:
        k += 1
    return k


def fa(data: Any, n_factors: int = 1, method: str = "minres", rotation: str = "oblimin",
       *, gamma: float = 0.0, n_obs: float | None = None, np_obs: Any = None, missing: str = "pairwise",
       cor: str = "pearson",
       smooth: bool = False, min_err: float = 0.001, max_iter: int = 50
       ) -> "FactorAnalysisResult":
    """Exploratory factor analysis in one call (``psych::fa`` / ``psych::principal``).

    ``fa(X, 5, "ml", "oblimin")`` is ``FactorAnalysis(5, "ml", "oblimin").fit(X)``;
    see :class:`FactorAnalysis` for the parameters.

    Notes
    -----
    R: ``psych::fa(X, nfactors = 5, fm = "ml", rotate = "oblimin")``;
    ``method = "pc"`` is ``psych::principal(X, nfactors, rotate = ...)``.
    """
    return FactorAnalysis(n_factors=n_factors, method=method, rotation=rotation, gamma=gamma,
                          missing=missing, cor=cor, smooth=smooth, min_err=min_err,
                          max_iter=max_iter).fit(data, n_obs=n_obs, np_obs=np_obs)


# ============================================================================ result
@dataclass(frozen=True, eq=False)
class FactorAnalysisResult:
    """Result of :meth:`FactorAnalysis.fit` (immutable).

    Attributes
    ----------
    loadings : DataFrame
        Pattern loadings, index = items, columns = psych's factor names (e.g.
        ``ML2, ML5, ...``: numbered before psych orders the factors by variance
        accounted for, so the names keep their pre-sorting numbers).
    structure : DataFrame
        Structure matrix ``loadings @ phi`` (= loadings for orthogonal solutions).
    communalities : Series
        ``diag(L L')`` of the unrotated solution (psych's ``communality``).
    uniquenesses : Series
        ``diag(R - L L')`` (psych's ``uniquenesses``).
    phi : DataFrame or None
        Factor correlations (oblique rotations), None otherwise.
    rotation_matrix : DataFrame or None
        psych's ``rot.mat`` (columns in rotation order, not re-sorted).
    variance : DataFrame
        psych's ``Vaccounted`` with one row per factor: ``ss_loadings``,
        ``proportion_var``, ``cumulative_var``, ``proportion_explained``,
        ``cumulative_proportion``.
    values : ndarray
        Eigenvalues of R with communalities on the diagonal (psych's ``values``).
    e_values : ndarray
        Eigenvalues of R (psych's ``e.values``).
    fit_stats : FitStatistics
        psych's fit statistics (objective, chi-square, RMSEA, TLI, BIC, ...).
    correlation : DataFrame
        The analysed correlation matrix.
    heywood : bool
        True if a communality is >= 1 or a uniqueness sits at the optimiser's
        lower bound (0.005); the items are in ``heywood_items``.
    converged : bool
        Extraction converged (optimiser / principal-axis iterations).
    rotation_converged : bool
        Rotation met its stopping rule (True when there is no rotation).
    """

    loadings: pd.DataFrame
    structure: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    phi: pd.DataFrame | None
    rotation_matrix: pd.DataFrame | None
    variance: pd.DataFrame
    values: np.ndarray
    e_values: np.ndarray
    fit_stats: FitStatistics
    correlation: pd.DataFrame
    n_obs: float
    n_factors: int
    method: str
    rotation: str
    missing: str
    cor: str
    heywood: bool
    heywood_items: tuple[str, ...]
    converged: bool
    iterations: int
    rotation_converged: bool
    rotation_iterations: int
    optimizer_message: str
    smoothed: bool
    complexity: pd.Series
    elapsed_seconds: float
    call: str
    communality_iterations: tuple[float, ...] = ()

    # ---- tidy views
    @property
    def items(self) -> list[str]:
        return list(self.loadings.index)

    @property
    def factor_names(self) -> list[str]:
        return list(self.loadings.columns)

    def loadings_long(self) -> pd.DataFrame:
        """One row per item x factor: ``item, factor, loading, structure``."""
        L = self.loadings
        out = pd.DataFrame({
            "item": np.repeat(L.index.to_numpy(dtype=object), L.shape[1]),
            "factor": np.tile(L.columns.to_numpy(dtype=object), L.shape[0]),
            "loading": L.to_numpy().ravel(),
            "structure": self.structure.to_numpy().ravel(),
        })
        return out

    def item_table(self) -> pd.DataFrame:
        """One row per item: loadings, ``communality``, ``uniqueness``, ``complexity``."""
        t = self.loadings.copy()
        t.insert(0, "item", t.index.astype(object))
        t["communality"] = self.communalities.to_numpy()
        t["uniqueness"] = self.uniquenesses.to_numpy()
        t["complexity"] = self.complexity.to_numpy()
        return t.reset_index(drop=True)

    def fit_table(self) -> pd.DataFrame:
        """Fit statistics as a two-column frame ``statistic, value``."""
        d = self.fit_stats.to_dict()
        return pd.DataFrame({"statistic": list(d), "value": [float(v) for v in d.values()]})

    def residuals(self) -> pd.DataFrame:
        """Residual correlations ``R - L Phi L'`` (diagonal: the uniquenesses)."""
        L = self.loadings.to_numpy()
        model = L @ L.T if self.phi is None else L @ self.phi.to_numpy() @ L.T
        return pd.DataFrame(self.correlation.to_numpy() - model, index=self.items,
                            columns=self.items)

    def score_weights(self, method: str = "regression", data: Any = None) -> pd.DataFrame:
        """Factor-score weights (items x factors), as ``psych::factor.scores``.

        Parameters
        ----------
        method : {"regression", "tenBerge", "Bartlett"}
            ``regression`` (Thurstone): ``W = R^-1 L Phi``; ``tenBerge``: correlation-
            preserving, ``W = R^-1/2 C Phi^1/2`` with ``C = R^-1/2 L* (L*' R^-1 L*)^-1/2``,
            ``L* = L Phi^1/2``; ``Bartlett``: ``W = U^-2 L (L' U^-2 L)^-1``.
        data : DataFrame, optional
            Raw responses whose pairwise Pearson correlations are used (psych recomputes
            ``cor(x, use = "pairwise")``); default: the analysed correlation matrix.
        """
        key = method.lower() if isinstance(method, str) else method
        if key not in ("regression", "thurstone", "tenberge", "bartlett"):
            raise ModelSpecificationError(
                "The 'method' parameter of score_weights must be 'regression', 'tenBerge' or "
                f"'Bartlett'. Got {method!r} instead.")
        if data is None:
            r = self.correlation.to_numpy()
        else:
            r = prepare_correlation(self._score_data(data), caller="score_weights").r
        L = self.loadings.to_numpy()
        nf = L.shape[1]
        phi = np.eye(nf) if self.phi is None else self.phi.to_numpy()
        if key in ("regression", "thurstone"):
            w = np.linalg.solve(r, L @ phi)
        elif key == "tenberge":
            Ls = L @ _mat_sqrt(phi)
            r5 = _inv_mat_sqrt(r)
            rs, _ = cor_smooth(r)
            inv_r = np.linalg.inv(rs)
            C = r5 @ Ls @ _inv_mat_sqrt(Ls.T @ inv_r @ Ls)
            w = r5 @ C @ _mat_sqrt(phi)
        else:
            u2 = 1.0 - np.diag(L @ phi @ L.T)
            fu = L / u2[:, None]
            w = fu @ np.linalg.inv(L.T @ fu)
        return pd.DataFrame(w, index=self.loadings.index, columns=self.factor_names)

    def score_r2(self, method: str = "regression") -> pd.Series:
        """Squared multiple correlation of the scores with the factors, psych's
        ``R2.scores``: ``diag(W' L Phi)`` (NaN where outside (0, 1], as psych)."""
        w = self.score_weights(method).to_numpy()
        L = self.loadings.to_numpy()
        phi = np.eye(L.shape[1]) if self.phi is None else self.phi.to_numpy()
        r2 = np.diag(w.T @ L @ phi).copy()
        if (r2 > 1).any() or np.isnan(r2).any() or np.prod(r2) < 0:
            r2[np.abs(r2) > 1] = np.nan
            r2[r2 <= 0] = np.nan
        return pd.Series(r2, index=self.factor_names, name="r2")

    def factor_scores(self, data: Any, method: str = "regression") -> pd.DataFrame:
        """Factor scores of respondents, as ``psych::fa(..., scores = method)$scores``.

        ``scores = scale(x) %*% W``: items standardised with the means and standard
        deviations of ``data`` (pairwise Pearson correlations of ``data`` for ``W``).
        A respondent with any missing item gets NaN scores (psych's default,
        ``impute = "none"``).
        """
        x = self._score_data(data)
        w = self.score_weights(method, data=x).to_numpy()
        arr = x.to_numpy(dtype=float, na_value=np.nan)
        mu = np.nanmean(arr, axis=0)
        sd = np.nanstd(arr, axis=0, ddof=1)
        z = (arr - mu) / sd
        return pd.DataFrame(z @ w, index=x.index, columns=self.factor_names)

    def _score_data(self, data: Any) -> pd.DataFrame:
        if not isinstance(data, pd.DataFrame):
            arr = np.asarray(data, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != len(self.items):
                raise ModelSpecificationError(
                    f"factor scores need a matrix with the {len(self.items)} items as columns; "
                    f"got shape {arr.shape}.")
            return pd.DataFrame(arr, columns=self.items)
        missing = [i for i in self.items if i not in data.columns]
        if missing:
            raise ModelSpecificationError(
                f"The data for factor scores lack item(s) {', '.join(map(str, missing))} of "
                "the analysis.")
        return data[self.items]

    def to_frame(self) -> pd.DataFrame:
        """Loadings in long form (``loadings_long()``): item, factor, loading, structure."""
        return self.loadings_long()

    def summary(self) -> Summary:
        """Printable summary (``.as_text()``, ``.as_html()``)."""
        title = (f"Exploratory factor analysis: {self.n_factors} factor(s), "
                 f"{_METHOD_LABEL[self.method]}, rotation {self.rotation}")
        info = {
            "items": len(self.items), "observations": self.n_obs,
            "correlations": f"{self.cor} ({self.missing})",
            "converged": self.converged, "rotation converged": self.rotation_converged,
            "Heywood case": (", ".join(self.heywood_items) if self.heywood else "no"),
        }
        tables = [("Pattern loadings, communalities (h2), uniquenesses (u2)",
                   self.item_table().set_index("item")),
                  ("Variance accounted for", self.variance)]
        if self.phi is not None:
            tables.append(("Factor correlations", self.phi))
        fs = self.fit_stats
        fit = {
            "objective": fs.objective, "chi-square": fs.chisq, "df": fs.df,
            "p": fs.p_value, "RMSEA": fs.rmsea,
            f"RMSEA {fs.rmsea_confidence:.0%} CI":
                f"[{fs.rmsea_ci_lower:.4f}, {fs.rmsea_ci_upper:.4f}]",
            "TLI": fs.tli, "BIC": fs.bic, "RMSR": fs.rms, "fit (off diagonal)": fs.fit_off,
        }
        return efa_summary(
            title=title, info=info, tables=tables, fit=fit)

    def __repr__(self) -> str:  # short, the full view is summary()
        return (f"FactorAnalysisResult(n_factors={self.n_factors}, method={self.method!r}, "
                f"rotation={self.rotation!r}, items={len(self.items)}, n_obs={self.n_obs})")


_METHOD_LABEL = {"minres": "minimum residual", "ml": "maximum likelihood",
                 "wls": "weighted least squares", "gls": "generalised least squares",
                 "pa": "principal axis", "pc": "principal components"}


# ============================================================================ the fit
def _rotation_args(rot: str, spec: "FactorAnalysis") -> dict:
    if spec.gamma != 0.0 and rot != "oblimin":
        raise ModelSpecificationError(f"gamma= applies to the oblimin rotation only; got "
                                      f"rotation={rot!r} with gamma={spec.gamma!r}.")
    return {"gam": float(spec.gamma)} if rot == "oblimin" else {}


def _fit(ci: CorrelationInput, nf: int, method: str, rot: str, spec: FactorAnalysis,
         t0: float) -> FactorAnalysisResult:
    if method == "pc":
        return _fit_pc(ci, nf, rot, spec, t0)
    r = ci.r
    ex = extract(r, nf, method, min_err=spec.min_err, max_iter=spec.max_iter)
    L = ex.loadings.copy()
    # psych: signs so that column sums are positive
    if nf > 1:
        s = np.sign(L.sum(axis=0))
        s[s == 0] = 1
        L = L * s
    elif L.sum() < 0:
        L = -L
    L[L == 0] = 1e-15
    model = L @ L.T
    communality = np.diag(model).copy()
    uniq = np.diag(r - model).copy()
    prefix = METHODS[method]
    names = [f"{prefix}{i + 1}" for i in range(nf)]

    rres: Rotation | None = None
    phi = None
    rot_mat = None
    if rot != "none" and nf > 1:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rres = rotate(L, rot, **_rotation_args(rot, spec))
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        L = rres.loadings
        phi = rres.phi
        rot_mat = rres.rotation_matrix
    signed = np.sign(L.sum(axis=0))
    signed[signed == 0] = 1
    L = L * signed
    if phi is not None:
        phi = phi * np.outer(signed, signed)
    order = np.arange(nf)
    if nf > 1:
        ev = np.sum(L * L, axis=0) if phi is None else np.diag(phi @ L.T @ L)
        order = _order_decreasing(ev)
        L = L[:, order]
        names = [names[i] for i in order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    return _assemble(ci, nf, method, rot, L, phi, rot_mat, communality, uniq, names, ex, rres,
                     spec, t0)


def _mat_sqrt(x: np.ndarray) -> np.ndarray:
    """psych's ``matSqrt`` (negative eigenvalues set to machine epsilon)."""
    w, v = np.linalg.eigh(x)
    w = np.where(w < 0, np.finfo(float).eps, w)
    return (v * np.sqrt(w)) @ v.T


def _inv_mat_sqrt(x: np.ndarray) -> np.ndarray:
    """psych's ``invMatSqrt`` (eigenvalues below eps set to 100 eps)."""
    w, v = np.linalg.eigh(x)
    w = np.where(w < np.finfo(float).eps, 100 * np.finfo(float).eps, w)
    return (v / np.sqrt(w)) @ v.T


def _order_decreasing(x: np.ndarray) -> np.ndarray:
    """R's ``order(x, decreasing = TRUE)`` (stable: ties keep their order)."""
    return np.argsort(-np.asarray(x), kind="stable")


def _fit_pc(ci, nf, rot, spec, t0):
    r = ci.r
    ex = extract(r, nf, "pc")
    L = ex.loadings.copy()
    communality = (L * L).sum(axis=1)
    uniq = np.diag(r) - communality
    if nf > 1:
        s = np.sign(L.sum(axis=0))
        s[s == 0] = 1
        L = L * s
    elif L.sum() < 0:
        L = -L
    names = [f"PC{i + 1}" for i in range(nf)]
    phi = rot_mat = None
    rres = None
    if rot != "none" and nf > 1:
        kind = ROTATIONS[rot][0]
        prefix = "TC" if kind == "obl" else "RC"
        names = [f"{prefix}{i + 1}" for i in range(nf)]
        if rot == "promax":
            # psych::principal uses stats::promax and Phi = cov2cor(U^-1 U^-T)
            rres = stats_promax(L)
        else:
            rres = rotate(L, rot, **_rotation_args(rot, spec))
        L, phi, rot_mat = rres.loadings, rres.phi, rres.rotation_matrix
    order = np.arange(nf)
    if nf > 1:
        order = _order_decreasing(np.sum(L * L, axis=0))
        L = L[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    signed = np.sign(L.sum(axis=0))
    signed[signed == 0] = 1
    L = L * signed
    if phi is not None:
        phi = phi * np.outer(signed, signed)
    names = [names[i] for i in order] if nf > 1 else ["PC1"]
    return _assemble(ci, nf, "pc", rot, L, phi, rot_mat, communality, uniq, names, ex, rres,
                     spec, t0)


def _assemble(ci, nf, method, rot, L, phi, rot_mat, communality, uniq, names, ex: Extraction,
              rres, spec, t0) -> FactorAnalysisResult:
    items = list(ci.items)
    fs = fa_stats(ci.r, L, phi, n_obs=ci.n_obs,
                  np_obs=None if method == "pc" else ci.np_obs, alpha=0.1,
                  smooth=True)
    if method == "pc":
        # psych::principal reports objective, STATISTIC, PVAL, rms, fit, fit.off, dof,
        # null.dof but no RMSEA, TLI, BIC, crms or null chi-square: neither do we
        nan = math.nan
        fs = dataclasses.replace(fs, rmsea=nan, rmsea_ci_lower=nan, rmsea_ci_upper=nan, tli=nan,
                                 bic=nan, sabic=nan, crms=nan, null_chisq=nan)
    if phi is None:
        vx = np.sum(L * L, axis=0)
    else:
        vx = np.diag(phi @ L.T @ L)
    vtotal = float(np.sum(communality + uniq))
    variance = pd.DataFrame({
        "ss_loadings": vx,
        "proportion_var": vx / vtotal,
        "cumulative_var": np.cumsum(vx / vtotal),
        "proportion_explained": vx / vx.sum(),
        "cumulative_proportion": np.cumsum(vx / vx.sum()),
    }, index=pd.Index(names, name="factor"))
    Ldf = pd.DataFrame(L, index=pd.Index(items, name="item"), columns=names)
    struct = Ldf if phi is None else pd.DataFrame(L @ phi, index=Ldf.index, columns=names)
    phidf = None if phi is None else pd.DataFrame(phi, index=names, columns=names)
    rmdf = None
    if rot_mat is not None:
        lab = [str(i + 1) for i in range(nf)]
        rmdf = pd.DataFrame(rot_mat, index=lab, columns=lab)
    # Heywood: communality >= 1, or uniqueness at the optimiser's lower bound
    hey = communality >= 1.0
    if ex.psi is not None:
        hey = hey | (ex.psi <= 0.005 + 1e-9)
    hey_items = tuple(items[i] for i in np.flatnonzero(hey))
    if hey_items:
        warnings.warn(
            f"Heywood case: communality at or above 1 (or uniqueness at its lower bound "
            f"0.005) for item(s) {', '.join(hey_items)}; the solution is improper - consider "
            "fewer factors or dropping these items.", HeywoodCaseWarning, stacklevel=4)
    if not ex.converged:
        warnings.warn(
            f"The {method} extraction did not converge ({ex.message}, {ex.iterations} "
            "iterations); results may be inaccurate.", ConvergenceWarning, stacklevel=4)
    l2 = L * L
    with np.errstate(invalid="ignore", divide="ignore"):
        complexity = l2.sum(axis=1) ** 2 / (l2 * l2).sum(axis=1)
    call = (f"FactorAnalysis(n_factors={nf}, method={method!r}, rotation={rot!r}, "
            f"missing={spec.missing!r}, cor={spec.cor!r})")
    return FactorAnalysisResult(
        loadings=Ldf, structure=struct,
        communalities=pd.Series(communality, index=Ldf.index, name="communality"),
        uniquenesses=pd.Series(uniq, index=Ldf.index, name="uniqueness"),
        phi=phidf, rotation_matrix=rmdf, variance=variance, values=ex.values,
        e_values=ex.e_values, fit_stats=fs,
        correlation=pd.DataFrame(ci.r, index=items, columns=items),
        n_obs=math.nan if ci.n_obs is None else float(ci.n_obs), n_factors=nf,
        method=method, rotation=rot, missing=ci.missing, cor=ci.cor, heywood=bool(hey_items),
        heywood_items=hey_items, converged=ex.converged, iterations=ex.iterations,
        rotation_converged=True if rres is None else rres.converged,
        rotation_iterations=0 if rres is None else rres.iterations,
        optimizer_message=ex.message, smoothed=ci.smoothed,
        complexity=pd.Series(complexity, index=Ldf.index, name="complexity"),
        elapsed_seconds=time.perf_counter() - t0, call=call,
        communality_iterations=ex.communality_iterations)
