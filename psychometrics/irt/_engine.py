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
    Y: np.ndarray | None     # (n_patterns, sum K) one-hot (unused by the engine)
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
        # the E-step works on blocks of items: each pattern has one "cell" per block (the
        # joint response to the block's items), so the products touch a few cells per row
        # instead of every answered item
        self._Z, self._ZT, self._E, self._ET = [], [], [], []
        for gd in self.groups:
            Z, E = _block_encoding(gd.codes, self.n_cat)
            self._Z.append(Z)
            self._ZT.append(Z.T.tocsr())
            self._E.append(E)
            self._ET.append(E.T.tocsr())
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

    def pair_matrix(self, g):
        """Cached :func:`_pair_matrix` of group g (for the exact Hessian)."""
        if not hasattr(self, "_pairs"):
            self._pairs = {}
        if g not in self._pairs:
            self._pairs[g] = _pair_matrix(self.groups[g].codes, self.n_cat)
        return self._pairs[g]

    def by_category(self, g):
        """Cached, per item: the response patterns of each category (for E_i(u))."""
        if not hasattr(self, "_bycat"):
            self._bycat = {}
        if g not in self._bycat:
            codes = self.groups[g].codes
            self._bycat[g] = [[np.flatnonzero(codes[:, j] == k) for k in range(int(K))]
                              for j, K in enumerate(self.n_cat)]
        return self._bycat[g]

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

    def estep(self, x, g, want_post=False):
        """Log-likelihood of group g, expected counts R (sum K, Q), posterior mass n_q,
        per-pattern log-likelihoods and (``want_post``) the posteriors over the grid.

        ``pi_q L_i(q)`` is exponentiated without a per-row shift (every term is a
        log-probability, so nothing overflows); only rows whose whole likelihood underflows
        (very long tests) are recomputed with their maximum taken out.  The work is done in
        place on one (patterns x grid) array: fresh large arrays cost page faults."""
        gd = self.groups[g]
        LL = self._Z[g] @ (self._E[g] @ self.logP(x, g))
        LL += self.logw(x, g)[None, :]
        low = None
        if LL.min() < -700.0:                         # a row may underflow entirely
            rmax = LL.max(axis=1)
            low = rmax < -500.0
            if low.any():
                LL[low] -= rmax[low, None]
            else:
                low = None
        L = np.exp(LL, out=LL)
        s = L.sum(axis=1)
        ll_i = np.log(s)
        if low is not None:
            ll_i[low] += rmax[low]
        L *= (1.0 / s)[:, None]                       # the posterior over the grid
        post = L
        if self._unit_freq[g]:
            wpost = L
        elif want_post:
            wpost = L * gd.freq[:, None]
        else:
            L *= gd.freq[:, None]
            wpost, post = L, None
        R = self._ET[g] @ (self._ZT[g] @ wpost)
        nq = wpost.sum(axis=0)
        return float(gd.freq @ ll_i), R, nq, ll_i, (post if want_post else None)

    def loglik(self, x):
        return sum(self.estep(x, g)[0] for g in range(len(self.groups)))

    def loglik_grad(self, x):
        grad = np.zeros(self.n_par)
        total = 0.0
        for g in range(len(self.groups)):
            ll, R, nq, _, _ = self.estep(x, g)
            total += ll
            self._add_grad(x, g, R, nq, grad)
        return total, grad

    def _add_grad(self, x, g, R, nq, grad):
        """Add group g's gradient (Fisher's identity, from its expected counts) to grad."""
        th = self.theta
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

    # ---------------------------------------------------------------- EM
    def em_step(self, x):
        """One Bock-Aitkin cycle (E-step, one Fisher-scoring step per item block, closed-form
        latent mean and variance).  Returns the new x and the log-likelihood at the old x."""
        th = self.theta
        blocks: dict[tuple, np.ndarray] = {}
        models: dict[tuple, str] = {}
        total = 0.0
        x_new = x.copy()
        grad = np.zeros(self.n_par)
        for g in range(len(self.groups)):
            ll, R, nq, _, _ = self.estep(x, g)
            total += ll
            self._add_grad(x, g, R, nq, grad)
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
        self.last_grad = (x.copy(), grad)           # the gradient at x, for the Newton phase
        return x_new, total


