"""multilevel_reliability(..., cluster="therapist"): patients nested in therapists (issue 23).

No psych equivalent; the variance components are lme4's. Data and reference:
tests/data/r_scripts/mlrel/therapist_reference.R (simulates 8 therapists x 5 patients x 6 months
x 6 items, 4% missing, writes tests/data/r_results/mlrel/therapist_sim.csv) ->
tests/data/r_results/mlrel/therapist_reference.json (lme4 1.1-31).
"""
from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import MLREL, shrout
from psychometrics.exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from psychometrics.reliability import multilevel_reliability

REF = json.loads((MLREL / "therapist_reference.json").read_text())
ITEMS = [f"item_{j}" for j in range(1, 7)]
# lme4's group names -> ours
CROSSED = {"therapist": "cluster", "therapist:items": "cluster:items", "id": "id", "time": "time",
           "items": "items", "id:time": "id:time", "id:items": "id:items",
           "items:time": "time:items", "Residual": "residual"}
NESTED = {"therapist": "cluster", "id": "id", "id:time": "time_in_id", "Residual": "residual"}


def data() -> pd.DataFrame:
    return pd.read_csv(MLREL / "therapist_sim.csv", na_values=["NA"])


@lru_cache(maxsize=None)
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)     # the 4% missing values
        return multilevel_reliability(data(), "patient_id", "month", ITEMS, cluster="therapist")


def test_crossed_components_equal_lme4():
    # lmer(values ~ 1 + (1|therapist) + (1|therapist:items) + (1|id) + (1|time) + (1|items)
    #      + (1|id:time) + (1|id:items) + (1|items:time), d, REML = TRUE)
    res = fitted()
    ours = res.components.set_index("component")["variance"]
    assert set(ours.index) == set(CROSSED.values()) | {"total"}
    for grp, value in REF["vcov"].items():
        # as.data.frame(VarCorr(m))$vcov
        assert_allclose(ours[CROSSED[grp]], value, rtol=1e-4, err_msg=grp)
    # REMLcrit(m): ours never worse (beyond rounding)
    assert res.crossed_fit.reml_criterion <= REF["REMLcrit"] + 1e-10 * abs(REF["REMLcrit"])
    assert_allclose(res.crossed_fit.reml_criterion, REF["REMLcrit"], rtol=1e-9)
    # fixef(m)
    assert_allclose(res.crossed_fit.intercept, REF["fixef"], rtol=1e-6)
    assert res.converged and not res.singular
    assert res.n_clusters == 8 and res.cluster == "therapist" and res.n_persons == 40


def test_nested_components_equal_lme4():
    # lmer(values ~ 1 + (1|therapist) + (1|id) + (1|id:time), d, REML = TRUE)
    R = REF["nested"]
    res = fitted()
    ours = res.nested_components.set_index("component")["variance"]
    for grp, value in R["vcov"].items():
        # as.data.frame(VarCorr(mn))$vcov
        assert_allclose(ours[NESTED[grp]], value, rtol=1e-4, err_msg=grp)
    # REMLcrit(mn)
    assert res.nested_fit.reml_criterion <= R["REMLcrit"] + 1e-10 * abs(R["REMLcrit"])


def test_coefficients_from_lme4_components():
    # the documented formulas evaluated with lme4's components (t = 6 months, k = 6 items,
    # m = 40 / 8 = 5 patients per therapist)
    v = {CROSSED[g]: x for g, x in REF["vcov"].items()}
    n = {NESTED[g]: x for g, x in REF["nested"]["vcov"].items()}
    t, k, m = 6.0, 6.0, 5.0
    true_c = v["cluster"] + v["cluster:items"] / k
    true_p = v["id"] + v["id:items"] / k
    true = true_c + true_p
    d1 = true + v["time"] + v["id:time"] + v["residual"] / k
    expected = {
        "RkF": true / (true + v["residual"] / (t * k)),
        "R1R": true / d1,
        "RkR": true / (true + v["time"] / t + v["id:time"] / t + v["residual"] / (t * k)),
        "Rc": v["id:time"] / (v["id:time"] + v["residual"] / k),
        "RkRn": (n["cluster"] + n["id"]) / (n["cluster"] + n["id"] + n["time_in_id"] / t
                                            + n["residual"] / (t * k)),
        "Rcn": n["time_in_id"] / (n["time_in_id"] + n["residual"] / k),
        "icc_cluster": true_c / d1,
        "icc_patient": true_p / d1,
        "RkF_cluster": true_c / (true_c + true_p / m + v["residual"] / (m * t * k)),
        "RkRn_cluster": n["cluster"] / (n["cluster"] + n["id"] / m + n["time_in_id"] / (m * t)
                                        + n["residual"] / (m * t * k)),
    }
    res = fitted()
    table = res.coefficients.set_index("coefficient")["value"]
    assert list(table.index) == list(expected)
    for name, value in expected.items():
        assert_allclose(table[name], value, rtol=1e-4, err_msg=name)
        assert_allclose(getattr(res, name), table[name], rtol=0)
    assert_allclose(res.icc_cluster + res.icc_patient, res.R1R, rtol=1e-12)


