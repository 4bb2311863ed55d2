"""Parameter table: the one intermediate form every later step reads.

The parser output (:mod:`.syntax`) plus the identification defaults of
lavaan's ``cfa()``/``sem()`` become a tidy table with one row per model
parameter and group (``lhs, op, rhs, group, user, free, ustart, label, plabel,
exo, par``). ``par`` is the 0-based index of the row's entry in the vector of
free parameters (``-1`` for fixed rows); rows that share a label (user labels,
``==`` constraints, ``group_equal``) share a ``par`` index.

Row order and the auto-added rows follow ``lavaan::lavaanify`` 0.6-14
(``lav_partable_flat``): user rows in syntax order, then the default
variances, covariances of exogenous latent variables, covariances of pure
dependent variables, fixed.x (co)variances, intercepts; then the same for the
next group. This order fixes lavaan's plabels (``.p12.``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from ..exceptions import IdentificationError, ModelSpecificationError
from .syntax import Definition, ParsedModel

__all__ = ["ParTable", "VariableNames", "build_partable", "GROUP_EQUAL_TYPES",
           "ThresholdSpec", "threshold_spec", "threshold_variables"]

GROUP_EQUAL_TYPES = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
                     "lv.variances", "lv.covariances", "regressions")
_GROUP_EQUAL_ALIASES = {"residual_covariances": "residual.covariances",
                        "lv_variances": "lv.variances", "lv_covariances": "lv.covariances"}


@dataclass(frozen=True)
class VariableNames:
    """Variable roles, lavaan's ``lav_partable_vnames`` (same for all groups)."""

    ov: tuple[str, ...]
    lv: tuple[str, ...]
    ov_ind: tuple[str, ...]
    ov_x: tuple[str, ...]
    ov_y: tuple[str, ...]
    lv_x: tuple[str, ...]
    lv_y: tuple[str, ...]
    eqs_y: tuple[str, ...]
    eqs_x: tuple[str, ...]

    @property
    def ov_nox(self) -> tuple[str, ...]:
        return tuple(v for v in self.ov if v not in self.ov_x)


@dataclass(frozen=True)
class ParTable:
    """The parameter table plus the names and options it was built with."""

    table: pd.DataFrame
    names: VariableNames
    ngroups: int
    meanstructure: bool
    fixed_x: bool
    definitions: tuple[Definition, ...] = ()
    constraints: tuple = ()     # general constraints (syntax.Constraint), see .constraints
    group_labels: tuple = ()
    npar: int = 0
    options: dict = field(default_factory=dict)
    cols: dict | None = field(default=None, repr=False, compare=False)

    def rows(self, group: int | None = None) -> pd.DataFrame:
        t = self.table
        return t if group is None else t[t["group"] == group]

    def c(self, name: str) -> list:
        """A column as a plain list (fast path; the table is for display)."""
        if self.cols is not None and name in self.cols:
            return self.cols[name]
        return self.table[name].tolist()


def _unique(seq):
    seen, out = set(), []
    for s in seq:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def variable_names(stmts) -> VariableNames:
    """Classify variables as lavaan does (lv, ov.ind, ov.y, ov.x, lv.x, lv.y)."""
    # formative (composite) latent variables '<~' are latent, regressed on their
    # observed "indicators" (lavaan: lv.f)
    lv = _unique(s.lhs for s in stmts if s.op in ("=~", "<~"))
    v_ind = _unique(s.rhs for s in stmts if s.op == "=~")
    eqs_y = _unique(s.lhs for s in stmts if s.op in ("~", "<~"))
    eqs_x = _unique(s.rhs for s in stmts if s.op in ("~", "<~"))
    lvset = set(lv)
    ov_ind = [v for v in v_ind if v not in lvset]
    ov_y_all = [v for v in eqs_y if v not in lvset and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lvset and v not in ov_ind and v not in ov_y_all]
    extra = _unique([s.lhs for s in stmts if s.op in ("~~", "~1") and s.lhs not in lvset]
                    + [s.rhs for s in stmts if s.op == "~~" and s.rhs not in lvset]
                    + [s.lhs for s in stmts if s.op == "|" and s.lhs not in lvset])
    ov_tmp = ov_ind + ov_y_all + ov_x
    ov = ov_tmp + [v for v in extra if v not in ov_tmp]
    # ov.x mentioned as (co)variance or intercept by the user is not exogenous
    user_vars = {s.lhs for s in stmts if s.op in ("~~", "~1")} | {s.rhs for s in stmts if s.op == "~~"}
    ov_x = [v for v in ov_x if v not in user_vars]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    ov_y = [v for v in ov if v in eqs_y and v not in v_ind and v not in eqs_x and v not in lvset]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    return VariableNames(tuple(ov), tuple(lv), tuple(ov_ind), tuple(ov_x), tuple(ov_y),
                         tuple(lv_x), tuple(lv_y), tuple(eqs_y), tuple(eqs_x))