def _block_encoding(codes, n_cat, max_cells=None):
    """Encode response patterns by blocks of consecutive items.

    Returns ``Z`` (n x C, sparse): row i has a one in the cell of each block holding
    pattern i's joint response to the block's items, and ``E`` (C x sum K, sparse): the
    categories making up each cell (a missing response contributes none).  Then
    ``Y = Z @ E`` is the one-hot response matrix, ``log L = Z @ (E @ log P)`` and the
    expected category counts are ``E.T @ (Z.T @ posterior)``.  Blocks grow while a block
    has at most ``max_cells`` cells (default ``min(256, n / 8)``), so the cell tables stay
    small next to the data.
    """
    import scipy.sparse as sp

    n, J = codes.shape
    if max_cells is None:
        max_cells = int(min(256, max(n // 8, 1)))
    miss = (codes < 0).any(axis=0)
    width = np.asarray(n_cat) + miss                  # a missing slot where needed
    offs = np.concatenate([[0], np.cumsum(n_cat)])
    blocks, cur, size = [], [], 1
    for j in range(J):
        if cur and size * width[j] > max_cells:
            blocks.append(cur)
            cur, size = [], 1
        cur.append(j)
        size *= int(width[j])
    blocks.append(cur)
    zc, er, ec = [], [], []
    base = 0
    for js in blocks:
        cell = np.zeros(n, dtype=np.int64)
        stride = 1
        grids = []
        for j in js:
            cj = np.where(codes[:, j] >= 0, codes[:, j], n_cat[j])
            cell += cj * stride
            grids.append((j, stride))
            stride *= int(width[j])
        zc.append(base + cell)
        allc = np.arange(stride)
        for j, st in grids:
            cat = (allc // st) % int(width[j])
            ok = cat < n_cat[j]
            er.append(base + allc[ok])
            ec.append(offs[j] + cat[ok])
        base += stride
    nb = len(blocks)
    cols = np.stack(zc, axis=1).ravel()
    Z = sp.csr_matrix((np.ones(cols.size), cols, np.arange(0, n * nb + 1, nb)),
                      shape=(n, base))
    er, ec = np.concatenate(er), np.concatenate(ec)
    E = sp.csr_matrix((np.ones(er.size), (er, ec)), shape=(base, int(offs[-1])))
    return Z, E


def _pair_matrix(codes, n_cat):
    """Sparse indicator of every pair of categories of every pair of items per respondent
    (one row per (item pair, category pair), one column per respondent), with the pairs
    and their row blocks; built once per data set."""
    import scipy.sparse as sp

    n, J = codes.shape
    if J < 2:
        return None, [], []
    n_cat = np.asarray(n_cat, dtype=np.int64)
    jj, kk = np.triu_indices(J, 1)
    size = n_cat[jj] * n_cat[kk]
    base = np.concatenate([[0], np.cumsum(size)])
    ct = np.ascontiguousarray(codes.T, dtype=np.int64)
    cj, ck = ct[jj].T, ct[kk].T                                       # (n, pairs)
    cell = base[:-1][None, :] + cj * n_cat[kk][None, :] + ck
    ok = (cj >= 0) & (ck >= 0)
    # row-major over (respondent, pair): a CSR matrix respondents x cells, no sorting
    indptr = np.concatenate([[0], np.cumsum(ok.sum(axis=1))])
    At = sp.csr_matrix((np.ones(int(indptr[-1])), cell[ok], indptr),
                       shape=(n, int(base[-1])))
    pairs = list(zip(jj.tolist(), kk.tolist()))
    shapes = [(int(b), int(n_cat[j]), int(n_cat[k])) for b, j, k in zip(base[:-1], jj, kk)]
    return At.T, pairs, shapes


def _pair_mass(codes, n_cat, wp, cached=None):
    """Posterior mass of every pair of categories of every pair of items at every grid point:
    ``N_jk[a, b, q] = sum_i wp[i, q] [y_ij = a][y_ik = b]``, all pairs in one sparse product."""
    A, pairs, shapes = cached if cached is not None else _pair_matrix(codes, n_cat)
    if A is None:
        return [], []
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
    if not isinstance(prob, Problem):            # a model with its own exact Hessian
        return prob.hessian(x)
    if prob.grid is not None:
        return hessian_fd(prob, x)
    th = prob.theta
    Q = th.size
    p = prob.n_par
    H = np.zeros((p, p))
    for g, gd in enumerate(prob.groups):
        _, R, nq, _, post = prob.estep(x, g, want_post=True)
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
        pairs, Npairs = _pair_mass(codes, prob.n_cat, wp, prob.pair_matrix(g))
        for (j, k), N in zip(pairs, Npairs):
            blk = np.einsum("abq,paq,rbq->pr", N, codes_cols[j], codes_cols[k])
            H[np.ix_(idxs[j], idxs[k])] += blk
            H[np.ix_(idxs[k], idxs[j])] += blk.T
        # - sum_i f_i E_i(u) E_i(u)'
        n = codes.shape[0]
        S = np.zeros((n, p))
        bycat = prob.by_category(g)
        for j in range(J):
            d = codes_cols[j]                                       # (p_j, K, Q)
            Sj = np.zeros((n, d.shape[0]))
            for k, rows in enumerate(bycat[j]):                     # E_i(u_j) given y_ij = k
                if rows.size:
                    Sj[rows] = post[rows] @ d[:, k, :].T
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


def _maximize(prob: Problem, x0, *, em_tol=1e-1, max_em=500, gtol=1e-6, max_newton=50,
              chord=0.1):
    x = np.asarray(x0, float).copy()
    last = -np.inf
    it = 0
    for it in range(1, max_em + 1):
        x_new, ll = prob.em_step(x)
        if abs(ll - last) < em_tol * max(1.0, 1e-3 * abs(ll)):
            break
        last = ll
        x = x_new
    if abs(ll - last) < em_tol * max(1.0, 1e-3 * abs(ll)):
        g = prob.last_grad[1]                        # from the E-step at x just done
    else:
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
        # keep the Hessian while each step cuts the gradient by `chord` (chord steps near the
        # optimum); the Hessian at the final point is always recomputed below
        if gmax >= gtol and not gmax < chord * gmax_prev:
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
