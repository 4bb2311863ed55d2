"""Modification indices and expected parameter changes (lavaan ``modindices``).

Candidate parameters are those of lavaan's ``lav_partable_full`` that are not
in the model: loadings of every latent on every non-exogenous observed
variable, all (co)variances among non-exogenous observed variables and among
latent variables, regressions among variables already in regressions, and
intercepts when there is a mean structure.

For the candidates (index 1) given the model parameters (index 2), with the
expected information ``I`` of the extended model and the gradient ``g`` of
``fmin`` at the estimates (candidates at 0)::

    V   = I11 - I12 I22^-1 I21
    mi  = N g^2 / diag(V)
    epc = -g / diag(V)

``sepc.lv``/``sepc.all``/``sepc.nox`` standardize |epc| as the standardized
solution does, keeping the sign.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .estimate import evaluate, make_problem, row_values
from .matrices import build_representation
from .standardize import model_sds, standardize_rows

__all__ = ["candidate_rows", "modification_indices"]


def candidate_rows(pt) -> list[tuple[str, str, str, int]]:
    """(lhs, op, rhs, group) of lavaan's full parameter table not yet in the model."""
    n = pt.names
    ov, ov_x, ov_ind, lv = list(n.ov), list(n.ov_x) if pt.fixed_x else [], list(n.ov_ind), list(n.lv)
    ov_nox = [v for v in ov if v not in ov_x]
    eqs = list(dict.fromkeys(list(n.eqs_y) + list(n.eqs_x)))
    t = pt.table
    existing = set()
    for lhs, op, rhs, g in zip(t["lhs"], t["op"], t["rhs"], t["group"]):
        existing.add((lhs, op, rhs, g))
        if op == "~~":
            existing.add((rhs, op, lhs, g))
    out = []
    for g in range(1, pt.ngroups + 1):
        rows = []
        rows += [(l, "=~", r) for l in lv for r in ov_nox if r not in eqs]
        other = [v for v in ov if v not in ov_ind]
        nx = len(ov_nox)
        for j in range(nx):
            for i in range(j, nx):
                a, b = ov_nox[j], ov_nox[i]
                if a in other or b in other:
                    continue
                rows.append((a, "~~", b))
        nl = len(lv)
        for j in range(nl):
            for i in range(j, nl):
                rows.append((lv[j], "~~", lv[i]))
        for y in eqs:
            for x in eqs:
                if y == x or (y in ov_ind and x in lv):
                    continue
                rows.append((y, "~", x))
        if pt.meanstructure:
            rows += [(v, "~1", "") for v in ov + lv]
        xs = set(ov_x)
        for lhs, op, rhs in rows:
            if lhs in xs and rhs in xs:
                # fixed.x: parameters among the covariates alone only change their
                # (saturated, conditioned-on) distribution; lavaan reports none of them
                continue
            if (lhs, op, rhs, g) not in existing:
                out.append((lhs, op, rhs, g))
                existing.add((lhs, op, rhs, g))
                if op == "~~":
                    existing.add((rhs, op, lhs, g))
    return out


