"""Multi-group ordinal CFA (WLSMV / DWLS / ULSMV / ULS) with the identification of Wu &
Estabrook (2016).

Equal to lavaan 0.6-14 ``cfa(syntax, data, ordered =, group =, parameterization =)`` fitted
to the syntax that semTools 0.5-6 ``measEq.syntax(model, ID.fac = "std.lv",
ID.cat = "Wu.Estabrook.2016", group.equal = ...)`` writes.

Model per group g (latent responses y*, LISREL notation):
y* = nu + Lambda eta + eps, E(eta) = alpha, Cov(eta) = Psi, Cov(eps) = Theta.
Implied statistics: thresholds (tau_ic - mu*_i) d_i and correlations d_i d_j Sigma*_ij,
with mu* = nu + Lambda alpha, Sigma* = Lambda Psi Lambda' + Theta and d the scale factors
(delta parameterization: d is a parameter and diag(Theta) = 1/d^2 - diag(Lambda Psi
Lambda'); theta parameterization: diag(Theta) is a parameter and d = diag(Sigma*)^-1/2).

Estimation: F = sum_g (N_g - 1) (s_g - sigma_g)' W_g (s_g - sigma_g), W_g = diag(NACOV_g)^-1
(DWLS, WLSMV) or W_g = I (ULS, ULSMV)
(lavaan: fx = sum_g N_g/N * 0.5 (N_g - 1)/N_g F_g; chisq = 2 N fx); robust SEs
V = E^-1 B E^-1 / (N - G), E = sum_g f_g D_g' W_g D_g, B = sum_g f_g D_g' W_g Gamma_g W_g D_g,
f_g = N_g / N; scaled-shifted test from the stacked U Gamma (lavaan >= 0.6-13).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._blas import single_blas_thread
from ..exceptions import (ConvergenceWarning, DataValidationError, IdentificationError,
                          ModelSpecificationError)
from .estimator import FitSpec
from .fit_measures import agfi, gfi, hoelter_cn, mfi, pgfi, wls_residual_rms, wrmr
from .ordinal import check_ordinal_estimator, discrepancy, is_robust, weights
from .ordinal_stats import OrdinalStats, ordinal_stats
from .partable import variable_names
from .results import SEMResultBase, inference
from .syntax import parse_model

__all__ = ["measeq_table", "measeq_syntax", "fit_ordinal_mg", "OrdinalMGResult",
           "ORDINAL_GROUP_EQUAL"]

#: constraint types of the Wu & Estabrook sequence (semTools ``group.equal``)
ORDINAL_GROUP_EQUAL = ("thresholds", "loadings", "intercepts", "means", "residuals",
                       "residual.covariances", "lv.variances", "lv.covariances")
_ALIASES = {"residual_covariances": "residual.covariances", "lv_variances": "lv.variances",
            "lv_covariances": "lv.covariances"}


# --------------------------------------------------------------------------------------
# parameter table: semTools measEq.syntax, ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016"
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasEqTable:
    """Rows of the measEq-style model (one per parameter and group).

    ``rows`` is a DataFrame with ``group, mat, lhs, op, rhs, i, j, value, label``:
    ``mat`` one of lambda, tau, nu, delta, theta, alpha, psi; ``value`` NaN = free;
    ``i, j`` matrix indices (tau: variable and threshold number).
    """

    rows: pd.DataFrame
    ov: tuple
    lv: tuple
    nthr: Mapping
    ngroups: int
    parameterization: str
    group_equal: tuple
    group_partial: tuple

    def syntax(self) -> str:
        """The lavaan syntax, as ``as.character(measEq.syntax(...))`` writes it."""
        return _write_syntax(self)


def _parse_partial(group_partial) -> tuple:
    out = []
    for s in group_partial or ():
        txt = str(s).strip()
        for op in ("=~", "~~", "~1", "|", "~"):
            if op in txt:
                lhs, rhs = (t.strip() for t in txt.split(op, 1))
                if op == "~" and rhs == "1":
                    op, rhs = "~1", ""
                out.append((lhs, op, rhs))
                break
        else:
            raise ModelSpecificationError(
                f"group_partial entry {s!r} is not a parameter such as 'x1 | t1', "
                f"'f =~ x1', 'x1 ~ 1' or 'x1 ~~ x1'.")
    return tuple(out)


def _norm_equal(group_equal) -> tuple:
    if group_equal is None:
        return ()
    if isinstance(group_equal, str):
        group_equal = [group_equal]
    out = []
    for g in group_equal:
        g2 = _ALIASES.get(g, g)
        if g2 not in ORDINAL_GROUP_EQUAL:
            raise ModelSpecificationError(
                f"The 'group_equal' argument contains {g!r}; allowed for ordinal models: "
                f"{', '.join(ORDINAL_GROUP_EQUAL)}.")
        out.append(g2)
    return tuple(out)


def measeq_table(model: str, nthr: Mapping[str, int], ngroups: int, group_equal=None,
                 group_partial=None, parameterization: str = "delta") -> MeasEqTable:
    """The Wu & Estabrook (2016) model of semTools 0.5-6 ``measEq.syntax`` (ID.fac "std.lv").

    Parameters
    ----------
    model : str
        One-group measurement model (``=~`` and residual covariances ``~~``).
    nthr : mapping
        Number of thresholds (categories - 1) of each ordinal indicator.
    ngroups : int
    group_equal : list of str
        Any of ``thresholds, loadings, intercepts, means, residuals (theta only),
        residual.covariances, lv.variances, lv.covariances``.
    group_partial : list of str
        Parameters exempt from ``group_equal``, e.g. ``["x1 | t2", "f =~ x3", "x4 ~ 1"]``.
    parameterization : {"delta", "theta"}

    Notes
    -----
    Identification (semTools ``ID.cat = "Wu.Estabrook.2016"``): factor means 0 and
    variances 1 in every group; intercepts 0 and scales (delta) or residual variances
    (theta) 1. In groups 2, ..., G an intercept is freed when at least one of its item's
    thresholds is equal across groups and the intercepts are not; the scale / residual
    variance is freed when at least two thresholds are equal, or one and the intercept;
    a factor variance is freed when a loading of the factor is equal; a factor mean when
    the intercept of one of its indicators (without cross-loadings) is equal.
    """
    if parameterization not in ("delta", "theta"):
        raise ModelSpecificationError(
            f"The 'parameterization' argument must be 'delta' or 'theta', got "
            f"{parameterization!r}.")
    ge = _norm_equal(group_equal)
    partial = _parse_partial(group_partial)
    if parameterization == "delta" and "residuals" in ge:
        raise ModelSpecificationError(
            "Residual variances cannot be tested for invariance across groups when "
            "parameterization = 'delta'. Use parameterization='theta'.")
    parsed = parse_model(model)
    bad = [s for s in parsed.statements if s.op not in ("=~", "~~")]
    if bad:
        raise ModelSpecificationError(
            f"Ordinal invariance models take a measurement model (=~ and residual ~~ "
            f"statements); model line {bad[0].line} has {bad[0].op!r}.")
    mod = [s for s in parsed.statements
           if s.modifier.fixed is not None or s.modifier.label is not None]
    if mod:
        raise ModelSpecificationError(
            f"Model line {mod[0].line} fixes or labels '{mod[0].lhs} {mod[0].op} {mod[0].rhs}'; "
            f"the Wu & Estabrook identification sets every fixed value and label itself. "
            f"Give the configural model without modifiers.")
    names = variable_names(parsed.statements)
    ov, lv = list(names.ov), list(names.lv)
    missing = [v for v in ov if v not in nthr]
    if missing:
        raise ModelSpecificationError(f"Indicators {missing} are not ordinal (no thresholds).")
    load = [(s.lhs, s.rhs) for s in parsed.statements if s.op == "=~"]
    lam_spec = {(f, i) for f, i in load}
    rescov = []
    for s in parsed.statements:
        if s.op == "~~":
            if s.lhs in lv or s.rhs in lv:
                continue            # latent (co)variances are all specified anyway
            if s.lhs == s.rhs:
                continue            # residual variances follow the identification rules
            a, b = ov.index(s.lhs), ov.index(s.rhs)
            rescov.append((max(a, b), min(a, b)))
    oi = {v: k + 1 for k, v in enumerate(ov)}
    fi = {v: k + 1 for k, v in enumerate(lv)}

    def part(lhs, op, rhs=""):
        return (lhs, op, rhs) in partial

    eq = lambda t: t in ge      # noqa: E731
    G = ngroups
    rows = []

    def add(g, mat, lhs, op, rhs, i, j, value, label):
        rows.append(dict(group=g, mat=mat, lhs=lhs, op=op, rhs=rhs, i=i, j=j, value=value,
                         label=label))

    sfx = lambda g, equal: "" if (equal or G == 1) else f".g{g}"     # noqa: E731
    # number of thresholds equal across groups, per item
    neq = {v: sum(1 for t in range(1, nthr[v] + 1)
                  if eq("thresholds") and not part(v, "|", f"t{t}")) for v in ov}
    for g in range(1, G + 1):
        for f in lv:                                          # LOADINGS
            for v in ov:
                if (f, v) in lam_spec:
                    e = eq("loadings") and not part(f, "=~", v)
                    add(g, "lambda", f, "=~", v, oi[v], fi[f], np.nan,
                        f"lambda.{oi[v]}_{fi[f]}" + sfx(g, e))
        for v in ov:                                          # THRESHOLDS
            for t in range(1, nthr[v] + 1):
                e = eq("thresholds") and not part(v, "|", f"t{t}")
                add(g, "tau", v, "|", f"t{t}", oi[v], t, np.nan, f"{v}.thr{t}" + sfx(g, e))
        for v in ov:                                          # INTERCEPTS
            e_int = eq("intercepts") and not part(v, "~1")
            val = 0.0
            if g > 1 and neq[v] >= 1 and not e_int:
                val = np.nan
            add(g, "nu", v, "~1", "", oi[v], 1, val, f"nu.{oi[v]}" + sfx(g, e_int))
        for v in ov:                                          # SCALES / RESIDUAL VARIANCES
            e_int = eq("intercepts") and not part(v, "~1")
            e_res = eq("residuals") and not part(v, "~~", v)
            val = 1.0
            if g > 1 and (neq[v] >= 2 or (neq[v] >= 1 and e_int)) and not e_res:
                val = np.nan
            if parameterization == "delta":
                add(g, "delta", v, "~*~", v, oi[v], oi[v], val, "")
            else:
                add(g, "theta", v, "~~", v, oi[v], oi[v], val,
                    f"theta.{oi[v]}_{oi[v]}" + sfx(g, e_res))
        for a, b in rescov:                                   # RESIDUAL COVARIANCES
            e = eq("residual.covariances") and not (part(ov[a - 1], "~~", ov[b - 1])
                                                     or part(ov[b - 1], "~~", ov[a - 1]))
            add(g, "theta", ov[b - 1], "~~", ov[a - 1], a, b, np.nan,
                f"theta.{a}_{b}" + sfx(g, e))
        for f in lv:                                          # LATENT MEANS
            e = eq("means") and not part(f, "~1")
            val = 0.0
            if g > 1:
                inds = [v for v in ov if (f, v) in lam_spec
                        and sum((h, v) in lam_spec for h in lv) == 1]
                if any(eq("intercepts") and not part(v, "~1") for v in inds):
                    val = np.nan
            add(g, "alpha", f, "~1", "", fi[f], 1, val, f"alpha.{fi[f]}" + sfx(g, e))
        for f in lv:                                          # LATENT VARIANCES
            e = eq("lv.variances") and not part(f, "~~", f)
            val = 1.0
            if g > 1 and any(eq("loadings") and not part(f, "=~", v)
                             for v in ov if (f, v) in lam_spec):
                val = np.nan
            add(g, "psi", f, "~~", f, fi[f], fi[f], val, f"psi.{fi[f]}_{fi[f]}" + sfx(g, e))
        for c in range(len(lv) - 1):                          # LATENT COVARIANCES
            for r in range(c + 1, len(lv)):
                e = eq("lv.covariances") and not (part(lv[c], "~~", lv[r])
                                                   or part(lv[r], "~~", lv[c]))
                add(g, "psi", lv[c], "~~", lv[r], r + 1, c + 1, np.nan,
                    f"psi.{r + 1}_{c + 1}" + sfx(g, e))
    tab = pd.DataFrame(rows)
    return MeasEqTable(tab, tuple(ov), tuple(lv), MappingProxyType(dict(nthr)), G,
                       parameterization, ge, tuple(partial))


def _fmt_val(x):
    if isinstance(x, float) and np.isnan(x):
        return "NA"
    return f"{x:g}"


def _write_syntax(t: MeasEqTable) -> str:
    """Text as semTools' ``as.character(measEq.syntax(...))``."""
    R = t.rows
    G = t.ngroups

    recs = R.to_dict("list")
    bymat: dict = {}
    for k in range(len(R)):
        key = (recs["lhs"][k], recs["op"][k], recs["rhs"][k])
        d = bymat.setdefault(recs["mat"][k], {})
        d.setdefault(key, ([], []))
        d[key][0].append(_fmt_val(recs["value"][k]))
        d[key][1].append(recs["label"][k])

    def key_rows(mat):
        return [(k, v[0], v[1]) for k, v in bymat.get(mat, {}).items()]

    def vec(x):
        return f"c({', '.join(x)})" if G > 1 else x[0]

    lines = ["## LOADINGS:\n"]
    for (f, _, v), val, lab in key_rows("lambda"):
        lines.append(f"{f} =~ {vec(val)}*{v} + {vec(lab)}*{v}")
    lines += ["", "## THRESHOLDS:\n"]
    for (v, _, tt), val, lab in key_rows("tau"):
        lines.append(f"{v} | {vec(val)}*{tt} + {vec(lab)}*{tt}")
    lines += ["", "## INTERCEPTS:\n"]
    for (v, _, _), val, lab in key_rows("nu"):
        lines.append(f"{v} ~ {vec(val)}*1 + {vec(lab)}*1")
    lines.append("")
    if t.parameterization == "delta":
        lines.append("## SCALING FACTORS:\n")
        for (v, _, _), val, lab in key_rows("delta"):
            lines.append(f"{v} ~*~ {vec(val)}*{v}")
        lines.append("")
    th = key_rows("theta")
    var = [r for r in th if r[0][0] == r[0][2]]
    cov = [r for r in th if r[0][0] != r[0][2]]
    if var:
        lines.append("## UNIQUE-FACTOR VARIANCES:\n")
        for (v, _, _), val, lab in var:
            lines.append(f"{v} ~~ {vec(val)}*{v} + {vec(lab)}*{v}")
    if cov:
        lines.append("\n## UNIQUE-FACTOR COVARIANCES:\n")
        for (a, _, b), val, lab in cov:
            lines.append(f"{a} ~~ {vec(val)}*{b} + {vec(lab)}*{b}")
    lines.append("")
    lines.append("## LATENT MEANS/INTERCEPTS:\n")
    for (f, _, _), val, lab in key_rows("alpha"):
        lines.append(f"{f} ~ {vec(val)}*1 + {vec(lab)}*1")
    lines += ["", "## COMMON-FACTOR VARIANCES:\n"]
    ps = key_rows("psi")
    for (a, _, b), val, lab in [r for r in ps if r[0][0] == r[0][2]]:
        lines.append(f"{a} ~~ {vec(val)}*{b} + {vec(lab)}*{b}")
    pc = [r for r in ps if r[0][0] != r[0][2]]
    if pc:
        lines.append("\n## COMMON-FACTOR COVARIANCES:\n")
        for (a, _, b), val, lab in pc:
            lines.append(f"{a} ~~ {vec(val)}*{b} + {vec(lab)}*{b}")
    return "\n".join(lines) + "\n"


