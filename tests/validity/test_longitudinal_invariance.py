"""Longitudinal invariance against semTools 0.5-6 measEq.syntax(longFacNames=,
ID.fac = "std.lv") fitted by lavaan 0.6-14 (tests/data/r_scripts/validity/
longitudinal_invariance.R -> tests/data/r_results/validity/longitudinal_invariance.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError, ModelSpecificationError
from psychometrics.validity import longitudinal_invariance, longitudinal_syntax

ROOT = Path(__file__).parents[2]
REF = json.loads((ROOT / "tests" / "data" / "r_results" / "validity"
                  / "longitudinal_invariance.json").read_text())


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(ROOT / "examples" / "therapy_example.csv")


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_sequence_equals_lavaan(data, missing):
    ref = REF[missing]
    res = longitudinal_invariance({"bond": REF["items"]}, data, "patient_id", "month",
                                  REF["occasions"], missing=missing)
    assert res.n_obs == ref["n"]
    for level in ("configural", "metric", "scalar", "strict"):
        fit = ref[level]["fit"]          # fitMeasures(cfa(measEq.syntax(...)), keys)
        ours = res.fits[level].fit_measures
        assert res.fits[level].converged
        assert ours["df"] == fit["df"] and ours["npar"] == fit["npar"]
        # iterative fits: lavaan's nlminb stops ~1e-6 short; our logL is never lower
        assert ours["logl"] >= fit["logl"] - 1e-6
        for key in ("chisq", "cfi", "rmsea", "srmr", "aic", "bic", "logl"):
            assert_allclose(ours[key], fit[key], rtol=1e-5, atol=1e-6, err_msg=f"{level} {key}")
    t = res.table
    assert_allclose(t.loc["metric", "chisq_diff"],
                    ref["metric"]["fit"]["chisq"] - ref["configural"]["fit"]["chisq"],
                    rtol=1e-5, atol=1e-6)
    assert t.loc["strict", "df_diff"] == ref["strict"]["fit"]["df"] - ref["scalar"]["fit"]["df"]


def test_syntax_is_printable_and_identified():
    syn = longitudinal_syntax({"f": ["a", "b", "c"]}, [1, 2], invariance="scalar")
    assert "f_t1 ~~ 1*f_t1" in syn and "f_t2 ~~ NA*f_t2" in syn and "f_t2 ~ NA*1" in syn
    assert "a_t1 ~ nu_a*1" in syn and "a_t2 ~ nu_a*1" in syn and "a_t1 ~~ a_t2" in syn
    assert "l_f_b*b_t2" in syn


def test_bad_input(data):
    with pytest.raises(ModelSpecificationError, match="at least two occasions"):
        longitudinal_syntax({"f": ["a"]}, [1])
    with pytest.raises(DataValidationError, match="No rows at month"):
        longitudinal_invariance({"bond": REF["items"]}, data, "patient_id", "month", [1, 99])
    dup = pd.concat([data, data.iloc[[0]]])
    with pytest.raises(DataValidationError, match="more than one row"):
        longitudinal_invariance({"bond": REF["items"]}, dup, "patient_id", "month", [1, 2])
    with pytest.raises(ModelSpecificationError, match="increasing subset"):
        longitudinal_invariance({"bond": REF["items"]}, data, "patient_id", "month", [1, 2],
                                levels=["metric", "configural"])
