"""Bad input for ordinal models: errors name the variable at fault."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrics.sem as sem
from psychometrics.exceptions import DataValidationError, ModelSpecificationError

MODEL = "f =~ y1 + y2 + y3 + y4"


def _data(seed=1, n=300):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    out = {}
    for k in range(1, 5):
        y = 0.7 * f + rng.normal(scale=0.7, size=n)
        out[f"y{k}"] = np.digitize(y, [-1, 0, 1]) + 1
    return pd.DataFrame(out)


def test_clean_data_fits():
    res = sem.fit(MODEL, _data(), ordered=True)
    assert res.converged


def test_non_integer():
    d = _data().astype(float)
    d.loc[3, "y2"] = 2.5
    with pytest.raises(DataValidationError, match="'y2'.*non-integer"):
        sem.fit(MODEL, d, ordered=True)


def test_too_many_categories():
    d = _data()
    d["y3"] = np.arange(len(d)) % 25
    with pytest.raises(DataValidationError, match="'y3' has 25 categories"):
        sem.fit(MODEL, d, ordered=True)


def test_empty_category():
    d = _data()
    d.loc[d["y1"] == 2, "y1"] = 1
    with pytest.raises(DataValidationError, match=r"'y1' has empty categories \[2\]"):
        sem.fit(MODEL, d, ordered=True)


def test_one_category():
    d = _data()
    d["y2"] = 3
    with pytest.raises(DataValidationError, match="'y2' has only one observed category"):
        sem.fit(MODEL, d, ordered=True)


def test_non_numeric():
    d = _data().astype({"y1": object})
    d.loc[0, "y1"] = "high"
    with pytest.raises(DataValidationError, match="'y1' is not numeric"):
        sem.fit(MODEL, d, ordered=True)


def test_ordered_not_in_model():
    with pytest.raises(ModelSpecificationError, match="'y9'"):
        sem.fit(MODEL, _data(), ordered=["y9"])


def test_mixed_not_supported():
    with pytest.raises(ModelSpecificationError, match="'y3'"):
        sem.fit(MODEL, _data(), ordered=["y1", "y2"])


def test_bad_estimator():
    with pytest.raises(ModelSpecificationError, match="'MLR'"):
        sem.fit(MODEL, _data(), ordered=True, estimator="MLR")


def test_single_group_column_rejected():
    d = _data().assign(g=1)
    with pytest.raises(ModelSpecificationError, match="at least two"):
        sem.fit(MODEL, d, ordered=True, group="g")


def test_listwise_warning_and_summary():
    from psychometrics.exceptions import DataQualityWarning
    d = _data().astype(float)
    d.loc[[0, 5], "y1"] = np.nan
    with pytest.warns(DataQualityWarning, match="2 of 300 rows"):
        res = sem.fit(MODEL, d, ordered=True)
    assert res.n_obs == 298
    text = res.summary().as_text()
    assert "Thresholds:" in text and "y1|t1" in text and "WLSMV" in text


def test_two_empty_cells_error():
    rng = np.random.default_rng(3)
    y1 = rng.integers(1, 3, 200)
    d = pd.DataFrame({"y1": y1, "y2": y1.copy(), "y3": rng.integers(1, 3, 200),
                      "y4": rng.integers(1, 3, 200)})
    with pytest.raises(DataValidationError, match="'y1' x 'y2' has two empty cells"):
        sem.fit(MODEL, d, ordered=True)


def test_ordered_false_or_empty_is_ml():
    from psychometrics.sem.results import SEMResult
    d = _data().astype(float)
    assert isinstance(sem.fit(MODEL, d, ordered=False), SEMResult)
    assert isinstance(sem.fit(MODEL, d, ordered=[]), SEMResult)


def test_bad_parameterization():
    with pytest.raises(ModelSpecificationError, match="'gamma'"):
        sem.fit(MODEL, _data(), ordered=True, parameterization="gamma")


def test_comp_rel_sem_tau_eq_not_available():
    res = sem.fit(MODEL, _data(), ordered=True)
    with pytest.raises(ModelSpecificationError, match="tau_eq"):
        sem.comp_rel_sem(res, tau_eq=True)


def test_regression_not_supported():
    d = _data().assign(x=np.arange(300.0))
    with pytest.raises(ModelSpecificationError, match="measurement models only"):
        sem.fit(MODEL + "\nf ~ x", d, ordered=["y1", "y2", "y3", "y4"])


def test_simple_starts_when_ml_start_fails(monkeypatch):
    # the ML start on the polychoric matrix can fail (non-PD matrix); simple starts are used
    import psychometrics.sem.ml as ml

    def broken(*args, **kwargs):
        raise RuntimeError("no ML start")

    ref = sem.fit(MODEL, _data(), ordered=True)
    monkeypatch.setattr(ml, "estimate", broken)
    res = sem.ordinal.fit_ordinal(MODEL, _data(), ordered=True)
    assert res.converged
    np.testing.assert_allclose(res.estimates["est"], ref.estimates["est"], rtol=1e-6, atol=1e-8)


def test_reliability_of_ordinal_fit_points_to_comp_rel_sem():
    res = sem.fit(MODEL, _data(), ordered=True)
    with pytest.raises(ModelSpecificationError, match="comp_rel_sem"):
        sem.reliability(res)