def measeq_syntax(model: str, data: pd.DataFrame, ordered, group: str, group_equal=None,
                  group_partial=None, parameterization: str = "delta") -> str:
    """lavaan syntax of semTools ``measEq.syntax(model, data, ordered, group,
    ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", parameterization, group.equal,
    group.partial)`` (printable; ``as.character()`` of the semTools object)."""
    prep = _prepare(model, data, ordered, group)
    return measeq_table(model, prep["nthr"], len(prep["groups"]), group_equal, group_partial,
                        parameterization).syntax()


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------

@single_blas_thread()
def _prepare(model, data, ordered, group):
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError("Ordinal multi-group models need raw 'data' as a "
                                      "pandas DataFrame.")
    parsed = parse_model(model)
    names = variable_names(parsed.statements)
    ov = list(names.ov)
    miss = [v for v in ov + [group] if v not in data.columns]
    if miss:
        raise ModelSpecificationError(f"Variable(s) {miss} are not columns of the data.")
    if ordered is True or ordered is None:
        ordered = ov
    elif isinstance(ordered, str):
        ordered = [ordered]
    notord = [v for v in ov if v not in ordered]
    if notord:
        raise ModelSpecificationError(
            f"Mixed ordinal/continuous indicators are not supported: {notord} are not in "
            f"'ordered'. Pass ordered=True to treat all indicators as ordinal.")
    from .ordinal_stats import ordinal_data
    d = data[ov + [group]]
    gcol = d[group]
    if gcol.isna().any():
        rows = [int(k) + 1 for k in np.flatnonzero(gcol.isna().to_numpy())[:5]]
        raise DataValidationError(
            f"The group variable {group!r} is missing in data rows {rows}; drop those rows "
            f"or give them a group.")
    codes, levels, keep = ordinal_data(d, ov)
    g_all = gcol.astype(str).to_numpy()[keep]
    groups = list(dict.fromkeys(g_all))            # lavaan: order of first appearance
    if len(groups) < 2:
        raise ModelSpecificationError(
            f"The group variable {group!r} has {len(groups)} group; a multi-group model needs "
            f"at least two.")
    nthr = {v: len(levels[j]) - 1 for j, v in enumerate(ov)}
    per = []
    for gl in groups:
        cg = codes[g_all == gl]
        for j, v in enumerate(ov):
            seen = np.unique(cg[:, j])
            if len(seen) != len(levels[j]):
                absent = [int(levels[j][k]) for k in range(len(levels[j])) if k not in set(seen)]
                raise DataValidationError(
                    f"Ordered variable {v!r} has no responses in categor"
                    f"{'y' if len(absent) == 1 else 'ies'} {absent} in group {gl!r} (observed "
                    f"in other groups); lavaan refuses such data. Collapse the category with a "
                    f"neighbouring one for all groups, or drop the item.")
        if len(cg) < 2 * len(ov):
            raise DataValidationError(
                f"Group {gl!r} has {len(cg)} complete rows for {len(ov)} ordinal items; too "
                f"few to estimate its polychoric correlations and their weight matrix.")
        per.append(ordinal_stats(cg, ov))
    return dict(ov=ov, lv=list(names.lv), nthr=nthr, groups=groups, stats=per,
                n_drop=int((~keep).sum()), levels=levels)


