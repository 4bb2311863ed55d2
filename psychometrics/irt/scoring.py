"""Person scores from a fitted IRT model: EAP and MAP with standard errors, and the EAP
sum-score conversion table (Lord-Wingersky recursion) for any subset (form) of the items.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataValidationError, ModelSpecificationError
from ..io.validate import row_label
from ..results import Summary
from . import _engine, _items
from ._data import _num, onehot

__all__ = ["score_persons", "sum_score_table", "PersonScores", "SumScoreTable",
           "lord_wingersky"]


@dataclass(frozen=True, eq=False)
class PersonScores:
    """Scores per respondent: ``id`` (the input row label), ``est``, ``se``, ``n_items``."""

    method: str
    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        d = self.frame
        desc = pd.DataFrame({"statistic": ["n_obs", "mean est", "sd est", "mean se"],
                             "value": [len(d), d["est"].mean(), d["est"].std(),
                                       d["se"].mean()]})
        return Summary(title=f"IRT person scores ({self.method.upper()})",
                       header=(f"{len(d)} respondents",), blocks=(("Description", desc),))


@dataclass(frozen=True, eq=False)
class SumScoreTable:
    """EAP of theta for every sum score of a set of items (the score-to-theta conversion)."""

    items: tuple[str, ...]
    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        return Summary(title="Sum-score to theta conversion (EAP)",
                       header=(f"Items: {', '.join(self.items)}",
                               "t_score = 50 + 10 * eap; p = model-implied proportion"),
                       blocks=(("Conversion table", self.frame),))


def _codes_for(result, data, items):
    """Code new data with the fitted model's categories (values outside them are errors)."""
    from ..io.itemdata import ItemData, as_frame

    if isinstance(data, (pd.DataFrame, ItemData)):
        df = as_frame(data, "score_persons", items_only=True)
    else:
        df = pd.DataFrame(np.asarray(data, float), columns=list(items))
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise DataValidationError(
            f"Item column(s) {', '.join(map(repr, absent))} are not in data=.")
    codes = np.full((len(df), len(items)), -1, dtype=np.int64)
    issues = []
    for j, it in enumerate(items):
        cats = np.asarray(result.categories[result.items.index(it)], float)
        v = pd.to_numeric(df[it], errors="coerce").to_numpy(float)
        raw = df[it].to_numpy()
        for pos in np.nonzero(np.isnan(v) & pd.notna(raw))[0][:50]:
            issues.append(DataIssue(int(pos) + 1, it, raw[pos], "not a number",
                                    row_label(int(pos), df.index)))
        ok = ~np.isnan(v)
        pos = np.searchsorted(cats, v[ok])
        pos_c = np.clip(pos, 0, len(cats) - 1)
        good = cats[pos_c] == v[ok]
        for p in np.nonzero(ok)[0][~good][:50]:
            issues.append(DataIssue(int(p) + 1, it, _num(v[p]),
                                    f"not one of the item's calibrated categories "
                                    f"{list(result.categories[result.items.index(it)])}",
                                    row_label(int(p), df.index)))
        col = np.full(len(df), -1)
        col[np.nonzero(ok)[0][good]] = pos_c[good]
        codes[:, j] = col
    if issues:
        raise DataValidationError(f"{len(issues)} response(s) cannot be scored:", issues)
    return codes, tuple(df.index)


def _logL(result, codes, items, theta):
    """(n, Q) log-likelihood of each respondent at each theta."""
    js = [result.items.index(i) for i in items]
    K = result.n_categories[js]
    logP = np.vstack([_items.logprob(result.model, result.item_params(j), theta) for j in js])
    return onehot(codes, K) @ logP


def score_persons(result, data=None, *, method: str = "eap", items: Sequence[str] | None = None,
                  prior_mean: float = 0.0, prior_sd: float = 1.0, qpoints: int | None = None,
                  qwidth: float | None = None):
    """EAP or MAP estimates of theta with standard errors.

    Parameters
    ----------
    result : IRTResult
    data : DataFrame, optional
        Responses to score (original category values; NaN = missing).  Default: the data
        the model was fitted to (rows left out there are left out here too).
    method : {"eap", "map"}
        ``"eap"``: posterior mean and posterior SD on the quadrature grid.  ``"map"``:
        posterior mode (Newton-Raphson), SE = 1 / sqrt(observed posterior information).
    items : sequence of str, optional
        Score on these items only (a short form); default all.
    prior_mean, prior_sd : float
        Normal prior of theta (default the model's N(0, 1)).

    Returns
    -------
    PersonScores
        Columns ``id, est, se, n_items``.  A respondent with no answered item of
        ``items`` gets the prior (EAP) and is counted in ``n_items = 0``.

    Notes
    -----
    R: ``mirt::fscores(fit, method = "EAP" | "MAP", full.scores.SE = TRUE)``;
    ``rpf::EAPscores(grp)``.
    """
    if method not in ("eap", "map"):
        raise ModelSpecificationError(
            f"The 'method' parameter must be 'eap' or 'map'; got {method!r} instead.")
    items = list(result.items if items is None else items)
    bad = [i for i in items if i not in result.items]
    if bad:
        raise ModelSpecificationError(f"Item(s) {', '.join(bad)} are not in the model.")
    if data is None:
        js = [result.items.index(i) for i in items]
        codes, ids = result.responses.codes[:, js], result.responses.row_labels
    else:
        codes, ids = _codes_for(result, data, items)
    theta = _engine.quadrature(qpoints or result.qpoints, qwidth or result.qwidth)
    from .._blas import single_blas_thread
    with single_blas_thread():
        LL = _logL(result, codes, items, theta) + _engine.log_weights(theta, prior_mean,
                                                                       prior_sd ** 2)
    m = LL.max(axis=1, keepdims=True)
    post = np.exp(LL - m)
    post /= post.sum(axis=1, keepdims=True)
    eap = post @ theta
    sd = np.sqrt(np.clip(post @ theta ** 2 - eap ** 2, 0, None))
    est, se = eap, sd
    if method == "map":
        est, se = _map(result, codes, items, eap, prior_mean, prior_sd)
    n_items = (codes >= 0).sum(axis=1)
    frame = pd.DataFrame({"id": list(ids), "est": est, "se": se, "n_items": n_items})
    return PersonScores(method=method, frame=frame)


