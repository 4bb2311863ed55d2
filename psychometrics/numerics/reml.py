"""One REML/ML core for linear mixed models: profiled deviance, optimiser, optimality check.

Shared by the mixed models (:mod:`psychometrics.multilevel`), the ICC's REML fit on incomplete
data and the crossed / nested fits of multilevel reliability (:mod:`psychometrics.reliability`);
it sits in ``numerics`` so that both subpackages use it without importing each other.

lme4's formulation (Bates, Maechler, Bolker & Walker, 2015, J Stat Softw 67(1), section 3):
``y = X beta + Z Lambda u + e``, ``u ~ N(0, sigma^2 I)``, ``e ~ N(0, sigma^2 I)``; ``Lambda``
is block diagonal, one block ``I_G (x) T_g`` per random-effects term (grouping factor) ``g``
with ``T_g`` lower triangular, and ``theta`` holds the free elements of all ``T_g``. With
``A = Lambda'Z'Z Lambda + I``::

    ldL2  = log det A
    C     = X'V^-1 X                               (= RX'RX,  ldRX2 = log det C)
    beta  = C^-1 X'V^-1 y
    pwrss = y'V^-1 y - beta' X'V^-1 y              (penalised weighted RSS)
    dev_ML   = ldL2 + n (1 + log(2 pi pwrss / n))
    dev_REML = ldL2 + ldRX2 + (n - p) (1 + log(2 pi pwrss / (n - p)))

Three layers:

``profiled_deviance``
    the deviance from ``C``, ``X'V^-1 y``, ``y'V^-1 y`` and ``ldL2`` (every evaluator ends here).
``ProfiledDeviance``
    the optimiser and its optimality check (issue 19), for any evaluator of the deviance: a
    subclass supplies ``tpos`` (the (row, col) of each theta in its term's ``T``, with the
    terms' effects side by side), ``ntheta``, ``n`` and ``evaluate(theta, reml, grad=False)``
    returning ``{"dev", "ok"[, "grad"]}``. L-BFGS-B on the unconstrained, scaled theta, Newton
    polish, then ``check_optimum``: a boundary point (a variance of 0) is accepted only if the
    deviance at small positive variances is not lower and interior restarts are not better;
    interior components pass lme4's relative-gradient test ``max|H^-1 g| < 0.002`` and a
    positive definite Hessian; a lower point found by the check restarts the optimiser.
``MultiLMMCore``
    the general evaluator: one Z block per random-effects term (grouping factor), dense,
    sparse (SuperLU) or Schur-complement (random intercepts / one slope per term)
    factorisation of ``A``.

Special evaluators of the same deviance (closed forms or sufficient statistics for a given
design) subclass ``ProfiledDeviance`` and so share the optimiser and the check: the one-factor
LMM (``multilevel._lmm.LMMCore``) and the crossed and nested random-intercept models of
multilevel reliability (``reliability._crossed``). The ICC (two Z blocks: subjects, raters) and
multilevel reliability with a therapist level (eight blocks) build their random-intercept
designs and use ``MultiLMMCore`` directly (``random_intercepts_core``).
"""
from __future__ import annotations

import numpy as np
from .._lazy import lazy_module

sla = lazy_module("scipy.linalg")
sp = lazy_module("scipy.sparse")
optimize = lazy_module("scipy.optimize")
spla = lazy_module("scipy.sparse.linalg")


__all__ = ["profiled_deviance", "ProfiledDeviance", "MultiLMMCore", "random_intercepts_core"]

#: above this number of random effects, A is factored as a sparse matrix
DENSE_MAX = 800


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


class ProfiledDeviance:
    """Optimiser and optimality check of a profiled (REML) deviance in theta (see the module).

    Subclasses set ``n``, ``tpos``, ``ntheta`` (and optionally ``Msum``, the diagonal of which
    gives the scale of theta, see ``theta_scale``) and implement ``evaluate``.
    """

    n: int
    tpos: list
    ntheta: int

    def evaluate(self, theta, reml: bool, grad: bool = False, **kw) -> dict:  # pragma: no cover
        raise NotImplementedError

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
        Msum = getattr(self, "Msum", None)
        if Msum is None:
            return np.ones(self.ntheta)
        rms = np.sqrt(np.maximum(np.diag(Msum), 1e-300) / self.n)
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


