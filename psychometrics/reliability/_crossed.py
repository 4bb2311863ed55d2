"""REML variance components for the crossed id x time x items random-intercept model.

Private helper of :mod:`psychometrics.reliability.multilevel`.  Fits

    y = mu + a_id + b_time + c_item + d_(id,time) + f_(id,item) + g_(time,item) + e

(every term a random intercept, lme4 syntax
``values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time) + (1|id:items) + (1|items:time)``)
by restricted maximum likelihood, with lme4's parametrisation: relative standard deviations
``theta_k = sd_k / sigma`` (bounded below by 0) and sigma profiled out.  The objective is lme4's
REML criterion

    d(theta) = log|I + Lambda'Z'Z Lambda| + log|X'V^-1 X| + (n - p) (1 + log(2 pi pwrss / (n - p)))

evaluated without ever forming the n x n or the q x q (q ~ 4,000) system:

* The effects nested within a patient (id, id:time, id:items) are integrated out patient by
  patient.  When every session of a patient has all items ("complete grid"), the patient's
  covariance ``V_i = I + a J_nJ + b I_n (x) J_J + c J_n (x) I_J`` has four eigenvalues on known
  projectors, so ``V_i^-1 = I + e2 I(x)J + e3 J(x)I + e4 J(x)J`` with scalars that depend only
  on the patient's number of sessions n_i.  The cross-products of the global columns
  W = [time, items, time:items, intercept] with ``V_A^-1`` are then linear combinations of
  Kronecker products (``U_g (x) vv'``, ``A_g (x) Omega``; see ``_setup_fast``) precomputed once
  per distinct n_i, so one evaluation costs two ``np.kron`` and one Cholesky factorisation of a
  (T + J + TJ + 1)-square matrix (274 for 20 months x 12 items).
* Missing item values stay on that route: the missing cells are filled with pseudo-observations
  y = 0 and removed exactly by a Schur complement, ``(V_oo)^-1 = [V^-1 - V^-1_(.m) G^-1
  V^-1_(m.)]_oo`` with ``G = (V^-1)_mm`` (a rank-k correction per person, see
  ``_setup_missing``).
* Persons with a repeated (session, item) cell (duplicate rows) are integrated out with the
  Woodbury identity on their own (1 + sessions + items) nested effects, grouped by their set of
  time points (dense local products); a data set can mix the routes.
* The global system ``M = S C S + diag(1,..,1,0)`` (S = relative sds of time, items,
  time:items; 1 for the intercept) is factored by a dense Cholesky: log|M| =
  log|L|^2 + log|R_X|^2 of lme4, and the penalised residual sum of squares follows.

The gradient with respect to the variance ratios rho = theta^2 is analytic on every route:
for a global ratio, d log|M| / d rho_k = (C - C S M^-1 S C)_kk and d pwrss / d rho_k = -r_k^2
with r = c - C S sol; for a nested ratio on the complete-grid route through the derivatives of
the four eigenvalues (and of the missing-cell corrections), on the Woodbury route through
``(I + Z'Z Lambda^2)^-1``, all finite at rho = 0.  The optimiser and its optimality check are
the shared REML core's (:class:`psychometrics.numerics.reml.ProfiledDeviance`, the same as for
``mixed`` and the ICC): it works in theta with the gradient ``2 theta d/drho``; at theta_k = 0
the criterion is even and stationary, so a boundary component is accepted only after the
criterion was probed at small positive variances and interior restarts were not better.

All routes give the same criterion (tests check it) and, at lme4's theta, lme4's REMLcrit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .._blas import single_blas_thread
from ..exceptions import ModelSpecificationError
from ..numerics.reml import ProfiledDeviance, random_intercepts_core
from .._lazy import lazy_module

sla = lazy_module("scipy.linalg")
sp = lazy_module("scipy.sparse")


LOG2PI = float(np.log(2.0 * np.pi))

#: names of the six relative standard deviations, in our order
THETA_NAMES = ("id", "time", "items", "id:time", "id:items", "time:items")


@dataclass(frozen=True)
class REMLFit:
    """Result of one REML fit (internal)."""

    names: tuple[str, ...]
    theta: np.ndarray
    sigma: float
    variances: dict[str, float]
    reml_criterion: float
    intercept: float
    converged: bool
    message: str
    n_evaluations: int
    singular: bool
    path: str


class _Long:
    """Coded long-format data: patient, session, time, item codes and values."""

    def __init__(self, pid, tid, iid, y, n_pat, n_time, n_items):
        self.pid = np.asarray(pid, dtype=np.int64)
        self.tid = np.asarray(tid, dtype=np.int64)
        self.iid = np.asarray(iid, dtype=np.int64)
        self.y = np.asarray(y, dtype=float)
        self.P, self.T, self.J = int(n_pat), int(n_time), int(n_items)
        self.n = self.y.size
        # sessions = distinct (patient, time) pairs
        key = self.pid * self.T + self.tid
        self.sess_key, self.sid = np.unique(key, return_inverse=True)
        self.S = self.sess_key.size
        self.sess_pid = self.sess_key // self.T
        self.sess_tid = self.sess_key % self.T

    # global columns, laid out as a (T + 1) x (J + 1) array flattened row-wise: cell (t, j) is
    # time:items, (t, J) is time t, (T, j) is item j and (T, J) the intercept.  In this layout
    # the aggregates of the complete-grid route are Kronecker products (see _setup_fast).
    def global_index(self):
        T, J = self.T, self.J
        w = J + 1
        return dict(time=np.arange(T) * w + J, items=T * w + np.arange(J),
                    cells=(np.arange(T)[:, None] * w + np.arange(J)[None, :]).ravel(),
                    intercept=T * w + J)

    def global_design(self, tid=None, iid=None) -> sp.csr_matrix:
        """Rows of the global design [time, items, time:items, intercept] (default: the data)."""
        T, J = self.T, self.J
        tid = self.tid if tid is None else tid
        iid = self.iid if iid is None else iid
        n = tid.size
        w = J + 1
        rows = np.repeat(np.arange(n), 4)
        cols = np.column_stack([tid * w + J, T * w + iid, tid * w + iid,
                                np.full(n, T * w + J)]).ravel()
        return sp.csr_matrix((np.ones(4 * n), (rows, cols)), shape=(n, (T + 1) * w))


class _RatioCriterion(ProfiledDeviance):
    """Adapter of a closed-form REML criterion to the shared REML core.

    Subclasses implement ``criterion(theta, grad=False)`` returning ``(dev, info)`` or, with
    ``grad=True``, ``(dev, info, g)`` where ``g`` is the gradient in the variance ratios
    ``rho = theta**2``; the core's ``evaluate`` works in theta (``d/dtheta = 2 theta d/drho``)
    and supplies the optimiser and the optimality check
    (:class:`psychometrics.numerics.reml.ProfiledDeviance`). REML only.
    """

    names: tuple = ()

    def _init_core(self, n):
        self.n = int(n)
        self.tpos = [(k, k) for k in range(len(self.names))]
        self.ntheta = len(self.tpos)

    def evaluate(self, theta, reml: bool = True, grad: bool = False, **kw) -> dict:
        if not reml:
            raise ValueError("only the REML criterion is implemented for this model")
        theta = np.asarray(theta, dtype=float)
        try:
            with np.errstate(invalid="ignore", divide="ignore"):
                res = self.criterion(theta, grad=grad)
        except (np.linalg.LinAlgError, sla.LinAlgError, FloatingPointError):
            return {"dev": np.inf, "ok": False}
        dev = float(res[0])
        if not np.isfinite(dev):
            return {"dev": np.inf, "ok": False}
        out = {"dev": dev, "ok": True, **res[1]}
        if grad:
            out["grad"] = 2.0 * theta * np.asarray(res[2], dtype=float)
        return out


class CrossedREML(_RatioCriterion):
    """REML criterion (and gradient) of the crossed model for fixed data.

    Patients whose sessions all have every item once ("complete grid") are integrated out
    through Kronecker-structured aggregates; the others (missing values, repeated sessions)
    through the Woodbury identity, in groups of patients with the same time points.
    ``force_general=True`` sends every patient through the second route (used in tests to
    cross-check the two).
    """

    names = THETA_NAMES

    def __init__(self, data: _Long, force_general: bool = False):
        self.d = data
        self._init_core(data.n)
        T, J, P = data.T, data.J, data.P
        self.qB = T + J + T * J
        self.nW = self.qB + 1
        gi = data.global_index()
        self.blocks = (gi["time"], gi["items"], gi["cells"])
        self.int_idx = int(gi["intercept"])
        self.pen = np.ones(self.nW, dtype=bool)
        self.pen[self.int_idx] = False
        self.yty = float(data.y @ data.y)
        self.nu = data.n - 1
        # routes: persons with a repeated (session, item) cell -> Woodbury; the others -> grid
        # route, with their missing cells filled by pseudo-observations y = 0 that a Schur
        # complement removes again (see _missing_parts)
        cnt = np.bincount(data.sid * J + data.iid, minlength=data.S * J).reshape(data.S, J)
        dup_pat = np.bincount(data.sess_pid, weights=(cnt > 1).any(axis=1), minlength=P) > 0
        has_obs = np.bincount(data.pid, minlength=P) > 0
        # speed only (both routes are exact): a person with many missing cells k is cheaper on
        # the Woodbury route, cost ~ m (n+1)(J+1) per global column pair vs k (T+1)(J+1)
        k_miss = np.bincount(data.sess_pid, weights=(cnt == 0).sum(axis=1), minlength=P)
        n_sess = np.bincount(data.sess_pid, minlength=P)
        many = k_miss * self.nW > (1 + n_sess + J) * (n_sess + 1) * (J + 1)
        if force_general:
            gen_pat, fast_pat = has_obs, np.zeros(P, dtype=bool)
        else:
            gen_pat = has_obs & (dup_pat | many)
            fast_pat = has_obs & ~gen_pat
        obs_fast = fast_pat[data.pid]
        ms, mj = np.nonzero((cnt == 0) & fast_pat[data.sess_pid][:, None])   # missing cells
        pid_f = np.concatenate([data.pid[obs_fast], data.sess_pid[ms]])
        tid_f = np.concatenate([data.tid[obs_fast], data.sess_tid[ms]])
        iid_f = np.concatenate([data.iid[obs_fast], mj])
        sid_f = np.concatenate([data.sid[obs_fast], ms])
        y_f = np.concatenate([data.y[obs_fast], np.zeros(ms.size)])
        W_f = data.global_design(tid_f, iid_f)
        W_g = data.global_design()[np.flatnonzero(~obs_fast)]
        self.WtW = (W_f.T @ W_f).toarray() + (W_g.T @ W_g).toarray()
        self.Wty = W_f.T @ y_f + W_g.T @ data.y[~obs_fast]
        self.has_fast = bool(obs_fast.any())
        self.has_general = bool((~obs_fast).any())
        self.has_missing = bool(ms.size)
        if self.has_fast:
            self._setup_fast(W_f, pid_f, sid_f, iid_f, y_f)
            if self.has_missing:
                self._setup_missing(W_f[obs_fast.sum():].toarray(), ms, mj)
        if self.has_general:
            self._setup_general(data.global_design(), ~obs_fast)
        self.fast = not self.has_general
        self.n_general_patients = int(gen_pat.sum())
        if not self.has_general:
            self.path = "grid+missing" if self.has_missing else "complete-grid"
        else:
            self.path = "general" if not self.has_fast else "mixed"

    # ------------------------------------------------------------------ complete grid
    def _setup_fast(self, Wm, pid, sid, iid, y):
        d = self.d
        J = d.J
        n_sess = np.bincount(d.sess_pid[np.unique(sid)], minlength=d.P)   # sessions per patient
        self.m_values, pat_group = np.unique(n_sess[n_sess > 0], return_inverse=True)
        grp_of_pat = np.full(d.P, -1)
        grp_of_pat[n_sess > 0] = pat_group
        self.m_count = np.bincount(pat_group, minlength=self.m_values.size).astype(float)
        n = y.size
        # aggregation operators: session sums, (patient, item) sums, patient sums
        S_sess = sp.csr_matrix((np.ones(n), (sid, np.arange(n))), shape=(d.S, n))
        S_pi = sp.csr_matrix((np.ones(n), (pid * J + iid, np.arange(n))), shape=(d.P * J, n))
        S_p = sp.csr_matrix((np.ones(n), (pid, np.arange(n))), shape=(d.P, n))
        ys, yk, yg = S_sess @ y, S_pi @ y, S_p @ y
        G = self.m_values.size
        T = d.T
        # Kronecker factors: with u_t = e_t + e_T and a_i = (s_i, n_i) in R^(T+1) (s_i = the
        # patient's times), v = (1_J, J) and w_j = e_j + e_J in R^(J+1):
        #   session sum rho_s = u_t (x) v,  patient-item sum kappa_ij = a_i (x) w_j,
        #   patient sum gamma_i = a_i (x) v,
        # so  sum rho rho' = U_g (x) vv',  sum kappa kappa' = A_g (x) Omega,
        #     sum gamma gamma' = A_g (x) vv',  Omega = sum_j w_j w_j'.
        sess_grp = grp_of_pat[d.sess_pid]
        fast_sess = np.unique(sid)
        U = np.zeros((G, T + 1, T + 1))
        for sidx in fast_sess:
            t = d.sess_tid[sidx]
            g = sess_grp[sidx]
            U[g, t, t] += 1.0
            U[g, t, T] += 1.0
            U[g, T, t] += 1.0
            U[g, T, T] += 1.0
        A = np.zeros((G, T + 1, T + 1))
        apat = np.zeros((d.P, T + 1))
        apat[d.sess_pid[fast_sess], d.sess_tid[fast_sess]] = 1.0
        apat[:, T] = n_sess
        for g in range(G):
            ag = apat[grp_of_pat == g]
            A[g] = ag.T @ ag
        v = np.concatenate([np.ones(J), [float(J)]])
        Om = np.zeros((J + 1, J + 1))
        Om[:J, :J] = np.eye(J)
        Om[:J, J] = Om[J, :J] = 1.0
        Om[J, J] = J
        self.U, self.A, self.vv, self.Om = U, A, np.outer(v, v), Om
        # linear and constant terms (vectors: cheap to keep explicit)
        Rho = (S_sess @ Wm).toarray()
        Kap = (S_pi @ Wm).toarray()
        Gam = (S_p @ Wm).toarray()
        nW = self.nW
        qv = np.empty((3 * G, nW))
        qy = np.empty(3 * G)
        pi_grp = np.repeat(grp_of_pat, J)
        for g in range(G):
            for k, (M, vec, grp) in enumerate(((Rho, ys, sess_grp), (Kap, yk, pi_grp),
                                               (Gam, yg, grp_of_pat))):
                sel = grp == g
                qv[3 * g + k] = M[sel].T @ vec[sel]
                qy[3 * g + k] = vec[sel] @ vec[sel]
        self.qv, self.qy = qv, qy
        self._Rho, self._Kap, self._Gam = Rho, Kap, Gam
        self._ys, self._yk, self._yg = ys, yk, yg
        self.grp_of_pat = grp_of_pat

    # ------------------------------------------------------------------ missing cells
    def _setup_missing(self, Wmiss, ms, mj):
        """Missing cells of grid-route persons (filled with y = 0 in the grid aggregates).

        For a person with complete-grid covariance V and missing cells m, the observed part
        satisfies (V_oo)^-1 = [V^-1 - V^-1_(.m) G^-1 V^-1_(m.)]_oo with G = (V^-1)_mm, and that
        bracket has zero rows and columns at m.  Hence, with the complete design W and y filled
        with 0 at m: W_o'V_oo^-1 W_o = W'V^-1 W - Q'G^-1 Q with Q = (V^-1 W)_m, likewise for y,
        and log|V_oo| = log|V| + log|G|.  Rows of V^-1 W at a cell (t, j) are
        W_tj + e2 rho_t + e3 kappa_ij + e4 gamma_i (session, person-item and person sums).
        """
        d = self.d
        J = d.J
        pid = d.sess_pid[ms]
        pats, inv = np.unique(pid, return_inverse=True)
        k_per = np.bincount(inv, minlength=pats.size)
        kmax = int(k_per.max())
        Pm = pats.size
        order = np.argsort(inv, kind="stable")
        slot = np.empty(ms.size, dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(k_per)[:-1]])
        slot[order] = np.arange(ms.size) - np.repeat(start, k_per)
        cell_of = np.full((Pm, kmax), -1)
        cell_of[inv, slot] = np.arange(ms.size)
        valid = cell_of >= 0
        ci = np.where(valid, cell_of, 0)
        tt = d.sess_tid[ms][ci]
        jj = mj[ci]
        vv = valid[:, :, None] & valid[:, None, :]
        self.mis = dict(
            grp=self.grp_of_pat[pats], valid=valid, vv=vv,
            Gx=np.stack([vv & (tt[:, :, None] == tt[:, None, :]),
                         vv & (jj[:, :, None] == jj[:, None, :]), vv]).astype(float),
            # per cell and x in (e2, e3, e4): d Q / d e_x rows and d u / d e_x
            W=np.where(valid[:, :, None], Wmiss[ci], 0.0),
            D=np.stack([np.where(valid[:, :, None], M[r][ci], 0.0) for M, r in (
                (self._Rho, ms), (self._Kap, pid * J + mj), (self._Gam, pid))]),
            du=np.stack([np.where(valid, v[r][ci], 0.0) for v, r in (
                (self._ys, ms), (self._yk, pid * J + mj), (self._yg, pid))]),
            eye=np.broadcast_to(np.eye(kmax), (Pm, kmax, kmax)))

    def _missing_parts(self, E3):
        """Schur-complement corrections of the missing cells (C, c, y'V^-1y, log-det)."""
        mi = self.mis
        e = E3[mi["grp"]]                                    # (Pm, 3): e2, e3, e4 per person
        Q = mi["W"] + np.einsum("px,xpkw->pkw", e, mi["D"])
        u = np.einsum("px,xpk->pk", e, mi["du"])
        G = mi["eye"] + np.einsum("px,xpab->pab", e, mi["Gx"])
        Ginv = np.linalg.inv(G)
        ld = float(np.linalg.slogdet(G)[1].sum())
        Qu = np.concatenate([Q, u[:, :, None]], axis=2)
        Y = Ginv @ Qu
        n1 = Qu.shape[2]
        QY = Qu.reshape(-1, n1).T @ Y.reshape(-1, n1)
        return -QY[:-1, :-1], -QY[:-1, -1], -float(QY[-1, -1]), ld, (Q, u, Ginv)

    def _missing_grad(self, cache, Psi, z, nu, pwrss):
        """d dev / d(e2, e3, e4) of the corrections, per group (shape (G, 3))."""
        mi = self.mis
        Q, u, Ginv = cache
        Pm, k, nW = Q.shape
        QPsi = (Q.reshape(-1, nW) @ Psi).reshape(Pm, k, nW)
        QPQ = QPsi @ np.transpose(Q, (0, 2, 1))                      # Q Psi Q'
        r = u - Q @ z
        Gr = (Ginv @ r[:, :, None])[:, :, 0]
        GQPQG = Ginv @ QPQ @ Ginv
        out = np.zeros((self.m_values.size, 3))
        for x in range(3):
            Gx, Dx, dux = mi["Gx"][x], mi["D"][x], mi["du"][x]
            DPQ = Dx @ np.transpose(QPsi, (0, 2, 1))                  # Dx Psi Q'
            df1 = (Gx * GQPQG).sum(axis=(1, 2)) - 2.0 * (Ginv * np.transpose(DPQ, (0, 2, 1))).sum(axis=(1, 2))
            dr = dux - Dx @ z
            df2 = -(nu / pwrss) * (2.0 * (Gr * dr).sum(axis=1)
                                   - (Gr[:, :, None] * Gx * Gr[:, None, :]).sum(axis=(1, 2)))
            df3 = (Ginv * Gx).sum(axis=(1, 2))
            np.add.at(out[:, x], mi["grp"], df1 + df2 + df3)
        return out

    def _e_coefs(self, a, b, c):
        """Coefficients of V_i^-1 = I + e2 I(x)J + e3 J(x)I + e4 J(x)J per group (and d/d a,b,c)."""
        J = self.d.J
        m = self.m_values.astype(float)
        l1 = 1.0 + a * m * J + b * J + c * m
        l2 = 1.0 + c * m
        l3 = np.full_like(m, 1.0 + b * J)
        mu1, mu2, mu3 = 1.0 / l1, 1.0 / l2, 1.0 / l3
        e2 = (mu3 - 1.0) / J
        e3 = (mu2 - 1.0) / m
        e4 = (mu1 - mu2 - mu3 + 1.0) / (m * J)
        E = np.column_stack([e2, e3, e4]).ravel()
        # derivatives of mu's
        dmu1 = -mu1 ** 2 * np.array([m * J, np.full_like(m, J), m])      # d/da, d/db, d/dc
        dmu2 = -mu2 ** 2 * np.array([0 * m, 0 * m, m])
        dmu3 = -mu3 ** 2 * np.array([0 * m, np.full_like(m, J), 0 * m])
        dE = np.empty((3, E.size))
        for r in range(3):
            dE[r] = np.column_stack([dmu3[r] / J, dmu2[r] / m,
                                     (dmu1[r] - dmu2[r] - dmu3[r]) / (m * J)]).ravel()
        ld = self.m_count * (np.log(l1) + (J - 1) * np.log(l2) + (m - 1) * np.log(l3))
        dld = self.m_count * np.array([m * J / l1,
                                       J / l1 + (m - 1) * J / l3,
                                       m / l1 + (J - 1) * m / l2])
        return E, dE, float(ld.sum()), dld.sum(axis=1)

    def _fast_parts(self, theta, kron=True):
        """Complete-grid (and missing-cell) aggregates; with ``kron=False`` the Kronecker part
        ``P_vv (x) vv' + P_om (x) Omega`` of W'V^-1 W is left out (C is the missing-cell
        correction or None) and returned as its factors (last element)."""
        a, b, c = theta[0] ** 2, theta[3] ** 2, theta[4] ** 2
        E, dE, ldVA, dldVA = self._e_coefs(a, b, c)
        E3 = E.reshape(-1, 3)                      # per group: e2, e3, e4
        P_vv = np.tensordot(E3[:, 0], self.U, 1) + np.tensordot(E3[:, 2], self.A, 1)
        P_om = np.tensordot(E3[:, 1], self.A, 1)
        C = np.kron(P_vv, self.vv) + np.kron(P_om, self.Om) if kron else None
        cv = E @ self.qv
        yVy = float(E @ self.qy)
        mcache = None
        if self.has_missing:
            Cm, cvm, yVym, ldm, mcache = self._missing_parts(E3)
            C = Cm if C is None else C + Cm
            cv += cvm
            yVy += yVym
            ldVA += ldm
        return C, cv, yVy, ldVA, (E, dE, dldVA, mcache), (P_vv, P_om)

    def _fast_contract(self, X):
        """<Q_k, X> for the group matrices Q_k (ordered as E).

        Q_k = U_g (x) vv', A_g (x) Omega, A_g (x) vv' for each group g.
        """
        return self._contract_reduced(*self._reduce(X))

    def _reduce(self, X):
        """(X_vv, X_om): X of the (T+1)(J+1) layout contracted over the item index with vv'
        and Omega, ``X_K[a, b] = sum_jk X[(a, j), (b, k)] K[j, k]``."""
        T1, J1 = self.d.T + 1, self.d.J + 1
        X4 = X.reshape(T1, J1, T1, J1)
        return (np.einsum("ajbk,jk->ab", X4, self.vv), np.einsum("ajbk,jk->ab", X4, self.Om))

    def _contract_reduced(self, X_vv, X_om):
        tU = np.einsum("gab,ab->g", self.U, X_vv)
        tAom = np.einsum("gab,ab->g", self.A, X_om)
        tAvv = np.einsum("gab,ab->g", self.A, X_vv)
        return np.column_stack([tU, tAom, tAvv]).ravel()

    # ------------------------------------------------------------------ general
    def _setup_general(self, W, mask):
        """Per-group arrays for the Woodbury route.

        Patients are grouped by their set of time points: within a group every patient has the
        same local nested columns [id, sessions (in time order), items] and touches the same
        global columns (rows ``times + [T]`` of the (T+1) x (J+1) layout), so the group's
        contributions are dense batched products in local coordinates, added into the global
        system once per group.
        """
        d = self.d
        J, T = d.J, d.T
        w = J + 1
        obs = np.flatnonzero(mask)
        sess = np.unique(d.sid[obs])
        pats = np.unique(d.sess_pid[sess])
        times_of = {p: [] for p in pats}
        for sidx in sess:                      # sessions are sorted by (patient, time)
            times_of[d.sess_pid[sidx]].append(int(d.sess_tid[sidx]))
        groups: dict[tuple, list] = {}
        for p in pats:
            groups.setdefault(tuple(times_of[p]), []).append(p)
        obs_by_pat = np.split(obs[np.argsort(d.pid[obs], kind="stable")],
                              np.cumsum(np.bincount(d.pid[obs], minlength=d.P))[:-1])
        self.gen_groups = []
        for times, members in groups.items():
            n = len(times)
            m = 1 + n + J
            rows = np.array(list(times) + [T])
            glob = (rows[:, None] * w + np.arange(w)[None, :]).ravel()
            nloc = glob.size
            loc_of_glob = np.full(self.nW, -1)
            loc_of_glob[glob] = np.arange(nloc)
            sess_pos = np.full(T, -1)
            sess_pos[list(times)] = np.arange(n)
            Pg = len(members)
            ZtZ = np.zeros((Pg, m, m))
            Zty = np.zeros((Pg, m))
            ZtW = np.zeros((Pg, m, nloc))
            for q, p in enumerate(members):
                o = obs_by_pat[p]
                tt, ii, yy = d.tid[o], d.iid[o], d.y[o]
                cols = np.column_stack([np.zeros(o.size, dtype=np.int64), 1 + sess_pos[tt],
                                        1 + n + ii])
                wcols = loc_of_glob[np.column_stack([tt * w + J, T * w + ii, tt * w + ii,
                                                     np.full(o.size, T * w + J)])]
                for r in range(3):
                    np.add.at(Zty[q], cols[:, r], yy)
                    for c in range(3):
                        np.add.at(ZtZ[q], (cols[:, r], cols[:, c]), 1.0)
                    for c in range(4):
                        np.add.at(ZtW[q], (cols[:, r], wcols[:, c]), 1.0)
            kind = np.array([1] + [2] * n + [3] * J)
            # complete design of the group (every session x every item once) ...
            tt = np.repeat(np.array(times), J)
            ii = np.tile(np.arange(J), n)
            cols = np.column_stack([np.zeros(tt.size, dtype=np.int64), 1 + sess_pos[tt],
                                    1 + n + ii])
            wcols = loc_of_glob[np.column_stack([tt * w + J, T * w + ii, tt * w + ii,
                                                 np.full(tt.size, T * w + J)])]
            B = np.zeros((m, nloc))
            for r in range(3):
                for c in range(4):
                    np.add.at(B, (cols[:, r], wcols[:, c]), 1.0)
            # ... and each patient's difference from it, kept in its nonzero columns only
            # (a few per missing value), plus the Z'y column: Z'[W, y] = [B, 0] + R scattered
            Delta = ZtW - B[None]
            nz = [np.flatnonzero(np.any(Delta[q] != 0, axis=0)) for q in range(Pg)]
            smax = max((c.size for c in nz), default=0)
            ext = nloc + 2                      # local W columns, y column, dummy column
            S = np.full((Pg, smax + 1), nloc + 1, dtype=np.int64)
            R = np.zeros((Pg, m, smax + 1))
            for q, c in enumerate(nz):
                S[q, :c.size] = c
                R[q, :, :c.size] = Delta[q][:, c]
            S[:, smax] = nloc
            R[:, :, smax] = Zty
            # flat scatter targets in the ext x ext matrix for B'DR, (B'DR)' and R'DR
            kk = np.arange(nloc)
            tgt_x = (kk[None, :, None] * ext + S[:, None, :]).ravel()
            tgt_xt = (S[:, None, :] * ext + kk[None, :, None]).ravel()
            tgt_rr = (S[:, :, None] * ext + S[:, None, :]).ravel()
            self.gen_groups.append(dict(
                m=m, glob=glob, ix=np.ix_(glob, glob), ZtZ=ZtZ, Zty=Zty, B=B, R=R, S=S,
                smax=smax, nloc=nloc, ext=ext,
                tgt=np.concatenate([tgt_x, tgt_xt, tgt_rr]),
                ZtZ_diag=np.diagonal(ZtZ, axis1=1, axis2=2).copy(),
                kind_masks=[kind == 1, kind == 2, kind == 3]))

    def _general_parts(self, theta):
        """Woodbury-route contributions: C -= sum Z'W' D Z'W etc. with D = L K^-1 L.

        Per group the complete-design part is one product ``B' (sum_p D_p) B``; the patients'
        low-rank differences R_p (few columns) add ``B'D_pR_p``, its transpose and
        ``R_p'D_pR_p``, scattered with one bincount.
        """
        nW = self.nW
        C = np.zeros((nW, nW))
        cv = np.zeros(nW)
        yVy = 0.0
        ldVA = 0.0
        cache = []
        for g in self.gen_groups:
            lam = np.empty(g["m"])
            for mask, k in zip(g["kind_masks"], (0, 3, 4)):
                lam[mask] = theta[k]
            K = lam[:, None] * g["ZtZ"] * lam[None, :]
            idx = np.arange(g["m"])
            K[:, idx, idx] += 1.0
            L = np.linalg.cholesky(K)
            ldVA += 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum()
            Kinv = np.linalg.inv(K)              # K >= I: well conditioned, batched in C
            D = lam[:, None] * Kinv * lam[None, :]              # Lambda K^-1 Lambda
            B, R, nloc, ext = g["B"], g["R"], g["nloc"], g["ext"]
            DR = D @ R                                          # (P, m, s+1)
            X = B.T @ DR                                        # B' D R  (P, nloc, s+1)
            RDR = np.transpose(R, (0, 2, 1)) @ DR               # (P, s+1, s+1)
            corr = np.bincount(g["tgt"], weights=np.concatenate([X.ravel(), X.ravel(), RDR.ravel()]),
                               minlength=ext * ext).reshape(ext, ext)
            BDB = B.T @ (D.sum(axis=0) @ B)
            C[g["ix"]] -= BDB + corr[:nloc, :nloc]
            cv[g["glob"]] -= corr[:nloc, nloc]
            yVy -= float(corr[nloc, nloc])
            cache.append((lam, Kinv, D))
        return C, cv, yVy, ldVA, cache

    def _general_grad(self, cache, Psi, z, nu, pwrss):
        """d dev / d(a, b, c) from the Woodbury-route patients (stable at a, b, c = 0).

        With F = I - Z'Z L K^-1 L, Yhat = F Z'W = (I + Z'Z Lambda^2)^-1 Z'W and yhat = F Z'y,
        the contributions of term k (its local columns j) are: d log|K| = sum_j (Z'Z - Z'Z L
        K^-1 L Z'Z)_jj, dC = -Yhat_k' Yhat_k, dc = -Yhat_k' yhat_k, d y'V^-1 y = -|yhat_k|^2;
        contracted with Psi and z they need diag(F (Z'W Psi W'Z) F') and F (Z'y - Z'W z).
        """
        out = np.zeros(3)
        for g, (lam, Kinv, D) in zip(self.gen_groups, cache):
            m, nloc, smax = g["m"], g["nloc"], g["smax"]
            ZtZ, B, R, S = g["ZtZ"], g["B"], g["R"], g["S"]
            F = np.eye(m)[None] - ZtZ @ D
            A = lam[None, :, None] * ZtZ                       # Lambda Z'Z
            H2 = ((Kinv @ A) * A).sum(axis=1)                  # diag(Z'Z L K^-1 L Z'Z)
            dld = g["ZtZ_diag"] - H2
            # Xi = Z'W Psi W'Z with Z'W = B + Rw (Rw: the difference columns S[:, :smax])
            Psi_loc = Psi[g["ix"]]
            Psi_ext = np.zeros((nloc + 2, nloc + 2))
            Psi_ext[:nloc, :nloc] = Psi_loc
            PsiB = Psi_ext[:, :nloc] @ B.T                      # (ext, m); y/dummy rows 0
            Sw = S[:, :smax]
            Rw = R[:, :, :smax]
            XiB = B @ PsiB[:nloc]                               # B Psi B'  (m, m)
            RPB = Rw @ PsiB[Sw]                                 # Rw Psi B' (P, m, m)
            PsiSS = Psi_ext[Sw[:, :, None], Sw[:, None, :]]     # (P, s, s)
            RPR = Rw @ PsiSS @ np.transpose(Rw, (0, 2, 1))
            Xi = XiB[None] + RPB + np.transpose(RPB, (0, 2, 1)) + RPR
            quad = ((F @ Xi) * F).sum(axis=2)                   # diag(F Xi F')
            z_ext = np.zeros(nloc + 2)
            z_ext[:nloc] = z[g["glob"]]
            wz = (B @ z_ext[:nloc])[None] + (Rw @ z_ext[Sw][:, :, None])[:, :, 0]
            r = (F @ (g["Zty"] - wz)[:, :, None])[:, :, 0]
            per = dld - quad - (nu / pwrss) * r ** 2
            out += np.array([per[:, mk].sum() for mk in g["kind_masks"]])
        return out

    # ------------------------------------------------------------------ criterion
    def _scale(self, theta):
        s = np.ones(self.nW)
        for k, blk in zip((1, 2, 5), self.blocks):
            s[blk] = theta[k]
        return s

    def aggregate(self, theta, kron=True):
        """Aggregates over this object's persons, nested effects integrated out, at theta
        (THETA_NAMES order): ``W'V^-1 W``, ``W'V^-1 y``, ``y'V^-1 y``, ``log|V|`` (V in sigma^2
        units, W the global design) and a cache for :meth:`nested_grad`.

        With ``kron=False`` the returned C leaves out ``W'W`` and the complete-grid Kronecker
        part (it may be None), whose factors are then the cache's last element."""
        C = self.WtW.copy() if kron else None
        cv = self.Wty.copy()
        yVy = self.yty
        ldVA = 0.0
        fast_extra = gen_cache = factors = None
        if self.has_fast:
            Cf, cvf, yVyf, ldf, fast_extra, factors = self._fast_parts(theta, kron=kron)
            if Cf is not None:
                C = Cf if C is None else C + Cf
            cv += cvf
            yVy += yVyf
            ldVA += ldf
        if self.has_general:
            Cg, cvg, yVyg, ldg, gen_cache = self._general_parts(theta)
            C = Cg if C is None else C + Cg
            cv += cvg
            yVy += yVyg
            ldVA += ldg
        return C, cv, yVy, ldVA, (fast_extra, gen_cache, factors)

    @property
    def needs_psi(self):
        """Whether :meth:`nested_grad` needs Psi itself (not only its reductions)."""
        return self.has_general or (self.has_fast and self.has_missing)

    def nested_grad(self, cache, Psi, z, nu, pwrss, reduced=None):
        """d dev / d(rho_id, rho_id:time, rho_id:items) of this object's persons, given
        ``Psi = S M^-1 S`` and ``z = S M^-1 S c`` over the global columns (as seen by them).
        ``reduced``: optionally ``(_reduce(Psi), _reduce(z z'))`` precomputed (then Psi is
        only used when :attr:`needs_psi`)."""
        fast_extra, gen_cache, _ = cache
        out = np.zeros(3)
        if self.has_fast:
            E, dE, dldVA, mcache = fast_extra
            if reduced is None:
                tau = self._fast_contract(Psi)
                zQz = self._fast_contract(np.outer(z, z))
            else:
                tau = self._contract_reduced(*reduced[0])
                zQz = self._contract_reduced(*reduced[1])
            gk = tau + (nu / pwrss) * (self.qy - 2.0 * (self.qv @ z) + zQz)
            if mcache is not None:
                gk = gk + self._missing_grad(mcache, Psi, z, nu, pwrss).ravel()
            out += dE @ gk + dldVA                 # d dev / d(a, b, c)
        if self.has_general:
            out += self._general_grad(gen_cache, Psi, z, nu, pwrss)
        return out

    def criterion(self, theta, grad=False):
        """REML criterion at theta (length 6, THETA_NAMES order).

        With ``grad=True`` also returns the analytic gradient with respect to the variance
        ratios ``rho = theta**2``.
        """
        theta = np.abs(np.asarray(theta, dtype=float))
        C, cv, yVy, ldVA, cache = self.aggregate(theta)
        s = self._scale(theta)
        blocks = list(zip((1, 2, 5), self.blocks))
        return _global_solve(C, cv, yVy, ldVA, s, self.pen, self.int_idx, self.nu, theta,
                             blocks, grad, lambda Psi, z, pwrss: (
                                 [0, 3, 4], self.nested_grad(cache, Psi, z, self.nu, pwrss)))


def _global_solve(C, cv, yVy, ldVA, s, pen, int_idx, nu, theta, blocks, grad, nested):
    """REML criterion from the global aggregates (and its gradient in rho = theta**2).

    ``M = S C S + diag(pen)`` is factored by a dense Cholesky. ``blocks``: (theta index,
    global columns) of the penalised global terms; ``nested(Psi, z, pwrss)`` returns (theta
    indices, d dev / d rho) of the nested terms.
    """
    M = s[:, None] * C * s[None, :]
    M[pen, pen] += 1.0
    rhs = s * cv
    cf = sla.cho_factor(M, lower=True, check_finite=False)
    sol = sla.cho_solve(cf, rhs, check_finite=False)
    ldM = 2.0 * np.log(np.diag(cf[0])).sum()
    pwrss = yVy - rhs @ sol
    dev = ldVA + ldM + nu * (1.0 + LOG2PI + np.log(pwrss / nu))
    info = dict(pwrss=pwrss, beta=sol[int_idx], sigma2=pwrss / nu)
    if not grad:
        return dev, info
    nW = C.shape[0]
    Minv, info_ = sla.lapack.dpotri(cf[0], lower=1)
    if info_ != 0:  # pragma: no cover - M is positive definite by construction
        Minv = sla.cho_solve(cf, np.eye(nW), check_finite=False)
    else:
        Minv = np.tril(Minv) + np.tril(Minv, -1).T
    out = np.zeros(theta.size)
    z = s * sol
    Psi = Minv * np.outer(s, s)
    idx, gn = nested(Psi, z, pwrss)
    out[idx] += gn
    # global ratios: d log|M| / d rho_k = (C - C S M^-1 S C)_kk,  d pwrss / d rho_k = -r_k^2
    # Since (S Gamma S)_kk = 1 - (M^-1)_kk for a penalised k, Gamma_kk = (1 - M^-1_kk)/rho_k
    # is exact and cheap while rho_k (C_kk) is not tiny; otherwise (near the boundary) the
    # explicit form, restricted to the columns with s != 0.
    CS = C * s[None, :]
    r = cv - CS @ sol
    dC = np.diag(C)
    dMinv = np.diag(Minv)
    nz = np.flatnonzero(s)
    for k, blk in blocks:
        rho_k = theta[k] ** 2
        if rho_k * dC[blk].max(initial=0.0) > 1e-3 and rho_k > 0:
            gam = (1.0 - dMinv[blk]) / rho_k
        else:
            CSb = CS[np.ix_(blk, nz)]
            gam = dC[blk] - ((CSb @ Minv[np.ix_(nz, nz)]) * CSb).sum(axis=1)
        out[k] += (gam - (nu / pwrss) * r[blk] ** 2).sum()
    return dev, info, out


def fit_crossed(data: _Long, *, singular_tol: float = 1e-4, force_general: bool = False,
                theta0=None) -> REMLFit:
    """Fit the crossed model by REML (lme4's criterion); see :func:`_fit_crossed`."""
    with single_blas_thread():
        return _fit_crossed(data, singular_tol=singular_tol, force_general=force_general,
                            theta0=theta0)


def _fit_crossed(data: _Long, *, singular_tol: float, force_general: bool,
                 theta0) -> REMLFit:
    """Fit the crossed model by REML (lme4's criterion), returning variance components.

    The shared REML core (:meth:`~psychometrics.numerics.reml.ProfiledDeviance.optimize`)
    minimises the criterion over theta with the analytic gradient and runs its optimality
    check; ``converged`` means the check passed.
    """
    crit = CrossedREML(data, force_general=force_general)
    theta, fit = crit.optimize(reml=True, start=theta0)
    nfev, message, converged = fit["nfev"], fit["message"], bool(fit["converged"])
    dev, info = crit.criterion(theta)
    sigma2 = info["sigma2"]
    var = {nm: float(sigma2 * t ** 2) for nm, t in zip(THETA_NAMES, theta)}
    var["residual"] = float(sigma2)
    return REMLFit(names=THETA_NAMES, theta=theta, sigma=float(np.sqrt(sigma2)), variances=var,
                   reml_criterion=float(dev), intercept=float(info["beta"]),
                   converged=converged, message=message, n_evaluations=int(nfev),
                   singular=bool(np.any(theta < singular_tol)), path=crit.path)


# ---------------------------------------------------------------------- nested model
NESTED_NAMES = ("id", "id:time")


class NestedREML(_RatioCriterion):
    """REML criterion of ``values ~ 1 + (1 | id/time)`` from session sufficient statistics.

    With ``a = theta_id^2`` and ``b = theta_(id:time)^2``, patient i's covariance (in sigma^2
    units) is ``I + a J + b blockdiag(J_k)``; with ``W_s = (I + b J_k)^-1`` the inverse is
    ``W - a W11'W / (1 + a 1'W1)`` (Woodbury), so everything reduces to session counts k_s,
    session sums S_s and the total sum of squares.
    """

    names = NESTED_NAMES

    def __init__(self, data: _Long):
        d = data
        self._init_core(d.n)
        self.k = np.bincount(d.sid, minlength=d.S).astype(float)
        self.Ssum = np.bincount(d.sid, weights=d.y, minlength=d.S)
        self.sess_pid = d.sess_pid
        self.P = d.P
        self.yty = float(d.y @ d.y)
        self.nu = d.n - 1

    def criterion(self, theta, grad=False):
        """REML criterion at theta = (theta_id, theta_id:time); gradient in rho = theta**2."""
        a, b = float(theta[0]) ** 2, float(theta[1]) ** 2
        P, k, S, pid = self.P, self.k, self.Ssum, self.sess_pid
        den = 1.0 + b * k
        w = np.bincount(pid, weights=k / den, minlength=P)
        u = np.bincount(pid, weights=S / den, minlength=P)
        q = 1.0 + a * w
        ld = np.log(den).sum() + np.log(q).sum()
        xvx = (w / q).sum()
        xvy = (u / q).sum()
        yvy = self.yty - b * (S ** 2 / den).sum() - a * (u ** 2 / q).sum()
        pwrss = yvy - xvy ** 2 / xvx
        nu = self.nu
        dev = ld + np.log(xvx) + nu * (1.0 + LOG2PI + np.log(pwrss / nu))
        info = dict(pwrss=pwrss, beta=xvy / xvx, sigma2=pwrss / nu)
        if not grad:
            return dev, info
        q2 = q ** 2
        # d / da
        dld_a = (w / q).sum()
        dxvx_a = -(w ** 2 / q2).sum()
        dxvy_a = -(u * w / q2).sum()
        dyvy_a = -(u ** 2 / q2).sum()
        # d / db
        dw = -np.bincount(pid, weights=k ** 2 / den ** 2, minlength=P)
        du = -np.bincount(pid, weights=k * S / den ** 2, minlength=P)
        dld_b = (k / den).sum() + (a * dw / q).sum()
        dxvx_b = (dw / q2).sum()
        dxvy_b = ((du * q - u * a * dw) / q2).sum()
        dyvy_b = -(S ** 2 / den ** 2).sum() - a * ((2 * u * du * q - a * u ** 2 * dw) / q2).sum()
        g = np.empty(2)
        for j, (dld, dxx, dxy, dyy) in enumerate(((dld_a, dxvx_a, dxvy_a, dyvy_a),
                                                  (dld_b, dxvx_b, dxvy_b, dyvy_b))):
            dpw = dyy - 2 * xvy * dxy / xvx + xvy ** 2 * dxx / xvx ** 2
            g[j] = dld + dxx / xvx + nu * dpw / pwrss
        return dev, info, g


def fit_nested(data: _Long, *, singular_tol: float = 1e-4) -> REMLFit:
    """Fit ``values ~ 1 + (1 | id/time)`` by REML (equal to nlme's lme and lme4's lmer)."""
    with single_blas_thread():
        return _fit_nested(data, singular_tol=singular_tol)


def _fit_nested(data: _Long, *, singular_tol: float) -> REMLFit:
    crit = NestedREML(data)
    theta, fit = crit.optimize(reml=True)
    nfev, message, converged = fit["nfev"], fit["message"], bool(fit["converged"])
    dev, info = crit.criterion(theta)
    sigma2 = info["sigma2"]
    var = {nm: float(sigma2 * t ** 2) for nm, t in zip(NESTED_NAMES, theta)}
    var["residual"] = float(sigma2)
    return REMLFit(names=NESTED_NAMES, theta=theta, sigma=float(np.sqrt(sigma2)), variances=var,
                   reml_criterion=float(dev), intercept=float(info["beta"]),
                   converged=converged, message=message, n_evaluations=int(nfev),
                   singular=bool(np.any(theta < singular_tol)), path="nested")


# ---------------------------------------------------------------------- therapist level
#: names of the relative standard deviations with a cluster (therapist) level above the person
CLUSTER_THETA_NAMES = ("cluster", "cluster:items", "id", "time", "items", "id:time", "id:items",
                       "time:items")
#: the nested model with a cluster level: values ~ 1 + (1 | cluster) + (1 | id) + (1 | id:time)
CLUSTER_NESTED_NAMES = ("cluster", "id", "id:time")


class CrossedClusterREML(_RatioCriterion):
    """REML criterion (and gradient) of the crossed model with patients nested in clusters.

    ``values ~ 1 + (1|cluster) + (1|cluster:items) + (1|id) + (1|time) + (1|items)
    + (1|id:time) + (1|id:items) + (1|time:items)``, theta in ``CLUSTER_THETA_NAMES`` order.

    The cluster terms are further *global* columns: a patient's columns of its own cluster
    c (cluster intercept and cluster x item) are exactly the row ``T`` ("items + intercept")
    of the (T + 1) x (J + 1) layout of :class:`CrossedREML`, placed in cluster c's block. So
    the nested effects are integrated out as without clusters, one :class:`CrossedREML` per
    cluster (its patients only), and cluster c's aggregate ``W'V^-1 W`` enters the global
    system through ``H_c' (W'V^-1 W) H_c`` with ``H_c = [I, P_T]`` (``P_T`` maps row ``T``
    into the cluster's block): the global block as without clusters, the cluster's (J + 1)
    square block and the cross block are sub-blocks of the aggregate. The global system,
    (T + 1)(J + 1) + C (J + 1) square, is block arrowhead (the clusters' blocks do not touch
    each other): it is solved through the Schur complement on the (T + 1)(J + 1) global
    columns, so its cost grows only linearly with the number of clusters. The gradient of a
    nested ratio is each cluster's, contracted with ``H_c Psi H_c'`` and ``H_c z`` (reduced
    over the item index as in ``CrossedREML._reduce``: only row and column T differ from the
    global reduction); a global or cluster ratio's as in :class:`CrossedREML`.

    ``cluster_of_patient``: integer cluster code per patient code (patients nested in
    clusters). Criterion and gradient equal the general evaluator's
    (:func:`psychometrics.numerics.reml.random_intercepts_core`; tests check it).
    """

    names = CLUSTER_THETA_NAMES

    #: below this rho_k C_kk a global ratio's d log|M| uses the explicit form (see CrossedREML)
    EXPLICIT_BELOW = 1e-3

    def __init__(self, data: _Long, cluster_of_patient, force_general: bool = False):
        d = data
        self.d = d
        self._init_core(d.n)
        T, J = d.T, d.J
        w = J + 1
        self.nW = nW = (T + 1) * w
        cop = np.asarray(cluster_of_patient, dtype=np.int64)
        obs_cl = cop[d.pid]
        clusters = np.unique(obs_cl)
        self.n_clusters = nC = clusters.size
        self.N = nW + nC * w
        self.rowT = T * w + np.arange(w)
        self.subs = []
        for c, cl in enumerate(clusters):
            o = np.flatnonzero(obs_cl == cl)
            _, pid = np.unique(d.pid[o], return_inverse=True)
            sub = _Long(pid, d.tid[o], d.iid[o], d.y[o], int(pid.max()) + 1, T, J)
            self.subs.append(CrossedREML(sub, force_general=force_general))
        gi = d.global_index()
        cols = nW + (np.arange(nC)[:, None] * w + np.arange(w)[None, :])
        self.blocks = [(0, cols[:, J]), (1, cols[:, :J].ravel()), (3, gi["time"]),
                       (4, gi["items"]), (7, gi["cells"])]
        self.int_idx = int(gi["intercept"])
        self.pen = np.ones(self.N, dtype=bool)
        self.pen[self.int_idx] = False
        self.pen_g = self.pen[:nW]
        self.gblocks = [(3, gi["time"]), (4, gi["items"]), (7, gi["cells"])]
        self.WtW_sum = sum(sub.WtW for sub in self.subs)
        v = np.concatenate([np.ones(J), [float(J)]])
        self.vv = np.outer(v, v)
        self.Om = np.zeros((w, w))
        self.Om[:J, :J] = np.eye(J)
        self.Om[:J, J] = self.Om[J, :J] = 1.0
        self.Om[J, J] = J
        self.WtW_rows = np.stack([sub.WtW[self.rowT] for sub in self.subs])
        self.nu = d.n - 1
        paths = {sub.path for sub in self.subs}
        self.path = "cluster: " + ("/".join(sorted(paths)))

    def _scale(self, theta):
        s = np.empty(self.N)
        s[:self.nW] = self.subs[0]._scale(theta[2:])
        for k, blk in self.blocks[:2]:
            s[blk] = theta[k]
        return s

    def criterion(self, theta, grad=False):
        """REML criterion at theta (CLUSTER_THETA_NAMES order); with ``grad=True`` also the
        gradient in ``rho = theta**2``.

        The global system ``M = [[A, B], [B', D]]`` (A: the (T+1)(J+1) global columns, D
        block diagonal over the clusters, all of whose columns are penalised so D >= I) is
        solved through the Schur complement ``A - B D^-1 B'``.
        """
        theta = np.abs(np.asarray(theta, dtype=float))
        ts = theta[2:]                                  # the CrossedREML (THETA_NAMES) part
        nW, nC, T = self.nW, self.n_clusters, self.d.T
        w = self.d.J + 1
        r0 = nW - w                                     # row T of the layout: r0 .. nW - 1
        vv, Om = self.vv, self.Om
        Cg = self.WtW_sum.copy()                        # C_gg = sum_c W_c'V_c^-1 W_c
        Crow = self.WtW_rows.copy()                     # C_cg = rows r0: of cluster c's
        cvg = np.zeros(nW)
        cvc = np.empty((nC, w))
        Pvv = np.zeros((T + 1, T + 1))
        Pom = np.zeros((T + 1, T + 1))
        rvv = np.zeros((nC, T + 1))                     # row T of each cluster's P_vv, P_om
        rom = np.zeros((nC, T + 1))
        yVy = ldVA = 0.0
        caches = []
        for c, sub in enumerate(self.subs):
            Cx, cv, yc, lc, cache = sub.aggregate(ts, kron=False)
            fac = cache[2]
            if fac is not None:
                Pvv += fac[0]
                Pom += fac[1]
                rvv[c] = fac[0][T]
                rom[c] = fac[1][T]
            if Cx is not None:
                Cg += Cx
                Crow[c] += Cx[r0:]
            cvg += cv
            cvc[c] = cv[r0:]
            yVy += yc
            ldVA += lc
            caches.append(cache)
        Cg += np.kron(Pvv, vv) + np.kron(Pom, Om)
        # rows T of the clusters' Kronecker parts: [j, (a, k)] = P[T, a] K[j, k]
        Crow += (rvv[:, None, :, None] * vv[None, :, None, :]
                 + rom[:, None, :, None] * Om[None, :, None, :]).reshape(nC, w, nW)
        s = self._scale(theta)
        sg, sc = s[:nW], s[nW:nW + w]                   # sc: the same in every cluster
        A = sg[:, None] * Cg * sg[None, :]
        A[self.pen_g, self.pen_g] += 1.0
        Bt = Crow * sc[None, :, None] * sg[None, None, :]          # B_c' (C, w, nW)
        Dc = Crow[:, :, r0:]                                         # C_cc (C, w, w)
        D = Dc * sc[None, :, None] * sc[None, None, :]
        D[:, np.arange(w), np.arange(w)] += 1.0
        Dinv = np.linalg.inv(D)
        ldD = float(np.linalg.slogdet(D)[1].sum())
        Et = Dinv @ Bt                                               # D^-1 B'
        Bf, Ef = Bt.reshape(-1, nW), Et.reshape(-1, nW)
        Sg = A - Bf.T @ Ef
        cf = sla.cho_factor(Sg, lower=True, check_finite=False)
        rg, rc = sg * cvg, sc[None, :] * cvc
        sol_g = sla.cho_solve(cf, rg - Ef.T @ rc.ravel(), check_finite=False)
        sol_c = (Dinv @ rc[:, :, None])[:, :, 0] - Et @ sol_g
        ldM = ldD + 2.0 * np.log(np.diag(cf[0])).sum()
        pwrss = yVy - rg @ sol_g - (rc * sol_c).sum()
        nu = self.nu
        dev = ldVA + ldM + nu * (1.0 + LOG2PI + np.log(pwrss / nu))
        info = dict(pwrss=pwrss, beta=sol_g[self.int_idx], sigma2=pwrss / nu)
        if not grad:
            return dev, info
        Sinv, info_ = sla.lapack.dpotri(cf[0], lower=1)
        if info_ != 0:  # pragma: no cover - positive definite by construction
            Sinv = sla.cho_solve(cf, np.eye(nW), check_finite=False)
        else:
            Sinv = np.tril(Sinv) + np.tril(Sinv, -1).T
        Mcg = -(Et @ Sinv)                                           # (M^-1)_cg  (C, w, nW)
        Mcc = Dinv - Mcg @ np.transpose(Et, (0, 2, 1))               # (M^-1)_cc  (C, w, w)
        zg, zc = sg * sol_g, sc[None, :] * sol_c
        Psi_g = Sinv * np.outer(sg, sg)
        Psi_cg = Mcg * sc[None, :, None] * sg[None, None, :]
        Psi_cc = Mcc * sc[None, :, None] * sc[None, None, :]
        out = np.zeros(8)
        # nested ratios: each cluster sees Psi_c = H_c Psi H_c' and z_c = H_c z; their
        # reductions over the item index are the global one plus row/column T terms
        T1 = T + 1
        P4 = Psi_g.reshape(T1, w, T1, w)
        red0 = [np.einsum("ajbk,jk->ab", P4, K) for K in (vv, Om)]
        PcgK = [np.einsum("cjbk,jk->cb", Psi_cg.reshape(nC, w, T1, w), K) for K in (vv, Om)]
        PccK = [np.einsum("cjk,jk->c", Psi_cc, K) for K in (vv, Om)]
        z4 = zg.reshape(T1, w)
        g = np.zeros(3)
        for c, (sub, cache) in enumerate(zip(self.subs, caches)):
            redP = []
            for k in range(2):
                X = red0[k].copy()
                X[T, :] += PcgK[k][c]
                X[:, T] += PcgK[k][c]
                X[T, T] += PccK[k][c]
                redP.append(X)
            z4c = z4.copy()
            z4c[T] += zc[c]
            redz = [z4c @ K @ z4c.T for K in (vv, Om)]
            Pc = zcf = None
            if sub.needs_psi:
                Pc = Psi_g.copy()
                Pc[r0:, :] += Psi_cg[c]
                Pc[:, r0:] += Psi_cg[c].T
                Pc[r0:, r0:] += Psi_cc[c]
            zcf = z4c.ravel()
            g += sub.nested_grad(cache, Pc, zcf, nu, pwrss, reduced=(redP, redz))
        out[[2, 5, 6]] = g
        # global ratios: d log|M| / d rho_k = (C - C S M^-1 S C)_kk,  d pwrss / d rho_k = -r_k^2
        # (see CrossedREML); r = c - C S sol by blocks
        ug, uc = sg * sol_g, sc[None, :] * sol_c
        r_g = cvg - Cg @ ug - np.einsum("cjg,cj->g", Crow, uc)
        r_c = cvc - Crow @ ug - (Dc @ uc[:, :, None])[:, :, 0]
        dC_g = np.diag(Cg)
        dC_c = np.diagonal(Dc, axis1=1, axis2=2)
        dM_g = np.diag(Sinv)
        dM_c = np.diagonal(Mcc, axis1=1, axis2=2)
        for k, sel in self.gblocks:                      # global terms (columns sel)
            rho_k = theta[k] ** 2
            if rho_k * dC_g[sel].max(initial=0.0) > self.EXPLICIT_BELOW and rho_k > 0:
                gam = (1.0 - dM_g[sel]) / rho_k
            else:
                # rows of C S for these columns; their M^-1 quadratic form via the Schur route
                Vg = Cg[sel] * sg[None, :]
                Vc = np.transpose(Crow[:, :, sel], (2, 0, 1)) * sc[None, None, :]
                gam = dC_g[sel] - self._quad(Vg, Vc, Sinv, Et, Dinv)
            out[k] = (gam - (nu / pwrss) * r_g[sel] ** 2).sum()
        for k, sel in ((0, [w - 1]), (1, list(range(w - 1)))):    # cluster terms
            rho_k = theta[k] ** 2
            if rho_k * dC_c[:, sel].max(initial=0.0) > self.EXPLICIT_BELOW and rho_k > 0:
                gam = (1.0 - dM_c[:, sel]) / rho_k
            else:
                # rows of C S for cluster c's columns: [C_cg S_g, C_cc S_c] (only block c),
                # v'M^-1 v = vc'D_c^-1 vc + (vg - B_c D_c^-1 vc)' S^-1 (same), all clusters at once
                Vc = Dc[:, sel, :] * sc[None, None, :]                  # (C, m, w)
                Ev = Crow[:, sel, :] * sg[None, None, :] - Vc @ Et      # (C, m, nW)
                quad = ((Ev @ Sinv) * Ev).sum(axis=2) + ((Vc @ Dinv) * Vc).sum(axis=2)
                gam = dC_c[:, sel] - quad
            out[k] = (gam - (nu / pwrss) * r_c[:, sel] ** 2).sum()
        return dev, info, out

    @staticmethod
    def _quad(Vg, Vc, Sinv, Et, Dinv):
        """diag(V M^-1 V') for rows V = [Vg, Vc] (Vc: (m, C, w)) through the Schur complement:
        v'M^-1 v = vc'D^-1 vc + (vg - B D^-1 vc)' S^-1 (vg - B D^-1 vc)."""
        m, nC, w = Vc.shape
        Ev = Vg - Vc.reshape(m, nC * w) @ Et.reshape(nC * w, -1)
        Vt = np.transpose(Vc, (1, 0, 2))                          # (C, m, w)
        return ((Ev @ Sinv) * Ev).sum(axis=1) + ((Vt @ Dinv) * Vt).sum(axis=(0, 2))


def _fit_ratio(crit: _RatioCriterion, names, *, singular_tol: float) -> REMLFit:
    """Optimise a closed-form criterion with the shared REML core; variance components."""
    theta, fit = crit.optimize(reml=True)
    dev, info = crit.criterion(theta)
    sigma2 = info["sigma2"]
    var = {nm: float(sigma2 * t ** 2) for nm, t in zip(names, theta)}
    var["residual"] = float(sigma2)
    converged = bool(fit["converged"])
    return REMLFit(names=tuple(names), theta=theta, sigma=float(np.sqrt(sigma2)), variances=var,
                   reml_criterion=float(dev), intercept=float(info["beta"]),
                   converged=converged, message="" if converged else str(fit["message"]),
                   n_evaluations=int(fit["nfev"]),
                   singular=bool(np.any(theta < singular_tol)), path=crit.path)


def _fit_intercepts(data: _Long, codes: dict, names, *, singular_tol: float,
                    path: str) -> REMLFit:
    """REML fit of ``values ~ 1 + sum_g (1 | g)`` (one random intercept per entry of ``codes``,
    integer codes per observation) by the shared REML core's general evaluator
    (:func:`psychometrics.numerics.reml.random_intercepts_core`); ``names`` gives the order of
    the reported theta. The factor with the most levels is the core's first term (its block of
    ``A`` is diagonal and is eliminated first)."""
    order = sorted(names, key=lambda k: -int(codes[k].max(initial=0)) - 1)
    y = data.y
    with single_blas_thread():
        core = random_intercepts_core(y, np.ones((y.size, 1)), [codes[k] for k in order])
        theta_o, fit = core.optimize(reml=True)
        ev = core.evaluate(theta_o, True)
    by_name = dict(zip(order, np.where(theta_o < 1e-9, 0.0, theta_o)))
    theta = np.array([by_name[k] for k in names])
    sigma2 = float(ev["pwrss"]) / (y.size - 1)
    var = {nm: float(sigma2 * t ** 2) for nm, t in zip(names, theta)}
    var["residual"] = sigma2
    return REMLFit(names=tuple(names), theta=theta, sigma=float(np.sqrt(sigma2)), variances=var,
                   reml_criterion=float(ev["dev"]), intercept=float(ev["beta"][0]),
                   converged=bool(fit["converged"]),
                   message=str(fit["message"]) if not fit["converged"] else "",
                   n_evaluations=int(fit["nfev"]),
                   singular=bool(np.any(theta < singular_tol)), path=path)


def fit_crossed_cluster(data: _Long, cluster, *, singular_tol: float = 1e-4) -> REMLFit:
    """REML fit of the crossed model with patients nested in clusters (therapists)::

        values ~ 1 + (1|cluster) + (1|cluster:items) + (1|id) + (1|time) + (1|items)
                 + (1|id:time) + (1|id:items) + (1|items:time)

    ``cluster``: integer cluster code per observation (patient ids unique across clusters, so
    ``(1|id)`` is the patient within the cluster). Fitted by the closed-form evaluator
    :class:`CrossedClusterREML`."""
    cl = np.asarray(cluster, dtype=np.int64)
    cop = np.full(data.P, -1, dtype=np.int64)
    cop[data.pid] = cl
    if not np.array_equal(cop[data.pid], cl):
        # multilevel_reliability refuses such data first, naming the ids
        raise ModelSpecificationError("fit_crossed_cluster needs patients nested in clusters "
                                      "(one cluster code per patient).")
    with single_blas_thread():
        return _fit_ratio(CrossedClusterREML(data, cop), CLUSTER_THETA_NAMES,
                          singular_tol=singular_tol)


def fit_nested_cluster(data: _Long, cluster, *, singular_tol: float = 1e-4) -> REMLFit:
    """REML fit of ``values ~ 1 + (1 | cluster) + (1 | id) + (1 | id:time)`` (sessions within
    patients within clusters; ``lmer(values ~ 1 + (1 | cluster/id/time))`` with unique ids)."""
    cl = np.asarray(cluster, dtype=np.int64)
    codes = {"cluster": cl, "id": data.pid, "id:time": data.pid * data.T + data.tid}
    return _fit_intercepts(data, codes, CLUSTER_NESTED_NAMES, singular_tol=singular_tol,
                           path="cluster nested (general evaluator)")
