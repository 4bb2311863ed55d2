"""Profile-likelihood and bootstrap intervals of linear mixed models (issue 23.3, issue 22.6)
and predictions with a subset of the random terms (issue 22).

References: tests/data/r_scripts/multilevel/lmm_profile.R -> lmm_profile.json (lme4 1.1-31
``confint(fit, method = "profile")`` at levels 0.95 and 0.90) and multi_predict.R ->
multi_predict.json (``predict(fit, newdata, re.form = ~(1 | therapist), allow.new.levels)``).

Tolerance of the profile intervals. lme4 evaluates the profile at a sequence of points and
inverts an interpolating spline of zeta (the signed square root of the deviance increase); we
solve zeta = +/-z exactly (Brent's method on the exact profile). The two agree to rtol 2e-4
(max 1.6e-4, the 90% ends of sleepstudy's correlation), except where the profile is strongly
curved near a boundary, where lme4's spline is off: the therapist SD of ``therapy2_slope``
(lower 95% end 0.41280 here vs 0.41767 in lme4). There the test checks that lme4's end lies
inside our interval because our profile deviance at lme4's end is below the cut-off
(3.8139 < 3.8415): our minimum over the other parameters is lower than lme4's spline implies.
The base of the profile (the ML deviance) equals lme4's ``-2 logLik(refitML(fit))`` to 1e-9.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.multilevel import mixed
from psychometrics.multilevel._intervals import _Profile

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "lmm_profile.json").read_text())
RP = json.loads((DATA / "r_results" / "multilevel" / "multi_predict.json").read_text())
NC = json.loads((DATA / "r_results" / "multilevel" / "nested_crossed.json").read_text())["data"]
FR = {k: pd.DataFrame(v) for k, v in NC.items()}
FR["sleep"] = pd.read_csv(DATA / "datasets" / "sleepstudy.csv")

CASES = {
    # confint(lmer(Reaction ~ Days + (Days | Subject), sleepstudy), method = "profile")
    "sleep_slope": ("Reaction ~ Days + (Days | Subject)", "sleep", True),
    # confint(lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = FALSE), method = "profile")
    "sleep_uncorr": ("Reaction ~ Days + (Days || Subject)", "sleep", False),
    # confint(lmer(strength ~ 1 + (1 | batch/cask), Pastes), method = "profile")   (SD at 0)
    "pastes_nested": ("strength ~ 1 + (1 | batch/cask)", "pastes", True),
    # confint(lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin), method = "profile")
    "penicillin_crossed": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "penicillin", True),
    # confint(lmer(y ~ x + (1 | therapist/patient), therapy), method = "profile")
    "therapy_nested": ("y ~ x + (1 | therapist/patient)", "therapy", True),
}
SLOW = {
    # confint(lmer(y ~ x + month + (1 | therapist) + (1 + month | therapist:patient), therapy2),
    #         method = "profile")
    "therapy2_slope": ("y ~ x + month + (1 | therapist) + (1 + month | therapist:patient)",
                       "therapy2", True),
}
_FITS: dict = {}


def _fit(key):
    if key not in _FITS:
        f, d, reml = {**CASES, **SLOW}[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITS[key] = mixed(f, FR[d], reml=reml)
    return _FITS[key]


LEVELS = {0.95: ("ci_lower", "ci_upper"), 0.90: ("ci90_lower", "ci90_upper")}


def _check(key, rtol, levels):
    fit = _fit(key)
    r = R[key]
    # the profile's base: -2 * logLik(refitML(fit))
    assert_allclose(_Profile(fit).base, -2 * r["logLik_ml"], rtol=1e-9)
    for level in levels:
        lo, hi = LEVELS[level]
        ci = fit.confint(method="profile", level=level)
        # rownames(confint(fit, method = "profile"))
        assert list(ci["lme4_name"]) == r["names"]
        ours = ci[["ci_lower", "ci_upper"]].to_numpy()
        ref = np.column_stack([r[lo], r[hi]])
        # an SD whose lower end is 0 (pastes: the batch SD) is exactly 0 in both
        assert_allclose(ours, ref, rtol=rtol, atol=1e-12)
        assert np.all(ci["ci_lower"] <= ci["est"] + 1e-9) and np.all(ci["est"] <= ci["ci_upper"] + 1e-9)
    return fit


@pytest.mark.parametrize("key", list(CASES))
def test_profile_confint_equals_lme4(key):
    # both levels where the 90% ends test something new (a correlation, an SD at 0)
    _check(key, rtol=2e-4, levels=(0.95, 0.90) if key in ("sleep_slope", "pastes_nested")
           else (0.95,))


@pytest.mark.slow
def test_profile_confint_therapy2_slope_near_boundary():
    fit = _fit("therapy2_slope")
    r = R["therapy2_slope"]
    ci = fit.confint(method="profile")
    ours = ci[["ci_lower", "ci_upper"]].to_numpy()
    ref = np.column_stack([r["ci_lower"], r["ci_upper"]])
    sig04 = r["names"].index(".sig04")
    other = np.ones(len(ref), dtype=bool)
    other[sig04] = False
    assert_allclose(ours[other], ref[other], rtol=2e-4)
    assert_allclose(ours[sig04, 1], ref[sig04, 1], rtol=2e-4)
    # lme4's lower end of the therapist SD lies inside ours: the profile deviance increase
    # there is below qchisq(0.95, 1), i.e. lme4's spline overstates it
    P = _Profile(fit)
    dev, _ = P.minimize_given(sig04, ref[sig04, 0], P.opt)
    assert dev - P.base < stats.chi2.ppf(0.95, 1)
    assert ours[sig04, 0] < ref[sig04, 0]


def test_boot_confint_multi_is_seeded_and_brackets_estimates():
    fit = _fit("therapy_nested")
    a = fit.confint(method="boot", nsim=12, seed=11)
    b = fit.confint(method="boot", nsim=12, seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["lme4_name"]) == R["therapy_nested"]["names"]
    assert np.all(a["ci_lower"] < a["ci_upper"])
    # a different seed gives different simulated outcomes
    assert not np.allclose(fit.simulate(seed=11).to_numpy(), fit.simulate(seed=12).to_numpy())
    # the bootstrap interval of the patient SD overlaps lme4's profile interval
    r = R["therapy_nested"]
    assert a["ci_lower"].iloc[0] < r["ci_upper"][0] and a["ci_upper"].iloc[0] > r["ci_lower"][0]


def test_simulate_multi_marginal_variance():
    fit = _fit("therapy_nested")
    sims = fit.simulate(nsim=300, seed=5)
    assert sims.shape == (fit.nobs, 300)
    total = float(fit.random_effects["variance"].sum())
    resid = sims.to_numpy() - fit.predict(re_form="~0").to_numpy()[:, None]
    assert abs(resid.var() / total - 1) < 0.1
    pd.testing.assert_frame_equal(sims.iloc[:, :3], fit.simulate(nsim=3, seed=5))


def test_wald_confint_multi_equals_normal_quantiles():
    fit = _fit("penicillin_crossed")
    ci = fit.confint(method="wald")
    se = np.sqrt(np.diag(fit.vcov.to_numpy()))
    fe = ci.iloc[-1]
    assert_allclose([fe["ci_lower"], fe["ci_upper"]],
                    fit.fixef.to_numpy()[0] + np.array([-1, 1]) * 1.959963984540054 * se[0], rtol=1e-12)
    assert ci["ci_lower"].iloc[:3].isna().all()


@pytest.mark.parametrize("bad", [dict(method="bayes"), dict(level=1.5), dict(method="boot", nsim=1)])
def test_confint_bad_arguments(bad):
    fit = _fit("penicillin_crossed")
    with pytest.raises(ModelSpecificationError):
        fit.confint(**bad)


# ------------------------------------------------------------------ predict with re_form
def _at_theta(formula, data, theta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mixed(formula, data, theta=theta)


def test_predict_re_form_subset_nested_equals_lme4():
    r = RP["nested"]
    fit = _at_theta("y ~ x + (1 | therapist/patient)", FR["therapy"], r["theta"])
    new = pd.DataFrame(r["newdata"])
    # predict(fit1, new1, allow.new.levels = TRUE)
    assert_allclose(fit.predict(new, allow_new_levels=True), r["all_new"], rtol=1e-6)
    # predict(fit1, new1, re.form = ~(1 | therapist), allow.new.levels = TRUE)
    assert_allclose(fit.predict(new, re_form="~(1 | therapist)", allow_new_levels=True),
                    r["therapist_new"], rtol=1e-6)
    # predict(fit1, re.form = ~(1 | therapist))[1:6]
    assert_allclose(fit.predict(re_form="~(1 | therapist)")[:6], r["therapist_head"], rtol=1e-6)
    # predict(fit1, re.form = ~(1 | patient:therapist))[1:6]  (either order of the factors)
    assert_allclose(fit.predict(re_form="~(1 | patient:therapist)")[:6], r["patient_head"], rtol=1e-6)
    assert_allclose(fit.predict(re_form="~(1 | therapist:patient)")[:6], r["patient_head"], rtol=1e-6)
    # predict(fit1, re.form = NA)[1:6]
    assert_allclose(fit.predict(re_form="~0")[:6], r["fixed_head"], rtol=1e-6)
    with pytest.raises(ModelSpecificationError, match="T99"):
        fit.predict(new)
    with pytest.raises(ModelSpecificationError, match=r"\(1 \| month\) is not a term"):
        fit.predict(re_form="~(1 | month)")


def test_predict_re_form_subset_crossed_and_slopes_equal_lme4():
    r = RP["crossed"]
    fit = _at_theta("diameter ~ 1 + (1 | plate) + (1 | sample)", FR["penicillin"], r["theta"])
    new = pd.DataFrame(r["newdata"])
    # predict(fit2, new2, re.form = ~(1 | sample), allow.new.levels = TRUE)
    assert_allclose(fit.predict(new, re_form="~(1 | sample)", allow_new_levels=True),
                    r["sample_new"], rtol=1e-6)
    # predict(fit2, new2, allow.new.levels = TRUE)
    assert_allclose(fit.predict(new, allow_new_levels=True), r["all_new"], rtol=1e-6)
    r = RP["slope"]
    fit = _at_theta("y ~ x + month + (1 | therapist) + (1 + month | therapist:patient)",
                    FR["therapy2"], r["theta"])
    new = pd.DataFrame(r["newdata"])
    # predict(fit3, new3, re.form = ~(1 + month | therapist:patient))
    assert_allclose(fit.predict(new, re_form="~(1 + month | therapist:patient)"),
                    r["patient_new"], rtol=1e-6)
    # predict(fit3, new3)
    assert_allclose(fit.predict(new), r["all_new"], rtol=1e-6)
    with pytest.raises(ModelSpecificationError, match="not a term"):
        fit.predict(new, re_form="~(1 | therapist:patient)")     # the model's term has a slope


def test_predict_re_form_one_factor():
    fit = _fit("sleep_slope")
    assert_allclose(fit.predict(re_form="~(Days | Subject)"), fit.predict(), rtol=1e-12)
    with pytest.raises(ModelSpecificationError, match="not a term"):
        fit.predict(re_form="~(1 | Subject)")


# ------------------------------------------------------------------ type III anova
RA = json.loads((DATA / "r_results" / "multilevel" / "multi_anova.json").read_text())


def test_anova_type3_multi_equals_lmertest():
    d = FR["therapy2"].assign(phase=np.where(FR["therapy2"]["month"] < 5, "early", "late"))
    fit = _at_theta("y ~ x * phase + month + (1 | therapist) + (1 + month | therapist:patient)",
                    d, RA["theta"])
    a = fit.anova()
    # anova(fit, type = 3): rownames, Sum Sq, NumDF, DenDF, F value, Pr(>F)
    names = {"phase[late]": "phase", "x:phase[late]": "x:phase"}
    assert [names.get(t, t) for t in a["term"]] == RA["terms"]
    assert_allclose(a["f_value"], RA["f_value"], rtol=1e-5)
    assert_allclose(a["den_df"], RA["den_df"], rtol=1e-4)
    assert_allclose(a["sum_sq"], RA["sum_sq"], rtol=1e-5)
    assert_allclose(a["p_value"], RA["p_value"], rtol=1e-4)
    assert list(a["num_df"]) == RA["num_df"]
    # anova(fit, type = 3, ddf = "Kenward-Roger"): F value, DenDF, Sum Sq
    k = fit.anova(ddf="kenward-roger")
    assert_allclose(k["f_value"], RA["kr_f_value"], rtol=1e-5)
    assert_allclose(k["den_df"], RA["kr_den_df"], rtol=1e-4)
    assert_allclose(k["sum_sq"], RA["kr_sum_sq"], rtol=1e-5)
    # summary(fit, ddf = "Kenward-Roger")$coefficients: Std. Error, df
    ct = fit.coef_table(ddf="kenward-roger")
    assert_allclose(ct["se"], RA["kr_se"], rtol=1e-5)
    assert_allclose(ct["df"], RA["kr_df"], rtol=1e-4)
    with pytest.raises(ModelSpecificationError, match="'satterthwaite' or 'kenward-roger'"):
        fit.anova(ddf="containment")


# ------------------------------------------------------------------ prior weights
RW = json.loads((DATA / "r_results" / "multilevel" / "multi_weights.json").read_text())


@pytest.mark.parametrize("key,reml", [("reml", True), ("ml", False)])
def test_weights_multi_equal_lmertest(key, reml):
    d = FR["therapy"].assign(w=1 + (FR["therapy"]["month"] % 3) / 2)
    r = RW[key]
    f = "y ~ x + (1 | therapist/patient)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mixed(f, d, weights="w", reml=reml)
        at = mixed(f, d, weights="w", reml=reml, theta=r["theta"])
    # our optimum: logLik not below lme4's; the ML therapist theta is on a flat ridge (lme4's
    # default stopping leaves its logLik 1.4e-8 lower), so theta agree to 1e-4 there
    assert fit.loglik >= r["logLik"] - 1e-9
    assert_allclose(fit.theta.to_numpy(), r["theta"], rtol=1e-4)
    # at lme4's theta: sigma(fit), fixef(fit), SEs, Satterthwaite df, logLik, AIC, fitted
    assert_allclose(at.sigma, r["sigma"], rtol=1e-7)
    assert_allclose(at.fixef.to_numpy(), r["fixef"], rtol=1e-7)
    assert_allclose(at.fixed_effects["se"], r["se"], rtol=1e-6)
    assert_allclose(at.fixed_effects["df"], r["df"], rtol=1e-4)
    assert_allclose(at.loglik, r["logLik"], rtol=1e-11)
    assert_allclose(at.aic, r["AIC"], rtol=1e-11)
    assert_allclose(at.fitted().to_numpy()[:5], r["fitted_head"], rtol=1e-7)
    sims = fit.simulate(nsim=2, seed=1)
    assert sims.shape == (fit.nobs, 2)
    bad = d.assign(w=np.where(d.index == 3, -1.0, d["w"]))
    with pytest.raises(ModelSpecificationError, match="negative"):
        mixed(f, bad, weights="w")