# --------------------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------------------

class _MGModel:
    """Free parameters: one per free row ('full', lavaan's unconstrained space) and one per
    distinct label ('reduced', the estimated vector); E maps reduced to full."""

    def __init__(self, t: MeasEqTable, stats_: Sequence[OrdinalStats]):
        self.t, self.st = t, list(stats_)
        R = t.rows.copy()
        # a label shared with a fixed row is fixed to that value (lavaan)
        lab = R["label"].to_numpy()
        val = R["value"].to_numpy(dtype=float).copy()
        for L in set(lab) - {""}:
            idx = np.flatnonzero(lab == L)
            fx = [k for k in idx if not np.isnan(val[k])]
            if fx and len(fx) < len(idx):
                val[idx] = val[fx[0]]
        R["value"] = val
        self.rows = R
        free = np.isnan(val)
        self.free_rows = np.flatnonzero(free)
        self.nfull = len(self.free_rows)
        red, keys = [], {}
        for r in self.free_rows:
            L = lab[r]
            k = keys.setdefault(L if L else ("row", r), len(keys))
            red.append(k)
        self.red_of_full = np.array(red)
        self.nred = len(keys)
        self.E = np.zeros((self.nfull, self.nred))
        self.E[np.arange(self.nfull), self.red_of_full] = 1.0
        self.G = t.ngroups
        self.p, self.m = len(t.ov), len(t.lv)
        self.theta_param = t.parameterization == "theta"
        self.group_of_full = R["group"].to_numpy()[self.free_rows]
        self.full_of_group = [np.flatnonzero(self.group_of_full == g + 1) for g in range(self.G)]
        # per-group row indices by matrix
        self.nth = [sum(len(x) for x in s.th) for s in self.st]
        st0 = self.st[0]
        self.perm = [list(t.ov).index(v) for v in st0.names]
        self.il = np.array([i for i, j in st0.pairs])
        self.jl = np.array([j for i, j in st0.pairs])
        self.th_var = np.concatenate([np.full(len(x), j) for j, x in enumerate(st0.th)])
        self.th_num = np.concatenate([np.arange(len(x)) for x in st0.th])
        self.grow = [np.flatnonzero(R["group"].to_numpy() == g + 1) for g in range(self.G)]
        self.mat = R["mat"].to_numpy()
        self.ii = R["i"].to_numpy().astype(int) - 1
        self.jj = R["j"].to_numpy().astype(int) - 1
        self.fixed = val
        self.r_lhs = R["lhs"].to_numpy()
        self.r_op = R["op"].to_numpy()
        self.r_rhs = R["rhs"].to_numpy()
        self.r_label = R["label"].to_numpy()
        self.r_group = R["group"].to_numpy().astype(int)
        self._setup_fast()

    def row_values(self, full):
        v = self.fixed.copy()
        v[self.free_rows] = full
        return v

    def _setup_fast(self):
        """Index arrays per group and matrix (vectorised filling and analytic Jacobian)."""
        self.gidx = []
        th_pos = {}
        off = 0
        for j, v in enumerate(self.t.ov):
            for c in range(self.t.nthr[v]):
                th_pos[(j, c)] = off + c
            off += self.t.nthr[v]
        self.nthr_tot = off
        # threshold vector in model (ov) order -> position in the statistics (stats) order
        st_order = np.concatenate([[th_pos[(self.perm[j], c)]
                                    for c in range(self.t.nthr[self.t.ov[self.perm[j]]])]
                                   for j in range(self.p)]).astype(int)
        self.tau_st = st_order
        full_pos = np.full(len(self.rows), -1)
        full_pos[self.free_rows] = np.arange(self.nfull)
        for g in range(self.G):
            d = {}
            for mat in ("lambda", "tau", "nu", "alpha", "delta", "psi", "theta"):
                r = np.array([x for x in self.grow[g] if self.mat[x] == mat], dtype=int)
                a, b = self.ii[r], self.jj[r]
                if mat == "tau":
                    a = np.array([th_pos[(i, c)] for i, c in zip(a, b)], dtype=int)
                d[mat] = (r, a, b, full_pos[r])
            self.gidx.append(d)

    def group_mats(self, vals, g):
        if not hasattr(self, "gidx"):
            self._setup_fast()
        p, m = self.p, self.m
        ix = self.gidx[g]
        L = np.zeros((p, m))
        P = np.zeros((m, m))
        Th = np.zeros((p, p))
        nu = np.zeros(p)
        al = np.zeros(m)
        dl = np.ones(p)
        tau = np.zeros(self.nthr_tot)
        r, a, b, _ = ix["lambda"]
        L[a, b] = vals[r]
        r, a, b, _ = ix["psi"]
        P[a, b] = vals[r]
        P[b, a] = vals[r]
        r, a, b, _ = ix["theta"]
        Th[a, b] = vals[r]
        Th[b, a] = vals[r]
        r, a, b, _ = ix["nu"]
        nu[a] = vals[r]
        r, a, b, _ = ix["alpha"]
        al[a] = vals[r]
        r, a, b, _ = ix["delta"]
        dl[a] = vals[r]
        r, a, b, _ = ix["tau"]
        tau[a] = vals[r]
        return L, P, Th, nu, al, dl, tau

    def _moments(self, vals, g):
        L, P, Th, nu, al, dl, tau = self.group_mats(vals, g)
        LPL = L @ P @ L.T
        S = LPL + Th
        if self.theta_param:
            d = 1.0 / np.sqrt(np.diag(S))
        else:
            np.fill_diagonal(S, 1.0 / dl ** 2)
            d = dl
        mu = nu + L @ al
        return L, P, S, d, mu, tau, al

    def implied_group(self, vals, g):
        L, P, S, d, mu, tau, al = self._moments(vals, g)
        pm = self.perm
        S = S[np.ix_(pm, pm)]
        d = d[pm]
        mu = mu[pm]
        tv = tau[self.tau_st]
        th = (tv - mu[self.th_var]) * d[self.th_var]
        cor = S[self.il, self.jl] * d[self.il] * d[self.jl]
        return np.concatenate([th, cor])

    def implied(self, full):
        vals = self.row_values(full)
        return [self.implied_group(vals, g) for g in range(self.G)]

    def jacobian_full(self, full):
        """d sigma_g / d full, per group (analytic)."""
        vals = self.row_values(full)
        out = []
        p = self.p
        for g in range(self.G):
            L, P, S, d, mu, tau, al = self._moments(vals, g)
            ix = self.gidx[g]
            cols = []
            dS_l, dmu_l, dd_l, dtau_l = [], [], [], []
            LP = L @ P
            K = 0
            for mat in ("lambda", "tau", "nu", "alpha", "delta", "psi", "theta"):
                r, a, b, fp = ix[mat]
                sel = fp >= 0
                a, b, fp = a[sel], b[sel], fp[sel]
                n = len(fp)
                if n == 0:
                    continue
                dS = np.zeros((n, p, p))
                dmu = np.zeros((n, p))
                dd = np.zeros((n, p))
                dtau = np.zeros((n, self.nthr_tot))
                k = np.arange(n)
                if mat == "lambda":
                    dS[k, a, :] += LP[:, b].T
                    dS[k, :, a] += LP[:, b].T
                    dmu[k, a] = al[b]
                elif mat == "psi":
                    dS += L[:, a].T[:, :, None] * L[:, b].T[:, None, :]
                    off = a != b
                    dS[off] += L[:, b[off]].T[:, :, None] * L[:, a[off]].T[:, None, :]
                elif mat == "theta":
                    dS[k, a, b] = 1.0
                    dS[k, b, a] = 1.0
                elif mat == "nu":
                    dmu[k, a] = 1.0
                elif mat == "alpha":
                    dmu[:, :] = L[:, a].T
                elif mat == "delta":
                    dd[k, a] = 1.0
                elif mat == "tau":
                    dtau[k, a] = 1.0
                if self.theta_param:
                    dd += -0.5 * d ** 3 * np.einsum("kii->ki", dS)
                cols.append(fp)
                dS_l.append(dS)
                dmu_l.append(dmu)
                dd_l.append(dd)
                dtau_l.append(dtau)
                K += n
            J = np.zeros((len(self.st[g].wls_obs), self.nfull))
            if not cols:
                out.append(J)
                continue
            fp = np.concatenate(cols)
            dS = np.concatenate(dS_l)
            dmu = np.concatenate(dmu_l)
            dd = np.concatenate(dd_l)
            dtau = np.concatenate(dtau_l)
            pm = np.asarray(self.perm)
            Sp = S[np.ix_(pm, pm)]
            dp, mup = d[pm], mu[pm]
            dSp = dS[:, pm][:, :, pm]
            dmup, ddp = dmu[:, pm], dd[:, pm]
            tv = tau[self.tau_st]
            dtv = dtau[:, self.tau_st]
            tvar = self.th_var
            dth = (dtv - dmup[:, tvar]) * dp[tvar] + (tv - mup[tvar]) * ddp[:, tvar]
            il, jl = self.il, self.jl
            Sij = Sp[il, jl]
            dcor = (ddp[:, il] * dp[jl] * Sij + dp[il] * ddp[:, jl] * Sij
                    + dp[il] * dp[jl] * dSp[:, il, jl])
            J[:, fp] = np.concatenate([dth, dcor], axis=1).T
            out.append(J)
        return out


