"""psychometrics.sem.fit_twolevel against lavaan 0.6-14 (tests/data/reference/case8_twolevel_sem.json).

Tolerances and why: see twolevel_helpers.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning
from psychometrics.sem.twolevel import fit_twolevel
from twolevel_helpers import (FIT_TOL, check_estimates, check_fit_measures, check_std_all,
                              dataset, reference)

REF = reference("case8_twolevel_sem")
CASES = {"demo_twolevel": ("Demo.twolevel", "cluster"),
         "therapy_wai_1within_1between": ("therapy_sim", "patient_id"),
         "therapy_wai_3within_1between": ("therapy_sim", "patient_id")}


@pytest.fixture(scope="module")
def fits():
    out = {}
    for key, (ds, cl) in CASES.items():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out[key] = (fit_twolevel(REF[key]["model"], dataset(ds), cl), w)
    return out


@pytest.mark.parametrize("key", list(CASES))
def test_fit_measures(fits, key):
    # fitMeasures(fit)
    check_fit_measures(fits[key][0], REF[key]["fitMeasures"])


@pytest.mark.parametrize("key", list(CASES))
def test_key_fit_measures_present(fits, key):
    # fitMeasures(fit, keyfm): every key measure of the case must exist
    fm = fits[key][0].fit_measures
    for name in REF[key]["fitMeasures_key"]:
        assert name.replace(".", "_") in fm, name


@pytest.mark.parametrize("key", list(CASES))
def test_parameter_estimates(fits, key):
    # parameterEstimates(fit)
    check_estimates(fits[key][0], REF[key]["parameterEstimates"])


@pytest.mark.parametrize("key", list(CASES))
def test_standardized_solution(fits, key):
    # standardizedSolution(fit)$est.std
    check_std_all(fits[key][0], REF[key]["standardizedSolution_std_all"])


@pytest.mark.parametrize("key", list(CASES))
def test_counts(fits, key):
    res = fits[key][0]
    R = REF[key]
    assert res.converged is R["converged"] is True       # lavInspect(fit, "converged")
    assert res.n_obs == R["nobs"]                          # lavInspect(fit, "nobs")
    assert res.n_clusters == R["nclusters"]                # lavInspect(fit, "nclusters")
    assert res.fit_measures["npar"] == R["npar"]          # lavInspect(fit, "npar")
    # lavInspect(fit, "average.cluster.size")
    assert_allclose(res.average_cluster_size, R["average_cluster_size"], rtol=1e-12)


@pytest.mark.parametrize("key", list(CASES))
def test_icc(fits, key):
    # lavInspect(fit, "icc"): from the EM (h1) level matrices
    icc = fits[key][0].icc
    ref_icc = REF[key]["icc"]
    assert set(icc.index) == set(ref_icc)
    for v, val in ref_icc.items():
        assert_allclose(icc[v], val, rtol=1e-6, atol=1e-12, err_msg=v)


def test_demo_key_values():
    # the README's headline values of case 8 (a): chisq, logL, loading of y2 and its SE
    # (full-precision values from the reference; tolerance: the tighter of twolevel_helpers.py's
    # and this test's earlier one)
    R = REF["demo_twolevel"]
    res = fit_twolevel(R["model"], dataset("Demo.twolevel"), "cluster")
    # fitMeasures(fit)[c("chisq", "logl")]
    assert_allclose(res.fit_measures["chisq"], R["fitMeasures"]["chisq"], rtol=1e-6)
    assert_allclose(res.fit_measures["logl"], R["fitMeasures"]["logl"], rtol=FIT_TOL["logl"][1])
    # parameterEstimates(fit): fw =~ y2 (level 1)
    ref = [r for r in R["parameterEstimates"]
           if (r["lhs"], r["op"], r["rhs"], r["level"]) == ("fw", "=~", "y2", 1)]
    assert len(ref) == 1
    ref = ref[0]
    row = res.estimates.query("lhs == 'fw' and op == '=~' and rhs == 'y2'")
    assert len(row) == 1
    row = row.iloc[0]
    assert_allclose(row.est, ref["est"], rtol=1e-5)
    assert_allclose(row.se, ref["se"], rtol=1e-4)


def test_lrt_1_vs_3(fits):
    # lavTestLRT(fitT1, fitT3)
    from psychometrics.sem.twolevel import lrt_twolevel
    ref = {r["row"]: r for r in REF["lavTestLRT_therapy_1_vs_3"]}
    t = lrt_twolevel(fits["therapy_wai_1within_1between"][0], fits["therapy_wai_3within_1between"][0],
                     names=["fitT1", "fitT3"])
    assert list(t.index) == ["fitT3", "fitT1"]
    for name, r in ref.items():
        assert_allclose(t.loc[name, "df"], r["Df"], rtol=1e-12)
        assert_allclose(t.loc[name, "aic"], r["AIC"], rtol=1e-8)
        assert_allclose(t.loc[name, "bic"], r["BIC"], rtol=1e-8)
        assert_allclose(t.loc[name, "chisq"], r["Chisq"], rtol=1e-5)
        for col, rcol, tol in (("chisq_diff", "Chisq diff", 1e-5), ("df_diff", "Df diff", 1e-12),
                               ("rmsea_diff", "RMSEA", 1e-5), ("p_value_diff", "Pr(>Chisq)", 1e-4)):
            if r[rcol] is None:
                assert np.isnan(t.loc[name, col]), (name, col)
            else:
                assert_allclose(t.loc[name, col], r[rcol], rtol=tol, err_msg=(name, col))


def test_zero_within_variance_warnings(fits):
    # lavaan warns once per item about short patients with zero within variance
    # (case8 JSON: therapy_lavaan_warnings); ours names the same items and cluster ids
    res, w = fits["therapy_wai_1within_1between"]
    ours = [str(x.message) for x in w if issubclass(x.category, DataQualityWarning)]
    ref = REF["therapy_lavaan_warnings"]
    assert len(ours) == len(ref)
    for r, o in zip(ref, ours, strict=True):
        item = r.split("“")[1].split("”")[0]
        ids = r.split("are:")[1].split()
        assert f"'{item}'" in o
        assert o.split("are:")[1].split() == ids
    assert len(res.warnings) == len(ref)
