"""Factor extraction: minimum residual (minres), maximum likelihood, weighted and
generalised least squares (wls, gls), principal axis and principal components,
following psych 2.2.9 (``psych:::fac``, ``psych::principal``).

The minres, ML, WLS and GLS solutions are found as psych finds them: ``optim``'s
L-BFGS-B (here scipy's implementation of the same algorithm) on the
uniquenesses scaled by ``parscale = 0.01``, bounds ``[0.005, 1]``, memory 5,
``factr = 1e7`` and psych's (approximate) gradients.  The optimiser stops on a
relative objective change of about 2e-9, so the solution is not converged to
full precision; taking the same steps reproduces R's numbers to ~1e-13.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import warnings

from .._blas import single_blas_thread
from ..exceptions import ConvergenceWarning
from ._input import smc

__all__ = ["Extraction", "extract", "METHODS"]

_EPS = np.finfo(float).eps

#: method -> psych's factor-name prefix (before rotation)
METHODS = {"minres": "MR", "ml": "ML", "wls": "WLS", "gls": "GLS", "pa": "PA", "pc": "PC"}


@dataclass(frozen=True)
class Extraction:
    loadings: np.ndarray          # unrotated loadings, eigen order, psych's signs not yet applied
    values: np.ndarray            # eigenvalues of R with communalities on the diagonal
    e_values: np.ndarray          # eigenvalues of R
    psi: np.ndarray | None        # optimiser solution (uniquenesses) for minres/ml
    iterations: int
    converged: bool
    message: str
    communality_iterations: tuple[float, ...] = ()


def _eigh_desc(S):
    w, v = np.linalg.eigh(S)
    return w[::-1], v[:, ::-1]


def _lbfgsb(fun_grad, start, upper, maxit=100):
    """R's ``optim(method = "L-BFGS-B")`` with psych's control settings.

    ``fun_grad(psi)`` returns ``(objective, gradient)`` from one eigendecomposition
    (R evaluates the two separately, on the same matrix, with the same result).
    """
    sc = 0.01
    n = len(start)

    def fg(x):
        f, g = fun_grad(x * sc)
        return f, g * sc

    with single_blas_thread():
        from scipy.optimize import minimize  # lazy: keeps `import psychometrics.efa` light

        res = minimize(fg, np.asarray(start) / sc, jac=True, method="L-BFGS-B",
                       bounds=[(0.005 / sc, upper / sc)] * n,
                       options=dict(maxcor=5, ftol=1e7 * _EPS, gtol=0.0, maxiter=maxit))
    return res.x * sc, res


def _minres(S: np.ndarray, nf: int):
    p = S.shape[0]
    tril = np.tril_indices(p, -1)
    dS = np.diag(S).copy()

    unit_diag = bool(np.all(dS == 1.0))

    def fun_grad(psi):
        # psych: fit.residuals (objective) eigen-decomposes S with diag 1 - psi,
        # FAgr.minres (gradient) S - diag(psi); for a correlation matrix they coincide
        Sm = S.copy()
        Sm[np.diag_indices(p)] = 1.0 - psi
        w, v = _eigh_desc(Sm)
        wf = np.where(w < _EPS, 100 * _EPS, w)
        L = v[:, :nf] * np.sqrt(wf[:nf])
        res = (Sm - L @ L.T)[tril]
        if not unit_diag:
            w, v = _eigh_desc(S - np.diag(psi))
        Lg = v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0.0))
        return float(res @ res), (Lg * Lg).sum(axis=1) + psi - dS

    s_smc = smc(S)
    upper = max(s_smc.max(), 1.0)
    start = dS - s_smc
    psi, res = _lbfgsb(fun_grad, start, upper)
    return psi, res, fun_grad, upper


def _minres_loadings(S, psi, nf):
    # FAout.wls
    w, v = _eigh_desc(S - np.diag(psi))
    return v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0.0))


def _ml(S: np.ndarray, nf: int):
    p = S.shape[0]

    dS = np.diag(S)

    def fun_grad(psi):
        # psych's FAfn (objective) and FAgr (gradient) on Psi^-1/2 S Psi^-1/2
        sc = 1.0 / np.sqrt(psi)
        w, v = _eigh_desc(S * np.outer(sc, sc))
        e = w[nf:]
        f = float(-(np.sum(np.log(e) - e) - nf + p))
        load = v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1.0, 0.0))
        load = np.sqrt(psi)[:, None] * load
        g = (load * load).sum(axis=1) + psi - dS
        return f, g / psi ** 2

    s_smc = smc(S)
    upper = max(s_smc.max(), 1.0)
    if s_smc.sum() == nf and nf > 1:
        start = np.full(p, 0.5)  # psych's branch (uses nf values; never hit for real data)
    else:
        start = np.diag(S) - s_smc
    psi, res = _lbfgsb(fun_grad, start, upper)
    return psi, res, fun_grad, upper


def _ml_gradient(S, psi, nf):
    """psych's ``FAgr`` (= ``FAgr.minres2``): the gradient of the ML discrepancy in psi."""
    sc = 1.0 / np.sqrt(psi)
    w, v = _eigh_desc(S * np.outer(sc, sc))
    load = np.sqrt(psi)[:, None] * (v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1.0, 0.0)))
    return ((load * load).sum(axis=1) + psi - np.diag(S)) / psi ** 2


