"""GLMMs with several grouping factors (issue 22): lme4's grouseticks, Poisson, Laplace,
``TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)``.

References: tests/data/r_scripts/multilevel/glmm_multi.R -> glmm_multi.json (lme4 1.1-31
``glmer``, default control, a tight bobyqa run, and for the centred height a "polished" refit
from lme4's own estimates with an exact PIRLS and nloptwrap's tight tolerances).

Our Laplace deviance is lme4's: evaluated at lme4's tight estimates it equals lme4's
``-2 logLik`` to 1e-10 (relative). Our optimum is not below any of lme4's (logLik never lower);
it is lower than lme4's default fit by 5e-8 (centred height) and 5e-5 (raw height, where lme4
warns "Rescale variables?") deviance units. The optimum is flat along the fixed effects
(INDEX is an observation-level random effect), so lme4's default estimates differ from the
exact optimum by up to 4e-5 (relative); the estimates are compared with the polished lme4 fit.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.multilevel import compare, mixed
from psychometrics.multilevel._glmm_multi import MultiGlmmResult

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "glmm_multi.json").read_text())
GT = pd.read_csv(DATA / "datasets" / "grouseticks.csv")
GT["YEAR"] = GT["YEAR"].astype(str)
F_RAW = "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"
F_C = "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"
_FITS: dict = {}


def _fit(formula):
    if formula not in _FITS:
        _FITS[formula] = mixed(formula, GT, family="poisson")
    return _FITS[formula]


def test_grouseticks_centred_equals_glmer():
    fit = _fit(F_C)
    assert isinstance(fit, MultiGlmmResult) and fit.converged and not fit.singular
    ref = R["grouse3_c"]["polished"]
    # names(getME(fit, "theta")); ngrps(fit)
    assert list(fit.theta.index) == ref["theta_names"]
    assert fit.ngroups == ref["ngrps"]
    # getME(fit, "theta"); fixef(fit)
    assert_allclose(fit.theta.to_numpy(), ref["theta"], rtol=1e-5)
    # (the intercept, 0.37, differs by 5e-6 absolute = 1.5e-5 relative: a flat optimum)
    assert_allclose(fit.fixef.to_numpy(), ref["fixef"], rtol=2e-5)
    # sqrt(diag(vcov(fit)))  (finite-difference Hessian, as lme4's deriv12); lme4's default fit:
    # its vcov of the polished fit fell back to RX ("finite-difference Hessian is not positive
    # definite", see the R log), so that one is not the Hessian-based value
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), R["grouse3_c"]["default"]["se"],
                    rtol=1e-4)
    # logLik(fit): never below any of lme4's fits
    for key in ("default", "tight", "polished"):
        assert fit.loglik >= R["grouse3_c"][key]["loglik"] - 1e-9
    assert_allclose(fit.loglik, ref["loglik"], rtol=1e-7)   # lme4 reports its deviance 4.7e-5 high
    assert fit.npar == ref["df"]
    # as.data.frame(VarCorr(fit))$vcov
    vc = {(r["grp"]): r["vcov"] for r in ref["varcorr"]}
    ours = fit.random_effects.set_index("group")["variance"]
    for g, v in vc.items():
        assert_allclose(ours[g], v, rtol=2e-5)
    # head(ranef(fit)$BROOD), $LOCATION, $INDEX
    assert_allclose(fit.ranef["BROOD"].to_numpy()[:5, 0], ref["ranef_brood_head"], rtol=1e-4, atol=1e-6)
    assert_allclose(fit.ranef["LOCATION"].to_numpy()[:5, 0], ref["ranef_location_head"], rtol=1e-4, atol=1e-6)
    # head(predict(fit)); head(predict(fit, re.form = ~(1 | BROOD)))  (5e-5: the flat optimum
    # moves the intercept by 5e-6 and the modes with it)
    assert_allclose(fit.predict().to_numpy()[:6], ref["predict_link_head"], rtol=5e-5)
    assert_allclose(fit.predict(re_form="~(1 | BROOD)").to_numpy()[:6],
                    ref["predict_brood_only_head"], rtol=5e-5)
    # summary(fit)$coefficients[, "z value"]
    # (lme4's default fit: its Hessian-based vcov, see above)
    assert_allclose(fit.fixed_effects["z"].to_numpy(), R["grouse3_c"]["default"]["coef_z"], rtol=1e-4)
    assert "rate_ratio" in fit.to_frame().columns
    assert "Laplace" in fit.summary().as_text()


def test_laplace_deviance_is_lme4s():
    fit = _fit(F_C)
    core = fit._core
    ref = R["grouse3_c"]["tight"]
    core._u = np.zeros(core.Q)
    # -2 * logLik(fit) at lme4's (theta, beta) (tight bobyqa run: lme4's PIRLS exact there)
    assert_allclose(core.deviance(np.array(ref["theta"]), np.array(ref["fixef"])),
                    -2 * ref["loglik"], rtol=1e-10)
    # the polished lme4 point is our optimum to 1e-10 (lme4 reports its deviance 4.7e-5 high)
    ref = R["grouse3_c"]["polished"]
    core._u = np.zeros(core.Q)
    d = core.deviance(np.array(ref["theta"]), np.array(ref["fixef"]))
    assert d >= -2 * fit.loglik - 1e-9
    assert_allclose(d, -2 * fit.loglik, rtol=1e-10)


def test_grouseticks_raw_height_not_below_glmer():
    # lme4 warns "Model is nearly unidentifiable: very large eigenvalue - Rescale variables?"
    fit = _fit(F_RAW)
    assert fit.converged
    for key in ("default", "tight"):
        ref = R["grouse3"][key]
        assert fit.loglik >= ref["loglik"] - 1e-9
    # the same model as the centred one (HEIGHT shifted): same likelihood and variances
    c = _fit(F_C)
    assert_allclose(fit.loglik, c.loglik, rtol=1e-9)
    assert_allclose(fit.theta.to_numpy(), c.theta.to_numpy(), rtol=1e-4)
    assert_allclose(fit.fixef.to_numpy()[1:], c.fixef.to_numpy()[1:], rtol=1e-4)


def test_compare_glmm_multi():
    # anova(glmer(... (1 | BROOD) + (1 | INDEX) ...), fit): a likelihood-ratio test of LOCATION
    small = mixed("TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX)", GT, family="poisson")
    tab = compare(small, _fit(F_C))
    assert tab["df"].iloc[1] == 1 and tab["chisq"].iloc[1] >= 0


def test_glmm_multi_bad_input():
    with pytest.raises(ModelSpecificationError, match="nagq"):
        mixed(F_C, GT, family="poisson", nagq=5)
    bad = GT.assign(TICKS=GT["TICKS"] - 0.5)
    with pytest.raises(ModelSpecificationError, match="whole number"):
        mixed(F_C, bad, family="poisson")
    with pytest.raises(ModelSpecificationError, match="negative binomial"):
        mixed(F_C, GT, family="negative_binomial")


def test_wald_confint_glmm_multi():
    fit = _fit(F_C)
    ci = fit.confint(method="wald")
    se = np.sqrt(np.diag(fit.vcov.to_numpy()))
    fe = ci.iloc[fit._core.k:]
    assert_allclose(fe["ci_lower"], fit.fixef.to_numpy() - 1.959963984540054 * se, rtol=1e-12)
    # confint(fit, method = "Wald")[fixed rows]  (lme4's default fit: its intercept is 1.6e-5
    # from the exact optimum, see the module docstring, hence atol 5e-5)
    ref = json.loads((DATA / "r_results" / "multilevel" / "glmm_multi_profile.json").read_text())
    assert_allclose(fe["ci_lower"], ref["wald_lower"], rtol=1e-4, atol=5e-5)
    assert_allclose(fe["ci_upper"], ref["wald_upper"], rtol=1e-4, atol=5e-5)
    with pytest.raises(ModelSpecificationError, match="boot"):
        fit.confint(method="boot")


@pytest.mark.slow
def test_profile_confint_glmm_multi_equals_lme4():
    # confint(fit, method = "profile")  (tests/data/r_scripts/multilevel/glmm_multi_profile.R);
    # theta rows are lme4's .sig01.. (the relative SDs of a GLMM), then the fixed effects
    ref = json.loads((DATA / "r_results" / "multilevel" / "glmm_multi_profile.json").read_text())
    ci = _fit(F_C).confint(method="profile")
    ours = ci[["ci_lower", "ci_upper"]].to_numpy()
    theirs = np.column_stack([ref["ci_lower"], ref["ci_upper"]])
    # lme4 inverts a spline of its profile and its PIRLS stops at 1e-7; the ends agree to 1.3e-4
    # relative (7.7e-5 absolute for the intercept's lower end near 0)
    assert_allclose(ours, theirs, rtol=2e-4, atol=1e-4)
