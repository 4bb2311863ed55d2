"""Predictions for new data (lme4 ``predict(fit, newdata, re.form, allow.new.levels)``).

The fixed design of new data is rebuilt with the fitted model's factor levels and
poly()/scale() coefficients (R's ``makepredictcall``); random-effects designs likewise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ._formula import build_design, evaluate_expression, parse_formula

__all__ = ["predict_eta"]


def _re_form_terms(re_form):
    """None (all random terms), () (none: '~0', 'NA', NA) or the expanded random terms of a
    formula such as '~ (1 | therapist)' (lme4 ``re.form``)."""
    from ._design import expand_random_terms
    if re_form is None:
        return None
    if isinstance(re_form, float) and re_form != re_form:
        return ()
    if not isinstance(re_form, str):
        raise ModelSpecificationError(
            f"re_form={re_form!r}: use None (all random effects), '~0' (none) or a formula of "
            "random terms of the model, e.g. '~(1 | therapist)'.")
    t = re_form.replace(" ", "")
    if t in ("~0", "NA", "0", "~-1"):
        return ()
    rhs = t[1:] if t.startswith("~") else t
    parsed = parse_formula(f"__y__ ~ 0 + {rhs}")
    if parsed.terms or not parsed.random:
        raise ModelSpecificationError(
            f"re_form={re_form!r} must consist of random terms of the model only, e.g. "
            "'~(1 | therapist)' (or None for all, '~0' for none).")
    return expand_random_terms(parsed.random)


def _term_text(name, re_names):
    inner = " + ".join("1" if r == "(Intercept)" else r for r in re_names)
    if "(Intercept)" not in re_names:
        inner = "0 + " + inner
    return f"({inner} | {name})"


def select_terms(fit_terms, re_form, state, frame):
    """Indices of the fitted random terms (``fit_terms``: list of (name, re_names)) that
    ``re_form`` keeps; an error naming the model's terms for a term it does not have."""
    req = _re_form_terms(re_form)
    if req is None:
        return list(range(len(fit_terms)))
    keep = []
    for terms, intercept, facs, name in req:
        _, zn, _ = build_design(frame, terms, intercept, state)
        # a:b and b:a name the same grouping factor
        hit = [i for i, (nm, rn) in enumerate(fit_terms)
               if set(nm.split(":")) == set(name.split(":")) and tuple(rn) == tuple(zn)]
        if not hit:
            raise ModelSpecificationError(
                f"re_form={re_form!r}: the random term {_term_text(name, zn)} is not a term of "
                f"the model; its random terms are "
                f"{', '.join(_term_text(nm, rn) for nm, rn in fit_terms)}.")
        keep.extend(i for i in hit if i not in keep)
    return keep


def _no_re(re_form, fit=None) -> bool:
    """One grouping factor: True for re_form '~0', False for None or the model's own random
    terms (all of them)."""
    req = _re_form_terms(re_form)
    if req is None:
        return False
    if req == ():
        return True
    spec = fit._spec
    terms = [(spec.group, tuple(spec.re_names[c] for c in blk)) for blk in spec.blocks]
    keep = select_terms(terms, re_form, spec.design.state, spec.design.frame)
    if len(keep) != len(terms):
        raise ModelSpecificationError(
            f"re_form={re_form!r} keeps only some of the random terms of {spec.group!r}; with one "
            "grouping factor use None (all) or '~0' (none).")
    return False


