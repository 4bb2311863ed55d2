"""Bad input gives clear errors naming the thing at fault; Heywood cases and
non-convergence are reported with the package's warning classes and flags."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from refdata import dataset
from psychometrics.efa import (
    FactorAnalysis,
    bartlett,
    fa,
    kmo,
    omega,
    parallel_analysis,
    velicer_map,
)
from psychometrics.efa.rotation import gpf_oblique, gpf_orthogonal
from psychometrics.exceptions import (
    ConvergenceWarning,
    DataValidationError,
    HeywoodCaseWarning,
    IdentificationError,
    ModelSpecificationError,
    NotPositiveDefiniteError,
)


def X() -> pd.DataFrame:
    return dataset("bfi").iloc[:, :25].dropna().reset_index(drop=True)


def test_too_many_factors_for_the_items():
    # 5 items identify at most 2 factors (dof = 10 - 5k + k(k-1)/2)
    with pytest.raises(IdentificationError, match=r"n_factors=3 .* -2 degrees of freedom.*"
                                                  r"at most 2 factor"):
        fa(X().iloc[:, :5], n_factors=3)


def test_more_factors_than_items():
    with pytest.raises(IdentificationError, match="n_factors=6 is more than the number of "
                                                  r"items \(5\)"):
        fa(X().iloc[:, :5], n_factors=6, method="pc")


def test_singular_correlation_matrix_names_items():
    d = X().iloc[:, :6].copy()
    d["SUM"] = d["A1"] + d["A2"]          # exact linear dependency
    with pytest.raises(NotPositiveDefiniteError, match=r"singular.*A1.*|singular.*SUM"):
        fa(d, n_factors=1)
    with pytest.raises(NotPositiveDefiniteError, match="SUM"):
        kmo(d)


def test_singular_matrix_can_be_smoothed():
    d = X().iloc[:, :6].copy()
    d["SUM"] = d["A1"] + d["A2"]
    res = fa(d, n_factors=1, smooth=True)
    assert res.smoothed
    assert np.isfinite(res.loadings.to_numpy()).all()


def test_item_without_variance_is_named():
    d = X().iloc[:, :6].copy()
    d["CONST"] = 3.0
    with pytest.raises(DataValidationError, match=r"'CONST'.*cannot be factor analysed") as ei:
        fa(d, n_factors=1)
    assert ei.value.issues[0].column == "CONST"
    assert "no variance" in str(ei.value)


def test_too_few_rows():
    with pytest.raises(DataValidationError, match="Too few rows.*2 row"):
        fa(X().iloc[:2, :6], n_factors=1)
    # fewer rows than items: the correlation matrix is singular, and the message says why
    with pytest.raises(NotPositiveDefiniteError, match="only 10 rows for 25 items"):
        fa(X().iloc[:10], n_factors=2)


def test_non_numeric_column_is_named():
    d = X().iloc[:, :5].astype(object)
    d.loc[3, "A2"] = "agree"
    with pytest.raises(DataValidationError, match="non-numeric") as ei:
        fa(d, n_factors=1)
    # position 3 is data row 4 (1-based, as in every message)
    assert ei.value.issues[0].column == "A2" and ei.value.issues[0].row == 4


@pytest.mark.parametrize("kw, name", [
    (dict(method="minchi"), "'method'"),  # psych fm = "minchi": not offered
    (dict(rotation="equimax"), "'rotation'"),
    (dict(n_factors=0), "'n_factors'"),
    (dict(n_factors=2.5), "'n_factors'"),
    (dict(missing="drop"), "'missing'"),
    (dict(cor="spearman"), "'cor'"),
])
def test_bad_arguments_are_named(kw, name):
    args = dict(n_factors=2)
    args.update(kw)
    with pytest.raises(ModelSpecificationError, match=name):
        fa(X(), **args)


def test_n_obs_only_with_matrix_and_bartlett_needs_it():
    with pytest.raises(ModelSpecificationError, match="n_obs"):
        fa(X(), n_factors=2, n_obs=100)
    R = np.corrcoef(X().to_numpy(float), rowvar=False)
    with pytest.raises(ModelSpecificationError, match="n_obs"):
        bartlett(R)
    with pytest.raises(ModelSpecificationError, match="'n_obs'"):
        fa(R, n_factors=2, n_obs=-3)


def test_poly_needs_raw_data():
    R = np.corrcoef(X().to_numpy(float), rowvar=False)
    with pytest.raises(ModelSpecificationError, match="cor='poly' needs raw item responses"):
        fa(R, n_factors=2, cor="poly", n_obs=100)


def test_covariance_matrix_is_rejected_with_advice():
    S = np.cov(X().to_numpy(float), rowvar=False)
    with pytest.raises(ModelSpecificationError, match="covariance matrix"):
        fa(S, n_factors=2)


def test_other_functions_validate():
    with pytest.raises(ModelSpecificationError, match="'criterion'"):
        parallel_analysis(X(), criterion="median")
    with pytest.raises(ModelSpecificationError, match="'n_iter'"):
        parallel_analysis(X(), n_iter=0)
    with pytest.raises(ModelSpecificationError, match="'max_components'"):
        velicer_map(X(), max_components=0)
    with pytest.raises(ModelSpecificationError, match="oblique rotation"):
        omega(X(), rotation="varimax")
    with pytest.raises(ModelSpecificationError, match="'method'"):
        omega(X(), method="pc")


# --------------------------------------------------------------------------- Heywood
def heywood_matrix():
    # positive definite, but one factor implies l_a^2 = r_ab r_ac / r_bc = 0.64/0.5 > 1
    return pd.DataFrame([[1, .8, .8, .3], [.8, 1, .5, .3], [.8, .5, 1, .3], [.3, .3, .3, 1]],
                        index=list("abcd"), columns=list("abcd"), dtype=float)


@pytest.mark.parametrize("method", ["ml", "minres"])
def test_heywood_case_is_warned_and_flagged(method):
    with pytest.warns(HeywoodCaseWarning, match="'?a'?"):
        res = fa(heywood_matrix(), n_factors=1, method=method, n_obs=200)
    assert res.heywood
    assert "a" in res.heywood_items


def test_no_heywood_flag_on_a_proper_solution():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", HeywoodCaseWarning)
        res = fa(X(), n_factors=5, method="ml")
    assert not res.heywood and res.heywood_items == ()


# --------------------------------------------------------------------------- convergence
def test_principal_axis_iteration_limit_warns():
    with pytest.warns(ConvergenceWarning, match="pa extraction did not converge"):
        res = FactorAnalysis(n_factors=5, method="pa", max_iter=2).fit(X())
    assert not res.converged


def test_rotation_iteration_limit_warns():
    L = fa(X(), n_factors=5, rotation="none").loadings.to_numpy()
    with pytest.warns(ConvergenceWarning, match="GPFoblq"):
        r = gpf_oblique(L, "quartimin", maxit=3)
    assert not r.converged
    with pytest.warns(ConvergenceWarning, match="GPForth"):
        r = gpf_orthogonal(L, "quartimax", maxit=2)
    assert not r.converged


def test_np_obs_checks():
    R = np.corrcoef(X().to_numpy(float), rowvar=False)
    with pytest.raises(ModelSpecificationError, match="'np_obs'.*25 x 25"):
        fa(R, n_factors=2, np_obs=np.ones((3, 3)))
    with pytest.raises(ModelSpecificationError, match="'np_obs'.*only for a correlation"):
        fa(X(), n_factors=2, np_obs=np.ones((25, 25)))
