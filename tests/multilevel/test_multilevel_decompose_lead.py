"""decompose(), lead()/lag() and the panel checks (closed-form: rtol 1e-10)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from psychometrics.multilevel import decompose, lag, lead

PANEL = pd.DataFrame({
    "pid": ["b", "b", "b", "a", "a", "a", "a", "c"],
    "month": [3, 1, 2, 1, 2, 4, 5, 1],           # patient a skips month 3; rows unsorted
    "x": [3.0, 1.0, 2.0, 10.0, 12.0, np.nan, 20.0, 7.0],
    "y": [30.0, 10.0, 20.0, 1.0, 2.0, 4.0, 5.0, 9.0],
})


def test_decompose_person_means_and_centring():
    # R: ave(x, pid, FUN = function(v) mean(v, na.rm = TRUE)); x - between
    with pytest.warns(DataQualityWarning, match="single observation|no within"):
        out = decompose(PANEL, "pid", "month", "x")
    pm = {"b": 2.0, "a": 14.0, "c": 7.0}
    expected_between = PANEL["pid"].map(pm).to_numpy()
    assert_allclose(out["x_between"], expected_between, rtol=1e-12)
    assert_allclose(out["x_within"], PANEL["x"] - expected_between, rtol=1e-12, equal_nan=True)
    grand = np.mean(list(pm.values()))       # each patient counted once
    assert_allclose(out["x_between_c"], expected_between - grand, rtol=1e-12)
    assert list(out.index) == list(PANEL.index)   # input order kept


def test_decompose_single_observation_patient_warns():
    with pytest.warns(DataQualityWarning, match="single observation"):
        decompose(PANEL, "pid", "month", "x")


def test_decompose_detrend_matches_per_patient_regression():
    rng = np.random.default_rng(1)
    n_p, n_t = 6, 8
    df = pd.DataFrame({"pid": np.repeat(np.arange(n_p), n_t), "t": np.tile(np.arange(n_t), n_p)})
    df["x"] = rng.normal(size=len(df)) + 0.3 * df["t"] * (df["pid"] - 2)
    out = decompose(df, "pid", "t", "x", detrend=True)
    for p, g in df.groupby("pid"):
        slope, icpt = np.polyfit(g["t"], g["x"], 1)
        resid = g["x"] - (icpt + slope * g["t"])
        assert_allclose(out.loc[g.index, "x_within"], resid, rtol=1e-9, atol=1e-12)
        assert_allclose(out.loc[g.index, "x_between"], g["x"].mean(), rtol=1e-12)


def test_decompose_no_within_variance_warns_naming_column():
    df = pd.DataFrame({"pid": [1, 1, 2, 2], "t": [1, 2, 1, 2], "age": [30.0, 30.0, 40.0, 40.0]})
    with pytest.warns(DataQualityWarning, match="'age' has no within-patient variance"):
        decompose(df, "pid", "t", ["age"])


def test_lead_consecutive_only_never_across_patients():
    res = lead(PANEL, "pid", "month", "y")
    d = res.data
    # b: months 1,2,3 -> leads 20, 30, NaN; a: 1,2,4,5 -> 2, NaN (gap), 5, NaN; c: NaN
    exp = {("b", 1): 20.0, ("b", 2): 30.0, ("b", 3): np.nan, ("a", 1): 2.0, ("a", 2): np.nan,
           ("a", 4): 5.0, ("a", 5): np.nan, ("c", 1): np.nan}
    got = {(p, m): v for p, m, v in zip(d["pid"], d["month"], d["y_lead"])}
    for k, v in exp.items():
        assert (np.isnan(v) and np.isnan(got[k])) or got[k] == v, k
    assert res.n_lost == 4 and res.n_lost_end == 3 and res.n_lost_gap == 1
    assert res.n_lost_missing == 0 and "4 without a value" in res.summary().as_text()


def test_lead_max_gap_and_k():
    res = lead(PANEL, "pid", "month", "y", max_gap=2)
    a = res.data[res.data["pid"] == "a"].sort_values("month")
    assert_allclose(a["y_lead"], [2.0, 4.0, 5.0, np.nan], rtol=0, atol=0,
                    equal_nan=True)
    res2 = lead(PANEL, "pid", "month", "y", k=2)
    b = res2.data[res2.data["pid"] == "b"].sort_values("month")
    assert_allclose(b["y_lead2"], [30.0, np.nan, np.nan], rtol=0, atol=0, equal_nan=True)


def test_lead_counts_missing_neighbour():
    res = lead(PANEL, "pid", "month", "x", max_gap=2)
    # a month 2 -> month 4 has x missing
    assert res.n_lost_missing == 1


def test_lag():
    res = lag(PANEL, "pid", "month", ["y"])
    got = {(p, m): v for p, m, v in zip(res.data["pid"], res.data["month"], res.data["y_lag"])}
    assert got[("b", 2)] == 10.0 and got[("b", 3)] == 20.0 and np.isnan(got[("b", 1)])
    assert np.isnan(got[("a", 4)]) and got[("a", 5)] == 4.0
    assert res.n_lost_end == 3 and res.n_lost_gap == 1


def test_duplicate_patient_time_rows_named():
    bad = pd.concat([PANEL, PANEL.iloc[[1]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"share a \('pid', 'month'\) pair") as ei:
        lead(bad, "pid", "month", "y")
    rows = sorted(i.row for i in ei.value.issues)
    assert rows == [2, 9]      # 1-based data rows (positions 1 and 8)
    assert "data row 2" in str(ei.value)


def test_non_numeric_time_named():
    bad = PANEL.assign(month=PANEL["month"].astype(str).replace({"3": "March"}))
    with pytest.raises(DataValidationError, match="time column 'month' must be numeric") as ei:
        decompose(bad, "pid", "month", "x")
    assert [i.value for i in ei.value.issues] == ["March"]


def test_missing_time_named():
    bad = PANEL.assign(month=PANEL["month"].astype(float))
    bad.loc[2, "month"] = np.nan
    with pytest.raises(DataValidationError, match="missing value") as ei:
        lag(bad, "pid", "month", "y")
    assert ei.value.issues[0].row == 3      # position 2 is data row 3


def test_unknown_column_named():
    with pytest.raises(ModelSpecificationError, match=r"\['oq'\] not found"):
        lead(PANEL, "pid", "month", "oq")


def test_non_numeric_value_column_named():
    bad = PANEL.assign(y=PANEL["y"].astype(str).replace({"20.0": "twenty"}))
    with pytest.raises(DataValidationError, match="Column 'y' must be numeric") as ei:
        lead(bad, "pid", "month", "y")
    assert ei.value.issues[0].value == "twenty"


def test_missing_id_named():
    bad = PANEL.astype({"pid": object})
    bad.loc[4, "pid"] = None
    with pytest.raises(DataValidationError, match="id column 'pid'") as ei:
        decompose(bad, "pid", "month", "y")
    assert ei.value.issues[0].row == 5      # position 4 is data row 5


def test_bad_shift_arguments():
    with pytest.raises(ModelSpecificationError, match="max_gap"):
        lead(PANEL, "pid", "month", "y", max_gap=0)
    with pytest.raises(ModelSpecificationError, match="non-zero integer"):
        lag(PANEL, "pid", "month", "y", k=0)


def test_detrend_needs_time():
    with pytest.raises(ModelSpecificationError, match="detrend=True needs the time column"):
        decompose(PANEL, "pid", None, "y", detrend=True)
