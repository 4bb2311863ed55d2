"""se="robust": lavaan 0.6-14 estimator = "MLR" standard errors (robust.huber.white) for
two-level models (tests/data/r_scripts/twolevel/twolevel_mlr.R).

Only the SEs (and z, CI) are compared: the MLR scaled test statistic is not implemented.
Tolerance rtol 1e-4 (therapy) / 5e-4 (Demo.twolevel, whose regressions on the fixed.x
covariates differ by up to 2.2e-4: sandwich at lavaan's early-stopped estimates).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.sem.twolevel import fit_twolevel
from twolevel_helpers import dataset, reference

REF = reference("twolevel_mlr", "r_results/twolevel")
CASE8 = reference("case8_twolevel_sem")
CASES = {"therapy": ("therapy_sim", "patient_id", "therapy_wai_1within_1between", 1e-4),
         "demo": ("Demo.twolevel", "cluster", "demo_twolevel", 5e-4)}


@pytest.fixture(scope="module")
def fits():
    out = {}
    for key, (ds, cl, mk, _) in CASES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[key] = fit_twolevel(CASE8[mk]["model"], dataset(ds), cl, se="robust")
    return out


@pytest.mark.parametrize("key", list(CASES))
def test_robust_standard_errors(fits, key):
    # parameterEstimates(sem(model, data, cluster =, estimator = "MLR"))
    res = fits[key]
    rtol = CASES[key][3]
    est = res.estimates
    rows = REF[key]["pe"]
    assert len(rows) == len(est)
    for r in rows:
        lev = int(r["level"])
        ours = est[(est.lhs == r["lhs"]) & (est.op == r["op"]) & (est.rhs == r["rhs"])
                   & (est.level == lev)]
        assert len(ours) == 1, (r["lhs"], r["op"], r["rhs"], lev)
        o = ours.iloc[0]
        if r["se"] == 0:
            assert np.isnan(o.se)
            continue
        assert_allclose(o.se, r["se"], rtol=rtol, err_msg=str((r["lhs"], r["op"], r["rhs"], lev)))
        assert_allclose(o.est, r["est"], rtol=1e-5, atol=2e-3 * r["se"])
    assert res.options["se"] == "robust.huber.white"


@pytest.mark.parametrize("key", list(CASES))
def test_mlr_loglik_unchanged(fits, key):
    # the MLR point estimates and logL are the ML ones: fitMeasures(fit)["logl"]
    assert_allclose(fits[key].fit_measures["logl"], REF[key]["fm"]["logl"], rtol=1e-8)


def test_bad_se_option():
    with pytest.raises(ModelSpecificationError, match="'se'"):
        fit_twolevel(CASE8["demo_twolevel"]["model"], dataset("Demo.twolevel"), "cluster",
                     se="sandwich")