def _per_group(values: tuple | None, g: int, ngroups: int, what: str, line: int):
    if values is None:
        return None
    if len(values) == 1:
        return (values[0],)
    if len(values) != ngroups:
        raise ModelSpecificationError(
            f"Model syntax line {line}: {what} modifier has {len(values)} values but the model "
            f"has {ngroups} group(s); give one value or one per group.")
    return (values[g],)


def _normalise_group_equal(group_equal) -> tuple[str, ...]:
    if group_equal is None:
        return ()
    if isinstance(group_equal, str):
        group_equal = [group_equal]
    out = []
    for ge in group_equal:
        ge2 = _GROUP_EQUAL_ALIASES.get(ge, ge)
        if ge2 not in GROUP_EQUAL_TYPES:
            raise ModelSpecificationError(
                f"The 'group_equal' argument contains {ge!r}; allowed are "
                f"{', '.join(GROUP_EQUAL_TYPES)}.")
        out.append(ge2)
    return tuple(out)


def _parse_partial(group_partial) -> set[tuple[str, str, str]]:
    if group_partial is None:
        return set()
    if isinstance(group_partial, str):
        group_partial = [group_partial]
    out = set()
    for gp in group_partial:
        s = gp.replace(" ", "")
        for op in ("=~", "~~", "~1", "~"):
            if op in s:
                if op == "~1" and s.endswith("~1"):
                    out.add((s[:-2], "~1", ""))
                    break
                if op == "~1":
                    continue
                lhs, rhs = s.split(op, 1)
                out.add((lhs, op, rhs))
                if op == "~~":
                    out.add((rhs, op, lhs))
                break
        else:
            raise ModelSpecificationError(
                f"The 'group_partial' argument contains {gp!r}, which is not of the form "
                f"'lhs op rhs' (e.g. 'visual =~ x2' or 'x3 ~ 1').")
    return out


