"""Kenward-Roger (lmerTest ddf = "Kenward-Roger", pbkrtest::vcovAdj).

Case 6 (balanced sleepstudy, where KR is exact: df 17) and unbalanced references made by
tests/data/r_scripts/multilevel/kenward_roger.R. Checked at lme4's theta (formulas, tight)
and at our optimum.
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
R6 = json.loads((DATA / "reference" / "case6_lmer_sleepstudy.json").read_text())
KR = json.loads((DATA / "r_results" / "multilevel" / "kenward_roger.json").read_text())
SLEEP = pd.read_csv(DATA / "datasets" / "sleepstudy.csv")
SLEEP["phase"] = np.where(SLEEP["Days"] <= 2, "a_early", np.where(SLEEP["Days"] <= 5, "b_mid", "c_late"))
SLEEP_U = SLEEP.drop(index=np.array(KR["sleep_unbalanced"]["dropped_rows_1based"]) - 1)
DER = pd.read_csv(DATA / "datasets" / "therapy_sim_derived.csv")

CASES = {
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id), dm)
    "ri": ("oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)", DER),
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), dm)
    "slope": ("oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id)", DER),
    # lmer(Reaction ~ Days + (Days | Subject), ssu)
    "sleep_unbalanced": ("Reaction ~ Days + (Days | Subject)", SLEEP_U),
    # lmer(Reaction ~ phase + (1 | Subject), ssu)
    "factor_unbalanced": ("Reaction ~ C(phase) + (1 | Subject)", SLEEP_U),
}


def _check_coefs(fit, coefs, rtol):
    tab = fit.coef_table(ddf="kenward-roger")
    assert len(tab) == len(coefs)
    for ours, r in zip(tab.to_dict("records"), coefs, strict=True):
        assert ours["term"].replace("C(phase)", "phase").replace("[", "").replace("]", "") == r["row"]
        assert_allclose(ours["est"], r["Estimate"], rtol=rtol)
        assert_allclose(ours["se"], r["Std. Error"], rtol=rtol)
        assert_allclose(ours["df"], r["df"], rtol=rtol)
        assert_allclose(ours["t"], r["t value"], rtol=rtol)
        assert_allclose(ours["p_value"], r["Pr(>|t|)"], rtol=max(rtol, 1e-5) * 10)


@pytest.mark.parametrize("at_theta", [True, False])
def test_case6_kenward_roger(at_theta):
    # summary(fit_reml, ddf = "Kenward-Roger")$coefficients
    theta = list(R6["reml"]["theta"].values()) if at_theta else None
    fit = mixed("Reaction ~ Days + (Days | Subject)", SLEEP, theta=theta)
    _check_coefs(fit, R6["kenward_roger_reml"]["coefficients"], 1e-8 if at_theta else 1e-4)


@pytest.mark.parametrize("key", list(CASES))
@pytest.mark.parametrize("at_theta", [True, False])
def test_unbalanced_kenward_roger(key, at_theta):
    R = KR[key]
    formula, data = CASES[key]
    fit = mixed(formula, data, theta=list(R["theta"].values()) if at_theta else None)
    tol = 1e-8 if at_theta else 1e-4
    # summary(fit, ddf = "Kenward-Roger")$coefficients
    _check_coefs(fit, R["coefficients"], tol)
    # pbkrtest::vcovAdj(fit)
    assert_allclose(fit.vcov_kenward_roger.to_numpy(), np.array(R["vcovAdj"]), rtol=tol * 10)
    # anova(fit, ddf = "Kenward-Roger")
    an = fit.anova(ddf="kenward-roger")
    assert len(an) == len(R["anova"])
    for ours, r in zip(an.to_dict("records"), R["anova"], strict=True):
        assert ours["df1"] == r["NumDF"]
        for a, b in [("sum_sq", "Sum Sq"), ("mean_sq", "Mean Sq"), ("df2", "DenDF"),
                     ("f", "F value")]:
            assert_allclose(ours[a], r[b], rtol=tol, err_msg=a)
        assert_allclose(ours["p_value"], r["Pr(>F)"], rtol=max(tol, 1e-5) * 10)


def test_kenward_roger_needs_reml():
    fit = mixed("Reaction ~ Days + (Days | Subject)", SLEEP, reml=False)
    with pytest.raises(ModelSpecificationError, match="only available for REML"):
        fit.contrast({"Days": 1}, ddf="kenward-roger")
    with pytest.raises(ModelSpecificationError, match="ddf"):
        fit.anova(ddf="lme4")
