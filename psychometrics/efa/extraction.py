"""Factor extraction: minimum residual (minres), maximum likelihood, principal
axis and principal components, following psych 2.2.9 (``psych:::fac``,
``psych::principal``).

The minres and ML solutions are found as psych finds them: ``optim``'s
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
METHODS = {"minres": "MR", "ml": "ML", "pa": "PA", "pc": "PC"}


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
    if best is not None and best[1] < f_pol - max(BASIN_ATOL, BASIN_RTOL * abs(f_pol)):
        return best[0], best[1], float(fun_grad(psi)[0]), best[2]
    return None


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
    * ``pa``: iterated principal axes from SMCs, stopping when the sum of
      communalities changes by less than ``min_err`` (psych: 0.001) or after
      ``max_iter`` (50) iterations.
    * ``pc``: principal components, ``L = V E^1/2`` (``psych::principal``).
    * ``check_optimum`` (minres, ml): after psych's run, :func:`_other_optimum` restarts
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
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)
    msg = res.message if isinstance(res.message, str) else str(res.message)
    converged = res.status == 0
    iterations = int(res.nit)
    if check_optimum:
        other = _other_optimum(r, n_factors, psi, fun_grad, upper)
        if other is not None:
            psi_new, f_new, f_old, ok = other
            note = (f"psych's {method} solution (objective {f_old:.6g}, "
                    f"{int(np.sum(psi <= 0.005 + 1e-9))} uniqueness(es) at the bound 0.005) is a "
                    f"local optimum; a restart found objective {f_new:.6g} "
                    f"({int(np.sum(psi_new <= 0.005 + 1e-9))} at the bound), which is returned "
                    f"(psych::fa returns the first; factanal's start values reach the second).")
            warnings.warn(note, ConvergenceWarning, stacklevel=3)
            psi, msg, converged = psi_new, msg + "; " + note, ok
    L = loadings(r, psi, n_factors)
    model = L @ L.T
    S = r.copy()
    S[np.diag_indices_from(S)] = np.diag(model)
    values = np.linalg.eigvalsh(S)[::-1]
    return Extraction(loadings=L, values=values, e_values=e_values, psi=psi,
                      iterations=iterations, converged=bool(converged), message=msg)