def build_partable(parsed: ParsedModel, *, ngroups: int = 1, std_lv: bool = False,
                   meanstructure: bool = False, fixed_x: bool = True,
                   group_equal=None, group_partial=None, group_labels=(),
                   auto_fix_first: bool | None = None, orthogonal: bool = False,
                   int_ov_free: bool = True, int_lv_free: bool = False) -> ParTable:
    """Build the parameter table from parsed syntax with lavaan ``sem()`` defaults.

    Parameters
    ----------
    parsed : ParsedModel
    ngroups : int
    std_lv : bool
        Fix latent variances to 1 instead of the first loading (``std.lv``).
    meanstructure : bool
        Add intercepts (observed, free) and latent means (fixed to 0).
    fixed_x : bool
        Exogenous observed covariates keep their sample (co)variances and means.
    group_equal, group_partial
        lavaan's ``group.equal``/``group.partial``.
    orthogonal : bool
        Fix the automatic covariances among latent variables to zero (``orthogonal``).
    int_ov_free, int_lv_free : bool
        Free the automatic intercepts of observed / latent variables (lavaan
        ``int.ov.free`` / ``int.lv.free``); ``growth()`` uses False / True.

    Notes
    -----
    lavaan: ``lavaanify(model, auto.var = TRUE, auto.fix.first = !std.lv,
    auto.fix.single = TRUE, auto.cov.lv.x = TRUE, auto.cov.y = TRUE,
    int.ov.free = TRUE, int.lv.free = FALSE)``.
    """
    # thresholds ('x | t1') are not rows of the continuous table: see threshold_spec
    stmts = [s for s in parsed.statements if s.op != "|"]
    th_labels = {lb for s in parsed.statements if s.op == "|" and s.modifier.label
                 for lb in s.modifier.label}
    # --- duplicate user statements -------------------------------------------------
    seen = {}
    user = []
    for s in stmts:
        key = (s.lhs, s.op, s.rhs)
        if s.op == "~~" and (s.rhs, s.op, s.lhs) in seen:
            key = (s.rhs, s.op, s.lhs)
        if key in seen:
            # merge modifiers (lavaan: 'NA*x3 + x3' style duplicates are ignored)
            prev = seen[key]
            mod = prev.modifier
            new = s.modifier
            merged = type(mod)(fixed=mod.fixed if mod.fixed is not None else new.fixed,
                               label=mod.label if mod.label is not None else new.label,
                               start=mod.start if mod.start is not None else new.start)
            idx = user.index(prev)
            user[idx] = type(prev)(prev.lhs, prev.op, prev.rhs, prev.line, merged)
            seen[key] = user[idx]
            continue
        seen[key] = s
        user.append(s)
    names = variable_names(user)
    lvset = set(names.lv)
    composites = {s.lhs for s in user if s.op == "<~"}
    for s in user:
        if s.op == "=~" and s.lhs == s.rhs:
            raise ModelSpecificationError(
                f"Model syntax line {s.line}: latent variable {s.lhs!r} cannot be its own indicator.")
        if s.op == "~" and s.lhs == s.rhs:
            raise ModelSpecificationError(
                f"Model syntax line {s.line}: {s.lhs!r} cannot be regressed on itself.")
    lv_x = list(names.lv_x)
    lvov_y = list(names.lv_y) + list(names.ov_y)
    # lavaan adds the (co)variances of the exogenous covariates whatever fixed.x is;
    # fixed.x = TRUE fixes them at their sample values, fixed.x = FALSE frees them
    ov_x = list(names.ov_x)
    ov_nox = [v for v in names.ov if v not in ov_x]
    if auto_fix_first is None:
        auto_fix_first = not std_lv

    # --- default rows --------------------------------------------------------------
    default = [(v, "~~", v) for v in ov_nox + list(names.lv)]
    if len(lv_x) > 1:
        default += [(a, "~~", b) for a, b in combinations(lv_x, 2)]
    if len(lvov_y) > 1:
        default += [(a, "~~", b) for a, b in combinations(lvov_y, 2)]
    if ov_x:
        nx = len(ov_x)
        for j in range(nx):
            for i in range(j, nx):
                default.append((ov_x[j], "~~", ov_x[i]))
    if meanstructure:
        default += [(v, "~1", "") for v in list(names.ov) + list(names.lv)]
    user_keys = set()
    for s in user:
        user_keys.add((s.lhs, s.op, s.rhs))
        if s.op == "~~":
            user_keys.add((s.rhs, s.op, s.lhs))
    default = [d for d in default if d not in user_keys]

    base = [dict(lhs=s.lhs, op=s.op, rhs=s.rhs, user=1, stmt=s) for s in user]
    base += [dict(lhs=l, op=o, rhs=r, user=0, stmt=None) for (l, o, r) in default]

    # single-indicator latent variables: residual variance of the indicator fixed to 0
    mm = [(s.lhs, s.rhs) for s in user if s.op == "=~"]
    counts = {}
    for l, _ in mm:
        counts[l] = counts.get(l, 0) + 1
    rhs_counts = {}
    for _, r in mm:
        rhs_counts[r] = rhs_counts.get(r, 0) + 1
    single_ind = {r for l, r in mm if counts[l] == 1 and rhs_counts[r] == 1 and l != r}
    first_seen = set()

    rows = []
    for g in range(ngroups):
        first_seen = set()
        for b in base:
            lhs, op, rhs = b["lhs"], b["op"], b["rhs"]
            free, ustart, label, start, exo = True, np.nan, "", np.nan, 0
            if b["user"] == 0:
                if op == "~~" and lhs == rhs and lhs in lvset and std_lv:
                    free, ustart = False, 1.0
                if op == "~~" and lhs == rhs and lhs in single_ind:
                    free, ustart = False, 0.0
                if op == "~~" and lhs == rhs and lhs in composites:
                    free, ustart = False, 0.0    # lavaan: composite without disturbance
                if op == "~1" and lhs in lvset and not int_lv_free:
                    free, ustart = False, 0.0
                if op == "~1" and lhs not in lvset and not int_ov_free:
                    free, ustart = False, 0.0
                if orthogonal and op == "~~" and lhs != rhs and lhs in lvset and rhs in lvset:
                    free, ustart = False, 0.0
                if fixed_x and op in ("~~", "~1") and lhs in ov_x and (op == "~1" or rhs in ov_x):
                    free, ustart, exo = False, np.nan, 1
            else:
                if op == "~~" and lhs == rhs and lhs in lvset and std_lv:
                    free, ustart = False, 1.0
            if op == "=~" and auto_fix_first and lhs not in first_seen:
                free, ustart = False, 1.0
            if op == "=~":
                first_seen.add(lhs)
            s = b["stmt"]
            if s is not None:
                m = s.modifier
                fx = _per_group(m.fixed, g, ngroups, "fixed-value", s.line)
                lb = _per_group(m.label, g, ngroups, "label", s.line)
                st = _per_group(m.start, g, ngroups, "start", s.line)
                if fx is not None:
                    if fx[0] is None:
                        free, ustart = True, np.nan
                    else:
                        free, ustart = False, float(fx[0])
                if lb is not None:
                    label = lb[0]
                if st is not None:
                    start = float(st[0])
            rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=b["user"], group=g + 1, free=free,
                             ustart=ustart, label=label, start=start, exo=exo,
                             line=(s.line if s is not None else 0)))
    records = rows
    for i, r in enumerate(records):
        r["id"] = i + 1
        r["plabel"] = f".p{i + 1}."
        r["eq_label"] = r["label"]

    # --- group.equal ------------------------------------------------------------------
    ge = _normalise_group_equal(group_equal)
    partial = _parse_partial(group_partial)
    if ngroups > 1 and ge:
        ov_set = set(names.ov)
        key_to_g1 = {}
        for i, r in enumerate(records):
            if r["group"] == 1:
                key_to_g1[(r["lhs"], r["op"], r["rhs"])] = i
        for i, r in enumerate(records):
            kind = _equal_kind(r, lvset, ov_set)
            if kind is None or kind not in ge:
                continue
            if (r["lhs"], r["op"], r["rhs"]) in partial:
                continue
            if not r["free"] or r["label"]:
                continue
            r1 = records[key_to_g1[(r["lhs"], r["op"], r["rhs"])]]
            if not r1["free"] or r1["eq_label"] not in ("", r1["plabel"]):
                continue
            pl = r1["plabel"]
            r["eq_label"] = r["label"] = pl
            r1["eq_label"] = r1["label"] = pl
        # lavaan: latent means free in groups 2.. when intercepts are equal but means are not
        if meanstructure and "intercepts" in ge and "means" not in ge:
            for r in records:
                if r["op"] == "~1" and r["lhs"] in lvset and r["user"] == 0 and r["group"] > 1:
                    r["free"], r["ustart"] = True, np.nan
        # lavaan: with std.lv and equal loadings, latent variances free in groups 2..
        if std_lv and "loadings" in ge and "lv.variances" not in ge:
            for r in records:
                if (r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in lvset
                        and r["user"] == 0 and r["group"] > 1):
                    r["free"], r["ustart"] = True, np.nan

    # --- '==' constraints between labels (simple: the two share a parameter); every
    # other constraint (expressions, numbers, '<', '>') is a general constraint
    alias = {}
    general = []
    labels_in_use = {r["eq_label"] for r in records} - {""}
    label_re = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
    for c in parsed.constraints:
        if _threshold_constraint(c, th_labels, labels_in_use):
            continue
        if (c.op == "==" and c.lhs in labels_in_use and c.rhs in labels_in_use
                and c.lhs != c.rhs):
            alias[c.rhs] = c.lhs
            continue
        for side in (c.lhs, c.rhs):
            if label_re.match(side) and side not in labels_in_use and side not in {
                    d.name for d in parsed.definitions}:
                raise ModelSpecificationError(
                    f"Model syntax line {c.line}: constraint '{c.lhs} {c.op} {c.rhs}' uses "
                    f"{side!r}, which is not a parameter label or defined parameter.")
        general.append(c)

    def root(lbl):
        while lbl in alias:
            lbl = alias[lbl]
        return lbl

    # --- free parameter index -----------------------------------------------------------
    by_label: dict[str, int] = {}
    fixed_labels: dict[str, float] = {}
    k = 0
    for r in records:
        lbl = root(r["eq_label"])
        r["par"] = -1
        if not r["free"]:
            if lbl:
                fixed_labels[lbl] = r["ustart"]
            continue
        if lbl:
            if lbl in by_label:
                r["par"] = by_label[lbl]
                continue
            by_label[lbl] = k
        r["par"] = k
        k += 1
    # a label shared by a fixed and a free row: not supported
    for r in records:
        lbl = root(r["eq_label"])
        if lbl and lbl in fixed_labels and r["par"] >= 0:
            raise ModelSpecificationError(
                f"Label {lbl!r} is used for a fixed and a free parameter "
                f"({r['lhs']} {r['op']} {r['rhs']}); give them different labels.")
    cols = ["id", "lhs", "op", "rhs", "user", "group", "free", "ustart", "label", "start", "exo",
            "line", "plabel", "par"]
    lists = {c: [r[c] for r in records] for c in cols}
    tab = pd.DataFrame(lists)
    _check_definitions(parsed.definitions, lists["label"])
    _check_scale(lists, names, ngroups)
    return ParTable(table=tab, names=names, ngroups=ngroups, meanstructure=meanstructure,
                    fixed_x=fixed_x, definitions=tuple(parsed.definitions),
                    constraints=tuple(general),
                    group_labels=tuple(group_labels), npar=k,
                    options=dict(std_lv=std_lv, group_equal=ge, int_ov_free=int_ov_free,
                                 int_lv_free=int_lv_free,
                                 group_partial=tuple(sorted(partial))), cols=lists)


