"""Two-level SEM internals: level blocks -> two parameter tables -> one parameter vector.

:func:`split_levels` cuts the syntax into its ``level: 1`` / ``level: 2`` blocks; each block
becomes an ordinary single-level parameter table (:mod:`.partable`) and LISREL
representation (:mod:`.matrices`). :class:`_Model` maps both onto one free-parameter
vector and gives the two-level -2 logL with its analytic gradient
(:mod:`.twolevel_stats`); :func:`_optimize` (BFGS, then Newton on the Hessian of the
analytic gradient), cluster-wise scores for robust SEs, standardized values and ``:=``
definitions work on it.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt

from ..exceptions import ModelSyntaxError
from .estimate import make_problem, start_values
from .matrices import build_representation, fill, implied, jacobian
from .partable import ParTable, VariableNames, build_partable
from .samplestats import SampleStats
from .standardize import standardize_rows
from .syntax import parse_model
from .twolevel_stats import ClusterStats, H1, gradient_moments, minus2logl

__all__ = ["split_levels"]

_LEVEL_RE = re.compile(r"^\s*level\s*:\s*([A-Za-z0-9_]+)\s*$", re.IGNORECASE)
_LEVEL_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


def split_levels(model: str) -> dict[int, str]:
    """Split two-level lavaan syntax into its ``level: 1`` and ``level: 2`` blocks.

    Lines of the other block are blanked (not removed), so the parser's line numbers
    still refer to the user's text. Returns ``{1: text, 2: text}``.
    """
    if not isinstance(model, str):
        raise ModelSyntaxError(f"The model argument must be a string of lavaan syntax, "
                               f"got {type(model).__name__}.")
    lines = model.splitlines()
    owner = [0] * len(lines)
    current = 0
    seen: dict[int, int] = {}
    for i, raw in enumerate(lines):
        body = raw.split("#")[0].split("!")[0]
        m = _LEVEL_RE.match(body)
        if m:
            key = m.group(1).lower()
            if key not in _LEVEL_NAMES:
                raise ModelSyntaxError(
                    f"Model syntax line {i + 1}: unknown level {m.group(1)!r}; use 'level: 1' "
                    f"(or 'within') and 'level: 2' (or 'between').", line=i + 1,
                    token=m.group(1))
            current = _LEVEL_NAMES[key]
            if current in seen:
                raise ModelSyntaxError(
                    f"Model syntax line {i + 1}: level {current} is declared twice (first on "
                    f"line {seen[current]}).", line=i + 1, token=m.group(1))
            seen[current] = i + 1
            owner[i] = -1
            continue
        if "level" in body.lower() and re.match(r"^\s*level\s*:", body, re.IGNORECASE):
            raise ModelSyntaxError(f"Model syntax line {i + 1}: malformed level line {raw!r}.",
                                   line=i + 1, token=raw.strip())
        owner[i] = current
        if current == 0 and body.strip():
            raise ModelSyntaxError(
                f"Model syntax line {i + 1}: statement before the first 'level:' line; a "
                f"two-level model needs 'level: 1' and 'level: 2' blocks.", line=i + 1,
                token=body.strip())
    for lev in (1, 2):
        if lev not in seen:
            raise ModelSyntaxError(
                f"The two-level model syntax has no 'level: {lev}' block; lavaan needs both "
                f"'level: 1' (within) and 'level: 2' (between).", token=f"level: {lev}")
    return {lev: "\n".join(ln if owner[i] == lev else "" for i, ln in enumerate(lines))
            for lev in (1, 2)}


def _renumber(pt: ParTable) -> ParTable:
    """Compact the free-parameter index after fixing rows (keeps equality labels)."""
    par = list(pt.c("par"))
    remap: dict[int, int] = {}
    for k in par:
        if k >= 0 and k not in remap:
            remap[k] = len(remap)
    new_par = [remap[k] if k >= 0 else -1 for k in par]
    cols = dict(pt.cols)
    cols["par"] = new_par
    tab = pt.table.copy()
    tab["par"] = new_par
    return dataclasses.replace(pt, table=tab, cols=cols, npar=len(remap))


def _fix_rows(pt: ParTable, rows, value: float) -> ParTable:
    cols = {k: list(v) for k, v in pt.cols.items()}
    for r in rows:
        cols["free"][r] = False
        cols["ustart"][r] = value
        cols["par"][r] = -1
        cols["exo"][r] = 0
    tab = pt.table.copy()
    for c in ("free", "ustart", "par", "exo"):
        tab[c] = cols[c]
    return _renumber(dataclasses.replace(pt, table=tab, cols=cols))


def _baseline_table(ov: tuple[str, ...], ov_x: tuple[str, ...], level: int,
                    y_level1: set) -> ParTable:
    """Independence model of one level: variances (and level-2 means) free, fixed.x
    covariate moments fixed (lavaan ``lav_partable_independence`` with levels)."""
    nox = [v for v in ov if v not in ov_x]
    parsed = parse_model("\n".join(f"{v} ~~ {v}" for v in nox)) if nox else None
    if parsed is not None:
        pt = build_partable(parsed, meanstructure=True, fixed_x=False)
        cols = {k: list(v) for k, v in pt.cols.items()}
    else:
        cols = {k: [] for k in ("id", "lhs", "op", "rhs", "user", "group", "free", "ustart",
                                "label", "start", "exo", "line", "plabel", "par")}
    npar = max([-1] + cols["par"]) + 1
    for a_i, a in enumerate(ov_x):
        for b in ov_x[a_i:]:
            _append_row(cols, a, "~~", b, exo=1)
    for a in ov_x:
        _append_row(cols, a, "~1", "", exo=1)
    names = VariableNames(ov=tuple(nox) + tuple(ov_x), lv=(), ov_ind=(), ov_x=tuple(ov_x),
                          ov_y=(), lv_x=(), lv_y=(), eqs_y=(), eqs_x=())
    pt = ParTable(table=pd.DataFrame(cols), names=names, ngroups=1, meanstructure=True,
                  fixed_x=True, npar=npar, options=dict(std_lv=False, group_equal=(),
                                                        group_partial=()), cols=cols)
    if level == 1:
        fix = [r for r in range(len(cols["op"])) if cols["op"][r] == "~1"
               and cols["exo"][r] == 0 and cols["lhs"][r] in y_level1]
        pt = _fix_rows(pt, fix, 0.0)
    return pt


def _append_row(cols, lhs, op, rhs, exo=0):
    n = len(cols["lhs"])
    vals = dict(id=n + 1, lhs=lhs, op=op, rhs=rhs, user=0, group=1, free=False, ustart=np.nan,
                label="", start=np.nan, exo=exo, line=0, plabel=f".p{n + 1}.", par=-1)
    for k, v in vals.items():
        cols[k].append(v)


def _pd_for_start(S: np.ndarray) -> np.ndarray:
    """A positive definite version of an h1 level matrix for start values (the saturated
    maximum over PSD matrices can be singular): eigenvalues raised to 1e-6 of the mean
    variance."""
    if S.shape[0] == 0:
        return S
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    floor = 1e-6 * max(float(np.mean(np.abs(np.diag(S)))), 1e-12)
    if w.min() > floor:
        return S
    return (V * np.maximum(w, floor)) @ V.T


@dataclass(frozen=True)
class _Level:
    pt: ParTable
    prob: Any                    # sem Problem (table, representation, fixed values)
    gpar: np.ndarray             # global parameter index per table row (-1 fixed)
    pos: np.ndarray              # positions of this level's ov in the (z, y) vector
    ypos: np.ndarray             # level 1: positions of its ov in y


class _Model:
    """Both levels mapped onto one free-parameter vector."""

    def __init__(self, pt1: ParTable, pt2: ParTable, cs: ClusterStats, h1: H1):
        self.cs = cs
        self.defs = ()   # compiled ':=' definitions (set by fit_twolevel)
        y_index = {v: k for k, v in enumerate(cs.y)}
        zy = list(cs.z) + list(cs.y)
        zy_index = {v: k for k, v in enumerate(zy)}
        self.levels = []
        label_par: dict[str, int] = {}
        npar = 0
        for lev, pt in ((1, pt1), (2, pt2)):
            rep = build_representation(pt)
            ov = list(rep.ov)
            pos = np.array([zy_index[v] for v in ov], dtype=int)
            if lev == 1:
                ypos = np.array([y_index[v] for v in ov], dtype=int)
                cov = h1.sigma_w[np.ix_(ypos, ypos)]
                mean = h1.mu_w[ypos]
            else:
                ypos = np.array([], dtype=int)
                cov = h1.sigma_b[np.ix_(pos, pos)]
                mean = h1.mu_b[pos]
            ss = SampleStats(tuple(ov), (cs.nobs if lev == 1 else cs.nclusters,), (mean,),
                             (_pd_for_start(cov),), ())
            prob = make_problem(pt, rep, ss)
            local = np.asarray(pt.c("par"), dtype=int)
            labels = pt.c("label")
            gmap: dict[int, int] = {}
            for r, k in enumerate(local):
                if k < 0 or k in gmap:
                    continue
                lbl = labels[r]
                if lbl and lev == 2 and lbl in label_par:
                    gmap[k] = label_par[lbl]
                else:
                    gmap[k] = npar
                    npar += 1
                if lbl and lev == 1:
                    label_par.setdefault(lbl, gmap[k])
            gpar = np.array([gmap[k] if k >= 0 else -1 for k in local], dtype=int)
            self.levels.append(_Level(pt, prob, gpar, pos, ypos))
        self.npar = npar
        self.within_pos = np.array([y_index[v] for v in build_representation(pt1).ov], dtype=int)

    # ---- parameters
    def start(self) -> np.ndarray:
        theta = np.zeros(self.npar)
        for L in self.levels:
            loc = start_values(L.prob)
            free = L.gpar >= 0
            lp = np.asarray(L.pt.c("par"))
            theta[L.gpar[free]] = loc[lp[free]]
        return theta

    def row_values(self, theta: np.ndarray, lev: int) -> np.ndarray:
        L = self.levels[lev]
        v = L.prob.fixed.astype(np.result_type(L.prob.fixed, theta))
        free = L.gpar >= 0
        v[free] = theta[L.gpar[free]]
        return v

    # ---- implied moments
    def moments(self, theta: np.ndarray):
        cs = self.cs
        q = cs.py + cs.pz
        out = []
        for lev in range(2):
            M = fill(self.levels[lev].prob.rep, 0, self.row_values(theta, lev))
            parts = implied(M)
            out.append((M, parts))
        (M1, p1), (M2, p2) = out
        L1, L2 = self.levels
        sigma_w = np.zeros((cs.py, cs.py))
        sigma_w[np.ix_(L1.ypos, L1.ypos)] = p1[0]
        sigma_b = np.zeros((q, q))
        sigma_b[np.ix_(L2.pos, L2.pos)] = p2[0]
        mu = np.zeros(q)
        mu[cs.pz + L1.ypos] += p1[1]
        mu[L2.pos] += p2[1]
        return sigma_w, sigma_b, mu, out

    def _lik(self, sw, sb, mu, grad: bool):
        if getattr(self.cs, "missing", False):
            from .twolevel_missing import gradient_missing, minus2logl_missing
            return (gradient_missing if grad else minus2logl_missing)(self.cs, sw, sb, mu)
        return (gradient_moments if grad else minus2logl)(self.cs, sw, sb, mu)

    def f(self, theta):
        sw, sb, mu, _ = self.moments(theta)
        return self._lik(sw, sb, mu, False)

    def fg(self, theta):
        """-2 logL (no constant) and its gradient w.r.t. theta."""
        sw, sb, mu, parts = self.moments(theta)
        f, gW, gB, gmu = self._lik(sw, sb, mu, True)
        if not np.isfinite(f):
            return np.inf, np.full(self.npar, np.nan)
        grad = np.zeros(self.npar)
        cs = self.cs
        for lev, (M, pr) in enumerate(parts):
            L = self.levels[lev]
            rep = L.prob.rep
            dS, dm = jacobian(rep, 0, M, pr)
            if lev == 0:
                D = gW[np.ix_(L.ypos, L.ypos)]
                gm = gmu[cs.pz + L.ypos]
            else:
                D = gB[np.ix_(L.pos, L.pos)]
                gm = gmu[L.pos]
            g_rows = np.einsum("kij,ij->k", dS, D) + dm @ gm
            gp = L.gpar[rep.groups[0].rows]
            sel = gp >= 0
            np.add.at(grad, gp[sel], g_rows[sel])
        return f, grad


def _hessian(model: _Model, theta: np.ndarray, h: float = 1e-6,
             richardson: bool = False) -> np.ndarray:
    """Hessian of -2 logL by central differences of the analytic gradient
    (``(g(x+h) - g(x-h)) / 2h``: truncation error ~h^2, rounding ~1e-10 relative, far below
    the 1e-4 precision of standard errors); ``richardson=True``: lavaan's
    ``lav_model_hessian`` ``(g(x-2h) - 8g(x-h) + 8g(x+h) - g(x+2h)) / 12h`` (twice the cost)."""
    n = len(theta)
    H = np.zeros((n, n))
    if not richardson:
        for j in range(n):
            x = theta.copy()
            x[j] += h
            gp = model.fg(x)[1]
            x[j] -= 2 * h
            H[:, j] = (gp - model.fg(x)[1]) / (2 * h)
        return 0.5 * (H + H.T)
    for j in range(n):
        gs = []
        for d in (-2, -1, 1, 2):
            x = theta.copy()
            x[j] += d * h
            gs.append(model.fg(x)[1])
        H[:, j] = (gs[0] - 8 * gs[1] + 8 * gs[2] - gs[3]) / (12 * h)
    return 0.5 * (H + H.T)


def _optimize(model: _Model, theta0: np.ndarray, max_iter: int):
    scale = float(model.cs.nobs)

    def fun(x):
        f, g = model.fg(x)
        if not np.isfinite(f):
            return 1e300, np.zeros_like(x)
        return f / scale, g / scale

    res = sopt.minimize(fun, theta0, jac=True, method="BFGS",
                        options=dict(maxiter=max_iter, gtol=1e-7))
    theta = res.x
    iters = int(res.nit)
    f, g = model.fg(theta)
    # quasi-Newton polish with BFGS's inverse-Hessian approximation (no extra Hessian)
    Hinv = getattr(res, "hess_inv", None)
    if isinstance(Hinv, np.ndarray) and Hinv.shape == (len(theta), len(theta)):
        for _ in range(5):
            if not np.isfinite(f) or np.max(np.abs(g)) / scale < 1e-10:
                break
            step = -(Hinv @ (g / scale))
            f_new, g_new = model.fg(theta + step)
            if not (np.isfinite(f_new) and f_new <= f):
                break
            theta, f, g = theta + step, f_new, g_new
    # Newton polish on the numerical Hessian of the analytic gradient; the Hessian of a
    # last step shorter than 1e-7 is kept for the standard errors (its change over such a
    # step is far below the SE precision)
    H = None
    for _ in range(min(8, max(0, max_iter - iters))):
        if np.max(np.abs(g)) / scale < 1e-10:
            break
        H = _hessian(model, theta)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-6:
            f_new, g_new = model.fg(theta + t * step)
            if np.isfinite(f_new) and f_new <= f + 1e-12 * abs(f):
                break
            t *= 0.5
        else:
            break
        theta, f, g = theta + t * step, f_new, g_new
        iters += 1
        if np.max(np.abs(t * step)) > 1e-7:
            H = None
    converged = bool(np.isfinite(f) and np.max(np.abs(g)) / scale < 1e-6)
    msg = "gradient below tolerance" if converged else (res.message or "no convergence")
    if converged:
        # second-order check: a local minimum of -2 logL, not a saddle point (the Hessian
        # is needed for the standard errors anyway)
        if H is None:
            H = _hessian(model, theta)
        ok, lo = _second_order_ok(H)
        if ok:
            msg += "; second-order check passed"
        else:
            w, V = np.linalg.eigh(H)
            for sgn in (1.0, -1.0):          # leave the saddle along the negative curvature
                x = theta + sgn * 1e-2 * max(1.0, np.linalg.norm(theta)) * V[:, 0]
                if np.isfinite(model.f(x)) and model.f(x) < f and max_iter > iters:
                    return _optimize(model, x, max_iter - iters)
            converged, H = False, None
            msg = f"saddle point: Hessian eigenvalue {lo:.3g} < 0"
    return theta, f, g, H, iters, converged, str(msg)


def _second_order_ok(H: np.ndarray, rtol: float = 1e-6):
    """``(ok, smallest eigenvalue)``: ``H`` (Hessian of -2 logL) has no eigenvalue below
    ``-rtol`` times its largest absolute eigenvalue (finite-difference noise is far smaller)."""
    w = np.linalg.eigvalsh(H)
    return bool(w[0] >= -rtol * max(1.0, np.max(np.abs(w)))), float(w[0])


def _optimize_light(mdl):
    theta0 = mdl.start()
    scale = float(mdl.cs.nobs)

    def fun(x):
        f, g = mdl.fg(x)
        if not np.isfinite(f):
            return 1e300, np.zeros_like(x)
        return f / scale, g / scale

    res = sopt.minimize(fun, theta0, jac=True, method="BFGS", options=dict(gtol=1e-9,
                                                                          maxiter=5000))
    return res.x, mdl.f(res.x)


def _cluster_scores(mdl: _Model, theta: np.ndarray, Y: np.ndarray, codes: np.ndarray):
    """Scores ``d logL_j / d theta`` of every cluster (J x npar).

    ``-2 logL_j = (n_j - 1) log|W| + tr(W^-1 Wc_j) + log|V_j| + p_y log n_j + d_j' V_j^-1 d_j``
    (``Wc_j`` the within crossproduct of cluster j, ``d_j = b_j - mu``), differentiated as in
    :func:`.twolevel_stats.gradient_moments` and chained through each level's Jacobian.
    Their sum is the gradient (zero at the estimates).
    """
    cs = mdl.cs
    if getattr(cs, "missing", False):
        return _cluster_scores_missing(mdl, theta)
    J, py, pz = cs.nclusters, cs.py, cs.pz
    n = cs.cluster_size.astype(float)
    Bm = cs.cluster_means
    dev = Y - Bm[codes][:, pz:]
    Wc = np.zeros((J, py, py))
    np.add.at(Wc, codes, dev[:, :, None] * dev[:, None, :])
    sw, sb, mu, parts = mdl.moments(theta)
    Wi = np.linalg.inv(sw)
    V = np.repeat(sb[None], J, axis=0)
    V[:, pz:, pz:] += sw[None] / n[:, None, None]
    Vi = np.linalg.inv(V)
    Vd = np.einsum("jab,jb->ja", Vi, Bm - mu)
    G = Vi - Vd[:, :, None] * Vd[:, None, :]
    gW = (n - 1)[:, None, None] * Wi[None] - Wi[None] @ Wc @ Wi[None] \
        + G[:, pz:, pz:] / n[:, None, None]
    gmu = -2.0 * Vd
    S = np.zeros((J, mdl.npar))
    for lev, (M, pr) in enumerate(parts):
        L = mdl.levels[lev]
        rep = L.prob.rep
        dS, dm = jacobian(rep, 0, M, pr)
        if lev == 0:
            D, gm = gW[:, L.ypos][:, :, L.ypos], gmu[:, pz + L.ypos]
        else:
            D, gm = G[:, L.pos][:, :, L.pos], gmu[:, L.pos]
        g_rows = np.einsum("kab,jab->jk", dS, D) + gm @ dm.T
        gp = L.gpar[rep.groups[0].rows]
        sel = np.flatnonzero(gp >= 0)
        for c in sel:
            S[:, gp[c]] += g_rows[:, c]
    return -0.5 * S


def _cluster_scores_missing(mdl: _Model, theta: np.ndarray):
    """Cluster-wise scores with missing values (per-cluster derivatives of
    :func:`.twolevel_missing.gradient_missing`, chained through each level's Jacobian)."""
    from .twolevel_missing import gradient_missing
    cs = mdl.cs
    sw, sb, mu, parts = mdl.moments(theta)
    _, gW, G, gmu = gradient_missing(cs, sw, sb, mu, per_cluster=True)
    return -0.5 * _chain_scores(mdl, parts, gW, G, gmu)


def _chain_scores(mdl, parts, gW, G, gmu):
    cs = mdl.cs
    pz = cs.pz
    S = np.zeros((gW.shape[0], mdl.npar))
    for lev, (M, pr) in enumerate(parts):
        L = mdl.levels[lev]
        rep = L.prob.rep
        dS, dm = jacobian(rep, 0, M, pr)
        if lev == 0:
            D, gm = gW[:, L.ypos][:, :, L.ypos], gmu[:, pz + L.ypos]
        else:
            D, gm = G[:, L.pos][:, :, L.pos], gmu[:, L.pos]
        g_rows = np.einsum("kab,jab->jk", dS, D) + gm @ dm.T
        gp = L.gpar[rep.groups[0].rows]
        sel = np.flatnonzero(gp >= 0)
        for c in sel:
            S[:, gp[c]] += g_rows[:, c]
    return S


def _std_level(mdl: _Model, theta: np.ndarray, lev: int) -> np.ndarray:
    """std.all values of one level's rows (each level standardized by its own implied
    matrices, as lavaan's standardizedSolution); works with complex ``theta``."""
    L = mdl.levels[lev]
    pt = L.pt
    vals = mdl.row_values(theta, lev)
    M = fill(L.prob.rep, 0, vals)
    Sigma, _, _, _, _, _, Veta = implied(M)
    eta2 = {v: Veta[k, k] for k, v in enumerate(L.prob.rep.lat) if v in pt.names.lv}
    ov2 = {v: Sigma[k, k] for k, v in enumerate(L.prob.rep.ov)}
    return standardize_rows(pt.c("lhs"), pt.c("op"), pt.c("rhs"), [1] * len(vals), vals,
                            [(eta2, ov2)], set(pt.names.lv), "std.all")


def _std_all(mdl: _Model, theta: np.ndarray) -> np.ndarray:
    """std.all of every row of both levels, then of every defined parameter (the definition
    applied to the standardized labelled parameters, as lavaan)."""
    parts = [_std_level(mdl, theta, lev) for lev in range(2)]
    defs = getattr(mdl, "defs", ())
    if defs:
        from .defined import evaluate_definitions
        lab = {}
        for lev, std in enumerate(parts):
            for lbl, v in zip(mdl.levels[lev].pt.c("label"), std):
                if lbl and lbl not in lab:
                    lab[lbl] = v
        d = evaluate_definitions(defs, lab)
        parts.append(np.array([d[x.name] for x in defs], dtype=parts[0].dtype))
    return np.concatenate(parts)


def _label_values(mdl: _Model, theta: np.ndarray) -> dict:
    out = {}
    for lev, L in enumerate(mdl.levels):
        for lbl, v in zip(L.pt.c("label"), mdl.row_values(theta, lev)):
            if lbl and lbl not in out:
                out[lbl] = v
    return out


def _defined_values(mdl: _Model, theta: np.ndarray, defs) -> np.ndarray:
    from .defined import evaluate_definitions
    d = evaluate_definitions(defs, _label_values(mdl, theta))
    return np.array([d[x.name] for x in defs], dtype=np.result_type(theta, float))


def _complex_jacobian(fn, theta: np.ndarray, h: float = 1e-20) -> np.ndarray:
    """Jacobian by complex step (lavaan ``lav_func_jacobian_complex``)."""
    cols = []
    for j in range(len(theta)):
        x = theta.astype(complex)
        x[j] += 1j * h
        cols.append(np.imag(fn(x)) / h)
    return np.array(cols).T


def _level_means(mdl, theta, lev):
    M = fill(mdl.levels[lev].prob.rep, 0, mdl.row_values(theta, lev))
    return implied(M)[1]


def _param_names(mdl: _Model) -> list[str]:
    names = [""] * mdl.npar
    for lev, L in enumerate(mdl.levels):
        for l, o, r, k in zip(L.pt.c("lhs"), L.pt.c("op"), L.pt.c("rhs"), L.gpar):
            if k >= 0 and not names[k]:
                names[k] = f"{l}{o}{r}.l{lev + 1}"
    return names