GRAD_TOL = 1e-7


def _objective(m: _MGModel, red, W, nobs):
    full = red[m.red_of_full]
    imp = m.implied(full)
    return float(sum((n - 1) * np.sum(w * (s.wls_obs - i) ** 2)
                     for s, i, w, n in zip(m.st, imp, W, nobs)))


def _gauss_newton(m: _MGModel, W, nobs, red, max_iter=300):
    f = _objective(m, red, W, nobs)
    it = 0
    for it in range(1, max_iter + 1):
        full = red[m.red_of_full]
        Js = m.jacobian_full(full)
        imp = m.implied(full)
        g = np.zeros(m.nred)
        H = np.zeros((m.nred, m.nred))
        for J, s, i, w, n in zip(Js, m.st, imp, W, nobs):
            D = J @ m.E
            g += (n - 1) * D.T @ (w * (s.wls_obs - i))
            H += (n - 1) * D.T @ (w[:, None] * D)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        a = 1.0
        while True:
            rn = red + a * step
            fn = _objective(m, rn, W, nobs)
            if np.isfinite(fn) and (fn <= f or a < 1e-10):
                break
            a /= 2
            if a < 1e-10:
                fn = np.inf
                break
        if not np.isfinite(fn) or fn > f:
            break
        stop = abs(f - fn) < 1e-15 * max(1.0, f) or np.max(np.abs(a * step)) < 1e-10
        red, f = rn, fn
        if stop:
            break
    full = red[m.red_of_full]
    Js = m.jacobian_full(full)
    imp = m.implied(full)
    grad = np.zeros(m.nred)
    for J, s, i, w, n in zip(Js, m.st, imp, W, nobs):
        grad += 2 * (n - 1) * (J @ m.E).T @ (w * (s.wls_obs - i))
    conv = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < GRAD_TOL * max(1.0, f)
                * max(1.0, sum(nobs)))
    return red, f, conv, it


