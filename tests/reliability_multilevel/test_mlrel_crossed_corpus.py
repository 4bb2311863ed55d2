"""The crossed REML of multilevel reliability against lme4 on 16 random designs (issue 19).

Data: ``tests/lmer_corpus.py`` ``crossed_data(seed)`` (6-30 persons x 2-5 times x 3-6 items, the
six variance components from 0 to 1, up to 20% missing cells). lme4's fits:
tests/data/r_scripts/mlrel/crossed_corpus.R -> tests/data/r_results/mlrel/crossed_corpus.json.

Every fit: our REML criterion is never above lme4's ``REMLcrit`` beyond 1e-10 relative
(rounding) and the optimality check of the shared REML core passed (``converged``: boundary
components probed at small positive variances, lme4's relative gradient and a positive definite
Hessian on the interior components). Where lme4's
fit is interior and clean, the variance components agree within ``rtol=1e-3`` plus
``atol = 1e-4 sigma^2`` (lme4's BOBYQA stops earlier on this flat criterion; ours is lower or
equal).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

import lmer_corpus as lc
from psychometrics.numerics.reml import ProfiledDeviance
from psychometrics.reliability._crossed import _Long, fit_crossed

REF = json.loads((lc.HERE / "data" / "r_results" / "mlrel" / "crossed_corpus.json").read_text())[
    "designs"]
NAMES = {"id": "id", "time": "time", "items": "items", "id:time": "id:time",
         "id:items": "id:items", "items:time": "time:items", "Residual": "residual"}


def test_every_design_has_a_reference():
    assert sorted(REF) == sorted(f"crossed_{s:03d}" for s in lc.CROSSED_SEEDS)


@pytest.mark.parametrize("seed", lc.CROSSED_SEEDS)
def test_crossed_reml_not_worse_than_lme4(seed):
    # lmer(values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time) + (1|id:items)
    #      + (1|items:time), d)   # REML
    R = REF[f"crossed_{seed:03d}"]
    d = lc.crossed_data(seed)
    P, T, J = d["id"].max(), d["time"].max(), d["items"].max()
    fit = fit_crossed(_Long(d["id"] - 1, d["time"] - 1, d["items"] - 1, d["values"], P, T, J))
    # REMLcrit(fit)
    assert fit.reml_criterion <= R["REMLcrit"] + 1e-10 * abs(R["REMLcrit"])
    assert fit.converged, fit.message
    if R["isSingular"] or R["conv_messages"] or fit.singular:
        return
    for grp, value in R["vcov"].items():
        # as.data.frame(VarCorr(fit))$vcov
        assert_allclose(fit.variances[NAMES[grp]], value, rtol=1e-3,
                        atol=1e-4 * R["vcov"]["Residual"])


class _Toy(ProfiledDeviance):
    """A criterion of one variance ratio rho = theta^2 with a first-order boundary optimum."""

    n, tpos, ntheta = 10, [(0, 0)], 1

    def evaluate(self, theta, reml=True, grad=False, **kw):
        t = float(theta[0])
        r = t * t
        out = {"dev": 0.01 * r - 0.5 * r ** 2 + 0.5 * r ** 3, "ok": True}
        if grad:
            out["grad"] = np.array([2 * t * (0.01 - r + 1.5 * r ** 2)])
        return out


def test_boundary_is_probed_and_left_for_a_better_interior_point():
    # f'(0) > 0 in rho (a first-order boundary optimum at rho = 0), but f is lower near
    # rho = 0.66: the shared core (the optimiser of fit_crossed) must not stop at 0, whether
    # it starts there or inside
    for start in (np.zeros(1), None):
        theta, info = _Toy().optimize(reml=True, start=start)
        assert info["converged"], info["message"]
        assert_allclose(theta[0] ** 2, (1 + np.sqrt(1 - 0.06)) / 3, rtol=1e-6)
        assert info["deviance"] < 0.0
