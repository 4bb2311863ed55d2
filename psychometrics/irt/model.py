"""Fitting unidimensional IRT models (graded response, generalized partial credit) by
full-information marginal maximum likelihood.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ConvergenceWarning, ModelSpecificationError
from ..results import Summary
from . import _engine, _items
from ._data import Responses, prepare_responses

__all__ = ["fit_irt", "IRTResult"]

SE_METHOD = ("observed information: exact Hessian of the marginal log-likelihood (Louis 1982 "
             "identity on the quadrature grid; equals OpenMx's Oakes 1999 estimator)")


def _param_names(model: str, K: int, form: str) -> list[str]:
    if form == "irt":
        return ["a"] + [f"b{k}" for k in range(1, K)]
    return ["a"] + [f"c{k}" for k in range(1, K)]


@dataclass(frozen=True, eq=False)
class IRTResult:
    """A fitted unidimensional IRT model (from :func:`fit_irt`).

    Attributes
    ----------
    model : {"graded", "gpcm"}
    items : tuple of str
    categories : tuple of tuples
        The response value of each category code ``0..K-1``, per item.
    params : ndarray
        Slope-intercept parameters, item by item ``(a, c_1, ..., c_{K-1})``.
    vcov : ndarray
        Their covariance matrix (inverse observed information).
    loglik : float
        Marginal log-likelihood at the estimates.
    n_obs : int
        Respondents used (rows with at least one response).
    dropped_rows : tuple
        Index labels of input rows left out (no responses, or listwise deletion).
    converged : bool
        True only if the largest absolute gradient is below ``gtol`` and the Hessian is
        negative definite at the estimates (a proven local maximum).
    """

    model: str
    items: tuple[str, ...]
    categories: tuple[tuple, ...]
    params: np.ndarray
    vcov: np.ndarray
    loglik: float
    n_obs: int
    converged: bool
    message: str
    gradient_max_abs: float
    em_iterations: int
    newton_iterations: int
    qpoints: int
    qwidth: float
    responses: Responses = field(repr=False)
    dropped_rows: tuple = ()
    se_method: str = SE_METHOD

    # ------------------------------------------------------------------ basics
    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories])

    @property
    def n_par(self) -> int:
        return int(self.params.size)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_par

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(self.n_obs) * self.n_par

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.n_categories)])

    def item_params(self, item) -> np.ndarray:
        """Slope-intercept parameters ``(a, c_1..)`` of one item (name or position)."""
        j = self._pos(item)
        o = self.offsets
        return self.params[o[j]:o[j + 1]]

    def _pos(self, item) -> int:
        if isinstance(item, (int, np.integer)):
            return int(item)
        try:
            return self.items.index(str(item))
        except ValueError:
            raise ModelSpecificationError(
                f"Item {item!r} is not in the model (items: {', '.join(self.items)}).") from None

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))

    def quadrature(self) -> np.ndarray:
        return _engine.quadrature(self.qpoints, self.qwidth)

    # ------------------------------------------------------------------ tables
    def to_frame(self, form: str = "slope_intercept", level: float = 0.95) -> pd.DataFrame:
        """One row per item parameter: ``item, param, est, se, z, p_value, ci_lower,
        ci_upper`` (Wald).

        ``form="slope_intercept"`` gives ``a, c1..`` as estimated (mirt's ``coef()``,
        OpenMx's item matrix); ``form="irt"`` gives ``a, b1..`` (mirt's
        ``coef(IRTpars = TRUE)``) with delta-method standard errors.
        """
        if form not in ("slope_intercept", "irt"):
            raise ModelSpecificationError(
                f"The 'form' parameter must be 'slope_intercept' or 'irt'; got {form!r} instead.")
        zq = stats.norm.ppf(0.5 + level / 2)
        rows = []
        o = self.offsets
        for j, it in enumerate(self.items):
            sl = slice(o[j], o[j + 1])
            est = self.params[sl]
            V = self.vcov[sl, sl]
            if form == "irt":
                est, Jac = _items.to_irt(self.model, est)
                V = Jac @ V @ Jac.T
            se = np.sqrt(np.clip(np.diag(V), 0, None))
            for name, e, s in zip(_param_names(self.model, len(est), form), est, se):
                rows.append((it, name, e, s))
        df = pd.DataFrame(rows, columns=["item", "param", "est", "se"])
        df["z"] = df["est"] / df["se"]
        df["p_value"] = 2 * stats.norm.sf(np.abs(df["z"]))
        df["ci_lower"] = df["est"] - zq * df["se"]
        df["ci_upper"] = df["est"] + zq * df["se"]
        return df

    def coef(self, form: str = "slope_intercept") -> pd.DataFrame:
        """Wide table: one row per item, columns ``a, c1..`` (or ``a, b1..``)."""
        df = self.to_frame(form)
        wide = df.pivot(index="item", columns="param", values="est")
        cols = sorted(wide.columns, key=lambda c: (c != "a", len(c), c))
        return wide.loc[list(self.items), cols]

    def fit_measures(self) -> dict:
        return {"loglik": self.loglik, "n_par": self.n_par, "n_obs": self.n_obs,
                "aic": self.aic, "bic": self.bic}

    def summary(self) -> Summary:
        label = {"graded": "graded response model (logistic)",
                 "graded_probit": "graded response model (normal ogive)",
                 "gpcm": "generalized partial credit model"}[self.model]
        header = (
            f"Model: unidimensional {label}; {len(self.items)} items, {self.n_obs} respondents"
            + (f" ({len(self.dropped_rows)} rows left out)" if self.dropped_rows else ""),
            f"Estimation: Bock-Aitkin EM ({self.em_iterations} cycles) + Newton "
            f"({self.newton_iterations} steps); quadrature {self.qpoints} points on "
            f"[-{self.qwidth:g}, {self.qwidth:g}]",
            f"Converged: {self.converged} ({self.message})",
            f"logLik = {self.loglik:.4f}, AIC = {self.aic:.2f}, BIC = {self.bic:.2f}, "
            f"parameters = {self.n_par}",
            f"Standard errors: {self.se_method}",
        )
        return Summary(title="Item response model", header=header,
                       blocks=(("Slope-intercept parameters", self.to_frame()),
                               ("IRT parameters (a, b)", self.to_frame("irt"))))

    # ------------------------------------------------------------------ delegates
    def scores(self, data=None, method: str = "eap", **kw):
        """Person scores; see :func:`psychometrics.irt.score_persons`."""
        from .scoring import score_persons
        return score_persons(self, data, method=method, **kw)

    def sum_score_table(self, items: Sequence[str] | None = None, **kw):
        """EAP sum-score conversion table; see :func:`psychometrics.irt.sum_score_table`."""
        from .scoring import sum_score_table
        return sum_score_table(self, items, **kw)

    def information(self, theta=None, items: Sequence[str] | None = None):
        """Item and test information; see :func:`psychometrics.irt.information`."""
        from .curves import information
        return information(self, theta, items=items)


def _start_slopes(codes, x0, model):
    """Starting slopes and intercepts of the graded models from a one-factor principal-axis
    step on the inter-item (Pearson, pairwise) correlations: loading ``l`` (inflated by 1.1
    for the coarse categories), ``a = D l / sqrt(1 - l^2)`` and the intercepts of the marginal
    proportions rescaled by ``sqrt(1 + (a / D)^2)`` (``D = 1.702`` logistic, 1 probit).
    Starting values only move where EM begins; the optimum is checked independently."""
    J = codes.shape[1]
    if J < 3:
        return
    X = codes.astype(float)
    X[codes < 0] = np.nan
    if np.isnan(X).any():
        C = pd.DataFrame(X).corr().to_numpy().copy()
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            C = np.corrcoef(X, rowvar=False)
    if not np.isfinite(C).all():
        return
    np.fill_diagonal(C, 0.0)
    np.fill_diagonal(C, np.abs(C).max(axis=0))          # communality guess
    val, vec = np.linalg.eigh(C)
    lam = vec[:, -1] * np.sqrt(max(val[-1], 0.0))
    if lam.sum() < 0:
        lam = -lam
    lam = np.clip(1.1 * lam, -0.9, 0.9)
    D = 1.702 if model == "graded" else 1.0
    for j in range(J):
        a = D * lam[j] / np.sqrt(1.0 - lam[j] ** 2)
        cnt = np.bincount(codes[codes[:, j] >= 0, j], minlength=x0[j].size) + 0.5
        cum = 1.0 - np.cumsum(cnt / cnt.sum())[:-1]            # P(X >= k), k = 1..K-1
        x0[j] = np.concatenate([[a], D * stats.norm.ppf(cum) * np.sqrt(1.0 + (a / D) ** 2)])


def _problem(resp: Responses, model: str, qpoints: int, qwidth: float):
    from ._data import unique_patterns

    K = resp.n_categories
    codes = resp.codes
    # identical response patterns share one row of the E-step
    uniq, inv, cnt = unique_patterns(codes, K)
    idx, x0, o = [], [], 0
    for j in range(len(K)):
        idx.append(np.arange(o, o + K[j]))
        o += K[j]
        ok = codes[:, j] >= 0
        x0.append(_items.start_values(model, np.bincount(codes[ok, j], minlength=K[j])))
    if model in ("graded", "graded_probit"):
        _start_slopes(codes, x0, model)
    prob = _engine.Problem([model] * len(K), K,
                           [_engine.GroupData(None, cnt.astype(float), uniq)], [idx],
                           [(-1, -1)], _engine.quadrature(qpoints, qwidth), int(o))
    return prob, np.concatenate(x0)


def fit_irt(data, items: Sequence[str] | None = None, *, model: str = "graded",
            categories: Mapping[str, Sequence] | None = None, missing: str = "ml",
            qpoints: int = 49, qwidth: float = 6.0, gtol: float = 1e-6,
            start: Sequence[float] | None = None) -> IRTResult:
    """Fit a unidimensional graded response or generalized partial credit model.

    Full-information marginal maximum likelihood with a standard normal latent trait:
    Bock-Aitkin EM on a fixed grid, finished by Newton-Raphson on the marginal
    log-likelihood, with an optimality check (gradient and Hessian) deciding ``converged``.

    Parameters
    ----------
    data : DataFrame or 2-D array
        One row per respondent, one column per item, whole-number category codes; missing
        responses as NaN.
    items : sequence of str, optional
        Item columns (default: every column).
    model : {"graded", "gpcm", "graded_probit"}, default "graded"
        Samejima's logistic graded response model, Muraki's generalized partial credit
        model, or the normal-ogive graded model (``P(X >= k) = Phi(a theta + c_k)``, the
        IRT form of an ordinal CFA: ``a = lambda / sqrt(1 - lambda^2)``,
        ``c_k = -tau_k / sqrt(1 - lambda^2)``); all in slope-intercept form.
    categories : mapping item -> values, optional
        The full set of allowed values per item (e.g. 1..7 from an item bank). Default: the
        whole numbers from the item's lowest to its highest observed value.  A category
        nobody chose is an error (collapse it first).
    missing : {"ml", "listwise", "raise"}, default "ml"
        ``"ml"``: a missing response is left out of that respondent's likelihood (no
        deletion); rows with no responses at all are left out with a warning and listed in
        ``dropped_rows``.  ``"listwise"``: keep complete rows only.  ``"raise"``: error on
        any missing response.
    qpoints, qwidth : int, float
        Quadrature: ``qpoints`` equally spaced points on ``[-qwidth, qwidth]`` weighted by
        the normal density (OpenMx's ``mxExpectationBA81`` defaults 49 and 6).
    gtol : float
        Largest absolute gradient of the log-likelihood accepted as converged.
    start : sequence of float, optional
        Starting values in slope-intercept order.

    Returns
    -------
    IRTResult

    Raises
    ------
    DataValidationError
        Non-integer responses, an item with an empty or a single observed category, too
        few respondents for the number of parameters.

    Warns
    -----
    DataQualityWarning
        Respondents with no responses (left out); fewer than 5 respondents per parameter.
    ConvergenceWarning
        The optimality check failed.

    Notes
    -----
    R equivalents: ``mirt::mirt(data, 1, itemtype = "graded", SE = TRUE,
    SE.type = "Oakes")``; OpenMx ``mxExpectationBA81`` with ``rpf.grm`` items and
    ``mxComputeEM(..., information = "oakes1999")``.  Standard errors come from the exact
    observed information (the Hessian of the marginal log-likelihood on the grid).

    References
    ----------
    Samejima (1969); Muraki (1992); Bock & Aitkin (1981); Louis (1982); Oakes (1999).
    """
    if model not in _items.MODELS:
        raise ModelSpecificationError(
            f"The 'model' parameter of fit_irt must be one of {', '.join(_items.MODELS)}; "
            f"got {model!r} instead.")
    if int(qpoints) < 5 or not qwidth > 0:
        raise ModelSpecificationError(
            f"qpoints must be >= 5 and qwidth > 0; got qpoints={qpoints}, qwidth={qwidth}.")
    resp = prepare_responses(data, items, categories=categories, missing=missing,
                             what=f"the {model} model")
    prob, x0 = _problem(resp, model, int(qpoints), float(qwidth))
    if start is not None:
        x0 = np.asarray(start, float)
        if x0.size != prob.n_par:
            raise ModelSpecificationError(
                f"start= has {x0.size} values; the model has {prob.n_par} parameters.")
    out = _engine.maximize(prob, x0, gtol=gtol)
    return _result(out, resp, model, qpoints, qwidth)


def _vcov(H):
    try:
        return np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        return np.full(H.shape, np.nan)


def _result(out, resp, model, qpoints, qwidth) -> IRTResult:
    if not out.converged:
        warnings.warn(f"The {model} model did not pass the optimality check: {out.message}.",
                      ConvergenceWarning, stacklevel=3)
    return IRTResult(model=model, items=resp.items, categories=resp.categories,
                     params=out.x, vcov=_vcov(out.hessian), loglik=out.loglik,
                     n_obs=resp.n_obs, converged=out.converged, message=out.message,
                     gradient_max_abs=float(np.max(np.abs(out.grad))),
                     em_iterations=out.em_iterations, newton_iterations=out.newton_iterations,
                     qpoints=int(qpoints), qwidth=float(qwidth), responses=resp,
                     dropped_rows=resp.dropped_rows)
