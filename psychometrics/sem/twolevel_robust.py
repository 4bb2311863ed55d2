"""MLR for two-level models: lavaan's scaled test ``yuan.bentler.mplus`` and its fit measures.

Mplus/lavaan approximation (lavaan ``lav_test_yuan_bentler_mplus_trace``)::

    tr(U Gamma) = tr(A1^-1 B1) - tr(A0^-1 B0),   c = tr(U Gamma) / df,   T_scaled = T / c

``A1``/``B1``: observed information and cluster-wise first-order information of the
saturated model at its estimates (the h1 moments; rows and columns of the fixed.x
covariates' own moments removed, as lavaan's ``x.idx`` masking); ``A0``/``B0``: the same for
the fitted model. The traces do not depend on how the saturated model is parametrised,
so it is the covariance parametrisation of :func:`saturated_model`. The baseline
(independence) model gets its own factor the same way (robust CFI/TLI use both).
Scores and information come from the complete-data likelihood or, with missing values,
from :mod:`.twolevel_missing`.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .partable import build_partable
from .syntax import parse_model
from .twolevel_model import _cluster_scores, _fix_rows, _hessian, _Model
from .twolevel_stats import H1

__all__ = ["saturated_model", "trace_parts"]


def saturated_model(cs, ov1, ov2, set2, h1: H1):
    """The saturated two-level model as a :class:`_Model` (all level-1 and level-2
    (co)variances free, level-1 means of within-only variables, level-2 means) and its
    parameter vector at the moments of ``h1``."""
    def block(ov, means):
        lines = [f"{a} ~~ {b}" for i, a in enumerate(ov) for b in ov[i:]]
        lines += [f"{a} ~ 1" for a in means]
        return parse_model("\n".join(lines))
    within_means = [v for v in ov1 if v not in set2]
    pt1 = build_partable(block(list(ov1), within_means), meanstructure=True, fixed_x=False)
    fix = [r for r, (l, o) in enumerate(zip(pt1.c("lhs"), pt1.c("op"))) if o == "~1" and l in set2]
    pt1 = _fix_rows(pt1, fix, 0.0)
    pt2 = build_partable(block(list(ov2), list(ov2)), meanstructure=True, fixed_x=False)
    mdl = _Model(pt1, pt2, cs, h1)
    theta = np.zeros(mdl.npar)
    zy = list(cs.z) + list(cs.y)
    for lev, L in enumerate(mdl.levels):
        c = L.pt.cols
        for r in range(len(c["op"])):
            k = L.gpar[r]
            if k < 0:
                continue
            a, o, b = c["lhs"][r], c["op"][r], c["rhs"][r]
            if lev == 0:
                ia = cs.y.index(a)
                theta[k] = h1.mu_w[ia] if o == "~1" else h1.sigma_w[ia, cs.y.index(b)]
            else:
                ia = zy.index(a)
                if o == "~1":
                    # total mean of a split variable: within + between part (lavaan 22l)
                    theta[k] = h1.mu_b[ia] + (h1.mu_w[cs.y.index(a)] if a in cs.y else 0.0)
                else:
                    theta[k] = h1.sigma_b[ia, zy.index(b)]
    return mdl, theta


def _x_mask(mdl: _Model, xset: set) -> np.ndarray:
    """True for parameters that are moments of fixed.x covariates only (x ~~ x, x ~1)."""
    mask = np.zeros(mdl.npar, dtype=bool)
    for L in mdl.levels:
        c = L.pt.cols
        for r in range(len(c["op"])):
            k = L.gpar[r]
            if k < 0:
                continue
            a, o, b = c["lhs"][r], c["op"][r], c["rhs"][r]
            if (o == "~1" and a in xset) or (o == "~~" and a in xset and b in xset):
                mask[k] = True
    return mask


def h1_trace(cs, ov1, ov2, set2, h1: H1, xset: set, Y, codes):
    """``tr(A1^-1 B1)`` and the number of saturated parameters it runs over."""
    sat, th = saturated_model(cs, ov1, ov2, set2, h1)
    A1 = 0.5 * _hessian(sat, th)
    S1 = _cluster_scores(sat, th, Y, codes)
    B1 = S1.T @ S1
    keep = ~_x_mask(sat, xset)
    A = A1[np.ix_(keep, keep)]
    B = B1[np.ix_(keep, keep)]
    return float(np.sum(np.linalg.solve(A, B).diagonal())), int(keep.sum())


def h0_trace(info: np.ndarray, B0: np.ndarray) -> float:
    """``tr(A0^-1 B0)`` of a fitted model (``info`` its observed information)."""
    return float(np.trace(np.linalg.solve(info, B0)))


def trace_parts(trace_h1: float, ndat_h1: int, trace_h0: float) -> SimpleNamespace:
    """The object :func:`.fit_measures.robust_fit_measures` reads."""
    return SimpleNamespace(trace_ugamma=trace_h1 - trace_h0, trace_h1=np.array([trace_h1]),
                           trace_h0=np.array([trace_h0]), h1_ndat=np.array([ndat_h1]))


def model_trace(mdl: _Model, theta: np.ndarray, Y, codes) -> float:
    """``tr(A0^-1 B0)`` for a fitted model at ``theta`` (observed information)."""
    A0 = 0.5 * _hessian(mdl, theta)
    S = _cluster_scores(mdl, theta, Y, codes)
    return h0_trace(A0, S.T @ S)
