"""estimator="MLR": lavaan 0.6-14 estimator = "MLR" for two-level models
(tests/data/r_scripts/twolevel/twolevel_mlr.R): robust.huber.white SEs and the scaled test
yuan.bentler.mplus with every scaled / robust fit measure.

SE tolerance rtol 1e-4 (therapy) / 5e-4 (Demo.twolevel, whose regressions on the fixed.x
covariates differ by up to 2.2e-4: sandwich at lavaan's early-stopped estimates). Scaled
statistics rtol 1e-3 (therapy agrees to 3e-8; Demo to 1.6e-4, lavaan's early stop again),
with atol 1e-6 for p values and probabilities that are ~1e-25.
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
            out[key] = fit_twolevel(CASE8[mk]["model"], dataset(ds), cl, estimator="MLR")
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


@pytest.mark.parametrize("key", list(CASES))
def test_scaled_test_and_robust_fit_measures(fits, key):
    # fitMeasures(sem(model, data, cluster =, estimator = "MLR")): every *.scaled, *.robust
    # and scaling-factor entry
    res, fm = fits[key], REF[key]["fm"]
    keys = [k for k in fm if ".scaled" in k or ".robust" in k or "scaling" in k]
    assert len(keys) >= 30
    for k in keys:
        ours = res.fit_measures[k.replace(".", "_")]
        if fm[k] is None:
            assert np.isnan(ours), k
            continue
        assert_allclose(ours, fm[k], rtol=1e-3, atol=1e-6, err_msg=k)
    assert res.options["estimator"] == "MLR"


def test_ml_has_no_scaled_test():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_twolevel(CASE8["demo_twolevel"]["model"], dataset("Demo.twolevel"), "cluster",
                           se="robust")
    assert "chisq_scaled" not in res.fit_measures


def test_bad_estimator():
    with pytest.raises(ModelSpecificationError, match="'estimator'"):
        fit_twolevel(CASE8["demo_twolevel"]["model"], dataset("Demo.twolevel"), "cluster",
                     estimator="WLSMV")
