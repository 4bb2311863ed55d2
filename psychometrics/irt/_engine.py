"""Marginal maximum likelihood for unidimensional IRT models on a fixed quadrature grid.

Private module.  One engine serves single- and multiple-group models:

* the E-step is two matrix products per group: the log-likelihood of every response
  pattern at every grid point is ``Y @ log P`` (``Y`` the one-hot responses, a missing
  response a row of zeros, so it drops out of the likelihood), and the expected category
  counts at every grid point are ``Y.T @ posterior``;
* the gradient of the marginal log-likelihood follows from those counts (Fisher's
  identity), exactly;
* Bock-Aitkin EM with a Fisher-scoring M-step per item brings the estimates near the
  optimum, then Newton-Raphson on the marginal log-likelihood itself, with the Hessian
  obtained by central differences of the analytic gradient, finishes; the fit is
  ``converged`` only if the largest absolute gradient is below ``gtol`` and the Hessian is
  negative definite there (a proven local maximum).  The same Hessian gives the standard
  errors (observed information).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _items


def quadrature(qpoints: int = 49, qwidth: float = 6.0) -> np.ndarray:
    """OpenMx's grid: ``qpoints`` equally spaced points on ``[-qwidth, qwidth]``."""
    return np.linspace(-qwidth, qwidth, qpoints)


def log_weights(theta, mean=0.0, var=1.0):
    lw = -0.5 * (theta - mean) ** 2 / var
    return lw - np.log(np.exp(lw - lw.max()).sum()) - lw.max()


@dataclass
class GroupData:
    Y: np.ndarray            # (n_patterns, sum K) one-hot
    freq: np.ndarray         # (n_patterns,) counts
    codes: np.ndarray        # (n_patterns, J) category codes, -1 = missing


