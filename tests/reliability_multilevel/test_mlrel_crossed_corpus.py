"""The crossed REML of multilevel reliability against lme4 on 16 random designs (issue 19).

Data: ``tests/lmer_corpus.py`` ``crossed_data(seed)`` (6-30 persons x 2-5 times x 3-6 items, the
six variance components from 0 to 1, up to 20% missing cells). lme4's fits:
tests/data/r_scripts/mlrel/crossed_corpus.R -> tests/data/r_results/mlrel/crossed_corpus.json.

Every fit: our REML criterion is never above lme4's ``REMLcrit`` beyond 1e-10 relative
(rounding) and the optimality check passed (``converged``: projected gradient, boundary
components probed at small positive variances, positive definite free Hessian). Where lme4's
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
from psychometrics.reliability._crossed import _Long, _optimise_checked, fit_crossed

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


def test_boundary_is_probed_and_left_for_a_better_interior_point():
    # f'(0) > 0 (a first-order boundary optimum at rho = 0), but f is lower near rho = 0.66:
    # the probe at small positive rho finds it and the optimiser restarts from there
    def fg(r):
        r = float(r[0])
        return 0.01 * r - 0.5 * r ** 2 + 0.5 * r ** 3, np.array([0.01 - r + 1.5 * r ** 2])

    x, f, _, message, converged = _optimise_checked(fg, np.zeros(1))
    assert converged, message
    assert_allclose(x[0], (1 + np.sqrt(1 - 0.06)) / 3, rtol=1e-6)
    assert f < 0.0
