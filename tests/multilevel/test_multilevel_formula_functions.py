"""lme4 formulas with factors and formula functions, and prior weights, equal to lme4.

References: tests/data/r_scripts/multilevel/formula_functions.R. Each model is checked at lme4's
theta (fixed effects, SEs, sigma, logLik: formulas, tight) and at our optimum (logLik never below
lme4's, estimates close).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning, ModelSpecificationError
from psychometrics.multilevel import mixed
from psychometrics.multilevel._formula import parse_formula

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "formula_functions.json").read_text())
SLEEP = pd.read_csv(DATA / "datasets" / "sleepstudy.csv")
TC = pd.read_csv(DATA / "datasets" / "therapy_conditions.csv")

CASES = {
    # lmer(Reaction ~ poly(Days, 2) + (Days | Subject), sleepstudy)
    "poly": ("Reaction ~ poly(Days, 2) + (Days | Subject)", SLEEP, {}),
    # lmer(log(Reaction) ~ scale(Days) + I(Days^2) + (1 | Subject), sleepstudy)
    "log_scale_I": ("log(Reaction) ~ scale(Days) + I(Days^2) + (1 | Subject)", SLEEP, {}),
    # lmer(Reaction ~ exp(Days / 10) + (1 | Subject), sleepstudy)
    "exp": ("Reaction ~ exp(Days / 10) + (1 | Subject)", SLEEP, {}),
    # lmer(oq ~ (month + I(month^2)) * condition + (1 | patient), therapy_conditions)
    "group_product": ("oq ~ (month + I(month^2)) * condition + (1 | patient)", TC, {}),
    # lmer(oq ~ month * C(condition, contr.sum) + (1 | patient), therapy_conditions)
    "sum_contrasts": ("oq ~ month * C(condition, Sum) + (1 | patient)", TC, {}),
    # lmer(oq ~ 0 + condition + condition:month + (1 | patient), therapy_conditions)
    "no_main_effect": ("oq ~ 0 + condition + condition:month + (1 | patient)", TC, {}),
    # lmer(oq ~ condition + log(month) + (1 + log(month) | patient), therapy_conditions)
    "random_log": ("oq ~ condition + log(month) + (1 + log(month) | patient)", TC, {}),
    # lmer(oq ~ month * condition + (1 | patient), therapy_conditions, weights = weeks)
    "weights": ("oq ~ month * condition + (1 | patient)", TC, {"weights": "weeks"}),
    # lmer(oq ~ month + (month | patient), tc, weights = weeks, REML = FALSE)
    "weights_ml": ("oq ~ month + (month | patient)", TC, {"weights": "weeks", "reml": False}),
}
# R's column names -> ours, where they differ by more than the bracket notation
RENAME = {"C(condition, contr.sum)1": "condition[S.cbt]", "C(condition, contr.sum)2": "condition[S.ipt]",
          "month:C(condition, contr.sum)1": "month:condition[S.cbt]",
          "month:C(condition, contr.sum)2": "month:condition[S.ipt]"}


def _r_name(nm: str) -> str:
    if nm in RENAME:
        return RENAME[nm]
    for lev in ("cbt", "ipt", "waitlist"):
        nm = nm.replace(f"condition{lev}", f"condition[{lev}]")
    return nm.replace("poly(Days, 2)", "poly(Days, 2)")


@pytest.mark.parametrize("key", list(CASES))
def test_at_lme4_theta(key):
    formula, data, kw = CASES[key]
    fit = mixed(formula, data, theta=R[key]["theta"], **kw)
    ref = R[key]
    # names(fixef(fit))
    assert list(fit.fixef.index) == [_r_name(n) for n in ref["fixef_names"]]
    # fixef(fit); sqrt(diag(vcov(fit))); sigma(fit); logLik(fit)
    assert_allclose(fit.fixef.to_numpy(), ref["fixef"], rtol=1e-7, atol=1e-10)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), ref["se"], rtol=1e-7)
    assert_allclose(fit.sigma, ref["sigma"], rtol=1e-8)
    assert_allclose(fit.loglik, ref["loglik"], rtol=1e-10)
    assert fit.n_obs == ref["nobs"]
    # head(fitted(fit), 5)
    assert_allclose(fit.fitted().to_numpy()[:5], ref["fitted_head"], rtol=1e-7)


@pytest.mark.parametrize("key", list(CASES))
def test_at_our_optimum(key):
    formula, data, kw = CASES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        fit = mixed(formula, data, **kw)
    ref = R[key]
    assert fit.loglik >= ref["loglik"] - 1e-7
    assert_allclose(fit.fixef.to_numpy(), ref["fixef"], rtol=1e-4, atol=1e-6)
    assert_allclose(np.sqrt(np.diag(fit.vcov.to_numpy())), ref["se"], rtol=1e-3)


def test_parser_expansions():
    f = parse_formula("y ~ (a + b) * c + (1 + log(x) || g)")
    assert f.terms == (("a",), ("b",), ("c",), ("a", "c"), ("b", "c"))
    assert f.random[0].terms == (("log(x)",),)
    assert parse_formula("y ~ (a + b + c)^2").terms == (
        ("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"))
    assert parse_formula("y ~ a*b - a:b").terms == (("a",), ("b",))
    f = parse_formula("cbind(s, f) ~ x + offset(log(w)) + (1 | g)")
    assert f.response == "cbind(s, f)" and f.offsets == ("log(w)",)
    assert parse_formula("y ~ poly(x, 2) + I(x^2)").terms == (("poly(x, 2)",), ("I(x^2)",))


def test_categorical_declared_order_is_the_reference():
    d = TC.assign(condition=pd.Categorical(TC["condition"], ["waitlist", "cbt", "ipt"]))
    fit = mixed("oq ~ condition + (1 | patient)", d)
    assert list(fit.fixef.index) == ["(Intercept)", "condition[cbt]", "condition[ipt]"]


def test_unknown_function_and_bad_weights():
    with pytest.raises(Exception, match="not supported"):
        mixed("oq ~ sin(month) + (1 | patient)", TC)
    with pytest.raises(ModelSpecificationError, match="non-negative"):
        mixed("oq ~ month + (1 | patient)", TC, weights=-TC["weeks"].to_numpy())
    with pytest.raises(ModelSpecificationError, match="'wk' is not a column"):
        mixed("oq ~ month + (1 | patient)", TC, weights="wk")


def test_gaussian_binary_or_count_outcome_warns():
    with pytest.warns(DataQualityWarning, match="family='binomial'"):
        mixed("improved ~ month + (1 | patient)", TC)
    with pytest.warns(DataQualityWarning, match="family='poisson'"):
        mixed("sessions ~ month + (1 | patient)", TC)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        mixed("oq ~ month + (1 | patient)", TC)        # a continuous outcome: no warning
