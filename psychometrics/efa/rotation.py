"""Factor rotations: gradient projection (GPArotation's GPForth / GPFoblq),
stats::varimax, and psych's Kaiser-normalised promax.

Every function takes an unrotated loading matrix ``A`` (items x factors) and
returns a :class:`Rotation`.  The algorithms, step sizes and stopping rules are
those of the R code that psych 2.2.9 calls, so the rotated loadings equal R's
to floating-point precision (they are *not* iterated to full convergence: R
stops at ``eps = 1e-5`` and so do we).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..exceptions import ConvergenceWarning, ModelSpecificationError

__all__ = [
    "Rotation",
    "rotate",
    "gpf_orthogonal",
    "gpf_oblique",
    "varimax",
    "promax",
    "stats_promax",
    "ROTATIONS",
]


@dataclass(frozen=True)
class Rotation:
    """Result of a rotation.

    Attributes
    ----------
    loadings : ndarray
        Rotated pattern loadings (items x factors), columns in the input order.
    phi : ndarray or None
        Factor correlations (oblique rotations), None for orthogonal ones.
    rotation_matrix : ndarray
        psych's ``rot.mat``: for GPA rotations ``t(solve(Th))``, for varimax and
        promax the ``rotmat`` of ``stats::varimax`` / ``psych::Promax``.
    th : ndarray
        GPArotation's ``Th`` (for varimax/promax the rotation matrix itself).
    criterion : float
        Final value of the rotation criterion (NaN for promax).
    iterations : int
        Iterations used.
    converged : bool
        Whether the stopping rule was met before the iteration limit.
    method : str
        Name of the rotation.
    orthogonal : bool
    """

    loadings: np.ndarray
    phi: np.ndarray | None
    rotation_matrix: np.ndarray
    th: np.ndarray
    criterion: float
    iterations: int
    converged: bool
    method: str
    orthogonal: bool


# ----------------------------------------------------------------------------- criteria
# Each returns (gradient Gq, criterion value f) for loadings L, as GPArotation's vgQ.*.

def _vgq_quartimin(L):
    L2 = L * L
    X = L2.sum(axis=1, keepdims=True) - L2          # L^2 %*% (1 - I)
    return L * X, float(np.sum(L2 * X) / 4.0)


def _vgq_oblimin(L, gam: float = 0.0):
    L2 = L * L
    X = L2.sum(axis=1, keepdims=True) - L2
    if gam != 0:
        p = L.shape[0]
        X = X - gam / p * X.sum(axis=0, keepdims=True)
    return L * X, float(np.sum(L2 * X) / 4.0)


def _vgq_geomin(L, delta: float = 0.01):
    k = L.shape[1]
    L2 = L * L + delta
    pro = np.exp(np.log(L2).sum(axis=1) / k)
    return (2.0 / k) * (L / L2) * pro[:, None], float(pro.sum())


def _vgq_bentler(L):
    L2 = L * L
    M = L2.T @ L2
    D = np.diag(np.diag(M))
    Gq = -L * (L2 @ (np.linalg.inv(M) - np.linalg.inv(D)))
    f = -(np.linalg.slogdet(M)[1] - np.linalg.slogdet(D)[1]) / 4.0
    return Gq, float(f)


def _vgq_quartimax(L):
    L2 = L * L
    return -L * L2, float(-np.sum(L2 * L2) / 4.0)


def _vgq_varimax(L):
    L2 = L * L
    QL = L2 - L2.mean(axis=0)
    return -L * QL, float(-np.sum(QL * QL) / 4.0)


def _vgq_bimin(L):
    """psych's ``vgQ.bimin``: quartimin over the group factors, the first (general)
    factor left free (Jennrich & Bentler's bifactor criterion)."""
    L2 = L[:, 1:] ** 2
    X = L2.sum(axis=1, keepdims=True) - L2          # L2 %*% (1 - I)
    Gq = np.zeros_like(L)
    Gq[:, 1:] = 4.0 * L[:, 1:] * X
    return Gq, float(np.sum(L2 * X))


def _vgq_cf(L, kappa: float = 0.0):
    """Crawford-Ferguson family (GPArotation ``vgQ.cf``); equamax is kappa = k / (2 p)."""
    L2 = L * L
    row = L2.sum(axis=1, keepdims=True) - L2        # L2 %*% N
    col = L2.sum(axis=0, keepdims=True) - L2        # M %*% L2
    f = (1 - kappa) * np.sum(L2 * row) / 4.0 + kappa * np.sum(L2 * col) / 4.0
    return (1 - kappa) * L * row + kappa * L * col, float(f)


def _vgq_oblimax(L):
    s4, s2 = float(np.sum(L ** 4)), float(np.sum(L ** 2))
    return -(4 * L ** 3 / s4 - 4 * L / s2), float(-(np.log(s4) - 2 * np.log(s2)))


def _vgq_simplimax(L, k: int | None = None):
    """GPArotation ``vgQ.simplimax``: the k smallest squared loadings (default k = rows)."""
    L2 = L * L
    k = L.shape[0] if k is None else int(k)
    imat = (L2 <= np.sort(L2, axis=None)[k - 1]).astype(float)
    return 2 * imat * L, float(np.sum(imat * L2))


_CRITERIA: dict[str, Callable] = {
    "bimin": _vgq_bimin,
    "cf": _vgq_cf,
    "oblimax": _vgq_oblimax,
    "simplimax": _vgq_simplimax,
    "quartimin": _vgq_quartimin,
    "oblimin": _vgq_oblimin,
    "geomin": _vgq_geomin,
    "bentler": _vgq_bentler,
    "quartimax": _vgq_quartimax,
    "varimax": _vgq_varimax,
}


# ----------------------------------------------------------------------------- GPA
def gpf_orthogonal(A: np.ndarray, criterion: str = "varimax", *, Tmat: np.ndarray | None = None,
                   normalize: bool = False, eps: float = 1e-5, maxit: int = 1000,
                   **criterion_args) -> Rotation:
    """Orthogonal gradient projection rotation (GPArotation ``GPForth``).

    Notes
    -----
    Minimises ``f(A T)`` over orthogonal ``T`` (Bernaards & Jennrich, 2005).
    Each step moves ``T - al * Gp`` along the projected gradient
    ``Gp = G - T (T'G + G'T)/2`` and projects back with the polar decomposition
    (SVD); ``al`` is doubled and then halved (at most 11 times) until
    ``f`` decreases by at least ``0.5 s^2 al``.  Stops when ``||Gp||_F < eps``.
    R: ``GPArotation::GPForth(A, method = criterion)``.
    """
    vgq = _get_criterion(criterion)
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        raise ModelSpecificationError("Rotation does not make sense for a single factor.")
    W = None
    if normalize:
        W = np.sqrt((A * A).sum(axis=1))[:, None]
        A = A / W
    T = np.eye(A.shape[1]) if Tmat is None else np.asarray(Tmat, float)
    al = 1.0
    L = A @ T
    Gq, f = vgq(L, **criterion_args)
    G = A.T @ Gq
    s = np.inf
    it = 0
    for it in range(maxit + 1):
        M = T.T @ G
        S = (M + M.T) / 2.0
        Gp = G - T @ S
        s = float(np.sqrt(np.sum(Gp * Gp)))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            u, _d, vt = np.linalg.svd(X)
            Tt = u @ vt
            L = A @ Tt
            Gqt, ft = vgq(L, **criterion_args)
            if ft < f - 0.5 * s * s * al:
                break
            al /= 2.0
        T = Tt
        f = ft
        G = A.T @ Gqt
    converged = s < eps
    if not converged:
        warnings.warn(f"The {criterion} rotation (GPForth) did not converge in {maxit} "
                      "iterations.", ConvergenceWarning, stacklevel=3)
    if W is not None:
        L = L * W
    return Rotation(loadings=L, phi=None, rotation_matrix=np.linalg.inv(T).T, th=T,
                    criterion=f, iterations=it, converged=bool(converged), method=criterion,
                    orthogonal=True)


def gpf_oblique(A: np.ndarray, criterion: str = "quartimin", *, Tmat: np.ndarray | None = None,
                normalize: bool = False, eps: float = 1e-5, maxit: int = 1000,
                **criterion_args) -> Rotation:
    """Oblique gradient projection rotation (GPArotation ``GPFoblq``).

    Notes
    -----
    Minimises ``f(A (T')^-1)`` over ``T`` with unit-length columns; the factor
    correlations are ``Phi = T'T``.  Projected gradient
    ``Gp = G - T diag(1'(T * G))``; step ``X = T - al Gp`` is normalised
    column-wise.  Stops when ``||Gp||_F < eps``.
    R: ``GPArotation::GPFoblq(A, method = criterion)`` (used by ``oblimin``,
    ``quartimin``, ``geominQ``, ``bentlerQ``).
    """
    vgq = _get_criterion(criterion)
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        raise ModelSpecificationError("Rotation does not make sense for a single factor.")
    W = None
    if normalize:
        W = np.sqrt((A * A).sum(axis=1))[:, None]
        A = A / W
    T = np.eye(A.shape[1]) if Tmat is None else np.asarray(Tmat, float)
    al = 1.0
    Ti = np.linalg.inv(T)
    L = A @ Ti.T
    Gq, f = vgq(L, **criterion_args)
    G = -(L.T @ Gq @ Ti).T
    s = np.inf
    it = 0
    for it in range(maxit + 1):
        Gp = G - T * np.sum(T * G, axis=0)
        s = float(np.sqrt(np.sum(Gp * Gp)))
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt(np.sum(X * X, axis=0))
            Tti = np.linalg.inv(Tt)
            L = A @ Tti.T
            Gqt, ft = vgq(L, **criterion_args)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2.0
        T = Tt
        f = ft
        G = -(L.T @ Gqt @ Tti).T
    converged = s < eps
    if not converged:
        warnings.warn(f"The {criterion} rotation (GPFoblq) did not converge in {maxit} "
                      "iterations.", ConvergenceWarning, stacklevel=3)
    phi = T.T @ T
    off = np.abs(phi[~np.eye(len(phi), dtype=bool)])
    if off.size and off.max() > 1 - 1e-6:
        warnings.warn(f"The {criterion} rotation made two factors collinear (a factor correlation "
                      f"of {off.max():.6f}); the criterion has no proper optimum for these "
                      "loadings (oblimax often degenerates this way). Use another rotation.",
                      ConvergenceWarning, stacklevel=3)
    if W is not None:
        L = L * W
    return Rotation(loadings=L, phi=phi, rotation_matrix=np.linalg.inv(T).T, th=T,
                    criterion=f, iterations=it, converged=bool(converged), method=criterion,
                    orthogonal=False)


# ----------------------------------------------------------------------------- varimax / promax
def varimax(A: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            maxit: int = 1000) -> Rotation:
    """Kaiser's varimax as ``stats::varimax`` computes it.

    Notes
    -----
    With Kaiser normalisation (rows scaled to unit length), iterate
    ``B = A'(Z^3 - Z diag(1'Z^2)/p)``, ``T = U V'`` from the SVD of ``B``,
    until the sum of singular values grows by less than a factor ``1 + eps``.
    R: ``stats::varimax(A)`` (psych's ``rotate = "varimax"``).
    """
    x = np.asarray(A, dtype=float)
    nc = x.shape[1]
    if nc < 2:
        raise ModelSpecificationError("Rotation does not make sense for a single factor.")
    sc = None
    if normalize:
        sc = np.sqrt((x * x).sum(axis=1))
        x = x / sc[:, None]
    p = x.shape[0]
    TT = np.eye(nc)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        z = x @ TT
        B = x.T @ (z ** 3 - z * ((z * z).sum(axis=0) / p))
        u, sv, vt = np.linalg.svd(B)
        TT = u @ vt
        dpast = d
        d = float(sv.sum())
        if d < dpast * (1 + eps):
            converged = True
            break
    if not converged:
        warnings.warn(f"varimax did not converge in {maxit} iterations.", ConvergenceWarning,
                      stacklevel=3)
    z = x @ TT
    if sc is not None:
        z = z * sc[:, None]
    return Rotation(loadings=z, phi=None, rotation_matrix=TT, th=TT, criterion=float("nan"),
                    iterations=it, converged=converged, method="varimax", orthogonal=True)


def _promax_psych(x: np.ndarray, m: float = 4.0) -> Rotation:
    """``psych::Promax``: stats::varimax, then a least-squares fit to the power target."""
    vm = varimax(x)
    xv = vm.loadings
    Q = xv * np.abs(xv) ** (m - 1)
    U, *_ = np.linalg.lstsq(xv, Q, rcond=None)      # lm.fit(x, Q)$coefficients
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)
    z = xv @ U
    U = vm.rotation_matrix @ U
    ui = np.linalg.inv(U)
    phi = ui @ ui.T
    return Rotation(loadings=z, phi=phi, rotation_matrix=U, th=U, criterion=float("nan"),
                    iterations=vm.iterations, converged=vm.converged, method="promax",
                    orthogonal=False)


