"""Negative binomial GLMMs (``family="negative_binomial"``) against lme4's ``glmer.nb``.

References: tests/data/r_scripts/multilevel/glmm_nb.R (default control and a tight bobyqa;
glmer.nb fails with a tighter PIRLS tolerance, so lme4's deviance keeps its ~3e-4 excess, see
test_multilevel_glmm.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.multilevel import mixed

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "glmm_nb.json").read_text())
GROUSE = pd.read_csv(DATA / "datasets" / "grouseticks.csv")
GROUSE["YEAR"] = GROUSE["YEAR"].astype(str)
TC = pd.read_csv(DATA / "datasets" / "therapy_conditions.csv")


def test_grouseticks_negative_binomial():
    # glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), grouseticks)
    fit = mixed("TICKS ~ YEAR + cHEIGHT + (1 | LOCATION)", GROUSE, family="negative_binomial")
    for key in ("default", "tight"):
        ref = R["grouse"][key]
        # logLik(fit): never below lme4's
        assert fit.loglik >= ref["loglik"] - 1e-7
    ref = R["grouse"]["tight"]
    # attr(logLik(fit), "df") counts the dispersion
    assert fit.npar == ref["df"]
    # getME(fit, "glmer.nb.theta"); fixef(fit); getME(fit, "theta"); SEs. lme4's Laplace deviance
    # is 7e-4 too high at given parameters (PIRLS tolerance), which moves its optimum by ~1e-5
    assert_allclose(fit.nb_theta, ref["nb_theta"], rtol=1e-4)
    assert_allclose(fit.fixef.to_numpy(), ref["fixef"], rtol=1e-4)
    assert_allclose(fit.theta.to_numpy(), np.atleast_1d(ref["theta"]), rtol=1e-4)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), ref["se"], rtol=1e-4)
    assert "rate_ratio" in fit.to_frame().columns


def test_therapy_sessions_negative_binomial_not_below_lme4():
    # glmer.nb(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc):
    # the counts were simulated as Poisson, the dispersion profile is flat and lme4's theta.ml
    # stops at its iteration limit (nb theta 92); ours finds a 0.28 higher logLik (nb theta 44)
    fit = mixed("sessions ~ month + condition + offset(log(weeks)) + (1 | patient)", TC,
                family="negative_binomial")
    for key in ("default", "tight"):
        assert fit.loglik >= R["therapy_sessions"][key]["loglik"] - 1e-7
    assert fit.npar == R["therapy_sessions"]["tight"]["df"]
    assert fit.nb_theta > 1
    # the Poisson model is its limit (nb theta -> infinity): the NB logLik is not lower
    pois = mixed("sessions ~ month + condition + offset(log(weeks)) + (1 | patient)", TC,
                 family="poisson")
    assert fit.loglik >= pois.loglik


def test_negative_binomial_rejects_agq():
    with pytest.raises(ModelSpecificationError, match="negative_binomial"):
        mixed("sessions ~ month + (1 | patient)", TC, family="negative_binomial", nagq=5)


def test_therapy_sessions_discrepancy_is_glmer_nb_stopping_early():
    # Issue 22's negative-binomial discrepancy, confirmed with lme4 itself
    # (tests/data/r_scripts/multilevel/glmm_nb_check.R): glmer at a FIXED dispersion,
    # glmer(..., family = MASS::negative.binomial(theta = <ours>)), reaches our logLik, and
    # lme4's logLik over a grid of dispersions peaks at ours; glmer.nb's theta.ml stopped at its
    # iteration limit (nb theta 92.04, logLik 0.28 lower).
    chk = json.loads((DATA / "r_results" / "multilevel" / "glmm_nb_check.json").read_text())
    fit = mixed("sessions ~ month + condition + offset(log(weeks)) + (1 | patient)", TC,
                family="negative_binomial")
    assert_allclose(fit.nb_theta, chk["profile_grid"][3], rtol=1e-9)   # the value R was given
    # logLik(glmer(..., family = negative.binomial(theta = ours)))
    assert fit.loglik >= chk["loglik_at_ours"] - 1e-7
    assert_allclose(fit.loglik, chk["loglik_at_ours"], rtol=1e-8)
    # fixef(...), getME(..., "theta") at our dispersion
    assert_allclose(fit.fixef.to_numpy(), chk["fixef_at_ours"], rtol=2e-5)
    assert_allclose(fit.theta.to_numpy(), [chk["theta_at_ours"]], rtol=2e-5)
    grid = np.array(chk["profile_loglik"])
    assert int(np.argmax(grid)) == 3 and fit.loglik > chk["glmer_nb_loglik"] + 0.2
