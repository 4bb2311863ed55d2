"""Model specification helpers shared by the mixed-model modules (one-way imports).

``mixed`` (the dispatcher), ``glmm``, ``_multi``, ``_glmm_multi`` and ``_predict`` all read
formulas, build designs and model frames and name random-effects terms the same way; those
helpers live here, below all of them, so that the imports of ``multilevel`` run one way:
``_formula, _lmm, _kr, _deriv -> _design -> _predict, _intervals, _glmm_core -> glmm, _multi
-> _glmm_multi -> mixed``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, ModelSpecificationError
from ._formula import build_design, evaluate_expression, parse_formula, parse_rhs
from ._lmm import within_ss

#: lme4's ``isSingular(tol = 1e-4)``: a diagonal element of T below this is "on the boundary".
SINGULAR_TOL = 1e-4


# --------------------------------------------------------------------------- spec
@dataclass(frozen=True, eq=False)
class _Spec:
    formula: str
    response: str
    fixed_names: tuple[str, ...]
    term_cols: dict
    group: str
    re_names: tuple[str, ...]
    blocks: tuple[tuple[int, ...], ...]      # Z column indices per covariance block
    tpos: tuple[tuple[int, int], ...]
    theta_names: tuple[str, ...]
    levels: tuple                             # group levels in code order
    x_between: tuple = ()                     # fixed column constant within every group
    row_index: Any = None                     # index labels of the rows used
    design: Any = None                        # _Design: terms, formula state, model frame
    weights: Any = None                       # prior weights of the rows used (None: all 1)
    offset: Any = None                        # offset of the rows used (None: 0)


def _random_structure(parsed, groups, re_formula, re_cov):
    """Return (list of (names-terms, intercept, uncorrelated)), group name."""
    if parsed.random:
        gnames = {rt.group for rt in parsed.random}
        if len(gnames) > 1:
            raise ModelSpecificationError(
                f"Formula {parsed.text!r} has random terms for several grouping factors "
                f"{sorted(gnames)}; mixed() supports one grouping factor (e.g. the patient).")
        g = next(iter(gnames))
        if groups is not None and groups != g:
            raise ModelSpecificationError(
                f"groups={groups!r} disagrees with the grouping factor {g!r} in the formula.")
        if re_formula is not None:
            raise ModelSpecificationError(
                "Give the random effects either in the formula, e.g. '(1 + x | id)', or with "
                "groups= and re_formula=, not both.")
        return [(rt.terms, rt.intercept, rt.uncorrelated) for rt in parsed.random], g
    if groups is None:
        raise ModelSpecificationError(
            "No grouping factor: pass groups='patient_id' (and optionally re_formula='1 + x'), "
            "or write random terms into the formula, e.g. 'y ~ x + (1 | patient_id)'.")
    if re_cov not in ("unstructured", "diagonal"):
        raise ModelSpecificationError(
            f"The 're_cov' parameter must be 'unstructured' or 'diagonal'. Got {re_cov!r} instead.")
    text = "1" if re_formula is None else re_formula
    uncorr = re_cov == "diagonal"
    if "||" in text:
        text = text.replace("||", "")
        uncorr = True
    terms, intercept, rnd = parse_rhs(text)
    if rnd:
        raise ModelSpecificationError(f"re_formula={re_formula!r} must not contain '(... | g)' terms.")
    return [(tuple(terms), intercept, uncorr)], groups


def _prepare(formula, data, groups, re_formula, re_cov, weights=None, family="gaussian"):
    if not isinstance(data, pd.DataFrame):
        raise ModelSpecificationError(
            f"The 'data' argument must be a pandas DataFrame, got {type(data).__name__}.")
    parsed = parse_formula(formula)
    rterms, gname = _random_structure(parsed, groups, re_formula, re_cov)
    if gname not in data.columns:
        raise ModelSpecificationError(
            f"Grouping column {gname!r} is not a column of data; columns are "
            f"{list(map(str, data.columns))}.")
    y_all, w_resp = _response(parsed, data, family)
    w_all = _prior_weights(weights, data, w_resp)
    off_all = None
    for text in parsed.offsets:
        o = evaluate_expression(data, text)
        off_all = o if off_all is None else off_all + o
    levels_cache: dict = {}
    X, xnames, term_cols = build_design(data, parsed.terms, parsed.intercept, levels_cache)
    Zparts, znames, blocks = [], [], []
    for terms, intercept, uncorr in rterms:
        Zb, zn, _ = build_design(data, terms, intercept, levels_cache)
        if Zb.shape[1] == 0:
            raise ModelSpecificationError(f"A random-effects term of {formula!r} has no columns.")
        start = len(znames)
        for nm in zn:
            if nm in znames:
                raise ModelSpecificationError(
                    f"Random effect {nm!r} appears twice in the random part of {formula!r}.")
        idx = list(range(start, start + len(zn)))
        if uncorr:
            blocks.extend((i,) for i in idx)
        else:
            blocks.append(tuple(idx))
        Zparts.append(Zb)
        znames.extend(zn)
    Z = np.column_stack(Zparts)
    y = y_all
    gcol = data[gname]
    ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1) & np.all(np.isfinite(Z), axis=1) \
        & gcol.notna().to_numpy()
    if w_all is not None:
        ok &= np.isfinite(w_all)
    if off_all is not None:
        ok &= np.isfinite(off_all)
    n_dropped = int((~ok).sum())
    if not ok.all():
        y, X, Z = y[ok], X[ok], Z[ok]
        gcol = gcol[ok]
    codes, levels = pd.factorize(gcol, sort=True)
    levels = tuple(levels.tolist())
    G = len(levels)
    row_index = data.index[ok]
    n = len(y)
    # theta positions: per block, lower triangle column-wise (lme4 order)
    tpos, tnames = [], []
    for blk in blocks:
        for ci, c in enumerate(blk):
            for r in blk[ci:]:
                tpos.append((r, c))
                tnames.append(f"{gname}.{znames[c]}" if r == c
                              else f"{gname}.{znames[r]}.{znames[c]}")
    spec = _Spec(formula, parsed.response, tuple(xnames), term_cols, gname, tuple(znames),
                 tuple(blocks), tuple(tpos), tuple(tnames), levels)
    # ---- checks
    if n == 0:
        raise ModelSpecificationError(
            f"No complete rows: every row has a missing value in {parsed.response!r}, the "
            f"predictors or {gname!r}.")
    if G < 2:
        raise ModelSpecificationError(
            f"Grouping column {gname!r} has {G} level(s) among the complete rows; a mixed model "
            "needs at least 2 patients.")
    q = Z.shape[1]
    if n <= G * q and family == "gaussian":    # glmer: check.nobs.vs.nRE = "ignore"
        raise ModelSpecificationError(
            f"Too few observations for the random-effects structure: {n} rows <= {G} levels of "
            f"{gname!r} x {q} random effect(s) ({', '.join(znames)}); the random-effects "
            "variances and the residual variance are not identifiable. Use fewer random slopes.")
    if G <= len(tpos):
        raise ModelSpecificationError(
            f"Too few levels of {gname!r} ({G}) for {len(tpos)} random-effects covariance "
            f"parameter(s) ({', '.join(tnames)}); use a simpler random-effects structure "
            "(e.g. random intercept only or re_cov='diagonal').")
    if G < 5:
        warnings.warn(f"Only {G} levels of {gname!r}: variance components estimated from fewer "
                      "than 5 groups are very imprecise.", DataQualityWarning, stacklevel=3)
    bad = _dependent_columns(X, xnames)
    if bad:
        raise ModelSpecificationError(
            f"The fixed-effects design of {formula!r} is rank deficient: column(s) {bad} are "
            "linear combinations of earlier columns (e.g. a predictor that is constant, or a "
            "between-patient variable entered twice). Remove them.")
    # which fixed columns are patient-level (constant within every group)? which random
    # slopes have no within-group variation at all?
    ssw = within_ss(codes, G, np.column_stack([X, Z]))
    sst = np.einsum("ij,ij->j", X, X), np.einsum("ij,ij->j", Z, Z)
    tol = 1e-12
    xb = tuple(bool(nm != "(Intercept)" and ssw[j] <= tol * max(1.0, sst[0][j]))
               for j, nm in enumerate(xnames))
    design = _Design(parsed.terms, parsed.intercept, levels_cache,
                     _model_frame(data, parsed, rterms, gname, ok))
    spec = _Spec(**{**spec.__dict__, "x_between": xb, "row_index": row_index, "design": design,
                    "weights": None if w_all is None else w_all[ok],
                    "offset": None if off_all is None else off_all[ok]})
    # A random-effect column constant within every level is a (scaled) random intercept, e.g.
    # lme4's ``(0 + one | g)`` with ``one`` = 1 in every row: allowed when it is the only such
    # column of its covariance block; two of them in one block (e.g. ``(1 + x_between | g)``)
    # are told apart only by heteroscedasticity across levels, so that is refused.
    const_within = [nm == "(Intercept)" or ssw[X.shape[1] + j] <= tol * max(1.0, sst[1][j])
                    for j, nm in enumerate(znames)]
    for blk in blocks:
        cw = [znames[c] for c in blk if const_within[c]]
        if len(cw) > 1:
            nm = next(c for c in cw if c != "(Intercept)")
            raise ModelSpecificationError(
                f"Random slope of {nm!r} cannot be estimated: {nm!r} does not vary within any "
                f"level of {gname!r}, so with {cw[0]!r} in the same random term it is a second "
                f"random intercept. Drop it from the random part, or write it as its own term "
                f"(e.g. '(0 + {nm} | {gname})').")
    for j, nm in enumerate(znames):
        if not np.any(Z[:, j] != 0):
            raise ModelSpecificationError(
                f"Random effect {nm!r} is 0 in every complete row; it cannot be estimated.")
    return spec, y, X, Z, codes, G, n_dropped


def contrast_matrix(L, names: list[str]) -> np.ndarray:
    """A contrast over the fixed effects ``names`` as a matrix: ``L`` is a vector, a matrix
    or ``{term: weight}``."""
    if isinstance(L, dict):
        vec = np.zeros(len(names))
        for k, v in L.items():
            if k not in names:
                raise ModelSpecificationError(
                    f"Contrast names {k!r}, which is not a fixed effect; fixed effects are {names}.")
            vec[names.index(k)] = v
        L = vec[None, :]
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[1] != len(names):
        raise ModelSpecificationError(
            f"Contrast has {L.shape[1]} columns but the model has {len(names)} fixed effects.")
    return L


@dataclass(frozen=True, eq=False)
class _Design:
    """What is needed to rebuild the fixed design (type III contrasts, new data)."""

    terms: tuple
    intercept: bool
    state: dict          # factor levels, poly/scale coefficients (see _formula.build_design)
    frame: Any           # the model's variables, rows used by the fit


def _response(parsed, data: pd.DataFrame, family: str = "gaussian"):
    """The outcome: a numeric column or an expression such as log(y); for a binomial
    ``cbind(successes, failures)`` the proportion and the trials (lme4's convention).

    Returns (y, weights implied by the response or None)."""
    name = parsed.response
    if name in data.columns:
        col = data[name]
        if pd.api.types.is_bool_dtype(col):
            return col.to_numpy(dtype=float), None
        if not pd.api.types.is_numeric_dtype(col):
            raise ModelSpecificationError(
                f"Outcome {name!r} must be numeric (dtype is {col.dtype}).")
        return col.to_numpy(dtype=float, na_value=np.nan), None
    if "(" not in name:
        raise ModelSpecificationError(
            f"Outcome {name!r} is not a column of data; columns are "
            f"{list(map(str, data.columns))}.")
    if name.startswith("cbind("):
        if family != "binomial":
            raise ModelSpecificationError(
                f"Outcome {name!r}: cbind(successes, failures) needs family='binomial'.")
        inner = name[len("cbind("):-1]
        parts, depth, cur = [], 0, ""
        for ch in inner:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
            cur += ch
        parts.append(cur)
        if len(parts) != 2:
            raise ModelSpecificationError(
                f"Outcome {name!r}: cbind() needs two columns, successes and failures.")
        s_ = evaluate_expression(data, parts[0].strip())
        f_ = evaluate_expression(data, parts[1].strip())
        tot = s_ + f_
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(tot > 0, s_ / tot, 0.0)
        y[~np.isfinite(tot)] = np.nan
        return y, tot
    return evaluate_expression(data, name), None


def _prior_weights(weights, data: pd.DataFrame, w_resp):
    """Prior weights (lme4 ``weights=``): a column name or an array, times the binomial
    trials of a cbind() outcome. Negative weights are an error naming the rows."""
    if weights is None:
        return w_resp
    if isinstance(weights, str):
        if weights not in data.columns:
            raise ModelSpecificationError(
                f"weights={weights!r} is not a column of data; columns are "
                f"{list(map(str, data.columns))}.")
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        wname = weights
    else:
        w = np.asarray(weights, dtype=float).ravel()
        wname = "weights"
        if w.size != len(data):
            raise ModelSpecificationError(
                f"weights has {w.size} values but data has {len(data)} rows.")
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise ModelSpecificationError(
            f"Prior weights must be non-negative; {wname!r} is negative in data row(s) "
            f"{[int(b) + 1 for b in bad[:10]]} (values {[float(v) for v in w[bad[:10]]]}; data "
            f"rows are numbered from 1 at the first row below the header).")
    return w if w_resp is None else w * w_resp


def _model_frame(data, parsed, rterms, gname, ok) -> pd.DataFrame:
    """The columns of ``data`` the formula uses, rows used by the fit."""
    texts = [f for t in parsed.terms for f in t] + [parsed.response] + [gname] \
        + [f for terms, _, _ in rterms for t in terms for f in t] + list(parsed.offsets)
    blob = " ".join(texts)
    cols = [c for c in data.columns if str(c) in blob]
    return data.loc[ok, cols]


def _dependent_columns(X: np.ndarray, names) -> list[str]:
    """Columns of X that are (numerically) linear combinations of earlier ones.

    Sequential Cholesky of the column-scaled cross-product matrix: column j is
    dependent when its squared residual norm after projecting on the earlier
    independent columns is below 1e-10 of its own norm (O(n p^2) once, no SVD).
    """
    XtX = X.T @ X
    d = np.sqrt(np.diag(XtX))
    bad = [names[j] for j in range(len(d)) if d[j] == 0]
    keep: list[int] = []
    for j in range(len(d)):
        if d[j] == 0:
            continue
        if keep:
            S = XtX[np.ix_(keep, keep)] / np.outer(d[keep], d[keep])
            b = XtX[keep, j] / (d[keep] * d[j])
            resid = 1.0 - float(b @ np.linalg.solve(S, b))
        else:
            resid = 1.0
        if resid < 1e-10:
            bad.append(names[j])
        else:
            keep.append(j)
    return [n for n in names if n in bad]


# --------------------------------------------------------------------------- Satterthwaite
def _satt_df(ell, var, pieces):
    g = np.array([ell @ Jj @ ell for Jj in pieces["jac"]])
    den = float(g @ pieces["A"] @ g)
    return 2.0 * var ** 2 / den if den > 0 else float("inf")


def _satt_F(L, beta, V, pieces, tol=1e-8):
    """lmerTest ``contestMD``: F statistic and Satterthwaite df for a q-row contrast."""
    VL = L @ V @ L.T
    d, P = np.linalg.eigh(VL)
    order = np.argsort(d)[::-1]
    d, P = d[order], P[:, order]
    keep = d > tol * max(d[0], 1e-300)
    d, P = d[keep], P[:, keep]
    PtL = P.T @ L
    t2 = (PtL @ beta) ** 2 / d
    qq = len(d)
    F = float(t2.sum() / qq)
    nu = np.array([_satt_df(PtL[i], d[i], pieces) for i in range(qq)])
    if qq == 1:
        ddf = float(nu[0])
    elif np.all(np.abs(np.diff(nu)) < 1e-8):
        ddf = float(nu.mean())
    elif np.any(nu <= 2):
        ddf = 2.0
    else:
        E = float(np.sum(nu / (nu - 2)))
        ddf = 2 * E / (E - qq)
    return F, qq, ddf


# --------------------------------------------------------------------------- formula
def is_multi_formula(formula: str) -> bool:
    """True when ``formula`` has random terms for more than one grouping factor, or a nested
    (``a/b``) or interaction (``a:b``) grouping factor."""
    parsed = parse_formula(formula)
    groups = {rt.group for rt in parsed.random}
    return len(groups) > 1 or any(("/" in g or ":" in g) for g in groups)


def expand_random_terms(random_terms):
    """Expand random terms to lme4's list of (terms, intercept, factors, name) blocks.

    ``(e | a/b)`` becomes ``(e | a) + (e | b:a)`` (lme4 names the interaction ``b:a``);
    ``(e | a:b)`` keeps the name ``a:b``; ``(1 + x || g)`` becomes ``(1 | g) + (0 + x | g)``.
    """
    out = []
    for rt in random_terms:
        groups = []
        if "/" in rt.group:
            parts = rt.group.split("/")
            for k in range(1, len(parts) + 1):
                facs = []
                for p_ in parts[:k]:
                    facs.extend(p_.split(":"))
                groups.append((tuple(facs), ":".join(reversed(parts[:k]))))
        else:
            groups.append((tuple(rt.group.split(":")), rt.group))
        for facs, name in groups:
            if rt.uncorrelated:
                if rt.intercept:
                    out.append(((), True, facs, name))
                for t in rt.terms:
                    out.append(((t,), False, facs, name))
            else:
                out.append((rt.terms, rt.intercept, facs, name))
    return out


def _label(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _level_codes(d: pd.DataFrame, cols):
    """Codes 0..G-1 and sorted level labels of the interaction of ``cols`` (labels joined by
    ':' in the order of ``cols``, as lme4 labels the levels of ``b:a``)."""
    parts = [pd.factorize(d[c], sort=False) for c in cols]
    if len(cols) == 1:
        labels = np.array([_label(v) for v in parts[0][1]], dtype=object)
        inv = parts[0][0]
    else:
        # one mixed-radix integer key per row (lexicographic in the columns' codes, as
        # np.unique(axis=0), but a 1-d sort: several times faster on 50,000 rows)
        sizes = [max(len(p_[1]), 1) for p_ in parts]
        if float(np.prod(sizes, dtype=float)) < 2.0 ** 62:
            key = np.zeros(len(d), dtype=np.int64)
            for (codes, _), size in zip(parts, sizes):
                key = key * size + codes
            ukey, inv = np.unique(key, return_inverse=True)
            uniq = np.empty((len(ukey), len(parts)), dtype=np.int64)
            for j in range(len(parts) - 1, -1, -1):
                ukey, uniq[:, j] = np.divmod(ukey, sizes[j])
        else:
            uniq, inv = np.unique(np.column_stack([p_[0] for p_ in parts]), axis=0,
                                  return_inverse=True)
        inv = inv.ravel()
        vals = [np.asarray(p_[1], dtype=object) for p_ in parts]
        labels = np.array([":".join(_label(vals[j][u[j]]) for j in range(len(cols)))
                           for u in uniq.tolist()], dtype=object)
    if len(cols) == 1 and pd.api.types.is_numeric_dtype(d[cols[0]]):
        # R's factor() of a numeric column orders its levels numerically (2 before 10)
        order = np.argsort(np.asarray(parts[0][1], dtype=float), kind="stable")
    else:
        order = np.argsort(labels, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inv].astype(np.int64), pd.Index(labels[order])



def richardson_hessian(f, x, rel_step: float = 1e-2, min_step: float = 1e-3, levels: int = 4):
    """Hessian of a scalar function by central second differences with steps h, h/2, ...
    combined by Richardson extrapolation (the scheme of ``numDeriv::hessian``)."""
    x = np.asarray(x, dtype=float)
    k = x.size
    f0 = f(x)
    hs = np.maximum(rel_step * np.abs(x), min_step)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i + 1):
            ests = []
            for lev in range(levels):
                hi, hj = hs[i] / 2 ** lev, hs[j] / 2 ** lev
                ei = np.zeros(k)
                ei[i] = hi
                if i == j:
                    ests.append((f(x + ei) - 2 * f0 + f(x - ei)) / hi ** 2)
                else:
                    ej = np.zeros(k)
                    ej[j] = hj
                    ests.append((f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * hi * hj))
            for r in range(1, levels):
                fac = 4.0 ** r
                ests = [(fac * ests[a + 1] - ests[a]) / (fac - 1) for a in range(len(ests) - 1)]
            H[i, j] = H[j, i] = ests[0]
    return H


