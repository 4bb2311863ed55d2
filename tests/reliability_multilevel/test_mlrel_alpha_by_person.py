"""Alpha per person (psych's ``alpha = TRUE``; psych:::alphaBy).

R: psych::multilevel.reliability(<data>, ..., aov = FALSE, lmer = FALSE, lme = FALSE)$alpha
(tests/data/r_results/mlrel/mlrel_reference.json, block ``alpha_by_person``).  Closed form:
rtol 1e-10.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from mlrel_helpers import REVERSED_ITEMS, WAI, mlrel_reference, shrout, therapy_sub, therapy_sub_missing
from psychometrics.exceptions import DataQualityWarning
from psychometrics.reliability.multilevel import multilevel_reliability

CASES = {
    "missing": (therapy_sub_missing, "patient_id", "month", WAI[:6]),
    "reversed": (therapy_sub, "patient_id", "month", REVERSED_ITEMS),
    "shrout": (shrout, "Person", "Time", ["Item1", "Item2", "Item3"]),
}
COLUMNS = {"Raw alpha": "raw_alpha", "Std. alpha": "std_alpha", "av.r": "average_r",
           "signal/noise": "signal_noise", "bad cases": "bad_cases"}


@pytest.mark.parametrize("case", list(CASES))
def test_alpha_by_person(case):
    make, id_, time_, items = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = multilevel_reliability(make(), id_, time_, items, alpha_by_person=True, nested=False)
    ours = res.alpha_by_person
    ref = mlrel_reference()["alpha_by_person"][case]["alpha"]
    assert len(ours) == len(ref)
    for row, mine in zip(ref, ours.to_dict("records"), strict=True):
        # rownames(mr$alpha) are paste0("ID", id)
        assert row["row"] == f"ID{mine['id']}"
        for r_col, col in COLUMNS.items():
            # mr$alpha[, r_col]
            want = np.nan if row[r_col] is None else row[r_col]
            assert_allclose(mine[col], want, rtol=1e-10, atol=1e-13, equal_nan=True,
                            err_msg=f"{row['row']} {r_col}")


def test_alpha_bad_cases_warn():
    # therapy subset: some patients answer an item identically in every session
    with pytest.warns(DataQualityWarning, match="persons have an item without variance"):
        res = multilevel_reliability(therapy_sub(), "patient_id", "month", WAI[:6], alpha_by_person=True,
                                     nested=False, method="lmer")
    assert res.alpha_by_person["bad_cases"].sum() > 0


def test_alpha_needs_more_than_two_times():
    d = shrout()
    d = d[d["Time"] <= 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = multilevel_reliability(d, "Person", "Time", ["Item1", "Item2", "Item3"], alpha_by_person=True)
    # psych: alpha.by.person <- NA unless n.time > 2
    assert res.alpha_by_person is None