def promax(A: np.ndarray, *, m: float = 4.0) -> Rotation:
    """Promax with Kaiser normalisation, as psych's ``fa(rotate = "promax")``.

    Notes
    -----
    psych calls ``kaiser(loadings, rotate = "Promax")``: rows are divided by
    ``sqrt(h2)``, ``psych::Promax`` (varimax, target ``Q = X |X|^(m-1)``,
    ``U = (X'X)^-1 X'Q`` rescaled by ``sqrt(diag((U'U)^-1))``) is applied and the
    rows are multiplied back.  ``Phi = U^-1 (U^-1)'``; ``rot.mat = varimax rotmat %*% U``.
    R: ``psych::kaiser(A, rotate = "Promax")``.
    """
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        raise ModelSpecificationError("Rotation does not make sense for a single factor.")
    h = np.sqrt((A * A).sum(axis=1))[:, None]
    r = _promax_psych(A / h, m=m)
    return Rotation(loadings=r.loadings * h, phi=r.phi, rotation_matrix=r.rotation_matrix,
                    th=r.th, criterion=r.criterion, iterations=r.iterations,
                    converged=r.converged, method="promax", orthogonal=False)


def stats_promax(A: np.ndarray, *, m: float = 4.0) -> Rotation:
    """``stats::promax`` as ``psych::principal(rotate = "promax")`` uses it.

    Notes
    -----
    No Kaiser row normalisation beyond varimax's own; the factor correlations
    are ``cov2cor(U^-1 U^-T)`` (psych::principal).  R: ``stats::promax(A, m = 4)``.
    """
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        raise ModelSpecificationError("Rotation does not make sense for a single factor.")
    r = _promax_psych(A, m=m)
    d = 1.0 / np.sqrt(np.diag(r.phi))
    return Rotation(loadings=r.loadings, phi=r.phi * np.outer(d, d),
                    rotation_matrix=r.rotation_matrix, th=r.th, criterion=r.criterion,
                    iterations=r.iterations, converged=r.converged, method="promax",
                    orthogonal=False)