class MultiLMMCore(ProfiledDeviance):
    """Profiled deviance of an LMM with several random-effects terms (lme4's Lambda, Z, theta).

    Uses ``ProfiledDeviance``'s optimiser and optimality check; ``tpos`` indexes the random effects
    of all terms side by side (term ``t``'s effects are ``off_t .. off_t + q_t - 1``), so that a
    diagonal element of a term's ``T`` is ``r == c`` and a column flip stays inside its term.
    """

    def __init__(self, y, X, terms, prefer_block: bool = False, analytic_grad: bool = False):
        self._prefer_block = bool(prefer_block)
        self._analytic_grad_opt = bool(analytic_grad)
        self.n, self.p = X.shape
        self.terms = terms                      # dicts: Zt (n x q), codes, G, q, off, col0, tpos
        self.Q = int(sum(t["G"] * t["q"] for t in terms))
        self.q = int(sum(t["q"] for t in terms))
        self.G = {t["name"]: t["G"] for t in terms}
        tpos, owner, rows_l, cols_l, idx_l = [], [], [], [], []
        zr, zc, zd = [], [], []
        n = self.n
        for t in terms:
            for j in range(t["q"]):
                zr.append(np.arange(n))
                zc.append(t["col0"] + t["codes"] * t["q"] + j)
                zd.append(t["Zt"][:, j])
            g = np.arange(t["G"])
            for (r, c) in t["tpos"]:
                k = len(tpos)
                tpos.append((t["off"] + r, t["off"] + c))
                owner.append(t["name"])
                rows_l.append(t["col0"] + g * t["q"] + r)
                cols_l.append(t["col0"] + g * t["q"] + c)
                idx_l.append(np.full(t["G"], k))
        self.tpos = tpos
        self.ntheta = len(tpos)
        self.lower = np.array([0.0 if r == c else -np.inf for r, c in tpos])
        self._lam_rows = np.concatenate(rows_l)
        self._lam_cols = np.concatenate(cols_l)
        self._lam_idx = np.concatenate(idx_l)
        Z = sp.csc_matrix((np.concatenate(zd), (np.concatenate(zr), np.concatenate(zc))),
                          shape=(n, self.Q))
        self.Z = Z
        self.dense = self.Q <= DENSE_MAX
        ZtZ = (Z.T @ Z).tocsc()
        self.ZtZ = ZtZ.toarray() if self.dense else ZtZ
        self.ZtX = np.asarray(Z.T @ X)
        self.Zty = np.asarray(Z.T @ y).ravel()
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self._setup_block()
        # analytic gradient (``_analytic_grad``): scalar terms, A dense or on the block path
        self._analytic = self._analytic_grad_opt and all(t["q"] == 1 for t in terms) \
            and (self._block or self.dense)
        self._col_term = np.concatenate([np.full(t["G"], i) for i, t in enumerate(terms)])
        colsq = np.zeros(self.q)
        for t in terms:
            colsq[t["off"]:t["off"] + t["q"]] = np.einsum("ij,ij->j", t["Zt"], t["Zt"])
        self.Msum = np.diag(colsq)

    def Lambda(self, theta):
        vals = np.asarray(theta, dtype=float)[self._lam_idx]
        return sp.csc_matrix((vals, (self._lam_rows, self._lam_cols)), shape=(self.Q, self.Q))

    def T_list(self, theta):
        out = {}
        k = 0
        for t in self.terms:
            T = np.zeros((t["q"], t["q"]))
            for (r, c) in t["tpos"]:
                T[r, c] = theta[k]
                k += 1
            out[t["name"]] = T
        return out

    def _factor(self, theta):
        """(ldL2, solve, Lambda) for A = Lambda' Z'Z Lambda + I (Lambda None: diagonal)."""
        if self._block:
            return self._factor_block(theta, None)
        if self.dense:
            # dense Lambda straight from theta (no sparse matrix per evaluation)
            Ld = np.zeros((self.Q, self.Q))
            Ld[self._lam_rows, self._lam_cols] = np.asarray(theta, dtype=float)[self._lam_idx]
            Lam = Ld
            A = Ld.T @ self.ZtZ @ Ld
            A[np.diag_indices_from(A)] += 1.0
            try:
                cf = sla.cho_factor(A, lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                return None, None, Lam
            ld = float(2.0 * np.sum(np.log(np.diag(cf[0]))))
            return ld, (lambda B: sla.cho_solve(cf, B, check_finite=False)), Lam
        Lam = self.Lambda(theta)
        A = (Lam.T @ self.ZtZ @ Lam + sp.identity(self.Q, format="csc")).tocsc()
        try:
            lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                           options={"SymmetricMode": True})
        except RuntimeError:
            return None, None, Lam
        d = lu.U.diagonal()
        if np.any(d <= 0):
            return None, None, Lam
        return float(np.sum(np.log(d))), lu.solve, Lam

    #: the block path is used when the random effects outside the first term number at most this
    BLOCK_REST_MAX = 1500

    def _setup_block(self):
        """Scalar terms only (random intercepts, or one slope per term): Lambda is diagonal and
        the first term's block of Z'Z is diagonal (every row has one level of it), so
        ``A = [[D1, B], [B', A22]]`` is factored through the Schur complement
        ``S = A22 - B' D1^-1 B`` (dense, of the size of the other terms: e.g. the therapists),
        O(rows + levels + rest^3) per evaluation."""
        t1 = self.terms[0]
        G1 = t1["G"]
        self._block = (not self.dense or self._prefer_block) \
            and all(t["q"] == 1 for t in self.terms) and self.Q - G1 <= self.BLOCK_REST_MAX
        if not self._block:
            return
        idx = np.empty(self.Q, dtype=np.int64)
        idx[self._lam_cols] = self._lam_idx
        self._lam_idx_by_col = idx
        Z = self.Z.tocsc()
        Z1, Z2 = Z[:, :G1], Z[:, G1:]
        self._d1 = np.asarray(Z1.multiply(Z1).sum(axis=0)).ravel()
        B = (Z1.T @ Z2).tocsr()
        B.sort_indices()
        Q2 = self.Q - G1
        self._A22 = np.asarray((Z2.T @ Z2).todense())
        self._G1 = G1
        nnz_row = np.diff(B.indptr)
        n_pairs = int(np.sum(nnz_row.astype(np.int64) ** 2))
        # B' diag(w) B: dense BLAS when B is dense-ish (crossed with a small factor), else over
        # the pairs of non-zeros of each row (nested: one per row)
        self._B_dense = G1 * Q2 * Q2 <= 8 * n_pairs and G1 * Q2 <= 5_000_000
        self._S_diag = False
        if self._B_dense:
            self._Bd = np.asarray(B.todense())
        else:
            # every pair (e, f) of non-zeros of the same row, vectorised
            row_of = np.repeat(np.arange(G1), nnz_row)
            reps = nnz_row[row_of]                        # each non-zero e repeated nnz_i times
            e_idx = np.repeat(np.arange(B.nnz), reps)
            starts = np.repeat(np.cumsum(reps) - reps, reps)
            f_idx = B.indptr[row_of[e_idx]] + (np.arange(e_idx.size) - starts)
            self._pr = row_of[e_idx]
            k1, k2 = B.indices[e_idx], B.indices[f_idx]
            self._pk = k1 * Q2 + k2
            self._pv = B.data[e_idx] * B.data[f_idx]
            # nested: every pair on the diagonal and A22 diagonal -> S diagonal
            offd = self._A22 - np.diag(np.diag(self._A22))
            self._S_diag = bool(np.all(k1 == k2) and not np.any(offd))
            if self._S_diag:
                self._pk1 = k1
            self._B = B
            self._BT = B.T.tocsr()

    def _factor_block(self, theta, Lam):
        lam = np.asarray(theta, dtype=float)[self._lam_idx_by_col]
        G1 = self._G1
        Q2 = self.Q - G1
        l1, l2 = lam[:G1], lam[G1:]
        a1 = 1.0 + l1 * l1 * self._d1
        w = l1 * l1 / a1
        if not self._B_dense and self._S_diag:
            sd = (np.diag(self._A22) - np.bincount(self._pk1, weights=self._pv * w[self._pr],
                                                   minlength=Q2)) * l2 * l2 + 1.0
            if not np.all(sd > 0):
                return None, None, Lam
            ld = float(np.sum(np.log(a1)) + np.sum(np.log(sd)))
            B_, BT_ = self._B, self._BT

            def solve_d(R):
                R = np.asarray(R, dtype=float)
                vec = R.ndim == 1
                R2 = R[:, None] if vec else R
                r1, r2 = R2[:G1], R2[G1:]
                y1 = r1 / a1[:, None]
                x2 = (r2 - l2[:, None] * (BT_ @ (l1[:, None] * y1))) / sd[:, None]
                x1 = (r1 - l1[:, None] * (B_ @ (l2[:, None] * x2))) / a1[:, None]
                out = np.concatenate([x1, x2], axis=0)
                return out[:, 0] if vec else out
            return ld, solve_d, Lam
        if self._B_dense:
            Bd = self._Bd
            M = (Bd * w[:, None]).T @ Bd
        else:
            M = np.bincount(self._pk, weights=self._pv * w[self._pr],
                            minlength=Q2 * Q2).reshape(Q2, Q2)
        S = (self._A22 - M) * np.outer(l2, l2)
        S[np.diag_indices_from(S)] += 1.0
        try:
            cf = sla.cho_factor(S, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            return None, None, Lam
        ld = float(np.sum(np.log(a1)) + 2.0 * np.sum(np.log(np.diag(cf[0]))))
        self._last_schur = (np.array(theta, dtype=float), cf)     # reused by _diag_Ainv
        if self._B_dense:
            def Bmul(x):          # Bs @ x with Bs = diag(l1) B diag(l2)
                return l1[:, None] * (self._Bd @ (l2[:, None] * x))

            def BTmul(y):
                return l2[:, None] * (self._Bd.T @ (l1[:, None] * y))
        else:
            def Bmul(x):
                return l1[:, None] * (self._B @ (l2[:, None] * x))

            def BTmul(y):
                return l2[:, None] * (self._BT @ (l1[:, None] * y))

        def solve(R):
            R = np.asarray(R, dtype=float)
            vec = R.ndim == 1
            R2 = R[:, None] if vec else R
            r1, r2 = R2[:G1], R2[G1:]
            y1 = r1 / a1[:, None]
            x2 = sla.cho_solve(cf, r2 - BTmul(y1), check_finite=False)
            x1 = (r1 - Bmul(x2)) / a1[:, None]
            out = np.concatenate([x1, x2], axis=0)
            return out[:, 0] if vec else out
        return ld, solve, Lam

    def evaluate(self, theta, reml: bool, grad: bool = False, full: bool = False,
                 sigma: float | None = None):
        theta = np.asarray(theta, dtype=float)
        ldL2, solve, Lam = self._factor(theta)
        if ldL2 is None or not np.isfinite(ldL2):
            return {"dev": np.inf, "ok": False}
        n, p = self.n, self.p
        if Lam is None:                   # diagonal Lambda (block path)
            lam = theta[self._lam_idx_by_col]
            LZX = lam[:, None] * self.ZtX
            LZy = lam * self.Zty
        else:
            LZX = np.asarray(Lam.T @ self.ZtX)
            LZy = np.asarray(Lam.T @ self.Zty).ravel()
        S = solve(np.column_stack([LZX, LZy]))
        SX, Sy = S[:, :p], S[:, p]
        C = self.XtX - LZX.T @ SX
        Xvy = self.Xty - LZX.T @ Sy
        yvy = self.yty - float(LZy @ Sy)
        out = profiled_deviance(C, Xvy, yvy, ldL2, n, p, reml)
        if not out["ok"]:
            return out
        out["C"] = C
        beta = out["beta"]
        if full:
            u = Sy - SX @ beta                 # spherical conditional modes
            out["u"] = u
            out["b"] = lam * u if Lam is None else np.asarray(Lam @ u).ravel()
        if grad:
            if self._analytic and sigma is None:
                u = Sy - SX @ beta
                out["grad"] = self._analytic_grad(theta, reml, out, SX, u)
            else:
                out["grad"] = self._fd_grad(theta, reml, sigma)
        return out

    #: below this relative sd a component's derivative is differenced (cancellation in 1 - A^-1)
    ANALYTIC_MIN_THETA = 1e-3

    def _diag_Ainv(self, theta):
        """Diagonal of A^-1 (dense path), or on the block path the diagonal of its second
        block and the trace of its first block (Schur complement; see ``_setup_block``)."""
        th = np.asarray(theta, dtype=float)
        if not self._block:
            Ld = np.zeros((self.Q, self.Q))
            Ld[self._lam_rows, self._lam_cols] = th[self._lam_idx]
            A = Ld.T @ self.ZtZ @ Ld
            A[np.diag_indices_from(A)] += 1.0
            cf = sla.cho_factor(A, lower=True, check_finite=False)
            return np.diag(sla.cho_solve(cf, np.eye(self.Q), check_finite=False)), None
        lam = th[self._lam_idx_by_col]
        G1 = self._G1
        Q2 = self.Q - G1
        l1, l2 = lam[:G1], lam[G1:]
        a1 = 1.0 + l1 * l1 * self._d1
        w, w2 = l1 * l1 / a1, l1 * l1 / (a1 * a1)

        def BtWB(weights):
            if self._B_dense:
                return (self._Bd * weights[:, None]).T @ self._Bd
            if self._S_diag:
                return np.bincount(self._pk1, weights=self._pv * weights[self._pr],
                                   minlength=Q2)
            return np.bincount(self._pk, weights=self._pv * weights[self._pr],
                               minlength=Q2 * Q2).reshape(Q2, Q2)
        if not self._B_dense and self._S_diag:
            sd = (np.diag(self._A22) - BtWB(w)) * l2 * l2 + 1.0
            tr1 = float(np.sum(1.0 / a1) + np.sum(BtWB(w2) * l2 * l2 / sd))
            return 1.0 / sd, tr1
        last = getattr(self, "_last_schur", None)
        if last is not None and np.array_equal(last[0], th):
            cf = last[1]                      # the factor of this evaluation (_factor_block)
        else:
            S = (self._A22 - BtWB(w)) * np.outer(l2, l2)
            S[np.diag_indices_from(S)] += 1.0
            cf = sla.cho_factor(S, lower=True, check_finite=False)
        Sinv, info = sla.lapack.dpotri(cf[0], lower=1)
        if info != 0:  # pragma: no cover - S is positive definite (it was factored)
            Sinv = sla.cho_solve(cf, np.eye(Q2), check_finite=False)
        else:
            Sinv = np.tril(Sinv) + np.tril(Sinv, -1).T
        M2 = BtWB(w2) * np.outer(l2, l2)
        tr1 = float(np.sum(1.0 / a1) + np.sum(Sinv * M2))
        return np.diag(Sinv), tr1

    def _analytic_grad(self, theta, reml, ev, SX, u):
        """Gradient of the profiled deviance for scalar terms (Lambda diagonal).

        With V = I + sum_k rho_k Z_k Z_k' (rho_k = theta_k^2), P = V^-1 - V^-1 X C^-1 X'V^-1
        (REML; ML: V^-1) and the penalised RSS r'V^-1 r::

            d dev / d rho_k = tr(Z_k'P Z_k) - m/pwrss |Z_k'V^-1 r|^2

        and, for theta_k != 0, Z_j'V^-1 Z_j = (1 - (A^-1)_jj) / theta_k^2,
        Z_j'V^-1 X = (A^-1 Lambda Z'X)_j / theta_k and Z_j'V^-1 r = u_j / theta_k (u: the
        spherical modes), for every column j of term k, so
        d dev / d theta_k = 2 / theta_k [sum_j (1 - A^-1_jj) - (REML) sum_j SX_j C^-1 SX_j'
        - m/pwrss sum_j u_j^2]. Components with theta_k = 0 have derivative 0 (the deviance is
        even in theta_k); small ones (< ``ANALYTIC_MIN_THETA``) are differenced."""
        th = np.asarray(theta, dtype=float)
        k = self.ntheta
        m = self.n - self.p if reml else self.n
        fac = m / ev["pwrss"]
        ct = self._col_term
        g = np.zeros(k)
        big = np.abs(th) >= self.ANALYTIC_MIN_THETA
        if big.any():
            dA, tr1 = self._diag_Ainv(th)
            one_minus = np.bincount(ct, weights=1.0 - np.r_[np.zeros(self._G1), dA]
                                    if tr1 is not None else 1.0 - dA, minlength=k)
            if tr1 is not None:               # the first term's trace from the Schur complement
                one_minus[0] = self.terms[0]["G"] - tr1
            usq = np.bincount(ct, weights=u * u, minlength=k)
            br = one_minus - fac * usq
            if reml:
                Cinv = np.linalg.inv(ev["C"])
                br -= np.bincount(ct, weights=np.einsum("ij,jk,ik->i", SX, Cinv, SX),
                                  minlength=k)
            g[big] = 2.0 * br[big] / th[big]
        small = (~big) & (th != 0.0)
        if small.any():
            f = lambda t: self.evaluate(t, reml)["dev"]  # noqa: E731
            for j in np.flatnonzero(small):
                h = 1e-5 * max(abs(th[j]), 0.1)
                e = np.zeros(k)
                e[j] = h
                g[j] = (f(th + e) - f(th - e)) / (2 * h)
        return g

    def _fixed_sigma_dev(self, theta, reml, sigma):
        ev = self.evaluate(theta, reml)
        if not ev["ok"]:
            return np.inf
        m = self.n - self.p if reml else self.n
        d = ev["ldL2"] + m * np.log(2 * np.pi * sigma ** 2) + ev["pwrss"] / sigma ** 2
        return d + ev["ldRX2"] if reml else d

    def _fd_grad(self, theta, reml, sigma=None):
        f = (lambda th: self.evaluate(th, reml)["dev"]) if sigma is None else \
            (lambda th: self._fixed_sigma_dev(th, reml, sigma))
        g = np.empty(self.ntheta)
        for k in range(self.ntheta):
            h = 1e-5 * max(abs(theta[k]), 0.1)
            e = np.zeros(self.ntheta)
            e[k] = h
            g[k] = (f(theta + e) - f(theta - e)) / (2 * h)
        return g

    def dev_and_grad(self, theta, reml):
        ev = self.evaluate(theta, reml, grad=True)
        if not ev["ok"]:
            return np.inf, np.zeros(self.ntheta)
        return ev["dev"], ev["grad"]

    def _num_hessian_x(self, x, reml, sc, h=1e-3, free=None):
        """Second differences of the deviance itself (x-space, on ``free`` coordinates); the
        gradient is already a difference quotient, so differencing it would amplify noise.
        With the analytic gradient: differences of the gradient, as the base class."""
        if self._analytic:
            return ProfiledDeviance._num_hessian_x(self, x, reml, sc, free=free)
        idx = np.arange(self.ntheta) if free is None else np.flatnonzero(free)
        f = lambda z: self.deviance(z * sc, reml)  # noqa: E731
        f0 = f(x)
        steps = {j: h * max(1.0, abs(x[j])) for j in idx}
        H = np.empty((len(idx), len(idx)))
        for a, i in enumerate(idx):
            ei = np.zeros_like(x)
            ei[i] = steps[i]
            H[a, a] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
            for b_, j in enumerate(idx[:a]):
                ej = np.zeros_like(x)
                ej[j] = steps[j]
                H[a, b_] = H[b_, a] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                       + f(x - ei - ej)) / (4 * steps[i] * steps[j])
        return H


def random_intercepts_core(y, X, codes) -> MultiLMMCore:
    """``MultiLMMCore`` of ``y ~ X + (1 | g_1) + ... + (1 | g_m)``: one random intercept per
    grouping factor, ``codes`` a list of integer codes 0..G-1 (one array per factor, in the
    order of theta). Levels without rows are dropped. Put the factor with the most levels
    first: ``A`` is factored through the Schur complement on the other factors' levels
    (``MultiLMMCore._setup_block``), whatever the size."""
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    terms, off, col0 = [], 0, 0
    for k, c in enumerate(codes):
        c = np.asarray(c, dtype=np.int64)
        _, c = np.unique(c, return_inverse=True)
        G = int(c.max()) + 1
        terms.append({"name": f"g{k}", "Zt": np.ones((y.size, 1)), "codes": c.ravel(), "G": G,
                      "q": 1, "off": off, "col0": col0, "tpos": [(0, 0)]})
        off += 1
        col0 += G
    return MultiLMMCore(y, X, terms, prefer_block=True, analytic_grad=True)
