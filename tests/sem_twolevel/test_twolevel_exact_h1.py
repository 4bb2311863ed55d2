"""h1="exact": the saturated model at its maximum instead of lavaan's early-stopped EM.

No R counterpart (lavaan always uses its EM); checked by properties that must hold.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.sem.twolevel import fit_twolevel
from twolevel_helpers import dataset, reference

REF = reference("case8_twolevel_sem")
EXTRA = reference("twolevel_extra", "r_results/twolevel")


@pytest.fixture(scope="module")
def therapy():
    return dataset("therapy_sim")


def test_saturated_model_has_zero_chisq(therapy):
    # a model with df = 0 reproduces the saturated moments: the exact LR statistic is 0,
    # while lavaan's EM (stopped after a few iterations here) reports 43.885
    m = EXTRA["therapy_contextual"]["model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_twolevel(m, therapy, "patient_id")
        ex = fit_twolevel(m, therapy, "patient_id", h1="exact")
    assert_allclose(em.fit_measures["chisq"], EXTRA["therapy_contextual"]["fitMeasures"]["chisq"],
                    rtol=1e-6)
    assert ex.fit_measures["df"] == 0
    assert_allclose(ex.fit_measures["chisq"], 0.0, atol=1e-6)
    assert_allclose(ex.fit_measures["logl"], ex.fit_measures["unrestricted_logl"], rtol=1e-10)
    assert ex.fit_measures["unrestricted_logl"] >= em.fit_measures["unrestricted_logl"]


def test_exact_h1_is_a_maximum_and_h0_unchanged(therapy):
    # no covariates: the h0 fit does not depend on h1; the exact h1 logL is at least the EM's
    m = REF["therapy_wai_1within_1between"]["model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = fit_twolevel(m, therapy, "patient_id")
        ex = fit_twolevel(m, therapy, "patient_id", h1="exact")
    assert_allclose(ex.fit_measures["logl"], em.fit_measures["logl"], rtol=1e-12)
    assert ex.fit_measures["unrestricted_logl"] > em.fit_measures["unrestricted_logl"]
    # chisq = 2 (logL_h1 - logL_h0) with the exact h1
    assert_allclose(ex.fit_measures["chisq"],
                    2 * (ex.fit_measures["unrestricted_logl"] - ex.fit_measures["logl"]),
                    rtol=1e-12)
    assert ex.options["h1"] == "exact"


def test_bad_h1_option(therapy):
    with pytest.raises(ModelSpecificationError, match="'h1'"):
        fit_twolevel(REF["therapy_wai_1within_1between"]["model"], therapy, "patient_id",
                     h1="saturated")


def test_exact_h1_equals_lavaan_explicit_saturated_model(therapy):
    # lavaan fitting the saturated model explicitly (all covariances free at both levels,
    # nlminb) reaches logL -22751.04 while its EM h1 stops at -22762.49: our h1="exact"
    # equals the former (rtol 1e-8: lavaan's nlminb stop), the default the latter
    ref = EXTRA["therapy_saturated_explicit"]
    m = REF["therapy_wai_1within_1between"]["model"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = fit_twolevel(m, therapy, "patient_id", h1="exact")
        sat = fit_twolevel(ref["model"], therapy, "patient_id")
    assert_allclose(ex.fit_measures["unrestricted_logl"], ref["logl"], rtol=1e-8)
    assert ex.fit_measures["unrestricted_logl"] >= ref["logl"] - 1e-6
    # fitting the explicit saturated model ourselves: same logL, and lavaan's EM h1 value
    assert sat.fit_measures["npar"] == ref["npar"]
    assert_allclose(sat.fit_measures["logl"], ref["logl"], rtol=1e-8)
    assert_allclose(sat.fit_measures["unrestricted_logl"], ref["em_unrestricted_logl"], rtol=1e-10)