def test_patient_coefficients_close_to_the_model_without_therapists():
    # the therapist components are part of the patient's stable score: the patient
    # coefficients estimate what the two-level analysis estimates (not equal: other model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        two = multilevel_reliability(data(), "patient_id", "month", ITEMS)
    three = fitted()
    for name in ("RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn"):
        assert abs(getattr(three, name) - getattr(two, name)) < 0.02, name
    assert two.cluster is None and two.icc_cluster is None
    assert "icc_cluster" not in set(two.coefficients["coefficient"])


def test_long_input_gives_the_same_fit():
    from psychometrics.reliability import multilevel_reliability_long
    long = data().melt(id_vars=["therapist", "patient_id", "month"], value_vars=ITEMS,
                       var_name="item", value_name="y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        res = multilevel_reliability_long(long, "patient_id", "month", "item", "y",
                                          cluster="therapist")
    wide = fitted()
    assert_allclose(res.crossed_fit.reml_criterion, wide.crossed_fit.reml_criterion, rtol=1e-12)
    assert_allclose(res.coefficients["value"], wide.coefficients["value"], rtol=1e-6)


def test_summary_names_the_cluster():
    text = fitted().summary().as_text()
    assert "Clusters (therapist): 8" in text
    assert "therapist x items" in text and "icc_cluster" in text


# ------------------------------------------------------------------------ bad input
def _small():
    d = shrout().copy()
    d["therapist"] = np.where(d["Person"] <= 2, "A", "B")
    return d


def _fit_small(d, **kw):
    return multilevel_reliability(d, "Person", "Time", ["Item1", "Item2", "Item3"], **kw)


def test_patient_id_under_two_therapists_is_an_error_naming_it():
    d = _small()
    d.loc[(d["Person"] == 3) & (d["Time"] == 1), "therapist"] = "A"
    with pytest.raises(DataValidationError, match=re.escape("3 (under 'A', 'B')")) as err:
        _fit_small(d, cluster="therapist")
    assert "nested" in str(err.value)
    assert "data['Person'] = data['therapist'].astype(str)" in err.value.hint


def test_therapist_with_a_single_patient_warns():
    d = _small()
    d["therapist"] = np.where(d["Person"] == 1, "A", "B")
    with pytest.warns(DataQualityWarning, match=r"1 therapist\(s\) have a single patient \('A'\)"):
        res = _fit_small(d, cluster="therapist")
    assert res.n_clusters == 2


def test_missing_therapist_is_an_error_naming_the_row():
    d = _small().astype({"therapist": object})
    d.loc[4, "therapist"] = None
    with pytest.raises(DataValidationError, match="cluster column 'therapist' has 1 missing") as err:
        _fit_small(d, cluster="therapist")
    assert [i.row for i in err.value.issues] == [5]


def test_one_patient_per_therapist_everywhere_is_an_error():
    d = _small()
    d["therapist"] = d["Person"].map(lambda p: f"T{p}")
    with pytest.raises(ModelSpecificationError, match="Every therapist has a single patient"):
        _fit_small(d, cluster="therapist")


def test_one_therapist_is_an_error():
    d = _small().assign(therapist="A")
    with pytest.raises(ModelSpecificationError, match="1 distinct value; at least 2 clusters"):
        _fit_small(d, cluster="therapist")


def test_unknown_cluster_column_and_aov():
    with pytest.raises(DataValidationError, match="'cluster' argument .*'nope'"):
        _fit_small(_small(), cluster="nope")
    with pytest.raises(ModelSpecificationError, match="'cluster' argument needs method='lmer'"):
        _fit_small(_small(), cluster="therapist", method="aov")
    with pytest.raises(ModelSpecificationError, match="cluster' column 'Item1'"):
        _fit_small(_small(), cluster="Item1")
