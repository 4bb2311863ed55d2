"""Information matrices and the covariance matrix of the estimates.

``expected``: lavaan ``information = "expected"`` (default), the Fisher
information of the normal likelihood at the estimates (per observation).
``observed``: lavaan ``information = "observed"`` (``observed.information =
"hessian"``), the Hessian of ``fmin`` by Richardson central differences of the
analytic gradient, as ``lav_model_hessian``. ``vcov = information^-1 / N``.
"""
from __future__ import annotations

import numpy as np

from ..exceptions import IdentificationError
from .estimate import Problem, evaluate

__all__ = ["expected_information", "observed_information", "information", "vcov_from_information",
           "check_identified"]


def expected_information(prob: Problem, theta: np.ndarray) -> np.ndarray:
    return evaluate(prob, theta, info=True)[2]


def _gradient(prob: Problem, theta: np.ndarray) -> np.ndarray:
    return evaluate(prob, theta, info=False)[1]


def observed_information(prob: Problem, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Hessian of fmin: ``(g(x-2h) - 8 g(x-h) + 8 g(x+h) - g(x+2h)) / (12 h)``, symmetrised.

    Under FIML the semi-analytic ``robust.fiml_observed_information`` is used (the same
    matrix to ~1e-10, without one pass over the missingness patterns per difference).
    """
    if prob.ss.patterns is not None:
        from .robust import fiml_observed_information
        return fiml_observed_information(prob, theta)
    n = len(theta)
    H = np.zeros((n, n))
    for j in range(n):
        cols = []
        for d in (-2, -1, 1, 2):
            x = theta.copy()
            x[j] += d * h
            cols.append(_gradient(prob, x))
        H[:, j] = (cols[0] - 8 * cols[1] + 8 * cols[2] - cols[3]) / (12 * h)
    return 0.5 * (H + H.T)


def information(prob: Problem, theta: np.ndarray, kind: str = "expected") -> np.ndarray:
    if kind == "expected":
        return expected_information(prob, theta)
    if kind == "observed":
        return observed_information(prob, theta)
    raise ValueError(f"The 'information' argument must be 'expected' or 'observed', got {kind!r}.")


def check_identified(info: np.ndarray, names: list[str]) -> None:
    """Raise IdentificationError when the information matrix is singular.

    The message names the parameters that load on the (near) null space.
    """
    if info.size == 0:
        return
    d = np.sqrt(np.abs(np.diag(info)))
    d[d == 0] = 1.0
    R = info / d[:, None] / d[None, :]
    try:  # fast path: a well-conditioned positive definite matrix
        Lc = np.linalg.cholesky(R)
        if np.min(np.diag(Lc)) ** 2 > 1e-8:
            return
    except np.linalg.LinAlgError:
        pass
    w, V = np.linalg.eigh(R)
    if w[0] < 1e-10 * max(1.0, w[-1]):
        v = V[:, 0]
        involved = [names[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.15]
        raise IdentificationError(
            "The model is not identified: the information matrix is singular (smallest "
            f"eigenvalue {w[0]:.3g}). Parameters involved: {', '.join(involved)}. Fix or "
            "constrain one of them (e.g. a marker loading, a latent variance, or fewer free "
            "covariances).")


def vcov_from_information(info: np.ndarray, ntotal: int) -> np.ndarray:
    """``solve(information) / N`` (lavaan ``vcov``)."""
    return np.linalg.inv(info) / ntotal