# ----------------------------------------------------------------------------- dispatcher
#: rotation name -> (kind, criterion); names follow psych (geominQ/bentlerQ oblique,
#: geominT/bentlerT orthogonal); "geomin" and "bentler" mean the oblique versions.
ROTATIONS: dict[str, tuple[str, str | None]] = {
    "none": ("none", None),
    "varimax": ("varimax", None),
    "promax": ("promax", None),
    "quartimax": ("orth", "quartimax"),
    "gpa_varimax": ("orth", "varimax"),
    "oblimin": ("obl", "oblimin"),
    "quartimin": ("obl", "quartimin"),
    "geomin": ("obl", "geomin"),
    "geominq": ("obl", "geomin"),
    "geomint": ("orth", "geomin"),
    "bentler": ("obl", "bentler"),
    "bentlerq": ("obl", "bentler"),
    "bentlert": ("orth", "bentler"),
    "bifactor": ("orth", "bimin"),          # psych::bifactor (GPForth, vgQ.bimin)
    "biquartimin": ("obl", "bimin"),        # psych::biquartimin (GPFoblq, vgQ.bimin)
    "equamax": ("equamax", "cf"),           # psych::equamax: cfT with kappa = k / (2 p)
    "oblimax": ("obl", "oblimax"),          # GPArotation::oblimax
    "simplimax": ("obl", "simplimax"),      # GPArotation::simplimax (k = number of items)
}


