"""multilevel_reliability_long: psych's ``long = TRUE`` input.

R: psych::multilevel.reliability(mg$long, grp = "id", Time = "time", items = "items",
                                 values = "values", long = TRUE[, aov = FALSE, lmer = TRUE])
with mg$long the long data psych returns for its shrout example
(tests/data/r_results/mlrel/shrout_long.csv).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import COEFS, MLREL, WAI, fitted, mlrel_reference, psych_components, therapy_sub_missing
from psychometrics.exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from psychometrics.reliability.multilevel import multilevel_reliability_long


def _shrout_long():
    return pd.read_csv(MLREL / "shrout_long.csv")


def _fit_long(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return multilevel_reliability_long(d, "id", "time", "items", "values", **kw)


def test_long_aov_against_psych():
    ref = mlrel_reference()["shrout_long"]["aov"]
    res = _fit_long(_shrout_long(), method="aov")
    # mr$n.obs, mr$n.time, mr$n.items
    assert (res.n_persons, res.n_times, res.n_items) == (ref["n.obs"], ref["n.time"], ref["n.items"])
    for name in ("RkF", "R1R", "RkR", "Rc"):
        # mr$RkF ... mr$Rc (ANOVA: closed form)
        assert_allclose(getattr(res, name), ref[name], rtol=1e-10, err_msg=name)
    for name in ("RkRn", "Rcn"):
        # nlme (psych prints 7 significant digits)
        assert_allclose(getattr(res, name), ref[name], rtol=1e-6, err_msg=name)
    refc = psych_components(ref)
    for row in res.components.itertuples():
        assert_allclose(row.variance, refc[row.psych_label]["variance"], rtol=1e-10)
    for row in res.nested_components.itertuples():
        assert_allclose(row.variance, refc[row.psych_label]["variance"], rtol=1e-6)


def test_long_lmer_against_psych():
    ref = mlrel_reference()["shrout_long"]["lmer"]
    res = _fit_long(_shrout_long())
    for name in COEFS:
        # mr$RkF ... mr$Rcn (lme4/nlme optimiser accuracy, see test_reference_case7.py)
        assert_allclose(getattr(res, name), ref[name], rtol=1e-4, err_msg=name)
    refc = psych_components(ref)
    total = refc["Total"]["variance"]
    for row in res.components.itertuples():
        assert_allclose(row.variance, refc[row.psych_label]["variance"], rtol=0,
                        atol=5e-5 * total, err_msg=row.psych_label)


def test_long_equals_wide_with_missing_values():
    wide = therapy_sub_missing()
    long = wide.melt(id_vars=["patient_id", "month"], value_vars=WAI[:6], var_name="item",
                     value_name="y").sample(frac=1.0, random_state=5)
    with pytest.warns(DataQualityWarning, match="83 values are missing"):
        res = multilevel_reliability_long(long, "patient_id", "month", "item", "y")
    ref = fitted("therapy_sub_missing")
    for name in COEFS:
        assert_allclose(getattr(res, name), getattr(ref, name), rtol=1e-7, err_msg=name)
    assert res.n_missing == ref.n_missing and res.n_observations == ref.n_observations
    assert res.items == tuple(WAI[:6])


def test_long_bad_input():
    d = _shrout_long()
    with pytest.raises(DataValidationError, match="'value' argument .*'nope'"):
        multilevel_reliability_long(d, "id", "time", "items", "nope")
    with pytest.raises(ModelSpecificationError, match="four different columns"):
        multilevel_reliability_long(d, "id", "time", "items", "items")
    one_item = d[d["items"] == "Item1"]
    with pytest.raises(ModelSpecificationError, match="'items' column has 1 distinct value; at least 2 items"):
        multilevel_reliability_long(one_item, "id", "time", "items", "values")
    bad = d.astype({"time": float})
    bad.loc[3, "time"] = np.nan
    with pytest.raises(DataValidationError, match="must not have missing values") as exc:
        multilevel_reliability_long(bad, "id", "time", "items", "values")
    assert [(i.row, i.column) for i in exc.value.issues] == [(4, "time")]  # 1-based data row
    txt = d.astype({"values": str})
    with pytest.raises(DataValidationError, match="value column 'values' is not numeric"):
        multilevel_reliability_long(txt, "id", "time", "items", "values")
    with pytest.raises(TypeError, match="'data' argument of multilevel_reliability_long"):
        multilevel_reliability_long([1, 2], "id", "time", "items", "values")
