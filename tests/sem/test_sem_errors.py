"""Bad input and bad fits: every error/warning names the thing at fault."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrics.sem as sem
from psychometrics.exceptions import (ConvergenceWarning, DataValidationError, HeywoodCaseWarning,
                                      IdentificationError, ModelSpecificationError,
                                      NotPositiveDefiniteError, NotPositiveDefiniteWarning)

from sem_helpers import HS_MODEL

X = [f"x{i}" for i in range(1, 10)]


def test_variable_not_in_data(hs):
    with pytest.raises(ModelSpecificationError, match="'x10'"):
        sem.fit("f =~ x1 + x2 + x10", hs)


def test_group_column_not_in_data(hs):
    with pytest.raises(ModelSpecificationError, match="'schol'"):
        sem.fit(HS_MODEL, hs, group="schol")


def test_non_numeric_variable(hs):
    with pytest.raises(DataValidationError, match="'school'"):
        sem.fit("f =~ x1 + x2 + school", hs)


def test_data_not_a_dataframe(hs):
    with pytest.raises(DataValidationError, match="'data'.*DataFrame"):
        sem.fit(HS_MODEL, hs[X].to_numpy())


def test_singular_sample_covariance_names_variables(hs):
    d = hs.copy()
    d["x10"] = d["x1"] + d["x2"]
    with pytest.raises(NotPositiveDefiniteError, match="x10") as exc:
        sem.fit("f =~ x1 + x2 + x10 + x3", d)
    assert "'x1'" in str(exc.value) and "'x2'" in str(exc.value)


def test_zero_variance_variable(hs):
    d = hs.copy()
    d["x0"] = 1.0
    with pytest.raises(NotPositiveDefiniteError, match="'x0'.*zero variance"):
        sem.fit("f =~ x1 + x2 + x0", d)


def test_negative_df_is_not_identified(hs):
    with pytest.raises(IdentificationError, match="df = -1"):
        sem.fit("f =~ x1 + x2", hs)


def test_latent_without_scale(hs):
    with pytest.raises(IdentificationError, match="'f' has no scale"):
        sem.fit("f =~ NA*x1 + x2 + x3", hs)


def test_empirically_unidentified_names_parameters(hs):
    # two uncorrelated two-indicator factors: df = 2 but not identified
    with pytest.raises(IdentificationError, match="information matrix is singular") as exc:
        sem.fit("f =~ x1 + x2\ng =~ x4 + x5\nf ~~ 0*g", hs)
    msg = str(exc.value)
    assert "Parameters involved:" in msg
    assert ("f=~x2" in msg and "f~~f" in msg) or ("g=~x5" in msg and "g~~g" in msg)


def test_bad_options(hs):
    with pytest.raises(ModelSpecificationError, match="'information'.*'hessian'"):
        sem.fit(HS_MODEL, hs, information="hessian")
    with pytest.raises(ModelSpecificationError, match="'estimator'.*'WLSMV'"):
        sem.fit(HS_MODEL, hs, estimator="WLSMV")
    with pytest.raises(ModelSpecificationError, match="'group_equal'.*group"):
        sem.fit(HS_MODEL, hs, group_equal=["loadings"])
    with pytest.raises(ModelSpecificationError, match="'sample_nobs'"):
        sem.fit(HS_MODEL, sample_cov=hs[X].cov())


def test_non_convergence_is_loud(hs):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = sem.fit(HS_MODEL, hs, max_iter=2)
    assert res.converged is False
    assert res.iterations == 2
    assert res.estimates["se"].isna().all()
    assert res.se_reason.startswith("not computed: the model did not converge")
    assert res.estimates["p_value"].isna().all()
    assert res.vcov is None
    text = res.summary().as_text()
    assert "DID NOT CONVERGE" in text and "NOT valid" in text
    assert "DID NOT CONVERGE" in res.summary().as_html()
    with pytest.warns(ConvergenceWarning):
        res.modification_indices()


def test_heywood_case_warns_by_name():
    # one factor on r12 = r13 = .8, r23 = .4: loading of y1 above 1 (negative residual variance)
    R = np.array([[1.0, 0.8, 0.8, 0.3], [0.8, 1.0, 0.4, 0.3], [0.8, 0.4, 1.0, 0.3],
                  [0.3, 0.3, 0.3, 1.0]])
    S = pd.DataFrame(R, index=["y1", "y2", "y3", "y4"], columns=["y1", "y2", "y3", "y4"])
    with pytest.warns(NotPositiveDefiniteWarning,
                      match=r"residual covariance matrix \(theta\).*negative variance of 'y1'"):
        with pytest.warns(HeywoodCaseWarning, match="'y1'"):
            res = sem.fit("f =~ y1 + y2 + y3 + y4", sample_cov=S, sample_nobs=200)
    assert any("Heywood" in w for w in res.warnings)


def test_listwise_deletion_reported(hs):
    d = hs.copy()
    d.loc[[0, 5], "x3"] = np.nan
    from psychometrics.exceptions import DataQualityWarning
    with pytest.warns(DataQualityWarning, match="2 of 301 rows"):
        res = sem.fit(HS_MODEL, d)
    assert res.n_obs == (299,)


def test_result_is_immutable(hs):
    res = sem.fit(HS_MODEL, hs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.converged = False
    with pytest.raises(TypeError):
        res.fit_measures["chisq"] = 0.0


def test_summary_text_and_html(hs):
    res = sem.fit(HS_MODEL, hs)
    text = res.summary().as_text()
    assert "chisq" in text and "visual" in text and "Converged" in text
    html = res.summary().as_html()
    assert html.startswith("<h3>") and "<table" in html and "visual" in html
    latex = res.summary().as_latex()
    assert "\\begin{tabular}" in latex and "visual" in latex and "\\textasciitilde" in latex
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        str(res.summary())


def test_mlr_moment_formulas_equal_casewise_scores(hs):
    # the MLR first-order information is computed from the data's moments up to order 4;
    # it must equal the mean cross-product of the casewise scores (closed form identity)
    import psychometrics.sem.robust as R
    res = sem.fit(HS_MODEL, hs, group="school", estimator="MLR")
    prob, theta = res._problem, res._theta + 0.01
    for g in range(2):
        s = R._model_scores(prob, theta, g)
        np.testing.assert_allclose(R._model_B0(prob, theta, g), s.T @ s / len(s), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(R.h1_trace(prob, g)[0], R.h1_trace_direct(prob, g)[0],
                                   rtol=1e-10)


def test_mlr_needs_raw_data(hs):
    with pytest.raises(ModelSpecificationError, match="'MLR' needs raw 'data'"):
        sem.fit(HS_MODEL, sample_cov=hs[X].cov(), sample_nobs=301, estimator="MLR")


def test_freed_marker_with_fixed_variance_equals_std_lv(hs):
    # cfa("f =~ NA*x1 + x2 + x3 + x4; f ~~ 1*f") is cfa("f =~ x1 + x2 + x3 + x4", std.lv = TRUE)
    a = sem.fit("f =~ NA*x1 + x2 + x3 + x4\nf ~~ 1*f", hs).estimates.set_index(["lhs", "op", "rhs"])
    b = sem.fit("f =~ x1 + x2 + x3 + x4", hs, std_lv=True).estimates.set_index(["lhs", "op", "rhs"])
    a = a.loc[b.index]
    np.testing.assert_allclose(a["est"], b["est"], rtol=1e-7)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-6)
    a = sem.fit("f =~ NA*x1 + x2 + x3 + x4\nf ~~ 1*f", hs)
    b = sem.fit("f =~ x1 + x2 + x3 + x4", hs, std_lv=True)
    np.testing.assert_allclose(a.fit_measures["chisq"], b.fit_measures["chisq"], rtol=1e-9)


def test_latent_observed_covariance_runs(hs):
    # a covariance between a latent and an observed variable (dummy latent for x7)
    res = sem.fit("visual =~ x1 + x2 + x3\nvisual ~~ x7", hs)
    assert res.converged
    e = res.estimates.set_index(["lhs", "op", "rhs"])
    # saturated in x7's covariances with the indicators' factor: the fit equals a model
    # with x7 as a single-indicator factor correlated with visual
    res2 = sem.fit("visual =~ x1 + x2 + x3\nf7 =~ x7", hs)
    np.testing.assert_allclose(res.fit_measures["chisq"], res2.fit_measures["chisq"], rtol=1e-7)
    assert np.isfinite(e.loc[("visual", "~~", "x7"), "se"])


def test_fiml_on_complete_data_equals_ml_with_means(hs):
    # with no missing value, missing = "ml" is ML with a mean structure
    a = sem.fit(HS_MODEL, hs, missing="ml", information="expected")
    b = sem.fit(HS_MODEL, hs, meanstructure=True)
    np.testing.assert_allclose(a.estimates["est"], b.estimates["est"], rtol=1e-7)
    np.testing.assert_allclose(a.estimates["se"], b.estimates["se"], rtol=1e-6)
    for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "aic", "bic", "gfi"):
        np.testing.assert_allclose(a.fit_measures[k], b.fit_measures[k], rtol=1e-7, err_msg=k)
