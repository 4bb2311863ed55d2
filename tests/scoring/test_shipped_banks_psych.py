"""Shipped banks (WAI-SR, PEAR) on the simulated therapy data equal psych::scoreItems.

Reference: tests/data/r_results/scoring/therapy_scoreitems.csv from
tests/data/r_scripts/scoring/therapy_scoreitems.R (psych 2.2.9). The data have no blanks.
"""
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from psychometrics.scoring import score
from tests.conftest import DATA, dataset

REF = DATA / "r_results" / "scoring" / "therapy_scoreitems.csv"


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(REF)


@pytest.fixture(scope="module")
def therapy():
    return dataset("therapy_sim")


@pytest.mark.parametrize("form, scales", [("standard", ["task", "bond", "goal", "total"]),
                                          ("two_factor", ["bond", "goal_task"])])
def test_wai_sr_sums(therapy, ref, form, scales):
    res = score(therapy, "wai-sr", form=form, id="patient_id", time="month")
    assert_array_equal(res.scores["patient_id"].to_numpy(), ref["patient_id"].to_numpy())
    for s in scales:
        # psych::scoreItems(wai_keys, d[, wai items], totals = TRUE, impute = "none")$scores
        assert_allclose(res.scores[s].to_numpy(), ref[f"wai_sr__{s}"].to_numpy(float),
                        rtol=1e-10, atol=0)


def test_pear_means(therapy, ref):
    res = score(therapy, "pear", id="patient_id", time="month")
    for s in ["f1", "f2", "total"]:
        # psych::scoreItems(pear_keys, d[, pear items], totals = FALSE, impute = "none")$scores
        assert_allclose(res.scores[s].to_numpy(), ref[f"pear__{s}"].to_numpy(float),
                        rtol=1e-10, atol=0)