def _get_criterion(name: str) -> Callable:
    try:
        return _CRITERIA[name]
    except KeyError:
        raise ModelSpecificationError(
            f"Unknown rotation criterion {name!r}; choose one of {sorted(_CRITERIA)}.") from None


def canonical_rotation(rotation: str | None, caller: str = "fa") -> str:
    """Normalise a rotation name (case-insensitive) or raise a clear error."""
    if rotation is None:
        return "none"
    if not isinstance(rotation, str):
        raise ModelSpecificationError(
            f"The 'rotation' parameter of {caller} must be a string. Got {rotation!r} instead.")
    key = rotation.strip().lower()
    if key == "varimax" and rotation.strip() == "Varimax":
        key = "gpa_varimax"
    if key not in ROTATIONS:
        raise ModelSpecificationError(
            f"The 'rotation' parameter of {caller} must be one of "
            f"{', '.join(repr(k) for k in ROTATIONS)}. Got {rotation!r} instead.")
    return key


def rotate(A: np.ndarray, rotation: str = "oblimin", **kwargs) -> Rotation | None:
    """Rotate loadings ``A`` by name; returns None for ``"none"``.

    ``"varimax"`` is ``stats::varimax`` and ``"promax"`` psych's Kaiser-normalised
    promax (what ``psych::fa`` uses); ``"gpa_varimax"`` is GPArotation's Varimax.
    ``"bifactor"`` and ``"biquartimin"`` are psych's, ``"equamax"`` psych's
    Crawford-Ferguson rotation with ``kappa = k / (2 p)``; ``gam=`` sets oblimin's gamma
    (GPArotation ``oblimin(L, gam=)``).
    """
    key = canonical_rotation(rotation, "rotate")
    kind, crit = ROTATIONS[key]
    if kind == "none":
        return None
    if kind == "varimax":
        return varimax(A, **kwargs)
    if kind == "promax":
        return promax(A, **kwargs)
    if kind == "equamax":
        A = np.asarray(A, dtype=float)
        kwargs.pop("Tmat", None)                    # psych::equamax always starts at I
        return gpf_orthogonal(A, crit, kappa=A.shape[1] / (2 * A.shape[0]), **kwargs)
    if kind == "orth":
        return gpf_orthogonal(A, crit, **kwargs)
    return gpf_oblique(A, crit, **kwargs)