def _start(m: _MGModel, model, prep):
    """Loadings and factor correlations of a one-group DWLS fit to the pooled data; sample
    thresholds of each group (of the first group sharing a label)."""
    R = m.rows
    lut = {}
    try:
        st = prep["stats"]
        # pooled polychorics: average of the groups (weights N_g)
        nob = np.array([s.nobs for s in st], float)
        cor = sum(s.cor * n for s, n in zip(st, nob)) / nob.sum()
        from .ordinal import ml_start
        r = ml_start(model, pd.DataFrame(cor, index=st[0].names, columns=st[0].names),
                     int(nob.sum()), True)
        est = r.estimates
        lut = {(a, b, c): e for a, b, c, e in zip(est["lhs"], est["op"], est["rhs"], est["est"])}
    except Exception:  # noqa: BLE001 -- simple starts below
        lut = {}
    vals = m.fixed.copy()
    recs = R.to_dict("records")
    for r in m.free_rows:
        row = recs[r]
        g = int(row["group"]) - 1
        k = row["mat"]
        if k == "lambda":
            x = lut.get((row["lhs"], "=~", row["rhs"]), 0.6)
            if m.theta_param:
                x = x / np.sqrt(max(1 - x * x, 0.1))
            vals[r] = x
        elif k == "tau":
            s = prep["stats"][g]
            j = list(s.names).index(row["lhs"])
            x = s.th[j][int(row["j"]) - 1]
            vals[r] = x
        elif k in ("nu", "alpha"):
            vals[r] = 0.0
        elif k == "delta":
            vals[r] = 1.0
        elif k == "psi":
            vals[r] = 1.0 if row["lhs"] == row["rhs"] else \
                lut.get((row["lhs"], "~~", row["rhs"]), lut.get((row["rhs"], "~~", row["lhs"]), 0.2))
        elif k == "theta":
            vals[r] = 1.0 if row["lhs"] == row["rhs"] else 0.0
    if m.theta_param:
        # thresholds in the theta metric: tau_T = tau_D / sqrt(theta_D)
        for r in m.free_rows:
            row = recs[r]
            if row["mat"] == "tau":
                g = int(row["group"]) - 1
                s = prep["stats"][g]
                j = list(s.names).index(row["lhs"])
                lam = [lut.get((f, "=~", row["lhs"]), 0.0) for f in m.t.lv]
                comm = sum(x * x for x in lam)
                vals[r] = s.th[j][int(row["j"]) - 1] / np.sqrt(max(1 - comm, 0.1))
    full = vals[m.free_rows]
    red = np.zeros(m.nred)
    for k in range(m.nfull - 1, -1, -1):     # the first row of a label wins
        red[m.red_of_full[k]] = full[k]
    return red


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrdinalMGResult(SEMResultBase):
    """Result of a multi-group ordinal CFA (immutable).

    Attributes
    ----------
    estimates : DataFrame
        ``lhs op rhs group label est se z p_value ci_lower ci_upper free`` (lavaan
        ``parameterEstimates``; group numbers from 1 in ``group_labels`` order).
    fit_measures : Mapping
        lavaan ``fitMeasures`` names with ``.`` replaced by ``_``.
    syntax : str
        The measEq-style lavaan syntax of the model (printable).
    """

    model: str
    syntax: str
    estimates: pd.DataFrame
    fit_measures: Mapping
    vcov: pd.DataFrame
    n_obs: tuple
    group_labels: tuple
    converged: bool
    iterations: int
    options: Mapping
    timing: float
    warnings: tuple = ()
    _extra: Any = field(default=None, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        return self.estimates.copy()

    def summary(self):
        from ..results import Summary
        fm = self.fit_measures
        keys = ["npar", "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
                "chisq_scaling_factor", "cfi", "tli", "cfi_scaled", "tli_scaled", "rmsea",
                "rmsea_scaled", "srmr", "wrmr"]
        fit = pd.DataFrame({"measure": [k for k in keys if k in fm],
                            "value": [float(fm[k]) for k in keys if k in fm]})
        header = (f"Estimator: {self.options['estimator']} (parameterization "
                  f"{self.options['parameterization']})",
                  "Groups: " + ", ".join(f"{g} (n = {n})" for g, n in
                                         zip(self.group_labels, self.n_obs)),
                  "Equal across groups: " + (", ".join(self.options["group_equal"]) or "none"),
                  f"Converged: {self.converged}")
        blocks = (("Fit", fit), ("Estimates", self.estimates.drop(columns=["free"])),
                  ("Model syntax (semTools measEq.syntax)", self.syntax))
        return Summary("Multi-group ordinal CFA", header, blocks,
                       () if self.converged else ("NOT CONVERGED: estimates are not valid.",))


@single_blas_thread()
def fit_ordinal_mg(model: str, data: pd.DataFrame, group: str, ordered=True, *,
                   group_equal=None, group_partial=None, parameterization: str = "delta",
                   estimator: str = "WLSMV", _table: MeasEqTable | None = None,
                   _prep=None) -> OrdinalMGResult:
    """Multi-group ordinal CFA with the Wu & Estabrook (2016) identification.

    Parameters
    ----------
    model : str
        One-group measurement model in lavaan syntax (``=~``, residual ``~~``).
    data : DataFrame
        Integer-coded responses and the group column; rows with a missing response are
        dropped (listwise, with a warning).
    group : str
        Group column (groups in order of first appearance, as lavaan).
    ordered : True or list of str
        All indicators must be ordinal.
    group_equal : list of str
        ``thresholds, loadings, intercepts, means, residuals (theta only),
        residual.covariances, lv.variances, lv.covariances``.
    group_partial : list of str
        Released parameters, e.g. ``["x3 ~ 1", "x1 | t2"]``.
    parameterization : {"delta", "theta"}
    estimator : {"WLSMV", "DWLS", "ULSMV", "ULS"}
        WLSMV / ULSMV: diagonally weighted (W = diag(NACOV)^-1) / unweighted (W = I) least
        squares with robust ("robust.sem") SEs and the scaled-shifted test; DWLS / ULS: the
        same estimates with standard SEs and the unscaled test (for ULS without p-value,
        as lavaan).

    Returns
    -------
    OrdinalMGResult

    Notes
    -----
    R: ``cfa(as.character(measEq.syntax(model, data, ordered, group, ID.fac = "std.lv",
    ID.cat = "Wu.Estabrook.2016", parameterization, group.equal, group.partial)), data,
    ordered, group, parameterization)`` (lavaan 0.6-14, semTools 0.5-6).
    """
    t0 = time.perf_counter()
    est_u = check_ordinal_estimator(estimator)
    robust = is_robust(est_u)
    prep = _prep if _prep is not None else _prepare(model, data, ordered, group)
    warn = []
    if prep["n_drop"]:
        from ..exceptions import DataQualityWarning
        msg = (f"{prep['n_drop']} rows have missing values in the model variables and were "
               f"dropped (listwise deletion, lavaan's default).")
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
        warn.append(msg)
    t = _table if _table is not None else measeq_table(
        model, prep["nthr"], len(prep["groups"]), group_equal, group_partial, parameterization)
    m = _MGModel(t, prep["stats"])
    nobs = [s.nobs for s in m.st]
    N = sum(nobs)
    G = m.G
    W = [weights(est_u, s.nacov) for s in m.st]
    ndat = sum(len(s.wls_obs) for s in m.st)
    df = ndat - m.nred
    if df < 0:
        raise IdentificationError(f"The model is not identified: {m.nred} free parameters but "
                                  f"{ndat} sample statistics.")
    red0 = _start(m, model, prep)
    red, F, conv, it = _gauss_newton(m, W, nobs, red0)
    if not conv:
        msg = f"{discrepancy(est_u)} did not converge after {it} iterations."
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
        warn.append(msg)
    full = red[m.red_of_full]
    Jf = m.jacobian_full(full)
    D = [J @ m.E for J in Jf]
    fg = np.array(nobs, float) / N
    E = sum(f * d.T @ (w[:, None] * d) for f, d, w in zip(fg, D, W))
    if np.linalg.matrix_rank(E) < m.nred:
        raise IdentificationError("The information matrix is singular: the model is not "
                                  "identified.")
    Ei = np.linalg.inv(E)
    if robust:
        B = sum(f * (w[:, None] * d).T @ s.nacov @ (w[:, None] * d)
                for f, d, w, s in zip(fg, D, W, m.st))
        V = Ei @ B @ Ei / (N - G)
    else:
        V = Ei / (N - G)
    chisq = F
    uls = est_u in ("ULS", "ULSMV")    # lavaan: no p-value for the unscaled ULS statistic
    fm = {"npar": float(m.nred), "fmin": chisq / (2 * N), "chisq": chisq, "df": float(df),
          "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 and not uls else np.nan}
    tr1 = tr2 = np.nan
    if robust:
        tr1, tr2, _ = _ug_traces(D, W, [s.nacov for s in m.st], fg, Ei)
    fm.update(_mg_fit_measures(m, W, nobs, chisq, df, tr1, tr2, est_u, full))
    if robust and df > 0:
        fm.update(_robust_catml_mg(m, full, D, W, Ei, fg, df, nobs))
    tab = _estimates_table(m, full, V, red)
    names = _red_names(m)
    syntax = t.syntax()
    return OrdinalMGResult(
        model=model, syntax=syntax, estimates=tab, fit_measures=MappingProxyType(fm),
        vcov=pd.DataFrame(V, index=names, columns=names), n_obs=tuple(nobs),
        group_labels=tuple(prep["groups"]), converged=conv, iterations=it,
        options=MappingProxyType(dict(estimator=est_u, parameterization=t.parameterization,
                                      group_equal=t.group_equal,
                                      group_partial=tuple(" ".join(x).strip()
                                                          for x in t.group_partial),
                                      ordered=tuple(t.ov), group=group)),
        timing=time.perf_counter() - t0, warnings=tuple(warn),
        _extra=dict(model=m, red=red, D=D, W=W, E=E, Ei=Ei, fg=fg, prep=prep, table=t))


def estimate(spec: FitSpec) -> OrdinalMGResult:
    """The multi-group ordinal estimator (DWLS / WLSMV / ULS / ULSMV) of
    :func:`psychometrics.sem.fit`:
    :func:`fit_ordinal_mg` with the options of ``spec``."""
    from .ordinal import check_raw_listwise
    check_raw_listwise(spec)
    return fit_ordinal_mg(spec.model, spec.data, spec.group, spec.ordered,
                          group_equal=spec.group_equal, group_partial=spec.group_partial,
                          parameterization=spec.parameterization, estimator=spec.estimator)


def _red_names(m):
    out = [""] * m.nred
    for k, r in enumerate(m.free_rows):
        j = m.red_of_full[k]
        if not out[j]:
            out[j] = m.r_label[r] or f"{m.r_lhs[r]}{m.r_op[r]}{m.r_rhs[r]}.g{m.r_group[r]}"
    return out


def _ug_traces(D, W, Gam, fg, Ei):
    """tr(U Gamma) and tr((U Gamma)^2) of the stacked groups (lavaan >= 0.6-13)."""
    Vd = np.concatenate([f * w for f, w in zip(fg, W)])
    Dall = np.vstack(D)
    from scipy.linalg import block_diag
    Gall = block_diag(*[g / f for g, f in zip(Gam, fg)])
    VD = Vd[:, None] * Dall
    U = np.diag(Vd) - VD @ Ei @ VD.T
    UG = U @ Gall
    return float(np.trace(UG)), float(np.sum(UG * UG.T)), UG


def _mg_fit_measures(m, W, nobs, chisq, df, tr1, tr2, est_u, full):
    from .ordinal import _indices
    N = sum(nobs)
    G = m.G
    fm = {}
    # baseline: thresholds free, correlations zero, per group
    Xb = 0.0
    tb1 = tb2 = 0.0
    dfb = 0
    for s, w, n in zip(m.st, W, nobs):
        nth = sum(len(x) for x in s.th)
        r = s.wls_obs[nth:]
        wr = w[nth:]
        Xb += (n - 1) * float(np.sum(wr * r * r))
        dfb += len(r)
        UGb = wr[:, None] * s.nacov[nth:, nth:]
        tb1 += float(np.trace(UGb))
        tb2 += float(np.sum(UGb * UGb.T))
    fm.update(baseline_chisq=Xb, baseline_df=float(dfb),
              baseline_pvalue=np.nan if est_u in ("ULS", "ULSMV")
              else float(stats.chi2.sf(Xb, dfb)))
    X2s = Xbs = np.nan
    if is_robust(est_u) and df > 0:
        a = np.sqrt(df / tr2)
        X2s = a * chisq + (df - a * tr1)
        ab = np.sqrt(dfb / tb2)
        Xbs = ab * Xb + (dfb - ab * tb1)
        fm.update(chisq_scaled=X2s, df_scaled=float(df), pvalue_scaled=float(stats.chi2.sf(X2s, df)),
                  chisq_scaling_factor=1 / a, chisq_shift_parameter=df - a * tr1,
                  baseline_chisq_scaled=Xbs, baseline_df_scaled=float(dfb),
                  baseline_pvalue_scaled=float(stats.chi2.sf(Xbs, dfb)),
                  baseline_chisq_scaling_factor=1 / ab)
    # lavaan: N - G in the RMSEA of WLS-type estimators (NFI and RFI are NA when df
    # exceeds the baseline df)
    fm.update(_indices(chisq, df, Xb, dfb, N - G, "", G))
    if is_robust(est_u) and df > 0:
        fm.update(_indices(X2s, df, Xbs, dfb, N - G, "_scaled", G))
    fm.update(_mg_residual_measures(m, W, nobs, full, chisq, df))
    return fm


ROBUST_KEYS = ("cfi_robust", "tli_robust", "nnfi_robust", "rni_robust", "rmsea_robust",
               "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "rmsea_pvalue_robust",
               "rmsea_notclose_pvalue_robust")


def _robust_catml_mg(m, full, D, W, Ei, fg, df, nobs):
    """Robust CFI/TLI/RNI/RMSEA (catML, Savalei 2021; lavaan ``lav_fit_catml_dwls``) of a
    multi-group or longitudinal fit: the ML discrepancy of each group's polychoric matrix at
    the DWLS estimates, scaled by c = tr(U' V U Gamma) / df over the stacked groups.
    lavaan 0.6-14 reports them only for models without equality constraints (NA otherwise,
    as here)."""
    from scipy.linalg import block_diag
    from .fit_measures import robust_indices
    nan = {k: np.nan for k in ROBUST_KEYS}
    if m.nred != m.nfull:
        return nan
    G = m.G
    vals = m.row_values(full)
    xx3 = xb3 = 0.0
    Vs, Gs, Ws, Ds = [], [], [], []
    dfb = 0
    for g in range(G):
        st = m.st[g]
        R = st.cor
        p = R.shape[0]
        if np.linalg.eigvalsh(R)[0] < np.sqrt(np.finfo(float).eps):
            return nan
        L, P, S, d, mu, tau, al = m._moments(vals, g)
        pm = m.perm
        S = (S * np.outer(d, d))[np.ix_(pm, pm)]
        np.fill_diagonal(S, 1.0)
        Si = np.linalg.inv(S)
        F = np.linalg.slogdet(S)[1] - np.linalg.slogdet(R)[1] + np.sum(R * Si) - p
        xx3 += nobs[g] * F
        xb3 += -nobs[g] * np.linalg.slogdet(R)[1]
        i, j = m.il, m.jl
        Vs.append(fg[g] * (Si[np.ix_(i, i)] * Si[np.ix_(j, j)] + Si[np.ix_(i, j)] * Si[np.ix_(j, i)]))
        nth = m.nth[g]
        Gs.append(st.nacov[nth:, nth:] / fg[g])
        Ws.append(fg[g] * W[g][nth:])
        Ds.append(D[g][nth:])
        dfb += len(i)
    Dall = np.vstack(Ds)
    Wall = np.concatenate(Ws)
    U = np.eye(len(Wall)) - Dall @ Ei @ (Dall.T * Wall)
    Gall = block_diag(*Gs)
    ks = float(np.sum((U.T @ block_diag(*Vs) @ U) * Gall.T))
    c3 = ks / df
    cb3 = float(np.trace(Gall)) / dfb
    N = sum(nobs)
    return robust_indices(xx3, df, xb3, dfb, c3, cb3, N - G, G)


def _mg_residual_measures(m, W, nobs, full, chisq, df):
    imp = m.implied(full)
    N = sum(nobs)
    out = {}
    G = m.G
    srmr, rmr, crmr, crmr_nm, gfis = [], [], [], [], []
    nel = 0
    for s, i, w in zip(m.st, imp, W):
        e = s.wls_obs - i
        nth = sum(len(x) for x in s.th)
        p = len(s.names)
        r = wls_residual_rms(e[nth:], e[:nth], p)
        srmr.append(r["srmr"])
        rmr.append(r["srmr_mean"])
        crmr.append(r["crmr"])
        crmr_nm.append(r["crmr_nomean"])
        gfis.append(gfi(float(np.sum(w * e * e)), float(np.sum(w * s.wls_obs ** 2))))
        nel += len(e)
    fg = np.array(nobs, float) / N
    wm = lambda x: float(np.sum(fg * np.array(x)))     # noqa: E731  (lavaan: N_g-weighted)
    out.update(srmr=wm(srmr), rmr_nomean=wm(srmr), srmr_bentler_nomean=wm(srmr),
               rmr=wm(rmr), srmr_bentler=wm(rmr), crmr=wm(crmr), crmr_nomean=wm(crmr_nm),
               srmr_mplus=np.nan, srmr_mplus_nomean=np.nan)
    # lavaan: the number of sample statistics per group in WRMR
    out["wrmr"] = wrmr(chisq, nel / G)
    g_ = wm(gfis)
    out["gfi"] = g_
    out["agfi"] = agfi(g_, nel, df)
    out["pgfi"] = pgfi(g_, nel, df)
    out["mfi"] = mfi(chisq, df, N - G)
    for a, key in ((0.05, "cn_05"), (0.01, "cn_01")):
        out[key] = float(hoelter_cn(chisq, df, N - G, a)) if chisq > 0 else np.nan
    return out


def _estimates_table(m: _MGModel, full, V, red):
    vals = m.row_values(full)
    se_red = np.sqrt(np.clip(np.diag(V), 0, None))
    rowpar = np.full(len(m.r_lhs), -1)
    rowpar[m.free_rows] = m.red_of_full
    rows = []
    for g in range(m.G):
        L, P, Th, nu, al, dl, tau = m.group_mats(vals, g)
        LPL = L @ P @ L.T
        sub = m.grow[g]
        order = ["lambda", "tau", "nu", "delta", "alpha", "psi", "theta"]
        for mat in order:
            for r in sub:
                if m.mat[r] != mat:
                    continue
                k = rowpar[r]
                rows.append((m.r_lhs[r], m.r_op[r], m.r_rhs[r], g + 1,
                             m.r_label[r], vals[r], se_red[k] if k >= 0 else 0.0, k >= 0))
        ov = m.t.ov
        if not m.theta_param:          # residual variances implied by the scales
            for a, v in enumerate(ov):
                rows.append((v, "~~", v, g + 1, "", 1.0 / dl[a] ** 2 - LPL[a, a], 0.0, False))
        else:                          # scale factors implied by the residual variances
            S = LPL + Th
            for a, v in enumerate(ov):
                rows.append((v, "~*~", v, g + 1, "", 1.0 / np.sqrt(S[a, a]), 0.0, False))
    tab = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "group", "label", "est", "se", "free"])
    est = tab["est"].to_numpy(float)
    se = tab["se"].to_numpy(float)
    fr = tab["free"].to_numpy()
    z, pv, lo, hi = inference(est, np.where(fr, se, np.nan))
    tab["z"], tab["p_value"], tab["ci_lower"], tab["ci_upper"] = z, pv, lo, hi
    tab.loc[~fr, "ci_lower"] = est[~fr]
    tab.loc[~fr, "ci_upper"] = est[~fr]
    return tab[["lhs", "op", "rhs", "group", "label", "est", "se", "z", "p_value", "ci_lower",
                "ci_upper", "free"]]


