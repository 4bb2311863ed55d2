"""Model fit of a unidimensional IRT model: S-X2 item fit (Orlando & Thissen), local
dependence (Chen & Thissen's LD X2 and Yen's Q3), and the M2 limited-information statistic
with its RMSEA (Maydeu-Olivares & Joe).

Item fit and M2 use the respondents who answered every item (as rpf and mirt do without
imputation); the number used is reported as ``n_obs``.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import DataValidationError, ModelSpecificationError
from ..results import Summary
from . import _engine, _items
from .scoring import lord_wingersky, score_persons

__all__ = ["item_fit", "local_dependence", "m2", "ItemFit", "LocalDependence", "M2Result",
           "sx2_tables"]


def _rmsea(x2, df, n):
    return float(np.sqrt(max(0.0, x2 - df) / (df * (n - 1)))) if df > 0 and n > 1 else np.nan


def _complete(result):
    codes = result.responses.codes
    full = (codes >= 0).all(axis=1)
    if full.sum() < 2:
        raise DataValidationError(
            "Item fit needs respondents who answered every item; fewer than two did.")
    return codes[full]


def _grid(result):
    th = result.quadrature()
    return th, np.exp(_engine.log_weights(th))


@dataclass(frozen=True, eq=False)
class ItemFit:
    """S-X2 per item: ``item, chisq, df, p_value, rmsea, n_obs``."""

    frame: pd.DataFrame
    score: str
    mincell: float

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        return Summary(title="Item fit (S-X2, Orlando & Thissen)",
                       header=(f"Grouping by {self.score} score; cells with expected count "
                               f"< {self.mincell:g} merged with a neighbouring category",),
                       blocks=(("S-X2 by item", self.frame),))


def sx2_tables(result, item, score: str = "total"):
    """Observed and expected (item category by sum score) tables of one item.

    ``score="total"``: Orlando & Thissen (2000), grouped by the sum of all items' codes
    (mirt's ``itemfit``); ``"rest"``: grouped by the sum of the other items (rpf's
    ``SitemFit``).  Returns ``(observed, expected)``, both (scores, K) arrays.
    """
    j = result._pos(item)
    codes = _complete(result)
    th, w = _grid(result)
    probs = [_items.prob(result.model, result.item_params(k), th)
             for k in range(len(result.items))]
    P = probs[j]
    K = P.shape[0]
    rest = lord_wingersky([p for k, p in enumerate(probs) if k != j])   # (S_rest, Q)
    rest_sum = codes.sum(axis=1) - codes[:, j]
    if score == "rest":
        S = rest.shape[0]
        E = np.einsum("kq,sq,q->sk", P, rest, w)
        E /= E.sum(axis=1, keepdims=True)
        grp = rest_sum
    elif score == "total":
        S = rest.shape[0] + K - 1
        E = np.zeros((S, K))
        for k in range(K):
            E[k:k + rest.shape[0], k] = np.einsum("q,sq,q->s", P[k], rest, w)
        E /= E.sum(axis=1, keepdims=True)
        grp = rest_sum + codes[:, j]
    else:
        raise ModelSpecificationError(
            f"The 'score' parameter must be 'total' or 'rest'; got {score!r} instead.")
    O = np.zeros((S, K))
    np.add.at(O, (grp, codes[:, j]), 1.0)
    return O, E * O.sum(axis=1, keepdims=True)


def _collapse_row(o, e, mincell):
    """Merge adjacent cells of one score group until each expected count >= mincell;
    structural zeros (expected 0) are dropped.  Returns lists of merged (o, e)."""
    keep = e > 0
    o, e = o[keep], e[keep]
    groups_o, groups_e = [], []
    acc_o = acc_e = 0.0
    for oi, ei in zip(o, e):
        acc_o += oi
        acc_e += ei
        if acc_e >= mincell:
            groups_o.append(acc_o)
            groups_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0:
        if groups_e:
            groups_o[-1] += acc_o
            groups_e[-1] += acc_e
        else:
            groups_o.append(acc_o)
            groups_e.append(acc_e)
    return np.array(groups_o), np.array(groups_e)


def item_fit(result, *, score: str = "total", mincell: float = 1.0) -> ItemFit:
    """S-X2 item fit statistics.

    Parameters
    ----------
    result : IRTResult
    score : {"total", "rest"}
        Group respondents by the total sum score (Orlando & Thissen 2000; Kang & Chen 2008
        for polytomous items; mirt's default) or by the rest score (rpf's ``SitemFit``).
    mincell : float
        Within each score group, adjacent categories are merged until every expected count
        is at least ``mincell`` (0: no merging).

    Returns
    -------
    ItemFit
        ``chisq = sum (O - E)^2 / E``, ``df`` = merged cells minus one per score group,
        minus the item's free parameters, ``p_value``, ``rmsea`` (mirt's RMSEA.S_X2) and
        ``n_obs`` (respondents with every item answered).

    Notes
    -----
    R: ``mirt::itemfit(fit, "S_X2")``; ``rpf::SitemFit(grp)`` (rest score).
    """
    codes = _complete(result)
    n = codes.shape[0]
    rows = []
    for j, it in enumerate(result.items):
        O, E = sx2_tables(result, it, score)
        x2, cells = 0.0, 0
        for o, e in zip(O, E):
            if o.sum() == 0:
                continue
            go, ge = _collapse_row(o, e, mincell) if mincell > 0 else (o[e > 0], e[e > 0])
            x2 += float(((go - ge) ** 2 / ge).sum())
            cells += go.size - 1
        df = max(1, cells - int(result.n_categories[j]))
        rows.append((it, x2, df, stats.chi2.sf(x2, df), _rmsea(x2, df, n), n))
    frame = pd.DataFrame(rows, columns=["item", "chisq", "df", "p_value", "rmsea", "n_obs"])
    return ItemFit(frame=frame, score=score, mincell=mincell)


# --------------------------------------------------------------------------- local dependence
@dataclass(frozen=True, eq=False)
class LocalDependence:
    """One row per item pair: ``item1, item2, chisq, df, p_value, std, cramer_v, q3, n_obs``."""

    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def q3_matrix(self) -> pd.DataFrame:
        items = list(dict.fromkeys(list(self.frame["item1"]) + list(self.frame["item2"])))
        m = pd.DataFrame(np.eye(len(items)), index=items, columns=items)
        for r in self.frame.itertuples():
            m.loc[r.item1, r.item2] = m.loc[r.item2, r.item1] = r.q3
        return m

    def summary(self) -> Summary:
        return Summary(title="Local dependence",
                       header=("LD X2 (Chen & Thissen 1997) from each pair's bivariate table; "
                               "std = (X2 - df) / sqrt(2 df); Q3 (Yen 1984) correlates "
                               "residuals from EAP scores",),
                       blocks=(("Item pairs", self.frame),))


def bivariate_expected(result, j, k, n):
    """Model-implied bivariate table of items j, k times n."""
    th, w = _grid(result)
    Pj = _items.prob(result.model, result.item_params(j), th)
    Pk = _items.prob(result.model, result.item_params(k), th)
    return n * np.einsum("aq,bq,q->ab", Pj, Pk, w)


def local_dependence(result) -> LocalDependence:
    """LD X2 and Q3 for every pair of items.

    The LD X2 of a pair is the Pearson statistic of its observed bivariate table (the
    respondents who answered both) against the model-implied one, with
    ``df = (K_j - 1)(K_k - 1)``; ``std`` is its standardised value and ``cramer_v`` an
    effect size ``sqrt(X2 / (n (min K - 1)))``.  Q3 is the correlation of the residuals
    ``x - E(x | theta_EAP)`` of the two items.

    Notes
    -----
    R: ``mirt::residuals(fit, type = "LD")`` and ``type = "Q3"``;
    ``rpf::ChenThissen1997`` (which also merges sparse cells).
    """
    codes = result.responses.codes
    eap = score_persons(result).frame["est"].to_numpy()
    resid = np.full(codes.shape, np.nan)
    for j in range(len(result.items)):
        P = _items.prob(result.model, result.item_params(j), eap)       # (K, n)
        ex = np.arange(P.shape[0]) @ P
        ok = codes[:, j] >= 0
        resid[ok, j] = codes[ok, j] - ex[ok]
    rows = []
    K = result.n_categories
    for j, k in combinations(range(len(result.items)), 2):
        both = (codes[:, j] >= 0) & (codes[:, k] >= 0)
        n = int(both.sum())
        O = np.zeros((K[j], K[k]))
        np.add.at(O, (codes[both, j], codes[both, k]), 1.0)
        E = bivariate_expected(result, j, k, n)
        x2 = float(((O - E) ** 2 / E).sum())
        df = int((K[j] - 1) * (K[k] - 1))
        q3 = float(np.corrcoef(resid[both, j], resid[both, k])[0, 1]) if n > 2 else np.nan
        rows.append((result.items[j], result.items[k], x2, df, stats.chi2.sf(x2, df),
                     (x2 - df) / np.sqrt(2 * df),
                     np.sqrt(x2 / (n * (min(K[j], K[k]) - 1))), q3, n))
    frame = pd.DataFrame(rows, columns=["item1", "item2", "chisq", "df", "p_value", "std",
                                        "cramer_v", "q3", "n_obs"])
    return LocalDependence(frame=frame)


# --------------------------------------------------------------------------- M2
@dataclass(frozen=True, eq=False)
class M2Result:
    """Limited-information goodness of fit: ``chisq`` (M2), ``df``, ``p_value``, ``rmsea``
    (with its 90% interval) and ``n_obs`` (respondents with every item answered)."""

    chisq: float
    df: int
    p_value: float
    rmsea: float
    rmsea_ci_lower: float
    rmsea_ci_upper: float
    n_obs: int
    n_moments: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"chisq": self.chisq, "df": self.df, "p_value": self.p_value,
                              "rmsea": self.rmsea, "rmsea_ci_lower": self.rmsea_ci_lower,
                              "rmsea_ci_upper": self.rmsea_ci_upper, "n_obs": self.n_obs}])

    def summary(self) -> Summary:
        return Summary(title="M2 limited-information fit (Maydeu-Olivares & Joe 2006)",
                       header=(f"{self.n_moments} univariate and bivariate moments, "
                               f"{self.n_obs} complete respondents",),
                       blocks=(("M2", self.to_frame()),))


def _rmsea_ci(x2, df, n, level=0.90):
    """RMSEA interval from the noncentral chi-square (as mirt's RMSEA.CI)."""
    from scipy.optimize import brentq

    def lam_for(prob):
        f = lambda lam: stats.ncx2.cdf(x2, df, lam) - prob if lam > 0 else \
            stats.chi2.cdf(x2, df) - prob
        if f(0.0) < 0:
            return 0.0
        hi = max(1.0, x2)
        while f(hi) > 0:
            hi *= 2
        return brentq(f, 0.0, hi)
    lo = lam_for(0.5 + level / 2)
    up = lam_for(0.5 - level / 2)
    return (np.sqrt(lo / (df * (n - 1))), np.sqrt(up / (df * (n - 1))))


def m2(result) -> M2Result:
    """The M2 statistic of Maydeu-Olivares & Joe (2006) for polytomous items.

    Residuals are the univariate ``P(x_j = a)`` and bivariate ``P(x_j = a, x_l = b)``
    proportions (``a, b >= 1``) minus their model values; with ``Delta`` their derivatives
    with respect to the item parameters and ``Xi`` their multinomial covariance (from the
    model, up to four-way margins, integrated on the quadrature grid),
    ``M2 = N e' Dc (Dc' Xi Dc)^-1 Dc' e`` where ``Dc`` spans the orthogonal complement of
    ``Delta``; ``df`` = moments - parameters.  RMSEA2 = sqrt((M2 - df) / (df (N - 1))).

    Notes
    -----
    R: ``mirt::M2(fit, type = "M2")``.  Uses respondents with every item answered.
    """
    parts = _m2_parts(result)
    return _m2_from_parts(*parts)


def _m2_parts(result):
    """Observed and model moments, their covariance and derivatives (see :func:`m2`)."""
    codes = _complete(result)
    n = codes.shape[0]
    th, w = _grid(result)
    J = len(result.items)
    K = result.n_categories
    offs = result.offsets
    # moments: (item, category) sets
    moments = [((j, a),) for j in range(J) for a in range(1, K[j])]
    moments += [((j, a), (l, b)) for j in range(J) for l in range(j + 1, J)
                 for a in range(1, K[j]) for b in range(1, K[l])]
    M = len(moments)
    df = M - result.n_par
    if df < 1:
        raise ModelSpecificationError(
            f"M2 needs more moments than parameters: {M} univariate and bivariate moments "
            f"for {result.n_par} parameters. Use more items.")
    cat = np.full((M, J), -1)
    for r, mom in enumerate(moments):
        for j, a in mom:
            cat[r, j] = a
    A = np.zeros((M, int(offs[-1])))
    for j in range(J):
        rows = np.nonzero(cat[:, j] >= 0)[0]
        A[rows, offs[j] + cat[rows, j]] = 1.0
    logP = np.vstack([_items.logprob(result.model, result.item_params(j), th)
                      for j in range(J)])
    G = A @ logP
    F = np.exp(G)
    pi = F @ w
    E = (F * w) @ F.T
    # pairs sharing an (item, category): the shared probability enters once, not twice
    share = A @ A.T
    r_i, s_i = np.nonzero(share > 0)
    shared = (A[r_i] * A[s_i]) @ logP
    E[r_i, s_i] = np.exp(G[r_i] + G[s_i] - shared) @ w
    # pairs asking for two different categories of one item are impossible
    for j in range(J):
        cj = cat[:, j]
        both = (cj[:, None] >= 0) & (cj[None, :] >= 0) & (cj[:, None] != cj[None, :])
        E[both] = 0.0
    Xi = E - np.outer(pi, pi)
    # Delta: d pi / d params
    Delta = np.zeros((M, result.n_par))
    for j in range(J):
        rows = np.nonzero(cat[:, j] >= 0)[0]
        D = _items.dlogprob(result.model, result.item_params(j), th)      # (p, K, Q)
        Delta[np.ix_(rows, np.arange(offs[j], offs[j + 1]))] = np.einsum(
            "prq,rq->rp", D[:, cat[rows, j], :], F[rows] * w)
    # observed proportions
    p = np.zeros(M)
    for r, mom in enumerate(moments):
        ok = np.ones(n, bool)
        for j, a in mom:
            ok &= codes[:, j] == a
        p[r] = ok.mean()
    return p, pi, Xi, Delta, n, result.n_par, df, M


def _m2_from_parts(p, pi, Xi, Delta, n, n_par, df, M):
    e = p - pi
    Qf, _ = np.linalg.qr(Delta, mode="complete")
    Dc = Qf[:, n_par:]
    u = Dc.T @ e
    S = Dc.T @ Xi @ Dc
    stat = float(n * u @ np.linalg.solve(S, u))
    lo, up = _rmsea_ci(stat, df, n)
    return M2Result(chisq=stat, df=int(df), p_value=float(stats.chi2.sf(stat, df)),
                    rmsea=_rmsea(stat, df, n), rmsea_ci_lower=float(lo),
                    rmsea_ci_upper=float(up), n_obs=n, n_moments=M)
