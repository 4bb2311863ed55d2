"""Three-level decomposition ``decompose(..., id=["therapist", "patient"])`` (issue 23), checked
against an independent pandas computation (groupby means)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning, DataValidationError
from psychometrics.multilevel import decompose


def _data(seed=3, n_ther=7, reuse=True):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_ther):
        for p in range(int(rng.integers(2, 6))):
            pid = p + 1 if reuse else f"t{t}p{p}"           # ids reused across therapists
            for m in range(int(rng.integers(1, 7))):
                rows.append({"therapist": f"T{t}", "patient": pid, "month": m,
                             "wai": rng.normal(4 + t * 0.2, 1), "oq": rng.normal(60, 10)})
    d = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)   # rows in any order
    d.loc[d.sample(6, random_state=seed).index, "wai"] = np.nan
    return d


def _independent(d, c):
    pm = d.groupby(["therapist", "patient"])[c].mean().rename("pm")        # patient means
    tm = pm.groupby(level="therapist").mean().rename("tm")                 # therapist means
    e = d.join(pm, on=["therapist", "patient"]).join(tm, on="therapist")
    return e, float(tm.mean())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_level_parts_equal_pandas(seed):
    d = _data(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        out = decompose(d, id=["therapist", "patient"], time="month", columns=["wai", "oq"])
    assert list(out.index) == list(d.index) and len(out) == len(d)      # rows kept, input order
    for c in ["wai", "oq"]:
        e, gm = _independent(d, c)
        assert_allclose(out[c + "_within"], e[c] - e["pm"], rtol=1e-12, atol=1e-12)
        assert_allclose(out[c + "_between"], e["pm"], rtol=1e-12)
        assert_allclose(out[c + "_between_c"], e["pm"] - e["tm"], rtol=1e-12, atol=1e-12)
        assert_allclose(out[c + "_cluster"], e["tm"], rtol=1e-12)
        assert_allclose(out[c + "_cluster_c"], e["tm"] - gm, rtol=1e-12, atol=1e-12)
        ok = d[c].notna()
        # the three parts add up to the value
        assert_allclose((out[c + "_within"] + out[c + "_between_c"] + out[c + "_cluster"])[ok],
                        d.loc[ok, c], rtol=1e-12)
        assert out.loc[~ok, c + "_within"].isna().all()


def test_ids_unique_or_reused_give_the_same_parts():
    a = _data(5, reuse=True)
    b = a.assign(patient=a["therapist"] + "_" + a["patient"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        oa = decompose(a, id=["therapist", "patient"], time="month", columns="wai")
        ob = decompose(b, id=["therapist", "patient"], time="month", columns="wai")
    for s in ["_within", "_between", "_between_c", "_cluster", "_cluster_c"]:
        assert_allclose(oa["wai" + s], ob["wai" + s], rtol=1e-12, atol=1e-12)


def test_patient_id_under_two_therapists_when_ids_are_unique_is_warned():
    d = _data(4, reuse=False)
    d.loc[d["patient"] == "t1p0", "patient"] = "t0p0"          # t0p0 now under T0 and T1
    with pytest.warns(DataQualityWarning, match=r"Ambiguous nesting: 1 'patient' id\(s\) occur "
                                                r"under several 'therapist': t0p0 \(under T0, T1\)"):
        decompose(d, id=["therapist", "patient"], time="month", columns="oq")


def test_duplicate_patient_month_within_therapist_is_named():
    d = _data(6)
    d = pd.concat([d, d.iloc[[0]]])
    with pytest.raises(DataValidationError, match=r"\('therapist', 'patient'\)"):
        decompose(d, id=["therapist", "patient"], time="month", columns="oq")


def test_missing_therapist_is_named():
    d = _data(7)
    d.loc[d.index[3], "therapist"] = None
    with pytest.raises(DataValidationError, match="cluster column 'therapist' has 1 missing") as ei:
        decompose(d, id=["therapist", "patient"], time="month", columns="oq")
    assert ei.value.issues[0].row == 4      # position 3 is data row 4
    assert "data row 4" in str(ei.value)


def test_therapist_with_one_patient_is_named():
    d = _data(8)
    d = d[(d["therapist"] != "T2") | (d["patient"] == 1)]
    with pytest.warns(DataQualityWarning, match=r"1 therapist\(s\) have a single patient with data "
                                                r"on 'oq' \(T2\)"):
        decompose(d, id=["therapist", "patient"], time="month", columns="oq")