@dataclass
class Problem:
    models: list[str]                    # per item
    n_cat: np.ndarray                    # per item
    groups: list[GroupData]
    item_index: list[list[np.ndarray]]   # [g][j] -> indices into x
    latent_index: list[tuple[int, int]]  # [g] -> (mean idx, var idx), -1 = fixed 0 / 1
    theta: np.ndarray
    n_par: int
    # multidimensional (confirmatory, simple structure): grid (Q, D) of the factors, the
    # factor of each item, and the free correlations [(d1, d2, x index)]; ``theta`` is unused
    grid: np.ndarray | None = None
    item_factor: np.ndarray | None = None
    corr: list | None = None
    offsets: np.ndarray = field(init=False)

    def __post_init__(self):
        import scipy.sparse as sp

        self.offsets = np.concatenate([[0], np.cumsum(self.n_cat)])
        # sparse one-hot responses: the E-step products touch only answered items
        self._Ys = [sp.csr_matrix(gd.Y) for gd in self.groups]
        self._YTs = [sp.csr_matrix(gd.Y.T) for gd in self.groups]
        self._unit_freq = [bool(np.all(gd.freq == 1.0)) for gd in self.groups]
        # items of the same model and number of categories are evaluated together
        self.batches = []
        for g in range(len(self.groups)):
            by: dict[tuple, list[int]] = {}
            for j, m in enumerate(self.models):
                by.setdefault((m, int(self.n_cat[j]), self.factor(j)), []).append(j)
            out = []
            for (m, K, f), js in by.items():
                js = np.array(js)
                idx = np.stack([self.item_index[g][j] for j in js])          # (B, K)
                rows = self.offsets[js][:, None] + np.arange(K)[None, :]      # (B, K)
                out.append((m, js, idx, rows, self.theta_of(f)))
            self.batches.append(out)
        self.Q = self.theta.size if self.grid is None else self.grid.shape[0]

    def factor(self, j) -> int:
        return 0 if self.item_factor is None else int(self.item_factor[j])

    def theta_of(self, f) -> np.ndarray:
        """The grid coordinate an item of factor f sees at every quadrature point."""
        return self.theta if self.grid is None else self.grid[:, f]

    def logw(self, x, g):
        """Log weights of the quadrature points (normal prior)."""
        if self.grid is None:
            mu, var = self.latent(x, g)
            return log_weights(self.theta, mu, var)
        D = self.grid.shape[1]
        S = np.eye(D)
        for d1, d2, i in self.corr:
            S[d1, d2] = S[d2, d1] = x[i]
        try:
            Si = np.linalg.inv(S)
        except np.linalg.LinAlgError:
            return np.full(self.Q, -np.inf)
        lw = -0.5 * np.einsum("qd,de,qe->q", self.grid, Si, self.grid)
        return lw - np.log(np.exp(lw - lw.max()).sum()) - lw.max()

    # ---------------------------------------------------------------- pieces
    def latent(self, x, g):
        mi, vi = self.latent_index[g]
        return (x[mi] if mi >= 0 else 0.0), (x[vi] if vi >= 0 else 1.0)

    def logP(self, x, g):
        out = np.empty((int(self.offsets[-1]), self.Q))
        for m, js, idx, rows, th in self.batches[g]:
            out[rows.ravel()] = _items.logprob_b(m, x[idx], th).reshape(-1, self.Q)
        return out

    def valid(self, x):
        for g in range(len(self.groups)):
            for m, idx in zip(self.models, self.item_index[g]):
                if not _items.valid(m, x[idx]):
                    return False
            _, v = self.latent(x, g)
            if not v > 0:
                return False
        if self.corr:
            D = self.grid.shape[1]
            S = np.eye(D)
            for d1, d2, i in self.corr:
                S[d1, d2] = S[d2, d1] = x[i]
            if np.linalg.eigvalsh(S).min() <= 1e-6:
                return False
        return True

    def estep(self, x, g):
        """Log-likelihood of group g, expected counts R (sum K, Q), posterior mass n_q,
        per-pattern log-likelihoods and posteriors."""
        gd = self.groups[g]
        LL = self._Ys[g] @ self.logP(x, g)
        LL += self.logw(x, g)[None, :]
        m = LL.max(axis=1)
        LL -= m[:, None]
        np.exp(LL, out=LL)
        s = LL.sum(axis=1)
        ll_i = np.log(s) + m
        if self._unit_freq[g]:
            LL *= (1.0 / s)[:, None]
            post = wpost = LL                       # posterior over the grid, per pattern
        else:
            post = LL * (1.0 / s)[:, None]
            wpost = post * gd.freq[:, None]
        R = self._YTs[g] @ wpost
        nq = wpost.sum(axis=0)
        return float(gd.freq @ ll_i), R, nq, ll_i, post

    def loglik(self, x):
        return sum(self.estep(x, g)[0] for g in range(len(self.groups)))

    def loglik_grad(self, x):
        grad = np.zeros(self.n_par)
        total = 0.0
        th = self.theta
        for g in range(len(self.groups)):
            ll, R, nq, _, _ = self.estep(x, g)
            total += ll
            for m, js, idx, rows, thb in self.batches[g]:
                d = _items.dlogprob_b(m, x[idx], thb)         # (B, p, K, Q)
                np.add.at(grad, idx, np.einsum("bpkq,bkq->bp", d, R[rows]))
            if self.corr:                                      # d log w / d rho by differences
                w = np.exp(self.logw(x, g))
                for _, _, i in self.corr:
                    h = 1e-6
                    xp, xm = x.copy(), x.copy()
                    xp[i] += h
                    xm[i] -= h
                    dl = (self.logw(xp, g) - self.logw(xm, g)) / (2 * h)
                    grad[i] += nq @ dl
            mi, vi = self.latent_index[g]
            if mi >= 0 or vi >= 0:
                mu, var = self.latent(x, g)
                w = np.exp(log_weights(th, mu, var))
                if mi >= 0:
                    dm = (th - mu) / var
                    grad[mi] += nq @ (dm - w @ dm)
                if vi >= 0:
                    dv = 0.5 * (th - mu) ** 2 / var ** 2
                    grad[vi] += nq @ (dv - w @ dv)
        return total, grad

    # ---------------------------------------------------------------- EM
    def em_step(self, x):
        """One Bock-Aitkin cycle (E-step, one Fisher-scoring step per item block, closed-form
        latent mean and variance).  Returns the new x and the log-likelihood at the old x."""
        th = self.theta
        blocks: dict[tuple, np.ndarray] = {}
        models: dict[tuple, str] = {}
        total = 0.0
        x_new = x.copy()
        for g in range(len(self.groups)):
            ll, R, nq, _, post = self.estep(x, g)
            total += ll
            for j, (m, idx) in enumerate(zip(self.models, self.item_index[g])):
                key = tuple(idx)
                Rj = R[self.offsets[j]:self.offsets[j + 1]]
                blocks[key] = blocks.get(key, 0.0) + Rj
                models[key] = (m, self.factor(j))
            if self.corr:                   # correlations from the posterior second moments
                n = nq.sum()
                M2 = np.einsum("q,qd,qe->de", nq, self.grid, self.grid) / n
                sd = np.sqrt(np.diag(M2))
                for d1, d2, i in self.corr:
                    x_new[i] = np.clip(M2[d1, d2] / (sd[d1] * sd[d2]), -0.99, 0.99)
            mi, vi = self.latent_index[g]
            if mi >= 0 or vi >= 0:
                n = nq.sum()
                mu = nq @ th / n
                var = nq @ (th - mu) ** 2 / n
                if mi >= 0:
                    x_new[mi] = mu
                if vi >= 0:
                    x_new[vi] = max(var, 1e-4)
        by: dict[tuple, list] = {}
        for key, Rj in blocks.items():
            by.setdefault((*models[key], len(key)), []).append((key, Rj))
        for (m, f, K), lst in by.items():
            idx = np.array([k for k, _ in lst])
            Rb = np.stack([r for _, r in lst])
            x_new[idx] = _mstep_batch(m, x[idx], Rb, self.theta_of(f))
        if self.corr and not self.valid(x_new):
            for _, _, i in self.corr:
                x_new[i] = x[i]
        return x_new, total