def _weighted_ls(S: np.ndarray, nf: int, fm: str):
    """psych's ``fm = "wls"`` / ``"gls"`` (``psych:::fac``, its ``fit`` and ``fit.residuals``).

    With ``S_psi`` = S with diagonal ``1 - psi`` and ``L L'`` its rank-``nf`` eigen
    truncation (eigenvalues below eps set to 100 eps), the residual ``E = S_psi - L L'``
    (diagonal included) is weighted as

    * wls: ``sum_ij E_ij^2 / (s_ii s_jj)``, ``s_ii = (S^-1)_ii`` (psych:
      ``sd.inv %*% (S - model)^2 %*% sd.inv``, ``sd.inv = diag(1/diag(S.inv))``);
    * gls: ``sum_ij ((S^-1 E)_ij)^2`` (psych: ``(S.inv %*% (S - model))^2``).

    psych starts at ``psi = smc(S)`` (not ``1 - smc``, as it does for minres and ml) and
    hands ``optim`` the gradient of the *ML* discrepancy (``FAgr.minres2``) with this
    objective; both are kept, since they decide where L-BFGS-B stops. Returns the
    ``(objective, psych's gradient)`` pair for that run and, for the restart check,
    ``(objective, exact gradient)``.
    """
    p = S.shape[0]
    S_inv = np.linalg.inv(S)
    if fm == "wls":
        a = 1.0 / np.diag(S_inv)
        weight = np.outer(a, a)
    diag = np.diag_indices(p)

    def residual(psi):
        Sm = S.copy()
        Sm[diag] = 1.0 - psi
        w, v = _eigh_desc(Sm)
        wf = np.where(w < _EPS, 100 * _EPS, w)
        L = v[:, :nf] * np.sqrt(wf[:nf])
        return Sm - L @ L.T, w, v

    def objective(E):
        if fm == "wls":
            return float(np.sum(weight * E * E))
        A = S_inv @ E
        return float(np.sum(A * A))

    def psych_fun_grad(psi):
        E, _, _ = residual(psi)
        return objective(E), _ml_gradient(S, psi, nf)

    def exact_fun_grad(psi):
        # d(S_psi)/d psi_m = -e_m e_m'; the truncation's derivative by Daleckii-Krein:
        # dT = V (G o V' dS V) V' with G_ij = 1 (i, j <= nf), 0 (i, j > nf),
        # e_i / (e_i - e_j) (i <= nf < j)
        E, w, v = residual(psi)
        if fm == "wls":
            G = 2.0 * weight * E
        else:
            G = 2.0 * S_inv @ (S_inv @ E)
            G = 0.5 * (G + G.T)
        gam = np.zeros((p, p))
        gam[:nf, :nf] = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            cross = w[:nf, None] / (w[:nf, None] - w[None, nf:])
        gam[:nf, nf:] = cross
        gam[nf:, :nf] = cross.T
        M = gam * (v.T @ G @ v)
        g = -np.diag(G) + np.einsum("mi,ij,mj->m", v, M, v)
        return objective(E), g

    start = smc(S)
    upper = max(start.max(), 1.0)
    psi, res = _lbfgsb(psych_fun_grad, start, upper)
    return psi, res, exact_fun_grad, upper


def _ml_loadings(S, psi, nf):
    sc = 1.0 / np.sqrt(psi)
    w, v = _eigh_desc(S * np.outer(sc, sc))
    load = v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1.0, 0.0))
    return np.sqrt(psi)[:, None] * load


#: a restart replaces psych's solution when its objective is lower than the polished
#: psych solution by more than max(BASIN_ATOL, BASIN_RTOL * |objective|): a different,
#: better local optimum, not psych's early stop (factr = 1e7) in the same basin
BASIN_ATOL, BASIN_RTOL = 1e-6, 1e-3


