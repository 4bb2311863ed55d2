"""Normal-ogive graded model: approximate cross-check against lavaan's ordinal CFA
(tests/data/r_scripts/irt/lavaan_ogive_bfi.R; WLSMV estimates converted with
a = lambda / sqrt(1 - lambda^2), c = -tau / sqrt(1 - lambda^2)).  DWLS (limited
information) and ML (full information) differ in a sample; the tolerance is chosen from
that: thresholds within 0.05 absolute, slopes within 10%."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose

from psychometrics.irt import _engine, fit_irt
from psychometrics.irt.model import _problem
from refdata import dataset

R = Path(__file__).resolve().parents[1] / "data" / "r_results" / "irt" / "lavaan_ogive_bfi.json"
ITEMS = ["N1", "N2", "N3", "N4", "N5"]


def test_normal_ogive_matches_ordinal_cfa_approximately():
    ref = json.loads(R.read_text())
    res = fit_irt(dataset("bfi")[ITEMS].dropna(), model="graded_probit")
    assert res.converged
    co = res.coef()
    for j, it in enumerate(ref["items"]):
        # lambda / sqrt(1 - lambda^2) from parameterEstimates(fit)
        assert_allclose(co.loc[it, "a"], ref["a"][j], rtol=0.10)
        for k, c in enumerate(ref["c"][j]):
            # -tau_k / sqrt(1 - lambda^2)
            assert_allclose(co.loc[it, f"c{k + 1}"], c, rtol=0.10, atol=0.05)


def test_normal_ogive_exact_hessian():
    """The analytic observed information of the probit model equals finite differences of
    the analytic gradient (the logistic one is checked against OpenMx's Oakes SEs)."""
    res = fit_irt(dataset("bfi")[ITEMS].dropna(), model="graded_probit")
    prob, _ = _problem(res.responses, "graded_probit", 49, 6.0)
    H = _engine.hessian(prob, res.params)
    Hfd = _engine.hessian_fd(prob, res.params)
    assert_allclose(H, Hfd, rtol=1e-5, atol=1e-6 * np.abs(Hfd).max())
