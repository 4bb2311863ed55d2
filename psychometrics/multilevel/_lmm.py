"""Computational core of the linear mixed model with one grouping factor.

The model is ``y = X beta + Z b + e`` with ``b_i ~ N(0, sigma^2 T T')`` for
group ``i`` and ``e ~ N(0, sigma^2 I)``; ``T`` (q x q, lower triangular) is
lme4's relative covariance factor, its free elements are ``theta``.

Because every random effect belongs to one grouping factor, ``Z`` is
block-diagonal by group and the whole profiled deviance depends on the data
only through per-group sufficient statistics (``M_i = Z_i'Z_i``,
``Z_i'X_i``, ``Z_i'y_i``) and the global ``X'X``, ``X'y``, ``y'y``. Every
evaluation of the deviance (and of its analytic gradient) costs O(G q^2 p)
array operations, independent of the number of rows.

With ``V_i = I + Z_i T T' Z_i'`` (the marginal covariance divided by
sigma^2) and ``K_i = T (I + T'M_iT)^{-1} T'`` (Woodbury)::

    ldL2  = sum_i log det(I + T' M_i T)          (lme4's ldL2)
    C     = X'V^{-1}X = X'X - sum_i X_i'Z_i K_i Z_i'X_i   (= RX'RX, ldRX2 = log det C)
    beta  = C^{-1} X'V^{-1}y
    pwrss = y'V^{-1}y - beta' X'V^{-1}y          (penalised weighted RSS)
    dev_ML   = ldL2 + n (1 + log(2 pi pwrss / n))
    dev_REML = ldL2 + ldRX2 + (n-p) (1 + log(2 pi pwrss / (n-p)))

Gradient, for theta_k sitting at T[r, c] (dD_k = E_rc T' + T E_cr):
``d dev / d theta_k = 2 [T'(sum_i W_i - m/pwrss sum_i a_i a_i' - [REML] sum_i B_i C^{-1} B_i')]_{c,r}``
with ``W_i = Z_i'V_i^{-1}Z_i``, ``a_i = Z_i'V_i^{-1}(y_i - X_i beta)``,
``B_i = Z_i'V_i^{-1}X_i`` and ``m = n`` (ML) or ``n - p`` (REML).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize

__all__ = ["LMMCore"]


def _dot(x, y) -> float:
    """Dot product of two long vectors without BLAS level 1 (whose threading costs far more
    than the product itself on a busy machine)."""
    if x.shape[0] < 4096:             # short vectors: BLAS is single-threaded and cheapest
        return float(x @ y)
    return float(np.einsum("g,g->", x, y))


def group_sums(codes: np.ndarray, G: int, cols: np.ndarray) -> np.ndarray:
    """Sum the columns of ``cols`` (n x k) within groups ``codes`` (0..G-1) -> (G, k).

    One pass of ``np.add.reduceat`` over rows sorted by group (long data are
    usually sorted by patient already; otherwise one stable argsort).
    """
    cols = np.asarray(cols, dtype=float)
    if cols.ndim == 1:
        cols = cols[:, None]
    if codes.size > 1 and np.any(codes[1:] < codes[:-1]):
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        cols = cols[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out = np.zeros((G, cols.shape[1]))
    out[codes[starts]] = np.add.reduceat(cols, starts, axis=0)
    return out


def within_ss(codes: np.ndarray, G: int, cols: np.ndarray) -> np.ndarray:
    """Within-group sum of squares of each column: sum x^2 - sum_g (sum_g x)^2 / n_g."""
    cols = np.asarray(cols, dtype=float)
    cnt = np.bincount(codes, minlength=G).astype(float)
    sums = group_sums(codes, G, cols)
    with np.errstate(invalid="ignore", divide="ignore"):
        between = np.where(cnt[:, None] > 0, sums ** 2 / cnt[:, None], 0.0).sum(axis=0)
    return np.einsum("ij,ij->j", cols, cols) - between


def profiled_deviance(C, Xvy, yvy, ldL2, n, p, reml):
    """The profiled (REML) deviance from the Schur complement ``C`` of the fixed effects,
    ``X'V^-1 y`` and ``y'V^-1 y`` and ``log det L^2`` (lme4's ``pwrss`` formulation).
    Returns ``{"dev": inf, "ok": False}`` when ``C`` is not positive definite or the
    penalised residual sum of squares is not positive."""
    try:
        cC = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        return {"dev": np.inf, "ok": False}
    beta = np.linalg.solve(C, Xvy)
    pwrss = yvy - float(beta @ Xvy)
    if not pwrss > 0:
        return {"dev": np.inf, "ok": False}
    ldRX2 = float(2.0 * np.sum(np.log(np.diag(cC))))
    m = n - p if reml else n
    dev = ldL2 + m * (1.0 + np.log(2.0 * np.pi * pwrss / m))
    if reml:
        dev += ldRX2
    return {"dev": dev, "ok": True, "ldL2": ldL2, "ldRX2": ldRX2, "pwrss": pwrss, "beta": beta}


class LMMCore:
    """Sufficient statistics and profiled deviance of a one-factor LMM."""

    def __init__(self, y, X, Z, codes, G, tpos):
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.G = G
        self.tpos = list(tpos)            # list of (row, col) in T for each theta
        self.ntheta = len(self.tpos)
        self.lower = np.array([0.0 if r == c else -np.inf for r, c in self.tpos])
        q, p = self.q, self.p
        # per-group cross-products of Z with [Z, X, y]; stored "structure of arrays"
        # (each small-matrix element is a contiguous length-G vector) so that every
        # operation below is a vector operation or a BLAS call.
        W = np.column_stack([Z, X, y])
        prods = (Z[:, :, None] * W[:, None, :]).reshape(self.n, -1)
        S = group_sums(codes, G, prods).reshape(G, q, q + p + 1)
        self.M = np.ascontiguousarray(S[:, :, :q].transpose(1, 2, 0))       # (q, q, G)
        self.ZX = np.ascontiguousarray(S[:, :, q:q + p].transpose(1, 0, 2))  # (q, G, p)
        self.Zy = np.ascontiguousarray(S[:, :, q + p].T)                     # (q, G)
        self.Msum = self.M.sum(axis=2)
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self.nobs_group = np.bincount(codes, minlength=G)

    # ------------------------------------------------------------------ pieces
    def T_of(self, theta):
        T = np.zeros((self.q, self.q))
        for (r, c), v in zip(self.tpos, theta):
            T[r, c] = v
        return T

    def _K(self, T):
        """ldL2 and K_i = T (I + T'M_iT)^{-1} T' as a (q, q, G) array."""
        q, M = self.q, self.M
        if q == 1:
            t = T[0, 0]
            a11 = 1.0 + t * t * M[0, 0]
            return float(np.sum(np.log(a11))), (t * t / a11)[None, None, :]
        # A = I + T' M T, element-wise over groups: T is a small constant matrix, so
        # every entry is a short linear combination of the length-G vectors M[i, j]
        # (symmetric: only i <= k is computed).
        MT = [[None] * q for _ in range(q)]
        for i in range(q):
            for k in range(q):
                terms = [M[i, j] * T[j, k] for j in range(q) if T[j, k] != 0.0]
                MT[i][k] = sum(terms) if terms else np.zeros(self.G)
        A = np.empty((q, q, self.G))
        for i in range(q):
            for k in range(i, q):
                terms = [T[j, i] * MT[j][k] for j in range(q) if T[j, i] != 0.0]
                A[i, k] = sum(terms) if terms else 0.0
                if i == k:
                    A[i, k] += 1.0
                else:
                    A[k, i] = A[i, k]
        if q == 2:
            a, b, d = A[0, 0], A[0, 1], A[1, 1]
            det = a * d - b * b
            ldL2 = float(np.sum(np.log(det)))
            Ainv = np.empty_like(A)
            Ainv[0, 0] = d / det
            Ainv[1, 1] = a / det
            Ainv[0, 1] = Ainv[1, 0] = -b / det
        else:
            Ab = np.ascontiguousarray(A.transpose(2, 0, 1))
            L = np.linalg.cholesky(Ab)
            ldL2 = float(2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2))))
            Ainv = np.linalg.inv(Ab).transpose(1, 2, 0)
        # K = T Ainv T'
        TA = [[sum(T[i, j] * Ainv[j, k] for j in range(q) if T[i, j] != 0.0) for k in range(q)]
              for i in range(q)]
        K = np.zeros((q, q, self.G))
        for i in range(q):
            for l_ in range(i, q):
                acc = 0.0
                for k in range(q):
                    if T[l_, k] != 0.0 and not np.isscalar(TA[i][k]):
                        acc = acc + TA[i][k] * T[l_, k]
                K[i, l_] = acc
                K[l_, i] = K[i, l_]
        return ldL2, K

    def evaluate(self, theta, reml: bool, grad: bool = False, full: bool = False,
                 sigma: float | None = None):
        """Profiled deviance (and pieces) at ``theta``.

        With ``sigma`` given, ``grad`` is the gradient in theta of lmerTest's
        deviance at fixed sigma, ``ldL2 + pwrss/sigma^2 (+ ldRX2)``.
        """
        theta = np.asarray(theta, dtype=float)
        T = self.T_of(theta)
        q, p, n = self.q, self.p, self.n
        M, ZX, Zy = self.M, self.ZX, self.Zy
        ldL2, K = self._K(T)
        if not np.isfinite(ldL2):
            return {"dev": np.inf, "ok": False}
        KZX = [sum(K[i, j][:, None] * ZX[j] for j in range(q)) for i in range(q)]
        KZy = [sum(K[i, j] * Zy[j] for j in range(q)) for i in range(q)]
        C = self.XtX - sum(ZX[i].T @ KZX[i] for i in range(q))
        Xvy = self.Xty - sum(ZX[i].T @ KZy[i] for i in range(q))
        yvy = self.yty - float(sum(_dot(Zy[i], KZy[i]) for i in range(q)))
        out = profiled_deviance(C, Xvy, yvy, ldL2, n, p, reml)
        if not out["ok"]:
            return out
        out.update({"C": C, "T": T})
        beta, pwrss, m = out["beta"], out["pwrss"], (n - p if reml else n)
        if grad or full:
            c = [Zy[i] - ZX[i] @ beta for i in range(q)]                      # Z_i'r_i
            MK = [[sum(M[i, j] * K[j, k] for j in range(q)) for k in range(q)] for i in range(q)]
            a = [c[i] - sum(MK[i][k] * c[k] for k in range(q)) for i in range(q)]
            if full:
                out["a"] = np.column_stack(a)                                  # (G, q)
            if grad:
                H = np.empty((q, q))
                fac = (m / pwrss) if sigma is None else 1.0 / sigma ** 2
                for i in range(q):
                    for l_ in range(q):
                        w = self.Msum[i, l_] - sum(_dot(MK[i][k], M[k, l_]) for k in range(q))
                        H[i, l_] = w - fac * _dot(a[i], a[l_])
                if reml:
                    Cinv = np.linalg.inv(C)
                    B = [ZX[i] - sum(MK[i][k][:, None] * ZX[k] for k in range(q)) for i in range(q)]
                    BC = [B[i] @ Cinv for i in range(q)]
                    for i in range(q):
                        for l_ in range(q):
                            H[i, l_] -= float(np.sum(BC[i] * B[l_]))
                TH = T.T @ H
                out["grad"] = np.array([2.0 * TH[c_, r_] for r_, c_ in self.tpos])
        return out

    def deviance(self, theta, reml):
        return self.evaluate(theta, reml)["dev"]

    def dev_and_grad(self, theta, reml):
        ev = self.evaluate(theta, reml, grad=True)
        if not ev["ok"]:
            return np.inf, np.zeros(self.ntheta)
        return ev["dev"], ev["grad"]

    # ------------------------------------------------------------------ fitting
    @property
    def theta_scale(self) -> np.ndarray:
        """theta = x * scale: x is theta for Z columns scaled to unit root-mean-square.

        With Z~ = Z S^-1 (S = diag of column RMS), Z T = Z~ (S T), so T~ = S T is
        again lower triangular and theta_rc = T~_rc / s_r. Optimising over T~
        (started at the identity) is far better conditioned when predictors with
        random slopes are on large scales (e.g. a slope of an OQ total).
        """
        rms = np.sqrt(np.maximum(np.diag(self.Msum), 1e-300) / self.n)
        return np.array([1.0 / rms[r] for r, _ in self.tpos])

    def _fg_x(self, x, reml, sc):
        d, g = self.dev_and_grad(x * sc, reml)
        return d, g * sc

    def _num_hessian_x(self, x, reml, sc, h=1e-5, free=None):
        """Finite-difference Hessian of the analytic gradient (x-space), on ``free`` coordinates."""
        idx = np.arange(self.ntheta) if free is None else np.flatnonzero(free)
        H = np.empty((len(idx), len(idx)))
        for col, j in enumerate(idx):
            step = h * max(1.0, abs(x[j]))
            xp, xm = x.copy(), x.copy()
            xp[j] += step
            xm[j] -= step
            H[:, col] = (self._fg_x(xp, reml, sc)[1][idx] - self._fg_x(xm, reml, sc)[1][idx]) \
                / (2 * step)
        return 0.5 * (H + H.T)

    def _run(self, x0, reml, sc, maxiter, free=None):
        """Unconstrained L-BFGS-B with the analytic gradient, then Newton steps (x-space).

        No bounds are needed: the deviance depends on T T' only, so it is even
        in each column of T; a negative diagonal element is folded back by
        flipping the sign of its column afterwards (``_fold``). Bounds would
        let a gradient method stop on the boundary, where the derivative with
        respect to a diagonal element is exactly 0 even when it is a saddle.
        Coordinates outside ``free`` stay at their value in ``x0``.
        """
        free = np.ones(self.ntheta, dtype=bool) if free is None else np.asarray(free, dtype=bool)
        base = np.asarray(x0, dtype=float).copy()

        def full(z):
            x = base.copy()
            x[free] = z
            return x

        def fg(z):
            d, g = self._fg_x(full(z), reml, sc)
            return d, g[free]

        k = int(free.sum())
        if k == 0:                # nothing to optimise (e.g. a random intercept fixed at 0)
            return self._fold(base), self._fg_x(base, reml, sc)[0], 1, "all parameters fixed", None
        res = optimize.minimize(fg, base[free], jac=True, method="L-BFGS-B",
                                options={"maxiter": maxiter, "ftol": 1e-10, "gtol": 1e-6,
                                         "maxcor": 20})
        z = np.asarray(res.x, dtype=float)
        nfev = int(res.nfev)
        dev, g = fg(z)
        # Newton polish; the Hessian is recomputed only when a step fails (chord method)
        H = None
        fresh = False
        for _ in range(30):
            if H is None:
                H = self._num_hessian_x(full(z), reml, sc, free=free)
                nfev += 2 * k
                fresh = True
                try:
                    if np.linalg.eigvalsh(H).min() <= 0:
                        break
                except np.linalg.LinAlgError:
                    break
            step = -np.linalg.solve(H, g)
            z_new = z + step
            d_new, g_new = fg(z_new)
            nfev += 1
            if not d_new <= dev + 1e-12 * abs(dev) and fresh:
                # fresh Hessian, full step too long (far from quadratic, e.g. along a
                # flat ridge): backtrack
                for _ in range(12):
                    step = 0.5 * step
                    z_new = z + step
                    d_new, g_new = fg(z_new)
                    nfev += 1
                    if d_new <= dev:
                        break
            if not d_new <= dev + 1e-12 * abs(dev):
                if fresh:
                    break
                H = None          # stale Hessian: recompute and retry
                continue
            small = np.max(np.abs(z_new - z)) < 1e-11
            z, dev, g = z_new, d_new, g_new
            fresh = False
            if small:
                break
        x = full(z)
        xf = self._fold(x)
        if H is not None and (np.any(xf != x) or k != self.ntheta):
            H = None              # signs flipped or a reduced problem: not the full Hessian
        return xf, dev, nfev, str(res.message), H

    def _fold(self, x):
        """Flip the sign of every column of T whose diagonal element is negative."""
        x = x.copy()
        for j, (r, c) in enumerate(self.tpos):
            if r == c and x[j] < 0:
                for i, (r2, c2) in enumerate(self.tpos):
                    if c2 == c:
                        x[i] = -x[i]
        return x

    # ------------------------------------------------------------------ optimality check
    #: lme4's relative-gradient criterion ``max |H^-1 g| < 0.002`` (theta units) on interior
    #: components.
    REL_GRAD_TOL = 2e-3
    #: steps (scaled theta units) at which the deviance is probed along each boundary component
    #: and each direction of negative curvature.
    PROBE_STEPS = (1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0)

    def _probe(self, x, dev, direction, reml, sc):
        """Lowest deviance found at ``x + s * direction`` over ``PROBE_STEPS`` (both signs)."""
        best_x, best_dev = None, dev
        for s in self.PROBE_STEPS:
            for sign in (1.0, -1.0):
                xt = x + sign * s * direction
                d = self.deviance(xt * sc, reml)
                if d < best_dev:
                    best_x, best_dev = xt, d
        return best_x, best_dev

    def check_optimum(self, x, dev, reml, sc, Hx=None):
        """Optimality check at scaled parameters ``x`` with deviance ``dev``.

        The parametrisation is unconstrained (``_run``): a diagonal element of
        ``T`` at 0 is an ordinary point of a smooth, even function, where the
        first derivative vanishes by symmetry whether or not it is a minimum. So
        the check is second order, and at the boundary it also looks at the
        deviance itself:

        * boundary components (diagonal elements of ``T`` at 0, i.e. a
          variance of 0): the deviance at small positive values of the
          component (``PROBE_STEPS``) must not be lower than at 0 (the one-sided
          directional derivative in the variance is non-negative);
        * every direction of negative curvature of the finite-difference
          Hessian of the deviance (all components, boundary included) is probed
          the same way and must not lower the deviance;
        * interior components: lme4's relative gradient ``|H^-1 g|`` (theta
          units) is below ``REL_GRAD_TOL`` and their Hessian block is positive
          definite (smallest eigenvalue > -1e-8 x the largest).

        Returns a dict with ``ok`` (all passed), ``message``, ``descent`` (a point
        with a lower deviance, or None), ``grad`` (theta units), ``rel_grad``,
        ``min_eig``.
        """
        k = self.ntheta
        diag = np.array([r == c for r, c in self.tpos])
        boundary = diag & (np.abs(x) < 1e-6)
        interior = ~boundary
        gx = self._fg_x(x, reml, sc)[1]
        if Hx is None:
            Hx = self._num_hessian_x(x, reml, sc)
        w, U = np.linalg.eigh(Hx)
        scale = max(1.0, float(np.max(np.abs(w))))
        dev_tol = 1e-11 * max(1.0, abs(dev))
        # descent directions: boundary components, then negative-curvature directions
        dirs = [np.eye(k)[j] for j in np.flatnonzero(boundary)]
        dirs += [U[:, i] for i in range(k) if w[i] < -1e-8 * scale]
        best_x, best_dev = None, dev - dev_tol
        for v in dirs:
            xt, dt = self._probe(x, dev, v, reml, sc)
            if xt is not None and dt < best_dev:
                best_x, best_dev = xt, dt
        g = gx / sc
        rel = np.zeros(k)
        problems = []
        if best_x is not None:
            problems.append(f"the deviance is {dev - best_dev:.3g} lower at a nearby point "
                            "(not a minimum)")
        min_eig = float("inf")
        if interior.any():
            Hi = (Hx / np.outer(sc, sc))[np.ix_(interior, interior)]
            try:
                rel[interior] = np.linalg.solve(Hi, g[interior])
                min_eig = float(np.linalg.eigvalsh(Hx[np.ix_(interior, interior)]).min())
            except np.linalg.LinAlgError:
                rel[interior] = np.nan
                min_eig = float("nan")
            if not np.all(np.abs(rel[interior]) < self.REL_GRAD_TOL):
                problems.append(f"relative gradient max|H^-1 g| = "
                                f"{np.nanmax(np.abs(rel[interior])):.3g} exceeds "
                                f"{self.REL_GRAD_TOL} (lme4's criterion)")
            if not min_eig > -1e-8 * scale:
                problems.append(f"the Hessian of the deviance is not positive definite "
                                f"(smallest eigenvalue {min_eig:.3g})")
        return {"ok": not problems, "message": "; ".join(problems), "descent": best_x,
                "grad": g, "rel_grad": rel, "min_eig": min_eig, "Hx": Hx}

    def _try_boundaries(self, x, dev, message, Hx, reml, sc, maxiter, limit):
        """Try each diagonal element ``0 < x_j < limit`` at exactly 0, re-optimising the
        others, and keep the boundary solution when its deviance is not higher.

        The deviance can be so flat towards a diagonal element of 0 (a rank-deficient
        covariance) that Newton steps stall short of it."""
        k = self.ntheta
        diag = np.array([r == c for r, c in self.tpos])
        nfev = 0
        for j in np.argsort(np.abs(x)):
            if not (diag[j] and 0.0 < abs(x[j]) < limit):
                continue
            xt = x.copy()
            xt[j] = 0.0
            # keep the variance of that random effect: move the diagonal element's share to
            # the other elements of its row of T (correlation -> +/-1)
            row = [i for i, (r, c) in enumerate(self.tpos) if r == self.tpos[j][0] and i != j]
            off = float(np.sum(x[row] ** 2))
            if off > 0:
                xt[row] *= np.sqrt((off + x[j] ** 2) / off)
            if self._fg_x(xt, reml, sc)[0] > dev + 2.0:
                continue          # clearly worse even before re-optimising: not flat there
            fr = np.ones(k, dtype=bool)
            fr[j] = False
            xb, devb, nb, msgb, _ = self._run(xt, reml, sc, maxiter, free=fr)
            nfev += nb
            if devb <= dev + 1e-10 * max(1.0, abs(dev)):
                x, dev, message, Hx = xb, devb, msgb, None
        return x, dev, message, Hx, nfev

    def _grid_start(self, reml, sc):
        """For one theta: the best of a log-spaced grid (the profiled deviance of a random
        intercept can have a local maximum at 0 and a minimum anywhere above)."""
        xs = np.r_[0.0, np.logspace(-3, 2, 26)]
        devs = [self.deviance(np.array([v]) * sc, reml) for v in xs]
        return np.array([xs[int(np.argmin(devs))]]), len(xs)

    def optimize(self, reml: bool, start=None, maxiter: int = 1000):
        """Minimise the profiled deviance over theta and check the optimum.

        Works on the scaled parameters ``x = theta / theta_scale`` (see
        ``theta_scale``), unconstrained (see ``_run``). Start: lme4's (the
        identity in the scaled parameters), or for a single theta the best
        point of a grid. The returned point must pass ``check_optimum``: when it
        finds a lower deviance near the point (at small positive variances for
        a boundary fit, or along a direction of negative curvature) the
        optimiser restarts from there; a boundary solution is also compared
        with runs from interior starts. Returns (theta, info) where info has
        'converged' (the check passed at the returned point), 'message',
        'grad', 'rel_grad', 'nfev', 'deviance', 'restarts'.
        """
        k = self.ntheta
        sc = self.theta_scale
        diag = np.array([r == c for r, c in self.tpos])
        nfev = 0
        if start is not None:
            x0 = np.asarray(start, dtype=float) / sc
        elif k == 1:
            x0, ng = self._grid_start(reml, sc)
            nfev += ng
        else:
            x0 = np.where(diag, 1.0, 0.0)
        x, dev, nb, message, Hx = self._run(x0, reml, sc, maxiter)
        nfev += nb
        x, dev, message, Hx, nb = self._try_boundaries(x, dev, message, Hx, reml, sc, maxiter,
                                                       limit=0.05)
        nfev += nb
        x[diag & (np.abs(x) < 1e-9)] = 0.0      # report boundary estimates as exactly 0
        dev = self.deviance(x * sc, reml)
        # A boundary point is accepted only against interior alternatives: runs from interior
        # starts (lme4's identity, halved and doubled) ...
        restarts = 0
        if np.any(diag & (x == 0.0)) and start is None:
            for f in (0.5, 2.0) if k > 1 else (0.5,):
                xr, devr, nb, msgr, Hr = self._run(np.where(diag, f, 0.0), reml, sc, maxiter)
                nfev += nb
                restarts += 1
                if devr < dev - 1e-11 * max(1.0, abs(dev)):
                    x, dev, message, Hx = xr, devr, msgr, Hr
        # ... and the optimality check; restart from any lower point it finds
        for _ in range(10):
            chk = self.check_optimum(x, dev, reml, sc)
            nfev += 2 * k + 1
            if chk["descent"] is None:
                if chk["ok"]:
                    break
                # a slow, curved valley towards a singular covariance (e.g. a correlation of
                # +/-1): try every diagonal element at 0, not only the small ones
                dev_before = dev
                x, dev, message, Hx, nb = self._try_boundaries(x, dev, message, Hx, reml, sc,
                                                               maxiter, limit=np.inf)
                nfev += nb
                restarts += 1
                if dev == dev_before:
                    break
                continue
            restarts += 1
            xr, devr, nb, msgr, Hr = self._run(chk["descent"], reml, sc, maxiter)
            nfev += nb
            if not devr < dev:
                break
            x, dev, message, Hx = xr, devr, msgr, Hr
            x[diag & (np.abs(x) < 1e-9)] = 0.0
            dev = self.deviance(x * sc, reml)
        theta = x * sc
        converged = bool(chk["ok"])
        if not converged:
            message = chk["message"]
        return theta, {"converged": converged, "message": message, "grad": chk["grad"],
                       "rel_grad": chk["rel_grad"], "min_eig": chk["min_eig"], "nfev": nfev,
                       "deviance": dev, "restarts": restarts}