def _threshold_constraint(c, th_labels, labels_in_use) -> bool:
    """True for '==' between two threshold labels (handled by :func:`threshold_spec`);
    any other constraint that names a threshold label is refused."""
    if not th_labels:
        return False
    if c.op == "==" and c.lhs in th_labels and c.rhs in th_labels:
        return True
    used = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", c.lhs + " " + c.rhs))
    if used & th_labels:
        raise ModelSpecificationError(
            f"Model syntax line {c.line}: constraint '{c.lhs} {c.op} {c.rhs}' uses threshold "
            f"label(s) {sorted(used & th_labels)}; only equality between two threshold labels "
            f"('t_a == t_b') is supported for thresholds.")
    return False


def threshold_variables(parsed: ParsedModel) -> list[str]:
    """Variables that have threshold statements ('x | t1 + t2'), in syntax order."""
    return _unique(s.lhs for s in parsed.statements if s.op == "|")


@dataclass(frozen=True)
class ThresholdSpec:
    """The thresholds of the ordered variables (in ``names`` order, then t1, t2, ...).

    ``par[i]`` is the 0-based free-threshold parameter of threshold ``i`` (shared by
    equal labels; ``-1`` when fixed), ``fixed[i]`` its value when fixed (NaN when free);
    ``A`` (n_thresholds x n_free) maps the free threshold parameters to the thresholds.
    """

    names: tuple[str, ...]
    var: tuple[str, ...]          # per threshold: its variable
    rhs: tuple[str, ...]          # per threshold: 't1', 't2', ...
    par: np.ndarray
    fixed: np.ndarray
    label: tuple[str, ...]
    start: np.ndarray
    user: tuple[bool, ...]
    nfree: int

    @property
    def A(self) -> np.ndarray:
        A = np.zeros((len(self.par), self.nfree))
        free = self.par >= 0
        A[np.flatnonzero(free), self.par[free]] = 1.0
        return A