def _tight(fun_grad, start, upper):
    p = len(start)
    with single_blas_thread():
        from scipy.optimize import minimize  # lazy

        r = minimize(fun_grad, np.clip(start, 0.005, upper), jac=True, method="L-BFGS-B",
                     bounds=[(0.005, upper)] * p,
                     options=dict(ftol=1e-14, gtol=1e-10, maxiter=2000))
    return r.x, float(r.fun), bool(r.success)


def _other_optimum(S, nf, psi, fun_grad, upper):
    """Restart check: a better local optimum than psych's solution ``psi``, or None.

    psych's L-BFGS-B run is polished (tight tolerances, same start point) and compared
    with tight runs from two other starts: R's ``factanal`` start
    ``(1 - nf / (2 p)) / diag(S^-1)`` and all uniquenesses 0.5. Returns
    ``(psi_better, f_better, f_psych, converged)`` when a restart is lower by more than
    ``max(BASIN_ATOL, BASIN_RTOL * |f_psych|)``.
    """
    other, _ = _check_optimum(S, nf, psi, fun_grad, upper)
    return other


def _check_optimum(S, nf, psi, fun_grad, upper):
    """:func:`_other_optimum` and the polished objective ``f_pol`` of psych's basin."""
    p = S.shape[0]
    _, f_pol, _ = _tight(fun_grad, psi, upper)
    try:
        fa_start = (1.0 - 0.5 * nf / p) / np.diag(np.linalg.inv(S))
    except np.linalg.LinAlgError:
        fa_start = np.full(p, 0.5)
    best = None
    for st in (fa_start, np.full(p, 0.5)):
        x, f, ok = _tight(fun_grad, st, upper)
        if np.isfinite(f) and (best is None or f < best[1]):
            best = (x, f, ok)
    if best is not None and best[1] < _basin_floor(f_pol):
        return (best[0], best[1], float(fun_grad(psi)[0]), best[2]), f_pol
    return None, f_pol


def _basin_floor(f):
    """An objective below this is clearly lower than ``f`` (see BASIN_ATOL, BASIN_RTOL)."""
    return f - max(BASIN_ATOL, BASIN_RTOL * abs(f))


def _pa(S: np.ndarray, nf: int, min_err: float = 0.001, max_iter: int = 50):
    r_mat = S.copy()
    r_mat[np.diag_indices_from(r_mat)] = smc(S)
    comm = float(np.trace(r_mat))
    err = comm
    i = 1
    comm_list = []
    converged = True
    loadings = None
    w = None
    while err > min_err:
        w, v = _eigh_desc(r_mat)
        loadings = v[:, :nf] * np.sqrt(w[:nf])
        new = (loadings * loadings).sum(axis=1)
        comm1 = float(new.sum())
        r_mat[np.diag_indices_from(r_mat)] = new
        err = abs(comm - comm1)
        if np.isnan(err):
            converged = False
            break
        comm = comm1
        comm_list.append(comm1)
        i += 1
        if i > max_iter:
            converged = False
            err = 0.0
    return loadings, w, i - 1, converged, tuple(comm_list)


