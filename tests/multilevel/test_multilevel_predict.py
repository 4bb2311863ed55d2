"""predict(), simulate() and confint() of linear mixed models against lme4.

References: tests/data/r_scripts/multilevel/lmm_predict.R.
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
R = json.loads((DATA / "r_results" / "multilevel" / "lmm_predict.json").read_text())
TC = pd.read_csv(DATA / "datasets" / "therapy_conditions.csv")
NEW = pd.DataFrame({"patient": ["p001", "p002", "zz_new"], "month": [13, 2.5, 6],
                    "condition": ["cbt", "waitlist", "ipt"]})
FORMULA = "oq ~ poly(month, 2) * condition + (month | patient)"


@pytest.fixture(scope="module")
def fit():
    return mixed(FORMULA, TC, theta=R["theta"])


def test_predict_newdata_equals_lme4(fit):
    # predict(fit, newdata = new, allow.new.levels = TRUE)
    assert_allclose(fit.predict(NEW, allow_new_levels=True).to_numpy(), R["predict_new"], rtol=1e-7)
    # predict(fit, newdata = new, re.form = NA)
    assert_allclose(fit.predict(NEW, re_form="~0").to_numpy(), R["predict_new_fixed"], rtol=1e-7)
    # head(predict(fit), 5) = head(fitted(fit), 5)
    assert_allclose(fit.predict().to_numpy()[:5], R["predict_head"], rtol=1e-7)
    with pytest.raises(ModelSpecificationError, match="zz_new"):
        fit.predict(NEW)


def test_confint_wald_equals_lme4(fit):
    # confint(fit, method = "Wald")[fixed rows]
    ci = fit.confint(method="wald")
    fe = ci[~ci["term"].str.startswith("sd_cor")]
    assert_allclose(fe[["ci_lower", "ci_upper"]].to_numpy(), np.array(R["confint_wald"]), rtol=1e-7)


def test_simulate_and_boot():
    small = mixed("oq ~ month + (1 | patient)", TC)
    sims = small.simulate(nsim=200, seed=3)
    assert sims.shape == (small.n_obs, 200)
    # simulated outcomes have the fitted marginal variance (tau^2 + sigma^2), within MC error
    tab = small.random_effects
    total = float(tab["variance"].sum())
    resid = sims.to_numpy() - small.predict(re_form="~0").to_numpy()[:, None]
    assert abs(resid.var() / total - 1) < 0.05
    ci = small.confint(method="boot", nsim=40, seed=4)
    assert np.all(ci["ci_lower"] <= ci["est"]) and np.all(ci["est"] <= ci["ci_upper"])


def test_ranef_condvar_equals_lme4(fit):
    # attr(ranef(fit, condVar = TRUE)$patient, "postVar")[, , 1:3]
    cv = fit.ranef_condvar
    assert cv.shape == (fit.n_groups, 2, 2)
    assert_allclose(cv[:3], np.array(R["condvar_first3"]), rtol=1e-6)