def predict_eta(fit, newdata, re_form, allow_new_levels):
    """Linear predictor (link scale) for ``newdata`` (or the model rows) and its index."""
    spec = fit._spec
    beta = fit.fixef.to_numpy()
    no_re = _no_re(re_form, fit)
    d = spec.design
    if newdata is None:
        core = fit._core
        if hasattr(core, "order"):           # GLMM core: rows sorted by patient
            inv = np.empty_like(core.order)
            inv[core.order] = np.arange(core.n)
            X, Z, codes, off = core.X[inv], core.Z[inv], core.codes[inv], core.off[inv]
        else:
            _, X, Z, codes = core.data
            off = np.zeros(len(codes)) if spec.offset is None else spec.offset
        eta = X @ beta + off
        if not no_re:
            eta = eta + np.einsum("nq,nq->n", Z, fit.ranef.to_numpy()[codes])
        return eta, spec.row_index
    if not isinstance(newdata, pd.DataFrame):
        raise ModelSpecificationError(
            f"The 'newdata' argument must be a pandas DataFrame, got {type(newdata).__name__}.")
    parsed = parse_formula(spec.formula)
    X, names, _ = build_design(newdata, d.terms, d.intercept, d.state)
    if list(names) != list(spec.fixed_names):      # pragma: no cover - same formula state
        raise ModelSpecificationError("newdata does not give the fitted model's fixed columns.")
    eta = X @ beta
    for text in parsed.offsets:
        eta = eta + evaluate_expression(newdata, text)
    if not no_re:
        from ._design import _random_structure
        call = getattr(fit, "_call", None) or {}
        rterms, gname = _random_structure(parsed, call.get("groups"), call.get("re_formula"),
                                          call.get("re_cov", "unstructured"))
        Zs = [build_design(newdata, terms, intercept, d.state)[0] for terms, intercept, _ in rterms]
        Z = np.column_stack(Zs)
        if gname not in newdata.columns:
            raise ModelSpecificationError(
                f"newdata has no column {gname!r} (the grouping factor); pass re_form='~0' for "
                "population-level predictions.")
        pos = {v: i for i, v in enumerate(spec.levels)}
        g = newdata[gname].to_numpy()
        idx = np.array([pos.get(v, -1) for v in g])
        new = idx < 0
        if new.any() and not allow_new_levels:
            raise ModelSpecificationError(
                f"newdata has levels of {gname!r} not in the fit: "
                f"{list(pd.unique(g[new]))[:10]}; pass allow_new_levels=True to predict them "
                "with random effects 0 (lme4 allow.new.levels = TRUE).")
        B = np.vstack([fit.ranef.to_numpy(), np.zeros((1, Z.shape[1]))])
        eta = eta + np.einsum("nq,nq->n", Z, B[idx])
    return eta, newdata.index


def _labels(frame: pd.DataFrame, cols) -> np.ndarray:
    from ._design import _label
    vals = [frame[c].to_numpy() for c in cols]
    return np.array([":".join(_label(v[i]) for v in vals) for i in range(len(frame))],
                    dtype=object)


def predict_multi(fit, newdata, re_form, allow_new_levels):
    """Linear predictor of a multi-factor LMM (lme4 ``predict(fit, newdata, re.form,
    allow.new.levels)``): ``re_form`` None (all random terms), '~0' (none) or a subset such
    as '~(1 | therapist)'."""
    spec = fit._spec
    d = spec.design
    beta = fit.fixef.to_numpy()
    fit_terms = [(t["name"], t["re_names"]) for t in spec.terms]
    keep = select_terms(fit_terms, re_form, d.state, d.frame)
    if newdata is None:
        y, X = fit._core.data
        eta = X @ beta
        Z = getattr(fit._core, "Z_plain", fit._core.Z).tocsc()
        b = fit._b
        for i in keep:
            t = spec.terms[i]
            sl = slice(t["col0"], t["col0"] + t["G"] * t["q"])
            eta = eta + Z[:, sl] @ b[sl]
        return eta, spec.row_index
    if not isinstance(newdata, pd.DataFrame):
        raise ModelSpecificationError(
            f"The 'newdata' argument must be a pandas DataFrame, got {type(newdata).__name__}.")
    X, names, _ = build_design(newdata, d.terms, d.intercept, d.state)
    eta = X @ beta
    for i in keep:
        t = spec.terms[i]
        cols = t["name"].split(":")
        miss = [c for c in cols if c not in newdata.columns]
        if miss:
            raise ModelSpecificationError(
                f"newdata has no column {miss[0]!r} (grouping factor of the random term "
                f"{_term_text(t['name'], t['re_names'])}); pass re_form='~0' (or a re_form without "
                "that term) for predictions without it.")
        Zt = build_design(newdata, t["re_terms"], t["re_intercept"], d.state)[0]
        lab = _labels(newdata, cols)
        pos = {v: j for j, v in enumerate(t["levels"])}
        idx = np.array([pos.get(v, -1) for v in lab], dtype=np.int64)
        new = idx < 0
        if new.any() and not allow_new_levels:
            raise ModelSpecificationError(
                f"newdata has levels of {t['name']!r} not in the fit: "
                f"{list(pd.unique(lab[new]))[:10]}; pass allow_new_levels=True to predict them "
                "with random effects 0 (lme4 allow.new.levels = TRUE).")
        B = np.vstack([fit.ranef[t["name"]].to_numpy(), np.zeros((1, t["q"]))])
        eta = eta + np.einsum("nq,nq->n", Zt, B[idx])
    return eta, newdata.index