def extract(r: np.ndarray, n_factors: int, method: str = "minres", *,
            min_err: float = 0.001, max_iter: int = 50,
            check_optimum: bool = True) -> Extraction:
    """Unrotated factors of correlation matrix ``r`` (see module docstring).

    Notes
    -----
    * ``minres``: minimise the sum of squared off-diagonal residuals
      ``sum_{i>j} (r_ij - (LL')_ij)^2`` over the uniquenesses ``psi``; loadings are the
      first ``n_factors`` eigenvectors of ``R - diag(psi)`` scaled by the root of
      their eigenvalues (``psych:::fac`` with ``fm = "minres"``).
    * ``ml``: minimise ``F(psi) = -sum_{k>nf}(log e_k - e_k) - nf + p`` with ``e`` the
      eigenvalues of ``Psi^-1/2 R Psi^-1/2`` (the ML discrepancy concentrated in Psi,
      as in ``factanal``); ``L = Psi^1/2 V (E - I)^1/2``.
    * ``wls``, ``gls``: minimise the squared residuals ``S_psi - L L'`` (diagonal
      included, ``S_psi`` = R with diagonal ``1 - psi``) weighted by
      ``1 / ((R^-1)_ii (R^-1)_jj)`` (wls) or premultiplied by ``R^-1`` (gls), as psych's
      ``fit.residuals``; loadings as for minres. See :func:`_weighted_ls` for psych's
      start values and gradient, both reproduced.
    * ``pa``: iterated principal axes from SMCs, stopping when the sum of
      communalities changes by less than ``min_err`` (psych: 0.001) or after
      ``max_iter`` (50) iterations.
    * ``pc``: principal components, ``L = V E^1/2`` (``psych::principal``).
    * ``check_optimum`` (minres, ml, wls, gls): after psych's run, :func:`_other_optimum` restarts
      from R ``factanal``'s start values and from uniquenesses 0.5; a clearly lower
      objective (a different local optimum, typically psych stopping at a boundary
      point with several uniquenesses at 0.005 while a better solution exists) replaces
      psych's solution with a :class:`~psychometrics.exceptions.ConvergenceWarning`.
      Otherwise psych's numbers are returned unchanged. ``False`` (used by parallel
      analysis, which replicates ``psych::fa.parallel``) skips the check.
    """
    e_values = np.linalg.eigvalsh(r)[::-1]
    if method == "pc":
        w, v = _eigh_desc(r)
        wl = np.where(w < _EPS, _EPS, w)
        L = v[:, :n_factors] * np.sqrt(wl[:n_factors])
        return Extraction(loadings=L, values=w, e_values=e_values, psi=None, iterations=0,
                          converged=True, message="closed form")
    if method == "pa":
        L, w, it, conv, comm_list = _pa(r, n_factors, min_err=min_err, max_iter=max_iter)
        return Extraction(loadings=L, values=w, e_values=e_values, psi=None, iterations=it,
                          converged=conv,
                          message="converged" if conv else "maximum iteration exceeded",
                          communality_iterations=comm_list)
    if method == "minres":
        psi, res, fun_grad, upper = _minres(r, n_factors)
        loadings = _minres_loadings
    elif method == "ml":
        psi, res, fun_grad, upper = _ml(r, n_factors)
        loadings = _ml_loadings
    elif method in ("wls", "gls"):
        psi, res, fun_grad, upper = _weighted_ls(r, n_factors, method)
        loadings = _minres_loadings
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)
    msg = res.message if isinstance(res.message, str) else str(res.message)
    converged = res.status == 0
    if method in ("wls", "gls"):
        # psych's optim gets the ML gradient with the wls/gls objective, so its line
        # search ends when that direction no longer descends (scipy says ABNORMAL, R's
        # optim REL_REDUCTION_OF_F, at the same point); whether this point is a minimum
        # is decided below against the objective's own (exact) gradient
        converged = True
    iterations = int(res.nit)
    if check_optimum:
        other, f_pol = _check_optimum(r, n_factors, psi, fun_grad, upper)
        f_psych = float(fun_grad(psi)[0])
        if other is None and method in ("wls", "gls") and f_psych > f_pol + max(
                BASIN_ATOL, BASIN_RTOL * abs(f_pol)):
            msg = (f"psych's {method} solution ({method} criterion {f_psych:.6g}) is not a "
                   f"minimum of that criterion: psych's optim follows the gradient of the ML "
                   f"discrepancy (FAgr.minres2) and stops where it no longer descends; the "
                   f"minimum reached from it is {f_pol:.6g}. psych's solution is returned, as "
                   f"psych::fa returns it")
            converged = False
        if other is not None:
            psi_new, f_new, f_old, ok = other
            at_old = int(np.sum(psi <= 0.005 + 1e-9))
            at_new = int(np.sum(psi_new <= 0.005 + 1e-9))
            if method in ("wls", "gls"):
                note = (f"psych's {method} solution ({method} criterion {f_old:.6g}, {at_old} "
                        f"uniqueness(es) at the bound 0.005) is not the minimum: the minimum "
                        f"reached from it is {f_pol:.6g}, and a restart found {f_new:.6g} "
                        f"({at_new} at the bound), which is returned (psych::fa returns the "
                        f"first).")
            else:
                note = (f"psych's {method} solution (objective {f_old:.6g}, {at_old} "
                        f"uniqueness(es) at the bound 0.005) is a local optimum; a restart "
                        f"found objective {f_new:.6g} ({at_new} at the bound), which is "
                        f"returned (psych::fa returns the first; factanal's start values "
                        f"reach the second).")
            warnings.warn(note, ConvergenceWarning, stacklevel=3)
            psi, msg, converged = psi_new, msg + "; " + note, ok
    L = loadings(r, psi, n_factors)
    model = L @ L.T
    S = r.copy()
    S[np.diag_indices_from(S)] = np.diag(model)
    values = np.linalg.eigvalsh(S)[::-1]
    return Extraction(loadings=L, values=values, e_values=e_values, psi=psi,
                      iterations=iterations, converged=bool(converged), message=msg)
