"""Standardized solutions (lavaan ``standardizedSolution``, types ``std.lv`` and ``std.all``).

std.lv rescales latent variables to unit variance; std.all also observed
variables. Covariances are standardized by the square roots of the variance
*parameters* of the two variables (``cov.std = TRUE``: residual correlations),
variances by the total (implied) variance. Standard errors by the delta method
with a complex-step Jacobian (lavaan ``lav_func_jacobian_complex``).
"""
from __future__ import annotations

import numpy as np

from .defined import evaluate_definitions
from .estimate import Problem, row_values
from .matrices import fill, implied

__all__ = ["model_sds", "standardize_rows", "standardized_values", "standardized_with_se"]


def model_sds(prob: Problem, values: np.ndarray):
    """Per group: (sd of latent variables by name, sd of observed variables by name)."""
    out = []
    lat = prob.rep.lat
    for g in range(len(prob.rep.groups)):
        M = fill(prob.rep, g, values)
        Sigma, _, _, _, _, _, Veta = implied(M)
        eta2 = np.diag(Veta)
        ov2 = np.diag(Sigma)
        out.append(({v: eta2[k] for k, v in enumerate(lat) if v in prob.pt.names.lv},
                    {v: ov2[k] for k, v in enumerate(prob.rep.ov)}))
    return out


def _sqrt(x):
    if np.iscomplexobj(x):
        return np.sqrt(x)
    return np.sqrt(x) if x >= 0 else np.nan


def standardize_rows(lhs, op, rhs, group, est, sds, lvset, kind: str = "std.all", nox=()):
    """Standardize parameter values row by row (lavaan ``lav_standardize_lv/all``).

    ``sds[g] = (eta_var, ov_var)`` dictionaries of *variances* for group ``g`` (0-based).
    ``nox``: exogenous covariates left unstandardized (lavaan ``std.nox``).
    """
    nox = set(nox)
    n = len(est)
    out = np.array(est, dtype=np.result_type(est, float), copy=True)
    # raw variance parameters for cov.std
    rv = {}
    for r in range(n):
        if op[r] == "~~" and lhs[r] == rhs[r]:
            x = est[r]
            rv[(group[r], lhs[r])] = np.sqrt(x) if np.iscomplexobj(est) else np.sqrt(abs(x))
    for r in range(n):
        g = group[r] - 1
        eta2, ov2 = sds[g]
        o, l, rr = op[r], lhs[r], rhs[r]
        l_lv, r_lv = l in lvset, rr in lvset
        # ---- std.lv
        if o == "=~":
            out[r] = out[r] * _sqrt(eta2[l])
            if r_lv:
                out[r] = out[r] / _sqrt(eta2[rr])
        elif o in ("~", "<~"):
            if l_lv:
                out[r] = out[r] / _sqrt(eta2[l])
            if r_lv:
                out[r] = out[r] * _sqrt(eta2[rr])
        elif o == "~~":
            if l == rr:
                if l_lv:
                    out[r] = out[r] / eta2[l]
            else:
                if l_lv:
                    out[r] = out[r] / rv[(group[r], l)]
                if r_lv:
                    out[r] = out[r] / rv[(group[r], rr)]
        elif o == "~1" and l_lv:
            out[r] = out[r] / _sqrt(eta2[l])
        if kind == "std.lv":
            continue
        # ---- std.all
        if o == "=~" and not r_lv:
            out[r] = out[r] / _sqrt(ov2[rr])
        elif o in ("~", "<~"):
            if not l_lv:
                out[r] = out[r] / _sqrt(ov2[l])
            if not r_lv and rr not in nox:
                out[r] = out[r] * _sqrt(ov2[rr])
        elif o == "~~":
            if l == rr:
                if not l_lv and l not in nox:
                    out[r] = out[r] / ov2[l]
            else:
                if not l_lv and l not in nox:
                    out[r] = out[r] / rv[(group[r], l)]
                if not r_lv and rr not in nox:
                    out[r] = out[r] / rv[(group[r], rr)]
        elif o == "~1" and not l_lv:
            out[r] = out[r] / _sqrt(ov2[l])
    return out


def standardized_values(prob: Problem, theta: np.ndarray, defs, kind: str):
    """Standardized value of every table row followed by every defined parameter."""
    values = row_values(prob, theta)
    pt = prob.pt
    sds = model_sds(prob, values)
    std = standardize_rows(pt.c("lhs"), pt.c("op"), pt.c("rhs"), pt.c("group"), values, sds,
                           set(pt.names.lv), kind)
    if defs:
        labels = {}
        for r, lbl in enumerate(pt.c("label")):
            if lbl and lbl not in labels:
                labels[lbl] = std[r]
        d = evaluate_definitions(defs, labels)
        std = np.concatenate([std, np.array([d[x.name] for x in defs], dtype=std.dtype)])
    return std


def standardized_with_se(prob: Problem, theta: np.ndarray, vcov, defs, kind: str):
    """Standardized values and delta-method SEs (complex-step Jacobian)."""
    est = standardized_values(prob, theta, defs, kind).real
    if vcov is None:
        return est, np.full(len(est), np.nan)
    n = len(theta)
    h = 1e-20
    J = np.zeros((len(est), n))
    for j in range(n):
        x = theta.astype(complex)
        x[j] += 1j * h
        J[:, j] = standardized_values(prob, x, defs, kind).imag / h
    V = J @ vcov @ J.T
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    return est, se