def _dlogpost(result, codes, items, th, mu, sd):
    """First and second derivative of the log posterior at each person's theta."""
    g = -(th - mu) / sd ** 2
    h = np.full_like(th, -1.0 / sd ** 2)
    for jj, it in enumerate(items):
        j = result.items.index(it)
        par = result.item_params(j)
        ok = codes[:, jj] >= 0
        if not ok.any():
            continue
        t = th[ok]
        c = codes[ok, jj]
        eps = 1e-5
        P = _items.prob(result.model, par, t)
        dP = _items.dtheta(result.model, par, t)
        dPp = _items.dtheta(result.model, par, t + eps)
        dPm = _items.dtheta(result.model, par, t - eps)
        idx = np.arange(t.size)
        p, d1 = P[c, idx], dP[c, idx]
        d2 = (dPp[c, idx] - dPm[c, idx]) / (2 * eps)
        g[ok] += d1 / p
        h[ok] += d2 / p - (d1 / p) ** 2
    return g, h


def _map(result, codes, items, start, mu, sd, tol=1e-10, maxit=100):
    th = start.copy()
    for _ in range(maxit):
        g, h = _dlogpost(result, codes, items, th, mu, sd)
        step = np.clip(-g / np.minimum(h, -1e-8), -1.0, 1.0)
        th = th + step
        if np.max(np.abs(step)) < tol:
            break
    g, h = _dlogpost(result, codes, items, th, mu, sd)
    if np.max(np.abs(g)) > 1e-6:
        from ..exceptions import ConvergenceWarning
        import warnings
        warnings.warn("MAP scoring: the posterior mode was not reached for some respondents "
                      f"(largest |gradient| {np.max(np.abs(g)):.2g}).", ConvergenceWarning,
                      stacklevel=3)
    return th, 1.0 / np.sqrt(-h)


def lord_wingersky(probs: Sequence[np.ndarray]) -> np.ndarray:
    """Likelihood of every code sum at every theta: ``L[s, q]`` (Lord & Wingersky 1984).

    ``probs`` holds one (K_j, Q) array of category probabilities per item.
    """
    L = np.ones((1, probs[0].shape[1]))
    for P in probs:
        K = P.shape[0]
        new = np.zeros((L.shape[0] + K - 1, L.shape[1]))
        for k in range(K):
            new[k:k + L.shape[0]] += L * P[k]
        L = new
    return L


def sum_score_table(result, items: Sequence[str] | None = None, *, bank=None,
                    form: str | None = None, prior_mean: float = 0.0,
                    prior_sd: float = 1.0) -> SumScoreTable:
    """EAP of theta (and its posterior SD) for every possible sum score of ``items``.

    Parameters
    ----------
    result : IRTResult
    items : sequence of str, optional
        The items of the form to convert (default all).  Alternatively ``bank`` and
        ``form``: the items of that form of an item bank.
    prior_mean, prior_sd : float

    Returns
    -------
    SumScoreTable
        ``sum_score`` (in the response values, e.g. 5..30 for five 1-6 items), ``p`` (the
        model-implied proportion of respondents with that sum), ``eap``, ``se`` (posterior
        SD) and ``t_score = 50 + 10 eap``.

    Notes
    -----
    R: ``rpf::sumScoreEAP(grp)``; ``mirt::fscores(fit, method = "EAPsum",
    full.scores = FALSE)``.
    """
    if bank is not None or form is not None:
        if bank is None or form is None or items is not None:
            raise ModelSpecificationError(
                "Give either items= or both bank= and form= to sum_score_table.")
        from ..instruments import load_instrument
        items = list(load_instrument(bank).with_form(form).item_ids)
    items = list(result.items if items is None else items)
    bad = [i for i in items if i not in result.items]
    if bad:
        raise ModelSpecificationError(
            f"Item(s) {', '.join(bad)} are not in the model (calibrate them first).")
    theta = _engine.quadrature(result.qpoints, result.qwidth)
    w = np.exp(_engine.log_weights(theta, prior_mean, prior_sd ** 2))
    probs = [_items.prob(result.model, result.item_params(i), theta)
             for i in (result.items.index(it) for it in items)]
    L = lord_wingersky(probs)
    joint = L * w[None, :]
    p = joint.sum(axis=1)
    eap = joint @ theta / p
    se = np.sqrt(np.clip(joint @ theta ** 2 / p - eap ** 2, 0, None))
    offset = 0
    consecutive = True
    for it in items:
        cats = np.asarray(result.categories[result.items.index(it)], float)
        offset += cats[0]
        consecutive &= bool(np.all(np.diff(cats) == 1))
    sums = np.arange(L.shape[0]) + (offset if consecutive else 0)
    frame = pd.DataFrame({"sum_score": sums.astype(int) if consecutive else sums,
                          "p": p, "eap": eap, "se": se, "t_score": 50 + 10 * eap})
    return SumScoreTable(items=tuple(items), frame=frame)
