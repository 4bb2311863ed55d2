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


def _no_re(re_form) -> bool:
    if re_form is None:
        return False
    t = str(re_form).replace(" ", "")
    if t in ("~0", "NA", "0"):
        return True
    raise ModelSpecificationError(
        f"re_form={re_form!r}: use None (with the random effects) or '~0' (without).")


def predict_eta(fit, newdata, re_form, allow_new_levels):
    """Linear predictor (link scale) for ``newdata`` (or the model rows) and its index."""
    spec = fit._spec
    beta = fit.fixef.to_numpy()
    no_re = _no_re(re_form)
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
        from .mixed import _random_structure
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