# --------------------------------------------------------------------------------------
# nested-model tests
# --------------------------------------------------------------------------------------

def _ortho_complement(H, tol=None):
    """Orthonormal basis (columns) of the orthogonal complement of the column space of H."""
    U, s, _ = np.linalg.svd(H, full_matrices=True)
    if tol is None:
        tol = max(H.shape) * np.finfo(float).eps * (s[0] if len(s) else 0.0)
    rank = int(np.sum(s > tol))
    return U[:, rank:]


@single_blas_thread()
def satorra2000(fit1: OrdinalMGResult, fit0: OrdinalMGResult) -> dict:
    """Scaled-shifted chi-square difference test of nested WLSMV / ULSMV fits (Satorra, 2000).

    ``fit1`` is the less restricted model (fewer df), ``fit0`` the more restricted one.
    lavaan 0.6-14 ``lavTestLRT(fit1, fit0, method = "satorra.2000")`` (its default for
    WLSMV and ULSMV; A by the "delta" method, global traces of the stacked groups; W the
    weights of the fits: diag(NACOV)^-1 or I).

    Returns ``dict(chisq_diff, df_diff, p_value, a, b, trace_ugamma, trace_ugamma2)``.

    Notes
    -----
    H = D1^+ D0 (Jacobians of the implied statistics at each model's estimates),
    A' = orthogonal complement of H, M = P^-1 A' (A P^-1 A')^+ A P^-1 with P the expected
    information of fit1, K = sum_g f_g D1_g' W_g Gamma_g W_g D1_g; tr1 = tr(M K),
    tr2 = tr((M K)^2), a = sqrt(m / tr2), b = m - a tr1 and
    T = a (chisq0 - chisq1) + b, referred to chi-square with m = df0 - df1.
    """
    e1, e0 = fit1._extra, fit0._extra
    t1, r1 = fit1.fit_measures["chisq"], fit1.fit_measures["df"]
    t0, r0 = fit0.fit_measures["chisq"], fit0.fit_measures["df"]
    m = r0 - r1
    if m <= 0:
        raise ModelSpecificationError(
            "The models are not nested in the order given: the second must have more "
            f"degrees of freedom (df {r1:g} and {r0:g}).")
    D1 = np.vstack(e1["D"])
    D0 = np.vstack(e0["D"])
    H = np.linalg.pinv(D1) @ D0
    A = _ortho_complement(H).T
    Pinv = e1["Ei"]
    APA = A @ Pinv @ A.T
    M = Pinv @ A.T @ np.linalg.pinv(APA) @ A @ Pinv
    fg = e1["fg"]
    st = e1["model"].st
    tr1 = 0.0
    Kall = np.zeros_like(M)
    for f, d, w, s in zip(fg, e1["D"], e1["W"], st):
        wd = w[:, None] * d
        K = wd.T @ s.nacov @ wd
        tr1 += f * float(np.sum(M * K))
        Kall += f * K
    MK = M @ Kall
    tr2 = float(np.sum(MK * MK.T))
    a = np.sqrt(m / tr2)
    b = m - a * tr1
    T = (t0 - t1) * a + b
    return dict(chisq_diff=float(T), df_diff=float(m), p_value=float(stats.chi2.sf(T, m)),
                a=float(a), b=float(b), trace_ugamma=tr1, trace_ugamma2=tr2)


def lrt_ordinal(*fits: OrdinalMGResult, names=None) -> pd.DataFrame:
    """lavaan ``lavTestLRT(..., method = "satorra.2000")`` for ordinal multi-group fits.

    Models are ordered by df; each is tested against the previous (less restricted) one.
    Returns a DataFrame indexed by model name with ``df, chisq, chisq_diff, df_diff,
    p_value_diff`` (lavaan: ``Df, Chisq, Chisq diff, Df diff, Pr(>Chisq)``; ``chisq`` is the
    unscaled DWLS (ULS) statistic, ``chisq_diff`` the scaled-shifted difference).
    """
    if len(fits) < 2:
        raise ModelSpecificationError("lrt needs at least two fitted models.")
    names = list(names) if names is not None else [f"model{i + 1}" for i in range(len(fits))]
    for nm, f in zip(names, fits):
        if not f.converged:
            raise ModelSpecificationError(f"Model {nm!r} did not converge; it cannot be compared.")
        if f.n_obs != fits[0].n_obs:
            raise ModelSpecificationError(
                f"Model {nm!r} was fitted to {f.n_obs} observations, the first to "
                f"{fits[0].n_obs}; nested models must use the same data.")
    order = sorted(range(len(fits)), key=lambda i: fits[i].fit_measures["df"])
    rows = []
    prev = None
    for i in order:
        fm = fits[i].fit_measures
        row = dict(model=names[i], df=fm["df"], chisq=fm["chisq"], chisq_diff=np.nan,
                   df_diff=np.nan, p_value_diff=np.nan)
        if prev is not None:
            if fm["df"] == fits[prev].fit_measures["df"]:
                row.update(chisq_diff=fm["chisq"] - fits[prev].fit_measures["chisq"], df_diff=0.0)
            else:
                t = satorra2000(fits[prev], fits[i])
                row.update(chisq_diff=t["chisq_diff"], df_diff=t["df_diff"],
                           p_value_diff=t["p_value"])
        rows.append(row)
        prev = i
    return pd.DataFrame(rows).set_index("model")


