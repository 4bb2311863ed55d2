"""R's ``optimize`` (Brent's ``fmin``, R's ``Brent_fmin``) vectorised over problems, and
R's ``uniroot`` (Brent's ``zeroin``, ``R_zeroin2``).

``psych::polychoric`` finds each correlation with
``optimize(polyF, interval = c(-1, 1))`` and R's default tolerance
``.Machine$double.eps^0.25``, i.e. it stops ~1e-4 from the exact minimum. To
reproduce R's *numbers* (not just the minimiser to 1e-4) we run the very same
sequence of golden-section and parabolic steps. Many independent problems (one
per item pair) advance in lock step, so each objective evaluation is one
vectorised call.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["brent_fmin", "uniroot", "R_OPTIMIZE_TOL", "R_UNIROOT_TOL"]

R_OPTIMIZE_TOL = np.finfo(float).eps ** 0.25
R_UNIROOT_TOL = np.finfo(float).eps ** 0.25
_C = (3.0 - np.sqrt(5.0)) * 0.5
_EPS = np.sqrt(np.finfo(float).eps)


def brent_fmin(f: Callable[[np.ndarray, np.ndarray], np.ndarray], lower: np.ndarray,
               upper: np.ndarray, tol: float = R_OPTIMIZE_TOL, max_iter: int = 1000
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise many univariate functions at once, step for step as R's ``optimize``.

    Parameters
    ----------
    f : callable
        ``f(x, active)`` returns the objective values at ``x`` for the problems
        whose indices are ``active`` (an integer array).
    lower, upper : numpy.ndarray
        Interval ends, one per problem.
    tol : float
        R's ``tol`` argument.

    Returns
    -------
    x, fx, n_eval : numpy.ndarray
        Minimiser as R returns it (``$minimum``), the objective there and the
        number of function evaluations, per problem.
    """
    a = np.asarray(lower, float).copy()
    b = np.asarray(upper, float).copy()
    n = a.shape[0]
    v = a + _C * (b - a)
    w = v.copy()
    x = v.copy()
    d = np.zeros(n)
    e = np.zeros(n)
    allidx = np.arange(n)
    fx = np.asarray(f(x, allidx), float).copy()
    fv = fx.copy()
    fw = fx.copy()
    tol3 = tol / 3.0
    n_eval = np.ones(n, dtype=int)
    active = np.ones(n, dtype=bool)
    for _ in range(max_iter):
        xm = (a + b) * 0.5
        tol1 = _EPS * np.abs(x) + tol3
        t2 = tol1 * 2.0
        done = np.abs(x - xm) <= t2 - (b - a) * 0.5
        active &= ~done
        if not active.any():
            break
        ia = np.nonzero(active)[0]
        xa, wa, va = x[ia], w[ia], v[ia]
        fxa, fwa, fva = fx[ia], fw[ia], fv[ia]
        aa, ba, ea, da = a[ia], b[ia], e[ia], d[ia]
        tol1a, t2a, xma = tol1[ia], t2[ia], xm[ia]
        p = np.zeros(ia.shape[0]); q = np.zeros(ia.shape[0]); r = np.zeros(ia.shape[0])
        fit = np.abs(ea) > tol1a
        r_f = (xa - wa) * (fxa - fva)
        q_f = (xa - va) * (fxa - fwa)
        p_f = (xa - va) * q_f - (xa - wa) * r_f
        q_f = (q_f - r_f) * 2.0
        p_f = np.where(q_f > 0.0, -p_f, p_f)
        q_f = np.where(q_f > 0.0, q_f, -q_f)
        p = np.where(fit, p_f, p)
        q = np.where(fit, q_f, q)
        r = np.where(fit, ea, r)
        ea = np.where(fit, da, ea)
        golden = (np.abs(p) >= np.abs(q * 0.5 * r)) | (p <= q * (aa - xa)) | (p >= q * (ba - xa))
        # golden-section step
        e_g = np.where(xa < xma, ba - xa, aa - xa)
        d_g = _C * e_g
        # parabolic step
        with np.errstate(divide="ignore", invalid="ignore"):
            d_p = p / q
        u_p = xa + d_p
        near = (u_p - aa < t2a) | (ba - u_p < t2a)
        d_p = np.where(near, np.where(xa >= xma, -tol1a, tol1a), d_p)
        ea = np.where(golden, e_g, ea)
        da = np.where(golden, d_g, d_p)
        u = np.where(np.abs(da) >= tol1a, xa + da, np.where(da > 0.0, xa + tol1a, xa - tol1a))
        fu = np.asarray(f(u, ia), float)
        n_eval[ia] += 1
        better = fu <= fxa
        # fu <= fx
        a_new = np.where(better, np.where(u < xa, aa, xa), np.where(u < xa, u, aa))
        b_new = np.where(better, np.where(u < xa, xa, ba), np.where(u < xa, ba, u))
        # not better: update w / v
        upd_w = ~better & ((fu <= fwa) | (wa == xa))
        upd_v = ~better & ~upd_w & ((fu <= fva) | (va == xa) | (va == wa))
        v_new = np.where(better, wa, np.where(upd_w, wa, np.where(upd_v, u, va)))
        fv_new = np.where(better, fwa, np.where(upd_w, fwa, np.where(upd_v, fu, fva)))
        w_new = np.where(better, xa, np.where(upd_w, u, wa))
        fw_new = np.where(better, fxa, np.where(upd_w, fu, fwa))
        x_new = np.where(better, u, xa)
        fx_new = np.where(better, fu, fxa)
        a[ia], b[ia], v[ia], fv[ia], w[ia], fw[ia], x[ia], fx[ia] = (
            a_new, b_new, v_new, fv_new, w_new, fw_new, x_new, fx_new)
        e[ia], d[ia] = ea, da
    return x, fx, n_eval


def uniroot(f, lo, hi, tol=R_UNIROOT_TOL, maxit=1000):
    """R's ``uniroot`` (Brent's zeroin, ``R_zeroin2``) with its default tolerance.

    lavaan and ``psych::fa.stats`` find the RMSEA confidence limits with ``uniroot``; its
    tolerance (``.Machine$double.eps^0.25``) leaves the limits accurate to ~1e-5 only, so
    the same iterations are reproduced here instead of a tighter root.

    R stops with "f() values at end points not of opposite sign" when ``f(lo)`` and
    ``f(hi)`` have the same sign; callers check the signs first (here no error is raised).
    """
    eps = np.finfo(float).eps
    a, b = lo, hi
    fa, fb = f(a), f(b)
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
