"""Bad input to fit_irt: clear errors and warnings naming the item or row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from psychometrics.exceptions import (DataQualityWarning, DataValidationError,
                                      ModelSpecificationError, ModelSpecificationWarning)
from psychometrics.irt import fit_irt


def _sim(n=400, J=4, K=4, seed=0):
    rng = np.random.default_rng(seed)
    th = rng.normal(size=n)
    cols = {}
    for j in range(J):
        cuts = np.linspace(-1.2, 1.2, K - 1)
        cols[f"i{j + 1}"] = 1 + (th[:, None] + rng.logistic(size=(n, 1)) * 0.8 > cuts).sum(1)
    return pd.DataFrame(cols).astype(float)


def test_empty_category_names_item_and_category():
    df = _sim()
    df.loc[df["i2"] == 3, "i2"] = 4          # nobody chooses 3 on i2 any more
    with pytest.raises(DataValidationError, match=r"'i2' has empty category 3.*collapse"):
        fit_irt(df)


def test_declared_category_never_chosen():
    df = _sim()
    with pytest.raises(DataValidationError, match=r"'i1' has empty category 5"):
        fit_irt(df, categories={"i1": [1, 2, 3, 4, 5]})


def test_one_observed_category():
    df = _sim()
    df["i3"] = 2.0
    with pytest.raises(DataValidationError, match=r"'i3' has only one observed category \(2\)"):
        fit_irt(df)


def test_respondent_without_responses_warned_and_listed():
    df = _sim()
    df.index = [f"p{i}" for i in range(len(df))]
    df.loc["p7"] = np.nan
    with pytest.warns(DataQualityWarning, match=r"rows p7"):
        res = fit_irt(df)
    assert res.dropped_rows == ("p7",)
    assert res.n_obs == len(df) - 1


def test_too_few_respondents():
    df = _sim(n=10)
    with pytest.raises(DataValidationError, match="Too few respondents"):
        fit_irt(df)


def test_few_respondents_per_parameter_warns():
    df = _sim(n=60)
    with pytest.warns(DataQualityWarning, match="fewer than 5 per parameter"):
        fit_irt(df)


def test_non_integer_response_names_cell():
    df = _sim()
    df.loc[5, "i4"] = 2.5
    with pytest.raises(DataValidationError, match=r"data row 6, column 'i4', value 2.5"):
        fit_irt(df)


def test_text_response_names_cell():
    df = _sim().astype(object)
    df.loc[3, "i1"] = "often"
    with pytest.raises(DataValidationError, match=r"data row 4, column 'i1', value 'often'"):
        fit_irt(df)


def test_missing_raise_and_listwise():
    df = _sim()
    df.loc[2, "i1"] = np.nan
    with pytest.raises(DataValidationError, match=r"data row 3, column 'i1'"):
        fit_irt(df, missing="raise")
    res = fit_irt(df, missing="listwise")
    assert res.dropped_rows == (2,) and res.n_obs == len(df) - 1


def test_unknown_model_and_item():
    df = _sim()
    with pytest.raises(ModelSpecificationError, match="'model' parameter"):
        fit_irt(df, model="rasch")
    with pytest.raises(DataValidationError, match="'zz'"):
        fit_irt(df, items=["i1", "zz"])


@pytest.mark.parametrize("fitter", ["bifactor", "mirt"])
def test_multidimensional_models_share_the_checks(fitter):
    """fit_bifactor and fit_mirt check responses like fit_irt (same messages); the
    bifactor count of parameters includes the second slope of every item."""
    from psychometrics.irt import fit_bifactor, fit_mirt

    def fit(df):
        groups = {"F1": ["i1", "i2"], "F2": ["i3", "i4"]}
        if fitter == "mirt":
            return fit_mirt(df, groups)
        with pytest.warns(ModelSpecificationWarning, match="'F1' has only two items"):
            return fit_bifactor(df, groups)

    df = _sim()
    df.loc[df["i2"] == 3, "i2"] = 4
    with pytest.raises(DataValidationError, match=r"'i2' has empty category 3.*collapse"):
        fit(df)
    df = _sim()
    df["i3"] = 2.0
    with pytest.raises(DataValidationError, match=r"'i3' has only one observed category"):
        fit(df)
    df = _sim(n=16)                          # 16 item parameters (+4 slopes for bifactor)
    with pytest.raises(DataValidationError, match="Too few respondents"):
        fit(df)
    if fitter == "bifactor":
        with pytest.raises(DataValidationError, match=r"20 item parameters"):
            fit(_sim(n=19))
    df = _sim(n=150)
    df.index = [f"p{i}" for i in range(len(df))]
    df.loc["p3"] = np.nan
    with pytest.warns(DataQualityWarning, match=r"rows p3"):
        res = fit(df)
    assert res.responses.dropped_rows == ("p3",) and res.n_obs == len(df) - 1
