"""lme4/lmerTest sleepstudy (tests/data/reference/case6_lmer_sleepstudy.json).

Two kinds of checks for every model:

* ``*_at_lme4_theta``: the model evaluated at lme4's own theta
  (``mixed(..., theta=getME(fit, "theta"))``). Every derived number (beta, SEs,
  vcov, sigma, variance components, ranef, likelihood, devcomp, Satterthwaite
  df, t, p) must then agree to ~1e-8: this checks our formulas exactly.
* ``*_optimum``: our own optimisation. lme4's nloptwrap (BOBYQA) stops a little
  before the optimum in the correlated-slope models (its REML criterion is
  1.4e-9 and its ML deviance 2.6e-8 above ours; its theta is 9e-6 / 4e-5 away),
  so variance parameters of those two models are compared at rtol 1e-4 and our
  deviance must not be above lme4's. Everything else at rtol 1e-5 (estimates)
  and 1e-4 (SEs, df).

Not compared: the Kenward-Roger table and the nlme::lme cross-check (not implemented;
nlme's own optimum differs from lme4's in the 5th digit anyway).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.multilevel import compare, mixed

DATA = Path(__file__).resolve().parents[1] / "data"
REF = json.loads((DATA / "reference" / "case6_lmer_sleepstudy.json").read_text())
SLEEP = pd.read_csv(DATA / "datasets" / "sleepstudy.csv")

# key -> (formula, REML, rtol for variance parameters at our optimum, rtol for p-values there)
MODELS = {
    # lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = TRUE)
    "reml": ("Reaction ~ Days + (Days | Subject)", True, 1e-4, 1e-3),
    # lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = FALSE)
    "ml": ("Reaction ~ Days + (Days | Subject)", False, 1e-4, 1e-2),
    # lmerTest::lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy, REML = TRUE)
    "random_intercept_reml": ("Reaction ~ Days + (1 | Subject)", True, 1e-5, 1e-4),
    # lmerTest::lmer(Reaction ~ Days + (Days || Subject), data = sleepstudy, REML = TRUE)
    "uncorrelated_reml": ("Reaction ~ Days + (Days || Subject)", True, 1e-5, 1e-4),
}


def _fit(key, at_lme4_theta):
    formula, reml, _, _ = MODELS[key]
    theta = list(REF[key]["theta"].values()) if at_lme4_theta else None
    return mixed(formula, SLEEP, reml=reml, theta=theta)


def _check_model(key, fit, rtol_est, rtol_se, rtol_var, rtol_p, rtol_ll):
    R = REF[key]
    assert fit.reml is R["REML"]
    assert fit.n_obs == R["nobs"]
    # names(getME(fit, "theta")); getME(fit, "theta")
    assert list(fit.theta.index) == list(R["theta"])
    assert_allclose(fit.theta.to_numpy(), list(R["theta"].values()), rtol=rtol_var, atol=1e-12)
    # fixef(fit)
    assert list(fit.fixef.index) == list(R["fixef"])
    assert_allclose(fit.fixef.to_numpy(), list(R["fixef"].values()), rtol=rtol_est)
    # sqrt(diag(vcov(fit)))
    fe = fit.fixed_effects
    assert_allclose(fe["se"].to_numpy(), list(R["se"].values()), rtol=rtol_se)
    # as.matrix(vcov(fit))
    for r_name, row in R["vcov_fixef"].items():
        for c_name, v in row.items():
            assert_allclose(fit.vcov.loc[r_name, c_name], v, rtol=rtol_se)
    # summary(fit)$coefficients  (lmerTest, Satterthwaite)
    coefs = R["coefficients_satterthwaite"]
    assert len(coefs) == len(fe)
    for ours, ref in zip(fe.to_dict("records"), coefs, strict=True):
        assert ours["term"] == ref["row"]
        assert_allclose(ours["est"], ref["Estimate"], rtol=rtol_est)
        assert_allclose(ours["se"], ref["Std. Error"], rtol=rtol_se)
        assert_allclose(ours["df"], ref["df"], rtol=rtol_se)
        assert_allclose(ours["t"], ref["t value"], rtol=rtol_se)
        assert_allclose(ours["p_value"], ref["Pr(>|t|)"], rtol=rtol_p)
    # logLik(fit); attr(logLik(fit), "df"); AIC(fit); BIC(fit)
    assert_allclose(fit.loglik, R["logLik"], rtol=rtol_ll)
    assert fit.npar == R["logLik_df"]
    assert_allclose(fit.aic, R["AIC"], rtol=rtol_ll)
    assert_allclose(fit.bic, R["BIC"], rtol=rtol_ll)
    # deviance(fit, REML = FALSE)  (for a REML fit: the ML criterion at the REML theta, which is
    # not stationary there, so it inherits the theta difference to first order)
    assert_allclose(fit.deviance, R["deviance_ML_criterion_at_these_estimates"],
                    rtol=rtol_ll if not fit.reml else max(rtol_ll, rtol_var * 1e-3))
    # REMLcrit(fit)
    if R["REMLcrit"] is None:
        assert np.isnan(fit.reml_criterion)
    else:
        assert_allclose(fit.reml_criterion, R["REMLcrit"], rtol=rtol_ll)
    # getME(fit, "devcomp")$cmp
    for k, v in R["devcomp_cmp"].items():
        if v is None:   # drsum (GLMM only); dev for REML fits / REML for ML fits
            if k in fit.devcomp:
                assert np.isnan(fit.devcomp[k])
            else:
                assert k == "drsum"
            continue
        tol = rtol_ll if k in ("REML", "dev") else rtol_var
        assert_allclose(fit.devcomp[k], v, rtol=tol, err_msg=k)
    # as.data.frame(VarCorr(fit)); sigma(fit)
    vc = fit.random_effects
    assert len(vc) == len(R["VarCorr_table"])
    for ours, ref in zip(vc.to_dict("records"), R["VarCorr_table"], strict=True):
        if ref["grp"] == "Residual":
            assert ours["group"] == "Residual"
        else:
            assert ours["group"] == "Subject"   # lme4 names the 2nd '||' block "Subject.1"
        assert (ours["var1"] if isinstance(ours["var1"], str) else None) == ref["var1"]
        assert (ours["var2"] if isinstance(ours["var2"], str) else None) == ref["var2"]
        assert_allclose(ours["variance"], ref["vcov"], rtol=rtol_var)
        assert_allclose(ours["sd_cor"], ref["sdcor"], rtol=rtol_var)
    assert_allclose(fit.sigma, R["sigma"], rtol=rtol_var)
    # ranef(fit)$Subject
    rr = pd.DataFrame(R["ranef_Subject"]).set_index("row")
    assert [str(x) for x in fit.ranef.index] == list(rr.index)
    assert list(fit.ranef.columns) == list(rr.columns)
    scale = np.abs(rr.to_numpy()).max(axis=0)   # per column: near-zero modes get an abs. tolerance
    assert_allclose(fit.ranef.to_numpy() / scale, rr.to_numpy() / scale, rtol=rtol_var,
                    atol=rtol_var)


@pytest.mark.parametrize("key", list(MODELS))
def test_at_lme4_theta(key):
    fit = _fit(key, at_lme4_theta=True)
    _check_model(key, fit, rtol_est=1e-10, rtol_se=1e-7, rtol_var=1e-9, rtol_p=1e-6, rtol_ll=1e-12)


@pytest.mark.parametrize("key", list(MODELS))
def test_optimum(key):
    _, _, rtol_var, rtol_p = MODELS[key]
    fit = _fit(key, at_lme4_theta=False)
    # fit@optinfo$conv$lme4$messages is NULL: no convergence or singularity message
    assert REF[key]["conv_messages"] is None and REF[key]["optimizer"] == "nloptwrap"
    assert fit.converged and not fit.singular and fit.messages == ()
    _check_model(key, fit, rtol_est=1e-5, rtol_se=1e-4, rtol_var=rtol_var, rtol_p=rtol_p,
                 rtol_ll=1e-9)
    # our optimum is at least as good as lme4's
    R = REF[key]
    crit = R["REMLcrit"] if R["REML"] else -2 * R["logLik"]
    ours = fit.reml_criterion if fit.reml else fit.deviance
    assert ours <= crit + 1e-9 * abs(crit)


def test_anova_satterthwaite_reml():
    # anova(lmerTest::lmer(Reaction ~ Days + (Days | Subject), sleepstudy))  (type III, Satterthwaite)
    for at in (True, False):
        tab = _fit("reml", at).anova()
        ref = REF["anova_satterthwaite_reml"]
        assert list(tab["term"]) == [r["row"] for r in ref]
        tol = 1e-7 if at else 1e-4
        for ours, r in zip(tab.to_dict("records"), ref, strict=True):
            assert_allclose(ours["sum_sq"], r["Sum Sq"], rtol=tol)
            assert_allclose(ours["mean_sq"], r["Mean Sq"], rtol=tol)
            assert ours["df1"] == r["NumDF"]
            assert_allclose(ours["df2"], r["DenDF"], rtol=tol)
            assert_allclose(ours["f"], r["F value"], rtol=tol)
            assert_allclose(ours["p_value"], r["Pr(>F)"], rtol=tol)


def test_lrt_random_intercept_vs_slope():
    # anova(fit_ri, fit_reml, refit = TRUE)  -- both refitted by ML
    ri = _fit("random_intercept_reml", False)
    rs = _fit("reml", False)
    tab = compare(rs, ri, names=["fit_reml", "fit_ri"])      # order by npar like lme4
    ref = REF["lrt_random_intercept_vs_random_slope"]["table"]
    assert list(tab["model"]) == [r["row"] for r in ref]
    for ours, r in zip(tab.to_dict("records"), ref, strict=True):
        assert ours["npar"] == r["npar"]
        for a, b in [("aic", "AIC"), ("bic", "BIC"), ("loglik", "logLik"), ("deviance", "deviance")]:
            assert_allclose(ours[a], r[b], rtol=1e-9)
        if r["Chisq"] is None:
            assert np.isnan(ours["chisq"]) and np.isnan(ours["df"]) and np.isnan(ours["p_value"])
        else:
            assert_allclose(ours["chisq"], r["Chisq"], rtol=1e-6)
            assert ours["df"] == r["Df"]
            assert_allclose(ours["p_value"], r["Pr(>Chisq)"], rtol=1e-5)


def test_refit_ml_equals_ml_fit():
    # The ML refit of the REML fit is the ML fit (lme4: refitML(fit_reml)).
    a = _fit("reml", False).refit_ml()
    b = _fit("ml", False)
    assert not a.reml
    assert_allclose(a.theta.to_numpy(), b.theta.to_numpy(), rtol=1e-7)
    assert_allclose(a.loglik, b.loglik, rtol=1e-12)


def test_summary_text():
    fit = _fit("reml", False)
    sm = fit.summary()
    txt = sm.as_text()
    assert "REML" in txt and "Days" in txt and "Residual" in txt
    assert "<table" in sm.as_html() and r"\begin{tabular}" in sm.as_latex()
    assert str(sm) == txt


def test_contrast_matches_reparametrised_model():
    # A contrast's Satterthwaite df equals the df of the same effect in a reparametrised model.
    d = SLEEP.assign(D2=SLEEP["Days"] * 2.0)
    a = mixed("Reaction ~ Days + (Days | Subject)", SLEEP)
    b = mixed("Reaction ~ D2 + (D2 | Subject)", d)
    ca = a.contrast({"Days": 0.5}).iloc[0]
    fb = b.fixed_effects.iloc[1]
    assert_allclose(ca["est"], fb["est"], rtol=1e-6)
    # df, p: two separate optimisations (of equivalent models) agree to ~1e-10 here (was rtol 1e-4)
    assert_allclose(ca["df"], fb["df"], rtol=1e-8)
    assert_allclose(ca["p_value"], fb["p_value"], rtol=1e-8)
