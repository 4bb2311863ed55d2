"""Explicit threshold syntax (``x | a*t1 + 0*t2``) in ordinal CFA against lavaan 0.6-14.

References: tests/data/r_scripts/ordinal/ordinal_thresholds.R ->
tests/data/r_results/ordinal/ordinal_thresholds.json (bfi A1..A5, A1 reversed, WLSMV and
DWLS): thresholds made equal across items by labels, fixed thresholds, '==' between
threshold labels, partly labelled thresholds, and the theta parameterization.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import psychometrics.sem as sem
from psychometrics.exceptions import ModelSpecificationError, ModelSyntaxError
from refdata import dataset

REF = json.loads((Path(__file__).parents[1] / "data" / "r_results" / "ordinal" /
                  "ordinal_thresholds.json").read_text())
CASES = ["th_equal_labels", "th_fixed", "th_constraint", "th_partial_labels",
         "th_equal_labels_theta"]
_FITS: dict = {}


def _data():
    d = dataset("bfi")[[f"A{i}" for i in range(1, 6)]].copy()
    d["A1"] = 7 - d["A1"]
    return d


def _fit(name, estimator="WLSMV"):
    key = (name, estimator)
    if key not in _FITS:
        o = REF[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # listwise deletion
            # cfa(model, data = d, ordered = vars, parameterization = ...)
            _FITS[key] = sem.fit(o["model"], _data(), ordered=o["vars"], estimator=estimator,
                                 parameterization=o["parameterization"])
    return _FITS[key]


def _merge(ref_rows, ours):
    ref = pd.DataFrame(ref_rows)
    m = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", suffixes=("_r", ""),
                  indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs"]]
    assert len(ours) == len(ref)
    return m


@pytest.mark.parametrize("estimator", ["WLSMV", "DWLS"])
@pytest.mark.parametrize("name", CASES)
def test_parameter_estimates(name, estimator):
    res = _fit(name, estimator)
    assert res.converged and REF[name]["converged"]
    o = REF[name]
    rows = o["parameterEstimates"] if estimator == "WLSMV" else o["dwls"]["parameterEstimates"]
    m = _merge(rows, res.estimates)
    # parameterEstimates(fit): est, se, z, pvalue, ci.lower, ci.upper, label
    assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)
    z_ok = m["z_r"].notna()
    assert (m["z"].notna() == z_ok).all()
    assert_allclose(m.loc[z_ok, "z"], m.loc[z_ok, "z_r"], rtol=1e-4)
    assert_allclose(m.loc[z_ok, "p_value"], m.loc[z_ok, "pvalue"], rtol=1e-4, atol=1e-12)
    assert_allclose(m["ci_lower"], m["ci.lower"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["ci_upper"], m["ci.upper"], rtol=1e-5, atol=1e-8)
    # lavaan has no label column when the model has no labels
    ref_label = m["label_r"].fillna("") if "label_r" in m else [""] * len(m)
    assert list(ref_label) == list(m["label"])


@pytest.mark.parametrize("name", CASES)
def test_standardized_solution(name):
    res = _fit(name)
    m = _merge(REF[name]["standardizedSolution"], res.standardized_solution())
    # standardizedSolution(fit)
    assert_allclose(m["est_std"], m["est.std"], rtol=1e-5, atol=1e-8)
    assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("estimator", ["WLSMV", "DWLS"])
@pytest.mark.parametrize("name", CASES)
def test_fit_measures(name, estimator):
    res = _fit(name, estimator)
    o = REF[name]
    ref = o["fitMeasures"] if estimator == "WLSMV" else o["dwls"]["fitMeasures"]
    checked = 0
    for key, val in ref.items():
        ours = res.fit_measures[key.replace(".", "_")]   # fitMeasures(fit)[key]
        if val is None:
            assert np.isnan(ours), key
            continue
        assert_allclose(ours, val, rtol=1e-5, atol=1e-10, err_msg=key)
        checked += 1
    assert checked == sum(1 for v in ref.values() if v is not None) > 30


def test_equal_labels_share_one_parameter():
    res = _fit("th_equal_labels")
    e = res.estimates.set_index(["lhs", "op", "rhs"])
    for t in range(1, 6):
        a2, a3 = e.loc[("A2", "|", f"t{t}")], e.loc[("A3", "|", f"t{t}")]
        assert a2["est"] == a3["est"] and a2["label"] == a3["label"] == f"a{t}"
    # 5 shared thresholds: df 10 = 5 (as lavaan) + 5 (A2/A3 thresholds made equal)
    assert res.fit_measures["df"] == 10
    fixed = _fit("th_fixed").estimates.set_index(["lhs", "op", "rhs"])
    assert fixed.loc[("A1", "|", "t1"), "est"] == -1.5 and not fixed.loc[("A1", "|", "t1"), "free"]
    assert fixed.loc[("A2", "|", "t3"), "est"] == 0.0 and fixed.loc[("A2", "|", "t3"), "se"] == 0


def test_thresholds_in_syntax_make_variables_ordered():
    # lavaan: variables with '|' statements are ordered without ordered =
    o = REF["th_equal_labels"]
    model = o["model"] + "\nA1 | t1\nA4 | t1\nA5 | t1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sem.fit(model, _data())
    assert res.options["ordered"] == tuple(o["vars"])
    assert_allclose(res.fit_measures["chisq"], o["fitMeasures"]["chisq"], rtol=1e-5)


@pytest.mark.parametrize("model, err, match", [
    ("agree =~ A1 + A2 + A3\nA1 | a1", ModelSyntaxError, "named t1, t2"),
    ("agree =~ A1 + A2 + A3\nA1 + A2 | t1", ModelSyntaxError, "one variable"),
    ("agree =~ A1 + A2 + A3\nA1 | t6", ModelSpecificationError, "6 observed categories"),
    ("agree =~ A1 + A2 + A3\nA1 | a*t1\nA2 | 0.5*a*t1", ModelSpecificationError,
     "fixed threshold"),
    ("agree =~ A1 + a*A2 + A3\nA1 | a*t1", ModelSpecificationError, "different labels"),
    ("agree =~ A1 + A2 + A3\nA1 | a*t1\nA2 | b*t1\na == 2*b", ModelSpecificationError,
     "only equality between two threshold labels"),
])
def test_threshold_syntax_errors(model, err, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(err, match=match):
            sem.fit(model, _data(), ordered=["A1", "A2", "A3"])


def test_threshold_syntax_with_groups_is_refused():
    d = _data()
    d["g"] = np.arange(len(d)) % 2
    with pytest.raises(ModelSpecificationError, match="single-group"):
        sem.fit("agree =~ A1 + A2 + A3\nA1 | a*t1", d, group="g")
