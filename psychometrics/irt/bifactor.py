"""Bifactor item response models for item banks with subscales (e.g. WAI-SR goal, task and
bond): one general factor on which every item loads, and one specific factor per subscale,
all orthogonal N(0, 1).

The likelihood is integrated two-tier (Gibbons & Hedeker 1992; Cai 2010): given the
general factor the specific factors are independent, so each pattern's likelihood is

    L_i = sum_g w_g prod_s [ sum_t w_t prod_{j in s} P_j(y_ij | theta_g, theta_t) ]

on a Q x Q grid per subscale instead of the Q^(S+1) product grid.  Estimation is the same as
:func:`psychometrics.irt.fit_irt`: Bock-Aitkin EM (expected counts on each subscale's grid,
one Fisher-scoring step per item), then Newton-Raphson with the exact Hessian of the
marginal log-likelihood (Louis 1982, using the conditional independence of the specific
factors given the general one), and ``converged`` only after the gradient and Hessian check.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import (ConvergenceWarning, ModelSpecificationError,
                          ModelSpecificationWarning)
from ..results import Summary
from . import _engine, _items
from ._data import Responses, prepare_responses, unique_patterns

__all__ = ["fit_bifactor", "BifactorResult"]

_D = {"graded": 1.702, "graded_probit": 1.0, "gpcm": 1.702}


class _Bifactor:
    """The two-tier likelihood, its gradient, EM step and exact Hessian (private)."""

    def __init__(self, model, n_cat, codes, freq, spec_of, n_spec, qpoints, qwidth):
        self.model = model
        self.n_cat = np.asarray(n_cat)
        self.codes = codes
        self.freq = np.asarray(freq, float)
        self.spec_of = np.asarray(spec_of)
        self.S = int(n_spec)
        t = _engine.quadrature(qpoints, qwidth)
        self.t = t
        self.Q = t.size
        self.logw = _engine.log_weights(t)
        self.w = np.exp(self.logw)
        self.tg = np.repeat(t, self.Q)                      # grid point q2 = g * Q + s
        self.ts = np.tile(t, self.Q)
        J = len(n_cat)
        npar = 2 + self.n_cat - 1                           # a_G, a_S, c_1..c_{K-1}
        self.offs = np.concatenate([[0], np.cumsum(npar)])
        self.n_par = int(self.offs[-1])
        self.pidx = [np.arange(self.offs[j], self.offs[j + 1]) for j in range(J)]
        self.spec = []
        for s in range(self.S):
            js = np.flatnonzero(self.spec_of == s)
            local = np.concatenate([[0], np.cumsum(self.n_cat[js])])
            batches = {}
            for b, j in enumerate(js):
                batches.setdefault(int(self.n_cat[j]), []).append(b)
            bl = []
            for K, bs in batches.items():
                bs = np.array(bs)
                bl.append((K, js[bs], np.stack([self.pidx[j] for j in js[bs]]),
                           local[bs][:, None] + np.arange(K)[None, :]))
            sub = codes[:, js]
            Z, E = _engine._block_encoding(sub, self.n_cat[js])
            pairs = _engine._pair_matrix(sub, self.n_cat[js])
            bycat = [[np.flatnonzero(sub[:, b] == k) for k in range(int(self.n_cat[j]))]
                     for b, j in enumerate(js)]
            self.spec.append(dict(js=js, local=local, batches=bl, Z=Z, ZT=Z.T.tocsr(), E=E,
                                  ET=E.T.tocsr(), pairs=pairs, bycat=bycat))

    # ---------------------------------------------------------------- items
    def _eta(self, par):
        return par[:, :1] * self.tg[None, :] + par[:, 1:2] * self.ts[None, :]

    def _logp(self, x, s):
        sp = self.spec[s]
        out = np.empty((int(sp["local"][-1]), self.Q * self.Q))
        for K, js, idx, rows in sp["batches"]:
            par = x[idx]
            out[rows.ravel()] = _items.logprob_eta(self.model, par[:, 2:],
                                                   self._eta(par)).reshape(-1, self.Q ** 2)
        return out

    def _dlogp(self, par):
        """(B, p, K, Q^2) derivatives of the log probabilities of a batch of items."""
        eta = self._eta(par)
        d_eta, d_c = _items.dlogprob_eta(self.model, par[:, 2:], eta)
        return np.concatenate([(d_eta * self.tg)[:, None], (d_eta * self.ts)[:, None], d_c],
                              axis=1)

    def valid(self, x):
        if not np.all(np.isfinite(x)):
            return False
        if self.model in ("graded", "graded_probit"):
            for j in range(len(self.n_cat)):
                if not np.all(np.diff(x[self.pidx[j]][2:]) < 0):
                    return False
        return True

    # ---------------------------------------------------------------- E-step
    def estep(self, x, want_cond=True):
        """Log-likelihood, per-subscale expected counts R_s (sum K_s, Q^2), the general
        factor's posterior pg (n, Q) and (``want_cond``) each subscale's conditional
        posterior of its specific factor given the general one (n, Q, Q).

        Like the unidimensional E-step, the subscale likelihoods are exponentiated in place
        without a shift unless some (pattern, general point) would underflow."""
        n, Q = self.codes.shape[0], self.Q
        logE = np.zeros((n, Q))
        Ls = []
        for s, sp in enumerate(self.spec):
            LL = (sp["Z"] @ (sp["E"] @ self._logp(x, s))).reshape(n, Q, Q)
            m = None
            if LL.min() < -600.0:
                m = LL.max(axis=2)
                LL -= m[:, :, None]
            L = np.exp(LL, out=LL)
            L *= self.w[None, None, :]
            Es = L.sum(axis=2)
            logE += np.log(Es)
            if m is not None:
                logE += m
            Ls.append((L, Es))
        logE += self.logw[None, :]
        M = logE.max(axis=1)
        pg = np.exp(logE - M[:, None])
        tot = pg.sum(axis=1)
        pg /= tot[:, None]
        ll_i = np.log(tot) + M
        fpg = pg * self.freq[:, None]
        R, conds = [], []
        for s, sp in enumerate(self.spec):
            L, Es = Ls[s]
            if want_cond:
                L /= Es[:, :, None]                   # the conditional posterior of theta_S
                conds.append(L)
                W = (L * fpg[:, :, None]).reshape(n, Q * Q)
            else:
                L *= (fpg / Es)[:, :, None]           # the joint posterior mass, in place
                W = L.reshape(n, Q * Q)
            R.append(sp["ET"] @ (sp["ZT"] @ W))
        return float(self.freq @ ll_i), R, pg, (conds if want_cond else None)

    def _grad(self, x, R):
        grad = np.zeros(self.n_par)
        for s, sp in enumerate(self.spec):
            for K, js, idx, rows in sp["batches"]:
                d = self._dlogp(x[idx])
                grad[idx] += np.einsum("bpkq,bkq->bp", d, R[s][rows])
        return grad

    def loglik(self, x):
        return self.estep(x, want_cond=False)[0]

    def loglik_grad(self, x):
        ll, R, _, _ = self.estep(x, want_cond=False)
        return ll, self._grad(x, R)

    def em_step(self, x):
        ll, R, _, _ = self.estep(x, want_cond=False)
        self.last_grad = (x.copy(), self._grad(x, R))
        x_new = x.copy()
        for s, sp in enumerate(self.spec):
            for K, js, idx, rows in sp["batches"]:
                x_new[idx] = self._mstep(x[idx], R[s][rows])
        return x_new, ll

    def _expected(self, par, R):
        logp = _items.logprob_eta(self.model, par[:, 2:], self._eta(par))
        return (R * logp).sum(axis=(1, 2)), np.exp(logp)

    def _mstep(self, par, R):
        """One Fisher-scoring step per item on its expected complete-data log-likelihood,
        halved until it does not decrease (generalised EM)."""
        nq = R.sum(axis=1)
        cur, P = self._expected(par, R)
        d = self._dlogp(par)
        g = np.einsum("bpkq,bkq->bp", d, R)
        info = np.einsum("bpkq,brkq->bpr", d * (P * nq[:, None, :])[:, None], d)
        info += 1e-10 * np.eye(par.shape[1])[None]
        try:
            step = np.linalg.solve(info, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return par
        out = par.copy()
        todo = np.ones(par.shape[0], bool)
        t = 1.0
        while todo.any() and t > 1e-4:
            new = par[todo] + t * step[todo]
            ok = _items.valid_b(self.model, new[:, 1:])
            if ok.any():
                val = np.full(new.shape[0], -np.inf)
                val[ok] = self._expected(new[ok], R[todo][ok])[0]
                acc = ok & (val >= cur[todo] - 1e-12)
                rows = np.nonzero(todo)[0][acc]
                out[rows] = new[acc]
                todo[rows] = False
            t *= 0.5
        return out

    # ---------------------------------------------------------------- Hessian
    def hessian(self, x):
        """Exact Hessian of the marginal log-likelihood (Louis 1982).  With u the score of
        the complete-data log-likelihood and U_s its part from subscale s,
        ``E_i(uu') = sum_s E_i(U_s U_s') + sum_{s != t} sum_g p_ig M_is(g) M_it(g)'`` where
        ``M_is(g) = E(U_s | y_i, theta_g)``: the specific factors are independent given
        the general one."""
        n, Q = self.codes.shape[0], self.Q
        _, R, pg, conds = self.estep(x)
        f = self.freq
        p = self.n_par
        H = np.zeros((p, p))
        fpg = pg * f[:, None]
        Ms = []
        for s, sp in enumerate(self.spec):
            Rs = R[s]
            dj = {}
            for K, js, idx, rows in sp["batches"]:
                par = x[idx]
                Rb = Rs[rows]
                # E(d2 log P): central differences of the expected complete-data gradient
                for k in range(par.shape[1]):
                    h = 1e-6 * np.maximum(1.0, np.abs(par[:, k]))
                    pp, pm = par.copy(), par.copy()
                    pp[:, k] += h
                    pm[:, k] -= h
                    col = (np.einsum("bpkq,bkq->bp", self._dlogp(pp), Rb)
                           - np.einsum("bpkq,bkq->bp", self._dlogp(pm), Rb)) / (2 * h[:, None])
                    for b in range(len(js)):
                        H[idx[b], idx[b, k]] += 0.5 * col[b]
                        H[idx[b, k], idx[b]] += 0.5 * col[b]
                d = self._dlogp(par)
                for b, j in enumerate(js):
                    dj[j] = d[b]
                    # E(u_j u_j') from the expected counts
                    H[np.ix_(idx[b], idx[b])] += np.einsum("akq,bkq,kq->ab", d[b], d[b], Rb[b])
            # E(u_j u_k') for item pairs within the subscale, from the pair masses
            A, pairs, shapes = sp["pairs"]
            if A is not None:
                W = (conds[s] * fpg[:, :, None]).reshape(n, Q * Q)
                Nall = A @ W
                js = sp["js"]
                for (a, b), (base, ka, kb) in zip(pairs, shapes):
                    N = Nall[base:base + ka * kb].reshape(ka, kb, -1)
                    j, k = js[a], js[b]
                    blk = np.einsum("abq,paq,rbq->pr", N, dj[j], dj[k])
                    H[np.ix_(self.pidx[j], self.pidx[k])] += blk
                    H[np.ix_(self.pidx[k], self.pidx[j])] += blk.T
            # M_s(i, g): posterior mean of U_s given y_i and theta_g
            cols = np.concatenate([self.pidx[j] for j in sp["js"]])
            Msub = np.zeros((n, Q, cols.size))
            o = 0
            for b, j in enumerate(sp["js"]):
                dq = dj[j].reshape(dj[j].shape[0], -1, Q, Q)        # (p_j, K, g, t)
                pj = dq.shape[0]
                for k, rows in enumerate(sp["bycat"][b]):
                    if rows.size:
                        Msub[rows, :, o:o + pj] = np.einsum("rgt,pgt->rgp", conds[s][rows],
                                                            dq[:, k])
                o += pj
            Ms.append((cols, Msub))
        # cross-subscale terms and - sum_i f_i E_i(u) E_i(u)'
        sq = np.sqrt(fpg).reshape(n * Q, 1)
        for a in range(len(Ms)):
            ca, Ma = Ms[a]
            Wa = Ma.reshape(n * Q, -1) * sq
            for b in range(a + 1, len(Ms)):
                cb, Mb = Ms[b]
                blk = Wa.T @ (Mb.reshape(n * Q, -1) * sq)
                H[np.ix_(ca, cb)] += blk
                H[np.ix_(cb, ca)] += blk.T
        Ebar = np.zeros((n, p))
        for cols, Msub in Ms:
            Ebar[:, cols] += np.einsum("ig,igp->ip", pg, Msub)
        H -= (Ebar * f[:, None]).T @ Ebar
        return 0.5 * (H + H.T)


@dataclass(frozen=True, eq=False)
class BifactorResult:
    """A fitted bifactor model (from :func:`fit_bifactor`).

    ``params`` holds, item by item, the general slope ``a_G``, the specific slope ``a_S``
    and the intercepts ``c_1..c_{K-1}``: ``P(X >= k) = F(a_G theta_G + a_S theta_S + c_k)``.
    """

    model: str
    general: str
    items: tuple[str, ...]
    specific_of: tuple[str, ...]
    specifics: tuple[str, ...]
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
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))

    def _item_slices(self):
        o = 0
        for cats in self.categories:
            yield slice(o, o + 1 + len(cats))
            o += 1 + len(cats)

    def to_frame(self, ci: float = 0.95) -> pd.DataFrame:
        """``item, factor, param, est, se, z, p_value, ci_lower, ci_upper``: one row per
        parameter (``a`` on the general factor, ``a`` on the item's specific factor, then
        the intercepts ``c1..`` with ``factor`` empty)."""
        se = self.se
        rows = []
        for it, sp, cats, sl in zip(self.items, self.specific_of, self.categories,
                                    self._item_slices()):
            names = [("a", self.general), ("a", sp)] + [(f"c{k}", "")
                                                         for k in range(1, len(cats))]
            for (nm, fac), v, s in zip(names, self.params[sl], se[sl]):
                rows.append((it, fac, nm, v, s))
        df = pd.DataFrame(rows, columns=["item", "factor", "param", "est", "se"])
        df["z"] = df["est"] / df["se"]
        df["p_value"] = 2 * stats.norm.sf(np.abs(df["z"]))
        q = stats.norm.ppf(0.5 + ci / 2)
        df["ci_lower"] = df["est"] - q * df["se"]
        df["ci_upper"] = df["est"] + q * df["se"]
        return df

    def loadings(self) -> pd.DataFrame:
        """Standardised loadings of the underlying-variable metric: ``l = (a / D) /
        sqrt(1 + (a_G / D)^2 + (a_S / D)^2)`` (D = 1.702 logistic, 1 normal ogive), with
        the communality ``h2``; columns ``item, specific, std_general, std_specific, h2``.
        Exact for ``graded_probit`` (an ordinal factor model), the usual D = 1.702
        approximation for the logistic graded model, only a rough guide for the GPCM (no
        underlying-variable form)."""
        D = _D[self.model]
        rows = []
        for it, sp, sl in zip(self.items, self.specific_of, self._item_slices()):
            aG, aS = self.params[sl][:2] / D
            den = np.sqrt(1 + aG ** 2 + aS ** 2)
            rows.append((it, sp, aG / den, aS / den, (aG ** 2 + aS ** 2) / den ** 2))
        return pd.DataFrame(rows, columns=["item", "specific", "std_general", "std_specific",
                                           "h2"])

    @property
    def ecv(self) -> float:
        """Explained common variance of the general factor: sum of squared general loadings
        over the sum of all squared loadings (Reise 2012)."""
        ld = self.loadings()
        g = float((ld["std_general"] ** 2).sum())
        return g / (g + float((ld["std_specific"] ** 2).sum()))

    def scores(self) -> pd.DataFrame:
        """EAP score and posterior SD of the general and every specific factor for each
        respondent of the fitted data (R: ``mirt::fscores(bfactor_fit,
        full.scores.SE = TRUE)``); columns ``id``, then ``<factor>`` and ``<factor>_se``."""
        prob = _problem_for(self)
        _, _, pg, conds = prob.estep(self.params)
        inv = self.responses_inverse
        t = prob.t
        out = {"id": list(self.responses.row_labels)}
        m1 = pg @ t
        out[self.general] = m1[inv]
        out[f"{self.general}_se"] = np.sqrt(np.clip(pg @ t ** 2 - m1 ** 2, 0, None))[inv]
        for s, nm in enumerate(self.specifics):
            ps = np.einsum("ig,igt->it", pg, conds[s])
            m = ps @ t
            out[nm] = m[inv]
            out[f"{nm}_se"] = np.sqrt(np.clip(ps @ t ** 2 - m ** 2, 0, None))[inv]
        return pd.DataFrame(out)

    @property
    def responses_inverse(self) -> np.ndarray:
        return unique_patterns(self.responses.codes, self.responses.n_categories)[1]

    def fit_measures(self) -> dict:
        return {"loglik": self.loglik, "n_par": self.n_par, "n_obs": self.n_obs,
                "aic": self.aic, "bic": self.bic, "ecv": self.ecv}

    def summary(self) -> Summary:
        header = (
            f"Model: bifactor {self.model}; general factor {self.general}, specific factors "
            f"{', '.join(self.specifics)}; {len(self.items)} items, {self.n_obs} respondents"
            + (f" ({len(self.dropped_rows)} rows left out)" if self.dropped_rows else ""),
            f"Estimation: two-tier EM ({self.em_iterations} cycles) + Newton "
            f"({self.newton_iterations} steps); {self.qpoints} points per dimension on "
            f"[-{self.qwidth:g}, {self.qwidth:g}]",
            f"Converged: {self.converged} ({self.message})",
            f"logLik = {self.loglik:.4f}, AIC = {self.aic:.2f}, BIC = {self.bic:.2f}, "
            f"parameters = {self.n_par}; ECV = {self.ecv:.3f}",
            "Standard errors: observed information (exact Hessian of the marginal "
            "log-likelihood, Louis 1982)",
        )
        return Summary(title="Bifactor item response model", header=header,
                       blocks=(("Parameters", self.to_frame()),
                               ("Standardised loadings", self.loadings())))


def _problem_for(res: BifactorResult) -> _Bifactor:
    resp = res.responses
    K = resp.n_categories
    uniq, _, cnt = unique_patterns(resp.codes, K)
    spec_of = [res.specifics.index(s) for s in res.specific_of]
    return _Bifactor(res.model, K, uniq, cnt, spec_of, len(res.specifics), res.qpoints,
                     res.qwidth)


def fit_bifactor(data, specific: Mapping[str, Sequence[str]], *, model: str = "graded",
                 general: str = "G", categories=None, missing: str = "ml",
                 qpoints: int = 21, qwidth: float = 5.0, gtol: float = 1e-6,
                 start: Sequence[float] | None = None) -> BifactorResult:
    """Bifactor graded response (or GPCM) model: a general factor and one specific factor
    per subscale, orthogonal, each N(0, 1).

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one column per item (whole-number categories, NaN missing).
    specific : mapping subscale -> items
        The subscales (e.g. ``{"goal": [...], "task": [...], "bond": [...]}``); every item
        belongs to exactly one, and each needs at least two items.  Every listed item also
        loads on the general factor.
    model : {"graded", "graded_probit", "gpcm"}, default "graded"
    general : str, default "G"
        Name of the general factor in the tables.
    categories, missing
        As in :func:`psychometrics.irt.fit_irt` (``missing="ml"``: missing responses are
        left out of the likelihood).
    qpoints, qwidth : int, float
        Points per dimension on ``[-qwidth, qwidth]`` (21 and 5); the two-tier integration
        evaluates ``qpoints^2`` points per subscale.
    gtol : float
        Largest absolute gradient accepted as converged.
    start : sequence of float, optional
        Starting values in the order of ``params``.

    Returns
    -------
    BifactorResult

    Notes
    -----
    R: ``mirt::bfactor(data, model = <subscale of each item>)``; OpenMx
    ``mxExpectationBA81`` with multidimensional ``rpf.grm`` items (which integrates the
    bifactor structure two-tier).  The signs of the general and of each specific factor
    are set so that their slopes sum to a positive number.

    References
    ----------
    Gibbons & Hedeker (1992); Cai (2010) two-tier full-information item factor analysis;
    Reise (2012) on the ECV.
    """
    if model not in _items.MODELS:
        raise ModelSpecificationError(
            f"The 'model' parameter of fit_bifactor must be one of {', '.join(_items.MODELS)}; "
            f"got {model!r} instead.")
    names = [str(s) for s in specific]
    if len(names) < 2:
        raise ModelSpecificationError(
            "fit_bifactor needs at least two subscales (specific factors); with one, use "
            "fit_irt or fit_mirt.")
    if general in names:
        raise ModelSpecificationError(
            f"The general factor's name {general!r} is also a subscale name; pass another "
            "general=.")
    items, spec_of = [], []
    for s in names:
        its = [str(i) for i in specific[s]]
        if len(its) < 2:
            raise ModelSpecificationError(
                f"Subscale {s!r} has {len(its)} item(s); a specific factor needs at least two "
                "items (merge it with another subscale or leave its item on the general "
                "factor only by fitting without it).")
        if len(its) == 2:
            warnings.warn(
                f"Subscale {s!r} has only two items: its specific factor is weakly identified "
                "(its two slopes can trade off against the general factor), so expect large "
                "standard errors or a fit that does not converge; three or more items per "
                "subscale are advisable.", ModelSpecificationWarning, stacklevel=2)
        for it in its:
            if it in items:
                raise ModelSpecificationError(
                    f"Item {it!r} is listed under two subscales; each item loads on one "
                    "specific factor.")
            items.append(it)
            spec_of.append(s)
    if int(qpoints) < 5 or not qwidth > 0:
        raise ModelSpecificationError(
            f"qpoints must be >= 5 and qwidth > 0; got qpoints={qpoints}, qwidth={qwidth}.")
    resp = prepare_responses(data, items, categories=categories, missing=missing,
                             what=f"the bifactor {model} model", extra_par_per_item=1)
    K = resp.n_categories
    codes = resp.codes
    uniq, _, cnt = unique_patterns(codes, K)
    sidx = np.array([names.index(s) for s in spec_of])
    prob = _Bifactor(model, K, uniq, cnt, sidx, len(names), int(qpoints), float(qwidth))
    if start is not None:
        x0 = np.asarray(start, float)
        if x0.size != prob.n_par:
            raise ModelSpecificationError(
                f"start= has {x0.size} values; the model has {prob.n_par} parameters.")
    else:
        x0 = _start(model, codes, K, sidx)
    # the exact Hessian costs several E-steps: keep it while steps still halve the gradient
    out = _engine.maximize(prob, x0, gtol=gtol, chord=0.5)
    x, Hs = out.x.copy(), out.hessian
    # orient the factors: slopes of the general factor, and of each specific, sum > 0
    sign = np.ones(prob.n_par)
    if sum(x[prob.pidx[j][0]] for j in range(len(items))) < 0:
        sign[[prob.pidx[j][0] for j in range(len(items))]] = -1
    for s in range(len(names)):
        js = np.flatnonzero(sidx == s)
        if sum(x[prob.pidx[j][1]] for j in js) < 0:
            sign[[prob.pidx[j][1] for j in js]] = -1
    x *= sign
    Hs = Hs * np.outer(sign, sign)
    if not out.converged:
        warnings.warn(f"The bifactor model did not pass the optimality check: {out.message}.",
                      ConvergenceWarning, stacklevel=2)
    try:
        vcov = np.linalg.inv(-Hs)
    except np.linalg.LinAlgError:
        vcov = np.full(Hs.shape, np.nan)
    return BifactorResult(model=model, general=str(general), items=tuple(items),
                          specific_of=tuple(spec_of), specifics=tuple(names),
                          categories=resp.categories, params=x, vcov=vcov,
                          loglik=out.loglik, n_obs=resp.n_obs, converged=out.converged,
                          message=out.message,
                          gradient_max_abs=float(np.max(np.abs(out.grad))),
                          em_iterations=out.em_iterations,
                          newton_iterations=out.newton_iterations, qpoints=int(qpoints),
                          qwidth=float(qwidth), responses=resp,
                          dropped_rows=resp.dropped_rows)


def _start(model, codes, K, sidx):
    """General slopes and intercepts from the one-factor start of :func:`fit_irt`, specific
    slopes half the general ones."""
    from .model import _start_slopes

    x0 = [_items.start_values(model, np.bincount(codes[codes[:, j] >= 0, j], minlength=K[j]))
          for j in range(len(K))]
    if model != "gpcm":
        _start_slopes(codes, x0, model)
    out = []
    for par in x0:
        a = par[0] if abs(par[0]) > 0.2 else 0.5
        out.append(np.concatenate([[a, 0.5 * abs(a)], par[1:]]))
    return np.concatenate(out)