def _pair_mass(codes, n_cat, wp):
    """Posterior mass of every pair of categories of every pair of items at every grid point:
    ``N_jk[a, b, q] = sum_i wp[i, q] [y_ij = a][y_ik = b]``, all pairs in one sparse product."""
    import scipy.sparse as sp

    n, J = codes.shape
    rows, cols, pairs, shapes = [], [], [], []
    base = 0
    for j in range(J):
        for k in range(j + 1, J):
            both = np.flatnonzero((codes[:, j] >= 0) & (codes[:, k] >= 0))
            size = int(n_cat[j] * n_cat[k])
            if both.size:
                rows.append(base + codes[both, j] * n_cat[k] + codes[both, k])
                cols.append(both)
                pairs.append((j, k))
                shapes.append((base, n_cat[j], n_cat[k]))
                base += size
    if not pairs:
        return [], []
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    A = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(base, n))
    Nall = A @ wp                                                   # (cells, Q)
    out = [Nall[b:b + a * c].reshape(a, c, -1) for b, a, c in shapes]
    return pairs, out


def _expected_ll(m, par, R, th):
    return float((R * _items.logprob(m, par, th)).sum())


def _mstep_batch(m, par, R, th):
    """One Fisher-scoring step on each item's expected complete-data log-likelihood (a batch
    of B items with the same model and K), halved until it does not decrease (generalised
    EM)."""
    nq = R.sum(axis=1)                                    # (B, Q)
    logp = _items.logprob_b(m, par, th)
    cur = (R * logp).sum(axis=(1, 2))
    P = np.exp(logp)
    d = _items.dlogprob_b(m, par, th, P)                  # (B, p, K, Q)
    g = np.einsum("bpkq,bkq->bp", d, R)
    dw = d * (P * nq[:, None, :])[:, None]
    info = np.einsum("bpkq,brkq->bpr", dw, d)
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
        ok = _items.valid_b(m, new)
        if ok.any():
            val = np.full(new.shape[0], -np.inf)
            val[ok] = (R[todo][ok] * _items.logprob_b(m, new[ok], th)).sum(axis=(1, 2))
            acc = ok & (val >= cur[todo] - 1e-12)
            rows = np.nonzero(todo)[0][acc]
            out[rows] = new[acc]
            todo[rows] = False
        t *= 0.5
    return out


@dataclass
class FitOutcome:
    x: np.ndarray
    loglik: float
    grad: np.ndarray
    hessian: np.ndarray
    converged: bool
    em_iterations: int
    newton_iterations: int
    message: str


def _fd_jac(fun, x, rel=1e-6):
    p = x.size
    H = np.zeros((p, p))
    for k in range(p):
        h = rel * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        H[:, k] = (fun(xp) - fun(xm)) / (2 * h)
    return 0.5 * (H + H.T)


