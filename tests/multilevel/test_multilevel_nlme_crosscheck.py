"""The nlme::lme cross-checks stored in cases 6 and 7, with nlme's containment df.

nlme's optimiser stops a little earlier than ours (its SEs differ from lme4's by ~1e-5), so
estimates/SEs/t are compared at rtol 1e-5; df exactly; p-values on the log scale (a p of 1e-80
turns a 1e-5 difference in t into a 1e-3 relative difference in p); the printed VarCorr
strings at their printed precision.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from psychometrics.multilevel import mixed

DATA = Path(__file__).resolve().parents[1] / "data"
R6 = json.loads((DATA / "reference" / "case6_lmer_sleepstudy.json").read_text())["nlme_lme"]
R7 = json.loads((DATA / "reference" / "case7_within_between.json").read_text())["nlme_m1_REML"]


def _check_ttable(fit, ttable):
    tab = fit.contrast(np.eye(len(fit.fixef)), ddf="containment")
    tab.index = list(fit.fixef.index)
    assert list(tab.index) == [r["row"] for r in ttable]
    for term, r in zip(tab.index, ttable, strict=True):
        row = tab.loc[term]
        assert_allclose(row["est"], r["Value"], rtol=1e-5)
        assert_allclose(row["se"], r["Std.Error"], rtol=1e-5)
        assert row["df"] == r["DF"]
        assert_allclose(row["t"], r["t-value"], rtol=1e-5)
        assert_allclose(math.log(row["p_value"]), math.log(r["p-value"]), rtol=1e-5)


def test_case6_nlme_lme():
    # nlme::lme(Reaction ~ Days, random = ~ Days | Subject, data = sleepstudy, method = "REML")
    fit = mixed("Reaction ~ Days + (Days | Subject)", pd.read_csv(DATA / "datasets" / "sleepstudy.csv"))
    _check_ttable(fit, R6["tTable"])
    assert_allclose(fit.loglik, R6["logLik"], rtol=1e-9)
    assert_allclose(fit.aic, R6["AIC"], rtol=1e-9)
    # nlme's REML BIC uses log(N - p) observations: -2 logLik + npar log(180 - 2)
    assert_allclose(-2 * fit.loglik + fit.npar * math.log(fit.n_obs - len(fit.fixef)), R6["BIC"],
                    rtol=1e-9)
    assert_allclose(fit.sigma, R6["sigma"], rtol=1e-5)
    # as.data.frame(unclass(nlme::VarCorr(fit))): printed strings
    vc = fit.random_effects.set_index(["var1", "var2"], drop=False)
    rows = {r["row"]: r for r in R6["VarCorr"]}
    intercept = fit.random_effects.iloc[0]
    days = fit.random_effects.iloc[1]
    cov = fit.random_effects.iloc[2]
    resid = fit.random_effects.iloc[3]
    for ours, key in [(intercept, "(Intercept)"), (days, "Days"), (resid, "Residual")]:
        assert_allclose(ours["variance"], float(rows[key]["Variance"]), rtol=1e-4)
        assert_allclose(ours["sd_cor"], float(rows[key]["StdDev"]), rtol=1e-5)
    assert rows["(Intercept)"]["Corr"] == "(Intr)" and rows["Residual"]["Corr"] == ""
    assert_allclose(cov["sd_cor"], float(rows["Days"]["Corr"]), atol=5e-4)
    assert len(vc) == 4


def test_case7_nlme_m1_reml():
    # nlme::lme(oq_next ~ wai_within + wai_between + oq_total, random = ~ 1 | patient_id, REML)
    der = pd.read_csv(DATA / "datasets" / "therapy_sim_derived.csv")
    fit = mixed("oq_next ~ wai_within + wai_between + oq_total + (1 | patient_id)", der)
    # containment df: wai_between is patient-level (148), the rest 1710 - 150 - 2 = 1558
    assert fit.containment_df().to_dict() == {"(Intercept)": 1558.0, "wai_within": 1558.0,
                                              "wai_between": 148.0, "oq_total": 1558.0}
    _check_ttable(fit, R7["tTable"])
    assert_allclose(fit.loglik, R7["logLik"], rtol=1e-9)
    assert_allclose(fit.sigma, R7["sigma"], rtol=1e-6)
    # as.numeric(VarCorr(lme1)[1, 2]) (printed with 7 significant digits)
    assert_allclose(math.sqrt(fit.random_effects["variance"].iloc[0]), R7["sd_intercept"], rtol=1e-5)
