"""h1="exact": the saturated model at its maximum over PSD within and between matrices
instead of lavaan's early-stopped EM (Cholesky parametrisation started from the EM).

Checked against lavaan fitting the Cholesky-parametrised saturated model explicitly
(tests/data/r_scripts/twolevel/twolevel_h1_psd.R) and by properties that must hold.
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


PSD = reference("twolevel_h1_psd", "r_results/twolevel")


@pytest.fixture(scope="module")
def exact(therapy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_twolevel(REF["therapy_wai_1within_1between"]["model"], therapy, "patient_id",
                            h1="exact")


def test_exact_h1_is_the_psd_maximum(exact):
    # twolevel_h1_psd.R: lavaan's Cholesky-parametrised saturated model (the h1 it uses with
    # missing data), rel.tol 1e-14: logL -22762.5155 (nlminb stops unconverged; its factor
    # variances are bounded at 1e-4, eigenvalues of Sigma_B >= 1e-4). Ours maximises over all
    # PSD matrices: at least as high, and above lavaan's EM (-22762.486)
    ref = PSD["therapy_chol"]
    ours = exact.fit_measures["unrestricted_logl"]
    assert ours >= ref["logl"]
    assert ours >= ref["em_unrestricted_logl"]
    assert ours - ref["logl"] < 0.5
    sb = exact.h1_between["cov"].to_numpy()
    sw = exact.h1_within["cov"].to_numpy()
    assert np.linalg.eigvalsh(sb).min() >= -1e-8 * np.trace(sb)
    assert np.linalg.eigvalsh(sw).min() > 0
    # the covariance-parametrised saturated model (lavaan sem(m7), rel.tol 1e-14) reaches a
    # higher logL only by leaving the PSD cone: Sigma_B with negative eigenvalues
    cov = PSD["therapy_cov"]
    assert min(cov["eigen_between"]) < -1e-3
    assert cov["logl"] > ours + 10


def test_exact_h1_restart_from_lavaan_solution(exact):
    # started from lavaan's Cholesky solution instead of the EM: the same maximum
    from psychometrics.sem.twolevel_h1 import h1_cholesky
    ref = PSD["therapy_chol"]
    res_mdl = exact._model
    cs = res_mdl.cs
    within_only = np.zeros(cs.py, dtype=bool)
    sw = np.array(ref["cov_within"])
    sb = np.array(ref["cov_between"])
    mu = exact.h1_between["mean"].to_numpy()
    h1, ok, _ = h1_cholesky(cs, within_only, sw, sb, mu)
    assert ok
    assert_allclose(h1.logl, exact.fit_measures["unrestricted_logl"], rtol=0, atol=1e-4)


def test_explicit_saturated_model_leaves_the_psd_cone(therapy):
    # fitting the explicit covariance-parametrised saturated model ourselves (an h0 model,
    # not constrained to PSD): lavaan's logL -22751.04 and lavaan's EM h1 value
    ref = EXTRA["therapy_saturated_explicit"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sat = fit_twolevel(ref["model"], therapy, "patient_id")
    assert sat.fit_measures["npar"] == ref["npar"]
    assert_allclose(sat.fit_measures["logl"], ref["logl"], rtol=1e-8)
    assert_allclose(sat.fit_measures["unrestricted_logl"], ref["em_unrestricted_logl"], rtol=1e-10)
    assert np.linalg.eigvalsh(sat.implied_between["cov"].to_numpy()).min() < -1e-3
