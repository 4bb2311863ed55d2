"""Formula parsing and bad input to mixed() / progress()."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import (ConvergenceWarning, DataQualityWarning, DataValidationError,
                                      ModelSpecificationError, ModelSyntaxError)
from psychometrics.multilevel import compare, mixed, progress
from psychometrics.multilevel._formula import parse_formula

DATA = Path(__file__).resolve().parents[1] / "data"
SLEEP = pd.read_csv(DATA / "datasets" / "sleepstudy.csv")
RAW = pd.read_csv(DATA / "datasets" / "therapy_sim.csv")
RAW["wai"] = RAW[[f"wai_{i}" for i in range(1, 13)]].mean(axis=1)
RAW["pear"] = RAW[[f"pear_{i}" for i in range(1, 11)]].mean(axis=1)


# --------------------------------------------------------------------------- parser
def test_parse_terms_order_and_expansion():
    f = parse_formula("y ~ a:b + c + a*b + (1 + a || g)")
    assert f.response == "y" and f.intercept
    assert f.terms == (("c",), ("a",), ("b",), ("a", "b"))      # R orders by interaction order
    (rt,) = f.random
    assert rt.group == "g" and rt.uncorrelated and rt.intercept and rt.terms == (("a",),)


def test_parse_no_intercept_and_backticks():
    f = parse_formula("y ~ 0 + `odd name` + C(site)")
    assert not f.intercept
    assert f.terms == (("odd name",), ("C(site)",))
    assert not parse_formula("y ~ x - 1").intercept
    assert parse_formula("y ~ x + (0 + x | g)").random[0].intercept is False


@pytest.mark.parametrize("bad, token", [("y x", "~"), ("y ~ x +", "+"), ("y ~ x $ z", "$"),
                                        ("y ~ (x | g", None), ("a b ~ x", "a b"), ("y ~ ~ x", "~")])
def test_parse_errors_name_token(bad, token):
    with pytest.raises(ModelSyntaxError) as ei:
        parse_formula(bad)
    assert repr(bad) in str(ei.value) or bad in str(ei.value)
    if token is not None:
        assert ei.value.token == token


def test_interaction_column_equals_product():
    d = SLEEP.assign(z=np.sin(SLEEP["Days"]), dz=SLEEP["Days"] * np.sin(SLEEP["Days"]))
    a = mixed("Reaction ~ Days * z + (1 | Subject)", d)
    b = mixed("Reaction ~ Days + z + dz + (1 | Subject)", d)
    assert list(a.fixef.index) == ["(Intercept)", "Days", "z", "Days:z"]
    assert_allclose(a.fixef.to_numpy(), b.fixef.to_numpy(), rtol=1e-8)


# --------------------------------------------------------------------------- mixed() errors
def test_unknown_column_named():
    with pytest.raises(ModelSpecificationError, match="'Dayz' is not a column"):
        mixed("Reaction ~ Dayz + (1 | Subject)", SLEEP)


def test_string_predictor_is_a_factor_like_C():
    # R: a character column in a formula is a factor with treatment contrasts
    d = SLEEP.assign(phase=np.where(SLEEP["Days"] < 5, "early", "late"))
    a = mixed("Reaction ~ phase + (1 | Subject)", d)
    b = mixed("Reaction ~ C(phase) + (1 | Subject)", d)
    assert list(a.fixef.index) == ["(Intercept)", "phase[late]"]
    assert_allclose(a.fixef.to_numpy(), b.fixef.to_numpy(), rtol=1e-12)


def test_non_numeric_column_in_arithmetic_is_named():
    d = SLEEP.assign(phase=np.where(SLEEP["Days"] < 5, "early", "late"))
    with pytest.raises(DataValidationError, match="'phase'.*not numeric"):
        mixed("Reaction ~ log(phase) + (1 | Subject)", d)


def test_no_grouping_factor():
    with pytest.raises(ModelSpecificationError, match="groups="):
        mixed("Reaction ~ Days", SLEEP)


def test_two_grouping_factors_fitted_with_few_levels_warned():
    # several grouping factors are supported since issue 23 (tests in
    # test_multilevel_nested_crossed.py); two levels of one of them are warned about
    d = SLEEP.assign(site=SLEEP["Subject"] % 2)
    with pytest.warns(DataQualityWarning, match="Only 2 levels of 'site'"):
        fit = mixed("Reaction ~ Days + (1 | Subject) + (1 | site)", d)
    assert fit.groups == ("Subject", "site")


def test_too_few_groups_for_covariance():
    d = SLEEP[SLEEP["Subject"].isin([308, 309, 310])]
    with pytest.raises(ModelSpecificationError, match=r"Too few levels of 'Subject' \(3\) for 3"):
        mixed("Reaction ~ Days + (Days | Subject)", d)


def test_too_few_rows_for_random_effects():
    d = SLEEP[SLEEP["Days"] < 2]        # 2 rows per subject, 2 random effects each
    with pytest.raises(ModelSpecificationError, match="Too few observations.*Days"):
        mixed("Reaction ~ Days + (Days | Subject)", d)


def test_single_group_rejected():
    d = SLEEP[SLEEP["Subject"] == 308]
    with pytest.raises(ModelSpecificationError, match="at least 2 patients"):
        mixed("Reaction ~ Days + (1 | Subject)", d)


def test_few_groups_warn():
    d = SLEEP[SLEEP["Subject"].isin([308, 309, 310, 330])]
    with pytest.warns(DataQualityWarning, match="Only 4 levels of 'Subject'"):
        mixed("Reaction ~ Days + (1 | Subject)", d)


def test_rank_deficient_design_names_column():
    d = SLEEP.assign(D2=SLEEP["Days"] * 2)
    with pytest.raises(ModelSpecificationError, match=r"rank deficient.*\['D2'\]"):
        mixed("Reaction ~ Days + D2 + (1 | Subject)", d)


def test_random_slope_without_within_variation():
    d = SLEEP.assign(sub_mean=SLEEP.groupby("Subject")["Days"].transform("mean")
                     + SLEEP["Subject"] % 3)
    with pytest.raises(ModelSpecificationError, match="'sub_mean' does not vary within"):
        mixed("Reaction ~ Days + (1 + sub_mean | Subject)", d)


def test_missing_rows_dropped_and_counted():
    d = SLEEP.copy()
    d.loc[[0, 5, 17], "Reaction"] = np.nan
    fit = mixed("Reaction ~ Days + (1 | Subject)", d)
    assert fit.n_dropped == 3 and fit.n_obs == 177
    ref = mixed("Reaction ~ Days + (1 | Subject)", d.dropna())
    assert_allclose(fit.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-12)


def test_bad_options():
    with pytest.raises(ModelSpecificationError, match="re_cov"):
        mixed("Reaction ~ Days", SLEEP, groups="Subject", re_cov="toeplitz")
    with pytest.raises(ModelSpecificationError, match="reml"):
        mixed("Reaction ~ Days + (1 | Subject)", SLEEP, reml="yes")
    with pytest.raises(ModelSpecificationError, match="theta has 1 value"):
        mixed("Reaction ~ Days + (Days | Subject)", SLEEP, theta=[1.0])
    with pytest.raises(ModelSpecificationError, match="either in the formula"):
        mixed("Reaction ~ Days + (1 | Subject)", SLEEP, re_formula="1 + Days")


def test_compare_needs_same_rows():
    a = mixed("Reaction ~ Days + (1 | Subject)", SLEEP)
    b = mixed("Reaction ~ Days + (1 | Subject)", SLEEP.iloc[:170])
    with pytest.raises(ModelSpecificationError, match="different numbers of rows"):
        compare(a, b)


def test_convergence_warning_when_optimiser_stopped():
    with pytest.warns(ConvergenceWarning, match="failed to converge"):
        fit = mixed_maxiter_1()
    assert not fit.converged and fit.messages


def mixed_maxiter_1():
    # Drive the optimiser into stopping early: one L-BFGS-B iteration, no Newton polish.
    from psychometrics.multilevel import mixed as mx
    import psychometrics.multilevel._lmm as lmm

    orig = lmm.LMMCore.optimize

    def short(self, reml, start=None, maxiter=1000):
        import numpy as np
        theta = np.array([1.0 if r == c else 0.0 for r, c in self.tpos]) * 5.0
        g = self.dev_and_grad(theta, reml)[1]
        return theta, {"converged": False, "message": "stopped after 0 iterations", "grad": g,
                       "rel_grad": g, "nfev": 1, "deviance": np.nan}

    lmm.LMMCore.optimize = short
    try:
        return mx("Reaction ~ Days + (Days | Subject)", SLEEP)
    finally:
        lmm.LMMCore.optimize = orig


# --------------------------------------------------------------------------- progress()
def test_progress_two_predictors_structure():
    res = progress(RAW, "oq_total", ["wai", "pear"], "patient_id", "month")
    assert set(res.models) == {"baseline", "wai", "pear", "joint"}
    assert len(res.effects) == 3 * 2 + 3 * 2
    assert list(res.comparison["model"]) == ["baseline", "wai", "pear", "joint"]
    assert res.comparison["df"].tolist()[1:] == [2.0, 2.0, 4.0]
    assert all(isinstance(s, str) and s.endswith(").") or s.endswith("one.")
               for s in res.sentences())
    w = res.effects[(res.effects["model"] == "wai") & (res.effects["effect"] == "within")].iloc[0]
    assert "1 point above that patient's own average" in w["sentence"]
    assert "lower" in w["sentence"]
    # standardised within effect = b * SD(within) / SD(outcome next)
    dm = res.data[res.data["oq_total_lead"].notna()]
    assert_allclose(w["std_est"], w["est"] * dm["wai_within"].std() / dm["oq_total_lead"].std(),
                    rtol=1e-12)
    assert "Model comparison" in res.summary().as_text()
    assert "Within-patient correlations" in res.correlations.summary().as_text()


def test_progress_random_slopes_matches_case7_slope_model():
    res = progress(RAW, "oq_total", "wai", "patient_id", "month", random_slopes=True, reml=False)
    fit = res.models["wai"]
    # lmer(oq_next ~ wai_within + wai_between + oq_total + (1 + wai_within | patient_id), REML = FALSE)
    ref = json.loads((DATA / "reference" / "case7_within_between.json").read_text())
    assert_allclose(fit.loglik, ref["m2_random_slope_ML"]["logLik"], rtol=1e-10)
    assert list(fit.random_effects["var1"][:2]) == ["(Intercept)", "wai_within"]


def test_progress_detrend_uses_detrended_within():
    res = progress(RAW, "oq_total", "wai", "patient_id", "month", detrend=True)
    from psychometrics.multilevel import decompose
    d = decompose(RAW, "patient_id", "month", "wai", detrend=True)
    assert_allclose(res.data["wai_within"].to_numpy(), d["wai_within"].to_numpy(), rtol=1e-12)
    plain = progress(RAW, "oq_total", "wai", "patient_id", "month")
    assert res.effects["est"].iloc[0] != plain.effects["est"].iloc[0]


def test_progress_without_prior_outcome():
    res = progress(RAW, "oq_total", "wai", "patient_id", "month", control_prior_outcome=False)
    assert "oq_total" not in res.models["wai"].fixef.index
    assert "controlling" not in res.effects["sentence"].iloc[0]


def test_progress_predictor_without_within_variance_named():
    d = RAW.assign(age=RAW["patient_id"] % 7 + 20.0)
    with pytest.raises(ModelSpecificationError, match="'age' has no within-patient variance"):
        progress(d, "oq_total", ["wai", "age"], "patient_id", "month")


def test_progress_duplicate_rows_named():
    d = pd.concat([RAW, RAW.iloc[[10]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="share a"):
        progress(d, "oq_total", "wai", "patient_id", "month")


def test_progress_bad_arguments():
    with pytest.raises(ModelSpecificationError, match="also listed as a predictor"):
        progress(RAW, "oq_total", ["oq_total"], "patient_id", "month")
    with pytest.raises(ModelSpecificationError, match="lag"):
        progress(RAW, "oq_total", "wai", "patient_id", "month", lag=0)
    with pytest.raises(ModelSpecificationError, match="No row has a next assessment"):
        progress(RAW.assign(month=RAW["month"] * 10), "oq_total", "wai", "patient_id", "month")


def test_results_are_frozen():
    import dataclasses
    fit = mixed("Reaction ~ Days + (1 | Subject)", SLEEP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.sigma = 1.0
    res = progress(RAW, "oq_total", "wai", "patient_id", "month")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.effects = None
    assert fit == fit and hash(fit) == hash(fit)      # identity semantics, no DataFrame comparison


def test_random_intercept_near_zero_goes_to_boundary():
    # y has almost no patient-level variance: the single theta is tried at exactly 0
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": rng.normal(size=150)})
    d["y"] = d["x"] + rng.normal(size=150) + 0.01 * rng.normal(size=30)[d["g"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mixed("y ~ x + (1 | g)", d)
        grid = [mixed("y ~ x + (1 | g)", d, theta=[t]).reml_criterion for t in (0.0, 0.01, 0.05, 0.1)]
    assert fit.converged
    assert fit.reml_criterion <= min(grid) + 1e-9
