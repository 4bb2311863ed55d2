"""statsby with a therapist level, ``statsby(d, id=["therapist", "patient"], ...)`` (issue 23.4).

Reference: tests/data/r_scripts/multilevel/statsby3.R -> statsby3.json (psych 2.2.9
``statsBy`` by patient and by therapist; lme4 ``VarCorr(lmer(v ~ 1 + (1 | therapist/pkey)))``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import ModelSpecificationError
from psychometrics.multilevel import statsby

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "statsby3.json").read_text())
D = pd.DataFrame(json.loads((DATA / "r_results" / "multilevel" / "nested_crossed.json")
                            .read_text())["data"]["therapy"])


@pytest.fixture(scope="module")
def res():
    return statsby(D, ["therapist", "patient"], ["x", "y"])


def test_statsby_by_patient_and_therapist_equal_psych(res):
    for part, ref in ((res.patient, R["patient"]), (res.cluster, R["therapist"])):
        # statsBy(...)$ICC1, $ICC2, $rwg[1, 2], $rbg[1, 2]
        assert_allclose(part.variables["icc1"], ref["icc1"], rtol=1e-6)
        assert_allclose(part.variables["icc2"], ref["icc2"], rtol=1e-6)
        assert_allclose(part.r_within.loc["x", "y"], ref["rwg"], rtol=1e-6)
        assert_allclose(part.r_between.loc["x", "y"], ref["rbg"], rtol=1e-6)
    assert res.patient.n_groups == 72 and res.cluster.n_groups == 12


def test_icc_at_each_level_equal_lme4(res):
    icc = res.icc.set_index("variable")
    for v in ("x", "y"):
        ref = R[f"var_{v}"]
        # as.data.frame(VarCorr(lmer(v ~ 1 + (1 | therapist/pkey), d)))$vcov (lme4's default
        # stopping: ~1e-5 relative; the therapist variance of x is ~0)
        assert_allclose(icc.loc[v, ["var_cluster", "var_patient", "var_occasion"]].to_numpy(dtype=float),
                        [ref["therapist"], ref["pkey:therapist"], ref["Residual"]],
                        rtol=1e-4, atol=1e-6)
        tot = ref["therapist"] + ref["pkey:therapist"] + ref["Residual"]
        assert_allclose(icc.loc[v, "icc_patient_total"],
                        (ref["therapist"] + ref["pkey:therapist"]) / tot, rtol=1e-4)
        assert_allclose(icc.loc[v, ["icc_cluster", "icc_patient", "share_occasion"]].sum(), 1.0,
                        rtol=1e-12)
    assert "therapist" in res.summary().as_text()


def test_statsby_three_level_bad_input():
    with pytest.raises(ModelSpecificationError, match="nope"):
        statsby(D, ["nope", "patient"], ["x", "y"])
    with pytest.raises(ModelSpecificationError, match=r"\[cluster, patient\]"):
        statsby(D, ["therapist", "patient", "month"], ["x", "y"])
    m = D.copy()
    m.loc[4, "therapist"] = None
    with pytest.raises(ModelSpecificationError, match="missing in rows"):
        statsby(m, ["therapist", "patient"], ["x", "y"])