def threshold_spec(parsed: ParsedModel, names, n_thresholds, model_labels=()) -> ThresholdSpec:
    """Thresholds from the syntax: lavaan's default (one free threshold per category
    boundary) overridden by 'x | a*t1 + 0*t2' statements (labels, fixed values, start()).
    Equal labels share one parameter, as do two labels joined by '=='.

    Parameters
    ----------
    parsed : ParsedModel
    names : sequence of str
        The ordered variables, in the order of the sample thresholds.
    n_thresholds : sequence of int
        Number of thresholds (categories - 1) of each variable.
    model_labels : set of str
        Labels of the other parameters (a threshold may not share one).
    """
    names = list(names)
    nth = dict(zip(names, n_thresholds))
    user = {}
    for s in parsed.statements:
        if s.op != "|":
            continue
        if s.lhs not in nth:
            raise ModelSpecificationError(
                f"Model syntax line {s.line}: thresholds are given for {s.lhs!r}, which is not "
                f"an ordered indicator of the model (ordered: {', '.join(names)}).")
        k = int(s.rhs[1:])
        if k > nth[s.lhs]:
            raise ModelSpecificationError(
                f"Model syntax line {s.line}: {s.lhs!r} has {nth[s.lhs] + 1} observed "
                f"categories, hence {nth[s.lhs]} threshold(s); '{s.lhs} | {s.rhs}' does not "
                f"exist.")
        m = s.modifier
        for what, v in (("fixed-value", m.fixed), ("label", m.label), ("start", m.start)):
            if v is not None and len(v) != 1:
                raise ModelSpecificationError(
                    f"Model syntax line {s.line}: the {what} modifier of '{s.lhs} | {s.rhs}' "
                    f"has {len(v)} values; ordinal models have one group.")
        key = (s.lhs, k)
        prev = user.get(key)
        if prev is not None:      # duplicates: merge modifiers as for other statements
            m = type(m)(fixed=prev.fixed if prev.fixed is not None else m.fixed,
                        label=prev.label if prev.label is not None else m.label,
                        start=prev.start if prev.start is not None else m.start)
        user[key] = m
    var, rhs, labels, fixed, start, is_user = [], [], [], [], [], []
    for v in names:
        for k in range(1, nth[v] + 1):
            m = user.get((v, k))
            var.append(v)
            rhs.append(f"t{k}")
            is_user.append(m is not None)
            lb = m.label[0] if (m is not None and m.label is not None) else ""
            fx = m.fixed[0] if (m is not None and m.fixed is not None) else None
            labels.append(lb)
            fixed.append(np.nan if fx is None else float(fx))
            start.append(float(m.start[0]) if (m is not None and m.start is not None)
                         else np.nan)
    clash = (set(labels) - {""}) & set(model_labels)
    if clash:
        raise ModelSpecificationError(
            f"Label(s) {sorted(clash)} are used for a threshold and for another kind of "
            f"parameter; give them different labels.")
    alias = {}
    for c in parsed.constraints:
        if c.op == "==" and c.lhs in labels and c.rhs in labels and c.lhs != c.rhs:
            alias[c.rhs] = c.lhs

    def root(lbl):
        seen = set()
        while lbl in alias and lbl not in seen:
            seen.add(lbl)
            lbl = alias[lbl]
        return lbl

    par = np.full(len(var), -1)
    by_label, fixed_labels = {}, {}
    nfree = 0
    for i, lb in enumerate(labels):
        r = root(lb) if lb else ""
        if np.isfinite(fixed[i]):
            if r:
                fixed_labels[r] = (var[i], rhs[i])
            continue
        if r and r in by_label:
            par[i] = by_label[r]
            continue
        if r:
            by_label[r] = nfree
        par[i] = nfree
        nfree += 1
    for i, lb in enumerate(labels):
        r = root(lb) if lb else ""
        if r and r in fixed_labels and par[i] >= 0:
            raise ModelSpecificationError(
                f"Threshold label {lb!r} is used for a fixed threshold "
                f"({' | '.join(fixed_labels[r])}) and a free one ({var[i]} | {rhs[i]}); fix "
                f"both or neither.")
    return ThresholdSpec(tuple(names), tuple(var), tuple(rhs), par, np.array(fixed),
                         tuple(labels), np.array(start), tuple(is_user), nfree)


