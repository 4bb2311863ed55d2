"""validity.retest_analysis against psych::testRetest (psych 2.2.9, lme4 1.1-31).

Reference values: tests/data/r_results/validity/test_retest.json, made by
tests/data/r_scripts/validity/test_retest.R on the shipped example data.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics import validity
from psychometrics.exceptions import DataQualityWarning, DataValidationError

ROOT = Path(__file__).parents[2]
REF = json.loads((ROOT / "tests" / "data" / "r_results" / "validity" / "test_retest.json").read_text())
TIGHT = dict(rtol=1e-10, atol=1e-12)
CASES = {"wai_m1_m2": ([f"wai_{i}" for i in range(1, 13)], (1, 2)),
         "pear_m1_m6_rev": (["pear_1", "pear_2", "-pear_3", "pear_4", "pear_5", "pear_6"], (1, 6))}


@pytest.fixture(scope="module")
def example():
    return pd.read_csv(ROOT / "examples" / "therapy_example.csv")


def _vec(v):
    return np.array([np.nan if x is None else x for x in v], dtype=float)


@pytest.mark.parametrize("case", list(CASES))
def test_retest_analysis_equals_psych(example, case):
    ref = REF[case]
    items, occ = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = validity.retest_analysis(example, items, "patient_id", "month", occ)
    assert res.n_obs == ref["n_obs"] and res.n_items == ref["n_items"]
    assert_allclose(res.r12, ref["r12"], **TIGHT)
    assert_allclose(res.alpha.iloc[:, 1:].to_numpy(float), np.array(ref["alpha"]["values"]),
                    rtol=1e-10, atol=1e-14)
    assert_allclose(res.items[["rii", "pc1", "pc2", "mean1", "mean2", "key"]].to_numpy(float),
                    np.array(ref["item_stats"]["values"], float), rtol=1e-9, atol=1e-12)
    key = [("-" if k < 0 else "") + n for n, k in zip(res.items["item"], res.items["key"])]
    assert key == ref["key"]
    for ours, theirs in [("rqq", "rqq"), ("dxy", "dxy"), ("sd1", "t1sd"), ("sd2", "t2sd"),
                         ("score1", "t1scores"), ("score2", "t2scores")]:
        assert_allclose(res.persons[ours].to_numpy(), _vec(ref[theirs]), rtol=1e-9, atol=1e-12)
    # variance components by REML: lme4 stops at its own tolerance; ours is never worse
    assert res.reml_criterion <= ref["remlcrit"] + 1e-8
    comp = np.array(ref["components"]["values"], float)
    assert_allclose(res.components["variance"].to_numpy(), comp[:, 0], rtol=1e-4, atol=2e-5)
    assert_allclose(res.components["percent"].to_numpy(), comp[:, 1], rtol=1e-4, atol=2e-5)
    for k in ("R1F", "RkF", "R1R", "RkR", "Rc"):
        assert_allclose(res.coefficients[k], ref[k], rtol=1e-4)
    assert "r12" in res.summary().as_text()


def test_retest_analysis_names_dropped_patients_and_bad_input(example):
    items = [f"wai_{i}" for i in range(1, 5)]
    with pytest.warns(DataQualityWarning, match="17 patient\\(s\\) have only one"):
        res = validity.retest_analysis(example, items, "patient_id", "month", (1, 6))
    assert len(res.dropped_ids) == 17 and res.n_obs == 133
    with pytest.raises(DataValidationError, match="No rows at month"):
        validity.retest_analysis(example, items, "patient_id", "month", (1, 99))
    with pytest.raises(DataValidationError, match="no column 'nope'"):
        validity.retest_analysis(example, ["nope", "wai_1"], "patient_id", "month")
    twice = pd.concat([example, example.iloc[[0]]])
    with pytest.raises(DataValidationError, match="more than one row"):
        validity.retest_analysis(twice, items, "patient_id", "month")
