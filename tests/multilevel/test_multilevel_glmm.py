"""GLMMs (``mixed(..., family=)``) equal to lme4 1.1-31 ``glmer``.

References: tests/data/r_scripts/multilevel/glmm.R. Every model is fitted by lme4 twice:
with its defaults ("default") and with an exact deviance and a tight optimiser ("tight":
``glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(rhoend = 1e-12))``).
lme4's default PIRLS tolerance (1e-7) leaves the conditional modes inexact, which raises its
Laplace deviance by up to 2e-3 (grouseticks), so estimates are compared with the tight fit
(rtol 1e-5, 1e-4 for quadrature, as issue 22 asks) and our logLik with both (never below).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError, SingularFitWarning
from psychometrics.multilevel import compare, mixed
from psychometrics.multilevel.glmm import GlmmResult

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "glmm.json").read_text())
CBPP = pd.read_csv(DATA / "datasets" / "cbpp.csv")
CBPP["period"] = CBPP["period"].astype(str)
CBPP["prop"] = CBPP["incidence"] / CBPP["size"]
GROUSE = pd.read_csv(DATA / "datasets" / "grouseticks.csv")
GROUSE["YEAR"] = GROUSE["YEAR"].astype(str)
TC = pd.read_csv(DATA / "datasets" / "therapy_conditions.csv")

CASES = {
    # glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = binomial)
    "cbpp_laplace": ("cbind(incidence, size - incidence) ~ period + (1 | herd)", CBPP, "binomial", {}),
    # ... nAGQ = 10
    "cbpp_agq10": ("cbind(incidence, size - incidence) ~ period + (1 | herd)", CBPP, "binomial",
                   {"nagq": 10}),
    # glmer(incidence / size ~ period + (1 | herd), cbpp, family = binomial, weights = size)
    "cbpp_weights": ("prop ~ period + (1 | herd)", CBPP, "binomial", {"weights": "size"}),
    # glmer(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), grouseticks, family = poisson)
    "grouse": ("TICKS ~ YEAR + cHEIGHT + (1 | LOCATION)", GROUSE, "poisson", {}),
    # glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD), grouseticks, family = poisson)
    "grouse_brood": ("TICKS ~ YEAR + cHEIGHT + (1 | BROOD)", GROUSE, "poisson", {}),
    # glmer(improved ~ month + condition + (1 | patient), therapy_conditions, family = binomial)
    "therapy_improved": ("improved ~ month + condition + (1 | patient)", TC, "binomial", {}),
    # ... nAGQ = 7
    "therapy_improved_agq": ("improved ~ month + condition + (1 | patient)", TC, "binomial",
                             {"nagq": 7}),
    # glmer(improved ~ month * condition + (month | patient), therapy_conditions, family = binomial)
    "therapy_improved_slope": ("improved ~ month * condition + (month | patient)", TC, "binomial", {}),
    # glmer(sessions ~ month + condition + offset(log(weeks)) + (1 | patient), tc, family = poisson)
    "therapy_sessions": ("sessions ~ month + condition + offset(log(weeks)) + (1 | patient)", TC,
                         "poisson", {}),
}
_FITS: dict = {}


def _fit(key) -> GlmmResult:
    if key not in _FITS:
        formula, data, family, kw = CASES[key]
        _FITS[key] = mixed(formula, data, family=family, **kw)
    return _FITS[key]


def _rname(nm):
    for lev in ("cbt", "ipt", "waitlist"):
        nm = nm.replace(f"condition{lev}", f"condition[{lev}]")
    for j in "234":
        nm = nm.replace(f"period{j}", f"period[{j}]")
    for y in ("96", "97"):
        nm = nm.replace(f"YEAR{y}", f"YEAR[{y}]")
    return nm


@pytest.mark.parametrize("key", list(CASES))
def test_glmm_equals_glmer(key):
    fit = _fit(key)
    tight, default = R[key]["tight"], R[key]["default"]
    agq = CASES[key][3].get("nagq", 1) > 1
    rtol = 1e-4 if agq else 1e-5
    # the random-slope model: lme4's bobyqa stops 5e-6 (logLik) short of our optimum, and the
    # estimates move by up to 1.4e-5 (absolute; one of them is 0.001), hence atol 2e-5 there
    atol = 2e-5 if key == "therapy_improved_slope" else 1e-7
    assert fit.converged and not fit.singular
    # logLik(fit): never below lme4's (default or tight)
    assert fit.loglik >= default["loglik"] - 1e-7
    assert fit.loglik >= tight["loglik"] - 1e-7
    # lme4's logLik at its own tight optimum is up to 6e-6 below its deviance function re-evaluated
    # there by us (its final Cholesky factor lags the last PIRLS step); so 1e-5 absolute
    assert_allclose(fit.loglik, tight["loglik"], rtol=0, atol=1e-5)
    # names(fixef(fit)); fixef(fit); getME(fit, "theta")
    assert list(fit.fixef.index) == [_rname(n) for n in tight["fixef_names"]]
    assert_allclose(fit.fixef.to_numpy(), tight["fixef"], rtol=rtol, atol=atol)
    assert_allclose(fit.theta.to_numpy(), np.atleast_1d(tight["theta"]), rtol=rtol, atol=atol)
    # sqrt(diag(vcov(fit))); summary(fit)$coefficients[, c("z value", "Pr(>|z|)")]
    tab = fit.fixed_effects
    assert_allclose(tab["se"].to_numpy(), tight["se"], rtol=1e-4)
    assert_allclose(tab["z"].to_numpy(), tight["coef_z"], rtol=1e-4, atol=5 * atol)
    # p of a z near 8 moves by z^2 * rtol(z); tiny p-values get rtol 1e-2
    big = np.array(tight["coef_p"]) > 1e-10
    assert_allclose(tab["p_value"].to_numpy()[big], np.array(tight["coef_p"])[big], rtol=1e-3)
    assert_allclose(tab["p_value"].to_numpy()[~big], np.array(tight["coef_p"])[~big], rtol=1e-2)
    # AIC(fit); BIC(fit); attr(logLik(fit), "df")
    assert fit.npar == tight["df"] and fit.n_obs == tight["nobs"]
    assert_allclose([fit.aic, fit.bic], [tight["aic"], tight["bic"]], rtol=0, atol=2e-5)
    # as.data.frame(VarCorr(fit))$vcov
    assert_allclose(fit.random_effects["variance"].to_numpy(),
                    [r["vcov"] for r in tight["varcorr"]], rtol=10 * rtol, atol=atol)


@pytest.mark.parametrize("key", ["cbpp_laplace", "therapy_improved", "therapy_improved_slope",
                                 "therapy_sessions", "cbpp_agq10"])
def test_conditional_modes_and_variances(key):
    fit = _fit(key)
    tight = R[key]["tight"]
    agq = CASES[key][3].get("nagq", 1) > 1
    # ranef(fit, condVar = TRUE): modes and postVar (lower triangle per patient)
    assert [str(v) for v in fit.ranef.index] == [str(v) for v in tight["ranef_levels"]]
    atol = 2e-5 if key == "therapy_improved_slope" else 1e-6     # see test_glmm_equals_glmer
    assert_allclose(fit.ranef.to_numpy(), np.array(tight["ranef"]).reshape(fit.ranef.shape),
                    rtol=1e-4 if agq else 1e-5, atol=atol)
    cv = fit.ranef_condvar
    q = cv.shape[1]
    low = np.array([cv[:, r, c] for c in range(q) for r in range(c, q)])
    assert_allclose(low.reshape(-1), np.array(tight["condvar"], dtype=float).reshape(-1),
                    rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("key", ["cbpp_laplace", "therapy_sessions", "therapy_improved_slope"])
def test_predict_matches_lme4(key):
    fit = _fit(key)
    tight = R[key]["tight"]
    # head(predict(fit), 6): link scale with the conditional modes
    assert_allclose(fit.predict().to_numpy()[:6], tight["predict_link_head"], rtol=1e-5)
    # head(predict(fit, re.form = NA, type = "response"), 6)
    assert_allclose(fit.predict(re_form="~0", type="response").to_numpy()[:6],
                    tight["predict_response_fixed_head"], rtol=2e-5)


def test_gradient_is_the_derivative_of_the_deviance():
    fit = _fit("therapy_improved_slope")
    core = fit._core
    x = np.concatenate([fit.theta.to_numpy(), fit.fixef.to_numpy()]) + 0.05
    k = core.k
    _, g = core.deviance(x[:k], x[k:], grad=True)
    num = np.empty_like(x)
    for j in range(len(x)):
        h = 1e-5
        xa, xb = x.copy(), x.copy()
        xa[j] += h
        xb[j] -= h
        num[j] = (core.deviance(xa[:k], xa[k:]) - core.deviance(xb[:k], xb[k:])) / (2 * h)
    assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_compare_nested_glmms():
    # anova(glmer(improved ~ month + (1 | patient)), glmer(improved ~ month + condition + (1 | patient)))
    m0 = mixed("improved ~ month + (1 | patient)", TC, family="binomial")
    m1 = _fit("therapy_improved")
    tab = compare(m0, m1)
    ref = R["compare"]
    assert list(tab["npar"]) == ref["npar"]
    # lme4 default fits: our likelihoods are at least as high; the test statistic agrees to 1e-4
    assert np.all(tab["loglik"].to_numpy() >= np.array(ref["loglik"]) - 1e-7)
    assert_allclose(tab["chisq"].iloc[1], ref["chisq"][1], rtol=1e-4)
    assert_allclose(tab["p_value"].iloc[1], ref["p"][1], rtol=1e-3)


def test_odds_ratios_in_table_and_summary():
    fit = _fit("therapy_improved")
    tab = fit.to_frame()
    assert_allclose(tab["odds_ratio"], np.exp(tab["est"]), rtol=1e-12)
    assert_allclose(tab["odds_ratio_ci_lower"], np.exp(tab["ci_lower"]), rtol=1e-12)
    text = fit.summary().as_text()
    assert "odds_ratio" in text and "Laplace" in text
    assert "rate_ratio" in _fit("therapy_sessions").to_frame().columns


def test_zero_variance_accepted_only_after_interior_check():
    # no patient heterogeneity at all: every patient has the same rate of improvement
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"patient": np.repeat(np.arange(40), 6), "month": np.tile(np.arange(6), 40)})
    d["improved"] = rng.binomial(1, 0.3, len(d))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fit = mixed("improved ~ month + (1 | patient)", d, family="binomial")
    if fit.singular:
        assert any(issubclass(w.category, SingularFitWarning) for w in rec)
        core = fit._core
        beta = fit.fixef.to_numpy()
        for th in (0.05, 0.2, 0.5, 1.0):      # the interior is not better (beta re-optimised)
            other = mixed("improved ~ month + (1 | patient)", d, family="binomial", theta=[th])
            assert other.loglik <= fit.loglik + 1e-8
        assert core.k == 1 and np.isfinite(beta).all()
    else:
        assert fit.theta.iloc[0] > 0


def test_bad_glmm_input():
    with pytest.raises(ModelSpecificationError, match="count"):
        mixed("oq ~ month + (1 | patient)", TC, family="poisson")
    with pytest.raises(ModelSpecificationError, match="between 0 and 1"):
        mixed("sessions ~ month + (1 | patient)", TC, family="binomial")
    with pytest.raises(ModelSpecificationError, match="single scalar random effect"):
        mixed("improved ~ month + (month | patient)", TC, family="binomial", nagq=5)
    with pytest.raises(ModelSpecificationError, match="family"):
        mixed("improved ~ month + (1 | patient)", TC, family="gamma")
    with pytest.raises(ModelSpecificationError, match="needs family='binomial'"):
        mixed("cbind(improved, sessions) ~ month + (1 | patient)", TC)


CI = json.loads((DATA / "r_results" / "multilevel" / "glmm_confint.json").read_text())


def test_confint_profile_and_wald_equal_lme4():
    # confint(fit, method = "profile"); confint(fit, method = "Wald")  (cbpp, tight control)
    fit = _fit("cbpp_laplace")
    prof = fit.confint(method="profile")
    wald = fit.confint(method="wald")
    assert len(prof) == len(CI["rows"]) == len(wald)
    # our limits are roots of the profiled deviance found to 1e-6; lme4 interpolates a spline
    # through a grid of profile points, which moves its limits by up to 1.5e-4 (relative)
    assert_allclose(prof[["ci_lower", "ci_upper"]].to_numpy(), np.array(CI["profile"], dtype=float),
                    rtol=2.5e-4)
    ref_w = np.array([[np.nan if v is None else v for v in r] for r in CI["wald"]], dtype=float)
    assert_allclose(wald[["ci_lower", "ci_upper"]].to_numpy(), ref_w, rtol=1e-5)


def test_confint_boot_and_simulate_are_reproducible():
    fit = _fit("cbpp_laplace")
    sims = fit.simulate(nsim=3, seed=1)
    assert sims.shape == (fit.n_obs, 3)
    assert_allclose(sims.to_numpy(), fit.simulate(nsim=3, seed=1).to_numpy())
    ci = fit.confint(method="boot", nsim=30, seed=2)
    assert np.all(ci["ci_lower"] <= ci["ci_upper"])
    # the bootstrap interval of each fixed effect covers its estimate
    fe = ci.iloc[1:]
    assert np.all((fe["ci_lower"] < fe["est"]) & (fe["est"] < fe["ci_upper"]))


def test_predict_newdata_and_new_levels():
    fit = _fit("therapy_improved")
    new = TC.iloc[:5].copy()
    assert_allclose(fit.predict(new).to_numpy(), fit.predict().to_numpy()[:5], rtol=1e-12)
    new["patient"] = "new patient"
    with pytest.raises(ModelSpecificationError, match="allow_new_levels"):
        fit.predict(new)
    # a new patient gets random effect 0: the population-level prediction
    assert_allclose(fit.predict(new, allow_new_levels=True).to_numpy(),
                    fit.predict(new, re_form="~0").to_numpy(), rtol=1e-12)