def _equal_kind(r, lvset, ov_set):
    op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "means" if lhs in lvset else ("intercepts" if r["exo"] == 0 else None)
    if op == "~~":
        if r["exo"]:
            return None
        if lhs in lvset and rhs in lvset:
            return "lv.variances" if lhs == rhs else "lv.covariances"
        if lhs not in lvset and rhs not in lvset:
            return "residuals" if lhs == rhs else "residual.covariances"
    return None


def _check_definitions(defs, label_list):
    labels = set(label_list) - {""}
    names_seen = set()
    for d in defs:
        if d.name in labels:
            raise ModelSpecificationError(
                f"Model syntax line {d.line}: defined parameter {d.name!r} has the same name as a "
                f"parameter label.")
        if d.name in names_seen:
            raise ModelSpecificationError(
                f"Model syntax line {d.line}: defined parameter {d.name!r} is defined twice.")
        names_seen.add(d.name)


def _check_scale(tab, names, ngroups):
    """Each latent variable needs a scale: a fixed loading or a fixed variance."""
    lhs, op, rhs = tab["lhs"], tab["op"], tab["rhs"]
    grp, free, ust, par = tab["group"], tab["free"], tab["ustart"], tab["par"]
    par_groups: dict[int, set] = {}
    for g, k in zip(grp, par):
        if k >= 0:
            par_groups.setdefault(k, set()).add(g)
    scaled, first_ind = set(), {}
    for l, o, r, g, f, u, k in zip(lhs, op, rhs, grp, free, ust, par):
        if o == "=~":
            first_ind.setdefault(l, r)
            if not f and u != 0:
                scaled.add((g, l))
            elif k >= 0 and len(par_groups[k]) > 1 and g > 1:
                scaled.add((g, l))  # loading equal to another group's: scale carried over
        elif o == "~~" and l == r and not f:
            scaled.add((g, l))
    # a loading equal (same label) to a loading of a scaled factor scales its factor too,
    # e.g. a later occasion's factor in a longitudinal metric model (lavaan accepts it)
    shared: dict[int, set] = {}
    for l, o, g, k in zip(lhs, op, grp, par):
        if o == "=~" and k >= 0:
            shared.setdefault(k, set()).add((g, l))
    changed = True
    while changed:
        changed = False
        for members in shared.values():
            if len(members) > 1 and members & scaled and not members <= scaled:
                scaled |= members
                changed = True
    for g in range(1, ngroups + 1):
        for lv in names.lv:
            if (g, lv) not in scaled:
                raise IdentificationError(
                    f"Latent variable {lv!r} has no scale (group {g}): all its loadings and its "
                    f"variance are free. Fix one loading (e.g. '{lv} =~ 1*{first_ind[lv]}') "
                    f"or its variance ('{lv} ~~ 1*{lv}'), or use std_lv=True.")


def freeze_exogenous(pt: ParTable, xs) -> ParTable:
    """Mark covariates ``xs`` as fixed.x: their (co)variances and means become fixed
    (exo) rows, taking the sample values, and the free-parameter index is renumbered.
    Used for the independence (baseline) model of a model with covariates."""
    from dataclasses import replace
    xs = set(xs)
    cols = {c: list(v) for c, v in (pt.cols or {c: pt.table[c].tolist()
                                                 for c in pt.table.columns}).items()}
    for i, (l, o, r) in enumerate(zip(cols["lhs"], cols["op"], cols["rhs"])):
        if (o == "~~" and l in xs and r in xs) or (o == "~1" and l in xs):
            cols["free"][i] = False
            cols["exo"][i] = 1
            cols["ustart"][i] = np.nan
    k = 0
    for i, f in enumerate(cols["free"]):
        cols["par"][i] = k if f else -1
        k += bool(f)
    names = replace(pt.names, ov_x=tuple(v for v in pt.names.ov if v in xs))
    return replace(pt, table=pd.DataFrame(cols), names=names, fixed_x=True, npar=k, cols=cols)