# --------------------------------------------------------------------------------------
# score tests of the equality constraints (lavaan lavTestScore)
# --------------------------------------------------------------------------------------

def _constraint_rows(labels, rowkeys):
    """lavaan's '==' rows of shared labels: (first member, each other member), in order of
    the first member."""
    out = []
    seen = {}
    for k, L in enumerate(labels):
        if L:
            seen.setdefault(L, []).append(k)
    for L, idx in seen.items():
        for o in idx[1:]:
            out.append((idx[0], o))
    return out


def _score_tests(score, info, R, N, cumulative):
    """lavaan 0.6-14 lavTestScore: total, univariate and cumulative statistics.

    J is the upper-left block of the Moore-Penrose inverse of [[I, R1'], [R1, 0]] (R1 the
    constraints kept); computed as Z (Z' I Z)^-1 Z' with Z an orthonormal basis of the null
    space of R1 (the same matrix when Z' I Z is nonsingular), else by the bordered inverse.
    """
    n = info.shape[0]

    simple = bool(np.all(np.isin(R, (-1.0, 0.0, 1.0))) and np.all(np.sum(R != 0, axis=1) == 2)
                  and np.all(R.sum(axis=1) == 0))

    def basis(R1):
        if simple:
            # equalities of pairs: the null space is spanned by the merged parameters
            parent = list(range(n))

            def find(a):
                while parent[a] != a:
                    parent[a] = parent[parent[a]]
                    a = parent[a]
                return a
            for row in R1:
                a, b = np.flatnonzero(row)
                parent[find(a)] = find(b)
            roots = [find(a) for a in range(n)]
            uniq = {r: k for k, r in enumerate(dict.fromkeys(roots))}
            Z = np.zeros((n, len(uniq)))
            Z[np.arange(n), [uniq[r] for r in roots]] = 1.0
            return Z
        _, sv, Vt = np.linalg.svd(R1, full_matrices=True)
        rank = int(np.sum(sv > max(R1.shape) * np.finfo(float).eps * sv[0]))
        return Vt[rank:].T

    def jinv(R1):
        if len(R1) == 0:
            return np.linalg.pinv(info)
        Z = basis(R1)
        ZIZ = Z.T @ info @ Z
        ev = np.linalg.eigvalsh(ZIZ)
        if ev[0] > 1e-10 * ev[-1]:
            out = Z @ np.linalg.solve(ZIZ, Z.T)
            return (out + out.T) / 2
        # not identified with these constraints: lavaan's bordered Moore-Penrose inverse
        Zb = np.block([[info, R1.T], [R1, np.zeros((len(R1), len(R1)))]])
        return np.linalg.pinv(Zb)[:n, :n]

    total = float(N * score @ np.linalg.pinv(info) @ score)
    uni = np.zeros(len(R))
    for r in range(len(R)):
        J = jinv(np.delete(R, r, axis=0))
        uni[r] = float(N * score @ J @ score)
    cum = None
    if cumulative:
        order = np.argsort(-uni, kind="stable")
        cum = np.zeros(len(R))
        for r in range(len(R)):
            J = jinv(np.delete(R, order[:r + 1], axis=0))
            cum[r] = float(N * score @ J @ score)
        cum = (order, cum)
    return total, uni, cum


def _score_frame(pairs, keys, uni, cum):
    def desc(k):
        lhs, op, rhs, g = keys[k]
        return lhs, op, rhs, g
    rows = []
    for (a, b), x2 in zip(pairs, uni):
        la, oa, ra, ga = desc(a)
        _, _, _, gb = desc(b)
        rows.append(dict(lhs=la, op=oa, rhs=ra, group_1=ga, group_2=gb, chisq=x2, df=1,
                         p_value=float(stats.chi2.sf(x2, 1))))
    out = pd.DataFrame(rows)
    cumf = None
    if cum is not None:
        order, vals = cum
        cumf = out.iloc[order].copy().reset_index(drop=True)
        cumf["chisq"] = vals
        cumf["df"] = np.arange(1, len(vals) + 1)
        cumf["p_value"] = stats.chi2.sf(vals, cumf["df"])
    return out, cumf


@dataclass(frozen=True)
class ScoreTestResult:
    """Score (Lagrange multiplier) tests of equality constraints (lavaan ``lavTestScore``).

    ``total``: the test of releasing every constraint at once (``chisq, df, p_value``);
    ``univariate``: one row per constraint (the parameter ``lhs op rhs`` in ``group_1``
    equal to the same parameter in ``group_2``), releasing that constraint only;
    ``cumulative``: constraints ordered by their univariate statistic, each row releasing
    it and all rows above (lavaan ``cumulative = TRUE``).
    """

    total: pd.DataFrame
    univariate: pd.DataFrame
    cumulative: pd.DataFrame | None

    def to_frame(self) -> pd.DataFrame:
        """The univariate tests (one row per equality constraint)."""
        return self.univariate.copy()

    def summary(self):
        from ..results import Summary
        blocks = [("Total", self.total), ("Univariate", self.univariate)]
        if self.cumulative is not None:
            blocks.append(("Cumulative", self.cumulative))
        return Summary("Score tests of equality constraints", (), tuple(blocks))


@single_blas_thread()
def score_test_ordinal(fit: OrdinalMGResult, cumulative: bool = True) -> ScoreTestResult:
    """lavaan 0.6-14 ``lavTestScore(fit, univariate = TRUE, cumulative = TRUE)`` for an ordinal
    multi-group fit: releases the cross-group equality constraints (shared labels).

    Notes
    -----
    In lavaan's unconstrained parameter space (each group's parameters separate) with the
    expected information I = sum_g f_g D_g' W_g D_g and the score
    s = sum_g f_g D_g' W_g (s_g - sigma_g) at the constrained estimates, the statistic is
    N s' J s with J the upper-left block of the Moore-Penrose inverse of [[I, R'], [R, 0]]
    and R the rows of the constraints kept. As lavaan 0.6-14 warns for WLSMV, this is the
    ordinary (not robust) score test.
    """
    ex = fit._extra
    m: _MGModel = ex["model"]
    full = ex["red"][m.red_of_full]
    Jf = m.jacobian_full(full)
    imp = m.implied(full)
    fg = ex["fg"]
    W = ex["W"]
    info = sum(f * J.T @ (w[:, None] * J) for f, J, w in zip(fg, Jf, W))
    nobs = fit.n_obs
    score = sum(f * (n - 1) / n * J.T @ (w * (s.wls_obs - i))
                for f, n, J, w, s, i in zip(fg, nobs, Jf, W, m.st, imp))
    labels = list(m.r_label[m.free_rows])
    keys = [(m.r_lhs[r], m.r_op[r], m.r_rhs[r], int(m.r_group[r])) for r in m.free_rows]
    pairs = _constraint_rows(labels, keys)
    if not pairs:
        raise ModelSpecificationError("The model has no equality constraints to release.")
    Rm = np.zeros((len(pairs), m.nfull))
    for k, (a, b) in enumerate(pairs):
        Rm[k, a], Rm[k, b] = 1.0, -1.0
    N = sum(nobs)
    total, uni, cum = _score_tests(score, info, Rm, N, cumulative)
    univ, cumf = _score_frame(pairs, keys, uni, cum)
    tot = pd.DataFrame([dict(chisq=total, df=len(pairs),
                             p_value=float(stats.chi2.sf(total, len(pairs))))])
    return ScoreTestResult(tot, univ, cumf)


# --------------------------------------------------------------------------------------
# longitudinal (repeated measures) ordinal invariance
# --------------------------------------------------------------------------------------

LONG_EQUAL = ("thresholds", "loadings", "intercepts", "residuals", "means", "lv.variances")


def long_name(item: str, occ) -> str:
    """Wide column of ``item`` at occasion ``occ`` (``item_t<occ>``)."""
    return f"{item}_t{occ}"