def hessian(prob: Problem, x, chunk_cells: int = 2_000_000):
    """Exact observed-data Hessian of the marginal log-likelihood (Louis 1982):

    ``H = sum_i f_i [ E_i(d2 log(pi L_i)) + E_i(u u') - E_i(u) E_i(u)' ]`` with
    ``u = d log(pi_q L_i(q)) / d x`` and ``E_i`` the posterior over the grid.  The first term
    is block-diagonal by item (and latent distribution) and is obtained by central
    differences of the item's expected complete-data gradient (no E-step involved); the
    other two are sums of outer products formed in chunks of respondents.
    """
    if prob.grid is not None:
        return hessian_fd(prob, x)
    th = prob.theta
    Q = th.size
    p = prob.n_par
    H = np.zeros((p, p))
    for g, gd in enumerate(prob.groups):
        _, R, nq, _, post = prob.estep(x, g)
        codes_cols = [None] * len(prob.models)
        for m, js, idx, rows, _ in prob.batches[g]:
            Rb = R[rows]                                            # (B, K, Q)
            par = x[idx]
            p_ = par.shape[1]
            for k in range(p_):                                     # all items at once
                h = 1e-6 * np.maximum(1.0, np.abs(par[:, k]))
                pp, pm = par.copy(), par.copy()
                pp[:, k] += h
                pm[:, k] -= h
                gp = np.einsum("bpkq,bkq->bp", _items.dlogprob_b(m, pp, th), Rb)
                gm = np.einsum("bpkq,bkq->bp", _items.dlogprob_b(m, pm, th), Rb)
                col = (gp - gm) / (2 * h[:, None])                  # (B, p)
                for b in range(len(js)):
                    H[idx[b], idx[b, k]] += 0.5 * col[b]
                    H[idx[b, k], idx[b]] += 0.5 * col[b]
            d = _items.dlogprob_b(m, par, th)
            for b, j in enumerate(js):
                codes_cols[j] = d[b]
        mi, vi = prob.latent_index[g]
        lat = [i for i in (mi, vi) if i >= 0]
        dlw = None
        if lat:
            mu, var = prob.latent(x, g)

            def glat(z, mi=mi, vi=vi, nq=nq):
                mu_ = z[0] if mi >= 0 else 0.0
                var_ = z[-1] if vi >= 0 else 1.0
                w = np.exp(log_weights(th, mu_, var_))
                out = []
                if mi >= 0:
                    dm = (th - mu_) / var_
                    out.append(nq @ (dm - w @ dm))
                if vi >= 0:
                    dv = 0.5 * (th - mu_) ** 2 / var_ ** 2
                    out.append(nq @ (dv - w @ dv))
                return np.array(out)
            H[np.ix_(lat, lat)] += _fd_jac(glat, x[lat])
            w = np.exp(log_weights(th, mu, var))
            dlw = np.zeros((Q, p))
            if mi >= 0:
                dm = (th - mu) / var
                dlw[:, mi] = dm - w @ dm
            if vi >= 0:
                dv = 0.5 * (th - mu) ** 2 / var ** 2
                dlw[:, vi] = dv - w @ dv
        # E_i(u u'): diagonal item blocks and latent blocks from the expected counts R,
        # item-pair blocks from the posterior mass of each pair of categories
        offs = prob.offsets
        J = len(prob.models)
        idxs = prob.item_index[g]
        for j in range(J):
            d, Rj = codes_cols[j], R[offs[j]:offs[j + 1]]
            H[np.ix_(idxs[j], idxs[j])] += np.einsum("akq,bkq,kq->ab", d, d, Rj)
            if dlw is not None:
                blk = np.einsum("akq,kq,qb->ab", d, Rj, dlw[:, lat])
                H[np.ix_(idxs[j], lat)] += blk
                H[np.ix_(lat, idxs[j])] += blk.T
        if dlw is not None:
            H[np.ix_(lat, lat)] += (dlw[:, lat] * nq[:, None]).T @ dlw[:, lat]
        wp = post * gd.freq[:, None]                                  # (n, Q)
        codes = gd.codes
        pairs, Npairs = _pair_mass(codes, prob.n_cat, wp)
        for (j, k), N in zip(pairs, Npairs):
            blk = np.einsum("abq,paq,rbq->pr", N, codes_cols[j], codes_cols[k])
            H[np.ix_(idxs[j], idxs[k])] += blk
            H[np.ix_(idxs[k], idxs[j])] += blk.T
        # - sum_i f_i E_i(u) E_i(u)'
        n = codes.shape[0]
        S = np.zeros((n, p))
        for j in range(J):
            ok = codes[:, j] >= 0
            d = codes_cols[j]                                       # (p_j, K, Q)
            pj, K = d.shape[0], d.shape[1]
            M = (post @ d.reshape(pj * K, -1).T).reshape(n, pj, K)  # (n, p_j, K)
            cj = np.where(ok, codes[:, j], 0)
            Sj = np.take_along_axis(M, cj[:, None, None], axis=2)[:, :, 0] * ok[:, None]
            S[:, idxs[j]] += Sj
        if dlw is not None:
            S += post @ dlw
        H -= (S * gd.freq[:, None]).T @ S
    return 0.5 * (H + H.T)


