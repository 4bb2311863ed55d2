"""Three-level progress analysis, ``progress(..., cluster="therapist")`` (issue 23.2).

Reference: tests/data/r_scripts/multilevel/progress3.R -> progress3.json (lme4 1.1-31,
lmerTest 3.1-3: observed centring at the patient and therapist level, next month's outcome,
``lmer(y_lead ~ x_within + x_between_c + x_cluster_c + y + (1 | therapist/pkey))`` and
``contest1D`` for the five effects; variance components of ``v ~ 1 + (1 | therapist/pkey)``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from psychometrics.exceptions import DataQualityWarning, ModelSpecificationError
from psychometrics.multilevel import progress

DATA = Path(__file__).resolve().parents[1] / "data"
R = json.loads((DATA / "r_results" / "multilevel" / "progress3.json").read_text())
D = pd.DataFrame(json.loads((DATA / "r_results" / "multilevel" / "nested_crossed.json")
                            .read_text())["data"]["therapy"])


@pytest.fixture(scope="module")
def res():
    return progress(D, "y", "x", id="patient", time="month", cluster="therapist")


def test_three_level_effects_equal_lmertest(res):
    assert res.n_obs == R["n_obs"] and res.n_clusters == 12 and res.n_patients == 72
    eff = res.effects.set_index("effect").loc[R["effects"]]
    # contest1D(fit, L[i, ]): Estimate, Std. Error, df, t value, Pr(>|t|)
    assert_allclose(eff["est"], R["est"], rtol=1e-5)
    assert_allclose(eff["se"], R["se"], rtol=1e-4)
    assert_allclose(eff["df"], R["df"], rtol=1e-4)
    assert_allclose(eff["t"], R["t"], rtol=1e-4)
    assert_allclose(eff["p_value"], R["p"], rtol=1e-3)
    # anova(base, fit): Chisq, Df
    assert_allclose(res.comparison["chisq"].iloc[-1], R["lrt_chisq"], rtol=1e-5)
    assert res.comparison["df"].iloc[-1] == R["lrt_df"]


def test_variance_shares_per_level(res):
    vs = res.variance_shares
    lev = {"pkey:therapist": "patient", "therapist": "therapist", "Residual": "occasion"}
    for var, key in (("y", "var_y"), ("x", "var_x")):
        got = vs[vs["variable"] == var].set_index("level")["variance"]
        # as.data.frame(VarCorr(lmer(v ~ 1 + (1 | therapist/pkey), d)))$vcov  (lme4's default
        # stopping leaves its REML optimum ~1e-5 off; the therapist variance of x is ~0)
        for g, v in zip(R[key]["grp"], R[key]["vcov"]):
            assert_allclose(got[lev[g]], v, rtol=1e-4, atol=1e-6)
        assert_allclose(vs[vs["variable"] == var]["share"].sum(), 1.0, rtol=1e-12)
    assert "between_cluster" in res.summary().as_text()


def test_three_level_bad_input():
    with pytest.raises(ModelSpecificationError, match="not a column"):
        progress(D, "y", "x", id="patient", time="month", cluster="nope")
    one = D.assign(therapist="T01", patient=D["therapist"] + "_" + D["patient"].astype(str))
    with pytest.raises(ModelSpecificationError, match="1 level"):
        progress(one, "y", "x", id="patient", time="month", cluster="therapist")
    single = D.assign(patient=1)          # each therapist has one "patient"
    single = single.drop_duplicates(["therapist", "month"])
    with pytest.raises(ModelSpecificationError, match="single patient"):
        progress(single, "y", "x", id="patient", time="month", cluster="therapist")
    miss = D.copy()
    miss.loc[3, "therapist"] = None
    with pytest.raises(ModelSpecificationError, match="missing in rows"):
        progress(miss, "y", "x", id="patient", time="month", cluster="therapist")
    with pytest.raises(ModelSpecificationError, match="random_slopes"):
        progress(D, "y", "x", id="patient", time="month", cluster="therapist", random_slopes=True)
    # a therapist with a single patient: a warning naming it
    part = D[~((D["therapist"] == "T03") & (D["patient"] != 1))]
    with pytest.warns(DataQualityWarning, match="T03"):
        progress(part, "y", "x", id="patient", time="month", cluster="therapist")