def long_measeq_table(factors: Mapping[str, Sequence[str]], occasions, nthr: Mapping[str, int],
                      long_equal=None, long_partial=None,
                      parameterization: str = "delta") -> MeasEqTable:
    """The model of semTools 0.5-6 ``measEq.syntax(configural.model, ordered, ID.fac =
    "std.lv", ID.cat = "Wu.Estabrook.2016", longFacNames, long.equal, auto = "all")``.

    Parameters
    ----------
    factors : mapping
        ``{factor: [items]}`` at one occasion; the wide variables are ``item_t<occasion>``
        and the factors ``factor_t<occasion>``.
    occasions : sequence
        Two or more occasions, the first is the reference.
    nthr : mapping
        Thresholds of each wide variable (the same for an item at every occasion).
    long_equal : list of str
        Any of ``thresholds, loadings, intercepts, residuals (theta), means,
        lv.variances`` (equal across occasions).
    long_partial : list of str
        Exempt parameters, named by their first-occasion variable, e.g. ``["wai_3_t1 | t1"]``.

    Notes
    -----
    Identification across occasions (semTools, ID.cat "Wu.Estabrook.2016"): at the first
    occasion intercepts 0 and scales (delta) or residual variances (theta) 1, factor means 0
    and variances 1; at a later occasion an intercept is freed when one of its item's
    thresholds is equal over time and the intercepts are not, the scale / residual variance
    when two thresholds are equal or one and the intercept; a factor variance when its
    loadings are equal, a factor mean when an intercept of its (single-factor) indicators
    is. Each item's residuals are correlated across all occasions.
    """
    if parameterization not in ("delta", "theta"):
        raise ModelSpecificationError(
            f"The 'parameterization' argument must be 'delta' or 'theta', got "
            f"{parameterization!r}.")
    le = []
    for x in ([long_equal] if isinstance(long_equal, str) else (long_equal or [])):
        x2 = _ALIASES.get(x, x)
        if x2 not in LONG_EQUAL:
            raise ModelSpecificationError(
                f"The 'long_equal' argument contains {x!r}; allowed: {', '.join(LONG_EQUAL)}.")
        le.append(x2)
    if parameterization == "delta" and "residuals" in le:
        raise ModelSpecificationError(
            "Residual variances cannot be tested for invariance across occasions when "
            "parameterization = 'delta'. Use parameterization='theta'.")
    partial = _parse_partial(long_partial)
    occ = list(occasions)
    if len(occ) < 2:
        raise ModelSpecificationError("Longitudinal invariance needs at least two occasions.")
    facs = list(factors)
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    ov = [long_name(i, t) for t in occ for f in facs for i in factors[f]]
    ov = list(dict.fromkeys(ov))
    lv = [long_name(f, t) for t in occ for f in facs]
    spec = {(long_name(f, t), long_name(i, t)) for t in occ for f in facs for i in factors[f]}
    oi = {v: k + 1 for k, v in enumerate(ov)}
    fi = {v: k + 1 for k, v in enumerate(lv)}
    first_v = {long_name(i, t): long_name(i, occ[0]) for t in occ for i in items}
    first_f = {long_name(f, t): long_name(f, occ[0]) for t in occ for f in facs}
    occ_of = {long_name(i, t): k for k, t in enumerate(occ) for i in items}
    occ_of.update({long_name(f, t): k for k, t in enumerate(occ) for f in facs})
    for i in items:
        ks = {nthr[long_name(i, t)] for t in occ}
        if len(ks) > 1:
            raise DataValidationError(
                f"Item {i!r} has different numbers of categories across occasions "
                f"({ {t: nthr[long_name(i, t)] + 1 for t in occ} }); collapse rare categories "
                f"so that every occasion has the same ones.")

    def part(lhs, op, rhs=""):
        return (lhs, op, rhs) in partial
    eq = lambda t: t in le      # noqa: E731
    rows = []

    def add(mat, lhs, op, rhs, i, j, value, label):
        rows.append(dict(group=1, mat=mat, lhs=lhs, op=op, rhs=rhs, i=i, j=j, value=value,
                         label=label))
    neq = {}
    for v in ov:
        v1 = first_v[v]
        neq[v] = sum(1 for t in range(1, nthr[v] + 1)
                     if eq("thresholds") and not part(v1, "|", f"t{t}"))
    for f in lv:                                              # LOADINGS
        for v in ov:
            if (f, v) in spec:
                e = eq("loadings") and not part(first_f[f], "=~", first_v[v])
                a, b = (first_v[v], first_f[f]) if e else (v, f)
                add("lambda", f, "=~", v, oi[v], fi[f], np.nan, f"lambda.{oi[a]}_{fi[b]}")
    for v in ov:                                              # THRESHOLDS
        for t in range(1, nthr[v] + 1):
            e = eq("thresholds") and not part(first_v[v], "|", f"t{t}")
            add("tau", v, "|", f"t{t}", oi[v], t, np.nan, f"{first_v[v] if e else v}.thr{t}")
    for v in ov:                                              # INTERCEPTS
        e_int = eq("intercepts") and not part(first_v[v], "~1")
        val = 0.0
        if occ_of[v] > 0 and not (neq[v] == 0 or e_int):
            val = np.nan
        add("nu", v, "~1", "", oi[v], 1, val, f"nu.{oi[first_v[v] if e_int else v]}")
    for v in ov:                                              # SCALES / RESIDUAL VARIANCES
        e_int = eq("intercepts") and not part(first_v[v], "~1")
        e_res = eq("residuals") and not part(first_v[v], "~~", first_v[v])
        val = 1.0
        if occ_of[v] > 0 and not (neq[v] == 0 or (neq[v] < 2 and not e_int) or e_res):
            val = np.nan
        if parameterization == "delta":
            add("delta", v, "~*~", v, oi[v], oi[v], val, "")
        else:
            k = oi[first_v[v] if e_res else v]
            add("theta", v, "~~", v, oi[v], oi[v], val, f"theta.{k}_{k}")
    auto = set()                                              # RESIDUAL AUTOCOVARIANCES
    for i in items:
        vs = [long_name(i, t) for t in occ]
        for a in range(len(vs)):
            for b in range(a + 1, len(vs)):
                r, c = max(oi[vs[a]], oi[vs[b]]), min(oi[vs[a]], oi[vs[b]])
                auto.add((r, c))
    for c in range(1, len(ov) + 1):                           # column-major, as semTools
        for r in range(c + 1, len(ov) + 1):
            if (r, c) in auto:
                add("theta", ov[c - 1], "~~", ov[r - 1], r, c, np.nan, f"theta.{r}_{c}")
    for f in lv:                                              # LATENT MEANS
        e = eq("means") and not part(first_f[f], "~1")
        val = 0.0
        if occ_of[f] > 0:
            inds = [v for v in ov if (f, v) in spec and sum((h, v) in spec for h in lv) == 1]
            if any(eq("intercepts") and not part(first_v[v], "~1") for v in inds):
                val = np.nan
        add("alpha", f, "~1", "", fi[f], 1, val, f"alpha.{fi[first_f[f] if e else f]}")
    for f in lv:                                              # LATENT VARIANCES
        e = eq("lv.variances") and not part(first_f[f], "~~", first_f[f])
        val = 1.0
        if occ_of[f] > 0 and any(eq("loadings") and not part(first_f[f], "=~", first_v[v])
                                 for v in ov if (f, v) in spec):
            val = np.nan
        k = fi[first_f[f] if e else f]
        add("psi", f, "~~", f, fi[f], fi[f], val, f"psi.{k}_{k}")
    for c in range(len(lv) - 1):                              # LATENT COVARIANCES
        for r in range(c + 1, len(lv)):
            add("psi", lv[c], "~~", lv[r], r + 1, c + 1, np.nan, f"psi.{r + 1}_{c + 1}")
    return MeasEqTable(pd.DataFrame(rows), tuple(ov), tuple(lv),
                       MappingProxyType({v: nthr[v] for v in ov}), 1, parameterization,
                       tuple(le), tuple(partial))


def long_configural_model(factors, occasions) -> str:
    """The configural lavaan model of the wide data (a factor per occasion)."""
    return "\n".join(f"{long_name(f, t)} =~ " + " + ".join(long_name(i, t) for i in its)
                     for t in occasions for f, its in factors.items())


@single_blas_thread()
def prepare_long(wide: pd.DataFrame, factors, occasions):
    """Ordinal statistics of the wide data (one group) and the thresholds per variable."""
    from .ordinal_stats import ordinal_data
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    ov = list(dict.fromkeys(long_name(i, t) for t in occasions for f in factors
                            for i in factors[f]))
    miss = [v for v in ov if v not in wide.columns]
    if miss:
        raise DataValidationError(f"The wide data have no columns {miss}.")
    codes, levels, keep = ordinal_data(wide[ov], ov)
    for i in items:
        levs = {t: tuple(levels[ov.index(long_name(i, t))].tolist()) for t in occasions}
        if len(set(levs.values())) > 1:
            raise DataValidationError(
                f"Item {i!r} has different categories across occasions "
                f"({ {t: [int(x) for x in lv] for t, lv in levs.items()} }); merge rare "
                f"categories so that every occasion has the same ones (e.g. recode 1 as 2).")
    nthr = {v: len(levels[j]) - 1 for j, v in enumerate(ov)}
    st = ordinal_stats(codes, ov)
    return dict(ov=ov, lv=[], nthr=nthr, groups=["all"], stats=[st],
                n_drop=int((~keep).sum()), levels=levels)


def merge_sparse_categories(frame: pd.DataFrame, items: Sequence[str], by: str):
    """Merge the categories of each item that are not observed in every group (or
    occasion) of ``by`` with their neighbour, until every remaining category is.

    An extreme category is merged inwards (the lowest into the next, the highest into the
    one below), an inner one into the category below. Returns ``(recoded frame, merges)``
    with ``merges`` a list of ``(item, category, merged_into)``; nothing is recoded
    silently: callers report the list.
    """
    out = frame.copy()
    merges = []
    for v in items:
        col = out[v]
        while True:
            seen = [set(col[out[by] == g].dropna().unique()) for g in out[by].dropna().unique()]
            cats = sorted(set(col.dropna().unique()))
            common = set.intersection(*seen) if seen else set(cats)
            bad = [c for c in cats if c not in common]
            if not bad or len(cats) <= 2:
                break
            c = bad[0]
            k = cats.index(c)
            into = cats[k + 1] if k == 0 else cats[k - 1]
            col = col.where(col != c, into)
            merges.append((v, c, into))
        out[v] = col
    return out, merges