def modification_indices(prob, theta, sort: bool = True, minimum_value: float = 0.0):
    """Modification indices for all candidate parameters.

    Returns a DataFrame with ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all, sepc_nox``.
    """
    pt = prob.pt
    cands = candidate_rows(pt)
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
    if not cands and not (pt.table["par"].to_numpy() < 0).any():
        return pd.DataFrame(columns=cols)
    t = pt.table
    k0 = pt.npar
    # lavaan lav_object_extended(all.free = TRUE): every fixed row is freed as a candidate
    fixed_rows = np.flatnonzero((t["par"].to_numpy() < 0) & (t["op"].to_numpy() != ":=")
                                & (t["exo"].to_numpy() == 0))
    ext_par = t["par"].to_numpy().copy()
    ext_par[fixed_rows] = np.arange(k0, k0 + len(fixed_rows))
    k1 = k0 + len(fixed_rows)
    extra = pd.DataFrame({
        "id": np.arange(len(t) + 1, len(t) + len(cands) + 1),
        "lhs": [c[0] for c in cands], "op": [c[1] for c in cands], "rhs": [c[2] for c in cands],
        "user": 10, "group": [c[3] for c in cands], "free": True, "ustart": np.nan, "label": "",
        "start": np.nan, "exo": 0, "line": 0, "plabel": "",
        "par": np.arange(k1, k1 + len(cands)),
    })
    base = t.copy()
    base["par"] = ext_par
    ext_tab = pd.concat([base, extra], ignore_index=True)
    ext_pt = replace(pt, table=ext_tab, npar=k1 + len(cands), cols=None)
    ext_rep = build_representation(ext_pt)
    ext_prob = make_problem(ext_pt, ext_rep, prob.ss)
    values0 = row_values(prob, theta)
    x = np.concatenate([theta, values0[fixed_rows], np.zeros(len(cands))])
    _, grad, info = evaluate(ext_prob, x, info=True)
    m_idx = np.arange(k0)
    e_idx = np.arange(k0, k1 + len(cands))
    I11 = info[np.ix_(e_idx, e_idx)]
    I12 = info[np.ix_(e_idx, m_idx)]
    I22 = info[np.ix_(m_idx, m_idx)]
    V = I11 - I12 @ np.linalg.solve(I22, I12.T)
    vd = np.diag(V).copy()
    vd[vd < np.finfo(float).eps ** (1 / 3)] = np.nan
    N = prob.ss.ntotal
    s = grad[e_idx]
    mi = N * s * s / vd
    d = -N * s
    d[np.abs(d) < 1e-15] = 1.0
    epc = mi / d
    # standardized EPC: model rows carry their estimates (variances) or epc
    values = row_values(prob, theta)
    # model rows: free ones keep their estimate (only variances are used), fixed ones get |epc|
    est_all = np.concatenate([values, np.abs(epc[len(fixed_rows):])])
    is_var = (ext_tab["op"].to_numpy() == "~~") & (ext_tab["lhs"].to_numpy() == ext_tab["rhs"].to_numpy())
    exo = ext_tab["exo"].to_numpy() == 1
    fixed_est = np.abs(epc[:len(fixed_rows)])
    keep_est = is_var[fixed_rows] & ~exo[fixed_rows]
    est_all[fixed_rows] = np.where(keep_est, values[fixed_rows], fixed_est)
    lhs = ext_tab["lhs"].to_numpy()
    op = ext_tab["op"].to_numpy()
    rhs = ext_tab["rhs"].to_numpy()
    grp = ext_tab["group"].to_numpy()
    sds = model_sds(prob, values)
    lvset = set(pt.names.lv)
    small = (op == "~~") & (lhs == rhs) & (np.abs(est_all) < np.sqrt(np.finfo(float).eps))
    est_all = est_all.copy()
    est_all[small] = np.nan
    sign = np.sign(epc)
    with np.errstate(invalid="ignore", divide="ignore"):
        sel = np.concatenate([fixed_rows, np.arange(len(t), len(ext_tab))])
        slv = standardize_rows(lhs, op, rhs, grp, est_all, sds, lvset, "std.lv")[sel] * sign
        sall = standardize_rows(lhs, op, rhs, grp, est_all, sds, lvset, "std.all")[sel] * sign
        ox = set(pt.names.ov_x) if pt.fixed_x else set()
        if ox:
            snox = standardize_rows(lhs, op, rhs, grp, est_all, sds, lvset, "std.all",
                                    nox=ox)[sel] * sign
        else:
            snox = sall
    sm = small[sel]
    slv[sm] = 0.0
    sall[sm] = 0.0
    cand = ext_tab.iloc[sel]
    out = pd.DataFrame({"lhs": cand["lhs"].to_numpy(), "op": cand["op"].to_numpy(),
                        "rhs": cand["rhs"].to_numpy(),
                        "group": cand["group"].to_numpy().astype(int), "mi": mi, "epc": epc,
                        "sepc_lv": slv, "sepc_all": sall, "sepc_nox": snox})
    out = out[np.isfinite(out["mi"])]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    if minimum_value > 0:
        out = out[out["mi"] > minimum_value]
    return out.reset_index(drop=True)
