"""Confirmatory multidimensional graded response models: correlated factors with simple
structure (every item loads on one factor).  Bifactor models: :mod:`psychometrics.irt.bifactor`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ConvergenceWarning, ModelSpecificationError
from ..results import Summary
from . import _engine, _items
from ._data import Responses, onehot, prepare_responses, unique_patterns

__all__ = ["fit_mirt", "MIRTResult"]


@dataclass(frozen=True, eq=False)
class MIRTResult:
    """A fitted correlated-factors model (from :func:`fit_mirt`)."""

    model: str
    factors: tuple[str, ...]
    items: tuple[str, ...]
    item_factor: tuple[str, ...]
    categories: tuple[tuple, ...]
    params: np.ndarray
    vcov: np.ndarray
    loglik: float
    n_obs: int
    n_par: int
    converged: bool
    message: str
    qpoints: int
    qwidth: float
    corr_names: tuple[str, ...]
    responses: Responses = field(repr=False)

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.n_par

    @property
    def bic(self) -> float:
        return -2 * self.loglik + np.log(self.n_obs) * self.n_par

    @property
    def correlations(self) -> pd.DataFrame:
        D = len(self.factors)
        R = np.eye(D)
        k = self.params.size - len(self.corr_names)
        for (d1, d2), v in zip(combinations(range(D), 2), self.params[k:]):
            R[d1, d2] = R[d2, d1] = v
        return pd.DataFrame(R, index=list(self.factors), columns=list(self.factors))

    def to_frame(self) -> pd.DataFrame:
        """``item, factor, param, est, se, z, p_value`` (slope ``a``, intercepts ``c1..``;
        factor correlations as ``item = "F1~~F2"``, ``param = "r"``)."""
        se = np.sqrt(np.clip(np.diag(self.vcov), 0, None))
        rows, o = [], 0
        for it, f, cats in zip(self.items, self.item_factor, self.categories):
            names = ["a"] + [f"c{k}" for k in range(1, len(cats))]
            for nm in names:
                rows.append((it, f, nm, self.params[o], se[o]))
                o += 1
        for nm in self.corr_names:
            rows.append((nm, "", "r", self.params[o], se[o]))
            o += 1
        df = pd.DataFrame(rows, columns=["item", "factor", "param", "est", "se"])
        df["z"] = df["est"] / df["se"]
        df["p_value"] = 2 * stats.norm.sf(np.abs(df["z"]))
        return df

    def scores(self) -> pd.DataFrame:
        """EAP score and posterior SD of every factor for each respondent of the fitted data:
        columns ``id``, then ``<factor>`` and ``<factor>_se`` per factor (R:
        ``mirt::fscores(fit, full.scores.SE = TRUE)``)."""
        names = list(self.factors)
        th = _engine.quadrature(self.qpoints, self.qwidth)
        D = len(names)
        grid = np.stack(np.meshgrid(*[th] * D, indexing="ij"), axis=-1).reshape(-1, D)
        R = self.correlations.to_numpy()
        lw = -0.5 * np.einsum("qd,de,qe->q", grid, np.linalg.inv(R), grid)
        K = np.array([len(c) for c in self.categories])
        rows, o = [], 0
        for j, f in enumerate(self.item_factor):
            par = self.params[o:o + K[j]]
            o += K[j]
            rows.append(_items.logprob(self.model, par, grid[:, names.index(f)]))
        LL = onehot(self.responses.codes, K) @ np.vstack(rows) + lw[None, :]
        LL -= LL.max(axis=1, keepdims=True)
        post = np.exp(LL)
        post /= post.sum(axis=1, keepdims=True)
        out = {"id": list(self.responses.row_labels)}
        for d, nm in enumerate(names):
            m1 = post @ grid[:, d]
            out[nm] = m1
            out[f"{nm}_se"] = np.sqrt(np.clip(post @ grid[:, d] ** 2 - m1 ** 2, 0, None))
        return pd.DataFrame(out)

    def summary(self) -> Summary:
        return Summary(
            title="Confirmatory multidimensional IRT model (correlated factors)",
            header=(f"Model: {self.model}; factors {', '.join(self.factors)}; "
                    f"{len(self.items)} items, {self.n_obs} respondents",
                    f"Quadrature: {self.qpoints} points per dimension on "
                    f"[-{self.qwidth:g}, {self.qwidth:g}]",
                    f"Converged: {self.converged} ({self.message})",
                    f"logLik = {self.loglik:.4f}, AIC = {self.aic:.2f}, BIC = {self.bic:.2f}"),
            blocks=(("Parameters", self.to_frame()), ("Factor correlations", self.correlations)))


def fit_mirt(data, factors: Mapping[str, Sequence[str]], *, model: str = "graded",
             categories=None, missing: str = "ml", qpoints: int = 21,
             qwidth: float = 5.0, gtol: float = 1e-5,
             correlated: bool = True) -> MIRTResult:
    """Confirmatory correlated-factors graded response (or GPCM) model.

    Parameters
    ----------
    data : DataFrame
    factors : mapping factor name -> items
        Simple structure: every item belongs to exactly one factor (e.g. a bank's
        subscales, WAI-SR goal/task/bond).  Factor variances are 1, means 0, correlations
        free.
    correlated : bool, default True
        False fixes the factor correlations at 0 (orthogonal factors).
    qpoints, qwidth : int, float
        Points per dimension of the product grid on ``[-qwidth, qwidth]`` (21 and 5 by
        default: 441 points for two factors, 9,261 for three).

    Returns
    -------
    MIRTResult

    Notes
    -----
    Same estimator as :func:`fit_irt` (EM, then Newton with an optimality check) on the
    product grid; the item parameters of a factor's items depend only on that factor's
    coordinate.  The Hessian (and SEs) are by central differences of the analytic gradient.
    R: ``mirt::mirt(data, mirt.model("F1 = 1-5\\nF2 = 6-10\\nCOV = F1*F2"))``; OpenMx
    ``mxExpectationBA81`` with multidimensional ``rpf.grm``.
    """
    if model not in ("graded", "gpcm", "graded_probit"):
        raise ModelSpecificationError(f"Unknown model {model!r}.")
    names = [str(f) for f in factors]
    if len(names) < 2:
        raise ModelSpecificationError("fit_mirt needs at least two factors; use fit_irt.")
    items, item_factor = [], []
    for f in names:
        for it in factors[f]:
            if str(it) in items:
                raise ModelSpecificationError(
                    f"Item {it!r} is listed under two factors; the model is simple structure.")
            items.append(str(it))
            item_factor.append(f)
    if qpoints ** len(names) > 100_000:
        raise ModelSpecificationError(
            f"{qpoints}^{len(names)} quadrature points are too many; lower qpoints.")
    resp = prepare_responses(data, items, categories=categories, missing=missing,
                             what=f"the {len(names)}-factor {model} model")
    K = resp.n_categories
    codes = resp.codes
    uniq, _, cnt = unique_patterns(codes, K)
    idx, x0, o = [], [], 0
    for j in range(len(items)):
        idx.append(np.arange(o, o + K[j]))
        o += K[j]
        ok = codes[:, j] >= 0
        x0.append(_items.start_values(model, np.bincount(codes[ok, j], minlength=K[j])))
    # start slopes from the sign of the item's correlation with its factor's sum score
    fidx = np.array([names.index(f) for f in item_factor])
    for j in range(len(items)):
        mates = [k for k in range(len(items)) if fidx[k] == fidx[j] and k != j]
        both = (codes[:, j] >= 0) & (codes[:, mates] >= 0).all(axis=1)
        if both.sum() > 2:
            r = np.corrcoef(codes[both, j], codes[both][:, mates].sum(axis=1))[0, 1]
            if r < 0:
                x0[j][0] = -1.0
    corr = []
    corr_names = []
    for d1, d2 in (combinations(range(len(names)), 2) if correlated else ()):
        corr.append((d1, d2, o))
        corr_names.append(f"{names[d1]}~~{names[d2]}")
        x0.append(np.array([0.0]))
        o += 1
    th = _engine.quadrature(qpoints, qwidth)
    grid = np.stack(np.meshgrid(*[th] * len(names), indexing="ij"), axis=-1).reshape(
        -1, len(names))
    prob = _engine.Problem([model] * len(items), K,
                           [_engine.GroupData(None, cnt.astype(float), uniq)],
                           [idx], [(-1, -1)], th, int(o), grid=grid, item_factor=fidx,
                           corr=corr)
    out = _engine.maximize(prob, np.concatenate(x0), gtol=gtol)
    if not out.converged:
        warnings.warn(f"The multidimensional model did not pass the optimality check: "
                      f"{out.message}.", ConvergenceWarning, stacklevel=2)
    try:
        vcov = np.linalg.inv(-out.hessian)
    except np.linalg.LinAlgError:
        vcov = np.full(out.hessian.shape, np.nan)
    return MIRTResult(model=model, factors=tuple(names), items=tuple(items),
                      item_factor=tuple(item_factor), categories=resp.categories,
                      params=out.x, vcov=vcov, loglik=out.loglik, n_obs=resp.n_obs,
                      n_par=int(o), converged=out.converged, message=out.message,
                      qpoints=int(qpoints), qwidth=float(qwidth),
                      corr_names=tuple(corr_names), responses=resp)
