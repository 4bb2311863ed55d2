"""semTools reliability on a one-factor CFA of bfi Agreeableness
(tests/data/reference/case4_reliability.json, block semTools_A; script case4_reliability.R).

R:  Ar <- bfi[, A1:A5]; Ar$A1 <- 7 - Ar$A1; fitA <- cfa("agree =~ A1 + A2 + A3 + A4 + A5", Ar)
"""
from __future__ import annotations

import warnings

import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem
from psychometrics.sem.reliability import ave, comp_rel_sem, reliability

from sem_helpers import check_parameter_estimates, load_csv, load_json

# lavaan's estimates of this fit are accurate to ~1e-7; reliability inherits that
RTOL = 1e-6


@pytest.fixture(scope="module")
def ref():
    return load_json("reference/case4_reliability.json")["semTools_A"]


@pytest.fixture(scope="module")
def fit_a():
    bfi = load_csv("bfi")
    a = bfi[["A1", "A2", "A3", "A4", "A5"]].copy()
    a["A1"] = 7 - a["A1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # listwise deletion is reported; expected here
        return sem.fit("agree =~ A1 + A2 + A3 + A4 + A5", a)


def test_cfa_matches(fit_a, ref):
    # lavInspect(fitA, "nobs"); parameterEstimates(fitA); fitMeasures(fitA, ...)
    assert fit_a.n_obs == (ref["nobs"],)
    check_parameter_estimates(fit_a, ref["parameterEstimates"], rtol_est=1e-5, rtol_se=1e-4,
                              check_labels=False)
    for k, v in ref["fitMeasures"].items():
        if k == "pvalue":
            assert_allclose(fit_a.fit_measures[k], v, atol=1e-15)
            continue
        assert_allclose(fit_a.fit_measures[k], v, rtol=1e-6, err_msg=k)


def test_reliability(fit_a, ref):
    # semTools::reliability(fitA)
    rel = reliability(fit_a).set_index("factor")
    for coef, values in ref["reliability"].items():
        for factor, v in values.items():
            assert_allclose(rel.at[factor, coef], v, rtol=RTOL, err_msg=coef)
    assert len(rel) == len(ref["reliability"]["alpha"])


def test_comp_rel_sem(fit_a, ref):
    # semTools::compRelSEM(fitA); compRelSEM(fitA, tau.eq = TRUE)
    crs = comp_rel_sem(fit_a).set_index("factor")["reliability"]
    for factor, v in ref["compRelSEM"].items():
        assert_allclose(crs[factor], v, rtol=RTOL)
    crs = comp_rel_sem(fit_a, tau_eq=True).set_index("factor")["reliability"]
    for factor, v in ref["compRelSEM_tau_eq"].items():
        assert_allclose(crs[factor], v, rtol=1e-10)  # sample alpha: closed form


def test_ave(fit_a, ref):
    # semTools::AVE(fitA)
    a = ave(fit_a).set_index("factor")["ave"]
    for factor, v in ref["AVE"].items():
        assert_allclose(a[factor], v, rtol=RTOL)
