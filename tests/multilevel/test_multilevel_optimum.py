"""Issue 19: the study's model on simulated data stopped at a patient variance of 0.

``psychometrics.simulate(n_patients=5000, sessions_min=12, sessions_max=12, seed=5000)``,
``oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)``: the profiled deviance has
a local maximum at theta = 0 (its derivative vanishes there by symmetry) and the old optimiser's
first L-BFGS step from theta = 1 landed exactly on it; the fit came out with variance 0,
``converged=True`` and a log-likelihood 1,200 units below lme4's. lme4's fits:
tests/data/r_scripts/multilevel/lmer_study_sim5000.R -> r_results/multilevel/lmer_study_sim5000.json
(data written by ``tests/lmer_corpus.py write-study``).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import lmer_corpus as lc
from psychometrics.exceptions import SingularFitWarning
from psychometrics.multilevel import mixed

REF = json.loads((lc.HERE / "data" / "r_results" / "multilevel"
                  / "lmer_study_sim5000.json").read_text())["cases"]


@pytest.fixture(scope="module")
def study():
    return {case: lc.simulated_study(case) for case in lc.STUDY_CASES}


@pytest.mark.parametrize("case", lc.STUDY_CASES)
@pytest.mark.parametrize("crit", ["ML", "REML"])
def test_study_model_equals_lme4(study, case, crit):
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), d, REML = crit == "REML")
    R = REF[case][crit]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingularFitWarning)
        fit = mixed(lc.STUDY_FORMULA, study[case], reml=crit == "REML")
    assert fit.converged and not fit.singular and fit.n_obs == R["nobs"]
    # logLik(fit)
    assert_allclose(fit.loglik, R["logLik"], rtol=1e-11)
    # getME(fit, "theta")
    assert_allclose(fit.theta.iloc[0], R["theta"], rtol=1e-5)
    for j, (name, value) in enumerate(R["fixef"].items()):
        assert fit.fixef.index[j] == name
        # fixef(fit)[name]
        assert_allclose(fit.fixef.iloc[j], value, rtol=1e-6)
        # sqrt(diag(vcov(fit)))[name]
        assert_allclose(np.sqrt(fit.vcov.iloc[j, j]), R["se"][name], rtol=1e-6)
    # as.data.frame(VarCorr(fit))$vcov  (patient variance, residual variance)
    assert len(R["vcov"]) == len(fit.random_effects)
    for j, value in enumerate(R["vcov"]):
        assert_allclose(fit.random_effects["variance"].iloc[j], value, rtol=1e-5)


def test_deviance_has_stationary_maximum_at_zero(study):
    """The trap itself: at theta = 0 the gradient is exactly 0 and the deviance decreases
    towards positive theta; the optimality check finds the lower point."""
    fit = mixed(lc.STUDY_FORMULA, study["sim5000_raw"], reml=False)
    core = fit._core
    d0, g0 = core.dev_and_grad(np.array([0.0]), False)
    assert g0[0] == 0.0
    assert core.deviance(np.array([0.1]), False) < d0 - 100
    chk = core.check_optimum(np.array([0.0]), d0, False, core.theta_scale)
    assert not chk["ok"] and chk["descent"] is not None
    assert core.deviance(chk["descent"] * core.theta_scale, False) < d0
    # at the returned optimum the check passes
    x = fit.theta.to_numpy() / core.theta_scale
    ok = core.check_optimum(x, core.deviance(fit.theta.to_numpy(), False), False, core.theta_scale)
    assert ok["ok"] and ok["descent"] is None and ok["min_eig"] > 0


def test_true_boundary_is_accepted_after_the_interior_check():
    """No patient variance in the data: the fit is singular, and converged because the
    deviance at small positive theta is higher (one-sided check) -- not because it stopped."""
    rng = np.random.default_rng(7)
    gid = np.repeat(np.arange(60), 5)
    e = pd.Series(rng.normal(size=gid.size))
    e -= 0.5 * e.groupby(gid).transform("mean")     # between-group variance below chance
    d = pd.DataFrame({"id": gid, "x": rng.normal(size=gid.size)})
    d["y"] = 0.5 * d["x"] + e
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        fit = mixed("y ~ x + (1 | id)", d, reml=False)
    assert fit.singular and fit.converged and fit.theta.iloc[0] == 0.0
    core = fit._core
    d0 = core.deviance(np.array([0.0]), False)
    for t in core.PROBE_STEPS:
        assert core.deviance(np.array([t]) * core.theta_scale, False) >= d0


def test_ones_column_random_intercept(study):
    # lmer(oq_next ~ 0 + one + wai_within + wai_between + oq_total + (0 + one | patient_id), d):
    # the same model as (1 | patient_id) with a column of ones
    d = study["sim5000_raw_first1000"].assign(one=1.0)
    a = mixed("oq_next ~ wai_within + wai_between + oq_total + (0 + one | patient_id)", d,
              reml=False)
    b = mixed(lc.STUDY_FORMULA, d, reml=False)
    assert_allclose(a.loglik, REF["sim5000_raw_first1000"]["ML"]["logLik"], rtol=1e-11)
    assert_allclose(a.theta.to_numpy(), b.theta.to_numpy(), rtol=1e-8)
    assert list(a.random_effects["var1"].iloc[:1]) == ["one"]