def hessian_fd(prob: Problem, x, rel=1e-5):
    """Hessian of the marginal log-likelihood by central differences of the analytic
    gradient (symmetrised)."""
    p = x.size
    H = np.zeros((p, p))
    for k in range(p):
        h = rel * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        H[:, k] = (prob.loglik_grad(xp)[1] - prob.loglik_grad(xm)[1]) / (2 * h)
    return 0.5 * (H + H.T)


def maximize(prob: Problem, x0, **kw):
    from .._blas import single_blas_thread

    with single_blas_thread():
        return _maximize(prob, x0, **kw)


def _maximize(prob: Problem, x0, *, em_tol=1e-1, max_em=500, gtol=1e-6, max_newton=50):
    x = np.asarray(x0, float).copy()
    last = -np.inf
    it = 0
    for it in range(1, max_em + 1):
        x_new, ll = prob.em_step(x)
        if abs(ll - last) < em_tol * max(1.0, 1e-3 * abs(ll)):
            break
        last = ll
        x = x_new
    ll, g = prob.loglik_grad(x)
    nit = 0
    H = hessian(prob, x)
    h_at_x = True
    gmax_prev = float(np.max(np.abs(g)))
    n_steps = 0
    message = ""
    for nit in range(1, max_newton + 1):
        if np.max(np.abs(g)) < gtol:
            break
        # Newton step on -ll; regularise if H is not negative definite
        lam = 0.0
        eig_max = np.linalg.eigvalsh(H).max()
        if eig_max > -1e-8:
            lam = eig_max + 1e-3 * max(1.0, np.abs(H).max())
        step = np.linalg.solve(-(H - lam * np.eye(x.size)), g)
        t = 1.0
        moved = False
        while t > 1e-10:
            xn = x + t * step
            if prob.valid(xn):
                lln, gn = prob.loglik_grad(xn)
                if lln >= ll - 1e-10 * abs(ll):
                    x, ll, g = xn, lln, gn
                    moved = True
                    n_steps += 1
                    break
            t *= 0.5
        if not moved:
            message = "line search failed"
            break
        gmax = float(np.max(np.abs(g)))
        # keep the Hessian while each step cuts the gradient tenfold (chord steps near the
        # optimum); the Hessian at the final point is always recomputed below
        if gmax >= gtol and not gmax < 0.1 * gmax_prev:
            H = hessian(prob, x)
            h_at_x = True
        else:
            h_at_x = False
        gmax_prev = gmax
    if not h_at_x:
        H = hessian(prob, x)
    maxg = float(np.max(np.abs(g)))
    negdef = bool(np.linalg.eigvalsh(H).max() < 0)
    converged = maxg < gtol and negdef
    if not message:
        if maxg >= gtol:
            message = f"largest absolute gradient {maxg:.3g} >= gtol {gtol:g}"
        elif not negdef:
            message = "Hessian not negative definite at the solution (not a proven maximum)"
        else:
            message = (f"converged: largest absolute gradient {maxg:.2e} < {gtol:g}, Hessian "
                       "negative definite")
    return FitOutcome(x=x, loglik=float(ll), grad=g, hessian=H, converged=converged,
                      em_iterations=it, newton_iterations=n_steps, message=message)
