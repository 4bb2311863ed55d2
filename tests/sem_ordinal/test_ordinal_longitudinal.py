"""Ordinal longitudinal invariance (Wu & Estabrook across occasions) against semTools 0.5-6
measEq.syntax(longFacNames=, ID.cat = "Wu.Estabrook.2016") and lavaan 0.6-14.

References: tests/data/r_scripts/ordinal/ordinal_longitudinal.R ->
tests/data/r_results/ordinal/ordinal_longitudinal.json (WAI-SR bond items of
examples/therapy_example.csv at months 1-3, category 1 merged into 2).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataValidationError, ModelSpecificationError
from psychometrics.validity import longitudinal_invariance

ROOT = Path(__file__).parents[2]
REF = json.loads((ROOT / "tests" / "data" / "r_results" / "ordinal" /
                  "ordinal_longitudinal.json").read_text())
ITEMS = REF["items"]
LEVELS = ["configural", "thresholds", "loadings", "intercepts"]
_RES: dict = {}


def _data(merge=True):
    d = pd.read_csv(ROOT / "examples" / "therapy_example.csv")
    d = d[["patient_id", "month", *ITEMS]].copy()
    if merge:                                   # R: pmax(x, 2)
        for v in ITEMS:
            d[v] = d[v].clip(lower=2)
    return d


def _res(prm):
    if prm not in _RES:
        _RES[prm] = longitudinal_invariance({"bond": ITEMS}, _data(), "patient_id", "month",
                                            REF["occasions"], ordered=True,
                                            parameterization=prm)
    return _RES[prm]


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_syntax_estimates_fit(prm):
    res = _res(prm)
    assert res.n_obs == REF["n"]
    for lv in LEVELS:
        o = REF[prm][lv]
        f = res.fits[lv]
        # as.character(measEq.syntax(config, data = w, ordered = vars, longFacNames = long, ...))
        assert res.syntax[lv] == o["syntax"]
        assert f.converged
        # parameterEstimates(fit)
        pe = pd.DataFrame(o["parameterEstimates"])
        m = pe.merge(f.estimates, on=["lhs", "op", "rhs"], how="outer", suffixes=("_r", ""),
                     indicator=True)
        assert (m["_merge"] == "both").all()
        assert_allclose(m["est"], m["est_r"], rtol=1e-5, atol=1e-7)
        assert_allclose(m["se"], m["se_r"], rtol=1e-4, atol=1e-7)
        # fitMeasures(fit)
        fm = f.fit_measures
        for k, v in o["fitMeasures"].items():
            ours = fm[k.replace(".", "_")]
            if v is None:
                assert np.isnan(ours), k
            else:
                assert_allclose(ours, v, rtol=1e-4, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("prm", ["delta", "theta"])
def test_lrt_sequence(prm):
    # lavTestLRT(configural, thresholds, loadings, intercepts, method = "satorra.2000")
    tab = _res(prm).table
    ref = pd.DataFrame(REF[prm]["lrt_sequence"]["table"]).set_index("model")
    assert list(tab.index) == list(ref.index)
    assert_allclose(tab["chisq"], ref["Chisq"], rtol=1e-6)
    assert_allclose(tab["chisq_diff"].iloc[1:], ref["Chisq diff"].iloc[1:].astype(float),
                    rtol=1e-4)
    assert_allclose(tab["p_value"].iloc[1:], ref["Pr(>Chisq)"].iloc[1:].astype(float),
                    rtol=1e-4)
    assert "chisq_diff" in _res(prm).summary().as_text()


def test_categories_differ_across_occasions():
    # without merging category 1, some items lack it at one month: semTools refuses such data
    with pytest.raises(DataValidationError, match=r"Item 'wai_\d' has different categories.*merge rare"):
        longitudinal_invariance({"bond": ITEMS}, _data(merge=False), "patient_id", "month",
                                [1, 2], ordered=True)


def test_bad_level_and_missing():
    with pytest.raises(ModelSpecificationError, match="increasing subset"):
        longitudinal_invariance({"bond": ITEMS}, _data(), "patient_id", "month", [1, 2],
                                ordered=True, levels=["loadings", "configural"])
    with pytest.raises(ModelSpecificationError, match="listwise"):
        longitudinal_invariance({"bond": ITEMS}, _data(), "patient_id", "month", [1, 2],
                                ordered=True, missing="ml")
    with pytest.raises(ModelSpecificationError, match="theta"):
        longitudinal_invariance({"bond": ITEMS}, _data(), "patient_id", "month", [1, 2],
                                ordered=True, levels=["configural", "residuals"])
